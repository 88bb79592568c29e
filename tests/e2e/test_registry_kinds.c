// test_registry_kinds.c — one registry for every kind of model, end to end: a search bundle
// (`bundle create`), a propensity model (`train`) and a recommender (`recommend train`)
// registered as versions in the same registry; `bundle list` shows all three with their kind,
// `runs list` only the propensity model; a name that holds one kind refuses another kind's
// version; stages work as model references (NAME@production); `serve --bundle` refuses a model
// that is not a search bundle; a changed model.json / model.bin or an extra file is refused by
// name; `bundle delete` works on a trained model.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_registry.h"
#include "testbank.h"
#include "testutil.h"

static char g_dir[256];

// Runs prospect with args (printf format); *out and *err are owned by the caller.
static int run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char **out, char **err, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    free(*out);
    free(*err);
    *out = *err = NULL;
    return tu_run_prospect(cmd, NULL, out, err);
}

// 300 customers: income decides most of the target.
static void write_bank(void)
{
    static const char *const regions[] = {"south", "north"};
    const struct tu_bank b = {"customer,income,spend,region,bought", 300, 777, regions, 2};
    tu_write_bank(g_dir, "bank.csv", &b);
}

// Flips one byte of g_dir/rel in place.
static void flip(const char *rel, long at)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, at, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(ch ^ 0x21, f);
    fclose(f);
}

static void test_one_registry(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *d = g_dir;
    write_bank();
    // three kinds, three names, one registry
    if (run(&out, &err, "import --csv %s/bank.csv --db %s/bank.db", d, d) != 0)
        fail_msg("import: %s", err);
    if (run(&out, &err, "bundle create --name Finder --db %s/bank.db --registry %s/reg", d, d) != 0)
        fail_msg("bundle create: %s", err);
    if (run(&out, &err,
            "train --csv %s/bank.csv --target bought --name Bought --registry %s/reg --seed 7", d,
            d) != 0)
        fail_msg("train: %s", err);
    assert_non_null(strstr(out, "saved Bought/1"));
    if (run(&out, &err,
            "generate --kind wholesale --customers 120 --products 30 --transactions 1500 "
            "--out %s/ws",
            d) != 0)
        fail_msg("generate: %s", err);
    if (run(&out, &err, "recommend train --data %s/ws --name Rec --registry %s/reg --epochs 5", d,
            d) != 0)
        fail_msg("recommend train: %s", err);

    // bundle list: every kind, with a KIND column; --json says the kind
    assert_int_equal(run(&out, &err, "bundle list --registry %s/reg", d), 0);
    assert_non_null(strstr(out, "KIND"));
    assert_non_null(strstr(out, "search"));
    assert_non_null(strstr(out, "propensity"));
    assert_non_null(strstr(out, "recommender"));
    assert_int_equal(run(&out, &err, "bundle list --registry %s/reg --json", d), 0);
    assert_non_null(strstr(out, "\"name\": \"Bought\", \"version\": 1, \"kind\": \"propensity\""));
    assert_non_null(strstr(out, "\"name\": \"Rec\", \"version\": 1, \"kind\": \"recommender\""));
    assert_non_null(strstr(out, "\"name\": \"Finder\", \"version\": 1, \"kind\": \"search\""));
    // show --verify works for each kind and shows the kind's MLmodel flavor
    assert_int_equal(run(&out, &err, "bundle show Bought --verify --registry %s/reg", d), 0);
    assert_non_null(strstr(out, "kind      propensity"));
    assert_non_null(strstr(out, "kind: propensity"));
    assert_non_null(strstr(out, "\"name\": \"income\", \"type\": \"long\""));
    assert_non_null(strstr(out, "ok, every checksum matches"));
    assert_int_equal(run(&out, &err, "bundle show Rec --verify --registry %s/reg --json", d), 0);
    assert_non_null(strstr(out, "prospect-recommender")); // recommender.json
    assert_non_null(strstr(out, "kind: recommender"));
    // runs list: the propensity model only
    assert_int_equal(run(&out, &err, "runs list --registry %s/reg --format csv", d), 0);
    assert_non_null(strstr(out, "Bought,1,"));
    assert_null(strstr(out, "Finder"));
    assert_null(strstr(out, "Rec,"));

    // a name holds one kind
    assert_int_equal(run(&out, &err,
                         "train --csv %s/bank.csv --target bought --name Finder --registry %s/reg",
                         d, d),
                     1);
    assert_non_null(strstr(err, "'Finder' holds a search bundle; a propensity model cannot"));
    assert_int_equal(run(&out, &err,
                         "recommend train --data %s/ws --name Bought --registry %s/reg --epochs 2",
                         d, d),
                     1);
    assert_non_null(strstr(err, "'Bought' holds a propensity model; a recommender cannot"));
    assert_int_equal(
        run(&out, &err, "bundle create --name Rec --db %s/bank.db --registry %s/reg", d, d), 1);
    assert_non_null(strstr(err, "'Rec' holds a recommender"));
    // loading checks the kind too
    assert_int_equal(run(&out, &err, "score --model Rec --csv %s/bank.csv --registry %s/reg", d, d),
                     1);
    assert_non_null(strstr(err, "Rec/1: a recommender, not a propensity model"));
    assert_int_equal(
        run(&out, &err, "recommend --model Finder --customer CUS-000007 --registry %s/reg", d), 1);
    assert_non_null(strstr(err, "Finder/1: a search bundle, not a recommender"));
    char reg[300];
    snprintf(reg, sizeof reg, "%s/reg", d);
    struct app_book *book = NULL;
    struct app_book_params bp = app_book_default_params();
    struct px_err perr = {0};
    assert_int_equal(app_bundle_open_book(reg, "Bought", &bp, &book, NULL, &perr), PX_EINVAL);
    assert_null(book);
    assert_non_null(strstr(perr.msg, "bundle Bought/1 is a propensity model, not a search bundle"));

    // stages are model references
    assert_int_equal(
        run(&out, &err, "bundle promote Bought/1 --stage production --registry %s/reg", d), 0);
    if (run(&out, &err, "score --model Bought@production --csv %s/bank.csv --registry %s/reg", d,
            d) != 0)
        fail_msg("score Bought@production: %s", err);
    if (run(&out, &err, "recommend --model Rec/1 --customer CUS-000007 --registry %s/reg", d) != 0)
        fail_msg("recommend Rec/1: %s", err);

    // a changed or extra file is refused by name
    flip("reg/Bought/1/model.json", 10);
    assert_int_equal(
        run(&out, &err, "score --model Bought/1 --csv %s/bank.csv --registry %s/reg", d, d), 1);
    assert_non_null(strstr(err, "Bought/1: model.json: sha256 mismatch (manifest "));
    flip("reg/Rec/1/model.bin", 40);
    assert_int_equal(
        run(&out, &err, "recommend --model Rec --customer CUS-000007 --registry %s/reg", d), 1);
    assert_non_null(strstr(err, "Rec/1: model.bin: sha256 mismatch (manifest "));
    flip("reg/Rec/1/model.bin", 40); // back as it was
    tu_write_text(reg, "Rec/1/notes.txt", "hello");
    assert_int_equal(
        run(&out, &err, "recommend --model Rec --customer CUS-000007 --registry %s/reg", d), 1);
    assert_non_null(strstr(err, "Rec/1: notes.txt: not in the manifest"));

    // delete works on a trained model (the stage needs --force)
    assert_int_equal(run(&out, &err, "bundle delete Bought/1 --registry %s/reg", d), 1);
    assert_int_equal(run(&out, &err, "bundle delete Bought/1 --force --registry %s/reg", d), 0);
    assert_int_equal(run(&out, &err, "runs list --registry %s/reg --format csv", d), 1);
    assert_non_null(strstr(err, "no runs in")); // Finder and Rec are not propensity models
    assert_int_equal(run(&out, &err, "bundle list --registry %s/reg --json", d), 0);
    assert_null(strstr(out, "\"Bought\""));
    free(out);
    free(err);
}

int main(void)
{
    tu_mkdtemp(g_dir, sizeof g_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_registry),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rmtree(g_dir);
    return rc;
}
