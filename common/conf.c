/*
 * conf.c - zonemfa.conf(5): built-in defaults, loading a file safely,
 * PAM module arguments, and the small accessors.  The INI parser itself is
 * in conf_parse.c.
 */
#include <config.h>

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "err.h"
#include "wipe.h"

/* The config file is small; anything bigger is not a config file. */
#define ZM_CONF_MAX_SIZE	(1024 * 1024)

int
zm_errlist_addf(struct zm_errlist *e, const char *fmt, ...)
{
	va_list	  ap;
	char	 *s = NULL, **nm;
	int	  n;

	if (e == NULL)
		return ZM_OK;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ZM_ERR_INTERNAL;
	if ((s = malloc((size_t)n + 1)) == NULL)
		return ZM_ERR_NOMEM;
	va_start(ap, fmt);
	if (vsnprintf(s, (size_t)n + 1, fmt, ap) != n) {
		va_end(ap);
		free(s);
		return ZM_ERR_INTERNAL;
	}
	va_end(ap);
	if ((nm = reallocarray(e->msg, e->n + 1, sizeof(*nm))) == NULL) {
		free(s);
		return ZM_ERR_NOMEM;
	}
	e->msg = nm;
	e->msg[e->n++] = s;
	return ZM_OK;
}

void
zm_errlist_free(struct zm_errlist *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}

/* Copy src into a fixed field; the field is left empty if src does not fit. */
static int
copy_name(char *dst, size_t dstlen, const char *src)
{
	int n = snprintf(dst, dstlen, "%s", src);

	if (n < 0 || (size_t)n >= dstlen) {
		dst[0] = '\0';
		return ZM_ERR_TOOBIG;
	}
	return ZM_OK;
}

static void
set_groups(struct zm_zone *z, const char *const *g, size_t n)
{
	size_t i;

	memset(z->privileged_groups, 0, sizeof(z->privileged_groups));
	z->n_privileged_groups = 0;
	for (i = 0; i < n && i < ZM_MAX_GROUPS; i++) {
		if (copy_name(z->privileged_groups[i],
		    sizeof(z->privileged_groups[i]), g[i]) != ZM_OK)
			break;
		z->n_privileged_groups = i + 1;
	}
}

int
zm_zone_builtin(const char *name)
{
	return strcmp(name, "mynumber") == 0 || strcmp(name, "lgwan") == 0 ||
	    strcmp(name, "internet") == 0;
}

void
zm_zone_init(struct zm_zone *z, const char *name)
{
	static const char *const privgroups[] = { "wheel", "zonemfa-admin" };

	free(z->banner);
	memset(z, 0, sizeof(*z));
	(void)copy_name(z->name, sizeof(z->name), name);
	/* The values of a zone the file introduces: strict by default. */
	z->require = ZM_CLASS_KNOWLEDGE | ZM_CLASS_POSSESSION;
	z->methods = ZM_METHOD_CARD | ZM_METHOD_FIDO2 | ZM_METHOD_TOTP;
	z->password = ZM_PASSWORD_STACK;
	z->max_failures = 5;
	z->lockout = 30 * 60;
	z->privileged_max_failures = 3;
	z->privileged_session_limit = 0;
	z->card_removal = ZM_REMOVAL_LOCK;
	z->dormant_after = 90 * 86400;
	z->banner = NULL;
	z->temp_code = 0;
	if (strcmp(name, "mynumber") == 0) {
		set_groups(z, privgroups, 2);
		z->privileged_session_limit = 2 * 3600;
	} else if (strcmp(name, "lgwan") == 0) {
		set_groups(z, privgroups, 2);
		z->privileged_session_limit = 8 * 3600;
		z->temp_code = 1;
	} else if (strcmp(name, "internet") == 0) {
		set_groups(z, privgroups, 2);
		z->require = ZM_CLASS_KNOWLEDGE;
		z->methods = 0;
		z->privileged_session_limit = 8 * 3600;
		z->card_removal = ZM_REMOVAL_NONE;
		z->temp_code = 1;
	}
}

int
zm_config_defaults(struct zm_config **out)
{
	static const char *const builtin[] = {
		"mynumber", "lgwan", "internet",
	};
	struct zm_config	*c = NULL;
	char			 host[256];
	size_t			 i;
	int			 r = ZM_ERR_INTERNAL;

	if (out == NULL)
		return ZM_ERR_INVALID;
	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ZM_ERR_NOMEM;
	/*
	 * Fixed paths, not the install prefix: the module, the daemon and the
	 * tools must agree on them whatever prefix each was built with.
	 */
	if ((c->socket = strdup("/run/zonemfa/tokend.sock")) == NULL ||
	    (c->key_file = strdup(SYSCONFDIR
	    "/zonemfa/registry.key")) == NULL ||
	    (c->store = strdup("sqlite:/var/lib/zonemfa/registry.db")) ==
	    NULL ||
	    (c->audit_log = strdup("/var/log/zonemfa/audit.log")) == NULL ||
	    (c->fido_rp_id = strdup("pam://zonemfa")) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	c->fido_timeout = ZM_FIDO_TIMEOUT_DEFAULT;
	if ((r = copy_name(c->helpdesk_group, sizeof(c->helpdesk_group),
	    "zonemfa-helpdesk")) != ZM_OK ||
	    (r = copy_name(c->admin_group, sizeof(c->admin_group),
	    "zonemfa-admin")) != ZM_OK)
		goto out;
	c->pcsc = 1;
	c->fido = 1;
	/* No zone: the daemon refuses to authenticate until one is set. */
	c->zone[0] = '\0';
	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		(void)copy_name(host, sizeof(host), "localhost");
	/* A long host name is cut to the field, never overflowing it. */
	memcpy(c->terminal_name, host, sizeof(c->terminal_name) - 1);
	c->terminal_name[sizeof(c->terminal_name) - 1] = '\0';
	c->lock_command = NULL;
	c->office_start = ZM_OFFICE_START_DEFAULT;
	c->office_end = ZM_OFFICE_END_DEFAULT;
	c->office_days = ZM_OFFICE_DAYS_DEFAULT;
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		zm_zone_init(&c->zones[i], builtin[i]);
	c->n_zones = i;
	*out = c;
	c = NULL;
	r = ZM_OK;
 out:
	zm_config_free(c);
	return r;
}

void
zm_config_free(struct zm_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->socket);
	free(c->key_file);
	free(c->card_ca);
	free(c->fido_attestation_ca);
	free(c->store);
	free(c->audit_log);
	free(c->fido_rp_id);
	free(c->lock_command);
	for (i = 0; i < ZM_MAX_ZONES; i++)
		free(c->zones[i].banner);
	free(c);
}

const struct zm_zone *
zm_config_zone(const struct zm_config *c, const char *name)
{
	size_t i;

	if (c == NULL || name == NULL)
		return NULL;
	for (i = 0; i < c->n_zones && i < ZM_MAX_ZONES; i++)
		if (strcmp(c->zones[i].name, name) == 0)
			return &c->zones[i];
	return NULL;
}

/* Read all of fd, at most ZM_CONF_MAX_SIZE bytes. */
static int
read_all(int fd, char **text, size_t *len)
{
	char	*buf = NULL;
	size_t	 n = 0;
	ssize_t	 got;
	int	 r = ZM_ERR_INTERNAL;

	/* One byte more than allowed, so an oversized file is noticed. */
	if ((buf = malloc(ZM_CONF_MAX_SIZE + 1)) == NULL)
		return ZM_ERR_NOMEM;
	for (;;) {
		got = read(fd, buf + n, ZM_CONF_MAX_SIZE + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = ZM_ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > ZM_CONF_MAX_SIZE) {
			r = ZM_ERR_TOOBIG;
			goto out;
		}
	}
	*text = buf;
	*len = n;
	buf = NULL;
	r = ZM_OK;
 out:
	free(buf);
	return r;
}

int
zm_config_load(const char *path, struct zm_config **out,
    struct zm_errlist *errs)
{
	struct zm_config	*c = NULL;
	struct stat		 st;
	char			*text = NULL;
	size_t			 len = 0;
	int			 fd = -1, r = ZM_ERR_INTERNAL, e;

	if (out == NULL || path == NULL)
		return ZM_ERR_INVALID;
	*out = NULL;
	/* O_NONBLOCK: a FIFO planted at path must not hang the caller. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		e = errno;
		if (e == ELOOP) {
			(void)zm_errlist_addf(errs, "%s: refusing to follow "
			    "a symbolic link", path);
			r = ZM_ERR_CONFIG;
		} else {
			(void)zm_errlist_addf(errs, "%s: cannot open: %s",
			    path, strerror(e));
			r = ZM_ERR_IO;
		}
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		(void)zm_errlist_addf(errs, "%s: cannot stat: %s", path,
		    strerror(errno));
		r = ZM_ERR_IO;
		goto out;
	}
	r = ZM_ERR_CONFIG;
	if (!S_ISREG(st.st_mode)) {
		(void)zm_errlist_addf(errs, "%s: not a regular file", path);
		goto out;
	}
	/* Whoever can write the policy can switch off the second factor. */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		(void)zm_errlist_addf(errs, "%s: unsafe mode %04o: writable "
		    "by group or others", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		(void)zm_errlist_addf(errs, "%s: unsafe owner uid %lu: must "
		    "be owned by root", path, (unsigned long)st.st_uid);
		goto out;
	}
	if ((r = read_all(fd, &text, &len)) != ZM_OK) {
		if (r == ZM_ERR_TOOBIG) {
			(void)zm_errlist_addf(errs, "%s: file too large "
			    "(at most %d bytes)", path, ZM_CONF_MAX_SIZE);
			r = ZM_ERR_CONFIG;
		} else if (r == ZM_ERR_IO)
			(void)zm_errlist_addf(errs, "%s: cannot read: %s",
			    path, strerror(errno));
		goto out;
	}
	if ((r = zm_config_parse(path, text, len, &c, errs)) != ZM_OK)
		goto out;
	if ((c->path = strdup(path)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	*out = c;
	c = NULL;
	r = ZM_OK;
 out:
	if (fd != -1)
		(void)close(fd);
	free(text);
	zm_config_free(c);
	return r;
}

/*
 * Each module argument at most once: a repeat is a mistake to report,
 * never "the last one wins".  1 when a is a repeat of key (error in errs).
 */
static int
arg_repeated(const char *a, const char *key, size_t keylen, int *seen,
    struct zm_errlist *errs, int *r)
{
	int e;

	if (strncmp(a, key, keylen) != 0 || (key[keylen - 1] != '=' &&
	    a[keylen] != '\0'))
		return 0;
	if (!*seen) {
		*seen = 1;
		return 0;
	}
	e = zm_errlist_addf(errs, "module argument '%s': %.*s given more "
	    "than once", a, (int)keylen, key);
	*r = e == ZM_OK ? ZM_ERR_CONFIG : e;
	return 1;
}

int
zm_config_apply_args(struct zm_config *c, int argc, const char **argv,
    struct zm_errlist *errs)
{
	const char	*a;
	int		 i, r = ZM_OK, e;
	int		 seen_conf = 0, seen_zone = 0, seen_debug = 0;

	if (c == NULL || argc < 0 || (argc > 0 && argv == NULL))
		return ZM_ERR_INVALID;
	for (i = 0; i < argc; i++) {
		if ((a = argv[i]) == NULL)
			continue;
		if (arg_repeated(a, "conf=", 5, &seen_conf, errs, &r) ||
		    arg_repeated(a, "zone=", 5, &seen_zone, errs, &r) ||
		    arg_repeated(a, "debug", 5, &seen_debug, errs, &r))
			continue;
		if (strncmp(a, "conf=", 5) == 0)
			continue;	/* the caller loaded it already */
		if (strcmp(a, "debug") == 0) {
			c->debug = 1;
			continue;
		}
		if (strcmp(a, "preauth") == 0 || strcmp(a, "authfail") == 0) {
			if (c->auth_mode != ZM_AUTH_MODE_FACTORS) {
				e = zm_errlist_addf(errs, "%s: preauth and "
				    "authfail are one line each", a);
				r = e == ZM_OK ? ZM_ERR_CONFIG : e;
			}
			c->auth_mode = a[0] == 'p' ? ZM_AUTH_MODE_PREAUTH :
			    ZM_AUTH_MODE_AUTHFAIL;
			continue;
		}
		if (strncmp(a, "zone=", 5) == 0) {
			if (zm_config_zone(c, a + 5) == NULL ||
			    copy_name(c->zone, sizeof(c->zone), a + 5) !=
			    ZM_OK) {
				e = zm_errlist_addf(errs, "zone=%s: no such "
				    "zone", a + 5);
				r = e == ZM_OK ? ZM_ERR_CONFIG : e;
			}
			continue;
		}
		e = zm_errlist_addf(errs, "unknown module argument '%s'", a);
		r = e == ZM_OK ? ZM_ERR_CONFIG : e;
	}
	return r;
}
