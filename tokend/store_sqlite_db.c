/*
 * store_sqlite_db.c - the SQLite database under the registry backend
 * (store_sqlite.c): opening the file and its pragmas, the schema and its
 * migrations, the SQL of every statement, the prepared-statement cache,
 * stepping, transactions, and reading rows into the registry's structs.
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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "store_sqlite_impl.h"

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
	/*
	 * 1 -> 2: who registered a session (a non-root uid: only its own
	 * processes are signalled); a revocation or disable the audit log
	 * may not have yet (the daemon records it at start-up, R15).
	 */
	"ALTER TABLE sessions ADD COLUMN owner_uid INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tokens ADD COLUMN audit_pending INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE users ADD COLUMN audit_pending INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX tokens_pending ON tokens(audit_pending) "
	"WHERE audit_pending <> 0;"
	"CREATE INDEX users_pending ON users(audit_pending) "
	"WHERE audit_pending <> 0;",
	/*
	 * 2 -> 3, card bindings (R4, cardwatch.c): where the card of a card
	 * login was seen (reader, its card event counter, the ATR), kept so
	 * that a restarted daemon watches the sessions opened with it again.
	 * Self-contained: one new table, nothing else touched.
	 */
	"CREATE TABLE card_bindings ("
	" token_id INTEGER PRIMARY KEY NOT NULL,"
	" reader TEXT NOT NULL,"
	" counter INTEGER NOT NULL,"
	" atr BLOB NOT NULL,"
	" bound INTEGER NOT NULL,"
	" gone INTEGER NOT NULL DEFAULT 0);",
};
#define SCHEMA_VERSION	((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

#define USER_COLS	"name, disabled, failures, locked_until, last_success, " \
	"last_from, last_logout, failures_since, created, enabled_at"
#define TOKEN_COLS	"id, user, kind, state, label, ident, secret, algo, " \
	"digits, period, last_step, data, counter, flags, created, last_used, " \
	"revoked_at, revoke_reason, enrolled_by"
#define SESSION_COLS	"id, user, zone, terminal, tty, rhost, service, " \
	"logind_id, token_id, pid, pid_starttime, privileged, opened, closed, " \
	"close_reason, owner_uid"
/* A timed lock that has run out gives a fresh set of attempts. */
#define LOCK_EXPIRED	"(locked_until > 0 AND locked_until <= ?2)"
/* A used temporary code is audited as its use, not as a revocation. */
#define REVOKE_SET	"UPDATE tokens SET state = 1, revoked_at = ?2, " \
	"revoke_reason = ?3, audit_pending = (?3 <> 'used') " \
	"WHERE user = ?1 AND state IN (0, 3)"

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
	[S_SET_DISABLED] = "INSERT INTO users (name, created, disabled, "
	    "audit_pending) VALUES (?1, ?2, ?3, 1) ON CONFLICT (name) DO UPDATE "
	    "SET disabled = ?3, audit_pending = 1, "
	    "enabled_at = CASE WHEN ?3 = 0 THEN ?2 ELSE enabled_at END",
	[S_PENDING_TOKENS] = "SELECT id, user, state, revoked_at, revoke_reason "
	    "FROM tokens WHERE audit_pending <> 0 ORDER BY id",
	[S_PENDING_USERS] = "SELECT name, disabled FROM users "
	    "WHERE audit_pending <> 0 ORDER BY name",
	[S_PENDING_CLEAR_TOKEN] = "UPDATE tokens SET audit_pending = 0 "
	    "WHERE id = ?1",
	[S_PENDING_CLEAR_USER] = "UPDATE users SET audit_pending = 0 "
	    "WHERE name = ?1",
	[S_REVOKE_ID] = REVOKE_SET " AND id = ?4 RETURNING id",
	[S_REVOKE_IDENT] = REVOKE_SET " AND ident = ?4 AND ident <> '' RETURNING id",
	[S_REVOKE_ALL] = REVOKE_SET " RETURNING id",
	[S_REPLACE_KIND] = "UPDATE tokens SET state = 2, revoked_at = ?2, "
	    "revoke_reason = 'replaced' WHERE user = ?1 AND kind = ?3 "
	    "AND state IN (0, 3) RETURNING id",
	[S_SESSION_INSERT] = "INSERT INTO sessions (user, zone, terminal, tty, "
	    "rhost, service, logind_id, token_id, pid, pid_starttime, privileged, "
	    "opened, owner_uid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	    "?11, ?12, ?13)",
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
	[S_CARDBIND_PUT] = "INSERT OR REPLACE INTO card_bindings (token_id, "
	    "reader, counter, atr, bound, gone) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_CARDBIND_DEL] = "DELETE FROM card_bindings WHERE token_id = ?1",
	[S_CARDBIND_LIST] = "SELECT token_id, reader, counter, atr, bound, gone "
	    "FROM card_bindings ORDER BY bound, token_id",
};

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
void
zm_sq_done(sqlite3_stmt *q)
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
 * *qp is for reading the row; the caller hands it to zm_sq_done().
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

int
zm_sq_step(struct sq *s, const char *func, enum stmt_id id, sqlite3_stmt **qp,
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
int
zm_sq_exec(struct sq *s, const char *func, enum stmt_id id, const char *fmt,
    ...)
{
	sqlite3_stmt	*q;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = vstep(s, func, id, &q, fmt, ap);
	va_end(ap);
	zm_sq_done(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : ZM_ERR_STORE;
}

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
int
zm_sq_tx_begin(struct sq *s, int durable)
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
int
zm_sq_tx_end(struct sq *s, int r, int durable)
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
int
zm_sq_col_str(sqlite3_stmt *q, int i, char *dst, size_t n)
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

int
zm_sq_row_user(sqlite3_stmt *q, void *p)
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
	if ((r = zm_sq_col_str(q, 0, u->user, sizeof(u->user))) != 0 ||
	    (r = zm_sq_col_str(q, 5, u->last_from, sizeof(u->last_from))) != 0)
		return r;
	return 0;
}

int
zm_sq_row_token(sqlite3_stmt *q, void *p)
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
	if ((r = zm_sq_col_str(q, 1, t->user, sizeof(t->user))) != 0 ||
	    (r = zm_sq_col_str(q, 4, t->label, sizeof(t->label))) != 0 ||
	    (r = zm_sq_col_str(q, 5, t->ident, sizeof(t->ident))) != 0 ||
	    (r = zm_sq_col_str(q, 7, t->algo, sizeof(t->algo))) != 0 ||
	    (r = zm_sq_col_str(q, 17, t->revoke_reason,
	    sizeof(t->revoke_reason))) != 0 ||
	    (r = zm_sq_col_str(q, 18, t->enrolled_by,
	    sizeof(t->enrolled_by))) != 0 ||
	    (r = col_blob(q, 6, &t->secret, &t->secret_len)) != 0 ||
	    (r = col_blob(q, 11, &t->data, &t->data_len)) != 0)
		zm_token_clear(t);
	return r;
}

int
zm_sq_row_session(sqlite3_stmt *q, void *p)
{
	struct zm_session	*x = p;
	int			 r;

	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(q, 0);
	x->token_id = sqlite3_column_int64(q, 8);
	x->pid = (int32_t)sqlite3_column_int64(q, 9);
	x->pid_starttime = (uint64_t)sqlite3_column_int64(q, 10);
	x->privileged = sqlite3_column_int(q, 11);
	x->owner_uid = sqlite3_column_int64(q, 15);
	x->opened = sqlite3_column_int64(q, 12);
	x->closed = sqlite3_column_int64(q, 13);
	if ((r = zm_sq_col_str(q, 1, x->user, sizeof(x->user))) != 0 ||
	    (r = zm_sq_col_str(q, 2, x->zone, sizeof(x->zone))) != 0 ||
	    (r = zm_sq_col_str(q, 3, x->terminal, sizeof(x->terminal))) != 0 ||
	    (r = zm_sq_col_str(q, 4, x->tty, sizeof(x->tty))) != 0 ||
	    (r = zm_sq_col_str(q, 5, x->rhost, sizeof(x->rhost))) != 0 ||
	    (r = zm_sq_col_str(q, 6, x->service, sizeof(x->service))) != 0 ||
	    (r = zm_sq_col_str(q, 7, x->logind_id,
	    sizeof(x->logind_id))) != 0 ||
	    (r = zm_sq_col_str(q, 14, x->close_reason,
	    sizeof(x->close_reason))) != 0)
		return r;
	return 0;
}

/* The single row of a lookup: ZM_ERR_NOTFOUND when there is none. */
int
zm_sq_fetch_one(sqlite3_stmt *q, int rc, int (*row)(sqlite3_stmt *, void *),
    void *out)
{
	int	r;

	if (rc == SQLITE_ROW)
		r = row(q, out);
	else
		r = rc == SQLITE_DONE ? ZM_ERR_NOTFOUND : ZM_ERR_STORE;
	zm_sq_done(q);
	return r;
}

/*
 * Every row into a malloc'd array.  On error *arr holds the *n rows read
 * so far, for the caller's destructor.
 */
int
zm_sq_fetch_all(struct sq *s, sqlite3_stmt *q, int rc, size_t elsz,
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
	zm_sq_done(q);
	return r;
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

	if ((r = zm_sq_tx_begin(s, 1)) != 0)
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
	return zm_sq_tx_end(s, r, 1);
}

void
zm_sq_close(struct zm_store *st)
{
	struct sq	*s = SQ(st);
	size_t		 i;

	if (s == NULL)
		return;
	if (s->db != NULL && !sqlite3_get_autocommit(s->db))
		(void)EXEC(s, S_ROLLBACK, "");	/* an unfinished batch */
	zm_sq_ckpt_free(s);
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

int
zm_sq_open(const char *path, struct zm_store **out)
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
	    (r = migrate(s)) != 0 ||
	    (r = zm_sq_ckpt_init(s)) != 0) {
		zm_err("registry %s unusable", path);
		r = r != 0 ? r : ZM_ERR_STORE;
		goto out;
	}
	*out = &s->base;
	s = NULL;
	r = 0;
out:
	zm_sq_close(s != NULL ? &s->base : NULL);
	return r;
}
