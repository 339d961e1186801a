noinst_LTLIBRARIES += tokend/libzmtokend.la
tokend_libzmtokend_la_SOURCES = \
	tokend/tokend.h \
	tokend/store.c tokend/store.h tokend/store_impl.h tokend/store_sqlite.c \
	tokend/store_sqlite_db.c tokend/store_sqlite_impl.h \
	tokend/store_sqlite_ckpt.c \
	tokend/crypto.c tokend/crypto.h \
	tokend/totp.c tokend/totp.h \
	tokend/fido2.c tokend/fido2.h tokend/fido2_impl.h tokend/fido2_login.c \
	tokend/policy.c tokend/policy.h \
	tokend/audit.c tokend/audit.h \
	tokend/auth.c tokend/auth_impl.h tokend/auth_account.c \
	tokend/auth_card.c tokend/auth_fido2.c tokend/auth_password.c \
	tokend/ticket.c \
	tokend/peer.c tokend/session.c tokend/ending.c tokend/proc.c \
	tokend/proc.h tokend/mono.c tokend/paths.c tokend/recover.c tokend/limits.c tokend/tempcode.c \
	tokend/clock.c tokend/clock.h \
	tokend/tempcode.h tokend/temppw.c tokend/admin.c tokend/admin_import.c tokend/server.c \
	tokend/server_socket.c tokend/reply.c \
	tokend/ratelimit.c tokend/ratelimit.h \
	tokend/server.h \
	tokend/card.c tokend/card.h tokend/card_apdu.c tokend/card_key.c \
	tokend/card_piv.c tokend/card_jpki.c tokend/enroll_card.c \
	tokend/cardwatch.c tokend/cardwatch.h \
	tokend/fileperm.c tokend/fileperm.h
tokend_libzmtokend_la_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS) $(OATH_CFLAGS) $(SQLITE_CFLAGS) $(FIDO2_CFLAGS)
tokend_libzmtokend_la_LIBADD = common/libzmcommon.la $(PCSC_LIBS) $(CRYPTO_LIBS) $(OATH_LIBS) $(SQLITE_LIBS) $(FIDO2_LIBS)

sbin_PROGRAMS += tokend/zonemfa-tokend
tokend_zonemfa_tokend_SOURCES = tokend/main.c
tokend_zonemfa_tokend_LDADD = tokend/libzmtokend.la
