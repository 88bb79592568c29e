// test_ml.c — src/ml: metrics against hand-computed values (table), the CSV -> features loader
// (types, one-hot, ID-like columns, and every bad input the issue lists, table-driven), stratified
// parts, and the XGBoost wrapper on a toy problem (learns it, JSON save/load round trip gives the
// same predictions, SHAP rows sum to the margin).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "buf.h"
#include "classifier.h"
#include "dataset.h"
#include "experiment.h"
#include "lookalike.h"
#include "mem.h"
#include "metrics.h"

// ---- metrics ----

static void test_metrics(void **state)
{
    (void)state;
    // scores high to low: + - + - ; pairs (pos above neg): 3 of 4
    const float p[] = {0.9f, 0.8f, 0.7f, 0.6f};
    const float y[] = {1, 0, 1, 0};
    struct px_err err = {0};
    double auc = 0, ap = 0;
    assert_int_equal(ml_auc_roc(p, y, 4, &auc, &err), PX_OK);
    assert_true(fabs(auc - 0.75) < 1e-12);
    assert_int_equal(ml_auc_pr(p, y, 4, &ap, &err), PX_OK);
    assert_true(fabs(ap - (0.5 * 1.0 + 0.5 * 2.0 / 3.0)) < 1e-12);
    // ties count half: all equal scores -> 0.5
    const float t[] = {0.5f, 0.5f, 0.5f, 0.5f};
    assert_int_equal(ml_auc_roc(t, y, 4, &auc, &err), PX_OK);
    assert_true(fabs(auc - 0.5) < 1e-12);
    // NaN labels are skipped; a single class has no AUC
    const float yn[] = {1, NAN, 1, NAN};
    assert_int_equal(ml_auc_roc(p, yn, 4, &auc, &err), PX_OK);
    assert_true(isnan(auc));

    struct ml_metrics m;
    assert_int_equal(ml_metrics_at(p, y, 4, 0.7f, &m, &err), PX_OK);
    assert_int_equal(m.cm.tp, 2);
    assert_int_equal(m.cm.fp, 1);
    assert_int_equal(m.cm.tn, 1);
    assert_int_equal(m.cm.fn, 0);
    assert_true(fabs(m.precision - 2.0 / 3.0) < 1e-12);
    assert_true(fabs(m.recall - 1.0) < 1e-12);
    assert_true(fabs(m.f1 - 0.8) < 1e-12);

    double thr = 0;
    assert_int_equal(ml_threshold_for_recall(p, y, 4, 0.5, 0, &thr, &err), PX_OK);
    assert_true(thr == 0.9f);
    assert_int_equal(ml_threshold_for_recall(p, y, 4, 1.0, 0, &thr, &err), PX_OK);
    assert_true(thr == 0.7f);
    assert_int_equal(ml_threshold_for_precision(p, y, 4, 0.6, &thr, &err), PX_OK);
    assert_true(thr == 0.7f); // precision 2/3 there, and the lowest such
    assert_int_equal(ml_threshold_for_recall(p, y, 4, 0, 0, &thr, &err), PX_EINVAL);
    const float y0[] = {0, 0, 0, 0};
    assert_int_equal(ml_threshold_for_recall(p, y0, 4, 0.9, 0, &thr, &err), PX_EINVAL);
    // Wilson: the bound is below the proportion and approaches it with n
    assert_true(ml_wilson_lower(95, 100, 1.645) < 0.95);
    assert_true(ml_wilson_lower(9500, 10000, 1.645) > 0.945);
    assert_true(ml_wilson_lower(5, 10, 0) == 0.5);
}

// ---- dataset ----

static char g_dir[4096];

static int build_text(const char *csv, const char *target, const char *positive,
                      struct ml_spec *spec, struct ml_dataset *ds, struct px_err *err)
{
    char path[4200];
    tu_write_text(g_dir, "d.csv", csv);
    snprintf(path, sizeof path, "%s/d.csv", g_dir);
    struct ml_build_params bp = {.target = target, .positive = positive};
    return ml_dataset_build(path, &bp, spec, ds, err);
}

// A CSV of n rows: id (unique), x (numeric), c (category), t (target, alternating).
static char *make_csv(size_t n, const char *extra_header, const char *extra_value)
{
    struct px_err err = {0};
    size_t cap = 100 + n * 80;
    char *s = px_malloc(cap);
    assert_non_null(s);
    size_t at = (size_t)snprintf(s, cap, "id,x,c,t%s\n", extra_header ? extra_header : "");
    for (size_t i = 0; i < n; i++) {
        at += (size_t)snprintf(s + at, cap - at, "C%03zu,%zu.5,%s,%s%s\n", i, i % 7,
                               i % 3 == 0 ? "red" : "blue", i % 2 ? "yes" : "no",
                               extra_value ? extra_value : "");
    }
    (void)err;
    return s;
}

// What ml_dataset_apply_progress reported: calls, the last (done, total), whether done fell.
struct load_seen {
    size_t calls, done, total;
    bool backwards;
};

static void on_load(size_t done, size_t total, void *user)
{
    struct load_seen *s = user;
    s->backwards = s->backwards || done < s->done || done > total;
    s->calls++;
    s->done = done;
    s->total = total;
}

static void test_dataset_types(void **state)
{
    (void)state;
    struct ml_spec spec;
    struct ml_dataset ds;
    struct px_err err = {0};
    char *csv = make_csv(40, ",when,note", ",2024-01-02, free text");
    char *d = strstr(csv, "2024-01-02");
    memcpy(d, "2024-01-03", 10); // "when" varies (a constant column would be left out)
    assert_int_equal(build_text(csv, "t", NULL, &spec, &ds, &err), PX_OK);
    assert_string_equal(spec.id_column, "id");
    assert_true(spec.target_bool);
    // x, c=blue, c=red, when; note is constant -> left out
    assert_int_equal(spec.n_features, 4);
    assert_string_equal(spec.features[0].name, "x");
    assert_string_equal(spec.features[1].name, "c=blue");
    assert_string_equal(spec.features[2].name, "c=red");
    assert_string_equal(spec.features[3].name, "when");
    assert_int_equal(ds.n_rows, 40);
    assert_int_equal(ds.n_pos, 20);
    assert_string_equal(ds.id[3], "C003");
    assert_true(ds.x[0] == 0.5f && ds.x[1] == 0.0f && ds.x[2] == 1.0f);
    assert_true(ds.x[3] == 19725.0f); // 2024-01-03 in days since 1970
    assert_true(ds.x[4 + 3] == 19724.0f);
    assert_true(ds.y[0] == 0.0f && ds.y[1] == 1.0f);
    assert_true(spec.features[0].min == 0.5 && spec.features[0].max == 6.5);
    bool noted = false;
    for (size_t i = 0; i < spec.n_notes; i++) {
        noted = noted || strstr(spec.notes[i], "ID-like") != NULL;
    }
    assert_true(noted);

    // the same spec applied to a file without the target and with a new category level
    tu_write_text(g_dir, "s.csv", "c,x,id,when,note\ngreen,2,Z1,2024-01-03,a\nred,,Z2,,b\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/s.csv", g_dir);
    struct ml_dataset sd;
    assert_int_equal(ml_dataset_apply(path, &spec, false, &sd, &err), PX_OK);
    assert_int_equal(sd.n_rows, 2);
    assert_null(sd.y);
    assert_true(sd.x[0] == 2.0f && sd.x[1] == 0.0f && sd.x[2] == 0.0f);
    assert_true(isnan(sd.x[4]) && sd.x[6] == 1.0f && isnan(sd.x[7]));
    ml_dataset_free(&sd);
    assert_int_equal(ml_dataset_apply(path, &spec, true, &sd, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "no target column 't'"));
    ml_dataset_free(&sd);

    // a file of 10,000 rows read with progress: lines counted first, reports climb to the total
    struct buf big;
    buf_init(&big, 1u << 20);
    assert_int_equal(buf_printf(&big, &err, "c,x,id,when,note\n"), PX_OK);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(buf_printf(&big, &err, "red,%d,Z%d,2024-01-03,a\n", i % 7, i), PX_OK);
    }
    assert_int_equal(buf_append(&big, "", 1, &err), PX_OK);
    tu_write_text(g_dir, "big.csv", big.data);
    buf_free(&big);
    snprintf(path, sizeof path, "%s/big.csv", g_dir);
    struct load_seen seen = {0};
    assert_int_equal(ml_dataset_apply_progress(path, &spec, false, on_load, &seen, &sd, &err),
                     PX_OK);
    assert_int_equal(sd.n_rows, 10000);
    assert_int_equal(seen.total, 10001);
    assert_int_equal(seen.done, 10001);
    assert_true(seen.calls >= 3 && !seen.backwards);
    ml_dataset_free(&sd);
    ml_dataset_free(&ds);
    ml_spec_free(&spec);
    px_free(csv);
}

struct bad_case {
    const char *csv;     // NULL: generated rows + extra column
    const char *extra_h; // generated: extra header
    const char *extra_v; // generated: extra value
    const char *target;
    const char *positive;
    const char *msg; // expected substring of the error
};

static const struct bad_case k_bad[] = {
    {NULL, NULL, NULL, "loan", NULL, "no target column 'loan'"},
    {"a,t\n1,x\n2,y\n3,z\n", NULL, NULL, "t", "w", "not binary"},
    {"a,t\n1,yes\n2,yes\n3,yes\n", NULL, NULL, "t", NULL, "single class"},
    {"a,t\n1,A\n2,A\n3,A\n", NULL, NULL, "t", "A", "single class"},
    {NULL, ",empty", ",", "t", NULL, "'empty' has no values in any row"},
    {"a,b,c,d,t\n1,2,3,4,yes\n5,6,7,8,no\n", NULL, NULL, "t", NULL, "more features than rows"},
    {"a,t\n1,A\n2,B\n3,A\n", NULL, NULL, "t", NULL, "--positive"},
    {"a,t\n1,A\n2,B\n3,A\n", NULL, NULL, "t", "C", "not a value of the target"},
    {"a,t\n1,yes\n2\n3,no\n", NULL, NULL, "t", NULL, "line 3: 1 fields, expected 2"},
    {"a,t\n1,yes\n,no\n3,\n", NULL, NULL, "t", NULL, "line 4: the target 't' is empty"},
    {"", NULL, NULL, "t", NULL, "empty"},
    {"a,t\n", NULL, NULL, "t", NULL, "no data rows"},
    {"a,a\n1,2\n", NULL, NULL, "a", NULL, "repeats the name"},
};

static void test_dataset_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        const struct bad_case *c = &k_bad[i];
        char *gen = c->csv ? NULL : make_csv(40, c->extra_h, c->extra_v);
        struct ml_spec spec;
        struct ml_dataset ds;
        struct px_err err = {0};
        int rc = build_text(c->csv ? c->csv : gen, c->target, c->positive, &spec, &ds, &err);
        if (rc == PX_OK || strstr(err.msg, c->msg) == NULL) {
            fail_msg("case %zu: rc %d, message '%s', expected '%s'", i, rc, err.msg, c->msg);
        }
        assert_null(spec.features);
        assert_null(ds.x);
        px_free(gen);
    }
    // a non-numeric value in a numeric column names line, column and value
    struct ml_spec spec;
    struct ml_dataset ds;
    struct px_err err = {0};
    char *csv = make_csv(40, NULL, NULL);
    char *at = strstr(csv, "\nC017,3.5");
    assert_non_null(at);
    memcpy(at + 6, "ab", 2); // "C017,3.5" -> "C017,ab5"
    assert_int_not_equal(build_text(csv, "t", NULL, &spec, &ds, &err), PX_OK);
    assert_non_null(strstr(err.msg, "line 19, column 'x': 'ab5' is not a number"));
    px_free(csv);
}

// ---- dataset: allocation failures ----

// Every kind of column a build handles: an ID-like id (a note, names rows), a number, a
// category (one-hot + note), a date, a constant (note), free text (note), a dropped column
// (note); a yes/no target (build 1) and a two-level one with --positive (build 2); then the
// spec applied to a file without the target.
struct ds_fault {
    char path[4200], path_apply[4200];
    bool category_target;
    struct ml_spec spec;
    struct ml_dataset ds, applied;
};

static int ds_fault_open(void *user, struct px_err *err)
{
    struct ds_fault *u = user;
    const char *drop[] = {"junk"};
    struct ml_build_params bp = {.target = u->category_target ? "grade" : "t",
                                 .positive = u->category_target ? "hi" : NULL,
                                 .drop = drop,
                                 .n_drop = 1};
    int rc = ml_dataset_build(u->path, &bp, &u->spec, &u->ds, err);
    if (rc == PX_OK) {
        rc = ml_dataset_apply(u->path_apply, &u->spec, false, &u->applied, err);
    }
    return rc;
}

static void ds_fault_release(void *user)
{
    struct ds_fault *u = user;
    ml_dataset_free(&u->applied);
    ml_dataset_free(&u->ds);
    ml_spec_free(&u->spec);
}

static void test_dataset_alloc_failures(void **state)
{
    (void)state;
    struct ds_fault u;
    memset(&u, 0, sizeof u);
    char csv[8192];
    size_t at = (size_t)snprintf(csv, sizeof csv, "id,x,c,when,k,note,junk,grade,t\n");
    for (int i = 0; i < 40; i++) {
        at += (size_t)snprintf(csv + at, sizeof csv - at,
                               "C%03d,%d.5,%s,2024-01-%02d,same,note %d,%d,%s,%s\n", i, i % 7,
                               i % 3 ? "blue" : "red", 1 + i % 28, i % 25, i, i % 4 ? "lo" : "hi",
                               i % 2 ? "yes" : "no");
    }
    tu_write_text(g_dir, "fault.csv", csv);
    tu_write_text(g_dir, "fault_apply.csv",
                  "note,c,x,id,when,k,junk,grade,t\nz,green,2,Z1,2024-01-03,same,1,hi,yes\n"
                  "y,red,,Z2,,same,2,lo,\n");
    snprintf(u.path, sizeof u.path, "%s/fault.csv", g_dir);
    snprintf(u.path_apply, sizeof u.path_apply, "%s/fault_apply.csv", g_dir);
    for (int k = 0; k < 2; k++) {
        u.category_target = k == 1;
        long points = tu_check_alloc_failures(ds_fault_open, ds_fault_release, &u);
        assert_true(points > 20);
        // the last call succeeded: check it built what the columns say
        struct px_err err = {0};
        assert_int_equal(ds_fault_open(&u, &err), PX_OK);
        assert_string_equal(u.spec.id_column, "id");
        // x, c=blue, c=red, when, and grade=hi, grade=lo (target t) or t (target grade)
        assert_int_equal(u.spec.n_features, k == 0 ? 6 : 5);
        assert_int_equal(u.spec.n_notes, k == 0 ? 6 : 5); // c (grade) one-hot, id, k, note, junk
        assert_int_equal(u.ds.n_rows, 40);
        assert_int_equal(u.ds.n_pos, k == 0 ? 20 : 10);
        assert_int_equal(u.applied.n_rows, 2);
        ds_fault_release(&u);
    }
}

static void test_stratified_parts(void **state)
{
    (void)state;
    float y[103];
    int part[103], again[103];
    size_t n_pos = 0;
    for (size_t i = 0; i < 103; i++) {
        y[i] = i % 10 == 0 ? 1.0f : 0.0f;
        n_pos += y[i] == 1.0f;
    }
    y[5] = NAN;
    ml_stratified_parts(y, 103, 5, 7, part);
    ml_stratified_parts(y, 103, 5, 7, again);
    assert_memory_equal(part, again, sizeof part);
    size_t pos[5] = {0}, all[5] = {0};
    for (size_t i = 0; i < 103; i++) {
        if (i == 5) {
            assert_int_equal(part[i], -1);
            continue;
        }
        assert_true(part[i] >= 0 && part[i] < 5);
        all[part[i]]++;
        pos[part[i]] += y[i] == 1.0f;
    }
    for (size_t f = 0; f < 5; f++) {
        assert_true(pos[f] >= n_pos / 5 && pos[f] <= n_pos / 5 + 1);
        assert_true(all[f] >= 102 / 5 && all[f] <= 102 / 5 + 1);
    }
}

// ---- classifier ----

static void test_classifier_toy(void **state)
{
    (void)state;
    enum { N = 400, NF = 3 };
    float *x = px_malloc(N * NF * sizeof *x), *y = px_malloc(N * sizeof *y);
    float *p1 = px_malloc(N * sizeof *p1), *p2 = px_malloc(N * sizeof *p2);
    float *mg = px_malloc(N * sizeof *mg), *ct = px_malloc(N * (NF + 1) * sizeof *ct);
    for (size_t i = 0; i < N; i++) {
        x[i * NF + 0] = (float)(i % 20);       // decides the label
        x[i * NF + 1] = (float)((i * 7) % 13); // noise
        x[i * NF + 2] = i % 11 == 0 ? NAN : 1; // missing values
        y[i] = i % 20 >= 14 ? 1.0f : 0.0f;
    }
    struct ml_xgb_params p = ml_xgb_default_params();
    p.n_rounds = 50;
    struct ml_classifier *c = NULL, *back = NULL;
    struct ml_train_info info;
    struct px_err err = {0};
    assert_int_equal(ml_classifier_train(x, y, N, NF, x, y, N, &p, &c, &info, &err), PX_OK);
    assert_true(info.best_round >= 1 && info.best_round <= 50);
    assert_true(fabs(info.scale_pos_weight - 280.0 / 120.0) < 1e-9);
    assert_int_equal(ml_classifier_predict(c, x, N, p1, &err), PX_OK);
    for (size_t i = 0; i < N; i++) {
        assert_true((p1[i] >= 0.5f) == (y[i] == 1.0f));
    }
    double gain[NF];
    assert_int_equal(ml_classifier_importance(c, gain, &err), PX_OK);
    assert_true(gain[0] > gain[1] && gain[0] > 0);

    char *json = NULL;
    size_t len = 0;
    assert_int_equal(ml_classifier_save_json(c, &json, &len, &err), PX_OK);
    assert_non_null(strstr(json, "\"learner\""));
    assert_int_equal(ml_classifier_load_json(json, len, NF, 1, &back, &err), PX_OK);
    assert_int_equal(ml_classifier_predict(back, x, N, p2, &err), PX_OK);
    assert_memory_equal(p1, p2, N * sizeof *p1);
    struct ml_classifier *other = NULL;
    assert_int_equal(ml_classifier_load_json(json, len, NF + 1, 1, &other, &err) == PX_OK, 0);
    assert_int_equal(ml_classifier_load_json("{\"x\": 1}", 8, NF, 1, &other, &err) == PX_OK, 0);
    assert_null(other);

    assert_int_equal(ml_classifier_margin(c, x, N, mg, &err), PX_OK);
    assert_int_equal(ml_classifier_contribs(c, x, N, ct, &err), PX_OK);
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (size_t k = 0; k <= NF; k++) {
            s += ct[i * (NF + 1) + k];
        }
        assert_true(fabs(s - mg[i]) <= 1e-4);
    }
    // single class and bad labels are refused
    float y1[N];
    for (size_t i = 0; i < N; i++) {
        y1[i] = 1;
    }
    struct ml_classifier *bad = NULL;
    assert_int_equal(ml_classifier_train(x, y1, N, NF, NULL, NULL, 0, &p, &bad, NULL, &err),
                     PX_EINVAL);
    y1[3] = 2;
    assert_int_equal(ml_classifier_train(x, y1, N, NF, NULL, NULL, 0, &p, &bad, NULL, &err),
                     PX_EINVAL);
    assert_non_null(strstr(err.msg, "row 3"));
    ml_classifier_free(c);
    ml_classifier_free(back);
    px_free(json);
    px_free(x);
    px_free(y);
    px_free(p1);
    px_free(p2);
    px_free(mg);
    px_free(ct);
}

// ---- tipping and look-alikes ----

// A monotone toy: the label is x0 >= 10 (x0 = 0..19), x1 is noise. Stepping x0 by 1 from 3 must
// tip exactly at 10 (a change of 7); stepping the noise feature must stop at its maximum.
static void test_tipping_monotone(void **state)
{
    (void)state;
    enum { N = 400, NF = 2 };
    float *x = px_malloc(N * NF * sizeof *x), *y = px_malloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) {
        x[i * NF + 0] = (float)(i % 20);
        x[i * NF + 1] = (float)((i * 7) % 13);
        y[i] = i % 20 >= 10 ? 1.0f : 0.0f;
    }
    struct ml_xgb_params p = ml_xgb_default_params();
    p.n_rounds = 30;
    p.scale_pos_weight = 1;
    struct ml_classifier *c = NULL;
    struct px_err err = {0};
    assert_int_equal(ml_classifier_train(x, y, N, NF, NULL, NULL, 0, &p, &c, NULL, &err), PX_OK);
    const double step[NF] = {1, 1}, mn[NF] = {0, 0}, mx[NF] = {19, 12};
    // rows 3 (x0 = 3), 15 (already positive), 43 (x0 = 3, stepped on the noise feature)
    const size_t rows[] = {3, 15, 43, 20};
    const size_t feat[] = {0, 0, 1, 0};
    struct ml_tip t[4];
    assert_int_equal(ml_tipping(c, x, NF, rows, feat, 4, step, mn, mx, 0.5, t, &err), PX_OK);
    assert_true(t[0].tipped);
    assert_true(t[0].from == 3 && t[0].to == 10 && t[0].steps == 7);
    assert_true(t[0].p_before < 0.5f && t[0].p_after >= 0.5f);
    assert_true(t[1].tipped && t[1].steps == 0 && t[1].to == 15);
    assert_false(t[2].tipped); // max value reached
    assert_true(t[2].to == 12);
    assert_true(t[3].tipped && t[3].from == 0 && t[3].to == 10);
    ml_classifier_free(c);
    px_free(x);
    px_free(y);
}

static void test_lookalikes(void **state)
{
    (void)state;
    // 1-d points: positives at 0 and 10; negatives at 1, 2, 9, 20, 10.5 (row order)
    const float v[] = {0, 1, 2, 10, 9, 20, 10.5f, 3};
    const float y[] = {1, 0, 0, 1, 0, 0, 0, NAN};
    struct ml_lookalike *l = NULL;
    size_t n = 0;
    struct px_err err = {0};
    assert_int_equal(ml_lookalikes(v, 8, 1, y, 2, NULL, &l, &n, &err), PX_OK);
    // 0 -> {1 (1), 2 (2)}; 10 -> {6 (0.5), 4 (1)}; de-duplicated, sorted by distance
    assert_int_equal(n, 4);
    const size_t want[] = {6, 1, 4, 2};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(l[i].row, want[i]);
        assert_true(y[l[i].row] == 0.0f);
        assert_true(i == 0 || l[i].dist >= l[i - 1].dist);
    }
    assert_int_equal(l[0].near, 3);
    px_free(l);
    // k = 3 makes row 2 near to both positives: still listed once, with its smaller distance
    assert_int_equal(ml_lookalikes(v, 8, 1, y, 3, NULL, &l, &n, &err), PX_OK);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(l[i].row, l[j].row);
        }
    }
    px_free(l);
    const unsigned char allow[] = {0, 0, 1, 0, 0, 1, 0, 0};
    assert_int_equal(ml_lookalikes(v, 8, 1, y, 1, allow, &l, &n, &err), PX_OK);
    assert_int_equal(n, 1); // row 2 is the nearest allowed negative of both positives
    assert_int_equal(l[0].row, 2);
    px_free(l);
    float z[8];
    assert_int_equal(ml_standardize(v, 8, 1, z, &err), PX_OK);
    double s = 0;
    for (size_t i = 0; i < 8; i++) {
        s += z[i];
    }
    assert_true(fabs(s) < 1e-5);
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
        cmocka_unit_test(test_metrics),        cmocka_unit_test(test_dataset_types),
        cmocka_unit_test(test_dataset_bad),    cmocka_unit_test(test_stratified_parts),
        cmocka_unit_test(test_classifier_toy), cmocka_unit_test(test_tipping_monotone),
        cmocka_unit_test(test_lookalikes),     cmocka_unit_test(test_dataset_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
