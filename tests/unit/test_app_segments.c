// test_app_segments.c — the segments façade (app_segments.h) over a small imported book:
// app_segments_fit stores segments 1..k in an integer column (a dry run stores nothing) and
// answers with the same "segments" GET /api/segments then gives (app_segments_json over the
// book); the same seed gives the same answer; k chosen from a range reports each k's
// silhouette; a column of another type, k over the rows and an empty database are clear errors;
// a dry-run fit fails cleanly at every allocation.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "app_book.h"
#include "app_segments.h"
#include "testutil.h"

static char g_dir[256], g_db[300];

static int setup(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    snprintf(args, sizeof args,
             "generate --kind wholesale --customers 30 --products 8 --transactions 200 --seed 2 "
             "--out %s/ws >/dev/null && $PROSPECT_BIN import --csv %s/ws/customers.csv --db %s",
             g_dir, g_dir, g_db);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static cJSON *fit(const struct app_segments_params *p)
{
    struct buf b;
    buf_init(&b, 1 << 22);
    struct px_err err = {0};
    if (app_segments_fit(p, &b, &err) != PX_OK) fail_msg("fit: %s", err.msg);
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    if (j == NULL) fail_msg("not JSON: %.200s", b.data);
    buf_free(&b);
    return j;
}

static cJSON *book_summary(const char *column, int *rc)
{
    struct app_book_params bp = app_book_default_params();
    bp.db_path = g_db;
    bp.lexical_only = true;
    struct app_book *book = NULL;
    struct px_err err = {0};
    if (app_book_open(&bp, &book, &err) != PX_OK) fail_msg("book: %s", err.msg);
    struct buf b;
    buf_init(&b, 1 << 22);
    *rc = app_segments_json(book, column, &b, &err);
    cJSON *j = *rc == PX_OK ? cJSON_ParseWithLength(b.data, b.len) : NULL;
    buf_free(&b);
    app_book_close(book);
    return j;
}

static void test_fit_and_store(void **state)
{
    (void)state;
    struct app_segments_params p = app_segments_default_params();
    p.db = g_db;
    p.k = 3;
    p.seed = 7;
    p.dry_run = true;
    cJSON *dry = fit(&p);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(dry, "stored")));
    int rc = 0;
    assert_null(book_summary("segment", &rc));
    assert_int_equal(rc, PX_ENOENT); // nothing stored

    p.dry_run = false;
    cJSON *j = fit(&p);
    assert_int_equal(cJSON_GetObjectItem(j, "k")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(j, "on")->valuestring, "profile");
    assert_true(cJSON_GetObjectItem(j, "features")->valueint > 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "stored")));
    assert_string_equal(cJSON_GetObjectItem(j, "column")->valuestring, "segment");
    assert_int_equal(cJSON_GetObjectItem(j, "customers")->valueint, 30);
    assert_int_equal(cJSON_GetObjectItem(j, "unassigned")->valueint, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "silhouette_by_k")), 0);
    // the dry run and the stored run of one seed are the same segments
    assert_true(cJSON_Compare(cJSON_GetObjectItem(dry, "segments"), cJSON_GetObjectItem(j, "segments"),
                              true));
    // ... and what the API's summary of the stored column says
    cJSON *api = book_summary("segment", &rc);
    assert_int_equal(rc, PX_OK);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(api, "segments"), cJSON_GetObjectItem(j, "segments"),
                              true));
    int sum = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "segments")) sum += cJSON_GetObjectItem(s, "size")->valueint;
    assert_int_equal(sum, 30);
    cJSON_Delete(api);
    cJSON_Delete(dry);
    cJSON_Delete(j);

    // k from a range: one silhouette per k, the chosen k the best
    p.k_lo = 2;
    p.k_hi = 4;
    p.dry_run = true;
    j = fit(&p);
    const cJSON *by_k = cJSON_GetObjectItem(j, "silhouette_by_k");
    assert_int_equal(cJSON_GetArraySize(by_k), 3);
    double best = -2;
    int best_k = 0;
    cJSON_ArrayForEach(s, by_k)
    {
        double v = cJSON_GetObjectItem(s, "silhouette")->valuedouble;
        if (v > best) {
            best = v;
            best_k = cJSON_GetObjectItem(s, "k")->valueint;
        }
    }
    assert_int_equal(cJSON_GetObjectItem(j, "k")->valueint, best_k);
    cJSON_Delete(j);
}

static void test_errors(void **state)
{
    (void)state;
    struct app_segments_params p = app_segments_default_params();
    struct buf b;
    buf_init(&b, 1 << 20);
    struct px_err err = {0};
    p.db = g_db;
    p.k = 31;
    assert_int_equal(app_segments_fit(&p, &b, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "k 31 is more than the 30 rows"));
    p.k = 2;
    p.column = "industry";
    assert_int_equal(app_segments_fit(&p, &b, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "column 'industry' exists and holds category values"));
    p.column = "segment";
    p.k_lo = 3;
    p.k_hi = 2;
    assert_int_equal(app_segments_fit(&p, &b, &err), PX_EINVAL);
    p.k_lo = p.k_hi = 0;
    p.on = APP_SEGMENTS_GAT;
    p.registry = g_dir; // no recommender there
    assert_int_not_equal(app_segments_fit(&p, &b, &err), PX_OK);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

struct fault_ctx {
    struct app_segments_params p;
    struct buf out;
};

static int fault_fit(void *user, struct px_err *err)
{
    struct fault_ctx *c = user;
    buf_init(&c->out, 1 << 22);
    return app_segments_fit(&c->p, &c->out, err);
}

static void fault_release(void *user)
{
    struct fault_ctx *c = user;
    buf_free(&c->out);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct fault_ctx c = {.p = app_segments_default_params()};
    c.p.db = g_db;
    c.p.k = 2;
    c.p.restarts = 1;
    c.p.dry_run = true;
    long points = tu_check_alloc_failures(fault_fit, fault_release, &c);
    print_message("app_segments_fit (dry run, 30 customers): %ld allocation points\n", points);
    assert_true(points > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_and_store),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
