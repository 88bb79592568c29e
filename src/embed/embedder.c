// embedder.c — model directory -> tokenizer + BERT + pooling; texts -> vectors.
//
// Directory reading follows sentence-transformers (see embedder.h). embed_texts works in chunks
// of CHUNK_TEXTS texts: tokenize the chunk, order it by token count (longest first), cut it into
// batches of at most batch_size texts and max_batch_tokens tokens, run each batch packed through
// the encoder, pool and normalise each sequence straight into its row of the caller's output.
#include "embedder.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bert.h"
#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"

// Texts tokenized and sorted together; bounds the token buffer at CHUNK_TEXTS * max_seq_length.
#define CHUNK_TEXTS 2048
// Tokens per forward pass: 16384 tokens of MiniLM scratch is ~240 MiB; past a few thousand rows
// GEMM efficiency no longer improves.
#define MAX_BATCH_TOKENS 16384

struct embedder {
    struct embedder_info info;
    struct tokenizer *tok;   // owned
    struct bert_model *bert; // owned
    char vocab_file[32];
    char dtype[8];
    bool lower;              // tokenizer lowercases
};

const char *embed_pooling_name(enum embed_pooling p)
{
    switch (p) {
    case EMBED_POOL_MEAN: return "mean";
    case EMBED_POOL_CLS: return "cls";
    case EMBED_POOL_MAX: return "max";
    case EMBED_POOL_MEAN_SQRT_LEN: return "mean_sqrt_len";
    }
    return "?";
}

// ---- directory reading ----

static int join(char *out, const char *dir, const char *name, struct px_err *err)
{
    return fsx_join(out, LIMIT_PATH, dir, name, err);
}

int embedder_check_dir(const char *dir, struct px_err *err)
{
    char p[LIMIT_PATH];
    if (!fsx_is_dir(dir)) {
        return px_fail(err, PX_ENOENT, "model directory '%s' does not exist", dir);
    }
    int rc = join(p, dir, "config.json", err);
    if (rc != PX_OK) {
        return rc;
    }
    if (!fsx_is_file(p)) {
        return px_fail(err, PX_ENOENT,
                       "'%s' is not a model directory: it has no config.json", dir);
    }
    rc = join(p, dir, "model.safetensors", err);
    if (rc != PX_OK) {
        return rc;
    }
    if (!fsx_is_file(p)) {
        char bin[LIMIT_PATH];
        join(bin, dir, "pytorch_model.bin", NULL);
        if (fsx_is_file(bin)) {
            return px_fail(err, PX_ENOWEIGHTS,
                           "model directory '%s' has pytorch_model.bin but no model.safetensors; "
                           "only safetensors weights are read (pickle files can run code)",
                           dir);
        }
        return px_fail(err, PX_ENOWEIGHTS,
                       "model directory '%s' has no weights file (model.safetensors is missing)",
                       dir);
    }
    return PX_OK;
}

// modules.json + the pooling module's config.json.
static int read_modules(const char *dir, struct embedder_info *info, struct px_err *err)
{
    int rc = PX_OK;
    cJSON *mods = NULL;
    cJSON *pool = NULL;
    char p[LIMIT_PATH];
    const char *pool_path = NULL;
    info->pooling = EMBED_POOL_MEAN;
    info->normalize = true;
    rc = join(p, dir, "modules.json", err);
    if (rc != PX_OK || !fsx_is_file(p)) {
        return rc; // no modules.json: mean + normalize (see embedder.h)
    }
    rc = jsonx_parse_file(p, LIMIT_CONFIG_FILE_BYTES, &mods, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (!cJSON_IsArray(mods)) {
        rc = px_fail(err, PX_EFORMAT, "%s: expected a JSON array of modules", p);
        goto done;
    }
    info->normalize = false;
    bool have_transformer = false;
    const cJSON *m = NULL;
    int i = 0;
    cJSON_ArrayForEach(m, mods)
    {
        const char *type = NULL, *path = NULL;
        char what[LIMIT_PATH + 32];
        snprintf(what, sizeof what, "%s module %d", p, i++);
        rc = jsonx_get_string(m, "type", true, NULL, &type, what, err);
        if (rc == PX_OK) {
            rc = jsonx_get_string(m, "path", false, "", &path, what, err);
        }
        if (rc != PX_OK) {
            goto done;
        }
        const char *dot = strrchr(type, '.');
        const char *cls = dot ? dot + 1 : type;
        if (strcmp(cls, "Transformer") == 0) {
            have_transformer = true;
        } else if (strcmp(cls, "Pooling") == 0) {
            pool_path = path;
        } else if (strcmp(cls, "Normalize") == 0) {
            info->normalize = true;
        } else {
            rc = px_fail(err, PX_EUNSUPPORTED,
                         "%s: module type '%s' is not supported (Transformer, Pooling, Normalize)",
                         what, type);
            goto done;
        }
    }
    if (!have_transformer) {
        rc = px_fail(err, PX_EFORMAT, "%s: no sentence_transformers.models.Transformer module", p);
        goto done;
    }
    if (pool_path == NULL) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: no Pooling module (token embeddings only)", p);
        goto done;
    }
    if (strstr(pool_path, "..") != NULL || pool_path[0] == '/') {
        rc = px_fail(err, PX_EFORMAT, "%s: pooling path '%s' leaves the model directory", p,
                     pool_path);
        goto done;
    }
    char sub[LIMIT_PATH];
    rc = join(sub, dir, pool_path, err);
    if (rc == PX_OK) {
        rc = join(p, sub, "config.json", err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    rc = jsonx_parse_file(p, LIMIT_CONFIG_FILE_BYTES, &pool, err);
    if (rc != PX_OK) {
        goto done;
    }
    static const struct {
        const char *key;
        enum embed_pooling mode;
    } modes[] = {
        {"pooling_mode_mean_tokens", EMBED_POOL_MEAN},
        {"pooling_mode_cls_token", EMBED_POOL_CLS},
        {"pooling_mode_max_tokens", EMBED_POOL_MAX},
        {"pooling_mode_mean_sqrt_len_tokens", EMBED_POOL_MEAN_SQRT_LEN},
    };
    int n_on = 0;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        bool on = false;
        rc = jsonx_get_bool(pool, modes[k].key, false, false, &on, p, err);
        if (rc != PX_OK) {
            goto done;
        }
        if (on) {
            info->pooling = modes[k].mode;
            n_on++;
        }
    }
    const char *other[] = {"pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"};
    for (size_t k = 0; k < 2; k++) {
        bool on = false;
        rc = jsonx_get_bool(pool, other[k], false, false, &on, p, err);
        if (rc != PX_OK) {
            goto done;
        }
        if (on) {
            rc = px_fail(err, PX_EUNSUPPORTED, "%s: %s is not supported", p, other[k]);
            goto done;
        }
    }
    if (n_on != 1) {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "%s: exactly one pooling mode must be true (found %d; concatenated poolings "
                     "are not supported)",
                     p, n_on);
        goto done;
    }
    int64_t dim = 0;
    rc = jsonx_get_int(pool, "word_embedding_dimension", false, 0, 0, LIMIT_BERT_HIDDEN, &dim, p,
                       err);
    if (rc != PX_OK) {
        goto done;
    }
    info->dim = (int)dim; // checked against the encoder later
    rc = PX_OK;
done:
    cJSON_Delete(mods);
    cJSON_Delete(pool);
    return rc;
}

// tokenizer_config.json and sentence_bert_config.json, both optional.
static int read_tokenizer_config(const char *dir, struct tokenizer_params *tp, int *max_seq,
                                 bool *st_lower, struct px_err *err)
{
    int rc = PX_OK;
    cJSON *j = NULL;
    char p[LIMIT_PATH];
    *max_seq = 0;
    *st_lower = false;
    rc = join(p, dir, "tokenizer_config.json", err);
    if (rc == PX_OK && fsx_is_file(p)) {
        rc = jsonx_parse_file(p, LIMIT_CONFIG_FILE_BYTES, &j, err);
        if (rc != PX_OK) {
            goto done;
        }
        bool lower = true, chinese = true;
        rc = jsonx_get_bool(j, "do_lower_case", false, true, &lower, p, err);
        if (rc == PX_OK) {
            rc = jsonx_get_bool(j, "tokenize_chinese_chars", false, true, &chinese, p, err);
        }
        if (rc != PX_OK) {
            goto done;
        }
        tp->do_lower_case = lower;
        tp->tokenize_chinese_chars = chinese;
        // strip_accents: null (or absent) follows do_lower_case, as in BertTokenizer
        const cJSON *sa = cJSON_GetObjectItemCaseSensitive(j, "strip_accents");
        if (sa == NULL || cJSON_IsNull(sa)) {
            tp->strip_accents = lower;
        } else if (cJSON_IsBool(sa)) {
            tp->strip_accents = cJSON_IsTrue(sa);
        } else {
            rc = px_fail(err, PX_EFORMAT, "%s: \"strip_accents\" must be true, false or null", p);
            goto done;
        }
        int64_t mml = 0;
        rc = jsonx_get_int(j, "model_max_length", false, 0, 0, INT64_MAX / 2, &mml, p, err);
        if (rc != PX_OK) {
            // some tokenizer configs store a huge float sentinel here; ignore it
            rc = PX_OK;
            mml = 0;
        }
        if (mml > 0 && mml <= LIMIT_SEQ_TOKENS) {
            *max_seq = (int)mml;
        }
        cJSON_Delete(j);
        j = NULL;
    }
    rc = join(p, dir, "sentence_bert_config.json", err);
    if (rc == PX_OK && fsx_is_file(p)) {
        rc = jsonx_parse_file(p, LIMIT_CONFIG_FILE_BYTES, &j, err);
        if (rc != PX_OK) {
            goto done;
        }
        int64_t msl = 0;
        rc = jsonx_get_int(j, "max_seq_length", false, 0, 2, LIMIT_SEQ_TOKENS, &msl, p, err);
        if (rc == PX_OK) {
            rc = jsonx_get_bool(j, "do_lower_case", false, false, st_lower, p, err);
        }
        if (rc != PX_OK) {
            goto done;
        }
        if (msl > 0) {
            *max_seq = (int)msl; // wins over the tokenizer's own limits
        }
    }
done:
    cJSON_Delete(j);
    return rc;
}

// Reads the tokenizer settings of dir and opens its vocab (vocab.txt, else tokenizer.json).
// v_path: (LIMIT_PATH) receives the vocab path; vocab_file: its base name.
static int open_tokenizer(const char *dir, const struct bert_config *bc, struct tokenizer **out,
                          char *v_path, char *vocab_file, size_t n_vocab_file, bool *lower,
                          struct px_err *err)
{
    struct tokenizer_params tp = tokenizer_default_params();
    int max_seq = 0;
    bool st_lower = false;
    int rc = read_tokenizer_config(dir, &tp, &max_seq, &st_lower, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (st_lower) {
        tp.do_lower_case = true; // sentence-transformers lowercases the text before tokenizing
    }
    if (max_seq <= 0 || max_seq > bc->max_positions) {
        max_seq = bc->max_positions;
    }
    tp.max_tokens = max_seq;
    *lower = tp.do_lower_case;
    rc = join(v_path, dir, "vocab.txt", err);
    if (rc != PX_OK) {
        return rc;
    }
    if (fsx_is_file(v_path)) {
        snprintf(vocab_file, n_vocab_file, "vocab.txt");
        return tokenizer_open_vocab(v_path, &tp, out, err);
    }
    join(v_path, dir, "tokenizer.json", NULL);
    if (!fsx_is_file(v_path)) {
        return px_fail(err, PX_ENOENT,
                       "model directory '%s' has neither vocab.txt nor tokenizer.json", dir);
    }
    snprintf(vocab_file, n_vocab_file, "tokenizer.json");
    return tokenizer_open_json(v_path, &tp, out, err);
}

int embedder_open_tokenizer(const char *dir, struct tokenizer **out, struct px_err *err)
{
    char p[LIMIT_PATH], v_path[LIMIT_PATH], vf[32];
    struct bert_config bc;
    *out = NULL;
    if (!fsx_is_dir(dir)) {
        return px_fail(err, PX_ENOENT, "model directory '%s' does not exist", dir);
    }
    int rc = join(p, dir, "config.json", err);
    if (rc == PX_OK) {
        rc = bert_config_load(p, &bc, err);
    }
    if (rc == PX_OK) {
        bool lower = false;
        rc = open_tokenizer(dir, &bc, out, v_path, vf, sizeof vf, &lower, err);
    }
    return rc;
}

int embedder_open(const char *dir, struct embedder **out, struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct embedder *e = NULL;
    char cfg_path[LIMIT_PATH], w_path[LIMIT_PATH], v_path[LIMIT_PATH];
    *out = NULL;
    rc = embedder_check_dir(dir, err);
    if (rc != PX_OK) {
        return rc;
    }
    e = px_calloc(1, sizeof *e);
    if (e == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory opening %s", dir);
    }
    struct embedder_info *info = &e->info;
    rc = read_modules(dir, info, err);
    if (rc != PX_OK) {
        goto done;
    }
    join(cfg_path, dir, "config.json", NULL);
    join(w_path, dir, "model.safetensors", NULL);
    rc = bert_model_open(cfg_path, w_path, &e->bert, err);
    if (rc != PX_OK) {
        goto done;
    }
    const struct bert_config *bc = bert_model_config(e->bert);
    rc = open_tokenizer(dir, bc, &e->tok, v_path, e->vocab_file, sizeof e->vocab_file,
                        &e->lower, err);
    if (rc != PX_OK) {
        goto done;
    }
    int max_seq = tokenizer_max_tokens(e->tok);
    if (tokenizer_vocab_size(e->tok) > (size_t)bc->vocab_size) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s has %zu tokens but config.json says vocab_size %d: tokenizer and weights "
                     "do not belong together",
                     v_path, tokenizer_vocab_size(e->tok), bc->vocab_size);
        goto done;
    }
    if (info->dim != 0 && info->dim != bc->hidden) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s: pooling word_embedding_dimension %d differs from hidden_size %d", dir,
                     info->dim, bc->hidden);
        goto done;
    }
    info->dim = bc->hidden;
    info->max_seq_length = max_seq;
    info->do_lower_case = e->lower;
    info->vocab_file = e->vocab_file;
    snprintf(e->dtype, sizeof e->dtype, "%s", bert_model_file_dtype(e->bert));
    info->weights_dtype = e->dtype;
    info->n_params = bert_model_n_params(e->bert);
    info->n_layers = bc->n_layers;
    info->n_heads = bc->n_heads;
    *out = e;
    e = NULL;
    rc = PX_OK;
done:
    embedder_close(e);
    return rc;
}

void embedder_close(struct embedder *e)
{
    if (e == NULL) {
        return;
    }
    tokenizer_free(e->tok);
    bert_model_close(e->bert);
    px_free(e);
}

const struct embedder_info *embedder_info(const struct embedder *e) { return &e->info; }
const struct tokenizer *embedder_tokenizer(const struct embedder *e) { return e->tok; }

// ---- per-thread state ----

struct embed_ctx_params embed_ctx_default_params(void)
{
    struct embed_ctx_params p = {
        .n_threads = 1,
        .batch_size = 32,
        .utf8 = TOKENIZER_UTF8_STRICT,
    };
    return p;
}

struct embed_ctx {
    const struct embedder *e; // borrowed
    struct embed_ctx_params params;
    struct bert_ctx *bert;    // owned
    int32_t *chunk_ids;       // (CHUNK_TEXTS, max_seq) token ids of the current chunk
    int32_t *chunk_len;       // (CHUNK_TEXTS) tokens per text
    uint32_t *order;          // (CHUNK_TEXTS) chunk indices sorted by length, longest first
    uint32_t *count;          // (max_seq + 2) counting-sort buckets
    int32_t *batch_ids;       // (max_batch_tokens) packed ids of one batch
    int32_t *batch_len;       // (batch_size)
    int max_batch_tokens;
};

int embed_ctx_new(const struct embedder *e, const struct embed_ctx_params *params,
                  struct embed_ctx **out, struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct embed_ctx *c = NULL;
    struct embed_ctx_params p = params ? *params : embed_ctx_default_params();
    *out = NULL;
    if (p.batch_size < 1 || p.batch_size > LIMIT_BATCH) {
        return px_fail(err, PX_EINVAL, "batch size must be 1..%d, got %d", LIMIT_BATCH,
                       p.batch_size);
    }
    if (p.n_threads < 1 || p.n_threads > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "threads must be 1..%d, got %d", LIMIT_THREADS,
                       p.n_threads);
    }
    c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory creating an embedding context");
        goto done;
    }
    c->e = e;
    c->params = p;
    size_t L = (size_t)e->info.max_seq_length;
    size_t mbt = (size_t)p.batch_size * L;
    if (mbt > MAX_BATCH_TOKENS) {
        mbt = MAX_BATCH_TOKENS > L ? MAX_BATCH_TOKENS : L;
    }
    c->max_batch_tokens = (int)mbt;
    struct bert_ctx_params bp = bert_ctx_default_params();
    bp.n_threads = p.n_threads;
    bp.max_batch_tokens = c->max_batch_tokens;
    bp.max_seq_len = (int)L;
    rc = bert_ctx_new(e->bert, &bp, &c->bert, err);
    if (rc != PX_OK) {
        goto done;
    }
    c->chunk_ids = px_malloc(CHUNK_TEXTS * L * sizeof *c->chunk_ids);
    c->chunk_len = px_malloc(CHUNK_TEXTS * sizeof *c->chunk_len);
    c->order = px_malloc(CHUNK_TEXTS * sizeof *c->order);
    c->count = px_malloc((L + 2) * sizeof *c->count);
    c->batch_ids = px_malloc(mbt * sizeof *c->batch_ids);
    c->batch_len = px_malloc((size_t)p.batch_size * sizeof *c->batch_len);
    if (!c->chunk_ids || !c->chunk_len || !c->order || !c->count || !c->batch_ids || !c->batch_len) {
        rc = px_fail(err, PX_ENOMEM, "out of memory creating an embedding context");
        goto done;
    }
    *out = c;
    c = NULL;
    rc = PX_OK;
done:
    embed_ctx_free(c);
    return rc;
}

void embed_ctx_free(struct embed_ctx *c)
{
    if (c == NULL) {
        return;
    }
    bert_ctx_free(c->bert);
    px_free(c->chunk_ids);
    px_free(c->chunk_len);
    px_free(c->order);
    px_free(c->count);
    px_free(c->batch_ids);
    px_free(c->batch_len);
    px_free(c);
}

// ---- embedding ----

// Pools one sequence's token states h: (L, H) into v: (H) and normalises it when asked.
static void pool_one(const float *h, int L, int H, enum embed_pooling mode, bool normalize,
                     float *v)
{
    switch (mode) {
    case EMBED_POOL_CLS:
        memcpy(v, h, (size_t)H * sizeof *v);
        break;
    case EMBED_POOL_MAX:
        memcpy(v, h, (size_t)H * sizeof *v);
        for (int t = 1; t < L; t++) {
            for (int k = 0; k < H; k++) {
                float x = h[(size_t)t * (size_t)H + (size_t)k];
                v[k] = x > v[k] ? x : v[k];
            }
        }
        break;
    case EMBED_POOL_MEAN:
    case EMBED_POOL_MEAN_SQRT_LEN: {
        for (int k = 0; k < H; k++) {
            double s = 0.0;
            for (int t = 0; t < L; t++) {
                s += h[(size_t)t * (size_t)H + (size_t)k];
            }
            double div = mode == EMBED_POOL_MEAN ? (double)L : sqrt((double)L);
            v[k] = (float)(s / div);
        }
        break;
    }
    }
    if (normalize) {
        double ss = 0.0;
        for (int k = 0; k < H; k++) {
            ss += (double)v[k] * v[k];
        }
        // F.normalize's eps: a zero vector stays zero instead of becoming NaN
        double n = sqrt(ss);
        float inv = (float)(1.0 / (n > 1e-12 ? n : 1e-12));
        for (int k = 0; k < H; k++) {
            v[k] *= inv;
        }
    }
}

// Orders idx[0..n) by len descending, equal lengths in input order. A counting sort: lengths
// are bounded by max_seq_length (<= LIMIT_SEQ_TOKENS), so it is O(n + L) and needs no comparator
// state. count: (L + 2) scratch.
static void sort_by_length(uint32_t *idx, size_t n, const int32_t *len, uint32_t *count, size_t L)
{
    memset(count, 0, (L + 2) * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        count[L - (size_t)len[i]]++; // bucket 0 holds the longest
    }
    uint32_t pos = 0;
    for (size_t b = 0; b <= L; b++) {
        uint32_t k = count[b];
        count[b] = pos;
        pos += k;
    }
    for (size_t i = 0; i < n; i++) {
        idx[count[L - (size_t)len[i]]++] = (uint32_t)i;
    }
}

int embed_texts(struct embed_ctx *c, const char *const *texts, const size_t *lens, size_t n,
                float *out, embed_progress_fn progress, void *user, struct embed_stats *stats,
                struct px_err *err)
{
    const struct embedder_info *info = &c->e->info;
    const size_t L = (size_t)info->max_seq_length;
    const int H = info->dim;
    struct embed_stats st = {0};
    int rc = PX_OK;
    for (size_t base = 0; base < n; base += CHUNK_TEXTS) {
        size_t m = n - base < CHUNK_TEXTS ? n - base : CHUNK_TEXTS;
        for (size_t i = 0; i < m; i++) {
            struct tokenizer_result tr;
            rc = tokenizer_encode(c->e->tok, texts[base + i], lens[base + i], c->params.utf8,
                                  c->chunk_ids + i * L, L, &tr, err);
            if (rc != PX_OK) {
                st.i_error = base + i;
                goto done;
            }
            c->chunk_len[i] = (int32_t)tr.n_ids;
            st.n_tokens += tr.n_ids;
            st.n_truncated += tr.n_truncated > 0;
            st.n_invalid_utf8 += tr.n_invalid_utf8;
        }
        sort_by_length(c->order, m, c->chunk_len, c->count, L);
        size_t i = 0;
        while (i < m) {
            int n_seq = 0;
            size_t n_tok = 0;
            while (i + (size_t)n_seq < m && n_seq < c->params.batch_size) {
                uint32_t k = c->order[i + (size_t)n_seq];
                size_t len = (size_t)c->chunk_len[k];
                if (n_tok + len > (size_t)c->max_batch_tokens) {
                    break;
                }
                memcpy(c->batch_ids + n_tok, c->chunk_ids + k * L, len * sizeof(int32_t));
                c->batch_len[n_seq++] = (int32_t)len;
                n_tok += len;
            }
            const float *hidden = NULL;
            rc = bert_forward(c->bert, c->batch_ids, c->batch_len, n_seq, &hidden, err);
            if (rc != PX_OK) {
                st.i_error = base + c->order[i];
                goto done;
            }
            size_t row = 0;
            for (int s = 0; s < n_seq; s++) {
                uint32_t k = c->order[i + (size_t)s];
                pool_one(hidden + row * (size_t)H, c->batch_len[s], H, info->pooling,
                         info->normalize, out + (base + k) * (size_t)H);
                row += (size_t)c->batch_len[s];
            }
            i += (size_t)n_seq;
            if (progress != NULL) {
                progress(base + i, n, user);
            }
        }
    }
done:
    if (stats != NULL) {
        *stats = st;
    }
    return rc;
}
