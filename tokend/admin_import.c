/*
 * admin_import.c - the April personnel change (異動): IMPORT applies a
 * CSV file from the personnel system in one transaction.
 *
 *	user,action,groups,comment
 *	tanaka,add,lgwan-staff,新規採用 市民課
 *	suzuki,move,lgwan-staff mynumber-staff,税務課へ異動
 *	sato,leave,,退職
 *
 * add:   the account is registered (and enabled again if it was
 *        disabled); its tokens are issued at the helpdesk as usual.
 * leave: every token revoked (reason "leaver"), the account disabled,
 *        and its sessions -- the shared account sessions it opened
 *        included -- ended.
 * move:  zone access groups come from NSS (the directory), which the
 *        daemon does not write: the row is checked and audited with the
 *        new groups, and the reply lists the groups the account is in
 *        now but the file no longer names, for the directory to change.
 *
 * Every row is checked first (syntax, the user, the operator rules of
 * zm_operator_check() -- separation of duties holds for every row); one
 * bad row refuses the whole file with each bad row's line number, and
 * nothing changes.  Then all changes are one store transaction: all or
 * nothing.  Each row is audited (event "import", reason the action), a
 * leaver's revocation and disable as "revoke" and "disable" too.
 */
#include <config.h>

#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "names.h"
#include "server.h"
#include "store.h"
#include "tokend.h"

#define IMPORT_MAX_ROWS	5000
#define GROUPS_MAX	256
#define ERR_MAX		160

enum action { A_ADD, A_MOVE, A_LEAVE, A__N };
static const char *const action_names[A__N] = { "add", "move", "leave" };

struct irow {
	unsigned long	line;
	char		user[ZM_NAME_MAX];
	int		action;
	char		groups[GROUPS_MAX];
	char		err[ERR_MAX];		/* "" when the row is good */
	int		sod;			/* refused by the operator rules */
	int		status;			/* ZM_ST_* of that refusal */
	int64_t		*ids;			/* leave: revoked token ids */
	size_t		nids;
	int		was_disabled;
	char		note[ERR_MAX];		/* what changed / would change */
};

struct import_job {
	struct zm_deferred	 base;
	struct zm_buf		 rows;		/* ROW messages, built already */
	char			 summary[128];
	uint32_t		 nrows;
	int			 dry;
	int			 start_failed;
};

/* ---- the file ---- */

static int
utf8_valid(const unsigned char *p, size_t n)
{
	size_t	i = 0, k, len;
	unsigned c;

	while (i < n) {
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		/* No overlong forms, no surrogates, nothing past U+10FFFF. */
		if ((c == 0xe0 && p[i + 1] < 0xa0) ||
		    (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) ||
		    (c == 0xf4 && p[i + 1] > 0x8f))
			return 0;
		i += len;
	}
	return 1;
}

/*
 * Split one line (no newline) into at most max fields, RFC 4180 style:
 * a field may be quoted, "" in it is a quote.  Fields are written into
 * buf (NUL-separated).  Returns the number of fields or -1 (malformed).
 */
static int
csv_split(const char *s, size_t n, char *buf, size_t buflen, char **f,
    int max)
{
	size_t	i = 0, o = 0;
	int	nf = 0, quoted;

	for (;;) {
		if (nf == max)
			return -1;
		f[nf++] = buf + o;
		quoted = i < n && s[i] == '"';
		if (quoted)
			i++;
		for (;;) {
			if (i == n) {
				if (quoted)
					return -1;	/* unterminated */
				break;
			}
			if (quoted && s[i] == '"') {
				if (i + 1 < n && s[i + 1] == '"') {
					i++;
				} else {
					i++;
					if (i < n && s[i] != ',')
						return -1;
					break;
				}
			} else if (!quoted && s[i] == ',')
				break;
			else if (!quoted && s[i] == '"')
				return -1;
			if (o + 1 >= buflen)
				return -1;
			buf[o++] = s[i++];
		}
		if (o + 1 >= buflen)
			return -1;
		buf[o++] = '\0';
		if (i == n)
			return nf;
		i++;			/* the comma */
	}
}

static void
row_err(struct irow *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
row_err(struct irow *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

/* Blank-separated group names, each a valid name; copied normalised. */
static int
groups_parse(const char *in, char *out, size_t outlen)
{
	char	name[ZM_NAME_MAX];
	size_t	n, o = 0;

	out[0] = '\0';
	for (;;) {
		in += strspn(in, " \t");
		if (*in == '\0')
			return 0;
		n = strcspn(in, " \t");
		if (n >= sizeof(name))
			return -1;
		memcpy(name, in, n);
		name[n] = '\0';
		in += n;
		if (!zm_user_name_valid(name) || o + n + 2 > outlen)
			return -1;
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, name, n + 1);
		o += n;
	}
}

/*
 * Parse the whole file into rows.  A file-level problem (not UTF-8, no
 * header, too many rows) is ZM_ERR_INVALID with the message in why.
 */
static int
parse_file(const unsigned char *data, size_t len, struct irow **out,
    size_t *nout, char *why, size_t whylen)
{
	struct irow	*rows = NULL, *r;
	const char	*s = (const char *)data, *nl;
	char		 buf[1024], *f[8];
	size_t		 pos = 0, ll, n = 0, cap = 0;
	unsigned long	 line = 0;
	int		 nf, have_header = 0, ncol = 0, k;

	*out = NULL;
	*nout = 0;
	if (!utf8_valid(data, len)) {
		snprintf(why, whylen, "the file is not UTF-8 (save it as "
		    "UTF-8 CSV)");
		return ZM_ERR_INVALID;
	}
	/* Spreadsheets write a byte order mark: not part of the header. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	for (; pos < len; pos += ll + 1) {
		nl = memchr(s + pos, '\n', len - pos);
		ll = nl != NULL ? (size_t)(nl - (s + pos)) : len - pos;
		line++;
		k = (int)ll;
		if (k > 0 && s[pos + ll - 1] == '\r')
			k--;
		if (k == 0 || strspn(s + pos, " \t,") >= (size_t)k)
			continue;	/* blank (or only separators) */
		nf = (size_t)k >= sizeof(buf) ? -1 :
		    csv_split(s + pos, (size_t)k, buf, sizeof(buf), f, 8);
		if (!have_header) {
			if (nf < 3 || nf > 4 || strcmp(f[0], "user") != 0 ||
			    strcmp(f[1], "action") != 0 ||
			    strcmp(f[2], "groups") != 0 ||
			    (nf == 4 && strcmp(f[3], "comment") != 0)) {
				snprintf(why, whylen, "line %lu: the first "
				    "line must be the header "
				    "user,action,groups[,comment]", line);
				free(rows);
				return ZM_ERR_INVALID;
			}
			have_header = 1;
			ncol = nf;
			continue;
		}
		if (n == IMPORT_MAX_ROWS) {
			snprintf(why, whylen, "more than %d rows: split the "
			    "file", IMPORT_MAX_ROWS);
			free(rows);
			return ZM_ERR_INVALID;
		}
		if (n == cap) {
			struct irow *t;

			cap = cap == 0 ? 64 : cap * 2;
			if ((t = reallocarray(rows, cap, sizeof(*t))) == NULL) {
				free(rows);
				return ZM_ERR_NOMEM;
			}
			rows = t;
		}
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->line = line;
		r->action = -1;
		if (nf < 0) {
			row_err(r, "malformed CSV (quotes, or longer than %s "
			    "bytes)", "1000");
			continue;
		}
		if (nf != ncol && !(ncol == 4 && nf == 3)) {
			row_err(r, "%s", "expected the columns "
			    "user,action,groups[,comment]");
			continue;
		}
		if (!zm_user_name_valid(f[0])) {
			row_err(r, "invalid user name '%.64s'", f[0]);
			continue;
		}
		memcpy(r->user, f[0], strlen(f[0]) + 1);
		for (k = 0; k < A__N && strcmp(f[1], action_names[k]) != 0;
		    k++)
			;
		if (k == A__N) {
			row_err(r, "unknown action '%.32s' (expected add, move "
			    "or leave)", f[1]);
			continue;
		}
		r->action = k;
		if (groups_parse(f[2], r->groups, sizeof(r->groups)) != 0)
			row_err(r, "invalid groups '%.64s' (group names "
			    "separated by blanks)", f[2]);
	}
	if (!have_header) {
		snprintf(why, whylen, "the file is empty (expected the header "
		    "user,action,groups[,comment])");
		free(rows);
		return ZM_ERR_INVALID;
	}
	*out = rows;
	*nout = n;
	return ZM_OK;
}

/* ---- checks ---- */

/* The groups user is in now (NSS) that groups (the file's) does not name. */
static void
groups_dropped(const char *user, const char *groups, char *out, size_t outlen)
{
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gl[64];
	int		 ng = 64, i;
	size_t		 o = 0, n;
	const char	*p;

	out[0] = '\0';
	if ((pw = getpwnam(user)) == NULL ||
	    getgrouplist(user, pw->pw_gid, gl, &ng) < 0)
		return;
	for (i = 0; i < ng; i++) {
		if (gl[i] == pw->pw_gid || (gr = getgrgid(gl[i])) == NULL)
			continue;
		n = strlen(gr->gr_name);
		for (p = groups; (p = strstr(p, gr->gr_name)) != NULL; p++)
			if ((p == groups || p[-1] == ' ') &&
			    (p[n] == '\0' || p[n] == ' '))
				break;
		if (p != NULL || o + n + 2 > outlen)
			continue;
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, gr->gr_name, n + 1);
		o += n;
	}
}

static void
check_rows(struct zm_tokend *d, const struct zm_peer *peer, struct irow *rows,
    size_t n)
{
	struct zm_user_state	 us;
	const char		*why;
	size_t			 i, k;
	int			 st, r, known;

	for (i = 0; i < n; i++) {
		if (rows[i].err[0] != '\0')
			continue;
		for (k = 0; k < i; k++)
			if (strcmp(rows[k].user, rows[i].user) == 0)
				break;
		if (k < i) {
			snprintf(rows[i].err, sizeof(rows[i].err), "%s is "
			    "also at line %lu", rows[i].user, rows[k].line);
			continue;
		}
		/* Separation of duties: as if the operator did each by hand. */
		st = zm_operator_check(d->cfg, peer, rows[i].user, 0, &why);
		if (st != ZM_ST_OK) {
			snprintf(rows[i].err, sizeof(rows[i].err),
			    "separation of duties: %s", why);
			rows[i].sod = 1;
			rows[i].status = st;
			continue;
		}
		r = zm_store_user_get(d->st, rows[i].user, &us);
		known = r == ZM_OK;
		rows[i].was_disabled = known && us.disabled;
		if (r != ZM_OK && r != ZM_ERR_NOTFOUND) {
			snprintf(rows[i].err, sizeof(rows[i].err), "registry "
			    "error: %s", zm_strerror(r));
			continue;
		}
		/* A leaver may be gone from the directory already. */
		if (!zm_user_exists(rows[i].user) &&
		    (rows[i].action != A_LEAVE || !known))
			snprintf(rows[i].err, sizeof(rows[i].err), "no such "
			    "user %s", rows[i].user);
	}
}

/* ---- replies ---- */

static int
add_row(struct zm_buf *out, unsigned long line, const char *user,
    const char *action, const char *text)
{
	struct zm_buf	m;
	int		r;

	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_ROW)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT, (uint32_t)line)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_USER, user)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_KIND, action)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_TEXT, text)) == 0 &&
	    (r = zm_msg_end(&m)) == 0)
		r = zm_reply_append(out, &m);
	zm_buf_free(&m);
	return r;
}

static int
add_result(struct zm_buf *out, int status, uint32_t count, const char *text)
{
	struct zm_buf	m;
	int		r;

	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, (uint32_t)status)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT, count)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_TEXT, text)) == 0 &&
	    (r = zm_msg_end(&m)) == 0)
		r = zm_reply_append(out, &m);
	zm_buf_free(&m);
	return r;
}

static void
rows_free(struct irow *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n && rows != NULL; i++)
		free(rows[i].ids);
	free(rows);
}

/* A file refused as a whole: every bad row, one audit record, no change. */
static int
refuse_file(struct zm_tokend *d, const struct zm_peer *peer,
    struct irow *rows, size_t n, const char *why, struct zm_buf *reply)
{
	char		detail[256];
	size_t		i, bad = 0;
	unsigned long	first = 0;
	int		r, status = ZM_ST_INVALID;

	for (i = 0; i < n; i++) {
		if (rows[i].err[0] == '\0')
			continue;
		if (bad++ == 0)
			first = rows[i].line;
		if (rows[i].sod)
			status = rows[i].status;
		if ((r = add_row(reply, rows[i].line, rows[i].user,
		    rows[i].action >= 0 ? action_names[rows[i].action] : "",
		    rows[i].err)) != 0)
			return r;
	}
	if (why != NULL)
		snprintf(detail, sizeof(detail), "%s", why);
	else
		snprintf(detail, sizeof(detail), "%zu bad rows of %zu, first "
		    "at line %lu", bad, n, first);
	zm_notice("import by %s refused: %s", peer->name, detail);
	if (zm_audit_event(d->audit, "import", "", NULL, "refused",
	    status == ZM_ST_INVALID ? "bad rows" : "separation of duties",
	    NULL, peer->name, NULL, detail, 0) != 0)
		zm_err("import: audit write failed");
	return add_result(reply, status, (uint32_t)bad, detail);
}

/* ---- applying ---- */

static int
apply_rows(struct zm_tokend *d, struct irow *rows, size_t n, int64_t now)
{
	size_t	i;
	int	r;

	if ((r = zm_store_batch_begin(d->st)) != 0)
		return r;
	for (i = 0; i < n && r == ZM_OK; i++) {
		switch (rows[i].action) {
		case A_ADD:
			if ((r = zm_store_user_ensure(d->st, rows[i].user,
			    now)) == 0 && rows[i].was_disabled)
				r = zm_store_set_disabled(d->st, rows[i].user,
				    0, now);
			break;
		case A_LEAVE:
			r = zm_store_revoke(d->st, rows[i].user, 0, NULL,
			    "leaver", now, &rows[i].ids, &rows[i].nids);
			if (r == ZM_ERR_NOTFOUND)
				r = ZM_OK;	/* no token left */
			if (r == ZM_OK &&
			    (r = zm_store_user_ensure(d->st, rows[i].user,
			    now)) == 0)
				r = zm_store_set_disabled(d->st, rows[i].user,
				    1, now);
			break;
		default:
			break;		/* move: NSS holds the groups */
		}
	}
	if (r != ZM_OK) {
		(void)zm_store_batch_end(d->st, 0);
		return r;
	}
	return zm_store_batch_end(d->st, 1);
}

static void
ids_text(const int64_t *ids, size_t n, char *out, size_t outlen)
{
	size_t	i, o = 0;
	int	k;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(out + o, outlen - o, "%s%" PRId64, i ? " " : "",
		    ids[i]);
		if (k < 0 || (size_t)k >= outlen - o) {
			out[o] = '\0';
			return;
		}
		o += (size_t)k;
	}
}

/* A note snprintf() cut short (len: its return) ends in "...". */
static void
note_cut(char *note, size_t size, int len)
{
	if (len >= 0 && (size_t)len < size)
		return;
	if (len < 0)
		note[0] = '\0';
	else if (size > 4)
		memcpy(note + size - 4, "...", 4);
}

/* What a row did (or, dry, would do), into rows[i].note. */
static void
describe(struct zm_tokend *d, struct irow *r, int dry)
{
	struct zm_token	*t = NULL;
	char		 ids[96], dropped[GROUPS_MAX];
	size_t		 n = 0, i, active = 0;
	int		 len;

	switch (r->action) {
	case A_ADD:
		snprintf(r->note, sizeof(r->note), "%s%s", dry ?
		    "would register" : "registered", r->was_disabled ?
		    (dry ? " and enable again" : " and enabled again") : "");
		break;
	case A_LEAVE:
		if (dry) {
			if (zm_store_token_list(d->st, r->user, &t, &n) == 0)
				for (i = 0; i < n; i++)
					if (t[i].kind != ZM_TOK_TEMPCODE &&
					    (t[i].state == ZM_TS_ACTIVE ||
					    t[i].state == ZM_TS_SUSPENDED))
						active++;
			zm_tokens_free(t, n);
			snprintf(r->note, sizeof(r->note), "would revoke %zu "
			    "tokens (leaver), disable the account and end its "
			    "sessions", active);
		} else {
			ids_text(r->ids, r->nids, ids, sizeof(ids));
			len = snprintf(r->note, sizeof(r->note), "revoked %zu "
			    "tokens%s%s%s (leaver), disabled", r->nids,
			    r->nids ? " [" : "", ids, r->nids ? "]" : "");
			note_cut(r->note, sizeof(r->note), len);
		}
		break;
	default:
		groups_dropped(r->user, r->groups, dropped, sizeof(dropped));
		len = snprintf(r->note, sizeof(r->note), "zone access groups "
		    "are the directory's: set them to '%s'%s%s", r->groups,
		    dropped[0] ? "; remove from: " : "", dropped);
		note_cut(r->note, sizeof(r->note), len);
		break;
	}
}

/*
 * One record per row (and a leaver's revoke and disable records), with
 * one flush at the end: the registry's audit-pending marks are cleared
 * only once the last record is durable, so a crash before that has the
 * daemon record them again at the next start (R15).
 */
static void
audit_rows(struct zm_tokend *d, const struct zm_peer *peer,
    struct irow *rows, size_t n)
{
	char	detail[256], ids[96];
	size_t	i, k;
	int	r = ZM_OK, v;

	for (i = 0; i < n; i++) {
		if (rows[i].action == A_LEAVE) {
			for (k = 0; k < rows[i].nids; k++) {
				snprintf(ids, sizeof(ids), "%" PRId64,
				    rows[i].ids[k]);
				if ((v = zm_audit_event(d->audit, "revoke",
				    rows[i].user, NULL, "ok", "leaver", NULL,
				    peer->name, ids, "import", 0)) != 0)
					r = v;
			}
			if ((v = zm_audit_event(d->audit, "disable",
			    rows[i].user, NULL, "ok", "leaver", NULL,
			    peer->name, NULL, "import", 0)) != 0)
				r = v;
		} else if (rows[i].action == A_ADD && rows[i].was_disabled &&
		    (v = zm_audit_event(d->audit, "enable", rows[i].user, NULL,
		    "ok", "", NULL, peer->name, NULL, "import", 0)) != 0)
			r = v;
		snprintf(detail, sizeof(detail), "line %lu; groups '%s'; %s",
		    rows[i].line, rows[i].groups, rows[i].note);
		if ((v = zm_audit_event(d->audit, "import", rows[i].user,
		    NULL, "ok", action_names[rows[i].action], NULL,
		    peer->name, NULL, detail, i + 1 == n)) != 0)
			r = v;
	}
	if (r != ZM_OK) {
		zm_err("import: audit write failed: %s (kept as pending)",
		    zm_strerror(r));
		return;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < rows[i].nids; k++)
			(void)zm_store_audit_done(d->st, rows[i].ids[k],
			    rows[i].user);
		if (rows[i].action == A_LEAVE ||
		    (rows[i].action == A_ADD && rows[i].was_disabled))
			(void)zm_store_audit_done(d->st, 0, rows[i].user);
	}
}

/* The open sessions of leavers: theirs and the shared ones they opened. */
static int
leaver_sessions(struct zm_tokend *d, const struct irow *rows, size_t n,
    struct zm_session **out, size_t *nout)
{
	struct zm_session	*open = NULL;
	struct zm_token		 t;
	size_t			 no = 0, i, k, m = 0;
	const char		*owner;
	int			 r;

	*out = NULL;
	*nout = 0;
	if ((r = zm_store_sessions_open_list(d->st, NULL, 0, &open,
	    &no)) != 0)
		return r;
	for (i = 0; i < no; i++) {
		memset(&t, 0, sizeof(t));
		owner = NULL;
		if (open[i].token_id > 0 && zm_store_token_get(d->st,
		    open[i].token_id, &t) == ZM_OK)
			owner = t.user;
		for (k = 0; k < n; k++)
			if (rows[k].action == A_LEAVE &&
			    (strcmp(open[i].user, rows[k].user) == 0 ||
			    (owner != NULL && strcmp(owner, rows[k].user) == 0)))
				break;
		zm_token_clear(&t);
		if (k < n)
			open[m++] = open[i];
	}
	*out = open;
	*nout = m;
	return ZM_OK;
}

static int
import_finish(struct zm_tokend *d, struct zm_deferred *df,
    struct zm_buf *reply)
{
	struct import_job	*j = (struct import_job *)df;
	char			 text[192];
	unsigned		 ended = 0, failed = 0;
	int			 r;

	(void)d;
	if (df->ending != NULL)
		zm_ending_counts(df->ending, &ended, &failed);
	if (j->start_failed)
		failed++;
	if (j->dry)
		snprintf(text, sizeof(text), "%s", j->summary);
	else
		snprintf(text, sizeof(text), "%s; sessions ended %u%s",
		    j->summary, ended, failed ? " (some could not be ended)" :
		    "");
	if ((r = zm_buf_put(reply, j->rows.data, j->rows.len)) != 0)
		return r;
	return add_result(reply, failed ? ZM_ST_PARTIAL : ZM_ST_OK,
	    j->nrows, text);
}

static void
import_free(struct zm_deferred *df)
{
	struct import_job *j = (struct import_job *)df;

	if (j == NULL)
		return;
	zm_ending_free(df->ending);
	zm_buf_free(&j->rows);
	free(j);
}

static const struct zm_field *
field(const struct zm_msg *m, uint16_t tag)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->f[i].tag == tag)
			return &m->f[i];
	return NULL;
}

int
zm_admin_import_deferred(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply, struct zm_deferred **df)
{
	const struct zm_field	*data;
	struct import_job	*j = NULL;
	struct irow		*rows = NULL;
	struct zm_session	*ends = NULL;
	size_t			 n = 0, i, nends = 0, count[A__N] = { 0 };
	uint32_t		 flags = 0;
	char			 why[160];
	int			 dry, bad = 0, r;
	int64_t			 now = zm_now();

	*df = NULL;
	if ((data = field(req, ZM_T_DATA)) == NULL)
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0,
		    0);
	(void)zm_msg_get_u32(req, ZM_T_FLAGS, &flags);
	dry = (flags & ZM_IMPORT_DRY_RUN) != 0;
	if ((r = parse_file(data->val, data->len, &rows, &n, why,
	    sizeof(why))) == ZM_ERR_INVALID)
		return refuse_file(d, peer, NULL, 0, why, reply);
	if (r != 0)
		return r;
	check_rows(d, peer, rows, n);
	for (i = 0; i < n; i++)
		bad += rows[i].err[0] != '\0';
	if (bad > 0) {
		r = refuse_file(d, peer, rows, n, NULL, reply);
		goto out;
	}
	if (!dry && (r = apply_rows(d, rows, n, now)) != 0) {
		zm_err("import by %s: registry error, nothing changed: %s",
		    peer->name, zm_strerror(r));
		(void)zm_audit_event(d->audit, "import", "", NULL, "error",
		    "registry error", NULL, peer->name, NULL,
		    "nothing changed", 0);
		r = zm_reply_result(reply, ZM_ST_INTERNAL, ZM_MSG_INTERNAL, 0,
		    0);
		goto out;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	zm_buf_init(&j->rows, (size_t)32 * 1024 * 1024);
	j->base.finish = import_finish;
	j->base.free = import_free;
	for (i = 0; i < n; i++) {
		count[rows[i].action]++;
		describe(d, &rows[i], dry);
		if ((r = add_row(&j->rows, rows[i].line, rows[i].user,
		    action_names[rows[i].action], rows[i].note)) != 0)
			goto out;
	}
	j->nrows = (uint32_t)n;
	j->dry = dry;
	snprintf(j->summary, sizeof(j->summary), "%s%zu rows: add %zu, move "
	    "%zu, leave %zu", dry ? "dry run, nothing changed: " : "", n,
	    count[A_ADD], count[A_MOVE], count[A_LEAVE]);
	if (dry) {
		r = import_finish(d, &j->base, reply);
		goto out;
	}
	audit_rows(d, peer, rows, n);
	zm_info("import by %s: %s", peer->name, j->summary);
	/* The registry says so already; now the leavers' sessions end. */
	if (leaver_sessions(d, rows, n, &ends, &nends) != 0)
		j->start_failed = 1;
	else if (nends > 0 && zm_ending_start_list(d, ends, nends, "leaver",
	    &j->base.ending) != 0)
		j->start_failed = 1;
	*df = &j->base;
	j = NULL;
	r = ZM_OK;
 out:
	free(ends);
	import_free(j ? &j->base : NULL);
	rows_free(rows, n);
	return r;
}
