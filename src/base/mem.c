// mem.c — counting allocator with a fault-injection hook.
//
// Layout of a block: [raw ... | header (16 bytes) | payload], where the header stores the payload
// size and the distance back to the pointer malloc returned, so px_free handles both plain and
// aligned blocks. The hook counts down allocations and fails exactly one (SQLite's malloc tests
// do the same) so each caller's cleanup path can be exercised; a failure injected inside a
// benign section (per-thread depth) is reported as such, since its caller goes on by design.
#include "mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hdr {
    size_t size;   // payload bytes
    size_t offset; // payload pointer minus raw pointer
};

#define HDR_SIZE 16

static atomic_size_t g_live;
static atomic_size_t g_count;
static atomic_long g_fail_at;
static atomic_int g_fired;         // 0, 1 fired, 2 fired inside a benign section
static _Thread_local int t_benign; // depth of px_mem_benign_begin on this thread

_Static_assert(sizeof(struct hdr) <= HDR_SIZE, "header must fit");

static int inject_fault(void)
{
    long n = atomic_load(&g_fail_at);
    if (n <= 0) {
        return 0;
    }
    long left = atomic_fetch_sub(&g_fail_at, 1);
    if (left == 1) {
        atomic_store(&g_fired, t_benign > 0 ? 2 : 1);
        return 1;
    }
    return 0;
}

static void *finish(void *raw, size_t offset, size_t n)
{
    char *p = (char *)raw + offset;
    struct hdr h = {n, offset};
    memcpy(p - HDR_SIZE, &h, sizeof h);
    atomic_fetch_add(&g_live, n);
    atomic_fetch_add(&g_count, 1);
    return p;
}

void *px_malloc(size_t n)
{
    if (n > SIZE_MAX - HDR_SIZE || inject_fault()) {
        return NULL;
    }
    void *raw = malloc(n + HDR_SIZE);
    if (raw == NULL) {
        return NULL;
    }
    return finish(raw, HDR_SIZE, n);
}

void *px_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    void *p = px_malloc(count * size);
    if (p != NULL) {
        memset(p, 0, count * size);
    }
    return p;
}

void *px_malloc_aligned(size_t n, size_t align)
{
    if (align < HDR_SIZE || align > 4096 || (align & (align - 1)) != 0) {
        return NULL;
    }
    if (n > SIZE_MAX - HDR_SIZE - align || inject_fault()) {
        return NULL;
    }
    char *raw = malloc(n + HDR_SIZE + align);
    if (raw == NULL) {
        return NULL;
    }
    uintptr_t base = (uintptr_t)raw + HDR_SIZE;
    uintptr_t aligned = (base + align - 1) & ~(uintptr_t)(align - 1);
    return finish(raw, (size_t)(aligned - (uintptr_t)raw), n);
}

void *px_realloc(void *p, size_t n)
{
    if (p == NULL) {
        return px_malloc(n);
    }
    struct hdr h;
    memcpy(&h, (char *)p - HDR_SIZE, sizeof h);
    if (h.offset != HDR_SIZE || n > SIZE_MAX - HDR_SIZE || inject_fault()) {
        return NULL;
    }
    char *raw = realloc((char *)p - HDR_SIZE, n + HDR_SIZE);
    if (raw == NULL) {
        return NULL;
    }
    atomic_fetch_sub(&g_live, h.size);
    atomic_fetch_sub(&g_count, 1); // finish() counts it again; a resize is not a new allocation
    return finish(raw, HDR_SIZE, n);
}

void px_free(void *p)
{
    if (p == NULL) {
        return;
    }
    struct hdr h;
    memcpy(&h, (char *)p - HDR_SIZE, sizeof h);
    atomic_fetch_sub(&g_live, h.size);
    free((char *)p - h.offset);
}

size_t px_mem_size(const void *p)
{
    if (p == NULL) {
        return 0;
    }
    struct hdr h;
    memcpy(&h, (const char *)p - HDR_SIZE, sizeof h);
    return h.size;
}

char *px_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = px_malloc(len + 1);
    if (d != NULL) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *px_strdup(const char *s)
{
    return px_strndup(s, SIZE_MAX - HDR_SIZE - 1);
}

size_t px_mem_live_bytes(void) { return atomic_load(&g_live); }
size_t px_mem_alloc_count(void) { return atomic_load(&g_count); }

void px_mem_fail_at(long n)
{
    atomic_store(&g_fired, 0);
    atomic_store(&g_fail_at, n > 0 ? n : 0);
}

int px_mem_fault_fired(void) { return atomic_load(&g_fired); }

void px_mem_benign_begin(void) { t_benign++; }
void px_mem_benign_end(void) { t_benign--; }
