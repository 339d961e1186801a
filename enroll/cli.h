/*
 * cli.h - what zonemfa-enroll, zonemfa-revoke and zonemfa-audit share:
 * locale and messages, error reporting with the documented exit status,
 * configuration loading, the request/reply exchange with zonemfa-tokend,
 * secret input and argument validation.
 *
 * Exit status of every tool (SPEC): 0 success, 1 refused or failed,
 * 2 usage or configuration error.  Errors are one line on stderr,
 * "PROG: message".
 */
#ifndef ZM_CLI_H
#define ZM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "conf.h"
#include "ipc.h"

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s)	gettext(s)
#else
#define _(s)	(s)
#endif
#define N_(s)	(s)

#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1
#define CLI_EXIT_USAGE	2

/* Longest user name accepted (useradd's limit is 32; Linux allows 63 here). */
#define CLI_USER_MAX	63
/* Reply timeout: revocation may wait for sessions to end. */
#define CLI_TIMEOUT_MS	(120 * 1000)

/* The program name used in messages ("zonemfa-enroll"). */
extern const char *cli_prog;

/*
 * setlocale, the "zonemfa" text domain, SIGPIPE ignored (a closed socket
 * is an error, not a death), the program name, and the function that
 * prints the usage text (to stdout for --help, stderr for mistakes).
 */
void cli_init(const char *prog, void (*usage)(FILE *));

/* "PROG: message" on stderr. */
void cli_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_warnx then exit(code). */
void cli_errx(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Optional "PROG: message", then the usage on stderr; exit 2. */
void cli_die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* The usage on stdout; exit 0 (--help). */
void cli_help(void) __attribute__((noreturn));
/* After getopt returned '?' or ':' (opterr is 0): message, usage, exit 2. */
void cli_bad_option(int ch, char **argv) __attribute__((noreturn));
/* Flush stdout; a write error (full disk, closed pipe) is exit 1. */
int cli_finish(int code);

/*
 * Load the configuration (path NULL: ZM_DEFAULT_CONF; a missing default
 * file means the built-in defaults).  On error prints every
 * "FILE:LINE: message" and exits 2.
 */
struct zm_config *cli_config_load(const char *path);

/* ---- talking to zonemfa-tokend ---- */

struct cli_conn {
	int		 fd;
	const char	*socket;	/* borrowed from the config */
	int		 timeout_ms;
	struct zm_buf	 body;		/* last reply; may hold a secret (URI) */
};

/* What a RESULT said.  text may hold a secret (the otpauth URI): cli_result_clear(). */
struct cli_result {
	uint32_t	status;		/* enum zm_status */
	uint32_t	msg;		/* enum zm_msgid, ZM_MSG_NONE if absent */
	uint64_t	time, time2;
	uint32_t	count, count2;
	uint64_t	token_id;
	uint64_t	session_id;
	uint64_t	seq;		/* ZM_T_SEQ (audit head) */
	int		has_seq;
	int		has_time, has_count, has_count2, has_token_id;
	char		text[ZM_IPC_MAX_STR + 1];
	char		text2[ZM_IPC_MAX_STR + 1];
};

/* Called for each ROW before the RESULT; non-zero stops with that error. */
typedef int (*cli_row_fn)(const struct zm_msg *row, void *arg);

/* ZM_ERR_UNAVAILABLE when the daemon is not there (caller says so). */
int cli_connect(const struct zm_config *cfg, struct cli_conn *c);
/* cli_connect; on failure prints "cannot reach zonemfa-tokend ..." and exits 1. */
void cli_connect_or_die(const struct zm_config *cfg, struct cli_conn *c);
void cli_close(struct cli_conn *c);
/* The standard message for an unreachable daemon (after "PROG: "). */
void cli_warn_unreachable(const struct cli_conn *c, const char *prefix);

/*
 * Send req, then read replies: INFO is printed on stderr, ROW goes to fn
 * (a ROW without fn is a protocol error), RESULT ends the exchange and
 * fills res.  Returns a transport/protocol error (res untouched) or ZM_OK
 * (the daemon's decision is in res->status).
 */
int cli_request(struct cli_conn *c, const struct zm_buf *req, cli_row_fn fn,
    void *arg, struct cli_result *res);
void cli_result_clear(struct cli_result *res);

/* Start a request message of type into b (initialised here). */
int cli_msg_begin(struct zm_buf *b, uint16_t type);

/* A clear sentence for a non-OK status. */
const char *cli_status_message(uint32_t status);
/* Print "PROG: <status message>[: text]" for a refused request; returns 1. */
int cli_report_status(const struct cli_result *res);

/* ---- input and arguments ---- */

/*
 * Read a secret.  With a terminal on stdin: prompt on /dev/tty and read
 * with echo off (restored on signals too).  Otherwise: one line from
 * stdin, read byte by byte so that nothing beyond it is consumed.
 * The newline is removed.  ZM_ERR_TOOBIG if the line does not fit,
 * ZM_ERR_TRUNCATED on end of input before any byte.  Callers zm_wipe(buf).
 */
int cli_read_secret(const char *prompt, char *buf, size_t len);

/* zm_user_name_valid() (common/names.h): one rule for every part. */
int cli_user_valid(const char *s);
/* s if valid, else a message and exit 2. */
const char *cli_arg_user(const char *s);
/* Duration ("30m", "2h", ...) via zm_duration_parse, else exit 2. */
int64_t cli_arg_duration(const char *s, const char *what);
/* Decimal number in [min, max], else exit 2 naming what. */
uint64_t cli_arg_number(const char *s, uint64_t min, uint64_t max,
    const char *what);

/* "2026-11-22 10:02" local time, "-" for 0. */
void cli_time_local(uint64_t t, char *out, size_t outlen);
/* "2026-11-22T01:02:03Z". */
void cli_time_utc(uint64_t t, char *out, size_t outlen);
/* Copy s into out replacing control characters with '?' (daemon text is untrusted). */
void cli_sanitize(const char *s, char *out, size_t outlen);

/* ---- zonemfa-audit subcommands in their own files ---- */

/* dormant.c: accounts dormant or dormant within DAYS (NULL: default). */
int audit_dormant(const struct zm_config *cfg, const char *zone,
    const char *days);
/* report.c: the report over the records of f (already verified). */
struct audit_report_opts {
	int64_t		 since;
	const char	*user;		/* NULL: every user */
	int		 csv;		/* RFC 4180 instead of the table */
	int		 bom;		/* CSV: a UTF-8 byte order mark first */
	const char	*section;	/* NULL: every section */
};
int audit_report(const struct zm_config *cfg, FILE *f, const char *path,
    const struct audit_report_opts *o);
/* 1 if name is a report section (zones, users, offhours, ...). */
int audit_report_section_valid(const char *name);
/* The section names, space separated (for messages). */
const char *audit_report_sections(void);
/* report_shared.c: shared-ID use per person (R7), after the report. */
int audit_report_shared(FILE *f, int64_t since, const char *user);

#endif
