// test_golden_embed.c — sentence embeddings against PyTorch.
//
// ../shared/models/<model>-reference.json holds, for each text, the ids Hugging Face's tokenizer
// gives and the embedding a PyTorch forward pass (mean pooling + normalise) gives. Acceptance
// (the issue's): cosine >= 0.99999 and max |diff| <= 1e-4 on every case, for the small synthetic
// BERT (F32) and for the MiniLM-L6-shaped twin (F16 on disk), with 1 and 2 threads and with
// batches of 1 and 32 (different packing and GEMM splits). Skips cleanly when ../shared is absent.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "embedder.h"
#include "jsonx.h"

#define MAX_CASES 64

struct golden {
    cJSON *root;
    size_t n;
    const char *text[MAX_CASES];
    size_t len[MAX_CASES];
    const cJSON *ids[MAX_CASES];
    const cJSON *emb[MAX_CASES];
};

static int load_golden(const char *rel, struct golden *g)
{
    char path[4096];
    if (!tu_shared_path(path, sizeof path, rel)) {
        return 0;
    }
    struct px_err err = {0};
    if (jsonx_parse_file(path, 64u << 20, &g->root, &err) != PX_OK) {
        fail_msg("%s", err.msg);
    }
    const cJSON *c = NULL;
    g->n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g->root, "cases"))
    {
        assert_true(g->n < MAX_CASES);
        g->text[g->n] = cJSON_GetObjectItem(c, "text")->valuestring;
        g->len[g->n] = strlen(g->text[g->n]);
        g->ids[g->n] = cJSON_GetObjectItem(c, "input_ids");
        g->emb[g->n] = cJSON_GetObjectItem(c, "embedding");
        g->n++;
    }
    return 1;
}

static void check_model(const char *model_rel, const char *ref_rel, int expect_dim)
{
    char dir[4096];
    struct golden g;
    if (!tu_shared_path(dir, sizeof dir, model_rel) || !load_golden(ref_rel, &g)) {
        printf("skipped: %s or %s not found under PROSPECT_SHARED\n", model_rel, ref_rel);
        skip();
    }
    struct px_err err = {0};
    struct embedder *e = NULL;
    if (embedder_open(dir, &e, &err) != PX_OK) {
        fail_msg("%s", err.msg);
    }
    const struct embedder_info *info = embedder_info(e);
    assert_int_equal(info->dim, expect_dim);
    assert_int_equal(info->max_seq_length, 256); // sentence_bert_config.json wins
    assert_true(info->normalize);
    assert_int_equal(info->pooling, EMBED_POOL_MEAN);

    // token ids first: an embedding mismatch is easier to read once ids are known to agree
    int32_t ids[512];
    for (size_t i = 0; i < g.n; i++) {
        struct tokenizer_result tr;
        assert_int_equal(tokenizer_encode(embedder_tokenizer(e), g.text[i], g.len[i],
                                          TOKENIZER_UTF8_STRICT, ids, 512, &tr, &err),
                         PX_OK);
        size_t n_ref = (size_t)cJSON_GetArraySize(g.ids[i]);
        if (tr.n_ids != n_ref) {
            fail_msg("case %zu: %zu ids, reference has %zu", i, tr.n_ids, n_ref);
        }
        for (size_t k = 0; k < n_ref; k++) {
            int want = cJSON_GetArrayItem(g.ids[i], (int)k)->valueint;
            if (ids[k] != want) {
                fail_msg("case %zu position %zu: id %d, reference %d", i, k, ids[k], want);
            }
        }
    }

    static const struct {
        int threads, batch;
    } runs[] = {{1, 32}, {2, 32}, {2, 1}, {3, 7}};
    float *out = malloc(g.n * (size_t)info->dim * sizeof *out);
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        struct embed_ctx_params p = embed_ctx_default_params();
        p.n_threads = runs[r].threads;
        p.batch_size = runs[r].batch;
        struct embed_ctx *c = NULL;
        assert_int_equal(embed_ctx_new(e, &p, &c, &err), PX_OK);
        if (embed_texts(c, g.text, g.len, g.n, out, NULL, NULL, NULL, &err) != PX_OK) {
            fail_msg("embed: %s", err.msg);
        }
        double worst_diff = 0, worst_cos = 1;
        for (size_t i = 0; i < g.n; i++) {
            const float *v = out + i * (size_t)info->dim;
            double dot = 0, nv = 0, nr = 0, md = 0;
            assert_int_equal(cJSON_GetArraySize(g.emb[i]), info->dim);
            int k = 0;
            const cJSON *x = NULL;
            cJSON_ArrayForEach(x, g.emb[i])
            {
                double ref = x->valuedouble;
                dot += ref * v[k];
                nv += (double)v[k] * v[k];
                nr += ref * ref;
                double d = fabs(ref - v[k]);
                md = d > md ? d : md;
                k++;
            }
            double cosv = dot / sqrt(nv * nr);
            if (cosv < 0.99999 || md > 1e-4) {
                fail_msg("%s case %zu ('%.40s'), %d threads, batch %d: cosine %.7f, max |diff| "
                         "%.3g",
                         model_rel, i, g.text[i], runs[r].threads, runs[r].batch, cosv, md);
            }
            worst_diff = md > worst_diff ? md : worst_diff;
            worst_cos = cosv < worst_cos ? cosv : worst_cos;
        }
        printf("%s: %zu cases, %d threads, batch %d: min cosine %.8f, max |diff| %.3g\n",
               model_rel, g.n, runs[r].threads, runs[r].batch, worst_cos, worst_diff);
        embed_ctx_free(c);
    }
    free(out);
    embedder_close(e);
    cJSON_Delete(g.root);
}

static void test_synthetic_matches_pytorch(void **state)
{
    (void)state;
    check_model("models/minilm-synthetic-test", "models/minilm-synthetic-test-reference.json", 32);
}

static void test_twin_matches_pytorch(void **state)
{
    (void)state;
    check_model("models/minilm-l6-twin", "models/minilm-l6-twin-reference.json", 384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_matches_pytorch),
        cmocka_unit_test(test_twin_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
