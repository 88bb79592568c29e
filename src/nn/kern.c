// kern.c — scalar reference kernels and the dispatch to their SIMD twins (see kern.h).
//
// LayerNorm accumulates mean and variance in double: the references are the yardstick the fast
// paths are measured against, so they should be the more accurate side.
#include "kern.h"

#include <math.h>

#include "cpu.h"

// ---- references ----

void kern_gelu_ref(float *x, size_t n)
{
    // M_SQRT1_2 as float; erff from libm is correctly rounded to ~1 ulp.
    const float inv_sqrt2 = 0.70710678118654752440f;
    for (size_t i = 0; i < n; i++) {
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * inv_sqrt2));
    }
}

void kern_gelu_tanh_ref(float *x, size_t n)
{
    const float k = 0.79788456080286535588f; // sqrt(2/pi)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
    }
}

void kern_relu_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
}

void kern_softmax_ref(float *x, size_t n)
{
    if (n == 0) {
        return;
    }
    float mx = x[0];
    for (size_t i = 1; i < n; i++) {
        mx = x[i] > mx ? x[i] : mx;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++) {
        x[i] *= inv;
    }
}

void kern_add_layernorm_ref(float *x, const float *r, const float *g, const float *b, size_t n,
                            float eps)
{
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (r != NULL) {
            x[i] += r[i];
        }
        mean += x[i];
    }
    mean /= (double)n;
    double var = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - mean;
        var += d * d;
    }
    var /= (double)n;
    float inv = (float)(1.0 / sqrt(var + (double)eps));
    float m = (float)mean;
    for (size_t i = 0; i < n; i++) {
        x[i] = (x[i] - m) * inv * g[i] + b[i];
    }
}

float kern_dot_ref(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        s += a[i] * b[i];
    }
    return s;
}

void kern_axpy_ref(float *y, float a, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        y[i] += a * x[i];
    }
}

// ---- dispatch ----

void kern_gelu(float *x, size_t n)
{
    if (cpu_features()->avx2) {
        kern_gelu_avx2(x, n);
    } else {
        kern_gelu_ref(x, n);
    }
}

void kern_softmax(float *x, size_t n)
{
    if (cpu_features()->avx2) {
        kern_softmax_avx2(x, n);
    } else {
        kern_softmax_ref(x, n);
    }
}

void kern_add_layernorm(float *x, const float *r, const float *g, const float *b, size_t n,
                        float eps)
{
    if (cpu_features()->avx2) {
        kern_add_layernorm_avx2(x, r, g, b, n, eps);
    } else {
        kern_add_layernorm_ref(x, r, g, b, n, eps);
    }
}

float kern_dot(const float *a, const float *b, size_t n)
{
    return cpu_features()->avx2 ? kern_dot_avx2(a, b, n) : kern_dot_ref(a, b, n);
}

void kern_axpy(float *y, float a, const float *x, size_t n)
{
    if (cpu_features()->avx2) {
        kern_axpy_avx2(y, a, x, n);
    } else {
        kern_axpy_ref(y, a, x, n);
    }
}
