/*
 * auditrec.h - one audit record: JSON line format, strict parser and the
 * hash chain.  The daemon writes records (tokend/audit.c); zonemfa-audit
 * reads them; the fuzzer feeds zm_auditrec_parse().
 *
 * A line is a flat JSON object with the keys below in this order; string
 * values are JSON-escaped, "seq" is a number.  "prev" is the lower-case
 * hex SHA-256 of the previous line's bytes (without its newline); the first
 * record of a new chain has 64 zeros.  No secret is ever a field.
 *
 * "person" follows "user" only when set: the member of a shared account
 * whose own token opened it ([shared NAME] in zonemfa.conf(5)).  Records
 * without it are byte for byte what older versions wrote, so old logs
 * verify unchanged.
 *
 * {"seq":N,"time":"2026-11-22T01:02:03.456Z","event":"auth","user":"alice",
 *  "zone":"lgwan","terminal":"t1","result":"ok","reason":"...",
 *  "methods":"password totp","operator":"","token":"","detail":"",
 *  "prev":"<64 hex>"}
 */
#ifndef ZM_AUDITREC_H
#define ZM_AUDITREC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"

#define ZM_AUDIT_MAX_LINE	4096
#define ZM_AUDIT_HASH_HEX	65	/* 64 hex + NUL */

struct zm_audit_rec {
	uint64_t	seq;
	char		time[32];	/* RFC 3339 UTC with ms */
	char		event[32];	/* auth account session_open session_close
					   enrol unlock disable enable revoke
					   lock start stop ... */
	char		user[64];
	char		person[64];	/* optional: shared account's member */
	char		zone[64];
	char		terminal[64];
	char		result[16];	/* ok fail refused error */
	char		reason[128];
	char		methods[64];
	char		operator_[64];
	char		token[64];
	char		detail[256];
	char		prev[ZM_AUDIT_HASH_HEX];
};

/* Format r as one line (no newline) into out. */
int zm_auditrec_format(const struct zm_audit_rec *r, struct zm_buf *out);
/* Strict parse of one line (no newline).  ZM_ERR_INVALID on any deviation. */
int zm_auditrec_parse(const char *line, size_t len, struct zm_audit_rec *r);
/* hex SHA-256 of line[0..len). */
int zm_audit_hash(const char *line, size_t len, char hex[ZM_AUDIT_HASH_HEX]);
/* Fill time with the current UTC time, RFC 3339 with milliseconds. */
void zm_audit_now(char *out, size_t outlen);

/*
 * Verify a whole log read from f: every line parses, seq increases by one,
 * each prev equals the hash of the line before.  start_prev is the expected
 * prev of the first line (NULL: 64 zeros).  On failure returns
 * ZM_ERR_INVALID with *bad_line (1-based) and *bad_seq (0 if unparseable)
 * and a reason in why.  head (optional) receives the hash of the last line.
 */
int zm_audit_verify_file(FILE *f, const char *start_prev, uint64_t *nrecords,
    uint64_t *bad_line, uint64_t *bad_seq, char *why, size_t whylen,
    char head[ZM_AUDIT_HASH_HEX]);

#endif
