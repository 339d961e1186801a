/*
 * store_sqlite.c - the embedded registry (SQLite, WAL).
 *
 * Every operation that must be atomic is a single statement or a single
 * BEGIN IMMEDIATE transaction, so several daemons (or a daemon and a CLI)
 * sharing one file never lose an update: there is no read-modify-write
 * across statements.  The write lock is taken at BEGIN (IMMEDIATE), never
 * upgraded from a read lock, so busy_timeout always applies and no
 * transaction fails with SQLITE_BUSY half way.
 *
 * Commits on the login path use synchronous=NORMAL (a power cut may lose
 * the last few logins' bookkeeping, never corrupt the file); enrolment,
 * revocation and disabling switch to FULL around their commit so they are
 * on disk before the caller acknowledges them.
 *
 * Any SQLite error is logged with the operation and sqlite3_errmsg() and
 * becomes ZM_ERR_STORE: callers fail closed.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "wipe.h"

/* Upper bounds for blobs we accept from callers (sealed seed, card data). */
#define SECRET_MAX	4096
#define DATA_MAX	(256 * 1024)

/*
 * Schema migrations: migrations[v] takes the database from version v to
 * v + 1.  Append only; never edit a released step.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
	"CREATE TABLE users ("
	" name TEXT PRIMARY KEY NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" locked_until INTEGER NOT NULL DEFAULT 0,"
	" last_success INTEGER NOT NULL DEFAULT 0,"
	" last_from TEXT NOT NULL DEFAULT '',"
	" last_logout INTEGER NOT NULL DEFAULT 0,"
	" failures_since INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL DEFAULT 0,"
	" enabled_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	/* AUTOINCREMENT: a token id named in the audit log is never reused. */
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user TEXT NOT NULL REFERENCES users(name),"
	" kind INTEGER NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" label TEXT NOT NULL DEFAULT '',"
	" ident TEXT NOT NULL DEFAULT '',"
	" secret BLOB,"
	" algo TEXT NOT NULL DEFAULT '',"
	" digits INTEGER NOT NULL DEFAULT 0,"
	" period INTEGER NOT NULL DEFAULT 0,"
	" last_step INTEGER NOT NULL DEFAULT -1,"
	" data BLOB,"
	" counter INTEGER NOT NULL DEFAULT 0,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL DEFAULT 0,"
	" last_used INTEGER NOT NULL DEFAULT 0,"
	" revoked_at INTEGER NOT NULL DEFAULT 0,"
	" revoke_reason TEXT NOT NULL DEFAULT '',"
	" enrolled_by TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX tokens_user ON tokens(user);"
	/* Any state: a revoked card can never be enrolled again (R3, R6). */
	"CREATE UNIQUE INDEX tokens_ident ON tokens(kind, ident) WHERE ident <> '';"
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user TEXT NOT NULL,"
	" zone TEXT NOT NULL DEFAULT '',"
	" terminal TEXT NOT NULL DEFAULT '',"
	" tty TEXT NOT NULL DEFAULT '',"
	" rhost TEXT NOT NULL DEFAULT '',"
	" service TEXT NOT NULL DEFAULT '',"
	" logind_id TEXT NOT NULL DEFAULT '',"
	" token_id INTEGER NOT NULL DEFAULT 0,"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" pid_starttime INTEGER NOT NULL DEFAULT 0,"
	" privileged INTEGER NOT NULL DEFAULT 0,"
	" opened INTEGER NOT NULL DEFAULT 0,"
	" closed INTEGER NOT NULL DEFAULT 0,"
	" close_reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX sessions_open ON sessions(closed, token_id);"
	"CREATE INDEX sessions_user ON sessions(user);"
	"CREATE TABLE audit_head ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" seq INTEGER NOT NULL,"
	" hash TEXT NOT NULL);"
	"INSERT INTO audit_head VALUES (1, 0, '"
	"0000000000000000000000000000000000000000000000000000000000000000');",
};
#define SCHEMA_VERSION	((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

#define USER_COLS	"name, disabled, failures, locked_until, last_success, " \
	"last_from, last_logout, failures_since, created, enabled_at"
#define TOKEN_COLS	"id, user, kind, state, label, ident, secret, algo, " \
	"digits, period, last_step, data, counter, flags, created, last_used, " \
	"revoked_at, revoke_reason, enrolled_by"
#define SESSION_COLS	"id, user, zone, terminal, tty, rhost, service, " \
	"logind_id, token_id, pid, pid_starttime, privileged, opened, closed, " \
	"close_reason"
/* A timed lock that has run out gives a fresh set of attempts. */
#define LOCK_EXPIRED	"(locked_until > 0 AND locked_until <= ?2)"
#define REVOKE_SET	"UPDATE tokens SET state = 1, revoked_at = ?2, " \
	"revoke_reason = ?3 WHERE user = ?1 AND state IN (0, 3)"

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_USER_GET, S_USER_ENSURE, S_USER_LIST,
	S_TOKEN_INSERT, S_TOKEN_GET, S_TOKEN_LIST_ALL, S_TOKEN_LIST_USER,
	S_TOKEN_FIND_IDENT, S_IDENT_TAKEN, S_TOTP_ADVANCE, S_TOKEN_STATE,
	S_FAIL_UPSERT, S_FAIL_LOCK, S_FAIL_READ, S_SUCCESS, S_TOKEN_USED,
	S_UNLOCK, S_SET_DISABLED, S_REVOKE_ID, S_REVOKE_IDENT, S_REVOKE_ALL,
	S_REPLACE_KIND,
	S_SESSION_INSERT, S_SESSION_CLOSE, S_SESSION_EXISTS, S_LOGOUT,
	S_SESSION_GET, S_SESSION_LIST, S_AUDIT_GET, S_AUDIT_SET,
	S_FIDO_ADVANCE, S_FIDO_STATE, S_TOKEN_SET_STATE,
	S__MAX
};

static const char *const sql[S__MAX] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_USER_GET] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
	[S_USER_ENSURE] = "INSERT INTO users (name, created) VALUES (?1, ?2) "
	    "ON CONFLICT (name) DO NOTHING",
	[S_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
	[S_TOKEN_INSERT] = "INSERT INTO tokens (user, kind, state, label, ident, "
	    "secret, algo, digits, period, last_step, data, counter, flags, "
	    "created, last_used, revoked_at, revoke_reason, enrolled_by) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
	    "?16, ?17, ?18)",
	[S_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1",
	[S_TOKEN_LIST_ALL] = "SELECT " TOKEN_COLS " FROM tokens ORDER BY id",
	[S_TOKEN_LIST_USER] = "SELECT " TOKEN_COLS " FROM tokens WHERE user = ?1 "
	    "ORDER BY id",
	/* "ident <> ''" lets the planner use the partial unique index. */
	[S_TOKEN_FIND_IDENT] = "SELECT " TOKEN_COLS " FROM tokens WHERE kind = ?1 "
	    "AND ident = ?2 AND ident <> ''",
	[S_IDENT_TAKEN] = "SELECT 1 FROM tokens WHERE kind = ?1 AND ident = ?2 "
	    "AND ident <> ''",
	[S_TOTP_ADVANCE] = "UPDATE tokens SET last_step = ?1, last_used = ?2 "
	    "WHERE id = ?3 AND kind = 1 AND state = 0 AND last_step < ?1",
	[S_TOKEN_STATE] = "SELECT state, kind FROM tokens WHERE id = ?1",
	[S_FAIL_UPSERT] = "INSERT INTO users (name, failures, failures_since, "
	    "created) VALUES (?1, 1, 1, ?2) ON CONFLICT (name) DO UPDATE SET "
	    "failures = CASE WHEN " LOCK_EXPIRED " THEN 1 ELSE failures + 1 END, "
	    "failures_since = failures_since + 1, "
	    "locked_until = CASE WHEN " LOCK_EXPIRED " THEN 0 ELSE locked_until END",
	[S_FAIL_LOCK] = "UPDATE users SET locked_until = ?2 WHERE name = ?1 "
	    "AND ?3 > 0 AND failures >= ?3 AND locked_until = 0",
	[S_FAIL_READ] = "SELECT failures, locked_until FROM users WHERE name = ?1",
	[S_SUCCESS] = "INSERT INTO users (name, created, last_success, last_from) "
	    "VALUES (?1, ?2, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
	    "failures = 0, failures_since = 0, last_success = ?2, last_from = ?3, "
	    "locked_until = CASE WHEN " LOCK_EXPIRED " THEN 0 ELSE locked_until END",
	[S_TOKEN_USED] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1 "
	    "AND user = ?3 AND last_used < ?2",
	[S_UNLOCK] = "UPDATE users SET failures = 0, locked_until = 0 WHERE name = ?1",
	[S_SET_DISABLED] = "INSERT INTO users (name, created, disabled) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET disabled = ?3, "
	    "enabled_at = CASE WHEN ?3 = 0 THEN ?2 ELSE enabled_at END",
	[S_REVOKE_ID] = REVOKE_SET " AND id = ?4 RETURNING id",
	[S_REVOKE_IDENT] = REVOKE_SET " AND ident = ?4 AND ident <> '' RETURNING id",
	[S_REVOKE_ALL] = REVOKE_SET " RETURNING id",
	[S_REPLACE_KIND] = "UPDATE tokens SET state = 2, revoked_at = ?2, "
	    "revoke_reason = 'replaced' WHERE user = ?1 AND kind = ?3 "
	    "AND state IN (0, 3) RETURNING id",
	[S_SESSION_INSERT] = "INSERT INTO sessions (user, zone, terminal, tty, "
	    "rhost, service, logind_id, token_id, pid, pid_starttime, privileged, "
	    "opened) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_SESSION_CLOSE] = "UPDATE sessions SET closed = ?2, close_reason = ?3 "
	    "WHERE id = ?1 AND closed = 0 RETURNING user",
	[S_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = ?1",
	[S_LOGOUT] = "UPDATE users SET last_logout = ?2 WHERE name = ?1",
	[S_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1",
	[S_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions WHERE closed = 0 "
	    "AND (?1 IS NULL OR user = ?1) AND (?2 = 0 OR token_id = ?2) ORDER BY id",
	[S_AUDIT_GET] = "SELECT seq, hash FROM audit_head WHERE id = 1",
	[S_AUDIT_SET] = "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
	/*
	 * WebAuthn: the counter must grow; a key that has never counted
	 * (stored 0) may keep reporting 0, but once it counted a 0 is as
	 * suspect as any other value that does not grow.
	 */
	[S_FIDO_ADVANCE] = "UPDATE tokens SET counter = ?2, last_used = ?3 "
	    "WHERE id = ?1 AND kind = 3 AND state = 0 AND "
	    "((?2 = 0 AND counter = 0) OR counter < ?2)",
	[S_FIDO_STATE] = "SELECT state, kind, counter FROM tokens WHERE id = ?1",
	/* Only an active token changes state here: a revocation is final. */
	[S_TOKEN_SET_STATE] = "UPDATE tokens SET state = ?2, revoked_at = ?3, "
	    "revoke_reason = ?4 WHERE id = ?1 AND state = 0",
};

struct sq {
	struct zm_store	 base;		/* first: store.c dispatches on it */
	sqlite3		*db;
	sqlite3_stmt	*stmt[S__MAX];	/* prepared on first use, kept */
	int		 batch;		/* inside batch_begin/batch_end */
};

#define SQ(st)		((struct sq *)(void *)(st))
#define FIELD_SIZE(type, f)	sizeof(((type *)0)->f)

/* Returns the cached statement (reset, unbound), or NULL (logged). */
static sqlite3_stmt *
stmt(struct sq *s, enum stmt_id id)
{
	if (s->stmt[id] == NULL &&
	    sqlite3_prepare_v3(s->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
	    &s->stmt[id], NULL) != SQLITE_OK) {
		zm_err("prepare \"%.40s\": %s", sql[id], sqlite3_errmsg(s->db));
		s->stmt[id] = NULL;
	}
	return s->stmt[id];
}

/* Statements must be reset at once or they pin a WAL read snapshot. */
static void
done(sqlite3_stmt *q)
{
	if (q == NULL)
		return;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/*
 * Binds the arguments described by fmt to ?1, ?2, ... and steps once:
 * 's' text (NULL binds NULL), 'i' int64_t, 'b' blob (pointer, size_t).
 * Returns SQLite's result; an error is logged under the caller's name
 * (a UNIQUE violation is left to the caller, which reports it as EXISTS).
 * *qp is for reading the row; the caller hands it to done().
 */
static int
vstep(struct sq *s, const char *func, enum stmt_id id, sqlite3_stmt **qp,
    const char *fmt, va_list ap)
{
	sqlite3_stmt	*q;
	const void	*b;
	size_t		 len;
	int		 i, rc = SQLITE_OK;

	if ((*qp = q = stmt(s, id)) == NULL)
		return SQLITE_ERROR;
	for (i = 1; rc == SQLITE_OK && fmt[i - 1] != '\0'; i++) {
		switch (fmt[i - 1]) {
		case 's':
			rc = sqlite3_bind_text(q, i, va_arg(ap, const char *), -1,
			    SQLITE_STATIC);
			break;
		case 'i':
			rc = sqlite3_bind_int64(q, i, va_arg(ap, int64_t));
			break;
		case 'b':
			b = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			rc = sqlite3_bind_blob(q, i, b, (int)len, SQLITE_STATIC);
			break;
		default:
			rc = SQLITE_MISUSE;
			break;
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE &&
	    sqlite3_extended_errcode(s->db) != SQLITE_CONSTRAINT_UNIQUE)
		zm_log_raw(LOG_ERR, func, "\"%.40s\": %s", sql[id],
		    sqlite3_errmsg(s->db));
	return rc;
}

static int
step_(struct sq *s, const char *func, enum stmt_id id, sqlite3_stmt **qp,
    const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = vstep(s, func, id, qp, fmt, ap);
	va_end(ap);
	return rc;
}

/* Runs a statement for its effect: 0 or ZM_ERR_STORE (logged). */
static int
exec_(struct sq *s, const char *func, enum stmt_id id, const char *fmt, ...)
{
	sqlite3_stmt	*q;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = vstep(s, func, id, &q, fmt, ap);
	va_end(ap);
	done(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : ZM_ERR_STORE;
}

#define STEP(s, id, qp, ...)	step_((s), __func__, (id), (qp), __VA_ARGS__)
#define EXEC(s, id, ...)	exec_((s), __func__, (id), __VA_ARGS__)

/*
 * Not a cached statement: SQLite applies PRAGMA synchronous when the
 * statement is compiled, so re-running a prepared one changes nothing.
 */
static int
set_sync(struct sq *s, int full)
{
	const char	*text = full ? "PRAGMA synchronous = FULL" :
			    "PRAGMA synchronous = NORMAL";

	if (sqlite3_exec(s->db, text, NULL, NULL, NULL) != SQLITE_OK) {
		zm_err("%s: %s", text, sqlite3_errmsg(s->db));
		return ZM_ERR_STORE;
	}
	return 0;
}

/*
 * A write transaction; durable: synchronous=FULL around the commit, so it
 * is fsync'd before the caller acknowledges it.  Inside a batch the batch
 * is the transaction.  No savepoints there (they made bulk loads four
 * times slower): every operation either fails before it writes (say a
 * duplicate card) or fails with ZM_ERR_STORE, after which the caller
 * ends the batch with commit = 0.
 */
static int
tx_begin(struct sq *s, int durable)
{
	int	r;

	if (s->batch)
		return 0;
	if (durable && (r = set_sync(s, 1)) != 0)
		return r;
	if ((r = EXEC(s, S_BEGIN, "")) != 0 && durable)
		(void)set_sync(s, 0);
	return r;
}

/* Ends the transaction; returns r, or the commit's error when r was 0. */
static int
tx_end(struct sq *s, int r, int durable)
{
	int	e = 0;

	if (s->batch)
		return r;
	if (r == 0)
		e = EXEC(s, S_COMMIT, "");
	if ((r != 0 || e != 0) && !sqlite3_get_autocommit(s->db))
		(void)EXEC(s, S_ROLLBACK, "");
	if (durable)
		(void)set_sync(s, 0);
	return r != 0 ? r : e;
}

/* Copies a TEXT column into a fixed array; too long means a corrupt row. */
static int
col_str(sqlite3_stmt *q, int i, char *dst, size_t n)
{
	const unsigned char	*p = sqlite3_column_text(q, i);
	size_t			 len = (size_t)sqlite3_column_bytes(q, i);

	dst[0] = '\0';
	if (p == NULL)
		return sqlite3_column_type(q, i) == SQLITE_NULL ? 0 : ZM_ERR_NOMEM;
	if (len >= n) {
		zm_err("column %d: value of %zu bytes exceeds %zu", i, len, n - 1);
		return ZM_ERR_STORE;
	}
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

static int
col_blob(sqlite3_stmt *q, int i, uint8_t **dst, size_t *n)
{
	const void	*p = sqlite3_column_blob(q, i);
	size_t		 len = (size_t)sqlite3_column_bytes(q, i);

	*dst = NULL;
	*n = 0;
	if (p == NULL || len == 0)
		return 0;
	if ((*dst = malloc(len)) == NULL)
		return ZM_ERR_NOMEM;
	memcpy(*dst, p, len);
	*n = len;
	return 0;
}

static int
row_user(sqlite3_stmt *q, void *p)
{
	struct zm_user_state	*u = p;
	int			 r;

	memset(u, 0, sizeof(*u));
	u->disabled = sqlite3_column_int(q, 1);
	u->failures = (uint32_t)sqlite3_column_int64(q, 2);
	u->locked_until = sqlite3_column_int64(q, 3);
	u->last_success = sqlite3_column_int64(q, 4);
	u->last_logout = sqlite3_column_int64(q, 6);
	u->failures_since = (uint32_t)sqlite3_column_int64(q, 7);
	u->created = sqlite3_column_int64(q, 8);
	u->enabled_at = sqlite3_column_int64(q, 9);
	if ((r = col_str(q, 0, u->user, sizeof(u->user))) != 0 ||
	    (r = col_str(q, 5, u->last_from, sizeof(u->last_from))) != 0)
		return r;
	return 0;
}

static int
row_token(sqlite3_stmt *q, void *p)
{
	struct zm_token	*t = p;
	int		 r;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(q, 0);
	t->kind = sqlite3_column_int(q, 2);
	t->state = sqlite3_column_int(q, 3);
	t->digits = (unsigned)sqlite3_column_int(q, 8);
	t->period = (unsigned)sqlite3_column_int(q, 9);
	t->last_step = sqlite3_column_int64(q, 10);
	t->counter = (uint32_t)sqlite3_column_int64(q, 12);
	t->flags = (unsigned)sqlite3_column_int64(q, 13);
	t->created = sqlite3_column_int64(q, 14);
	t->last_used = sqlite3_column_int64(q, 15);
	t->revoked_at = sqlite3_column_int64(q, 16);
	if ((r = col_str(q, 1, t->user, sizeof(t->user))) != 0 ||
	    (r = col_str(q, 4, t->label, sizeof(t->label))) != 0 ||
	    (r = col_str(q, 5, t->ident, sizeof(t->ident))) != 0 ||
	    (r = col_str(q, 7, t->algo, sizeof(t->algo))) != 0 ||
	    (r = col_str(q, 17, t->revoke_reason, sizeof(t->revoke_reason))) != 0 ||
	    (r = col_str(q, 18, t->enrolled_by, sizeof(t->enrolled_by))) != 0 ||
	    (r = col_blob(q, 6, &t->secret, &t->secret_len)) != 0 ||
	    (r = col_blob(q, 11, &t->data, &t->data_len)) != 0)
		zm_token_clear(t);
	return r;
}

static int
row_session(sqlite3_stmt *q, void *p)
{
	struct zm_session	*x = p;
	int			 r;

	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, 0);
	x->token_id = sqlite3_column_int64(q, 8);
	x->pid = (int32_t)sqlite3_column_int64(q, 9);
	x->pid_starttime = (uint64_t)sqlite3_column_int64(q, 10);
	x->privileged = sqlite3_column_int(q, 11);
	x->opened = sqlite3_column_int64(q, 12);
	x->closed = sqlite3_column_int64(q, 13);
	if ((r = col_str(q, 1, x->user, sizeof(x->user))) != 0 ||
	    (r = col_str(q, 2, x->zone, sizeof(x->zone))) != 0 ||
	    (r = col_str(q, 3, x->terminal, sizeof(x->terminal))) != 0 ||
	    (r = col_str(q, 4, x->tty, sizeof(x->tty))) != 0 ||
	    (r = col_str(q, 5, x->rhost, sizeof(x->rhost))) != 0 ||
	    (r = col_str(q, 6, x->service, sizeof(x->service))) != 0 ||
	    (r = col_str(q, 7, x->logind_id, sizeof(x->logind_id))) != 0 ||
	    (r = col_str(q, 14, x->close_reason, sizeof(x->close_reason))) != 0)
		return r;
	return 0;
}

/* The single row of a lookup: ZM_ERR_NOTFOUND when there is none. */
static int
fetch_one(sqlite3_stmt *q, int rc, int (*row)(sqlite3_stmt *, void *), void *out)
{
	int	r;

	if (rc == SQLITE_ROW)
		r = row(q, out);
	else
		r = rc == SQLITE_DONE ? ZM_ERR_NOTFOUND : ZM_ERR_STORE;
	done(q);
	return r;
}

/*
 * Every row into a malloc'd array.  On error *arr holds the *n rows read
 * so far, for the caller's destructor.
 */
static int
fetch_all(struct sq *s, sqlite3_stmt *q, int rc, size_t elsz,
    int (*row)(sqlite3_stmt *, void *), void **arr, size_t *n)
{
	size_t	 cap = 0, ncap;
	void	*p;
	int	 r = 0;

	*arr = NULL;
	*n = 0;
	while (r == 0 && rc == SQLITE_ROW) {
		if (*n == cap) {
			ncap = cap == 0 ? 8 : cap * 2;
			if (ncap > SIZE_MAX / elsz ||
			    (p = realloc(*arr, ncap * elsz)) == NULL) {
				r = ZM_ERR_NOMEM;
				break;
			}
			*arr = p;
			cap = ncap;
		}
		if ((r = row(q, (char *)*arr + *n * elsz)) != 0)
			break;
		(*n)++;
		if ((rc = sqlite3_step(q)) != SQLITE_ROW && rc != SQLITE_DONE)
			zm_err("%s", sqlite3_errmsg(s->db));
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = ZM_ERR_STORE;	/* logged by STEP or above */
	done(q);
	return r;
}

/* A string that fits a field of n bytes (NUL included); empty allowed. */
static int
fits(const char *v, size_t n)
{
	return v != NULL && strnlen(v, n) < n;
}

static int
user_ok(const char *user)
{
	return fits(user, ZM_NAME_MAX) && user[0] != '\0';
}

/* ---- open, schema ---- */

static int
schema_version(struct sq *s, int64_t *version)
{
	sqlite3_stmt	*q = NULL;
	const char	*v;
	char		*end;
	long long	 n;
	int		 rc, r = ZM_ERR_STORE;

	*version = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'meta'", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		zm_err("schema lookup: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	if (sqlite3_column_int(q, 0) == 0) {
		r = 0;		/* a new, empty database */
		goto out;
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = "
	    "'schema_version'", -1, &q, NULL) != SQLITE_OK ||
	    (rc = sqlite3_step(q)) == SQLITE_ERROR) {
		zm_err("schema version: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
	if (v == NULL) {
		zm_err("registry has no schema_version");
		goto out;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 1) {
		zm_err("registry schema_version \"%.20s\" is not valid", v);
		goto out;
	}
	*version = n;
	r = 0;
out:
	sqlite3_finalize(q);
	return r;
}

/*
 * Brings the schema up to SCHEMA_VERSION in one transaction, so concurrent
 * first starts cannot both create it.  A newer schema is refused: this
 * program would not know what its columns mean.
 */
static int
migrate(struct sq *s)
{
	sqlite3_stmt	*q = NULL;
	char		*msg = NULL;
	int64_t		 v, from;
	int		 r;

	if ((r = tx_begin(s, 1)) != 0)
		return r;
	if ((r = schema_version(s, &from)) != 0)
		goto out;
	r = ZM_ERR_STORE;
	if (from > SCHEMA_VERSION) {
		zm_err("registry schema version %" PRId64 " is newer than "
		    "supported (%" PRId64 "); refusing to use it", from,
		    SCHEMA_VERSION);
		goto out;
	}
	for (v = from; v < SCHEMA_VERSION; v++) {
		if (sqlite3_exec(s->db, migrations[v], NULL, NULL, &msg) !=
		    SQLITE_OK) {
			zm_err("migration to schema %" PRId64 ": %s", v + 1,
			    msg != NULL ? msg : "?");
			goto out;
		}
	}
	if (from < SCHEMA_VERSION) {
		if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta "
		    "VALUES ('schema_version', ?1)", -1, &q, NULL) != SQLITE_OK ||
		    sqlite3_bind_int64(q, 1, SCHEMA_VERSION) != SQLITE_OK ||
		    sqlite3_step(q) != SQLITE_DONE) {
			zm_err("record schema version: %s", sqlite3_errmsg(s->db));
			goto out;
		}
		zm_info("registry schema %" PRId64 " -> %" PRId64, from,
		    SCHEMA_VERSION);
	}
	r = 0;
out:
	sqlite3_finalize(q);
	sqlite3_free(msg);
	return tx_end(s, r, 1);
}

static void
sq_close(struct zm_store *st)
{
	struct sq	*s = SQ(st);
	size_t		 i;

	if (s == NULL)
		return;
	if (s->db != NULL && !sqlite3_get_autocommit(s->db))
		(void)EXEC(s, S_ROLLBACK, "");	/* an unfinished batch */
	for (i = 0; i < S__MAX; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		zm_err("close: %s", sqlite3_errmsg(s->db));
	free(s);
}

/*
 * We create the file ourselves (0600, no symlink): SQLite would use
 * 0644 & ~umask, and its -wal/-shm files copy the database's mode.
 */
static int
create_file(const char *path)
{
	struct stat	sb;
	int		fd, r = ZM_ERR_STORE;

	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1) {
		zm_err("%s: %s", path, strerror(errno));
		return ZM_ERR_STORE;
	}
	if (fstat(fd, &sb) == -1)
		zm_err("%s: %s", path, strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		zm_err("%s: not a regular file", path);
	else if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		/* Lock state lives here: writable means anyone can unlock. */
		zm_err("%s: writable by group or others; refusing", path);
		r = ZM_ERR_PERM;
	} else
		r = 0;
	close(fd);
	return r;
}

static int
pragma(struct sq *s, const char *text, const char *want)
{
	sqlite3_stmt		*q = NULL;
	const unsigned char	*v;
	int			 rc, r = ZM_ERR_STORE;

	if (sqlite3_prepare_v2(s->db, text, -1, &q, NULL) != SQLITE_OK ||
	    ((rc = sqlite3_step(q)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		zm_err("%s: %s", text, sqlite3_errmsg(s->db));
		goto out;
	}
	if (want != NULL && (rc != SQLITE_ROW ||
	    (v = sqlite3_column_text(q, 0)) == NULL ||
	    strcmp((const char *)v, want) != 0))
		zm_warn("%s: not in effect", text);
	r = 0;
out:
	sqlite3_finalize(q);
	return r;
}

static int
sq_open(const char *path, struct zm_store **out)
{
	struct sq	*s = NULL;
	int		 r = ZM_ERR_STORE;

	if ((r = create_file(path)) != 0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZM_ERR_NOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		zm_err("open %s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "out of memory");
		r = ZM_ERR_STORE;
		goto out;
	}
	/* A corrupt or foreign file fails here, on its first read. */
	if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
	    (r = pragma(s, "PRAGMA journal_mode = WAL", "wal")) != 0 ||
	    (r = pragma(s, "PRAGMA foreign_keys = ON", NULL)) != 0 ||
	    (r = pragma(s, "PRAGMA synchronous = NORMAL", NULL)) != 0 ||
	    (r = migrate(s)) != 0) {
		zm_err("registry %s unusable", path);
		r = r != 0 ? r : ZM_ERR_STORE;
		goto out;
	}
	*out = &s->base;
	s = NULL;
	r = 0;
out:
	sq_close(s != NULL ? &s->base : NULL);
	return r;
}

/* ---- users ---- */

static int
sq_user_get(struct zm_store *st, const char *user, struct zm_user_state *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (!user_ok(user))
		return ZM_ERR_INVALID;
	rc = STEP(SQ(st), S_USER_GET, &q, "s", user);
	return fetch_one(q, rc, row_user, out);
}

static int
sq_user_ensure(struct zm_store *st, const char *user, int64_t now)
{
	if (!user_ok(user))
		return ZM_ERR_INVALID;
	return EXEC(SQ(st), S_USER_ENSURE, "si", user, now);
}

static int
sq_user_list(struct zm_store *st, struct zm_user_state **out, size_t *n)
{
	sqlite3_stmt	*q;
	void		*v;
	int		 rc, r;

	*out = NULL;
	*n = 0;
	rc = STEP(SQ(st), S_USER_LIST, &q, "");
	if ((r = fetch_all(SQ(st), q, rc, sizeof(**out), row_user, &v, n)) != 0) {
		free(v);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/* ---- tokens ---- */

static int
token_ok(const struct zm_token *t)
{
	return user_ok(t->user) && t->kind >= ZM_TOK_TOTP &&
	    t->kind <= ZM_TOK_TEMPCODE && t->state >= ZM_TS_ACTIVE &&
	    t->state <= ZM_TS_SUSPENDED && fits(t->label, sizeof(t->label)) &&
	    fits(t->ident, sizeof(t->ident)) && fits(t->algo, sizeof(t->algo)) &&
	    fits(t->revoke_reason, sizeof(t->revoke_reason)) &&
	    fits(t->enrolled_by, sizeof(t->enrolled_by)) &&
	    t->secret_len <= SECRET_MAX && t->data_len <= DATA_MAX &&
	    (t->secret != NULL || t->secret_len == 0) &&
	    (t->data != NULL || t->data_len == 0);
}

static int
sq_token_add(struct zm_store *st, struct zm_token *t, int64_t now)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	int		 rc, r;

	if (!token_ok(t))
		return ZM_ERR_INVALID;
	if ((r = tx_begin(s, 1)) != 0)
		return r;
	/*
	 * Under the write lock, so not a race; it only spares a batch the
	 * user row of a refused token.  The UNIQUE index still decides.
	 */
	rc = STEP(s, S_IDENT_TAKEN, &q, "is", (int64_t)t->kind, t->ident);
	done(q);
	if (rc != SQLITE_DONE) {
		r = rc == SQLITE_ROW ? ZM_ERR_EXISTS : ZM_ERR_STORE;
		goto out;
	}
	if ((r = EXEC(s, S_USER_ENSURE, "si", t->user, now)) != 0)
		goto out;
	rc = STEP(s, S_TOKEN_INSERT, &q, "siissbsiiibiiiiiss", t->user,
	    (int64_t)t->kind, (int64_t)t->state, t->label, t->ident,
	    (const void *)t->secret, t->secret_len, t->algo, (int64_t)t->digits,
	    (int64_t)t->period, t->last_step, (const void *)t->data, t->data_len,
	    (int64_t)t->counter, (int64_t)t->flags, now, t->last_used,
	    t->revoked_at, t->revoke_reason, t->enrolled_by);
	done(q);
	if (rc == SQLITE_DONE) {
		t->id = sqlite3_last_insert_rowid(s->db);
		t->created = now;
	} else if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
		r = ZM_ERR_EXISTS;
	else
		r = ZM_ERR_STORE;
out:
	return tx_end(s, r, 1);
}

static int
sq_token_get(struct zm_store *st, int64_t id, struct zm_token *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	rc = STEP(SQ(st), S_TOKEN_GET, &q, "i", id);
	return fetch_one(q, rc, row_token, out);
}

static int
sq_token_find_ident(struct zm_store *st, int kind, const char *ident,
    struct zm_token *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (!fits(ident, FIELD_SIZE(struct zm_token, ident)))
		return ZM_ERR_INVALID;
	if (ident[0] == '\0')
		return ZM_ERR_NOTFOUND;
	rc = STEP(SQ(st), S_TOKEN_FIND_IDENT, &q, "is", (int64_t)kind, ident);
	return fetch_one(q, rc, row_token, out);
}

static int
sq_token_list(struct zm_store *st, const char *user, struct zm_token **out,
    size_t *n)
{
	sqlite3_stmt	*q;
	void		*v;
	int		 rc, r;

	*out = NULL;
	*n = 0;
	if (user != NULL && !user_ok(user))
		return ZM_ERR_INVALID;
	if (user != NULL)
		rc = STEP(SQ(st), S_TOKEN_LIST_USER, &q, "s", user);
	else
		rc = STEP(SQ(st), S_TOKEN_LIST_ALL, &q, "");
	if ((r = fetch_all(SQ(st), q, rc, sizeof(**out), row_token, &v, n)) != 0) {
		zm_tokens_free(v, *n);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/*
 * The compare-and-set is the WHERE clause of one UPDATE: two logins with
 * the same code cannot both see the old step.
 */
static int
sq_totp_advance(struct zm_store *st, int64_t token_id, int64_t step, int64_t now)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	int		 rc, r;

	if ((r = EXEC(s, S_TOTP_ADVANCE, "iii", step, now, token_id)) != 0)
		return r;
	if (sqlite3_changes(s->db) == 1)
		return 0;
	/* Refused; the lookup only chooses the caller's message. */
	rc = STEP(s, S_TOKEN_STATE, &q, "i", token_id);
	if (rc == SQLITE_DONE)
		r = ZM_ERR_NOTFOUND;
	else if (rc != SQLITE_ROW)
		r = ZM_ERR_STORE;
	else if (sqlite3_column_int(q, 1) != ZM_TOK_TOTP)
		r = ZM_ERR_INVALID;
	else if (sqlite3_column_int(q, 0) != ZM_TS_ACTIVE)
		r = ZM_ERR_REVOKED;
	else
		r = ZM_ERR_REPLAY;
	done(q);
	return r;
}

/*
 * FIDO2 signature counter: compare-and-set in the WHERE clause, like
 * sq_totp_advance().  ZM_ERR_REPLAY: the counter did not grow (*stored
 * says what it was); ZM_ERR_REVOKED: the token is no longer active.
 */
static int
sq_fido_counter_advance(struct zm_store *st, int64_t token_id,
    uint32_t counter, int64_t now, uint32_t *stored)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	int		 rc, r;

	*stored = 0;
	if ((r = EXEC(s, S_FIDO_ADVANCE, "iii", token_id, (int64_t)counter,
	    now)) != 0)
		return r;
	if (sqlite3_changes(s->db) == 1)
		return 0;
	rc = STEP(s, S_FIDO_STATE, &q, "i", token_id);
	if (rc == SQLITE_DONE)
		r = ZM_ERR_NOTFOUND;
	else if (rc != SQLITE_ROW)
		r = ZM_ERR_STORE;
	else if (sqlite3_column_int(q, 1) != ZM_TOK_FIDO2)
		r = ZM_ERR_INVALID;
	else if (sqlite3_column_int(q, 0) != ZM_TS_ACTIVE)
		r = ZM_ERR_REVOKED;
	else {
		*stored = (uint32_t)sqlite3_column_int64(q, 2);
		r = ZM_ERR_REPLAY;
	}
	done(q);
	return r;
}

/* Durable: a suspension stops a cloned key on every later login. */
static int
sq_token_set_state(struct zm_store *st, int64_t token_id, int state,
    const char *reason, int64_t now)
{
	struct sq	*s = SQ(st);
	int		 r;

	if (state < ZM_TS_ACTIVE || state > ZM_TS_SUSPENDED || reason == NULL ||
	    !fits(reason, FIELD_SIZE(struct zm_token, revoke_reason)))
		return ZM_ERR_INVALID;
	if ((r = tx_begin(s, 1)) != 0)
		return r;
	if ((r = EXEC(s, S_TOKEN_SET_STATE, "iiis", token_id, (int64_t)state,
	    now, reason)) == 0 && sqlite3_changes(s->db) != 1)
		r = ZM_ERR_NOTFOUND;
	return tx_end(s, r, 1);
}

/* ---- lockout ---- */

/*
 * Count, lock and read back in one IMMEDIATE transaction: the increment
 * is done by SQL (failures + 1), so concurrent failures from several
 * processes are all counted.
 */
static int
sq_failure_add(struct zm_store *st, const char *user, int64_t now,
    uint32_t max_failures, int64_t lockout, uint32_t *failures,
    int64_t *locked_until)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	int64_t		 until;
	int		 r;

	if (!user_ok(user) || (lockout < 0 && lockout != ZM_LOCKOUT_HELPDESK))
		return ZM_ERR_INVALID;
	until = lockout == ZM_LOCKOUT_HELPDESK ? -1 : now + lockout;
	if ((r = tx_begin(s, 0)) != 0)
		return r;
	if ((r = EXEC(s, S_FAIL_UPSERT, "si", user, now)) != 0 ||
	    (r = EXEC(s, S_FAIL_LOCK, "sii", user, until,
	    (int64_t)max_failures)) != 0)
		goto out;
	if (STEP(s, S_FAIL_READ, &q, "s", user) != SQLITE_ROW)
		r = ZM_ERR_STORE;
	else {
		if (failures != NULL)
			*failures = (uint32_t)sqlite3_column_int64(q, 0);
		if (locked_until != NULL)
			*locked_until = sqlite3_column_int64(q, 1);
	}
	done(q);
out:
	return tx_end(s, r, 0);
}

static int
sq_success_record(struct zm_store *st, const char *user, int64_t now,
    const char *from, int64_t token_id)
{
	struct sq	*s = SQ(st);
	char		 f[FIELD_SIZE(struct zm_user_state, last_from)];
	int		 r;

	if (!user_ok(user))
		return ZM_ERR_INVALID;
	/* A long remote host name is cut to the column, not a failed login. */
	if (from == NULL)
		from = "";
	snprintf(f, sizeof(f), "%s", from);
	if ((r = tx_begin(s, 0)) != 0)
		return r;
	if ((r = EXEC(s, S_SUCCESS, "sis", user, now, f)) == 0 && token_id > 0)
		r = EXEC(s, S_TOKEN_USED, "iis", token_id, now, user);
	return tx_end(s, r, 0);
}

static int
sq_unlock(struct zm_store *st, const char *user)
{
	struct sq	*s = SQ(st);
	int		 r;

	if (!user_ok(user))
		return ZM_ERR_INVALID;
	if ((r = EXEC(s, S_UNLOCK, "s", user)) != 0)
		return r;
	return sqlite3_changes(s->db) == 0 ? ZM_ERR_NOTFOUND : 0;
}

static int
sq_set_disabled(struct zm_store *st, const char *user, int disabled, int64_t now)
{
	struct sq	*s = SQ(st);
	int		 r;

	if (!user_ok(user))
		return ZM_ERR_INVALID;
	if ((r = tx_begin(s, 1)) != 0)
		return r;
	r = EXEC(s, S_SET_DISABLED, "sii", user, now, (int64_t)(disabled != 0));
	return tx_end(s, r, 1);
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
row_id(sqlite3_stmt *q, void *p)
{
	*(int64_t *)p = sqlite3_column_int64(q, 0);
	return 0;
}

/* One UPDATE ... RETURNING id: what is reported is exactly what changed. */
static int
sq_revoke(struct zm_store *st, const char *user, int64_t token_id,
    const char *ident, const char *reason, int64_t now, int64_t **ids, size_t *n)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	void		*v = NULL;
	int		 rc, r;

	*ids = NULL;
	*n = 0;
	if (reason == NULL)
		reason = "";
	if (!user_ok(user) ||
	    !fits(reason, FIELD_SIZE(struct zm_token, revoke_reason)) ||
	    (ident != NULL && !fits(ident, FIELD_SIZE(struct zm_token, ident))))
		return ZM_ERR_INVALID;
	if (token_id <= 0 && ident != NULL && ident[0] == '\0')
		return ZM_ERR_NOTFOUND;
	if ((r = tx_begin(s, 1)) != 0)
		return r;
	if (token_id > 0)
		rc = STEP(s, S_REVOKE_ID, &q, "sisi", user, now, reason, token_id);
	else if (ident != NULL)
		rc = STEP(s, S_REVOKE_IDENT, &q, "siss", user, now, reason, ident);
	else
		rc = STEP(s, S_REVOKE_ALL, &q, "sis", user, now, reason);
	if ((r = fetch_all(s, q, rc, sizeof(int64_t), row_id, &v, n)) == 0 &&
	    *n == 0)
		r = ZM_ERR_NOTFOUND;
	if ((r = tx_end(s, r, 1)) != 0) {
		free(v);
		*n = 0;
		return r;
	}
	qsort(v, *n, sizeof(int64_t), cmp_id);
	*ids = v;
	return 0;
}

/*
 * Replace: in one transaction the user's active tokens of t->kind become
 * REPLACED and t is added.  ZM_ERR_NOTFOUND when there is nothing to
 * replace, ZM_ERR_EXISTS when t's ident is taken: nothing changes then.
 */
static int sq_batch_begin(struct zm_store *);
static int sq_batch_end(struct zm_store *, int);

static int
sq_token_replace(struct zm_store *st, struct zm_token *t, int64_t now,
    int64_t **ids, size_t *n)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	void		*v = NULL;
	int		 rc, r, e;

	*ids = NULL;
	*n = 0;
	if (!token_ok(t) || s->batch)
		return ZM_ERR_INVALID;
	if ((r = sq_batch_begin(st)) != 0)
		return r;
	rc = STEP(s, S_REPLACE_KIND, &q, "sii", t->user, now, (int64_t)t->kind);
	if ((r = fetch_all(s, q, rc, sizeof(int64_t), row_id, &v, n)) == 0 &&
	    *n == 0)
		r = ZM_ERR_NOTFOUND;
	if (r == 0)
		r = sq_token_add(st, t, now);
	if ((e = sq_batch_end(st, r == 0)) != 0 && r == 0)
		r = e;
	if (r != 0) {
		free(v);
		*n = 0;
		t->id = 0;
		return r;
	}
	qsort(v, *n, sizeof(int64_t), cmp_id);
	*ids = v;
	return 0;
}

/* ---- sessions ---- */

static int
session_ok(const struct zm_session *x)
{
	return user_ok(x->user) && fits(x->zone, sizeof(x->zone)) &&
	    fits(x->terminal, sizeof(x->terminal)) && fits(x->tty, sizeof(x->tty)) &&
	    fits(x->rhost, sizeof(x->rhost)) &&
	    fits(x->service, sizeof(x->service)) &&
	    fits(x->logind_id, sizeof(x->logind_id)) &&
	    x->pid_starttime <= INT64_MAX;
}

static int
sq_session_open(struct zm_store *st, struct zm_session *x)
{
	struct sq	*s = SQ(st);
	int		 r;

	if (!session_ok(x))
		return ZM_ERR_INVALID;
	if ((r = EXEC(s, S_SESSION_INSERT, "sssssssiiiii", x->user, x->zone,
	    x->terminal, x->tty, x->rhost, x->service, x->logind_id, x->token_id,
	    (int64_t)x->pid, (int64_t)x->pid_starttime, (int64_t)x->privileged,
	    x->opened)) != 0)
		return r;
	x->id = sqlite3_last_insert_rowid(s->db);
	x->closed = 0;
	return 0;
}

/*
 * Closing twice is not an error (a revoked session is ended by the daemon
 * and later closed by PAM); the first close and its reason are kept.
 */
static int
sq_session_close(struct zm_store *st, int64_t id, int64_t now, const char *reason)
{
	struct sq	*s = SQ(st);
	sqlite3_stmt	*q;
	char		 user[ZM_NAME_MAX];
	int		 rc, r;

	user[0] = '\0';
	if (reason == NULL)
		reason = "";
	if (now <= 0 || !fits(reason, FIELD_SIZE(struct zm_session, close_reason)))
		return ZM_ERR_INVALID;
	if ((r = tx_begin(s, 0)) != 0)
		return r;
	rc = STEP(s, S_SESSION_CLOSE, &q, "iis", id, now, reason);
	if (rc == SQLITE_ROW)
		r = col_str(q, 0, user, sizeof(user));
	else if (rc != SQLITE_DONE)
		r = ZM_ERR_STORE;
	/* Step to the end: RETURNING completes the UPDATE only then. */
	while (r == 0 && rc == SQLITE_ROW)
		if ((rc = sqlite3_step(q)) != SQLITE_DONE && rc != SQLITE_ROW)
			r = ZM_ERR_STORE;
	done(q);
	if (r == 0 && user[0] != '\0')
		r = EXEC(s, S_LOGOUT, "si", user, now);
	else if (r == 0) {
		rc = STEP(s, S_SESSION_EXISTS, &q, "i", id);
		r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ZM_ERR_NOTFOUND :
		    ZM_ERR_STORE;
		done(q);
	}
	return tx_end(s, r, 0);
}

static int
sq_session_get(struct zm_store *st, int64_t id, struct zm_session *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	rc = STEP(SQ(st), S_SESSION_GET, &q, "i", id);
	return fetch_one(q, rc, row_session, out);
}

static int
sq_sessions_open_list(struct zm_store *st, const char *user, int64_t token_id,
    struct zm_session **out, size_t *n)
{
	sqlite3_stmt	*q;
	void		*v;
	int		 rc, r;

	*out = NULL;
	*n = 0;
	if (user != NULL && !user_ok(user))
		return ZM_ERR_INVALID;
	rc = STEP(SQ(st), S_SESSION_LIST, &q, "si", user, token_id);
	if ((r = fetch_all(SQ(st), q, rc, sizeof(**out), row_session, &v, n)) != 0) {
		free(v);
		*n = 0;
		return r;
	}
	*out = v;
	return 0;
}

/* ---- batch, audit head ---- */

static int
sq_batch_begin(struct zm_store *st)
{
	struct sq	*s = SQ(st);
	int		 r;

	if (s->batch)
		return ZM_ERR_INVALID;
	/* SQLite refuses to change synchronous inside a transaction. */
	if ((r = tx_begin(s, 1)) == 0)
		s->batch = 1;
	return r;
}

/* The whole batch is committed with synchronous=FULL: one fsync. */
static int
sq_batch_end(struct zm_store *st, int commit)
{
	struct sq	*s = SQ(st);
	int		 r;

	if (!s->batch)
		return ZM_ERR_INVALID;
	s->batch = 0;
	if (!commit) {
		(void)tx_end(s, ZM_ERR_INTERNAL, 1);	/* rolls back */
		return 0;
	}
	if ((r = tx_end(s, 0, 1)) != 0)
		return r;
	/*
	 * Fold the (large) WAL into the database now and truncate it, rather
	 * than make the next login pay for the checkpoint.
	 */
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL) != SQLITE_OK)
		zm_warn("checkpoint: %s", sqlite3_errmsg(s->db));
	return 0;
}

static int
sq_audit_head_get(struct zm_store *st, uint64_t *seq, char hash[65])
{
	sqlite3_stmt	*q;
	int		 r = ZM_ERR_STORE;

	if (STEP(SQ(st), S_AUDIT_GET, &q, "") == SQLITE_ROW &&
	    sqlite3_column_int64(q, 0) >= 0 &&
	    (r = col_str(q, 1, hash, 65)) == 0) {
		*seq = (uint64_t)sqlite3_column_int64(q, 0);
		if (strlen(hash) != 64) {
			zm_err("audit head hash is malformed");
			r = ZM_ERR_STORE;
		}
	}
	done(q);
	return r;
}

static int
sq_audit_head_set(struct zm_store *st, uint64_t seq, const char *hash)
{
	if (seq > INT64_MAX || strlen(hash) != 64 ||
	    strspn(hash, "0123456789abcdef") != 64)
		return ZM_ERR_INVALID;
	return EXEC(SQ(st), S_AUDIT_SET, "is", (int64_t)seq, hash);
}

const struct zm_store_ops zm_store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.user_get = sq_user_get,
	.user_ensure = sq_user_ensure,
	.user_list = sq_user_list,
	.token_add = sq_token_add,
	.token_get = sq_token_get,
	.token_list = sq_token_list,
	.token_find_ident = sq_token_find_ident,
	.totp_advance = sq_totp_advance,
	.fido_counter_advance = sq_fido_counter_advance,
	.token_set_state = sq_token_set_state,
	.failure_add = sq_failure_add,
	.success_record = sq_success_record,
	.unlock = sq_unlock,
	.set_disabled = sq_set_disabled,
	.revoke = sq_revoke,
	.token_replace = sq_token_replace,
	.session_open = sq_session_open,
	.session_close = sq_session_close,
	.session_get = sq_session_get,
	.sessions_open_list = sq_sessions_open_list,
	.batch_begin = sq_batch_begin,
	.batch_end = sq_batch_end,
	.audit_head_get = sq_audit_head_get,
	.audit_head_set = sq_audit_head_set,
};
