/*
 * test_crypto.c - sealing at rest and the key file (tokend/crypto.c).
 *
 * R14: authentication data (TOTP seeds) is stored only sealed, bound to
 * its row by the AAD; any change to a blob must be detected.
 */
#include <config.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "err.h"
#include "wipe.h"

static const uint8_t seed[] = "12345678901234567890";

struct fx {
	char		dir[64];
	char		path[128];
	struct zm_key	key;
};

static int
setup(void **state)
{
	struct fx	*fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/zm-crypto-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/registry.key", fx->dir);
	if (zm_key_load(fx->path, 1, &fx->key) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;

	unlink(fx->path);
	rmdir(fx->dir);
	zm_key_wipe(&fx->key);
	free(fx);
	return 0;
}

static void
test_round_trip(void **state)
{
	struct fx	*fx = *state;
	uint8_t		*blob = NULL, *blob2 = NULL, *pt = NULL;
	size_t		 bloblen = 0, bloblen2 = 0, ptlen = 0;

	assert_int_equal(zm_seal(&fx->key, "totp:alice", seed, 20, &blob,
	    &bloblen), 0);
	assert_int_equal(bloblen, 12 + 20 + 16);
	/* The seed does not appear in the blob. */
	assert_null(memmem(blob, bloblen, seed, 8));
	assert_int_equal(zm_unseal(&fx->key, "totp:alice", blob, bloblen, &pt,
	    &ptlen), 0);
	assert_int_equal(ptlen, 20);
	assert_memory_equal(pt, seed, 20);
	zm_freezero(pt, ptlen);

	/* A fresh nonce per seal: same input, different blob. */
	assert_int_equal(zm_seal(&fx->key, "totp:alice", seed, 20, &blob2,
	    &bloblen2), 0);
	assert_int_equal(bloblen2, bloblen);
	assert_memory_not_equal(blob, blob2, 12);
	free(blob2);

	/* Empty plaintext is still authenticated. */
	blob2 = NULL;
	assert_int_equal(zm_seal(&fx->key, "x", NULL, 0, &blob2, &bloblen2), 0);
	assert_int_equal(bloblen2, 28);
	assert_int_equal(zm_unseal(&fx->key, "x", blob2, bloblen2, &pt, &ptlen), 0);
	assert_int_equal(ptlen, 0);
	zm_freezero(pt, 1);
	assert_int_equal(zm_unseal(&fx->key, "y", blob2, bloblen2, &pt, &ptlen),
	    ZM_ERR_CRYPTO);
	free(blob2);
	free(blob);
}

static void
expect_crypto_error(const struct zm_key *key, const char *aad,
    const uint8_t *blob, size_t bloblen)
{
	uint8_t	*pt = (uint8_t *)1;
	size_t	 ptlen = 99;

	assert_int_equal(zm_unseal(key, aad, blob, bloblen, &pt, &ptlen),
	    ZM_ERR_CRYPTO);
	assert_null(pt);
	assert_int_equal(ptlen, 0);
}

static void
test_tampering_detected(void **state)
{
	struct fx	*fx = *state;
	struct zm_key	 other;
	uint8_t		*blob = NULL;
	size_t		 bloblen = 0, i;

	assert_int_equal(zm_seal(&fx->key, "totp:alice", seed, 20, &blob,
	    &bloblen), 0);
	/* A blob moved to another user's row. */
	expect_crypto_error(&fx->key, "totp:bob", blob, bloblen);
	expect_crypto_error(&fx->key, "totp:alic", blob, bloblen);
	expect_crypto_error(&fx->key, "", blob, bloblen);
	/* Every single bit flip (nonce, ciphertext, tag) is caught. */
	for (i = 0; i < bloblen * 8; i++) {
		blob[i / 8] ^= (uint8_t)(1u << (i % 8));
		expect_crypto_error(&fx->key, "totp:alice", blob, bloblen);
		blob[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Truncated: lost tag bytes, or shorter than nonce + tag. */
	for (i = 0; i < bloblen; i++)
		expect_crypto_error(&fx->key, "totp:alice", blob, i);
	/* Another key. */
	assert_int_equal(zm_random(other.k, sizeof(other.k)), 0);
	expect_crypto_error(&other, "totp:alice", blob, bloblen);
	zm_key_wipe(&other);
	free(blob);
}

static void
test_key_file_created_0600(void **state)
{
	struct fx	*fx = *state;
	struct zm_key	 again;
	struct stat	 sb;

	assert_int_equal(lstat(fx->path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(sb.st_size, ZM_KEY_LEN);
	/* Loading again yields the same key (no re-creation). */
	assert_int_equal(zm_key_load(fx->path, 1, &again), 0);
	assert_memory_equal(again.k, fx->key.k, ZM_KEY_LEN);
	zm_key_wipe(&again);
}

static void
test_key_file_refused(void **state)
{
	struct fx	*fx = *state;
	struct zm_key	 k;
	char		 link[160], other[160];
	int		 fd;

	/* Readable by others: refused (R14). */
	assert_int_equal(chmod(fx->path, 0644), 0);
	assert_int_equal(zm_key_load(fx->path, 1, &k), ZM_ERR_PERM);
	assert_int_equal(chmod(fx->path, 0640), 0);
	assert_int_equal(zm_key_load(fx->path, 0, &k), ZM_ERR_PERM);
	assert_int_equal(chmod(fx->path, 0602), 0);
	assert_int_equal(zm_key_load(fx->path, 0, &k), ZM_ERR_PERM);
	assert_int_equal(chmod(fx->path, 0600), 0);
	assert_int_equal(zm_key_load(fx->path, 0, &k), 0);

	/* Missing and not to be created. */
	snprintf(other, sizeof(other), "%s/absent.key", fx->dir);
	assert_int_equal(zm_key_load(other, 0, &k), ZM_ERR_NOTFOUND);
	assert_int_equal(access(other, F_OK), -1);

	/* Wrong size: short and long. */
	assert_true((fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcde", 31), 31);
	assert_int_equal(zm_key_load(other, 1, &k), ZM_ERR_INVALID);
	assert_int_equal(write(fd, "ff", 2), 2);
	assert_int_equal(zm_key_load(other, 1, &k), ZM_ERR_INVALID);
	close(fd);
	unlink(other);

	/* A symlink is never followed (nor created through). */
	snprintf(link, sizeof(link), "%s/link.key", fx->dir);
	assert_int_equal(symlink(fx->path, link), 0);
	assert_int_equal(zm_key_load(link, 1, &k), ZM_ERR_PERM);
	unlink(link);
	snprintf(other, sizeof(other), "%s/target.key", fx->dir);
	assert_int_equal(symlink(other, link), 0);
	assert_int_not_equal(zm_key_load(link, 1, &k), 0);
	assert_int_equal(access(other, F_OK), -1);
	unlink(link);
}

static void
test_random(void **state)
{
	uint8_t	a[32], b[32];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(zm_random(a, sizeof(a)), 0);
	assert_int_equal(zm_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(zm_random(a, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampering_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_file_created_0600, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_file_refused, setup,
		    teardown),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
