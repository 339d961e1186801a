/*
 * store.c - registry front end: picks the backend by URI scheme and
 * forwards every call to it.  Nothing here touches backend state, so a new
 * backend is one file plus one line in the scheme table.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "wipe.h"

static const struct {
	const char			*scheme;	/* including the ':' */
	const struct zm_store_ops	*ops;
} backends[] = {
	{ "sqlite:", &zm_store_sqlite_ops },
};

int
zm_store_open(const char *uri, struct zm_store **out)
{
	struct zm_store	*st = NULL;
	size_t		 i, len;
	int		 r = ZM_ERR_INTERNAL;

	if (out == NULL)
		return ZM_ERR_INVALID;
	*out = NULL;
	if (uri == NULL) {
		zm_err("no store configured");
		return ZM_ERR_CONFIG;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		len = strlen(backends[i].scheme);
		if (strncmp(uri, backends[i].scheme, len) != 0)
			continue;
		if (uri[len] == '\0') {
			zm_err("store \"%s\": empty location", uri);
			return ZM_ERR_CONFIG;
		}
		if ((r = backends[i].ops->open(uri + len, &st)) != 0)
			return r;
		st->ops = backends[i].ops;
		*out = st;
		return 0;
	}
	zm_err("store \"%s\": unknown scheme", uri);
	return ZM_ERR_CONFIG;
}

void
zm_store_close(struct zm_store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st);
}

int
zm_store_user_get(struct zm_store *st, const char *user, struct zm_user_state *out)
{
	if (st == NULL || user == NULL || out == NULL)
		return ZM_ERR_INVALID;
	return st->ops->user_get(st, user, out);
}

int
zm_store_user_ensure(struct zm_store *st, const char *user, int64_t now)
{
	if (st == NULL || user == NULL)
		return ZM_ERR_INVALID;
	return st->ops->user_ensure(st, user, now);
}

int
zm_store_user_list(struct zm_store *st, struct zm_user_state **out, size_t *n)
{
	if (st == NULL || out == NULL || n == NULL)
		return ZM_ERR_INVALID;
	return st->ops->user_list(st, out, n);
}

int
zm_store_token_add(struct zm_store *st, struct zm_token *t, int64_t now)
{
	if (st == NULL || t == NULL)
		return ZM_ERR_INVALID;
	return st->ops->token_add(st, t, now);
}

int
zm_store_token_get(struct zm_store *st, int64_t id, struct zm_token *out)
{
	if (st == NULL || out == NULL)
		return ZM_ERR_INVALID;
	return st->ops->token_get(st, id, out);
}

int
zm_store_token_list(struct zm_store *st, const char *user, struct zm_token **out,
    size_t *n)
{
	if (st == NULL || out == NULL || n == NULL)
		return ZM_ERR_INVALID;
	return st->ops->token_list(st, user, out, n);
}

int
zm_store_token_find_ident(struct zm_store *st, int kind, const char *ident,
    struct zm_token *out)
{
	if (st == NULL || ident == NULL || out == NULL)
		return ZM_ERR_INVALID;
	return st->ops->token_find_ident(st, kind, ident, out);
}

int
zm_store_totp_advance(struct zm_store *st, int64_t token_id, int64_t step, int64_t now)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	return st->ops->totp_advance(st, token_id, step, now);
}

int
zm_store_fido_counter_advance(struct zm_store *st, int64_t token_id,
    uint32_t counter, int64_t now, uint32_t *stored)
{
	if (st == NULL || stored == NULL)
		return ZM_ERR_INVALID;
	return st->ops->fido_counter_advance(st, token_id, counter, now, stored);
}

int
zm_store_token_set_state(struct zm_store *st, int64_t token_id, int state,
    const char *reason, int64_t now)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	return st->ops->token_set_state(st, token_id, state, reason, now);
}

int
zm_store_failure_add(struct zm_store *st, const char *user, int64_t now,
    uint32_t max_failures, int64_t lockout, uint32_t *failures, int64_t *locked_until)
{
	if (st == NULL || user == NULL)
		return ZM_ERR_INVALID;
	return st->ops->failure_add(st, user, now, max_failures, lockout,
	    failures, locked_until);
}

int
zm_store_success_record(struct zm_store *st, const char *user, int64_t now,
    const char *from, int64_t token_id)
{
	if (st == NULL || user == NULL)
		return ZM_ERR_INVALID;
	return st->ops->success_record(st, user, now, from, token_id);
}

int
zm_store_unlock(struct zm_store *st, const char *user)
{
	if (st == NULL || user == NULL)
		return ZM_ERR_INVALID;
	return st->ops->unlock(st, user);
}

int
zm_store_set_disabled(struct zm_store *st, const char *user, int disabled, int64_t now)
{
	if (st == NULL || user == NULL)
		return ZM_ERR_INVALID;
	return st->ops->set_disabled(st, user, disabled, now);
}

int
zm_store_revoke(struct zm_store *st, const char *user, int64_t token_id,
    const char *ident, const char *reason, int64_t now, int64_t **ids, size_t *n)
{
	if (st == NULL || user == NULL || ids == NULL || n == NULL)
		return ZM_ERR_INVALID;
	return st->ops->revoke(st, user, token_id, ident, reason, now, ids, n);
}

int
zm_store_token_replace(struct zm_store *st, struct zm_token *t, int64_t now,
    int64_t **ids, size_t *n)
{
	if (st == NULL || t == NULL || ids == NULL || n == NULL ||
	    st->ops->token_replace == NULL)
		return ZM_ERR_INVALID;
	return st->ops->token_replace(st, t, now, ids, n);
}

int
zm_store_session_open(struct zm_store *st, struct zm_session *s)
{
	if (st == NULL || s == NULL)
		return ZM_ERR_INVALID;
	return st->ops->session_open(st, s);
}

int
zm_store_session_close(struct zm_store *st, int64_t id, int64_t now, const char *reason)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	return st->ops->session_close(st, id, now, reason);
}

int
zm_store_session_get(struct zm_store *st, int64_t id, struct zm_session *out)
{
	if (st == NULL || out == NULL)
		return ZM_ERR_INVALID;
	return st->ops->session_get(st, id, out);
}

int
zm_store_sessions_open_list(struct zm_store *st, const char *user, int64_t token_id,
    struct zm_session **out, size_t *n)
{
	if (st == NULL || out == NULL || n == NULL)
		return ZM_ERR_INVALID;
	return st->ops->sessions_open_list(st, user, token_id, out, n);
}

int
zm_store_batch_begin(struct zm_store *st)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	if (st->ops->batch_begin == NULL)
		return 0;
	return st->ops->batch_begin(st);
}

int
zm_store_batch_end(struct zm_store *st, int commit)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	if (st->ops->batch_end == NULL)
		return 0;
	return st->ops->batch_end(st, commit);
}

int
zm_store_audit_head_get(struct zm_store *st, uint64_t *seq, char hash[65])
{
	if (st == NULL || seq == NULL || hash == NULL)
		return ZM_ERR_INVALID;
	return st->ops->audit_head_get(st, seq, hash);
}

int
zm_store_audit_head_set(struct zm_store *st, uint64_t seq, const char *hash)
{
	if (st == NULL || hash == NULL)
		return ZM_ERR_INVALID;
	return st->ops->audit_head_set(st, seq, hash);
}

void
zm_token_clear(struct zm_token *t)
{
	if (t == NULL)
		return;
	zm_freezero(t->secret, t->secret_len);
	zm_freezero(t->data, t->data_len);
	zm_wipe(t, sizeof(*t));
}

void
zm_tokens_free(struct zm_token *t, size_t n)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < n; i++)
		zm_token_clear(&t[i]);
	free(t);
}

const char *
zm_token_kind_name(int kind)
{
	switch (kind) {
	case ZM_TOK_TOTP:
		return "totp";
	case ZM_TOK_CARD:
		return "card";
	case ZM_TOK_FIDO2:
		return "fido2";
	case ZM_TOK_TEMPCODE:
		return "tempcode";
	default:
		return "unknown";
	}
}

const char *
zm_token_state_name(int state)
{
	switch (state) {
	case ZM_TS_ACTIVE:
		return "active";
	case ZM_TS_REVOKED:
		return "revoked";
	case ZM_TS_REPLACED:
		return "replaced";
	case ZM_TS_SUSPENDED:
		return "suspended";
	default:
		return "unknown";
	}
}

int
zm_store_audit_pending(struct zm_store *st, struct zm_audit_pending **out,
    size_t *n)
{
	if (st == NULL || out == NULL || n == NULL)
		return ZM_ERR_INVALID;
	return st->ops->audit_pending(st, out, n);
}

int
zm_store_audit_done(struct zm_store *st, int64_t token_id, const char *user)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	return st->ops->audit_done(st, token_id, user);
}

int
zm_store_cardbind_put(struct zm_store *st, const struct zm_card_binding *b)
{
	if (st == NULL || b == NULL || b->token_id <= 0 ||
	    b->atrlen > sizeof(b->atr) ||
	    memchr(b->reader, '\0', sizeof(b->reader)) == NULL)
		return ZM_ERR_INVALID;
	return st->ops->cardbind_put(st, b);
}

int
zm_store_cardbind_del(struct zm_store *st, int64_t token_id)
{
	if (st == NULL)
		return ZM_ERR_INVALID;
	return st->ops->cardbind_del(st, token_id);
}

int
zm_store_cardbind_list(struct zm_store *st, struct zm_card_binding **out,
    size_t *n)
{
	if (st == NULL || out == NULL || n == NULL)
		return ZM_ERR_INVALID;
	return st->ops->cardbind_list(st, out, n);
}
