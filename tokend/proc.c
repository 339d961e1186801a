/*
 * proc.c - the processes of a login session (R5: a revoked token ends
 * every session it opened, all of it).
 *
 * A session is recorded with the PID (and start time) of the process that
 * opened it: login, su, sshd's monitor, a display manager's worker.  What
 * runs in it are that process's descendants and, since login and sshd put
 * the user's shell in a session of its own (setsid), every member of a
 * process session led by one of them: a background job re-parented to
 * init stays in its session and is found that way.  A process that left
 * with setsid() and a double fork escapes this; logind's cgroup does not
 * let it, which is why a logind session is ended through logind.
 */
#include <config.h>

#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "proc.h"

#define ANCESTORS_MAX	64

int
zm_proc_read(pid_t pid, struct zm_proc *out)
{
	char			 path[64], buf[2048], *p, *end;
	unsigned long long	 v[4];
	ssize_t			 len;
	int			 fd, n, field, k = 0;

	memset(out, 0, sizeof(*out));
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
	/* The command name (field 2) may hold spaces or ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return ZM_ERR_INVALID;
	p += 2;
	out->pid = pid;
	out->state = *p;
	/* Fields 4 (ppid), 6 (session) and 22 (start time). */
	for (field = 3; field < 22; field++) {
		if ((p = strchr(p, ' ')) == NULL)
			return ZM_ERR_INVALID;
		p++;
		if (field + 1 != 4 && field + 1 != 6 && field + 1 != 22)
			continue;
		errno = 0;
		v[k] = strtoull(p, &end, 10);
		if (errno != 0 || end == p || (*end != ' ' && *end != '\n' &&
		    *end != '\0'))
			return ZM_ERR_INVALID;
		k++;
	}
	if (k != 3 || v[0] > INT32_MAX || v[1] > INT32_MAX)
		return ZM_ERR_INVALID;
	out->ppid = (pid_t)v[0];
	out->sid = (pid_t)v[1];
	out->start = v[2];
	return ZM_OK;
}

int
zm_proc_running(pid_t pid, uint64_t start)
{
	struct zm_proc	p;
	int		r;

	if (pid <= 1)
		return 0;
	r = zm_proc_read(pid, &p);
	if (r == ZM_ERR_NOTFOUND)
		return 0;
	if (r != ZM_OK)
		return 1;
	if (p.state == 'Z' || p.state == 'X' || p.start != start)
		return 0;
	return 1;
}

int
zm_proc_uid_is(pid_t pid, uid_t uid)
{
	char			 path[64], line[256];
	unsigned long long	 u[4];
	FILE			*f;
	int			 n, ok = 0;

	n = snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Uid:", 4) != 0)
			continue;
		if (sscanf(line + 4, "%llu %llu %llu %llu", &u[0], &u[1],
		    &u[2], &u[3]) == 4)
			ok = u[0] == uid && u[1] == uid && u[2] == uid &&
			    u[3] == uid;
		break;
	}
	fclose(f);
	return ok;
}

int
zm_procset_add(struct zm_procset *set, const struct zm_proc *p)
{
	struct zm_proc	*np;
	size_t		 cap;

	if (set->n == set->cap) {
		cap = set->cap == 0 ? 8 : set->cap * 2;
		if ((np = reallocarray(set->p, cap, sizeof(*np))) == NULL)
			return ZM_ERR_NOMEM;
		set->p = np;
		set->cap = cap;
	}
	set->p[set->n++] = *p;
	return ZM_OK;
}

void
zm_procset_free(struct zm_procset *set)
{
	if (set == NULL)
		return;
	free(set->p);
	memset(set, 0, sizeof(*set));
}

size_t
zm_procset_prune(struct zm_procset *set)
{
	size_t i, k = 0;

	for (i = 0; i < set->n; i++) {
		if (zm_proc_running(set->p[i].pid, set->p[i].start))
			set->p[k++] = set->p[i];
	}
	set->n = k;
	return k;
}

/* Every process, read in one pass (those that vanish meanwhile are left out). */
static int
proc_scan(struct zm_procset *all)
{
	struct dirent	*de;
	struct zm_proc	 p;
	DIR		*dir;
	char		*end;
	long		 pid;
	int		 r = ZM_OK;

	if ((dir = opendir("/proc")) == NULL) {
		zm_err("/proc: %s", strerror(errno));
		return ZM_ERR_IO;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT32_MAX)
			continue;
		if (zm_proc_read((pid_t)pid, &p) != ZM_OK ||
		    p.state == 'Z' || p.state == 'X')
			continue;
		if ((r = zm_procset_add(all, &p)) != ZM_OK)
			break;
	}
	closedir(dir);
	return r;
}

static int
sid_owned(const struct zm_procset *set, pid_t sid)
{
	size_t i;

	for (i = 0; i < set->nsids; i++) {
		if (set->sids[i] == sid)
			return 1;
	}
	return 0;
}

static int
set_has_pid(const struct zm_procset *set, pid_t pid)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (set->p[i].pid == pid)
			return 1;
	}
	return 0;
}

/* Remember a process session that member m leads. */
static void
sid_note(struct zm_procset *set, const struct zm_proc *m, pid_t own_sid)
{
	if (m->sid != m->pid || m->sid <= 1 || m->sid == own_sid ||
	    sid_owned(set, m->sid))
		return;
	if (set->nsids < sizeof(set->sids) / sizeof(set->sids[0]))
		set->sids[set->nsids++] = m->sid;
}

/* This process and its ancestors: never part of a session we end. */
static size_t
own_lineage(const struct zm_procset *all, pid_t out[ANCESTORS_MAX])
{
	size_t	n = 0, i;
	pid_t	pid = getpid();

	while (pid > 1 && n < ANCESTORS_MAX) {
		out[n++] = pid;
		for (i = 0; i < all->n && all->p[i].pid != pid; i++)
			;
		if (i == all->n)
			break;
		pid = all->p[i].ppid;
	}
	return n;
}

int
zm_procset_expand(struct zm_procset *set)
{
	struct zm_procset	all, keep;
	pid_t			mine[ANCESTORS_MAX], own_sid = getsid(0);
	size_t			nmine, i, j, k;
	int			changed, skip, r;

	memset(&all, 0, sizeof(all));
	memset(&keep, 0, sizeof(keep));
	memcpy(keep.sids, set->sids, sizeof(keep.sids));
	keep.nsids = set->nsids;
	if ((r = proc_scan(&all)) != ZM_OK)
		goto out;
	nmine = own_lineage(&all, mine);
	/* The members as they are now (the PID still the same process). */
	for (i = 0; i < set->n; i++) {
		for (j = 0; j < all.n; j++) {
			if (all.p[j].pid == set->p[i].pid &&
			    all.p[j].start == set->p[i].start &&
			    (r = zm_procset_add(&keep, &all.p[j])) != ZM_OK)
				goto out;
		}
	}
	do {
		changed = 0;
		for (k = 0; k < keep.n; k++)
			sid_note(&keep, &keep.p[k], own_sid);
		for (j = 0; j < all.n; j++) {
			const struct zm_proc *p = &all.p[j];

			if (p->pid <= 2 || set_has_pid(&keep, p->pid))
				continue;
			for (k = 0, skip = 0; k < nmine; k++)
				skip |= mine[k] == p->pid;
			if (skip)
				continue;
			/* A child, or a member of a session one of ours leads. */
			for (k = 0; k < keep.n; k++) {
				if (p->ppid == keep.p[k].pid)
					break;
			}
			if (k == keep.n && !sid_owned(&keep, p->sid))
				continue;
			if ((r = zm_procset_add(&keep, p)) != ZM_OK)
				goto out;
			changed = 1;
		}
	} while (changed);
	free(set->p);
	*set = keep;
	memset(&keep, 0, sizeof(keep));
	r = ZM_OK;
 out:
	zm_procset_free(&all);
	zm_procset_free(&keep);
	return r;
}

static int
pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int
pidfd_signal_(int fd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
#else
	(void)fd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

/* Signal one process if it is still the one that started at start. */
static void
signal_one(const struct zm_proc *p, int sig, uid_t only_uid, size_t *skipped)
{
	int fd, r;

	/*
	 * Pin the PID first: after this it cannot name another process.
	 * Without pidfds (an old kernel, a seccomp filter) the start time
	 * check right before kill() is what is left.
	 */
	fd = pidfd_open_(p->pid);
	if (fd == -1 && errno == ESRCH)
		return;		/* gone */
	if (!zm_proc_running(p->pid, p->start))
		goto out;
	if (only_uid != (uid_t)-1 && !zm_proc_uid_is(p->pid, only_uid)) {
		(*skipped)++;
		goto out;
	}
	r = fd != -1 ? pidfd_signal_(fd, sig) : kill(p->pid, sig);
	if (r == -1 && errno != ESRCH)
		zm_warn("signal %d to %ld: %s", sig, (long)p->pid,
		    strerror(errno));
 out:
	if (fd != -1)
		close(fd);
}

void
zm_procset_signal(struct zm_procset *set, int sig, uid_t only_uid,
    size_t *skipped)
{
	size_t i, dummy = 0;

	if (skipped == NULL)
		skipped = &dummy;
	*skipped = 0;
	for (i = 0; i < set->n; i++)
		signal_one(&set->p[i], sig, only_uid, skipped);
}
