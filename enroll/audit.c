/*
 * zonemfa-audit - check the audit log's hash chain and summarise it.
 *
 * The log is read directly: who may read it is the file's mode (root and
 * admin_group), so this tool needs no daemon and works when it is down.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auditrec.h"
#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "err.h"

static void
usage(FILE *f)
{
	fprintf(f, _("usage: %s [-c FILE] verify [LOG...]\n"
	    "       %s [-c FILE] report [--since YYYY-MM-DD] [--user USER]\n"
	    "              [--format table|csv] [--bom] [--section NAME]\n"
	    "       %s [-c FILE] dormant [--days N] [--zone NAME]\n"),
	    cli_prog, cli_prog, cli_prog);
	fprintf(f, _("  -c FILE  configuration file (default %s)\n"),
	    ZM_DEFAULT_CONF);
}

/* Opens the log without following links; a reason on stderr if it cannot. */
static FILE *
log_open_path(const struct zm_config *cfg, const char *path)
{
	struct stat	 st;
	FILE		*f;
	int		 fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		e = errno;
		if (e == EACCES || e == EPERM)
			cli_warnx(_("cannot open audit log %s: %s (reading it needs root or group %s)"),
			    path, strerror(e), cfg->admin_group);
		else if (e == ELOOP)
			cli_warnx(_("cannot open audit log %s: it is a symbolic link"),
			    path);
		else
			cli_warnx(_("cannot open audit log %s: %s"),
			    path, strerror(e));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cli_warnx(_("cannot open audit log %s: not a regular file"),
		    path);
		close(fd);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		cli_warnx(_("cannot open audit log %s: %s"), path,
		    strerror(errno));
		close(fd);
	}
	return f;
}

static FILE *
log_open(const struct zm_config *cfg)
{
	return log_open_path(cfg, cfg->audit_log);
}

/*
 * The chain start: 64 zeros for a log that begins at seq 1; after a
 * rotation the daemon continues the chain in a new file, whose first
 * record names the hash of a line we do not have.  Its prev is then
 * taken as given (*rotated_from = its seq) and the rest is checked.
 */
static int
chain_start(FILE *f, char prev[ZM_AUDIT_HASH_HEX], uint64_t *rotated_from)
{
	struct zm_audit_rec	 rec;
	char			*line = NULL;
	size_t			 cap = 0, len;
	ssize_t			 k;
	int			 rotated = 0;

	*rotated_from = 0;
	if ((k = getline(&line, &cap, f)) > 0) {
		len = (size_t)k;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len <= ZM_AUDIT_MAX_LINE &&
		    zm_auditrec_parse(line, len, &rec) == ZM_OK && rec.seq > 1) {
			memcpy(prev, rec.prev, ZM_AUDIT_HASH_HEX);
			prev[ZM_AUDIT_HASH_HEX - 1] = '\0';
			*rotated_from = rec.seq;
			rotated = 1;
		}
	}
	free(line);
	rewind(f);
	return rotated;
}

/*
 * 0 intact, 1 tampered (message printed), -1 unreadable (message printed).
 * start: the chain must continue from this hash (the previous file of a
 * rotated log), NULL to take the file's own start.  head/last_seq
 * (optional): the hash and seq of the last record.
 */
static int
log_verify_path(const struct zm_config *cfg, const char *path, FILE *f,
    const char *start, uint64_t *nrec, char head[ZM_AUDIT_HASH_HEX],
    uint64_t *last_seq)
{
	uint64_t	bad_line = 0, bad_seq = 0, rotated_from;
	char		why[256], clean[256], seq[32], prev[ZM_AUDIT_HASH_HEX];
	int		r, rotated;

	why[0] = '\0';
	rotated = chain_start(f, prev, &rotated_from);
	r = zm_audit_verify_file(f, start != NULL ? start : rotated ? prev :
	    NULL, nrec, &bad_line, &bad_seq, why, sizeof(why), head);
	if (last_seq != NULL)
		*last_seq = (rotated ? rotated_from : 1) + *nrec - 1;
	if (r == ZM_OK) {
		if (rotated && start == NULL)
			cli_warnx(_("note: the log starts at seq %llu; the records before it are in an earlier (rotated) file"),
			    (unsigned long long)rotated_from);
		return 0;
	}
	if (r != ZM_ERR_INVALID) {
		cli_warnx(_("cannot read audit log %s: %s"), path,
		    zm_strerror(r));
		return -1;
	}
	cli_sanitize(why[0] != '\0' ? why : _("broken chain"), clean,
	    sizeof(clean));
	/* seq 0: the record did not even parse, so it has no sequence number. */
	if (bad_seq != 0)
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)bad_seq);
	else
		snprintf(seq, sizeof(seq), "%s", _("unknown"));
	/* SPEC: exit 1 with the message on stderr. */
	cli_warnx(_("audit log TAMPERED: first bad record at line %llu (seq %s): %s"),
	    (unsigned long long)bad_line, seq, clean);
	if (start != NULL || path != cfg->audit_log)
		cli_warnx(_("(in %s)"), path);
	return 1;
}

static int
log_verify(const struct zm_config *cfg, FILE *f, uint64_t *nrec)
{
	return log_verify_path(cfg, cfg->audit_log, f, NULL, nrec, NULL,
	    NULL);
}

/*
 * The head the daemon keeps in the store (ZM_REQ_AUDIT_HEAD): records cut
 * off the end of the log leave no trace in the file itself.  0 and *seq
 * set, or -1 when the daemon cannot tell us.
 */
static int
daemon_head(const struct zm_config *cfg, uint64_t *seq,
    char hash[ZM_AUDIT_HASH_HEX])
{
	struct cli_conn		c;
	struct cli_result	res;
	struct zm_buf		req;
	int			r = -1;

	memset(&res, 0, sizeof(res));
	if (cli_msg_begin(&req, ZM_REQ_AUDIT_HEAD) != ZM_OK ||
	    zm_msg_end(&req) != ZM_OK || cli_connect(cfg, &c) != ZM_OK) {
		zm_buf_free(&req);
		return -1;
	}
	if (cli_request(&c, &req, NULL, NULL, &res) == ZM_OK &&
	    res.status == ZM_ST_OK && res.has_seq &&
	    strlen(res.text) == ZM_AUDIT_HASH_HEX - 1) {
		*seq = res.seq;
		memcpy(hash, res.text, ZM_AUDIT_HASH_HEX);
		r = 0;
	}
	cli_close(&c);
	zm_buf_free(&req);
	cli_result_clear(&res);
	return r;
}

/*
 * verify [FILE...]: the files are one chain in order (rotated logs, oldest
 * first): each file's first record must name the previous file's last.
 * Without files: the configured log, and its end against the daemon's head.
 */
static int
cmd_verify(const struct zm_config *cfg, int nfiles, char **files)
{
	FILE		*f;
	uint64_t	 n = 0, total = 0, last = 0, dseq = 0;
	char		 head[ZM_AUDIT_HASH_HEX] = "", dhash[ZM_AUDIT_HASH_HEX];
	const char	*path;
	int		 v, i, have_daemon = -1;

	/* Asked first: records written while we read are after it. */
	if (nfiles == 0)
		have_daemon = daemon_head(cfg, &dseq, dhash);
	for (i = 0; i < (nfiles > 0 ? nfiles : 1); i++) {
		path = nfiles > 0 ? files[i] : cfg->audit_log;
		if ((f = log_open_path(cfg, path)) == NULL)
			return CLI_EXIT_FAIL;
		v = log_verify_path(cfg, path, f, i > 0 ? head : NULL, &n,
		    head, &last);
		fclose(f);
		if (v != 0)
			return CLI_EXIT_FAIL;
		total += n;
	}
	if (have_daemon == 0) {
		if (last < dseq) {
			cli_warnx(_("audit log TAMPERED: truncated: the log ends at seq %llu but zonemfa-tokend wrote seq %llu"),
			    (unsigned long long)last, (unsigned long long)dseq);
			return CLI_EXIT_FAIL;
		}
		if (last == dseq && strcmp(head, dhash) != 0) {
			cli_warnx(_("audit log TAMPERED: the last record (seq %llu) is not the one zonemfa-tokend wrote"),
			    (unsigned long long)last);
			return CLI_EXIT_FAIL;
		}
	} else if (nfiles == 0) {
		cli_warnx(_("note: zonemfa-tokend is not reachable: records cut off the end of the log cannot be detected"));
	}
	printf(_("audit log OK: %llu records\n"), (unsigned long long)total);
	return CLI_EXIT_OK;
}

/* ---- report ---- */

/* "YYYY-MM-DD" -> local midnight, exit 2 if malformed. */
static int64_t
since_parse(const char *s)
{
	struct tm	 tm;
	const char	*end;
	time_t		 t;
	int		 y, m, d;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10 || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL ||
	    *end != '\0')
		cli_errx(CLI_EXIT_USAGE, _("invalid date '%s': expected YYYY-MM-DD"), s);
	y = tm.tm_year;
	m = tm.tm_mon;
	d = tm.tm_mday;
	tm.tm_isdst = -1;
	/* mktime normalises 2026-02-31 to March: refuse what moved. */
	if ((t = mktime(&tm)) == (time_t)-1 || tm.tm_year != y ||
	    tm.tm_mon != m || tm.tm_mday != d)
		cli_errx(CLI_EXIT_USAGE, _("invalid date '%s': expected YYYY-MM-DD"), s);
	return (int64_t)t;
}

/* The chain is checked first: a tampered log still gets its report,
 * under a warning, and exit 1. */
static int
cmd_report(const struct zm_config *cfg, const struct audit_report_opts *o)
{
	FILE		*f;
	uint64_t	 n = 0;
	int		 rc = CLI_EXIT_FAIL, v;

	if ((f = log_open(cfg)) == NULL)
		return CLI_EXIT_FAIL;
	if ((v = log_verify(cfg, f, &n)) < 0)
		goto out;
	if (v > 0)
		cli_warnx(_("WARNING: the audit log has been tampered with; the report below is not trustworthy"));
	rewind(f);
	/* The shared-ID section is text only (not in CSV or --section). */
	if (audit_report(cfg, f, cfg->audit_log, o) == ZM_OK &&
	    (o->csv || o->section != NULL ||
	    (rewind(f), audit_report_shared(f, o->since, o->user)) == ZM_OK))
		rc = v > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	fclose(f);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "days", required_argument, NULL, 'd' },
		{ "zone", required_argument, NULL, 'z' },
		{ "format", required_argument, NULL, 'F' },
		{ "section", required_argument, NULL, 'S' },
		{ "bom", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct zm_config	*cfg = NULL;
	const char		*conf = NULL, *cmd, *user = NULL;
	const char		*since = NULL, *days = NULL, *zone = NULL;
	const char		*format = NULL, *section = NULL;
	struct audit_report_opts ro;
	int			 bom = 0;
	int64_t			 since_t = INT64_MIN;
	int			 ch, rc;

	cli_init("zonemfa-audit", usage);
	/* Options may come before or after the command (GNU permutation). */
	while ((ch = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'd':
			days = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case 'S':
			section = optarg;
			break;
		case 'B':
			bom = 1;
			break;
		case 'h':
			cli_help();
		default:
			cli_bad_option(ch, argv);
		}
	}
	if (optind >= argc)
		cli_die_usage(_("missing command"));
	cmd = argv[optind];
	if (argc - optind > 1 && strcmp(cmd, "verify") != 0)
		cli_die_usage(_("unexpected argument '%s'"), argv[optind + 1]);
	if (strcmp(cmd, "verify") == 0) {
		if (since || user || days || zone || format || section || bom)
			cli_die_usage(_("verify takes no options"));
		cfg = cli_config_load(conf);
		rc = cmd_verify(cfg, argc - optind - 1, argv + optind + 1);
	} else if (strcmp(cmd, "report") == 0) {
		if (days || zone)
			cli_die_usage(_("--days and --zone belong to dormant"));
		if (user != NULL)
			(void)cli_arg_user(user);
		if (since != NULL)
			since_t = since_parse(since);
		if (format != NULL && strcmp(format, "table") != 0 &&
		    strcmp(format, "csv") != 0)
			cli_die_usage(_("unknown format '%s': table or csv"),
			    format);
		if (bom && (format == NULL || strcmp(format, "csv") != 0))
			cli_die_usage(_("--bom belongs to --format csv"));
		if (section != NULL && !audit_report_section_valid(section))
			cli_die_usage(_("unknown section '%s': one of %s"),
			    section, audit_report_sections());
		memset(&ro, 0, sizeof(ro));
		ro.since = since_t;
		ro.user = user;
		ro.csv = format != NULL && strcmp(format, "csv") == 0;
		ro.bom = bom;
		ro.section = section;
		cfg = cli_config_load(conf);
		rc = cmd_report(cfg, &ro);
	} else if (strcmp(cmd, "dormant") == 0) {
		if (since || user || format || section || bom)
			cli_die_usage(_("dormant takes only --days and --zone"));
		if (days != NULL)
			(void)cli_arg_number(days, 0, 36500, _("days"));
		cfg = cli_config_load(conf);
		rc = audit_dormant(cfg, zone, days);
	} else
		cli_die_usage(_("unknown command '%s'"), cmd);
	zm_config_free(cfg);
	return cli_finish(rc);
}
