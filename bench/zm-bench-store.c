/*
 * zm-bench-store - the registry's share of a TOTP login, without the rest:
 * COUNT times, for a random one of the N bench users (zm-bench-populate),
 * zm_store_totp_advance then zm_store_success_record (the two commits of
 * a successful login), timed as one; p50/p99/p99.9/max.  With
 * "autocheckpoint" the daemon's connection is put back as it was before
 * issue 11 (SQLite's own checkpoint inside the commit past 1000 WAL
 * pages) for comparison.  Bench data only.
 *
 *   zm-bench-store STORE-URI USERS COUNT FIRST-STEP [autocheckpoint]
 *
 * FIRST-STEP must exceed every step used before on that registry (steps
 * FIRST-STEP .. FIRST-STEP+COUNT-1 are used).
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "err.h"
#include "store.h"
#include "store_impl.h"
#include "store_sqlite_impl.h"

#include "bench_util.h"

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct zm_store	*st = NULL;
	unsigned long	 users, count, i;
	uint64_t	*lat, s;
	int64_t		 step, id;
	char		 user[ZM_NAME_MAX];
	int		 old, r;

	if (argc != 5 && argc != 6)
		errx(2, "usage: zm-bench-store STORE-URI USERS COUNT FIRST-STEP "
		    "[autocheckpoint]");
	users = strtoul(argv[2], NULL, 10);
	count = strtoul(argv[3], NULL, 10);
	step = strtoll(argv[4], NULL, 10);
	old = argc == 6 && strcmp(argv[5], "autocheckpoint") == 0;
	if (users == 0 || count == 0 || step <= 0)
		errx(2, "bad USERS, COUNT or FIRST-STEP");
	if ((lat = calloc(count, sizeof(*lat))) == NULL)
		err(1, "calloc");
	if ((r = zm_store_open(argv[1], &st)) != ZM_OK)
		errx(1, "store %s: %s", argv[1], zm_strerror(r));
	if (old) {
		sqlite3_wal_hook(SQ(st)->db, NULL, NULL);
		sqlite3_wal_autocheckpoint(SQ(st)->db, 1000);
	}
	srandom((unsigned)step);
	for (i = 0; i < count; i++) {
		/* zm-bench-populate: user u<k> has token k + 1. */
		id = 1 + (int64_t)((unsigned long)random() % users);
		snprintf(user, sizeof(user), "u%07lld", (long long)(id - 1));
		s = now_ns();
		if ((r = zm_store_totp_advance(st, id, step + (int64_t)i,
		    (int64_t)time(NULL))) != ZM_OK ||
		    (r = zm_store_success_record(st, user, (int64_t)time(NULL),
		    "bench", id)) != ZM_OK)
			errx(1, "%s: %s", user, zm_strerror(r));
		lat[i] = now_ns() - s;
	}
	qsort(lat, count, sizeof(*lat), cmp_u64);
	printf("%s: n=%lu p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
	    old ? "autocheckpoint" : "checkpoint_thread", count,
	    lat[count / 2] / 1e6, lat[count * 99 / 100] / 1e6,
	    lat[count * 999 / 1000] / 1e6, lat[count - 1] / 1e6);
	zm_store_close(st);
	free(lat);
	return 0;
}
