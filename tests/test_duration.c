/*
 * test_duration.c - durations of zonemfa.conf(5) (lockout, session limit,
 * dormancy: R9, R8, R13) and the class / method names used in messages
 * and the audit log.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "err.h"

static void
test_parse_ok(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 v;
	} ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "0d", 0 }, { "1s", 1 },
		{ "59s", 59 }, { "30m", 1800 }, { "2h", 7200 },
		{ "8h", 28800 }, { "90d", 7776000 }, { "007m", 420 },
		{ "3650d", 3650LL * 86400 }, { "87600h", 3650LL * 86400 },
		{ "315360000s", 315360000 },
	};
	size_t	i;
	int64_t	v;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -42;
		assert_int_equal(zm_duration_parse(ok[i].s, &v), ZM_OK);
		assert_int_equal(v, ok[i].v);
	}
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "s", "m", "1", "30", "00", "-1s", "+1s", " 1s", "1s ",
		"1 s", "1S", "1w", "1ms", "1.5h", "0x10s", "1e3s", "h1",
		"3651d", "87601h", "315360001s", "99999999999d",
		"18446744073709551616s", "9223372036854775807s", "1d1h",
		"helpdesk",
	};
	size_t	i;
	int64_t	v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 77;
		if (zm_duration_parse(bad[i], &v) != ZM_ERR_INVALID)
			fprintf(stderr, "accepted '%s'\n", bad[i]);
		assert_int_equal(zm_duration_parse(bad[i], &v), ZM_ERR_INVALID);
		assert_int_equal(v, 77);	/* untouched on error */
	}
	assert_int_equal(zm_duration_parse(NULL, &v), ZM_ERR_INVALID);
	assert_int_equal(zm_duration_parse("1s", NULL), ZM_ERR_INVALID);
}

static void
test_format(void **state)
{
	static const struct {
		int64_t		 v;
		const char	*s;
	} f[] = {
		{ 0, "0" }, { 1, "1s" }, { 61, "61s" }, { 60, "1m" },
		{ 1800, "30m" }, { 3600, "1h" }, { 5400, "90m" },
		{ 7200, "2h" }, { 86400, "1d" }, { 90 * 86400, "90d" },
		{ 86400 + 3600, "25h" },
	};
	char	buf[32], small[3];
	int64_t	back;
	size_t	i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		zm_duration_format(f[i].v, buf, sizeof(buf));
		assert_string_equal(buf, f[i].s);
		/* What is printed parses back to the same value. */
		assert_int_equal(zm_duration_parse(buf, &back), ZM_OK);
		assert_int_equal(back, f[i].v);
	}
	/* Never a cut number: "90d" does not fit in 3 bytes. */
	memset(small, 'x', sizeof(small));
	zm_duration_format(90 * 86400, small, sizeof(small));
	assert_string_equal(small, "");
	zm_duration_format(1, small, sizeof(small));
	assert_string_equal(small, "1s");
	zm_duration_format(1, NULL, 0);		/* no crash */
}

static void
test_names(void **state)
{
	char buf[64], tiny[12];

	zm_classes_format(ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION, buf,
	    sizeof(buf));
	assert_string_equal(buf, "knowledge possession");
	zm_classes_format(ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION |
	    ZM_CLASS_INHERENCE, buf, sizeof(buf));
	assert_string_equal(buf, "knowledge possession inherence");
	zm_classes_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* Words that do not fit are left out whole. */
	zm_classes_format(ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION, tiny,
	    sizeof(tiny));
	assert_string_equal(tiny, "knowledge");

	zm_methods_format(ZM_METHOD_CARD | ZM_METHOD_FIDO2 | ZM_METHOD_TOTP |
	    ZM_METHOD_TEMPCODE, buf, sizeof(buf));
	assert_string_equal(buf, "card fido2 totp tempcode");
	zm_methods_format(ZM_METHOD_TOTP, buf, sizeof(buf));
	assert_string_equal(buf, "totp");
	zm_methods_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");

	assert_string_equal(zm_method_name(ZM_METHOD_CARD), "card");
	assert_string_equal(zm_method_name(ZM_METHOD_FIDO2), "fido2");
	assert_string_equal(zm_method_name(ZM_METHOD_TOTP), "totp");
	assert_string_equal(zm_method_name(ZM_METHOD_TEMPCODE), "tempcode");
	assert_string_equal(zm_method_name(0), "unknown");
	assert_string_equal(zm_method_name(ZM_METHOD_CARD | ZM_METHOD_TOTP),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
