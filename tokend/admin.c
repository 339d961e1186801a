/*
 * admin.c - helpdesk and administrator requests: enrol a TOTP token or a
 * FIDO2 key, list tokens, unlock, disable, enable, revoke.
 *
 * The dispatch table (server.c) has already checked that the caller is
 * root or in helpdesk_group/admin_group (LIST is open to everyone for
 * their own tokens).  Here, the operator rules (zm_operator_check in
 * peer.c, for every action including revoke): never on one's own account
 * (R10, separation of duties) except to revoke it (a loss report), staff
 * accounts only by root or admin_group; every action is audited with the
 * operator.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "crypto.h"
#include "err.h"
#include "fido2.h"
#include "ipc.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tokend.h"
#include "totp.h"
#include "wipe.h"

#define TOTP_ISSUER		"zonemfa"
#define TOTP_LABEL_DEFAULT	"TOTP"
#define TOTP_PERIOD_MIN		15
#define TOTP_PERIOD_MAX		120

static const char *const revoke_reasons[] = {
	"lost", "stolen", "replaced", "leaver", "compromised",
};

/* 0 when the record is written (logged when it is not). */
static int
admin_audit(struct zm_tokend *d, const char *event, const char *user,
    const char *result, const char *reason, const struct zm_peer *peer,
    const char *token, const char *detail, int durable)
{
	if (zm_audit_event(d->audit, event, user, NULL, result, reason, NULL,
	    peer->name, token, detail, durable) != 0) {
		zm_err("%s: audit write failed", event);
		return ZM_ERR_IO;
	}
	return ZM_OK;
}

/* The record is in the log: the registry's audit-pending mark goes. */
static void
audit_done(struct zm_tokend *d, const int64_t *ids, size_t n,
    const char *user)
{
	size_t	i;
	int	r = ZM_OK;

	for (i = 0; i < n && r == ZM_OK; i++)
		r = zm_store_audit_done(d->st, ids[i], user);
	if (n == 0)
		r = zm_store_audit_done(d->st, 0, user);
	/* Kept: recorded once more, as recovered, at the next start. */
	if (r != ZM_OK)
		zm_warn("%s: audit mark not cleared: %s", user,
		    zm_strerror(r));
}

static void
fmt_id(char *out, size_t outlen, int64_t id)
{
	int n;

	n = snprintf(out, outlen, "%lld", (long long)id);
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';
}

/* The target user of a request; ZM_ERR_INVALID when absent or unusable. */
static int
target_user(const struct zm_msg *req, char user[ZM_NAME_MAX])
{
	if (zm_msg_get_str(req, ZM_T_USER, user, ZM_NAME_MAX) != 0 ||
	    !zm_user_name_valid(user)) {
		user[0] = '\0';
		return ZM_ERR_INVALID;
	}
	return ZM_OK;
}

/* Printable text for labels and serials: no control bytes. */
static int
text_valid(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	}
	return 1;
}

/*
 * R10 (nobody approves their own request) and the helpdesk's limits
 * (zm_operator_check, flags ZM_OP_*): 1 with the refusal in reply (or an
 * error in *r), 0 when the operator may go on, with the note to audit
 * (ZM_OP_SELF_REVOKE) or NULL in *note when note is not NULL.
 */
static int
refuse_operator(struct zm_tokend *d, const struct zm_peer *peer,
    const char *event, const char *user, unsigned flags,
    struct zm_buf *reply, int *r, const char **note)
{
	const char	*why;
	int		 st;

	st = zm_operator_check(d->cfg, peer, user, flags, &why);
	if (note != NULL)
		*note = st == ZM_ST_OK ? why : NULL;
	if (st == ZM_ST_OK)
		return 0;
	zm_notice("%s: %s may not act on %s: %s", event, peer->name, user,
	    why);
	admin_audit(d, event, user, "refused", why, peer, NULL, NULL, 0);
	*r = zm_reply_result(reply, st, ZM_MSG_NOT_PERMITTED, 0, 0);
	return 1;
}

static int
refuse_notfound(struct zm_tokend *d, const struct zm_peer *peer,
    const char *event, const char *user, const char *why,
    struct zm_buf *reply)
{
	admin_audit(d, event, user, "refused", why, peer, NULL, NULL, 0);
	return zm_reply_result(reply, ZM_ST_NOTFOUND, ZM_MSG_NONE, 0, 0);
}

static int
reply_invalid(struct zm_buf *reply)
{
	return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
}

static size_t
totp_seed_len(int algo)
{
	/* RFC 4226/6238: the key as long as the hash output. */
	switch (algo) {
	case ZM_TOTP_SHA256:
		return 32;
	case ZM_TOTP_SHA512:
		return 64;
	default:
		return 20;
	}
}

/* ALGO DIGITS PERIOD LABEL with their defaults; ZM_ERR_INVALID if bad. */
static int
totp_params(const struct zm_msg *req, int *algo, uint32_t *digits,
    uint32_t *period, char *label, size_t labellen)
{
	char	algo_s[16];
	int	r;

	*algo = ZM_TOTP_SHA1;
	*digits = 6;
	*period = 30;
	r = zm_msg_get_str(req, ZM_T_ALGO, algo_s, sizeof(algo_s));
	if (r == ZM_OK) {
		if (zm_totp_algo_parse(algo_s, algo) != ZM_OK)
			return ZM_ERR_INVALID;
	} else if (r != ZM_ERR_NOTFOUND)
		return ZM_ERR_INVALID;
	r = zm_msg_get_u32(req, ZM_T_DIGITS, digits);
	if ((r != ZM_OK && r != ZM_ERR_NOTFOUND) ||
	    (*digits != 6 && *digits != 8))
		return ZM_ERR_INVALID;
	r = zm_msg_get_u32(req, ZM_T_PERIOD, period);
	if ((r != ZM_OK && r != ZM_ERR_NOTFOUND) ||
	    *period < TOTP_PERIOD_MIN || *period > TOTP_PERIOD_MAX)
		return ZM_ERR_INVALID;
	r = zm_msg_get_str(req, ZM_T_LABEL, label, labellen);
	if (r == ZM_ERR_NOTFOUND || (r == ZM_OK && label[0] == '\0'))
		snprintf(label, labellen, "%s", TOTP_LABEL_DEFAULT);
	else if (r != ZM_OK || !text_valid(label))
		return ZM_ERR_INVALID;
	return ZM_OK;
}

int
zm_admin_enroll_totp(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_token	 t;
	char		 user[ZM_NAME_MAX], label[sizeof(t.label)];
	char		 aad[ZM_NAME_MAX + 8], tok[32], detail[256];
	uint8_t		 seed[64];
	uint8_t		*blob = NULL;
	size_t		 seedlen = 0, bloblen = 0;
	char		*uri = NULL;
	uint32_t	 digits, period;
	int64_t		 now = zm_now();
	int		 algo, n, r = ZM_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	if (target_user(req, user) != 0)
		return reply_invalid(reply);
	if (refuse_operator(d, peer, "enrol", user, 0, reply, &r, NULL))
		return r;
	if (!zm_user_exists(user))
		return refuse_notfound(d, peer, "enrol", user, "no such user",
		    reply);
	if (totp_params(req, &algo, &digits, &period, label,
	    sizeof(label)) != 0)
		return reply_invalid(reply);

	seedlen = totp_seed_len(algo);
	n = snprintf(aad, sizeof(aad), ZM_TOTP_AAD_FMT, user);
	if (n < 0 || (size_t)n >= sizeof(aad))
		goto out;
	if ((r = zm_random(seed, seedlen)) != 0 ||
	    (r = zm_seal(&d->key, aad, seed, seedlen, &blob, &bloblen)) != 0)
		goto out;
	/* The URI first: a stored seed nobody can ever see would be lost. */
	if ((r = zm_totp_uri(TOTP_ISSUER, user, seed, seedlen, algo, digits,
	    period, &uri)) != 0)
		goto out;

	memcpy(t.user, user, sizeof(t.user));
	t.kind = ZM_TOK_TOTP;
	t.state = ZM_TS_ACTIVE;
	memcpy(t.label, label, sizeof(t.label));
	t.secret = blob;
	t.secret_len = bloblen;
	blob = NULL;
	snprintf(t.algo, sizeof(t.algo), "%s", zm_totp_algo_name(algo));
	t.digits = digits;
	t.period = period;
	t.last_step = -1;
	t.created = now;
	snprintf(t.enrolled_by, sizeof(t.enrolled_by), "%s", peer->name);
	if ((r = zm_store_user_ensure(d->st, user, now)) != 0 ||
	    (r = zm_store_token_add(d->st, &t, now)) != 0) {
		admin_audit(d, "enrol", user, "error", zm_strerror(r), peer,
		    NULL, NULL, 0);
		goto out;
	}

	fmt_id(tok, sizeof(tok), t.id);
	n = snprintf(detail, sizeof(detail), "totp %s digits %u period %u "
	    "label %s", t.algo, digits, period, t.label);
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	admin_audit(d, "enrol", user, "ok", "", peer, tok, detail, 1);
	zm_info("token %lld (totp) enrolled for %s by %s", (long long)t.id,
	    user, peer->name);

	/* The URI holds the seed: reply is wiped when freed. */
	if ((r = zm_reply_secret(reply, uri, t.id, 0)) != 0)
		goto out;
	r = ZM_OK;
 out:
	zm_wipe(seed, sizeof(seed));
	zm_strfree(uri);
	zm_freezero(blob, bloblen);
	zm_token_clear(&t);
	return r;
}

/* The default label says what the key proved at enrolment. */
static void
fido2_label(const struct zm_fido_cred *c, char *out, size_t outlen)
{
	snprintf(out, outlen, "FIDO2 %s%s, %s", c->fmt,
	    (c->flags & ZM_FIDO_F_ATT_SELF) ? " self" :
	    (c->flags & ZM_FIDO_F_ATT_CA) ? " CA-verified" : "",
	    (c->flags & ZM_FIDO_F_UV_BUILTIN) ? "UV built-in" :
	    (c->flags & ZM_FIDO_F_PIN) ? "UV PIN" : "no UV");
}

int
zm_admin_enroll_fido2(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_token		 t;
	struct zm_fido_cred	*c = NULL;
	struct zm_buf		 m;
	char			 user[ZM_NAME_MAX], label[sizeof(t.label)];
	char			 tok[32], detail[256];
	int64_t			 now = zm_now();
	int			 n, st, r = ZM_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	zm_buf_init(&m, ZM_MSG_MAX);
	if (target_user(req, user) != 0)
		return reply_invalid(reply);
	if (refuse_operator(d, peer, "enrol", user, 0, reply, &r, NULL))
		return r;
	if (!zm_user_exists(user))
		return refuse_notfound(d, peer, "enrol", user, "no such user",
		    reply);
	r = zm_msg_get_str(req, ZM_T_LABEL, label, sizeof(label));
	if (r == ZM_ERR_NOTFOUND)
		label[0] = '\0';
	else if (r != ZM_OK || !text_valid(label))
		return reply_invalid(reply);
	if (d->fido == NULL || !zm_fido_available(d->fido)) {
		admin_audit(d, "enrol", user, "refused", "no security key "
		    "present", peer, NULL, "fido2", 0);
		return zm_reply_result(reply, ZM_ST_NOTFOUND, ZM_MSG_NONE, 0,
		    0);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ZM_ERR_NOMEM;
	zm_info("fido2 enrolment for %s by %s: waiting for a touch", user,
	    peer->name);
	if ((r = zm_fido_enroll(d->fido, user, d->cfg->fido_attestation_ca,
	    ZM_FIDO_TIMEOUT_MS, c)) != 0) {
		admin_audit(d, "enrol", user, r == ZM_ERR_DENIED ? "refused" :
		    "error", c->refused != NULL ? c->refused :
		    r == ZM_ERR_DENIED ? "key refused" : zm_strerror(r), peer,
		    NULL, "fido2", 0);
		st = r == ZM_ERR_TIMEOUT ? ZM_ST_ABORTED :
		    r == ZM_ERR_UNAVAILABLE ? ZM_ST_NOTFOUND : ZM_ST_DENIED;
		r = zm_reply_result(reply, st, ZM_MSG_NONE, 0, 0);
		goto out;
	}
	memcpy(t.user, user, sizeof(t.user));
	t.kind = ZM_TOK_FIDO2;
	t.state = ZM_TS_ACTIVE;
	if (label[0] == '\0')
		fido2_label(c, label, sizeof(label));
	memcpy(t.label, label, sizeof(t.label));
	/* The type travels in the data blob; algo says it to people. */
	snprintf(t.algo, sizeof(t.algo), "%s",
	    c->cose == ZM_FIDO_COSE_EDDSA ? "EdDSA" : "ES256");
	t.last_step = -1;
	t.counter = c->counter;
	t.flags = c->flags;
	t.created = now;
	snprintf(t.enrolled_by, sizeof(t.enrolled_by), "%s", peer->name);
	if ((r = zm_fido_ident(c->id, c->id_len, t.ident,
	    sizeof(t.ident))) != 0 ||
	    (r = zm_fido_data_encode(c->cose, c->pk, c->id, c->id_len, &t.data,
	    &t.data_len)) != 0)
		goto out;
	if ((r = zm_store_user_ensure(d->st, user, now)) != 0 ||
	    (r = zm_store_token_add(d->st, &t, now)) != 0) {
		admin_audit(d, "enrol", user, r == ZM_ERR_EXISTS ? "refused" :
		    "error", r == ZM_ERR_EXISTS ? "credential already "
		    "enrolled" : zm_strerror(r), peer, NULL, "fido2", 0);
		if (r == ZM_ERR_EXISTS)
			r = zm_reply_result(reply, ZM_ST_EXISTS, ZM_MSG_NONE,
			    0, 0);
		goto out;
	}
	fmt_id(tok, sizeof(tok), t.id);
	n = snprintf(detail, sizeof(detail), "fido2 %s fmt %s "
	    "attestation %s uv %s counter %u label %s", t.algo, c->fmt,
	    (c->flags & ZM_FIDO_F_ATT_CA) ? "x5c chained to "
	    "fido_attestation_ca" : (c->flags & ZM_FIDO_F_ATT_X5C) ? "x5c" :
	    "self",
	    (c->flags & ZM_FIDO_F_UV_BUILTIN) ? "built-in" :
	    (c->flags & ZM_FIDO_F_PIN) ? "pin" : "none", c->counter, t.label);
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	admin_audit(d, "enrol", user, "ok", "", peer, tok, detail, 1);
	zm_info("token %lld (fido2) enrolled for %s by %s", (long long)t.id,
	    user, peer->name);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) != 0 ||
	    (r = zm_msg_add_u64(&m, ZM_T_TOKEN_ID, (uint64_t)t.id)) != 0 ||
	    (r = zm_msg_add_str(&m, ZM_T_TEXT, t.ident)) != 0 ||
	    (r = zm_msg_add_str(&m, ZM_T_LABEL, t.label)) != 0 ||
	    (r = zm_msg_end(&m)) != 0 ||
	    (r = zm_reply_append(reply, &m)) != 0)
		goto out;
	r = ZM_OK;
 out:
	zm_buf_free(&m);
	zm_freezero(c, sizeof(*c));
	zm_token_clear(&t);
	return r;
}

static int
list_row(struct zm_buf *m, const struct zm_token *t)
{
	int r;

	if ((r = zm_msg_begin(m, ZM_REP_ROW)) != 0 ||
	    (r = zm_msg_add_u64(m, ZM_T_TOKEN_ID, (uint64_t)t->id)) != 0 ||
	    (r = zm_msg_add_str(m, ZM_T_USER, t->user)) != 0 ||
	    (r = zm_msg_add_str(m, ZM_T_KIND,
	    zm_token_kind_name(t->kind))) != 0 ||
	    (r = zm_msg_add_str(m, ZM_T_STATE,
	    zm_token_state_name(t->state))) != 0 ||
	    (r = zm_msg_add_u64(m, ZM_T_CREATED,
	    (uint64_t)(t->created > 0 ? t->created : 0))) != 0 ||
	    (r = zm_msg_add_u64(m, ZM_T_LAST_USED,
	    (uint64_t)(t->last_used > 0 ? t->last_used : 0))) != 0)
		return r;
	if (t->label[0] != '\0' &&
	    (r = zm_msg_add_str(m, ZM_T_LABEL, t->label)) != 0)
		return r;
	if (t->ident[0] != '\0' &&
	    (r = zm_msg_add_str(m, ZM_T_TEXT, t->ident)) != 0)
		return r;
	/* When and why a token stopped working. */
	if (t->revoked_at > 0 &&
	    (r = zm_msg_add_u64(m, ZM_T_TIME, (uint64_t)t->revoked_at)) != 0)
		return r;
	if (t->revoke_reason[0] != '\0' &&
	    (r = zm_msg_add_str(m, ZM_T_REASON, t->revoke_reason)) != 0)
		return r;
	return zm_msg_end(m);
}

int
zm_admin_list(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_token	*toks = NULL;
	struct zm_buf	 m;
	char		 user[ZM_NAME_MAX] = "";
	size_t		 n = 0, i;
	int		 r;

	r = zm_msg_get_str(req, ZM_T_USER, user, sizeof(user));
	if (r == ZM_ERR_NOTFOUND)
		user[0] = '\0';
	else if (r != ZM_OK || !zm_user_name_valid(user))
		return reply_invalid(reply);
	/* Staff see everyone; anybody else sees only their own tokens. */
	if (!peer->is_root && !peer->is_helpdesk && !peer->is_admin) {
		if (peer->name[0] == '\0' ||
		    (user[0] != '\0' && strcmp(user, peer->name) != 0)) {
			admin_audit(d, "list", user, "refused",
			    "caller may list only their own tokens", peer,
			    NULL, NULL, 0);
			return zm_reply_result(reply, ZM_ST_PERM,
			    ZM_MSG_NOT_PERMITTED, 0, 0);
		}
		memcpy(user, peer->name, sizeof(user));
	}
	if ((r = zm_store_token_list(d->st, user[0] ? user : NULL, &toks,
	    &n)) != 0)
		return r;
	zm_buf_init(&m, ZM_MSG_MAX);
	for (i = 0; i < n; i++) {
		if ((r = list_row(&m, &toks[i])) != 0 ||
		    (r = zm_reply_append(reply, &m)) != 0)
			goto out;
	}
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT, (uint32_t)n)) != 0 ||
	    (r = zm_msg_end(&m)) != 0 ||
	    (r = zm_reply_append(reply, &m)) != 0)
		goto out;
	r = ZM_OK;
 out:
	zm_buf_free(&m);
	zm_tokens_free(toks, n);
	return r;
}

int
zm_admin_unlock(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_user_state	us;
	char			user[ZM_NAME_MAX], detail[96];
	int			n, r;

	if (target_user(req, user) != 0)
		return reply_invalid(reply);
	if (refuse_operator(d, peer, "unlock", user, 0, reply, &r, NULL))
		return r;
	r = zm_store_user_get(d->st, user, &us);
	if (r == ZM_ERR_NOTFOUND)
		return refuse_notfound(d, peer, "unlock", user,
		    "no such user in the registry", reply);
	if (r != ZM_OK || (r = zm_store_unlock(d->st, user)) != 0)
		return r;
	n = snprintf(detail, sizeof(detail), "failures %u locked_until %lld",
	    us.failures, (long long)us.locked_until);
	if (n < 0 || (size_t)n >= sizeof(detail))
		detail[0] = '\0';
	admin_audit(d, "unlock", user, "ok", "", peer, NULL, detail, 1);
	zm_info("%s unlocked by %s", user, peer->name);
	return zm_reply_result(reply, ZM_ST_OK, ZM_MSG_NONE, 0, 0);
}

/*
 * The reply of a revoke or disable, built once its sessions have ended
 * (server.c drives the ending; see struct zm_deferred).
 */
struct end_job {
	struct zm_deferred	 base;		/* first: the loop sees this */
	int			 revoke;	/* else disable */
	int			 start_failed;	/* sessions not listed */
	char			*idtext;	/* revoke: "3,4,7" */
	char			*already;	/* revoke: "3,4" revoked before */
	size_t			 ntok;
	int64_t			 now;
};

static int
end_job_finish(struct zm_tokend *d, struct zm_deferred *df,
    struct zm_buf *reply)
{
	struct end_job	*j = (struct end_job *)df;
	struct zm_buf	 m;
	unsigned	 ended, failed;
	int		 r, status;

	zm_ending_counts(df->ending, &ended, &failed);
	if (j->start_failed)
		failed++;
	status = failed > 0 ? ZM_ST_PARTIAL : ZM_ST_OK;
	if (!j->revoke)
		return zm_reply_result(reply, status, ZM_MSG_NONE, 0, ended);
	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, (uint32_t)status)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT, ended)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT2, (uint32_t)j->ntok)) == 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_TIME, (uint64_t)j->now)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_TEXT, j->idtext)) == 0 &&
	    (j->already == NULL ||
	    (r = zm_msg_add_str(&m, ZM_T_TEXT2, j->already)) == 0) &&
	    (r = zm_msg_end(&m)) == 0)
		r = zm_reply_append(reply, &m);
	zm_buf_free(&m);
	return r;
}

static void
end_job_free(struct zm_deferred *df)
{
	struct end_job *j = (struct end_job *)df;

	if (j == NULL)
		return;
	zm_ending_free(df->ending);
	free(j->idtext);
	free(j->already);
	free(j);
}

/* Start ending the sessions (all of user's, or those of ids). */
static int
end_job_start(struct zm_tokend *d, const char *user, const int64_t *ids,
    size_t n, const char *why, struct end_job **out)
{
	struct end_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ZM_ERR_NOMEM;
	j->base.finish = end_job_finish;
	j->base.free = end_job_free;
	/* The access is gone already; a listing failure is reported. */
	if (zm_ending_start(d, user, ids, n, why, &j->base.ending) != 0)
		j->start_failed = 1;
	*out = j;
	return ZM_OK;
}

/* For callers outside the loop: wait here, then build the reply. */
static int
end_job_run(struct zm_tokend *d, struct zm_deferred *df,
    struct zm_buf *reply)
{
	int r;

	if (df->ending != NULL)
		zm_ending_wait(df->ending);
	r = df->finish(d, df, reply);
	df->free(df);
	return r;
}

static int
set_disabled(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply, int disabled,
    struct zm_deferred **df)
{
	const char		*event = disabled ? "disable" : "enable";
	struct zm_user_state	 us;
	struct end_job		*j = NULL;
	char			 user[ZM_NAME_MAX];
	int64_t			 now = zm_now();
	int			 r;

	if (target_user(req, user) != 0)
		return reply_invalid(reply);
	if (refuse_operator(d, peer, event, user, 0, reply, &r, NULL))
		return r;
	r = zm_store_user_get(d->st, user, &us);
	/* A leaver may be disabled before their first login. */
	if (r == ZM_ERR_NOTFOUND && !zm_user_exists(user))
		return refuse_notfound(d, peer, event, user, "no such user",
		    reply);
	if (r != ZM_OK && r != ZM_ERR_NOTFOUND)
		return r;
	if ((r = zm_store_user_ensure(d->st, user, now)) != 0 ||
	    (r = zm_store_set_disabled(d->st, user, disabled, now)) != 0)
		return r;
	if (admin_audit(d, event, user, "ok", "", peer, NULL, NULL, 1) == 0)
		audit_done(d, NULL, 0, user);
	zm_info("%s %sd by %s", user, event, peer->name);
	if (!disabled)
		return zm_reply_result(reply, ZM_ST_OK, ZM_MSG_NONE, 0, 0);
	/* Disabled first (durable), then the running sessions end. */
	if ((r = end_job_start(d, user, NULL, 0, "disabled", &j)) != 0)
		return r;
	*df = &j->base;
	return ZM_OK;
}

int
zm_admin_disable_deferred(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply, struct zm_deferred **df)
{
	*df = NULL;
	return set_disabled(d, peer, req, reply, 1, df);
}

int
zm_admin_disable(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_deferred	*df = NULL;
	int			 r;

	if ((r = set_disabled(d, peer, req, reply, 1, &df)) != 0 ||
	    df == NULL)
		return r;
	return end_job_run(d, df, reply);
}

int
zm_admin_enable(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_deferred *df = NULL;

	return set_disabled(d, peer, req, reply, 0, &df);
}

/* Which tokens: exactly one of TOKEN_ID, SERIAL, ALL. */
static int
revoke_selector(const struct zm_msg *req, int64_t *token_id, char *serial,
    size_t seriallen)
{
	uint64_t	id;
	uint32_t	all = 0;
	int		r, nsel = 0;

	*token_id = 0;
	serial[0] = '\0';
	r = zm_msg_get_u64(req, ZM_T_TOKEN_ID, &id);
	if (r == ZM_OK) {
		if (id == 0 || id > INT64_MAX)
			return ZM_ERR_INVALID;
		*token_id = (int64_t)id;
		nsel++;
	} else if (r != ZM_ERR_NOTFOUND)
		return ZM_ERR_INVALID;
	r = zm_msg_get_str(req, ZM_T_SERIAL, serial, seriallen);
	if (r == ZM_OK) {
		if (serial[0] == '\0' || !text_valid(serial))
			return ZM_ERR_INVALID;
		nsel++;
	} else if (r != ZM_ERR_NOTFOUND)
		return ZM_ERR_INVALID;
	r = zm_msg_get_u32(req, ZM_T_ALL, &all);
	if (r == ZM_OK && all != 0)
		nsel++;
	else if (r != ZM_OK && r != ZM_ERR_NOTFOUND)
		return ZM_ERR_INVALID;
	return nsel == 1 ? ZM_OK : ZM_ERR_INVALID;
}

static int
revoke_reason_valid(const char *reason)
{
	size_t i;

	for (i = 0; i < sizeof(revoke_reasons) / sizeof(revoke_reasons[0]);
	    i++) {
		if (strcmp(reason, revoke_reasons[i]) == 0)
			return 1;
	}
	return 0;
}

/* "3,4,7" into out; stops (cleanly, at a comma) when out is full. */
static void
ids_format(const int64_t *ids, size_t n, char *out, size_t outlen)
{
	size_t	i, len = 0;
	int	w;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(out + len, outlen - len, "%s%lld", i ? "," : "",
		    (long long)ids[i]);
		if (w < 0 || (size_t)w >= outlen - len) {
			out[len] = '\0';
			return;
		}
		len += (size_t)w;
	}
}

/* 1 if token t is what the selector of a revoke names. */
static int
selected(const struct zm_token *t, int64_t token_id, const char *serial)
{
	if (token_id > 0)
		return t->id == token_id;
	if (serial[0] != '\0')
		return t->ident[0] != '\0' && strcmp(t->ident, serial) == 0;
	return 1;
}

/*
 * A revoke that matched no active token: when the selected tokens were
 * revoked (or replaced) before, the revocation stands -- a retry after a
 * crash or a second helpdesk call -- and every session still open with
 * them is ended now.  Else "no such token".
 */
static int
revoke_again(struct zm_tokend *d, const struct zm_peer *peer,
    const char *user, int64_t token_id, const char *serial,
    const char *reason, struct zm_buf *reply, struct zm_deferred **df)
{
	struct zm_token	*t = NULL;
	struct end_job	*j = NULL;
	int64_t		*ids = NULL;
	char		*idtext = NULL, detail[256], why[48];
	size_t		 n = 0, i, k = 0;
	int		 r, w;

	if ((r = zm_store_token_list(d->st, user, &t, &n)) != 0)
		return r;
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((t[i].state == ZM_TS_REVOKED ||
		    t[i].state == ZM_TS_REPLACED) &&
		    selected(&t[i], token_id, serial))
			ids[k++] = t[i].id;
	}
	if (k == 0) {
		r = refuse_notfound(d, peer, "revoke", user,
		    "no matching token", reply);
		goto out;
	}
	if ((idtext = malloc(ZM_IPC_MAX_STR)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	ids_format(ids, k, idtext, ZM_IPC_MAX_STR);
	w = snprintf(detail, sizeof(detail), "already revoked: tokens %s; "
	    "ending the sessions left", idtext);
	if (w < 0 || (size_t)w >= sizeof(detail))
		snprintf(detail, sizeof(detail), "already revoked");
	admin_audit(d, "revoke", user, "ok", reason, peer, NULL, detail, 1);
	zm_notice("revoke of %s: tokens %s were revoked already", user,
	    idtext);
	w = snprintf(why, sizeof(why), "revoked:%s", reason);
	if (w < 0 || (size_t)w >= sizeof(why))
		snprintf(why, sizeof(why), "revoked");
	if ((r = end_job_start(d, user, token_id == 0 && serial[0] == '\0' ?
	    NULL : ids, token_id == 0 && serial[0] == '\0' ? 0 : k, why,
	    &j)) != 0)
		goto out;
	j->revoke = 1;
	if ((j->idtext = strdup("")) == NULL) {
		j->base.free(&j->base);
		r = ZM_ERR_NOMEM;
		goto out;
	}
	j->already = idtext;
	idtext = NULL;
	j->now = zm_now();
	*df = &j->base;
	r = ZM_OK;
 out:
	free(idtext);
	free(ids);
	zm_tokens_free(t, n);
	return r;
}

int
zm_admin_revoke_deferred(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply, struct zm_deferred **df)
{
	char		 user[ZM_NAME_MAX], reason[32], why[48];
	char		 serial[256], tok[32] = "", detail[256];
	char		*idtext = NULL;
	const char	*self = NULL;
	struct end_job	*j = NULL;
	int64_t		*ids = NULL, token_id, now = zm_now();
	size_t		 n = 0;
	int		 r, w;

	*df = NULL;
	if (target_user(req, user) != 0 ||
	    zm_msg_get_str(req, ZM_T_REASON, reason, sizeof(reason)) != 0 ||
	    !revoke_reason_valid(reason) ||
	    revoke_selector(req, &token_id, serial, sizeof(serial)) != 0)
		return reply_invalid(reply);
	/* The operator rules; one's own token may be reported lost. */
	if (refuse_operator(d, peer, "revoke", user, ZM_OP_REVOKE, reply, &r,
	    &self))
		return r;
	r = zm_store_revoke(d->st, user, token_id, serial[0] ? serial : NULL,
	    reason, now, &ids, &n);
	if (r == ZM_ERR_NOTFOUND || (r == ZM_OK && n == 0)) {
		free(ids);
		/* Revoked before (a retry after a crash): end what is left. */
		return revoke_again(d, peer, user, token_id, serial, reason,
		    reply, df);
	}
	if (r != ZM_OK) {
		admin_audit(d, "revoke", user, "error", zm_strerror(r), peer,
		    NULL, NULL, 0);
		return r;
	}
	if ((idtext = malloc(ZM_IPC_MAX_STR)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	ids_format(ids, n, idtext, ZM_IPC_MAX_STR);
	if (n == 1)
		fmt_id(tok, sizeof(tok), ids[0]);
	w = snprintf(detail, sizeof(detail), "tokens %s%s%s", idtext,
	    self != NULL ? "; " : "", self != NULL ? self : "");
	if (w < 0 || (size_t)w >= sizeof(detail))
		snprintf(detail, sizeof(detail), "%zu tokens", n);
	/*
	 * Durable in the store (marked audit-pending), then in the audit
	 * log, then enforced; a crash in between is caught up at start-up
	 * (recover.c, and the sweep in limits.c).
	 */
	if (admin_audit(d, "revoke", user, "ok", reason, peer, tok, detail,
	    1) == 0)
		audit_done(d, ids, n, user);
	zm_notice("%zu token(s) of %s revoked by %s: %s", n, user,
	    peer->name, reason);

	w = snprintf(why, sizeof(why), "revoked:%s", reason);
	if (w < 0 || (size_t)w >= sizeof(why))
		snprintf(why, sizeof(why), "revoked");
	/*
	 * --all: every session of the user ends (also one opened with a
	 * temporary code, spent at its login); else those of the tokens.
	 */
	if ((r = end_job_start(d, user, token_id == 0 && serial[0] == '\0' ?
	    NULL : ids, token_id == 0 && serial[0] == '\0' ? 0 : n, why,
	    &j)) != 0)
		goto out;
	j->revoke = 1;
	j->idtext = idtext;
	idtext = NULL;
	j->ntok = n;
	j->now = now;
	*df = &j->base;
	r = ZM_OK;
 out:
	free(idtext);
	free(ids);
	return r;
}

int
zm_admin_revoke(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_deferred	*df = NULL;
	int			 r;

	if ((r = zm_admin_revoke_deferred(d, peer, req, reply, &df)) != 0 ||
	    df == NULL)
		return r;
	return end_job_run(d, df, reply);
}

/* ---- account listing (dormant IDs, R8) and the audit head (R15) ---- */

static int
user_row(struct zm_buf *m, const struct zm_user_state *u, int64_t now)
{
	uint32_t	flags = 0;
	int		r;

	if (u->disabled)
		flags |= ZM_USER_DISABLED;
	if (u->locked_until == -1 || u->locked_until > now)
		flags |= ZM_USER_LOCKED;
	if ((r = zm_msg_begin(m, ZM_REP_ROW)) != 0 ||
	    (r = zm_msg_add_str(m, ZM_T_USER, u->user)) != 0 ||
	    (r = zm_msg_add_u64(m, ZM_T_TIME,
	    (uint64_t)(u->last_success > 0 ? u->last_success : 0))) != 0 ||
	    (r = zm_msg_add_u64(m, ZM_T_CREATED,
	    (uint64_t)(u->created > 0 ? u->created : 0))) != 0 ||
	    (r = zm_msg_add_u64(m, ZM_T_TIME2,
	    (uint64_t)(u->enabled_at > 0 ? u->enabled_at : 0))) != 0 ||
	    (r = zm_msg_add_u32(m, ZM_T_FLAGS, flags)) != 0 ||
	    (r = zm_msg_add_u32(m, ZM_T_COUNT, u->failures)) != 0)
		return r;
	if (u->last_from[0] != '\0' &&
	    (r = zm_msg_add_str(m, ZM_T_TEXT2, u->last_from)) != 0)
		return r;
	return zm_msg_end(m);
}

int
zm_admin_user_list(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_user_state	*us = NULL;
	struct zm_buf		 m;
	char			 user[ZM_NAME_MAX] = "";
	size_t			 n = 0, i, sent = 0;
	int64_t			 now = zm_now();
	int			 r;

	r = zm_msg_get_str(req, ZM_T_USER, user, sizeof(user));
	if (r == ZM_ERR_NOTFOUND)
		user[0] = '\0';
	else if (r != ZM_OK || !zm_user_name_valid(user))
		return reply_invalid(reply);
	if ((r = zm_store_user_list(d->st, &us, &n)) != 0)
		return r;
	zm_buf_init(&m, ZM_MSG_MAX);
	for (i = 0; i < n; i++) {
		if (user[0] != '\0' && strcmp(user, us[i].user) != 0)
			continue;
		if ((r = user_row(&m, &us[i], now)) != 0 ||
		    (r = zm_reply_append(reply, &m)) != 0)
			goto out;
		sent++;
	}
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_COUNT, (uint32_t)sent)) != 0 ||
	    (r = zm_msg_end(&m)) != 0 ||
	    (r = zm_reply_append(reply, &m)) != 0)
		goto out;
	zm_debug("user list for %s: %zu rows", peer->name, sent);
	r = ZM_OK;
 out:
	zm_buf_free(&m);
	free(us);
	return r;
}

int
zm_admin_audit_head(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_buf	m;
	uint64_t	seq = 0;
	char		hash[65];
	int		r;

	(void)peer;
	(void)req;
	if ((r = zm_store_audit_head_get(d->st, &seq, hash)) != 0)
		return r;
	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) == 0 &&
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, ZM_ST_OK)) == 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_SEQ, seq)) == 0 &&
	    (r = zm_msg_add_str(&m, ZM_T_TEXT, hash)) == 0 &&
	    (r = zm_msg_end(&m)) == 0)
		r = zm_reply_append(reply, &m);
	zm_buf_free(&m);
	return r;
}
