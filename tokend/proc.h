/*
 * proc.h - the processes of a login session, read from /proc, and
 * signalling them without hitting a reused PID.
 */
#ifndef ZM_PROC_H
#define ZM_PROC_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* One process, as /proc/PID/stat shows it. */
struct zm_proc {
	pid_t		pid;
	pid_t		ppid;
	pid_t		sid;
	char		state;		/* R S D Z X ... */
	uint64_t	start;		/* field 22: start time in clock ticks */
};

/* A set of processes, each named by PID and start time. */
struct zm_procset {
	struct zm_proc	*p;
	size_t		 n;
	size_t		 cap;
	pid_t		 sids[16];	/* process sessions led by a member */
	size_t		 nsids;
};

/*
 * Read /proc/PID/stat.  ZM_ERR_NOTFOUND when there is no such process,
 * ZM_ERR_INVALID when the file cannot be parsed.
 */
int zm_proc_read(pid_t pid, struct zm_proc *out);

/*
 * 1 if pid is still the process that started at start; 0 if it is gone
 * (exited, a zombie, or the PID names another process now).  A process
 * that cannot be read counts as still there.
 */
int zm_proc_running(pid_t pid, uint64_t start);

/* 1 if the real, effective, saved and file-system uids of pid are all uid. */
int zm_proc_uid_is(pid_t pid, uid_t uid);

/*
 * Add to set every live process that belongs to the session of the
 * processes already in it: their descendants, and every member of a
 * process session (setsid) that one of them leads -- so a shell's
 * background job that was re-parented to init is found too.  Never pid 1,
 * this process or a member of this process's own session.  The set is
 * read in one pass over /proc.
 */
int zm_procset_expand(struct zm_procset *set);

/* Append one process (no check). */
int zm_procset_add(struct zm_procset *set, const struct zm_proc *p);

/* Drop the members that are no longer running; returns how many are left. */
size_t zm_procset_prune(struct zm_procset *set);

/*
 * Send sig to every member still running.  With only_uid != (uid_t)-1 a
 * process whose uids are not all only_uid is not signalled (it has
 * exec'd a set-uid program: not the user's to end) and *skipped counts
 * it.  The PID is pinned with a pidfd before its start time is checked,
 * so the signal cannot reach a process that reused the PID.
 */
void zm_procset_signal(struct zm_procset *set, int sig, uid_t only_uid,
    size_t *skipped);

void zm_procset_free(struct zm_procset *set);

#endif
