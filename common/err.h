/*
 * err.h - the one error enum of the zonemfa code below the PAM layer.
 *
 * Every function that can fail returns 0 (ZM_OK) or one of these.  Only the
 * PAM module maps them to PAM_* codes; the tools map them to exit codes.
 */
#ifndef ZM_ERR_H
#define ZM_ERR_H

enum zm_err {
	ZM_OK = 0,
	ZM_ERR_INTERNAL,	/* a bug or an impossible state */
	ZM_ERR_NOMEM,
	ZM_ERR_INVALID,		/* bad argument or malformed value */
	ZM_ERR_TRUNCATED,	/* input ended early */
	ZM_ERR_TOOBIG,		/* input larger than the hard cap */
	ZM_ERR_IO,		/* read/write/socket failure */
	ZM_ERR_PERM,		/* caller not permitted / unsafe file mode */
	ZM_ERR_NOTFOUND,
	ZM_ERR_EXISTS,
	ZM_ERR_STORE,		/* registry backend failure */
	ZM_ERR_CRYPTO,		/* OpenSSL failure or failed authentication tag */
	ZM_ERR_CONFIG,		/* configuration file has errors */
	ZM_ERR_PROTO,		/* IPC protocol violation */
	ZM_ERR_UNAVAILABLE,	/* daemon or device cannot be reached */
	ZM_ERR_REPLAY,		/* one-time code or step already used */
	ZM_ERR_REVOKED,		/* token revoked, replaced or suspended */
	ZM_ERR_TIMEOUT,
	ZM_ERR_DENIED,		/* a proof did not verify */
	ZM_ERR_IDONLY,		/* an ID-only card (FeliCa, MIFARE): no key, no proof */
	ZM_ERR_UNSUPPORTED,	/* a card no profile knows (no PIV, no JPKI) */
	ZM_ERR_UNTRUSTED,	/* certificate does not chain to card_ca, or expired */
	ZM_ERR_CARDSW,		/* the card refused a command (a status word, not 90 00) */
	ZM_ERR__MAX
};

const char *zm_strerror(int err);

#endif
