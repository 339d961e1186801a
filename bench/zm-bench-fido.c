/*
 * zm-bench-fido.c - FIDO2 figures: ES256 assertion verifications per
 * second (the daemon's zm_fido_verify(), libfido2 + OpenSSL) on 1 and N
 * threads, and the time of one enrolment and one assertion round trip
 * through the real libfido2 to a software key (tests/fido_sw).
 *
 *   zm-bench-fido --socket PATH [--rp ID] [--count N] [--threads T]
 *
 * The key at PATH must be running (fido_sw --socket PATH --state FILE).
 * Prints "name value unit" lines; exit 1 when a check fails (a bench
 * that verifies nothing measures nothing: the first result is checked,
 * and a tampered copy must fail).
 */
#include <config.h>

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fido2.h"

struct job {
	const char			*rp;
	const struct zm_fido_assertion	*as;
	const uint8_t			*pk;
	unsigned			 count;
	unsigned			 failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
	struct job	*j = arg;
	unsigned	 i, flags;
	uint32_t	 counter;

	for (i = 0; i < j->count; i++)
		if (zm_fido_verify(j->rp, j->as->cdh, j->as->authdata,
		    j->as->authdata_len, j->as->sig, j->as->sig_len,
		    ZM_FIDO_COSE_ES256, j->pk, &flags, &counter) != 0)
			j->failed++;
	return NULL;
}

static double
run(const char *rp, const struct zm_fido_assertion *as, const uint8_t *pk,
    unsigned count, unsigned threads, unsigned *failed)
{
	pthread_t	 tid[64];
	struct job	 jobs[64];
	double		 t0, t1;
	unsigned	 i;

	*failed = 0;
	t0 = now_s();
	for (i = 0; i < threads; i++) {
		jobs[i] = (struct job){ rp, as, pk, count / threads, 0 };
		if (pthread_create(&tid[i], NULL, worker, &jobs[i]) != 0)
			return 0;
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		*failed += jobs[i].failed;
	}
	t1 = now_s();
	return (double)(count / threads * threads) / (t1 - t0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "rp", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct zm_fido			*f = NULL;
	struct zm_fido_cred		 cred;
	struct zm_fido_assertion	 as;
	struct zm_fido_allow		 allow;
	const char			*sock = NULL, *rp = "pam://zonemfa";
	unsigned			 count = 20000, threads = 2, flags, failed;
	uint32_t			 counter;
	double				 t0, t_enrol, t_assert, rate1, rateN;
	int				 ch, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'r':
			rp = optarg;
			break;
		case 'n':
			count = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'T':
			threads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (sock == NULL || count == 0 || threads == 0 || threads > 64) {
		fprintf(stderr, "usage: zm-bench-fido --socket PATH [--rp ID] "
		    "[--count N] [--threads T]\n");
		return 2;
	}
	if ((r = zm_fido_new(0, &sock, 1, rp, &f)) != 0)
		goto fail;
	t0 = now_s();
	if ((r = zm_fido_enroll(f, "bench", NULL, ZM_FIDO_TIMEOUT_MS,
	    &cred)) != 0)
		goto fail;
	t_enrol = now_s() - t0;
	allow.id = cred.id;
	allow.id_len = cred.id_len;
	t0 = now_s();
	if ((r = zm_fido_assert(f, &allow, 1, 1, NULL, ZM_FIDO_TIMEOUT_MS,
	    &as)) != 0)
		goto fail;
	t_assert = now_s() - t0;
	if ((r = zm_fido_verify(rp, as.cdh, as.authdata, as.authdata_len,
	    as.sig, as.sig_len, cred.cose, cred.pk, &flags, &counter)) != 0)
		goto fail;
	/* A bench of a verifier that accepts anything would be worthless. */
	as.sig[as.sig_len - 1] ^= 1;
	if (zm_fido_verify(rp, as.cdh, as.authdata, as.authdata_len, as.sig,
	    as.sig_len, cred.cose, cred.pk, &flags, &counter) !=
	    ZM_ERR_DENIED) {
		fprintf(stderr, "zm-bench-fido: a tampered signature verified\n");
		return 1;
	}
	as.sig[as.sig_len - 1] ^= 1;

	rate1 = run(rp, &as, cred.pk, count, 1, &failed);
	if (failed != 0)
		goto vfail;
	rateN = run(rp, &as, cred.pk, count, threads, &failed);
	if (failed != 0)
		goto vfail;
	printf("fido_enrol_ms %.2f ms\n", t_enrol * 1e3);
	printf("fido_assert_roundtrip_ms %.2f ms\n", t_assert * 1e3);
	printf("fido_verify_per_s_1thread %.0f /s\n", rate1);
	printf("fido_verify_per_s_%uthreads %.0f /s\n", threads, rateN);
	zm_fido_assertion_clear(&as);
	zm_fido_free(f);
	return 0;
 vfail:
	fprintf(stderr, "zm-bench-fido: %u verifications failed\n", failed);
	return 1;
 fail:
	fprintf(stderr, "zm-bench-fido: %s\n", zm_strerror(r));
	zm_fido_free(f);
	return 1;
}
