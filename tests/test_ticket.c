/*
 * test_ticket.c - one-use auth tickets (tokend/ticket.c).
 *
 * The ticket carries the token that proved possession from the auth phase
 * to the session record, so a revocation can end that session (R5).  It
 * must be single-use, bound to its user and short-lived.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth_impl.h"
#include "conf.h"
#include "err.h"
#include "tokend.h"

#define NOW	1800000000

static int
setup(void **state)
{
	struct zm_ticket_table *t = NULL;

	if (zm_tickets_new(&t) != 0)
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	zm_tickets_free(*state);
	return 0;
}

static void
test_issue_take(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33], tk2[33];
	int64_t id = 0;
	unsigned m = 0;
	size_t i;

	assert_int_equal(zm_ticket_issue_at(t, "alice", 7, ZM_METHOD_TOTP,
	    NOW, tk), 0);
	assert_int_equal(strlen(tk), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", tk[i]));
	/* Random: a second ticket differs. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", 8, 0, NOW, tk2), 0);
	assert_string_not_equal(tk, tk2);

	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW + 1, &id, &m), 0);
	assert_int_equal(id, 7);
	assert_int_equal(m, ZM_METHOD_TOTP);
	/* One use only. */
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW + 1, &id, &m),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(id, 0);
	assert_int_equal(m, 0);
	/* The other one is still there. */
	assert_int_equal(zm_ticket_take_at(t, tk2, "alice", NOW + 2, &id, &m), 0);
	assert_int_equal(id, 8);
}

static void
test_wall_clock(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33];
	int64_t id = 0;

	assert_int_equal(zm_ticket_issue(t, "bob", 3, 0, tk), 0);
	assert_int_equal(zm_ticket_take(t, tk, "bob", &id, NULL), 0);
	assert_int_equal(id, 3);
	assert_int_equal(zm_ticket_take(t, tk, "bob", &id, NULL),
	    ZM_ERR_NOTFOUND);
}

static void
test_wrong_user(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33];
	int64_t id = 0;

	assert_int_equal(zm_ticket_issue_at(t, "alice", 7, 0, NOW, tk), 0);
	assert_int_equal(zm_ticket_take_at(t, tk, "bob", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(id, 0);
	/* Shown for the wrong user, it is burnt for the right one too. */
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	/* A prefix of the user name is a different user. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", 7, 0, NOW, tk), 0);
	assert_int_equal(zm_ticket_take_at(t, tk, "alic", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
}

static void
test_expired(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33];
	int64_t id = 0;

	/* Valid for 600 s: the last second works ... */
	assert_int_equal(zm_ticket_issue_at(t, "alice", 1, 0, NOW, tk), 0);
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW + ZM_TICKET_TTL - 1,
	    &id, NULL), 0);
	/* ... the 600th does not. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", 1, 0, NOW, tk), 0);
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW + ZM_TICKET_TTL,
	    &id, NULL), ZM_ERR_NOTFOUND);
	assert_int_equal(id, 0);
	/* And an expired one does not come back later either. */
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
}

static void
test_malformed(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33], bad[40];
	int64_t id = 0;

	assert_int_equal(zm_ticket_issue_at(t, "alice", 1, 0, NOW, tk), 0);
	/* A guessed ticket, an empty one, a prefix and a longer one fail. */
	assert_int_equal(zm_ticket_take_at(t, "00000000000000000000000000000000",
	    "alice", NOW, &id, NULL), ZM_ERR_NOTFOUND);
	assert_int_equal(zm_ticket_take_at(t, "", "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	memcpy(bad, tk, 31);
	bad[31] = '\0';
	assert_int_equal(zm_ticket_take_at(t, bad, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	memcpy(bad, tk, 32);
	memcpy(bad + 32, "00", 3);
	assert_int_equal(zm_ticket_take_at(t, bad, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	/* None of those consumed the real one. */
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", NOW, &id, NULL), 0);
	assert_int_equal(id, 1);
	/* Bad arguments. */
	assert_int_equal(zm_ticket_issue_at(t, "", 1, 0, NOW, tk), ZM_ERR_INVALID);
	assert_int_equal(zm_ticket_issue_at(t, NULL, 1, 0, NOW, tk), ZM_ERR_INVALID);
	assert_int_equal(zm_ticket_take_at(NULL, tk, "alice", NOW, &id, NULL),
	    ZM_ERR_INVALID);
}

/* When the table is full the oldest ticket goes, the newest stay. */
static void
test_eviction(void **state)
{
	struct zm_ticket_table *t = *state;
	char first[33], second[33], tk[33];
	int64_t id = 0;
	int i;

	assert_int_equal(zm_ticket_issue_at(t, "alice", 1, 0, NOW, first), 0);
	assert_int_equal(zm_ticket_issue_at(t, "alice", 2, 0, NOW + 1, second), 0);
	for (i = 0; i < ZM_TICKET_CAP - 2; i++)
		assert_int_equal(zm_ticket_issue_at(t, "bob", 100 + i, 0,
		    NOW + 2, tk), 0);
	/* Full now; one more evicts the oldest ("first"). */
	assert_int_equal(zm_ticket_issue_at(t, "carol", 9, 0, NOW + 3, tk), 0);
	assert_int_equal(zm_ticket_take_at(t, first, "alice", NOW + 3, &id, NULL),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(zm_ticket_take_at(t, second, "alice", NOW + 3, &id, NULL), 0);
	assert_int_equal(id, 2);
	assert_int_equal(zm_ticket_take_at(t, tk, "carol", NOW + 3, &id, NULL), 0);
	assert_int_equal(id, 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wall_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
