/*
 * conf_parse.c - the INI parser of zonemfa.conf(5).
 *
 * The text is untrusted (it may come from a fuzzer, and a broken file must
 * never half-apply): every line is copied into a bounded buffer, every value
 * is validated before it is stored, every problem is reported as
 * "FILE:LINE: message" and parsing goes on so the administrator sees all of
 * them at once.  Checks that need the whole file (zone references, whether
 * a zone can be satisfied) run at the end.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "err.h"

static const char *const tokend_keys[TK__N] = {
	"socket", "key_file", "card_ca", "store", "audit_log",
	"helpdesk_group", "admin_group", "pcsc", "fido", "fido_rp_id",
	"fido_attestation_ca", "fido_timeout",
};

static const char *const terminal_keys[TM__N] = {
	"zone", "name", "lock_command", "office_hours", "office_days",
};

static const char *const zone_keys[ZK__N] = {
	"require", "methods", "password", "max_failures", "lockout",
	"privileged_groups", "privileged_max_failures",
	"privileged_session_limit", "card_removal", "dormant_after", "banner",
	"temp_code",
	"allow_groups", "allow_users", "session_limit", "idle_timeout",
};

static void vperr_at(struct zm_cfp *, unsigned long, const char *, va_list)
    __attribute__((format(printf, 3, 0)));
static void perr_at(struct zm_cfp *, unsigned long, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
vperr_at(struct zm_cfp *p, unsigned long line, const char *fmt, va_list ap)
{
	char	msg[2 * ZM_CONF_MAX_LINE];
	int	n, r;

	if (p->fatal != ZM_OK)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0) {
		p->fatal = ZM_ERR_INTERNAL;
		return;
	}
	/* Messages quote at most one line, so this is only a safety net. */
	if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	p->nerr++;
	if (p->nerr > ZM_CONF_MAX_ERRORS) {
		r = zm_errlist_addf(p->errs, "%s: too many errors, giving up",
		    p->name);
		p->fatal = r != ZM_OK ? r : ZM_ERR_CONFIG;
		return;
	}
	if ((r = zm_errlist_addf(p->errs, "%s:%lu: %s", p->name, line,
	    msg)) != ZM_OK)
		p->fatal = r;
}

static void
perr_at(struct zm_cfp *p, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr_at(p, line, fmt, ap);
	va_end(ap);
}

void
zm_conf_err(struct zm_cfp *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr_at(p, p->line, fmt, ap);
	va_end(ap);
}

void
zm_conf_err_at(struct zm_cfp *p, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vperr_at(p, line, fmt, ap);
	va_end(ap);
}

static int
isblank_c(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char *
trim(char *s)
{
	size_t n;

	while (isblank_c(*s))
		s++;
	n = strlen(s);
	while (n > 0 && isblank_c(s[n - 1]))
		s[--n] = '\0';
	return s;
}

int
zm_conf_lookup(const char *const *names, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

static void
zone_section(struct zm_cfp *p, const char *name)
{
	struct zm_config	*c = p->c;
	size_t			 i;

	p->sec = SEC_SKIP;
	if (name[0] == '\0') {
		zm_conf_err(
		    p, "section [zone] needs a zone name, as in [zone lgwan]");
		return;
	}
	if (!zm_conf_valid_zone_name(name)) {
		zm_conf_err(p,
		    "invalid zone name '%s' (expected [a-z0-9][a-z0-9_-]*,"
		    " at most %d characters)",
		    name, ZM_NAME_MAX - 1);
		return;
	}
	for (i = 0; i < c->n_zones; i++)
		if (strcmp(c->zones[i].name, name) == 0)
			break;
	if (i < c->n_zones && p->zone_line[i] != 0)
		/* Go on in the same zone so its values are still checked. */
		zm_conf_err(p,
		    "duplicate section [zone %s] (first at line %lu)", name,
		    p->zone_line[i]);
	else if (i == c->n_zones) {
		if (i == ZM_MAX_ZONES) {
			zm_conf_err(
			    p, "too many zones (at most %d)", ZM_MAX_ZONES);
			return;
		}
		zm_zone_init(&c->zones[i], name);
		c->n_zones++;
	}
	/* A built-in zone keeps its defaults: the section only overrides. */
	if (p->zone_line[i] == 0)
		p->zone_line[i] = p->line;
	p->zi = i;
	p->sec = SEC_ZONE;
}

static void
section(struct zm_cfp *p, char *s)
{
	size_t	 n = strlen(s);
	char	*in;

	if (n < 2 || s[n - 1] != ']') {
		zm_conf_err(p,
		    "malformed section header '%s' (expected [tokend], "
		    "[terminal] or [zone NAME])",
		    s);
		p->sec = SEC_SKIP;
		return;
	}
	s[n - 1] = '\0';
	in = trim(s + 1);
	if (strcmp(in, "tokend") == 0) {
		if (p->tokend_line != 0)
			zm_conf_err(p,
			    "duplicate section [tokend] (first at line "
			    "%lu)",
			    p->tokend_line);
		else
			p->tokend_line = p->line;
		p->sec = SEC_TOKEND;
	} else if (strcmp(in, "terminal") == 0) {
		if (p->terminal_line != 0)
			zm_conf_err(p,
			    "duplicate section [terminal] (first at line "
			    "%lu)",
			    p->terminal_line);
		else
			p->terminal_line = p->line;
		p->sec = SEC_TERMINAL;
	} else if (strncmp(in, "zone", 4) == 0 &&
	    (in[4] == '\0' || isblank_c(in[4])))
		zone_section(p, trim(in + 4));
	else if (strncmp(in, "shared", 6) == 0 &&
	    (in[6] == '\0' || isblank_c(in[6])))
		zm_conf_shared_section(p, trim(in + 6));
	else {
		zm_conf_err(p,
		    "unknown section [%s] (expected [tokend], [terminal], "
		    "[zone NAME] or [shared NAME])",
		    in);
		p->sec = SEC_SKIP;
	}
}

static void
keyval(struct zm_cfp *p, char *s)
{
	const char *const	*keys;
	unsigned long		*seen;
	const char		*secname;
	char			 zsec[ZM_NAME_MAX + 8];
	char			*eq, *key, *val;
	size_t			 nkeys;
	int			 k;

	if ((eq = strchr(s, '=')) == NULL) {
		zm_conf_err(p, "malformed line '%s' (expected 'key = value' or "
		    "'[section]')", s);
		return;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (key[0] == '\0') {
		zm_conf_err(p, "malformed line: no key before '='");
		return;
	}
	switch (p->sec) {
	case SEC_NONE:
		zm_conf_err(p,
		    "key '%s' outside a section (put it under [tokend], "
		    "[terminal] or [zone NAME])",
		    key);
		return;
	case SEC_SKIP:
		return;		/* the section header was reported */
	case SEC_SHARED:
		zm_conf_set_shared(p, key, val);
		return;
	case SEC_TOKEND:
		keys = tokend_keys;
		nkeys = TK__N;
		seen = p->tokend_seen;
		secname = "[tokend]";
		break;
	case SEC_TERMINAL:
		keys = terminal_keys;
		nkeys = TM__N;
		seen = p->terminal_seen;
		secname = "[terminal]";
		break;
	case SEC_ZONE:
	default:
		keys = zone_keys;
		nkeys = ZK__N;
		seen = p->zone_seen[p->zi];
		if (snprintf(zsec, sizeof(zsec), "[zone %s]",
		    p->c->zones[p->zi].name) >= (int)sizeof(zsec))
			zsec[0] = '\0';
		secname = zsec;
		break;
	}
	if ((k = zm_conf_lookup(keys, nkeys, key, strlen(key))) < 0) {
		zm_conf_err(p, "unknown key '%s' in section %s", key, secname);
		return;
	}
	if (seen[k] != 0) {
		zm_conf_err(p,
		    "duplicate key '%s' in section %s (first at line %lu)", key,
		    secname, seen[k]);
		return;
	}
	seen[k] = p->line;
	if (p->sec == SEC_TOKEND)
		zm_conf_set_tokend(p, k, key, val);
	else if (p->sec == SEC_TERMINAL)
		zm_conf_set_terminal(p, k, key, val);
	else
		zm_conf_set_zone(p, k, key, val);
}

static void
parse_line(struct zm_cfp *p, const char *text, size_t len)
{
	char	 buf[ZM_CONF_MAX_LINE + 1];
	char	*s, *h;
	size_t	 i;

	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len > ZM_CONF_MAX_LINE) {
		zm_conf_err(p, "line too long (more than %d characters)",
		    ZM_CONF_MAX_LINE);
		return;
	}
	for (i = 0; i < len; i++) {
		if (((unsigned char)text[i] < 0x20 && text[i] != '\t') ||
		    text[i] == 0x7f) {
			zm_conf_err(p, "control character 0x%02x in line",
			    (unsigned char)text[i]);
			return;
		}
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	s = buf;
	while (isblank_c(*s))
		s++;
	if (*s == '#')
		return;
	/* A trailing comment starts at a '#' after a blank. */
	for (h = s; (h = strchr(h, '#')) != NULL; h++) {
		if (h > s && isblank_c(h[-1])) {
			*h = '\0';
			break;
		}
	}
	s = trim(s);
	if (*s == '\0')
		return;
	if (*s == '[')
		section(p, s);
	else
		keyval(p, s);
}

static unsigned long
later(unsigned long a, unsigned long b)
{
	return a > b ? a : b;
}

static void
check_zone(struct zm_cfp *p, size_t i)
{
	const struct zm_zone	*z = &p->c->zones[i];
	unsigned long		 line = p->zone_line[i];
	unsigned		 poss;

	if (z->privileged_max_failures > z->max_failures) {
		line = later(p->zone_seen[i][ZK_MAX_FAILURES],
		    p->zone_seen[i][ZK_PRIV_MAX_FAILURES]);
		perr_at(p, line ? line : p->zone_line[i], "[zone %s] "
		    "privileged_max_failures (%u) is greater than max_failures "
		    "(%u): privileged accounts must lock sooner, not later",
		    z->name, z->privileged_max_failures, z->max_failures);
	}
	line = p->zone_line[i];
	if ((z->require & ZM_CLASS_KNOWLEDGE) &&
	    z->password != ZM_PASSWORD_STACK &&
	    !(z->methods & (ZM_METHOD_CARD | ZM_METHOD_FIDO2)))
		perr_at(p, line, "[zone %s] requires knowledge, but nothing "
		    "can prove it: set password = stack or accept method card "
		    "or fido2 (PIN)", z->name);
	poss = z->methods & (ZM_METHOD_CARD | ZM_METHOD_FIDO2 | ZM_METHOD_TOTP);
	if (z->temp_code)
		poss |= z->methods & ZM_METHOD_TEMPCODE;
	if ((z->require & ZM_CLASS_POSSESSION) && poss == 0)
		perr_at(p, line, "[zone %s] requires possession, but no "
		    "method can prove it: add card, fido2 or totp to methods "
		    "(tempcode counts only with temp_code = allow)", z->name);
	if ((z->require & ZM_CLASS_INHERENCE) &&
	    !(z->methods & ZM_METHOD_FIDO2))
		perr_at(p, line, "[zone %s] requires inherence, but no method "
		    "can prove it: only fido2 (built-in user verification) "
		    "can; add it to methods", z->name);
}

static void
check_all(struct zm_cfp *p)
{
	size_t i;

	if (p->terminal_seen[TM_ZONE] != 0 && p->c->zone[0] != '\0' &&
	    zm_config_zone(p->c, p->c->zone) == NULL)
		perr_at(p, p->terminal_seen[TM_ZONE], "zone: no such zone "
		    "'%s' (not built in and no [zone %s] section)", p->c->zone,
		    p->c->zone);
	for (i = 0; i < p->c->n_zones; i++)
		if (p->zone_line[i] != 0)
			check_zone(p, i);
	zm_conf_check_shared(p);
}

int
zm_config_parse(const char *name, const char *text, size_t len,
    struct zm_config **out, struct zm_errlist *errs)
{
	struct zm_cfp	*p = NULL;
	const char	*nl;
	size_t		 pos, ll;
	int		 r = ZM_ERR_INTERNAL;

	if (out == NULL || (text == NULL && len != 0))
		return ZM_ERR_INVALID;
	*out = NULL;
	/* The per-zone key table is too big for a PAM caller's stack. */
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ZM_ERR_NOMEM;
	p->name = name != NULL ? name : "(config)";
	p->errs = errs;
	p->sec = SEC_NONE;
	if ((r = zm_config_defaults(&p->c)) != ZM_OK)
		goto out;
	for (pos = 0; pos < len && p->fatal == ZM_OK; pos += ll + 1) {
		nl = memchr(text + pos, '\n', len - pos);
		ll = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		p->line++;
		parse_line(p, text + pos, ll);
	}
	if (p->fatal == ZM_OK)
		check_all(p);
	if (p->fatal != ZM_OK) {
		r = p->fatal;
		goto out;
	}
	if (p->nerr != 0) {
		r = ZM_ERR_CONFIG;
		goto out;
	}
	*out = p->c;
	p->c = NULL;
	r = ZM_OK;
 out:
	zm_config_free(p->c);
	free(p);
	return r;
}
