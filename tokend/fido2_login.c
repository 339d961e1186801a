/*
 * fido2_login.c - FIDO2 logins: which key holds the credential, the
 * assertion, and the worker threads that keep both off the event loop
 * (see fido2.h).
 *
 * A key waits for a touch for as long as the user lets it, and a broken
 * one may never answer at all: in the single-threaded loop either held
 * every other login.  Each login's key conversation therefore runs in a
 * thread of its own with one deadline: every libfido2 call gets the time
 * that is left (the key is opened with it too), and the loop gives the
 * job up at the deadline whatever the thread is doing.  The thread
 * shares only its job with the loop: the input is copied in, the result
 * is read once the job is marked done under its lock, and whichever of
 * the two lets go last frees it.  The store is never touched here.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>

#include "crypto.h"
#include "err.h"
#include "fido2.h"
#include "fido2_impl.h"
#include "log.h"
#include "tokend.h"
#include "wipe.h"

#define LOOP_GRACE_MS	500	/* the worker's own timeout comes first */
#define CANCEL_MS	100	/* CTAPHID_CANCEL to a key we give up */

struct zm_fido_job {
	struct zm_fido		*f;
	pthread_mutex_t		 mu;		/* refs, done */
	int			 refs;		/* the loop and the worker */
	int			 done;
	int			 cancel[2];	/* loop -> worker: stop */
	int64_t			 deadline;	/* CLOCK_MONOTONIC ms */
	int			 kind;
	struct zm_fido_allow	 allow[ZM_FIDO_MAX_ALLOW];
	uint8_t			*ids;		/* the allow list's ids */
	size_t			 ids_len;
	size_t			 n;
	int			 want_uv;
	char			*pin;
	size_t			 pin_len;
	struct zm_fido_result	 res;		/* the worker's until done */
};

/* What the key conversation needs; the same for a job and a caller. */
struct login {
	struct zm_fido			*f;
	int				 kind;
	const struct zm_fido_allow	*allow;
	size_t				 n;
	int				 want_uv;
	const char			*pin;
	int64_t				 deadline;
	int				 cancel;	/* fd, or -1 */
};

/* Milliseconds left before the deadline, 0 when out of time or cancelled. */
static int
time_left(const struct login *l)
{
	struct pollfd	pfd = { .fd = l->cancel, .events = POLLIN };
	int64_t		left = l->deadline - zm_mono_ms();

	/* The cancel pipe is never read: once readable, it stays so. */
	if (l->cancel != -1 && poll(&pfd, 1, 0) == 1)
		return 0;
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

void
zm_fido_assertion_clear(struct zm_fido_assertion *a)
{
	if (a == NULL)
		return;
	zm_freezero(a->authdata, a->authdata_len);
	zm_freezero(a->sig, a->sig_len);
	zm_wipe(a, sizeof(*a));
}

static int
assert_setup(fido_assert_t *a, const char *rp_id, const uint8_t *cdh,
    const struct zm_fido_allow *allow, size_t n)
{
	size_t i;

	if (fido_assert_set_rp(a, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, ZM_FIDO_CDH_LEN) !=
	    FIDO_OK)
		return ZM_ERR_INTERNAL;
	for (i = 0; i < n; i++)
		if (fido_assert_allow_cred(a, allow[i].id, allow[i].id_len) !=
		    FIDO_OK)
			return ZM_ERR_INTERNAL;
	return 0;
}

/*
 * Does the key hold one of the credentials?  A silent assertion (no
 * user presence, no UV, no PIN) answers without a touch: 1 yes, 0 no
 * (CTAP2_ERR_NO_CREDENTIALS), -1 the key did not say either.
 */
static int
holds_credential(fido_dev_t *dev, const struct login *l)
{
	fido_assert_t	*a = NULL;
	uint8_t		 cdh[ZM_FIDO_CDH_LEN];
	int		 fr, yes = -1;

	if ((a = fido_assert_new()) == NULL ||
	    zm_random(cdh, sizeof(cdh)) != 0 ||
	    assert_setup(a, l->f->rp_id, cdh, l->allow, l->n) != 0 ||
	    fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK ||
	    fido_assert_set_uv(a, FIDO_OPT_OMIT) != FIDO_OK)
		goto out;
	fr = fido_dev_get_assert(dev, a, NULL);
	if (fr == FIDO_OK)
		yes = 1;
	else if (fr == FIDO_ERR_NO_CREDENTIALS)
		yes = 0;
	else
		zm_debug("fido2 silent assertion: %s", fido_strerr(fr));
 out:
	fido_assert_free(&a);
	return yes;
}

static int
get_assert(fido_dev_t *dev, const struct login *l,
    struct zm_fido_assertion *out)
{
	const struct zm_fido_allow	*allow = l->allow;
	fido_assert_t			*a = NULL;
	const uint8_t			*id;
	size_t				 n = l->n, id_len;
	int				 fr, r = ZM_ERR_INTERNAL;

	if ((a = fido_assert_new()) == NULL)
		return ZM_ERR_NOMEM;
	if ((r = zm_random(out->cdh, sizeof(out->cdh))) != 0)
		goto out;
	if ((r = assert_setup(a, l->f->rp_id, out->cdh, allow, n)) != 0)
		goto out;
	r = ZM_ERR_INTERNAL;
	if (fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
	    /* With a PIN the pinAuth asks for UV; "uv" stays unset (CTAP2.0). */
	    fido_assert_set_uv(a, l->pin == NULL && l->want_uv &&
	    fido_dev_has_uv(dev) ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK)
		goto out;
	if ((fr = fido_dev_get_assert(dev, a, l->pin)) != FIDO_OK) {
		zm_debug("fido2 get assertion: %s", fido_strerr(fr));
		r = zm_fido_err(fr);
		if (l->pin != NULL && (fr == FIDO_ERR_PIN_INVALID ||
		    fr == FIDO_ERR_PIN_BLOCKED ||
		    fr == FIDO_ERR_PIN_AUTH_BLOCKED ||
		    fr == FIDO_ERR_PIN_POLICY_VIOLATION)) {
			/* The key's own count, after this try. */
			if (fido_dev_get_retry_count(dev, &out->pin_left) !=
			    FIDO_OK)
				out->pin_left = -1;
			out->pin_status = fr == FIDO_ERR_PIN_BLOCKED ||
			    out->pin_left == 0 ? ZM_FIDO_PIN_BLOCKED :
			    ZM_FIDO_PIN_WRONG;
			r = ZM_ERR_DENIED;
		}
		goto out;
	}
	r = ZM_ERR_DENIED;
	if (fido_assert_count(a) < 1 || fido_assert_authdata_ptr(a, 0) == NULL ||
	    fido_assert_sig_ptr(a, 0) == NULL)
		goto out;
	/* Which of our credentials answered: it must be one we offered. */
	id = fido_assert_id_ptr(a, 0);
	id_len = fido_assert_id_len(a, 0);
	for (out->which = 0; out->which < n; out->which++)
		if (id != NULL && allow[out->which].id_len == id_len &&
		    memcmp(allow[out->which].id, id, id_len) == 0)
			break;
	if (out->which == n) {
		if (n != 1 || id_len != 0) {
			zm_notice("fido2: the key answered for a credential "
			    "not in the allow list");
			goto out;
		}
		out->which = 0;	/* CTAP2: may be omitted for one entry */
	}
	out->authdata_len = fido_assert_authdata_len(a, 0);
	out->sig_len = fido_assert_sig_len(a, 0);
	if ((out->authdata = malloc(out->authdata_len)) == NULL ||
	    (out->sig = malloc(out->sig_len)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	memcpy(out->authdata, fido_assert_authdata_ptr(a, 0),
	    out->authdata_len);
	memcpy(out->sig, fido_assert_sig_ptr(a, 0), out->sig_len);
	r = 0;
 out:
	fido_assert_free(&a);
	return r;
}

/* The assertion from dev into res (ASSERT), cancelled if out of time. */
static int
ask_key(fido_dev_t *dev, const struct login *l, struct zm_fido_result *res)
{
	int ms, v, ps, pl;

	if ((ms = time_left(l)) == 0 ||
	    fido_dev_set_timeout(dev, ms) != FIDO_OK)
		return ZM_ERR_TIMEOUT;
	v = get_assert(dev, l, &res->as);
	/* (A PIN the key refused is that, whatever the time.) */
	if (v != 0 && res->as.pin_status == ZM_FIDO_PIN_OK &&
	    time_left(l) == 0) {
		/* Given up: stop the key waiting for a touch. */
		if (fido_dev_set_timeout(dev, CANCEL_MS) == FIDO_OK)
			(void)fido_dev_cancel(dev);
		v = ZM_ERR_TIMEOUT;
	}
	if (v != 0) {
		ps = res->as.pin_status;
		pl = res->as.pin_left;
		zm_fido_assertion_clear(&res->as);
		res->as.pin_status = ps;
		res->as.pin_left = pl;
	}
	return v;
}

/* The whole key conversation of a login; res->r is set. */
static void
login_run(const struct login *l, struct zm_fido_result *res)
{
	struct zm_fido_devlist	 dl;
	fido_dev_t		*dev = NULL;
	size_t			 i;
	int			 more = 1, ms, holds, v, r = ZM_ERR_UNAVAILABLE;

	res->pin_left = -1;
	res->as.pin_left = -1;
	zm_fido_devlist_load(l->f, &dl);
	for (i = 0; more; i++) {
		if ((ms = time_left(l)) == 0) {
			r = ZM_ERR_TIMEOUT;
			break;
		}
		if ((dev = zm_fido_dev_open(l->f, &dl, i, ms, &more)) == NULL)
			continue;
		res->opened = 1;
		if (r == ZM_ERR_UNAVAILABLE)
			r = ZM_ERR_NOTFOUND;
		if ((ms = time_left(l)) == 0 ||
		    fido_dev_set_timeout(dev, ms) != FIDO_OK) {
			zm_fido_dev_close(&dev);
			r = ZM_ERR_TIMEOUT;
			break;
		}
		holds = holds_credential(dev, l);
		if (holds == 0 || (holds < 0 && (l->pin != NULL ||
		    l->kind == ZM_FIDO_JOB_PIN_STATE))) {
			/* Not this key; a PIN only goes to the one that is. */
			zm_fido_dev_close(&dev);
			continue;
		}
		if (l->kind == ZM_FIDO_JOB_PIN_STATE) {
			res->has_pin = fido_dev_has_pin(dev);
			if (res->has_pin && fido_dev_get_retry_count(dev,
			    &res->pin_left) != FIDO_OK)
				res->pin_left = -1;
			zm_fido_dev_close(&dev);
			r = 0;
			break;
		}
		/* The PIN was asked for this key: it must still have one. */
		if (l->pin != NULL && !fido_dev_has_pin(dev)) {
			zm_fido_dev_close(&dev);
			continue;
		}
		v = ask_key(dev, l, res);
		zm_fido_dev_close(&dev);
		/* The key holding the credential has answered: no other. */
		if (v == 0 || holds > 0 || v == ZM_ERR_TIMEOUT ||
		    res->as.pin_status != ZM_FIDO_PIN_OK) {
			r = v;
			break;
		}
		/* A key that did not say: another may hold it; keep the worst. */
		if (v != ZM_ERR_NOTFOUND)
			r = v;
	}
	zm_fido_devlist_free(&dl);
	/* Found no key in time: the deadline, not the keys, ended it. */
	if ((r == ZM_ERR_NOTFOUND || r == ZM_ERR_UNAVAILABLE ||
	    r == ZM_ERR_IO) && time_left(l) == 0)
		r = ZM_ERR_TIMEOUT;
	/* PIN_STATE: no key holds one: no PIN to ask for. */
	if (l->kind == ZM_FIDO_JOB_PIN_STATE && r == ZM_ERR_NOTFOUND)
		r = 0;
	res->r = r;
}

int
zm_fido_assert(struct zm_fido *f, const struct zm_fido_allow *allow,
    size_t n, int want_uv, const char *pin, int timeout_ms,
    struct zm_fido_assertion *out)
{
	struct zm_fido_result	res;
	struct login		l = { f, ZM_FIDO_JOB_ASSERT, allow, n, want_uv,
				    pin, 0, -1 };

	if (f == NULL || allow == NULL || n == 0 || out == NULL ||
	    timeout_ms <= 0)
		return ZM_ERR_INVALID;
	memset(&res, 0, sizeof(res));
	l.deadline = zm_mono_ms() + timeout_ms;
	login_run(&l, &res);
	*out = res.as;
	return res.r;
}

/* ---- jobs ---- */

static void
job_destroy(struct zm_fido_job *j)
{
	zm_freezero(j->pin, j->pin_len);
	free(j->ids);
	zm_fido_assertion_clear(&j->res.as);
	if (j->cancel[0] != -1)
		close(j->cancel[0]);
	if (j->cancel[1] != -1)
		close(j->cancel[1]);
	pthread_mutex_destroy(&j->mu);
	zm_wipe(j, sizeof(*j));
	free(j);
}

static void *
job_main(void *arg)
{
	struct zm_fido_job	*j = arg;
	struct zm_fido		*f = j->f;
	struct login		 l = { f, j->kind, j->allow, j->n, j->want_uv,
				    j->pin, j->deadline, j->cancel[0] };
	int			 last;

	zm_fido_cancel_fd = j->cancel[0];
	login_run(&l, &j->res);
	pthread_mutex_lock(&j->mu);
	j->done = 1;
	/* A full pipe already wakes the loop. */
	(void)!write(f->wake[1], "", 1);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (last)
		job_destroy(j);
	/* Last touch of f: zm_fido_free() may go on once running is 0. */
	pthread_mutex_lock(&f->mu);
	if (--f->running == 0)
		pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
zm_fido_job_start(struct zm_fido *f, int kind,
    const struct zm_fido_allow *allow, size_t n, int want_uv,
    const char *pin, int timeout_ms, struct zm_fido_job **out)
{
	struct zm_fido_job	*j = NULL;
	pthread_attr_t		 attr;
	pthread_t		 thr;
	sigset_t		 all, old;
	size_t			 i, off = 0;
	int			 e, r = ZM_ERR_NOMEM;

	*out = NULL;
	if (f == NULL || allow == NULL || n == 0 || n > ZM_FIDO_MAX_ALLOW ||
	    timeout_ms <= 0 || (kind != ZM_FIDO_JOB_PIN_STATE &&
	    kind != ZM_FIDO_JOB_ASSERT))
		return ZM_ERR_INVALID;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ZM_ERR_NOMEM;
	j->cancel[0] = j->cancel[1] = -1;
	if (pthread_mutex_init(&j->mu, NULL) != 0) {
		free(j);
		return ZM_ERR_NOMEM;
	}
	j->f = f;
	j->kind = kind;
	j->n = n;
	j->want_uv = want_uv;
	j->refs = 2;
	j->deadline = zm_mono_ms() + timeout_ms;
	for (i = 0; i < n; i++)
		j->ids_len += allow[i].id_len;
	if ((j->ids = malloc(j->ids_len)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		memcpy(j->ids + off, allow[i].id, allow[i].id_len);
		j->allow[i] = (struct zm_fido_allow){ j->ids + off,
		    allow[i].id_len };
		off += allow[i].id_len;
	}
	if (pin != NULL) {
		j->pin_len = strlen(pin) + 1;
		if ((j->pin = malloc(j->pin_len)) == NULL)
			goto fail;
		memcpy(j->pin, pin, j->pin_len);
	}
	if (pipe2(j->cancel, O_CLOEXEC | O_NONBLOCK) != 0) {
		zm_err("fido2: pipe: %s", strerror(errno));
		r = ZM_ERR_IO;
		goto fail;
	}
	pthread_mutex_lock(&f->mu);
	f->running++;
	pthread_mutex_unlock(&f->mu);
	/* Signals stay with the loop's thread (self-pipe). */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&thr, &attr, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		zm_err("fido2: cannot start a worker: %s", strerror(e));
		pthread_mutex_lock(&f->mu);
		f->running--;
		pthread_mutex_unlock(&f->mu);
		r = ZM_ERR_INTERNAL;
		goto fail;
	}
	*out = j;
	return 0;
 fail:
	job_destroy(j);
	return r;
}

int
zm_fido_job_poll(struct zm_fido_job *j, int64_t *wait_ms)
{
	int64_t	left;
	int	done;

	pthread_mutex_lock(&j->mu);
	done = j->done;
	pthread_mutex_unlock(&j->mu);
	if (done)
		return 1;
	left = j->deadline + LOOP_GRACE_MS - zm_mono_ms();
	if (left <= 0)
		return 1;
	*wait_ms = left;
	return 0;
}

void
zm_fido_job_result(struct zm_fido_job *j, struct zm_fido_result *out)
{
	memset(out, 0, sizeof(*out));
	out->pin_left = -1;
	out->as.pin_left = -1;
	pthread_mutex_lock(&j->mu);
	if (j->done) {
		*out = j->res;
		memset(&j->res.as, 0, sizeof(j->res.as));
	} else
		out->r = ZM_ERR_TIMEOUT;	/* discarded, whatever comes */
	pthread_mutex_unlock(&j->mu);
}

void
zm_fido_job_free(struct zm_fido_job *j)
{
	int last;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	if (!j->done)
		(void)!write(j->cancel[1], "", 1);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (last)
		job_destroy(j);
}

int
zm_fido_wake_fd(const struct zm_fido *f)
{
	return f != NULL ? f->wake[0] : -1;
}

void
zm_fido_wake_read(struct zm_fido *f)
{
	char	buf[64];

	while (f != NULL && read(f->wake[0], buf, sizeof(buf)) > 0)
		;
}
