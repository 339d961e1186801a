/*
 * auth.c - the authentication conversation.
 *
 *   AUTH_BEGIN  -> caller, zone, disabled, locked -> policy -> PROMPT | RESULT
 *   AUTH_ANSWER -> verify -> RESULT OK (ticket) | DENIED | LOCKED
 *
 * One code per pam_authenticate: every conversation ends after one answer.
 * Every decision is audited (event "auth"); a record names methods and
 * reasons, never a code.
 *
 * In a zone with password = none nothing has proven who the caller is when
 * we prompt, so there every refusal before a factor is proven is the same
 * generic DENIED, after a (decoy) prompt where needed: an outsider cannot
 * tell a missing account from a locked one or one without tokens.  The
 * audit record keeps the true reason.
 *
 * The IC card step is in auth_card.c, the FIDO2 key's in auth_fido2.c,
 * the checks AUTH_BEGIN shares with ACCOUNT (and ACCOUNT itself) in
 * auth_account.c; what they share with this file is declared in
 * auth_impl.h.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "card.h"
#include "auth_impl.h"
#include "err.h"
#include "fido2.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "store.h"
#include "tempcode.h"
#include "tokend.h"
#include "totp.h"
#include "wipe.h"

#define CODE_MAX	64	/* longest answer looked at (codes: 6, 8; key PIN: 63) */

void
zm_auth_free(struct zm_auth *a)
{
	if (a == NULL)
		return;
	zm_card_login_free(a->card);
	zm_auth_fido2_wait_free(a->fido_wait);
	zm_freezero(a, sizeof(*a));
}

/* An optional client string; control bytes become '?' (it is shown later). */
static int
get_opt_str(const struct zm_msg *m, uint16_t tag, char *out, size_t outlen)
{
	size_t	i;
	int	r;

	out[0] = '\0';
	if ((r = zm_msg_get_str(m, tag, out, outlen)) == ZM_ERR_NOTFOUND)
		return 0;
	if (r != 0)
		return r;
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	return 0;
}

/* Append " key=val" when val is set; a cut origin still says enough. */
static void
origin_add(char *o, size_t olen, const char *key, const char *val)
{
	size_t n = strlen(o);

	if (val[0] == '\0' || n + 1 >= olen)
		return;
	if (snprintf(o + n, olen - n, "%s%s=%s", n > 0 ? " " : "", key,
	    val) < 0)
		o[n] = '\0';
}

void
zm_auth_origin(struct zm_auth *a, const char *service, const char *tty,
    const char *rhost)
{
	snprintf(a->from, sizeof(a->from), "%s",
	    rhost[0] != '\0' ? rhost : tty);
	a->origin[0] = '\0';
	origin_add(a->origin, sizeof(a->origin), "service", service);
	origin_add(a->origin, sizeof(a->origin), "tty", tty);
	origin_add(a->origin, sizeof(a->origin), "rhost", rhost);
}

/* ---- replies ---- */

/* Roll the reply back to where it was when building a message failed. */
int
zm_auth_reply_fail(struct zm_buf *rep, size_t mark, int r)
{
	zm_wipe(rep->data + mark, rep->len - mark);
	rep->len = mark;
	return r;
}

/* RESULT with optional TIME and COUNT (NULL: absent). */
int
zm_auth_reply_result(struct zm_buf *rep, int status, int msgid,
    const int64_t *t, const uint32_t *count)
{
	size_t	mark = rep->len;
	int	r;

	if ((r = zm_msg_begin(rep, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_STATUS, (uint32_t)status)) != 0 ||
	    (msgid != ZM_MSG_NONE &&
	    (r = zm_msg_add_u32(rep, ZM_T_MSG, (uint32_t)msgid)) != 0) ||
	    (t != NULL &&
	    (r = zm_msg_add_u64(rep, ZM_T_TIME, (uint64_t)*t)) != 0) ||
	    (count != NULL &&
	    (r = zm_msg_add_u32(rep, ZM_T_COUNT, *count)) != 0) ||
	    (r = zm_msg_end(rep)) != 0)
		return zm_auth_reply_fail(rep, mark, r);
	return 0;
}

/* LOCKED with TIME = until, 0 for "until a helpdesk unlock". */
int
zm_auth_reply_locked(struct zm_buf *rep, int64_t until)
{
	int64_t t = until == -1 ? 0 : until;

	return zm_auth_reply_result(rep, ZM_ST_LOCKED, until == -1 ?
	    ZM_MSG_LOCKED_HELPDESK : ZM_MSG_LOCKED_UNTIL, &t, NULL);
}

int
zm_auth_reply_prompt_n(struct zm_buf *rep, int prompt, int msgid,
    const uint32_t *count)
{
	size_t	mark = rep->len;
	int	r;

	if ((r = zm_msg_begin(rep, ZM_REP_PROMPT)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_PROMPT, (uint32_t)prompt)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_MSG, (uint32_t)msgid)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_ECHO, 0)) != 0 ||
	    (count != NULL &&
	    (r = zm_msg_add_u32(rep, ZM_T_COUNT, *count)) != 0) ||
	    (r = zm_msg_end(rep)) != 0)
		return zm_auth_reply_fail(rep, mark, r);
	return 0;
}

/* OK: the ticket and the previous login for the session-phase display. */
static int
reply_ok(struct zm_buf *rep, const char *ticket,
    const struct zm_user_state *prev)
{
	size_t	mark = rep->len;
	int	r;

	if ((r = zm_msg_begin(rep, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_STATUS, ZM_ST_OK)) != 0 ||
	    (r = zm_msg_add_str(rep, ZM_T_TICKET, ticket)) != 0 ||
	    (r = zm_msg_add_u64(rep, ZM_T_TIME,
	    (uint64_t)prev->last_success)) != 0 ||
	    (r = zm_msg_add_str(rep, ZM_T_TEXT2, prev->last_from)) != 0 ||
	    (r = zm_msg_add_u64(rep, ZM_T_TIME2,
	    (uint64_t)prev->last_logout)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_COUNT2, prev->failures_since)) != 0 ||
	    (r = zm_msg_end(rep)) != 0)
		return zm_auth_reply_fail(rep, mark, r);
	return 0;
}

/* ---- audit ---- */

/* methods: "password totp", what was proven or tried. */
static int
audit_ev_person(struct zm_tokend *d, const char *event, const char *user,
    const char *person, const char *zone, const struct zm_zone *z,
    unsigned used, const char *result, const char *reason, int64_t token_id,
    const char *detail)
{
	char	m[64], methods[80], tok[24];
	int	pw, r;

	m[0] = tok[0] = '\0';
	if (used != 0)
		zm_methods_format(used, m, sizeof(m));
	pw = z != NULL && zm_policy_initial(z) != 0;
	snprintf(methods, sizeof(methods), "%s%s%s", pw ? "password" : "",
	    pw && m[0] != '\0' ? " " : "", m);
	if (token_id > 0)
		snprintf(tok, sizeof(tok), "%" PRId64, token_id);
	if ((r = zm_audit_event_person(d->audit, event, user, person, zone,
	    result, reason, methods, "", tok, detail, 0)) != 0)
		zm_err("cannot audit %s of %s: %s", event, user,
		    zm_strerror(r));
	return r;
}

int
zm_auth_audit_ev(struct zm_tokend *d, const char *event, const char *user,
    const char *zone, const struct zm_zone *z, unsigned used,
    const char *result, const char *reason, int64_t token_id,
    const char *detail)
{
	return audit_ev_person(d, event, user, NULL, zone, z, used, result,
	    reason, token_id, detail);
}

/* Event "auth" of conversation a; the detail says where it came from. */
int
zm_auth_aud(struct zm_tokend *d, const struct zm_auth *a,
    const struct zm_zone *z, const char *result, const char *reason,
    int64_t token_id, const char *detail)
{
	char buf[256];

	/* Cut, not lost, if too long: the record field is no longer. */
	if (snprintf(buf, sizeof(buf), "%s%s%s", detail, detail[0] != '\0' &&
	    a->origin[0] != '\0' ? "; " : "", a->origin) < 0)
		buf[0] = '\0';
	/* A shared account's record names the member too (R7). */
	if (a->acct[0] != '\0')
		return audit_ev_person(d, "auth", a->acct, a->user, a->zone, z,
		    a->used, result, reason, token_id, buf);
	return zm_auth_audit_ev(d, "auth", a->user, a->zone, z, a->used, result,
	    reason, token_id, buf);
}

/* Our failure (store, key, data): logged, audited, INTERNAL, never OK. */
int
zm_auth_internal(struct zm_tokend *d, const struct zm_auth *a,
    const struct zm_zone *z, struct zm_buf *rep, const char *what, int err)
{
	zm_err("%s for %s: %s", what, a->user, zm_strerror(err));
	zm_auth_aud(d, a, z, "error", what, 0, "");
	return zm_auth_reply_simple(rep, ZM_ST_INTERNAL, ZM_MSG_INTERNAL);
}

/* ---- the conversation ---- */

/* Succeeded: record it, hand out a ticket, tell the module the last login. */
static int
finish_ok(struct zm_tokend *d, struct zm_auth *a, const struct zm_zone *z,
    int64_t token_id, struct zm_buf *rep)
{
	struct zm_user_state	prev;
	struct zm_ticket_info	info;
	char			ticket[33];
	int			r;

	/* Read before success_record() resets the counters we report. */
	const char		*acct = a->acct[0] != '\0' ? a->acct : a->user;

	/* Shared: the account's last login is shown, both are recorded. */
	memset(&prev, 0, sizeof(prev));
	if ((r = zm_store_user_get(d->st, acct, &prev)) == ZM_ERR_NOTFOUND)
		memset(&prev, 0, sizeof(prev));
	else if (r != 0)
		return zm_auth_internal(d, a, z, rep,
		    "store error reading user", r);
	if ((r = zm_store_success_record(d->st, a->user, zm_now(), a->from,
	    token_id)) != 0 || (acct != a->user &&
	    (r = zm_store_success_record(d->st, acct, zm_now(), a->from,
	    0)) != 0))
		return zm_auth_internal(d, a, z, rep,
		    "store error recording success", r);
	/* No record, no login: the audit trail is part of the decision. */
	if (zm_auth_aud(d, a, z, "ok", token_id > 0 ? "verified" :
	    "zone satisfied by password", token_id, "") != 0)
		return zm_auth_reply_simple(rep, ZM_ST_INTERNAL,
		    ZM_MSG_INTERNAL);
	memset(&info, 0, sizeof(info));
	info.token_id = token_id;
	info.methods = a->used;
	info.prev_success = prev.last_success;
	info.prev_logout = prev.last_logout;
	info.prev_failures = prev.failures_since;
	memcpy(info.prev_from, prev.last_from, sizeof(info.prev_from));
	info.prev_from[sizeof(info.prev_from) - 1] = '\0';
	if ((r = zm_ticket_issue_at(d->tickets, acct, &a->bind, &info,
	    zm_now(), ticket)) != 0) {
		zm_err("cannot issue a ticket for %s: %s", a->user,
		    zm_strerror(r));
		return zm_auth_reply_simple(rep, ZM_ST_INTERNAL,
		    ZM_MSG_INTERNAL);
	}
	r = reply_ok(rep, ticket, &prev);
	zm_wipe(ticket, sizeof(ticket));
	return r;
}

/*
 * Ask for the next method or finish.  Takes a: either *state holds it
 * (a PROMPT was appended) or it is freed.
 */
int
zm_auth_advance(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, int64_t token_id, struct zm_auth **state,
    struct zm_buf *rep)
{
	unsigned	method = 0;
	int		r;

	*state = NULL;
	/*
	 * A temporary code is issued because the usual token is lost or
	 * forgotten: where the zone accepts it, ask for it first.
	 */
	if ((a->avail & ZM_METHOD_TEMPCODE) == 0 ||
	    zm_policy_next(z, a->proven, ZM_METHOD_TEMPCODE, &method) != 0 ||
	    method != ZM_METHOD_TEMPCODE)
		method = 0;
	r = method != 0 ? 0 : zm_policy_next(z, a->proven, a->avail, &method);
	if (r == 0 && method == 0)
		r = finish_ok(d, a, z, token_id, rep);
	else if (r != 0 && (a->used & ZM_METHOD_FIDO2) != 0) {
		/* The key answered without the UV the zone needs. */
		zm_auth_aud(d, a, z, "fail",
		    "security key gave no user verification", token_id, "");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED, ZM_MSG_AUTH_FAILED);
	} else if (r != 0) {
		/* Checked before the first prompt; a reload can change it. */
		zm_auth_aud(d, a, z, "fail", "zone cannot be satisfied", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_NO_TOKEN, ZM_MSG_NO_TOKEN);
	} else if (method == ZM_METHOD_CARD) {
		return zm_auth_card_prompt(d, a, z, state, rep);
	} else if (method == ZM_METHOD_FIDO2) {
		return zm_auth_fido2_prompt(d, a, z, state, rep);
	} else if (method == ZM_METHOD_TOTP || method == ZM_METHOD_TEMPCODE) {
		a->method = method;
		if ((r = method == ZM_METHOD_TOTP ?
		    zm_auth_reply_prompt(rep, ZM_PROMPT_OTP, ZM_MSG_ENTER_OTP) :
		    zm_auth_reply_prompt(rep, ZM_PROMPT_TEMPCODE,
		    ZM_MSG_ENTER_TEMPCODE)) == 0) {
			*state = a;
			return 0;
		}
	} else {
		/* token_method() offers nothing else yet. */
		zm_err("no conversation for method 0x%x", method);
		r = zm_auth_reply_simple(rep, ZM_ST_INTERNAL, ZM_MSG_INTERNAL);
	}
	zm_auth_free(a);
	return r;
}

/* Prompt although nothing can succeed, so outsiders see what users see. */
static int
decoy(struct zm_auth *a, const char *reason, struct zm_auth **state,
    struct zm_buf *rep)
{
	int r;

	a->decoy = 1;
	snprintf(a->decoy_reason, sizeof(a->decoy_reason), "%s", reason);
	a->method = ZM_METHOD_TOTP;
	if ((r = zm_auth_reply_prompt(rep, ZM_PROMPT_OTP,
	    ZM_MSG_ENTER_OTP)) != 0) {
		zm_auth_free(a);
		return r;
	}
	*state = a;
	return 0;
}

/*
 * Refused by zm_auth_account_status(): audited, generic where nothing is
 * proven.
 */
int
zm_auth_refuse_status(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const struct zm_user_state *us, int status,
    const char *why, struct zm_buf *rep)
{
	zm_auth_aud(d, a, z, "refused", why, 0,
	    a->generic ? "generic reply" : "");
	if (a->generic)
		return zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_AUTH_FAILED);
	return zm_auth_reply_status(rep, status, us);
}

/*
 * The factors of a->user: refused before any prompt when nothing usable
 * can satisfy the zone, else the first prompt.  Takes a.
 */
static int
begin_factors(struct zm_tokend *d, struct zm_auth *a, const struct zm_zone *z,
    struct zm_auth **state, struct zm_buf *rep)
{
	const char	*why = NULL;
	int		 all_revoked = 0, key_missing = 0, r;

	if ((r = zm_auth_usable_methods(d, a->user, &a->avail, &all_revoked,
	    &key_missing)) != 0) {
		r = zm_auth_internal(d, a, z, rep, "store error listing tokens",
		    r);
		goto out;
	}
	/* Nothing usable can satisfy the zone: say so before any prompt. */
	if ((zm_policy_reachable(z, a->proven, a->avail) & z->require) !=
	    z->require) {
		/* The user's key would do: "plug it in", not "none". */
		if (key_missing && (zm_policy_reachable(z, a->proven,
		    a->avail | ZM_METHOD_FIDO2) & z->require) == z->require) {
			why = "no security key plugged in";
			if (a->generic)
				return decoy(a, why, state, rep);
			zm_auth_aud(d, a, z, "fail", why, 0, "");
			r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
			    ZM_MSG_KEY_NOT_FOUND);
			goto out;
		}
		/* R17: the only way in was a temporary code, used already. */
		if (!all_revoked && (zm_policy_reachable(z, a->proven,
		    a->avail | ZM_METHOD_TEMPCODE) & z->require) ==
		    z->require && zm_tempcode_spent(d, a->user, zm_now())) {
			why = "temporary code already used";
			if (a->generic)
				return decoy(a, why, state, rep);
			zm_auth_aud(d, a, z, "fail", why, 0, "");
			r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
			    ZM_MSG_TEMPCODE_USED);
			goto out;
		}
		why = all_revoked ? "all tokens revoked" : "no usable token";
		if (a->generic)
			return decoy(a, why, state, rep);
		zm_auth_aud(d, a, z, "fail", why, 0, "");
		r = all_revoked ? zm_auth_reply_simple(rep, ZM_ST_REVOKED,
		    ZM_MSG_TOKEN_REVOKED) :
		    zm_auth_reply_simple(rep, ZM_ST_NO_TOKEN, ZM_MSG_NO_TOKEN);
		goto out;
	}
	return zm_auth_advance(d, a, z, 0, state, rep);
 out:
	zm_auth_free(a);
	return r;
}

/*
 * A shared account ([shared NAME], R7): first ask who is at the terminal.
 * Takes a.
 */
static int
shared_ask(struct zm_auth *a, struct zm_auth **state, struct zm_buf *rep)
{
	size_t	mark = rep->len;
	int	r;

	a->member_ask = 1;
	if ((r = zm_msg_begin(rep, ZM_REP_PROMPT)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_PROMPT, ZM_PROMPT_MEMBER)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_MSG, ZM_MSG_ENTER_MEMBER)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_ECHO, 1)) != 0 ||
	    (r = zm_msg_end(rep)) != 0) {
		zm_auth_free(a);
		return zm_auth_reply_fail(rep, mark, r);
	}
	*state = a;
	return 0;
}

/*
 * The member named at a shared account's prompt.  From here a->user is
 * the member, whose own tokens, lock and failure count the login uses, and
 * a->acct the shared account the ticket is for.  Takes a.
 */
static int
shared_member(struct zm_tokend *d, struct zm_auth *a, const struct zm_zone *z,
    const char *name, struct zm_auth **state, struct zm_buf *rep)
{
	const struct zm_shared	*sh;
	struct zm_user_state	 us;
	const char		*why = NULL;
	char			 detail[ZM_NAME_MAX + CODE_MAX];
	size_t			 n;
	int			 status = ZM_ST_OK, r;

	a->member_ask = 0;
	if ((sh = zm_config_shared(d->cfg, a->user)) == NULL) {
		/* A reload took the account out of [shared]: start again. */
		r = zm_auth_internal(d, a, z, rep, "shared account gone during "
		    "the conversation", ZM_ERR_CONFIG);
		zm_auth_free(a);
		return r;
	}
	if (!zm_user_name_valid(name) || !zm_shared_member(sh, name)) {
		/* Only a well-formed name is logged: never a mistyped secret. */
		snprintf(detail, sizeof(detail), "named %s",
		    zm_user_name_valid(name) ? name : "(not a user name)");
		why = "not a member of the shared account";
		if (a->generic)
			return decoy(a, why, state, rep);
		zm_auth_aud(d, a, z, "refused", why, 0, detail);
		zm_auth_free(a);
		return zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_NOT_MEMBER);
	}
	memcpy(a->acct, a->user, sizeof(a->acct));
	n = strnlen(name, sizeof(a->user) - 1);	/* valid: at most 63 */
	memcpy(a->user, name, n);
	a->user[n] = '\0';
	/* The member's own account must be in order too (a leaver's is not). */
	if ((r = zm_auth_account_status(d, z, a->user, 1, &us, &status,
	    &why)) != 0) {
		r = zm_auth_internal(d, a, z, rep, "store error reading user",
		    r);
		zm_auth_free(a);
		return r;
	}
	if (status != ZM_ST_OK) {
		if (a->generic)
			return decoy(a, why, state, rep);
		r = zm_auth_refuse_status(d, a, z, &us, status, why, rep);
		zm_auth_free(a);
		return r;
	}
	return begin_factors(d, a, z, state, rep);
}

int
zm_auth_zone_access(struct zm_tokend *d, const char *event, const char *user,
    const char *zone, const struct zm_zone *z, const char *detail,
    struct zm_buf *rep)
{
	const char	*why;
	int		 v, r;

	if ((v = zm_user_zone_access(user, z)) == ZM_OK)
		return 0;
	/* Directory down: fail closed, but do not call it a refusal. */
	why = v == ZM_ERR_PERM ? ZM_ZONE_DENIED_REASON :
	    "zone access unknown (group lookup failed)";
	zm_notice("%s of %s in zone %s refused: %s", event, user, zone, why);
	zm_auth_audit_ev(d, event, user, zone, z, 0, v == ZM_ERR_PERM ?
	    "refused" : "error", why, 0, detail != NULL ? detail : "");
	r = v == ZM_ERR_PERM ? zm_auth_reply_simple(rep, ZM_ST_DENIED,
	    ZM_MSG_ZONE_DENIED) : zm_auth_reply_simple(rep, ZM_ST_INTERNAL,
	    ZM_MSG_INTERNAL);
	return r != 0 ? r : 1;
}

int
zm_auth_begin(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_auth **state, struct zm_buf *rep)
{
	const struct zm_zone	*z = NULL;
	struct zm_auth		*a = NULL;
	struct zm_user_state	 us;
	const char		*why = NULL;
	char			 service[64], tty[64], rhost[128];
	int			 status = ZM_ST_OK, r;

	if (d == NULL || peer == NULL || req == NULL || state == NULL ||
	    rep == NULL)
		return ZM_ERR_INVALID;
	*state = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ZM_ERR_NOMEM;
	zm_ticket_bind_peer(peer, &a->bind);
	if ((r = zm_auth_request_target(d, peer, req, "auth", a->user,
	    a->zone, &z, rep)) != 0) {
		r = r == 1 ? 0 : r;
		goto out;
	}
	if (get_opt_str(req, ZM_T_SERVICE, service, sizeof(service)) != 0 ||
	    get_opt_str(req, ZM_T_TTY, tty, sizeof(tty)) != 0 ||
	    get_opt_str(req, ZM_T_RHOST, rhost, sizeof(rhost)) != 0) {
		zm_auth_aud(d, a, z, "refused", "malformed request", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_INVALID, ZM_MSG_NONE);
		goto out;
	}
	zm_auth_origin(a, service, tty, rhost);
	/* Zone access (allow_users, allow_groups): before any factor. */
	if ((r = zm_auth_zone_access(d, "auth", a->user, a->zone, z,
	    a->origin, rep)) != 0) {
		r = r == 1 ? 0 : r;
		goto out;
	}
	a->proven = zm_policy_initial(z);
	a->generic = z->password == ZM_PASSWORD_NONE &&
	    (a->proven & ZM_CLASS_KNOWLEDGE) == 0;

	if ((r = zm_auth_account_status(d, z, a->user, 1, &us, &status,
	    &why)) != 0) {
		r = zm_auth_internal(d, a, z, rep, "store error reading user",
		    r);
		goto out;
	}
	if (status != ZM_ST_OK) {
		if (a->generic)
			return decoy(a, why, state, rep);
		r = zm_auth_refuse_status(d, a, z, &us, status, why, rep);
		goto out;
	}
	if (zm_config_shared(d->cfg, a->user) != NULL)
		return shared_ask(a, state, rep);
	return begin_factors(d, a, z, state, rep);
 out:
	zm_auth_free(a);
	return r;
}

/*
 * Check code against every active TOTP token of the user; *token_id is
 * the one that took it.  ZM_ERR_DENIED (no match), ZM_ERR_REPLAY (a match
 * on a step already used), ZM_ERR_CRYPTO (a seed does not decrypt) or
 * another error: the last two are ours, not the user's.
 */
static int
verify_totp(struct zm_tokend *d, const char *user, const char *code,
    int64_t now, int64_t *token_id)
{
	struct zm_token	*t = NULL;
	uint8_t		*seed = NULL;
	size_t		 n = 0, i, seedlen = 0;
	char		 aad[ZM_NAME_MAX + 8];
	int64_t		 step = 0;
	int		 algo, replay = 0, r = ZM_ERR_INTERNAL, v;

	*token_id = 0;
	v = snprintf(aad, sizeof(aad), ZM_TOTP_AAD_FMT, user);
	if (v < 0 || (size_t)v >= sizeof(aad))
		return ZM_ERR_INTERNAL;
	if ((r = zm_store_token_list(d->st, user, &t, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (t[i].kind != ZM_TOK_TOTP || t[i].state != ZM_TS_ACTIVE)
			continue;
		if (zm_totp_algo_parse(t[i].algo, &algo) != 0) {
			zm_err("token %" PRId64 " of %s: bad algorithm",
			    t[i].id, user);
			r = ZM_ERR_INTERNAL;
			goto out;
		}
		if ((v = zm_unseal(&d->key, aad, t[i].secret, t[i].secret_len,
		    &seed, &seedlen)) != 0) {
			zm_err("token %" PRId64 " of %s: seed does not "
			    "decrypt: %s", t[i].id, user, zm_strerror(v));
			r = ZM_ERR_CRYPTO;
			goto out;
		}
		v = zm_totp_verify(seed, seedlen, algo, t[i].digits,
		    t[i].period, (time_t)now, 1, code, &step);
		zm_freezero(seed, seedlen);
		seed = NULL;
		if (v == ZM_ERR_DENIED || v == ZM_ERR_INVALID)
			continue;
		if (v != 0) {
			r = v;
			goto out;
		}
		/* A match: only a step never used before counts (replay). */
		v = zm_store_totp_advance(d->st, t[i].id, step, now);
		if (v == 0) {
			*token_id = t[i].id;
			r = 0;
			goto out;
		}
		if (v == ZM_ERR_REPLAY)
			replay = 1;
		else if (v != ZM_ERR_REVOKED) {	/* revoked meanwhile */
			r = v;
			goto out;
		}
	}
	r = replay ? ZM_ERR_REPLAY : ZM_ERR_DENIED;
 out:
	zm_freezero(seed, seedlen);
	zm_tokens_free(t, n);
	return r;
}

/* A wrong or replayed code: count it, lock at the limit, say what is left. */
int
zm_auth_count_failure(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const char *reason, int msgid,
    const uint32_t *count, struct zm_buf *rep)
{
	uint32_t	max, failures = 0, left;
	int64_t		until = 0, now = zm_now();
	struct tm	tm;
	char		detail[96];
	int		privileged, r;

	privileged = zm_user_privileged(a->user, z);
	max = privileged && z->privileged_max_failures > 0 ?
	    z->privileged_max_failures : z->max_failures;
	if ((r = zm_store_failure_add(d->st, a->user, now, max, z->lockout,
	    &failures, &until)) != 0)
		return zm_auth_internal(d, a, z, rep,
		    "store error counting a failure", r);
	snprintf(detail, sizeof(detail), "failure %" PRIu32 " of %" PRIu32
	    "%s", failures, max, privileged ? " (privileged)" : "");
	zm_auth_aud(d, a, z, "fail", reason, 0, detail);
	if (until == -1 || until > now) {
		time_t t = (time_t)until;

		if (until == -1 || gmtime_r(&t, &tm) == NULL ||
		    strftime(detail, sizeof(detail), "until %Y-%m-%dT%H:%M:%SZ",
		    &tm) == 0)
			snprintf(detail, sizeof(detail), "%s", until == -1 ?
			    "until a helpdesk unlock" : "timed");
		zm_auth_audit_ev(d, "lock", a->user, a->zone, z, a->used, "ok",
		    privileged ? "too many failures (privileged limit)" :
		    "too many failures", 0, detail);
		if (a->generic)
			return zm_auth_reply_simple(rep, ZM_ST_DENIED,
			    ZM_MSG_AUTH_FAILED);
		return zm_auth_reply_locked(rep, until);
	}
	if (a->generic)
		return zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_AUTH_FAILED);
	left = failures < max ? max - failures : 0;
	return zm_auth_reply_result(rep, ZM_ST_DENIED, msgid, NULL,
	    count != NULL ? count : &left);
}

int
zm_auth_answer(struct zm_tokend *d, struct zm_auth **state,
    const struct zm_msg *req, struct zm_buf *rep)
{
	const struct zm_zone	*z;
	struct zm_auth		*a;
	struct zm_user_state	 us;
	struct zm_proof		 proof;
	const char		*why = NULL;
	char			 code[CODE_MAX + 1];
	uint32_t		 flags = 0;
	int64_t			 token_id = 0;
	int			 status = ZM_ST_OK, r, v;

	if (d == NULL || state == NULL || *state == NULL || req == NULL ||
	    rep == NULL)
		return ZM_ERR_INVALID;
	a = *state;
	*state = NULL;
	memset(code, 0, sizeof(code));

	if ((z = zm_config_zone(d->cfg, a->zone)) == NULL) {
		r = zm_auth_internal(d, a, NULL, rep, "zone gone during the "
		    "conversation", ZM_ERR_CONFIG);
		goto out;
	}
	if (req->type != ZM_REQ_AUTH_ANSWER) {
		zm_auth_aud(d, a, z, "error",
		    "protocol error: expected an answer", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_INVALID, ZM_MSG_NONE);
		goto out;
	}
	if (zm_msg_get_u32(req, ZM_T_FLAGS, &flags) == 0 &&
	    (flags & ZM_ANSWER_NONE)) {
		/* The conversation failed or timed out: not a failure. */
		zm_auth_aud(d, a, z, "aborted", "no answer", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_ABORTED, ZM_MSG_NONE);
		goto out;
	}
	v = zm_msg_get_str(req, ZM_T_ANSWER, code, sizeof(code));
	if (v == ZM_ERR_NOTFOUND || v == ZM_ERR_PROTO) {
		zm_auth_aud(d, a, z, "error", "protocol error: no answer", 0,
		    "");
		r = zm_auth_reply_simple(rep, ZM_ST_INVALID, ZM_MSG_NONE);
		goto out;
	}
	if (v != 0)		/* too long to be a code: a wrong one */
		zm_wipe(code, sizeof(code));
	if (a->member_ask) {
		r = shared_member(d, a, z, code, state, rep);
		zm_wipe(code, sizeof(code));
		return r;
	}
	a->used |= a->method;

	if (a->decoy) {
		zm_auth_aud(d, a, z, "fail", a->decoy_reason, 0,
		    "decoy prompt");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED, ZM_MSG_AUTH_FAILED);
		goto out;
	}
	/* Locked or disabled by a parallel conversation meanwhile? */
	if ((r = zm_auth_account_status(d, z, a->user, 1, &us, &status,
	    &why)) != 0) {
		r = zm_auth_internal(d, a, z, rep, "store error reading user",
		    r);
		goto out;
	}
	/* A shared account disabled meanwhile ends its members' logins. */
	if (status == ZM_ST_OK && a->acct[0] != '\0' &&
	    (r = zm_auth_account_status(d, z, a->acct, 1, &us, &status,
	    &why)) != 0) {
		r = zm_auth_internal(d, a, z, rep, "store error reading user",
		    r);
		goto out;
	}
	if (status != ZM_ST_OK) {
		r = zm_auth_refuse_status(d, a, z, &us, status, why, rep);
		goto out;
	}

	if (a->method == ZM_METHOD_CARD) {
		r = zm_auth_card_answer(d, a, z, code, state, rep);
		zm_wipe(code, sizeof(code));
		return r;
	}
	if (a->method == ZM_METHOD_FIDO2) {
		r = zm_auth_fido2_answer(d, a, z, code, state, rep);
		zm_wipe(code, sizeof(code));
		return r;
	}
	memset(&proof, 0, sizeof(proof));
	if (a->method == ZM_METHOD_TOTP)
		v = verify_totp(d, a->user, code, zm_now(), &token_id);
	else if (a->method == ZM_METHOD_TEMPCODE)
		v = zm_tempcode_verify(d, a->user, code, zm_now(),
		    &token_id);
	else
		v = ZM_ERR_INTERNAL;
	zm_wipe(code, sizeof(code));
	/* R17: every use of the emergency path is on record. */
	if (a->method == ZM_METHOD_TEMPCODE && v != ZM_ERR_DENIED &&
	    zm_auth_audit_ev(d, "tempcode_use", a->user, a->zone, z,
	    a->used, v == 0 ? "ok" : "fail", v == 0 ? "used" :
	    v == ZM_ERR_REPLAY ? "code already used" :
	    "verification error", token_id, a->origin) != 0 && v == 0) {
		r = zm_auth_reply_simple(rep, ZM_ST_INTERNAL,
		    ZM_MSG_INTERNAL);
		goto out;
	}
	if (v == ZM_ERR_DENIED || v == ZM_ERR_REPLAY) {
		r = zm_auth_count_failure(d, a, z, v == ZM_ERR_REPLAY ?
		    "code already used" : "wrong code",
		    v == ZM_ERR_REPLAY ? ZM_MSG_CODE_USED :
		    ZM_MSG_WRONG_CODE, NULL, rep);
		goto out;
	}
	if (v != 0) {
		/* Ours (store, key, corrupt row): fail closed, not counted. */
		r = zm_auth_internal(d, a, z, rep, v == ZM_ERR_CRYPTO ?
		    "seed does not decrypt" : "verification error", v);
		goto out;
	}
	proof.method = a->method;
	a->proven |= zm_policy_classes(z, &proof);
	a->avail &= ~a->method;
	a->generic = 0;
	return zm_auth_advance(d, a, z, token_id, state, rep);
 out:
	zm_wipe(code, sizeof(code));
	zm_auth_free(a);
	return r;
}

void
zm_auth_abort(struct zm_tokend *d, struct zm_auth *a)
{
	if (a == NULL)
		return;
	if (d != NULL)
		zm_auth_aud(d, a, zm_config_zone(d->cfg, a->zone), "aborted",
		    "connection closed before an answer", 0, "");
	zm_auth_free(a);
}
