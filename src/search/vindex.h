// vindex.h — flat in-memory vector index: exact cosine top-k over candidate rows (STYLE C11).
//
// Rows are unit vectors of one dimension, addressed by a row id (the customer's row, also its
// bit in candidate bitmaps). Each row is kept twice: f32 (exact scores) and int4 with a
// per-row scale (the fast scan). A search scans the int4 copy of the candidate rows only,
// keeps the best n_rescore per search by approximate score, re-scores those in f32 and returns
// the exact top-k; small candidate sets are scored in f32 directly. See vindex.c for the layout
// and ARCHITECTURE.md for the numbers.
//
// Thread rules: vindex_add needs exclusive access; once adding is over the index is immutable
// and any number of threads may call vindex_search at once (each with its own pool, or none).
#ifndef PX_VINDEX_H
#define PX_VINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "bitmap.h"
#include "err.h"
#include "mapfile.h"
#include "pool.h"

struct vindex;

struct vindex_params {
    size_t chunk_rows;   // rows per chunk, multiple of 64, <= LIMIT_VINDEX_CHUNK_ROWS; default 1024
    size_t n_rescore;    // rows re-scored in f32 after the int4 scan (at least k); default 2048
    size_t exact_below;  // candidate sets this small skip the int4 scan; default 16384
};

struct vindex_params vindex_default_params(void);

struct vindex_hit {
    uint32_t row_id; // row id given to vindex_add
    float score;     // cosine similarity, f32
};

// An empty index of dim-dimensional vectors (1..LIMIT_VINDEX_DIM). Returns owned via *out
// (vindex_free). params NULL = defaults.
int vindex_new(size_t dim, const struct vindex_params *params, struct vindex **out,
               struct px_err *err);
// NULL is a no-op.
void vindex_free(struct vindex *ix);

// Adds row row_id (< LIMIT_VINDEX_ROWS, not yet present) with vector vec (n floats; n must
// equal the index dimension). The vector is L2-normalised on the way in. Rejects NaN/Inf
// (naming the element), a zero vector and a wrong length with PX_EINVAL; PX_ENOMEM leaves the
// index as it was. vec is borrowed for the call.
int vindex_add(struct vindex *ix, uint32_t row_id, const float *vec, size_t n,
               struct px_err *err);

// Writes the index as sections VX** of w (see vindex.c).
int vindex_save(const struct vindex *ix, struct mapfile_writer *w, struct px_err *err);
// A read-only index over m's VX sections (m borrowed: it must outlive the index; the codes and
// vectors are read from the map, never copied). params as for vindex_new; its chunk_rows is
// the file's. Searches exactly as the index that was saved. PX_EFORMAT naming the file when a
// section is damaged. Returns owned *out (vindex_free); vindex_add on it is not allowed.
int vindex_open(const struct mapfile *m, const struct vindex_params *params, struct vindex **out,
                struct px_err *err);

size_t vindex_dim(const struct vindex *ix);
size_t vindex_count(const struct vindex *ix);   // rows added
// 1 + the largest row id added (0 when empty): the size a candidate bitmap needs.
size_t vindex_id_bound(const struct vindex *ix);
// The row's vector as stored (L2-normalised, vindex_dim floats), or NULL when row_id was never
// added. Borrowed: valid until vindex_free. The index holds the only f32 copy of its vectors, so
// callers that need a row's vector (a centroid, a cosine) read it here instead of keeping one.
const float *vindex_vector(const struct vindex *ix, uint32_t row_id);

// Top-k rows by cosine similarity to query (n floats, need not be unit length) among the rows
// whose bit is set in candidates (NULL = every row; a row id past the bitmap's size is not a
// candidate). Writes min(k, candidate rows) hits, best first, ties broken by lower row id, into
// out (k entries) and their count to *n_out. k in 1..LIMIT_VINDEX_K. pool (borrowed, NULL =
// the calling thread only) runs the scan; results do not depend on its size. Allocates one
// scratch block per call.
int vindex_search(const struct vindex *ix, const float *query, size_t n, size_t k,
                  const struct bitmap *candidates, struct pool *pool, struct vindex_hit *out,
                  size_t *n_out, struct px_err *err);

// Exact f32 top-k by brute force over the candidates (no int4 scan, one thread): the reference
// that tests and the benchmark compare vindex_search with.
int vindex_search_exact(const struct vindex *ix, const float *query, size_t n, size_t k,
                        const struct bitmap *candidates, struct vindex_hit *out, size_t *n_out,
                        struct px_err *err);

#endif
