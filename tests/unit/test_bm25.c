// test_bm25.c — BM25 scores hand-computed on a 4-document corpus (k1 = 1.2, b = 0.75), rare-term
// weighting, stop words and case folding, candidate restriction, ties, errors, allocation
// failures.
//
// Corpus after stop-word removal (N = 4, total 13 terms, avgdl = 3.25):
//   d0 "retired teacher likes golf"        4 terms
//   d1 "young teacher"                     2
//   d2 "golf golf golf investor"           4
//   d3 "retired investor with pension"     3 ("with" is a stop word)
// golf: df 2, idf = ln(1 + 2.5 / 2.5) = ln 2 = 0.693147
//   d0: tf 1, K = 1.2 (0.25 + 0.75 * 4 / 3.25) = 1.407692 -> 0.693147 * 2.2 / 2.407692 = 0.633355
//   d2: tf 3 -> 0.693147 * 3 * 2.2 / (3 + 1.407692) = 1.037906
// pension: df 1, idf = ln(1 + 3.5 / 1.5) = 1.203973; d3: K = 1.130769 -> 1.243091
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "bitmap.h"
#include "bm25.h"
#include "mem.h"

static const char *const DOCS[4] = {
    "Retired teacher, likes GOLF.",
    "young teacher",
    "golf golf golf investor",
    "retired investor with pension",
};

static struct bm25 *corpus(void)
{
    struct bm25 *ix = NULL;
    struct px_err err = {0};
    assert_int_equal(bm25_new(NULL, &ix, &err), PX_OK);
    for (uint32_t d = 0; d < 4; d++) {
        assert_int_equal(bm25_add_doc(ix, d, DOCS[d], strlen(DOCS[d]), &err), PX_OK);
    }
    assert_int_equal(bm25_finalize(ix, &err), PX_OK);
    return ix;
}

static void test_bm25_hand_computed_scores(void **state)
{
    (void)state;
    static const struct {
        const char *query;
        float want[4];
    } cases[] = {
        {"golf", {0.633355f, 0, 1.037906f, 0}},
        {"pension", {0, 0, 0, 1.243091f}},
        {"retired golf", {1.266710f, 0, 1.037906f, 0.715668f}},
        {"Golf! golf, GOLF", {0.633355f, 0, 1.037906f, 0}}, // case folded, repeats count once
        {"teacher investor", {0.633355f, 0.822573f, 0.633355f, 0.715668f}},
        {"the and of with", {0, 0, 0, 0}}, // stop words only
        {"unknownword", {0, 0, 0, 0}},
        {"", {0, 0, 0, 0}},
    };
    struct bm25 *ix = corpus();
    struct px_err err = {0};
    assert_int_equal(bm25_doc_count(ix), 4);
    assert_int_equal(bm25_id_bound(ix), 4);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float s[4];
        assert_int_equal(bm25_score(ix, cases[c].query, strlen(cases[c].query), NULL, s, 4, &err),
                         PX_OK);
        for (int d = 0; d < 4; d++) {
            if (fabsf(s[d] - cases[c].want[d]) > 2e-6f) {
                fail_msg("case %zu '%s': doc %d scores %.6f, expected %.6f", c, cases[c].query, d,
                         s[d], cases[c].want[d]);
            }
        }
    }
    bm25_free(ix);
}

static void test_bm25_rare_terms_weigh_more_and_ties_by_id(void **state)
{
    (void)state;
    struct bm25 *ix = corpus();
    struct px_err err = {0};
    struct bm25_hit h[4];
    size_t n = 0;
    // pension (df 1) outweighs golf (df 2) in docs of similar length
    assert_int_equal(bm25_search(ix, "golf pension", 12, NULL, 4, h, &n, &err), PX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(h[0].doc_id, 3);
    assert_int_equal(h[1].doc_id, 2);
    assert_int_equal(h[2].doc_id, 0);
    // d0 and d2 tie exactly on "teacher investor": lower id first
    assert_int_equal(bm25_search(ix, "teacher investor", 16, NULL, 4, h, &n, &err), PX_OK);
    assert_int_equal(n, 4);
    assert_int_equal(h[0].doc_id, 1);
    assert_int_equal(h[1].doc_id, 3);
    assert_int_equal(h[2].doc_id, 0);
    assert_int_equal(h[3].doc_id, 2);
    assert_true(h[2].score == h[3].score);
    // k truncates
    assert_int_equal(bm25_search(ix, "teacher investor", 16, NULL, 2, h, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    bm25_free(ix);
}

static void test_bm25_candidates_restrict(void **state)
{
    (void)state;
    struct bm25 *ix = corpus();
    struct px_err err = {0};
    struct bitmap *cand = NULL;
    assert_int_equal(bitmap_new(4, &cand, &err), PX_OK);
    bitmap_set(cand, 0);
    bitmap_set(cand, 3);
    float s[4];
    assert_int_equal(bm25_score(ix, "retired golf", 12, cand, s, 4, &err), PX_OK);
    assert_true(fabsf(s[0] - 1.266710f) < 2e-6f);
    assert_true(s[2] == 0.0f); // golf's best doc is not a candidate
    assert_true(fabsf(s[3] - 0.715668f) < 2e-6f);
    struct bm25_hit h[4];
    size_t n = 0;
    assert_int_equal(bm25_search(ix, "golf", 4, cand, 4, h, &n, &err), PX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].doc_id, 0);
    bitmap_zero(cand);
    assert_int_equal(bm25_search(ix, "golf", 4, cand, 4, h, &n, &err), PX_OK);
    assert_int_equal(n, 0);
    bitmap_free(cand);
    bm25_free(ix);
}

static void test_bm25_terms_and_errors(void **state)
{
    (void)state;
    struct bm25 *ix = NULL;
    struct px_err err = {0};
    struct bm25_params p = bm25_default_params();
    assert_true(p.k1 == 1.2f && p.b == 0.75f);
    p.stop_words = false;
    assert_int_equal(bm25_new(&p, &ix, &err), PX_OK);
    const char *terms[] = {"the", "golf", "golf"};
    assert_int_equal(bm25_add_terms(ix, 10, terms, 3, &err), PX_OK);
    assert_int_equal(bm25_add_terms(ix, 10, terms, 1, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "doc 10"));
    float s[11];
    assert_int_equal(bm25_score(ix, "golf", 4, NULL, s, 11, &err), PX_EINVAL); // not finalized
    assert_int_equal(bm25_add_doc(ix, 3, "The golf", 8, &err), PX_OK);
    assert_int_equal(bm25_finalize(ix, &err), PX_OK);
    assert_int_equal(bm25_add_doc(ix, 4, "x", 1, &err), PX_EINVAL);
    assert_int_equal(bm25_score(ix, "the", 3, NULL, s, 10, &err), PX_EINVAL); // array too short
    assert_int_equal(bm25_score(ix, "the", 3, NULL, s, 11, &err), PX_OK);
    assert_true(s[3] > 0.0f && s[10] > 0.0f && s[0] == 0.0f); // "the" kept without stop words
    bm25_free(ix);
    p.b = 1.5f;
    assert_int_equal(bm25_new(&p, &ix, &err), PX_EINVAL);
    bm25_free(NULL);
}

struct fault_user {
    struct bm25 *ix;
};

static int open_corpus(void *user, struct px_err *err)
{
    struct fault_user *u = user;
    int rc = bm25_new(NULL, &u->ix, err);
    char text[64];
    for (uint32_t d = 0; rc == PX_OK && d < 40; d++) {
        snprintf(text, sizeof text, "word%u shared term%u other%u", d, d % 7, d % 3);
        rc = bm25_add_doc(u->ix, d * 3, text, strlen(text), err);
    }
    if (rc == PX_OK) {
        rc = bm25_finalize(u->ix, err);
    }
    if (rc == PX_OK) {
        struct bm25_hit h[5];
        size_t n = 0;
        rc = bm25_search(u->ix, "term3 shared", 12, NULL, 5, h, &n, err);
    }
    return rc;
}

static void close_corpus(void *user)
{
    struct fault_user *u = user;
    bm25_free(u->ix);
    u->ix = NULL;
}

static void test_bm25_alloc_failures(void **state)
{
    (void)state;
    struct fault_user u = {0};
    assert_true(tu_check_alloc_failures(open_corpus, close_corpus, &u) >= 5);
}

static int cmp_ref(const void *pa, const void *pb)
{
    const struct bm25_hit *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->doc_id < b->doc_id ? -1 : a->doc_id > b->doc_id;
}

// bm25_search's bounded top-k agrees with scoring everything and sorting it all, for k below,
// at and above the number of matches, on a corpus with many exact ties (documents of few words
// from a small vocabulary) and with a candidate set.
static void test_bm25_top_k_matches_full_sort(void **state)
{
    (void)state;
    static const char *const words[] = {"gold", "silver", "loan", "card", "saver", "pension"};
    enum { N_DOCS = 3000 };
    struct bm25 *ix = NULL;
    struct px_err err = {0};
    struct bitmap *cand = NULL;
    assert_int_equal(bm25_new(NULL, &ix, &err), PX_OK);
    assert_int_equal(bitmap_new(N_DOCS, &cand, &err), PX_OK);
    unsigned seed = 12345;
    for (uint32_t d = 0; d < N_DOCS; d++) {
        char text[128] = "";
        int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 4;
        for (int w = 0; w < n; w++) {
            seed = seed * 1103515245u + 12345u;
            strcat(text, words[(seed >> 16) % 6]);
            strcat(text, " ");
        }
        assert_int_equal(bm25_add_doc(ix, d, text, strlen(text), &err), PX_OK);
        if (d % 3 != 0) bitmap_set(cand, d);
    }
    assert_int_equal(bm25_finalize(ix, &err), PX_OK);
    static float scores[N_DOCS];
    static struct bm25_hit all[N_DOCS], got[N_DOCS];
    const char *queries[] = {"gold", "gold loan", "card saver pension silver"};
    const size_t ks[] = {1, 7, 100, 1000, N_DOCS};
    for (int c = 0; c < 2; c++) {
        for (size_t q = 0; q < 3; q++) {
            const struct bitmap *cs = c ? cand : NULL;
            assert_int_equal(bm25_score(ix, queries[q], strlen(queries[q]), cs, scores, N_DOCS, &err), PX_OK);
            size_t m = 0;
            for (uint32_t d = 0; d < N_DOCS; d++) {
                if (scores[d] > 0) all[m++] = (struct bm25_hit){d, scores[d]};
            }
            qsort(all, m, sizeof *all, cmp_ref);
            for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
                size_t n = 0;
                assert_int_equal(bm25_search(ix, queries[q], strlen(queries[q]), cs, ks[i], got, &n, &err), PX_OK);
                assert_int_equal(n, m < ks[i] ? m : ks[i]);
                for (size_t j = 0; j < n; j++) {
                    if (got[j].doc_id != all[j].doc_id || got[j].score != all[j].score) {
                        fail_msg("'%s' k %zu: hit %zu is doc %u, want %u", queries[q], ks[i], j,
                                 got[j].doc_id, all[j].doc_id);
                    }
                }
            }
        }
    }
    bitmap_free(cand);
    bm25_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bm25_hand_computed_scores),
        cmocka_unit_test(test_bm25_rare_terms_weigh_more_and_ties_by_id),
        cmocka_unit_test(test_bm25_top_k_matches_full_sort),
        cmocka_unit_test(test_bm25_candidates_restrict),
        cmocka_unit_test(test_bm25_terms_and_errors),
        cmocka_unit_test(test_bm25_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
