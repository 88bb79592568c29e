// test_segment.c — k-means: well-separated known clusters are recovered exactly, the same seed
// gives the same segments (and labels are canonical: largest first), the silhouette picks the
// true k from a range, k > rows and non-finite values are clear errors.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "err.h"
#include "segment.h"

// n rows in k blobs of spread 0.3 around centres 10 apart in dim dims; truth (n) gets the blob.
static float *blobs(size_t n, size_t dim, int k, int *truth, unsigned seed)
{
    float *x = calloc(n * dim, sizeof *x);
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        int b = (int)(i % (size_t)k) == 0 && i % 7 == 0 ? 0 : (int)((i * 5 + i / 3) % (size_t)k);
        truth[i] = b;
        for (size_t d = 0; d < dim; d++) {
            s = s * 1103515245u + 12345u;
            double u = ((s >> 8) & 0xFFFF) / 65536.0 - 0.5;
            x[i * dim + d] = (float)(10.0 * ((size_t)b == d % (size_t)k) + 3.0 * b + 0.6 * u);
        }
    }
    return x;
}

static void test_recovers_clusters(void **state)
{
    (void)state;
    enum { N = 600, DIM = 5, K = 3 };
    int truth[N];
    float *x = blobs(N, DIM, K, truth, 9);
    struct kmeans_params p = kmeans_default_params();
    p.k = K;
    struct kmeans_result r;
    struct px_err err = {0};
    assert_int_equal(kmeans_fit(x, N, DIM, &p, &r, &err), PX_OK);
    // a one-to-one map from found clusters to true blobs
    int map[K] = {-1, -1, -1};
    for (size_t i = 0; i < N; i++) {
        int f = r.assign[i];
        if (map[f] < 0) {
            map[f] = truth[i];
        }
        assert_int_equal(map[f], truth[i]);
    }
    assert_true(map[0] != map[1] && map[1] != map[2] && map[0] != map[2]);
    assert_true(r.sizes[0] >= r.sizes[1] && r.sizes[1] >= r.sizes[2]);
    assert_int_equal(r.sizes[0] + r.sizes[1] + r.sizes[2], N);
    assert_true(r.silhouette > 0.8);
    print_message("k=3: sizes %zu/%zu/%zu, inertia %.1f, silhouette %.3f\n", r.sizes[0], r.sizes[1],
                  r.sizes[2], r.inertia, r.silhouette);

    // same seed, same segments; the range picks k = 3
    struct kmeans_result r2;
    assert_int_equal(kmeans_fit(x, N, DIM, &p, &r2, &err), PX_OK);
    assert_memory_equal(r.assign, r2.assign, N * sizeof(int32_t));
    kmeans_result_free(&r2);
    double scores[5];
    assert_int_equal(kmeans_choose(x, N, DIM, 2, 6, &p, &r2, scores, &err), PX_OK);
    print_message("silhouette k=2..6: %.3f %.3f %.3f %.3f %.3f\n", scores[0], scores[1], scores[2],
                  scores[3], scores[4]);
    assert_int_equal(r2.k, 3);
    kmeans_result_free(&r2);
    kmeans_result_free(&r);
    free(x);
}

static void test_errors(void **state)
{
    (void)state;
    float x[6] = {0, 1, 2, 3, 4, 5};
    struct kmeans_params p = kmeans_default_params();
    p.k = 4;
    struct kmeans_result r;
    struct px_err err = {0};
    assert_int_equal(kmeans_fit(x, 3, 2, &p, &r, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "k 4 is more than the 3 rows"));
    assert_null(r.assign);
    assert_int_equal(kmeans_choose(x, 3, 2, 2, 5, &p, &r, NULL, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "more than the 3 rows"));
    x[3] = NAN;
    p.k = 2;
    assert_int_equal(kmeans_fit(x, 3, 2, &p, &r, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "row 1, column 1"));
    x[3] = 3;
    p.k = 3; // k == rows: every row its own cluster
    assert_int_equal(kmeans_fit(x, 3, 2, &p, &r, &err), PX_OK);
    assert_int_equal(r.sizes[0] + r.sizes[1] + r.sizes[2], 3);
    assert_true(r.inertia < 1e-9);
    kmeans_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovers_clusters),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
