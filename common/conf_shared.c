/*
 * conf_shared.c - [shared NAME] sections of zonemfa.conf(5): shared
 * accounts and the people who may use them (R7).
 *
 *	[shared madoguchi01]
 *	members = tanaka suzuki sato
 *
 * The list is policy, like a zone: the security committee approves it,
 * it is rolled out with the configuration and read by the daemon, which
 * asks at every login which member is at the terminal and wants that
 * member's own token.
 */
#include <config.h>

#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "names.h"

static const char *const shared_keys[] = { "members" };

const struct zm_shared *
zm_config_shared(const struct zm_config *c, const char *user)
{
	size_t i;

	if (c == NULL || user == NULL)
		return NULL;
	for (i = 0; i < c->n_shared; i++)
		if (strcmp(c->shared[i].name, user) == 0)
			return &c->shared[i];
	return NULL;
}

int
zm_shared_member(const struct zm_shared *s, const char *name)
{
	size_t i;

	if (s == NULL || name == NULL)
		return 0;
	for (i = 0; i < s->n_members; i++)
		if (strcmp(s->members[i], name) == 0)
			return 1;
	return 0;
}

void
zm_conf_shared_section(struct zm_cfp *p, const char *name)
{
	struct zm_config	*c = p->c;
	size_t			 i;

	p->sec = SEC_SKIP;
	if (name[0] == '\0') {
		zm_conf_err(p, "section [shared] needs an account name, as in "
		    "[shared madoguchi01]");
		return;
	}
	if (!zm_user_name_valid(name)) {
		zm_conf_err(p, "invalid account name '%s' in [shared %s]",
		    name, name);
		return;
	}
	for (i = 0; i < c->n_shared; i++) {
		if (strcmp(c->shared[i].name, name) == 0) {
			zm_conf_err(p, "duplicate section [shared %s] (first "
			    "at line %lu)", name, p->shared_line[i]);
			return;
		}
	}
	if (i == ZM_MAX_SHARED) {
		zm_conf_err(p, "too many shared accounts (at most %d)",
		    ZM_MAX_SHARED);
		return;
	}
	memset(&c->shared[i], 0, sizeof(c->shared[i]));
	memcpy(c->shared[i].name, name, strlen(name) + 1);
	c->n_shared++;
	p->shared_line[i] = p->line;
	p->si = i;
	p->sec = SEC_SHARED;
}

void
zm_conf_set_shared(struct zm_cfp *p, const char *key, const char *val)
{
	struct zm_shared	*s = &p->c->shared[p->si];
	const char		*w = val;
	char			 name[ZM_NAME_MAX];
	size_t			 n;

	if (zm_conf_lookup(shared_keys, 1, key, strlen(key)) < 0) {
		zm_conf_err(p, "unknown key '%s' in section [shared %s] "
		    "(expected members)", key, s->name);
		return;
	}
	if (p->shared_members_seen[p->si] != 0) {
		zm_conf_err(p, "duplicate key 'members' in section [shared %s] "
		    "(first at line %lu)", s->name,
		    p->shared_members_seen[p->si]);
		return;
	}
	p->shared_members_seen[p->si] = p->line;
	for (;;) {
		w += strspn(w, " \t");
		if (*w == '\0')
			break;
		n = strcspn(w, " \t");
		if (n >= sizeof(name)) {
			zm_conf_err(p, "[shared %s] members: name '%.*s...' is "
			    "too long", s->name, 20, w);
			return;
		}
		memcpy(name, w, n);
		name[n] = '\0';
		w += n;
		if (!zm_user_name_valid(name)) {
			zm_conf_err(p, "[shared %s] members: invalid user name "
			    "'%s'", s->name, name);
			continue;
		}
		if (strcmp(name, s->name) == 0) {
			zm_conf_err(p, "[shared %s] members: the shared account "
			    "cannot be its own member", s->name);
			continue;
		}
		if (zm_shared_member(s, name)) {
			zm_conf_err(p, "[shared %s] members: '%s' is listed "
			    "twice", s->name, name);
			continue;
		}
		if (s->n_members == ZM_MAX_MEMBERS) {
			zm_conf_err(p, "[shared %s] members: too many (at most "
			    "%d)", s->name, ZM_MAX_MEMBERS);
			return;
		}
		memcpy(s->members[s->n_members++], name, n + 1);
	}
}

void
zm_conf_check_shared(struct zm_cfp *p)
{
	const struct zm_config	*c = p->c;
	size_t			 i, k;

	for (i = 0; i < c->n_shared; i++) {
		if (c->shared[i].n_members == 0 && p->nerr == 0)
			zm_conf_err_at(p, p->shared_members_seen[i] != 0 ?
			    p->shared_members_seen[i] : p->shared_line[i],
			    "[shared %s] has "
			    "no members: nobody could use it (add members = "
			    "NAME...)", c->shared[i].name);
		/* A member logs in with their own token: never a shared one. */
		for (k = 0; k < c->shared[i].n_members; k++)
			if (zm_config_shared(c, c->shared[i].members[k]) !=
			    NULL)
				zm_conf_err_at(p, p->shared_members_seen[i],
				    "[shared %s] members: '%s' is itself a "
				    "shared account", c->shared[i].name,
				    c->shared[i].members[k]);
	}
}
