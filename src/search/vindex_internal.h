// vindex_internal.h — the vector index's kernels, exposed for tests (test_vindex.c checks every
// SIMD twin against its scalar reference) and for bench/bench_search.c. Not a public API.
//
// int4 tile layout (one tile = 16 rows, n_groups = ceil(dim / 8) groups of 8 dimensions):
//   tile[(g * 16 + r) * 4 + j], j = 0..3, holds row r's dimension 8g + j in the low nibble and
//   8g + 4 + j in the high nibble, each stored as u + 8 with u in [-8, 7] (so as unsigned 0..15).
// So one 64-byte load covers 16 rows x 8 dimensions, and a VNNI vpdpbusd (u8 x s8 -> s32)
// adds 4 dimensions of 16 rows into 16 lanes with no horizontal sum.
#ifndef PX_VINDEX_INTERNAL_H
#define PX_VINDEX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define VX_TILE_ROWS 16
#define VX_GROUP_DIMS 8

// Scores one slab of tiles against the int8 query q8 (n_groups * 8 entries, zero past dim):
//   for each tile t < n_tiles with masks[t] != 0 and each row r:
//     score[16t + r] = (float)(sum_d q8[d] * nibble(t, r, d) - qoff) * scale[16t + r]
//     hits[t] = masks[t] & {r : score[16t + r] >= thr}
//   tiles with masks[t] == 0 get hits[t] = 0 and their scores are left alone.
// qoff = 8 * sum(q8) removes the +8 offset of the nibbles. All variants compute the integer dot
// exactly and then the same two float operations, so they agree bit for bit.
// tiles: (n_tiles, n_groups, 16, 4) bytes; scale, score: (n_tiles * 16,); masks, hits: (n_tiles,)
typedef void (*vx_scan_fn)(const uint8_t *tiles, const float *scale, size_t n_groups,
                           const uint16_t *masks, size_t n_tiles, const int8_t *q8, int32_t qoff,
                           float thr, float *score, uint16_t *hits);
// f32 dot product of a and b (n entries each).
typedef float (*vx_dot_fn)(const float *a, const float *b, size_t n);

void vx_scan_q4_ref(const uint8_t *tiles, const float *scale, size_t n_groups,
                    const uint16_t *masks, size_t n_tiles, const int8_t *q8, int32_t qoff,
                    float thr, float *score, uint16_t *hits);
void vx_scan_q4_avx2(const uint8_t *tiles, const float *scale, size_t n_groups,
                     const uint16_t *masks, size_t n_tiles, const int8_t *q8, int32_t qoff,
                     float thr, float *score, uint16_t *hits);
void vx_scan_q4_vnni(const uint8_t *tiles, const float *scale, size_t n_groups,
                     const uint16_t *masks, size_t n_tiles, const int8_t *q8, int32_t qoff,
                     float thr, float *score, uint16_t *hits);

float vx_dot_ref(const float *a, const float *b, size_t n);
float vx_dot_avx2(const float *a, const float *b, size_t n);
float vx_dot_avx512(const float *a, const float *b, size_t n);

// The variants this CPU runs (cpu_features(); PROSPECT_NO_SIMD=1 forces the references).
vx_scan_fn vx_scan_q4_best(void);
vx_dot_fn vx_dot_best(void);
// Names of the chosen variants ("ref", "avx2", "avx512-vnni", ...), for the benchmark.
const char *vx_kernels_name(void);

// Quantises x (dim floats) into row r of a tile (tile base pointer; n_groups groups) and
// returns the row's scale: u = clamp(round(x / s), -8, 7), with s picked from a few candidates
// to minimise |x - s u|^2 (see vindex.c).
float vx_quantise_row(const float *x, size_t dim, size_t n_groups, uint8_t *tile, size_t r);
// Quantises a query to int8: q8[d] = round(q[d] / s), s = max|q| / 127; q8 zero past dim
// (n_groups * 8 entries). Returns 8 * sum(q8) (the qoff of vx_scan_fn).
int32_t vx_quantise_query(const float *q, size_t dim, size_t n_groups, int8_t *q8);

#endif
