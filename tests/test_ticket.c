/*
 * test_ticket.c - one-use auth tickets (tokend/ticket.c).
 *
 * The ticket carries the token that proved possession from the auth phase
 * to the session record, so a revocation can end that session (R5).  It
 * must be single-use, bound to its user and to the process that
 * authenticated (or its parent: sshd), and short-lived.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth_impl.h"
#include "conf.h"
#include "err.h"
#include "tokend.h"

#include <unistd.h>

#define NOW	1800000000

/* The process that authenticated: uid 0, pid 100 (parent 50). */
static const struct zm_ticket_bind B = { 0, 100, 5000, 50, 4000 };

static int
issue(struct zm_ticket_table *t, const char *user, int64_t token_id,
    unsigned methods, int64_t now, char out[33])
{
	struct zm_ticket_info info;

	memset(&info, 0, sizeof(info));
	info.token_id = token_id;
	info.methods = methods;
	return zm_ticket_issue_at(t, user, &B, &info, now, out);
}

static int
take(struct zm_ticket_table *t, const char *tk, const char *user,
    int64_t now, int64_t *id, unsigned *m)
{
	struct zm_ticket_info	info;
	int			r;

	r = zm_ticket_take_at(t, tk, user, &B, now, &info);
	*id = info.token_id;
	if (m != NULL)
		*m = info.methods;
	return r;
}

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

	assert_int_equal(issue(t, "alice", 7, ZM_METHOD_TOTP,
	    NOW, tk), 0);
	assert_int_equal(strlen(tk), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", tk[i]));
	/* Random: a second ticket differs. */
	assert_int_equal(issue(t, "alice", 8, 0, NOW, tk2), 0);
	assert_string_not_equal(tk, tk2);

	assert_int_equal(take(t, tk, "alice", NOW + 1, &id, &m), 0);
	assert_int_equal(id, 7);
	assert_int_equal(m, ZM_METHOD_TOTP);
	/* One use only. */
	assert_int_equal(take(t, tk, "alice", NOW + 1, &id, &m),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(id, 0);
	assert_int_equal(m, 0);
	/* The other one is still there. */
	assert_int_equal(take(t, tk2, "alice", NOW + 2, &id, &m), 0);
	assert_int_equal(id, 8);
}

/*
 * Only the process that authenticated, or its parent (sshd opens the
 * session in the parent of its PAM child), may redeem the ticket: not
 * another process of the same uid, not another uid, not a reused PID.
 * A wrong presenter burns it.  The previous login travels with it.
 */
static void
test_binding(void **state)
{
	struct zm_ticket_table	*t = *state;
	struct zm_ticket_bind	 by;
	struct zm_ticket_info	 info, got;
	char			 tk[33];

	memset(&info, 0, sizeof(info));
	info.token_id = 7;
	info.prev_success = NOW - 3600;
	info.prev_failures = 2;
	snprintf(info.prev_from, sizeof(info.prev_from), "pts/3");
	/* The parent. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", &B, &info, NOW, tk), 0);
	by = B;
	by.pid = B.ppid;
	by.start = B.pstart;
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &by, NOW, &got), 0);
	assert_int_equal(got.token_id, 7);
	assert_int_equal(got.prev_success, NOW - 3600);
	assert_int_equal(got.prev_failures, 2);
	assert_string_equal(got.prev_from, "pts/3");
	/* Another process of the same uid: refused and burnt. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", &B, &info, NOW, tk), 0);
	by = B;
	by.pid = 101;
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &by, NOW, &got),
	    ZM_ERR_PERM);
	assert_int_equal(got.token_id, 0);
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &B, NOW, &got),
	    ZM_ERR_NOTFOUND);
	/* The same PID with another start time: a reused PID. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", &B, &info, NOW, tk), 0);
	by = B;
	by.start = B.start + 1;
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &by, NOW, &got),
	    ZM_ERR_PERM);
	/* The parent's PID reused. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", &B, &info, NOW, tk), 0);
	by = B;
	by.pid = B.ppid;
	by.start = B.pstart + 9;
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &by, NOW, &got),
	    ZM_ERR_PERM);
	/* Another uid, same process numbers. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", &B, &info, NOW, tk), 0);
	by = B;
	by.uid = 1000;
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &by, NOW, &got),
	    ZM_ERR_PERM);
	/* Unknown start time (the process could not be read) matches nothing. */
	assert_int_equal(zm_ticket_issue_at(t, "alice", &B, &info, NOW, tk), 0);
	by = B;
	by.start = 0;
	assert_int_equal(zm_ticket_take_at(t, tk, "alice", &by, NOW, &got),
	    ZM_ERR_PERM);
}

/* zm_ticket_bind_peer() reads the caller and its parent from /proc. */
static void
test_bind_peer(void **state)
{
	struct zm_peer		peer;
	struct zm_ticket_bind	b;

	(void)state;
	memset(&peer, 0, sizeof(peer));
	peer.uid = getuid();
	peer.pid = getpid();
	zm_ticket_bind_peer(&peer, &b);
	assert_int_equal(b.pid, getpid());
	assert_true(b.start > 0);
	if (getppid() > 1) {
		assert_int_equal(b.ppid, getppid());
		assert_true(b.pstart > 0);
	}
	/* A process that does not exist binds to nothing. */
	peer.pid = 0x7ffffff0;
	zm_ticket_bind_peer(&peer, &b);
	assert_int_equal(b.start, 0);
}

static void
test_wrong_user(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33];
	int64_t id = 0;

	assert_int_equal(issue(t, "alice", 7, 0, NOW, tk), 0);
	assert_int_equal(take(t, tk, "bob", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(id, 0);
	/* Shown for the wrong user, it is burnt for the right one too. */
	assert_int_equal(take(t, tk, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	/* A prefix of the user name is a different user. */
	assert_int_equal(issue(t, "alice", 7, 0, NOW, tk), 0);
	assert_int_equal(take(t, tk, "alic", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
}

static void
test_expired(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33];
	int64_t id = 0;

	/* Valid for 600 s: the last second works ... */
	assert_int_equal(issue(t, "alice", 1, 0, NOW, tk), 0);
	assert_int_equal(take(t, tk, "alice", NOW + ZM_TICKET_TTL - 1,
	    &id, NULL), 0);
	/* ... the 600th does not. */
	assert_int_equal(issue(t, "alice", 1, 0, NOW, tk), 0);
	assert_int_equal(take(t, tk, "alice", NOW + ZM_TICKET_TTL,
	    &id, NULL), ZM_ERR_NOTFOUND);
	assert_int_equal(id, 0);
	/* And an expired one does not come back later either. */
	assert_int_equal(take(t, tk, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
}

static void
test_malformed(void **state)
{
	struct zm_ticket_table *t = *state;
	char tk[33], bad[40];
	int64_t id = 0;

	assert_int_equal(issue(t, "alice", 1, 0, NOW, tk), 0);
	/* A guessed ticket, an empty one, a prefix and a longer one fail. */
	assert_int_equal(take(t, "00000000000000000000000000000000",
	    "alice", NOW, &id, NULL), ZM_ERR_NOTFOUND);
	assert_int_equal(take(t, "", "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	memcpy(bad, tk, 31);
	bad[31] = '\0';
	assert_int_equal(take(t, bad, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	memcpy(bad, tk, 32);
	memcpy(bad + 32, "00", 3);
	assert_int_equal(take(t, bad, "alice", NOW, &id, NULL),
	    ZM_ERR_NOTFOUND);
	/* None of those consumed the real one. */
	assert_int_equal(take(t, tk, "alice", NOW, &id, NULL), 0);
	assert_int_equal(id, 1);
	/* Bad arguments. */
	assert_int_equal(issue(t, "", 1, 0, NOW, tk), ZM_ERR_INVALID);
	assert_int_equal(issue(t, NULL, 1, 0, NOW, tk), ZM_ERR_INVALID);
	assert_int_equal(zm_ticket_take_at(NULL, tk, "alice", &B, NOW, NULL),
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

	assert_int_equal(issue(t, "alice", 1, 0, NOW, first), 0);
	assert_int_equal(issue(t, "alice", 2, 0, NOW + 1, second), 0);
	for (i = 0; i < ZM_TICKET_CAP - 2; i++)
		assert_int_equal(issue(t, "bob", 100 + i, 0,
		    NOW + 2, tk), 0);
	/* Full now; one more evicts the oldest ("first"). */
	assert_int_equal(issue(t, "carol", 9, 0, NOW + 3, tk), 0);
	assert_int_equal(take(t, first, "alice", NOW + 3, &id, NULL),
	    ZM_ERR_NOTFOUND);
	assert_int_equal(take(t, second, "alice", NOW + 3, &id, NULL), 0);
	assert_int_equal(id, 2);
	assert_int_equal(take(t, tk, "carol", NOW + 3, &id, NULL), 0);
	assert_int_equal(id, 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binding, setup, teardown),
		cmocka_unit_test(test_bind_peer),
		cmocka_unit_test_setup_teardown(test_wrong_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
