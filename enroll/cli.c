/*
 * cli.c - shared by zonemfa-enroll, zonemfa-revoke and zonemfa-audit.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "names.h"
#include "conf.h"
#include "err.h"
#include "ipc.h"
#include "wipe.h"

const char *cli_prog = PACKAGE;

static void (*cli_usage_fn)(FILE *);
/* Group names for the permission message; the defaults until a config loads. */
static const char *cli_helpdesk_group = "zonemfa-helpdesk";
static const char *cli_admin_group = "zonemfa-admin";

static volatile sig_atomic_t cli_signo;

/* Make sure fds 0-2 are open so that nothing we open lands on them. */
static void
cli_sanitise_stdfd(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

void
cli_init(const char *prog, void (*usage)(FILE *))
{
	cli_sanitise_stdfd();
	setlocale(LC_ALL, "");
#ifdef ENABLE_NLS
	bindtextdomain(PACKAGE, LOCALEDIR);
	textdomain(PACKAGE);
#endif
	cli_prog = prog;
	/* PINs, one-time secrets and (offline revoke) the registry. */
	if (zm_no_core_dumps() != ZM_OK) {
		cli_warnx(_("cannot disable core dumps: %s"), strerror(errno));
		exit(CLI_EXIT_FAIL);
	}
	/* A daemon that goes away mid-request is an error to report, not a death. */
	signal(SIGPIPE, SIG_IGN);
	cli_usage_fn = usage;
	/* Our own messages name the program, not the sub-command's argv[0]. */
	opterr = 0;
}

static void
cli_vwarnx(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", cli_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwarnx(fmt, ap);
	va_end(ap);
}

void
cli_errx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwarnx(fmt, ap);
	va_end(ap);
	exit(code);
}

void
cli_die_usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		cli_vwarnx(fmt, ap);
		va_end(ap);
	}
	if (cli_usage_fn != NULL)
		cli_usage_fn(stderr);
	exit(CLI_EXIT_USAGE);
}

void
cli_help(void)
{
	if (cli_usage_fn != NULL)
		cli_usage_fn(stdout);
	exit(cli_finish(CLI_EXIT_OK));
}

void
cli_bad_option(int ch, char **argv)
{
	if (ch == ':')
		cli_die_usage(_("option '%s' needs a value"), argv[optind - 1]);
	if (optopt != 0)
		cli_die_usage(_("invalid option '-%c'"), optopt);
	cli_die_usage(_("invalid option '%s'"), argv[optind - 1]);
}

int
cli_finish(int code)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_warnx(_("write error on standard output: %s"),
		    strerror(errno));
		return code == CLI_EXIT_OK ? CLI_EXIT_FAIL : code;
	}
	return code;
}

/* ---- configuration ---- */

struct zm_config *
cli_config_load(const char *path)
{
	struct zm_config	*cfg = NULL;
	struct zm_errlist	 errs = { NULL, 0 };
	struct stat		 st;
	size_t			 i;
	int			 r;

	if (path == NULL) {
		path = ZM_DEFAULT_CONF;
		/* No file at the default place: the built-in defaults apply. */
		if (lstat(path, &st) == -1 && errno == ENOENT) {
			if ((r = zm_config_defaults(&cfg)) != ZM_OK)
				cli_errx(CLI_EXIT_FAIL, "%s", zm_strerror(r));
			goto done;
		}
	}
	r = zm_config_load(path, &cfg, &errs);
	if (r == ZM_OK && cfg != NULL)
		goto done;
	/* Compiler style, unprefixed: "FILE:LINE: message", every one of them. */
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (errs.n == 0)
		cli_warnx("%s: %s", path, zm_strerror(r));
	else if (r == ZM_ERR_IO)
		cli_warnx(_("cannot load configuration %s"), path);
	else
		cli_warnx(_("configuration %s is not valid"), path);
	zm_errlist_free(&errs);
	zm_config_free(cfg);
	exit(CLI_EXIT_USAGE);
done:
	zm_errlist_free(&errs);
	cli_helpdesk_group = cfg->helpdesk_group;
	cli_admin_group = cfg->admin_group;
	return cfg;
}

/* ---- talking to the daemon ---- */

int
cli_connect(const struct zm_config *cfg, struct cli_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->socket = cfg->socket;
	c->timeout_ms = CLI_TIMEOUT_MS;
	zm_buf_init(&c->body, ZM_IPC_MAX_BODY);
	return zm_ipc_connect(cfg->socket, &c->fd);
}

void
cli_warn_unreachable(const struct cli_conn *c, const char *prefix)
{
	cli_warnx(_("%scannot reach zonemfa-tokend at %s: is the daemon running?"),
	    prefix != NULL ? prefix : "", c->socket);
}

void
cli_connect_or_die(const struct zm_config *cfg, struct cli_conn *c)
{
	int r;

	if ((r = cli_connect(cfg, c)) == ZM_OK)
		return;
	if (r == ZM_ERR_PERM)
		cli_warnx(_("cannot connect to zonemfa-tokend at %s: permission denied"),
		    c->socket);
	else
		cli_warn_unreachable(c, NULL);
	cli_close(c);
	exit(CLI_EXIT_FAIL);
}

void
cli_close(struct cli_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	zm_buf_free(&c->body);
}

int
cli_msg_begin(struct zm_buf *b, uint16_t type)
{
	zm_buf_init(b, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	return zm_msg_begin(b, type);
}

/* Optional fields: absent is fine, malformed is a protocol error. */
static int
opt_u32(const struct zm_msg *m, uint16_t tag, uint32_t *v, int *has)
{
	int r = zm_msg_get_u32(m, tag, v);

	if (has != NULL)
		*has = r == ZM_OK;
	return r == ZM_ERR_NOTFOUND ? ZM_OK : r;
}

static int
opt_u64(const struct zm_msg *m, uint16_t tag, uint64_t *v, int *has)
{
	int r = zm_msg_get_u64(m, tag, v);

	if (has != NULL)
		*has = r == ZM_OK;
	return r == ZM_ERR_NOTFOUND ? ZM_OK : r;
}

static int
opt_str(const struct zm_msg *m, uint16_t tag, char *out, size_t outlen)
{
	int r = zm_msg_get_str(m, tag, out, outlen);

	if (r == ZM_ERR_NOTFOUND) {
		out[0] = '\0';
		return ZM_OK;
	}
	return r;
}

static int
result_parse(const struct zm_msg *m, struct cli_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = zm_msg_get_u32(m, ZM_T_STATUS, &res->status)) != ZM_OK)
		return r == ZM_ERR_NOTFOUND ? ZM_ERR_PROTO : r;
	if ((r = opt_u32(m, ZM_T_MSG, &res->msg, NULL)) != ZM_OK ||
	    (r = opt_u64(m, ZM_T_TIME, &res->time, &res->has_time)) != ZM_OK ||
	    (r = opt_u64(m, ZM_T_TIME2, &res->time2, NULL)) != ZM_OK ||
	    (r = opt_u32(m, ZM_T_COUNT, &res->count, &res->has_count)) != ZM_OK ||
	    (r = opt_u32(m, ZM_T_COUNT2, &res->count2, &res->has_count2)) != ZM_OK ||
	    (r = opt_u64(m, ZM_T_TOKEN_ID, &res->token_id,
	    &res->has_token_id)) != ZM_OK ||
	    (r = opt_u64(m, ZM_T_SESSION_ID, &res->session_id, NULL)) != ZM_OK ||
	    (r = opt_u64(m, ZM_T_SEQ, &res->seq, &res->has_seq)) != ZM_OK ||
	    (r = opt_str(m, ZM_T_TEXT, res->text, sizeof(res->text))) != ZM_OK ||
	    (r = opt_str(m, ZM_T_TEXT2, res->text2, sizeof(res->text2))) != ZM_OK) {
		cli_result_clear(res);
		return r;
	}
	return ZM_OK;
}

/* English words for the message ids the daemon may send in an INFO. */
static const char *
msgid_text(uint32_t msg)
{
	switch (msg) {
	case ZM_MSG_NOT_PERMITTED:	return _("not permitted");
	case ZM_MSG_INTERNAL:		return _("the login service has a problem");
	case ZM_MSG_NO_TOKEN:		return _("no token enrolled");
	case ZM_MSG_TEMPCODE_USED:	return _("temporary code already used");
	case ZM_MSG_TOKEN_REVOKED:	return _("token revoked");
	case ZM_MSG_DISABLED:		return _("account disabled");
	case ZM_MSG_DORMANT:		return _("account dormant");
	case ZM_MSG_LOCKED_HELPDESK:	return _("account locked until unlocked by the helpdesk");
	case ZM_MSG_LOCKED_UNTIL:	return _("account locked");
	case ZM_MSG_INSERT_CARD:	return _("insert the card");
	case ZM_MSG_TOUCH_KEY:		return _("touch the security key");
	case ZM_MSG_PIN_BLOCKED:	return _("the PIN is blocked");
	case ZM_MSG_PIN_TRIES_LEFT:	return _("wrong PIN");
	case ZM_MSG_CARD_NOT_FOUND:	return _("no supported IC card in a reader");
	case ZM_MSG_CARD_UNAVAILABLE:	return _("the card reader service (pcscd) is not available");
	case ZM_MSG_CARD_REFUSED:	return _("the card did not prove its key");
	case ZM_MSG_CARD_CMD_REFUSED:	return _("the card refused a command (see the audit log for its status word)");
	case ZM_MSG_CARD_ID_ONLY:	return _("an ID-only card cannot be used");
	case ZM_MSG_KEY_PIN_BLOCKED:	return _("the security key's PIN is blocked");
	case ZM_MSG_KEY_NOT_FOUND:	return _("no security key plugged in");
	default:			return NULL;
	}
}

static void
print_info(const struct zm_msg *m)
{
	char		 text[ZM_IPC_MAX_STR + 1], clean[ZM_IPC_MAX_STR + 1];
	const char	*s;
	uint32_t	 msg = ZM_MSG_NONE;

	if (opt_str(m, ZM_T_TEXT, text, sizeof(text)) == ZM_OK &&
	    text[0] != '\0') {
		cli_sanitize(text, clean, sizeof(clean));
		cli_warnx("%s", clean);
		return;
	}
	(void)opt_u32(m, ZM_T_MSG, &msg, NULL);
	if ((s = msgid_text(msg)) != NULL)
		cli_warnx("%s", s);
	else if (msg != ZM_MSG_NONE)
		cli_warnx(_("zonemfa-tokend says: message %u"), (unsigned)msg);
}

int
cli_request(struct cli_conn *c, const struct zm_buf *req, cli_row_fn fn,
    void *arg, struct cli_result *res)
{
	struct zm_msg	m;
	int		r;

	if ((r = zm_ipc_send(c->fd, req, c->timeout_ms)) != ZM_OK)
		return r;
	for (;;) {
		if ((r = zm_ipc_recv(c->fd, &c->body, &m, c->timeout_ms)) != ZM_OK)
			return r;
		switch (m.type) {
		case ZM_REP_INFO:
			print_info(&m);
			break;
		case ZM_REP_ROW:
			if (fn == NULL)
				return ZM_ERR_PROTO;
			if ((r = fn(&m, arg)) != ZM_OK)
				return r;
			break;
		case ZM_REP_RESULT:
			return result_parse(&m, res);
		default:
			/* Tools never start a conversation that prompts (yet). */
			return ZM_ERR_PROTO;
		}
	}
}

void
cli_result_clear(struct cli_result *res)
{
	if (res != NULL)
		zm_wipe(res, sizeof(*res));
}

const char *
cli_status_message(uint32_t status)
{
	switch (status) {
	case ZM_ST_OK:		return _("done");
	case ZM_ST_DENIED:	return _("refused by zonemfa-tokend");
	case ZM_ST_LOCKED:	return _("the account is locked");
	case ZM_ST_DISABLED:	return _("the account is disabled");
	case ZM_ST_DORMANT:	return _("the account is dormant");
	case ZM_ST_NO_TOKEN:	return _("no token is enrolled");
	case ZM_ST_REVOKED:	return _("all tokens of this account are revoked");
	case ZM_ST_PERM:	return _("permission denied");
	case ZM_ST_SELF:	return _("separation of duties: an operator may not act on their own account");
	case ZM_ST_NOTFOUND:	return _("no such user or token");
	case ZM_ST_EXISTS:	return _("already enrolled (a revoked or replaced card can never be enrolled again)");
	case ZM_ST_INVALID:	return _("zonemfa-tokend refused the request as invalid");
	case ZM_ST_INTERNAL:	return _("the daemon reported an internal error; see its log");
	case ZM_ST_PARTIAL:	return _("sessions could not all be ended");
	case ZM_ST_ABORTED:	return _("the request was aborted");
	default:		return _("zonemfa-tokend sent an unknown status");
	}
}

int
cli_report_status(const struct cli_result *res)
{
	char clean[ZM_IPC_MAX_STR + 1];

	if (res->status == ZM_ST_PERM) {
		cli_warnx(_("permission denied: this needs root or group %s/%s, and some accounts (uid 0; the helpdesk and administrators themselves; for passwords: privileged users) need root or %s"),
		    cli_helpdesk_group, cli_admin_group, cli_admin_group);
		return CLI_EXIT_FAIL;
	}
	if (res->msg == ZM_MSG_PIN_TRIES_LEFT && res->has_count) {
		cli_warnx(_("%s: wrong PIN, %u tries left"),
		    cli_status_message(res->status), res->count);
		return CLI_EXIT_FAIL;
	}
	if (res->text[0] == '\0' && msgid_text(res->msg) != NULL) {
		cli_warnx("%s: %s", cli_status_message(res->status),
		    msgid_text(res->msg));
		return CLI_EXIT_FAIL;
	}
	if (res->text[0] != '\0') {
		cli_sanitize(res->text, clean, sizeof(clean));
		cli_warnx("%s: %s", cli_status_message(res->status), clean);
	} else
		cli_warnx("%s", cli_status_message(res->status));
	return CLI_EXIT_FAIL;
}

/* ---- secrets ---- */

static void
cli_catch(int signo)
{
	cli_signo = signo;
}

/*
 * One line from fd, byte by byte so that a script's next line stays in
 * the stream.  An over-long line is consumed to its end and refused.
 */
static int
read_line(int fd, char *buf, size_t len)
{
	size_t	n = 0;
	ssize_t	k;
	char	ch = 0;
	int	r = ZM_ERR_INTERNAL, over = 0, any = 0;

	for (;;) {
		if ((k = read(fd, &ch, 1)) == -1) {
			if (errno == EINTR && cli_signo == 0)
				continue;
			r = ZM_ERR_IO;
			goto out;
		}
		if (k == 0) {
			if (!any) {
				r = ZM_ERR_TRUNCATED;
				goto out;
			}
			break;
		}
		any = 1;
		if (ch == '\n')
			break;
		if (n + 1 >= len) {
			over = 1;
			continue;
		}
		buf[n++] = ch;
	}
	if (over) {
		r = ZM_ERR_TOOBIG;
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	r = ZM_OK;
out:
	zm_wipe(&ch, sizeof(ch));
	if (r != ZM_OK)
		zm_wipe(buf, len);
	return r;
}

/* Best effort: a prompt that cannot be shown does not stop the input. */
static void
tty_puts(int fd, const char *s)
{
	size_t	n = strlen(s);
	ssize_t	k;

	while (n > 0) {
		if ((k = write(fd, s, n)) == -1) {
			if (errno == EINTR && cli_signo == 0)
				continue;
			return;
		}
		s += k;
		n -= (size_t)k;
	}
}

static const int cli_sigs[] = {
	SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN,
	SIGTTOU
};
#define CLI_NSIGS	(sizeof(cli_sigs) / sizeof(cli_sigs[0]))

/* Echo off on the terminal; a signal restores it before it takes effect. */
static int
read_tty(const char *prompt, char *buf, size_t len)
{
	struct sigaction	sa, saved[CLI_NSIGS];
	struct termios		old, noecho;
	size_t			i;
	int			fd, r = ZM_ERR_INTERNAL, restore = 0, signo;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return ZM_ERR_IO;
	if (tcgetattr(fd, &old) == -1) {
		r = ZM_ERR_IO;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: read() must return */
	sa.sa_handler = cli_catch;
	cli_signo = 0;
	for (i = 0; i < CLI_NSIGS; i++)
		(void)sigaction(cli_sigs[i], &sa, &saved[i]);
	restore = 1;
	if (prompt != NULL)
		tty_puts(fd, prompt);
	noecho = old;
	noecho.c_lflag &= ~(ECHO | ECHONL);
	if (tcsetattr(fd, TCSAFLUSH, &noecho) == -1) {
		r = ZM_ERR_IO;
		goto out;
	}
	r = read_line(fd, buf, len);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	tty_puts(fd, "\n");
out:
	if (restore) {
		for (i = 0; i < CLI_NSIGS; i++)
			(void)sigaction(cli_sigs[i], &saved[i], NULL);
	}
	close(fd);
	if ((signo = cli_signo) != 0) {
		/* The terminal is sane again: now let the signal act. */
		cli_signo = 0;
		zm_wipe(buf, len);
		(void)kill(getpid(), signo);
		r = ZM_ERR_IO;
	}
	return r;
}

int
cli_read_secret(const char *prompt, char *buf, size_t len)
{
	if (buf == NULL || len < 2)
		return ZM_ERR_INVALID;
	if (isatty(STDIN_FILENO))
		return read_tty(prompt, buf, len);
	return read_line(STDIN_FILENO, buf, len);
}

/* ---- arguments ---- */

int
cli_user_valid(const char *s)
{
	return zm_user_name_valid(s);
}

const char *
cli_arg_user(const char *s)
{
	char clean[CLI_USER_MAX + 8];

	if (cli_user_valid(s))
		return s;
	cli_sanitize(s != NULL ? s : "", clean, sizeof(clean));
	cli_errx(CLI_EXIT_USAGE, _("invalid user name '%s': expected letters, digits and . _ @ - (not first), an optional final $, at most %d characters"),
	    clean, CLI_USER_MAX);
}

int64_t
cli_arg_duration(const char *s, const char *what)
{
	int64_t	secs;
	char	clean[64];

	if (s != NULL && zm_duration_parse(s, &secs) == ZM_OK && secs > 0)
		return secs;
	cli_sanitize(s != NULL ? s : "", clean, sizeof(clean));
	cli_errx(CLI_EXIT_USAGE, _("invalid %s '%s': expected a duration such as 30m, 8h or 2d"),
	    what, clean);
}

uint64_t
cli_arg_number(const char *s, uint64_t min, uint64_t max, const char *what)
{
	unsigned long long	 v;
	char			*end = NULL, clean[64];

	/* strtoull accepts "-1" and " 1": only plain digits are numbers here. */
	if (s != NULL && s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno == 0 && end != NULL && *end == '\0' && v >= min &&
		    v <= max)
			return v;
	}
	cli_sanitize(s != NULL ? s : "", clean, sizeof(clean));
	cli_errx(CLI_EXIT_USAGE, _("invalid %s '%s': expected a number from %llu to %llu"),
	    what, clean, (unsigned long long)min, (unsigned long long)max);
}

void
cli_time_local(uint64_t t, char *out, size_t outlen)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (outlen == 0)
		return;
	if (t == 0 || t > INT64_MAX || localtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, outlen, "-");
}

void
cli_time_utc(uint64_t t, char *out, size_t outlen)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (outlen == 0)
		return;
	if (t > INT64_MAX || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "?");
}

void
cli_sanitize(const char *s, char *out, size_t outlen)
{
	size_t i;

	if (outlen == 0)
		return;
	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	out[i] = '\0';
}
