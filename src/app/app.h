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
#include "limits.h"
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
    bool read_only;            // open the database read-only, never migrate it (bundle snapshots)
    const char *lexicon_base_path; // a lexicon file used instead of the built-in one, or NULL
    bool lexical_only;         // skip the dense path (a bundle made without embeddings)
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

// ---- propensity models (app/propensity.c, app/propensity_json.c) ----
//
// Train, score, explain, look-alikes and tipping points over src/ml for both front ends. A model
// is named "NAME" (the production stage, else its newest version), "NAME/VERSION",
// "NAME@VERSION" (the URL form, since a path segment cannot hold '/') or "NAME@STAGE"; models
// are versions of kind "propensity" in the registry (runstore.h). The JSON builders are what the HTTP routes answer (README,
// "Propensity API"); ARCHITECTURE.md has the run record.

#include "dataset.h"
#include "experiment.h"
#include "explain.h"
#include "lookalike.h"
#include "runstore.h"


struct app_train_params {
    const char *csv;                 // borrowed: the training CSV
    const char *registry;            // borrowed: NULL for app_registry_dir(NULL)
    const char *name;                // borrowed: model name
    struct ml_build_params build;    // target, positive, drop
    struct ml_experiment_params exp; // ml_experiment_default_params()
};

struct app_trained {
    struct ml_spec spec;     // owned
    struct ml_dataset ds;    // owned
    struct ml_experiment e;  // owned
    int version;             // the version saved
    char sha256[65];         // of the CSV
};

// Builds the data set, runs the experiment and saves the next version of name. Returns owned
// *out (app_trained_free; empty after a failure).
int app_train(const struct app_train_params *p, ml_progress_fn progress, void *user,
              struct app_trained *out, struct px_err *err);
void app_trained_free(struct app_trained *t);

// Loads a model by reference (see above) from registry (NULL: the default). Returns owned *out
// (runstore_model_free).
int app_prop_load(const char *registry, const char *ref, int n_threads, struct runstore_model *out,
                  struct px_err *err);
// Reads a CSV (path) through the model's spec; the target is needed for look-alikes and
// tipping. Returns owned *ds (ml_dataset_free).
int app_prop_data(const struct runstore_model *m, const char *csv, bool need_target,
                  struct ml_dataset *ds, struct px_err *err);
// JSON rows -> a data set: {"rows": [{"<column>": value, ...}, ...]} or a bare array of such
// objects (at most LIMIT_PROP_ROWS). Keys must be the model's columns (its features' source
// columns, the id column or the target); numbers, strings, booleans and null (missing) are
// accepted. Errors name the row (0-based) and key.
int app_prop_rows_json(const struct runstore_model *m, const char *body, size_t len,
                       struct ml_dataset *ds, struct px_err *err);
// prob: (ds->n_rows) probabilities.
int app_prop_score(const struct runstore_model *m, const struct ml_dataset *ds, float *prob,
                   struct px_err *err);
// SHAP for every row of ds. Returns owned *e (ml_explanation_free).
int app_prop_explain(const struct runstore_model *m, const struct ml_dataset *ds,
                     struct ml_explanation *e, struct px_err *err);
// The row's tipping feature: the largest |SHAP| among features that can be stepped (not one-hot
// levels), or SIZE_MAX when there is none.
size_t app_prop_tipping_feature(const struct runstore_model *m, const struct ml_explanation *e,
                                size_t row);

enum app_vectors {
    APP_VECTORS_AUTO = 0,     // profile-text embeddings when the weights are present, else features
    APP_VECTORS_TEXT = 1,     // profile-text embeddings, or fail
    APP_VECTORS_FEATURES = 2, // standardised model features
};

struct app_look_params {
    size_t k;                        // nearest negatives per positive (default 1)
    const char *const *features;     // borrowed: (n_features) keep rows whose tipping feature is
    size_t n_features;               //   one of these (0: all)
    size_t top;                      // List A at most this long (0: no limit)
    bool tipping;                    // also step each row's tipping feature
    double real_step;                // step of real features (NAN: (max - min) / 100)
    enum app_vectors vectors;        // default APP_VECTORS_AUTO
    const char *model_flag;          // borrowed: sentence-transformer (--model), NULL: the lookup
    int n_threads;                   // encoder threads (default 1)
};
struct app_look_params app_look_default_params(void);

struct app_look_entry {
    size_t row;
    double dist;   // List A: distance to the nearest positive; List B: NAN
    size_t near;   // List A: that positive
    size_t feat;   // tipping feature (SIZE_MAX: none)
    struct ml_tip tip;
};

struct app_look {
    struct app_look_entry *a, *b; // owned: List A (look-alikes), List B (by probability)
    size_t n_a, n_b;
    bool text_vectors;            // the sentence-transformer embedded profile texts
    char vectors[512];            // what the vectors were, and why (said in every output)
    size_t tipped_a, tipped_b;    // with tipping: rows that tip
    double avg_a, avg_b;          // and their average change (NAN when none)
};

// List A: for every positive row of ds its k nearest negatives (de-duplicated, by distance);
// List B: the negatives ranked by probability, as many as List A. Vectors: each row rendered to
// profile text (text/rowtext.h, labels from the column names, the model's columns less the id
// and the target) embedded by the sentence-transformer, or the standardised features (see
// app_look_params.vectors); out->vectors says which. e: ml_explanation of ds. Returns owned *out
// (app_look_free).
int app_prop_lookalike(const struct runstore_model *m, const char *csv,
                       const struct ml_dataset *ds, const struct ml_explanation *e,
                       const struct app_look_params *p, struct app_look *out, struct px_err *err);
void app_look_free(struct app_look *l);
// The profile text of every row of the CSV at path through the model's columns, in ds's row
// order. texts: (ds->n_rows) returns owned strings (free each and the array with px_free).
int app_prop_profile_texts(const struct runstore_model *m, const char *csv,
                           const struct ml_dataset *ds, char ***texts, struct px_err *err);

// ---- JSON answers (app/propensity_json.c), appended to out ----
// {"models": [{"id": "NAME@V", "name", "version", "created", "threshold", "cv": {...}, "test":
// {...}}], "skipped": N}
int app_prop_runs_json(const char *registry, struct buf *out, struct px_err *err);
// The run record (run.json) with "id" added.
int app_prop_run_json(const char *registry, const char *ref, struct buf *out, struct px_err *err);
// {"model", "version", "threshold", "rows": [{"row", "id", "probability", "label"}]}
int app_prop_score_json(const struct runstore_model *m, const struct ml_dataset *ds,
                        const float *prob, struct buf *out, struct px_err *err);
// {"model", "version", "threshold", "n_rows", "global": [{"feature", "mean_abs_shap"}] (largest
// first), "dependence": [{"feature", "points": [[value, shap], ...]}] (value null when missing),
// "rows": [{"id", "probability", "label", "tipping_feature", "top": [{"feature", "value",
// "shap"}]}] (the n_rows rows of highest probability), "potential": [{"id", "probability",
// "tipping_feature"}] (negatives at or above the threshold, by probability, at most n_rows)}
int app_prop_explain_json(const struct runstore_model *m, const struct ml_dataset *ds,
                          const struct ml_explanation *e, const char *const *dep, size_t n_dep,
                          size_t n_rows, struct buf *out, struct px_err *err);
// {"model", "version", "threshold", "vectors", "text_vectors", "list_a": [{"id", "probability",
// "distance", "near", "tipping_feature"[, "from", "to", "change", "new_probability",
// "tipped"]}], "list_b": [...][, "summary": {"a": {"rows", "tipped", "avg_change"}, "b": ...}]}
int app_prop_look_json(const struct runstore_model *m, const struct ml_dataset *ds,
                       const struct ml_explanation *e, const struct app_look *l, bool tipping,
                       struct buf *out, struct px_err *err);

// ---- the propensity routes' cache (app/propcache.c) ----
//
// What the HTTP routes would otherwise redo per request: loaded models keyed by (registry,
// name, version) — a reference is resolved on every acquire (registry.json, cheap), so a new
// version or a promotion is used at once, and since version numbers are never reused a cached
// version is never stale; per model, the data set read through its spec (keyed by path and the
// file's device, inode, size and mtime/ctime, so an edited file is re-read) and its SHAP values;
// and profile-text vectors keyed by the embedder's directory, the file's identity and the
// rendered columns (names and types), not the model, so versions of a model that read the same
// columns share them. At most LIMIT_PROP_CACHE_MODELS models and LIMIT_PROP_CACHE_VECTORS vector
// sets, least recently used dropped first (an entry in use is freed by its last user).
// Thread-safe: any number of threads acquire at once; cached objects are immutable once filled,
// a model's classifier is used under its own lock, and one thread fills a missing part while
// the others wanting it wait.

struct app_prop_cache;
struct app_prop_handle; // one request's pinned model (+ data, SHAP, vectors)

enum app_prop_part {
    APP_PROP_PART_MODEL = 0,
    APP_PROP_PART_DATA = 1,
    APP_PROP_PART_SHAP = 2,
    APP_PROP_PART_VECTORS = 3,
    APP_PROP_PARTS = 4,
};
extern const char *const app_prop_part_names[APP_PROP_PARTS]; // "model", "data", "shap", ...

struct app_prop_cache_stats {
    size_t hit[APP_PROP_PARTS], miss[APP_PROP_PARTS]; // taken from the cache / computed
    size_t evicted;                                   // entries dropped for room
    size_t n_models, n_vectors;                       // held now
};

// max_models / max_vectors: 0 for the LIMIT_PROP_CACHE_* defaults (larger is clamped to them).
// Returns owned *out (app_prop_cache_free, after every handle is released).
int app_prop_cache_new(size_t max_models, size_t max_vectors, struct app_prop_cache **out,
                       struct px_err *err);
void app_prop_cache_free(struct app_prop_cache *c);
void app_prop_cache_stats(struct app_prop_cache *c, struct app_prop_cache_stats *out);

// Resolves ref (as app_prop_load) in registry (NULL: the default) and pins its model, loading
// it (every checksum) on a miss. c NULL: no caching (loaded for this handle alone). Returns owned
// *out (app_prop_release).
int app_prop_acquire(struct app_prop_cache *c, const char *registry, const char *ref,
                     struct app_prop_handle **out, struct px_err *err);
void app_prop_release(struct app_prop_handle *h);
const struct runstore_model *app_prop_handle_model(const struct app_prop_handle *h);
// The CSV at path read through the model's spec (as app_prop_data; need_target: fail without
// the target column) and, when e is not NULL, its SHAP values; both borrowed until release.
int app_prop_handle_data(struct app_prop_handle *h, const char *csv, bool need_target,
                         const struct ml_dataset **ds, const struct ml_explanation **e,
                         struct px_err *err);
// app_prop_score with the model's lock held.
int app_prop_handle_score(struct app_prop_handle *h, const struct ml_dataset *ds, float *prob,
                          struct px_err *err);
// app_prop_lookalike on the data of the last app_prop_handle_data (with e) of csv, the
// profile-text vectors taken from the cache.
int app_prop_handle_lookalike(struct app_prop_handle *h, const char *csv,
                              const struct app_look_params *p, struct app_look *out,
                              struct px_err *err);

// ---- model bundles and the registry (issue 4; formats in ARCHITECTURE.md "Model bundles") ----
//
// A bundle freezes what a search needs — a snapshot of the customers and the vectors of one
// model, the lexicon and template in effect, a reference to the model (its directory and the
// sha256 of its weights) or a copy of it — with an MLflow-style MLmodel and a manifest of
// checksums, registered as the next version of a name in a registry directory.

#define APP_REGISTRY_ENV "PROSPECT_REGISTRY"
#define APP_REGISTRY_DEFAULT "registry"

// The registry directory: flag (--registry) if given, else $PROSPECT_REGISTRY, else ./registry.
// Borrowed (flag, the environment or a literal).
const char *app_registry_dir(const char *flag);

struct app_bundle_params {
    const char *registry;      // registry directory (NULL: app_registry_dir(NULL))
    const char *name;          // the registered name
    const char *db_path;       // working database; default "prospect.db"
    const char *model_flag;    // --model, or NULL for the usual lookup
    const char *lexicon_path;  // user lexicon merged over the built-in one, or NULL
    const char *template_path; // profile-text template, or NULL
    bool copy_model;           // copy the model directory into the bundle instead of referencing
};

struct app_bundle_params app_bundle_default_params(void);

// One version of a registered bundle, as listed: any kind (search bundles, propensity models,
// recommenders share the registry); rows, dense and model_* describe search bundles only.
struct app_bundle_entry {
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    int version;
    char kind[16];     // "search", "propensity", "recommender" (BUNDLE_KIND_*)
    char created[40];  // UTC ISO 8601
    char aliases[LIMIT_REGISTRY_ALIASES * (LIMIT_REGISTRY_ALIAS_BYTES + 2) + 1]; // "a, b" or ""
    uint64_t rows;     // customers in the snapshot
    bool dense;        // holds embeddings (semantic search)
    char model_id[80]; // "sha256:<hex>" or "" (the weights were absent)
    bool model_copied; // the model's files are inside the bundle
    uint64_t bytes;    // size of its files
    char error[PX_ERR_MSG_MAX]; // why bundle.json could not be read ("" when fine)
};

// Builds a bundle from the working database and registers it as the next version of p->name
// (atomically: a staging directory, fsynced, renamed into place). The bundle is opened once
// before it is registered, so a bundle that cannot be served is never registered. *out (may be
// NULL) describes the new version.
int app_bundle_create(const struct app_bundle_params *p, struct app_bundle_entry *out,
                      struct px_err *err);
// Every version of name (NULL: of every name), by name then version. *out returns owned
// (px_free). A missing registry is an empty list; an unknown name is PX_ENOENT.
int app_bundle_list(const char *registry, const char *name, struct app_bundle_entry **out,
                    size_t *n, struct px_err *err);

struct app_bundle_show {
    struct app_bundle_entry entry;
    char *mlmodel;   // owned: MLmodel text
    char *manifest;  // owned: manifest.json text
    char *info;      // owned: bundle.json, run.json or recommender.json text (by kind)
    bool verified;   // checked (only when asked)
    int verify_rc;   // PX_OK when every checksum matched
    char verify_msg[PX_ERR_MSG_MAX]; // the first failure
};
// Reads the bundle ref names ("NAME", "NAME/VERSION", "NAME@ALIAS"); with verify, checks its
// checksums too (a failure is reported in out, not as the return value). Free with
// app_bundle_show_free.
int app_bundle_show(const char *registry, const char *ref, bool verify,
                    struct app_bundle_show *out, struct px_err *err);
void app_bundle_show_free(struct app_bundle_show *s);
// Points the alias (stage) at ref ("NAME/VERSION", or "NAME" for the latest). *version (may be
// NULL) returns the version promoted.
int app_bundle_promote(const char *registry, const char *ref, const char *stage, int *version,
                       struct px_err *err);
// Deletes ref ("NAME/VERSION"); refused while a stage points at it unless force (which clears
// the stage). *n_cleared (may be NULL) returns how many stages were cleared.
int app_bundle_delete(const char *registry, const char *ref, bool force, size_t *n_cleared,
                      struct px_err *err);
// Opens the book from a registered bundle: resolves ref (a bare name serves the "production"
// alias, else the latest version), checks every file's sha256 against the manifest and the
// referenced model's weights against the recorded model id, then loads the snapshot read-only.
// params supplies n_threads only (the data, lexicon, template and model come from the bundle).
// Errors name the bundle and the file: "bundle B/3: customers.db: sha256 mismatch (...)".
// *served (may be NULL) describes the version served.
int app_bundle_open_book(const char *registry, const char *ref,
                         const struct app_book_params *params, struct app_book **out,
                         struct app_bundle_entry *served, struct px_err *err);

// ---- recommendations, the customer-product graph and segments (app/recommend.c) ----
//
// A served recommender is the saved model (recommendations) plus, optionally, the wholesale
// book it was trained on (customers.csv, products.csv, transactions.csv: the graph's edges with
// their transaction type, count and amount). Customer attributes the graph shows beyond the
// model's labels (relationship manager, segment) come from the customer book (app_book) by
// column name: relationship_manager, segment. Immutable after open; any thread may read it.

#include "recommender.h"

// Loads a saved recommender: ref "NAME" (newest version) or "NAME/VERSION" (or "NAME@VERSION")
// from registry (NULL: app_registry_dir(NULL)). The one place the storage is read. Returns owned
// *m (rec_model_free); *version (may be NULL) the version loaded.
int app_rec_load(const char *registry, const char *ref, struct rec_model *m, int *version,
                 struct px_err *err);

struct app_rec_params {
    const char *registry;  // NULL: app_registry_dir(NULL)
    const char *ref;       // model reference (see app_rec_load); NULL: no model
    const char *wholesale; // directory with the three CSVs; NULL: no graph
};

struct app_rec;
// Opens what p names (at least one of ref and wholesale). Returns owned *out (app_rec_close).
int app_rec_open(const struct app_rec_params *p, struct app_rec **out, struct px_err *err);
void app_rec_close(struct app_rec *r);
// "NAME/VERSION" of the model, or NULL without one (borrowed).
const char *app_rec_model_name(const struct app_rec *r);
bool app_rec_has_graph(const struct app_rec *r);

// {"customer_id", "model", "held": N, "recommendations": [{"rank", "product_id", "product",
// "score"}]}: the top (1..LIMIT_REC_TOP) products the customer does not hold, best first.
// PX_ENOENT without a model or for a customer the model does not know.
int app_rec_recommend_json(const struct app_rec *r, const char *customer_id, size_t top,
                           struct buf *out, struct px_err *err);

struct app_graph_query {
    const char *customer; // a customer's neighbourhood: it, its products, their other holders
    const char *segment;  // else customers of this segment (book column "segment") ...
    const char *rm;       // ... and/or of this relationship manager, largest volume first
    size_t limit;         // customers, 1..LIMIT_GRAPH_CUSTOMERS
};

// The graph answer (README, "Recommendations and segments"): {"model", "nodes": [{"id", "kind":
// "customer"|"product", "label", ...}], "edges": [{"source", "target", "type", "count",
// "amount"}], "truncated", "facets": {"segments", "relationship_managers"}}; edge ends are node
// indices. b (may be NULL) supplies relationship managers and segments. shown (may be NULL)
// returns the book rows of the customers in the answer as hits (for the audit log; owned,
// app_result_free). PX_ENOENT without the wholesale book or for an unknown customer.
int app_graph_json(const struct app_rec *r, const struct app_book *b,
                   const struct app_graph_query *q, struct buf *out, struct app_result *shown,
                   struct px_err *err);

// Segment summaries from the book's integer column (prospect segment): {"column", "customers",
// "unassigned", "segments": [{"segment", "size", "share", "traits": [{"column", "label", "text",
// "score"}]}]}; traits as prospect segment prints them (numbers: segment mean vs the book's in
// standard deviations; categories: the most common value's share vs the book's). PX_ENOENT when
// the book has no such column.
int app_segments_json(const struct app_book *b, const char *column, struct buf *out,
                      struct px_err *err);
// The same summary of segments given in memory (k-means' answer before or without storing it):
// customer ids[i] is in segment[i] (1..LIMIT_KMEANS_K; n_ids of each); book rows not listed are
// unassigned, ids not in the book are skipped. column names the summary and, when the book has
// it, is left out of the traits. PX_EINVAL for a segment out of range.
int app_segments_assign_json(const struct app_book *b, const char *column, const char *const *ids,
                             const int *segment, size_t n_ids, struct buf *out, struct px_err *err);

#endif
