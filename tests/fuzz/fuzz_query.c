// fuzz_query.c — query_parse on arbitrary bytes against a fixed retail-like schema. The lexicon
// is a small inline one, with data/lexicon.json (compiled in, src/app/assets.h) merged over it
// (ctest sets it), so the replay exercises the real vocabulary. Invariants: the call returns
// PX_OK, PX_EUTF8 or PX_ELIMIT (and a NULL plan on failure); every span lies inside the input;
// every column index, value count and conflict index is valid; the semantic text is no longer
// than the input; not-understood spans and readings lie inside the input and name valid
// columns; the plan's JSON builds and parses. Each input is parsed twice: by the parser alone
// and with the book's vocabulary (stems and typos, no WordNet: the files are not read here),
// whose did-you-mean suggestions the not-understood spans carry.
// Replayed over tests/fuzz/corpus/query/ by ctest; a libFuzzer target with -DPX_FUZZ=ON
// (use tests/fuzz/fuzz_query.dict).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "limits.h"
#include "mem.h"
#include "assets.h"
#include "query.h"
#include "vocab.h"

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            __builtin_trap();                                                                   \
        }                                                                                       \
    } while (0)

static const char k_lexicon[] =
    "{\"concepts\": {\"age\": [\"aged\", \"years old\"], \"income\": [\"salary\"],"
    " \"credit score\": [\"credit\"]},"
    " \"people\": [\"customers\"], \"people_concept\": \"age\", \"currency_concept\": \"income\","
    " \"soft\": [{\"words\": [\"affluent\"], \"concept\": \"income\", \"direction\": \"high\","
    " \"quantile\": 0.75}, {\"words\": [\"nearing retirement\"], \"concept\": \"age\","
    " \"range\": [55, 67]}],"
    " \"modifiers\": [{\"words\": [\"high\", \"good\"], \"direction\": \"high\", \"quantile\": 0.6}],"
    " \"comparators\": [{\"words\": [\"over\", \">\"], \"op\": \"gt\"},"
    " {\"words\": [\"under\"], \"op\": \"lt\"}, {\"words\": [\"or more\"], \"op\": \"ge\","
    " \"position\": \"after\"}, {\"words\": [\"older than\"], \"op\": \"gt\", \"concept\": \"age\"}],"
    " \"membership\": [\"has\", \"with\"], \"negation\": [\"no\", \"not\", \"without\"],"
    " \"fillers\": [\"a\", \"the\", \"and\", \"or\", \"in\"], \"stopwords\": [\"find\"],"
    " \"numbers\": {\"two\": 2}, \"decades\": {\"thirties\": 30}}";

static struct query_schema *g_schema;
static struct query_lexicon *g_lex;
static struct vocab *g_vocab;

static void build(void)
{
    static const double q_age[] = {18, 32, 45, 58, 90};
    static const double q_income[] = {12000, 45000, 72000, 120000, 2500000};
    static const double q_credit[] = {300, 640, 700, 760, 850};
    static const double q_util[] = {0, 0.1, 0.25, 0.45, 1.0};
    static const char *const segment[] = {"Mass", "Mass Affluent", "Affluent", "Private"};
    static const char *const products[] = {"Checking", "Brokerage Account", "Credit Card",
                                           "Mortgage", "Auto Loan"};
    static const char *const edu[] = {"1", "2", "3"};
    static const double q_sav[] = {0, 2000, 15000, 60000, 3000000};
    static const double q_pd[] = {0.001, 0.01, 0.03, 0.08, 0.4};
    static const double q_earn[] = {0, 38, 61, 95, 480};
    static const char *const state[] = {"IN", "OR", "TX", "A"};
    static const char *const interests[] = {"Travel", "Retirement Planning"};
    struct query_schema *s = NULL;
    CHECK(query_schema_new(&s, NULL) == PX_OK);
    CHECK(query_schema_add_other(s, "customer_id", NULL, QUERY_COL_ID, NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "age", NULL, QUERY_UNIT_NONE, 1, q_age, 5, NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "annual_income", NULL, QUERY_UNIT_CURRENCY, 1, q_income, 5,
                                   NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "credit_score", NULL, QUERY_UNIT_NONE, 1, q_credit, 5,
                                   NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "credit_utilization", NULL, QUERY_UNIT_PERCENT, 100, q_util,
                                   5, NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "segment", NULL, segment, 4, false, NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "education", NULL, edu, 3, false, NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "products_held", NULL, products, 5, true, NULL) == PX_OK);
    CHECK(query_schema_add_bool(s, "digital_user", NULL, NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "savings_balance", NULL, QUERY_UNIT_CURRENCY, 1, q_sav, 5,
                                   NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "default_probability", NULL, QUERY_UNIT_NONE, 1, q_pd, 5,
                                   NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "household_earnings", NULL, QUERY_UNIT_NONE, 1, q_earn, 5,
                                   NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "state", NULL, state, 4, false, NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "interests", NULL, interests, 2, true, NULL) == PX_OK);
    CHECK(query_schema_add_bool(s, "veteran", NULL, NULL) == PX_OK);
    g_schema = s;
    CHECK(query_lexicon_parse(k_lexicon, sizeof k_lexicon - 1, &g_lex, NULL) == PX_OK);
    // the real lexicon, as compiled into the binary, merged over the inline one
    CHECK(query_lexicon_merge(g_lex, (const char *)px_asset_lexicon, px_asset_lexicon_len,
                              "data/lexicon.json", NULL) == PX_OK);
    CHECK(query_vocab_build(g_schema, g_lex, "", &g_vocab, NULL) == PX_OK);
}

static void check_span(struct query_span sp, size_t size)
{
    CHECK(sp.off <= size && sp.len <= size - sp.off && sp.len > 0);
}

static void one(const char *text, size_t size, const struct vocab *vocab)
{
    struct query_plan *plan = NULL;
    struct px_err err = {0};
    int rc = query_parse_vocab(g_schema, g_lex, vocab, text, size, &plan, &err);
    if (rc != PX_OK) {
        CHECK(rc == PX_EUTF8 || rc == PX_ELIMIT);
        CHECK(plan == NULL);
        CHECK(size > LIMIT_QUERY_BYTES || rc == PX_EUTF8 || strstr(err.msg, "LIMIT_") != NULL);
        return;
    }
    size_t n_cols = query_schema_n_columns(g_schema);
    CHECK(plan->n_filters + plan->n_boosts <= LIMIT_QUERY_ITEMS);
    for (size_t i = 0; i < plan->n_filters; i++) {
        const struct query_filter *f = &plan->filters[i];
        CHECK(f->i_col < n_cols);
        CHECK(f->op <= QUERY_OP_IS_FALSE);
        CHECK(f->n_values <= LIMIT_QUERY_FILTER_VALUES);
        CHECK(f->op != QUERY_OP_BETWEEN || f->lo <= f->hi);
        for (size_t k = 0; k < f->n_values; k++) {
            CHECK(f->values[k] != NULL);
        }
        check_span(f->span, size);
    }
    for (size_t i = 0; i < plan->n_boosts; i++) {
        const struct query_boost *b = &plan->boosts[i];
        CHECK(b->i_col < n_cols && b->weight > 0);
        check_span(b->span, size);
    }
    for (size_t i = 0; i < plan->n_conflicts; i++) {
        const struct query_conflict *c = &plan->conflicts[i];
        CHECK(c->i_filter_a < c->i_filter_b && c->i_filter_b < plan->n_filters);
    }
    for (size_t i = 0; i < plan->n_unknown; i++) {
        const struct query_unknown *u = &plan->unknown[i];
        check_span(u->span, size);
        CHECK(u->reason != NULL && u->n_suggestions <= LIMIT_QUERY_SUGGESTIONS);
        for (size_t k = 0; k < u->n_suggestions; k++) {
            CHECK(u->suggestions[k] != NULL);
        }
        CHECK(i == 0 || u->span.off >= plan->unknown[i - 1].span.off); // in query order
    }
    for (size_t i = 0; i < plan->n_readings; i++) {
        const struct query_reading *r = &plan->readings[i];
        check_span(r->span, size);
        CHECK(r->i_col < n_cols && r->alt_col < (long)n_cols && r->reason != NULL);
    }
    CHECK(plan->semantic_text != NULL && strlen(plan->semantic_text) == plan->semantic_len);
    CHECK(plan->semantic_len <= size);
    struct buf b;
    buf_init(&b, 1u << 20);
    CHECK(query_plan_to_json(plan, g_schema, text, size, &b, NULL) == PX_OK);
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    CHECK(j != NULL);
    cJSON_Delete(j);
    buf_free(&b);
    query_plan_free(plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_schema == NULL) {
        build();
    }
    one((const char *)data, size, NULL);
    one((const char *)data, size, g_vocab);
    return 0;
}
