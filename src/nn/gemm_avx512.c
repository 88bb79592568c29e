// gemm_avx512.c — the packed-panel kernel of gemm.h (compiled per function with
// target("avx512f"); reached only when gemm_packed_available()).
//
// For each panel (K, 48) and each block of 8 rows of A, 24 zmm accumulators hold C's 8 x 48
// block (started from the bias), and every k step loads 3 panel vectors and broadcasts 8 A
// values: 24 FMAs per 11 loads, with the panel streamed once per 8 rows. A block past the last
// row re-reads the last row (results discarded); a panel past N stores only its real columns.
#include "gemm.h"

#include <string.h>

#if defined(__x86_64__)

#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))

TGT static void block8(size_t rows, const float *const a[8], const float *w, size_t K,
                       const float *bias48, float *c[8], size_t ncols)
{
    __m512 acc[8][3];
    __m512 b0 = bias48 ? _mm512_loadu_ps(bias48) : _mm512_setzero_ps();
    __m512 b1 = bias48 ? _mm512_loadu_ps(bias48 + 16) : _mm512_setzero_ps();
    __m512 b2 = bias48 ? _mm512_loadu_ps(bias48 + 32) : _mm512_setzero_ps();
    for (int i = 0; i < 8; i++) {
        acc[i][0] = b0;
        acc[i][1] = b1;
        acc[i][2] = b2;
    }
    for (size_t k = 0; k < K; k++) {
        const float *wk = w + k * GEMM_PANEL;
        __m512 w0 = _mm512_loadu_ps(wk);
        __m512 w1 = _mm512_loadu_ps(wk + 16);
        __m512 w2 = _mm512_loadu_ps(wk + 32);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) { // fully unrolled: acc stays in registers
            __m512 x = _mm512_set1_ps(a[i][k]);
            acc[i][0] = _mm512_fmadd_ps(x, w0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(x, w1, acc[i][1]);
            acc[i][2] = _mm512_fmadd_ps(x, w2, acc[i][2]);
        }
    }
    for (size_t i = 0; i < rows; i++) {
        if (ncols == GEMM_PANEL) {
            _mm512_storeu_ps(c[i], acc[i][0]);
            _mm512_storeu_ps(c[i] + 16, acc[i][1]);
            _mm512_storeu_ps(c[i] + 32, acc[i][2]);
        } else {
            float tmp[GEMM_PANEL];
            _mm512_storeu_ps(tmp, acc[i][0]);
            _mm512_storeu_ps(tmp + 16, acc[i][1]);
            _mm512_storeu_ps(tmp + 32, acc[i][2]);
            memcpy(c[i], tmp, ncols * sizeof *tmp);
        }
    }
}

TGT void gemm_packed_panels(size_t M, const float *A, size_t lda, const struct gemm_packed *w,
                            const float *bias, float *C, size_t ldc, size_t p0, size_t p1)
{
    if (M == 0) {
        return;
    }
    const size_t K = w->K;
    for (size_t p = p0; p < p1 && p < w->n_panels; p++) {
        const float *panel = w->panels + p * K * GEMM_PANEL;
        size_t col0 = p * GEMM_PANEL;
        size_t ncols = w->N - col0 < GEMM_PANEL ? w->N - col0 : GEMM_PANEL;
        float bias48[GEMM_PANEL] = {0};
        if (bias != NULL) {
            memcpy(bias48, bias + col0, ncols * sizeof *bias48);
        }
        for (size_t m0 = 0; m0 < M; m0 += 8) {
            size_t rows = M - m0 < 8 ? M - m0 : 8;
            const float *a[8];
            float *c[8];
            for (size_t i = 0; i < 8; i++) {
                size_t r = m0 + (i < rows ? i : rows - 1);
                a[i] = A + r * lda;
                c[i] = C + r * ldc + col0;
            }
            block8(rows, a, panel, K, bias != NULL ? bias48 : NULL, c, ncols);
        }
    }
}

#else

void gemm_packed_panels(size_t M, const float *A, size_t lda, const struct gemm_packed *w,
                        const float *bias, float *C, size_t ldc, size_t p0, size_t p1)
{
    // never selected off x86 (gemm_packed_available is false); kept so the symbol exists
    (void)M, (void)A, (void)lda, (void)w, (void)bias, (void)C, (void)ldc, (void)p0, (void)p1;
}

#endif
