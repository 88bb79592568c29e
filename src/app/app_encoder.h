// app_encoder.h — the sentence-transformer as the front ends see it: where its directory is,
// opening it (or only its tokenizer), its id.
//
// Model lookup order (DEVELOPERS.md): --embedder DIR (formerly --model DIR), then
// $PROSPECT_MODEL, then ./models/all-MiniLM-L6-v2, then ../shared/models/all-MiniLM-L6-v2. The first that exists is
// used; when it has no weights, the error says so and how to get them.
#ifndef PX_APP_ENCODER_H
#define PX_APP_ENCODER_H

#include <stddef.h>
#include "embedder.h"
#include "err.h"
#include "tokenizer.h"

#define APP_DEFAULT_MODEL "all-MiniLM-L6-v2"
#define APP_MODEL_URL "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"

enum app_model_source {
    APP_MODEL_FLAG = 0,    // --embedder DIR
    APP_MODEL_ENV = 1,     // $PROSPECT_MODEL
    APP_MODEL_LOCAL = 2,   // ./models/all-MiniLM-L6-v2
    APP_MODEL_SHARED = 3,  // ../shared/models/all-MiniLM-L6-v2
};

// Resolves the model directory into out (n bytes); *source says which rule chose it (may be
// NULL). An explicit --embedder or $PROSPECT_MODEL is used as given even if missing (the open then
// fails naming it); with neither, PX_ENOENT lists the places looked at.
int app_model_dir(const char *flag, char *out, size_t n, enum app_model_source *source,
                  struct px_err *err);
const char *app_model_source_name(enum app_model_source s);

// Resolves and opens the embedder. On missing weights the message ends with how to get them.
// dir_out (n bytes, may be NULL) receives the directory used. Returns owned *out.
int app_open_embedder(const char *flag, struct embedder **out, char *dir_out, size_t n,
                      struct px_err *err);
// The model's id, "sha256:<64 hex digits of dir/model.safetensors>" (vectors in the store and
// bundles are keyed by it), into out (n bytes, at least APP_MODEL_ID_BYTES). PX_ENOENT / PX_EIO
// when the weights cannot be read.
#define APP_MODEL_ID_BYTES 72
int app_model_id(const char *dir, char *out, size_t n, struct px_err *err);
// Resolves and opens only the tokenizer (works without weights). Returns owned *out.
int app_open_tokenizer(const char *flag, struct tokenizer **out, char *dir_out, size_t n,
                       struct px_err *err);

#endif
