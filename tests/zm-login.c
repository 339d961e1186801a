/*
 * zm-login.c - a small PAM application for the integration tests, doing
 * what login(1) does: authenticate, check the account, open a session and,
 * with --hold, keep it open until it is ended by a signal (as the daemon
 * ends a session on revocation).
 *
 *   zm-login [--hold] [--no-session] [--no-account] [--time] [--tty TTY]
 *            [--rhost HOST] [--split] [--wait-file PATH] [--spawn CMD]
 *            [--print-env] [--ignore-signals] [--c-locale] SERVICE USER
 *
 * --split authenticates (and checks the account) in a forked child that
 * hands the PAM environment back through a pipe, and opens the session
 * in the parent, as OpenSSH's sshd does; --wait-file waits (up to 60 s)
 * for PATH to exist before the session is opened (a client that pauses
 * between its auth and session phases); --spawn runs /bin/sh -c CMD in a
 * process session of its own once the session is open (the user's shell
 * under login or sshd); --print-env prints the PAM environment as
 * "ENV: NAME=VALUE" lines once the session is open; --ignore-signals
 * makes --hold ignore SIGHUP and SIGTERM (a program that is stuck);
 * --c-locale does not call setlocale() (sshd does not).
 *
 * Answers to prompts are read from standard input, one line each; prompts
 * and messages are printed on standard output as "PROMPT: ", "INFO: " and
 * "ERROR: " lines, then one line per step: "auth: PAM_SUCCESS" ...
 * --time adds "time-ms: N", the authentication and account check in ms
 * (what the user waits for, without this program's own start-up).
 * Exit: 0 all steps succeeded, 1 a step failed, 2 usage, 3 a held session
 * was ended by a signal.
 *
 * Under pam_wrapper, each process that starts with PAM_WRAPPER=1 copies
 * the service files to a directory /tmp/pam.X whose name it picks with a
 * check-then-mkdir race (a failed mkdir is only logged): two processes
 * of parallel test files could share one directory, the later copy
 * overwriting the other's service files, and a login would then reach the
 * other test's daemon.  The tests therefore set ZM_PAM_WRAPPER=1 instead:
 * this program sets PAM_WRAPPER=1 itself, under an flock on ZM_PWRAP_LOCK
 * (default /tmp/.zm-pam_wrapper.lock) held over pam_start() (where
 * pam_wrapper then sets itself up), and unsets it again, so its children
 * (--spawn, --split) do not set up directories of their own unlocked.
 */
#include <config.h>

#include <sys/file.h>

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static volatile sig_atomic_t	got_signal;

static const struct {
	int		 code;
	const char	*name;
} pam_names[] = {
	{ PAM_SUCCESS, "PAM_SUCCESS" },
	{ PAM_OPEN_ERR, "PAM_OPEN_ERR" },
	{ PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR" },
	{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
	{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
	{ PAM_BUF_ERR, "PAM_BUF_ERR" },
	{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
	{ PAM_AUTH_ERR, "PAM_AUTH_ERR" },
	{ PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT" },
	{ PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
	{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
	{ PAM_MAXTRIES, "PAM_MAXTRIES" },
	{ PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD" },
	{ PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
	{ PAM_SESSION_ERR, "PAM_SESSION_ERR" },
	{ PAM_CRED_UNAVAIL, "PAM_CRED_UNAVAIL" },
	{ PAM_CRED_EXPIRED, "PAM_CRED_EXPIRED" },
	{ PAM_CRED_ERR, "PAM_CRED_ERR" },
	{ PAM_NO_MODULE_DATA, "PAM_NO_MODULE_DATA" },
	{ PAM_CONV_ERR, "PAM_CONV_ERR" },
	{ PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR" },
	{ PAM_AUTHTOK_RECOVERY_ERR, "PAM_AUTHTOK_RECOVERY_ERR" },
	{ PAM_AUTHTOK_LOCK_BUSY, "PAM_AUTHTOK_LOCK_BUSY" },
	{ PAM_AUTHTOK_DISABLE_AGING, "PAM_AUTHTOK_DISABLE_AGING" },
	{ PAM_TRY_AGAIN, "PAM_TRY_AGAIN" },
	{ PAM_IGNORE, "PAM_IGNORE" },
	{ PAM_ABORT, "PAM_ABORT" },
	{ PAM_AUTHTOK_EXPIRED, "PAM_AUTHTOK_EXPIRED" },
	{ PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN" },
	{ PAM_BAD_ITEM, "PAM_BAD_ITEM" },
	{ PAM_CONV_AGAIN, "PAM_CONV_AGAIN" },
	{ PAM_INCOMPLETE, "PAM_INCOMPLETE" },
};

static void
report(const char *step, int code)
{
	size_t	i;

	for (i = 0; i < sizeof(pam_names) / sizeof(pam_names[0]); i++) {
		if (pam_names[i].code == code) {
			printf("%s: %s\n", step, pam_names[i].name);
			(void)fflush(stdout);
			return;
		}
	}
	printf("%s: PAM_%d\n", step, code);
	(void)fflush(stdout);
}

/* One line of standard input, without its newline; NULL at end of file. */
static char *
read_answer(void)
{
	char	line[PAM_MAX_RESP_SIZE];
	char	*p;
	int	c;

	if (fgets(line, sizeof(line), stdin) == NULL)
		return NULL;
	if ((p = strchr(line, '\n')) != NULL)
		*p = '\0';
	else	/* too long: drop the rest of the line */
		while ((c = getchar()) != EOF && c != '\n')
			continue;
	p = strdup(line);
	explicit_bzero(line, sizeof(line));
	return p;
}

static void
free_responses(struct pam_response *r, int n)
{
	int	i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

static int
conversation(int n, const struct pam_message **msg,
    struct pam_response **resp, void *appdata)
{
	struct pam_response	*r;
	int			 i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			printf("PROMPT: %s\n", msg[i]->msg);
			(void)fflush(stdout);
			if ((r[i].resp = read_answer()) == NULL)
				goto fail;
			break;
		case PAM_TEXT_INFO:
			printf("INFO: %s\n", msg[i]->msg);
			(void)fflush(stdout);
			break;
		case PAM_ERROR_MSG:
			printf("ERROR: %s\n", msg[i]->msg);
			(void)fflush(stdout);
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	free_responses(r, n);
	return PAM_CONV_ERR;
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Waits for SIGHUP, SIGTERM or SIGINT; returns the signal number.  With
 * ignore, SIGHUP and SIGTERM are ignored (a stuck program): only SIGKILL
 * ends it.
 */
static int
hold_session(int ignore)
{
	struct sigaction	sa;
	sigset_t		block, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGHUP);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	/* Blocked first: a signal sent right after the line below is kept. */
	(void)sigprocmask(SIG_BLOCK, &block, &old);
	(void)sigaction(SIGINT, &sa, NULL);
	if (ignore)
		sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	printf("SESSION OPEN pid=%ld\n", (long)getpid());
	(void)fflush(stdout);
	(void)sigdelset(&old, SIGHUP);
	(void)sigdelset(&old, SIGTERM);
	(void)sigdelset(&old, SIGINT);
	while (got_signal == 0)
		(void)sigsuspend(&old);
	printf("SESSION ENDED signal=%d\n", (int)got_signal);
	(void)fflush(stdout);
	return (int)got_signal;
}

static void
usage(void)
{
	fprintf(stderr, "usage: zm-login [--hold] [--no-session] "
	    "[--no-account] [--time] [--tty TTY] [--rhost HOST] [--split] "
	    "[--wait-file PATH] [--spawn CMD] [--print-env] "
	    "[--ignore-signals] SERVICE USER\n");
	exit(2);
}

/* Auth (and account) in this process; PAM_SUCCESS or the failure. */
static int
auth_steps(pam_handle_t *pamh, int account)
{
	int pr;

	pr = pam_authenticate(pamh, 0);
	report("auth", pr);
	if (pr != PAM_SUCCESS || !account)
		return pr;
	pr = pam_acct_mgmt(pamh, 0);
	report("account", pr);
	return pr;
}

/*
 * sshd's way: a child authenticates and sends its PAM environment back
 * (NUL-separated); the parent puts it into its own handle.  What the
 * module kept with pam_set_data() stays in the child.
 */
static int
auth_split(pam_handle_t *pamh, int account)
{
	char	 buf[8192], **env;
	size_t	 len = 0, off;
	ssize_t	 n;
	pid_t	 pid;
	int	 p[2], pr, st, i;

	if (pipe(p) != 0)
		return PAM_SYSTEM_ERR;
	(void)fflush(stdout);
	if ((pid = fork()) == -1)
		return PAM_SYSTEM_ERR;
	if (pid == 0) {
		close(p[0]);
		pr = auth_steps(pamh, account);
		if (pr == PAM_SUCCESS && (env = pam_getenvlist(pamh)) != NULL) {
			for (i = 0; env[i] != NULL; i++)
				if (write(p[1], env[i], strlen(env[i]) + 1) < 0)
					_exit(100);
		}
		_exit(pr);
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 &&
	    (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	buf[len] = '\0';
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st))
		return PAM_SYSTEM_ERR;
	if ((pr = WEXITSTATUS(st)) != PAM_SUCCESS)
		return pr;
	for (off = 0; off < len; off += strlen(buf + off) + 1)
		if (pam_putenv(pamh, buf + off) != PAM_SUCCESS)
			return PAM_BUF_ERR;
	explicit_bzero(buf, sizeof(buf));
	return PAM_SUCCESS;
}

static void
wait_file(const char *path)
{
	int i;

	for (i = 0; i < 6000 && access(path, F_OK) != 0; i++)
		usleep(10000);
}

/* The user's "shell": /bin/sh -c cmd in a process session of its own. */
static void
spawn(const char *cmd)
{
	pid_t pid;

	(void)fflush(stdout);
	if ((pid = fork()) == 0) {
		(void)setsid();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	printf("SPAWNED pid=%ld\n", (long)pid);
	(void)fflush(stdout);
}

static void
print_env(pam_handle_t *pamh)
{
	char	**env;
	int	  i;

	if ((env = pam_getenvlist(pamh)) == NULL)
		return;
	for (i = 0; env[i] != NULL; i++) {
		printf("ENV: %s\n", env[i]);
		free(env[i]);
	}
	free(env);
	(void)fflush(stdout);
}

/*
 * ZM_PAM_WRAPPER=1: PAM_WRAPPER=1 and an exclusive lock for pam_start()
 * (see the top); the descriptor to close afterwards, else -1.  Exits if
 * the lock cannot be had: a login sharing another's service files would
 * test the wrong daemon.
 */
static int
pwrap_lock(void)
{
	const char	*p = getenv("ZM_PWRAP_LOCK");
	const char	*w = getenv("ZM_PAM_WRAPPER");
	int		 fd;

	if (w == NULL || strcmp(w, "1") != 0)
		return -1;
	if (p == NULL || *p == '\0')
		p = "/tmp/.zm-pam_wrapper.lock";
	/* Not O_CREAT first: /tmp is sticky (fs.protected_regular). */
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1 && errno == ENOENT)
		fd = open(p, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		fprintf(stderr, "zm-login: %s: %s\n", p, strerror(errno));
		exit(1);
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "zm-login: flock %s: %s\n", p,
			    strerror(errno));
			exit(1);
		}
	}
	if (setenv("PAM_WRAPPER", "1", 1) != 0) {
		fprintf(stderr, "zm-login: setenv: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static void
pwrap_unlock(int fd)
{
	if (fd == -1)
		return;
	unsetenv("PAM_WRAPPER");
	unsetenv("ZM_PAM_WRAPPER");
	close(fd);
}

int
main(int argc, char **argv)
{
	struct pam_conv	 conv = { conversation, NULL };
	pam_handle_t	*pamh = NULL;
	const char	*tty = NULL, *rhost = NULL, *waitf = NULL, *cmd = NULL;
	int		 hold = 0, session = 1, account = 1, ok = 0, pr, i;
	int		 split = 0, penv = 0, ignore = 0, lk;
	struct timespec	 t0, t1;
	int		 timed = 0;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++)
		if (strcmp(argv[i], "--c-locale") == 0)
			break;
	/* --c-locale: leave the C locale, as sshd does. */
	if (i == argc || strcmp(argv[i], "--c-locale") != 0)
		(void)setlocale(LC_ALL, "");
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else if (strcmp(argv[i], "--no-session") == 0)
			session = 0;
		else if (strcmp(argv[i], "--no-account") == 0)
			account = 0;
		else if (strcmp(argv[i], "--time") == 0)
			timed = 1;
		else if (strcmp(argv[i], "--tty") == 0 && i + 1 < argc)
			tty = argv[++i];
		else if (strcmp(argv[i], "--rhost") == 0 && i + 1 < argc)
			rhost = argv[++i];
		else if (strcmp(argv[i], "--split") == 0)
			split = 1;
		else if (strcmp(argv[i], "--wait-file") == 0 && i + 1 < argc)
			waitf = argv[++i];
		else if (strcmp(argv[i], "--spawn") == 0 && i + 1 < argc)
			cmd = argv[++i];
		else if (strcmp(argv[i], "--print-env") == 0)
			penv = 1;
		else if (strcmp(argv[i], "--ignore-signals") == 0)
			ignore = 1;
		else if (strcmp(argv[i], "--c-locale") == 0)
			continue;
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	lk = pwrap_lock();
	pr = pam_start(argv[i], argv[i + 1], &conv, &pamh);
	pwrap_unlock(lk);
	if (pr != PAM_SUCCESS) {
		report("start", pr);
		return 1;
	}
	if (tty == NULL && isatty(STDIN_FILENO))
		tty = ttyname(STDIN_FILENO);
	if ((tty != NULL && (pr = pam_set_item(pamh, PAM_TTY, tty)) !=
	    PAM_SUCCESS) || (rhost != NULL &&
	    (pr = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS)) {
		report("start", pr);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pr = split ? auth_split(pamh, account) : auth_steps(pamh, account);
	if (pr != PAM_SUCCESS)
		goto out;
	if (timed) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("time-ms: %lld\n", (long long)(t1.tv_sec - t0.tv_sec) *
		    1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	}
	if (session) {
		if (waitf != NULL)
			wait_file(waitf);
		pr = pam_open_session(pamh, 0);
		report("session", pr);
		if (pr != PAM_SUCCESS)
			goto out;
		if (penv)
			print_env(pamh);
		if (cmd != NULL)
			spawn(cmd);
		if (hold) {
			(void)hold_session(ignore);
			pr = pam_close_session(pamh, 0);
			report("close", pr);
			(void)pam_end(pamh, pr);
			return 3;
		}
		pr = pam_close_session(pamh, 0);
		report("close", pr);
		if (pr != PAM_SUCCESS)
			goto out;
	}
	ok = 1;
out:
	(void)pam_end(pamh, pr);
	return ok ? 0 : 1;
}
