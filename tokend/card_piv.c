/*
 * card_piv.c - the PIV card profile (NIST SP 800-73-4): the PIV
 * Authentication key in slot 9A, ECC P-256 or RSA-2048.
 *
 * Login: SELECT, VERIFY (empty: retry counter), VERIFY PIN, GENERAL
 * AUTHENTICATE = 4 APDUs for ECC P-256.  RSA-2048 needs command chaining
 * for its 256-byte challenge and GET RESPONSE for its signature: 6; a
 * card whose ATR offers extended Lc/Le gets one extended GENERAL
 * AUTHENTICATE instead: 4.
 *
 * Every APDU follows SP 800-73-4 part 2 (3.1-3.2) exactly, and every
 * BER-TLV length we send is that of its contents: a card checks them
 * (6A 80 otherwise).  A status word other than 90 00 is a refusal
 * (ZM_ERR_CARDSW, zm_card_refused()), never a bad signature.
 */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "card.h"
#include "err.h"
#include "wipe.h"

static const uint8_t piv_aid[] = { 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00,
    0x10, 0x00 };

#define ALG_RSA2048	0x07
#define ALG_ECCP256	0x11
#define SLOT_AUTH	0x9a

/* BER-TLV length (SP 800-73-4 table 5 / ISO 7816-4 5.2.2). */
static int
put_len(struct zm_buf *b, size_t n)
{
	int r;

	if (n < 0x80)
		return zm_buf_put_u8(b, (uint8_t)n);
	if (n <= 0xff) {
		if ((r = zm_buf_put_u8(b, 0x81)) != 0)
			return r;
		return zm_buf_put_u8(b, (uint8_t)n);
	}
	if (n > 0xffff)
		return ZM_ERR_TOOBIG;
	if ((r = zm_buf_put_u8(b, 0x82)) != 0)
		return r;
	return zm_buf_put_u16(b, (uint16_t)n);
}

/* Tag, length, value. */
static int
put_tlv(struct zm_buf *b, uint8_t tag, const uint8_t *v, size_t n)
{
	int r;

	if ((r = zm_buf_put_u8(b, tag)) != 0 || (r = put_len(b, n)) != 0)
		return r;
	return n > 0 ? zm_buf_put(b, v, n) : 0;
}

/*
 * The dynamic authentication template of a signature (SP 800-73-4 part 2
 * 3.2.4, table 7): 7C L { 82 00 (response wanted), 81 L challenge }, L
 * the exact length of what follows it.
 */
int
zm_piv_auth_template(const uint8_t *chal, size_t clen, struct zm_buf *out)
{
	struct zm_buf	in;
	int		r;

	zm_buf_init(&in, 512);
	if ((r = put_tlv(&in, 0x82, NULL, 0)) == 0 &&
	    (r = put_tlv(&in, 0x81, chal, clen)) == 0)
		r = put_tlv(out, 0x7c, in.data, in.len);
	zm_buf_free(&in);
	return r;
}

static int
piv_select(struct zm_card *c)
{
	struct zm_buf	out;
	uint16_t	sw = 0;
	int		r;

	zm_buf_init(&out, ZM_CARD_RESP_MAX);
	r = zm_card_apdu(c, 0x00, 0xa4, 0x04, 0x00, piv_aid, sizeof(piv_aid),
	    256, &out, &sw);
	zm_buf_free(&out);
	if (r != 0)
		return r;
	if (sw == 0x9000)
		return ZM_OK;
	/* No PIV application: say so quietly, another profile may fit. */
	if (sw == 0x6a82)
		return ZM_ERR_NOTFOUND;
	return zm_card_refused(c, "PIV SELECT", sw);
}

/* GET DATA of a 3-byte object id: the value of its 53 container. */
static int
get_data(struct zm_card *c, uint8_t last, struct zm_buf *out,
    const uint8_t **val, size_t *len)
{
	uint8_t		cmd[] = { 0x5c, 0x03, 0x5f, 0xc1, last };
	uint16_t	sw = 0;
	int		r;

	if ((r = zm_card_apdu(c, 0x00, 0xcb, 0x3f, 0xff, cmd, sizeof(cmd),
	    256, out, &sw)) != 0)
		return r;
	if (sw != 0x9000)
		return zm_card_refused(c, last == 0x02 ? "GET DATA (CHUID)" :
		    "GET DATA (certificate 9A)", sw);
	return zm_tlv_find(out->data, out->len, 0x53, val, len);
}

static void
hexify(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int
piv_read_cert(struct zm_card *c, struct zm_buf *cert,
    char ident[ZM_CARD_IDENT_MAX])
{
	struct zm_buf	 out;
	const uint8_t	*v, *id, *info;
	size_t		 vlen, idlen, infolen;
	int		 r;

	zm_buf_init(&out, ZM_CARD_RESP_MAX);
	/* CHUID: the card UUID (34), else the FASC-N (30). */
	if ((r = get_data(c, 0x02, &out, &v, &vlen)) != 0)
		goto out;
	if ((r = zm_tlv_find(v, vlen, 0x34, &id, &idlen)) == ZM_ERR_NOTFOUND)
		r = zm_tlv_find(v, vlen, 0x30, &id, &idlen);
	if (r != 0)
		goto out;
	if (idlen == 0 || idlen > 25) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	hexify(id, idlen, ident, ZM_CARD_IDENT_MAX);
	zm_buf_reset(&out);
	if ((r = get_data(c, 0x05, &out, &v, &vlen)) != 0)
		goto out;
	/* 71 CertInfo: 01 would be a gzip-compressed certificate. */
	if (zm_tlv_find(v, vlen, 0x71, &info, &infolen) == 0 &&
	    infolen == 1 && info[0] != 0x00) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	if ((r = zm_tlv_find(v, vlen, 0x70, &v, &vlen)) != 0)
		goto out;
	if (vlen == 0 || vlen > ZM_CARD_CERT_MAX) {
		r = ZM_ERR_TOOBIG;
		goto out;
	}
	r = zm_buf_put(cert, v, vlen);
 out:
	zm_buf_free(&out);
	return r;
}

/* 63 Cx: x tries left; 69 83: blocked. */
static int
pin_status(uint16_t sw, unsigned *left)
{
	if ((sw & 0xfff0) == 0x63c0) {
		*left = sw & 0x0f;
		return ZM_ERR_DENIED;
	}
	if (sw == 0x6983) {
		*left = 0;
		return ZM_ERR_DENIED;
	}
	return ZM_ERR_CARDSW;
}

static int
piv_pin_retries(struct zm_card *c, unsigned *left)
{
	struct zm_buf	out;
	uint16_t	sw = 0;
	int		r;

	zm_buf_init(&out, 64);
	r = zm_card_apdu(c, 0x00, 0x20, 0x00, 0x80, NULL, 0, -1, &out, &sw);
	zm_buf_free(&out);
	if (r != 0)
		return r;
	if (sw == 0x9000) {	/* verified already: the count is not told */
		*left = UINT_MAX;
		return ZM_OK;
	}
	if (pin_status(sw, left) == ZM_ERR_DENIED)
		return ZM_OK;
	return zm_card_refused(c, "VERIFY (retry counter)", sw);
}

static int
piv_verify_pin(struct zm_card *c, const char *pin, unsigned *left)
{
	struct zm_buf	out;
	uint8_t		p[8];
	size_t		n = strlen(pin), i;
	uint16_t	sw = 0;
	int		r;

	*left = UINT_MAX;
	/* 6 to 8 digits (SP 800-73-4 2.4.3); others never reach the card. */
	if (n < 6 || n > 8)
		return ZM_ERR_DENIED;
	for (i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return ZM_ERR_DENIED;
	memset(p, 0xff, sizeof(p));
	memcpy(p, pin, n);
	zm_buf_init(&out, 64);
	r = zm_card_apdu(c, 0x00, 0x20, 0x00, 0x80, p, sizeof(p), -1, &out,
	    &sw);
	zm_wipe(p, sizeof(p));
	zm_buf_free(&out);
	if (r != 0)
		return r;
	if (sw == 0x9000)
		return ZM_OK;
	if (pin_status(sw, left) == ZM_ERR_DENIED)
		return ZM_ERR_DENIED;
	return zm_card_refused(c, "VERIFY", sw);
}

/* PKCS#1 v1.5 type 1 block of the DigestInfo: the card does raw RSA. */
static void
rsa_block(const uint8_t chal[ZM_CARD_CHAL_LEN], uint8_t blk[256])
{
	uint8_t di[ZM_DIGESTINFO_LEN];

	zm_card_digestinfo(chal, di);
	blk[0] = 0x00;
	blk[1] = 0x01;
	memset(blk + 2, 0xff, 256 - 3 - sizeof(di));
	blk[256 - sizeof(di) - 1] = 0x00;
	memcpy(blk + 256 - sizeof(di), di, sizeof(di));
}

static int
piv_sign(struct zm_card *c, int key, const uint8_t chal[ZM_CARD_CHAL_LEN],
    struct zm_buf *sig)
{
	struct zm_buf	 cmd, out;
	const uint8_t	*v, *s;
	size_t		 vlen, slen, clen;
	uint8_t		 blk[256], alg;
	uint16_t	 sw = 0;
	int		 r;

	zm_buf_init(&cmd, 512);
	zm_buf_init(&out, ZM_CARD_RESP_MAX);
	if (key == ZM_CARD_KEY_RSA2048) {
		alg = ALG_RSA2048;
		rsa_block(chal, blk);
		clen = sizeof(blk);
	} else if (key == ZM_CARD_KEY_EC256) {
		alg = ALG_ECCP256;
		memcpy(blk, chal, ZM_CARD_CHAL_LEN);
		clen = ZM_CARD_CHAL_LEN;
	} else {
		r = ZM_ERR_INVALID;
		goto out;
	}
	if ((r = zm_piv_auth_template(blk, clen, &cmd)) != 0)
		goto out;
	if (cmd.len > 255 && c->ext) {
		/* One extended APDU: the template and the whole answer. */
		r = zm_card_apdu(c, 0x00, 0x87, alg, SLOT_AUTH, cmd.data,
		    cmd.len, 65536, &out, &sw);
	} else if (cmd.len > 255) {
		/* Command chaining (CLA 10): all but the last 255-byte part. */
		if ((r = zm_card_apdu(c, 0x10, 0x87, alg, SLOT_AUTH, cmd.data,
		    255, -1, &out, &sw)) != 0)
			goto out;
		if (sw != 0x9000) {
			r = zm_card_refused(c, "GENERAL AUTHENTICATE (chained "
			    "part)", sw);
			goto out;
		}
		zm_buf_reset(&out);
		r = zm_card_apdu(c, 0x00, 0x87, alg, SLOT_AUTH, cmd.data + 255,
		    cmd.len - 255, 256, &out, &sw);
	} else
		r = zm_card_apdu(c, 0x00, 0x87, alg, SLOT_AUTH, cmd.data,
		    cmd.len, 256, &out, &sw);
	if (r != 0)
		goto out;
	if (sw != 0x9000) {
		r = zm_card_refused(c, "GENERAL AUTHENTICATE", sw);
		goto out;
	}
	if ((r = zm_tlv_find(out.data, out.len, 0x7c, &v, &vlen)) != 0 ||
	    (r = zm_tlv_find(v, vlen, 0x82, &s, &slen)) != 0)
		goto out;
	if (slen == 0 || slen > 512) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	r = zm_buf_put(sig, s, slen);
 out:
	zm_wipe(blk, sizeof(blk));
	zm_buf_free(&cmd);
	zm_buf_free(&out);
	return r;
}

const struct zm_card_profile zm_card_piv = {
	.name = "piv",
	.id = ZM_CARD_PIV,
	.select = piv_select,
	.read_cert = piv_read_cert,
	.pin_retries = piv_pin_retries,
	.verify_pin = piv_verify_pin,
	.sign = piv_sign,
};
