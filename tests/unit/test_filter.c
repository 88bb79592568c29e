// test_filter.c — hard filters and boosts over a columnar table: every op on every column kind,
// missing values never pass, values matched case-insensitively, boosts add their weights.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "filter.h"

enum { C_ID, C_AGE, C_SEGMENT, C_PRODUCTS, C_DIGITAL, N_COLS };
#define N_ROWS 6

static struct query_schema *g_schema;
static struct coltable *g_table;

static int setup(void **state)
{
    (void)state;
    struct px_err err = {0};
    static const double q[5] = {20, 30, 40, 50, 80};
    static const char *const segs[] = {"Mass", "Affluent", "Private"};
    static const char *const prods[] = {"Checking", "Savings", "Mortgage"};
    if (query_schema_new(&g_schema, &err) != PX_OK ||
        query_schema_add_other(g_schema, "id", NULL, QUERY_COL_ID, &err) != PX_OK ||
        query_schema_add_numeric(g_schema, "age", NULL, QUERY_UNIT_NONE, 1, q, 5, &err) != PX_OK ||
        query_schema_add_category(g_schema, "segment", NULL, segs, 3, false, &err) != PX_OK ||
        query_schema_add_category(g_schema, "products", NULL, prods, 3, true, &err) != PX_OK ||
        query_schema_add_bool(g_schema, "digital", NULL, &err) != PX_OK ||
        coltable_new(g_schema, N_ROWS, &g_table, &err) != PX_OK) {
        fail_msg("%s", err.msg);
    }
    // row: age, segment, products, digital (-1 missing)
    static const struct {
        double age;
        const char *seg, *prods;
        int digital;
    } rows[N_ROWS] = {
        {25, "Mass", "Checking", 1},
        {45, "Affluent", "Checking; Savings", 0},
        {67, "Private", "Savings; Mortgage", 1},
        {NAN, NULL, NULL, -1}, // all missing
        {30, "mass", "mortgage", 0},
        {52, "Private", "", 1},
    };
    for (size_t r = 0; r < N_ROWS; r++) {
        assert_int_equal(coltable_set_number(g_table, r, C_AGE, rows[r].age, &err), PX_OK);
        assert_int_equal(coltable_set_text(g_table, r, C_SEGMENT, rows[r].seg, &err), PX_OK);
        assert_int_equal(coltable_set_text(g_table, r, C_PRODUCTS, rows[r].prods, &err), PX_OK);
        assert_int_equal(coltable_set_bool(g_table, r, C_DIGITAL, rows[r].digital, &err), PX_OK);
    }
    // kind mismatches are refused
    assert_int_equal(coltable_set_number(g_table, 0, C_SEGMENT, 1, &err), PX_EINVAL);
    assert_int_equal(coltable_set_text(g_table, 0, C_AGE, "x", &err), PX_EINVAL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    coltable_free(g_table);
    query_schema_free(g_schema);
    return 0;
}

static void test_filters(void **state)
{
    (void)state;
    static const struct {
        size_t col;
        enum query_op op;
        double lo, hi;
        const char *v0, *v1;
        const char *want; // '1' per passing row
    } cases[] = {
        {C_AGE, QUERY_OP_GT, 45, 0, NULL, NULL, "001001"},
        {C_AGE, QUERY_OP_GE, 45, 0, NULL, NULL, "011001"},
        {C_AGE, QUERY_OP_LT, 30, 0, NULL, NULL, "100000"},
        {C_AGE, QUERY_OP_LE, 30, 0, NULL, NULL, "100010"},
        {C_AGE, QUERY_OP_BETWEEN, 30, 52, NULL, NULL, "010011"},
        {C_AGE, QUERY_OP_EQ, 67, 0, NULL, NULL, "001000"},
        {C_AGE, QUERY_OP_NE, 67, 0, NULL, NULL, "110011"}, // missing never passes
        {C_SEGMENT, QUERY_OP_EQ, 0, 0, "Private", NULL, "001001"},
        {C_SEGMENT, QUERY_OP_EQ, 0, 0, "MASS", NULL, "100010"}, // case-insensitive
        {C_SEGMENT, QUERY_OP_NE, 0, 0, "Private", NULL, "110010"},
        {C_SEGMENT, QUERY_OP_IN, 0, 0, "Mass", "Affluent", "110010"},
        {C_SEGMENT, QUERY_OP_NOT_IN, 0, 0, "Mass", "Affluent", "001001"},
        {C_PRODUCTS, QUERY_OP_CONTAINS, 0, 0, "Mortgage", NULL, "001010"},
        {C_PRODUCTS, QUERY_OP_NOT_CONTAINS, 0, 0, "Mortgage", NULL, "110000"}, // "" = missing
        {C_PRODUCTS, QUERY_OP_IN, 0, 0, "Savings", "Mortgage", "011010"},
        {C_PRODUCTS, QUERY_OP_CONTAINS, 0, 0, "Brokerage", NULL, "000000"},
        {C_DIGITAL, QUERY_OP_IS_TRUE, 0, 0, NULL, NULL, "101001"},
        {C_DIGITAL, QUERY_OP_IS_FALSE, 0, 0, NULL, NULL, "010010"},
    };
    struct bitmap *b = NULL;
    struct px_err err = {0};
    assert_int_equal(bitmap_new(N_ROWS, &b, &err), PX_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct query_filter f = {.i_col = cases[i].col, .op = cases[i].op, .lo = cases[i].lo,
                                 .hi = cases[i].hi};
        if (cases[i].v0) f.values[f.n_values++] = cases[i].v0;
        if (cases[i].v1) f.values[f.n_values++] = cases[i].v1;
        assert_int_equal(filter_apply(g_table, &f, 1, b, &err), PX_OK);
        char got[N_ROWS + 1];
        for (size_t r = 0; r < N_ROWS; r++) got[r] = bitmap_test(b, r) ? '1' : '0';
        got[N_ROWS] = '\0';
        if (strcmp(got, cases[i].want) != 0) {
            fail_msg("case %zu: rows %s, want %s", i, got, cases[i].want);
        }
    }
    // filters are ANDed
    struct query_filter two[2] = {{.i_col = C_AGE, .op = QUERY_OP_GT, .lo = 40},
                                  {.i_col = C_DIGITAL, .op = QUERY_OP_IS_TRUE}};
    assert_int_equal(filter_apply(g_table, two, 2, b, &err), PX_OK);
    assert_int_equal(bitmap_count(b), 2);
    // an id column cannot be filtered
    struct query_filter bad = {.i_col = C_ID, .op = QUERY_OP_EQ};
    assert_int_equal(filter_apply(g_table, &bad, 1, b, &err), PX_EINVAL);
    bitmap_free(b);
}

static void test_boosts(void **state)
{
    (void)state;
    struct query_boost bs[2] = {
        {.i_col = C_AGE, .op = QUERY_OP_GE, .lo = 50, .quantile = 0.75, .weight = 0.3},
        {.i_col = C_PRODUCTS, .op = QUERY_OP_CONTAINS, .value = "savings", .quantile = -1,
         .weight = 0.5},
    };
    static const double want[N_ROWS] = {0, 0.5, 0.8, 0, 0, 0.3};
    for (size_t r = 0; r < N_ROWS; r++) {
        double s = boost_score(g_table, bs, 2, r);
        if (fabs(s - want[r]) > 1e-12) {
            fail_msg("row %zu: boost %g, want %g", r, s, want[r]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_boosts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
