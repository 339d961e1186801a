/*
 * fido2.c - FIDO2 security keys through libfido2 (see fido2.h).
 * (Not fido.c/fido.h: that would shadow libfido2's <fido.h>.)
 *
 * libfido2 does the CTAP2 work and parses everything a key sends; this
 * file only chooses the parameters (fresh random client-data hash, allow
 * list, UP always, UV where the key has it), reads the answer and checks
 * it.  U2F fallback is disabled: a U2F-only key cannot do UV and its
 * assertions would count for less than the user believes.
 *
 * Transport hook: for each --fido-hid-socket path the device gets I/O
 * functions that move CTAPHID reports over a SOCK_SEQPACKET socket.
 * libfido2 writes a report id byte before each 64-byte report (dropped
 * here) and expects reads of exactly 64 bytes.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "err.h"
#include "fido2.h"
#include "fido2_impl.h"
#include "log.h"
#include "wipe.h"

#define MAX_SOCKETS	ZM_FIDO_MAX_SOCKETS
#define MAX_HID		ZM_FIDO_MAX_HID
#define REPORT_LEN	64
#define DATA_ES256	1	/* blob versions = credential types */
#define DATA_EDDSA	2

__thread int zm_fido_cancel_fd = -1;

/* ---- the socket transport (test interface, root only: command line) ---- */

struct sock_handle {
	int fd;
	int cancel;	/* the opening thread's zm_fido_cancel_fd */
};

static void *
sock_open(const char *path)
{
	struct sockaddr_un	 sun;
	struct sock_handle	*h;
	size_t			 len = strlen(path);

	if (len >= sizeof(sun.sun_path) || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	h->cancel = zm_fido_cancel_fd;
	if ((h->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(h->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		zm_debug("fido socket %s: %s", path, strerror(errno));
		if (h->fd != -1)
			close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

static void
sock_close(void *handle)
{
	struct sock_handle *h = handle;

	if (h == NULL)
		return;
	close(h->fd);
	free(h);
}

static int
sock_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct sock_handle	*h = handle;
	struct pollfd		 pfd[2] = {
		{ .fd = h->fd, .events = POLLIN },
		{ .fd = h->cancel, .events = POLLIN },
	};
	ssize_t			 n;
	int			 r;

	if (len < REPORT_LEN)
		return -1;
	do
		r = poll(pfd, h->cancel != -1 ? 2 : 1, ms < 0 ? -1 : ms);
	while (r == -1 && errno == EINTR);
	/* Cancelled: the login was given up, stop waiting for the key. */
	if (r <= 0 || (pfd[1].revents & POLLIN) != 0)
		return -1;
	/* One packet is one report; anything else is a broken peer. */
	if ((n = recv(h->fd, buf, REPORT_LEN, MSG_TRUNC)) != REPORT_LEN)
		return -1;
	return REPORT_LEN;
}

static int
sock_write(void *handle, const unsigned char *buf, size_t len)
{
	struct sock_handle *h = handle;

	/* Report id 0 + one report; the socket carries the report alone. */
	if (len != REPORT_LEN + 1 ||
	    send(h->fd, buf + 1, REPORT_LEN, MSG_NOSIGNAL) != REPORT_LEN)
		return -1;
	return (int)len;
}

static const fido_dev_io_t sock_io = {
	.open = sock_open,
	.close = sock_close,
	.read = sock_read,
	.write = sock_write,
};

/* ---- devices ---- */

int
zm_fido_new(int use_hid, const char *const *sockets, size_t n_sockets,
    const char *rp_id, struct zm_fido **out)
{
	struct zm_fido	*f;
	size_t		 i;

	*out = NULL;
	if (rp_id == NULL || rp_id[0] == '\0' || n_sockets > MAX_SOCKETS)
		return ZM_ERR_INVALID;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ZM_ERR_NOMEM;
	f->wake[0] = f->wake[1] = -1;
	if (pthread_mutex_init(&f->mu, NULL) != 0) {
		free(f);
		return ZM_ERR_NOMEM;
	}
	if (pthread_cond_init(&f->idle, NULL) != 0) {
		pthread_mutex_destroy(&f->mu);
		free(f);
		return ZM_ERR_NOMEM;
	}
	fido_init(FIDO_DISABLE_U2F_FALLBACK);
	f->use_hid = use_hid;
	if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		zm_err("fido2: pipe: %s", strerror(errno));
		zm_fido_free(f);
		return ZM_ERR_IO;
	}
	if ((f->rp_id = strdup(rp_id)) == NULL)
		goto nomem;
	for (i = 0; i < n_sockets; i++) {
		if ((f->sockets[i] = strdup(sockets[i])) == NULL)
			goto nomem;
		f->n_sockets++;
	}
	*out = f;
	return 0;
 nomem:
	zm_fido_free(f);
	return ZM_ERR_NOMEM;
}

void
zm_fido_free(struct zm_fido *f)
{
	size_t i;

	if (f == NULL)
		return;
	/* Workers read f: wait for them (each is bounded by its deadline). */
	pthread_mutex_lock(&f->mu);
	while (f->running > 0)
		pthread_cond_wait(&f->idle, &f->mu);
	pthread_mutex_unlock(&f->mu);
	for (i = 0; i < 2; i++)
		if (f->wake[i] != -1)
			close(f->wake[i]);
	pthread_cond_destroy(&f->idle);
	pthread_mutex_destroy(&f->mu);
	for (i = 0; i < f->n_sockets; i++)
		free(f->sockets[i]);
	free(f->rp_id);
	free(f);
}

/* The HID paths (malloc'd strings), at most MAX_HID. */
static size_t
hid_paths(char **paths)
{
	fido_dev_info_t	*list;
	const char	*p;
	size_t		 n = 0, i, k = 0;

	if ((list = fido_dev_info_new(MAX_HID)) == NULL)
		return 0;
	if (fido_dev_info_manifest(list, MAX_HID, &n) == FIDO_OK)
		for (i = 0; i < n; i++) {
			p = fido_dev_info_path(fido_dev_info_ptr(list, i));
			if (p != NULL && (paths[k] = strdup(p)) != NULL)
				k++;
		}
	fido_dev_info_free(&list, MAX_HID);
	return k;
}

int
zm_fido_available(struct zm_fido *f)
{
	char		*paths[MAX_HID];
	struct stat	 sb;
	size_t		 i, n;

	if (f == NULL)
		return 0;
	for (i = 0; i < f->n_sockets; i++)
		if (stat(f->sockets[i], &sb) == 0 && S_ISSOCK(sb.st_mode))
			return 1;
	if (!f->use_hid)
		return 0;
	n = hid_paths(paths);
	for (i = 0; i < n; i++)
		free(paths[i]);
	return n > 0;
}

fido_dev_t *
zm_fido_dev_open(struct zm_fido *f, struct zm_fido_devlist *dl, size_t idx,
    int timeout_ms, int *more)
{
	fido_dev_t	*dev;
	const char	*path;
	int		 sock = idx < f->n_sockets, r;

	*more = idx + 1 < f->n_sockets + dl->n_hid;
	if (idx >= f->n_sockets + dl->n_hid || timeout_ms <= 0)
		return NULL;
	path = sock ? f->sockets[idx] : dl->hid[idx - f->n_sockets];
	if ((dev = fido_dev_new()) == NULL)
		return NULL;
	/*
	 * The timeout first: fido_dev_open() waits for CTAPHID_INIT and
	 * getInfo with it, so a key that never answers cannot hold us.
	 */
	if (fido_dev_set_timeout(dev, timeout_ms) != FIDO_OK ||
	    (sock && fido_dev_set_io_functions(dev, &sock_io) != FIDO_OK)) {
		fido_dev_free(&dev);
		return NULL;
	}
	if ((r = fido_dev_open(dev, path)) != FIDO_OK) {
		zm_debug("fido device %s: %s", path, fido_strerr(r));
		fido_dev_free(&dev);
		return NULL;
	}
	if (!fido_dev_is_fido2(dev)) {
		fido_dev_close(dev);
		fido_dev_free(&dev);
		return NULL;
	}
	return dev;
}

void
zm_fido_dev_close(fido_dev_t **dev)
{
	if (*dev == NULL)
		return;
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

void
zm_fido_devlist_load(struct zm_fido *f, struct zm_fido_devlist *dl)
{
	memset(dl, 0, sizeof(*dl));
	if (f->use_hid)
		dl->n_hid = hid_paths(dl->hid);
}

void
zm_fido_devlist_free(struct zm_fido_devlist *dl)
{
	size_t i;

	for (i = 0; i < dl->n_hid; i++)
		free(dl->hid[i]);
	dl->n_hid = 0;
}

int
zm_fido_err(int r)
{
	switch (r) {
	case FIDO_ERR_TIMEOUT:
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_ACTION_TIMEOUT:
		return ZM_ERR_TIMEOUT;
	case FIDO_ERR_NO_CREDENTIALS:
		return ZM_ERR_NOTFOUND;
	case FIDO_ERR_PIN_REQUIRED:
		return ZM_ERR_PERM;
	case FIDO_ERR_TX:
	case FIDO_ERR_RX:
	case FIDO_ERR_RX_NOT_CBOR:
	case FIDO_ERR_RX_INVALID_CBOR:
		return ZM_ERR_IO;
	default:
		return ZM_ERR_DENIED;
	}
}

/* ---- enrolment ---- */

/* 0 when the DER certificate chains to a CA in the PEM bundle (now). */
static int
att_chain(const uint8_t *der, size_t len, const char *ca_file)
{
	const uint8_t	*p = der;
	X509		*x = NULL;
	X509_STORE	*st = NULL;
	X509_STORE_CTX	*ctx = NULL;
	int		 r = ZM_ERR_DENIED;

	if (len > 16384 || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	/* Loaded at each enrolment: a changed bundle needs no restart. */
	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_load_file(st, ca_file) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, x, NULL) != 1) {
		zm_err("fido_attestation_ca %s cannot be loaded", ca_file);
		r = ZM_ERR_CRYPTO;
		goto out;
	}
	if (X509_verify_cert(ctx) == 1)
		r = 0;
	else
		zm_notice("fido2 attestation certificate: %s",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(x);
	return r;
}

/* The key's getInfo lists EdDSA among its algorithms. */
static int
key_offers_eddsa(fido_dev_t *dev)
{
	fido_cbor_info_t	*ci;
	size_t			 i;
	int			 yes = 0;

	if ((ci = fido_cbor_info_new()) == NULL)
		return 0;
	if (fido_dev_get_cbor_info(dev, ci) == FIDO_OK)
		for (i = 0; i < fido_cbor_info_algorithm_count(ci); i++)
			if (fido_cbor_info_algorithm_cose(ci, i) == COSE_EDDSA)
				yes = 1;
	fido_cbor_info_free(&ci);
	return yes;
}

static int
make_cred(fido_dev_t *dev, const char *rp_id, const char *user,
    const char *att_ca, struct zm_fido_cred *out)
{
	fido_cred_t	*c = NULL;
	uint8_t		 cdh[ZM_FIDO_CDH_LEN], uid[32];
	const char	*fmt;
	size_t		 pk_len;
	int		 has_uv = fido_dev_has_uv(dev), fr, r = ZM_ERR_INTERNAL;

	if ((c = fido_cred_new()) == NULL)
		return ZM_ERR_NOMEM;
	out->cose = key_offers_eddsa(dev) ? ZM_FIDO_COSE_EDDSA :
	    ZM_FIDO_COSE_ES256;
	if ((r = zm_random(cdh, sizeof(cdh))) != 0 ||
	    (r = zm_random(uid, sizeof(uid))) != 0)
		goto out;
	r = ZM_ERR_INTERNAL;
	if (fido_cred_set_type(c, out->cose == ZM_FIDO_COSE_EDDSA ? COSE_EDDSA :
	    COSE_ES256) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_cred_set_rp(c, rp_id, "zonemfa") != FIDO_OK ||
	    fido_cred_set_user(c, uid, sizeof(uid), user, user, NULL) !=
	    FIDO_OK ||
	    fido_cred_set_rk(c, FIDO_OPT_FALSE) != FIDO_OK ||
	    fido_cred_set_uv(c, has_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) !=
	    FIDO_OK)
		goto out;
	if ((fr = fido_dev_make_cred(dev, c, NULL)) != FIDO_OK) {
		zm_notice("fido2 make credential: %s", fido_strerr(fr));
		r = zm_fido_err(fr);
		goto out;
	}
	/* Signature over authData || cdh by the attestation (or own) key. */
	if (fido_cred_x5c_ptr(c) != NULL) {
		fr = fido_cred_verify(c);
		out->flags |= ZM_FIDO_F_ATT_X5C;
	} else {
		fr = fido_cred_verify_self(c);
		out->flags |= ZM_FIDO_F_ATT_SELF;
	}
	if (fr != FIDO_OK) {
		zm_notice("fido2 attestation does not verify: %s",
		    fido_strerr(fr));
		out->refused = "attestation does not verify";
		r = ZM_ERR_DENIED;
		goto out;
	}
	/*
	 * The signature only shows the key holds the attestation key; which
	 * maker's key that is, only a chain to a trusted CA shows.
	 */
	if (att_ca != NULL) {
		if ((out->flags & ZM_FIDO_F_ATT_X5C) == 0) {
			zm_notice("fido2: self attestation refused "
			    "(fido_attestation_ca is set)");
			out->refused = "self attestation refused "
			    "(fido_attestation_ca is set)";
			r = ZM_ERR_DENIED;
			goto out;
		}
		if ((r = att_chain(fido_cred_x5c_ptr(c), fido_cred_x5c_len(c),
		    att_ca)) != 0) {
			out->refused = r == ZM_ERR_DENIED ? "attestation "
			    "certificate does not chain to fido_attestation_ca" :
			    "fido_attestation_ca cannot be loaded";
			goto out;
		}
		out->flags |= ZM_FIDO_F_ATT_CA;
	}
	pk_len = out->cose == ZM_FIDO_COSE_EDDSA ? ZM_FIDO_EDDSA_PK_LEN :
	    ZM_FIDO_PK_LEN;
	if (fido_cred_type(c) != (out->cose == ZM_FIDO_COSE_EDDSA ?
	    COSE_EDDSA : COSE_ES256) || fido_cred_pubkey_len(c) != pk_len ||
	    fido_cred_id_len(c) == 0 ||
	    fido_cred_id_len(c) > sizeof(out->id)) {
		zm_notice("fido2 credential: unexpected type, key or id "
		    "length");
		r = ZM_ERR_DENIED;
		goto out;
	}
	memcpy(out->pk, fido_cred_pubkey_ptr(c), pk_len);
	out->id_len = fido_cred_id_len(c);
	memcpy(out->id, fido_cred_id_ptr(c), out->id_len);
	out->counter = fido_cred_sigcount(c);
	if (has_uv)
		out->flags |= ZM_FIDO_F_UV | ZM_FIDO_F_UV_BUILTIN;
	if (fido_dev_has_pin(dev))
		out->flags |= ZM_FIDO_F_UV | ZM_FIDO_F_PIN;
	fmt = fido_cred_fmt(c);
	snprintf(out->fmt, sizeof(out->fmt), "%s", fmt != NULL ? fmt : "?");
	r = 0;
 out:
	zm_wipe(cdh, sizeof(cdh));
	fido_cred_free(&c);
	return r;
}

int
zm_fido_enroll(struct zm_fido *f, const char *user, const char *att_ca,
    int timeout_ms, struct zm_fido_cred *out)
{
	struct zm_fido_devlist	 dl;
	fido_dev_t		*dev = NULL;
	size_t			 i;
	int			 more = 1, r = ZM_ERR_UNAVAILABLE;

	if (f == NULL || user == NULL || out == NULL)
		return ZM_ERR_INVALID;
	memset(out, 0, sizeof(*out));
	zm_fido_devlist_load(f, &dl);
	/* The first key that opens: the helpdesk plugs in one key. */
	for (i = 0; more; i++) {
		if ((dev = zm_fido_dev_open(f, &dl, i, timeout_ms, &more)) ==
		    NULL)
			continue;
		r = make_cred(dev, f->rp_id, user, att_ca, out);
		zm_fido_dev_close(&dev);
		break;
	}
	zm_fido_devlist_free(&dl);
	return r;
}

int
zm_fido_verify(const char *rp_id, const uint8_t cdh[ZM_FIDO_CDH_LEN],
    const uint8_t *authdata, size_t authdata_len, const uint8_t *sig,
    size_t sig_len, int cose, const uint8_t *pk, unsigned *flags,
    uint32_t *counter)
{
	fido_assert_t	*a = NULL;
	es256_pk_t	*k = NULL;
	eddsa_pk_t	*ek = NULL;
	int		 fr, r = ZM_ERR_INTERNAL;

	*flags = 0;
	*counter = 0;
	if (cose != ZM_FIDO_COSE_ES256 && cose != ZM_FIDO_COSE_EDDSA)
		return ZM_ERR_INVALID;
	if ((a = fido_assert_new()) == NULL || (cose == ZM_FIDO_COSE_ES256 ?
	    (k = es256_pk_new()) == NULL : (ek = eddsa_pk_new()) == NULL)) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	if ((cose == ZM_FIDO_COSE_ES256 ?
	    es256_pk_from_ptr(k, pk, ZM_FIDO_PK_LEN) :
	    eddsa_pk_from_ptr(ek, pk, ZM_FIDO_EDDSA_PK_LEN)) != FIDO_OK ||
	    fido_assert_set_count(a, 1) != FIDO_OK ||
	    fido_assert_set_rp(a, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, cdh, ZM_FIDO_CDH_LEN) !=
	    FIDO_OK ||
	    /* UP always; UV is read from the flags below, not demanded. */
	    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(a, FIDO_OPT_OMIT) != FIDO_OK) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	if (fido_assert_set_authdata(a, 0, authdata, authdata_len) !=
	    FIDO_OK || fido_assert_set_sig(a, 0, sig, sig_len) != FIDO_OK) {
		r = ZM_ERR_DENIED;
		goto out;
	}
	/* The type is the stored one: a key cannot choose it at login. */
	if ((fr = cose == ZM_FIDO_COSE_ES256 ?
	    fido_assert_verify(a, 0, COSE_ES256, k) :
	    fido_assert_verify(a, 0, COSE_EDDSA, ek)) != FIDO_OK) {
		zm_debug("fido2 assertion does not verify: %s",
		    fido_strerr(fr));
		r = ZM_ERR_DENIED;
		goto out;
	}
	*flags = fido_assert_flags(a, 0);
	*counter = fido_assert_sigcount(a, 0);
	r = 0;
 out:
	es256_pk_free(&k);
	eddsa_pk_free(&ek);
	fido_assert_free(&a);
	return r;
}

/* ---- stored form ---- */

int
zm_fido_data_encode(int cose, const uint8_t *pk, const uint8_t *id,
    size_t id_len, uint8_t **out, size_t *out_len)
{
	uint8_t	*p;
	size_t	 pk_len;

	*out = NULL;
	*out_len = 0;
	if (id_len == 0 || id_len > ZM_FIDO_CRED_ID_MAX ||
	    (cose != ZM_FIDO_COSE_ES256 && cose != ZM_FIDO_COSE_EDDSA))
		return ZM_ERR_INVALID;
	pk_len = cose == ZM_FIDO_COSE_ES256 ? ZM_FIDO_PK_LEN :
	    ZM_FIDO_EDDSA_PK_LEN;
	if ((p = malloc(1 + pk_len + id_len)) == NULL)
		return ZM_ERR_NOMEM;
	p[0] = cose == ZM_FIDO_COSE_ES256 ? DATA_ES256 : DATA_EDDSA;
	memcpy(p + 1, pk, pk_len);
	memcpy(p + 1 + pk_len, id, id_len);
	*out = p;
	*out_len = 1 + pk_len + id_len;
	return 0;
}

int
zm_fido_data_decode(const uint8_t *data, size_t len, int *cose,
    const uint8_t **pk, const uint8_t **id, size_t *id_len)
{
	size_t pk_len;

	if (data == NULL || len < 1)
		return ZM_ERR_INVALID;
	switch (data[0]) {
	case DATA_ES256:
		*cose = ZM_FIDO_COSE_ES256;
		pk_len = ZM_FIDO_PK_LEN;
		break;
	case DATA_EDDSA:
		*cose = ZM_FIDO_COSE_EDDSA;
		pk_len = ZM_FIDO_EDDSA_PK_LEN;
		break;
	default:
		return ZM_ERR_INVALID;
	}
	if (len <= 1 + pk_len || len > 1 + pk_len + ZM_FIDO_CRED_ID_MAX)
		return ZM_ERR_INVALID;
	*pk = data + 1;
	*id = data + 1 + pk_len;
	*id_len = len - 1 - pk_len;
	return 0;
}

static void
hexstr(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
zm_fido_ident(const uint8_t *id, size_t id_len, char *out, size_t outlen)
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	if (id == NULL || id_len == 0 || outlen < 8 + 2 * sizeof(h))
		return ZM_ERR_INVALID;
	if (2 * id_len < outlen) {
		hexstr(out, id, id_len);
		return 0;
	}
	/* Long ids (some platform keys): the hash is unique enough. */
	SHA256(id, id_len, h);
	memcpy(out, "sha256:", 7);
	hexstr(out + 7, h, sizeof(h));
	return 0;
}
