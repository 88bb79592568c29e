// bench_train.c — propensity training + SHAP through our C path (src/ml) against Debian's
// python3-xgboost with the same parameters, on the same matrix, in the same run.
//
//   bench_train [--rows N] [--rounds R] [--threads T] [--shap-rows S] [--thera CSV]
//               [--python PATH]
//
// Data sets: Thera Bank (loaded with ml_dataset_build, --thera, default
// ../shared/data/thera_bank/Bank_Personal_Loan_Modelling.csv; skipped when absent) and a
// generated table of N rows (default 1,000,000) x 10 features with a logistic target. Each is
// dumped as raw float32 for Python, then timed: ours = ml_classifier_train (R rounds, no early
// stopping) + ml_classifier_contribs; Python = xgb.DMatrix + xgb.train + predict
// (pred_contribs=True), timed inside Python. Overhead = ours / python - 1 (target <= 10 %).
// SHAP runs on every row of a table of at most S rows (default 50,000), else on a fixed sample
// of S rows: row floor(i * N / S) for i = 0 .. S-1 (every 20th row of the 1M table), the same
// rows on both sides (copied out before the clocks start), so the 1M case ends in minutes on 2
// cores: exact TreeSHAP of one row (100 trees of depth 6) costs about what training on 30 rows
// does, so SHAP over all 1M rows would take ~15 minutes per run.
// Set OMP_WAIT_POLICY=passive on a shared machine (both sides use libgomp).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classifier.h"
#include "dataset.h"
#include "mem.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;

static double uniform(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}

static int dump(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(v, sizeof *v, n, f) != n) {
        if (f) {
            fclose(f);
        }
        return -1;
    }
    return fclose(f);
}

// Times our path; returns seconds (train, shap) via out.
static int ours(const float *x, const float *y, size_t n, size_t nf, const float *xs, size_t ns,
                const struct ml_xgb_params *p, double *t_train, double *t_shap)
{
    struct ml_classifier *c = NULL;
    struct px_err err = {0};
    float *contrib = px_malloc(ns * (nf + 1) * sizeof *contrib);
    if (contrib == NULL) {
        fprintf(stderr, "out of memory\n");
        return -1;
    }
    double t0 = now();
    if (ml_classifier_train(x, y, n, nf, NULL, NULL, 0, p, &c, NULL, &err) != PX_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
        px_free(contrib);
        return -1;
    }
    double t1 = now();
    int rc = ml_classifier_contribs(c, xs, ns, contrib, &err);
    if (rc != PX_OK) {
        fprintf(stderr, "shap: %s\n", err.msg);
    }
    double t2 = now();
    *t_train = t1 - t0;
    *t_shap = t2 - t1;
    ml_classifier_free(c);
    px_free(contrib);
    return rc == PX_OK ? 0 : -1;
}

static int python(const char *py, const char *dir, size_t n, size_t nf, size_t ns, double spw,
                  const struct ml_xgb_params *p, double *t_train, double *t_shap)
{
    char script[4096], cmd[8192];
    snprintf(script, sizeof script,
             "import time, numpy as np, xgboost as xgb\n"
             "x = np.fromfile('%s/x.f32', dtype=np.float32).reshape(%zu, %zu)\n"
             "y = np.fromfile('%s/y.f32', dtype=np.float32)\n"
             "xs = np.fromfile('%s/xs.f32', dtype=np.float32).reshape(%zu, %zu)\n"
             "params = {'objective': 'binary:logistic', 'tree_method': 'hist', 'eval_metric': "
             "'logloss', 'max_depth': %d, 'eta': %.17g, 'subsample': %.17g, 'colsample_bytree': "
             "%.17g, 'min_child_weight': %.17g, 'lambda': %.17g, 'scale_pos_weight': %.17g, "
             "'nthread': %d, 'seed': %llu, 'verbosity': 0}\n"
             "t0 = time.perf_counter()\n"
             "d = xgb.DMatrix(x, label=y, missing=np.nan, nthread=%d)\n"
             "b = xgb.train(params, d, num_boost_round=%d)\n"
             "t1 = time.perf_counter()\n"
             "c = b.predict(xgb.DMatrix(xs, missing=np.nan, nthread=%d), pred_contribs=True)\n"
             "t2 = time.perf_counter()\n"
             "print(t1 - t0, t2 - t1)\n",
             dir, n, nf, dir, dir, ns, nf, p->max_depth, p->eta, p->subsample, p->colsample_bytree,
             p->min_child_weight, p->lambda, spw, p->n_threads,
             (unsigned long long)(p->seed % 2147483647u), p->n_threads, p->n_rounds, p->n_threads);
    char spath[512];
    snprintf(spath, sizeof spath, "%s/bench.py", dir);
    FILE *f = fopen(spath, "w");
    if (f == NULL) {
        return -1;
    }
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s", py, spath);
    FILE *pp = popen(cmd, "r");
    if (pp == NULL) {
        return -1;
    }
    int ok = fscanf(pp, "%lf %lf", t_train, t_shap) == 2;
    int st = pclose(pp);
    return ok && st == 0 ? 0 : -1;
}

// Times both sides on x (n rows) with SHAP on xs (ns rows) and prints one line.
static void compare_on(const char *label, const float *x, const float *y, size_t n, size_t nf,
                       const float *xs, size_t ns, const struct ml_xgb_params *p, const char *py,
                       const char *dir)
{
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        n_pos += y[i] == 1.0f;
    }
    double spw = (double)(n - n_pos) / (double)n_pos;
    char path[512];
    snprintf(path, sizeof path, "%s/x.f32", dir);
    if (dump(path, x, n * nf) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    snprintf(path, sizeof path, "%s/y.f32", dir);
    int rc = dump(path, y, n);
    snprintf(path, sizeof path, "%s/xs.f32", dir);
    if (rc != 0 || dump(path, xs, ns * nf) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return;
    }
    double ot = 0, os = 0, pt = 0, ps = 0;
    // Python first, then ours, then Python again: the better of each side's two runs where
    // there are two (the machine is shared)
    if (python(py, dir, n, nf, ns, spw, p, &pt, &ps) != 0) {
        printf("%-10s python3-xgboost failed (is python3-xgboost installed?)\n", label);
        return;
    }
    if (ours(x, y, n, nf, xs, ns, p, &ot, &os) != 0) {
        return;
    }
    double pt2 = 0, ps2 = 0, ot2 = 0, os2 = 0;
    if (python(py, dir, n, nf, ns, spw, p, &pt2, &ps2) == 0 && pt2 + ps2 < pt + ps) {
        pt = pt2;
        ps = ps2;
    }
    if (ours(x, y, n, nf, xs, ns, p, &ot2, &os2) == 0 && ot2 + os2 < ot + os) {
        ot = ot2;
        os = os2;
    }
    printf("%-10s %9zu rows x %2zu, SHAP on %zu: ours train %7.3f s + SHAP %7.3f s = %7.3f s | "
           "python3-xgboost %7.3f s + %7.3f s = %7.3f s | overhead %+6.1f %% (train %+.1f %%, "
           "SHAP %+.1f %%)\n",
           label, n, nf, ns, ot, os, ot + os, pt, ps, pt + ps, 100 * ((ot + os) / (pt + ps) - 1),
           100 * (ot / pt - 1), 100 * (os / ps - 1));
    fflush(stdout);
}

static void compare(const char *label, const float *x, const float *y, size_t n, size_t nf,
                    size_t shap_rows, const struct ml_xgb_params *p, const char *py,
                    const char *dir)
{
    // the SHAP rows: all, or row floor(i * n / ns) for i < ns
    size_t ns = n <= shap_rows ? n : shap_rows;
    float *xs = px_malloc(ns * nf * sizeof *xs);
    if (xs == NULL) {
        fprintf(stderr, "out of memory\n");
        return;
    }
    for (size_t i = 0; i < ns; i++) {
        size_t r = ns == n ? i : (size_t)((unsigned long long)i * n / ns);
        memcpy(xs + i * nf, x + r * nf, nf * sizeof *xs);
    }
    if (ns == n) {
        printf("%-10s SHAP over all %zu rows\n", label, n);
    } else {
        printf("%-10s SHAP over a fixed sample of %zu of %zu rows (row floor(i * %zu / %zu), "
               "i < %zu; the same rows on both sides)\n",
               label, ns, n, n, ns, ns);
    }
    compare_on(label, x, y, n, nf, xs, ns, p, py, dir);
    px_free(xs);
}

int main(int argc, char **argv)
{
    size_t rows = 1000000;
    const char *thera = "../shared/data/thera_bank/Bank_Personal_Loan_Modelling.csv";
    const char *py = "/usr/bin/python3";
    struct ml_xgb_params p = ml_xgb_default_params();
    p.n_rounds = 100;
    size_t shap_rows = 50000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rows") == 0) {
            rows = (size_t)strtoull(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--rounds") == 0) {
            p.n_rounds = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--threads") == 0) {
            p.n_threads = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--shap-rows") == 0) {
            shap_rows = (size_t)strtoull(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--thera") == 0) {
            thera = argv[i + 1];
        } else if (strcmp(argv[i], "--python") == 0) {
            py = argv[i + 1];
        }
    }
    char dir[] = "/tmp/bench_train.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    if (shap_rows == 0) {
        fprintf(stderr, "--shap-rows must be at least 1\n");
        return 2;
    }
    printf("bench_train: %d rounds, depth %d, eta %g, %d threads, SHAP on at most %zu rows; "
           "each side run twice, the better run counts\n",
           p.n_rounds, p.max_depth, p.eta, p.n_threads, shap_rows);
    struct ml_spec spec;
    struct ml_dataset ds;
    struct px_err err = {0};
    struct ml_build_params bp = {.target = "Personal Loan"};
    if (access(thera, R_OK) == 0) {
        double t0 = now();
        if (ml_dataset_build(thera, &bp, &spec, &ds, &err) == PX_OK) {
            printf("thera      CSV -> features (ml_dataset_build): %.3f s\n", now() - t0);
            compare("thera", ds.x, ds.y, ds.n_rows, ds.n_features, shap_rows, &p, py, dir);
            ml_dataset_free(&ds);
            ml_spec_free(&spec);
        } else {
            printf("thera      %s\n", err.msg);
        }
    } else {
        printf("thera      skipped: %s not found\n", thera);
    }
    if (rows > 0) {
        enum { NF = 10 };
        float *x = px_malloc(rows * NF * sizeof *x), *y = px_malloc(rows * sizeof *y);
        if (x == NULL || y == NULL) {
            fprintf(stderr, "out of memory for %zu rows\n", rows);
            return 1;
        }
        for (size_t i = 0; i < rows; i++) {
            double z = -3;
            for (int k = 0; k < NF; k++) {
                double v = k < 3 ? floor(uniform() * 100) : uniform() * 10 - 5;
                x[i * NF + k] = uniform() < 0.02 ? NAN : (float)v;
                z += (k == 0 ? 0.03 * v : k == 3 ? 0.4 * v : k == 4 ? -0.3 * v * v / 5 : 0);
            }
            y[i] = uniform() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
        }
        compare("generated", x, y, rows, NF, shap_rows, &p, py, dir);
        px_free(x);
        px_free(y);
    }
    char cleanup[256];
    snprintf(cleanup, sizeof cleanup, "rm -rf %s", dir);
    if (system(cleanup) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}
