/*
 * recover.c - after a crash, the registry and the audit log agree again
 * (R15).
 *
 * A revocation or disable is durable in the registry first, then written
 * to the audit log; the registry marks it audit-pending in the same
 * transaction and the mark is cleared once the record is written.  A
 * daemon killed in between finds the marks at start-up and writes the
 * missing records, saying they were recovered.  (A crash after the record
 * but before the mark was cleared gives a second, recovered, record:
 * twice rather than never.)  Ending the sessions of what was revoked is
 * the sweep's work (limits.c), at start-up too.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "tokend.h"

static int
recover_one(struct zm_tokend *d, const struct zm_audit_pending *p)
{
	char		 tok[32] = "", detail[160];
	const char	*event;
	int		 r;

	if (p->token_id > 0) {
		event = p->state == ZM_TS_ACTIVE ? "revoke" :
		    p->state == ZM_TS_SUSPENDED ? "suspend" :
		    p->state == ZM_TS_REPLACED ? "replace" : "revoke";
		snprintf(tok, sizeof(tok), "%" PRId64, p->token_id);
		if (snprintf(detail, sizeof(detail), "recovered at start-up: "
		    "token %" PRId64 " %s at %" PRId64 " in the registry, "
		    "no record was written", p->token_id,
		    zm_token_state_name(p->state), p->when) < 0)
			detail[0] = '\0';
	} else {
		event = p->disabled ? "disable" : "enable";
		if (snprintf(detail, sizeof(detail), "recovered at start-up: "
		    "%s in the registry, no record was written",
		    p->disabled ? "disabled" : "enabled") < 0)
			detail[0] = '\0';
	}
	if ((r = zm_audit_event(d->audit, event, p->user, "", "ok",
	    p->token_id > 0 ? p->reason : "", NULL, NULL, tok, detail,
	    1)) != 0)
		return r;
	zm_notice("%s of %s%s%s recovered into the audit log", event,
	    p->user, tok[0] ? " token " : "", tok);
	return zm_store_audit_done(d->st, p->token_id, p->user);
}

int
zm_recover_audit(struct zm_tokend *d, unsigned *recovered)
{
	struct zm_audit_pending	*p = NULL;
	size_t			 n = 0, i;
	int			 r;

	*recovered = 0;
	if ((r = zm_store_audit_pending(d->st, &p, &n)) != 0) {
		zm_err("cannot list unaudited changes: %s", zm_strerror(r));
		return r;
	}
	for (i = 0; i < n; i++) {
		if ((r = recover_one(d, &p[i])) != 0) {
			zm_err("cannot record a recovered change of %s: %s",
			    p[i].user, zm_strerror(r));
			break;
		}
		(*recovered)++;
	}
	free(p);
	return r;
}
