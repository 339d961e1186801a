/*
 * card.c - pcsc-lite access and card logins.
 *
 * A card is connected for the time of one conversation (PIN prompt
 * included) in shared mode, and reset when the conversation ends so
 * that no other program finds it with its PIN verified.  A fresh pcsc
 * context per conversation: a restarted pcscd is simply found again,
 * and while it is away card logins are refused (ZM_ERR_UNAVAILABLE).
 */
#include <config.h>

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <winscard.h>
#include <openssl/rand.h>

#include "card.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "tokend.h"
#include "wipe.h"

#define READERS_MAX	16

const struct zm_card_profile *const zm_card_profiles[] = {
	&zm_card_piv,
	&zm_card_jpki,
	NULL
};

const struct zm_card_profile *
zm_card_profile_by_id(int id)
{
	size_t i;

	for (i = 0; zm_card_profiles[i] != NULL; i++)
		if (zm_card_profiles[i]->id == id)
			return zm_card_profiles[i];
	return NULL;
}

struct zm_pcsc {
	SCARDCONTEXT	ctx;
	SCARDHANDLE	h;
	DWORD		proto;
	int		connected;
	char		reader[256];
	struct zm_card	card;
	struct zm_card_where where;	/* for the removal watch */
};

static int
pcsc_err(LONG rv)
{
	switch (rv) {
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_RESET_CARD:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED:
	case SCARD_E_INVALID_HANDLE:
		return ZM_ERR_UNAVAILABLE;
	default:
		return ZM_ERR_IO;
	}
}

static int
pcsc_xmit(void *arg, const uint8_t *apdu, size_t n, uint8_t *resp,
    size_t *resplen)
{
	struct zm_pcsc	*p = arg;
	DWORD		 rl = (DWORD)*resplen;
	LONG		 rv;

	rv = SCardTransmit(p->h, p->proto == SCARD_PROTOCOL_T1 ?
	    SCARD_PCI_T1 : SCARD_PCI_T0, apdu, (DWORD)n, NULL, resp, &rl);
	if (rv != SCARD_S_SUCCESS)
		return pcsc_err(rv);
	*resplen = rl;
	return ZM_OK;
}

void
zm_pcsc_close(struct zm_pcsc *p)
{
	if (p == NULL)
		return;
	/* Reset: the PIN-verified state must not outlive the conversation. */
	if (p->connected)
		(void)SCardDisconnect(p->h, SCARD_RESET_CARD);
	if (p->ctx != 0)
		(void)SCardReleaseContext(p->ctx);
	zm_freezero(p, sizeof(*p));
}

const char *
zm_pcsc_reader(const struct zm_pcsc *p)
{
	return p->reader;
}

/*
 * The reader's card event counter (pcsc-lite keeps it in the high 16 bits
 * of dwEventState; it moves on every insertion and removal) and the ATR:
 * the watcher (cardwatch.c) compares them with what it sees later.
 */
static void
where_get(struct zm_pcsc *p, const char *name)
{
	SCARD_READERSTATE rs;

	memset(&p->where, 0, sizeof(p->where));
	if (snprintf(p->where.reader, sizeof(p->where.reader), "%s", name) >=
	    (int)sizeof(p->where.reader))
		p->where.reader[0] = '\0';	/* never matches: no watch */
	memset(&rs, 0, sizeof(rs));
	rs.szReader = name;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardGetStatusChange(p->ctx, 0, &rs, 1) != SCARD_S_SUCCESS) {
		p->where.reader[0] = '\0';
		return;
	}
	p->where.counter = (uint16_t)(rs.dwEventState >> 16);
	if (rs.cbAtr <= sizeof(p->where.atr)) {
		memcpy(p->where.atr, rs.rgbAtr, rs.cbAtr);
		p->where.atrlen = rs.cbAtr;
	}
}

/* What the readers hold, to say why when no wanted card answers. */
#define SEEN_IDONLY		0x1	/* a storage card: an ID, no key */
#define SEEN_UNSUPPORTED	0x2	/* a card no profile selects */
#define SEEN_OTHER		0x4	/* a card of a profile not wanted */

/*
 * Connect to reader and select one of the wanted profiles.  An ID-only
 * card (by its ATR) is never connected to: nothing it answers would be
 * a proof.  When no wanted profile selects, the others are tried only
 * to tell an unsupported card from one of another profile (*seen).
 */
static int
try_reader(struct zm_pcsc *p, const char *name, unsigned want,
    const struct zm_card_profile **prof, unsigned *seen)
{
	SCARD_READERSTATE rs;
	const char	*idonly;
	size_t		 i;
	int		 r, other = 0;

	memset(&rs, 0, sizeof(rs));
	rs.szReader = name;
	rs.dwCurrentState = SCARD_STATE_UNAWARE;
	if (SCardGetStatusChange(p->ctx, 0, &rs, 1) != SCARD_S_SUCCESS ||
	    (rs.dwEventState & SCARD_STATE_PRESENT) == 0)
		return ZM_ERR_NOTFOUND;
	if (rs.cbAtr <= sizeof(rs.rgbAtr) &&
	    (idonly = zm_card_atr_id_only(rs.rgbAtr, rs.cbAtr)) != NULL) {
		zm_info("%s: %s: an ID-only card, refused", name, idonly);
		*seen |= SEEN_IDONLY;
		return ZM_ERR_NOTFOUND;
	}
	if (SCardConnect(p->ctx, name, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->h, &p->proto) !=
	    SCARD_S_SUCCESS)
		return ZM_ERR_NOTFOUND;
	p->connected = 1;
	p->card.xmit = pcsc_xmit;
	p->card.arg = p;
	p->card.ext = rs.cbAtr <= sizeof(rs.rgbAtr) &&
	    zm_card_atr_extended(rs.rgbAtr, rs.cbAtr);
	for (i = 0; zm_card_profiles[i] != NULL; i++) {
		if (want != 0 && (want & (1u << zm_card_profiles[i]->id)) == 0)
			continue;
		r = zm_card_profiles[i]->select(&p->card);
		if (r == ZM_OK) {
			*prof = zm_card_profiles[i];
			snprintf(p->reader, sizeof(p->reader), "%s", name);
			where_get(p, name);
			return ZM_OK;
		}
		if (r == ZM_ERR_UNAVAILABLE)
			goto out;
	}
	for (i = 0; want != 0 && zm_card_profiles[i] != NULL && !other; i++)
		if ((want & (1u << zm_card_profiles[i]->id)) == 0 &&
		    zm_card_profiles[i]->select(&p->card) == ZM_OK)
			other = 1;
	*seen |= other ? SEEN_OTHER : SEEN_UNSUPPORTED;
 out:
	(void)SCardDisconnect(p->h, SCARD_LEAVE_CARD);
	p->connected = 0;
	return ZM_ERR_NOTFOUND;
}

int
zm_pcsc_open(const char *reader, unsigned want, struct zm_pcsc **out,
    const struct zm_card_profile **prof, struct zm_card **card)
{
	struct zm_pcsc	*p;
	char		*names = NULL, *n;
	DWORD		 len = SCARD_AUTOALLOCATE;
	LONG		 rv;
	unsigned	 seen = 0;
	int		 r = ZM_ERR_NOTFOUND;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ZM_ERR_NOMEM;
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &p->ctx)) != SCARD_S_SUCCESS) {
		p->ctx = 0;
		zm_warn("pcscd cannot be reached: %s", pcsc_stringify_error(rv));
		r = ZM_ERR_UNAVAILABLE;
		goto out;
	}
	rv = SCardListReaders(p->ctx, NULL, (LPSTR)&names, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		goto out;
	if (rv != SCARD_S_SUCCESS) {
		r = pcsc_err(rv);
		goto out;
	}
	for (n = names; *n != '\0'; n += strlen(n) + 1) {
		if (reader != NULL && strstr(n, reader) == NULL)
			continue;
		if ((r = try_reader(p, n, want, prof, &seen)) == ZM_OK)
			break;
	}
	/* No wanted card: say why when every card there is of no use. */
	if (r == ZM_ERR_NOTFOUND && (seen & SEEN_OTHER) == 0) {
		if (seen & SEEN_UNSUPPORTED)
			r = ZM_ERR_UNSUPPORTED;
		else if (seen & SEEN_IDONLY)
			r = ZM_ERR_IDONLY;
	}
 out:
	if (names != NULL)
		(void)SCardFreeMemory(p->ctx, names);
	if (r != ZM_OK) {
		zm_pcsc_close(p);
		return r;
	}
	*card = &p->card;
	*out = p;
	return ZM_OK;
}

/* ---- logins ---- */

struct key {
	int64_t		 id;
	int		 key;
	uint8_t		*spki;
	size_t		 spki_len;
};

struct zm_card_login {
	struct zm_pcsc			*pcsc;
	struct zm_card			*card;
	const struct zm_card_profile	*prof;
	struct key			 keys[8];
	size_t				 nkeys;
};

void
zm_card_login_free(struct zm_card_login *l)
{
	size_t i;

	if (l == NULL)
		return;
	zm_pcsc_close(l->pcsc);
	for (i = 0; i < l->nkeys; i++)
		free(l->keys[i].spki);
	zm_freezero(l, sizeof(*l));
}

void
zm_card_login_where(const struct zm_card_login *l, struct zm_card_where *w)
{
	if (l != NULL && l->pcsc != NULL)
		*w = l->pcsc->where;
	else
		memset(w, 0, sizeof(*w));
}

void
zm_card_login_refusal(const struct zm_card_login *l, char *out,
    size_t outlen)
{
	zm_card_refusal(l != NULL ? l->card : NULL, out, outlen);
}

unsigned
zm_card_login_apdus(const struct zm_card_login *l)
{
	return l != NULL && l->card != NULL ? l->card->napdu : 0;
}

/*
 * The user's active card tokens: the profiles wanted, and their keys.
 * With card_ca set, a card whose certificate (kept at enrolment) does not
 * chain to it or has expired is left out and counted in *untrusted.
 */
static int
load_keys(struct zm_tokend *d, const char *user, struct zm_card_login *l,
    unsigned *want, unsigned *untrusted)
{
	struct zm_token	*t = NULL;
	const uint8_t	*spki, *cert;
	size_t		 n = 0, i, slen, clen;
	int		 prof, key, r;

	*want = 0;
	*untrusted = 0;
	if ((r = zm_store_token_list(d->st, user, &t, &n)) != 0)
		return r;
	for (i = 0; i < n && l->nkeys < sizeof(l->keys) / sizeof(l->keys[0]);
	    i++) {
		if (t[i].kind != ZM_TOK_CARD || t[i].state != ZM_TS_ACTIVE)
			continue;
		if (zm_card_data_decode(t[i].data, t[i].data_len, &prof, &key,
		    &spki, &slen, &cert, &clen) != 0 ||
		    zm_card_profile_by_id(prof) == NULL) {
			zm_err("card token %" PRId64 " of %s: bad data",
			    t[i].id, user);
			continue;
		}
		/* Enrolled before certificates were kept: cannot be checked. */
		if (d->cfg->card_ca != NULL && (cert == NULL ||
		    zm_card_cert_check(cert, clen, d->cfg->card_ca) != 0)) {
			zm_warn("card token %" PRId64 " of %s: certificate "
			    "does not chain to card_ca or expired", t[i].id,
			    user);
			(*untrusted)++;
			continue;
		}
		if ((l->keys[l->nkeys].spki = malloc(slen)) == NULL) {
			r = ZM_ERR_NOMEM;
			break;
		}
		memcpy(l->keys[l->nkeys].spki, spki, slen);
		l->keys[l->nkeys].spki_len = slen;
		l->keys[l->nkeys].id = t[i].id;
		/* The profile rides in the high byte of key. */
		l->keys[l->nkeys].key = key | prof << 8;
		l->nkeys++;
		*want |= 1u << prof;
	}
	zm_tokens_free(t, n);
	return r;
}

int
zm_card_login_start(struct zm_tokend *d, const char *user,
    struct zm_card_login **out, unsigned *left)
{
	struct zm_card_login	*l;
	unsigned		 want = 0, untrusted = 0;
	int			 r;

	*out = NULL;
	*left = ZM_PIN_LEFT_UNKNOWN;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ZM_ERR_NOMEM;
	if ((r = load_keys(d, user, l, &want, &untrusted)) != 0)
		goto out;
	if (want == 0) {
		r = untrusted > 0 ? ZM_ERR_UNTRUSTED : ZM_ERR_NOTFOUND;
		goto out;
	}
	if ((r = zm_pcsc_open(NULL, want, &l->pcsc, &l->prof, &l->card)) != 0)
		goto out;
	if ((r = l->prof->pin_retries(l->card, left)) != 0 &&
	    r != ZM_ERR_CARDSW)
		goto out;
	/* Refused: kept, so that zm_card_login_refusal() can say why. */
	*out = l;
	l = NULL;
 out:
	zm_card_login_free(l);
	return r;
}

int
zm_card_login_finish(struct zm_card_login *l, const char *pin,
    int64_t *token_id, unsigned *left)
{
	struct zm_buf	sig;
	uint8_t		chal[ZM_CARD_CHAL_LEN];
	size_t		i;
	int		key = 0, r;

	*token_id = 0;
	*left = ZM_PIN_LEFT_UNKNOWN;
	zm_buf_init(&sig, 1024);
	if ((r = l->prof->verify_pin(l->card, pin, left)) != 0)
		goto out;
	/* The key type of this profile's enrolled keys (one per card). */
	for (i = 0; i < l->nkeys; i++)
		if ((l->keys[i].key >> 8) == l->prof->id) {
			key = l->keys[i].key & 0xff;
			break;
		}
	if (key == 0) {
		r = ZM_ERR_NOTFOUND;
		goto out;
	}
	/* A fresh challenge each time: a recorded answer is worth nothing. */
	if (RAND_bytes(chal, sizeof(chal)) != 1) {
		r = ZM_ERR_CRYPTO;
		goto out;
	}
	if ((r = l->prof->sign(l->card, key, chal, &sig)) != 0)
		goto out;
	r = ZM_ERR_NOTFOUND;
	for (i = 0; i < l->nkeys; i++) {
		if (l->keys[i].key != (key | l->prof->id << 8))
			continue;
		if (zm_card_sig_verify(l->keys[i].spki, l->keys[i].spki_len,
		    key, chal, sig.data, sig.len) == ZM_OK) {
			*token_id = l->keys[i].id;
			r = ZM_OK;
			break;
		}
	}
 out:
	zm_wipe(chal, sizeof(chal));
	zm_buf_free(&sig);
	return r;
}
