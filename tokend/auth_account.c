/*
 * auth_account.c - the account check (ACCOUNT), and the checks it shares
 * with AUTH_BEGIN (auth.c): who may ask about whom, in which zone;
 * disabled, locked, dormant; which methods the user can use here.
 *
 * Every refusal is audited (event "account", or the caller's event).
 * Shared with auth.c through auth_impl.h.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "auth_impl.h"
#include "err.h"
#include "fido2.h"
#include "log.h"
#include "policy.h"
#include "store.h"
#include "tempcode.h"
#include "tokend.h"

/* The method a token kind offers; kinds without a conversation yet, none. */
static unsigned
token_method(int kind)
{
	switch (kind) {
	case ZM_TOK_TOTP:
		return ZM_METHOD_TOTP;
	case ZM_TOK_TEMPCODE:
		return ZM_METHOD_TEMPCODE;
	case ZM_TOK_FIDO2:
		return ZM_METHOD_FIDO2;
	case ZM_TOK_CARD:	/* PIN + signature over a fresh challenge */
		return ZM_METHOD_CARD;
	default:
		return 0;
	}
}

/* ---- checks shared by AUTH_BEGIN and ACCOUNT ---- */

/*
 * USER, caller permission (root: anyone; others only themselves), ZONE.
 * Returns 0 to go on, 1 when refused (reply appended and audited as
 * event), or an error building the reply.
 */
int
zm_auth_request_target(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, const char *event, char user[ZM_NAME_MAX],
    char zone[ZM_NAME_MAX], const struct zm_zone **zp, struct zm_buf *rep)
{
	char	reason[160];
	int	r;

	*zp = NULL;
	zone[0] = '\0';
	if (zm_msg_get_str(req, ZM_T_USER, user, ZM_NAME_MAX) != 0 ||
	    !zm_user_name_valid(user)) {
		user[0] = '\0';
		zm_auth_audit_ev(d, event, "", "", NULL, 0, "refused",
		    "invalid user name", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_INVALID, ZM_MSG_NONE);
		return r != 0 ? r : 1;
	}
	/* Read before the permission check so a refusal names the zone. */
	if ((r = zm_msg_get_str(req, ZM_T_ZONE, zone, ZM_NAME_MAX)) != 0)
		zone[0] = '\0';
	if (!peer->is_root &&
	    (peer->name[0] == '\0' || strcmp(peer->name, user) != 0)) {
		snprintf(reason, sizeof(reason), "caller uid %lu may not %s %s",
		    (unsigned long)peer->uid, strcmp(event, "auth") == 0 ?
		    "authenticate" : "check", user);
		zm_auth_audit_ev(d, event, user, zone, NULL, 0, "refused",
		    reason, 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_PERM, ZM_MSG_NOT_PERMITTED);
		return r != 0 ? r : 1;
	}
	if (r != 0 || (*zp = zm_config_zone(d->cfg, zone)) == NULL) {
		zm_auth_audit_ev(d, event, user, zone, NULL, 0, "refused",
		    "unknown zone", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_INVALID,
		    ZM_MSG_UNKNOWN_ZONE);
		return r != 0 ? r : 1;
	}
	return 0;
}

/*
 * Disabled, locked or dormant?  *status is ZM_ST_OK or the refusal, *why
 * its reason for the audit record; us is filled (zeros for a user without
 * a row).  Returns a store error or 0.  With clear_expired an expired
 * timed lock is cleared, so the user starts again with a fresh count.
 *
 * Dormancy is checked in the auth phase too: a successful login refreshes
 * last_success, so the account phase after it would never see it.
 */
int
zm_auth_account_status(struct zm_tokend *d, const struct zm_zone *z,
    const char *user, int clear_expired, struct zm_user_state *us,
    int *status, const char **why)
{
	int64_t	now = zm_now(), last;
	int	r;

	*status = ZM_ST_OK;
	*why = NULL;
	memset(us, 0, sizeof(*us));
	if ((r = zm_store_user_get(d->st, user, us)) == ZM_ERR_NOTFOUND) {
		memset(us, 0, sizeof(*us));
		return 0;
	}
	if (r != 0)
		return r;
	if (us->locked_until > 0 && us->locked_until <= now) {
		if (clear_expired) {
			if ((r = zm_store_unlock(d->st, user)) != 0)
				return r;
			zm_info("timed lock of %s expired", user);
		}
		us->locked_until = 0;
	}
	last = us->last_success;
	if (us->enabled_at > last)
		last = us->enabled_at;
	if (us->created > last)
		last = us->created;
	if (us->disabled) {
		*status = ZM_ST_DISABLED;
		*why = "account disabled";
	} else if (us->locked_until != 0) {
		*status = ZM_ST_LOCKED;
		*why = "account locked";
	} else if (z->dormant_after > 0 && last > 0 &&
	    now - last > z->dormant_after) {
		*status = ZM_ST_DORMANT;
		*why = "account dormant";
	}
	return 0;
}

int
zm_auth_reply_status(struct zm_buf *rep, int status,
    const struct zm_user_state *us)
{
	switch (status) {
	case ZM_ST_DISABLED:
		return zm_auth_reply_simple(rep, ZM_ST_DISABLED,
		    ZM_MSG_DISABLED);
	case ZM_ST_LOCKED:
		return zm_auth_reply_locked(rep, us->locked_until);
	case ZM_ST_DORMANT:
		return zm_auth_reply_simple(rep, ZM_ST_DORMANT, ZM_MSG_DORMANT);
	case ZM_ST_REVOKED:
		return zm_auth_reply_simple(rep, ZM_ST_REVOKED,
		    ZM_MSG_TOKEN_REVOKED);
	default:
		return zm_auth_reply_simple(rep, ZM_ST_INTERNAL,
		    ZM_MSG_INTERNAL);
	}
}

/* The user's usable methods, and whether every token they have is revoked. */
int
zm_auth_usable_methods(struct zm_tokend *d, const char *user, unsigned *avail,
    int *all_revoked, int *key_missing)
{
	struct zm_token	*t = NULL;
	size_t		 n = 0, i, active = 0, lasting = 0;
	int64_t		 now = zm_now();
	int		 r, key = -1;

	*avail = 0;
	*all_revoked = 0;
	*key_missing = 0;
	if ((r = zm_store_token_list(d->st, user, &t, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		/* Temporary codes expire and are used up: not "revoked". */
		if (t[i].kind == ZM_TOK_TEMPCODE) {
			if (zm_tempcode_usable(&t[i], now))
				*avail |= ZM_METHOD_TEMPCODE;
			continue;
		}
		lasting++;
		if (t[i].state != ZM_TS_ACTIVE)
			continue;
		active++;
		/* A key counts only when one is plugged in (looked up once). */
		if (t[i].kind == ZM_TOK_FIDO2) {
			if (key == -1)
				key = zm_fido_available(d->fido);
			if (!key) {
				*key_missing = 1;
				continue;
			}
		}
		/* pcsc = no: cards are not watched, so not usable here. */
		if (t[i].kind == ZM_TOK_CARD && !d->cfg->pcsc)
			continue;
		*avail |= token_method(t[i].kind);
	}
	*all_revoked = lasting > 0 && active == 0 &&
	    (*avail & ZM_METHOD_TEMPCODE) == 0;
	zm_tokens_free(t, n);
	return 0;
}

/* ---- ACCOUNT ---- */

int
zm_account_check(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *rep)
{
	const struct zm_zone	*z = NULL;
	struct zm_user_state	 us;
	const char		*why = NULL;
	char			 user[ZM_NAME_MAX], zone[ZM_NAME_MAX];
	unsigned		 avail = 0;
	int			 all_revoked = 0, key_missing = 0;
	int			 status = ZM_ST_OK, r;

	if (d == NULL || peer == NULL || req == NULL || rep == NULL)
		return ZM_ERR_INVALID;
	if ((r = zm_auth_request_target(d, peer, req, "account", user, zone, &z,
	    rep)) != 0)
		return r == 1 ? 0 : r;
	if ((r = zm_auth_zone_access(d, "account", user, zone, z, NULL,
	    rep)) != 0)
		return r == 1 ? 0 : r;
	if ((r = zm_auth_account_status(d, z, user, 0, &us, &status,
	    &why)) != 0 ||
	    (status == ZM_ST_OK &&
	    (r = zm_auth_usable_methods(d, user, &avail, &all_revoked,
	    &key_missing)) != 0)) {
		zm_err("store error checking %s: %s", user, zm_strerror(r));
		zm_auth_audit_ev(d, "account", user, zone, NULL, 0, "error",
		    "store error", 0, "");
		return zm_auth_reply_simple(rep, ZM_ST_INTERNAL,
		    ZM_MSG_INTERNAL);
	}
	/* Only revoked tokens left, in a zone that needs one: refused. */
	if (status == ZM_ST_OK && all_revoked &&
	    (z->require & ZM_CLASS_POSSESSION) != 0) {
		status = ZM_ST_REVOKED;
		why = "all tokens revoked";
	}
	if (status == ZM_ST_OK)
		return zm_auth_reply_simple(rep, ZM_ST_OK, ZM_MSG_NONE);
	zm_auth_audit_ev(d, "account", user, zone, NULL, 0, "refused", why, 0,
	    "");
	return zm_auth_reply_status(rep, status, &us);
}
