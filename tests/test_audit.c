/*
 * test_audit.c - the hash-chained audit log writer (tokend/audit.c).
 *
 * R15: operation and access logs are kept, protected from tampering: the
 * chain continues across restarts and rotations, a modified record is
 * found, and a damaged log is never silently replaced by a new chain.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "tokend.h"
#include "auditrec.h"
#include "err.h"
#include "store.h"

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct fx {
	char		 dir[64];
	char		 log[128];
	char		 db[128];
	struct zm_store	*st;
};

static int
setup(void **state)
{
	struct fx	*fx;
	char		 uri[160];

	umask(022);
	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/zm-test-audit-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->log, sizeof(fx->log), "%s/audit.log", fx->dir);
	snprintf(fx->db, sizeof(fx->db), "%s/registry.db", fx->dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", fx->db);
	if (zm_store_open(uri, &fx->st) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	char		 cmd[160];

	zm_store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Write n "auth" records for user; the terminal is set by zm_audit_open. */
static void
write_n(struct zm_audit *a, int n, const char *user)
{
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(zm_audit_event(a, "auth", user, "lgwan", "ok",
		    "verified", "password totp", "", "3", "", i % 5 == 0), 0);
}

/* Line number lineno (1-based) of path, without its newline. */
static void
read_line_n(const char *path, int lineno, char *out, size_t outlen)
{
	FILE	*f;
	int	 i;

	assert_non_null(f = fopen(path, "r"));
	for (i = 1; i <= lineno; i++)
		assert_non_null(fgets(out, (int)outlen, f));
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static uint64_t
verify(const char *path, const char *start_prev, char head[ZM_AUDIT_HASH_HEX],
    int *rc, uint64_t *bad_line)
{
	FILE		*f;
	uint64_t	 n = 0, bl = 0, bs = 0;
	char		 why[128];

	assert_non_null(f = fopen(path, "r"));
	*rc = zm_audit_verify_file(f, start_prev, &n, &bl, &bs, why,
	    sizeof(why), head);
	fclose(f);
	if (bad_line != NULL)
		*bad_line = bl;
	return n;
}

static void
test_chain_and_reopen(void **state)
{
	struct fx		*fx = *state;
	struct zm_audit		*a = NULL;
	struct zm_audit_rec	 rec;
	struct stat		 sb;
	char			 line[ZM_AUDIT_MAX_LINE + 2], h20[ZM_AUDIT_HASH_HEX];
	char			 head[ZM_AUDIT_HASH_HEX], shash[ZM_AUDIT_HASH_HEX];
	uint64_t		 sseq = 0;
	int			 rc;

	assert_int_equal(zm_audit_open(fx->log, fx->st, "term-1", &a), 0);
	write_n(a, 20, "alice");
	zm_audit_close(a);
	a = NULL;

	/* Created 0640, 20 records, a valid chain from 64 zeros. */
	assert_int_equal(stat(fx->log, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(verify(fx->log, NULL, head, &rc, NULL), 20);
	assert_int_equal(rc, 0);
	read_line_n(fx->log, 1, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &rec), 0);
	assert_int_equal(rec.seq, 1);
	assert_string_equal(rec.prev, ZERO_HASH);
	assert_string_equal(rec.terminal, "term-1");
	assert_string_equal(rec.event, "auth");
	read_line_n(fx->log, 20, line, sizeof(line));
	assert_int_equal(zm_audit_hash(line, strlen(line), h20), 0);
	assert_string_equal(head, h20);
	/* The store keeps the head too. */
	assert_int_equal(zm_store_audit_head_get(fx->st, &sseq, shash), 0);
	assert_int_equal(sseq, 20);
	assert_string_equal(shash, h20);

	/* Reopen: seq 21, prev = hash of line 20. */
	assert_int_equal(zm_audit_open(fx->log, fx->st, "term-1", &a), 0);
	write_n(a, 1, "bob");
	zm_audit_close(a);
	read_line_n(fx->log, 21, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &rec), 0);
	assert_int_equal(rec.seq, 21);
	assert_string_equal(rec.prev, h20);
	assert_string_equal(rec.user, "bob");
	assert_int_equal(verify(fx->log, NULL, NULL, &rc, NULL), 21);
	assert_int_equal(rc, 0);
}

/* zm_audit_write fills seq/time/terminal/prev whatever the caller put there. */
static void
test_write_fills_fields(void **state)
{
	struct fx		*fx = *state;
	struct zm_audit		*a = NULL;
	struct zm_audit_rec	 rec, got;
	char			 line[ZM_AUDIT_MAX_LINE + 2];

	assert_int_equal(zm_audit_open(fx->log, fx->st, "t9", &a), 0);
	memset(&rec, 0, sizeof(rec));
	rec.seq = 999;
	snprintf(rec.terminal, sizeof(rec.terminal), "forged");
	snprintf(rec.prev, sizeof(rec.prev), "%s", "ffff");
	snprintf(rec.event, sizeof(rec.event), "revoke");
	snprintf(rec.user, sizeof(rec.user), "carol");
	snprintf(rec.result, sizeof(rec.result), "ok");
	snprintf(rec.operator_, sizeof(rec.operator_), "hd1");
	assert_int_equal(zm_audit_write(a, &rec, 1), 0);
	zm_audit_close(a);
	read_line_n(fx->log, 1, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &got), 0);
	assert_int_equal(got.seq, 1);
	assert_string_equal(got.terminal, "t9");
	assert_string_equal(got.prev, ZERO_HASH);
	assert_string_equal(got.operator_, "hd1");
	/* RFC 3339 UTC with milliseconds: 2026-11-22T01:02:03.456Z */
	assert_int_equal(strlen(got.time), 24);
	assert_int_equal(got.time[23], 'Z');
	/* Over-long fields are cut, not refused: the record is kept. */
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t9", &a), 0);
	memset(line, 'x', 600);
	line[600] = '\0';
	assert_int_equal(zm_audit_event(a, "auth", "alice", "lgwan", "fail",
	    line, "", "", "", line, 0), 0);
	zm_audit_close(a);
	read_line_n(fx->log, 2, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &got), 0);
	assert_int_equal(strlen(got.reason), sizeof(got.reason) - 1);
	assert_int_equal(got.seq, 2);
}

/* Lines of path that contain needle. */
static int
count_lines(const char *path, const char *needle)
{
	FILE	*f;
	char	 line[ZM_AUDIT_MAX_LINE + 2];
	int	 n = 0;

	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/*
 * Floods of refusals: a non-root caller's refusals are coalesced per
 * (uid, event), counted in one "N more refused" record; other uids,
 * other events, other results and root are written in full.
 */
static void
test_refusals_coalesced(void **state)
{
	struct fx	*fx = *state;
	struct zm_audit	*a = NULL;
	char		 head[ZM_AUDIT_HASH_HEX];
	uint64_t	 n;
	int		 i, rc;

	assert_int_equal(zm_audit_open(fx->log, fx->st, "t1", &a), 0);
	zm_audit_caller(a, 1, 2001);
	for (i = 0; i < 100; i++)
		assert_int_equal(zm_audit_event(a, "enrol", "alice", NULL,
		    "refused", "caller uid 2001 not permitted", NULL, "alice",
		    NULL, NULL, 0), 0);
	/* Not refusals, or another event: always in full. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(zm_audit_event(a, "auth", "alice", "lgwan",
		    "fail", "wrong code", NULL, "", NULL, NULL, 0), 0);
		assert_int_equal(zm_audit_event(a, "list", "bob", NULL,
		    "refused", "x", NULL, "alice", NULL, NULL, 0), 0);
	}
	zm_audit_caller(a, 1, 2002);
	assert_int_equal(zm_audit_event(a, "enrol", "alice", NULL, "refused",
	    "caller uid 2002 not permitted", NULL, "bob", NULL, NULL, 0), 0);
	/* Root (no caller set): in full. */
	zm_audit_caller(a, 0, 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(zm_audit_event(a, "enrol", "carol", NULL,
		    "refused", "root refused", NULL, "root", NULL, NULL, 0), 0);
	/* Nothing due yet; at exit every count is written. */
	assert_true(zm_audit_tick(a, zm_mono_ms()) > 0);
	assert_int_equal(count_lines(fx->log, "more refused"), 0);
	assert_int_equal(zm_audit_tick(a, INT64_MAX), INT64_MAX);
	zm_audit_close(a);

	assert_int_equal(count_lines(fx->log, "caller uid 2001 not permitted"),
	    ZM_AUDIT_COALESCE_BURST);
	assert_int_equal(count_lines(fx->log, "\"reason\":\"92 more refused\""),
	    1);
	assert_int_equal(count_lines(fx->log, "caller uid 2001, 92 refusals"),
	    1);
	assert_int_equal(count_lines(fx->log, "wrong code"), 10);
	assert_int_equal(count_lines(fx->log, "\"event\":\"list\""),
	    ZM_AUDIT_COALESCE_BURST + 1);
	assert_int_equal(count_lines(fx->log, "caller uid 2002 not permitted"),
	    1);
	assert_int_equal(count_lines(fx->log, "root refused"), 20);
	/* The summaries are part of the chain. */
	n = verify(fx->log, ZERO_HASH, head, &rc, NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(n, ZM_AUDIT_COALESCE_BURST + 1 + 10 +
	    ZM_AUDIT_COALESCE_BURST + 1 + 1 + 20);
}

/* Rotation: the new file's first record continues the old file's chain. */
static void
test_rotation(void **state)
{
	struct fx		*fx = *state;
	struct zm_audit		*a = NULL;
	struct zm_audit_rec	 rec;
	char			 old[160], line[ZM_AUDIT_MAX_LINE + 2];
	char			 head[ZM_AUDIT_HASH_HEX], head2[ZM_AUDIT_HASH_HEX];
	int			 rc;

	snprintf(old, sizeof(old), "%s.1", fx->log);
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 5, "alice");
	/* SIGHUP rotation: rename, reopen, go on. */
	assert_int_equal(rename(fx->log, old), 0);
	assert_int_equal(zm_audit_reopen(a), 0);
	write_n(a, 2, "bob");
	assert_int_equal(verify(old, NULL, head, &rc, NULL), 5);
	assert_int_equal(rc, 0);
	read_line_n(fx->log, 1, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &rec), 0);
	assert_int_equal(rec.seq, 6);
	assert_string_equal(rec.prev, head);
	/* The new file verifies when started from the old head ... */
	assert_int_equal(verify(fx->log, head, head2, &rc, NULL), 2);
	assert_int_equal(rc, 0);
	/* ... and not as a chain of its own. */
	verify(fx->log, NULL, NULL, &rc, NULL);
	assert_int_equal(rc, ZM_ERR_INVALID);
	/* Reopen without a rotation: the same file simply goes on. */
	assert_int_equal(zm_audit_reopen(a), 0);
	write_n(a, 1, "bob");
	zm_audit_close(a);
	a = NULL;
	assert_int_equal(verify(fx->log, head, head2, &rc, NULL), 3);
	assert_int_equal(rc, 0);

	/* Rotation while stopped: an empty file continues from the store. */
	assert_int_equal(unlink(old), 0);
	assert_int_equal(rename(fx->log, old), 0);
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 1, "carol");
	zm_audit_close(a);
	read_line_n(fx->log, 1, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &rec), 0);
	assert_int_equal(rec.seq, 9);
	assert_string_equal(rec.prev, head2);
}

/* SIGHUP onto a different non-empty file: refused, old file kept. */
static void
test_reopen_foreign(void **state)
{
	struct fx	*fx = *state;
	struct zm_audit	*a = NULL, *b = NULL;
	char		 old[160];
	int		 rc;

	snprintf(old, sizeof(old), "%s.1", fx->log);
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 2, "alice");
	assert_int_equal(rename(fx->log, old), 0);
	/* Someone else's chain appears at the path. */
	assert_int_equal(zm_audit_open(fx->log, NULL, "t", &b), 0);
	write_n(b, 1, "mallory");
	zm_audit_close(b);
	assert_int_equal(zm_audit_reopen(a), ZM_ERR_INVALID);
	write_n(a, 1, "alice");		/* still into the old file */
	zm_audit_close(a);
	assert_int_equal(verify(old, NULL, NULL, &rc, NULL), 3);
	assert_int_equal(rc, 0);
}

/* R15: one modified line is found, and named. */
static void
test_tamper_detected(void **state)
{
	struct fx	*fx = *state;
	struct zm_audit	*a = NULL;
	FILE		*f;
	char		 buf[64 * 1024], *p;
	size_t		 n;
	uint64_t	 bad = 0;
	int		 rc;

	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 10, "alice");
	zm_audit_close(a);
	assert_non_null(f = fopen(fx->log, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Line 5: "result":"ok" -> "result":"no" (same length). */
	p = buf;
	for (int i = 1; i < 5; i++)
		p = strchr(p, '\n') + 1;
	p = strstr(p, "\"result\":\"ok\"");
	assert_non_null(p);
	memcpy(p, "\"result\":\"no\"", 13);
	assert_non_null(f = fopen(fx->log, "w"));
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	verify(fx->log, NULL, NULL, &rc, &bad);
	assert_int_equal(rc, ZM_ERR_INVALID);
	/* Line 6 no longer chains to line 5, line 7 still chains to 6: 5 changed. */
	assert_int_equal(bad, 5);
}

/* Append raw bytes to the log. */
static void
append(const char *path, const char *s)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_APPEND)) >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* A damaged last line: refuse to open, never start a new chain. */
static void
test_garbage_tail_refused(void **state)
{
	struct fx	*fx = *state;
	struct zm_audit	*a = NULL;
	struct stat	 sb, sb2;

	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 3, "alice");
	zm_audit_close(a);
	a = NULL;
	append(fx->log, "garbage\n");
	assert_int_equal(stat(fx->log, &sb), 0);
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), ZM_ERR_INVALID);
	assert_null(a);
	/* Nothing was appended. */
	assert_int_equal(stat(fx->log, &sb2), 0);
	assert_int_equal(sb.st_size, sb2.st_size);
}

/* A torn last line (no newline) is refused as well. */
static void
test_incomplete_tail_refused(void **state)
{
	struct fx	*fx = *state;
	struct zm_audit	*a = NULL;

	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 2, "alice");
	zm_audit_close(a);
	a = NULL;
	append(fx->log, "{\"seq\":3,\"time\":");
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), ZM_ERR_INVALID);
	assert_null(a);
}

/* A log that lost its tail is noticed against the store's head and recorded. */
static void
test_truncation_recorded(void **state)
{
	struct fx		*fx = *state;
	struct zm_audit		*a = NULL;
	struct zm_audit_rec	 rec;
	char			 line[ZM_AUDIT_MAX_LINE + 2];
	struct stat		 sb;
	off_t			 keep = 0;
	int			 rc;

	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	write_n(a, 3, "alice");
	assert_int_equal(stat(fx->log, &sb), 0);
	keep = sb.st_size;
	write_n(a, 2, "alice");
	zm_audit_close(a);
	a = NULL;
	/* Cut records 4 and 5. */
	assert_int_equal(truncate(fx->log, keep), 0);
	assert_int_equal(zm_audit_open(fx->log, fx->st, "t", &a), 0);
	zm_audit_close(a);
	read_line_n(fx->log, 4, line, sizeof(line));
	assert_int_equal(zm_auditrec_parse(line, strlen(line), &rec), 0);
	assert_string_equal(rec.event, "audit");
	assert_string_equal(rec.result, "error");
	assert_string_equal(rec.reason, "records missing from the end of the log");
	assert_non_null(strstr(rec.detail, "registry head is seq 5"));
	assert_int_equal(verify(fx->log, NULL, NULL, &rc, NULL), 4);
	assert_int_equal(rc, 0);
}

static void
test_open_errors(void **state)
{
	struct fx	*fx = *state;
	struct zm_audit	*a = NULL;
	char		 path[192];

	/* The directory is not created for us. */
	snprintf(path, sizeof(path), "%s/missing/audit.log", fx->dir);
	assert_int_equal(zm_audit_open(path, fx->st, "t", &a), ZM_ERR_IO);
	assert_null(a);
	/* A symlink is not followed. */
	snprintf(path, sizeof(path), "%s/link.log", fx->dir);
	assert_int_equal(symlink(fx->log, path), 0);
	assert_int_equal(zm_audit_open(path, fx->st, "t", &a), ZM_ERR_IO);
	assert_null(a);
	/* Nor is a directory a log. */
	assert_int_equal(zm_audit_open(fx->dir, fx->st, "t", &a), ZM_ERR_IO);
	assert_int_equal(zm_audit_open(NULL, fx->st, "t", &a), ZM_ERR_INVALID);
	zm_audit_close(NULL);
	assert_int_equal(zm_audit_write(NULL, NULL, 0), ZM_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_fills_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_tail_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_tail_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_coalesced, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
