/*
 * card_jpki.c - the user-authentication AP of the My Number card (JPKI
 * 利用者証明用電子証明書): RSA-2048, PKCS#1 v1.5 over a DigestInfo.
 *
 * The card reads its certificate without a PIN, so reading it proves
 * nothing: a login always has the key sign a fresh challenge.  The PIN
 * (EF 0018) and the key (EF 0017) are addressed by selecting their EF,
 * so a login is SELECT AP, SELECT PIN EF, VERIFY (retry counter), VERIFY,
 * SELECT KEY EF, COMPUTE DIGITAL SIGNATURE: 6 APDUs.  That is the card's
 * command set; PIV needs 4.
 *
 * A status word other than 90 00 (or a PIN counter) is a refusal:
 * ZM_ERR_CARDSW through zm_card_refused(), never a bad signature.
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "card.h"
#include "err.h"
#include "wipe.h"

static const uint8_t jpki_aid[] = { 0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01,
    0x00, 0x00, 0x00, 0x01 };

#define EF_AUTH_CERT	0x000a
#define EF_AUTH_KEY	0x0017
#define EF_AUTH_PIN	0x0018
#define PIN_LEN		4

static int
simple(struct zm_card *c, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *d, size_t n, uint16_t *sw)
{
	struct zm_buf	out;
	int		r;

	zm_buf_init(&out, 64);
	r = zm_card_apdu(c, cla, ins, p1, p2, d, n, -1, &out, sw);
	zm_buf_free(&out);
	return r;
}

static int
jpki_select(struct zm_card *c)
{
	uint16_t	sw = 0;
	int		r;

	if ((r = simple(c, 0x00, 0xa4, 0x04, 0x0c, jpki_aid, sizeof(jpki_aid),
	    &sw)) != 0)
		return r;
	if (sw == 0x9000)
		return ZM_OK;
	if (sw == 0x6a82)
		return ZM_ERR_NOTFOUND;
	return zm_card_refused(c, "JPKI SELECT AP", sw);
}

static int
select_ef(struct zm_card *c, unsigned ef)
{
	uint8_t		id[2] = { (uint8_t)(ef >> 8), (uint8_t)ef };
	uint16_t	sw = 0;
	int		r;

	if ((r = simple(c, 0x00, 0xa4, 0x02, 0x0c, id, sizeof(id), &sw)) != 0)
		return r;
	if (sw == 0x9000)
		return ZM_OK;
	return zm_card_refused(c, ef == EF_AUTH_CERT ? "SELECT EF 000A" :
	    ef == EF_AUTH_KEY ? "SELECT EF 0017" : "SELECT EF 0018", sw);
}

static int
jpki_read_cert(struct zm_card *c, struct zm_buf *cert,
    char ident[ZM_CARD_IDENT_MAX])
{
	size_t		total = 0, off = 0, want;
	uint16_t	sw = 0;
	int		r;

	if ((r = select_ef(c, EF_AUTH_CERT)) != 0)
		return r;
	/* The DER header says how much to read. */
	if ((r = zm_card_apdu(c, 0x00, 0xb0, 0x00, 0x00, NULL, 0, 4, cert,
	    &sw)) != 0)
		return r;
	if (sw != 0x9000)
		return zm_card_refused(c, "READ BINARY", sw);
	if (cert->len != 4)
		return ZM_ERR_PROTO;
	if ((r = zm_der_len(cert->data, cert->len, &total)) != 0)
		return r;
	if (total > ZM_CARD_CERT_MAX || total <= 4)
		return ZM_ERR_TOOBIG;
	off = cert->len;
	while (off < total) {
		want = total - off > 256 ? 256 : total - off;
		if ((r = zm_card_apdu(c, 0x00, 0xb0, (uint8_t)(off >> 8),
		    (uint8_t)off, NULL, 0, (int)want, cert, &sw)) != 0)
			return r;
		if (sw != 0x9000)
			return zm_card_refused(c, "READ BINARY", sw);
		if (cert->len <= off)
			return ZM_ERR_PROTO;
		off = cert->len;
	}
	if (cert->len != total)
		return ZM_ERR_PROTO;
	/* The certificate's serial number is what the card's papers show. */
	return zm_card_cert_serial(cert->data, cert->len, ident,
	    ZM_CARD_IDENT_MAX);
}

static int
pin_status(uint16_t sw, unsigned *left)
{
	if ((sw & 0xfff0) == 0x63c0) {
		*left = sw & 0x0f;
		return ZM_ERR_DENIED;
	}
	if (sw == 0x6983 || sw == 0x6984) {
		*left = 0;
		return ZM_ERR_DENIED;
	}
	return ZM_ERR_CARDSW;
}

static int
jpki_pin_retries(struct zm_card *c, unsigned *left)
{
	uint16_t	sw = 0;
	int		r;

	if ((r = select_ef(c, EF_AUTH_PIN)) != 0 ||
	    (r = simple(c, 0x00, 0x20, 0x00, 0x80, NULL, 0, &sw)) != 0)
		return r;
	if (sw == 0x9000) {
		*left = UINT_MAX;
		return ZM_OK;
	}
	if (pin_status(sw, left) == ZM_ERR_DENIED)
		return ZM_OK;
	return zm_card_refused(c, "VERIFY (retry counter)", sw);
}

/* Expects EF 0018 selected (pin_retries() did it). */
static int
jpki_verify_pin(struct zm_card *c, const char *pin, unsigned *left)
{
	uint16_t	sw = 0;
	size_t		i;
	int		r;

	*left = UINT_MAX;
	/* Exactly 4 digits; anything else never costs a try. */
	if (strlen(pin) != PIN_LEN)
		return ZM_ERR_DENIED;
	for (i = 0; i < PIN_LEN; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return ZM_ERR_DENIED;
	if ((r = simple(c, 0x00, 0x20, 0x00, 0x80, (const uint8_t *)pin,
	    PIN_LEN, &sw)) != 0)
		return r;
	if (sw == 0x9000)
		return ZM_OK;
	if (pin_status(sw, left) == ZM_ERR_DENIED)
		return ZM_ERR_DENIED;
	return zm_card_refused(c, "VERIFY", sw);
}

static int
jpki_sign(struct zm_card *c, int key, const uint8_t chal[ZM_CARD_CHAL_LEN],
    struct zm_buf *sig)
{
	uint8_t		di[ZM_DIGESTINFO_LEN];
	uint16_t	sw = 0;
	int		r;

	if (key != ZM_CARD_KEY_RSA2048)
		return ZM_ERR_INVALID;
	if ((r = select_ef(c, EF_AUTH_KEY)) != 0)
		return r;
	zm_card_digestinfo(chal, di);
	r = zm_card_apdu(c, 0x80, 0x2a, 0x00, 0x80, di, sizeof(di), 256, sig,
	    &sw);
	zm_wipe(di, sizeof(di));
	if (r != 0)
		return r;
	if (sw != 0x9000)
		return zm_card_refused(c, "COMPUTE DIGITAL SIGNATURE", sw);
	if (sig->len != 256)
		return ZM_ERR_PROTO;
	return ZM_OK;
}

const struct zm_card_profile zm_card_jpki = {
	.name = "jpki",
	.id = ZM_CARD_JPKI,
	.select = jpki_select,
	.read_cert = jpki_read_cert,
	.pin_retries = jpki_pin_retries,
	.verify_pin = jpki_verify_pin,
	.sign = jpki_sign,
};
