/*
 * ipc_client.c - blocking transport with timeouts for the clients of
 * zonemfa-tokend (PAM module, tools).  The socket itself stays blocking;
 * every send/recv is MSG_DONTWAIT after poll(), so a stuck daemon can
 * never hold a login longer than the caller's timeout.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "wipe.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadline in monotonic ms, or -1 for none. */
static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		rem;
	int		t, n;

	for (;;) {
		t = -1;
		if (deadline >= 0) {
			rem = deadline - now_ms();
			t = rem <= 0 ? 0 : rem > INT_MAX ? INT_MAX : (int)rem;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, t)) < 0) {
			if (errno == EINTR)
				continue;
			return ZM_ERR_IO;
		}
		if (n == 0)
			return ZM_ERR_TIMEOUT;
		if (pfd.revents & POLLNVAL)
			return ZM_ERR_IO;
		/* POLLHUP / POLLERR: the read or write says what happened. */
		return ZM_OK;
	}
}

int
zm_ipc_connect(const char *path, int *fd)
{
	struct sockaddr_un	sa;
	struct ucred		cred;
	socklen_t		cl;
	size_t			len;
	int			s = -1, r = ZM_ERR_INTERNAL;

	if (path == NULL || fd == NULL)
		return ZM_ERR_INVALID;
	*fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((len = strlen(path)) == 0 || len >= sizeof(sa.sun_path))
		return ZM_ERR_INVALID;
	memcpy(sa.sun_path, path, len + 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return ZM_ERR_IO;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		switch (errno) {
		case ENOENT:
		case ENOTDIR:
		case ECONNREFUSED:
		case EACCES:
		case EPERM:
			r = ZM_ERR_UNAVAILABLE;
			break;
		default:
			r = ZM_ERR_IO;
			break;
		}
		goto out;
	}
	/*
	 * Only the real daemon may answer: root, or (test and development
	 * setups) our own uid.  A socket path in a writable place must not
	 * let anyone else say "OK" to a login.
	 */
	cl = sizeof(cred);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == -1 ||
	    cl != sizeof(cred) || (cred.uid != 0 && cred.uid != geteuid())) {
		zm_err("%s is not served by root: refusing it", path);
		r = ZM_ERR_UNAVAILABLE;
		goto out;
	}
	*fd = s;
	s = -1;
	r = ZM_OK;
 out:
	if (s != -1)
		(void)close(s);
	return r;
}

int
zm_ipc_send(int fd, const struct zm_buf *msg, int timeout_ms)
{
	int64_t	deadline = deadline_of(timeout_ms);
	size_t	off = 0;
	ssize_t	n;
	int	r;

	if (fd < 0 || msg == NULL || (msg->data == NULL && msg->len != 0))
		return ZM_ERR_INVALID;
	while (off < msg->len) {
		if ((r = wait_fd(fd, POLLOUT, deadline)) != ZM_OK)
			return r;
		/* MSG_NOSIGNAL: a vanished peer must not kill the caller. */
		n = send(fd, msg->data + off, msg->len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			if (errno == EPIPE || errno == ECONNRESET ||
			    errno == ENOTCONN)
				return ZM_ERR_UNAVAILABLE;
			return ZM_ERR_IO;
		}
		off += (size_t)n;
	}
	return ZM_OK;
}

/*
 * Read exactly n bytes.  End of stream before the first byte of a message
 * is the peer going away (UNAVAILABLE); later it is a cut message.
 */
static int
recv_exact(int fd, uint8_t *p, size_t n, int64_t deadline, int first)
{
	size_t	off = 0;
	ssize_t	k;
	int	r;

	while (off < n) {
		if ((r = wait_fd(fd, POLLIN, deadline)) != ZM_OK)
			return r;
		k = recv(fd, p + off, n - off, MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			if (errno != ECONNRESET)
				return ZM_ERR_IO;
			k = 0;
		}
		if (k == 0)
			return first && off == 0 ? ZM_ERR_UNAVAILABLE :
			    ZM_ERR_TRUNCATED;
		off += (size_t)k;
	}
	return ZM_OK;
}

int
zm_ipc_recv(int fd, struct zm_buf *body, struct zm_msg *m, int timeout_ms)
{
	uint8_t		hdr[ZM_IPC_HDR_LEN];
	int64_t		deadline = deadline_of(timeout_ms);
	uint32_t	blen = 0;
	uint16_t	type;
	int		r = ZM_ERR_INTERNAL;

	if (fd < 0 || body == NULL || m == NULL)
		return ZM_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	zm_buf_reset(body);
	if ((r = recv_exact(fd, hdr, sizeof(hdr), deadline, 1)) != ZM_OK ||
	    (r = zm_msg_parse_header(hdr, sizeof(hdr), &type, &blen)) != ZM_OK)
		return r;
	if (blen > 0) {
		if ((r = zm_buf_reserve(body, blen)) != ZM_OK)
			goto out;
		if ((r = recv_exact(fd, body->data, blen, deadline,
		    0)) != ZM_OK)
			goto out;
		body->len = blen;
	}
	r = zm_msg_parse_body(type, body->data, body->len, m);
 out:
	/* A cut or rejected message may still hold part of a secret. */
	if (r != ZM_OK) {
		if (body->data != NULL)
			zm_wipe(body->data, body->cap);
		body->len = 0;
	}
	return r;
}
