/*
 * tempcode.c - helpdesk temporary codes (R11, R17): the break-glass path
 * for a forgotten or lost card while the replacement is made.
 *
 * A code is 10 random digits, shown once to the operator and stored only
 * as PBKDF2-HMAC-SHA256 with a per-token random salt (the digits are few,
 * so a plain hash of a stolen registry would fall to a quick search).  It
 * counts as possession only in zones with temp_code = allow (policy.c),
 * expires (at most ZM_TEMPCODE_MAX_VALID), and is consumed by its first
 * successful use through one atomic store update (revoke, reason "used"):
 * two logins racing with the same code cannot both win.  Issue and every
 * use are audited ("tempcode_issue", "tempcode_use").
 *
 * Token data: salt (16) || hash (32) || expiry (8, big-endian unix time).
 */
#include <config.h>

#include <openssl/evp.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tempcode.h"
#include "tokend.h"
#include "wipe.h"

#define SALT_LEN	16
#define HASH_LEN	32
#define DATA_LEN	(SALT_LEN + HASH_LEN + 8)
#define KDF_ITER	20000

static int
kdf(const char *code, const uint8_t *salt, uint8_t out[HASH_LEN])
{
	if (PKCS5_PBKDF2_HMAC(code, (int)strlen(code), salt, SALT_LEN,
	    KDF_ITER, EVP_sha256(), HASH_LEN, out) != 1)
		return ZM_ERR_CRYPTO;
	return ZM_OK;
}

static int64_t
data_expiry(const struct zm_token *t)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | t->data[SALT_LEN + HASH_LEN + i];
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int
zm_tempcode_usable(const struct zm_token *t, int64_t now)
{
	return t->kind == ZM_TOK_TEMPCODE && t->state == ZM_TS_ACTIVE &&
	    t->data != NULL && t->data_len == DATA_LEN &&
	    data_expiry(t) > now;
}

int
zm_tempcode_spent(struct zm_tokend *d, const char *user, int64_t now)
{
	struct zm_token	*t = NULL;
	size_t		 n = 0, i;
	int		 spent = 0;

	if (zm_store_token_list(d->st, user, &t, &n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (t[i].kind != ZM_TOK_TEMPCODE)
			continue;
		if (zm_tempcode_usable(&t[i], now)) {
			spent = 0;
			break;
		}
		if (t[i].state != ZM_TS_ACTIVE &&
		    strcmp(t[i].revoke_reason, "used") == 0 &&
		    t[i].data != NULL && t[i].data_len == DATA_LEN &&
		    data_expiry(&t[i]) > now)
			spent = 1;
	}
	zm_tokens_free(t, n);
	return spent;
}

/* Ten digits, uniform: rejection sampling of random bytes. */
static int
random_code(char out[ZM_TEMPCODE_LEN + 1])
{
	uint8_t	b[32];
	size_t	i, n = 0;
	int	r;

	while (n < ZM_TEMPCODE_LEN) {
		if ((r = zm_random(b, sizeof(b))) != 0) {
			zm_wipe(b, sizeof(b));
			return r;
		}
		for (i = 0; i < sizeof(b) && n < ZM_TEMPCODE_LEN; i++)
			if (b[i] < 250)
				out[n++] = (char)('0' + b[i] % 10);
	}
	out[n] = '\0';
	zm_wipe(b, sizeof(b));
	return ZM_OK;
}

static int
code_wellformed(const char *code)
{
	size_t i;

	for (i = 0; code[i] != '\0'; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return i == ZM_TEMPCODE_LEN;
}

int
zm_tempcode_verify(struct zm_tokend *d, const char *user, const char *code,
    int64_t now, int64_t *token_id)
{
	struct zm_token	*t = NULL;
	uint8_t		 h[HASH_LEN];
	int64_t		*ids = NULL;
	size_t		 n = 0, i, nids = 0;
	int		 r;

	*token_id = 0;
	if (!code_wellformed(code))
		return ZM_ERR_DENIED;
	if ((r = zm_store_token_list(d->st, user, &t, &n)) != 0)
		return r;
	r = ZM_ERR_DENIED;
	for (i = 0; i < n; i++) {
		if (!zm_tempcode_usable(&t[i], now))
			continue;
		if ((r = kdf(code, t[i].data, h)) != 0)
			goto out;
		if (zm_ct_memcmp(h, t[i].data + SALT_LEN, HASH_LEN) != 0) {
			r = ZM_ERR_DENIED;
			continue;
		}
		/* One use: whoever changes the row first has it. */
		r = zm_store_revoke(d->st, user, t[i].id, NULL, "used", now,
		    &ids, &nids);
		free(ids);
		ids = NULL;
		if (r == ZM_ERR_NOTFOUND || (r == ZM_OK && nids == 0))
			r = ZM_ERR_REPLAY;
		else if (r == ZM_OK)
			*token_id = t[i].id;
		goto out;
	}
 out:
	zm_wipe(h, sizeof(h));
	zm_tokens_free(t, n);
	return r;
}

static void
audit_issue(struct zm_tokend *d, const char *user, const char *result,
    const char *reason, const struct zm_peer *peer, const char *tok,
    const char *detail, int durable)
{
	if (zm_audit_event(d->audit, "tempcode_issue", user, NULL, result,
	    reason, NULL, peer->name, tok, detail, durable) != 0)
		zm_err("tempcode_issue: audit write failed");
}

int
zm_admin_temp_code(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	struct zm_token	 t;
	struct tm	 tm;
	char		 user[ZM_NAME_MAX], code[ZM_TEMPCODE_LEN + 1];
	char		 until[32], tok[32], detail[128];
	const char	*why;
	int		 st;
	uint8_t		 data[DATA_LEN];
	uint64_t	 valid = 0, exp;
	time_t		 te;
	int64_t		 now = zm_now();
	size_t		 i;
	int		 r = ZM_ERR_INTERNAL;

	memset(&t, 0, sizeof(t));
	memset(code, 0, sizeof(code));
	if (zm_msg_get_str(req, ZM_T_USER, user, sizeof(user)) != 0 ||
	    !zm_user_name_valid(user) ||
	    zm_msg_get_u64(req, ZM_T_DURATION, &valid) != 0 || valid == 0 ||
	    valid > ZM_TEMPCODE_MAX_VALID)
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	/* R10: nobody issues themselves a way in (nor root a way in). */
	if ((st = zm_operator_check(d->cfg, peer, user, 0, &why)) !=
	    ZM_ST_OK) {
		zm_notice("tempcode_issue: %s may not act on %s: %s",
		    peer->name, user, why);
		audit_issue(d, user, "refused", why, peer, NULL, NULL, 0);
		return zm_reply_result(reply, st, ZM_MSG_NOT_PERMITTED, 0, 0);
	}
	if (!zm_user_exists(user)) {
		audit_issue(d, user, "refused", "no such user", peer, NULL,
		    NULL, 0);
		return zm_reply_result(reply, ZM_ST_NOTFOUND, ZM_MSG_NONE, 0,
		    0);
	}
	exp = (uint64_t)now + valid;
	if ((r = random_code(code)) != 0 ||
	    (r = zm_random(data, SALT_LEN)) != 0 ||
	    (r = kdf(code, data, data + SALT_LEN)) != 0)
		goto out;
	for (i = 0; i < 8; i++)
		data[SALT_LEN + HASH_LEN + i] = (uint8_t)(exp >> (56 - 8 * i));
	te = (time_t)exp;
	if (gmtime_r(&te, &tm) == NULL ||
	    strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(until, sizeof(until), "%" PRIu64, exp);

	memcpy(t.user, user, sizeof(t.user));
	t.kind = ZM_TOK_TEMPCODE;
	t.state = ZM_TS_ACTIVE;
	snprintf(t.label, sizeof(t.label), "temporary code until %s", until);
	snprintf(t.algo, sizeof(t.algo), "PBKDF2");
	t.last_step = -1;
	t.created = now;
	snprintf(t.enrolled_by, sizeof(t.enrolled_by), "%s", peer->name);
	if ((t.data = malloc(DATA_LEN)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	memcpy(t.data, data, DATA_LEN);
	t.data_len = DATA_LEN;
	if ((r = zm_store_user_ensure(d->st, user, now)) != 0 ||
	    (r = zm_store_token_add(d->st, &t, now)) != 0) {
		audit_issue(d, user, "error", zm_strerror(r), peer, NULL, NULL,
		    0);
		goto out;
	}
	snprintf(tok, sizeof(tok), "%" PRId64, t.id);
	if (snprintf(detail, sizeof(detail), "valid until %s", until) < 0)
		detail[0] = '\0';
	/* Durable before the code is shown: every use must be traceable. */
	audit_issue(d, user, "ok", "", peer, tok, detail, 1);
	zm_notice("temporary code (token %" PRId64 ") for %s issued by %s, %s",
	    t.id, user, peer->name, detail);
	if ((r = zm_reply_secret(reply, code, t.id, (int64_t)exp)) != 0)
		goto out;
	r = ZM_OK;
 out:
	zm_wipe(code, sizeof(code));
	zm_wipe(data, sizeof(data));
	zm_token_clear(&t);
	return r;
}
