// testmodel.h — writes tiny sentence-transformers model directories with seeded random weights,
// for fast unit tests of the loader, the encoder and the embedder (and for every malformed-model
// case: change one field of the spec).
#ifndef PX_TESTMODEL_H
#define PX_TESTMODEL_H

#include <stdbool.h>
#include <stdint.h>

struct testmodel_spec {
    int hidden, layers, heads, intermediate, max_positions;
    const char *dtype;          // "F32", "F16" or "BF16"
    const char *prefix;         // "" or "bert."
    const char *hidden_act;     // "gelu" ...
    bool gamma_beta;            // name LayerNorm params gamma/beta
    bool with_pooler;           // add pooler.dense.* (ignored by the loader)
    const char *omit_tensor;    // declared name (no prefix) to leave out, or NULL
    const char *misshape_tensor;// declared name written with a wrong first dim, or NULL
    const char *extra_tensor;   // an unexpected tensor to add, or NULL
    const char *nan_tensor;     // declared name whose element 0 is NaN, or NULL
    const char *pooling;        // modules.json pooling: "mean", "cls", "max", NULL = no modules.json
    bool normalize;             // modules.json has a Normalize module
    int max_seq_length;         // sentence_bert_config.json value (0: no such file)
    bool write_weights;         // false: leave model.safetensors out
    uint32_t seed;
    const char *int_tensor;     // declared name written with dtype I32, or NULL
};

// Defaults: hidden 16, 2 layers, 4 heads, intermediate 32, 64 positions, F32, no prefix, gelu,
// mean pooling + normalize, max_seq_length 32, weights written, seed 1.
struct testmodel_spec testmodel_default_spec(void);
// The vocabulary written to vocab.txt (index = id), and its size.
extern const char *const testmodel_vocab[];
extern const int testmodel_vocab_size;
// Writes the directory (which must exist). Returns 0 on success.
int testmodel_write(const char *dir, const struct testmodel_spec *spec);

#endif
