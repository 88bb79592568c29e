// test_app_faults.c — the façade's opens under allocation failure (STYLE C14): the encoder and
// tokenizer, the keys-and-audit handle, and a search bundle's publish and open. Every n-th
// allocation is made to fail in turn; each failure must come back as PX_ENOMEM and leak
// nothing. (The propensity, recommender and book opens have theirs beside their own tests.)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "app_access.h"
#include "app_book.h"
#include "app_encoder.h"
#include "app_registry.h"
#include "err.h"
#include "mem.h"
#include "testbank.h"
#include "testmodel.h"
#include "testutil.h"

static char g_dir[256], g_model[300], g_db[300], g_reg[300];

struct enc_job {
    struct app_encoder *e;
    struct app_tokenizer *t;
};

static int open_encoder(void *user, struct px_err *err)
{
    struct enc_job *j = user;
    struct app_encoder_params p = app_encoder_default_params();
    p.embedder_flag = g_model;
    int rc = app_encoder_open(&p, &j->e, err);
    return rc == PX_OK ? app_tokenizer_open(g_model, &j->t, NULL, 0, err) : rc;
}

static void close_encoder(void *user)
{
    struct enc_job *j = user;
    app_encoder_close(j->e);
    app_tokenizer_close(j->t);
    j->e = NULL;
    j->t = NULL;
}

static void test_encoder_open(void **state)
{
    (void)state;
    struct enc_job j = {0};
    long n = tu_check_alloc_failures(open_encoder, close_encoder, &j);
    printf("app_encoder_open + app_tokenizer_open: %ld allocation points\n", n);
    assert_true(n > 10);
}

static int open_access(void *user, struct px_err *err)
{
    struct app_access **a = user;
    size_t n = 0;
    int rc = app_access_open(g_db, a, err);
    return rc == PX_OK ? app_access_active_keys(*a, &n, err) : rc;
}

static void close_access(void *user)
{
    struct app_access **a = user;
    app_access_close(*a);
    *a = NULL;
}

static void test_access_open(void **state)
{
    (void)state;
    struct app_access *a = NULL;
    long n = tu_check_alloc_failures(open_access, close_access, &a);
    printf("app_access_open: %ld allocation points\n", n);
    assert_true(n > 0);
}

struct bundle_job {
    size_t published; // attempts that returned PX_OK (the last; or one whose failure SQLite absorbed)
    struct app_bundle_entry e;
};

// Publishes the next version of "Faults": a failed publish must register nothing.
static int publish(void *user, struct px_err *err)
{
    struct bundle_job *j = user;
    struct app_bundle_params p = app_bundle_default_params();
    p.registry = g_reg;
    p.name = "Faults";
    p.db_path = g_db;
    p.model_flag = g_model;
    int rc = app_bundle_create(&p, &j->e, err);
    j->published += rc == PX_OK;
    return rc;
}

static void nothing(void *user) { (void)user; }

static int open_bundle(void *user, struct px_err *err)
{
    struct app_book **b = user;
    struct app_book_params bp = app_book_default_params();
    return app_bundle_open_book(g_reg, "Faults", &bp, b, NULL, err);
}

static void close_bundle(void *user)
{
    struct app_book **b = user;
    app_book_close(*b);
    *b = NULL;
}

static void test_bundle_publish_and_open(void **state)
{
    (void)state;
    struct bundle_job j = {0};
    long n = tu_check_alloc_failures(publish, nothing, &j);
    printf("app_bundle_create: %ld allocation points\n", n);
    assert_true(n > 10);
    // only the attempts that succeeded registered a version (failed ones may have used up a
    // number: versions are never reused, not necessarily contiguous)
    struct px_err err = {0};
    struct app_bundle_entry *es = NULL;
    size_t n_es = 0;
    assert_int_equal(app_bundle_list(g_reg, "Faults", &es, &n_es, &err), PX_OK);
    assert_int_equal(n_es, j.published);
    assert_int_equal(es[n_es - 1].version, j.e.version);
    px_free(es);

    struct app_book *b = NULL;
    n = tu_check_alloc_failures(open_bundle, close_bundle, &b);
    printf("app_bundle_open_book: %ld allocation points\n", n);
    assert_true(n > 10);
}

int main(void)
{
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_model, sizeof g_model, "%s/model", g_dir);
    snprintf(g_db, sizeof g_db, "%s/p.db", g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    struct testmodel_spec s = testmodel_default_spec();
    if (mkdir(g_model, 0700) != 0 || testmodel_write(g_model, &s) != 0) {
        fprintf(stderr, "cannot write the test model\n");
        return 1;
    }
    tu_generate_import(g_dir, "bank.csv", 40, 7, g_db);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_open),
        cmocka_unit_test(test_access_open),
        cmocka_unit_test(test_bundle_publish_and_open),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_rmtree(g_dir);
    return rc;
}
