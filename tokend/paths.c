/*
 * paths.c - the directories the daemon writes in exist before it opens
 * anything there.
 *
 * Under the shipped unit systemd creates them (StateDirectory=,
 * LogsDirectory=).  Started by hand, the daemon creates what is missing
 * of the store's and the audit log's directories itself, with the modes
 * the unit would give, and otherwise says which path is the problem: a
 * "registry error" alone does not tell an administrator what to fix.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "tokend.h"

/* mkdir -p dir; the last component gets mode, the others 0755. */
static int
mkdirs(const char *dir, mode_t mode, char *why, size_t whylen)
{
	char		 p[4096];
	struct stat	 st;
	size_t		 i, len = strlen(dir);

	if (len == 0 || len >= sizeof(p) || dir[0] != '/') {
		snprintf(why, whylen, "%s: not an absolute path", dir);
		return ZM_ERR_CONFIG;
	}
	memcpy(p, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (stat(p, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				snprintf(why, whylen, "%s is not a directory", p);
				return ZM_ERR_CONFIG;
			}
		} else if (errno != ENOENT || (mkdir(p, 0700) != 0 &&
		    errno != EEXIST)) {
			snprintf(why, whylen, "cannot create directory %s: %s",
			    p, strerror(errno));
			return ZM_ERR_IO;
		} else if (errno != EEXIST &&
		    chmod(p, i == len ? mode : 0755) != 0) {
			/* mkdir() then chmod(): the daemon's umask is 077. */
			snprintf(why, whylen, "cannot set the mode of %s: %s",
			    p, strerror(errno));
			return ZM_ERR_IO;
		} else {
			zm_notice("created directory %s (mode %04o)", p,
			    (unsigned)(i == len ? mode : 0755));
		}
		if (i < len)
			p[i] = '/';
	}
	return ZM_OK;
}

int
zm_paths_prepare(const char *file, mode_t mode, char *why, size_t whylen)
{
	char	dir[4096];
	char	*slash;
	int	n;

	why[0] = '\0';
	n = snprintf(dir, sizeof(dir), "%s", file);
	if (n < 0 || (size_t)n >= sizeof(dir) || dir[0] != '/') {
		snprintf(why, whylen, "%s: not an absolute path", file);
		return ZM_ERR_CONFIG;
	}
	if ((slash = strrchr(dir, '/')) == dir)
		return ZM_OK;		/* in / */
	*slash = '\0';
	return mkdirs(dir, mode, why, whylen);
}
