/*
 * auth_password.c - wrong passwords count (R13: an attempt limit).
 *
 * The password is checked by the module before pam_zonemfa in the stack
 * (pam_unix: "password = stack").  So that guessing it is limited like
 * guessing a code, the stack reports a wrong password here, the way
 * pam_faillock's authfail does:
 *
 *   auth  requisite                    pam_zonemfa.so preauth
 *   auth  [success=1 default=bad]      pam_unix.so
 *   auth  [default=die]                pam_zonemfa.so authfail
 *   auth  required                     pam_zonemfa.so
 *
 * preauth is the ACCOUNT check (a locked account is refused before the
 * password is even asked for); authfail sends ZM_REQ_PASSWORD_FAIL, which
 * counts one failure in the same per-user counter (one atomic store call,
 * exact under concurrency) and locks at the zone's limit.  A name with no
 * account is not counted (no registry row for every name a scanner tries)
 * but is audited, and gets the same generic reply.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_impl.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "policy.h"
#include "store.h"
#include "tokend.h"

int
zm_auth_password_fail(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *rep)
{
	const struct zm_zone	*z = NULL;
	struct zm_auth		*a;
	char			 service[64], tty[64], rhost[128];
	int			 r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ZM_ERR_NOMEM;
	if ((r = zm_auth_request_target(d, peer, req, "auth", a->user,
	    a->zone, &z, rep)) != 0) {
		r = r == 1 ? 0 : r;
		goto out;
	}
	if (zm_req_opt_text(req, ZM_T_SERVICE, service, sizeof(service)) != 0 ||
	    zm_req_opt_text(req, ZM_T_TTY, tty, sizeof(tty)) != 0 ||
	    zm_req_opt_text(req, ZM_T_RHOST, rhost, sizeof(rhost)) != 0) {
		r = zm_auth_reply_simple(rep, ZM_ST_INVALID, ZM_MSG_NONE);
		goto out;
	}
	zm_auth_origin(a, service, tty, rhost);
	a->proven = 0;
	if (!zm_user_exists(a->user)) {
		zm_auth_aud(d, a, z, "fail", "wrong password (no such account)",
		    0, "not counted");
		r = zm_auth_reply_simple(rep, ZM_ST_DENIED, ZM_MSG_AUTH_FAILED);
		goto out;
	}
	r = zm_auth_count_failure(d, a, z, "wrong password",
	    ZM_MSG_AUTH_FAILED, NULL, rep);
 out:
	zm_auth_free(a);
	return r;
}
