/*
 * ratelimit.c - per-uid connection caps and request rate (see ratelimit.h).
 *
 * A small chained hash table of the non-root uids that are connected, or
 * were lately: an entry outlives its last connection until its bucket is
 * full again, so reconnecting does not refill it.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "ratelimit.h"

#define NBUCKETS	256
#define MILLI		1000	/* the bucket counts thousandths of a token */
#define FULL		((int64_t)ZM_UID_BURST * MILLI)
#define WARN_EVERY_MS	10000	/* "too many connections": once per uid */

struct zm_uid {
	uid_t		 uid;
	unsigned	 nconn;
	int64_t		 tokens;	/* thousandths */
	int64_t		 at;		/* monotonic ms of tokens */
	int64_t		 warned;	/* monotonic ms of the last warning */
	struct zm_uid	*next;
};

struct zm_rate {
	struct zm_uid	*b[NBUCKETS];
	unsigned	 nonroot;	/* connections of non-root uids */
	unsigned	 max_nonroot;
};

int
zm_rate_new(unsigned max_nonroot, struct zm_rate **out)
{
	struct zm_rate *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ZM_ERR_NOMEM;
	s->max_nonroot = max_nonroot;
	*out = s;
	return ZM_OK;
}

void
zm_rate_free(struct zm_rate *s)
{
	struct zm_uid	*u;
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++) {
		while ((u = s->b[i]) != NULL) {
			s->b[i] = u->next;
			free(u);
		}
	}
	free(s);
}

/* Thousandths of a token u holds at now (the bucket refilled). */
static int64_t
tokens_at(const struct zm_uid *u, int64_t now)
{
	int64_t dt = now - u->at;

	if (dt <= 0)
		return u->tokens;
	/* No overflow: FULL is small, dt is capped before multiplying. */
	if (dt >= FULL / ZM_UID_RATE)
		return FULL;
	return u->tokens + dt * ZM_UID_RATE > FULL ? FULL :
	    u->tokens + dt * ZM_UID_RATE;
}

int
zm_rate_join(struct zm_rate *s, uid_t uid, int64_t now, struct zm_uid **out,
    int *warn)
{
	struct zm_uid	**pp, *u, *found = NULL;

	*out = NULL;
	*warn = 0;
	/* Find uid; on the way drop idle entries whose bucket is full. */
	pp = &s->b[uid % NBUCKETS];
	while ((u = *pp) != NULL) {
		if (u->uid == uid) {
			found = u;
			pp = &u->next;
		} else if (u->nconn == 0 && tokens_at(u, now) == FULL &&
		    now - u->warned >= WARN_EVERY_MS) {
			*pp = u->next;
			free(u);
		} else
			pp = &u->next;
	}
	if ((u = found) != NULL && u->nconn >= ZM_MAX_CLIENTS_PER_UID)
		goto full;
	if (s->nonroot >= s->max_nonroot) {
		if (u != NULL)
			goto full;
		/* Nobody to remember the warning by: warn at most this once. */
		return ZM_ERR_PERM;
	}
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return ZM_ERR_NOMEM;
		u->uid = uid;
		u->tokens = FULL;
		u->at = now;
		u->warned = now - WARN_EVERY_MS;	/* never warned */
		u->next = s->b[uid % NBUCKETS];
		s->b[uid % NBUCKETS] = u;
	}
	u->nconn++;
	s->nonroot++;
	*out = u;
	return ZM_OK;
 full:
	if (now - u->warned >= WARN_EVERY_MS) {
		u->warned = now;
		*warn = 1;
	}
	return ZM_ERR_PERM;
}

void
zm_rate_leave(struct zm_rate *s, struct zm_uid *u)
{
	if (s == NULL || u == NULL)
		return;
	/* The entry stays until its bucket is full: see zm_rate_join(). */
	if (u->nconn > 0)
		u->nconn--;
	if (s->nonroot > 0)
		s->nonroot--;
}

int
zm_rate_ready(const struct zm_uid *u, int64_t now, int64_t *wait_ms)
{
	int64_t t = tokens_at(u, now);

	*wait_ms = 0;
	if (t >= MILLI)
		return 1;
	*wait_ms = (MILLI - t + ZM_UID_RATE - 1) / ZM_UID_RATE;
	return 0;
}

int
zm_rate_take(struct zm_uid *u, int64_t now, int64_t *wait_ms)
{
	if (!zm_rate_ready(u, now, wait_ms))
		return 0;
	u->tokens = tokens_at(u, now) - MILLI;
	if (now > u->at)
		u->at = now;
	return 1;
}

unsigned
zm_rate_nonroot(const struct zm_rate *s)
{
	return s->nonroot;
}
