# fuzz/local.mk - libFuzzer harnesses for every parser of untrusted input.
# The common sources are compiled into each fuzzer (not linked from
# libzmcommon.la) so that they carry the fuzzer's coverage instrumentation.
# The same list as libzmcommon.la (common/local.mk), so that a new common
# file cannot be missing here.
fuzz_common_sources = $(ZM_COMMON_LEAN) common/auditrec.c

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz_conf fuzz/fuzz_ipc fuzz/fuzz_auditrec

fuzz_fuzz_conf_SOURCES = fuzz/fuzz_conf.c $(fuzz_common_sources)
fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(CRYPTO_CFLAGS)
fuzz_fuzz_conf_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_conf_LDADD = $(CRYPTO_LIBS)

fuzz_fuzz_ipc_SOURCES = fuzz/fuzz_ipc.c $(fuzz_common_sources)
fuzz_fuzz_ipc_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(CRYPTO_CFLAGS)
fuzz_fuzz_ipc_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_ipc_LDADD = $(CRYPTO_LIBS)

fuzz_fuzz_auditrec_SOURCES = fuzz/fuzz_auditrec.c $(fuzz_common_sources)
fuzz_fuzz_auditrec_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(CRYPTO_CFLAGS)
fuzz_fuzz_auditrec_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_auditrec_LDADD = $(CRYPTO_LIBS)

# Card responses: the parsers and both profiles over a fake card.
noinst_PROGRAMS += fuzz/fuzz_card_resp
fuzz_fuzz_card_resp_SOURCES = fuzz/fuzz_card_resp.c $(fuzz_common_sources) \
	tokend/card_apdu.c tokend/card_key.c tokend/card_piv.c tokend/card_jpki.c
fuzz_fuzz_card_resp_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(CRYPTO_CFLAGS)
fuzz_fuzz_card_resp_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_card_resp_LDADD = $(CRYPTO_LIBS)
endif

# The harness sources are distributed by automake; the corpora are not.
EXTRA_DIST += fuzz/corpus
