// gemm.c — see gemm.h.
#include "gemm.h"

#include <pthread.h>
#include <string.h>

#include <cblas.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    // One BLAS thread per call: parallelism is ours (nn/bert splits by ith/nth).
    openblas_set_num_threads(1);
}

void gemm_init(void)
{
    pthread_once(&g_once, init_once);
}

const char *gemm_blas_core(void)
{
    return openblas_get_corename();
}

void gemm_ref(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *W,
              size_t ldw, const float *bias, float *C, size_t ldc)
{
    for (size_t m = 0; m < M; m++) {
        const float *a = A + m * lda;
        float *c = C + m * ldc;
        for (size_t n = 0; n < N; n++) {
            const float *w = W + n * ldw;
            double s = bias != NULL ? bias[n] : 0.0;
            for (size_t k = 0; k < K; k++) {
                s += (double)a[k] * (double)w[k];
            }
            c[n] = (float)s;
        }
    }
}

void gemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *W, size_t ldw,
          const float *bias, float *C, size_t ldc)
{
    if (M == 0 || N == 0) {
        return;
    }
    if (M * N * K < GEMM_BLAS_MIN_WORK || K == 0) {
        gemm_ref(M, N, K, A, lda, W, ldw, bias, C, ldc);
        return;
    }
    gemm_init();
    float beta = 0.0f;
    if (bias != NULL) {
        for (size_t m = 0; m < M; m++) {
            memcpy(C + m * ldc, bias, N * sizeof *bias);
        }
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, A,
                (int)lda, W, (int)ldw, beta, C, (int)ldc);
}

void gemm_nn_ref(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                 size_t ldb, float beta, float *C, size_t ldc)
{
    for (size_t m = 0; m < M; m++) {
        float *c = C + m * ldc;
        for (size_t n = 0; n < N; n++) {
            double s = beta != 0.0f ? (double)beta * c[n] : 0.0;
            for (size_t k = 0; k < K; k++) {
                s += (double)A[m * lda + k] * (double)B[k * ldb + n];
            }
            c[n] = (float)s;
        }
    }
}

void gemm_nn(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
             float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0) {
        return;
    }
    if (M * N * K < GEMM_BLAS_MIN_WORK || K == 0) {
        gemm_nn_ref(M, N, K, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_init();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A,
                (int)lda, B, (int)ldb, beta, C, (int)ldc);
}
