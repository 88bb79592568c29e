// test_vindex.c — the vector index: every SIMD kernel against its scalar reference, the int4
// scan + f32 re-scoring against brute-force exact top-k (k = 1, 10, 100; no bitmap and bitmaps
// of 100 %, 10 %, 0.1 % and 0 % of the rows), recall@10 on 20k random vectors, input
// validation with the offending index, thread-count independence and allocation failures.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "bitmap.h"
#include "cpu.h"
#include "limits.h"
#include "mem.h"
#include "pool.h"
#include "vindex.h"
#include "vindex_internal.h"

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double uniform(void)
{
    return ((double)(rnd() >> 11) + 0.5) / 9007199254740992.0;
}
static float gauss(void)
{
    return (float)(sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform()));
}
static void random_vec(float *v, size_t d)
{
    for (size_t i = 0; i < d; i++) {
        v[i] = gauss();
    }
}

// ---- kernels ----

static void test_vindex_scan_kernels_match_reference(void **state)
{
    (void)state;
    rng_state = 1;
    static const size_t DIMS[] = {1, 7, 8, 9, 24, 48, 384, 385};
    struct {
        const char *name;
        vx_scan_fn fn;
        int ok;
    } v[3] = {{"ref", vx_scan_q4_ref, 1}, {"avx2", NULL, 0}, {"vnni", NULL, 0}};
#if defined(__x86_64__)
    v[1].fn = vx_scan_q4_avx2;
    v[1].ok = cpu_features()->avx2;
    v[2].fn = vx_scan_q4_vnni;
    v[2].ok = cpu_features()->avx512vnni;
#endif
    enum { N_TILES = 8 };
    for (size_t c = 0; c < sizeof DIMS / sizeof DIMS[0]; c++) {
        size_t dim = DIMS[c], ng = (dim + 7) / 8;
        uint8_t *tiles = malloc(N_TILES * ng * 64);
        memset(tiles, 0x88, N_TILES * ng * 64);
        float scale[N_TILES * 16], ref_score[N_TILES * 16], score[N_TILES * 16];
        float *x = malloc(dim * sizeof *x), *q = malloc(dim * sizeof *q);
        int8_t *q8 = malloc(ng * 8);
        for (size_t r = 0; r < N_TILES * 16; r++) {
            random_vec(x, dim);
            scale[r] = vx_quantise_row(x, dim, ng, tiles + r / 16 * ng * 64, r % 16);
        }
        random_vec(q, dim);
        int32_t qoff = vx_quantise_query(q, dim, ng, q8);
        uint16_t masks[N_TILES], ref_hits[N_TILES], hits[N_TILES];
        for (int t = 0; t < N_TILES; t++) {
            masks[t] = t == 3 ? 0 : (uint16_t)rnd();
        }
        masks[0] = 0xffff;
        vx_scan_q4_ref(tiles, scale, ng, masks, N_TILES, q8, qoff, 0.0f, ref_score, ref_hits);
        for (int i = 1; i < 3; i++) {
            if (!v[i].ok) {
                printf("  dim %zu: %s kernel not available on this CPU, skipped\n", dim, v[i].name);
                continue;
            }
            memset(score, 0, sizeof score);
            v[i].fn(tiles, scale, ng, masks, N_TILES, q8, qoff, 0.0f, score, hits);
            for (int t = 0; t < N_TILES; t++) {
                if (hits[t] != ref_hits[t]) {
                    fail_msg("dim %zu, %s: tile %d hits %04x, reference %04x", dim, v[i].name, t,
                             hits[t], ref_hits[t]);
                }
                for (int r = 0; masks[t] != 0 && r < 16; r++) {
                    if (score[t * 16 + r] != ref_score[t * 16 + r]) {
                        fail_msg("dim %zu, %s: tile %d row %d score %.9g, reference %.9g", dim,
                                 v[i].name, t, r, score[t * 16 + r], ref_score[t * 16 + r]);
                    }
                }
            }
        }
        free(tiles);
        free(x);
        free(q);
        free(q8);
    }
}

static void test_vindex_dot_kernels_match_reference(void **state)
{
    (void)state;
    rng_state = 2;
    float a[1031], b[1031];
    random_vec(a, 1031);
    random_vec(b, 1031);
    double max_diff = 0.0;
    for (size_t n = 0; n <= 1031; n += (n < 70 ? 1 : 97)) {
        double exact = 0.0;
        for (size_t i = 0; i < n; i++) {
            exact += (double)a[i] * b[i];
        }
        float r = vx_dot_ref(a, b, n);
        float s[2] = {r, r};
#if defined(__x86_64__)
        if (cpu_features()->avx2) {
            s[0] = vx_dot_avx2(a, b, n);
        }
        if (cpu_features()->avx512f) {
            s[1] = vx_dot_avx512(a, b, n);
        }
#endif
        double tol = 1e-5 * (1.0 + sqrt((double)n)) * 4.0;
        for (int i = 0; i < 2; i++) {
            double d = fabs((double)s[i] - (double)r);
            max_diff = d > max_diff ? d : max_diff;
            if (d > tol || fabs((double)s[i] - exact) > tol) {
                fail_msg("n %zu: variant %d = %.9g, reference %.9g, exact %.9g", n, i, s[i], r,
                         exact);
            }
        }
    }
    printf("  dot: max |simd - ref| = %.3g\n", max_diff);
}

static void test_vindex_quantisation_error_is_small(void **state)
{
    (void)state;
    rng_state = 3;
    enum { D = 384 };
    float x[D];
    uint8_t tile[D / 8 * 64];
    double worst = 1.0;
    for (int rep = 0; rep < 200; rep++) {
        random_vec(x, D);
        float s = vx_quantise_row(x, D, D / 8, tile, (size_t)rep % 16);
        double xx = 0, xy = 0, yy = 0;
        for (size_t d = 0; d < D; d++) {
            const uint8_t byte = tile[((d / 8) * 16 + (size_t)rep % 16) * 4 + d % 4];
            int u = (d % 8 < 4 ? byte & 15 : byte >> 4) - 8;
            double y = s * u;
            xx += (double)x[d] * x[d];
            xy += x[d] * y;
            yy += y * y;
        }
        double cosine = xy / sqrt(xx * yy);
        worst = cosine < worst ? cosine : worst;
    }
    printf("  int4: worst cosine(x, dequantised x) over 200 rows = %.5f\n", worst);
    assert_true(worst > 0.99);
}

// ---- search against brute force ----

struct fixture {
    struct vindex *ix;
    float *vecs; // (n, dim) as given (not normalised)
    size_t n, dim;
};

static void build(struct fixture *f, size_t n, size_t dim, const struct vindex_params *p,
                  uint64_t seed)
{
    struct px_err err = {0};
    rng_state = seed;
    f->n = n;
    f->dim = dim;
    f->vecs = malloc(n * dim * sizeof(float));
    assert_int_equal(vindex_new(dim, p, &f->ix, &err), PX_OK);
    for (size_t i = 0; i < n; i++) {
        random_vec(f->vecs + i * dim, dim);
        if (vindex_add(f->ix, (uint32_t)i, f->vecs + i * dim, dim, &err) != PX_OK) {
            fail_msg("row %zu: %s", i, err.msg);
        }
    }
    assert_int_equal(vindex_count(f->ix), n);
    assert_int_equal(vindex_id_bound(f->ix), n);
}

static void unbuild(struct fixture *f)
{
    vindex_free(f->ix);
    free(f->vecs);
}

struct ranked {
    double s;
    uint32_t row;
};
static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    if (a->s != b->s) {
        return a->s > b->s ? -1 : 1;
    }
    return a->row < b->row ? -1 : a->row > b->row;
}

// Double-precision brute force: cosine of the query with every candidate row, sorted.
static size_t brute_force(const struct fixture *f, const float *q, const struct bitmap *cand,
                          struct ranked *out)
{
    double qq = 0;
    for (size_t d = 0; d < f->dim; d++) {
        qq += (double)q[d] * q[d];
    }
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (cand != NULL && !bitmap_test(cand, i)) {
            continue;
        }
        const float *x = f->vecs + i * f->dim;
        double xq = 0, xx = 0;
        for (size_t d = 0; d < f->dim; d++) {
            xq += (double)x[d] * q[d];
            xx += (double)x[d] * x[d];
        }
        out[m++] = (struct ranked){xq / sqrt(xx * qq), (uint32_t)i};
    }
    qsort(out, m, sizeof *out, cmp_ranked);
    return m;
}

// A bitmap with about pct_x10 / 1000 of n rows set (at least one unless pct_x10 == 0).
static struct bitmap *random_bitmap(size_t n, unsigned per_mille)
{
    struct bitmap *b = NULL;
    struct px_err err = {0};
    assert_int_equal(bitmap_new(n, &b, &err), PX_OK);
    for (size_t i = 0; i < n; i++) {
        if (rnd() % 1000 < per_mille) {
            bitmap_set(b, i);
        }
    }
    if (per_mille > 0 && bitmap_count(b) == 0) {
        bitmap_set(b, n / 2);
    }
    return b;
}

static void check_against_brute_force(const struct fixture *f, struct pool *pool,
                                      const char *what)
{
    static const size_t KS[] = {1, 10, 100};
    static const int PER_MILLE[] = {-1, 1000, 100, 1, 0}; // -1: NULL bitmap
    struct ranked *bf = malloc(f->n * sizeof *bf);
    struct vindex_hit hits[100], ex[100];
    float q[512];
    struct px_err err = {0};
    for (size_t fi = 0; fi < sizeof PER_MILLE / sizeof PER_MILLE[0]; fi++) {
        struct bitmap *cand = PER_MILLE[fi] < 0 ? NULL : random_bitmap(f->n, (unsigned)PER_MILLE[fi]);
        for (size_t ki = 0; ki < sizeof KS / sizeof KS[0]; ki++) {
            for (int rep = 0; rep < 3; rep++) {
                size_t k = KS[ki], n_hits = 0, n_ex = 0;
                random_vec(q, f->dim);
                if (rep == 2) { // a query near a stored row: a clear nearest neighbour
                    memcpy(q, f->vecs + (rnd() % f->n) * f->dim, f->dim * sizeof(float));
                }
                assert_int_equal(vindex_search(f->ix, q, f->dim, k, cand, pool, hits, &n_hits, &err),
                                 PX_OK);
                assert_int_equal(vindex_search_exact(f->ix, q, f->dim, k, cand, ex, &n_ex, &err),
                                 PX_OK);
                size_t m = brute_force(f, q, cand, bf);
                size_t want = m < k ? m : k;
                if (n_hits != want || n_ex != want) {
                    fail_msg("%s, filter %d/1000, k %zu: %zu hits (exact %zu), expected %zu", what,
                             PER_MILLE[fi], k, n_hits, n_ex, want);
                }
                for (size_t i = 0; i < n_hits; i++) {
                    if (cand != NULL && !bitmap_test(cand, hits[i].row_id)) {
                        fail_msg("%s: row %u is not a candidate", what, hits[i].row_id);
                    }
                    if (hits[i].row_id != ex[i].row_id || hits[i].score != ex[i].score) {
                        fail_msg("%s, filter %d/1000, k %zu, rank %zu: row %u (%.7f), exact row "
                                 "%u (%.7f)", what, PER_MILLE[fi], k, i, hits[i].row_id,
                                 hits[i].score, ex[i].row_id, ex[i].score);
                    }
                    if (fabs(hits[i].score - bf[i].s) > 2e-6) {
                        fail_msg("%s, filter %d/1000, k %zu, rank %zu: score %.7f, brute force "
                                 "%.7f (row %u)", what, PER_MILLE[fi], k, i, hits[i].score, bf[i].s,
                                 bf[i].row);
                    }
                    if (i > 0 && (hits[i].score > hits[i - 1].score ||
                                  (hits[i].score == hits[i - 1].score &&
                                   hits[i].row_id < hits[i - 1].row_id))) {
                        fail_msg("%s: results out of order at rank %zu", what, i);
                    }
                }
            }
        }
        bitmap_free(cand);
    }
    free(bf);
}

static void test_vindex_topk_equals_brute_force(void **state)
{
    (void)state;
    struct fixture f = {0};
    // Forces the int4 scan + re-scoring path for every bitmap but the tiny ones.
    struct vindex_params p = vindex_default_params();
    p.n_rescore = 300;
    p.exact_below = 0;
    build(&f, 6000, 40, &p, 11);
    check_against_brute_force(&f, NULL, "scan path");
    unbuild(&f);
    build(&f, 3000, 40, NULL, 12); // defaults: exact path at this size
    check_against_brute_force(&f, NULL, "default params");
    unbuild(&f);
}

static void test_vindex_recall_at_10(void **state)
{
    (void)state;
    enum { N = 20000, D = 384, Q = 100, K = 10 };
    static const size_t RESCORE[] = {4096, 256};
    for (size_t ri = 0; ri < 2; ri++) {
        struct fixture f = {0};
        struct vindex_params p = vindex_default_params();
        p.exact_below = 0;
        p.n_rescore = RESCORE[ri];
        build(&f, N, D, &p, 21);
        float q[D];
        struct vindex_hit hits[K], ex[K];
        size_t found = 0, n_hits = 0, n_ex = 0;
        struct px_err err = {0};
        for (int i = 0; i < Q; i++) {
            random_vec(q, D);
            assert_int_equal(vindex_search(f.ix, q, D, K, NULL, NULL, hits, &n_hits, &err), PX_OK);
            assert_int_equal(vindex_search_exact(f.ix, q, D, K, NULL, ex, &n_ex, &err), PX_OK);
            assert_int_equal(n_hits, K);
            for (int a = 0; a < K; a++) {
                for (int b = 0; b < K; b++) {
                    found += hits[a].row_id == ex[b].row_id;
                }
            }
        }
        double recall = (double)found / (Q * K);
        printf("  recall@10 over %d random queries, %d x %d, n_rescore %zu: %.4f\n", Q, N, D,
               RESCORE[ri], recall);
        assert_true(recall >= 0.999);
        unbuild(&f);
    }
}

static void test_vindex_threads_give_identical_results(void **state)
{
    (void)state;
    struct fixture f = {0};
    struct vindex_params p = vindex_default_params();
    p.n_rescore = 200;
    p.exact_below = 0;
    build(&f, 5000, 64, &p, 31);
    struct pool *pools[3] = {NULL, NULL, NULL};
    struct px_err err = {0};
    for (int t = 0; t < 3; t++) {
        assert_int_equal(pool_new(t + 1, &pools[t], &err), PX_OK);
    }
    struct bitmap *cand = random_bitmap(f.n, 300);
    float q[64];
    for (int rep = 0; rep < 20; rep++) {
        random_vec(q, 64);
        struct vindex_hit base[50], hits[50];
        size_t n_base = 0, n_hits = 0;
        const struct bitmap *c = rep % 2 ? cand : NULL;
        assert_int_equal(vindex_search(f.ix, q, 64, 50, c, NULL, base, &n_base, &err), PX_OK);
        for (int t = 0; t < 3; t++) {
            assert_int_equal(vindex_search(f.ix, q, 64, 50, c, pools[t], hits, &n_hits, &err),
                             PX_OK);
            assert_int_equal(n_hits, n_base);
            if (memcmp(hits, base, n_hits * sizeof *hits) != 0) {
                fail_msg("query %d: %d threads differ from the calling thread alone", rep, t + 1);
            }
        }
    }
    bitmap_free(cand);
    for (int t = 0; t < 3; t++) {
        pool_free(pools[t]);
    }
    unbuild(&f);
}

static void test_vindex_sparse_ids_and_short_bitmap(void **state)
{
    (void)state;
    struct vindex *ix = NULL;
    struct px_err err = {0};
    assert_int_equal(vindex_new(4, NULL, &ix, &err), PX_OK);
    const float a[4] = {1, 0, 0, 0}, b[4] = {0, 1, 0, 0}, c[4] = {1, 1, 0, 0};
    assert_int_equal(vindex_add(ix, 5, a, 4, &err), PX_OK);
    assert_int_equal(vindex_add(ix, 100000, b, 4, &err), PX_OK);
    assert_int_equal(vindex_add(ix, 7, c, 4, &err), PX_OK);
    assert_int_equal(vindex_id_bound(ix), 100001);
    // the stored vector is the unit one; ids never added have none
    const float *v7 = vindex_vector(ix, 7);
    assert_non_null(v7);
    assert_true(fabsf(v7[0] - 1 / sqrtf(2)) < 1e-6f && fabsf(v7[1] - 1 / sqrtf(2)) < 1e-6f);
    assert_true(vindex_vector(ix, 5)[0] == 1.0f);
    assert_null(vindex_vector(ix, 6));
    assert_null(vindex_vector(ix, 99999));
    assert_null(vindex_vector(ix, 5000000));
    struct vindex_hit h[5];
    size_t n = 0;
    const float q[4] = {2, 0.1f, 0, 0};
    assert_int_equal(vindex_search(ix, q, 4, 5, NULL, NULL, h, &n, &err), PX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(h[0].row_id, 5);
    assert_int_equal(h[1].row_id, 7);
    assert_int_equal(h[2].row_id, 100000);
    assert_true(fabsf(h[0].score - 2.0f / sqrtf(4.01f)) < 1e-6f);
    // a bitmap shorter than the ids: rows past it are not candidates
    struct bitmap *bm = NULL;
    assert_int_equal(bitmap_new(64, &bm, &err), PX_OK);
    bitmap_fill(bm);
    assert_int_equal(vindex_search(ix, q, 4, 5, bm, NULL, h, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    bitmap_zero(bm);
    assert_int_equal(vindex_search(ix, q, 4, 5, bm, NULL, h, &n, &err), PX_OK);
    assert_int_equal(n, 0);
    // equal vectors: ties broken by the lower row id
    assert_int_equal(vindex_add(ix, 3, c, 4, &err), PX_OK);
    const float qc[4] = {1, 1, 0, 0};
    assert_int_equal(vindex_search(ix, qc, 4, 2, NULL, NULL, h, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].row_id, 3);
    assert_int_equal(h[1].row_id, 7);
    bitmap_free(bm);
    vindex_free(ix);
    vindex_free(NULL);
}

// ---- validation ----

static void test_vindex_rejects_bad_input_with_index(void **state)
{
    (void)state;
    struct vindex *ix = NULL;
    struct px_err err = {0};
    assert_int_equal(vindex_new(0, NULL, &ix, &err), PX_EINVAL);
    assert_int_equal(vindex_new(LIMIT_VINDEX_DIM + 1, NULL, &ix, &err), PX_ELIMIT);
    struct vindex_params p = vindex_default_params();
    p.chunk_rows = 1000;
    assert_int_equal(vindex_new(8, &p, &ix, &err), PX_EINVAL);
    assert_int_equal(vindex_new(8, NULL, &ix, &err), PX_OK);
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct {
        size_t index;
        float value;
        const char *msg;
    } cases[] = {{5, NAN, "element 5 is NaN"}, {0, INFINITY, "element 0 is infinite"},
                 {7, -INFINITY, "element 7 is infinite"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float w[8];
        memcpy(w, v, sizeof w);
        w[cases[c].index] = cases[c].value;
        assert_int_equal(vindex_add(ix, 42, w, 8, &err), PX_EINVAL);
        if (strstr(err.msg, cases[c].msg) == NULL || strstr(err.msg, "row 42") == NULL) {
            fail_msg("case %zu: message '%s'", c, err.msg);
        }
    }
    const float zero[8] = {0};
    assert_int_equal(vindex_add(ix, 9, zero, 8, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "row 9: zero vector"));
    assert_int_equal(vindex_add(ix, 9, v, 7, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "7 values"));
    assert_int_equal(vindex_add(ix, LIMIT_VINDEX_ROWS, v, 8, &err), PX_ELIMIT);
    assert_int_equal(vindex_count(ix), 0);
    assert_int_equal(vindex_add(ix, 9, v, 8, &err), PX_OK);
    assert_int_equal(vindex_add(ix, 9, v, 8, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "row 9: already"));
    struct vindex_hit h[2];
    size_t n = 99;
    float q[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    q[3] = NAN;
    assert_int_equal(vindex_search(ix, q, 8, 2, NULL, NULL, h, &n, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "element 3"));
    assert_int_equal(n, 0);
    assert_int_equal(vindex_search(ix, zero, 8, 2, NULL, NULL, h, &n, &err), PX_EINVAL);
    assert_int_equal(vindex_search(ix, v, 8, 0, NULL, NULL, h, &n, &err), PX_EINVAL);
    assert_int_equal(vindex_search(ix, v, 8, LIMIT_VINDEX_K + 1, NULL, NULL, h, &n, &err),
                     PX_ELIMIT);
    assert_int_equal(vindex_search(ix, v, 6, 2, NULL, NULL, h, &n, &err), PX_EINVAL);
    vindex_free(ix);
}

// ---- allocation failures ----

struct fault_user {
    struct vindex *ix;
};

static int open_and_fill(void *user, struct px_err *err)
{
    struct fault_user *u = user;
    struct vindex_params p = vindex_default_params();
    p.chunk_rows = 64;
    int rc = vindex_new(16, &p, &u->ix, err);
    float v[16];
    for (uint32_t r = 0; rc == PX_OK && r < 700; r += 7) { // 11 chunks, table grows 4 times
        for (int d = 0; d < 16; d++) {
            v[d] = (float)((r * 31 + (uint32_t)d * 7) % 13) - 6.0f;
        }
        v[0] = 7.0f;
        size_t before = vindex_count(u->ix);
        rc = vindex_add(u->ix, r, v, 16, err);
        if (rc != PX_OK && vindex_count(u->ix) != before) {
            return PX_EINTERNAL; // a failed add must leave the index as it was
        }
    }
    if (rc == PX_OK) {
        struct vindex_hit h[5];
        size_t n = 0;
        rc = vindex_search(u->ix, v, 16, 5, NULL, NULL, h, &n, err);
        if (rc == PX_OK && (n != 5 || h[0].score < 0.9999f)) { // v itself (or an equal row) is in
            rc = PX_EINTERNAL;
        }
    }
    return rc;
}

static void close_index(void *user)
{
    struct fault_user *u = user;
    vindex_free(u->ix);
    u->ix = NULL;
}

static void test_vindex_alloc_failures(void **state)
{
    (void)state;
    struct fault_user u = {0};
    long points = tu_check_alloc_failures(open_and_fill, close_index, &u);
    printf("  %ld allocation points checked\n", points);
    assert_true(points >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vindex_scan_kernels_match_reference),
        cmocka_unit_test(test_vindex_dot_kernels_match_reference),
        cmocka_unit_test(test_vindex_quantisation_error_is_small),
        cmocka_unit_test(test_vindex_topk_equals_brute_force),
        cmocka_unit_test(test_vindex_recall_at_10),
        cmocka_unit_test(test_vindex_threads_give_identical_results),
        cmocka_unit_test(test_vindex_sparse_ids_and_short_bitmap),
        cmocka_unit_test(test_vindex_rejects_bad_input_with_index),
        cmocka_unit_test(test_vindex_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
