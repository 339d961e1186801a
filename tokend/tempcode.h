/*
 * tempcode.h - helpdesk temporary codes (tempcode.c).
 */
#ifndef ZM_TEMPCODE_H
#define ZM_TEMPCODE_H

#include <stdint.h>

#include "ipc.h"
#include "store.h"
#include "tokend.h"

#define ZM_TEMPCODE_LEN		10
#define ZM_TEMPCODE_MAX_VALID	(7 * 86400)	/* seconds */

/* 1 if t is an active, unexpired temporary code with sane data. */
int zm_tempcode_usable(const struct zm_token *t, int64_t now);
/*
 * 1 if the user has no usable temporary code but one that was used up
 * (revoked "used") and would still be valid: a second use of it is then
 * "code already used", not "no token" (R17).  0 otherwise or on error.
 */
int zm_tempcode_spent(struct zm_tokend *d, const char *user, int64_t now);
/*
 * Check code against the user's usable temporary codes; a match is
 * consumed atomically (*token_id).  ZM_ERR_DENIED no match, ZM_ERR_REPLAY
 * a match that was consumed meanwhile, else a store/crypto error.
 */
int zm_tempcode_verify(struct zm_tokend *d, const char *user,
    const char *code, int64_t now, int64_t *token_id);
/* ZM_REQ_TEMP_CODE: USER DURATION -> RESULT TEXT=code TOKEN_ID TIME. */
int zm_admin_temp_code(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply);

#endif
