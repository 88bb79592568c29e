// test_api_prop.c — scoring with a propensity model over HTTP without sockets (api_prop.c):
// every input form (dataframe_split, dataframe_records, instances, inputs by column and by
// record, the older {"rows"}, a bare list, text/csv) gives the same probabilities; the model's
// signature is enforced (a missing column, a mistyped value, a malformed form: 400 naming it;
// extra columns ignored and said once); reason codes are signed, phrased and bounded by params
// or the query; a served model's POST /invocations answers MLflow's {"predictions"}; potential
// and top; 415 and 404.
#include <math.h>
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
    size_t at = (size_t)snprintf(csv, sizeof csv, "id,income,region,spend,bought\n");
    for (int i = 0; i < 160; i++) {
        int income = 20 + (i * 37) % 100; // repeats: not ID-like
        at += (size_t)snprintf(csv + at, sizeof csv - at, "C%03d,%d,%s,%.1f,%s\n", i, income,
                               i % 2 ? "north" : "south", (i * 7) % 13 / 2.0,
                               income > 90 ? "yes" : "no");
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
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

// Calls h with {id}, a query (k=v&k=v), a content type and a body; returns the status (200 on
// PX_OK) and the body or the error message (free()).
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
    req.method = "POST";
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

// POSTs body to /api/models/m/score, wants 200; returns the parsed answer.
static cJSON *score_ok(const char *query, const char *ctype, const char *body)
{
    char *out = NULL;
    int st = call(api_model_score, "m", query, ctype, body, &out);
    if (st != 200)
        fail_msg("%d: %s\nbody: %s", st, out, body);
    cJSON *j = cJSON_Parse(out);
    if (j == NULL)
        fail_msg("not JSON: %s", out);
    free(out);
    return j;
}

// Wants status and a message containing want.
static void score_fails(int status, const char *ctype, const char *body, const char *want)
{
    char *out = NULL;
    int st = call(api_model_score, "m", NULL, ctype, body, &out);
    if (st != status || strstr(out, want) == NULL)
        fail_msg("%d '%s', wanted %d with '%s'\nbody: %s", st, out, status, want, body);
    free(out);
}

static double prob(const cJSON *rows, int i)
{
    return cJSON_GetObjectItem(cJSON_GetArrayItem(rows, i), "probability")->valuedouble;
}

static const char *k_split =
    "{\"dataframe_split\": {\"columns\": [\"id\", \"income\", \"region\", \"spend\"],"
    " \"data\": [[\"A\", 115, \"north\", 2.5], [\"B\", 25, \"south\", 1.0]]}}";

static void test_forms_agree(void **state)
{
    (void)state;
    cJSON *j = score_ok(NULL, "application/json", k_split);
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 2);
    double p0 = prob(rows, 0), p1 = prob(rows, 1);
    assert_true(p0 > p1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "id")->valuestring, "A");
    double thr = cJSON_GetObjectItem(j, "threshold")->valuedouble;
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "label")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "label")->valueint,
                     p1 >= thr);
    assert_null(cJSON_GetObjectItem(j, "notes"));
    cJSON_Delete(j);
    const char *same[] = {
        "{\"dataframe_records\": [{\"id\": \"A\", \"income\": 115, \"region\": \"north\", "
        "\"spend\": 2.5}, {\"id\": \"B\", \"income\": 25, \"region\": \"south\", \"spend\": 1}]}",
        "{\"instances\": [{\"income\": 115, \"region\": \"north\", \"spend\": 2.5}, "
        "{\"income\": 25, \"region\": \"south\", \"spend\": 1}]}",
        "{\"inputs\": {\"income\": [115, 25], \"region\": [\"north\", \"south\"], "
        "\"spend\": [2.5, 1]}}",
        "{\"inputs\": [{\"income\": 115, \"region\": \"north\", \"spend\": 2.5}, "
        "{\"income\": 25, \"region\": \"south\", \"spend\": 1}]}",
        "{\"rows\": [{\"income\": \"115\", \"region\": \"north\", \"spend\": \"2.5\"}, "
        "{\"income\": 25, \"region\": \"south\", \"spend\": 1}], \"params\": {\"reasons\": 0}}",
        "[{\"income\": 115, \"region\": \"north\", \"spend\": 2.5}, "
        "{\"income\": 25, \"region\": \"south\", \"spend\": 1}]",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        j = score_ok(NULL, "application/json; format=pandas-records", same[i]);
        rows = cJSON_GetObjectItem(j, "rows");
        assert_int_equal(cJSON_GetArraySize(rows), 2);
        if (fabs(prob(rows, 0) - p0) > 1e-6 || fabs(prob(rows, 1) - p1) > 1e-6)
            fail_msg("form %zu: %g %g, dataframe_split %g %g", i, prob(rows, 0), prob(rows, 1), p0,
                     p1);
        cJSON_Delete(j);
    }
    j = score_ok(NULL, "text/csv", "spend,region,income,id\n2.5,north,115,A\n1,south,25,B\n");
    rows = cJSON_GetObjectItem(j, "rows");
    assert_true(fabs(prob(rows, 0) - p0) < 1e-6 && fabs(prob(rows, 1) - p1) < 1e-6);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "line")->valueint, 3);
    cJSON_Delete(j);
}

static void test_signature(void **state)
{
    (void)state;
    const char *json = "application/json";
    score_fails(400, json,
                "{\"dataframe_split\": {\"columns\": [\"income\", \"spend\"], \"data\": [[1, 2]]}}",
                "column 'region' is missing");
    score_fails(400, json,
                "{\"dataframe_records\": [{\"income\": 1, \"region\": \"north\", \"spend\": 1}, "
                "{\"income\": 1, \"spend\": 1}]}",
                "dataframe_records row 1: column 'region' is missing");
    score_fails(400, json, "{\"inputs\": {\"income\": [1], \"region\": [\"north\"]}}",
                "column 'spend' is missing");
    score_fails(400, json,
                "{\"instances\": [{\"income\": \"lots\", \"region\": \"north\", \"spend\": 1}]}",
                "column 'income': 'lots' is not a number");
    score_fails(400, json,
                "{\"instances\": [{\"income\": [1], \"region\": \"north\", \"spend\": 1}]}",
                "instances row 0: column 'income' must be a number");
    score_fails(400, json,
                "{\"dataframe_split\": {\"columns\": [\"income\", \"region\", \"spend\"], "
                "\"data\": [[1, \"north\"]]}}",
                "dataframe_split.data row 0: not a list of 3 values");
    score_fails(400, json,
                "{\"inputs\": {\"income\": [1, 2], \"region\": [\"n\"], \"spend\": [1]}}",
                "inputs.region: 1 values, the first column has 2");
    score_fails(400, json, "{\"instances\": [], \"inputs\": []}", "give one input key");
    score_fails(400, json, "{\"data\": []}", "unknown key \"data\"");
    score_fails(400, json, "{\"instances\": []}", "no rows");
    score_fails(400, json, "{\"instances\": [1]}", "instances row 0: not an object");
    score_fails(400, json, "{\"instances\": [{}], \"params\": {\"reasons\": 99}}",
                "params.reasons must be");
    score_fails(400, json, "{", "request body");
    score_fails(400, "text/csv", "income,spend\n1,2\n", "column 'region' is missing");
    score_fails(400, "text/csv", "income,region,spend\n1,north\n", "CSV line 2: 2 fields");
    score_fails(400, "text/csv", "income,region,spend\n1,north,x\n", "'x' is not a number");
    score_fails(415, "text/plain", k_split, "application/json or text/csv");
    // extra columns: ignored, said once
    cJSON *j = score_ok(NULL, json,
                        "{\"dataframe_records\": [{\"income\": 1, \"region\": \"north\", "
                        "\"spend\": 1, \"shoe\": 9}, {\"income\": 2, \"region\": \"north\", "
                        "\"spend\": 1, \"shoe\": 8, \"hat\": 1}]}");
    cJSON *notes = cJSON_GetObjectItem(j, "notes");
    assert_int_equal(cJSON_GetArraySize(notes), 1);
    assert_string_equal(cJSON_GetArrayItem(notes, 0)->valuestring,
                        "ignored 2 columns the model does not read: shoe, hat");
    cJSON_Delete(j);
    // null is a missing value, not a missing column
    j = score_ok(NULL, json,
                 "{\"instances\": [{\"income\": null, \"region\": null, \"spend\": 1}]}");
    cJSON_Delete(j);
    char *out = NULL;
    assert_int_equal(call(api_model_score, "zz", NULL, json, k_split, &out), 404);
    free(out);
}

static void test_reasons(void **state)
{
    (void)state;
    cJSON *j = score_ok(NULL, "application/json", k_split);
    const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0);
    const cJSON *reasons = cJSON_GetObjectItem(r0, "reasons");
    assert_int_equal(cJSON_GetArraySize(reasons), APP_REASONS_DEFAULT);
    double prev = INFINITY;
    const cJSON *x = NULL;
    cJSON_ArrayForEach(x, reasons)
    {
        double shap = cJSON_GetObjectItem(x, "shap")->valuedouble;
        const char *text = cJSON_GetObjectItem(x, "text")->valuestring;
        assert_true(fabs(shap) <= prev); // largest |SHAP| first
        prev = fabs(shap);
        if (fabs(shap) >= 0.005)
            assert_non_null(
                strstr(text, shap > 0 ? " raises the score by " : " lowers the score by "));
    }
    // the high income is the first reason, and it raises the score
    const cJSON *first = cJSON_GetArrayItem(reasons, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "feature")->valuestring, "income");
    assert_true(cJSON_GetObjectItem(first, "shap")->valuedouble > 0);
    assert_non_null(strstr(cJSON_GetObjectItem(first, "text")->valuestring, "income 115 raises"));
    double to = cJSON_GetObjectItem(r0, "to_threshold")->valuedouble;
    assert_true(fabs(to - (cJSON_GetObjectItem(r0, "probability")->valuedouble -
                           cJSON_GetObjectItem(j, "threshold")->valuedouble)) < 1e-5);
    cJSON_Delete(j);
    // the one-hot level reads as a sentence; fewer reasons by query or params
    j = score_ok("reasons=4", "application/json", k_split);
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(strstr(s, "region is "));
    cJSON_free(s);
    cJSON_Delete(j);
    j = score_ok("reasons=1", "application/json", k_split);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 1), "reasons")),
                     1);
    cJSON_Delete(j);
    j = score_ok("reasons=1", "application/json",
                 "{\"instances\": [{\"income\": 1, \"region\": \"north\", \"spend\": 1}], "
                 "\"params\": {\"reasons\": 0}}");
    assert_null(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0), "reasons"));
    cJSON_Delete(j);
    char *out = NULL;
    assert_int_equal(call(api_model_score, "m", "reasons=x", "application/json", k_split, &out),
                     400);
    free(out);
}

static void test_potential(void **state)
{
    (void)state;
    // the target given: potential rows are the negatives at or above the threshold, by
    // probability; top bounds them and n_matched counts them all
    const char *csv = "id,income,region,spend,bought\nA,115,north,1,no\nB,21,south,1,no\n"
                      "C,118,south,1,no\nD,119,north,1,yes\nE,20,north,6,no\n";
    cJSON *all = score_ok(NULL, "text/csv", csv);
    double thr = cJSON_GetObjectItem(all, "threshold")->valuedouble;
    int want = 0;
    const cJSON *r = NULL;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(all, "rows"))
    {
        want += cJSON_GetObjectItem(r, "actual")->valueint == 0 &&
                cJSON_GetObjectItem(r, "probability")->valuedouble >= thr;
    }
    cJSON_Delete(all);
    assert_true(want >= 2); // A and C at least
    cJSON *j = score_ok("potential=1", "text/csv", csv);
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetObjectItem(j, "n_matched")->valueint, want);
    assert_int_equal(cJSON_GetArraySize(rows), want);
    assert_true(prob(rows, 0) >= prob(rows, 1));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "actual")->valueint, 0);
    cJSON_Delete(j);
    j = score_ok("potential=true&top=1", "text/csv", csv);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 1);
    assert_int_equal(cJSON_GetObjectItem(j, "n_matched")->valueint, want);
    cJSON_Delete(j);
    score_fails(400, "application/json",
                "{\"instances\": [{\"income\": 1, \"region\": \"north\", \"spend\": 1}], "
                "\"params\": {\"potential\": true}}",
                "need the target column 'bought'");
}

static void test_invocations(void **state)
{
    (void)state;
    g_ctx.prop_model = "m";
    char *out = NULL;
    assert_int_equal(call(api_invocations, "", NULL, "application/json", k_split, &out), 200);
    cJSON *j = cJSON_Parse(out);
    free(out);
    cJSON *p = cJSON_GetObjectItem(j, "predictions");
    assert_int_equal(cJSON_GetArraySize(p), 2);
    cJSON *p0 = cJSON_GetArrayItem(p, 0);
    assert_string_equal(cJSON_GetObjectItem(p0, "id")->valuestring, "A");
    assert_int_equal(cJSON_GetObjectItem(p0, "label")->valueint, 1);
    assert_true(cJSON_GetObjectItem(p0, "probability")->valuedouble > 0.5);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p0, "reasons")), 3);
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "m@1");
    cJSON_Delete(j);
    assert_int_equal(
        call(api_invocations, "", NULL, "text/csv", "income,region,spend\n115,north,2.5\n", &out),
        200);
    assert_non_null(strstr(out, "\"predictions\""));
    free(out);
    assert_int_equal(call(api_invocations, "", NULL, "application/json",
                          "{\"inputs\": {\"query\": [\"rich people\"]}}", &out),
                     400);
    assert_non_null(strstr(out, "column 'income' is missing"));
    free(out);
    g_ctx.prop_model = "nope";
    assert_int_equal(call(api_invocations, "", NULL, "application/json", k_split, &out), 404);
    free(out);
    g_ctx.prop_model = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_agree), cmocka_unit_test(test_signature),
        cmocka_unit_test(test_reasons),     cmocka_unit_test(test_potential),
        cmocka_unit_test(test_invocations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
