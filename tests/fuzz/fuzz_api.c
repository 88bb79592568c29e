// fuzz_api.c — every route of the HTTP API (src/http/routes.c) through routes_dispatch, without
// sockets, as tests/unit/test_api.c drives it: the query strings, {id} path parameters, content
// types and bodies of /api/search, customers, similar, schema, models (list, one, score,
// explain, lookalike, tipping), recommendations, graph, segments, /invocations, /metrics,
// /openapi.json and the web pages. Built once per process under $TMPDIR: a generated 200-row
// bank imported and opened (lexical path), a propensity model "m" trained on a 150-row table
// (also the --propensity-data set), and a small generated wholesale book with a recommender
// "r" trained on it for 3 epochs.
//
// Input: byte 0 picks the route (mod the table's length), byte 1 the Content-Type; then the
// {id} up to the first '\n', the query string ("k=v&k=v", already decoded as the server hands
// it over) up to the next '\n', and the rest is the body (sent only to routes that take one).
// Invariants: dispatch returns PX_OK with a status in 200..499 (a 5xx here is a bug: nothing is
// unavailable in this set-up) and a body; a JSON answer parses; /static/{id} never answers 200
// for an id with "..", '/' or a leading '.'.
// FUZZ_API_TRACE=1 prints each request and its answer's status (to see what a corpus reaches).
// Replayed over tests/fuzz/corpus/api/ by ctest; a libFuzzer target with -DPX_FUZZ=ON
// (use tests/fuzz/fuzz_api.dict).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "app_data.h"
#include "app_prop.h"
#include "app_rec.h"
#include "limits.h"
#include "routes.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct api_ctx g_ctx;
static struct app_book *g_book;
static struct app_rec *g_rec;
static char g_dir[512], g_reg[600], g_prop[600];

static void setup(void)
{
    char path[700], db[700], whs[700];
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/fuzz_api.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(g_dir) != NULL);
    struct px_err err = {0};
    // the customer book
    struct app_bank_params bank = app_bank_default_params();
    bank.rows = 200;
    bank.seed = 7;
    snprintf(path, sizeof path, "%s/bank.csv", g_dir);
    snprintf(db, sizeof db, "%s/bank.db", g_dir);
    CHECK(app_generate_bank(&bank, path, NULL, NULL, NULL, &err) == PX_OK);
    struct app_import_params ip = app_import_default_params();
    struct app_import_stats st;
    CHECK(app_import(db, path, &ip, &st, &err) == PX_OK);
    app_import_stats_free(&st);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.model_flag = "/nonexistent-model";
    CHECK(app_book_open(&bp, &g_book, &err) == PX_OK);
    CHECK(api_ctx_init(&g_ctx, g_book, &err) == PX_OK);
    // a propensity model
    snprintf(g_prop, sizeof g_prop, "%s/prop.csv", g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    FILE *f = fopen(g_prop, "w");
    CHECK(f != NULL);
    fprintf(f, "id,income,region,bought\n");
    for (int i = 0; i < 150; i++) {
        int income = 20 + (i * 37) % 100;
        fprintf(f, "C%03d,%d,%s,%s\n", i, income, i % 2 ? "north" : "south",
                income > 90 ? "yes" : "no");
    }
    CHECK(fclose(f) == 0);
    struct app_train_params tp = app_train_default_params();
    tp.csv = g_prop;
    tp.registry = g_reg;
    tp.name = "m";
    tp.target = "bought";
    tp.folds = 3;
    struct app_prop_trained *t = NULL;
    CHECK(app_train(&tp, NULL, NULL, &t, &err) == PX_OK);
    app_prop_trained_free(t);
    // a wholesale book and a recommender
    snprintf(whs, sizeof whs, "%s/wholesale", g_dir);
    struct app_wholesale_params wp = app_wholesale_default_params();
    wp.n_customers = 40;
    wp.n_products = 12;
    wp.n_transactions = 600;
    CHECK(app_generate_wholesale(&wp, whs, &err) == PX_OK);
    struct app_rec_train_params rp = app_rec_train_default_params();
    rp.data = whs;
    rp.registry = g_reg;
    rp.name = "r";
    rp.epochs = 3;
    rp.n_threads = 1;
    struct app_rec_trained rt;
    CHECK(app_rec_train(&rp, NULL, NULL, &rt, &err) == PX_OK);
    struct app_rec_params op = {.registry = g_reg, .ref = "r", .wholesale = whs};
    CHECK(app_rec_open(&op, &g_rec, &err) == PX_OK);
    g_ctx.registry = g_reg;
    g_ctx.prop_data = g_prop;
    g_ctx.model_flag = "/nonexistent-model";
    g_ctx.rec = g_rec;
}

// Copies up to the next '\n' (or the end) into out (NUL-terminated, truncated to n - 1).
static size_t take_line(const uint8_t *data, size_t size, size_t at, char *out, size_t n)
{
    size_t k = 0;
    while (at < size && data[at] != '\n') {
        if (k + 1 < n) {
            out[k++] = (char)data[at];
        }
        at++;
    }
    out[k] = '\0';
    return at < size ? at + 1 : size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ctypes[] = {NULL, "application/json", "text/csv",
                                         "application/json; charset=utf-8", "text/plain"};
    if (g_book == NULL) {
        setup();
    }
    if (size < 2 || size > LIMIT_HTTP_BODY) {
        return 0;
    }
    size_t n_routes = 0;
    const struct route *table = routes_table(&n_routes);
    const struct route *rt = &table[data[0] % n_routes];
    const char *ctype = ctypes[data[1] % (sizeof ctypes / sizeof ctypes[0])];
    char id[LIMIT_HTTP_PARAM_BYTES], query[2048], path[LIMIT_HTTP_PARAM_BYTES + 256];
    size_t at = take_line(data, size, 2, id, sizeof id);
    at = take_line(data, size, at, query, sizeof query);
    // the path: the pattern with {id} replaced
    const char *brace = strstr(rt->pattern, "{id}");
    if (brace != NULL) {
        snprintf(path, sizeof path, "%.*s%s%s", (int)(brace - rt->pattern), rt->pattern, id,
                 brace + 4);
    } else {
        snprintf(path, sizeof path, "%s", rt->pattern);
    }
    struct api_req *req = calloc(1, sizeof *req);
    CHECK(req != NULL);
    req->ctx = &g_ctx;
    req->method = rt->method;
    req->path = path;
    req->content_type = ctype;
    if (rt->max_body > 0 && at < size) {
        req->body = (const char *)data + at;
        req->body_len = size - at;
    }
    for (char *save = NULL, *t = strtok_r(query, "&", &save);
         t != NULL && req->n_args < LIMIT_HTTP_ARGS; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        if (eq != NULL) {
            *eq++ = '\0';
        }
        req->args[req->n_args++] = (struct api_arg){t, eq != NULL ? eq : ""};
    }
    struct api_res res = {0};
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    int i_route = -1;
    int rc = routes_dispatch(req, &res, &i_route);
    CHECK(rc == PX_OK);
    if (getenv("FUZZ_API_TRACE") != NULL) { // see what a corpus reaches
        fprintf(stderr, "%s %s [%s] -> %d %.120s\n", rt->method, path, query, res.status,
                res.body.data != NULL ? res.body.data : "");
    }
    CHECK(res.status >= 200 && res.status < 500);
    CHECK(res.body.len > 0);
    if (res.content_type == NULL) {
        cJSON *j = cJSON_ParseWithLength(res.body.data, res.body.len);
        CHECK(j != NULL);
        cJSON_Delete(j);
    }
    if (strncmp(rt->pattern, "/static/", 8) == 0 && res.status == 200) {
        CHECK(strstr(id, "..") == NULL && strchr(id, '/') == NULL && id[0] != '.');
    }
    buf_free(&res.body);
    free(req);
    return 0;
}
