// test_bankgen.c — the demo bank generator: header and row shape (parsed back with a small
// RFC 4180 splitter), determinism, value formats and ranges, cross-column consistency, the
// documented correlations (checked statistically on 5,000 rows with stated margins), limits and
// allocation failures.
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "bankgen.h"
#include "limits.h"
#include "mem.h"

#define MAX_FIELDS 64
#define FIELD_BYTES 2048

// One parsed CSV line: fields unquoted ('""' -> '"').
struct row {
    int n;
    char f[MAX_FIELDS][FIELD_BYTES];
};

// Splits one line (s[0..len), no '\n') into r; fails the test on malformed quoting.
static void split(const char *s, size_t len, struct row *r)
{
    r->n = 0;
    size_t i = 0;
    for (;;) {
        assert_true(r->n < MAX_FIELDS);
        char *out = r->f[r->n++];
        size_t o = 0;
        if (i < len && s[i] == '"') {
            i++;
            for (;;) {
                assert_true(i < len); // an unterminated quote
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') {
                        out[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                out[o++] = s[i++];
                assert_true(o < FIELD_BYTES);
            }
            assert_true(i == len || s[i] == ','); // nothing between the closing quote and ','
        } else {
            while (i < len && s[i] != ',') {
                assert_true(s[i] != '"' && s[i] != '\r');
                out[o++] = s[i++];
                assert_true(o < FIELD_BYTES);
            }
        }
        out[o] = '\0';
        if (i == len) {
            return;
        }
        i++; // ','
    }
}

// The whole CSV text of rows rows for seed (header included); returns owned (px_free).
static char *generate_all(uint64_t rows, uint64_t seed, size_t *len)
{
    struct bankgen_params p = bankgen_default_params();
    p.rows = rows;
    p.seed = seed;
    struct bankgen *g = NULL;
    struct px_err err = {0};
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    assert_int_equal(bankgen_new(&p, &g, &err), PX_OK);
    assert_int_equal(bankgen_header(g, &b, &err), PX_OK);
    while (bankgen_has_next(g)) {
        assert_int_equal(bankgen_next_row(g, &b, &err), PX_OK);
    }
    assert_int_equal(bankgen_rows_done(g), rows);
    bankgen_free(g);
    *len = b.len;
    return buf_take(&b);
}

// Column index by name; fails the test when missing.
static int col(const char *name)
{
    for (size_t i = 0; i < bankgen_n_columns(); i++) {
        if (strcmp(bankgen_column_name(i), name) == 0) {
            return (int)i;
        }
    }
    fail_msg("no column '%s'", name);
    return -1;
}

// "$1,234,567" -> 1234567; fails the test on any other form.
static double money(const char *s)
{
    if (s[0] != '$' || s[1] < '0' || s[1] > '9') {
        fail_msg("'%s' is not $d,ddd", s);
    }
    double v = 0;
    size_t digits = strlen(s + 1);
    for (size_t k = 1; s[k]; k++) {
        size_t from_end = digits - (k - 1); // position counted from the right, 1-based
        if (from_end % 4 == 0) {
            if (s[k] != ',') {
                fail_msg("'%s' is not $d,ddd", s);
            }
            continue;
        }
        if (s[k] < '0' || s[k] > '9') {
            fail_msg("'%s' is not $d,ddd", s);
        }
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

// "23%" -> 23, checked to be 0..100.
static int percent(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || strcmp(end, "%") != 0 || v < 0 || v > 100) {
        fail_msg("'%s' is not a percentage 0..100", s);
    }
    return (int)v;
}

static int integer(const char *s, int lo, int hi)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) {
        fail_msg("'%s' is not an integer %d..%d", s, lo, hi);
    }
    return (int)v;
}

// True when list (items joined by "; ") holds item.
static bool has_item(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)) != NULL; p += n) {
        bool start = p == list || (p >= list + 2 && p[-2] == ';' && p[-1] == ' ');
        bool end = p[n] == '\0' || p[n] == ';';
        if (start && end) {
            return true;
        }
    }
    return false;
}

// Every item of a list is non-empty, from `known` (NULL-terminated), in known's order, once.
static void check_list(const char *list, const char *const *known, bool may_be_empty)
{
    if (list[0] == '\0') {
        assert_true(may_be_empty);
        return;
    }
    const char *p = list;
    size_t next = 0;
    for (;;) {
        const char *sep = strstr(p, "; ");
        size_t n = sep ? (size_t)(sep - p) : strlen(p);
        size_t k = next;
        while (known[k] && (strlen(known[k]) != n || strncmp(known[k], p, n) != 0)) {
            k++;
        }
        if (known[k] == NULL) {
            fail_msg("list '%s': item '%.*s' unknown or out of order", list, (int)n, p);
        }
        next = k + 1;
        if (sep == NULL) {
            return;
        }
        p = sep + 2;
    }
}

static const char *const k_products[] = {"Checking",
                                         "Savings",
                                         "Certificate of Deposit",
                                         "Brokerage Account",
                                         "IRA",
                                         "529 Plan",
                                         "Credit Card",
                                         "Mortgage",
                                         "HELOC",
                                         "Auto Loan",
                                         "Student Loan",
                                         "Personal Loan",
                                         "Wealth Advisory",
                                         NULL};
static const char *const k_interests[] = {"Retirement Planning",
                                          "Education Savings",
                                          "Home Buying",
                                          "Travel",
                                          "Wealth Management",
                                          "Investing",
                                          "Tax Planning",
                                          "Estate Planning",
                                          "Small Business",
                                          "Debt Consolidation",
                                          "Budgeting",
                                          "Auto Purchase",
                                          "Insurance",
                                          "Charitable Giving",
                                          NULL};
static const char *const k_events[] = {"New Baby",      "Child Starting College",
                                       "Marriage",      "Divorce",
                                       "Home Purchase", "Graduation",
                                       "New Job",       "Promotion",
                                       "Retirement",    "Relocation",
                                       "Inheritance",   NULL};

// ---------------------------------------------------------------------------------------------

static void test_header(void **state)
{
    (void)state;
    size_t n = bankgen_n_columns();
    assert_true(n >= 28 && n <= 40); // "about 30 columns"
    assert_null(bankgen_column_name(n));
    size_t len = 0;
    char *csv = generate_all(0, 1, &len);
    const char *nl = strchr(csv, '\n');
    assert_non_null(nl);
    assert_int_equal((size_t)(nl - csv) + 1, len); // rows = 0: the header only
    struct row *r = malloc(sizeof *r);
    split(csv, (size_t)(nl - csv), r);
    assert_int_equal(r->n, (int)n);
    for (int i = 0; i < r->n; i++) {
        assert_string_equal(r->f[i], bankgen_column_name((size_t)i));
        for (const char *c = r->f[i]; *c; c++) { // snake_case, so labels humanise
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
        }
    }
    assert_string_equal(r->f[0], "customer_id");
    free(r);
    px_free(csv);
}

static void test_deterministic(void **state)
{
    (void)state;
    size_t la = 0, lb = 0, lc = 0;
    char *a = generate_all(2000, 7, &la);
    char *b = generate_all(2000, 7, &lb);
    char *c = generate_all(2000, 8, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_true(la != lc || memcmp(a, c, la) != 0);
    // Rows of different seeds differ almost everywhere, not just somewhere.
    const char *pa = strchr(a, '\n') + 1, *pc = strchr(c, '\n') + 1;
    int same = 0;
    for (int i = 0; i < 2000; i++) {
        const char *ea = strchr(pa, '\n'), *ec = strchr(pc, '\n');
        same += ea - pa == ec - pc && memcmp(pa, pc, (size_t)(ea - pa)) == 0;
        pa = ea + 1;
        pc = ec + 1;
    }
    assert_true(same == 0);

    // Random access gives the same row as the cursor.
    struct bankgen_params p = bankgen_default_params();
    p.rows = 2000;
    p.seed = 7;
    struct bankgen *g = NULL;
    struct buf line;
    buf_init(&line, LIMIT_GENERATE_ROW_BYTES);
    assert_int_equal(bankgen_new(&p, &g, NULL), PX_OK);
    const uint64_t probe[] = {1999, 0, 1234};
    for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
        buf_reset(&line);
        assert_int_equal(bankgen_row(g, probe[k], &line, NULL), PX_OK);
        const char *s = a;
        for (uint64_t i = 0; i <= probe[k]; i++) { // skip the header and probe[k] rows
            s = strchr(s, '\n') + 1;
        }
        assert_memory_equal(s, line.data, line.len);
    }
    buf_free(&line);
    bankgen_free(g);
    px_free(a);
    px_free(b);
    px_free(c);
}

static bool valid_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
        return false;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return y >= 1945 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] &&
           !(m == 2 && d == 29 && !leap) && strcmp(s, "2025-06-30") <= 0;
}

// Per-row statistics collected by test_rows for the correlation checks.
struct stats {
    double income_by_seg[4], assets_by_seg[4];
    int n_seg[4];
    double sx, sy, sxx, syy, sxy; // credit score (x) vs utilisation (y)
    int n;
    double age_retired, age_other;
    int n_retired, n_other;
    int rp_over55, n_over55, rp_under55, n_under55;
    int edu_parents, n_parents, edu_others, n_others;
    int digital_young, n_young, digital_old, n_old;
};

static int segment_index(const char *s)
{
    static const char *const names[] = {"Mass", "Mass Affluent", "Affluent", "Private"};
    for (int k = 0; k < 4; k++) {
        if (strcmp(s, names[k]) == 0) {
            return k;
        }
    }
    fail_msg("unknown segment '%s'", s);
    return -1;
}

static void test_rows(void **state)
{
    (void)state;
    const uint64_t n_rows = 5000;
    size_t len = 0;
    char *csv = generate_all(n_rows, 42, &len);
    const int n_cols = (int)bankgen_n_columns();
    const int c_id = col("customer_id"), c_age = col("age"), c_dep = col("dependents"),
              c_college = col("children_in_college"), c_emp = col("employment_status"),
              c_score = col("credit_score"), c_seg = col("segment"),
              c_since = col("customer_since"), c_tenure = col("tenure_years"),
              c_util = col("credit_utilization"), c_dti = col("debt_to_income"),
              c_eq = col("equity_allocation"), c_products = col("products_held"),
              c_digital = col("digital_user"), c_logins = col("monthly_logins"),
              c_interests = col("interests"), c_events = col("life_events"),
              c_housing = col("housing_status"), c_card = col("credit_card_tier");
    static const char *const money_cols[] = {
        "annual_income",      "checking_balance", "savings_balance",   "investment_balance",
        "retirement_balance", "mortgage_balance", "auto_loan_balance", "student_loan_balance"};
    // Products that mirror a balance column.
    static const struct {
        const char *product, *balance;
    } mirror[] = {{"Checking", "checking_balance"},
                  {"Savings", "savings_balance"},
                  {"Brokerage Account", "investment_balance"},
                  {"IRA", "retirement_balance"},
                  {"Mortgage", "mortgage_balance"},
                  {"Auto Loan", "auto_loan_balance"},
                  {"Student Loan", "student_loan_balance"}};

    struct row *r = malloc(sizeof *r);
    struct stats s;
    memset(&s, 0, sizeof s);
    const char *p = strchr(csv, '\n') + 1;
    for (uint64_t i = 0; i < n_rows; i++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        split(p, (size_t)(nl - p), r);
        if (r->n != n_cols) {
            fail_msg("row %llu: %d fields, want %d", (unsigned long long)i, r->n, n_cols);
        }
        // ids: CUST- and 6 digits, in order, hence unique
        char want[32];
        snprintf(want, sizeof want, "CUST-%06llu", (unsigned long long)i + 1);
        assert_string_equal(r->f[c_id], want);

        int age = integer(r->f[c_age], 18, 95);
        int dep = integer(r->f[c_dep], 0, 10);
        int college = integer(r->f[c_college], 0, dep);
        int score = integer(r->f[c_score], 300, 850);
        int util = percent(r->f[c_util]);
        percent(r->f[c_dti]);
        percent(r->f[c_eq]);
        assert_true(college == 0 || age >= 40); // parents have children from 22 on
        int tenure = integer(r->f[c_tenure], 0, 40);
        assert_true(tenure <= age - 18);
        if (!valid_date(r->f[c_since])) {
            fail_msg("row %llu: customer_since '%s'", (unsigned long long)i, r->f[c_since]);
        }
        double bal[sizeof money_cols / sizeof money_cols[0]];
        for (size_t k = 0; k < sizeof money_cols / sizeof money_cols[0]; k++) {
            bal[k] = money(r->f[col(money_cols[k])]);
        }
        double income = bal[0];
        double assets = bal[1] + bal[2] + bal[3] + bal[4];
        assert_true(strcmp(r->f[c_digital], "Yes") == 0 || strcmp(r->f[c_digital], "No") == 0);
        bool digital = r->f[c_digital][0] == 'Y';
        int logins = integer(r->f[c_logins], 0, 1000);
        assert_true(digital == (logins > 0));

        // lists: known items, fixed order, no duplicates; products and interests never empty
        check_list(r->f[c_products], k_products, false);
        check_list(r->f[c_interests], k_interests, false);
        check_list(r->f[c_events], k_events, true);
        for (size_t k = 0; k < sizeof mirror / sizeof mirror[0]; k++) {
            bool held = has_item(r->f[c_products], mirror[k].product);
            bool positive = money(r->f[col(mirror[k].balance)]) > 0;
            if (held != positive) {
                fail_msg("row %llu: product %s %s but %s is %s", (unsigned long long)i,
                         mirror[k].product, held ? "held" : "not held", mirror[k].balance,
                         r->f[col(mirror[k].balance)]);
            }
        }
        assert_true(has_item(r->f[c_products], "Credit Card") ==
                    (strcmp(r->f[c_card], "None") != 0));
        if (has_item(r->f[c_products], "Mortgage")) {
            assert_string_equal(r->f[c_housing], "Own with Mortgage");
        }

        // statistics for test_correlations' claims (computed here to parse only once)
        int seg = segment_index(r->f[c_seg]);
        s.income_by_seg[seg] += income;
        s.assets_by_seg[seg] += assets;
        s.n_seg[seg]++;
        s.sx += score;
        s.sy += util;
        s.sxx += (double)score * score;
        s.syy += (double)util * util;
        s.sxy += (double)score * util;
        s.n++;
        if (strcmp(r->f[c_emp], "Retired") == 0) {
            s.age_retired += age;
            s.n_retired++;
        } else {
            s.age_other += age;
            s.n_other++;
        }
        bool rp = has_item(r->f[c_interests], "Retirement Planning");
        if (age > 55) {
            s.rp_over55 += rp;
            s.n_over55++;
        } else {
            s.rp_under55 += rp;
            s.n_under55++;
        }
        bool edu = has_item(r->f[c_interests], "Education Savings");
        if (dep > 0) {
            s.edu_parents += edu;
            s.n_parents++;
        } else {
            s.edu_others += edu;
            s.n_others++;
        }
        if (age < 35) {
            s.digital_young += digital;
            s.n_young++;
        } else if (age >= 70) {
            s.digital_old += digital;
            s.n_old++;
        }
        p = nl + 1;
    }
    assert_int_equal((size_t)(p - csv), len); // nothing after the last row

    // ---- correlations, margins well inside what 5,000 rows give (observed values in () ) ----
    // Every segment occurs, and assets rise with the segment (segments are asset bands).
    for (int k = 0; k < 4; k++) {
        assert_true(s.n_seg[k] >= 50); // (Private ~3%: ~150 rows)
    }
    for (int k = 1; k < 4; k++) {
        assert_true(s.assets_by_seg[k] / s.n_seg[k] > s.assets_by_seg[k - 1] / s.n_seg[k - 1]);
    }
    // Private customers earn far more than Mass ones: at least 2x (~3x).
    double inc_mass = s.income_by_seg[0] / s.n_seg[0],
           inc_private = s.income_by_seg[3] / s.n_seg[3];
    print_message("mean income: Mass %.0f, Private %.0f\n", inc_mass, inc_private);
    assert_true(inc_private > 2.0 * inc_mass);
    // Credit score falls with utilisation: Pearson r < -0.5 (~ -0.77).
    double cov = s.sxy / s.n - (s.sx / s.n) * (s.sy / s.n);
    double vx = s.sxx / s.n - (s.sx / s.n) * (s.sx / s.n);
    double vy = s.syy / s.n - (s.sy / s.n) * (s.sy / s.n);
    double corr = cov / sqrt(vx * vy);
    print_message("corr(credit_score, credit_utilization) = %.3f\n", corr);
    assert_true(corr < -0.5);
    // Retirees are older: by at least 20 years on average (~31).
    double age_ret = s.age_retired / s.n_retired, age_oth = s.age_other / s.n_other;
    print_message("mean age: retired %.1f, others %.1f\n", age_ret, age_oth);
    assert_true(s.n_retired > 0 && age_ret > age_oth + 20);
    // "Retirement Planning" is more common over 55: by at least 15 points (~51% vs ~22%).
    double rp_o = (double)s.rp_over55 / s.n_over55, rp_u = (double)s.rp_under55 / s.n_under55;
    print_message("retirement planning: over 55 %.2f, 55 and under %.2f\n", rp_o, rp_u);
    assert_true(rp_o > rp_u + 0.15);
    // "Education Savings" goes with dependents: 3x as common (~0.5 vs ~0.03).
    double ed_p = (double)s.edu_parents / s.n_parents, ed_o = (double)s.edu_others / s.n_others;
    assert_true(ed_p > 3 * ed_o);
    // Digital use falls with age: under 35 at least 25 points above 70+ (~93% vs ~40%).
    assert_true((double)s.digital_young / s.n_young > (double)s.digital_old / s.n_old + 0.25);
    free(r);
    px_free(csv);
}

// Customer ids widen past 999,999 rows so they stay unique and sort as text.
static void test_id_width(void **state)
{
    (void)state;
    struct bankgen_params p = bankgen_default_params();
    p.rows = 1000000;
    struct bankgen *g = NULL;
    struct buf line;
    buf_init(&line, LIMIT_GENERATE_ROW_BYTES);
    assert_int_equal(bankgen_new(&p, &g, NULL), PX_OK);
    assert_int_equal(bankgen_row(g, 999999, &line, NULL), PX_OK);
    assert_memory_equal(line.data, "CUST-1000000,", 13);
    buf_reset(&line);
    assert_int_equal(bankgen_row(g, 0, &line, NULL), PX_OK);
    assert_memory_equal(line.data, "CUST-0000001,", 13);
    buf_free(&line);
    bankgen_free(g);
}

static void test_limits(void **state)
{
    (void)state;
    struct px_err err = {0};
    struct bankgen *g = NULL;
    struct bankgen_params p = bankgen_default_params();
    assert_int_equal(p.rows, 1000);
    p.rows = LIMIT_GENERATE_ROWS + 1;
    assert_int_equal(bankgen_new(&p, &g, &err), PX_ELIMIT);
    assert_null(g);
    assert_non_null(strstr(err.msg, "LIMIT_GENERATE_ROWS"));

    p.rows = 2;
    assert_int_equal(bankgen_new(&p, &g, &err), PX_OK);
    struct buf line;
    buf_init(&line, 16); // too small for a row
    assert_int_equal(bankgen_row(g, 0, &line, &err), PX_ELIMIT);
    assert_int_equal(line.len, 0);
    assert_int_equal(bankgen_next_row(g, &line, &err), PX_ELIMIT);
    assert_int_equal(bankgen_rows_done(g), 0); // a failed row does not advance the cursor
    line.max = LIMIT_GENERATE_ROW_BYTES;
    assert_int_equal(bankgen_next_row(g, &line, &err), PX_OK);
    assert_int_equal(bankgen_next_row(g, &line, &err), PX_OK);
    assert_false(bankgen_has_next(g));
    assert_int_equal(bankgen_next_row(g, &line, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "row 2"));
    assert_int_equal(bankgen_row(g, 5, &line, &err), PX_EINVAL);
    buf_free(&line);
    bankgen_free(g);
    bankgen_free(NULL);
}

struct alloc_case {
    struct bankgen *g;
    struct buf line;
};

static int alloc_open(void *user, struct px_err *err)
{
    struct alloc_case *ac = user;
    struct bankgen_params p = bankgen_default_params();
    p.rows = 3;
    buf_init(&ac->line, LIMIT_GENERATE_ROW_BYTES * 4);
    int rc = bankgen_new(&p, &ac->g, err);
    if (rc == PX_OK) {
        rc = bankgen_header(ac->g, &ac->line, err);
    }
    while (rc == PX_OK && bankgen_has_next(ac->g)) {
        rc = bankgen_next_row(ac->g, &ac->line, err);
    }
    return rc;
}

static void alloc_release(void *user)
{
    struct alloc_case *ac = user;
    bankgen_free(ac->g);
    ac->g = NULL;
    buf_free(&ac->line);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct alloc_case ac = {0};
    long points = tu_check_alloc_failures(alloc_open, alloc_release, &ac);
    assert_true(points >= 2); // the generator itself and the line buffer
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_rows),   cmocka_unit_test(test_id_width),
        cmocka_unit_test(test_limits), cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
