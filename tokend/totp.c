/*
 * totp.c - TOTP (RFC 6238) with liboath.
 *
 * liboath computes the codes; we validate the input format, compare in
 * constant time (through liboath's callback interface) and report the
 * matching time step so the store can refuse its replay.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <liboath/oath.h>

#include "err.h"
#include "log.h"
#include "totp.h"
#include "wipe.h"

#define SEED_MAX	1024
#define PERIOD_MAX	3600
#define WINDOW_MAX	10
#define LABEL_MAX	256	/* issuer or user, before percent-encoding */

static int	oath_ready;

static const struct {
	const char	*name;
	int		 flags;		/* liboath oath_totp_flags */
} algos[] = {
	[ZM_TOTP_SHA1] = { "SHA1", 0 },
	[ZM_TOTP_SHA256] = { "SHA256", OATH_TOTP_HMAC_SHA256 },
	[ZM_TOTP_SHA512] = { "SHA512", OATH_TOTP_HMAC_SHA512 },
};
#define NALGOS	((int)(sizeof(algos) / sizeof(algos[0])))

int
zm_totp_init(void)
{
	int	rc;

	if (oath_ready)
		return 0;
	if ((rc = oath_init()) != OATH_OK) {
		zm_err("oath_init: %s", oath_strerror(rc));
		return ZM_ERR_INTERNAL;
	}
	oath_ready = 1;
	return 0;
}

int
zm_totp_algo_parse(const char *name, int *algo)
{
	int	i;

	if (name == NULL || algo == NULL)
		return ZM_ERR_INVALID;
	for (i = 0; i < NALGOS; i++) {
		if (strcasecmp(name, algos[i].name) == 0) {
			*algo = i;
			return 0;
		}
	}
	return ZM_ERR_INVALID;
}

const char *
zm_totp_algo_name(int algo)
{
	if (algo < 0 || algo >= NALGOS)
		return NULL;
	return algos[algo].name;
}

/* liboath supports 6 to 8 digits; seeds and periods are bounded for sanity. */
static int
params_ok(const uint8_t *seed, size_t seedlen, int algo, unsigned digits,
    unsigned period)
{
	return seed != NULL && seedlen > 0 && seedlen <= SEED_MAX &&
	    algo >= 0 && algo < NALGOS && digits >= 6 && digits <= 8 &&
	    period > 0 && period <= PERIOD_MAX;
}

struct cmp {
	const char	*code;
	size_t		 digits;
};

/* oath_validate_strcmp_function: 0 only on a match, in constant time. */
static int
cmp_code(void *handle, const char *test_otp)
{
	const struct cmp	*c = handle;

	/* The generated code's length is public (digits), not secret. */
	if (strlen(test_otp) != c->digits)
		return 1;
	return zm_ct_memcmp(c->code, test_otp, c->digits) == 0 ? 0 : 1;
}

int
zm_totp_verify(const uint8_t *seed, size_t seedlen, int algo,
    unsigned digits, unsigned period, time_t now, unsigned window,
    const char *code, int64_t *step)
{
	struct cmp	c;
	uint64_t	counter = 0;
	int64_t		expect;
	size_t		i;
	int		pos = 0, rc, r;

	if (step != NULL)
		*step = -1;
	if (!params_ok(seed, seedlen, algo, digits, period) || code == NULL ||
	    step == NULL || now < 0 || window > WINDOW_MAX)
		return ZM_ERR_INVALID;
	/* Exactly `digits` ASCII digits: no sign, spaces or locale digits. */
	for (i = 0; i < digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return ZM_ERR_INVALID;
	if (code[digits] != '\0')
		return ZM_ERR_INVALID;
	if ((r = zm_totp_init()) != 0)
		return r;
	c.code = code;
	c.digits = digits;
	rc = oath_totp_validate4_callback((const char *)seed, seedlen, now,
	    period, 0, digits, window, &pos, &counter, algos[algo].flags,
	    cmp_code, &c);
	if (rc == OATH_INVALID_OTP)
		return ZM_ERR_DENIED;
	if (rc < 0) {
		zm_err("oath_totp_validate4_callback: %s", oath_strerror(rc));
		return ZM_ERR_INTERNAL;
	}
	/*
	 * otp_pos is the signed offset from the current step; otp_counter
	 * the absolute step.  They must agree, or we would store a step the
	 * code was not for and break replay protection.
	 */
	expect = (int64_t)(now / (time_t)period) + pos;
	if (counter > INT64_MAX || (int64_t)counter != expect) {
		zm_err("liboath step %llu disagrees with offset %d",
		    (unsigned long long)counter, pos);
		return ZM_ERR_INTERNAL;
	}
	*step = expect;
	return 0;
}

int
zm_totp_generate(const uint8_t *seed, size_t seedlen, int algo,
    unsigned digits, unsigned period, time_t t, char *out, size_t outlen)
{
	int	rc, r;

	if (!params_ok(seed, seedlen, algo, digits, period) || out == NULL ||
	    t < 0)
		return ZM_ERR_INVALID;
	if (outlen < (size_t)digits + 1)
		return ZM_ERR_TOOBIG;
	if ((r = zm_totp_init()) != 0)
		return r;
	if ((rc = oath_totp_generate2((const char *)seed, seedlen, t, period, 0,
	    digits, algos[algo].flags, out)) != OATH_OK) {
		zm_err("oath_totp_generate2: %s", oath_strerror(rc));
		zm_wipe(out, outlen);
		return ZM_ERR_INTERNAL;
	}
	return 0;
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static int
pct_encode(const char *in, char *out, size_t outsz)
{
	static const char	hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	size_t			 o = 0;

	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (o + 4 > outsz)
			return ZM_ERR_TOOBIG;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 0x0f];
		}
	}
	out[o] = '\0';
	return 0;
}

int
zm_totp_uri(const char *issuer, const char *user, const uint8_t *seed,
    size_t seedlen, int algo, unsigned digits, unsigned period, char **uri)
{
	char	 iss[3 * LABEL_MAX + 1], usr[3 * LABEL_MAX + 1];
	char	*b32 = NULL, *u = NULL;
	size_t	 b32len = 0, b32cap = 0, ulen = 0;
	int	 n, rc, r = ZM_ERR_INTERNAL;

	if (uri != NULL)
		*uri = NULL;
	if (issuer == NULL || user == NULL || uri == NULL || *issuer == '\0' ||
	    *user == '\0' || !params_ok(seed, seedlen, algo, digits, period))
		return ZM_ERR_INVALID;
	if (strlen(issuer) > LABEL_MAX || strlen(user) > LABEL_MAX)
		return ZM_ERR_TOOBIG;
	if ((r = pct_encode(issuer, iss, sizeof(iss))) != 0 ||
	    (r = pct_encode(user, usr, sizeof(usr))) != 0)
		return r;
	if ((r = zm_totp_init()) != 0)
		return r;
	if ((rc = oath_base32_encode((const char *)seed, seedlen, &b32,
	    &b32len)) != OATH_OK) {
		zm_err("oath_base32_encode: %s", oath_strerror(rc));
		return ZM_ERR_INTERNAL;
	}
	b32cap = b32len;
	/* Authenticator apps expect the secret without '=' padding. */
	while (b32len > 0 && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	r = ZM_ERR_INTERNAL;
	n = snprintf(NULL, 0, "otpauth://totp/%s:%s?secret=%s&issuer=%s"
	    "&algorithm=%s&digits=%u&period=%u", iss, usr, b32, iss,
	    algos[algo].name, digits, period);
	if (n < 0)
		goto out;
	ulen = (size_t)n + 1;
	if ((u = malloc(ulen)) == NULL) {
		r = ZM_ERR_NOMEM;
		goto out;
	}
	if (snprintf(u, ulen, "otpauth://totp/%s:%s?secret=%s&issuer=%s"
	    "&algorithm=%s&digits=%u&period=%u", iss, usr, b32, iss,
	    algos[algo].name, digits, period) != n)
		goto out;
	*uri = u;
	u = NULL;
	r = 0;
out:
	zm_freezero(b32, b32cap);
	zm_freezero(u, ulen);
	return r;
}
