# common/ without libcrypto: the PAM module links only this (below).
ZM_COMMON_LEAN = \
	common/err.c common/err.h \
	common/names.c common/names.h \
	common/buf.c common/buf.h \
	common/wipe.c common/wipe.h \
	common/log.c common/log.h \
	common/conf.c common/conf_parse.c common/conf_keys.c \
	common/conf_shared.c \
	common/conf.h common/conf_int.h \
	common/duration.c \
	common/ipc.c common/ipc_client.c common/ipc.h

noinst_LTLIBRARIES += common/libzmcommon.la
common_libzmcommon_la_SOURCES = $(ZM_COMMON_LEAN) \
	common/auditrec.c common/auditrec.h
common_libzmcommon_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
common_libzmcommon_la_LIBADD = $(CRYPTO_LIBS)

# The PAM module's share of common/: everything but what needs libcrypto
# (auditrec.c hashes records).  The module decides nothing and must stay
# lean: a login process pays for every library it loads
# (tests/it_module_deps.sh checks that libcrypto stays out, and that no
# zm_ symbol is left undefined).
noinst_LTLIBRARIES += common/libzmlean.la
common_libzmlean_la_SOURCES = $(ZM_COMMON_LEAN)
common_libzmlean_la_CFLAGS = $(AM_CFLAGS)
