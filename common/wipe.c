#include <config.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"
#include "wipe.h"

void
zm_wipe(void *p, size_t n)
{
	if (p == NULL || n == 0)
		return;
	OPENSSL_cleanse(p, n);
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

int
zm_ct_memcmp(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) != 0;
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
