// app_prop.h — propensity models for the front ends: train, load, score, explain, look-alikes,
// tipping points and the list of runs (app/propensity.c, propensity_json.c, propcache.c).
//
// Every answer is an opaque handle with two readings of the same data: a view (a plain struct of
// C types, for the CLI's table and CSV) and the JSON document the HTTP routes return (README,
// "Propensity API"), which is also what the CLI prints for --format json. Nothing from src/ml or
// src/kinds shows here. A model is named "NAME" (the production stage, else its newest version),
// "NAME/VERSION", "NAME@VERSION" (the URL form: a path segment cannot hold '/') or "NAME@STAGE";
// models are versions of kind "propensity" in the registry (kinds/propmodel.h). Views and the
// strings in them are borrowed from their handle (and the model and data it was made from) and
// valid until that handle is freed. ARCHITECTURE.md has the run record.
#ifndef PX_APP_PROP_H
#define PX_APP_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_common.h"
#include "buf.h"
#include "err.h"

// ---- metrics and models ----

// The five metrics of a run, in the order of app_prop_run.cv / .test.
enum { APP_PROP_N_METRICS = 5 };
extern const char *const app_prop_metric_names[APP_PROP_N_METRICS]; // auc_roc, auc_pr, precision,
                                                                     // recall, f1
// Index of a metric name in app_prop_metric_names, or -1.
int app_prop_metric_index(const char *metric);
// What `prospect runs best` ranks by when no metric is given: the test split's AUC-ROC, the
// threshold-free ranking quality a data scientist compares binary propensity models by.
#define APP_PROP_DEFAULT_METRIC "auc_roc"

struct app_prop_metrics {
    double auc_roc, auc_pr;           // NaN when undefined (a single class)
    double precision, recall, f1;     // at threshold
    double threshold;
    size_t rows, positives;           // rows with a label, positives among them
    size_t tp, fp, tn, fn;            // confusion matrix at threshold
    int rounds;                       // boosting rounds kept (folds, test); 0 for the pooled cv
};

struct app_prop_model; // a loaded model: classifier, feature spec, threshold; immutable

struct app_prop_info {
    const char *name;          // registry name
    int version;
    const char *id;            // "NAME@VERSION"
    double threshold;          // label 1 at or above
    const char *target;        // target column
    const char *positive;      // its positive value as written ("1" for a yes/no column)
    const char *negative;      // the other value
    const char *id_column;     // the row-id column, NULL (rows are then named "line N")
    const char *const *features; // (n_features) feature names ("<column>=<level>" for one-hot)
    size_t n_features;
};

// Loads a model by reference (above) from registry (NULL or "": app_registry_dir(NULL)),
// checking every file against its manifest; n_threads for prediction. Returns owned *out
// (app_prop_model_free).
int app_prop_load(const char *registry, const char *ref, int n_threads,
                  struct app_prop_model **out, struct px_err *err);
void app_prop_model_free(struct app_prop_model *m);
// Borrowed from m.
const struct app_prop_info *app_prop_model_info(const struct app_prop_model *m);

// ---- training ----

// One feature alone reaching this AUC on the training rows gets a leakage warning (a note).
#define APP_LEAKAGE_AUC 0.98

struct app_train_params {
    const char *csv;          // borrowed: the training CSV (header row)
    const char *registry;     // borrowed: NULL for app_registry_dir(NULL)
    const char *name;         // borrowed: model name (a registry name)
    const char *target;       // borrowed: the binary target column
    const char *positive;     // borrowed: the positive class; NULL: a yes/no column's yes
    const char *const *drop;  // borrowed: (n_drop) columns to leave out
    size_t n_drop;
    int folds;                // stratified cross-validation folds, 2..20 (default 5)
    double target_recall;     // threshold for this out-of-fold recall with 95 % confidence
                              // (default 0.95) ...
    double min_precision;     // ... or, when > 0, the lowest threshold with this precision
    size_t top_k;             // ... or, when > 0, a budget: the threshold of the top_k most likely
    uint64_t seed;            // splits and XGBoost (default 42)
    int n_threads;            // XGBoost threads (default 2)
    int n_rounds;             // most boosting rounds (default 300; early stopping ends sooner)
};
struct app_train_params app_train_default_params(void);

struct app_prop_gain {
    const char *feature;
    double gain;  // the final model's average split gain on it
    double share; // of the total gain, 0..1
};

struct app_train_view {
    const char *name;           // model name
    int version;                // the version saved
    const char *id;             // "NAME@VERSION"
    const char *dir;            // the version's directory
    const char *data_sha256;    // of the CSV
    size_t n_rows, n_pos;       // training rows, positives among them
    const char *target, *positive;
    double threshold;
    double target_recall;       // the rule that chose the threshold: recall ...
    double min_precision;       // ... or, when > 0, precision
    size_t top_k;               // ... or, when > 0, a budget of this many rows
    // the grid search: cells tried, the winner's parameters and its pooled out-of-fold score
    size_t n_cells;
    const char *cv_metric;      // "auc_roc" or "auc_pr"
    double cv_score;
    double eta, min_child_weight;
    int max_depth, rounds;
    bool balanced;              // the winner weights positives by n_neg / n_pos
    // calibration (isotonic, out-of-fold): Brier score before / after, out-of-fold and test
    bool calibrated; // false: the cross-fitted isotonic map did not help, none is applied
    double brier_before, brier_after, test_brier_before, test_brier_after;
    const char *const *notes;   // (n_notes) what was left out of the features and why
    size_t n_notes;
    const struct app_prop_metrics *folds; // (n_folds) each fold at the threshold
    size_t n_folds;
    struct app_prop_metrics cv, test;     // pooled out-of-fold; the final model on the test split
    const struct app_prop_gain *gain;     // (n_features) largest first
    size_t n_features;
};

struct app_prop_trained;
// Builds the data set, runs the experiment and saves the next version of p->name. progress
// (may be NULL) counts folds + the final model. Returns owned *out (app_prop_trained_free).
int app_train(const struct app_train_params *p, app_progress_fn progress, void *user,
              struct app_prop_trained **out, struct px_err *err);
void app_prop_trained_free(struct app_prop_trained *t);
const struct app_train_view *app_prop_trained_view(const struct app_prop_trained *t);

// ---- data ----

struct app_prop_data; // rows read through a model's spec (+ their SHAP values once computed)

// Reads a CSV (path) through the model's spec: every feature's column must be present; the
// target is read when present (need_target: its absence is an error). Returns owned *out
// (app_prop_data_free).
int app_prop_data_csv(const struct app_prop_model *m, const char *csv, bool need_target,
                      struct app_prop_data **out, struct px_err *err);
// The same, reporting lines read (progress may be NULL): the slow step of `score` on a large file.
int app_prop_data_csv_progress(const struct app_prop_model *m, const char *csv,
                               bool need_target, app_progress_fn progress, void *user,
                               struct app_prop_data **out, struct px_err *err);
// JSON rows: {"rows": [{"<column>": value, ...}, ...]} or a bare array of such objects (at most
// LIMIT_PROP_ROWS). Keys must be the model's columns (its features' source columns, the id
// column or the target); numbers, strings, booleans and null (missing) are accepted and checked
// as a CSV field would be. Errors (PX_EINVAL, PX_EFORMAT) name the row (0-based) and key.
// Returns owned *out (app_prop_data_free).
int app_prop_data_json(const struct app_prop_model *m, const char *body, size_t len,
                       struct app_prop_data **out, struct px_err *err);
void app_prop_data_free(struct app_prop_data *d);
size_t app_prop_data_rows(const struct app_prop_data *d);
// Computes the SHAP values of d's rows with m (exact TreeSHAP, checked to add up to the margin),
// once; explanations and look-alikes need them.
int app_prop_data_shap(const struct app_prop_model *m, struct app_prop_data *d,
                       struct px_err *err);
// The same, reporting rows done (progress may be NULL): the slow step of explain, lookalike and
// tipping on large files.
int app_prop_data_shap_progress(const struct app_prop_model *m, struct app_prop_data *d,
                                app_progress_fn progress, void *user, struct px_err *err);
// The profile text of every row of the CSV at path through the model's columns (less the id and
// the target), in d's row order. texts: (rows) returns owned strings (free each and the array
// with px_free).
int app_prop_profile_texts(const struct app_prop_model *m, const char *csv,
                           const struct app_prop_data *d, char ***texts, struct px_err *err);

// ---- scores ----

struct app_score_params {
    bool potential; // only rows labelled negative that score at or above the threshold, highest
                    // probability first (needs the target); else every row in data order
    size_t top;     // at most this many rows (0: all)
};

struct app_reason; // a reason code (below, "scoring requests")

struct app_score_row {
    size_t row;         // index in the data
    size_t line;        // CSV line (JSON rows: row + 2)
    const char *id;     // the id column's value, NULL without one
    const char *name;   // id, else "line N"
    double probability;
    int label;          // 1 at or above the threshold
    int actual;         // the target: 1, 0, or -1 when absent or empty
    // after app_prop_scores_reasons (else NULL / 0):
    const struct app_reason *reasons; // (n_reasons) largest |SHAP| first
    size_t n_reasons;
};

struct app_score_view {
    const struct app_prop_info *model;
    bool has_target;   // the data carried the target column
    bool potential;    // as asked
    bool out_of_fold;  // the potential rows were ranked by held-out scores (the data is the
                       // model's training file: no row is scored by the model that saw its label)
    size_t n_data;     // rows scored
    size_t n_negatives; // of them labelled negative
    size_t n_matched;  // rows that qualified (all, or the potential ones) before top
    const struct app_score_row *rows; // (n_rows) the answer
    size_t n_rows;
    size_t reasons;    // reason codes asked per row (app_prop_scores_reasons), 0: none
    const char *const *notes; // (n_notes) what the request's reader said once (extra columns)
    size_t n_notes;
};

struct app_prop_scores;
// Scores d with m. Returns owned *out (app_prop_scores_free); borrows m and d.
int app_prop_score(const struct app_prop_model *m, const struct app_prop_data *d,
                   const struct app_score_params *p, struct app_prop_scores **out,
                   struct px_err *err);
void app_prop_scores_free(struct app_prop_scores *s);
const struct app_score_view *app_prop_scores_view(const struct app_prop_scores *s);
// {"model", "version", "id", "threshold", "potential", "n_data", "n_matched", "rows": [{"row",
// "id" (null without an id column), "line", "probability", "label"[, "actual" (null when
// empty)][, "to_threshold", "reasons": [{"feature", "value", "shap", "text"}]]}][, "notes":
// ["..."]]
int app_prop_scores_json(const struct app_prop_scores *s, struct buf *out, struct px_err *err);

// ---- scoring requests: input forms, the signature, reason codes (app/propinput.c,
// app/propscore.c) ----
//
// What POST /api/models/{id}/score and a propensity model's POST /invocations take (README,
// "Propensity API"), one reader for all forms. JSON:
//   {"dataframe_split": {"columns": [..], "data": [[..], ..][, "index": [..]]}}
//   {"dataframe_records": [{column: value, ..}, ..]}       also {"rows": [..]} or a bare [..]
//   {"instances": [{column: value, ..}, ..]}
//   {"inputs": {column: [value, ..], ..}}                  or {"inputs": [{column: value}, ..]}
//   with optional "params": {"reasons": N (0..APP_REASONS_MAX), "potential": bool, "top": N};
// or CSV text (a header row). The model's signature is enforced: every source column of its
// features must be given (in every record; a missing one is PX_EINVAL naming it and the row);
// null or an empty field is a missing value; a value that does not fit its column's type is
// PX_EINVAL naming the row (line), column and value; the id and the target columns are
// optional; other columns are ignored, and the answer's notes say so once.

enum { APP_REASONS_MAX = 20, APP_REASONS_DEFAULT = 3 };

struct app_prop_handle; // the routes' cache (below)

// A reason code: one feature's signed SHAP contribution to a row's score, phrased for a person.
struct app_reason {
    const char *feature; // the feature's name
    double value;        // its value (NaN: missing)
    double shap;         // its contribution to the score (log-odds): > 0 raises it
    const char *text;    // "Income $48k lowers the score by 1.20"
};

struct app_score_request {
    const char *body;   // borrowed: the request body
    size_t len;
    bool csv;           // CSV text (text/csv), else JSON in one of the forms above
    struct app_score_params score; // potential and top (params may change them)
    size_t reasons;     // reason codes per row, 0..APP_REASONS_MAX (params may change it)
};

// Reads a request's rows through m's signature (above). notes: owned lines for the answer
// (*n_notes of them; free each and the array with px_free). Returns owned *out
// (app_prop_data_free); rq's reasons, potential and top are updated from "params".
int app_prop_data_request(const struct app_prop_model *m, struct app_score_request *rq,
                          struct app_prop_data **out, char ***notes, size_t *n_notes,
                          struct px_err *err);
// Adds reason codes to every row of s (scored from d by m): the n (1..APP_REASONS_MAX) features
// of largest |SHAP| of each row, each phrased "<feature> <value> raises|lowers the score by
// <|SHAP|>"; the rows' to_threshold (probability - threshold) puts them beside the threshold.
int app_prop_scores_reasons(const struct app_prop_model *m, const struct app_prop_data *d,
                            struct app_prop_scores *s, size_t n, struct px_err *err);
// A row's probability minus the model's threshold (> 0: at or above it).
double app_prop_to_threshold(const struct app_score_view *v, const struct app_score_row *r);
// A whole request on the pinned model (its lock held for the classifier): read (above), score,
// reason codes, and the answer appended to out: app_prop_scores_json's document, or with
// mlflow MLflow's {"predictions": [{"id", "probability", "label", "to_threshold", "reasons"}],
// "model", "id", "threshold"[, "notes"]}.
int app_prop_handle_score_request(struct app_prop_handle *h, struct app_score_request *rq,
                                  bool mlflow, struct buf *out, struct px_err *err);
// The training CSV its run record names (data.file) into path (n bytes); PX_ENOENT when the
// record names none or that file is gone.
int app_prop_training_data(const struct app_prop_model *m, char *path, size_t n,
                           struct px_err *err);

// ---- explanations ----

enum { APP_EXPLAIN_TOP_MAX = 50 };

struct app_explain_params {
    const char *const *dependence; // borrowed: (n_dependence) features whose (value, SHAP) pairs
    size_t n_dependence;           //   are included, every row
    bool dependence_default;       // none given: the feature with the largest mean |SHAP|
    const char *const *ids;        // borrowed: (n_ids) explain these rows (by id), in this order
    size_t n_ids;
    size_t n_rows;                 // without ids: the n_rows rows of highest probability; 0:
                                   // every row in data order. Also bounds the potential list.
    size_t top;                    // features per row, 1..APP_EXPLAIN_TOP_MAX (default 5)
};
struct app_explain_params app_explain_default_params(void);

struct app_contrib {
    const char *feature;
    double value;  // the feature's value (NaN: missing)
    double shap;   // its SHAP value (log-odds)
    bool tipping;  // the row's tipping feature
};

struct app_explain_row {
    size_t row, line;
    const char *name;           // id, else "line N"
    double probability, margin, bias; // margin = bias + the SHAP values (log-odds)
    int label;
    const char *tipping_feature; // largest |SHAP| among features that can be stepped (not
                                 // one-hot levels); NULL: none
    const struct app_contrib *top; // (n_top) largest |SHAP| first
    size_t n_top;
};

struct app_feature_weight {
    const char *feature;
    double mean_abs_shap;
};

struct app_dependence {
    const char *feature;
    const double *value, *shap; // (n) per row in data order; value NaN: missing
    const size_t *line;         // (n) CSV line of each
    size_t n;
};

struct app_explain_view {
    const struct app_prop_info *model;
    size_t n_data;                         // rows explained
    double max_sum_diff;                   // max |sum of SHAP - margin| over the rows
    const struct app_feature_weight *global; // (n_global) mean |SHAP|, largest first
    size_t n_global;
    const struct app_dependence *dependence; // (n_dependence)
    size_t n_dependence;
    const struct app_explain_row *rows;    // (n_rows)
    size_t n_rows;
    const struct app_explain_row *potential; // (n_potential) negatives at or above the threshold
    size_t n_potential;                      //   by probability (their n_top is 0)
    size_t n_potential_all; // how many there are in all (score --potential's count)
};

struct app_prop_explained;
// Explains d (app_prop_data_shap done) with m: an unknown feature or id is PX_EINVAL naming it.
// Returns owned *out (app_prop_explained_free); borrows m and d.
int app_prop_explain(const struct app_prop_model *m, const struct app_prop_data *d,
                     const struct app_explain_params *p, struct app_prop_explained **out,
                     struct px_err *err);
void app_prop_explained_free(struct app_prop_explained *x);
const struct app_explain_view *app_prop_explained_view(const struct app_prop_explained *x);
// {"model", "version", "id", "threshold", "n_rows", "max_sum_diff", "global": [{"feature",
// "mean_abs_shap"}], "dependence": [{"feature", "points": [[value, shap], ...]}] (value null
// when missing), "rows": [{"id", "line", "probability", "label", "margin", "bias",
// "tipping_feature", "top": [{"feature", "value", "shap"}]}], "potential": [{"id", "line",
// "probability", "tipping_feature"}], "n_potential" (how many in all; the list is bounded)}
int app_prop_explained_json(const struct app_prop_explained *x, struct buf *out,
                            struct px_err *err);

// ---- look-alikes and tipping points ----

enum app_vectors {
    APP_VECTORS_AUTO = 0,     // profile-text embeddings when the weights are present, else features
    APP_VECTORS_TEXT = 1,     // profile-text embeddings, or fail
    APP_VECTORS_FEATURES = 2, // standardised model features
};
// Parses "auto" / "text" / "features"; false on anything else.
bool app_vectors_parse(const char *s, enum app_vectors *out);

struct app_look_params {
    size_t k;                        // nearest negatives per positive (default 1)
    const char *const *features;     // borrowed: (n_features) the features that may change: a
    size_t n_features;               //   row's tipping feature is the largest |SHAP| among them
                                     //   (0: every numeric feature but the age-like and fixed
                                     //   ones, decided from the data: app_look_view.fixed)
    size_t top;                      // List A at most this long (0: no limit)
    bool tipping;                    // also step each row's tipping feature
    double real_step;                // step of real features (NAN: (max - min) / 100)
    enum app_vectors vectors;        // default APP_VECTORS_AUTO
    const char *embedder;            // borrowed: sentence-transformer directory, NULL: the lookup
    int n_threads;                   // encoder threads (default 1)
};
struct app_look_params app_look_default_params(void);

struct app_look_entry {
    size_t row;
    const char *name;            // id, else "line N"
    double probability;
    double dist;                 // List A: distance to the nearest positive; List B: NaN
    const char *near;            // List A: that positive's name; List B: NULL
    const char *tipping_feature; // NULL: none
    bool above;                  // already at or above the threshold: not stepped, not counted
    // with tipping and a tipping feature (and not above):
    bool tipped;                 // the probability reached the threshold
    double from, to;             // the feature's start and tipping (or last) value; NaN: none
    double new_probability;      // at `to`; NaN: none
};

// Tipping summed over the rows of one list whose tipping feature is the same (one unit).
struct app_tip_feature {
    const char *feature;
    const char *type;  // the source column's type ("integer", "currency", "percent", ...)
    size_t rows;       // rows below the threshold with this tipping feature
    size_t tipped;     // of them, rows that tip
    double avg_change; // their average change in the feature's own unit (NaN when none tip)
};

struct app_look_view {
    const struct app_prop_info *model;
    size_t k;
    bool tipping;
    bool text_vectors;           // the sentence-transformer embedded profile texts
    const char *vectors;         // what the vectors were, and why (said in every output)
    const struct app_look_entry *a, *b; // List A (look-alikes), List B (by probability)
    size_t n_a, n_b;
    size_t tipped_a, tipped_b;   // with tipping: rows that tip
    double avg_a, avg_b;         // and their average change: NaN when none, or when the rows
                                 // tipped on more than one feature (units differ: by_feature)
    const char *fixed;           // the features held fixed and why ("" when --features)
    const struct app_tip_feature *by_a, *by_b; // with tipping: per tipping feature, by rows
    size_t n_by_a, n_by_b;
};

struct app_prop_look;
// List A: for every positive row of d its k nearest negatives (de-duplicated, by distance);
// List B: the negatives ranked by probability, as many as List A. Vectors: each row rendered to
// profile text (text/rowtext.h, labels from the column names, the model's columns less the id
// and the target) embedded by the sentence-transformer, or the standardised features (see
// app_look_params.vectors); the view's vectors says which. d: read from csv (with the target)
// and app_prop_data_shap done. Returns owned *out (app_prop_look_free); borrows m and d.
int app_prop_lookalike(const struct app_prop_model *m, const char *csv,
                       const struct app_prop_data *d, const struct app_look_params *p,
                       struct app_prop_look **out, struct px_err *err);
void app_prop_look_free(struct app_prop_look *l);
const struct app_look_view *app_prop_look_view(const struct app_prop_look *l);
// {"model", "version", "id", "threshold", "k", "vectors", "text_vectors", "list_a": [{"id",
// "probability", "distance", "near", "tipping_feature"[, "from", "to", "change",
// "new_probability", "tipped"]}], "list_b": [...][, "summary": {"a": {"rows", "tipped",
// "avg_change"}, "b": ...}]}
int app_prop_look_json(const struct app_prop_look *l, struct buf *out, struct px_err *err);

// ---- runs ----

struct app_prop_run {
    const char *name;
    int version;
    const char *id;      // "NAME@VERSION"
    const char *created; // ISO 8601 UTC
    double threshold;
    double cv[APP_PROP_N_METRICS];   // pooled out-of-fold (app_prop_metric_names order)
    double test[APP_PROP_N_METRICS]; // the test split
};

struct app_runs_view {
    const char *registry;            // the root listed
    const struct app_prop_run *runs; // (n) by name, then version
    size_t n;
    size_t skipped;                  // versions whose records do not read
    const char *metric, *split;      // after app_prop_runs_best: what it ranked by; else NULL
};

struct app_prop_runs;
// Lists every propensity version in registry (NULL: the default), of name (NULL: all names).
// Returns owned *out (app_prop_runs_free).
int app_prop_runs_list(const char *registry, const char *name, struct app_prop_runs **out,
                       struct px_err *err);
// Keeps only the run with the highest metric (NULL: APP_PROP_DEFAULT_METRIC) on split ("test"
// or "cv"; NULL: test); ties go to the newest. PX_EINVAL for an unknown metric or split,
// PX_ENOENT when no run has that figure.
int app_prop_runs_best(struct app_prop_runs *r, const char *metric, const char *split,
                       struct px_err *err);
void app_prop_runs_free(struct app_prop_runs *r);
const struct app_runs_view *app_prop_runs_view(const struct app_prop_runs *r);
// {"models": [{"id", "name", "version", "created", "threshold", "cv": {...}, "test": {...}}],
// "skipped": N[, "best": {"metric", "split"}]}
int app_prop_runs_json(const struct app_prop_runs *r, struct buf *out, struct px_err *err);
// The run record (run.json) of ref with "id" and "version" (the registry's number) added.
int app_prop_run_json(const char *registry, const char *ref, struct buf *out, struct px_err *err);

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
// Borrowed until release.
const struct app_prop_model *app_prop_handle_model(const struct app_prop_handle *h);
// The CSV at path read through the model's spec (as app_prop_data_csv; need_target: fail
// without the target column), with its SHAP values when shap; borrowed until release.
int app_prop_handle_data(struct app_prop_handle *h, const char *csv, bool need_target, bool shap,
                         const struct app_prop_data **d, struct px_err *err);
// JSON rows (app_prop_data_json) scored with the model's lock held, the answer appended to out
// as app_prop_scores_json writes it (every row, in order).
int app_prop_handle_score_json(struct app_prop_handle *h, const char *body, size_t len,
                               struct buf *out, struct px_err *err);
// app_prop_lookalike on the data of the last app_prop_handle_data (with shap) of csv, the
// profile-text vectors taken from the cache. Returns owned *out (app_prop_look_free, before
// release).
int app_prop_handle_lookalike(struct app_prop_handle *h, const char *csv,
                              const struct app_look_params *p, struct app_prop_look **out,
                              struct px_err *err);

#endif
