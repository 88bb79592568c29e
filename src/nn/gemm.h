// gemm.h — the one matrix-multiply entry point: C = A · Wᵀ + bias, for weights stored the way
// PyTorch's nn.Linear stores them, (out, in).
//
// Above a size threshold the work goes to cblas_sgemm (OpenBLAS, RowMajor, NoTrans, Trans);
// below it, to the reference loop gemm_ref. OpenBLAS's own threading is switched off once
// (gemm_init): prospect splits work across its own pool (rows or columns by (ith, nth)), so the
// thread count the user asked for is the number of threads that run.
#ifndef PX_GEMM_H
#define PX_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

// Sets OpenBLAS to one thread per call and, unless $OPENBLAS_CORETYPE is set, makes sure it
// uses kernels that match this CPU (see gemm.c). Idempotent and thread-safe; gemm() calls it.
void gemm_init(void);
// Name of the BLAS core in use (OpenBLAS's corename, e.g. "Haswell", "SkylakeX"), borrowed.
const char *gemm_blas_core(void);
// Name of the core OpenBLAS chose by itself at load time, before gemm_init corrected it.
const char *gemm_blas_core_detected(void);
// Switches OpenBLAS to the named core ("Haswell", "SkylakeX", "Cooperlake", "Prescott", ...), as
// $OPENBLAS_CORETYPE would at start-up; for benchmarks comparing cores. Call only while no
// other thread is in a BLAS call. Returns PX_EUNSUPPORTED when this BLAS cannot switch.
int gemm_select_blas_core(const char *name);

// A: (M, lda) rows, first K used; W: (N, ldw), first K used; bias: (N) or NULL;
// C: (M, ldc) rows, first N written. C = A · Wᵀ (+ bias). Chooses BLAS or the reference.
void gemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *W, size_t ldw,
          const float *bias, float *C, size_t ldc);
// Reference triple loop with the same contract (double accumulator).
void gemm_ref(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *W,
              size_t ldw, const float *bias, float *C, size_t ldc);
// C = A · B (+ beta·C), B: (K, ldb) rows — for attention's probabilities × values.
void gemm_nn(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B, size_t ldb,
             float beta, float *C, size_t ldc);
void gemm_nn_ref(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                 size_t ldb, float beta, float *C, size_t ldc);

// ---- weights packed once for short batches ----
// For a handful of rows (one query: M = 15) OpenBLAS spends as long re-packing the weight
// matrix on every call as multiplying. Packing the (N, K) weights once at load time into panels
// of GEMM_PANEL output columns, (ceil(N / 48), K, 48) with zero-padded columns, lets an AVX-512
// kernel stream each weight exactly once per call with an 8 x 48 block of C in registers.
#define GEMM_PANEL 48

struct gemm_packed {
    const float *panels; // (n_panels, K, GEMM_PANEL), borrowed; NULL when not packed
    size_t N, K;
    size_t n_panels;     // ceil(N / GEMM_PANEL)
};

// True when this CPU runs the packed kernel (AVX-512; honours PROSPECT_NO_SIMD).
bool gemm_packed_available(void);
// Floats needed to pack an (N, K) matrix.
size_t gemm_packed_floats(size_t N, size_t K);
// Packs W: (N, K) row-major into dst: (gemm_packed_floats(N, K)) and describes it in *p.
void gemm_pack(const float *W, size_t N, size_t K, float *dst, struct gemm_packed *p);
// C[:, panels p0..p1) = A · Wᵀ + bias for M rows (A: (M, lda), C: (M, ldc), bias: (N) or NULL).
// Threads split by panel ranges. Needs gemm_packed_available().
void gemm_packed_panels(size_t M, const float *A, size_t lda, const struct gemm_packed *w,
                        const float *bias, float *C, size_t ldc, size_t p0, size_t p1);

// Work (M·N·K) under which the reference loop is used: BLAS call overhead dominates below it.
#define GEMM_BLAS_MIN_WORK 4096u

#endif
