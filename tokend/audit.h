/*
 * audit.h - the daemon's audit log writer (JSON lines, hash-chained; see
 * common/auditrec.h for the format).  Every record is also sent to syslog
 * (LOG_AUTHPRIV|LOG_INFO) without secrets.
 */
#ifndef ZM_AUDIT_H
#define ZM_AUDIT_H

#include <sys/types.h>
#include <stdint.h>

#include "auditrec.h"

struct zm_store;
struct zm_audit;

/*
 * Open path for appending (created 0640).  The chain continues from the
 * last line of the file; if the file is empty it continues from the head
 * stored in st (log rotation), else from 64 zeros.
 */
int zm_audit_open(const char *path, struct zm_store *st, const char *terminal,
    struct zm_audit **out);
void zm_audit_close(struct zm_audit *a);

/*
 * SIGHUP log rotation: open the path again.  An empty (new) file continues
 * the chain from the in-memory head; the same file just goes on.  A
 * different non-empty file is refused (ZM_ERR_INVALID) and the old
 * descriptor is kept, as on any other error.
 */
int zm_audit_reopen(struct zm_audit *a);

/*
 * Append one record.  r->seq, r->time, r->terminal and r->prev are filled
 * here.  durable != 0: fdatasync before returning (revocations, enrolments).
 */
int zm_audit_write(struct zm_audit *a, struct zm_audit_rec *r, int durable);

/* Convenience: fill a record from the common fields and write it. */
int zm_audit_event(struct zm_audit *a, const char *event, const char *user,
    const char *zone, const char *result, const char *reason,
    const char *methods, const char *operator_, const char *token,
    const char *detail, int durable);
/*
 * The same with the person behind a shared account (NULL or "": none;
 * the record then has no "person" field).
 */
int zm_audit_event_person(struct zm_audit *a, const char *event,
    const char *user, const char *person, const char *zone,
    const char *result, const char *reason, const char *methods,
    const char *operator_, const char *token, const char *detail,
    int durable);

/*
 * Floods of refusals.  A caller that sends refused requests in a loop must
 * not fill the disk (a login that cannot be audited is refused, so a full
 * disk locks everyone out).  While the loop has set a non-root caller,
 * that caller's "refused" records are coalesced per (uid, event): in each
 * window of ZM_AUDIT_COALESCE_MS the first ZM_AUDIT_COALESCE_BURST are
 * written in full (one if the window before was a flood too), the rest
 * are counted, and when the window ends one record says "N more refused"
 * (detail: the caller uid and the window).  Counted, never dropped; root's
 * refusals (the login programs) are always written in full.
 */
#define ZM_AUDIT_COALESCE_MS	10000
#define ZM_AUDIT_COALESCE_BURST	8

/* The caller of the request being served: set 1 (non-root) or 0 (none). */
void zm_audit_caller(struct zm_audit *a, int set, uid_t uid);
/*
 * Write the summaries of the windows that have ended (all of them when
 * now_ms -- zm_mono_ms() -- is INT64_MAX, e.g. at exit).  Returns ms until the next is due,
 * INT64_MAX when none is pending.
 */
int64_t zm_audit_tick(struct zm_audit *a, int64_t now_ms);

#endif
