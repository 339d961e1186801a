/*
 * test_totp.c - TOTP verification and generation (tokend/totp.c).
 *
 * RFC 6238 Appendix B vectors, the step reported for each window position
 * (the store refuses replays by that step), and malformed input.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "totp.h"
#include "wipe.h"

static const uint8_t seed20[] = "12345678901234567890";
static const uint8_t seed32[] = "12345678901234567890123456789012";
static const uint8_t seed64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

static const struct {
	const uint8_t	*seed;
	size_t		 seedlen;
} seeds[] = {
	[ZM_TOTP_SHA1] = { seed20, 20 },
	[ZM_TOTP_SHA256] = { seed32, 32 },
	[ZM_TOTP_SHA512] = { seed64, 64 },
};

/* RFC 6238 Appendix B: 8 digits, period 30, T0 = 0. */
static const struct {
	time_t		 t;
	int		 algo;
	const char	*code;
} rfc[] = {
	{ 59, ZM_TOTP_SHA1, "94287082" },
	{ 59, ZM_TOTP_SHA256, "46119246" },
	{ 59, ZM_TOTP_SHA512, "90693936" },
	{ 1111111109, ZM_TOTP_SHA1, "07081804" },
	{ 1111111109, ZM_TOTP_SHA256, "68084774" },
	{ 1111111109, ZM_TOTP_SHA512, "25091201" },
	{ 1111111111, ZM_TOTP_SHA1, "14050471" },
	{ 1111111111, ZM_TOTP_SHA256, "67062674" },
	{ 1111111111, ZM_TOTP_SHA512, "99943326" },
	{ 1234567890, ZM_TOTP_SHA1, "89005924" },
	{ 1234567890, ZM_TOTP_SHA256, "91819424" },
	{ 1234567890, ZM_TOTP_SHA512, "93441116" },
	{ 2000000000, ZM_TOTP_SHA1, "69279037" },
	{ 2000000000, ZM_TOTP_SHA256, "90698825" },
	{ 2000000000, ZM_TOTP_SHA512, "38618901" },
	{ 20000000000, ZM_TOTP_SHA1, "65353130" },
	{ 20000000000, ZM_TOTP_SHA256, "77737706" },
	{ 20000000000, ZM_TOTP_SHA512, "47863826" },
};

static int
setup(void **state)
{
	(void)state;
	return zm_totp_init() == 0 ? 0 : -1;
}

static void
gen(int algo, unsigned digits, time_t t, char *out, size_t outlen)
{
	assert_int_equal(zm_totp_generate(seeds[algo].seed, seeds[algo].seedlen,
	    algo, digits, 30, t, out, outlen), 0);
}

static int
verify(int algo, unsigned digits, time_t now, unsigned window,
    const char *code, int64_t *step)
{
	return zm_totp_verify(seeds[algo].seed, seeds[algo].seedlen, algo,
	    digits, 30, now, window, code, step);
}

static void
test_rfc6238_vectors(void **state)
{
	char	code[16];
	int64_t	step;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		gen(rfc[i].algo, 8, rfc[i].t, code, sizeof(code));
		assert_string_equal(code, rfc[i].code);
		step = 0;
		assert_int_equal(verify(rfc[i].algo, 8, rfc[i].t, 0,
		    rfc[i].code, &step), 0);
		assert_int_equal(step, (int64_t)(rfc[i].t / 30));
		/* With a window the same code still maps to the same step. */
		assert_int_equal(verify(rfc[i].algo, 8, rfc[i].t, 1,
		    rfc[i].code, &step), 0);
		assert_int_equal(step, (int64_t)(rfc[i].t / 30));
	}
}

static void
test_wrong_code_refused(void **state)
{
	char	code[16];
	int64_t	step = 0;
	int	algo;

	(void)state;
	for (algo = ZM_TOTP_SHA1; algo <= ZM_TOTP_SHA512; algo++) {
		gen(algo, 8, 1234567890, code, sizeof(code));
		code[3] = code[3] == '9' ? '0' : (char)(code[3] + 1);
		assert_int_equal(verify(algo, 8, 1234567890, 1, code, &step),
		    ZM_ERR_DENIED);
		assert_int_equal(step, -1);
	}
}

/* The window is +-1 step: two steps away is refused, whichever side. */
static void
test_window(void **state)
{
	const time_t	now = 1111111111;	/* step 37037037, 1 s in */
	const int64_t	cur = now / 30;
	char		code[16];
	int64_t		step;

	(void)state;
	gen(ZM_TOTP_SHA1, 6, now + 30, code, sizeof(code));
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, now, 1, code, &step), 0);
	assert_int_equal(step, cur + 1);
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, now, 0, code, &step),
	    ZM_ERR_DENIED);

	gen(ZM_TOTP_SHA1, 6, now - 30, code, sizeof(code));
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, now, 1, code, &step), 0);
	assert_int_equal(step, cur - 1);

	gen(ZM_TOTP_SHA1, 6, now + 60, code, sizeof(code));
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, now, 1, code, &step),
	    ZM_ERR_DENIED);
	gen(ZM_TOTP_SHA1, 6, now - 60, code, sizeof(code));
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, now, 1, code, &step),
	    ZM_ERR_DENIED);
	/* A wider window reaches it, with the right step. */
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, now, 2, code, &step), 0);
	assert_int_equal(step, cur - 2);
}

/*
 * At step boundaries the reported step is the code's own step, not the
 * current one: the last second of step 1 and the first of step 2.
 */
static void
test_step_boundaries(void **state)
{
	char	c1[16], c2[16], c3[16];
	int64_t	step;
	int	algo;

	(void)state;
	for (algo = ZM_TOTP_SHA1; algo <= ZM_TOTP_SHA512; algo++) {
		gen(algo, 8, 30, c1, sizeof(c1));	/* step 1 */
		gen(algo, 8, 60, c2, sizeof(c2));	/* step 2 */
		gen(algo, 8, 90, c3, sizeof(c3));	/* step 3 */
		assert_string_equal(c1, rfc[algo].code);	/* t=59 is step 1 */

		assert_int_equal(verify(algo, 8, 59, 1, c1, &step), 0);
		assert_int_equal(step, 1);
		assert_int_equal(verify(algo, 8, 59, 1, c2, &step), 0);
		assert_int_equal(step, 2);
		assert_int_equal(verify(algo, 8, 59, 1, c3, &step),
		    ZM_ERR_DENIED);

		assert_int_equal(verify(algo, 8, 60, 1, c1, &step), 0);
		assert_int_equal(step, 1);
		assert_int_equal(verify(algo, 8, 60, 1, c2, &step), 0);
		assert_int_equal(step, 2);
		assert_int_equal(verify(algo, 8, 60, 1, c3, &step), 0);
		assert_int_equal(step, 3);
		assert_int_equal(verify(algo, 8, 60, 0, c1, &step),
		    ZM_ERR_DENIED);

		/* Step 0 is reachable from step 1 but not below. */
		gen(algo, 8, 0, c1, sizeof(c1));
		assert_int_equal(verify(algo, 8, 30, 1, c1, &step), 0);
		assert_int_equal(step, 0);
		assert_int_equal(verify(algo, 8, 0, 1, c1, &step), 0);
		assert_int_equal(step, 0);
	}
}

static void
test_six_digits(void **state)
{
	char	code[16];
	int64_t	step;
	size_t	i;

	(void)state;
	/* A 6-digit code is the 8-digit one mod 10^6 (RFC 4226 5.3). */
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		gen(rfc[i].algo, 6, rfc[i].t, code, sizeof(code));
		assert_string_equal(code, rfc[i].code + 2);
		assert_int_equal(verify(rfc[i].algo, 6, rfc[i].t, 1, code,
		    &step), 0);
		assert_int_equal(step, (int64_t)(rfc[i].t / 30));
	}
	/* The 8-digit code is not a 6-digit code, and vice versa. */
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, 59, 1, "94287082", &step),
	    ZM_ERR_INVALID);
	assert_int_equal(verify(ZM_TOTP_SHA1, 8, 59, 1, "287082", &step),
	    ZM_ERR_INVALID);
}

static void
test_malformed_code(void **state)
{
	static const char *const bad[] = {
		"", "28708", "2870822", "28708a", "a87082", " 87082",
		"287082 ", "+87082", "-87082", "28 082", "２８７０８２",
		"287082\n",
	};
	int64_t	step;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(verify(ZM_TOTP_SHA1, 6, 59, 1, bad[i], &step),
		    ZM_ERR_INVALID);
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, 59, 1, NULL, &step),
	    ZM_ERR_INVALID);
	/* The right code still works after all that. */
	assert_int_equal(verify(ZM_TOTP_SHA1, 6, 59, 1, "287082", &step), 0);
}

static void
test_bad_params(void **state)
{
	char	code[16];
	int64_t	step;

	(void)state;
	assert_int_equal(zm_totp_verify(seed20, 20, ZM_TOTP_SHA1, 5, 30, 59, 1,
	    "87082", &step), ZM_ERR_INVALID);
	assert_int_equal(zm_totp_verify(seed20, 20, ZM_TOTP_SHA1, 6, 0, 59, 1,
	    "287082", &step), ZM_ERR_INVALID);
	assert_int_equal(zm_totp_verify(seed20, 20, 7, 6, 30, 59, 1,
	    "287082", &step), ZM_ERR_INVALID);
	assert_int_equal(zm_totp_verify(seed20, 0, ZM_TOTP_SHA1, 6, 30, 59, 1,
	    "287082", &step), ZM_ERR_INVALID);
	assert_int_equal(zm_totp_generate(seed20, 20, ZM_TOTP_SHA1, 9, 30, 59,
	    code, sizeof(code)), ZM_ERR_INVALID);
	assert_int_equal(zm_totp_generate(seed20, 20, ZM_TOTP_SHA1, 8, 30, 59,
	    code, 8), ZM_ERR_TOOBIG);
}

static void
test_algo_names(void **state)
{
	int	algo = -1;

	(void)state;
	assert_int_equal(zm_totp_algo_parse("SHA1", &algo), 0);
	assert_int_equal(algo, ZM_TOTP_SHA1);
	assert_int_equal(zm_totp_algo_parse("sha256", &algo), 0);
	assert_int_equal(algo, ZM_TOTP_SHA256);
	assert_int_equal(zm_totp_algo_parse("SHA512", &algo), 0);
	assert_int_equal(algo, ZM_TOTP_SHA512);
	assert_int_equal(zm_totp_algo_parse("MD5", &algo), ZM_ERR_INVALID);
	assert_int_equal(zm_totp_algo_parse("SHA", &algo), ZM_ERR_INVALID);
	assert_string_equal(zm_totp_algo_name(ZM_TOTP_SHA512), "SHA512");
	assert_null(zm_totp_algo_name(3));
	assert_null(zm_totp_algo_name(-1));
}

static void
test_uri(void **state)
{
	char	*uri = NULL;

	(void)state;
	assert_int_equal(zm_totp_uri("Example City", "alice@x", seed20, 20,
	    ZM_TOTP_SHA1, 6, 30, &uri), 0);
	assert_string_equal(uri, "otpauth://totp/Example%20City:alice%40x"
	    "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20City"
	    "&algorithm=SHA1&digits=6&period=30");
	zm_strfree(uri);

	/* 32 bytes need base32 padding, which the URI must not carry. */
	assert_int_equal(zm_totp_uri("zonemfa", "bob", seed32, 32,
	    ZM_TOTP_SHA256, 8, 60, &uri), 0);
	assert_string_equal(uri, "otpauth://totp/zonemfa:bob?secret="
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
	    "&issuer=zonemfa&algorithm=SHA256&digits=8&period=60");
	assert_null(strstr(uri, "=&"));
	assert_null(strstr(uri, "%3D"));
	zm_strfree(uri);

	/* A ':' or '&' in a name cannot break the label or the query. */
	assert_int_equal(zm_totp_uri("a:b&c", "d?e/f", seed64, 64,
	    ZM_TOTP_SHA512, 6, 30, &uri), 0);
	assert_non_null(strstr(uri, "totp/a%3Ab%26c:d%3Fe%2Ff?secret="));
	assert_non_null(strstr(uri, "&issuer=a%3Ab%26c&algorithm=SHA512&"));
	zm_strfree(uri);

	assert_int_equal(zm_totp_uri("", "bob", seed20, 20, ZM_TOTP_SHA1, 6,
	    30, &uri), ZM_ERR_INVALID);
	assert_null(uri);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_wrong_code_refused),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_step_boundaries),
		cmocka_unit_test(test_six_digits),
		cmocka_unit_test(test_malformed_code),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_algo_names),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
