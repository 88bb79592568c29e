// test_train.c — `prospect train / score / explain / runs` end to end on a generated CSV: a run
// is saved as registry/NAME/1 then /2 with model.json and run.json; score, score --potential,
// explain (table, json, csv, HTML report) and runs list/best read it back; every bad input of the
// issue (target missing, not binary, a single class, an all-missing column, a non-numeric value
// in a numeric column, more features than rows) exits 1 with a clear message and writes nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testbank.h"
#include "testutil.h"

static char g_dir[256];

static int run(const char *args, char **out, char **err)
{
    char full[4096];
    // every "@" in args is the temporary directory
    size_t k = 0;
    for (const char *a = args; *a && k + 300 < sizeof full; a++) {
        if (*a == '@') {
            k += (size_t)snprintf(full + k, sizeof full - k, "%s", g_dir);
        } else {
            full[k++] = *a;
        }
    }
    full[k] = '\0';
    return tu_run_prospect(full, NULL, out, err);
}

static int exists(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", g_dir, rel);
    return stat(p, &st) == 0;
}

// 400 customers: income decides most of the target, region is a category, id is unique.
static void write_bank(void)
{
    static const char *const regions[] = {"north", "south", "east"};
    const struct tu_bank b = {"customer,income,spend,region,bought", 400, 12345, regions, 3};
    tu_write_bank(g_dir, "bank.csv", &b);
}

static void test_train_score_explain(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    write_bank();
    int st = run("train --csv @/bank.csv --target bought --name bank --registry @/reg --seed 7",
                 &out, &err);
    if (st != 0) {
        fail_msg("train failed: %s", err);
    }
    assert_non_null(strstr(err, "'customer': left out: ID-like"));
    assert_non_null(strstr(out, "fold 5"));
    assert_non_null(strstr(out, "test "));
    assert_non_null(strstr(out, "region=north"));
    assert_non_null(strstr(out, "saved bank/1"));
    assert_true(exists("reg/bank/1/model.json") && exists("reg/bank/1/run.json"));
    free(out);
    free(err);
    st = run("train --csv @/bank.csv --target bought --name bank --registry @/reg --seed 7 "
             "--format json --min-precision 0.9",
             &out, &err);
    assert_int_equal(st, 0);
    // the run record as GET /api/models/bank@2 answers it
    assert_non_null(strstr(out, "{\"id\": \"bank@2\", \"version\": 2, \"format\": \"prospect-run\""));
    assert_non_null(strstr(out, "\"sha256\""));
    assert_true(exists("reg/bank/2/model.json"));
    free(out);
    free(err);

    st = run("runs list --registry @/reg --format csv", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "bank,1,"));
    assert_non_null(strstr(out, "bank,2,"));
    free(out);
    free(err);
    st = run("runs best --metric f1 --registry @/reg --format json", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"name\": \"bank\""));
    free(out);
    free(err);
    st = run("runs best --registry @/reg --json", &out, &err); // default: auc_roc on test
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"best\": {\"metric\": \"auc_roc\", \"split\": \"test\"}"));
    free(out);
    free(err);
    st = run("train --csv @/bank.csv --target bought --name bank --registry @/reg --seed 7 "
             "--folds 2 --format csv",
             &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "split,auc_roc,auc_pr,precision,recall,f1,threshold,"));
    assert_non_null(strstr(out, "\nfold2,"));
    assert_non_null(strstr(out, "\ntest,"));
    free(out);
    free(err);
    st = run("runs best --metric nope --registry @/reg", &out, &err);
    assert_int_equal(st, 2);
    free(out);
    free(err);

    st = run("score --model bank/1 --csv @/bank.csv --registry @/reg --format csv", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "customer,line,probability,label,actual,to_threshold,reasons\nK0000,2,"));
    free(out);
    free(err);
    st = run("score --model bank --csv @/bank.csv --registry @/reg --potential --out @/pot.csv",
             &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(err, "score at or above the threshold"));
    assert_true(exists("pot.csv"));
    free(out);
    free(err);

    st = run("explain --model bank/1 --csv @/bank.csv --registry @/reg --id K0003 --top 3 "
             "--report @/r.html",
             &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "SHAP values add up to the margin"));
    assert_non_null(strstr(out, "K0003 (line 5)"));
    assert_non_null(strstr(out, "tipping feature"));
    assert_true(exists("r.html"));
    free(out);
    free(err);
    st = run("explain --model bank/1 --csv @/bank.csv --registry @/reg --format json "
             "--dependence income",
             &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"max_sum_diff\""));
    assert_non_null(strstr(out, "\"dependence\": [{\"feature\": \"income\", \"points\": [["));
    free(out);
    free(err);
    st = run("tipping --model bank/1 --csv @/bank.csv --registry @/reg --k 2 --format json", &out,
             &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"list_a\": ["));
    assert_non_null(strstr(out, "\"list_b\": ["));
    assert_non_null(strstr(out, "\"summary\": {\"a\": {\"rows\": "));
    free(out);
    free(err);
    st = run("lookalike --model bank/1 --csv @/bank.csv --registry @/reg --features income", &out,
             &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "vectors: standardised model features"));
    assert_non_null(strstr(out, "tipping: income"));
    assert_null(strstr(out, "tipping: spend"));
    free(out);
    free(err);
    st = run("explain --model bank/9 --csv @/bank.csv --registry @/reg", &out, &err);
    assert_int_equal(st, 1);
    assert_non_null(strstr(err, "no version 9"));
    free(out);
    free(err);
}

struct bad {
    const char *csv; // file content
    const char *target;
    const char *msg; // expected on stderr
};

// The generated retail bank (issue 14): list columns multi-hot, a leakage warning for
// digital_user (monthly_logins), a categorical target one-vs-rest, the grid and calibration in
// the answer and in run.json, the potential list on the training file scored out-of-fold, and
// tipping that holds age fixed and does not step rows already above the threshold.
static void test_retail_bank(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run("generate --rows 2000 --seed 3 --out @/retail.csv", &out, &err), 0);
    free(out);
    free(err);
    int st = run("train --csv @/retail.csv --target digital_user --name dig --registry @/reg",
                 &out, &err);
    if (st != 0) {
        fail_msg("train failed: %s", err);
    }
    assert_non_null(strstr(err, "'products_held': list, multi-hot over"));
    assert_non_null(strstr(err, "leakage warning: 'monthly_logins' alone reaches AUC"));
    assert_non_null(strstr(out, "grid: 16 cells; chosen: eta"));
    assert_non_null(strstr(out, "calibration: "));
    free(out);
    free(err);
    st = run("train --csv @/retail.csv --target segment --positive Private --name seg "
             "--registry @/reg --format json",
             &out, &err);
    if (st != 0) {
        fail_msg("train failed: %s", err);
    }
    assert_non_null(strstr(err, "one-vs-rest: 'Private' against the other"));
    assert_non_null(strstr(out, "\"one_vs_rest\": true"));
    assert_non_null(strstr(out, "\"negative\": \"not Private\""));
    assert_non_null(strstr(out, "\"grid\": {\"metric\": \"auc_roc\""));
    assert_non_null(strstr(out, "\"calibration\": {\"method\": "));
    assert_non_null(strstr(out, "\"reliability\": ["));
    assert_non_null(strstr(out, "\"mean_predicted\""));
    assert_non_null(strstr(out, "\"path\": \"heldout.csv\""));
    assert_true(exists("reg/seg/1/heldout.csv"));
    free(out);
    free(err);
    st = run("score --model seg --csv @/retail.csv --registry @/reg --potential --format json",
             &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"out_of_fold\": true"));
    assert_non_null(strstr(err, "scored out-of-fold"));
    free(out);
    free(err);
    st = run("tipping --model seg --csv @/retail.csv --registry @/reg --top 20", &out, &err);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "held fixed"));
    assert_non_null(strstr(out, "'age' (age-like"));
    assert_null(strstr(out, "tipping: age "));
    assert_non_null(strstr(out, "summary: List A:"));
    free(out);
    free(err);
}

static void test_bad_input_writes_nothing(void **state)
{
    (void)state;
    static char many[8192], nonnum[16384], allmissing[16384];
    size_t a = (size_t)snprintf(many, sizeof many, "a,b,c,d,e,f,t\n");
    for (int i = 0; i < 4; i++) {
        a += (size_t)snprintf(many + a, sizeof many - a, "%d,%d,%d,%d,%d,%d,%s\n", i, i * 2, i + 7,
                              i % 2, i * 3 % 5, i + 1, i % 2 ? "yes" : "no");
    }
    size_t b = (size_t)snprintf(nonnum, sizeof nonnum, "x,t\n");
    size_t c = (size_t)snprintf(allmissing, sizeof allmissing, "x,empty,t\n");
    for (int i = 0; i < 60; i++) {
        b += (size_t)snprintf(nonnum + b, sizeof nonnum - b, "%s,%s\n", i == 30 ? "n/a" : "5",
                              i % 2 ? "1" : "0");
        c += (size_t)snprintf(allmissing + c, sizeof allmissing - c, "%d,,%s\n", i % 9,
                              i % 2 ? "1" : "0");
    }
    // the non-numeric case needs a varying column: rewrite "5" by row number
    b = (size_t)snprintf(nonnum, sizeof nonnum, "x,t\n");
    for (int i = 0; i < 60; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i % 9);
        b += (size_t)snprintf(nonnum + b, sizeof nonnum - b, "%s,%s\n", i == 30 ? "n/a" : v,
                              i % 2 ? "1" : "0");
    }
    const struct bad cases[] = {
        {"x,t\n1,0\n2,1\n", "loan", "no target column 'loan'"},
        {"x,t\n1,a\n2,b\n3,c\n", "t", "not binary"},
        {"x,t\n1,1\n2,1\n3,1\n", "t", "single class"},
        {allmissing, "t", "'empty' has no values in any row"},
        {nonnum, "t", "line 32, column 'x': 'n/a' is not a number"},
        {many, "t", "more features than rows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *err = NULL, args[512];
        tu_write_text(g_dir, "bad.csv", cases[i].csv);
        snprintf(args, sizeof args,
                 "train --csv @/bad.csv --target %s --name bad --registry @/breg", cases[i].target);
        int st = run(args, &out, &err);
        if (st != 1 || strstr(err, cases[i].msg) == NULL) {
            fail_msg("case %zu: exit %d, stderr '%s', expected '%s'", i, st, err, cases[i].msg);
        }
        assert_false(exists("breg"));
        free(out);
        free(err);
    }
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_score_explain),
        cmocka_unit_test(test_bad_input_writes_nothing),
        cmocka_unit_test(test_retail_bank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
