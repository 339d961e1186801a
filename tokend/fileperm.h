/*
 * fileperm.h - refuse unsafe modes on the daemon's files (fileperm.c).
 */
#ifndef ZM_FILEPERM_H
#define ZM_FILEPERM_H

#include "conf.h"

/*
 * Check the key file, the store (with -wal and -shm) and the audit log of
 * cfg, and their directories.  ZM_ERR_PERM with one line per problem in
 * errs ("PATH: what is wrong (the fix)"); files that could not be checked
 * (not there is fine) go to warns.  Either list may be NULL.
 */
int zm_files_check(const struct zm_config *cfg, struct zm_errlist *errs,
    struct zm_errlist *warns);

#endif
