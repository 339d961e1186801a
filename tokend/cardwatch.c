/*
 * cardwatch.c - card removal (R4): the watcher thread and the actions.
 *
 * The thread owns one PC/SC context and nothing else.  It blocks in
 * SCardGetStatusChange(INFINITE) over every reader plus
 * \\?PnP?\Notification, and writes one fixed-size event per change to a
 * pipe (each under PIPE_BUF, so writes are atomic).  No busy polling:
 * pcscd wakes it.  When pcscd goes away (killed, restarting, never
 * started) it says so once and tries again with a backoff (100 ms
 * doubling to 5 s), then sends the readers' full state afresh.
 *
 * Everything else runs in the daemon's single-threaded loop: the card
 * bindings, the store, the audit log, the actions.  A card bound at login
 * counts as gone when its reader reports no card, or a card event counter
 * later than the one seen at login (removed and put back, or swapped),
 * or the reader disappears.  Events older than the binding (the counter
 * is behind) are ignored.  After pcscd comes back the counters start
 * again: a bound card must be back in its reader with the same ATR within
 * REVERIFY_MS, or it counts as gone (while pcscd was away nobody could see
 * whether it was pulled).
 *
 * The bindings are kept in the registry too (zm_store_cardbind_*), so a
 * restarted daemon watches the sessions opened before it (restore()).  A
 * restored card must be found in its reader with the same ATR and the
 * same card event counter within REVERIFY_MS: pcscd kept counting while
 * the daemon was away, so a counter that moved means the card left (or
 * pcscd restarted too, and nobody can tell): gone, fail closed.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <winscard.h>

#include "audit.h"
#include "card.h"
#include "cardwatch.h"
#include "err.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tokend.h"

#define READERS_MAX	16
#define BIND_MAX	64
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define REVERIFY_MS	3000	/* after pcscd came back */
#define GONE_KEEP_S	600	/* a login's ticket lives 10 minutes */
#define LOCK_TIMEOUT_MS	5000
#define LOCK_ARGS_MAX	32
#define LOCK_ARG_LEN	512
#define PNP_NAME	"\\\\?PnP?\\Notification"

enum ev_kind { EV_STATE = 1, EV_GONE, EV_LOST, EV_BACK };

struct ev {
	uint8_t		kind;
	uint8_t		atrlen;
	uint16_t	counter;
	uint32_t	state;
	uint8_t		atr[36];
	char		reader[128];
};

struct binding {
	int64_t			token_id;
	struct zm_card_where	where;
	int64_t			verify_by;	/* monotonic ms, 0: none */
	int64_t			gone;		/* wall clock s, 0: present */
	int64_t			bound;		/* wall clock s */
	int			restored;	/* from the registry: same counter */
};

/* A logout under way (one session each, so each is audited apart). */
struct removal {
	struct zm_ending	*en;
	struct zm_session	 s;
	char			 reader[128];
};

struct zm_cardwatch {
	struct zm_tokend	*d;
	pthread_t		 thr;
	int			 started;
	int			 evfd[2];	/* thread -> loop */
	int			 wakefd[2];	/* loop -> thread (backoff) */
	pthread_mutex_t		 mu;		/* ctx, for SCardCancel() */
	SCARDCONTEXT		 ctx;
	atomic_int		 stop, done;
	/* loop side */
	int			 up;
	int			 lost_logged;
	struct binding		 b[BIND_MAX];
	size_t			 nb;
	struct removal		*rm;
	size_t			 nrm;
};

/* ---- the thread ---- */

static void
send_ev(struct zm_cardwatch *w, int kind, const SCARD_READERSTATE *rs,
    const char *reader)
{
	struct ev	e;
	ssize_t		n;

	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	if (reader != NULL)
		snprintf(e.reader, sizeof(e.reader), "%s", reader);
	if (rs != NULL) {
		e.state = (uint32_t)rs->dwEventState;
		e.counter = (uint16_t)(rs->dwEventState >> 16);
		if (rs->cbAtr <= sizeof(e.atr)) {
			memcpy(e.atr, rs->rgbAtr, rs->cbAtr);
			e.atrlen = (uint8_t)rs->cbAtr;
		}
	}
	do
		n = write(w->evfd[1], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
}

/* Sleep ms, or less when the loop wakes us to stop. */
static void
backoff_sleep(struct zm_cardwatch *w, unsigned ms)
{
	struct pollfd	pfd = { w->wakefd[0], POLLIN, 0 };
	char		buf[16];

	if (poll(&pfd, 1, (int)ms) > 0)
		(void)!read(w->wakefd[0], buf, sizeof(buf));
}

static void
ctx_set(struct zm_cardwatch *w, SCARDCONTEXT ctx)
{
	pthread_mutex_lock(&w->mu);
	if (ctx == 0 && w->ctx != 0)
		(void)SCardReleaseContext(w->ctx);
	w->ctx = ctx;
	pthread_mutex_unlock(&w->mu);
}

/*
 * (Re)read the reader list into rs[0..*n) (+ PnP at rs[*n]).  Readers
 * still there keep their state; new ones start UNAWARE (the next wait
 * returns at once with their state); gone ones are reported.
 */
static int
relist(struct zm_cardwatch *w, SCARD_READERSTATE *rs, char names[][128],
    DWORD *n)
{
	SCARD_READERSTATE	 nrs[READERS_MAX + 1];
	char			 nn[READERS_MAX][128];
	char			*list = NULL, *p;
	DWORD			 len = SCARD_AUTOALLOCATE, k = 0, i, j;
	LONG			 rv;
	int			 found;

	memset(nrs, 0, sizeof(nrs));
	rv = SCardListReaders(w->ctx, NULL, (LPSTR)&list, &len);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_NO_READERS_AVAILABLE)
		return -1;
	for (p = list; rv == SCARD_S_SUCCESS && *p != '\0' &&
	    k < READERS_MAX; p += strlen(p) + 1) {
		if (strlen(p) >= sizeof(nn[0]))
			continue;
		memcpy(nn[k], p, strlen(p) + 1);
		nrs[k].dwCurrentState = SCARD_STATE_UNAWARE;
		for (i = 0; i < *n; i++)
			if (strcmp(names[i], p) == 0) {
				nrs[k] = rs[i];
				break;
			}
		k++;
	}
	if (list != NULL)
		(void)SCardFreeMemory(w->ctx, list);
	for (i = 0; i < *n; i++) {
		found = 0;
		for (j = 0; j < k; j++)
			if (strcmp(names[i], nn[j]) == 0)
				found = 1;
		if (!found)
			send_ev(w, EV_GONE, NULL, names[i]);
	}
	nrs[k] = rs[*n];	/* PnP */
	memcpy(names, nn, sizeof(nn));
	for (i = 0; i < k; i++)
		nrs[i].szReader = names[i];
	nrs[k].szReader = PNP_NAME;
	memcpy(rs, nrs, sizeof(nrs));
	*n = k;
	return 0;
}

static void *
watch_thread(void *arg)
{
	struct zm_cardwatch	*w = arg;
	SCARD_READERSTATE	 rs[READERS_MAX + 1];
	static char		 names[READERS_MAX][128];
	SCARDCONTEXT		 ctx;
	unsigned		 backoff = BACKOFF_MIN_MS;
	DWORD			 n = 0, i;
	LONG			 rv;
	int			 lost = 0;

	while (!w->stop) {
		if (w->ctx == 0) {
			rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL,
			    NULL, &ctx);
			if (rv != SCARD_S_SUCCESS) {
				if (!lost)
					send_ev(w, EV_LOST, NULL, NULL);
				lost = 1;
				backoff_sleep(w, backoff);
				backoff = backoff * 2 > BACKOFF_MAX_MS ?
				    BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			ctx_set(w, ctx);
			memset(rs, 0, sizeof(rs));
			n = 0;
			rs[0].szReader = PNP_NAME;
			rs[0].dwCurrentState = SCARD_STATE_UNAWARE;
			if (relist(w, rs, names, &n) != 0) {
				ctx_set(w, 0);
				backoff_sleep(w, backoff);
				continue;
			}
			rs[n].dwCurrentState = (DWORD)n << 16;
			send_ev(w, EV_BACK, NULL, NULL);
			lost = 0;
			backoff = BACKOFF_MIN_MS;
		}
		if (w->stop)
			break;
		rv = SCardGetStatusChange(w->ctx, INFINITE, rs, n + 1);
		if (rv == SCARD_E_CANCELLED || rv == SCARD_E_TIMEOUT)
			continue;
		if (rv != SCARD_S_SUCCESS) {
			/* pcscd gone (or restarting): start again. */
			ctx_set(w, 0);
			send_ev(w, EV_LOST, NULL, NULL);
			lost = 1;
			continue;
		}
		for (i = 0; i < n; i++) {
			if ((rs[i].dwEventState & SCARD_STATE_CHANGED) == 0)
				continue;
			rs[i].dwCurrentState = rs[i].dwEventState &
			    ~(DWORD)SCARD_STATE_CHANGED;
			send_ev(w, EV_STATE, &rs[i], names[i]);
		}
		if (rs[n].dwEventState & SCARD_STATE_CHANGED) {
			rs[n].dwCurrentState = rs[n].dwEventState &
			    ~(DWORD)SCARD_STATE_CHANGED;
			if (relist(w, rs, names, &n) != 0) {
				ctx_set(w, 0);
				send_ev(w, EV_LOST, NULL, NULL);
				lost = 1;
			}
		}
	}
	ctx_set(w, 0);
	w->done = 1;
	return NULL;
}

/* ---- the loop side: actions ---- */

static void
audit_removed(struct zm_cardwatch *w, const struct zm_session *s,
    const char *reader, const char *action, int ok, const char *why)
{
	char	token[32], detail[256];
	int	n;

	snprintf(token, sizeof(token), "%lld", (long long)s->token_id);
	n = snprintf(detail, sizeof(detail), "session %lld reader %s%s%s",
	    (long long)s->id, reader, why != NULL ? ": " : "",
	    why != NULL ? why : "");
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	zm_notice("card of session %lld (%s) removed from %s: %s %s%s%s",
	    (long long)s->id, s->user, reader, action, ok ? "done" : "FAILED",
	    why != NULL ? ": " : "", why != NULL ? why : "");
	if (zm_audit_event(w->d->audit, "card_removed", s->user, s->zone,
	    ok ? "ok" : "fail", action, NULL, NULL, token, detail, 0) != 0)
		zm_err("audit write failed");
}

/*
 * lock_command with %u and %s expanded, split on spaces, exec'd without
 * a shell.  A user name is [a-z_][a-z0-9_.-]* (zm_user_name_valid) and a
 * session id digits, so an expansion never adds a word.
 */
static int
run_lock_command(const char *cmd, const struct zm_session *s)
{
	char		 args[LOCK_ARGS_MAX][LOCK_ARG_LEN];
	char		*argv[LOCK_ARGS_MAX + 1];
	char		 sid[32];
	const char	*p = cmd, *v;
	size_t		 na = 0, len, vl;

	snprintf(sid, sizeof(sid), "%lld", (long long)s->id);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (na == LOCK_ARGS_MAX)
			return ZM_ERR_INVALID;
		len = 0;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			v = NULL;
			if (p[0] == '%' && p[1] == 'u')
				v = s->user;
			else if (p[0] == '%' && p[1] == 's')
				v = sid;
			vl = v != NULL ? strlen(v) : 1;
			if (len + vl >= LOCK_ARG_LEN)
				return ZM_ERR_INVALID;
			memcpy(args[na] + len, v != NULL ? v : p, vl);
			len += vl;
			p += v != NULL ? 2 : 1;
		}
		args[na][len] = '\0';
		argv[na] = args[na];
		na++;
	}
	if (na == 0)
		return ZM_ERR_INVALID;
	argv[na] = NULL;
	return zm_run_argv(argv[0], argv, LOCK_TIMEOUT_MS);
}

/* The zone's card_removal action for one open session. */
static void
act(struct zm_cardwatch *w, const struct zm_session *s, const char *reader)
{
	const struct zm_zone	*z;
	struct removal		*nr;
	struct zm_ending	*en = NULL;
	int			 action, r;

	z = zm_config_zone(w->d->cfg, s->zone);
	/* A zone removed from the configuration: the safe default. */
	action = z != NULL ? z->card_removal : ZM_REMOVAL_LOCK;
	switch (action) {
	case ZM_REMOVAL_NONE:
		audit_removed(w, s, reader, "none", 1, NULL);
		return;
	case ZM_REMOVAL_LOCK:
		if (s->logind_id[0] != '\0') {
			r = zm_loginctl("lock-session", s->logind_id);
			audit_removed(w, s, reader, "lock", r == 0, r == 0 ?
			    "logind" : "loginctl lock-session failed");
		} else if (w->d->cfg->lock_command != NULL) {
			r = run_lock_command(w->d->cfg->lock_command, s);
			audit_removed(w, s, reader, "lock", r == 0, r == 0 ?
			    "lock_command" : "lock_command failed");
		} else {
			audit_removed(w, s, reader, "lock", 0,
			    "no logind session and no lock_command");
		}
		return;
	default:
		break;
	}
	/* logout: the revocation's non-blocking ending path. */
	nr = reallocarray(w->rm, w->nrm + 1, sizeof(*w->rm));
	if (nr == NULL || (r = zm_ending_start_list(w->d, s, 1,
	    "card_removed", &en)) != 0) {
		if (nr != NULL)
			w->rm = nr;
		audit_removed(w, s, reader, "logout", 0, "out of memory");
		return;
	}
	w->rm = nr;
	w->rm[w->nrm].en = en;
	w->rm[w->nrm].s = *s;
	snprintf(w->rm[w->nrm].reader, sizeof(w->rm[0].reader), "%s", reader);
	w->nrm++;
}

/* Keep b in the registry (a failure costs only the watch after a restart). */
static void
persist(struct zm_cardwatch *w, const struct binding *b)
{
	struct zm_card_binding	cb;
	int			r;

	memset(&cb, 0, sizeof(cb));
	cb.token_id = b->token_id;
	snprintf(cb.reader, sizeof(cb.reader), "%s", b->where.reader);
	cb.counter = b->where.counter;
	cb.atrlen = b->where.atrlen <= sizeof(cb.atr) ? b->where.atrlen : 0;
	memcpy(cb.atr, b->where.atr, cb.atrlen);
	cb.bound = b->bound;
	cb.gone = b->gone;
	if ((r = zm_store_cardbind_put(w->d->st, &cb)) != 0)
		zm_err("card removal: cannot keep the binding of token %lld: "
		    "%s", (long long)b->token_id, zm_strerror(r));
}

static void
unpersist(struct zm_cardwatch *w, int64_t token_id)
{
	int r;

	if ((r = zm_store_cardbind_del(w->d->st, token_id)) != 0)
		zm_err("card removal: cannot drop the binding of token %lld: "
		    "%s", (long long)token_id, zm_strerror(r));
}

/* The card of b is gone: act on every open session opened with it. */
static void
card_gone(struct zm_cardwatch *w, struct binding *b, const char *why)
{
	struct zm_session	*list = NULL;
	size_t			 n = 0, i;
	int			 r;

	b->gone = zm_now();
	b->verify_by = 0;
	b->restored = 0;
	persist(w, b);
	if ((r = zm_store_sessions_open_list(w->d->st, NULL, b->token_id,
	    &list, &n)) != 0) {
		zm_err("card removal: cannot list sessions: %s",
		    zm_strerror(r));
		return;
	}
	zm_debug("card of token %lld left %s (%s): %zu open session(s)",
	    (long long)b->token_id, b->where.reader, why, n);
	for (i = 0; i < n; i++)
		act(w, &list[i], b->where.reader);
	free(list);
}

static int
atr_eq(const struct binding *b, const struct ev *e)
{
	return b->where.atrlen == e->atrlen &&
	    memcmp(b->where.atr, e->atr, e->atrlen) == 0;
}

static void
on_event(struct zm_cardwatch *w, const struct ev *e)
{
	struct binding	*b;
	size_t		 i;
	int16_t		 ahead;

	switch (e->kind) {
	case EV_LOST:
		if (!w->lost_logged)
			zm_warn("pcscd cannot be reached: card logins refused "
			    "and card removal not seen until it is back");
		w->lost_logged = 1;
		w->up = 0;
		return;
	case EV_BACK:
		if (w->lost_logged)
			zm_notice("pcscd is back: watching readers again");
		else
			zm_info("watching PC/SC readers");
		w->lost_logged = 0;
		w->up = 1;
		for (i = 0; i < w->nb; i++)
			if (w->b[i].gone == 0)
				w->b[i].verify_by = zm_mono_ms() + REVERIFY_MS;
		return;
	default:
		break;
	}
	zm_debug("reader %s: %s%s, card event %u", e->reader,
	    e->kind == EV_GONE ? "gone" : (e->state & SCARD_STATE_PRESENT) ?
	    "card present" : "empty", (e->state & SCARD_STATE_INUSE) ?
	    " (in use)" : "", (unsigned)e->counter);
	for (i = 0; i < w->nb; i++) {
		b = &w->b[i];
		if (b->gone != 0 || strcmp(b->where.reader, e->reader) != 0)
			continue;
		if (e->kind == EV_GONE) {
			card_gone(w, b, "reader gone");
			continue;
		}
		if (b->restored) {
			/*
			 * The daemon restarted: the same card, never taken
			 * out (the counter where the login saw it)?
			 */
			if ((e->state & SCARD_STATE_PRESENT) && atr_eq(b, e) &&
			    e->counter == b->where.counter) {
				zm_info("card of token %lld still in %s after "
				    "the restart: watched again",
				    (long long)b->token_id, b->where.reader);
				b->restored = 0;
				b->verify_by = 0;
			} else
				card_gone(w, b, "changed while the daemon "
				    "was down");
			continue;
		}
		if (b->verify_by != 0) {
			/* pcscd came back: the same card in the same reader? */
			if ((e->state & SCARD_STATE_PRESENT) && atr_eq(b, e)) {
				b->where.counter = e->counter;
				b->verify_by = 0;
				persist(w, b);
			}
			continue;
		}
		ahead = (int16_t)(uint16_t)(e->counter - b->where.counter);
		if (ahead < 0)
			continue;	/* from before the login */
		if (ahead > 0 || (e->state & SCARD_STATE_PRESENT) == 0)
			card_gone(w, b, ahead > 0 ? "card event" : "empty");
	}
}

void
zm_cardwatch_read(struct zm_cardwatch *w)
{
	struct ev	e;
	ssize_t		n;

	if (w == NULL)
		return;
	for (;;) {
		n = read(w->evfd[0], &e, sizeof(e));
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(e))
			break;
		e.reader[sizeof(e.reader) - 1] = '\0';
		if (e.atrlen > sizeof(e.atr))
			e.atrlen = 0;
		on_event(w, &e);
	}
}

int64_t
zm_cardwatch_run(struct zm_cardwatch *w)
{
	int64_t		now, wait = INT64_MAX, t;
	unsigned	ended, failed;
	size_t		i;

	if (w == NULL)
		return INT64_MAX;
	now = zm_mono_ms();
	for (i = 0; i < w->nb; i++) {
		if (w->b[i].verify_by == 0)
			continue;
		if (now >= w->b[i].verify_by)
			card_gone(w, &w->b[i], w->b[i].restored ?
			    "not found after the daemon restart" :
			    "not back after pcscd restart");
		else if (w->b[i].verify_by - now < wait)
			wait = w->b[i].verify_by - now;
	}
	for (i = 0; i < w->nrm;) {
		if (!zm_ending_poll(w->rm[i].en, &t)) {
			if (t < wait)
				wait = t;
			i++;
			continue;
		}
		zm_ending_counts(w->rm[i].en, &ended, &failed);
		audit_removed(w, &w->rm[i].s, w->rm[i].reader, "logout",
		    failed == 0, failed == 0 ? NULL : "session not ended");
		zm_ending_free(w->rm[i].en);
		w->rm[i] = w->rm[--w->nrm];
	}
	return wait;
}

void
zm_cardwatch_bind(struct zm_cardwatch *w, int64_t token_id,
    const struct zm_card_where *where)
{
	int64_t	now = zm_now();
	size_t	i, k = 0;

	if (w == NULL || where->reader[0] == '\0')
		return;
	/* Drop this token's old binding and forgotten removals. */
	for (i = 0; i < w->nb; i++) {
		if (w->b[i].token_id == token_id)
			continue;
		if (w->b[i].gone != 0 && now - w->b[i].gone > GONE_KEEP_S) {
			unpersist(w, w->b[i].token_id);
			continue;
		}
		w->b[k++] = w->b[i];
	}
	w->nb = k;
	if (w->nb == BIND_MAX) {
		zm_warn("card removal: too many cards bound; forgetting %lld",
		    (long long)w->b[0].token_id);
		unpersist(w, w->b[0].token_id);
		memmove(&w->b[0], &w->b[1], (BIND_MAX - 1) * sizeof(w->b[0]));
		w->nb--;
	}
	memset(&w->b[w->nb], 0, sizeof(w->b[0]));
	w->b[w->nb].token_id = token_id;
	w->b[w->nb].where = *where;
	w->b[w->nb].bound = now;
	persist(w, &w->b[w->nb]);
	w->nb++;
}

/*
 * The bindings kept in the registry, at start-up: those of a card with an
 * open session, or from a login whose ticket may still open one, are
 * watched again (restored: checked against the readers within
 * REVERIFY_MS); the others are forgotten.
 */
static void
restore(struct zm_cardwatch *w)
{
	struct zm_card_binding	*v = NULL;
	struct zm_session	*s = NULL;
	struct binding		*b;
	size_t			 n = 0, ns, i;
	int64_t			 now = zm_now();
	int			 r;

	if ((r = zm_store_cardbind_list(w->d->st, &v, &n)) != 0) {
		zm_err("card removal: cannot read the kept bindings: %s",
		    zm_strerror(r));
		return;
	}
	for (i = 0; i < n; i++) {
		ns = 0;
		s = NULL;
		r = zm_store_sessions_open_list(w->d->st, NULL, v[i].token_id,
		    &s, &ns);
		free(s);
		if (r != 0) {
			zm_err("card removal: cannot list sessions: %s",
			    zm_strerror(r));
			ns = 1;		/* keep it: fail closed */
		}
		if ((ns == 0 && now - v[i].bound > GONE_KEEP_S) ||
		    (v[i].gone != 0 && now - v[i].gone > GONE_KEEP_S) ||
		    w->nb == BIND_MAX || v[i].reader[0] == '\0') {
			unpersist(w, v[i].token_id);
			continue;
		}
		b = &w->b[w->nb++];
		memset(b, 0, sizeof(*b));
		b->token_id = v[i].token_id;
		snprintf(b->where.reader, sizeof(b->where.reader), "%s",
		    v[i].reader);
		b->where.counter = v[i].counter;
		memcpy(b->where.atr, v[i].atr, v[i].atrlen);
		b->where.atrlen = v[i].atrlen;
		b->bound = v[i].bound;
		b->gone = v[i].gone;
		if (b->gone == 0) {
			b->restored = 1;
			b->verify_by = zm_mono_ms() + REVERIFY_MS;
		}
		zm_info("card removal: watching the card of token %lld in %s "
		    "again (%zu open session(s))%s", (long long)b->token_id,
		    b->where.reader, ns, b->gone != 0 ? ", seen leaving" : "");
	}
	free(v);
}

void
zm_cardwatch_session_opened(struct zm_cardwatch *w,
    const struct zm_session *s)
{
	size_t i;

	if (w == NULL || s->token_id <= 0)
		return;
	for (i = 0; i < w->nb; i++)
		if (w->b[i].token_id == s->token_id && w->b[i].gone != 0) {
			zm_info("session %lld: its card left before the "
			    "session opened", (long long)s->id);
			act(w, s, w->b[i].where.reader);
		}
}

int
zm_cardwatch_up(const struct zm_cardwatch *w)
{
	return w != NULL && w->up;
}

int
zm_cardwatch_fd(const struct zm_cardwatch *w)
{
	return w != NULL ? w->evfd[0] : -1;
}

int
zm_cardwatch_start(struct zm_tokend *d, struct zm_cardwatch **out)
{
	struct zm_cardwatch	*w;
	sigset_t		 all, old;
	int			 r = ZM_ERR_IO;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ZM_ERR_NOMEM;
	w->d = d;
	w->evfd[0] = w->evfd[1] = w->wakefd[0] = w->wakefd[1] = -1;
	restore(w);
	if (pipe2(w->evfd, O_CLOEXEC) != 0 ||
	    pipe2(w->wakefd, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    fcntl(w->evfd[0], F_SETFL, O_NONBLOCK) != 0) {
		zm_err("card watch: pipe: %s", strerror(errno));
		goto out;
	}
	pthread_mutex_init(&w->mu, NULL);
	/* Signals are the main thread's (self-pipe): none here. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thr, NULL, watch_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		zm_err("card watch: thread: %s", strerror(r));
		pthread_mutex_destroy(&w->mu);
		r = ZM_ERR_IO;
		goto out;
	}
	w->started = 1;
	*out = w;
	w = NULL;
	r = ZM_OK;
 out:
	if (w != NULL) {
		if (w->evfd[0] != -1) {
			close(w->evfd[0]);
			close(w->evfd[1]);
		}
		if (w->wakefd[0] != -1) {
			close(w->wakefd[0]);
			close(w->wakefd[1]);
		}
		free(w);
	}
	return r;
}

void
zm_cardwatch_stop(struct zm_cardwatch *w)
{
	char	buf[64];
	size_t	i;
	int	tries;

	if (w == NULL)
		return;
	if (w->started) {
		w->stop = 1;
		/*
		 * SCardCancel() only ends a wait already under way: repeat
		 * until the thread has seen the flag (bounded: 2 s).
		 */
		for (tries = 0; !w->done && tries < 200; tries++) {
			pthread_mutex_lock(&w->mu);
			if (w->ctx != 0)
				(void)SCardCancel(w->ctx);
			pthread_mutex_unlock(&w->mu);
			(void)!write(w->wakefd[1], "x", 1);
			if (!w->done) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
		if (!w->done) {
			/* It still uses w: leave it be, we are exiting. */
			zm_warn("card watch: thread did not stop");
			return;
		}
		pthread_join(w->thr, NULL);
		pthread_mutex_destroy(&w->mu);
	}
	/* Events still in the pipe: removals seen before the stop count. */
	zm_cardwatch_read(w);
	for (i = 0; i < w->nrm; i++)
		zm_ending_wait(w->rm[i].en);
	(void)zm_cardwatch_run(w);
	while (read(w->wakefd[0], buf, sizeof(buf)) > 0)
		;
	close(w->evfd[0]);
	close(w->evfd[1]);
	close(w->wakefd[0]);
	close(w->wakefd[1]);
	free(w->rm);
	free(w);
}
