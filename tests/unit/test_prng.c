// test_prng.c — base/prng: splitmix64 and xoshiro256** against their published reference
// outputs, the ranges of the unit and bounded draws, Box-Muller's moments, and weighted picks
// that never pick a zero weight.
#include <math.h>
#include <stdint.h>

#include "testutil.h"

#include "prng.h"

static void test_reference_outputs(void **state)
{
    (void)state;
    uint64_t x = 0;
    assert_true(prng_splitmix64(&x) == 0xE220A8397B1DCDAFull);
    assert_true(prng_splitmix64(&x) == 0x6E789E6AA1B965F4ull);
    struct prng r = {{1, 2, 3, 4}};
    assert_true(prng_next(&r) == 11520ull);
    assert_true(prng_next(&r) == 0ull);
    assert_true(prng_next(&r) == 1509978240ull);
    assert_true(prng_next(&r) == 1215971899390074240ull);
}

static void test_draws(void **state)
{
    (void)state;
    assert_true(prng_unit(0) == 0.0);
    assert_true(prng_unit(UINT64_MAX) < 1.0);
    assert_int_equal(prng_below(UINT64_MAX, 7), 6);
    assert_int_equal(prng_below(0, 7), 0);
    struct prng r = {{0}};
    uint64_t seed = 42;
    for (int k = 0; k < 4; k++) {
        r.s[k] = prng_splitmix64(&seed);
    }
    double s = 0, s2 = 0;
    int n = 20000, hits[3] = {0, 0, 0};
    static const double w[3] = {1.0, 0.0, 3.0};
    for (int i = 0; i < n; i++) {
        double g = prng_gauss(&r);
        s += g;
        s2 += g * g;
        hits[prng_pick(&r, w, 3)]++;
        assert_true(prng_below(prng_next(&r), 10) < 10);
    }
    assert_true(fabs(s / n) < 0.05);
    assert_true(fabs(s2 / n - 1.0) < 0.05);
    assert_int_equal(hits[1], 0);
    assert_true(hits[2] > 2 * hits[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_outputs),
        cmocka_unit_test(test_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
