// classifier.h — gradient-boosted trees for a binary target through libxgboost's C API.
//
// Training: binary:logistic, tree_method hist, one tree per round up to n_rounds, early stopping
// on a validation set's logloss, AUC or AUC-PR (eval_metric; the model kept is sliced to the best
// round), positives weighted by scale_pos_weight (negative: n_neg / n_pos of the training rows).
// A classifier may carry a calibration map (calibrate.h): ml_classifier_predict then returns
// calibrated probabilities; margins and SHAP values stay the trees' own. Deterministic for a seed
// and a thread count. Prediction: probabilities, margins (log-odds) and exact TreeSHAP
// contributions (XGBoosterPredictFromDMatrix type 2: per row n_features values + the bias,
// summing to the margin). Models are saved and loaded in XGBoost's JSON format.
//
// Matrices are row-major floats with NaN as missing. XGBoost allocates internally; its errors
// (XGBGetLastError, thread-local) are copied into px_err at once. A classifier is used by one
// thread at a time.
#ifndef PX_ML_CLASSIFIER_H
#define PX_ML_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "calibrate.h"
#include "err.h"

enum ml_eval_metric {
    ML_EVAL_LOGLOSS, // lower is better
    ML_EVAL_AUC,     // higher is better
    ML_EVAL_AUCPR,   // higher is better
};

struct ml_xgb_params {
    int max_depth;           // default 6 (XGBoost's)
    double eta;              // learning rate, default 0.3 (XGBoost's)
    int n_rounds;            // most boosting rounds, default 300
    int early_stopping;      // rounds without a better validation score, default 20
    enum ml_eval_metric eval_metric; // the early-stopping score, default ML_EVAL_LOGLOSS
    double subsample;        // rows sampled per tree, default 0.9
    double colsample_bytree; // features sampled per tree, default 0.9
    double min_child_weight; // default 1
    double lambda;           // L2 on leaf weights, default 1
    double scale_pos_weight; // < 0 (default): n_neg / n_pos of the training rows; 1: none
    int n_threads;           // XGBoost's nthread, default 2
    uint64_t seed;           // default 42
};

struct ml_xgb_params ml_xgb_default_params(void);

struct ml_classifier;

struct ml_train_info {
    int n_rounds;        // rounds run
    int best_round;      // rounds kept (best validation score), == n_rounds without early stop
    double best_score;   // validation eval_metric at best_round, NaN without a validation set
    double scale_pos_weight; // the weight used
};

// Trains on x (n, nf) with labels y (n) 0/1; xv/yv (nv rows) is the early-stopping set (NULL,
// 0: none, all n_rounds run). Returns owned *out (ml_classifier_free); info may be NULL.
int ml_classifier_train(const float *x, const float *y, size_t n, size_t nf, const float *xv,
                        const float *yv, size_t nv, const struct ml_xgb_params *params,
                        struct ml_classifier **out, struct ml_train_info *info, struct px_err *err);
void ml_classifier_free(struct ml_classifier *c);
size_t ml_classifier_n_features(const struct ml_classifier *c);

// Sets (copies) the calibration map applied by ml_classifier_predict; n == 0 removes it.
int ml_classifier_set_calibration(struct ml_classifier *c, const struct ml_calibration *cal,
                                  struct px_err *err);
// prob: (n) probabilities of the positive class (calibrated when a map is set).
int ml_classifier_predict(struct ml_classifier *c, const float *x, size_t n, float *prob,
                          struct px_err *err);
// prob: (n) the trees' own probabilities, before any calibration.
int ml_classifier_predict_raw(struct ml_classifier *c, const float *x, size_t n, float *prob,
                              struct px_err *err);
// margin: (n) log-odds (the sum of the trees plus the base score).
int ml_classifier_margin(struct ml_classifier *c, const float *x, size_t n, float *margin,
                         struct px_err *err);
// contrib: (n, nf + 1) SHAP values, the last column the bias; each row sums to the margin.
int ml_classifier_contribs(struct ml_classifier *c, const float *x, size_t n, float *contrib,
                           struct px_err *err);
// gain: (nf) average gain of the splits on each feature (0 for a feature never split on).
int ml_classifier_importance(struct ml_classifier *c, double *gain, struct px_err *err);

// The model as XGBoost JSON. Returns owned *json (px_free), *len bytes (NUL-terminated).
int ml_classifier_save_json(struct ml_classifier *c, char **json, size_t *len, struct px_err *err);
// Loads an XGBoost JSON model (data borrowed) expecting nf features; n_threads for prediction.
// Returns owned *out.
int ml_classifier_load_json(const char *json, size_t len, size_t nf, int n_threads,
                            struct ml_classifier **out, struct px_err *err);

#endif
