/* import.h - zonemfa-enroll import (enroll/import.c). */
#ifndef ZM_IMPORT_H
#define ZM_IMPORT_H

struct zm_config;

int zm_enroll_import(struct zm_config **cfg, const char *conf, int argc,
    char **argv);

#endif
