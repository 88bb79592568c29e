// explain.c — SHAP summaries (contract in explain.h).
//
// XGBoost computes exact TreeSHAP (Lundberg et al. 2018, "Consistent individualized feature
// attribution for tree ensembles") with pred_contribs; we add the checks and the summaries. The
// additivity check is done in double precision: XGBoost sums in float, and 1e-4 leaves room for
// that rounding over a few hundred trees.
#include "explain.h"

#include <math.h>
#include <string.h>

#include "mem.h"

#define EXPLAIN_BATCH 2048 // rows per SHAP call (a progress step)

#define SUM_TOLERANCE 1e-4

void ml_explanation_free(struct ml_explanation *e)
{
    if (e == NULL) {
        return;
    }
    px_free(e->contrib);
    px_free(e->margin);
    px_free(e->prob);
    px_free(e->mean_abs);
    memset(e, 0, sizeof *e);
}

int ml_explain(struct ml_classifier *c, const float *x, size_t n, struct ml_explanation *out,
               struct px_err *err)
{
    return ml_explain_progress(c, x, n, NULL, NULL, out, err);
}

int ml_explain_progress(struct ml_classifier *c, const float *x, size_t n,
                        ml_explain_progress_fn progress, void *user, struct ml_explanation *out,
                        struct px_err *err)
{
    size_t nf = ml_classifier_n_features(c);
    memset(out, 0, sizeof *out);
    out->n_rows = n;
    out->n_features = nf;
    out->contrib = px_malloc((n ? n : 1) * (nf + 1) * sizeof *out->contrib);
    out->margin = px_malloc((n ? n : 1) * sizeof *out->margin);
    out->prob = px_malloc((n ? n : 1) * sizeof *out->prob);
    out->mean_abs = px_calloc(nf, sizeof *out->mean_abs);
    int rc = PX_ENOMEM;
    if (!out->contrib || !out->margin || !out->prob || !out->mean_abs) {
        rc = px_fail(err, PX_ENOMEM, "out of memory explaining %zu rows", n);
        goto done;
    }
    // SHAP is the slow part (exact TreeSHAP): in batches, so progress can be reported
    for (size_t at = 0; at < n; at += EXPLAIN_BATCH) {
        size_t m = n - at < EXPLAIN_BATCH ? n - at : EXPLAIN_BATCH;
        rc = ml_classifier_contribs(c, x + at * nf, m, out->contrib + at * (nf + 1), err);
        if (rc != PX_OK) {
            goto done;
        }
        if (progress != NULL) {
            progress(at + m, n, user);
        }
    }
    if ((rc = ml_classifier_margin(c, x, n, out->margin, err)) != PX_OK ||
        (rc = ml_classifier_predict(c, x, n, out->prob, err)) != PX_OK) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const float *row = out->contrib + i * (nf + 1);
        double s = 0;
        for (size_t k = 0; k <= nf; k++) {
            s += row[k];
            if (k < nf) {
                out->mean_abs[k] += fabs(row[k]);
            }
        }
        double d = fabs(s - out->margin[i]);
        out->max_sum_diff = d > out->max_sum_diff ? d : out->max_sum_diff;
        if (!(d <= SUM_TOLERANCE)) {
            rc = px_fail(err, PX_EINTERNAL,
                         "row %zu: SHAP values sum to %.6f, the margin is %.6f (|diff| %.3g > %g)",
                         i, s, (double)out->margin[i], d, SUM_TOLERANCE);
            goto done;
        }
    }
    for (size_t k = 0; k < nf; k++) {
        out->mean_abs[k] /= n ? (double)n : 1.0;
    }
    rc = PX_OK;
done:
    if (rc != PX_OK) {
        ml_explanation_free(out);
    }
    return rc;
}

size_t ml_explain_top(const struct ml_explanation *e, size_t r, size_t k, const unsigned char *skip,
                      size_t *idx)
{
    const float *row = e->contrib + r * (e->n_features + 1);
    size_t m = 0;
    // selection of the k largest |value| (k is small: a handful of features per row)
    for (size_t j = 0; j < e->n_features; j++) {
        if (skip != NULL && skip[j]) {
            continue;
        }
        float a = fabsf(row[j]);
        size_t pos = m < k ? m : k;
        while (pos > 0 && fabsf(row[idx[pos - 1]]) < a) {
            if (pos < k) {
                idx[pos] = idx[pos - 1];
            }
            pos--;
        }
        if (pos < k) {
            idx[pos] = j;
            if (m < k) {
                m++;
            }
        }
    }
    return m;
}
