// test_pool.c — the thread pool: every thread runs, barriers order phases, splits cover [0, n).
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mem.h"
#include "pool.h"

#define N_ITEMS 1000
#define N_PHASES 50

struct job {
    int data[N_ITEMS];
    atomic_int errors;
    atomic_int calls;
};

// Phase p: each thread adds 1 to its share; after the barrier, each checks ANOTHER thread's
// share already has the value p + 1 (fails if the barrier let a thread through early).
static void phases(void *arg, const struct pool_task *t)
{
    struct job *j = arg;
    atomic_fetch_add(&j->calls, 1);
    for (int p = 0; p < N_PHASES; p++) {
        size_t lo, hi;
        pool_split(N_ITEMS, t->ith, t->nth, &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            j->data[i]++;
        }
        pool_barrier(t);
        pool_split(N_ITEMS, (t->ith + 1) % t->nth, t->nth, &lo, &hi);
        for (size_t i = lo; i < hi; i++) {
            if (j->data[i] != p + 1) {
                atomic_fetch_add(&j->errors, 1);
            }
        }
        pool_barrier(t);
    }
}

static void test_pool_runs_all_threads_with_barriers(void **state)
{
    (void)state;
    static const int counts[] = {1, 2, 3, 4, 7};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        struct pool *p = NULL;
        struct px_err err = {0};
        assert_int_equal(pool_new(counts[c], &p, &err), PX_OK);
        assert_int_equal(pool_size(p), counts[c]);
        for (int run = 0; run < 20; run++) {
            struct job *j = calloc(1, sizeof *j);
            pool_run(p, phases, j);
            if (atomic_load(&j->errors) != 0 || atomic_load(&j->calls) != counts[c]) {
                fail_msg("case %zu (nth=%d) run %d: %d errors, %d calls", c, counts[c], run,
                         atomic_load(&j->errors), atomic_load(&j->calls));
            }
            for (int i = 0; i < N_ITEMS; i++) {
                assert_int_equal(j->data[i], N_PHASES);
            }
            free(j);
        }
        pool_free(p);
    }
}

static void test_pool_split_covers_range(void **state)
{
    (void)state;
    for (size_t n = 0; n < 50; n++) {
        for (int nth = 1; nth <= 9; nth++) {
            size_t expect = 0;
            for (int i = 0; i < nth; i++) {
                size_t lo, hi;
                pool_split(n, i, nth, &lo, &hi);
                assert_int_equal(lo, expect);
                assert_true(hi >= lo && hi - lo <= n / (size_t)nth + 1);
                expect = hi;
            }
            assert_int_equal(expect, n);
        }
    }
}

static void test_pool_rejects_bad_counts(void **state)
{
    (void)state;
    struct pool *p = NULL;
    struct px_err err = {0};
    assert_int_equal(pool_new(0, &p, &err), PX_EINVAL);
    assert_null(p);
    assert_non_null(strstr(err.msg, "thread count 0"));
    pool_free(NULL);
}

static void test_pool_allocation_failures_are_clean(void **state)
{
    (void)state;
    size_t base = px_mem_live_bytes();
    for (long n = 1; n < 50; n++) {
        struct pool *p = NULL;
        struct px_err err = {0};
        px_mem_fail_at(n);
        int rc = pool_new(3, &p, &err);
        px_mem_fail_at(0);
        if (rc == PX_OK) {
            pool_free(p);
            assert_int_equal(px_mem_live_bytes(), base);
            return;
        }
        assert_int_equal(rc, PX_ENOMEM);
        assert_null(p);
        assert_int_equal(px_mem_live_bytes(), base);
    }
    fail_msg("pool_new never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_runs_all_threads_with_barriers),
        cmocka_unit_test(test_pool_split_covers_range),
        cmocka_unit_test(test_pool_rejects_bad_counts),
        cmocka_unit_test(test_pool_allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
