// sqlalloc.c — see sqlalloc.h.
//
// SQLite's sqlite3_mem_methods over base/mem.h: xMalloc/xFree/xRealloc are px_malloc/px_free/
// px_realloc, xSize reads the payload size px_malloc keeps in its block header (px_mem_size),
// xRoundup rounds to 8 bytes (SQLite's own granularity; px_malloc gives 16-byte alignment, more
// than the 8 SQLite needs). SQLite never asks for 0 bytes nor reallocs NULL.
//
// sqlite3_config(SQLITE_CONFIG_MALLOC) is only allowed before sqlite3_initialize and is not
// thread-safe, so it runs under pthread_once, first from a constructor (before main, so even a
// program that opens a raw connection before any store does gets the allocator), and from
// store_open. Should SQLite have been initialised before that (by another constructor), it keeps
// its own allocator: memory SQLite hands out is always freed by SQLite, so either allocator is
// safe, the other one only uncounted.
//
// A failed allocation inside SQLite surfaces as SQLITE_NOMEM on the call that needed it, which
// store.c maps to PX_ENOMEM. SQLite also makes a few "benign" allocations whose failure it
// absorbs (hash-table resizes, the page cache's bulk allocation), so a call can succeed after an
// injected failure fired. SQLite brackets those with its benign-malloc hooks
// (SQLITE_TESTCTRL_BENIGN_MALLOC_HOOKS, what its own malloc tests use); they are forwarded to
// px_mem_benign_begin/end so the fault loops can tell an absorbed failure from a swallowed one.
#include "sqlalloc.h"

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

#include "mem.h"

static void *sq_malloc(int n)
{
    return n > 0 ? px_malloc((size_t)n) : NULL;
}
static void sq_free(void *p)
{
    px_free(p);
}
static void *sq_realloc(void *p, int n)
{
    return n > 0 ? px_realloc(p, (size_t)n) : NULL;
}
static int sq_size(void *p)
{
    return (int)px_mem_size(p);
}
static int sq_roundup(int n)
{
    return n > 0x7ffffff0 ? n : (n + 7) & ~7;
}
static int sq_init(void *user)
{
    (void)user;
    return SQLITE_OK;
}
static void sq_shutdown(void *user)
{
    (void)user;
}

static const sqlite3_mem_methods k_methods = {
    .xMalloc = sq_malloc,
    .xFree = sq_free,
    .xRealloc = sq_realloc,
    .xSize = sq_size,
    .xRoundup = sq_roundup,
    .xInit = sq_init,
    .xShutdown = sq_shutdown,
    .pAppData = NULL,
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_installed;

static void install(void)
{
    g_installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &k_methods) == SQLITE_OK;
    if (g_installed) {
        sqlite3_test_control(SQLITE_TESTCTRL_BENIGN_MALLOC_HOOKS, px_mem_benign_begin,
                             px_mem_benign_end);
    }
}

bool sqlalloc_install(void)
{
    pthread_once(&g_once, install);
    return g_installed;
}

__attribute__((constructor)) static void sqlalloc_at_start(void)
{
    (void)sqlalloc_install();
}
