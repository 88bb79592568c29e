// bert.h — a BERT encoder (post-LN, absolute positions) loaded from config.json +
// model.safetensors and run on the CPU.
//
// The model (struct bert_model) is immutable after bert_model_open and may be shared by any
// number of threads. All per-call memory lives in a struct bert_ctx (one arena sized up front
// from the batch limits, plus a thread pool); a bert_ctx must not be used by two threads at once.
//
// Basic use:
//   struct bert_model *m; bert_model_open("config.json", "model.safetensors", &m, &err);
//   struct bert_ctx_params cp = bert_ctx_default_params(); cp.n_threads = 2;
//   struct bert_ctx *c; bert_ctx_new(m, &cp, &c, &err);
//   bert_forward(c, ids, seq_lens, n_seq, &hidden, &err);  // hidden: (sum(seq_lens), H)
#ifndef PX_BERT_H
#define PX_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum bert_act {
    BERT_ACT_GELU = 0,      // exact GELU with erf ("gelu")
    BERT_ACT_GELU_TANH = 1, // tanh approximation ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")
    BERT_ACT_RELU = 2,      // "relu"
};

struct bert_config {
    int hidden;          // hidden_size (H)
    int n_layers;        // num_hidden_layers
    int n_heads;         // num_attention_heads; H % n_heads == 0
    int intermediate;    // intermediate_size (I)
    int max_positions;   // max_position_embeddings (P)
    int vocab_size;      // vocab_size (V)
    int type_vocab_size; // type_vocab_size (>= 1; token type 0 is used)
    float layer_norm_eps;
    enum bert_act act;   // hidden_act
};

// Reads and range-checks a Hugging Face BERT config.json. Errors name the file and the key.
int bert_config_load(const char *path, struct bert_config *cfg, struct px_err *err);

// ---- model ----
struct bert_model;

// Loads config.json and the weights, checking every tensor against the shapes the config
// implies (with or without a "bert." name prefix; F32, F16 or BF16; converted to float32 in one
// allocation). Returns owned *out (bert_model_close). Errors name the file and tensor and say
// what was found and what was expected.
int bert_model_open(const char *config_path, const char *weights_path, struct bert_model **out,
                    struct px_err *err);
// NULL is a no-op.
void bert_model_close(struct bert_model *m);
// Borrowed; valid while m lives.
const struct bert_config *bert_model_config(const struct bert_model *m);
// Parameters loaded (elements), and the dtype name they had on disk ("F16", "F32", "BF16" or
// "mixed").
size_t bert_model_n_params(const struct bert_model *m);
const char *bert_model_file_dtype(const struct bert_model *m);

// ---- per-call state ----
struct bert_ctx_params {
    int n_threads;        // threads for one forward pass (default 1)
    int max_batch_tokens; // most tokens in one bert_forward call (default 8192)
    int max_seq_len;      // longest sequence (default 0 = the model's max_positions)
};

struct bert_ctx_params bert_ctx_default_params(void);

struct bert_ctx;

// Allocates the arena and starts n_threads - 1 workers. Borrows m (must outlive the ctx).
int bert_ctx_new(const struct bert_model *m, const struct bert_ctx_params *params,
                 struct bert_ctx **out, struct px_err *err);
// NULL is a no-op.
void bert_ctx_free(struct bert_ctx *c);

// Runs the encoder on n_seq packed sequences: ids holds them back to back (sum(seq_lens)
// tokens), each starting at position 0 with token type 0, attending only within itself.
// *hidden returns the last layer's states, (sum(seq_lens), H) row-major, borrowed from the ctx
// until its next forward call. Errors: PX_EINVAL for an id outside the vocab (naming sequence and
// position) or a length outside 1..max_seq_len, PX_ELIMIT when the batch exceeds
// max_batch_tokens.
int bert_forward(struct bert_ctx *c, const int32_t *ids, const int32_t *seq_lens, int n_seq,
                 const float **hidden, struct px_err *err);

#endif
