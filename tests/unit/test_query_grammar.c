// test_query_grammar.c — the grammar of issue 11 (numbers find their column, units read off
// the data, negation scope, lists, not-understood spans and readings), each rule on at least
// two hand-built schemas that share no column names: a retail bank, a wholesale book and a
// credit union. Cases use test_query.c's compact form ("column op value; ...").
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "assets.h"

#include <cJSON.h>

#include "mem.h"
#include "query.h"

static struct query_lexicon *g_lex;
static struct query_schema *g_bank, *g_whole, *g_cu;

#define ADD(call) assert_int_equal((call), PX_OK)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static struct query_schema *make_bank(void)
{
    struct query_schema *s = NULL;
    ADD(query_schema_new(&s, NULL));
    static const double q_age[] = {18, 32, 45, 58, 90};
    static const double q_income[] = {12000, 45000, 72000, 120000, 2500000};
    static const double q_sav[] = {0, 2000, 15000, 60000, 3000000};
    static const double q_inv[] = {0, 0, 10000, 90000, 5000000};
    static const double q_mort[] = {0, 0, 0, 150000, 900000};
    static const double q_ten[] = {0, 3, 8, 14, 40};
    static const double q_credit[] = {300, 640, 700, 760, 850};
    static const char *const marital[] = {"Single", "Married", "Divorced", "Widowed"};
    static const char *const occupation[] = {"Engineer", "Teacher", "Physician", "Attorney",
                                             "Nurse", "Student"};
    static const char *const products[] = {"Checking", "Savings", "Mortgage", "Credit Card",
                                           "Brokerage Account"};
    static const char *const interests[] = {"Travel", "Retirement Planning", "Home Buying"};
    static const char *const state[] = {"TX", "IN", "OR", "CA"};
    ADD(query_schema_add_other(s, "customer_id", "Customer ID", QUERY_COL_ID, NULL));
    ADD(query_schema_add_numeric(s, "age", NULL, QUERY_UNIT_NONE, 1, q_age, 5, NULL));
    ADD(query_schema_add_category(s, "marital_status", NULL, marital, 4, false, NULL));
    ADD(query_schema_add_category(s, "occupation", NULL, occupation, 6, false, NULL));
    ADD(query_schema_add_category(s, "state", NULL, state, 4, false, NULL));
    ADD(query_schema_add_numeric(s, "annual_income", NULL, QUERY_UNIT_CURRENCY, 1, q_income, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "savings_balance", NULL, QUERY_UNIT_CURRENCY, 1, q_sav, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "investment_balance", NULL, QUERY_UNIT_CURRENCY, 1, q_inv,
                                 5, NULL));
    ADD(query_schema_add_numeric(s, "mortgage_balance", NULL, QUERY_UNIT_CURRENCY, 1, q_mort, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "tenure_years", "Tenure (years)", QUERY_UNIT_NONE, 1, q_ten,
                                 5, NULL));
    ADD(query_schema_add_numeric(s, "credit_score", NULL, QUERY_UNIT_NONE, 1, q_credit, 5, NULL));
    ADD(query_schema_add_category(s, "products_held", NULL, products, 5, true, NULL));
    ADD(query_schema_add_category(s, "interests", NULL, interests, 3, true, NULL));
    ADD(query_schema_add_bool(s, "digital_user", NULL, NULL));
    static const double q_dep[] = {0, 0, 1, 2, 6};
    static const char *const events[] = {"Marriage", "New Baby", "Relocation", "Retirement"};
    ADD(query_schema_add_numeric(s, "dependents", NULL, QUERY_UNIT_NONE, 1, q_dep, 5, NULL));
    ADD(query_schema_add_numeric(s, "children_in_college", NULL, QUERY_UNIT_NONE, 1, q_dep, 5,
                                 NULL));
    ADD(query_schema_add_category(s, "life_events", NULL, events, 4, true, NULL));
    return s;
}

// A wholesale book: money in plain dollars, a probability stored 0..1, no people.
static struct query_schema *make_wholesale(void)
{
    struct query_schema *s = NULL;
    ADD(query_schema_new(&s, NULL));
    static const double q_rev[] = {1e6, 5e7, 2e8, 9e8, 4e10};
    static const double q_pd[] = {0.001, 0.01, 0.03, 0.08, 0.4};
    static const double q_emp[] = {5, 100, 800, 4000, 90000};
    static const double q_eng[] = {0, 25, 50, 75, 100};
    static const char *const rating[] = {"AAA", "AA", "A", "BBB", "BB", "B"};
    static const char *const location[] = {"London", "Frankfurt", "Paris", "New York"};
    static const char *const industry[] = {"Technology", "Manufacturing", "Retail"};
    ADD(query_schema_add_other(s, "client_id", NULL, QUERY_COL_ID, NULL));
    ADD(query_schema_add_numeric(s, "annual_revenue", NULL, QUERY_UNIT_CURRENCY, 1, q_rev, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "default_probability", NULL, QUERY_UNIT_NONE, 1, q_pd, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "employees", NULL, QUERY_UNIT_NONE, 1, q_emp, 5, NULL));
    ADD(query_schema_add_numeric(s, "engagement_score", NULL, QUERY_UNIT_NONE, 1, q_eng, 5,
                                 NULL));
    ADD(query_schema_add_category(s, "risk_rating", NULL, rating, 6, false, NULL));
    ADD(query_schema_add_category(s, "location", NULL, location, 4, false, NULL));
    ADD(query_schema_add_category(s, "industry", NULL, industry, 3, false, NULL));
    ADD(query_schema_add_bool(s, "sanctions_flag", NULL, NULL));
    return s;
}

// A credit union: amounts in $000, a percentage stored 0..100, Y/N flags, state codes.
static struct query_schema *make_cu(void)
{
    struct query_schema *s = NULL;
    ADD(query_schema_new(&s, NULL));
    static const double q_age[] = {16, 30, 44, 60, 95};
    static const double q_earn[] = {0, 38, 61, 95, 480}; // $000
    static const double q_dep[] = {0, 1, 6, 25, 900};    // $000
    static const double q_home[] = {0, 0, 40, 160, 700}; // $000
    static const double q_use[] = {0, 8, 22, 45, 100};
    static const double q_dpd[] = {0, 0, 0, 0, 120};
    static const char *const state[] = {"MI", "OH", "IN", "IL", "WI"};
    static const char *const work[] = {"Working", "Self-employed", "Retired", "Student"};
    static const char *const goals[] = {"Buy a Home", "Pay Off Debt", "Travel"};
    ADD(query_schema_add_other(s, "member_no", NULL, QUERY_COL_ID, NULL));
    ADD(query_schema_add_numeric(s, "age_yrs", "Age", QUERY_UNIT_NONE, 1, q_age, 5, NULL));
    ADD(query_schema_add_category(s, "state", NULL, state, 5, false, NULL));
    ADD(query_schema_add_category(s, "work_status", NULL, work, 4, false, NULL));
    ADD(query_schema_add_numeric(s, "household_earnings", NULL, QUERY_UNIT_NONE, 1, q_earn, 5,
                                 NULL));
    ADD(query_schema_add_numeric(s, "deposit_total", NULL, QUERY_UNIT_NONE, 1, q_dep, 5, NULL));
    ADD(query_schema_add_numeric(s, "home_loan_owed", NULL, QUERY_UNIT_NONE, 1, q_home, 5, NULL));
    ADD(query_schema_add_numeric(s, "credit_use_pct", NULL, QUERY_UNIT_NONE, 1, q_use, 5, NULL));
    ADD(query_schema_add_numeric(s, "days_past_due", NULL, QUERY_UNIT_NONE, 1, q_dpd, 5, NULL));
    ADD(query_schema_add_category(s, "goals", NULL, goals, 3, true, NULL));
    ADD(query_schema_add_bool(s, "veteran", NULL, NULL));
    ADD(query_schema_add_bool(s, "online_banking", NULL, NULL));
    static const double q_hh[] = {1, 1, 2, 3, 8};
    static const char *const marital[] = {"Married", "Single", "Widowed"};
    ADD(query_schema_add_numeric(s, "household_size", NULL, QUERY_UNIT_NONE, 1, q_hh, 5, NULL));
    ADD(query_schema_add_numeric(s, "kids_at_home", NULL, QUERY_UNIT_NONE, 1, q_hh, 5, NULL));
    ADD(query_schema_add_category(s, "marital", NULL, marital, 3, false, NULL));
    return s;
}

static int setup(void **state)
{
    (void)state;
    struct px_err err = {0};
    if (query_lexicon_parse((const char *)px_asset_lexicon, px_asset_lexicon_len, &g_lex,
                            &err) != PX_OK) {
        fail_msg("default lexicon: %s", err.msg);
    }
    g_bank = make_bank();
    g_whole = make_wholesale();
    g_cu = make_cu();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    query_lexicon_free(g_lex);
    query_schema_free(g_bank);
    query_schema_free(g_whole);
    query_schema_free(g_cu);
    return 0;
}

static void cat(char *out, size_t n, const char *s)
{
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%s", s);
}

static void put_num(char *out, size_t n, double v)
{
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%.10g", v);
}

// Filters in the compact form: "col op value; ..." (a|b for lists, lo..hi for between).
static void render_filters(const struct query_plan *p, const struct query_schema *s, char *out,
                           size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < p->n_filters; i++) {
        const struct query_filter *f = &p->filters[i];
        cat(out, n, i ? "; " : "");
        cat(out, n, query_schema_column_name(s, f->i_col));
        cat(out, n, " ");
        cat(out, n, query_op_name(f->op));
        if (f->op == QUERY_OP_IS_TRUE || f->op == QUERY_OP_IS_FALSE) {
            continue;
        }
        cat(out, n, " ");
        if (f->n_values > 0) {
            for (size_t k = 0; k < f->n_values; k++) {
                cat(out, n, k ? "|" : "");
                cat(out, n, f->values[k]);
            }
        } else if (f->op == QUERY_OP_BETWEEN) {
            put_num(out, n, f->lo);
            cat(out, n, "..");
            put_num(out, n, f->hi);
        } else {
            put_num(out, n, f->lo);
        }
    }
}

// The plan's JSON, parsed (owned: cJSON_Delete).
static cJSON *plan_doc(const struct query_plan *p, const struct query_schema *s, const char *q)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(query_plan_to_json(p, s, q, strlen(q), &b, NULL), PX_OK);
    cJSON *j = cJSON_Parse(b.data);
    if (j == NULL) {
        fail_msg("plan JSON does not parse: %s", b.data);
    }
    buf_free(&b);
    return j;
}

struct gcase {
    const char *query;
    const char *filters;   // compact form, "" = none
    const char *unknown;   // texts of not_understood spans joined by "|", "" = none
    const char *readings;  // columns of the readings joined by "|", "" = none
};

static void run(const struct query_schema *s, const struct gcase *cases, size_t n,
                const char *table)
{
    for (size_t i = 0; i < n; i++) {
        const struct gcase *c = &cases[i];
        struct query_plan *p = NULL;
        struct px_err err = {0};
        if (query_parse(s, g_lex, c->query, strlen(c->query), &p, &err) != PX_OK) {
            fail_msg("%s case %zu \"%s\": %s", table, i, c->query, err.msg);
        }
        char f[2048], u[1024] = "", r[1024] = "";
        render_filters(p, s, f, sizeof f);
        cJSON *doc = plan_doc(p, s, c->query);
        const cJSON *it;
        size_t k = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "not_understood"))
        {
            cat(u, sizeof u, k++ ? "|" : "");
            cat(u, sizeof u, cJSON_GetObjectItem(it, "text")->valuestring);
            assert_true(cJSON_IsString(cJSON_GetObjectItem(it, "reason")));
            assert_true(cJSON_IsArray(cJSON_GetObjectItem(it, "suggestions")));
        }
        k = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "readings"))
        {
            cat(r, sizeof r, k++ ? "|" : "");
            cat(r, sizeof r, cJSON_GetObjectItem(it, "column")->valuestring);
            assert_true(cJSON_IsString(cJSON_GetObjectItem(it, "reason")));
        }
        if (strcmp(f, c->filters) != 0 || (c->unknown && strcmp(u, c->unknown) != 0) ||
            (c->readings && strcmp(r, c->readings) != 0)) {
            char *json = cJSON_PrintUnformatted(doc);
            print_error("%s case %zu \"%s\"\n  filters  got \"%s\"\n           want \"%s\"\n"
                        "  unknown  got \"%s\"\n           want \"%s\"\n"
                        "  readings got \"%s\"\n           want \"%s\"\n  plan %s\n",
                        table, i, c->query, f, c->filters, u, c->unknown ? c->unknown : "(any)",
                        r, c->readings ? c->readings : "(any)", json);
            cJSON_free(json);
            fail_msg("%s case %zu failed", table, i);
        }
        cJSON_Delete(doc);
        query_plan_free(p);
    }
}

// 1. Every number finds its column: named before or after it by its label's word forms.
static void test_number_binding(void **state)
{
    (void)state;
    static const struct gcase bank[] = {
        {"customers with savings over 100000", "savings_balance gt 100000", "", ""},
        {"retired customers with over $500k in savings", "savings_balance gt 500000", NULL, ""},
        {"investments over 1 million", "investment_balance gt 1000000", "", ""},
        {"with over 250k invested", "investment_balance gt 250000", "", ""},
        {"owe more than 400k on their mortgage", "mortgage_balance gt 400000", NULL, ""},
        {"with us for more than 15 years", "tenure_years gt 15", NULL, ""},
        // no column named: not understood, never the income column by default
        {"over $500k", "", "over $500k", ""},
        // the people concept stays, shown as a reading
        {"over 65 renting", "age gt 65", NULL, "age"},
        {"more than 3 products", "", "more than 3", ""},
    };
    run(g_bank, bank, N_OF(bank), "bank");
    static const struct gcase whole[] = {
        {"revenue over 1 billion and default probability under 5%",
         "annual_revenue gt 1000000000; default_probability lt 0.05", "", "default_probability"},
        {"engagement over 70", "engagement_score gt 70", "", ""},
        {"default risk above 10 percent", "default_probability gt 0.1", NULL,
         "default_probability"},
        {"more than 5000 employees", "employees gt 5000", "", ""},
        // a table with no people concept: a bare comparison is not understood
        {"over 65", "", "over 65", ""},
    };
    run(g_whole, whole, N_OF(whole), "wholesale");
    static const struct gcase cu[] = {
        {"deposits over 50k", "deposit_total gt 50", NULL, "deposit_total"},
        {"earnings under 40 grand a year", "household_earnings lt 40", "", "household_earnings"},
        {"more than 60 days delinquent", "days_past_due gt 60", NULL, ""},
        {"use pct under 10 percent", "credit_use_pct lt 10", "", ""},
        {"home loan owed over $200,000", "home_loan_owed gt 200", "", "home_loan_owed"},
        // a concept found through its aliases: "making" means income, this table's column for
        // it is "Household earnings" ("earnings" is an alias of income)
        {"making less than 40 grand a year", "household_earnings lt 40", "",
         "household_earnings"},
        // "without X" is X = 0 only where 0 is among X's values
        {"without a home loan owed", "home_loan_owed eq 0", "", ""},
    };
    run(g_cu, cu, N_OF(cu), "cu");
    static const struct gcase bank2[] = {
        {"making less than 40k", "annual_income lt 40000", "", ""},
        {"without a mortgage balance", "mortgage_balance eq 0", "", ""},
        {"without a credit score", "", NULL, ""},
    };
    run(g_bank, bank2, N_OF(bank2), "bank");
    static const struct gcase whole2[] = {
        {"without a default probability", "", NULL, ""},
    };
    run(g_whole, whole2, N_OF(whole2), "wholesale");
}

// 3. Negation with the right scope.
static void test_negation_scope(void **state)
{
    (void)state;
    static const struct gcase bank[] = {
        {"credit score above 800 not interested in travel",
         "credit_score gt 800; interests not_contains Travel", "", ""},
        {"don't have a brokerage account", "products_held not_contains Brokerage Account", "", ""},
        {"not married", "marital_status ne Married", "", ""},
        {"excluding students", "occupation ne Student", "", ""},
        {"no mortgage", "products_held not_contains Mortgage", "", ""},
        {"other than TX", "state ne TX", "", ""},
        {"non-digital customers over 70", "digital_user is_false; age gt 70", "", "age"},
    };
    run(g_bank, bank, N_OF(bank), "bank");
    static const struct gcase whole[] = {
        {"clients outside London", "location ne London", "", ""},
        {"not in Frankfurt or Paris", "location not_in Frankfurt|Paris", "", ""},
        {"no sanctions", "sanctions_flag is_false", "", ""},
    };
    run(g_whole, whole, N_OF(whole), "wholesale");
    static const struct gcase cu[] = {
        {"non-veterans in IL", "veteran is_false; state eq IL", "", ""},
        {"not using online banking", "online_banking is_false", "", ""},
        {"members not retired", "work_status ne Retired", "", ""},
    };
    run(g_cu, cu, N_OF(cu), "cu");
}

// A negated soft word inverts its boost.
static void test_negated_soft(void **state)
{
    (void)state;
    const struct query_schema *schemas[] = {g_bank, g_cu};
    for (size_t i = 0; i < N_OF(schemas); i++) {
        struct query_plan *p = NULL, *q = NULL;
        ADD(query_parse(schemas[i], g_lex, "young", 5, &p, NULL));
        ADD(query_parse(schemas[i], g_lex, "not young", 9, &q, NULL));
        assert_int_equal(p->n_boosts, 1);
        assert_int_equal(q->n_boosts, 1);
        assert_int_equal(p->boosts[0].op, QUERY_OP_LE);
        assert_int_equal(q->boosts[0].op, QUERY_OP_GE);
        assert_true(p->boosts[0].lo == q->boosts[0].lo);
        assert_int_equal(q->n_unknown, 0); // the negation was spent on the boost
        query_plan_free(p);
        query_plan_free(q);
    }
}

// 4. Lists and conjunctions → one in filter.
static void test_lists(void **state)
{
    (void)state;
    static const struct gcase bank[] = {
        {"physicians or nurses", "occupation in Physician|Nurse", "", ""},
        {"physicians and attorneys", "occupation in Physician|Attorney", "", ""},
        {"teachers, nurses or engineers", "occupation in Teacher|Nurse|Engineer", "", ""},
        // a list column: "and" means both
        {"with savings and a mortgage",
         "products_held contains Savings; products_held contains Mortgage", "", ""},
    };
    run(g_bank, bank, N_OF(bank), "bank");
    static const struct gcase whole[] = {
        {"AAA or AA rated", "risk_rating in AAA|AA", NULL, ""},
        {"in London, Paris or Frankfurt", "location in London|Paris|Frankfurt", "", ""},
    };
    run(g_whole, whole, N_OF(whole), "wholesale");
    static const struct gcase cu[] = {
        {"members in MI or OH", "state in MI|OH", "", ""},
        {"retired or self-employed members", "work_status in Retired|Self-employed", "", ""},
    };
    run(g_cu, cu, N_OF(cu), "cu");
}

// Codes that are also words ("IN", "OR", "A") are values only when typed in capitals.
static void test_codes(void **state)
{
    (void)state;
    static const struct gcase bank[] = {
        {"customers in TX", "state eq TX", "", ""},
        {"customers in IN", "state eq IN", "", ""},
        {"teachers or nurses in OR", "occupation in Teacher|Nurse; state eq OR", "", ""},
    };
    run(g_bank, bank, N_OF(bank), "bank");
    static const struct gcase whole[] = {
        {"a client rated A", "risk_rating eq A", NULL, ""},
        {"a technology client", "industry eq Technology", "", ""},
    };
    run(g_whole, whole, N_OF(whole), "wholesale");
}

// 6. Every word accounted for: unknown words are listed with the reason and the suggester's
// did-you-mean words; nothing is listed twice.
static size_t fake_suggest(const void *ctx, const char *word, size_t n, const char **out,
                           size_t max)
{
    (void)ctx;
    if (n == 5 && memcmp(word, "Texsa", 5) == 0 && max >= 2) {
        out[0] = "Texas";
        out[1] = "TX";
        return 2;
    }
    return 0;
}

static void test_not_understood(void **state)
{
    (void)state;
    struct query_suggester sg = {fake_suggest, NULL};
    const struct query_schema *schemas[] = {g_bank, g_cu};
    for (size_t i = 0; i < N_OF(schemas); i++) {
        query_schema_set_suggester((struct query_schema *)schemas[i], &sg);
        const char *q = "all members in Texsa over 50 with over $2m";
        struct query_plan *p = NULL;
        ADD(query_parse(schemas[i], g_lex, q, strlen(q), &p, NULL));
        cJSON *doc = plan_doc(p, schemas[i], q);
        const cJSON *nu = cJSON_GetObjectItem(doc, "not_understood");
        assert_int_equal(cJSON_GetArraySize(nu), 2);
        const cJSON *a = cJSON_GetArrayItem(nu, 0), *b = cJSON_GetArrayItem(nu, 1);
        assert_string_equal(cJSON_GetObjectItem(a, "text")->valuestring, "Texsa");
        const cJSON *sugg = cJSON_GetObjectItem(a, "suggestions");
        assert_int_equal(cJSON_GetArraySize(sugg), 2);
        assert_string_equal(cJSON_GetArrayItem(sugg, 0)->valuestring, "Texas");
        assert_string_equal(cJSON_GetObjectItem(b, "text")->valuestring, "over $2m");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b, "suggestions")), 0);
        const cJSON *span = cJSON_GetObjectItem(a, "span");
        assert_int_equal(cJSON_GetArrayItem(span, 0)->valueint, 15);
        assert_int_equal(cJSON_GetArrayItem(span, 1)->valueint, 5);
        // the words stay searched as text
        assert_non_null(strstr(p->semantic_text, "Texsa"));
        cJSON_Delete(doc);
        query_plan_free(p);
        query_schema_set_suggester((struct query_schema *)schemas[i], NULL);
    }
}

// Readings: a unit decided from the data says so; an ambiguous word names its alternative.
static void test_readings(void **state)
{
    (void)state;
    const char *q = "deposits over 50k";
    struct query_plan *p = NULL;
    ADD(query_parse(g_cu, g_lex, q, strlen(q), &p, NULL));
    assert_int_equal(p->n_readings, 1);
    assert_non_null(strstr(p->readings[0].reason, "thousands"));
    assert_int_equal(p->readings[0].alt_col, -1);
    query_plan_free(p);
    q = "default probability under 5%";
    ADD(query_parse(g_whole, g_lex, q, strlen(q), &p, NULL));
    assert_int_equal(p->n_readings, 1);
    assert_non_null(strstr(p->readings[0].reason, "fraction"));
    query_plan_free(p);
    // stored 0..100: the percentage is compared as typed, no reading needed
    q = "use pct under 10%";
    ADD(query_parse(g_cu, g_lex, q, strlen(q), &p, NULL));
    assert_int_equal(p->n_filters, 1);
    assert_true(p->filters[0].lo == 10);
    assert_int_equal(p->n_readings, 0);
    query_plan_free(p);
}

// 5. Readings chosen from the data: the lexicon's first alternative this book holds is
// applied, a later one that fits as well is shown as the other reading.
static void test_data_readings(void **state)
{
    (void)state;
    static const struct gcase bank[] = {
        // no household size here: not married and no dependents
        {"over 65 living alone", "age gt 65; marital_status ne Married; dependents eq 0", NULL,
         "age"},
        // dependents first, children in college shown as the other reading
        {"parents under 40", "dependents gt 0; age lt 40", NULL, "dependents|age"},
        {"over 65 with children", "age gt 65; dependents gt 0", NULL, "age|dependents"},
        // the named column wins over the phrase inside it
        {"with children in college", "children_in_college gt 0", "", ""},
        // the life event, the marital status shown as the other reading
        {"recently got married", "life_events contains Marriage", "", "life_events"},
        {"not recently married", "life_events not_contains Marriage", "", "life_events"},
    };
    run(g_bank, bank, N_OF(bank), "bank");
    static const struct gcase cu[] = {
        {"members living alone", "household_size eq 1", "", ""},
        {"single parents", "marital eq Single; kids_at_home gt 0", "", ""},
        // no life events here: married is the status
        {"recently got married", "marital eq Married", NULL, ""},
    };
    run(g_cu, cu, N_OF(cu), "cu");
    static const struct gcase whole[] = {
        // a book without any of the readings' columns: the words stay text
        {"parents", "", "parents", ""},
    };
    run(g_whole, whole, N_OF(whole), "wholesale");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_binding), cmocka_unit_test(test_negation_scope),
        cmocka_unit_test(test_negated_soft),   cmocka_unit_test(test_lists),
        cmocka_unit_test(test_codes),          cmocka_unit_test(test_not_understood),
        cmocka_unit_test(test_readings),       cmocka_unit_test(test_data_readings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
