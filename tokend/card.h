/*
 * card.h - IC cards over PC/SC (pcsc-lite): one connected card, its APDUs,
 * and the card profiles behind one small interface.
 *
 * A profile (card_piv.c, card_jpki.c) knows one card application: how to
 * select it, read its identity and certificate at enrolment, query and
 * verify the PIN, and sign a challenge.  A third profile (say the next
 * My Number card with ECDSA P-384) is a new file and a line in
 * zm_card_profiles[], nothing else.
 *
 * Every card response is untrusted: it is read only through struct zm_cur
 * and capped at ZM_CARD_RESP_MAX.  A card's serial or UID alone proves
 * nothing: a login always verifies a signature over a fresh random
 * challenge with the public key bound at enrolment.
 *
 * The pcsc calls block the daemon's loop for the few milliseconds an
 * exchange takes (4 APDUs at ~0.1-1 ms each on a contact reader).
 */
#ifndef ZM_CARD_H
#define ZM_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ZM_CARD_RESP_MAX	8192	/* one response, chained parts included */
#define ZM_CARD_CERT_MAX	4096
#define ZM_CARD_SPKI_MAX	1024
#define ZM_CARD_CHAL_LEN	32	/* SHA-256 sized challenge */
#define ZM_CARD_IDENT_MAX	65

enum zm_card_profile_id {
	ZM_CARD_PIV = 1,
	ZM_CARD_JPKI = 2,
};

/* Key types (from the SPKI). */
enum zm_card_key {
	ZM_CARD_KEY_EC256 = 1,
	ZM_CARD_KEY_RSA2048 = 2,
};

/* Sends one APDU, receives one response (data || SW1 SW2). */
typedef int (*zm_card_xmit_fn)(void *arg, const uint8_t *apdu, size_t n,
    uint8_t *resp, size_t *resplen);

struct zm_card {
	zm_card_xmit_fn	 xmit;
	void		*arg;
	unsigned	 napdu;		/* APDUs sent (bench, tests) */
	int		 ext;		/* takes extended Lc/Le (its ATR says) */
	/* The last command the card refused (zm_card_refused()). */
	const char	*refused_cmd;
	uint16_t	 refused_sw;
};

struct zm_card_profile {
	const char	*name;		/* "piv", "jpki" */
	int		 id;		/* enum zm_card_profile_id */
	/* Select the application: ZM_ERR_NOTFOUND if the card has none. */
	int	(*select)(struct zm_card *c);
	/* Enrolment: certificate (DER) of the authentication key, and ident. */
	int	(*read_cert)(struct zm_card *c, struct zm_buf *cert,
		    char ident[ZM_CARD_IDENT_MAX]);
	/* PIN tries left (0: blocked). */
	int	(*pin_retries)(struct zm_card *c, unsigned *left);
	/* ZM_OK, or ZM_ERR_DENIED with *left tries left (0: now blocked). */
	int	(*verify_pin)(struct zm_card *c, const char *pin,
		    unsigned *left);
	/* Signature (DER ECDSA or RSA PKCS#1 v1.5 over SHA-256) of chal. */
	int	(*sign)(struct zm_card *c, int key,
		    const uint8_t chal[ZM_CARD_CHAL_LEN], struct zm_buf *sig);
};

extern const struct zm_card_profile zm_card_piv;
extern const struct zm_card_profile zm_card_jpki;
extern const struct zm_card_profile *const zm_card_profiles[];
const struct zm_card_profile *zm_card_profile_by_id(int id);

/* ---- card_apdu.c: APDUs and parsers (no pcsc: unit tests, fuzzers) ---- */

/*
 * One command: CLA INS P1 P2 [Lc data] [Le] (le < 0: none).  Short
 * APDUs, or extended ones (Lc up to ZM_CARD_RESP_MAX, Le up to 65536)
 * when c->ext and the command needs them.  61 xx answers are followed
 * with GET RESPONSE up to ZM_CARD_RESP_MAX.  out receives the data, *sw
 * the final status word.
 */
int zm_card_apdu(struct zm_card *c, uint8_t cla, uint8_t ins, uint8_t p1,
    uint8_t p2, const uint8_t *data, size_t n, int le, struct zm_buf *out,
    uint16_t *sw);
/*
 * A status word other than 90 00 where the command needed success: logs
 * "card refused CMD: SW xxxx (meaning)", keeps cmd and sw in c for the
 * audit record, and returns ZM_ERR_CARDSW: the card said no, which is
 * not a bad signature nor a malformed answer.
 */
int zm_card_refused(struct zm_card *c, const char *cmd, uint16_t sw);
/* ISO 7816-4 / SP 800-73-4 meaning of a status word ("wrong data"). */
const char *zm_card_sw_text(uint16_t sw);
/* "GENERAL AUTHENTICATE: SW 6A80 (wrong data)" of c's last refusal. */
void zm_card_refusal(const struct zm_card *c, char *out, size_t outlen);
/*
 * PIV GENERAL AUTHENTICATE data of a signature: 7C { 82 00, 81 chal },
 * every length exact (card_piv.c; unit tests check the bytes).
 */
int zm_piv_auth_template(const uint8_t *chal, size_t clen,
    struct zm_buf *out);
/* Split a response into data and SW: ZM_ERR_TRUNCATED under 2 bytes. */
int zm_card_split_sw(const uint8_t *resp, size_t len, size_t *datalen,
    uint16_t *sw);
/* One BER-TLV: tag (1-2 bytes), length (up to 82 xx xx), value borrowed. */
int zm_tlv_next(struct zm_cur *c, unsigned *tag, const uint8_t **val,
    size_t *len);
/* The value of the first tag in p/n (not recursive): ZM_ERR_NOTFOUND. */
int zm_tlv_find(const uint8_t *p, size_t n, unsigned tag,
    const uint8_t **val, size_t *len);
/* Length of a DER SEQUENCE from its first bytes (header included). */
int zm_der_len(const uint8_t *p, size_t n, size_t *total);
/*
 * An ATR of a PC/SC Part 3 storage card (MIFARE, FeliCa: an ID, no key):
 * its name ("FeliCa", "MIFARE Classic 1K", "storage card"), else NULL.
 */
const char *zm_card_atr_id_only(const uint8_t *atr, size_t n);
/*
 * 1 if the ATR's historical bytes (category 00 or 80, compact-TLV) hold
 * card capabilities (tag 7) whose third byte says "extended Lc and Le
 * fields" (ISO 7816-4 8.1.1.2.7), else 0.
 */
int zm_card_atr_extended(const uint8_t *atr, size_t n);

/* ---- card_key.c: keys, signatures, the token data blob ---- */

/* SPKI (DER) and key type of a certificate (DER). */
int zm_card_cert_spki(const uint8_t *cert, size_t n, struct zm_buf *spki,
    int *key);
/*
 * With ca_file non-NULL: the certificate must chain to it and be valid
 * now.  ZM_ERR_DENIED otherwise.
 */
int zm_card_cert_check(const uint8_t *cert, size_t n, const char *ca_file);
/* Verify sig over chal with spki: ZM_OK or ZM_ERR_DENIED. */
int zm_card_sig_verify(const uint8_t *spki, size_t spki_len, int key,
    const uint8_t chal[ZM_CARD_CHAL_LEN], const uint8_t *sig,
    size_t siglen);
/*
 * The token data blob: u8 version | u8 profile | u8 key | u16 len | SPKI,
 * and from version 2 u16 len | certificate (DER), kept so that card_ca
 * is checked at every login without reading the card's certificate.
 * Version 1 blobs decode with *cert NULL.
 */
int zm_card_data_encode(int profile, int key, const uint8_t *spki,
    size_t spki_len, const uint8_t *cert, size_t cert_len,
    struct zm_buf *out);
int zm_card_data_decode(const uint8_t *p, size_t n, int *profile, int *key,
    const uint8_t **spki, size_t *spki_len, const uint8_t **cert,
    size_t *cert_len);
/* Hex of the certificate's serial number (the JPKI card ident). */
int zm_card_cert_serial(const uint8_t *cert, size_t n, char *out,
    size_t outlen);
/* PKCS#1 v1.5 DigestInfo (SHA-256) of a 32-byte hash: 51 bytes. */
#define ZM_DIGESTINFO_LEN	51
void zm_card_digestinfo(const uint8_t h[ZM_CARD_CHAL_LEN],
    uint8_t out[ZM_DIGESTINFO_LEN]);

/* ---- card.c: pcsc-lite ---- */

struct zm_pcsc;
struct zm_card_where;
/*
 * Establish a context and connect to the first reader (or the one whose
 * name contains reader) with a card that one of the wanted profiles
 * (mask of 1 << id; 0: any) selects.  ZM_ERR_UNAVAILABLE: no pcscd;
 * ZM_ERR_NOTFOUND: no such card.  When no card of another profile is
 * there either: ZM_ERR_UNSUPPORTED if a card answers no profile's
 * SELECT, else ZM_ERR_IDONLY if an ID-only card (by its ATR) is present.
 */
int zm_pcsc_open(const char *reader, unsigned want, struct zm_pcsc **out,
    const struct zm_card_profile **prof, struct zm_card **card);
void zm_pcsc_close(struct zm_pcsc *p);
/* Name of the reader in use. */
const char *zm_pcsc_reader(const struct zm_pcsc *p);

/* ---- card.c: a login with one of the user's enrolled cards ---- */

struct zm_tokend;
struct zm_card_login;
#define ZM_PIN_LEFT_UNKNOWN	(~0u)
/*
 * Connect to a card of a profile the user has an active card token of,
 * select it and query the PIN retry counter (*left, ZM_PIN_LEFT_UNKNOWN
 * when the card does not say).  ZM_ERR_NOTFOUND: no such card present;
 * ZM_ERR_UNAVAILABLE: pcscd cannot be reached; ZM_ERR_IDONLY,
 * ZM_ERR_UNSUPPORTED: only cards of no use are (zm_pcsc_open());
 * ZM_ERR_UNTRUSTED: card_ca is set and the certificate of every card of
 * the user (kept at enrolment) fails it (no longer chains, or expired);
 * ZM_ERR_CARDSW: the card refused the retry counter query, *out is set
 * all the same (zm_card_login_refusal(), then zm_card_login_free()).
 */
int zm_card_login_start(struct zm_tokend *d, const char *user,
    struct zm_card_login **out, unsigned *left);
/*
 * VERIFY the PIN, then have the card sign a fresh random challenge and
 * verify it with the keys bound at enrolment.  ZM_OK: *token_id is the
 * card's token.  ZM_ERR_DENIED: wrong PIN, *left tries left (0: blocked).
 * ZM_ERR_NOTFOUND: the signature verifies with none of the user's keys.
 * ZM_ERR_UNAVAILABLE: the card went away.  ZM_ERR_CARDSW: the card
 * refused a command (zm_card_login_refusal() says which and why).  Other
 * errors: the card answered nonsense.
 */
int zm_card_login_finish(struct zm_card_login *l, const char *pin,
    int64_t *token_id, unsigned *left);
/*
 * Where a card was seen: its reader, the reader's card event counter at
 * the time (pcsc-lite: high 16 bits of dwEventState) and its ATR.  The
 * removal watch (cardwatch.c) uses it; reader[0] == '\0' when unknown.
 */
struct zm_card_where {
	char		reader[128];
	uint16_t	counter;
	uint8_t		atr[36];
	size_t		atrlen;
};
/* Where the login's card is (call before zm_card_login_free()). */
void zm_card_login_where(const struct zm_card_login *l,
    struct zm_card_where *w);
/* The command the login's card refused and its SW (ZM_ERR_CARDSW). */
void zm_card_login_refusal(const struct zm_card_login *l, char *out,
    size_t outlen);
/* APDUs this login sent so far. */
unsigned zm_card_login_apdus(const struct zm_card_login *l);
/* Resets the card (drops its PIN-verified state) and frees. */
void zm_card_login_free(struct zm_card_login *l);

#endif
