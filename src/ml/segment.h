// segment.h — customer segments by k-means: k-means++ initialisation (Arthur & Vassilvitskii
// 2007), Lloyd iterations, several seeded restarts keeping the lowest inertia, and k chosen by
// the mean silhouette when a range is given.
//
// Deterministic: the same rows, parameters and seed give the same segments. Segment labels are
// put in a canonical order (largest first, ties by the first row), so they do not depend on
// which restart won or on the order centroids were drawn.
//
// Thread rules: none shared; functions read their inputs and write only their outputs.
#ifndef PX_ML_SEGMENT_H
#define PX_ML_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct kmeans_params {
    int k;           // clusters, 1..LIMIT_KMEANS_K (default 4)
    int restarts;    // independent k-means++ starts, best inertia kept (default 5)
    int max_iter;    // Lloyd iterations per start (default 100)
    uint64_t seed;   // (default 42)
    size_t sil_rows; // silhouette on at most this many rows, a seeded sample (default 2000)
};

struct kmeans_params kmeans_default_params(void);

struct kmeans_result {
    int k;
    size_t dim;
    float *centroids;  // owned: (k, dim)
    int32_t *assign;   // owned: (n) cluster of each row, 0..k-1
    size_t *sizes;     // owned: (k)
    double inertia;    // sum of squared distances to the assigned centroid
    double silhouette; // mean silhouette (sampled), NAN for k = 1
};

// x: (n, dim) row-major, finite. PX_EINVAL when k > n ("k 5 is more than the 3 rows"), a value
// is not finite (naming row and column), or a parameter is out of range. Returns owned *out
// (kmeans_result_free).
int kmeans_fit(const float *x, size_t n, size_t dim, const struct kmeans_params *p,
               struct kmeans_result *out, struct px_err *err);
void kmeans_result_free(struct kmeans_result *r);

// Fits every k in [k_lo, k_hi] and keeps the one with the highest silhouette (k >= 2);
// scores (k_hi - k_lo + 1, may be NULL) receives each k's silhouette. p->k is ignored.
int kmeans_choose(const float *x, size_t n, size_t dim, int k_lo, int k_hi,
                  const struct kmeans_params *p, struct kmeans_result *out, double *scores,
                  struct px_err *err);

// Mean silhouette of an assignment over at most max_rows rows (a sample drawn with seed) into
// *out (NAN for k = 1 or one row). PX_ENOMEM, never a silent NAN: kmeans_choose compares them.
int kmeans_silhouette(const float *x, size_t n, size_t dim, const int32_t *assign, int k,
                      size_t max_rows, uint64_t seed, double *out, struct px_err *err);

#endif
