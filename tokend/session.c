/*
 * session.c - login sessions: registration from the PAM session phase,
 * logout, and ending sessions when their token is revoked or their user
 * disabled (R5).
 *
 * A session is ended through logind when the PAM module recorded a logind
 * session id, else by signalling the process that opened it: SIGHUP (what
 * a terminal hang-up does to login, sshd and shells), then SIGTERM after a
 * grace period.  The process start time from /proc/PID/stat, recorded at
 * registration, guards against signalling a reused PID.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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
#include "log.h"
#include "store.h"
#include "server.h"
#include "tokend.h"
#include "wipe.h"

#define LOGINCTL_PATH		"/usr/bin/loginctl"
#define LOGINCTL_TIMEOUT_MS	5000
#define POLL_MS			10
#define DEFAULT_GRACE_MS	2000

enum end_state { E_PENDING, E_SIGNALLED, E_ENDED, E_FAILED };

struct ending {
	struct zm_session	*s;
	int			 state;
	const char		*why;	/* failure reason for the audit log */
};

/* Decimal id for the audit log's token field ("" for none). */
static void
fmt_id(char *out, size_t outlen, int64_t id)
{
	int n;

	out[0] = '\0';
	if (id <= 0)
		return;
	n = snprintf(out, outlen, "%lld", (long long)id);
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Read the state (field 3) and start time (field 22) of pid from
 * /proc/PID/stat.  The command name (field 2) is chosen by the process
 * and may hold spaces or ')': parsing resumes after the last ')'.
 * ZM_ERR_NOTFOUND when there is no such process.
 */
static int
proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char			 path[64], buf[2048], *p, *end;
	unsigned long long	 v;
	ssize_t			 len;
	int			 fd, n, field;

	n = snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ZM_ERR_INTERNAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? ZM_ERR_NOTFOUND : ZM_ERR_IO;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)	/* ESRCH: exited between open and read */
		return len == 0 || errno == ESRCH ? ZM_ERR_NOTFOUND : ZM_ERR_IO;
	buf[len] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return ZM_ERR_INVALID;
	p += 2;
	*state = *p;
	for (field = 3; field < 22; field++) {
		if ((p = strchr(p, ' ')) == NULL)
			return ZM_ERR_INVALID;
		p++;
	}
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno != 0 || end == p || (*end != ' ' && *end != '\n' &&
	    *end != '\0'))
		return ZM_ERR_INVALID;
	*start = v;
	return ZM_OK;
}

/*
 * 1 if pid is still the process registered with start time start; 0 if it
 * is gone (exited, a zombie, or the PID now names another process).  A
 * process that cannot be checked counts as still there.
 */
static int
proc_running(pid_t pid, uint64_t start)
{
	uint64_t	now_start;
	char		state;
	int		r;

	r = proc_stat(pid, &state, &now_start);
	if (r == ZM_ERR_NOTFOUND)
		return 0;
	if (r != ZM_OK)
		return 1;
	if (state == 'Z' || state == 'X' || now_start != start)
		return 0;
	return 1;
}

/* A logind session id goes into an argv: digits, letters, '_' only. */
static int
logind_id_valid(const char *id)
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

int
zm_run_argv_input(const char *path, char *const argv[], char *const envp[],
    const char *input, unsigned timeout_ms)
{
	char		 e0[] = "PATH=/usr/bin:/bin", e1[] = "LC_ALL=C";
	char		*def_envp[] = { e0, e1, NULL };
	sigset_t	 all, old;
	int64_t		 deadline;
	pid_t		 pid, w;
	int		 p[2] = { -1, -1 }, status = 0, fd;
	size_t		 off = 0, len = input != NULL ? strlen(input) : 0;
	ssize_t		 n;

	if (envp == NULL)
		envp = def_envp;
	if (input != NULL && pipe2(p, O_CLOEXEC) != 0) {
		zm_err("pipe: %s", strerror(errno));
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
		if (p[0] != -1 && dup2(p[0], 0) == -1)
			_exit(127);
		child_close_fds();
		execve(path, argv, envp);
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (p[0] != -1)
		close(p[0]);
	if (pid == -1) {
		zm_err("fork: %s", strerror(errno));
		if (p[1] != -1)
			close(p[1]);
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
	deadline = mono_ms() + timeout_ms;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 ||
	    (w == -1 && errno == EINTR)) {
		if (mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
				;
			zm_err("%s: timed out", path);
			return ZM_ERR_TIMEOUT;
		}
		sleep_ms(1);
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

	if (!logind_id_valid(id) || strlen(verb) >= sizeof(a1))
		return ZM_ERR_INVALID;
	memcpy(a1, verb, strlen(verb) + 1);
	memcpy(a3, id, strlen(id) + 1);
	return zm_run_argv(LOGINCTL_PATH, argv, LOGINCTL_TIMEOUT_MS);
}

/* First step for one session: logind, or SIGHUP to its process. */
static void
end_start(struct ending *e)
{
	struct zm_session *s = e->s;

	if (s->logind_id[0] != '\0' &&
	    zm_loginctl("terminate-session", s->logind_id) == 0) {
		e->state = E_ENDED;
		return;
	}
	/* No logind (or it failed): fall back to the recorded process. */
	if (s->pid <= 1) {
		e->state = E_FAILED;
		e->why = "no process recorded";
		return;
	}
	if (s->pid_starttime == 0) {
		/* Unverifiable PID: never signal what may be someone else. */
		if (kill(s->pid, 0) == -1 && errno == ESRCH) {
			e->state = E_ENDED;
		} else {
			e->state = E_FAILED;
			e->why = "process start time unknown";
		}
		return;
	}
	if (!proc_running(s->pid, s->pid_starttime)) {
		e->state = E_ENDED;	/* already gone */
		return;
	}
	if (kill(s->pid, SIGHUP) == -1) {
		if (errno == ESRCH) {
			e->state = E_ENDED;
		} else {
			zm_err("kill %ld: %s", (long)s->pid, strerror(errno));
			e->state = E_FAILED;
			e->why = "cannot signal the session process";
		}
		return;
	}
	e->state = E_SIGNALLED;
}

struct zm_ending {
	struct zm_tokend	*d;
	char			 reason[32];
	struct zm_session	*list;
	struct ending		*e;
	size_t			 n;
	int			 term_sent;	/* SIGTERM phase */
	int			 done;
	int64_t			 deadline;	/* monotonic ms */
	unsigned		 grace;
	unsigned		 ended, failed;
};

static void
end_term(struct zm_ending *en)
{
	struct ending	*e = en->e;
	size_t		 i;

	for (i = 0; i < en->n; i++) {
		if (e[i].state != E_SIGNALLED)
			continue;
		/* Re-check right before the signal: the PID may be reused. */
		if (!proc_running(e[i].s->pid, e[i].s->pid_starttime))
			e[i].state = E_ENDED;
		else if (kill(e[i].s->pid, SIGTERM) == -1 && errno == ESRCH)
			e[i].state = E_ENDED;
	}
}

static void
end_audit(struct zm_tokend *d, const struct ending *e, const char *reason)
{
	const struct zm_session	*s = e->s;
	char			 token[32] = "", detail[160];
	int			 n;

	fmt_id(token, sizeof(token), s->token_id);
	if (s->logind_id[0] != '\0')
		n = snprintf(detail, sizeof(detail),
		    "session %lld logind %s pid %ld%s%s",
		    (long long)s->id, s->logind_id, (long)s->pid,
		    e->why ? ": " : "", e->why ? e->why : "");
	else
		n = snprintf(detail, sizeof(detail), "session %lld pid %ld%s%s",
		    (long long)s->id, (long)s->pid, e->why ? ": " : "",
		    e->why ? e->why : "");
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	if (zm_audit_event(d->audit, "session_end", s->user, s->zone,
	    e->state == E_ENDED ? "ok" : "fail", reason, NULL, NULL, token,
	    detail, 1) != 0)
		zm_err("audit write failed");
}

/* Close what ended in the store, audit every session, count. */
static void
end_finish(struct zm_ending *en)
{
	struct zm_session	 now_s;
	struct ending		*e;
	size_t			 i;
	int			 r;

	for (i = 0; i < en->n; i++) {
		e = &en->e[i];
		if (e->state == E_SIGNALLED) {
			e->state = E_FAILED;
			e->why = "process did not exit";
		}
		/*
		 * A session that could not be ended stays open in the store:
		 * it is still running, and the caller reports it (PARTIAL).
		 * One that logged out on the signal is already closed.
		 */
		if (e->state == E_ENDED &&
		    ((r = zm_store_session_get(en->d->st, e->s->id,
		    &now_s)) != 0 || (now_s.closed == 0 &&
		    (r = zm_store_session_close(en->d->st, e->s->id, zm_now(),
		    en->reason)) != 0))) {
			zm_err("session %lld: close: %s", (long long)e->s->id,
			    zm_strerror(r));
			e->state = E_FAILED;
			e->why = "store error";
		}
		end_audit(en->d, e, en->reason);
		if (e->state == E_ENDED)
			en->ended++;
		else
			en->failed++;
		zm_info("session %lld of %s: %s (%s)", (long long)e->s->id,
		    e->s->user, e->state == E_ENDED ? "ended" : "NOT ended",
		    en->reason);
	}
	en->done = 1;
}

int
zm_ending_poll(struct zm_ending *en, int64_t *wait_ms)
{
	int64_t	now = mono_ms();
	size_t	i, left = 0;

	*wait_ms = 0;
	if (en->done)
		return 1;
	for (i = 0; i < en->n; i++) {
		if (en->e[i].state != E_SIGNALLED)
			continue;
		if (proc_running(en->e[i].s->pid, en->e[i].s->pid_starttime))
			left++;
		else
			en->e[i].state = E_ENDED;
	}
	if (left > 0 && now >= en->deadline && !en->term_sent) {
		end_term(en);
		en->term_sent = 1;
		en->deadline = now + en->grace;
	} else if (left == 0 || now >= en->deadline) {
		end_finish(en);
		return 1;
	}
	*wait_ms = en->deadline - now < POLL_MS ? en->deadline - now :
	    POLL_MS;
	return 0;
}

void
zm_ending_counts(const struct zm_ending *en, unsigned *ended,
    unsigned *failed)
{
	*ended = en != NULL ? en->ended : 0;
	*failed = en != NULL ? en->failed : 0;
}

void
zm_ending_free(struct zm_ending *en)
{
	if (en == NULL)
		return;
	free(en->e);
	free(en->list);
	free(en);
}

/* Append the open sessions of user opened with token_id to en->list. */
static int
end_collect(struct zm_ending *en, const char *user, int64_t token_id)
{
	struct zm_session	*more = NULL, *nl;
	size_t			 n = 0;
	int			 r;

	if ((r = zm_store_sessions_open_list(en->d->st, user, token_id,
	    &more, &n)) != 0) {
		zm_err("cannot list sessions: %s", zm_strerror(r));
		return r;
	}
	if (n > 0) {
		nl = reallocarray(en->list, en->n + n, sizeof(*nl));
		if (nl == NULL) {
			free(more);
			return ZM_ERR_NOMEM;
		}
		en->list = nl;
		memcpy(en->list + en->n, more, n * sizeof(*nl));
		en->n += n;
	}
	free(more);
	return ZM_OK;
}

int
zm_ending_start(struct zm_tokend *d, const char *user,
    const int64_t *token_ids, size_t n_ids, const char *reason,
    struct zm_ending **out)
{
	struct zm_ending	*en;
	size_t			 i;
	int			 r = ZM_ERR_INTERNAL;

	*out = NULL;
	if ((en = calloc(1, sizeof(*en))) == NULL)
		return ZM_ERR_NOMEM;
	en->d = d;
	snprintf(en->reason, sizeof(en->reason), "%s", reason);
	en->grace = d->end_grace_ms != 0 ? d->end_grace_ms : DEFAULT_GRACE_MS;
	if (n_ids == 0)
		r = end_collect(en, user, 0);
	for (i = 0; i < n_ids; i++)
		if ((r = end_collect(en, user, token_ids[i])) != 0)
			break;
	if (r != ZM_OK)
		goto out;
	if (en->n > 0 && (en->e = calloc(en->n, sizeof(*en->e))) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	/* All at once, so n sessions take one grace period, not n. */
	for (i = 0; i < en->n; i++) {
		en->e[i].s = &en->list[i];
		end_start(&en->e[i]);
	}
	en->deadline = mono_ms() + en->grace;
	*out = en;
	en = NULL;
	r = ZM_OK;
 out:
	zm_ending_free(en);
	return r;
}

int
zm_ending_start_list(struct zm_tokend *d, const struct zm_session *list,
    size_t n, const char *reason, struct zm_ending **out)
{
	struct zm_ending	*en;
	size_t			 i;

	*out = NULL;
	if ((en = calloc(1, sizeof(*en))) == NULL)
		return ZM_ERR_NOMEM;
	en->d = d;
	snprintf(en->reason, sizeof(en->reason), "%s", reason);
	en->grace = d->end_grace_ms != 0 ? d->end_grace_ms : DEFAULT_GRACE_MS;
	if (n > 0 && ((en->list = calloc(n, sizeof(*en->list))) == NULL ||
	    (en->e = calloc(n, sizeof(*en->e))) == NULL)) {
		zm_ending_free(en);
		return ZM_ERR_NOMEM;
	}
	if (n > 0)
		memcpy(en->list, list, n * sizeof(*list));
	en->n = n;
	for (i = 0; i < en->n; i++) {
		en->e[i].s = &en->list[i];
		end_start(&en->e[i]);
	}
	en->deadline = mono_ms() + en->grace;
	*out = en;
	return ZM_OK;
}

void
zm_ending_wait(struct zm_ending *en)
{
	int64_t wait;

	while (!zm_ending_poll(en, &wait))
		sleep_ms((unsigned)wait);
}

int
zm_sessions_end(struct zm_tokend *d, const char *user, int64_t token_id,
    const char *reason, unsigned *ended, unsigned *failed)
{
	struct zm_ending	*en = NULL;
	int			 r;

	*ended = *failed = 0;
	if ((r = zm_ending_start(d, user, &token_id, token_id != 0 ? 1 : 0,
	    reason, &en)) != 0)
		return r;
	zm_ending_wait(en);
	zm_ending_counts(en, ended, failed);
	zm_ending_free(en);
	return ZM_OK;
}

/* ---- SESSION_OPEN / SESSION_CLOSE ---- */

/* Optional string field: absent is "", too long or malformed is an error. */
static int
opt_str(const struct zm_msg *req, uint16_t tag, char *out, size_t outlen)
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

static int
reply_session(struct zm_buf *reply, int64_t id)
{
	struct zm_buf	m;
	int		r;

	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) == 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_SESSION_ID, (uint64_t)id)) == 0 &&
	    (r = zm_msg_end(&m)) == 0)
		r = zm_reply_append(reply, &m);
	zm_buf_free(&m);
	return r;
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
	const struct zm_zone	*z;
	char			 ticket[65], methods_s[64] = "";
	uint64_t		 checked = 0;
	char			 token[32] = "", detail[192], state;
	uint32_t		 pid32;
	unsigned		 methods = 0;
	int			 r, n;

	memset(&s, 0, sizeof(s));
	if (zm_msg_get_str(req, ZM_T_USER, s.user, sizeof(s.user)) != 0 ||
	    !zm_user_name_valid(s.user) ||
	    zm_msg_get_str(req, ZM_T_ZONE, s.zone, sizeof(s.zone)) != 0 ||
	    opt_str(req, ZM_T_TTY, s.tty, sizeof(s.tty)) != 0 ||
	    opt_str(req, ZM_T_RHOST, s.rhost, sizeof(s.rhost)) != 0 ||
	    opt_str(req, ZM_T_SERVICE, s.service, sizeof(s.service)) != 0 ||
	    opt_str(req, ZM_T_LOGIND_ID, s.logind_id,
	    sizeof(s.logind_id)) != 0)
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	if (s.logind_id[0] != '\0' && !logind_id_valid(s.logind_id))
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
	 * Ending a session signals its process as root: a non-root caller
	 * may only register a process of its own, and no logind session
	 * (it could name someone else's).
	 */
	if (!peer->is_root) {
		/* Start time before and after the owner check: no PID reuse. */
		if (proc_stat(s.pid, &state, &checked) != ZM_OK ||
		    !pid_owned_by(s.pid, peer->uid))
			return refuse(d, peer, "session_open", s.user, s.zone,
			    reply);
		if (s.logind_id[0] != '\0') {
			zm_notice("uid %lu: logind id ignored (not root)",
			    (unsigned long)peer->uid);
			s.logind_id[0] = '\0';
		}
	}

	r = zm_msg_get_str(req, ZM_T_TICKET, ticket, sizeof(ticket));
	if (r == ZM_OK) {
		r = zm_ticket_take(d->tickets, ticket, s.user, &s.token_id,
		    &methods);
		if (r == ZM_ERR_NOTFOUND) {
			zm_info("%s: unknown or expired ticket", s.user);
			s.token_id = 0;
			methods = 0;
		} else if (r != ZM_OK) {
			return r;
		}
	} else if (r != ZM_ERR_NOTFOUND) {
		zm_info("%s: malformed ticket ignored", s.user);
	}
	zm_wipe(ticket, sizeof(ticket));

	if (proc_stat(s.pid, &state, &s.pid_starttime) != ZM_OK) {
		zm_warn("pid %ld: no start time; the session cannot be ended "
		    "by signal", (long)s.pid);
		s.pid_starttime = 0;
	}
	if (!peer->is_root && s.pid_starttime != checked)
		return refuse(d, peer, "session_open", s.user, s.zone, reply);
	memcpy(s.terminal, d->cfg->terminal_name, sizeof(s.terminal));
	s.terminal[sizeof(s.terminal) - 1] = '\0';
	s.privileged = zm_user_privileged(s.user, z);
	s.opened = zm_now();
	if ((r = zm_store_session_open(d->st, &s)) != 0)
		return r;

	if (methods != 0)
		zm_methods_format(methods, methods_s, sizeof(methods_s));
	fmt_id(token, sizeof(token), s.token_id);
	n = snprintf(detail, sizeof(detail), "session %lld pid %ld tty %s%s%s",
	    (long long)s.id, (long)s.pid, s.tty[0] ? s.tty : "-",
	    s.privileged ? " privileged" : "", s.logind_id[0] ?
	    " logind" : "");
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	if (zm_audit_event(d->audit, "session_open", s.user, s.zone, "ok",
	    s.rhost[0] ? s.rhost : "", methods_s, NULL, token, detail, 0) != 0)
		zm_err("audit write failed");
	/* R4: a card pulled between the login and now. */
	zm_cardwatch_session_opened(d->cardwatch, &s);
	return reply_session(reply, s.id);
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
	    s.pid > 1 && proc_running(s.pid, s.pid_starttime))
		return refuse(d, peer, "session_close", s.user, s.zone, reply);
	/* Already ended (revocation, limit): the logout has nothing to do. */
	if (s.closed != 0)
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
