/*
 * server.c - the UNIX socket, the poll() loop and the dispatch table.
 *
 * Requests are answered synchronously in the loop (every handler is a few
 * store calls).  Each request type has a row in the dispatch table with
 * its permission flags, checked here before the handler runs; the
 * finer rules (root may name any user, others only themselves; operators
 * never act on their own account) live in the handlers.  Callers are
 * identified once per connection from SO_PEERCRED.
 *
 * Fairness (one user must not stall every login): a turn of the loop
 * reads what has arrived, then serves at most one complete request per
 * connection, root's connections first, the others round-robin, each
 * non-root uid within its request rate (ratelimit.c).  A connection with a
 * request waiting is not read from, so a flood stays in its sender's
 * socket buffer, not in ours.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cardwatch.h"
#include "clock.h"
#include "err.h"
#include "fido2.h"
#include "ipc.h"
#include "log.h"
#include "server.h"
#include "tempcode.h"
#include "tokend.h"
#include "wipe.h"

#define IN_MAX		((size_t)ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY)
/* A LIST of everything; reading stops above OUT_HIGH of unsent replies. */
#define OUT_MAX		((size_t)64 * 1024 * 1024)
#define OUT_HIGH	((size_t)1024 * 1024)
#define OUT_KEEP	((size_t)64 * 1024)	/* free bigger output buffers */
#define ACCEPT_PAUSE_MS	100
#define ACCEPT_PER_TURN	64	/* connections accepted per loop turn */
#define WARN_EVERY_MS	10000
#define READ_CHUNK	((size_t)16 * 1024)
#define LIMIT_RETRY_S	30	/* a session over its limit would not end */

struct client {
	int		 fd;
	struct zm_peer	 peer;
	struct zm_buf	 in;
	struct zm_buf	 out;
	size_t		 out_off;	/* bytes of out already sent */
	struct zm_auth	*auth;		/* open conversation, or NULL */
	int64_t		 deadline;	/* monotonic ms: a request by then */
	int64_t		 msg_deadline;	/* the partial message in in by then */
	int		 ready;		/* in holds a complete request */
	int		 eof;		/* peer sent EOF: close once flushed */
	int		 dead;		/* close after this turn (an error) */
	struct job	*job;		/* a reply waits for it: busy */
	struct zm_uid	*acct;		/* non-root: its uid's share (ratelimit.c) */
};

/* A deferred reply: revoke, disable (sessions ending), a security key. */
struct job {
	struct zm_deferred	*df;
	struct client		*c;	/* NULL once the caller has gone */
	struct job		*next;
};

struct server {
	struct zm_tokend	*d;
	struct client		*cl[ZM_MAX_CLIENTS];
	size_t			 n;
	struct zm_buf		 reply;		/* this request's replies */
	int64_t			 accept_resume;	/* monotonic ms, 0: accepting */
	struct zm_rate		*sched;		/* per-uid limits */
	size_t			 rr;		/* round-robin start */
	int64_t			 full_warned;	/* monotonic ms */
	struct job		*jobs;
	/* R9: privileged session limits (limits.c) */
	int64_t			 limit_next;	/* wall clock s; 0: check now */
	struct zm_ending	*limit_en;	/* sessions being ended */
	/* R16: clock synchronisation (clock.c) */
	struct zm_clock		 clock;
	int64_t			 clock_next;	/* monotonic ms, 0: check now */
};

typedef int (*peer_fn)(struct zm_tokend *, const struct zm_peer *,
    const struct zm_msg *, struct zm_buf *);
typedef int (*conn_fn)(struct server *, struct client *,
    const struct zm_msg *, struct zm_buf *);
typedef int (*defer_fn)(struct zm_tokend *, const struct zm_peer *,
    const struct zm_msg *, struct zm_buf *, struct zm_deferred **);

struct handler {
	uint16_t	 type;
	const char	*name;		/* audit event name */
	unsigned	 perm;		/* ZM_PERM_* */
	peer_fn		 pfn;		/* one of pfn / cfn */
	conn_fn		 cfn;
};

/* ---- handlers that need the connection ---- */

static int
h_ping(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	return zm_reply_result(reply, ZM_ST_OK, ZM_MSG_NONE, 0, 0);
}

/* The caller's reply waits for df; the loop goes on serving. */
static int
job_add(struct server *s, struct client *c, struct zm_deferred *df)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		df->free(df);
		return ZM_ERR_NOMEM;
	}
	j->df = df;
	j->c = c;
	j->next = s->jobs;
	s->jobs = j;
	c->job = j;
	return ZM_OK;
}

/* A conversation that waits for a security key becomes a job. */
static int
auth_wait(struct server *s, struct client *c, int r)
{
	struct zm_deferred *df;

	if (r != ZM_OK)
		return r;
	zm_auth_defer(&c->auth, &df);
	return df != NULL ? job_add(s, c, df) : ZM_OK;
}

static int
h_auth_begin(struct server *s, struct client *c, const struct zm_msg *req,
    struct zm_buf *reply)
{
	return auth_wait(s, c, zm_auth_begin(s->d, &c->peer, req, &c->auth,
	    reply));
}

static int
h_auth_answer(struct server *s, struct client *c, const struct zm_msg *req,
    struct zm_buf *reply)
{
	/* An answer nobody asked for is a protocol violation. */
	if (c->auth == NULL)
		return ZM_ERR_PROTO;
	return auth_wait(s, c, zm_auth_answer(s->d, &c->auth, req, reply));
}

/*
 * Revoke and disable end sessions.  The loop goes on serving while they
 * end (a hung-up session logs out through us), and the reply follows.
 */
static int
h_deferred(struct server *s, struct client *c, const struct zm_msg *req,
    struct zm_buf *reply, defer_fn fn)
{
	struct zm_deferred	*df = NULL;
	struct job		*j;
	int			 r;

	if ((r = fn(s->d, &c->peer, req, reply, &df)) != 0 || df == NULL)
		return r;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		/* No memory to wait in the loop: wait here instead. */
		if (df->ending != NULL)
			zm_ending_wait(df->ending);
		r = df->finish(s->d, df, reply);
		df->free(df);
		return r;
	}
	j->df = df;
	j->c = c;
	j->next = s->jobs;
	s->jobs = j;
	c->job = j;
	return ZM_OK;
}

static int
h_revoke(struct server *s, struct client *c, const struct zm_msg *req,
    struct zm_buf *reply)
{
	return h_deferred(s, c, req, reply, zm_admin_revoke_deferred);
}

static int
h_disable(struct server *s, struct client *c, const struct zm_msg *req,
    struct zm_buf *reply)
{
	return h_deferred(s, c, req, reply, zm_admin_disable_deferred);
}

static int
h_import(struct server *s, struct client *c, const struct zm_msg *req,
    struct zm_buf *reply)
{
	return h_deferred(s, c, req, reply, zm_admin_import_deferred);
}

static const struct handler handlers[] = {
	{ ZM_REQ_PING, "ping", ZM_PERM_ANY, h_ping, NULL },
	{ ZM_REQ_AUTH_BEGIN, "auth", ZM_PERM_ANY, NULL, h_auth_begin },
	{ ZM_REQ_AUTH_ANSWER, "auth", ZM_PERM_ANY, NULL, h_auth_answer },
	{ ZM_REQ_ACCOUNT, "account", ZM_PERM_ANY, zm_account_check, NULL },
	{ ZM_REQ_PASSWORD_FAIL, "auth", ZM_PERM_ANY, zm_auth_password_fail,
	    NULL },
	{ ZM_REQ_SESSION_OPEN, "session_open", ZM_PERM_ANY,
	    zm_session_open_req, NULL },
	{ ZM_REQ_SESSION_CLOSE, "session_close", ZM_PERM_ANY,
	    zm_session_close_req, NULL },
	{ ZM_REQ_ENROLL_TOTP, "enrol", ZM_PERM_STAFF, zm_admin_enroll_totp,
	    NULL },
	{ ZM_REQ_LIST, "list", ZM_PERM_ANY | ZM_PERM_GROUPS, zm_admin_list, NULL },
	{ ZM_REQ_UNLOCK, "unlock", ZM_PERM_STAFF, zm_admin_unlock, NULL },
	{ ZM_REQ_DISABLE, "disable", ZM_PERM_STAFF, NULL, h_disable },
	{ ZM_REQ_ENABLE, "enable", ZM_PERM_STAFF, zm_admin_enable, NULL },
	{ ZM_REQ_REVOKE, "revoke", ZM_PERM_STAFF, NULL, h_revoke },
	{ ZM_REQ_USER_LIST, "user_list", ZM_PERM_STAFF, zm_admin_user_list,
	    NULL },
	{ ZM_REQ_AUDIT_HEAD, "audit_head", ZM_PERM_ADMIN, zm_admin_audit_head,
	    NULL },
	{ ZM_REQ_TEMP_CODE, "tempcode_issue", ZM_PERM_STAFF,
	    zm_admin_temp_code, NULL },
	{ ZM_REQ_TEMP_PASSWORD, "temp_password", ZM_PERM_STAFF,
	    zm_admin_temp_password, NULL },
	{ ZM_REQ_ENROLL_FIDO2, "enrol", ZM_PERM_STAFF, zm_admin_enroll_fido2,
	    NULL },
	{ ZM_REQ_ENROLL_CARD, "enrol", ZM_PERM_STAFF, zm_admin_enroll_card,
	    NULL },
	{ ZM_REQ_IMPORT, "import", ZM_PERM_STAFF, NULL, h_import },
};

static const struct handler *
handler_find(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (handlers[i].type == type)
			return &handlers[i];
	}
	return NULL;
}

static int
peer_is_staff(const struct zm_peer *p)
{
	return p->is_root || p->is_helpdesk || p->is_admin;
}

/* Queue the request's replies (in s->reply) on the connection. */
static int
reply_queue(struct server *s, struct client *c)
{
	struct zm_buf	tmp;
	int		r;

	if (c->out.len == 0) {
		/* The usual case: hand the buffer over instead of copying. */
		tmp = c->out;
		c->out = s->reply;
		s->reply = tmp;
		c->out_off = 0;
		return ZM_OK;
	}
	r = zm_buf_put(&c->out, s->reply.data, s->reply.len);
	zm_buf_reset(&s->reply);
	if (s->reply.cap > OUT_KEEP)
		zm_buf_free(&s->reply);
	return r;
}

static void
audit_refused(struct zm_tokend *d, const struct client *c,
    const struct handler *h, const struct zm_msg *req)
{
	char user[ZM_NAME_MAX] = "", reason[96];
	int  n;

	if (zm_msg_get_str(req, ZM_T_USER, user, sizeof(user)) != 0 ||
	    !zm_user_name_valid(user))
		user[0] = '\0';
	n = snprintf(reason, sizeof(reason), "caller uid %lu not permitted",
	    (unsigned long)c->peer.uid);
	if (n < 0 || (size_t)n >= sizeof(reason))
		strcpy(reason, "caller not permitted");
	/* Written records go to syslog with the audit; floods are counted. */
	zm_debug("%s refused: %s", h->name, reason);
	if (zm_audit_event(d->audit, h->name, user, NULL, "refused", reason,
	    NULL, c->peer.name, NULL, NULL, 0) != 0)
		zm_err("audit write failed");
}

/*
 * Run one request.  Returns 0 when a reply was queued, ZM_ERR_PROTO (or
 * another error) when the connection must be closed.
 */
static int
dispatch_one(struct server *s, struct client *c, const struct zm_msg *req)
{
	const struct handler	*h;
	struct zm_buf		*out = &s->reply;
	int			 r;

	if ((h = handler_find(req->type)) == NULL) {
		zm_warn("uid %lu: unknown request type 0x%x",
		    (unsigned long)c->peer.uid, req->type);
		return ZM_ERR_PROTO;
	}
	/* A conversation waits for its answer and nothing else. */
	if (c->auth != NULL && req->type != ZM_REQ_AUTH_ANSWER) {
		zm_warn("uid %lu: %s during an authentication conversation",
		    (unsigned long)c->peer.uid, h->name);
		return ZM_ERR_PROTO;
	}
	zm_debug("uid %lu pid %ld: %s (0x%x)", (unsigned long)c->peer.uid,
	    (long)c->peer.pid, h->name, req->type);
	zm_buf_reset(out);
	if ((h->perm & (ZM_PERM_STAFF | ZM_PERM_GROUPS | ZM_PERM_ADMIN)) != 0)
		zm_peer_load_groups(s->d->cfg, &c->peer);
	if (((h->perm & ZM_PERM_STAFF) != 0 && !peer_is_staff(&c->peer)) ||
	    ((h->perm & ZM_PERM_ADMIN) != 0 && !c->peer.is_root &&
	    !c->peer.is_admin)) {
		audit_refused(s->d, c, h, req);
		if ((r = zm_reply_result(out, ZM_ST_PERM,
		    ZM_MSG_NOT_PERMITTED, 0, 0)) != 0)
			return r;
		return reply_queue(s, c);
	}
	if (h->pfn != NULL)
		r = h->pfn(s->d, &c->peer, req, out);
	else
		r = h->cfn(s, c, req, out);
	/* A new session may carry an earlier deadline. */
	if (req->type == ZM_REQ_SESSION_OPEN)
		s->limit_next = 0;
	if (r == ZM_ERR_PROTO) {
		zm_warn("uid %lu: malformed %s request",
		    (unsigned long)c->peer.uid, h->name);
		zm_buf_reset(out);
		return r;
	}
	if (r == ZM_OK && c->job != NULL)
		return ZM_OK;		/* the reply follows the job */
	if (r == ZM_OK && out->len > 0)
		return reply_queue(s, c);
	if (r == ZM_OK)
		zm_err("%s: handler queued no reply", h->name);
	else
		zm_err("%s for uid %lu: %s", h->name,
		    (unsigned long)c->peer.uid, zm_strerror(r));
	/* Fail closed: whatever was half-built (maybe a secret) is wiped. */
	zm_buf_reset(out);
	if (c->auth != NULL) {
		zm_auth_abort(s->d, c->auth);
		c->auth = NULL;
	}
	if ((r = zm_reply_result(out, ZM_ST_INTERNAL, ZM_MSG_INTERNAL, 0,
	    0)) != 0)
		return r;
	return reply_queue(s, c);
}

/* Refusals of a non-root caller are coalesced in the audit (audit.h). */
static int
dispatch(struct server *s, struct client *c, const struct zm_msg *req)
{
	int r;

	zm_audit_caller(s->d->audit, !c->peer.is_root, c->peer.uid);
	r = dispatch_one(s, c, req);
	zm_audit_caller(s->d->audit, 0, 0);
	return r;
}

static void
in_consume(struct zm_buf *b, size_t n)
{
	size_t rest = b->len - n;

	if (rest > 0)
		memmove(b->data, b->data + n, rest);
	zm_wipe(b->data + rest, n);
	b->len = rest;
}

static int64_t
client_idle_ms(const struct client *c)
{
	return c->auth != NULL ? ZM_CONV_IDLE_MS : ZM_IDLE_MS;
}

/*
 * What is buffered: a complete request (ready), the start of one (its
 * deadline runs from now if it was not running), or nothing.
 */
static int
client_frame(struct client *c, int64_t now)
{
	size_t	flen;
	int	r;

	c->ready = 0;
	if (c->in.len == 0) {
		c->msg_deadline = 0;
		return ZM_OK;
	}
	if ((r = zm_msg_frame_len(c->in.data, c->in.len, &flen)) == ZM_OK) {
		c->ready = 1;
		return ZM_OK;
	}
	if (r != ZM_ERR_TRUNCATED) {
		zm_warn("uid %lu: bad message header: %s",
		    (unsigned long)c->peer.uid, zm_strerror(r));
		return ZM_ERR_PROTO;
	}
	if (c->msg_deadline == 0)
		c->msg_deadline = now + ZM_MSG_MS;
	return ZM_OK;
}

/* Serve the one complete request at the head of c->in. */
static int
client_serve(struct server *s, struct client *c, int64_t now)
{
	struct zm_msg	msg;
	size_t		flen;
	int		r;

	if ((r = zm_msg_frame_len(c->in.data, c->in.len, &flen)) != 0)
		return ZM_ERR_INTERNAL;		/* ready says otherwise */
	if ((r = zm_msg_parse(c->in.data, flen, &msg)) != 0) {
		zm_warn("uid %lu: bad message: %s",
		    (unsigned long)c->peer.uid, zm_strerror(r));
		return ZM_ERR_PROTO;
	}
	r = dispatch(s, c, &msg);
	/* The request may hold an answer (a code): wiped here. */
	in_consume(&c->in, flen);
	if (r != 0)
		return r;
	c->deadline = now + client_idle_ms(c);
	c->msg_deadline = 0;
	return client_frame(c, now);
}

/* Read what has arrived; requests are served later in the turn. */
static int
client_read(struct client *c, int64_t now)
{
	size_t	room = IN_MAX - c->in.len;
	ssize_t	n;
	int	r;

	/* Framing caps a message at IN_MAX, so a full buffer cannot happen. */
	if (room == 0)
		return ZM_ERR_TOOBIG;
	/* Grow with the data: 1024 idle clients need not hold 64 KiB each. */
	if (room > READ_CHUNK)
		room = READ_CHUNK;
	if ((r = zm_buf_reserve(&c->in, room)) != 0)
		return r;
	n = read(c->fd, c->in.data + c->in.len, room);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return ZM_OK;
		return ZM_ERR_IO;
	}
	if (n == 0) {
		c->eof = 1;
		return ZM_OK;
	}
	c->in.len += (size_t)n;
	/* No deadline moves here: only a complete request earns time. */
	return client_frame(c, now);
}

static int
client_flush(struct client *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return ZM_OK;
			return ZM_ERR_IO;
		}
		c->out_off += (size_t)n;
	}
	/* Replies may carry an enrolment URI: wipe once sent. */
	if (c->out.cap > OUT_KEEP)
		zm_buf_free(&c->out);
	else
		zm_buf_reset(&c->out);
	c->out_off = 0;
	return ZM_OK;
}

static void
client_free(struct server *s, struct client *c)
{
	if (c == NULL)
		return;
	if (c->auth != NULL)
		zm_auth_abort(s->d, c->auth);
	/* The ending goes on without anyone to tell. */
	if (c->job != NULL)
		c->job->c = NULL;
	zm_rate_leave(s->sched, c->acct);
	if (c->fd != -1)
		close(c->fd);
	zm_buf_free(&c->in);
	zm_buf_free(&c->out);
	zm_wipe(c, sizeof(*c));
	free(c);
}

static void
client_remove(struct server *s, size_t i)
{
	client_free(s, s->cl[i]);
	s->cl[i] = s->cl[--s->n];
	s->cl[s->n] = NULL;
	s->accept_resume = 0;
}

static void
accept_clients(struct server *s, int lfd, int64_t now)
{
	struct ucred	 cred;
	socklen_t	 clen;
	struct client	*c;
	struct zm_uid	*acct;
	int		 fd, warn, r, k;

	/* A bounded batch: a connection storm must not hold up the turn. */
	for (k = 0; s->n < ZM_MAX_CLIENTS; k++) {
		if (k == ACCEPT_PER_TURN)
			return;		/* the rest next turn */
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of fds or memory: back off, do not spin. */
			zm_err("accept: %s", strerror(errno));
			s->accept_resume = now + ACCEPT_PAUSE_MS;
			return;
		}
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &clen) != 0 || clen != sizeof(cred)) {
			zm_err("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		/* Root (the login programs) has slots nobody else may use. */
		acct = NULL;
		if (cred.uid != 0 && (r = zm_rate_join(s->sched, cred.uid,
		    now, &acct, &warn)) != 0) {
			if (r == ZM_ERR_PERM && warn)
				zm_warn("uid %lu: too many connections "
				    "(%d per user): refused",
				    (unsigned long)cred.uid,
				    ZM_MAX_CLIENTS_PER_UID);
			else if (r == ZM_ERR_PERM && (s->full_warned == 0 ||
			    now - s->full_warned >= WARN_EVERY_MS)) {
				s->full_warned = now;
				zm_warn("%d connections of non-root users: "
				    "refusing more (%d kept for root)",
				    ZM_MAX_CLIENTS_NONROOT, ZM_ROOT_RESERVE);
			}
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			zm_rate_leave(s->sched, acct);
			close(fd);
			s->accept_resume = now + ACCEPT_PAUSE_MS;
			return;
		}
		c->fd = fd;
		c->acct = acct;
		zm_buf_init(&c->in, IN_MAX);
		zm_buf_init(&c->out, OUT_MAX);
		/* Fail closed: a caller we cannot identify is not served. */
		if (zm_peer_identify(s->d->cfg, cred.uid, cred.gid, cred.pid,
		    &c->peer) != 0) {
			client_free(s, c);
			continue;
		}
		c->deadline = now + ZM_IDLE_MS;
		s->cl[s->n++] = c;
		zm_debug("connection from uid %lu (%s) pid %ld%s",
		    (unsigned long)cred.uid, c->peer.name, (long)cred.pid,
		    c->peer.is_root ? " root" : "");
	}
	if (s->accept_resume == 0)
		zm_warn("%d clients connected: not accepting more for now",
		    ZM_MAX_CLIENTS);
	s->accept_resume = now + ACCEPT_PAUSE_MS;
}

/* A finished job: its reply goes out and the caller may go on. */
static void
job_done(struct server *s, struct job *j, int64_t now)
{
	struct client	*c = j->c;
	size_t		 i;
	int		 r;

	if (c != NULL) {
		c->job = NULL;
		zm_buf_reset(&s->reply);
		if ((r = j->df->finish(s->d, j->df, &s->reply)) != 0) {
			zm_err("deferred reply: %s", zm_strerror(r));
			zm_buf_reset(&s->reply);
			r = zm_reply_result(&s->reply, ZM_ST_INTERNAL,
			    ZM_MSG_INTERNAL, 0, 0);
		}
		/* A conversation goes on (the key answered): its next step. */
		if (r == ZM_OK) {
			c->auth = j->df->auth;
			j->df->auth = NULL;
			r = auth_wait(s, c, reply_queue(s, c));
		}
		c->deadline = now + client_idle_ms(c);
		/* Requests that arrived meanwhile wait for the next turn. */
		if (r == ZM_OK)
			r = client_flush(c);
		if (r != ZM_OK) {
			for (i = 0; i < s->n && s->cl[i] != c; i++)
				;
			if (i < s->n)
				client_remove(s, i);
		}
	}
	j->df->free(j->df);
	free(j);
}

/* Drive the endings; returns ms until one needs looking at again. */
static int64_t
jobs_run(struct server *s, int64_t now)
{
	struct job	**pp = &s->jobs, *j;
	int64_t		  wait = INT64_MAX, w;

	while ((j = *pp) != NULL) {
		if (j->df->poll != NULL ? !j->df->poll(j->df, &w) :
		    j->df->ending != NULL && !zm_ending_poll(j->df->ending,
		    &w)) {
			if (w < wait)
				wait = w;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		job_done(s, j, now);
		/* job_done() may have started a job: look at all again. */
		pp = &s->jobs;
		wait = INT64_MAX;
	}
	return wait;
}

/*
 * R9: end privileged sessions over their limit.  One ending at a time;
 * when it is over the open sessions are read again.  Returns ms until
 * this needs looking at again.
 */
static int64_t
limits_run(struct server *s)
{
	int64_t		now = zm_now(), w;
	unsigned	ended, failed;

	if (s->limit_en != NULL) {
		if (!zm_ending_poll(s->limit_en, &w))
			return w;
		zm_ending_counts(s->limit_en, &ended, &failed);
		zm_ending_free(s->limit_en);
		s->limit_en = NULL;
		/*
		 * A session that could not be ended stays open (and is
		 * audited as such): try again later, not at once.
		 */
		s->limit_next = failed > 0 ? now + LIMIT_RETRY_S : 0;
	}
	if (s->limit_next != 0 && now < s->limit_next)
		return s->limit_next - now > INT64_MAX / 1000 ? INT64_MAX :
		    (s->limit_next - now) * 1000;
	if (zm_limits_due(s->d, now, &s->limit_next, &s->limit_en) != 0) {
		/* The store failed: try again in a while, not in a loop. */
		s->limit_next = now + 5;
		return 5000;
	}
	if (s->limit_en != NULL)
		return 0;
	return s->limit_next == INT64_MAX ? INT64_MAX :
	    (s->limit_next - now) * 1000;
}

/*
 * R16: ask the kernel about the clock at start and every
 * ZM_CLOCK_CHECK_S; the hourly repeat runs on the monotonic clock, the
 * wall clock being what is in doubt.  Returns ms until the next check.
 */
static int64_t
clock_run(struct server *s, int64_t now_ms)
{
	if (s->clock_next != 0 && now_ms < s->clock_next)
		return s->clock_next - now_ms;
	zm_clock_check(s->d, &s->clock, now_ms / 1000);
	s->clock_next = now_ms + ZM_CLOCK_CHECK_S * 1000;
	return ZM_CLOCK_CHECK_S * 1000;
}

/* Returns non-zero when a signal asked the loop to stop. */
static int
read_signals(struct zm_tokend *d, int sigfd, zm_signal_fn on_signal)
{
	unsigned char	sigs[64];
	ssize_t		n, i;
	int		stop = 0;

	for (;;) {
		n = read(sigfd, sigs, sizeof(sigs));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			if (on_signal != NULL && on_signal(d, sigs[i]) != 0)
				stop = 1;
	}
	return stop;
}

/*
 * I/O of one client after poll() and its deadlines; returns 0 to keep it,
 * else close.
 */
static int
client_event(struct client *c, short revents, int64_t now)
{
	int r;

	if ((revents & POLLOUT) != 0 && (r = client_flush(c)) != 0)
		return r;
	/* A client with a request waiting is not read: see the top. */
	if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !c->eof &&
	    !c->ready && (r = client_read(c, now)) != 0)
		return r;
	if (c->job != NULL || c->ready)
		return ZM_OK;	/* busy, or waiting for its turn: not idle */
	if (c->eof && c->out_off == c->out.len)
		return ZM_ERR_IO;	/* done: peer closed, nothing left */
	if (c->in.len > 0 && now >= c->msg_deadline) {
		zm_info("uid %lu: message not complete %d s after its "
		    "first byte: closed", (unsigned long)c->peer.uid,
		    ZM_MSG_MS / 1000);
		return ZM_ERR_TIMEOUT;
	}
	if (now >= c->deadline) {
		if (c->auth != NULL)
			zm_info("uid %lu: conversation timed out",
			    (unsigned long)c->peer.uid);
		else
			zm_debug("uid %lu: idle timeout",
			    (unsigned long)c->peer.uid);
		return ZM_ERR_TIMEOUT;
	}
	return ZM_OK;
}

/* May c's waiting request be served now?  Else *wait: ms until then. */
static int
client_servable(const struct client *c, int64_t now, int64_t *wait)
{
	*wait = INT64_MAX;
	if (!c->ready || c->dead || c->job != NULL ||
	    c->out.len - c->out_off >= OUT_HIGH)
		return 0;
	return c->acct == NULL || zm_rate_ready(c->acct, now, wait);
}

/*
 * One request from each client that has one waiting: root's first, then
 * the others from a start that moves on each turn.  Then the clients that
 * failed are closed.
 */
static void
serve_turn(struct server *s, int64_t now)
{
	struct client	*c;
	size_t		 n = s->n, k, i;
	int64_t		 w;
	int		 pass, r;

	for (pass = 0; pass < 2 && n > 0; pass++) {
		for (k = 0; k < n; k++) {
			c = s->cl[(s->rr + k) % n];
			if (c->peer.is_root != (pass == 0) ||
			    !client_servable(c, now, &w))
				continue;
			if (c->acct != NULL && !zm_rate_take(c->acct, now, &w))
				continue;
			if ((r = client_serve(s, c, now)) == ZM_OK)
				/* Answer at once: most replies fit. */
				r = client_flush(c);
			if (r != ZM_OK)
				c->dead = 1;
		}
	}
	s->rr = n > 0 ? (s->rr + 1) % n : 0;
	for (i = s->n; i-- > 0;)
		if (s->cl[i]->dead)
			client_remove(s, i);
}

int
zm_server_run(struct zm_tokend *d, int lfd, int sigfd, zm_signal_fn on_signal)
{
	struct server	*s;
	struct pollfd	*pfd = NULL;
	struct client	*c;
	struct job	*j;
	nfds_t		 npfd;
	int64_t		 now, wait, w;
	size_t		 i, nc;
	int		 listening, n, r = ZM_ERR_INTERNAL;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (pfd = calloc(ZM_MAX_CLIENTS + 4, sizeof(*pfd))) == NULL ||
	    zm_rate_new(ZM_MAX_CLIENTS_NONROOT, &s->sched) != 0) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	s->d = d;
	zm_buf_init(&s->reply, OUT_MAX);
	for (;;) {
		now = zm_mono_ms();
		wait = jobs_run(s, now);
		if ((w = limits_run(s)) < wait)
			wait = w;
		if ((w = zm_cardwatch_run(d->cardwatch)) < wait)
			wait = w;
		if ((w = clock_run(s, now)) < wait)
			wait = w;
		if ((w = zm_audit_tick(d->audit, now)) < wait)
			wait = w;
		if (s->accept_resume != 0 && now >= s->accept_resume)
			s->accept_resume = 0;
		pfd[0].fd = sigfd;
		pfd[0].events = POLLIN;
		listening = s->accept_resume == 0 && s->n < ZM_MAX_CLIENTS;
		pfd[1].fd = listening ? lfd : -1;
		pfd[1].events = POLLIN;
		if (s->accept_resume != 0 && s->accept_resume - now < wait)
			wait = s->accept_resume - now;
		nc = s->n;
		for (i = 0; i < nc; i++) {
			c = s->cl[i];
			pfd[i + 2].events = 0;
			pfd[i + 2].revents = 0;
			if (!c->eof && c->job == NULL && !c->ready &&
			    c->out.len - c->out_off < OUT_HIGH)
				pfd[i + 2].events |= POLLIN;
			if (c->out_off < c->out.len)
				pfd[i + 2].events |= POLLOUT;
			/* Nothing to wait for: not polled (no HUP spin). */
			pfd[i + 2].fd = pfd[i + 2].events != 0 ? c->fd : -1;
			if (client_servable(c, now, &w) || (c->eof &&
			    !c->ready && c->job == NULL &&
			    c->out_off == c->out.len))
				w = 0;		/* to serve, or to close */
			else if (c->job == NULL && !c->ready) {
				w = c->deadline - now;
				if (c->in.len > 0 && c->msg_deadline - now < w)
					w = c->msg_deadline - now;
			}
			if (w < wait)
				wait = w;
		}
		/* R4: the card watcher's events, after the clients. */
		pfd[nc + 2].fd = zm_cardwatch_fd(d->cardwatch);
		pfd[nc + 2].events = POLLIN;
		pfd[nc + 2].revents = 0;
		/* Security key jobs that are over. */
		pfd[nc + 3].fd = zm_fido_wake_fd(d->fido);
		pfd[nc + 3].events = POLLIN;
		pfd[nc + 3].revents = 0;
		npfd = (nfds_t)(nc + 4);
		if (wait < 0)
			wait = 0;	/* a deadline has passed */
		n = poll(pfd, npfd, wait == INT64_MAX ? -1 :
		    wait > INT_MAX ? INT_MAX : (int)wait);
		if (n < 0 && errno != EINTR) {
			zm_err("poll: %s", strerror(errno));
			r = ZM_ERR_IO;
			goto out;
		}
		if (n < 0) {
			/* A signal: its byte is in the pipe. */
			pfd[0].revents = POLLIN;
			pfd[1].revents = 0;
			for (i = 0; i < nc + 2; i++)
				pfd[i + 2].revents = 0;
		}
		if ((pfd[0].revents & POLLIN) != 0 &&
		    read_signals(d, sigfd, on_signal) != 0)
			break;
		if ((pfd[nc + 2].revents & POLLIN) != 0)
			zm_cardwatch_read(d->cardwatch);
		if ((pfd[nc + 3].revents & POLLIN) != 0)
			zm_fido_wake_read(d->fido);
		now = zm_mono_ms();
		/* Downwards, so removing index i (swap with last) is safe. */
		for (i = nc; i-- > 0;) {
			if (client_event(s->cl[i], pfd[i + 2].revents,
			    now) != 0)
				client_remove(s, i);
		}
		serve_turn(s, now);
		if (listening && (pfd[1].revents & POLLIN) != 0)
			accept_clients(s, lfd, now);
	}
	r = ZM_OK;
 out:
	if (s != NULL) {
		while (s->n > 0)
			client_remove(s, s->n - 1);
		/* Sessions being ended are ended, even on the way out. */
		while ((j = s->jobs) != NULL) {
			s->jobs = j->next;
			if (j->df->ending != NULL)
				zm_ending_wait(j->df->ending);
			j->df->free(j->df);
			free(j);
		}
		if (s->limit_en != NULL) {
			zm_ending_wait(s->limit_en);
			zm_ending_free(s->limit_en);
		}
		/* Refusals counted but not yet summed up are written now. */
		zm_audit_tick(d->audit, INT64_MAX);
		zm_buf_free(&s->reply);
		zm_rate_free(s->sched);
		free(s);
	}
	free(pfd);
	return r;
}

