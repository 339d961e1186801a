/*
 * names.h - the one rule for user names, shared by the daemon, the PAM
 * module and the tools, so that a name one part accepts is never refused
 * by another.
 */
#ifndef ZM_NAMES_H
#define ZM_NAMES_H

/*
 * 1 if s is an acceptable user name: 1..63 bytes of [A-Za-z0-9._@-], not
 * starting with '-' (it could be taken for an option downstream), with an
 * optional final '$' (Samba machine accounts).  Upper case and '@' occur
 * with directory-backed accounts (SSSD, winbind).
 */
int zm_user_name_valid(const char *s);

#endif
