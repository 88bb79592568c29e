// vindex_avx2.c — AVX2+FMA twins of the vindex kernels (vindex_internal.h), compiled per
// function with target("avx2,fma") and reached only through vx_*_best() after cpu_features().
//
// The int4 scan has no VNNI here: vpmaddubsw multiplies u8 nibbles (0..15) by the s8 query into
// s16 pair sums (|.| <= 2 * 15 * 127 = 3810), eight of which (four groups) still fit in s16
// (30480 < 32767) before vpmaddwd widens them to s32. A tile's 16 rows are two 8-lane halves.
#include "vindex_internal.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#include "limits.h"

#define TGT __attribute__((target("avx2,fma")))

TGT void vx_scan_q4_avx2(const uint8_t *tiles, const float *scale, size_t n_groups,
                         const uint16_t *masks, size_t n_tiles, const int8_t *q8, int32_t qoff,
                         float thr, float *score, uint16_t *hits)
{
    int32_t qw[2 * (LIMIT_VINDEX_DIM / VX_GROUP_DIMS)]; // (n_groups, 2): dims 8g..+3, 8g+4..+7
    memcpy(qw, q8, n_groups * VX_GROUP_DIMS);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i off = _mm256_set1_epi32(qoff);
    const __m256 vthr = _mm256_set1_ps(thr);
    size_t tile_bytes = n_groups * 64;
    for (size_t t = 0; t < n_tiles; t++) {
        if (masks[t] == 0) {
            hits[t] = 0;
            continue;
        }
        const uint8_t *p = tiles + t * tile_bytes;
        unsigned hit = 0;
        for (int h = 0; h < 2; h++) {
            __m256i acc = _mm256_setzero_si256();
            for (size_t g0 = 0; g0 < n_groups; g0 += 4) {
                size_t g1 = g0 + 4 < n_groups ? g0 + 4 : n_groups;
                __m256i acc16 = _mm256_setzero_si256();
                for (size_t g = g0; g < g1; g++) {
                    __m256i v = _mm256_loadu_si256((const __m256i *)(p + g * 64 + h * 32));
                    __m256i lo = _mm256_and_si256(v, m4);
                    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                    acc16 = _mm256_add_epi16(
                        acc16, _mm256_maddubs_epi16(lo, _mm256_set1_epi32(qw[2 * g])));
                    acc16 = _mm256_add_epi16(
                        acc16, _mm256_maddubs_epi16(hi, _mm256_set1_epi32(qw[2 * g + 1])));
                }
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(acc16, ones));
            }
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc, off)),
                                     _mm256_loadu_ps(scale + t * 16 + h * 8));
            _mm256_storeu_ps(score + t * 16 + h * 8, f);
            hit |= (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(f, vthr, _CMP_GE_OQ)) << (8 * h);
        }
        hits[t] = (uint16_t)(masks[t] & hit);
    }
}

TGT float vx_dot_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    float r = _mm_cvtss_f32(lo);
    for (; i < n; i++) {
        r += a[i] * b[i];
    }
    return r;
}

#endif
