// runstore.h — trained models on disk until the shared model registry (src/registry, branch
// `bundle`) lands; everything about the layout is in this one module so it can be switched over.
//
// Layout under a root directory (--registry, default ./registry):
//   <root>/<name>/<version>/model.json   XGBoost JSON model (XGBoosterSaveModelToBuffer)
//   <root>/<name>/<version>/run.json     run record: format, parameters, data sha256, target,
//                                        features (type, one-hot level, min/max, gain), notes,
//                                        threshold, metrics per fold / cv / test, artifacts
// Versions are 1, 2, ... per name. A save writes both files into <root>/<name>/.tmp-<pid>-<n>/
// (each fsynced), then renames that directory to the next free version: a reader sees a whole
// version or none, and a failed save leaves no version behind.
// Names: 1..64 bytes of [A-Za-z0-9._-], not starting with '.'.
#ifndef PX_ML_RUNSTORE_H
#define PX_ML_RUNSTORE_H

#include <stddef.h>

#include "classifier.h"
#include "dataset.h"
#include "err.h"
#include "experiment.h"

#define RUNSTORE_FORMAT "prospect-run"
#define RUNSTORE_FORMAT_VERSION 1

struct runstore_save_info {
    const char *data_path;   // borrowed: the training CSV
    const char *data_sha256; // borrowed: its hex digest
    size_t n_rows;
    size_t n_pos;
};

// Saves the experiment's final model and run record as the next version of name. Returns the
// version in *version. Nothing is left behind on failure.
int runstore_save(const char *root, const char *name, const struct ml_spec *spec,
                  const struct ml_experiment_params *params, const struct ml_experiment *e,
                  const struct runstore_save_info *info, int *version, struct px_err *err);

// A loaded model: the classifier, the feature spec and the threshold.
struct runstore_model {
    char name[80];
    int version;
    struct ml_spec spec;         // owned
    struct ml_classifier *model; // owned
    double threshold;
    char dir[4096]; // the version's directory
};

// Loads "NAME" (the newest version) or "NAME/VERSION" from root; n_threads for prediction.
// Returns owned *out (runstore_model_free). Checks run.json's format and version, and that
// model.json's sha256 matches the record.
int runstore_load(const char *root, const char *ref, int n_threads, struct runstore_model *out,
                  struct px_err *err);
void runstore_model_free(struct runstore_model *m);

// One run as listed.
struct runstore_run {
    char name[80];
    int version;
    char created[32]; // ISO 8601 UTC
    double threshold;
    double cv[5];   // auc_roc, auc_pr, precision, recall, f1 (pooled out-of-fold)
    double test[5]; // the same on the test split
};

// Metric names in the order of runstore_run.cv / .test; index of a name or -1.
int runstore_metric_index(const char *metric);
extern const char *const runstore_metric_names[5];

// Lists every version (of name, or of all names when NULL) sorted by name then version.
// Returns owned *runs (px_free). A run.json that does not parse is skipped (*n_bad counts it).
int runstore_list(const char *root, const char *name, struct runstore_run **runs, size_t *n,
                  size_t *n_bad, struct px_err *err);

#endif
