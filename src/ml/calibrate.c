// calibrate.c — isotonic calibration, Brier score, reliability bins (contract in calibrate.h).
//
// PAV: rows sorted by score; rows with the same score form one starting block (a map cannot
// give two values to one score); blocks are merged while a block's rate is below its left
// neighbour's. Each surviving block becomes a knot at its weighted mean score.
#include "calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct scored {
    float p, y;
};

static int cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    return (x->p > y->p) - (x->p < y->p);
}

void ml_calibration_free(struct ml_calibration *c)
{
    if (c == NULL) {
        return;
    }
    px_free(c->x);
    px_free(c->y);
    memset(c, 0, sizeof *c);
}

int ml_isotonic_fit(const float *p, const float *y, size_t n, struct ml_calibration *out,
                    struct px_err *err)
{
    memset(out, 0, sizeof *out);
    struct scored *s = px_malloc((n ? n : 1) * sizeof *s);
    // blocks: sum of scores, sum of labels, weight
    double *bx = px_malloc((n ? n : 1) * sizeof *bx);
    double *by = px_malloc((n ? n : 1) * sizeof *by);
    double *bw = px_malloc((n ? n : 1) * sizeof *bw);
    if (s == NULL || bx == NULL || by == NULL || bw == NULL) {
        px_free(s);
        px_free(bx);
        px_free(by);
        px_free(bw);
        return px_fail(err, PX_ENOMEM, "out of memory calibrating %zu scores", n);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(y[i]) && !isnan(p[i])) {
            s[m++] = (struct scored){p[i], y[i]};
        }
    }
    int rc = PX_OK;
    if (m == 0) {
        rc = px_fail(err, PX_EINVAL, "no labelled scores to calibrate on");
        goto done;
    }
    qsort(s, m, sizeof *s, cmp_scored);
    size_t nb = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        double sy = 0;
        while (j < m && s[j].p == s[i].p) {
            sy += s[j].y;
            j++;
        }
        bx[nb] = (double)s[i].p * (double)(j - i);
        by[nb] = sy;
        bw[nb] = (double)(j - i);
        nb++;
        // merge while the new block's rate is below its left neighbour's
        while (nb > 1 && by[nb - 1] * bw[nb - 2] <= by[nb - 2] * bw[nb - 1]) {
            bx[nb - 2] += bx[nb - 1];
            by[nb - 2] += by[nb - 1];
            bw[nb - 2] += bw[nb - 1];
            nb--;
        }
        i = j;
    }
    out->x = px_malloc(nb * sizeof *out->x);
    out->y = px_malloc(nb * sizeof *out->y);
    if (out->x == NULL || out->y == NULL) {
        ml_calibration_free(out);
        rc = px_fail(err, PX_ENOMEM, "out of memory calibrating %zu scores", n);
        goto done;
    }
    for (size_t b = 0; b < nb; b++) {
        out->x[b] = bx[b] / bw[b];
        out->y[b] = by[b] / bw[b];
    }
    out->n = nb;
done:
    px_free(s);
    px_free(bx);
    px_free(by);
    px_free(bw);
    return rc;
}

int ml_calibration_set(const double *x, const double *y, size_t n, struct ml_calibration *out,
                       struct px_err *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !(y[i] >= 0 && y[i] <= 1) || (i > 0 && !(x[i] > x[i - 1])) ||
            (i > 0 && y[i] < y[i - 1])) {
            return px_fail(err, PX_EFORMAT,
                           "calibration knot %zu (%g, %g) is not increasing or not a probability",
                           i, x[i], y[i]);
        }
    }
    if (n == 0) {
        return PX_OK;
    }
    out->x = px_malloc(n * sizeof *out->x);
    out->y = px_malloc(n * sizeof *out->y);
    if (out->x == NULL || out->y == NULL) {
        ml_calibration_free(out);
        return px_fail(err, PX_ENOMEM, "out of memory reading %zu calibration knots", n);
    }
    memcpy(out->x, x, n * sizeof *x);
    memcpy(out->y, y, n * sizeof *y);
    out->n = n;
    return PX_OK;
}

static double isotonic(const struct ml_calibration *c, double p)
{
    if (p <= c->x[0]) {
        return c->y[0];
    }
    if (p >= c->x[c->n - 1]) {
        return c->y[c->n - 1];
    }
    size_t lo = 0, hi = c->n - 1; // x[lo] < p < x[hi]
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->x[mid] <= p) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    double t = (p - c->x[lo]) / (c->x[hi] - c->x[lo]);
    return c->y[lo] + t * (c->y[hi] - c->y[lo]);
}

double ml_calibration_map(const struct ml_calibration *c, double p)
{
    if (c == NULL || c->n == 0 || isnan(p)) {
        return p;
    }
    double raw = p < 0 ? 0 : p > 1 ? 1 : p;
    return (1 - ML_CALIBRATION_TIE) * isotonic(c, p) + ML_CALIBRATION_TIE * raw;
}

void ml_calibration_apply(const struct ml_calibration *c, float *p, size_t n)
{
    if (c == NULL || c->n == 0) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = (float)ml_calibration_map(c, p[i]);
    }
}

double ml_brier(const float *p, const float *y, size_t n)
{
    double s = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(y[i])) {
            double d = (double)p[i] - (double)y[i];
            s += d * d;
            m++;
        }
    }
    return m ? s / (double)m : NAN;
}

void ml_reliability(const float *p, const float *y, size_t n, size_t n_bins,
                    struct ml_reliability_bin *bins)
{
    for (size_t b = 0; b < n_bins; b++) {
        bins[b] = (struct ml_reliability_bin){.lo = (double)b / (double)n_bins,
                                              .hi = (double)(b + 1) / (double)n_bins};
    }
    double *sp = px_calloc(n_bins ? n_bins : 1, sizeof *sp);
    double *sy = px_calloc(n_bins ? n_bins : 1, sizeof *sy);
    if (sp == NULL || sy == NULL) { // the table stays empty rather than wrong
        px_free(sp);
        px_free(sy);
        for (size_t b = 0; b < n_bins; b++) {
            bins[b].mean_predicted = bins[b].observed = NAN;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i]) || isnan(p[i])) {
            continue;
        }
        double v = p[i] < 0 ? 0 : p[i] > 1 ? 1 : p[i];
        size_t b = (size_t)(v * (double)n_bins);
        if (b >= n_bins) {
            b = n_bins - 1;
        }
        sp[b] += v;
        sy[b] += y[i];
        bins[b].n++;
    }
    for (size_t b = 0; b < n_bins; b++) {
        bins[b].mean_predicted = bins[b].n ? sp[b] / (double)bins[b].n : NAN;
        bins[b].observed = bins[b].n ? sy[b] / (double)bins[b].n : NAN;
    }
    px_free(sp);
    px_free(sy);
}
