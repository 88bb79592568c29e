// test_csvsep.c — what a CSV's shape decides (issue 14, item 9): the field separator detected
// from the header (',', ';', tab; a tie or none is ','; quotes do not count) or given; the
// import numbering rows as ids when the file has no id column (and not when column 1 can be
// one), again on re-import; European decimal commas recognised (not thousands groupings) and
// named in the import's notes.
#include <stdio.h>
#include <string.h>

#include "coltype.h"
#include "csvimport.h"
#include "csvread.h"
#include "store.h"
#include "testutil.h"

struct seen {
    size_t n_records, n_fields;
    char delimiter;
    char first[64];
};

static int on_rec(void *user, const struct csvread_record *rec, struct px_err *err)
{
    (void)err;
    struct seen *s = user;
    if (s->n_records++ == 0) {
        s->n_fields = rec->n;
        s->delimiter = rec->delimiter;
        snprintf(s->first, sizeof s->first, "%s", rec->f[0]);
    }
    return PX_OK;
}

static struct seen read_text(const char *text, char given)
{
    struct seen s = {0};
    struct px_err err = {0};
    char found = 0;
    struct csvread_source src = {
        .name = "t", .data = text, .size = strlen(text), .delimiter = given, .found = &found};
    assert_int_equal(csvread_source(&src, 0, on_rec, &s, &err), PX_OK);
    assert_int_equal(found, s.delimiter);
    return s;
}

static void test_detect(void **state)
{
    (void)state;
    struct seen s = read_text("a;b;c\n1;2,5;3\n", 0);
    assert_int_equal(s.delimiter, ';');
    assert_int_equal(s.n_fields, 3);
    s = read_text("a\tb\n1\t2\n", 0);
    assert_int_equal(s.delimiter, '\t');
    assert_int_equal(s.n_fields, 2);
    s = read_text("a,b;c\n1,2\n", 0); // a tie: ','
    assert_int_equal(s.delimiter, ',');
    s = read_text("\"x;y;z\",b\n1,2\n", 0); // quoted separators do not count
    assert_int_equal(s.delimiter, ',');
    assert_string_equal(s.first, "x;y;z");
    s = read_text("\xef\xbb\xbfid;v\n1;2\n", 0); // after a BOM
    assert_int_equal(s.delimiter, ';');
    assert_string_equal(s.first, "id");
    s = read_text("only\n1\n", 0);
    assert_int_equal(s.delimiter, ',');
    s = read_text("a;b,c,d\n1;2,3,4\n", ';'); // given wins
    assert_int_equal(s.n_fields, 2);
}

static void test_decimal_comma(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool want;
    } k[] = {{"1,60", true},   {"-0,5", true},    {"1234,5", true}, {"1234,567", true},
             {"1,600", false}, {"12,345", false}, {"1.5", false},   {"1,", false},
             {",5", false},    {"a,5", false},    {"1,5x", false},  {"", false}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (coltype_decimal_comma(k[i].s, strlen(k[i].s)) != k[i].want)
            fail_msg("'%s': wanted %d", k[i].s, k[i].want);
    }
}

static int import_text(struct store *s, const char *text, struct csvimport_result *r)
{
    struct px_err err = {0};
    struct csvimport_params p = csvimport_default_params();
    int rc = csvimport_memory(s, text, strlen(text), "t.csv", &p, r, &err);
    if (rc != PX_OK)
        fail_msg("import: %s", err.msg);
    return rc;
}

static bool has_note(const struct csvimport_result *r, const char *want)
{
    for (size_t i = 0; i < r->n_notes; i++) {
        if (strstr(r->notes[i], want) != NULL) {
            return true;
        }
    }
    return false;
}

static void test_row_ids(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
    // column 1 (age) repeats: no id column, so rows are numbered; ';' and decimal commas said
    const char *text = "age;income;city\n30;1,60;Oslo\n30;2,5;Rome\n41;3,1;Oslo\n";
    struct csvimport_result r;
    import_text(s, text, &r);
    assert_true(r.row_ids);
    assert_int_equal(r.rows_inserted, 3);
    assert_int_equal(r.n_errors, 0);
    assert_int_equal(r.delimiter, ';');
    assert_true(has_note(&r, "';'-separated"));
    assert_true(has_note(&r, "rows are numbered 1.."));
    assert_true(has_note(&r, "column 'income' holds European decimal commas"));
    csvimport_result_free(&r);
    struct store_schema sc;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_true(sc.i_id >= 0);
    assert_string_equal(sc.cols[sc.i_id].name, CSVIMPORT_ROW_ID);
    store_schema_free(&sc);
    // again: the same rows updated by number
    import_text(s, text, &r);
    assert_int_equal(r.rows_updated, 3);
    assert_int_equal(r.rows_inserted, 0);
    csvimport_result_free(&r);
    store_close(s);
    // a first column that can be an id stays the id, with no note
    assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
    import_text(s, "code,v\nA1,1\nB2,2\nC3,3\n", &r);
    assert_false(r.row_ids);
    assert_int_equal(r.n_notes, 0);
    assert_int_equal(r.delimiter, ',');
    csvimport_result_free(&r);
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_string_equal(sc.cols[sc.i_id].name, "code");
    store_schema_free(&sc);
    store_close(s);
    // money in column 1 is never an id
    assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
    import_text(s, "income\tage\n$1\t3\n$2\t4\n", &r);
    assert_true(r.row_ids);
    assert_true(has_note(&r, "tab-separated"));
    csvimport_result_free(&r);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_decimal_comma),
        cmocka_unit_test(test_row_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
