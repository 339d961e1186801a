/*
 * card_apdu.c - APDU exchange and the parsers of card responses.  No
 * pcsc here: the transport is a function pointer, so unit tests and the
 * fuzzers (fuzz/fuzz_card_*.c) drive these with any bytes they like.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "card.h"
#include "err.h"
#include "log.h"
#include "wipe.h"

#define APDU_MAX	(7 + ZM_CARD_RESP_MAX + 2)
#define GET_RESPONSE_MAX 32	/* 32 x 256 bytes > ZM_CARD_RESP_MAX */

const char *
zm_card_sw_text(uint16_t sw)
{
	static const struct {
		uint16_t	 sw;
		const char	*text;
	} t[] = {
		{ 0x6283, "selected file or application invalidated" },
		{ 0x6581, "memory failure" },
		{ 0x6700, "wrong length" },
		{ 0x6881, "logical channel not supported" },
		{ 0x6882, "secure messaging not supported" },
		{ 0x6883, "last command of the chain expected" },
		{ 0x6884, "command chaining not supported" },
		{ 0x6981, "command incompatible with file structure" },
		{ 0x6982, "security status not satisfied" },
		{ 0x6983, "authentication method blocked" },
		{ 0x6984, "reference data not usable" },
		{ 0x6985, "conditions of use not satisfied" },
		{ 0x6986, "command not allowed (no current EF)" },
		{ 0x6a80, "wrong data" },
		{ 0x6a81, "function not supported" },
		{ 0x6a82, "file or application not found" },
		{ 0x6a84, "not enough memory" },
		{ 0x6a86, "incorrect P1-P2" },
		{ 0x6a88, "referenced data not found" },
		{ 0x6b00, "wrong parameters (offset outside the EF)" },
		{ 0x6d00, "instruction not supported" },
		{ 0x6e00, "class not supported" },
		{ 0x6f00, "no precise diagnosis" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].sw == sw)
			return t[i].text;
	if ((sw & 0xfff0) == 0x63c0)
		return "wrong PIN (tries left in SW2)";
	if ((sw & 0xff00) == 0x6c00)
		return "wrong Le (exact length in SW2)";
	if ((sw & 0xff00) == 0x6100)
		return "more data waiting";
	return "unknown status";
}

int
zm_card_refused(struct zm_card *c, const char *cmd, uint16_t sw)
{
	c->refused_cmd = cmd;
	c->refused_sw = sw;
	zm_warn("card refused %s: SW %04X (%s)", cmd, (unsigned)sw,
	    zm_card_sw_text(sw));
	return ZM_ERR_CARDSW;
}

void
zm_card_refusal(const struct zm_card *c, char *out, size_t outlen)
{
	if (c == NULL || c->refused_cmd == NULL) {
		snprintf(out, outlen, "no status word");
		return;
	}
	snprintf(out, outlen, "%s: SW %04X (%s)", c->refused_cmd,
	    (unsigned)c->refused_sw, zm_card_sw_text(c->refused_sw));
}

int
zm_card_split_sw(const uint8_t *resp, size_t len, size_t *datalen,
    uint16_t *sw)
{
	struct zm_cur	c;
	uint16_t	v;

	if (len < 2)
		return ZM_ERR_TRUNCATED;
	zm_cur_init(&c, resp + len - 2, 2);
	if (zm_cur_get_u16(&c, &v) != 0)
		return ZM_ERR_TRUNCATED;
	*datalen = len - 2;
	*sw = v;
	return ZM_OK;
}

static int
xmit(struct zm_card *c, const uint8_t *apdu, size_t n, struct zm_buf *out,
    uint16_t *sw)
{
	uint8_t	resp[ZM_CARD_RESP_MAX + 2];
	size_t	rlen = sizeof(resp), dlen;
	int	r;

	c->napdu++;
	if ((r = c->xmit(c->arg, apdu, n, resp, &rlen)) != 0)
		goto out;
	if (rlen > sizeof(resp)) {
		r = ZM_ERR_TOOBIG;
		goto out;
	}
	if ((r = zm_card_split_sw(resp, rlen, &dlen, sw)) != 0)
		goto out;
	r = zm_buf_put(out, resp, dlen);
 out:
	zm_wipe(resp, sizeof(resp));
	return r;
}

int
zm_card_apdu(struct zm_card *c, uint8_t cla, uint8_t ins, uint8_t p1,
    uint8_t p2, const uint8_t *data, size_t n, int le, struct zm_buf *out,
    uint16_t *sw)
{
	uint8_t	apdu[APDU_MAX];
	size_t	len = 4;
	int	i, r, ext;

	if (c == NULL || c->xmit == NULL || (n > 0 && data == NULL))
		return ZM_ERR_INVALID;
	/* Extended (ISO 7816-4 5.1) only when needed and the card takes it. */
	ext = n > 255 || le > 256;
	if (ext && (!c->ext || n > ZM_CARD_RESP_MAX || le > 65536))
		return ZM_ERR_INVALID;
	apdu[0] = cla;
	apdu[1] = ins;
	apdu[2] = p1;
	apdu[3] = p2;
	if (ext)
		apdu[len++] = 0x00;
	if (n > 0) {
		if (ext)
			apdu[len++] = (uint8_t)(n >> 8);
		apdu[len++] = (uint8_t)n;
		memcpy(apdu + len, data, n);
		len += n;
	}
	if (le >= 0 && ext) {
		apdu[len++] = (uint8_t)(le == 65536 ? 0 : le >> 8);
		apdu[len++] = (uint8_t)(le == 65536 ? 0 : le);
	} else if (le >= 0)
		apdu[len++] = (uint8_t)(le == 256 ? 0 : le);
	if (out->max > ZM_CARD_RESP_MAX)
		out->max = ZM_CARD_RESP_MAX;
	r = xmit(c, apdu, len, out, sw);
	zm_wipe(apdu, sizeof(apdu));	/* a VERIFY carries the PIN */
	if (r != 0)
		return r;
	/* 61 xx: more data waits; GET RESPONSE until 90 00 or an error. */
	for (i = 0; (*sw & 0xff00) == 0x6100; i++) {
		if (i >= GET_RESPONSE_MAX)
			return ZM_ERR_TOOBIG;
		apdu[0] = 0x00;
		apdu[1] = 0xc0;
		apdu[2] = 0x00;
		apdu[3] = 0x00;
		apdu[4] = (uint8_t)(*sw & 0xff);
		if ((r = xmit(c, apdu, 5, out, sw)) != 0)
			return r;
	}
	return ZM_OK;
}

/* BER length: short form, 81 xx or 82 xx xx. */
static int
ber_len(struct zm_cur *c, size_t *len)
{
	uint8_t		b, b2;
	uint16_t	v;

	if (zm_cur_get_u8(c, &b) != 0)
		return ZM_ERR_TRUNCATED;
	if (b < 0x80) {
		*len = b;
		return ZM_OK;
	}
	if (b == 0x81) {
		if (zm_cur_get_u8(c, &b2) != 0)
			return ZM_ERR_TRUNCATED;
		*len = b2;
		return ZM_OK;
	}
	if (b == 0x82) {
		if (zm_cur_get_u16(c, &v) != 0)
			return ZM_ERR_TRUNCATED;
		*len = v;
		return ZM_OK;
	}
	return ZM_ERR_INVALID;
}

int
zm_tlv_next(struct zm_cur *c, unsigned *tag, const uint8_t **val,
    size_t *len)
{
	uint8_t	b, b2;
	int	r;

	if (zm_cur_get_u8(c, &b) != 0)
		return ZM_ERR_TRUNCATED;
	*tag = b;
	/* Two-byte tags: low five bits all set (5F C1 02 style tags: 3). */
	if ((b & 0x1f) == 0x1f) {
		do {
			if (zm_cur_get_u8(c, &b2) != 0)
				return ZM_ERR_TRUNCATED;
			if (*tag > 0xffff)
				return ZM_ERR_INVALID;
			*tag = *tag << 8 | b2;
		} while ((b2 & 0x80) != 0);
	}
	if ((r = ber_len(c, len)) != 0)
		return r;
	return zm_cur_take(c, val, *len) == 0 ? ZM_OK : ZM_ERR_TRUNCATED;
}

int
zm_tlv_find(const uint8_t *p, size_t n, unsigned tag, const uint8_t **val,
    size_t *len)
{
	struct zm_cur	c;
	unsigned	t;
	int		r;

	zm_cur_init(&c, p, n);
	while (c.left > 0) {
		if ((r = zm_tlv_next(&c, &t, val, len)) != 0)
			return r;
		if (t == tag)
			return ZM_OK;
	}
	return ZM_ERR_NOTFOUND;
}

int
zm_der_len(const uint8_t *p, size_t n, size_t *total)
{
	struct zm_cur	c;
	uint8_t		tag;
	size_t		len;
	int		r;

	zm_cur_init(&c, p, n);
	if (zm_cur_get_u8(&c, &tag) != 0)
		return ZM_ERR_TRUNCATED;
	if (tag != 0x30)
		return ZM_ERR_INVALID;
	if ((r = ber_len(&c, &len)) != 0)
		return r;
	*total = (n - c.left) + len;
	return ZM_OK;
}

/* Historical bytes of an ATR (ISO 7816-3 8.2): *h, *k; -1 if malformed. */
static int
atr_hist(const uint8_t *atr, size_t n, const uint8_t **h, size_t *k)
{
	struct zm_cur	c;
	const uint8_t	*skip;
	uint8_t		ts, t0, td, y;
	size_t		m;

	zm_cur_init(&c, atr, n);
	if (zm_cur_get_u8(&c, &ts) != 0 || zm_cur_get_u8(&c, &t0) != 0)
		return -1;
	*k = t0 & 0x0f;
	y = t0 >> 4;
	for (;;) {
		m = (size_t)((y & 1) + (y >> 1 & 1) + (y >> 2 & 1));
		if (zm_cur_take(&c, &skip, m) != 0)
			return -1;
		if ((y & 0x08) == 0)
			break;
		if (zm_cur_get_u8(&c, &td) != 0)
			return -1;
		y = td >> 4;
	}
	return zm_cur_take(&c, h, *k) == 0 ? 0 : -1;
}

int
zm_card_atr_extended(const uint8_t *atr, size_t n)
{
	const uint8_t	*h;
	size_t		 k, i, end, len;

	if (atr_hist(atr, n, &h, &k) != 0 || k < 1)
		return 0;
	/* 80: compact-TLV to the end; 00: the last 3 bytes are status. */
	if (h[0] == 0x80)
		end = k;
	else if (h[0] == 0x00 && k >= 4)
		end = k - 3;
	else
		return 0;
	for (i = 1; i < end; i += 1 + len) {
		len = h[i] & 0x0f;
		if (i + 1 + len > end)
			return 0;
		if ((h[i] & 0xf0) == 0x70 && len >= 3)
			return (h[i + 3] & 0x40) != 0;
	}
	return 0;
}

/*
 * PC/SC Part 3 storage cards (MIFARE, FeliCa, ...): a contactless reader
 * gives them the ATR 3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN 00 00
 * 00 00 TCK, the historical bytes naming the PC/SC workgroup's RID, the
 * standard SS and the card NN NN.  Such a card has an ID (UID, IDm) and
 * memory, no key: nothing it says is a proof.
 */
static const struct {
	uint16_t	 nn;
	const char	*name;
} storage_names[] = {
	{ 0x0001, "MIFARE Classic 1K" },
	{ 0x0002, "MIFARE Classic 4K" },
	{ 0x0003, "MIFARE Ultralight" },
	{ 0x0026, "MIFARE Mini" },
	{ 0x003a, "MIFARE Ultralight C" },
	{ 0x003b, "FeliCa" },
};

const char *
zm_card_atr_id_only(const uint8_t *atr, size_t n)
{
	static const uint8_t rid[] = { 0xa0, 0x00, 0x00, 0x03, 0x06 };
	struct zm_cur	 c;
	const uint8_t	*h;
	uint8_t		 ts, t0, td, y, k;
	size_t		 i, skip;
	uint16_t	 nn;

	zm_cur_init(&c, atr, n);
	if (zm_cur_get_u8(&c, &ts) != 0 || zm_cur_get_u8(&c, &t0) != 0)
		return NULL;
	k = t0 & 0x0f;
	y = t0 >> 4;
	/* Interface bytes: TA/TB/TC by the bits of Y, TD chains on. */
	for (;;) {
		skip = (size_t)((y & 1) + (y >> 1 & 1) + (y >> 2 & 1));
		if (zm_cur_take(&c, &h, skip) != 0)
			return NULL;
		if ((y & 0x08) == 0)
			break;
		if (zm_cur_get_u8(&c, &td) != 0)
			return NULL;
		y = td >> 4;
	}
	if (zm_cur_take(&c, &h, k) != 0)
		return NULL;
	/* 80 | 4F len RID SS NN NN ... */
	if (k < 3 + sizeof(rid) + 3 || h[0] != 0x80 || h[1] != 0x4f ||
	    h[2] < sizeof(rid) + 3 || h[2] > k - 3 ||
	    memcmp(h + 3, rid, sizeof(rid)) != 0)
		return NULL;
	nn = (uint16_t)(h[3 + sizeof(rid) + 1] << 8 | h[3 + sizeof(rid) + 2]);
	for (i = 0; i < sizeof(storage_names) / sizeof(storage_names[0]); i++)
		if (storage_names[i].nn == nn)
			return storage_names[i].name;
	return "storage card";
}
