// propmodel.h — propensity models in the model registry (src/registry): kind "propensity".
//
// A version directory <root>/<name>/<version>/ (versions, stages, lock: registry.h) holds
//   MLmodel        MLflow YAML: flavors.prospect {kind: propensity, model, run, target,
//                  threshold, ...}, signature inputs = the source columns the model scores
//   manifest.json  kind, and the size and sha256 of every other file (bundle.h)
//   model.json     XGBoost JSON model (XGBoosterSaveModelToBuffer)
//   heldout.csv    "line,score": each training row's calibrated score from a model that never
//                  saw its label (out-of-fold, or the final model's for the test split), so a
//                  potential list on the training file is never scored by the model that
//                  learned its labels (absent in versions written before it)
//   run.json       run record: format, parameters, data sha256, target, features (type, one-hot
//                  level, min/max, gain), notes, threshold, metrics per fold / cv / test,
//                  artifacts (model.json's sha256), the grid searched and its winner, the
//                  calibration (isotonic knots, Brier, reliability); the version is the
//                  directory's. A load sets the calibration on the classifier, so every
//                  prediction through it is calibrated.
// A save fills a staging directory, seals it and publishes it through the registry (next
// version under the lock, RENAME_NOREPLACE); nothing is left on failure. A load verifies every
// file against the manifest and refuses a name that holds another kind.
// References: "NAME" (the production stage, else the newest), "NAME/VERSION", "NAME@VERSION",
// "NAME@STAGE". Names: registry names (bundle_check_name).
#ifndef PX_KINDS_PROPMODEL_H
#define PX_KINDS_PROPMODEL_H

#include <stddef.h>

#include "classifier.h"
#include "dataset.h"
#include "err.h"
#include "experiment.h"
#include "limits.h"

#define PROPMODEL_FORMAT "prospect-run"
#define PROPMODEL_FORMAT_VERSION 1

struct propmodel_save_info {
    const char *data_path;   // borrowed: the training CSV
    const char *data_sha256; // borrowed: its hex digest
    size_t n_rows;
    size_t n_pos;
    const size_t *lines;   // borrowed: (n_rows) each row's CSV line, or NULL: no held-out file
    const float *heldout;  // borrowed: (n_rows) ml_experiment.heldout (NaN: none)
};

// Saves the experiment's final model and run record as the next version of name. Returns the
// version in *version. Nothing is left behind on failure.
int propmodel_save(const char *root, const char *name, const struct ml_spec *spec,
                  const struct ml_experiment_params *params, const struct ml_experiment *e,
                  const struct propmodel_save_info *info, int *version, struct px_err *err);

// A loaded model: the classifier, the feature spec and the threshold.
struct propmodel_model {
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    int version;
    struct ml_spec spec;         // owned
    struct ml_classifier *model; // owned
    double threshold;            // on calibrated scores when cal has knots
    struct ml_calibration cal;   // owned: run.json's calibration map (n == 0: none, an old record)
    char data_sha256[65];        // the training CSV's (run.json data.sha256; "" unknown)
    size_t n_heldout;            // heldout.csv rows (0: none)
    size_t *heldout_line;        // owned: (n_heldout) CSV lines, increasing
    float *heldout_score;        // owned: (n_heldout)
    char dir[LIMIT_PATH]; // the version's directory
};

// Loads a reference (above) from root; n_threads for prediction. Returns owned *out
// (propmodel_model_free). Checks every file against the manifest (errors "NAME/V: model.json:
// sha256 mismatch (…)"), run.json's format and version, and model.json's sha256 in the record.
int propmodel_load(const char *root, const char *ref, int n_threads, struct propmodel_model *out,
                  struct px_err *err);
void propmodel_model_free(struct propmodel_model *m);

// What propmodel_load reads from a parsed run.json (public for tests/fuzz/fuzz_runs.c): the
// format and version, the feature spec (owned *spec, ml_spec_free; zeroed after a failure),
// the threshold (finite) and model.json's sha256 from artifacts[0] (*model_sha256, borrowed
// from rec; NULL when the record names none). PX_EFORMAT starts with "run.json: ".
struct cJSON;
int propmodel_record_read(const struct cJSON *rec, struct ml_spec *spec, double *threshold,
                          const char **model_sha256, struct px_err *err);

// One run as listed.
struct propmodel_run {
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    int version;
    char created[32]; // ISO 8601 UTC
    double threshold;
    double cv[5];   // auc_roc, auc_pr, precision, recall, f1 (pooled out-of-fold)
    double test[5]; // the same on the test split
};

// Metric names in the order of propmodel_run.cv / .test; index of a name or -1.
int propmodel_metric_index(const char *metric);
extern const char *const propmodel_metric_names[5];

// Lists every propensity version (of name, or of all names when NULL; names of other kinds are
// left out) sorted by name then version. Returns owned *runs (px_free). A version whose
// manifest or run.json does not parse is skipped (*n_bad counts it).
int propmodel_list(const char *root, const char *name, struct propmodel_run **runs, size_t *n,
                  size_t *n_bad, struct px_err *err);

#endif
