// vindex.c — flat chunked vector index with an int4 scan and exact f32 re-scoring.
//
// Layout. Row id r lives in chunk r / chunk_rows at offset r % chunk_rows (row ids are the
// customers' dense row numbers, so the map is arithmetic). A chunk is one 64-byte aligned block:
//
//   valid  (chunk_rows / 64,)            uint64  validity bitmap: which offsets hold a row
//   scale  (chunk_rows,)                 f32     int4 scale of each row
//   q4     (chunk_rows / 16, G, 16, 4)   uint8   int4 tiles, G = ceil(dim / 8) (see _internal.h)
//   vec    (chunk_rows, dim)             f32     the unit vector itself
//
// Chunks are allocated when their first row arrives, so gaps in the ids cost a NULL pointer.
//
// Quantisation: int4 with one scale per row, u = clamp(round(x / s), -8, 7). Each row tries six
// scales (absmax / 7 times 1.0, 0.9, ..., 0.5; the smaller ones clip a few outliers to gain
// resolution for the rest) and keeps the least-squares scale s = <x,u>/<u,u> of the best one.
// Why int4 and not int8: the scan is memory-bound. At 1M x 384 the int8 copy is 384 MB, which
// this project's 2-core reference machine streams at ~29 GB/s in 13.5 ms — over the 10 ms
// budget before any arithmetic — while int4 is 192 MB (7.5 ms). Its noise (~0.1 sigma of the
// score spread on random data) is far below the gap between the top 10 and the 2048th row, and
// f32 re-scoring of the best 2048 per search (n_rescore) makes the returned scores exact; recall@10
// against exact f32 is measured in tests/unit/test_vindex.c and bench/bench_search.c.
//
// Search (STYLE C11): per chunk, candidates = valid AND the caller's bitmap word by word; a
// 16-row tile with no candidate is skipped, a chunk with none costs 16 word ANDs.
//   - few candidates (<= max(exact_below, n_rescore)): f32 dot of each, bounded top-k heap;
//   - otherwise: the int4 kernel scores each tile and returns a mask of rows at or above the
//     current heap threshold; those enter a bounded heap of n_rescore (approx score, row id).
//     The per-thread heaps are merged to the global best n_rescore (quickselect), which are
//     re-scored in f32 into per-thread top-k heaps, merged and sorted.
// Every comparison uses the total order (score desc, row id asc), so the candidate pool, the
// result and its order are the same for any thread count. Threads split chunks (then the
// re-scoring pool) by (ith, nth); the index is only read.
#include "vindex.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "limits.h"
#include "mem.h"
#include "vindex_internal.h"

#define SLAB_TILES 64 // tiles scored per kernel call (1024 rows): scratch fits on the stack

struct vx_chunk {
    uint64_t *valid; // (chunk_rows / 64,)
    float *scale;    // (chunk_rows,)
    uint8_t *q4;     // (chunk_rows / 16, n_groups, 16, 4)
    float *vec;      // (chunk_rows, dim)
};

struct vindex {
    struct vindex_params params;
    size_t dim;
    size_t n_groups;          // ceil(dim / 8)
    size_t n_rows;            // rows added
    size_t id_bound;          // 1 + largest row id
    struct vx_chunk **chunks; // (cap_chunks,) NULL where no row was added yet
    size_t cap_chunks;
    vx_scan_fn scan;
    vx_dot_fn dot;
};

struct cand {
    float s;      // score (approximate or exact)
    uint32_t row; // row id
};

// ---- kernels: scalar references and dispatch ----

void vx_scan_q4_ref(const uint8_t *tiles, const float *scale, size_t n_groups,
                    const uint16_t *masks, size_t n_tiles, const int8_t *q8, int32_t qoff,
                    float thr, float *score, uint16_t *hits)
{
    size_t tile_bytes = n_groups * 64;
    for (size_t t = 0; t < n_tiles; t++) {
        hits[t] = 0;
        if (masks[t] == 0) {
            continue;
        }
        const uint8_t *tile = tiles + t * tile_bytes;
        for (size_t r = 0; r < VX_TILE_ROWS; r++) {
            int32_t dot = 0;
            for (size_t g = 0; g < n_groups; g++) {
                const uint8_t *b = tile + (g * 16 + r) * 4; // row r's 8 dims of group g
                const int8_t *qg = q8 + g * VX_GROUP_DIMS;
                for (size_t j = 0; j < 4; j++) {
                    dot += (int32_t)(b[j] & 15) * qg[j] + (int32_t)(b[j] >> 4) * qg[4 + j];
                }
            }
            float s = (float)(dot - qoff) * scale[t * 16 + r];
            score[t * 16 + r] = s;
            if (s >= thr) {
                hits[t] |= (uint16_t)(masks[t] & (1u << r));
            }
        }
    }
}

float vx_dot_ref(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        s += a[i] * b[i];
    }
    return s;
}

vx_scan_fn vx_scan_q4_best(void)
{
#if defined(__x86_64__)
    if (cpu_features()->avx512vnni) {
        return vx_scan_q4_vnni;
    }
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (cpu_features()->avx2) {
        return vx_scan_q4_avx2;
    }
#endif
    return vx_scan_q4_ref;
}

vx_dot_fn vx_dot_best(void)
{
#if defined(__x86_64__)
    if (cpu_features()->avx512f) {
        return vx_dot_avx512;
    }
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (cpu_features()->avx2) {
        return vx_dot_avx2;
    }
#endif
    return vx_dot_ref;
}

const char *vx_kernels_name(void)
{
    const struct cpu_features *f = cpu_features();
    if (f->avx512vnni) {
        return "scan avx512-vnni, dot avx512f";
    }
    if (f->avx512f && f->avx2) {
        return "scan avx2, dot avx512f";
    }
    return f->avx2 ? "scan avx2, dot avx2" : "scan ref, dot ref";
}

// ---- quantisation ----

// Round half away from zero, written out so that it inlines (nearbyintf is a libm call on
// baseline x86-64). Only the stored nibbles matter, and every kernel reads the same ones.
static inline int round_away(float v)
{
    return (int)(v + (v >= 0.0f ? 0.5f : -0.5f));
}

static inline int quantise_one(float x, float inv)
{
    float v = x * inv;
    return v >= 7.0f ? 7 : v <= -8.0f ? -8 : round_away(v);
}

float vx_quantise_row(const float *x, size_t dim, size_t n_groups, uint8_t *tile, size_t r)
{
    static const float fracs[] = {1.0f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
    float amax = 0.0f;
    double xx = 0.0;
    for (size_t d = 0; d < dim; d++) {
        amax = fmaxf(amax, fabsf(x[d]));
        xx += (double)x[d] * x[d];
    }
    float best_inv = 0.0f, best_s = 0.0f;
    double best_err = INFINITY;
    for (size_t f = 0; amax > 0.0f && f < sizeof fracs / sizeof fracs[0]; f++) {
        float inv = 7.0f / (amax * fracs[f]);
        double xu = 0.0, uu = 0.0;
        for (size_t d = 0; d < dim; d++) {
            int u = quantise_one(x[d], inv);
            xu += (double)x[d] * u;
            uu += (double)u * u;
        }
        if (uu == 0.0) {
            continue;
        }
        double err = xx - xu * xu / uu; // |x - s u|^2 at the least-squares s = xu / uu
        if (err < best_err) {
            best_err = err;
            best_inv = inv;
            best_s = (float)(xu / uu);
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        uint8_t *b = tile + (g * 16 + r) * 4;
        for (size_t j = 0; j < 4; j++) {
            size_t dl = g * 8 + j, dh = dl + 4;
            int lo = dl < dim ? quantise_one(x[dl], best_inv) : 0;
            int hi = dh < dim ? quantise_one(x[dh], best_inv) : 0;
            b[j] = (uint8_t)((lo + 8) | (hi + 8) << 4);
        }
    }
    return best_s;
}

int32_t vx_quantise_query(const float *q, size_t dim, size_t n_groups, int8_t *q8)
{
    float amax = 0.0f;
    for (size_t d = 0; d < dim; d++) {
        amax = fmaxf(amax, fabsf(q[d]));
    }
    float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    int32_t sum = 0;
    for (size_t d = 0; d < n_groups * VX_GROUP_DIMS; d++) {
        int v = d < dim ? round_away(q[d] * inv) : 0;
        v = v > 127 ? 127 : v < -127 ? -127 : v;
        q8[d] = (int8_t)v;
        sum += v;
    }
    return 8 * sum;
}

// ---- lifecycle and adding rows ----

struct vindex_params vindex_default_params(void)
{
    struct vindex_params p = {
        .chunk_rows = 1024,
        .n_rescore = 2048,
        .exact_below = 16384,
    };
    return p;
}

int vindex_new(size_t dim, const struct vindex_params *params, struct vindex **out,
               struct px_err *err)
{
    *out = NULL;
    struct vindex_params p = params != NULL ? *params : vindex_default_params();
    if (dim == 0 || dim > LIMIT_VINDEX_DIM) {
        return px_fail(err, dim == 0 ? PX_EINVAL : PX_ELIMIT,
                       "vindex: dimension %zu outside 1..LIMIT_VINDEX_DIM (%d)", dim,
                       LIMIT_VINDEX_DIM);
    }
    if (p.chunk_rows == 0 || p.chunk_rows % 64 != 0 || p.chunk_rows > LIMIT_VINDEX_CHUNK_ROWS) {
        return px_fail(err, PX_EINVAL,
                       "vindex: chunk_rows %zu is not a multiple of 64 in 64..%d", p.chunk_rows,
                       LIMIT_VINDEX_CHUNK_ROWS);
    }
    if (p.n_rescore == 0 || p.n_rescore > LIMIT_VINDEX_RESCORE) {
        return px_fail(err, PX_EINVAL, "vindex: n_rescore %zu outside 1..LIMIT_VINDEX_RESCORE (%u)",
                       p.n_rescore, (unsigned)LIMIT_VINDEX_RESCORE);
    }
    struct vindex *ix = px_calloc(1, sizeof *ix);
    if (ix == NULL) {
        return px_fail(err, PX_ENOMEM, "vindex: out of memory");
    }
    ix->params = p;
    ix->dim = dim;
    ix->n_groups = (dim + VX_GROUP_DIMS - 1) / VX_GROUP_DIMS;
    ix->scan = vx_scan_q4_best();
    ix->dot = vx_dot_best();
    *out = ix;
    return PX_OK;
}

void vindex_free(struct vindex *ix)
{
    if (ix == NULL) {
        return;
    }
    for (size_t c = 0; c < ix->cap_chunks; c++) {
        px_free(ix->chunks[c]);
    }
    px_free(ix->chunks);
    px_free(ix);
}

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

// A chunk's data after its header: valid, scale, q4, vec at these offsets (each 64-aligned);
// *total is the data's size (what the index file holds per chunk).
static void chunk_layout(const struct vindex *ix, size_t *o_scale, size_t *o_q4, size_t *o_vec,
                         size_t *total)
{
    size_t rows = ix->params.chunk_rows;
    *o_scale = align64(rows / 8);
    *o_q4 = *o_scale + align64(rows * sizeof(float));
    *o_vec = *o_q4 + align64(rows / VX_TILE_ROWS * ix->n_groups * 64);
    *total = align64(*o_vec + rows * ix->dim * sizeof(float));
}

// Points c's arrays into data (laid out as chunk_layout says).
static void chunk_point(const struct vindex *ix, struct vx_chunk *c, unsigned char *data)
{
    size_t o_scale, o_q4, o_vec, total;
    chunk_layout(ix, &o_scale, &o_q4, &o_vec, &total);
    c->valid = (uint64_t *)data;
    c->scale = (float *)(data + o_scale);
    c->q4 = data + o_q4;
    c->vec = (float *)(data + o_vec);
}

static struct vx_chunk *chunk_new(const struct vindex *ix)
{
    size_t rows = ix->params.chunk_rows;
    size_t o_scale, o_q4, o_vec, total;
    chunk_layout(ix, &o_scale, &o_q4, &o_vec, &total);
    size_t head = align64(sizeof(struct vx_chunk));
    size_t q4_bytes = rows / VX_TILE_ROWS * ix->n_groups * 64;
    unsigned char *block = px_malloc_aligned(head + total, 64);
    if (block == NULL) {
        return NULL;
    }
    struct vx_chunk *c = (struct vx_chunk *)block;
    memset(block + head, 0, total);
    chunk_point(ix, c, block + head);
    memset(c->valid, 0, rows / 8);
    memset(c->scale, 0, rows * sizeof(float));
    memset(c->q4, 0x88, q4_bytes); // nibble 8 = value 0: rows never added score 0 (and are masked)
    return c;
}

int vindex_add(struct vindex *ix, uint32_t row_id, const float *vec, size_t n,
               struct px_err *err)
{
    if (row_id >= LIMIT_VINDEX_ROWS) {
        return px_fail(err, PX_ELIMIT, "row %u: id past LIMIT_VINDEX_ROWS (%u)", row_id,
                       (unsigned)LIMIT_VINDEX_ROWS);
    }
    if (n != ix->dim) {
        return px_fail(err, PX_EINVAL, "row %u: vector has %zu values, the index has dimension %zu",
                       row_id, n, ix->dim);
    }
    double ss = 0.0;
    for (size_t d = 0; d < n; d++) {
        if (!isfinite(vec[d])) {
            return px_fail(err, PX_EINVAL, "row %u: element %zu is %s", row_id, d,
                           isnan(vec[d]) ? "NaN" : "infinite");
        }
        ss += (double)vec[d] * vec[d];
    }
    if (!(ss > 0.0) || !isfinite(ss)) {
        return px_fail(err, PX_EINVAL, "row %u: zero vector (no direction to compare)", row_id);
    }
    size_t rows = ix->params.chunk_rows;
    size_t ci = row_id / rows, off = row_id % rows;
    if (ci < ix->cap_chunks && ix->chunks[ci] != NULL &&
        (ix->chunks[ci]->valid[off / 64] >> (off % 64) & 1) != 0) {
        return px_fail(err, PX_EINVAL, "row %u: already in the index", row_id);
    }
    if (ci >= ix->cap_chunks) {
        size_t cap = ix->cap_chunks * 2 > ci + 1 ? ix->cap_chunks * 2 : ci + 1;
        struct vx_chunk **grown = px_realloc(ix->chunks, cap * sizeof *grown);
        if (grown == NULL) {
            return px_fail(err, PX_ENOMEM, "row %u: out of memory growing the chunk table", row_id);
        }
        memset(grown + ix->cap_chunks, 0, (cap - ix->cap_chunks) * sizeof *grown);
        ix->chunks = grown;
        ix->cap_chunks = cap;
    }
    if (ix->chunks[ci] == NULL) {
        ix->chunks[ci] = chunk_new(ix);
        if (ix->chunks[ci] == NULL) {
            return px_fail(err, PX_ENOMEM, "row %u: out of memory for a chunk of %zu rows", row_id,
                           rows);
        }
    }
    struct vx_chunk *c = ix->chunks[ci];
    float *dst = c->vec + off * ix->dim;
    double inv = 1.0 / sqrt(ss);
    for (size_t d = 0; d < n; d++) {
        dst[d] = (float)(vec[d] * inv);
    }
    uint8_t *tile = c->q4 + off / VX_TILE_ROWS * ix->n_groups * 64;
    c->scale[off] = vx_quantise_row(dst, ix->dim, ix->n_groups, tile, off % VX_TILE_ROWS);
    c->valid[off / 64] |= (uint64_t)1 << (off % 64);
    ix->n_rows++;
    if ((size_t)row_id + 1 > ix->id_bound) {
        ix->id_bound = (size_t)row_id + 1;
    }
    return PX_OK;
}

size_t vindex_dim(const struct vindex *ix)
{
    return ix->dim;
}

size_t vindex_count(const struct vindex *ix)
{
    return ix->n_rows;
}

size_t vindex_id_bound(const struct vindex *ix)
{
    return ix->id_bound;
}

const float *vindex_vector(const struct vindex *ix, uint32_t row_id)
{
    size_t rows = ix->params.chunk_rows, ci = row_id / rows, off = row_id % rows;
    if (ci >= ix->cap_chunks || ix->chunks[ci] == NULL ||
        (ix->chunks[ci]->valid[off / 64] >> (off % 64) & 1) == 0) {
        return NULL;
    }
    return ix->chunks[ci]->vec + off * ix->dim;
}

// ---- ordering, heaps, selection ----

// The total order of every ranking here: higher score first, then lower row id.
static inline bool better(struct cand a, struct cand b)
{
    return a.s > b.s || (a.s == b.s && a.row < b.row);
}

// Bounded heap of the cap best items; h[0] is the worst kept (the entry threshold).
static void heap_offer(struct cand *h, size_t *n, size_t cap, struct cand x)
{
    size_t i;
    if (*n < cap) {
        i = (*n)++;
        while (i > 0 && better(h[(i - 1) / 2], x)) { // parent better than x: x moves up
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
        return;
    }
    if (!better(x, h[0])) {
        return;
    }
    i = 0;
    for (;;) {
        size_t l = 2 * i + 1, w = i;
        struct cand worst = x;
        if (l < cap && better(worst, h[l])) {
            w = l;
            worst = h[l];
        }
        if (l + 1 < cap && better(worst, h[l + 1])) {
            w = l + 1;
        }
        if (w == i) {
            break;
        }
        h[i] = h[w];
        i = w;
    }
    h[i] = x;
}

static void swap_cand(struct cand *a, struct cand *b)
{
    struct cand t = *a;
    *a = *b;
    *b = t;
}

// Reorders a (n items) so that a[0..p) are the p best (in no particular order). Quickselect with
// a median-of-three pivot; the order is total, so the chosen set is unique.
static void select_best(struct cand *a, size_t n, size_t p)
{
    size_t lo = 0, hi = n;
    while (p > lo && p < hi && hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (better(a[mid], a[lo])) {
            swap_cand(&a[mid], &a[lo]);
        }
        if (better(a[last], a[lo])) {
            swap_cand(&a[last], &a[lo]);
        }
        if (better(a[mid], a[last])) {
            swap_cand(&a[mid], &a[last]); // a[last] = median
        }
        struct cand pv = a[last];
        size_t store = lo;
        for (size_t i = lo; i < last; i++) {
            if (better(a[i], pv)) {
                swap_cand(&a[i], &a[store++]);
            }
        }
        swap_cand(&a[store], &a[last]); // [lo, store) better than the pivot, a[store] = pivot
        if (p <= store) {
            hi = store;
        } else {
            lo = store + 1;
        }
    }
}

static int cmp_cand(const void *pa, const void *pb)
{
    struct cand a = *(const struct cand *)pa, b = *(const struct cand *)pb;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

// ---- search ----

struct search_job {
    const struct vindex *ix;
    const uint64_t *cand;  // candidate words, NULL = all rows
    size_t cand_words;
    const float *qf;       // (dim,) unit query
    const int8_t *q8;      // (n_groups * 8,) int8 query
    int32_t qoff;
    size_t k;
    size_t n_pool;         // heap capacity per thread (scan phase)
    struct cand *heaps;    // (nth, 2 * n_pool) per-thread pool buffers
    size_t *heap_n;        // (nth,)
    const struct cand *rescore; // (n_rescore,) rows to re-score in f32
    size_t n_rescore;
    struct cand *tops;     // (nth, k)
    size_t *top_n;         // (nth,)
};

// Candidate word w of chunk ci: valid AND the caller's bitmap (bits past it are not candidates).
static inline uint64_t cand_word(const struct search_job *j, const struct vx_chunk *c, size_t ci,
                                 size_t w)
{
    uint64_t v = c->valid[w];
    if (j->cand != NULL) {
        size_t gw = ci * (j->ix->params.chunk_rows / 64) + w;
        v &= gw < j->cand_words ? j->cand[gw] : 0;
    }
    return v;
}

static void chunk_range(const struct search_job *j, const struct pool_task *t, size_t *c0,
                        size_t *c1)
{
    size_t n_chunks = (j->ix->id_bound + j->ix->params.chunk_rows - 1) / j->ix->params.chunk_rows;
    pool_split(n_chunks, t->ith, t->nth, c0, c1);
}

// Exact path: f32 dot of every candidate into this thread's top-k.
static void run_exact(void *arg, const struct pool_task *t)
{
    struct search_job *j = arg;
    const struct vindex *ix = j->ix;
    size_t rows = ix->params.chunk_rows, c0, c1, n = 0;
    struct cand *top = j->tops + (size_t)t->ith * j->k;
    chunk_range(j, t, &c0, &c1);
    for (size_t ci = c0; ci < c1; ci++) {
        const struct vx_chunk *c = ix->chunks[ci];
        for (size_t w = 0; c != NULL && w < rows / 64; w++) {
            for (uint64_t bits = cand_word(j, c, ci, w); bits != 0; bits &= bits - 1) {
                size_t off = w * 64 + (size_t)__builtin_ctzll(bits);
                struct cand x = {ix->dot(j->qf, c->vec + off * ix->dim, ix->dim),
                                 (uint32_t)(ci * rows + off)};
                heap_offer(top, &n, j->k, x);
            }
        }
    }
    j->top_n[t->ith] = n;
}

// Keeps the best n_pool of buf (n entries) and returns the worst score kept: later rows
// scoring below it cannot reach this thread's top n_pool.
static float shrink_pool(struct cand *buf, size_t *n, size_t n_pool)
{
    select_best(buf, *n, n_pool);
    *n = n_pool;
    float worst = buf[0].s;
    for (size_t i = 1; i < n_pool; i++) {
        worst = buf[i].s < worst ? buf[i].s : worst;
    }
    return worst;
}

// Scan path, phase 1: int4 scores of every candidate; rows at or above the running threshold go
// into this thread's buffer of 2 * n_pool, which is cut back to its best n_pool when it fills
// (amortised O(1) per row, where a heap pays a sift per row). Rows arrive in increasing id, so
// a later row tying the threshold loses the tie and dropping it is exact.
static void run_scan(void *arg, const struct pool_task *t)
{
    struct search_job *j = arg;
    const struct vindex *ix = j->ix;
    size_t rows = ix->params.chunk_rows, c0, c1, n = 0, cap = 2 * j->n_pool;
    size_t tile_bytes = ix->n_groups * 64;
    struct cand *buf = j->heaps + (size_t)t->ith * cap;
    float thr = -INFINITY;
    uint16_t masks[SLAB_TILES], hits[SLAB_TILES];
    float score[SLAB_TILES * VX_TILE_ROWS];
    chunk_range(j, t, &c0, &c1);
    for (size_t ci = c0; ci < c1; ci++) {
        const struct vx_chunk *c = ix->chunks[ci];
        if (c == NULL) {
            continue;
        }
        for (size_t s0 = 0; s0 < rows; s0 += SLAB_TILES * VX_TILE_ROWS) {
            size_t n_tiles = (rows - s0) / VX_TILE_ROWS;
            n_tiles = n_tiles < SLAB_TILES ? n_tiles : SLAB_TILES;
            uint64_t any = 0;
            for (size_t w = 0; w < n_tiles / 4; w++) {
                uint64_t bits = cand_word(j, c, ci, s0 / 64 + w);
                any |= bits;
                for (size_t q = 0; q < 4; q++) {
                    masks[w * 4 + q] = (uint16_t)(bits >> (16 * q));
                }
            }
            if (any == 0) {
                continue;
            }
            size_t t0 = s0 / VX_TILE_ROWS;
            ix->scan(c->q4 + t0 * tile_bytes, c->scale + s0, ix->n_groups, masks, n_tiles, j->q8,
                     j->qoff, thr, score, hits);
            for (size_t ti = 0; ti < n_tiles; ti++) {
                for (unsigned h = hits[ti]; h != 0; h &= h - 1) {
                    size_t r = ti * VX_TILE_ROWS + (size_t)__builtin_ctz(h);
                    if (score[r] < thr) { // the threshold rose within this slab
                        continue;
                    }
                    if (n == cap) {
                        thr = shrink_pool(buf, &n, j->n_pool);
                        if (score[r] <= thr) {
                            continue;
                        }
                    }
                    buf[n++] = (struct cand){score[r], (uint32_t)(ci * rows + s0 + r)};
                }
            }
        }
    }
    j->heap_n[t->ith] = n;
}

// Scan path, phase 2: f32 re-scoring of this thread's share of the pool into its top-k.
static void run_rescore(void *arg, const struct pool_task *t)
{
    struct search_job *j = arg;
    const struct vindex *ix = j->ix;
    size_t rows = ix->params.chunk_rows, b, e, n = 0;
    struct cand *top = j->tops + (size_t)t->ith * j->k;
    pool_split(j->n_rescore, t->ith, t->nth, &b, &e);
    for (size_t i = b; i < e; i++) {
        uint32_t row = j->rescore[i].row;
        const struct vx_chunk *c = ix->chunks[row / rows];
        struct cand x = {ix->dot(j->qf, c->vec + (row % rows) * ix->dim, ix->dim), row};
        heap_offer(top, &n, j->k, x);
    }
    j->top_n[t->ith] = n;
}

static void run_on(struct pool *pool, pool_fn fn, struct search_job *j)
{
    if (pool != NULL && pool_size(pool) > 1) {
        pool_run(pool, fn, j);
    } else {
        struct pool_task t = {0, 1, NULL};
        fn(j, &t);
    }
}

static int check_query(const struct vindex *ix, const float *query, size_t n, size_t k,
                       struct px_err *err)
{
    if (n != ix->dim) {
        return px_fail(err, PX_EINVAL, "query has %zu values, the index has dimension %zu", n,
                       ix->dim);
    }
    if (k == 0 || k > LIMIT_VINDEX_K) {
        return px_fail(err, k == 0 ? PX_EINVAL : PX_ELIMIT,
                       "k = %zu outside 1..LIMIT_VINDEX_K (%d)", k, LIMIT_VINDEX_K);
    }
    double ss = 0.0;
    for (size_t d = 0; d < n; d++) {
        if (!isfinite(query[d])) {
            return px_fail(err, PX_EINVAL, "query element %zu is %s", d,
                           isnan(query[d]) ? "NaN" : "infinite");
        }
        ss += (double)query[d] * query[d];
    }
    if (!(ss > 0.0) || !isfinite(ss)) {
        return px_fail(err, PX_EINVAL, "query is a zero vector");
    }
    return PX_OK;
}

static int search(const struct vindex *ix, const float *query, size_t n, size_t k,
                  const struct bitmap *candidates, struct pool *pool, bool exact_only,
                  struct vindex_hit *out, size_t *n_out, struct px_err *err)
{
    unsigned char *scratch = NULL;
    *n_out = 0;
    int rc = check_query(ix, query, n, k, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct search_job j = {.ix = ix, .k = k};
    if (candidates != NULL) {
        j.cand = bitmap_words(candidates);
        j.cand_words = bitmap_n_words(candidates);
    }
    // Count candidates: decides the path and sizes the pool.
    size_t rows = ix->params.chunk_rows, n_chunks = (ix->id_bound + rows - 1) / rows;
    size_t n_cand = 0;
    for (size_t ci = 0; ci < n_chunks; ci++) {
        for (size_t w = 0; ix->chunks[ci] != NULL && w < rows / 64; w++) {
            n_cand += (size_t)__builtin_popcountll(cand_word(&j, ix->chunks[ci], ci, w));
        }
    }
    if (n_cand == 0) {
        return PX_OK;
    }
    int nth = pool != NULL && !exact_only ? pool_size(pool) : 1;
    size_t n_pool = ix->params.n_rescore > k ? ix->params.n_rescore : k;
    bool exact = exact_only || n_cand <= n_pool || n_cand <= ix->params.exact_below;
    if (exact) {
        n_pool = 0;
    }
    size_t o_q8 = align64(ix->dim * sizeof(float));
    size_t o_heaps = o_q8 + align64(ix->n_groups * VX_GROUP_DIMS);
    size_t o_tops = o_heaps + align64((size_t)nth * 2 * n_pool * sizeof(struct cand));
    size_t o_counts = o_tops + align64((size_t)nth * k * sizeof(struct cand));
    size_t total = o_counts + 2 * (size_t)nth * sizeof(size_t);
    scratch = px_malloc_aligned(total, 64);
    if (scratch == NULL) {
        rc = px_fail(err, PX_ENOMEM, "vindex search: out of memory for %zu bytes of scratch",
                     total);
        goto done;
    }
    float *qf = (float *)scratch;
    double ss = 0.0;
    for (size_t d = 0; d < n; d++) {
        ss += (double)query[d] * query[d];
    }
    double inv = 1.0 / sqrt(ss);
    for (size_t d = 0; d < n; d++) {
        qf[d] = (float)(query[d] * inv);
    }
    j.qf = qf;
    j.tops = (struct cand *)(scratch + o_tops);
    j.heap_n = (size_t *)(scratch + o_counts);
    j.top_n = j.heap_n + nth;
    if (exact) {
        // At most max(exact_below, n_rescore) rows: one core does them in well under a
        // millisecond, so the pool is not woken.
        run_on(NULL, run_exact, &j);
        nth = 1;
    } else {
        int8_t *q8 = (int8_t *)(scratch + o_q8);
        j.qoff = vx_quantise_query(qf, ix->dim, ix->n_groups, q8);
        j.q8 = q8;
        j.n_pool = n_pool;
        j.heaps = (struct cand *)(scratch + o_heaps);
        run_on(pool, run_scan, &j);
        // Compact the per-thread heaps and keep the global best n_pool: the same set for any nth.
        size_t total_c = 0;
        for (int i = 0; i < nth; i++) {
            memmove(j.heaps + total_c, j.heaps + (size_t)i * 2 * n_pool,
                    j.heap_n[i] * sizeof(struct cand));
            total_c += j.heap_n[i];
        }
        if (total_c > n_pool) {
            select_best(j.heaps, total_c, n_pool);
            total_c = n_pool;
        }
        j.rescore = j.heaps;
        j.n_rescore = total_c;
        // Re-scoring n_pool rows is ~0.1 ms per 1024 on one core: cheaper than waking the pool
        // a second time, which can cost a scheduler tick on a busy machine.
        run_on(NULL, run_rescore, &j);
        nth = 1;
    }
    // Merge the per-thread top-k lists.
    size_t n_all = 0;
    for (int i = 0; i < nth; i++) {
        memmove(j.tops + n_all, j.tops + (size_t)i * k, j.top_n[i] * sizeof(struct cand));
        n_all += j.top_n[i];
    }
    qsort(j.tops, n_all, sizeof(struct cand), cmp_cand);
    size_t n_res = n_all < k ? n_all : k;
    for (size_t i = 0; i < n_res; i++) {
        out[i].row_id = j.tops[i].row;
        out[i].score = j.tops[i].s;
    }
    *n_out = n_res;
    rc = PX_OK;
done:
    px_free(scratch);
    return rc;
}

int vindex_search(const struct vindex *ix, const float *query, size_t n, size_t k,
                  const struct bitmap *candidates, struct pool *pool, struct vindex_hit *out,
                  size_t *n_out, struct px_err *err)
{
    return search(ix, query, n, k, candidates, pool, false, out, n_out, err);
}

int vindex_search_exact(const struct vindex *ix, const float *query, size_t n, size_t k,
                        const struct bitmap *candidates, struct vindex_hit *out, size_t *n_out,
                        struct px_err *err)
{
    return search(ix, query, n, k, candidates, NULL, true, out, n_out, err);
}

// ---- the index file (vindex_save / vindex_open) ----
//
// Sections: VXHD (struct vx_file_head), VXCI the chunk table (n_chunks uint64: the chunk's
// place in VXCB, UINT64_MAX where no row was added), VXCB the chunks' data blocks back to back,
// each exactly as in memory (valid, scale, q4, vec; chunk_layout). A mapped index allocates
// only its chunk headers; the codes and the f32 rows are the map's pages, so the process holds
// one copy of each vector and the page cache shares it between processes.

struct vx_file_head {
    uint64_t dim, chunk_rows, n_rows, id_bound, n_chunks, chunk_bytes;
};

int vindex_save(const struct vindex *ix, struct mapfile_writer *w, struct px_err *err)
{
    size_t o_scale, o_q4, o_vec, total, n_blocks = 0;
    chunk_layout(ix, &o_scale, &o_q4, &o_vec, &total);
    uint64_t *table = px_malloc((ix->cap_chunks ? ix->cap_chunks : 1) * sizeof *table);
    if (table == NULL) {
        return px_fail(err, PX_ENOMEM, "vindex: out of memory saving");
    }
    for (size_t c = 0; c < ix->cap_chunks; c++) {
        table[c] = ix->chunks[c] != NULL ? n_blocks++ : UINT64_MAX;
    }
    struct vx_file_head h = {ix->dim, ix->params.chunk_rows, ix->n_rows, ix->id_bound,
                             ix->cap_chunks, total};
    int rc = mapfile_put(w, MAPFILE_ID("VXHD"), &h, sizeof h, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("VXCI"), table, ix->cap_chunks * sizeof *table, err);
    if (rc == PX_OK) rc = mapfile_begin(w, MAPFILE_ID("VXCB"), err);
    for (size_t c = 0; rc == PX_OK && c < ix->cap_chunks; c++) {
        if (ix->chunks[c] != NULL) {
            rc = mapfile_append(w, ix->chunks[c]->valid, total, err);
        }
    }
    if (rc == PX_OK) rc = mapfile_end(w, err);
    px_free(table);
    return rc;
}

int vindex_open(const struct mapfile *m, const struct vindex_params *params, struct vindex **out,
                struct px_err *err)
{
    const void *p = NULL;
    const uint64_t *table = NULL;
    unsigned char *blocks = NULL;
    size_t len = 0, n_table = 0, n_blocks = 0;
    struct vx_file_head h;
    *out = NULL;
    int rc = mapfile_get(m, MAPFILE_ID("VXHD"), 1, &p, &len, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (len != sizeof h) {
        return px_fail(err, PX_EFORMAT, "'%s': vector head of %zu bytes", mapfile_path(m), len);
    }
    memcpy(&h, p, sizeof h);
    struct vindex_params vp = params != NULL ? *params : vindex_default_params();
    vp.chunk_rows = (size_t)h.chunk_rows; // the file's layout
    if (h.dim == 0 || h.dim > LIMIT_VINDEX_DIM || h.chunk_rows == 0 ||
        h.chunk_rows > LIMIT_VINDEX_CHUNK_ROWS || h.id_bound > LIMIT_VINDEX_ROWS ||
        h.n_rows > h.id_bound || h.n_chunks > LIMIT_VINDEX_ROWS / 64) {
        return px_fail(err, PX_EFORMAT, "'%s': vector head is damaged", mapfile_path(m));
    }
    rc = vindex_new((size_t)h.dim, &vp, out, err);
    if (rc != PX_OK) {
        return rc == PX_ENOMEM ? rc : px_fail(err, PX_EFORMAT, "'%s': vector head is damaged",
                                              mapfile_path(m));
    }
    struct vindex *ix = *out;
    size_t o_scale, o_q4, o_vec, total;
    chunk_layout(ix, &o_scale, &o_q4, &o_vec, &total);
    rc = mapfile_get(m, MAPFILE_ID("VXCI"), sizeof *table, &p, &n_table, err);
    table = p;
    n_table /= sizeof *table;
    if (rc == PX_OK) {
        rc = mapfile_get(m, MAPFILE_ID("VXCB"), total, &p, &len, err);
        blocks = (unsigned char *)p;
        n_blocks = len / total;
    }
    if (rc == PX_OK && (n_table != h.n_chunks || h.chunk_bytes != total ||
                        h.id_bound > (uint64_t)n_table * h.chunk_rows)) {
        rc = px_fail(err, PX_EFORMAT, "'%s': vector chunk table is damaged", mapfile_path(m));
    }
    if (rc == PX_OK && n_table > 0) {
        ix->chunks = px_calloc(n_table, sizeof *ix->chunks);
        if (ix->chunks == NULL) {
            rc = px_fail(err, PX_ENOMEM, "vindex: out of memory opening");
        }
    }
    ix->cap_chunks = rc == PX_OK ? n_table : 0;
    for (size_t c = 0; rc == PX_OK && c < n_table; c++) {
        if (table[c] == UINT64_MAX) {
            continue;
        }
        if (table[c] >= n_blocks) {
            rc = px_fail(err, PX_EFORMAT, "'%s': vector chunk %zu lies outside its section",
                         mapfile_path(m), c);
            break;
        }
        ix->chunks[c] = px_malloc(sizeof *ix->chunks[c]);
        if (ix->chunks[c] == NULL) {
            rc = px_fail(err, PX_ENOMEM, "vindex: out of memory opening");
            break;
        }
        chunk_point(ix, ix->chunks[c], blocks + (size_t)table[c] * total);
    }
    if (rc != PX_OK) {
        vindex_free(ix);
        *out = NULL;
        return rc;
    }
    ix->n_rows = (size_t)h.n_rows;
    ix->id_bound = (size_t)h.id_bound;
    return PX_OK;
}
