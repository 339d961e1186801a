/*
 * report.c - `zonemfa-audit report`: the regular analysis of the audit
 * log the policies ask for (R15), per zone and per user, and the lists a
 * security committee reads record by record: logins outside office hours,
 * privileged sessions and how long they lasted (R9), lockouts (R13),
 * attempts with revoked or suspended tokens (R5, R6) and uses of helpdesk
 * temporary codes (R17), and the clock records (R16) that say when the
 * times themselves are not to be trusted.
 *
 * Times are shown in the local time of the machine running the report,
 * which is also the time office_hours (zonemfa.conf(5)) is judged in.
 *
 * Output is a table for the terminal, aligned by display width (a kanji
 * takes two columns, whatever the locale), or CSV (RFC 4180, UTF-8) for a
 * spreadsheet, every section or one (--section).  Every cell comes from
 * a file that may have been tampered with: control characters and bytes
 * that are no UTF-8 are shown as '?', and a CSV cell a spreadsheet would
 * run as a formula is made text.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditrec.h"
#include "cli.h"
#include "conf.h"
#include "err.h"

/* ---- UTF-8 text: cleaning and display width ---- */

/* The code point at s (*len bytes), -1 for a byte that starts no valid one. */
static int32_t
u8_next(const unsigned char *s, size_t *len)
{
	uint32_t	c;
	size_t		n, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also the terminating NUL */
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len = n;
	return (int32_t)c;
}

/*
 * Columns a code point takes on a terminal: 2 for East Asian Wide and
 * Fullwidth (kanji, kana, hangul, fullwidth forms), 0 for combining and
 * zero-width marks, else 1 (East Asian Ambiguous counts as narrow, as in
 * a UTF-8 terminal outside CJK legacy mode).
 */
static int
cp_width(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x3099 && c <= 0x309a) || (c >= 0xfe00 && c <= 0xfe0f) ||
	    c == 0xfeff)
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

/* Display columns of a cleaned string. */
static size_t
u8_width(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 w = 0, n;
	int32_t			 c;

	while (*p != '\0') {
		c = u8_next(p, &n);
		w += c < 0 ? 1 : (size_t)cp_width((uint32_t)c);
		p += n;
	}
	return w;
}

/*
 * Copies s for display: valid UTF-8 is kept; control characters (C0,
 * DEL, C1), bidirectional overrides and bytes that are no UTF-8 become
 * '?'.  Cut at a character boundary to fit outlen.
 */
static void
cell_clean(const char *s, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0, n;
	int32_t			 c;

	if (outlen == 0)
		return;
	while (*p != '\0') {
		c = u8_next(p, &n);
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
		    (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069)) {
			if (o + 1 >= outlen)
				break;
			out[o++] = '?';
		} else {
			if (o + n >= outlen)
				break;
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
}

/* s, then spaces up to w display columns (or before it: right). */
static void
put_padded(const char *s, size_t w, int right)
{
	size_t sw = u8_width(s);

	if (right)
		for (; sw < w; sw++)
			putchar(' ');
	fputs(s, stdout);
	if (!right)
		for (; sw < w; sw++)
			putchar(' ');
}

/* ---- CSV (RFC 4180) ---- */

/*
 * One cell.  Quoted when it holds a comma, quote, CR, LF or an edge space;
 * a cell that starts like a formula (= + - @) gets a leading ' so that
 * Excel and LibreOffice show it as text instead of running it.  The lone
 * "-" (nothing) is an empty cell.
 */
static void
csv_cell(const char *s, int first)
{
	size_t	len;
	int	formula, quote;

	if (!first)
		putchar(',');
	if (s == NULL || strcmp(s, "-") == 0)
		return;
	len = strlen(s);
	formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
	quote = formula || strpbrk(s, ",\"\r\n") != NULL ||
	    (len > 0 && (s[0] == ' ' || s[len - 1] == ' '));
	if (!quote) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	if (formula)
		putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void
csv_end(void)
{
	fputs("\r\n", stdout);
}

/* A header name for CSV: "ENDED BY" -> "ended_by", "OFF-HOURS" -> "off_hours". */
static void
csv_head(const char *h, int first)
{
	char	key[64];
	size_t	i;

	for (i = 0; h[i] != '\0' && i + 1 < sizeof(key); i++)
		key[i] = h[i] == ' ' || h[i] == '-' ? '_' :
		    (h[i] >= 'A' && h[i] <= 'Z') ? (char)(h[i] - 'A' + 'a') :
		    h[i];
	key[i] = '\0';
	csv_cell(key, first);
}

/* ---- per zone / per user counters ---- */

enum { C_LOGIN, C_OFFHOURS, C_FAIL, C_LOCK, C_REFUSED, C_REVTOK,
    C_TEMPCODE, C_ENROL, C_REVOKE, C_SOPEN, C_SEND, C_PRIV, NCOUNTERS };

static const char *const counter_names[NCOUNTERS] = {
	"LOGINS", "OFF-HOURS", "FAILURES", "LOCKOUTS", "REFUSED",
	"REVOKED-TOKEN", "TEMPCODE", "ENROLMENTS", "REVOCATIONS",
	"SESSIONS-OPENED", "SESSIONS-ENDED", "PRIV-SESSIONS"
};

struct tally {
	char		name[64];
	uint64_t	c[NCOUNTERS];
};

struct tallies {
	struct tally	*v;
	size_t		 n, cap;
};

static struct tally *
tally_get(struct tallies *t, const char *name)
{
	struct tally	*nv;
	char		 clean[sizeof(t->v[0].name)];
	size_t		 i, ncap;

	/* Compared as shown: a name is one row however it was mangled. */
	cell_clean(name[0] != '\0' ? name : "-", clean, sizeof(clean));
	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, clean) == 0)
			return &t->v[i];
	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 16;
		if ((nv = reallocarray(t->v, ncap, sizeof(*nv))) == NULL)
			return NULL;
		t->v = nv;
		t->cap = ncap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	memcpy(t->v[t->n].name, clean, sizeof(clean));
	return &t->v[t->n++];
}

/* ---- record lists: a small table of sanitised text cells ---- */

#define TCOLS	6

struct table {
	const char	*key;		/* --section name */
	const char	*title;
	const char	*head[TCOLS];	/* untranslated (N_) */
	size_t		 ncol;
	char		*(*row)[TCOLS];
	size_t		 n, cap;
};

static void
table_free(struct table *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++)
		for (j = 0; j < t->ncol; j++)
			free(t->row[i][j]);
	free(t->row);
	t->row = NULL;
	t->n = t->cap = 0;
}

/* Appends one row of t->ncol strings (NULL or "" shown as "-"). */
static int
table_add(struct table *t, ...)
{
	va_list		 ap;
	char		*(*nv)[TCOLS], clean[256];
	const char	*s;
	size_t		 j, ncap;
	int		 r = ZM_OK;

	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 16;
		if ((nv = reallocarray(t->row, ncap, sizeof(*nv))) == NULL)
			return ZM_ERR_NOMEM;
		t->row = nv;
		t->cap = ncap;
	}
	va_start(ap, t);
	for (j = 0; j < t->ncol; j++) {
		s = va_arg(ap, const char *);
		/* Fields come from a file that may have been tampered with. */
		cell_clean(s != NULL ? s : "", clean, sizeof(clean));
		if ((t->row[t->n][j] = strdup(clean)) == NULL)
			r = ZM_ERR_NOMEM;
	}
	va_end(ap);
	t->n++;	/* a NULL cell is freed like the others */
	return r;
}

/* A cell as shown: "-" for nothing, "?" for a cell lost to memory. */
static const char *
table_cell(const struct table *t, size_t i, size_t j)
{
	if (i == 0)
		return _(t->head[j]);
	if (t->row[i - 1][j] == NULL)
		return "?";
	return t->row[i - 1][j][0] != '\0' ? t->row[i - 1][j] : "-";
}

static void
table_print(const struct table *t)
{
	size_t i, j, w[TCOLS], cw;

	printf("\n%s: %zu\n", t->title, t->n);
	if (t->n == 0)
		return;
	for (j = 0; j < t->ncol; j++) {
		w[j] = 0;
		for (i = 0; i <= t->n; i++)
			if ((cw = u8_width(table_cell(t, i, j))) > w[j])
				w[j] = cw;
	}
	for (i = 0; i <= t->n; i++) {
		printf("  ");
		for (j = 0; j < t->ncol; j++) {
			if (j + 1 < t->ncol) {
				put_padded(table_cell(t, i, j), w[j], 0);
				printf("  ");
			} else
				printf("%s\n", table_cell(t, i, j));
		}
	}
}

/* section: with a first "section" column naming the table (all sections). */
static void
table_csv(const struct table *t, int section)
{
	size_t i, j;

	if (section)
		csv_cell("section", 1);
	for (j = 0; j < t->ncol; j++)
		csv_head(t->head[j], !section && j == 0);
	csv_end();
	for (i = 1; i <= t->n; i++) {
		if (section)
			csv_cell(t->key, 1);
		for (j = 0; j < t->ncol; j++)
			csv_cell(t->row[i - 1][j] != NULL ?
			    t->row[i - 1][j] : "?", !section && j == 0);
		csv_end();
	}
}

/* ---- privileged sessions: open records waiting for their end ---- */

struct psess {
	uint64_t	id;
	int64_t		opened;
	char		user[64], zone[64], terminal[64];
	int64_t		ended;		/* 0: no end record seen */
	int		by_daemon;	/* a session_end gave how */
	char		how[128];
};

struct psessions {
	struct psess	*v;
	size_t		 n, cap;
};

/* "session 12 pid ..." -> 12; 0 when the detail names no session. */
static uint64_t
detail_session(const char *detail)
{
	unsigned long long	 id;
	char			*end;
	const char		*s;

	if (strncmp(detail, "session ", 8) != 0)
		return 0;
	s = detail + 8;
	if (*s < '1' || *s > '9')
		return 0;
	errno = 0;
	id = strtoull(s, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != ' ' && *end != ':'))
		return 0;
	return (uint64_t)id;
}

/* 1 when the space-separated word w is in s. */
static int
has_word(const char *s, const char *w)
{
	size_t		 wl = strlen(w);
	const char	*p;

	for (p = s; (p = strstr(p, w)) != NULL; p += wl)
		if ((p == s || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' '))
			return 1;
	return 0;
}

static int
psess_open(struct psessions *ps, const struct zm_audit_rec *r, uint64_t id,
    int64_t t)
{
	struct psess	*nv, *p;
	size_t		 ncap;

	if (ps->n == ps->cap) {
		ncap = ps->cap ? ps->cap * 2 : 16;
		if ((nv = reallocarray(ps->v, ncap, sizeof(*nv))) == NULL)
			return ZM_ERR_NOMEM;
		ps->v = nv;
		ps->cap = ncap;
	}
	p = &ps->v[ps->n++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->opened = t;
	snprintf(p->user, sizeof(p->user), "%s", r->user);
	snprintf(p->zone, sizeof(p->zone), "%s", r->zone);
	snprintf(p->terminal, sizeof(p->terminal), "%s", r->terminal);
	return ZM_OK;
}

/*
 * The first end record of a privileged session gives its length.  The
 * daemon writes one end record per session (a logout while it ends the
 * session is not recorded), but logs written before that have the
 * signalled process's logout first and then the daemon's session_end: a
 * session_end that follows a logout still says why the session ended.
 */
static void
psess_end(struct psessions *ps, const struct zm_audit_rec *r, uint64_t id,
    int64_t t)
{
	size_t	i;
	int	by_daemon = strcmp(r->event, "session_end") == 0;

	for (i = ps->n; i > 0; i--) {
		struct psess *p = &ps->v[i - 1];

		if (p->id != id || strcmp(p->user, r->user) != 0)
			continue;
		if (p->ended != 0 && (p->by_daemon || !by_daemon))
			return;
		if (p->ended == 0)
			p->ended = t > p->opened ? t : p->opened;
		p->by_daemon = by_daemon;
		/* logout, session_limit, revoked, disabled, ... */
		snprintf(p->how, sizeof(p->how), "%s", r->reason[0] != '\0' ?
		    r->reason : r->event);
		return;
	}
}

/* ---- the report ---- */

struct report {
	const struct zm_config	*cfg;
	struct tallies		 zones, users;
	struct psessions	 ps;
	struct table		 offhours, priv, locks, revtok, tempcode;
	struct table		 clock;
};

/* "2026-11-22T01:02:03.456Z" -> seconds. */
static int
rec_time(const char *s, int64_t *out)
{
	struct tm	tm;
	time_t		t;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return ZM_ERR_INVALID;
	if ((t = timegm(&tm)) == (time_t)-1)
		return ZM_ERR_INVALID;
	*out = (int64_t)t;
	return ZM_OK;
}

static void
local_time(int64_t t, char *out, size_t outlen)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* "until 2026-11-22T01:32:03Z" -> local time; "until a helpdesk unlock". */
static void
lock_until(const char *detail, char *out, size_t outlen)
{
	int64_t t;

	if (strncmp(detail, "until ", 6) == 0 &&
	    rec_time(detail + 6, &t) == ZM_OK)
		local_time(t, out, outlen);
	else if (strstr(detail, "helpdesk") != NULL)
		snprintf(out, outlen, "%s", _("helpdesk unlock"));
	else
		snprintf(out, outlen, "%s", detail);
}

static void
fmt_length(int64_t secs, char *out, size_t outlen)
{
	snprintf(out, outlen, "%lld:%02lld:%02lld", (long long)(secs / 3600),
	    (long long)(secs / 60 % 60), (long long)(secs % 60));
}

/* Which counter a record feeds, or -1. */
static int
classify(const struct zm_audit_rec *r)
{
	int ok = strcmp(r->result, "ok") == 0;

	if (strcmp(r->event, "auth") == 0) {
		if (ok)
			return C_LOGIN;
		/* R17: a second use of a spent temporary code: listed there. */
		if (strcmp(r->reason, "temporary code already used") == 0)
			return C_TEMPCODE;
		/* Someone tried a token that was revoked or suspended. */
		if (strstr(r->reason, "revoked") != NULL ||
		    strstr(r->reason, "suspended") != NULL)
			return C_REVTOK;
		if (strcmp(r->result, "fail") == 0)
			return C_FAIL;
		if (strcmp(r->result, "refused") == 0)
			return C_REFUSED;
		return -1;	/* aborted conversations are no failure */
	}
	/* A FIDO key whose counter went back: suspended at once. */
	if (strcmp(r->event, "clone_suspected") == 0)
		return C_REVTOK;
	/* The daemon writes a "lock" record when failures lock an account. */
	if (strcmp(r->event, "lock") == 0)
		return ok ? C_LOCK : -1;
	if (strcmp(r->event, "account") == 0)
		return strcmp(r->result, "refused") == 0 ? C_REFUSED : -1;
	/* R17: every use of a helpdesk temporary code. */
	if (strcmp(r->event, "tempcode_use") == 0)
		return C_TEMPCODE;
	if (strcmp(r->event, "enrol") == 0)
		return ok ? C_ENROL : -1;
	if (strcmp(r->event, "revoke") == 0)
		return ok ? C_REVOKE : -1;
	if (strcmp(r->event, "session_open") == 0)
		return ok ? C_SOPEN : -1;
	/* A logout, or a session ended by revocation or a time limit. */
	if (strcmp(r->event, "session_close") == 0 ||
	    strcmp(r->event, "session_end") == 0)
		return ok ? C_SEND : -1;
	return -1;
}

static int
count(struct report *rp, const struct zm_audit_rec *r, int c)
{
	struct tally *tz, *tu;

	if ((tz = tally_get(&rp->zones, r->zone)) == NULL ||
	    (tu = tally_get(&rp->users, r->user)) == NULL)
		return ZM_ERR_NOMEM;
	tz->c[c]++;
	tu->c[c]++;
	return ZM_OK;
}

/* One record: counters and, where it belongs to one, a list row. */
static int
report_rec(struct report *rp, const struct zm_audit_rec *r, int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;
	char		when[32], until[256];
	uint64_t	id;
	int		c, ret;

	/* R16: the clock was not synchronised (or was stepped): times near it are doubtful. */
	if (strcmp(r->event, "clock") == 0) {
		local_time(t, when, sizeof(when));
		return table_add(&rp->clock, when, r->zone, r->result,
		    r->reason, r->detail);
	}
	if ((c = classify(r)) < 0)
		return ZM_OK;
	/* Refused tempcode attempts are listed but are no use. */
	if ((c != C_TEMPCODE || strcmp(r->result, "ok") == 0) &&
	    (ret = count(rp, r, c)) != ZM_OK)
		return ret;
	local_time(t, when, sizeof(when));
	switch (c) {
	case C_LOGIN:
		if (localtime_r(&tt, &tm) == NULL ||
		    zm_office_hours_in(rp->cfg, &tm))
			break;
		if ((ret = count(rp, r, C_OFFHOURS)) != ZM_OK)
			return ret;
		return table_add(&rp->offhours, when, r->user, r->zone,
		    r->terminal, r->methods);
	case C_LOCK:
		lock_until(r->detail, until, sizeof(until));
		return table_add(&rp->locks, when, r->user, r->zone, until,
		    r->reason);
	case C_REVTOK:
		return table_add(&rp->revtok, when, r->user, r->zone, r->event,
		    r->reason);
	case C_TEMPCODE:
		return table_add(&rp->tempcode, when, r->user, r->zone,
		    r->terminal, r->result, r->reason);
	case C_SOPEN:
		if (!has_word(r->detail, "privileged") ||
		    (id = detail_session(r->detail)) == 0)
			break;
		if ((ret = count(rp, r, C_PRIV)) != ZM_OK)
			return ret;
		return psess_open(&rp->ps, r, id, t);
	case C_SEND:
		if ((id = detail_session(r->detail)) != 0)
			psess_end(&rp->ps, r, id, t);
		break;
	}
	return ZM_OK;
}

static int
report_priv_rows(struct report *rp)
{
	char	opened[32], len[32], sid[24];
	size_t	i;
	int	r;

	for (i = 0; i < rp->ps.n; i++) {
		const struct psess *p = &rp->ps.v[i];

		local_time(p->opened, opened, sizeof(opened));
		snprintf(sid, sizeof(sid), "%llu", (unsigned long long)p->id);
		if (p->ended != 0)
			fmt_length(p->ended - p->opened, len, sizeof(len));
		else
			snprintf(len, sizeof(len), "%s", _("open"));
		if ((r = table_add(&rp->priv, opened, p->user, p->zone, sid,
		    len, p->ended != 0 ? p->how : _("no end recorded"))) !=
		    ZM_OK)
			return r;
	}
	return ZM_OK;
}

/* Sorted by name: insertion sort, the lists are short. */
static void
tallies_sort(struct tallies *t)
{
	size_t i, k;

	for (i = 1; i < t->n; i++) {
		struct tally tmp = t->v[i];

		for (k = i; k > 0 && strcmp(t->v[k - 1].name, tmp.name) > 0; k--)
			t->v[k] = t->v[k - 1];
		t->v[k] = tmp;
	}
}

/* key: the section name (all sections) or NULL; head: "ZONE" or "USER". */
static void
tallies_csv(const char *key, const char *head, const struct tallies *t)
{
	char	num[32];
	size_t	i, j;

	if (key != NULL)
		csv_cell("section", 1);
	csv_head(head, key == NULL);
	for (j = 0; j < NCOUNTERS; j++)
		csv_head(counter_names[j], 0);
	csv_end();
	for (i = 0; i < t->n; i++) {
		if (key != NULL)
			csv_cell(key, 1);
		csv_cell(t->v[i].name, key == NULL);
		for (j = 0; j < NCOUNTERS; j++) {
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)t->v[i].c[j]);
			csv_cell(num, 0);
		}
		csv_end();
	}
}

static void
print_tallies(const char *title, struct tallies *t)
{
	struct tally	 total;
	size_t		 w[NCOUNTERS], wn, i, j;
	char		 num[32];

	memset(&total, 0, sizeof(total));
	cell_clean(_("TOTAL"), total.name, sizeof(total.name));
	for (i = 0; i < t->n; i++)
		for (j = 0; j < NCOUNTERS; j++)
			total.c[j] += t->v[i].c[j];
	wn = u8_width(title);
	if (u8_width(total.name) > wn)
		wn = u8_width(total.name);
	for (i = 0; i < t->n; i++)
		if (u8_width(t->v[i].name) > wn)
			wn = u8_width(t->v[i].name);
	for (j = 0; j < NCOUNTERS; j++) {
		w[j] = strlen(counter_names[j]);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)total.c[j]);
		if (strlen(num) > w[j])
			w[j] = strlen(num);
	}
	put_padded(title, wn, 0);
	for (j = 0; j < NCOUNTERS; j++)
		printf("  %*s", (int)w[j], counter_names[j]);
	putchar('\n');
	for (i = 0; i <= t->n; i++) {
		const struct tally *row = i < t->n ? &t->v[i] : &total;

		put_padded(row->name, wn, 0);
		for (j = 0; j < NCOUNTERS; j++)
			printf("  %*llu", (int)w[j], (unsigned long long)row->c[j]);
		putchar('\n');
	}
}

/* The sections, in the order they are printed. */
static const char *const section_names[] = {
	"zones", "users", "offhours", "privileged", "lockouts", "revoked",
	"tempcode", "clock"
};
#define NSECTIONS	(sizeof(section_names) / sizeof(section_names[0]))

int
audit_report_section_valid(const char *name)
{
	size_t i;

	for (i = 0; i < NSECTIONS; i++)
		if (strcmp(section_names[i], name) == 0)
			return 1;
	return 0;
}

const char *
audit_report_sections(void)
{
	return "zones users offhours privileged lockouts revoked tempcode "
	    "clock";
}

static void
report_output(struct report *rp, const struct audit_report_opts *o,
    uint64_t used)
{
	struct table	*tables[] = { &rp->offhours, &rp->priv, &rp->locks,
	    &rp->revtok, &rp->tempcode, &rp->clock };
	const char	*sec = o->section;
	size_t		 i;
	int		 all = sec == NULL, n = 0;

	tallies_sort(&rp->zones);
	tallies_sort(&rp->users);
	if (o->csv) {
		/* Excel reads a CSV without a BOM in the ANSI code page. */
		if (o->bom)
			fputs("\xef\xbb\xbf", stdout);
		if (all || strcmp(sec, "zones") == 0) {
			tallies_csv(all ? "zones" : NULL, "ZONE", &rp->zones);
			n++;
		}
		if (all || strcmp(sec, "users") == 0) {
			if (n++ > 0)
				csv_end();
			tallies_csv(all ? "users" : NULL, "USER", &rp->users);
		}
		for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
			if (!all && strcmp(sec, tables[i]->key) != 0)
				continue;
			if (n++ > 0)
				csv_end();
			table_csv(tables[i], all);
		}
		return;
	}
	if (all)
		printf(_("%llu records considered\n\n"),
		    (unsigned long long)used);
	if (all || strcmp(sec, "zones") == 0)
		print_tallies(_("ZONE"), &rp->zones);
	if (all)
		putchar('\n');
	if (all || strcmp(sec, "users") == 0)
		print_tallies(_("USER"), &rp->users);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (all || strcmp(sec, tables[i]->key) == 0)
			table_print(tables[i]);
}

int
audit_report(const struct zm_config *cfg, FILE *f, const char *path,
    const struct audit_report_opts *o)
{
	struct report		 rp;
	struct zm_audit_rec	 rec;
	char			*line = NULL, office[96], title[160];
	size_t			 cap = 0, len;
	ssize_t			 k;
	uint64_t		 used = 0, skipped = 0;
	int64_t			 t;
	int			 r = ZM_ERR_INTERNAL;

	memset(&rp, 0, sizeof(rp));
	rp.cfg = cfg;
	zm_office_hours_format(cfg, office, sizeof(office));
	snprintf(title, sizeof(title),
	    _("Logins outside office hours (%s, local time)"), office);
	rp.offhours = (struct table){ "offhours", title, { N_("TIME"),
	    N_("USER"), N_("ZONE"), N_("TERMINAL"), N_("METHODS") }, 5,
	    NULL, 0, 0 };
	rp.priv = (struct table){ "privileged", _("Privileged sessions"), {
	    N_("OPENED"), N_("USER"), N_("ZONE"), N_("SESSION"),
	    N_("LENGTH"), N_("ENDED BY") }, 6, NULL, 0, 0 };
	rp.locks = (struct table){ "lockouts", _("Lockouts"), { N_("TIME"),
	    N_("USER"), N_("ZONE"), N_("UNTIL"), N_("REASON") }, 5, NULL,
	    0, 0 };
	rp.revtok = (struct table){ "revoked",
	    _("Attempts with revoked or suspended tokens"), { N_("TIME"),
	    N_("USER"), N_("ZONE"), N_("EVENT"), N_("REASON") }, 5, NULL, 0,
	    0 };
	rp.tempcode = (struct table){ "tempcode",
	    _("Temporary code uses and attempts"), { N_("TIME"), N_("USER"),
	    N_("ZONE"), N_("TERMINAL"), N_("RESULT"), N_("REASON") }, 6,
	    NULL, 0, 0 };
	rp.clock = (struct table){ "clock",
	    _("Clock records (times near these are doubtful)"), {
	    N_("TIME"), N_("ZONE"), N_("RESULT"), N_("REASON"),
	    N_("DETAIL") }, 5, NULL, 0, 0 };

	while ((k = getline(&line, &cap, f)) != -1) {
		len = (size_t)k;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > ZM_AUDIT_MAX_LINE ||
		    zm_auditrec_parse(line, len, &rec) != ZM_OK ||
		    rec_time(rec.time, &t) != ZM_OK) {
			skipped++;
			continue;
		}
		if (t < o->since ||
		    (o->user != NULL && strcmp(rec.user, o->user) != 0))
			continue;
		used++;
		if ((r = report_rec(&rp, &rec, t)) != ZM_OK)
			goto out;
	}
	if (ferror(f)) {
		cli_warnx(_("cannot read audit log %s: %s"), path,
		    strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	if ((r = report_priv_rows(&rp)) != ZM_OK)
		goto out;
	if (skipped > 0)
		cli_warnx(_("%llu unreadable records skipped"),
		    (unsigned long long)skipped);
	report_output(&rp, o, used);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warnx(_("cannot write the report: %s"), strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	r = ZM_OK;
 out:
	if (r != ZM_OK && r != ZM_ERR_IO)
		cli_warnx("%s", zm_strerror(r));
	free(line);
	free(rp.zones.v);
	free(rp.users.v);
	free(rp.ps.v);
	table_free(&rp.offhours);
	table_free(&rp.priv);
	table_free(&rp.locks);
	table_free(&rp.revtok);
	table_free(&rp.tempcode);
	table_free(&rp.clock);
	return r;
}
