// metrics.h — binary-classifier metrics over scores and 0/1 labels: AUC-ROC, AUC-PR (average
// precision), the confusion matrix and precision / recall / F1 at a threshold, and the threshold
// that meets a recall target or a precision floor. A row is predicted positive when its score is
// >= the threshold. Rows whose label is NaN are skipped. Pure functions; thread-safe.
#ifndef PX_ML_METRICS_H
#define PX_ML_METRICS_H

#include <stddef.h>

#include "err.h"

struct ml_confusion {
    size_t tp, fp, tn, fn;
};

struct ml_metrics {
    double auc_roc;   // NaN with a single class
    double auc_pr;    // average precision (step-wise, no interpolation); NaN without positives
    double threshold; // the threshold the rest is measured at
    double precision; // tp / (tp + fp), 0 when nothing is predicted positive
    double recall;    // tp / (tp + fn)
    double f1;        // harmonic mean of precision and recall, 0 when both are 0
    struct ml_confusion cm;
    size_t n;     // rows with a label
    size_t n_pos; // positives among them
};

// AUC-ROC with ties counted half (Mann-Whitney). p: (n) scores, y: (n) labels.
int ml_auc_roc(const float *p, const float *y, size_t n, double *out, struct px_err *err);
// Average precision: sum over positives' distinct score levels of (recall step) x precision.
int ml_auc_pr(const float *p, const float *y, size_t n, double *out, struct px_err *err);
void ml_confusion_at(const float *p, const float *y, size_t n, double threshold,
                     struct ml_confusion *cm);
// Everything above at threshold.
int ml_metrics_at(const float *p, const float *y, size_t n, double threshold, struct ml_metrics *m,
                  struct px_err *err);
// The highest threshold whose recall is >= target (0 < target <= 1): the most precise cut that
// still finds that share of the positives. With z > 0 the recall compared is the Wilson lower
// confidence bound (z = 1.645: one-sided 95 %), so the target also holds, with that confidence,
// on new rows like these rather than only on these; when even the lowest cut cannot show that
// (too few positives), the plain recall decides. PX_EINVAL without positives.
int ml_threshold_for_recall(const float *p, const float *y, size_t n, double target, double z,
                            double *threshold, struct px_err *err);
// Wilson score lower bound of a proportion k / n at z (k / n when z == 0; 0 when n == 0).
double ml_wilson_lower(size_t k, size_t n, double z);
// The lowest threshold whose precision is >= floor (most recall at that precision); when no
// threshold reaches it, the one with the best precision. PX_EINVAL without positives.
int ml_threshold_for_precision(const float *p, const float *y, size_t n, double floor,
                               double *threshold, struct px_err *err);

#endif
