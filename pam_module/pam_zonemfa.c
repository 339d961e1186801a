/*
 * pam_zonemfa.c - the exported PAM entry points, and nothing else.
 *
 * All the work is in libzmpam.la (module.c) so that tests link exactly the
 * code that ships; the version script (export.map) keeps every other
 * symbol of the shared object local.
 */
#include <config.h>

#include <security/pam_modules.h>

#include "module.h"

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return zm_pam_authenticate(pamh, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return zm_pam_setcred(pamh, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return zm_pam_acct_mgmt(pamh, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return zm_pam_open_session(pamh, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return zm_pam_close_session(pamh, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	/* Tokens are changed with zonemfa-enroll, not through passwd(1). */
	return PAM_IGNORE;
}
