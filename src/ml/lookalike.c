// lookalike.c — look-alikes and tipping points (contract in lookalike.h).
//
// Look-alikes are an exact scan: for P positives and N negatives it costs P x N x dim, which for
// a campaign table (thousands of rows) is milliseconds; a vindex would only pay off far beyond
// that. The k best per positive are kept by insertion into a sorted array of k.
#include "lookalike.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "mem.h"

// Most steps a tipping search takes (a feature spanning 0..1e6 with step 1 would otherwise run
// a million predictions).
#define MAX_TIP_STEPS 100000

int ml_standardize(const float *x, size_t n, size_t nf, float *out, struct px_err *err)
{
    (void)err;
    for (size_t k = 0; k < nf; k++) {
        double s = 0, ss = 0;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            float v = x[i * nf + k];
            if (!isnan(v)) {
                s += v;
                ss += (double)v * v;
                m++;
            }
        }
        double mean = m ? s / (double)m : 0;
        double var = m ? ss / (double)m - mean * mean : 0;
        double sd = var > 1e-24 ? sqrt(var) : 0;
        for (size_t i = 0; i < n; i++) {
            float v = x[i * nf + k];
            out[i * nf + k] = isnan(v) || sd == 0 ? 0.0f : (float)((v - mean) / sd);
        }
    }
    return PX_OK;
}

static int cmp_look(const void *a, const void *b)
{
    const struct ml_lookalike *x = a, *y = b;
    if (x->dist != y->dist) {
        return x->dist < y->dist ? -1 : 1;
    }
    return (x->row > y->row) - (x->row < y->row);
}

int ml_lookalikes(const float *v, size_t n, size_t dim, const float *y, size_t k,
                  const unsigned char *allow, struct ml_lookalike **out, size_t *n_out,
                  struct px_err *err)
{
    *out = NULL;
    *n_out = 0;
    if (k == 0 || k > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "k = %zu is not in 1..%d", k, LIMIT_VINDEX_K);
    }
    struct ml_lookalike *best = px_malloc(k * sizeof *best);
    double *nearest = px_malloc((n ? n : 1) * sizeof *nearest); // per negative: smallest distance
    size_t *near_of = px_malloc((n ? n : 1) * sizeof *near_of);
    if (best == NULL || nearest == NULL || near_of == NULL) {
        px_free(best);
        px_free(nearest);
        px_free(near_of);
        return px_fail(err, PX_ENOMEM, "out of memory finding look-alikes of %zu rows", n);
    }
    for (size_t i = 0; i < n; i++) {
        nearest[i] = INFINITY;
    }
    for (size_t p = 0; p < n; p++) {
        if (y[p] != 1.0f) {
            continue;
        }
        size_t m = 0;
        for (size_t q = 0; q < n; q++) {
            if (y[q] != 0.0f || (allow != NULL && !allow[q])) {
                continue;
            }
            double d = 0;
            for (size_t j = 0; j < dim; j++) {
                double t = (double)v[p * dim + j] - v[q * dim + j];
                d += t * t;
            }
            d = sqrt(d);
            if (m == k && !(d < best[k - 1].dist)) {
                continue;
            }
            size_t at = m < k ? m++ : k - 1;
            while (at > 0 && best[at - 1].dist > d) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = (struct ml_lookalike){.row = q, .near = p, .dist = d};
        }
        for (size_t i = 0; i < m; i++) {
            if (best[i].dist < nearest[best[i].row]) {
                nearest[best[i].row] = best[i].dist;
                near_of[best[i].row] = p;
            }
        }
    }
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        cnt += isfinite(nearest[i]);
    }
    struct ml_lookalike *list = px_malloc((cnt ? cnt : 1) * sizeof *list);
    if (list == NULL) {
        px_free(best);
        px_free(nearest);
        px_free(near_of);
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(nearest[i])) {
            list[j++] = (struct ml_lookalike){.row = i, .near = near_of[i], .dist = nearest[i]};
        }
    }
    qsort(list, cnt, sizeof *list, cmp_look);
    px_free(best);
    px_free(nearest);
    px_free(near_of);
    *out = list;
    *n_out = cnt;
    return PX_OK;
}

int ml_tipping(struct ml_classifier *c, const float *x, size_t nf, const size_t *rows,
               const size_t *feature, size_t n_rows, const double *step, const double *min,
               const double *max, double threshold, struct ml_tip *out, struct px_err *err)
{
    float *work = px_malloc((n_rows ? n_rows : 1) * nf * sizeof *work);
    float *batch = px_malloc((n_rows ? n_rows : 1) * nf * sizeof *batch);
    float *prob = px_malloc((n_rows ? n_rows : 1) * sizeof *prob);
    size_t *active = px_malloc((n_rows ? n_rows : 1) * sizeof *active);
    int rc = PX_ENOMEM;
    if (work == NULL || batch == NULL || prob == NULL || active == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for %zu tipping searches", n_rows);
        goto done;
    }
    for (size_t i = 0; i < n_rows; i++) {
        size_t f = feature[i];
        if (f >= nf || !(step[f] > 0) || isnan(max[f])) {
            rc = px_fail(err, PX_EINVAL, "row %zu: feature %zu cannot be stepped", rows[i], f);
            goto done;
        }
        memcpy(work + i * nf, x + rows[i] * nf, nf * sizeof *work);
        if (isnan(work[i * nf + f])) {
            work[i * nf + f] = (float)min[f];
        }
        out[i] = (struct ml_tip){.from = work[i * nf + f], .to = work[i * nf + f]};
    }
    if ((rc = ml_classifier_predict(c, work, n_rows, prob, err)) != PX_OK) {
        goto done;
    }
    size_t n_act = 0;
    for (size_t i = 0; i < n_rows; i++) {
        out[i].p_before = out[i].p_after = prob[i];
        out[i].tipped = prob[i] >= threshold;
        if (!out[i].tipped && out[i].to < max[feature[i]]) {
            active[n_act++] = i;
        }
    }
    for (int it = 0; n_act > 0 && it < MAX_TIP_STEPS; it++) {
        for (size_t a = 0; a < n_act; a++) {
            size_t i = active[a], f = feature[i];
            double v = out[i].from + (double)(out[i].steps + 1) * step[f]; // no drift from adding
            v = v > max[f] ? max[f] : v;
            out[i].steps++;
            out[i].to = v;
            work[i * nf + f] = (float)v;
            memcpy(batch + a * nf, work + i * nf, nf * sizeof *batch);
        }
        if ((rc = ml_classifier_predict(c, batch, n_act, prob, err)) != PX_OK) {
            goto done;
        }
        size_t keep = 0;
        for (size_t a = 0; a < n_act; a++) {
            size_t i = active[a];
            out[i].p_after = prob[a];
            out[i].tipped = prob[a] >= threshold;
            if (!out[i].tipped && out[i].to < max[feature[i]]) {
                active[keep++] = i;
            }
        }
        n_act = keep;
    }
    rc = PX_OK;
done:
    px_free(work);
    px_free(batch);
    px_free(prob);
    px_free(active);
    return rc;
}
