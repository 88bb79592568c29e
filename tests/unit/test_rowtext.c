// test_rowtext.c — the profile text the embedder sees: value formatting per kind, the default
// rendering, templates and their errors.
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "mem.h"
#include "rowtext.h"

static const char *fmt(enum rowtext_kind kind, const char *value, double num)
{
    static char s[256];
    struct rowtext_field f = {"c", "C", kind, value, num};
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(rowtext_format_value(&f, &b, NULL), PX_OK);
    snprintf(s, sizeof s, "%s", b.data ? b.data : "");
    buf_free(&b);
    return s;
}

static void test_values(void **state)
{
    (void)state;
    static const struct {
        enum rowtext_kind kind;
        const char *value;
        double num;
        const char *want;
    } cases[] = {
        {ROWTEXT_CURRENCY, "85000", 85000, "$85,000"},
        {ROWTEXT_CURRENCY, "1234.5", 1234.5, "$1,234.50"},
        {ROWTEXT_CURRENCY, "-5", -5, "-$5"},
        {ROWTEXT_CURRENCY, "999.999", 999.999, "$1,000"},
        {ROWTEXT_CURRENCY, "1000000", 1e6, "$1,000,000"},
        {ROWTEXT_PERCENT, "23", 23, "23%"},
        {ROWTEXT_PERCENT, "12.5", 12.5, "12.5%"},
        {ROWTEXT_INTEGER, "742", 742, "742"},
        {ROWTEXT_INTEGER, "-3", -3, "-3"},
        {ROWTEXT_REAL, "2.67", 2.67, "2.67"},
        {ROWTEXT_REAL, "2.6666666666", 2.6666666666, "2.66667"},
        {ROWTEXT_BOOL, "Yes", 1, "Yes"},
        {ROWTEXT_BOOL, "0", 0, "No"},
        {ROWTEXT_LIST, "Checking; Savings; Brokerage Account", 0,
         "Checking, Savings and Brokerage Account"},
        {ROWTEXT_LIST, "Checking", 0, "Checking"},
        {ROWTEXT_LIST, "A;  ; B", 0, "A and B"},
        {ROWTEXT_TEXT, "Mass Affluent", 0, "Mass Affluent"},
        {ROWTEXT_TEXT, "", 0, ""},
        {ROWTEXT_TEXT, NULL, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = fmt(cases[i].kind, cases[i].value, cases[i].num);
        if (strcmp(got, cases[i].want) != 0) {
            fail_msg("case %zu: '%s', want '%s'", i, got, cases[i].want);
        }
    }
}

static const struct rowtext_field k_row[] = {
    {"customer_id", "Customer ID", ROWTEXT_TEXT, "CUST-000417", 0},
    {"age", "Age", ROWTEXT_INTEGER, "58", 58},
    {"annual_income", "Annual income", ROWTEXT_CURRENCY, "412000", 412000},
    {"mortgage", "Mortgage", ROWTEXT_CURRENCY, "", 0}, // missing: left out
    {"credit_score", "Credit score", ROWTEXT_INTEGER, "781", 781},
    {"products_held", "Products held", ROWTEXT_LIST, "Checking; Brokerage Account", 0},
};
#define N_ROW (sizeof k_row / sizeof k_row[0])

static void test_default_rendering(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(rowtext_render(NULL, k_row, N_ROW, &b, NULL), PX_OK);
    assert_string_equal(b.data, "Customer ID: CUST-000417, Age: 58, Annual income: $412,000, "
                                "Credit score: 781, Products held: Checking and Brokerage "
                                "Account.");
    buf_free(&b);
    // a small maximum is a clean PX_ELIMIT
    buf_init(&b, 16);
    struct px_err err = {0};
    assert_int_equal(rowtext_render(NULL, k_row, N_ROW, &b, &err), PX_ELIMIT);
    buf_free(&b);
}

static void test_templates(void **state)
{
    (void)state;
    static const struct {
        const char *tpl;
        int code;
        const char *want; // rendering, or a substring of the error
    } cases[] = {
        {"{customer_id} is {Age} and earns {annual income} a year.", PX_OK,
         "CUST-000417 is 58 and earns $412,000 a year."},
        {"{{literal}} {age}", PX_OK, "{literal} 58"},
        {"Mortgage: {mortgage}.", PX_OK, "Mortgage: ."},
        {"no placeholders", PX_OK, "no placeholders"},
        {"{nope}", PX_EINVAL, "no column named 'nope' (byte 0)"},
        {"age {age", PX_EINVAL, "'{' at byte 4 is never closed"},
        {"age} x", PX_EINVAL, "unmatched '}' at byte 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rowtext_template *t = NULL;
        struct px_err err = {0};
        int rc = rowtext_template_compile(cases[i].tpl, strlen(cases[i].tpl), k_row, N_ROW, &t,
                                          &err);
        if (rc != cases[i].code) {
            fail_msg("case %zu: status %d (%s)", i, rc, err.msg);
        }
        if (rc != PX_OK) {
            if (strstr(err.msg, cases[i].want) == NULL) {
                fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].want);
            }
            assert_null(t);
            continue;
        }
        struct buf b;
        buf_init(&b, 4096);
        assert_int_equal(rowtext_render(t, k_row, N_ROW, &b, NULL), PX_OK);
        if (strcmp(b.data ? b.data : "", cases[i].want) != 0) {
            fail_msg("case %zu: '%s', want '%s'", i, b.data, cases[i].want);
        }
        buf_free(&b);
        rowtext_template_free(t);
    }
}

static int fault_open(void *user, struct px_err *err)
{
    return rowtext_template_compile("x {age} y", 9, k_row, N_ROW, user, err);
}

static void fault_release(void *user)
{
    struct rowtext_template **t = user;
    rowtext_template_free(*t);
    *t = NULL;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    struct rowtext_template *t = NULL;
    assert_true(tu_check_alloc_failures(fault_open, fault_release, &t) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_default_rendering),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
