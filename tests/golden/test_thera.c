// test_thera.c — the propensity trainer on the Thera Bank personal-loan data (../shared; skips
// when absent): the must-holds. 5-fold CV AUC-ROC >= 0.99, recall >= 0.95 on the test
// split at the threshold chosen for recall 0.95, test AUC-ROC >= 0.99, the calibrated Brier
// score no worse than the raw one, the same seed gives the same model (byte-equal JSON) and
// numbers, SHAP rows add up to the margin within 1e-4 for every row, and the data's
// quirks are handled generically (the ID column is found by uniqueness, not by name).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "dataset.h"
#include "experiment.h"
#include "lookalike.h"
#include "mem.h"

#define THERA "data/thera_bank/Bank_Personal_Loan_Modelling.csv"

static int load(struct ml_spec *spec, struct ml_dataset *ds)
{
    char path[4096];
    if (!tu_shared_path(path, sizeof path, THERA)) {
        return 0;
    }
    struct ml_build_params bp = {.target = "Personal Loan"};
    struct px_err err = {0};
    int rc = ml_dataset_build(path, &bp, spec, ds, &err);
    if (rc != PX_OK) {
        fail_msg("%s", err.msg);
    }
    return 1;
}

static void test_thera_must_hold(void **state)
{
    (void)state;
    struct ml_spec spec;
    struct ml_dataset ds;
    if (!load(&spec, &ds)) {
        print_message("skipped: ../shared/%s not found\n", THERA);
        skip();
    }
    assert_int_equal(ds.n_rows, 5000);
    assert_int_equal(ds.n_pos, 480);
    assert_non_null(spec.id_column);
    assert_string_equal(spec.id_column, "ID"); // found by uniqueness
    // 14 columns less the ID and the target: 11 numbers, and ZIP Code, postcode-like (found by
    // its shape: 5-digit codes, 467 distinct), one-hot over its 57 3-digit areas
    assert_int_equal(spec.n_features, 11 + 57);
    bool zip_noted = false;
    for (size_t i = 0; i < spec.n_notes; i++) {
        zip_noted = zip_noted || strstr(spec.notes[i], "'ZIP Code': postcode-like") != NULL;
    }
    assert_true(zip_noted);

    struct ml_experiment_params p = ml_experiment_default_params();
    p.xgb.n_threads = 2;
    struct ml_experiment e1, e2;
    struct px_err err = {0};
    int rc = ml_experiment_run(&ds, &p, NULL, NULL, &e1, &err);
    if (rc != PX_OK) {
        fail_msg("%s", err.msg);
    }
    print_message("thera: cv auc %.4f  test auc %.4f  test recall %.4f  precision %.4f  "
                  "threshold %.4f  rounds %d\n",
                  e1.cv.auc_roc, e1.test.auc_roc, e1.test.recall, e1.test.precision, e1.threshold,
                  e1.final_info.best_round);
    for (size_t f = 0; f < e1.n_folds; f++) {
        print_message("  fold %zu: auc %.4f recall %.4f\n", f + 1, e1.folds[f].auc_roc,
                      e1.folds[f].recall);
        assert_true(e1.folds[f].auc_roc >= 0.98);
    }
    assert_true(e1.cv.auc_roc >= 0.99);
    assert_true(e1.test.auc_roc >= 0.99);
    assert_true(e1.test.recall >= 0.95);
    // calibration never makes the probabilities worse (cross-fitted out-of-fold Brier score)
    print_message("thera: calibration %s, Brier %.5f -> %.5f (test %.5f -> %.5f)\n",
                  e1.cal.n ? "isotonic" : "none", e1.brier_before, e1.brier_after,
                  e1.test_brier_before, e1.test_brier_after);
    assert_true(e1.brier_after <= e1.brier_before);
    assert_int_equal(e1.n_test, 1000);

    // the same seed: the same model, byte for byte, and the same numbers
    rc = ml_experiment_run(&ds, &p, NULL, NULL, &e2, &err);
    assert_int_equal(rc, PX_OK);
    char *j1 = NULL, *j2 = NULL;
    size_t l1 = 0, l2 = 0;
    assert_int_equal(ml_classifier_save_json(e1.model, &j1, &l1, &err), PX_OK);
    assert_int_equal(ml_classifier_save_json(e2.model, &j2, &l2, &err), PX_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(j1, j2, l1);
    assert_true(e1.cv.auc_roc == e2.cv.auc_roc && e1.test.f1 == e2.test.f1 &&
                e1.threshold == e2.threshold);

    // SHAP: every row sums to the margin
    size_t n = ds.n_rows, nf = ds.n_features;
    float *margin = px_malloc(n * sizeof *margin);
    float *contrib = px_malloc(n * (nf + 1) * sizeof *contrib);
    assert_non_null(margin);
    assert_non_null(contrib);
    assert_int_equal(ml_classifier_margin(e1.model, ds.x, n, margin, &err), PX_OK);
    assert_int_equal(ml_classifier_contribs(e1.model, ds.x, n, contrib, &err), PX_OK);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k <= nf; k++) {
            s += contrib[i * (nf + 1) + k];
        }
        double d = fabs(s - margin[i]);
        worst = d > worst ? d : worst;
    }
    print_message("thera: SHAP sum vs margin, max |diff| %.3g over %zu rows\n", worst, n);
    assert_true(worst <= 1e-4);

    // look-alikes (List A): every entry a negative, distances non-decreasing, no duplicates
    float *vec = px_malloc(n * nf * sizeof *vec);
    unsigned char *seen = px_calloc(n, 1);
    struct ml_lookalike *look = NULL;
    size_t n_look = 0;
    assert_non_null(vec);
    assert_non_null(seen);
    assert_int_equal(ml_standardize(ds.x, n, nf, vec, &err), PX_OK);
    assert_int_equal(ml_lookalikes(vec, n, nf, ds.y, 3, NULL, &look, &n_look, &err), PX_OK);
    assert_true(n_look > 480 && n_look <= 3 * 480);
    for (size_t i = 0; i < n_look; i++) {
        assert_true(ds.y[look[i].row] == 0.0f);
        assert_true(ds.y[look[i].near] == 1.0f);
        assert_true(i == 0 || look[i].dist >= look[i - 1].dist);
        assert_false(seen[look[i].row]);
        seen[look[i].row] = 1;
    }
    print_message("thera: List A (k = 3) has %zu distinct negatives\n", n_look);
    px_free(look);
    px_free(vec);
    px_free(seen);
    px_free(margin);
    px_free(contrib);
    px_free(j1);
    px_free(j2);
    ml_experiment_free(&e1);
    ml_experiment_free(&e2);
    ml_dataset_free(&ds);
    ml_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thera_must_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
