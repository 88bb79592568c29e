// recbundle.h — trained recommenders on disk, versioned, until the shared model registry
// (src/registry) lands; everything about the layout is in this one module so it can be switched
// over.
//
// Layout under a root directory (--registry, default ./registry):
//   <root>/<name>/<version>/manifest.json  format "prospect-recommender", format_version,
//                                          name, version, created, sizes, parameters, the data
//                                          files' sha256, the report (GAT / popularity / MF
//                                          metrics, lift), and model.bin's bytes and sha256
//   <root>/<name>/<version>/model.bin      magic "PXRECMD1", u32 format version, u32 dim,
//                                          u64 customers, u64 products; then per customer and per
//                                          product: u32 length + id bytes, u32 length + label
//                                          bytes; float32 embeddings ((customers + products),
//                                          dim); u32 held_ptr (customers + 1); u32 held products
//                                          (held_ptr[customers]). Little-endian.
// Versions are 1, 2, ... per name. A save writes both files into <root>/<name>/.tmp-<pid>-<n>/
// and renames that directory to the next free version: a reader sees a whole version or none.
// A load checks the manifest's format and version, model.bin's size and sha256, and every
// length and index in it.
#ifndef PX_ML_RECBUNDLE_H
#define PX_ML_RECBUNDLE_H

#include "err.h"
#include "recommender.h"

#define RECBUNDLE_FORMAT "prospect-recommender"
#define RECBUNDLE_FORMAT_VERSION 1

struct recbundle_info {
    const char *data[3];             // borrowed: customers, products, transactions CSV paths
    const char *sha256[3];           // borrowed: their hex digests
    const struct rec_params *params; // borrowed
};

// Saves m as the next version of name; *version returns it. Nothing is left on failure.
int recbundle_save(const char *root, const char *name, const struct rec_model *m,
                   const struct recbundle_info *info, int *version, struct px_err *err);
// Loads "NAME" (newest version) or "NAME/VERSION". Returns owned *m (rec_model_free); the
// report's metrics are read back from the manifest. *version returns the version loaded.
int recbundle_load(const char *root, const char *ref, struct rec_model *m, int *version,
                   struct px_err *err);

#endif
