/*
 * audit.c - the daemon's audit log: JSON lines, each chained to the one
 * before by its SHA-256 (common/auditrec.c), appended with one write() per
 * record.  The chain head (seq, hash) is also kept in the store, so a log
 * that was rotated continues the chain and a log that lost its tail is
 * noticed (R15: records protected from tampering).
 *
 * The daemon is single-threaded: no locking here.
 */
#include <config.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "tokend.h"
#include "wipe.h"

#define ZM_AUDIT_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

#define REFUSAL_SLOTS	256

/* One (uid, event) whose refusals are being coalesced (audit.h). */
struct refusal {
	int		 used;
	uid_t		 uid;
	char		 event[32];	/* = sizeof(zm_audit_rec.event) */
	int64_t		 start;		/* window start, monotonic ms */
	unsigned	 written;	/* full records in this window */
	uint64_t	 more;		/* counted, not written */
};

struct zm_audit {
	char		*path;
	int		 fd;
	struct zm_store	*st;		/* may be NULL (no head kept) */
	char		 terminal[64];
	uint64_t	 seq;		/* seq of the last record written */
	char		 head[ZM_AUDIT_HASH_HEX]; /* hash of that record */
	int		 has_caller;	/* a non-root caller is being served */
	uid_t		 caller;
	int64_t		 ref_next;	/* next window end, monotonic ms */
	struct refusal	 ref[REFUSAL_SLOTS];
};

/*
 * Copy src into a record field.  Too long is cut at a UTF-8 character
 * boundary (a half character would not format as JSON) and logged: the
 * record is still written, because losing it would be worse.
 */
static void
field_set(char *dst, size_t dstlen, const char *src, const char *name)
{
	size_t n;

	if (src == NULL)
		src = "";
	n = strlen(src);
	if (n >= dstlen) {
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
		zm_warn("audit field %s cut to %zu bytes", name, n);
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
open_log(const char *path, int *fdp)
{
	struct stat	sb;
	int		fd;

	*fdp = -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0640);
	if (fd == -1) {
		zm_err("cannot open audit log %s: %s", path, strerror(errno));
		return ZM_ERR_IO;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		zm_err("audit log %s is not a regular file", path);
		close(fd);
		return ZM_ERR_IO;
	}
	/*
	 * One writer per log: two chains appended to one file would break
	 * each other.  The lock also tells an offline zonemfa-revoke whether a
	 * daemon is still running behind an unreachable socket.
	 */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		if (e == EWOULDBLOCK)
			zm_err("audit log %s is in use by another process "
			    "(is zonemfa-tokend running?)", path);
		else
			zm_err("cannot lock audit log %s: %s", path,
			    strerror(e));
		close(fd);
		return e == EWOULDBLOCK ? ZM_ERR_EXISTS : ZM_ERR_IO;
	}
	/* The daemon runs with umask 077; a new log is group-readable 0640. */
	if (sb.st_size == 0 && (sb.st_mode & 07777) != 0640 &&
	    fchmod(fd, 0640) == -1)
		zm_warn("cannot chmod audit log %s: %s", path, strerror(errno));
	*fdp = fd;
	return 0;
}

/*
 * Read the last line of the log at path, which must be the same file as
 * wfd (checked by inode, so a rename in between is not mistaken for it).
 * *empty = 1 for an empty file; else seq and hash of the last record.  A
 * last line that is incomplete, too long or does not parse is
 * ZM_ERR_INVALID: we never start a new chain on top of a damaged one.
 */
static int
read_tail(const char *path, int wfd, int *empty, uint64_t *seq,
    char hash[ZM_AUDIT_HASH_HEX])
{
	struct stat		 wsb, rsb;
	struct zm_audit_rec	 rec;
	char			*buf = NULL;
	size_t			 want, got = 0, start, len;
	off_t			 off;
	ssize_t			 n;
	int			 fd = -1, r = ZM_ERR_INTERNAL;

	*empty = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		zm_err("cannot read audit log %s: %s", path, strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	if (fstat(wfd, &wsb) == -1 || fstat(fd, &rsb) == -1 ||
	    wsb.st_dev != rsb.st_dev || wsb.st_ino != rsb.st_ino) {
		zm_err("audit log %s changed while being opened", path);
		r = ZM_ERR_IO;
		goto out;
	}
	if (rsb.st_size == 0) {
		*empty = 1;
		r = 0;
		goto out;
	}
	/* One line is at most ZM_AUDIT_MAX_LINE bytes plus its newline. */
	want = ZM_AUDIT_MAX_LINE + 2;
	if ((off_t)want > rsb.st_size)
		want = (size_t)rsb.st_size;
	off = rsb.st_size - (off_t)want;
	if ((buf = malloc(want)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	while (got < want) {
		n = pread(fd, buf + got, want - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			zm_err("cannot read audit log %s: %s", path,
			    n == 0 ? "unexpected end" : strerror(errno));
			r = ZM_ERR_IO;
			goto out;
		}
		got += (size_t)n;
	}
	if (buf[want - 1] != '\n') {
		zm_err("audit log %s: last line is incomplete; refusing to "
		    "continue the chain (repair or rotate the log)", path);
		r = ZM_ERR_INVALID;
		goto out;
	}
	len = want - 1;			/* without the final newline */
	start = len;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && off > 0) {
		zm_err("audit log %s: last line longer than %d bytes; refusing "
		    "to continue the chain", path, ZM_AUDIT_MAX_LINE);
		r = ZM_ERR_INVALID;
		goto out;
	}
	if (zm_auditrec_parse(buf + start, len - start, &rec) != 0) {
		zm_err("audit log %s: last line does not parse; refusing to "
		    "continue the chain (repair or rotate the log)", path);
		r = ZM_ERR_INVALID;
		goto out;
	}
	if ((r = zm_audit_hash(buf + start, len - start, hash)) != 0)
		goto out;
	*seq = rec.seq;
	r = 0;
 out:
	free(buf);
	if (fd != -1)
		close(fd);
	return r;
}

/*
 * Compare the log's last record with the head in the store.  A log that
 * ends before the store's head lost records (truncated, or rotated and
 * refilled); a different hash at the same seq means the last line was
 * replaced.  Both are recorded in the chain itself, because the store's
 * head is overwritten by the next record and the evidence would be gone.
 */
static int
check_store_head(struct zm_audit *a)
{
	char		shash[ZM_AUDIT_HASH_HEX], detail[256];
	uint64_t	sseq = 0;
	int		n, r;

	if (a->st == NULL)
		return 0;
	if ((r = zm_store_audit_head_get(a->st, &sseq, shash)) != 0) {
		zm_err("cannot read the audit head from the store: %s",
		    zm_strerror(r));
		return r;
	}
	if (sseq == 0 || sseq < a->seq)
		return 0;	/* nothing kept, or the store lags (crash) */
	if (sseq == a->seq && strcmp(shash, a->head) == 0)
		return 0;
	n = snprintf(detail, sizeof(detail), "log ends at seq %" PRIu64
	    ", registry head is seq %" PRIu64 " %.16s...", a->seq, sseq, shash);
	if (n < 0 || (size_t)n >= sizeof(detail))
		return ZM_ERR_INTERNAL;
	zm_err("audit log %s does not match the registry: %s", a->path, detail);
	return zm_audit_event(a, "audit", "", "", "error",
	    sseq == a->seq ? "last record differs from registry head" :
	    "records missing from the end of the log", "", "", "", detail, 1);
}

int
zm_audit_open(const char *path, struct zm_store *st, const char *terminal,
    struct zm_audit **out)
{
	struct zm_audit	*a = NULL;
	int		 empty = 0, r = ZM_ERR_INTERNAL;

	if (path == NULL || out == NULL)
		return ZM_ERR_INVALID;
	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ZM_ERR_NOMEM;
	a->fd = -1;
	a->st = st;
	field_set(a->terminal, sizeof(a->terminal), terminal, "terminal");
	if ((a->path = strdup(path)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	if ((r = open_log(path, &a->fd)) != 0)
		goto out;
	if ((r = read_tail(path, a->fd, &empty, &a->seq, a->head)) != 0)
		goto out;
	if (empty) {
		/* New or rotated file: the chain goes on from the store. */
		a->seq = 0;
		memcpy(a->head, ZM_AUDIT_ZERO_HASH, sizeof(a->head));
		if (st != NULL &&
		    (r = zm_store_audit_head_get(st, &a->seq, a->head)) != 0) {
			zm_err("cannot read the audit head from the store: %s",
			    zm_strerror(r));
			goto out;
		}
		a->head[ZM_AUDIT_HASH_HEX - 1] = '\0';
	} else if ((r = check_store_head(a)) != 0)
		goto out;
	zm_debug("audit log %s continues at seq %" PRIu64, path, a->seq + 1);
	*out = a;
	a = NULL;
	r = 0;
 out:
	zm_audit_close(a);
	return r;
}

int
zm_audit_reopen(struct zm_audit *a)
{
	struct stat	psb, fsb;
	uint64_t	seq = 0;
	char		hash[ZM_AUDIT_HASH_HEX];
	int		fd = -1, empty = 0, r = ZM_ERR_INTERNAL;

	if (a == NULL)
		return ZM_ERR_INVALID;
	/* Not rotated: the file we hold (and have locked) is still there. */
	if (a->fd != -1 && stat(a->path, &psb) == 0 && fstat(a->fd, &fsb) == 0 &&
	    psb.st_dev == fsb.st_dev && psb.st_ino == fsb.st_ino)
		return 0;
	/* Open the new file first: if that fails we keep the old one. */
	if ((r = open_log(a->path, &fd)) != 0)
		goto out;
	if ((r = read_tail(a->path, fd, &empty, &seq, hash)) != 0)
		goto out;
	if (!empty && (seq != a->seq || strcmp(hash, a->head) != 0)) {
		zm_err("audit log %s after reopen ends at seq %" PRIu64
		    ", not at our head seq %" PRIu64 "; keeping the old file",
		    a->path, seq, a->seq);
		r = ZM_ERR_INVALID;
		goto out;
	}
	/* Empty (rotated) or the same file: the chain goes on from our head. */
	if (a->fd != -1)
		close(a->fd);
	a->fd = fd;
	fd = -1;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	return r;
}

void
zm_audit_close(struct zm_audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	free(a->path);
	free(a);
}

static int
write_all_once(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	/* One write() with O_APPEND: the line lands whole or we say so. */
	do {
		n = write(fd, p, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		zm_err("audit write failed: %s", strerror(errno));
		return ZM_ERR_IO;
	}
	if ((size_t)n != len) {
		zm_err("audit write short: %zd of %zu bytes", n, len);
		return ZM_ERR_IO;
	}
	return 0;
}

int
zm_audit_write(struct zm_audit *a, struct zm_audit_rec *rec, int durable)
{
	struct zm_buf	line;
	char		hash[ZM_AUDIT_HASH_HEX];
	int		r = ZM_ERR_INTERNAL;

	zm_buf_init(&line, ZM_AUDIT_MAX_LINE + 1);
	if (a == NULL || rec == NULL || a->fd == -1) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	rec->seq = a->seq + 1;
	zm_audit_now(rec->time, sizeof(rec->time));
	memcpy(rec->terminal, a->terminal, sizeof(rec->terminal));
	memcpy(rec->prev, a->head, sizeof(rec->prev));

	if ((r = zm_auditrec_format(rec, &line)) != 0) {
		zm_err("cannot format audit record (event %s): %s",
		    rec->event, zm_strerror(r));
		goto out;
	}
	if (line.len > ZM_AUDIT_MAX_LINE) {
		r = ZM_ERR_TOOBIG;
		goto out;
	}
	if ((r = zm_audit_hash((const char *)line.data, line.len, hash)) != 0)
		goto out;
	if ((r = zm_buf_put_u8(&line, '\n')) != 0)
		goto out;
	if ((r = write_all_once(a->fd, line.data, line.len)) != 0)
		goto out;
	if (durable && fdatasync(a->fd) == -1) {
		zm_err("audit fdatasync failed: %s", strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	/* The record is in the file: the chain has moved on regardless. */
	a->seq = rec->seq;
	memcpy(a->head, hash, sizeof(a->head));

	zm_log_raw(LOG_INFO, "audit", "seq=%" PRIu64 " event=%s user=%s "
	    "zone=%s result=%s reason=%s", rec->seq, rec->event, rec->user,
	    rec->zone, rec->result, rec->reason);

	if (a->st != NULL &&
	    (r = zm_store_audit_head_set(a->st, a->seq, a->head)) != 0) {
		zm_err("cannot store the audit head (seq %" PRIu64 "): %s",
		    a->seq, zm_strerror(r));
		goto out;
	}
	r = 0;
 out:
	zm_buf_free(&line);
	return r;
}

void
zm_audit_caller(struct zm_audit *a, int set, uid_t uid)
{
	if (a == NULL)
		return;
	a->has_caller = set;
	a->caller = set ? uid : 0;
}

/* The "N more refused" record of slot e's window. */
static int
refusal_summary(struct zm_audit *a, const struct refusal *e, int64_t now)
{
	struct zm_audit_rec	rec;
	int			n;

	memset(&rec, 0, sizeof(rec));
	field_set(rec.event, sizeof(rec.event), e->event, "event");
	field_set(rec.result, sizeof(rec.result), "refused", "result");
	n = snprintf(rec.reason, sizeof(rec.reason), "%" PRIu64
	    " more refused", e->more);
	if (n < 0 || (size_t)n >= sizeof(rec.reason))
		return ZM_ERR_INTERNAL;
	n = snprintf(rec.detail, sizeof(rec.detail), "coalesced: caller uid "
	    "%lu, %" PRIu64 " refusals not written in full in %lld ms",
	    (unsigned long)e->uid, e->more, (long long)(now - e->start));
	if (n < 0 || (size_t)n >= sizeof(rec.detail))
		return ZM_ERR_INTERNAL;
	return zm_audit_write(a, &rec, 0);
}

/*
 * Slot e's window is over: its summary, then a new window if it was a
 * flood (one full record allowed, so the flood's reasons stay visible),
 * else the slot is freed.
 */
static void
refusal_window_end(struct zm_audit *a, struct refusal *e, int64_t now)
{
	if (e->more == 0) {
		e->used = 0;
		return;
	}
	if (refusal_summary(a, e, now) != 0) {
		/* Keep counting: the next window end tries again. */
		zm_err("audit: cannot write the summary of %" PRIu64
		    " refusals (uid %lu)", e->more, (unsigned long)e->uid);
		e->start = now;
		return;
	}
	e->start = now;
	e->written = ZM_AUDIT_COALESCE_BURST - 1;
	e->more = 0;
}

int64_t
zm_audit_tick(struct zm_audit *a, int64_t now)
{
	struct refusal	*e;
	int64_t		 next = INT64_MAX;
	size_t		 i;

	if (a == NULL)
		return INT64_MAX;
	/* ref_next is 0 exactly when no slot is in use. */
	if (now != INT64_MAX && a->ref_next == 0)
		return INT64_MAX;
	if (now != INT64_MAX && now < a->ref_next)
		return a->ref_next - now;
	for (i = 0; i < REFUSAL_SLOTS; i++) {
		e = &a->ref[i];
		if (!e->used)
			continue;
		if (now == INT64_MAX || now - e->start >= ZM_AUDIT_COALESCE_MS)
			refusal_window_end(a, e, now == INT64_MAX ?
			    zm_mono_ms() : now);
		if (e->used && e->start + ZM_AUDIT_COALESCE_MS < next)
			next = e->start + ZM_AUDIT_COALESCE_MS;
	}
	a->ref_next = next == INT64_MAX ? 0 : next;
	if (next == INT64_MAX || now == INT64_MAX)
		return INT64_MAX;
	return next > now ? next - now : 0;
}

/*
 * 1 when this refusal of the current caller is counted instead of
 * written; 0: write it.  A full table writes everything (more records,
 * never fewer).
 */
static int
refusal_coalesce(struct zm_audit *a, const char *event)
{
	struct refusal	*e = NULL, *free_e = NULL;
	int64_t		 now;
	size_t		 i;

	if (!a->has_caller || event == NULL ||
	    strlen(event) >= sizeof(e->event))
		return 0;
	for (i = 0; i < REFUSAL_SLOTS && e == NULL; i++) {
		if (!a->ref[i].used) {
			if (free_e == NULL)
				free_e = &a->ref[i];
		} else if (a->ref[i].uid == a->caller &&
		    strcmp(a->ref[i].event, event) == 0)
			e = &a->ref[i];
	}
	now = zm_mono_ms();
	if (e != NULL && now - e->start >= ZM_AUDIT_COALESCE_MS)
		refusal_window_end(a, e, now);
	if (e == NULL || !e->used) {
		if (e == NULL && (e = free_e) == NULL)
			return 0;
		memset(e, 0, sizeof(*e));
		e->used = 1;
		e->uid = a->caller;
		memcpy(e->event, event, strlen(event) + 1);
		e->start = now;
		if (a->ref_next == 0 || now + ZM_AUDIT_COALESCE_MS < a->ref_next)
			a->ref_next = now + ZM_AUDIT_COALESCE_MS;
	}
	if (e->written < ZM_AUDIT_COALESCE_BURST) {
		e->written++;
		return 0;
	}
	e->more++;
	return 1;
}

int
zm_audit_event(struct zm_audit *a, const char *event, const char *user,
    const char *zone, const char *result, const char *reason,
    const char *methods, const char *operator_, const char *token,
    const char *detail, int durable)
{
	return zm_audit_event_person(a, event, user, NULL, zone, result,
	    reason, methods, operator_, token, detail, durable);
}

int
zm_audit_event_person(struct zm_audit *a, const char *event,
    const char *user, const char *person, const char *zone,
    const char *result, const char *reason, const char *methods,
    const char *operator_, const char *token, const char *detail,
    int durable)
{
	struct zm_audit_rec rec;

	if (a != NULL && result != NULL && strcmp(result, "refused") == 0 &&
	    refusal_coalesce(a, event))
		return 0;
	memset(&rec, 0, sizeof(rec));
	field_set(rec.event, sizeof(rec.event), event, "event");
	field_set(rec.user, sizeof(rec.user), user, "user");
	field_set(rec.person, sizeof(rec.person), person, "person");
	field_set(rec.zone, sizeof(rec.zone), zone, "zone");
	field_set(rec.result, sizeof(rec.result), result, "result");
	field_set(rec.reason, sizeof(rec.reason), reason, "reason");
	field_set(rec.methods, sizeof(rec.methods), methods, "methods");
	field_set(rec.operator_, sizeof(rec.operator_), operator_, "operator");
	field_set(rec.token, sizeof(rec.token), token, "token");
	field_set(rec.detail, sizeof(rec.detail), detail, "detail");
	return zm_audit_write(a, &rec, durable);
}
