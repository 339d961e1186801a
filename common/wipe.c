#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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
