// kern.h — numeric row kernels used by the encoder: scalar references plus one SIMD dispatch.
//
// Every kernel has a plain-C reference (kern_*_ref) that stays in the code as the definition,
// and a dispatched entry point (kern_*) that uses the AVX2/FMA twin in kern_avx2.c when the CPU
// has it (cpu_features()) and falls back to the reference otherwise. Tests compare the two and
// print the largest difference. No -ffast-math anywhere: NaN checks and erf accuracy matter.
//
// All arrays are row-major float32; shapes are given as (rows, cols).
#ifndef PX_KERN_H
#define PX_KERN_H

#include <stddef.h>

// ---- references ----
// x: (n) in place: x = x * 0.5 * (1 + erf(x / sqrt(2)))   (exact GELU, as BERT's "gelu")
void kern_gelu_ref(float *x, size_t n);
// x: (n) in place: tanh approximation of GELU ("gelu_new", "gelu_pytorch_tanh")
void kern_gelu_tanh_ref(float *x, size_t n);
// x: (n) in place: max(x, 0)
void kern_relu_ref(float *x, size_t n);
// x: (n) in place: softmax over the n values (max-subtracted)
void kern_softmax_ref(float *x, size_t n);
// x: (n) in place: x = (x + r - mean) / sqrt(var + eps) * g + b, where r may be NULL (no residual)
void kern_add_layernorm_ref(float *x, const float *r, const float *g, const float *b, size_t n,
                            float eps);
// returns sum_i a[i] * b[i]
float kern_dot_ref(const float *a, const float *b, size_t n);
// y: (n) += a * x
void kern_axpy_ref(float *y, float a, const float *x, size_t n);

// ---- dispatched (SIMD when available, else the reference) ----
void kern_gelu(float *x, size_t n);
void kern_softmax(float *x, size_t n);
void kern_add_layernorm(float *x, const float *r, const float *g, const float *b, size_t n,
                        float eps);
float kern_dot(const float *a, const float *b, size_t n);
void kern_axpy(float *y, float a, const float *x, size_t n);

// ---- SIMD twins (kern_avx2.c); call only when cpu_features()->avx2 ----
void kern_gelu_avx2(float *x, size_t n);
void kern_softmax_avx2(float *x, size_t n);
void kern_add_layernorm_avx2(float *x, const float *r, const float *g, const float *b, size_t n,
                             float eps);
float kern_dot_avx2(const float *a, const float *b, size_t n);
void kern_axpy_avx2(float *y, float a, const float *x, size_t n);

#endif
