/*
 * card_key.c - the cryptography of card logins (OpenSSL): the public key
 * of a card certificate, the optional CA check, signature verification,
 * and the token data blob that binds a card's key at enrolment.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "card.h"
#include "err.h"

#define DATA_VERSION_SPKI	1	/* the key only */
#define DATA_VERSION	2	/* the key and the certificate */

static X509 *
cert_parse(const uint8_t *cert, size_t n)
{
	const uint8_t *p = cert;

	if (cert == NULL || n == 0 || n > ZM_CARD_CERT_MAX)
		return NULL;
	return d2i_X509(NULL, &p, (long)n);
}

static int
key_type(EVP_PKEY *k, int *key)
{
	char	group[64];
	size_t	glen = 0;

	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bits(k) == 2048) {
		*key = ZM_CARD_KEY_RSA2048;
		return ZM_OK;
	}
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group),
	    &glen) == 1 && strcmp(group, "prime256v1") == 0) {
		*key = ZM_CARD_KEY_EC256;
		return ZM_OK;
	}
	return ZM_ERR_INVALID;
}

int
zm_card_cert_spki(const uint8_t *cert, size_t n, struct zm_buf *spki,
    int *key)
{
	X509		*x;
	EVP_PKEY	*k;
	uint8_t		*der = NULL;
	int		 len, r = ZM_ERR_INVALID;

	if ((x = cert_parse(cert, n)) == NULL)
		return ZM_ERR_INVALID;
	if ((k = X509_get0_pubkey(x)) == NULL ||
	    (r = key_type(k, key)) != 0)
		goto out;
	if ((len = i2d_PUBKEY(k, &der)) <= 0 || len > ZM_CARD_SPKI_MAX) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	r = zm_buf_put(spki, der, (size_t)len);
 out:
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

int
zm_card_cert_serial(const uint8_t *cert, size_t n, char *out, size_t outlen)
{
	X509		*x;
	BIGNUM		*bn = NULL;
	char		*hex = NULL;
	int		 r = ZM_ERR_INVALID, w;

	if ((x = cert_parse(cert, n)) == NULL)
		return ZM_ERR_INVALID;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	w = snprintf(out, outlen, "%s", hex);
	if (w > 0 && (size_t)w < outlen)
		r = ZM_OK;
 out:
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	return r;
}

int
zm_card_cert_check(const uint8_t *cert, size_t n, const char *ca_file)
{
	X509		*x;
	X509_STORE	*st = NULL;
	X509_STORE_CTX	*ctx = NULL;
	int		 r = ZM_ERR_DENIED;

	if ((x = cert_parse(cert, n)) == NULL)
		return ZM_ERR_INVALID;
	if (ca_file == NULL) {
		r = ZM_OK;
		goto out;
	}
	if ((st = X509_STORE_new()) == NULL ||
	    X509_STORE_load_file(st, ca_file) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, st, x, NULL) != 1) {
		r = ZM_ERR_CRYPTO;
		goto out;
	}
	/* Chain and validity period (now). */
	if (X509_verify_cert(ctx) == 1)
		r = ZM_OK;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(x);
	return r;
}

int
zm_card_sig_verify(const uint8_t *spki, size_t spki_len, int key,
    const uint8_t chal[ZM_CARD_CHAL_LEN], const uint8_t *sig, size_t siglen)
{
	const uint8_t	*p = spki;
	EVP_PKEY	*k = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	int		 kt = 0, r = ZM_ERR_DENIED;

	if (spki == NULL || sig == NULL || siglen == 0 || siglen > 1024)
		return ZM_ERR_DENIED;
	if ((k = d2i_PUBKEY(NULL, &p, (long)spki_len)) == NULL ||
	    key_type(k, &kt) != 0 || kt != key) {
		r = ZM_ERR_INVALID;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new(k, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) != 1) {
		r = ZM_ERR_CRYPTO;
		goto out;
	}
	/* RSA: PKCS#1 v1.5 over a SHA-256 DigestInfo; EC: ECDSA of the hash. */
	if (key == ZM_CARD_KEY_RSA2048 &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)) {
		r = ZM_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_verify(ctx, sig, siglen, chal, ZM_CARD_CHAL_LEN) == 1)
		r = ZM_OK;
 out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

int
zm_card_data_encode(int profile, int key, const uint8_t *spki,
    size_t spki_len, const uint8_t *cert, size_t cert_len,
    struct zm_buf *out)
{
	int r;

	if (spki_len == 0 || spki_len > ZM_CARD_SPKI_MAX || cert == NULL ||
	    cert_len == 0 || cert_len > ZM_CARD_CERT_MAX)
		return ZM_ERR_INVALID;
	if ((r = zm_buf_put_u8(out, DATA_VERSION)) != 0 ||
	    (r = zm_buf_put_u8(out, (uint8_t)profile)) != 0 ||
	    (r = zm_buf_put_u8(out, (uint8_t)key)) != 0 ||
	    (r = zm_buf_put_u16(out, (uint16_t)spki_len)) != 0 ||
	    (r = zm_buf_put(out, spki, spki_len)) != 0 ||
	    (r = zm_buf_put_u16(out, (uint16_t)cert_len)) != 0 ||
	    (r = zm_buf_put(out, cert, cert_len)) != 0)
		return r;
	return ZM_OK;
}

int
zm_card_data_decode(const uint8_t *p, size_t n, int *profile, int *key,
    const uint8_t **spki, size_t *spki_len, const uint8_t **cert,
    size_t *cert_len)
{
	struct zm_cur	c;
	uint8_t		v, pr, k;
	uint16_t	len, clen = 0;

	*cert = NULL;
	zm_cur_init(&c, p, n);
	if (zm_cur_get_u8(&c, &v) != 0 ||
	    (v != DATA_VERSION && v != DATA_VERSION_SPKI) ||
	    zm_cur_get_u8(&c, &pr) != 0 || zm_cur_get_u8(&c, &k) != 0 ||
	    zm_cur_get_u16(&c, &len) != 0 || len == 0 ||
	    len > ZM_CARD_SPKI_MAX || zm_cur_take(&c, spki, len) != 0)
		return ZM_ERR_INVALID;
	if (v == DATA_VERSION && (zm_cur_get_u16(&c, &clen) != 0 ||
	    clen == 0 || clen > ZM_CARD_CERT_MAX ||
	    zm_cur_take(&c, cert, clen) != 0))
		return ZM_ERR_INVALID;
	if (c.left != 0)
		return ZM_ERR_INVALID;
	*profile = pr;
	*key = k;
	*spki_len = len;
	*cert_len = clen;
	return ZM_OK;
}

void
zm_card_digestinfo(const uint8_t h[ZM_CARD_CHAL_LEN],
    uint8_t out[ZM_DIGESTINFO_LEN])
{
	static const uint8_t prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
	    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	    0x04, 0x20 };

	memcpy(out, prefix, sizeof(prefix));
	memcpy(out + sizeof(prefix), h, ZM_CARD_CHAL_LEN);
}
