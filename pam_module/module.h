/*
 * module.h - pam_zonemfa: a thin client of zonemfa-tokend.
 *
 * The daemon decides; the module carries the conversation between the
 * user and the daemon and maps the daemon's answer to a PAM code.  It fails
 * closed: any technical problem (configuration, daemon unreachable,
 * protocol, timeout, store) refuses, with one syslog line saying why.
 */
#ifndef ZM_MODULE_H
#define ZM_MODULE_H

#include <security/pam_modules.h>

/* How long to wait for each reply of the daemon. */
#define ZM_REPLY_TIMEOUT_MS	30000
/* Replies accepted for one request (INFO, PROMPT...) before giving up. */
#define ZM_MAX_REPLIES		64
/* Longest answer sent to the daemon; longer input cannot be a valid code. */
#define ZM_ANSWER_MAX		256
/* Largest banner file shown at session open. */
#define ZM_BANNER_MAX		4096

/* pam_get_data() names shared between the phases of one PAM handle. */
#define ZM_DATA_TICKET		"zonemfa_ticket"
#define ZM_DATA_LAST_LOGIN	"zonemfa_last_login"
/* The ticket in the PAM environment, for clients that split auth and session. */
#define ZM_ENV_TICKET		"ZONEMFA_TICKET"
#define ZM_DATA_SESSION_ID	"zonemfa_session_id"

int zm_pam_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv);
int zm_pam_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv);
int zm_pam_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
    const char **argv);
int zm_pam_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv);
int zm_pam_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv);

#endif
