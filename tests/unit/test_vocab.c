// test_vocab.c — search/vocab: the book's vocabulary on two schemas whose words differ (the
// generated retail bank's values, the credit union's of tests/queryset/qs_cu.c): word forms,
// WordNet relatives, typos against the book's own words only, did-you-mean, grammar words
// keeping their meaning, no WordNet at all, the embedding hook (a fake embedder), and every
// allocation failing in turn.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "embedder.h"
#include "fsx.h"
#include "mem.h"
#include "query.h"
#include "vocab.h"

struct col {
    const char *label;
    const char *values[48];
};

// the retail bank (src/data/bankgen.c), a few columns
static const struct col k_retail[] = {
    {"Gender", {"Female", "Male"}},
    {"Marital status", {"Single", "Married", "Divorced", "Widowed"}},
    {"Employment status", {"Employed Full-Time", "Employed Part-Time", "Self-Employed",
                           "Unemployed", "Student", "Retired", "Homemaker"}},
    {"Housing status", {"Own Outright", "Own with Mortgage", "Rent", "Living with Family"}},
    {"Occupation", {"Physician", "Attorney", "Pharmacist", "Professor", "Software Engineer",
                    "Teacher", "Registered Nurse", "Police Officer", "Electrician", "Mechanic",
                    "Accountant", "Truck Driver"}},
    {"City", {"New York", "Boston", "Chicago", "Dallas", "Houston", "Austin", "Phoenix",
              "Seattle", "Denver", "Miami", "Atlanta", "Los Angeles"}},
    {"Credit card tier", {"None", "Standard", "Gold", "Platinum", "Reserve"}},
    {"Products", {"Checking", "Savings", "Certificate of Deposit", "Brokerage Account", "IRA",
                  "Credit Card", "Mortgage", "Auto Loan", "Student Loan"}},
    {"Annual income", {NULL}},
    {"Credit score", {NULL}},
};

// the credit union (tests/queryset/qs_cu.c)
static const struct col k_cu[] = {
    {"sex", {"F", "M"}},
    {"marital", {"Married", "Single", "Divorced", "Widowed", "Domestic Partner"}},
    {"occupation_title", {"Registered Nurse", "Nurse Practitioner", "Pharmacist", "Dentist",
                          "Family Doctor", "Lawyer", "Paralegal", "Farmer", "Welder", "Plumber",
                          "Accountant", "Firefighter", "Cashier", "Chef", "Pastor"}},
    {"work_status", {"Working", "Self-employed", "Retired", "Student", "Not working"}},
    {"state", {"MI", "OH", "IN", "IL", "WI", "MN", "TX", "FL", "AZ", "CA", "NY"}},
    {"home_status", {"Homeowner", "Mortgaged", "Renter", "Family Home"}},
    {"card_type", {"None", "Share Secured", "Visa Classic", "Visa Platinum", "Visa Signature"}},
    {"fico", {NULL}},
    {"deposit_total", {NULL}},
};

// the wholesale book's locations (src/data/wholesale.c)
static const struct col k_wholesale[] = {
    {"location", {"New York", "London", "Frankfurt", "Singapore", "Hong Kong", "Tokyo", "Paris",
                  "Sydney", "Dubai", "Toronto", "Zurich", "Chicago"}},
};

static const char *const k_grammar[] = {
    "above", "over", "under", "below", "customers", "clients", "people", "person",
    "individuals", "members", "with", "without", "not", "and", "or", "one", "two", "the",
    "more than", "at least", "credit", "years old", "living", "who",
};

static struct vocab *build(const struct col *cols, size_t n_cols, const char *wn_dir)
{
    struct vocab_params p = vocab_default_params();
    p.wordnet_dir = wn_dir;
    struct vocab *v = NULL;
    struct px_err err = {0};
    assert_int_equal(vocab_new(&p, &v, &err), PX_OK);
    for (size_t c = 0; c < n_cols; c++) {
        assert_int_equal(vocab_add_label(v, c, cols[c].label, &err), PX_OK);
        for (size_t i = 0; cols[c].values[i] != NULL; i++) {
            assert_int_equal(vocab_add_value(v, c, i, cols[c].values[i], &err), PX_OK);
        }
    }
    for (size_t g = 0; g < sizeof k_grammar / sizeof *k_grammar; g++) {
        assert_int_equal(vocab_add_grammar(v, k_grammar[g], &err), PX_OK);
    }
    assert_int_equal(vocab_finish(v, &err), PX_OK);
    return v;
}

static size_t lookup(const struct vocab *v, const char *phrase, struct vocab_cand *out,
                     size_t max)
{
    const char *w[8];
    size_t len[8], n = 0;
    const char *p = phrase;
    while (*p != '\0' && n < 8) {
        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        w[n] = p;
        while (*p != '\0' && *p != ' ') {
            p++;
        }
        len[n] = (size_t)(p - w[n]);
        n++;
    }
    size_t n_out = 0;
    struct px_err err = {0};
    assert_int_equal(vocab_lookup(v, w, len, n, out, max, &n_out, &err), PX_OK);
    if (getenv("PX_VOCAB_DUMP") != NULL) {
        for (size_t i = 0; i < n_out; i++) {
            fprintf(stderr, "  %-24s -> %s [%s %.2f, %zu words, via %s]\n", phrase, out[i].text,
                    vocab_how_name(out[i].how), out[i].confidence, out[i].n_words,
                    out[i].via ? out[i].via : "-");
        }
    }
    return n_out;
}

// 1 when phrase reaches (col label, value) with a how no worse than worst.
static int reaches(const struct vocab *v, const char *phrase, const char *value,
                   enum vocab_how worst)
{
    struct vocab_cand c[LIMIT_VOCAB_CANDIDATES];
    size_t n = lookup(v, phrase, c, LIMIT_VOCAB_CANDIDATES);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(c[i].text, value) == 0 && c[i].how <= worst) {
            return 1;
        }
    }
    return 0;
}

static int have_wordnet(void) { return fsx_is_file("/usr/share/wordnet/index.noun"); }

struct want {
    const char *phrase, *value;
    enum vocab_how worst;
};

static void check_table(const struct vocab *v, const struct want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!reaches(v, w[i].phrase, w[i].value, w[i].worst)) {
            fail_msg("'%s' does not reach '%s' (as %s or better)", w[i].phrase, w[i].value,
                     vocab_how_name(w[i].worst));
        }
    }
}

static void test_retail_relatives(void **state)
{
    (void)state;
    if (!have_wordnet()) {
        skip();
    }
    struct vocab *v = build(k_retail, sizeof k_retail / sizeof *k_retail, NULL);
    assert_string_equal(vocab_note(v), "");
    static const struct want w[] = {
        {"Physician", "Physician", VOCAB_EXACT},
        {"physicians", "Physician", VOCAB_STEM}, // stems: the same key
        {"doctors", "Physician", VOCAB_SYNONYM},
        {"lawyers", "Attorney", VOCAB_SYNONYM},
        {"renters", "Rent", VOCAB_DERIVED},
        {"renting", "Rent", VOCAB_STEM},
        {"retirees", "Retired", VOCAB_DERIVED},
        {"women", "Female", VOCAB_NARROWER},
        {"men", "Male", VOCAB_NARROWER},
        {"Texas", "Dallas", VOCAB_WHOLE},
        {"Texas", "Houston", VOCAB_WHOLE},
        {"Texas", "Austin", VOCAB_WHOLE},
        {"nurses", "Registered Nurse", VOCAB_BROADER},
        {"health professionals", "Pharmacist", VOCAB_BROADER},
        {"health professionals", "Registered Nurse", VOCAB_BROADER},
        {"unmarried", "Single", VOCAB_SYNONYM},
        {"credit cards", "Credit Card", VOCAB_STEM},
        {"widows", "Widowed", VOCAB_DERIVED},
    };
    check_table(v, w, sizeof w / sizeof *w);
    // the longest phrase wins: "credit card" (2 words), not "credit"
    struct vocab_cand c[LIMIT_VOCAB_CANDIDATES];
    size_t n = lookup(v, "credit card holders", c, LIMIT_VOCAB_CANDIDATES);
    assert_true(n >= 1);
    assert_int_equal(c[0].n_words, 2);
    assert_string_equal(c[0].text, "Credit Card");
    // Texas is ambiguous across cities: all kept, none in another state
    n = lookup(v, "Texas", c, LIMIT_VOCAB_CANDIDATES);
    for (size_t i = 0; i < n; i++) {
        assert_true(strcmp(c[i].text, "Boston") != 0 && strcmp(c[i].text, "Seattle") != 0);
    }
    // grammar words keep their meaning: "individuals" / "one" are not Single, "person" is
    // not Female
    assert_false(reaches(v, "individuals", "Single", VOCAB_EMBEDDING));
    assert_false(reaches(v, "one", "Single", VOCAB_EMBEDDING));
    assert_false(reaches(v, "person", "Female", VOCAB_EMBEDDING));
    // labels are candidates too
    assert_true(reaches(v, "occupations", "Occupation", VOCAB_STEM));
    // unrelated words reach nothing
    n = lookup(v, "zebra", c, LIMIT_VOCAB_CANDIDATES);
    assert_int_equal(n, 0);
    vocab_free(v);
}

static void test_cu_relatives(void **state)
{
    (void)state;
    if (!have_wordnet()) {
        skip();
    }
    struct vocab *v = build(k_cu, sizeof k_cu / sizeof *k_cu, NULL);
    static const struct want w[] = {
        {"Texas", "TX", VOCAB_SYNONYM},
        {"Illinois", "IL", VOCAB_SYNONYM},
        {"New York", "NY", VOCAB_SYNONYM},
        {"attorneys", "Lawyer", VOCAB_SYNONYM},
        {"doctors", "Family Doctor", VOCAB_BROADER},
        {"nurses", "Registered Nurse", VOCAB_BROADER},
        {"retirees", "Retired", VOCAB_DERIVED},
        {"renters", "Renter", VOCAB_STEM},
        {"homeowners", "Homeowner", VOCAB_STEM},
        {"widows", "Widowed", VOCAB_DERIVED},
        {"cooks", "Chef", VOCAB_NARROWER},
    };
    check_table(v, w, sizeof w / sizeof *w);
    vocab_free(v);
}

// Places through several part-of levels, and adjectives through their pertainyms.
static void test_wholesale_places(void **state)
{
    (void)state;
    if (!have_wordnet()) {
        skip();
    }
    struct vocab *v = build(k_wholesale, 1, NULL);
    static const struct want w[] = {
        {"England", "London", VOCAB_WHOLE},
        {"Europe", "London", VOCAB_WHOLE},
        {"Europe", "Frankfurt", VOCAB_WHOLE},
        {"Europe", "Paris", VOCAB_WHOLE},
        {"European", "Zurich", VOCAB_WHOLE},
        {"Germany", "Frankfurt", VOCAB_WHOLE},
        {"Japan", "Tokyo", VOCAB_WHOLE},
    };
    check_table(v, w, sizeof w / sizeof *w);
    assert_false(reaches(v, "Europe", "Tokyo", VOCAB_EMBEDDING));
    assert_false(reaches(v, "European", "Sydney", VOCAB_EMBEDDING));
    vocab_free(v);
}

static void test_typos(void **state)
{
    (void)state;
    struct vocab *v = build(k_retail, sizeof k_retail / sizeof *k_retail, NULL);
    static const struct {
        const char *typed, *want;
        int dist;
    } cases[] = {
        {"abve", "above", 1},        {"custmers", "customers", 1}, {"credt", "credit", 1},
        {"physcian", "physician", 1}, {"platnium", "platinum", 1}, {"mortage", "mortgage", 1},
        {"atorney", "attorney", 1},  {"sofware", "software", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *out[8];
        int d = -1;
        size_t n = vocab_correct(v, cases[i].typed, strlen(cases[i].typed), out, 8, &d);
        int ok = 0;
        for (size_t k = 0; k < n; k++) {
            ok |= strcmp(out[k], cases[i].want) == 0;
        }
        if (!ok || d != cases[i].dist) {
            fail_msg("correct(%s): %zu found (first %s, distance %d), want %s", cases[i].typed,
                     n, n ? out[0] : "-", d, cases[i].want);
        }
    }
    const char *out[8];
    int d;
    // a vocabulary word is not a typo; short words are never corrected; far words neither
    assert_int_equal(vocab_correct(v, "above", 5, out, 8, &d), 0);
    assert_int_equal(vocab_correct(v, "Gold", 4, out, 8, &d), 0);
    assert_int_equal(vocab_correct(v, "teh", 3, out, 8, &d), 0);
    assert_int_equal(vocab_correct(v, "zebra", 5, out, 8, &d), 0);
    // only the book's own words: "travel" is not in this book, so "travl" is not corrected
    assert_int_equal(vocab_correct(v, "travl", 5, out, 8, &d), 0);
    // did-you-mean goes one edit further
    size_t n = vocab_suggest(v, "platnum", 7, out, 8);
    assert_true(n >= 1);
    assert_string_equal(out[0], "platinum");
    n = vocab_suggest(v, "chicgo", 6, out, 8);
    assert_true(n >= 1);
    assert_string_equal(out[0], "chicago");
    assert_int_equal(vocab_suggest(v, "qqqqqqq", 7, out, 8), 0);
    vocab_free(v);
}

static void test_no_wordnet(void **state)
{
    (void)state;
    struct vocab *v = build(k_cu, sizeof k_cu / sizeof *k_cu, "/nonexistent/wordnet");
    assert_non_null(strstr(vocab_note(v), "index.noun"));
    // stems still work, relatives do not
    assert_true(reaches(v, "renters", "Renter", VOCAB_STEM));
    assert_false(reaches(v, "Texas", "TX", VOCAB_EMBEDDING));
    const char *out[4];
    int d;
    assert_int_equal(vocab_correct(v, "plumbr", 6, out, 4, &d), 1);
    assert_string_equal(out[0], "plumber");
    vocab_free(v);
    v = build(k_cu, sizeof k_cu / sizeof *k_cu, "");
    assert_non_null(strstr(vocab_note(v), "off"));
    vocab_free(v);
}

// A fake embedder: a bag of letters, so "nurse" is nearest to "Registered Nurse".
static int fake_embed(void *ctx, const char *const *texts, const size_t *lens, size_t n,
                      float *out, struct px_err *err)
{
    (void)err;
    int *calls = ctx;
    (*calls)++;
    for (size_t i = 0; i < n; i++) {
        float *x = out + i * 26;
        memset(x, 0, 26 * sizeof *x);
        for (size_t k = 0; k < lens[i]; k++) {
            int c = texts[i][k] | 0x20;
            if (c >= 'a' && c <= 'z') {
                x[c - 'a'] += 1;
            }
        }
    }
    return PX_OK;
}

static void test_embedding_hook(void **state)
{
    (void)state;
    struct vocab *v = build(k_cu, sizeof k_cu / sizeof *k_cu, "");
    int calls = 0;
    struct vocab_embedder e = {fake_embed, &calls, 26};
    struct vocab_cand c[4];
    size_t n = 9;
    struct px_err err = {0};
    // before vocab_embed_values: nothing, no call
    assert_int_equal(vocab_lookup_semantic(v, &e, "nurse", 5, 0.5, c, 4, &n, &err), PX_OK);
    assert_int_equal(n, 0);
    assert_int_equal(calls, 0);
    assert_int_equal(vocab_embed_values(v, &e, &err), PX_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(vocab_lookup_semantic(v, &e, "visa platinum card", 18, 0.5, c, 4, &n, &err),
                     PX_OK);
    assert_true(n >= 1 && n <= 4);
    assert_string_equal(c[0].text, "Visa Platinum");
    assert_int_equal(c[0].how, VOCAB_EMBEDDING);
    for (size_t i = 1; i < n; i++) {
        assert_true(c[i - 1].confidence >= c[i].confidence);
    }
    struct vocab_embedder bad = {fake_embed, &calls, 0};
    assert_int_equal(vocab_embed_values(v, &bad, &err), PX_EINVAL);
    vocab_free(v);
}

// The hook's plumbing with a real sentence-transformer: the tiny synthetic BERT of ../shared
// (random weights: the cosines mean nothing, so only the contract is checked — every value
// embedded once, a phrase's own value text nearest to itself, candidates ordered by cosine).
static int st_embed(void *ctx, const char *const *texts, const size_t *lens, size_t n,
                    float *out, struct px_err *err)
{
    struct embed_stats stats;
    return embed_texts(ctx, texts, lens, n, out, NULL, NULL, &stats, err);
}

static void test_embedding_model(void **state)
{
    (void)state;
    char dir[4096];
    if (!tu_shared_path(dir, sizeof dir, "models/minilm-synthetic-test")) {
        skip();
    }
    struct px_err err = {0};
    struct embedder *e = NULL;
    assert_int_equal(embedder_open(dir, &e, &err), PX_OK);
    struct embed_ctx_params cp = embed_ctx_default_params();
    struct embed_ctx *ctx = NULL;
    assert_int_equal(embed_ctx_new(e, &cp, &ctx, &err), PX_OK);
    struct vocab *v = build(k_cu, sizeof k_cu / sizeof *k_cu, "");
    struct vocab_embedder ve = {st_embed, ctx, (size_t)embedder_info(e)->dim};
    assert_int_equal(vocab_embed_values(v, &ve, &err), PX_OK);
    struct vocab_cand c[8];
    size_t n = 0;
    assert_int_equal(vocab_lookup_semantic(v, &ve, "Visa Platinum", 13, -1.0, c, 8, &n, &err),
                     PX_OK);
    assert_int_equal(n, 8);
    assert_string_equal(c[0].text, "Visa Platinum"); // its own text: cosine 1
    assert_true(c[0].confidence > 0.999);
    for (size_t i = 1; i < n; i++) {
        assert_true(c[i - 1].confidence >= c[i].confidence);
        assert_int_equal(c[i].how, VOCAB_EMBEDDING);
    }
    // a threshold above every other cosine keeps only the value itself
    assert_int_equal(vocab_lookup_semantic(v, &ve, "Visa Platinum", 13, 0.9999, c, 8, &n, &err),
                     PX_OK);
    assert_int_equal(n, 1);
    vocab_free(v);
    embed_ctx_free(ctx);
    embedder_close(e);
}

static void test_faults(void **state)
{
    (void)state;
    size_t live = px_mem_live_bytes();
    for (long k = 1;; k++) {
        px_mem_fail_at(k);
        struct vocab_params p = vocab_default_params();
        struct vocab *v = NULL;
        struct px_err err = {0};
        int rc = vocab_new(&p, &v, &err);
        for (size_t c = 0; rc == PX_OK && c < 3; c++) {
            rc = vocab_add_label(v, c, k_retail[c].label, &err);
            for (size_t i = 0; rc == PX_OK && k_retail[c].values[i] != NULL; i++) {
                rc = vocab_add_value(v, c, i, k_retail[c].values[i], &err);
            }
        }
        if (rc == PX_OK) {
            rc = vocab_add_grammar(v, "customers", &err);
        }
        if (rc == PX_OK) {
            rc = vocab_finish(v, &err);
        }
        int fired = px_mem_fault_fired();
        px_mem_fail_at(0);
        vocab_free(v);
        assert_int_equal(px_mem_live_bytes(), live);
        if (!fired) {
            assert_int_equal(rc, PX_OK);
            break;
        }
        assert_int_equal(rc, PX_ENOMEM);
        assert_true(k < 100000);
    }
}

// query_parse_vocab with every allocation failing in turn: typos corrected (the lower-cased
// copy grows), alternatives, derived forms; each failure is PX_ENOMEM or absorbed as benign,
// nothing leaks, and the plan without faults reads the vocabulary's matches.
static void test_parse_faults(void **state)
{
    (void)state;
    struct px_err err = {0};
    struct query_schema *s = NULL;
    struct query_lexicon *lex = NULL;
    static const char lexicon[] = "{\"people\": [\"customers\"], \"comparators\": [{\"words\": "
                                  "[\"above\"], \"op\": \"gt\"}], \"fillers\": [\"in\", \"and\"]}";
    static const double q[] = {300, 600, 700, 800, 850};
    assert_int_equal(query_schema_new(&s, &err), PX_OK);
    for (size_t c = 0; c < 6; c++) {
        size_t n = 0;
        while (k_retail[c].values[n] != NULL) {
            n++;
        }
        assert_int_equal(query_schema_add_category(s, k_retail[c].label, NULL, k_retail[c].values,
                                                   n, false, &err), PX_OK);
    }
    assert_int_equal(query_schema_add_numeric(s, "credit_score", NULL, QUERY_UNIT_NONE, 1, q, 5,
                                              &err), PX_OK);
    assert_int_equal(query_lexicon_parse(lexicon, sizeof lexicon - 1, &lex, &err), PX_OK);
    struct vocab *v = NULL;
    assert_int_equal(query_vocab_build(s, lex, NULL, &v, &err), PX_OK);
    const char *text = "custmers in Texas with credt score abve 800 and retirees";
    size_t live = px_mem_live_bytes();
    for (long k = 1;; k++) {
        px_mem_fail_at(k);
        struct query_plan *plan = NULL;
        int rc = query_parse_vocab(s, lex, v, text, strlen(text), &plan, &err);
        int fired = px_mem_fault_fired();
        px_mem_fail_at(0);
        if (fired == 1) {
            assert_int_equal(rc, PX_ENOMEM);
            assert_null(plan);
        } else {
            assert_int_equal(rc, PX_OK);
        }
        query_plan_free(plan);
        assert_int_equal(px_mem_live_bytes(), live);
        if (!fired) {
            break;
        }
        assert_true(k < 10000);
    }
    struct query_plan *plan = NULL;
    assert_int_equal(query_parse_vocab(s, lex, v, text, strlen(text), &plan, &err), PX_OK);
    int city = 0, score = 0, retired = 0;
    for (size_t i = 0; i < plan->n_filters; i++) {
        const struct query_filter *f = &plan->filters[i];
        city |= f->i_col == 5 && f->op == QUERY_OP_IN && f->n_values == 3; // Dallas, Houston, Austin
        score |= f->i_col == 6 && f->op == QUERY_OP_GT && f->lo == 800;   // credt, abve corrected
        retired |= f->i_col == 2 && f->n_values == 1 && strcmp(f->values[0], "Retired") == 0;
    }
    if (have_wordnet()) {
        assert_true(city);
        assert_true(retired);
    }
    assert_true(score);
    query_plan_free(plan);
    vocab_free(v);
    query_lexicon_free(lex);
    query_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retail_relatives), cmocka_unit_test(test_cu_relatives),
        cmocka_unit_test(test_wholesale_places), cmocka_unit_test(test_typos),
        cmocka_unit_test(test_no_wordnet),
        cmocka_unit_test(test_embedding_hook),   cmocka_unit_test(test_embedding_model),
        cmocka_unit_test(test_faults),           cmocka_unit_test(test_parse_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
