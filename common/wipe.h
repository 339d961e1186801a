/*
 * wipe.h - wiping and comparing secrets, keeping them out of core files.
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
/*
 * Keep this process's memory (keys, seeds, PINs) out of core files and
 * away from ptrace by its own uid: RLIMIT_CORE 0 (hard limit too, for the
 * children) and PR_SET_DUMPABLE 0.  For the daemon and the tools, never
 * for the PAM module (its host process is not ours).  ZM_OK, or
 * ZM_ERR_IO with errno set.
 */
int zm_no_core_dumps(void);

#endif
