/*
 * test_ratelimit.c - per-uid connection caps and request rate
 * (tokend/ratelimit.c): one unprivileged user cannot take every slot or
 * every turn of the daemon.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "err.h"
#include "ratelimit.h"

/* A uid gets ZM_MAX_CLIENTS_PER_UID connections; others still get in. */
static void
test_per_uid_cap(void **state)
{
	struct zm_rate	*s = NULL;
	struct zm_uid	*u[ZM_MAX_CLIENTS_PER_UID], *x = NULL, *o = NULL;
	int		 i, warn;

	(void)state;
	assert_int_equal(zm_rate_new(1000, &s), 0);
	for (i = 0; i < ZM_MAX_CLIENTS_PER_UID; i++)
		assert_int_equal(zm_rate_join(s, 2001, 0, &u[i], &warn), 0);
	assert_int_equal(zm_rate_join(s, 2001, 0, &x, &warn), ZM_ERR_PERM);
	assert_null(x);
	assert_int_equal(warn, 1);
	/* Logged once, not once per attempt. */
	assert_int_equal(zm_rate_join(s, 2001, 1, &x, &warn), ZM_ERR_PERM);
	assert_int_equal(warn, 0);
	assert_int_equal(zm_rate_join(s, 2002, 1, &o, &warn), 0);
	assert_int_equal(zm_rate_nonroot(s), ZM_MAX_CLIENTS_PER_UID + 1);
	/* One leaves: one more may come. */
	zm_rate_leave(s, u[0]);
	assert_int_equal(zm_rate_join(s, 2001, 2, &u[0], &warn), 0);
	for (i = 0; i < ZM_MAX_CLIENTS_PER_UID; i++)
		zm_rate_leave(s, u[i]);
	zm_rate_leave(s, o);
	assert_int_equal(zm_rate_nonroot(s), 0);
	zm_rate_free(s);
}

/* All non-root uids together stop at their cap (the rest is root's). */
static void
test_nonroot_cap(void **state)
{
	struct zm_rate	*s = NULL;
	struct zm_uid	*u[3], *x = NULL;
	int		 i, warn;

	(void)state;
	assert_int_equal(zm_rate_new(3, &s), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(zm_rate_join(s, 3000 + (uid_t)i, 0, &u[i],
		    &warn), 0);
	assert_int_equal(zm_rate_join(s, 4000, 0, &x, &warn), ZM_ERR_PERM);
	assert_int_equal(zm_rate_join(s, 3000, 0, &x, &warn), ZM_ERR_PERM);
	zm_rate_leave(s, u[1]);
	assert_int_equal(zm_rate_join(s, 4000, 0, &x, &warn), 0);
	zm_rate_leave(s, x);
	zm_rate_leave(s, u[0]);
	zm_rate_leave(s, u[2]);
	zm_rate_free(s);
}

/* A burst, then ZM_UID_RATE a second; reconnecting does not refill. */
static void
test_token_bucket(void **state)
{
	struct zm_rate	*s = NULL;
	struct zm_uid	*u = NULL;
	int64_t		 now = 1000, w;
	int		 i, warn, n;

	(void)state;
	assert_int_equal(zm_rate_new(100, &s), 0);
	assert_int_equal(zm_rate_join(s, 2001, now, &u, &warn), 0);
	for (i = 0; i < ZM_UID_BURST; i++)
		assert_int_equal(zm_rate_take(u, now, &w), 1);
	assert_int_equal(zm_rate_take(u, now, &w), 0);
	assert_int_equal(w, 1000 / ZM_UID_RATE);
	assert_int_equal(zm_rate_ready(u, now + w - 1, &w), 0);
	assert_int_equal(zm_rate_ready(u, now + 1000 / ZM_UID_RATE, &w), 1);
	/* Over 10 s: 10 x the rate, not more. */
	for (n = 0, i = 0; i < 10000; i++)
		n += zm_rate_take(u, now + i, &w);
	assert_true(n >= 10 * ZM_UID_RATE - 1 && n <= 10 * ZM_UID_RATE + 1);
	/* Empty at now: leaving and coming back gives nothing. */
	now += 10000;
	while (zm_rate_take(u, now, &w))
		;
	zm_rate_leave(s, u);
	u = NULL;
	assert_int_equal(zm_rate_join(s, 2001, now, &u, &warn), 0);
	assert_int_equal(zm_rate_ready(u, now, &w), 0);
	zm_rate_leave(s, u);
	zm_rate_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_uid_cap),
		cmocka_unit_test(test_nonroot_cap),
		cmocka_unit_test(test_token_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
