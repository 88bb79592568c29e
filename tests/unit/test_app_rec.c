// test_app_rec.c — the recommender façade (app_rec.h) over a small generated wholesale book:
// app_rec_train saves a version (and eval saves none) and reports through its JSON and CSV;
// app_rec_open of a saved model with its wholesale book fails cleanly at every allocation; a
// recommender saved before recommender.json was written with jsonx still loads and recommends
// what it did; one customer's JSON, CSV and list agree; every customer's recommendations go to
// a file atomically (and a refused call leaves the old file); app_rec_check_book counts the
// shared ids and refuses a model or a wholesale book that shares none with the customer book.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "app_book.h"
#include "app_rec.h"
#include "testutil.h"

static char g_dir[256], g_reg[300], g_ws[300];

static void sh(const char *fmt, const char *a)
{
    char args[2048], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, fmt, a, a, a, a, a, a);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("%s: %s", args, err);
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    snprintf(g_ws, sizeof g_ws, "%s/ws", g_dir);
    sh("generate --kind wholesale --customers 60 --products 12 --transactions 700 --seed 4 "
       "--out %s/ws",
       g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static void test_train(void **state)
{
    (void)state;
    struct app_rec_train_params p = app_rec_train_default_params();
    p.data = g_ws;
    p.registry = g_reg;
    p.name = "rec";
    p.epochs = 8;
    p.n_threads = 1;
    struct app_rec_trained t;
    struct px_err err = {0};
    if (app_rec_train(&p, NULL, NULL, &t, &err) != PX_OK) fail_msg("train: %s", err.msg);
    assert_int_equal(t.version, 1);
    assert_string_equal(t.model, "rec/1");
    assert_int_equal(t.customers, 60);
    assert_int_equal(t.products, 12);
    assert_int_equal(t.transactions, 700);
    assert_int_equal(t.train_pairs + t.validation_pairs + t.test_pairs, t.pairs);
    assert_true(t.gat.customers > 0 && t.gat.customers == t.popularity.customers);

    struct buf doc;
    buf_init(&doc, 1 << 20);
    assert_int_equal(app_rec_trained_json(&t, &doc, &err), PX_OK);
    cJSON *j = cJSON_ParseWithLength(doc.data, doc.len);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "rec/1");
    assert_int_equal(cJSON_GetObjectItem(j, "pairs")->valueint, (int)t.pairs);
    const cJSON *gat = cJSON_GetObjectItem(j, "gat");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(gat, "recall_at_10")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "lift_recall_at_10"), "se")));
    cJSON_Delete(j);
    buf_reset(&doc);
    assert_int_equal(app_rec_trained_csv(&t, &doc, &err), PX_OK);
    assert_non_null(strstr(doc.data, "model,recall_at_5,recall_at_10,ndcg_at_10,hit_rate_at_10,customers\ngat,"));
    assert_non_null(strstr(doc.data, "\nmatrix_factorisation,"));

    // eval: the same run, nothing saved, "model": null
    p.name = NULL;
    assert_int_equal(app_rec_train(&p, NULL, NULL, &t, &err), PX_OK);
    assert_int_equal(t.version, 0);
    assert_string_equal(t.model, "");
    buf_reset(&doc);
    assert_int_equal(app_rec_trained_json(&t, &doc, &err), PX_OK);
    assert_non_null(strstr(doc.data, "\"model\": null"));
    buf_free(&doc);
    char v2[400];
    snprintf(v2, sizeof v2, "%s/rec/2", g_reg);
    FILE *f = fopen(v2, "r");
    assert_null(f);

    // bad input is named
    p.name = "rec";
    p.files[0] = "/nonexistent/customers.csv";
    assert_int_equal(app_rec_train(&p, NULL, NULL, &t, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "go together"));
    p.files[0] = NULL;
    p.epochs = 0;
    assert_int_equal(app_rec_train(&p, NULL, NULL, &t, &err), PX_EINVAL);
}

struct open_ctx {
    struct app_rec_params p;
    struct app_rec *r;
};

static int fault_open(void *user, struct px_err *err)
{
    struct open_ctx *c = user;
    return app_rec_open(&c->p, &c->r, err);
}

static void fault_release(void *user)
{
    struct open_ctx *c = user;
    app_rec_close(c->r);
    c->r = NULL;
}

static void test_open_alloc_failures(void **state)
{
    (void)state;
    struct open_ctx c = {{g_reg, "rec/1", g_ws}, NULL};
    long points = tu_check_alloc_failures(fault_open, fault_release, &c);
    print_message("app_rec_open (model + wholesale book): %ld allocation points\n", points);
    assert_true(points > 50);
    struct open_ctx m = {{g_reg, "rec", NULL}, NULL};
    assert_true(tu_check_alloc_failures(fault_open, fault_release, &m) > 5);
}

// Recommendations and scores `recommend --json` printed for this model before recommender.json
// was written with jsonx (tests/data/recmodel-legacy, saved by that build).
static void test_legacy_model(void **state)
{
    (void)state;
    char src[512], dir[256], cmd[1024];
    tu_data_path(src, sizeof src, "recmodel-legacy");
    tu_mkdtemp(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "cp -R '%s/.' '%s/'", src, dir);
    assert_int_equal(system(cmd), 0);
    struct app_rec_params p = {dir, "legacy", NULL};
    struct app_rec *r = NULL;
    struct px_err err = {0};
    if (app_rec_open(&p, &r, &err) != PX_OK) fail_msg("legacy: %s", err.msg);
    assert_string_equal(app_rec_model_name(r), "legacy/1");
    struct app_rec_list l;
    assert_int_equal(app_rec_recommend(r, "CUS-000003", 3, &l, &err), PX_OK);
    static const struct {
        const char *id;
        double score;
    } want[3] = {{"PROD-0007", 2.399256}, {"PROD-0006", 1.841877}, {"PROD-0004", 1.657330}};
    assert_int_equal(l.n, 3);
    assert_int_equal(l.held, 2);
    for (size_t k = 0; k < 3; k++) {
        assert_string_equal(l.picks[k].product_id, want[k].id);
        assert_true(l.picks[k].score > want[k].score - 1e-5 && l.picks[k].score < want[k].score + 1e-5);
    }
    app_rec_list_free(&l);
    app_rec_close(r);
    tu_rmtree(dir);
}

static void test_one_customer_shapes(void **state)
{
    (void)state;
    struct app_rec_params p = {g_reg, "rec@1", NULL};
    struct app_rec *r = NULL;
    struct px_err err = {0};
    assert_int_equal(app_rec_open(&p, &r, &err), PX_OK);
    assert_int_equal(app_rec_n_customers(r), 60);
    struct app_rec_list l;
    assert_int_equal(app_rec_recommend(r, "CUS-000005", 4, &l, &err), PX_OK);
    assert_int_equal(l.n, 4);
    struct buf j, c;
    buf_init(&j, 1 << 20);
    buf_init(&c, 1 << 20);
    assert_int_equal(app_rec_recommend_json(r, "CUS-000005", 4, &j, &err), PX_OK);
    assert_int_equal(app_rec_recommend_csv(r, "CUS-000005", 4, true, &c, &err), PX_OK);
    cJSON *doc = cJSON_ParseWithLength(j.data, j.len);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "customer_id")->valuestring, "CUS-000005");
    assert_string_equal(cJSON_GetObjectItem(doc, "model")->valuestring, "rec/1");
    assert_int_equal(cJSON_GetObjectItem(doc, "held")->valueint, (int)l.held);
    const cJSON *recs = cJSON_GetObjectItem(doc, "recommendations");
    assert_int_equal(cJSON_GetArraySize(recs), 4);
    const char *line = strchr(c.data, '\n') + 1; // after the header
    for (int k = 0; k < 4; k++) {
        const cJSON *x = cJSON_GetArrayItem(recs, k);
        assert_int_equal(cJSON_GetObjectItem(x, "rank")->valueint, k + 1);
        assert_string_equal(cJSON_GetObjectItem(x, "product_id")->valuestring, l.picks[k].product_id);
        assert_string_equal(cJSON_GetObjectItem(x, "product")->valuestring, l.picks[k].product);
        char want[256];
        snprintf(want, sizeof want, "CUS-000005,%d,%s,\"%s\",", k + 1, l.picks[k].product_id,
                 l.picks[k].product);
        if (strncmp(line, want, strlen(want)) != 0) fail_msg("CSV row %d: %.80s", k, line);
        line = strchr(line, '\n') + 1;
    }
    cJSON_Delete(doc);
    buf_free(&j);
    buf_free(&c);
    app_rec_list_free(&l);
    assert_int_equal(app_rec_recommend(r, "NOPE", 4, &l, &err), PX_ENOENT);
    assert_non_null(strstr(err.msg, "customer 'NOPE' is not in the model rec/1"));
    assert_int_equal(app_rec_recommend(r, "CUS-000005", 0, &l, &err), PX_EINVAL);
    app_rec_close(r);
}

static int failing_sink(void *user, const char *data, size_t len, struct px_err *err)
{
    (void)data;
    size_t *calls = user;
    (void)len;
    return ++*calls == 1 ? px_fail(err, PX_EIO, "sink full") : PX_OK;
}

static void test_all_file(void **state)
{
    (void)state;
    struct app_rec_params p = {g_reg, "rec", NULL};
    struct app_rec *r = NULL;
    struct px_err err = {0};
    assert_int_equal(app_rec_open(&p, &r, &err), PX_OK);
    char path[400];
    snprintf(path, sizeof path, "%s/all.csv", g_dir);
    tu_write_text(g_dir, "all.csv", "old\n");
    assert_int_equal(app_rec_recommend_all_file(r, 0, APP_REC_CSV, path, NULL, &err), PX_EINVAL);
    size_t n = 0;
    assert_int_equal(app_rec_recommend_all_file(r, 3, APP_REC_CSV, path, &n, &err), PX_OK);
    assert_int_equal(n, 60);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    assert_int_equal(lines, 1 + 60 * 3);
    assert_int_equal(app_rec_recommend_all_file(r, 3, APP_REC_JSONL, path, &n, &err), PX_OK);
    f = fopen(path, "r");
    lines = 0;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strstr(line, "{\"customer_id\": \"CUS-"));
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 60);
    // a sink's error stops the run and is the answer
    size_t calls = 0;
    assert_int_equal(app_rec_recommend_all(r, 3, APP_REC_CSV, failing_sink, &calls, &n, &err),
                     PX_EIO);
    assert_string_equal(err.msg, "sink full");
    assert_int_equal(calls, 1);
    assert_int_equal(n, 0);
    app_rec_close(r);
}

// Imports a customers CSV with these ids into dir/name (a customer book).
static void write_book(const char *name, const char *const *ids, size_t n, struct app_book **b)
{
    char csv[40000] = "customer_id,industry\n", file[64], db[400];
    for (size_t i = 0; i < n; i++) {
        size_t at = strlen(csv);
        snprintf(csv + at, sizeof csv - at, "%s,%s\n", ids[i], i % 2 ? "Retail" : "Finance");
    }
    snprintf(file, sizeof file, "%s.csv", name);
    tu_write_text(g_dir, file, csv);
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "import --csv %s/%s --db %s/%s.db", g_dir, file, g_dir, name);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("import %s: %s", name, err);
    free(out);
    free(err);
    snprintf(db, sizeof db, "%s/%s.db", g_dir, name);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.lexical_only = true;
    struct px_err e = {0};
    if (app_book_open(&bp, b, &e) != PX_OK) fail_msg("book %s: %s", name, e.msg);
}

static void test_check_book(void **state)
{
    (void)state;
    char ids[80][16];
    const char *p_ids[80];
    struct app_book *same = NULL, *part = NULL, *other = NULL;
    for (int i = 0; i < 60; i++) {
        snprintf(ids[i], sizeof ids[i], "CUS-%06d", i + 1);
        p_ids[i] = ids[i];
    }
    write_book("same", p_ids, 60, &same);
    for (int i = 0; i < 40; i++) {
        snprintf(ids[i], sizeof ids[i], i < 25 ? "CUS-%06d" : "NEW-%06d", i + 1);
    }
    write_book("part", p_ids, 40, &part);
    for (int i = 0; i < 80; i++) {
        snprintf(ids[i], sizeof ids[i], "OTH-%06d", i + 1);
        p_ids[i] = ids[i];
    }
    write_book("other", p_ids, 80, &other);

    struct app_rec_params both = {g_reg, "rec", g_ws};
    struct app_rec *r = NULL;
    struct px_err err = {0};
    struct app_rec_overlap ov;
    assert_int_equal(app_rec_open(&both, &r, &err), PX_OK);
    assert_int_equal(app_rec_check_book(r, same, &ov, &err), PX_OK);
    assert_int_equal(ov.book, 60);
    assert_int_equal(ov.model, 60);
    assert_int_equal(ov.model_shared, 60);
    assert_int_equal(ov.graph, 60);
    assert_int_equal(ov.graph_shared, 60);
    assert_int_equal(app_rec_check_book(r, part, &ov, &err), PX_OK); // partial: counted
    assert_int_equal(ov.book, 40);
    assert_int_equal(ov.model_shared, 25);
    assert_int_equal(ov.graph_shared, 25);
    assert_int_equal(app_rec_check_book(r, other, &ov, &err), PX_EINVAL);
    assert_int_equal(ov.model_shared, 0);
    if (strstr(err.msg, "the recommender rec/1's 60 customers share no id with the customer "
                        "book's 80") == NULL)
        fail_msg("message: %s", err.msg);
    app_rec_close(r);
    struct app_rec_params graph = {g_reg, NULL, g_ws};
    assert_int_equal(app_rec_open(&graph, &r, &err), PX_OK);
    assert_int_equal(app_rec_check_book(r, other, &ov, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "the wholesale book's 60 customers share no id with the "
                                    "customer book's 80"));
    assert_int_equal(ov.model, 0);
    assert_int_equal(app_rec_check_book(r, same, &ov, &err), PX_OK);
    app_rec_close(r);
    assert_int_equal(app_rec_check_book(NULL, same, &ov, &err), PX_OK); // nothing served
    app_book_close(same);
    app_book_close(part);
    app_book_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train),          cmocka_unit_test(test_open_alloc_failures),
        cmocka_unit_test(test_legacy_model),   cmocka_unit_test(test_one_customer_shapes),
        cmocka_unit_test(test_all_file),       cmocka_unit_test(test_check_book),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
