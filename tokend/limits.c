/*
 * limits.c - privileged connection time is limited (R9): a session opened
 * by a member of the zone's privileged_groups (recorded at open) is ended
 * by the daemon when the zone's privileged_session_limit runs out.
 *
 * The deadlines are not kept in memory: each check reads the open
 * sessions back from the store, so a limit set before a restart (or by
 * another daemon sharing the registry) is still enforced.  The loop
 * (server.c) calls zm_limits_due() at the next deadline, and again after
 * every session open, and drives the ending without blocking.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tokend.h"

/* The limit of session s, 0 for none (not privileged, zone gone, unset). */
static int64_t
session_limit(const struct zm_tokend *d, const struct zm_session *s)
{
	const struct zm_zone *z;

	if (!s->privileged)
		return 0;
	if ((z = zm_config_zone(d->cfg, s->zone)) == NULL)
		return 0;
	return z->privileged_session_limit > 0 ? z->privileged_session_limit :
	    0;
}

int
zm_limits_due(struct zm_tokend *d, int64_t now, int64_t *next,
    struct zm_ending **en)
{
	struct zm_session	*open = NULL;
	size_t			 n = 0, i, k = 0;
	int64_t			 limit, end;
	int			 r;

	*next = INT64_MAX;
	*en = NULL;
	if ((r = zm_store_sessions_open_list(d->st, NULL, 0, &open,
	    &n)) != 0) {
		zm_err("session limits: cannot list sessions: %s",
		    zm_strerror(r));
		return r;
	}
	/* Keep the sessions due at the front of the array. */
	for (i = 0; i < n; i++) {
		if ((limit = session_limit(d, &open[i])) == 0)
			continue;
		end = open[i].opened > INT64_MAX - limit ? INT64_MAX :
		    open[i].opened + limit;
		if (end <= now) {
			zm_info("session %lld of %s: privileged session "
			    "limit reached", (long long)open[i].id,
			    open[i].user);
			if (k != i)
				open[k] = open[i];
			k++;
		} else if (end < *next) {
			*next = end;
		}
	}
	if (k > 0)
		r = zm_ending_start_list(d, open, k, "session_limit", en);
	free(open);
	return r;
}
