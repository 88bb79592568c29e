// test_kern.c — every fast path against its scalar reference (C10): SIMD row kernels and the
// BLAS GEMM wrapper, over sizes that hit the vector body, the scalar tail and both together.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cpu.h"
#include "gemm.h"
#include "kern.h"

static uint32_t g_seed = 12345;
static float frand(float lo, float hi)
{
    g_seed = g_seed * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(g_seed >> 8) / (float)(1u << 24);
}

static const size_t k_sizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 64, 100, 384, 1536};
#define N_SIZES (sizeof k_sizes / sizeof k_sizes[0])

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        m = d > m ? d : m;
    }
    return m;
}

static void test_gelu_matches_reference(void **state)
{
    (void)state;
    if (!cpu_features()->avx2) {
        skip();
    }
    double worst = 0;
    for (size_t c = 0; c < N_SIZES; c++) {
        size_t n = k_sizes[c];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < n; i++) {
            a[i] = b[i] = frand(-12.0f, 12.0f);
        }
        kern_gelu_ref(a, n);
        kern_gelu_avx2(b, n);
        double d = max_abs_diff(a, b, n);
        worst = d > worst ? d : worst;
        if (d > 2e-6) {
            fail_msg("case %zu (n=%zu): gelu max diff %g", c, n, d);
        }
        free(a);
        free(b);
    }
    // exact points: 0 -> 0, large negative -> ~0, large positive -> x
    float v[8] = {0.0f, -30.0f, 30.0f, -1.0f, 1.0f, 0.5f, -0.5f, 3.0f}, r[8];
    memcpy(r, v, sizeof v);
    kern_gelu_ref(r, 8);
    kern_gelu_avx2(v, 8);
    assert_true(v[0] == 0.0f);
    assert_true(fabsf(v[1]) < 1e-6f);
    assert_true(fabsf(v[2] - 30.0f) < 1e-5f);
    printf("gelu avx2 vs erff reference: max abs diff %.3g\n", fmax(worst, max_abs_diff(v, r, 8)));
}

static void test_softmax_matches_reference(void **state)
{
    (void)state;
    if (!cpu_features()->avx2) {
        skip();
    }
    double worst = 0;
    for (size_t c = 0; c < N_SIZES; c++) {
        size_t n = k_sizes[c];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < n; i++) {
            a[i] = b[i] = frand(-30.0f, 30.0f);
        }
        kern_softmax_ref(a, n);
        kern_softmax_avx2(b, n);
        double d = max_abs_diff(a, b, n), sum = 0;
        for (size_t i = 0; i < n; i++) {
            sum += b[i];
        }
        worst = d > worst ? d : worst;
        if (d > 1e-6 || fabs(sum - 1.0) > 1e-5) {
            fail_msg("case %zu (n=%zu): softmax max diff %g, sum %g", c, n, d, sum);
        }
        free(a);
        free(b);
    }
    printf("softmax avx2 vs reference: max abs diff %.3g\n", worst);
}

static void test_layernorm_matches_reference(void **state)
{
    (void)state;
    if (!cpu_features()->avx2) {
        skip();
    }
    double worst = 0;
    for (size_t c = 0; c < N_SIZES; c++) {
        size_t n = k_sizes[c];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *r = malloc(n * sizeof *r);
        float *g = malloc(n * sizeof *g), *bb = malloc(n * sizeof *bb);
        for (size_t i = 0; i < n; i++) {
            a[i] = b[i] = frand(-5.0f, 5.0f);
            r[i] = frand(-1.0f, 1.0f);
            g[i] = frand(0.5f, 1.5f);
            bb[i] = frand(-0.5f, 0.5f);
        }
        kern_add_layernorm_ref(a, r, g, bb, n, 1e-12f);
        kern_add_layernorm_avx2(b, r, g, bb, n, 1e-12f);
        double d = max_abs_diff(a, b, n);
        worst = d > worst ? d : worst;
        if (d > 2e-5 && n > 1) {
            fail_msg("case %zu (n=%zu): layernorm max diff %g", c, n, d);
        }
        free(a);
        free(b);
        free(r);
        free(g);
        free(bb);
    }
    printf("layernorm avx2 vs reference: max abs diff %.3g\n", worst);
}

static void test_dot_axpy_match_reference(void **state)
{
    (void)state;
    if (!cpu_features()->avx2) {
        skip();
    }
    for (size_t c = 0; c < N_SIZES; c++) {
        size_t n = k_sizes[c];
        float *x = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *y1), *y2 = malloc(n * sizeof *y2);
        for (size_t i = 0; i < n; i++) {
            x[i] = frand(-1, 1);
            y1[i] = y2[i] = frand(-1, 1);
        }
        float d1 = kern_dot_ref(x, y1, n), d2 = kern_dot_avx2(x, y1, n);
        if (fabsf(d1 - d2) > 1e-4f) {
            fail_msg("case %zu (n=%zu): dot %g vs %g", c, n, d1, d2);
        }
        kern_axpy_ref(y1, 0.3f, x, n);
        kern_axpy_avx2(y2, 0.3f, x, n);
        if (max_abs_diff(y1, y2, n) > 1e-6) {
            fail_msg("case %zu (n=%zu): axpy differs", c, n);
        }
        free(x);
        free(y1);
        free(y2);
    }
}

// GEMM through BLAS (and the small-size reference path) against gemm_ref, with strides and bias.
static void test_gemm_matches_reference(void **state)
{
    (void)state;
    static const size_t shapes[][3] = {
        {1, 1, 1}, {2, 3, 4}, {15, 384, 384}, {48, 1536, 384}, {33, 17, 65}, {7, 384, 1536},
        {128, 64, 32},
    };
    double worst = 0;
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        size_t M = shapes[c][0], N = shapes[c][1], K = shapes[c][2];
        size_t lda = K + 3, ldw = K + 1, ldc = N + 2;
        float *A = malloc(M * lda * sizeof *A), *W = malloc(N * ldw * sizeof *W);
        float *b = malloc(N * sizeof *b), *C1 = calloc(M * ldc, sizeof *C1),
              *C2 = calloc(M * ldc, sizeof *C2);
        for (size_t i = 0; i < M * lda; i++) A[i] = frand(-1, 1);
        for (size_t i = 0; i < N * ldw; i++) W[i] = frand(-1, 1);
        for (size_t i = 0; i < N; i++) b[i] = frand(-1, 1);
        gemm(M, N, K, A, lda, W, ldw, b, C1, ldc);
        gemm_ref(M, N, K, A, lda, W, ldw, b, C2, ldc);
        double d = 0;
        for (size_t m = 0; m < M; m++) {
            double dm = max_abs_diff(C1 + m * ldc, C2 + m * ldc, N);
            d = dm > d ? dm : d;
        }
        worst = d > worst ? d : worst;
        if (d > 1e-3 * sqrt((double)K) / 10) {
            fail_msg("case %zu (%zux%zux%zu): gemm max diff %g", c, M, N, K, d);
        }
        // gemm_nn: C (M, N) = A (M, K) · B (K, N), with B taken from W's storage
        gemm_nn(M, N < ldw ? N : ldw, K < N ? K : N, A, lda, W, ldw, 0.0f, C1, ldc);
        gemm_nn_ref(M, N < ldw ? N : ldw, K < N ? K : N, A, lda, W, ldw, 0.0f, C2, ldc);
        for (size_t m = 0; m < M; m++) {
            double dm = max_abs_diff(C1 + m * ldc, C2 + m * ldc, N < ldw ? N : ldw);
            if (dm > 1e-3) {
                fail_msg("case %zu: gemm_nn row %zu max diff %g", c, m, dm);
            }
        }
        free(A);
        free(W);
        free(b);
        free(C1);
        free(C2);
    }
    printf("gemm (BLAS core %s) vs reference: max abs diff %.3g\n", gemm_blas_core(), worst);
}

// The packed-panel kernel (short batches) against gemm_ref: row tails (M not a multiple of 8),
// a last panel with fewer than 48 real columns, with and without bias, strided A and C.
static void test_packed_gemm_matches_reference(void **state)
{
    (void)state;
    if (!gemm_packed_available()) {
        skip();
    }
    static const size_t shapes[][3] = {{1, 48, 16}, {15, 1152, 384}, {9, 100, 33},
                                       {17, 384, 1536}, {8, 47, 5}, {3, 200, 64}};
    double worst = 0;
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        size_t M = shapes[c][0], N = shapes[c][1], K = shapes[c][2];
        size_t lda = K + 5, ldc = N + 3;
        float *A = malloc(M * lda * sizeof *A), *W = malloc(N * K * sizeof *W);
        float *b = malloc(N * sizeof *b), *P = malloc(gemm_packed_floats(N, K) * sizeof *P);
        float *C1 = calloc(M * ldc, sizeof *C1), *C2 = calloc(M * ldc, sizeof *C2);
        for (size_t i = 0; i < M * lda; i++) A[i] = frand(-1, 1);
        for (size_t i = 0; i < N * K; i++) W[i] = frand(-1, 1);
        for (size_t i = 0; i < N; i++) b[i] = frand(-1, 1);
        struct gemm_packed pw;
        gemm_pack(W, N, K, P, &pw);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            // two calls covering the panels, as two threads would
            gemm_packed_panels(M, A, lda, &pw, with_bias ? b : NULL, C1, ldc, 0, pw.n_panels / 2);
            gemm_packed_panels(M, A, lda, &pw, with_bias ? b : NULL, C1, ldc, pw.n_panels / 2,
                               pw.n_panels);
            gemm_ref(M, N, K, A, lda, W, K, with_bias ? b : NULL, C2, ldc);
            for (size_t m = 0; m < M; m++) {
                double d = max_abs_diff(C1 + m * ldc, C2 + m * ldc, N);
                worst = d > worst ? d : worst;
                if (d > 1e-4) {
                    fail_msg("case %zu (%zux%zux%zu, bias %d) row %zu: max diff %g", c, M, N, K,
                             with_bias, m, d);
                }
                // nothing written past column N (the padding of the last panel)
                for (size_t j = N; j < ldc; j++) {
                    assert_true(C1[m * ldc + j] == 0.0f);
                }
            }
        }
        free(A);
        free(W);
        free(b);
        free(P);
        free(C1);
        free(C2);
    }
    printf("packed AVX-512 gemm vs reference: max abs diff %.3g\n", worst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu_matches_reference),
        cmocka_unit_test(test_softmax_matches_reference),
        cmocka_unit_test(test_layernorm_matches_reference),
        cmocka_unit_test(test_dot_axpy_match_reference),
        cmocka_unit_test(test_gemm_matches_reference),
        cmocka_unit_test(test_packed_gemm_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
