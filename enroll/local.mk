noinst_LTLIBRARIES += enroll/libzmcli.la
enroll_libzmcli_la_SOURCES = enroll/cli.c enroll/cli.h
enroll_libzmcli_la_CFLAGS = $(AM_CFLAGS) $(QRENCODE_CFLAGS)
enroll_libzmcli_la_LIBADD = common/libzmcommon.la $(QRENCODE_LIBS)

sbin_PROGRAMS += enroll/zonemfa-enroll enroll/zonemfa-revoke enroll/zonemfa-audit
enroll_zonemfa_enroll_SOURCES = enroll/enroll.c enroll/import.c enroll/import.h
enroll_zonemfa_enroll_LDADD = enroll/libzmcli.la
enroll_zonemfa_revoke_SOURCES = enroll/revoke.c enroll/revoke_offline.c \
	enroll/revoke_offline.h
enroll_zonemfa_revoke_LDADD = enroll/libzmcli.la tokend/libzmtokend.la
enroll_zonemfa_audit_SOURCES = enroll/audit.c enroll/dormant.c enroll/report.c \
	enroll/report_shared.c
enroll_zonemfa_audit_LDADD = enroll/libzmcli.la
