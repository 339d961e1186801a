/*
 * test_buf.c - the bounded buffer and cursor every untrusted byte goes
 * through (R14), plus the small err/wipe helpers.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "wipe.h"

static void
test_buf_cap(void **state)
{
	struct zm_buf	b;
	uint8_t		x[300], *big;
	size_t		i;

	memset(x, 0xab, sizeof(x));
	zm_buf_init(&b, 10);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10);
	assert_int_equal(zm_buf_put(&b, x, 10), ZM_OK);
	assert_int_equal(b.len, 10);
	assert_true(b.cap <= 10);	/* never more than the cap */
	/* One byte past the cap fails and leaves the buffer as it was. */
	assert_int_equal(zm_buf_put_u8(&b, 1), ZM_ERR_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_int_equal(zm_buf_put(&b, x, 0), ZM_OK);	/* empty put */
	zm_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(zm_buf_put(&b, x, 11), ZM_ERR_TOOBIG);
	assert_int_equal(b.len, 0);
	/* Sizes that would overflow len + n. */
	assert_int_equal(zm_buf_put_u8(&b, 1), ZM_OK);
	assert_int_equal(zm_buf_reserve(&b, SIZE_MAX), ZM_ERR_TOOBIG);
	assert_int_equal(zm_buf_reserve(&b, SIZE_MAX - 1), ZM_ERR_TOOBIG);
	zm_buf_free(&b);
	assert_null(b.data);
	zm_buf_free(&b);	/* twice is fine */
	zm_buf_free(NULL);

	/* Growth keeps the contents. */
	zm_buf_init(&b, 100000);
	for (i = 0; i < sizeof(x); i++)
		x[i] = (uint8_t)i;
	for (i = 0; i < 200; i++)
		assert_int_equal(zm_buf_put(&b, x, sizeof(x)), ZM_OK);
	assert_int_equal(b.len, 200 * sizeof(x));
	for (i = 0; i < 200; i++)
		assert_memory_equal(b.data + i * sizeof(x), x, sizeof(x));
	big = calloc(1, 100000);
	assert_non_null(big);
	assert_int_equal(zm_buf_put(&b, big, 100000 - b.len + 1),
	    ZM_ERR_TOOBIG);
	assert_int_equal(zm_buf_put(&b, big, 100000 - b.len), ZM_OK);
	free(big);
	assert_int_equal(zm_buf_put_u8(&b, 0), ZM_ERR_TOOBIG);
	zm_buf_free(&b);

	/* A zero cap takes nothing. */
	zm_buf_init(&b, 0);
	assert_int_equal(zm_buf_put_u8(&b, 0), ZM_ERR_TOOBIG);
	zm_buf_free(&b);
}

static void
test_buf_ints(void **state)
{
	struct zm_buf b;

	zm_buf_init(&b, 64);
	assert_int_equal(zm_buf_put_u8(&b, 0x01), ZM_OK);
	assert_int_equal(zm_buf_put_u16(&b, 0x0203), ZM_OK);
	assert_int_equal(zm_buf_put_u32(&b, 0x04050607), ZM_OK);
	assert_int_equal(zm_buf_put_u64(&b, 0x08090a0b0c0d0e0fULL), ZM_OK);
	assert_int_equal(b.len, 15);
	assert_memory_equal(b.data, "\x01\x02\x03\x04\x05\x06\x07\x08\x09"
	    "\x0a\x0b\x0c\x0d\x0e\x0f", 15);
	/* poke: only inside what was written. */
	assert_int_equal(zm_buf_poke_u32(&b, 11, 0xa1a2a3a4u), ZM_OK);
	assert_memory_equal(b.data + 11, "\xa1\xa2\xa3\xa4", 4);
	assert_int_equal(zm_buf_poke_u32(&b, 12, 0), ZM_ERR_INVALID);
	assert_int_equal(zm_buf_poke_u32(&b, SIZE_MAX, 0), ZM_ERR_INVALID);
	/* reset wipes what was there and keeps the memory. */
	zm_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data);
	assert_memory_equal(b.data, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
	zm_buf_free(&b);
}

static void
test_cur(void **state)
{
	static const uint8_t	 d[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15 };
	struct zm_cur		 c;
	const uint8_t		*p;
	uint8_t			 u8, out[4];
	uint16_t		 u16;
	uint32_t		 u32;
	uint64_t		 u64;

	zm_cur_init(&c, d, sizeof(d));
	assert_int_equal(zm_cur_get_u8(&c, &u8), ZM_OK);
	assert_int_equal(u8, 1);
	assert_int_equal(zm_cur_get_u16(&c, &u16), ZM_OK);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(zm_cur_get_u32(&c, &u32), ZM_OK);
	assert_int_equal(u32, 0x04050607);
	/* 8 bytes left, take 8: then nothing. */
	assert_int_equal(zm_cur_get_u64(&c, &u64), ZM_OK);
	assert_true(u64 == 0x08090a0b0c0d0e0fULL);
	assert_int_equal(c.left, 0);
	assert_int_equal(zm_cur_get_u8(&c, &u8), ZM_ERR_TRUNCATED);

	/* A short read fails without consuming anything. */
	zm_cur_init(&c, d, 7);
	assert_int_equal(zm_cur_get_u64(&c, &u64), ZM_ERR_TRUNCATED);
	assert_int_equal(c.left, 7);
	assert_ptr_equal(c.p, d);
	assert_int_equal(zm_cur_skip(&c, 4), ZM_OK);
	assert_int_equal(zm_cur_get_u32(&c, &u32), ZM_ERR_TRUNCATED);
	assert_int_equal(c.left, 3);
	assert_int_equal(zm_cur_get(&c, out, 4), ZM_ERR_TRUNCATED);
	assert_int_equal(zm_cur_take(&c, &p, 3), ZM_OK);
	assert_ptr_equal(p, d + 4);
	assert_int_equal(zm_cur_get_u16(&c, &u16), ZM_ERR_TRUNCATED);
	assert_int_equal(zm_cur_get(&c, out, 0), ZM_OK);
	/* A huge length is just "not there". */
	zm_cur_init(&c, d, sizeof(d));
	assert_int_equal(zm_cur_skip(&c, SIZE_MAX), ZM_ERR_TRUNCATED);
	assert_int_equal(c.left, sizeof(d));
	/* NULL data means no data. */
	zm_cur_init(&c, NULL, 100);
	assert_int_equal(c.left, 0);
	assert_int_equal(zm_cur_get_u8(&c, &u8), ZM_ERR_TRUNCATED);
}

static void
test_err_wipe(void **state)
{
	uint8_t	a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8];
	int	i;

	for (i = 0; i < ZM_ERR__MAX; i++)
		assert_string_not_equal(zm_strerror(i), "unknown error");
	assert_string_equal(zm_strerror(ZM_ERR__MAX), "unknown error");
	assert_string_equal(zm_strerror(-1), "unknown error");
	memcpy(b, a, sizeof(a));
	assert_int_equal(zm_ct_memcmp(a, b, sizeof(a)), 0);
	b[7] ^= 1;
	assert_int_not_equal(zm_ct_memcmp(a, b, sizeof(a)), 0);
	zm_wipe(a, sizeof(a));
	assert_memory_equal(a, "\0\0\0\0\0\0\0\0", 8);
	zm_wipe(NULL, 8);
	zm_freezero(NULL, 8);
	zm_strfree(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_ints),
		cmocka_unit_test(test_cur),
		cmocka_unit_test(test_err_wipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
