/*
 * ticket.c - one-use tickets handed from the auth phase to the session
 * phase, so the session record says which token opened it (R5: revoking
 * the token ends the session).
 *
 * A ticket is 16 random bytes as 32 hex characters, bound to a user and
 * to the process that authenticated (uid, PID and start time; its parent
 * may redeem it too, as sshd opens the session in the parent of the
 * process that ran the authentication), and valid for ZM_TICKET_TTL
 * seconds.  The table is fixed-size and lives only in memory: after a
 * daemon restart an outstanding ticket is unknown, and the session it
 * would have opened is refused (session.c), never opened without its
 * token.  When full, the oldest ticket is evicted.  Lookups compare every live slot in constant time so the
 * time taken says nothing about how much of a guessed ticket matched.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "auth_impl.h"
#include "proc.h"
#include "err.h"
#include "log.h"
#include "tokend.h"
#include "wipe.h"

#define ZM_TICKET_HEX	32

struct zm_ticket {
	char			hex[ZM_TICKET_HEX + 1];
	char			user[ZM_NAME_MAX];
	struct zm_ticket_bind	bind;
	struct zm_ticket_info	info;
	int64_t			expires;	/* 0: slot free */
};

struct zm_ticket_table {
	struct zm_ticket	*slot;
	size_t			 cap;
};

int
zm_tickets_new(struct zm_ticket_table **out)
{
	struct zm_ticket_table *t;

	if (out == NULL)
		return ZM_ERR_INVALID;
	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ZM_ERR_NOMEM;
	if ((t->slot = calloc(ZM_TICKET_CAP, sizeof(*t->slot))) == NULL) {
		free(t);
		return ZM_ERR_NOMEM;
	}
	t->cap = ZM_TICKET_CAP;
	*out = t;
	return 0;
}

void
zm_tickets_free(struct zm_ticket_table *t)
{
	if (t == NULL)
		return;
	zm_freezero(t->slot, t->cap * sizeof(*t->slot));
	free(t);
}

int
zm_ticket_issue_at(struct zm_ticket_table *t, const char *user,
    const struct zm_ticket_bind *bind, const struct zm_ticket_info *info,
    int64_t now, char out[33])
{
	static const char	 hexdig[] = "0123456789abcdef";
	struct zm_ticket	*s = NULL;
	unsigned char		 rnd[ZM_TICKET_HEX / 2];
	size_t			 i, ulen;

	if (t == NULL || user == NULL || bind == NULL || info == NULL ||
	    out == NULL)
		return ZM_ERR_INVALID;
	out[0] = '\0';
	ulen = strlen(user);
	if (ulen == 0 || ulen >= ZM_NAME_MAX)
		return ZM_ERR_INVALID;

	/* A free or expired slot, else evict the one expiring first. */
	for (i = 0; i < t->cap; i++) {
		struct zm_ticket *c = &t->slot[i];

		if (c->expires == 0 || c->expires <= now) {
			s = c;
			break;
		}
		if (s == NULL || c->expires < s->expires)
			s = c;
	}
	if (s == NULL)
		return ZM_ERR_INTERNAL;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		zm_err("RAND_bytes failed");
		return ZM_ERR_CRYPTO;
	}
	zm_wipe(s, sizeof(*s));
	for (i = 0; i < sizeof(rnd); i++) {
		s->hex[2 * i] = hexdig[rnd[i] >> 4];
		s->hex[2 * i + 1] = hexdig[rnd[i] & 0x0f];
	}
	s->hex[ZM_TICKET_HEX] = '\0';
	zm_wipe(rnd, sizeof(rnd));
	memcpy(s->user, user, ulen + 1);
	s->bind = *bind;
	s->info = *info;
	s->expires = now + ZM_TICKET_TTL;
	memcpy(out, s->hex, ZM_TICKET_HEX + 1);
	return 0;
}

/* 1 if by is the process the ticket was issued to, or its parent. */
static int
bind_match(const struct zm_ticket_bind *b, const struct zm_ticket_bind *by)
{
	if (by->uid != b->uid || by->pid <= 0 || by->start == 0)
		return 0;
	if (by->pid == b->pid && by->start == b->start)
		return 1;
	return b->ppid > 1 && by->pid == b->ppid && by->start == b->pstart;
}

void
zm_ticket_bind_peer(const struct zm_peer *peer, struct zm_ticket_bind *out)
{
	struct zm_proc p, pp;

	memset(out, 0, sizeof(*out));
	out->uid = peer->uid;
	out->pid = peer->pid;
	if (zm_proc_read(peer->pid, &p) != ZM_OK)
		return;		/* start 0: matches nothing */
	out->start = p.start;
	if (p.ppid > 1 && zm_proc_read(p.ppid, &pp) == ZM_OK) {
		out->ppid = p.ppid;
		out->pstart = pp.start;
	}
}

int
zm_ticket_take_at(struct zm_ticket_table *t, const char *ticket,
    const char *user, const struct zm_ticket_bind *by, int64_t now,
    struct zm_ticket_info *info)
{
	struct zm_ticket	*hit = NULL;
	size_t			 i;
	int			 r = ZM_ERR_NOTFOUND;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (t == NULL || ticket == NULL || user == NULL || by == NULL)
		return ZM_ERR_INVALID;
	if (strnlen(ticket, ZM_TICKET_HEX + 1) != ZM_TICKET_HEX)
		return ZM_ERR_NOTFOUND;

	/* Touch every live slot: no early exit on a match. */
	for (i = 0; i < t->cap; i++) {
		struct zm_ticket *c = &t->slot[i];

		if (c->expires == 0)
			continue;
		if (zm_ct_memcmp(c->hex, ticket, ZM_TICKET_HEX) == 0)
			hit = c;
	}
	if (hit == NULL)
		return ZM_ERR_NOTFOUND;

	/*
	 * Consumed whatever happens next: a ticket shown for the wrong user
	 * or too late is burnt, never left for a second try.
	 */
	if (hit->expires <= now) {
		r = ZM_ERR_NOTFOUND;
	} else if (strcmp(hit->user, user) != 0) {
		zm_warn("ticket presented for %s but issued to %s", user,
		    hit->user);
		r = ZM_ERR_NOTFOUND;
	} else if (!bind_match(&hit->bind, by)) {
		zm_warn("ticket of %s presented by pid %ld uid %lu, issued "
		    "to pid %ld uid %lu", user, (long)by->pid,
		    (unsigned long)by->uid, (long)hit->bind.pid,
		    (unsigned long)hit->bind.uid);
		r = ZM_ERR_PERM;
	} else {
		if (info != NULL)
			*info = hit->info;
		r = 0;
	}
	zm_wipe(hit, sizeof(*hit));
	return r;
}
