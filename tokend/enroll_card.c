/*
 * enroll_card.c - ZM_REQ_ENROLL_CARD: bind the card in a reader to a user
 * (enrol) or put it in place of the user's card (replace-card, R6).
 *
 * The card must prove itself before it is bound: its PIN verifies and its
 * key signs a fresh challenge that the certificate's public key checks.
 * What is bound is that public key (SPKI) and the card's identifier.  One
 * card belongs to one person (R3): the store's unique (kind, ident) index
 * refuses a card bound to anyone, in any state, so a revoked or replaced
 * card never comes back (R6).
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "audit.h"
#include "card.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "store.h"
#include "tokend.h"
#include "wipe.h"

#define PIN_MAX	16

struct enrol {
	char		 user[ZM_NAME_MAX];
	char		 reader[128];
	char		 pin[PIN_MAX + 1];
	char		 ident[ZM_CARD_IDENT_MAX];
	uint32_t	 flags;
	const char	*event;
};

static void
audit(struct zm_tokend *d, const struct zm_peer *peer, const struct enrol *e,
    const char *result, const char *reason, const char *token,
    const char *detail)
{
	if (zm_audit_event(d->audit, e->event, e->user[0] ? e->user : "-",
	    NULL, result, reason, NULL, peer->name, token, detail,
	    strcmp(result, "ok") == 0) != 0)
		zm_err("%s: audit write failed", e->event);
}

static int
refuse(struct zm_tokend *d, const struct zm_peer *peer,
    const struct enrol *e, int status, int msgid, uint32_t count,
    const char *why, struct zm_buf *reply)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "%s%s", e->ident[0] ? "card " : "",
	    e->ident);
	audit(d, peer, e, status == ZM_ST_INTERNAL ? "error" : "refused", why,
	    NULL, detail);
	return zm_reply_result(reply, status, msgid, 0, count);
}

/*
 * The card refused a command (a status word): audited as such, with the
 * command and its SW, and the operator told so (not "did not prove").
 */
static int
refused(struct zm_tokend *d, const struct zm_peer *peer,
    const struct enrol *e, const struct zm_card *card, struct zm_buf *reply)
{
	char why[128], detail[224];

	zm_card_refusal(card, why, sizeof(why));
	snprintf(detail, sizeof(detail), "%s%s%s%s", e->ident[0] ? "card " :
	    "", e->ident, e->ident[0] ? ": " : "", why);
	audit(d, peer, e, "refused", "card refused the command", NULL,
	    detail);
	return zm_reply_result(reply, ZM_ST_DENIED, ZM_MSG_CARD_CMD_REFUSED,
	    0, 0);
}

static int
reply_ok(struct zm_buf *reply, int64_t id, const char *ident,
    const char *profile, size_t replaced)
{
	struct zm_buf	m;
	int		r;

	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) != 0 ||
	    (r = zm_msg_add_u64(&m, ZM_T_TOKEN_ID, (uint64_t)id)) != 0 ||
	    (r = zm_msg_add_str(&m, ZM_T_TEXT, ident)) != 0 ||
	    (r = zm_msg_add_str(&m, ZM_T_TEXT2, profile)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT2, (uint32_t)replaced)) != 0 ||
	    (r = zm_msg_end(&m)) != 0)
		goto out;
	r = zm_reply_append(reply, &m);
 out:
	zm_buf_free(&m);
	return r;
}

static int
parse(const struct zm_peer *peer, const struct zm_msg *req, struct enrol *e)
{
	int r;

	if (zm_msg_get_str(req, ZM_T_USER, e->user, sizeof(e->user)) != 0 ||
	    !zm_user_name_valid(e->user)) {
		e->user[0] = '\0';
		return ZM_ERR_INVALID;
	}
	if (zm_msg_get_str(req, ZM_T_ANSWER, e->pin, sizeof(e->pin)) != 0)
		return ZM_ERR_INVALID;
	r = zm_msg_get_str(req, ZM_T_READER, e->reader, sizeof(e->reader));
	if (r != 0 && r != ZM_ERR_NOTFOUND)
		return ZM_ERR_INVALID;
	r = zm_msg_get_u32(req, ZM_T_FLAGS, &e->flags);
	if (r != 0 && r != ZM_ERR_NOTFOUND)
		return ZM_ERR_INVALID;
	e->event = (e->flags & ZM_ENROLL_REPLACE) ? "replace" : "enrol";
	(void)peer;
	return ZM_OK;
}

/*
 * The card proves PIN and key; fills cert/spki/key.  Replies on refusal
 * (1).
 */
static int
prove(struct zm_tokend *d, const struct zm_peer *peer, struct enrol *e,
    const struct zm_card_profile *prof, struct zm_card *card,
    struct zm_buf *cert, struct zm_buf *spki, int *key, struct zm_buf *reply)
{
	struct zm_buf	sig;
	struct zm_token	old;
	uint8_t		chal[ZM_CARD_CHAL_LEN];
	unsigned	left = ZM_PIN_LEFT_UNKNOWN;
	int		r, v;

	zm_buf_init(&sig, 1024);
	memset(&old, 0, sizeof(old));
	if ((v = prof->read_cert(card, cert, e->ident)) == ZM_ERR_CARDSW) {
		r = refused(d, peer, e, card, reply);
		goto refused;
	}
	if (v != 0 ||
	    (v = zm_card_cert_spki(cert->data, cert->len, spki, key)) != 0) {
		zm_warn("enrol: card certificate unusable: %s", zm_strerror(v));
		r = refuse(d, peer, e, ZM_ST_INVALID, ZM_MSG_CARD_REFUSED, 0,
		    "card certificate unreadable or key type not supported",
		    reply);
		goto refused;
	}
	if ((v = zm_card_cert_check(cert->data, cert->len,
	    d->cfg->card_ca)) != 0) {
		r = refuse(d, peer, e, ZM_ST_DENIED, ZM_MSG_CARD_REFUSED, 0,
		    "certificate does not chain to card_ca or expired", reply);
		goto refused;
	}
	/* Bound already (to anyone, in any state): no PIN try wasted. */
	if ((v = zm_store_token_find_ident(d->st, ZM_TOK_CARD, e->ident,
	    &old)) == 0) {
		r = refuse(d, peer, e, ZM_ST_EXISTS, ZM_MSG_NONE, 0,
		    old.state == ZM_TS_ACTIVE ? "card already enrolled" :
		    "card revoked or replaced: never again", reply);
		goto refused;
	}
	if ((v = prof->pin_retries(card, &left)) == ZM_ERR_CARDSW) {
		r = refused(d, peer, e, card, reply);
		goto refused;
	}
	if (v != 0 || left == 0) {
		r = refuse(d, peer, e, ZM_ST_DENIED, v != 0 ?
		    ZM_MSG_CARD_REFUSED : ZM_MSG_PIN_BLOCKED, 0, v != 0 ?
		    "card error" : "PIN blocked", reply);
		goto refused;
	}
	if ((v = prof->verify_pin(card, e->pin, &left)) == ZM_ERR_CARDSW) {
		r = refused(d, peer, e, card, reply);
		goto refused;
	}
	if (v != 0) {
		r = refuse(d, peer, e, ZM_ST_DENIED, v == ZM_ERR_DENIED &&
		    left == 0 ? ZM_MSG_PIN_BLOCKED : ZM_MSG_PIN_TRIES_LEFT,
		    left == ZM_PIN_LEFT_UNKNOWN ? 0 : left, "wrong PIN", reply);
		goto refused;
	}
	if (RAND_bytes(chal, sizeof(chal)) != 1) {
		r = ZM_ERR_CRYPTO;
		goto out;
	}
	/* A card that refuses to sign is not one whose signature is bad. */
	if ((v = prof->sign(card, *key, chal, &sig)) == ZM_ERR_CARDSW) {
		r = refused(d, peer, e, card, reply);
		goto refused;
	}
	if (v != 0) {
		zm_warn("enrol: card answered the signing command with "
		    "nonsense: %s", zm_strerror(v));
		r = refuse(d, peer, e, ZM_ST_DENIED, ZM_MSG_CARD_REFUSED, 0,
		    "card answered the signing command with nonsense", reply);
		goto refused;
	}
	if ((v = zm_card_sig_verify(spki->data, spki->len, *key, chal,
	    sig.data, sig.len)) != 0) {
		r = refuse(d, peer, e, ZM_ST_DENIED, ZM_MSG_CARD_REFUSED, 0,
		    "signature does not verify", reply);
		goto refused;
	}
	r = 0;
	goto out;
 refused:
	r = r == 0 ? 1 : r;
 out:
	zm_wipe(chal, sizeof(chal));
	zm_token_clear(&old);
	zm_buf_free(&sig);
	return r;
}

int
zm_admin_enroll_card(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	const struct zm_card_profile	*prof = NULL;
	struct zm_card			*card = NULL;
	struct zm_pcsc			*pcsc = NULL;
	struct zm_buf			 cert, spki, data;
	struct zm_token			 t;
	struct enrol			 e;
	int64_t				*ids = NULL;
	size_t				 n = 0;
	char				 tok[24], detail[160];
	const char			*why;
	int				 key = 0, r, v;

	memset(&e, 0, sizeof(e));
	memset(&t, 0, sizeof(t));
	zm_buf_init(&cert, ZM_CARD_CERT_MAX);
	zm_buf_init(&spki, ZM_CARD_SPKI_MAX);
	zm_buf_init(&data, ZM_CARD_SPKI_MAX + ZM_CARD_CERT_MAX + 16);
	e.event = "enrol";
	if (parse(peer, req, &e) != 0) {
		r = zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
		goto out;
	}
	if ((v = zm_operator_check(d->cfg, peer, e.user, 0, &why)) !=
	    ZM_ST_OK) {	/* R10 */
		r = refuse(d, peer, &e, v, ZM_MSG_NOT_PERMITTED, 0, why, reply);
		goto out;
	}
	if (!zm_user_exists(e.user)) {
		r = refuse(d, peer, &e, ZM_ST_NOTFOUND, ZM_MSG_NONE, 0,
		    "no such user", reply);
		goto out;
	}
	if (!d->cfg->pcsc) {
		r = refuse(d, peer, &e, ZM_ST_INVALID, ZM_MSG_CARD_UNAVAILABLE,
		    0, "pcsc = no", reply);
		goto out;
	}
	v = zm_pcsc_open(e.reader[0] ? e.reader : NULL, 0, &pcsc, &prof,
	    &card);
	if (v == ZM_ERR_IDONLY || v == ZM_ERR_UNSUPPORTED) {
		/* R2: an ID (FeliCa IDm, MIFARE UID) is never bound. */
		r = refuse(d, peer, &e, ZM_ST_DENIED, v == ZM_ERR_IDONLY ?
		    ZM_MSG_CARD_ID_ONLY : ZM_MSG_CARD_REFUSED, 0,
		    v == ZM_ERR_IDONLY ? "id-only card" :
		    "not a supported card", reply);
		goto out;
	}
	if (v != 0) {
		r = refuse(d, peer, &e, v == ZM_ERR_NOTFOUND ? ZM_ST_NOTFOUND :
		    ZM_ST_INTERNAL, v == ZM_ERR_NOTFOUND ?
		    ZM_MSG_CARD_NOT_FOUND : ZM_MSG_CARD_UNAVAILABLE, 0,
		    v == ZM_ERR_NOTFOUND ? "no supported card in a reader" :
		    "pcscd cannot be reached", reply);
		goto out;
	}
	if ((r = prove(d, peer, &e, prof, card, &cert, &spki, &key,
	    reply)) != 0) {
		r = r == 1 ? 0 : r;
		goto out;
	}
	if ((r = zm_card_data_encode(prof->id, key, spki.data, spki.len,
	    cert.data, cert.len, &data)) != 0)
		goto out;
	t.kind = ZM_TOK_CARD;
	t.state = ZM_TS_ACTIVE;
	snprintf(t.user, sizeof(t.user), "%s", e.user);
	snprintf(t.ident, sizeof(t.ident), "%s", e.ident);
	snprintf(t.label, sizeof(t.label), "%s %s", prof->name, e.ident);
	snprintf(t.enrolled_by, sizeof(t.enrolled_by), "%s", peer->name);
	t.last_step = -1;
	t.data = data.data;
	t.data_len = data.len;
	if (e.flags & ZM_ENROLL_REPLACE)
		v = zm_store_token_replace(d->st, &t, zm_now(), &ids, &n);
	else
		v = zm_store_token_add(d->st, &t, zm_now());
	t.data = NULL;
	t.data_len = 0;
	if (v == ZM_ERR_EXISTS || v == ZM_ERR_NOTFOUND) {
		r = refuse(d, peer, &e, v == ZM_ERR_EXISTS ? ZM_ST_EXISTS :
		    ZM_ST_NOTFOUND, ZM_MSG_NONE, 0, v == ZM_ERR_EXISTS ?
		    "card already enrolled" : "no card to replace", reply);
		goto out;
	}
	if (v != 0) {
		r = refuse(d, peer, &e, ZM_ST_INTERNAL, ZM_MSG_INTERNAL, 0,
		    zm_strerror(v), reply);
		goto out;
	}
	snprintf(tok, sizeof(tok), "%" PRId64, t.id);
	snprintf(detail, sizeof(detail), "card %s %s%s%s", prof->name,
	    e.ident, n > 0 ? ", replaced token " : "", "");
	if (n > 0) {
		size_t len = strlen(detail);

		snprintf(detail + len, sizeof(detail) - len, "%" PRId64 "%s",
		    ids[0], n > 1 ? " and more" : "");
	}
	audit(d, peer, &e, "ok", (e.flags & ZM_ENROLL_REPLACE) ?
	    "card replaced" : "card enrolled", tok, detail);
	zm_notice("%s: card %s (%s) bound to %s by %s", e.event, e.ident,
	    prof->name, e.user, peer->name);
	r = reply_ok(reply, t.id, e.ident, prof->name, n);
 out:
	zm_pcsc_close(pcsc);
	zm_wipe(&e, sizeof(e));
	free(ids);
	zm_buf_free(&cert);
	zm_buf_free(&spki);
	zm_buf_free(&data);
	return r;
}
