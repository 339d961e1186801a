/*
 * limits.c - the sweep over the open sessions: which must end now.
 *
 * - Connection time is limited (R9, R13): every session of a zone ends
 *   when the zone's session_limit runs out, and a session opened by a
 *   member of the zone's privileged_groups (recorded at open) when the
 *   shorter of session_limit and privileged_session_limit does (reason
 *   session_limit).
 * - An idle session ends after the zone's idle_timeout (R13, reason
 *   idle_timeout), where logind reports idleness: only sessions
 *   registered with a logind session id (XDG_SESSION_ID), asked
 *   (IdleHint, IdleSinceHint) at each full sweep, so at most ZM_SWEEP_S
 *   late.  A session without a logind id has no idle time-out.
 * - A session whose token is no longer active, whose user is disabled or
 *   who is no longer allowed in the zone (allow_users, allow_groups) is
 *   ended (R5, zone access): zm_session_standing(), the one answer for
 *   session open and the sweep.  A revocation ends its sessions itself;
 *   the sweep is what makes that durable: a daemon killed between the
 *   registry and the ending finds them at start-up, and a revocation
 *   that arrives from elsewhere (another daemon sharing the registry,
 *   the offline revoke) is enforced within ZM_SWEEP_S.  A group lookup
 *   that fails (directory down) ends nothing: it is retried next sweep.
 *
 * Nothing is kept in memory: each sweep reads the open sessions back from
 * the store.  The loop (server.c) calls zm_limits_due() at start, at the
 * next deadline, at least every ZM_SWEEP_S and after every session open,
 * and drives the ending without blocking.  Sessions another ending is
 * already working on are left to it.
 */
#include <config.h>

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "policy.h"
#include "server.h"
#include "store.h"
#include "tokend.h"

#define ZM_SWEEP_S	60

/* loginctl show-session: a short wait, it runs inside the sweep. */
#define LOGINCTL_PATH		"/usr/bin/loginctl"
#define IDLE_QUERY_MS		2000
#define IDLE_OUT_MAX		512

/*
 * The output of `loginctl show-session --property=IdleHint
 * --property=IdleSinceHint -- ID` into out (NUL-terminated).
 */
static int
idle_query(const char *id, char *out, size_t outlen)
{
	char	 a0[] = "loginctl", a1[] = "show-session";
	char	 a2[] = "--property=IdleHint";
	char	 a3[] = "--property=IdleSinceHint", a4[] = "--", a5[64];
	char	*argv[] = { a0, a1, a2, a3, a4, a5, NULL };

	out[0] = '\0';
	if (!zm_logind_id_valid(id) || strlen(id) >= sizeof(a5))
		return ZM_ERR_INVALID;
	memcpy(a5, id, strlen(id) + 1);
	return zm_run_argv_io(LOGINCTL_PATH, argv, NULL, NULL, out, outlen,
	    IDLE_QUERY_MS);
}

static int64_t
idle_since(const struct zm_session *s)
{
	char	out[IDLE_OUT_MAX];
	int64_t	since = 0;
	int	r;

	if ((r = idle_query(s->logind_id, out, sizeof(out))) != ZM_OK ||
	    (r = zm_policy_idle_parse(out, &since)) != ZM_OK) {
		zm_debug("session %lld: logind idle state unknown: %s",
		    (long long)s->id, zm_strerror(r));
		return 0;
	}
	return since;
}

int
zm_limits_due(struct zm_tokend *d, int64_t now, int64_t *next,
    struct zm_ending **en)
{
	const struct zm_zone	*z;
	struct zm_session	*open = NULL;
	const char		*why, *why_idle;
	size_t			 n = 0, i, k = 0;
	int64_t			 end, since;
	int			 r, full;

	*next = INT64_MAX;
	*en = NULL;
	/*
	 * Token, user, zone access and idle states: at start-up and every
	 * ZM_SWEEP_S (a revocation ends its own sessions at once); the
	 * limits: whenever asked (after each session open, at the next
	 * deadline).
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
		    open[i].zone, open[i].token_id, open[i].close_reason,
		    sizeof(open[i].close_reason))) != ZM_OK) {
			if (r == ZM_ERR_UNAVAILABLE) {
				/* Cannot tell: the next sweep asks again. */
				zm_warn("session %lld of %s: zone access "
				    "unknown (group lookup failed)",
				    (long long)open[i].id, open[i].user);
				open[i].close_reason[0] = '\0';
			} else {
				zm_err("session sweep: %s", zm_strerror(r));
				free(open);
				return r;
			}
		}
		why = NULL;
		if (open[i].close_reason[0] == '\0' &&
		    (z = zm_config_zone(d->cfg, open[i].zone)) != NULL) {
			end = zm_policy_session_end(z, open[i].privileged,
			    open[i].opened, 0, &why);
			if (why != NULL && end > now) {
				if (end < *next)
					*next = end;
				why = NULL;
			}
			if (why == NULL && full && z->idle_timeout > 0 &&
			    open[i].logind_id[0] != '\0' &&
			    (since = idle_since(&open[i])) > 0 &&
			    zm_policy_session_end(z, open[i].privileged,
			    open[i].opened, since, &why_idle) <= now &&
			    why_idle != NULL)
				why = why_idle;
			if (why != NULL)
				snprintf(open[i].close_reason,
				    sizeof(open[i].close_reason), "%s", why);
		}
		if (open[i].close_reason[0] == '\0')
			continue;
		zm_notice("session %lld of %s: ending (%s)",
		    (long long)open[i].id, open[i].user,
		    open[i].close_reason);
		if (k != i)
			open[k] = open[i];
		k++;
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
