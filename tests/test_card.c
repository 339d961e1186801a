/*
 * test_card.c - the APDUs the card profiles build, byte for byte, over a
 * recording transport (no pcsc): every BER-TLV length is that of its
 * contents (the PIV RSA-2048 7C template once claimed 2 bytes more), the
 * chaining is as SP 800-73-4 wants it, and a refusing status word is
 * ZM_ERR_CARDSW with the command and SW kept, not a bad signature.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "card.h"
#include "err.h"

#define NAPDU	8

struct rec {
	uint8_t		apdu[NAPDU][600];
	size_t		len[NAPDU];
	size_t		n;
	uint16_t	sw_last;	/* answer to the last (unchained) part */
};

/* Chained parts get 90 00; the final part gets sw_last, no data. */
static int
rec_xmit(void *arg, const uint8_t *apdu, size_t n, uint8_t *resp,
    size_t *resplen)
{
	struct rec *r = arg;

	assert_true(r->n < NAPDU);
	assert_true(n <= sizeof(r->apdu[0]));
	memcpy(r->apdu[r->n], apdu, n);
	r->len[r->n++] = n;
	resp[0] = (apdu[0] & 0x10) ? 0x90 : (uint8_t)(r->sw_last >> 8);
	resp[1] = (apdu[0] & 0x10) ? 0x00 : (uint8_t)r->sw_last;
	*resplen = 2;
	return 0;
}

/* The template parses as one 7C whose length is exactly its contents. */
static void
check_template(const uint8_t *p, size_t n, size_t clen)
{
	struct zm_cur	 c, in;
	const uint8_t	*v, *w;
	unsigned	 tag;
	size_t		 vlen, wlen;

	zm_cur_init(&c, p, n);
	assert_int_equal(zm_tlv_next(&c, &tag, &v, &vlen), ZM_OK);
	assert_int_equal(tag, 0x7c);
	assert_int_equal(c.left, 0);			/* nothing after 7C */
	zm_cur_init(&in, v, vlen);
	assert_int_equal(zm_tlv_next(&in, &tag, &w, &wlen), ZM_OK);
	assert_int_equal(tag, 0x82);
	assert_int_equal(wlen, 0);
	assert_int_equal(zm_tlv_next(&in, &tag, &w, &wlen), ZM_OK);
	assert_int_equal(tag, 0x81);
	assert_int_equal(wlen, clen);
	assert_int_equal(in.left, 0);			/* nothing after 81 */
}

static void
test_template_ec(void **state)
{
	struct zm_buf	b;
	uint8_t		chal[32];

	(void)state;
	memset(chal, 0xab, sizeof(chal));
	zm_buf_init(&b, 512);
	assert_int_equal(zm_piv_auth_template(chal, sizeof(chal), &b), ZM_OK);
	assert_int_equal(b.len, 2 + 2 + 2 + 32);
	assert_int_equal(b.data[1], 36);
	check_template(b.data, b.len, 32);
	zm_buf_free(&b);
}

static void
test_template_rsa(void **state)
{
	struct zm_buf	b;
	uint8_t		blk[256];

	(void)state;
	memset(blk, 0xff, sizeof(blk));
	zm_buf_init(&b, 512);
	assert_int_equal(zm_piv_auth_template(blk, sizeof(blk), &b), ZM_OK);
	/* 7C 82 01 06 { 82 00, 81 82 01 00 <256> }: 262, not 264. */
	assert_int_equal(b.len, 4 + 262);
	assert_int_equal(b.data[1], 0x82);
	assert_int_equal(b.data[2] << 8 | b.data[3], 262);
	check_template(b.data, b.len, 256);
	zm_buf_free(&b);
}

/* RSA sign: two APDUs, CLA 10 then 00, the parts together the template. */
static void
test_piv_rsa_apdus(void **state)
{
	struct rec	 r;
	struct zm_card	 c;
	struct zm_buf	 sig, all;
	uint8_t		 chal[ZM_CARD_CHAL_LEN];
	char		 why[128];

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	memset(chal, 0x5a, sizeof(chal));
	r.sw_last = 0x6a80;
	c.xmit = rec_xmit;
	c.arg = &r;
	zm_buf_init(&sig, 1024);
	zm_buf_init(&all, 1024);
	assert_int_equal(zm_card_piv.sign(&c, ZM_CARD_KEY_RSA2048, chal,
	    &sig), ZM_ERR_CARDSW);
	assert_int_equal(r.n, 2);
	/* 10 87 07 9A FF <255>, no Le */
	assert_int_equal(r.len[0], 5 + 255);
	assert_memory_equal(r.apdu[0], "\x10\x87\x07\x9a\xff", 5);
	/* 00 87 07 9A 0B <11> 00 */
	assert_int_equal(r.len[1], 5 + 11 + 1);
	assert_memory_equal(r.apdu[1], "\x00\x87\x07\x9a\x0b", 5);
	assert_int_equal(r.apdu[1][r.len[1] - 1], 0x00);
	assert_int_equal(zm_buf_put(&all, r.apdu[0] + 5, 255), ZM_OK);
	assert_int_equal(zm_buf_put(&all, r.apdu[1] + 5, 11), ZM_OK);
	check_template(all.data, all.len, 256);
	/* A refusal: the command and its SW are kept, and said. */
	assert_int_equal(c.refused_sw, 0x6a80);
	zm_card_refusal(&c, why, sizeof(why));
	assert_string_equal(why, "GENERAL AUTHENTICATE: SW 6A80 (wrong data)");
	assert_int_equal(sig.len, 0);
	zm_buf_free(&sig);
	zm_buf_free(&all);
}

/* EC sign: one APDU, 00 87 11 9A 26 <38> 00. */
static void
test_piv_ec_apdu(void **state)
{
	struct rec	 r;
	struct zm_card	 c;
	struct zm_buf	 sig;
	uint8_t		 chal[ZM_CARD_CHAL_LEN];

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	memset(chal, 0x11, sizeof(chal));
	r.sw_last = 0x6982;
	c.xmit = rec_xmit;
	c.arg = &r;
	zm_buf_init(&sig, 1024);
	assert_int_equal(zm_card_piv.sign(&c, ZM_CARD_KEY_EC256, chal, &sig),
	    ZM_ERR_CARDSW);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.len[0], 5 + 38 + 1);
	assert_memory_equal(r.apdu[0], "\x00\x87\x11\x9a\x26", 5);
	check_template(r.apdu[0] + 5, 38, 32);
	assert_int_equal(c.refused_sw, 0x6982);
	zm_buf_free(&sig);
}

/* A wrong PIN is not a refusal; other status words are. */
static void
test_pin_status(void **state)
{
	struct rec	r;
	struct zm_card	c;
	unsigned	left = 99;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	c.xmit = rec_xmit;
	c.arg = &r;
	r.sw_last = 0x63c2;
	assert_int_equal(zm_card_piv.verify_pin(&c, "123456", &left),
	    ZM_ERR_DENIED);
	assert_int_equal(left, 2);
	/* 00 20 00 80 08 31..36 FF FF: Lc 8, no Le */
	assert_int_equal(r.len[0], 13);
	assert_memory_equal(r.apdu[0], "\x00\x20\x00\x80\x08" "123456\xff\xff",
	    13);
	r.sw_last = 0x6983;
	assert_int_equal(zm_card_piv.verify_pin(&c, "123456", &left),
	    ZM_ERR_DENIED);
	assert_int_equal(left, 0);
	r.sw_last = 0x6a80;
	assert_int_equal(zm_card_piv.verify_pin(&c, "123456", &left),
	    ZM_ERR_CARDSW);
	r.sw_last = 0x6700;
	assert_int_equal(zm_card_jpki.verify_pin(&c, "1234", &left),
	    ZM_ERR_CARDSW);
	assert_int_equal(c.refused_sw, 0x6700);
	/* Never sent: 5 digits for PIV, letters for JPKI. */
	r.n = 0;
	assert_int_equal(zm_card_piv.verify_pin(&c, "12345", &left),
	    ZM_ERR_DENIED);
	assert_int_equal(zm_card_jpki.verify_pin(&c, "12a4", &left),
	    ZM_ERR_DENIED);
	assert_int_equal(r.n, 0);
}

/* Extended length only where the ATR offers it, encoded per ISO 7816-4. */
static void
test_extended(void **state)
{
	static const uint8_t ext_atr[] = { 0x3b, 0x8b, 0x80, 0x01, 0x80,
	    0x73, 0x00, 0x00, 0xc0, 0x55, 'Z', 'M', 'P', 'I', 'V', 0x00 };
	static const uint8_t short_atr[] = { 0x3b, 0x88, 0x80, 0x01, 'Z',
	    'M', 'P', 'I', 'V', 0x00, 0x00, 0x01, 0x7e };
	static const uint8_t no_ext_atr[] = { 0x3b, 0x8b, 0x80, 0x01, 0x80,
	    0x73, 0x00, 0x00, 0x80, 0x55, 'Z', 'M', 'P', 'I', 'V', 0x00 };
	struct rec	 r;
	struct zm_card	 c;
	struct zm_buf	 sig;
	uint8_t		 chal[ZM_CARD_CHAL_LEN];

	(void)state;
	assert_int_equal(zm_card_atr_extended(ext_atr, sizeof(ext_atr)), 1);
	assert_int_equal(zm_card_atr_extended(short_atr, sizeof(short_atr)),
	    0);
	assert_int_equal(zm_card_atr_extended(no_ext_atr,
	    sizeof(no_ext_atr)), 0);
	assert_int_equal(zm_card_atr_extended(ext_atr, 8), 0);	/* cut */
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	memset(chal, 0x5a, sizeof(chal));
	r.sw_last = 0x6a80;
	c.xmit = rec_xmit;
	c.arg = &r;
	c.ext = 1;
	zm_buf_init(&sig, 1024);
	assert_int_equal(zm_card_piv.sign(&c, ZM_CARD_KEY_RSA2048, chal,
	    &sig), ZM_ERR_CARDSW);
	/* 00 87 07 9A 00 01 0A <266> 00 00: one APDU. */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.len[0], 7 + 266 + 2);
	assert_memory_equal(r.apdu[0], "\x00\x87\x07\x9a\x00\x01\x0a", 7);
	check_template(r.apdu[0] + 7, 266, 256);
	assert_int_equal(r.apdu[0][r.len[0] - 2], 0);
	assert_int_equal(r.apdu[0][r.len[0] - 1], 0);
	zm_buf_free(&sig);
	/* Without c->ext an extended APDU is never built. */
	c.ext = 0;
	zm_buf_init(&sig, 64);
	assert_int_equal(zm_card_apdu(&c, 0x00, 0x87, 0x07, 0x9a, chal, 32,
	    300, &sig, &r.sw_last), ZM_ERR_INVALID);
	zm_buf_free(&sig);
}

static void
test_sw_text(void **state)
{
	(void)state;
	assert_string_equal(zm_card_sw_text(0x6a80), "wrong data");
	assert_string_equal(zm_card_sw_text(0x6700), "wrong length");
	assert_string_equal(zm_card_sw_text(0x6a86), "incorrect P1-P2");
	assert_string_equal(zm_card_sw_text(0x6982),
	    "security status not satisfied");
	assert_string_equal(zm_card_sw_text(0x6983),
	    "authentication method blocked");
	assert_string_equal(zm_card_sw_text(0x63c1),
	    "wrong PIN (tries left in SW2)");
	assert_string_equal(zm_card_sw_text(0x1234), "unknown status");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_ec),
		cmocka_unit_test(test_template_rsa),
		cmocka_unit_test(test_piv_rsa_apdus),
		cmocka_unit_test(test_piv_ec_apdu),
		cmocka_unit_test(test_pin_status),
		cmocka_unit_test(test_extended),
		cmocka_unit_test(test_sw_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
