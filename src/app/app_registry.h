// app_registry.h — the model registry (every kind: search bundles, propensity models,
// recommenders) and search bundles (app/bundles.c; formats in ARCHITECTURE.md "Model bundles").
#ifndef PX_APP_REGISTRY_H
#define PX_APP_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include "app_book.h"
#include "buf.h"
#include "err.h"
#include "limits.h"

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

// {"stages": [...], "name", "version", "kind", "created", "rows", "dense", "model_id" (null
// when absent), "model_copied", "bytes"[, "error"]} appended to out.
int app_bundle_entry_json(const struct app_bundle_entry *e, struct buf *out, struct px_err *err);

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
// The entry's JSON (app_bundle_entry_json) plus ["verified", "verify_error"], "bundle" (the info
// file's JSON), "manifest" (manifest.json) and "mlmodel" (the MLmodel text).
int app_bundle_show_json(const struct app_bundle_show *s, struct buf *out, struct px_err *err);
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
