/*
 * fileperm.c - the daemon's own files must be its own.
 *
 * The audit log, the store (and SQLite's -wal and -shm beside it) and the
 * sealing key are checked before the daemon starts, and by -t: a store
 * another user can write lets them unlock anyone, a readable key with the
 * store gives every seed, a log writable by others is no evidence.  The
 * rule, for the euid of the daemon (root):
 *   key, store  regular file, owned by root or us, no group/other bits
 *   audit log   regular file, owned by root or us, not group/other writable
 *   directories owned by root or us, not group/other writable unless
 *               sticky (/tmp-like: others cannot replace our files)
 * A missing file is created by the daemon with a safe mode; a missing
 * directory fails at open.  Only each file's own directory is checked.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "fileperm.h"

#define SQLITE_SCHEME	"sqlite:"

enum kind { K_SECRET, K_LOG };

/* The owner of st may change the file: root or the daemon itself. */
static int
owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

static int
check_dir(const char *file, const char *what, struct zm_errlist *errs,
    struct zm_errlist *warns, int *bad)
{
	char		 buf[PATH_MAX];
	const char	*dir;
	struct stat	 st;
	unsigned	 mode;

	if (strlen(file) >= sizeof(buf))
		return zm_errlist_addf(errs, "%s: path too long", file);
	memcpy(buf, file, strlen(file) + 1);
	dir = dirname(buf);
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return ZM_OK;	/* the open says so, with the path */
		return zm_errlist_addf(warns, "%s: directory of the %s not "
		    "checked: %s", dir, what, strerror(errno));
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISDIR(st.st_mode)) {
		(*bad)++;
		return zm_errlist_addf(errs, "%s: not a directory", dir);
	}
	if (!owner_ok(&st)) {
		(*bad)++;
		return zm_errlist_addf(errs, "%s: directory of the %s is "
		    "owned by uid %lu, not root: others could replace it",
		    dir, what, (unsigned long)st.st_uid);
	}
	if ((mode & (S_IWGRP | S_IWOTH)) == 0 || (mode & S_ISVTX) != 0)
		return ZM_OK;
	(*bad)++;
	return zm_errlist_addf(errs, "%s: directory of the %s has mode %04o: "
	    "writable by group or others, who could replace it "
	    "(chmod go-w %s)", dir, what, mode, dir);
}

static int
check_file(const char *path, const char *what, enum kind kind,
    struct zm_errlist *errs, struct zm_errlist *warns, int *bad)
{
	struct stat	st;
	unsigned	mode;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return ZM_OK;	/* created by us, with a safe mode */
		return zm_errlist_addf(warns, "%s: %s not checked: %s", path,
		    what, strerror(errno));
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISREG(st.st_mode)) {
		(*bad)++;
		return zm_errlist_addf(errs, "%s: the %s is not a regular file%s",
		    path, what, S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
	}
	if (!owner_ok(&st)) {
		(*bad)++;
		return zm_errlist_addf(errs, "%s: the %s is owned by uid %lu, "
		    "not root", path, what, (unsigned long)st.st_uid);
	}
	if (kind == K_SECRET && (mode & 077) != 0) {
		(*bad)++;
		return zm_errlist_addf(errs, "%s: the %s has mode %04o: group "
		    "or others may read or write it (chmod 0600 %s)", path,
		    what, mode, path);
	}
	if (kind == K_LOG && (mode & (S_IWGRP | S_IWOTH)) != 0) {
		(*bad)++;
		return zm_errlist_addf(errs, "%s: the %s has mode %04o: "
		    "writable by group or others (chmod go-w %s)", path, what,
		    mode, path);
	}
	return ZM_OK;
}

static int
check_one(const char *path, const char *what, enum kind kind,
    struct zm_errlist *errs, struct zm_errlist *warns, int *bad)
{
	int r;

	if (path == NULL || path[0] != '/')
		return ZM_OK;	/* the configuration parser refuses these */
	if ((r = check_file(path, what, kind, errs, warns, bad)) != ZM_OK)
		return r;
	return check_dir(path, what, errs, warns, bad);
}

int
zm_files_check(const struct zm_config *cfg, struct zm_errlist *errs,
    struct zm_errlist *warns)
{
	static const char *const side[] = { "-wal", "-shm" };
	char		 p[PATH_MAX];
	const char	*db = NULL;
	size_t		 i;
	int		 bad = 0, n, r;

	if (cfg->store != NULL &&
	    strncmp(cfg->store, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		db = cfg->store + strlen(SQLITE_SCHEME);
	if ((r = check_one(cfg->key_file, "key file", K_SECRET, errs, warns,
	    &bad)) != ZM_OK ||
	    (r = check_one(db, "store", K_SECRET, errs, warns, &bad)) !=
	    ZM_OK ||
	    (r = check_one(cfg->audit_log, "audit log", K_LOG, errs, warns,
	    &bad)) != ZM_OK)
		return r;
	for (i = 0; db != NULL && i < sizeof(side) / sizeof(side[0]); i++) {
		n = snprintf(p, sizeof(p), "%s%s", db, side[i]);
		if (n < 0 || (size_t)n >= sizeof(p))
			continue;	/* db itself was checked */
		if ((r = check_file(p, "store", K_SECRET, errs, warns,
		    &bad)) != ZM_OK)
			return r;
	}
	return bad > 0 ? ZM_ERR_PERM : ZM_OK;
}
