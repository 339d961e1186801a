/*
 * fuzz_card_resp.c - every card response parser: the TLV/DER/SW helpers,
 * the token data blob, and both profiles (PIV, JPKI) driven end to end by
 * a fake card whose responses are the fuzzer's bytes.  The input is split
 * into responses: u16 length then that many bytes, repeated.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "card.h"

struct feed {
	struct zm_cur c;
};

static int
fake_xmit(void *arg, const uint8_t *apdu, size_t n, uint8_t *resp,
    size_t *resplen)
{
	struct feed	*f = arg;
	const uint8_t	*p;
	uint16_t	 len;

	(void)apdu;
	(void)n;
	if (zm_cur_get_u16(&f->c, &len) != 0)
		return 1;
	if (len > *resplen)
		len = (uint16_t)*resplen;
	if (zm_cur_take(&f->c, &p, len) != 0)
		return 1;
	memcpy(resp, p, len);
	*resplen = len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct zm_card_profile *const profs[] = { &zm_card_piv,
	    &zm_card_jpki };
	const uint8_t	*v, *spki;
	struct zm_card	 card;
	struct zm_buf	 out;
	struct feed	 f;
	char		 ident[ZM_CARD_IDENT_MAX];
	uint8_t		 chal[ZM_CARD_CHAL_LEN] = { 0 };
	size_t		 len, i, dl;
	uint16_t	 sw;
	unsigned	 left;
	int		 prof, key;

	(void)zm_tlv_find(data, size, 0x53, &v, &len);
	(void)zm_tlv_find(data, size, 0x5fc102, &v, &len);
	(void)zm_der_len(data, size, &len);
	(void)zm_card_atr_id_only(data, size);
	(void)zm_card_atr_extended(data, size);
	(void)zm_card_split_sw(data, size, &dl, &sw);
	(void)zm_card_data_decode(data, size, &prof, &key, &spki, &len, &v,
	    &dl);
	for (i = 0; i < 2; i++) {
		zm_cur_init(&f.c, data, size);
		memset(&card, 0, sizeof(card));
		card.xmit = fake_xmit;
		card.arg = &f;
		zm_buf_init(&out, ZM_CARD_CERT_MAX);
		(void)profs[i]->select(&card);
		(void)profs[i]->read_cert(&card, &out, ident);
		(void)zm_card_cert_spki(out.data, out.len, &out, &key);
		zm_buf_reset(&out);
		(void)profs[i]->pin_retries(&card, &left);
		(void)profs[i]->verify_pin(&card, i ? "1234" : "123456", &left);
		(void)profs[i]->sign(&card, ZM_CARD_KEY_EC256, chal, &out);
		zm_buf_reset(&out);
		(void)profs[i]->sign(&card, ZM_CARD_KEY_RSA2048, chal, &out);
		zm_buf_free(&out);
	}
	return 0;
}
