/*
 * wipe.h - wiping and comparing secrets.
 */
#ifndef ZM_WIPE_H
#define ZM_WIPE_H

#include <stddef.h>

/* Overwrite n bytes at p with zeros; never optimised away.  p may be NULL. */
void zm_wipe(void *p, size_t n);
/* zm_wipe(p, n) then free(p).  p may be NULL. */
void zm_freezero(void *p, size_t n);
/* Wipe a NUL-terminated string and free it.  s may be NULL. */
void zm_strfree(char *s);
/* Constant-time comparison of n bytes: 0 when equal. */
int zm_ct_memcmp(const void *a, const void *b, size_t n);

#endif
