/*
 * auth_impl.h - internals of auth.c and ticket.c shared with their unit
 * tests.  Not part of the daemon's interface (tokend.h).
 */
#ifndef ZM_AUTH_IMPL_H
#define ZM_AUTH_IMPL_H

#include <stdint.h>

struct zm_ticket_table;
struct zm_tokend;
struct zm_proof;

#define ZM_TICKET_CAP	4096	/* outstanding tickets; the oldest is evicted */
#define ZM_TICKET_TTL	600	/* seconds from auth to session open */

/* zm_ticket_issue / zm_ticket_take with an explicit clock (tests). */
int zm_ticket_issue_at(struct zm_ticket_table *t, const char *user,
    int64_t token_id, unsigned methods, int64_t now, char out[33]);
int zm_ticket_take_at(struct zm_ticket_table *t, const char *ticket,
    const char *user, int64_t now, int64_t *token_id, unsigned *methods);

/*
 * auth_fido2.c: the FIDO2 step for user.  0: *token_id and *proof (UV as
 * the signed flags say; by PIN = knowledge when pin was sent, else
 * built-in).  ZM_ERR_DENIED: no key of the user answered, the assertion
 * does not verify, or (*pin_status ZM_FIDO_PIN_WRONG / _BLOCKED, with
 * *pin_left) the key refused the PIN; ZM_ERR_REPLAY: cloned key
 * (suspended and audited); ZM_ERR_UNAVAILABLE / ZM_ERR_TIMEOUT: no key or
 * no touch.
 */
int zm_auth_fido2(struct zm_tokend *d, const char *user, const char *zone,
    int want_uv, const char *pin, int *pin_status, int *pin_left,
    int64_t *token_id, struct zm_proof *proof);
#endif
