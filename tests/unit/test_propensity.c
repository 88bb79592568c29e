// test_propensity.c — the propensity calls of app.h on a small generated table: app_train saves
// a version, profile texts follow rowtext's rendering (labels from the column names, no id, no
// target), look-alikes hold their must-holds (List A entries are negatives, distances never
// decrease, no row twice) on both vector paths — the standardised features and the tiny test
// sentence-transformer (tests/helpers/testmodel.h) — and say which they used; JSON rows score
// like the CSV and bad rows are named; the JSON answers parse and carry what the page draws.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "mem.h"
#include "testbank.h"
#include "testmodel.h"
#include "testutil.h"

static char g_dir[256], g_csv[300], g_reg[300], g_model[300];

// 240 customers: income decides most of the target, region is a category, id is unique.
static void write_bank(void)
{
    static const char *const regions[] = {"north", "south", "east"};
    const struct tu_bank b = {"customer_id,annual_income,spend,region,bought", 240, 777, regions,
                              3};
    tu_write_bank(g_dir, "bank.csv", &b);
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    write_bank();
    snprintf(g_csv, sizeof g_csv, "%s/bank.csv", g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    snprintf(g_model, sizeof g_model, "%s/st", g_dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", g_model);
    if (system(cmd) != 0) {
        return -1;
    }
    struct testmodel_spec spec = testmodel_default_spec();
    if (testmodel_write(g_model, &spec) != 0) {
        return -1;
    }
    struct app_train_params p = {.csv = g_csv, .registry = g_reg, .name = "bank"};
    p.build.target = "bought";
    p.exp = ml_experiment_default_params();
    p.exp.n_folds = 3;
    p.exp.xgb.n_rounds = 30;
    struct app_trained t;
    struct px_err err = {0};
    int rc = app_train(&p, NULL, NULL, &t, &err);
    if (rc != PX_OK) {
        fprintf(stderr, "app_train: %s\n", err.msg);
        return -1;
    }
    int v = t.version;
    app_trained_free(&t);
    return v == 1 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

struct loaded {
    struct propmodel_model m;
    struct ml_dataset ds;
    struct ml_explanation e;
};

static void load(struct loaded *l, const char *ref)
{
    struct px_err err = {0};
    memset(l, 0, sizeof *l);
    assert_int_equal(app_prop_load(g_reg, ref, 1, &l->m, &err), PX_OK);
    assert_int_equal(app_prop_data(&l->m, g_csv, true, &l->ds, &err), PX_OK);
    assert_int_equal(app_prop_explain(&l->m, &l->ds, &l->e, &err), PX_OK);
}

static void unload(struct loaded *l)
{
    ml_explanation_free(&l->e);
    ml_dataset_free(&l->ds);
    propmodel_model_free(&l->m);
}

static void test_refs(void **state)
{
    (void)state;
    struct propmodel_model m;
    struct px_err err = {0};
    assert_int_equal(app_prop_load(g_reg, "bank@1", 1, &m, &err), PX_OK);
    assert_int_equal(m.version, 1);
    propmodel_model_free(&m);
    assert_int_equal(app_prop_load(g_reg, "bank", 1, &m, &err), PX_OK);
    propmodel_model_free(&m);
    assert_int_not_equal(app_prop_load(g_reg, "bank@7", 1, &m, &err), PX_OK);
    assert_int_not_equal(app_prop_load(g_reg, "../etc", 1, &m, &err), PX_OK);
    assert_int_not_equal(app_prop_load(g_reg, "", 1, &m, &err), PX_OK);
}

static void test_profile_texts(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank");
    char **texts = NULL;
    struct px_err err = {0};
    assert_int_equal(app_prop_profile_texts(&l.m, g_csv, &l.ds, &texts, &err), PX_OK);
    // row 0 of write_bank's stream, as rowtext renders it: labels from the names, no id/target
    assert_non_null(strstr(texts[0], "Annual income: "));
    assert_non_null(strstr(texts[0], "Spend: "));
    assert_non_null(strstr(texts[0], "Region: north"));
    for (size_t r = 0; r < l.ds.n_rows; r++) {
        assert_null(strstr(texts[r], "Customer ID"));
        assert_null(strstr(texts[r], "Bought"));
        assert_null(strstr(texts[r], "K0"));
        px_free(texts[r]);
    }
    px_free(texts);
    unload(&l);
}

// The must-holds of the issue on one answer.
static void check_lists(const struct loaded *l, const struct app_look *a)
{
    assert_true(a->n_a > 0);
    unsigned char *seen = calloc(l->ds.n_rows, 1);
    for (size_t i = 0; i < a->n_a; i++) {
        size_t r = a->a[i].row;
        assert_true(l->ds.y[r] == 0.0f);            // a negative
        assert_true(l->ds.y[a->a[i].near] == 1.0f); // near a positive
        assert_false(seen[r]);                      // listed once
        seen[r] = 1;
        if (i > 0) {
            assert_true(a->a[i].dist >= a->a[i - 1].dist); // by distance
        }
    }
    for (size_t i = 1; i < a->n_b; i++) {
        assert_true(l->e.prob[a->b[i].row] <= l->e.prob[a->b[i - 1].row]);
        assert_true(l->ds.y[a->b[i].row] == 0.0f);
    }
    free(seen);
}

static void test_lookalike_features(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank");
    struct app_look_params p = app_look_default_params();
    p.vectors = APP_VECTORS_FEATURES;
    p.k = 2;
    p.tipping = true;
    struct app_look a;
    struct px_err err = {0};
    assert_int_equal(app_prop_lookalike(&l.m, g_csv, &l.ds, &l.e, &p, &a, &err), PX_OK);
    assert_false(a.text_vectors);
    assert_non_null(strstr(a.vectors, "standardised model features"));
    check_lists(&l, &a);
    struct buf b;
    buf_init(&b, 1u << 24);
    assert_int_equal(app_prop_look_json(&l.m, &l.ds, &l.e, &a, true, &b, &err), PX_OK);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "list_a")));
    assert_non_null(cJSON_GetObjectItem(j, "summary"));
    assert_non_null(strstr(cJSON_GetObjectItem(j, "vectors")->valuestring, "standardised"));
    cJSON_Delete(j);
    buf_free(&b);
    app_look_free(&a);
    unload(&l);
}

static void test_lookalike_text(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank");
    struct app_look_params p = app_look_default_params();
    p.vectors = APP_VECTORS_TEXT;
    p.model_flag = g_model;
    p.k = 2;
    struct app_look a;
    struct px_err err = {0};
    int rc = app_prop_lookalike(&l.m, g_csv, &l.ds, &l.e, &p, &a, &err);
    if (rc != PX_OK) {
        fail_msg("lookalike (text): %s", err.msg);
    }
    assert_true(a.text_vectors);
    assert_non_null(strstr(a.vectors, "sentence-transformer"));
    check_lists(&l, &a);
    // unit vectors: distances lie in [0, 2]
    for (size_t i = 0; i < a.n_a; i++) {
        assert_true(a.a[i].dist >= 0 && a.a[i].dist <= 2.0 + 1e-6);
    }
    app_look_free(&a);
    // auto with a directory lacking weights falls back and says why; text fails
    char nowt[400];
    snprintf(nowt, sizeof nowt, "%s/nowhere", g_dir);
    p.model_flag = nowt;
    p.vectors = APP_VECTORS_AUTO;
    assert_int_equal(app_prop_lookalike(&l.m, g_csv, &l.ds, &l.e, &p, &a, &err), PX_OK);
    assert_false(a.text_vectors);
    assert_non_null(strstr(a.vectors, "sentence-transformer not used"));
    check_lists(&l, &a);
    app_look_free(&a);
    p.vectors = APP_VECTORS_TEXT;
    assert_int_not_equal(app_prop_lookalike(&l.m, g_csv, &l.ds, &l.e, &p, &a, &err), PX_OK);
    // an unknown --features name is an error naming it
    const char *bad[] = {"nope"};
    p.vectors = APP_VECTORS_FEATURES;
    p.features = bad;
    p.n_features = 1;
    assert_int_equal(app_prop_lookalike(&l.m, g_csv, &l.ds, &l.e, &p, &a, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "'nope'"));
    unload(&l);
}

static void test_rows_json(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank@1");
    struct ml_dataset ds;
    struct px_err err = {0};
    const char *body =
        "{\"rows\": [{\"annual_income\": 190, \"spend\": 9.5, \"region\": \"north\"},"
        " {\"annual_income\": 25, \"spend\": 0.5, \"region\": \"east\", "
        "\"customer_id\": \"X1\"}, {\"annual_income\": null}]}";
    assert_int_equal(app_prop_rows_json(&l.m, body, strlen(body), &ds, &err), PX_OK);
    assert_int_equal(ds.n_rows, 3);
    float p[3];
    assert_int_equal(app_prop_score(&l.m, &ds, p, &err), PX_OK);
    assert_true(p[0] > p[1]);
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(app_prop_score_json(&l.m, &ds, p, &b, &err), PX_OK);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "id")->valuestring, "X1");
    cJSON_Delete(j);
    buf_free(&b);
    ml_dataset_free(&ds);
    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"[{\"annual_income\": 5, \"colour\": 1}]", "row 0: 'colour' is not a column"},
        {"{\"rows\": []}", "empty"},
        {"{\"rows\": [1]}", "row 0: not an object"},
        {"{\"rows\": [{}, {\"spend\": [1]}]}", "row 1: 'spend' must be"},
        {"{\"rows\": [{\"spend\": \"lots\"}]}", "'lots' is not a number"},
        {"{\"nope\": 1}", "the body must be"},
        {"{", "request body"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        assert_int_not_equal(app_prop_rows_json(&l.m, bad[i].body, strlen(bad[i].body), &ds, &err),
                             PX_OK);
        if (strstr(err.msg, bad[i].msg) == NULL) {
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
        }
    }
    unload(&l);
}

static void test_explain_runs_json(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank");
    struct buf b;
    struct px_err err = {0};
    buf_init(&b, 1u << 24);
    const char *dep[] = {"annual_income"};
    assert_int_equal(app_prop_explain_json(&l.m, &l.ds, &l.e, dep, 1, 10, &b, &err), PX_OK);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    cJSON *g = cJSON_GetObjectItem(j, "global");
    assert_int_equal(cJSON_GetArraySize(g), (int)l.m.spec.n_features);
    double prev = INFINITY;
    cJSON *it = NULL;
    cJSON_ArrayForEach(it, g)
    {
        double v = cJSON_GetObjectItem(it, "mean_abs_shap")->valuedouble;
        assert_true(v <= prev);
        prev = v;
    }
    cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "dependence"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "points")), (int)l.ds.n_rows);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 10);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "potential"))
    {
        assert_true(cJSON_GetObjectItem(it, "probability")->valuedouble >= l.m.threshold - 1e-6);
    }
    cJSON_Delete(j);
    buf_reset(&b);
    const char *baddep[] = {"zzz"};
    assert_int_equal(app_prop_explain_json(&l.m, &l.ds, &l.e, baddep, 1, 10, &b, &err), PX_EINVAL);
    buf_reset(&b);
    assert_int_equal(app_prop_runs_json(g_reg, &b, &err), PX_OK);
    j = cJSON_Parse(b.data);
    assert_non_null(j);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "models"), 0), "id")
            ->valuestring,
        "bank@1");
    cJSON_Delete(j);
    buf_reset(&b);
    assert_int_equal(app_prop_run_json(g_reg, "bank", &b, &err), PX_OK);
    j = cJSON_Parse(b.data);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "bank@1");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metrics"), "test"));
    cJSON_Delete(j);
    buf_free(&b);
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_profile_texts),
        cmocka_unit_test(test_lookalike_features),
        cmocka_unit_test(test_lookalike_text),
        cmocka_unit_test(test_rows_json),
        cmocka_unit_test(test_explain_runs_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
