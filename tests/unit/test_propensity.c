// test_propensity.c — the propensity calls of app_prop.h on a small generated table: app_train
// saves a version (its view carries folds, gains and notes), profile texts follow rowtext's
// rendering (labels from the column names, no id, no target), look-alikes hold their must-holds
// (List A entries are negatives, distances never decrease, no row twice) on both vector paths —
// the standardised features and the tiny test sentence-transformer (tests/helpers/testmodel.h)
// — and say which they used; JSON rows score like the CSV and bad rows are named; the JSON
// answers parse, carry what the page draws and hold the same figures as the views; opening a
// model (app_prop_load, app_prop_acquire) fails cleanly at every allocation.
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
    struct app_train_params p = app_train_default_params();
    p.csv = g_csv;
    p.registry = g_reg;
    p.name = "bank";
    p.target = "bought";
    p.folds = 3;
    p.n_rounds = 30;
    struct app_prop_trained *t = NULL;
    struct px_err err = {0};
    int rc = app_train(&p, NULL, NULL, &t, &err);
    if (rc != PX_OK) {
        fprintf(stderr, "app_train: %s\n", err.msg);
        return -1;
    }
    const struct app_train_view *v = app_prop_trained_view(t);
    bool ok = v->version == 1 && strcmp(v->id, "bank@1") == 0 && v->n_folds == 3 &&
              v->n_rows == 240 && v->n_features > 0 && v->gain[0].gain >= v->gain[1].gain &&
              v->n_notes > 0; // customer_id: the row id
    app_prop_trained_free(t);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

struct loaded {
    struct app_prop_model *m;
    struct app_prop_data *d;
};

static void load(struct loaded *l, const char *ref)
{
    struct px_err err = {0};
    memset(l, 0, sizeof *l);
    assert_int_equal(app_prop_load(g_reg, ref, 1, &l->m, &err), PX_OK);
    assert_int_equal(app_prop_data_csv(l->m, g_csv, true, &l->d, &err), PX_OK);
    assert_int_equal(app_prop_data_shap(l->m, l->d, &err), PX_OK);
}

static void unload(struct loaded *l)
{
    app_prop_data_free(l->d);
    app_prop_model_free(l->m);
}

static void test_refs(void **state)
{
    (void)state;
    struct app_prop_model *m = NULL;
    struct px_err err = {0};
    assert_int_equal(app_prop_load(g_reg, "bank@1", 1, &m, &err), PX_OK);
    const struct app_prop_info *i = app_prop_model_info(m);
    assert_int_equal(i->version, 1);
    assert_string_equal(i->id, "bank@1");
    assert_string_equal(i->target, "bought");
    assert_string_equal(i->id_column, "customer_id");
    assert_true(i->n_features >= 3); // income, spend, region=...
    app_prop_model_free(m);
    assert_int_equal(app_prop_load(g_reg, "bank", 1, &m, &err), PX_OK);
    app_prop_model_free(m);
    assert_int_not_equal(app_prop_load(g_reg, "bank@7", 1, &m, &err), PX_OK);
    assert_null(m);
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
    assert_int_equal(app_prop_profile_texts(l.m, g_csv, l.d, &texts, &err), PX_OK);
    // row 0 of write_bank's stream, as rowtext renders it: labels from the names, no id/target
    assert_non_null(strstr(texts[0], "Annual income: "));
    assert_non_null(strstr(texts[0], "Spend: "));
    assert_non_null(strstr(texts[0], "Region: north"));
    for (size_t r = 0; r < app_prop_data_rows(l.d); r++) {
        assert_null(strstr(texts[r], "Customer ID"));
        assert_null(strstr(texts[r], "Bought"));
        assert_null(strstr(texts[r], "K0"));
        px_free(texts[r]);
    }
    px_free(texts);
    unload(&l);
}

// The must-holds of the issue on one answer (y: the target of every row, from a score view).
static void check_lists(const struct app_look_view *a, const int *y)
{
    assert_true(a->n_a > 0);
    unsigned char *seen = calloc(240, 1);
    for (size_t i = 0; i < a->n_a; i++) {
        size_t r = a->a[i].row;
        assert_int_equal(y[r], 0);          // a negative
        assert_non_null(a->a[i].near);      // near a positive
        assert_false(seen[r]);              // listed once
        seen[r] = 1;
        if (i > 0) {
            assert_true(a->a[i].dist >= a->a[i - 1].dist); // by distance
        }
    }
    for (size_t i = 0; i < a->n_b; i++) {
        assert_int_equal(y[a->b[i].row], 0);
        assert_null(a->b[i].near);
        assert_true(i == 0 || a->b[i].probability <= a->b[i - 1].probability);
    }
    free(seen);
}

// The target of every row of l's data (score view, every row in order).
static int *targets(const struct loaded *l)
{
    struct app_prop_scores *s = NULL;
    struct px_err err = {0};
    const struct app_score_params sp = {0};
    assert_int_equal(app_prop_score(l->m, l->d, &sp, &s, &err), PX_OK);
    const struct app_score_view *v = app_prop_scores_view(s);
    int *y = calloc(v->n_rows, sizeof *y);
    for (size_t r = 0; r < v->n_rows; r++) {
        assert_int_equal(v->rows[r].row, r);
        y[r] = v->rows[r].actual;
    }
    app_prop_scores_free(s);
    return y;
}

static void test_lookalike_features(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank");
    int *y = targets(&l);
    struct app_look_params p = app_look_default_params();
    p.vectors = APP_VECTORS_FEATURES;
    p.k = 2;
    p.tipping = true;
    struct app_prop_look *a = NULL;
    struct px_err err = {0};
    assert_int_equal(app_prop_lookalike(l.m, g_csv, l.d, &p, &a, &err), PX_OK);
    const struct app_look_view *v = app_prop_look_view(a);
    assert_false(v->text_vectors);
    assert_non_null(strstr(v->vectors, "standardised model features"));
    check_lists(v, y);
    struct buf b;
    buf_init(&b, 1u << 24);
    assert_int_equal(app_prop_look_json(a, &b, &err), PX_OK);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    cJSON *la = cJSON_GetObjectItem(j, "list_a");
    assert_int_equal(cJSON_GetArraySize(la), (int)v->n_a);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(la, 0), "id")->valuestring,
                        v->a[0].name);
    assert_int_equal(cJSON_GetObjectItem(j, "k")->valueint, 2);
    cJSON *sum = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "a");
    assert_int_equal(cJSON_GetObjectItem(sum, "tipped")->valueint, (int)v->tipped_a);
    assert_non_null(strstr(cJSON_GetObjectItem(j, "vectors")->valuestring, "standardised"));
    cJSON_Delete(j);
    buf_free(&b);
    app_prop_look_free(a);
    free(y);
    unload(&l);
}

static void test_lookalike_text(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank");
    int *y = targets(&l);
    struct app_look_params p = app_look_default_params();
    p.vectors = APP_VECTORS_TEXT;
    p.embedder = g_model;
    p.k = 2;
    struct app_prop_look *a = NULL;
    struct px_err err = {0};
    int rc = app_prop_lookalike(l.m, g_csv, l.d, &p, &a, &err);
    if (rc != PX_OK) {
        fail_msg("lookalike (text): %s", err.msg);
    }
    const struct app_look_view *v = app_prop_look_view(a);
    assert_true(v->text_vectors);
    assert_non_null(strstr(v->vectors, "sentence-transformer"));
    check_lists(v, y);
    // unit vectors: distances lie in [0, 2]
    for (size_t i = 0; i < v->n_a; i++) {
        assert_true(v->a[i].dist >= 0 && v->a[i].dist <= 2.0 + 1e-6);
    }
    app_prop_look_free(a);
    // auto with a directory lacking weights falls back and says why; text fails
    char nowt[400];
    snprintf(nowt, sizeof nowt, "%s/nowhere", g_dir);
    p.embedder = nowt;
    p.vectors = APP_VECTORS_AUTO;
    assert_int_equal(app_prop_lookalike(l.m, g_csv, l.d, &p, &a, &err), PX_OK);
    v = app_prop_look_view(a);
    assert_false(v->text_vectors);
    assert_non_null(strstr(v->vectors, "sentence-transformer not used"));
    check_lists(v, y);
    app_prop_look_free(a);
    p.vectors = APP_VECTORS_TEXT;
    assert_int_not_equal(app_prop_lookalike(l.m, g_csv, l.d, &p, &a, &err), PX_OK);
    assert_null(a);
    // an unknown --features name is an error naming it
    const char *bad[] = {"nope"};
    p.vectors = APP_VECTORS_FEATURES;
    p.features = bad;
    p.n_features = 1;
    assert_int_equal(app_prop_lookalike(l.m, g_csv, l.d, &p, &a, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "'nope'"));
    free(y);
    unload(&l);
}

static void test_rows_json(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "bank@1");
    struct app_prop_data *d = NULL;
    struct app_prop_scores *s = NULL;
    struct px_err err = {0};
    const char *body =
        "{\"rows\": [{\"annual_income\": 190, \"spend\": 9.5, \"region\": \"north\"},"
        " {\"annual_income\": 25, \"spend\": 0.5, \"region\": \"east\", "
        "\"customer_id\": \"X1\"}, {\"annual_income\": null}]}";
    assert_int_equal(app_prop_data_json(l.m, body, strlen(body), &d, &err), PX_OK);
    assert_int_equal(app_prop_data_rows(d), 3);
    const struct app_score_params sp = {0};
    assert_int_equal(app_prop_score(l.m, d, &sp, &s, &err), PX_OK);
    const struct app_score_view *v = app_prop_scores_view(s);
    assert_int_equal(v->n_rows, 3);
    assert_true(v->rows[0].probability > v->rows[1].probability);
    assert_false(v->has_target);
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(app_prop_scores_json(s, &b, &err), PX_OK);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "id")->valuestring, "X1");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "id")));
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "bank@1");
    cJSON_Delete(j);
    buf_free(&b);
    app_prop_scores_free(s);
    app_prop_data_free(d);
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
        assert_int_not_equal(app_prop_data_json(l.m, bad[i].body, strlen(bad[i].body), &d, &err),
                             PX_OK);
        assert_null(d);
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
    struct app_explain_params ep = app_explain_default_params();
    ep.dependence = dep;
    ep.n_dependence = 1;
    ep.n_rows = 10;
    struct app_prop_explained *x = NULL;
    assert_int_equal(app_prop_explain(l.m, l.d, &ep, &x, &err), PX_OK);
    assert_int_equal(app_prop_explained_json(x, &b, &err), PX_OK);
    const struct app_explain_view *v = app_prop_explained_view(x);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    cJSON *g = cJSON_GetObjectItem(j, "global");
    assert_int_equal(cJSON_GetArraySize(g), (int)app_prop_model_info(l.m)->n_features);
    double prev = INFINITY;
    cJSON *it = NULL;
    cJSON_ArrayForEach(it, g)
    {
        double mv = cJSON_GetObjectItem(it, "mean_abs_shap")->valuedouble;
        assert_true(mv <= prev);
        prev = mv;
    }
    cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "dependence"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "points")),
                     (int)app_prop_data_rows(l.d));
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 10);
    assert_int_equal(v->n_rows, 10);
    for (size_t i = 0; i < v->n_rows; i++) {
        cJSON *r = cJSON_GetArrayItem(rows, (int)i);
        assert_string_equal(cJSON_GetObjectItem(r, "id")->valuestring, v->rows[i].name);
        assert_true(i == 0 || v->rows[i].probability <= v->rows[i - 1].probability);
        // the SHAP values of the top features and the bias never exceed the margin's story
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "top")), (int)v->rows[i].n_top);
    }
    double thr = app_prop_model_info(l.m)->threshold;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "potential"))
    {
        assert_true(cJSON_GetObjectItem(it, "probability")->valuedouble >= thr - 1e-6);
    }
    cJSON_Delete(j);
    app_prop_explained_free(x);
    buf_reset(&b);
    // by id, in the order asked; an unknown id or feature is named
    const char *ids[] = {"K0003", "K0001"};
    ep = app_explain_default_params();
    ep.ids = ids;
    ep.n_ids = 2;
    ep.top = 2;
    assert_int_equal(app_prop_explain(l.m, l.d, &ep, &x, &err), PX_OK);
    v = app_prop_explained_view(x);
    assert_int_equal(v->n_rows, 2);
    assert_string_equal(v->rows[0].name, "K0003");
    assert_int_equal(v->rows[0].n_top, 2);
    app_prop_explained_free(x);
    const char *badid[] = {"K9999"};
    ep.ids = badid;
    ep.n_ids = 1;
    assert_int_equal(app_prop_explain(l.m, l.d, &ep, &x, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "K9999"));
    const char *baddep[] = {"zzz"};
    ep = app_explain_default_params();
    ep.dependence = baddep;
    ep.n_dependence = 1;
    assert_int_equal(app_prop_explain(l.m, l.d, &ep, &x, &err), PX_EINVAL);
    assert_null(x);

    struct app_prop_runs *runs = NULL;
    assert_int_equal(app_prop_runs_list(g_reg, NULL, &runs, &err), PX_OK);
    assert_int_equal(app_prop_runs_json(runs, &b, &err), PX_OK);
    j = cJSON_Parse(b.data);
    assert_non_null(j);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "models"), 0), "id")
            ->valuestring,
        "bank@1");
    cJSON_Delete(j);
    buf_reset(&b);
    assert_int_equal(app_prop_runs_best(runs, NULL, NULL, &err), PX_OK); // auc_roc, test
    assert_int_equal(app_prop_runs_view(runs)->n, 1);
    assert_string_equal(app_prop_runs_view(runs)->metric, APP_PROP_DEFAULT_METRIC);
    assert_int_equal(app_prop_runs_json(runs, &b, &err), PX_OK);
    assert_non_null(strstr(b.data, "\"best\": {\"metric\": \"auc_roc\", \"split\": \"test\"}"));
    assert_int_equal(app_prop_runs_best(runs, "nope", NULL, &err), PX_EINVAL);
    app_prop_runs_free(runs);
    buf_reset(&b);
    assert_int_equal(app_prop_run_json(g_reg, "bank", &b, &err), PX_OK);
    j = cJSON_Parse(b.data);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "bank@1");
    assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(j, "format")->valuestring, "prospect-run");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metrics"), "test"));
    cJSON_Delete(j);
    buf_free(&b);
    unload(&l);
}

// Allocation failures (STYLE C14): opening a saved model, directly and through the routes'
// cache (a miss loads it), fails cleanly at every allocation and leaks nothing.
struct fault {
    struct app_prop_model *m;
    struct app_prop_cache *c;
    struct app_prop_handle *h;
};

static int fault_load(void *user, struct px_err *err)
{
    struct fault *f = user;
    return app_prop_load(g_reg, "bank", 1, &f->m, err);
}

static void fault_unload(void *user)
{
    struct fault *f = user;
    app_prop_model_free(f->m);
    f->m = NULL;
}

static int fault_acquire(void *user, struct px_err *err)
{
    struct fault *f = user;
    int rc = app_prop_cache_new(0, 0, &f->c, err);
    if (rc == PX_OK)
        rc = app_prop_acquire(f->c, g_reg, "bank@1", &f->h, err);
    return rc;
}

static void fault_release(void *user)
{
    struct fault *f = user;
    app_prop_release(f->h);
    app_prop_cache_free(f->c);
    f->h = NULL;
    f->c = NULL;
}

static void test_open_alloc_failures(void **state)
{
    (void)state;
    struct fault f = {0};
    assert_true(tu_check_alloc_failures(fault_load, fault_unload, &f) > 10);
    assert_true(tu_check_alloc_failures(fault_acquire, fault_release, &f) > 10);
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
        cmocka_unit_test(test_open_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
