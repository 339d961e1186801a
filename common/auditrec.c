/*
 * auditrec.c - one audit record as a JSON line, its strict parser and the
 * hash chain over the lines (format in auditrec.h).
 *
 * The parser accepts only the exact shape the writer produces (keys in
 * order, no blanks), so two different byte strings never mean the same
 * record unnoticed; the chain is over the raw bytes in any case.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "auditrec.h"
#include "buf.h"
#include "err.h"

#define ZM_AUDIT_HASH_LEN	64

struct recfield {
	const char	*key;
	size_t		 off;
	size_t		 size;
	int		 opt;	/* written only when set; older logs lack it */
};

#define F(k, m) { k, offsetof(struct zm_audit_rec, m), \
	sizeof(((struct zm_audit_rec *)0)->m), 0 }
#define FOPT(k, m) { k, offsetof(struct zm_audit_rec, m), \
	sizeof(((struct zm_audit_rec *)0)->m), 1 }
/* Every field after "seq", in the order of the line. */
static const struct recfield recfields[] = {
	F("time", time),
	F("event", event),
	F("user", user),
	FOPT("person", person),
	F("zone", zone),
	F("terminal", terminal),
	F("result", result),
	F("reason", reason),
	F("methods", methods),
	F("operator", operator_),
	F("token", token),
	F("detail", detail),
	F("prev", prev),
};
#undef F
#undef FOPT
#define NFIELDS	(sizeof(recfields) / sizeof(recfields[0]))

static const char zero_hash[ZM_AUDIT_HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int
valid_hash(const char *s)
{
	size_t i;

	for (i = 0; i < ZM_AUDIT_HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[ZM_AUDIT_HASH_LEN] == '\0';
}

static int
put_escaped(struct zm_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  ch;
	char		  e[6];
	size_t		  i;
	int		  r;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			e[0] = '\\';
			e[1] = (char)ch;
			r = zm_buf_put(out, e, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[ch >> 4];
			e[5] = hex[ch & 0xf];
			r = zm_buf_put(out, e, 6);
		} else
			r = zm_buf_put_u8(out, ch);	/* UTF-8 as is */
		if (r != ZM_OK)
			return r;
	}
	return ZM_OK;
}

int
zm_auditrec_format(const struct zm_audit_rec *r, struct zm_buf *out)
{
	const char	*v;
	char		 num[24];
	size_t		 i, n;
	int		 rv, k;

	if (r == NULL || out == NULL)
		return ZM_ERR_INVALID;
	zm_buf_reset(out);
	if (!valid_hash(r->prev))
		return ZM_ERR_INVALID;
	k = snprintf(num, sizeof(num), "%" PRIu64, r->seq);
	if (k < 0 || (size_t)k >= sizeof(num))
		return ZM_ERR_INTERNAL;
	if ((rv = zm_buf_put(out, "{\"seq\":", 7)) != ZM_OK ||
	    (rv = zm_buf_put(out, num, (size_t)k)) != ZM_OK)
		goto fail;
	for (i = 0; i < NFIELDS; i++) {
		v = (const char *)r + recfields[i].off;
		/* An unterminated field is a caller bug, not a long value. */
		if ((n = strnlen(v, recfields[i].size)) == recfields[i].size) {
			rv = ZM_ERR_INVALID;
			goto fail;
		}
		if (recfields[i].opt && n == 0)
			continue;
		if ((rv = zm_buf_put(out, ",\"", 2)) != ZM_OK ||
		    (rv = zm_buf_put(out, recfields[i].key,
		    strlen(recfields[i].key))) != ZM_OK ||
		    (rv = zm_buf_put(out, "\":\"", 3)) != ZM_OK ||
		    (rv = put_escaped(out, v, n)) != ZM_OK ||
		    (rv = zm_buf_put_u8(out, '"')) != ZM_OK)
			goto fail;
	}
	if ((rv = zm_buf_put_u8(out, '}')) != ZM_OK)
		goto fail;
	/* The verifier refuses longer lines: never write one. */
	if (out->len > ZM_AUDIT_MAX_LINE) {
		rv = ZM_ERR_TOOBIG;
		goto fail;
	}
	return ZM_OK;
 fail:
	zm_buf_reset(out);
	return rv;
}

/* A bounded reader over the line; nothing indexes past len. */
struct lcur {
	const char	*p;
	size_t		 len;
	size_t		 pos;
};

static int
lit(struct lcur *c, const char *s)
{
	size_t n = strlen(s);

	if (c->len - c->pos < n || memcmp(c->p + c->pos, s, n) != 0)
		return ZM_ERR_INVALID;
	c->pos += n;
	return ZM_OK;
}

static int
hex4(struct lcur *c, unsigned *v)
{
	unsigned	x = 0;
	char		ch;
	int		i;

	if (c->len - c->pos < 4)
		return ZM_ERR_INVALID;
	for (i = 0; i < 4; i++) {
		ch = c->p[c->pos++];
		x <<= 4;
		if (ch >= '0' && ch <= '9')
			x |= (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x |= (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			x |= (unsigned)(ch - 'A' + 10);
		else
			return ZM_ERR_INVALID;
	}
	*v = x;
	return ZM_OK;
}

/* \uXXXX (and a following low surrogate) as UTF-8 into u; returns length. */
static int
unicode_esc(struct lcur *c, char u[4], size_t *n)
{
	unsigned	cp, lo;
	int		r;

	if ((r = hex4(c, &cp)) != ZM_OK)
		return r;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return ZM_ERR_INVALID;		/* lone low surrogate */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if ((r = lit(c, "\\u")) != ZM_OK || (r = hex4(c, &lo)) != ZM_OK)
			return ZM_ERR_INVALID;
		if (lo < 0xdc00 || lo > 0xdfff)
			return ZM_ERR_INVALID;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return ZM_ERR_INVALID;		/* no NUL in a C string */
	if (cp < 0x80) {
		u[0] = (char)cp;
		*n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		*n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		*n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		*n = 4;
	}
	return ZM_OK;
}

/* A JSON string decoded into out[size]; ZM_ERR_TOOBIG if it does not fit. */
static int
jstring(struct lcur *c, char *out, size_t size)
{
	char		u[4], ch;
	size_t		o = 0, n;
	int		r;

	if ((r = lit(c, "\"")) != ZM_OK)
		return r;
	for (;;) {
		if (c->pos >= c->len)
			return ZM_ERR_INVALID;
		ch = c->p[c->pos++];
		if (ch == '"')
			break;
		/* A raw control character (NUL included) must be escaped. */
		if ((unsigned char)ch < 0x20)
			return ZM_ERR_INVALID;
		n = 1;
		u[0] = ch;
		if (ch == '\\') {
			if (c->pos >= c->len)
				return ZM_ERR_INVALID;
			switch ((ch = c->p[c->pos++])) {
			case '"':
			case '\\':
			case '/':
				u[0] = ch;
				break;
			case 'b':
				u[0] = '\b';
				break;
			case 'f':
				u[0] = '\f';
				break;
			case 'n':
				u[0] = '\n';
				break;
			case 'r':
				u[0] = '\r';
				break;
			case 't':
				u[0] = '\t';
				break;
			case 'u':
				if ((r = unicode_esc(c, u, &n)) != ZM_OK)
					return r;
				break;
			default:
				return ZM_ERR_INVALID;
			}
		}
		if (n >= size - o)
			return ZM_ERR_TOOBIG;
		memcpy(out + o, u, n);
		o += n;
	}
	out[o] = '\0';
	return ZM_OK;
}

/* 1 when the next field is ,"key": (nothing is consumed). */
static int
peek_key(const struct lcur *c, const char *key)
{
	size_t n = strlen(key);

	return c->len - c->pos >= n + 5 &&
	    memcmp(c->p + c->pos, ",\"", 2) == 0 &&
	    memcmp(c->p + c->pos + 2, key, n) == 0 &&
	    memcmp(c->p + c->pos + 2 + n, "\":", 2) == 0;
}

/* A decimal u64 without sign or leading zeros. */
static int
jseq(struct lcur *c, uint64_t *v)
{
	uint64_t	x = 0;
	size_t		start = c->pos;
	unsigned	d;

	while (c->pos < c->len && c->p[c->pos] >= '0' && c->p[c->pos] <= '9') {
		d = (unsigned)(c->p[c->pos] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return ZM_ERR_TOOBIG;
		x = x * 10 + d;
		c->pos++;
	}
	if (c->pos == start || (c->p[start] == '0' && c->pos - start > 1))
		return ZM_ERR_INVALID;
	*v = x;
	return ZM_OK;
}

int
zm_auditrec_parse(const char *line, size_t len, struct zm_audit_rec *r)
{
	struct lcur	c;
	size_t		i;
	int		rv = ZM_ERR_INVALID;

	if (r == NULL || (line == NULL && len != 0))
		return ZM_ERR_INVALID;
	memset(r, 0, sizeof(*r));
	if (len > ZM_AUDIT_MAX_LINE)
		return ZM_ERR_TOOBIG;
	c.p = line;
	c.len = len;
	c.pos = 0;
	if ((rv = lit(&c, "{\"seq\":")) != ZM_OK ||
	    (rv = jseq(&c, &r->seq)) != ZM_OK)
		goto fail;
	for (i = 0; i < NFIELDS; i++) {
		/* An optional field is there with a value, or not at all. */
		if (recfields[i].opt && !peek_key(&c, recfields[i].key))
			continue;
		if ((rv = lit(&c, ",\"")) != ZM_OK ||
		    (rv = lit(&c, recfields[i].key)) != ZM_OK ||
		    (rv = lit(&c, "\":")) != ZM_OK ||
		    (rv = jstring(&c, (char *)r + recfields[i].off,
		    recfields[i].size)) != ZM_OK)
			goto fail;
		if (recfields[i].opt &&
		    ((char *)r + recfields[i].off)[0] == '\0') {
			rv = ZM_ERR_INVALID;	/* we never write it empty */
			goto fail;
		}
	}
	if ((rv = lit(&c, "}")) != ZM_OK)
		goto fail;
	if (c.pos != c.len || !valid_hash(r->prev)) {
		rv = ZM_ERR_INVALID;
		goto fail;
	}
	return ZM_OK;
 fail:
	memset(r, 0, sizeof(*r));
	return rv;
}

int
zm_audit_hash(const char *line, size_t len, char hex[ZM_AUDIT_HASH_HEX])
{
	static const char	digits[] = "0123456789abcdef";
	unsigned char		md[EVP_MAX_MD_SIZE];
	unsigned int		mdlen = 0, i;

	if (hex == NULL || (line == NULL && len != 0))
		return ZM_ERR_INVALID;
	hex[0] = '\0';
	if (EVP_Digest(len ? line : "", len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen * 2 != ZM_AUDIT_HASH_LEN)
		return ZM_ERR_CRYPTO;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * mdlen] = '\0';
	return ZM_OK;
}

void
zm_audit_now(char *out, size_t outlen)
{
	struct timespec	ts;
	struct tm	tm;
	char		base[32];
	int		n;

	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return;
	n = snprintf(out, outlen, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';		/* a cut time is a wrong time */
}

enum { LINE_OK, LINE_EOF, LINE_ERR };

/*
 * One line into buf (at most ZM_AUDIT_MAX_LINE bytes kept).  *toolong when
 * it was longer (the rest is skipped), *nl when it ended with a newline.
 */
static int
read_line(FILE *f, char *buf, size_t *len, int *nl, int *toolong)
{
	size_t	n = 0;
	int	ch, any = 0;

	*nl = *toolong = 0;
	while ((ch = getc_unlocked(f)) != EOF) {
		any = 1;
		if (ch == '\n') {
			*nl = 1;
			break;
		}
		if (n < ZM_AUDIT_MAX_LINE)
			buf[n++] = (char)ch;
		else
			*toolong = 1;
	}
	if (ferror(f))
		return LINE_ERR;
	*len = n;
	return any ? LINE_OK : LINE_EOF;
}

static void
say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	/* A cut reason is still the right reason; make sure it ends. */
	if (n < 0)
		why[0] = '\0';
}

/*
 * Line lineno (in buf) does not chain to line lineno - 1.  Either the line
 * before was changed (its hash moved) or this line's prev was.  The line
 * after decides: if it still chains to this line, this line is intact and
 * the one before is the first bad record.  Without a line after, the
 * earlier line is named (the common case: a record's content was edited)
 * and the reason says what else it could be.
 */
static void
blame(FILE *f, const char *buf, size_t len, uint64_t lineno, uint64_t seq,
    uint64_t *bl, uint64_t *bs, char *why, size_t whylen)
{
	struct zm_audit_rec	 next;
	char			 h[ZM_AUDIT_HASH_HEX];
	char			*nbuf;
	size_t			 nlen;
	int			 nl, toolong, have_next = 0, confirms = 0;

	if ((nbuf = malloc(ZM_AUDIT_MAX_LINE)) != NULL &&
	    read_line(f, nbuf, &nlen, &nl, &toolong) == LINE_OK && !toolong &&
	    zm_auditrec_parse(nbuf, nlen, &next) == ZM_OK) {
		have_next = 1;
		confirms = zm_audit_hash(buf, len, h) == ZM_OK &&
		    memcmp(next.prev, h, ZM_AUDIT_HASH_HEX) == 0;
	}
	free(nbuf);
	if (have_next && !confirms) {
		say(why, whylen, "record changed (its prev does not match "
		    "line %" PRIu64 " and its hash does not match the prev of "
		    "line %" PRIu64 ")", lineno - 1, lineno + 1);
		return;
	}
	*bl = lineno - 1;
	*bs = seq > 0 ? seq - 1 : 0;
	if (have_next)
		say(why, whylen, "record changed (its hash no longer matches "
		    "the prev of line %" PRIu64 ")", lineno);
	else
		say(why, whylen, "record changed (its hash no longer matches "
		    "the prev of line %" PRIu64 "), or that line's prev was "
		    "changed", lineno);
}

int
zm_audit_verify_file(FILE *f, const char *start_prev, uint64_t *nrecords,
    uint64_t *bad_line, uint64_t *bad_seq, char *why, size_t whylen,
    char head[ZM_AUDIT_HASH_HEX])
{
	struct zm_audit_rec	 rec;
	char			 expect[ZM_AUDIT_HASH_HEX];
	char			*buf = NULL;
	uint64_t		 lineno = 0, n = 0, next_seq = 0;
	uint64_t		 bl = 0, bs = 0;
	size_t			 len;
	int			 nl, toolong, pr, r = ZM_ERR_INTERNAL;

	if (f == NULL)
		return ZM_ERR_INVALID;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (start_prev != NULL &&
	    (strnlen(start_prev, ZM_AUDIT_HASH_HEX) != ZM_AUDIT_HASH_LEN ||
	    !valid_hash(start_prev)))
		return ZM_ERR_INVALID;
	memcpy(expect, start_prev != NULL ? start_prev : zero_hash,
	    ZM_AUDIT_HASH_HEX);
	if ((buf = malloc(ZM_AUDIT_MAX_LINE)) == NULL)
		return ZM_ERR_NOMEM;
	for (;;) {
		if ((pr = read_line(f, buf, &len, &nl, &toolong)) == LINE_EOF)
			break;
		if (pr == LINE_ERR) {
			r = ZM_ERR_IO;
			goto out;
		}
		bl = ++lineno;
		bs = 0;
		r = ZM_ERR_INVALID;
		if (toolong) {
			say(why, whylen, "line too long (more than %d bytes)",
			    ZM_AUDIT_MAX_LINE);
			goto out;
		}
		pr = zm_auditrec_parse(buf, len, &rec);
		bs = pr == ZM_OK ? rec.seq : 0;
		if (!nl) {
			say(why, whylen, "truncated record (no newline at the "
			    "end of the file)");
			goto out;
		}
		if (pr != ZM_OK) {
			say(why, whylen, "unparseable record");
			goto out;
		}
		if (n > 0 && rec.seq != next_seq) {
			say(why, whylen, "sequence gap (expected %" PRIu64
			    ", got %" PRIu64 ")", next_seq, rec.seq);
			goto out;
		}
		if (memcmp(rec.prev, expect, ZM_AUDIT_HASH_HEX) != 0) {
			if (lineno == 1)
				say(why, whylen, "hash chain broken (prev does "
				    "not match the start of the chain)");
			else {
				blame(f, buf, len, lineno, rec.seq, &bl, &bs,
				    why, whylen);
				/* The earlier line was counted as good. */
				if (bl != lineno && n > 0)
					n--;
			}
			goto out;
		}
		if ((r = zm_audit_hash(buf, len, expect)) != ZM_OK)
			goto out;
		next_seq = rec.seq + 1;
		n++;
	}
	bl = bs = 0;
	if (head != NULL)
		memcpy(head, expect, ZM_AUDIT_HASH_HEX);
	r = ZM_OK;
 out:
	if (nrecords != NULL)
		*nrecords = n;
	if (bad_line != NULL)
		*bad_line = r == ZM_OK ? 0 : bl;
	if (bad_seq != NULL)
		*bad_seq = r == ZM_OK ? 0 : bs;
	free(buf);
	return r;
}
