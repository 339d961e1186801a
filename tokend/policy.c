/*
 * policy.c - the zone policy engine: which factor classes a proof
 * establishes in a zone and what to ask for next (SPEC "How proofs
 * count", R1, R2).
 *
 * Pure functions over struct zm_zone: no store, no I/O, no allocation.
 */
#include <config.h>

#include "err.h"
#include "policy.h"

/* Preference order of zm_policy_next(): strongest proof first. */
static const unsigned method_order[] = {
	ZM_METHOD_CARD, ZM_METHOD_FIDO2, ZM_METHOD_TOTP, ZM_METHOD_TEMPCODE,
};

/*
 * A method counts only if the zone lists it; a helpdesk temporary code
 * additionally needs temp_code = allow, so listing "tempcode" alone in a
 * zone that denies it grants nothing.
 */
static int
method_accepted(const struct zm_zone *z, unsigned method)
{
	if ((z->methods & method) == 0)
		return 0;
	if (method == ZM_METHOD_TEMPCODE && !z->temp_code)
		return 0;
	return 1;
}

/* Every class the method could establish with the best possible proof. */
static unsigned
method_potential(const struct zm_zone *z, unsigned method)
{
	if (!method_accepted(z, method))
		return 0;
	switch (method) {
	case ZM_METHOD_CARD:
		return ZM_CLASS_POSSESSION | ZM_CLASS_KNOWLEDGE;
	case ZM_METHOD_FIDO2:
		return ZM_CLASS_POSSESSION | ZM_CLASS_KNOWLEDGE |
		    ZM_CLASS_INHERENCE;
	case ZM_METHOD_TOTP:
	case ZM_METHOD_TEMPCODE:
		return ZM_CLASS_POSSESSION;
	default:
		return 0;
	}
}

unsigned
zm_policy_initial(const struct zm_zone *z)
{
	/* Only a requisite password module before us proves knowledge. */
	if (z == NULL || z->password != ZM_PASSWORD_STACK)
		return 0;
	return ZM_CLASS_KNOWLEDGE;
}

unsigned
zm_policy_classes(const struct zm_zone *z, const struct zm_proof *p)
{
	unsigned c;

	if (z == NULL || p == NULL)
		return 0;
	if (p->method == 0)
		return zm_policy_initial(z);
	/* p->method must be exactly one accepted method bit. */
	if ((p->method & (p->method - 1)) != 0 ||
	    !method_accepted(z, p->method))
		return 0;

	switch (p->method) {
	case ZM_METHOD_CARD:
		/* Signature: possession; PIN checked by the card: knowledge. */
		c = ZM_CLASS_POSSESSION;
		if (p->pin_verified)
			c |= ZM_CLASS_KNOWLEDGE;
		return c;
	case ZM_METHOD_FIDO2:
		c = ZM_CLASS_POSSESSION;
		if (p->uv)
			c |= p->uv_builtin ? ZM_CLASS_INHERENCE :
			    ZM_CLASS_KNOWLEDGE;
		return c;
	case ZM_METHOD_TOTP:
	case ZM_METHOD_TEMPCODE:
		return ZM_CLASS_POSSESSION;
	default:
		return 0;
	}
}

unsigned
zm_policy_missing(const struct zm_zone *z, unsigned proven)
{
	if (z == NULL)
		return 0;
	return z->require & ~proven;
}

unsigned
zm_policy_reachable(const struct zm_zone *z, unsigned proven, unsigned avail)
{
	unsigned	r = proven;
	size_t		i;

	if (z == NULL)
		return proven;
	for (i = 0; i < sizeof(method_order) / sizeof(method_order[0]); i++)
		if (avail & method_order[i])
			r |= method_potential(z, method_order[i]);
	return r;
}

int
zm_policy_next(const struct zm_zone *z, unsigned proven, unsigned avail,
    unsigned *method)
{
	unsigned	missing;
	size_t		i;

	if (z == NULL || method == NULL)
		return ZM_ERR_INVALID;
	*method = 0;
	missing = zm_policy_missing(z, proven);
	if (missing == 0)
		return 0;
	/*
	 * Refuse up front when even the best proofs of everything available
	 * cannot cover what is missing: asking for a code that can never
	 * complete the login would only cost the user a failure count.
	 */
	if ((zm_policy_reachable(z, proven, avail) & missing) != missing)
		return ZM_ERR_NOTFOUND;
	for (i = 0; i < sizeof(method_order) / sizeof(method_order[0]); i++) {
		if ((avail & method_order[i]) == 0)
			continue;
		if ((method_potential(z, method_order[i]) & missing) == 0)
			continue;
		*method = method_order[i];
		return 0;
	}
	return ZM_ERR_NOTFOUND;	/* not reached: reachable covered missing */
}
