/*
 * messages.h - what the PAM module says to the user, in the user's language.
 *
 * The daemon only sends message ids (enum zm_msgid in ipc.h) and their
 * arguments; every word the user reads is produced here through gettext
 * (text domain "zonemfa"), so the daemon never needs to know the locale.
 */
#ifndef ZM_MESSAGES_H
#define ZM_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#define ZM_TEXTDOMAIN		"zonemfa"

/*
 * The module's own messages, numbered apart from the daemon's ids so the
 * two ranges never collide when enum zm_msgid grows.
 */
enum zm_pam_msgid {
	ZM_PMSG_UNAVAILABLE = 0x1000,	/* technical refusal: fail closed */
	ZM_PMSG_ABORTED,		/* no answer given */
	ZM_PMSG_BAD_USER,		/* user name unusable */
	ZM_PMSG__END
};

/* Arguments a message may use; unused ones are ignored. */
struct zm_msgargs {
	uint64_t	 time;		/* ZM_T_TIME: 0 = not set */
	uint64_t	 time2;		/* ZM_T_TIME2: 0 = not set */
	uint32_t	 count;		/* ZM_T_COUNT */
	int		 has_count;	/* ZM_T_COUNT was sent */
	const char	*text;		/* ZM_T_TEXT or NULL */
};

/* What the module remembers from a successful authentication. */
struct zm_lastlogin {
	uint64_t	when;		/* previous successful login; 0 = never */
	uint64_t	logout;		/* previous logout; 0 = none recorded */
	uint32_t	failures;	/* failed attempts since that login */
	char		from[256];	/* host or terminal; "" = unknown */
};

/* Binds the text domain once per process (thread safe). */
void zm_messages_init(void);

/*
 * Formats message id (a zm_msgid or a zm_pam_msgid) into out.
 * ZM_ERR_NOTFOUND for ZM_MSG_NONE or an id this module does not know,
 * ZM_ERR_TOOBIG when out is too small (out then holds a truncated text).
 */
int zm_message_format(int id, const struct zm_msgargs *a, char *out,
    size_t outlen);

/* The message id of the default prompt for a prompt kind (enum zm_prompt). */
int zm_message_prompt_default(uint32_t prompt_kind);

/* The message id shown for a result status when the daemon sent none. */
int zm_message_status_default(uint32_t status, uint64_t time);

/*
 * "Last login: ... from ...; last logout: ...; N failed attempts since."
 * or "This is your first login.".
 */
int zm_message_last_login(const struct zm_lastlogin *l, char *out,
    size_t outlen);

/* Copies src into dst, cut to fit without splitting a UTF-8 character. */
void zm_message_copy(char *dst, size_t dstlen, const char *src);

/* Replaces control characters (terminal escapes) in s with '?'. */
void zm_message_sanitize(char *s);

/*
 * Local time: "HH:MM" when with_date is 0 and t is today,
 * "YYYY-MM-DD HH:MM" otherwise.
 */
int zm_format_time(uint64_t t, int with_date, char *out, size_t outlen);

/*
 * Length of the next piece of text for one message of at most max bytes:
 * all of it when it fits, else up to (without) a line end, else cut
 * between two UTF-8 characters.  The caller skips a '\n' after the piece.
 */
size_t zm_message_chunk(const char *text, size_t max);

/*
 * Reads a banner file into out: a regular file, not a symbolic link (it is
 * shown to everyone who logs in), at most outlen - 1 bytes (longer: cut at
 * a character boundary, ZM_ERR_TOOBIG).  Control characters other than
 * newline and tab become '?'; trailing newlines are dropped.  Problems are
 * logged.
 */
int zm_banner_load(const char *path, char *out, size_t outlen);

#endif
