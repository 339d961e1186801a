/*
 * zm-bench-populate - fill a registry with N bench users, one TOTP token
 * each, exactly as enrolment stores them (seed sealed with the daemon's
 * key), and write the same seeds as a pam_oath usersfile so both stacks
 * are measured on identical data.
 *
 * Seeds are derived (SHA-1 of "zm-bench:" || user) so the load generator
 * can compute codes without reading the store.  Bench data only.
 */
#include <config.h>

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

static void
usage(void)
{
	fprintf(stderr, "usage: zm-bench-populate STORE-URI KEY-FILE OATH-USERSFILE "
	    "PREFIX COUNT\n");
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

	if (argc != 6)
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
