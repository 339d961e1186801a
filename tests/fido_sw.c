/*
 * fido_sw.c - a software FIDO2 authenticator for the test suite.
 *
 *   fido_sw --socket PATH --state FILE [--uv on|off|lie]
 *           [--counter increasing|stuck|zero] [--tamper] [--aaguid HEX32]
 *           [--pin PIN [--pin-retries N]] [--attest-ca PATH]
 *           [--alg es256|eddsa] [--no-touch | --hang]
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
 *   --pin PIN    a client PIN is set (CTAP2 clientPin, PIN protocol 1:
 *                getRetries, getKeyAgreement, getPINToken); a valid
 *                pinAuth on getAssertion sets UV.  makeCredential needs
 *                no PIN (makeCredUvNotRqd, as CTAP 2.1 keys do for
 *                credentials that are not discoverable)
 *   --attest-ca PATH  full packed attestation: at start make a test CA
 *                and an attestation certificate it signs (both P-256),
 *                write the CA certificate (PEM) to PATH, and sign every
 *                makeCredential with the attestation key (x5c) instead
 *                of self attestation
 *   --alg eddsa  getInfo lists EdDSA (and ES256); makeCredential makes an
 *                Ed25519 credential when the request offers EdDSA (-8)
 *   --pin-retries N  wrong PINs before the PIN blocks (default 8); the
 *                counter is kept in the state file, so a blocked key
 *                stays blocked when it is plugged in again
 *   --no-touch   nobody touches the key: a getAssertion that asks for
 *                user presence is never answered (a silent one, up=false,
 *                is)
 *   --hang       a broken key: answers nothing at all, not even
 *                CTAPHID_INIT
 *
 * Every PIN the key is given is logged on stdout ("fido_sw PATH: PIN
 * right|wrong"), so a test sees which key got it.
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
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

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
#define CTAP2_ERR_PIN_INVALID	0x31
#define CTAP2_ERR_PIN_BLOCKED	0x32
#define CTAP2_ERR_PIN_AUTH_INVALID 0x33
#define CTAP2_ERR_INVALID_SUBCOMMAND 0x3e
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
	const char	*path;
	int		 uv, counter_mode, tamper, eddsa;
	int		 no_touch, hang;
	uint8_t		 aaguid[16];
	uint32_t	 counter;
	struct cred	 creds[MAX_CREDS];
	size_t		 n;
	uint32_t	 next_cid;
	/* client PIN (protocol 1) */
	int		 pin_set;
	uint8_t		 pin_hash[16];	/* LEFT(SHA-256(PIN), 16) */
	int		 retries, max_retries;
	EVP_PKEY	*ka;		/* key agreement key of this power-up */
	uint8_t		 token[32];	/* pinToken; valid once a PIN was right */
	int		 token_valid;
	/* full attestation (--attest-ca) */
	EVP_PKEY	*att_key;
	uint8_t		*att_der;
	int		 att_der_len;
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
	if (sw.pin_set)
		fprintf(f, "retries %d\n", sw.retries);
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
		if (sscanf(line, "retries %d", &sw.retries) == 1)
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
	/* Ed25519 signs the message itself (no digest). */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_PKEY_get_base_id(k) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256(), NULL, k) != 1 ||
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

/* ---- full attestation: a test CA and the certificate it signs ---- */

static X509 *
cert_new(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *cn,
    int ca, long serial)
{
	X509		*x;
	X509_NAME	*n;
	X509_EXTENSION	*e;
	X509V3_CTX	 v3;

	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) == NULL ||
	    X509_set_pubkey(x, key) != 1 || (n = X509_NAME_new()) == NULL)
		die("certificate");
	/* WebAuthn packed: C, O, OU "Authenticator Attestation", CN. */
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"zonemfa test", -1, -1, 0);
	if (!ca)
		X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
		    (const unsigned char *)"Authenticator Attestation", -1,
		    -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	if (X509_set_subject_name(x, n) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n) != 1)
		die("certificate name");
	X509_NAME_free(n);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE")) == NULL ||
	    X509_add_ext(x, e, -1) != 1)
		die("basicConstraints");
	X509_EXTENSION_free(e);
	if (ca) {
		if ((e = X509V3_EXT_nconf_nid(NULL, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign")) == NULL ||
		    X509_add_ext(x, e, -1) != 1)
			die("keyUsage");
		X509_EXTENSION_free(e);
	}
	if (X509_sign(x, signer, EVP_sha256()) <= 0)
		die("X509_sign");
	return x;
}

static void
attest_setup(const char *ca_path)
{
	EVP_PKEY	*ca_key;
	X509		*ca, *att;
	FILE		*f;

	if ((ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (sw.att_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) ==
	    NULL)
		die("keygen");
	ca = cert_new(ca_key, ca_key, NULL, "zonemfa test attestation CA", 1,
	    1);
	att = cert_new(sw.att_key, ca_key, ca, "fido_sw attestation", 0, 2);
	sw.att_der = NULL;
	if ((sw.att_der_len = i2d_X509(att, &sw.att_der)) <= 0)
		die("i2d_X509");
	if ((f = fopen(ca_path, "w")) == NULL || PEM_write_X509(f, ca) != 1 ||
	    fclose(f) != 0)
		die("cannot write the CA certificate");
	X509_free(att);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
}

/* ---- client PIN, protocol 1 (CTAP 2.0 section 5.5) ---- */

static void
ka_new(void)
{
	EVP_PKEY_free(sw.ka);
	if ((sw.ka = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		die("keygen");
}

/* AES-256-CBC, IV 0, no padding (n a multiple of 16). */
static int
aes(int enc, const uint8_t key[32], const uint8_t *in, size_t n, uint8_t *out)
{
	static const uint8_t	 iv[16];
	EVP_CIPHER_CTX		*c;
	int			 l1 = 0, l2 = 0, ok;

	if (n % 16 != 0 || (c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv, enc) ==
	    1 && EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_CipherUpdate(c, out, &l1, in, (int)n) == 1 &&
	    EVP_CipherFinal_ex(c, out + l1, &l2) == 1 &&
	    (size_t)(l1 + l2) == n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* shared = SHA-256(x of ECDH(ka, platform key)); -1: bad platform key. */
static int
shared_secret(cbor_item_t *cose, uint8_t shared[32])
{
	OSSL_PARAM_BLD	*b = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*pc = NULL, *dc = NULL;
	EVP_PKEY	*peer = NULL;
	const uint8_t	*x, *y;
	uint8_t		 pt[65], z[32];
	size_t		 xl, yl, zl = sizeof(z);
	int		 ok = -1;

	if (bytes(map_get(cose, -2), &x, &xl) != 0 || xl != 32 ||
	    bytes(map_get(cose, -3), &y, &yl) != 0 || yl != 32)
		return -1;
	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	if ((b = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	    "P-256", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt)) ||
	    (params = OSSL_PARAM_BLD_to_param(b)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (dc = EVP_PKEY_CTX_new(sw.ka, NULL)) == NULL ||
	    EVP_PKEY_derive_init(dc) != 1 ||
	    EVP_PKEY_derive_set_peer(dc, peer) != 1 ||
	    EVP_PKEY_derive(dc, z, &zl) != 1 || zl != 32)
		goto out;
	SHA256(z, zl, shared);
	ok = 0;
 out:
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(peer);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return ok;
}

static size_t
client_pin(cbor_item_t *req, uint8_t *out, size_t outlen)
{
	cbor_item_t	*m, *cose, *proto = map_get(req, 1), *sub = map_get(req, 2);
	const uint8_t	*phe;
	uint8_t		 shared[32], ph[16], enc[32], x[32], y[32];
	size_t		 phelen;

	if (!sw.pin_set || proto == NULL || !cbor_isa_uint(proto) ||
	    cbor_get_int(proto) != 1 || sub == NULL || !cbor_isa_uint(sub)) {
		out[0] = CTAP2_ERR_MISSING_PARAM;
		return 1;
	}
	switch (cbor_get_int(sub)) {
	case 0x01:		/* getRetries */
		m = cbor_new_definite_map(1);
		put(m, cint(3), cint(sw.retries));
		return reply_cbor(m, out, outlen);
	case 0x02:		/* getKeyAgreement */
		pub_xy(sw.ka, x, y);
		cose = cbor_new_definite_map(5);
		put(cose, cint(1), cint(2));		/* kty: EC2 */
		put(cose, cint(3), cint(-25));		/* ECDH-ES+HKDF-256 */
		put(cose, cint(-1), cint(1));		/* crv: P-256 */
		put(cose, cint(-2), cbor_build_bytestring(x, 32));
		put(cose, cint(-3), cbor_build_bytestring(y, 32));
		m = cbor_new_definite_map(1);
		put(m, cint(1), cose);
		return reply_cbor(m, out, outlen);
	case 0x05:		/* getPINToken */
		if (sw.retries <= 0) {
			out[0] = CTAP2_ERR_PIN_BLOCKED;
			return 1;
		}
		if (shared_secret(map_get(req, 3), shared) != 0 ||
		    bytes(map_get(req, 6), &phe, &phelen) != 0 || phelen != 16) {
			out[0] = CTAP2_ERR_MISSING_PARAM;
			return 1;
		}
		/* The try is spent before the PIN is looked at. */
		sw.retries--;
		state_save();
		if (aes(0, shared, phe, 16, ph) != 0 ||
		    CRYPTO_memcmp(ph, sw.pin_hash, 16) != 0) {
			printf("fido_sw %s: PIN wrong\n", sw.path);
			fflush(stdout);
			ka_new();
			sw.token_valid = 0;
			out[0] = sw.retries == 0 ? CTAP2_ERR_PIN_BLOCKED :
			    CTAP2_ERR_PIN_INVALID;
			return 1;
		}
		printf("fido_sw %s: PIN right\n", sw.path);
		fflush(stdout);
		sw.retries = sw.max_retries;
		state_save();
		if (RAND_bytes(sw.token, sizeof(sw.token)) != 1 ||
		    aes(1, shared, sw.token, sizeof(sw.token), enc) != 0)
			die("pin token");
		sw.token_valid = 1;
		m = cbor_new_definite_map(1);
		put(m, cint(2), cbor_build_bytestring(enc, sizeof(enc)));
		return reply_cbor(m, out, outlen);
	default:
		out[0] = CTAP2_ERR_INVALID_SUBCOMMAND;
		return 1;
	}
}

/*
 * pinAuth of a request (key ka, protocol key kp): 0 absent, 1 valid,
 * -1 invalid.  Valid means LEFT(HMAC-SHA-256(pinToken, cdh), 16).
 */
static int
pin_auth(cbor_item_t *req, int64_t ka, int64_t kp, const uint8_t *cdh)
{
	const uint8_t	*pa;
	uint8_t		 mac[32];
	unsigned	 maclen = sizeof(mac);
	size_t		 palen;
	cbor_item_t	*proto = map_get(req, kp);

	if (map_get(req, ka) == NULL)
		return 0;
	if (!sw.pin_set || !sw.token_valid ||
	    bytes(map_get(req, ka), &pa, &palen) != 0 || palen != 16 ||
	    proto == NULL || !cbor_isa_uint(proto) || cbor_get_int(proto) != 1)
		return -1;
	if (HMAC(EVP_sha256(), sw.token, sizeof(sw.token), cdh, 32, mac,
	    &maclen) == NULL || CRYPTO_memcmp(mac, pa, 16) != 0)
		return -1;
	return 1;
}

/* ---- CTAP2 commands ---- */

static size_t
get_info(uint8_t *out, size_t outlen)
{
	cbor_item_t *m = cbor_new_definite_map((sw.pin_set ? 5 : 4) +
	    (sw.eddsa ? 1 : 0)), *v, *o, *a;
	int64_t algs[] = { -8, -7 };
	size_t i;

	v = cbor_new_definite_array(1);
	(void)cbor_array_push(v, cbor_move(cbor_build_string("FIDO_2_0")));
	put(m, cint(1), v);
	put(m, cint(3), cbor_build_bytestring(sw.aaguid, sizeof(sw.aaguid)));
	o = cbor_new_definite_map(sw.pin_set ? 5 : 3);
	put(o, cbor_build_string("rk"), cbor_build_bool(false));
	put(o, cbor_build_string("up"), cbor_build_bool(true));
	put(o, cbor_build_string("uv"), cbor_build_bool(sw.uv != UV_OFF));
	if (sw.pin_set) {
		put(o, cbor_build_string("clientPin"), cbor_build_bool(true));
		put(o, cbor_build_string("makeCredUvNotRqd"),
		    cbor_build_bool(true));
	}
	put(m, cint(4), o);
	put(m, cint(5), cbor_build_uint16(1200));
	if (sw.pin_set) {
		v = cbor_new_definite_array(1);
		(void)cbor_array_push(v, cbor_move(cint(1)));
		put(m, cint(6), v);		/* pinUvAuthProtocols */
	}
	if (sw.eddsa) {
		v = cbor_new_definite_array(2);
		for (i = 0; i < 2; i++) {
			a = cbor_new_definite_map(2);
			put(a, cbor_build_string("alg"), cint(algs[i]));
			put(a, cbor_build_string("type"),
			    cbor_build_string("public-key"));
			(void)cbor_array_push(v, cbor_move(a));
		}
		put(m, cint(10), v);		/* algorithms */
	}
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
			ok |= 1;	/* -7: ES256 */
		if (alg != NULL && cbor_isa_negint(alg) && cbor_get_int(alg) == 7)
			ok |= 2;	/* -8: EdDSA */
	}
	if (!sw.eddsa)
		ok &= 1;
	if (!ok) {
		out[0] = CTAP2_ERR_UNSUPPORTED_ALG;
		return 1;
	}
	if ((uvf = uv_flag(opt_bool(map_get(req, 7), "uv"))) < 0) {
		out[0] = CTAP2_ERR_UNSUPPORTED_OPTION;
		return 1;
	}
	switch (pin_auth(req, 8, 9, cdh)) {
	case -1:
		out[0] = CTAP2_ERR_PIN_AUTH_INVALID;
		return 1;
	case 1:
		uvf = FL_UV;
		break;
	}
	if (sw.n == MAX_CREDS)
		die("too many credentials");
	cr = &sw.creds[sw.n];
	if (RAND_bytes(cr->id, CRED_ID_LEN) != 1)
		die("RAND_bytes");
	SHA256(cbor_string_handle(rp), cbor_string_length(rp), cr->rp_hash);
	if ((cr->key = (ok & 2) ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
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
	if (ok & 2) {
		size_t xl = sizeof(x);

		if (!EVP_PKEY_get_raw_public_key(cr->key, x, &xl) || xl != 32)
			die("ed25519 public key");
		cose = cbor_new_definite_map(4);
		put(cose, cint(1), cint(1));		/* kty: OKP */
		put(cose, cint(3), cint(-8));		/* alg: EdDSA */
		put(cose, cint(-1), cint(6));		/* crv: Ed25519 */
		put(cose, cint(-2), cbor_build_bytestring(x, 32));
	} else {
		pub_xy(cr->key, x, y);
		cose = cbor_new_definite_map(5);
		put(cose, cint(1), cint(2));		/* kty: EC2 */
		put(cose, cint(3), cint(-7));		/* alg: ES256 */
		put(cose, cint(-1), cint(1));		/* crv: P-256 */
		put(cose, cint(-2), cbor_build_bytestring(x, 32));
		put(cose, cint(-3), cbor_build_bytestring(y, 32));
	}
	len = cbor_serialize_alloc(cose, &cbuf, &cbl);
	cbor_decref(&cose);
	if (len == 0 || adlen + len > sizeof(ad))
		die("cose key");
	memcpy(ad + adlen, cbuf, len);
	adlen += len;
	free(cbuf);
	state_save();

	/*
	 * Packed: self attestation (signed by the credential key itself), or
	 * full with --attest-ca (the attestation key, certificate in x5c).
	 */
	siglen = sign(sw.att_key != NULL ? sw.att_key : cr->key, ad, adlen,
	    cdh, 32, sig, sizeof(sig));
	att = cbor_new_definite_map(sw.att_key != NULL ? 3 : 2);
	put(att, cbor_build_string("alg"), cint(sw.att_key == NULL &&
	    (ok & 2) ? -8 : -7));
	put(att, cbor_build_string("sig"), cbor_build_bytestring(sig, siglen));
	if (sw.att_key != NULL) {
		cbor_item_t *x5c = cbor_new_definite_array(1);

		(void)cbor_array_push(x5c, cbor_move(cbor_build_bytestring(
		    sw.att_der, (size_t)sw.att_der_len)));
		put(att, cbor_build_string("x5c"), x5c);
	}
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
	/* Nobody touches the key: no answer (0 bytes: nothing is sent). */
	if (sw.no_touch && up != 0)
		return 0;
	if ((uvf = uv_flag(opt_bool(map_get(req, 5), "uv"))) < 0) {
		out[0] = CTAP2_ERR_UNSUPPORTED_OPTION;
		return 1;
	}
	/* pinAuth (6) with pinProtocol (7): UV by PIN. */
	switch (pin_auth(req, 6, 7, cdh)) {
	case -1:
		out[0] = CTAP2_ERR_PIN_AUTH_INVALID;
		return 1;
	case 1:
		uvf = FL_UV;
		break;
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
	case 0x06:
		n = client_pin(req, out, outlen);
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
		if (sw.hang)
			continue;	/* a broken key: not a word */
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
			if (n > 0)
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
	    "[--aaguid HEX32] [--pin PIN [--pin-retries N]] "
	    "[--attest-ca PATH] [--alg es256|eddsa] [--no-touch | --hang]\n");
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
		{ "pin", required_argument, NULL, 'p' },
		{ "pin-retries", required_argument, NULL, 'R' },
		{ "attest-ca", required_argument, NULL, 'A' },
		{ "alg", required_argument, NULL, 'g' },
		{ "no-touch", no_argument, NULL, 'T' },
		{ "hang", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un	sun;
	const char		*path = NULL, *ca_path = NULL;
	uint8_t			h[32];
	char			*end;
	size_t			n;
	int			ch, lfd, fd;

	memcpy(sw.aaguid, "zonemfa-fido_sw!", 16);
	sw.uv = UV_ON;
	sw.next_cid = 0x5a4d0000u;
	sw.max_retries = 8;
	sw.retries = -1;
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
		case 'T':
			sw.no_touch = 1;
			break;
		case 'H':
			sw.hang = 1;
			break;
		case 'a':
			if (unhex(optarg, sw.aaguid, 16, &n) != 0 || n != 16)
				usage();
			break;
		case 'p':
			if (strlen(optarg) < 4 || strlen(optarg) > 63)
				usage();
			SHA256((const uint8_t *)optarg, strlen(optarg), h);
			memcpy(sw.pin_hash, h, sizeof(sw.pin_hash));
			sw.pin_set = 1;
			break;
		case 'A':
			ca_path = optarg;
			break;
		case 'g':
			if (strcmp(optarg, "eddsa") == 0)
				sw.eddsa = 1;
			else if (strcmp(optarg, "es256") != 0)
				usage();
			break;
		case 'R':
			sw.max_retries = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || sw.max_retries < 1 ||
			    sw.max_retries > 8)
				usage();
			break;
		default:
			usage();
		}
	}
	if (path == NULL || sw.state == NULL || optind != argc ||
	    (sw.no_touch && sw.hang))
		usage();
	sw.path = path;
	state_load();
	if (sw.retries < 0 || sw.retries > sw.max_retries)
		sw.retries = sw.max_retries;
	if (sw.pin_set)
		ka_new();
	if (ca_path != NULL)
		attest_setup(ca_path);
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
