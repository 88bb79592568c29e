// metrics.c — classifier metrics (contract in metrics.h).
//
// Everything sorts the labelled rows by score once, highest first, and walks groups of equal
// score: any threshold between two neighbouring levels gives the same confusion matrix, so the
// candidate thresholds are exactly the distinct scores, and ties are handled as groups.
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "mem.h"

struct scored {
    float p;
    float y;
};

static int cmp_desc(const void *a, const void *b)
{
    float x = ((const struct scored *)a)->p, y = ((const struct scored *)b)->p;
    return x > y ? -1 : x < y;
}

// Sorted copy of the labelled rows. Returns owned *out (px_free), count *m, positives *n_pos.
static int sorted(const float *p, const float *y, size_t n, struct scored **out, size_t *m,
                  size_t *n_pos, struct px_err *err)
{
    struct scored *s = px_malloc((n ? n : 1) * sizeof *s);
    if (s == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory computing metrics (%zu rows)", n);
    }
    size_t k = 0, np = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(y[i])) {
            s[k].p = isnan(p[i]) ? -INFINITY : p[i];
            s[k].y = y[i];
            np += y[i] == 1.0f;
            k++;
        }
    }
    qsort(s, k, sizeof *s, cmp_desc);
    *out = s;
    *m = k;
    *n_pos = np;
    return PX_OK;
}

// One group of equal scores starting at i: its end, positives and negatives.
static size_t group(const struct scored *s, size_t m, size_t i, size_t *gp, size_t *gn)
{
    size_t j = i;
    *gp = *gn = 0;
    while (j < m && s[j].p == s[i].p) {
        if (s[j].y == 1.0f) {
            (*gp)++;
        } else {
            (*gn)++;
        }
        j++;
    }
    return j;
}

int ml_auc_roc(const float *p, const float *y, size_t n, double *out, struct px_err *err)
{
    struct scored *s = NULL;
    size_t m = 0, np = 0;
    int rc = sorted(p, y, n, &s, &m, &np, err);
    if (rc != PX_OK) {
        return rc;
    }
    size_t nn = m - np;
    double sum = 0, above = 0;
    for (size_t i = 0; i < m;) {
        size_t gp, gn;
        i = group(s, m, i, &gp, &gn);
        sum += (double)gn * (above + 0.5 * (double)gp);
        above += (double)gp;
    }
    // sum counts (negative, positive) pairs ranked correctly
    *out = np == 0 || nn == 0 ? NAN : sum / ((double)np * (double)nn);
    px_free(s);
    return PX_OK;
}

int ml_auc_pr(const float *p, const float *y, size_t n, double *out, struct px_err *err)
{
    struct scored *s = NULL;
    size_t m = 0, np = 0;
    int rc = sorted(p, y, n, &s, &m, &np, err);
    if (rc != PX_OK) {
        return rc;
    }
    double ap = 0;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < m;) {
        size_t gp, gn;
        i = group(s, m, i, &gp, &gn);
        tp += gp;
        fp += gn;
        if (gp > 0) {
            ap += (double)gp / (double)np * (double)tp / (double)(tp + fp);
        }
    }
    *out = np == 0 ? NAN : ap;
    px_free(s);
    return PX_OK;
}

void ml_confusion_at(const float *p, const float *y, size_t n, double threshold,
                     struct ml_confusion *cm)
{
    cm->tp = cm->fp = cm->tn = cm->fn = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(y[i])) {
            continue;
        }
        int pred = !isnan(p[i]) && p[i] >= threshold;
        if (y[i] == 1.0f) {
            cm->tp += pred;
            cm->fn += !pred;
        } else {
            cm->fp += pred;
            cm->tn += !pred;
        }
    }
}

int ml_metrics_at(const float *p, const float *y, size_t n, double threshold, struct ml_metrics *m,
                  struct px_err *err)
{
    int rc = ml_auc_roc(p, y, n, &m->auc_roc, err);
    if (rc == PX_OK) {
        rc = ml_auc_pr(p, y, n, &m->auc_pr, err);
    }
    if (rc != PX_OK) {
        return rc;
    }
    ml_confusion_at(p, y, n, threshold, &m->cm);
    const struct ml_confusion *c = &m->cm;
    m->threshold = threshold;
    m->n = c->tp + c->fp + c->tn + c->fn;
    m->n_pos = c->tp + c->fn;
    m->precision = c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0;
    m->recall = c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0;
    m->f1 = m->precision + m->recall > 0 ? 2 * m->precision * m->recall / (m->precision + m->recall)
                                         : 0;
    return PX_OK;
}

// sorted(), and PX_EINVAL when there is no positive row to set a `what` threshold on.
static int sorted_with_positives(const float *p, const float *y, size_t n, const char *what,
                                 struct scored **s, size_t *m, size_t *np, struct px_err *err)
{
    int rc = sorted(p, y, n, s, m, np, err);
    if (rc == PX_OK && *np == 0) {
        px_free(*s);
        *s = NULL;
        rc = px_fail(err, PX_EINVAL, "no positive rows to set a %s threshold on", what);
    }
    return rc;
}

double ml_wilson_lower(size_t k, size_t n, double z)
{
    if (n == 0) {
        return 0;
    }
    double nn = (double)n, ph = (double)k / nn, z2 = z * z;
    double centre = ph + z2 / (2 * nn);
    double spread = z * sqrt(ph * (1 - ph) / nn + z2 / (4 * nn * nn));
    return (centre - spread) / (1 + z2 / nn);
}

int ml_threshold_for_recall(const float *p, const float *y, size_t n, double target, double z,
                            double *threshold, struct px_err *err)
{
    if (!(target > 0 && target <= 1)) {
        return px_fail(err, PX_EINVAL, "recall target %g is not in (0, 1]", target);
    }
    struct scored *s = NULL;
    size_t m = 0, np = 0;
    int rc = sorted_with_positives(p, y, n, "recall", &s, &m, &np, err);
    if (rc != PX_OK) {
        return rc;
    }
    // with too few positives the confidence bound never reaches the target: then the plain
    // recall (z = 0) decides, rather than a cut below every row
    for (int pass = 0; pass < 2; pass++) {
        double zz = pass == 0 ? z : 0;
        size_t tp = 0;
        bool met = false;
        *threshold = s[m - 1].p;
        for (size_t i = 0; i < m && !met;) {
            size_t gp, gn, at = i;
            i = group(s, m, i, &gp, &gn);
            tp += gp;
            double rec = zz > 0 ? ml_wilson_lower(tp, np, zz) : (double)tp / (double)np;
            if (rec >= target - 1e-12) {
                *threshold = s[at].p;
                met = true;
            }
        }
        if (met || !(z > 0)) {
            break;
        }
    }
    px_free(s);
    return PX_OK;
}

int ml_threshold_for_precision(const float *p, const float *y, size_t n, double floor,
                               double *threshold, struct px_err *err)
{
    if (!(floor > 0 && floor <= 1)) {
        return px_fail(err, PX_EINVAL, "precision floor %g is not in (0, 1]", floor);
    }
    struct scored *s = NULL;
    size_t m = 0, np = 0;
    int rc = sorted_with_positives(p, y, n, "precision", &s, &m, &np, err);
    if (rc != PX_OK) {
        return rc;
    }
    size_t tp = 0, fp = 0;
    double best_prec = -1, best_thr = s[0].p, ok_thr = NAN;
    for (size_t i = 0; i < m;) {
        size_t gp, gn, at = i;
        i = group(s, m, i, &gp, &gn);
        tp += gp;
        fp += gn;
        double prec = (double)tp / (double)(tp + fp);
        if (prec >= floor) {
            ok_thr = s[at].p; // keeps going down: the lowest that still holds
        }
        if (prec > best_prec) {
            best_prec = prec;
            best_thr = s[at].p;
        }
    }
    *threshold = isnan(ok_thr) ? best_thr : ok_thr;
    px_free(s);
    return PX_OK;
}
