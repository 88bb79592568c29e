// bundle.h — a model bundle: one directory holding a registered model of one kind plus a
// manifest with the kind and the size and sha256 of every file. Three kinds share the format;
// what each holds beside the manifest and MLmodel is its own format in src/kinds/:
//
//   search       kinds/searchbundle.h: bundle.json, customers.db, lexicon, template, model/
//   propensity   kinds/propmodel.h: run.json (run record), model.json (XGBoost JSON)
//   recommender  kinds/recmodel.h: recommender.json (parameters, metrics), model.bin
//
//     MLmodel            YAML for MLflow tooling: flavors.prospect, signature, model_uuid, ...
//     manifest.json      magic, format version, name, kind, and {path, size, sha256} of every
//                        other file, sorted by path (the manifest does not list itself)
//
// The formats are documented in ARCHITECTURE.md ("Model bundles"). Nothing here knows about
// SQLite, the search or any kind's contents: the kinds fill the directory, bundle_seal writes
// the manifest, bundle_verify checks a directory against it before anything is served from it.
//
// Thread-safety: no shared state; functions may run concurrently on different directories.
#ifndef PX_BUNDLE_H
#define PX_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

#define BUNDLE_MAGIC "prospect-bundle"
#define BUNDLE_FORMAT_VERSION 1
#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_MLMODEL "MLmodel"

// ---- kinds ----

#define BUNDLE_KIND_SEARCH "search"
#define BUNDLE_KIND_PROPENSITY "propensity"
#define BUNDLE_KIND_RECOMMENDER "recommender"
#define BUNDLE_KIND_BYTES 16

// True for the three kinds above.
bool bundle_kind_ok(const char *kind);
// "a search bundle", "a propensity model", "a recommender" (for messages); borrowed.
const char *bundle_kind_noun(const char *kind);

// ---- names and paths ----

// A registered name: 1..LIMIT_BUNDLE_NAME_BYTES of [A-Za-z0-9_.-], not starting with '.'
// (it is a directory name). PX_EINVAL says which byte is wrong.
int bundle_check_name(const char *name, struct px_err *err);
// A path inside a bundle: '/'-separated components of [A-Za-z0-9_.-], none empty or starting
// with '.', at most LIMIT_BUNDLE_DEPTH components and LIMIT_BUNDLE_PATH_BYTES bytes.
bool bundle_path_ok(const char *path);

// ---- manifest ----

struct bundle_file {
    char *path;      // owned by the manifest
    uint64_t size;   // bytes
    char sha256[65]; // lowercase hex
};

struct bundle_manifest {
    int format_version;
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    char kind[BUNDLE_KIND_BYTES]; // a BUNDLE_KIND_*; "search" when the manifest has no "kind"
    char created[40];             // UTC, ISO 8601
    struct bundle_file *files;    // owned: (n_files) sorted by path, no duplicates
    size_t n_files;
    uint64_t total_bytes; // sum of the files' sizes
};

// Parses len bytes of manifest JSON (need not be NUL-terminated) into *out (returns owned:
// bundle_manifest_free; zeroed on failure). Checks the magic, the format version (a newer one is
// PX_EUNSUPPORTED), the name, every path (bundle_path_ok), size and digest, and that paths are
// sorted and unique; PX_EFORMAT names the entry.
int bundle_manifest_parse(const char *json, size_t len, struct bundle_manifest *out,
                          struct px_err *err);
void bundle_manifest_free(struct bundle_manifest *m);
// Index of path in m, or -1.
long bundle_manifest_find(const struct bundle_manifest *m, const char *path);

// Hashes every file under dir (recursively; manifest.json itself excluded) and writes
// dir/manifest.json atomically, recording kind (a BUNDLE_KIND_*). Symbolic links and special
// files are refused. *out (may be NULL) returns the manifest written (owned:
// bundle_manifest_free).
int bundle_seal(const char *dir, const char *name, const char *kind, const char *created,
                struct bundle_manifest *out, struct px_err *err);
// Reads and parses dir/manifest.json without checking the files (listing). PX_ENOENT when it
// is missing.
int bundle_manifest_read(const char *dir, struct bundle_manifest *out, struct px_err *err);

// Checks dir against dir/manifest.json: every listed file present with its size and sha256, no
// file that is not listed, nothing but regular files and directories. The first failure names
// the file: "customers.db: sha256 mismatch (manifest 1a2b3c4d…, file 5e6f7a8b…)",
// "lexicon.json: missing", "extra.bin: not in the manifest", "model/x: size mismatch
// (manifest 10 bytes, file 11 bytes)". *out (may be NULL) returns the manifest (owned) on
// success.
int bundle_verify(const char *dir, struct bundle_manifest *out, struct px_err *err);

// ---- MLmodel ----

// MLmodel for every kind: MLflow's keys, a `prospect` flavor holding
// `kind: <kind>`, format_version and the given entries, and the signature (JSON text, written as
// MLflow writes it, NULL for null).
struct bundle_kv {
    const char *key;   // borrowed: [a-z_]+
    const char *value; // borrowed
    bool literal;      // written as is (a number, true, false); else as a JSON string literal
};
struct bundle_mlmodel {
    const char *name;           // borrowed: artifact_path
    const char *kind;           // borrowed: a BUNDLE_KIND_*
    const char *created;        // borrowed: ISO 8601 UTC (bundle_now_utc)
    const char *model_uuid;     // borrowed: 32 hex digits
    uint64_t size_bytes;        // model_size_bytes
    const struct bundle_kv *kv; // borrowed: (n_kv) flavor entries after kind and format_version
    size_t n_kv;
    const char *inputs, *outputs, *params; // borrowed: signature JSON, or NULL
};
// Writes dir/MLmodel atomically.
int bundle_write_mlmodel(const char *dir, const struct bundle_mlmodel *m, struct px_err *err);
// 32 random lowercase hex digits (MLflow's uuid4().hex) into out (n >= 33), from the kernel's
// CSPRNG (base/secrand.h); PX_EIO when it refuses (out is then "").
int bundle_new_uuid(char *out, size_t n, struct px_err *err);

// ---- files ----

// Copies the regular files under src (recursively) to dst (created), fsyncing each, with modes
// no wider than the source's (masked to 0644). Only entries keep(rel, is_dir) accepts are taken
// (rel is the path under src; NULL keep takes all); names starting with '.' and entries keep
// refuses are skipped without being opened. A symbolic link (src itself included) or a special
// file among the entries taken is PX_EINVAL naming it, as is a name a bundle cannot hold.
// *n_bytes (may be NULL) returns the bytes copied.
int bundle_copy_tree(const char *src, const char *dst, bool (*keep)(const char *rel, bool is_dir),
                     uint64_t *n_bytes, struct px_err *err);
// Copies one file the caller named to dst (created, fsynced, mode no wider than the source's,
// masked to 0644). A link given as src is followed; what it names must be a regular file
// (a FIFO or device is PX_EINVAL, and cannot hang the copy).
int bundle_copy_file(const char *src, const char *dst, struct px_err *err);
// Removes a directory tree (symbolic links are removed, never followed). A missing path is OK.
int bundle_remove_tree(const char *path, struct px_err *err);
// fsyncs the directory at path (makes renames and creations inside it durable).
int bundle_fsync_dir(const char *path, struct px_err *err);
// Current UTC time as "2024-05-01T12:00:00.000000Z" (n >= 28).
void bundle_now_utc(char *out, size_t n);

#endif
