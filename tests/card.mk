# tests/card.mk - IC card fixtures: the virtual card (vpcd client) and a
# pcsc-lite client that waits for a reader state.
check_PROGRAMS += tests/vcard tests/zm-pcsc-wait
tests_vcard_SOURCES = tests/vcard.c
tests_vcard_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tests_vcard_LDADD = $(CRYPTO_LIBS)
tests_zm_pcsc_wait_SOURCES = tests/zm-pcsc-wait.c
tests_zm_pcsc_wait_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS)
tests_zm_pcsc_wait_LDADD = $(PCSC_LIBS)
EXTRA_DIST += tests/pcscd.sh
TESTS += tests/it_card.sh
check_SCRIPTS += tests/it_card.sh
EXTRA_DIST += tests/it_card.sh
TESTS += tests/it_card_removal.sh
check_SCRIPTS += tests/it_card_removal.sh
EXTRA_DIST += tests/it_card_removal.sh
# The APDUs the card profiles build, byte for byte (cmocka, no pcsc).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_card
TESTS += tests/test_card
tests_test_card_SOURCES = tests/test_card.c
tests_test_card_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_card_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
endif
