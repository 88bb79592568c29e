// test_embedder.c — reading sentence-transformers directories (modules.json, pooling config,
// sentence_bert_config.json vs tokenizer limits, missing pieces) and embedding behaviour that
// does not need PyTorch: input order kept, batching invisible, pooling modes, normalisation,
// truncation counted, per-text errors located.
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "testmodel.h"

#include "embedder.h"
#include "mem.h"

static struct embedder *open_ok(const char *dir)
{
    struct px_err err = {0};
    struct embedder *e = NULL;
    if (embedder_open(dir, &e, &err) != PX_OK) {
        fail_msg("embedder_open(%s): %s", dir, err.msg);
    }
    return e;
}

static void test_directory_settings(void **state)
{
    (void)state;
    static const struct {
        const char *pooling;
        bool normalize;
        int max_seq;
        enum embed_pooling want_pool;
        bool want_norm;
        int want_seq;
    } cases[] = {
        {"mean", true, 32, EMBED_POOL_MEAN, true, 32},
        {"cls", false, 16, EMBED_POOL_CLS, false, 16},
        {"max", true, 0, EMBED_POOL_MAX, true, 64},   // no sentence_bert_config: max positions
        {NULL, false, 24, EMBED_POOL_MEAN, true, 24}, // no modules.json: mean + normalize
        {"mean", false, 500, EMBED_POOL_MEAN, false, 64}, // capped at max_position_embeddings
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256];
        tu_mkdtemp(dir, sizeof dir);
        struct testmodel_spec s = testmodel_default_spec();
        s.pooling = cases[i].pooling;
        s.normalize = cases[i].normalize;
        s.max_seq_length = cases[i].max_seq;
        if (cases[i].max_seq == 500) {
            s.max_seq_length = 0;
            tu_write_text(dir, "sentence_bert_config.json", "{\"max_seq_length\": 500}");
        }
        assert_int_equal(testmodel_write(dir, &s), 0);
        struct embedder *e = open_ok(dir);
        const struct embedder_info *in = embedder_info(e);
        if (in->pooling != cases[i].want_pool || in->normalize != cases[i].want_norm ||
            in->max_seq_length != cases[i].want_seq || in->dim != 16) {
            fail_msg("case %zu: pooling %d normalize %d max_seq %d dim %d", i, in->pooling,
                     in->normalize, in->max_seq_length, in->dim);
        }
        embedder_close(e);
        tu_rmtree(dir);
    }
}

// tokenizer.json's truncation (128 in all-MiniLM-L6-v2) must not win over
// sentence_bert_config.json's max_seq_length (256).
static void test_sentence_bert_config_wins(void **state)
{
    (void)state;
    char dir[256];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    s.max_positions = 512;
    s.max_seq_length = 256;
    assert_int_equal(testmodel_write(dir, &s), 0);
    tu_write_text(dir, "tokenizer_config.json",
                  "{\"do_lower_case\": true, \"model_max_length\": 128, \"strip_accents\": null}");
    struct embedder *e = open_ok(dir);
    assert_int_equal(embedder_info(e)->max_seq_length, 256);
    embedder_close(e);
    tu_rmtree(dir);
}

static void test_broken_directories(void **state)
{
    (void)state;
    static const struct {
        const char *file, *content; // file to (over)write after a valid model is written
        bool no_weights;
        int code;
        const char *msg;
    } cases[] = {
        {NULL, NULL, true, PX_ENOWEIGHTS, "model.safetensors is missing"},
        {"pytorch_model.bin", "x", true, PX_ENOWEIGHTS, "only safetensors"},
        {"modules.json", "{}", false, PX_EFORMAT, "expected a JSON array"},
        {"modules.json", "[{\"type\": \"sentence_transformers.models.Dense\", \"path\": \"2\"}]",
         false, PX_EUNSUPPORTED, "Dense"},
        {"1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true, "
                                  "\"pooling_mode_cls_token\": true}",
         false, PX_EUNSUPPORTED, "exactly one pooling mode"},
        {"1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true, "
                                  "\"word_embedding_dimension\": 99}",
         false, PX_EFORMAT, "word_embedding_dimension 99 differs from hidden_size 16"},
        {"sentence_bert_config.json", "{\"max_seq_length\": \"long\"}", false, PX_EFORMAT,
         "must be an integer"},
        {"tokenizer_config.json", "{\"do_lower_case\": 1}", false, PX_EFORMAT,
         "must be true or false"},
        {"vocab.txt", "[CLS]\n[SEP]\n[UNK]\n", false, 0, "[PAD]"},
        {"config.json", "{\"hidden_size\": 16", false, PX_EFORMAT, "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256];
        tu_mkdtemp(dir, sizeof dir);
        struct testmodel_spec s = testmodel_default_spec();
        s.write_weights = !cases[i].no_weights;
        assert_int_equal(testmodel_write(dir, &s), 0);
        if (cases[i].file != NULL) {
            tu_write_text(dir, cases[i].file, cases[i].content);
        }
        struct px_err err = {0};
        struct embedder *e = NULL;
        int rc = embedder_open(dir, &e, &err);
        if ((cases[i].code != 0 && rc != cases[i].code) || rc == PX_OK ||
            strstr(err.msg, cases[i].msg) == NULL) {
            fail_msg("case %zu: got %d '%s', want %d containing '%s'", i, rc, err.msg,
                     cases[i].code, cases[i].msg);
        }
        assert_null(e);
        tu_rmtree(dir);
    }
    struct px_err err = {0};
    struct embedder *e = NULL;
    assert_int_equal(embedder_open("/nonexistent/model", &e, &err), PX_ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/model"));
}

static void test_embedding_behaviour(void **state)
{
    (void)state;
    char dir[256];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    s.max_seq_length = 8;
    assert_int_equal(testmodel_write(dir, &s), 0);
    struct embedder *e = open_ok(dir);
    const char *texts[] = {"the customer", "a loan", "high income young customer with credit card",
                           "", "the bank", "save and invest for retirement"};
    size_t n = sizeof texts / sizeof texts[0], lens[6];
    for (size_t i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    float all[6 * 16], one[16];
    struct px_err err = {0};
    struct embed_ctx_params p = embed_ctx_default_params();
    p.batch_size = 4;
    struct embed_ctx *c = NULL;
    assert_int_equal(embed_ctx_new(e, &p, &c, &err), PX_OK);
    struct embed_stats st;
    assert_int_equal(embed_texts(c, texts, lens, n, all, NULL, NULL, &st, &err), PX_OK);
    // only the long text exceeds 8 tokens ("save and invest for retire ##ment" fits exactly)
    assert_int_equal(st.n_truncated, 1);
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        for (int k = 0; k < 16; k++) norm += (double)all[i * 16 + k] * all[i * 16 + k];
        assert_true(fabs(norm - 1.0) < 1e-5);
        // alone gives the same vector as in the sorted, batched call: order is kept
        assert_int_equal(embed_texts(c, texts + i, lens + i, 1, one, NULL, NULL, NULL, &err),
                         PX_OK);
        for (int k = 0; k < 16; k++) {
            if (fabsf(one[k] - all[i * 16 + k]) > 1e-5f) {
                fail_msg("text %zu differs alone vs batched at %d", i, k);
            }
        }
    }
    // a per-text error names the text's index
    const char *bad[] = {"fine", "bad \xff byte"};
    size_t bl[] = {4, 10};
    assert_int_equal(embed_texts(c, bad, bl, 2, all, NULL, NULL, &st, &err), PX_EUTF8);
    assert_int_equal(st.i_error, 1);
    assert_non_null(strstr(err.msg, "byte 4"));
    embed_ctx_free(c);
    // invalid ctx params
    p.batch_size = 0;
    assert_int_equal(embed_ctx_new(e, &p, &c, &err), PX_EINVAL);
    embedder_close(e);
    tu_rmtree(dir);
}

// One loaded embedder, several threads each with its own embed_ctx (and 2 encoder threads each):
// every thread gets exactly the vectors a lone sequential run gets.
struct shared_job {
    const struct embedder *e;
    const char *const *texts;
    const size_t *lens;
    size_t n;
    float *out; // (n, 16)
    int rc;
};

static void *shared_worker(void *arg)
{
    struct shared_job *j = arg;
    struct px_err err = {0};
    struct embed_ctx_params p = embed_ctx_default_params();
    p.n_threads = 2;
    p.batch_size = 3;
    struct embed_ctx *c = NULL;
    j->rc = embed_ctx_new(j->e, &p, &c, &err);
    for (int rep = 0; rep < 20 && j->rc == PX_OK; rep++) {
        j->rc = embed_texts(c, j->texts, j->lens, j->n, j->out, NULL, NULL, NULL, &err);
    }
    embed_ctx_free(c);
    return NULL;
}

static void test_one_model_many_threads(void **state)
{
    (void)state;
    char dir[256];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    assert_int_equal(testmodel_write(dir, &s), 0);
    struct embedder *e = open_ok(dir);
    const char *texts[] = {"the customer", "a young customer with a loan", "high income",
                           "credit score over 3", "save", "invest and retire"};
    size_t lens[6];
    for (int i = 0; i < 6; i++) lens[i] = strlen(texts[i]);
    float ref[6 * 16];
    struct shared_job one = {e, texts, lens, 6, ref, 0};
    shared_worker(&one);
    assert_int_equal(one.rc, PX_OK);
    enum { N_WORKERS = 4 };
    pthread_t th[N_WORKERS];
    struct shared_job jobs[N_WORKERS];
    float outs[N_WORKERS][6 * 16];
    for (int t = 0; t < N_WORKERS; t++) {
        jobs[t] = (struct shared_job){e, texts, lens, 6, outs[t], -1};
        assert_int_equal(pthread_create(&th[t], NULL, shared_worker, &jobs[t]), 0);
    }
    for (int t = 0; t < N_WORKERS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(jobs[t].rc, PX_OK);
        for (int k = 0; k < 6 * 16; k++) {
            if (fabsf(outs[t][k] - ref[k]) > 1e-6f) {
                fail_msg("thread %d value %d: %g vs %g", t, k, outs[t][k], ref[k]);
            }
        }
    }
    embedder_close(e);
    tu_rmtree(dir);
}

struct fault_job {
    const char *dir;
    struct embedder *e;
    struct embed_ctx *c;
};

static int fault_open(void *user, struct px_err *err)
{
    struct fault_job *j = user;
    int rc = embedder_open(j->dir, &j->e, err);
    return rc == PX_OK ? embed_ctx_new(j->e, NULL, &j->c, err) : rc;
}

static void fault_release(void *user)
{
    struct fault_job *j = user;
    embed_ctx_free(j->c);
    embedder_close(j->e);
    j->c = NULL;
    j->e = NULL;
}

static void test_open_survives_allocation_failures(void **state)
{
    (void)state;
    char dir[256];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    assert_int_equal(testmodel_write(dir, &s), 0);
    struct fault_job job = {dir, NULL, NULL};
    long n = tu_check_alloc_failures(fault_open, fault_release, &job);
    printf("embedder_open + embed_ctx_new: %ld allocation points checked\n", n);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directory_settings),
        cmocka_unit_test(test_sentence_bert_config_wins),
        cmocka_unit_test(test_broken_directories),
        cmocka_unit_test(test_embedding_behaviour),
        cmocka_unit_test(test_one_model_many_threads),
        cmocka_unit_test(test_open_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
