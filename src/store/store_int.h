// store_int.h — what the store's files share (not a public API): the connection behind a
// struct store and the error copier, for saved.c beside store.c.
#ifndef PX_STORE_INT_H
#define PX_STORE_INT_H

#include <sqlite3.h>

#include "err.h"
#include "store.h"

// The connection (borrowed).
sqlite3 *store_sqlite(struct store *s);
// Copies SQLite's last error into err as "<what>: <message>" and returns the px status.
int store_sql_fail(struct store *s, struct px_err *err, const char *what);
// Whether a transaction is open (store_begin).
bool store_in_tx(const struct store *s);

#endif
