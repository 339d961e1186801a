/*
 * main.c - zonemfa-tokend: options, configuration, start-up, signals.
 *
 *   zonemfa-tokend [-c FILE] [-f] [-d] [-t] [--fido-hid-socket PATH]...
 *
 * Signal handlers only write the signal number to a self-pipe; the event
 * loop (server.c) reads it and calls on_signal() below.
 */
#include <config.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cardwatch.h"
#include "conf.h"
#include "crypto.h"
#include "err.h"
#include "fido2.h"
#include "fileperm.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tokend.h"
#include "totp.h"
#include "wipe.h"

#define PROG		"zonemfa-tokend"
#define MAX_FIDO_SOCKETS 16
#define LISTEN_FDS_START 3	/* sd_listen_fds(3) */

/*
 * --fido-hid-socket paths.  Command line only, never from the
 * configuration file: pointing the daemon at a software authenticator is
 * for whoever starts it (root, or a test suite), not for whoever can edit
 * a file.  A test interface (software authenticators): fido2.c.
 */
static const char	*fido_hid_sockets[MAX_FIDO_SOCKETS];
static size_t		 n_fido_hid_sockets;

static int		 sigpipe_fds[2] = { -1, -1 };

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-c FILE] [-f] [-d] [-t] "
	    "[--fido-hid-socket PATH]... [-h] [-V]\n"
	    "  -c FILE   configuration file (default %s)\n"
	    "  -f        stay in the foreground\n"
	    "  -d        debug log to stderr\n"
	    "  -t        check the configuration and exit\n"
	    "  -h        this help;  -V  version\n", PROG, ZM_DEFAULT_CONF);
}

static int log_to_stderr;

/* A start-up failure: in the log, and on stderr for whoever started us. */
static void fatal_msg(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
fatal_msg(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	zm_log_raw(LOG_ERR, "main", "%s", msg);
	if (!log_to_stderr)
		fprintf(stderr, "%s: %s\n", PROG, msg);
}

static void
on_signal_raw(int signo)
{
	int		saved = errno;
	unsigned char	b = (unsigned char)signo;
	ssize_t		n;

	/* Async-signal-safe: a full pipe just drops a duplicate signal. */
	n = write(sigpipe_fds[1], &b, 1);
	(void)n;
	errno = saved;
}

/*
 * ZM_MAX_CLIENTS connections and the store's, the readers', the log's
 * descriptors must fit: the soft limit (often 1024) goes up to the hard
 * one.  Not fatal: accept() backs off when out of descriptors.
 */
static void
raise_nofile(void)
{
	struct rlimit	rl;
	rlim_t		want = ZM_MAX_CLIENTS + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		zm_warn("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			zm_warn("setrlimit(RLIMIT_NOFILE, %llu): %s",
			    (unsigned long long)rl.rlim_max, strerror(errno));
			return;
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		zm_warn("open file limit %llu is below the %llu that %d "
		    "connections need", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)want, ZM_MAX_CLIENTS);
}

static int
signals_setup(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
		zm_err("pipe2: %s", strerror(errno));
		return ZM_ERR_IO;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal_raw;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return ZM_ERR_IO;
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		return ZM_ERR_IO;
	/* A client that goes away mid-reply is an EPIPE, not a death. */
	sa.sa_flags = 0;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return ZM_ERR_IO;
	return ZM_OK;
}

/* Rotation (SIGHUP): the chain continues in the fresh file. */
static void
audit_reopen(struct zm_tokend *d)
{
	int r;

	/* On failure the old descriptor stays in use: nothing is lost. */
	if ((r = zm_audit_reopen(d->audit)) != 0)
		zm_err("cannot reopen audit log %s: %s", d->cfg->audit_log,
		    zm_strerror(r));
	else
		zm_notice("audit log reopened");
}

static int
on_signal(struct zm_tokend *d, int signo)
{
	int status;

	switch (signo) {
	case SIGTERM:
	case SIGINT:
		zm_notice("signal %d: stopping", signo);
		return 1;
	case SIGHUP:
		audit_reopen(d);
		return 0;
	case SIGCHLD:
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		return 0;
	default:
		return 0;
	}
}

/* systemd Type=notify without libsystemd: one datagram to NOTIFY_SOCKET. */
static void
sd_notify_send(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 slen;
	size_t			 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len < 2 || len >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, slen) < 0)
		zm_warn("NOTIFY_SOCKET: %s", strerror(errno));
	close(fd);
}

/* Socket activation: fd 3 when LISTEN_PID is us and LISTEN_FDS >= 1. */
static int
activated_socket(void)
{
	const char		*pid_s = getenv("LISTEN_PID");
	const char		*fds_s = getenv("LISTEN_FDS");
	char			*end;
	unsigned long long	 pid, nfds;
	int			 fd = -1, fl;

	if (pid_s == NULL || fds_s == NULL)
		return -1;
	errno = 0;
	pid = strtoull(pid_s, &end, 10);
	if (errno != 0 || end == pid_s || *end != '\0' ||
	    pid != (unsigned long long)getpid())
		goto out;
	errno = 0;
	nfds = strtoull(fds_s, &end, 10);
	if (errno != 0 || end == fds_s || *end != '\0' || nfds < 1 ||
	    nfds > 64)
		goto out;
	fd = LISTEN_FDS_START;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		zm_err("LISTEN_FDS: fd %d: %s", fd, strerror(errno));
		fd = -1;
	}
 out:
	/* Not for our children (loginctl). */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return fd;
}

static void
print_errors(const struct zm_errlist *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++) {
		fprintf(stderr, "%s\n", errs->msg[i]);
		zm_err("%s", errs->msg[i]);
	}
}

/*
 * The modes of the key, store and audit log (fileperm.c): every problem
 * on stderr (and in the log when log is set); ZM_OK when the daemon may
 * use them.
 */
static int
check_files(const struct zm_config *cfg, int log)
{
	struct zm_errlist	errs = { NULL, 0 }, warns = { NULL, 0 };
	size_t			i;
	int			r;

	r = zm_files_check(cfg, &errs, &warns);
	if (r == ZM_OK)
		r = zm_zone_access_warnings(cfg, &warns);
	for (i = 0; i < warns.n; i++) {
		fprintf(stderr, "%s: warning: %s\n", PROG, warns.msg[i]);
		if (log)
			zm_warn("%s", warns.msg[i]);
	}
	for (i = 0; i < errs.n; i++) {
		fprintf(stderr, "%s: %s\n", PROG, errs.msg[i]);
		if (log)
			zm_err("%s", errs.msg[i]);
	}
	if (r != ZM_OK && errs.n == 0)
		fprintf(stderr, "%s: checking file modes: %s\n", PROG,
		    zm_strerror(r));
	zm_errlist_free(&warns);
	zm_errlist_free(&errs);
	return r;
}

/* -t: exit 0 when the file is valid, else 2 with every error. */
static int
check_config(const char *path)
{
	struct zm_config	*cfg = NULL;
	struct zm_errlist	 errs = { NULL, 0 };
	size_t			 i;
	int			 r;

	r = zm_config_load(path, &cfg, &errs);
	if (r != 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: %s: %s\n", PROG, path,
			    zm_strerror(r));
		zm_errlist_free(&errs);
		return 2;
	}
	if (cfg->zone[0] == '\0')
		fprintf(stderr, "%s: warning: [terminal] zone is not set; "
		    "%s will not start\n", path, PROG);
	zm_errlist_free(&errs);
	/* What the daemon would refuse at start, -t reports too. */
	if (check_files(cfg, 0) != ZM_OK) {
		fprintf(stderr, "%s: unsafe file modes: %s would refuse to "
		    "start\n", path, PROG);
		zm_config_free(cfg);
		return 2;
	}
	printf("%s: configuration OK\n", path);
	zm_config_free(cfg);
	return 0;
}

/*
 * Detach.  The parent stays until the child reports that it listens (one
 * byte on the pipe) so that a start-up failure is the parent's exit
 * status; returns the fd the child writes to.
 */
static int
daemonise(void)
{
	int	p[2], status;
	char	b;
	pid_t	pid;
	ssize_t	n;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0) {
		close(p[1]);
		while ((n = read(p[0], &b, 1)) == -1 && errno == EINTR)
			;
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
		    WEXITSTATUS(status) : 1);
	}
	close(p[0]);
	if (setsid() == -1 || chdir("/") != 0) {
		close(p[1]);
		return -1;
	}
	return p[1];
}

static void
daemon_ready(int readyfd)
{
	int	fd;
	char	b = 0;

	if (readyfd == -1)
		return;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (write(readyfd, &b, 1) != 1)
		zm_warn("cannot signal the parent");
	close(readyfd);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "test", no_argument, NULL, 't' },
		{ "fido-hid-socket", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct zm_tokend	 d;
	struct zm_errlist	 errs = { NULL, 0 };
	const char		*conf = ZM_DEFAULT_CONF;
	int			 foreground = 0, debug = 0, test = 0;
	int			 ch, r, lfd = -1, readyfd = -1, activated;
	int			 ret = 1, started = 0;
	size_t			 i;
	unsigned		 recovered = 0;
	char			 why[512];

	memset(&d, 0, sizeof(d));
	/* The sealing key and the seeds must never reach a core file (R14). */
	if (zm_no_core_dumps() != ZM_OK) {
		fprintf(stderr, "%s: cannot disable core dumps: %s\n", PROG,
		    strerror(errno));
		return 1;
	}
	while ((ch = getopt_long(argc, argv, "c:fdthV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'F':
			if (n_fido_hid_sockets == MAX_FIDO_SOCKETS ||
			    optarg[0] == '\0') {
				fprintf(stderr, "%s: too many or empty "
				    "--fido-hid-socket\n", PROG);
				return 2;
			}
			fido_hid_sockets[n_fido_hid_sockets++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", PROG, PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (test)
		return check_config(conf);

	zm_log_init(PROG, debug, debug);
	log_to_stderr = debug;
	if ((r = zm_config_load(conf, &d.cfg, &errs)) != 0) {
		print_errors(&errs);
		if (errs.n == 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, conf,
			    zm_strerror(r));
			zm_err("%s: %s", conf, zm_strerror(r));
		}
		zm_errlist_free(&errs);
		return 2;
	}
	zm_errlist_free(&errs);
	if (d.cfg->zone[0] == '\0' ||
	    zm_config_zone(d.cfg, d.cfg->zone) == NULL) {
		fprintf(stderr, "%s: %s: this terminal's zone is not set "
		    "([terminal] zone): refusing to start\n", PROG, conf);
		zm_err("%s: [terminal] zone is not set: refusing to start",
		    conf);
		zm_config_free(d.cfg);
		return 2;
	}
	/* R14, R15: files others can change are no registry and no evidence. */
	if (check_files(d.cfg, !log_to_stderr) != ZM_OK) {
		fprintf(stderr, "%s: unsafe file modes: refusing to start\n",
		    PROG);
		zm_err("unsafe file modes: refusing to start");
		zm_config_free(d.cfg);
		return 2;
	}
	d.debug = debug;
	d.end_grace_ms = 2000;
	activated = activated_socket();

	if (!foreground && (readyfd = daemonise()) == -1) {
		fatal_msg("cannot daemonise: %s", strerror(errno));
		goto out;
	}
	umask(077);
	raise_nofile();
	if ((r = signals_setup()) != 0) {
		fatal_msg("cannot set up signal handling");
		goto out;
	}
	if ((r = zm_totp_init()) != 0) {
		fatal_msg("liboath: %s", zm_strerror(r));
		goto out;
	}
	if ((r = zm_key_load(d.cfg->key_file, 1, &d.key)) != 0) {
		fatal_msg("key file %s: %s", d.cfg->key_file, zm_strerror(r));
		goto out;
	}
	/* Started by hand: the directories the unit would have made. */
	if (strncmp(d.cfg->store, "sqlite:", 7) == 0 &&
	    (r = zm_paths_prepare(d.cfg->store + 7, 0700, why,
	    sizeof(why))) != 0) {
		fatal_msg("store %s: %s", d.cfg->store, why);
		goto out;
	}
	if ((r = zm_paths_prepare(d.cfg->audit_log, 0755, why,
	    sizeof(why))) != 0) {
		fatal_msg("audit log %s: %s", d.cfg->audit_log, why);
		goto out;
	}
	if ((r = zm_store_open(d.cfg->store, &d.st)) != 0) {
		fatal_msg("store %s: %s", d.cfg->store, zm_strerror(r));
		goto out;
	}
	if ((r = zm_audit_open(d.cfg->audit_log, d.st, d.cfg->terminal_name,
	    &d.audit)) != 0) {
		fatal_msg("audit log %s: %s", d.cfg->audit_log,
		    zm_strerror(r));
		goto out;
	}
	if ((d.cfg->fido || n_fido_hid_sockets > 0) &&
	    (r = zm_fido_new(d.cfg->fido, fido_hid_sockets,
	    n_fido_hid_sockets, d.cfg->fido_rp_id, &d.fido)) != 0) {
		fatal_msg("fido2: %s", zm_strerror(r));
		goto out;
	}
	if ((r = zm_tickets_new(&d.tickets)) != 0) {
		fatal_msg("tickets: %s", zm_strerror(r));
		goto out;
	}
	/* R4: watch the readers (a private thread; decisions stay here). */
	if (d.cfg->pcsc && (r = zm_cardwatch_start(&d, &d.cardwatch)) != 0) {
		fatal_msg("card watch: %s", zm_strerror(r));
		goto out;
	}
	if (activated != -1)
		lfd = activated;
	else if ((r = zm_server_socket(d.cfg->socket, &lfd)) != 0) {
		fatal_msg("socket %s: %s", d.cfg->socket, zm_strerror(r));
		goto out;
	}
	if (zm_audit_event(d.audit, "start", "", d.cfg->zone, "ok", "", NULL,
	    NULL, NULL, PACKAGE_VERSION, 1) != 0) {
		fatal_msg("cannot write the audit log %s", d.cfg->audit_log);
		goto out;
	}
	started = 1;
	/* R15: what a crash kept out of the log goes in before any login. */
	if ((r = zm_recover_audit(&d, &recovered)) != 0) {
		fatal_msg("cannot reconcile the audit log %s with the "
		    "registry: %s", d.cfg->audit_log, zm_strerror(r));
		goto out;
	}
	if (recovered > 0)
		zm_notice("%u change(s) recovered into the audit log",
		    recovered);
	for (i = 0; i < n_fido_hid_sockets; i++)
		zm_notice("test interface: FIDO HID socket %s",
		    fido_hid_sockets[i]);
	zm_notice("listening on %s (zone %s, terminal %s)",
	    activated != -1 ? "activated socket" : d.cfg->socket, d.cfg->zone,
	    d.cfg->terminal_name);
	sd_notify_send("READY=1");
	daemon_ready(readyfd);
	readyfd = -1;

	r = zm_server_run(&d, lfd, sigpipe_fds[0], on_signal);
	/* Removals seen before the stop are acted on and audited first. */
	zm_cardwatch_stop(d.cardwatch);
	d.cardwatch = NULL;
	sd_notify_send("STOPPING=1");
	ret = r == 0 ? 0 : 1;
 out:
	if (started && d.audit != NULL)
		zm_audit_event(d.audit, "stop", "", d.cfg->zone,
		    ret == 0 ? "ok" : "error", "", NULL, NULL, NULL, NULL, 1);
	if (lfd != -1) {
		close(lfd);
		/* Only a socket we made is ours to remove. */
		if (activated == -1)
			unlink(d.cfg->socket);
	}
	if (readyfd != -1)
		close(readyfd);	/* the parent exits with our status */
	zm_cardwatch_stop(d.cardwatch);
	zm_tickets_free(d.tickets);
	free(d.ending_ids);
	zm_fido_free(d.fido);
	zm_audit_close(d.audit);
	zm_store_close(d.st);
	zm_key_wipe(&d.key);
	zm_config_free(d.cfg);
	if (sigpipe_fds[0] != -1) {
		close(sigpipe_fds[0]);
		close(sigpipe_fds[1]);
	}
	return ret;
}
