/*
 * mono.c - the monotonic clock in milliseconds, and sleeping, for the
 * daemon's deadlines (never the wall clock, which may be what is wrong).
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "tokend.h"

int64_t
zm_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
zm_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
