/*
 * totp.h - TOTP (RFC 6238) with liboath.
 */
#ifndef ZM_TOTP_H
#define ZM_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum zm_totp_algo { ZM_TOTP_SHA1 = 0, ZM_TOTP_SHA256 = 1, ZM_TOTP_SHA512 = 2 };

/* AAD of a sealed TOTP seed (tokend/crypto.h): snprintf(aad, n, ZM_TOTP_AAD_FMT, user) */
#define ZM_TOTP_AAD_FMT	"totp:%s"

int zm_totp_init(void);		/* oath_init(); once per process */
int zm_totp_algo_parse(const char *name, int *algo);	/* "SHA1" ... */
const char *zm_totp_algo_name(int algo);

/*
 * Check code against seed at time now with a window of +-window steps.
 * On a match returns 0 and the matching step (floor(t / period)) in *step.
 * ZM_ERR_DENIED when no step matches, ZM_ERR_INVALID for a malformed code
 * (not exactly digits decimal digits).  Replay is NOT checked here: the
 * caller advances the stored step with zm_store_totp_advance().
 */
int zm_totp_verify(const uint8_t *seed, size_t seedlen, int algo,
    unsigned digits, unsigned period, time_t now, unsigned window,
    const char *code, int64_t *step);

/* Generate the code for a time (tests, bench, demo fixtures). */
int zm_totp_generate(const uint8_t *seed, size_t seedlen, int algo,
    unsigned digits, unsigned period, time_t t, char *out, size_t outlen);

/*
 * otpauth://totp/ISSUER:USER?secret=BASE32&issuer=...&algorithm=..&digits=..&period=..
 * *uri holds the seed (base32): free it with zm_strfree().
 */
int zm_totp_uri(const char *issuer, const char *user, const uint8_t *seed,
    size_t seedlen, int algo, unsigned digits, unsigned period, char **uri);

#endif
