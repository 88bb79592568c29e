// test_engine.c — the search engine on a synthetic table (no store, no embedder): the query
// schema it derives from the data, filters that every hit passes, exclusions, the dense list
// from its own (single) copy of the vectors, the boost-only order, the errors it refuses, and
// allocation failures at every step of a build.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "assets.h"
#include "engine.h"
#include "filter.h"
#include "mem.h"
#include "query.h"

#define N_ROWS 300
#define DIM 8

enum { C_ID, C_AGE, C_INCOME, C_SEGMENT, C_PRODUCTS, C_DIGITAL, C_NOTE, C_EMPTY, N_COLS };

static const struct engine_column k_cols[N_COLS] = {
    {"customer_id", "Customer ID", QUERY_COL_ID, QUERY_UNIT_NONE},
    {"age", "Age", QUERY_COL_NUMERIC, QUERY_UNIT_NONE},
    {"annual_income", "Annual income", QUERY_COL_NUMERIC, QUERY_UNIT_CURRENCY},
    {"segment", "Segment", QUERY_COL_CATEGORY, QUERY_UNIT_NONE},
    {"products_held", "Products held", QUERY_COL_LIST, QUERY_UNIT_NONE},
    {"digital_user", "Digital user", QUERY_COL_BOOL, QUERY_UNIT_NONE},
    {"note", "Note", QUERY_COL_TEXT, QUERY_UNIT_NONE},
    {"unused_score", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_NONE}, // never has a value
};

static const char *const k_segments[] = {"Mass", "Affluent", "Private"};
static const char *const k_products[] = {"Checking", "Savings; Mortgage", "Brokerage Account",
                                         "Checking; Brokerage Account", ""};
static const char *const k_words[] = {"retirement planning", "travel and leisure",
                                      "education savings", "wealth management"};

static double age_of(size_t r) { return r % 7 == 3 ? NAN : (double)(20 + (r * 7) % 60); }

// Row r's vector (rows with r % 5 == 4 have none): a mostly-random direction, unnormalised.
static bool vector_of(size_t r, float *v)
{
    if (r % 5 == 4) {
        return false;
    }
    for (int k = 0; k < DIM; k++) {
        v[k] = (float)sin((double)(r * 31 + (size_t)k * 7)) * 3.0f;
    }
    return true;
}

// Builds the table (fails the test on error unless err is given, then returns the status).
static int build(struct engine **out, bool vectors, struct px_err *err)
{
    struct engine_builder *b = NULL;
    int rc = engine_builder_new(k_cols, N_COLS, N_ROWS + 10, NULL, &b, err);
    char text[256];
    float v[DIM];
    for (size_t r = 0; rc == PX_OK && r < N_ROWS; r++) {
        size_t row = 0;
        rc = engine_builder_add_row(b, &row, err);
        if (rc == PX_OK && row != r) rc = PX_EINTERNAL;
        if (rc == PX_OK) rc = engine_builder_set_number(b, r, C_AGE, age_of(r), err);
        if (rc == PX_OK) rc = engine_builder_set_number(b, r, C_INCOME, 1000.0 * (double)(r % 50), err);
        if (rc == PX_OK) rc = engine_builder_set_value(b, r, C_SEGMENT, k_segments[r % 3], err);
        if (rc == PX_OK) rc = engine_builder_set_value(b, r, C_PRODUCTS, k_products[r % 5], err);
        if (rc == PX_OK) rc = engine_builder_set_number(b, r, C_DIGITAL, r % 4 == 0 ? NAN : (double)(r % 2), err);
        snprintf(text, sizeof text, "customer %zu likes %s", r, k_words[r % 4]);
        if (rc == PX_OK) rc = engine_builder_add_text(b, r, text, strlen(text), err);
    }
    for (size_t r = 0; vectors && rc == PX_OK && r < N_ROWS; r++) {
        if (vector_of(r, v)) rc = engine_builder_add_vector(b, r, v, DIM, err);
    }
    if (rc != PX_OK) {
        engine_builder_free(b);
        return rc;
    }
    return engine_build(b, out, err);
}

static struct query_lexicon *lexicon(void)
{
    struct query_lexicon *lex = NULL;
    struct px_err err = {0};
    if (query_lexicon_parse((const char *)px_asset_lexicon, px_asset_lexicon_len, &lex, &err) !=
        PX_OK) {
        fail_msg("lexicon: %s", err.msg);
    }
    return lex;
}

static struct query_plan *parse(const struct engine *e, const struct query_lexicon *lex,
                                const char *q)
{
    struct query_plan *p = NULL;
    struct px_err err = {0};
    if (query_parse(engine_schema(e), lex, q, strlen(q), &p, &err) != PX_OK) {
        fail_msg("parse '%s': %s", q, err.msg);
    }
    return p;
}

static void test_schema_from_data(void **state)
{
    (void)state;
    struct engine *e = NULL;
    struct px_err err = {0};
    assert_int_equal(build(&e, true, &err), PX_OK);
    const struct query_schema *s = engine_schema(e);
    assert_int_equal(engine_n_rows(e), N_ROWS);
    assert_int_equal(query_schema_n_columns(s), N_COLS);
    static const enum query_col_kind want[N_COLS] = {
        QUERY_COL_ID, QUERY_COL_NUMERIC, QUERY_COL_NUMERIC, QUERY_COL_CATEGORY,
        QUERY_COL_LIST, QUERY_COL_BOOL, QUERY_COL_TEXT, QUERY_COL_TEXT, // no value: text
    };
    for (size_t c = 0; c < N_COLS; c++) {
        if (query_schema_column_kind(s, c) != want[c]) fail_msg("column %zu: kind %d", c, (int)query_schema_column_kind(s, c));
    }
    assert_string_equal(query_schema_column_label(s, C_EMPTY), "Unused score");
    // the parser knows the data's values: a category and a list item become filters
    struct query_lexicon *lex = lexicon();
    struct query_plan *p = parse(e, lex, "in the Private segment with a brokerage account");
    assert_int_equal(p->n_filters, 2);
    assert_string_equal(p->filters[0].values[0], "Private");
    assert_string_equal(p->filters[1].values[0], "Brokerage Account");
    query_plan_free(p);
    query_lexicon_free(lex);
    engine_free(e);
}

// Every hit passes every filter, the candidates are exactly the rows that do, ties and order
// are deterministic, and excluded rows never come back.
static void test_filters_and_exclusions(void **state)
{
    (void)state;
    struct engine *e = NULL;
    struct px_err err = {0};
    assert_int_equal(build(&e, true, &err), PX_OK);
    struct query_lexicon *lex = lexicon();
    static const char *const queries[] = {
        "customers over 40 interested in retirement planning",
        "not in the Mass segment and under 50",
        "digital users with savings",
        "age between 30 and 45 travel",
        "customers over 80 and under 20", // contradiction: nothing
    };
    float qv[DIM];
    vector_of(7, qv);
    struct engine_hit hits[50];
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        struct query_plan *p = parse(e, lex, queries[i]);
        struct engine_query q = {.plan = p, .vector = qv, .dim = DIM};
        struct engine_answer ans;
        assert_int_equal(engine_search(e, &q, 50, NULL, hits, &ans, &err), PX_OK);
        // candidates: counted here with the table's own filter_row on a fresh table
        size_t want = 0;
        struct coltable *t = NULL;
        assert_int_equal(coltable_new(engine_schema(e), N_ROWS, &t, &err), PX_OK);
        for (size_t r = 0; r < N_ROWS; r++) {
            double a = age_of(r);
            assert_int_equal(coltable_set_number(t, r, C_AGE, a, &err), PX_OK);
            assert_int_equal(coltable_set_number(t, r, C_INCOME, 1000.0 * (double)(r % 50), &err), PX_OK);
            assert_int_equal(coltable_set_text(t, r, C_SEGMENT, k_segments[r % 3], &err), PX_OK);
            assert_int_equal(coltable_set_text(t, r, C_PRODUCTS, k_products[r % 5], &err), PX_OK);
            assert_int_equal(coltable_set_bool(t, r, C_DIGITAL, r % 4 == 0 ? -1 : (int)(r % 2), &err), PX_OK);
        }
        for (size_t r = 0; r < N_ROWS; r++) {
            bool pass = true;
            for (size_t f = 0; f < p->n_filters; f++) pass &= filter_row(t, &p->filters[f], r);
            want += pass;
        }
        if (ans.n_candidates != want) fail_msg("case %zu: %zu candidates, want %zu", i, ans.n_candidates, want);
        assert_int_equal(ans.n_hits, want < 50 ? want : 50);
        for (size_t h = 0; h < ans.n_hits; h++) {
            for (size_t f = 0; f < p->n_filters; f++) {
                if (!filter_row(t, &p->filters[f], hits[h].row)) fail_msg("case %zu: row %u fails filter %zu", i, hits[h].row, f);
            }
            if (h > 0 && hits[h].score > hits[h - 1].score) fail_msg("case %zu: not best first at %zu", i, h);
        }
        assert_int_equal(ans.dense, want > 0);
        coltable_free(t);
        // excluding the first hits: they are gone, the rest keeps its order
        if (ans.n_hits >= 4) {
            uint32_t ex[2] = {hits[0].row, hits[2].row};
            struct engine_hit again[50];
            struct engine_answer ans2;
            q.exclude = ex;
            q.n_exclude = 2;
            assert_int_equal(engine_search(e, &q, 50, NULL, again, &ans2, &err), PX_OK);
            assert_int_equal(ans2.n_candidates, ans.n_candidates - 2);
            assert_int_equal(again[0].row, hits[1].row);
            for (size_t h = 0; h < ans2.n_hits; h++) {
                assert_true(again[h].row != ex[0] && again[h].row != ex[1]);
            }
        }
        query_plan_free(p);
    }
    query_lexicon_free(lex);
    engine_free(e);
}

// The engine keeps one copy of each vector, unit length, and a row's own vector finds it first.
static void test_vectors(void **state)
{
    (void)state;
    struct engine *e = NULL;
    struct px_err err = {0};
    assert_int_equal(build(&e, true, &err), PX_OK);
    assert_int_equal(engine_dim(e), DIM);
    assert_int_equal(engine_n_vectors(e), N_ROWS - N_ROWS / 5);
    float v[DIM];
    for (size_t r = 0; r < N_ROWS; r++) {
        const float *got = engine_vector(e, r);
        if (!vector_of(r, v)) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        double nn = 0, dot = 0, nv = 0;
        for (int k = 0; k < DIM; k++) {
            nn += (double)got[k] * got[k];
            dot += (double)got[k] * v[k];
            nv += (double)v[k] * v[k];
        }
        assert_true(fabs(nn - 1) < 1e-5);
        assert_true(fabs(dot / sqrt(nv) - 1) < 1e-5); // the same direction
    }
    assert_null(engine_vector(e, N_ROWS + 5));
    // the query is row 12's vector: row 12 first, cosine 1; no text, no plan
    vector_of(12, v);
    struct engine_query q = {.vector = v, .dim = DIM};
    struct engine_hit hits[5];
    struct engine_answer ans;
    assert_int_equal(engine_search(e, &q, 5, NULL, hits, &ans, &err), PX_OK);
    assert_true(ans.dense);
    assert_int_equal(ans.n_candidates, N_ROWS);
    assert_int_equal(hits[0].row, 12);
    assert_true(fabs(hits[0].similarity - 1) < 1e-5);
    // a lexical hit without a dense rank still gets its cosine from the index's copy
    q.text = "wealth management";
    q.text_len = strlen(q.text);
    struct engine_hit many[40];
    assert_int_equal(engine_search(e, &q, 40, NULL, many, &ans, &err), PX_OK);
    for (size_t h = 0; h < ans.n_hits; h++) {
        bool has = engine_vector(e, many[h].row) != NULL;
        assert_true(has ? !isnan(many[h].similarity) : isnan(many[h].similarity));
    }
    // a vector of another dimension is refused
    q.dim = DIM - 1;
    assert_int_equal(engine_search(e, &q, 5, NULL, hits, &ans, &err), PX_EINVAL);
    engine_free(e);
    // built without vectors, or with them dropped: no dense list, the query vector is ignored
    assert_int_equal(build(&e, false, &err), PX_OK);
    assert_int_equal(engine_dim(e), 0);
    q.dim = DIM;
    assert_int_equal(engine_search(e, &q, 5, NULL, hits, &ans, &err), PX_OK);
    assert_false(ans.dense);
    assert_true(ans.n_hits > 0 && isnan(hits[0].similarity) && hits[0].lexical > 0);
    engine_free(e);
}

// No text and no vector: candidates by boost, then row order.
static void test_boost_order(void **state)
{
    (void)state;
    struct engine *e = NULL;
    struct px_err err = {0};
    assert_int_equal(build(&e, false, &err), PX_OK);
    struct query_lexicon *lex = lexicon();
    struct query_plan *p = parse(e, lex, "affluent customers");
    struct engine_query q = {.plan = p, .text = "", .text_len = 0};
    struct engine_hit hits[20];
    struct engine_answer ans;
    assert_int_equal(engine_search(e, &q, 20, NULL, hits, &ans, &err), PX_OK);
    assert_int_equal(ans.n_hits, 20);
    for (size_t h = 1; h < ans.n_hits; h++) {
        assert_true(hits[h].boost < hits[h - 1].boost ||
                    (hits[h].boost == hits[h - 1].boost && hits[h].row > hits[h - 1].row));
    }
    query_plan_free(p);
    query_lexicon_free(lex);
    engine_free(e);
}

static void test_errors(void **state)
{
    (void)state;
    struct engine_builder *b = NULL;
    struct px_err err = {0};
    size_t row = 0;
    float z[DIM] = {0}, nan_v[DIM] = {1, NAN};
    assert_int_equal(engine_builder_new(k_cols, N_COLS, 2, NULL, &b, &err), PX_OK);
    assert_int_equal(engine_builder_set_number(b, 0, C_AGE, 1, &err), PX_EINVAL); // no row yet
    assert_int_equal(engine_builder_add_row(b, &row, &err), PX_OK);
    assert_int_equal(engine_builder_add_row(b, &row, &err), PX_OK);
    assert_int_equal(engine_builder_add_row(b, &row, &err), PX_ELIMIT);
    assert_int_equal(engine_builder_set_number(b, 0, C_SEGMENT, 1, &err), PX_EINVAL);
    assert_int_equal(engine_builder_set_value(b, 0, C_AGE, "x", &err), PX_EINVAL);
    assert_int_equal(engine_builder_set_number(b, 0, N_COLS, 1, &err), PX_EINVAL);
    assert_int_equal(engine_builder_add_vector(b, 0, z, DIM, &err), PX_EINVAL);
    assert_int_equal(engine_builder_add_vector(b, 0, nan_v, DIM, &err), PX_EINVAL);
    float ok[DIM] = {1};
    assert_int_equal(engine_builder_add_vector(b, 0, ok, DIM, &err), PX_OK);
    assert_int_equal(engine_builder_add_vector(b, 0, ok, DIM, &err), PX_EINVAL); // twice
    assert_int_equal(engine_builder_add_vector(b, 1, ok, DIM - 1, &err), PX_EINVAL);
    engine_builder_drop_vectors(b);
    struct engine *e = NULL;
    assert_int_equal(engine_build(b, &e, &err), PX_OK);
    assert_int_equal(engine_dim(e), 0);
    struct engine_query q = {0};
    struct engine_hit hits[2];
    struct engine_answer ans;
    assert_int_equal(engine_search(e, &q, 0, NULL, hits, &ans, &err), PX_EINVAL);
    uint32_t ex = 7;
    q.exclude = &ex;
    q.n_exclude = 1;
    assert_int_equal(engine_search(e, &q, 2, NULL, hits, &ans, &err), PX_EINVAL);
    engine_free(e);
    engine_builder_free(NULL);
    engine_free(NULL);
    assert_int_equal(engine_builder_new(k_cols, N_COLS, (size_t)LIMIT_VINDEX_ROWS + 1, NULL, &b, &err),
                     PX_ELIMIT);
    assert_null(b);
}

static struct engine *g_alloc_engine;

static int alloc_build(void *user, struct px_err *err)
{
    (void)user;
    return build(&g_alloc_engine, true, err);
}

static void alloc_release(void *user)
{
    (void)user;
    engine_free(g_alloc_engine);
    g_alloc_engine = NULL;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    long points = tu_check_alloc_failures(alloc_build, alloc_release, NULL);
    printf("engine build: %ld allocation points\n", points);
    assert_true(points > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_from_data), cmocka_unit_test(test_filters_and_exclusions),
        cmocka_unit_test(test_vectors),          cmocka_unit_test(test_boost_order),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
