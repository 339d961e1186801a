/*
 * crypto.c - sealing secrets at rest: AES-256-GCM (OpenSSL EVP).
 *
 * Blob layout: nonce(12) || ciphertext || tag(16).  The nonce is random
 * per seal; with one key sealing a few thousand seeds the birthday bound
 * of 96-bit random nonces is far away.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "err.h"
#include "log.h"
#include "wipe.h"

#define NONCE_LEN	12
#define TAG_LEN		16
/* Sealed things are seeds and small keys; anything larger is a bug. */
#define PLAIN_MAX	(64 * 1024)

int
zm_random(void *p, size_t n)
{
	if (p == NULL || n > INT_MAX)
		return ZM_ERR_INVALID;
	if (n == 0)
		return 0;
	if (RAND_bytes(p, (int)n) != 1) {
		zm_err("RAND_bytes failed");
		return ZM_ERR_CRYPTO;
	}
	return 0;
}

void
zm_key_wipe(struct zm_key *key)
{
	if (key != NULL)
		zm_wipe(key, sizeof(*key));
}

/* fsync the directory holding path, so a new file's name is durable too. */
static void
sync_dir(const char *path)
{
	char	 dir[PATH_MAX];
	char	*slash;
	int	 fd, n;

	n = snprintf(dir, sizeof(dir), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/* Creates a new key file; EEXIST when someone else was first. */
static int
key_create(const char *path, struct zm_key *key)
{
	size_t	off = 0;
	ssize_t	w;
	int	fd, e, r = ZM_ERR_IO;

	if ((r = zm_random(key->k, sizeof(key->k))) != 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		e = errno;
		r = e == EEXIST ? ZM_ERR_EXISTS : ZM_ERR_IO;
		if (r != ZM_ERR_EXISTS)
			zm_err("create %s: %s", path, strerror(e));
		zm_key_wipe(key);
		return r;
	}
	r = ZM_ERR_IO;
	/* The umask may only have cleared bits; make the mode exact. */
	if (fchmod(fd, 0600) == -1) {
		zm_err("chmod %s: %s", path, strerror(errno));
		goto out;
	}
	while (off < sizeof(key->k)) {
		if ((w = write(fd, key->k + off, sizeof(key->k) - off)) == -1) {
			if (errno == EINTR)
				continue;
			zm_err("write %s: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		zm_err("fsync %s: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	if (r != 0) {
		zm_key_wipe(key);
		(void)unlink(path);	/* never leave a half-written key */
	} else {
		sync_dir(path);
		zm_notice("created key file %s", path);
	}
	return r;
}

static int
key_read(int fd, const char *path, struct zm_key *key)
{
	struct stat	sb;
	uint8_t		extra;
	size_t		off = 0;
	ssize_t		n;

	if (fstat(fd, &sb) == -1) {
		zm_err("%s: %s", path, strerror(errno));
		return ZM_ERR_IO;
	}
	if (!S_ISREG(sb.st_mode)) {
		zm_err("%s: not a regular file", path);
		return ZM_ERR_INVALID;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		zm_err("%s: mode %04o gives group or others access; refusing",
		    path, (unsigned)(sb.st_mode & 07777));
		return ZM_ERR_PERM;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		zm_err("%s: owned by uid %u; refusing", path, (unsigned)sb.st_uid);
		return ZM_ERR_PERM;
	}
	if (sb.st_size != ZM_KEY_LEN) {
		zm_err("%s: %lld bytes, want %d", path, (long long)sb.st_size,
		    ZM_KEY_LEN);
		return ZM_ERR_INVALID;
	}
	while (off < sizeof(key->k)) {
		if ((n = read(fd, key->k + off, sizeof(key->k) - off)) == -1) {
			if (errno == EINTR)
				continue;
			zm_err("read %s: %s", path, strerror(errno));
			return ZM_ERR_IO;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	/* The size was checked above; re-check against a file changing under us. */
	if (off != sizeof(key->k) || read(fd, &extra, 1) != 0) {
		zm_err("%s: changed size while reading", path);
		return ZM_ERR_INVALID;
	}
	return 0;
}

int
zm_key_load(const char *path, int create, struct zm_key *key)
{
	int	fd, e, r = ZM_ERR_INTERNAL;

	if (path == NULL || key == NULL)
		return ZM_ERR_INVALID;
	zm_key_wipe(key);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 &&
	    errno == ENOENT && create) {
		if ((r = key_create(path, key)) != ZM_ERR_EXISTS)
			return r;
		/* Lost a race with another starter: use its key. */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1) {
		e = errno;
		zm_err("%s: %s", path, strerror(e));
		return e == ENOENT ? ZM_ERR_NOTFOUND :
		    e == ELOOP ? ZM_ERR_PERM : ZM_ERR_IO;
	}
	if ((r = key_read(fd, path, key)) != 0)
		zm_key_wipe(key);
	close(fd);
	return r;
}

int
zm_seal(const struct zm_key *key, const char *aad, const uint8_t *pt,
    size_t ptlen, uint8_t **out, size_t *outlen)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*blob = NULL;
	size_t		 bloblen;
	int		 len, r = ZM_ERR_CRYPTO;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (key == NULL || aad == NULL || (pt == NULL && ptlen != 0) ||
	    out == NULL || outlen == NULL || strlen(aad) > INT_MAX)
		return ZM_ERR_INVALID;
	if (ptlen > PLAIN_MAX)
		return ZM_ERR_TOOBIG;
	bloblen = NONCE_LEN + ptlen + TAG_LEN;
	if ((blob = malloc(bloblen)) == NULL)
		return ZM_ERR_NOMEM;
	if ((r = zm_random(blob, NONCE_LEN)) != 0)
		goto out;
	r = ZM_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, key->k, blob) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)aad,
	    (int)strlen(aad)) != 1 ||
	    (ptlen > 0 && EVP_EncryptUpdate(ctx, blob + NONCE_LEN, &len, pt,
	    (int)ptlen) != 1) ||
	    EVP_EncryptFinal_ex(ctx, blob + NONCE_LEN + ptlen, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    blob + NONCE_LEN + ptlen) != 1) {
		zm_err("AES-GCM seal failed");
		goto out;
	}
	*out = blob;
	*outlen = bloblen;
	blob = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	zm_freezero(blob, bloblen);
	return r;
}

int
zm_unseal(const struct zm_key *key, const char *aad, const uint8_t *blob,
    size_t bloblen, uint8_t **out, size_t *outlen)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*pt = NULL;
	uint8_t		 tag[TAG_LEN];
	size_t		 ptlen = 0;
	int		 len, r = ZM_ERR_CRYPTO;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (key == NULL || aad == NULL || blob == NULL || out == NULL ||
	    outlen == NULL || strlen(aad) > INT_MAX)
		return ZM_ERR_INVALID;
	/* Too short to hold nonce and tag: it cannot authenticate. */
	if (bloblen < NONCE_LEN + TAG_LEN)
		return ZM_ERR_CRYPTO;
	ptlen = bloblen - NONCE_LEN - TAG_LEN;
	if (ptlen > PLAIN_MAX)
		return ZM_ERR_TOOBIG;
	/* One spare byte so an empty plaintext still has a buffer. */
	if ((pt = malloc(ptlen + 1)) == NULL)
		return ZM_ERR_NOMEM;
	memcpy(tag, blob + NONCE_LEN + ptlen, TAG_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key->k, blob) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)aad,
	    (int)strlen(aad)) != 1 ||
	    (ptlen > 0 && EVP_DecryptUpdate(ctx, pt, &len, blob + NONCE_LEN,
	    (int)ptlen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
		goto out;
	/* Only now is the plaintext authentic; before, it is discarded. */
	if (EVP_DecryptFinal_ex(ctx, pt + ptlen, &len) != 1)
		goto out;
	*out = pt;
	*outlen = ptlen;
	pt = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	zm_freezero(pt, ptlen + 1);
	return r;
}
