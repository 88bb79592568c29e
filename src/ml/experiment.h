// experiment.h — one training run: held-out test split, stratified K-fold cross-validation,
// the decision threshold, the final model and its metrics.
//
//   rows ──stratified split (seeded)──▶ test (test_fraction)   dev (the rest)
//   dev  ──stratified K folds──▶ for each cell of the grid (below) and each fold: train on the
//          other folds, boosting until cv_metric (AUC, or AUC-PR) on the held-out fold has not
//          improved for early_stopping rounds; the fold's scores at its best round are that
//          cell's out-of-fold scores
//   winner = the cell with the best pooled out-of-fold cv_metric (ties: the earlier cell)
//   calibration: isotonic map fitted on the winner's out-of-fold scores (calibrate.h), kept
//               only when, cross-fitted over the same folds (each fold mapped by the map of the
//               others), it lowers the Brier score; else none (the trees' own probabilities).
//               Brier before / after (after: the cross-fitted figure, or = before with none), a
//               reliability table of the final out-of-fold scores
//   threshold = on the calibrated out-of-fold scores: the highest whose recall >= target_recall
//               with 95 % confidence (Wilson lower bound; see recall_z) (or, with
//               min_precision > 0, the lowest whose precision >= min_precision; or, with
//               top_k > 0, a budget: the score of the top_k-th most likely, see top_k)
//   final model: all of dev, the winner's parameters, rounds = the mean of its folds' best
//               rounds; carries the calibration ──▶ test metrics at that threshold
//   held-out scores: every labelled row scored by a model that never saw its label (dev rows:
//               their calibrated out-of-fold score; test rows: the final model's)
//
// The grid (ml_grid_default, documented in ARCHITECTURE.md "Propensity models"): eta {0.1, 0.3}
// x max_depth {3, 6} x min_child_weight {1, 5} x scale_pos_weight {1, n_neg / n_pos}: class
// weighting is a choice the cross-validation makes. Cells x folds run on a pool of
// min(n_threads, tasks) threads, XGBoost single-threaded in each (n_threads / workers).
//
// The test rows never influence the grid, the threshold, the calibration or early stopping. The
// same data, parameters and seed give the same splits, models and numbers (each task is seeded
// alike whatever thread runs it; results are stored by task, not by finishing order).
#ifndef PX_ML_EXPERIMENT_H
#define PX_ML_EXPERIMENT_H

#include <stddef.h>

#include "classifier.h"
#include "dataset.h"
#include "err.h"
#include "metrics.h"

#define ML_GRID_MAX 4
#define ML_RELIABILITY_BINS 10

// The hyperparameter grid: every combination is one cell. A scale_pos_weight < 0 means
// n_neg / n_pos of the training rows ("balanced").
struct ml_grid {
    double eta[ML_GRID_MAX];
    size_t n_eta;
    int max_depth[ML_GRID_MAX];
    size_t n_depth;
    double min_child_weight[ML_GRID_MAX];
    size_t n_mcw;
    double scale_pos_weight[ML_GRID_MAX];
    size_t n_spw;
};

struct ml_grid ml_grid_default(void);
// A grid of the one cell p's values (no search: for tests and fixed-parameter runs).
struct ml_grid ml_grid_single(const struct ml_xgb_params *p);

struct ml_experiment_params {
    struct ml_xgb_params xgb; // ml_xgb_default_params(); xgb.seed also seeds the splits; eta,
                              // max_depth, min_child_weight, scale_pos_weight come from the grid
    struct ml_grid grid;      // default ml_grid_default()
    enum ml_eval_metric cv_metric; // ML_EVAL_AUC (default) or ML_EVAL_AUCPR
    int n_folds;              // default 5 (2..20)
    double test_fraction;     // default 0.2
    double target_recall;     // default 0.95
    double min_precision;     // > 0: pick the threshold for this precision instead; default 0
    size_t top_k;             // > 0: a budget instead: the threshold that puts this many of the
                              // labelled rows at or above it (their share of the dev rows' out-
                              // of-fold scores: the round(top_k * n_dev / n)-th highest); default 0
    double recall_z;          // confidence of the recall target: the threshold is set where the
                              // Wilson lower bound (this z) of the out-of-fold recall reaches
                              // target_recall; default 1.645 (one-sided 95 %), 0: plain recall
};

struct ml_experiment_params ml_experiment_default_params(void);

struct ml_grid_cell {
    double eta;
    int max_depth;
    double min_child_weight;
    double scale_pos_weight; // as in the grid: < 0 balanced
    double score;            // pooled out-of-fold cv_metric at each fold's best round
    double rounds;           // mean best round over the folds
};

struct ml_experiment {
    struct ml_grid_cell *cells; // owned: (n_cells) in grid order
    size_t n_cells;
    size_t best_cell;
    struct ml_xgb_params chosen; // the final model's parameters (the winner, its rounds)
    struct ml_calibration cal;   // owned: fitted on the winner's out-of-fold scores; n == 0:
                                 // none (it did not lower the cross-fitted Brier score)
    double brier_before, brier_after;           // out-of-fold, raw / cross-fitted calibrated
    double test_brier_before, test_brier_after; // the test split, raw / calibrated
    struct ml_reliability_bin reliability[ML_RELIABILITY_BINS]; // calibrated out-of-fold
    float *heldout;      // owned: (ds rows) each labelled row's score from a model that did not
                         // see its label (calibrated); NaN for unlabelled rows
    double *single_auc;  // owned: (n_features) AUC of each feature alone on dev (max(a, 1 - a);
                         // missing values ranked lowest)
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

// The roles ml_experiment_run gives ds's rows under p (n_rows): the fold (0..k-1) of a dev row,
// (size_t)-1 for a test row, (size_t)-2 for an unlabelled one. For benchmarks that replay a run.
int ml_experiment_parts(const struct ml_dataset *ds, const struct ml_experiment_params *p,
                        size_t *role, struct px_err *err);

// Splits rows stratified by y: a seeded shuffle within each class, then row i of a class goes to
// part (i mod k). part: (n) part of each row in [0, k). Rows with a NaN label get part -1.
void ml_stratified_parts(const float *y, size_t n, size_t k, uint64_t seed, int *part);

#endif
