# tests/pam.mk - the PAM module's tests and the test login program.

# A login(1)-like PAM application for the integration tests: an
# application, so it links libpam only, none of our code.
check_PROGRAMS += tests/zm-login
tests_zm_login_SOURCES = tests/zm-login.c
tests_zm_login_CFLAGS = $(AM_CFLAGS) $(PAM_CFLAGS)
tests_zm_login_LDADD = $(PAM_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/test_dlsym
TESTS += tests/test_dlsym
tests_test_dlsym_SOURCES = tests/test_dlsym.c
tests_test_dlsym_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PAM_CFLAGS)
tests_test_dlsym_LDADD = $(CMOCKA_LIBS) -ldl
# It dlopens the built module.
EXTRA_tests_test_dlsym_DEPENDENCIES = pam_module/pam_zonemfa.la

check_PROGRAMS += tests/test_messages
TESTS += tests/test_messages
tests_test_messages_SOURCES = tests/test_messages.c
tests_test_messages_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/pam_module
tests_test_messages_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PAM_CFLAGS)
tests_test_messages_LDADD = pam_module/libzmpam.la $(CMOCKA_LIBS)
endif
