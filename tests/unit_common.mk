# tests/unit_common.mk - cmocka unit tests of common/.
if HAVE_CMOCKA
common_unit_tests = tests/test_conf tests/test_conf_load tests/test_duration \
	tests/test_ipc tests/test_auditrec tests/test_buf
check_PROGRAMS += $(common_unit_tests)
TESTS += $(common_unit_tests)

tests_test_conf_SOURCES = tests/test_conf.c
tests_test_conf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_conf_LDADD = common/libzmcommon.la $(CMOCKA_LIBS)

tests_test_conf_load_SOURCES = tests/test_conf_load.c
tests_test_conf_load_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_conf_load_LDADD = common/libzmcommon.la $(CMOCKA_LIBS)

tests_test_duration_SOURCES = tests/test_duration.c
tests_test_duration_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_duration_LDADD = common/libzmcommon.la $(CMOCKA_LIBS)

tests_test_ipc_SOURCES = tests/test_ipc.c
tests_test_ipc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ipc_LDADD = common/libzmcommon.la $(CMOCKA_LIBS)

tests_test_auditrec_SOURCES = tests/test_auditrec.c
tests_test_auditrec_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(CRYPTO_CFLAGS)
tests_test_auditrec_LDADD = common/libzmcommon.la $(CMOCKA_LIBS)

tests_test_buf_SOURCES = tests/test_buf.c
tests_test_buf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_buf_LDADD = common/libzmcommon.la $(CMOCKA_LIBS)
endif
