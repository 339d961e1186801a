/*
 * auth_card.c - the IC card step of the authentication conversation
 * (auth.c): insert, PIN, signature over a fresh challenge.
 *
 *   [PROMPT CARD "insert your card" -> empty answer ->]
 *   PROMPT PIN -> the PIN -> card signs -> next method | RESULT
 *
 * The card itself is driven by card.c; this file holds the conversation
 * around it and shares struct zm_auth and auth.c's helpers through
 * auth_impl.h.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth_impl.h"
#include "store.h"
#include "card.h"
#include "cardwatch.h"
#include "err.h"
#include "log.h"
#include "policy.h"
#include "tokend.h"

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
reply_info(struct zm_buf *rep, int msgid)
{
	size_t	mark = rep->len;
	int	r;

	if ((r = zm_msg_begin(rep, ZM_REP_INFO)) != 0 ||
	    (r = zm_msg_add_u32(rep, ZM_T_MSG, (uint32_t)msgid)) != 0 ||
	    (r = zm_msg_end(rep)) != 0)
		return zm_auth_reply_fail(rep, mark, r);
	return 0;
}

/*
 * Connect to the user's card and ask for its PIN, telling the tries left
 * (the card's counter, queried first).  No card: ask once to insert it;
 * then, or when pcscd is away, the next method if the zone can still be
 * satisfied, else a refusal that says why.  Takes a (like
 * zm_auth_advance()).
 */
int
zm_auth_card_prompt(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, struct zm_auth **state, struct zm_buf *rep)
{
	struct zm_buf	m;
	unsigned	left = ZM_PIN_LEFT_UNKNOWN;
	uint32_t	count;
	int64_t		t0;
	char		why[128];
	int		r, v;

	*state = NULL;
	zm_card_login_free(a->card);
	a->card = NULL;
	a->method = ZM_METHOD_CARD;
	t0 = mono_ns();
	v = zm_card_login_start(d, a->user, &a->card, &left);
	a->card_ns = mono_ns() - t0;
	if (v == ZM_ERR_NOTFOUND && !a->card_asked) {
		a->card_asked = 1;
		if ((r = zm_auth_reply_prompt(rep, ZM_PROMPT_CARD,
		    ZM_MSG_INSERT_CARD)) != 0)
			goto out;
		*state = a;
		return 0;
	}
	if (v == ZM_ERR_NOTFOUND || v == ZM_ERR_UNAVAILABLE) {
		a->avail &= ~ZM_METHOD_CARD;
		if ((zm_policy_reachable(z, a->proven, a->avail) &
		    z->require) == z->require)
			return zm_auth_advance(d, a, z, 0, state, rep);
		zm_auth_aud(d, a, z, "fail", v == ZM_ERR_NOTFOUND ?
		    "no enrolled card in a reader" : "pcscd unavailable", 0,
		    "");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    v == ZM_ERR_NOTFOUND ? ZM_MSG_CARD_NOT_FOUND :
		    ZM_MSG_CARD_UNAVAILABLE);
		goto out;
	}
	if (v == ZM_ERR_CARDSW) {
		/* The card said no to a command: not a failed proof. */
		zm_card_login_refusal(a->card, why, sizeof(why));
		zm_auth_aud(d, a, z, "fail", "card refused the command", 0,
		    why);
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_CARD_CMD_REFUSED);
		goto out;
	}
	if (v != 0) {
		/* An ID-only card is refused saying why (R2). */
		zm_auth_aud(d, a, z, "fail", v == ZM_ERR_IDONLY ?
		    "id-only card" : "card error", 0, zm_strerror(v));
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    v == ZM_ERR_IDONLY ? ZM_MSG_CARD_ID_ONLY :
		    ZM_MSG_CARD_REFUSED);
		goto out;
	}
	if (left == 0) {
		zm_auth_aud(d, a, z, "fail", "card PIN blocked", 0, "");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED, ZM_MSG_PIN_BLOCKED);
		goto out;
	}
	/*
	 * One try left: warn before the PIN is sent.  zm_msg_begin() starts
	 * its buffer afresh: each message is built apart and appended.
	 */
	zm_buf_init(&m, ZM_MSG_MAX);
	count = left;
	if ((left == 1 && ((r = reply_info(&m, ZM_MSG_PIN_LAST_TRY)) != 0 ||
	    (r = zm_reply_append(rep, &m)) != 0)) ||
	    (r = zm_auth_reply_prompt_n(&m, ZM_PROMPT_PIN, ZM_MSG_ENTER_PIN,
	    left == ZM_PIN_LEFT_UNKNOWN ? NULL : &count)) != 0 ||
	    (r = zm_reply_append(rep, &m)) != 0) {
		zm_buf_free(&m);
		goto out;
	}
	zm_buf_free(&m);
	*state = a;
	return 0;
 out:
	zm_auth_free(a);
	return r;
}

/* The answer to a card prompt: Enter after inserting, or the PIN. */
int
zm_auth_card_answer(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const char *pin, struct zm_auth **state,
    struct zm_buf *rep)
{
	struct zm_proof	proof;
	struct zm_card_where where;
	int64_t		token_id = 0;
	unsigned	left = ZM_PIN_LEFT_UNKNOWN;
	uint32_t	count;
	char		detail[64], why[128], reason[160];
	struct zm_token	tok;
	int64_t		t0;
	int		r, v, st;

	if (a->card == NULL)		/* "insert your card": look again */
		return zm_auth_card_prompt(d, a, z, state, rep);
	t0 = mono_ns();
	v = zm_card_login_finish(a->card, pin, &token_id, &left);
	snprintf(detail, sizeof(detail), "%u APDUs",
	    zm_card_login_apdus(a->card));
	if (v == ZM_ERR_CARDSW)
		zm_card_login_refusal(a->card, why, sizeof(why));
	/* R4: remember which reader holds the card, to see it leave. */
	if (v == ZM_OK) {
		zm_card_login_where(a->card, &where);
		zm_cardwatch_bind(d->cardwatch, token_id, &where);
	}
	/* Reset the card now: its PIN state must not outlive the proof. */
	zm_card_login_free(a->card);
	a->card = NULL;
	a->card_ns += mono_ns() - t0;
	/* bench/zm-bench-card reads this (card work included). */
	zm_debug("card login of %s: %s, %lld us in the daemon", a->user,
	    detail, (long long)(a->card_ns / 1000));
	if (v == ZM_ERR_DENIED) {
		count = left == ZM_PIN_LEFT_UNKNOWN ? 0 : left;
		r = zm_auth_count_failure(d, a, z, left == 0 ?
		    "wrong PIN, card blocked" : "wrong PIN", left == 0 ?
		    ZM_MSG_PIN_BLOCKED : ZM_MSG_PIN_TRIES_LEFT, &count, rep);
		goto out;
	}
	if (v == ZM_ERR_UNAVAILABLE) {
		/* Pulled out mid-way: not a failed proof. */
		zm_auth_aud(d, a, z, "fail", "card removed during the login", 0,
		    detail);
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED,
		    ZM_MSG_CARD_NOT_FOUND);
		goto out;
	}
	if (v == ZM_ERR_CARDSW) {
		/*
		 * The card refused a command (after its PIN verified): not a
		 * signature that does not verify.  Still a failure: a card
		 * that will not sign proves nothing.
		 */
		count = 0;
		snprintf(reason, sizeof(reason), "card refused the command "
		    "(%s)", why);
		r = zm_auth_count_failure(d, a, z, reason,
		    ZM_MSG_CARD_CMD_REFUSED, &count, rep);
		goto out;
	}
	if (v != 0) {
		/* A forged or foreign card, or one that answers nonsense. */
		count = 0;
		r = zm_auth_count_failure(d, a, z, v == ZM_ERR_NOTFOUND ?
		    "card signature does not verify with an enrolled key" :
		    "card answered nonsense", ZM_MSG_CARD_REFUSED, &count, rep);
		goto out;
	}
	/*
	 * The keys were loaded when the PIN was asked for; a revocation may
	 * have come since (R5: a lost card stops at once, even mid-login).
	 */
	memset(&tok, 0, sizeof(tok));
	v = zm_store_token_get(d->st, token_id, &tok);
	st = tok.state;
	zm_token_clear(&tok);
	if (v != ZM_OK || st != ZM_TS_ACTIVE) {
		zm_auth_aud(d, a, z, "fail", v != ZM_OK ? "store error" :
		    "card revoked during the login", token_id, detail);
		r = zm_auth_reply_simple(rep, v != ZM_OK ? ZM_ST_INTERNAL :
		    ZM_ST_REVOKED, v != ZM_OK ? ZM_MSG_INTERNAL :
		    ZM_MSG_TOKEN_REVOKED);
		goto out;
	}
	memset(&proof, 0, sizeof(proof));
	proof.method = ZM_METHOD_CARD;
	proof.pin_verified = 1;		/* the card checked it: knowledge */
	a->used |= ZM_METHOD_CARD;
	a->proven |= zm_policy_classes(z, &proof);
	a->avail &= ~ZM_METHOD_CARD;
	a->generic = 0;
	return zm_auth_advance(d, a, z, token_id, state, rep);
 out:
	zm_auth_free(a);
	return r;
}
