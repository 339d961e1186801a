#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int	log_stderr;
static int	log_debug;
static int	log_opened;

void
zm_log_init(const char *ident, int to_stderr, int debug)
{
	log_stderr = to_stderr;
	log_debug = debug;
	/* A PAM module passes NULL: openlog() would rename the host program. */
	if (ident != NULL) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
		log_opened = 1;
	}
}

int
zm_log_debug_enabled(void)
{
	return log_debug;
}

void
zm_log_raw(int pri, const char *func, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* A truncated message is still worth logging; mark it. */
	if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (log_opened)
		syslog(LOG_AUTHPRIV | pri, "%s: %s", func, msg);
	else
		syslog(LOG_AUTHPRIV | pri, "zonemfa: %s: %s", func, msg);
	if (log_stderr)
		fprintf(stderr, "%s: %s\n", func, msg);
}
