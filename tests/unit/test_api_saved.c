// test_api_saved.c — issue 15's routes called through routes_dispatch, without sockets: save a
// search with chips, columns, sort and feedback (201), list it with its match count, change
// it, run it, read its alerts, export every match of a query as CSV (more than the 100 rows the
// page shows), its report in HTML (values escaped), delete it; another key sees none of it
// (404, as for a missing id), a request without a key is refused; bad bodies are 400 naming the
// member; OpenAPI lists the routes with their methods.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "routes.h"
#include "testutil.h"

static char g_dir[256], g_db[512];
static struct app_book *g_book;
static struct api_ctx g_ctx;
static struct app_access *g_access;
static char g_tok1[APP_KEY_TOKEN_MAX + 8], g_tok2[APP_KEY_TOKEN_MAX + 8];
static const char *g_auth;

static int setup(void **state)
{
    (void)state;
    char args[2048], *out = NULL, *err = NULL;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    snprintf(args, sizeof args,
             "generate --rows 600 --seed 5 --out %s/b.csv && $PROSPECT_BIN import --db %s --csv "
             "%s/b.csv",
             g_dir, g_db, g_dir);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    struct px_err e = {0};
    char t1[APP_KEY_TOKEN_MAX], t2[APP_KEY_TOKEN_MAX];
    if (app_keys_create(g_db, "one", NULL, t1, &e) != PX_OK) fail_msg("key: %s", e.msg);
    if (app_keys_create(g_db, "two", NULL, t2, &e) != PX_OK) fail_msg("key: %s", e.msg);
    snprintf(g_tok1, sizeof g_tok1, "Bearer %s", t1);
    snprintf(g_tok2, sizeof g_tok2, "Bearer %s", t2);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = g_db;
    bp.lexical_only = true;
    if (app_book_open(&bp, &g_book, &e) != PX_OK) fail_msg("open: %s", e.msg);
    if (api_ctx_init(&g_ctx, g_book, &e) != PX_OK) fail_msg("ctx: %s", e.msg);
    if (app_access_open(g_db, &g_access, &e) != PX_OK) fail_msg("access: %s", e.msg);
    g_ctx.access = g_access;
    g_ctx.require_keys = true;
    g_ctx.db_path = g_db;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    api_ctx_free(&g_ctx);
    app_access_close(g_access);
    app_book_close(g_book);
    tu_rmtree(g_dir);
    return 0;
}

// Dispatches the request; returns the body (free()) and the status in *status.
static char *call(const char *method, const char *path, const char *query, const char *body,
                  int *status, const char **ctype)
{
    static char qbuf[1024];
    struct api_req *req = calloc(1, sizeof *req);
    struct api_res res = {0};
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    req->ctx = &g_ctx;
    req->method = method;
    req->path = path;
    req->content_type = body ? "application/json" : NULL;
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
    if (ctype) *ctype = res.content_type;
    char *text = strdup(res.body.data ? res.body.data : "");
    buf_free(&res.body);
    free(req);
    return text;
}

static cJSON *call_json(const char *method, const char *path, const char *query,
                        const char *body, int want)
{
    int st = 0;
    char *t = call(method, path, query, body, &st, NULL);
    if (st != want) fail_msg("%s %s: status %d, want %d: %s", method, path, st, want, t);
    cJSON *j = cJSON_Parse(t);
    if (j == NULL) fail_msg("%s %s: not JSON: %.200s", method, path, t);
    free(t);
    return j;
}

static void test_saved_routes(void **state)
{
    (void)state;
    g_auth = g_tok1;
    cJSON *j = call_json("POST", "/api/saved", NULL,
                         "{\"name\": \"retirees\", \"query\": \"retired customers over 65\", "
                         "\"chips\": {\"applied\": [\"over 65\"], \"removed\": []}, "
                         "\"columns\": [\"age\", \"city\"], \"sort\": \"age:desc\", "
                         "\"feedback\": {\"up\": [\"CUST-000001\"], \"down\": []}}",
                         201);
    const cJSON *s = cJSON_GetObjectItem(j, "saved");
    int id = cJSON_GetObjectItem(s, "id")->valueint;
    int matches = cJSON_GetObjectItem(s, "matches")->valueint;
    assert_true(matches > 0);
    assert_string_equal(cJSON_GetObjectItem(s, "sort")->valuestring, "age:desc");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "columns")), 2);
    cJSON_Delete(j);
    char path[64];
    snprintf(path, sizeof path, "/api/saved/%d", id);
    // bad bodies: 400 naming the member
    int st = 0;
    char *t = call("POST", "/api/saved", NULL, "{\"name\": \"x\", \"query\": \"q\", \"columns\": [\"nope\"]}",
                   &st, NULL);
    assert_int_equal(st, 400);
    assert_non_null(strstr(t, "nope"));
    free(t);
    t = call("POST", "/api/saved", NULL, "{\"name\": \"x\", \"query\": \"q\", \"webhook\": \"ftp://h/\"}", &st,
             NULL);
    assert_int_equal(st, 400);
    free(t);
    t = call("POST", "/api/saved", NULL, "{\"name\": 5}", &st, NULL);
    assert_int_equal(st, 400);
    free(t);
    // listed, changed, run
    j = call_json("GET", "/api/saved", NULL, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "saved")), 1);
    cJSON_Delete(j);
    j = call_json("POST", path, NULL, "{\"columns\": [\"age\"], \"sort\": \"\"}", 200);
    s = cJSON_GetObjectItem(j, "saved");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "columns")), 1);
    assert_string_equal(cJSON_GetObjectItem(s, "sort")->valuestring, "");
    assert_string_equal(cJSON_GetObjectItem(s, "query")->valuestring, "retired customers over 65");
    cJSON_Delete(j);
    char run[80];
    snprintf(run, sizeof run, "%s/run", path);
    j = call_json("GET", run, "top=5", NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 5);
    assert_non_null(cJSON_GetObjectItem(j, "saved"));
    cJSON_Delete(j);
    j = call_json("GET", "/api/alerts", NULL, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "alerts")), 0);
    cJSON_Delete(j);
    // another key: 404, as for an id that does not exist; no key: 401
    g_auth = g_tok2;
    j = call_json("GET", path, NULL, NULL, 404);
    cJSON_Delete(j);
    j = call_json("DELETE", path, NULL, NULL, 404);
    cJSON_Delete(j);
    j = call_json("GET", "/api/saved", NULL, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "saved")), 0);
    cJSON_Delete(j);
    g_auth = NULL;
    t = call("GET", "/api/saved", NULL, NULL, &st, NULL);
    assert_int_equal(st, 401);
    free(t);
    // the export: every match, not the page's 100
    g_auth = g_tok1;
    const char *ct = NULL;
    t = call("GET", "/api/export", "q=customers under 70", NULL, &st, &ct);
    assert_int_equal(st, 200);
    assert_string_equal(ct, "text/csv; charset=utf-8");
    size_t lines = 0;
    for (const char *p = t; (p = strchr(p, '\n')) != NULL; p++) lines++;
    const char *m = strstr(t, "# matches: ");
    assert_non_null(m);
    size_t n = strtoul(m + 11, NULL, 10);
    assert_true(n > 100);
    const char *hdr = strstr(t, "\nrank,customer_id,");
    assert_non_null(hdr);
    size_t head = 0;
    for (const char *p = t; p <= hdr; p = strchr(p, '\n') + 1) head++;
    assert_int_equal(lines, head + 1 + n); // "# " lines, the column line, then n rows
    free(t);
    char rep[80];
    snprintf(rep, sizeof rep, "%s/report", path);
    t = call("GET", rep, "format=html", NULL, &st, &ct);
    assert_string_equal(ct, "text/html; charset=utf-8");
    assert_non_null(strstr(t, "<th>query</th><td>retired customers over 65</td>"));
    assert_null(strstr(t, "<script"));
    free(t);
    j = call_json("DELETE", path, NULL, NULL, 200);
    cJSON_Delete(j);
    j = call_json("GET", path, NULL, NULL, 404);
    cJSON_Delete(j);
    // OpenAPI: each method once
    j = call_json("GET", "/openapi.json", NULL, NULL, 200);
    const cJSON *one = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "paths"), "/api/saved/{id}");
    assert_non_null(cJSON_GetObjectItem(one, "get"));
    assert_non_null(cJSON_GetObjectItem(one, "post"));
    assert_non_null(cJSON_GetObjectItem(one, "delete"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "paths"), "/api/export"));
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_saved_routes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
