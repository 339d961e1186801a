/*
 * test_dlsym.c - the built pam_zonemfa.so loads with every symbol resolved
 * and exports the PAM entry points only: the code it carries (config
 * parser, IPC codec, ...) must not be reachable or interposable from the
 * host program (STYLE.md; R14: use the OS's protection features).
 */
#include <config.h>

#include <dlfcn.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <security/pam_appl.h>

static const char *const exported[] = {
	"pam_sm_authenticate",
	"pam_sm_setcred",
	"pam_sm_acct_mgmt",
	"pam_sm_open_session",
	"pam_sm_close_session",
	"pam_sm_chauthtok",
};

/* A sample of every layer linked into the module. */
static const char *const internal[] = {
	"zm_pam_authenticate",		/* module.c */
	"zm_pam_open_session",
	"zm_message_format",		/* messages.c */
	"zm_messages_init",
	"zm_config_load",		/* common/conf.c */
	"zm_config_apply_args",
	"zm_config_free",
	"zm_duration_parse",
	"zm_ipc_connect",		/* common/ipc_client.c */
	"zm_ipc_recv",
	"zm_msg_begin",			/* common/ipc.c */
	"zm_msg_parse",
	"zm_buf_init",			/* common/buf.c */
	"zm_cur_get_u32",
	"zm_strfree",			/* common/wipe.c */
	"zm_ct_memcmp",
	"zm_log_raw",			/* common/log.c */
	"zm_strerror",			/* common/err.c */
};

static int
setup(void **state)
{
	const char	*top = getenv("top_builddir");
	char		 path[PATH_MAX];
	void		*h;
	int		 n;

	if (top == NULL)
		top = ".";
	n = snprintf(path, sizeof(path), "%s/pam_module/.libs/pam_zonemfa.so",
	    top);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	/* RTLD_NOW: an unresolved symbol must fail here, not at a login. */
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		print_error("dlopen %s: %s\n", path, dlerror());
		return -1;
	}
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	if (*state != NULL)
		(void)dlclose(*state);
	return 0;
}

static void
test_pam_sm_exported(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(exported) / sizeof(exported[0]); i++) {
		(void)dlerror();
		if (dlsym(*state, exported[i]) == NULL)
			fail_msg("%s not exported: %s", exported[i], dlerror());
	}
}

static void
test_internal_hidden(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
		(void)dlerror();
		if (dlsym(*state, internal[i]) != NULL)
			fail_msg("%s is exported", internal[i]);
		/* And dlsym says why: the symbol is not found at all. */
		assert_non_null(dlerror());
	}
}

static void
test_chauthtok_ignored(void **state)
{
	int	(*fn)(void *, int, int, const char **);
	void	*sym;

	/* No token is changed through passwd(1): the module stays out. */
	sym = dlsym(*state, "pam_sm_chauthtok");
	assert_non_null(sym);
	*(void **)&fn = sym;
	assert_int_equal(fn(NULL, 0, 0, NULL), PAM_IGNORE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pam_sm_exported),
		cmocka_unit_test(test_internal_hidden),
		cmocka_unit_test(test_chauthtok_ignored),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
