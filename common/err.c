#include <config.h>

#include <stddef.h>

#include "err.h"

static const char *const names[ZM_ERR__MAX] = {
	[ZM_OK] = "success",
	[ZM_ERR_INTERNAL] = "internal error",
	[ZM_ERR_NOMEM] = "out of memory",
	[ZM_ERR_INVALID] = "invalid argument or value",
	[ZM_ERR_TRUNCATED] = "input truncated",
	[ZM_ERR_TOOBIG] = "input too large",
	[ZM_ERR_IO] = "input/output error",
	[ZM_ERR_PERM] = "permission denied",
	[ZM_ERR_NOTFOUND] = "not found",
	[ZM_ERR_EXISTS] = "already exists",
	[ZM_ERR_STORE] = "registry error",
	[ZM_ERR_CRYPTO] = "cryptographic failure",
	[ZM_ERR_CONFIG] = "configuration error",
	[ZM_ERR_PROTO] = "protocol error",
	[ZM_ERR_UNAVAILABLE] = "service unavailable",
	[ZM_ERR_REPLAY] = "code already used",
	[ZM_ERR_REVOKED] = "token revoked or suspended",
	[ZM_ERR_TIMEOUT] = "timed out",
	[ZM_ERR_DENIED] = "verification failed",
	[ZM_ERR_IDONLY] = "ID-only card (FeliCa IDm, MIFARE UID): not a proof",
	[ZM_ERR_UNSUPPORTED] = "not a supported card (no PIV or JPKI application)",
	[ZM_ERR_UNTRUSTED] = "card certificate does not chain to card_ca or expired",
	[ZM_ERR_CARDSW] = "the card refused the command",
};

const char *
zm_strerror(int err)
{
	if (err < 0 || err >= ZM_ERR__MAX || names[err] == NULL)
		return "unknown error";
	return names[err];
}
