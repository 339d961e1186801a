#ifndef ZM_REVOKE_OFFLINE_H
#define ZM_REVOKE_OFFLINE_H

#include <stdint.h>

#include "cli.h"
#include "conf.h"

/*
 * Record a revocation directly in the registry (root only, daemon down).
 * On success res holds what zonemfa-tokend would have answered, with
 * status ZM_ST_PARTIAL: no session could be ended.
 */
int revoke_offline(const struct zm_config *cfg, const char *user,
    int64_t token_id, const char *serial, const char *reason,
    struct cli_result *res);

#endif
