/*
 * module.c - pam_zonemfa: carries the conversation between the user and
 * zonemfa-tokend, which makes every decision.
 *
 * Fail closed: a configuration error, an unreachable daemon, a malformed or
 * late reply or a store error refuses (auth PAM_AUTHINFO_UNAVAIL, account
 * PAM_AUTH_ERR, session PAM_SESSION_ERR), never PAM_SUCCESS or PAM_IGNORE,
 * and writes one syslog line saying why.
 */
#include <config.h>

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "wipe.h"
#include "messages.h"
#include "module.h"

/* One request to the daemon and its replies. */
struct ctx {
	pam_handle_t		*pamh;
	int			 flags;
	locale_t		 locale;	/* ours, for the messages, or 0 */
	locale_t		 old_locale;
	struct zm_config	*conf;
	const char		*user;
	int			 fd;
	struct zm_buf		 out;
	struct zm_buf		 in;
	struct zm_msg		 m;
};

/* A decoded reply (RESULT, PROMPT or INFO); absent fields are zero. */
struct reply {
	uint16_t		type;
	uint32_t		status;
	int			msg;
	uint32_t		prompt;
	uint32_t		echo;
	struct zm_msgargs	a;
	uint32_t		count2;
	uint64_t		session_id;
	int			has_session_id;
	int			has_time;
	char			text[ZM_IPC_MAX_STR + 1];
	char			text2[ZM_IPC_MAX_STR + 1];
	char			ticket[ZM_IPC_MAX_STR + 1];	/* secret */
};

static void
cleanup_free(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

static void
cleanup_secret(pam_handle_t *pamh, void *data, int error_status)
{
	zm_strfree(data);
}

static void
ctx_free(struct ctx *c)
{
	if (c->locale != (locale_t)0) {
		(void)uselocale(c->old_locale);
		freelocale(c->locale);
		c->locale = (locale_t)0;
	}
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	zm_buf_free(&c->out);
	zm_buf_free(&c->in);
	zm_config_free(c->conf);
	c->conf = NULL;
}

static int
locale_named(const char *v)
{
	return v != NULL && v[0] != '\0' && strcmp(v, "C") != 0 &&
	    strcmp(v, "POSIX") != 0;
}

/*
 * The session phase's language.  An application that set its locale
 * (login, su, display managers) decides.  One that did not -- sshd never
 * calls setlocale() -- gets the user's locale from the PAM environment
 * (pam_env reads /etc/default/locale) or, failing that, its own
 * environment (the system locale systemd gives services), for this call
 * only and this thread only (uselocale), with its character set: sshd
 * shows the session phase's messages (banner, last login) as they are.
 * Not in the auth phase: the ssh client octal-escapes every non-ASCII
 * byte of a keyboard-interactive message whatever its own locale, so
 * there the C locale's plain ASCII English is what reads right.
 */
static void
ctx_locale(struct ctx *c)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	const char	*cur, *v = NULL;
	size_t		 i;
	locale_t	 loc;

	cur = setlocale(LC_MESSAGES, NULL);
	if (locale_named(cur))
		return;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]) && v == NULL; i++) {
		v = pam_getenv(c->pamh, vars[i]);
		if (v == NULL || v[0] == '\0')
			v = NULL;
	}
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]) && v == NULL; i++) {
		v = getenv(vars[i]);
		if (v == NULL || v[0] == '\0')
			v = NULL;
	}
	if (!locale_named(v) || strchr(v, '/') != NULL)
		return;
	if ((loc = newlocale(LC_MESSAGES_MASK | LC_CTYPE_MASK, v,
	    (locale_t)0)) == (locale_t)0)
		return;		/* not installed: English */
	c->old_locale = uselocale(loc);
	c->locale = loc;
}

static void
config_errors(struct zm_errlist *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		zm_err("%s", errs->msg[i]);
	zm_errlist_free(errs);
}

/* Loads the configuration: defaults < file < module arguments. */
static int
ctx_init(struct ctx *c, pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct zm_errlist	errs = { NULL, 0 };
	const char		*path = ZM_DEFAULT_CONF;
	int			debug = 0, nconf = 0, i, r = ZM_ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	c->pamh = pamh;
	c->flags = flags;
	c->fd = -1;
	zm_buf_init(&c->out, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	zm_buf_init(&c->in, ZM_IPC_MAX_BODY);
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			continue;
		if (strcmp(argv[i], "debug") == 0)
			debug = 1;
		else if (strncmp(argv[i], "conf=", 5) == 0 && nconf++ == 0)
			path = argv[i] + 5;
	}
	/* NULL ident: openlog() would rename the host program's log lines. */
	zm_log_init(NULL, 0, debug);
	zm_messages_init();
	/* Which file was meant?  Fail closed (zm_config_apply_args: others). */
	if (nconf > 1) {
		zm_err("bad module arguments: conf= given more than once");
		return ZM_ERR_CONFIG;
	}
	if (path[0] != '/') {
		zm_err("conf=%s: not an absolute path", path);
		return ZM_ERR_CONFIG;
	}
	if ((r = zm_config_load(path, &c->conf, &errs)) != 0) {
		zm_err("%s: cannot load configuration: %s", path,
		    zm_strerror(r));
		config_errors(&errs);
		return r;
	}
	zm_errlist_free(&errs);
	if ((r = zm_config_apply_args(c->conf, argc, argv, &errs)) != 0) {
		zm_err("bad module arguments: %s", zm_strerror(r));
		config_errors(&errs);
		return r;
	}
	zm_errlist_free(&errs);
	zm_log_init(NULL, 0, c->conf->debug || debug);
	if (c->conf->zone[0] == '\0') {
		zm_err("%s: no zone: set [terminal] zone or the zone= "
		    "argument", path);
		return ZM_ERR_CONFIG;
	}
	if (zm_config_zone(c->conf, c->conf->zone) == NULL) {
		zm_err("%s: zone %s is not defined", path, c->conf->zone);
		return ZM_ERR_CONFIG;
	}
	if (c->conf->socket == NULL || c->conf->socket[0] != '/') {
		zm_err("%s: no daemon socket configured", path);
		return ZM_ERR_CONFIG;
	}
	return ZM_OK;
}

/* The user name, checked; a PAM code. */
static int
ctx_user(struct ctx *c)
{
	const char	*user = NULL;
	int		 pr;

	if ((pr = pam_get_user(c->pamh, &user, NULL)) != PAM_SUCCESS) {
		zm_err("cannot get the user name: %s",
		    pam_strerror(c->pamh, pr));
		/* Never let an odd code through as success or ignore. */
		if (pr == PAM_CONV_AGAIN || pr == PAM_IGNORE)
			pr = PAM_AUTH_ERR;
		return pr;
	}
	if (user == NULL || user[0] == '\0' ||
	    strnlen(user, ZM_NAME_MAX) >= ZM_NAME_MAX) {
		zm_err("unusable user name");
		return PAM_AUTH_ERR;
	}
	c->user = user;
	return PAM_SUCCESS;
}

/* Shows a message unless the application asked for silence. */
static void
say(struct ctx *c, int style, int id, const struct zm_msgargs *a)
{
	char	text[PAM_MAX_MSG_SIZE];
	int	r;

	if (c->flags & PAM_SILENT)
		return;
	r = zm_message_format(id, a, text, sizeof(text));
	if (r == ZM_ERR_NOTFOUND) {
		if (style != PAM_ERROR_MSG)
			return;
		/* A newer daemon's reason: still say that it was refused. */
		r = zm_message_format(ZM_MSG_AUTH_FAILED, NULL, text,
		    sizeof(text));
	}
	if (r != 0 && r != ZM_ERR_TOOBIG)
		return;
	(void)pam_prompt(c->pamh, style, NULL, "%s", text);
}

static void
say_unavailable(struct ctx *c)
{
	say(c, PAM_ERROR_MSG, ZM_PMSG_UNAVAILABLE, NULL);
}

static int
add_item(struct ctx *c, uint16_t tag, int item)
{
	const void	*p = NULL;

	if (pam_get_item(c->pamh, item, &p) != PAM_SUCCESS || p == NULL ||
	    ((const char *)p)[0] == '\0')
		return ZM_OK;
	return zm_msg_add_str(&c->out, tag, p);
}

static int
ctx_connect(struct ctx *c)
{
	int	r;

	if ((r = zm_ipc_connect(c->conf->socket, &c->fd)) != 0)
		zm_err("cannot reach zonemfa-tokend at %s: %s",
		    c->conf->socket, zm_strerror(r));
	return r;
}

/* Sends the message built in c->out, then wipes it (it may hold a code). */
static int
ctx_send(struct ctx *c)
{
	int	r;

	if ((r = zm_msg_end(&c->out)) != 0)
		zm_err("cannot encode request: %s", zm_strerror(r));
	else if ((r = zm_ipc_send(c->fd, &c->out, ZM_REPLY_TIMEOUT_MS)) != 0)
		zm_err("cannot send to zonemfa-tokend: %s", zm_strerror(r));
	zm_buf_reset(&c->out);
	return r;
}

static int
opt_u32(const struct zm_msg *m, uint16_t tag, uint32_t *v, int *present)
{
	int	r;

	*v = 0;
	if ((r = zm_msg_get_u32(m, tag, v)) == ZM_ERR_NOTFOUND)
		return ZM_OK;
	if (r == 0 && present != NULL)
		*present = 1;
	return r;
}

static int
opt_u64(const struct zm_msg *m, uint16_t tag, uint64_t *v, int *present)
{
	int	r;

	*v = 0;
	if ((r = zm_msg_get_u64(m, tag, v)) == ZM_ERR_NOTFOUND)
		return ZM_OK;
	if (r == 0 && present != NULL)
		*present = 1;
	return r;
}

static int
opt_str(const struct zm_msg *m, uint16_t tag, char *out, size_t outlen)
{
	int	r;

	out[0] = '\0';
	if ((r = zm_msg_get_str(m, tag, out, outlen)) == ZM_ERR_NOTFOUND)
		return ZM_OK;
	return r;
}

/* Receives and decodes one reply; every failure is logged here. */
static int
ctx_recv(struct ctx *c, struct reply *rep)
{
	uint32_t	msg = 0;
	int		r;

	memset(rep, 0, sizeof(*rep));
	if ((r = zm_ipc_recv(c->fd, &c->in, &c->m, ZM_REPLY_TIMEOUT_MS)) != 0) {
		zm_err("no reply from zonemfa-tokend: %s", zm_strerror(r));
		return r;
	}
	rep->type = c->m.type;
	if ((r = opt_u32(&c->m, ZM_T_STATUS, &rep->status, NULL)) != 0 ||
	    (r = opt_u32(&c->m, ZM_T_MSG, &msg, NULL)) != 0 ||
	    (r = opt_u32(&c->m, ZM_T_PROMPT, &rep->prompt, NULL)) != 0 ||
	    (r = opt_u32(&c->m, ZM_T_ECHO, &rep->echo, NULL)) != 0 ||
	    (r = opt_u64(&c->m, ZM_T_TIME, &rep->a.time,
	    &rep->has_time)) != 0 ||
	    (r = opt_u64(&c->m, ZM_T_TIME2, &rep->a.time2, NULL)) != 0 ||
	    (r = opt_u32(&c->m, ZM_T_COUNT, &rep->a.count,
	    &rep->a.has_count)) != 0 ||
	    (r = opt_u32(&c->m, ZM_T_COUNT2, &rep->count2, NULL)) != 0 ||
	    (r = opt_u64(&c->m, ZM_T_SESSION_ID, &rep->session_id,
	    &rep->has_session_id)) != 0 ||
	    (r = opt_str(&c->m, ZM_T_TEXT, rep->text,
	    sizeof(rep->text))) != 0 ||
	    (r = opt_str(&c->m, ZM_T_TEXT2, rep->text2,
	    sizeof(rep->text2))) != 0 ||
	    (r = opt_str(&c->m, ZM_T_TICKET, rep->ticket,
	    sizeof(rep->ticket))) != 0) {
		zm_err("malformed reply from zonemfa-tokend: %s",
		    zm_strerror(r));
		return ZM_ERR_PROTO;
	}
	if (rep->type == ZM_REP_RESULT &&
	    zm_msg_find(&c->m, ZM_T_STATUS) == NULL) {
		zm_err("reply from zonemfa-tokend without a status");
		return ZM_ERR_PROTO;
	}
	if (msg > INT32_MAX)
		msg = ZM_MSG__MAX;	/* unknown: the caller falls back */
	rep->msg = (int)msg;
	zm_message_sanitize(rep->text);
	zm_message_sanitize(rep->text2);
	rep->a.text = rep->text;
	/* The buffer held a ticket; it is not needed any more. */
	zm_buf_reset(&c->in);
	return ZM_OK;
}

/* Waits for the RESULT of a request, showing INFO replies on the way. */
static int
ctx_result(struct ctx *c, struct reply *rep)
{
	int	n, r;

	for (n = 0; n < ZM_MAX_REPLIES; n++) {
		if ((r = ctx_recv(c, rep)) != 0)
			return r;
		if (rep->type == ZM_REP_RESULT)
			return ZM_OK;
		if (rep->type != ZM_REP_INFO) {
			zm_err("unexpected reply 0x%x from zonemfa-tokend",
			    (unsigned)rep->type);
			return ZM_ERR_PROTO;
		}
		say(c, PAM_TEXT_INFO, rep->msg, &rep->a);
	}
	zm_err("too many replies from zonemfa-tokend");
	return ZM_ERR_PROTO;
}

/* Refusal reason: the daemon's message, or one for the status. */
static void
say_refusal(struct ctx *c, const struct reply *rep)
{
	int	id = rep->msg;

	if (id == ZM_MSG_NONE)
		id = zm_message_status_default(rep->status, rep->a.time);
	say(c, PAM_ERROR_MSG, id, &rep->a);
}

static void
clear_auth_data(pam_handle_t *pamh)
{
	/* A second pam_authenticate() must not reuse the first one's ticket. */
	(void)pam_set_data(pamh, ZM_DATA_TICKET, NULL, NULL);
	(void)pam_set_data(pamh, ZM_DATA_LAST_LOGIN, NULL, NULL);
	if (pam_getenv(pamh, ZM_ENV_TICKET) != NULL)
		(void)pam_putenv(pamh, ZM_ENV_TICKET);	/* unset */
}

/* ZONEMFA_TICKET=ticket in the PAM environment. */
static int
put_env_ticket(pam_handle_t *pamh, const char *ticket)
{
	char	env[sizeof(ZM_ENV_TICKET) + ZM_IPC_MAX_STR + 1];
	int	n, pr;

	n = snprintf(env, sizeof(env), "%s=%s", ZM_ENV_TICKET, ticket);
	if (n < 0 || (size_t)n >= sizeof(env)) {
		zm_wipe(env, sizeof(env));
		return ZM_ERR_TOOBIG;
	}
	pr = pam_putenv(pamh, env);
	zm_wipe(env, sizeof(env));
	return pr == PAM_SUCCESS ? ZM_OK : ZM_ERR_NOMEM;
}

/* Keeps what the session phase needs from a successful login. */
static int
save_auth_data(struct ctx *c, const struct reply *rep)
{
	struct zm_lastlogin	*l = NULL;
	char			*ticket = NULL;
	int			 r = ZM_ERR_NOMEM;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto out;
	l->when = rep->a.time;
	l->logout = rep->a.time2;
	l->failures = rep->count2;
	zm_message_copy(l->from, sizeof(l->from), rep->text2);
	if (pam_set_data(c->pamh, ZM_DATA_LAST_LOGIN, l,
	    cleanup_free) != PAM_SUCCESS)
		goto out;
	l = NULL;
	if (rep->ticket[0] != '\0') {
		if ((ticket = strdup(rep->ticket)) == NULL)
			goto out;
		if (pam_set_data(c->pamh, ZM_DATA_TICKET, ticket,
		    cleanup_secret) != PAM_SUCCESS)
			goto out;
		ticket = NULL;
		/*
		 * Module data stays in this process; a client that opens
		 * the session in another one (sshd: its PAM child hands the
		 * PAM environment back to the monitor) finds the ticket
		 * here.  The daemon accepts it only from the process that
		 * authenticated or its parent, and the session phase unsets
		 * it before the environment reaches the user.
		 */
		if ((r = put_env_ticket(c->pamh, rep->ticket)) != ZM_OK)
			goto out;
		r = ZM_ERR_NOMEM;
	}
	r = ZM_OK;
out:
	if (r != 0)
		zm_err("cannot keep the login data: %s", zm_strerror(r));
	free(l);
	zm_strfree(ticket);
	return r;
}

/* Asks the user; sends the answer or, when there is none, FLAGS=NONE. */
static int
answer_prompt(struct ctx *c, const struct reply *rep, int *aborted)
{
	char	text[PAM_MAX_MSG_SIZE];
	char	*resp = NULL;
	int	id, pr, r = ZM_ERR_INTERNAL;

	id = rep->msg != ZM_MSG_NONE ? rep->msg :
	    zm_message_prompt_default(rep->prompt);
	r = zm_message_format(id, &rep->a, text, sizeof(text));
	if (r != 0 && r != ZM_ERR_TOOBIG)
		(void)zm_message_format(zm_message_prompt_default(rep->prompt),
		    &rep->a, text, sizeof(text));
	if (rep->prompt == ZM_PROMPT_TOUCH) {
		/*
		 * Nothing to type: the key is the answer.  Say it, then let
		 * the daemon wait for the touch (empty answer = go ahead).
		 */
		pr = pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "%s", text);
		if (pr == PAM_SUCCESS && (resp = strdup("")) == NULL)
			pr = PAM_BUF_ERR;
	} else
		pr = pam_prompt(c->pamh, rep->echo ? PAM_PROMPT_ECHO_ON :
		    PAM_PROMPT_ECHO_OFF, &resp, "%s", text);
	if ((r = zm_msg_begin(&c->out, ZM_REQ_AUTH_ANSWER)) != 0)
		goto out;
	if (pr != PAM_SUCCESS || resp == NULL) {
		/* Gone or timed out: the daemon does not count a failure. */
		zm_debug("conversation failed: %s", pam_strerror(c->pamh, pr));
		*aborted = 1;
		r = zm_msg_add_u32(&c->out, ZM_T_FLAGS, ZM_ANSWER_NONE);
	} else
		r = zm_msg_add_bytes(&c->out, ZM_T_ANSWER, resp,
		    strnlen(resp, ZM_ANSWER_MAX));
	if (r != 0) {
		zm_err("cannot encode the answer: %s", zm_strerror(r));
		zm_buf_reset(&c->out);
		goto out;
	}
	r = ctx_send(c);
out:
	zm_strfree(resp);
	return r;
}

/* Maps the daemon's RESULT of an authentication to a PAM code. */
static int
auth_result(struct ctx *c, const struct reply *rep, int aborted)
{
	switch (rep->status) {
	case ZM_ST_OK:
		if (aborted) {
			zm_err("zonemfa-tokend accepted a login without an "
			    "answer; refusing");
			break;
		}
		if (save_auth_data(c, rep) != 0)
			break;
		zm_debug("%s authenticated", c->user);
		return PAM_SUCCESS;
	case ZM_ST_PERM:
		zm_warn("zonemfa-tokend: uid %ld may not authenticate %s",
		    (long)getuid(), c->user);
		/* FALLTHROUGH */
	case ZM_ST_DENIED:
	case ZM_ST_LOCKED:
	case ZM_ST_DISABLED:
	case ZM_ST_DORMANT:
	case ZM_ST_NO_TOKEN:
	case ZM_ST_REVOKED:
	case ZM_ST_ABORTED:
		zm_debug("%s refused: %s", c->user,
		    zm_status_name((int)rep->status));
		/* When the conversation is gone, nobody reads a reason. */
		if (!(rep->status == ZM_ST_ABORTED && aborted))
			say_refusal(c, rep);
		return PAM_AUTH_ERR;
	case ZM_ST_INVALID:
	case ZM_ST_INTERNAL:
		zm_err("zonemfa-tokend could not authenticate %s: %s "
		    "(message %d)", c->user,
		    zm_status_name((int)rep->status), rep->msg);
		say(c, PAM_ERROR_MSG, rep->msg == ZM_MSG_UNKNOWN_ZONE ?
		    ZM_MSG_UNKNOWN_ZONE : ZM_PMSG_UNAVAILABLE, NULL);
		return PAM_AUTHINFO_UNAVAIL;
	default:
		zm_err("unexpected status %u from zonemfa-tokend",
		    (unsigned)rep->status);
		break;
	}
	say_unavailable(c);
	return PAM_AUTHINFO_UNAVAIL;
}

static int account_request(struct ctx *c, struct reply *rep, int *pr);

/*
 * "authfail": the password module before us failed.  Count it with the
 * daemon (the same lockout as the factors) and fail, whatever happens.
 */
static int
auth_password_failed(struct ctx *c)
{
	struct reply	*rep = NULL;
	int		 r;

	if ((rep = calloc(1, sizeof(*rep))) == NULL) {
		zm_err("out of memory");
		goto out;
	}
	if ((r = ctx_connect(c)) != 0)
		goto out;
	if ((r = zm_msg_begin(&c->out, ZM_REQ_PASSWORD_FAIL)) != 0 ||
	    (r = zm_msg_add_str(&c->out, ZM_T_USER, c->user)) != 0 ||
	    (r = zm_msg_add_str(&c->out, ZM_T_ZONE, c->conf->zone)) != 0 ||
	    (r = add_item(c, ZM_T_SERVICE, PAM_SERVICE)) != 0 ||
	    (r = add_item(c, ZM_T_TTY, PAM_TTY)) != 0 ||
	    (r = add_item(c, ZM_T_RHOST, PAM_RHOST)) != 0) {
		zm_err("cannot encode the request: %s", zm_strerror(r));
		goto out;
	}
	if ((r = ctx_send(c)) != 0 || (r = ctx_result(c, rep)) != 0) {
		zm_err("the wrong password of %s could not be counted",
		    c->user);
		goto out;
	}
	/* Locked now: say until when; else the generic refusal. */
	if (rep->status == ZM_ST_LOCKED)
		say_refusal(c, rep);
 out:
	if (rep != NULL)
		zm_freezero(rep, sizeof(*rep));
	return PAM_AUTH_ERR;
}

int
zm_pam_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct ctx	 c;
	struct reply	*rep = NULL;
	int		 aborted = 0, n, r, pr = PAM_AUTHINFO_UNAVAIL;

	if ((r = ctx_init(&c, pamh, flags, argc, argv)) != 0) {
		clear_auth_data(pamh);
		goto fail;
	}
	if (c.conf->auth_mode == ZM_AUTH_MODE_AUTHFAIL) {
		clear_auth_data(pamh);
		if (ctx_user(&c) == PAM_SUCCESS)
			(void)auth_password_failed(&c);
		ctx_free(&c);
		return PAM_AUTH_ERR;
	}
	clear_auth_data(pamh);
	if (c.conf->auth_mode == ZM_AUTH_MODE_PREAUTH) {
		/* Locked, disabled, dormant: refused before the password. */
		if ((pr = ctx_user(&c)) != PAM_SUCCESS)
			goto out;
		if ((rep = calloc(1, sizeof(*rep))) == NULL ||
		    account_request(&c, rep, &pr) != 0)
			goto fail;
		if (pr == PAM_PERM_DENIED)
			pr = PAM_AUTH_ERR;
		goto out;
	}
	if ((pr = ctx_user(&c)) != PAM_SUCCESS) {
		say(&c, PAM_ERROR_MSG, ZM_PMSG_BAD_USER, NULL);
		goto out;
	}
	if ((rep = calloc(1, sizeof(*rep))) == NULL) {
		zm_err("out of memory");
		goto fail;
	}
	if ((r = ctx_connect(&c)) != 0)
		goto fail;
	if ((r = zm_msg_begin(&c.out, ZM_REQ_AUTH_BEGIN)) != 0 ||
	    (r = zm_msg_add_str(&c.out, ZM_T_USER, c.user)) != 0 ||
	    (r = zm_msg_add_str(&c.out, ZM_T_ZONE, c.conf->zone)) != 0 ||
	    (r = add_item(&c, ZM_T_SERVICE, PAM_SERVICE)) != 0 ||
	    (r = add_item(&c, ZM_T_TTY, PAM_TTY)) != 0 ||
	    (r = add_item(&c, ZM_T_RHOST, PAM_RHOST)) != 0) {
		zm_err("cannot encode the request: %s", zm_strerror(r));
		goto fail;
	}
	if ((r = ctx_send(&c)) != 0)
		goto fail;
	for (n = 0; n < ZM_MAX_REPLIES; n++) {
		if ((r = ctx_recv(&c, rep)) != 0)
			goto fail;
		switch (rep->type) {
		case ZM_REP_INFO:
			say(&c, PAM_TEXT_INFO, rep->msg, &rep->a);
			break;
		case ZM_REP_PROMPT:
			if (aborted) {
				zm_err("zonemfa-tokend prompted again after "
				    "no answer");
				goto fail;
			}
			if ((r = answer_prompt(&c, rep, &aborted)) != 0)
				goto fail;
			break;
		case ZM_REP_RESULT:
			pr = auth_result(&c, rep, aborted);
			goto out;
		default:
			zm_err("unexpected reply 0x%x from zonemfa-tokend",
			    (unsigned)rep->type);
			goto fail;
		}
	}
	zm_err("too many replies from zonemfa-tokend");
fail:
	say_unavailable(&c);
	pr = PAM_AUTHINFO_UNAVAIL;
out:
	if (rep != NULL)
		zm_freezero(rep, sizeof(*rep));
	ctx_free(&c);
	return pr;
}

int
zm_pam_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	/* The daemon holds no credential to establish or delete. */
	return PAM_SUCCESS;
}

/*
 * ACCOUNT for c->user: 0 with *pr PAM_SUCCESS or PAM_PERM_DENIED (the
 * refusal said), else the daemon could not be asked.
 */
static int
account_request(struct ctx *c, struct reply *rep, int *pr)
{
	int r;

	*pr = PAM_AUTH_ERR;
	if ((r = ctx_connect(c)) != 0)
		return r;
	if ((r = zm_msg_begin(&c->out, ZM_REQ_ACCOUNT)) != 0 ||
	    (r = zm_msg_add_str(&c->out, ZM_T_USER, c->user)) != 0 ||
	    (r = zm_msg_add_str(&c->out, ZM_T_ZONE, c->conf->zone)) != 0) {
		zm_err("cannot encode the request: %s", zm_strerror(r));
		return r;
	}
	if ((r = ctx_send(c)) != 0 || (r = ctx_result(c, rep)) != 0)
		return r;
	switch (rep->status) {
	case ZM_ST_OK:
		*pr = PAM_SUCCESS;
		return 0;
	case ZM_ST_PERM:
		zm_warn("zonemfa-tokend: uid %ld may not check %s",
		    (long)getuid(), c->user);
		/* FALLTHROUGH */
	case ZM_ST_DENIED:	/* zone access (allow_users, allow_groups) */
	case ZM_ST_DISABLED:
	case ZM_ST_DORMANT:
	case ZM_ST_LOCKED:
	case ZM_ST_REVOKED:
	case ZM_ST_NO_TOKEN:
		zm_debug("%s refused: %s", c->user,
		    zm_status_name((int)rep->status));
		say_refusal(c, rep);
		*pr = PAM_PERM_DENIED;
		return 0;
	default:
		zm_err("zonemfa-tokend could not check %s: %s", c->user,
		    zm_status_name((int)rep->status));
		return ZM_ERR_PROTO;
	}
}

int
zm_pam_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct ctx	 c;
	struct reply	*rep = NULL;
	int		 r, pr = PAM_AUTH_ERR;

	if ((r = ctx_init(&c, pamh, flags, argc, argv)) != 0)
		goto fail;
	if ((pr = ctx_user(&c)) != PAM_SUCCESS)
		goto out;
	if ((rep = calloc(1, sizeof(*rep))) == NULL) {
		zm_err("out of memory");
		goto fail;
	}
	if (account_request(&c, rep, &pr) == 0)
		goto out;
fail:
	say_unavailable(&c);
	pr = PAM_AUTH_ERR;
out:
	if (rep != NULL)
		zm_freezero(rep, sizeof(*rep));
	ctx_free(&c);
	return pr;
}

/* The zone's banner, in pieces applications do not cut (PAM_MAX_MSG_SIZE). */
static void
show_banner(struct ctx *c, const char *path)
{
	char	buf[ZM_BANNER_MAX + 1], save;
	size_t	off = 0, n;
	int	r;

	/* A missing or unsafe banner is logged there, and is not fatal. */
	r = zm_banner_load(path, buf, sizeof(buf));
	if (r != 0 && r != ZM_ERR_TOOBIG)
		return;
	while (buf[off] != '\0') {
		n = zm_message_chunk(buf + off, PAM_MAX_MSG_SIZE - 1);
		save = buf[off + n];
		buf[off + n] = '\0';
		(void)pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "%s", buf + off);
		buf[off + n] = save;
		off += n;
		/* The line end between two pieces is the message boundary. */
		if (buf[off] == '\n')
			off++;
	}
}

/*
 * The previous login: from the session reply (the daemon keeps it with
 * the ticket, so it reaches a client that authenticated in another
 * process), else from this process's auth phase.
 */
static void
show_last_login(struct ctx *c, const struct reply *rep)
{
	struct zm_lastlogin	 l;
	const void		*data = NULL;
	char			 text[PAM_MAX_MSG_SIZE];
	int			 r;

	if (rep->has_time) {
		memset(&l, 0, sizeof(l));
		l.when = rep->a.time;
		l.logout = rep->a.time2;
		l.failures = rep->count2;
		zm_message_copy(l.from, sizeof(l.from), rep->text2);
		data = &l;
	} else if (pam_get_data(c->pamh, ZM_DATA_LAST_LOGIN, &data) !=
	    PAM_SUCCESS || data == NULL)
		return;		/* not authenticated by this module */
	r = zm_message_last_login(data, text, sizeof(text));
	if (r == 0 || r == ZM_ERR_TOOBIG)
		(void)pam_prompt(c->pamh, PAM_TEXT_INFO, NULL, "%s", text);
}

static int
keep_session_id(struct ctx *c, uint64_t id)
{
	uint64_t	*p;

	if ((p = malloc(sizeof(*p))) == NULL)
		return ZM_ERR_NOMEM;
	*p = id;
	if (pam_set_data(c->pamh, ZM_DATA_SESSION_ID, p,
	    cleanup_free) != PAM_SUCCESS) {
		free(p);
		return ZM_ERR_NOMEM;
	}
	return ZM_OK;
}

int
zm_pam_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct ctx		 c;
	struct reply		*rep = NULL;
	const struct zm_zone	*zone;
	const void		*ticket = NULL;
	const char		*logind, *env;
	char			 envticket[ZM_IPC_MAX_STR + 1] = "";
	int			 r, pr = PAM_SESSION_ERR;

	if ((r = ctx_init(&c, pamh, flags, argc, argv)) != 0)
		goto fail;
	ctx_locale(&c);
	if (ctx_user(&c) != PAM_SUCCESS)
		goto fail;
	if ((rep = calloc(1, sizeof(*rep))) == NULL) {
		zm_err("out of memory");
		goto fail;
	}
	if ((r = ctx_connect(&c)) != 0)
		goto fail;
	if (pam_get_data(pamh, ZM_DATA_TICKET, &ticket) != PAM_SUCCESS)
		ticket = NULL;
	/* Authenticated in another process (sshd): the PAM environment. */
	if ((env = pam_getenv(pamh, ZM_ENV_TICKET)) != NULL) {
		if (ticket == NULL)
			zm_message_copy(envticket, sizeof(envticket), env);
		(void)pam_putenv(pamh, ZM_ENV_TICKET);	/* never to the user */
	}
	if (ticket == NULL && envticket[0] != '\0')
		ticket = envticket;
	logind = pam_getenv(pamh, "XDG_SESSION_ID");
	if ((r = zm_msg_begin(&c.out, ZM_REQ_SESSION_OPEN)) != 0 ||
	    (r = zm_msg_add_str(&c.out, ZM_T_USER, c.user)) != 0 ||
	    (r = zm_msg_add_str(&c.out, ZM_T_ZONE, c.conf->zone)) != 0 ||
	    (r = add_item(&c, ZM_T_TTY, PAM_TTY)) != 0 ||
	    (r = add_item(&c, ZM_T_RHOST, PAM_RHOST)) != 0 ||
	    (r = add_item(&c, ZM_T_SERVICE, PAM_SERVICE)) != 0 ||
	    (r = zm_msg_add_u32(&c.out, ZM_T_PID, (uint32_t)getpid())) != 0 ||
	    (logind != NULL && logind[0] != '\0' &&
	    (r = zm_msg_add_str(&c.out, ZM_T_LOGIND_ID, logind)) != 0) ||
	    (ticket != NULL &&
	    (r = zm_msg_add_str(&c.out, ZM_T_TICKET, ticket)) != 0)) {
		zm_err("cannot encode the request: %s", zm_strerror(r));
		zm_buf_reset(&c.out);
		goto fail;
	}
	if ((r = ctx_send(&c)) != 0 || (r = ctx_result(&c, rep)) != 0)
		goto fail;
	if (rep->status != ZM_ST_OK) {
		zm_err("zonemfa-tokend refused the session of %s: %s",
		    c.user, zm_status_name((int)rep->status));
		if (rep->msg != ZM_MSG_NONE)
			say_refusal(&c, rep);
		else
			say_unavailable(&c);
		goto out;
	}
	if (!rep->has_session_id) {
		zm_err("zonemfa-tokend opened a session without an id");
		goto fail;
	}
	if ((r = keep_session_id(&c, rep->session_id)) != 0) {
		zm_err("cannot keep the session id: %s", zm_strerror(r));
		goto fail;
	}
	/* The ticket is spent: do not keep a secret longer than needed. */
	(void)pam_set_data(pamh, ZM_DATA_TICKET, NULL, NULL);
	if (!(flags & PAM_SILENT)) {
		zone = zm_config_zone(c.conf, c.conf->zone);
		if (zone != NULL && zone->banner != NULL)
			show_banner(&c, zone->banner);
		show_last_login(&c, rep);
	}
	pr = PAM_SUCCESS;
	goto out;
fail:
	say_unavailable(&c);
	pr = PAM_SESSION_ERR;
out:
	if (rep != NULL)
		zm_freezero(rep, sizeof(*rep));
	zm_wipe(envticket, sizeof(envticket));
	ctx_free(&c);
	return pr;
}

int
zm_pam_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct ctx	 c;
	struct reply	*rep = NULL;
	const void	*data = NULL;
	uint64_t	 id;
	int		 r, pr = PAM_SESSION_ERR;

	if (pam_get_data(pamh, ZM_DATA_SESSION_ID, &data) != PAM_SUCCESS ||
	    data == NULL)
		return PAM_SUCCESS;	/* nothing was opened by us */
	memcpy(&id, data, sizeof(id));
	if ((r = ctx_init(&c, pamh, flags, argc, argv)) != 0)
		goto out;
	if ((rep = calloc(1, sizeof(*rep))) == NULL) {
		zm_err("out of memory");
		goto out;
	}
	if ((r = ctx_connect(&c)) != 0)
		goto out;
	if ((r = zm_msg_begin(&c.out, ZM_REQ_SESSION_CLOSE)) != 0 ||
	    (r = zm_msg_add_u64(&c.out, ZM_T_SESSION_ID, id)) != 0) {
		zm_err("cannot encode the request: %s", zm_strerror(r));
		goto out;
	}
	if ((r = ctx_send(&c)) != 0 || (r = ctx_result(&c, rep)) != 0)
		goto out;
	if (rep->status != ZM_ST_OK) {
		zm_err("zonemfa-tokend could not close session %llu: %s",
		    (unsigned long long)id, zm_status_name((int)rep->status));
		goto out;
	}
	(void)pam_set_data(pamh, ZM_DATA_SESSION_ID, NULL, NULL);
	pr = PAM_SUCCESS;
out:
	if (rep != NULL)
		zm_freezero(rep, sizeof(*rep));
	ctx_free(&c);
	return pr;
}
