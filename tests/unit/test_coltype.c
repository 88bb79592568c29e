// test_coltype.c — src/store/coltype.c: value parsing per type (table), inference over columns
// (table), labels (table), UTF-8 validation with the offending byte, and the standard message.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "coltype.h"
#include "mem.h"

// ---- parsing ----

struct parse_case {
    enum coltype type;
    const char *in;
    int ok;          // 1 parses, 0 rejected
    int64_t i;       // INTEGER-typed result
    double d;        // REAL-typed result
    const char *s;   // TEXT-typed result (NULL: not checked)
    const char *why; // substring of the reason when rejected
};

static const struct parse_case k_parse[] = {
    {COLTYPE_INTEGER, "42", 1, 42, 0, NULL, NULL},
    {COLTYPE_INTEGER, " -7 ", 1, -7, 0, NULL, NULL},
    {COLTYPE_INTEGER, "+3", 1, 3, 0, NULL, NULL},
    {COLTYPE_INTEGER, "9223372036854775807", 1, INT64_MAX, 0, NULL, NULL},
    {COLTYPE_INTEGER, "9223372036854775808", 0, 0, 0, NULL, "out of the integer range"},
    {COLTYPE_INTEGER, "abc", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_INTEGER, "1.5", 0, 0, 0, NULL, "not a whole number"},
    {COLTYPE_INTEGER, "1,234", 0, 0, 0, NULL, "plain whole number"},
    {COLTYPE_INTEGER, "12abc", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_INTEGER, "-", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_REAL, "1.60", 1, 0, 1.6, NULL, NULL},
    {COLTYPE_REAL, ".5", 1, 0, 0.5, NULL, NULL},
    {COLTYPE_REAL, "2e3", 1, 0, 2000, NULL, NULL},
    {COLTYPE_REAL, "-0.25", 1, 0, -0.25, NULL, NULL},
    {COLTYPE_REAL, "1e999", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_REAL, "nan", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_REAL, "inf", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_REAL, "1.2.3", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_REAL, "$5", 0, 0, 0, NULL, "plain number"},
    {COLTYPE_CURRENCY, "$1,234.50", 1, 0, 1234.5, NULL, NULL},
    {COLTYPE_CURRENCY, "-$5", 1, 0, -5, NULL, NULL},
    {COLTYPE_CURRENCY, "$-5", 1, 0, -5, NULL, NULL},
    {COLTYPE_CURRENCY, "(1,234)", 1, 0, -1234, NULL, NULL},
    {COLTYPE_CURRENCY, "1,234,567", 1, 0, 1234567, NULL, NULL},
    {COLTYPE_CURRENCY, "17", 1, 0, 17, NULL, NULL},
    {COLTYPE_CURRENCY, "1,23", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_CURRENCY, "1234,567", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_CURRENCY, "$", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_CURRENCY, "5%", 0, 0, 0, NULL, "percentage"},
    {COLTYPE_PERCENT, "85%", 1, 0, 85, NULL, NULL},
    {COLTYPE_PERCENT, "12.5 %", 1, 0, 12.5, NULL, NULL},
    {COLTYPE_PERCENT, "40", 1, 0, 40, NULL, NULL},
    {COLTYPE_PERCENT, "%", 0, 0, 0, NULL, "is not a number"},
    {COLTYPE_PERCENT, "$5", 0, 0, 0, NULL, "amount"},
    {COLTYPE_BOOL, "Yes", 1, 1, 0, NULL, NULL},
    {COLTYPE_BOOL, "no", 1, 0, 0, NULL, NULL},
    {COLTYPE_BOOL, "TRUE", 1, 1, 0, NULL, NULL},
    {COLTYPE_BOOL, "false", 1, 0, 0, NULL, NULL},
    {COLTYPE_BOOL, "Y", 1, 1, 0, NULL, NULL},
    {COLTYPE_BOOL, "n", 1, 0, 0, NULL, NULL},
    {COLTYPE_BOOL, "1", 1, 1, 0, NULL, NULL},
    {COLTYPE_BOOL, "0", 1, 0, 0, NULL, NULL},
    {COLTYPE_BOOL, "2", 0, 0, 0, NULL, "yes/no"},
    {COLTYPE_BOOL, "maybe", 0, 0, 0, NULL, "yes/no"},
    {COLTYPE_DATE, "2024-02-29", 1, 0, 0, "2024-02-29", NULL},
    {COLTYPE_DATE, "3/7/2021", 1, 0, 0, "2021-03-07", NULL},
    {COLTYPE_DATE, "12/31/1999", 1, 0, 0, "1999-12-31", NULL},
    {COLTYPE_DATE, "2023-02-29", 0, 0, 0, NULL, "is not a date"},
    {COLTYPE_DATE, "2023-13-01", 0, 0, 0, NULL, "is not a date"},
    {COLTYPE_DATE, "2023-1-01", 0, 0, 0, NULL, "is not a date"},
    {COLTYPE_DATE, "13/01/2020", 0, 0, 0, NULL, "is not a date"},
    {COLTYPE_DATE, "yesterday", 0, 0, 0, NULL, "is not a date"},
    {COLTYPE_TEXT, "  hello world ", 1, 0, 0, "hello world", NULL},
    {COLTYPE_LIST, "A; B; C", 1, 0, 0, "A; B; C", NULL},
    {COLTYPE_CATEGORY, "Gold", 1, 0, 0, "Gold", NULL},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof k_parse / sizeof k_parse[0]; k++) {
        const struct parse_case *c = &k_parse[k];
        struct coltype_value v;
        const char *why = NULL;
        int rc = coltype_parse(c->type, c->in, strlen(c->in), &v, &why);
        if ((rc == PX_OK) != c->ok) {
            fail_msg("%s '%s': rc %d (why %s), want ok=%d", coltype_name(c->type), c->in, rc,
                     why ? why : "-", c->ok);
        }
        if (!c->ok) {
            if (why == NULL || strstr(why, c->why) == NULL) {
                fail_msg("%s '%s': reason '%s', want '%s'", coltype_name(c->type), c->in,
                         why ? why : "(null)", c->why);
            }
            continue;
        }
        assert_false(v.missing);
        const char *sqlt = coltype_sql_type(c->type);
        if (sqlt[0] == 'I' && v.i != c->i) {
            fail_msg("%s '%s': got %lld want %lld", coltype_name(c->type), c->in, (long long)v.i,
                     (long long)c->i);
        }
        if (sqlt[0] == 'R' && fabs(v.d - c->d) > 1e-9) {
            fail_msg("%s '%s': got %g want %g", coltype_name(c->type), c->in, v.d, c->d);
        }
        if (c->s != NULL && (v.len != strlen(c->s) || memcmp(v.s, c->s, v.len) != 0)) {
            fail_msg("%s '%s': got '%.*s' want '%s'", coltype_name(c->type), c->in, (int)v.len, v.s,
                     c->s);
        }
    }
}

static void test_missing(void **state)
{
    (void)state;
    for (int t = 0; t < COLTYPE_COUNT; t++) {
        struct coltype_value v;
        const char *why = NULL;
        assert_int_equal(coltype_parse((enum coltype)t, "  ", 2, &v, &why), PX_OK);
        assert_true(v.missing);
        assert_int_equal(coltype_parse((enum coltype)t, "", 0, &v, &why), PX_OK);
        assert_true(v.missing);
        enum coltype back;
        assert_true(coltype_from_name(coltype_name((enum coltype)t), &back));
        assert_int_equal(back, t);
    }
    enum coltype x;
    assert_false(coltype_from_name("blob", &x));
}

// ---- inference ----

struct infer_case {
    const char *values; // '|' separated; "" = an empty value
    enum coltype want;
};

static const struct infer_case k_infer[] = {
    {"1|2|3|-4|", COLTYPE_INTEGER},
    {"1|2.5|3", COLTYPE_REAL},
    {"1.60|1.50|1.00", COLTYPE_REAL},
    {"$1,234.50|$5|-$3|100", COLTYPE_CURRENCY},
    {"85%|12.5 %|40%", COLTYPE_PERCENT},
    {"2024-01-02|2023-12-31|", COLTYPE_DATE},
    {"3/7/2021|12/1/2020", COLTYPE_DATE},
    {"Yes|No|yes|", COLTYPE_BOOL},
    {"true|false", COLTYPE_BOOL},
    {"0|1|1|0", COLTYPE_BOOL},
    {"0|1|2", COLTYPE_INTEGER},
    {"Yes|No|Maybe", COLTYPE_CATEGORY},
    {"A; B|C|A; C", COLTYPE_LIST},
    {"|||", COLTYPE_TEXT},
    // 80% rule: one bad value in five keeps the column numeric (the bad one is a row error)
    {"10|20|30|40|abc", COLTYPE_INTEGER},
    {"10|20|abc|def|ghi", COLTYPE_CATEGORY},
    {"91107|90089|94720|94112|91330", COLTYPE_INTEGER},
};

static void feed(struct coltype_infer *ci, const char *values)
{
    struct px_err err = {0};
    const char *p = values;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        assert_int_equal(coltype_infer_add(ci, p, n, &err), PX_OK);
        if (bar == NULL) {
            break;
        }
        p = bar + 1;
    }
}

static void test_infer_table(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof k_infer / sizeof k_infer[0]; k++) {
        struct coltype_infer ci;
        coltype_infer_init(&ci);
        feed(&ci, k_infer[k].values);
        enum coltype got = coltype_infer_result(&ci);
        coltype_infer_free(&ci);
        if (got != k_infer[k].want) {
            fail_msg("'%s': inferred %s, want %s", k_infer[k].values, coltype_name(got),
                     coltype_name(k_infer[k].want));
        }
    }
}

static void test_infer_cardinality(void **state)
{
    (void)state;
    struct px_err err = {0};
    struct coltype_infer ci;
    char v[32];
    // 300 distinct names: text; 300 values over 3 names: category
    coltype_infer_init(&ci);
    for (int i = 0; i < 300; i++) {
        int n = snprintf(v, sizeof v, "name %d", i);
        assert_int_equal(coltype_infer_add(&ci, v, (size_t)n, &err), PX_OK);
    }
    assert_int_equal(coltype_infer_result(&ci), COLTYPE_TEXT);
    coltype_infer_free(&ci);
    coltype_infer_init(&ci);
    for (int i = 0; i < 300; i++) {
        int n = snprintf(v, sizeof v, "tier %d", i % 3);
        assert_int_equal(coltype_infer_add(&ci, v, (size_t)n, &err), PX_OK);
    }
    assert_int_equal(coltype_infer_result(&ci), COLTYPE_CATEGORY);
    coltype_infer_free(&ci);
    // free text with incidental ';' over many distinct items is not a list
    coltype_infer_init(&ci);
    for (int i = 0; i < 300; i++) {
        int n = snprintf(v, sizeof v, "note %d; more %d", i, i);
        assert_int_equal(coltype_infer_add(&ci, v, (size_t)n, &err), PX_OK);
    }
    assert_int_equal(coltype_infer_result(&ci), COLTYPE_TEXT);
    coltype_infer_free(&ci);
}

static int infer_alloc(void *user, struct px_err *err)
{
    struct coltype_infer *ci = user;
    coltype_infer_init(ci);
    const char *vals[] = {"a; b", "c", "d; e; f", "a"};
    for (size_t i = 0; i < 4; i++) {
        int rc = coltype_infer_add(ci, vals[i], strlen(vals[i]), err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static void infer_release(void *user)
{
    coltype_infer_free(user);
}

static void test_infer_alloc_failures(void **state)
{
    (void)state;
    struct coltype_infer ci;
    assert_true(tu_check_alloc_failures(infer_alloc, infer_release, &ci) > 0);
}

// ---- labels ----

static void test_labels(void **state)
{
    (void)state;
    static const char *const k[][2] = {
        {"annual_income", "Annual income"},
        {"CCAvg", "CC avg"},
        {"ZIP Code", "ZIP Code"},
        {"Personal Loan", "Personal Loan"},
        {"CreditCard", "Credit card"},
        {"ID", "ID"},
        {"Age", "Age"},
        {"customer_ID", "Customer ID"},
        {"creditScore", "Credit score"},
        {"zip code", "Zip code"},
        {"__x__", "X"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char out[64];
        coltype_label(k[i][0], out, sizeof out);
        if (strcmp(out, k[i][1]) != 0) {
            fail_msg("label('%s') = '%s', want '%s'", k[i][0], out, k[i][1]);
        }
    }
    char small[4];
    coltype_label("annual_income", small, sizeof small);
    assert_string_equal(small, "Ann");
}

// ---- UTF-8 and messages ----

static void test_utf8(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t len;
        int ok;
        size_t bad;
    } k[] = {
        {"caf\xc3\xa9", 5, 1, 0},
        {"\xe2\x82\xac 5", 5, 1, 0},
        {"\xf0\x9f\x98\x80", 4, 1, 0},
        {"ab\xff", 3, 0, 2},
        {"a\xc3", 2, 0, 1},
        {"\xc0\xaf", 2, 0, 0},         // overlong '/'
        {"x\xed\xa0\x80", 4, 0, 1},    // surrogate
        {"\xf4\x90\x80\x80", 4, 0, 0}, // > U+10FFFF
        {"a\0b", 3, 0, 1},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t bad = 99;
        int rc = coltype_check_utf8(k[i].s, k[i].len, &bad);
        if ((rc == PX_OK) != k[i].ok || (!k[i].ok && bad != k[i].bad)) {
            fail_msg("case %zu: rc %d bad %zu", i, rc, bad);
        }
    }
}

static void test_value_error(void **state)
{
    (void)state;
    struct px_err err = {0};
    assert_int_equal(coltype_value_error(&err, 17, "Income", "abc", 3, "is not a number"),
                     PX_EINVAL);
    assert_string_equal(err.msg, "line 17, column 'Income': 'abc' is not a number");
    char long_value[200];
    memset(long_value, 'x', sizeof long_value);
    long_value[3] = '\n';
    coltype_value_error(&err, 2, "Notes", long_value, sizeof long_value, "is bad");
    assert_non_null(strstr(err.msg, "'xxx?xxx"));
    assert_non_null(strstr(err.msg, "...' is bad"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_infer_table),
        cmocka_unit_test(test_infer_cardinality),
        cmocka_unit_test(test_infer_alloc_failures),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_value_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
