/*
 * duration.c - durations ("30m", "90d") and the names of factor classes and
 * methods, shared by the config parser, the daemon and the tools.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

/* Ten years: anything longer is a typo, and the product cannot overflow. */
#define ZM_DURATION_MAX		(3650LL * 86400LL)

int
zm_duration_parse(const char *s, int64_t *secs)
{
	unsigned long long	 n;
	int64_t			 mult;
	char			*end;
	size_t			 len;

	if (s == NULL || secs == NULL)
		return ZM_ERR_INVALID;
	if (strcmp(s, "0") == 0) {
		*secs = 0;
		return ZM_OK;
	}
	/* strtoull accepts blanks, signs and "0x": only plain digits here. */
	len = strlen(s);
	if (len < 2 || len > 12 || s[0] < '0' || s[0] > '9')
		return ZM_ERR_INVALID;
	switch (s[len - 1]) {
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return ZM_ERR_INVALID;
	}
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || end != s + len - 1)
		return ZM_ERR_INVALID;
	if (n > (unsigned long long)(ZM_DURATION_MAX / mult))
		return ZM_ERR_INVALID;
	*secs = (int64_t)n * mult;
	return ZM_OK;
}

void
zm_duration_format(int64_t secs, char *out, size_t outlen)
{
	const char	*unit = "s";
	int64_t		 v = secs;
	int		 n;

	if (out == NULL || outlen == 0)
		return;
	if (secs == 0) {
		n = snprintf(out, outlen, "0");
	} else {
		if (secs > 0 && secs % 86400 == 0) {
			v = secs / 86400;
			unit = "d";
		} else if (secs > 0 && secs % 3600 == 0) {
			v = secs / 3600;
			unit = "h";
		} else if (secs > 0 && secs % 60 == 0) {
			v = secs / 60;
			unit = "m";
		}
		n = snprintf(out, outlen, "%" PRId64 "%s", v, unit);
	}
	/* A cut-off number would be a different duration: print nothing. */
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';
}

/* Append word to out (space-separated); words that do not fit are left out. */
static void
append_word(char *out, size_t outlen, const char *word)
{
	size_t	len = strlen(out), wl = strlen(word);
	size_t	need = wl + (len ? 1 : 0);

	if (need >= outlen - len)
		return;
	if (len)
		out[len++] = ' ';
	memcpy(out + len, word, wl + 1);
}

void
zm_classes_format(unsigned classes, char *out, size_t outlen)
{
	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	if (classes & ZM_CLASS_KNOWLEDGE)
		append_word(out, outlen, "knowledge");
	if (classes & ZM_CLASS_POSSESSION)
		append_word(out, outlen, "possession");
	if (classes & ZM_CLASS_INHERENCE)
		append_word(out, outlen, "inherence");
}

const char *
zm_method_name(unsigned method)
{
	switch (method) {
	case ZM_METHOD_CARD:
		return "card";
	case ZM_METHOD_FIDO2:
		return "fido2";
	case ZM_METHOD_TOTP:
		return "totp";
	case ZM_METHOD_TEMPCODE:
		return "tempcode";
	default:
		return "unknown";
	}
}

void
zm_methods_format(unsigned methods, char *out, size_t outlen)
{
	unsigned bit;

	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	for (bit = ZM_METHOD_CARD; bit <= ZM_METHOD_TEMPCODE; bit <<= 1)
		if (methods & bit)
			append_word(out, outlen, zm_method_name(bit));
}
