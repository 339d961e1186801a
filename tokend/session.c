/*
 * session.c - login sessions: registration from the PAM session phase
 * and logout (ending them is in ending.c), and running helper programs
 * without a shell.
 *
 * A session is registered with the token that opened it, which the auth
 * phase's ticket names: a revoked token ends it (R5).  So a session is
 * refused -- never opened without its token -- when the ticket is
 * unknown (expired, or lost to a daemon restart), presented by another
 * process than the one that authenticated (or its parent, as with sshd),
 * or names a token that is no longer active, and when the user is
 * disabled.  The process start time from /proc/PID/stat, recorded at
 * registration, guards against signalling a reused PID.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cardwatch.h"
#include "err.h"
#include "ipc.h"
#include "auth_impl.h"
#include "log.h"
#include "proc.h"
#include "store.h"
#include "server.h"
#include "tokend.h"
#include "wipe.h"

#define LOGINCTL_PATH		"/usr/bin/loginctl"
#define LOGINCTL_TIMEOUT_MS	5000

/* Decimal id for the audit log's token field ("" for none). */
void
zm_fmt_id(char *out, size_t outlen, int64_t id)
{
	int n;

	out[0] = '\0';
	if (id <= 0)
		return;
	n = snprintf(out, outlen, "%lld", (long long)id);
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';
}

/* A logind session id goes into an argv: digits, letters, '_' only. */
int
zm_logind_id_valid(const char *id)
{
	size_t i;

	if (id[0] == '\0' || strlen(id) >= 64)
		return 0;
	for (i = 0; id[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)id[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '_'))
			return 0;
	}
	return 1;
}

static void
child_close_fds(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || \
    (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	closefrom(3);
#else
	long fd, max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		close((int)fd);
#endif
}

/*
 * Read the child's standard output (fd) into out until EOF, a full buffer
 * or the deadline: ZM_OK or ZM_ERR_TIMEOUT / ZM_ERR_IO.  out is
 * NUL-terminated.
 */
static int
read_output(int fd, char *out, size_t outlen, int64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	int64_t		left;
	size_t		off = 0;
	ssize_t		n;
	int		r = ZM_OK;

	for (;;) {
		if (off == outlen - 1)
			break;
		if ((left = deadline - zm_mono_ms()) <= 0) {
			r = ZM_ERR_TIMEOUT;
			break;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			r = ZM_ERR_IO;
			break;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, out + off, outlen - 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	out[off] = '\0';
	return r;
}

int
zm_run_argv_io(const char *path, char *const argv[], char *const envp[],
    const char *input, char *out, size_t outlen, unsigned timeout_ms)
{
	char		 e0[] = "PATH=/usr/bin:/bin", e1[] = "LC_ALL=C";
	char		*def_envp[] = { e0, e1, NULL };
	sigset_t	 all, old;
	int64_t		 deadline;
	pid_t		 pid, w;
	int		 p[2] = { -1, -1 }, q[2] = { -1, -1 }, status = 0, fd;
	int		 r = ZM_OK;
	size_t		 off = 0, len = input != NULL ? strlen(input) : 0;
	ssize_t		 n;

	if (out != NULL) {
		if (outlen == 0)
			return ZM_ERR_INVALID;
		out[0] = '\0';
	}
	if (envp == NULL)
		envp = def_envp;
	if ((input != NULL && pipe2(p, O_CLOEXEC) != 0) ||
	    (out != NULL && pipe2(q, O_CLOEXEC) != 0)) {
		zm_err("pipe: %s", strerror(errno));
		for (fd = 0; fd < 2; fd++)
			if (p[fd] != -1)
				close(p[fd]);
		return ZM_ERR_IO;
	}
	/* No handler of ours may run in the child before exec. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if ((p[0] != -1 && dup2(p[0], 0) == -1) ||
		    (q[1] != -1 && dup2(q[1], 1) == -1))
			_exit(127);
		child_close_fds();
		execve(path, argv, envp);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (p[0] != -1)
		close(p[0]);
	if (q[1] != -1)
		close(q[1]);
	if (pid == -1) {
		zm_err("fork: %s", strerror(errno));
		if (p[1] != -1)
			close(p[1]);
		if (q[0] != -1)
			close(q[0]);
		return ZM_ERR_IO;
	}
	if (p[1] != -1) {
		/* Small input: it fits the pipe, the write does not block. */
		while (off < len) {
			n = write(p[1], input + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		close(p[1]);
	}
	deadline = zm_mono_ms() + timeout_ms;
	if (q[0] != -1) {
		r = read_output(q[0], out, outlen, deadline);
		close(q[0]);
	}
	while (r == ZM_OK && ((w = waitpid(pid, &status, WNOHANG)) == 0 ||
	    (w == -1 && errno == EINTR))) {
		if (zm_mono_ms() >= deadline) {
			r = ZM_ERR_TIMEOUT;
			break;
		}
		zm_sleep_ms(1);
	}
	if (r != ZM_OK) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		zm_err("%s: %s", path, r == ZM_ERR_TIMEOUT ? "timed out" :
		    "cannot read its output");
		return r;
	}
	if (w == -1) {
		zm_err("waitpid: %s", strerror(errno));
		return ZM_ERR_IO;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		zm_warn("%s: exit status %d", path,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return ZM_ERR_IO;
	}
	if (off != len) {
		zm_err("%s: standard input not fully written", path);
		return ZM_ERR_IO;
	}
	return ZM_OK;
}

int
zm_run_argv_input(const char *path, char *const argv[], char *const envp[],
    const char *input, unsigned timeout_ms)
{
	return zm_run_argv_io(path, argv, envp, input, NULL, 0, timeout_ms);
}

int
zm_run_argv(const char *path, char *const argv[], unsigned timeout_ms)
{
	return zm_run_argv_input(path, argv, NULL, NULL, timeout_ms);
}

/* `loginctl VERB -- ID` (terminate-session, lock-session), no shell. */
int
zm_loginctl(const char *verb, const char *id)
{
	char	 a0[] = "loginctl", a1[32], a2[] = "--", a3[64];
	char	*argv[] = { a0, a1, a2, a3, NULL };

	if (!zm_logind_id_valid(id) || strlen(verb) >= sizeof(a1))
		return ZM_ERR_INVALID;
	memcpy(a1, verb, strlen(verb) + 1);
	memcpy(a3, id, strlen(id) + 1);
	return zm_run_argv(LOGINCTL_PATH, argv, LOGINCTL_TIMEOUT_MS);
}

/* `loginctl kill-session --signal=SIGKILL -- ID`: every process of the scope. */
int
zm_loginctl_kill(const char *id)
{
	char	 a0[] = "loginctl", a1[] = "kill-session";
	char	 a2[] = "--signal=SIGKILL", a3[] = "--", a4[64];
	char	*argv[] = { a0, a1, a2, a3, a4, NULL };

	if (!zm_logind_id_valid(id))
		return ZM_ERR_INVALID;
	memcpy(a4, id, strlen(id) + 1);
	return zm_run_argv(LOGINCTL_PATH, argv, LOGINCTL_TIMEOUT_MS);
}

/* ---- SESSION_OPEN / SESSION_CLOSE ---- */

/* Optional string field: absent is "", too long or malformed is an error. */
int
zm_req_opt_text(const struct zm_msg *req, uint16_t tag, char *out, size_t outlen)
{
	size_t	i;
	int	r;

	out[0] = '\0';
	if ((r = zm_msg_get_str(req, tag, out, outlen)) == ZM_ERR_NOTFOUND)
		return ZM_OK;
	if (r != ZM_OK)
		return r;
	/* These end up in the audit log and in listings: no control bytes. */
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return ZM_ERR_INVALID;
	}
	return ZM_OK;
}

/* OK with the session id and, from the ticket, the previous login. */
static int
reply_session(struct zm_buf *reply, int64_t id,
    const struct zm_ticket_info *info, int have_info)
{
	struct zm_buf	m;
	int		r;

	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) == 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_SESSION_ID, (uint64_t)id)) == 0 &&
	    (!have_info ||
	    ((r = zm_msg_add_u64(&m, ZM_T_TIME,
	    (uint64_t)info->prev_success)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_TEXT2, info->prev_from)) == 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_TIME2,
	    (uint64_t)info->prev_logout)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT2, info->prev_failures)) == 0)) &&
	    (r = zm_msg_end(&m)) == 0)
		r = zm_reply_append(reply, &m);
	zm_buf_free(&m);
	return r;
}

int
zm_token_holds_session(const struct zm_token *t)
{
	/* A temporary code is spent by the very login it opens. */
	return t->state == ZM_TS_ACTIVE || (t->kind == ZM_TOK_TEMPCODE &&
	    t->state == ZM_TS_REVOKED && strcmp(t->revoke_reason, "used") == 0);
}

/*
 * The member behind a shared account's session: the owner of the token
 * that opened it when that is not the account itself ("" otherwise).
 */
static void
session_person(struct zm_tokend *d, const struct zm_session *s, char *out,
    size_t outlen)
{
	struct zm_token t;

	out[0] = '\0';
	if (s->token_id <= 0)
		return;
	memset(&t, 0, sizeof(t));
	if (zm_store_token_get(d->st, s->token_id, &t) == ZM_OK &&
	    strcmp(t.user, s->user) != 0)
		snprintf(out, outlen, "%s", t.user);
	zm_token_clear(&t);
}

/* A session that would run without what opened it: refused, audited. */
static int
refuse_open(struct zm_tokend *d, const struct zm_session *s,
    const char *why, int64_t token_id, int status, int msgid,
    struct zm_buf *reply)
{
	char token[32] = "";

	zm_fmt_id(token, sizeof(token), token_id);
	zm_notice("session of %s refused: %s", s->user, why);
	if (zm_audit_event(d->audit, "session_open", s->user, s->zone,
	    "refused", why, NULL, NULL, token, NULL, 0) != 0)
		zm_err("audit write failed");
	return zm_reply_result(reply, status, msgid, 0, 0);
}

int
zm_session_standing(struct zm_tokend *d, const char *user, const char *zone,
    int64_t token_id, char *why, size_t whylen)
{
	const struct zm_zone	*z;
	const struct zm_shared	*sh;
	struct zm_user_state	 us;
	struct zm_token		 t;
	int			 r;

	why[0] = '\0';
	if ((r = zm_store_user_get(d->st, user, &us)) == ZM_OK &&
	    us.disabled) {
		snprintf(why, whylen, "disabled");
		return ZM_OK;
	}
	if (r != ZM_OK && r != ZM_ERR_NOTFOUND)
		return r;
	/* Zone access: taken out of allow_groups since the login. */
	if (zone != NULL && (z = zm_config_zone(d->cfg, zone)) != NULL) {
		if ((r = zm_user_zone_access(user, z)) == ZM_ERR_PERM) {
			snprintf(why, whylen, "%s", ZM_ZONE_ACCESS_ENDED);
			return ZM_OK;
		}
		if (r != ZM_OK)
			return r;
	}
	if (token_id <= 0)
		return ZM_OK;
	memset(&t, 0, sizeof(t));
	r = zm_store_token_get(d->st, token_id, &t);
	if (r == ZM_OK && strcmp(t.user, user) != 0) {
		/*
		 * A shared account's session stands on the token of the
		 * member who opened it: while they are still a member and
		 * their own account is not disabled (a leaver's is).
		 */
		if ((sh = zm_config_shared(d->cfg, user)) == NULL)
			snprintf(why, whylen, "revoked:gone");
		else if (!zm_shared_member(sh, t.user))
			snprintf(why, whylen, "not-member");
		else if ((r = zm_store_user_get(d->st, t.user, &us)) ==
		    ZM_OK && us.disabled)
			snprintf(why, whylen, "disabled");
		else if (r != ZM_OK && r != ZM_ERR_NOTFOUND) {
			zm_token_clear(&t);
			return r;
		}
		if (why[0] != '\0') {
			zm_token_clear(&t);
			return ZM_OK;
		}
	}
	if (r == ZM_ERR_NOTFOUND)
		snprintf(why, whylen, "revoked:gone");
	else if (r != ZM_OK)
		return r;
	else if (!zm_token_holds_session(&t) &&
	    snprintf(why, whylen, "%s:%s", t.state == ZM_TS_REVOKED ?
	    "revoked" : zm_token_state_name(t.state),
	    t.revoke_reason[0] != '\0' ? t.revoke_reason : "-") < 0)
		snprintf(why, whylen, "revoked");
	zm_token_clear(&t);
	return ZM_OK;
}

/*
 * The token and user may still open a session: 0 to go on, 1 when
 * refused (reply appended), else a store error.
 */
static int
open_allowed(struct zm_tokend *d, const struct zm_session *s,
    struct zm_buf *reply, int *refused)
{
	char	state[32], why[64];
	int	r;

	*refused = 0;
	if ((r = zm_session_standing(d, s->user, s->zone, s->token_id, state,
	    sizeof(state))) != ZM_OK || state[0] == '\0')
		return r;
	*refused = 1;
	if (strcmp(state, "disabled") == 0)
		return refuse_open(d, s, "user disabled", s->token_id,
		    ZM_ST_DISABLED, ZM_MSG_DISABLED, reply);
	if (strcmp(state, ZM_ZONE_ACCESS_ENDED) == 0)
		return refuse_open(d, s, ZM_ZONE_DENIED_REASON, s->token_id,
		    ZM_ST_DENIED, ZM_MSG_ZONE_DENIED, reply);
	if (strcmp(state, "not-member") == 0)
		return refuse_open(d, s, "no longer a member of the shared "
		    "account", s->token_id, ZM_ST_DENIED, ZM_MSG_NOT_MEMBER,
		    reply);
	/* Revoked (or replaced, suspended) since the login: too late. */
	if (snprintf(why, sizeof(why), "token %.*s since the login (%s)",
	    (int)strcspn(state, ":"), state, state) < 0)
		why[0] = '\0';
	return refuse_open(d, s, why, s->token_id, ZM_ST_REVOKED,
	    ZM_MSG_TOKEN_REVOKED, reply);
}

static int
refuse(struct zm_tokend *d, const struct zm_peer *peer, const char *event,
    const char *user, const char *zone, struct zm_buf *reply)
{
	char reason[96];
	int  n;

	n = snprintf(reason, sizeof(reason), "caller uid %lu not permitted",
	    (unsigned long)peer->uid);
	if (n < 0 || (size_t)n >= sizeof(reason))
		strcpy(reason, "caller not permitted");
	zm_notice("%s for %s refused: %s", event, user, reason);
	if (zm_audit_event(d->audit, event, user, zone, "refused", reason,
	    NULL, peer->name, NULL, NULL, 0) != 0)
		zm_err("audit write failed");
	return zm_reply_result(reply, ZM_ST_PERM, ZM_MSG_NOT_PERMITTED, 0, 0);
}

/* 1 if /proc/PID belongs to uid (a non-root caller names only its own). */
static int
pid_owned_by(pid_t pid, uid_t uid)
{
	char		path[64];
	struct stat	st;
	int		n;

	n = snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0)
		return 0;
	return st.st_uid == uid;
}

int
zm_session_open_req(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_session	 s;
	struct zm_ticket_info	 info;
	struct zm_ticket_bind	 by;
	struct zm_proc		 before, now;
	const struct zm_zone	*z;
	char			 ticket[65], methods_s[64] = "";
	char			 token[32] = "", detail[192];
	char			 person[ZM_NAME_MAX];
	uint32_t		 pid32;
	int			 r, n, have_ticket = 0, refused;

	memset(&s, 0, sizeof(s));
	memset(&info, 0, sizeof(info));
	memset(&before, 0, sizeof(before));
	if (zm_msg_get_str(req, ZM_T_USER, s.user, sizeof(s.user)) != 0 ||
	    !zm_user_name_valid(s.user) ||
	    zm_msg_get_str(req, ZM_T_ZONE, s.zone, sizeof(s.zone)) != 0 ||
	    zm_req_opt_text(req, ZM_T_TTY, s.tty, sizeof(s.tty)) != 0 ||
	    zm_req_opt_text(req, ZM_T_RHOST, s.rhost, sizeof(s.rhost)) != 0 ||
	    zm_req_opt_text(req, ZM_T_SERVICE, s.service, sizeof(s.service)) != 0 ||
	    zm_req_opt_text(req, ZM_T_LOGIND_ID, s.logind_id,
	    sizeof(s.logind_id)) != 0)
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	if (s.logind_id[0] != '\0' && !zm_logind_id_valid(s.logind_id))
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	if (!peer->is_root && strcmp(peer->name, s.user) != 0)
		return refuse(d, peer, "session_open", s.user, s.zone, reply);
	if ((z = zm_config_zone(d->cfg, s.zone)) == NULL)
		return zm_reply_result(reply, ZM_ST_INVALID,
		    ZM_MSG_UNKNOWN_ZONE, 0, 0);

	r = zm_msg_get_u32(req, ZM_T_PID, &pid32);
	if (r == ZM_ERR_NOTFOUND)
		s.pid = (int32_t)peer->pid;
	else if (r != ZM_OK || pid32 <= 1 || pid32 > INT32_MAX)
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	else
		s.pid = (int32_t)pid32;
	/*
	 * Ending a session signals its processes as root: a non-root caller
	 * may only register a process of its own, and no logind session
	 * (it could name someone else's).
	 */
	if (!peer->is_root) {
		/* Start time before and after the owner check: no PID reuse. */
		if (zm_proc_read(s.pid, &before) != ZM_OK ||
		    !pid_owned_by(s.pid, peer->uid))
			return refuse(d, peer, "session_open", s.user, s.zone,
			    reply);
		if (s.logind_id[0] != '\0') {
			zm_notice("uid %lu: logind id ignored (not root)",
			    (unsigned long)peer->uid);
			s.logind_id[0] = '\0';
		}
		s.owner_uid = (int64_t)peer->uid;
	}

	/*
	 * The ticket: the login this session belongs to.  One that is
	 * presented but cannot be redeemed refuses the session -- opening
	 * it without its token would leave it beyond any revocation.
	 */
	r = zm_msg_get_str(req, ZM_T_TICKET, ticket, sizeof(ticket));
	if (r == ZM_OK) {
		zm_ticket_bind_peer(peer, &by);
		r = zm_ticket_take_at(d->tickets, ticket, s.user, &by,
		    zm_now(), &info);
		zm_wipe(ticket, sizeof(ticket));
		if (r == ZM_ERR_NOTFOUND || r == ZM_ERR_PERM)
			return refuse_open(d, &s, r == ZM_ERR_PERM ?
			    "login ticket presented by another process" :
			    "login ticket unknown or expired", 0, ZM_ST_DENIED,
			    ZM_MSG_LOGIN_EXPIRED, reply);
		if (r != ZM_OK)
			return r;
		have_ticket = 1;
		s.token_id = info.token_id;
	} else if (r != ZM_ERR_NOTFOUND) {
		zm_wipe(ticket, sizeof(ticket));
		return refuse_open(d, &s, "malformed login ticket", 0,
		    ZM_ST_INVALID, ZM_MSG_LOGIN_EXPIRED, reply);
	}
	if ((r = open_allowed(d, &s, reply, &refused)) != ZM_OK || refused)
		return r;

	if (zm_proc_read(s.pid, &now) != ZM_OK) {
		zm_warn("pid %ld: no start time; the session cannot be ended "
		    "by signal", (long)s.pid);
		now.start = 0;
	}
	s.pid_starttime = now.start;
	if (!peer->is_root && s.pid_starttime != before.start)
		return refuse(d, peer, "session_open", s.user, s.zone, reply);
	memcpy(s.terminal, d->cfg->terminal_name, sizeof(s.terminal));
	s.terminal[sizeof(s.terminal) - 1] = '\0';
	s.privileged = zm_user_privileged(s.user, z);
	s.opened = zm_now();
	if ((r = zm_store_session_open(d->st, &s)) != 0)
		return r;

	if (info.methods != 0)
		zm_methods_format(info.methods, methods_s, sizeof(methods_s));
	zm_fmt_id(token, sizeof(token), s.token_id);
	n = snprintf(detail, sizeof(detail), "session %lld pid %ld tty %s%s%s",
	    (long long)s.id, (long)s.pid, s.tty[0] ? s.tty : "-",
	    s.privileged ? " privileged" : "", s.logind_id[0] ?
	    " logind" : "");
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	session_person(d, &s, person, sizeof(person));
	if (zm_audit_event_person(d->audit, "session_open", s.user, person,
	    s.zone, "ok", s.rhost[0] ? s.rhost : "", methods_s, NULL, token,
	    detail, 0) != 0)
		zm_err("audit write failed");
	/* R4: a card pulled between the login and now. */
	zm_cardwatch_session_opened(d->cardwatch, &s);
	return reply_session(reply, s.id, &info, have_ticket);
}

int
zm_session_close_req(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_session	s;
	uint64_t		id;
	char			detail[64];
	int			r, n;

	if (zm_msg_get_u64(req, ZM_T_SESSION_ID, &id) != 0 || id == 0 ||
	    id > INT64_MAX)
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	r = zm_store_session_get(d->st, (int64_t)id, &s);
	if (r == ZM_ERR_NOTFOUND)
		return zm_reply_result(reply, ZM_ST_NOTFOUND, ZM_MSG_NONE, 0,
		    0);
	if (r != ZM_OK)
		return r;
	if (!peer->is_root && strcmp(peer->name, s.user) != 0)
		return refuse(d, peer, "session_close", s.user, s.zone, reply);
	/*
	 * A closed session drops out of revocation, card removal and the
	 * privileged time limit, so a non-root caller may close only the
	 * session its own process registered (login keeps the process that
	 * opened the session to close it), or one whose process is gone.
	 */
	if (!peer->is_root && s.closed == 0 && s.pid != (int32_t)peer->pid &&
	    s.pid > 1 && zm_proc_running(s.pid, s.pid_starttime))
		return refuse(d, peer, "session_close", s.user, s.zone, reply);
	/* Already ended (revocation, limit): the logout has nothing to do. */
	if (s.closed != 0)
		return zm_reply_result(reply, ZM_ST_OK, ZM_MSG_NONE, 0, 0);
	/*
	 * Being ended right now: sshd's monitor and su close their PAM
	 * session when the SIGHUP of the ending reaches them.  That is no
	 * logout; the ending closes the session with its own reason
	 * (revoked:..., disabled, session_limit) once every process is gone.
	 */
	if (zm_ending_claimed(d, s.id))
		return zm_reply_result(reply, ZM_ST_OK, ZM_MSG_NONE, 0, 0);
	if ((r = zm_store_session_close(d->st, s.id, zm_now(), "logout")) != 0)
		return r;
	n = snprintf(detail, sizeof(detail), "session %lld", (long long)s.id);
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	if (zm_audit_event(d->audit, "session_close", s.user, s.zone, "ok",
	    "logout", NULL, NULL, NULL, detail, 0) != 0)
		zm_err("audit write failed");
	return zm_reply_result(reply, ZM_ST_OK, ZM_MSG_NONE, 0, 0);
}
