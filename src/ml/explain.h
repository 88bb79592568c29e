// explain.h — SHAP explanations of a classifier's scores: exact TreeSHAP values from XGBoost
// (classifier.h, ml_classifier_contribs), checked to add up to the margin, per-row top features
// with signed contributions, and the global mean |SHAP| per feature.
#ifndef PX_ML_EXPLAIN_H
#define PX_ML_EXPLAIN_H

#include <stddef.h>

#include "classifier.h"
#include "err.h"

struct ml_explanation {
    size_t n_rows, n_features;
    float *contrib;      // owned: (n_rows, n_features + 1) SHAP values, last column the bias
    float *margin;       // owned: (n_rows) the model's log-odds
    float *prob;         // owned: (n_rows) probability
    double *mean_abs;    // owned: (n_features) mean |SHAP| over the rows
    double max_sum_diff; // max over rows of |sum of the row's SHAP values - margin|
};

// Explains x (n, nf) with c. Fails with PX_EINTERNAL when a row's SHAP values do not add up to
// its margin within 1e-4 (the row is named). Returns owned *out (ml_explanation_free).
typedef void (*ml_explain_progress_fn)(size_t done, size_t total, void *user);
// ml_explain reporting rows done (from the calling thread) as the SHAP values are computed in
// batches; progress may be NULL.
int ml_explain_progress(struct ml_classifier *c, const float *x, size_t n,
                        ml_explain_progress_fn progress, void *user, struct ml_explanation *out,
                        struct px_err *err);
int ml_explain(struct ml_classifier *c, const float *x, size_t n, struct ml_explanation *out,
               struct px_err *err);
void ml_explanation_free(struct ml_explanation *e);
// The k features of row r with the largest |SHAP| into idx (k <= n_features), largest first;
// returns how many were written. skip (n_features, may be NULL): features to leave out.
size_t ml_explain_top(const struct ml_explanation *e, size_t r, size_t k, const unsigned char *skip,
                      size_t *idx);

#endif
