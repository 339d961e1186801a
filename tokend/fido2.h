/*
 * fido2.h - FIDO2 security keys through libfido2: finding keys, making a
 * credential at enrolment, getting and verifying an assertion at login.
 *
 * Devices are the HID keys libfido2 finds (config `fido = yes`) plus each
 * --fido-hid-socket PATH of the daemon's command line: a SOCK_SEQPACKET
 * UNIX socket carrying 64-byte CTAPHID reports, for software
 * authenticators (tests).  The socket list comes only from the command
 * line, so only whoever starts the daemon can point it at a fake key.
 *
 * Policy stays in auth.c: this file reports what the key proved (flags,
 * counter) and never decides what that is worth.  Logins run in worker
 * threads (zm_fido_job_*), enrolment in the caller.
 */
#ifndef ZM_FIDO2_H
#define ZM_FIDO2_H

#include <stddef.h>
#include <stdint.h>

#define ZM_FIDO_CRED_ID_MAX	1024
#define ZM_FIDO_PK_LEN		64	/* ES256 x || y (the largest kept) */
#define ZM_FIDO_EDDSA_PK_LEN	32	/* Ed25519 */
/* Credential types (COSE algorithm numbers, as libfido2's COSE_*). */
#define ZM_FIDO_COSE_ES256	(-7)
#define ZM_FIDO_COSE_EDDSA	(-8)
#define ZM_FIDO_CDH_LEN		32
#define ZM_FIDO_TIMEOUT_MS	30000	/* enrolment: waiting for a touch */
#define ZM_FIDO_MAX_ALLOW	16	/* credentials in one allow list */

/* struct zm_token.flags of a fido2 token. */
#define ZM_FIDO_F_UV		0x01u	/* key offered user verification at enrolment */
#define ZM_FIDO_F_UV_BUILTIN	0x02u	/* built-in UV (on-key biometric) */
#define ZM_FIDO_F_PIN		0x04u	/* key has a client PIN set */
#define ZM_FIDO_F_ATT_SELF	0x10u	/* packed self-attestation, verified */
#define ZM_FIDO_F_ATT_X5C	0x20u	/* attestation certificate, signature verified */
#define ZM_FIDO_F_ATT_CA	0x40u	/* ... and it chains to fido_attestation_ca */

/* Authenticator data flags (WebAuthn). */
#define ZM_FIDO_AD_UP		0x01u
#define ZM_FIDO_AD_UV		0x04u

struct zm_fido;

/* sockets: the --fido-hid-socket paths (copied). */
int zm_fido_new(int use_hid, const char *const *sockets, size_t n_sockets,
    const char *rp_id, struct zm_fido **out);
/* Waits for running login workers (zm_fido_job_free() them first). */
void zm_fido_free(struct zm_fido *f);
/* 1 if at least one key is plugged in (or a socket is there). */
int zm_fido_available(struct zm_fido *f);

/* A credential made at enrolment. */
struct zm_fido_cred {
	uint8_t		id[ZM_FIDO_CRED_ID_MAX];
	size_t		id_len;
	int		cose;		/* ZM_FIDO_COSE_ES256 or _EDDSA */
	uint8_t		pk[ZM_FIDO_PK_LEN];	/* 64 (ES256) or 32 (EdDSA) used */
	unsigned	flags;		/* ZM_FIDO_F_* */
	uint32_t	counter;
	char		fmt[16];	/* attestation format */
	const char	*refused;	/* why the key was refused (static), or NULL */
};

/*
 * Make a credential for user on the first key that answers: EdDSA when
 * the key's getInfo lists it, else ES256 (user
 * presence, and UV when the key has built-in UV), with a fresh random
 * user id and client-data hash; verify its attestation (packed self or
 * x5c signature).  With att_ca (a PEM bundle: fido_attestation_ca) the
 * attestation must be a certificate that chains to it: self attestation
 * is refused.  ZM_ERR_UNAVAILABLE: no key; ZM_ERR_TIMEOUT: no touch;
 * ZM_ERR_DENIED: the attestation does not verify or chain (out->refused
 * says which).
 */
int zm_fido_enroll(struct zm_fido *f, const char *user, const char *att_ca,
    int timeout_ms, struct zm_fido_cred *out);

/* One enrolled credential offered in the allow list. */
struct zm_fido_allow {
	const uint8_t	*id;
	size_t		 id_len;
};

/* What a key returned (unverified: see zm_fido_verify). */
struct zm_fido_assertion {
	uint8_t		 cdh[ZM_FIDO_CDH_LEN];
	uint8_t		*authdata;	/* CBOR byte string, as libfido2 gives it */
	size_t		 authdata_len;
	uint8_t		*sig;
	size_t		 sig_len;
	size_t		 which;		/* index into the allow list */
	int		 pin_status;	/* ZM_FIDO_PIN_* when a PIN was sent */
	int		 pin_left;	/* PIN tries left after it; -1 unknown */
};

#define ZM_FIDO_PIN_OK		0
#define ZM_FIDO_PIN_WRONG	1	/* ZM_ERR_DENIED: the key refused the PIN */
#define ZM_FIDO_PIN_BLOCKED	2	/* ZM_ERR_DENIED: no tries left */

/*
 * Which key: each key is first asked silently (user presence off, no
 * PIN) whether it holds one of allow[0..n); the one that does gets the
 * real request: user presence required, UV requested (want_uv) where the
 * key offers built-in UV, or with pin (not NULL) UV by the key's client
 * PIN.  A PIN goes only to a key that showed it holds a credential, never
 * to another; a key whose silent answer is neither yes nor no gets only
 * a touch request (no PIN).  Every exchange, opening the key included,
 * is bounded by timeout_ms overall.
 *
 * ZM_ERR_UNAVAILABLE: no key opens; ZM_ERR_NOTFOUND: no key holds any of
 * the credentials; ZM_ERR_TIMEOUT: the time ran out (no touch, a key that
 * does not answer); ZM_ERR_DENIED: the key refused, or (out->pin_status
 * ZM_FIDO_PIN_WRONG / _BLOCKED, out->pin_left) its PIN.
 */
int zm_fido_assert(struct zm_fido *f, const struct zm_fido_allow *allow,
    size_t n, int want_uv, const char *pin, int timeout_ms,
    struct zm_fido_assertion *out);

/*
 * Logins off the event loop (fido2_login.c).  A job runs one whole key
 * conversation in its own thread; the loop polls zm_fido_wake_fd() and
 * then zm_fido_job_poll().  A job never touches the store or anything
 * else of the loop's: it returns what the key said, and the loop
 * verifies it.
 *
 *   ZM_FIDO_JOB_PIN_STATE  of the key holding one of the credentials:
 *                          whether it has a client PIN, its tries left
 *   ZM_FIDO_JOB_ASSERT     zm_fido_assert()
 */
#define ZM_FIDO_JOB_PIN_STATE	1
#define ZM_FIDO_JOB_ASSERT	2

struct zm_fido_job;

struct zm_fido_result {
	int				 r;		/* 0 or ZM_ERR_* as above */
	int				 opened;	/* some key answered at all */
	int				 has_pin;	/* PIN_STATE */
	int				 pin_left;	/* PIN_STATE; -1 unknown */
	struct zm_fido_assertion	 as;		/* ASSERT */
};

/*
 * Start a job over allow[0..n) (copied, as is pin) bounded by timeout_ms:
 * after that its result is discarded (ZM_ERR_TIMEOUT) whatever the key
 * does.
 */
int zm_fido_job_start(struct zm_fido *f, int kind,
    const struct zm_fido_allow *allow, size_t n, int want_uv,
    const char *pin, int timeout_ms, struct zm_fido_job **out);
/* 1 when over (answered or out of time); else 0 and *wait_ms. */
int zm_fido_job_poll(struct zm_fido_job *j, int64_t *wait_ms);
/*
 * The result of a job that is over (moved out: clear out->as).  Out of
 * time without an answer: out->r ZM_ERR_TIMEOUT.
 */
void zm_fido_job_result(struct zm_fido_job *j, struct zm_fido_result *out);
/*
 * Give the job up: a running worker is told to stop (the key is sent
 * CTAPHID_CANCEL) and frees what is left when it ends.  Never blocks.
 */
void zm_fido_job_free(struct zm_fido_job *j);
/* Readable when a job is over; zm_fido_wake_read() empties it. */
int zm_fido_wake_fd(const struct zm_fido *f);
void zm_fido_wake_read(struct zm_fido *f);

void zm_fido_assertion_clear(struct zm_fido_assertion *a);

/*
 * Verify an assertion against a stored key of type cose
 * (ZM_FIDO_COSE_ES256: 64-byte x || y; _EDDSA: 32 bytes) for rp_id and cdh, with
 * user presence required; *flags and *counter are read from the signed
 * authenticator data (never from what was asked).  ZM_ERR_DENIED when the
 * signature, the rp id hash or UP do not check out.
 */
int zm_fido_verify(const char *rp_id, const uint8_t cdh[ZM_FIDO_CDH_LEN],
    const uint8_t *authdata, size_t authdata_len, const uint8_t *sig,
    size_t sig_len, int cose, const uint8_t *pk, unsigned *flags,
    uint32_t *counter);

/*
 * The data blob of a stored fido2 token: u8 version | pk | credential id;
 * version 1: ES256, pk 64 bytes; version 2: EdDSA, pk 32 bytes.  decode
 * points into data and says the type (*cose).
 */
int zm_fido_data_encode(int cose, const uint8_t *pk, const uint8_t *id,
    size_t id_len, uint8_t **out, size_t *out_len);
int zm_fido_data_decode(const uint8_t *data, size_t len, int *cose,
    const uint8_t **pk, const uint8_t **id, size_t *id_len);
/* The token ident: hex credential id, or "sha256:<hex>" when that is long. */
int zm_fido_ident(const uint8_t *id, size_t id_len, char *out,
    size_t outlen);

#endif
