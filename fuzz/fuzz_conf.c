/*
 * fuzz_conf.c - libFuzzer harness for the zonemfa.conf(5) parser.
 *
 * Besides "no crash", it checks what callers rely on: a successful parse
 * yields a config whose values are all inside their documented ranges, and
 * a failed one yields no config and at least one "NAME:" message.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_config(struct zm_config *c)
{
	const struct zm_zone	*z;
	const char		*args[2];
	char			 arg[ZM_NAME_MAX + 8], buf[128];
	size_t			 i, j;

	if (c->n_zones < 3 || c->n_zones > ZM_MAX_ZONES)
		abort();
	if (c->socket == NULL || c->socket[0] != '/' ||
	    c->key_file == NULL || c->key_file[0] != '/' ||
	    c->audit_log == NULL || c->audit_log[0] != '/' ||
	    c->store == NULL || strncmp(c->store, "sqlite:/", 8) != 0 ||
	    (c->card_ca != NULL && c->card_ca[0] != '/') ||
	    (c->lock_command != NULL && c->lock_command[0] != '/'))
		abort();
	if (memchr(c->zone, '\0', sizeof(c->zone)) == NULL ||
	    memchr(c->terminal_name, '\0', sizeof(c->terminal_name)) == NULL)
		abort();
	if (c->zone[0] != '\0' && zm_config_zone(c, c->zone) == NULL)
		abort();
	for (i = 0; i < c->n_zones; i++) {
		z = &c->zones[i];
		if (memchr(z->name, '\0', sizeof(z->name)) == NULL ||
		    z->name[0] == '\0' || zm_config_zone(c, z->name) != z)
			abort();
		if (z->require == 0 || z->require > 7 || z->methods > 15 ||
		    z->max_failures < 1 || z->max_failures > 1000 ||
		    z->privileged_max_failures < 1 ||
		    z->privileged_max_failures > z->max_failures ||
		    z->n_privileged_groups > ZM_MAX_GROUPS ||
		    (z->lockout <= 0 && z->lockout != ZM_LOCKOUT_HELPDESK) ||
		    z->privileged_session_limit < 0 || z->dormant_after < 0 ||
		    (z->banner != NULL && z->banner[0] != '/'))
			abort();
		for (j = 0; j < z->n_privileged_groups; j++)
			if (memchr(z->privileged_groups[j], '\0',
			    ZM_NAME_MAX) == NULL)
				abort();
		zm_classes_format(z->require, buf, sizeof(buf));
		zm_methods_format(z->methods, buf, sizeof(buf));
		zm_duration_format(z->lockout, buf, sizeof(buf));
		zm_duration_format(z->dormant_after, buf, sizeof(buf));
	}
	/* The PAM argument path over a fuzzed config: any zone selectable. */
	memcpy(arg, "zone=", 5);
	memcpy(arg + 5, c->zones[c->n_zones - 1].name, ZM_NAME_MAX);
	args[0] = arg;
	args[1] = "debug";
	if (zm_config_apply_args(c, 2, args, NULL) != ZM_OK || !c->debug ||
	    strcmp(c->zone, c->zones[c->n_zones - 1].name) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zm_config	*c = NULL;
	struct zm_errlist	 e = { NULL, 0 };
	size_t			 i;
	int			 r;

	r = zm_config_parse("fuzz.conf", (const char *)data, size, &c, &e);
	if (r == ZM_OK) {
		if (c == NULL || e.n != 0)
			abort();
		check_config(c);
	} else {
		if (c != NULL || (r == ZM_ERR_CONFIG && e.n == 0))
			abort();
		for (i = 0; i < e.n; i++)
			if (strncmp(e.msg[i], "fuzz.conf:", 10) != 0)
				abort();
	}
	zm_config_free(c);
	zm_errlist_free(&e);
	return 0;
}
