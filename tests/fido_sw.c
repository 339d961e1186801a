/*
 * fido_sw.c - a software FIDO2 authenticator for the test suite.
 *
 *   fido_sw --socket PATH --state FILE [--uv on|off|lie]
 *           [--counter increasing|stuck|zero] [--tamper] [--aaguid HEX32]
 *
 * Listens on a SOCK_SEQPACKET UNIX socket; every packet is one 64-byte
 * CTAPHID report without a report id (SPEC "zonemfa-tokend
 * --fido-hid-socket").  One connection at a time, as one HID device.
 *
 * CTAPHID: INIT (capabilities CBOR | NMSG: no U2F), PING, CBOR, CANCEL.
 * CTAP2: authenticatorGetInfo, authenticatorMakeCredential (ES256,
 * packed self-attestation), authenticatorGetAssertion (allow list only:
 * no resident keys).  Keys are real P-256 keys (OpenSSL); the state file
 * keeps them and the signature counter, so a second process can "be" the
 * same key.
 *
 *   --uv on      getInfo says uv:true; UV requested -> UV flag set
 *   --uv off     uv:false; a request for UV -> CTAP2_ERR_UNSUPPORTED_OPTION
 *   --uv lie     claims uv:true but never sets the UV flag (a broken key:
 *                the relying party must read the flags, not trust the ask)
 *   --counter    increasing (default), stuck (never moves: a clone),
 *                zero (always 0, allowed by WebAuthn)
 *   --tamper     corrupt every assertion signature
 *
 * A test fixture, not a security component: state file in plain text.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/core_names.h>

#define REPORT		64
#define INIT_DATA	(REPORT - 7)
#define CONT_DATA	(REPORT - 5)
#define MSG_MAX		7609	/* CTAPHID: 57 + 128 * 59 */
#define MAX_CREDS	64
#define CRED_ID_LEN	48

#define CMD_PING	0x81
#define CMD_MSG		0x83
#define CMD_INIT	0x86
#define CMD_CBOR	0x90
#define CMD_CANCEL	0x91
#define CMD_ERROR	0xbf

#define ERR_INVALID_CMD	0x01
#define ERR_INVALID_LEN	0x03
#define ERR_INVALID_SEQ	0x04
#define ERR_INVALID_CHANNEL 0x0b

#define CTAP_OK			0x00
#define CTAP2_ERR_INVALID_CBOR	0x12
#define CTAP2_ERR_MISSING_PARAM	0x14
#define CTAP2_ERR_UNSUPPORTED_ALG 0x26
#define CTAP2_ERR_UNSUPPORTED_OPTION 0x2b
#define CTAP2_ERR_NO_CREDENTIALS 0x2e
#define CTAP1_ERR_OTHER		0x7f

#define FL_UP	0x01
#define FL_UV	0x04
#define FL_AT	0x40

enum { UV_OFF, UV_ON, UV_LIE };
enum { CNT_INC, CNT_STUCK, CNT_ZERO };

struct cred {
	uint8_t		 id[CRED_ID_LEN];
	uint8_t		 rp_hash[32];
	EVP_PKEY	*key;
};

static struct {
	const char	*state;
	int		 uv, counter_mode, tamper;
	uint8_t		 aaguid[16];
	uint32_t	 counter;
	struct cred	 creds[MAX_CREDS];
	size_t		 n;
	uint32_t	 next_cid;
} sw;

static void
die(const char *what)
{
	fprintf(stderr, "fido_sw: %s\n", what);
	exit(1);
}

static void
hex(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static int
unhex(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t	i, len = strlen(s);
	unsigned v;

	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (i = 0; i < len / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

/* ---- state file: "counter N" and "cred IDHEX RPHASHHEX KEYDERHEX" ---- */

static void
state_save(void)
{
	char	tmp[4096], h[4096];
	uint8_t	*der = NULL;
	FILE	*f;
	size_t	i;
	int	len;

	snprintf(tmp, sizeof(tmp), "%s.tmp", sw.state);
	if ((f = fopen(tmp, "w")) == NULL)
		die("cannot write the state file");
	fprintf(f, "counter %u\n", sw.counter);
	for (i = 0; i < sw.n; i++) {
		der = NULL;
		if ((len = i2d_PrivateKey(sw.creds[i].key, &der)) <= 0 ||
		    (size_t)len * 2 + 1 > sizeof(h))
			die("i2d_PrivateKey");
		hex(h, sw.creds[i].id, CRED_ID_LEN);
		fprintf(f, "cred %s ", h);
		hex(h, sw.creds[i].rp_hash, 32);
		fprintf(f, "%s ", h);
		hex(h, der, (size_t)len);
		fprintf(f, "%s\n", h);
		OPENSSL_free(der);
	}
	if (fclose(f) != 0 || rename(tmp, sw.state) != 0)
		die("cannot save the state file");
}

static void
state_load(void)
{
	char		line[8192], a[256], b[256], c[4096];
	uint8_t		der[2048];
	const uint8_t	*p;
	size_t		n;
	FILE		*f;

	if ((f = fopen(sw.state, "r")) == NULL) {
		if (errno == ENOENT)
			return;
		die("cannot read the state file");
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct cred *cr;

		if (sscanf(line, "counter %u", &sw.counter) == 1)
			continue;
		if (sscanf(line, "cred %255s %255s %4095s", a, b, c) != 3 ||
		    sw.n == MAX_CREDS)
			die("bad state file");
		cr = &sw.creds[sw.n];
		if (unhex(a, cr->id, CRED_ID_LEN, &n) != 0 || n != CRED_ID_LEN ||
		    unhex(b, cr->rp_hash, 32, &n) != 0 || n != 32 ||
		    unhex(c, der, sizeof(der), &n) != 0)
			die("bad state file");
		p = der;
		if ((cr->key = d2i_AutoPrivateKey(NULL, &p, (long)n)) == NULL)
			die("bad key in the state file");
		sw.n++;
	}
	fclose(f);
}

/* ---- CBOR helpers ---- */

static cbor_item_t *
map_get(cbor_item_t *map, int64_t key)
{
	struct cbor_pair	*pp;
	size_t			 i, n;
	int64_t			 k;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	pp = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		if (cbor_isa_uint(pp[i].key))
			k = (int64_t)cbor_get_int(pp[i].key);
		else if (cbor_isa_negint(pp[i].key))
			k = -1 - (int64_t)cbor_get_int(pp[i].key);
		else
			continue;
		if (k == key)
			return pp[i].value;
	}
	return NULL;
}

static cbor_item_t *
map_get_str(cbor_item_t *map, const char *key)
{
	struct cbor_pair	*pp;
	size_t			 i, n;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	pp = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		if (cbor_isa_string(pp[i].key) && cbor_string_is_definite(pp[i].key) &&
		    cbor_string_length(pp[i].key) == strlen(key) &&
		    memcmp(cbor_string_handle(pp[i].key), key, strlen(key)) == 0)
			return pp[i].value;
	}
	return NULL;
}

/* An option: 1 true, 0 false, -1 absent. */
static int
opt_bool(cbor_item_t *opts, const char *name)
{
	cbor_item_t *v = map_get_str(opts, name);

	if (v == NULL || !cbor_is_bool(v))
		return -1;
	return cbor_get_bool(v) ? 1 : 0;
}

static int
bytes(cbor_item_t *v, const uint8_t **p, size_t *n)
{
	if (v == NULL || !cbor_isa_bytestring(v) ||
	    !cbor_bytestring_is_definite(v))
		return -1;
	*p = cbor_bytestring_handle(v);
	*n = cbor_bytestring_length(v);
	return 0;
}

static void
put(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
	if (!cbor_map_add(map, (struct cbor_pair){ .key = cbor_move(k),
	    .value = cbor_move(v) }))
		die("cbor_map_add");
}

static cbor_item_t *
cint(int64_t v)
{
	return v >= 0 ? cbor_build_uint8((uint8_t)v) :
	    cbor_build_negint8((uint8_t)(-1 - v));
}

/* Status byte + CBOR of item into out. */
static size_t
reply_cbor(cbor_item_t *item, uint8_t *out, size_t outlen)
{
	unsigned char	*buf = NULL;
	size_t		 bl = 0, len;

	len = cbor_serialize_alloc(item, &buf, &bl);
	cbor_decref(&item);
	if (len == 0 || len + 1 > outlen)
		die("cbor_serialize");
	out[0] = CTAP_OK;
	memcpy(out + 1, buf, len);
	free(buf);
	return len + 1;
}

/* ---- crypto ---- */

static void
pub_xy(EVP_PKEY *k, uint8_t x[32], uint8_t y[32])
{
	uint8_t	pt[65];
	size_t	len = 0;

	if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &len) || len != 65 || pt[0] != 0x04)
		die("public key");
	memcpy(x, pt + 1, 32);
	memcpy(y, pt + 33, 32);
}

/* DER ECDSA-SHA256 over a || b. */
static size_t
sign(EVP_PKEY *k, const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen, uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	uint8_t		 msg[1024];

	if (alen + blen > sizeof(msg))
		die("sign: too long");
	memcpy(msg, a, alen);
	memcpy(msg + alen, b, blen);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, alen + blen) != 1)
		die("EVP_DigestSign");
	EVP_MD_CTX_free(ctx);
	return siglen;
}

static uint32_t
next_counter(void)
{
	switch (sw.counter_mode) {
	case CNT_ZERO:
		return 0;
	case CNT_STUCK:
		if (sw.counter == 0)
			sw.counter = 1;
		return sw.counter;
	default:
		return ++sw.counter;
	}
}

/* rpIdHash | flags | counter: the first 37 bytes of authenticator data. */
static size_t
authdata_head(uint8_t *ad, const uint8_t rp_hash[32], uint8_t flags,
    uint32_t counter)
{
	memcpy(ad, rp_hash, 32);
	ad[32] = flags;
	ad[33] = (uint8_t)(counter >> 24);
	ad[34] = (uint8_t)(counter >> 16);
	ad[35] = (uint8_t)(counter >> 8);
	ad[36] = (uint8_t)counter;
	return 37;
}

/* The UV flag for a request's "uv" option; -1: refuse the request. */
static int
uv_flag(int uv_opt)
{
	if (uv_opt != 1)
		return 0;
	switch (sw.uv) {
	case UV_ON:
		return FL_UV;
	case UV_LIE:
		return 0;
	default:
		return -1;
	}
}

/* ---- CTAP2 commands ---- */

static size_t
get_info(uint8_t *out, size_t outlen)
{
	cbor_item_t *m = cbor_new_definite_map(4), *v, *o;

	v = cbor_new_definite_array(1);
	(void)cbor_array_push(v, cbor_move(cbor_build_string("FIDO_2_0")));
	put(m, cint(1), v);
	put(m, cint(3), cbor_build_bytestring(sw.aaguid, sizeof(sw.aaguid)));
	o = cbor_new_definite_map(3);
	put(o, cbor_build_string("rk"), cbor_build_bool(false));
	put(o, cbor_build_string("up"), cbor_build_bool(true));
	put(o, cbor_build_string("uv"), cbor_build_bool(sw.uv != UV_OFF));
	put(m, cint(4), o);
	put(m, cint(5), cbor_build_uint16(1200));
	return reply_cbor(m, out, outlen);
}

static size_t
make_credential(cbor_item_t *req, uint8_t *out, size_t outlen)
{
	cbor_item_t	*rp, *params, *att, *m, *cose;
	const uint8_t	*cdh;
	size_t		 cdhlen, i, len, adlen, siglen, ok = 0;
	unsigned char	*cbuf = NULL;
	size_t		 cbl = 0;
	uint8_t		 ad[512], sig[128], x[32], y[32];
	struct cred	*cr;
	int		 uvf;

	rp = map_get(req, 2);
	params = map_get(req, 4);
	if (bytes(map_get(req, 1), &cdh, &cdhlen) != 0 || cdhlen != 32 ||
	    (rp = map_get_str(rp, "id")) == NULL || !cbor_isa_string(rp) ||
	    params == NULL || !cbor_isa_array(params)) {
		out[0] = CTAP2_ERR_MISSING_PARAM;
		return 1;
	}
	for (i = 0; i < cbor_array_size(params); i++) {
		cbor_item_t *alg = map_get_str(cbor_array_handle(params)[i],
		    "alg");
		if (alg != NULL && cbor_isa_negint(alg) && cbor_get_int(alg) == 6)
			ok = 1;		/* -7: ES256 */
	}
	if (!ok) {
		out[0] = CTAP2_ERR_UNSUPPORTED_ALG;
		return 1;
	}
	if ((uvf = uv_flag(opt_bool(map_get(req, 7), "uv"))) < 0) {
		out[0] = CTAP2_ERR_UNSUPPORTED_OPTION;
		return 1;
	}
	if (sw.n == MAX_CREDS)
		die("too many credentials");
	cr = &sw.creds[sw.n];
	if (RAND_bytes(cr->id, CRED_ID_LEN) != 1)
		die("RAND_bytes");
	SHA256(cbor_string_handle(rp), cbor_string_length(rp), cr->rp_hash);
	if ((cr->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		die("keygen");
	sw.n++;

	adlen = authdata_head(ad, cr->rp_hash, (uint8_t)(FL_UP | FL_AT | uvf),
	    next_counter());
	memcpy(ad + adlen, sw.aaguid, 16);
	adlen += 16;
	ad[adlen++] = 0;
	ad[adlen++] = CRED_ID_LEN;
	memcpy(ad + adlen, cr->id, CRED_ID_LEN);
	adlen += CRED_ID_LEN;
	pub_xy(cr->key, x, y);
	cose = cbor_new_definite_map(5);
	put(cose, cint(1), cint(2));		/* kty: EC2 */
	put(cose, cint(3), cint(-7));		/* alg: ES256 */
	put(cose, cint(-1), cint(1));		/* crv: P-256 */
	put(cose, cint(-2), cbor_build_bytestring(x, 32));
	put(cose, cint(-3), cbor_build_bytestring(y, 32));
	len = cbor_serialize_alloc(cose, &cbuf, &cbl);
	cbor_decref(&cose);
	if (len == 0 || adlen + len > sizeof(ad))
		die("cose key");
	memcpy(ad + adlen, cbuf, len);
	adlen += len;
	free(cbuf);
	state_save();

	/* Packed self-attestation: signed by the credential key itself. */
	siglen = sign(cr->key, ad, adlen, cdh, 32, sig, sizeof(sig));
	att = cbor_new_definite_map(2);
	put(att, cbor_build_string("alg"), cint(-7));
	put(att, cbor_build_string("sig"), cbor_build_bytestring(sig, siglen));
	m = cbor_new_definite_map(3);
	put(m, cint(1), cbor_build_string("packed"));
	put(m, cint(2), cbor_build_bytestring(ad, adlen));
	put(m, cint(3), att);
	return reply_cbor(m, out, outlen);
}

static size_t
get_assertion(cbor_item_t *req, uint8_t *out, size_t outlen)
{
	cbor_item_t	*rp, *allow, *m, *cd;
	const uint8_t	*cdh, *id;
	uint8_t		 rp_hash[32], ad[64], sig[128];
	size_t		 cdhlen, idlen, i, j, adlen, siglen;
	struct cred	*cr = NULL;
	int		 up, uvf;

	rp = map_get(req, 1);
	allow = map_get(req, 3);
	if (rp == NULL || !cbor_isa_string(rp) ||
	    bytes(map_get(req, 2), &cdh, &cdhlen) != 0 || cdhlen != 32) {
		out[0] = CTAP2_ERR_MISSING_PARAM;
		return 1;
	}
	SHA256(cbor_string_handle(rp), cbor_string_length(rp), rp_hash);
	/* No resident keys: only what the allow list names. */
	for (i = 0; allow != NULL && cbor_isa_array(allow) &&
	    i < cbor_array_size(allow) && cr == NULL; i++) {
		if (bytes(map_get_str(cbor_array_handle(allow)[i], "id"), &id,
		    &idlen) != 0 || idlen != CRED_ID_LEN)
			continue;
		for (j = 0; j < sw.n; j++)
			if (memcmp(sw.creds[j].id, id, CRED_ID_LEN) == 0 &&
			    memcmp(sw.creds[j].rp_hash, rp_hash, 32) == 0)
				cr = &sw.creds[j];
	}
	if (cr == NULL) {
		out[0] = CTAP2_ERR_NO_CREDENTIALS;
		return 1;
	}
	up = opt_bool(map_get(req, 5), "up");
	if ((uvf = uv_flag(opt_bool(map_get(req, 5), "uv"))) < 0) {
		out[0] = CTAP2_ERR_UNSUPPORTED_OPTION;
		return 1;
	}
	adlen = authdata_head(ad, rp_hash, (uint8_t)((up == 0 ? 0 : FL_UP) |
	    uvf), next_counter());
	state_save();
	siglen = sign(cr->key, ad, adlen, cdh, 32, sig, sizeof(sig));
	if (sw.tamper)
		sig[siglen - 1] ^= 0x01;
	cd = cbor_new_definite_map(2);
	put(cd, cbor_build_string("id"), cbor_build_bytestring(cr->id,
	    CRED_ID_LEN));
	put(cd, cbor_build_string("type"), cbor_build_string("public-key"));
	m = cbor_new_definite_map(3);
	put(m, cint(1), cd);
	put(m, cint(2), cbor_build_bytestring(ad, adlen));
	put(m, cint(3), cbor_build_bytestring(sig, siglen));
	return reply_cbor(m, out, outlen);
}

static size_t
ctap2(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
	struct cbor_load_result	 res;
	cbor_item_t		*req = NULL;
	size_t			 n;

	if (inlen < 1) {
		out[0] = CTAP1_ERR_OTHER;
		return 1;
	}
	if (inlen > 1 && ((req = cbor_load(in + 1, inlen - 1, &res)) == NULL ||
	    !cbor_isa_map(req))) {
		if (req != NULL)
			cbor_decref(&req);
		out[0] = CTAP2_ERR_INVALID_CBOR;
		return 1;
	}
	switch (in[0]) {
	case 0x04:
		n = get_info(out, outlen);
		break;
	case 0x01:
		n = make_credential(req, out, outlen);
		break;
	case 0x02:
		n = get_assertion(req, out, outlen);
		break;
	default:
		out[0] = 0x01;	/* CTAP1_ERR_INVALID_COMMAND */
		n = 1;
		break;
	}
	if (req != NULL)
		cbor_decref(&req);
	return n;
}

/* ---- CTAPHID framing ---- */

static int
send_msg(int fd, const uint8_t cid[4], uint8_t cmd, const uint8_t *p,
    size_t n)
{
	uint8_t	pkt[REPORT];
	size_t	off = 0, chunk;
	uint8_t	seq = 0;

	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, cid, 4);
	pkt[4] = cmd;
	pkt[5] = (uint8_t)(n >> 8);
	pkt[6] = (uint8_t)n;
	chunk = n < INIT_DATA ? n : INIT_DATA;
	memcpy(pkt + 7, p, chunk);
	off = chunk;
	if (send(fd, pkt, REPORT, 0) != REPORT)
		return -1;
	while (off < n) {
		memset(pkt, 0, sizeof(pkt));
		memcpy(pkt, cid, 4);
		pkt[4] = seq++;
		chunk = n - off < CONT_DATA ? n - off : CONT_DATA;
		memcpy(pkt + 5, p + off, chunk);
		off += chunk;
		if (send(fd, pkt, REPORT, 0) != REPORT)
			return -1;
	}
	return 0;
}

static int
send_err(int fd, const uint8_t cid[4], uint8_t code)
{
	return send_msg(fd, cid, CMD_ERROR, &code, 1);
}

/* Serve one connection until the peer closes it. */
static void
serve(int fd)
{
	static uint8_t	msg[MSG_MAX], out[MSG_MAX];
	uint8_t		pkt[REPORT], cid[4], cmd, seq;
	ssize_t		got;
	size_t		len, have, chunk, n;

	for (;;) {
		if ((got = recv(fd, pkt, sizeof(pkt), 0)) <= 0)
			return;
		if (got != REPORT || (pkt[4] & 0x80) == 0)
			continue;	/* stray continuation: ignore */
		memcpy(cid, pkt, 4);
		cmd = pkt[4];
		len = (size_t)pkt[5] << 8 | pkt[6];
		if (len > MSG_MAX) {
			send_err(fd, cid, ERR_INVALID_LEN);
			continue;
		}
		chunk = len < INIT_DATA ? len : INIT_DATA;
		memcpy(msg, pkt + 7, chunk);
		have = chunk;
		for (seq = 0; have < len; seq++) {
			if ((got = recv(fd, pkt, sizeof(pkt), 0)) <= 0)
				return;
			if (got != REPORT || memcmp(pkt, cid, 4) != 0 ||
			    pkt[4] != seq)
				break;
			chunk = len - have < CONT_DATA ? len - have : CONT_DATA;
			memcpy(msg + have, pkt + 5, chunk);
			have += chunk;
		}
		if (have < len) {
			send_err(fd, cid, ERR_INVALID_SEQ);
			continue;
		}
		switch (cmd) {
		case CMD_INIT:
			if (len != 8) {
				send_err(fd, cid, ERR_INVALID_LEN);
				break;
			}
			memcpy(out, msg, 8);
			sw.next_cid++;
			out[8] = (uint8_t)(sw.next_cid >> 24);
			out[9] = (uint8_t)(sw.next_cid >> 16);
			out[10] = (uint8_t)(sw.next_cid >> 8);
			out[11] = (uint8_t)sw.next_cid;
			out[12] = 2;			/* CTAPHID protocol */
			out[13] = 0; out[14] = 1; out[15] = 0;	/* version */
			out[16] = 0x04 | 0x08;		/* CBOR, NMSG */
			send_msg(fd, cid, CMD_INIT, out, 17);
			break;
		case CMD_PING:
			send_msg(fd, cid, CMD_PING, msg, len);
			break;
		case CMD_CANCEL:
			break;			/* nothing is ever pending */
		case CMD_CBOR:
			if (memcmp(cid, "\xff\xff\xff\xff", 4) == 0) {
				send_err(fd, cid, ERR_INVALID_CHANNEL);
				break;
			}
			n = ctap2(msg, len, out, sizeof(out));
			send_msg(fd, cid, CMD_CBOR, out, n);
			break;
		default:
			send_err(fd, cid, ERR_INVALID_CMD);
			break;
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: fido_sw --socket PATH --state FILE "
	    "[--uv on|off|lie] [--counter increasing|stuck|zero] [--tamper] "
	    "[--aaguid HEX32]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state", required_argument, NULL, 'S' },
		{ "uv", required_argument, NULL, 'u' },
		{ "counter", required_argument, NULL, 'C' },
		{ "tamper", no_argument, NULL, 't' },
		{ "aaguid", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un	sun;
	const char		*path = NULL;
	size_t			n;
	int			ch, lfd, fd;

	memcpy(sw.aaguid, "zonemfa-fido_sw!", 16);
	sw.uv = UV_ON;
	sw.next_cid = 0x5a4d0000u;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'S':
			sw.state = optarg;
			break;
		case 'u':
			if (strcmp(optarg, "on") == 0)
				sw.uv = UV_ON;
			else if (strcmp(optarg, "off") == 0)
				sw.uv = UV_OFF;
			else if (strcmp(optarg, "lie") == 0)
				sw.uv = UV_LIE;
			else
				usage();
			break;
		case 'C':
			if (strcmp(optarg, "increasing") == 0)
				sw.counter_mode = CNT_INC;
			else if (strcmp(optarg, "stuck") == 0)
				sw.counter_mode = CNT_STUCK;
			else if (strcmp(optarg, "zero") == 0)
				sw.counter_mode = CNT_ZERO;
			else
				usage();
			break;
		case 't':
			sw.tamper = 1;
			break;
		case 'a':
			if (unhex(optarg, sw.aaguid, 16, &n) != 0 || n != 16)
				usage();
			break;
		default:
			usage();
		}
	}
	if (path == NULL || sw.state == NULL || optind != argc)
		usage();
	state_load();
	signal(SIGPIPE, SIG_IGN);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("socket path too long");
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(lfd, 8) == -1)
		die(strerror(errno));
	/* The daemon runs as root; the socket is the test's business. */
	chmod(path, 0600);
	printf("fido_sw: listening on %s\n", path);
	fflush(stdout);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			die(strerror(errno));
		}
		serve(fd);
		close(fd);
	}
}
