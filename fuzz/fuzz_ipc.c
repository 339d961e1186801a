/*
 * fuzz_ipc.c - libFuzzer harness for the IPC decoder: whole messages,
 * bodies alone, the incremental frame reader and every getter.  A message
 * that parses must re-encode to the very same bytes.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
getters(const struct zm_msg *m)
{
	char		s[ZM_IPC_MAX_STR + 1];
	uint32_t	u;
	uint64_t	v;
	uint16_t	t;
	int		r;

	for (t = 0; t <= ZM_T__MAX; t++) {
		r = zm_msg_get_str(m, t, s, sizeof(s));
		if (r == ZM_OK && strlen(s) != zm_msg_find(m, t)->len)
			abort();
		(void)zm_msg_get_str(m, t, s, 8);
		(void)zm_msg_get_u32(m, t, &u);
		(void)zm_msg_get_u64(m, t, &v);
	}
}

static void
reencode(const uint8_t *data, size_t size, const struct zm_msg *m)
{
	struct zm_buf	b;
	size_t		i;

	zm_buf_init(&b, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	if (zm_msg_begin(&b, m->type) != ZM_OK)
		abort();
	for (i = 0; i < m->n; i++)
		if (zm_msg_add_bytes(&b, m->f[i].tag, m->f[i].val,
		    m->f[i].len) != ZM_OK)
			abort();
	if (zm_msg_end(&b) != ZM_OK || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	zm_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zm_msg	m;
	size_t		fl = 0;
	int		r, fr;

	r = zm_msg_parse(data, size, &m);
	fr = zm_msg_frame_len(data, size, &fl);
	if (fr == ZM_OK && fl > size)
		abort();
	if (r == ZM_OK) {
		/* A whole message is exactly one whole frame. */
		if (fr != ZM_OK || fl != size || m.n > ZM_IPC_MAX_FIELDS)
			abort();
		getters(&m);
		reencode(data, size, &m);
	} else if (m.n != 0)
		abort();
	/* The same bytes as a body on their own. */
	if (zm_msg_parse_body(ZM_REP_RESULT, data, size, &m) == ZM_OK)
		getters(&m);
	return 0;
}
