/*
 * zm-bench-populate - fill a registry with N bench users, one TOTP token
 * each, exactly as enrolment stores them (seed sealed with the daemon's
 * key), and write the same seeds as a pam_oath usersfile so both stacks
 * are measured on identical data.  With GA-DIR, also one
 * pam_google_authenticator secret file per user (GA-DIR/USER: base32
 * seed, TOTP, DISALLOW_REUSE as zonemfa and pam_oath refuse replays).
 *
 * Seeds are derived (SHA-1 of "zm-bench:" || user) so the load generator
 * can compute codes without reading the store.  Bench data only.
 */
#include <config.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "crypto.h"
#include "err.h"
#include "store.h"
#include "totp.h"
#include "wipe.h"

#include "bench_util.h"

/* RFC 4648 base32, no padding (what pam_google_authenticator reads). */
static void
base32(const uint8_t *in, size_t n, char *out)
{
	static const char	abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned		buf = 0;
	int			bits = 0;
	size_t			i;

	for (i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			*out++ = abc[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		*out++ = abc[(buf << (5 - bits)) & 31];
	*out = '\0';
}

static void
write_ga(const char *dir, const char *user, const uint8_t *seed, size_t n)
{
	char	path[4096], b32[64];
	FILE	*f;
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", dir, user);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
	    0400)) == -1 || (f = fdopen(fd, "w")) == NULL)
		err(1, "%s", path);
	base32(seed, n, b32);
	fprintf(f, "%s\n\" TOTP_AUTH\n\" DISALLOW_REUSE\n", b32);
	if (fclose(f) != 0)
		err(1, "%s", path);
}

static void
usage(void)
{
	fprintf(stderr, "usage: zm-bench-populate STORE-URI KEY-FILE OATH-USERSFILE "
	    "PREFIX COUNT [GA-DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct zm_store	*st = NULL;
	struct zm_key	 key;
	struct zm_token	 t;
	FILE		*oath;
	char		*end;
	unsigned long	 n, i;
	uint8_t		 seed[SHA_DIGEST_LENGTH];
	char		 user[ZM_NAME_MAX], aad[ZM_NAME_MAX + 8], in[ZM_NAME_MAX + 16];
	int		 r;
	int64_t		 now = (int64_t)time(NULL);

	if (argc != 6 && argc != 7)
		usage();
	n = strtoul(argv[5], &end, 10);
	if (*end != '\0' || n == 0 || n > 10000000)
		usage();
	if ((r = zm_key_load(argv[2], 1, &key)) != ZM_OK)
		errx(1, "key %s: %s", argv[2], zm_strerror(r));
	if ((r = zm_store_open(argv[1], &st)) != ZM_OK)
		errx(1, "store %s: %s", argv[1], zm_strerror(r));
	if ((oath = fopen(argv[3], "w")) == NULL)
		err(1, "%s", argv[3]);
	if ((r = zm_store_batch_begin(st)) != ZM_OK)
		errx(1, "batch: %s", zm_strerror(r));
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(user, sizeof(user), "%s%07lu", argv[4], i) >= sizeof(user) ||
		    (size_t)snprintf(in, sizeof(in), "zm-bench:%s", user) >= sizeof(in) ||
		    (size_t)snprintf(aad, sizeof(aad), ZM_TOTP_AAD_FMT, user) >= sizeof(aad))
			errx(1, "name too long");
		SHA1((const unsigned char *)in, strlen(in), seed);
		memset(&t, 0, sizeof(t));
		snprintf(t.user, sizeof(t.user), "%s", user);
		t.kind = ZM_TOK_TOTP;
		t.state = ZM_TS_ACTIVE;
		snprintf(t.label, sizeof(t.label), "bench");
		snprintf(t.algo, sizeof(t.algo), "SHA1");
		snprintf(t.enrolled_by, sizeof(t.enrolled_by), "bench");
		t.digits = 6;
		t.period = 30;
		t.last_step = -1;
		if ((r = zm_seal(&key, aad, seed, sizeof(seed), &t.secret,
		    &t.secret_len)) != ZM_OK)
			errx(1, "seal: %s", zm_strerror(r));
		if ((r = zm_store_user_ensure(st, user, now)) != ZM_OK ||
		    (r = zm_store_token_add(st, &t, now)) != ZM_OK)
			errx(1, "add %s: %s", user, zm_strerror(r));
		zm_token_clear(&t);
		fprintf(oath, "HOTP/T30/6 %s - ", user);
		for (size_t j = 0; j < sizeof(seed); j++)
			fprintf(oath, "%02x", seed[j]);
		fputc('\n', oath);
		if (argc == 7)
			write_ga(argv[6], user, seed, sizeof(seed));
		if ((i + 1) % 100000 == 0) {
			if ((r = zm_store_batch_end(st, 1)) != ZM_OK ||
			    (r = zm_store_batch_begin(st)) != ZM_OK)
				errx(1, "batch: %s", zm_strerror(r));
		}
	}
	if ((r = zm_store_batch_end(st, 1)) != ZM_OK)
		errx(1, "batch: %s", zm_strerror(r));
	if (fclose(oath) != 0)
		err(1, "%s", argv[3]);
	zm_wipe(seed, sizeof(seed));
	zm_key_wipe(&key);
	zm_store_close(st);
	return 0;
}
