/*
 * tokend.h - the daemon's shared state and the interfaces between its parts.
 *
 *   main.c     options, config, start-up, signals (self-pipe)
 *   server.c   event loop, SO_PEERCRED, dispatch table with per-request
 *              permission flags, fair turns (server_socket.c: the UNIX
 *              socket; ratelimit.c: per-uid caps and rate; reply.c)
 *   peer.c     caller identity and group membership (NSS)
 *   admin.c    enrol / list / unlock / disable / enable / revoke handlers
 *   session.c  session open/close, ending sessions (revocation, limits)
 *   auth.c     the authentication conversation (auth_account.c: the
 *              account check; auth_card.c, auth_fido2.c: the factors)
 *   fido2.c    FIDO2 keys (libfido2); fido2_login.c: a login's key
 *              conversation in a worker thread, bounded by fido_timeout
 *   ticket.c   auth tickets handed from the auth phase to the session phase
 *   policy.c   zone policy engine;  totp.c  liboath;  crypto.c  AES-GCM
 *   audit.c    hash-chained audit log;  store*.c  the registry
 */
#ifndef ZM_TOKEND_H
#define ZM_TOKEND_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "ipc.h"
#include "names.h"

struct zm_store;
struct zm_audit;
struct zm_ticket_table;
struct zm_fido;
struct zm_cardwatch;

struct zm_tokend {
	struct zm_config	*cfg;
	struct zm_store		*st;
	struct zm_audit		*audit;
	struct zm_key		 key;
	struct zm_ticket_table	*tickets;
	struct zm_fido		*fido;		/* FIDO2 keys (fido2.c) */
	struct zm_cardwatch	*cardwatch;	/* card removal (cardwatch.c) */
	int			 debug;
	unsigned		 end_grace_ms;	/* SIGHUP -> SIGTERM grace (default 2000) */
	int64_t			*ending_ids;	/* sessions being ended (ending.c) */
	size_t			 n_ending, cap_ending;
	int64_t			 sweep_next;	/* limits.c: next state sweep, 0: now */
};

/* The caller on the other end of a connection (from SO_PEERCRED). */
struct zm_peer {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
	char	name[ZM_NAME_MAX];	/* "" if the uid has no passwd entry */
	int	is_root;
	int	is_helpdesk;		/* member of helpdesk_group */
	int	is_admin;		/* member of admin_group */
	int	groups_loaded;		/* is_helpdesk/is_admin are valid */
};

/* ---- peer.c ---- */
/* Fill p from uid/gid/pid: resolve name and group membership via NSS. */
int zm_peer_identify(const struct zm_config *cfg, uid_t uid, gid_t gid,
    pid_t pid, struct zm_peer *p);
/*
 * Resolve is_helpdesk/is_admin afresh for each request that needs them (a
 * member taken out of a group loses its powers on an open connection too);
 * only such requests pay for it: group lookups go through NSS (files,
 * systemd-userdb, LDAP...) and cost far more than a login itself.
 */
void zm_peer_load_groups(const struct zm_config *cfg, struct zm_peer *p);
/* 1 if user is a member (primary or supplementary) of group, else 0. */
int zm_user_in_group(const char *user, const char *group);
/* The same, or -1 when NSS cannot answer. */
int zm_user_in_group_r(const char *user, const char *group);
/*
 * Zone access (allow_users / allow_groups) through NSS: ZM_OK, ZM_ERR_PERM
 * (not allowed) or an NSS error (cannot tell).  See zm_policy_zone_access().
 */
int zm_user_zone_access(const char *user, const struct zm_zone *z);
/*
 * A warning in warns for each allow_groups name NSS does not know: the
 * group may come from a directory that is down, so it is no error; it
 * lets nobody in until it exists.
 */
struct zm_errlist;
int zm_zone_access_warnings(const struct zm_config *cfg,
    struct zm_errlist *warns);
/* 1 if user is in any of the zone's privileged_groups. */
int zm_user_privileged(const char *user, const struct zm_zone *z);
/*
 * May operator peer act on user's account (enrol, unlock, disable, enable,
 * temporary credentials, revoke)?  The one place of the operator rules:
 * - ZM_ST_SELF for the operator's own account, by name or by uid (R10),
 *   except with ZM_OP_REVOKE: one's own loss report is ZM_ST_OK with
 *   *why = ZM_OP_SELF_REVOKE (audit it as such);
 * - ZM_ST_PERM for a uid 0 account unless the operator is root;
 * - ZM_ST_PERM for a staff account (helpdesk_group or admin_group) unless
 *   the operator is root or in admin_group;
 * - with ZM_OP_PASSWORD, ZM_ST_PERM for system accounts (root excepted)
 *   and for privileged users unless the operator is root or in admin_group.
 * *why is the audit reason.  peer's groups must be loaded (staff requests).
 */
#define ZM_UID_MIN		1000
#define ZM_OP_PASSWORD		0x01u	/* sets a password */
#define ZM_OP_REVOKE		0x02u	/* revoke: own tokens allowed */
#define ZM_OP_SELF_REVOKE	"self: own token (loss report)"
int zm_operator_check(const struct zm_config *cfg, const struct zm_peer *peer,
    const char *user, unsigned flags, const char **why);
/* 1 if the user exists in the passwd database. */
int zm_user_exists(const char *user);

/* ---- auth.c ---- */
struct zm_auth;
/*
 * Start an authentication for req (ZM_REQ_AUTH_BEGIN) from peer.  Appends
 * one or more reply messages (INFO..., then PROMPT or RESULT) to reply.
 * When a PROMPT is appended *state holds the conversation; otherwise
 * *state is NULL and the conversation is over.
 * Permission (root: any user; others: only themselves) is checked here.
 */
int zm_auth_begin(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_auth **state, struct zm_buf *reply);
/* Continue with an ZM_REQ_AUTH_ANSWER.  Frees and NULLs *state when over. */
int zm_auth_answer(struct zm_tokend *d, struct zm_auth **state,
    const struct zm_msg *req, struct zm_buf *reply);
/* Connection closed mid-conversation: not a failure (audited as aborted). */
void zm_auth_abort(struct zm_tokend *d, struct zm_auth *state);
/* ZM_REQ_PASSWORD_FAIL: a wrong password, counted like any failure (R13). */
int zm_auth_password_fail(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/* ZM_REQ_ACCOUNT: disabled, dormant, locked, revoked-only. */
int zm_account_check(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);

/* ---- ticket.c ---- */
int zm_tickets_new(struct zm_ticket_table **out);
void zm_tickets_free(struct zm_ticket_table *t);
/* zm_ticket_issue_at() / zm_ticket_take_at() (auth_impl.h) at the current time. */

/* ---- mono.c ---- */
int64_t zm_mono_ms(void);		/* CLOCK_MONOTONIC in ms */
void zm_sleep_ms(unsigned ms);		/* nanosleep, resumed after signals */

/* ---- paths.c ---- */
/*
 * Create what is missing of file's directory (the last component with
 * mode, the others 0755).  On error why says which path and what.
 */
int zm_paths_prepare(const char *file, mode_t mode, char *why,
    size_t whylen);

/* ---- recover.c ---- */
/*
 * Write the audit records of revocations and disables the registry holds
 * but a crash kept out of the audit log; *recovered counts them.
 */
int zm_recover_audit(struct zm_tokend *d, unsigned *recovered);

/* ---- session.c ---- */
/*
 * 1 if a session opened with t may run: t is active, or a temporary code
 * spent ("used") by the login that opened it.
 */
struct zm_token;
int zm_token_holds_session(const struct zm_token *t);
/*
 * May a session of user in zone (NULL: not checked) opened with token_id
 * (0: none) run on?  why is "" when it may, else what ends it:
 * "disabled", ZM_ZONE_ACCESS_ENDED (no longer in the zone's allow_users /
 * allow_groups), "revoked:REASON", "replaced:...", "suspended:...",
 * "revoked:gone".  Only store errors and ZM_ERR_UNAVAILABLE (group lookup
 * failed: cannot tell) are returned.  Session open and the sweep
 * (limits.c) both ask this.
 * A shared account's session ([shared NAME]) was opened with a member's
 * own token: it stands while that member is listed ("not-member") and
 * their account is not disabled ("disabled").
 */
#define ZM_ZONE_ACCESS_ENDED	"zone_access"
int zm_session_standing(struct zm_tokend *d, const char *user,
    const char *zone, int64_t token_id, char *why, size_t whylen);
/* Decimal id for the audit log's token field ("" for id <= 0). */
void zm_fmt_id(char *out, size_t outlen, int64_t id);
/*
 * An optional text field of a request: absent is "", too long, malformed
 * or holding control bytes (it goes to the audit log) is an error.
 */
int zm_req_opt_text(const struct zm_msg *req, uint16_t tag, char *out,
    size_t outlen);
int zm_session_open_req(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
int zm_session_close_req(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/*
 * zm_run_argv() (server.h) with input (NULL: none, /dev/null) written to
 * the child's standard input before the wait (keep it small: a pipe's
 * worth) and envp (NULL: PATH=/usr/bin:/bin LC_ALL=C) as its environment.
 * ZM_OK only for exit status 0 with all the input written.
 */
int zm_run_argv_input(const char *path, char *const argv[], char *const envp[],
    const char *input, unsigned timeout_ms);
/*
 * The same, with the child's standard output (out != NULL) read into out
 * (NUL-terminated, at most outlen - 1 bytes; the rest is not read) before
 * the wait; the time-out covers both.
 */
int zm_run_argv_io(const char *path, char *const argv[], char *const envp[],
    const char *input, char *out, size_t outlen, unsigned timeout_ms);

/* ---- admin.c ---- */
int zm_admin_enroll_totp(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/* Blocks up to ZM_FIDO_TIMEOUT_MS for the touch (one key at the desk). */
int zm_admin_enroll_fido2(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
int zm_admin_list(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
int zm_admin_unlock(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
int zm_admin_disable(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
int zm_admin_enable(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
int zm_admin_revoke(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/* USER_LIST: the registry's account rows (dormant IDs, R8).  Staff. */
int zm_admin_user_list(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/* temppw.c: TEMP_PASSWORD for a local account (R11). */
int zm_admin_temp_password(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/* AUDIT_HEAD: seq and hash of the last audit record (truncation, R15). */
int zm_admin_audit_head(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);
/* ---- enroll_card.c: enrol / replace-card (card in a reader + PIN) ---- */
int zm_admin_enroll_card(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);

/* ---- helpers for replies (reply.c) ---- */
/* Append a RESULT with status and msg (and optional time/count). */
int zm_reply_result(struct zm_buf *reply, int status, int msgid,
    int64_t time_v, uint32_t count);
/*
 * Append a RESULT with status OK carrying a one-time secret as TEXT, with
 * TOKEN_ID token_id and TIME time_v when > 0.  Its scratch buffer is wiped.
 */
int zm_reply_secret(struct zm_buf *reply, const char *text, int64_t token_id,
    int64_t time_v);
int64_t zm_now(void);
/*
 * Append the one message in msg (built with zm_msg_begin..zm_msg_end) to
 * reply, then wipe msg for the next one.  zm_msg_begin() starts its buffer
 * afresh, so a handler that sends several messages builds each in a
 * scratch buffer and appends it with this.
 */
int zm_reply_append(struct zm_buf *reply, struct zm_buf *msg);
/* Scratch buffer size for one message. */
#define ZM_MSG_MAX	((size_t)ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY)

#endif
