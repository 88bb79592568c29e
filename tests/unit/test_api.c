// test_api.c — the HTTP handlers called directly, without sockets: MLflow input forms, params
// and every kind of bad body; search arguments; unknown customers; OpenAPI lists every API route;
// the web pages' routes answer their files with the right types and stay out of OpenAPI.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "routes.h"
#include "testutil.h"

static char g_dir[256];
static struct app_book *g_book;
static struct api_ctx g_ctx;
static const char *g_auth; // Authorization header of call()'s requests
static char g_key_id[16];  // key id dispatch verified on the last call()

static int setup(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(args, sizeof args, "generate --rows 300 --seed 7 --out %s/b.csv && $PROSPECT_BIN import --db %s/t.db --csv %s/b.csv",
             g_dir, g_dir, g_dir);
    int rc = tu_run_prospect(args, NULL, &out, &err);
    if (rc != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    char db[512];
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.model_flag = "/nonexistent-model"; // lexical path only: fast and deterministic
    struct px_err e = {0};
    if (app_book_open(&bp, &g_book, &e) != PX_OK) fail_msg("open: %s", e.msg);
    if (api_ctx_init(&g_ctx, g_book, &e) != PX_OK) fail_msg("ctx: %s", e.msg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    api_ctx_free(&g_ctx);
    app_book_close(g_book);
    tu_rmtree(g_dir);
    return 0;
}

// Dispatches method + path (+ "k=v&k=v" query, + body) and returns the parsed answer
// (cJSON_Delete), the status in *status.
static cJSON *call(const char *method, const char *path, const char *query, const char *ctype,
                   const char *body, int *status)
{
    static char qbuf[1024];
    struct api_req *req = calloc(1, sizeof *req);
    struct api_res res = {0};
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    req->ctx = &g_ctx;
    req->method = method;
    req->path = path;
    req->content_type = ctype;
    req->authorization = g_auth;
    req->body = body;
    req->body_len = body ? strlen(body) : 0;
    snprintf(qbuf, sizeof qbuf, "%s", query ? query : "");
    for (char *save = NULL, *t = strtok_r(qbuf, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        if (eq) *eq++ = '\0';
        req->args[req->n_args++] = (struct api_arg){t, eq ? eq : ""};
    }
    int i_route;
    assert_int_equal(routes_dispatch(req, &res, &i_route), PX_OK);
    *status = res.status;
    snprintf(g_key_id, sizeof g_key_id, "%s", req->key_id);
    cJSON *j = res.body.data ? cJSON_Parse(res.body.data) : NULL;
    if (j == NULL && (res.content_type == NULL)) fail_msg("%s %s: not JSON: %.200s", method, path, res.body.data);
    buf_free(&res.body);
    free(req);
    return j;
}

static cJSON *invoke(const char *body, int *status)
{
    return call("POST", "/invocations", NULL, "application/json", body, status);
}

static void expect_error(cJSON *j, int status, int want)
{
    if (status != want) fail_msg("status %d, want %d", status, want);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    assert_non_null(e);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(e, "code")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(e, "message")));
    cJSON_Delete(j);
}

static void check_prediction(const cJSON *p, bool score)
{
    const cJSON *c = cJSON_GetObjectItem(p, "Customer");
    assert_true(cJSON_IsString(c));
    assert_true(strncmp(c->valuestring, "Customer ID: CUST-", 18) == 0);
    // the seed's key attributes, in its order, money with a "$"
    const char *age = strstr(c->valuestring, ", Age: "), *inc = strstr(c->valuestring, ", Annual income: $");
    const char *cs = strstr(c->valuestring, ", Credit score: "), *seg = strstr(c->valuestring, ", Segment: ");
    const char *risk = strstr(c->valuestring, ", Risk profile: ");
    if (!(age && inc && cs && seg && risk && age < inc && inc < cs && cs < seg && seg < risk)) {
        fail_msg("Customer string lacks the key attributes in order: %s", c->valuestring);
    }
    assert_non_null(strstr(c->valuestring, "Age: "));
    assert_int_equal(cJSON_GetObjectItem(p, "Similarity") != NULL, score);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(p, "customer_id")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(p, "age")));
}

static void test_mlflow_forms(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int n_queries; // 1: flat list; more: list of lists
        int top;
        bool score;
    } cases[] = {
        {"{\"inputs\": {\"query\": [\"young customers with a mortgage\"]}, \"params\": {\"top_n\": 3, \"show_score\": true}}", 1, 3, true},
        {"{\"inputs\": {\"query\": \"credit score over 700\"}}", 1, 5, true},
        {"{\"inputs\": [\"affluent\", \"retired\"], \"params\": {\"top_n\": 2}}", 2, 2, true},
        {"{\"dataframe_split\": {\"columns\": [\"query\"], \"data\": [[\"savers\"]]}, \"params\": {\"top_n\": 4, \"show_score\": false}}", 1, 4, false},
        {"{\"dataframe_split\": {\"index\": [0, 1], \"columns\": [\"query\"], \"data\": [[\"savers\"], [\"under 30\"]]}}", 2, 5, true},
        {"{\"dataframe_records\": [{\"query\": \"in the Private segment\"}]}", 1, 5, true},
        {"{\"dataframe_records\": [{\"query\": \"a\"}, {\"query\": \"b\"}, {\"query\": \"c\"}], \"params\": {\"top_n\": 1}}", 3, 1, true},
        {"{\"instances\": [{\"query\": \"has a brokerage account\"}]}", 1, 5, true},
        {"{\"instances\": [\"over 60\", \"under 25\"], \"params\": {\"show_score\": false}}", 2, 5, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = 0;
        cJSON *j = invoke(cases[i].body, &status);
        if (status != 200) fail_msg("case %zu: status %d", i, status);
        const cJSON *preds = cJSON_GetObjectItem(j, "predictions");
        assert_true(cJSON_IsArray(preds));
        if (cases[i].n_queries == 1) {
            assert_int_equal(cJSON_GetArraySize(preds), cases[i].top);
            const cJSON *p;
            cJSON_ArrayForEach(p, preds) check_prediction(p, cases[i].score);
        } else {
            if (cJSON_GetArraySize(preds) != cases[i].n_queries) fail_msg("case %zu: %d lists", i, cJSON_GetArraySize(preds));
            const cJSON *list, *p;
            cJSON_ArrayForEach(list, preds)
            {
                assert_true(cJSON_IsArray(list));
                assert_int_equal(cJSON_GetArraySize(list), cases[i].top);
                cJSON_ArrayForEach(p, list) check_prediction(p, cases[i].score);
            }
        }
        cJSON_Delete(j);
    }
}

static void test_mlflow_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{not json",
        "[1, 2]",
        "{}",
        "{\"params\": {\"top_n\": 2}}",
        "{\"inputs\": {\"query\": [\"a\"]}, \"instances\": [\"b\"]}",
        "{\"inputs\": {\"q\": [\"a\"]}}",
        "{\"inputs\": {\"query\": [1, 2]}}",
        "{\"inputs\": {\"query\": []}}",
        "{\"inputs\": {\"query\": [\"\"]}}",
        "{\"inputs\": {\"query\": [\"a\"]}, \"params\": {\"top_n\": \"5\"}}",
        "{\"inputs\": {\"query\": [\"a\"]}, \"params\": {\"top_n\": 0}}",
        "{\"inputs\": {\"query\": [\"a\"]}, \"params\": {\"top_n\": 100000}}",
        "{\"inputs\": {\"query\": [\"a\"]}, \"params\": {\"show_score\": \"yes\"}}",
        "{\"inputs\": {\"query\": [\"a\"]}, \"params\": [1]}",
        "{\"dataframe_split\": {\"columns\": [\"a\", \"b\"], \"data\": [[\"x\", \"y\"]]}}",
        "{\"dataframe_split\": {\"columns\": [\"query\"], \"data\": [[\"x\", \"y\"]]}}",
        "{\"dataframe_split\": [\"query\"]}",
        "{\"dataframe_records\": [\"just a string\"]}",
        "{\"instances\": 5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status = 0;
        cJSON *j = invoke(bad[i], &status);
        if (status != 400) fail_msg("case %zu (%s): status %d, want 400", i, bad[i], status);
        expect_error(j, status, 400);
    }
    // too many queries
    char big[8192] = "{\"instances\": [";
    for (int i = 0; i <= LIMIT_HTTP_QUERIES; i++) strcat(big, i ? ", \"q\"" : "\"q\"");
    strcat(big, "]}");
    int status = 0;
    { cJSON *e_ = invoke(big, &status); expect_error(e_, status, 400); }
    // content type
    static const char *const ctypes[] = {"text/plain", "application/jsonp", "", NULL};
    for (size_t i = 0; i < 4; i++) {
        cJSON *j = call("POST", "/invocations", NULL, ctypes[i], "{\"inputs\": [\"a\"]}", &status);
        expect_error(j, status, 415);
    }
    cJSON *j = call("POST", "/invocations", NULL, "application/json; charset=utf-8", "{\"inputs\": [\"a\"]}", &status);
    assert_int_equal(status, 200);
    cJSON_Delete(j);
}

static void test_search(void **state)
{
    (void)state;
    int status = 0;
    cJSON *j = call("GET", "/api/search", "q=credit score over 700&top=7", NULL, NULL, &status);
    assert_int_equal(status, 200);
    const cJSON *res = cJSON_GetObjectItem(j, "results"), *r;
    assert_true(cJSON_GetArraySize(res) > 0 && cJSON_GetArraySize(res) <= 7);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "filters")), 1);
    cJSON_ArrayForEach(r, res)
    {
        assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "row"), "credit_score")->valuedouble > 700);
    }
    cJSON_Delete(j);
    static const char *const bad[] = {"", "top=5", "q=a&top=0", "q=a&top=x", "q=a&top=1001", "q=a&top="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = call("GET", "/api/search", bad[i], NULL, NULL, &status);
        if (status != 400) fail_msg("case %zu: status %d", i, status);
        expect_error(j, status, 400);
    }
}

static void test_customers(void **state)
{
    (void)state;
    int status = 0;
    cJSON *j = call("GET", "/api/customers/CUST-000042", NULL, NULL, NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(cJSON_GetObjectItem(j, "customer_id")->valuestring, "CUST-000042");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "row"), "customer_id")->valuestring, "CUST-000042");
    cJSON_Delete(j);
    j = call("GET", "/api/customers/CUST-000042/similar", "top=3", NULL, NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 3);
    cJSON_Delete(j);
    { cJSON *e_ = call("GET", "/api/customers/NOPE", NULL, NULL, NULL, &status); expect_error(e_, status, 404); }
    { cJSON *e_ = call("GET", "/api/customers/NOPE/similar", NULL, NULL, NULL, &status); expect_error(e_, status, 404); }
    { cJSON *e_ = call("GET", "/api/nothing", NULL, NULL, NULL, &status); expect_error(e_, status, 404); }
    { cJSON *e_ = call("GET", "/api/customers/", NULL, NULL, NULL, &status); expect_error(e_, status, 404); }
    { cJSON *e_ = call("DELETE", "/api/customers/CUST-000042", NULL, NULL, NULL, &status); expect_error(e_, status, 405); }
    { cJSON *e_ = call("GET", "/invocations", NULL, NULL, NULL, &status); expect_error(e_, status, 405); }
}

static void test_meta(void **state)
{
    (void)state;
    int status = 0;
    size_t n;
    const struct route *r = routes_table(&n);
    cJSON *j = call("GET", "/openapi.json", NULL, NULL, NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(cJSON_GetObjectItem(j, "openapi")->valuestring, "3.0.3");
    const cJSON *paths = cJSON_GetObjectItem(j, "paths");
    for (size_t i = 0; i < n; i++) {
        if (r[i].handler == api_web) {
            if (cJSON_GetObjectItemCaseSensitive(paths, r[i].pattern) != NULL) {
                fail_msg("openapi lists the page route %s", r[i].pattern);
            }
            continue;
        }
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, r[i].pattern);
        if (p == NULL) fail_msg("openapi lacks %s", r[i].pattern);
        const char *m = strcmp(r[i].method, "POST") == 0 ? "post" : "get";
        if (cJSON_GetObjectItem(p, m) == NULL) fail_msg("openapi lacks %s %s", m, r[i].pattern);
    }
    // the search and similar answers are described: ranked / order, each result's why / shared
    const char *const described[][2] = {{"/api/search", "why"},
                                        {"/api/customers/{id}/similar", "shared"}};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *sch = cJSON_GetObjectItemCaseSensitive(paths, described[i][0]);
        const char *keys[] = {"get", "responses", "200", "content", "application/json", "schema",
                              "properties"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && sch != NULL; k++) {
            sch = cJSON_GetObjectItemCaseSensitive(sch, keys[k]);
        }
        if (sch == NULL) fail_msg("openapi: %s has no answer schema", described[i][0]);
        assert_non_null(cJSON_GetObjectItem(sch, "ranked"));
        assert_non_null(cJSON_GetObjectItem(sch, "order"));
        const cJSON *item = cJSON_GetObjectItem(cJSON_GetObjectItem(sch, "results"), "items");
        assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(item, "properties"),
                                            described[i][1]));
    }
    cJSON_Delete(j);
    j = call("GET", "/api/schema", NULL, NULL, NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(cJSON_GetObjectItem(j, "rows")->valueint, 300);
    const cJSON *c;
    bool seg = false;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "columns"))
    {
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "segment") == 0) {
            seg = cJSON_GetArraySize(cJSON_GetObjectItem(c, "values")) > 1;
        }
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "age") == 0) {
            assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "integer");
        }
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "annual_income") == 0) {
            assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "currency");
        }
    }
    assert_true(seg);
    cJSON_Delete(j);
    static const char *const probes[] = {"/ping", "/health", "/version"};
    for (size_t i = 0; i < 3; i++) {
        j = call("GET", probes[i], NULL, NULL, NULL, &status);
        assert_int_equal(status, 200);
        cJSON_Delete(j);
    }
    assert_null(call("GET", "/metrics", NULL, NULL, NULL, &status));
    assert_int_equal(status, 200);
}

// Keys at dispatch: protected routes need a valid key when the context requires keys, public
// ones never do; a given key is always checked, and the verified id reaches the handler.
static void test_keys_at_dispatch(void **state)
{
    (void)state;
    char db[512], token[APP_KEY_TOKEN_MAX], bad[APP_KEY_TOKEN_MAX + 16];
    struct app_key k;
    struct app_access *a = NULL;
    struct px_err e = {0};
    int status = 0;
    cJSON *j = NULL;
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    assert_int_equal(app_keys_create(db, "unit", &k, token, &e), PX_OK);
    assert_int_equal(app_access_open(db, &a, &e), PX_OK);
    g_ctx.access = a;
    g_ctx.require_keys = true;
    j = call("GET", "/api/search", "q=over%2060", NULL, NULL, &status);
    expect_error(j, status, 401);
    j = call("GET", "/metrics", NULL, NULL, NULL, &status);
    expect_error(j, status, 401);
    j = invoke("{\"inputs\": [\"x\"]}", &status);
    expect_error(j, status, 401);
    cJSON_Delete(call("GET", "/ping", NULL, NULL, NULL, &status));
    assert_int_equal(status, 200);
    cJSON_Delete(call("GET", "/openapi.json", NULL, NULL, NULL, &status));
    assert_int_equal(status, 200);
    g_auth = "Basic dXNlcjpwYXNz";
    j = call("GET", "/api/schema", NULL, NULL, NULL, &status);
    expect_error(j, status, 401);
    snprintf(bad, sizeof bad, "Bearer %s", token);
    bad[sizeof "Bearer pxk_0123456789ab_" - 1] ^= 1; // one bit of the secret
    g_auth = bad;
    j = call("GET", "/api/schema", NULL, NULL, NULL, &status);
    expect_error(j, status, 401);
    snprintf(bad, sizeof bad, "Bearer %s", token);
    g_auth = bad;
    cJSON_Delete(call("GET", "/api/schema", NULL, NULL, NULL, &status));
    assert_int_equal(status, 200);
    assert_string_equal(g_key_id, k.id);
    // keys optional (loopback): no header passes, a bad one still does not
    g_ctx.require_keys = false;
    g_auth = NULL;
    cJSON_Delete(call("GET", "/api/schema", NULL, NULL, NULL, &status));
    assert_int_equal(status, 200);
    assert_string_equal(g_key_id, "");
    g_auth = "Bearer pxk_nope";
    j = call("GET", "/api/schema", NULL, NULL, NULL, &status);
    expect_error(j, status, 401);
    g_auth = NULL;
    g_ctx.access = NULL;
    app_access_close(a);
}

// The audit rows' actions, n_results and queries, collected by app_audit_read.
struct audit_seen {
    int n;
    char action[8][16], query[8][256];
    long long n_results[8];
};

static int see_row(const struct app_audit_row *r, void *user, struct px_err *err)
{
    (void)err;
    struct audit_seen *s = user;
    if (s->n < 8) {
        snprintf(s->action[s->n], sizeof s->action[0], "%s", r->action);
        snprintf(s->query[s->n], sizeof s->query[0], "%s", r->query ? r->query : "");
        s->n_results[s->n] = r->n_results;
    }
    s->n++;
    return PX_OK;
}

static struct audit_seen newest_audit(const char *db, size_t limit)
{
    struct audit_seen s = {0};
    struct px_err e = {0};
    assert_int_equal(app_audit_read(db, NULL, NULL, limit, see_row, &s, &e), PX_OK);
    return s;
}

// An MLflow batch is audited once, after its answer is built, with what was sent; a batch that
// fails is not audited at all; an audited answer that then fails to leave gets a "failed" row.
static void test_mlflow_audit(void **state)
{
    (void)state;
    char db[512];
    struct app_access *a = NULL;
    struct px_err e = {0};
    int status = 0;
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    assert_int_equal(app_access_open(db, &a, &e), PX_OK);
    g_ctx.access = a;
    g_ctx.require_keys = false;
    cJSON *j = invoke("{\"inputs\": [\"young customers\", \"over 60\", \"savers\"], "
                      "\"params\": {\"top_n\": 4}}", &status);
    assert_int_equal(status, 200);
    int sent = 0;
    for (int q = 0; q < 3; q++) sent += cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "predictions"), q));
    cJSON_Delete(j);
    struct audit_seen s = newest_audit(db, 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.action[0], "invocations");
    assert_string_equal(s.query[0], "[\"young customers\", \"over 60\", \"savers\"]");
    assert_int_equal(s.n_results[0], sent);
    int before = newest_audit(db, 100000).n;
    // one query: the row of a single search, its text as is
    cJSON_Delete(invoke("{\"inputs\": [\"savers\"], \"params\": {\"top_n\": 2}}", &status));
    assert_int_equal(status, 200);
    s = newest_audit(db, 1);
    assert_string_equal(s.query[0], "savers");
    assert_int_equal(s.n_results[0], 2);
    // a failing batch (the third query is empty) writes nothing
    j = invoke("{\"inputs\": [\"a\", \"b\", \"\"]}", &status);
    expect_error(j, status, 400);
    assert_int_equal(newest_audit(db, 100000).n, before + 1);
    // an audited answer that did not leave
    struct api_req req = {.ctx = &g_ctx};
    struct api_res res = {.audited = "invocations"};
    assert_int_equal(api_audit_failed(&req, &res, "the client went away", &e), PX_OK);
    s = newest_audit(db, 1);
    assert_string_equal(s.action[0], "failed");
    assert_string_equal(s.query[0], "invocations: the client went away");
    assert_int_equal(s.n_results[0], 0);
    g_ctx.access = NULL;
    app_access_close(a);
}

// Dispatches GET path; returns the body (free()), the status and content type in *status/*ctype.
static char *get_raw(const char *path, int *status, const char **ctype, const char **csp)
{
    struct api_req *req = calloc(1, sizeof *req);
    struct api_res res = {0};
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    req->ctx = &g_ctx;
    req->method = "GET";
    req->path = path;
    int i_route;
    assert_int_equal(routes_dispatch(req, &res, &i_route), PX_OK);
    *status = res.status;
    *ctype = res.content_type;
    *csp = res.csp;
    char *body = strdup(res.body.data ? res.body.data : "");
    buf_free(&res.body);
    free(req);
    return body;
}

// Every <script> of the page at path names a file (no inline script) that is served as JavaScript
// and never builds markup from strings: no innerHTML / outerHTML / insertAdjacentHTML /
// document.write. Each page loads the shared web/common.js before its own script(s) (the search
// page: app.js, then saved.js).
static void check_scripts(const char *path)
{
    int status = 0;
    const char *ctype = NULL, *csp = NULL;
    char *html = get_raw(path, &status, &ctype, &csp);
    assert_int_equal(status, 200);
    size_t n = 0;
    bool common = false;
    for (const char *p = strstr(html, "<script"); p != NULL; p = strstr(p + 1, "<script")) {
        const char *end = strchr(p, '>');
        const char *src = strstr(p, " src=\"");
        if (end == NULL || src == NULL || src > end) fail_msg("%s: a <script> without src", path);
        src += strlen(" src=\"");
        const char *q = strchr(src, '"');
        char script[128];
        if (q == NULL || q > end || (size_t)(q - src) >= sizeof script) fail_msg("%s: a bad <script src>", path);
        memcpy(script, src, (size_t)(q - src));
        script[q - src] = '\0';
        if (n == 0 && strcmp(script, "/static/common.js") == 0) common = true;
        char *body = get_raw(script, &status, &ctype, &csp);
        if (status != 200) fail_msg("%s loads %s: status %d", path, script, status);
        assert_string_equal(ctype, "text/javascript; charset=utf-8");
        if (strstr(body, "innerHTML") || strstr(body, "outerHTML") || strstr(body, "insertAdjacentHTML") ||
            strstr(body, "document.write")) {
            fail_msg("%s builds markup from strings", script);
        }
        free(body);
        n++;
    }
    if (!common || n < 2) fail_msg("%s loads %zu scripts, not /static/common.js then its own", path, n);
    free(html);
}

static void test_web(void **state)
{
    (void)state;
    static const struct {
        const char *path, *ctype, *marker;
    } pages[] = {
        {"/", "text/html; charset=utf-8", "/static/app.js"},
        {"/docs", "text/html; charset=utf-8", "/static/docs.js"},
        {"/static/app.js", "text/javascript; charset=utf-8", "/api/search"},
        {"/static/docs.js", "text/javascript; charset=utf-8", "/openapi.json"},
        {"/static/style.css", "text/css; charset=utf-8", ":root"},
    };
    int status = 0;
    const char *ctype = NULL, *csp = NULL;
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char *body = get_raw(pages[i].path, &status, &ctype, &csp);
        if (status != 200) fail_msg("%s: status %d", pages[i].path, status);
        assert_non_null(ctype);
        assert_string_equal(ctype, pages[i].ctype);
        assert_non_null(csp);
        assert_non_null(strstr(csp, "default-src 'none'"));
        assert_null(strstr(csp, "unsafe-inline"));
        if (strstr(body, pages[i].marker) == NULL) fail_msg("%s lacks %s", pages[i].path, pages[i].marker);
        free(body);
    }
    // the pages never build markup from data: every script each page loads is checked
    static const char *const html_pages[] = {"/", "/docs", "/models", "/graph"};
    for (size_t i = 0; i < sizeof html_pages / sizeof html_pages[0]; i++) check_scripts(html_pages[i]);
    // unknown files: 404 JSON errors, no CSP, nothing else served from /static
    static const char *const missing[] = {"/static/nope.js", "/static/..%2Fapi.h", "/static/app.js.map",
                                          "/index.html", "/static/", "/docs/"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        char *body = get_raw(missing[i], &status, &ctype, &csp);
        if (status != 404) fail_msg("%s: status %d", missing[i], status);
        assert_null(ctype);
        assert_null(csp);
        cJSON *j = cJSON_Parse(body);
        expect_error(j, status, 404);
        free(body);
    }
    { cJSON *e_ = call("POST", "/", NULL, "application/json", "{}", &status); expect_error(e_, status, 405); }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlflow_forms), cmocka_unit_test(test_mlflow_errors),
        cmocka_unit_test(test_search),       cmocka_unit_test(test_customers),
        cmocka_unit_test(test_meta),         cmocka_unit_test(test_keys_at_dispatch),
        cmocka_unit_test(test_mlflow_audit),
        cmocka_unit_test(test_web),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
