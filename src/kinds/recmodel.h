// recmodel.h — trained recommenders in the model registry (src/registry): kind "recommender".
//
// A version directory <root>/<name>/<version>/ (versions, stages, lock: registry.h) holds
//   MLmodel           MLflow YAML: flavors.prospect {kind: recommender, model, customers, ...}
//   manifest.json     kind, and the size and sha256 of every other file (bundle.h)
//   recommender.json  format "prospect-recommender", format_version, name, created, sizes,
//                     parameters, the data files' sha256, the report (GAT / popularity / MF
//                     metrics, lift), and model.bin's bytes and sha256
//   model.bin         magic "PXRECMD1", u32 format version, u32 dim, u64 customers, u64
//                     products; then per customer and per product: u32 length + id bytes, u32
//                     length + label bytes; float32 embeddings ((customers + products), dim);
//                     u32 held_ptr (customers + 1); u32 held products (held_ptr[customers]).
//                     Little-endian.
// A save fills a staging directory, seals it and publishes it through the registry; nothing is
// left on failure. A load verifies every file against the manifest, refuses a name that holds
// another kind, then checks every length and index in model.bin.
#ifndef PX_KINDS_RECMODEL_H
#define PX_KINDS_RECMODEL_H

#include "err.h"
#include "recommender.h"

#define RECMODEL_FORMAT "prospect-recommender"
#define RECMODEL_FORMAT_VERSION 1

struct recmodel_info {
    const char *data[3];             // borrowed: customers, products, transactions CSV paths
    const char *sha256[3];           // borrowed: their hex digests
    const struct rec_params *params; // borrowed
};

// Saves m as the next version of name; *version returns it. Nothing is left on failure.
int recmodel_save(const char *root, const char *name, const struct rec_model *m,
                   const struct recmodel_info *info, int *version, struct px_err *err);
// Loads "NAME" (the production stage, else the newest version), "NAME/VERSION" or
// "NAME@STAGE". Returns owned *m (rec_model_free); the report's metrics are read back from
// recommender.json. *version returns the version loaded. Errors name the version and file:
// "rec/2: model.bin: sha256 mismatch (…)".
int recmodel_load(const char *root, const char *ref, struct rec_model *m, int *version,
                   struct px_err *err);

// The two readers recmodel_load runs after the manifest check, public for the fuzz target
// (tests/fuzz/fuzz_runs.c). recmodel_decode: n bytes of model.bin (what names it in errors)
// into owned *m (rec_model_free; zeroed after a failure), every length and index checked; not
// yet indexed (rec_model_index). recmodel_info_read: recommender.json's format and version,
// model.bin's sha256 (*sha256, borrowed from man) and the report's metrics (zeroed first).
int recmodel_decode(const void *bin, size_t n, const char *what, struct rec_model *m,
                    struct px_err *err);
struct cJSON;
int recmodel_info_read(const struct cJSON *man, const char **sha256, struct rec_report *report,
                       struct px_err *err);

#endif
