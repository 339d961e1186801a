/*
 * conf.h - the one parser of zonemfa.conf(5), shared by the PAM module,
 * the daemon and the tools.
 *
 * Precedence: built-in defaults < file < PAM module arguments (applied by
 * the caller after loading, see zm_config_apply_args()).
 * Every error is reported as "FILE:LINE: message" and all errors of a file
 * are collected, not only the first.
 */
#ifndef ZM_CONF_H
#define ZM_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ZM_DEFAULT_CONF		SYSCONFDIR "/zonemfa/zonemfa.conf"
#define ZM_NAME_MAX		64	/* user, group, zone, terminal names */
#define ZM_MAX_ZONES		16
#define ZM_MAX_GROUPS		16
#define ZM_MAX_ALLOW_USERS	32	/* allow_users of one zone */
#define ZM_MAX_SHARED		16	/* [shared NAME] sections */
#define ZM_MAX_MEMBERS		32	/* members of one shared account */
/* fido_timeout: a login's wait for its security key, in seconds. */
#define ZM_FIDO_TIMEOUT_DEFAULT	25
#define ZM_FIDO_TIMEOUT_MAX	28	/* the PAM module waits 30 s for a reply */

/* Factor classes (bit mask). */
#define ZM_CLASS_KNOWLEDGE	0x01u
#define ZM_CLASS_POSSESSION	0x02u
#define ZM_CLASS_INHERENCE	0x04u

/* Methods (bit mask). */
#define ZM_METHOD_CARD		0x01u
#define ZM_METHOD_FIDO2		0x02u
#define ZM_METHOD_TOTP		0x04u
#define ZM_METHOD_TEMPCODE	0x08u

enum zm_password_mode { ZM_PASSWORD_STACK = 0, ZM_PASSWORD_NONE = 1 };
enum zm_card_removal { ZM_REMOVAL_LOCK = 0, ZM_REMOVAL_LOGOUT = 1, ZM_REMOVAL_NONE = 2 };

#define ZM_LOCKOUT_HELPDESK	(-1)	/* zm_zone.lockout: until unlocked */

struct zm_zone {
	char		name[ZM_NAME_MAX];
	unsigned	require;		/* ZM_CLASS_* */
	unsigned	methods;		/* ZM_METHOD_* */
	int		password;		/* enum zm_password_mode */
	unsigned	max_failures;		/* >= 1 */
	int64_t		lockout;		/* seconds, or ZM_LOCKOUT_HELPDESK */
	char		privileged_groups[ZM_MAX_GROUPS][ZM_NAME_MAX];
	size_t		n_privileged_groups;
	unsigned	privileged_max_failures;
	int64_t		privileged_session_limit; /* seconds; 0 = no limit */
	int		card_removal;		/* enum zm_card_removal */
	int64_t		dormant_after;		/* seconds; 0 = never dormant */
	char		*banner;		/* absolute path or NULL */
	int		temp_code;		/* 1 = allow, 0 = deny */
	/*
	 * Zone access (policy 6.2(1)): who may log in at all.  Both lists
	 * empty: everyone; else a user named in allow_users or a member of
	 * one of allow_groups (see zm_policy_zone_access()).
	 */
	char		allow_groups[ZM_MAX_GROUPS][ZM_NAME_MAX];
	size_t		n_allow_groups;
	char		allow_users[ZM_MAX_ALLOW_USERS][ZM_NAME_MAX];
	size_t		n_allow_users;
	int64_t		session_limit;		/* secs, all users; 0: none */
	int64_t		idle_timeout;		/* logind idle secs; 0: none */
};

/*
 * [shared NAME]: a shared account (a counter terminal's madoguchi01) that
 * only its listed members may use, each with their own possession factor.
 */
struct zm_shared {
	char		name[ZM_NAME_MAX];
	char		members[ZM_MAX_MEMBERS][ZM_NAME_MAX];
	size_t		n_members;
};

struct zm_config {
	char		*path;			/* file that was loaded (or NULL) */
	/* [tokend] */
	char		*socket;
	char		*key_file;
	char		*card_ca;		/* NULL when unset */
	char		*store;			/* URI, e.g. "sqlite:/var/lib/..." */
	char		*audit_log;
	char		helpdesk_group[ZM_NAME_MAX];
	char		admin_group[ZM_NAME_MAX];
	int		pcsc;			/* bool */
	int		fido;			/* bool */
	char		*fido_rp_id;
	char		*fido_attestation_ca;	/* PEM bundle; NULL when unset */
	int64_t		fido_timeout;		/* seconds a login waits for a key */
	/* [terminal] */
	char		zone[ZM_NAME_MAX];	/* this terminal's zone */
	char		terminal_name[ZM_NAME_MAX]; /* default: host name */
	char		*lock_command;		/* NULL when unset */
	int		office_start;		/* minutes after local midnight */
	int		office_end;		/* minutes, > office_start */
	unsigned	office_days;		/* bit N = struct tm wday N */
	/* [zone NAME] */
	struct zm_zone	zones[ZM_MAX_ZONES];
	size_t		n_zones;
	/* [shared NAME] */
	struct zm_shared shared[ZM_MAX_SHARED];
	size_t		n_shared;
	/* PAM arguments */
	int		debug;
	int		auth_mode;		/* ZM_AUTH_MODE_* (preauth, authfail) */
};

/* The auth phase's role in the stack (pam_faillock's pattern, R13). */
#define ZM_AUTH_MODE_FACTORS	0	/* ask for what the zone still needs */
#define ZM_AUTH_MODE_PREAUTH	1	/* before the password: refuse a locked account */
#define ZM_AUTH_MODE_AUTHFAIL	2	/* after a wrong password: count it */

/* Collected "FILE:LINE: message" strings. */
struct zm_errlist {
	char	**msg;
	size_t	 n;
};

void zm_errlist_free(struct zm_errlist *e);
/*
 * Append a formatted message to e (which may be NULL: nothing is kept).
 * ZM_ERR_NOMEM when it cannot be stored.
 */
int zm_errlist_addf(struct zm_errlist *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A config with only the built-in defaults (zones mynumber, lgwan, internet). */
int zm_config_defaults(struct zm_config **out);
/*
 * Load PATH over the built-in defaults.  The file is opened
 * O_NOFOLLOW|O_CLOEXEC and refused when writable by group or others or not
 * owned by root or the caller.  On any error returns ZM_ERR_CONFIG (or
 * ZM_ERR_IO for an unreadable file) with every problem in errs and *out NULL.
 */
int zm_config_load(const char *path, struct zm_config **out, struct zm_errlist *errs);
/* Parse from memory; name is used in messages.  No file-mode checks. */
int zm_config_parse(const char *name, const char *text, size_t len,
    struct zm_config **out, struct zm_errlist *errs);
/*
 * Apply PAM module arguments "conf=" (ignored here: the caller loads it),
 * "zone=NAME" and "debug".  Unknown arguments, and any of these given
 * more than once (zone=lgwan zone=internet: which one was meant?), are
 * errors in errs.
 */
int zm_config_apply_args(struct zm_config *c, int argc, const char **argv,
    struct zm_errlist *errs);
void zm_config_free(struct zm_config *c);

/* The zone named NAME, or NULL. */
const struct zm_zone *zm_config_zone(const struct zm_config *c, const char *name);
/* The shared account user, or NULL when user is an ordinary account. */
const struct zm_shared *zm_config_shared(const struct zm_config *c,
    const char *user);
/* 1 when name is a listed member of shared account s. */
int zm_shared_member(const struct zm_shared *s, const char *name);

/*
 * 1 when the local time tm falls inside the configured office hours
 * (office_days, office_start <= time < office_end), else 0.  Used by the
 * audit report to flag logins outside office hours (R15).
 */
int zm_office_hours_in(const struct zm_config *c, const struct tm *tm);
/* "08:30-17:30 mon tue wed thu fri" for report headers. */
void zm_office_hours_format(const struct zm_config *c, char *out,
    size_t outlen);

/* "30m" -> 1800.  Accepts Ns, Nm, Nh, Nd (and a bare "0"). */
int zm_duration_parse(const char *s, int64_t *secs);
/* Formats secs as the largest exact unit, e.g. "90d", "30m". */
void zm_duration_format(int64_t secs, char *out, size_t outlen);

/* Names for messages and the audit log, e.g. "knowledge possession". */
void zm_classes_format(unsigned classes, char *out, size_t outlen);
void zm_methods_format(unsigned methods, char *out, size_t outlen);
const char *zm_method_name(unsigned method);	/* single bit */

#endif
