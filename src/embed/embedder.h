// embedder.h — a sentence-transformers model directory as one object: text -> vector.
//
// Reads the directory the way sentence-transformers does: config.json (the BERT encoder),
// modules.json + <pooling>/config.json (mean / cls / max / mean-sqrt-len pooling) and whether a
// Normalize module follows, sentence_bert_config.json (max_seq_length — this, not
// tokenizer.json's truncation, sets the token limit), tokenizer_config.json (do_lower_case,
// strip_accents, tokenize_chinese_chars), vocab.txt or tokenizer.json, and model.safetensors.
// A directory without modules.json is taken as mean pooling + L2 normalisation, the
// sentence-transformers default that prospect's cosine search expects.
//
// struct embedder is immutable after embedder_open and shared by any number of threads; each
// thread embeds through its own struct embed_ctx.
#ifndef PX_EMBEDDER_H
#define PX_EMBEDDER_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "tokenizer.h"

enum embed_pooling {
    EMBED_POOL_MEAN = 0,          // mean of the token states (padding excluded)
    EMBED_POOL_CLS = 1,           // the [CLS] state
    EMBED_POOL_MAX = 2,           // per-dimension max over tokens
    EMBED_POOL_MEAN_SQRT_LEN = 3, // sum / sqrt(tokens)
};

struct embedder_info {
    int dim;                    // output vector size (hidden size)
    int max_seq_length;         // tokens per text including [CLS]/[SEP]; longer texts truncated
    enum embed_pooling pooling;
    bool normalize;             // vectors are L2-normalised
    bool do_lower_case;         // tokenizer lowercases
    const char *vocab_file;     // "vocab.txt" or "tokenizer.json"
    const char *weights_dtype;  // dtype on disk ("F32", "F16", "BF16", "mixed")
    size_t n_params;            // encoder parameters
    int n_layers;
    int n_heads;
};

struct embedder;

// Checks that dir looks like a model directory and has weights, without loading anything:
// PX_ENOENT (no dir / no config.json) or PX_ENOWEIGHTS (no model.safetensors), with a message.
int embedder_check_dir(const char *dir, struct px_err *err);
// Loads the directory. Returns owned *out (embedder_close). Errors name the file at fault.
int embedder_open(const char *dir, struct embedder **out, struct px_err *err);
// Opens only the tokenizer of a model directory, configured as embedder_open would (lowercasing,
// max_seq_length); needs config.json and the vocab but no weights. Returns owned *out.
int embedder_open_tokenizer(const char *dir, struct tokenizer **out, struct px_err *err);
// NULL is a no-op.
void embedder_close(struct embedder *e);
// Borrowed; valid while e lives.
const struct embedder_info *embedder_info(const struct embedder *e);
const struct tokenizer *embedder_tokenizer(const struct embedder *e);
// Name of a pooling mode ("mean", "cls", "max", "mean_sqrt_len").
const char *embed_pooling_name(enum embed_pooling p);

// ---- per-thread state ----
struct embed_ctx_params {
    int n_threads;                  // threads for the encoder (default 1)
    int batch_size;                 // texts per forward pass (default 32, 1..LIMIT_BATCH)
    enum tokenizer_utf8_mode utf8;  // default TOKENIZER_UTF8_STRICT
};

struct embed_ctx_params embed_ctx_default_params(void);

struct embed_ctx;

// Borrows e (must outlive the ctx). Returns owned *out (embed_ctx_free).
int embed_ctx_new(const struct embedder *e, const struct embed_ctx_params *params,
                  struct embed_ctx **out, struct px_err *err);
void embed_ctx_free(struct embed_ctx *c);

struct embed_stats {
    size_t n_tokens;       // tokens encoded (after truncation)
    size_t n_truncated;    // texts cut to max_seq_length
    size_t n_invalid_utf8; // invalid sequences replaced (TOKENIZER_UTF8_REPLACE)
    size_t i_error;        // on a per-text error: the index of the text at fault
};

// Called after each forward pass with texts done so far and the total.
typedef void (*embed_progress_fn)(size_t done, size_t total, void *user);

// Embeds n texts (texts[i] has lens[i] bytes) into out: (n, dim) row-major, in input order.
// Texts are sorted by length internally so each batch holds texts of similar size. On a per-text
// error (invalid UTF-8, too long) returns its status with stats->i_error set and a message
// without the index (the caller knows whether it is a line, a row or a request).
int embed_texts(struct embed_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                float *out, embed_progress_fn progress, void *user, struct embed_stats *stats,
                struct px_err *err);

#endif
