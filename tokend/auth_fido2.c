/*
 * auth_fido2.c - the FIDO2 step of a login (called from auth.c): the
 * prompt (touch, or the key's PIN) and the assertion.
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
#include "store.h"
#include "tokend.h"
#include "wipe.h"

#define MAX_KEYS	16	/* credentials offered in one allow list */

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

int
zm_auth_fido2(struct zm_tokend *d, const char *user, const char *zone,
    int want_uv, const char *pin, int *pin_status, int *pin_left,
    int64_t *token_id, struct zm_proof *proof)
{
	struct zm_token			*t = NULL;
	struct zm_fido_allow		 allow[MAX_KEYS];
	struct zm_fido_assertion	 as;
	const uint8_t			*pks[MAX_KEYS], *pk, *id;
	int64_t				 ids[MAX_KEYS];
	int				 coses[MAX_KEYS];
	unsigned			 flags = 0;
	size_t				 n = 0, i, k = 0, id_len;
	uint32_t			 counter = 0, stored = 0;
	int				 r = ZM_ERR_INTERNAL, v;

	*token_id = 0;
	*pin_status = ZM_FIDO_PIN_OK;
	*pin_left = -1;
	memset(&as, 0, sizeof(as));
	if (d->fido == NULL)
		return ZM_ERR_UNAVAILABLE;
	if ((r = zm_store_token_list(d->st, user, &t, &n)) != 0)
		goto out;
	for (i = 0; i < n && k < MAX_KEYS; i++) {
		if (t[i].kind != ZM_TOK_FIDO2 || t[i].state != ZM_TS_ACTIVE)
			continue;
		if (zm_fido_data_decode(t[i].data, t[i].data_len, &coses[k],
		    &pk, &id, &id_len) != 0) {
			zm_err("token %" PRId64 " of %s: bad fido2 data",
			    t[i].id, user);
			r = ZM_ERR_INTERNAL;
			goto out;
		}
		allow[k] = (struct zm_fido_allow){ id, id_len };
		pks[k] = pk;
		ids[k] = t[i].id;
		k++;
	}
	if (k == 0) {			/* revoked or suspended meanwhile */
		r = ZM_ERR_DENIED;
		goto out;
	}
	zm_debug("fido2 assertion for %s: %zu credential(s), uv %s", user, k,
	    want_uv ? "wanted" : "not needed");
	v = zm_fido_assert(d->fido, allow, k, want_uv, pin, ZM_FIDO_TIMEOUT_MS,
	    &as);
	if (v == ZM_ERR_DENIED && as.pin_status != ZM_FIDO_PIN_OK) {
		*pin_status = as.pin_status;
		*pin_left = as.pin_left;
		zm_info("fido2: the key of %s refused its PIN (%d tries left)",
		    user, as.pin_left);
		r = ZM_ERR_DENIED;
		goto out;
	}
	if (v == ZM_ERR_NOTFOUND || v == ZM_ERR_IO) {
		/* No key here holds any of this user's credentials. */
		zm_info("fido2: no key of %s answered (%s)", user,
		    zm_strerror(v));
		r = ZM_ERR_DENIED;
		goto out;
	}
	if (v != 0) {
		r = v;
		goto out;
	}
	if ((v = zm_fido_verify(d->cfg->fido_rp_id, as.cdh, as.authdata,
	    as.authdata_len, as.sig, as.sig_len, coses[as.which],
	    pks[as.which], &flags,
	    &counter)) != 0) {
		zm_notice("fido2: assertion of token %" PRId64 " of %s does "
		    "not verify", ids[as.which], user);
		r = v == ZM_ERR_DENIED ? ZM_ERR_DENIED : v;
		goto out;
	}
	v = zm_store_fido_counter_advance(d->st, ids[as.which], counter,
	    zm_now(), &stored);
	if (v == ZM_ERR_REPLAY) {
		zm_warn("fido2: token %" PRId64 " of %s: counter %" PRIu32
		    " not above %" PRIu32 ": clone suspected, suspending",
		    ids[as.which], user, counter, stored);
		v = zm_store_token_set_state(d->st, ids[as.which],
		    ZM_TS_SUSPENDED, "clone suspected", zm_now());
		clone_audit(d, user, zone, ids[as.which], counter, stored,
		    v == 0);
		r = ZM_ERR_REPLAY;
		goto out;
	}
	if (v == ZM_ERR_REVOKED || v == ZM_ERR_NOTFOUND) {
		r = ZM_ERR_DENIED;	/* revoked while the key was touched */
		goto out;
	}
	if (v != 0) {
		r = v;
		goto out;
	}
	proof->method = ZM_METHOD_FIDO2;
	proof->uv = (flags & ZM_FIDO_AD_UV) != 0;
	/*
	 * UV after our pinAuth is the PIN (knowledge); without a PIN the key
	 * did its own (built-in, inherence).
	 */
	proof->uv_builtin = proof->uv && pin == NULL;
	*token_id = ids[as.which];
	r = 0;
 out:
	zm_fido_assertion_clear(&as);
	zm_tokens_free(t, n);
	return r;
}

/* ---- FIDO2: touch, or the key's PIN then touch ---- */

/*
 * The daemon talks to the key; the module shows the prompt and answers:
 * empty after "touch your key", or the key's PIN.  The PIN is asked for
 * when the zone still lacks knowledge and a key has a client PIN: UV by
 * PIN is knowledge (SPEC "How proofs count"), so such a key alone meets
 * knowledge + possession.  A blocked PIN is said before anything is
 * typed.  Takes a (like zm_auth_advance()).
 */
int
zm_auth_fido2_prompt(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, struct zm_auth **state, struct zm_buf *rep)
{
	uint32_t	count;
	int		has_pin = 0, left = -1, r, v;

	*state = NULL;
	a->method = ZM_METHOD_FIDO2;
	a->fido_pin = 0;
	if ((zm_policy_missing(z, a->proven) & ZM_CLASS_KNOWLEDGE) != 0) {
		v = zm_fido_pin_state(d->fido, ZM_FIDO_TIMEOUT_MS, &has_pin,
		    &left);
		if (v == ZM_ERR_UNAVAILABLE) {
			zm_auth_aud(d, a, z, "fail",
			    "no security key plugged in", 0, "");
			r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
			    ZM_MSG_KEY_NOT_FOUND);
			goto out;
		}
		if (v != 0) {
			r = zm_auth_internal(d, a, z, rep, "security key error",
			    v);
			goto out;
		}
		if (has_pin && left == 0) {
			zm_auth_aud(d, a, z, "fail", "security key PIN blocked",
			    0, "");
			r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
			    ZM_MSG_KEY_PIN_BLOCKED);
			goto out;
		}
		a->fido_pin = has_pin;
	}
	count = left > 0 ? (uint32_t)left : 0;
	/* Touch: the module says so and answers at once (empty answer). */
	if ((r = a->fido_pin ? zm_auth_reply_prompt_n(rep, ZM_PROMPT_PIN,
	    ZM_MSG_ENTER_KEY_PIN, left > 0 ? &count : NULL) :
	    zm_auth_reply_prompt(rep, ZM_PROMPT_TOUCH, ZM_MSG_TOUCH_KEY)) != 0)
		goto out;
	*state = a;
	return 0;
 out:
	zm_auth_free(a);
	return r;
}
