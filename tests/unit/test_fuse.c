// test_fuse.c — reciprocal rank fusion (k_rrf = 60): order of fused lists, ties by lower id,
// additive boosts, weights, duplicates, truncation, invalid input; boosts_first (boost sum,
// then RRF, then id) and weight-0 lists.
#include <math.h>
#include <string.h>

#include "testutil.h"

#include "fuse.h"

#define MAXN 8

struct fcase {
    const char *name;
    uint32_t dense[MAXN];
    size_t n_dense;
    uint32_t lex[MAXN];
    size_t n_lex;
    float w_lex;
    struct fuse_boost boosts[4];
    size_t n_boosts;
    size_t k;
    uint32_t want[MAXN];
    size_t n_want;
};

static const struct fcase CASES[] = {
    // 1: 1/61 + 1/62 = .032522; 3: 1/63 + 1/61 = .032266; 2: 1/62; 4: 1/63
    {"two lists", {1, 2, 3}, 3, {3, 1, 4}, 3, 1.0f, {{0, 0}}, 0, 10, {1, 3, 2, 4}, 4},
    {"mirror ranks tie, lower id first", {6, 5}, 2, {5, 6}, 2, 1.0f, {{0, 0}}, 0, 10, {5, 6}, 2},
    {"boost lifts id 2 over 1", {1, 2, 3}, 3, {3, 1, 4}, 3, 1.0f, {{2, 0.02f}}, 1, 10,
     {2, 1, 3, 4}, 4},
    {"boost of an unranked id is ignored", {1, 2}, 2, {0}, 0, 1.0f, {{99, 5.0f}}, 1, 10, {1, 2}, 2},
    {"negative boost (penalty)", {1, 2}, 2, {0}, 0, 1.0f, {{1, -0.01f}}, 1, 10, {2, 1}, 2},
    {"boosts of one id add up", {1, 2}, 2, {0}, 0, 1.0f, {{2, 0.0002f}, {2, 0.0002f}}, 2, 10,
     {2, 1}, 2},
    {"lexical weight 0 keeps dense order", {7, 8, 9}, 3, {9, 8, 7}, 3, 0.0f, {{0, 0}}, 0, 10,
     {7, 8, 9}, 3},
    {"duplicate in a list counts at its best rank", {1, 2, 1}, 3, {2}, 1, 1.0f, {{0, 0}}, 0, 10,
     {2, 1}, 2},
    {"k truncates", {1, 2, 3}, 3, {3, 1, 4}, 3, 1.0f, {{0, 0}}, 0, 2, {1, 3}, 2},
    {"empty lists", {0}, 0, {0}, 0, 1.0f, {{0, 0}}, 0, 10, {0}, 0},
};

static void test_fuse_rrf_ordering(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const struct fcase *fc = &CASES[c];
        struct fuse_list lists[2] = {{fc->dense, fc->n_dense, 1.0f}, {fc->lex, fc->n_lex, fc->w_lex}};
        struct fuse_hit out[MAXN];
        size_t n = 99;
        struct px_err err = {0};
        int rc = fuse_rrf(lists, 2, fc->boosts, fc->n_boosts, NULL, fc->k, out, &n, &err);
        if (rc != PX_OK || n != fc->n_want) {
            fail_msg("case %zu (%s): rc %d, %zu hits, expected %zu", c, fc->name, rc, n, fc->n_want);
        }
        for (size_t i = 0; i < n; i++) {
            if (out[i].id != fc->want[i]) {
                fail_msg("case %zu (%s): rank %zu is id %u, expected %u", c, fc->name, i, out[i].id,
                         fc->want[i]);
            }
        }
    }
}

static void test_fuse_rrf_scores_and_errors(void **state)
{
    (void)state;
    const uint32_t a[] = {1, 2, 3}, b[] = {3, 1, 4};
    struct fuse_list lists[2] = {{a, 3, 1.0f}, {b, 3, 1.0f}};
    struct fuse_hit out[4];
    size_t n = 0;
    struct px_err err = {0};
    assert_true(fuse_default_params().k_rrf == 60.0f);
    assert_int_equal(fuse_rrf(lists, 2, NULL, 0, NULL, 4, out, &n, &err), PX_OK);
    assert_true(fabs(out[0].score - (1.0 / 61 + 1.0 / 62)) < 1e-7);
    assert_true(fabs(out[3].score - 1.0 / 63) < 1e-7);
    struct fuse_params p = {.k_rrf = 1.0f};
    assert_int_equal(fuse_rrf(lists, 2, NULL, 0, &p, 4, out, &n, &err), PX_OK);
    assert_true(fabs(out[0].score - (1.0 / 2 + 1.0 / 3)) < 1e-7);
    p.k_rrf = 0.0f;
    assert_int_equal(fuse_rrf(lists, 2, NULL, 0, &p, 4, out, &n, &err), PX_EINVAL);
    lists[1].weight = NAN;
    assert_int_equal(fuse_rrf(lists, 2, NULL, 0, NULL, 4, out, &n, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "list 1"));
    lists[1].weight = 1.0f;
    struct fuse_boost bad = {3, INFINITY};
    assert_int_equal(fuse_rrf(lists, 2, &bad, 1, NULL, 4, out, &n, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "id 3"));
    struct fuse_list many[9];
    for (int i = 0; i < 9; i++) {
        many[i] = lists[0];
    }
    assert_int_equal(fuse_rrf(many, 9, NULL, 0, NULL, 4, out, &n, &err), PX_ELIMIT);
}

// boosts_first: the boost sum leads, the RRF sum orders equal boosts, then the lower id; a list
// of weight 0 makes its ids rankable without adding to their sum.
static void test_fuse_boosts_first(void **state)
{
    (void)state;
    // dense 1 2 3 4; lexical 4 3; weight-0 list 9 (a row only the boosts picked)
    const uint32_t dense[] = {1, 2, 3, 4}, lex[] = {4, 3}, picked[] = {9};
    struct fuse_list lists[3] = {{dense, 4, 1.0f}, {lex, 2, 1.0f}, {picked, 1, 0.0f}};
    // 9 and 2 meet boosts worth 1.0, 4 one worth 0.5; 1 and 3 none
    const struct fuse_boost boosts[] = {{9, 1.0f}, {2, 1.0f}, {4, 0.5f}};
    struct fuse_params p = fuse_default_params();
    p.boosts_first = 1;
    struct fuse_hit out[8];
    size_t n = 0;
    struct px_err err = {0};
    assert_int_equal(fuse_rrf(lists, 3, boosts, 3, &p, 8, out, &n, &err), PX_OK);
    // 2 (boost 1, rrf 1/62) before 9 (boost 1, rrf 0); 4 (0.5); then 3 (1/63 + 1/62) before 1
    // (1/61): the RRF orders the unboosted
    const uint32_t want[] = {2, 9, 4, 3, 1};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        if (out[i].id != want[i]) fail_msg("rank %zu is id %u, expected %u", i, out[i].id, want[i]);
    }
    assert_true(out[0].boost == 1.0f && out[2].boost == 0.5f && out[4].boost == 0.0f);
    // a small boost on id 1 (rrf 1/61): added (the default), 4 (1/64 + 1/61) and 3 (1/63 +
    // 1/62) still lead it (1/61 + .001); boosts first, it leads
    const struct fuse_boost small[] = {{1, 0.001f}};
    assert_int_equal(fuse_rrf(lists, 2, small, 1, NULL, 8, out, &n, &err), PX_OK);
    assert_int_equal(out[0].id, 4);
    assert_int_equal(out[1].id, 3);
    assert_int_equal(out[2].id, 1);
    assert_int_equal(fuse_rrf(lists, 2, small, 1, &p, 8, out, &n, &err), PX_OK);
    assert_int_equal(out[0].id, 1);
    assert_int_equal(out[1].id, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuse_rrf_ordering),
        cmocka_unit_test(test_fuse_boosts_first),
        cmocka_unit_test(test_fuse_rrf_scores_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
