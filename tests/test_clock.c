/*
 * test_clock.c - R16: the clock state machine (tokend/clock.c).  An
 * unsynchronised clock is audited at start and then at most hourly;
 * becoming synchronised is audited once; a synchronised clock says nothing.
 */
#include <config.h>

#include <sys/timex.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

static void
test_unsynced(void **state)
{
	(void)state;
	assert_int_equal(zm_clock_unsynced(TIME_OK, 0), 0);
	assert_int_equal(zm_clock_unsynced(TIME_OK, STA_PLL), 0);
	assert_int_equal(zm_clock_unsynced(TIME_OK, STA_UNSYNC), 1);
	assert_int_equal(zm_clock_unsynced(TIME_OK, STA_PLL | STA_UNSYNC), 1);
	/* TIME_ERROR alone is enough (the kernel's own verdict). */
	assert_int_equal(zm_clock_unsynced(TIME_ERROR, 0), 1);
	assert_int_equal(zm_clock_unsynced(TIME_INS, 0), 0);
	/* The call failed: unknown, never "synchronised". */
	assert_int_equal(zm_clock_unsynced(-1, 0), -1);
	assert_int_equal(zm_clock_unsynced(-1, STA_UNSYNC), -1);
}

static void
test_unsync_at_start_then_hourly(void **state)
{
	struct zm_clock	c;
	int64_t		t0 = 1000;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(zm_clock_step(&c, 1, t0), ZM_CLOCK_EV_UNSYNC);
	/* Checked every minute: not audited again within the hour. */
	assert_int_equal(zm_clock_step(&c, 1, t0 + 60), ZM_CLOCK_EV_NONE);
	assert_int_equal(zm_clock_step(&c, 1, t0 + ZM_CLOCK_REPEAT_S - 1),
	    ZM_CLOCK_EV_NONE);
	assert_int_equal(zm_clock_step(&c, 1, t0 + ZM_CLOCK_REPEAT_S),
	    ZM_CLOCK_EV_UNSYNC);
	assert_int_equal(zm_clock_step(&c, 1, t0 + ZM_CLOCK_REPEAT_S + 60),
	    ZM_CLOCK_EV_NONE);
	/* An unknown reading changes nothing. */
	assert_int_equal(zm_clock_step(&c, -1, t0 + 3 * ZM_CLOCK_REPEAT_S),
	    ZM_CLOCK_EV_NONE);
	assert_int_equal(c.state, ZM_CLOCK_UNSYNC);
	/* Synchronised again: once. */
	assert_int_equal(zm_clock_step(&c, 0, t0 + 3 * ZM_CLOCK_REPEAT_S),
	    ZM_CLOCK_EV_SYNC);
	assert_int_equal(zm_clock_step(&c, 0, t0 + 3 * ZM_CLOCK_REPEAT_S + 60),
	    ZM_CLOCK_EV_NONE);
	/* Losing sync again is reported at once, not after an hour. */
	assert_int_equal(zm_clock_step(&c, 1, t0 + 3 * ZM_CLOCK_REPEAT_S + 120),
	    ZM_CLOCK_EV_UNSYNC);
	assert_int_equal(zm_clock_step(&c, 1, t0 + 3 * ZM_CLOCK_REPEAT_S + 180),
	    ZM_CLOCK_EV_NONE);
}

static void
test_sync_from_start(void **state)
{
	struct zm_clock	c;
	int64_t		t;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* Synchronised from the start: nothing to report, ever. */
	for (t = 0; t < 3 * ZM_CLOCK_REPEAT_S; t += 60)
		assert_int_equal(zm_clock_step(&c, 0, t), ZM_CLOCK_EV_NONE);
	assert_int_equal(c.state, ZM_CLOCK_SYNC);
	assert_int_equal(zm_clock_step(&c, 1, t), ZM_CLOCK_EV_UNSYNC);
	assert_int_equal(c.last_unsync, t);
}

static void
test_unknown_first(void **state)
{
	struct zm_clock c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(zm_clock_step(&c, -1, 5), ZM_CLOCK_EV_NONE);
	assert_int_equal(c.state, ZM_CLOCK_UNKNOWN);
	/* The first real reading still counts as "at start". */
	assert_int_equal(zm_clock_step(&c, 1, 65), ZM_CLOCK_EV_UNSYNC);
	/* A time that goes backwards does not silence it for an hour. */
	assert_int_equal(zm_clock_step(&c, 1, 10), ZM_CLOCK_EV_UNSYNC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsynced),
		cmocka_unit_test(test_unsync_at_start_then_hourly),
		cmocka_unit_test(test_sync_from_start),
		cmocka_unit_test(test_unknown_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
