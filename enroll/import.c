/*
 * import.c - zonemfa-enroll import FILE [--dry-run]: the April personnel
 * change (異動).  The file goes to zonemfa-tokend as it is; the daemon
 * checks every row (syntax, users, separation of duties) and applies the
 * whole file in one transaction or nothing (tokend/admin_import.c).  We
 * print what it says, row by row, and the summary.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "import.h"

/* The file and the rest of the request fit one message. */
#define IMPORT_FILE_MAX	(ZM_IPC_MAX_BODY - 1024)

static int
read_file(const char *path, struct zm_buf *out)
{
	struct stat	st;
	char		chunk[4096];
	ssize_t		n;
	int		fd, r = ZM_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_warnx(_("cannot open %s: %s"), path, strerror(errno));
		return ZM_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cli_warnx(_("%s: not a regular file"), path);
		close(fd);
		return ZM_ERR_IO;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > IMPORT_FILE_MAX) {
			cli_warnx(_("%s: larger than %d bytes: split it into "
			    "several files"), path, IMPORT_FILE_MAX);
			r = ZM_ERR_TOOBIG;
			break;
		}
		if ((r = zm_buf_put(out, chunk, (size_t)n)) != ZM_OK)
			break;
	}
	if (n < 0) {
		cli_warnx(_("cannot read %s: %s"), path, strerror(errno));
		r = ZM_ERR_IO;
	}
	close(fd);
	return r;
}

static int
print_row(const struct zm_msg *m, void *arg)
{
	char		user[ZM_IPC_MAX_STR + 1], action[32];
	char		text[ZM_IPC_MAX_STR + 1];
	uint32_t	line = 0;

	(void)arg;
	if (zm_msg_get_u32(m, ZM_T_COUNT, &line) != 0 ||
	    zm_msg_get_str(m, ZM_T_USER, user, sizeof(user)) != 0 ||
	    zm_msg_get_str(m, ZM_T_KIND, action, sizeof(action)) != 0 ||
	    zm_msg_get_str(m, ZM_T_TEXT, text, sizeof(text)) != 0)
		return ZM_ERR_PROTO;
	printf(_("line %u: %s %s: %s\n"), (unsigned)line,
	    action[0] != '\0' ? action : "-", user[0] != '\0' ? user : "-",
	    text);
	return ZM_OK;
}

int
zm_enroll_import(struct zm_config **cfg, const char *conf, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_result	 res;
	struct cli_conn		 c;
	struct zm_buf		 file, req;
	uint32_t		 flags = 0;
	int			 ch, r, rc = CLI_EXIT_FAIL;

	memset(&res, 0, sizeof(res));
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":c:nh", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'n')
			flags |= ZM_IMPORT_DRY_RUN;
		else if (ch == 'h')
			cli_help();
		else
			cli_bad_option(ch, argv);
	}
	if (optind >= argc)
		cli_die_usage(_("import: missing FILE"));
	if (argc - optind > 1)
		cli_die_usage(_("import: too many arguments"));
	*cfg = cli_config_load(conf);
	zm_buf_init(&file, IMPORT_FILE_MAX);
	zm_buf_init(&req, ZM_IPC_HDR_LEN + ZM_IPC_MAX_BODY);
	if (read_file(argv[optind], &file) != ZM_OK)
		goto out;
	if ((r = cli_msg_begin(&req, ZM_REQ_IMPORT)) != ZM_OK ||
	    (r = zm_msg_add_bytes(&req, ZM_T_DATA, file.data,
	    file.len)) != ZM_OK ||
	    (r = zm_msg_add_u32(&req, ZM_T_FLAGS, flags)) != ZM_OK ||
	    (r = zm_msg_end(&req)) != ZM_OK) {
		cli_warnx("%s", zm_strerror(r));
		goto out;
	}
	cli_connect_or_die(*cfg, &c);
	if ((r = cli_request(&c, &req, print_row, NULL, &res)) != ZM_OK) {
		cli_warnx(_("no answer from zonemfa-tokend at %s: %s"),
		    c.socket, zm_strerror(r));
		cli_close(&c);
		goto out;
	}
	cli_close(&c);
	if (res.status == ZM_ST_OK) {
		printf("%s\n", res.text);
		rc = CLI_EXIT_OK;
	} else if (res.status == ZM_ST_INVALID || res.status == ZM_ST_SELF ||
	    res.status == ZM_ST_PERM) {
		cli_warnx(_("import refused, nothing changed: %s"),
		    res.text[0] != '\0' ? res.text :
		    cli_status_message(res.status));
		rc = res.status == ZM_ST_INVALID && res.text[0] == '\0' ?
		    CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	} else if (res.status == ZM_ST_PARTIAL) {
		printf("%s\n", res.text);
		cli_warnx(_("applied, but not every session could be ended"));
	} else
		rc = cli_report_status(&res);
 out:
	cli_result_clear(&res);
	zm_buf_free(&file);
	zm_buf_free(&req);
	return rc;
}
