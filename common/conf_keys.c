/*
 * conf_keys.c - the values of zonemfa.conf(5): one validator per key.
 * A value is stored only once it is known to be good, so a rejected file
 * never leaves a half-applied config behind (the caller frees it anyway).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "err.h"
#include "names.h"

#define ZM_RP_ID_MAX		255

/* Bit i of a class / method mask is the i-th name. */
static const char *const class_names[] = {
	"knowledge", "possession", "inherence",
};
static const char *const method_names[] = {
	"card", "fido2", "totp", "tempcode",
};

/* Bit i is struct tm's tm_wday i. */
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

static int
isblank_c(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int
islower_digit(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* [a-z0-9][a-z0-9_-]*, at most ZM_NAME_MAX - 1 */
int
zm_conf_valid_zone_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= ZM_NAME_MAX || !islower_digit(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!islower_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* [a-z_][a-z0-9_.-]*, at most ZM_NAME_MAX - 1 */
static int
valid_group_n(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= ZM_NAME_MAX || s[0] == '.' || s[0] == '-' ||
	    (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!islower_digit(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return 0;
	return 1;
}

/* [A-Za-z0-9._-]+, at most ZM_NAME_MAX - 1 */
static int
valid_terminal_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= ZM_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower_digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

static void
copy_field(char *dst, size_t dstlen, const char *src)
{
	/* Callers validated the length; cut rather than overflow anyway. */
	if (snprintf(dst, dstlen, "%s", src) < 0)
		dst[0] = '\0';
}

static int
set_str(struct zm_cfp *p, char **dst, const char *val)
{
	char *s;

	if ((s = strdup(val)) == NULL) {
		p->fatal = ZM_ERR_NOMEM;
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static void
set_path(struct zm_cfp *p, const char *key, const char *val, char **dst)
{
	if (val[0] == '\0')
		zm_conf_err(p,
		    "%s: expected an absolute path, got an empty value", key);
	else if (val[0] != '/')
		zm_conf_err(p, "%s: relative path '%s' (every path must be "
		    "absolute)", key, val);
	else
		(void)set_str(p, dst, val);
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long long	 n;
	char			*end;
	size_t			 i, len = strlen(v);

	/* strtoull would accept blanks, signs and hex: digits only. */
	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/*
 * A space-separated set of names; bit i is names[i].  Unknown and repeated
 * words are each reported.
 */
static int
parse_set(struct zm_cfp *p, const char *key, const char *val,
    const char *const *names, size_t nnames, const char *what,
    const char *expect, unsigned *mask)
{
	const char	*s = val;
	size_t		 wl;
	unsigned	 m = 0;
	int		 i, bad = 0;

	for (;;) {
		while (isblank_c(*s))
			s++;
		if (*s == '\0')
			break;
		wl = strcspn(s, " \t");
		if ((i = zm_conf_lookup(names, nnames, s, wl)) < 0) {
			zm_conf_err(p, "%s: unknown %s '%.*s' (expected %s)",
			    key, what, (int)wl, s, expect);
			bad = 1;
		} else if (m & (1u << i)) {
			zm_conf_err(p, "%s: %s '%.*s' listed twice", key, what,
			    (int)wl, s);
			bad = 1;
		} else
			m |= 1u << i;
		s += wl;
	}
	if (bad)
		return -1;
	*mask = m;
	return 0;
}

void
zm_conf_set_tokend(struct zm_cfp *p, int k, const char *key, const char *val)
{
	struct zm_config	*c = p->c;
	const char		*colon;
	int64_t			 d;

	switch (k) {
	case TK_SOCKET:
		set_path(p, key, val, &c->socket);
		break;
	case TK_KEY_FILE:
		set_path(p, key, val, &c->key_file);
		break;
	case TK_CARD_CA:
		set_path(p, key, val, &c->card_ca);
		break;
	case TK_FIDO_ATTESTATION_CA:
		set_path(p, key, val, &c->fido_attestation_ca);
		break;
	case TK_AUDIT_LOG:
		set_path(p, key, val, &c->audit_log);
		break;
	case TK_STORE:
		if ((colon = strchr(val, ':')) == NULL || colon == val)
			zm_conf_err(p,
			    "%s: expected sqlite:/ABSOLUTE/PATH, got '%s'", key,
			    val);
		else if ((size_t)(colon - val) != 6 ||
		    memcmp(val, "sqlite", 6) != 0)
			zm_conf_err(p,
			    "%s: unknown store scheme '%.*s' (supported: "
			    "sqlite)",
			    key, (int)(colon - val), val);
		else if (colon[1] == '\0')
			zm_conf_err(p,
			    "%s: expected sqlite:/ABSOLUTE/PATH, got '%s'", key,
			    val);
		else if (colon[1] != '/')
			zm_conf_err(p,
			    "%s: relative path '%s' (every path must be "
			    "absolute, as in sqlite:/var/lib/zonemfa/"
			    "registry.db)",
			    key, colon + 1);
		else
			(void)set_str(p, &c->store, val);
		break;
	case TK_HELPDESK_GROUP:
	case TK_ADMIN_GROUP:
		if (!valid_group_n(val, strlen(val)))
			zm_conf_err(p,
			    "%s: expected a group name ([a-z_][a-z0-9_.-]*,"
			    " at most %d characters), got '%s'",
			    key, ZM_NAME_MAX - 1, val);
		else
			copy_field(k == TK_ADMIN_GROUP ? c->admin_group :
			    c->helpdesk_group, ZM_NAME_MAX, val);
		break;
	case TK_PCSC:
	case TK_FIDO:
		if (parse_bool(val, k == TK_PCSC ? &c->pcsc : &c->fido) != 0)
			zm_conf_err(p,
			    "%s: expected yes or no (yes|no|true|false|"
			    "on|off|1|0), got '%s'",
			    key, val);
		break;
	case TK_FIDO_TIMEOUT:
		/* Under the module's 30 s wait for a reply: it hears why. */
		if (zm_duration_parse(val, &d) != ZM_OK || d < 1 ||
		    d > ZM_FIDO_TIMEOUT_MAX)
			zm_conf_err(p,
			    "%s: expected a duration from 1s to %ds, such as "
			    "25s, got '%s'",
			    key, ZM_FIDO_TIMEOUT_MAX, val);
		else
			c->fido_timeout = d;
		break;
	case TK_FIDO_RP_ID:
		if (val[0] == '\0' || strcspn(val, " \t") != strlen(val) ||
		    strlen(val) > ZM_RP_ID_MAX)
			zm_conf_err(p,
			    "%s: expected a relying-party id (not empty, "
			    "no spaces, at most %d characters), got '%s'",
			    key, ZM_RP_ID_MAX, val);
		else
			(void)set_str(p, &c->fido_rp_id, val);
		break;
	}
}

/* The first word is an absolute program path; only %u and %s expand. */
static int
check_lock_command(struct zm_cfp *p, const char *key, const char *val)
{
	const char *s;

	if (val[0] != '/') {
		zm_conf_err(p,
		    "%s: the program must be an absolute path, got '%s'", key,
		    val);
		return -1;
	}
	for (s = val; (s = strchr(s, '%')) != NULL; s += 2) {
		if (s[1] != 'u' && s[1] != 's') {
			if (s[1] == '\0')
				zm_conf_err(p,
				    "%s: '%%' at the end (only %%u and %%s "
				    "are expanded)",
				    key);
			else
				zm_conf_err(p,
				    "%s: unknown escape '%%%c' (only %%u "
				    "and %%s are expanded)",
				    key, s[1]);
			return -1;
		}
	}
	return 0;
}

/* "HH:MM" (two digits each, 00:00 to 24:00) -> minutes after midnight. */
static int
parse_hhmm(const char *s, size_t len, int *out)
{
	int h, m;

	if (len != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*out = h * 60 + m;
	return 0;
}

/*
 * "08:30-17:30".  A window across midnight is refused rather than
 * guessed at: a report that silently flags the wrong logins is worse
 * than a config error.
 */
static void
set_office_hours(struct zm_cfp *p, const char *key, const char *val)
{
	const char	*dash = strchr(val, '-');
	int		 a, b;

	if (dash == NULL || parse_hhmm(val, (size_t)(dash - val), &a) != 0 ||
	    parse_hhmm(dash + 1, strlen(dash + 1), &b) != 0 || a == 24 * 60) {
		zm_conf_err(p, "%s: expected HH:MM-HH:MM such as 08:30-17:30 "
		    "(00:00 to 24:00), got '%s'", key, val);
		return;
	}
	if (b <= a) {
		zm_conf_err(p, "%s: the end %.5s is not after the start %.*s "
		    "(a window across midnight is not supported)", key,
		    dash + 1, (int)(dash - val), val);
		return;
	}
	p->c->office_start = a;
	p->c->office_end = b;
}

void
zm_conf_set_terminal(struct zm_cfp *p, int k, const char *key, const char *val)
{
	struct zm_config	*c = p->c;
	unsigned		 u;

	switch (k) {
	case TM_ZONE:
		/* Whether it exists is checked once the whole file is read. */
		if (!zm_conf_valid_zone_name(val))
			zm_conf_err(p,
			    "%s: expected a zone name ([a-z0-9][a-z0-9_-]*,"
			    " at most %d characters), got '%s'",
			    key, ZM_NAME_MAX - 1, val);
		else
			copy_field(c->zone, sizeof(c->zone), val);
		break;
	case TM_NAME:
		if (!valid_terminal_name(val))
			zm_conf_err(p,
			    "%s: expected a terminal name ([A-Za-z0-9._-]+,"
			    " at most %d characters), got '%s'",
			    key, ZM_NAME_MAX - 1, val);
		else
			copy_field(c->terminal_name, sizeof(c->terminal_name),
			    val);
		break;
	case TM_LOCK_COMMAND:
		if (check_lock_command(p, key, val) == 0)
			(void)set_str(p, &c->lock_command, val);
		break;
	case TM_OFFICE_HOURS:
		set_office_hours(p, key, val);
		break;
	case TM_OFFICE_DAYS:
		if (parse_set(p, key, val, day_names, 7, "day",
		    "mon, tue, wed, thu, fri, sat or sun", &u) != 0)
			break;
		if (u == 0)
			zm_conf_err(p, "%s: expected at least one day "
			    "(mon tue wed thu fri sat sun)", key);
		else
			c->office_days = u;
		break;
	}
}

/* A user name (names.c rules) of at most len bytes. */
static int
valid_user_n(const char *s, size_t n)
{
	char buf[ZM_NAME_MAX];

	if (n == 0 || n >= ZM_NAME_MAX)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return zm_user_name_valid(buf);
}

/*
 * A space-separated list of names (groups, or users with users set), each
 * valid and listed once, at most max of them.  Stored into out / *nout
 * only when every name is good; an empty value stores an empty list.
 */
static void
set_names(struct zm_cfp *p, const char *key, const char *val, int users,
    char (*out)[ZM_NAME_MAX], size_t max, size_t *nout)
{
	char		 g[ZM_MAX_ALLOW_USERS][ZM_NAME_MAX];
	const char	*s = val, *what = users ? "user" : "group";
	size_t		 n = 0, i, wl;
	int		 bad = 0, dup, ok;

	if (max > ZM_MAX_ALLOW_USERS)
		max = ZM_MAX_ALLOW_USERS;
	for (;;) {
		while (isblank_c(*s))
			s++;
		if (*s == '\0')
			break;
		wl = strcspn(s, " \t");
		ok = users ? valid_user_n(s, wl) : valid_group_n(s, wl);
		if (!ok) {
			zm_conf_err(p,
			    "%s: expected %s names (%s, at most %d "
			    "characters), got '%.*s'",
			    key, what, users ? "[A-Za-z0-9._@-], not starting "
			    "with '-'" : "[a-z_][a-z0-9_.-]*", ZM_NAME_MAX - 1,
			    (int)wl, s);
			bad = 1;
		} else if (n == max) {
			zm_conf_err(p, "%s: more than %zu %ss", key, max, what);
			return;
		} else {
			for (dup = 0, i = 0; i < n; i++)
				if (strlen(g[i]) == wl &&
				    memcmp(g[i], s, wl) == 0)
					dup = 1;
			if (dup) {
				zm_conf_err(p, "%s: %s '%.*s' listed twice",
				    key, what, (int)wl, s);
				bad = 1;
			} else {
				memcpy(g[n], s, wl);
				g[n++][wl] = '\0';
			}
		}
		s += wl;
	}
	if (bad)
		return;
	memset(out, 0, max * ZM_NAME_MAX);
	memcpy(out, g, n * sizeof(g[0]));
	*nout = n;
}

void
zm_conf_set_zone(struct zm_cfp *p, int k, const char *key, const char *val)
{
	struct zm_zone	*z = &p->c->zones[p->zi];
	unsigned	 u;
	int64_t		 d;

	switch (k) {
	case ZK_REQUIRE:
		if (parse_set(p, key, val, class_names, 3, "factor class",
		    "knowledge, possession or inherence", &u) != 0)
			break;
		if (u == 0)
			zm_conf_err(p,
			    "%s: expected at least one of knowledge, "
			    "possession, inherence",
			    key);
		else
			z->require = u;
		break;
	case ZK_METHODS:
		if (parse_set(p, key, val, method_names, 4, "method",
		    "card, fido2, totp or tempcode", &u) == 0)
			z->methods = u;
		break;
	case ZK_PASSWORD:
		if (strcmp(val, "stack") == 0)
			z->password = ZM_PASSWORD_STACK;
		else if (strcmp(val, "none") == 0)
			z->password = ZM_PASSWORD_NONE;
		else
			zm_conf_err(p, "%s: expected stack or none, got '%s'",
			    key, val);
		break;
	case ZK_MAX_FAILURES:
	case ZK_PRIV_MAX_FAILURES:
		if (parse_uint(val, 1, 1000, &u) != 0)
			zm_conf_err(p,
			    "%s: expected a number from 1 to 1000, got "
			    "'%s'",
			    key, val);
		else if (k == ZK_MAX_FAILURES)
			z->max_failures = u;
		else
			z->privileged_max_failures = u;
		break;
	case ZK_LOCKOUT:
		/* A zero lockout would make max_failures meaningless. */
		if (strcmp(val, "helpdesk") == 0)
			z->lockout = ZM_LOCKOUT_HELPDESK;
		else if (zm_duration_parse(val, &d) != ZM_OK || d == 0)
			zm_conf_err(p,
			    "%s: expected a duration such as 30m (Ns, Nm, "
			    "Nh or Nd, not 0, at most 3650d) or helpdesk, got "
			    "'%s'",
			    key, val);
		else
			z->lockout = d;
		break;
	case ZK_PRIV_GROUPS:
		set_names(p, key, val, 0, z->privileged_groups, ZM_MAX_GROUPS,
		    &z->n_privileged_groups);
		break;
	case ZK_ALLOW_GROUPS:
		set_names(p, key, val, 0, z->allow_groups, ZM_MAX_GROUPS,
		    &z->n_allow_groups);
		break;
	case ZK_ALLOW_USERS:
		set_names(p, key, val, 1, z->allow_users, ZM_MAX_ALLOW_USERS,
		    &z->n_allow_users);
		break;
	case ZK_PRIV_SESSION_LIMIT:
	case ZK_DORMANT_AFTER:
	case ZK_SESSION_LIMIT:
	case ZK_IDLE_TIMEOUT:
		if (zm_duration_parse(val, &d) != ZM_OK)
			zm_conf_err(p,
			    "%s: expected a duration such as 8h (Ns, Nm, Nh "
			    "or Nd, at most 3650d) or 0 for none, got '%s'",
			    key, val);
		else if (k == ZK_PRIV_SESSION_LIMIT)
			z->privileged_session_limit = d;
		else if (k == ZK_SESSION_LIMIT)
			z->session_limit = d;
		else if (k == ZK_IDLE_TIMEOUT)
			z->idle_timeout = d;
		else
			z->dormant_after = d;
		break;
	case ZK_CARD_REMOVAL:
		if (strcmp(val, "lock") == 0)
			z->card_removal = ZM_REMOVAL_LOCK;
		else if (strcmp(val, "logout") == 0)
			z->card_removal = ZM_REMOVAL_LOGOUT;
		else if (strcmp(val, "none") == 0)
			z->card_removal = ZM_REMOVAL_NONE;
		else
			zm_conf_err(p,
			    "%s: expected lock, logout or none, got '%s'", key,
			    val);
		break;
	case ZK_BANNER:
		set_path(p, key, val, &z->banner);
		break;
	case ZK_TEMP_CODE:
		if (strcmp(val, "allow") == 0)
			z->temp_code = 1;
		else if (strcmp(val, "deny") == 0)
			z->temp_code = 0;
		else
			zm_conf_err(p, "%s: expected allow or deny, got '%s'",
			    key, val);
		break;
	}
}


int
zm_office_hours_in(const struct zm_config *c, const struct tm *tm)
{
	int min;

	if (tm->tm_wday < 0 || tm->tm_wday > 6 ||
	    (c->office_days & (1u << tm->tm_wday)) == 0)
		return 0;
	min = tm->tm_hour * 60 + tm->tm_min;
	return min >= c->office_start && min < c->office_end;
}

void
zm_office_hours_format(const struct zm_config *c, char *out, size_t outlen)
{
	size_t	i, len;
	int	n;

	n = snprintf(out, outlen, "%02d:%02d-%02d:%02d", c->office_start / 60,
	    c->office_start % 60, c->office_end / 60, c->office_end % 60);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	/* Monday first, as people write it. */
	for (i = 1; i <= 7; i++) {
		if ((c->office_days & (1u << (i % 7))) == 0)
			continue;
		len = strlen(out);
		n = snprintf(out + len, outlen - len, " %s", day_names[i % 7]);
		if (n < 0 || (size_t)n >= outlen - len) {
			out[len] = '\0';
			return;
		}
	}
}
