// test_engine.c — the search engine on a synthetic table (no store, no embedder): the query
// schema it derives from the data, filters that every hit passes, exclusions, the dense list
// from its own (single) copy of the vectors, the boost-only order, the errors it refuses, and
// allocation failures at every step of a build; on a six-row toy table whose order is written
// down: graded boosts, more clauses met beating one met strongly, ties by text then row, and
// "ranked" false when nothing ranks.
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

// ---- the toy table: ranking whose expected order is written down before running it ----
//
//   row  score  tags    text
//    0    10    A       apple
//    1    60    A; B    plum
//    2    99    -       plum
//    3    99    A       kiwi
//    4    20    B       apple
//    5    70    A; B    plum
enum { T_ID, T_SCORE, T_TAGS, N_TOY };
#define N_TOY_ROWS 6

static const struct engine_column k_toy_cols[N_TOY] = {
    {"id", NULL, QUERY_COL_ID, QUERY_UNIT_NONE},
    {"score", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_NONE},
    {"tags", NULL, QUERY_COL_LIST, QUERY_UNIT_NONE},
};

static struct engine *toy(void)
{
    static const double score[N_TOY_ROWS] = {10, 60, 99, 99, 20, 70};
    static const char *const tags[N_TOY_ROWS] = {"A", "A; B", "", "A", "B", "A; B"};
    static const char *const text[N_TOY_ROWS] = {"apple", "plum", "plum", "kiwi", "apple", "plum"};
    struct engine_builder *b = NULL;
    struct engine *e = NULL;
    struct px_err err = {0};
    assert_int_equal(engine_builder_new(k_toy_cols, N_TOY, N_TOY_ROWS, NULL, &b, &err), PX_OK);
    for (size_t r = 0; r < N_TOY_ROWS; r++) {
        size_t row = 0;
        assert_int_equal(engine_builder_add_row(b, &row, &err), PX_OK);
        assert_int_equal(engine_builder_set_number(b, row, T_SCORE, score[r], &err), PX_OK);
        assert_int_equal(engine_builder_set_value(b, row, T_TAGS, tags[r], &err), PX_OK);
        assert_int_equal(engine_builder_add_text(b, row, text[r], strlen(text[r]), &err), PX_OK);
    }
    assert_int_equal(engine_build(b, &e, &err), PX_OK);
    return e;
}

static struct query_boost ge_boost(double lo, double w)
{
    return (struct query_boost){.i_col = T_SCORE, .op = QUERY_OP_GE, .lo = lo, .quantile = -1,
                                .weight = w};
}

static struct query_boost tag_boost(const char *tag, double w)
{
    return (struct query_boost){.i_col = T_TAGS, .op = QUERY_OP_CONTAINS, .value = tag,
                                .quantile = -1, .weight = w};
}

static void search_toy(const struct engine *e, struct query_boost *boosts, size_t n_boosts,
                       const char *text, struct engine_hit *hits, struct engine_answer *ans)
{
    struct query_plan plan = {.n_boosts = n_boosts, .boosts = boosts, .semantic_text = (char *)"",
                              .semantic_len = 0};
    struct engine_query q = {.plan = n_boosts ? &plan : NULL, .text = text,
                             .text_len = text ? strlen(text) : 0};
    struct px_err err = {0};
    assert_int_equal(engine_search(e, &q, N_TOY_ROWS, NULL, hits, ans, &err), PX_OK);
}

static void want_rows(const struct engine_hit *hits, const struct engine_answer *ans,
                      const uint32_t *want, size_t n, const char *what)
{
    if (ans->n_hits != n) fail_msg("%s: %zu hits, expected %zu", what, ans->n_hits, n);
    for (size_t i = 0; i < n; i++) {
        if (hits[i].row != want[i]) {
            fail_msg("%s: rank %zu is row %u, expected %u", what, i + 1, hits[i].row, want[i]);
        }
    }
}

// One boost "score >= 50": met by rows 1 (60), 5 (70), 2 and 3 (99); the further past, the
// higher (99 is the maximum: the full grade 1.4; 60 is just past: 1.0), equal values by row;
// rows that miss it follow in row order.
static void test_graded_boost(void **state)
{
    (void)state;
    struct engine *e = toy();
    struct query_boost bs[1] = {ge_boost(50, 1.0)};
    struct engine_hit hits[N_TOY_ROWS];
    struct engine_answer ans;
    search_toy(e, bs, 1, NULL, hits, &ans);
    want_rows(hits, &ans, (const uint32_t[]){2, 3, 5, 1, 0, 4}, 6, "graded");
    assert_true(ans.ranked);
    assert_string_equal(ans.order, "boosts, then import order");
    assert_true(fabs(hits[0].boost - (1.0 + ENGINE_GRADE_SPAN)) < 1e-12);
    assert_true(hits[2].boost > hits[3].boost);
    assert_true(fabs(hits[3].boost - 1.0) < 1e-12);
    assert_true(hits[4].boost == 0 && hits[5].boost == 0);
    assert_true(fabs(engine_boost_excess(e, &bs[0], 2) - 1.0) < 1e-12);
    assert_true(engine_boost_excess(e, &bs[0], 0) == 0.0);
    assert_true(engine_boost_value(e, &bs[0], 0) == 0.0);
    // the same for "score <= 65": 10 is the minimum (full grade), 60 just under
    struct query_boost le = {.i_col = T_SCORE, .op = QUERY_OP_LE, .lo = 65, .weight = 1.0};
    search_toy(e, &le, 1, NULL, hits, &ans);
    want_rows(hits, &ans, (const uint32_t[]){0, 4, 1, 2, 3, 5}, 6, "graded le");
    engine_free(e);
}

// Three weight-0.5 clauses (score >= 50, tag A, tag B): rows 1 and 5 meet all three (5 by more,
// 70 > 60) and lead row 3, which meets two with the strongest score, and row 2 (99, no tags),
// which meets one however strongly. Then rows 0 and 4 (one tag each), in row order.
static void test_clauses_count(void **state)
{
    (void)state;
    struct engine *e = toy();
    struct query_boost bs[3] = {ge_boost(50, 0.5), tag_boost("A", 0.5), tag_boost("B", 0.5)};
    struct engine_hit hits[N_TOY_ROWS];
    struct engine_answer ans;
    search_toy(e, bs, 3, NULL, hits, &ans);
    want_rows(hits, &ans, (const uint32_t[]){5, 1, 3, 2, 0, 4}, 6, "clauses");
    assert_true(hits[1].boost > hits[2].boost + 0.1); // 3 met (>= 1.5) vs 2 (<= 1.2)
    engine_free(e);
}

// Equal boosts are ordered by the text, then by row: tag A is met by rows 0, 1, 3, 5; the text
// "plum" matches rows 1, 2, 5 (BM25 ties: equal documents), so 1 and 5 lead (row order between
// them), then 0 and 3 (boost only, row order), then row 2 (text only, no boost).
static void test_tie_order(void **state)
{
    (void)state;
    struct engine *e = toy();
    struct query_boost bs[1] = {tag_boost("A", 1.0)};
    struct engine_hit hits[N_TOY_ROWS];
    struct engine_answer ans;
    search_toy(e, bs, 1, "plum", hits, &ans);
    want_rows(hits, &ans, (const uint32_t[]){1, 5, 0, 3, 2}, 5, "ties");
    assert_true(ans.ranked);
    assert_string_equal(ans.order, "boosts, then BM25, then import order");
    // the same search twice: the same answer (deterministic)
    struct engine_hit again[N_TOY_ROWS];
    struct engine_answer ans2;
    search_toy(e, bs, 1, "plum", again, &ans2);
    assert_int_equal(ans2.n_hits, ans.n_hits);
    for (size_t i = 0; i < ans.n_hits; i++) {
        assert_true(again[i].row == hits[i].row && again[i].score == hits[i].score &&
                    again[i].boost == hits[i].boost);
    }
    // text alone: BM25 then row order
    search_toy(e, NULL, 0, "apple", hits, &ans);
    want_rows(hits, &ans, (const uint32_t[]){0, 4}, 2, "text only");
    assert_string_equal(ans.order, "BM25, then import order");
    engine_free(e);
}

// Nothing ranks the candidates: no plan and no text, a boost no row meets, a word no row has.
// The answer says so; the hits are the candidates in row order.
static void test_unranked(void **state)
{
    (void)state;
    struct engine *e = toy();
    struct engine_hit hits[N_TOY_ROWS];
    struct engine_answer ans;
    const uint32_t in_order[] = {0, 1, 2, 3, 4, 5};
    search_toy(e, NULL, 0, NULL, hits, &ans);
    want_rows(hits, &ans, in_order, 6, "no plan");
    assert_false(ans.ranked);
    assert_string_equal(ans.order, "import order (unranked)");
    struct query_boost none[1] = {ge_boost(1000, 1.0)};
    search_toy(e, none, 1, NULL, hits, &ans);
    want_rows(hits, &ans, in_order, 6, "boost nobody meets");
    assert_false(ans.ranked);
    search_toy(e, NULL, 0, "durian", hits, &ans);
    want_rows(hits, &ans, in_order, 6, "unknown word");
    assert_false(ans.ranked);
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
        cmocka_unit_test(test_graded_boost),     cmocka_unit_test(test_clauses_count),
        cmocka_unit_test(test_tie_order),        cmocka_unit_test(test_unranked),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
