// test_mltrain.c — training that holds on data it has not seen (issue 14): isotonic calibration
// of a known miscalibrated toy model (Brier down, reliability bins near the diagonal, knots
// checked on load), the grid search (every cell scored, the winner the best, the same seed the
// same model with worker threads), held-out scores that never come from a model that saw the
// row, the budget threshold, a leaking feature's single-feature AUC, and the features a bank has:
// list columns multi-hot, postcode-like integers as area categories, a one-vs-rest target.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "calibrate.h"
#include "classifier.h"
#include "dataset.h"
#include "experiment.h"
#include "mem.h"
#include "metrics.h"

static char g_dir[256];

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}

// ---- calibration ----

static void test_calibration_toy(void **state)
{
    (void)state;
    enum { N = 20000 };
    float *p = px_malloc(N * sizeof *p), *y = px_malloc(N * sizeof *y);
    float *c = px_malloc(N * sizeof *c);
    assert_true(p && y && c);
    // the true probability is q; the "model" says sqrt(q): overconfident for the positives
    for (size_t i = 0; i < N; i++) {
        double q = uniform();
        p[i] = (float)sqrt(q);
        y[i] = uniform() < q ? 1.0f : 0.0f;
    }
    struct ml_calibration cal;
    struct px_err err = {0};
    assert_int_equal(ml_isotonic_fit(p, y, N, &cal, &err), PX_OK);
    assert_true(cal.n > 2);
    for (size_t i = 1; i < cal.n; i++) {
        assert_true(cal.x[i] > cal.x[i - 1] && cal.y[i] >= cal.y[i - 1]);
    }
    memcpy(c, p, N * sizeof *c);
    ml_calibration_apply(&cal, c, N);
    double before = ml_brier(p, y, N), after = ml_brier(c, y, N);
    assert_true(after < before - 0.01); // sqrt(q) against q: a clear gain
    // the map undoes the distortion: sqrt(q) = 0.5 is q = 0.25
    assert_true(fabs(ml_calibration_map(&cal, 0.5) - 0.25) < 0.05);
    assert_true(fabs(ml_calibration_map(&cal, 0.9) - 0.81) < 0.05);
    // strictly increasing even past the ends (the tie term)
    assert_true(ml_calibration_map(&cal, 0.999) > ml_calibration_map(&cal, 0.998) ||
                cal.x[cal.n - 1] > 0.999);
    assert_true(ml_calibration_map(&cal, 0.0) < ml_calibration_map(&cal, 0.0001) ||
                cal.x[0] < 0.0001);
    struct ml_reliability_bin bins[10], raw[10];
    ml_reliability(c, y, N, 10, bins);
    ml_reliability(p, y, N, 10, raw);
    size_t total = 0;
    for (size_t b = 0; b < 10; b++) {
        total += bins[b].n;
        if (bins[b].n > 200) {
            assert_true(fabs(bins[b].mean_predicted - bins[b].observed) < 0.05);
        }
    }
    assert_int_equal(total, N);
    assert_true(raw[5].n > 200 && raw[5].observed < raw[5].mean_predicted - 0.15); // was off
    // knots are checked when set (a record read back)
    double kx[3] = {0.1, 0.05, 0.9}, ky[3] = {0.0, 0.5, 1.0};
    struct ml_calibration bad;
    assert_int_equal(ml_calibration_set(kx, ky, 3, &bad, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "knot 1"));
    kx[1] = 0.5;
    ky[2] = 1.5;
    assert_int_equal(ml_calibration_set(kx, ky, 3, &bad, &err), PX_EFORMAT);
    ml_calibration_free(&cal);
    px_free(p);
    px_free(y);
    px_free(c);
}

// ---- the experiment ----

// A data set of n rows: f0 decides (noisily), f1 is noise, f2 copies the label (a leak) when
// leak, else is noise.
static void toy(struct ml_dataset *ds, size_t n, bool leak)
{
    memset(ds, 0, sizeof *ds);
    ds->n_features = 3;
    ds->n_rows = n;
    ds->x = px_malloc(n * 3 * sizeof *ds->x);
    ds->y = px_malloc(n * sizeof *ds->y);
    ds->line = px_malloc(n * sizeof *ds->line);
    assert_true(ds->x && ds->y && ds->line);
    for (size_t i = 0; i < n; i++) {
        double a = uniform() * 10;
        float y = uniform() < 1 / (1 + exp(-(a - 7))) ? 1.0f : 0.0f;
        ds->x[i * 3] = (float)a;
        ds->x[i * 3 + 1] = (float)uniform();
        ds->x[i * 3 + 2] = leak ? y * 5 + (float)uniform() : (float)uniform();
        ds->y[i] = y;
        ds->line[i] = i + 2;
        ds->n_pos += y == 1.0f;
        ds->n_neg += y == 0.0f;
    }
}

static void test_experiment_grid(void **state)
{
    (void)state;
    struct ml_dataset ds;
    toy(&ds, 600, false);
    struct ml_experiment_params p = ml_experiment_default_params();
    p.xgb.n_threads = 3; // three workers: the result must not depend on which ran what
    struct ml_experiment a, b;
    struct px_err err = {0};
    assert_int_equal(ml_experiment_run(&ds, &p, NULL, NULL, &a, &err), PX_OK);
    assert_int_equal(a.n_cells, 16);
    for (size_t c = 0; c < a.n_cells; c++) {
        assert_true(a.cells[c].score > 0.5 && a.cells[c].score <= 1);
        assert_true(a.cells[c].score <= a.cells[a.best_cell].score);
        assert_true(a.cells[c].rounds >= 1);
    }
    assert_true(a.chosen.eta == a.cells[a.best_cell].eta);
    assert_true(a.chosen.max_depth == a.cells[a.best_cell].max_depth);
    assert_true(a.brier_after <= a.brier_before);
    // held-out scores: every row has one; a test row's is the final model's own
    size_t *role = px_malloc(ds.n_rows * sizeof *role);
    assert_int_equal(ml_experiment_parts(&ds, &p, role, &err), PX_OK);
    size_t n_test = 0;
    for (size_t i = 0; i < ds.n_rows; i++) {
        assert_false(isnan(a.heldout[i]));
        if (role[i] == (size_t)-1) {
            float q;
            assert_int_equal(ml_classifier_predict(a.model, ds.x + i * 3, 1, &q, &err), PX_OK);
            assert_true(fabs(q - a.heldout[i]) < 1e-6);
            n_test++;
        }
    }
    assert_int_equal(n_test, a.n_test);
    // a dev row's held-out score is not the final model's (which saw it)
    size_t differ = 0;
    for (size_t i = 0; i < ds.n_rows; i++) {
        float q;
        ml_classifier_predict(a.model, ds.x + i * 3, 1, &q, &err);
        differ += role[i] != (size_t)-1 && fabs(q - a.heldout[i]) > 1e-4;
    }
    assert_true(differ > a.n_dev / 2);
    // the same seed: the same cells, threshold and model (on two threads this time)
    p.xgb.n_threads = 2;
    assert_int_equal(ml_experiment_run(&ds, &p, NULL, NULL, &b, &err), PX_OK);
    assert_int_equal(b.best_cell, a.best_cell);
    for (size_t c = 0; c < a.n_cells; c++) {
        assert_true(a.cells[c].score == b.cells[c].score);
        assert_true(a.cells[c].rounds == b.cells[c].rounds);
    }
    assert_true(a.threshold == b.threshold);
    float qa[8], qb[8];
    assert_int_equal(ml_classifier_predict(a.model, ds.x, 8, qa, &err), PX_OK);
    assert_int_equal(ml_classifier_predict(b.model, ds.x, 8, qb, &err), PX_OK);
    assert_memory_equal(qa, qb, sizeof qa);
    ml_experiment_free(&b);
    // another seed: other splits
    p.xgb.seed = 7;
    assert_int_equal(ml_experiment_run(&ds, &p, NULL, NULL, &b, &err), PX_OK);
    assert_false(a.threshold == b.threshold && a.cells[0].score == b.cells[0].score);
    ml_experiment_free(&b);
    // a budget: top_k rows of the data at or above the threshold (scaled to the dev rows)
    p.xgb.seed = 42;
    p.top_k = 60;
    assert_int_equal(ml_experiment_run(&ds, &p, NULL, NULL, &b, &err), PX_OK);
    size_t above = b.cv.cm.tp + b.cv.cm.fp;
    size_t want = (size_t)llround(60.0 * (double)b.n_dev / 600.0);
    assert_true(above >= want && above <= want + 3); // ties may add a few
    ml_experiment_free(&b);
    p.top_k = 601;
    assert_int_equal(ml_experiment_run(&ds, &p, NULL, NULL, &b, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "--top 601"));
    ml_experiment_free(&a);
    px_free(role);
    ml_dataset_free(&ds);
}

static void test_experiment_leak(void **state)
{
    (void)state;
    struct ml_dataset ds;
    toy(&ds, 400, true);
    struct ml_experiment_params p = ml_experiment_default_params();
    p.grid = ml_grid_single(&p.xgb); // one cell is enough here
    struct ml_experiment e;
    struct px_err err = {0};
    assert_int_equal(ml_experiment_run(&ds, &p, NULL, NULL, &e, &err), PX_OK);
    assert_int_equal(e.n_cells, 1);
    assert_true(e.single_auc[2] >= 0.98);                         // the leak
    assert_true(e.single_auc[0] > 0.7 && e.single_auc[0] < 0.98); // a real signal
    assert_true(e.single_auc[1] < 0.7);                           // noise
    ml_experiment_free(&e);
    ml_dataset_free(&ds);
}

// ---- features a bank has ----

static int build(const char *csv, const char *target, const char *positive, struct ml_spec *spec,
                 struct ml_dataset *ds, struct px_err *err)
{
    char path[400];
    tu_write_text(g_dir, "bank.csv", csv);
    snprintf(path, sizeof path, "%s/bank.csv", g_dir);
    struct ml_build_params bp = {.target = target, .positive = positive};
    return ml_dataset_build(path, &bp, spec, ds, err);
}

static size_t feature(const struct ml_spec *s, const char *name)
{
    for (size_t k = 0; k < s->n_features; k++) {
        if (strcmp(s->features[k].name, name) == 0) {
            return k;
        }
    }
    fail_msg("no feature '%s'", name);
    return 0;
}

static bool has_note(const struct ml_spec *s, const char *part)
{
    for (size_t i = 0; i < s->n_notes; i++) {
        if (strstr(s->notes[i], part) != NULL) {
            return true;
        }
    }
    return false;
}

static void test_bank_features(void **state)
{
    (void)state;
    enum { N = 300 };
    static const char *const products[] = {"Checking", "Checking; Savings", "Savings; IRA", "",
                                           "IRA;Checking ; Mortgage"};
    static const char *const segments[] = {"Mass", "Affluent", "Private", "Mass", "Emerging"};
    size_t cap = 200 + N * 120;
    char *csv = px_malloc(cap);
    assert_non_null(csv);
    size_t at = (size_t)snprintf(csv, cap, "id,zip,income,products,segment,bought\n");
    for (size_t i = 0; i < N; i++) {
        // zip: 5-digit codes in 3 areas (100xx, 205xx, 941xx), 100+ distinct values
        unsigned zip = (i % 3 == 0 ? 10000 : i % 3 == 1 ? 20500 : 94100) + (unsigned)(i % 97);
        at += (size_t)snprintf(csv + at, cap - at, "C%04zu,%05u,%zu,\"%s\",%s,%s\n", i, zip,
                               20 + (i * 7) % 150, products[i % 5], segments[i % 5],
                               i % 4 == 0 ? "yes" : "no");
    }
    struct ml_spec spec;
    struct ml_dataset ds;
    struct px_err err = {0};
    assert_int_equal(build(csv, "bought", NULL, &spec, &ds, &err), PX_OK);
    // the list: one feature per item (trimmed), an empty list all 0
    size_t chk = feature(&spec, "products=Checking"), ira = feature(&spec, "products=IRA");
    size_t mort = feature(&spec, "products=Mortgage"), sav = feature(&spec, "products=Savings");
    assert_true(has_note(&spec, "'products': list, multi-hot over 4 items"));
    size_t nf = spec.n_features;
    assert_true(ds.x[4 * nf + chk] == 1.0f && ds.x[4 * nf + ira] == 1.0f &&
                ds.x[4 * nf + mort] == 1.0f && ds.x[4 * nf + sav] == 0.0f);
    assert_true(ds.x[3 * nf + chk] == 0.0f && ds.x[3 * nf + ira] == 0.0f);
    assert_true(ds.x[1 * nf + chk] == 1.0f && ds.x[1 * nf + sav] == 1.0f);
    // the postcode: a category of its area, not a number; income (many widths) stays a number
    assert_true(has_note(&spec, "'zip': postcode-like"));
    size_t z100 = feature(&spec, "zip=100"), z205 = feature(&spec, "zip=205");
    feature(&spec, "zip=941");
    assert_true(ds.x[0 * nf + z100] == 1.0f && ds.x[0 * nf + z205] == 0.0f);
    assert_true(ds.x[1 * nf + z205] == 1.0f);
    size_t inc = feature(&spec, "income");
    assert_null(spec.features[inc].level);
    for (size_t k = 0; k < nf; k++) {
        assert_false(strcmp(spec.features[k].name, "zip") == 0);
    }
    ml_dataset_free(&ds);
    ml_spec_free(&spec);
    // a categorical target: one value against the rest
    assert_int_equal(build(csv, "segment", NULL, &spec, &ds, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "--positive VALUE trains one value against the rest"));
    assert_int_equal(build(csv, "segment", "Gold", &spec, &ds, &err), PX_EINVAL);
    assert_int_equal(build(csv, "segment", "Private", &spec, &ds, &err), PX_OK);
    assert_true(spec.one_vs_rest);
    assert_string_equal(spec.negative, "not Private");
    assert_int_equal(ds.n_pos, N / 5);
    assert_int_equal(ds.n_neg, N - N / 5);
    assert_true(ds.y[2] == 1.0f && ds.y[0] == 0.0f && ds.y[1] == 0.0f && ds.y[4] == 0.0f);
    assert_true(has_note(&spec, "one-vs-rest"));
    ml_dataset_free(&ds);
    ml_spec_free(&spec);
    px_free(csv);
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
        cmocka_unit_test(test_calibration_toy),
        cmocka_unit_test(test_experiment_grid),
        cmocka_unit_test(test_experiment_leak),
        cmocka_unit_test(test_bank_features),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
