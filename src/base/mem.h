// mem.h — the one counting allocator all project code uses.
//
// Every heap byte goes through px_malloc/px_calloc/px_realloc/px_free so that live bytes can be
// reported (--verbose, /metrics) and tests can make the Nth allocation fail (fault injection).
// Thread-safe: counters are atomics. The libraries that allocate for us go through it too: cJSON's
// hooks are installed by base/jsonx.c and SQLite's allocator by store/sqlalloc.c, so the fault
// hook reaches their allocations as well.
#ifndef PX_MEM_H
#define PX_MEM_H

#include <stddef.h>

// Returns owned memory (free with px_free), 16-byte aligned, or NULL on failure / injected fault.
void *px_malloc(size_t n);
void *px_calloc(size_t count, size_t size); // overflow-checked
// Like realloc(); p must come from px_malloc/px_calloc/px_realloc (not px_malloc_aligned).
// On failure returns NULL and p is untouched (still owned by the caller).
void *px_realloc(void *p, size_t n);
// Returns owned memory aligned to `align` (a power of two, >= 16, <= 4096); free with px_free.
void *px_malloc_aligned(size_t n, size_t align);
// NULL is a no-op.
void px_free(void *p);
// Returns owned copies (px_free); NULL on failure.
char *px_strdup(const char *s);
char *px_strndup(const char *s, size_t n);

// Payload size of a block from px_* (the n it was asked for); 0 for NULL. SQLite's xSize.
size_t px_mem_size(const void *p);

// Bytes currently allocated through px_* (payload sizes only) and allocations made so far.
size_t px_mem_live_bytes(void);
size_t px_mem_alloc_count(void);

// Test hook: the n-th allocation from now on (n >= 1) fails, and only that one; 0 disables.
void px_mem_fail_at(long n);
// Test hook: 1 when an injected failure has fired since the last px_mem_fail_at(), 2 when it
// fired inside a benign section (below): the caller was meant to carry on without the memory.
int px_mem_fault_fired(void);

// Brackets allocations whose failure the caller absorbs by design, so the fault loops can tell
// an absorbed failure from a swallowed one. Nestable, per thread. SQLite reports its "benign"
// allocations (hash-table resizes and the like) this way (store/sqlalloc.c).
void px_mem_benign_begin(void);
void px_mem_benign_end(void);

#endif
