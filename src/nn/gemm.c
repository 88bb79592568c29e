// gemm.c — see gemm.h.
//
// OpenBLAS core selection. Debian's OpenBLAS is a DYNAMIC_ARCH build that picks its kernels from
// the CPU model at load time. 0.3.21 (bookworm) does not know recent Xeons — on Emerald Rapids
// (family 6, model 0xCF) it falls back to its SSE3 "Prescott" kernels, which run MiniLM's GEMMs
// 2-4x slower than its AVX-512 "SkylakeX" ones (bench/bench_embed prints both). So, unless the
// user chose a core with $OPENBLAS_CORETYPE, gemm_init compares OpenBLAS's choice with what the
// CPU reports and, when OpenBLAS fell short, re-runs its core selection with the matching core
// name through gotoblas_dynamic_quit/init — the same code path $OPENBLAS_CORETYPE drives at
// start-up. Those two functions are exported by DYNAMIC_ARCH builds but not declared in cblas.h,
// so they are declared weak here: with a BLAS that lacks them nothing is switched.
#include "gemm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cpu.h"

void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_detected[32];

static int switch_core(const char *name)
{
    if (gotoblas_dynamic_init == NULL || gotoblas_dynamic_quit == NULL) {
        return PX_EUNSUPPORTED;
    }
    char *old = getenv("OPENBLAS_CORETYPE");
    char saved[64] = {0};
    if (old != NULL) {
        snprintf(saved, sizeof saved, "%s", old);
    }
    setenv("OPENBLAS_CORETYPE", name, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    if (old != NULL) {
        setenv("OPENBLAS_CORETYPE", saved, 1);
    } else {
        unsetenv("OPENBLAS_CORETYPE");
    }
    return strcmp(openblas_get_corename(), name) == 0 ? PX_OK : PX_EUNSUPPORTED;
}

// Cores that use no AVX at all: what OpenBLAS falls back to for CPU models it does not know.
static int is_pre_avx_core(const char *core)
{
    static const char *const old[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                      "Atom", "Katmai", "Coppermine", "Northwood", "Banias"};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        if (strcmp(core, old[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static void init_once(void)
{
    snprintf(g_detected, sizeof g_detected, "%s", openblas_get_corename());
    const struct cpu_features *f = cpu_features();
    if (getenv("OPENBLAS_CORETYPE") == NULL && getenv("PROSPECT_NO_SIMD") == NULL) {
        const char *core = openblas_get_corename();
        if (f->avx512 && (is_pre_avx_core(core) || strcmp(core, "Haswell") == 0 ||
                          strcmp(core, "Sandybridge") == 0)) {
            switch_core("SkylakeX");
        } else if (f->avx2 && is_pre_avx_core(core)) {
            switch_core("Haswell");
        }
    }
    // One BLAS thread per call: parallelism is ours (nn/bert splits by ith/nth).
    openblas_set_num_threads(1);
}

const char *gemm_blas_core_detected(void)
{
    gemm_init();
    return g_detected;
}

int gemm_select_blas_core(const char *name)
{
    gemm_init();
    int rc = switch_core(name);
    openblas_set_num_threads(1);
    return rc;
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

// ---- packed weights ----

bool gemm_packed_available(void)
{
    return cpu_features()->avx512;
}

size_t gemm_packed_floats(size_t N, size_t K)
{
    return (N + GEMM_PANEL - 1) / GEMM_PANEL * K * GEMM_PANEL;
}

void gemm_pack(const float *W, size_t N, size_t K, float *dst, struct gemm_packed *p)
{
    size_t n_panels = (N + GEMM_PANEL - 1) / GEMM_PANEL;
    for (size_t q = 0; q < n_panels; q++) {
        float *panel = dst + q * K * GEMM_PANEL; // (K, GEMM_PANEL)
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < GEMM_PANEL; j++) {
                size_t n = q * GEMM_PANEL + j;
                panel[k * GEMM_PANEL + j] = n < N ? W[n * K + k] : 0.0f;
            }
        }
    }
    p->panels = dst;
    p->N = N;
    p->K = K;
    p->n_panels = n_panels;
}
