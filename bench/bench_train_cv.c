// bench_train_cv.c — what `prospect train` (grid search by cross-validation, calibration,
// threshold, final model: ml_experiment_run) gives on bank data it was not written for, beside
// python3-xgboost with its defaults, and what the grid costs beside the same grid in Python.
//
//   bench_train_cv [--sets thera,adult,credit,australian] [--outer K] [--threads T]
//                  [--data DIR] [--python PATH] [--skip-quality] [--skip-time]
//
// Data sets (../shared/data, each README names its target): Thera Bank (Personal Loan), UCI
// adult (income >50K: "who is affluent?"; adult.data, 32,561 rows), UCI default of credit card
// clients (default payment next month; line 1 of the file skipped), Statlog Australian credit
// (the class column). Each is rewritten as a plain CSV with a header under /tmp and read with
// ml_dataset_build, so both sides see the same feature matrix (one-hot levels and all).
//
// Quality ("AUC"): an outer stratified K-fold (default 5, seed 7) over all rows. Per outer
// fold, ours = ml_experiment_run with the product's defaults on the other folds (it splits
// those again: a 20 % test split, 5 inner folds for the grid), scored on the outer fold; Python =
// xgb.train with XGBoost's defaults (objective binary:logistic, 100 rounds: XGBClassifier's
// n_estimators) on the same rows, scored on the same fold. Printed: the mean outer-fold AUC of
// each and the difference (target: ours >= python - 0.01).
//
// Time ("ratio"): ours = one ml_experiment_run on all rows (T threads: the grid's cells x folds
// over T workers); Python = the same work written the way a Python user would: the same test
// split and inner folds (roles dumped from ml_experiment_parts), every grid cell x fold with
// xgb.train(early_stopping_rounds, eval_metric auc, nthread T), the winner's final fit on the
// dev rows and the test prediction. Ratio = ours / python (target <= 1.1).
// Set OMP_WAIT_POLICY=passive on a shared machine (both sides use libgomp).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classifier.h"
#include "dataset.h"
#include "experiment.h"
#include "mem.h"
#include "metrics.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int dump(const char *path, const void *v, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(v, 1, size, f) != size) {
        if (f) {
            fclose(f);
        }
        return -1;
    }
    return fclose(f);
}

struct set {
    const char *key, *label, *file, *target, *positive;
    const char *header; // written first; NULL: the file has its own
    int skip_lines;     // input lines dropped
    char sep;           // input separator (its run of spaces after it is dropped)
};

static const struct set g_sets[] = {
    {"thera", "Thera Bank", "thera_bank/Bank_Personal_Loan_Modelling.csv", "Personal Loan", NULL,
     NULL, 0, ','},
    {"adult", "adult_income", "adult_income/adult.data", "income", ">50K",
     "age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,race,"
     "sex,capital-gain,capital-loss,hours-per-week,native-country,income",
     0, ','},
    {"credit", "credit_default", "credit_default/default_of_credit_card_clients.csv",
     "default payment next month", "1", NULL, 1, ','},
    {"australian", "australian_credit", "australian_credit/australian.dat", "class", "1",
     "A1,A2,A3,A4,A5,A6,A7,A8,A9,A10,A11,A12,A13,A14,class", 0, ' '},
};

// Rewrites the set's file as a comma CSV with a header at out; blank lines are dropped.
static int rewrite(const struct set *s, const char *in, const char *out)
{
    FILE *f = fopen(in, "r"), *g = fopen(out, "w");
    if (f == NULL || g == NULL) {
        if (f)
            fclose(f);
        if (g)
            fclose(g);
        return -1;
    }
    if (s->header) {
        fprintf(g, "%s\n", s->header);
    }
    char line[1 << 16];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (n++ < s->skip_lines) {
            continue;
        }
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len == 0) {
            continue;
        }
        for (size_t i = 0; i < len; i++) {
            if (line[i] == s->sep) {
                fputc(',', g);
                while (s->sep == ',' && line[i + 1] == ' ') {
                    i++;
                }
            } else {
                fputc(line[i], g);
            }
        }
        fputc('\n', g);
    }
    fclose(f);
    return fclose(g);
}

static char g_py[512] = "/usr/bin/python3";
static char g_dir[64];

// Runs a Python script (text) in g_dir; reads whitespace-separated doubles from its stdout.
static int python(const char *script, double *vals, int n_vals)
{
    char spath[128], cmd[1024];
    snprintf(spath, sizeof spath, "%s/bench.py", g_dir);
    FILE *f = fopen(spath, "w");
    if (f == NULL) {
        return -1;
    }
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s", g_py, spath);
    FILE *pp = popen(cmd, "r");
    if (pp == NULL) {
        return -1;
    }
    int got = 0;
    while (got < n_vals && fscanf(pp, "%lf", &vals[got]) == 1) {
        got++;
    }
    int st = pclose(pp);
    return got == n_vals && st == 0 ? 0 : -1;
}

static const char *g_py_common =
    "import time, numpy as np, xgboost as xgb\n"
    "d = '%s'\n"
    "x = np.fromfile(d + '/x.f32', dtype=np.float32).reshape(%zu, %zu)\n"
    "y = np.fromfile(d + '/y.f32', dtype=np.float32)\n"
    "def auc(p, y):\n"
    "    o = np.argsort(p, kind='mergesort'); ps = p[o]; r = np.empty(len(p))\n"
    "    _, first, cnt = np.unique(ps, return_index=True, return_counts=True)\n"
    "    rk = first + (cnt + 1) / 2.0\n"
    "    r[o] = np.repeat(rk, cnt)\n"
    "    npos = y.sum(); nneg = len(y) - npos\n"
    "    return (r[y == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg)\n";

// The mean outer-fold AUC of XGBoost's defaults (outer.i32 holds each row's outer fold).
static int python_quality(size_t n, size_t nf, int k, int threads, double *auc)
{
    char script[8192];
    int len = snprintf(script, sizeof script, g_py_common, g_dir, n, nf);
    snprintf(script + len, sizeof script - (size_t)len,
             "outer = np.fromfile(d + '/outer.i32', dtype=np.int32)\n"
             "a = []\n"
             "for f in range(%d):\n"
             "    tr = outer != f; te = outer == f\n"
             "    b = xgb.train({'objective': 'binary:logistic', 'nthread': %d, 'verbosity': 0},\n"
             "                  xgb.DMatrix(x[tr], label=y[tr], missing=np.nan), 100)\n"
             "    a.append(auc(b.predict(xgb.DMatrix(x[te], missing=np.nan)), y[te]))\n"
             "print(np.mean(a))\n",
             k, threads);
    return python(script, auc, 1);
}

// The same grid as ml_experiment_run, in Python, timed inside Python (role.i32: inner fold of a
// dev row, -1 test).
static int python_grid(size_t n, size_t nf, const struct ml_experiment_params *p, double *secs,
                       double *test_auc)
{
    const struct ml_grid *g = &p->grid;
    char cells[2048];
    size_t off = 0;
    off += (size_t)snprintf(cells + off, sizeof cells - off, "cells = [");
    for (size_t a = 0; a < g->n_eta; a++)
        for (size_t b = 0; b < g->n_depth; b++)
            for (size_t c = 0; c < g->n_mcw; c++)
                for (size_t e = 0; e < g->n_spw; e++)
                    off += (size_t)snprintf(cells + off, sizeof cells - off, "(%g, %d, %g, %g), ",
                                            g->eta[a], g->max_depth[b], g->min_child_weight[c],
                                            g->scale_pos_weight[e]);
    snprintf(cells + off, sizeof cells - off, "]\n");
    char script[16384];
    int len = snprintf(script, sizeof script, g_py_common, g_dir, n, nf);
    len += snprintf(script + len, sizeof script - (size_t)len, "%s", cells);
    snprintf(
        script + len, sizeof script - (size_t)len,
        "role = np.fromfile(d + '/role.i32', dtype=np.int32)\n"
        "K = %d\n"
        "t0 = time.perf_counter()\n"
        "dev = role >= 0; te = role == -1; xd = x[dev]; yd = y[dev]; rd = role[dev]\n"
        "folds = [(xgb.DMatrix(xd[rd != f], label=yd[rd != f], missing=np.nan),\n"
        "          xgb.DMatrix(xd[rd == f], label=yd[rd == f], missing=np.nan)) for f in "
        "range(K)]\n"
        "best = None\n"
        "for (eta, depth, mcw, spw) in cells:\n"
        "    oof = np.zeros(len(yd), dtype=np.float32); rounds = []\n"
        "    for f in range(K):\n"
        "        dt, dv = folds[f]\n"
        "        ytr = yd[rd != f]\n"
        "        w = (len(ytr) - ytr.sum()) / ytr.sum() if spw < 0 else spw\n"
        "        prm = {'objective': 'binary:logistic', 'tree_method': 'hist', 'eval_metric': "
        "'auc', 'eta': eta, 'max_depth': depth, 'min_child_weight': mcw, 'scale_pos_weight': w, "
        "'subsample': %g, 'colsample_bytree': %g, 'lambda': %g, 'nthread': %d, 'seed': %llu, "
        "'verbosity': 0}\n"
        "        b = xgb.train(prm, dt, %d, evals=[(dv, 'val')], early_stopping_rounds=%d, "
        "verbose_eval=False)\n"
        "        oof[rd == f] = b.predict(dv, iteration_range=(0, b.best_iteration + 1))\n"
        "        rounds.append(b.best_iteration + 1)\n"
        "    s = auc(oof, yd)\n"
        "    if best is None or s > best[0]:\n"
        "        best = (s, prm, int(round(np.mean(rounds))))\n"
        "s, prm, r = best\n"
        "prm['scale_pos_weight'] = prm['scale_pos_weight'] if prm['scale_pos_weight'] == 1 else "
        "(len(yd) - yd.sum()) / yd.sum()\n"
        "b = xgb.train(prm, xgb.DMatrix(xd, label=yd, missing=np.nan), r)\n"
        "pt = b.predict(xgb.DMatrix(x[te], missing=np.nan))\n"
        "t1 = time.perf_counter()\n"
        "print(t1 - t0, auc(pt, y[te]))\n",
        p->n_folds, p->xgb.subsample, p->xgb.colsample_bytree, p->xgb.lambda, p->xgb.n_threads,
        (unsigned long long)(p->xgb.seed % 2147483647u), p->xgb.n_rounds, p->xgb.early_stopping);
    double v[2];
    if (python(script, v, 2) != 0) {
        return -1;
    }
    *secs = v[0];
    *test_auc = v[1];
    return 0;
}

// The rows of ds where keep[i] into a new (borrowing nothing) data set.
static int subset(const struct ml_dataset *ds, const int *outer, int f, bool in,
                  struct ml_dataset *out)
{
    memset(out, 0, sizeof *out);
    size_t nf = ds->n_features, m = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        m += (outer[i] == f) == in;
    }
    out->x = px_malloc((m ? m : 1) * nf * sizeof *out->x);
    out->y = px_malloc((m ? m : 1) * sizeof *out->y);
    if (out->x == NULL || out->y == NULL) {
        return -1;
    }
    out->n_features = nf;
    for (size_t i = 0; i < ds->n_rows; i++) {
        if ((outer[i] == f) == in) {
            memcpy(out->x + out->n_rows * nf, ds->x + i * nf, nf * sizeof *ds->x);
            out->y[out->n_rows++] = ds->y[i];
            out->n_pos += ds->y[i] == 1.0f;
            out->n_neg += ds->y[i] == 0.0f;
        }
    }
    return 0;
}

static void bench_set(const struct set *s, const char *data_dir, int outer_k, int threads,
                      bool quality, bool timing)
{
    char in[1024], csv[256];
    snprintf(in, sizeof in, "%s/%s", data_dir, s->file);
    if (access(in, R_OK) != 0) {
        printf("%-18s skipped: %s not found\n", s->label, in);
        return;
    }
    snprintf(csv, sizeof csv, "%s/%s.csv", g_dir, s->key);
    if (rewrite(s, in, csv) != 0) {
        printf("%-18s cannot rewrite %s\n", s->label, in);
        return;
    }
    struct ml_spec spec;
    struct ml_dataset ds;
    struct px_err err = {0};
    struct ml_build_params bp = {.target = s->target, .positive = s->positive};
    if (ml_dataset_build(csv, &bp, &spec, &ds, &err) != PX_OK) {
        printf("%-18s %s\n", s->label, err.msg);
        return;
    }
    size_t n = ds.n_rows, nf = ds.n_features;
    char path[128];
    snprintf(path, sizeof path, "%s/x.f32", g_dir);
    int rc = dump(path, ds.x, n * nf * sizeof *ds.x);
    snprintf(path, sizeof path, "%s/y.f32", g_dir);
    rc |= dump(path, ds.y, n * sizeof *ds.y);
    struct ml_experiment_params p = ml_experiment_default_params();
    p.xgb.n_threads = threads;
    size_t *role = px_malloc(n * sizeof *role);
    int *r32 = px_malloc(n * sizeof *r32);
    if (rc != 0 || role == NULL || r32 == NULL) {
        printf("%-18s cannot write the matrix\n", s->label);
        goto done;
    }
    printf("%-18s %zu rows (%zu positive), %zu features\n", s->label, n, ds.n_pos, nf);
    fflush(stdout);
    if (timing) {
        if (ml_experiment_parts(&ds, &p, role, &err) != PX_OK) {
            printf("%-18s %s\n", s->label, err.msg);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            r32[i] = role[i] == (size_t)-1 ? -1 : role[i] == (size_t)-2 ? -2 : (int)role[i];
        }
        snprintf(path, sizeof path, "%s/role.i32", g_dir);
        dump(path, r32, n * sizeof *r32);
        double t_py = 0, auc_py = 0;
        if (python_grid(n, nf, &p, &t_py, &auc_py) != 0) {
            printf("%-18s python3-xgboost failed (scripts/install-deps --bench)\n", s->label);
            goto done;
        }
        struct ml_experiment e;
        double t0 = now();
        if (ml_experiment_run(&ds, &p, NULL, NULL, &e, &err) != PX_OK) {
            printf("%-18s %s\n", s->label, err.msg);
            goto done;
        }
        double t_ours = now() - t0;
        printf("%-18s time, grid of %zu cells x %d folds + final: ours %7.2f s | python3-xgboost "
               "(same grid, same folds) %7.2f s | ratio %.2f (target <= 1.10); test AUC ours "
               "%.4f, python %.4f\n",
               s->label, e.n_cells, p.n_folds, t_ours, t_py, t_ours / t_py, e.test.auc_roc, auc_py);
        fflush(stdout);
        ml_experiment_free(&e);
    }
    if (quality) {
        ml_stratified_parts(ds.y, n, (size_t)outer_k, 7, r32);
        snprintf(path, sizeof path, "%s/outer.i32", g_dir);
        dump(path, r32, n * sizeof *r32);
        double auc_py = NAN, sum = 0;
        if (python_quality(n, nf, outer_k, threads, &auc_py) != 0) {
            printf("%-18s python3-xgboost failed (scripts/install-deps --bench)\n", s->label);
            goto done;
        }
        for (int f = 0; f < outer_k; f++) {
            struct ml_dataset tr, te;
            struct ml_experiment e;
            float *prob = NULL;
            double a = NAN;
            if (subset(&ds, r32, f, false, &tr) != 0 || subset(&ds, r32, f, true, &te) != 0 ||
                (prob = px_malloc(te.n_rows * sizeof *prob)) == NULL) {
                printf("%-18s out of memory\n", s->label);
                goto done;
            }
            if (ml_experiment_run(&tr, &p, NULL, NULL, &e, &err) != PX_OK ||
                ml_classifier_predict(e.model, te.x, te.n_rows, prob, &err) != PX_OK ||
                ml_auc_roc(prob, te.y, te.n_rows, &a, &err) != PX_OK) {
                printf("%-18s outer fold %d: %s\n", s->label, f + 1, err.msg);
                goto done;
            }
            const struct ml_grid_cell *w = &e.cells[e.best_cell];
            printf("%-18s   outer fold %d: AUC %.4f (eta %g, depth %d, mcw %g, %s, %d rounds)\n",
                   s->label, f + 1, a, w->eta, w->max_depth, w->min_child_weight,
                   w->scale_pos_weight < 0 ? "balanced" : "unweighted", e.chosen.n_rounds);
            fflush(stdout);
            sum += a;
            ml_experiment_free(&e);
            ml_dataset_free(&tr);
            ml_dataset_free(&te);
            px_free(prob);
        }
        double ours = sum / outer_k;
        printf("%-18s AUC (mean of %d outer folds): ours %.4f | python3-xgboost defaults %.4f | "
               "ours - python %+.4f (target >= -0.01)\n",
               s->label, outer_k, ours, auc_py, ours - auc_py);
        fflush(stdout);
    }
done:
    px_free(role);
    px_free(r32);
    ml_dataset_free(&ds);
    ml_spec_free(&spec);
}

int main(int argc, char **argv)
{
    const char *sets = "thera,adult,credit,australian";
    const char *data = "../shared/data";
    int outer = 5, threads = 2;
    bool quality = true, timing = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-quality") == 0) {
            quality = false;
        } else if (strcmp(argv[i], "--skip-time") == 0) {
            timing = false;
        } else if (i + 1 < argc && strcmp(argv[i], "--sets") == 0) {
            sets = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--outer") == 0) {
            outer = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            threads = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--data") == 0) {
            data = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--python") == 0) {
            snprintf(g_py, sizeof g_py, "%s", argv[++i]);
        } else {
            fprintf(stderr, "bench_train_cv: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (outer < 2 || threads < 1) {
        fprintf(stderr, "--outer must be >= 2 and --threads >= 1\n");
        return 2;
    }
    snprintf(g_dir, sizeof g_dir, "/tmp/bench_train_cv.XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    printf("bench_train_cv: %d threads, outer %d-fold; ours = ml_experiment_run (grid search, "
           "calibration, threshold, final model)\n",
           threads, outer);
    for (size_t i = 0; i < sizeof g_sets / sizeof g_sets[0]; i++) {
        const char *k = g_sets[i].key;
        const char *hit = strstr(sets, k);
        size_t kl = strlen(k);
        if (hit && (hit == sets || hit[-1] == ',') && (hit[kl] == 0 || hit[kl] == ',')) {
            bench_set(&g_sets[i], data, outer, threads, quality, timing);
        }
    }
    char cleanup[128];
    snprintf(cleanup, sizeof cleanup, "rm -rf %s", g_dir);
    if (system(cleanup) != 0) {
        fprintf(stderr, "could not remove %s\n", g_dir);
    }
    return 0;
}
