/*
 * fuzz_auditrec.c - libFuzzer harness for the audit-line parser and the
 * log verifier.  A line that parses must format back to a line that parses
 * to the same record (or be refused as too long, never garbled).
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditrec.h"
#include "buf.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(const struct zm_audit_rec *r)
{
	struct zm_audit_rec	back;
	struct zm_buf		b;
	int			rv;

	zm_buf_init(&b, 2 * ZM_AUDIT_MAX_LINE);
	rv = zm_auditrec_format(r, &b);
	if (rv == ZM_ERR_TOOBIG) {
		if (b.len != 0)
			abort();
	} else if (rv != ZM_OK ||
	    zm_auditrec_parse((const char *)b.data, b.len, &back) != ZM_OK ||
	    memcmp(r, &back, sizeof(back)) != 0)
		abort();
	zm_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zm_audit_rec	 r;
	char			 why[128], head[ZM_AUDIT_HASH_HEX];
	uint64_t		 n, line, seq;
	FILE			*f;
	int			 rv;

	if (zm_auditrec_parse((const char *)data, size, &r) == ZM_OK)
		roundtrip(&r);
	if (size == 0 || (f = fmemopen((void *)(uintptr_t)data, size,
	    "r")) == NULL)
		return 0;
	rv = zm_audit_verify_file(f, NULL, &n, &line, &seq, why, sizeof(why),
	    head);
	/* A bad log names a line after the good records it counted. */
	if (rv == ZM_ERR_INVALID && (line != n + 1 || why[0] == '\0'))
		abort();
	if (rv == ZM_OK && (line != 0 || strlen(head) != 64))
		abort();
	fclose(f);
	return 0;
}
