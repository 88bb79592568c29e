// encode.c — the sentence-transformer for front ends (app_encoder.h): embedding texts and
// tokenizing them without the embed/ and text/ types leaving the app layer.
//
// An app_encoder owns the embedder and one embed_ctx (arena + thread pool): opening it costs the
// weights' load once, and every app_encoder_embed call reuses the context. The tokenizer handle
// wraps text/tokenizer and needs no weights, so `prospect tokenize` works on a bare model
// directory.
#include <string.h>

#include "app_encoder.h"
#include "encoder_int.h"
#include "embedder.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "tokenizer.h"

struct app_encoder {
    struct embedder *e;
    struct embed_ctx *ctx;
    struct app_encoder_info info;
    char dir[LIMIT_PATH];
};

struct app_tokenizer {
    struct tokenizer *t;
};

struct app_encoder_params app_encoder_default_params(void)
{
    struct app_encoder_params p = {0};
    p.n_threads = 1;
    p.batch_size = 32;
    return p;
}

int app_encoder_open(const struct app_encoder_params *p, struct app_encoder **out,
                     struct px_err *err)
{
    *out = NULL;
    struct app_encoder *a = px_calloc(1, sizeof *a);
    if (a == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    struct embed_ctx_params ep = embed_ctx_default_params();
    ep.n_threads = p->n_threads > 0 ? p->n_threads : 1;
    ep.batch_size = p->batch_size > 0 ? p->batch_size : ep.batch_size;
    ep.utf8 = p->replace_invalid_utf8 ? TOKENIZER_UTF8_REPLACE : TOKENIZER_UTF8_STRICT;
    int rc = app_open_embedder(p->embedder_flag, &a->e, a->dir, sizeof a->dir, err);
    if (rc == PX_OK) {
        rc = embed_ctx_new(a->e, &ep, &a->ctx, err);
    }
    if (rc != PX_OK) {
        app_encoder_close(a);
        return rc;
    }
    const struct embedder_info *in = embedder_info(a->e);
    a->info = (struct app_encoder_info){
        .dim = in->dim,
        .max_seq_length = in->max_seq_length,
        .pooling = embed_pooling_name(in->pooling),
        .normalize = in->normalize,
        .do_lower_case = in->do_lower_case,
        .vocab_file = in->vocab_file,
        .weights_dtype = in->weights_dtype,
        .n_params = in->n_params,
        .n_layers = in->n_layers,
        .n_heads = in->n_heads,
        .dir = a->dir,
    };
    *out = a;
    return PX_OK;
}

void app_encoder_close(struct app_encoder *a)
{
    if (a == NULL) {
        return;
    }
    embed_ctx_free(a->ctx);
    embedder_close(a->e);
    px_free(a);
}

const struct app_encoder_info *app_encoder_info(const struct app_encoder *a) { return &a->info; }

int app_encoder_embed(struct app_encoder *a, const char *const *texts, const size_t *lens,
                      size_t n, float *out, void (*progress)(size_t done, size_t total, void *user),
                      void *user, struct app_encode_stats *st, struct px_err *err)
{
    struct embed_stats es = {0};
    int rc = embed_texts(a->ctx, texts, lens, n, out, progress, user, &es, err);
    *st = (struct app_encode_stats){
        .n_tokens = es.n_tokens,
        .n_truncated = es.n_truncated,
        .n_invalid_utf8 = es.n_invalid_utf8,
        .i_error = es.i_error,
    };
    return rc;
}

int app_encoder_info_json(const struct app_encoder_info *in, const char *chosen_by,
                          struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    const struct {
        const char *key, *s;
    } strs[] = {{"directory", in->dir}, {"chosen_by", chosen_by}, {"encoder", "bert"},
                {"weights_dtype", in->weights_dtype}, {"pooling", in->pooling},
                {"vocab_file", in->vocab_file}};
    for (size_t i = 0; i < sizeof strs / sizeof *strs && rc == PX_OK; i++) {
        const char *s = strs[i].s != NULL ? strs[i].s : "";
        rc = jsonx_put_key(out, strs[i].key, i == 0, err);
        if (rc == PX_OK) {
            rc = jsonx_put_string(out, s, strlen(s), err);
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err,
                        ", \"layers\": %d, \"heads\": %d, \"parameters\": %zu, \"dimension\": %d, "
                        "\"max_seq_length\": %d, \"normalize\": %s, \"lowercase\": %s}",
                        in->n_layers, in->n_heads, in->n_params, in->dim, in->max_seq_length,
                        in->normalize ? "true" : "false", in->do_lower_case ? "true" : "false");
    }
    return rc;
}

int app_tokenizer_open(const char *embedder_flag, struct app_tokenizer **out, char *dir_out,
                       size_t n, struct px_err *err)
{
    *out = NULL;
    struct app_tokenizer *a = px_calloc(1, sizeof *a);
    if (a == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int rc = app_open_tokenizer(embedder_flag, &a->t, dir_out, n, err);
    if (rc != PX_OK) {
        px_free(a);
        return rc;
    }
    *out = a;
    return PX_OK;
}

void app_tokenizer_close(struct app_tokenizer *a)
{
    if (a != NULL) {
        tokenizer_free(a->t);
        px_free(a);
    }
}

size_t app_tokenizer_max_ids(const struct app_tokenizer *a)
{
    return (size_t)tokenizer_max_tokens(a->t);
}

int app_tokenize(const struct app_tokenizer *a, const char *text, size_t len, bool replace_invalid,
                 int32_t *ids, size_t cap, size_t *n_ids, size_t *n_truncated, struct px_err *err)
{
    struct tokenizer_result res = {0};
    int rc = tokenizer_encode(a->t, text, len,
                              replace_invalid ? TOKENIZER_UTF8_REPLACE : TOKENIZER_UTF8_STRICT, ids,
                              cap, &res, err);
    *n_ids = rc == PX_OK ? res.n_ids : 0;
    if (n_truncated != NULL) {
        *n_truncated = res.n_truncated;
    }
    return rc;
}

const char *app_tokenizer_token(const struct app_tokenizer *a, int32_t id)
{
    const char *t = tokenizer_token(a->t, id);
    return t != NULL ? t : "";
}

int app_tokenize_json(const struct app_tokenizer *a, const char *text, size_t len,
                      bool replace_invalid, struct buf *out, struct px_err *err)
{
    size_t cap = app_tokenizer_max_ids(a), n = 0, n_trunc = 0;
    int32_t *ids = px_malloc(cap * sizeof *ids);
    if (ids == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int rc = app_tokenize(a, text, len, replace_invalid, ids, cap, &n, &n_trunc, err);
    if (rc == PX_OK) {
        rc = buf_append(out, "{\"ids\": [", 9, err);
    }
    for (size_t k = 0; k < n && rc == PX_OK; k++) {
        rc = buf_printf(out, err, "%s%d", k ? ", " : "", ids[k]);
    }
    if (rc == PX_OK) {
        rc = buf_append(out, "], \"tokens\": [", 14, err);
    }
    for (size_t k = 0; k < n && rc == PX_OK; k++) {
        const char *t = app_tokenizer_token(a, ids[k]);
        rc = k ? buf_append(out, ", ", 2, err) : PX_OK;
        if (rc == PX_OK) {
            rc = jsonx_put_string(out, t, strlen(t), err);
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, "], \"truncated\": %zu}", n_trunc);
    }
    px_free(ids);
    return rc;
}
