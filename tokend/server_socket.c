/*
 * server_socket.c - the daemon's listening UNIX socket (server.h): made
 * under a temporary name and renamed into place, a stale socket removed,
 * a live daemon's left alone.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "server.h"

/* 1 if something accepts connections on sun (another daemon running). */
static int
socket_alive(const struct sockaddr_un *sun)
{
	int fd, alive;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return alive;
}

static int
parent_dir(const char *path)
{
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		*slash;
	struct stat	 st;

	/* path is shorter than sun_path: checked by the caller. */
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return ZM_OK;
	*slash = '\0';
	if (lstat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			zm_err("%s is not a directory", dir);
			return ZM_ERR_INVALID;
		}
		return ZM_OK;
	}
	if (errno != ENOENT) {
		zm_err("%s: %s", dir, strerror(errno));
		return ZM_ERR_IO;
	}
	/* The daemon runs with umask 077: set the mode explicitly. */
	if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0) {
		zm_err("mkdir %s: %s", dir, strerror(errno));
		return ZM_ERR_IO;
	}
	return ZM_OK;
}

/*
 * Remove a leftover socket at path; anything else there is refused.
 * check_alive: also refuse a socket some process still listens on.
 */
static int
remove_stale(const char *path, int check_alive)
{
	struct sockaddr_un	sun;
	struct stat		st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return ZM_OK;
		zm_err("%s: %s", path, strerror(errno));
		return ZM_ERR_IO;
	}
	/* Never remove a file that is not ours to remove. */
	if (!S_ISSOCK(st.st_mode)) {
		zm_err("%s exists and is not a socket", path);
		return ZM_ERR_EXISTS;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (check_alive && socket_alive(&sun)) {
		zm_err("%s: another daemon is listening there", path);
		return ZM_ERR_EXISTS;
	}
	if (unlink(path) != 0) {
		zm_err("unlink %s: %s", path, strerror(errno));
		return ZM_ERR_IO;
	}
	return ZM_OK;
}

int
zm_server_socket(const char *path, int *fdp)
{
	struct sockaddr_un	sun;
	char			final[sizeof(sun.sun_path)];
	int			fd = -1, bound = 0, n, r = ZM_ERR_INTERNAL;

	*fdp = -1;
	if (path == NULL || path[0] != '/' ||
	    strlen(path) >= sizeof(final)) {
		zm_err("socket path is not absolute or too long");
		return ZM_ERR_INVALID;
	}
	memcpy(final, path, strlen(path) + 1);
	/*
	 * Bind and listen under a temporary name, then rename: whoever
	 * waits for the path to appear finds a socket that already accepts.
	 */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.new", path);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		zm_err("socket path %s is too long", path);
		return ZM_ERR_INVALID;
	}
	if ((r = parent_dir(path)) != 0 ||
	    (r = remove_stale(final, 1)) != 0 ||
	    (r = remove_stale(sun.sun_path, 0)) != 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		zm_err("socket: %s", strerror(errno));
		return ZM_ERR_IO;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		zm_err("bind %s: %s", sun.sun_path, strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	bound = 1;
	/* Anyone may connect: authorisation is per request by SO_PEERCRED. */
	if (chmod(sun.sun_path, 0666) != 0 || listen(fd, SOMAXCONN) != 0 ||
	    rename(sun.sun_path, final) != 0) {
		zm_err("%s: %s", path, strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	bound = 0;
	*fdp = fd;
	fd = -1;
	r = ZM_OK;
 out:
	if (bound)
		unlink(sun.sun_path);
	if (fd != -1)
		close(fd);
	return r;
}
