// test_query.c — query understanding, table-driven on two unrelated schemas (a retail bank
// table and the Thera Bank personal-loan table) to show that nothing is tied to one set of
// column names. Each case lists the expected filters and boosts in a compact form
// ("column op value; ..."), the semantic text and the conflict count; a failing case prints its
// index, the query, what was parsed and the plan's JSON.
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "assets.h"

#include <cJSON.h>

#include "mem.h"
#include "query.h"

// ---- fixtures ----

static struct query_lexicon *g_lex;
static struct query_schema *g_retail, *g_thera;

// The lexicon the binary uses: data/lexicon.json, compiled in (src/app/assets.h).
static void read_lexicon_text(char **text, size_t *len)
{
    *text = (char *)px_asset_lexicon;
    *len = px_asset_lexicon_len;
}

#define ADD(call) assert_int_equal((call), PX_OK)

static struct query_schema *make_retail(void)
{
    struct query_schema *s = NULL;
    ADD(query_schema_new(&s, NULL));
    static const double q_age[] = {18, 32, 45, 58, 90};
    static const double q_income[] = {12000, 45000, 72000, 120000, 2500000};
    static const double q_credit[] = {300, 640, 700, 760, 850};
    static const double q_kids[] = {0, 0, 0, 1, 4};
    static const double q_util[] = {0, 0.1, 0.25, 0.45, 1.0}; // stored as a fraction
    static const char *const gender[] = {"Male", "Female", "Non-binary"};
    static const char *const marital[] = {"Single", "Married", "Divorced", "Widowed"};
    static const char *const segment[] = {"Mass", "Mass Affluent", "Affluent", "Private"};
    static const char *const occupation[] = {"Engineer", "Teacher", "Doctor", "Lawyer", "Retired",
                                             "Student", "Nurse", "Business Owner"};
    static const char *const products[] = {"Checking",    "Savings",  "Brokerage Account",
                                           "Credit Card", "Mortgage", "Auto Loan",
                                           "Student Loan"};
    static const char *const interests[] = {"Retirement Planning", "Wealth Management",
                                            "Education Savings",   "Investment Products",
                                            "Travel",              "Home Buying"};
    ADD(query_schema_add_other(s, "customer_id", "Customer ID", QUERY_COL_ID, NULL));
    ADD(query_schema_add_numeric(s, "age", NULL, QUERY_UNIT_NONE, 1, q_age, 5, NULL));
    ADD(query_schema_add_category(s, "gender", NULL, gender, 3, false, NULL));
    ADD(query_schema_add_category(s, "marital_status", NULL, marital, 4, false, NULL));
    ADD(query_schema_add_numeric(s, "annual_income", NULL, QUERY_UNIT_CURRENCY, 1, q_income, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "credit_score", NULL, QUERY_UNIT_NONE, 1, q_credit, 5, NULL));
    ADD(query_schema_add_category(s, "segment", NULL, segment, 4, false, NULL));
    ADD(query_schema_add_category(s, "occupation", NULL, occupation, 8, false, NULL));
    ADD(query_schema_add_category(s, "products_held", NULL, products, 7, true, NULL));
    ADD(query_schema_add_category(s, "interests", NULL, interests, 6, true, NULL));
    ADD(query_schema_add_numeric(s, "children_in_college", NULL, QUERY_UNIT_NONE, 1, q_kids, 5,
                                 NULL));
    ADD(query_schema_add_bool(s, "digital_user", NULL, NULL));
    ADD(query_schema_add_numeric(s, "credit_utilization", NULL, QUERY_UNIT_PERCENT, 100, q_util,
                                 5, NULL));
    return s;
}

// The UCI / Kaggle "Thera Bank" personal-loan table: other names, amounts in $000, 0/1 flags.
static struct query_schema *make_thera(void)
{
    struct query_schema *s = NULL;
    ADD(query_schema_new(&s, NULL));
    static const double q_age[] = {23, 35, 45, 55, 67};
    static const double q_exp[] = {-3, 10, 20, 30, 43};
    static const double q_income[] = {8, 39, 64, 98, 224};
    static const double q_family[] = {1, 1, 2, 3, 4};
    static const double q_cc[] = {0, 0.7, 1.5, 2.5, 10};
    static const double q_mort[] = {0, 0, 0, 101, 635};
    static const char *const edu[] = {"1", "2", "3"};
    ADD(query_schema_add_other(s, "ID", NULL, QUERY_COL_ID, NULL));
    ADD(query_schema_add_numeric(s, "Age", NULL, QUERY_UNIT_NONE, 1, q_age, 5, NULL));
    ADD(query_schema_add_numeric(s, "Experience", NULL, QUERY_UNIT_NONE, 1, q_exp, 5, NULL));
    ADD(query_schema_add_numeric(s, "Income", "Income (in $000)", QUERY_UNIT_CURRENCY, 1000,
                                 q_income, 5, NULL));
    ADD(query_schema_add_other(s, "ZIP Code", NULL, QUERY_COL_ID, NULL));
    ADD(query_schema_add_numeric(s, "Family", NULL, QUERY_UNIT_NONE, 1, q_family, 5, NULL));
    ADD(query_schema_add_numeric(s, "CCAvg", "Credit card average spending ($000/month)",
                                 QUERY_UNIT_CURRENCY, 1000, q_cc, 5, NULL));
    ADD(query_schema_add_category(s, "Education", NULL, edu, 3, false, NULL));
    ADD(query_schema_add_numeric(s, "Mortgage", NULL, QUERY_UNIT_CURRENCY, 1000, q_mort, 5,
                                 NULL));
    ADD(query_schema_add_bool(s, "Personal Loan", NULL, NULL));
    ADD(query_schema_add_bool(s, "Securities Account", NULL, NULL));
    ADD(query_schema_add_bool(s, "CD Account", NULL, NULL));
    ADD(query_schema_add_bool(s, "Online", NULL, NULL));
    ADD(query_schema_add_bool(s, "CreditCard", "Credit card", NULL));
    return s;
}

static int setup(void **state)
{
    (void)state;
    char *text;
    size_t len;
    read_lexicon_text(&text, &len);
    struct px_err err = {0};
    if (query_lexicon_parse(text, len, &g_lex, &err) != PX_OK) {
        fail_msg("default lexicon: %s", err.msg);
    }
    g_retail = make_retail();
    g_thera = make_thera();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    query_lexicon_free(g_lex);
    query_schema_free(g_retail);
    query_schema_free(g_thera);
    g_lex = NULL, g_retail = g_thera = NULL;
    return 0;
}

// ---- compact rendering of a plan ----

static void put_num(char *out, size_t n, double v)
{
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%.10g", v);
}

static void cat(char *out, size_t n, const char *s)
{
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%s", s);
}

// "col op value; ..." — value: number, lo..hi, string, a|b, nothing for is_true/is_false.
static void render(const struct query_plan *p, const struct query_schema *s, int boosts,
                   char *out, size_t n)
{
    out[0] = '\0';
    size_t count = boosts ? p->n_boosts : p->n_filters;
    for (size_t i = 0; i < count; i++) {
        size_t col;
        enum query_op op;
        double lo, hi;
        const char *const *values;
        size_t n_values;
        const char *one;
        if (boosts) {
            const struct query_boost *b = &p->boosts[i];
            col = b->i_col, op = b->op, lo = b->lo, hi = b->hi;
            one = b->value;
            values = &one;
            n_values = one != NULL;
        } else {
            const struct query_filter *f = &p->filters[i];
            col = f->i_col, op = f->op, lo = f->lo, hi = f->hi;
            values = f->values;
            n_values = f->n_values;
        }
        if (i > 0) {
            cat(out, n, "; ");
        }
        cat(out, n, query_schema_column_name(s, col));
        cat(out, n, " ");
        cat(out, n, query_op_name(op));
        if (op == QUERY_OP_IS_TRUE || op == QUERY_OP_IS_FALSE) {
            continue;
        }
        cat(out, n, " ");
        if (n_values > 0) {
            for (size_t k = 0; k < n_values; k++) {
                cat(out, n, k ? "|" : "");
                cat(out, n, values[k]);
            }
        } else if (op == QUERY_OP_BETWEEN) {
            put_num(out, n, lo);
            cat(out, n, "..");
            put_num(out, n, hi);
        } else {
            put_num(out, n, lo);
        }
    }
}

static char *plan_json(const struct query_plan *p, const struct query_schema *s, const char *q)
{
    static char out[16384];
    struct buf b;
    buf_init(&b, sizeof out - 1);
    assert_int_equal(query_plan_to_json(p, s, q, strlen(q), &b, NULL), PX_OK);
    snprintf(out, sizeof out, "%s", b.data);
    // the members written in place into a larger object are the same bytes, braces aside
    buf_reset(&b);
    assert_int_equal(buf_append(&b, "{", 1, NULL), PX_OK);
    assert_int_equal(query_plan_put_members(p, s, q, strlen(q), &b, NULL), PX_OK);
    assert_int_equal(buf_append(&b, "}", 1, NULL), PX_OK);
    assert_string_equal(b.data, out);
    buf_free(&b);
    return out;
}

// Checks the invariants every plan must hold, then parses its JSON back with cJSON.
static void check_plan(const struct query_plan *p, const struct query_schema *s, const char *q)
{
    size_t len = strlen(q);
    for (size_t i = 0; i < p->n_filters; i++) {
        assert_true(p->filters[i].i_col < query_schema_n_columns(s));
        assert_true(p->filters[i].span.off + p->filters[i].span.len <= len);
        assert_true(p->filters[i].span.len > 0);
    }
    for (size_t i = 0; i < p->n_boosts; i++) {
        assert_true(p->boosts[i].i_col < query_schema_n_columns(s));
        assert_true(p->boosts[i].span.off + p->boosts[i].span.len <= len);
        assert_true(p->boosts[i].weight > 0);
    }
    assert_non_null(p->semantic_text);
    assert_int_equal(strlen(p->semantic_text), p->semantic_len);
    const char *json = plan_json(p, s, q);
    cJSON *j = cJSON_Parse(json);
    if (j == NULL) {
        fail_msg("plan JSON does not parse: %s", json);
    }
    assert_non_null(cJSON_GetObjectItem(j, "filters"));
    assert_non_null(cJSON_GetObjectItem(j, "boosts"));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "semantic_text")));
    cJSON_Delete(j);
}

struct qcase {
    const char *query;
    const char *filters;  // compact form, "" = none
    const char *boosts;   // compact form, "" = none
    const char *semantic; // exact semantic text; NULL: not checked
    int n_conflicts;
};

static void run_cases(const struct query_schema *s, const struct qcase *cases, size_t n,
                      const char *table)
{
    for (size_t i = 0; i < n; i++) {
        const struct qcase *c = &cases[i];
        struct query_plan *p = NULL;
        struct px_err err = {0};
        int rc = query_parse(s, g_lex, c->query, strlen(c->query), &p, &err);
        if (rc != PX_OK) {
            fail_msg("%s case %zu \"%s\": status %d (%s)", table, i, c->query, rc, err.msg);
        }
        check_plan(p, s, c->query);
        char f[2048], b[2048];
        render(p, s, 0, f, sizeof f);
        render(p, s, 1, b, sizeof b);
        int ok = strcmp(f, c->filters) == 0 && strcmp(b, c->boosts) == 0 &&
                 (c->semantic == NULL || strcmp(p->semantic_text, c->semantic) == 0) &&
                 p->n_conflicts == (size_t)c->n_conflicts;
        if (!ok) {
            print_error("%s case %zu \"%s\"\n  filters  got \"%s\"\n           want \"%s\"\n"
                        "  boosts   got \"%s\"\n           want \"%s\"\n"
                        "  semantic got \"%s\"\n           want \"%s\"\n  conflicts got %zu want %d\n"
                        "  plan %s\n",
                        table, i, c->query, f, c->filters, b, c->boosts, p->semantic_text,
                        c->semantic ? c->semantic : "(any)", p->n_conflicts, c->n_conflicts,
                        plan_json(p, s, c->query));
            query_plan_free(p);
            fail_msg("%s case %zu failed", table, i);
        }
        query_plan_free(p);
    }
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

// ---- the four seed queries from the issue ----

static void test_seed_queries(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        {"Find high-income professionals nearing retirement who might be interested in wealth "
         "management services",
         "", "annual_income ge 120000; age between 55..67; interests contains Wealth Management",
         "professionals wealth management services", 0},
        {"Young professionals with good credit scores who might qualify for premium credit cards",
         "", "age le 32; credit_score ge 724; products_held contains Credit Card",
         "professionals qualify premium credit cards", 0},
        {"Customers with credit score over 750 interested in investment products",
         "credit_score gt 750", "interests contains Investment Products", "investment products",
         0},
        {"affluent customers with children in college who might need education loans",
         "children_in_college gt 0", "annual_income ge 120000", "need education loans", 0},
    };
    run_cases(g_retail, cases, N_OF(cases), "seed");
}

// ---- retail table, one group per parsing form ----

static void test_numeric(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        // comparators with a named column
        {"credit score of at least 700", "credit_score ge 700", "", "", 0},
        {"income above $100k", "annual_income gt 100000", "", "", 0},
        {"annual income more than 100,000", "annual_income gt 100000", "", "", 0},
        {"income over 1.2M", "annual_income gt 1200000", "", "", 0},
        {"Credit Score > 700", "credit_score gt 700", "", "", 0},
        {"credit utilization under 30%", "credit_utilization lt 0.3", "", "", 0},
        {"utilization below 85%", "credit_utilization lt 0.85", "", "", 0},
        // ranges
        {"annual income between 50,000 and 80,000", "annual_income between 50000..80000", "",
         "", 0},
        {"customers from 30 to 40", "age between 30..40", "", "", 0},
        {"customers aged 30-40", "age between 30..40", "", "", 0},
        {"$50k-$100k income", "annual_income between 50000..100000", "", "", 0},
        // after-comparators and N+
        {"credit score 750 or more", "credit_score ge 750", "", "", 0},
        {"65+ customers", "age ge 65", "", "", 0},
        {"2+ children in college", "children_in_college ge 2", "", "", 0},
        {"people aged 60 or older", "age ge 60", "", "", 0},
        // decades
        {"customers in their 30s", "age between 30..39", "", "", 0},
        {"clients in their forties", "age between 40..49", "", "", 0},
        {"engineers in their 50's", "occupation eq Engineer; age between 50..59", "", "", 0},
        // bare people constraints mean age
        {"customers over 65", "age gt 65", "", "", 0},
        {"under 30", "age lt 30", "", "", 0},
        {"older than 60", "age gt 60", "", "", 0},
        // the column named after the number; bare N next to a column
        {"over $100k in income", "annual_income gt 100000", "", "", 0},
        {"customers 45 years old", "age eq 45", "", "", 0},
        {"credit score 720", "credit_score eq 720", "", "", 0},
        // continuation, and its range check
        {"credit score over 750 and under 800", "credit_score gt 750; credit_score lt 800", "",
         "", 0},
        {"credit score over 750 and under 30", "credit_score gt 750; age lt 30", "", "", 0},
        // unbound numbers stay semantic
        {"more than 3 products", "", "", "more than 3 products", 0},
        {"top 10 prospects", "", "", "top 10", 0},
        // negated comparison
        {"customers not over 50", "age le 50", "", "", 0},
    };
    run_cases(g_retail, cases, N_OF(cases), "numeric");
}

static void test_categorical(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        {"customers in the Private segment", "segment eq Private", "", "", 0},
        {"Mass Affluent customers", "segment eq Mass Affluent", "", "", 0},
        {"segment is Private", "segment eq Private", "", "", 0},
        {"married engineers", "marital_status eq Married; occupation eq Engineer", "", "", 0},
        {"female doctors over 40", "gender eq Female; occupation eq Doctor; age gt 40", "", "", 0},
        {"teachers or nurses", "occupation in Teacher|Nurse", "", "", 0},
        {"retired widowed clients", "occupation eq Retired; marital_status eq Widowed", "", "",
         0},
    };
    run_cases(g_retail, cases, N_OF(cases), "categorical");
}

static void test_membership(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        {"has a brokerage account", "products_held contains Brokerage Account", "", "", 0},
        {"owns a credit card", "products_held contains Credit Card", "", "", 0},
        {"customers holding a mortgage and an auto loan",
         "products_held contains Mortgage; products_held contains Auto Loan", "", "", 0},
        {"with a mortgage or an auto loan", "products_held in Mortgage|Auto Loan", "", "", 0},
        // a mention without a verb is a boost, and stays in the semantic text
        {"interested in travel", "", "interests contains Travel", "travel", 0},
        {"who might want student loans", "", "products_held contains Student Loan",
         "student loans", 0},
    };
    run_cases(g_retail, cases, N_OF(cases), "membership");
}

static void test_booleans_and_negation(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        {"digital users", "digital_user is_true", "", "", 0},
        {"customers who are digital users", "digital_user is_true", "", "", 0},
        {"non-digital users", "digital_user is_false", "", "", 0},
        {"not digital users", "digital_user is_false", "", "", 0},
        {"without a mortgage", "products_held not_contains Mortgage", "", "", 0},
        {"no credit card", "products_held not_contains Credit Card", "", "", 0},
        {"not in the Private segment", "segment ne Private", "", "", 0},
        {"without a mortgage or a credit card", "products_held not_in Mortgage|Credit Card", "",
         "", 0},
        {"customers without a mortgage over 50",
         "products_held not_contains Mortgage; age gt 50", "", "", 0},
        {"customers who do not have a brokerage account",
         "products_held not_contains Brokerage Account", "", "", 0},
    };
    run_cases(g_retail, cases, N_OF(cases), "bool/negation");
}

static void test_soft(void **state)
{
    (void)state;
    // thresholds come from the made-up distributions: income q3 = 120000; credit q(0.6) = 724,
    // q(0.9) = 814, q(0.2) = 572; age q1 = 32, q3 = 58; utilization q1 = 0.1
    static const struct qcase cases[] = {
        {"wealthy customers", "", "annual_income ge 120000", "", 0},
        {"Affluent clients", "", "annual_income ge 120000", "", 0},
        {"high income", "", "annual_income ge 120000", "", 0},
        {"excellent credit", "", "credit_score ge 814", "", 0},
        {"good credit", "", "credit_score ge 724", "", 0},
        {"poor credit", "", "credit_score le 572", "", 0},
        {"young customers", "", "age le 32", "", 0},
        {"older customers", "", "age ge 58", "", 0},
        {"low credit utilization", "", "credit_utilization le 0.1", "", 0},
        {"customers approaching retirement", "", "age between 55..67", "", 0},
        // the segment value wins when named as a segment
        {"Affluent segment", "segment eq Affluent", "", "", 0},
    };
    run_cases(g_retail, cases, N_OF(cases), "soft");
}

static void test_conflicts(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        {"customers over 80 and under 20", "age gt 80; age lt 20", "", "", 1},
        {"digital users who are not digital users", "digital_user is_true; digital_user is_false",
         "", "", 1},
        {"with a mortgage and without a mortgage",
         "products_held contains Mortgage; products_held not_contains Mortgage", "", "", 1},
        {"married single customers", "marital_status eq Married; marital_status eq Single", "",
         "", 1},
        {"credit score between 600 and 700 and over 650",
         "credit_score between 600..700; credit_score gt 650", "", "", 0},
    };
    run_cases(g_retail, cases, N_OF(cases), "conflicts");
}

// ---- a different table: nothing above depends on the retail column names ----

static void test_thera(void **state)
{
    (void)state;
    static const struct qcase cases[] = {
        {"customers with income over $100k", "Income gt 100", "", "", 0},
        {"income over 100000", "Income gt 100", "", "", 0},
        {"income over 150", "Income gt 150", "", "", 0},
        // an amount that names no column is not read as income (no silent default)
        {"over $120k", "", "", "over $120k", 0},
        {"over $120k in income", "Income gt 120", "", "", 0},
        {"wealthy customers", "", "Income ge 98", "", 0},
        {"young customers", "", "Age le 35", "", 0},
        {"customers in their 40s", "Age between 40..49", "", "", 0},
        {"customers over 60", "Age gt 60", "", "", 0},
        {"more than 10 years of experience", "Experience gt 10", "", "", 0},
        {"family of 4", "Family eq 4", "", "", 0},
        {"education 3", "Education eq 3", "", "", 0},
        {"CCAvg over 2.5", "CCAvg gt 2.5", "", "", 0},
        {"customers with a CD account and no securities account",
         "CD Account is_true; Securities Account is_false", "", "", 0},
        {"online customers with a personal loan", "Online is_true; Personal Loan is_true", "", "",
         0},
        {"has a credit card", "CreditCard is_true", "", "", 0},
        {"no credit card", "CreditCard is_false", "", "", 0},
        {"without a mortgage", "Mortgage eq 0", "", "", 0},
        {"with a mortgage over $200k", "Mortgage gt 200", "", "", 0},
        // no credit-score column here: "good credit" stays semantic
        {"young professionals with good credit", "", "Age le 35", "professionals good credit", 0},
        // ... and "over 750" is no age (past twice the oldest customer): it stays unbound
        {"Customers with credit score over 750 interested in investment products", "",
         "", "credit score over 750 investment products", 0},
        {"customers over 65", "Age gt 65", "", "", 0},
    };
    run_cases(g_thera, cases, N_OF(cases), "thera");
}

// ---- JSON, errors, limits ----

static void test_json_exact(void **state)
{
    (void)state;
    const char *q = "customers over 65 with a \"brokerage account\"";
    struct query_plan *p = NULL;
    assert_int_equal(query_parse(g_retail, g_lex, q, strlen(q), &p, NULL), PX_OK);
    const char *json = plan_json(p, g_retail, q);
    const char *want =
        "{\"filters\":[{\"column\":\"age\",\"label\":\"Age\",\"op\":\"gt\",\"value\":65,"
        "\"span\":[10,7],\"text\":\"over 65\"},{\"column\":\"products_held\",\"label\":"
        "\"Products held\",\"op\":\"contains\",\"value\":\"Brokerage Account\",\"span\":[26,17],"
        "\"text\":\"brokerage account\"}],\"boosts\":[],\"semantic_text\":\"\",\"conflicts\":[],"
        "\"not_understood\":[],\"readings\":[{\"span\":[10,7],\"text\":\"over 65\",\"column\":"
        "\"age\",\"label\":\"Age\",\"reason\":\"no column named: a number about people is read "
        "as the people concept's column\",\"alternative\":null}]}";
    if (strcmp(json, want) != 0) {
        fail_msg("got  %s\nwant %s", json, want);
    }
    query_plan_free(p);

    q = "over 80 and under 20 \"quoted\\ text\"";
    assert_int_equal(query_parse(g_retail, g_lex, q, strlen(q), &p, NULL), PX_OK);
    json = plan_json(p, g_retail, q);
    assert_non_null(strstr(json, "\"semantic_text\":\"quoted text\""));
    assert_non_null(strstr(json, "\"conflicts\":[{\"filters\":[0,1],\"message\":"));
    assert_non_null(strstr(json, "cannot both hold"));
    query_plan_free(p);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len;
        int rc;
        const char *msg;
    } cases[] = {
        {"\xff", 1, PX_EUTF8, "byte 0"},
        {"customers \xc3", 11, PX_EUTF8, "byte 10"},
        {"over \xed\xa0\x80 65", 10, PX_EUTF8, "byte 5"}, // a surrogate
        {"\xc0\xaf", 2, PX_EUTF8, "byte 0"},             // overlong '/'
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        struct query_plan *p = (struct query_plan *)1;
        struct px_err err = {0};
        int rc = query_parse(g_retail, g_lex, cases[i].text, cases[i].len, &p, &err);
        if (rc != cases[i].rc || p != NULL || strstr(err.msg, cases[i].msg) == NULL) {
            fail_msg("case %zu: status %d, message \"%s\"", i, rc, err.msg);
        }
    }
    // length limit, and the most filters + boosts of one plan
    static char big[LIMIT_QUERY_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    struct query_plan *p = NULL;
    struct px_err err = {0};
    assert_int_equal(query_parse(g_retail, g_lex, big, LIMIT_QUERY_BYTES + 1, &p, &err),
                     PX_ELIMIT);
    assert_non_null(strstr(err.msg, "LIMIT_QUERY_BYTES"));
    big[0] = '\0';
    for (int i = 0; i <= LIMIT_QUERY_ITEMS; i++) {
        strcat(big, "digital users ");
    }
    assert_int_equal(query_parse(g_retail, g_lex, big, strlen(big), &p, &err), PX_ELIMIT);
    assert_non_null(strstr(err.msg, "LIMIT_QUERY_ITEMS"));
    assert_null(p);
    // empty and all-stopword queries are fine
    assert_int_equal(query_parse(g_retail, g_lex, "", 0, &p, &err), PX_OK);
    assert_int_equal(p->n_filters + p->n_boosts, 0);
    assert_string_equal(p->semantic_text, "");
    query_plan_free(p);
    // schema building errors
    struct query_schema *s = NULL;
    ADD(query_schema_new(&s, NULL));
    static const double bad_q[] = {5, 3};
    static const double ok_q[] = {1, 2};
    assert_int_equal(query_schema_add_numeric(s, "x", NULL, QUERY_UNIT_NONE, 1, bad_q, 2, &err),
                     PX_EINVAL);
    assert_int_equal(query_schema_add_numeric(s, "x", NULL, QUERY_UNIT_NONE, 0, ok_q, 2, &err),
                     PX_EINVAL);
    ADD(query_schema_add_numeric(s, "x", NULL, QUERY_UNIT_NONE, 1, ok_q, 2, &err));
    assert_int_equal(query_schema_add_bool(s, "x", NULL, &err), PX_EINVAL);
    assert_int_equal(query_schema_add_bool(s, "bad\xff", NULL, &err), PX_EINVAL);
    assert_int_equal(query_schema_add_other(s, "y", NULL, QUERY_COL_BOOL, &err), PX_EINVAL);
    assert_string_equal(query_schema_column_label(s, 0), "X");
    query_schema_free(s);
}

static void test_lexicon(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"[]", "must be a JSON object"},
        {"{\"stopword\": []}", "unknown key \"stopword\""},
        {"{\"version\": 2}", "version"},
        {"{\"soft\": [{\"words\": [\"x\"], \"concept\": \"age\", \"direction\": \"up\", "
         "\"quantile\": 0.5}]}", "direction"},
        {"{\"soft\": [{\"words\": [\"x\"], \"direction\": \"high\", \"quantile\": 0.5}]}",
         "concept"},
        {"{\"soft\": [{\"words\": [\"x\"], \"concept\": \"age\", \"direction\": \"high\", "
         "\"quantile\": 1.5}]}", "quantile"},
        {"{\"comparators\": [{\"words\": [\"over\"], \"op\": \"gte\"}]}", "op \"gte\""},
        {"{\"fillers\": [\"\"]}", "fillers[0]"},
        {"{\"fillers\": [1]}", "fillers[0] is not a string"},
        {"{\"decades\": {\"teens\": 13}}", "decades.\"teens\""},
        {"{\"soft\": [{\"words\": [\"x\"], \"concept\": \"age\", \"range\": [5, 1]}]}", "range"},
        {"{\"fillers\": [\"a\"]} x", "unexpected data"},
    };
    for (size_t i = 0; i < N_OF(bad); i++) {
        struct query_lexicon *lex = NULL;
        struct px_err err = {0};
        int rc = query_lexicon_parse(bad[i].json, strlen(bad[i].json), &lex, &err);
        if (rc == PX_OK || lex != NULL || strstr(err.msg, bad[i].msg) == NULL) {
            fail_msg("case %zu: status %d, message \"%s\"", i, rc, err.msg);
        }
    }
    // a user file merged over the defaults: re-weight "affluent", add a new soft word and alias
    char *text;
    size_t len;
    read_lexicon_text(&text, &len);
    struct query_lexicon *lex = NULL;
    ADD(query_lexicon_parse(text, len, &lex, NULL));
    char dir[512];
    tu_mkdtemp(dir, sizeof dir);
    tu_write_text(dir, "user.json",
                  "{\"soft\": [{\"words\": [\"affluent\", \"loaded\"], \"concept\": \"income\", "
                  "\"direction\": \"high\", \"quantile\": 0.9, \"weight\": 2}],"
                  " \"concepts\": {\"credit score\": [\"bureau score\"]}}");
    char path[1024];
    snprintf(path, sizeof path, "%s/user.json", dir);
    struct px_err err = {0};
    if (query_lexicon_load(lex, path, &err) != PX_OK) {
        fail_msg("load: %s", err.msg);
    }
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_not_equal(query_lexicon_load(lex, path, &err), PX_OK);
    tu_rmtree(dir);
    const char *q = "affluent or loaded customers with a bureau score over 700";
    struct query_plan *p = NULL;
    ADD(query_parse(g_retail, lex, q, strlen(q), &p, NULL));
    char f[512], b[512];
    render(p, g_retail, 0, f, sizeof f);
    render(p, g_retail, 1, b, sizeof b);
    // q(0.9) of {12000, 45000, 72000, 120000, 2500000} = 120000 + 0.6 * 2380000
    assert_string_equal(b, "annual_income ge 1548000; annual_income ge 1548000");
    assert_string_equal(f, "credit_score gt 700");
    assert_true(p->boosts[0].weight == 2);
    query_plan_free(p);
    query_lexicon_free(lex);
}

// ---- fault injection ----

static const char *k_fault_query =
    "Find affluent customers over 50 with a mortgage or an auto loan, not in the Private "
    "segment, credit score over 750 and under 700, digital users interested in travel";

static struct query_plan *g_fault_plan;

static int fault_parse(void *user, struct px_err *err)
{
    (void)user;
    return query_parse(g_retail, g_lex, k_fault_query, strlen(k_fault_query), &g_fault_plan,
                       err);
}

static void fault_parse_release(void *user)
{
    (void)user;
    query_plan_free(g_fault_plan);
    g_fault_plan = NULL;
}

static int fault_schema(void *user, struct px_err *err)
{
    (void)user;
    static const char *const v[] = {"Checking", "Brokerage Account", "Credit Card"};
    static const double q[] = {1, 2, 3};
    struct query_schema *s = NULL;
    int rc = query_schema_new(&s, err);
    if (rc == PX_OK) rc = query_schema_add_numeric(s, "age", NULL, QUERY_UNIT_NONE, 1, q, 3, err);
    if (rc == PX_OK) rc = query_schema_add_category(s, "products", NULL, v, 3, true, err);
    if (rc == PX_OK) rc = query_schema_add_bool(s, "digital_user", "Digital user", err);
    if (rc == PX_OK) rc = query_schema_add_other(s, "id", NULL, QUERY_COL_ID, err);
    query_schema_free(s);
    return rc;
}

static struct query_lexicon *g_fault_lex;

static int fault_lexicon(void *user, struct px_err *err)
{
    (void)user;
    char *text;
    size_t len;
    read_lexicon_text(&text, &len);
    return query_lexicon_parse(text, len, &g_fault_lex, err);
}

static void fault_lexicon_release(void *user)
{
    (void)user;
    query_lexicon_free(g_fault_lex);
    g_fault_lex = NULL;
}

static void nothing(void *user) { (void)user; }

static void test_alloc_failures(void **state)
{
    (void)state;
    long n = tu_check_alloc_failures(fault_parse, fault_parse_release, NULL);
    assert_true(n >= 5);
    assert_true(tu_check_alloc_failures(fault_schema, nothing, NULL) >= 5);
    assert_true(tu_check_alloc_failures(fault_lexicon, fault_lexicon_release, NULL) >= 50);
    // the fault query itself parses as documented
    struct query_plan *p = NULL;
    ADD(fault_parse(NULL, NULL));
    p = g_fault_plan;
    g_fault_plan = NULL;
    char f[1024];
    render(p, g_retail, 0, f, sizeof f);
    assert_string_equal(f, "age gt 50; products_held in Mortgage|Auto Loan; segment ne Private; "
                           "credit_score gt 750; credit_score lt 700; digital_user is_true");
    assert_int_equal(p->n_conflicts, 1);
    query_plan_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_queries),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_booleans_and_negation),
        cmocka_unit_test(test_soft),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_thera),
        cmocka_unit_test(test_json_exact),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_lexicon),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
