// engine.h — the search engine over one customer table: the filter table (columnar numbers,
// category codes, list bit sets), the BM25 index of the rows' profile texts, the vector index
// (the only copy of the rows' vectors), the query schema the parser reads, and the ranking of
// a query plan over them (filters -> candidates -> dense + lexical lists -> fusion + boosts).
//
// It knows rows by number (0..n_rows-1) and takes numbers, strings and vectors: where they come
// from (a store, an embedder) is the caller's business (app/book.c joins them), so the engine
// is testable with synthetic data and its build/open boundary is one place.
//
// Lifecycle:
//   engine_builder_new(columns, capacity)
//     engine_builder_add_row, then per row: _set_number / _set_value per column, _add_text
//     engine_builder_add_vector (any rows, after they are added)
//   engine_build(builder) -> engine (the builder is consumed)
//   engine_search(engine, {plan, vector or NULL, text}, top) ... from any number of threads
//   engine_free(engine)
// The query schema is derived at build time from the data: numeric columns get 11
// distribution points (min, deciles, max), categorical and list columns their distinct values
// in first-seen order. A numeric column without any value is a text column to the parser
// (there is nothing to compare against).
//
// Ranking (engine_search):
//   1. hard filters -> candidate bitmap (every result passes every listed filter), less the
//      excluded rows;
//   2. dense: top K cosine among candidates (vindex) for the query vector; lexical: BM25 of the
//      text among candidates; boosts: the top K candidates by graded boost (rows meeting none
//      left out); K = max(100, 20 * top), at most LIMIT_VINDEX_K;
//   3. order: the graded boost sum first (a row meeting more soft terms, or meeting them by
//      more, leads), then the reciprocal rank fusion of the dense and lexical lists (fuse.h,
//      k_rrf = 60 by default), then row order. A boost of weight w met by a row is worth
//      w * (1 + ENGINE_GRADE_SPAN * steps / ENGINE_GRADE_STEPS), steps = how far past the
//      threshold the row's value lies, in quarters of the column's distribution between the
//      threshold and the end (ge: the way to the maximum, le: to the minimum; step k begins at
//      the value at that share, read off the 11 distribution points once per search); between,
//      contains and eq boosts have no grade (met = w). So 3 met weight-0.5 boosts (1.5) beat
//      one weight-1 boost met by the most (1.4), and equal boosts leave the text to decide;
//   4. no list (no text, no vector, or nothing matched): candidates by graded boost, then row
//      order; when no candidate meets a boost the answer says ranked = false (row order is
//      not a ranking).
// The answer's order names what decided it ("boosts, then BM25, then import order": row
// order is the order the rows were added, the book's import order).
// Deterministic: ties go to the lower row.
//
// Threads: the builder belongs to one thread. An engine is immutable; engine_search may run
// from any number of threads at once, each with its own pool (or none).
#ifndef PX_ENGINE_H
#define PX_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bm25.h"
#include "err.h"
#include "fuse.h"
#include "mapfile.h"
#include "pool.h"
#include "query.h"
#include "vindex.h"

struct engine;
struct engine_builder;

struct engine_params {
    struct bm25_params bm25;     // default bm25_default_params()
    struct vindex_params vindex; // default vindex_default_params()
    struct fuse_params fuse;     // default fuse_default_params() (the engine sets boosts_first)
};

struct engine_params engine_default_params(void);

// One column of the table, in table order.
struct engine_column {
    const char *name;         // borrowed for engine_builder_new (copied)
    const char *label;        // borrowed likewise; NULL = humanised from name
    enum query_col_kind kind; // NUMERIC, CATEGORY, LIST, BOOL, TEXT or ID
    enum query_unit unit;     // NUMERIC: what "$100k" / "30%" bind to; NONE otherwise
};

// ---- building ----

// A builder for at most cap_rows rows (<= LIMIT_VINDEX_ROWS) of the n_cols columns. params
// NULL = defaults. Returns owned *out (engine_builder_free, or engine_build).
int engine_builder_new(const struct engine_column *cols, size_t n_cols, size_t cap_rows,
                       const struct engine_params *params, struct engine_builder **out,
                       struct px_err *err);
// NULL is a no-op.
void engine_builder_free(struct engine_builder *b);
// Appends a row (all values missing, no text yet) and returns its number in *row. PX_ELIMIT
// past cap_rows.
int engine_builder_add_row(struct engine_builder *b, size_t *row, struct px_err *err);
// A NUMERIC column's value (NaN = missing) or a BOOL column's (0 / nonzero, NaN = missing).
// PX_EINVAL for another kind or a row not added.
int engine_builder_set_number(struct engine_builder *b, size_t row, size_t col, double v,
                              struct px_err *err);
// A CATEGORY column's value or a LIST column's items ("A; B"), borrowed for the call; NULL or
// "" = missing. PX_ELIMIT past COLTABLE_MAX_LIST_VALUES distinct list items.
int engine_builder_set_value(struct engine_builder *b, size_t row, size_t col, const char *s,
                             struct px_err *err);
// The row's profile text for the lexical path (len bytes, borrowed for the call); once per row.
int engine_builder_add_text(struct engine_builder *b, size_t row, const char *text, size_t len,
                            struct px_err *err);
// The row's vector (dim floats, borrowed for the call; the first vector fixes the dimension,
// 1..LIMIT_VINDEX_DIM); stored L2-normalised. PX_EINVAL for NaN/Inf, a zero vector, another
// dimension or a row that already has one.
int engine_builder_add_vector(struct engine_builder *b, size_t row, const float *vec, size_t dim,
                              struct px_err *err);
// Forgets every vector added (the engine will have no dense path), e.g. after one was refused.
void engine_builder_drop_vectors(struct engine_builder *b);
// Finishes the indexes and derives the query schema. Takes ownership of b (freed, on failure
// too). Returns owned *out (engine_free).
int engine_build(struct engine_builder *b, struct engine **out, struct px_err *err);

// ---- the index file (engine_file.c) ----

// Writes a built engine as sections of w: its head, the schema statistics, the filter table,
// BM25 and the vectors when it has any. The caller adds its own sections and commits.
int engine_save(const struct engine *e, struct mapfile_writer *w, struct px_err *err);
// An engine over the sections engine_save wrote to m (borrowed: m must outlive the engine; the
// columns, postings and vectors are read from the map). with_vectors false leaves the vectors
// out (no dense path). It answers exactly as the engine that was saved. PX_EFORMAT naming the
// file when a section is damaged. Returns owned *out (engine_free).
int engine_open(const struct mapfile *m, const struct engine_params *params, bool with_vectors,
                struct engine **out, struct px_err *err);
// Whether m holds a vector index.
bool engine_file_has_vectors(const struct mapfile *m);

// ---- the engine ----

// NULL is a no-op.
void engine_free(struct engine *e);
size_t engine_n_rows(const struct engine *e);
// The schema plans are parsed against (query_parse) and rendered with (query_plan_to_json).
// Borrowed: valid until engine_free; plans point into it, so they must not outlive the engine.
const struct query_schema *engine_schema(const struct engine *e);
// Vector dimension, 0 without vectors; rows holding one.
size_t engine_dim(const struct engine *e);
size_t engine_n_vectors(const struct engine *e);
// The row's vector (engine_dim floats, unit length), or NULL when it has none. Borrowed: valid
// until engine_free.
const float *engine_vector(const struct engine *e, size_t row);

// The share of the column's values at or below v (0..1, interpolated between its 11
// distribution points); NaN for a column that is not numeric or has no values, or a NaN v.
double engine_cdf(const struct engine *e, size_t col, double v);
// Splits text the way the lexical index does (bm25_each_word): fn(user, word, len) per word.
int engine_text_words(const struct engine *e, const char *text, size_t len,
                      int (*fn)(void *user, const char *w, size_t n), void *user);

// ---- searching ----

struct engine_query {
    const struct query_plan *plan; // filters and boosts (borrowed; NULL = every row, no boost)
    const float *vector;           // the dense list's query (dim floats, borrowed); NULL = none
    size_t dim;
    const char *text;              // the lexical list's query (borrowed); NULL = the plan's
    size_t text_len;               // semantic text (none without a plan)
    const uint32_t *exclude;       // rows never returned (borrowed), e.g. those a "more like
    size_t n_exclude;              // these" asks about
};

struct engine_hit {
    uint32_t row;
    double score;      // boost + the RRF sum (results are ordered boost first, then RRF)
    double similarity; // cosine with the query vector, NAN when not computed
    double lexical;    // BM25 score, 0 when the text does not match
    double boost;      // the graded boost sum (engine_boost_score)
};

struct engine_answer {
    size_t n_hits;       // hits written, best first
    size_t n_candidates; // rows passing every filter, less the excluded ones
    bool dense;          // the dense list took part (a vector, vectors, candidates)
    bool ranked;         // something ranked the hits (a list matched, or a boost was met);
                         // false: they are the first candidates in row order
    const char *order;   // static: what decided the order, e.g. "boosts, then BM25, then
                         // import order" or "import order (unranked)"
};

// A met boost of weight w is worth w * (1 + SPAN * steps / STEPS), steps in 0..STEPS.
#define ENGINE_GRADE_SPAN 0.4
#define ENGINE_GRADE_STEPS 4

// How far past its threshold row's value lies, 0..1 (share of the column's distribution
// between the threshold and the end it points to); 0 for a boost without a grade (between,
// contains, eq) or a missing value.
double engine_boost_excess(const struct engine *e, const struct query_boost *b, size_t row);
// What boost b adds for row: 0 when the row does not meet it, else its graded weight.
double engine_boost_value(const struct engine *e, const struct query_boost *b, size_t row);
// The sum of engine_boost_value over boosts[n] (the hit's "boost").
double engine_boost_score(const struct engine *e, const struct query_boost *boosts, size_t n,
                          size_t row);

// Ranks the query's candidates; writes at most top (1..LIMIT_VINDEX_K) hits into hits (top
// entries) and the counts into *ans. pool (borrowed, NULL = the calling thread) runs the vector
// scan; the answer does not depend on its size. PX_EINVAL for a bad top, a vector of another
// dimension, an excluded row past the table.
int engine_search(const struct engine *e, const struct engine_query *q, size_t top,
                  struct pool *pool, struct engine_hit *hits, struct engine_answer *ans,
                  struct px_err *err);

// The rows passing every filter of plan (NULL: every row), as a new bitmap of engine_n_rows
// bits (owned: bitmap_free) — all of them, uncapped, for saved-search alerts and reports.
struct bitmap;
int engine_candidates(const struct engine *e, const struct query_plan *plan, struct bitmap **out,
                      struct px_err *err);

#endif
