/*
 * cardwatch.h - card removal (R4).  A watcher thread with its own PC/SC
 * context waits in SCardGetStatusChange() on every reader and on
 * \\?PnP?\Notification (readers coming and going), and writes what it
 * sees to a pipe.  The daemon's event loop reads the pipe and makes every
 * decision: the thread decides nothing and touches no daemon state.
 *
 * A card login binds its token to the reader, the reader's card event
 * counter and the ATR seen at login (zm_cardwatch_bind()).  When that
 * card leaves (reader empty, counter moved on, reader gone) the open
 * sessions opened with the token get their zone's card_removal action:
 * lock (logind LockSession, else lock_command), logout (the session
 * ending path of revocation), none.  Each is audited as "card_removed".
 */
#ifndef ZM_CARDWATCH_H
#define ZM_CARDWATCH_H

#include <stdint.h>

struct zm_tokend;
struct zm_cardwatch;
struct zm_card_where;
struct zm_session;

/* Start the watcher thread (pcsc = yes). */
int zm_cardwatch_start(struct zm_tokend *d, struct zm_cardwatch **out);
/* Stop the thread, finish the logouts under way, free.  NULL is fine. */
void zm_cardwatch_stop(struct zm_cardwatch *w);
/* The pipe the loop polls for POLLIN (-1 for w NULL). */
int zm_cardwatch_fd(const struct zm_cardwatch *w);
/* POLLIN on the fd: read the events and act on them. */
void zm_cardwatch_read(struct zm_cardwatch *w);
/*
 * Drive the logouts and deadlines under way; returns ms until this needs
 * calling again (INT64_MAX: only when the fd is readable).
 */
int64_t zm_cardwatch_run(struct zm_cardwatch *w);
/* A card login with token_id succeeded with the card at where. */
void zm_cardwatch_bind(struct zm_cardwatch *w, int64_t token_id,
    const struct zm_card_where *where);
/*
 * A session was opened with token_id: if the card left between the login
 * and now, the removal action runs for it at once.
 */
void zm_cardwatch_session_opened(struct zm_cardwatch *w,
    const struct zm_session *s);
/* 1 while pcscd is reachable (bench, tests, logs). */
int zm_cardwatch_up(const struct zm_cardwatch *w);

#endif
