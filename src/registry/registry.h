// registry.h — a directory of model bundles laid out like MLflow's model registry: every
// registered name has numbered versions, and aliases (stages such as "production") point at one
// version each. Every kind of model (bundle.h: search, propensity, recommender) is registered
// here the same way; names are shared by the kinds, and each name holds one kind only.
//
//   <root>/<name>/1/, 2/, ...     one bundle directory per version (bundle.h), never modified
//   <root>/<name>/registry.json   {"magic": "prospect-registry", "format_version": 1, "name",
//                                  "kind", "last_version": N, "aliases": {"production": 2, ...}}
//   <root>/<name>/.lock           flock(2) taken by every change to <name>
//   <root>/<name>/.staging-*      a bundle being built (ignored by readers; a dead creator's is
//                                  removed by the next change to <name>)
//   <root>/<name>/.deleting-*     a version being removed (ignored by readers; likewise)
//
// Changes are atomic: a version appears by one rename of a complete, fsynced staging directory
// (renameat2 RENAME_NOREPLACE, under the lock), registry.json is replaced by write-temp + fsync +
// rename, and a version disappears by one rename before its files are removed. Version numbers
// are never reused: last_version remembers the highest ever given, so a deleted 3 stays gone.
//
// Thread/process-safety: any number of processes may create, promote and delete concurrently;
// the lock serialises changes to one name, readers never lock.
#ifndef PX_REGISTRY_H
#define PX_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"
#include "err.h"
#include "limits.h"

#define REGISTRY_MAGIC "prospect-registry"
#define REGISTRY_FORMAT_VERSION 1
#define REGISTRY_STATE "registry.json"
// A leftover .staging-* / .deleting-* folder whose process is gone is removed by the next change
// to its name (registry_sweep_leftovers) at once when its name carries this boot's tag (made on
// this machine since it started), else once it is untouched this long.
#define REGISTRY_LEFTOVER_AGE_S 600

// Removes the leftovers of dead changes in one name's folder (see registry.c: the pid in the
// folder's name is not a live process here, and the name carries this boot's tag or the folder
// is unchanged for max_age_s); the caller holds the name's lock. Logs each removal (warning).
// Returns how many were removed. Publish, promote (registry_set_alias) and delete call it.
size_t registry_sweep_leftovers(const char *name_dir_path, long max_age_s);

// "NAME", "NAME/VERSION" or "NAME@ALIAS" (MLflow's models:/name/version and models:/name@alias);
// "NAME@VERSION" (digits after '@', which no alias starts with) is NAME/VERSION, for URLs.
struct registry_ref {
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    int version;                                // 0 when not given
    char alias[LIMIT_REGISTRY_ALIAS_BYTES + 1]; // "" when not given
};

int registry_parse_ref(const char *text, struct registry_ref *out, struct px_err *err);
// An alias: 1..LIMIT_REGISTRY_ALIAS_BYTES of [a-z0-9_-], starting with a letter.
int registry_check_alias(const char *alias, struct px_err *err);

struct registry_alias {
    char name[LIMIT_REGISTRY_ALIAS_BYTES + 1];
    int version;
};

struct registry_state {
    char kind[BUNDLE_KIND_BYTES]; // what name holds (a BUNDLE_KIND_*); "" before the first publish
    int last_version;             // highest version ever published (0: none)
    struct registry_alias aliases[LIMIT_REGISTRY_ALIASES]; // (n_aliases) sorted by name
    size_t n_aliases;
};

// Reads <root>/<name>/registry.json; a missing file is an empty state.
int registry_read_state(const char *root, const char *name, struct registry_state *out,
                        struct px_err *err);
// Parses len bytes of registry.json for name (exposed for the fuzz target and tests).
int registry_state_parse(const char *json, size_t len, const char *name, struct registry_state *out,
                         struct px_err *err);
// The version alias points at, or 0.
int registry_state_alias(const struct registry_state *st, const char *alias);

// Registered names in root, sorted. *out returns owned (registry_names_free). A missing root
// is an empty list.
int registry_names(const char *root, char ***out, size_t *n, struct px_err *err);
void registry_names_free(char **names, size_t n);
// Versions of name, ascending. *out returns owned (px_free); an unknown name is PX_ENOENT.
int registry_versions(const char *root, const char *name, int **out, size_t *n, struct px_err *err);
// <root>/<name>/<version> into out (n bytes).
int registry_version_dir(const char *root, const char *name, int version, char *out, size_t n,
                         struct px_err *err);

// The version ref means: the given version (which must exist), the alias's version, or — for a
// bare name — the "production" alias when set, else the latest version. dir (n bytes, may be
// NULL) receives its directory.
int registry_resolve(const char *root, const struct registry_ref *ref, int *version, char *dir,
                     size_t n, struct px_err *err);

// Creates <root>/<name>/.staging-<pid>-<random>/ (and root and <name> when missing); out (n
// bytes) receives its path. The caller fills it, then registry_publish or bundle_remove_tree.
int registry_stage(const char *root, const char *name, char *out, size_t n, struct px_err *err);
// Publishes a filled, sealed staging directory (bundle_seal) as the next version of name: fsyncs
// it, and under the lock renames it to max(last_version, highest present) + 1 and records that.
// The manifest's kind must be the name's (registry.json, else its latest version's manifest):
// PX_EINVAL "NAME holds propensity models; a search bundle cannot be registered under it".
// *version returns the number. On failure the staging directory is left for the caller to
// remove.
int registry_publish(const char *root, const char *name, const char *staging, int *version,
                     struct px_err *err);
// Opens a registered model for loading: parses ref_text, resolves it (registry_resolve), and
// checks the version directory against its manifest (bundle_verify: every file's size and
// sha256, no file missing or unlisted), that the manifest was written for the name, and that
// it holds kind (NULL: any). ref (may be NULL), *version, dir (n bytes) and *m (may be NULL;
// returns owned: bundle_manifest_free) describe it. Errors after the resolution start with
// "NAME/VERSION: ", e.g. "thera/2: model.json: sha256 mismatch (manifest …, file …)" or
// "thera/2: a propensity model, not a search bundle".
int registry_open(const char *root, const char *ref_text, const char *kind,
                  struct registry_ref *ref, int *version, char *dir, size_t n,
                  struct bundle_manifest *m, struct px_err *err);

// One file of a version held in memory (registry_save_files).
struct registry_file {
    const char *path; // borrowed: a name inside the version directory
    const void *data; // borrowed: len bytes
    size_t len;
};
// Registers a version made of files held in memory, as the next version of mm->name: checks the
// name, stages (registry_stage), writes each file and MLmodel (mm, with model_size_bytes the
// sum of the files' lengths and a fresh model_uuid when mm->model_uuid is NULL), seals it with
// mm->kind and mm->created (bundle_seal) and publishes it (registry_publish). *version returns
// the number. Nothing is left behind on failure.
int registry_save_files(const char *root, const struct registry_file *files, size_t n_files,
                        const struct bundle_mlmodel *mm, int *version, struct px_err *err);
// After a failed registry_open by a loader: when the name has no model ("no model named …"),
// appends " (hint)" to the message, e.g. "(train one with prospect train)". Returns rc.
int registry_hint_missing(int rc, const char *hint, struct px_err *err);
// Reads dir/file (at most max bytes) and checks that its sha256 is want (hex; NULL: none
// recorded). *out returns owned bytes (px_free), *len their count. A mismatch is PX_EFORMAT
// "file: sha256 1a2b3c4d5e6f… differs from whose 9f8e7d6c5b4a…" (whose: "run.json's", …).
int registry_read_checked(const char *dir, const char *file, size_t max, const char *want,
                          const char *whose, char **out, size_t *len, struct px_err *err);

// Points alias at version (which must exist), atomically.
int registry_set_alias(const char *root, const char *name, const char *alias, int version,
                       struct px_err *err);
// Removes version. Refused (PX_EINVAL, naming the aliases) while an alias points at it, unless
// force, which removes those aliases too. *n_cleared (may be NULL) returns how many were.
int registry_delete(const char *root, const char *name, int version, bool force, size_t *n_cleared,
                    struct px_err *err);

#endif
