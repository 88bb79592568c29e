// test_api_graph.c — the recommendation, graph and segment routes called directly, without
// sockets, over a small generated wholesale book (customers imported and segmented, a recommender
// trained): recommendations never include a held product and come best first; the graph stays
// within its limit, its edges point at its nodes and carry a transaction type, the labels read
// "Customer ID (type, industry)" / "Product ID (type, category)"; the segment and manager filters
// keep only matching customers; segment summaries add up to the book; bad arguments are 400,
// unknown customers 404, and without --recommender / --wholesale the routes say so (404);
// /health tells the page what is served; graph and recommendation calls are audited.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "routes.h"
#include "testutil.h"

static char g_dir[256];
static struct app_book *g_book;
static struct app_rec *g_rec;
static struct app_access *g_access;
static struct api_ctx g_ctx;

static int setup(void **state)
{
    (void)state;
    char args[2048], *out = NULL, *err = NULL;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(args, sizeof args,
             "generate --kind wholesale --customers 120 --products 30 --transactions 1500 --seed 5 "
             "--out %s/wh >/dev/null"
             " && $PROSPECT_BIN import --db %s/t.db --csv %s/wh/customers.csv >/dev/null"
             " && $PROSPECT_BIN segment --db %s/t.db --k 3 >/dev/null"
             " && $PROSPECT_BIN recommend train --data %s/wh --registry %s/reg --epochs 5 "
             "--threads 1 >/dev/null",
             g_dir, g_dir, g_dir, g_dir, g_dir, g_dir);
    int rc = tu_run_prospect(args, NULL, &out, &err);
    if (rc != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    char db[512], reg[512], wh[512];
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    snprintf(reg, sizeof reg, "%s/reg", g_dir);
    snprintf(wh, sizeof wh, "%s/wh", g_dir);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.model_flag = "/nonexistent-model";
    struct px_err e = {0};
    if (app_book_open(&bp, &g_book, &e) != PX_OK) fail_msg("open: %s", e.msg);
    if (api_ctx_init(&g_ctx, g_book, &e) != PX_OK) fail_msg("ctx: %s", e.msg);
    struct app_rec_params rp = {reg, "recommender", wh};
    if (app_rec_open(&rp, &g_rec, &e) != PX_OK) fail_msg("rec: %s", e.msg);
    if (app_access_open(db, &g_access, &e) != PX_OK) fail_msg("access: %s", e.msg);
    g_ctx.rec = g_rec;
    g_ctx.access = g_access;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    api_ctx_free(&g_ctx);
    app_rec_close(g_rec);
    app_access_close(g_access);
    app_book_close(g_book);
    tu_rmtree(g_dir);
    return 0;
}

// GET path?query; returns the parsed answer (cJSON_Delete) and the status.
static cJSON *get(const char *path, const char *query, int *status)
{
    static char qbuf[1024];
    struct api_req *req = calloc(1, sizeof *req);
    struct api_res res = {0};
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    req->ctx = &g_ctx;
    req->method = "GET";
    req->path = path;
    snprintf(qbuf, sizeof qbuf, "%s", query ? query : "");
    for (char *save = NULL, *t = strtok_r(qbuf, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        if (eq) *eq++ = '\0';
        req->args[req->n_args++] = (struct api_arg){t, eq ? eq : ""};
    }
    int i_route;
    assert_int_equal(routes_dispatch(req, &res, &i_route), PX_OK);
    *status = res.status;
    cJSON *j = res.body.data ? cJSON_Parse(res.body.data) : NULL;
    if (j == NULL) fail_msg("%s: not JSON: %.200s", path, res.body.data);
    buf_free(&res.body);
    free(req);
    return j;
}

static void expect_status(const char *path, const char *query, int want)
{
    int status = 0;
    cJSON *j = get(path, query, &status);
    if (status != want) fail_msg("%s?%s: status %d, want %d", path, query ? query : "", status, want);
    if (want >= 400) assert_non_null(cJSON_GetObjectItem(j, "error"));
    cJSON_Delete(j);
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// Checks the graph's shape; returns its number of customers.
static int check_graph(const cJSON *g, int limit)
{
    const cJSON *nodes = cJSON_GetObjectItem(g, "nodes"), *edges = cJSON_GetObjectItem(g, "edges");
    assert_true(cJSON_IsArray(nodes) && cJSON_IsArray(edges));
    int n = cJSON_GetArraySize(nodes), nc = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, nodes)
    {
        const char *kind = str(x, "kind"), *id = str(x, "id"), *label = str(x, "label");
        assert_non_null(kind);
        assert_non_null(id);
        assert_non_null(label);
        char want[128];
        bool cust = strcmp(kind, "customer") == 0;
        nc += cust;
        snprintf(want, sizeof want, "%s %s (", cust ? "Customer" : "Product", id);
        if (strncmp(label, want, strlen(want)) != 0) fail_msg("label '%s'", label);
    }
    assert_true(nc <= limit);
    cJSON_ArrayForEach(x, edges)
    {
        int s = cJSON_GetObjectItem(x, "source")->valueint, t = cJSON_GetObjectItem(x, "target")->valueint;
        assert_true(s >= 0 && s < n && t >= 0 && t < n);
        assert_string_equal(str(cJSON_GetArrayItem(nodes, s), "kind"), "customer");
        assert_string_equal(str(cJSON_GetArrayItem(nodes, t), "kind"), "product");
        assert_non_null(str(x, "type"));
        assert_true(str(x, "type")[0] != '\0');
        assert_true(cJSON_GetObjectItem(x, "count")->valueint >= 1);
    }
    return nc;
}

static void test_recommendations(void **state)
{
    (void)state;
    int status = 0;
    // the products CUS-000001 holds: its neighbourhood's edges from node 0
    cJSON *g = get("/api/graph", "customer=CUS-000001&limit=1", &status);
    assert_int_equal(status, 200);
    check_graph(g, 1);
    const cJSON *nodes = cJSON_GetObjectItem(g, "nodes"), *e;
    assert_string_equal(str(cJSON_GetArrayItem(nodes, 0), "id"), "CUS-000001");
    int n_held = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(g, "edges")) n_held++;
    assert_true(n_held > 0);

    cJSON *r = get("/api/customers/CUS-000001/recommendations", "top=5", &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(r, "customer_id"), "CUS-000001");
    assert_string_equal(str(r, "model"), "recommender/1");
    assert_int_equal(cJSON_GetObjectItem(r, "held")->valueint, n_held);
    const cJSON *recs = cJSON_GetObjectItem(r, "recommendations"), *x;
    assert_int_equal(cJSON_GetArraySize(recs), 5);
    double last = 1e300;
    int rank = 1;
    cJSON_ArrayForEach(x, recs)
    {
        assert_int_equal(cJSON_GetObjectItem(x, "rank")->valueint, rank++);
        double s = cJSON_GetObjectItem(x, "score")->valuedouble;
        assert_true(s <= last);
        last = s;
        const char *pid = str(x, "product_id");
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(g, "edges"))
        {
            const char *held = str(cJSON_GetArrayItem(nodes, cJSON_GetObjectItem(e, "target")->valueint), "id");
            if (strcmp(held, pid) == 0) fail_msg("recommended %s, which CUS-000001 holds", pid);
        }
    }
    cJSON_Delete(r);
    cJSON_Delete(g);
    expect_status("/api/customers/CUS-999999/recommendations", NULL, 404);
    expect_status("/api/customers/CUS-000001/recommendations", "top=0", 400);
    expect_status("/api/customers/CUS-000001/recommendations", "top=abc", 400);
}

static void test_graph(void **state)
{
    (void)state;
    int status = 0;
    cJSON *all = get("/api/graph", "limit=500", &status);
    assert_int_equal(status, 200);
    int n_all = check_graph(all, 500);
    assert_int_equal(n_all, 120); // the small book fits whole
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(all, "truncated")));
    const cJSON *facets = cJSON_GetObjectItem(all, "facets");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(facets, "segments")), 3);
    const cJSON *rms = cJSON_GetObjectItem(facets, "relationship_managers");
    assert_true(cJSON_GetArraySize(rms) > 1);
    char rm[64], q[128];
    snprintf(rm, sizeof rm, "%s", cJSON_GetArrayItem(rms, 0)->valuestring);
    cJSON_Delete(all);

    cJSON *top = get("/api/graph", "limit=7", &status);
    assert_int_equal(status, 200);
    assert_int_equal(check_graph(top, 7), 7);
    // largest volume first
    const cJSON *nodes = cJSON_GetObjectItem(top, "nodes");
    for (int i = 1; i < 7; i++) {
        assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(nodes, i - 1), "volume")->valuedouble >=
                    cJSON_GetObjectItem(cJSON_GetArrayItem(nodes, i), "volume")->valuedouble);
    }
    cJSON_Delete(top);

    // filters keep only matching customers, and fewer of them
    for (int s = 1; s <= 3; s++) {
        snprintf(q, sizeof q, "segment=%d&limit=500", s);
        cJSON *g = get("/api/graph", q, &status);
        assert_int_equal(status, 200);
        int n = check_graph(g, 500);
        assert_true(n > 0 && n < n_all);
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItem(g, "nodes"))
        {
            if (strcmp(str(x, "kind"), "customer") == 0) {
                assert_int_equal(cJSON_GetObjectItem(x, "segment")->valueint, s);
            }
        }
        cJSON_Delete(g);
    }
    snprintf(q, sizeof q, "rm=%s&limit=500", rm);
    cJSON *g = get("/api/graph", q, &status);
    assert_int_equal(status, 200);
    int n_rm = check_graph(g, 500);
    assert_true(n_rm > 0 && n_rm < n_all);
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(g, "nodes"))
    {
        if (strcmp(str(x, "kind"), "customer") == 0) assert_string_equal(str(x, "rm"), rm);
    }
    cJSON_Delete(g);

    // a neighbourhood: the customer first, then holders of its products
    g = get("/api/graph", "customer=CUS-000002&limit=4", &status);
    assert_int_equal(status, 200);
    assert_true(check_graph(g, 4) >= 1);
    assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(g, "nodes"), 0), "id"), "CUS-000002");
    cJSON_Delete(g);

    expect_status("/api/graph", "customer=NOPE", 404);
    expect_status("/api/graph", "limit=0", 400);
    expect_status("/api/graph", "limit=501", 400);
    expect_status("/api/graph", "segment=x", 400);
    expect_status("/api/graph", "customer=CUS-000002&segment=1", 400);
    // an unknown manager is an empty graph, not an error
    g = get("/api/graph", "rm=RM-NOBODY", &status);
    assert_int_equal(status, 200);
    assert_int_equal(check_graph(g, 40), 0);
    cJSON_Delete(g);
}

static int count_rows(const struct app_audit_row *row, void *user, struct px_err *err)
{
    (void)err;
    int *n = user;
    if (strcmp(row->action, "graph") == 0 && strstr(row->customer_ids, "CUS-000002") != NULL) n[0]++;
    if (strcmp(row->action, "recommend") == 0 && strstr(row->customer_ids, "CUS-000001") != NULL) n[1]++;
    return PX_OK;
}

static void test_audit_and_protection(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    int n[2] = {0, 0};
    struct px_err e = {0};
    assert_int_equal(app_audit_read(db, NULL, NULL, 1000, count_rows, n, &e), PX_OK);
    assert_true(n[0] >= 1); // test_graph's neighbourhood of CUS-000002
    assert_true(n[1] >= 1); // test_recommendations
    size_t nr = 0;
    const struct route *r = routes_table(&nr);
    int found = 0;
    for (size_t i = 0; i < nr; i++) {
        if (strncmp(r[i].pattern, "/api/graph", 10) == 0 || strcmp(r[i].pattern, "/api/segments") == 0 ||
            strstr(r[i].pattern, "/recommendations") != NULL) {
            assert_true(routes_is_protected(&r[i]));
            found++;
        }
    }
    assert_int_equal(found, 3);
}

static void test_segments(void **state)
{
    (void)state;
    int status = 0;
    cJSON *s = get("/api/segments", NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(s, "column"), "segment");
    assert_int_equal(cJSON_GetObjectItem(s, "customers")->valueint, 120);
    assert_int_equal(cJSON_GetObjectItem(s, "unassigned")->valueint, 0);
    const cJSON *segs = cJSON_GetObjectItem(s, "segments"), *x;
    assert_int_equal(cJSON_GetArraySize(segs), 3);
    int sum = 0, k = 1, last = 1 << 30;
    cJSON_ArrayForEach(x, segs)
    {
        assert_int_equal(cJSON_GetObjectItem(x, "segment")->valueint, k++);
        int size = cJSON_GetObjectItem(x, "size")->valueint;
        assert_true(size <= last); // prospect segment numbers the largest first
        last = size;
        sum += size;
        const cJSON *traits = cJSON_GetObjectItem(x, "traits"), *t;
        assert_true(cJSON_GetArraySize(traits) >= 1 && cJSON_GetArraySize(traits) <= LIMIT_SEGMENT_TRAITS);
        cJSON_ArrayForEach(t, traits)
        {
            assert_non_null(str(t, "text"));
            assert_string_not_equal(str(t, "column"), "segment");
            assert_string_not_equal(str(t, "column"), "customer_id");
        }
    }
    assert_int_equal(sum, 120);
    cJSON_Delete(s);
    expect_status("/api/segments", "column=industry", 404); // not an integer column
    expect_status("/api/segments", "column=nope", 404);
}

static void test_health_and_without(void **state)
{
    (void)state;
    int status = 0;
    cJSON *h = get("/health", NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(str(h, "recommender"), "recommender/1");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(h, "graph")));
    cJSON_Delete(h);
    g_ctx.rec = NULL;
    h = get("/health", NULL, &status);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(h, "recommender")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(h, "graph")));
    cJSON_Delete(h);
    expect_status("/api/graph", NULL, 404);
    expect_status("/api/customers/CUS-000001/recommendations", NULL, 404);
    expect_status("/api/segments", NULL, 200); // from the book alone
    g_ctx.rec = g_rec;
}

static void test_open_errors(void **state)
{
    (void)state;
    struct app_rec *r = NULL;
    struct px_err e = {0};
    char reg[512];
    snprintf(reg, sizeof reg, "%s/reg", g_dir);
    struct app_rec_params none = {reg, NULL, NULL};
    assert_int_equal(app_rec_open(&none, &r, &e), PX_EINVAL);
    struct app_rec_params bad_model = {reg, "nosuch", NULL};
    assert_int_not_equal(app_rec_open(&bad_model, &r, &e), PX_OK);
    assert_null(r);
    struct app_rec_params bad_dir = {reg, NULL, "/nonexistent-wholesale"};
    assert_int_not_equal(app_rec_open(&bad_dir, &r, &e), PX_OK);
    assert_non_null(strstr(e.msg, "/nonexistent-wholesale"));
    // model only: recommendations without a graph
    struct app_rec_params model_only = {reg, "recommender@1", NULL};
    assert_int_equal(app_rec_open(&model_only, &r, &e), PX_OK);
    assert_string_equal(app_rec_model_name(r), "recommender/1");
    assert_false(app_rec_has_graph(r));
    app_rec_close(r);
}

// The page /graph and its script: served with the CSP, never building markup from data.
static void test_page(void **state)
{
    (void)state;
    static const struct {
        const char *path, *ctype, *marker;
    } pages[] = {
        {"/graph", "text/html; charset=utf-8", "/static/graph.js"},
        {"/static/graph.js", "text/javascript; charset=utf-8", "/api/graph"},
        {"/static/app.js", "text/javascript; charset=utf-8", "/recommendations"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        struct api_req *req = calloc(1, sizeof *req);
        struct api_res res = {0};
        buf_init(&res.body, LIMIT_HTTP_RESPONSE);
        req->ctx = &g_ctx;
        req->method = "GET";
        req->path = pages[i].path;
        int i_route;
        assert_int_equal(routes_dispatch(req, &res, &i_route), PX_OK);
        if (res.status != 200) fail_msg("%s: status %d", pages[i].path, res.status);
        assert_string_equal(res.content_type, pages[i].ctype);
        assert_non_null(res.csp);
        assert_null(strstr(res.csp, "unsafe-inline"));
        const char *body = res.body.data;
        if (strstr(body, pages[i].marker) == NULL) fail_msg("%s lacks %s", pages[i].path, pages[i].marker);
        if (strstr(body, "innerHTML") || strstr(body, "outerHTML") || strstr(body, "insertAdjacentHTML") ||
            strstr(body, "document.write") || strstr(body, "http://") != NULL) {
            if (strstr(body, "http://www.w3.org/2000/svg") == NULL || strstr(body, "innerHTML"))
                fail_msg("%s builds markup from strings or loads from elsewhere", pages[i].path);
        }
        buf_free(&res.body);
        free(req);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recommendations), cmocka_unit_test(test_graph),
        cmocka_unit_test(test_audit_and_protection), cmocka_unit_test(test_segments),
        cmocka_unit_test(test_health_and_without), cmocka_unit_test(test_open_errors), cmocka_unit_test(test_page),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
