/*
 * log.h - logging to syslog (and to stderr in debug mode).
 *
 * Never pass a secret (PIN, password, code, seed, challenge) to these.
 * Messages are prefixed with the calling function.
 */
#ifndef ZM_LOG_H
#define ZM_LOG_H

#include <syslog.h>

/* ident: syslog identity (NULL inside a PAM module: no openlog); to_stderr: also print to stderr; debug: enable LOG_DEBUG. */
void zm_log_init(const char *ident, int to_stderr, int debug);
int zm_log_debug_enabled(void);
void zm_log_raw(int pri, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define zm_err(...)	zm_log_raw(LOG_ERR, __func__, __VA_ARGS__)
#define zm_warn(...)	zm_log_raw(LOG_WARNING, __func__, __VA_ARGS__)
#define zm_notice(...)	zm_log_raw(LOG_NOTICE, __func__, __VA_ARGS__)
#define zm_info(...)	zm_log_raw(LOG_INFO, __func__, __VA_ARGS__)
#define zm_debug(...)	do { if (zm_log_debug_enabled()) \
	zm_log_raw(LOG_DEBUG, __func__, __VA_ARGS__); } while (0)

#endif
