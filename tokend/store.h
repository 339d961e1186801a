/*
 * store.h - the registry interface.
 *
 * Callers use only the zm_store_* functions below; a backend implements
 * struct zm_store_ops.  "sqlite:PATH" is the embedded default
 * (store_sqlite.c).  A networked backend (e.g. replicated LDAP with a local
 * replica and revocations pushed to every terminal) adds a file and a line
 * in zm_store_open(), nothing else: every operation that must be atomic
 * (failure counting, TOTP step advance, revocation) is one call here, so no
 * caller does read-modify-write across calls.
 *
 * Times are unix seconds.  Strings are NUL-terminated copies owned by the
 * struct that holds them.
 */
#ifndef ZM_STORE_H
#define ZM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum zm_token_kind {
	ZM_TOK_TOTP = 1,
	ZM_TOK_CARD = 2,
	ZM_TOK_FIDO2 = 3,
	ZM_TOK_TEMPCODE = 4,
};

enum zm_token_state {
	ZM_TS_ACTIVE = 0,
	ZM_TS_REVOKED = 1,
	ZM_TS_REPLACED = 2,
	ZM_TS_SUSPENDED = 3,
};

struct zm_token {
	int64_t		id;
	char		user[ZM_NAME_MAX];
	int		kind;		/* enum zm_token_kind */
	int		state;		/* enum zm_token_state */
	char		label[128];
	char		ident[256];	/* unique identity: card serial, FIDO credential
					   id (hex), "" for TOTP (then unique per id) */
	/* TOTP: seed encrypted by tokend/crypto.c (nonce || ciphertext || tag) */
	uint8_t		*secret;
	size_t		secret_len;
	char		algo[16];	/* SHA1 SHA256 SHA512 */
	unsigned	digits;
	unsigned	period;
	int64_t		last_step;	/* last accepted TOTP step, -1 none */
	/* card / FIDO: public key, certificate, etc. (profile-defined blob) */
	uint8_t		*data;
	size_t		data_len;
	uint32_t	counter;	/* FIDO signature counter */
	unsigned	flags;
	int64_t		created;
	int64_t		last_used;	/* 0 = never */
	int64_t		revoked_at;	/* 0 = not */
	char		revoke_reason[32];
	char		enrolled_by[ZM_NAME_MAX];
};

struct zm_user_state {
	char		user[ZM_NAME_MAX];
	int		disabled;
	uint32_t	failures;		/* consecutive, since last success */
	int64_t		locked_until;		/* 0 none, -1 until unlocked, else time */
	int64_t		last_success;		/* 0 = never */
	char		last_from[128];		/* host/tty of last success */
	int64_t		last_logout;		/* 0 = never */
	uint32_t	failures_since;		/* failed attempts since last success */
	int64_t		created;
	int64_t		enabled_at;		/* last enable by helpdesk (dormancy restart) */
};

struct zm_session {
	int64_t		id;
	char		user[ZM_NAME_MAX];
	char		zone[ZM_NAME_MAX];
	char		terminal[ZM_NAME_MAX];
	char		tty[64];
	char		rhost[128];
	char		service[64];
	char		logind_id[64];
	int64_t		token_id;	/* 0 = none */
	int32_t		pid;
	uint64_t	pid_starttime;	/* /proc/PID/stat field 22: guards against PID reuse */
	int		privileged;
	int64_t		owner_uid;	/* the non-root uid that registered it; 0: root */
	int64_t		opened;
	int64_t		closed;		/* 0 = open */
	char		close_reason[32];
};

/*
 * A revocation (token_id > 0) or a disable/enable (token_id 0) that is in
 * the registry but may not be in the audit log yet.
 */
struct zm_audit_pending {
	int64_t		token_id;
	char		user[ZM_NAME_MAX];
	int		state;		/* token */
	int64_t		when;		/* token: revoked_at */
	char		reason[32];	/* token: revoke_reason */
	int		disabled;	/* user */
};

/*
 * Card removal (R4): where the card of a card login was seen, so that the
 * watch (cardwatch.c) is re-armed for it after a daemon restart.
 */
struct zm_card_binding {
	int64_t		token_id;	/* the card's token (sessions.token_id) */
	char		reader[128];
	uint16_t	counter;	/* the reader's card event counter */
	uint8_t		atr[36];
	size_t		atrlen;
	int64_t		bound;		/* when the login saw it */
	int64_t		gone;		/* when it was seen leaving, 0: not */
};

struct zm_store;

struct zm_store_ops {
	const char *name;
	int  (*open)(const char *location, struct zm_store **out);
	void (*close)(struct zm_store *st);
	int  (*user_get)(struct zm_store *st, const char *user, struct zm_user_state *out);
	int  (*user_ensure)(struct zm_store *st, const char *user, int64_t now);
	int  (*user_list)(struct zm_store *st, struct zm_user_state **out, size_t *n);
	int  (*token_add)(struct zm_store *st, struct zm_token *t, int64_t now);
	int  (*token_get)(struct zm_store *st, int64_t id, struct zm_token *out);
	int  (*token_list)(struct zm_store *st, const char *user, struct zm_token **out, size_t *n);
	int  (*token_find_ident)(struct zm_store *st, int kind, const char *ident, struct zm_token *out);
	int  (*totp_advance)(struct zm_store *st, int64_t token_id, int64_t step, int64_t now);
	int  (*failure_add)(struct zm_store *st, const char *user, int64_t now,
	    uint32_t max_failures, int64_t lockout, uint32_t *failures, int64_t *locked_until);
	int  (*success_record)(struct zm_store *st, const char *user, int64_t now,
	    const char *from, int64_t token_id);
	int  (*unlock)(struct zm_store *st, const char *user);
	int  (*set_disabled)(struct zm_store *st, const char *user, int disabled, int64_t now);
	int  (*revoke)(struct zm_store *st, const char *user, int64_t token_id,
	    const char *ident, const char *reason, int64_t now, int64_t **ids, size_t *n);
	int  (*token_replace)(struct zm_store *st, struct zm_token *t, int64_t now,
	    int64_t **ids, size_t *n);
	int  (*session_open)(struct zm_store *st, struct zm_session *s);
	int  (*session_close)(struct zm_store *st, int64_t id, int64_t now, const char *reason);
	int  (*session_get)(struct zm_store *st, int64_t id, struct zm_session *out);
	int  (*sessions_open_list)(struct zm_store *st, const char *user, int64_t token_id,
	    struct zm_session **out, size_t *n);
	int  (*batch_begin)(struct zm_store *st);	/* optional (NULL): bulk loads */
	int  (*batch_end)(struct zm_store *st, int commit);
	int  (*audit_head_get)(struct zm_store *st, uint64_t *seq, char hash[65]);
	int  (*audit_head_set)(struct zm_store *st, uint64_t seq, const char *hash);
	int  (*fido_counter_advance)(struct zm_store *st, int64_t token_id,
	    uint32_t counter, int64_t now, uint32_t *stored);
	int  (*token_set_state)(struct zm_store *st, int64_t token_id, int state,
	    const char *reason, int64_t now);
	int  (*audit_pending)(struct zm_store *st, struct zm_audit_pending **out,
	    size_t *n);
	int  (*audit_done)(struct zm_store *st, int64_t token_id, const char *user);
	int  (*cardbind_put)(struct zm_store *st, const struct zm_card_binding *b);
	int  (*cardbind_del)(struct zm_store *st, int64_t token_id);
	int  (*cardbind_list)(struct zm_store *st, struct zm_card_binding **out,
	    size_t *n);
};

/* Opens "sqlite:PATH" (creating, migrating).  ZM_ERR_CONFIG for an unknown scheme. */
int zm_store_open(const char *uri, struct zm_store **out);
void zm_store_close(struct zm_store *st);

/* ZM_ERR_NOTFOUND if the user has no row. */
int zm_store_user_get(struct zm_store *st, const char *user, struct zm_user_state *out);
int zm_store_user_ensure(struct zm_store *st, const char *user, int64_t now);
int zm_store_user_list(struct zm_store *st, struct zm_user_state **out, size_t *n);
/*
 * Adds t (t->id is set).  ZM_ERR_EXISTS if a token of the same kind with
 * the same non-empty ident exists in any state (a revoked card can never
 * be re-enrolled, and one card belongs to one user).  Durable on return.
 */
int zm_store_token_add(struct zm_store *st, struct zm_token *t, int64_t now);
int zm_store_token_get(struct zm_store *st, int64_t id, struct zm_token *out);
/* All tokens of user (NULL: everyone), ordered by id.  Free with zm_tokens_free. */
int zm_store_token_list(struct zm_store *st, const char *user, struct zm_token **out, size_t *n);
int zm_store_token_find_ident(struct zm_store *st, int kind, const char *ident, struct zm_token *out);
/*
 * Atomically: if the token is active and its last_step < step, set
 * last_step = step and last_used = now and return 0; else ZM_ERR_REPLAY
 * (or ZM_ERR_REVOKED if no longer active).
 */
int zm_store_totp_advance(struct zm_store *st, int64_t token_id, int64_t step, int64_t now);
/*
 * FIDO2 signature counter, atomically: if the token is an active fido2
 * token and counter > the stored one (or both are 0: a key that never
 * counts), store it, set last_used = now and return 0.  Else
 * ZM_ERR_REPLAY with *stored = the stored counter (a cloned key), or
 * ZM_ERR_REVOKED if the token is no longer active.
 */
int zm_store_fido_counter_advance(struct zm_store *st, int64_t token_id,
    uint32_t counter, int64_t now, uint32_t *stored);
/*
 * Move an active token to state (e.g. ZM_TS_SUSPENDED), recording when and
 * why in revoked_at/revoke_reason; fsync-durable.  ZM_ERR_NOTFOUND when
 * no active token has that id (a revocation is never undone here).
 */
int zm_store_token_set_state(struct zm_store *st, int64_t token_id, int state,
    const char *reason, int64_t now);
/*
 * Atomically count one failure.  If failures reach max_failures the user is
 * locked: locked_until = now + lockout, or -1 when lockout is
 * ZM_LOCKOUT_HELPDESK.  Returns the new count and lock state.
 */
int zm_store_failure_add(struct zm_store *st, const char *user, int64_t now,
    uint32_t max_failures, int64_t lockout, uint32_t *failures, int64_t *locked_until);
/* Successful login: failures = 0, failures_since = 0, last_success/from set. */
int zm_store_success_record(struct zm_store *st, const char *user, int64_t now,
    const char *from, int64_t token_id);
int zm_store_unlock(struct zm_store *st, const char *user);
/*
 * disabled = 0 also sets enabled_at = now (restarts the dormancy clock).
 * The user is marked audit-pending until zm_store_audit_done().
 */
int zm_store_set_disabled(struct zm_store *st, const char *user, int disabled, int64_t now);
/*
 * Revoke: token_id > 0 that token (must belong to user); else ident != NULL
 * the token with that ident; else every active token of user.  The change
 * is fsync-durable (synchronous=FULL) before this returns, and the tokens
 * are marked audit-pending (except reason "used": a spent temporary code)
 * until zm_store_audit_done().  *ids receives
 * the revoked token ids (malloc'd).  ZM_ERR_NOTFOUND if nothing matched.
 */
int zm_store_revoke(struct zm_store *st, const char *user, int64_t token_id,
    const char *ident, const char *reason, int64_t now, int64_t **ids, size_t *n);
/*
 * Card replacement (R6): in one durable transaction every active token of
 * t->kind of t->user becomes REPLACED and t is added.  *ids: the replaced
 * ids.  ZM_ERR_NOTFOUND: nothing to replace; ZM_ERR_EXISTS: t's ident is
 * taken.  On error nothing changed.
 */
int zm_store_token_replace(struct zm_store *st, struct zm_token *t,
    int64_t now, int64_t **ids, size_t *n);
/* Sets s->id. */
int zm_store_session_open(struct zm_store *st, struct zm_session *s);
/* Also sets the user's last_logout. */
int zm_store_session_close(struct zm_store *st, int64_t id, int64_t now, const char *reason);
int zm_store_session_get(struct zm_store *st, int64_t id, struct zm_session *out);
/* Open sessions, filtered by user (NULL: all) and token_id (0: any). */
int zm_store_sessions_open_list(struct zm_store *st, const char *user, int64_t token_id,
    struct zm_session **out, size_t *n);
/*
 * Bulk loading (bench, migrations): everything between begin and end is one
 * transaction.  No-ops for a backend without transactions.
 */
int zm_store_batch_begin(struct zm_store *st);
int zm_store_batch_end(struct zm_store *st, int commit);
/* The audit chain head (seq 0 and 64 zeros when none). */
int zm_store_audit_head_get(struct zm_store *st, uint64_t *seq, char hash[65]);
int zm_store_audit_head_set(struct zm_store *st, uint64_t seq, const char *hash);

/*
 * Revocations and disables not yet known to be in the audit log (a crash
 * came between the registry and the record): the daemon records them at
 * start-up.  Free *out with free().
 */
int zm_store_audit_pending(struct zm_store *st, struct zm_audit_pending **out,
    size_t *n);
/* The record is written: token_id > 0 that token, else user's flag. */
int zm_store_audit_done(struct zm_store *st, int64_t token_id, const char *user);

/* Card bindings (one per token): insert or replace b. */
int zm_store_cardbind_put(struct zm_store *st, const struct zm_card_binding *b);
/* Forget token_id's binding (none: 0). */
int zm_store_cardbind_del(struct zm_store *st, int64_t token_id);
/* Every binding, oldest first.  Free *out with free(). */
int zm_store_cardbind_list(struct zm_store *st, struct zm_card_binding **out,
    size_t *n);

void zm_token_clear(struct zm_token *t);	/* frees secret/data (wiped) */
void zm_tokens_free(struct zm_token *t, size_t n);
const char *zm_token_kind_name(int kind);	/* "totp", "card", ... */
const char *zm_token_state_name(int state);	/* "active", "revoked", ... */

#endif
