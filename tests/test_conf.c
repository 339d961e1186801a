/*
 * test_conf.c - zonemfa.conf(5) parser: every key valid and invalid, every
 * error class with its exact "FILE:LINE:" prefix, all errors of a file
 * reported, built-in defaults.  Loading files and module arguments are in
 * test_conf_load.c.
 * R1 (per-zone factor policy), R9 (privileged limits), R13 (attempt
 * limits, banner) and R14 (protected configuration) depend on this parser.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "err.h"

#define NAME	"t.conf"

struct want {
	const char	*prefix;	/* exact start, e.g. "t.conf:3: " */
	const char	*part;		/* must appear in the message */
};

static struct zm_config *
parse_ok(const char *text)
{
	struct zm_errlist	 e = { NULL, 0 };
	struct zm_config	*c = NULL;
	int			 r;

	r = zm_config_parse(NAME, text, strlen(text), &c, &e);
	if (r != ZM_OK || e.n != 0)
		fprintf(stderr, "unexpected: %s\n",
		    e.n ? e.msg[0] : zm_strerror(r));
	assert_int_equal(r, ZM_OK);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	zm_errlist_free(&e);
	return c;
}

/* text must fail with exactly the errors in w, in that order. */
static void
parse_bad(const char *text, const struct want *w, size_t nw)
{
	struct zm_errlist	 e = { NULL, 0 };
	struct zm_config	*c = (struct zm_config *)&e;	/* poison */
	size_t			 i;
	int			 r;

	r = zm_config_parse(NAME, text, strlen(text), &c, &e);
	assert_int_equal(r, ZM_ERR_CONFIG);
	assert_null(c);
	if (e.n != nw)
		for (i = 0; i < e.n; i++)
			fprintf(stderr, "got: %s\n", e.msg[i]);
	assert_int_equal(e.n, nw);
	for (i = 0; i < nw; i++) {
		if (strncmp(e.msg[i], w[i].prefix, strlen(w[i].prefix)) != 0 ||
		    strstr(e.msg[i], w[i].part) == NULL)
			fprintf(stderr, "error %zu: got '%s', want "
			    "'%s...%s'\n", i, e.msg[i], w[i].prefix, w[i].part);
		assert_memory_equal(e.msg[i], w[i].prefix, strlen(w[i].prefix));
		assert_non_null(strstr(e.msg[i], w[i].part));
	}
	zm_errlist_free(&e);
}

static void
parse_bad1(const char *text, const char *prefix, const char *part)
{
	struct want w = { prefix, part };

	parse_bad(text, &w, 1);
}

static void
check_builtin_zones(const struct zm_config *c)
{
	const struct zm_zone *z;

	assert_int_equal(c->n_zones, 3);
	z = zm_config_zone(c, "mynumber");
	assert_non_null(z);
	assert_int_equal(z->require, ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION);
	assert_int_equal(z->methods,
	    ZM_METHOD_CARD | ZM_METHOD_FIDO2 | ZM_METHOD_TOTP);
	assert_int_equal(z->password, ZM_PASSWORD_STACK);
	assert_int_equal(z->max_failures, 5);
	assert_int_equal(z->lockout, 1800);
	assert_int_equal(z->n_privileged_groups, 2);
	assert_string_equal(z->privileged_groups[0], "wheel");
	assert_string_equal(z->privileged_groups[1], "zonemfa-admin");
	assert_int_equal(z->privileged_max_failures, 3);
	assert_int_equal(z->privileged_session_limit, 2 * 3600);
	assert_int_equal(z->card_removal, ZM_REMOVAL_LOCK);
	assert_int_equal(z->dormant_after, 90 * 86400);
	assert_null(z->banner);
	assert_int_equal(z->temp_code, 0);

	z = zm_config_zone(c, "lgwan");
	assert_non_null(z);
	assert_int_equal(z->require, ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION);
	assert_int_equal(z->methods,
	    ZM_METHOD_CARD | ZM_METHOD_FIDO2 | ZM_METHOD_TOTP);
	assert_int_equal(z->privileged_session_limit, 8 * 3600);
	assert_int_equal(z->card_removal, ZM_REMOVAL_LOCK);
	assert_int_equal(z->temp_code, 1);
	assert_int_equal(z->n_privileged_groups, 2);

	z = zm_config_zone(c, "internet");
	assert_non_null(z);
	assert_int_equal(z->require, ZM_CLASS_KNOWLEDGE);
	assert_int_equal(z->methods, 0);
	assert_int_equal(z->password, ZM_PASSWORD_STACK);
	assert_int_equal(z->max_failures, 5);
	assert_int_equal(z->privileged_max_failures, 3);
	assert_int_equal(z->privileged_session_limit, 8 * 3600);
	assert_int_equal(z->card_removal, ZM_REMOVAL_NONE);
	assert_int_equal(z->temp_code, 1);
	assert_null(zm_config_zone(c, "nosuch"));
}

static void
test_defaults(void **state)
{
	struct zm_config	*c = NULL;
	char			 host[256] = "";

	assert_int_equal(zm_config_defaults(&c), ZM_OK);
	assert_null(c->path);
	assert_string_equal(c->socket, "/run/zonemfa/tokend.sock");
	assert_string_equal(c->key_file, SYSCONFDIR "/zonemfa/registry.key");
	assert_null(c->card_ca);
	assert_null(c->fido_attestation_ca);	/* optional: unset */
	assert_string_equal(c->store, "sqlite:/var/lib/zonemfa/registry.db");
	assert_string_equal(c->audit_log, "/var/log/zonemfa/audit.log");
	assert_string_equal(c->helpdesk_group, "zonemfa-helpdesk");
	assert_string_equal(c->admin_group, "zonemfa-admin");
	assert_int_equal(c->pcsc, 1);
	assert_int_equal(c->fido, 1);
	assert_string_equal(c->fido_rp_id, "pam://zonemfa");
	assert_int_equal(c->fido_timeout, ZM_FIDO_TIMEOUT_DEFAULT);
	/* No zone: the daemon must fail closed until one is configured. */
	assert_string_equal(c->zone, "");
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_true(strlen(c->terminal_name) < ZM_NAME_MAX);
	assert_int_equal(strncmp(c->terminal_name, host,
	    strlen(c->terminal_name)), 0);
	assert_null(c->lock_command);
	/* R15: office hours 08:30-17:30, Monday to Friday. */
	assert_int_equal(c->office_start, 8 * 60 + 30);
	assert_int_equal(c->office_end, 17 * 60 + 30);
	assert_int_equal(c->office_days, 0x3e);
	assert_int_equal(c->debug, 0);
	check_builtin_zones(c);
	zm_config_free(c);
	zm_config_free(NULL);	/* NULL-safe */
}

static void
test_empty_and_comments(void **state)
{
	struct zm_config *c;

	c = parse_ok("");
	check_builtin_zones(c);
	zm_config_free(c);
	c = parse_ok("\n   \n# only a comment\n\t# indented comment\n");
	check_builtin_zones(c);
	zm_config_free(c);
	/* A '#' glued to the value is part of it; after a blank it is not. */
	c = parse_ok("[tokend]   # trailing\n"
	    "fido_rp_id = a#b # comment\r\n"
	    "  pcsc=no\t#x\n");
	assert_string_equal(c->fido_rp_id, "a#b");
	assert_int_equal(c->pcsc, 0);
	zm_config_free(c);
	/* The last line needs no newline. */
	c = parse_ok("[tokend]\nfido = off");
	assert_int_equal(c->fido, 0);
	zm_config_free(c);
}

static void
test_spec_example(void **state)
{
	static const char text[] =
	    "[tokend]\n"
	    "socket      = /run/zonemfa/tokend.sock\n"
	    "key_file    = /etc/zonemfa/registry.key    # created 0600\n"
	    "card_ca     = /etc/zonemfa/card-ca.pem\n"
	    "store       = sqlite:/var/lib/zonemfa/registry.db\n"
	    "audit_log   = /var/log/zonemfa/audit.log\n"
	    "helpdesk_group = zonemfa-helpdesk\n"
	    "admin_group    = zonemfa-admin\n"
	    "pcsc        = yes\n"
	    "fido        = yes\n"
	    "fido_rp_id  = pam://zonemfa\n"
	    "\n"
	    "[terminal]\n"
	    "zone = mynumber\n"
	    "name = term-0123\n"
	    "lock_command = /usr/local/sbin/lock-session %u %s\n"
	    "\n"
	    "[zone mynumber]\n"
	    "require      = knowledge possession\n"
	    "methods      = card fido2 totp\n"
	    "password     = stack\n"
	    "max_failures = 5\n"
	    "lockout      = 30m\n"
	    "privileged_groups       = wheel zonemfa-admin\n"
	    "privileged_max_failures = 3\n"
	    "privileged_session_limit = 2h\n"
	    "card_removal = lock\n"
	    "dormant_after = 90d\n"
	    "banner       = /etc/zonemfa/banner.mynumber\n"
	    "temp_code    = deny\n"
	    "\n"
	    "[zone lgwan]\n"
	    "require = knowledge possession\n"
	    "methods = card fido2 totp\n"
	    "password = stack\n"
	    "\n"
	    "[zone internet]\n"
	    "require = knowledge\n"
	    "methods =\n"
	    "password = stack\n";
	struct zm_config	*c = parse_ok(text);
	const struct zm_zone	*z;

	assert_string_equal(c->card_ca, "/etc/zonemfa/card-ca.pem");
	assert_string_equal(c->zone, "mynumber");
	assert_string_equal(c->terminal_name, "term-0123");
	assert_string_equal(c->lock_command,
	    "/usr/local/sbin/lock-session %u %s");
	z = zm_config_zone(c, "mynumber");
	assert_non_null(z);
	assert_string_equal(z->banner, "/etc/zonemfa/banner.mynumber");
	assert_int_equal(z->privileged_session_limit, 2 * 3600);
	assert_int_equal(z->n_privileged_groups, 2);
	z = zm_config_zone(c, "internet");
	assert_non_null(z);
	assert_int_equal(z->require, ZM_CLASS_KNOWLEDGE);
	assert_int_equal(z->methods, 0);
	zm_config_free(c);
}

/* Every key with a valid value lands in the right field. */
static void
test_valid_values(void **state)
{
	struct zm_config	*c;
	const struct zm_zone	*z;

	c = parse_ok("[tokend]\nsocket=/s\nkey_file=/k\ncard_ca=/ca.pem\n"
	    "store=sqlite:/db\naudit_log=/a\nhelpdesk_group=_hd.x-1\n"
	    "admin_group=adm\npcsc=off\nfido=false\n"
	    "fido_rp_id=example.org\n"
	    "fido_attestation_ca = /etc/zonemfa/fido-ca.pem\n"
	    "fido_timeout = 4s\n");
	assert_string_equal(c->socket, "/s");
	assert_string_equal(c->key_file, "/k");
	assert_string_equal(c->card_ca, "/ca.pem");
	assert_string_equal(c->store, "sqlite:/db");
	assert_string_equal(c->audit_log, "/a");
	assert_string_equal(c->helpdesk_group, "_hd.x-1");
	assert_string_equal(c->admin_group, "adm");
	assert_int_equal(c->pcsc, 0);
	assert_int_equal(c->fido, 0);
	assert_string_equal(c->fido_rp_id, "example.org");
	/* Issue 4: enrolment checks FIDO attestation against this bundle. */
	assert_string_equal(c->fido_attestation_ca, "/etc/zonemfa/fido-ca.pem");
	/* Issue 8: a login's wait for its key. */
	assert_int_equal(c->fido_timeout, 4);
	zm_config_free(c);

	c = parse_ok("[tokend]\npcsc = 1\nfido = on\n");
	assert_int_equal(c->pcsc, 1);
	assert_int_equal(c->fido, 1);
	zm_config_free(c);
	c = parse_ok("[tokend]\npcsc = true\nfido = 0\n");
	assert_int_equal(c->pcsc, 1);
	assert_int_equal(c->fido, 0);
	zm_config_free(c);

	c = parse_ok("[terminal]\nzone = lgwan\nname = PC-01.a_b\n"
	    "lock_command = /bin/lock\n");
	assert_string_equal(c->zone, "lgwan");
	assert_string_equal(c->terminal_name, "PC-01.a_b");
	assert_string_equal(c->lock_command, "/bin/lock");
	zm_config_free(c);

	/* A new zone; referenced before its section (checked at the end). */
	c = parse_ok("[terminal]\nzone = office-2\n"
	    "[zone office-2]\n"
	    "require = possession inherence knowledge\n"
	    "methods = tempcode totp fido2 card\n"
	    "password = none\n"
	    "max_failures = 1000\n"
	    "lockout = helpdesk\n"
	    "privileged_groups = wheel adm _x\n"
	    "privileged_max_failures = 1\n"
	    "privileged_session_limit = 0\n"
	    "card_removal = logout\n"
	    "dormant_after = 0\n"
	    "banner = /etc/banner\n"
	    "temp_code = allow\n");
	assert_string_equal(c->zone, "office-2");
	assert_int_equal(c->n_zones, 4);
	z = zm_config_zone(c, "office-2");
	assert_non_null(z);
	assert_int_equal(z->require, ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION |
	    ZM_CLASS_INHERENCE);
	assert_int_equal(z->methods, ZM_METHOD_CARD | ZM_METHOD_FIDO2 |
	    ZM_METHOD_TOTP | ZM_METHOD_TEMPCODE);
	assert_int_equal(z->password, ZM_PASSWORD_NONE);
	assert_int_equal(z->max_failures, 1000);
	assert_int_equal(z->lockout, ZM_LOCKOUT_HELPDESK);
	assert_int_equal(z->n_privileged_groups, 3);
	assert_string_equal(z->privileged_groups[2], "_x");
	assert_int_equal(z->privileged_max_failures, 1);
	assert_int_equal(z->privileged_session_limit, 0);
	assert_int_equal(z->card_removal, ZM_REMOVAL_LOGOUT);
	assert_int_equal(z->dormant_after, 0);
	assert_string_equal(z->banner, "/etc/banner");
	assert_int_equal(z->temp_code, 1);
	zm_config_free(c);

	c = parse_ok("[zone k]\nrequire = knowledge\nmethods =\n"
	    "lockout = 45s\nprivileged_groups =\n"
	    "privileged_session_limit = 90m\n"
	    "card_removal = none\ndormant_after = 30d\ntemp_code = deny\n"
	    "password = stack\nmax_failures = 3\n"
	    "privileged_max_failures = 3\n");
	z = zm_config_zone(c, "k");
	assert_non_null(z);
	assert_int_equal(z->methods, 0);
	assert_int_equal(z->lockout, 45);
	assert_int_equal(z->n_privileged_groups, 0);
	assert_int_equal(z->privileged_session_limit, 90 * 60);
	assert_int_equal(z->card_removal, ZM_REMOVAL_NONE);
	assert_int_equal(z->dormant_after, 30 * 86400);
	assert_int_equal(z->temp_code, 0);
	zm_config_free(c);
}

/* [zone X] for a built-in X starts from X's defaults; a new X from its own. */
static void
test_zone_defaults(void **state)
{
	struct zm_config	*c;
	const struct zm_zone	*z;

	c = parse_ok("[zone lgwan]\nmax_failures = 4\n[zone fresh]\n");
	z = zm_config_zone(c, "lgwan");
	assert_non_null(z);
	assert_int_equal(z->max_failures, 4);
	assert_int_equal(z->temp_code, 1);
	assert_int_equal(z->privileged_session_limit, 8 * 3600);
	assert_int_equal(z->n_privileged_groups, 2);
	z = zm_config_zone(c, "fresh");
	assert_non_null(z);
	assert_int_equal(z->require, ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION);
	assert_int_equal(z->methods,
	    ZM_METHOD_CARD | ZM_METHOD_FIDO2 | ZM_METHOD_TOTP);
	assert_int_equal(z->password, ZM_PASSWORD_STACK);
	assert_int_equal(z->max_failures, 5);
	assert_int_equal(z->lockout, 1800);
	assert_int_equal(z->n_privileged_groups, 0);
	assert_int_equal(z->privileged_max_failures, 3);
	assert_int_equal(z->privileged_session_limit, 0);
	assert_int_equal(z->card_removal, ZM_REMOVAL_LOCK);
	assert_int_equal(z->dormant_after, 90 * 86400);
	assert_null(z->banner);
	assert_int_equal(z->temp_code, 0);
	zm_config_free(c);
}

static void
test_err_unknown_section(void **state)
{
	parse_bad1("\n[foo]\nx = 1\n", NAME ":2: ", "unknown section [foo]");
	parse_bad1("[zone]\n", NAME ":1: ", "needs a zone name");
	parse_bad1("[zone Bad]\n", NAME ":1: ", "invalid zone name 'Bad'");
	parse_bad1("[zone a b]\n", NAME ":1: ", "invalid zone name 'a b'");
	parse_bad1("[tokend\n", NAME ":1: ", "malformed section header");
}

static void
test_err_outside(void **state)
{
	parse_bad1("# c\nsocket = /x\n[tokend]\n", NAME ":2: ",
	    "key 'socket' outside a section");
}

static void
test_err_unknown_key(void **state)
{
	parse_bad1("[tokend]\nsockt = /x\n", NAME ":2: ",
	    "unknown key 'sockt' in section [tokend]");
	parse_bad1("[terminal]\n\nzones = a\n", NAME ":3: ",
	    "unknown key 'zones' in section [terminal]");
	parse_bad1("[zone lgwan]\nmax_fails = 3\n", NAME ":2: ",
	    "unknown key 'max_fails' in section [zone lgwan]");
	/* A key valid elsewhere is still unknown here. */
	parse_bad1("[zone lgwan]\nsocket = /x\n", NAME ":2: ",
	    "unknown key 'socket' in section [zone lgwan]");
	parse_bad1("[terminal]\nfido_attestation_ca = /x\n", NAME ":2: ",
	    "unknown key 'fido_attestation_ca' in section [terminal]");
}

/* Issue 8: fido_timeout stays under the module's 30 s wait for a reply. */
static void
test_err_fido_timeout(void **state)
{
	parse_bad1("[tokend]\nfido_timeout = 29s\n", NAME ":2: ",
	    "fido_timeout: expected a duration from 1s to 28s");
	parse_bad1("[tokend]\nfido_timeout = 0\n", NAME ":2: ",
	    "fido_timeout: expected a duration from 1s to 28s");
	parse_bad1("[tokend]\n\nfido_timeout = soon\n", NAME ":3: ",
	    "got 'soon'");
}

static void
test_err_duplicate(void **state)
{
	parse_bad1("[tokend]\npcsc = yes\n\npcsc = no\n", NAME ":4: ",
	    "duplicate key 'pcsc' in section [tokend] (first at line 2)");
	parse_bad1("[tokend]\nfido_attestation_ca = /a.pem\n"
	    "fido_attestation_ca = /b.pem\n", NAME ":3: ",
	    "duplicate key 'fido_attestation_ca' in section [tokend]");
	parse_bad1("[zone x]\nlockout = 1m\nlockout = 2m\n", NAME ":3: ",
	    "duplicate key 'lockout' in section [zone x]");
	parse_bad1("[tokend]\n[terminal]\n[tokend]\n", NAME ":3: ",
	    "duplicate section [tokend] (first at line 1)");
	parse_bad1("[terminal]\n[terminal]\n", NAME ":2: ",
	    "duplicate section [terminal]");
	parse_bad1("[zone lgwan]\n[zone x]\n[zone lgwan]\n", NAME ":3: ",
	    "duplicate section [zone lgwan] (first at line 1)");
}

static void
test_err_malformed(void **state)
{
	parse_bad1("[tokend]\npcsc yes\n", NAME ":2: ", "malformed line");
	parse_bad1("[tokend]\n = yes\n", NAME ":2: ", "no key before '='");
	parse_bad1("[tokend]\npcsc = y\001s\n", NAME ":2: ",
	    "control character");
}

static void
test_err_line_too_long(void **state)
{
	char	*t;
	size_t	 n;

	/* 1024 characters is allowed, 1025 is not. */
	t = malloc(2048);
	assert_non_null(t);
	n = (size_t)snprintf(t, 2048, "[tokend]\nfido_rp_id = ");
	memset(t + n, 'a', 1024 - (n - 9));
	t[9 + 1024] = '\0';
	/* 1024 chars but rp id > 255: only the value is wrong. */
	parse_bad1(t, NAME ":2: ", "fido_rp_id: expected a relying-party id");
	memset(t + 9, '#', 1024);
	t[9 + 1024] = '\0';
	zm_config_free(parse_ok(t));
	t[9 + 1024] = '#';
	t[9 + 1025] = '\0';
	parse_bad1(t, NAME ":2: ", "line too long");
	free(t);
}

struct badval {
	const char	*section;
	const char	*key;
	const char	*value;
	const char	*part;
};

static const struct badval badvals[] = {
	{ "tokend", "socket", "", "socket: expected an absolute path" },
	{ "tokend", "socket", "run/s", "socket: relative path 'run/s'" },
	{ "tokend", "key_file", "registry.key", "key_file: relative path" },
	{ "tokend", "card_ca", "./ca.pem", "card_ca: relative path" },
	{ "tokend", "fido_attestation_ca", "fido-ca.pem",
	  "fido_attestation_ca: relative path" },
	{ "tokend", "fido_attestation_ca", "",
	  "fido_attestation_ca: expected an absolute path" },
	{ "tokend", "audit_log", "log", "audit_log: relative path" },
	{ "tokend", "store", "/var/db", "store: expected sqlite:/" },
	{ "tokend", "store", "ldap://x", "unknown store scheme 'ldap'" },
	{ "tokend", "store", "sqlite:db", "store: relative path 'db'" },
	{ "tokend", "store", "sqlite:", "store: expected sqlite:/" },
	{ "tokend", "helpdesk_group", "Helpdesk",
	  "helpdesk_group: expected a group name" },
	{ "tokend", "helpdesk_group", "",
	  "helpdesk_group: expected a group name" },
	{ "tokend", "admin_group", "1adm",
	  "admin_group: expected a group name" },
	{ "tokend", "admin_group", "a b",
	  "admin_group: expected a group name" },
	{ "tokend", "admin_group",
	  "a123456789012345678901234567890123456789012345678901234567890123",
	  "admin_group: expected a group name" },
	{ "tokend", "pcsc", "maybe", "pcsc: expected yes or no" },
	{ "tokend", "fido", "2", "fido: expected yes or no" },
	{ "tokend", "fido", "", "fido: expected yes or no" },
	{ "tokend", "fido_rp_id", "",
	  "fido_rp_id: expected a relying-party id" },
	{ "tokend", "fido_rp_id", "a b",
	  "fido_rp_id: expected a relying-party id" },
	{ "terminal", "zone", "Lgwan", "zone: expected a zone name" },
	{ "terminal", "zone", "", "zone: expected a zone name" },
	{ "terminal", "name", "pc 1", "name: expected a terminal name" },
	{ "terminal", "name", "", "name: expected a terminal name" },
	{ "terminal", "name",
	  "a123456789012345678901234567890123456789012345678901234567890123",
	  "name: expected a terminal name" },
	{ "terminal", "lock_command", "lock %u",
	  "lock_command: the program must be an absolute path" },
	{ "terminal", "lock_command", "",
	  "lock_command: the program must be an absolute path" },
	{ "terminal", "lock_command", "/bin/lock %d", "unknown escape '%d'" },
	{ "terminal", "lock_command", "/bin/lock %%", "unknown escape '%%'" },
	{ "terminal", "lock_command", "/bin/lock %", "'%' at the end" },
	{ "terminal", "office_hours", "", "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "8:30-17:30",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:30",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:30-",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:30 - 17:30",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:60-17:30",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:30-24:01",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:30-25:00",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "24:00-24:00",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "-8:30-17:30",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "08:3a-17:30",
	  "office_hours: expected HH:MM-HH:MM" },
	{ "terminal", "office_hours", "17:30-08:30",
	  "office_hours: the end 08:30 is not after the start 17:30" },
	{ "terminal", "office_hours", "09:00-09:00",
	  "office_hours: the end 09:00 is not after the start 09:00" },
	{ "terminal", "office_days", "", "office_days: expected at least one" },
	{ "terminal", "office_days", "mon monday",
	  "office_days: unknown day 'monday'" },
	{ "terminal", "office_days", "Mon", "office_days: unknown day 'Mon'" },
	{ "terminal", "office_days", "fri fri", "day 'fri' listed twice" },
	{ "zone z", "require", "", "require: expected at least one of" },
	{ "zone z", "require", "knowledge magic",
	  "require: unknown factor class 'magic'" },
	{ "zone z", "require", "knowledge knowledge",
	  "factor class 'knowledge' listed twice" },
	{ "zone z", "methods", "card sms", "methods: unknown method 'sms'" },
	{ "zone z", "methods", "totp totp", "method 'totp' listed twice" },
	{ "zone z", "password", "maybe", "password: expected stack or none" },
	{ "zone z", "max_failures", "0",
	  "max_failures: expected a number from 1 to 1000" },
	{ "zone z", "max_failures", "1001", "max_failures: expected a number" },
	{ "zone z", "max_failures", "-1", "max_failures: expected a number" },
	{ "zone z", "max_failures", "+5", "max_failures: expected a number" },
	{ "zone z", "max_failures", "5x", "max_failures: expected a number" },
	{ "zone z", "max_failures", "", "max_failures: expected a number" },
	{ "zone z", "privileged_max_failures", "0",
	  "privileged_max_failures: expected a number" },
	{ "zone z", "lockout", "0", "lockout: expected a duration" },
	{ "zone z", "lockout", "30", "lockout: expected a duration" },
	{ "zone z", "lockout", "3651d", "lockout: expected a duration" },
	{ "zone z", "lockout", "helpdesks", "lockout: expected a duration" },
	{ "zone z", "privileged_groups", "wheel Admins",
	  "privileged_groups: expected group names" },
	{ "zone z", "privileged_groups", "wheel wheel",
	  "group 'wheel' listed twice" },
	{ "zone z", "privileged_groups",
	  "g1 g2 g3 g4 g5 g6 g7 g8 g9 g10 g11 g12 g13 g14 g15 g16 g17",
	  "privileged_groups: more than 16 groups" },
	{ "zone z", "privileged_session_limit", "-1h",
	  "privileged_session_limit: expected a duration" },
	{ "zone z", "privileged_session_limit", "1w",
	  "privileged_session_limit: expected a duration" },
	{ "zone z", "dormant_after", "ninety",
	  "dormant_after: expected a duration" },
	{ "zone z", "card_removal", "eject",
	  "card_removal: expected lock, logout or none" },
	{ "zone z", "banner", "banner.txt", "banner: relative path" },
	{ "zone z", "banner", "", "banner: expected an absolute path" },
	{ "zone z", "temp_code", "yes", "temp_code: expected allow or deny" },
};

static void
test_err_bad_values(void **state)
{
	char	text[512];
	size_t	i;
	int	n;

	for (i = 0; i < sizeof(badvals) / sizeof(badvals[0]); i++) {
		n = snprintf(text, sizeof(text), "# case %zu\n[%s]\n%s = %s\n",
		    i, badvals[i].section, badvals[i].key, badvals[i].value);
		assert_true(n > 0 && (size_t)n < sizeof(text));
		parse_bad1(text, NAME ":3: ", badvals[i].part);
	}
}

static void
test_err_unknown_zone_ref(void **state)
{
	parse_bad1("[terminal]\nname = t1\nzone = nosuch\n[zone other]\n",
	    NAME ":3: ", "no such zone 'nosuch'");
	/* Built-in zones count. */
	zm_config_free(parse_ok("[terminal]\nzone = internet\n"));
}

static void
test_err_unsatisfiable(void **state)
{
	parse_bad1("[zone a]\nrequire = knowledge\nmethods = totp\n"
	    "password = none\n", NAME ":1: ",
	    "[zone a] requires knowledge, but nothing can prove it");
	/* A card or FIDO PIN is knowledge. */
	zm_config_free(parse_ok("[zone a]\nrequire = knowledge\n"
	    "methods = card\npassword = none\n"));
	zm_config_free(parse_ok("[zone a]\nrequire = knowledge\n"
	    "methods = fido2\npassword = none\n"));
	parse_bad1("\n[zone b]\nrequire = possession\nmethods =\n",
	    NAME ":2: ", "[zone b] requires possession, but no method");
	/* tempcode proves possession only where temp codes are allowed. */
	parse_bad1("[zone b]\nrequire = possession\nmethods = tempcode\n",
	    NAME ":1: ", "requires possession");
	zm_config_free(parse_ok("[zone b]\nrequire = possession\n"
	    "methods = tempcode\ntemp_code = allow\n"));
	parse_bad1("[zone lgwan]\nrequire = knowledge inherence\n"
	    "methods = card totp\n",
	    NAME ":1: ", "[zone lgwan] requires inherence, but no method");
	zm_config_free(parse_ok("[zone lgwan]\n"
	    "require = knowledge inherence\n"));
	/* Built-in internet: methods empty, so possession is impossible. */
	parse_bad1("[zone internet]\nrequire = possession\n", NAME ":1: ",
	    "requires possession");
}

static void
test_err_privileged_limit(void **state)
{
	/* R9: privileged accounts must lock sooner, never later. */
	parse_bad1("[zone lgwan]\nmax_failures = 2\n", NAME ":2: ",
	    "privileged_max_failures (3) is greater than max_failures (2)");
	parse_bad1("[zone x]\nprivileged_max_failures = 9\nmax_failures = 8\n"
	    "card_removal = none\n", NAME ":3: ",
	    "privileged_max_failures (9) is greater than max_failures (8)");
	zm_config_free(parse_ok("[zone x]\nmax_failures = 3\n"));
}

static void
test_err_too_many_zones(void **state)
{
	char	text[1024];
	size_t	off = 0;
	int	i, n;

	/* 3 built in + 13 = 16 allowed; the 14th new one is not. */
	for (i = 0; i < 14; i++) {
		n = snprintf(text + off, sizeof(text) - off, "[zone z%d]\n", i);
		assert_true(n > 0 && (size_t)n < sizeof(text) - off);
		off += (size_t)n;
	}
	parse_bad1(text, NAME ":14: ", "too many zones (at most 16)");
	text[off - 11] = '\0';	/* drop "[zone z13]\n" */
	zm_config_free(parse_ok(text));
}

/* Every error of a file is reported, each at its own line, in order. */
static void
test_err_all_collected(void **state)
{
	static const char text[] =
	    "socket = /early\n"		/* 1 outside */
	    "[tokend]\n"
	    "socket = relative\n"	/* 3 relative */
	    "pcsc = perhaps\n"		/* 4 bad bool */
	    "bogus = 1\n"		/* 5 unknown key */
	    "pcsc = yes\n"		/* 6 duplicate */
	    "[nonsense]\n"		/* 7 unknown section */
	    "whatever = 1\n"		/* (inside it: skipped) */
	    "[terminal]\n"
	    "zone = nowhere\n"		/* 10 no such zone (at end) */
	    "no equals sign\n"		/* 11 malformed */
	    "[zone q]\n"		/* 12 unsatisfiable (end) */
	    "require = inherence\n"
	    "methods = totp\n"
	    "max_failures = 1001\n"	/* 15 range */
	    "[tokend]\n";		/* 16 duplicate section */
	static const struct want w[] = {
		{ NAME ":1: ", "outside a section" },
		{ NAME ":3: ", "relative path" },
		{ NAME ":4: ", "pcsc: expected yes or no" },
		{ NAME ":5: ", "unknown key 'bogus'" },
		{ NAME ":6: ", "duplicate key 'pcsc'" },
		{ NAME ":7: ", "unknown section [nonsense]" },
		{ NAME ":11: ", "malformed line" },
		{ NAME ":15: ", "max_failures: expected a number" },
		{ NAME ":16: ", "duplicate section [tokend]" },
		{ NAME ":10: ", "no such zone 'nowhere'" },
		{ NAME ":12: ", "requires inherence" },
	};

	parse_bad(text, w, sizeof(w) / sizeof(w[0]));
}

/* R15: which local times the report counts as office hours. */
/* Zone access (allow_users, allow_groups) and access time-outs (R13). */
static void
test_zone_access_keys(void **state)
{
	struct zm_config	*c;
	const struct zm_zone	*z;

	(void)state;
	/* Defaults: everyone, no limit for ordinary users, no idle limit. */
	c = parse_ok("");
	z = zm_config_zone(c, "mynumber");
	assert_int_equal(z->n_allow_groups, 0);
	assert_int_equal(z->n_allow_users, 0);
	assert_int_equal(z->session_limit, 0);
	assert_int_equal(z->idle_timeout, 0);
	zm_config_free(c);

	c = parse_ok("[zone mynumber]\n"
	    "allow_groups = juminkiroku zeimu-ka\n"
	    "allow_users  = yamada.taro sato@example.lg.jp\n"
	    "session_limit = 9h\n"
	    "idle_timeout = 15m\n"
	    "[zone lgwan]\n"
	    "allow_groups =\n");
	z = zm_config_zone(c, "mynumber");
	assert_int_equal(z->n_allow_groups, 2);
	assert_string_equal(z->allow_groups[0], "juminkiroku");
	assert_string_equal(z->allow_groups[1], "zeimu-ka");
	assert_int_equal(z->n_allow_users, 2);
	assert_string_equal(z->allow_users[0], "yamada.taro");
	assert_string_equal(z->allow_users[1], "sato@example.lg.jp");
	assert_int_equal(z->session_limit, 9 * 3600);
	assert_int_equal(z->idle_timeout, 15 * 60);
	/* privileged_groups are untouched by allow_groups. */
	assert_int_equal(z->n_privileged_groups, 2);
	z = zm_config_zone(c, "lgwan");
	assert_int_equal(z->n_allow_groups, 0);
	assert_int_equal(z->session_limit, 0);
	zm_config_free(c);
}

static void
test_err_zone_access_keys(void **state)
{
	static const struct want w[] = {
		{ NAME ":2: ", "allow_groups: expected group names" },
		{ NAME ":3: ", "allow_users: user 'bob' listed twice" },
		{ NAME ":4: ", "session_limit: expected a duration" },
		{ NAME ":5: ", "idle_timeout: expected a duration" },
		{ NAME ":6: ", "duplicate key 'allow_groups'" },
	};
	char	 text[4096];
	size_t	 off;
	int	 i;

	(void)state;
	parse_bad("[zone mynumber]\n"
	    "allow_groups = soumu Zeimu\n"
	    "allow_users = alice bob bob\n"
	    "session_limit = 8 hours\n"
	    "idle_timeout = -5m\n"
	    "allow_groups = soumu\n", w, 5);
	parse_bad1("[zone lgwan]\nallow_users = -rf\n", NAME ":2: ",
	    "allow_users: expected user names");
	parse_bad1("[zone lgwan]\nallow_users = a/b\n", NAME ":2: ",
	    "got 'a/b'");
	/* At most ZM_MAX_GROUPS groups, ZM_MAX_ALLOW_USERS users. */
	off = (size_t)snprintf(text, sizeof(text),
	    "[zone lgwan]\nallow_groups =");
	for (i = 0; i <= ZM_MAX_GROUPS; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    " g%d", i);
	snprintf(text + off, sizeof(text) - off, "\n");
	parse_bad1(text, NAME ":2: ", "allow_groups: more than 16 groups");
	off = (size_t)snprintf(text, sizeof(text),
	    "[zone lgwan]\nallow_users =");
	for (i = 0; i <= ZM_MAX_ALLOW_USERS; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    " u%d", i);
	snprintf(text + off, sizeof(text) - off, "\n");
	parse_bad1(text, NAME ":2: ", "allow_users: more than 32 users");
}

static void
test_office_hours(void **state)
{
	struct zm_config	*c;
	struct tm		 tm;
	char			 buf[64];

	c = parse_ok("[terminal]\noffice_hours = 07:00-24:00\n"
	    "office_days = sun sat wed\n");
	assert_int_equal(c->office_start, 7 * 60);
	assert_int_equal(c->office_end, 24 * 60);
	assert_int_equal(c->office_days, (1u << 0) | (1u << 3) | (1u << 6));
	zm_office_hours_format(c, buf, sizeof(buf));
	assert_string_equal(buf, "07:00-24:00 wed sat sun");
	zm_config_free(c);

	/* The defaults; a window is half-open: 17:30 itself is outside. */
	c = parse_ok("");
	zm_office_hours_format(c, buf, sizeof(buf));
	assert_string_equal(buf, "08:30-17:30 mon tue wed thu fri");
	memset(&tm, 0, sizeof(tm));
	tm.tm_wday = 1;
	tm.tm_hour = 8;
	tm.tm_min = 29;
	assert_int_equal(zm_office_hours_in(c, &tm), 0);
	tm.tm_min = 30;
	assert_int_equal(zm_office_hours_in(c, &tm), 1);
	tm.tm_hour = 17;
	tm.tm_min = 29;
	assert_int_equal(zm_office_hours_in(c, &tm), 1);
	tm.tm_min = 30;
	assert_int_equal(zm_office_hours_in(c, &tm), 0);
	tm.tm_hour = 12;
	tm.tm_wday = 5;		/* Friday noon: in */
	assert_int_equal(zm_office_hours_in(c, &tm), 1);
	tm.tm_wday = 6;		/* Saturday noon: out */
	assert_int_equal(zm_office_hours_in(c, &tm), 0);
	tm.tm_wday = 0;		/* Sunday noon: out */
	assert_int_equal(zm_office_hours_in(c, &tm), 0);
	tm.tm_wday = 7;		/* nonsense: never "in" */
	assert_int_equal(zm_office_hours_in(c, &tm), 0);
	/* A short buffer is cut, never overrun. */
	zm_office_hours_format(c, buf, 8);
	assert_string_equal(buf, "");
	zm_office_hours_format(c, buf, 16);
	assert_string_equal(buf, "08:30-17:30 mon");
	zm_config_free(c);

	/* Each key set alone keeps the other's default. */
	c = parse_ok("[terminal]\noffice_days = sat\n");
	assert_int_equal(c->office_start, 8 * 60 + 30);
	assert_int_equal(c->office_days, 1u << 6);
	zm_config_free(c);
	c = parse_ok("[terminal]\noffice_hours = 00:00-00:01\n");
	assert_int_equal(c->office_start, 0);
	assert_int_equal(c->office_end, 1);
	assert_int_equal(c->office_days, 0x3e);
	zm_config_free(c);
	/* Duplicate key reported at its own line. */
	parse_bad1("[terminal]\noffice_hours = 08:00-17:00\n"
	    "office_hours = 09:00-18:00\n", NAME ":3: ",
	    "duplicate key 'office_hours'");
}

static void
test_parse_args(void **state)
{
	struct zm_config	*c = NULL;
	struct zm_errlist	 e = { NULL, 0 };

	assert_int_equal(zm_config_parse(NAME, "x", 1, NULL, &e),
	    ZM_ERR_INVALID);
	assert_int_equal(zm_config_parse(NAME, NULL, 3, &c, &e),
	    ZM_ERR_INVALID);
	/* errs may be NULL: the result code still says what happened. */
	assert_int_equal(zm_config_parse(NAME, "junk", 4, &c, NULL),
	    ZM_ERR_CONFIG);
	assert_null(c);
	/* An embedded NUL is a control character, not an end of text. */
	assert_int_equal(zm_config_parse(NAME, "[tokend]\0x", 10, &c, &e),
	    ZM_ERR_CONFIG);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0],
	    NAME ":1: control character 0x00 in line");
	zm_errlist_free(&e);
	zm_errlist_free(&e);	/* idempotent */
	zm_errlist_free(NULL);
}

/* R7: [shared NAME] lists who may use a shared account. */
static void
test_shared(void **state)
{
	struct zm_config	*c;
	const struct zm_shared	*sh;

	c = parse_ok("[shared madoguchi01]\nmembers = tanaka  suzuki\tsato\n"
	    "[shared madoguchi02]\nmembers = tanaka\n");
	assert_int_equal(c->n_shared, 2);
	sh = zm_config_shared(c, "madoguchi01");
	assert_non_null(sh);
	assert_int_equal(sh->n_members, 3);
	assert_true(zm_shared_member(sh, "tanaka"));
	assert_true(zm_shared_member(sh, "sato"));
	assert_false(zm_shared_member(sh, "tanak"));
	assert_false(zm_shared_member(sh, "madoguchi01"));
	assert_null(zm_config_shared(c, "tanaka"));
	assert_non_null(zm_config_shared(c, "madoguchi02"));
	zm_config_free(c);

	parse_bad1("[shared]\n", NAME ":1: ", "needs an account name");
	parse_bad1("[shared -x]\nmembers = a\n", NAME ":1: ",
	    "invalid account name '-x'");
	parse_bad1("[shared m1]\nmembers = a\n[shared m1]\nmembers = b\n",
	    NAME ":3: ", "duplicate section [shared m1] (first at line 1)");
	parse_bad1("[shared m1]\n\n", NAME ":1: ", "[shared m1] has no members");
	parse_bad1("[shared m1]\nmembers =\n", NAME ":2: ",
	    "[shared m1] has no members");
	parse_bad1("[shared m1]\nmember = a\n", NAME ":2: ",
	    "unknown key 'member' in section [shared m1]");
	parse_bad1("[shared m1]\nmembers = a\nmembers = b\n", NAME ":3: ",
	    "duplicate key 'members' in section [shared m1] (first at line 2)");
	parse_bad1("[shared m1]\nmembers = a -b\n", NAME ":2: ",
	    "invalid user name '-b'");
	parse_bad1("[shared m1]\nmembers = a m1\n", NAME ":2: ",
	    "cannot be its own member");
	parse_bad1("[shared m1]\nmembers = a b a\n", NAME ":2: ",
	    "'a' is listed twice");
	parse_bad1("[shared m1]\nmembers = a m2\n[shared m2]\nmembers = b\n",
	    NAME ":2: ", "'m2' is itself a shared account");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_valid_values),
		cmocka_unit_test(test_zone_defaults),
		cmocka_unit_test(test_err_unknown_section),
		cmocka_unit_test(test_err_outside),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_fido_timeout),
		cmocka_unit_test(test_err_duplicate),
		cmocka_unit_test(test_err_malformed),
		cmocka_unit_test(test_err_line_too_long),
		cmocka_unit_test(test_err_bad_values),
		cmocka_unit_test(test_err_unknown_zone_ref),
		cmocka_unit_test(test_err_unsatisfiable),
		cmocka_unit_test(test_err_privileged_limit),
		cmocka_unit_test(test_err_too_many_zones),
		cmocka_unit_test(test_err_all_collected),
		cmocka_unit_test(test_office_hours),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_zone_access_keys),
		cmocka_unit_test(test_err_zone_access_keys),
		cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
