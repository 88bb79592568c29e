// app_book.h — the customer book: indexing its profile texts into vectors, opening it for
// search, searching, customers like others, and the answers as JSON.
//
// Opaque handles and plain C types only: the book (struct app_book), a search's plan (struct
// app_plan, read through app_plan_* into plain structs), hits as plain structs. The search
// engine, the store and the embedder behind it are not visible here.
#ifndef PX_APP_BOOK_H
#define PX_APP_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include "app_common.h"
#include "buf.h"
#include "err.h"
#include "limits.h"

// ---- indexing: customer rows -> profile text -> vectors in the store ----

struct app_index_stats {
    size_t n_customers; // rows in the store
    size_t n_embedded;  // vectors computed by this run
    size_t n_skipped;   // already had a vector for this model
    char model_id[80];  // "sha256:<hex of model.safetensors>"
};


// Embeds every customer of the database at db_path that has no vector for the model (resolved
// from model_flag as app_open_embedder does), in batches, each stored in its own transaction: an
// interrupted run loses at most one batch and a re-run resumes without duplicates.
// template_path: a profile-text template (rowtext.h) instead of the default rendering, or NULL;
// search must then be given the same template so its keyword index sees the same text.
int app_index(const char *db_path, const char *model_flag, const char *template_path,
              int n_threads, app_progress_fn progress, void *user,
              struct app_index_stats *stats, struct px_err *err);
// The run's figures as a JSON object {"customers", "embedded", "skipped", "model_id"}.
int app_index_stats_json(const struct app_index_stats *stats, struct buf *out,
                         struct px_err *err);

// ---- the customer book, loaded for searching ----
//
// app_book_open reads the whole customer table once and hands it to the search engine
// (src/search/engine.h): a columnar copy for filters, the profile texts for the lexical path
// (BM25), the query schema (values and distributions taken from the data) and, when the model's
// weights are present and `prospect index` has run for them, the vectors for the dense path
// (kept once, in the engine's vector index). An allocation failure anywhere fails the open
// (PX_ENOMEM); other reasons the dense path cannot run only turn it off
// (app_book_dense_status). Read-only afterwards, except for its n_lanes search
// lanes: any number of threads may call app_book_search / app_book_similar on one book, and
// n_lanes of them run at once (the rest wait for a lane).

struct app_book;

struct app_book_params {
    const char *db_path;      // default "prospect.db"
    const char *model_flag;   // the sentence-transformer directory (--embedder DIR), or NULL
                              // for the usual lookup (app_encoder.h)
    const char *lexicon_path; // a user lexicon merged over the built-in one, or NULL
    int n_threads;            // default 1
    const char *template_path; // profile-text template (as given to app_index), or NULL
    int n_lanes;              // searches that may run at once (default 1), each with its own
                              // embedder context and n_threads-thread pool; more callers wait
    bool read_only;            // open the database read-only, never migrate it (bundle snapshots)
    const char *lexicon_base_path; // a lexicon file used instead of the built-in one, or NULL
    bool lexical_only;         // skip the dense path (a bundle made without embeddings)
    const char *wordnet_dir;   // WordNet's dictionary for the book's vocabulary: NULL for
                               // /usr/share/wordnet, "" for none (stems and typos only)
    bool no_vocab;             // match only the labels' and values' own words (no stems,
                               // WordNet relatives or typos): the benchmark's "before"
    bool ignore_index_file;    // build the indexes in memory from the store even when the
                               // book's index file is there (tests, benchmarks: the reference)
};

struct app_book_params app_book_default_params(void);
int app_book_open(const struct app_book_params *params, struct app_book **out,
                  struct px_err *err);
void app_book_close(struct app_book *b);
// Why the dense (sentence-transformer) path is off — weights missing, or no vectors for this
// model yet — or NULL when it is on. Borrowed.
const char *app_book_dense_status(const struct app_book *b);
size_t app_book_n_rows(const struct app_book *b);
// Query-vector cache counters since open (both 0 without the dense path).
void app_book_cache_stats(struct app_book *b, size_t *hits, size_t *misses);
size_t app_book_n_columns(const struct app_book *b);
const char *app_book_column_name(const struct app_book *b, size_t col);
const char *app_book_column_label(const struct app_book *b, size_t col);
bool app_book_column_is_id(const struct app_book *b, size_t col);
// The column's inferred type: "text", "category", "list", "bool", "integer", "real",
// "currency", "percent" or "date" (store/coltype.h).
const char *app_book_column_type(const struct app_book *b, size_t col);
// Appends the row as a JSON object {"<column name>": value, ...}: numbers as numbers, bools as
// true/false, missing as null, everything else as strings.
int app_book_row_json(const struct app_book *b, size_t row, struct buf *out, struct px_err *err);
// Customer id and formatted value of a row (borrowed; "" when missing).
const char *app_book_id(const struct app_book *b, size_t row);
const char *app_book_value(const struct app_book *b, size_t row, size_t col);
// Row of a customer id, or -1.
long app_book_find(const struct app_book *b, const char *id);

struct app_hit {
    size_t row;
    double score;      // boost + the RRF sum (results are ordered boost first, then RRF)
    double similarity; // cosine with the query text (dense path), NAN when not computed
    double lexical;    // BM25 score, 0 when the text does not match
    double boost;      // the graded sum of the boosts the row meets (engine.h, "Ranking")
};

struct app_plan; // a search's query plan: filters, boosts, semantic text (app_plan_*)

struct app_result {
    struct app_plan *plan;   // owned (NULL for app_book_similar)
    struct app_hit *hits;    // owned: (n_hits), best first
    size_t n_hits;
    size_t n_candidates;     // rows passing every hard filter
    bool dense;              // the dense path took part
    bool ranked;             // something ranked the hits; false: the first candidates in import
                             // order (no text matched, no vector, no boost met)
    const char *order;       // static: what decided the order ("boosts, then BM25, then import
                             // order"; "import order (unranked)")
    size_t *seeds;           // owned: (n_seeds) the rows app_book_similar was asked about
    size_t n_seeds;
};

// Parses the query, filters, ranks; top in 1..LIMIT_VINDEX_K.
int app_book_search(struct app_book *b, const char *query, size_t len, size_t top,
                    struct app_result *res, struct px_err *err);
// Customers most like the given ones (the centroid of their vectors, or of their profile text
// on the lexical path), excluding them.
int app_book_similar(struct app_book *b, const char *const *ids, size_t n_ids, size_t top,
                     struct app_result *res, struct px_err *err);
void app_result_free(struct app_result *res);

// ---- a search's plan, for front ends that describe it ----

// How a term's value reads.
enum app_plan_value {
    APP_PLAN_FLAG = 0,   // no value: is_true / is_false
    APP_PLAN_NUMBER = 1, // lo
    APP_PLAN_RANGE = 2,  // lo..hi (between, inclusive)
    APP_PLAN_TEXT = 3,   // values[0..n_values): one (eq, contains, ...) or several (in, not_in)
};

// One filter or boost. Strings are borrowed: valid while the result holding the plan lives.
struct app_plan_term {
    size_t col;                 // book column (app_book_column_*)
    const char *op;             // "lt" "le" "gt" "ge" "eq" "ne" "between" "in" "not_in"
                                // "contains" "not_contains" "is_true" "is_false"
    enum app_plan_value kind;
    double lo, hi;              // NUMBER: lo; RANGE: lo..hi; in the column's stored units
    const char *values[LIMIT_QUERY_FILTER_VALUES]; // TEXT: (n_values) values
    size_t n_values;
    double weight;              // boosts: the lexicon's weight; filters: 0
    size_t span_off, span_len;  // the bytes of the query the term came from
};

size_t app_plan_n_filters(const struct app_plan *p);
size_t app_plan_n_boosts(const struct app_plan *p);
// Fill *t with filter / boost i (i < the count).
void app_plan_filter(const struct app_plan *p, size_t i, struct app_plan_term *t);
void app_plan_boost(const struct app_plan *p, size_t i, struct app_plan_term *t);
// What is left to match semantically (borrowed, NUL-terminated, "" when nothing).
const char *app_plan_semantic_text(const struct app_plan *p);
// Pairs of filters no row can satisfy together (the search then returns nothing).
size_t app_plan_n_conflicts(const struct app_plan *p);

// ---- the answers as JSON ----

// The JSON answer: {"query", "filters", "boosts", "semantic_text", "conflicts", "dense",
// "candidates", "ranked", "order", "results": [{"customer_id", "score", "similarity",
// "lexical", "boost", "why", "row"}]} (without a plan — app_book_similar — "query" is "" and
// the plan's members are left out, and each result says "shared" instead of "why").
//   why: [{"kind": "filter" | "boost" | "words", "column", "label", "text", ...}] — each filter
//        with the row's value ("Credit score 781 > 750"), each boost the row meets with what it
//        added ("value", "excess": 0..1 how far past the threshold), and for the semantic text
//        the query words found in a column's value ("words": ["nurse"]);
//   shared: ["Occupation: Nurse", "Age 58 vs 61", "Products held: Checking"] — what the
//        customer has in common with every customer asked about (equal values, numbers within
//        a tenth of the column's distribution, list items all hold).
int app_result_to_json(const struct app_book *b, const char *query, size_t len,
                       const struct app_result *res, struct buf *out, struct px_err *err);

// Hit i's why (search) or shared traits (similar) as one line of text for a table: the items'
// texts joined by "; " ("Credit score 781 > 750; Life events: New Baby; words: nurse
// (Occupation)"), appended to out; nothing when there is nothing to say.
int app_result_why_line(const struct app_book *b, const struct app_result *res, size_t i,
                        struct buf *out, struct px_err *err);

// The plan alone (filters, boosts, semantic text, conflicts) as a JSON object; "null" when res
// has none (app_book_similar).
int app_result_plan_json(const struct app_book *b, const char *query, size_t len,
                         const struct app_result *res, struct buf *out, struct px_err *err);

#endif
