/*
 * buf.h - bounded buffers for every untrusted byte.
 *
 * A zm_buf is a growable output buffer with a hard maximum; a zm_cur is a
 * read cursor over bytes that came from outside (socket, card, file).
 * Nothing in zonemfa indexes raw untrusted pointers: it reads through a
 * cursor, and every read checks the remaining length first.
 * Integers are big-endian on the wire.
 */
#ifndef ZM_BUF_H
#define ZM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct zm_buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* hard cap; appends past it fail with ZM_ERR_TOOBIG */
};

struct zm_cur {
	const uint8_t	*p;
	size_t		 left;
};

void zm_buf_init(struct zm_buf *b, size_t max);
/* Wipes the contents before freeing (buffers may hold secrets). */
void zm_buf_free(struct zm_buf *b);
void zm_buf_reset(struct zm_buf *b);	/* wipe, len = 0, keep memory */
int zm_buf_reserve(struct zm_buf *b, size_t n);
int zm_buf_put(struct zm_buf *b, const void *p, size_t n);
int zm_buf_put_u8(struct zm_buf *b, uint8_t v);
int zm_buf_put_u16(struct zm_buf *b, uint16_t v);
int zm_buf_put_u32(struct zm_buf *b, uint32_t v);
int zm_buf_put_u64(struct zm_buf *b, uint64_t v);
/* Overwrite 4 bytes at offset off (which must be inside len). */
int zm_buf_poke_u32(struct zm_buf *b, size_t off, uint32_t v);

void zm_cur_init(struct zm_cur *c, const void *p, size_t n);
int zm_cur_get_u8(struct zm_cur *c, uint8_t *v);
int zm_cur_get_u16(struct zm_cur *c, uint16_t *v);
int zm_cur_get_u32(struct zm_cur *c, uint32_t *v);
int zm_cur_get_u64(struct zm_cur *c, uint64_t *v);
/* Copy n bytes out. */
int zm_cur_get(struct zm_cur *c, void *out, size_t n);
/* Borrow a pointer to the next n bytes and advance. */
int zm_cur_take(struct zm_cur *c, const uint8_t **p, size_t n);
int zm_cur_skip(struct zm_cur *c, size_t n);

#endif
