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
// them, the vectors for the dense path. Read-only afterwards; app_book_search calls on one book
// must not run concurrently (the embedder context is shared).

struct app_book;

struct app_book_params {
    const char *db_path;      // default "prospect.db"
    const char *model_flag;   // --model, or NULL for the usual lookup
    const char *lexicon_path; // a user lexicon merged over the built-in one, or NULL
    int n_threads;            // default 1
    const char *template_path; // profile-text template (as given to app_index), or NULL
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

// One version of a registered bundle, as listed.
struct app_bundle_entry {
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    int version;
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
    char *info;      // owned: bundle.json text
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

#endif
