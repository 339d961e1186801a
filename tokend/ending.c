/*
 * ending.c - the one path that ends login sessions: revocation, disable,
 * card removal, the privileged time limit and the start-up sweep all come
 * here (R5, R4, R9).
 *
 * A session is ended through logind when the PAM module recorded a logind
 * session id (TerminateSession: SIGTERM to every process of its scope; the
 * processes we can see are watched, and the scope gets SIGKILL after the
 * grace periods, not after logind's 90 s stop timeout).  Else
 * every process of the session is signalled (proc.c: the process that
 * opened it, its descendants, and the members of the process sessions
 * they lead): SIGHUP (what a terminal hang-up does), SIGTERM after a
 * grace period, SIGKILL after a second one.  The session counts as ended
 * only when none of them runs any more; what is still running after the
 * SIGKILL is reported as not ended.  PIDs are pinned with pidfds and
 * checked against their start time, so a reused PID is never signalled.
 * For a session a non-root caller registered, only processes still
 * running as that user are signalled (a set-uid program it exec'd is not
 * the user's to end, and is reported).
 *
 * A session being ended is claimed (d->ending_ids): a second ending path
 * (a revocation while the start-up sweep runs) leaves it to the first.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"
#include "log.h"
#include "proc.h"
#include "server.h"
#include "store.h"
#include "tokend.h"

#define POLL_MS			10
#define DEFAULT_GRACE_MS	2000
#define KILL_WAIT_MS		1000	/* after SIGKILL: the kernel's turn */

enum end_state { E_PENDING, E_SIGNALLED, E_ENDED, E_FAILED };

struct ending {
	struct zm_session	*s;
	int			 state;
	const char		*why;	/* failure reason for the audit log */
	struct zm_procset	 procs;	/* its processes still to end */
	size_t			 skipped; /* not signalled: changed identity */
	int			 logind;  /* ended through logind */
};

struct zm_ending {
	struct zm_tokend	*d;
	char			 reason[32];
	struct zm_session	*list;
	struct ending		*e;
	size_t			 n;
	int			 phase;		/* 0 HUP sent, 1 TERM, 2 KILL */
	int			 done;
	int64_t			 deadline;	/* monotonic ms */
	unsigned		 grace;
	unsigned		 ended, failed;
};

/* ---- claims: a session is ended by one path at a time ---- */

int
zm_ending_claimed(const struct zm_tokend *d, int64_t id)
{
	size_t i;

	for (i = 0; i < d->n_ending; i++) {
		if (d->ending_ids[i] == id)
			return 1;
	}
	return 0;
}

static int
claim(struct zm_tokend *d, int64_t id)
{
	int64_t	*n;
	size_t	 cap;

	if (d->n_ending == d->cap_ending) {
		cap = d->cap_ending == 0 ? 16 : d->cap_ending * 2;
		if ((n = reallocarray(d->ending_ids, cap, sizeof(*n))) == NULL)
			return ZM_ERR_NOMEM;
		d->ending_ids = n;
		d->cap_ending = cap;
	}
	d->ending_ids[d->n_ending++] = id;
	return ZM_OK;
}

static void
unclaim(struct zm_tokend *d, int64_t id)
{
	size_t i;

	for (i = 0; i < d->n_ending; i++) {
		if (d->ending_ids[i] == id) {
			d->ending_ids[i] = d->ending_ids[--d->n_ending];
			return;
		}
	}
}

/* ---- one session ---- */

static uid_t
only_uid(const struct zm_session *s)
{
	return s->owner_uid > 0 ? (uid_t)s->owner_uid : (uid_t)-1;
}

/* First step for one session: logind, or SIGHUP to its processes. */
static void
end_start(struct ending *e)
{
	struct zm_session	*s = e->s;
	struct zm_proc		 root;
	int			 seen = 0;

	/*
	 * The session's processes, read before anything is signalled: once
	 * the shell is gone its jobs are no longer its descendants.
	 */
	memset(&root, 0, sizeof(root));
	root.pid = s->pid;
	root.start = s->pid_starttime;
	if (s->pid > 1 && s->pid_starttime != 0 &&
	    zm_proc_running(s->pid, s->pid_starttime)) {
		seen = 1;
		if (zm_procset_add(&e->procs, &root) != ZM_OK ||
		    zm_procset_expand(&e->procs) != ZM_OK) {
			/* Could not read /proc: at least the recorded process. */
			zm_procset_free(&e->procs);
			if (zm_procset_add(&e->procs, &root) != ZM_OK) {
				e->state = E_FAILED;
				e->why = "out of memory";
				return;
			}
		}
	}
	if (s->logind_id[0] != '\0' &&
	    zm_loginctl("terminate-session", s->logind_id) == 0) {
		/*
		 * logind sends SIGTERM (and SIGHUP) to the scope, but kills
		 * what ignores them only after the scope's stop timeout
		 * (90 s): watch the processes we saw, and SIGKILL the scope
		 * when the grace periods are over.
		 */
		e->logind = 1;
		if (!seen || e->procs.n == 0) {
			e->state = E_ENDED;
			return;
		}
		zm_procset_signal(&e->procs, SIGCONT, only_uid(s), NULL);
		e->state = E_SIGNALLED;
		return;
	}
	/* No logind (or it failed): the recorded process and its own. */
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
	if (!seen) {
		e->state = E_ENDED;	/* already gone */
		return;
	}
	zm_procset_signal(&e->procs, SIGHUP, only_uid(s), &e->skipped);
	/* A stopped job would sit on its SIGHUP. */
	zm_procset_signal(&e->procs, SIGCONT, only_uid(s), NULL);
	e->state = E_SIGNALLED;
}

/* The next signal to what is left (and what it started meanwhile). */
static void
end_escalate(struct ending *e, int sig)
{
	if (zm_procset_prune(&e->procs) == 0) {
		e->state = E_ENDED;
		return;
	}
	(void)zm_procset_expand(&e->procs);
	if (e->logind && sig == SIGKILL &&
	    zm_loginctl_kill(e->s->logind_id) != 0)
		zm_warn("session %lld: loginctl kill-session failed",
		    (long long)e->s->id);
	zm_procset_signal(&e->procs, sig, only_uid(e->s), &e->skipped);
}

static void
end_audit(struct zm_tokend *d, const struct ending *e, const char *reason)
{
	const struct zm_session	*s = e->s;
	char			 token[32] = "", detail[160];
	int			 n;

	zm_fmt_id(token, sizeof(token), s->token_id);
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

static const char *
end_reason(const struct zm_ending *en, const struct ending *e)
{
	return e->s->close_reason[0] != '\0' ? e->s->close_reason :
	    en->reason;
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
			e->why = e->skipped > 0 ? "a process of the session "
			    "runs as another user (set-uid)" :
			    "processes did not exit";
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
		    end_reason(en, e))) != 0))) {
			zm_err("session %lld: close: %s", (long long)e->s->id,
			    zm_strerror(r));
			e->state = E_FAILED;
			e->why = "store error";
		}
		end_audit(en->d, e, end_reason(en, e));
		if (e->state == E_ENDED)
			en->ended++;
		else
			en->failed++;
		zm_info("session %lld of %s: %s (%s)", (long long)e->s->id,
		    e->s->user, e->state == E_ENDED ? "ended" : "NOT ended",
		    end_reason(en, e));
		zm_procset_free(&e->procs);
	}
	en->done = 1;
}

int
zm_ending_poll(struct zm_ending *en, int64_t *wait_ms)
{
	int64_t	now = zm_mono_ms();
	size_t	i, left = 0;

	*wait_ms = 0;
	if (en->done)
		return 1;
	for (i = 0; i < en->n; i++) {
		if (en->e[i].state != E_SIGNALLED)
			continue;
		if (zm_procset_prune(&en->e[i].procs) > 0)
			left++;
		else
			en->e[i].state = E_ENDED;
	}
	if (left > 0 && now >= en->deadline && en->phase < 2) {
		en->phase++;
		for (i = 0; i < en->n; i++) {
			if (en->e[i].state == E_SIGNALLED)
				end_escalate(&en->e[i], en->phase == 1 ?
				    SIGTERM : SIGKILL);
		}
		en->deadline = now + (en->phase == 1 ? en->grace :
		    KILL_WAIT_MS);
	} else if (left == 0 || now >= en->deadline) {
		end_finish(en);
		return 1;
	}
	*wait_ms = en->deadline - now < POLL_MS ? en->deadline - now :
	    POLL_MS;
	if (*wait_ms < 0)
		*wait_ms = 0;
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
	size_t i;

	if (en == NULL)
		return;
	for (i = 0; i < en->n; i++)
		unclaim(en->d, en->list[i].id);
	if (en->e != NULL) {
		for (i = 0; i < en->n; i++)
			zm_procset_free(&en->e[i].procs);
	}
	free(en->e);
	free(en->list);
	free(en);
}

/* Append s to en->list unless another ending has it; claim it. */
static int
end_add(struct zm_ending *en, const struct zm_session *s)
{
	struct zm_session *nl;

	if (zm_ending_claimed(en->d, s->id))
		return ZM_OK;
	if ((nl = reallocarray(en->list, en->n + 1, sizeof(*nl))) == NULL)
		return ZM_ERR_NOMEM;
	en->list = nl;
	if (claim(en->d, s->id) != ZM_OK)
		return ZM_ERR_NOMEM;
	en->list[en->n++] = *s;
	return ZM_OK;
}

/* Signal everything at once, so n sessions take one grace period, not n. */
static int
end_begin(struct zm_ending *en)
{
	size_t i;

	if (en->n > 0 && (en->e = calloc(en->n, sizeof(*en->e))) == NULL)
		return ZM_ERR_NOMEM;
	for (i = 0; i < en->n; i++) {
		en->e[i].s = &en->list[i];
		end_start(&en->e[i]);
	}
	en->deadline = zm_mono_ms() + en->grace;
	return ZM_OK;
}

/* 1 when s (another account's, shared) was opened with a token of user. */
static int
opened_by(struct zm_tokend *d, const struct zm_session *s, const char *user)
{
	struct zm_token	t;
	int		yes;

	if (s->token_id <= 0)
		return 0;
	memset(&t, 0, sizeof(t));
	yes = zm_store_token_get(d->st, s->token_id, &t) == ZM_OK &&
	    strcmp(t.user, user) == 0;
	zm_token_clear(&t);
	return yes;
}

static struct zm_ending *
end_new(struct zm_tokend *d, const char *reason)
{
	struct zm_ending *en;

	if ((en = calloc(1, sizeof(*en))) == NULL)
		return NULL;
	en->d = d;
	snprintf(en->reason, sizeof(en->reason), "%s", reason);
	en->grace = d->end_grace_ms != 0 ? d->end_grace_ms : DEFAULT_GRACE_MS;
	return en;
}

/*
 * The open sessions of user_q (NULL: anyone's) held by token (0: any)
 * join en; with member set only those member opened (shared accounts).
 */
static int
add_listed(struct zm_tokend *d, struct zm_ending *en, const char *user_q,
    int64_t token, const char *member)
{
	struct zm_session	*open = NULL;
	size_t			 n = 0, i;
	int			 r;

	if ((r = zm_store_sessions_open_list(d->st, user_q, token, &open,
	    &n)) != 0) {
		zm_err("cannot list sessions: %s", zm_strerror(r));
		return r;
	}
	for (i = 0; i < n && r == ZM_OK; i++)
		if (member == NULL || opened_by(d, &open[i], member))
			r = end_add(en, &open[i]);
	free(open);
	return r;
}

int
zm_ending_start(struct zm_tokend *d, const char *user,
    const int64_t *token_ids, size_t n_ids, const char *reason,
    struct zm_ending **out)
{
	struct zm_ending	*en;
	size_t			 k;
	int			 r = ZM_OK;

	*out = NULL;
	if ((en = end_new(d, reason)) == NULL)
		return ZM_ERR_NOMEM;
	/*
	 * A member's token also holds the shared account sessions the
	 * member opened ([shared NAME]), which are not user's.  Token ids
	 * are unique, so an id names all its sessions.
	 */
	if (n_ids > 0) {
		for (k = 0; k < n_ids && r == ZM_OK; k++)
			r = add_listed(d, en, NULL, token_ids[k], NULL);
	} else {
		r = add_listed(d, en, user, 0, NULL);
		for (k = 0; k < d->cfg->n_shared && r == ZM_OK; k++)
			if (zm_shared_member(&d->cfg->shared[k], user))
				r = add_listed(d, en, d->cfg->shared[k].name,
				    0, user);
	}
	if (r == ZM_OK && (r = end_begin(en)) == ZM_OK) {
		*out = en;
		return ZM_OK;
	}
	zm_ending_free(en);
	return r;
}

int
zm_ending_start_list(struct zm_tokend *d, const struct zm_session *list,
    size_t n, const char *reason, struct zm_ending **out)
{
	struct zm_ending	*en;
	size_t			 i;
	int			 r;

	*out = NULL;
	if ((en = end_new(d, reason)) == NULL)
		return ZM_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if ((r = end_add(en, &list[i])) != ZM_OK)
			goto fail;
	}
	if ((r = end_begin(en)) != ZM_OK)
		goto fail;
	*out = en;
	return ZM_OK;
 fail:
	zm_ending_free(en);
	return r;
}

void
zm_ending_wait(struct zm_ending *en)
{
	int64_t wait;

	while (!zm_ending_poll(en, &wait))
		zm_sleep_ms((unsigned)wait);
}
