/*
 * zm-bench-login - a PAM load generator: C client processes run L TOTP
 * logins (pam_start, pam_authenticate, pam_end) against a PAM service and
 * report latency percentiles and throughput.  The real libpam reads the
 * service from a private directory (pam_start_confdir, Linux-PAM >= 1.4),
 * so no wrapper sits between the harness and the modules.  The same binary drives
 * pam_zonemfa and pam_oath, so both are measured on the same harness.
 *
 * With -r REVOKE-CMD-PREFIX each login is preceded by running
 * "REVOKE-CMD-PREFIX --user USER --all --reason lost" (split on spaces);
 * the latency reported is then from that command returning to the refused
 * pam_authenticate returning (the revocation-to-refusal gap).
 *
 * Login k uses user PREFIX<k mod N> with the code of step (now/30 + k div N),
 * now being the time of that login (a run may last minutes):
 * every (user, step) pair is used once, as both modules refuse replays.
 * With -U USER -a ANSWER every login is USER answering ANSWER to every
 * prompt (FIDO2: "" after the touch prompt, or the key's PIN).
 *
 * -R: random users: login k uses user PREFIX<perm[k mod N]> for a random
 * permutation perm of the N users (seeded from the clock; still every
 * (user, step) pair once), so the registry is not read in key order.
 * -S SEED fixes the permutation: runs with the same SEED and disjoint
 * -u ranges then use disjoint sets of random users.
 * -F: full login: pam_acct_mgmt, pam_open_session and pam_close_session
 * after pam_authenticate (what login(1) does), timed as one.
 * -X ONCE: a fresh process per login: fork and exec ONCE (zm-bench-once)
 * for every login, timed from fork to its exit, as login/su/sshd do.
 *
 * Only successful logins count as throughput: rate = ok / wall time, and
 * the exit status is 1 unless every login succeeded (or, with -x or -r,
 * every one was refused).
 */
#include <config.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <openssl/sha.h>
#include <security/pam_appl.h>

#include "bench_util.h"

struct result {
	uint64_t	ns;
	uint64_t	step[4];	/* -F: auth, account, open, close */
	int		ok;
};

struct conv_data {
	const char	*code;
};

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
	struct conv_data	*cd = arg;
	struct pam_response	*r;
	int			 i;

	if (n <= 0 || n > 32 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			if ((r[i].resp = strdup(cd->code)) == NULL) {
				free(r);
				return PAM_CONV_ERR;
			}
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of the p/1000 quantile among n sorted values. */
static unsigned long
pct(unsigned long n, unsigned long p)
{
	unsigned long	i = (n * p + 999) / 1000;

	return i == 0 ? 0 : i - 1 < n ? i - 1 : n - 1;
}

static void
code_for(const char *prefix, unsigned long u, time_t t, char *user, size_t ulen,
    char code[8])
{
	unsigned char	seed[SHA_DIGEST_LENGTH];
	char		in[128];

	snprintf(user, ulen, "%s%07lu", prefix, u);
	snprintf(in, sizeof(in), "zm-bench:%s", user);
	SHA1((const unsigned char *)in, strlen(in), seed);
	if (oath_totp_generate((const char *)seed, sizeof(seed), t, 30, 0, 6, code) != OATH_OK)
		errx(1, "oath_totp_generate");
}

/* One login in a fresh process: exec once; 1 when it succeeded. */
static int
run_once(const char *once, const char *confdir, const char *service,
    const char *user, const char *answer, int full)
{
	char	*argv[7];
	int	 status, fd;
	pid_t	 pid;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		/* Copies: execv takes char *const[]. */
		argv[0] = strdup(once);
		argv[1] = strdup(confdir);
		argv[2] = strdup(service);
		argv[3] = strdup(user);
		argv[4] = strdup(answer);
		argv[5] = full ? strdup("full") : NULL;
		argv[6] = NULL;
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(once, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) > 1)
		errx(1, "%s: exit %d", once, WEXITSTATUS(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
run_revoke(const char *cmd, const char *user)
{
	char	*copy, *argv[32], *save = NULL, *tok;
	char	 a_user[] = "--user", a_all[] = "--all", a_reason[] = "--reason",
		 a_lost[] = "lost", ubuf[64];
	int	 argc = 0, status;
	pid_t	 pid;

	if ((copy = strdup(cmd)) == NULL)
		err(1, "strdup");
	for (tok = strtok_r(copy, " ", &save); tok != NULL && argc < 24;
	    tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	snprintf(ubuf, sizeof(ubuf), "%s", user);
	argv[argc++] = a_user;
	argv[argc++] = ubuf;
	argv[argc++] = a_all;
	argv[argc++] = a_reason;
	argv[argc++] = a_lost;
	argv[argc] = NULL;
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "revoke of %s failed", user);
	free(copy);
}

static void
usage(void)
{
	fprintf(stderr, "usage: zm-bench-login -d PAM-CONFDIR -s SERVICE -p PREFIX -n USERS "
	    "-c CLIENTS -l LOGINS [-u FIRST-USER] [-x] [-r REVOKE-CMD]\n"
	    "       zm-bench-login -d PAM-CONFDIR -s SERVICE -U USER -a ANSWER "
	    "-c CLIENTS -l LOGINS\n"
	    "  -x  expect refusals (count a refusal as the expected result)\n"
	    "  -R  random users  -F  full login (account, session)\n"
	    "  -X  a fresh process (ONCE) per login\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*service = NULL, *prefix = NULL, *revoke = NULL;
	const char	*confdir = NULL, *fixed_user = NULL, *answer = NULL;
	const char	*once = NULL;
	unsigned long	*perm = NULL;
	int		 randomly = 0, full = 0;
	unsigned	 seed = 0;
	unsigned long	 nusers = 0, first = 0, clients = 1, logins = 0, k;
	int		 ch, expect_fail = 0;
	struct result	*res;
	uint64_t	*lat, t0, wall;
	unsigned long	 ok = 0, j;

	while ((ch = getopt(argc, argv, "d:s:p:n:c:l:u:xr:U:a:RS:FX:")) != -1) {
		switch (ch) {
		case 'd': confdir = optarg; break;
		case 's': service = optarg; break;
		case 'p': prefix = optarg; break;
		case 'n': nusers = strtoul(optarg, NULL, 10); break;
		case 'c': clients = strtoul(optarg, NULL, 10); break;
		case 'l': logins = strtoul(optarg, NULL, 10); break;
		case 'u': first = strtoul(optarg, NULL, 10); break;
		case 'x': expect_fail = 1; break;
		case 'r': revoke = optarg; expect_fail = 1; break;
		case 'U': fixed_user = optarg; break;
		case 'a': answer = optarg; break;
		case 'R': randomly = 1; break;
		case 'S': seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'F': full = 1; break;
		case 'X': once = optarg; break;
		default: usage();
		}
	}
	if (fixed_user != NULL) {	/* -U: one user, -a: its answer */
		prefix = "";
		nusers = logins;
	}
	if (confdir == NULL || service == NULL || prefix == NULL || nusers == 0 || clients == 0 ||
	    clients > 256 || logins == 0 || logins > 2 * nusers ||
	    (fixed_user == NULL) != (answer == NULL))
		usage();
	if (oath_init() != OATH_OK)
		errx(1, "oath_init");
	if (randomly && fixed_user == NULL) {
		if ((perm = calloc(nusers, sizeof(*perm))) == NULL)
			err(1, "calloc");
		for (k = 0; k < nusers; k++)
			perm[k] = k;
		srandom(seed != 0 ? seed : (unsigned)time(NULL) ^
		    (unsigned)getpid());
		for (k = nusers - 1; k > 0; k--) {	/* Fisher-Yates */
			unsigned long r = (unsigned long)random() % (k + 1),
			    x = perm[k];

			perm[k] = perm[r];
			perm[r] = x;
		}
	}
	res = mmap(NULL, logins * sizeof(*res), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		err(1, "mmap");
	t0 = now_ns();
	for (j = 0; j < clients; j++) {
		pid_t pid = fork();

		if (pid == -1)
			err(1, "fork");
		if (pid != 0)
			continue;
		for (k = j; k < logins; k += clients) {
			struct conv_data	cd;
			struct pam_conv		pc = { conv, &cd };
			pam_handle_t		*ph = NULL;
			char			user[64], code[8];
			uint64_t		s;
			int			rc;

			if (fixed_user != NULL) {
				snprintf(user, sizeof(user), "%s", fixed_user);
				cd.code = answer;
			} else {
				code_for(prefix, perm != NULL ?
				    perm[(first + k % nusers) % nusers] :
				    first + k % nusers,
				    time(NULL) + 30 * (time_t)(k / nusers), user,
				    sizeof(user), code);
				cd.code = code;
			}
			if (revoke != NULL)
				run_revoke(revoke, user);
			s = now_ns();
			if (once != NULL) {
				res[k].ok = run_once(once, confdir, service,
				    user, cd.code, full);
				res[k].ns = now_ns() - s;
				continue;
			}
			rc = pam_start_confdir(service, user, &pc, confdir, &ph);
			if (rc == PAM_SUCCESS)
				rc = pam_authenticate(ph, PAM_SILENT);
			res[k].step[0] = now_ns() - s;
			if (rc == PAM_SUCCESS && full)
				rc = pam_acct_mgmt(ph, PAM_SILENT);
			res[k].step[1] = now_ns() - s;
			if (rc == PAM_SUCCESS && full)
				rc = pam_open_session(ph, PAM_SILENT);
			res[k].step[2] = now_ns() - s;
			if (rc == PAM_SUCCESS && full)
				rc = pam_close_session(ph, PAM_SILENT);
			res[k].step[3] = now_ns() - s;
			pam_end(ph, rc);
			res[k].ns = now_ns() - s;
			res[k].ok = rc == PAM_SUCCESS;
		}
		_exit(0);
	}
	while (wait(NULL) > 0)
		;
	wall = now_ns() - t0;
	if ((lat = calloc(logins, sizeof(*lat))) == NULL)
		err(1, "calloc");
	for (k = 0; k < logins; k++) {
		lat[k] = res[k].ns;
		ok += res[k].ok;
	}
	qsort(lat, logins, sizeof(*lat), cmp_u64);
	/* Refused logins are not throughput: the rate counts successes. */
	printf("logins=%lu ok=%lu clients=%lu wall_s=%.3f rate=%.1f "
	    "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n", logins, ok,
	    clients, wall / 1e9, (expect_fail ? logins - ok : ok) / (wall / 1e9),
	    lat[logins / 2] / 1e6, lat[pct(logins, 990)] / 1e6,
	    lat[pct(logins, 999)] / 1e6, lat[logins - 1] / 1e6);
	/* -F in one process: the p50 of each step (auth incl. pam_start). */
	if (full && once == NULL) {
		const char	*name[4] = { "auth", "account", "open", "close" };
		int		 st;

		for (st = 0; st < 4; st++) {
			for (k = 0; k < logins; k++)
				lat[k] = res[k].step[st] -
				    (st > 0 ? res[k].step[st - 1] : 0);
			qsort(lat, logins, sizeof(*lat), cmp_u64);
			printf("%s%s_med_ms=%.3f", st ? " " : "",
			    name[st], lat[logins / 2] / 1e6);
		}
		printf("\n");
	}
	free(perm);
	free(lat);
	if (expect_fail)
		return ok == 0 ? 0 : 1;
	return ok == logins ? 0 : 1;
}
