// propensity_int.h — the insides of the propensity handles (app_prop.h), shared by
// propensity.c (the calls), propensity_json.c (the answers) and propcache.c (the routes'
// cache) only; front ends see the opaque handles.
#ifndef PX_APP_PROPENSITY_INT_H
#define PX_APP_PROPENSITY_INT_H

#include <pthread.h>

#include "app_prop.h"
#include "dataset.h"
#include "experiment.h"
#include "explain.h"
#include "propmodel.h"

struct app_prop_model {
    struct propmodel_model pm;
    char id[LIMIT_BUNDLE_NAME_BYTES + 16]; // "NAME@VERSION"
    const char **features;                 // (n_features) borrowed from pm.spec
    struct app_prop_info info;             // points into pm and the above
};

struct app_prop_data {
    struct ml_dataset ds;
    char **names;            // (ds.n_rows) row names: ds.id's strings, else into name_block
    char *name_block;        // owned: "line N" of every row (used where a row has no id)
    bool has_shap;
    struct ml_explanation e; // when has_shap
    float *heldout;          // owned: (ds.n_rows) when the data is the model's training file
                             // (same sha256): each row's score from a model that never saw its
                             // label (heldout.csv; NaN: none), else NULL
};

// The score a potential list ranks row r by: its held-out score when d has one, else model_p.
float app_prop_potential_score(const struct app_prop_data *d, size_t r, float model_p);

// Loads ref from the registry root (a directory; never NULL). Returns owned *out.
int app_prop_model_open(const char *root, const char *ref, int n_threads,
                        struct app_prop_model **out, struct px_err *err);
// Wraps a data set read through m's spec: takes ownership of *ds (emptied, also on failure).
int app_prop_data_wrap(struct ml_dataset *ds, struct app_prop_data **out, struct px_err *err);
// app_prop_score without the answer: prob (d rows) probabilities, under model_lock when not NULL.
int app_prop_predict(const struct app_prop_model *m, const struct app_prop_data *d, float *prob,
                     pthread_mutex_t *model_lock, struct px_err *err);
// The score answer from probabilities (takes ownership of prob, also on failure).
int app_prop_scores_make(const struct app_prop_model *m, const struct app_prop_data *d,
                         float *prob, const struct app_score_params *p,
                         struct app_prop_scores **out, struct px_err *err);

// Embeds the profile texts of d's rows (app_prop_profile_texts) with the sentence-transformer
// of p->embedder into *vec (rows, *dim; returns owned, px_free); dir (n_dir bytes) receives
// the model directory. On missing weights returns that status with err saying why.
int app_prop_text_vectors(const struct app_prop_model *m, const char *csv,
                          const struct app_prop_data *d, const struct app_look_params *p,
                          float **vec, size_t *dim, char *dir, size_t n_dir, struct px_err *err);

// Appends to out what the profile text of a row depends on in the spec: the profile columns
// (name and type, in order) that app_prop_profile_texts renders.
int app_prop_profile_key(const struct ml_spec *s, struct buf *out, struct px_err *err);

// Supplies the profile-text vectors of d's rows instead of app_prop_text_vectors: *vec is
// borrowed and must stay valid until the look-alike call returns. Same failure contract.
typedef int (*app_look_vectors_fn)(void *user, const struct app_prop_model *m, const char *csv,
                                   const struct app_prop_data *d, const struct app_look_params *p,
                                   const float **vec, size_t *dim, char *dir, size_t n_dir,
                                   struct px_err *err);

// app_prop_lookalike with the vectors from vectors(user, ...) when not NULL, and model_lock
// (may be NULL) held around every use of the classifier.
int app_prop_lookalike_with(const struct app_prop_model *m, const char *csv,
                            const struct app_prop_data *d, const struct app_look_params *p,
                            app_look_vectors_fn vectors, void *user, pthread_mutex_t *model_lock,
                            struct app_prop_look **out, struct px_err *err);

// The tipping feature of row r: the largest |SHAP| among features that can be stepped (not
// one-hot levels), or SIZE_MAX when there is none. d->has_shap.
size_t app_prop_tipping_feature(const struct app_prop_model *m, const struct app_prop_data *d,
                                size_t r);

// ---- the answers' insides (built in propensity.c, written as JSON in propensity_json.c) ----

struct app_prop_trained {
    struct ml_spec spec;    // owned
    struct ml_dataset ds;   // owned
    struct ml_experiment e; // owned
    struct ml_experiment_params exp;
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    char id[LIMIT_BUNDLE_NAME_BYTES + 16];
    char dir[LIMIT_PATH];
    char sha256[65];
    struct app_prop_metrics *folds; // owned (n_folds)
    struct app_prop_gain *gain;     // owned (n_features)
    struct app_train_view v;
};

struct app_prop_scores {
    const struct app_prop_model *m; // borrowed
    struct app_score_row *rows;     // owned (v.n_rows)
    struct app_reason *reasons;     // owned (v.n_rows * v.reasons), app_prop_scores_reasons
    char *reason_text;              // owned: their texts
    char **notes;                   // owned (v.n_notes) with each string
    struct app_score_view v;
};

// app_prop_scores_reasons with model_lock (may be NULL) held around the classifier.
int app_prop_scores_reasons_locked(const struct app_prop_model *m, const struct app_prop_data *d,
                                   struct app_prop_scores *s, size_t n,
                                   pthread_mutex_t *model_lock, struct px_err *err);
// Appends a scored row's ', "to_threshold": x, "reasons": [..]' (nothing without reasons) and
// a view's ', "notes": [..]' (nothing without notes) to an object being written (propscore.c).
int app_prop_reasons_put(struct buf *b, const struct app_score_view *v,
                         const struct app_score_row *r, struct px_err *err);
int app_prop_notes_put(struct buf *b, const struct app_score_view *v, struct px_err *err);
// The pinned model's classifier lock (propcache.c).
pthread_mutex_t *app_prop_handle_lock(struct app_prop_handle *h);

struct app_prop_explained {
    const struct app_prop_model *m;   // borrowed
    struct app_feature_weight *global; // owned (n_features)
    struct app_dependence *dep;        // owned (n_dep)
    double *dep_values;                // owned (n_dep * rows * 2): values then SHAP per feature
    struct app_explain_row *rows;      // owned (rows shown + potential)
    struct app_contrib *contribs;      // owned (rows shown * top)
    struct app_explain_view v;
};

struct app_prop_look {
    struct app_look_entry *a, *b; // owned
    struct app_tip_feature *by_a, *by_b; // owned: per-feature tipping summaries
    char vectors[512];
    char fixed[1024]; // the features held fixed and why
    struct app_look_view v;
};

struct app_prop_runs {
    char registry[LIMIT_PATH];
    struct propmodel_run *raw;  // owned (n)
    struct app_prop_run *runs;  // owned (n), pointing into raw
    char (*ids)[LIMIT_BUNDLE_NAME_BYTES + 16]; // owned (n)
    char metric[16], split[8];
    struct app_runs_view v;
};

#endif
