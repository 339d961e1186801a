/*
 * auth_impl.h - internals of auth.c, auth_account.c, auth_card.c,
 * auth_fido2.c and ticket.c, shared between them and with their unit
 * tests.  Not part of the daemon's interface (tokend.h).
 */
#ifndef ZM_AUTH_IMPL_H
#define ZM_AUTH_IMPL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "conf.h"		/* ZM_NAME_MAX */

struct zm_buf;
struct zm_card_login;
struct zm_fido_wait;
struct zm_msg;
struct zm_peer;
struct zm_proof;
struct zm_ticket_table;
struct zm_peer;
struct zm_tokend;
struct zm_user_state;
struct zm_zone;

#define ZM_TICKET_CAP	4096	/* outstanding tickets; the oldest is evicted */
#define ZM_TICKET_TTL	600	/* seconds from auth to session open */

/*
 * Who may redeem a ticket: the process that authenticated (uid, PID and
 * start time) or its parent -- sshd authenticates in a child of the
 * process that opens the session.
 */
struct zm_ticket_bind {
	uid_t		uid;
	pid_t		pid;
	uint64_t	start;
	pid_t		ppid;
	uint64_t	pstart;
};

/* What a ticket carries to the session phase. */
struct zm_ticket_info {
	int64_t		token_id;
	unsigned	methods;
	int64_t		prev_success;	/* the login before this one */
	int64_t		prev_logout;
	uint32_t	prev_failures;
	char		prev_from[128];
};

/* One authentication conversation, from AUTH_BEGIN to its RESULT. */
struct zm_auth {
	/*
	 * The account whose tokens prove the login.  For a shared account
	 * ([shared NAME]) it is the member at the terminal once named, and
	 * acct the shared account the ticket is for.
	 */
	char		user[ZM_NAME_MAX];
	char		acct[ZM_NAME_MAX];	/* "" unless shared */
	int		member_ask;	/* the open PROMPT asks for the member */
	char		zone[ZM_NAME_MAX];
	char		from[128];	/* rhost, else tty: "last login from" */
	char		origin[160];	/* service, tty, rhost for the audit */
	unsigned	proven;		/* ZM_CLASS_* so far */
	unsigned	avail;		/* ZM_METHOD_* still usable */
	unsigned	used;		/* ZM_METHOD_* tried or proven */
	unsigned	method;		/* what the open PROMPT asks for */
	int		fido_pin;	/* FIDO2 prompt asks for the key's PIN */
	struct zm_fido_wait *fido_wait;	/* the key is being asked: no reply yet */
	int		generic;	/* password = none and nothing proven */
	int		decoy;		/* prompt only so refusals look alike */
	char		decoy_reason[96];
	struct zm_card_login *card;	/* card connected for the PIN prompt */
	int		card_asked;	/* "insert your card" was shown */
	int64_t		card_ns;	/* daemon time in the card path (bench) */
	struct zm_ticket_bind bind;	/* the caller, for the ticket */
};

/*
 * auth.c: what the method steps (auth_card.c) share with the conversation.
 * A function that "takes a" leaves it either in *state (a PROMPT was
 * appended) or freed.
 */
void zm_auth_free(struct zm_auth *a);	/* NULL: nothing */
/* a->from (rhost, else tty) and a->origin for the audit log. */
void zm_auth_origin(struct zm_auth *a, const char *service, const char *tty,
    const char *rhost);

/*
 * Replies appended to rep; on an error rep is rolled back to where it was
 * (zm_auth_reply_fail(): back to mark, returns r).
 */
int zm_auth_reply_fail(struct zm_buf *rep, size_t mark, int r);
int zm_auth_reply_result(struct zm_buf *rep, int status, int msgid,
    const int64_t *t, const uint32_t *count);
int zm_auth_reply_prompt_n(struct zm_buf *rep, int prompt, int msgid,
    const uint32_t *count);
#define zm_auth_reply_simple(rep, status, msgid) \
	zm_auth_reply_result((rep), (status), (msgid), NULL, NULL)
#define zm_auth_reply_prompt(rep, prompt, msgid) \
	zm_auth_reply_prompt_n((rep), (prompt), (msgid), NULL)
/* LOCKED with TIME = until, 0 for "until a helpdesk unlock". */
int zm_auth_reply_locked(struct zm_buf *rep, int64_t until);

/*
 * Audit event for user in zone; methods: "password totp", what was proven
 * or tried (used).
 */
int zm_auth_audit_ev(struct zm_tokend *d, const char *event,
    const char *user, const char *zone, const struct zm_zone *z,
    unsigned used, const char *result, const char *reason, int64_t token_id,
    const char *detail);
/*
 * Zone access (allow_users, allow_groups; policy 6.2(1)): 0 when user may
 * log in to zone z, 1 when refused (audited as event with the reason
 * ZM_ZONE_DENIED_REASON, reply DENIED / ZM_MSG_ZONE_DENIED appended; a
 * failed group lookup is INTERNAL), else an error building the reply.
 */
#define ZM_ZONE_DENIED_REASON	"zone access denied"
int zm_auth_zone_access(struct zm_tokend *d, const char *event,
    const char *user, const char *zone, const struct zm_zone *z,
    const char *detail, struct zm_buf *rep);
/* Audit event "auth" of conversation a. */
int zm_auth_aud(struct zm_tokend *d, const struct zm_auth *a,
    const struct zm_zone *z, const char *result, const char *reason,
    int64_t token_id, const char *detail);
/* Our failure (store, key, data): logged, audited, INTERNAL, never OK. */
int zm_auth_internal(struct zm_tokend *d, const struct zm_auth *a,
    const struct zm_zone *z, struct zm_buf *rep, const char *what, int err);
/* A failed proof: counted, locked at the limit, replied to. */
int zm_auth_count_failure(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const char *reason, int msgid,
    const uint32_t *count, struct zm_buf *rep);
/* The next method's prompt, or the end of the conversation.  Takes a. */
int zm_auth_advance(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, int64_t token_id, struct zm_auth **state,
    struct zm_buf *rep);

/*
 * auth_account.c: the checks AUTH_BEGIN shares with ACCOUNT.
 *
 * zm_auth_request_target(): USER, caller permission (root: anyone; others
 * only themselves), ZONE.  0 to go on, 1 when refused (reply appended and
 * audited as event), or an error building the reply.
 */
int zm_auth_request_target(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, const char *event, char user[ZM_NAME_MAX],
    char zone[ZM_NAME_MAX], const struct zm_zone **zp, struct zm_buf *rep);
/*
 * Disabled, locked or dormant: *status ZM_ST_OK or the refusal, *why its
 * reason; us filled (zeros without a row).  A store error or 0.  With
 * clear_expired an expired timed lock is cleared.
 */
int zm_auth_account_status(struct zm_tokend *d, const struct zm_zone *z,
    const char *user, int clear_expired, struct zm_user_state *us,
    int *status, const char **why);
/* Refused by zm_auth_account_status(): audited, generic where nothing is proven. */
int zm_auth_refuse_status(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const struct zm_user_state *us, int status,
    const char *why, struct zm_buf *rep);
/* The RESULT for a refusal of zm_auth_account_status() (or REVOKED). */
int zm_auth_reply_status(struct zm_buf *rep, int status,
    const struct zm_user_state *us);
/* The user's usable methods, and whether every token they have is revoked. */
int zm_auth_usable_methods(struct zm_tokend *d, const char *user,
    unsigned *avail, int *all_revoked, int *key_missing);

/*
 * auth_card.c: the IC card step.  zm_auth_card_prompt() asks to insert the
 * card or for its PIN; zm_auth_card_answer() takes the answer (pin: the
 * PIN, or empty after inserting).  Both take a.
 */
int zm_auth_card_prompt(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, struct zm_auth **state, struct zm_buf *rep);
int zm_auth_card_answer(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const char *pin, struct zm_auth **state,
    struct zm_buf *rep);

/*
 * Issue a one-use ticket (hex, 32 chars + NUL) for user, valid for
 * ZM_TICKET_TTL seconds, redeemable only by the process bind names.
 */
int zm_ticket_issue_at(struct zm_ticket_table *t, const char *user,
    const struct zm_ticket_bind *bind, const struct zm_ticket_info *info,
    int64_t now, char out[33]);
/*
 * Consume a ticket for user, presented by the process of by (its pid and
 * start time, its uid).  ZM_ERR_NOTFOUND: unknown, expired, another
 * user's; ZM_ERR_PERM: presented by a process it was not issued to.  The
 * ticket is burnt in every case it was found.
 */
int zm_ticket_take_at(struct zm_ticket_table *t, const char *ticket,
    const char *user, const struct zm_ticket_bind *by, int64_t now,
    struct zm_ticket_info *info);
/* The caller's process, as the ticket binds it (from /proc). */
void zm_ticket_bind_peer(const struct zm_peer *peer,
    struct zm_ticket_bind *out);

/*
 * auth_fido2.c: the FIDO2 step.  zm_auth_fido2_prompt() asks to touch the
 * key or for its PIN; zm_auth_fido2_answer() takes the answer (pin: the
 * key's PIN, or empty).  Both take a.  Where the key must be asked they
 * leave a in *state with a->fido_wait set and no reply: the loop takes
 * it with zm_auth_defer() (server.h) and replies once the key is done.
 */
int zm_auth_fido2_prompt(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, struct zm_auth **state, struct zm_buf *rep);
int zm_auth_fido2_answer(struct zm_tokend *d, struct zm_auth *a,
    const struct zm_zone *z, const char *pin, struct zm_auth **state,
    struct zm_buf *rep);
/* A wait that was not handed to the loop (zm_auth_free()). */
void zm_auth_fido2_wait_free(struct zm_fido_wait *w);
#endif
