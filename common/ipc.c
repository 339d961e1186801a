/*
 * ipc.c - the message codec between clients and zonemfa-tokend (see ipc.h
 * for the wire format).  Every byte from the peer is read through a
 * zm_cur; lengths are checked against the hard caps before anything is
 * trusted.
 */
#include <config.h>

#include <string.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"

int
zm_msg_begin(struct zm_buf *out, uint16_t type)
{
	int r;

	if (out == NULL)
		return ZM_ERR_INVALID;
	zm_buf_reset(out);
	if ((r = zm_buf_put_u32(out, ZM_IPC_MAGIC)) != ZM_OK ||
	    (r = zm_buf_put_u16(out, ZM_IPC_VERSION)) != ZM_OK ||
	    (r = zm_buf_put_u16(out, type)) != ZM_OK ||
	    (r = zm_buf_put_u32(out, 0)) != ZM_OK)
		return r;
	return ZM_OK;
}

int
zm_msg_add_bytes(struct zm_buf *out, uint16_t tag, const void *p, size_t n)
{
	int r;

	if (out == NULL || out->len < ZM_IPC_HDR_LEN || tag == 0 ||
	    tag >= ZM_T__MAX || (p == NULL && n != 0))
		return ZM_ERR_INVALID;
	if (n > ZM_IPC_MAX_BODY)
		return ZM_ERR_TOOBIG;
	if ((r = zm_buf_put_u16(out, tag)) != ZM_OK ||
	    (r = zm_buf_put_u32(out, (uint32_t)n)) != ZM_OK ||
	    (r = zm_buf_put(out, p, n)) != ZM_OK)
		return r;
	return ZM_OK;
}

int
zm_msg_add_str(struct zm_buf *out, uint16_t tag, const char *s)
{
	size_t n;

	if (s == NULL)
		return ZM_ERR_INVALID;
	if ((n = strlen(s)) > ZM_IPC_MAX_STR)
		return ZM_ERR_TOOBIG;
	return zm_msg_add_bytes(out, tag, s, n);
}

int
zm_msg_add_u32(struct zm_buf *out, uint16_t tag, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	return zm_msg_add_bytes(out, tag, x, sizeof(x));
}

int
zm_msg_add_u64(struct zm_buf *out, uint16_t tag, uint64_t v)
{
	uint8_t	x[8];
	int	i;

	for (i = 7; i >= 0; i--) {
		x[i] = (uint8_t)v;
		v >>= 8;
	}
	return zm_msg_add_bytes(out, tag, x, sizeof(x));
}

int
zm_msg_end(struct zm_buf *out)
{
	struct zm_msg	m;
	size_t		body;
	uint16_t	type;
	uint32_t	dummy;
	int		r;

	if (out == NULL || out->len < ZM_IPC_HDR_LEN)
		return ZM_ERR_INVALID;
	body = out->len - ZM_IPC_HDR_LEN;
	if (body > ZM_IPC_MAX_BODY)
		return ZM_ERR_TOOBIG;
	if ((r = zm_buf_poke_u32(out, 8, (uint32_t)body)) != ZM_OK)
		return r;
	/*
	 * Refuse to send what the peer would refuse to read (a repeated
	 * tag, too many fields): the bug is ours, say so here.
	 */
	if (zm_msg_parse_header(out->data, out->len, &type, &dummy) != ZM_OK ||
	    zm_msg_parse_body(type, out->data + ZM_IPC_HDR_LEN, body,
	    &m) != ZM_OK)
		return ZM_ERR_INVALID;
	return ZM_OK;
}

int
zm_msg_parse_header(const uint8_t *hdr, size_t len, uint16_t *type,
    uint32_t *body_len)
{
	struct zm_cur	c;
	uint32_t	magic, blen;
	uint16_t	version, t;
	int		r;

	if (hdr == NULL && len != 0)
		return ZM_ERR_INVALID;
	zm_cur_init(&c, hdr, len);
	if ((r = zm_cur_get_u32(&c, &magic)) != ZM_OK)
		return r;
	if (magic != ZM_IPC_MAGIC)
		return ZM_ERR_PROTO;
	if ((r = zm_cur_get_u16(&c, &version)) != ZM_OK)
		return r;
	if (version != ZM_IPC_VERSION)
		return ZM_ERR_PROTO;
	if ((r = zm_cur_get_u16(&c, &t)) != ZM_OK ||
	    (r = zm_cur_get_u32(&c, &blen)) != ZM_OK)
		return r;
	if (blen > ZM_IPC_MAX_BODY)
		return ZM_ERR_TOOBIG;
	if (type != NULL)
		*type = t;
	if (body_len != NULL)
		*body_len = blen;
	return ZM_OK;
}

int
zm_msg_parse_body(uint16_t type, const uint8_t *body, size_t len,
    struct zm_msg *m)
{
	struct zm_cur	 c;
	const uint8_t	*val;
	uint64_t	 seen = 0;
	uint32_t	 flen;
	uint16_t	 tag;
	int		 r;

	if (m == NULL || (body == NULL && len != 0))
		return ZM_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	m->type = type;
	if (len > ZM_IPC_MAX_BODY)
		return ZM_ERR_TOOBIG;
	zm_cur_init(&c, body, len);
	while (c.left > 0) {
		if ((r = zm_cur_get_u16(&c, &tag)) != ZM_OK ||
		    (r = zm_cur_get_u32(&c, &flen)) != ZM_OK)
			goto fail;
		/* Tags fit the 64-bit "seen" mask; see the check below. */
		if (tag == 0 || tag >= ZM_T__MAX) {
			r = ZM_ERR_PROTO;
			goto fail;
		}
		if ((r = zm_cur_take(&c, &val, flen)) != ZM_OK)
			goto fail;
		if (seen & (1ULL << tag) || m->n == ZM_IPC_MAX_FIELDS) {
			r = ZM_ERR_PROTO;
			goto fail;
		}
		seen |= 1ULL << tag;
		m->f[m->n].tag = tag;
		m->f[m->n].len = flen;
		m->f[m->n].val = val;
		m->n++;
	}
	return ZM_OK;
 fail:
	/* Never leave pointers to a rejected message behind. */
	memset(m, 0, sizeof(*m));
	m->type = type;
	return r;
}

/* The mask in zm_msg_parse_body() has one bit per tag. */
_Static_assert(ZM_T__MAX <= 64, "tag mask too small");

int
zm_msg_parse(const uint8_t *p, size_t len, struct zm_msg *m)
{
	uint32_t	blen;
	uint16_t	type;
	int		r;

	if (m == NULL || (p == NULL && len != 0))
		return ZM_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	if ((r = zm_msg_parse_header(p, len, &type, &blen)) != ZM_OK)
		return r;
	if (len - ZM_IPC_HDR_LEN < blen)
		return ZM_ERR_TRUNCATED;
	if (len - ZM_IPC_HDR_LEN > blen)
		return ZM_ERR_PROTO;	/* bytes after the message */
	return zm_msg_parse_body(type, p + ZM_IPC_HDR_LEN, blen, m);
}

int
zm_msg_frame_len(const uint8_t *p, size_t avail, size_t *framelen)
{
	static const uint8_t	lead[6] = {
		(uint8_t)(ZM_IPC_MAGIC >> 24), (uint8_t)(ZM_IPC_MAGIC >> 16),
		(uint8_t)(ZM_IPC_MAGIC >> 8), (uint8_t)ZM_IPC_MAGIC,
		(uint8_t)(ZM_IPC_VERSION >> 8), (uint8_t)ZM_IPC_VERSION,
	};
	uint32_t		blen;
	size_t			n;
	int			r;

	if (framelen == NULL || (p == NULL && avail != 0))
		return ZM_ERR_INVALID;
	*framelen = 0;
	/* Reject garbage as soon as its first bytes arrive. */
	n = avail < sizeof(lead) ? avail : sizeof(lead);
	if (n > 0 && memcmp(p, lead, n) != 0)
		return ZM_ERR_PROTO;
	if (avail < ZM_IPC_HDR_LEN)
		return ZM_ERR_TRUNCATED;
	if ((r = zm_msg_parse_header(p, ZM_IPC_HDR_LEN, NULL, &blen)) != ZM_OK)
		return r;
	*framelen = ZM_IPC_HDR_LEN + (size_t)blen;
	return avail < *framelen ? ZM_ERR_TRUNCATED : ZM_OK;
}

const struct zm_field *
zm_msg_find(const struct zm_msg *m, uint16_t tag)
{
	size_t i;

	if (m == NULL)
		return NULL;
	for (i = 0; i < m->n && i < ZM_IPC_MAX_FIELDS; i++)
		if (m->f[i].tag == tag)
			return &m->f[i];
	return NULL;
}

int
zm_msg_get_str(const struct zm_msg *m, uint16_t tag, char *out,
    size_t outlen)
{
	const struct zm_field *f;

	if (out == NULL || outlen == 0)
		return ZM_ERR_INVALID;
	out[0] = '\0';
	if ((f = zm_msg_find(m, tag)) == NULL)
		return ZM_ERR_NOTFOUND;
	if (f->len > ZM_IPC_MAX_STR ||
	    (f->len > 0 && memchr(f->val, '\0', f->len) != NULL))
		return ZM_ERR_PROTO;
	if (f->len >= outlen)
		return ZM_ERR_TOOBIG;
	if (f->len > 0)
		memcpy(out, f->val, f->len);
	out[f->len] = '\0';
	return ZM_OK;
}

int
zm_msg_get_u32(const struct zm_msg *m, uint16_t tag, uint32_t *v)
{
	const struct zm_field	*f;
	struct zm_cur		 c;

	if (v == NULL)
		return ZM_ERR_INVALID;
	if ((f = zm_msg_find(m, tag)) == NULL)
		return ZM_ERR_NOTFOUND;
	if (f->len != 4)
		return ZM_ERR_PROTO;
	zm_cur_init(&c, f->val, f->len);
	return zm_cur_get_u32(&c, v);
}

int
zm_msg_get_u64(const struct zm_msg *m, uint16_t tag, uint64_t *v)
{
	const struct zm_field	*f;
	struct zm_cur		 c;

	if (v == NULL)
		return ZM_ERR_INVALID;
	if ((f = zm_msg_find(m, tag)) == NULL)
		return ZM_ERR_NOTFOUND;
	if (f->len != 8)
		return ZM_ERR_PROTO;
	zm_cur_init(&c, f->val, f->len);
	return zm_cur_get_u64(&c, v);
}

const char *
zm_status_name(int status)
{
	static const char *const names[ZM_ST__MAX] = {
		[ZM_ST_OK] = "ok",
		[ZM_ST_DENIED] = "denied",
		[ZM_ST_LOCKED] = "locked",
		[ZM_ST_DISABLED] = "disabled",
		[ZM_ST_DORMANT] = "dormant",
		[ZM_ST_NO_TOKEN] = "no_token",
		[ZM_ST_REVOKED] = "revoked",
		[ZM_ST_PERM] = "not_permitted",
		[ZM_ST_SELF] = "self",
		[ZM_ST_NOTFOUND] = "not_found",
		[ZM_ST_EXISTS] = "exists",
		[ZM_ST_INVALID] = "invalid",
		[ZM_ST_INTERNAL] = "internal",
		[ZM_ST_PARTIAL] = "partial",
		[ZM_ST_ABORTED] = "aborted",
	};

	if (status < 0 || status >= ZM_ST__MAX || names[status] == NULL)
		return "unknown";
	return names[status];
}
