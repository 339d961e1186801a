/*
 * reply.c - building the daemon's replies (tokend.h): one RESULT with its
 * optional fields, a one-time secret, messages appended to a reply.
 */
#include <config.h>

#include <stdint.h>
#include <time.h>

#include "err.h"
#include "ipc.h"
#include "tokend.h"

int64_t
zm_now(void)
{
	return (int64_t)time(NULL);
}

int
zm_reply_append(struct zm_buf *reply, struct zm_buf *msg)
{
	int r;

	r = zm_buf_put(reply, msg->data, msg->len);
	zm_buf_reset(msg);
	return r;
}

/*
 * One RESULT: STATUS, then each optional field that is set, in this order:
 * MSG, TEXT, TOKEN_ID, TIME, COUNT.  m is wiped when appended and freed.
 */
static int
reply_build(struct zm_buf *reply, int status, int msgid, const char *text,
    int64_t token_id, int64_t time_v, uint32_t count)
{
	struct zm_buf	m;
	int		r;

	zm_buf_init(&m, ZM_MSG_MAX);
	if ((r = zm_msg_begin(&m, ZM_REP_RESULT)) != 0 ||
	    (r = zm_msg_add_u32(&m, ZM_T_STATUS, (uint32_t)status)) != 0)
		goto out;
	if (msgid != ZM_MSG_NONE &&
	    (r = zm_msg_add_u32(&m, ZM_T_MSG, (uint32_t)msgid)) != 0)
		goto out;
	if (text != NULL && (r = zm_msg_add_str(&m, ZM_T_TEXT, text)) != 0)
		goto out;
	if (token_id > 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_TOKEN_ID, (uint64_t)token_id)) != 0)
		goto out;
	if (time_v > 0 &&
	    (r = zm_msg_add_u64(&m, ZM_T_TIME, (uint64_t)time_v)) != 0)
		goto out;
	if (count != 0 && (r = zm_msg_add_u32(&m, ZM_T_COUNT, count)) != 0)
		goto out;
	if ((r = zm_msg_end(&m)) != 0)
		goto out;
	r = zm_reply_append(reply, &m);
 out:
	zm_buf_free(&m);
	return r;
}

int
zm_reply_result(struct zm_buf *reply, int status, int msgid, int64_t time_v,
    uint32_t count)
{
	return reply_build(reply, status, msgid, NULL, 0, time_v, count);
}

int
zm_reply_secret(struct zm_buf *reply, const char *text, int64_t token_id,
    int64_t time_v)
{
	return reply_build(reply, ZM_ST_OK, ZM_MSG_NONE, text, token_id,
	    time_v, 0);
}
