# tests/unit_auth.mk - policy, ticket, audit, auth and rate limit unit
# tests (cmocka).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_policy tests/test_ticket tests/test_audit \
	tests/test_auth tests/test_clock tests/test_ratelimit
TESTS += tests/test_policy tests/test_ticket tests/test_audit \
	tests/test_auth tests/test_clock tests/test_ratelimit
tests_test_policy_SOURCES = tests/test_policy.c
tests_test_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_policy_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
tests_test_ticket_SOURCES = tests/test_ticket.c
tests_test_ticket_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ticket_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
tests_test_audit_SOURCES = tests/test_audit.c
tests_test_audit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_audit_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
tests_test_auth_SOURCES = tests/test_auth.c
tests_test_auth_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_auth_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
tests_test_clock_SOURCES = tests/test_clock.c
tests_test_clock_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_clock_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
tests_test_ratelimit_SOURCES = tests/test_ratelimit.c
tests_test_ratelimit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ratelimit_LDADD = tokend/libzmtokend.la $(CMOCKA_LIBS)
endif
