// test_csvimport.c — src/store/csvimport.c: types and labels of an imported file; BOM, CRLF,
// quotes and embedded newlines (with the line numbers after them); every malformed case with
// its line number, leaving the store byte-for-byte unchanged in fail mode (checksum of schema and
// all rows); skip-mode counts; upsert and schema extension; the Thera Bank file; and allocation
// failures during an import.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "csvimport.h"
#include "limits.h"
#include "mem.h"
#include "store.h"

// FNV-1a over the schema and every row, in customer order.
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 1099511628211ull;
    }
    return h;
}

static uint64_t store_checksum(struct store *s)
{
    struct px_err err = {0};
    struct store_schema sc;
    struct store_iter *it = NULL;
    uint64_t h = 1469598103934665603ull;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    for (size_t i = 0; i < sc.n_cols; i++) {
        h = fnv(h, sc.cols[i].name, strlen(sc.cols[i].name) + 1);
        h = fnv(h, &sc.cols[i].type, sizeof sc.cols[i].type);
    }
    assert_int_equal(store_iter_new(s, &sc, &it, &err), PX_OK);
    for (;;) {
        bool has = false;
        const char *id = NULL;
        const struct coltype_value *v = NULL;
        assert_int_equal(store_iter_next(it, &has, &id, &v, &err), PX_OK);
        if (!has) {
            break;
        }
        h = fnv(h, id, strlen(id) + 1);
        for (size_t i = 0; i < sc.n_cols; i++) {
            h = fnv(h, &v[i].missing, sizeof v[i].missing);
            h = fnv(h, &v[i].i, sizeof v[i].i);
            h = fnv(h, &v[i].d, sizeof v[i].d);
            if (v[i].s) {
                h = fnv(h, v[i].s, v[i].len);
            }
        }
    }
    store_iter_free(it);
    store_schema_free(&sc);
    return h;
}

static struct store *open_mem(void)
{
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
    return s;
}

static int import_text(struct store *s, const char *text, enum csvimport_on_error mode,
                       struct csvimport_result *r, struct px_err *err)
{
    struct csvimport_params p = csvimport_default_params();
    p.on_error = mode;
    return csvimport_memory(s, text, strlen(text), "t.csv", &p, r, err);
}

// Text value of column name for customer id (via the iterator); "" when missing.
static void get_value(struct store *s, const char *id, const char *col, char *out, size_t n)
{
    struct px_err err = {0};
    struct store_schema sc;
    struct store_iter *it = NULL;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    int k = store_schema_find(&sc, col);
    assert_true(k >= 0);
    assert_int_equal(store_iter_new(s, &sc, &it, &err), PX_OK);
    out[0] = '\0';
    bool found = false;
    for (;;) {
        bool has = false;
        const char *rid = NULL;
        const struct coltype_value *v = NULL;
        assert_int_equal(store_iter_next(it, &has, &rid, &v, &err), PX_OK);
        if (!has) {
            break;
        }
        if (strcmp(rid, id) != 0) {
            continue;
        }
        found = true;
        const char *sqlt = coltype_sql_type(sc.cols[k].type);
        if (v[k].missing) {
            snprintf(out, n, "NULL");
        } else if (sqlt[0] == 'I') {
            snprintf(out, n, "%lld", (long long)v[k].i);
        } else if (sqlt[0] == 'R') {
            snprintf(out, n, "%g", v[k].d);
        } else {
            snprintf(out, n, "%.*s", (int)v[k].len, v[k].s);
        }
    }
    assert_true(found);
    store_iter_free(it);
    store_schema_free(&sc);
}

// ---- good files ----

static const char *const k_typed =
    "customer_id,annual_income,Balance,Rate,Joined,Active,Tier,Products,Notes,CCAvg\n"
    "c1,52000,\"$1,234.50\",85%,2024-01-02,Yes,Gold,\"Savings; Card\",first,1.5\n"
    "c2,61000,-$5,12.5 %,2023-12-31,No,Silver,Card,second,2.0\n"
    "c3,,(300),40%,,yes,Gold,\"Loan; Card; Savings\",third,0.25\n"
    "c4,70000,$0.99,0%,2020-02-29,no,Bronze,Savings,fourth,3\n";

static void test_types_and_labels(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct csvimport_result r;
    struct px_err err = {0};
    assert_int_equal(import_text(s, k_typed, CSVIMPORT_FAIL, &r, &err), PX_OK);
    assert_int_equal(r.rows_read, 4);
    assert_int_equal(r.rows_inserted, 4);
    assert_int_equal(r.n_errors, 0);
    assert_true(r.committed);
    csvimport_result_free(&r);
    struct store_schema sc;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    static const struct {
        const char *name, *label;
        enum coltype t;
    } want[] = {
        {"customer_id", "Customer id", COLTYPE_CATEGORY},
        {"annual_income", "Annual income", COLTYPE_INTEGER},
        {"Balance", "Balance", COLTYPE_CURRENCY},
        {"Rate", "Rate", COLTYPE_PERCENT},
        {"Joined", "Joined", COLTYPE_DATE},
        {"Active", "Active", COLTYPE_BOOL},
        {"Tier", "Tier", COLTYPE_CATEGORY},
        {"Products", "Products", COLTYPE_LIST},
        {"Notes", "Notes", COLTYPE_CATEGORY},
        {"CCAvg", "CC avg", COLTYPE_REAL},
    };
    assert_int_equal(sc.n_cols, 10);
    assert_int_equal(sc.i_id, 0);
    for (size_t i = 0; i < sc.n_cols; i++) {
        assert_string_equal(sc.cols[i].name, want[i].name);
        assert_string_equal(sc.cols[i].label, want[i].label);
        if (sc.cols[i].type != want[i].t) {
            fail_msg("column %s: %s, want %s", want[i].name, coltype_name(sc.cols[i].type),
                     coltype_name(want[i].t));
        }
        assert_int_equal(sc.cols[i].is_id, i == 0);
    }
    store_schema_free(&sc);
    char v[64];
    get_value(s, "c1", "Balance", v, sizeof v);
    assert_string_equal(v, "1234.5");
    get_value(s, "c3", "Balance", v, sizeof v);
    assert_string_equal(v, "-300");
    get_value(s, "c2", "Rate", v, sizeof v);
    assert_string_equal(v, "12.5");
    get_value(s, "c3", "annual_income", v, sizeof v);
    assert_string_equal(v, "NULL");
    get_value(s, "c4", "Active", v, sizeof v);
    assert_string_equal(v, "0");
    get_value(s, "c3", "Products", v, sizeof v);
    assert_string_equal(v, "Loan; Card; Savings");
    store_close(s);
}

static void test_bom_crlf_quotes_newlines(void **state)
{
    (void)state;
    // line 1 header (after a BOM), record 2 spans lines 2-3, line 4 blank, record 5 has "" quote
    // escapes and a comma, record 6 (line 6) has a bad number: its line must be 6.
    const char *text = "\xef\xbb\xbfID,Name,Score\r\n"
                       "1,\"two\r\nlines\",10\r\n"
                       "\r\n"
                       "2,\"say \"\"hi\"\", ok\",20\r\n"
                       "3,plain,abc\r\n"
                       "4,last,40\r\n"
                       "5,more,50\r\n"
                       "6,more,60"; // no final newline
    struct store *s = open_mem();
    struct csvimport_result r;
    struct px_err err = {0};
    assert_int_equal(import_text(s, text, CSVIMPORT_SKIP, &r, &err), PX_OK);
    assert_int_equal(r.rows_read, 6);
    assert_int_equal(r.rows_inserted, 5);
    assert_int_equal(r.n_errors, 1);
    assert_int_equal(r.errors[0].line, 6);
    assert_string_equal(r.errors[0].msg, "line 6, column 'Score': 'abc' is not a number");
    csvimport_result_free(&r);
    struct store_schema sc;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_string_equal(sc.cols[0].name, "ID"); // BOM stripped
    store_schema_free(&sc);
    char v[64];
    get_value(s, "1", "Name", v, sizeof v);
    assert_string_equal(v, "two\r\nlines");
    get_value(s, "2", "Name", v, sizeof v);
    assert_string_equal(v, "say \"hi\", ok");
    get_value(s, "4", "Score", v, sizeof v);
    assert_string_equal(v, "40");
    store_close(s);
}

// ---- malformed files: precise errors, store unchanged ----

struct bad_case {
    const char *what;
    const char *text;
    int rc;              // expected status
    const char *msg;     // substring of err.msg
    size_t n_errors;     // row errors expected (0 for file-level errors)
    const char *row_msg; // substring of the first row error
};

static const char *const k_base = "ID,Age,Income\n1,30,100\n2,40,200\n3,50,300\n4,60,400\n";

static const struct bad_case k_bad[] = {
    {"ragged short", "ID,Age,Income\n5,30,100\n6,40\n7,50,300\n8,1,2\n9,3,4\n", PX_EINVAL,
     "1 bad row", 1, "line 3: 2 fields, expected 3"},
    {"ragged long", "ID,Age,Income\n5,30,100\n6,40,1,2\n7,50,300\n8,1,2\n9,3,4\n", PX_EINVAL,
     "1 bad row", 1, "line 3: 4 fields, expected 3"},
    {"bad number", "ID,Age,Income\n5,30,100\n6,40,200\n7,fifty,300\n8,1,2\n9,3,4\n", PX_EINVAL,
     "nothing imported", 1, "line 4, column 'Age': 'fifty' is not a number"},
    {"bad utf8", "ID,Age,Income\n5,30,100\n6,40,2\xff\n7,50,300\n8,1,2\n9,3,4\n", PX_EINVAL,
     "1 bad row", 1, "line 3, column 'Income': invalid UTF-8 at byte 2"},
    {"duplicate id", "ID,Age,Income\n5,30,100\n6,40,200\n5,50,300\n8,1,2\n9,3,4\n", PX_EINVAL,
     "1 bad row", 1, "line 4: duplicate id '5' (first on line 2)"},
    {"empty id", "ID,Age,Income\n5,30,100\n,40,200\n7,50,300\n8,1,2\n9,3,4\n", PX_EINVAL,
     "1 bad row", 1, "line 3: empty id (column 'ID')"},
    {"two bad rows", "ID,Age,Income\n5,30,100\n6,x,200\n7,50,300\n8,1\n9,3,4\n10,5,6\n11,7,8\n",
     PX_EINVAL, "2 bad rows", 2, "line 3, column 'Age': 'x' is not a number"},
    {"empty file", "", PX_EFORMAT, "t.csv: the file is empty (no header row)", 0, NULL},
    {"only a BOM and blank lines", "\xef\xbb\xbf\n\r\n\n", PX_EFORMAT, "the file is empty", 0,
     NULL},
    {"header only", "ID,Age,Income\r\n", PX_EFORMAT, "t.csv: a header but no data rows", 0, NULL},
    {"duplicate header", "ID,Age,Age\n1,2,3\n", PX_EFORMAT,
     "t.csv: line 1: header: column 3 repeats the name 'Age' of column 2", 0, NULL},
    {"empty header name", "ID,,Income\n1,2,3\n", PX_EFORMAT,
     "line 1: header: column 2 has an empty name", 0, NULL},
    {"unclosed quote", "ID,Age,Income\n5,30,100\n6,\"40,200\n7,50,300\n", PX_EFORMAT,
     "line 3: a quoted field is not closed", 0, NULL},
    {"type change", "ID,Age,Income\n5,old,x\n6,young,y\n7,old,z\n8,old,x\n9,old,y\n", PX_EINVAL,
     "column 'Age' is integer in the store, but the file's values are category", 0, NULL},
    {"id column missing", "Age,Income\n5,30\n", PX_EINVAL, "no column 'ID' in the header", 0, NULL},
};

static void test_malformed_fail_mode(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof k_bad / sizeof k_bad[0]; k++) {
        const struct bad_case *c = &k_bad[k];
        struct store *s = open_mem();
        struct csvimport_result r;
        struct px_err err = {0};
        assert_int_equal(import_text(s, k_base, CSVIMPORT_FAIL, &r, &err), PX_OK);
        csvimport_result_free(&r);
        uint64_t before = store_checksum(s);
        int rc = import_text(s, c->text, CSVIMPORT_FAIL, &r, &err);
        if (rc != c->rc || strstr(err.msg, c->msg) == NULL) {
            fail_msg("%s: rc %d '%s', want %d '%s'", c->what, rc, err.msg, c->rc, c->msg);
        }
        if (r.n_errors != c->n_errors ||
            (c->row_msg && strstr(r.errors[0].msg, c->row_msg) == NULL)) {
            fail_msg("%s: %zu row errors, first '%s'; want %zu '%s'", c->what, r.n_errors,
                     r.n_errors_kept ? r.errors[0].msg : "", c->n_errors,
                     c->row_msg ? c->row_msg : "");
        }
        assert_false(r.committed);
        assert_int_equal(r.rows_inserted + r.rows_updated, 0);
        csvimport_result_free(&r);
        if (store_checksum(s) != before) {
            fail_msg("%s: the store changed", c->what);
        }
        store_close(s);
    }
}

static void test_skip_mode_counts(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct csvimport_result r;
    struct px_err err = {0};
    const char *text = "ID,Age,Income\n5,30,100\n6,x,200\n7,50\n5,1,1\n8,1,2\n9,3,4\n10,5,6\n";
    assert_int_equal(import_text(s, text, CSVIMPORT_SKIP, &r, &err), PX_OK);
    assert_int_equal(r.rows_read, 7);
    assert_int_equal(r.rows_inserted, 4);
    assert_int_equal(r.rows_skipped, 3);
    assert_int_equal(r.n_errors, 3);
    assert_int_equal(r.errors[0].line, 3);
    assert_int_equal(r.errors[1].line, 4);
    assert_int_equal(r.errors[2].line, 5);
    assert_non_null(strstr(r.errors[2].msg, "duplicate id '5'"));
    csvimport_result_free(&r);
    size_t n = 0;
    assert_int_equal(store_count_customers(s, &n, &err), PX_OK);
    assert_int_equal(n, 4);
    store_close(s);
}

static void test_many_errors_capped(void **state)
{
    (void)state;
    size_t n_rows = LIMIT_IMPORT_ERRORS_KEPT + 200;
    char *text = malloc(32 + n_rows * 16);
    assert_non_null(text);
    size_t k = (size_t)sprintf(text, "ID,Age\n");
    for (size_t i = 0; i < n_rows; i++) {
        k += (size_t)sprintf(text + k, "%zu,%s\n", i, i % 2 ? "x" : "1");
    }
    // half the values are bad: the column is not numeric, so use the stored type from a base
    struct store *s = open_mem();
    struct csvimport_result r;
    struct px_err err = {0};
    assert_int_equal(import_text(s, "ID,Age\n1,2\n2,3\n3,4\n", CSVIMPORT_FAIL, &r, &err), PX_OK);
    csvimport_result_free(&r);
    assert_int_equal(import_text(s, text, CSVIMPORT_FAIL, &r, &err), PX_EINVAL);
    // the stored type is integer, but the file is half text: a type conflict, not row errors
    assert_non_null(strstr(err.msg, "column 'Age' is integer"));
    csvimport_result_free(&r);
    k = (size_t)sprintf(text, "ID,Age\n");
    for (size_t i = 0; i < n_rows; i++) {
        k += (size_t)sprintf(text + k, "%zu,%s\n", i % 10, "1");
    }
    assert_int_equal(import_text(s, text, CSVIMPORT_FAIL, &r, &err), PX_EINVAL);
    assert_int_equal(r.n_errors, n_rows - 10);
    assert_int_equal(r.n_errors_kept, LIMIT_IMPORT_ERRORS_KEPT);
    assert_int_equal(r.errors[0].line, 12);
    csvimport_result_free(&r);
    free(text);
    store_close(s);
}

// ---- re-import ----

static void test_upsert_and_extend(void **state)
{
    (void)state;
    struct store *s = open_mem();
    struct csvimport_result r;
    struct px_err err = {0};
    assert_int_equal(import_text(s, k_base, CSVIMPORT_FAIL, &r, &err), PX_OK);
    csvimport_result_free(&r);
    // columns reordered, one new column, one missing, a new customer
    const char *again = "Income,ID,Segment\n150.5,1,a\n250,2,b\n999,9,a\n";
    assert_int_equal(import_text(s, again, CSVIMPORT_FAIL, &r, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "column 'Income' is integer in the store, but the file's "
                                    "values are real"));
    csvimport_result_free(&r);
    again = "Income,ID,Segment\n150,1,a\n250,2,b\n999,9,a\n";
    assert_int_equal(import_text(s, again, CSVIMPORT_FAIL, &r, &err), PX_OK);
    assert_int_equal(r.rows_updated, 2);
    assert_int_equal(r.rows_inserted, 1);
    assert_int_equal(r.n_columns_added, 1);
    csvimport_result_free(&r);
    char v[64];
    get_value(s, "1", "Income", v, sizeof v);
    assert_string_equal(v, "150");
    get_value(s, "1", "Age", v, sizeof v);
    assert_string_equal(v, "30"); // kept
    get_value(s, "9", "Age", v, sizeof v);
    assert_string_equal(v, "NULL");
    get_value(s, "3", "Segment", v, sizeof v);
    assert_string_equal(v, "NULL");
    get_value(s, "9", "Segment", v, sizeof v);
    assert_string_equal(v, "a");
    size_t n = 0;
    assert_int_equal(store_count_customers(s, &n, &err), PX_OK);
    assert_int_equal(n, 5);
    // a different id column is refused
    struct csvimport_params p = csvimport_default_params();
    p.id_column = "Age";
    assert_int_equal(csvimport_memory(s, k_base, strlen(k_base), "t.csv", &p, &r, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "the id column is 'Age', but the store's is 'ID'"));
    csvimport_result_free(&r);
    store_close(s);
}

// ---- real data ----

static void test_thera_bank(void **state)
{
    (void)state;
    char path[4096];
    if (!tu_shared_path(path, sizeof path, "data/thera_bank/Bank_Personal_Loan_Modelling.csv")) {
        skip();
    }
    struct store *s = open_mem();
    struct csvimport_result r;
    struct px_err err = {0};
    int rc = csvimport_file(s, path, NULL, &r, &err);
    if (rc != PX_OK) {
        fail_msg("%s (%zu row errors, first %s)", err.msg, r.n_errors,
                 r.n_errors_kept ? r.errors[0].msg : "-");
    }
    assert_int_equal(r.rows_read, 5000);
    assert_int_equal(r.rows_inserted, 5000);
    assert_int_equal(r.n_errors, 0);
    csvimport_result_free(&r);
    struct store_schema sc;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_int_equal(sc.n_cols, 14);
    assert_string_equal(sc.cols[sc.i_id].name, "ID");
    int k = store_schema_find(&sc, "ZIP Code");
    assert_true(k >= 0);
    assert_int_equal(sc.cols[k].type, COLTYPE_INTEGER);
    assert_string_equal(sc.cols[k].label, "ZIP Code");
    k = store_schema_find(&sc, "CCAvg");
    assert_int_equal(sc.cols[k].type, COLTYPE_REAL);
    assert_string_equal(sc.cols[k].label, "CC avg");
    k = store_schema_find(&sc, "Experience");
    assert_int_equal(sc.cols[k].type, COLTYPE_INTEGER);
    k = store_schema_find(&sc, "Personal Loan");
    assert_int_equal(sc.cols[k].type, COLTYPE_BOOL);
    store_schema_free(&sc);
    char v[64];
    get_value(s, "1", "CCAvg", v, sizeof v);
    assert_string_equal(v, "1.6");
    // re-import: everything updates, nothing changes
    uint64_t before = store_checksum(s);
    assert_int_equal(csvimport_file(s, path, NULL, &r, &err), PX_OK);
    assert_int_equal(r.rows_updated, 5000);
    csvimport_result_free(&r);
    assert_true(store_checksum(s) == before);
    store_close(s);
}

// ---- allocation failures ----

struct alloc_ctx {
    struct store *s;
    struct csvimport_result r;
};

static int import_alloc(void *user, struct px_err *err)
{
    struct alloc_ctx *c = user;
    const char *text = "ID,Tier,Tags,Score\n1,a,\"x; y\",1\n2,b,z,x\n3,a,x,3\n4,a,x,4\n5,b,y,5\n";
    int rc = store_open(":memory:", NULL, &c->s, err);
    if (rc == PX_OK) {
        rc = import_text(c->s, text, CSVIMPORT_SKIP, &c->r, err);
    }
    return rc;
}

static void import_release(void *user)
{
    struct alloc_ctx *c = user;
    csvimport_result_free(&c->r);
    store_close(c->s);
    c->s = NULL;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct alloc_ctx c;
    memset(&c, 0, sizeof c);
    // the import's own allocations and SQLite's (statements, pages, the TEMP dedup table)
    long n = tu_check_alloc_failures(import_alloc, import_release, &c);
    print_message("import: %ld allocation points\n", n);
    assert_true(n > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_and_labels),    cmocka_unit_test(test_bom_crlf_quotes_newlines),
        cmocka_unit_test(test_malformed_fail_mode), cmocka_unit_test(test_skip_mode_counts),
        cmocka_unit_test(test_many_errors_capped),  cmocka_unit_test(test_upsert_and_extend),
        cmocka_unit_test(test_thera_bank),          cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
