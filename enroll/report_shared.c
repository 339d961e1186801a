/*
 * report_shared.c - zonemfa-audit report, shared-ID use per person (R7):
 * for each shared account ([shared NAME] in zonemfa.conf(5)) and each
 * member who used it, the logins, the refused or failed attempts and the
 * last use; attempts by people who are not members are counted apart.
 * Kept out of report.c: it reads the "person" field only.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditrec.h"
#include "cli.h"
#include "err.h"

struct use {
	char		acct[64];
	char		person[64];	/* "" for non-members */
	unsigned	ok, refused;
	char		last[32];
};

static struct use *
use_get(struct use **v, size_t *n, const char *acct, const char *person)
{
	struct use	*t;
	size_t		 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].acct, acct) == 0 &&
		    strcmp((*v)[i].person, person) == 0)
			return &(*v)[i];
	if ((t = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		return NULL;
	*v = t;
	t = &t[(*n)++];
	memset(t, 0, sizeof(*t));
	snprintf(t->acct, sizeof(t->acct), "%s", acct);
	snprintf(t->person, sizeof(t->person), "%s", person);
	return t;
}

static int
cmp_use(const void *a, const void *b)
{
	const struct use *x = a, *y = b;
	int c;

	if ((c = strcmp(x->acct, y->acct)) != 0)
		return c;
	return strcmp(x->person, y->person);
}

int
audit_report_shared(FILE *f, int64_t since, const char *user)
{
	struct zm_audit_rec	 rec;
	struct use		*v = NULL, *u;
	struct tm		 tm;
	char			*line = NULL;
	size_t			 cap = 0, len, n = 0, i;
	ssize_t			 k;
	int			 nonmember;

	while ((k = getline(&line, &cap, f)) != -1) {
		len = (size_t)k;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > ZM_AUDIT_MAX_LINE ||
		    zm_auditrec_parse(line, len, &rec) != ZM_OK ||
		    strcmp(rec.event, "auth") != 0)
			continue;
		nonmember = strcmp(rec.reason,
		    "not a member of the shared account") == 0;
		if (rec.person[0] == '\0' && !nonmember)
			continue;
		memset(&tm, 0, sizeof(tm));
		if (strptime(rec.time, "%Y-%m-%dT%H:%M:%S", &tm) == NULL ||
		    (int64_t)timegm(&tm) < since)
			continue;
		if (user != NULL && strcmp(rec.user, user) != 0 &&
		    strcmp(rec.person, user) != 0)
			continue;
		if ((u = use_get(&v, &n, rec.user, rec.person)) == NULL) {
			free(line);
			free(v);
			return ZM_ERR_NOMEM;
		}
		if (strcmp(rec.result, "ok") == 0)
			u->ok++;
		else if (strcmp(rec.result, "aborted") != 0)
			u->refused++;
		snprintf(u->last, sizeof(u->last), "%.10s %.5s", rec.time,
		    rec.time + 11);
	}
	free(line);
	printf("\n%s: %zu\n", _("Shared account use per person"), n);
	if (n > 0) {
		qsort(v, n, sizeof(*v), cmp_use);
		printf("  %-16s %-16s %7s %8s  %s\n", _("ACCOUNT"), _("PERSON"),
		    _("LOGINS"), _("REFUSED"), _("LAST (UTC)"));
		for (i = 0; i < n; i++)
			printf("  %-16s %-16s %7u %8u  %s\n", v[i].acct,
			    v[i].person[0] != '\0' ? v[i].person :
			    _("(not a member)"), v[i].ok, v[i].refused,
			    v[i].last);
	}
	free(v);
	return ZM_OK;
}
