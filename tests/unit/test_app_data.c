// test_app_data.c — app/data.c (app_data.h): the demo bank to a file and to a stream (the same
// bytes, progress reported, the header alone for 0 rows), the wholesale book's three files, the
// import's counts, row errors, schema and JSON summary, and allocation failures in the import
// (store, SQLite and the copies into the answer).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "app_data.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    char *text = NULL;
    assert_int_equal(fsx_read_file(path, 64u << 20, &text, len, NULL), PX_OK);
    return text;
}

struct seen {
    size_t calls, last_done, last_total;
};

static void on_progress(size_t done, size_t total, void *user)
{
    struct seen *s = user;
    s->calls++;
    s->last_done = done;
    s->last_total = total;
}

static void test_generate_bank(void **state)
{
    (void)state;
    char path[512], spath[512];
    struct px_err err = {0};
    struct app_bank_params p = app_bank_default_params();
    assert_int_equal(p.rows, 1000);
    p.rows = 3000;
    p.seed = 11;
    struct seen s = {0};
    snprintf(path, sizeof path, "%s/bank.csv", g_dir);
    assert_int_equal(app_generate_bank(&p, path, NULL, on_progress, &s, &err), PX_OK);
    assert_true(s.calls >= 2); // 3000 rows are more than one 64 KiB chunk
    assert_int_equal(s.last_done, 3000);
    assert_int_equal(s.last_total, 3000);
    // the same bytes to a stream
    snprintf(spath, sizeof spath, "%s/stream.csv", g_dir);
    FILE *f = fopen(spath, "wb");
    assert_non_null(f);
    assert_int_equal(app_generate_bank(&p, NULL, f, NULL, NULL, &err), PX_OK);
    fclose(f);
    size_t la = 0, lb = 0;
    char *a = slurp(path, &la), *b = slurp(spath, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    size_t lines = 0;
    for (size_t i = 0; i < la; i++) {
        lines += a[i] == '\n';
    }
    assert_int_equal(lines, 3001);
    assert_int_equal(strncmp(a, "customer_id,", 12), 0);
    px_free(a);
    px_free(b);
    // 0 rows: the header line alone
    p.rows = 0;
    assert_int_equal(app_generate_bank(&p, path, NULL, NULL, NULL, &err), PX_OK);
    a = slurp(path, &la);
    assert_true(la > 0 && strchr(a, '\n') == a + la - 1);
    px_free(a);
    // refused: too many rows, an output that cannot be made (and nothing left behind)
    p.rows = LIMIT_GENERATE_ROWS + 1;
    assert_int_equal(app_generate_bank(&p, path, NULL, NULL, NULL, &err), PX_ELIMIT);
    p.rows = 5;
    snprintf(path, sizeof path, "%s/missing/bank.csv", g_dir);
    assert_int_equal(app_generate_bank(&p, path, NULL, NULL, NULL, &err), PX_ENOENT);
    assert_non_null(strstr(err.msg, "missing/bank.csv"));
}

static void test_generate_wholesale(void **state)
{
    (void)state;
    char dir[512], path[600];
    struct px_err err = {0};
    struct app_wholesale_params p = app_wholesale_default_params();
    p.n_customers = 40;
    p.n_products = 12;
    p.n_transactions = 500;
    snprintf(dir, sizeof dir, "%s/ws", g_dir);
    assert_int_equal(app_generate_wholesale(&p, dir, &err), PX_OK);
    static const struct {
        const char *file;
        size_t lines; // header included
    } want[] = {{"customers.csv", 41}, {"products.csv", 13}, {"transactions.csv", 501}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, want[i].file);
        size_t len = 0, lines = 0;
        char *t = slurp(path, &len);
        for (size_t k = 0; k < len; k++) {
            lines += t[k] == '\n';
        }
        px_free(t);
        if (lines != want[i].lines) {
            fail_msg("%s: %zu lines, expected %zu", want[i].file, lines, want[i].lines);
        }
    }
    // again into the existing directory: fine; parameters out of range: refused
    assert_int_equal(app_generate_wholesale(&p, dir, &err), PX_OK);
    p.n_transactions = 10;
    assert_int_equal(app_generate_wholesale(&p, dir, &err), PX_ELIMIT);
}

static const char k_csv[] = "ID,Age,Income,Tags\n"
                            "1,30,\"$1,000\",a; b\n"
                            "2,x,$2,b\n"
                            "3,50,$3,a\n"
                            "4,60,$4,c\n"
                            "5,80,$5,a\n"
                            "6,90,$6,b\n"
                            "7,70\n";

static void test_import(void **state)
{
    (void)state;
    char db[512];
    tu_write_text(g_dir, "c.csv", k_csv);
    char csv[512];
    snprintf(csv, sizeof csv, "%s/c.csv", g_dir);
    snprintf(db, sizeof db, "%s/p.db", g_dir);
    struct px_err err = {0};
    struct app_import_stats st;
    // fail mode: nothing imported, the bad rows named
    assert_int_equal(app_import(db, csv, NULL, &st, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "2 bad rows, nothing imported"));
    assert_false(st.committed);
    assert_int_equal(st.n_errors, 2);
    assert_int_equal(st.n_errors_kept, 2);
    assert_non_null(strstr(st.errors[0], "line 3, column 'Age'"));
    assert_non_null(strstr(st.errors[1], "line 8: 2 fields, expected 4"));
    assert_int_equal(st.n_store_columns, 0);
    app_import_stats_free(&st);
    // skip mode: the rest is committed; the schema comes back
    struct app_import_params p = app_import_default_params();
    p.on_error = APP_IMPORT_SKIP;
    struct seen s = {0};
    p.progress = on_progress;
    p.user = &s;
    assert_int_equal(app_import(db, csv, &p, &st, &err), PX_OK);
    assert_true(st.committed);
    assert_int_equal(st.rows_read, 7);
    assert_int_equal(st.rows_inserted, 5);
    assert_int_equal(st.rows_skipped, 2);
    assert_int_equal(st.n_columns, 4);
    assert_int_equal(st.n_columns_added, 4);
    assert_int_equal(st.bytes, sizeof k_csv - 1);
    assert_int_equal(s.last_done, 7);
    assert_int_equal(s.last_total, 7);
    assert_int_equal(st.n_store_columns, 4);
    assert_string_equal(st.columns[0].name, "ID");
    assert_true(st.columns[0].is_id);
    assert_string_equal(st.columns[2].type, "currency");
    assert_string_equal(st.columns[3].type, "list");

    struct buf doc;
    buf_init(&doc, 1u << 20);
    assert_int_equal(app_import_json(&st, csv, db, &doc, &err), PX_OK);
    cJSON *j = NULL;
    assert_int_equal(jsonx_parse(doc.data, doc.len, "summary", &j, &err), PX_OK);
    assert_int_equal(cJSON_GetObjectItem(j, "rows_inserted")->valueint, 5);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "errors")), 2);
    cJSON *cols = cJSON_GetObjectItem(j, "columns");
    assert_int_equal(cJSON_GetArraySize(cols), 4);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cols, 1), "label")->valuestring,
                        "Age");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(cols, 0), "is_id")));
    cJSON_Delete(j);
    buf_free(&doc);
    app_import_stats_free(&st);

    // a missing file
    snprintf(csv, sizeof csv, "%s/none.csv", g_dir);
    assert_int_equal(app_import(db, csv, &p, &st, &err), PX_ENOENT);
    app_import_stats_free(&st);
}

struct alloc_ctx {
    char csv[512];
    struct app_import_stats st;
};

static int import_alloc(void *user, struct px_err *err)
{
    struct alloc_ctx *c = user;
    struct app_import_params p = app_import_default_params();
    p.on_error = APP_IMPORT_SKIP;
    return app_import(":memory:", c->csv, &p, &c->st, err);
}

static void import_release(void *user)
{
    struct alloc_ctx *c = user;
    app_import_stats_free(&c->st);
}

static void test_import_alloc_failures(void **state)
{
    (void)state;
    struct alloc_ctx c;
    memset(&c, 0, sizeof c);
    tu_write_text(g_dir, "f.csv", k_csv);
    snprintf(c.csv, sizeof c.csv, "%s/f.csv", g_dir);
    long n = tu_check_alloc_failures(import_alloc, import_release, &c);
    print_message("app_import: %ld allocation points\n", n);
    assert_true(n > 1000); // the store's, SQLite's and the answer's
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_bank),
        cmocka_unit_test(test_generate_wholesale),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_import_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
