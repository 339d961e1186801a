noinst_LTLIBRARIES += pam_module/libzmpam.la
pam_module_libzmpam_la_SOURCES = \
	pam_module/module.c pam_module/module.h \
	pam_module/messages.c pam_module/messages.h
pam_module_libzmpam_la_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
pam_module_libzmpam_la_LIBADD = common/libzmlean.la $(PAM_LIBS)

pammod_LTLIBRARIES = pam_module/pam_zonemfa.la
pam_module_pam_zonemfa_la_SOURCES = pam_module/pam_zonemfa.c
pam_module_pam_zonemfa_la_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
pam_module_pam_zonemfa_la_LIBADD = pam_module/libzmpam.la $(PAM_LIBS)
pam_module_pam_zonemfa_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-no-undefined -Wl,--version-script=$(top_srcdir)/pam_module/export.map
EXTRA_DIST += pam_module/export.map

install-data-hook: install-data-hook-pam
install-data-hook-pam:
	rm -f $(DESTDIR)$(pammoddir)/pam_zonemfa.la
uninstall-local: uninstall-local-pam
uninstall-local-pam:
	rm -f $(DESTDIR)$(pammoddir)/pam_zonemfa.so
