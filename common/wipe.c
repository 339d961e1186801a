#include <config.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "wipe.h"

void
zm_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
	explicit_bzero(p, n);
}

void
zm_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	zm_wipe(p, n);
	free(p);
}

void
zm_strfree(char *s)
{
	if (s == NULL)
		return;
	zm_freezero(s, strlen(s));
}

/*
 * No libcrypto here: the PAM module links this file and must stay lean
 * (libcrypto costs every login process ~0.7 ms at start).  The volatile
 * accumulator keeps the compiler from ending the loop at the first
 * difference.
 */
int
zm_ct_memcmp(const void *a, const void *b, size_t n)
{
	const volatile unsigned char	*x = a;
	const volatile unsigned char	*y = b;
	volatile unsigned char		 d = 0;
	size_t				 i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

int
zm_no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return ZM_ERR_IO;
	return ZM_OK;
}
