// test_generate.c — `prospect generate` end to end: deterministic output, --out equal to
// standard output (and written atomically), --rows 0, help and usage errors.
// Runs the real binary ($PROSPECT_BIN) through /bin/sh in a temporary directory.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static char g_dir[256];

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

// Runs `prospect <args>`; returns the exit status, stdout and stderr (free()).
static int run(const char *args, char **out, char **err)
{
    return tu_run_prospect(args, NULL, out, err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void test_deterministic(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL, *c = NULL, *e = NULL;
    assert_int_equal(run("generate --rows 50 --seed 7", &a, &e), 0);
    free(e);
    assert_int_equal(run("generate --seed 7 --rows 50 --kind retail", &b, &e), 0);
    free(e);
    assert_int_equal(run("generate --rows 50 --seed 8", &c, &e), 0);
    assert_string_equal(e, ""); // nothing on stderr when it is not a terminal
    free(e);
    assert_int_equal(count_lines(a), 51);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_true(strncmp(a, "customer_id,age,", 16) == 0);
    assert_non_null(strstr(a, "\nCUST-000050,"));
    free(a);
    free(b);
    free(c);

    // default: 1,000 rows
    assert_int_equal(run("generate", &a, &e), 0);
    assert_int_equal(count_lines(a), 1001);
    free(a);
    free(e);
}

static void test_out_file_equals_stdout(void **state)
{
    (void)state;
    char args[600], path[400];
    char *out = NULL, *err = NULL, *file_out = NULL;
    snprintf(path, sizeof path, "%s/bank.csv", g_dir);
    snprintf(args, sizeof args, "generate --rows 300 --seed 11 --out %s", path);
    assert_int_equal(run(args, &file_out, &err), 0);
    assert_string_equal(file_out, ""); // with --out nothing goes to stdout
    free(file_out);
    free(err);
    assert_int_equal(run("generate --rows 300 --seed 11", &out, &err), 0);
    free(err);
    char *file = read_all(path);
    assert_string_equal(file, out);
    free(file);
    free(out);

    // A failed run (unwritable directory) leaves no file behind and exits 1.
    snprintf(args, sizeof args, "generate --rows 5 --out %s/missing/dir/x.csv", g_dir);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "prospect generate: error:"));
    free(out);
    free(err);
    struct stat st;
    snprintf(path, sizeof path, "%s/missing", g_dir);
    assert_int_not_equal(stat(path, &st), 0);
}

static void test_zero_rows(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run("generate --rows 0", &out, &err), 0);
    assert_int_equal(count_lines(out), 1);
    assert_true(strncmp(out, "customer_id,", 12) == 0);
    free(out);
    free(err);
}

static void test_usage(void **state)
{
    (void)state;
    static const struct {
        const char *args;
        int code;
        const char *in_out, *in_err;
    } cases[] = {
        {"generate --help", 0, "usage: prospect generate", NULL},
        {"--help", 0, "generate", NULL},
        {"generate --rows -1", 2, NULL, "--rows must be 0.."},
        {"generate --rows abc", 2, NULL, "--rows must be 0.."},
        {"generate --rows ''", 2, NULL, "--rows must be 0.."},
        {"generate --rows 100000001", 2, NULL, "--rows must be 0..100000000"},
        {"generate --rows 5x", 2, NULL, "--rows must be"},
        {"generate --seed -3", 2, NULL, "--seed must be"},
        {"generate --seed 18446744073709551616", 2, NULL, "--seed must be"},
        {"generate --kind corporate", 2, NULL, "--kind must be retail"},
        {"generate --bogus", 2, NULL, "Try 'prospect generate --help'"},
        {"generate extra", 2, NULL, "unexpected argument 'extra'"},
        {"generate --rows", 2, NULL, "Try 'prospect generate --help'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL, *err = NULL;
        int rc = run(cases[i].args, &out, &err);
        if (rc != cases[i].code || (cases[i].in_out && !strstr(out, cases[i].in_out)) ||
            (cases[i].in_err && !strstr(err, cases[i].in_err))) {
            fail_msg("prospect %s: exit %d (want %d)\nstdout: %.300s\nstderr: %.300s",
                     cases[i].args, rc, cases[i].code, out, err);
        }
        free(out);
        free(err);
    }
    // the largest seed is valid
    char *out = NULL, *err = NULL;
    assert_int_equal(run("generate --rows 1 --seed 18446744073709551615", &out, &err), 0);
    assert_int_equal(count_lines(out), 2);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_out_file_equals_stdout),
        cmocka_unit_test(test_zero_rows),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
