// experiment.h — one training run: held-out test split, stratified K-fold cross-validation,
// the decision threshold, the final model and its metrics.
//
//   rows ──stratified split (seeded)──▶ test (test_fraction)   dev (the rest)
//   dev  ──stratified K folds──▶ for each fold: train on the other folds (less a stratified
//          early-stopping slice of valid_fraction), predict the fold  ──▶ out-of-fold scores
//   threshold = the highest score whose out-of-fold recall >= target_recall with 95 %
//               confidence (Wilson lower bound; see recall_z) (or, with
//               min_precision > 0, the lowest whose precision >= min_precision)
//   final model: dev (less its early-stopping slice) ──▶ test metrics at that threshold
//
// The test rows never influence the threshold or early stopping. The same data, parameters and
// seed give the same splits, models and numbers.
#ifndef PX_ML_EXPERIMENT_H
#define PX_ML_EXPERIMENT_H

#include <stddef.h>

#include "classifier.h"
#include "dataset.h"
#include "err.h"
#include "metrics.h"

struct ml_experiment_params {
    struct ml_xgb_params xgb; // ml_xgb_default_params(); xgb.seed also seeds the splits
    int n_folds;              // default 5 (2..20)
    double test_fraction;     // default 0.2
    double valid_fraction;    // early-stopping slice of each training part, default 0.15
    double target_recall;     // default 0.95
    double min_precision;     // > 0: pick the threshold for this precision instead; default 0
    double recall_z;          // confidence of the recall target: the threshold is set where the
                              // Wilson lower bound (this z) of the out-of-fold recall reaches
                              // target_recall; default 1.645 (one-sided 95 %), 0: plain recall
};

struct ml_experiment_params ml_experiment_default_params(void);

struct ml_experiment {
    size_t n_folds;
    struct ml_metrics *folds; // owned: (n_folds) each fold at the chosen threshold
    int *fold_rounds;         // owned: (n_folds) boosting rounds kept per fold
    struct ml_metrics cv;     // all out-of-fold scores pooled, at the threshold
    struct ml_metrics test;   // the final model on the test split
    double threshold;
    double *importance;          // owned: (n_features) gain of the final model
    struct ml_classifier *model; // owned: the final model
    struct ml_train_info final_info;
    size_t n_dev, n_test;
};

typedef void (*ml_progress_fn)(size_t done, size_t total, void *user);

// Runs the experiment on ds (borrowed; must carry labels). progress may be NULL. Returns owned
// *out (ml_experiment_free; empty after a failure).
int ml_experiment_run(const struct ml_dataset *ds, const struct ml_experiment_params *params,
                      ml_progress_fn progress, void *user, struct ml_experiment *out,
                      struct px_err *err);
void ml_experiment_free(struct ml_experiment *e);

// Splits rows stratified by y: a seeded shuffle within each class, then row i of a class goes to
// part (i mod k). part: (n) part of each row in [0, k). Rows with a NaN label get part -1.
void ml_stratified_parts(const float *y, size_t n, size_t k, uint64_t seed, int *part);

#endif
