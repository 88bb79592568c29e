// test_import.c — `prospect import` end to end: a good file imports and re-imports (upsert),
// a bad file fails with exit 1 and every bad row on stderr with its line, leaving the db as it
// was; --on-error skip imports the rest; usage errors exit 2.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char g_dir[256];

static int run(const char *fmt, const char *arg, char **out, char **err)
{
    char args[2048];
    snprintf(args, sizeof args, fmt, g_dir, g_dir, arg);
    return tu_run_prospect(args, NULL, out, err);
}

static void test_import_cli(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    tu_mkdtemp(g_dir, sizeof g_dir);
    tu_write_text(g_dir, "good.csv", "ID,Age,Income\r\n1,30,\"$1,000\"\r\n2,40,$2\r\n3,50,$3\r\n");
    tu_write_text(g_dir, "bad.csv",
                  "ID,Age,Income\n4,30,$1\n5,x,$2\n6,40\n7,50,$3\n8,60,$4\n9,70,$5\n10,80,$6\n");
    int st = run("import --csv %s/good.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(
        strstr(err, "3 rows read, 3 inserted, 0 updated, 0 skipped; 3 columns (3 new)"));
    free(out);
    free(err);
    st = run("import --csv %s/good.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(err, "0 inserted, 3 updated"));
    free(out);
    free(err);
    // fail mode: exit 1, every bad row named, nothing imported
    st = run("import --csv %s/bad.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 1);
    assert_non_null(strstr(err, "line 3, column 'Age': 'x' is not a number"));
    assert_non_null(strstr(err, "line 4: 2 fields, expected 3"));
    assert_non_null(strstr(err, "2 bad rows, nothing imported"));
    free(out);
    free(err);
    st = run("-v import --csv %s/good.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(err, "0 inserted, 3 updated")); // still 3 customers
    assert_non_null(strstr(err, "currency"));
    free(out);
    free(err);
    // skip mode: the rest is imported, errors still reported
    st = run("import --on-error skip --csv %s/bad.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(err, "line 3, column 'Age'"));
    assert_non_null(strstr(err, "7 rows read, 5 inserted, 0 updated, 2 skipped"));
    free(out);
    free(err);
    // the summary as a document (row errors in it, not on stderr) and as CSV
    st = run("import --json --on-error skip --csv %s/bad.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"rows_read\": 7, \"rows_inserted\": 0, \"rows_updated\": 5, "
                                "\"rows_skipped\": 2"));
    assert_non_null(strstr(out, "\"errors\": [\"line 3, column 'Age'"));
    assert_non_null(strstr(out, "{\"name\": \"Income\", \"label\": \"Income\", \"type\": "
                                "\"currency\", \"is_id\": false}"));
    assert_null(strstr(err, "line 3"));
    free(out);
    free(err);
    st = run("import --format csv --csv %s/good.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "file,db,rows_read,rows_inserted,rows_updated,rows_skipped,"
                                "n_columns,n_columns_added,n_errors\n"));
    assert_non_null(strstr(out, ",3,0,3,0,3,0,0\n"));
    free(out);
    free(err);
    st = run("import --format xml --csv %s/good.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 2);
    assert_non_null(strstr(err, "--format must be table, json or csv"));
    free(out);
    free(err);
    // file-level errors and usage
    st = run("import --csv %s/missing.csv --db %s/%s", "p.db", &out, &err);
    assert_int_equal(st, 1);
    assert_non_null(strstr(err, "cannot open"));
    free(out);
    free(err);
    st = run("import --db %s/x.db --on-error %s/maybe", "", &out, &err);
    assert_int_equal(st, 2);
    free(out);
    free(err);
    st = run("import --db %s/%s/x.db", "", &out, &err);
    assert_int_equal(st, 2);
    assert_non_null(strstr(err, "--csv FILE is required"));
    free(out);
    free(err);
    tu_rmtree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
