// testmodel.c — see testmodel.h. Weights are N(0, 0.5)-ish from a xorshift generator, LayerNorm
// gammas near 1, so activations stay in a realistic range.
#include "testmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stw.h"

const char *const testmodel_vocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "customer", "bank", "loan",
    "credit", "score", "high", "income", "young", "##s", "##ing", "save", "invest", "retire",
    "##ment", ",", ".", "!", "?", "$", "1", "2", "3", "0", "##0", "card", "with", "over",
    "under", "and", "of", "in", "for", "account",
};
const int testmodel_vocab_size = (int)(sizeof testmodel_vocab / sizeof testmodel_vocab[0]);

struct testmodel_spec testmodel_default_spec(void)
{
    struct testmodel_spec s = {
        .hidden = 16, .layers = 2, .heads = 4, .intermediate = 32, .max_positions = 64,
        .dtype = "F32", .prefix = "", .hidden_act = "gelu", .pooling = "mean",
        .normalize = true, .max_seq_length = 32, .write_weights = true, .seed = 1,
    };
    return s;
}

static uint32_t g_rng;

static float rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return ((float)(g_rng & 0xffffff) / (float)0x1000000 - 0.5f); // uniform(-0.5, 0.5)
}

static void add(struct stw *w, const struct testmodel_spec *s, const char *name, int n_dims,
                int64_t d0, int64_t d1, float base, float scale)
{
    if (s->omit_tensor != NULL && strcmp(s->omit_tensor, name) == 0) {
        return;
    }
    int64_t shape[2] = {d0, d1};
    if (s->misshape_tensor != NULL && strcmp(s->misshape_tensor, name) == 0) {
        shape[0] += 1;
    }
    size_t n = (size_t)shape[0] * (size_t)(n_dims == 2 ? shape[1] : 1);
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = base + scale * rnd();
    }
    if (s->nan_tensor != NULL && strcmp(s->nan_tensor, name) == 0) {
        v[0] = NAN;
    }
    bool as_int = s->int_tensor != NULL && strcmp(s->int_tensor, name) == 0;
    char full[160];
    char nm[128];
    snprintf(nm, sizeof nm, "%s", name);
    size_t len = strlen(nm);
    if (s->gamma_beta && strstr(nm, "LayerNorm.") != NULL) {
        if (len > 7 && strcmp(nm + len - 7, ".weight") == 0) {
            snprintf(nm + len - 7, sizeof nm - (len - 7), ".gamma");
        } else if (len > 5 && strcmp(nm + len - 5, ".bias") == 0) {
            snprintf(nm + len - 5, sizeof nm - (len - 5), ".beta");
        }
    }
    snprintf(full, sizeof full, "%s%s", s->prefix, nm);
    if (as_int) {
        stw_add_raw(w, full, "I32", n_dims, shape, NULL, n * 4);
    } else {
        stw_add_f32(w, full, s->dtype, n_dims, shape, v);
    }
    free(v);
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f == NULL) {
        return -1;
    }
    fputs(text, f);
    return fclose(f);
}

int testmodel_write(const char *dir, const struct testmodel_spec *s)
{
    char buf[4096];
    g_rng = s->seed ? s->seed : 1;
    snprintf(buf, sizeof buf,
             "{\"model_type\": \"bert\", \"hidden_size\": %d, \"num_hidden_layers\": %d, "
             "\"num_attention_heads\": %d, \"intermediate_size\": %d, "
             "\"max_position_embeddings\": %d, \"vocab_size\": %d, \"type_vocab_size\": 2, "
             "\"layer_norm_eps\": 1e-12, \"hidden_act\": \"%s\"}\n",
             s->hidden, s->layers, s->heads, s->intermediate, s->max_positions,
             testmodel_vocab_size, s->hidden_act);
    if (write_text(dir, "config.json", buf) != 0) {
        return -1;
    }
    FILE *f = NULL;
    snprintf(buf, sizeof buf, "%s/vocab.txt", dir);
    f = fopen(buf, "w");
    if (f == NULL) {
        return -1;
    }
    for (int i = 0; i < testmodel_vocab_size; i++) {
        fprintf(f, "%s\n", testmodel_vocab[i]);
    }
    fclose(f);
    if (s->max_seq_length > 0) {
        snprintf(buf, sizeof buf, "{\"max_seq_length\": %d, \"do_lower_case\": false}\n",
                 s->max_seq_length);
        write_text(dir, "sentence_bert_config.json", buf);
    }
    if (s->pooling != NULL) {
        snprintf(buf, sizeof buf,
                 "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
                 "\"sentence_transformers.models.Transformer\"},\n"
                 " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": "
                 "\"sentence_transformers.models.Pooling\"}%s]\n",
                 s->normalize ? ",\n {\"idx\": 2, \"name\": \"2\", \"path\": \"2_Normalize\", "
                                "\"type\": \"sentence_transformers.models.Normalize\"}"
                              : "");
        write_text(dir, "modules.json", buf);
        snprintf(buf, sizeof buf, "%s/1_Pooling", dir);
        {
            mkdir(buf, 0755);
        }
        snprintf(buf, sizeof buf,
                 "{\"word_embedding_dimension\": %d, \"pooling_mode_cls_token\": %s, "
                 "\"pooling_mode_mean_tokens\": %s, \"pooling_mode_max_tokens\": %s, "
                 "\"pooling_mode_mean_sqrt_len_tokens\": false}\n",
                 s->hidden, strcmp(s->pooling, "cls") == 0 ? "true" : "false",
                 strcmp(s->pooling, "mean") == 0 ? "true" : "false",
                 strcmp(s->pooling, "max") == 0 ? "true" : "false");
        write_text(dir, "1_Pooling/config.json", buf);
    }
    if (!s->write_weights) {
        return 0;
    }
    struct stw *w = stw_new();
    const int64_t H = s->hidden, I = s->intermediate;
    add(w, s, "embeddings.word_embeddings.weight", 2, testmodel_vocab_size, H, 0.0f, 1.0f);
    add(w, s, "embeddings.position_embeddings.weight", 2, s->max_positions, H, 0.0f, 0.5f);
    add(w, s, "embeddings.token_type_embeddings.weight", 2, 2, H, 0.0f, 0.5f);
    add(w, s, "embeddings.LayerNorm.weight", 1, H, 0, 1.0f, 0.2f);
    add(w, s, "embeddings.LayerNorm.bias", 1, H, 0, 0.0f, 0.2f);
    const float ws = 2.0f / sqrtf((float)H);
    for (int l = 0; l < s->layers; l++) {
        char nm[128];
#define L(x) (snprintf(nm, sizeof nm, "encoder.layer.%d.%s", l, x), nm)
        add(w, s, L("attention.self.query.weight"), 2, H, H, 0.0f, ws);
        add(w, s, L("attention.self.query.bias"), 1, H, 0, 0.0f, 0.2f);
        add(w, s, L("attention.self.key.weight"), 2, H, H, 0.0f, ws);
        add(w, s, L("attention.self.key.bias"), 1, H, 0, 0.0f, 0.2f);
        add(w, s, L("attention.self.value.weight"), 2, H, H, 0.0f, ws);
        add(w, s, L("attention.self.value.bias"), 1, H, 0, 0.0f, 0.2f);
        add(w, s, L("attention.output.dense.weight"), 2, H, H, 0.0f, ws);
        add(w, s, L("attention.output.dense.bias"), 1, H, 0, 0.0f, 0.2f);
        add(w, s, L("attention.output.LayerNorm.weight"), 1, H, 0, 1.0f, 0.2f);
        add(w, s, L("attention.output.LayerNorm.bias"), 1, H, 0, 0.0f, 0.2f);
        add(w, s, L("intermediate.dense.weight"), 2, I, H, 0.0f, ws);
        add(w, s, L("intermediate.dense.bias"), 1, I, 0, 0.0f, 0.2f);
        add(w, s, L("output.dense.weight"), 2, H, I, 0.0f, 2.0f / sqrtf((float)I));
        add(w, s, L("output.dense.bias"), 1, H, 0, 0.0f, 0.2f);
        add(w, s, L("output.LayerNorm.weight"), 1, H, 0, 1.0f, 0.2f);
        add(w, s, L("output.LayerNorm.bias"), 1, H, 0, 0.0f, 0.2f);
#undef L
    }
    if (s->with_pooler) {
        add(w, s, "pooler.dense.weight", 2, H, H, 0.0f, ws);
        add(w, s, "pooler.dense.bias", 1, H, 0, 0.0f, 0.2f);
    }
    if (s->extra_tensor != NULL) {
        int64_t shape[1] = {4};
        stw_add_f32(w, s->extra_tensor, "F32", 1, shape, NULL);
    }
    snprintf(buf, sizeof buf, "%s/model.safetensors", dir);
    int rc = stw_write(w, buf);
    stw_free(w);
    return rc;
}
