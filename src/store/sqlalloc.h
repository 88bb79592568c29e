// sqlalloc.h — SQLite allocates through px_malloc (base/mem.h), so its memory is counted and the
// allocation-failure loops reach inside SQLite.
//
// Installed once per process, before SQLite initialises: by a constructor before main in any
// program that links the store, and again (a no-op then) at each store entry point that opens
// a connection. Nobody else needs to call anything.
#ifndef PX_SQLALLOC_H
#define PX_SQLALLOC_H

#include <stdbool.h>

// Makes px_malloc & co. SQLite's allocator (SQLITE_CONFIG_MALLOC) unless SQLite was initialised
// already; thread-safe (pthread_once). Returns true when SQLite allocates through px_malloc.
bool sqlalloc_install(void);

#endif
