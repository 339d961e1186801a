/*
 * policy.c - the zone policy engine: which factor classes a proof
 * establishes in a zone and what to ask for next (SPEC "How proofs
 * count", R1, R2).
 *
 * Who may log in to a zone at all (zone access, allow_users /
 * allow_groups) and when a session must end (session_limit,
 * privileged_session_limit, idle_timeout) are decided here too.
 *
 * Pure functions over struct zm_zone: no store, no I/O, no allocation
 * (group membership is asked through the caller's function).
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int
zm_policy_zone_access(const struct zm_zone *z, const char *user,
    int (*in_group)(void *arg, const char *user, const char *group),
    void *arg)
{
	size_t	i;
	int	r, unsure = 0;

	if (z == NULL || user == NULL || in_group == NULL)
		return ZM_ERR_INVALID;
	if (z->n_allow_users == 0 && z->n_allow_groups == 0)
		return ZM_OK;
	for (i = 0; i < z->n_allow_users; i++)
		if (strcmp(z->allow_users[i], user) == 0)
			return ZM_OK;
	/*
	 * A group that cannot be asked about (in_group -1: directory down)
	 * does not stop the others from answering yes; only when none does
	 * is ZM_ERR_UNAVAILABLE returned, so the caller can tell "no" from
	 * "cannot tell".
	 */
	for (i = 0; i < z->n_allow_groups; i++) {
		if ((r = in_group(arg, user, z->allow_groups[i])) == 1)
			return ZM_OK;
		if (r < 0)
			unsure = 1;
	}
	return unsure ? ZM_ERR_UNAVAILABLE : ZM_ERR_PERM;
}

int64_t
zm_policy_session_end(const struct zm_zone *z, int privileged,
    int64_t opened, int64_t idle_since, const char **why)
{
	int64_t limit = 0, end = INT64_MAX, e;

	*why = NULL;
	if (z == NULL)
		return INT64_MAX;
	if (z->session_limit > 0)
		limit = z->session_limit;
	/* The shorter of the two applies to a privileged user. */
	if (privileged && z->privileged_session_limit > 0 &&
	    (limit == 0 || z->privileged_session_limit < limit))
		limit = z->privileged_session_limit;
	if (limit > 0) {
		end = opened > INT64_MAX - limit ? INT64_MAX : opened + limit;
		*why = "session_limit";
	}
	if (z->idle_timeout > 0 && idle_since > 0) {
		e = idle_since > INT64_MAX - z->idle_timeout ? INT64_MAX :
		    idle_since + z->idle_timeout;
		if (e < end) {
			end = e;
			*why = "idle_timeout";
		}
	}
	return end;
}

int
zm_policy_idle_parse(const char *text, int64_t *since)
{
	const char		*s;
	unsigned long long	 us = 0;
	int			 idle = -1, have_since = 0;

	*since = 0;
	for (s = text; *s != '\0'; s += strcspn(s, "\n"),
	    s += *s == '\n') {
		if (strncmp(s, "IdleHint=", 9) == 0) {
			if (strncmp(s + 9, "yes", 3) == 0)
				idle = 1;
			else if (strncmp(s + 9, "no", 2) == 0)
				idle = 0;
		} else if (strncmp(s, "IdleSinceHint=", 14) == 0) {
			char *end;

			errno = 0;
			us = strtoull(s + 14, &end, 10);
			if (errno == 0 && end != s + 14 &&
			    (*end == '\n' || *end == '\0'))
				have_since = 1;
		}
	}
	if (idle < 0)
		return ZM_ERR_PROTO;
	if (idle == 0)
		return ZM_OK;
	/* Idle without a time: no deadline can be computed. */
	if (!have_since || us == 0 || us / 1000000ULL > (unsigned long long)
	    INT64_MAX)
		return ZM_ERR_PROTO;
	*since = (int64_t)(us / 1000000ULL);
	return ZM_OK;
}
