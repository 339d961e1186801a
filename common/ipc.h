/*
 * ipc.h - the message codec between zonemfa clients (PAM module, tools)
 * and zonemfa-tokend.
 *
 * Wire format (all integers big-endian), over a SOCK_STREAM UNIX socket:
 *
 *   header (12 bytes):  u32 magic "ZMF1" | u16 version (1) | u16 type |
 *                       u32 body length (<= ZM_IPC_MAX_BODY)
 *   body:               a sequence of fields  u16 tag | u32 len | len bytes
 *
 * A field tag appears at most once; unknown tags are a protocol error.
 * Strings are sent without NUL, must not contain NUL and are at most
 * ZM_IPC_MAX_STR bytes.  Integers are fields of 4 (u32) or 8 (u64) bytes.
 * Decoded fields point into the caller's body buffer.
 */
#ifndef ZM_IPC_H
#define ZM_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ZM_IPC_MAGIC		0x5a4d4631u	/* "ZMF1" */
#define ZM_IPC_VERSION		1
#define ZM_IPC_HDR_LEN		12
#define ZM_IPC_MAX_BODY		(64u * 1024u)
#define ZM_IPC_MAX_FIELDS	32
#define ZM_IPC_MAX_STR		4096

/* Message types.  Requests < 0x100, replies >= 0x100. */
enum zm_msg_type {
	ZM_REQ_PING		= 0x01,
	ZM_REQ_AUTH_BEGIN	= 0x10,	/* USER ZONE [SERVICE TTY RHOST] */
	ZM_REQ_AUTH_ANSWER	= 0x11,	/* ANSWER | FLAGS(ZM_ANSWER_*) */
	ZM_REQ_ACCOUNT		= 0x12,	/* USER ZONE */
	ZM_REQ_SESSION_OPEN	= 0x13,	/* USER ZONE [TTY RHOST SERVICE PID LOGIND_ID TICKET] */
	ZM_REQ_SESSION_CLOSE	= 0x14,	/* SESSION_ID */
	ZM_REQ_PASSWORD_FAIL	= 0x15,	/* USER ZONE [SERVICE TTY RHOST]: count a wrong password */
	ZM_REQ_ENROLL_TOTP	= 0x20,	/* USER [ALGO DIGITS PERIOD LABEL] */
	ZM_REQ_LIST		= 0x21,	/* [USER] -> ROW... RESULT */
	ZM_REQ_UNLOCK		= 0x22,	/* USER */
	ZM_REQ_DISABLE		= 0x23,	/* USER */
	ZM_REQ_ENABLE		= 0x24,	/* USER */
	ZM_REQ_REVOKE		= 0x25,	/* USER (TOKEN_ID | SERIAL | ALL) REASON */
	ZM_REQ_USER_LIST	= 0x26,	/* [USER] -> ROW(USER TIME CREATED TIME2 FLAGS ...)... RESULT */
	ZM_REQ_TEMP_CODE	= 0x27,	/* USER DURATION -> RESULT TEXT=code TOKEN_ID TIME=expiry */
	ZM_REQ_TEMP_PASSWORD	= 0x28,	/* USER -> RESULT TEXT=password */
	ZM_REQ_AUDIT_HEAD	= 0x29,	/* -> RESULT SEQ TEXT=hash of that record */
	ZM_REQ_ENROLL_FIDO2	= 0x2a,	/* USER [LABEL] -> RESULT TOKEN_ID TEXT=ident LABEL */
	ZM_REQ_ENROLL_CARD	= 0x2b,	/* USER ANSWER(PIN) [READER FLAGS(ZM_ENROLL_*)] */
	ZM_REQ_IMPORT		= 0x2c,	/* DATA(CSV) [FLAGS(ZM_IMPORT_*)] -> ROW(COUNT=line USER KIND=action TEXT)... RESULT */

	ZM_REP_RESULT		= 0x100, /* STATUS [MSG TIME COUNT TEXT TICKET SESSION_ID ...] */
	ZM_REP_PROMPT		= 0x101, /* PROMPT MSG [ECHO COUNT] : answer with AUTH_ANSWER */
	ZM_REP_INFO		= 0x102, /* MSG [TIME COUNT TEXT] : show, no answer */
	ZM_REP_ROW		= 0x103, /* one row of a listing */
};

/* Field tags. */
enum zm_tag {
	ZM_T_USER	= 1,	/* str */
	ZM_T_ZONE	= 2,	/* str */
	ZM_T_SERVICE	= 3,	/* str */
	ZM_T_TTY	= 4,	/* str */
	ZM_T_RHOST	= 5,	/* str */
	ZM_T_ANSWER	= 6,	/* str, secret: wiped after use */
	ZM_T_FLAGS	= 7,	/* u32 */
	ZM_T_STATUS	= 8,	/* u32 enum zm_status */
	ZM_T_MSG	= 9,	/* u32 enum zm_msgid */
	ZM_T_PROMPT	= 10,	/* u32 enum zm_prompt */
	ZM_T_ECHO	= 11,	/* u32 bool */
	ZM_T_TIME	= 12,	/* u64 unix seconds (e.g. locked until) */
	ZM_T_COUNT	= 13,	/* u32 (tries left, sessions ended, ...) */
	ZM_T_TEXT	= 14,	/* str (URI, free text for tools) */
	ZM_T_TICKET	= 15,	/* str: auth ticket handed to the session phase */
	ZM_T_SESSION_ID	= 16,	/* u64 */
	ZM_T_PID	= 17,	/* u32 */
	ZM_T_LOGIND_ID	= 18,	/* str */
	ZM_T_TOKEN_ID	= 19,	/* u64 */
	ZM_T_SERIAL	= 20,	/* str: card serial */
	ZM_T_ALL	= 21,	/* u32 bool */
	ZM_T_REASON	= 22,	/* str */
	ZM_T_ALGO	= 23,	/* str: SHA1 SHA256 SHA512 */
	ZM_T_DIGITS	= 24,	/* u32: 6 or 8 */
	ZM_T_PERIOD	= 25,	/* u32 seconds */
	ZM_T_LABEL	= 26,	/* str */
	ZM_T_KIND	= 27,	/* str: totp card fido2 tempcode */
	ZM_T_STATE	= 28,	/* str: active revoked replaced suspended */
	ZM_T_CREATED	= 29,	/* u64 */
	ZM_T_LAST_USED	= 30,	/* u64 */
	ZM_T_TIME2	= 31,	/* u64: second time value (e.g. last logout) */
	ZM_T_TEXT2	= 32,	/* str: second text (e.g. from-host) */
	ZM_T_COUNT2	= 33,	/* u32 */
	ZM_T_DURATION	= 34,	/* u64 seconds (temp-code validity) */
	ZM_T_SEQ	= 35,	/* u64 audit sequence number */
	ZM_T_READER	= 36,	/* str: PC/SC reader name (substring) */
	ZM_T_DATA	= 37,	/* bytes: a file (import CSV), up to the body limit */
	ZM_T__MAX
};

/* ZM_T_FLAGS of a ZM_REQ_USER_LIST row */
#define ZM_USER_DISABLED	0x01u
#define ZM_USER_LOCKED		0x02u

/* ZM_T_FLAGS of ZM_REQ_AUTH_ANSWER */
#define ZM_ANSWER_NONE		0x01u	/* conversation failed or timed out: not a failure */
/* ZM_T_FLAGS of ZM_REQ_IMPORT */
#define ZM_IMPORT_DRY_RUN	0x01u	/* check and say what would change; change nothing */
/* ZM_T_FLAGS of ZM_REQ_ENROLL_CARD */
#define ZM_ENROLL_REPLACE	0x01u	/* replace-card: the old card becomes REPLACED */

/* Result status: what the daemon decided. */
enum zm_status {
	ZM_ST_OK = 0,
	ZM_ST_DENIED,		/* a proof failed (generic refusal) */
	ZM_ST_LOCKED,		/* TIME = until, 0 = until unlocked by helpdesk */
	ZM_ST_DISABLED,
	ZM_ST_DORMANT,
	ZM_ST_NO_TOKEN,		/* nothing enrolled that this zone accepts */
	ZM_ST_REVOKED,		/* the user's tokens are all revoked */
	ZM_ST_PERM,		/* caller not permitted */
	ZM_ST_SELF,		/* operator acting on own account (R10) */
	ZM_ST_NOTFOUND,
	ZM_ST_EXISTS,
	ZM_ST_INVALID,		/* malformed or unknown request / zone */
	ZM_ST_INTERNAL,		/* store or daemon failure: fail closed */
	ZM_ST_PARTIAL,		/* revoked, but sessions could not all be ended */
	ZM_ST_ABORTED,		/* conversation ended without an answer */
	ZM_ST__MAX
};

/* Prompt kinds. */
enum zm_prompt {
	ZM_PROMPT_OTP = 1,
	ZM_PROMPT_PIN = 2,
	ZM_PROMPT_CARD = 3,	/* insert card: answer is empty (enter) */
	ZM_PROMPT_TOUCH = 4,
	ZM_PROMPT_TEMPCODE = 5,
	ZM_PROMPT_MEMBER = 6,	/* shared account: who is at the terminal (echo on) */
};

/*
 * Message ids: the daemon says what happened, the PAM module says it in the
 * user's language (pam_module/messages.c).  Never reorder: append only.
 */
enum zm_msgid {
	ZM_MSG_NONE = 0,
	ZM_MSG_AUTH_FAILED,	/* generic refusal */
	ZM_MSG_ENTER_OTP,	/* prompt */
	ZM_MSG_WRONG_CODE,	/* COUNT = tries left before lock (0 = not shown) */
	ZM_MSG_CODE_USED,	/* replayed TOTP code */
	ZM_MSG_LOCKED_UNTIL,	/* TIME */
	ZM_MSG_LOCKED_HELPDESK,
	ZM_MSG_NO_TOKEN,
	ZM_MSG_TOKEN_REVOKED,
	ZM_MSG_DISABLED,
	ZM_MSG_DORMANT,
	ZM_MSG_UNKNOWN_ZONE,
	ZM_MSG_NOT_PERMITTED,
	ZM_MSG_INTERNAL,	/* "the login service has a problem" */
	ZM_MSG_LAST_LOGIN,	/* TIME=last login, TEXT=from, TIME2=last logout, COUNT=failures since */
	ZM_MSG_FIRST_LOGIN,
	ZM_MSG_ENTER_PIN,	/* COUNT = tries left */
	ZM_MSG_INSERT_CARD,
	ZM_MSG_TOUCH_KEY,
	ZM_MSG_PIN_TRIES_LEFT,	/* COUNT */
	ZM_MSG_PIN_BLOCKED,
	ZM_MSG_ENTER_TEMPCODE,
	ZM_MSG_CARD_NOT_FOUND,	/* no enrolled kind of card in any reader */
	ZM_MSG_PIN_LAST_TRY,	/* info: one PIN try left, a wrong one blocks */
	ZM_MSG_CARD_UNAVAILABLE, /* the card service (pcscd) cannot be reached */
	ZM_MSG_CARD_REFUSED,	/* the card did not prove its key (COUNT = tries left) */
	ZM_MSG_CARD_ID_ONLY,	/* an ID-only card (FeliCa IDm, MIFARE UID): not a proof */
	ZM_MSG_ENTER_KEY_PIN,	/* prompt: security key PIN, COUNT = tries left */
	ZM_MSG_KEY_PIN_WRONG,	/* COUNT = the key's PIN tries left */
	ZM_MSG_KEY_PIN_BLOCKED,	/* the security key's PIN is blocked */
	ZM_MSG_KEY_NOT_FOUND,	/* no security key plugged in */
	ZM_MSG_LOGIN_EXPIRED,	/* session refused: its login cannot be used */
	ZM_MSG_TEMPCODE_USED,	/* the user's temporary code was already used */
	ZM_MSG_ZONE_DENIED,	/* not in allow_users / allow_groups */
	ZM_MSG_CARD_CMD_REFUSED, /* the card refused a command (a status word) */
	ZM_MSG_ENTER_MEMBER,	/* prompt: your own user name (shared account) */
	ZM_MSG_NOT_MEMBER,	/* not a listed user of this shared account */
	ZM_MSG__MAX
};

struct zm_field {
	uint16_t	 tag;
	uint32_t	 len;
	const uint8_t	*val;
};

struct zm_msg {
	uint16_t	type;
	size_t		n;
	struct zm_field	f[ZM_IPC_MAX_FIELDS];
};

/* ---- building (values are copied into out by zm_msg_encode) ---- */

/* An encoder writes directly into a zm_buf: begin, add fields, end. */
int zm_msg_begin(struct zm_buf *out, uint16_t type);
int zm_msg_add_str(struct zm_buf *out, uint16_t tag, const char *s);
int zm_msg_add_bytes(struct zm_buf *out, uint16_t tag, const void *p, size_t n);
int zm_msg_add_u32(struct zm_buf *out, uint16_t tag, uint32_t v);
int zm_msg_add_u64(struct zm_buf *out, uint16_t tag, uint64_t v);
/* Patches the body length into the header; checks the size cap. */
int zm_msg_end(struct zm_buf *out);

/* ---- parsing ---- */

/* Parse a 12-byte header: checks magic, version and the body cap. */
int zm_msg_parse_header(const uint8_t *hdr, size_t len, uint16_t *type,
    uint32_t *body_len);
/* Parse a body into m (fields point into body). */
int zm_msg_parse_body(uint16_t type, const uint8_t *body, size_t len,
    struct zm_msg *m);
/* Whole message (header + body) in one buffer, e.g. for the fuzzer. */
int zm_msg_parse(const uint8_t *p, size_t len, struct zm_msg *m);
/*
 * For a non-blocking reader: given the first avail bytes received, is a
 * whole frame (header + body) there?  ZM_OK: yes, *framelen bytes (pass
 * them to zm_msg_parse()).  ZM_ERR_TRUNCATED: read more; *framelen is the
 * full frame length once the 12-byte header is in, else 0.
 * ZM_ERR_PROTO (bad magic or version, noticed from the first bytes on) or
 * ZM_ERR_TOOBIG (body over the cap): drop the connection.
 */
int zm_msg_frame_len(const uint8_t *p, size_t avail, size_t *framelen);

/* Getters: ZM_ERR_NOTFOUND when absent, ZM_ERR_PROTO when malformed. */
const struct zm_field *zm_msg_find(const struct zm_msg *m, uint16_t tag);
/* Copies a string into out (NUL-terminated); ZM_ERR_TOOBIG if it does not fit. */
int zm_msg_get_str(const struct zm_msg *m, uint16_t tag, char *out, size_t outlen);
int zm_msg_get_u32(const struct zm_msg *m, uint16_t tag, uint32_t *v);
int zm_msg_get_u64(const struct zm_msg *m, uint16_t tag, uint64_t *v);

/* ---- transport (blocking, with a timeout in ms; -1 = none) ---- */

/* Connect to the daemon's socket.  ZM_ERR_UNAVAILABLE if it is not there. */
int zm_ipc_connect(const char *path, int *fd);
int zm_ipc_send(int fd, const struct zm_buf *msg, int timeout_ms);
/* Reads one message into body (reset first) and parses it into m. */
int zm_ipc_recv(int fd, struct zm_buf *body, struct zm_msg *m, int timeout_ms);

const char *zm_status_name(int status);	/* "ok", "denied", ... */

#endif
