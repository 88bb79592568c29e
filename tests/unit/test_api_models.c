// test_api_models.c — the propensity handlers (api_models.c) called directly, without sockets:
// a model trained by app_train on a small table, then score (415 / 400 / 404 / 200), explain and
// look-alikes with and without the server's data set.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
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
    struct app_train_params p = {.csv = g_csv, .registry = g_reg, .name = "m"};
    p.build.target = "bought";
    p.exp = ml_experiment_default_params();
    p.exp.n_folds = 3;
    struct app_trained t;
    struct px_err err = {0};
    if (app_train(&p, NULL, NULL, &t, &err) != PX_OK)
        fail_msg("train: %s", err.msg);
    app_trained_free(&t);
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
    static char q[512];
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
    const char *rows = "{\"rows\": [{\"income\": 190, \"region\": \"north\"}, {\"income\": 25}]}";
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
    assert_int_equal(call(api_model_score, "m", NULL, "application/json", "[{\"x\": 1}]", &out),
                     400);
    assert_non_null(strstr(out, "row 0: 'x'"));
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
    g_ctx.prop_data = NULL;
    assert_int_equal(call(api_model_explain, "m", NULL, NULL, NULL, &out), 404);
    assert_non_null(strstr(out, "--propensity-data"));
    free(out);
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
    assert_non_null(strstr(out, "\"id\":\"m@1\""));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_data_routes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
