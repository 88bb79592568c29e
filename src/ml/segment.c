// segment.c — k-means with k-means++ seeding, restarts and silhouette-chosen k (segment.h).
//
// Lloyd's algorithm: assign every row to its nearest centroid (squared Euclidean, ties to the
// lower index), move each centroid to its rows' mean, stop when no row changes cluster or after
// max_iter. A cluster left empty takes the row farthest from its centroid. Distances are
// accumulated in double so the result does not depend on summation order between runs.
// Silhouette (Rousseeuw 1987): s(i) = (b - a) / max(a, b) with a the mean distance to its own
// cluster and b the least mean distance to another; O(m² · dim) on a sample of m rows.
#include "segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "mem.h"
#include "prng.h"

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    return prng_splitmix64(&r->s);
}

static double rng_unif(struct rng *r)
{
    return prng_unit(rng_next(r));
}

struct kmeans_params kmeans_default_params(void)
{
    struct kmeans_params p = {.k = 4, .restarts = 5, .max_iter = 100, .seed = 42, .sil_rows = 2000};
    return p;
}

void kmeans_result_free(struct kmeans_result *r)
{
    px_free(r->centroids);
    px_free(r->assign);
    px_free(r->sizes);
    memset(r, 0, sizeof *r);
}

static double dist2(const float *a, const float *b, size_t dim)
{
    double s = 0;
    for (size_t d = 0; d < dim; d++) {
        double t = (double)a[d] - (double)b[d];
        s += t * t;
    }
    return s;
}

// One k-means++ start + Lloyd; c: (k, dim), assign: (n), md: (n) scratch. Returns inertia.
static double lloyd(const float *x, size_t n, size_t dim, int k, int max_iter, struct rng *r,
                    float *c, int32_t *assign, double *md, double *sum, size_t *cnt)
{
    // k-means++: first centroid uniform, then each with probability ∝ D(x)²
    size_t first = (size_t)(rng_unif(r) * (double)n);
    memcpy(c, x + (first < n ? first : n - 1) * dim, dim * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        md[i] = dist2(x + i * dim, c, dim);
    }
    for (int j = 1; j < k; j++) {
        double total = 0;
        for (size_t i = 0; i < n; i++) {
            total += md[i];
        }
        size_t pick = n - 1;
        if (total > 0) {
            double u = rng_unif(r) * total;
            for (size_t i = 0; i < n; i++) {
                if (u < md[i]) {
                    pick = i;
                    break;
                }
                u -= md[i];
            }
        } else {
            pick = (size_t)(rng_unif(r) * (double)n) % n;
        }
        float *cj = c + (size_t)j * dim;
        memcpy(cj, x + pick * dim, dim * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            double d = dist2(x + i * dim, cj, dim);
            md[i] = d < md[i] ? d : md[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        assign[i] = -1;
    }
    double inertia = 0;
    for (int it = 0; it < max_iter; it++) {
        size_t changed = 0;
        inertia = 0;
        for (size_t i = 0; i < n; i++) {
            int best = 0;
            double bd = INFINITY;
            for (int j = 0; j < k; j++) {
                double d = dist2(x + i * dim, c + (size_t)j * dim, dim);
                if (d < bd) {
                    bd = d;
                    best = j;
                }
            }
            md[i] = bd;
            inertia += bd;
            if (assign[i] != best) {
                assign[i] = best;
                changed++;
            }
        }
        if (changed == 0) {
            break;
        }
        memset(sum, 0, (size_t)k * dim * sizeof *sum);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            double *s = sum + (size_t)assign[i] * dim;
            for (size_t d = 0; d < dim; d++) {
                s[d] += x[i * dim + d];
            }
            cnt[assign[i]]++;
        }
        for (int j = 0; j < k; j++) {
            float *cj = c + (size_t)j * dim;
            if (cnt[j] == 0) { // empty: take the row farthest from its centroid
                size_t far = 0;
                for (size_t i = 1; i < n; i++) {
                    far = md[i] > md[far] ? i : far;
                }
                memcpy(cj, x + far * dim, dim * sizeof(float));
                md[far] = 0;
                continue;
            }
            for (size_t d = 0; d < dim; d++) {
                cj[d] = (float)(sum[(size_t)j * dim + d] / (double)cnt[j]);
            }
        }
    }
    return inertia;
}

int kmeans_silhouette(const float *x, size_t n, size_t dim, const int32_t *assign, int k,
                      size_t max_rows, uint64_t seed, double *out, struct px_err *err)
{
    *out = NAN;
    if (k < 2 || n < 2) {
        return PX_OK;
    }
    size_t m = n < max_rows ? n : max_rows;
    size_t *rows = px_calloc(m, sizeof *rows);
    double *acc = px_calloc((size_t)k, sizeof *acc);
    size_t *cnt = px_calloc((size_t)k, sizeof *cnt);
    double total = 0;
    size_t counted = 0;
    int rc = PX_OK;
    if (rows == NULL || acc == NULL || cnt == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for the silhouette of %zu rows", m);
        goto done;
    }
    if (m == n) {
        for (size_t i = 0; i < n; i++) {
            rows[i] = i;
        }
    } else { // seeded sample without replacement (selection sampling)
        struct rng r = {seed ^ 0x51Eull};
        size_t need = m;
        for (size_t i = 0, at = 0; i < n && need > 0; i++) {
            if (rng_unif(&r) * (double)(n - i) < (double)need) {
                rows[at++] = i;
                need--;
            }
        }
    }
    for (size_t a = 0; a < m; a++) {
        memset(acc, 0, (size_t)k * sizeof *acc);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        size_t i = rows[a];
        for (size_t b = 0; b < m; b++) {
            size_t j = rows[b];
            if (j == i) {
                continue;
            }
            acc[assign[j]] += sqrt(dist2(x + i * dim, x + j * dim, dim));
            cnt[assign[j]]++;
        }
        int own = assign[i];
        if (cnt[own] == 0) {
            counted++; // a singleton's silhouette is 0
            continue;
        }
        double ai = acc[own] / (double)cnt[own], bi = INFINITY;
        for (int c = 0; c < k; c++) {
            if (c != own && cnt[c] > 0) {
                double v = acc[c] / (double)cnt[c];
                bi = v < bi ? v : bi;
            }
        }
        if (isfinite(bi)) {
            double mx = ai > bi ? ai : bi;
            total += mx > 0 ? (bi - ai) / mx : 0;
        }
        counted++;
    }
    *out = counted ? total / (double)counted : NAN;
done:
    px_free(rows);
    px_free(acc);
    px_free(cnt);
    return rc;
}

struct order {
    size_t size, first;
    int j;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order *x = a, *y = b;
    if (x->size != y->size) {
        return x->size > y->size ? -1 : 1;
    }
    return x->first < y->first ? -1 : x->first > y->first;
}

int kmeans_fit(const float *x, size_t n, size_t dim, const struct kmeans_params *p,
               struct kmeans_result *out, struct px_err *err)
{
    memset(out, 0, sizeof *out);
    if (p->k < 1 || p->k > LIMIT_KMEANS_K) {
        return px_fail(err, PX_EINVAL, "k must be 1..%d, got %d", LIMIT_KMEANS_K, p->k);
    }
    if ((size_t)p->k > n) {
        return px_fail(err, PX_EINVAL, "k %d is more than the %zu rows to cluster", p->k, n);
    }
    if (dim < 1 || dim > LIMIT_KMEANS_DIM || n > LIMIT_KMEANS_ROWS || p->restarts < 1 ||
        p->restarts > LIMIT_KMEANS_RESTARTS || p->max_iter < 1 ||
        p->max_iter > LIMIT_KMEANS_ITERS) {
        return px_fail(err, PX_EINVAL,
                       "k-means: %zu rows x %zu dims, %d restarts, %d "
                       "iterations: outside the limits (LIMIT_KMEANS_*)",
                       n, dim, p->restarts, p->max_iter);
    }
    for (size_t i = 0; i < n * dim; i++) {
        if (!isfinite(x[i])) {
            return px_fail(err, PX_EINVAL, "row %zu, column %zu: not a finite number", i / dim,
                           i % dim);
        }
    }
    const size_t k = (size_t)p->k;
    float *c = px_calloc(k * dim, sizeof *c), *best_c = px_calloc(k * dim, sizeof *best_c);
    int32_t *as = px_calloc(n, sizeof *as), *best_a = px_calloc(n, sizeof *best_a);
    double *md = px_calloc(n, sizeof *md), *sum = px_calloc(k * dim, sizeof *sum);
    size_t *cnt = px_calloc(k, sizeof *cnt);
    struct order *ord = px_calloc(k, sizeof *ord);
    int *relabel = px_calloc(k, sizeof *relabel);
    int rc = PX_ENOMEM;
    if (c == NULL || best_c == NULL || as == NULL || best_a == NULL || md == NULL || sum == NULL ||
        cnt == NULL || ord == NULL || relabel == NULL) {
        px_fail(err, rc, "out of memory clustering %zu rows", n);
        goto done;
    }
    double best = INFINITY;
    for (int s = 0; s < p->restarts; s++) {
        struct rng r = {p->seed * 0x100000001B3ull + (uint64_t)s};
        double in = lloyd(x, n, dim, p->k, p->max_iter, &r, c, as, md, sum, cnt);
        if (in < best) {
            best = in;
            memcpy(best_c, c, k * dim * sizeof *c);
            memcpy(best_a, as, n * sizeof *as);
        }
    }
    // canonical labels: largest cluster first, ties by first row
    for (size_t j = 0; j < k; j++) {
        ord[j] = (struct order){0, n, (int)j};
    }
    for (size_t i = 0; i < n; i++) {
        struct order *o = &ord[best_a[i]];
        o->size++;
        o->first = i < o->first ? i : o->first;
    }
    qsort(ord, k, sizeof *ord, cmp_order);
    out->sizes = px_calloc(k, sizeof *out->sizes);
    if (out->sizes == NULL) {
        px_fail(err, rc, "out of memory clustering %zu rows", n);
        goto done;
    }
    for (size_t j = 0; j < k; j++) {
        relabel[ord[j].j] = (int)j;
        memcpy(c + j * dim, best_c + (size_t)ord[j].j * dim, dim * sizeof *c);
        out->sizes[j] = ord[j].size;
    }
    for (size_t i = 0; i < n; i++) {
        as[i] = relabel[best_a[i]];
    }
    double sil = NAN;
    if ((rc = kmeans_silhouette(x, n, dim, as, p->k, p->sil_rows, p->seed, &sil, err)) != PX_OK) {
        goto done;
    }
    out->k = p->k;
    out->dim = dim;
    out->centroids = c;
    out->assign = as;
    out->inertia = best;
    out->silhouette = sil;
    c = NULL;
    as = NULL;
    rc = PX_OK;
done:
    px_free(c);
    px_free(best_c);
    px_free(as);
    px_free(best_a);
    px_free(md);
    px_free(sum);
    px_free(cnt);
    px_free(ord);
    px_free(relabel);
    if (rc != PX_OK) {
        kmeans_result_free(out);
    }
    return rc;
}

int kmeans_choose(const float *x, size_t n, size_t dim, int k_lo, int k_hi,
                  const struct kmeans_params *p, struct kmeans_result *out, double *scores,
                  struct px_err *err)
{
    memset(out, 0, sizeof *out);
    if (k_lo < 2 || k_hi < k_lo || k_hi > LIMIT_KMEANS_K) {
        return px_fail(err, PX_EINVAL, "k range %d..%d: needs 2 <= low <= high <= %d", k_lo, k_hi,
                       LIMIT_KMEANS_K);
    }
    if ((size_t)k_hi > n) {
        return px_fail(err, PX_EINVAL, "k %d is more than the %zu rows to cluster", k_hi, n);
    }
    for (int k = k_lo; k <= k_hi; k++) {
        struct kmeans_params q = *p;
        q.k = k;
        struct kmeans_result r;
        int rc = kmeans_fit(x, n, dim, &q, &r, err);
        if (rc != PX_OK) {
            kmeans_result_free(out);
            return rc;
        }
        if (scores != NULL) {
            scores[k - k_lo] = r.silhouette;
        }
        if (out->k == 0 || r.silhouette > out->silhouette) {
            kmeans_result_free(out);
            *out = r;
        } else {
            kmeans_result_free(&r);
        }
    }
    return PX_OK;
}
