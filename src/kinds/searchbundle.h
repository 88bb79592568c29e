// searchbundle.h — the files of a search bundle (kind "search", prospect bundle create): what a
// search needs to answer queries the way they were answered when the bundle was made.
//
//   <bundle>/
//     MLmodel            YAML for MLflow tooling (registry/bundle.h: bundle_write_mlmodel)
//     bundle.json        what the bundle holds, for prospect (struct searchbundle_info)
//     customers.db       SQLite snapshot: customers, columns and the vectors of one model
//     lexicon.json       the built-in query lexicon in effect when the bundle was made
//     lexicon.user.json  the --lexicon file merged over it (optional)
//     template.txt       the profile-text template (optional)
//     model/...          a copy of the sentence-transformer directory (--copy-model only)
//     manifest.json      every file above with its size and sha256 (registry/bundle.h)
//
// The app layer (app/bundles.c) fills the directory from the working database and opens the
// book from it; this file owns bundle.json and the search flavor of MLmodel.
#ifndef PX_SEARCHBUNDLE_H
#define PX_SEARCHBUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

#define SEARCHBUNDLE_INFO "bundle.json"
#define SEARCHBUNDLE_DATA "customers.db"
#define SEARCHBUNDLE_LEXICON "lexicon.json"
#define SEARCHBUNDLE_USER_LEXICON "lexicon.user.json"
#define SEARCHBUNDLE_TEMPLATE "template.txt"
#define SEARCHBUNDLE_MODEL_DIR "model"

struct searchbundle_info {
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    char created[40];          // UTC, ISO 8601 with microseconds: 2024-05-01T12:00:00.000000Z
    char model_uuid[33];       // 32 lowercase hex digits (MLflow's uuid4().hex)
    char prospect_version[32]; // the version that made the bundle
    uint64_t rows;             // customers in customers.db
    uint64_t columns;          // columns of the customer table
    bool dense;                // customers.db holds vectors for model_id
    uint64_t n_vectors;        // vectors kept (0 when !dense)
    int dim;                   // their dimension (0 when !dense)
    char model_id[80];         // "sha256:<hex of model.safetensors>", "" when the weights
                               //   were absent (the bundle then searches lexically only)
    char model_source[LIMIT_PATH]; // absolute directory the model came from
    bool model_copied;         // the model's files are in model/ (--copy-model)
    bool has_user_lexicon;     // lexicon.user.json present
    bool has_template;         // template.txt present
};

// Writes dir/bundle.json and dir/MLmodel (each atomically) from info. size_bytes is the size of
// the bundle's other files (MLflow's model_size_bytes).
int searchbundle_write_meta(const char *dir, const struct searchbundle_info *info,
                            uint64_t size_bytes, struct px_err *err);
// Parses bundle.json text (len bytes) into *out. PX_EFORMAT names the key.
int searchbundle_info_parse(const char *json, size_t len, struct searchbundle_info *out,
                            struct px_err *err);
// Reads and parses dir/bundle.json.
int searchbundle_info_read(const char *dir, struct searchbundle_info *out, struct px_err *err);

#endif
