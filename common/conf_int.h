/*
 * conf_int.h - internals shared by conf.c (defaults, loading, module
 * arguments) and conf_parse.c (the INI parser).  Not for other callers.
 */
#ifndef ZM_CONF_INT_H
#define ZM_CONF_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "conf.h"

/* More than this many errors in one file: stop and say so. */
#define ZM_CONF_MAX_ERRORS	1000
#define ZM_CONF_MAX_LINE	1024

/*
 * Reset z to the defaults for a zone called name: the built-in values for
 * mynumber, lgwan and internet, the new-zone values otherwise.  z->banner
 * must be NULL or owned (it is freed).
 */
void zm_zone_init(struct zm_zone *z, const char *name);

/* 1 when name is a built-in zone. */
int zm_zone_builtin(const char *name);

/* ---- between conf_parse.c (syntax) and conf_keys.c (values) ---- */

enum section { SEC_NONE, SEC_TOKEND, SEC_TERMINAL, SEC_ZONE, SEC_SHARED,
    SEC_SKIP };

enum tokend_key {
	TK_SOCKET, TK_KEY_FILE, TK_CARD_CA, TK_STORE, TK_AUDIT_LOG,
	TK_HELPDESK_GROUP, TK_ADMIN_GROUP, TK_PCSC, TK_FIDO, TK_FIDO_RP_ID,
	TK_FIDO_ATTESTATION_CA, TK_FIDO_TIMEOUT,
	TK__N
};
enum terminal_key {
	TM_ZONE, TM_NAME, TM_LOCK_COMMAND, TM_OFFICE_HOURS, TM_OFFICE_DAYS,
	TM__N
};
/* Defaults: 08:30-17:30, Monday to Friday. */
#define ZM_OFFICE_START_DEFAULT	(8 * 60 + 30)
#define ZM_OFFICE_END_DEFAULT	(17 * 60 + 30)
#define ZM_OFFICE_DAYS_DEFAULT	0x3eu

enum zone_key {
	ZK_REQUIRE, ZK_METHODS, ZK_PASSWORD, ZK_MAX_FAILURES, ZK_LOCKOUT,
	ZK_PRIV_GROUPS, ZK_PRIV_MAX_FAILURES, ZK_PRIV_SESSION_LIMIT,
	ZK_CARD_REMOVAL, ZK_DORMANT_AFTER, ZK_BANNER, ZK_TEMP_CODE,
	ZK_ALLOW_GROUPS, ZK_ALLOW_USERS, ZK_SESSION_LIMIT, ZK_IDLE_TIMEOUT,
	ZK__N
};

struct zm_cfp {
	const char		*name;
	struct zm_config	*c;
	struct zm_errlist	*errs;
	size_t			 nerr;
	int			 fatal;	/* e.g. ZM_ERR_NOMEM: stop */
	unsigned long		 line;
	enum section		 sec;
	size_t			 zi;		/* current zone */
	/* Line where each section / key was first seen (0: not seen). */
	unsigned long		 tokend_line, terminal_line;
	unsigned long		 zone_line[ZM_MAX_ZONES];
	unsigned long		 tokend_seen[TK__N];
	unsigned long		 terminal_seen[TM__N];
	unsigned long		 zone_seen[ZM_MAX_ZONES][ZK__N];
	size_t			 si;		/* current shared account */
	unsigned long		 shared_line[ZM_MAX_SHARED];
	unsigned long		 shared_members_seen[ZM_MAX_SHARED];
};

/* Report "NAME:LINE: message" for the current line. */
void zm_conf_err(struct zm_cfp *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for an earlier line (checks made after the whole file). */
void zm_conf_err_at(struct zm_cfp *p, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Index of the len-byte word s in names, or -1. */
int zm_conf_lookup(const char *const *names, size_t n, const char *s,
    size_t len);
/* [a-z0-9][a-z0-9_-]*, at most ZM_NAME_MAX - 1 characters. */
int zm_conf_valid_zone_name(const char *s);
/* Validate val for key number k of the section and store it, or report. */
void zm_conf_set_tokend(struct zm_cfp *p, int k, const char *key,
    const char *val);
void zm_conf_set_terminal(struct zm_cfp *p, int k, const char *key,
    const char *val);
void zm_conf_set_zone(struct zm_cfp *p, int k, const char *key,
    const char *val);

/* conf_shared.c: [shared NAME] sections. */
void zm_conf_shared_section(struct zm_cfp *p, const char *name);
void zm_conf_set_shared(struct zm_cfp *p, const char *key, const char *val);
/* After the whole file: every shared account has members, none is one. */
void zm_conf_check_shared(struct zm_cfp *p);

#endif
