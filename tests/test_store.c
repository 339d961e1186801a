/*
 * test_store.c - the registry (tokend/store.c, tokend/store_sqlite.c).
 *
 * Each test gets a fresh database in its own temporary directory.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "store_sqlite_impl.h"

#define NOW	1700000000

struct fx {
	char		 dir[64];
	char		 path[128];
	char		 uri[160];
	struct zm_store	*st;
};

static int
setup(void **state)
{
	struct fx	*fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/zm-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/registry.db", fx->dir);
	snprintf(fx->uri, sizeof(fx->uri), "sqlite:%s", fx->path);
	if (zm_store_open(fx->uri, &fx->st) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	char		 cmd[128];

	zm_store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Runs SQL on the file directly, behind the store's back. */
static void
raw_sql(const char *path, const char *text)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int64_t
add_token(struct zm_store *st, const char *user, int kind, const char *ident)
{
	struct zm_token	t;
	uint8_t		sealed[48];

	memset(&t, 0, sizeof(t));
	memset(sealed, 0xa5, sizeof(sealed));
	snprintf(t.user, sizeof(t.user), "%s", user);
	t.kind = kind;
	snprintf(t.ident, sizeof(t.ident), "%s", ident);
	snprintf(t.label, sizeof(t.label), "%s %s", zm_token_kind_name(kind), ident);
	if (kind == ZM_TOK_TOTP) {
		t.secret = sealed;
		t.secret_len = sizeof(sealed);
		snprintf(t.algo, sizeof(t.algo), "SHA1");
		t.digits = 6;
		t.period = 30;
	}
	t.last_step = -1;
	snprintf(t.enrolled_by, sizeof(t.enrolled_by), "hd1");
	assert_int_equal(zm_store_token_add(st, &t, NOW), 0);
	assert_true(t.id > 0);
	return t.id;
}

static void
test_schema_created(void **state)
{
	struct fx	*fx = *state;
	struct stat	 sb;
	sqlite3		*db = NULL;
	sqlite3_stmt	*q = NULL;
	char		 wal[160];

	/* The registry holds lock state and sealed seeds: 0600 (R14). */
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE "
	    "key = 'schema_version'", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "3");
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(name) FROM "
	    "(SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
	    "LIKE 'sqlite%' ORDER BY name)", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0),
	    "audit_head,card_bindings,meta,sessions,tokens,users");
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void
test_reopen_keeps_data(void **state)
{
	struct fx	*fx = *state;
	struct zm_token	 t;
	int64_t		 id;

	id = add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	assert_int_equal(zm_store_totp_advance(fx->st, id, 5, NOW), 0);
	zm_store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(zm_store_open(fx->uri, &fx->st), 0);
	assert_int_equal(zm_store_token_get(fx->st, id, &t), 0);
	assert_string_equal(t.user, "alice");
	assert_int_equal(t.last_step, 5);
	zm_token_clear(&t);
	/* The step survived the reopen: replay still refused. */
	assert_int_equal(zm_store_totp_advance(fx->st, id, 5, NOW), ZM_ERR_REPLAY);
}

static void
test_newer_schema_refused(void **state)
{
	struct fx	*fx = *state;
	struct zm_store	*st = NULL;

	zm_store_close(fx->st);
	fx->st = NULL;
	raw_sql(fx->path, "UPDATE meta SET value = '4' WHERE key = 'schema_version'");
	assert_int_equal(zm_store_open(fx->uri, &st), ZM_ERR_STORE);
	assert_null(st);
	raw_sql(fx->path, "UPDATE meta SET value = 'x1' WHERE key = 'schema_version'");
	assert_int_equal(zm_store_open(fx->uri, &st), ZM_ERR_STORE);
	raw_sql(fx->path, "DELETE FROM meta");
	assert_int_equal(zm_store_open(fx->uri, &st), ZM_ERR_STORE);
	raw_sql(fx->path, "INSERT INTO meta VALUES ('schema_version', '3')");
	assert_int_equal(zm_store_open(fx->uri, &fx->st), 0);
}

/* R4: card bindings survive a reopen; put replaces, del forgets. */
static void
test_cardbind(void **state)
{
	struct fx		*fx = *state;
	struct zm_card_binding	 b, *v = NULL;
	size_t			 n = 0;

	memset(&b, 0, sizeof(b));
	b.token_id = 7;
	snprintf(b.reader, sizeof(b.reader), "Virtual PCD 00 00");
	b.counter = 3;
	b.atr[0] = 0x3b;
	b.atr[1] = 0x88;
	b.atrlen = 2;
	b.bound = NOW;
	assert_int_equal(zm_store_cardbind_put(fx->st, &b), 0);
	b.token_id = 9;
	b.counter = 65535;
	b.atrlen = 0;
	b.bound = NOW + 1;
	assert_int_equal(zm_store_cardbind_put(fx->st, &b), 0);
	b.gone = NOW + 2;
	assert_int_equal(zm_store_cardbind_put(fx->st, &b), 0);	/* replaces */
	b.atrlen = sizeof(b.atr) + 1;
	assert_int_equal(zm_store_cardbind_put(fx->st, &b), ZM_ERR_INVALID);
	zm_store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(zm_store_open(fx->uri, &fx->st), 0);
	assert_int_equal(zm_store_cardbind_list(fx->st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].token_id, 7);
	assert_string_equal(v[0].reader, "Virtual PCD 00 00");
	assert_int_equal(v[0].counter, 3);
	assert_int_equal(v[0].atrlen, 2);
	assert_int_equal(v[0].atr[1], 0x88);
	assert_int_equal(v[0].gone, 0);
	assert_int_equal(v[1].token_id, 9);
	assert_int_equal(v[1].counter, 65535);
	assert_int_equal(v[1].atrlen, 0);
	assert_int_equal(v[1].gone, NOW + 2);
	free(v);
	assert_int_equal(zm_store_cardbind_del(fx->st, 7), 0);
	assert_int_equal(zm_store_cardbind_del(fx->st, 7), 0);
	assert_int_equal(zm_store_cardbind_list(fx->st, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].token_id, 9);
	free(v);
}

/* A schema 2 registry (before card bindings) is migrated in place. */
static void
test_migrate_cardbind(void **state)
{
	struct fx		*fx = *state;
	struct zm_card_binding	*v = NULL;
	size_t			 n = 1;
	int64_t			 id;

	id = add_token(fx->st, "alice", ZM_TOK_CARD, "SN-MIG");
	zm_store_close(fx->st);
	fx->st = NULL;
	raw_sql(fx->path, "DROP TABLE card_bindings");
	raw_sql(fx->path, "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
	assert_int_equal(zm_store_open(fx->uri, &fx->st), 0);
	assert_int_equal(zm_store_cardbind_list(fx->st, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	/* The data from before is untouched. */
	{
		struct zm_token t;

		assert_int_equal(zm_store_token_get(fx->st, id, &t), 0);
		assert_string_equal(t.ident, "SN-MIG");
		zm_token_clear(&t);
	}
}

static void
test_token_add_list_get(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 u;
	struct zm_token		 t, *v = NULL;
	size_t			 n = 0;
	int64_t			 a1, a2, b1;

	a1 = add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	b1 = add_token(fx->st, "bob", ZM_TOK_TOTP, "");
	a2 = add_token(fx->st, "alice", ZM_TOK_CARD, "SN-0001");
	assert_true(a1 < b1 && b1 < a2);

	assert_int_equal(zm_store_token_list(fx->st, "alice", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, a1);
	assert_int_equal(v[1].id, a2);
	assert_int_equal(v[0].kind, ZM_TOK_TOTP);
	assert_int_equal(v[0].secret_len, 48);
	assert_int_equal(v[0].secret[47], 0xa5);
	assert_string_equal(v[0].algo, "SHA1");
	assert_int_equal(v[0].digits, 6);
	assert_int_equal(v[0].period, 30);
	assert_int_equal(v[0].last_step, -1);
	assert_int_equal(v[0].created, NOW);
	assert_string_equal(v[0].enrolled_by, "hd1");
	assert_int_equal(v[1].kind, ZM_TOK_CARD);
	assert_string_equal(v[1].ident, "SN-0001");
	assert_null(v[1].secret);
	zm_tokens_free(v, n);

	assert_int_equal(zm_store_token_list(fx->st, NULL, &v, &n), 0);
	assert_int_equal(n, 3);
	zm_tokens_free(v, n);
	assert_int_equal(zm_store_token_list(fx->st, "carol", &v, &n), 0);
	assert_int_equal(n, 0);
	zm_tokens_free(v, n);

	assert_int_equal(zm_store_token_get(fx->st, b1, &t), 0);
	assert_string_equal(t.user, "bob");
	assert_int_equal(t.state, ZM_TS_ACTIVE);
	zm_token_clear(&t);
	assert_int_equal(zm_store_token_get(fx->st, 999, &t), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_token_find_ident(fx->st, ZM_TOK_CARD, "SN-0001",
	    &t), 0);
	assert_int_equal(t.id, a2);
	zm_token_clear(&t);
	assert_int_equal(zm_store_token_find_ident(fx->st, ZM_TOK_FIDO2,
	    "SN-0001", &t), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_token_find_ident(fx->st, ZM_TOK_TOTP, "", &t),
	    ZM_ERR_NOTFOUND);

	/* Enrolment created the user rows. */
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.created, NOW);
	assert_int_equal(zm_store_user_get(fx->st, "carol", &u), ZM_ERR_NOTFOUND);

	/* Invalid tokens are refused before reaching SQL. */
	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "alice");
	t.kind = 9;
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_INVALID);
	t.kind = ZM_TOK_TOTP;
	t.user[0] = '\0';
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_INVALID);
}

/* R3, R6: one card, one person; a revoked card never comes back. */
static void
test_duplicate_ident(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 u;
	struct zm_token		 t;
	int64_t			*ids = NULL;
	size_t			 n = 0;
	int64_t			 id;

	id = add_token(fx->st, "alice", ZM_TOK_CARD, "SN-42");
	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "bob");
	t.kind = ZM_TOK_CARD;
	snprintf(t.ident, sizeof(t.ident), "SN-42");
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_EXISTS);
	snprintf(t.user, sizeof(t.user), "alice");
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_EXISTS);

	assert_int_equal(zm_store_revoke(fx->st, "alice", id, NULL, "lost", NOW,
	    &ids, &n), 0);
	free(ids);
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_EXISTS);
	snprintf(t.user, sizeof(t.user), "bob");
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_EXISTS);
	t.state = ZM_TS_REPLACED;
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_EXISTS);

	/* A failed add left nothing behind (no user row for bob). */
	assert_int_equal(zm_store_user_get(fx->st, "bob", &u), ZM_ERR_NOTFOUND);

	/* TOTP tokens have no ident: many may coexist. */
	add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	/* The same ident under another kind is another namespace. */
	add_token(fx->st, "alice", ZM_TOK_FIDO2, "SN-42");
}

static void
test_totp_advance(void **state)
{
	struct fx	*fx = *state;
	struct zm_token	 t;
	int64_t		*ids = NULL;
	size_t		 n = 0;
	int64_t		 id, card;

	id = add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	card = add_token(fx->st, "alice", ZM_TOK_CARD, "SN-7");
	assert_int_equal(zm_store_totp_advance(fx->st, id, 100, NOW), 0);
	assert_int_equal(zm_store_totp_advance(fx->st, id, 100, NOW + 1),
	    ZM_ERR_REPLAY);
	assert_int_equal(zm_store_totp_advance(fx->st, id, 99, NOW + 1),
	    ZM_ERR_REPLAY);
	assert_int_equal(zm_store_totp_advance(fx->st, id, 0, NOW + 1),
	    ZM_ERR_REPLAY);
	assert_int_equal(zm_store_totp_advance(fx->st, id, 101, NOW + 30), 0);
	assert_int_equal(zm_store_token_get(fx->st, id, &t), 0);
	assert_int_equal(t.last_step, 101);
	assert_int_equal(t.last_used, NOW + 30);
	zm_token_clear(&t);

	assert_int_equal(zm_store_totp_advance(fx->st, 9999, 200, NOW),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_totp_advance(fx->st, card, 200, NOW),
	    ZM_ERR_INVALID);

	/* R5: a revoked token never authenticates again. */
	assert_int_equal(zm_store_revoke(fx->st, "alice", id, NULL, "lost", NOW,
	    &ids, &n), 0);
	free(ids);
	assert_int_equal(zm_store_totp_advance(fx->st, id, 500, NOW + 60),
	    ZM_ERR_REVOKED);
	assert_int_equal(zm_store_token_get(fx->st, id, &t), 0);
	assert_int_equal(t.last_step, 101);
	zm_token_clear(&t);
}

/* R13, R9: attempt limits; the helpdesk lock does not expire. */
static void
test_failures_and_lock(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 u;
	uint32_t		 f = 0;
	int64_t			 lk = 0;

	assert_int_equal(zm_store_failure_add(fx->st, "alice", NOW, 3, 1800, &f,
	    &lk), 0);
	assert_int_equal(f, 1);
	assert_int_equal(lk, 0);
	assert_int_equal(zm_store_failure_add(fx->st, "alice", NOW, 3, 1800, &f,
	    &lk), 0);
	assert_int_equal(f, 2);
	assert_int_equal(lk, 0);
	assert_int_equal(zm_store_failure_add(fx->st, "alice", NOW + 5, 3, 1800,
	    &f, &lk), 0);
	assert_int_equal(f, 3);
	assert_int_equal(lk, NOW + 5 + 1800);
	/* Further failures do not extend or lift the lock. */
	assert_int_equal(zm_store_failure_add(fx->st, "alice", NOW + 6, 3, 1800,
	    &f, &lk), 0);
	assert_int_equal(f, 4);
	assert_int_equal(lk, NOW + 5 + 1800);
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.failures, 4);
	assert_int_equal(u.failures_since, 4);
	assert_int_equal(u.locked_until, NOW + 5 + 1800);

	/* After the lock runs out the count starts again. */
	assert_int_equal(zm_store_failure_add(fx->st, "alice", NOW + 5 + 1800, 3,
	    1800, &f, &lk), 0);
	assert_int_equal(f, 1);
	assert_int_equal(lk, 0);

	/* Success resets the counters and records where from. */
	assert_int_equal(zm_store_success_record(fx->st, "alice", NOW + 4000,
	    "tty1", 0), 0);
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.failures, 0);
	assert_int_equal(u.failures_since, 0);
	assert_int_equal(u.locked_until, 0);
	assert_int_equal(u.last_success, NOW + 4000);
	assert_string_equal(u.last_from, "tty1");

	/* Helpdesk lock: -1, stays after any time, until unlock. */
	assert_int_equal(zm_store_failure_add(fx->st, "bob", NOW, 2,
	    ZM_LOCKOUT_HELPDESK, &f, &lk), 0);
	assert_int_equal(zm_store_failure_add(fx->st, "bob", NOW, 2,
	    ZM_LOCKOUT_HELPDESK, &f, &lk), 0);
	assert_int_equal(f, 2);
	assert_int_equal(lk, -1);
	assert_int_equal(zm_store_failure_add(fx->st, "bob", NOW + 86400 * 365, 2,
	    ZM_LOCKOUT_HELPDESK, &f, &lk), 0);
	assert_int_equal(f, 3);
	assert_int_equal(lk, -1);
	/* A success racing the lock does not lift it either. */
	assert_int_equal(zm_store_success_record(fx->st, "bob", NOW, "x", 0), 0);
	assert_int_equal(zm_store_user_get(fx->st, "bob", &u), 0);
	assert_int_equal(u.locked_until, -1);
	assert_int_equal(zm_store_unlock(fx->st, "bob"), 0);
	assert_int_equal(zm_store_user_get(fx->st, "bob", &u), 0);
	assert_int_equal(u.locked_until, 0);
	assert_int_equal(u.failures, 0);
	assert_int_equal(zm_store_unlock(fx->st, "nobody"), ZM_ERR_NOTFOUND);

	/* max_failures 0: counted, never locked. */
	assert_int_equal(zm_store_failure_add(fx->st, "carol", NOW, 0, 60, &f,
	    &lk), 0);
	assert_int_equal(lk, 0);
	assert_int_equal(zm_store_failure_add(fx->st, "carol", NOW, 3, -5, &f,
	    &lk), ZM_ERR_INVALID);
}

/*
 * Eight processes, each with its own connection, count 50 failures each:
 * exactly 400, so no increment is lost to a read-modify-write race.
 */
static void
test_failures_concurrent(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 u;
	pid_t			 pid[8];
	int			 i, j, status, ok;

	for (i = 0; i < 8; i++) {
		assert_true((pid[i] = fork()) >= 0);
		if (pid[i] == 0) {
			struct zm_store	*st = NULL;

			ok = zm_store_open(fx->uri, &st) == 0;
			for (j = 0; ok && j < 50; j++)
				ok = zm_store_failure_add(st, "alice", NOW, 1000,
				    60, NULL, NULL) == 0;
			zm_store_close(st);
			_exit(ok ? 0 : 1);
		}
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.failures, 400);
	assert_int_equal(u.failures_since, 400);
}

/* R5: revoke by id, by card serial, or everything; only what matched. */
static void
test_revoke(void **state)
{
	struct fx	*fx = *state;
	struct zm_token	 t;
	int64_t		*ids = NULL;
	size_t		 n = 0;
	int64_t		 a_totp, a_c1, a_c2, a_f, b_c;

	a_totp = add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	a_c1 = add_token(fx->st, "alice", ZM_TOK_CARD, "C1");
	a_c2 = add_token(fx->st, "alice", ZM_TOK_CARD, "C2");
	a_f = add_token(fx->st, "alice", ZM_TOK_FIDO2, "F1");
	b_c = add_token(fx->st, "bob", ZM_TOK_CARD, "C3");

	/* Someone else's token, by id or by serial: not found, untouched. */
	assert_int_equal(zm_store_revoke(fx->st, "alice", b_c, NULL, "lost", NOW,
	    &ids, &n), ZM_ERR_NOTFOUND);
	assert_null(ids);
	assert_int_equal(n, 0);
	assert_int_equal(zm_store_revoke(fx->st, "alice", 0, "C3", "lost", NOW,
	    &ids, &n), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_token_get(fx->st, b_c, &t), 0);
	assert_int_equal(t.state, ZM_TS_ACTIVE);
	zm_token_clear(&t);

	assert_int_equal(zm_store_revoke(fx->st, "alice", a_c1, NULL, "stolen",
	    NOW + 1, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], a_c1);
	free(ids);
	assert_int_equal(zm_store_token_get(fx->st, a_c1, &t), 0);
	assert_int_equal(t.state, ZM_TS_REVOKED);
	assert_int_equal(t.revoked_at, NOW + 1);
	assert_string_equal(t.revoke_reason, "stolen");
	assert_string_equal(zm_token_state_name(t.state), "revoked");
	zm_token_clear(&t);
	/* Already revoked: nothing to do. */
	assert_int_equal(zm_store_revoke(fx->st, "alice", a_c1, NULL, "lost",
	    NOW + 2, &ids, &n), ZM_ERR_NOTFOUND);

	assert_int_equal(zm_store_revoke(fx->st, "alice", 0, "C2", "replaced",
	    NOW + 3, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], a_c2);
	free(ids);
	assert_int_equal(zm_store_revoke(fx->st, "alice", 0, "C2", "lost",
	    NOW + 3, &ids, &n), ZM_ERR_NOTFOUND);

	/* All: the two still active, in id order. */
	assert_int_equal(zm_store_revoke(fx->st, "alice", 0, NULL, "leaver",
	    NOW + 4, &ids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], a_totp);
	assert_int_equal(ids[1], a_f);
	free(ids);
	assert_int_equal(zm_store_revoke(fx->st, "alice", 0, NULL, "leaver",
	    NOW + 5, &ids, &n), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_revoke(fx->st, "nobody", 0, NULL, "leaver",
	    NOW + 5, &ids, &n), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_token_get(fx->st, a_c1, &t), 0);
	assert_string_equal(t.revoke_reason, "stolen");	/* first reason kept */
	zm_token_clear(&t);
	assert_int_equal(zm_store_token_get(fx->st, b_c, &t), 0);
	assert_int_equal(t.state, ZM_TS_ACTIVE);
	zm_token_clear(&t);
}

static void
test_sessions(void **state)
{
	struct fx		*fx = *state;
	struct zm_session	 s, *v = NULL;
	struct zm_user_state	 u;
	size_t			 n = 0;
	int64_t			 s1, s2, s3;

	assert_int_equal(zm_store_user_ensure(fx->st, "alice", NOW), 0);
	memset(&s, 0, sizeof(s));
	snprintf(s.user, sizeof(s.user), "alice");
	snprintf(s.zone, sizeof(s.zone), "mynumber");
	snprintf(s.tty, sizeof(s.tty), "tty1");
	snprintf(s.logind_id, sizeof(s.logind_id), "c7");
	s.token_id = 11;
	s.pid = 4242;
	s.pid_starttime = 123456789012ULL;
	s.privileged = 1;
	s.opened = NOW;
	assert_int_equal(zm_store_session_open(fx->st, &s), 0);
	s1 = s.id;
	s.token_id = 12;
	assert_int_equal(zm_store_session_open(fx->st, &s), 0);
	s2 = s.id;
	snprintf(s.user, sizeof(s.user), "bob");
	s.token_id = 11;
	assert_int_equal(zm_store_session_open(fx->st, &s), 0);
	s3 = s.id;
	assert_true(s1 < s2 && s2 < s3);

	assert_int_equal(zm_store_sessions_open_list(fx->st, NULL, 0, &v, &n), 0);
	assert_int_equal(n, 3);
	free(v);
	assert_int_equal(zm_store_sessions_open_list(fx->st, "alice", 0, &v, &n), 0);
	assert_int_equal(n, 2);
	free(v);
	assert_int_equal(zm_store_sessions_open_list(fx->st, "alice", 11, &v, &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, s1);
	assert_string_equal(v[0].zone, "mynumber");
	assert_string_equal(v[0].logind_id, "c7");
	assert_int_equal(v[0].pid, 4242);
	assert_int_equal(v[0].pid_starttime, 123456789012ULL);
	assert_int_equal(v[0].privileged, 1);
	free(v);
	assert_int_equal(zm_store_sessions_open_list(fx->st, NULL, 11, &v, &n), 0);
	assert_int_equal(n, 2);
	free(v);

	/* R13: closing records the logout time shown at the next login. */
	assert_int_equal(zm_store_session_close(fx->st, s1, NOW + 60, "revoked"),
	    0);
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.last_logout, NOW + 60);
	assert_int_equal(zm_store_session_get(fx->st, s1, &s), 0);
	assert_int_equal(s.closed, NOW + 60);
	assert_string_equal(s.close_reason, "revoked");
	/* A second close keeps the first. */
	assert_int_equal(zm_store_session_close(fx->st, s1, NOW + 90, "logout"), 0);
	assert_int_equal(zm_store_session_get(fx->st, s1, &s), 0);
	assert_string_equal(s.close_reason, "revoked");
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.last_logout, NOW + 60);
	assert_int_equal(zm_store_session_close(fx->st, 999, NOW, "logout"),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_session_get(fx->st, 999, &s), ZM_ERR_NOTFOUND);

	assert_int_equal(zm_store_sessions_open_list(fx->st, "alice", 0, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, s2);
	free(v);
	/* bob has no user row: closing his session still works. */
	assert_int_equal(zm_store_session_close(fx->st, s3, NOW + 5, "logout"), 0);
	assert_int_equal(zm_store_user_get(fx->st, "bob", &u), ZM_ERR_NOTFOUND);
}

static void
test_users_disable(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 u, *v = NULL;
	size_t			 n = 0;

	assert_int_equal(zm_store_user_ensure(fx->st, "bob", NOW), 0);
	assert_int_equal(zm_store_user_ensure(fx->st, "bob", NOW + 50), 0);
	assert_int_equal(zm_store_set_disabled(fx->st, "alice", 1, NOW + 10), 0);
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.disabled, 1);
	assert_int_equal(zm_store_set_disabled(fx->st, "alice", 0, NOW + 20), 0);
	assert_int_equal(zm_store_user_get(fx->st, "alice", &u), 0);
	assert_int_equal(u.disabled, 0);
	assert_int_equal(u.enabled_at, NOW + 20);

	assert_int_equal(zm_store_user_list(fx->st, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].user, "alice");
	assert_string_equal(v[1].user, "bob");
	assert_int_equal(v[1].created, NOW);
	free(v);

	assert_int_equal(zm_store_user_get(fx->st, "", &u), ZM_ERR_INVALID);
}

static void
test_batch(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 u;
	struct zm_token		 t, *v = NULL;
	size_t		 n = 0;
	char		 name[32];
	int		 i;

	assert_int_equal(zm_store_batch_begin(fx->st), 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "u%03d", i);
		add_token(fx->st, name, ZM_TOK_TOTP, "");
	}
	add_token(fx->st, "u000", ZM_TOK_CARD, "B1");
	/* One refused add inside a batch does not spoil the batch. */
	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "dup");
	t.kind = ZM_TOK_CARD;
	snprintf(t.ident, sizeof(t.ident), "B1");
	assert_int_equal(zm_store_token_add(fx->st, &t, NOW), ZM_ERR_EXISTS);
	assert_int_equal(zm_store_batch_end(fx->st, 1), 0);
	assert_int_equal(zm_store_user_get(fx->st, "dup", &u), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_store_user_get(fx->st, "u099", &u), 0);
	assert_int_equal(zm_store_token_list(fx->st, NULL, &v, &n), 0);
	assert_int_equal(n, 101);
	zm_tokens_free(v, n);

	assert_int_equal(zm_store_batch_begin(fx->st), 0);
	add_token(fx->st, "zed", ZM_TOK_TOTP, "");
	assert_int_equal(zm_store_batch_end(fx->st, 0), 0);
	assert_int_equal(zm_store_token_list(fx->st, "zed", &v, &n), 0);
	assert_int_equal(n, 0);
	zm_tokens_free(v, n);
	assert_int_equal(zm_store_batch_end(fx->st, 1), ZM_ERR_INVALID);
}

static void
test_audit_head(void **state)
{
	struct fx	*fx = *state;
	uint64_t	 seq = 99;
	char		 hash[65], h2[65];

	assert_int_equal(zm_store_audit_head_get(fx->st, &seq, hash), 0);
	assert_int_equal(seq, 0);
	memset(h2, '0', 64);
	h2[64] = '\0';
	assert_string_equal(hash, h2);
	memset(h2, 'a', 64);
	h2[0] = '7';
	assert_int_equal(zm_store_audit_head_set(fx->st, 12345, h2), 0);
	assert_int_equal(zm_store_audit_head_get(fx->st, &seq, hash), 0);
	assert_int_equal(seq, 12345);
	assert_string_equal(hash, h2);
	assert_int_equal(zm_store_audit_head_set(fx->st, 1, "abc"), ZM_ERR_INVALID);
	h2[5] = 'G';
	assert_int_equal(zm_store_audit_head_set(fx->st, 1, h2), ZM_ERR_INVALID);
	assert_int_equal(zm_store_audit_head_get(fx->st, &seq, hash), 0);
	assert_int_equal(seq, 12345);
}

static void
test_bad_uri(void **state)
{
	struct zm_store	*st = (struct zm_store *)&st;

	(void)state;
	assert_int_equal(zm_store_open("ldap://dir.example/", &st), ZM_ERR_CONFIG);
	assert_null(st);
	assert_int_equal(zm_store_open("/var/lib/zonemfa/registry.db", &st),
	    ZM_ERR_CONFIG);
	assert_int_equal(zm_store_open("sqlite:", &st), ZM_ERR_CONFIG);
	assert_int_equal(zm_store_open("SQLITE:/tmp/x", &st), ZM_ERR_CONFIG);
	assert_int_equal(zm_store_open("", &st), ZM_ERR_CONFIG);
	assert_int_equal(zm_store_open(NULL, &st), ZM_ERR_CONFIG);
}

/* Fail closed: a damaged or unsafe registry is never used. */
static void
test_bad_file(void **state)
{
	struct fx	*fx = *state;
	struct zm_store	*st = NULL;
	char		 path[160], uri[180], junk[4096];
	int		 fd;

	snprintf(path, sizeof(path), "%s/corrupt.db", fx->dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	memset(junk, 'Z', sizeof(junk));
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_int_equal(zm_store_open(uri, &st), ZM_ERR_STORE);
	assert_null(st);

	/* A real database whose pages were overwritten. */
	zm_store_close(fx->st);
	fx->st = NULL;
	raw_sql(fx->path, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_true((fd = open(fx->path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, junk, 100, 0), 100);
	close(fd);
	assert_int_equal(zm_store_open(fx->uri, &st), ZM_ERR_STORE);

	/* Missing parent directory. */
	snprintf(uri, sizeof(uri), "sqlite:%s/no/such/dir.db", fx->dir);
	assert_int_equal(zm_store_open(uri, &st), ZM_ERR_STORE);

	/* Group-writable registry. */
	snprintf(path, sizeof(path), "%s/gw.db", fx->dir);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(fchmod(fd, 0660), 0);
	close(fd);
	assert_int_equal(zm_store_open(uri, &st), ZM_ERR_PERM);

	/* A symlink is not followed. */
	snprintf(path, sizeof(path), "%s/link.db", fx->dir);
	assert_int_equal(symlink("registry.db", path), 0);
	snprintf(uri, sizeof(uri), "sqlite:%s", path);
	assert_int_equal(zm_store_open(uri, &st), ZM_ERR_STORE);
	assert_null(st);
}

/*
 * Issue 11: WAL checkpoints are off the login path.  The daemon's
 * connection has wal_autocheckpoint 0; past 1000 WAL pages a commit only
 * wakes the checkpoint thread, which folds the pages into the database
 * file (PASSIVE) on its own connection.
 */
static void
test_wal_checkpoint_thread(void **state)
{
	struct fx	*fx = *state;
	struct zm_token	 t, *v = NULL;
	sqlite3_stmt	*q;
	struct stat	 sb;
	static uint8_t	 blob[160 * 1024];
	uint64_t	 asked = 0, runs = 0;
	size_t		 n = 0;
	char		 ident[32];
	int		 i;

	assert_int_equal(sqlite3_prepare_v2(SQ(fx->st)->db,
	    "PRAGMA wal_autocheckpoint", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	/* A few small commits: far from 1000 pages, nothing asked. */
	add_token(fx->st, "alice", ZM_TOK_TOTP, "");
	assert_int_equal(zm_sq_ckpt_wait(fx->st, 0, &asked, &runs), 0);
	assert_int_equal(asked, 0);
	assert_int_equal(runs, 0);
	/* ~40 pages each: the WAL passes 1000 pages. */
	for (i = 0; i < 30; i++) {
		memset(blob, i + 1, sizeof(blob));
		memset(&t, 0, sizeof(t));
		snprintf(t.user, sizeof(t.user), "alice");
		t.kind = ZM_TOK_CARD;
		snprintf(ident, sizeof(ident), "SN-%04d", i);
		snprintf(t.ident, sizeof(t.ident), "%s", ident);
		snprintf(t.label, sizeof(t.label), "card %s", ident);
		t.data = blob;
		t.data_len = sizeof(blob);
		t.last_step = -1;
		snprintf(t.enrolled_by, sizeof(t.enrolled_by), "hd1");
		assert_int_equal(zm_store_token_add(fx->st, &t, NOW), 0);
	}
	assert_int_equal(zm_sq_ckpt_wait(fx->st, 10000, &asked, &runs), 0);
	assert_true(asked >= 1);
	assert_true(runs >= 1);
	/* The pages reached the database file (they were only in the WAL). */
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_true(sb.st_size >= 25 * (off_t)sizeof(blob));
	/* And the registry still reads whole after a reopen. */
	zm_store_close(fx->st);
	assert_int_equal(zm_store_open(fx->uri, &fx->st), 0);
	assert_int_equal(zm_store_token_list(fx->st, "alice", &v, &n), 0);
	assert_int_equal(n, 31);
	assert_int_equal(v[30].data_len, sizeof(blob));
	assert_int_equal(v[30].data[0], 30);
	zm_tokens_free(v, n);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_schema_created),
		T(test_reopen_keeps_data),
		T(test_newer_schema_refused),
		T(test_cardbind),
		T(test_migrate_cardbind),
		T(test_token_add_list_get),
		T(test_duplicate_ident),
		T(test_totp_advance),
		T(test_failures_and_lock),
		T(test_failures_concurrent),
		T(test_revoke),
		T(test_sessions),
		T(test_users_disable),
		T(test_batch),
		T(test_audit_head),
		T(test_bad_file),
		T(test_wal_checkpoint_thread),
		cmocka_unit_test(test_bad_uri),
	};
#undef T

	/* Store errors on stderr (the TAP log): they explain a failure. */
	zm_log_init(NULL, 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
