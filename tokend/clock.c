/*
 * clock.c - R16 accurate clocks: audit an unsynchronised system clock.
 * See clock.h.
 */
#include <config.h>

#include <sys/timex.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "log.h"
#include "tokend.h"

int
zm_clock_unsynced(int ret, int status)
{
	if (ret < 0)
		return -1;
	return ret == TIME_ERROR || (status & STA_UNSYNC) != 0;
}

enum zm_clock_event
zm_clock_step(struct zm_clock *c, int unsynced, int64_t now)
{
	if (unsynced < 0)
		return ZM_CLOCK_EV_NONE;
	if (!unsynced) {
		/* "synchronised" only ends an unsynchronised spell. */
		if (c->state == ZM_CLOCK_UNSYNC) {
			c->state = ZM_CLOCK_SYNC;
			return ZM_CLOCK_EV_SYNC;
		}
		c->state = ZM_CLOCK_SYNC;
		return ZM_CLOCK_EV_NONE;
	}
	/* A clock set back makes now < last_unsync: say it again. */
	if (c->state != ZM_CLOCK_UNSYNC || now < c->last_unsync ||
	    now - c->last_unsync >= ZM_CLOCK_REPEAT_S) {
		c->state = ZM_CLOCK_UNSYNC;
		c->last_unsync = now;
		return ZM_CLOCK_EV_UNSYNC;
	}
	return ZM_CLOCK_EV_NONE;
}

void
zm_clock_check(struct zm_tokend *d, struct zm_clock *c, int64_t now)
{
	struct timex		tx;
	enum zm_clock_event	ev;
	char			detail[128];
	int			ret, e;

	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	ret = ntp_adjtime(&tx);
	e = errno;
	if (ret < 0) {
		/* A sandbox may forbid it; nothing is known, nothing said. */
		if (c->state == ZM_CLOCK_UNKNOWN)
			zm_warn("clock: ntp_adjtime: %s: synchronisation "
			    "is not checked", strerror(e));
		c->state = ZM_CLOCK_SYNC;
		return;
	}
	ev = zm_clock_step(c, zm_clock_unsynced(ret, tx.status), now);
	if (ev == ZM_CLOCK_EV_NONE)
		return;
	if (snprintf(detail, sizeof(detail), "adjtimex state %d status 0x%x "
	    "maxerror %ld us", ret, (unsigned)tx.status,
	    (long)tx.maxerror) >= (int)sizeof(detail))
		detail[0] = '\0';
	if (ev == ZM_CLOCK_EV_UNSYNC)
		zm_warn("clock: the system clock is not synchronised (%s); "
		    "TOTP and audit times depend on it", detail);
	else
		zm_notice("clock: the system clock is synchronised again");
	if (zm_audit_event(d->audit, "clock", "", d->cfg->zone,
	    ev == ZM_CLOCK_EV_UNSYNC ? "unsynchronised" : "synchronised",
	    ev == ZM_CLOCK_EV_UNSYNC ? "system clock not synchronised" :
	    "system clock synchronised", NULL, NULL, NULL, detail, 0) != 0)
		zm_err("clock: audit write failed");
}
