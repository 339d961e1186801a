/*
 * clock.h - R16: the daemon records when the system clock is not
 * synchronised.  TOTP codes and the audit trail's times are only as good
 * as the clock, so an unsynchronised clock is itself an audit event.
 *
 * The decision is a small state machine apart from the system call, so it
 * can be tested without changing the machine's clock.
 */
#ifndef ZM_CLOCK_H
#define ZM_CLOCK_H

#include <stdint.h>

struct zm_tokend;

#define ZM_CLOCK_CHECK_S	60	/* how often the kernel is asked */
#define ZM_CLOCK_REPEAT_S	3600	/* an unsynchronised clock: at most hourly */

enum zm_clock_state { ZM_CLOCK_UNKNOWN = 0, ZM_CLOCK_SYNC, ZM_CLOCK_UNSYNC };

/* What to audit after a step. */
enum zm_clock_event {
	ZM_CLOCK_EV_NONE = 0,
	ZM_CLOCK_EV_UNSYNC,	/* "clock" "unsynchronised" */
	ZM_CLOCK_EV_SYNC,	/* "clock" "synchronised" */
};

struct zm_clock {
	int	state;		/* enum zm_clock_state */
	int64_t	last_unsync;	/* when "unsynchronised" was last audited */
};

/*
 * 1 when adjtimex(2)/ntp_adjtime(3) says the clock is not synchronised:
 * it returned TIME_ERROR or status has STA_UNSYNC.  ret < 0 (the call
 * failed): -1, nothing known.
 */
int zm_clock_unsynced(int ret, int status);

/*
 * One observation at wall-clock time now (seconds).  Unsynchronised at
 * the first observation, or after being synchronised: EV_UNSYNC; while it
 * stays so, EV_UNSYNC again once ZM_CLOCK_REPEAT_S has passed; becoming
 * synchronised after that: EV_SYNC once.  Synchronised from the start:
 * nothing.  unsynced < 0 (unknown) changes nothing.
 */
enum zm_clock_event zm_clock_step(struct zm_clock *c, int unsynced,
    int64_t now);

/*
 * Ask the kernel (ntp_adjtime with no modes: reads only, needs no
 * privilege) and write the audit record the step asks for.
 */
void zm_clock_check(struct zm_tokend *d, struct zm_clock *c, int64_t now);

#endif
