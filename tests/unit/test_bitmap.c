// test_bitmap.c — candidate sets against a bool-array reference: single bits, fill (tail bits
// stay clear), and/or/andnot, popcount, iteration, size checks and allocation failures.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "bitmap.h"
#include "limits.h"
#include "mem.h"

static const size_t SIZES[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 1000, 4096, 5003};
#define N_SIZES (sizeof SIZES / sizeof SIZES[0])

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Fills b and ref (n bools) with bits set with probability pct / 100.
static void random_fill(struct bitmap *b, bool *ref, size_t n, unsigned pct)
{
    bitmap_zero(b);
    for (size_t i = 0; i < n; i++) {
        ref[i] = rnd() % 100 < pct;
        if (ref[i]) {
            bitmap_set(b, i);
        }
    }
}

static void check_equal(const struct bitmap *b, const bool *ref, size_t n, size_t case_i)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (bitmap_test(b, i) != ref[i]) {
            fail_msg("case %zu (n=%zu): bit %zu is %d, expected %d", case_i, n, i,
                     bitmap_test(b, i), ref[i]);
        }
        count += ref[i];
    }
    assert_int_equal(bitmap_count(b), count);
    assert_false(bitmap_test(b, n)); // past the end
    // iteration visits exactly the set bits, in order
    size_t seen = 0, prev = 0;
    for (size_t i = bitmap_next(b, 0); i != SIZE_MAX; i = bitmap_next(b, i + 1)) {
        assert_true(i < n && ref[i]);
        assert_true(seen == 0 || i > prev);
        prev = i;
        seen++;
    }
    assert_int_equal(seen, count);
    uint32_t *ids = malloc((count + 1) * sizeof *ids);
    assert_int_equal(bitmap_to_ids(b, ids, count + 1), count);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (ref[i]) {
            assert_int_equal(ids[j++], i);
        }
    }
    free(ids);
    // tail bits of the last word are zero
    if (bitmap_n_words(b) > 0 && n % 64 != 0) {
        assert_int_equal(bitmap_words(b)[bitmap_n_words(b) - 1] >> (n % 64), 0);
    }
}

static void test_bitmap_single_bits_fill_count(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_SIZES; c++) {
        size_t n = SIZES[c];
        struct bitmap *b = NULL;
        struct px_err err = {0};
        assert_int_equal(bitmap_new(n, &b, &err), PX_OK);
        assert_int_equal(bitmap_size(b), n);
        assert_int_equal(bitmap_count(b), 0);
        assert_int_equal(bitmap_next(b, 0), SIZE_MAX);
        bool *ref = calloc(n + 1, sizeof *ref);
        bitmap_fill(b);
        memset(ref, 1, n);
        check_equal(b, ref, n, c);
        bitmap_set(b, n); // ignored: out of range
        bitmap_clear(b, n + 5);
        check_equal(b, ref, n, c);
        for (size_t i = 0; i < n; i += 3) {
            bitmap_clear(b, i);
            ref[i] = false;
        }
        check_equal(b, ref, n, c);
        bitmap_zero(b);
        memset(ref, 0, n);
        check_equal(b, ref, n, c);
        if (n > 0) {
            bitmap_set(b, n - 1);
            ref[n - 1] = true;
            check_equal(b, ref, n, c);
            assert_int_equal(bitmap_next(b, 0), n - 1);
            assert_int_equal(bitmap_next(b, n - 1), n - 1);
        }
        free(ref);
        bitmap_free(b);
    }
    bitmap_free(NULL);
}

static void test_bitmap_and_or_andnot_match_reference(void **state)
{
    (void)state;
    static const unsigned PCTS[] = {0, 1, 10, 50, 90, 100};
    for (size_t c = 0; c < N_SIZES; c++) {
        size_t n = SIZES[c];
        struct bitmap *a = NULL, *b = NULL, *x = NULL;
        struct px_err err = {0};
        assert_int_equal(bitmap_new(n, &a, &err), PX_OK);
        assert_int_equal(bitmap_new(n, &b, &err), PX_OK);
        bool *ra = calloc(n + 1, 1), *rb = calloc(n + 1, 1), *rx = calloc(n + 1, 1);
        for (size_t p = 0; p < sizeof PCTS / sizeof PCTS[0]; p++) {
            random_fill(a, ra, n, PCTS[p]);
            random_fill(b, rb, n, PCTS[(p + 2) % 6]);
            for (int op = 0; op < 3; op++) {
                assert_int_equal(bitmap_clone(a, &x, &err), PX_OK);
                int rc = op == 0 ? bitmap_and(x, b, &err)
                         : op == 1 ? bitmap_or(x, b, &err)
                                   : bitmap_andnot(x, b, &err);
                assert_int_equal(rc, PX_OK);
                for (size_t i = 0; i < n; i++) {
                    rx[i] = op == 0 ? (ra[i] && rb[i]) : op == 1 ? (ra[i] || rb[i]) : (ra[i] && !rb[i]);
                }
                check_equal(x, rx, n, c * 100 + p * 10 + (size_t)op);
                bitmap_free(x);
                x = NULL;
            }
        }
        free(ra);
        free(rb);
        free(rx);
        bitmap_free(a);
        bitmap_free(b);
    }
}

static void test_bitmap_rejects_size_mismatch_and_limit(void **state)
{
    (void)state;
    struct bitmap *a = NULL, *b = NULL;
    struct px_err err = {0};
    assert_int_equal(bitmap_new(100, &a, &err), PX_OK);
    assert_int_equal(bitmap_new(101, &b, &err), PX_OK);
    bitmap_fill(a);
    assert_int_equal(bitmap_and(a, b, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "100 and 101"));
    assert_int_equal(bitmap_or(a, b, &err), PX_EINVAL);
    assert_int_equal(bitmap_andnot(a, b, &err), PX_EINVAL);
    assert_int_equal(bitmap_count(a), 100); // unchanged
    bitmap_free(a);
    bitmap_free(b);
    struct bitmap *big = NULL;
    assert_int_equal(bitmap_new((size_t)LIMIT_BITMAP_BITS + 1, &big, &err), PX_ELIMIT);
    assert_null(big);
}

static int open_bitmap(void *user, struct px_err *err)
{
    return bitmap_new(1000, (struct bitmap **)user, err);
}

static void close_bitmap(void *user)
{
    struct bitmap **b = user;
    bitmap_free(*b);
    *b = NULL;
}

static void test_bitmap_alloc_failure(void **state)
{
    (void)state;
    struct bitmap *b = NULL;
    assert_true(tu_check_alloc_failures(open_bitmap, close_bitmap, &b) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitmap_single_bits_fill_count),
        cmocka_unit_test(test_bitmap_and_or_andnot_match_reference),
        cmocka_unit_test(test_bitmap_rejects_size_mismatch_and_limit),
        cmocka_unit_test(test_bitmap_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
