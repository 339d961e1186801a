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
 *
 * This file holds the operations; the database under them (open, schema,
 * the SQL, statements, transactions, rows) is store_sqlite_db.c.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "store_sqlite_impl.h"
#include "wipe.h"

/* Upper bounds for blobs we accept from callers (sealed seed, card data). */
#define SECRET_MAX	4096
#define DATA_MAX	(256 * 1024)

#define FIELD_SIZE(type, f)	sizeof(((type *)0)->f)

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

/* ---- users ---- */

static int
sq_user_get(struct zm_store *st, const char *user, struct zm_user_state *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	if (!user_ok(user))
		return ZM_ERR_INVALID;
	rc = STEP(SQ(st), S_USER_GET, &q, "s", user);
	return zm_sq_fetch_one(q, rc, zm_sq_row_user, out);
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
	if ((r = zm_sq_fetch_all(SQ(st), q, rc, sizeof(**out), zm_sq_row_user,
	    &v, n)) != 0) {
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
	if ((r = zm_sq_tx_begin(s, 1)) != 0)
		return r;
	/*
	 * Under the write lock, so not a race; it only spares a batch the
	 * user row of a refused token.  The UNIQUE index still decides.
	 */
	rc = STEP(s, S_IDENT_TAKEN, &q, "is", (int64_t)t->kind, t->ident);
	zm_sq_done(q);
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
	zm_sq_done(q);
	if (rc == SQLITE_DONE) {
		t->id = sqlite3_last_insert_rowid(s->db);
		t->created = now;
	} else if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE)
		r = ZM_ERR_EXISTS;
	else
		r = ZM_ERR_STORE;
out:
	return zm_sq_tx_end(s, r, 1);
}

static int
sq_token_get(struct zm_store *st, int64_t id, struct zm_token *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	rc = STEP(SQ(st), S_TOKEN_GET, &q, "i", id);
	return zm_sq_fetch_one(q, rc, zm_sq_row_token, out);
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
	return zm_sq_fetch_one(q, rc, zm_sq_row_token, out);
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
	if ((r = zm_sq_fetch_all(SQ(st), q, rc, sizeof(**out), zm_sq_row_token,
	    &v, n)) != 0) {
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
	zm_sq_done(q);
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
	zm_sq_done(q);
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
	if ((r = zm_sq_tx_begin(s, 1)) != 0)
		return r;
	if ((r = EXEC(s, S_TOKEN_SET_STATE, "iiis", token_id, (int64_t)state,
	    now, reason)) == 0 && sqlite3_changes(s->db) != 1)
		r = ZM_ERR_NOTFOUND;
	return zm_sq_tx_end(s, r, 1);
}

/* ---- lockout ---- */

/*
 * Count, lock and read back in one IMMEDIATE transaction: the increment
 * is zm_sq_done by SQL (failures + 1), so concurrent failures from several
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
	if ((r = zm_sq_tx_begin(s, 0)) != 0)
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
	zm_sq_done(q);
out:
	return zm_sq_tx_end(s, r, 0);
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
	if ((r = zm_sq_tx_begin(s, 0)) != 0)
		return r;
	if ((r = EXEC(s, S_SUCCESS, "sis", user, now, f)) == 0 && token_id > 0)
		r = EXEC(s, S_TOKEN_USED, "iis", token_id, now, user);
	return zm_sq_tx_end(s, r, 0);
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
	if ((r = zm_sq_tx_begin(s, 1)) != 0)
		return r;
	r = EXEC(s, S_SET_DISABLED, "sii", user, now, (int64_t)(disabled != 0));
	return zm_sq_tx_end(s, r, 1);
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
	if ((r = zm_sq_tx_begin(s, 1)) != 0)
		return r;
	if (token_id > 0)
		rc = STEP(s, S_REVOKE_ID, &q, "sisi", user, now, reason, token_id);
	else if (ident != NULL)
		rc = STEP(s, S_REVOKE_IDENT, &q, "siss", user, now, reason, ident);
	else
		rc = STEP(s, S_REVOKE_ALL, &q, "sis", user, now, reason);
	if ((r = zm_sq_fetch_all(s, q, rc, sizeof(int64_t), row_id, &v,
	    n)) == 0 && *n == 0)
		r = ZM_ERR_NOTFOUND;
	if ((r = zm_sq_tx_end(s, r, 1)) != 0) {
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
	if ((r = zm_sq_fetch_all(s, q, rc, sizeof(int64_t), row_id, &v,
	    n)) == 0 && *n == 0)
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
	if ((r = EXEC(s, S_SESSION_INSERT, "sssssssiiiiii", x->user, x->zone,
	    x->terminal, x->tty, x->rhost, x->service, x->logind_id, x->token_id,
	    (int64_t)x->pid, (int64_t)x->pid_starttime, (int64_t)x->privileged,
	    x->opened, x->owner_uid)) != 0)
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
	if ((r = zm_sq_tx_begin(s, 0)) != 0)
		return r;
	rc = STEP(s, S_SESSION_CLOSE, &q, "iis", id, now, reason);
	if (rc == SQLITE_ROW)
		r = zm_sq_col_str(q, 0, user, sizeof(user));
	else if (rc != SQLITE_DONE)
		r = ZM_ERR_STORE;
	/* Step to the end: RETURNING completes the UPDATE only then. */
	while (r == 0 && rc == SQLITE_ROW)
		if ((rc = sqlite3_step(q)) != SQLITE_DONE && rc != SQLITE_ROW)
			r = ZM_ERR_STORE;
	zm_sq_done(q);
	if (r == 0 && user[0] != '\0')
		r = EXEC(s, S_LOGOUT, "si", user, now);
	else if (r == 0) {
		rc = STEP(s, S_SESSION_EXISTS, &q, "i", id);
		r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? ZM_ERR_NOTFOUND :
		    ZM_ERR_STORE;
		zm_sq_done(q);
	}
	return zm_sq_tx_end(s, r, 0);
}

static int
sq_session_get(struct zm_store *st, int64_t id, struct zm_session *out)
{
	sqlite3_stmt	*q;
	int		 rc;

	rc = STEP(SQ(st), S_SESSION_GET, &q, "i", id);
	return zm_sq_fetch_one(q, rc, zm_sq_row_session, out);
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
	if ((r = zm_sq_fetch_all(SQ(st), q, rc, sizeof(**out),
	    zm_sq_row_session, &v, n)) != 0) {
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
	if ((r = zm_sq_tx_begin(s, 1)) == 0)
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
		(void)zm_sq_tx_end(s, ZM_ERR_INTERNAL, 1); /* rolls back */
		return 0;
	}
	if ((r = zm_sq_tx_end(s, 0, 1)) != 0)
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
	    (r = zm_sq_col_str(q, 1, hash, 65)) == 0) {
		*seq = (uint64_t)sqlite3_column_int64(q, 0);
		if (strlen(hash) != 64) {
			zm_err("audit head hash is malformed");
			r = ZM_ERR_STORE;
		}
	}
	zm_sq_done(q);
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

/* ---- changes the audit log may lack (a crash before the record) ---- */

static int
row_pending_token(sqlite3_stmt *q, void *p)
{
	struct zm_audit_pending *x = p;

	memset(x, 0, sizeof(*x));
	x->token_id = sqlite3_column_int64(q, 0);
	x->state = sqlite3_column_int(q, 2);
	x->when = sqlite3_column_int64(q, 3);
	if (zm_sq_col_str(q, 1, x->user, sizeof(x->user)) != 0 ||
	    zm_sq_col_str(q, 4, x->reason, sizeof(x->reason)) != 0)
		return ZM_ERR_STORE;
	return 0;
}

static int
row_pending_user(sqlite3_stmt *q, void *p)
{
	struct zm_audit_pending *x = p;

	memset(x, 0, sizeof(*x));
	x->disabled = sqlite3_column_int(q, 1) != 0;
	return zm_sq_col_str(q, 0, x->user, sizeof(x->user)) != 0 ?
	    ZM_ERR_STORE : 0;
}

static int
sq_audit_pending(struct zm_store *st, struct zm_audit_pending **out,
    size_t *n)
{
	struct sq		*s = SQ(st);
	struct zm_audit_pending	*a = NULL, *b = NULL, *all;
	sqlite3_stmt		*q;
	size_t			 na = 0, nb = 0;
	int			 rc, r;

	*out = NULL;
	*n = 0;
	rc = STEP(s, S_PENDING_TOKENS, &q, "");
	if ((r = zm_sq_fetch_all(s, q, rc, sizeof(*a), row_pending_token,
	    (void **)&a, &na)) != 0)
		return r;
	rc = STEP(s, S_PENDING_USERS, &q, "");
	if ((r = zm_sq_fetch_all(s, q, rc, sizeof(*b), row_pending_user,
	    (void **)&b, &nb)) != 0) {
		free(a);
		return r;
	}
	if (na + nb == 0) {
		free(a);
		free(b);
		return 0;
	}
	if ((all = reallocarray(a, na + nb, sizeof(*all))) == NULL) {
		free(a);
		free(b);
		return ZM_ERR_NOMEM;
	}
	if (nb > 0)
		memcpy(all + na, b, nb * sizeof(*b));
	free(b);
	*out = all;
	*n = na + nb;
	return 0;
}

static int
sq_audit_done(struct zm_store *st, int64_t token_id, const char *user)
{
	if (token_id > 0)
		return EXEC(SQ(st), S_PENDING_CLEAR_TOKEN, "i", token_id);
	if (!user_ok(user))
		return ZM_ERR_INVALID;
	return EXEC(SQ(st), S_PENDING_CLEAR_USER, "s", user);
}

/* ---- card bindings (R4) ---- */

static int
sq_cardbind_put(struct zm_store *st, const struct zm_card_binding *b)
{
	return EXEC(SQ(st), S_CARDBIND_PUT, "isibii", b->token_id, b->reader,
	    (int64_t)b->counter, (const void *)b->atr, b->atrlen, b->bound,
	    b->gone);
}

static int
sq_cardbind_del(struct zm_store *st, int64_t token_id)
{
	return EXEC(SQ(st), S_CARDBIND_DEL, "i", token_id);
}

static int
row_cardbind(sqlite3_stmt *q, void *p)
{
	struct zm_card_binding	*b = p;
	const void		*atr;
	int			 n;

	memset(b, 0, sizeof(*b));
	b->token_id = sqlite3_column_int64(q, 0);
	b->counter = (uint16_t)sqlite3_column_int64(q, 2);
	b->bound = sqlite3_column_int64(q, 4);
	b->gone = sqlite3_column_int64(q, 5);
	atr = sqlite3_column_blob(q, 3);
	n = sqlite3_column_bytes(q, 3);
	if (n < 0 || (size_t)n > sizeof(b->atr) || (n > 0 && atr == NULL))
		return ZM_ERR_STORE;
	if (n > 0)
		memcpy(b->atr, atr, (size_t)n);
	b->atrlen = (size_t)n;
	return zm_sq_col_str(q, 1, b->reader, sizeof(b->reader)) != 0 ?
	    ZM_ERR_STORE : 0;
}

static int
sq_cardbind_list(struct zm_store *st, struct zm_card_binding **out,
    size_t *n)
{
	sqlite3_stmt	*q;
	int		 rc;

	rc = STEP(SQ(st), S_CARDBIND_LIST, &q, "");
	return zm_sq_fetch_all(SQ(st), q, rc, sizeof(**out), row_cardbind,
	    (void **)out, n);
}

const struct zm_store_ops zm_store_sqlite_ops = {
	.name = "sqlite",
	.open = zm_sq_open,
	.close = zm_sq_close,
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
	.audit_pending = sq_audit_pending,
	.audit_done = sq_audit_done,
	.cardbind_put = sq_cardbind_put,
	.cardbind_del = sq_cardbind_del,
	.cardbind_list = sq_cardbind_list,
};
