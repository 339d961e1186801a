/*
 * revoke_offline.c - zonemfa-revoke when the daemon cannot be reached.
 *
 * A lost card must be stopped even while zonemfa-tokend is down (SPEC:
 * "where the daemon is down, prints that sessions could not be ended and
 * exits non-zero after recording the revocation").  Only root can do this:
 * the registry and the audit log are root's.  The audit log's lock proves
 * that no daemon is running behind an unreachable socket (one writer per
 * chain); if one holds it, nothing is written here.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "err.h"
#include "revoke_offline.h"
#include "store.h"

int
revoke_offline(const struct zm_config *cfg, const char *user,
    int64_t token_id, const char *serial, const char *reason,
    struct cli_result *res)
{
	struct zm_store	*st = NULL;
	struct zm_audit	*a = NULL;
	int64_t		*ids = NULL, now = (int64_t)time(NULL);
	size_t		 n = 0, i, off = 0;
	char		 detail[256];
	int		 r;

	if (geteuid() != 0)
		return ZM_ERR_PERM;
	if ((r = zm_store_open(cfg->store, &st)) != ZM_OK) {
		cli_warnx(_("cannot open the registry %s: %s"), cfg->store,
		    zm_strerror(r));
		goto out;
	}
	/* Takes the log's lock: fails while a daemon is running. */
	if ((r = zm_audit_open(cfg->audit_log, st, cfg->terminal_name,
	    &a)) != ZM_OK) {
		cli_warnx(_("cannot open the audit log %s: %s"), cfg->audit_log,
		    r == ZM_ERR_EXISTS ?
		    _("zonemfa-tokend seems to be running but does not answer") :
		    zm_strerror(r));
		goto out;
	}
	if ((r = zm_store_revoke(st, user, token_id, serial, reason, now,
	    &ids, &n)) != ZM_OK)
		goto out;
	memset(res, 0, sizeof(*res));
	res->status = ZM_ST_PARTIAL;
	res->time = (uint64_t)now;
	res->has_time = 1;
	res->count2 = (uint32_t)n;
	res->has_count2 = 1;
	res->has_count = 1;
	for (i = 0; i < n; i++) {
		int k = snprintf(res->text + off, sizeof(res->text) - off,
		    "%s%lld", i ? "," : "", (long long)ids[i]);

		if (k < 0 || (size_t)k >= sizeof(res->text) - off)
			break;
		off += (size_t)k;
	}
	/* A long id list is cut here; the registry has every id. */
	if (snprintf(detail, sizeof(detail), "offline (daemon unreachable); "
	    "tokens %.160s; sessions not ended", res->text) < 0)
		detail[0] = '\0';
	r = zm_audit_event(a, "revoke", user, "", "ok", reason, "", "root",
	    res->text, detail, 1);
	/* Recorded: the registry's audit-pending marks go (else at start-up). */
	for (i = 0; r == ZM_OK && i < n; i++)
		(void)zm_store_audit_done(st, ids[i], user);
out:
	free(ids);
	zm_audit_close(a);
	zm_store_close(st);
	return r;
}
