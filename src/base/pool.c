// pool.c — see pool.h.
//
// Workers wait for a generation counter to change: they spin briefly (a forward pass issues
// runs back to back, and a futex wake-up costs tens of microseconds) and then sleep on a
// condition variable so an idle server burns no CPU. The barrier is a sense-reversing counter
// that spins with a pause and yields after a while, since nth never exceeds what the caller
// asked for and the threads are expected to be on separate cores.
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "limits.h"
#include "mem.h"

#define SPIN_BEFORE_SLEEP 200000
#define SPIN_BEFORE_YIELD 2000

struct pool {
    int nth;
    pthread_t *threads;  // (nth - 1) workers
    int n_started;       // workers actually started
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;     // bumped by pool_run to release the workers
    atomic_int done;     // workers finished with the current run
    atomic_bool quit;
    pool_fn fn;          // current job, valid while a run is in flight
    void *arg;
    atomic_int bar_count; // barrier arrivals in the current phase
    atomic_uint bar_phase;
};

struct worker_start {
    struct pool *pool;
    int ith;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *vp)
{
    struct pool *p = ((struct worker_start *)vp)->pool;
    int ith = ((struct worker_start *)vp)->ith;
    px_free(vp);
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        for (int spin = 0; g == seen && spin < SPIN_BEFORE_SLEEP && !atomic_load(&p->quit);
             spin++) {
            cpu_relax();
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit)) {
                pthread_cond_wait(&p->cv, &p->mu);
            }
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) {
            break;
        }
        seen = g;
        struct pool_task t = {ith, p->nth, p};
        p->fn(p->arg, &t);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
    return NULL;
}

int pool_new(int nth, struct pool **out, struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct pool *p = NULL;
    *out = NULL;
    if (nth < 1 || nth > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "thread count %d outside 1..%d", nth, LIMIT_THREADS);
    }
    p = px_calloc(1, sizeof *p);
    if (p == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory creating a thread pool");
        goto done;
    }
    p->nth = nth;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (nth > 1) {
        p->threads = px_calloc((size_t)(nth - 1), sizeof *p->threads);
        if (p->threads == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory creating a thread pool");
            goto done;
        }
    }
    for (int i = 1; i < nth; i++) {
        struct worker_start *ws = px_malloc(sizeof *ws);
        if (ws == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory starting worker %d", i);
            goto done;
        }
        ws->pool = p;
        ws->ith = i;
        if (pthread_create(&p->threads[i - 1], NULL, worker_main, ws) != 0) {
            px_free(ws);
            rc = px_fail(err, PX_EIO, "cannot start worker thread %d of %d", i, nth);
            goto done;
        }
        p->n_started++;
    }
    *out = p;
    p = NULL;
    rc = PX_OK;
done:
    pool_free(p);
    return rc;
}

void pool_free(struct pool *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_started; i++) {
        pthread_join(p->threads[i], NULL);
    }
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    px_free(p->threads);
    px_free(p);
}

int pool_size(const struct pool *p) { return p->nth; }

void pool_run(struct pool *p, pool_fn fn, void *arg)
{
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->done, 0);
    atomic_store(&p->bar_count, 0);
    if (p->nth > 1) {
        pthread_mutex_lock(&p->mu);
        atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    struct pool_task t = {0, p->nth, p};
    fn(arg, &t);
    int spin = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) < p->nth - 1) {
        if (++spin < SPIN_BEFORE_YIELD) {
            cpu_relax();
        } else {
            sched_yield();
        }
    }
}

void pool_barrier(const struct pool_task *task)
{
    struct pool *p = task->pool;
    if (task->nth <= 1) {
        return;
    }
    unsigned phase = atomic_load_explicit(&p->bar_phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) == task->nth - 1) {
        atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->bar_phase, 1, memory_order_release);
        return;
    }
    int spin = 0;
    while (atomic_load_explicit(&p->bar_phase, memory_order_acquire) == phase) {
        if (++spin < SPIN_BEFORE_YIELD) {
            cpu_relax();
        } else {
            sched_yield();
        }
    }
}

void pool_split(size_t n, int ith, int nth, size_t *begin, size_t *end)
{
    size_t per = n / (size_t)nth;
    size_t rem = n % (size_t)nth;
    size_t i = (size_t)ith;
    *begin = i * per + (i < rem ? i : rem);
    *end = *begin + per + (i < rem ? 1 : 0);
}
