/*
 * store_sqlite_ckpt.c - WAL checkpoints off the login path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
 * past 1000 pages: that login then copies the pages into the database and
 * fsyncs it, 14-31 ms, about 3 logins in 1,000 (issue 11).  Here the
 * daemon's connection has wal_autocheckpoint off and a WAL hook instead:
 * past CKPT_PAGES it only wakes a thread that runs a PASSIVE checkpoint on
 * its own connection to the same file.  PASSIVE never waits for a lock and
 * never blocks readers or writers; the next commit after a complete
 * checkpoint restarts the WAL from the beginning.
 *
 * Durability is what it was: the commits themselves keep their
 * synchronous setting (NORMAL on the login path, FULL around revocations
 * and enrolments); a checkpoint only moves committed pages, with the same
 * fsyncs SQLite's automatic one does.
 *
 * The thread starts on the first checkpoint needed, so a daemon forks
 * (daemonise) before it exists; it stops in zm_sq_ckpt_free().  Should it
 * fail to start, the checkpoint runs inline as before (never unbounded WAL).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "store_impl.h"
#include "store_sqlite_impl.h"

/* SQLite's own default threshold (pages of the WAL). */
#define CKPT_PAGES	1000

struct sq_ckpt {
	char		*path;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 thread;
	int		 started;	/* thread running */
	int		 failed;	/* could not start: inline */
	int		 pending;	/* a checkpoint is asked for */
	int		 busy;		/* the thread is checkpointing */
	int		 stop;
	uint64_t	 runs;		/* checkpoints done by the thread */
	uint64_t	 asked;		/* wake-ups asked for by commits */
};

static void
checkpoint(sqlite3 *db, const char *who)
{
	int	rc;

	rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		zm_warn("%s checkpoint: %s", who, sqlite3_errmsg(db));
}

static void *
ckpt_main(void *arg)
{
	struct sq_ckpt	*c = arg;
	sqlite3		*db = NULL;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->pending && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->pending = 0;
		c->busy = 1;
		pthread_mutex_unlock(&c->mu);
		if (db == NULL && sqlite3_open_v2(c->path, &db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
		    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			zm_warn("checkpoint: open %s: %s", c->path, db != NULL ?
			    sqlite3_errmsg(db) : "out of memory");
			sqlite3_close(db);
			db = NULL;
		}
		if (db != NULL) {
			/* As the login path's commits: same fsyncs as before. */
			(void)sqlite3_exec(db, "PRAGMA synchronous = NORMAL",
			    NULL, NULL, NULL);
			checkpoint(db, "background");
		}
		pthread_mutex_lock(&c->mu);
		c->busy = 0;
		c->runs++;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	sqlite3_close(db);
	return NULL;
}

/* After every commit on the daemon's connection (SQLite calls it). */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq_ckpt	*c = arg;
	int		 inline_ckpt = 0;

	(void)name;
	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&c->mu);
	if (!c->started && !c->failed) {
		if (pthread_create(&c->thread, NULL, ckpt_main, c) == 0)
			c->started = 1;
		else {
			c->failed = 1;
			zm_warn("checkpoint thread: %s; checkpoints inline",
			    strerror(errno));
		}
	}
	if (c->started) {
		c->pending = 1;
		c->asked++;
		pthread_cond_broadcast(&c->cv);
	} else
		inline_ckpt = 1;
	pthread_mutex_unlock(&c->mu);
	if (inline_ckpt)
		checkpoint(db, "inline");
	return SQLITE_OK;
}

int
zm_sq_ckpt_init(struct sq *s)
{
	struct sq_ckpt	*c;
	const char	*path;

	if ((path = sqlite3_db_filename(s->db, "main")) == NULL ||
	    *path == '\0')
		return 0;	/* no file: nothing to checkpoint */
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		return ZM_ERR_NOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	/* Off: our hook instead (it replaces the automatic one anyway). */
	if (sqlite3_wal_autocheckpoint(s->db, 0) != SQLITE_OK) {
		zm_err("wal_autocheckpoint: %s", sqlite3_errmsg(s->db));
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c->path);
		free(c);
		return ZM_ERR_STORE;
	}
	sqlite3_wal_hook(s->db, wal_hook, c);
	s->ckpt = c;
	return 0;
}

void
zm_sq_ckpt_free(struct sq *s)
{
	struct sq_ckpt	*c = s->ckpt;

	if (c == NULL)
		return;
	sqlite3_wal_hook(s->db, NULL, NULL);
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->started)
		pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->path);
	free(c);
	s->ckpt = NULL;
}

/*
 * For tests: wait (up to ms) until no checkpoint is asked for or running;
 * *asked: commits that asked for one, *runs: checkpoints the thread ran
 * (asks that come while one is pending share it).  ZM_ERR_NOTFOUND
 * when this store has no checkpointer.
 */
int
zm_sq_ckpt_wait(struct zm_store *st, int ms, uint64_t *asked, uint64_t *runs)
{
	struct sq_ckpt	*c = SQ(st)->ckpt;
	struct timespec	 ts;

	if (c == NULL)
		return ZM_ERR_NOTFOUND;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (c->started && (c->pending || c->busy) &&
	    pthread_cond_timedwait(&c->cv, &c->mu, &ts) == 0)
		;
	*asked = c->asked;
	*runs = c->runs;
	pthread_mutex_unlock(&c->mu);
	return 0;
}
