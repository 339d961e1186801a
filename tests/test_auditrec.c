/*
 * test_auditrec.c - audit records and their hash chain (R15: logs kept and
 * protected from tampering; R16: times in UTC with ms).  Every kind of
 * tampering must be caught and the first bad line named.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditrec.h"
#include "buf.h"
#include "err.h"

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void
fill(struct zm_audit_rec *r, uint64_t seq, const char *user,
    const char *prev)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	snprintf(r->time, sizeof(r->time), "2026-11-22T01:02:%02u.456Z",
	    (unsigned)(seq % 60));
	snprintf(r->event, sizeof(r->event), "auth");
	snprintf(r->user, sizeof(r->user), "%s", user);
	snprintf(r->zone, sizeof(r->zone), "lgwan");
	snprintf(r->terminal, sizeof(r->terminal), "t1");
	snprintf(r->result, sizeof(r->result), "ok");
	snprintf(r->methods, sizeof(r->methods), "password totp");
	snprintf(r->prev, sizeof(r->prev), "%s", prev);
}

/* Format r into a NUL-terminated string. */
static char *
fmt(const struct zm_audit_rec *r)
{
	struct zm_buf	 b;
	char		*s;

	zm_buf_init(&b, ZM_AUDIT_MAX_LINE + 1);
	assert_int_equal(zm_auditrec_format(r, &b), ZM_OK);
	s = calloc(1, b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	zm_buf_free(&b);
	return s;
}

static void
test_format_exact(void **state)
{
	struct zm_audit_rec	 r, back;
	char			*s;

	fill(&r, 7, "alice", zeros);
	s = fmt(&r);
	assert_string_equal(s, "{\"seq\":7,"
	    "\"time\":\"2026-11-22T01:02:07.456Z\","
	    "\"event\":\"auth\",\"user\":\"alice\",\"zone\":\"lgwan\","
	    "\"terminal\":\"t1\",\"result\":\"ok\",\"reason\":\"\","
	    "\"methods\":\"password totp\",\"operator\":\"\",\"token\":\"\","
	    "\"detail\":\"\",\"prev\":\"00000000000000000000000000000000"
	    "00000000000000000000000000000000\"}");
	assert_int_equal(zm_auditrec_parse(s, strlen(s), &back), ZM_OK);
	assert_memory_equal(&r, &back, sizeof(r));
	free(s);
}

static void
test_roundtrip_escapes(void **state)
{
	struct zm_audit_rec	 r, back;
	char			*s;

	fill(&r, 18446744073709551615ULL, "a\"b\\c\n\x01\x1f\x7f", zeros);
	snprintf(r.detail, sizeof(r.detail), "\xe5\xb1\xb1\xe7\x94\xb0\t/");
	snprintf(r.operator_, sizeof(r.operator_), "hd1");
	s = fmt(&r);
	assert_non_null(strstr(s, "\"user\":\"a\\\"b\\\\c\\u000a\\u0001\\u001f"
	    "\\u007f\""));
	/* UTF-8 passes through as is. */
	assert_non_null(strstr(s, "\"detail\":\"\xe5\xb1\xb1\xe7\x94\xb0"
	    "\\u0009/\""));
	assert_non_null(strstr(s, "{\"seq\":18446744073709551615,"));
	assert_int_equal(zm_auditrec_parse(s, strlen(s), &back), ZM_OK);
	assert_memory_equal(&r, &back, sizeof(r));
	free(s);
}

/* Standard JSON escapes are decoded. */
static void
test_parse_escapes(void **state)
{
	struct zm_audit_rec	 r;
	char			*s, line[1024];
	const char		*at;
	int			 n;

	fill(&r, 1, "USERX", zeros);
	s = fmt(&r);
	at = strstr(s, "USERX");
	assert_non_null(at);
	n = snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - s), s,
	    "\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"", at + 5);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, (size_t)n, &r), ZM_OK);
	assert_string_equal(r.user, "\xc3\xa9\xf0\x9f\x98\x80/\b\f\n\r\t\"");
	free(s);
}

/* Replace the first "from" in base by "to" and expect parse to give want. */
static void
mutate(const char *base, const char *from, const char *to, int want)
{
	struct zm_audit_rec	 r;
	const char		*at = strstr(base, from);
	char			 line[2 * ZM_AUDIT_MAX_LINE];
	int			 n;

	assert_non_null(at);
	n = snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - base), base,
	    to, at + strlen(from));
	assert_true(n > 0 && (size_t)n < sizeof(line));
	if (zm_auditrec_parse(line, (size_t)n, &r) != want)
		fprintf(stderr, "%s -> %s: got %d\n", from, to,
		    zm_auditrec_parse(line, (size_t)n, &r));
	assert_int_equal(zm_auditrec_parse(line, (size_t)n, &r), want);
	if (want != ZM_OK)
		assert_int_equal(r.seq, 0);	/* nothing half-filled */
}

static void
test_strict(void **state)
{
	struct zm_audit_rec	 r;
	char			*s, *big, u64[65];

	fill(&r, 12, "alice", zeros);
	s = fmt(&r);
	mutate(s, "alice", "alice", ZM_OK);	/* the base itself parses */
	/* Keys: reordered, extra, missing, renamed. */
	mutate(s, "\"time\":\"2026-11-22T01:02:12.456Z\",\"event\":\"auth\"",
	    "\"event\":\"auth\",\"time\":\"2026-11-22T01:02:12.456Z\"",
	    ZM_ERR_INVALID);
	mutate(s, "\"}", "\",\"extra\":\"\"}", ZM_ERR_INVALID);
	mutate(s, ",\"token\":\"\"", "", ZM_ERR_INVALID);
	mutate(s, "\"operator\"", "\"operator_\"", ZM_ERR_INVALID);
	mutate(s, "\"user\"", "\"User\"", ZM_ERR_INVALID);
	/* seq: leading zero, sign, fraction, string, empty, overflow. */
	mutate(s, ":12,", ":012,", ZM_ERR_INVALID);
	mutate(s, ":12,", ":-12,", ZM_ERR_INVALID);
	mutate(s, ":12,", ":+12,", ZM_ERR_INVALID);
	mutate(s, ":12,", ":12.0,", ZM_ERR_INVALID);
	mutate(s, ":12,", ":1e1,", ZM_ERR_INVALID);
	mutate(s, ":12,", ":\"12\",", ZM_ERR_INVALID);
	mutate(s, ":12,", ":,", ZM_ERR_INVALID);
	mutate(s, ":12,", ":18446744073709551616,", ZM_ERR_TOOBIG);
	mutate(s, ":12,", ":0,", ZM_OK);
	/* Blanks, trailing bytes, a newline. */
	mutate(s, "{\"seq\"", "{ \"seq\"", ZM_ERR_INVALID);
	mutate(s, ":12,", ": 12,", ZM_ERR_INVALID);
	mutate(s, "\"}", "\"} ", ZM_ERR_INVALID);
	mutate(s, "\"}", "\"}\n", ZM_ERR_INVALID);
	mutate(s, "\"}", "\"}{}", ZM_ERR_INVALID);
	mutate(s, "\"}", "\"", ZM_ERR_INVALID);
	/* Strings: raw control, bad escapes, NUL, lone surrogates. */
	mutate(s, "alice", "al\tice", ZM_ERR_INVALID);
	mutate(s, "alice", "al\\xice", ZM_ERR_INVALID);
	mutate(s, "alice", "al\\u00", ZM_ERR_INVALID);
	mutate(s, "alice", "al\\u00g0", ZM_ERR_INVALID);
	mutate(s, "alice", "al\\u0000", ZM_ERR_INVALID);
	mutate(s, "alice", "\\ud83d", ZM_ERR_INVALID);
	mutate(s, "alice", "\\ud83dx", ZM_ERR_INVALID);
	mutate(s, "alice", "\\ud83d\\u0041", ZM_ERR_INVALID);
	mutate(s, "alice", "\\ude00", ZM_ERR_INVALID);
	/* prev: 64 lower-case hex digits exactly. */
	memcpy(u64, zeros, 64);
	u64[63] = '\0';
	mutate(s, zeros, u64, ZM_ERR_INVALID);		/* 63 digits */
	u64[63] = 'A';
	u64[64] = '\0';
	mutate(s, zeros, u64, ZM_ERR_INVALID);		/* upper case */
	u64[63] = 'g';
	mutate(s, zeros, u64, ZM_ERR_INVALID);		/* not hex */
	u64[63] = '0';
	mutate(s, zeros, u64, ZM_OK);
	mutate(s, zeros, "0000000000000000000000000000000000000000000000000000"
	    "0000000000000", ZM_ERR_TOOBIG);		/* 65 digits */
	/* Values longer than their field. */
	memset(u64, 'u', sizeof(u64));
	u64[64] = '\0';
	mutate(s, "alice", u64, ZM_ERR_TOOBIG);
	u64[63] = '\0';
	mutate(s, "alice", u64, ZM_OK);
	mutate(s, "\"ok\"", "\"0123456789abcdef\"", ZM_ERR_TOOBIG);
	/* A line over the cap, whatever it holds. */
	big = malloc(ZM_AUDIT_MAX_LINE + 2);
	assert_non_null(big);
	memset(big, ' ', ZM_AUDIT_MAX_LINE + 1);
	memcpy(big, s, strlen(s));
	assert_int_equal(zm_auditrec_parse(big, ZM_AUDIT_MAX_LINE + 1, &r),
	    ZM_ERR_TOOBIG);
	assert_int_equal(zm_auditrec_parse(big, ZM_AUDIT_MAX_LINE, &r),
	    ZM_ERR_INVALID);
	assert_int_equal(zm_auditrec_parse("", 0, &r), ZM_ERR_INVALID);
	free(big);
	free(s);
}

static void
test_format_errors(void **state)
{
	struct zm_audit_rec	r;
	struct zm_buf		b;

	zm_buf_init(&b, 2 * ZM_AUDIT_MAX_LINE);
	fill(&r, 1, "alice", "abc");
	assert_int_equal(zm_auditrec_format(&r, &b), ZM_ERR_INVALID);
	fill(&r, 1, "alice", zeros);
	r.prev[5] = 'G';
	assert_int_equal(zm_auditrec_format(&r, &b), ZM_ERR_INVALID);
	fill(&r, 1, "alice", zeros);
	memset(r.user, 'u', sizeof(r.user));	/* no terminating NUL */
	assert_int_equal(zm_auditrec_format(&r, &b), ZM_ERR_INVALID);
	assert_int_equal(b.len, 0);
	/* All fields full of control characters: over the line cap. */
	fill(&r, 1, "", zeros);
	memset(r.user, 1, sizeof(r.user) - 1);
	memset(r.zone, 1, sizeof(r.zone) - 1);
	memset(r.terminal, 1, sizeof(r.terminal) - 1);
	memset(r.reason, 1, sizeof(r.reason) - 1);
	memset(r.methods, 1, sizeof(r.methods) - 1);
	memset(r.operator_, 1, sizeof(r.operator_) - 1);
	memset(r.token, 1, sizeof(r.token) - 1);
	memset(r.detail, 1, sizeof(r.detail) - 1);
	assert_int_equal(zm_auditrec_format(&r, &b), ZM_ERR_TOOBIG);
	assert_int_equal(b.len, 0);
	zm_buf_free(&b);
}

static void
test_hash_and_time(void **state)
{
	char	h[ZM_AUDIT_HASH_HEX], t[32], small[10];
	size_t	i;

	assert_int_equal(zm_audit_hash("abc", 3, h), ZM_OK);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(zm_audit_hash("", 0, h), ZM_OK);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	zm_audit_now(t, sizeof(t));
	assert_int_equal(strlen(t), 24);
	for (i = 0; i < 24; i++) {
		switch (i) {
		case 4: case 7:
			assert_int_equal(t[i], '-');
			break;
		case 10:
			assert_int_equal(t[i], 'T');
			break;
		case 13: case 16:
			assert_int_equal(t[i], ':');
			break;
		case 19:
			assert_int_equal(t[i], '.');
			break;
		case 23:
			assert_int_equal(t[i], 'Z');
			break;
		default:
			assert_true(t[i] >= '0' && t[i] <= '9');
		}
	}
	assert_true(strncmp(t, "2024", 4) >= 0);
	zm_audit_now(small, sizeof(small));
	assert_string_equal(small, "");	/* never a cut time */
}

/* A chain of n records, seq first..first+n-1, as one text. */
static char *
chain(uint64_t first, size_t n, char *lines[])
{
	struct zm_audit_rec	 r;
	char			 prev[ZM_AUDIT_HASH_HEX], *all;
	const char		*users[] = { "alice", "bob", "carol", "hd1",
	    "adm1", "root" };
	size_t			 i, len = 0;

	memcpy(prev, zeros, sizeof(prev));
	for (i = 0; i < n; i++) {
		fill(&r, first + i, users[i % 6], prev);
		lines[i] = fmt(&r);
		assert_int_equal(zm_audit_hash(lines[i], strlen(lines[i]),
		    prev), ZM_OK);
		len += strlen(lines[i]) + 1;
	}
	all = calloc(1, len + 1);
	assert_non_null(all);
	for (i = 0; i < n; i++) {
		strcat(all, lines[i]);
		strcat(all, "\n");
	}
	return all;
}

struct vres {
	int		r;
	uint64_t	n, line, seq;
	char		why[128];
	char		head[ZM_AUDIT_HASH_HEX];
};

static void
verify(const char *text, size_t len, const char *start, struct vres *v)
{
	FILE *f;

	memset(v, 0, sizeof(*v));
	/* fmemopen of 0 bytes is refused by some libcs; use a tmpfile. */
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	rewind(f);
	v->r = zm_audit_verify_file(f, start, &v->n, &v->line, &v->seq, v->why,
	    sizeof(v->why), v->head);
	fclose(f);
}

static void
expect_bad(const char *text, uint64_t line, uint64_t seq, const char *why)
{
	struct vres v;

	verify(text, strlen(text), NULL, &v);
	if (v.r != ZM_ERR_INVALID || v.line != line || v.seq != seq ||
	    strcmp(v.why, why) != 0)
		fprintf(stderr, "got r=%d line=%llu seq=%llu why='%s'\n", v.r,
		    (unsigned long long)v.line, (unsigned long long)v.seq,
		    v.why);
	assert_int_equal(v.r, ZM_ERR_INVALID);
	assert_int_equal(v.line, line);
	assert_int_equal(v.seq, seq);
	assert_string_equal(v.why, why);
	assert_int_equal(v.n, line - 1);	/* the good ones before it */
}

static char *
join(char *const l[], const int *order, size_t n)
{
	char	*all;
	size_t	 i, len = 0;

	for (i = 0; i < n; i++)
		len += strlen(l[order[i]]) + 1;
	all = calloc(1, len + 1);
	assert_non_null(all);
	for (i = 0; i < n; i++) {
		strcat(all, l[order[i]]);
		strcat(all, "\n");
	}
	return all;
}

static void
test_verify(void **state)
{
	char			*l[6], *good, *t, *at;
	char			 head[ZM_AUDIT_HASH_HEX];
	struct zm_audit_rec	 r;
	struct vres		 v;
	size_t			 i;
	static const int	 del3[] = { 0, 1, 3, 4 };
	static const int	 swap23[] = { 0, 2, 1, 3, 4 };
	static const int	 dup2[] = { 0, 1, 1, 2, 3, 4 };
	static const int	 ins[] = { 0, 1, 5, 2, 3, 4 };

	good = chain(1, 5, l);
	verify(good, strlen(good), NULL, &v);
	assert_int_equal(v.r, ZM_OK);
	assert_int_equal(v.n, 5);
	assert_int_equal(v.line, 0);
	assert_int_equal(zm_audit_hash(l[4], strlen(l[4]), head), ZM_OK);
	assert_string_equal(v.head, head);

	/*
	 * A changed field: the next record's prev no longer matches, and the
	 * one after still chains to that next record, so the changed record
	 * itself (line 3) is named.
	 */
	t = strdup(good);
	assert_non_null(t);
	at = strstr(t, "carol");
	assert_non_null(at);
	memcpy(at, "carl_", 5);
	expect_bad(t, 3, 3, "record changed (its hash no longer matches the "
	    "prev of line 4)");
	free(t);
	/* ... in the last record: only the head shows it (the store has it). */
	t = strdup(good);
	assert_non_null(t);
	at = strstr(t, "adm1");
	assert_non_null(at);
	memcpy(at, "adm2", 4);
	verify(t, strlen(t), NULL, &v);
	assert_int_equal(v.r, ZM_OK);
	assert_string_not_equal(v.head, head);
	free(t);

	t = join(l, del3, 4);
	expect_bad(t, 3, 4, "sequence gap (expected 3, got 4)");
	free(t);
	t = join(l, swap23, 5);
	expect_bad(t, 2, 3, "sequence gap (expected 2, got 3)");
	free(t);
	t = join(l, dup2, 6);
	expect_bad(t, 3, 2, "sequence gap (expected 3, got 2)");
	free(t);
	/* An inserted record that even continues the chain correctly. */
	assert_int_equal(zm_audit_hash(l[1], strlen(l[1]), head), ZM_OK);
	fill(&r, 3, "mallory", head);
	l[5] = fmt(&r);
	t = join(l, ins, 6);
	expect_bad(t, 4, 3, "sequence gap (expected 4, got 3)");
	free(t);
	/* Same seq as the original, right number: the chain catches it. */
	t = strdup(good);
	assert_non_null(t);
	at = strstr(t, "\"seq\":3,");
	assert_non_null(at);
	at = strstr(at, "\"prev\":\"") + 8;
	at[0] = at[0] == '0' ? '1' : '0';
	expect_bad(t, 3, 3, "record changed (its prev does not match line 2 "
	    "and its hash does not match the prev of line 4)");
	free(t);

	/* Truncated last line, and a last line without its newline. */
	t = strdup(good);
	assert_non_null(t);
	t[strlen(t) - 10] = '\0';
	expect_bad(t, 5, 0, "truncated record (no newline at the end of the "
	    "file)");
	t[strlen(good) - 1] = '\0';
	memcpy(t, good, strlen(good) - 1);
	expect_bad(t, 5, 5, "truncated record (no newline at the end of the "
	    "file)");
	free(t);

	/* Garbage and blank lines; an over-long line. */
	t = calloc(1, strlen(good) + 16);
	assert_non_null(t);
	strcat(t, l[0]);
	strcat(t, "\n\n");
	expect_bad(t, 2, 0, "unparseable record");
	free(t);
	t = calloc(1, ZM_AUDIT_MAX_LINE + strlen(l[0]) + 8);
	assert_non_null(t);
	strcat(t, l[0]);
	strcat(t, "\n");
	memset(t + strlen(t), 'x', ZM_AUDIT_MAX_LINE + 1);
	strcat(t, "\n");
	expect_bad(t, 2, 0, "line too long (more than 4096 bytes)");
	free(t);

	/* The first record must continue from where the chain started. */
	verify(good, strlen(good), head, &v);
	assert_int_equal(v.r, ZM_ERR_INVALID);
	assert_int_equal(v.line, 1);
	assert_string_equal(v.why, "hash chain broken (prev does not match "
	    "the start of the chain)");
	verify(good, strlen(good), "nothex", &v);
	assert_int_equal(v.r, ZM_ERR_INVALID);

	/* Empty log: nothing to check, head is the start. */
	verify("", 0, NULL, &v);
	assert_int_equal(v.r, ZM_OK);
	assert_int_equal(v.n, 0);
	assert_string_equal(v.head, zeros);
	for (i = 0; i < 6; i++)
		free(l[i]);
	free(good);

	/* A chain may start at any seq (after rotation). */
	good = chain(100, 3, l);
	verify(good, strlen(good), NULL, &v);
	assert_int_equal(v.r, ZM_OK);
	assert_int_equal(v.n, 3);
	for (i = 0; i < 3; i++)
		free(l[i]);
	free(good);
}

/*
 * R7: "person" (a shared account's member) follows "user" only when set;
 * a record without it is what older versions wrote, so old logs verify.
 */
static void
test_person_optional(void **state)
{
	struct zm_audit_rec	 r, back;
	char			*s, *p;

	fill(&r, 8, "madoguchi01", zeros);
	snprintf(r.person, sizeof(r.person), "tanaka");
	s = fmt(&r);
	assert_non_null(strstr(s, "\"user\":\"madoguchi01\",\"person\":"
	    "\"tanaka\",\"zone\":\"lgwan\""));
	assert_int_equal(zm_auditrec_parse(s, strlen(s), &back), ZM_OK);
	assert_memory_equal(&r, &back, sizeof(r));
	/* Written empty it would be a second spelling of "no person". */
	p = strstr(s, "tanaka");
	memmove(p, p + 6, strlen(p + 6) + 1);
	assert_int_equal(zm_auditrec_parse(s, strlen(s), &back),
	    ZM_ERR_INVALID);
	free(s);
	/* Anywhere else it is an unknown key. */
	r.person[0] = '\0';
	s = fmt(&r);
	assert_null(strstr(s, "person"));
	p = strstr(s, ",\"zone\"");
	assert_non_null(p);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_exact),
		cmocka_unit_test(test_roundtrip_escapes),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_hash_and_time),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_person_optional),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
