// app_prop.h — propensity models: train, score, explain, look-alikes, tipping points, their
// JSON answers and the HTTP routes' cache (app/propensity.c, propensity_json.c, propcache.c).
#ifndef PX_APP_PROP_H
#define PX_APP_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "dataset.h"
#include "experiment.h"
#include "explain.h"
#include "lookalike.h"
#include "propmodel.h"

// ---- propensity models (app/propensity.c, app/propensity_json.c) ----
//
// Train, score, explain, look-alikes and tipping points over src/ml for both front ends. A model
// is named "NAME" (the production stage, else its newest version), "NAME/VERSION",
// "NAME@VERSION" (the URL form, since a path segment cannot hold '/') or "NAME@STAGE"; models
// are versions of kind "propensity" in the registry (propmodel.h). The JSON builders are what the HTTP routes answer (README,
// "Propensity API"); ARCHITECTURE.md has the run record.



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
// (propmodel_model_free).
int app_prop_load(const char *registry, const char *ref, int n_threads, struct propmodel_model *out,
                  struct px_err *err);
// Reads a CSV (path) through the model's spec; the target is needed for look-alikes and
// tipping. Returns owned *ds (ml_dataset_free).
int app_prop_data(const struct propmodel_model *m, const char *csv, bool need_target,
                  struct ml_dataset *ds, struct px_err *err);
// JSON rows -> a data set: {"rows": [{"<column>": value, ...}, ...]} or a bare array of such
// objects (at most LIMIT_PROP_ROWS). Keys must be the model's columns (its features' source
// columns, the id column or the target); numbers, strings, booleans and null (missing) are
// accepted. Errors name the row (0-based) and key.
int app_prop_rows_json(const struct propmodel_model *m, const char *body, size_t len,
                       struct ml_dataset *ds, struct px_err *err);
// prob: (ds->n_rows) probabilities.
int app_prop_score(const struct propmodel_model *m, const struct ml_dataset *ds, float *prob,
                   struct px_err *err);
// SHAP for every row of ds. Returns owned *e (ml_explanation_free).
int app_prop_explain(const struct propmodel_model *m, const struct ml_dataset *ds,
                     struct ml_explanation *e, struct px_err *err);
// The row's tipping feature: the largest |SHAP| among features that can be stepped (not one-hot
// levels), or SIZE_MAX when there is none.
size_t app_prop_tipping_feature(const struct propmodel_model *m, const struct ml_explanation *e,
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
int app_prop_lookalike(const struct propmodel_model *m, const char *csv,
                       const struct ml_dataset *ds, const struct ml_explanation *e,
                       const struct app_look_params *p, struct app_look *out, struct px_err *err);
void app_look_free(struct app_look *l);
// The profile text of every row of the CSV at path through the model's columns, in ds's row
// order. texts: (ds->n_rows) returns owned strings (free each and the array with px_free).
int app_prop_profile_texts(const struct propmodel_model *m, const char *csv,
                           const struct ml_dataset *ds, char ***texts, struct px_err *err);

// ---- JSON answers (app/propensity_json.c), appended to out ----
// {"models": [{"id": "NAME@V", "name", "version", "created", "threshold", "cv": {...}, "test":
// {...}}], "skipped": N}
int app_prop_runs_json(const char *registry, struct buf *out, struct px_err *err);
// The run record (run.json) with "id" added.
int app_prop_run_json(const char *registry, const char *ref, struct buf *out, struct px_err *err);
// {"model", "version", "threshold", "rows": [{"row", "id", "probability", "label"}]}
int app_prop_score_json(const struct propmodel_model *m, const struct ml_dataset *ds,
                        const float *prob, struct buf *out, struct px_err *err);
// {"model", "version", "threshold", "n_rows", "global": [{"feature", "mean_abs_shap"}] (largest
// first), "dependence": [{"feature", "points": [[value, shap], ...]}] (value null when missing),
// "rows": [{"id", "probability", "label", "tipping_feature", "top": [{"feature", "value",
// "shap"}]}] (the n_rows rows of highest probability), "potential": [{"id", "probability",
// "tipping_feature"}] (negatives at or above the threshold, by probability, at most n_rows)}
int app_prop_explain_json(const struct propmodel_model *m, const struct ml_dataset *ds,
                          const struct ml_explanation *e, const char *const *dep, size_t n_dep,
                          size_t n_rows, struct buf *out, struct px_err *err);
// {"model", "version", "threshold", "vectors", "text_vectors", "list_a": [{"id", "probability",
// "distance", "near", "tipping_feature"[, "from", "to", "change", "new_probability",
// "tipped"]}], "list_b": [...][, "summary": {"a": {"rows", "tipped", "avg_change"}, "b": ...}]}
int app_prop_look_json(const struct propmodel_model *m, const struct ml_dataset *ds,
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
const struct propmodel_model *app_prop_handle_model(const struct app_prop_handle *h);
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

#endif
