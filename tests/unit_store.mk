# tests/unit_store.mk - registry, crypto and TOTP unit tests (cmocka).
# Each test compiles exactly the sources it exercises, so it does not wait
# on the rest of tokend/.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_store tests/test_crypto tests/test_totp
TESTS += tests/test_store tests/test_crypto tests/test_totp

tests_test_store_SOURCES = tests/test_store.c tokend/store.c \
	tokend/store_sqlite.c tokend/store_sqlite_db.c tokend/store_sqlite_ckpt.c \
	tokend/store_sqlite_impl.h tokend/store_impl.h tokend/store.h
tests_test_store_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_store_LDADD = common/libzmcommon.la $(SQLITE_LIBS) $(CMOCKA_LIBS)

tests_test_crypto_SOURCES = tests/test_crypto.c tokend/crypto.c tokend/crypto.h
tests_test_crypto_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_crypto_LDADD = common/libzmcommon.la $(CRYPTO_LIBS) $(CMOCKA_LIBS)

tests_test_totp_SOURCES = tests/test_totp.c tokend/totp.c tokend/totp.h
tests_test_totp_CFLAGS = $(AM_CFLAGS) $(OATH_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_totp_LDADD = common/libzmcommon.la $(OATH_LIBS) $(CMOCKA_LIBS)
endif
