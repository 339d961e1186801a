/*
 * server.h - the daemon's UNIX socket and event loop.
 */
#ifndef ZM_SERVER_H
#define ZM_SERVER_H

#include "ratelimit.h"
#include "tokend.h"

/*
 * Limits (ratelimit.h has the per-uid ones): ZM_MAX_CLIENTS connections, of
 * which ZM_ROOT_RESERVE only root may use.  A connection is closed when
 * it sends no complete request for ZM_IDLE_MS after connecting or after
 * its last reply (ZM_CONV_IDLE_MS after a PROMPT: a human is typing), and
 * when a message is not complete ZM_MSG_MS after its first byte: sending
 * a byte now and then does not keep a connection open.
 */
#define ZM_MAX_CLIENTS		1024
#define ZM_MAX_CLIENTS_NONROOT	(ZM_MAX_CLIENTS - ZM_ROOT_RESERVE)
#define ZM_IDLE_MS		(30 * 1000)
#define ZM_CONV_IDLE_MS		(300 * 1000)	/* a PROMPT waits for a human */
#define ZM_MSG_MS		(10 * 1000)

/* Permission flags of the dispatch table. */
#define ZM_PERM_ANY		0x00u
#define ZM_PERM_STAFF		0x01u	/* root, helpdesk_group, admin_group */
#define ZM_PERM_GROUPS		0x02u	/* handler reads is_helpdesk/is_admin */
#define ZM_PERM_ADMIN		0x04u	/* root, admin_group (the audit log) */

/*
 * Create the listening socket at path: the parent directory is created
 * 0755 when missing, a stale socket is removed (anything else at path is
 * refused, as is a socket a live daemon still answers on), mode 0666.
 */
int zm_server_socket(const char *path, int *fd);

/*
 * Called from the loop for each signal number read from the self-pipe.
 * Returns non-zero to stop the loop.
 */
typedef int (*zm_signal_fn)(struct zm_tokend *d, int signo);

/*
 * Serve lfd until on_signal asks to stop.  sigfd is the non-blocking read
 * end of the self-pipe; each byte is a signal number.
 */
int zm_server_run(struct zm_tokend *d, int lfd, int sigfd,
    zm_signal_fn on_signal);

/*
 * Ending sessions without blocking the loop (session.c).  A session's
 * process that is told to hang up usually logs out first (its PAM module
 * sends SESSION_CLOSE to us), so the daemon must keep serving while it
 * waits: zm_ending_start() signals, the loop calls zm_ending_poll() until
 * it returns 1, then the sessions are closed in the store and audited.
 */
struct zm_ending;
/*
 * Sessions of user opened with any of token_ids (n_ids 0: any token), and
 * the shared account sessions user opened with them as a member.
 */
int zm_ending_start(struct zm_tokend *d, const char *user,
    const int64_t *token_ids, size_t n_ids, const char *reason,
    struct zm_ending **out);
/* These sessions (copied), e.g. those over their time limit. */
struct zm_session;
int zm_ending_start_list(struct zm_tokend *d, const struct zm_session *list,
    size_t n, const char *reason, struct zm_ending **out);
/* 1 when over; else 0 and *wait_ms until the next poll is useful. */
int zm_ending_poll(struct zm_ending *en, int64_t *wait_ms);
/* Poll until over, sleeping in between (nothing else is served). */
void zm_ending_wait(struct zm_ending *en);
void zm_ending_counts(const struct zm_ending *en, unsigned *ended,
    unsigned *failed);
void zm_ending_free(struct zm_ending *en);

/*
 * A reply that waits: for an ending (revoke, disable), or for what
 * df->poll() says is over (a login's security key).  The handler returns
 * 0 with *df set and no reply; when it is over the loop calls
 * df->finish() for the reply (not when the caller has gone) and then
 * df->free(), which also frees the ending.  finish() may leave an
 * authentication conversation that goes on in df->auth: the loop gives
 * it back to the connection.  A poll() job wakes the loop through
 * zm_fido_wake_fd().
 */
struct zm_deferred {
	struct zm_ending	*ending;
	/* 1 when over; else 0 and *wait_ms until it is worth asking again. */
	int	(*poll)(struct zm_deferred *, int64_t *wait_ms);
	struct zm_auth		*auth;
	int	(*finish)(struct zm_tokend *, struct zm_deferred *,
		    struct zm_buf *);
	void	(*free)(struct zm_deferred *);
};

/*
 * auth_fido2.c: a conversation that waits for its security key (after
 * zm_auth_begin() or zm_auth_answer() left it in *state with no reply)
 * is handed over as *df, *state NULL.  Otherwise *df NULL.
 */
void zm_auth_defer(struct zm_auth **state, struct zm_deferred **df);

/*
 * limits.c: the sweep.  Privileged sessions end when the zone's
 * privileged_session_limit runs out (R9); sessions whose token is no
 * longer active or whose user is disabled end (R5, durable across a
 * crash).  zm_limits_due() reads the open sessions from the store (so
 * this survives a restart), starts ending those due (*en, NULL when
 * none; each with its reason) and sets *next to the wall-clock second of
 * the next sweep (at most a minute away).
 */
int zm_limits_due(struct zm_tokend *d, int64_t now, int64_t *next,
    struct zm_ending **en);

/*
 * session.c: run path with argv (no shell, stdio on /dev/null, a minimal
 * environment), waiting up to timeout_ms (then SIGKILL).  ZM_OK only for
 * exit status 0.  zm_loginctl(): `loginctl VERB -- ID`.
 */
int zm_run_argv(const char *path, char *const argv[], unsigned timeout_ms);
int zm_loginctl(const char *verb, const char *id);
int zm_loginctl_kill(const char *id);	/* kill-session --signal=SIGKILL */
/* 1 if id may be a logind session id (digits, letters, '_'). */
int zm_logind_id_valid(const char *id);
/* ending.c: 1 if session id is being ended right now. */
int zm_ending_claimed(const struct zm_tokend *d, int64_t id);

/* admin.c: revoke and disable that leave the ending to the loop. */
int zm_admin_revoke_deferred(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply, struct zm_deferred **df);
/* admin_import.c: IMPORT (zonemfa-enroll import), leavers' sessions ending. */
int zm_admin_import_deferred(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply, struct zm_deferred **df);
int zm_admin_disable_deferred(struct zm_tokend *d,
    const struct zm_peer *peer, const struct zm_msg *req,
    struct zm_buf *reply, struct zm_deferred **df);

#endif
