/*
 * zm-bench-once - one login in a fresh process, as login(1), su(1) and
 * sshd start one per login: zm-bench-login -X runs it once per login and
 * times fork to exit, so the cost of loading libpam and the modules (and
 * whatever they link) is in the figure.  It links libpam and libc only,
 * so it brings no library of its own that a module could share.
 *
 *   zm-bench-once CONFDIR SERVICE USER ANSWER [full]
 *
 * Exit 0 when the login succeeded (with "full": account, session open and
 * session close too), 1 when it was refused, 2 on usage errors.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	struct pam_response	*r;
	int			 i;

	if (n <= 0 || n > 32 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		if ((msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) &&
		    (r[i].resp = strdup(arg)) == NULL) {
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct pam_conv	 pc = { conv, NULL };
	pam_handle_t	*ph = NULL;
	int		 rc, full;

	if (argc != 5 && argc != 6)
		return 2;
	full = argc == 6 && strcmp(argv[5], "full") == 0;
	pc.appdata_ptr = argv[4];
	rc = pam_start_confdir(argv[2], argv[3], &pc, argv[1], &ph);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(ph, PAM_SILENT);
	if (rc == PAM_SUCCESS && full)
		rc = pam_acct_mgmt(ph, PAM_SILENT);
	if (rc == PAM_SUCCESS && full)
		rc = pam_open_session(ph, PAM_SILENT);
	if (rc == PAM_SUCCESS && full)
		rc = pam_close_session(ph, PAM_SILENT);
	pam_end(ph, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}
