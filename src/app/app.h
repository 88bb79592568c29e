// app.h — the façade the front ends (CLI now, HTTP later) call; nothing above this layer reaches
// into text/, nn/ or embed/ directly for policy decisions such as where the model lives.
//
// Model lookup order (DEVELOPERS.md): --model DIR, then $PROSPECT_MODEL, then
// ./models/all-MiniLM-L6-v2, then ../shared/models/all-MiniLM-L6-v2. The first that exists is
// used; when it has no weights, the error says so and how to get them.
#ifndef PX_APP_H
#define PX_APP_H

#include <stddef.h>

#include "buf.h"
#include "embedder.h"
#include "err.h"
#include "limits.h"
#include "query.h"
#include "tokenizer.h"

#define APP_DEFAULT_MODEL "all-MiniLM-L6-v2"
#define APP_MODEL_URL "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"

enum app_model_source {
    APP_MODEL_FLAG = 0,    // --model DIR
    APP_MODEL_ENV = 1,     // $PROSPECT_MODEL
    APP_MODEL_LOCAL = 2,   // ./models/all-MiniLM-L6-v2
    APP_MODEL_SHARED = 3,  // ../shared/models/all-MiniLM-L6-v2
};

// Resolves the model directory into out (n bytes); *source says which rule chose it (may be
// NULL). An explicit --model or $PROSPECT_MODEL is used as given even if missing (the open then
// fails naming it); with neither, PX_ENOENT lists the places looked at.
int app_model_dir(const char *flag, char *out, size_t n, enum app_model_source *source,
                  struct px_err *err);
const char *app_model_source_name(enum app_model_source s);

// Resolves and opens the embedder. On missing weights the message ends with how to get them.
// dir_out (n bytes, may be NULL) receives the directory used. Returns owned *out.
int app_open_embedder(const char *flag, struct embedder **out, char *dir_out, size_t n,
                      struct px_err *err);
// Resolves and opens only the tokenizer (works without weights). Returns owned *out.
int app_open_tokenizer(const char *flag, struct tokenizer **out, char *dir_out, size_t n,
                       struct px_err *err);

// ---- indexing: customer rows -> profile text -> vectors in the store ----

struct app_index_stats {
    size_t n_customers; // rows in the store
    size_t n_embedded;  // vectors computed by this run
    size_t n_skipped;   // already had a vector for this model
    char model_id[80];  // "sha256:<hex of model.safetensors>"
};

typedef void (*app_progress_fn)(size_t done, size_t total, void *user);

// Embeds every customer of the database at db_path that has no vector for the model (resolved
// from model_flag as app_open_embedder does), in batches, each stored in its own transaction: an
// interrupted run loses at most one batch and a re-run resumes without duplicates.
// template_path: a profile-text template (rowtext.h) instead of the default rendering, or NULL;
// search must then be given the same template so its keyword index sees the same text.
int app_index(const char *db_path, const char *model_flag, const char *template_path,
              int n_threads, app_progress_fn progress, void *user,
              struct app_index_stats *stats, struct px_err *err);

// ---- the customer book, loaded for searching ----
//
// app_book_open reads the whole customer table once: a columnar copy for filters, the profile
// texts and a BM25 index for the lexical path, the query schema (values and distributions taken
// from the data) and, when the model's weights are present and `prospect index` has run for
// them, the vectors for the dense path. Read-only afterwards, except for its n_lanes search
// lanes: any number of threads may call app_book_search / app_book_similar on one book, and
// n_lanes of them run at once (the rest wait for a lane).

struct app_book;

struct app_book_params {
    const char *db_path;      // default "prospect.db"
    const char *model_flag;   // --model, or NULL for the usual lookup
    const char *lexicon_path; // a user lexicon merged over the built-in one, or NULL
    int n_threads;            // default 1
    const char *template_path; // profile-text template (as given to app_index), or NULL
    int n_lanes;              // searches that may run at once (default 1), each with its own
                              // embedder context and n_threads-thread pool; more callers wait
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
    double score;      // final ranking score
    double similarity; // cosine with the query text (dense path), NAN when not computed
    double lexical;    // BM25 score, 0 when the text does not match
    double boost;      // sum of the satisfied boosts' weights
};

struct app_result {
    struct query_plan *plan; // owned (NULL for app_book_similar)
    struct app_hit *hits;    // owned: (n_hits), best first
    size_t n_hits;
    size_t n_candidates;     // rows passing every hard filter
    bool dense;              // the dense path took part
};

// Parses the query, filters, ranks; top in 1..LIMIT_VINDEX_K.
int app_book_search(struct app_book *b, const char *query, size_t len, size_t top,
                    struct app_result *res, struct px_err *err);
// Customers most like the given ones (the centroid of their vectors, or of their profile text
// on the lexical path), excluding them.
int app_book_similar(struct app_book *b, const char *const *ids, size_t n_ids, size_t top,
                     struct app_result *res, struct px_err *err);
void app_result_free(struct app_result *res);
// The JSON answer: {"query", "filters", "boosts", "semantic_text", "conflicts", "dense",
// "candidates", "results": [{"customer_id", "score", "similarity", "lexical", "boost", "row"}]}.
int app_result_to_json(const struct app_book *b, const char *query, size_t len,
                       const struct app_result *res, struct buf *out, struct px_err *err);

// The plan alone (filters, boosts, semantic text, conflicts) as a JSON object; "null" when res
// has none (app_book_similar).
int app_result_plan_json(const struct app_book *b, const char *query, size_t len,
                         const struct app_result *res, struct buf *out, struct px_err *err);

// ---- API keys and the audit log (app/access.c) ----
//
// Both live in the working database (--db). A key is shown once, at creation, as the token
// "pxk_<id>_<secret>" (id: 12 hex digits, public; secret: 64 hex digits, 256 random bits); the
// database keeps only a random salt and sha256(salt || secret). Clients send
// "Authorization: Bearer <token>". Every search and every customer lookup over HTTP or the CLI
// appends one audit row (time, key id or OS user, query text, plan, returned customer ids);
// the table rejects UPDATE and DELETE.

#define APP_KEY_ID_LEN 12
#define APP_KEY_TOKEN_MAX 96 // "pxk_" + 12 + "_" + 64 + NUL fits

struct app_key {
    char id[APP_KEY_ID_LEN + 1];
    char name[LIMIT_KEY_NAME + 1];
    char created[32]; // UTC, ISO 8601
    char revoked[32]; // "" while active
};

// Makes a key named name (1..LIMIT_KEY_NAME printable bytes) in the database at db_path
// (created when missing). token receives the secret token — the only time it exists outside
// the caller; *key (may be NULL) the stored record.
int app_keys_create(const char *db_path, const char *name, struct app_key *key,
                    char token[APP_KEY_TOKEN_MAX], struct px_err *err);
// Every key, oldest first; *out returns owned (px_free).
int app_keys_list(const char *db_path, struct app_key **out, size_t *n, struct px_err *err);
// Revokes key id (effective for the next request of a running server); PX_ENOENT if none.
int app_keys_revoke(const char *db_path, const char *id, struct px_err *err);

// The server's (or a CLI command's) handle on keys and audit: one connection, serialised by a
// mutex, so any thread may call it.
struct app_access;
int app_access_open(const char *db_path, struct app_access **out, struct px_err *err);
void app_access_close(struct app_access *a);
int app_access_active_keys(struct app_access *a, size_t *n, struct px_err *err);
// Checks an Authorization header value ("Bearer pxk_…"). PX_OK with key_id filled for a valid,
// unrevoked key; PX_EAUTH (the message says why, never echoing the secret) otherwise.
int app_access_check(struct app_access *a, const char *authorization,
                     char key_id[APP_KEY_ID_LEN + 1], struct px_err *err);

struct app_audit_entry {
    const char *key_id;  // NULL when no key was used
    const char *channel; // "http" or "cli"
    const char *actor;   // OS user for "cli", else NULL
    const char *action;  // "search", "invocations", "customer", "similar"
    const char *query;   // query text or the customer id asked about (len bytes)
    size_t query_len;
};
// Appends one audit row for res (its plan and returned ids) — or, res NULL, for the single
// customer `row` (customer lookups). Fails closed: callers must not return results that could
// not be logged.
int app_access_log(struct app_access *a, const struct app_audit_entry *e, const struct app_book *b,
                   const struct app_result *res, long row, struct px_err *err);

struct app_audit_row {
    long long seq;
    const char *time, *key_id, *channel, *actor, *action, *query, *plan, *customer_ids;
    long long n_results;
};
typedef int (*app_audit_fn)(const struct app_audit_row *row, void *user, struct px_err *err);
// Audit rows at or after since (ISO 8601 prefix, or NULL), of key_id (or NULL for all), oldest
// first, the newest `limit` of them.
int app_audit_read(const char *db_path, const char *since, const char *key_id, size_t limit,
                   app_audit_fn fn, void *user, struct px_err *err);

#endif
