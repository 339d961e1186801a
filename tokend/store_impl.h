/*
 * store_impl.h - what a registry backend sees (private to tokend/store*.c).
 *
 * Every backend's store object begins with struct zm_store, so store.c can
 * dispatch through st->ops without knowing the backend's layout.
 */
#ifndef ZM_STORE_IMPL_H
#define ZM_STORE_IMPL_H

#include "store.h"

struct zm_store {
	const struct zm_store_ops	*ops;
};

/* store_sqlite.c: "sqlite:PATH" */
extern const struct zm_store_ops zm_store_sqlite_ops;

#endif
