// book_lanes.c — the book's per-search state and its query-vector cache.
//
// Lanes: a lane is what one search needs for itself — an embedder context (its arena is scratch
// for the query's forward pass) and a thread pool (the vector scan and the encoder split across
// n_threads). Everything else in the book is read-only, so n_lanes searches run at once; a
// search that needs a lane while all are busy waits on a condition variable (a stack of idle
// lane indices under one mutex).
//
// Query cache: recent query vectors by semantic text (exact bytes), least recently used out
// first, LIMIT_QUERY_CACHE entries. Embedding the query is most of a dense search's time, and
// the same texts come back: sample queries, a page re-running a search with one filter chip
// removed (the text part is unchanged), paging. A linear scan of 256 hashes under a mutex costs
// far less than the forward pass it saves.
#include <string.h>

#include "book_int.h"
#include "limits.h"
#include "mem.h"

// ---- lanes ----

int book_lanes_init(struct book_lanes *l, int n_lanes, int n_threads, struct px_err *err)
{
    memset(l, 0, sizeof *l);
    if (n_lanes < 1 || n_lanes > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "concurrent searches must be 1..%d, got %d", LIMIT_THREADS,
                       n_lanes);
    }
    l->lanes = px_calloc((size_t)n_lanes, sizeof *l->lanes);
    l->free_lanes = px_calloc((size_t)n_lanes, sizeof *l->free_lanes);
    if (l->lanes == NULL || l->free_lanes == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (pthread_mutex_init(&l->lock, NULL) != 0) {
        return px_fail(err, PX_EINTERNAL, "pthread_mutex_init failed");
    }
    if (pthread_cond_init(&l->idle, NULL) != 0) {
        pthread_mutex_destroy(&l->lock);
        return px_fail(err, PX_EINTERNAL, "pthread_cond_init failed");
    }
    l->sync = true;
    for (int i = 0; i < n_lanes; i++) {
        int rc = pool_new(n_threads, &l->lanes[i].pool, err);
        if (rc != PX_OK) {
            return rc;
        }
        l->n_lanes++;
        l->free_lanes[l->n_free++] = (size_t)i;
    }
    return PX_OK;
}

void book_lanes_free(struct book_lanes *l)
{
    for (size_t i = 0; l->lanes != NULL && i < l->n_lanes; i++) {
        embed_ctx_free(l->lanes[i].ectx);
        pool_free(l->lanes[i].pool);
    }
    px_free(l->lanes);
    px_free(l->free_lanes);
    if (l->sync) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->idle);
    }
    memset(l, 0, sizeof *l);
}

struct book_lane *book_lane_take(struct book_lanes *l)
{
    pthread_mutex_lock(&l->lock);
    while (l->n_free == 0) {
        pthread_cond_wait(&l->idle, &l->lock);
    }
    struct book_lane *lane = &l->lanes[l->free_lanes[--l->n_free]];
    pthread_mutex_unlock(&l->lock);
    return lane;
}

void book_lane_give(struct book_lanes *l, struct book_lane *lane)
{
    pthread_mutex_lock(&l->lock);
    l->free_lanes[l->n_free++] = (size_t)(lane - l->lanes);
    pthread_cond_signal(&l->idle);
    pthread_mutex_unlock(&l->lock);
}

// ---- query cache ----

struct qcache_entry {
    uint64_t hash;           // FNV-1a of the text; 0 for an empty slot
    char *text;              // owned
    size_t len;
    unsigned long long used; // tick of the last hit
};

struct book_qcache {
    struct qcache_entry e[LIMIT_QUERY_CACHE];
    float *vecs; // owned: (LIMIT_QUERY_CACHE, dim)
    int dim;
    unsigned long long tick;
    size_t n_hits, n_misses;
    pthread_mutex_t lock;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h ? h : 1;
}

void book_qcache_free(struct book_qcache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < LIMIT_QUERY_CACHE; i++) {
        px_free(c->e[i].text);
    }
    pthread_mutex_destroy(&c->lock);
    px_free(c->vecs);
    px_free(c);
}

struct book_qcache *book_qcache_new(int dim)
{
    struct book_qcache *c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->dim = dim;
    c->vecs = px_malloc((size_t)LIMIT_QUERY_CACHE * (size_t)dim * sizeof *c->vecs);
    if (c->vecs == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        px_free(c->vecs);
        px_free(c);
        return NULL;
    }
    return c;
}

bool book_qcache_get(struct book_qcache *c, const char *text, size_t len, float *q)
{
    uint64_t h = fnv1a(text, len);
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < LIMIT_QUERY_CACHE && !hit; i++) {
        struct qcache_entry *e = &c->e[i];
        if (e->hash == h && e->len == len && memcmp(e->text, text, len) == 0) {
            memcpy(q, c->vecs + i * (size_t)c->dim, (size_t)c->dim * sizeof *q);
            e->used = ++c->tick;
            hit = true;
        }
    }
    c->n_hits += hit;
    c->n_misses += !hit;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void book_qcache_put(struct book_qcache *c, const char *text, size_t len, const float *q)
{
    char *copy = px_malloc(len + 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    pthread_mutex_lock(&c->lock);
    size_t w = 0;
    for (size_t i = 1; i < LIMIT_QUERY_CACHE; i++) {
        if (c->e[i].used < c->e[w].used) w = i;
    }
    px_free(c->e[w].text);
    c->e[w] = (struct qcache_entry){fnv1a(text, len), copy, len, ++c->tick};
    memcpy(c->vecs + w * (size_t)c->dim, q, (size_t)c->dim * sizeof *q);
    pthread_mutex_unlock(&c->lock);
}

void book_qcache_stats(struct book_qcache *c, size_t *hits, size_t *misses)
{
    pthread_mutex_lock(&c->lock);
    *hits = c->n_hits;
    *misses = c->n_misses;
    pthread_mutex_unlock(&c->lock);
}
