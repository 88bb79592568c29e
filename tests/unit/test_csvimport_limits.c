// test_csvimport_limits.c — src/store/csvimport.c over csvread's record limits: a data record
// with more than LIMIT_CSV_COLUMNS fields or over LIMIT_CSV_ROW_BYTES is one row error naming its
// line (skip mode commits the other rows, fail mode writes nothing), never the end of the import;
// the same in the header, or a field over LIMIT_CSV_FIELD_BYTES, ends it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "csvimport.h"
#include "limits.h"
#include "store.h"

// "ID,A,B\n1,2,3\n" + (a record of n_fields fields of field_bytes bytes on line 3) + rows 4..7.
static char *text_with(size_t n_fields, size_t field_bytes, size_t *size)
{
    size_t cap = 256 + n_fields * (field_bytes + 1);
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "ID,A,B\n1,2,3\n");
    for (size_t i = 0; i < n_fields; i++) {
        memset(t + n, i == 0 ? '9' : 'x', field_bytes);
        n += field_bytes;
        t[n++] = i + 1 < n_fields ? ',' : '\n';
    }
    for (int i = 4; i <= 7; i++) {
        n += (size_t)snprintf(t + n, cap - n, "%d,%d,%d\n", i, i * 10, i * 100);
    }
    *size = n;
    return t;
}

static void import_both(const char *text, size_t size, const char *row_msg)
{
    for (int mode = CSVIMPORT_FAIL; mode <= CSVIMPORT_SKIP; mode++) {
        struct store *s = NULL;
        struct px_err err = {0};
        struct csvimport_result r;
        struct csvimport_params p = csvimport_default_params();
        p.on_error = (enum csvimport_on_error)mode;
        assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
        int rc = csvimport_memory(s, text, size, "t.csv", &p, &r, &err);
        assert_int_equal(r.rows_read, 6);
        assert_int_equal(r.n_errors, 1);
        assert_int_equal(r.errors[0].line, 3);
        if (strstr(r.errors[0].msg, row_msg) == NULL) {
            fail_msg("row error '%s', want '%s'", r.errors[0].msg, row_msg);
        }
        if (mode == CSVIMPORT_FAIL) {
            assert_int_equal(rc, PX_EINVAL);
            assert_non_null(strstr(err.msg, "t.csv: 1 bad row, nothing imported"));
            assert_false(r.committed);
        } else {
            assert_int_equal(rc, PX_OK);
            assert_true(r.committed);
            assert_int_equal(r.rows_inserted, 5);
            assert_int_equal(r.rows_skipped, 1);
        }
        csvimport_result_free(&r);
        store_close(s);
    }
}

static void test_row_limits_are_row_errors(void **state)
{
    (void)state;
    size_t size = 0;
    char *t = text_with(LIMIT_CSV_COLUMNS + 7, 1, &size);
    import_both(t, size, "line 3: 1007 fields, expected 3");
    free(t);
    t = text_with(20, 60000, &size); // 18 fields pass 1 MiB
    import_both(t, size, "line 3: the record is longer than 1048576 bytes");
    free(t);
    t = text_with(3, 60000, &size); // the right count, each field within its limit: a row
    import_both(t, size, "line 3, column 'ID'");
    free(t);
}

static void expect_fatal(const char *text, size_t size, int want_rc, const char *want_msg)
{
    for (int mode = CSVIMPORT_FAIL; mode <= CSVIMPORT_SKIP; mode++) {
        struct store *s = NULL;
        struct px_err err = {0};
        struct csvimport_result r;
        struct csvimport_params p = csvimport_default_params();
        p.on_error = (enum csvimport_on_error)mode;
        assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
        int rc = csvimport_memory(s, text, size, "t.csv", &p, &r, &err);
        if (rc != want_rc || strstr(err.msg, want_msg) == NULL) {
            fail_msg("rc %d '%s', want %d '%s'", rc, err.msg, want_rc, want_msg);
        }
        assert_false(r.committed);
        csvimport_result_free(&r);
        store_close(s);
    }
}

static void test_file_limits_end_the_import(void **state)
{
    (void)state;
    size_t cap = 2 << 20, n = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    for (int i = 0; i < LIMIT_CSV_COLUMNS + 1; i++) {
        n += (size_t)snprintf(t + n, cap - n, "%sc%d", i ? "," : "", i);
    }
    n += (size_t)snprintf(t + n, cap - n, "\n1,2\n");
    expect_fatal(t, n, PX_ELIMIT, "t.csv: line 1: the header has 1001 columns");

    n = 0;
    for (int i = 0; i < 20; i++) {
        n += (size_t)snprintf(t + n, cap - n, "%sh%d", i ? "," : "", i);
        memset(t + n, 'y', 60000);
        n += 60000;
    }
    n += (size_t)snprintf(t + n, cap - n, "\n1,2\n");
    expect_fatal(t, n, PX_ELIMIT, "t.csv: line 1: the header is longer than LIMIT_CSV_ROW_BYTES");

    n = (size_t)snprintf(t, cap, "ID,A\n1,2\n3,\"");
    memset(t + n, 'q', 70000);
    n += 70000;
    expect_fatal(t, n, PX_ELIMIT, "t.csv: line 3: a field is longer than 65536 bytes");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_limits_are_row_errors),
        cmocka_unit_test(test_file_limits_end_the_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
