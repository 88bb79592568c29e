// book_int.h — what the files of the customer-book noun share (not a public API; front ends
// see app_book.h only):
//   book.c         opening: the store's rows, texts and vectors handed to the search engine
//   book_lanes.c   search lanes (embedder context + pool) and the query-vector cache
//   book_search.c  app_book_search / app_book_similar: plan, query vector, engine_search
//   book_json.c    the answers as JSON
//   index.c        app_index: rows -> profile texts -> vectors in the store
// and the profile-text helpers book.c and index.c both render with.
#ifndef PX_APP_BOOK_INT_H
#define PX_APP_BOOK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_book.h"
#include "app_encoder.h"
#include "coltype.h"
#include "embedder.h"
#include "engine.h"
#include "limits.h"
#include "mapfile.h"
#include "pool.h"
#include "query.h"
#include "rowtext.h"
#include "store.h"
#include "vocab.h"

// ---- profile text (book.c and index.c render rows the same way) ----

// One row's values as rowtext fields (sc->n_cols of them); text points into vals or into
// scratch (numbers formatted there).
void book_row_fields(const struct store_schema *sc, const struct coltype_value *vals,
                     struct rowtext_field *f, char (*scratch)[48]);
// Compiles the template file at path (NULL: *out = NULL, the default rendering) against the
// schema's column names and labels. Returns owned *out (rowtext_template_free).
int book_load_template(const char *path, const struct store_schema *sc,
                       struct rowtext_template **out, struct px_err *err);

// ---- lanes and the query cache (book_lanes.c) ----

// What one search needs for itself: an embedder context (its arena is scratch for the query's
// forward pass) and a thread pool (the vector scan and the encoder split across n_threads).
struct book_lane {
    struct embed_ctx *ectx; // owned, NULL without the dense path
    struct pool *pool;      // owned
};

struct book_lanes {
    struct book_lane *lanes; // owned: (n_lanes)
    size_t n_lanes;
    size_t *free_lanes;      // owned: stack of idle lane indices, (n_free) of them
    size_t n_free;
    pthread_mutex_t lock;    // guards free_lanes / n_free
    pthread_cond_t idle;     // signalled when a lane is returned
    bool sync;               // lock and idle were made
};

// Makes n_lanes (1..LIMIT_THREADS) lanes, each with a pool of n_threads; embedder contexts are
// added by the caller when the dense path opens. On failure what was made stays for
// book_lanes_free.
int book_lanes_init(struct book_lanes *l, int n_lanes, int n_threads, struct px_err *err);
void book_lanes_free(struct book_lanes *l);
// Blocks until a lane is idle and takes it; book_lane_give returns it.
struct book_lane *book_lane_take(struct book_lanes *l);
void book_lane_give(struct book_lanes *l, struct book_lane *lane);

struct book_qcache;
// A cache of LIMIT_QUERY_CACHE query vectors of dim floats; NULL when out of memory.
struct book_qcache *book_qcache_new(int dim);
void book_qcache_free(struct book_qcache *c);
// Copies the cached vector of text (len bytes) into q; false when it is not cached.
bool book_qcache_get(struct book_qcache *c, const char *text, size_t len, float *q);
// Keeps q as text's vector in the least recently used slot (nothing when out of memory).
void book_qcache_put(struct book_qcache *c, const char *text, size_t len, const float *q);
void book_qcache_stats(struct book_qcache *c, size_t *hits, size_t *misses);

// ---- the book ----

struct app_book {
    struct store_schema sc;       // owned
    size_t n_rows, n_cols;
    // the rows as shown: owned arrays when built in memory, views of the index file when
    // opened from it (map); offsets are checked against the blobs' lengths where they are read
    const char *ids;              // every customer id, NUL-terminated, back to back (ids_len)
    size_t ids_len;
    const uint64_t *id_off;       // (n_rows) offsets into ids
    const uint32_t *by_id;        // (n_rows) rows sorted by id, for app_book_find
    const char *raw;              // every formatted value, NUL-terminated, back to back
    size_t raw_len;
    const uint64_t *raw_off;      // (n_rows * n_cols) offsets into raw
    void *owned[5];               // what the five arrays above own when built (px_free)
    struct mapfile *map;          // owned: the index file the book was opened from, or NULL
    struct engine *eng;           // owned: filter table, BM25, vectors, query schema, ranking
    struct query_lexicon *lex;    // owned
    struct vocab *vocab;          // owned: the book's vocabulary (search/vocab.h), or NULL
    struct embedder *e;           // owned, NULL without the dense path
    int dim;                      // query vector dimension, 0 without the dense path
    struct book_qcache *qc;       // owned, NULL without the dense path: recent query vectors
    struct book_lanes lanes;      // per-search state
    char dense_status[PX_ERR_MSG_MAX + LIMIT_PATH]; // "" when the dense path runs without remark
    char model_id[APP_MODEL_ID_BYTES]; // the model of the engine's vectors, "" without
};

// A plan as the façade hands it out: the parsed plan and the book whose schema it points into.
struct app_plan {
    struct query_plan *qp;      // owned
    const struct app_book *book; // borrowed
};

// The formatted value of (row, col), "" when missing.
const char *book_raw_at(const struct app_book *b, size_t r, size_t c);

// Appends hit i's ", \"why\": [...]" (a search: filters, boosts, words) or ", \"shared\":
// [...]" (similar: traits shared with every seed) member (book_why.c).
int book_why_put_json(const struct app_book *b, const struct app_result *res, size_t i,
                      struct buf *out, struct px_err *err);

// ---- the index file (book_file.c) ----

// Path of the book's index file for import generation gen: "<db_path>.g<gen>.index".
int book_index_path(const char *db_path, uint64_t gen, char *out, size_t n, struct px_err *err);
// Looks for the index file of import generation gen beside db_path: *found true with its path
// in out; false when there is none and no other generation's either (a book never indexed:
// it is built in memory). PX_EFORMAT (stale) when only another generation's file exists.
int book_index_find(const char *db_path, uint64_t gen, char *out, size_t n, bool *found,
                    struct px_err *err);
// Writes the book (built in memory) to path: the engine's sections and the rows as shown.
// gen: the store's generation (store_generation: import, vectors, customers); model_id: the model
// of the engine's vectors, "" without.
int book_index_write(const struct app_book *b, const char *path, const uint64_t gen[3],
                     const char *model_id, struct px_err *err);
// Maps path into b (whose schema sc is read from the store): the rows, and checks the
// generation; the engine is opened by book.c (book_index_engine). PX_EFORMAT naming the file
// and the command that rebuilds it when it is damaged or stale.
int book_index_open(struct app_book *b, const char *path, const uint64_t gen[3],
                    struct px_err *err);
// The model id of the file's vectors ("" without) and its vector generation.
const char *book_index_model(const struct app_book *b);
uint64_t book_index_vector_gen(const struct app_book *b);
// Removes the index files of other generations than keep beside db_path (best effort).
void book_index_prune(const char *db_path, uint64_t keep);
// Builds the book of the open store st in memory (the dense path when dense and the model's
// weights open) and writes its index file for the store's current generation. The import runs
// it inside its transaction, before the commit; `prospect index` after its last batch.
int book_index_rebuild(struct store *st, const char *db_path, const char *model_flag,
                       int n_threads, bool dense, struct px_err *err);
// What every damaged / stale message ends with.
#define BOOK_INDEX_REBUILD "rebuild it with `prospect index` (or re-import the CSV)"

#endif
