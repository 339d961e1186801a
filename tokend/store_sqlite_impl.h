/*
 * store_sqlite_impl.h - what the two halves of the SQLite registry backend
 * share: store_sqlite.c (the registry operations) and store_sqlite_db.c
 * (the database: open, schema, statements, transactions, rows).  Private
 * to those two files.
 */
#ifndef ZM_STORE_SQLITE_IMPL_H
#define ZM_STORE_SQLITE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store_impl.h"

/* The statements; their SQL is sql[] in store_sqlite_db.c. */
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
	S_PENDING_TOKENS, S_PENDING_USERS, S_PENDING_CLEAR_TOKEN,
	S_PENDING_CLEAR_USER,
	S_CARDBIND_PUT, S_CARDBIND_DEL, S_CARDBIND_LIST,
	S__MAX
};

struct sq {
	struct zm_store	 base;		/* first: store.c dispatches on it */
	sqlite3		*db;
	sqlite3_stmt	*stmt[S__MAX];	/* prepared on first use, kept */
	int		 batch;		/* inside batch_begin/batch_end */
	struct sq_ckpt	*ckpt;		/* store_sqlite_ckpt.c */
};

#define SQ(st)		((struct sq *)(void *)(st))

/* store_sqlite_db.c: the ops' open and close. */
int zm_sq_open(const char *path, struct zm_store **out);
void zm_sq_close(struct zm_store *st);

/*
 * store_sqlite_ckpt.c: WAL checkpoints in a thread of their own, not in a
 * login's commit.  init: wal_autocheckpoint off and the hook on s->db;
 * free: stops the thread (before s->db closes).
 */
struct sq_ckpt;
int zm_sq_ckpt_init(struct sq *s);
void zm_sq_ckpt_free(struct sq *s);
int zm_sq_ckpt_wait(struct zm_store *st, int ms, uint64_t *asked,
    uint64_t *runs);

/*
 * Statements: STEP binds and steps once (SQLite's result; *qp for reading
 * the row, handed to zm_sq_done() after), EXEC runs one for its effect (0
 * or ZM_ERR_STORE).  fmt: 's' text, 'i' int64_t, 'b' blob (pointer,
 * size_t).  Errors are logged under the caller's name.
 */
int zm_sq_step(struct sq *s, const char *func, enum stmt_id id,
    sqlite3_stmt **qp, const char *fmt, ...);
int zm_sq_exec(struct sq *s, const char *func, enum stmt_id id,
    const char *fmt, ...);
void zm_sq_done(sqlite3_stmt *q);
#define STEP(s, id, qp, ...) \
	zm_sq_step((s), __func__, (id), (qp), __VA_ARGS__)
#define EXEC(s, id, ...)	zm_sq_exec((s), __func__, (id), __VA_ARGS__)

/* A write transaction (durable: synchronous=FULL around the commit). */
int zm_sq_tx_begin(struct sq *s, int durable);
int zm_sq_tx_end(struct sq *s, int r, int durable);

/* Rows: a column into a fixed array; row readers; one row or all rows. */
int zm_sq_col_str(sqlite3_stmt *q, int i, char *dst, size_t n);
int zm_sq_row_user(sqlite3_stmt *q, void *p);
int zm_sq_row_token(sqlite3_stmt *q, void *p);
int zm_sq_row_session(sqlite3_stmt *q, void *p);
int zm_sq_fetch_one(sqlite3_stmt *q, int rc,
    int (*row)(sqlite3_stmt *, void *), void *out);
int zm_sq_fetch_all(struct sq *s, sqlite3_stmt *q, int rc, size_t elsz,
    int (*row)(sqlite3_stmt *, void *), void **arr, size_t *n);

#endif
