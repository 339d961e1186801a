/*
 * test_fido2.c - unit tests of the FIDO2 pieces that need no key: the
 * signature-counter rule and suspension in the store (issue 4: a
 * non-zero counter that does not grow is a clone; a key that always says
 * 0 is fine), the stored data blob and the ident.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "fido2.h"
#include "store.h"

struct fx {
	char		 dir[64];
	struct zm_store	*st;
	int64_t		 id;
};

static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));
	struct zm_token	 t;
	char		 uri[128];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/zm-test-fido2.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(uri, sizeof(uri), "sqlite:%s/r.db", fx->dir);
	assert_int_equal(zm_store_open(uri, &fx->st), 0);
	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "alice");
	t.kind = ZM_TOK_FIDO2;
	snprintf(t.ident, sizeof(t.ident), "00aa11bb");
	t.last_step = -1;
	assert_int_equal(zm_store_token_add(fx->st, &t, 1000), 0);
	fx->id = t.id;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	char		 cmd[128];

	zm_store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static int
state_of(struct fx *fx)
{
	struct zm_token	t;
	int		s;

	assert_int_equal(zm_store_token_get(fx->st, fx->id, &t), 0);
	s = t.state;
	zm_token_clear(&t);
	return s;
}

/* A key that never counts: 0 after 0 is accepted, again and again. */
static void
test_counter_zero(void **state)
{
	struct fx	*fx = *state;
	uint32_t	 stored = 99;

	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 0,
	    2000, &stored), 0);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 0,
	    2001, &stored), 0);
}

/* Growing counters pass; equal or lower ones are refused with the stored value. */
static void
test_counter_must_grow(void **state)
{
	struct fx	*fx = *state;
	uint32_t	 stored = 0;

	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 5,
	    2000, &stored), 0);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 6,
	    2001, &stored), 0);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 6,
	    2002, &stored), ZM_ERR_REPLAY);
	assert_int_equal(stored, 6);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 3,
	    2003, &stored), ZM_ERR_REPLAY);
	assert_int_equal(stored, 6);
	/* Once it has counted, falling back to 0 is just as suspect. */
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 0,
	    2004, &stored), ZM_ERR_REPLAY);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 7,
	    2005, &stored), 0);
}

/* Suspension is durable and final here; a suspended token never counts. */
static void
test_suspend(void **state)
{
	struct fx	*fx = *state;
	uint32_t	 stored = 0;
	int64_t		*ids = NULL;
	size_t		 n = 0;

	assert_int_equal(zm_store_token_set_state(fx->st, fx->id,
	    ZM_TS_SUSPENDED, "clone suspected", 3000), 0);
	assert_int_equal(state_of(fx), ZM_TS_SUSPENDED);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, fx->id, 100,
	    3001, &stored), ZM_ERR_REVOKED);
	/* Not active any more: no second transition through this call. */
	assert_int_equal(zm_store_token_set_state(fx->st, fx->id,
	    ZM_TS_ACTIVE, "", 3002), ZM_ERR_NOTFOUND);
	assert_int_equal(state_of(fx), ZM_TS_SUSPENDED);
	/* The helpdesk can still revoke it. */
	assert_int_equal(zm_store_revoke(fx->st, "alice", fx->id, NULL,
	    "compromised", 3003, &ids, &n), 0);
	assert_int_equal(n, 1);
	free(ids);
	assert_int_equal(state_of(fx), ZM_TS_REVOKED);
	assert_int_equal(zm_store_token_set_state(fx->st, fx->id,
	    ZM_TS_SUSPENDED, "x", 3004), ZM_ERR_NOTFOUND);
}

/* A TOTP token's counter is not a FIDO counter. */
static void
test_counter_wrong_kind(void **state)
{
	struct fx	*fx = *state;
	struct zm_token	 t;
	uint32_t	 stored;

	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "alice");
	t.kind = ZM_TOK_TOTP;
	t.last_step = -1;
	assert_int_equal(zm_store_token_add(fx->st, &t, 1000), 0);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, t.id, 5, 2000,
	    &stored), ZM_ERR_INVALID);
	assert_int_equal(zm_store_fido_counter_advance(fx->st, 999999, 5,
	    2000, &stored), ZM_ERR_NOTFOUND);
}

static void
test_data_blob(void **state)
{
	uint8_t		 pk[ZM_FIDO_PK_LEN], id[48], *blob = NULL;
	const uint8_t	*p, *i;
	size_t		 len = 0, il;
	int		 cose = 0;

	(void)state;
	memset(pk, 0x11, sizeof(pk));
	memset(id, 0x22, sizeof(id));
	assert_int_equal(zm_fido_data_encode(ZM_FIDO_COSE_ES256, pk, id,
	    sizeof(id), &blob, &len), 0);
	assert_int_equal(len, 1 + sizeof(pk) + sizeof(id));
	assert_int_equal(zm_fido_data_decode(blob, len, &cose, &p, &i, &il), 0);
	assert_int_equal(cose, ZM_FIDO_COSE_ES256);
	assert_memory_equal(p, pk, sizeof(pk));
	assert_int_equal(il, sizeof(id));
	assert_memory_equal(i, id, sizeof(id));
	/* Truncated, no id, unknown version: refused. */
	assert_int_equal(zm_fido_data_decode(blob, 1 + sizeof(pk), &cose, &p,
	    &i, &il), ZM_ERR_INVALID);
	assert_int_equal(zm_fido_data_decode(blob, 10, &cose, &p, &i, &il),
	    ZM_ERR_INVALID);
	blob[0] = 3;
	assert_int_equal(zm_fido_data_decode(blob, len, &cose, &p, &i, &il),
	    ZM_ERR_INVALID);
	free(blob);
	assert_int_equal(zm_fido_data_encode(ZM_FIDO_COSE_ES256, pk, id, 0,
	    &blob, &len), ZM_ERR_INVALID);
	/* Only the two types we verify are stored. */
	assert_int_equal(zm_fido_data_encode(-257, pk, id, sizeof(id), &blob,
	    &len), ZM_ERR_INVALID);
}

/* Issue 4: an EdDSA credential keeps its type and its 32-byte key. */
static void
test_data_blob_eddsa(void **state)
{
	uint8_t		 pk[ZM_FIDO_EDDSA_PK_LEN], id[48], *blob = NULL;
	const uint8_t	*p, *i;
	size_t		 len = 0, il;
	int		 cose = 0;

	(void)state;
	memset(pk, 0x33, sizeof(pk));
	memset(id, 0x44, sizeof(id));
	assert_int_equal(zm_fido_data_encode(ZM_FIDO_COSE_EDDSA, pk, id,
	    sizeof(id), &blob, &len), 0);
	assert_int_equal(len, 1 + sizeof(pk) + sizeof(id));
	assert_int_equal(zm_fido_data_decode(blob, len, &cose, &p, &i, &il), 0);
	assert_int_equal(cose, ZM_FIDO_COSE_EDDSA);
	assert_memory_equal(p, pk, sizeof(pk));
	assert_int_equal(il, sizeof(id));
	assert_memory_equal(i, id, sizeof(id));
	/* The key without an id: refused (the id length follows the type). */
	assert_int_equal(zm_fido_data_decode(blob, 1 + sizeof(pk), &cose, &p,
	    &i, &il), ZM_ERR_INVALID);
	free(blob);
}

static void
test_ident(void **state)
{
	uint8_t	id[200];
	char	out[256];

	(void)state;
	memset(id, 0xab, sizeof(id));
	assert_int_equal(zm_fido_ident(id, 4, out, sizeof(out)), 0);
	assert_string_equal(out, "abababab");
	/* Too long for hex: a hash, still unique and fixed length. */
	assert_int_equal(zm_fido_ident(id, sizeof(id), out, sizeof(out)), 0);
	assert_int_equal(strncmp(out, "sha256:", 7), 0);
	assert_int_equal(strlen(out), 7 + 64);
	assert_int_equal(zm_fido_ident(id, 0, out, sizeof(out)),
	    ZM_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counter_zero, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counter_must_grow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_suspend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_wrong_kind, setup,
		    teardown),
		cmocka_unit_test(test_data_blob),
		cmocka_unit_test(test_data_blob_eddsa),
		cmocka_unit_test(test_ident),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
