/*
 * fido2_impl.h - internals shared by fido2.c (devices, enrolment,
 * verification) and fido2_login.c (logins in worker threads).  Not part
 * of the daemon's interface (fido2.h).
 */
#ifndef ZM_FIDO2_IMPL_H
#define ZM_FIDO2_IMPL_H

#include <pthread.h>
#include <stddef.h>

#include <fido.h>

#define ZM_FIDO_MAX_SOCKETS	16
#define ZM_FIDO_MAX_HID		16

struct zm_fido {
	int		 use_hid;
	char		*sockets[ZM_FIDO_MAX_SOCKETS];
	size_t		 n_sockets;
	char		*rp_id;
	/*
	 * Login workers (fido2_login.c).  The fields above are not changed
	 * after zm_fido_new(), so workers read them without a lock; running
	 * is under mu, and zm_fido_free() waits for it to reach 0.
	 */
	int		 wake[2];	/* worker -> loop: a job is over */
	pthread_mutex_t	 mu;
	pthread_cond_t	 idle;
	unsigned	 running;
};

/* The keys to try: the sockets first, then the HID keys found now. */
struct zm_fido_devlist {
	char	*hid[ZM_FIDO_MAX_HID];
	size_t	 n_hid;
};

void zm_fido_devlist_load(struct zm_fido *f, struct zm_fido_devlist *dl);
void zm_fido_devlist_free(struct zm_fido_devlist *dl);
/*
 * Open device number idx with every exchange, the opening one
 * (CTAPHID_INIT, getInfo) included, bounded by timeout_ms (> 0).  NULL
 * when it does not open in time or is no FIDO2 key; *more: idx is not
 * the last.
 */
fido_dev_t *zm_fido_dev_open(struct zm_fido *f, struct zm_fido_devlist *dl,
    size_t idx, int timeout_ms, int *more);
void zm_fido_dev_close(fido_dev_t **dev);
/* A libfido2 error as ZM_ERR_*. */
int zm_fido_err(int fr);
/*
 * The socket transport of the calling thread stops waiting as soon as
 * this descriptor is readable (a worker's cancel pipe; -1: none).
 */
extern __thread int zm_fido_cancel_fd;

#endif
