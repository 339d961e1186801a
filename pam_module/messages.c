/*
 * messages.c - the user-visible words of pam_zonemfa, through gettext.
 *
 * Refusals say why in words a member of staff understands, and what to do
 * next; they never say whether an account exists (the daemon decides which
 * message an outsider gets).
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s)	dgettext(ZM_TEXTDOMAIN, s)
#else
#define _(s)	(s)
#define dngettext(d, s, p, n)	((n) == 1 ? (s) : (p))
#endif
#define N_(s)	s

#include "err.h"
#include "ipc.h"
#include "log.h"
#include "messages.h"

static pthread_once_t	textdomain_once = PTHREAD_ONCE_INIT;

static void
bind_domain(void)
{
#ifdef ENABLE_NLS
	/*
	 * No bind_textdomain_codeset(): gettext converts to the codeset of
	 * the host program's locale, which is what its terminal shows.
	 */
	(void)bindtextdomain(ZM_TEXTDOMAIN, LOCALEDIR);
#endif
}

void
zm_messages_init(void)
{
	(void)pthread_once(&textdomain_once, bind_domain);
}

/* Messages without arguments. */
static const char *const fixed[ZM_MSG__MAX] = {
	[ZM_MSG_AUTH_FAILED] = N_("Authentication failed."),
	[ZM_MSG_ENTER_OTP] = N_("One-time code: "),
	[ZM_MSG_CODE_USED] =
	    N_("This code has already been used. Wait for the next code."),
	[ZM_MSG_LOCKED_HELPDESK] =
	    N_("Account locked. Contact the helpdesk to unlock it."),
	[ZM_MSG_NO_TOKEN] = N_("No token is enrolled for this terminal's "
	    "zone; contact the helpdesk."),
	[ZM_MSG_TOKEN_REVOKED] =
	    N_("Your token has been revoked; contact the helpdesk."),
	[ZM_MSG_DISABLED] = N_("Account disabled; contact the helpdesk."),
	[ZM_MSG_DORMANT] = N_("Account not used for a long time (dormant); "
	    "contact the helpdesk."),
	[ZM_MSG_UNKNOWN_ZONE] = N_("This terminal's zone is not known to the "
	    "login service; contact the helpdesk."),
	[ZM_MSG_NOT_PERMITTED] =
	    N_("This program is not permitted to log in that user."),
	[ZM_MSG_INTERNAL] = N_("The login service is unavailable; contact "
	    "the helpdesk."),
	[ZM_MSG_FIRST_LOGIN] = N_("This is your first login."),
	[ZM_MSG_INSERT_CARD] = N_("Insert your IC card and press Enter: "),
	[ZM_MSG_TOUCH_KEY] = N_("Touch your security key."),
	[ZM_MSG_PIN_BLOCKED] =
	    N_("The PIN of your card is blocked; contact the helpdesk."),
	[ZM_MSG_ENTER_TEMPCODE] = N_("Temporary code from the helpdesk: "),
	[ZM_MSG_CARD_NOT_FOUND] = N_("No enrolled IC card was found in the "
	    "card reader."),
	[ZM_MSG_PIN_LAST_TRY] = N_("PIN: 1 try left. A wrong PIN now blocks "
	    "your card."),
	[ZM_MSG_CARD_UNAVAILABLE] = N_("The card reader service is not "
	    "available; card login is not possible now."),
	[ZM_MSG_CARD_REFUSED] = N_("This IC card is not enrolled for you, or "
	    "it did not prove its key."),
	[ZM_MSG_CARD_ID_ONLY] = N_("This card only offers an ID number, which "
	    "anyone can copy: it cannot be used to log in."),
	[ZM_MSG_KEY_PIN_BLOCKED] = N_("The PIN of your security key is "
	    "blocked; contact the helpdesk."),
	[ZM_MSG_KEY_NOT_FOUND] = N_("No security key is plugged in. Plug in "
	    "your key and log in again."),
	[ZM_MSG_LOGIN_EXPIRED] = N_("This login has expired or cannot be "
	    "used for this session. Please log in again."),
	[ZM_MSG_TEMPCODE_USED] = N_("This temporary code has already been "
	    "used; each code works once. Ask the helpdesk for a new one."),
	[ZM_MSG_ZONE_DENIED] = N_("You are not permitted to log in to this "
	    "network zone. If your work needs it, ask your department to "
	    "apply for access."),
	[ZM_MSG_CARD_CMD_REFUSED] = N_("The IC card refused a command. Take "
	    "it out, insert it again and retry; if this happens again, "
	    "contact the helpdesk."),
	[ZM_MSG_ENTER_MEMBER] = N_("This is a shared account. Your own user "
	    "name: "),
	[ZM_MSG_NOT_MEMBER] = N_("You are not a registered user of this "
	    "shared account."),
};

/* The module's own messages, indexed from ZM_PMSG_UNAVAILABLE. */
static const char *const own[ZM_PMSG__END - ZM_PMSG_UNAVAILABLE] = {
	[ZM_PMSG_UNAVAILABLE - ZM_PMSG_UNAVAILABLE] =
	    N_("The login service is unavailable; contact the helpdesk."),
	[ZM_PMSG_ABORTED - ZM_PMSG_UNAVAILABLE] =
	    N_("No answer was given; login cancelled."),
	[ZM_PMSG_BAD_USER - ZM_PMSG_UNAVAILABLE] =
	    N_("Authentication failed."),
};

static int
put(char *out, size_t outlen, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends to out at *off; ZM_ERR_TOOBIG on truncation (out stays a string). */
static int
put(char *out, size_t outlen, size_t *off, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (outlen == 0 || *off >= outlen)
		return ZM_ERR_TOOBIG;
	va_start(ap, fmt);
	n = vsnprintf(out + *off, outlen - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ZM_ERR_INTERNAL;
	if ((size_t)n >= outlen - *off) {
		*off = outlen - 1;
		return ZM_ERR_TOOBIG;
	}
	*off += (size_t)n;
	return ZM_OK;
}

void
zm_message_sanitize(char *s)
{
	/* Text from the daemon or a file must not drive the terminal. */
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

void
zm_message_copy(char *dst, size_t dstlen, const char *src)
{
	size_t	n;

	if (dstlen == 0)
		return;
	n = strnlen(src, dstlen);
	if (n == dstlen) {
		/* A host name cut to fit is still worth showing, but whole. */
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int
zm_format_time(uint64_t t, int with_date, char *out, size_t outlen)
{
	struct tm	tm, now_tm;
	time_t		tt, now;
	int		today = 0;

	if (outlen == 0)
		return ZM_ERR_TOOBIG;
	out[0] = '\0';
	if (t > (uint64_t)INT64_MAX)
		return ZM_ERR_INVALID;
	tt = (time_t)t;
	if (localtime_r(&tt, &tm) == NULL)
		return ZM_ERR_INVALID;
	if (!with_date) {
		now = time(NULL);
		/* A lock that ends tomorrow needs its date to be understood. */
		if (localtime_r(&now, &now_tm) != NULL &&
		    now_tm.tm_year == tm.tm_year && now_tm.tm_yday == tm.tm_yday)
			today = 1;
	}
	if (strftime(out, outlen, today ? "%H:%M" : "%Y-%m-%d %H:%M",
	    &tm) == 0) {
		out[0] = '\0';
		return ZM_ERR_TOOBIG;
	}
	return ZM_OK;
}

int
zm_message_last_login(const struct zm_lastlogin *l, char *out, size_t outlen)
{
	char	when[32], logout[32], from[sizeof(l->from)];
	size_t	off = 0;
	int	r = ZM_ERR_INTERNAL;

	zm_messages_init();
	if (outlen == 0)
		return ZM_ERR_TOOBIG;
	out[0] = '\0';
	if (l->when == 0) {
		if ((r = put(out, outlen, &off, "%s",
		    _("This is your first login."))) != 0)
			return r;
		if (l->failures > 0 && (r = put(out, outlen, &off,
		    dngettext(ZM_TEXTDOMAIN,
		    " %u failed attempt before it.",
		    " %u failed attempts before it.", l->failures),
		    l->failures)) != 0)
			return r;
		return ZM_OK;
	}
	if ((r = zm_format_time(l->when, 1, when, sizeof(when))) != 0)
		return r;
	memcpy(from, l->from, sizeof(from));
	from[sizeof(from) - 1] = '\0';
	zm_message_sanitize(from);
	if (from[0] != '\0')
		r = put(out, outlen, &off, _("Last login: %s from %s"),
		    when, from);
	else
		r = put(out, outlen, &off, _("Last login: %s"), when);
	if (r != 0)
		return r;
	if (l->logout != 0) {
		if ((r = zm_format_time(l->logout, 1, logout,
		    sizeof(logout))) != 0)
			return r;
		if ((r = put(out, outlen, &off, _("; last logout: %s"),
		    logout)) != 0)
			return r;
	}
	return put(out, outlen, &off, dngettext(ZM_TEXTDOMAIN,
	    "; %u failed attempt since.", "; %u failed attempts since.",
	    l->failures), l->failures);
}

int
zm_message_prompt_default(uint32_t prompt_kind)
{
	switch (prompt_kind) {
	case ZM_PROMPT_PIN:
		return ZM_MSG_ENTER_PIN;
	case ZM_PROMPT_CARD:
		return ZM_MSG_INSERT_CARD;
	case ZM_PROMPT_TOUCH:
		return ZM_MSG_TOUCH_KEY;
	case ZM_PROMPT_TEMPCODE:
		return ZM_MSG_ENTER_TEMPCODE;
	case ZM_PROMPT_MEMBER:
		return ZM_MSG_ENTER_MEMBER;
	case ZM_PROMPT_OTP:
	default:
		return ZM_MSG_ENTER_OTP;
	}
}

int
zm_message_status_default(uint32_t status, uint64_t time)
{
	switch (status) {
	case ZM_ST_OK:
		return ZM_MSG_NONE;
	case ZM_ST_LOCKED:
		return time != 0 ? ZM_MSG_LOCKED_UNTIL : ZM_MSG_LOCKED_HELPDESK;
	case ZM_ST_DISABLED:
		return ZM_MSG_DISABLED;
	case ZM_ST_DORMANT:
		return ZM_MSG_DORMANT;
	case ZM_ST_NO_TOKEN:
		return ZM_MSG_NO_TOKEN;
	case ZM_ST_REVOKED:
		return ZM_MSG_TOKEN_REVOKED;
	case ZM_ST_PERM:
		return ZM_MSG_NOT_PERMITTED;
	case ZM_ST_ABORTED:
		return ZM_PMSG_ABORTED;
	case ZM_ST_INVALID:
	case ZM_ST_INTERNAL:
		return ZM_PMSG_UNAVAILABLE;
	case ZM_ST_DENIED:
	default:
		return ZM_MSG_AUTH_FAILED;
	}
}

/* Messages with arguments; -1 when id is not one of them. */
static int
format_with_args(int id, const struct zm_msgargs *a, char *out,
    size_t outlen)
{
	struct zm_lastlogin	l;
	char			until[32];
	size_t			off = 0;

	switch (id) {
	case ZM_MSG_WRONG_CODE:
		if (!a->has_count || a->count == 0)
			return put(out, outlen, &off, "%s",
			    _("Wrong one-time code."));
		return put(out, outlen, &off, dngettext(ZM_TEXTDOMAIN,
		    "Wrong one-time code. %u attempt left before the account "
		    "is locked.",
		    "Wrong one-time code. %u attempts left before the account "
		    "is locked.", a->count), a->count);
	case ZM_MSG_LOCKED_UNTIL:
		if (a->time == 0 ||
		    zm_format_time(a->time, 0, until, sizeof(until)) != 0)
			return put(out, outlen, &off, "%s",
			    _(fixed[ZM_MSG_LOCKED_HELPDESK]));
		return put(out, outlen, &off, _("Account locked until %s. "
		    "Contact the helpdesk to unlock it sooner."), until);
	case ZM_MSG_ENTER_PIN:
		if (!a->has_count || a->count == 0)
			return put(out, outlen, &off, "%s", _("PIN: "));
		return put(out, outlen, &off, dngettext(ZM_TEXTDOMAIN,
		    "PIN (%u try left): ", "PIN (%u tries left): ", a->count),
		    a->count);
	case ZM_MSG_ENTER_KEY_PIN:
		/* The touch comes after the PIN: say so, nothing else will. */
		if (!a->has_count || a->count == 0)
			return put(out, outlen, &off, "%s",
			    _("PIN of your security key (then touch the "
			    "key): "));
		return put(out, outlen, &off, dngettext(ZM_TEXTDOMAIN,
		    "PIN of your security key, %u try left (then touch the "
		    "key): ",
		    "PIN of your security key, %u tries left (then touch the "
		    "key): ", a->count), a->count);
	case ZM_MSG_KEY_PIN_WRONG:
		if (!a->has_count || a->count == 0)
			return put(out, outlen, &off, "%s",
			    _("Wrong security key PIN."));
		return put(out, outlen, &off, dngettext(ZM_TEXTDOMAIN,
		    "Wrong security key PIN. %u try left before the key's PIN "
		    "is blocked.",
		    "Wrong security key PIN. %u tries left before the key's "
		    "PIN is blocked.", a->count), a->count);
	case ZM_MSG_PIN_TRIES_LEFT:
		if (!a->has_count || a->count == 0)
			return put(out, outlen, &off, "%s", _("Wrong PIN."));
		return put(out, outlen, &off, dngettext(ZM_TEXTDOMAIN,
		    "Wrong PIN. %u try left before the card is blocked.",
		    "Wrong PIN. %u tries left before the card is blocked.",
		    a->count), a->count);
	case ZM_MSG_LAST_LOGIN:
		memset(&l, 0, sizeof(l));
		l.when = a->time;
		l.logout = a->time2;
		l.failures = a->count;
		if (a->text != NULL)
			zm_message_copy(l.from, sizeof(l.from), a->text);
		return zm_message_last_login(&l, out, outlen);
	default:
		return -1;
	}
}

int
zm_message_format(int id, const struct zm_msgargs *a, char *out,
    size_t outlen)
{
	static const struct zm_msgargs	none;
	size_t				off = 0;
	int				r;

	zm_messages_init();
	if (outlen == 0)
		return ZM_ERR_TOOBIG;
	out[0] = '\0';
	if (a == NULL)
		a = &none;
	if ((r = format_with_args(id, a, out, outlen)) != -1)
		return r;
	if (id > ZM_MSG_NONE && id < ZM_MSG__MAX && fixed[id] != NULL)
		return put(out, outlen, &off, "%s", _(fixed[id]));
	if (id >= ZM_PMSG_UNAVAILABLE && id < ZM_PMSG__END)
		return put(out, outlen, &off, "%s",
		    _(own[id - ZM_PMSG_UNAVAILABLE]));
	return ZM_ERR_NOTFOUND;
}

/* Length of s[0..len) without a UTF-8 character cut at its end. */
static size_t
utf8_whole(const char *s, size_t len)
{
	size_t		i = len, need;
	unsigned char	c;

	while (i > 0 && len - i < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return len;
	c = (unsigned char)s[i - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return len - (i - 1) < need ? i - 1 : len;
}

size_t
zm_message_chunk(const char *text, size_t max)
{
	size_t	len, cut;

	if ((len = strnlen(text, max + 1)) <= max)
		return len;
	cut = max;
	while (cut > 0 && text[cut - 1] != '\n')
		cut--;
	if (cut > 1)
		return cut - 1;		/* without the line end */
	cut = max;
	while (cut > 1 && ((unsigned char)text[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

int
zm_banner_load(const char *path, char *out, size_t outlen)
{
	struct stat	st;
	size_t		len = 0, i;
	ssize_t		n;
	int		fd = -1, r = ZM_ERR_INTERNAL;

	if (outlen == 0)
		return ZM_ERR_TOOBIG;
	out[0] = '\0';
	/* O_NONBLOCK: a FIFO put in its place must not hang the login. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		zm_warn("banner %s: %s", path, strerror(errno));
		return errno == ENOENT ? ZM_ERR_NOTFOUND : ZM_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		zm_warn("banner %s: not a regular file", path);
		r = ZM_ERR_INVALID;
		goto out;
	}
	while (len < outlen - 1) {
		n = read(fd, out + len, outlen - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			zm_warn("banner %s: %s", path, strerror(errno));
			r = ZM_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = ZM_OK;
	if (len == outlen - 1 && st.st_size > (off_t)len) {
		zm_warn("banner %s: longer than %zu bytes, cut", path, len);
		r = ZM_ERR_TOOBIG;
		len = utf8_whole(out, len);
	}
	/* Keep line breaks and tabs; drop NULs and terminal escapes. */
	for (i = 0; i < len; i++)
		if (((unsigned char)out[i] < 0x20 && out[i] != '\n' &&
		    out[i] != '\t') || out[i] == 0x7f)
			out[i] = '?';
	while (len > 0 && out[len - 1] == '\n')
		len--;
	out[len] = '\0';
out:
	if (r != ZM_OK && r != ZM_ERR_TOOBIG)
		out[0] = '\0';
	(void)close(fd);
	return r;
}
