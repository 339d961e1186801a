/*
 * bench_util.h - what the bench programs share: err()/errx() as in BSD
 * <err.h>, which common/err.h shadows on the include path.
 */
#ifndef ZM_BENCH_UTIL_H
#define ZM_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void die(int eval, int with_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* "zm-bench: MESSAGE[: strerror(errno)]" on stderr, then exit(eval). */
static inline void
die(int eval, int with_errno, const char *fmt, ...)
{
	va_list	ap;
	int	e = errno;

	va_start(ap, fmt);
	fprintf(stderr, "zm-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (with_errno)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(eval);
}
#define errx(e, ...)	die((e), 0, __VA_ARGS__)
#define err(e, ...)	die((e), 1, __VA_ARGS__)

#endif
