// fuzz_lexicon.c — the lexicon file (a user's --lexicon over data/lexicon.json) on arbitrary
// bytes: query_lexicon_parse of the bytes alone, and query_lexicon_merge of the bytes over the
// real lexicon (compiled in, src/app/assets.h). Invariants: parse returns PX_OK or a failure
// with a message and a NULL lexicon; merge returns PX_OK or a failure with a message that names
// the source ("user.json") and leaves the lexicon usable; either lexicon then parses a few fixed
// queries against a small schema (PX_OK, or PX_EUTF8/PX_ELIMIT only); nothing leaks.
// Replayed over tests/fuzz/corpus/lexicon/ by ctest; a libFuzzer target with -DPX_FUZZ=ON
// (use tests/fuzz/fuzz_lexicon.dict).
#include <stdint.h>
#include <string.h>

#include "assets.h"
#include "limits.h"
#include "mem.h"
#include "query.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct query_schema *g_schema;

static void build_schema(void)
{
    static const double q_age[] = {18, 32, 45, 58, 90};
    static const double q_income[] = {12000, 45000, 72000, 120000, 2500000};
    static const char *const segment[] = {"Mass", "Affluent", "Private"};
    static const char *const products[] = {"Checking", "Mortgage", "Credit Card"};
    struct query_schema *s = NULL;
    CHECK(query_schema_new(&s, NULL) == PX_OK);
    CHECK(query_schema_add_other(s, "customer_id", NULL, QUERY_COL_ID, NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "age", NULL, QUERY_UNIT_NONE, 1, q_age, 5, NULL) == PX_OK);
    CHECK(query_schema_add_numeric(s, "annual_income", NULL, QUERY_UNIT_CURRENCY, 1, q_income, 5,
                                   NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "segment", NULL, segment, 3, false, NULL) == PX_OK);
    CHECK(query_schema_add_category(s, "products_held", NULL, products, 3, true, NULL) == PX_OK);
    CHECK(query_schema_add_bool(s, "digital_user", NULL, NULL) == PX_OK);
    g_schema = s;
}

// The lexicon answers queries: every plan is well-formed enough to free.
static void use(const struct query_lexicon *lex)
{
    static const char *const queries[] = {
        "affluent customers over 65 with a mortgage", "not digital, income under $50k",
        "customers in their thirties who are not Private", "high income or more 3"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        struct query_plan *plan = NULL;
        struct px_err err = {0};
        int rc = query_parse(g_schema, lex, queries[i], strlen(queries[i]), &plan, &err);
        CHECK(rc == PX_OK || rc == PX_EUTF8 || rc == PX_ELIMIT);
        CHECK((rc == PX_OK) == (plan != NULL));
        if (plan != NULL) {
            CHECK(plan->semantic_len <= strlen(queries[i]));
            query_plan_free(plan);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_schema == NULL) {
        build_schema();
    }
    if (size > LIMIT_LEXICON_BYTES) {
        return 0;
    }
    size_t live = px_mem_live_bytes();
    const char *text = (const char *)data;
    struct px_err err = {0};
    struct query_lexicon *lex = NULL;
    int rc = query_lexicon_parse(text, size, &lex, &err);
    if (rc != PX_OK) {
        CHECK(lex == NULL && err.msg[0] != '\0');
    } else {
        CHECK(lex != NULL);
        use(lex);
        query_lexicon_free(lex);
    }
    // over the real lexicon, as `--lexicon FILE` does
    lex = NULL;
    CHECK(query_lexicon_parse((const char *)px_asset_lexicon, px_asset_lexicon_len, &lex, NULL) ==
          PX_OK);
    memset(&err, 0, sizeof err);
    rc = query_lexicon_merge(lex, text, size, "user.json", &err);
    if (rc != PX_OK) {
        CHECK(err.msg[0] != '\0' && strstr(err.msg, "user.json") != NULL);
    }
    use(lex); // valid either way
    query_lexicon_free(lex);
    CHECK(px_mem_live_bytes() == live);
    return 0;
}
