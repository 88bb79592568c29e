// bert.c — BERT encoder: config, declared tensors, loading, and the forward pass.
//
// Loading (whisper.cpp's loader discipline): the config implies a list of declared tensors
// {name, shape, destination}; each is looked up in the safetensors file (with or without the
// "bert." prefix, LayerNorm weight/bias or the old gamma/beta names), its dtype and shape are
// checked, and it is converted to float32 into ONE 64-byte-aligned block that the model owns.
// Query, key and value weights of a layer are placed back to back so that one GEMM with
// N = 3H produces all three. Tensors the encoder does not use (pooler, MLM head, position_ids
// buffer) are tolerated; any other unexpected tensor is an error, and so is a non-finite weight.
//
// Forward pass over a packed batch (no padding: sequences are concatenated, T tokens in all):
//
//   x    (T, H)   = LN(word[id] + pos[p] + type[0])
//   per layer:
//   qkv  (T, 3H)  = x · Wqkvᵀ + b                       GEMM
//   ctx  (T, H)   = per (sequence, head): softmax(Q Kᵀ / √d) V    (d = H / heads)
//   x             = LN(x + ctx · Woᵀ + b)               GEMM + residual LayerNorm
//   ffn  (T, I)   = act(x · Wiᵀ + b)                    GEMM + GELU
//   x             = LN(x + ffn · Wo2ᵀ + b)              GEMM + residual LayerNorm
//
// Threads: one pool_run per forward; threads split GEMMs by rows when there are enough of them
// (then the residual LayerNorm of a row follows without a barrier) or by output columns for
// short batches such as one query (each thread then reads only its share of the weights), and
// take (sequence, head) attention tasks round-robin. Packing means attention needs no mask:
// a sequence's scores never see another sequence, which is exactly what HF's padding mask does.
#include "bert.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gemm.h"
#include "jsonx.h"
#include "kern.h"
#include "limits.h"
#include "mem.h"
#include "pool.h"
#include "safetensors.h"

// ---- config ----

int bert_config_load(const char *path, struct bert_config *cfg, struct px_err *err)
{
    int rc = PX_EFORMAT;
    cJSON *j = NULL;
    int64_t v = 0;
    double d = 0;
    const char *s = NULL;
    memset(cfg, 0, sizeof *cfg);
    rc = jsonx_parse_file(path, LIMIT_CONFIG_FILE_BYTES, &j, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (!cJSON_IsObject(j)) {
        rc = px_fail(err, PX_EFORMAT, "%s: not a JSON object", path);
        goto done;
    }
    rc = jsonx_get_string(j, "model_type", false, "bert", &s, path, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (strcmp(s, "bert") != 0) {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "%s: model_type \"%s\" is not supported (BERT-family encoders only)", path, s);
        goto done;
    }
    rc = jsonx_get_string(j, "position_embedding_type", false, "absolute", &s, path, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (strcmp(s, "absolute") != 0) {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "%s: position_embedding_type \"%s\" is not supported (absolute only)", path, s);
        goto done;
    }
#define GET_INT(key, field, lo, hi)                                                        \
    do {                                                                                   \
        rc = jsonx_get_int(j, key, true, 0, lo, hi, &v, path, err);                        \
        if (rc != PX_OK) {                                                                 \
            goto done;                                                                     \
        }                                                                                  \
        cfg->field = (int)v;                                                               \
    } while (0)
    GET_INT("hidden_size", hidden, 1, LIMIT_BERT_HIDDEN);
    GET_INT("num_hidden_layers", n_layers, 1, LIMIT_BERT_LAYERS);
    GET_INT("num_attention_heads", n_heads, 1, LIMIT_BERT_HEADS);
    GET_INT("intermediate_size", intermediate, 1, LIMIT_BERT_INTERMEDIATE);
    GET_INT("max_position_embeddings", max_positions, 2, LIMIT_BERT_POSITIONS);
    GET_INT("vocab_size", vocab_size, 5, LIMIT_BERT_VOCAB);
#undef GET_INT
    rc = jsonx_get_int(j, "type_vocab_size", false, 2, 1, LIMIT_BERT_TYPE_VOCAB, &v, path, err);
    if (rc != PX_OK) {
        goto done;
    }
    cfg->type_vocab_size = (int)v;
    rc = jsonx_get_double(j, "layer_norm_eps", false, 1e-12, 1e-30, 1.0, &d, path, err);
    if (rc != PX_OK) {
        goto done;
    }
    cfg->layer_norm_eps = (float)d;
    if (cfg->hidden % cfg->n_heads != 0) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s: hidden_size %d is not a multiple of num_attention_heads %d", path,
                     cfg->hidden, cfg->n_heads);
        goto done;
    }
    rc = jsonx_get_string(j, "hidden_act", false, "gelu", &s, path, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (strcmp(s, "gelu") == 0) {
        cfg->act = BERT_ACT_GELU;
    } else if (strcmp(s, "gelu_new") == 0 || strcmp(s, "gelu_pytorch_tanh") == 0 ||
               strcmp(s, "gelu_fast") == 0) {
        cfg->act = BERT_ACT_GELU_TANH;
    } else if (strcmp(s, "relu") == 0) {
        cfg->act = BERT_ACT_RELU;
    } else {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "%s: hidden_act \"%s\" is not supported (gelu, gelu_new, relu)", path, s);
        goto done;
    }
    rc = PX_OK;
done:
    cJSON_Delete(j);
    return rc;
}

// ---- model ----

struct bert_layer {
    const float *w_qkv; // (3H, H): query rows, then key rows, then value rows
    const float *b_qkv; // (3H)
    const float *w_o;   // (H, H)  attention output dense
    const float *b_o;   // (H)
    const float *ln1_g; // (H)     attention output LayerNorm
    const float *ln1_b; // (H)
    const float *w_i;   // (I, H)  intermediate dense
    const float *b_i;   // (I)
    const float *w_o2;  // (H, I)  output dense
    const float *b_o2;  // (H)
    const float *ln2_g; // (H)     output LayerNorm
    const float *ln2_b; // (H)
    // the four weight matrices again, packed for short batches (panels NULL when not packed)
    struct gemm_packed p_qkv, p_o, p_i, p_o2;
};

struct bert_model {
    struct bert_config cfg;
    float *block;              // owned: every weight, float32
    size_t n_params;           // floats in block that hold weights
    const float *word_emb;     // (V, H)
    const float *pos_emb;      // (P, H)
    const float *type_emb;     // (type_vocab, H)
    const float *emb_ln_g;     // (H)
    const float *emb_ln_b;     // (H)
    struct bert_layer *layers; // owned: (n_layers)
    float *packed;             // owned: packed panels of every layer's matrices, or NULL
    char file_dtype[8];        // dtype the weights had on disk
};

// One declared tensor: where it goes and what shape it must have.
struct decl {
    char name[96];     // without prefix, e.g. "encoder.layer.3.attention.self.query.weight"
    int n_dims;        // 1 or 2
    int64_t shape[2];
    size_t offset;     // floats from the start of the block
    bool found;
};

// Optional tensors a sentence-transformers checkpoint may carry that the encoder ignores.
static bool is_ignorable(const char *name)
{
    static const char *const prefixes[] = {"pooler.", "bert.pooler.", "cls.", "bert.cls."};
    static const char *const exact[] = {"embeddings.position_ids", "bert.embeddings.position_ids"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (strcmp(name, exact[i]) == 0) {
            return true;
        }
    }
    return false;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

// Appends declaration *n at float offset *off and advances both. The next tensor starts on a
// 16-float (64-byte) boundary unless `joined`: q, k and v are declared joined so their weights
// form one (3H, H) matrix and their biases one (3H) vector.
static void add_decl(struct decl *d, int *n, size_t *off, const char *name, int n_dims,
                     int64_t d0, int64_t d1, bool joined)
{
    struct decl *x = &d[(*n)++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->n_dims = n_dims;
    x->shape[0] = d0;
    x->shape[1] = n_dims == 2 ? d1 : 0;
    x->offset = *off;
    x->found = false;
    size_t size = (size_t)d0 * (size_t)(n_dims == 2 ? d1 : 1);
    *off = joined ? *off + size : round16(*off + size);
}

// Fills decls (capacity 5 + 16 * n_layers) in block order; returns the block size in floats.
// Order within a layer is relied on by bert_model_open when it wires the named pointers.
static size_t declare(const struct bert_config *c, struct decl *d, int *n_decl)
{
    const int64_t H = c->hidden, I = c->intermediate;
    size_t off = 0;
    int n = 0;
    add_decl(d, &n, &off, "embeddings.word_embeddings.weight", 2, c->vocab_size, H, false);
    add_decl(d, &n, &off, "embeddings.position_embeddings.weight", 2, c->max_positions, H, false);
    add_decl(d, &n, &off, "embeddings.token_type_embeddings.weight", 2, c->type_vocab_size, H,
             false);
    add_decl(d, &n, &off, "embeddings.LayerNorm.weight", 1, H, 0, false);
    add_decl(d, &n, &off, "embeddings.LayerNorm.bias", 1, H, 0, false);
    static const struct {
        const char *suffix;
        int n_dims;
        char d0, d1; // 'H' or 'I'
        bool joined;
    } layer[16] = {
        {"attention.self.query.weight", 2, 'H', 'H', true}, // [0]  \ w_qkv
        {"attention.self.key.weight", 2, 'H', 'H', true},   // [1]  |
        {"attention.self.value.weight", 2, 'H', 'H', false},// [2]  /
        {"attention.self.query.bias", 1, 'H', 0, true},     // [3]  \ b_qkv
        {"attention.self.key.bias", 1, 'H', 0, true},       // [4]  |
        {"attention.self.value.bias", 1, 'H', 0, false},    // [5]  /
        {"attention.output.dense.weight", 2, 'H', 'H', false},
        {"attention.output.dense.bias", 1, 'H', 0, false},
        {"attention.output.LayerNorm.weight", 1, 'H', 0, false},
        {"attention.output.LayerNorm.bias", 1, 'H', 0, false},
        {"intermediate.dense.weight", 2, 'I', 'H', false},
        {"intermediate.dense.bias", 1, 'I', 0, false},
        {"output.dense.weight", 2, 'H', 'I', false},
        {"output.dense.bias", 1, 'H', 0, false},
        {"output.LayerNorm.weight", 1, 'H', 0, false},
        {"output.LayerNorm.bias", 1, 'H', 0, false},
    };
    for (int l = 0; l < c->n_layers; l++) {
        for (int k = 0; k < 16; k++) {
            char name[96];
            snprintf(name, sizeof name, "encoder.layer.%d.%s", l, layer[k].suffix);
            int64_t d0 = layer[k].d0 == 'I' ? I : H;
            int64_t d1 = layer[k].d1 == 'I' ? I : H;
            add_decl(d, &n, &off, name, layer[k].n_dims, d0, d1, layer[k].joined);
        }
    }
    *n_decl = n;
    return off;
}

// Finds a declared tensor under its accepted names: with/without "bert.", and LayerNorm
// weight/bias as gamma/beta (checkpoints converted from the original TensorFlow BERT).
static const struct safetensors_tensor *find_tensor(const struct safetensors *st,
                                                    const char *name, char *used, size_t n_used)
{
    static const char *const prefixes[] = {"", "bert."};
    char alt[128];
    snprintf(alt, sizeof alt, "%s", name);
    size_t len = strlen(alt);
    bool is_ln = strstr(alt, "LayerNorm.") != NULL;
    for (int pass = 0; pass < (is_ln ? 2 : 1); pass++) {
        if (pass == 1) {
            if (len > 7 && strcmp(alt + len - 7, ".weight") == 0) {
                snprintf(alt + len - 7, sizeof alt - (len - 7), ".gamma");
            } else if (len > 5 && strcmp(alt + len - 5, ".bias") == 0) {
                snprintf(alt + len - 5, sizeof alt - (len - 5), ".beta");
            }
        }
        for (size_t p = 0; p < 2; p++) {
            snprintf(used, n_used, "%s%s", prefixes[p], alt);
            const struct safetensors_tensor *t = safetensors_find(st, used);
            if (t != NULL) {
                return t;
            }
        }
    }
    snprintf(used, n_used, "%s", name);
    return NULL;
}

static void shape_str(char *out, size_t n, int n_dims, const int64_t *shape)
{
    size_t w = 0;
    w += (size_t)snprintf(out + w, n - w, "[");
    for (int i = 0; i < n_dims && w < n; i++) {
        w += (size_t)snprintf(out + w, n - w, "%s%lld", i ? ", " : "", (long long)shape[i]);
    }
    if (w < n) {
        snprintf(out + w, n - w, "]");
    }
}

static int load_tensor(const struct safetensors *st, const char *wpath, struct decl *d,
                       float *block, const char **dtype_seen, struct px_err *err)
{
    char used[160];
    const struct safetensors_tensor *t = find_tensor(st, d->name, used, sizeof used);
    char want[64], got[64];
    shape_str(want, sizeof want, d->n_dims, d->shape);
    if (t == NULL) {
        return px_fail(err, PX_ESHAPE, "%s: missing tensor '%s' (expected F32/F16/BF16 %s)", wpath,
                       d->name, want);
    }
    if (t->dtype != SAFETENSORS_F32 && t->dtype != SAFETENSORS_F16 &&
        t->dtype != SAFETENSORS_BF16) {
        return px_fail(err, PX_ESHAPE, "%s: tensor '%s' has dtype %s, expected F32, F16 or BF16",
                       wpath, used, safetensors_dtype_name(t->dtype));
    }
    bool same = t->n_dims == d->n_dims;
    for (int i = 0; same && i < d->n_dims; i++) {
        same = t->shape[i] == d->shape[i];
    }
    if (!same) {
        shape_str(got, sizeof got, t->n_dims, t->shape);
        return px_fail(err, PX_ESHAPE, "%s: tensor '%s' has shape %s, expected %s from config.json",
                       wpath, used, got, want);
    }
    float *dst = block + d->offset;
    int rc = safetensors_to_f32(t, dst, err);
    if (rc != PX_OK) {
        return rc;
    }
    for (size_t i = 0; i < t->n_elems; i++) {
        if (!isfinite(dst[i])) {
            return px_fail(err, PX_EFORMAT, "%s: tensor '%s' element %zu is not finite", wpath, used,
                           i);
        }
    }
    const char *dn = safetensors_dtype_name(t->dtype);
    if (*dtype_seen == NULL) {
        *dtype_seen = dn;
    } else if (strcmp(*dtype_seen, dn) != 0) {
        *dtype_seen = "mixed";
    }
    d->found = true;
    return PX_OK;
}

// Every tensor in the file must be declared or ignorable: an unknown one means the file is not
// the model the config describes.
static int check_unexpected(const struct safetensors *st, const char *wpath,
                            const struct decl *decls, int n_decl, int n_layers,
                            struct px_err *err)
{
    for (size_t i = 0; i < safetensors_count(st); i++) {
        const char *name = safetensors_get(st, i)->name;
        if (is_ignorable(name)) {
            continue;
        }
        const char *bare = strncmp(name, "bert.", 5) == 0 ? name + 5 : name;
        char canon[160];
        snprintf(canon, sizeof canon, "%s", bare);
        size_t len = strlen(canon);
        if (len > 6 && strcmp(canon + len - 6, ".gamma") == 0) {
            snprintf(canon + len - 6, sizeof canon - (len - 6), ".weight");
        } else if (len > 5 && strcmp(canon + len - 5, ".beta") == 0) {
            snprintf(canon + len - 5, sizeof canon - (len - 5), ".bias");
        }
        bool known = false;
        for (int k = 0; k < n_decl && !known; k++) {
            known = strcmp(decls[k].name, canon) == 0;
        }
        if (!known) {
            return px_fail(err, PX_ESHAPE,
                           "%s: unexpected tensor '%s' (not part of a %d-layer BERT encoder)",
                           wpath, name, n_layers);
        }
    }
    return PX_OK;
}

// With the packed kernel available, keeps a second copy of each layer's matrices in panels
// (gemm.h) for short batches: +42 MB for MiniLM-L6, and a single query runs ~2.5x faster.
static int pack_layers(struct bert_model *m, struct px_err *err)
{
    if (!gemm_packed_available()) {
        return PX_OK;
    }
    const size_t H = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    const size_t per_layer = gemm_packed_floats(3 * H, H) + gemm_packed_floats(H, H) +
                             gemm_packed_floats(I, H) + gemm_packed_floats(H, I);
    m->packed = px_malloc_aligned((size_t)m->cfg.n_layers * per_layer * sizeof(float), 64);
    if (m->packed == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory packing the encoder weights");
    }
    float *dst = m->packed;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        struct bert_layer *L = &m->layers[l];
        gemm_pack(L->w_qkv, 3 * H, H, dst, &L->p_qkv);
        dst += gemm_packed_floats(3 * H, H);
        gemm_pack(L->w_o, H, H, dst, &L->p_o);
        dst += gemm_packed_floats(H, H);
        gemm_pack(L->w_i, I, H, dst, &L->p_i);
        dst += gemm_packed_floats(I, H);
        gemm_pack(L->w_o2, H, I, dst, &L->p_o2);
        dst += gemm_packed_floats(H, I);
    }
    return PX_OK;
}

int bert_model_open(const char *config_path, const char *weights_path, struct bert_model **out,
                    struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct bert_model *m = NULL;
    struct safetensors *st = NULL;
    struct decl *decls = NULL;
    const char *dtype_seen = NULL;
    int n_decl = 0;
    *out = NULL;

    m = px_calloc(1, sizeof *m);
    if (m == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory loading %s", weights_path);
        goto done;
    }
    rc = bert_config_load(config_path, &m->cfg, err);
    if (rc != PX_OK) {
        goto done;
    }
    const struct bert_config *c = &m->cfg;
    rc = safetensors_open(weights_path, &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    decls = px_calloc(5 + 16 * (size_t)c->n_layers, sizeof *decls);
    m->layers = px_calloc((size_t)c->n_layers, sizeof *m->layers);
    if (decls == NULL || m->layers == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory loading %s", weights_path);
        goto done;
    }
    size_t n_floats = declare(c, decls, &n_decl);
    m->block = px_malloc_aligned(n_floats * sizeof(float), 64);
    if (m->block == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory: %zu MiB for the weights of %s",
                     n_floats * sizeof(float) >> 20, weights_path);
        goto done;
    }
    memset(m->block, 0, n_floats * sizeof(float));
    for (int k = 0; k < n_decl; k++) {
        rc = load_tensor(st, weights_path, &decls[k], m->block, &dtype_seen, err);
        if (rc != PX_OK) {
            goto done;
        }
        m->n_params += (size_t)decls[k].shape[0] * (size_t)(decls[k].n_dims == 2 ? decls[k].shape[1] : 1);
    }
    rc = check_unexpected(st, weights_path, decls, n_decl, c->n_layers, err);
    if (rc != PX_OK) {
        goto done;
    }
    // Wire the named pointers (declaration order, see declare()).
    const float *b = m->block;
    m->word_emb = b + decls[0].offset;
    m->pos_emb = b + decls[1].offset;
    m->type_emb = b + decls[2].offset;
    m->emb_ln_g = b + decls[3].offset;
    m->emb_ln_b = b + decls[4].offset;
    for (int l = 0; l < c->n_layers; l++) {
        const struct decl *d = decls + 5 + 16 * l;
        struct bert_layer *L = &m->layers[l];
        L->w_qkv = b + d[0].offset;
        L->b_qkv = b + d[3].offset;
        L->w_o = b + d[6].offset;
        L->b_o = b + d[7].offset;
        L->ln1_g = b + d[8].offset;
        L->ln1_b = b + d[9].offset;
        L->w_i = b + d[10].offset;
        L->b_i = b + d[11].offset;
        L->w_o2 = b + d[12].offset;
        L->b_o2 = b + d[13].offset;
        L->ln2_g = b + d[14].offset;
        L->ln2_b = b + d[15].offset;
    }
    snprintf(m->file_dtype, sizeof m->file_dtype, "%s", dtype_seen ? dtype_seen : "?");
    rc = pack_layers(m, err);
    if (rc != PX_OK) {
        goto done;
    }
    *out = m;
    m = NULL;
    rc = PX_OK;
done:
    px_free(decls);
    safetensors_close(st);
    bert_model_close(m);
    return rc;
}

void bert_model_close(struct bert_model *m)
{
    if (m == NULL) {
        return;
    }
    px_free(m->block);
    px_free(m->packed);
    px_free(m->layers);
    px_free(m);
}

const struct bert_config *bert_model_config(const struct bert_model *m) { return &m->cfg; }
size_t bert_model_n_params(const struct bert_model *m) { return m->n_params; }
const char *bert_model_file_dtype(const struct bert_model *m) { return m->file_dtype; }

// ---- per-call state ----

struct bert_ctx_params bert_ctx_default_params(void)
{
    struct bert_ctx_params p = {
        .n_threads = 1,
        .max_batch_tokens = 8192,
        .max_seq_len = 0,
    };
    return p;
}

struct bert_ctx {
    const struct bert_model *m; // borrowed
    struct pool *pool;          // owned
    int max_tokens;             // T capacity
    int max_seq;                // L capacity
    float *arena;               // owned: all buffers below point into it
    float *x;                   // (T, H)   hidden states
    float *qkv;                 // (T, 3H)
    float *att;                 // (T, H)   attention context
    float *tmp;                 // (T, H)   dense outputs before the residual LayerNorm
    float *ffn;                 // (T, I)
    float *scores;              // (nth, L, L) one score matrix per thread
    // current call
    const int32_t *ids;
    const int32_t *seq_lens;
    int32_t *seq_off;           // owned: (max_tokens + 1) start row of each sequence
    int n_seq;
    int n_tok;
};

int bert_ctx_new(const struct bert_model *m, const struct bert_ctx_params *params,
                 struct bert_ctx **out, struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct bert_ctx *c = NULL;
    struct bert_ctx_params p = params ? *params : bert_ctx_default_params();
    const struct bert_config *cfg = &m->cfg;
    *out = NULL;
    if (p.max_seq_len <= 0 || p.max_seq_len > cfg->max_positions) {
        p.max_seq_len = cfg->max_positions;
    }
    if (p.max_batch_tokens < p.max_seq_len) {
        p.max_batch_tokens = p.max_seq_len;
    }
    if (p.n_threads < 1 || p.n_threads > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "threads must be 1..%d, got %d", LIMIT_THREADS,
                       p.n_threads);
    }
    c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory creating an encoder context");
        goto done;
    }
    c->m = m;
    c->max_tokens = p.max_batch_tokens;
    c->max_seq = p.max_seq_len;
    size_t T = (size_t)c->max_tokens, H = (size_t)cfg->hidden, I = (size_t)cfg->intermediate;
    size_t L = (size_t)c->max_seq;
    size_t sizes[6] = {T * H, T * 3 * H, T * H, T * H, T * I, (size_t)p.n_threads * L * L};
    size_t total = 0;
    for (int i = 0; i < 6; i++) {
        total += round16(sizes[i]);
    }
    c->arena = px_malloc_aligned(total * sizeof(float), 64);
    c->seq_off = px_malloc(((size_t)c->max_tokens + 1) * sizeof *c->seq_off);
    if (c->arena == NULL || c->seq_off == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory: %zu MiB of encoder scratch for %d tokens",
                     total * sizeof(float) >> 20, c->max_tokens);
        goto done;
    }
    float *q = c->arena;
    float **slots[6] = {&c->x, &c->qkv, &c->att, &c->tmp, &c->ffn, &c->scores};
    for (int i = 0; i < 6; i++) {
        *slots[i] = q;
        q += round16(sizes[i]);
    }
    rc = pool_new(p.n_threads, &c->pool, err);
    if (rc != PX_OK) {
        goto done;
    }
    gemm_init();
    *out = c;
    c = NULL;
    rc = PX_OK;
done:
    bert_ctx_free(c);
    return rc;
}

void bert_ctx_free(struct bert_ctx *c)
{
    if (c == NULL) {
        return;
    }
    pool_free(c->pool);
    px_free(c->arena);
    px_free(c->seq_off);
    px_free(c);
}

// ---- forward pass ----

// Rows below which a GEMM is split by output columns instead of rows (per thread).
#define SPLIT_ROWS_MIN_PER_THREAD 32

// out (M, N) = in (M, K) · Wᵀ + b for this thread's share: rows [r0, r1) of all columns, or all
// rows of columns [n0, n1) — through the packed panels pw when the model has them.
static void linear_part(const float *in, size_t M, size_t K, const float *W,
                        const struct gemm_packed *pw, const float *b, size_t N, float *out,
                        bool by_rows, const struct pool_task *t)
{
    size_t lo, hi;
    if (by_rows) {
        pool_split(M, t->ith, t->nth, &lo, &hi);
        gemm(hi - lo, N, K, in + lo * K, K, W, K, b, out + lo * N, N);
    } else if (pw->panels != NULL) {
        pool_split(pw->n_panels, t->ith, t->nth, &lo, &hi);
        gemm_packed_panels(M, in, K, pw, b, out, N, lo, hi);
    } else {
        pool_split(N, t->ith, t->nth, &lo, &hi);
        gemm(M, hi - lo, K, in, K, W + lo * K, K, b + lo, out + lo, N);
    }
}

static void activation(enum bert_act act, float *x, size_t n)
{
    switch (act) {
    case BERT_ACT_GELU: kern_gelu(x, n); break;
    case BERT_ACT_GELU_TANH: kern_gelu_tanh_ref(x, n); break;
    case BERT_ACT_RELU: kern_relu_ref(x, n); break;
    }
}

// Applies act to this thread's share of out (M, N), matching linear_part's split.
// (The column ranges must be exactly linear_part's: no barrier separates the two.)
static void activation_part(enum bert_act act, float *out, size_t M, size_t N,
                            const struct gemm_packed *pw, bool by_rows,
                            const struct pool_task *t)
{
    size_t lo, hi;
    if (by_rows) {
        pool_split(M, t->ith, t->nth, &lo, &hi);
        activation(act, out + lo * N, (hi - lo) * N);
    } else {
        if (pw->panels != NULL) {
            pool_split(pw->n_panels, t->ith, t->nth, &lo, &hi);
            lo = lo * GEMM_PANEL < N ? lo * GEMM_PANEL : N;
            hi = hi * GEMM_PANEL < N ? hi * GEMM_PANEL : N;
        } else {
            pool_split(N, t->ith, t->nth, &lo, &hi);
        }
        for (size_t r = 0; r < M; r++) {
            activation(act, out + r * N + lo, hi - lo);
        }
    }
}

// x[r] = LN(x[r] + add[r]) for this thread's rows.
static void residual_ln_part(float *x, const float *add, const float *g, const float *b,
                             size_t M, size_t H, float eps, const struct pool_task *t)
{
    size_t lo, hi;
    pool_split(M, t->ith, t->nth, &lo, &hi);
    for (size_t r = lo; r < hi; r++) {
        kern_add_layernorm(x + r * H, add + r * H, g, b, H, eps);
    }
}

// Self-attention for (sequence, head) tasks taken round-robin. qkv: (T, 3H); att: (T, H).
static void attention_part(struct bert_ctx *c, const struct pool_task *t)
{
    const struct bert_config *cfg = &c->m->cfg;
    const size_t H = (size_t)cfg->hidden, nh = (size_t)cfg->n_heads, dh = H / nh;
    const size_t ld = 3 * H;
    const float scale = 1.0f / sqrtf((float)dh);
    float *S = c->scores + (size_t)t->ith * (size_t)c->max_seq * (size_t)c->max_seq;
    size_t n_tasks = (size_t)c->n_seq * nh;
    for (size_t task = (size_t)t->ith; task < n_tasks; task += (size_t)t->nth) {
        size_t s = task / nh, h = task % nh;
        size_t L = (size_t)c->seq_lens[s];
        size_t row0 = (size_t)c->seq_off[s];
        const float *Q = c->qkv + row0 * ld + h * dh;
        const float *K = Q + H;
        const float *V = Q + 2 * H;
        gemm(L, L, dh, Q, ld, K, ld, NULL, S, L); // S (L, L) = Q Kᵀ
        for (size_t i = 0; i < L; i++) {
            float *row = S + i * L;
            for (size_t j = 0; j < L; j++) {
                row[j] *= scale;
            }
            kern_softmax(row, L);
        }
        gemm_nn(L, dh, L, S, L, V, ld, 0.0f, c->att + row0 * H + h * dh, H); // (L, dh) = S V
    }
}

static void forward_thread(void *arg, const struct pool_task *t)
{
    struct bert_ctx *c = arg;
    const struct bert_model *m = c->m;
    const struct bert_config *cfg = &m->cfg;
    const size_t H = (size_t)cfg->hidden, I = (size_t)cfg->intermediate;
    const size_t T = (size_t)c->n_tok;
    const float eps = cfg->layer_norm_eps;
    const bool by_rows = T >= (size_t)SPLIT_ROWS_MIN_PER_THREAD * (size_t)t->nth;

    // Embeddings: rows split across threads.
    size_t lo, hi;
    pool_split(T, t->ith, t->nth, &lo, &hi);
    for (int s = 0; s < c->n_seq; s++) {
        size_t a = (size_t)c->seq_off[s], z = (size_t)c->seq_off[s + 1];
        for (size_t r = a > lo ? a : lo; r < z && r < hi; r++) {
            const float *we = m->word_emb + (size_t)c->ids[r] * H;
            const float *pe = m->pos_emb + (r - a) * H;
            float *x = c->x + r * H;
            for (size_t k = 0; k < H; k++) {
                x[k] = we[k] + pe[k] + m->type_emb[k];
            }
            kern_add_layernorm(x, NULL, m->emb_ln_g, m->emb_ln_b, H, eps);
        }
    }
    pool_barrier(t);

    for (int l = 0; l < cfg->n_layers; l++) {
        const struct bert_layer *L = &m->layers[l];
        linear_part(c->x, T, H, L->w_qkv, &L->p_qkv, L->b_qkv, 3 * H, c->qkv, by_rows, t);
        pool_barrier(t);
        attention_part(c, t);
        pool_barrier(t);
        linear_part(c->att, T, H, L->w_o, &L->p_o, L->b_o, H, c->tmp, by_rows, t);
        if (!by_rows) {
            pool_barrier(t);
        }
        residual_ln_part(c->x, c->tmp, L->ln1_g, L->ln1_b, T, H, eps, t);
        pool_barrier(t);
        linear_part(c->x, T, H, L->w_i, &L->p_i, L->b_i, I, c->ffn, by_rows, t);
        activation_part(cfg->act, c->ffn, T, I, &L->p_i, by_rows, t);
        pool_barrier(t);
        linear_part(c->ffn, T, I, L->w_o2, &L->p_o2, L->b_o2, H, c->tmp, by_rows, t);
        if (!by_rows) {
            pool_barrier(t);
        }
        residual_ln_part(c->x, c->tmp, L->ln2_g, L->ln2_b, T, H, eps, t);
        pool_barrier(t);
    }
}

int bert_forward(struct bert_ctx *c, const int32_t *ids, const int32_t *seq_lens, int n_seq,
                 const float **hidden, struct px_err *err)
{
    const struct bert_config *cfg = &c->m->cfg;
    *hidden = NULL;
    if (n_seq < 1) {
        return px_fail(err, PX_EINVAL, "empty batch");
    }
    if (n_seq > c->max_tokens) {
        return px_fail(err, PX_ELIMIT, "batch of %d sequences exceeds max_batch_tokens %d", n_seq,
                       c->max_tokens);
    }
    size_t total = 0;
    for (int s = 0; s < n_seq; s++) {
        if (seq_lens[s] < 1 || seq_lens[s] > c->max_seq) {
            return px_fail(err, PX_EINVAL, "sequence %d has %d tokens, outside 1..%d", s,
                           seq_lens[s], c->max_seq);
        }
        c->seq_off[s] = (int32_t)total;
        total += (size_t)seq_lens[s];
        if (total > (size_t)c->max_tokens) {
            return px_fail(err, PX_ELIMIT, "batch exceeds max_batch_tokens %d", c->max_tokens);
        }
    }
    c->seq_off[n_seq] = (int32_t)total;
    for (int s = 0; s < n_seq; s++) {
        for (int32_t i = 0; i < seq_lens[s]; i++) {
            int32_t id = ids[c->seq_off[s] + i];
            if (id < 0 || id >= cfg->vocab_size) {
                return px_fail(err, PX_EINVAL,
                               "sequence %d position %d: token id %d outside the vocabulary "
                               "(0..%d)",
                               s, i, id, cfg->vocab_size - 1);
            }
        }
    }
    c->ids = ids;
    c->seq_lens = seq_lens;
    c->n_seq = n_seq;
    c->n_tok = (int)total;
    pool_run(c->pool, forward_thread, c);
    *hidden = c->x;
    return PX_OK;
}
