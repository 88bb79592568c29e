// lookalike.h — look-alikes (negatives nearest to positives) and tipping points (how far one
// feature must rise before the model's probability reaches its threshold).
//
// Look-alikes: row vectors (standardised features here; the CLI says which vectors it used), for
// every positive its k nearest negatives by Euclidean distance, de-duplicated (a negative near
// several positives keeps its smallest distance), sorted by distance, ties by row.
//
// Tipping: for each row, its tipping feature is stepped from its current value (the training
// minimum when missing) towards the training maximum, step by step, the row re-scored after each
// step, until the probability reaches the threshold ("tipped") or the maximum is reached. All
// rows step together, one prediction per step, so the cost is (number of steps) predictions.
#ifndef PX_ML_LOOKALIKE_H
#define PX_ML_LOOKALIKE_H

#include <stdbool.h>
#include <stddef.h>

#include "classifier.h"
#include "err.h"

// z-scores of x (n, nf) per feature into out (n, nf); a missing value becomes 0 (the mean), a
// constant feature 0.
int ml_standardize(const float *x, size_t n, size_t nf, float *out, struct px_err *err);

struct ml_lookalike {
    size_t row;  // the negative
    size_t near; // the positive it is nearest to
    double dist; // Euclidean distance
};

// v: (n, dim) vectors; y: (n) labels (1 positive, 0 negative, NaN neither); allow: (n) rows that
// may be listed (NULL: every negative). Returns owned *out (px_free), *n_out entries.
int ml_lookalikes(const float *v, size_t n, size_t dim, const float *y, size_t k,
                  const unsigned char *allow, struct ml_lookalike **out, size_t *n_out,
                  struct px_err *err);

struct ml_tip {
    bool tipped;    // the probability reached the threshold
    double from;    // starting value (the training minimum when the value was missing)
    double to;      // the tipping value, or the value where stepping stopped (the maximum)
    float p_before; // probability at the starting value
    float p_after;  // probability at `to`
    int steps;      // steps taken
};

// For rows[i] (of x: (n, nf)), steps feature[i] by step[feature[i]] up to max[feature[i]]
// (starting from min[...] when missing) until the probability >= threshold. out: (n_rows).
int ml_tipping(struct ml_classifier *c, const float *x, size_t nf, const size_t *rows,
               const size_t *feature, size_t n_rows, const double *step, const double *min,
               const double *max, double threshold, struct ml_tip *out, struct px_err *err);

#endif
