// calibrate.h — probability calibration of a classifier's scores: isotonic regression fitted on
// out-of-fold scores (pool-adjacent-violators), the Brier score and a reliability table.
//
// The isotonic map is kept as knots (x: mean raw score of each PAV block, y: its observed
// positive rate), increasing in x and non-decreasing in y; a score between two knots is read by
// linear interpolation, one below the first / above the last gets that knot's y. Interpolating
// (rather than PAV's flat steps) keeps the order of distinct scores between knots; below the
// first and above the last knot the map would be flat, so ML_CALIBRATION_TIE of the raw score is
// mixed in: calibrated = (1 - t) * isotonic(p) + t * p is strictly increasing, the order of the
// scores (AUC, the threshold's cut, the potential list) is exactly the trees' own, and no row
// gets a probability of exactly 0 or 1 that ties it with every other such row (with ties, a
// threshold at the lowest score would make every row positive). Pure functions; thread-safe.
#ifndef PX_ML_CALIBRATE_H
#define PX_ML_CALIBRATE_H

#include <stddef.h>

#include "err.h"

#define ML_CALIBRATION_TIE 1e-3

struct ml_calibration {
    size_t n;  // knots; 0: the identity (no calibration)
    double *x; // owned: (n) raw scores, increasing
    double *y; // owned: (n) calibrated probabilities, non-decreasing, in [0, 1]
};

// Fits the isotonic map of labels y (0/1; NaN skipped) on scores p (n). Returns owned *out
// (ml_calibration_free). PX_EINVAL without a labelled row.
int ml_isotonic_fit(const float *p, const float *y, size_t n, struct ml_calibration *out,
                    struct px_err *err);
// Copies knots (n, increasing x, y in [0, 1]; checked: PX_EFORMAT names the knot) into *out.
int ml_calibration_set(const double *x, const double *y, size_t n, struct ml_calibration *out,
                       struct px_err *err);
void ml_calibration_free(struct ml_calibration *c);
// The calibrated value of one raw score (the identity when c has no knots).
double ml_calibration_map(const struct ml_calibration *c, double p);
// Maps p (n) in place.
void ml_calibration_apply(const struct ml_calibration *c, float *p, size_t n);

// Mean squared error of probabilities p against labels y (NaN labels skipped; NaN when none).
double ml_brier(const float *p, const float *y, size_t n);

// One bin of a reliability table: predicted probabilities in [lo, hi) ([lo, hi] for the last).
struct ml_reliability_bin {
    double lo, hi;
    double mean_predicted; // NaN when the bin is empty
    double observed;       // positive rate, NaN when the bin is empty
    size_t n;
};
// n_bins equal-width bins over [0, 1] of p against y into bins (n_bins).
void ml_reliability(const float *p, const float *y, size_t n, size_t n_bins,
                    struct ml_reliability_bin *bins);

#endif
