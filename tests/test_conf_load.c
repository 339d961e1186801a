/*
 * test_conf_load.c - loading zonemfa.conf(5) from disk (unsafe mode, owner,
 * symbolic link, size cap, unreadable file) and the PAM module arguments
 * that override it.  R14: a configuration others can write is refused,
 * since whoever writes it can switch the second factor off.
 */
#include <config.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "err.h"

static void
test_apply_args(void **state)
{
	static const char	 text[] =
	    "[terminal]\nzone = mynumber\n[zone office]\n";
	struct zm_config	*c = NULL;
	struct zm_errlist	 e = { NULL, 0 };
	const char		*ok[] = { "conf=/etc/x.conf", "zone=lgwan",
	    "debug" };
	const char		*bad[] = { "zone=nosuch", "verbose",
	    "conf=/etc/y.conf" };
	const char		*office[] = { "zone=office" };
	/* A repeat is an error, never "the last one wins". */
	const char		*twice[] = { "zone=lgwan", "debug",
	    "zone=internet", "conf=/a", "debug", "conf=/b" };

	assert_int_equal(zm_config_parse("t.conf", text, strlen(text), &c,
	    &e), ZM_OK);
	assert_non_null(c);
	assert_int_equal(zm_config_apply_args(c, 3, ok, &e), ZM_OK);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->zone, "lgwan");	/* argument beats file */
	assert_int_equal(c->debug, 1);
	assert_int_equal(zm_config_apply_args(c, 3, bad, &e), ZM_ERR_CONFIG);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0], "zone=nosuch: no such zone");
	assert_string_equal(e.msg[1], "unknown module argument 'verbose'");
	zm_errlist_free(&e);
	/* A zone defined in the file is fine. */
	assert_int_equal(zm_config_apply_args(c, 1, office, &e), ZM_OK);
	assert_string_equal(c->zone, "office");
	assert_int_equal(zm_config_apply_args(c, 6, twice, &e),
	    ZM_ERR_CONFIG);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msg[0], "module argument 'zone=internet': "
	    "zone= given more than once");
	assert_string_equal(e.msg[1], "module argument 'debug': debug given "
	    "more than once");
	assert_string_equal(e.msg[2], "module argument 'conf=/b': conf= "
	    "given more than once");
	zm_errlist_free(&e);
	assert_int_equal(zm_config_apply_args(c, 0, NULL, &e), ZM_OK);
	zm_config_free(c);
}

static char tmpdir[PATH_MAX];

static int
setup_dir(void **state)
{
	const char	*t = getenv("TMPDIR");
	int		 n;

	n = snprintf(tmpdir, sizeof(tmpdir), "%s/test_conf.XXXXXX",
	    t != NULL ? t : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(tmpdir) || mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_dir(void **state)
{
	char	p[PATH_MAX + 32];
	int	n;

	n = snprintf(p, sizeof(p), "rm -rf '%s'", tmpdir);
	if (n < 0 || (size_t)n >= sizeof(p))
		return -1;
	return system(p) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
load_bad(const char *path, int want_r, const char *msg)
{
	struct zm_config	*c = NULL;
	struct zm_errlist	 e = { NULL, 0 };

	assert_int_equal(zm_config_load(path, &c, &e), want_r);
	assert_null(c);
	assert_int_equal(e.n, 1);
	/* File-level problems name the file, not a line. */
	assert_memory_equal(e.msg[0], path, strlen(path));
	assert_memory_equal(e.msg[0] + strlen(path), ": ", 2);
	if (strstr(e.msg[0], msg) == NULL)
		fprintf(stderr, "got '%s'\n", e.msg[0]);
	assert_non_null(strstr(e.msg[0], msg));
	zm_errlist_free(&e);
}

/* R14: a configuration others can write is refused. */
static void
test_load(void **state)
{
	static const char	 text[] = "[terminal]\nzone = lgwan\n";
	struct zm_config	*c = NULL;
	struct zm_errlist	 e = { NULL, 0 };
	char			 path[PATH_MAX + 64], link[PATH_MAX + 64];
	char			*big;

	assert_true(snprintf(path, sizeof(path), "%s/z.conf", tmpdir) > 0);
	assert_true(snprintf(link, sizeof(link), "%s/l.conf", tmpdir) > 0);

	write_file(path, text, strlen(text), 0644);
	assert_int_equal(zm_config_load(path, &c, &e), ZM_OK);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->path, path);
	assert_string_equal(c->zone, "lgwan");
	zm_config_free(c);

	assert_int_equal(chmod(path, 0666), 0);
	load_bad(path, ZM_ERR_CONFIG, "unsafe mode 0666");
	assert_int_equal(chmod(path, 0620), 0);
	load_bad(path, ZM_ERR_CONFIG, "writable by group or others");
	assert_int_equal(chmod(path, 0600), 0);

	if (geteuid() == 0) {
		assert_int_equal(chown(path, 4242, (gid_t)-1), 0);
		load_bad(path, ZM_ERR_CONFIG, "unsafe owner uid 4242");
		assert_int_equal(chown(path, 0, (gid_t)-1), 0);
	}

	assert_int_equal(symlink(path, link), 0);
	load_bad(link, ZM_ERR_CONFIG, "symbolic link");
	load_bad(tmpdir, ZM_ERR_CONFIG, "not a regular file");
	assert_int_equal(unlink(path), 0);
	load_bad(path, ZM_ERR_IO, "cannot open");

	/* Errors inside the file carry the file's own name. */
	write_file(path, "[tokend]\npcsc = x\n", 18, 0600);
	assert_int_equal(zm_config_load(path, &c, &e), ZM_ERR_CONFIG);
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_memory_equal(e.msg[0], path, strlen(path));
	assert_memory_equal(e.msg[0] + strlen(path), ":2: pcsc:", 9);
	zm_errlist_free(&e);

	/* Over 1 MiB is not a config file. */
	big = malloc(1024 * 1024 + 2);
	assert_non_null(big);
	memset(big, '\n', 1024 * 1024 + 1);
	write_file(path, big, 1024 * 1024 + 1, 0600);
	load_bad(path, ZM_ERR_CONFIG, "file too large");
	write_file(path, big, 1024 * 1024, 0600);
	assert_int_equal(zm_config_load(path, &c, &e), ZM_OK);
	zm_config_free(c);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_args),
		cmocka_unit_test_setup_teardown(test_load, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
