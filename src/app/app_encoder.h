// app_encoder.h — the sentence-transformer as the front ends see it: where its directory is,
// opening it (or only its tokenizer), its id.
//
// Model lookup order (README, "The model"): --embedder DIR (formerly --model DIR), then
// $PROSPECT_MODEL, then ./models/all-MiniLM-L6-v2, then ../shared/models/all-MiniLM-L6-v2. The
// first that exists is used; when it has no weights, the error says so and how to get them.
#ifndef PX_APP_ENCODER_H
#define PX_APP_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app_common.h"
#include "buf.h"
#include "err.h"

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

// The model's id, "sha256:<64 hex digits of dir/model.safetensors>" (vectors in the store and
// bundles are keyed by it), into out (n bytes, at least APP_MODEL_ID_BYTES). PX_ENOENT / PX_EIO
// when the weights cannot be read.
#define APP_MODEL_ID_BYTES 72
int app_model_id(const char *dir, char *out, size_t n, struct px_err *err);
// ---- encoding texts and tokenizing, for front ends (app/encode.c) ----
//
// An app_encoder is an opened sentence-transformer plus one encoding context (n_threads busy
// threads); one thread uses it at a time. An app_tokenizer needs only the vocab and config.

struct app_encoder_params {
    const char *embedder_flag;    // --embedder DIR, or NULL for the usual lookup
    int n_threads;                // encoder threads (default 1, at most LIMIT_THREADS)
    int batch_size;               // texts per forward pass (default 32, at most LIMIT_BATCH)
    bool replace_invalid_utf8;    // [UNK] for invalid UTF-8 (counted) instead of failing
};
struct app_encoder_params app_encoder_default_params(void);

struct app_encoder_info {
    int dim;               // vector size
    int max_seq_length;    // tokens per text including [CLS]/[SEP]; longer texts are cut
    const char *pooling;   // "mean", "cls", "max", "mean_sqrt_len"
    bool normalize;        // vectors are L2-normalised
    bool do_lower_case;    // the tokenizer lowercases
    const char *vocab_file; // "vocab.txt" or "tokenizer.json"
    const char *weights_dtype; // on disk: "F32", "F16", "BF16", "mixed"
    size_t n_params;
    int n_layers, n_heads;
    const char *dir;       // the directory used
};

// {"directory", "chosen_by", "encoder": "bert", "layers", "heads", "parameters",
// "weights_dtype", "dimension", "max_seq_length", "pooling", "normalize", "vocab_file",
// "lowercase"} appended to out; chosen_by: app_model_source_name() of the rule used.
int app_encoder_info_json(const struct app_encoder_info *in, const char *chosen_by,
                          struct buf *out, struct px_err *err);

struct app_encoder;
int app_encoder_open(const struct app_encoder_params *p, struct app_encoder **out,
                     struct px_err *err);
void app_encoder_close(struct app_encoder *e);
// Borrowed; valid while e is open.
const struct app_encoder_info *app_encoder_info(const struct app_encoder *e);

struct app_encode_stats {
    size_t n_tokens;       // tokens encoded (after truncation)
    size_t n_truncated;    // texts cut to max_seq_length
    size_t n_invalid_utf8; // invalid sequences replaced
    size_t i_error;        // on a per-text error: the index of the text at fault
};
// Embeds n texts (lens[i] bytes each) into out (n x dim floats, input order kept). progress
// (may be NULL) is called with (texts done, n).
int app_encoder_embed(struct app_encoder *e, const char *const *texts, const size_t *lens,
                      size_t n, float *out, app_progress_fn progress,
                      void *user, struct app_encode_stats *st, struct px_err *err);

struct app_tokenizer;
// Resolves the directory as app_encoder_open does; dir_out (n bytes, may be NULL) receives it.
int app_tokenizer_open(const char *embedder_flag, struct app_tokenizer **out, char *dir_out,
                       size_t n, struct px_err *err);
void app_tokenizer_close(struct app_tokenizer *t);
// The most ids one text can give (max_seq_length).
size_t app_tokenizer_max_ids(const struct app_tokenizer *t);
// The ids the encoder would see for text (with [CLS] and [SEP], truncated): (cap) ids, *n_ids
// of them used; *n_truncated (may be NULL) counts the tokens cut.
int app_tokenize(const struct app_tokenizer *t, const char *text, size_t len, bool replace_invalid,
                 int32_t *ids, size_t cap, size_t *n_ids, size_t *n_truncated, struct px_err *err);
// The token string of an id (borrowed), or "" for an id outside the vocabulary.
const char *app_tokenizer_token(const struct app_tokenizer *t, int32_t id);
// {"ids": [...], "tokens": [...], "truncated": N} for one text, appended to out.
int app_tokenize_json(const struct app_tokenizer *t, const char *text, size_t len,
                      bool replace_invalid, struct buf *out, struct px_err *err);

#endif
