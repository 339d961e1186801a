/*
 * limits.c - the sweep over the open sessions: which must end now.
 *
 * - Privileged connection time is limited (R9): a session opened by a
 *   member of the zone's privileged_groups (recorded at open) is ended
 *   when the zone's privileged_session_limit runs out.
 * - A session whose token is no longer active, or whose user is disabled,
 *   is ended (R5).  A revocation ends its sessions itself; the sweep is
 *   what makes that durable: a daemon killed between the registry and the
 *   ending finds them at start-up, and a revocation that arrives from
 *   elsewhere (another daemon sharing the registry, the offline revoke)
 *   is enforced within ZM_SWEEP_S.
 *
 * Nothing is kept in memory: each sweep reads the open sessions back from
 * the store.  The loop (server.c) calls zm_limits_due() at start, at the
 * next deadline, at least every ZM_SWEEP_S and after every session open,
 * and drives the ending without blocking.  Sessions another ending is
 * already working on are left to it.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tokend.h"

#define ZM_SWEEP_S	60

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
	int			 r, full;

	*next = INT64_MAX;
	*en = NULL;
	/*
	 * Token and user states: at start-up and every ZM_SWEEP_S (a
	 * revocation ends its own sessions at once); the limits: whenever
	 * asked (after each session open, at the next deadline).
	 */
	full = d->sweep_next == 0 || now >= d->sweep_next;
	if ((r = zm_store_sessions_open_list(d->st, NULL, 0, &open,
	    &n)) != 0) {
		zm_err("session limits: cannot list sessions: %s",
		    zm_strerror(r));
		return r;
	}
	/* Keep the sessions due at the front of the array. */
	for (i = 0; i < n; i++) {
		if (zm_ending_claimed(d, open[i].id))
			continue;
		open[i].close_reason[0] = '\0';
		if (full && (r = zm_session_standing(d, open[i].user,
		    open[i].token_id, open[i].close_reason,
		    sizeof(open[i].close_reason))) != ZM_OK) {
			zm_err("session sweep: %s", zm_strerror(r));
			free(open);
			return r;
		}
		if (open[i].close_reason[0] != '\0') {
			zm_notice("session %lld of %s: ending (%s)",
			    (long long)open[i].id, open[i].user,
			    open[i].close_reason);
			if (k != i)
				open[k] = open[i];
			k++;
			continue;
		}
		if ((limit = session_limit(d, &open[i])) == 0)
			continue;
		end = open[i].opened > INT64_MAX - limit ? INT64_MAX :
		    open[i].opened + limit;
		if (end <= now) {
			zm_info("session %lld of %s: privileged session "
			    "limit reached", (long long)open[i].id,
			    open[i].user);
			snprintf(open[i].close_reason,
			    sizeof(open[i].close_reason), "session_limit");
			if (k != i)
				open[k] = open[i];
			k++;
		} else if (end < *next) {
			*next = end;
		}
	}
	if (full)
		d->sweep_next = now + ZM_SWEEP_S;
	if (*next > d->sweep_next)
		*next = d->sweep_next;
	r = ZM_OK;
	if (k > 0)
		r = zm_ending_start_list(d, open, k, "session_limit", en);
	free(open);
	return r;
}
