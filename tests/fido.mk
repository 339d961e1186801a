# tests/fido.mk - FIDO2: the software authenticator fixture and its tests.

# A software FIDO2 authenticator on a SOCK_SEQPACKET socket (CTAPHID
# reports), reached by zonemfa-tokend --fido-hid-socket.
check_PROGRAMS += tests/fido_sw
tests_fido_sw_SOURCES = tests/fido_sw.c
tests_fido_sw_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(CBOR_CFLAGS)
tests_fido_sw_LDADD = $(CRYPTO_LIBS) $(CBOR_LIBS)

# Through the real libpam, module, daemon and libfido2 (needs fido_sw).
TESTS += tests/it_fido2.sh
check_SCRIPTS += tests/it_fido2.sh
EXTRA_DIST += tests/it_fido2.sh

# A key nobody touches, or that never answers, holds no other login
# (fido_timeout); the PIN goes to the key holding the credential.
TESTS += tests/it_fido2_async.sh
check_SCRIPTS += tests/it_fido2_async.sh
EXTRA_DIST += tests/it_fido2_async.sh

if HAVE_CMOCKA
# The counter rule, suspension, the stored blob and the ident.
check_PROGRAMS += tests/test_fido2
TESTS += tests/test_fido2
tests_test_fido2_SOURCES = tests/test_fido2.c
tests_test_fido2_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_fido2_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
endif
