/*
 * audit.h - the daemon's audit log writer (JSON lines, hash-chained; see
 * common/auditrec.h for the format).  Every record is also sent to syslog
 * (LOG_AUTHPRIV|LOG_INFO) without secrets.
 */
#ifndef ZM_AUDIT_H
#define ZM_AUDIT_H

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

#endif
