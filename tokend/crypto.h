/*
 * crypto.h - sealing secrets at rest (AES-256-GCM, OpenSSL).
 *
 * The key is 32 random bytes in key_file, created 0600 with
 * O_EXCL|O_NOFOLLOW on first start and refused if group/other can read it.
 * A sealed blob is  nonce(12) || ciphertext || tag(16);  the AAD binds it to
 * its row (e.g. "totp:<user>") so blobs cannot be swapped between users.
 */
#ifndef ZM_CRYPTO_H
#define ZM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define ZM_KEY_LEN	32

struct zm_key {
	uint8_t	k[ZM_KEY_LEN];
};

/* Load key_file, creating it (0600, random) when absent and create != 0. */
int zm_key_load(const char *path, int create, struct zm_key *key);
void zm_key_wipe(struct zm_key *key);

int zm_seal(const struct zm_key *key, const char *aad, const uint8_t *pt,
    size_t ptlen, uint8_t **out, size_t *outlen);
/* ZM_ERR_CRYPTO if the tag does not verify.  *out is wiped-freed by caller
   with zm_freezero(). */
int zm_unseal(const struct zm_key *key, const char *aad, const uint8_t *blob,
    size_t bloblen, uint8_t **out, size_t *outlen);

/* n cryptographically random bytes. */
int zm_random(void *p, size_t n);

#endif
