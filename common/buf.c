#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "wipe.h"

void
zm_buf_init(struct zm_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
zm_buf_free(struct zm_buf *b)
{
	if (b == NULL)
		return;
	zm_freezero(b->data, b->cap);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
zm_buf_reset(struct zm_buf *b)
{
	zm_wipe(b->data, b->len);
	b->len = 0;
}

int
zm_buf_reserve(struct zm_buf *b, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*nd;

	if (n > b->max || b->len > b->max - n)
		return ZM_ERR_TOOBIG;
	need = b->len + n;
	if (need <= b->cap)
		return ZM_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	/* Not realloc: the old block may hold secrets and must be wiped. */
	if ((nd = malloc(ncap)) == NULL)
		return ZM_ERR_NOMEM;
	if (b->len)
		memcpy(nd, b->data, b->len);
	zm_freezero(b->data, b->cap);
	b->data = nd;
	b->cap = ncap;
	return ZM_OK;
}

int
zm_buf_put(struct zm_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return ZM_OK;
	if ((r = zm_buf_reserve(b, n)) != ZM_OK)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return ZM_OK;
}

int
zm_buf_put_u8(struct zm_buf *b, uint8_t v)
{
	return zm_buf_put(b, &v, 1);
}

int
zm_buf_put_u16(struct zm_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return zm_buf_put(b, x, sizeof(x));
}

int
zm_buf_put_u32(struct zm_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	return zm_buf_put(b, x, sizeof(x));
}

int
zm_buf_put_u64(struct zm_buf *b, uint64_t v)
{
	int r;

	if ((r = zm_buf_put_u32(b, (uint32_t)(v >> 32))) != ZM_OK)
		return r;
	return zm_buf_put_u32(b, (uint32_t)v);
}

int
zm_buf_poke_u32(struct zm_buf *b, size_t off, uint32_t v)
{
	if (off > b->len || b->len - off < 4)
		return ZM_ERR_INVALID;
	b->data[off] = (uint8_t)(v >> 24);
	b->data[off + 1] = (uint8_t)(v >> 16);
	b->data[off + 2] = (uint8_t)(v >> 8);
	b->data[off + 3] = (uint8_t)v;
	return ZM_OK;
}

void
zm_cur_init(struct zm_cur *c, const void *p, size_t n)
{
	c->p = p;
	c->left = p == NULL ? 0 : n;
}

int
zm_cur_take(struct zm_cur *c, const uint8_t **p, size_t n)
{
	if (c->left < n)
		return ZM_ERR_TRUNCATED;
	*p = c->p;
	c->p += n;
	c->left -= n;
	return ZM_OK;
}

int
zm_cur_skip(struct zm_cur *c, size_t n)
{
	const uint8_t *p;

	return zm_cur_take(c, &p, n);
}

int
zm_cur_get(struct zm_cur *c, void *out, size_t n)
{
	const uint8_t	*p;
	int		 r;

	if ((r = zm_cur_take(c, &p, n)) != ZM_OK)
		return r;
	if (n)
		memcpy(out, p, n);
	return ZM_OK;
}

int
zm_cur_get_u8(struct zm_cur *c, uint8_t *v)
{
	return zm_cur_get(c, v, 1);
}

int
zm_cur_get_u16(struct zm_cur *c, uint16_t *v)
{
	const uint8_t	*p;
	int		 r;

	if ((r = zm_cur_take(c, &p, 2)) != ZM_OK)
		return r;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return ZM_OK;
}

int
zm_cur_get_u32(struct zm_cur *c, uint32_t *v)
{
	const uint8_t	*p;
	int		 r;

	if ((r = zm_cur_take(c, &p, 4)) != ZM_OK)
		return r;
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	return ZM_OK;
}

int
zm_cur_get_u64(struct zm_cur *c, uint64_t *v)
{
	uint32_t	hi, lo;
	int		r;

	if (c->left < 8)
		return ZM_ERR_TRUNCATED;
	if ((r = zm_cur_get_u32(c, &hi)) != ZM_OK ||
	    (r = zm_cur_get_u32(c, &lo)) != ZM_OK)
		return r;
	*v = ((uint64_t)hi << 32) | lo;
	return ZM_OK;
}
