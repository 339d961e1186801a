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

#endif
