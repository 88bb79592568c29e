// pool.h — a fixed pool of worker threads that run one function on every thread at once
// (ggml's compute-graph model): pool_run(fn) calls fn(arg, task) with task->ith = 0..nth-1, the
// caller's thread being ith 0, and returns when all have finished. Inside fn, threads split rows
// by (ith, nth) and meet at pool_barrier() between phases, so a whole forward pass costs one
// wake-up instead of one per kernel.
//
// A pool is owned by one caller at a time: pool_run is not reentrant and must not be called
// concurrently on the same pool. Different pools are independent.
#ifndef PX_POOL_H
#define PX_POOL_H

#include <stddef.h>

#include "err.h"

struct pool;

struct pool_task {
    int ith;           // this thread's index, 0..nth-1
    int nth;           // number of threads taking part
    struct pool *pool; // borrowed; for pool_barrier
};

typedef void (*pool_fn)(void *arg, const struct pool_task *task);

// Starts nth - 1 worker threads (nth in 1..LIMIT_THREADS). Returns owned pool via *out
// (pool_free).
int pool_new(int nth, struct pool **out, struct px_err *err);
// Stops and joins the workers. NULL is a no-op.
void pool_free(struct pool *p);
int pool_size(const struct pool *p);
// Runs fn on every thread of the pool; returns when all calls have returned.
void pool_run(struct pool *p, pool_fn fn, void *arg);
// Waits until every thread of the running pool_run has reached the barrier.
void pool_barrier(const struct pool_task *task);
// Splits [0, n) into nth nearly equal contiguous ranges; thread ith gets [*begin, *end).
void pool_split(size_t n, int ith, int nth, size_t *begin, size_t *end);

#endif
