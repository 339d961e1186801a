/*
 * server.h - the daemon's UNIX socket and event loop.
 */
#ifndef ZM_SERVER_H
#define ZM_SERVER_H

#include "tokend.h"

#define ZM_MAX_CLIENTS		1024
#define ZM_MAX_CLIENTS_PER_UID	64	/* non-root callers */
#define ZM_IDLE_MS		(30 * 1000)
#define ZM_CONV_IDLE_MS		(300 * 1000)	/* a PROMPT waits for a person */

/* Permission flags of the dispatch table. */
#define ZM_PERM_ANY		0x00u
#define ZM_PERM_STAFF		0x01u	/* root, helpdesk_group or admin_group */

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

#endif
