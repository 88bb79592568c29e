// test_recommend_cli.c — issue 6 end to end through the binary: generate a wholesale book,
// `recommend train` (metrics table, a saved version), `recommend --customer` (no held product,
// JSON in the API's shape, CSV), `recommend --all` to CSV and as JSON Lines, `eval` saves
// nothing, unknown customer and usage errors, then import the clients, `segment` them (stored,
// so search filters on "segment 1"; CSV), same seed same segments, k > rows is a clear error;
// `serve` refuses a recommender or wholesale book that shares no customer with its book.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char g_dir[256];

static int run(const char *fmt, const char *a, char **out, char **err)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, a, a, a, a, a);
    return tu_run_prospect(cmd, NULL, out, err);
}

static void test_flow(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    char *out = NULL, *err = NULL;
    assert_int_equal(run("generate --kind wholesale --customers 200 --products 40 "
                         "--transactions 3000 --out %s/ws",
                         g_dir, &out, &err),
                     0);
    free(out);
    free(err);
    assert_int_equal(
        run("recommend train --data %s/ws --registry %s/reg --epochs 30", g_dir, &out, &err), 0);
    assert_non_null(strstr(out, "popularity"));
    assert_non_null(strstr(out, "matrix factorisation"));
    assert_non_null(strstr(out, "/reg/recommender/1"));
    free(out);
    free(err);
    assert_int_equal(
        run("recommend --registry %s/reg --customer CUS-000007 --top 5 --json", g_dir, &out, &err),
        0);
    assert_non_null(strstr(out, "\"recommendations\": [{\"rank\": 1, \"product_id\": \"PROD-"));
    // none of them is held: every recommended id is absent from the customer's transactions
    char path[512];
    snprintf(path, sizeof path, "%s/ws/transactions.csv", g_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, ",CUS-000007,") != NULL) {
            char prod[32];
            char *p = strstr(line, "PROD-");
            assert_non_null(p);
            size_t n = strcspn(p, ",");
            snprintf(prod, sizeof prod, "\"%.*s\"", (int)n, p);
            assert_null(strstr(out, prod));
        }
    }
    fclose(f);
    free(out);
    free(err);
    assert_int_equal(
        run("recommend --registry %s/reg --all --top 3 --out %s/all.csv", g_dir, &out, &err), 0);
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/all.csv", g_dir);
    f = fopen(path, "r");
    assert_non_null(f);
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) {
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 1 + 200 * 3);
    assert_int_equal(run("recommend --registry %s/reg --customer NOPE", g_dir, &out, &err), 1);
    assert_non_null(strstr(err, "'NOPE' is not in the model"));
    free(out);
    free(err);
    assert_int_equal(run("recommend --registry %s/reg", g_dir, &out, &err), 2);
    free(out);
    free(err);
    // every output format: CSV of one customer, JSON Lines of all, eval's JSON saves nothing
    assert_int_equal(run("recommend --registry %s/reg --customer CUS-000007 --top 2 --format csv",
                         g_dir, &out, &err),
                     0);
    assert_non_null(strstr(out, "customer_id,rank,product_id,product,score\nCUS-000007,1,PROD-"));
    free(out);
    free(err);
    assert_int_equal(run("recommend --registry %s/reg --all --top 2 --json", g_dir, &out, &err), 0);
    lines = 0;
    for (char *l = out; *l; l = strchr(l, '\n') + 1) {
        assert_int_equal(strncmp(l, "{\"customer_id\": \"CUS-", 20), 0);
        lines++;
    }
    assert_int_equal(lines, 200);
    free(out);
    free(err);
    assert_int_equal(run("recommend eval --data %s/ws --registry %s/reg --epochs 3 --json", g_dir,
                         &out, &err),
                     0);
    assert_non_null(strstr(out, "\"model\": null"));
    assert_non_null(strstr(out, "\"matrix_factorisation\": {\"recall_at_5\": "));
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/reg/recommender/2", g_dir);
    assert_null(fopen(path, "r"));

    // segments
    assert_int_equal(run("import --csv %s/ws/customers.csv --db %s/db", g_dir, &out, &err), 0);
    free(out);
    free(err);
    assert_int_equal(run("segment --db %s/db --k 3 --seed 7 --json", g_dir, &out, &err), 0);
    char *first = out;
    assert_non_null(strstr(first, "\"k\": 3"));
    free(err);
    assert_int_equal(run("segment --db %s/db --k 3 --seed 7 --json", g_dir, &out, &err), 0);
    assert_string_equal(first, out); // same seed, same segments
    free(first);
    free(out);
    free(err);
    assert_int_equal(run("search --db %s/db --top 1000 \"segment 1\"", g_dir, &out, &err), 0);
    assert_non_null(strstr(out, "customers pass the filters"));
    free(out);
    free(err);
    assert_int_equal(run("segment --db %s/db --k 250", g_dir, &out, &err), 1);
    assert_non_null(strstr(err, "k 250 is more than the 200 rows"));
    free(out);
    free(err);
    assert_int_equal(run("segment --db %s/db --k-range 2..4 --on gat --registry %s/reg "
                         "--dry-run",
                         g_dir, &out, &err),
                     0);
    assert_non_null(strstr(out, "on gat (64 features)"));
    free(out);
    free(err);
    assert_int_equal(run("segment --db %s/db --k 3 --seed 7 --dry-run --format csv", g_dir, &out,
                         &err),
                     0);
    assert_non_null(strstr(out, "segment,size,share,traits\n1,"));
    assert_true(out == strstr(out, "segment,"));
    free(out);
    free(err);

    // serve refuses a recommender or wholesale book of another customer book, naming the counts
    assert_int_equal(run("generate --rows 40 --out %s/bank.csv >/dev/null && $PROSPECT_BIN import "
                         "--csv %s/bank.csv --db %s/other.db >/dev/null",
                         g_dir, &out, &err),
                     0);
    free(out);
    free(err);
    assert_int_equal(run("serve --db %s/other.db --registry %s/reg --recommender recommender "
                         "--port 0",
                         g_dir, &out, &err),
                     1);
    assert_non_null(strstr(err, "the recommender recommender/1's 200 customers share no id with "
                                "the customer book's 40"));
    free(out);
    free(err);
    assert_int_equal(run("serve --db %s/other.db --wholesale %s/ws --port 0", g_dir, &out, &err), 1);
    assert_non_null(strstr(err, "the wholesale book's 200 customers share no id"));
    free(out);
    free(err);
    tu_rmtree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_flow)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
