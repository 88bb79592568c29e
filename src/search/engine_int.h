// engine_int.h — the engine's parts, shared by engine.c (build, search) and engine_file.c (the
// index file: save, open). Not a public API.
//
// Schema statistics: what the query schema is made from, as one byte string (native order):
//   per column: u32 kind, u32 unit, u32 name length, name bytes, u32 label length
//   (UINT32_MAX = no label), label bytes, then
//     NUMERIC         u32 n (0: no value, the parser sees a text column; else N_DIST_POINTS),
//                     n doubles (min, deciles, max)
//     CATEGORY, LIST  u32 n, n times (u32 length, bytes): distinct values, first-seen order
// A built engine makes the schema from its own statistics (engine_schema_from_stats) and an
// engine opened from a file from the saved copy, so both parse queries identically.
#ifndef PX_ENGINE_INT_H
#define PX_ENGINE_INT_H

#include "buf.h"
#include "engine.h"

// min, deciles, max: what level words ("affluent" = top quartile) interpolate between
#define N_DIST_POINTS 11

struct engine {
    struct engine_params params;
    size_t n_rows, n_cols;
    struct coltable *table;       // owned
    struct bm25 *bm25;            // owned
    struct vindex *vx;            // owned, NULL without vectors
    struct query_schema *schema;  // owned, NULL until engine_build
    struct buf stats;             // owned: the schema statistics (above)
    double *dist;                 // owned: (n_cols * N_DIST_POINTS) distribution points of each
                                  // numeric column (NaN for other kinds): the boosts' grades
};

// Appends column col's statistics: q (n_q points) for a NUMERIC column, vals (n_vals) for a
// CATEGORY / LIST one.
int engine_stats_put_column(struct buf *stats, const struct engine_column *col, const double *q,
                            size_t n_q, const char *const *vals, size_t n_vals,
                            struct px_err *err);
// The query schema of n_cols columns from statistics (len bytes, borrowed). PX_EFORMAT when
// they are damaged. Returns owned *out (query_schema_free). dist (n_cols * N_DIST_POINTS, set
// to NaN by the caller) receives each numeric column's distribution points.
int engine_schema_from_stats(const char *stats, size_t len, size_t n_cols,
                             struct query_schema **out, double *dist, struct px_err *err);

#endif
