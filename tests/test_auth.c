/*
 * test_auth.c - the authentication conversation and the account check
 * (tokend/auth.c) against the real store, crypto, liboath and audit log,
 * without a socket: requests are built with the IPC codec and the replies
 * parsed back.
 *
 * R1  zone policy decides (password only in internet, TOTP in lgwan)
 * R5  revoked tokens never authenticate
 * R8  dormant and disabled accounts are refused
 * R9  privileged users lock sooner
 * R13 attempt limit, last-login display data
 * R14 seeds decrypted only for verification; no code in any record
 * R15 every decision audited
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include "audit.h"
#include "auditrec.h"
#include "auth_impl.h"
#include "conf.h"
#include "crypto.h"
#include "err.h"
#include "ipc.h"
#include "store.h"
#include "tokend.h"
#include "totp.h"
#include "wipe.h"

static const char conf_text[] =
    "[tokend]\n"
    "audit_log = /nonexistent/audit.log\n"
    "[zone lgwan]\n"
    "require = knowledge possession\n"
    "methods = card fido2 totp\n"
    "password = stack\n"
    "max_failures = 3\n"
    "lockout = 30m\n"
    "privileged_groups = root\n"
    "privileged_max_failures = 2\n"
    "[zone hdlock]\n"
    "require = knowledge possession\n"
    "methods = totp\n"
    "max_failures = 2\n"
    "privileged_max_failures = 2\n"
    "lockout = helpdesk\n"
    "[zone kiosk]\n"
    "require = possession\n"
    "methods = totp\n"
    "password = none\n"
    "max_failures = 3\n"
    "[zone dorm]\n"
    "require = knowledge possession\n"
    "methods = totp\n"
    "dormant_after = 1d\n"
    "[zone cardonly]\n"
    "require = knowledge possession\n"
    "methods = card\n"
    "[shared counter1]\n"
    "members = alice bob\n";

struct fx {
	char			 dir[64];
	char			 log[128];
	struct zm_tokend	 d;
	struct zm_auth		*auth;
	uint8_t			 seed[20];
};

/* The last message of a reply, flattened. */
struct rep {
	unsigned	nmsg;		/* 1 if any message came back */
	uint16_t	type;
	uint32_t	status, msg, prompt, count, count2;
	uint64_t	time, time2;
	int		has_count, has_time;
	char		ticket[64], text2[128];
};

static int
setup(void **state)
{
	struct fx		*fx;
	struct zm_errlist	 errs = { NULL, 0 };
	char			 uri[160];

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/zm-test-auth-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->log, sizeof(fx->log), "%s/audit.log", fx->dir);
	snprintf(uri, sizeof(uri), "sqlite:%s/registry.db", fx->dir);
	if (zm_config_parse("test.conf", conf_text, sizeof(conf_text) - 1,
	    &fx->d.cfg, &errs) != 0) {
		size_t i;

		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		zm_errlist_free(&errs);
		return -1;
	}
	if (zm_store_open(uri, &fx->d.st) != 0 ||
	    zm_audit_open(fx->log, fx->d.st, "term-1", &fx->d.audit) != 0 ||
	    zm_tickets_new(&fx->d.tickets) != 0 ||
	    zm_random(fx->d.key.k, sizeof(fx->d.key.k)) != 0 ||
	    zm_random(fx->seed, sizeof(fx->seed)) != 0 ||
	    zm_totp_init() != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	char		 cmd[160];

	zm_auth_abort(&fx->d, fx->auth);
	zm_tickets_free(fx->d.tickets);
	zm_audit_close(fx->d.audit);
	zm_store_close(fx->d.st);
	zm_config_free(fx->d.cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

/* Enrol a SHA1/6/30 TOTP token for user, sealed with aad_user's AAD. */
static int64_t
enrol(struct fx *fx, const char *user, const char *aad_user)
{
	struct zm_token	t;
	char		aad[80];

	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "%s", user);
	t.kind = ZM_TOK_TOTP;
	t.state = ZM_TS_ACTIVE;
	snprintf(t.label, sizeof(t.label), "phone");
	snprintf(t.algo, sizeof(t.algo), "SHA1");
	t.digits = 6;
	t.period = 30;
	t.last_step = -1;
	snprintf(t.enrolled_by, sizeof(t.enrolled_by), "hd1");
	snprintf(aad, sizeof(aad), ZM_TOTP_AAD_FMT, aad_user);
	assert_int_equal(zm_seal(&fx->d.key, aad, fx->seed, sizeof(fx->seed),
	    &t.secret, &t.secret_len), 0);
	assert_int_equal(zm_store_token_add(fx->d.st, &t, time(NULL)), 0);
	free(t.secret);
	return t.id;
}

/* The code for the step `steps` away from now. */
static void
code_at(struct fx *fx, int steps, char out[16])
{
	assert_int_equal(zm_totp_generate(fx->seed, sizeof(fx->seed),
	    ZM_TOTP_SHA1, 6, 30, time(NULL) + steps * 30, out, 16), 0);
}

static void
parse_reply(struct zm_buf *b, struct rep *out)
{
	struct zm_msg	m;
	size_t		off = 0, flen = 0;

	memset(out, 0, sizeof(*out));
	while (off < b->len) {
		assert_int_equal(zm_msg_frame_len(b->data + off, b->len - off,
		    &flen), 0);
		assert_int_equal(zm_msg_parse(b->data + off, flen, &m), 0);
		memset(out, 0, sizeof(*out));
		out->nmsg = 1;
		out->type = m.type;
		zm_msg_get_u32(&m, ZM_T_STATUS, &out->status);
		zm_msg_get_u32(&m, ZM_T_MSG, &out->msg);
		zm_msg_get_u32(&m, ZM_T_PROMPT, &out->prompt);
		out->has_count = zm_msg_get_u32(&m, ZM_T_COUNT,
		    &out->count) == 0;
		out->has_time = zm_msg_get_u64(&m, ZM_T_TIME, &out->time) == 0;
		zm_msg_get_u32(&m, ZM_T_COUNT2, &out->count2);
		zm_msg_get_u64(&m, ZM_T_TIME2, &out->time2);
		zm_msg_get_str(&m, ZM_T_TICKET, out->ticket,
		    sizeof(out->ticket));
		zm_msg_get_str(&m, ZM_T_TEXT2, out->text2, sizeof(out->text2));
		off += flen;
	}
}

static void
peer_root(struct zm_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->is_root = 1;
	p->pid = getpid();	/* the ticket binds to a real process */
	snprintf(p->name, sizeof(p->name), "root");
}

static void
peer_user(struct zm_peer *p, uid_t uid, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->uid = uid;
	snprintf(p->name, sizeof(p->name), "%s", name);
}

/* AUTH_BEGIN (or ACCOUNT) for user/zone (NULL: field left out). */
static int
request(struct fx *fx, const struct zm_peer *peer, uint16_t type,
    const char *user, const char *zone, const char *rhost, struct rep *out)
{
	struct zm_buf	req, rep;
	struct zm_msg	m;
	int		r;

	zm_buf_init(&req, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	zm_buf_init(&rep, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	assert_int_equal(zm_msg_begin(&req, type), 0);
	if (user != NULL)
		assert_int_equal(zm_msg_add_str(&req, ZM_T_USER, user), 0);
	if (zone != NULL)
		assert_int_equal(zm_msg_add_str(&req, ZM_T_ZONE, zone), 0);
	if (rhost != NULL)
		assert_int_equal(zm_msg_add_str(&req, ZM_T_RHOST, rhost), 0);
	assert_int_equal(zm_msg_add_str(&req, ZM_T_TTY, "pts/1"), 0);
	assert_int_equal(zm_msg_end(&req), 0);
	assert_int_equal(zm_msg_parse(req.data, req.len, &m), 0);
	if (type == ZM_REQ_AUTH_BEGIN) {
		assert_null(fx->auth);
		r = zm_auth_begin(&fx->d, peer, &m, &fx->auth, &rep);
	} else
		r = zm_account_check(&fx->d, peer, &m, &rep);
	parse_reply(&rep, out);
	/* A conversation is open exactly when the reply is a PROMPT. */
	assert_int_equal(fx->auth != NULL, out->type == ZM_REP_PROMPT);
	zm_buf_free(&req);
	zm_buf_free(&rep);
	return r;
}

static void
begin(struct fx *fx, const char *user, const char *zone, struct rep *out)
{
	struct zm_peer p;

	peer_root(&p);
	assert_int_equal(request(fx, &p, ZM_REQ_AUTH_BEGIN, user, zone,
	    "10.0.0.7", out), 0);
}

static void
account(struct fx *fx, const char *user, const char *zone, struct rep *out)
{
	struct zm_peer p;

	peer_root(&p);
	assert_int_equal(request(fx, &p, ZM_REQ_ACCOUNT, user, zone, NULL,
	    out), 0);
}

/* AUTH_ANSWER with code, or with FLAGS = ZM_ANSWER_NONE when code is NULL. */
static void
answer(struct fx *fx, const char *code, struct rep *out)
{
	struct zm_buf	req, rep;
	struct zm_msg	m;

	assert_non_null(fx->auth);
	zm_buf_init(&req, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	zm_buf_init(&rep, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	assert_int_equal(zm_msg_begin(&req, ZM_REQ_AUTH_ANSWER), 0);
	if (code != NULL)
		assert_int_equal(zm_msg_add_str(&req, ZM_T_ANSWER, code), 0);
	else
		assert_int_equal(zm_msg_add_u32(&req, ZM_T_FLAGS,
		    ZM_ANSWER_NONE), 0);
	assert_int_equal(zm_msg_end(&req), 0);
	assert_int_equal(zm_msg_parse(req.data, req.len, &m), 0);
	assert_int_equal(zm_auth_answer(&fx->d, &fx->auth, &m, &rep), 0);
	parse_reply(&rep, out);
	assert_int_equal(fx->auth != NULL, out->type == ZM_REP_PROMPT);
	zm_buf_free(&req);
	zm_buf_free(&rep);
}

static void
expect_result(const struct rep *r, uint32_t status, uint32_t msg)
{
	if (r->type != ZM_REP_RESULT || r->status != status || r->msg != msg)
		fail_msg("reply type 0x%x status %u msg %u, want RESULT %u msg %u",
		    r->type, r->status, r->msg, status, msg);
}

static void
expect_prompt(const struct rep *r)
{
	if (r->type != ZM_REP_PROMPT || r->prompt != ZM_PROMPT_OTP ||
	    r->msg != ZM_MSG_ENTER_OTP)
		fail_msg("reply type 0x%x status %u msg %u, want OTP prompt",
		    r->type, r->status, r->msg);
}

static uint32_t
failures_of(struct fx *fx, const char *user)
{
	struct zm_user_state us;

	if (zm_store_user_get(fx->d.st, user, &us) == ZM_ERR_NOTFOUND)
		return 0;
	return us.failures;
}

/* Count audit records with event and result, checking none holds code. */
static unsigned
audit_count(struct fx *fx, const char *event, const char *result,
    const char *reason, const char *never)
{
	struct zm_audit_rec	 rec;
	FILE			*f;
	char			 line[ZM_AUDIT_MAX_LINE + 2];
	unsigned		 n = 0;

	assert_non_null(f = fopen(fx->log, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		assert_int_equal(zm_auditrec_parse(line, strlen(line), &rec), 0);
		if (never != NULL) {
			/* R14: no code in any field we fill. */
			assert_null(strstr(rec.reason, never));
			assert_null(strstr(rec.detail, never));
			assert_null(strstr(rec.methods, never));
			assert_null(strstr(rec.token, never));
			assert_null(strstr(rec.user, never));
		}
		if (strcmp(rec.event, event) == 0 &&
		    (result == NULL || strcmp(rec.result, result) == 0) &&
		    (reason == NULL || strcmp(rec.reason, reason) == 0))
			n++;
	}
	fclose(f);
	return n;
}

/* Audit lines containing s. */
static unsigned
audit_grep(struct fx *fx, const char *s)
{
	FILE		*f;
	char		 line[ZM_AUDIT_MAX_LINE + 2];
	unsigned	 n = 0;

	assert_non_null(f = fopen(fx->log, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return n;
}

/* R1/R13: password + TOTP in lgwan; a ticket; last-login data. */
static void
test_totp_login(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;
	struct zm_peer		 p;
	struct zm_ticket_bind	 by;
	struct zm_ticket_info	 info;
	char		 code[16];
	int64_t		 id, tid = 0;
	unsigned	 m = 0;

	id = enrol(fx, "alice", "alice");
	begin(fx, "alice", "lgwan", &r);
	expect_prompt(&r);
	code_at(fx, 0, code);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	assert_int_equal(strlen(r.ticket), 32);
	assert_int_equal(r.time, 0);		/* never logged in before */
	assert_string_equal(r.text2, "");
	peer_root(&p);
	zm_ticket_bind_peer(&p, &by);
	assert_int_equal(zm_ticket_take_at(fx->d.tickets, r.ticket, "alice",
	    &by, zm_now(), &info), 0);
	tid = info.token_id;
	m = info.methods;
	assert_int_equal(tid, id);
	assert_int_equal(m, ZM_METHOD_TOTP);

	/* The next step's code works and reports the previous login. */
	begin(fx, "alice", "lgwan", &r);
	expect_prompt(&r);
	code_at(fx, 1, code);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	assert_true(r.time > 0);
	assert_string_equal(r.text2, "10.0.0.7");
	assert_int_equal(audit_count(fx, "auth", "ok", "verified", code), 2);
	/* R15: methods, token and origin are recorded. */
	snprintf(code, sizeof(code), "\"token\":\"%lld\"", (long long)id);
	assert_int_equal(audit_grep(fx, code), 2);
	assert_int_equal(audit_grep(fx, "\"methods\":\"password totp\""), 2);
	assert_int_equal(audit_grep(fx, "\"detail\":\"tty=pts/1 rhost=10.0.0.7\""),
	    2);
}

/* A replayed code is refused and counted. */
static void
test_replay(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;
	char		 code[16];

	enrol(fx, "alice", "alice");
	code_at(fx, 0, code);
	begin(fx, "alice", "lgwan", &r);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	begin(fx, "alice", "lgwan", &r);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_CODE_USED);
	assert_true(r.has_count);
	assert_int_equal(r.count, 2);
	assert_int_equal(failures_of(fx, "alice"), 1);
	/* An older step is a replay too. */
	code_at(fx, -1, code);
	begin(fx, "alice", "lgwan", &r);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_CODE_USED);
	assert_int_equal(audit_count(fx, "auth", "fail", "code already used",
	    code), 2);
}

/* R13: max_failures wrong codes lock; then not even a prompt. */
static void
test_lockout(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;
	char		 code[16];
	int64_t		 now = time(NULL);

	enrol(fx, "alice", "alice");
	begin(fx, "alice", "lgwan", &r);
	answer(fx, "000000x", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_WRONG_CODE);
	assert_int_equal(r.count, 2);
	begin(fx, "alice", "lgwan", &r);
	answer(fx, "", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_WRONG_CODE);
	assert_int_equal(r.count, 1);
	begin(fx, "alice", "lgwan", &r);
	code_at(fx, 5, code);		/* valid code, wrong time */
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_UNTIL);
	assert_true(r.time >= (uint64_t)now + 1800 &&
	    r.time <= (uint64_t)now + 1810);
	assert_int_equal(audit_count(fx, "lock", "ok", NULL, code), 1);

	begin(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_UNTIL);
	assert_true(r.time >= (uint64_t)now + 1800);
	assert_int_equal(audit_count(fx, "auth", "refused", "account locked",
	    NULL), 1);
	/* The account phase refuses it too. */
	account(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_UNTIL);
}

/* R9: a member of privileged_groups (root) locks after 2, not 3. */
static void
test_privileged_lockout(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;

	enrol(fx, "root", "root");
	begin(fx, "root", "lgwan", &r);
	answer(fx, "123456", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_WRONG_CODE);
	assert_int_equal(r.count, 1);
	begin(fx, "root", "lgwan", &r);
	answer(fx, "654321", &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_UNTIL);
}

/* lockout = helpdesk: TIME 0 until unlocked, then a fresh start. */
static void
test_helpdesk_lock(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;
	char		 code[16];

	enrol(fx, "alice", "alice");
	begin(fx, "alice", "hdlock", &r);
	answer(fx, "111111", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_WRONG_CODE);
	begin(fx, "alice", "hdlock", &r);
	answer(fx, "222222", &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_HELPDESK);
	assert_true(r.has_time);
	assert_int_equal(r.time, 0);
	begin(fx, "alice", "hdlock", &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_HELPDESK);
	assert_int_equal(r.time, 0);
	/* Not in any other zone either: the lock is per user. */
	begin(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_LOCKED, ZM_MSG_LOCKED_HELPDESK);

	assert_int_equal(zm_store_unlock(fx->d.st, "alice"), 0);
	begin(fx, "alice", "hdlock", &r);
	expect_prompt(&r);
	code_at(fx, 0, code);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	assert_int_equal(r.count2, 2);		/* failed attempts since */
}

/* A timed lock that ran out: prompted again, with a fresh count. */
static void
test_expired_lock(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 us;
	struct rep		 r;
	uint32_t		 n = 0;
	int64_t			 until = 0, past = time(NULL) - 4000;
	int			 i;

	enrol(fx, "alice", "alice");
	for (i = 0; i < 3; i++)
		assert_int_equal(zm_store_failure_add(fx->d.st, "alice", past,
		    3, 1800, &n, &until), 0);
	assert_int_equal(until, past + 1800);
	begin(fx, "alice", "lgwan", &r);
	expect_prompt(&r);
	/* Cleared when seen, so the count restarts whatever comes next. */
	assert_int_equal(zm_store_user_get(fx->d.st, "alice", &us), 0);
	assert_int_equal(us.locked_until, 0);
	assert_int_equal(us.failures, 0);
	answer(fx, "999999", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_WRONG_CODE);
	assert_int_equal(r.count, 2);
}

/* A conversation that ends without an answer is not a failure. */
static void
test_abort_not_counted(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;

	enrol(fx, "alice", "alice");
	begin(fx, "alice", "lgwan", &r);
	answer(fx, NULL, &r);
	expect_result(&r, ZM_ST_ABORTED, ZM_MSG_NONE);
	begin(fx, "alice", "lgwan", &r);
	zm_auth_abort(&fx->d, fx->auth);	/* connection closed */
	fx->auth = NULL;
	assert_int_equal(failures_of(fx, "alice"), 0);
	assert_int_equal(audit_count(fx, "auth", "aborted", NULL, NULL), 2);
}

/* Root may authenticate anyone; others only themselves. */
static void
test_permission(void **state)
{
	struct fx	*fx = *state;
	struct zm_peer	 p;
	struct rep	 r;

	enrol(fx, "alice", "alice");
	peer_user(&p, 2002, "bob");
	assert_int_equal(request(fx, &p, ZM_REQ_AUTH_BEGIN, "alice", "lgwan",
	    NULL, &r), 0);
	expect_result(&r, ZM_ST_PERM, ZM_MSG_NOT_PERMITTED);
	assert_int_equal(audit_count(fx, "auth", "refused",
	    "caller uid 2002 may not authenticate alice", NULL), 1);
	/* A uid without a passwd entry is nobody in particular. */
	peer_user(&p, 4242, "");
	assert_int_equal(request(fx, &p, ZM_REQ_AUTH_BEGIN, "alice", "lgwan",
	    NULL, &r), 0);
	expect_result(&r, ZM_ST_PERM, ZM_MSG_NOT_PERMITTED);
	assert_int_equal(request(fx, &p, ZM_REQ_ACCOUNT, "alice", "lgwan",
	    NULL, &r), 0);
	expect_result(&r, ZM_ST_PERM, ZM_MSG_NOT_PERMITTED);
	/* Oneself: fine (a screen locker runs as the user). */
	peer_user(&p, 2001, "alice");
	assert_int_equal(request(fx, &p, ZM_REQ_AUTH_BEGIN, "alice", "lgwan",
	    NULL, &r), 0);
	expect_prompt(&r);
	assert_int_equal(failures_of(fx, "alice"), 0);
}

static void
test_invalid_requests(void **state)
{
	struct fx	*fx = *state;
	struct zm_peer	 p;
	struct rep	 r;

	peer_root(&p);
	begin(fx, "a b", "lgwan", &r);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_NONE);
	begin(fx, "a/b", "lgwan", &r);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_NONE);
	begin(fx, "-x", "lgwan", &r);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_NONE);
	begin(fx, "", "lgwan", &r);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_NONE);
	assert_int_equal(request(fx, &p, ZM_REQ_AUTH_BEGIN, NULL, "lgwan",
	    NULL, &r), 0);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_NONE);
	begin(fx, "alice", "nowhere", &r);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_UNKNOWN_ZONE);
	assert_int_equal(request(fx, &p, ZM_REQ_AUTH_BEGIN, "alice", NULL,
	    NULL, &r), 0);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_UNKNOWN_ZONE);
	account(fx, "alice", "nowhere", &r);
	expect_result(&r, ZM_ST_INVALID, ZM_MSG_UNKNOWN_ZONE);

	/* One rule for every part (common/names.c). */
	assert_true(zm_user_name_valid("alice"));
	assert_true(zm_user_name_valid("_svc.x-1"));
	assert_true(zm_user_name_valid("host$"));
	assert_true(zm_user_name_valid("Taro.Yamada@city.example"));
	assert_false(zm_user_name_valid("ho$t"));
	assert_false(zm_user_name_valid("-rf"));
	assert_false(zm_user_name_valid(".."));
	assert_false(zm_user_name_valid("a b"));
	assert_false(zm_user_name_valid("a/b"));
	assert_false(zm_user_name_valid(
	    "a123456789012345678901234567890123456789012345678901234567890123"));
}

/* Nothing enrolled, or only revoked tokens (R5). */
static void
test_no_token_revoked(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 us;
	struct rep		 r;
	int64_t			*ids = NULL;
	size_t			 n = 0;

	begin(fx, "bob", "lgwan", &r);
	expect_result(&r, ZM_ST_NO_TOKEN, ZM_MSG_NO_TOKEN);
	/* Unknown users never get a row. */
	assert_int_equal(zm_store_user_get(fx->d.st, "bob", &us),
	    ZM_ERR_NOTFOUND);
	/* A card is not usable yet: NO_TOKEN in a card-only zone. */
	enrol(fx, "alice", "alice");
	begin(fx, "alice", "cardonly", &r);
	expect_result(&r, ZM_ST_NO_TOKEN, ZM_MSG_NO_TOKEN);

	assert_int_equal(zm_store_revoke(fx->d.st, "alice", 0, NULL, "lost",
	    time(NULL), &ids, &n), 0);
	free(ids);
	begin(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_REVOKED, ZM_MSG_TOKEN_REVOKED);
	account(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_REVOKED, ZM_MSG_TOKEN_REVOKED);
	/* The internet zone needs no token: revoked-only is fine there. */
	account(fx, "alice", "internet", &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
}

/* R1: the internet zone is satisfied by the stack password alone. */
static void
test_internet_password_only(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;

	begin(fx, "carol", "internet", &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	assert_int_equal(strlen(r.ticket), 32);
	assert_int_equal(audit_count(fx, "auth", "ok",
	    "zone satisfied by password", NULL), 1);
}

/* R8: disabled and dormant accounts are refused in both phases. */
static void
test_disabled_dormant(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;
	int64_t		 now = time(NULL);

	enrol(fx, "alice", "alice");
	account(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	assert_int_equal(zm_store_set_disabled(fx->d.st, "alice", 1, now), 0);
	begin(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_DISABLED, ZM_MSG_DISABLED);
	account(fx, "alice", "lgwan", &r);
	expect_result(&r, ZM_ST_DISABLED, ZM_MSG_DISABLED);
	assert_int_equal(audit_count(fx, "account", "refused",
	    "account disabled", NULL), 1);

	/* dave: created two days ago, never used; zone dorm: 1d. */
	assert_int_equal(zm_store_user_ensure(fx->d.st, "dave",
	    now - 2 * 86400), 0);
	enrol(fx, "dave", "dave");
	account(fx, "dave", "dorm", &r);
	expect_result(&r, ZM_ST_DORMANT, ZM_MSG_DORMANT);
	begin(fx, "dave", "dorm", &r);
	expect_result(&r, ZM_ST_DORMANT, ZM_MSG_DORMANT);
	/* Not dormant where the zone has no dormant_after. */
	account(fx, "dave", "lgwan", &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	/* Re-enabling restarts the clock. */
	assert_int_equal(zm_store_set_disabled(fx->d.st, "dave", 0, now), 0);
	account(fx, "dave", "dorm", &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
}

/* password = none: outsiders get a prompt and a generic refusal. */
static void
test_password_none_generic(void **state)
{
	struct fx		*fx = *state;
	struct zm_user_state	 us;
	struct rep		 r, r2;
	char			 code[16];

	begin(fx, "nobody", "kiosk", &r);
	expect_prompt(&r);
	answer(fx, "123456", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_AUTH_FAILED);
	assert_false(r.has_count);
	assert_int_equal(zm_store_user_get(fx->d.st, "nobody", &us),
	    ZM_ERR_NOTFOUND);

	/* A real user's wrong code looks exactly the same. */
	enrol(fx, "alice", "alice");
	begin(fx, "alice", "kiosk", &r2);
	expect_prompt(&r2);
	answer(fx, "123456", &r2);
	assert_memory_equal(&r, &r2, sizeof(r));
	assert_int_equal(failures_of(fx, "alice"), 1);
	/* And the right code works. */
	begin(fx, "alice", "kiosk", &r);
	code_at(fx, 0, code);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	/* Disabled: still a prompt, still generic. */
	assert_int_equal(zm_store_set_disabled(fx->d.st, "alice", 1,
	    time(NULL)), 0);
	begin(fx, "alice", "kiosk", &r);
	expect_prompt(&r);
	answer(fx, "123456", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_AUTH_FAILED);
}

/* R14: a seed that does not decrypt fails closed and is not counted. */
static void
test_unseal_failure(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r;
	char		 code[16];

	enrol(fx, "alice", "mallory");		/* blob bound to another user */
	begin(fx, "alice", "lgwan", &r);
	expect_prompt(&r);
	code_at(fx, 0, code);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_INTERNAL, ZM_MSG_INTERNAL);
	assert_int_equal(failures_of(fx, "alice"), 0);
	assert_int_equal(audit_count(fx, "auth", "error",
	    "seed does not decrypt", code), 1);
}

/*
 * R7: a shared account asks for the member first (echoed), then for the
 * member's own code; in a password = none zone a non-member gets the
 * same decoy as any outsider, and the audit keeps the true reason.
 */
static void
test_shared_member(void **state)
{
	struct fx	*fx = *state;
	struct rep	 r, r2;
	char		 code[16];

	enrol(fx, "alice", "alice");
	begin(fx, "counter1", "lgwan", &r);
	assert_int_equal(r.type, ZM_REP_PROMPT);
	assert_int_equal(r.prompt, ZM_PROMPT_MEMBER);
	assert_int_equal(r.msg, ZM_MSG_ENTER_MEMBER);
	answer(fx, "carol", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_NOT_MEMBER);
	assert_int_equal(audit_count(fx, "auth", "refused",
	    "not a member of the shared account", NULL), 1);

	/* Generic zone: the non-member's refusal looks like any other. */
	begin(fx, "counter1", "kiosk", &r);
	assert_int_equal(r.prompt, ZM_PROMPT_MEMBER);
	answer(fx, "carol", &r);
	expect_prompt(&r);
	answer(fx, "123456", &r);
	begin(fx, "nobody", "kiosk", &r2);
	answer(fx, "123456", &r2);
	assert_memory_equal(&r, &r2, sizeof(r));
	assert_int_equal(failures_of(fx, "counter1"), 0);
	assert_int_equal(audit_count(fx, "auth", "fail",
	    "not a member of the shared account", NULL), 1);

	/* The member's wrong code counts against the member. */
	begin(fx, "counter1", "kiosk", &r);
	answer(fx, "alice", &r);
	expect_prompt(&r);
	answer(fx, "123456", &r);
	expect_result(&r, ZM_ST_DENIED, ZM_MSG_AUTH_FAILED);
	assert_int_equal(failures_of(fx, "alice"), 1);
	assert_int_equal(failures_of(fx, "counter1"), 0);
	/* And her right code opens the shared account. */
	begin(fx, "counter1", "kiosk", &r);
	answer(fx, "alice", &r);
	code_at(fx, 0, code);
	answer(fx, code, &r);
	expect_result(&r, ZM_ST_OK, ZM_MSG_NONE);
	assert_int_equal(failures_of(fx, "alice"), 0);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_totp_login),
		T(test_replay),
		T(test_lockout),
		T(test_privileged_lockout),
		T(test_helpdesk_lock),
		T(test_expired_lock),
		T(test_abort_not_counted),
		T(test_permission),
		T(test_invalid_requests),
		T(test_no_token_revoked),
		T(test_internet_password_only),
		T(test_disabled_dormant),
		T(test_password_none_generic),
		T(test_unseal_failure),
		T(test_shared_member),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
