/*
 * zonemfa-enroll - the helpdesk tool: enrol tokens, list them, unlock,
 * disable and enable accounts.  Every decision (who may do what, separation
 * of duties) is the daemon's; this tool only asks and reports.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef HAVE_QRENCODE
#include <qrencode.h>
#endif

#include "buf.h"
#include "cli.h"
#include "import.h"
#include "conf.h"
#include "err.h"
#include "ipc.h"
#include "wipe.h"

/* The daemon's limits (tokend/admin.c, store.h): checked here for a clear message. */
#define LABEL_MAX	127
#define PERIOD_MIN	15
#define PERIOD_MAX	120
#define COL_MAX		512

struct subcmd {
	const char	*name;
	int		(*run)(struct zm_config **cfg, const char *conf,
			    int argc, char **argv);
	const char	*args;		/* for the usage text */
};

static int cmd_totp(struct zm_config **, const char *, int, char **);
static int cmd_list(struct zm_config **, const char *, int, char **);
static int cmd_unlock(struct zm_config **, const char *, int, char **);
static int cmd_disable(struct zm_config **, const char *, int, char **);
static int cmd_enable(struct zm_config **, const char *, int, char **);
static int cmd_fido2(struct zm_config **, const char *, int, char **);
static int cmd_card(struct zm_config **, const char *, int, char **);
static int cmd_replace_card(struct zm_config **, const char *, int, char **);
static int cmd_temp_code(struct zm_config **, const char *, int, char **);
static int cmd_temp_password(struct zm_config **, const char *, int, char **);

/* The commands of SPEC. */
static const struct subcmd subcmds[] = {
	{ "totp", cmd_totp, N_("USER [--algorithm SHA1|SHA256|SHA512] [--digits 6|8] [--period N] [--label TEXT]") },
	{ "card", cmd_card, N_("USER [--reader NAME]") },
	{ "fido2", cmd_fido2, N_("USER [--label TEXT]") },
	{ "replace-card", cmd_replace_card, N_("USER [--reader NAME]") },
	{ "list", cmd_list, N_("[USER]") },
	{ "unlock", cmd_unlock, N_("USER") },
	{ "disable", cmd_disable, N_("USER") },
	{ "enable", cmd_enable, N_("USER") },
	{ "temp-code", cmd_temp_code, N_("USER --valid DURATION (at most 7d)") },
	{ "temp-password", cmd_temp_password, N_("USER") },
	{ "import", zm_enroll_import, N_("FILE [--dry-run]") },
};
#define NSUBCMDS	(sizeof(subcmds) / sizeof(subcmds[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, _("usage: %s [-c FILE] COMMAND [ARGS]\n"), cli_prog);
	for (i = 0; i < NSUBCMDS; i++)
		fprintf(f, "       %s [-c FILE] %s %s\n", cli_prog,
		    subcmds[i].name, _(subcmds[i].args));
	fprintf(f, _("  -c FILE  configuration file (default %s)\n"),
	    ZM_DEFAULT_CONF);
}

/* Connect, send, and turn the outcome into an exit status. */
static int
exchange(const struct zm_config *cfg, struct zm_buf *req, cli_row_fn fn,
    void *arg, struct cli_result *res)
{
	struct cli_conn	c;
	int		r;

	cli_connect_or_die(cfg, &c);
	if ((r = cli_request(&c, req, fn, arg, res)) != ZM_OK) {
		cli_warnx(_("no answer from zonemfa-tokend at %s: %s"),
		    c.socket, zm_strerror(r));
		cli_close(&c);
		return CLI_EXIT_FAIL;
	}
	cli_close(&c);
	if (res->status != ZM_ST_OK)
		return cli_report_status(res);
	return CLI_EXIT_OK;
}

/*
 * Per-command options: GNU getopt permutes, so "totp alice --digits 8"
 * and "totp --digits 8 alice" both work.  -c is accepted here too.
 */
static const char *
sub_getopt(int argc, char **argv, const char *shortopts,
    const struct option *longopts, int (*handle)(int, const char *, void *),
    void *arg, const char *conf_in, const char **conf_out)
{
	int ch;

	*conf_out = conf_in;
	optind = 0;	/* glibc: full re-initialisation for the new vector */
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ch == 'c')
			*conf_out = optarg;
		else if (ch == 'h')
			cli_help();
		else if (ch == '?' || ch == ':' || handle == NULL ||
		    handle(ch, optarg, arg) != 0)
			cli_bad_option(ch, argv);
	}
	return optind < argc ? argv[optind] : NULL;
}

/* Exactly one USER operand; validated. */
static const char *
one_user(int argc, char **argv, const char *cmd)
{
	if (optind >= argc)
		cli_die_usage(_("%s: missing USER"), cmd);
	if (argc - optind > 1)
		cli_die_usage(_("%s: too many arguments"), cmd);
	return cli_arg_user(argv[optind]);
}

/* ---- totp ---- */

struct totp_opts {
	const char	*algo;
	uint32_t	 digits, period;
	const char	*label;
};

static int
totp_opt(int ch, const char *val, void *arg)
{
	struct totp_opts	*o = arg;
	const char		*const algos[] = { "SHA1", "SHA256", "SHA512" };
	size_t			 i;

	switch (ch) {
	case 'a':
		for (i = 0; i < 3; i++)
			if (strcasecmp(val, algos[i]) == 0)
				o->algo = algos[i];
		if (o->algo == NULL)
			cli_errx(CLI_EXIT_USAGE, _("invalid algorithm '%s': expected SHA1, SHA256 or SHA512"),
			    val);
		return 0;
	case 'd':
		if (strcmp(val, "6") != 0 && strcmp(val, "8") != 0)
			cli_errx(CLI_EXIT_USAGE,
			    _("invalid digits '%s': expected 6 or 8"), val);
		o->digits = val[0] == '6' ? 6 : 8;
		return 0;
	case 'p':
		o->period = (uint32_t)cli_arg_number(val, PERIOD_MIN, PERIOD_MAX,
		    _("period (seconds)"));
		return 0;
	case 'l':
		if (strlen(val) > LABEL_MAX)
			cli_errx(CLI_EXIT_USAGE, _("label too long (at most %d bytes)"),
			    LABEL_MAX);
		for (i = 0; val[i] != '\0'; i++)
			if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
				cli_errx(CLI_EXIT_USAGE,
				    _("label contains a control character"));
		o->label = val;
		return 0;
	default:
		return -1;
	}
}

/* Everything that came from the URI is written with write(2) from buffers
 * we wipe, not through stdio whose buffer we cannot clear. */
static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t	*b = p;
	ssize_t		 k;

	while (n > 0) {
		if ((k = write(fd, b, n)) == -1) {
			if (errno == EINTR)
				continue;
			return ZM_ERR_IO;
		}
		b += k;
		n -= (size_t)k;
	}
	return ZM_OK;
}

#ifdef HAVE_QRENCODE
#define QR_QUIET	2	/* modules of quiet zone around the code */

static int
qr_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 0;
	return q->data[y * q->width + x] & 1;
}

/*
 * Two module rows per text line with half blocks; fixed black on white
 * (ANSI 30/47) so the code scans on dark and light terminal themes.
 */
static int
qr_render(const char *uri, struct zm_buf *out)
{
	static const char *const cell[4] = { " ", "\xe2\x96\x84", "\xe2\x96\x80",
	    "\xe2\x96\x88" };	/* none, lower, upper, both dark */
	QRcode	*q;
	int	 x, y, r = ZM_ERR_INTERNAL, lo, hi;

	if ((q = QRcode_encodeString(uri, 0, QR_ECLEVEL_L, QR_MODE_8, 1)) == NULL)
		return ZM_ERR_NOMEM;
	lo = -QR_QUIET;
	hi = q->width + QR_QUIET;
	for (y = lo; y < hi; y += 2) {
		if ((r = zm_buf_put(out, "\033[30;47m", 8)) != ZM_OK)
			goto out;
		for (x = lo; x < hi; x++) {
			const char *s = cell[qr_dark(q, x, y) << 1 |
			    qr_dark(q, x, y + 1)];

			if ((r = zm_buf_put(out, s, strlen(s))) != ZM_OK)
				goto out;
		}
		if ((r = zm_buf_put(out, "\033[0m\n", 5)) != ZM_OK)
			goto out;
	}
	r = ZM_OK;
out:
	zm_wipe(q->data, (size_t)q->width * (size_t)q->width);
	QRcode_free(q);
	return r;
}
#endif

static int
cmd_totp(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "digits", required_argument, NULL, 'd' },
		{ "period", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct totp_opts	 o;
	struct cli_result	 res;
	struct zm_buf		 req, out;
	const char		*user;
	int			 r, rc = CLI_EXIT_FAIL, tty;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	zm_buf_init(&out, 1024 * 1024);
	(void)sub_getopt(argc, argv, ":a:d:p:l:c:h", longopts, totp_opt, &o,
	    conf, &conf);
	user = one_user(argc, argv, "totp");
	*cfg = cli_config_load(conf);
	if ((r = cli_msg_begin(&req, ZM_REQ_ENROLL_TOTP)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (o.algo && (r = zm_msg_add_str(&req, ZM_T_ALGO, o.algo)) != ZM_OK) ||
	    (o.digits && (r = zm_msg_add_u32(&req, ZM_T_DIGITS, o.digits)) != ZM_OK) ||
	    (o.period && (r = zm_msg_add_u32(&req, ZM_T_PERIOD, o.period)) != ZM_OK) ||
	    (o.label && (r = zm_msg_add_str(&req, ZM_T_LABEL, o.label)) != ZM_OK) ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	if ((rc = exchange(*cfg, &req, NULL, NULL, &res)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_FAIL;
	if (strncmp(res.text, "otpauth://", 10) != 0) {
		cli_warnx(_("zonemfa-tokend did not return an otpauth URI"));
		goto out;
	}
	tty = isatty(STDOUT_FILENO);
	if (fflush(stdout) == EOF)
		goto out;
#ifdef HAVE_QRENCODE
	if (tty && (r = qr_render(res.text, &out)) != ZM_OK) {
		cli_warnx(_("cannot draw the QR code: %s"), zm_strerror(r));
		zm_buf_reset(&out);
	}
#endif
	if ((r = zm_buf_put(&out, res.text, strlen(res.text))) != ZM_OK ||
	    (r = zm_buf_put(&out, "\n", 1)) != ZM_OK ||
	    (r = write_all(STDOUT_FILENO, out.data, out.len)) != ZM_OK) {
		cli_warnx(_("cannot print the URI: %s"), zm_strerror(r));
		goto out;
	}
	if (tty)
		printf(_("shown once: store it in the authenticator now\n"));
	if (res.has_token_id)
		fprintf(stderr, _("enrolled: token %llu (totp) for %s\n"),
		    (unsigned long long)res.token_id, user);
	rc = CLI_EXIT_OK;
out:
	zm_buf_free(&req);
	zm_buf_free(&out);
	cli_result_clear(&res);
	return rc;
}

/* ---- fido2 ---- */

static int
label_opt(int ch, const char *val, void *arg)
{
	if (ch != 'l' || strlen(val) > LABEL_MAX)
		return -1;
	*(const char **)arg = val;
	return 0;
}

/* The key is at the daemon's terminal: the daemon waits for the touch. */
static int
cmd_fido2(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_result	 res;
	struct zm_buf		 req;
	const char		*user, *label = NULL;
	char			 ident[COL_MAX];
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	(void)sub_getopt(argc, argv, ":l:c:h", longopts, label_opt, &label,
	    conf, &conf);
	user = one_user(argc, argv, "fido2");
	*cfg = cli_config_load(conf);
	if ((r = cli_msg_begin(&req, ZM_REQ_ENROLL_FIDO2)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (label && (r = zm_msg_add_str(&req, ZM_T_LABEL, label)) != ZM_OK) ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	fprintf(stderr, _("touch the security key at the terminal now\n"));
	if ((rc = exchange(*cfg, &req, NULL, NULL, &res)) != CLI_EXIT_OK)
		goto out;
	cli_sanitize(res.text, ident, sizeof(ident));
	printf(_("enrolled: token %llu (fido2) for %s, credential %s\n"),
	    (unsigned long long)res.token_id, user, ident);
	rc = fflush(stdout) == EOF ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	zm_buf_free(&req);
	cli_result_clear(&res);
	return rc;
}

/* ---- card, replace-card ---- */

static int
card_opt(int ch, const char *val, void *arg)
{
	const char **reader = arg;

	if (ch != 'r' || val[0] == '\0' || strlen(val) > 127)
		return -1;
	*reader = val;
	return 0;
}

/*
 * The daemon proves the card (PIN + signature over a fresh challenge)
 * and binds it; the PIN goes to the daemon once and is wiped here.
 */
static int
enrol_card(struct zm_config **cfg, const char *conf, int argc, char **argv,
    int replace)
{
	static const struct option longopts[] = {
		{ "reader", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*cmd = replace ? "replace-card" : "card";
	const char		*reader = NULL, *user;
	struct cli_result	 res;
	struct zm_buf		 req;
	char			 pin[64];
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	memset(pin, 0, sizeof(pin));
	zm_buf_init(&req, 0);
	(void)sub_getopt(argc, argv, ":r:c:h", longopts, card_opt, &reader,
	    conf, &conf);
	user = one_user(argc, argv, cmd);
	*cfg = cli_config_load(conf);
	if ((r = cli_read_secret(_("Card PIN: "), pin, sizeof(pin))) != ZM_OK) {
		cli_warnx(_("no PIN given"));
		goto out;
	}
	if ((r = cli_msg_begin(&req, ZM_REQ_ENROLL_CARD)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_ANSWER, pin)) != ZM_OK ||
	    (reader != NULL &&
	    (r = zm_msg_add_str(&req, ZM_T_READER, reader)) != ZM_OK) ||
	    (replace &&
	    (r = zm_msg_add_u32(&req, ZM_T_FLAGS, ZM_ENROLL_REPLACE)) != ZM_OK) ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	zm_wipe(pin, sizeof(pin));
	if ((rc = exchange(*cfg, &req, NULL, NULL, &res)) != CLI_EXIT_OK)
		goto out;
	{
		char ident[256], prof[32];

		cli_sanitize(res.text, ident, sizeof(ident));
		cli_sanitize(res.text2, prof, sizeof(prof));
		printf(_("enrolled: token %llu (card, %s %s) for %s\n"),
		    (unsigned long long)res.token_id, prof, ident, user);
		if (replace)
			printf(_("replaced: %u old card(s) of %s can never be "
			    "used again\n"), res.count2, user);
	}
	rc = CLI_EXIT_OK;
out:
	zm_wipe(pin, sizeof(pin));
	zm_buf_free(&req);
	cli_result_clear(&res);
	return rc;
}

static int
cmd_card(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	return enrol_card(cfg, conf, argc, argv, 0);
}

static int
cmd_replace_card(struct zm_config **cfg, const char *conf, int argc,
    char **argv)
{
	return enrol_card(cfg, conf, argc, argv, 1);
}

/* ---- list ---- */

enum { COL_ID, COL_USER, COL_KIND, COL_STATE, COL_LABEL, COL_CREATED,
    COL_LAST, NCOLS };

struct row {
	char	col[NCOLS][COL_MAX];
};

struct rows {
	struct row	*v;
	size_t		 n, cap;
};

static int
row_str(const struct zm_msg *m, uint16_t tag, char *out, size_t outlen)
{
	char	tmp[ZM_IPC_MAX_STR + 1];
	int	r;

	if ((r = zm_msg_get_str(m, tag, tmp, sizeof(tmp))) == ZM_ERR_NOTFOUND)
		tmp[0] = '\0';
	else if (r != ZM_OK)
		return r;
	cli_sanitize(tmp[0] != '\0' ? tmp : "-", out, outlen);
	return ZM_OK;
}

static int
row_time(const struct zm_msg *m, uint16_t tag, char *out, size_t outlen)
{
	uint64_t	t = 0;
	int		r;

	if ((r = zm_msg_get_u64(m, tag, &t)) != ZM_OK && r != ZM_ERR_NOTFOUND)
		return r;
	cli_time_local(t, out, outlen);
	return ZM_OK;
}

/* Columns are separated by two or more spaces: a label must not contain such a run. */
static void
squeeze_spaces(char *s)
{
	char	*w = s;
	int	 prev_space = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' && prev_space)
			continue;
		prev_space = *s == ' ';
		*w++ = *s;
	}
	*w = '\0';
}

static int
list_row(const struct zm_msg *m, void *arg)
{
	struct rows	*rs = arg;
	struct row	*nv, *rw;
	uint64_t	 id;
	size_t		 ncap;
	int		 r;

	if (rs->n == rs->cap) {
		ncap = rs->cap ? rs->cap * 2 : 16;
		if (ncap > 1000000 ||
		    (nv = reallocarray(rs->v, ncap, sizeof(*nv))) == NULL)
			return ZM_ERR_NOMEM;
		rs->v = nv;
		rs->cap = ncap;
	}
	rw = &rs->v[rs->n];
	if ((r = zm_msg_get_u64(m, ZM_T_TOKEN_ID, &id)) != ZM_OK)
		return r == ZM_ERR_NOTFOUND ? ZM_ERR_PROTO : r;
	snprintf(rw->col[COL_ID], sizeof(rw->col[COL_ID]), "%llu",
	    (unsigned long long)id);
	if ((r = row_str(m, ZM_T_USER, rw->col[COL_USER],
	    sizeof(rw->col[COL_USER]))) != ZM_OK ||
	    (r = row_str(m, ZM_T_KIND, rw->col[COL_KIND],
	    sizeof(rw->col[COL_KIND]))) != ZM_OK ||
	    (r = row_str(m, ZM_T_STATE, rw->col[COL_STATE],
	    sizeof(rw->col[COL_STATE]))) != ZM_OK ||
	    (r = row_str(m, ZM_T_LABEL, rw->col[COL_LABEL],
	    sizeof(rw->col[COL_LABEL]))) != ZM_OK ||
	    (r = row_time(m, ZM_T_CREATED, rw->col[COL_CREATED],
	    sizeof(rw->col[COL_CREATED]))) != ZM_OK ||
	    (r = row_time(m, ZM_T_LAST_USED, rw->col[COL_LAST],
	    sizeof(rw->col[COL_LAST]))) != ZM_OK)
		return r;
	squeeze_spaces(rw->col[COL_LABEL]);
	rs->n++;
	return ZM_OK;
}

/* Display width: count UTF-8 lead bytes (labels may be Japanese; close enough). */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void
print_table(const struct row *hdr, const struct rows *rs)
{
	size_t	w[NCOLS], i, j;

	for (j = 0; j < NCOLS; j++)
		w[j] = width(hdr->col[j]);
	for (i = 0; i < rs->n; i++)
		for (j = 0; j < NCOLS; j++)
			if (width(rs->v[i].col[j]) > w[j])
				w[j] = width(rs->v[i].col[j]);
	for (i = 0; i <= rs->n; i++) {
		const struct row *rw = i == 0 ? hdr : &rs->v[i - 1];

		for (j = 0; j < NCOLS; j++) {
			fputs(rw->col[j], stdout);
			if (j + 1 < NCOLS)
				printf("%*s", (int)(w[j] - width(rw->col[j]) + 2), "");
		}
		putchar('\n');
	}
}

static int
cmd_list(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const names[NCOLS] = { "ID", "USER", "KIND", "STATE",
	    "LABEL", "CREATED", "LAST-USED" };
	struct cli_result	 res;
	struct zm_buf		 req;
	struct rows		 rs = { NULL, 0, 0 };
	struct row		 hdr;
	const char		*user = NULL;
	size_t			 j;
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	(void)sub_getopt(argc, argv, ":c:h", longopts, NULL, NULL, conf, &conf);
	if (argc - optind > 1)
		cli_die_usage(_("list: too many arguments"));
	if (optind < argc)
		user = cli_arg_user(argv[optind]);
	*cfg = cli_config_load(conf);
	if ((r = cli_msg_begin(&req, ZM_REQ_LIST)) != ZM_OK ||
	    (user && (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK) ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	if ((rc = exchange(*cfg, &req, list_row, &rs, &res)) != CLI_EXIT_OK)
		goto out;
	for (j = 0; j < NCOLS; j++)
		snprintf(hdr.col[j], sizeof(hdr.col[j]), "%s", names[j]);
	print_table(&hdr, &rs);
out:
	zm_buf_free(&req);
	free(rs.v);
	return rc;
}

/* ---- unlock, disable, enable ---- */

static int
simple(struct zm_config **cfg, const char *conf, int argc, char **argv,
    uint16_t type, const char *cmd, const char *done)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_result	 res;
	struct zm_buf		 req;
	const char		*user;
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	(void)sub_getopt(argc, argv, ":c:h", longopts, NULL, NULL, conf, &conf);
	user = one_user(argc, argv, cmd);
	*cfg = cli_config_load(conf);
	if ((r = cli_msg_begin(&req, type)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	if ((rc = exchange(*cfg, &req, NULL, NULL, &res)) == CLI_EXIT_OK)
		printf("%s %s\n", done, user);
out:
	zm_buf_free(&req);
	return rc;
}

static int
cmd_unlock(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	return simple(cfg, conf, argc, argv, ZM_REQ_UNLOCK, "unlock",
	    _("unlocked"));
}

static int
cmd_disable(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	return simple(cfg, conf, argc, argv, ZM_REQ_DISABLE, "disable",
	    _("disabled"));
}

static int
cmd_enable(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	return simple(cfg, conf, argc, argv, ZM_REQ_ENABLE, "enable",
	    _("enabled"));
}

/* ---- temp-code, temp-password: secrets shown once ---- */

#define TEMP_CODE_MAX_VALID	(7 * 86400)

static int
valid_opt(int ch, const char *val, void *arg)
{
	int64_t *valid = arg;

	if (ch != 'v')
		return -1;
	*valid = cli_arg_duration(val, _("--valid"));
	if (*valid <= 0 || *valid > TEMP_CODE_MAX_VALID)
		cli_errx(CLI_EXIT_USAGE,
		    _("--valid must be between 1s and 7d, got '%s'"), val);
	return 0;
}

/* Print secret (and a newline) with write(2) from a buffer we wipe. */
static int
print_secret(const char *secret)
{
	struct zm_buf	out;
	int		r;

	zm_buf_init(&out, 4096);
	if (fflush(stdout) == EOF)
		r = ZM_ERR_IO;
	else if ((r = zm_buf_put(&out, secret, strlen(secret))) == ZM_OK &&
	    (r = zm_buf_put(&out, "\n", 1)) == ZM_OK)
		r = write_all(STDOUT_FILENO, out.data, out.len);
	zm_buf_free(&out);
	return r;
}

static int
cmd_temp_code(struct zm_config **cfg, const char *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "valid", required_argument, NULL, 'v' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_result	 res;
	struct zm_buf		 req;
	const char		*user;
	char			 until[32];
	int64_t			 valid = 0;
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	(void)sub_getopt(argc, argv, ":v:c:h", longopts, valid_opt, &valid,
	    conf, &conf);
	user = one_user(argc, argv, "temp-code");
	if (valid == 0)
		cli_die_usage(_("temp-code: --valid DURATION is required"));
	*cfg = cli_config_load(conf);
	if ((r = cli_msg_begin(&req, ZM_REQ_TEMP_CODE)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (r = zm_msg_add_u64(&req, ZM_T_DURATION, (uint64_t)valid)) != ZM_OK ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	if ((rc = exchange(*cfg, &req, NULL, NULL, &res)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_FAIL;
	if (res.text[0] == '\0') {
		cli_warnx(_("zonemfa-tokend did not return a code"));
		goto out;
	}
	if ((r = print_secret(res.text)) != ZM_OK) {
		cli_warnx(_("cannot print the code: %s"), zm_strerror(r));
		goto out;
	}
	cli_time_local(res.time, until, sizeof(until));
	fprintf(stderr, _("temporary code for %s (token %llu): valid until %s, "
	    "one use only, shown once\n"), user,
	    (unsigned long long)res.token_id, until);
	rc = CLI_EXIT_OK;
out:
	zm_buf_free(&req);
	cli_result_clear(&res);
	return rc;
}

static int
cmd_temp_password(struct zm_config **cfg, const char *conf, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_result	 res;
	struct zm_buf		 req;
	const char		*user;
	int			 r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	(void)sub_getopt(argc, argv, ":c:h", longopts, NULL, NULL, conf, &conf);
	user = one_user(argc, argv, "temp-password");
	*cfg = cli_config_load(conf);
	if ((r = cli_msg_begin(&req, ZM_REQ_TEMP_PASSWORD)) != ZM_OK ||
	    (r = zm_msg_add_str(&req, ZM_T_USER, user)) != ZM_OK ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	if ((rc = exchange(*cfg, &req, NULL, NULL, &res)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_FAIL;
	if (res.text[0] == '\0') {
		cli_warnx(_("zonemfa-tokend did not return a password"));
		goto out;
	}
	if ((r = print_secret(res.text)) != ZM_OK) {
		cli_warnx(_("cannot print the password: %s"), zm_strerror(r));
		goto out;
	}
	fprintf(stderr, _("temporary password for %s: shown once; it must be "
	    "changed at the first login\n"), user);
	rc = CLI_EXIT_OK;
out:
	zm_buf_free(&req);
	cli_result_clear(&res);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct zm_config	*cfg = NULL;
	const char		*conf = NULL;
	size_t			 i;
	int			 ch, rc;

	cli_init("zonemfa-enroll", usage);
	/* "+": stop at the command; its own options are parsed by it. */
	while ((ch = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			cli_help();
		default:
			cli_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		cli_die_usage(_("missing command"));
	for (i = 0; i < NSUBCMDS; i++)
		if (strcmp(argv[0], subcmds[i].name) == 0)
			break;
	if (i == NSUBCMDS)
		cli_die_usage(_("unknown command '%s'"), argv[0]);
	rc = subcmds[i].run(&cfg, conf, argc, argv);
	zm_config_free(cfg);
	return cli_finish(rc);
}
