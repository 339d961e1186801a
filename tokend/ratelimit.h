/*
 * ratelimit.h - fair shares of the daemon for its callers (server.c).
 *
 * One unprivileged user must not be able to stall every login.  The loop
 * serves at most one request per connection per turn, root's connections
 * first; this module keeps the per-uid accounting that goes with it:
 *
 *   - connections: at most ZM_MAX_CLIENTS_PER_UID per non-root uid and
 *     ZM_MAX_CLIENTS_NONROOT for all non-root uids together, so that
 *     ZM_ROOT_RESERVE slots are always left for root (sshd, login, su);
 *   - requests: a token bucket per non-root uid (ZM_UID_RATE requests a
 *     second, bursts of ZM_UID_BURST).  A request over the rate is not
 *     dropped: it waits, buffered, until the uid has a token again (the
 *     daemon stops reading that connection meanwhile).
 *
 * Root is never limited here.  The daemon is single-threaded: no locking.
 */
#ifndef ZM_RATELIMIT_H
#define ZM_RATELIMIT_H

#include <sys/types.h>
#include <stdint.h>

#define ZM_ROOT_RESERVE		64	/* slots only root may use */
#define ZM_MAX_CLIENTS_PER_UID	32	/* connections of one non-root uid */
#define ZM_UID_RATE		20	/* requests/s of one non-root uid */
#define ZM_UID_BURST		40

struct zm_rate;
struct zm_uid;		/* one non-root uid's accounting */

int zm_rate_new(unsigned max_nonroot, struct zm_rate **out);
void zm_rate_free(struct zm_rate *s);

/*
 * A connection from non-root uid: ZM_OK with *out (hold it until
 * zm_rate_leave()), ZM_ERR_PERM when the uid or all non-root uids
 * together are at their cap (*warn: 1 if this is worth a log line, at most
 * one per uid every few seconds), ZM_ERR_NOMEM.
 */
int zm_rate_join(struct zm_rate *s, uid_t uid, int64_t now_ms,
    struct zm_uid **out, int *warn);
void zm_rate_leave(struct zm_rate *s, struct zm_uid *u);

/*
 * May u send a request now?  1: yes, a token is taken.  0: not yet, and
 * *wait_ms is when one will be there.
 */
int zm_rate_take(struct zm_uid *u, int64_t now_ms, int64_t *wait_ms);
/* As zm_rate_take() without taking the token. */
int zm_rate_ready(const struct zm_uid *u, int64_t now_ms, int64_t *wait_ms);

/* Connections of all non-root uids together. */
unsigned zm_rate_nonroot(const struct zm_rate *s);

#endif
