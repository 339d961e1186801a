/*
 * zonemfa-revoke - card-loss revocation.
 *
 * The daemon owns the store: it makes the revocation durable, ends the
 * sessions opened with the token and only then answers.  This tool says
 * exactly what happened, and when it cannot know (no daemon, no answer)
 * it says so rather than guess.
 */
#include <config.h>

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "revoke_offline.h"
#include "conf.h"
#include "err.h"
#include "ipc.h"

#define SERIAL_MAX	64
#define KIND_MAX	16

static const char *const reasons[] = {
	"lost", "stolen", "replaced", "leaver", "compromised"
};
#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

static void
usage(FILE *f)
{
	fprintf(f, _("usage: %s [-c FILE] --user USER (--token ID | --card SERIAL | --all)\n"
	    "       --reason lost|stolen|replaced|leaver|compromised\n"),
	    cli_prog);
	fprintf(f, _("  -c FILE  configuration file (default %s)\n"),
	    ZM_DEFAULT_CONF);
}

/* Kinds of the user's tokens, to say "token 3 (totp)" (best effort). */
struct kinds {
	struct {
		uint64_t	id;
		char		kind[KIND_MAX];
	}		*v;
	size_t		 n, cap;
};

static int
kinds_row(const struct zm_msg *m, void *arg)
{
	struct kinds	*k = arg;
	void		*nv;
	size_t		 ncap;
	uint64_t	 id;
	char		 kind[KIND_MAX];

	if (zm_msg_get_u64(m, ZM_T_TOKEN_ID, &id) != ZM_OK ||
	    zm_msg_get_str(m, ZM_T_KIND, kind, sizeof(kind)) != ZM_OK)
		return ZM_OK;
	if (k->n == k->cap) {
		ncap = k->cap ? k->cap * 2 : 8;
		if (ncap > 100000 ||
		    (nv = reallocarray(k->v, ncap, sizeof(*k->v))) == NULL)
			return ZM_ERR_NOMEM;
		k->v = nv;
		k->cap = ncap;
	}
	k->v[k->n].id = id;
	cli_sanitize(kind, k->v[k->n].kind, sizeof(k->v[k->n].kind));
	k->n++;
	return ZM_OK;
}

/* A second, read-only request; its failure (e.g. R10 on own account) only costs the kind. */
static void
kinds_load(const struct zm_config *cfg, const char *user, struct kinds *k)
{
	struct cli_conn		c;
	struct cli_result	res;
	struct zm_buf		req;

	memset(&res, 0, sizeof(res));
	zm_buf_init(&req, 0);
	if (cli_connect(cfg, &c) != ZM_OK)
		goto out;
	if (cli_msg_begin(&req, ZM_REQ_LIST) != ZM_OK ||
	    zm_msg_add_str(&req, ZM_T_USER, user) != ZM_OK ||
	    zm_msg_end(&req) != ZM_OK ||
	    cli_request(&c, &req, kinds_row, k, &res) != ZM_OK ||
	    res.status != ZM_ST_OK)
		k->n = 0;
out:
	cli_close(&c);
	zm_buf_free(&req);
}

static const char *
kinds_find(const struct kinds *k, uint64_t id)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->v[i].id == id)
			return k->v[i].kind;
	return NULL;
}

/*
 * TEXT is "ID,ID,..." (an item may be "ID:KIND").  Prints one line per
 * token; returns the number printed, -1 if the list is malformed.
 */
static int
print_revoked(const struct zm_config *cfg, const struct cli_result *res,
    const char *user, const char *reason)
{
	struct kinds	 k = { NULL, 0, 0 };
	char		 when[32], kind[KIND_MAX];
	const char	*p, *q, *known;
	uint64_t	 id;
	size_t		 klen;
	int		 n = 0, loaded = 0;

	cli_time_utc(res->has_time ? res->time : 0, when, sizeof(when));
	for (p = res->text; *p != '\0'; p = *q == ',' ? q + 1 : q) {
		if (*p < '0' || *p > '9')
			goto bad;
		for (id = 0, q = p; *q >= '0' && *q <= '9'; q++) {
			if (id > (UINT64_MAX - 9) / 10)
				goto bad;
			id = id * 10 + (uint64_t)(*q - '0');
		}
		kind[0] = '\0';
		if (*q == ':') {
			klen = strcspn(q + 1, ",");
			if (klen == 0 || klen >= sizeof(kind))
				goto bad;
			memcpy(kind, q + 1, klen);
			kind[klen] = '\0';
			cli_sanitize(kind, kind, sizeof(kind));
			q += 1 + klen;
		}
		if (*q != ',' && *q != '\0')
			goto bad;
		if (kind[0] == '\0') {
			if (!loaded) {
				kinds_load(cfg, user, &k);
				loaded = 1;
			}
			if ((known = kinds_find(&k, id)) != NULL)
				snprintf(kind, sizeof(kind), "%s", known);
		}
		if (kind[0] != '\0')
			printf(_("revoked: token %llu (%s) of %s at %s, reason %s\n"),
			    (unsigned long long)id, kind, user, when, reason);
		else
			printf(_("revoked: token %llu of %s at %s, reason %s\n"),
			    (unsigned long long)id, user, when, reason);
		n++;
	}
	free(k.v);
	return n;
bad:
	free(k.v);
	return -1;
}

static void
set_once(const char **slot, const char *val, const char *what)
{
	if (*slot != NULL)
		cli_errx(CLI_EXIT_USAGE, _("%s given more than once"), what);
	*slot = val;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "card", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct zm_config	*cfg = NULL;
	struct cli_conn		 c;
	struct cli_result	 res;
	struct zm_buf		 req;
	const char		*conf = NULL, *user = NULL, *token = NULL;
	const char		*serial = NULL, *reason = NULL, *sel = NULL;
	uint64_t		 token_id = 0;
	size_t			 i;
	int			 ch, r, rc = CLI_EXIT_FAIL, all = 0, n;

	memset(&res, 0, sizeof(res));
	memset(&c, 0, sizeof(c));
	c.fd = -1;
	zm_buf_init(&req, 0);
	cli_init("zonemfa-revoke", usage);
	while ((ch = getopt_long(argc, argv, ":c:u:t:s:ar:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			set_once(&conf, optarg, "-c");
			break;
		case 'u':
			set_once(&user, optarg, "--user");
			break;
		case 't':
			set_once(&sel, "--token", _("a token selector (--token, --card, --all)"));
			token = optarg;
			break;
		case 's':
			set_once(&sel, "--card", _("a token selector (--token, --card, --all)"));
			serial = optarg;
			break;
		case 'a':
			set_once(&sel, "--all", _("a token selector (--token, --card, --all)"));
			all = 1;
			break;
		case 'r':
			set_once(&reason, optarg, "--reason");
			break;
		case 'h':
			cli_help();
		default:
			cli_bad_option(ch, argv);
		}
	}
	if (optind < argc)
		cli_die_usage(_("unexpected argument '%s'"), argv[optind]);
	if (user == NULL)
		cli_die_usage(_("--user USER is required"));
	(void)cli_arg_user(user);
	if (sel == NULL)
		cli_die_usage(_("one of --token ID, --card SERIAL or --all is required"));
	if (reason == NULL)
		cli_die_usage(_("--reason is required"));
	for (i = 0; i < NREASONS; i++)
		if (strcmp(reason, reasons[i]) == 0)
			break;
	if (i == NREASONS)
		cli_errx(CLI_EXIT_USAGE, _("invalid reason '%s': expected lost, stolen, replaced, leaver or compromised"),
		    reason);
	if (token != NULL)
		token_id = cli_arg_number(token, 1, INT64_MAX, _("token id"));
	if (serial != NULL) {
		if (serial[0] == '\0' || strlen(serial) > SERIAL_MAX)
			cli_errx(CLI_EXIT_USAGE, _("invalid card serial: 1 to %d characters"),
			    SERIAL_MAX);
		for (i = 0; serial[i] != '\0'; i++)
			if ((unsigned char)serial[i] <= 0x20 ||
			    (unsigned char)serial[i] >= 0x7f)
				cli_errx(CLI_EXIT_USAGE, _("invalid card serial: printable ASCII without spaces"));
	}
	cfg = cli_config_load(conf);

	if ((r = cli_msg_begin(&req, ZM_REQ_REVOKE)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (token && (r = zm_msg_add_u64(&req, ZM_T_TOKEN_ID, token_id)) != ZM_OK) ||
	    (serial && (r = zm_msg_add_str(&req, ZM_T_SERIAL, serial)) != ZM_OK) ||
	    (all && (r = zm_msg_add_u32(&req, ZM_T_ALL, 1)) != ZM_OK) ||
	    (r = zm_msg_add_str(&req, ZM_T_REASON, reason)) != ZM_OK ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	if ((r = cli_connect(cfg, &c)) != ZM_OK) {
		if (geteuid() != 0) {
			cli_warn_unreachable(&c, _("revocation NOT recorded: "));
			goto out;
		}
		/* Root records it in the registry itself (SPEC). */
		cli_warn_unreachable(&c, "");
		r = revoke_offline(cfg, user, (int64_t)token_id, serial, reason,
		    &res);
		if (r == ZM_ERR_NOTFOUND) {
			printf(_("nothing to revoke: no active token of %s matched\n"),
			    user);
			goto out;
		}
		if (r != ZM_OK) {
			cli_warnx(_("revocation NOT recorded: %s"), zm_strerror(r));
			goto out;
		}
		(void)print_revoked(cfg, &res, user, reason);
		cli_warnx(_("recorded in the registry, but sessions could not be ended: zonemfa-tokend is not running; start it to enforce the revocation on open sessions"));
		goto out;
	}
	if ((r = cli_request(&c, &req, NULL, NULL, &res)) != ZM_OK) {
		/* Sent, but no answer: the daemon may have recorded it. */
		cli_warnx(_("no answer from zonemfa-tokend (%s): the revocation may or may not be recorded; check with 'zonemfa-enroll list %s'"),
		    zm_strerror(r), user);
		goto out;
	}
	cli_close(&c);
	if (res.status != ZM_ST_OK && res.status != ZM_ST_PARTIAL) {
		rc = cli_report_status(&res);
		goto out;
	}
	if ((n = print_revoked(cfg, &res, user, reason)) < 0)
		cli_warnx(_("zonemfa-tokend sent a malformed token list"));
	else if (n == 0 && res.has_count2 && res.count2 > 0)
		printf(_("revoked: %u tokens of %s, reason %s\n"),
		    (unsigned)res.count2, user, reason);
	else if (n == 0 && res.text2[0] != '\0')
		printf(_("already revoked: tokens %s of %s\n"), res.text2,
		    user);
	else if (n == 0)
		printf(_("nothing to revoke: no active token of %s matched\n"),
		    user);
	printf(_("sessions ended: %u\n"), res.has_count ? res.count : 0);
	if (res.status == ZM_ST_PARTIAL) {
		cli_warnx(_("sessions could not all be ended"));
		goto out;
	}
	rc = n < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	cli_close(&c);
	cli_result_clear(&res);
	zm_buf_free(&req);
	zm_config_free(cfg);
	return cli_finish(rc);
}
