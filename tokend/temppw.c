/*
 * temppw.c - `zonemfa-enroll temp-password USER` (R11): a random
 * temporary password for a local account, set through the system's own
 * tools and changed at the first login.
 *
 * The daemon (root) runs chpasswd(8) with "user:password" on its standard
 * input, then `chage -d 0 USER` so that the next login must change it.
 * Both are exec'd without a shell and with a fixed environment.  Only
 * accounts in /etc/passwd are handled: a directory (LDAP) account's
 * password is the directory's business.
 *
 * Under the shipped unit the daemon cannot write /etc (ProtectSystem=
 * strict) and has no CAP_CHOWN/CAP_FOWNER (chpasswd writes a new shadow
 * file owned by root:shadow), and it should keep it that way.  So when it
 * runs as a systemd service the tools run in a transient unit of their
 * own (systemd-run --pipe --wait: started by PID 1, outside the daemon's
 * sandbox, with a sandbox that lets them write /etc and nothing else);
 * standard input still carries the password, never the command line.
 */
#include <config.h>

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "server.h"
#include "tokend.h"
#include "wipe.h"

#define PW_LEN		16
#define CHPASSWD_PATH	"/usr/sbin/chpasswd"
#define CHAGE_PATH	"/usr/bin/chage"
#define PASSWD_FILE	"/etc/passwd"
#define TOOL_TIMEOUT_MS	10000
#define SYSTEMD_RUN	"/usr/bin/systemd-run"

/* No look-alikes (0/O, 1/l/I): the password is read out over the phone. */
static const char pw_alphabet[] =
    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

static int
random_password(char out[PW_LEN + 1])
{
	const size_t	na = sizeof(pw_alphabet) - 1;	/* 57 */
	const unsigned	lim = 256 - 256 % na;
	uint8_t		b[64];
	size_t		i, n = 0;
	int		r;

	while (n < PW_LEN) {
		if ((r = zm_random(b, sizeof(b))) != 0)
			return r;
		for (i = 0; i < sizeof(b) && n < PW_LEN; i++)
			if (b[i] < lim)
				out[n++] = pw_alphabet[b[i] % na];
	}
	out[n] = '\0';
	zm_wipe(b, sizeof(b));
	return ZM_OK;
}

/* 1 if user has a line in /etc/passwd (a local account). */
static int
local_account(const char *user)
{
	FILE	*f;
	char	 line[1024];
	size_t	 ulen = strlen(user);
	int	 found = 0;

	if ((f = fopen(PASSWD_FILE, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, user, ulen) == 0 && line[ulen] == ':';
	fclose(f);
	return found;
}

/* 1 when the daemon is a systemd service (its sandbox applies). */
static int
under_systemd(void)
{
	const char *id = getenv("INVOCATION_ID");

	return id != NULL && id[0] != '\0' &&
	    access("/run/systemd/system", F_OK) == 0 &&
	    access(SYSTEMD_RUN, X_OK) == 0;
}

/*
 * Run path argv with input (NULL: none) on stdin; 0 only for exit 0.
 * As a systemd service: through systemd-run, in a transient unit that
 * may write /etc (and the shadow files' owners) but has no network, no
 * devices, no home directories and no new privileges.
 */
static int
run_tool(const char *path, char *const argv[], const char *input)
{
	/* Writable copies: execve() takes char *const []. */
	char	 fixed[][112] = {
		"systemd-run", "--quiet", "--wait", "--collect", "--pipe",
		"--service-type=exec", "--setenv=LC_ALL=C",
		"--property=ProtectSystem=true",
		"--property=ProtectHome=yes",
		"--property=PrivateNetwork=yes",
		"--property=PrivateDevices=yes",
		"--property=PrivateTmp=yes",
		"--property=NoNewPrivileges=yes",
		"--property=ProtectKernelTunables=yes",
		"--property=ProtectKernelModules=yes",
		"--property=ProtectControlGroups=yes",
		"--property=RestrictAddressFamilies=AF_UNIX AF_NETLINK",
		("--property=CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE "
		    "CAP_FOWNER CAP_AUDIT_WRITE"),
		"--property=UMask=0077",
		"--",
	};
	char	 e0[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char	 e1[] = "LC_ALL=C";
	char	*envp[] = { e0, e1, NULL };
	char	 tool[128];
	char	*sargv[48];
	size_t	 n = 0, i;

	if (!under_systemd())
		return zm_run_argv_input(path, argv, envp, input,
		    TOOL_TIMEOUT_MS);
	if (snprintf(tool, sizeof(tool), "%s", path) >= (int)sizeof(tool))
		return ZM_ERR_INTERNAL;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		sargv[n++] = fixed[i];
	sargv[n++] = tool;
	for (i = 1; argv[i] != NULL && n < sizeof(sargv) / sizeof(sargv[0]) - 1;
	    i++)
		sargv[n++] = argv[i];
	sargv[n] = NULL;
	zm_debug("%s through a transient unit", path);
	return zm_run_argv_input(SYSTEMD_RUN, sargv, envp, input,
	    TOOL_TIMEOUT_MS);
}

static int
refuse(struct zm_tokend *d, const struct zm_peer *peer, const char *user,
    int status, const char *why, struct zm_buf *reply)
{
	zm_notice("temp_password for %s by %s refused: %s", user, peer->name,
	    why);
	if (zm_audit_event(d->audit, "temp_password", user, NULL, "refused",
	    why, NULL, peer->name, NULL, NULL, 0) != 0)
		zm_err("temp_password: audit write failed");
	return zm_reply_result(reply, status, status == ZM_ST_SELF ?
	    ZM_MSG_NOT_PERMITTED : ZM_MSG_NONE, 0, 0);
}

int
zm_admin_temp_password(struct zm_tokend *d, const struct zm_peer *peer,
    const struct zm_msg *req, struct zm_buf *reply)
{
	char		 user[ZM_NAME_MAX], pw[PW_LEN + 1];
	char		 line[ZM_NAME_MAX + PW_LEN + 4];
	char		 a0[] = "chpasswd", c0[] = "chage", c1[] = "-d";
	char		 c2[] = "0", c3[] = "--", c4[ZM_NAME_MAX];
	char		*cp_argv[] = { a0, NULL };
	char		*ch_argv[] = { c0, c1, c2, c3, c4, NULL };
	const char	*why;
	int		 n, st, r = ZM_ERR_INTERNAL;

	memset(pw, 0, sizeof(pw));
	memset(line, 0, sizeof(line));
	if (zm_msg_get_str(req, ZM_T_USER, user, sizeof(user)) != 0 ||
	    !zm_user_name_valid(user))
		return zm_reply_result(reply, ZM_ST_INVALID, ZM_MSG_NONE, 0, 0);
	/* R10, and no password set for root, staff or privileged users. */
	if ((st = zm_operator_check(d->cfg, peer, user, ZM_OP_PASSWORD,
	    &why)) != ZM_ST_OK)
		return refuse(d, peer, user, st, why, reply);
	if (!zm_user_exists(user))
		return refuse(d, peer, user, ZM_ST_NOTFOUND, "no such user",
		    reply);
	if (!local_account(user))
		return refuse(d, peer, user, ZM_ST_NOTFOUND,
		    "not a local account (" PASSWD_FILE ")", reply);
	if ((r = random_password(pw)) != 0)
		goto out;
	n = snprintf(line, sizeof(line), "%s:%s\n", user, pw);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		r = ZM_ERR_INTERNAL;
		goto out;
	}
	memcpy(c4, user, strlen(user) + 1);
	/* Set, then force the change: a failed chage leaves it unset. */
	if ((r = run_tool(CHPASSWD_PATH, cp_argv, line)) != 0 ||
	    (r = run_tool(CHAGE_PATH, ch_argv, NULL)) != 0) {
		if (zm_audit_event(d->audit, "temp_password", user, NULL,
		    "error", "system tool failed", NULL, peer->name, NULL,
		    NULL, 1) != 0)
			zm_err("temp_password: audit write failed");
		goto out;
	}
	if (zm_audit_event(d->audit, "temp_password", user, NULL, "ok",
	    "change forced at first login", NULL, peer->name, NULL, NULL,
	    1) != 0)
		zm_err("temp_password: audit write failed");
	zm_notice("temporary password for %s set by %s", user, peer->name);
	if ((r = zm_reply_secret(reply, pw, 0, 0)) != 0)
		goto out;
	r = ZM_OK;
 out:
	zm_wipe(pw, sizeof(pw));
	zm_wipe(line, sizeof(line));
	return r;
}
