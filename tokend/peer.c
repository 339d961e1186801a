/*
 * peer.c - who is on the other end of a connection, and which groups a
 * user belongs to.
 *
 * Everything goes through NSS (getpwuid_r, getgrnam_r, getgrouplist), so
 * LDAP/SSSD users work on a real terminal and nss_wrapper works in tests.
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "policy.h"
#include "tokend.h"

/* NSS buffers grow on ERANGE up to this; a bigger entry is refused. */
#define NSS_BUF_MAX	(1024 * 1024)
#define NSS_BUF_START	4096
/* getgrouplist() result cap: more groups than this is not a real user. */
#define NGROUPS_CAP	65536

/*
 * The getpw*_r/getgr*_r calling convention: 0 with *res == NULL means "no
 * such entry"; ERANGE means "try a bigger buffer".  Returns 0 found,
 * ZM_ERR_NOTFOUND, or another error.
 */
static int
pw_by_name(const char *name, struct passwd *pw, char **bufp)
{
	struct passwd	*res = NULL;
	char		*buf = NULL, *nb;
	size_t		 len = NSS_BUF_START;
	int		 e;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			free(buf);
			return ZM_ERR_NOMEM;
		}
		buf = nb;
		e = getpwnam_r(name, pw, buf, len, &res);
		if (e != ERANGE || len >= NSS_BUF_MAX)
			break;
		len *= 2;
	}
	if (e != 0 || res == NULL) {
		free(buf);
		/* ENOENT/ESRCH etc. are how some NSS modules say "absent". */
		return e == 0 || e == ENOENT || e == ESRCH ? ZM_ERR_NOTFOUND :
		    ZM_ERR_INTERNAL;
	}
	*bufp = buf;
	return ZM_OK;
}

static int
pw_by_uid(uid_t uid, struct passwd *pw, char **bufp)
{
	struct passwd	*res = NULL;
	char		*buf = NULL, *nb;
	size_t		 len = NSS_BUF_START;
	int		 e;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			free(buf);
			return ZM_ERR_NOMEM;
		}
		buf = nb;
		e = getpwuid_r(uid, pw, buf, len, &res);
		if (e != ERANGE || len >= NSS_BUF_MAX)
			break;
		len *= 2;
	}
	if (e != 0 || res == NULL) {
		free(buf);
		return e == 0 || e == ENOENT || e == ESRCH ? ZM_ERR_NOTFOUND :
		    ZM_ERR_INTERNAL;
	}
	*bufp = buf;
	return ZM_OK;
}

static int
gr_by_name(const char *name, struct group *gr, char **bufp)
{
	struct group	*res = NULL;
	char		*buf = NULL, *nb;
	size_t		 len = NSS_BUF_START;
	int		 e;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			free(buf);
			return ZM_ERR_NOMEM;
		}
		buf = nb;
		e = getgrnam_r(name, gr, buf, len, &res);
		if (e != ERANGE || len >= NSS_BUF_MAX)
			break;
		len *= 2;
	}
	if (e != 0 || res == NULL) {
		free(buf);
		return e == 0 || e == ENOENT || e == ESRCH ? ZM_ERR_NOTFOUND :
		    ZM_ERR_INTERNAL;
	}
	*bufp = buf;
	return ZM_OK;
}

/* 1 if gid is among the user's groups according to getgrouplist(). */
static int
grouplist_has(const char *user, gid_t primary, gid_t gid)
{
	gid_t	*groups = NULL, *ng;
	int	 n = 64, i, found = 0;

	for (;;) {
		int want = n;

		ng = reallocarray(groups, (size_t)n, sizeof(*groups));
		if (ng == NULL)
			break;
		groups = ng;
		if (getgrouplist(user, primary, groups, &n) >= 0)
			break;
		/* n now holds the number needed (glibc); guard the value. */
		if (n <= want)
			n = want * 2;
		if (n > NGROUPS_CAP) {
			n = -1;
			break;
		}
	}
	if (groups != NULL && n > 0) {
		for (i = 0; i < n; i++) {
			if (groups[i] == gid) {
				found = 1;
				break;
			}
		}
	}
	free(groups);
	return found;
}

int
zm_user_in_group_r(const char *user, const char *group)
{
	struct group	 gr;
	struct passwd	 pw;
	char		*gbuf = NULL, *pbuf = NULL;
	char		**m;
	gid_t		 gid;
	int		 found = 0, r;

	if (user == NULL || group == NULL || *user == '\0' || *group == '\0')
		return 0;
	/* A group that does not exist has no members: not an error. */
	if ((r = gr_by_name(group, &gr, &gbuf)) != ZM_OK)
		return r == ZM_ERR_NOTFOUND ? 0 : -1;
	gid = gr.gr_gid;
	for (m = gr.gr_mem; m != NULL && *m != NULL; m++) {
		if (strcmp(*m, user) == 0) {
			found = 1;
			goto out;
		}
	}
	if ((r = pw_by_name(user, &pw, &pbuf)) != ZM_OK) {
		if (r != ZM_ERR_NOTFOUND)
			found = -1;
		goto out;
	}
	if (pw.pw_gid == gid) {
		found = 1;
		goto out;
	}
	/* Covers NSS sources whose gr_mem lists are incomplete (initgroups). */
	found = grouplist_has(user, pw.pw_gid, gid);
 out:
	free(gbuf);
	free(pbuf);
	return found;
}

int
zm_user_in_group(const char *user, const char *group)
{
	return zm_user_in_group_r(user, group) == 1;
}

static int
nss_in_group(void *arg, const char *user, const char *group)
{
	(void)arg;
	return zm_user_in_group_r(user, group);
}

int
zm_user_zone_access(const char *user, const struct zm_zone *z)
{
	return zm_policy_zone_access(z, user, nss_in_group, NULL);
}

int
zm_zone_access_warnings(const struct zm_config *cfg, struct zm_errlist *warns)
{
	struct group	 gr;
	const char	*path;
	char		*buf = NULL;
	size_t		 i, j;
	int		 r;

	if (cfg == NULL)
		return ZM_OK;
	path = cfg->path != NULL ? cfg->path : "zonemfa.conf";
	for (i = 0; i < cfg->n_zones; i++) {
		for (j = 0; j < cfg->zones[i].n_allow_groups; j++) {
			r = gr_by_name(cfg->zones[i].allow_groups[j], &gr,
			    &buf);
			free(buf);
			buf = NULL;
			if (r == ZM_OK)
				continue;
			if ((r = zm_errlist_addf(warns, "%s: [zone %s] "
			    "allow_groups: %s '%s' (nobody gets in through "
			    "it)", path, cfg->zones[i].name,
			    r == ZM_ERR_NOTFOUND ? "no such group" :
			    "cannot look up group",
			    cfg->zones[i].allow_groups[j])) != ZM_OK)
				return r;
		}
	}
	return ZM_OK;
}

int
zm_user_privileged(const char *user, const struct zm_zone *z)
{
	size_t i;

	if (z == NULL)
		return 0;
	for (i = 0; i < z->n_privileged_groups; i++) {
		if (zm_user_in_group(user, z->privileged_groups[i]))
			return 1;
	}
	return 0;
}

/* 1 if user is staff: a member of helpdesk_group or admin_group. */
static int
user_is_staff(const struct zm_config *cfg, const char *user)
{
	return cfg != NULL && (zm_user_in_group(user, cfg->helpdesk_group) ||
	    zm_user_in_group(user, cfg->admin_group));
}

int
zm_operator_check(const struct zm_config *cfg, const struct zm_peer *peer,
    const char *user, unsigned flags, const char **why)
{
	struct passwd	 pw;
	char		*buf = NULL;
	uid_t		 uid;
	int		 self = 0, sets_password = (flags & ZM_OP_PASSWORD) != 0;
	size_t		 i;

	*why = NULL;
	if (strcmp(peer->name, user) == 0)
		self = 1;
	else if (pw_by_name(user, &pw, &buf) == ZM_OK) {
		uid = pw.pw_uid;
		free(buf);
		/* An alias of the operator's own uid is the same account. */
		if (uid == peer->uid)
			self = 2;
		else if (uid == 0 && !peer->is_root) {
			*why = "only root may act on a uid 0 account";
			return ZM_ST_PERM;
		} else if (sets_password && uid < ZM_UID_MIN && !peer->is_root) {
			*why = "not a person's account (uid below 1000)";
			return ZM_ST_PERM;
		}
	}
	if (self) {
		/* Revoking only removes access: one's own loss report. */
		if ((flags & ZM_OP_REVOKE) != 0) {
			*why = ZM_OP_SELF_REVOKE;
			return ZM_ST_OK;
		}
		*why = self == 1 ? "operator may not act on own account" :
		    "operator may not act on own account (same uid)";
		return ZM_ST_SELF;
	}
	if (peer->is_root || peer->is_admin)
		return ZM_ST_OK;
	/*
	 * A helpdesk member acting for another helpdesk member (or for an
	 * administrator) could enrol a token or issue a code and then log in
	 * as them: R10 undone by one person.  Staff accounts are handled by
	 * root and admin_group only.
	 */
	if (user_is_staff(cfg, user)) {
		*why = "only root or admin_group may act on a staff account "
		    "(helpdesk_group, admin_group)";
		return ZM_ST_PERM;
	}
	if (!sets_password)
		return ZM_ST_OK;
	/*
	 * A password is the knowledge factor everywhere: the helpdesk must not
	 * be able to set one for the accounts that hold privileges (sudo via
	 * wheel and the like).
	 */
	for (i = 0; cfg != NULL && i < cfg->n_zones; i++) {
		if (zm_user_privileged(user, &cfg->zones[i])) {
			*why = "only root or admin_group may set a privileged "
			    "user's password";
			return ZM_ST_PERM;
		}
	}
	return ZM_ST_OK;
}

int
zm_user_exists(const char *user)
{
	struct passwd	 pw;
	char		*buf = NULL;

	if (user == NULL || *user == '\0')
		return 0;
	if (pw_by_name(user, &pw, &buf) != ZM_OK)
		return 0;
	free(buf);
	return 1;
}

int
zm_peer_identify(const struct zm_config *cfg, uid_t uid, gid_t gid,
    pid_t pid, struct zm_peer *p)
{
	struct passwd	 pw;
	char		*buf = NULL;
	int		 r;

	memset(p, 0, sizeof(*p));
	p->uid = uid;
	p->gid = gid;
	p->pid = pid;
	p->is_root = uid == 0;

	r = pw_by_uid(uid, &pw, &buf);
	if (r == ZM_OK) {
		if (strlen(pw.pw_name) < sizeof(p->name))
			strcpy(p->name, pw.pw_name);
		else
			zm_warn("uid %lu: user name too long",
			    (unsigned long)uid);
		free(buf);
	} else if (r != ZM_ERR_NOTFOUND) {
		zm_err("uid %lu: passwd lookup failed", (unsigned long)uid);
		return r;
	}
	/* The operator name of root must never be empty in the audit log. */
	if (p->is_root && p->name[0] == '\0')
		strcpy(p->name, "root");
	return ZM_OK;
}

void
zm_peer_load_groups(const struct zm_config *cfg, struct zm_peer *p)
{
	/*
	 * Every time, never cached on the connection: someone taken out of
	 * helpdesk_group must lose its powers on a connection opened before.
	 */
	p->is_helpdesk = 0;
	p->is_admin = 0;
	p->groups_loaded = 1;
	/* Without a name there is no group membership to look up. */
	if (p->name[0] != '\0' && cfg != NULL) {
		p->is_helpdesk = zm_user_in_group(p->name, cfg->helpdesk_group);
		p->is_admin = zm_user_in_group(p->name, cfg->admin_group);
	}
}
