/*
 * auth_fido2.c - the FIDO2 step of a login (called from auth.c): the
 * prompt (touch, or the key's PIN) and the assertion.
 *
 * The key is never talked to in the event loop: a worker (fido2_login.c)
 * does it, bounded by fido_timeout, while the conversation waits as a
 * deferred reply (struct zm_deferred, server.c).  Everything else --
 * the store, the verification, the counter, the audit -- stays in the
 * loop's thread: zm_auth_defer() hands the waiting conversation to the
 * loop, and wait_finish() goes on with what the key said.
 *
 * The allow list is exactly the user's active fido2 credentials, so a key
 * enrolled to someone else cannot answer.  What counts is what the signed
 * authenticator data says: UV only when its UV bit is set, however the
 * request was made (pam-u2f CVE-2021-31924 trusted the request).  The
 * signature counter must grow (WebAuthn): a counter that does not is a
 * cloned key, so the credential is suspended at once and audited with
 * both values.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auth_impl.h"
#include "err.h"
#include "fido2.h"
#include "log.h"
#include "policy.h"
#include "server.h"
#include "store.h"
#include "tokend.h"
#include "wipe.h"

#define MAX_KEYS	ZM_FIDO_MAX_ALLOW	/* credentials in one allow list */

/* A conversation waiting for its key. */
struct zm_fido_wait {
	struct zm_deferred	 df;		/* first: the loop sees this */
	struct zm_tokend	*d;
	struct zm_auth		*a;		/* the loop's once deferred */
	struct zm_fido_job	*job;
	int			 kind;		/* ZM_FIDO_JOB_* */
	int			 pin;		/* the key's PIN was sent */
	size_t			 k;
	int64_t			 ids[MAX_KEYS];
	int			 coses[MAX_KEYS];
	uint8_t			 pks[MAX_KEYS][ZM_FIDO_PK_LEN];
};

static void
clone_audit(struct zm_tokend *d, const char *user, const char *zone,
    int64_t token_id, uint32_t counter, uint32_t stored, int suspended)
{
	char	tok[24], detail[128];

	snprintf(tok, sizeof(tok), "%" PRId64, token_id);
	snprintf(detail, sizeof(detail), "counter %" PRIu32 " stored %"
	    PRIu32 "; credential %s", counter, stored, suspended ?
	    "suspended" : "could not be suspended");
	if (zm_audit_event(d->audit, "clone_suspected", user, zone, "refused",
	    "signature counter did not increase", "fido2", "", tok, detail,
	    1) != 0)
		zm_err("cannot audit clone_suspected of %s", user);
}


/* ---- waiting for the key ---- */

static int
wait_poll(struct zm_deferred *df, int64_t *wait_ms)
{
	return zm_fido_job_poll(((struct zm_fido_wait *)df)->job, wait_ms);
}

static int wait_finish(struct zm_tokend *, struct zm_deferred *,
    struct zm_buf *);

static void
wait_free(struct zm_deferred *df)
{
	struct zm_fido_wait *w = (struct zm_fido_wait *)df;

	if (w == NULL)
		return;
	zm_fido_job_free(w->job);	/* a running key is told to stop */
	/* The caller has gone (or the daemon stops) while the key ran. */
	zm_auth_abort(w->d, w->a);
	zm_auth_abort(w->d, df->auth);
	zm_wipe(w, sizeof(*w));
	free(w);
}

void
zm_auth_fido2_wait_free(struct zm_fido_wait *w)
{
	if (w != NULL)
		wait_free(&w->df);
}

void
zm_auth_defer(struct zm_auth **state, struct zm_deferred **df)
{
	struct zm_auth		*a = *state;
	struct zm_fido_wait	*w;

	*df = NULL;
	if (a == NULL || (w = a->fido_wait) == NULL)
		return;
	a->fido_wait = NULL;
	w->a = a;
	*state = NULL;
	*df = &w->df;
}

/*
 * Start asking the keys about user's active credentials (copied for the
 * verification); a->fido_wait holds the job.  ZM_ERR_DENIED: the user
 * has none (revoked or suspended meanwhile).
 */
static int
wait_start(struct zm_tokend *d, struct zm_auth *a, int kind, int want_uv,
    const char *pin)
{
	struct zm_token		*t = NULL;
	struct zm_fido_allow	 allow[MAX_KEYS];
	struct zm_fido_wait	*w = NULL;
	const uint8_t		*pk, *id;
	size_t			 n = 0, i, id_len;
	int			 r = ZM_ERR_INTERNAL;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ZM_ERR_NOMEM;
	w->df.poll = wait_poll;
	w->df.finish = wait_finish;
	w->df.free = wait_free;
	w->d = d;
	w->kind = kind;
	w->pin = pin != NULL;
	if ((r = zm_store_token_list(d->st, a->user, &t, &n)) != 0)
		goto out;
	for (i = 0; i < n && w->k < MAX_KEYS; i++) {
		if (t[i].kind != ZM_TOK_FIDO2 || t[i].state != ZM_TS_ACTIVE)
			continue;
		if (zm_fido_data_decode(t[i].data, t[i].data_len,
		    &w->coses[w->k], &pk, &id, &id_len) != 0) {
			zm_err("token %" PRId64 " of %s: bad fido2 data",
			    t[i].id, a->user);
			r = ZM_ERR_INTERNAL;
			goto out;
		}
		allow[w->k] = (struct zm_fido_allow){ id, id_len };
		memcpy(w->pks[w->k], pk, w->coses[w->k] == ZM_FIDO_COSE_ES256 ?
		    ZM_FIDO_PK_LEN : ZM_FIDO_EDDSA_PK_LEN);
		w->ids[w->k] = t[i].id;
		w->k++;
	}
	if (w->k == 0) {
		r = ZM_ERR_DENIED;
		goto out;
	}
	zm_debug("fido2 %s for %s: %zu credential(s), uv %s",
	    kind == ZM_FIDO_JOB_ASSERT ? "assertion" : "PIN state", a->user,
	    w->k, want_uv ? "wanted" : "not needed");
	if ((r = zm_fido_job_start(d->fido, kind, allow, w->k, want_uv, pin,
	    (int)d->cfg->fido_timeout * 1000, &w->job)) != 0)
		goto out;
	a->fido_wait = w;
	w = NULL;
	r = 0;
 out:
	wait_free(w ? &w->df : NULL);
	zm_tokens_free(t, n);
	return r;
}

/* The key did not answer within fido_timeout: refused, not counted. */
static int
key_timeout(struct zm_tokend *d, struct zm_auth *a, const struct zm_zone *z,
    int opened, struct zm_buf *rep)
{
	char reason[96];

	snprintf(reason, sizeof(reason), "security key did not answer "
	    "within fido_timeout (%llds)", (long long)d->cfg->fido_timeout);
	zm_info("fido2: %s: %s", a->user, reason);
	zm_auth_aud(d, a, z, "aborted", reason, 0, opened ? "no touch" :
	    "the key did not open");
	return zm_auth_reply_simple(rep, ZM_ST_ABORTED, opened ?
	    ZM_MSG_TOUCH_KEY : ZM_MSG_KEY_NOT_FOUND);
}

/*
 * What the key's assertion proves: verified against the stored key, the
 * counter advanced (ZM_ERR_REPLAY: a clone, suspended and audited).
 */
static int
assertion_check(struct zm_tokend *d, struct zm_fido_wait *w,
    struct zm_auth *a, const struct zm_fido_assertion *as,
    int64_t *token_id, struct zm_proof *proof)
{
	unsigned	flags = 0;
	uint32_t	counter = 0, stored = 0;
	int64_t		id;
	int		v;

	if (as->which >= w->k)
		return ZM_ERR_DENIED;
	id = w->ids[as->which];
	if ((v = zm_fido_verify(d->cfg->fido_rp_id, as->cdh, as->authdata,
	    as->authdata_len, as->sig, as->sig_len, w->coses[as->which],
	    w->pks[as->which], &flags, &counter)) != 0) {
		zm_notice("fido2: assertion of token %" PRId64 " of %s does "
		    "not verify", id, a->user);
		return v;
	}
	v = zm_store_fido_counter_advance(d->st, id, counter, zm_now(),
	    &stored);
	if (v == ZM_ERR_REPLAY) {
		zm_warn("fido2: token %" PRId64 " of %s: counter %" PRIu32
		    " not above %" PRIu32 ": clone suspected, suspending",
		    id, a->user, counter, stored);
		v = zm_store_token_set_state(d->st, id, ZM_TS_SUSPENDED,
		    "clone suspected", zm_now());
		clone_audit(d, a->user, a->zone, id, counter, stored, v == 0);
		return ZM_ERR_REPLAY;
	}
	if (v == ZM_ERR_REVOKED || v == ZM_ERR_NOTFOUND)
		return ZM_ERR_DENIED;	/* revoked while the key was touched */
	if (v != 0)
		return v;
	proof->method = ZM_METHOD_FIDO2;
	proof->uv = (flags & ZM_FIDO_AD_UV) != 0;
	/*
	 * UV after our pinAuth is the PIN (knowledge); without a PIN the key
	 * did its own (built-in, inherence).
	 */
	proof->uv_builtin = proof->uv && !w->pin;
	*token_id = id;
	return 0;
}

/* The assertion is in (or not): the rest of zm_auth_answer().  Takes a. */
static int
answer_resume(struct zm_tokend *d, struct zm_fido_wait *w, struct zm_auth *a,
    const struct zm_zone *z, struct zm_fido_result *res,
    struct zm_auth **state, struct zm_buf *rep)
{
	struct zm_user_state	 us;
	struct zm_proof		 proof;
	const char		*why = NULL;
	uint32_t		 count;
	int64_t			 token_id = 0;
	int			 status = ZM_ST_OK, r, v = res->r;

	memset(&proof, 0, sizeof(proof));
	/* Locked or disabled by a parallel conversation meanwhile? */
	if ((r = zm_auth_account_status(d, z, a->user, 1, &us, &status,
	    &why)) != 0) {
		r = zm_auth_internal(d, a, z, rep, "store error reading user",
		    r);
		goto out;
	}
	if (status != ZM_ST_OK) {
		r = zm_auth_refuse_status(d, a, z, &us, status, why, rep);
		goto out;
	}
	if (v == ZM_ERR_DENIED && res->as.pin_status != ZM_FIDO_PIN_OK) {
		zm_info("fido2: the key of %s refused its PIN (%d tries left)",
		    a->user, res->as.pin_left);
		count = res->as.pin_left > 0 ? (uint32_t)res->as.pin_left : 0;
		r = zm_auth_count_failure(d, a, z,
		    res->as.pin_status == ZM_FIDO_PIN_BLOCKED ?
		    "wrong security key PIN, PIN blocked" :
		    "wrong security key PIN",
		    res->as.pin_status == ZM_FIDO_PIN_BLOCKED ?
		    ZM_MSG_KEY_PIN_BLOCKED : ZM_MSG_KEY_PIN_WRONG, &count, rep);
		goto out;
	}
	if (v == ZM_ERR_NOTFOUND || v == ZM_ERR_IO) {
		/* No key here holds any of this user's credentials. */
		zm_info("fido2: no key of %s answered (%s)", a->user,
		    zm_strerror(v));
		v = ZM_ERR_DENIED;
	}
	if (v == ZM_ERR_TIMEOUT) {
		r = key_timeout(d, a, z, res->opened, rep);
		goto out;
	}
	if (v == 0)
		v = assertion_check(d, w, a, &res->as, &token_id, &proof);
	if (v == ZM_ERR_DENIED || v == ZM_ERR_REPLAY) {
		r = zm_auth_count_failure(d, a, z, v == ZM_ERR_REPLAY ?
		    "signature counter did not increase (clone suspected)" :
		    "security key refused", v == ZM_ERR_REPLAY ?
		    ZM_MSG_TOKEN_REVOKED : ZM_MSG_AUTH_FAILED, NULL, rep);
		goto out;
	}
	if (v == ZM_ERR_UNAVAILABLE) {
		/* Nobody plugged a key in: like no answer, not a failure. */
		zm_auth_aud(d, a, z, "aborted", "no security key", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_ABORTED,
		    ZM_MSG_KEY_NOT_FOUND);
		goto out;
	}
	if (v != 0) {
		/* Ours (store, key, corrupt row): fail closed, not counted. */
		r = zm_auth_internal(d, a, z, rep, "verification error", v);
		goto out;
	}
	a->proven |= zm_policy_classes(z, &proof);
	a->avail &= ~a->method;
	a->generic = 0;
	return zm_auth_advance(d, a, z, token_id, state, rep);
 out:
	zm_auth_free(a);
	return r;
}

/* ---- FIDO2: touch, or the key's PIN then touch ---- */

/* The prompt itself; left: the key's PIN tries (-1 unknown).  Takes a. */
static int
prompt_reply(struct zm_auth *a, int left, struct zm_auth **state,
    struct zm_buf *rep)
{
	uint32_t	count = left > 0 ? (uint32_t)left : 0;
	int		r;

	/* Touch: the module says so and answers at once (empty answer). */
	if ((r = a->fido_pin ? zm_auth_reply_prompt_n(rep, ZM_PROMPT_PIN,
	    ZM_MSG_ENTER_KEY_PIN, left > 0 ? &count : NULL) :
	    zm_auth_reply_prompt(rep, ZM_PROMPT_TOUCH, ZM_MSG_TOUCH_KEY)) != 0) {
		zm_auth_free(a);
		return r;
	}
	*state = a;
	return 0;
}

/* Whether the key holding the credential has a PIN is known.  Takes a. */
static int
prompt_resume(struct zm_tokend *d, struct zm_auth *a, const struct zm_zone *z,
    const struct zm_fido_result *res, struct zm_auth **state,
    struct zm_buf *rep)
{
	int r;

	if (res->r == ZM_ERR_UNAVAILABLE) {
		zm_auth_aud(d, a, z, "fail", "no security key plugged in", 0,
		    "");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_KEY_NOT_FOUND);
	} else if (res->r == ZM_ERR_TIMEOUT)
		r = key_timeout(d, a, z, res->opened, rep);
	else if (res->r != 0)
		r = zm_auth_internal(d, a, z, rep, "security key error",
		    res->r);
	else if (res->has_pin && res->pin_left == 0) {
		zm_auth_aud(d, a, z, "fail", "security key PIN blocked", 0,
		    "");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_KEY_PIN_BLOCKED);
	} else {
		a->fido_pin = res->has_pin;
		return prompt_reply(a, res->has_pin ? res->pin_left : -1,
		    state, rep);
	}
	zm_auth_free(a);
	return r;
}

/* The key's part is over (or out of time): the conversation goes on. */
static int
wait_finish(struct zm_tokend *d, struct zm_deferred *df, struct zm_buf *rep)
{
	struct zm_fido_wait	*w = (struct zm_fido_wait *)df;
	struct zm_auth		*a = w->a;
	struct zm_fido_result	 res;
	const struct zm_zone	*z;
	int			 r;

	w->a = NULL;
	df->auth = NULL;
	zm_fido_job_result(w->job, &res);
	zm_fido_job_free(w->job);
	w->job = NULL;
	if ((z = zm_config_zone(d->cfg, a->zone)) == NULL) {
		r = zm_auth_internal(d, a, NULL, rep, "zone gone during the "
		    "conversation", ZM_ERR_CONFIG);
		zm_auth_free(a);
	} else if (w->kind == ZM_FIDO_JOB_PIN_STATE)
		r = prompt_resume(d, a, z, &res, &df->auth, rep);
	else
		r = answer_resume(d, w, a, z, &res, &df->auth, rep);
	zm_fido_assertion_clear(&res.as);
	return r;
}

/*
 * The daemon talks to the key; the module shows the prompt and answers:
 * empty after "touch your key", or the key's PIN.  The PIN is asked for
 * when the zone still lacks knowledge and the key holding the user's
 * credential has a client PIN: UV by PIN is knowledge (SPEC "How proofs
 * count"), so such a key alone meets knowledge + possession.  A blocked
 * PIN is said before anything is typed.  Finding that out takes the key:
 * the conversation then waits (no reply yet).  Takes a.
 */
int
zm_auth_fido2_prompt(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, struct zm_auth **state, struct zm_buf *rep)
{
	int r, v;

	*state = NULL;
	a->method = ZM_METHOD_FIDO2;
	a->fido_pin = 0;
	if (d->fido == NULL) {
		zm_auth_aud(d, a, z, "fail", "no security key plugged in", 0,
		    "");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_KEY_NOT_FOUND);
		zm_auth_free(a);
		return r;
	}
	if ((zm_policy_missing(z, a->proven) & ZM_CLASS_KNOWLEDGE) == 0)
		return prompt_reply(a, -1, state, rep);
	v = wait_start(d, a, ZM_FIDO_JOB_PIN_STATE, 0, NULL);
	if (v == ZM_ERR_DENIED)		/* none left: the answer says so */
		return prompt_reply(a, -1, state, rep);
	if (v != 0) {
		r = zm_auth_internal(d, a, z, rep, "security key error", v);
		zm_auth_free(a);
		return r;
	}
	*state = a;
	return 0;
}

int
zm_auth_fido2_answer(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const char *pin, struct zm_auth **state,
    struct zm_buf *rep)
{
	uint32_t	count = 0;
	int		want_uv, r, v;

	*state = NULL;
	if (a->fido_pin && strlen(pin) < 4) {
		/* CTAP2 PINs have 4+ characters: spare the key a try. */
		r = zm_auth_count_failure(d, a, z,
		    "security key PIN too short (not sent to the key)",
		    ZM_MSG_KEY_PIN_WRONG, &count, rep);
		goto out;
	}
	if (d->fido == NULL) {
		zm_auth_aud(d, a, z, "aborted", "no security key", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_ABORTED,
		    ZM_MSG_KEY_NOT_FOUND);
		goto out;
	}
	/* UV only where the zone still lacks what UV can prove. */
	want_uv = (zm_policy_missing(z, a->proven) & (ZM_CLASS_KNOWLEDGE |
	    ZM_CLASS_INHERENCE)) != 0;
	v = wait_start(d, a, ZM_FIDO_JOB_ASSERT, want_uv, a->fido_pin ? pin :
	    NULL);
	if (v == ZM_ERR_DENIED) {
		/* Revoked or suspended since the prompt. */
		r = zm_auth_count_failure(d, a, z, "security key refused",
		    ZM_MSG_AUTH_FAILED, NULL, rep);
		goto out;
	}
	if (v != 0) {
		r = zm_auth_internal(d, a, z, rep, "verification error", v);
		goto out;
	}
	*state = a;
	return 0;
 out:
	zm_auth_free(a);
	return r;
}
