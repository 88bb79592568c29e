// test_bert.c — the BERT loader and encoder on tiny generated models.
//
// The forward pass is checked against an independent reference written here: one sequence at a
// time, padded nowhere, double precision, straight from the formulas (post-LN BERT, exact GELU).
// Then the loader is fed every malformed model we can think of, each with the message it must
// give, and allocation failures at every step of bert_model_open.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "testmodel.h"

#include "bert.h"
#include "mem.h"
#include "safetensors.h"

// ---- independent reference ----

struct ref {
    struct safetensors *st;
    const char *prefix;
    int H, I, nh, layers;
};

static double *get(struct ref *r, const char *name)
{
    char full[200];
    snprintf(full, sizeof full, "%s%s", r->prefix, name);
    const struct safetensors_tensor *t = safetensors_find(r->st, full);
    size_t len = strlen(full);
    if (t == NULL && strstr(full, "LayerNorm.") != NULL) { // old gamma/beta names
        if (strcmp(full + len - 7, ".weight") == 0) {
            strcpy(full + len - 7, ".gamma");
        } else {
            strcpy(full + len - 5, ".beta");
        }
        t = safetensors_find(r->st, full);
    }
    if (t == NULL) {
        fail_msg("reference: no tensor %s", full);
    }
    float *f = malloc(t->n_elems * sizeof *f);
    assert_int_equal(safetensors_to_f32(t, f, NULL), PX_OK);
    double *d = malloc(t->n_elems * sizeof *d);
    for (size_t i = 0; i < t->n_elems; i++) {
        d[i] = f[i];
    }
    free(f);
    return d;
}

static void ln(double *x, const double *g, const double *b, int n)
{
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    v /= n;
    for (int i = 0; i < n; i++) x[i] = (x[i] - m) / sqrt(v + 1e-12) * g[i] + b[i];
}

// y (L, out) = x (L, in) W^T + b
static void lin(const double *x, int L, int in, const double *W, const double *b, int out, double *y)
{
    for (int t = 0; t < L; t++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int k = 0; k < in; k++) s += x[t * in + k] * W[o * in + k];
            y[t * out + o] = s;
        }
}

// out (L, H) = final hidden states of one sequence
static void ref_forward(struct ref *r, const int32_t *ids, int L, double *out)
{
    int H = r->H, I = r->I, nh = r->nh, dh = H / nh;
    double *we = get(r, "embeddings.word_embeddings.weight");
    double *pe = get(r, "embeddings.position_embeddings.weight");
    double *te = get(r, "embeddings.token_type_embeddings.weight");
    double *eg = get(r, "embeddings.LayerNorm.weight"), *eb = get(r, "embeddings.LayerNorm.bias");
    double *x = out;
    for (int t = 0; t < L; t++) {
        for (int k = 0; k < H; k++) x[t * H + k] = we[ids[t] * H + k] + pe[t * H + k] + te[k];
        ln(x + t * H, eg, eb, H);
    }
    free(we); free(pe); free(te); free(eg); free(eb);
    double *q = malloc(sizeof(double) * L * H), *k = malloc(sizeof(double) * L * H),
           *v = malloc(sizeof(double) * L * H), *c = malloc(sizeof(double) * L * H),
           *o = malloc(sizeof(double) * L * H), *f = malloc(sizeof(double) * L * I),
           *s = malloc(sizeof(double) * L);
    for (int l = 0; l < r->layers; l++) {
        char n[160];
#define W(x) (snprintf(n, sizeof n, "encoder.layer.%d.%s", l, x), get(r, n))
        double *wq = W("attention.self.query.weight"), *bq = W("attention.self.query.bias");
        double *wk = W("attention.self.key.weight"), *bk = W("attention.self.key.bias");
        double *wv = W("attention.self.value.weight"), *bv = W("attention.self.value.bias");
        double *wo = W("attention.output.dense.weight"), *bo = W("attention.output.dense.bias");
        double *g1 = W("attention.output.LayerNorm.weight"), *b1 = W("attention.output.LayerNorm.bias");
        double *wi = W("intermediate.dense.weight"), *bi = W("intermediate.dense.bias");
        double *w2 = W("output.dense.weight"), *b2 = W("output.dense.bias");
        double *g2 = W("output.LayerNorm.weight"), *bb2 = W("output.LayerNorm.bias");
#undef W
        lin(x, L, H, wq, bq, H, q);
        lin(x, L, H, wk, bk, H, k);
        lin(x, L, H, wv, bv, H, v);
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < L; i++) {
                double mx = -1e300, sum = 0;
                for (int j = 0; j < L; j++) {
                    double d = 0;
                    for (int e = 0; e < dh; e++) d += q[i * H + h * dh + e] * k[j * H + h * dh + e];
                    s[j] = d / sqrt((double)dh);
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int j = 0; j < L; j++) { s[j] = exp(s[j] - mx); sum += s[j]; }
                for (int e = 0; e < dh; e++) {
                    double a = 0;
                    for (int j = 0; j < L; j++) a += s[j] / sum * v[j * H + h * dh + e];
                    c[i * H + h * dh + e] = a;
                }
            }
        lin(c, L, H, wo, bo, H, o);
        for (int t = 0; t < L; t++) {
            for (int e = 0; e < H; e++) x[t * H + e] += o[t * H + e];
            ln(x + t * H, g1, b1, H);
        }
        lin(x, L, H, wi, bi, I, f);
        for (int e = 0; e < L * I; e++) f[e] = 0.5 * f[e] * (1.0 + erf(f[e] / sqrt(2.0)));
        lin(f, L, I, w2, b2, H, o);
        for (int t = 0; t < L; t++) {
            for (int e = 0; e < H; e++) x[t * H + e] += o[t * H + e];
            ln(x + t * H, g2, bb2, H);
        }
        free(wq); free(bq); free(wk); free(bk); free(wv); free(bv); free(wo); free(bo);
        free(g1); free(b1); free(wi); free(bi); free(w2); free(b2); free(g2); free(bb2);
    }
    free(q); free(k); free(v); free(c); free(o); free(f); free(s);
}

// ---- helpers ----

static void model_paths(const char *dir, char *cfg, char *w)
{
    snprintf(cfg, 4096, "%s/config.json", dir);
    snprintf(w, 4096, "%s/model.safetensors", dir);
}

// Runs the packed forward on seqs and compares each with the reference; returns max |diff|.
static double check_forward(const char *dir, const struct testmodel_spec *spec, int n_threads,
                            const int *lens, int n_seq)
{
    char cfg[4096], wp[4096];
    model_paths(dir, cfg, wp);
    struct px_err err = {0};
    struct bert_model *m = NULL;
    if (bert_model_open(cfg, wp, &m, &err) != PX_OK) {
        fail_msg("open: %s", err.msg);
    }
    struct bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = n_threads;
    cp.max_batch_tokens = 2048;
    struct bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, &cp, &c, &err), PX_OK);
    int total = 0;
    for (int s = 0; s < n_seq; s++) total += lens[s];
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)total);
    uint32_t seed = 7;
    for (int i = 0; i < total; i++) {
        seed = seed * 1103515245u + 12345u;
        ids[i] = (int32_t)((seed >> 16) % (uint32_t)testmodel_vocab_size);
    }
    const float *hidden = NULL;
    if (bert_forward(c, ids, lens, n_seq, &hidden, &err) != PX_OK) {
        fail_msg("forward: %s", err.msg);
    }
    struct ref r = {NULL, spec->prefix, spec->hidden, spec->intermediate, spec->heads, spec->layers};
    assert_int_equal(safetensors_open(wp, &r.st, &err), PX_OK);
    double worst = 0;
    int off = 0;
    for (int s = 0; s < n_seq; s++) {
        double *out = malloc(sizeof(double) * (size_t)(lens[s] * spec->hidden));
        ref_forward(&r, ids + off, lens[s], out);
        for (int i = 0; i < lens[s] * spec->hidden; i++) {
            double d = fabs(out[i] - hidden[(size_t)off * (size_t)spec->hidden + (size_t)i]);
            worst = d > worst ? d : worst;
        }
        off += lens[s];
        free(out);
    }
    safetensors_close(r.st);
    free(ids);
    bert_ctx_free(c);
    bert_model_close(m);
    return worst;
}

// ---- tests ----

static void test_forward_matches_reference(void **state)
{
    (void)state;
    static const struct {
        const char *dtype, *prefix;
        bool gamma_beta, pooler;
        int threads;
    } cases[] = {
        {"F32", "", false, false, 1}, {"F32", "", false, false, 2}, {"F32", "bert.", false, true, 3},
        {"F16", "", true, false, 2},  {"BF16", "bert.", false, false, 1},
    };
    static const int lens_a[] = {5, 1, 17, 32, 9, 2};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256];
        tu_mkdtemp(dir, sizeof dir);
        struct testmodel_spec s = testmodel_default_spec();
        s.dtype = cases[i].dtype;
        s.prefix = cases[i].prefix;
        s.gamma_beta = cases[i].gamma_beta;
        s.with_pooler = cases[i].pooler;
        s.seed = (uint32_t)(i + 3);
        assert_int_equal(testmodel_write(dir, &s), 0);
        double d = check_forward(dir, &s, cases[i].threads, lens_a, 6);
        printf("case %zu (%s, prefix '%s', %d threads): max |diff| vs reference %.3g\n", i,
               cases[i].dtype, cases[i].prefix, cases[i].threads, d);
        if (d > 1e-4) {
            fail_msg("case %zu: forward differs from the reference by %g", i, d);
        }
        // one sequence alone gives the same states as inside the packed batch
        double d1 = check_forward(dir, &s, 1, lens_a + 2, 1);
        assert_true(d1 <= 1e-4);
        tu_rmtree(dir);
    }
}

static void test_packing_and_threads_agree(void **state)
{
    (void)state;
    // Many short sequences force the row split; a single short one forces the column split.
    char dir[256];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    s.hidden = 32;
    s.intermediate = 64;
    assert_int_equal(testmodel_write(dir, &s), 0);
    int lens[40];
    for (int i = 0; i < 40; i++) lens[i] = 1 + (i * 7) % 31;
    for (int nth = 1; nth <= 4; nth++) {
        double d = check_forward(dir, &s, nth, lens, 40);
        if (d > 1e-4) fail_msg("row split, %d threads: diff %g", nth, d);
        d = check_forward(dir, &s, nth, lens + 3, 1);
        if (d > 1e-4) fail_msg("column split, %d threads: diff %g", nth, d);
    }
    tu_rmtree(dir);
}

static void test_malformed_models_are_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *omit, *misshape, *extra, *nan, *dtype, *act;
        int code;
        const char *msg;
    } cases[] = {
        {"missing tensor", "encoder.layer.1.output.dense.bias", NULL, NULL, NULL, "F32", "gelu",
         PX_ESHAPE, "missing tensor 'encoder.layer.1.output.dense.bias'"},
        {"wrong shape", NULL, "encoder.layer.0.intermediate.dense.weight", NULL, NULL, "F32",
         "gelu", PX_ESHAPE, "has shape [33, 16], expected [32, 16]"},
        {"unexpected tensor", NULL, NULL, "encoder.layer.9.mystery", NULL, "F32", "gelu",
         PX_ESHAPE, "unexpected tensor 'encoder.layer.9.mystery'"},
        {"NaN weight", NULL, NULL, NULL, "embeddings.LayerNorm.bias", "F32", "gelu", PX_EFORMAT,
         "element 0 is not finite"},
        {"integer dtype", NULL, NULL, NULL, NULL, "I32", "gelu", PX_ESHAPE, "has dtype I32"},
        {"unknown activation", NULL, NULL, NULL, NULL, "F32", "swish", PX_EUNSUPPORTED,
         "hidden_act \"swish\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256], cfg[4096], wp[4096];
        tu_mkdtemp(dir, sizeof dir);
        struct testmodel_spec s = testmodel_default_spec();
        s.omit_tensor = cases[i].omit;
        s.misshape_tensor = cases[i].misshape;
        s.extra_tensor = cases[i].extra;
        s.nan_tensor = cases[i].nan;
        s.hidden_act = cases[i].act;
        s.dtype = "F32";
        if (strcmp(cases[i].dtype, "I32") == 0) {
            s.int_tensor = "embeddings.LayerNorm.bias";
        }
        assert_int_equal(testmodel_write(dir, &s), 0);
        model_paths(dir, cfg, wp);
        struct px_err err = {0};
        struct bert_model *m = NULL;
        int rc = bert_model_open(cfg, wp, &m, &err);
        if (rc != cases[i].code || strstr(err.msg, cases[i].msg) == NULL) {
            fail_msg("case %zu (%s): got %d '%s', want %d containing '%s'", i, cases[i].what, rc,
                     err.msg, cases[i].code, cases[i].msg);
        }
        assert_null(m);
        tu_rmtree(dir);
    }
}

static void test_bad_configs_are_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"hidden_size\": 30, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"max_position_embeddings\": 8, \"vocab_size\": 40}",
         PX_EFORMAT, "not a multiple of num_attention_heads"},
        {"{\"hidden_size\": 16, \"num_attention_heads\": 4, \"intermediate_size\": 8, "
         "\"max_position_embeddings\": 8, \"vocab_size\": 40}",
         PX_EFORMAT, "\"num_hidden_layers\" is missing"},
        {"{\"hidden_size\": -16, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"max_position_embeddings\": 8, \"vocab_size\": 40}",
         PX_EFORMAT, "\"hidden_size\" is -16, outside"},
        {"{\"hidden_size\": 16.5, \"num_hidden_layers\": 1}", PX_EFORMAT, "must be an integer"},
        {"{\"model_type\": \"roberta\"}", PX_EUNSUPPORTED, "model_type \"roberta\""},
        {"{\"position_embedding_type\": \"relative_key\"}", PX_EUNSUPPORTED, "relative_key"},
        {"[1, 2]", PX_EFORMAT, "not a JSON object"},
        {"{\"hidden_size\": 16,", PX_EFORMAT, "invalid JSON"},
        {"{\"hidden_size\": 16, \"num_hidden_layers\": 100000, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"max_position_embeddings\": 8, \"vocab_size\": 40}",
         PX_EFORMAT, "\"num_hidden_layers\" is 100000, outside"},
    };
    char dir[256], path[4096];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_text(dir, "config.json", cases[i].json);
        struct bert_config c;
        struct px_err err = {0};
        int rc = bert_config_load(path, &c, &err);
        if (rc != cases[i].code || strstr(err.msg, cases[i].msg) == NULL ||
            strstr(err.msg, "config.json") == NULL) {
            fail_msg("case %zu: got %d '%s', want %d containing '%s'", i, rc, err.msg,
                     cases[i].code, cases[i].msg);
        }
    }
    struct bert_config c;
    struct px_err err = {0};
    snprintf(path, sizeof path, "%s/nope.json", dir);
    assert_int_equal(bert_config_load(path, &c, &err), PX_ENOENT);
    tu_rmtree(dir);
}

static void test_forward_rejects_bad_batches(void **state)
{
    (void)state;
    char dir[256], cfg[4096], wp[4096];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    assert_int_equal(testmodel_write(dir, &s), 0);
    model_paths(dir, cfg, wp);
    struct px_err err = {0};
    struct bert_model *m = NULL;
    assert_int_equal(bert_model_open(cfg, wp, &m, &err), PX_OK);
    struct bert_ctx_params cp = bert_ctx_default_params();
    cp.max_batch_tokens = 64;
    cp.max_seq_len = 32;
    struct bert_ctx *c = NULL;
    assert_int_equal(bert_ctx_new(m, &cp, &c, &err), PX_OK);
    int32_t ids[80] = {2, 5, 999, 3};
    int32_t lens[4] = {4};
    const float *h = NULL;
    assert_int_equal(bert_forward(c, ids, lens, 1, &h, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "sequence 0 position 2: token id 999"));
    ids[2] = 6;
    lens[0] = 0;
    assert_int_equal(bert_forward(c, ids, lens, 1, &h, &err), PX_EINVAL);
    lens[0] = 33;
    assert_int_equal(bert_forward(c, ids, lens, 1, &h, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "outside 1..32"));
    int32_t l3[3] = {30, 30, 30};
    assert_int_equal(bert_forward(c, ids, l3, 3, &h, &err), PX_ELIMIT);
    assert_int_equal(bert_forward(c, ids, l3, 0, &h, &err), PX_EINVAL);
    bert_ctx_free(c);
    bert_model_close(m);
    tu_rmtree(dir);
}

struct fault_job {
    const char *cfg, *weights;
    struct bert_model *m;
    struct bert_ctx *c;
};

static int fault_open(void *user, struct px_err *err)
{
    struct fault_job *j = user;
    int rc = bert_model_open(j->cfg, j->weights, &j->m, err);
    return rc == PX_OK ? bert_ctx_new(j->m, NULL, &j->c, err) : rc;
}

static void fault_release(void *user)
{
    struct fault_job *j = user;
    bert_ctx_free(j->c);
    bert_model_close(j->m);
    j->c = NULL;
    j->m = NULL;
}

static void test_open_survives_allocation_failures(void **state)
{
    (void)state;
    char dir[256], cfg[4096], wp[4096];
    tu_mkdtemp(dir, sizeof dir);
    struct testmodel_spec s = testmodel_default_spec();
    assert_int_equal(testmodel_write(dir, &s), 0);
    model_paths(dir, cfg, wp);
    struct fault_job job = {cfg, wp, NULL, NULL};
    long n = tu_check_alloc_failures(fault_open, fault_release, &job);
    printf("bert_model_open + bert_ctx_new: %ld allocation points checked\n", n);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_reference),
        cmocka_unit_test(test_packing_and_threads_agree),
        cmocka_unit_test(test_malformed_models_are_rejected),
        cmocka_unit_test(test_bad_configs_are_rejected),
        cmocka_unit_test(test_forward_rejects_bad_batches),
        cmocka_unit_test(test_open_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
