/*
 * test_policy.c - the zone policy engine against SPEC "How proofs count".
 *
 * R1: the zone decides which factor classes are required and which token
 *     kinds may supply them.
 * R2: possession comes from a card, FIDO key or TOTP device; a method the
 *     zone does not list proves nothing.
 *
 * The zones are built by hand (not through the config parser) so this test
 * depends on nothing but policy.c.  For each zone a hand-written row says
 * what each single proof establishes there; every combination of proofs
 * (stack password x card x fido2 x totp x tempcode) is then checked for
 * satisfied / missing classes.  Hand-written scenarios and the
 * zm_policy_next() choices follow.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "policy.h"
#include "tokend.h"

#define K	ZM_CLASS_KNOWLEDGE
#define P	ZM_CLASS_POSSESSION
#define I	ZM_CLASS_INHERENCE
#define CARD	ZM_METHOD_CARD
#define FIDO	ZM_METHOD_FIDO2
#define TOTP	ZM_METHOD_TOTP
#define TEMP	ZM_METHOD_TEMPCODE

enum zid {
	Z_MYNUMBER,		/* SPEC [zone mynumber] */
	Z_LGWAN,		/* SPEC [zone lgwan] */
	Z_INTERNET,		/* SPEC [zone internet]: knowledge, no methods */
	Z_NOPW,			/* mynumber with password = none */
	Z_INHER,		/* knowledge possession inherence, password stack */
	Z_INHER_NOPW,		/* possession inherence, password none, fido2 totp */
	Z_TEMP_ALLOW,		/* tempcode listed and temp_code = allow */
	Z_TEMP_LISTED_DENY,	/* tempcode listed but temp_code = deny */
	Z_TEMP_UNLISTED,	/* temp_code = allow but tempcode not listed */
	Z_TOTP_ONLY,		/* methods = totp */
	Z__N
};

static void
mkzone(struct zm_zone *z, const char *name, unsigned require,
    unsigned methods, int password, int temp_code)
{
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->require = require;
	z->methods = methods;
	z->password = password;
	z->temp_code = temp_code;
	z->max_failures = 5;
	z->lockout = 1800;
	z->privileged_max_failures = 3;
}

static struct zm_zone zones[Z__N];

static int
setup_zones(void **state)
{
	mkzone(&zones[Z_MYNUMBER], "mynumber", K | P, CARD | FIDO | TOTP,
	    ZM_PASSWORD_STACK, 0);
	mkzone(&zones[Z_LGWAN], "lgwan", K | P, CARD | FIDO | TOTP,
	    ZM_PASSWORD_STACK, 0);
	mkzone(&zones[Z_INTERNET], "internet", K, 0, ZM_PASSWORD_STACK, 0);
	mkzone(&zones[Z_NOPW], "nopw", K | P, CARD | FIDO | TOTP,
	    ZM_PASSWORD_NONE, 0);
	mkzone(&zones[Z_INHER], "inher", K | P | I, CARD | FIDO | TOTP,
	    ZM_PASSWORD_STACK, 0);
	mkzone(&zones[Z_INHER_NOPW], "inher-nopw", P | I, FIDO | TOTP,
	    ZM_PASSWORD_NONE, 0);
	mkzone(&zones[Z_TEMP_ALLOW], "temp-allow", K | P,
	    CARD | FIDO | TOTP | TEMP, ZM_PASSWORD_STACK, 1);
	mkzone(&zones[Z_TEMP_LISTED_DENY], "temp-deny", K | P,
	    CARD | FIDO | TOTP | TEMP, ZM_PASSWORD_STACK, 0);
	mkzone(&zones[Z_TEMP_UNLISTED], "temp-unlisted", K | P,
	    CARD | FIDO | TOTP, ZM_PASSWORD_STACK, 1);
	mkzone(&zones[Z_TOTP_ONLY], "totp-only", K | P, TOTP,
	    ZM_PASSWORD_STACK, 0);
	return 0;
}

/* The single proofs a user can present. */
enum pid {
	PR_PASSWORD,		/* verified by a requisite module earlier */
	PR_CARD_NOPIN,		/* card signature, PIN not verified */
	PR_CARD_PIN,		/* card signature + PIN verified by the card */
	PR_FIDO_NOUV,		/* FIDO2 assertion without user verification */
	PR_FIDO_UVPIN,		/* ... with UV by PIN */
	PR_FIDO_UVBIO,		/* ... with built-in (biometric) UV */
	PR_TOTP,
	PR_TEMPCODE,
	PR__N
};

static const struct zm_proof proofs[PR__N] = {
	[PR_PASSWORD] =   { 0, 0, 0, 0 },
	[PR_CARD_NOPIN] = { CARD, 0, 0, 0 },
	[PR_CARD_PIN] =   { CARD, 1, 0, 0 },
	[PR_FIDO_NOUV] =  { FIDO, 0, 0, 0 },
	[PR_FIDO_UVPIN] = { FIDO, 0, 1, 0 },
	[PR_FIDO_UVBIO] = { FIDO, 0, 1, 1 },
	[PR_TOTP] =       { TOTP, 0, 0, 0 },
	[PR_TEMPCODE] =   { TEMP, 0, 0, 0 },
};

/*
 * What each single proof establishes in each zone, written out by hand
 * from SPEC "How proofs count" (not computed): password = knowledge only
 * with password = stack; card = possession (+ knowledge with PIN); fido2 =
 * possession (+ knowledge for PIN UV, inherence for built-in UV); totp =
 * possession; tempcode = possession only where listed and allowed; an
 * unlisted method = nothing.
 */
static const unsigned expect_single[Z__N][PR__N] = {
	/*                   pw  card   cardPIN fido  fidoPIN fidoBIO totp tmp */
	[Z_MYNUMBER] =     { K,  P,     P | K,  P,    P | K,  P | I,  P,   0 },
	[Z_LGWAN] =        { K,  P,     P | K,  P,    P | K,  P | I,  P,   0 },
	[Z_INTERNET] =     { K,  0,     0,      0,    0,      0,      0,   0 },
	[Z_NOPW] =         { 0,  P,     P | K,  P,    P | K,  P | I,  P,   0 },
	[Z_INHER] =        { K,  P,     P | K,  P,    P | K,  P | I,  P,   0 },
	[Z_INHER_NOPW] =   { 0,  0,     0,      P,    P | K,  P | I,  P,   0 },
	[Z_TEMP_ALLOW] =   { K,  P,     P | K,  P,    P | K,  P | I,  P,   P },
	[Z_TEMP_LISTED_DENY] = { K, P,  P | K,  P,    P | K,  P | I,  P,   0 },
	[Z_TEMP_UNLISTED] = { K, P,     P | K,  P,    P | K,  P | I,  P,   0 },
	[Z_TOTP_ONLY] =    { K,  0,     0,      0,    0,      0,      P,   0 },
};

/* R1/R2: each single proof, each zone, through zm_policy_classes(). */
static void
test_single_proofs(void **state)
{
	int z, p;

	for (z = 0; z < Z__N; z++) {
		for (p = 0; p < PR__N; p++) {
			unsigned got = zm_policy_classes(&zones[z], &proofs[p]);

			if (got != expect_single[z][p])
				fail_msg("zone %s proof %d: classes 0x%x, want 0x%x",
				    zones[z].name, p, got, expect_single[z][p]);
		}
		/* The stack password is what zm_policy_initial() reports. */
		assert_int_equal(zm_policy_initial(&zones[z]),
		    expect_single[z][PR_PASSWORD]);
	}
}

/*
 * R1: every zone x every combination of stack password (yes/no) x card
 * (none / no PIN / PIN) x fido2 (none / no UV / UV PIN / UV built-in) x
 * totp (yes/no) x tempcode (yes/no): the union of the hand-written single
 * rows decides satisfied and missing.
 */
static void
test_all_combinations(void **state)
{
	static const int card_opts[] = { -1, PR_CARD_NOPIN, PR_CARD_PIN };
	static const int fido_opts[] = { -1, PR_FIDO_NOUV, PR_FIDO_UVPIN,
	    PR_FIDO_UVBIO };
	int		z, pw, c, f, t, tc;
	unsigned	ncombos = 0, nsatisfied = 0;

	for (z = 0; z < Z__N; z++)
	for (pw = 0; pw < 2; pw++)
	for (c = 0; c < 3; c++)
	for (f = 0; f < 4; f++)
	for (t = 0; t < 2; t++)
	for (tc = 0; tc < 2; tc++) {
		const struct zm_zone *zn = &zones[z];
		unsigned proven = 0, want = 0, missing, want_missing;

		if (pw) {
			proven |= zm_policy_initial(zn);
			want |= expect_single[z][PR_PASSWORD];
		}
		if (card_opts[c] >= 0) {
			proven |= zm_policy_classes(zn, &proofs[card_opts[c]]);
			want |= expect_single[z][card_opts[c]];
		}
		if (fido_opts[f] >= 0) {
			proven |= zm_policy_classes(zn, &proofs[fido_opts[f]]);
			want |= expect_single[z][fido_opts[f]];
		}
		if (t) {
			proven |= zm_policy_classes(zn, &proofs[PR_TOTP]);
			want |= expect_single[z][PR_TOTP];
		}
		if (tc) {
			proven |= zm_policy_classes(zn, &proofs[PR_TEMPCODE]);
			want |= expect_single[z][PR_TEMPCODE];
		}
		missing = zm_policy_missing(zn, proven);
		want_missing = zn->require & ~want;
		if (missing != want_missing)
			fail_msg("zone %s pw=%d card=%d fido=%d totp=%d temp=%d: "
			    "missing 0x%x, want 0x%x", zn->name, pw, c, f, t,
			    tc, missing, want_missing);
		if (missing == 0)
			nsatisfied++;
		ncombos++;
	}
	/* 10 zones x 96 combinations; some but not all satisfy. */
	assert_int_equal(ncombos, Z__N * 96);
	assert_true(nsatisfied > 0);
	assert_true(nsatisfied < ncombos);
}

/* Hand-written end results for the cases staff actually meet. */
struct scenario {
	const char	*what;
	int		 zone;
	int		 pr[4];		/* proofs presented, -1 ends */
	unsigned	 missing;	/* expected missing classes */
};

static const struct scenario scenarios[] = {
	/* R1: My Number = password + possession. */
	{ "mynumber password+totp", Z_MYNUMBER, { PR_PASSWORD, PR_TOTP, -1 }, 0 },
	{ "mynumber password only", Z_MYNUMBER, { PR_PASSWORD, -1 }, P },
	{ "mynumber totp only", Z_MYNUMBER, { PR_TOTP, -1 }, K },
	{ "mynumber card+PIN alone", Z_MYNUMBER, { PR_CARD_PIN, -1 }, 0 },
	{ "mynumber card w/o PIN alone", Z_MYNUMBER, { PR_CARD_NOPIN, -1 }, K },
	{ "mynumber fido UV PIN alone", Z_MYNUMBER, { PR_FIDO_UVPIN, -1 }, 0 },
	{ "mynumber fido UV bio alone", Z_MYNUMBER, { PR_FIDO_UVBIO, -1 }, K },
	{ "mynumber nothing", Z_MYNUMBER, { -1 }, K | P },
	/* R1: LGWAN = ID + password plus a second approved factor. */
	{ "lgwan password+card", Z_LGWAN, { PR_PASSWORD, PR_CARD_NOPIN, -1 }, 0 },
	{ "lgwan password+tempcode (denied)", Z_LGWAN,
	    { PR_PASSWORD, PR_TEMPCODE, -1 }, P },
	/* Internet: password is enough; methods empty so a card adds nothing. */
	{ "internet password", Z_INTERNET, { PR_PASSWORD, -1 }, 0 },
	{ "internet card+PIN, no password", Z_INTERNET, { PR_CARD_PIN, -1 }, K },
	/* password = none: the stack password is not counted. */
	{ "nopw password+totp", Z_NOPW, { PR_PASSWORD, PR_TOTP, -1 }, K },
	{ "nopw card+PIN", Z_NOPW, { PR_CARD_PIN, -1 }, 0 },
	{ "nopw fido bio", Z_NOPW, { PR_FIDO_UVBIO, -1 }, K },
	/* Inherence only from built-in UV. */
	{ "inher password+fido PIN", Z_INHER, { PR_PASSWORD, PR_FIDO_UVPIN, -1 }, I },
	{ "inher password+fido bio", Z_INHER, { PR_PASSWORD, PR_FIDO_UVBIO, -1 }, 0 },
	{ "inher card+PIN+fido bio", Z_INHER, { PR_CARD_PIN, PR_FIDO_UVBIO, -1 }, 0 },
	{ "inher-nopw fido bio", Z_INHER_NOPW, { PR_FIDO_UVBIO, -1 }, 0 },
	{ "inher-nopw card+PIN (unlisted)", Z_INHER_NOPW, { PR_CARD_PIN, -1 }, P | I },
	/* Temporary codes: only where listed and allowed. */
	{ "temp-allow password+tempcode", Z_TEMP_ALLOW,
	    { PR_PASSWORD, PR_TEMPCODE, -1 }, 0 },
	{ "temp-deny password+tempcode", Z_TEMP_LISTED_DENY,
	    { PR_PASSWORD, PR_TEMPCODE, -1 }, P },
	{ "temp-unlisted password+tempcode", Z_TEMP_UNLISTED,
	    { PR_PASSWORD, PR_TEMPCODE, -1 }, P },
	/* R2: a card the zone does not accept proves nothing. */
	{ "totp-only password+card+PIN", Z_TOTP_ONLY,
	    { PR_PASSWORD, PR_CARD_PIN, -1 }, P },
};

static void
test_scenarios(void **state)
{
	size_t i, j;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		const struct zm_zone *z = &zones[s->zone];
		unsigned proven = 0, missing;

		for (j = 0; j < 4 && s->pr[j] >= 0; j++)
			proven |= zm_policy_classes(z, &proofs[s->pr[j]]);
		missing = zm_policy_missing(z, proven);
		if (missing != s->missing)
			fail_msg("%s: missing 0x%x, want 0x%x", s->what,
			    missing, s->missing);
	}
}

/* Malformed proofs establish nothing. */
static void
test_bad_proofs(void **state)
{
	struct zm_proof p;

	memset(&p, 0, sizeof(p));
	p.method = CARD | TOTP;		/* two methods at once */
	p.pin_verified = 1;
	assert_int_equal(zm_policy_classes(&zones[Z_MYNUMBER], &p), 0);
	p.method = 0x10;		/* unknown method */
	assert_int_equal(zm_policy_classes(&zones[Z_MYNUMBER], &p), 0);
	p.method = TOTP;
	assert_int_equal(zm_policy_classes(NULL, &p), 0);
	assert_int_equal(zm_policy_classes(&zones[Z_MYNUMBER], NULL), 0);
	/* uv_builtin without uv is not a verification. */
	p.method = FIDO;
	p.uv = 0;
	p.uv_builtin = 1;
	assert_int_equal(zm_policy_classes(&zones[Z_INHER], &p), P);
}

struct next_case {
	const char	*what;
	int		 zone;
	unsigned	 proven;
	unsigned	 avail;
	int		 rc;
	unsigned	 method;
};

static const struct next_case next_cases[] = {
	/* Preference order card, fido2, totp, tempcode. */
	{ "mynumber all", Z_MYNUMBER, K, CARD | FIDO | TOTP, 0, CARD },
	{ "mynumber fido+totp", Z_MYNUMBER, K, FIDO | TOTP, 0, FIDO },
	{ "mynumber totp", Z_MYNUMBER, K, TOTP, 0, TOTP },
	{ "temp-allow totp+tempcode", Z_TEMP_ALLOW, K, TOTP | TEMP, 0, TOTP },
	{ "temp-allow tempcode", Z_TEMP_ALLOW, K, TEMP, 0, TEMP },
	/* Satisfied: 0 with method 0, whatever is available. */
	{ "mynumber satisfied", Z_MYNUMBER, K | P, CARD | TOTP, 0, 0 },
	{ "internet satisfied", Z_INTERNET, K, TOTP, 0, 0 },
	{ "internet satisfied, nothing", Z_INTERNET, K, 0, 0, 0 },
	/* Impossible. */
	{ "mynumber nothing usable", Z_MYNUMBER, K, 0, ZM_ERR_NOTFOUND, 0 },
	{ "mynumber tempcode denied", Z_MYNUMBER, K, TEMP, ZM_ERR_NOTFOUND, 0 },
	{ "temp-deny tempcode", Z_TEMP_LISTED_DENY, K, TEMP, ZM_ERR_NOTFOUND, 0 },
	{ "totp-only card", Z_TOTP_ONLY, K, CARD, ZM_ERR_NOTFOUND, 0 },
	{ "internet without password", Z_INTERNET, 0, CARD | TOTP,
	    ZM_ERR_NOTFOUND, 0 },
	/* password = none: TOTP can never give knowledge, so do not ask. */
	{ "nopw totp only", Z_NOPW, 0, TOTP, ZM_ERR_NOTFOUND, 0 },
	{ "nopw card+totp", Z_NOPW, 0, CARD | TOTP, 0, CARD },
	{ "nopw fido+totp", Z_NOPW, 0, FIDO | TOTP, 0, FIDO },
	/* After TOTP gave possession, only knowledge is missing: skip totp. */
	{ "nopw after totp", Z_NOPW, P, FIDO | TOTP, 0, FIDO },
	/* Skip methods that add no missing class. */
	{ "inher after card+PIN", Z_INHER, K | P, CARD | FIDO | TOTP, 0, FIDO },
	{ "inher card+totp", Z_INHER, K, CARD | TOTP, ZM_ERR_NOTFOUND, 0 },
	{ "inher-nopw after totp", Z_INHER_NOPW, P, TOTP | FIDO, 0, FIDO },
	{ "inher-nopw totp", Z_INHER_NOPW, 0, TOTP, ZM_ERR_NOTFOUND, 0 },
	{ "inher-nopw card unlisted", Z_INHER_NOPW, 0, CARD, ZM_ERR_NOTFOUND, 0 },
	{ "mynumber possession first, card w/o", Z_MYNUMBER, K, CARD, 0, CARD },
	{ "nopw after card w/o PIN", Z_NOPW, P, TOTP, ZM_ERR_NOTFOUND, 0 },
};

static void
test_next(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		const struct next_case *c = &next_cases[i];
		unsigned m = 0xffu;
		int rc;

		rc = zm_policy_next(&zones[c->zone], c->proven, c->avail, &m);
		if (rc != c->rc || m != c->method)
			fail_msg("%s: rc %d method 0x%x, want rc %d method 0x%x",
			    c->what, rc, m, c->rc, c->method);
	}
	assert_int_equal(zm_policy_next(NULL, 0, TOTP, &(unsigned){ 0 }),
	    ZM_ERR_INVALID);
	assert_int_equal(zm_policy_next(&zones[Z_MYNUMBER], 0, TOTP, NULL),
	    ZM_ERR_INVALID);
}

/* zm_policy_next() drives a conversation to completion without repeats. */
static void
test_next_conversation(void **state)
{
	const struct zm_zone *z = &zones[Z_INHER];
	unsigned proven, avail = CARD | FIDO | TOTP, m = 0;
	struct zm_proof card = { CARD, 1, 0, 0 }, fido = { FIDO, 0, 1, 1 };

	proven = zm_policy_initial(z);
	assert_int_equal(zm_policy_next(z, proven, avail, &m), 0);
	assert_int_equal(m, CARD);
	proven |= zm_policy_classes(z, &card);
	avail &= ~m;
	assert_int_equal(zm_policy_next(z, proven, avail, &m), 0);
	assert_int_equal(m, FIDO);
	proven |= zm_policy_classes(z, &fido);
	avail &= ~m;
	assert_int_equal(zm_policy_next(z, proven, avail, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(zm_policy_missing(z, proven), 0);
}

static void
test_reachable(void **state)
{
	assert_int_equal(zm_policy_reachable(&zones[Z_MYNUMBER], K, TOTP), K | P);
	assert_int_equal(zm_policy_reachable(&zones[Z_MYNUMBER], 0, CARD), K | P);
	assert_int_equal(zm_policy_reachable(&zones[Z_INHER], 0, FIDO), K | P | I);
	assert_int_equal(zm_policy_reachable(&zones[Z_NOPW], 0, TOTP), P);
	/* Denied or unlisted methods reach nothing (R2). */
	assert_int_equal(zm_policy_reachable(&zones[Z_MYNUMBER], 0, TEMP), 0);
	assert_int_equal(zm_policy_reachable(&zones[Z_TEMP_LISTED_DENY], 0, TEMP), 0);
	assert_int_equal(zm_policy_reachable(&zones[Z_TEMP_UNLISTED], 0, TEMP), 0);
	assert_int_equal(zm_policy_reachable(&zones[Z_TEMP_ALLOW], 0, TEMP), P);
	assert_int_equal(zm_policy_reachable(&zones[Z_INTERNET], K, CARD | FIDO), K);
	assert_int_equal(zm_policy_reachable(&zones[Z_TOTP_ONLY], 0, CARD | FIDO), 0);
}

/* ---- zone access: allow_users / allow_groups (policy 6.2(1)) ---- */

/* Group membership for the tests: "user:group" pairs, "?" = lookup fails. */
static const char *const members[] = {
	"suzuki:juminkiroku", "tanaka:zeimu", "sato:soumu",
};

static int
fake_in_group(void *arg, const char *user, const char *group)
{
	char	pair[2 * ZM_NAME_MAX];
	size_t	i;

	(void)arg;
	if (strcmp(group, "broken") == 0)
		return -1;
	snprintf(pair, sizeof(pair), "%s:%s", user, group);
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (strcmp(members[i], pair) == 0)
			return 1;
	return 0;
}

static void
test_zone_access(void **state)
{
	struct zm_zone z;

	(void)state;
	mkzone(&z, "mynumber", K | P, CARD | TOTP, ZM_PASSWORD_STACK, 0);
	/* Empty lists: everyone, as before the keys existed. */
	assert_int_equal(zm_policy_zone_access(&z, "anyone", fake_in_group,
	    NULL), ZM_OK);

	snprintf(z.allow_groups[0], ZM_NAME_MAX, "juminkiroku");
	snprintf(z.allow_groups[1], ZM_NAME_MAX, "zeimu");
	z.n_allow_groups = 2;
	assert_int_equal(zm_policy_zone_access(&z, "suzuki", fake_in_group,
	    NULL), ZM_OK);
	assert_int_equal(zm_policy_zone_access(&z, "tanaka", fake_in_group,
	    NULL), ZM_OK);
	assert_int_equal(zm_policy_zone_access(&z, "sato", fake_in_group,
	    NULL), ZM_ERR_PERM);
	assert_int_equal(zm_policy_zone_access(&z, "root", fake_in_group,
	    NULL), ZM_ERR_PERM);

	/* allow_users adds single people to the groups. */
	snprintf(z.allow_users[0], ZM_NAME_MAX, "sato");
	z.n_allow_users = 1;
	assert_int_equal(zm_policy_zone_access(&z, "sato", fake_in_group,
	    NULL), ZM_OK);
	assert_int_equal(zm_policy_zone_access(&z, "sato2", fake_in_group,
	    NULL), ZM_ERR_PERM);
	/* Only allow_users: the groups play no part. */
	z.n_allow_groups = 0;
	assert_int_equal(zm_policy_zone_access(&z, "suzuki", fake_in_group,
	    NULL), ZM_ERR_PERM);

	/* A failed lookup is "cannot tell", unless another group says yes. */
	z.n_allow_users = 0;
	snprintf(z.allow_groups[0], ZM_NAME_MAX, "broken");
	snprintf(z.allow_groups[1], ZM_NAME_MAX, "zeimu");
	z.n_allow_groups = 2;
	assert_int_equal(zm_policy_zone_access(&z, "tanaka", fake_in_group,
	    NULL), ZM_OK);
	assert_int_equal(zm_policy_zone_access(&z, "sato", fake_in_group,
	    NULL), ZM_ERR_UNAVAILABLE);
	assert_int_equal(zm_policy_zone_access(NULL, "sato", fake_in_group,
	    NULL), ZM_ERR_INVALID);
}

/* ---- access time-outs (R9, R13) ---- */

static void
test_session_end(void **state)
{
	struct zm_zone	 z;
	const char	*why;
	int64_t		 t0 = 1700000000;

	(void)state;
	mkzone(&z, "lgwan", K | P, TOTP, ZM_PASSWORD_STACK, 0);
	/* Nothing set: never. */
	assert_true(zm_policy_session_end(&z, 0, t0, 0, &why) == INT64_MAX);
	assert_null(why);
	assert_true(zm_policy_session_end(&z, 1, t0, t0 + 5, &why) ==
	    INT64_MAX);
	assert_null(why);

	/* privileged_session_limit alone: privileged users only. */
	z.privileged_session_limit = 3600;
	assert_true(zm_policy_session_end(&z, 0, t0, 0, &why) == INT64_MAX);
	assert_true(zm_policy_session_end(&z, 1, t0, 0, &why) == t0 + 3600);
	assert_string_equal(why, "session_limit");

	/* session_limit for everyone; the shorter applies to privileged. */
	z.session_limit = 8 * 3600;
	assert_true(zm_policy_session_end(&z, 0, t0, 0, &why) ==
	    t0 + 8 * 3600);
	assert_string_equal(why, "session_limit");
	assert_true(zm_policy_session_end(&z, 1, t0, 0, &why) == t0 + 3600);
	z.privileged_session_limit = 9 * 3600;
	assert_true(zm_policy_session_end(&z, 1, t0, 0, &why) ==
	    t0 + 8 * 3600);

	/* idle_timeout: counts only when idle_since is known. */
	z.idle_timeout = 900;
	assert_true(zm_policy_session_end(&z, 0, t0, 0, &why) ==
	    t0 + 8 * 3600);
	assert_string_equal(why, "session_limit");
	assert_true(zm_policy_session_end(&z, 0, t0, t0 + 60, &why) ==
	    t0 + 960);
	assert_string_equal(why, "idle_timeout");
	/* Idle since just before the limit: the limit comes first. */
	assert_true(zm_policy_session_end(&z, 0, t0, t0 + 8 * 3600 - 10,
	    &why) == t0 + 8 * 3600);
	assert_string_equal(why, "session_limit");
	/* Only idle_timeout set. */
	z.session_limit = 0;
	z.privileged_session_limit = 0;
	assert_true(zm_policy_session_end(&z, 1, t0, t0 + 1, &why) ==
	    t0 + 901);
	assert_string_equal(why, "idle_timeout");
	/* No overflow at the far end. */
	z.session_limit = 3650LL * 86400;
	assert_true(zm_policy_session_end(&z, 0, INT64_MAX - 5, 0, &why) ==
	    INT64_MAX);
	assert_true(zm_policy_session_end(NULL, 0, t0, 0, &why) == INT64_MAX);
	assert_null(why);
}

static void
test_idle_parse(void **state)
{
	int64_t since = -1;

	(void)state;
	assert_int_equal(zm_policy_idle_parse("IdleHint=no\n"
	    "IdleSinceHint=0\n", &since), ZM_OK);
	assert_true(since == 0);
	assert_int_equal(zm_policy_idle_parse("IdleHint=yes\n"
	    "IdleSinceHint=1700000000123456\n", &since), ZM_OK);
	assert_true(since == 1700000000);
	/* Either order, no final newline. */
	assert_int_equal(zm_policy_idle_parse("IdleSinceHint=1700000060000000"
	    "\nIdleHint=yes", &since), ZM_OK);
	assert_true(since == 1700000060);
	/* Idle without a time, or no IdleHint at all: cannot decide. */
	assert_int_equal(zm_policy_idle_parse("IdleHint=yes\n"
	    "IdleSinceHint=0\n", &since), ZM_ERR_PROTO);
	assert_int_equal(zm_policy_idle_parse("IdleHint=yes\n", &since),
	    ZM_ERR_PROTO);
	assert_int_equal(zm_policy_idle_parse("IdleHint=yes\n"
	    "IdleSinceHint=12x\n", &since), ZM_ERR_PROTO);
	assert_int_equal(zm_policy_idle_parse("", &since), ZM_ERR_PROTO);
	assert_int_equal(zm_policy_idle_parse("Failed to get session\n",
	    &since), ZM_ERR_PROTO);
}

/*
 * The idle query's runner (zm_run_argv_io, session.c): the child's output
 * read back whole, with input, a failing child and a child that hangs.
 */
static void
test_run_output(void **state)
{
	char	 a0[] = "sh", a1[] = "-c", a2[128];
	char	*argv[] = { a0, a1, a2, NULL };
	char	 c0[] = "cat";
	char	*cargv[] = { c0, NULL };
	char	 out[64], small[8];
	int64_t	 since = -1;

	(void)state;
	snprintf(a2, sizeof(a2), "printf 'IdleHint=yes\\nIdleSinceHint="
	    "1700000000123456\\n'");
	assert_int_equal(zm_run_argv_io("/bin/sh", argv, NULL, NULL, out,
	    sizeof(out), 5000), ZM_OK);
	assert_string_equal(out, "IdleHint=yes\nIdleSinceHint="
	    "1700000000123456\n");
	assert_int_equal(zm_policy_idle_parse(out, &since), ZM_OK);
	assert_true(since == 1700000000);
	/* Input in, output out. */
	assert_int_equal(zm_run_argv_io("/bin/cat", cargv, NULL, "abc", out,
	    sizeof(out), 5000), ZM_OK);
	assert_string_equal(out, "abc");
	/* More output than fits: cut, NUL-terminated, still ZM_OK. */
	snprintf(a2, sizeof(a2), "printf 0123456789; exit 0");
	assert_int_equal(zm_run_argv_io("/bin/sh", argv, NULL, NULL, small,
	    sizeof(small), 5000), ZM_OK);
	assert_string_equal(small, "0123456");
	/* A failing child: not ZM_OK, whatever it printed. */
	snprintf(a2, sizeof(a2), "echo IdleHint=no; exit 3");
	assert_int_not_equal(zm_run_argv_io("/bin/sh", argv, NULL, NULL, out,
	    sizeof(out), 5000), ZM_OK);
	/* A child that never ends: the time-out, and it is killed. */
	snprintf(a2, sizeof(a2), "exec sleep 30");
	assert_int_equal(zm_run_argv_io("/bin/sh", argv, NULL, NULL, out,
	    sizeof(out), 200), ZM_ERR_TIMEOUT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_proofs),
		cmocka_unit_test(test_all_combinations),
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_bad_proofs),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_next_conversation),
		cmocka_unit_test(test_reachable),
		cmocka_unit_test(test_zone_access),
		cmocka_unit_test(test_session_end),
		cmocka_unit_test(test_idle_parse),
		cmocka_unit_test(test_run_output),
	};

	return cmocka_run_group_tests(tests, setup_zones, NULL);
}
