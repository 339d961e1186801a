/*
 * dormant.c - `zonemfa-audit dormant [--days N] [--zone NAME]`: accounts
 * that are dormant, or will be within N days (R8: unused IDs are not left
 * active).  The account rows come from the daemon (ZM_REQ_USER_LIST,
 * staff only); the zone's dormant_after comes from the same configuration
 * file the daemon reads, and the rule is the daemon's: an account is
 * dormant when max(last success, last enable, created) is older than
 * dormant_after.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "ipc.h"

#define DEFAULT_WINDOW_DAYS	14
#define DAY			86400

struct acct {
	char		user[CLI_USER_MAX + 1];
	uint64_t	last_success, created, enabled_at;
	uint32_t	flags;
	int64_t		idle;		/* seconds since the last sign of life */
	int64_t		left;		/* seconds until dormant (<= 0: is) */
};

struct accts {
	struct acct	*v;
	size_t		 n, cap;
	int64_t		 now, after, window;
};

static int
acct_row(const struct zm_msg *m, void *arg)
{
	struct accts	*as = arg;
	struct acct	*a, *nv;
	char		 name[ZM_IPC_MAX_STR + 1];
	uint64_t	 last;
	size_t		 ncap;
	int		 r;

	if (as->n == as->cap) {
		ncap = as->cap ? as->cap * 2 : 64;
		if (ncap > 10000000 ||
		    (nv = reallocarray(as->v, ncap, sizeof(*nv))) == NULL)
			return ZM_ERR_NOMEM;
		as->v = nv;
		as->cap = ncap;
	}
	a = &as->v[as->n];
	memset(a, 0, sizeof(*a));
	if ((r = zm_msg_get_str(m, ZM_T_USER, name, sizeof(name))) != ZM_OK)
		return r == ZM_ERR_NOTFOUND ? ZM_ERR_PROTO : r;
	cli_sanitize(name, a->user, sizeof(a->user));
	if ((r = zm_msg_get_u64(m, ZM_T_TIME, &a->last_success)) != ZM_OK ||
	    (r = zm_msg_get_u64(m, ZM_T_CREATED, &a->created)) != ZM_OK ||
	    (r = zm_msg_get_u64(m, ZM_T_TIME2, &a->enabled_at)) != ZM_OK ||
	    (r = zm_msg_get_u32(m, ZM_T_FLAGS, &a->flags)) != ZM_OK)
		return r == ZM_ERR_NOTFOUND ? ZM_ERR_PROTO : r;
	last = a->last_success;
	if (a->enabled_at > last)
		last = a->enabled_at;
	if (a->created > last)
		last = a->created;
	if (last > (uint64_t)INT64_MAX)
		return ZM_ERR_PROTO;
	a->idle = as->now > (int64_t)last ? as->now - (int64_t)last : 0;
	a->left = as->after > 0 ? as->after - a->idle : INT64_MAX;
	/* Listed: dormant now or within the window (or idle that long). */
	if (as->after > 0 ? a->left <= as->window : a->idle >= as->window)
		as->n++;
	return ZM_OK;
}

static int
by_idle(const void *x, const void *y)
{
	const struct acct *a = x, *b = y;

	if (a->idle != b->idle)
		return a->idle < b->idle ? 1 : -1;
	return strcmp(a->user, b->user);
}

static void
state_text(const struct accts *as, const struct acct *a, char *out,
    size_t outlen)
{
	const char	*dis = (a->flags & ZM_USER_DISABLED) ?
			    _(", disabled") : "";

	if (as->after == 0)
		snprintf(out, outlen, "%s%s", _("idle"), dis);
	else if (a->left < 0)	/* the daemon refuses "older than" */
		snprintf(out, outlen, "%s%s", _("dormant"), dis);
	else
		snprintf(out, outlen, _("dormant in %lld days%s"),
		    (long long)((a->left + DAY - 1) / DAY), dis);
}

int
audit_dormant(const struct zm_config *cfg, const char *zone_name,
    const char *days)
{
	const struct zm_zone	*z;
	struct accts		 as;
	struct cli_conn		 c;
	struct cli_result	 res;
	struct zm_buf		 req;
	char			 last[32], state[96], dur[32];
	size_t			 i;
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&as, 0, sizeof(as));
	memset(&res, 0, sizeof(res));
	if (zone_name == NULL)
		zone_name = cfg->zone;
	if ((z = zm_config_zone(cfg, zone_name)) == NULL)
		cli_errx(CLI_EXIT_USAGE, _("unknown zone '%s'"), zone_name);
	as.now = (int64_t)time(NULL);
	as.after = z->dormant_after;
	if (days != NULL)
		as.window = (int64_t)cli_arg_number(days, 0, 36500,
		    _("days")) * DAY;
	else
		as.window = (as.after > 0 ? DEFAULT_WINDOW_DAYS : 90) *
		    (int64_t)DAY;
	if ((r = cli_msg_begin(&req, ZM_REQ_USER_LIST)) != ZM_OK ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		zm_buf_free(&req);
		return CLI_EXIT_FAIL;
	}
	cli_connect_or_die(cfg, &c);
	r = cli_request(&c, &req, acct_row, &as, &res);
	cli_close(&c);
	zm_buf_free(&req);
	if (r != ZM_OK) {
		cli_warnx(_("no answer from zonemfa-tokend: %s"),
		    zm_strerror(r));
		goto out;
	}
	if (res.status != ZM_ST_OK) {
		rc = cli_report_status(&res);
		goto out;
	}
	if (as.after > 0) {
		zm_duration_format(as.after, dur, sizeof(dur));
		printf(_("zone %s: dormant after %s; listing accounts dormant "
		    "or dormant within %lld days\n"), z->name, dur,
		    (long long)(as.window / DAY));
	} else {
		printf(_("zone %s has no dormant_after; listing accounts idle "
		    "for %lld days or more\n"), z->name,
		    (long long)(as.window / DAY));
	}
	qsort(as.v, as.n, sizeof(*as.v), by_idle);
	printf("%-20s  %-16s  %9s  %s\n", _("USER"), _("LAST-LOGIN"),
	    _("DAYS-IDLE"), _("STATE"));
	for (i = 0; i < as.n; i++) {
		cli_time_local(as.v[i].last_success, last, sizeof(last));
		state_text(&as, &as.v[i], state, sizeof(state));
		printf("%-20s  %-16s  %9lld  %s\n", as.v[i].user, last,
		    (long long)(as.v[i].idle / DAY), state);
	}
	rc = CLI_EXIT_OK;
 out:
	cli_result_clear(&res);
	free(as.v);
	return rc;
}
