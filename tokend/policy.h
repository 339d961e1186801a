/*
 * policy.h - the zone policy engine (SPEC "How proofs count").
 *
 * Pure functions: no store, no I/O; unit-tested by a table over every
 * zone x proof combination (tests/test_policy.c).
 */
#ifndef ZM_POLICY_H
#define ZM_POLICY_H

#include "conf.h"

/* One verified proof. */
struct zm_proof {
	unsigned	method;		/* ZM_METHOD_*, or 0 for the stack password */
	int		pin_verified;	/* card: PIN checked by the card */
	int		uv;		/* fido2: user verification flag in the assertion */
	int		uv_builtin;	/* fido2: UV was built-in (biometric) not PIN */
};

/* Classes a proof establishes in zone z (0 if the zone does not accept it). */
unsigned zm_policy_classes(const struct zm_zone *z, const struct zm_proof *p);

/* Classes established before pam_zonemfa runs (the stack password). */
unsigned zm_policy_initial(const struct zm_zone *z);

/* Classes still missing. */
unsigned zm_policy_missing(const struct zm_zone *z, unsigned proven);

/*
 * Pick the next method to ask for: among the zone's methods that the user
 * has usable (avail, ZM_METHOD_* mask), the first in the order card, fido2,
 * totp, tempcode that can establish at least one missing class.  Returns
 * 0 if the zone is satisfied, ZM_ERR_NOTFOUND if nothing available can
 * satisfy what is missing.  Callers remove a method from avail once it
 * has been used in the conversation, so nothing is asked for twice.
 */
int zm_policy_next(const struct zm_zone *z, unsigned proven, unsigned avail,
    unsigned *method);

/* The most that methods in avail could ever establish (for "no token" decisions). */
unsigned zm_policy_reachable(const struct zm_zone *z, unsigned proven, unsigned avail);

/*
 * Zone access (policy 6.2(1), allow_users / allow_groups): may user log
 * in to zone z at all?  ZM_OK when both lists are empty, the user is
 * named in allow_users or in_group(arg, user, group) returns 1 for one
 * of allow_groups; ZM_ERR_PERM when not; ZM_ERR_UNAVAILABLE when no
 * group said yes but in_group returned -1 (cannot tell: directory
 * error) for one.  Callers refuse on anything but ZM_OK at login, and
 * end a session only on ZM_ERR_PERM.
 */
int zm_policy_zone_access(const struct zm_zone *z, const char *user,
    int (*in_group)(void *arg, const char *user, const char *group),
    void *arg);

/*
 * When must a session of zone z opened at opened end?  The earliest of
 * opened + session_limit, opened + privileged_session_limit (privileged
 * users: the shorter limit applies) and idle_since + idle_timeout
 * (idle_since > 0: the session has been idle since then, as logind
 * reports it; 0: not idle or not known).  INT64_MAX for never; *why is
 * then NULL, else "session_limit" or "idle_timeout".
 */
int64_t zm_policy_session_end(const struct zm_zone *z, int privileged,
    int64_t opened, int64_t idle_since, const char **why);

/*
 * logind's idle state of a session from `loginctl show-session
 * --property=IdleHint --property=IdleSinceHint` output: *since is the
 * time (epoch seconds) the session became idle, 0 when it is not idle.
 * ZM_ERR_PROTO when the text says neither, or idle without a time.
 */
int zm_policy_idle_parse(const char *text, int64_t *since);

#endif
