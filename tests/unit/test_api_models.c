// test_api_models.c — the propensity handlers (api_models.c) called directly, without sockets:
// a model trained by app_train on a small table, then score (415 / 400 / 404 / 200), explain and
// look-alikes with and without the server's data set; then the same handlers over the cache
// (app/propcache.c): hits on a second call, a new version and a promotion picked up at once, an
// edited data file re-read, several threads at once getting the same answers, and the
// sentence-transformer's vectors embedded once (the counters, never timings).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "registry.h"
#include "testutil.h"

static char g_dir[256], g_csv[300], g_reg[300];
static struct api_ctx g_ctx;

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    char csv[16384];
    size_t at = (size_t)snprintf(csv, sizeof csv, "id,income,region,bought\n");
    for (int i = 0; i < 150; i++) {
        int income = 20 + (i * 37) % 100; // repeats: not ID-like
        at += (size_t)snprintf(csv + at, sizeof csv - at, "C%03d,%d,%s,%s\n", i, income,
                               i % 2 ? "north" : "south", income > 90 ? "yes" : "no");
    }
    tu_write_text(g_dir, "d.csv", csv);
    snprintf(g_csv, sizeof g_csv, "%s/d.csv", g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    struct app_train_params p = app_train_default_params();
    p.csv = g_csv;
    p.registry = g_reg;
    p.name = "m";
    p.target = "bought";
    p.folds = 3;
    struct app_prop_trained *t = NULL;
    struct px_err err = {0};
    if (app_train(&p, NULL, NULL, &t, &err) != PX_OK)
        fail_msg("train: %s", err.msg);
    app_prop_trained_free(t);
    g_ctx.registry = g_reg;
    g_ctx.model_flag = "/nonexistent-model";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

// Calls handler h with {id}, a query (k=v&k=v), a content type and a body; returns the status
// (200 on PX_OK) and the body (free()).
static int call(api_handler_fn h, const char *id, const char *query, const char *ctype,
                const char *body, char **out)
{
    char q[512];
    struct api_req req;
    struct api_res res = {0};
    struct px_err err = {0};
    memset(&req, 0, sizeof req);
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    req.ctx = &g_ctx;
    req.method = body ? "POST" : "GET";
    req.path = "/api/models";
    snprintf(req.id, sizeof req.id, "%s", id);
    snprintf(q, sizeof q, "%s", query ? query : "");
    for (char *save = NULL, *t = strtok_r(q, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        if (eq)
            *eq++ = '\0';
        req.args[req.n_args++] = (struct api_arg){t, eq ? eq : ""};
    }
    req.content_type = ctype;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    int rc = h(&req, &res, &err);
    int status = rc == PX_OK ? 200 : res.status >= 400 ? res.status : api_http_status(rc);
    *out = strdup(rc == PX_OK ? (res.body.data ? res.body.data : "") : err.msg);
    buf_free(&res.body);
    return status;
}

static void test_score(void **state)
{
    (void)state;
    char *out = NULL;
    const char *rows =
        "{\"rows\": [{\"income\": 190, \"region\": \"north\"}, {\"income\": 25, \"region\": null}]}";
    if (call(api_model_score, "m@1", NULL, "application/json", rows, &out) != 200)
        fail_msg("%s", out);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    cJSON *r = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "label")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 1), "label")->valueint, 0);
    cJSON_Delete(j);
    free(out);
    assert_int_equal(call(api_model_score, "m", NULL, NULL, rows, &out), 415);
    free(out);
    // the signature: a row without a column the model reads is refused, naming it
    assert_int_equal(call(api_model_score, "m", NULL, "application/json", "[{\"x\": 1}]", &out),
                     400);
    assert_non_null(strstr(out, "row 0: column 'income' is missing"));
    free(out);
    assert_int_equal(call(api_model_score, "m", NULL, "application/json", "{\"rows\": [", &out),
                     400);
    free(out);
    assert_int_equal(call(api_model_score, "zz@3", NULL, "application/json", rows, &out), 404);
    free(out);
    assert_int_equal(call(api_model_score, "a/b", NULL, "application/json", rows, &out), 404);
    free(out);
}

static void test_data_routes(void **state)
{
    (void)state;
    char *out = NULL;
    // the data set is chosen per model: without any option, the training CSV its run record
    // names; gone, a 404 naming the option
    g_ctx.prop_data = NULL;
    char moved[320];
    snprintf(moved, sizeof moved, "%s.away", g_csv);
    assert_int_equal(rename(g_csv, moved), 0);
    assert_int_equal(call(api_model_explain, "m", NULL, NULL, NULL, &out), 404);
    assert_non_null(strstr(out, "--propensity-data m=FILE.csv"));
    free(out);
    assert_int_equal(rename(moved, g_csv), 0);
    assert_int_equal(call(api_model_explain, "m", "top=3", NULL, NULL, &out), 200);
    assert_non_null(strstr(out, "\"n_rows\": 150"));
    free(out);
    // NAME=FILE for this model wins over FILE for all
    char small[16384];
    size_t at = (size_t)snprintf(small, sizeof small, "id,income,region,bought\n");
    for (int i = 0; i < 40; i++) {
        at += (size_t)snprintf(small + at, sizeof small - at, "S%03d,%d,north,%s\n", i,
                               20 + (i * 37) % 100, i % 3 ? "no" : "yes");
    }
    tu_write_text(g_dir, "small.csv", small);
    char small_path[320];
    snprintf(small_path, sizeof small_path, "%s/small.csv", g_dir);
    const char *names[] = {"other", "m"}, *files[] = {"/nonexistent.csv", small_path};
    g_ctx.prop_data_model = names;
    g_ctx.prop_data_file = files;
    g_ctx.n_prop_data = 2;
    g_ctx.prop_data = "/nonexistent.csv";
    assert_int_equal(call(api_model_explain, "m", "top=3", NULL, NULL, &out), 200);
    assert_non_null(strstr(out, "\"n_rows\": 40"));
    free(out);
    g_ctx.n_prop_data = 0;
    g_ctx.prop_data = g_csv;
    assert_int_equal(call(api_model_explain, "m", "top=3", NULL, NULL, &out), 200);
    cJSON *j = cJSON_Parse(out);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "dependence"), 0), "feature")
            ->valuestring,
        "income");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 3);
    cJSON_Delete(j);
    free(out);
    assert_int_equal(call(api_model_lookalike, "m", "k=2&vectors=features", NULL, NULL, &out), 200);
    assert_non_null(strstr(out, "\"list_a\""));
    assert_non_null(strstr(out, "as asked"));
    free(out);
    assert_int_equal(call(api_model_tipping, "m", "k=0", NULL, NULL, &out), 400);
    free(out);
    assert_int_equal(call(api_models, "", NULL, NULL, NULL, &out), 200);
    assert_non_null(strstr(out, "\"m@1\""));
    free(out);
    assert_int_equal(call(api_model, "m@1", NULL, NULL, NULL, &out), 200);
    j = cJSON_Parse(out);
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "m@1");
    assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, 1);
    cJSON_Delete(j);
    free(out);
}

// call() for a GET without body (any thread).
static int call_r(api_handler_fn h, const char *id, const char *query, char **out)
{
    return call(h, id, query, NULL, NULL, out);
}

// ---- the cache ----

static struct app_prop_cache_stats stats(void)
{
    struct app_prop_cache_stats st;
    app_prop_cache_stats(g_ctx.prop_cache, &st);
    return st;
}

static void train_again(void)
{
    struct app_train_params p = app_train_default_params();
    p.csv = g_csv;
    p.registry = g_reg;
    p.name = "m";
    p.target = "bought";
    p.folds = 3;
    p.n_rounds = 4; // another model than version 1
    p.seed = 7;
    struct app_prop_trained *t = NULL;
    struct px_err err = {0};
    if (app_train(&p, NULL, NULL, &t, &err) != PX_OK)
        fail_msg("train: %s", err.msg);
    app_prop_trained_free(t);
}

static int version_of(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    int v = cJSON_GetObjectItem(j, "version")->valueint;
    cJSON_Delete(j);
    return v;
}

static int cache_setup(void **state)
{
    setup(state);
    struct px_err err = {0};
    g_ctx.prop_data = g_csv;
    g_ctx.model_flag = "/nonexistent-model";
    return app_prop_cache_new(2, 2, &g_ctx.prop_cache, &err);
}

static int cache_teardown(void **state)
{
    (void)state;
    app_prop_cache_free(g_ctx.prop_cache);
    g_ctx.prop_cache = NULL;
    return teardown(state);
}

static void test_cache_hits(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL;
    assert_int_equal(call(api_model_explain, "m@1", "top=5", NULL, NULL, &a), 200);
    struct app_prop_cache_stats st = stats();
    assert_int_equal(st.miss[APP_PROP_PART_MODEL], 1);
    assert_int_equal(st.miss[APP_PROP_PART_DATA], 1);
    assert_int_equal(st.miss[APP_PROP_PART_SHAP], 1);
    assert_int_equal(st.hit[APP_PROP_PART_MODEL], 0);
    assert_int_equal(call(api_model_explain, "m@1", "top=5", NULL, NULL, &b), 200);
    assert_string_equal(a, b);
    st = stats();
    assert_int_equal(st.miss[APP_PROP_PART_MODEL], 1);
    assert_int_equal(st.hit[APP_PROP_PART_MODEL], 1);
    assert_int_equal(st.hit[APP_PROP_PART_DATA], 1);
    assert_int_equal(st.hit[APP_PROP_PART_SHAP], 1);
    free(a);
    free(b);
    // score and look-alikes on the same model: more hits, no more loads
    const char *rows = "{\"rows\": [{\"income\": 190, \"region\": \"north\"}]}";
    assert_int_equal(call(api_model_score, "m@1", NULL, "application/json", rows, &a), 200);
    free(a);
    assert_int_equal(call(api_model_tipping, "m@1", "vectors=features", NULL, NULL, &a), 200);
    free(a);
    st = stats();
    assert_int_equal(st.miss[APP_PROP_PART_MODEL], 1);
    assert_int_equal(st.hit[APP_PROP_PART_MODEL], 3);
    assert_int_equal(st.n_models, 1);
    // an unknown model is still a 404, and not cached
    assert_int_equal(call(api_model_explain, "zz", NULL, NULL, NULL, &a), 404);
    free(a);
    assert_int_equal(stats().n_models, 1);
}

static void test_cache_new_version(void **state)
{
    (void)state;
    char *out = NULL;
    struct px_err err = {0};
    assert_int_equal(call(api_model_explain, "m", NULL, NULL, NULL, &out), 200);
    int before = version_of(out);
    free(out);
    train_again();
    assert_int_equal(call(api_model_explain, "m", NULL, NULL, NULL, &out), 200);
    assert_int_equal(version_of(out), before + 1); // the newest, at once
    free(out);
    const char *rows = "{\"rows\": [{\"income\": 50, \"region\": null}]}";
    assert_int_equal(call(api_model_score, "m", NULL, "application/json", rows, &out), 200);
    assert_int_equal(version_of(out), before + 1);
    free(out);
    // a promotion of the older version: "m" and "m@production" follow it
    assert_int_equal(registry_set_alias(g_reg, "m", "production", before, &err), PX_OK);
    assert_int_equal(call(api_model_explain, "m", NULL, NULL, NULL, &out), 200);
    assert_int_equal(version_of(out), before);
    free(out);
    assert_int_equal(call(api_model_tipping, "m@production", "vectors=features", NULL, NULL, &out),
                     200);
    assert_int_equal(version_of(out), before);
    free(out);
    assert_int_equal(registry_set_alias(g_reg, "m", "production", before + 1, &err), PX_OK);
    assert_int_equal(call(api_model_explain, "m", NULL, NULL, NULL, &out), 200);
    assert_int_equal(version_of(out), before + 1);
    free(out);
    // a deleted version is not served from the cache
    assert_int_equal(registry_delete(g_reg, "m", before, true, NULL, &err), PX_OK);
    assert_int_equal(call(api_model_explain, "m@1", NULL, NULL, NULL, &out), 404);
    free(out);
    assert_true(stats().n_models <= 2); // bounded (this cache: 2)
}

static void test_cache_data_changed(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(call(api_model_explain, "m", "top=1000", NULL, NULL, &out), 200);
    cJSON *j = cJSON_Parse(out);
    int n = cJSON_GetObjectItem(j, "n_rows")->valueint;
    cJSON_Delete(j);
    free(out);
    size_t miss = stats().miss[APP_PROP_PART_DATA];
    // a copy with one row less, renamed over the file (a new inode)
    char text[16384], path[400];
    FILE *f = fopen(g_csv, "rb");
    assert_non_null(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *last = strrchr(text, '\n');
    *last = '\0';
    *(strrchr(text, '\n') + 1) = '\0';
    snprintf(path, sizeof path, "%s/d.tmp", g_dir);
    f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(path, g_csv), 0);
    assert_int_equal(call(api_model_explain, "m", "top=1000", NULL, NULL, &out), 200);
    j = cJSON_Parse(out);
    assert_int_equal(cJSON_GetObjectItem(j, "n_rows")->valueint, n - 1);
    cJSON_Delete(j);
    free(out);
    assert_int_equal(stats().miss[APP_PROP_PART_DATA], miss + 1);
}

struct worker {
    const char *ref;
    char *out[6];
    int status[6];
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 6; i++) {
        api_handler_fn h = i % 3 == 0   ? api_model_explain
                           : i % 3 == 1 ? api_model_tipping
                                        : api_model_lookalike;
        w->status[i] = call_r(h, w->ref, i % 3 == 0 ? "top=7" : "vectors=features&k=2", &w->out[i]);
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    (void)state;
    // a cold cache: the threads race to load, read and explain the same model
    app_prop_cache_free(g_ctx.prop_cache);
    struct px_err err = {0};
    assert_int_equal(app_prop_cache_new(2, 2, &g_ctx.prop_cache, &err), PX_OK);
    enum { N = 6 };
    struct worker w[N];
    pthread_t t[N];
    memset(w, 0, sizeof w);
    for (int i = 0; i < N; i++) {
        w[i].ref = i % 2 ? "m" : "m@production";
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
    }
    // the answers without the cache
    struct app_prop_cache *c = g_ctx.prop_cache;
    g_ctx.prop_cache = NULL;
    char *want[3];
    for (int i = 0; i < 3; i++) {
        api_handler_fn h = i == 0 ? api_model_explain : i == 1 ? api_model_tipping
                                                               : api_model_lookalike;
        assert_int_equal(call_r(h, "m", i == 0 ? "top=7" : "vectors=features&k=2", &want[i]), 200);
    }
    g_ctx.prop_cache = c;
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 6; k++) {
            assert_int_equal(w[i].status[k], 200);
            assert_string_equal(w[i].out[k], want[k % 3]);
            free(w[i].out[k]);
        }
    }
    for (int i = 0; i < 3; i++) {
        free(want[i]);
    }
    struct app_prop_cache_stats st = stats();
    assert_int_equal(st.hit[APP_PROP_PART_MODEL] + st.miss[APP_PROP_PART_MODEL], N * 6);
    assert_true(st.miss[APP_PROP_PART_MODEL] <= N);  // racing first loads at most
    assert_int_equal(st.miss[APP_PROP_PART_DATA], 1); // one thread fills, the others wait
    assert_int_equal(st.miss[APP_PROP_PART_SHAP], 1);
    assert_int_equal(st.n_models, 1);
}

static void test_cache_text_vectors(void **state)
{
    (void)state;
    char model[512];
    if (!tu_shared_path(model, sizeof model, "models/minilm-l6-twin/model.safetensors")) {
        skip();
    }
    *strrchr(model, '/') = '\0';
    g_ctx.model_flag = model;
    char *a = NULL, *b = NULL, *c = NULL;
    size_t hit = stats().hit[APP_PROP_PART_VECTORS], miss = stats().miss[APP_PROP_PART_VECTORS];
    assert_int_equal(call(api_model_lookalike, "m", "vectors=text", NULL, NULL, &a), 200);
    if (strstr(a, "\"text_vectors\": true") == NULL)
        fail_msg("%.300s", a);
    assert_int_equal(stats().miss[APP_PROP_PART_VECTORS], miss + 1);
    assert_int_equal(call(api_model_tipping, "m", "vectors=text", NULL, NULL, &b), 200);
    assert_int_equal(stats().miss[APP_PROP_PART_VECTORS], miss + 1); // not embedded again
    assert_int_equal(stats().hit[APP_PROP_PART_VECTORS], hit + 1);
    // the same list as embedding afresh
    struct app_prop_cache *cache = g_ctx.prop_cache;
    g_ctx.prop_cache = NULL;
    assert_int_equal(call(api_model_lookalike, "m", "vectors=text", NULL, NULL, &c), 200);
    g_ctx.prop_cache = cache;
    assert_string_equal(a, c);
    free(a);
    free(b);
    free(c);
    g_ctx.model_flag = "/nonexistent-model";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_data_routes),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    const struct CMUnitTest cached[] = {
        cmocka_unit_test(test_cache_hits),
        cmocka_unit_test(test_cache_new_version),
        cmocka_unit_test(test_cache_data_changed),
        cmocka_unit_test(test_cache_threads),
        cmocka_unit_test(test_cache_text_vectors),
    };
    rc |= cmocka_run_group_tests(cached, cache_setup, cache_teardown);
    return rc;
}
