// experiment.c — split, cross-validate, threshold, final model (contract in experiment.h).
//
// Splits come from a splitmix64 stream seeded by the run's seed, so they do not depend on libc's
// rand(). A test split of fraction f is drawn as the first round(f * n_class) rows of each
// class's shuffled order, which keeps the class balance of every part within one row.
#include "experiment.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "mem.h"

struct ml_experiment_params ml_experiment_default_params(void)
{
    struct ml_experiment_params p = {
        .xgb = ml_xgb_default_params(),
        .n_folds = 5,
        .test_fraction = 0.2,
        .valid_fraction = 0.15,
        .target_recall = 0.95,
        .min_precision = 0,
        .recall_z = 1.645,
    };
    return p;
}

void ml_experiment_free(struct ml_experiment *e)
{
    if (e == NULL) {
        return;
    }
    px_free(e->folds);
    px_free(e->fold_rounds);
    px_free(e->importance);
    ml_classifier_free(e->model);
    memset(e, 0, sizeof *e);
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Shuffled positions of the rows of class c (y == c) into idx; returns their count.
static size_t class_order(const float *y, size_t n, float c, uint64_t *rng, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] == c) {
            idx[m++] = i;
        }
    }
    for (size_t i = m; i > 1; i--) { // Fisher-Yates
        size_t j = (size_t)(splitmix64(rng) % i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    return m;
}

void ml_stratified_parts(const float *y, size_t n, size_t k, uint64_t seed, int *part)
{
    uint64_t rng = seed;
    size_t *idx = px_malloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++) {
        part[i] = -1;
    }
    if (idx == NULL) { // degrade to a deterministic round robin rather than fail
        size_t c[2] = {0, 0};
        for (size_t i = 0; i < n; i++) {
            if (!isnan(y[i])) {
                part[i] = (int)(c[y[i] == 1.0f]++ % k);
            }
        }
        return;
    }
    size_t offset = 0; // continue the round robin across classes so part sizes stay even
    for (int c = 0; c < 2; c++) {
        size_t m = class_order(y, n, (float)c, &rng, idx);
        for (size_t i = 0; i < m; i++) {
            part[idx[i]] = (int)((i + offset) % k);
        }
        offset += m;
    }
    px_free(idx);
}

// Marks rows of sel (n_sel row numbers, labels y) into a held-out share: out[i] = 1 for the
// first round(frac * n_class) shuffled rows of each class.
static int holdout(const float *y, const size_t *sel, size_t n_sel, double frac, uint64_t *rng,
                   unsigned char *out, struct px_err *err)
{
    float *ys = px_malloc((n_sel ? n_sel : 1) * sizeof *ys);
    size_t *idx = px_malloc((n_sel ? n_sel : 1) * sizeof *idx);
    if (ys == NULL || idx == NULL) {
        px_free(ys);
        px_free(idx);
        return px_fail(err, PX_ENOMEM, "out of memory splitting rows");
    }
    for (size_t i = 0; i < n_sel; i++) {
        ys[i] = y[sel[i]];
        out[i] = 0;
    }
    for (int c = 0; c < 2; c++) {
        size_t m = class_order(ys, n_sel, (float)c, rng, idx);
        size_t take = (size_t)llround(frac * (double)m);
        for (size_t i = 0; i < take && i < m; i++) {
            out[idx[i]] = 1;
        }
    }
    px_free(ys);
    px_free(idx);
    return PX_OK;
}

// Copies rows sel[0..n) of ds into x (n, nf) and y (n).
static void gather(const struct ml_dataset *ds, const size_t *sel, size_t n, float *x, float *y)
{
    size_t nf = ds->n_features;
    for (size_t i = 0; i < n; i++) {
        memcpy(x + i * nf, ds->x + sel[i] * nf, nf * sizeof *x);
        y[i] = ds->y[sel[i]];
    }
}

// Trains on rows sel[0..n) of ds, holding out a stratified valid_fraction for early stopping.
static int fit(const struct ml_dataset *ds, const size_t *sel, size_t n,
               const struct ml_experiment_params *p, uint64_t *rng, struct ml_classifier **out,
               struct ml_train_info *info, struct px_err *err)
{
    size_t nf = ds->n_features;
    unsigned char *hold = px_malloc(n ? n : 1);
    size_t *tr = px_malloc((n ? n : 1) * sizeof *tr);
    float *x = px_malloc((n ? n : 1) * nf * sizeof *x);
    float *y = px_malloc((n ? n : 1) * sizeof *y);
    int rc = PX_ENOMEM;
    if (hold == NULL || tr == NULL || x == NULL || y == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory preparing %zu training rows", n);
        goto done;
    }
    rc = holdout(ds->y, sel, n, p->valid_fraction, rng, hold, err);
    if (rc != PX_OK) {
        goto done;
    }
    size_t n_tr = 0, n_va = 0;
    for (size_t i = 0; i < n; i++) {
        if (!hold[i]) {
            tr[n_tr++] = sel[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (hold[i]) {
            tr[n_tr + n_va++] = sel[i];
        }
    }
    gather(ds, tr, n, x, y); // training rows first, then the early-stopping rows
    rc = ml_classifier_train(x, y, n_tr, nf, n_va ? x + n_tr * nf : NULL, n_va ? y + n_tr : NULL,
                             n_va, &p->xgb, out, info, err);
done:
    px_free(hold);
    px_free(tr);
    px_free(x);
    px_free(y);
    return rc;
}

// Scores rows sel[0..n) of ds with c into prob (n).
static int score_rows(struct ml_classifier *c, const struct ml_dataset *ds, const size_t *sel,
                      size_t n, float *prob, struct px_err *err)
{
    size_t nf = ds->n_features;
    float *x = px_malloc((n ? n : 1) * nf * sizeof *x);
    if (x == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory scoring %zu rows", n);
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(x + i * nf, ds->x + sel[i] * nf, nf * sizeof *x);
    }
    int rc = ml_classifier_predict(c, x, n, prob, err);
    px_free(x);
    return rc;
}

int ml_experiment_run(const struct ml_dataset *ds, const struct ml_experiment_params *params,
                      ml_progress_fn progress, void *user, struct ml_experiment *out,
                      struct px_err *err)
{
    struct ml_experiment_params p = params ? *params : ml_experiment_default_params();
    size_t n = ds->n_rows, k = (size_t)p.n_folds;
    size_t *dev = NULL, *test = NULL, *sel = NULL, *fold_of = NULL;
    unsigned char *is_test = NULL;
    int *part = NULL;
    float *oof = NULL, *ydev = NULL, *ptest = NULL, *ytest = NULL, *pf = NULL, *yf = NULL;
    struct ml_classifier *c = NULL;
    int rc = PX_EINVAL;
    memset(out, 0, sizeof *out);
    if (ds->y == NULL) {
        return px_fail(err, PX_EINVAL, "the data set has no target");
    }
    if (p.n_folds < 2 || p.n_folds > 20) {
        return px_fail(err, PX_EINVAL, "--folds %d is not in 2..20", p.n_folds);
    }
    if (!(p.test_fraction > 0 && p.test_fraction < 0.9) ||
        !(p.valid_fraction > 0 && p.valid_fraction < 0.9)) {
        return px_fail(err, PX_EINVAL, "test / validation fractions must be in (0, 0.9)");
    }
    if (ds->n_pos < 2 * k || ds->n_neg < 2 * k) {
        return px_fail(err, PX_EINVAL,
                       "%zu positive and %zu negative rows: too few for %zu folds and a test "
                       "split (at least %zu of each)",
                       ds->n_pos, ds->n_neg, k, 2 * k);
    }
    uint64_t rng = p.xgb.seed ^ 0x70726f7370656374ull; // "prospect"
    dev = px_malloc(n * sizeof *dev);
    test = px_malloc(n * sizeof *test);
    sel = px_malloc(n * sizeof *sel);
    fold_of = px_malloc(n * sizeof *fold_of);
    is_test = px_malloc(n);
    part = px_malloc(n * sizeof *part);
    oof = px_malloc(n * sizeof *oof);
    ydev = px_malloc(n * sizeof *ydev);
    ptest = px_malloc(n * sizeof *ptest);
    ytest = px_malloc(n * sizeof *ytest);
    pf = px_malloc(n * sizeof *pf);
    yf = px_malloc(n * sizeof *yf);
    out->folds = px_calloc(k, sizeof *out->folds);
    out->fold_rounds = px_calloc(k, sizeof *out->fold_rounds);
    out->importance = px_calloc(ds->n_features, sizeof *out->importance);
    if (!dev || !test || !sel || !fold_of || !is_test || !part || !oof || !ydev || !ptest ||
        !ytest || !pf || !yf || !out->folds || !out->fold_rounds || !out->importance) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for %zu rows", n);
        goto done;
    }
    out->n_folds = k;
    // labelled rows only (NaN labels cannot occur in a training set, but stay safe)
    size_t n_lab = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(ds->y[i])) {
            sel[n_lab++] = i;
        }
    }
    rc = holdout(ds->y, sel, n_lab, p.test_fraction, &rng, is_test, err);
    if (rc != PX_OK) {
        goto done;
    }
    size_t n_dev = 0, n_test = 0;
    for (size_t i = 0; i < n_lab; i++) {
        if (is_test[i]) {
            test[n_test++] = sel[i];
        } else {
            dev[n_dev++] = sel[i];
        }
    }
    out->n_dev = n_dev;
    out->n_test = n_test;
    for (size_t i = 0; i < n_dev; i++) {
        ydev[i] = ds->y[dev[i]];
    }
    ml_stratified_parts(ydev, n_dev, k, splitmix64(&rng), part);
    for (size_t f = 0; f < k; f++) {
        size_t n_tr = 0, n_f = 0;
        for (size_t i = 0; i < n_dev; i++) {
            if ((size_t)part[i] == f) {
                fold_of[n_f++] = i;
            } else {
                sel[n_tr++] = dev[i];
            }
        }
        struct ml_train_info info;
        rc = fit(ds, sel, n_tr, &p, &rng, &c, &info, err);
        if (rc != PX_OK) {
            px_err_prefix(err, "fold %zu", f + 1);
            goto done;
        }
        out->fold_rounds[f] = info.best_round;
        for (size_t i = 0; i < n_f; i++) {
            sel[i] = dev[fold_of[i]];
        }
        rc = score_rows(c, ds, sel, n_f, pf, err);
        if (rc != PX_OK) {
            goto done;
        }
        for (size_t i = 0; i < n_f; i++) {
            oof[fold_of[i]] = pf[i];
        }
        ml_classifier_free(c);
        c = NULL;
        if (progress) {
            progress(f + 1, k + 1, user);
        }
    }
    rc = p.min_precision > 0
             ? ml_threshold_for_precision(oof, ydev, n_dev, p.min_precision, &out->threshold, err)
             : ml_threshold_for_recall(oof, ydev, n_dev, p.target_recall, p.recall_z,
                                       &out->threshold, err);
    if (rc != PX_OK) {
        goto done;
    }
    for (size_t f = 0; f < k; f++) {
        size_t n_f = 0;
        for (size_t i = 0; i < n_dev; i++) {
            if ((size_t)part[i] == f) {
                pf[n_f] = oof[i];
                yf[n_f++] = ydev[i];
            }
        }
        rc = ml_metrics_at(pf, yf, n_f, out->threshold, &out->folds[f], err);
        if (rc != PX_OK) {
            goto done;
        }
    }
    rc = ml_metrics_at(oof, ydev, n_dev, out->threshold, &out->cv, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = fit(ds, dev, n_dev, &p, &rng, &out->model, &out->final_info, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "final model");
        goto done;
    }
    rc = score_rows(out->model, ds, test, n_test, ptest, err);
    if (rc != PX_OK) {
        goto done;
    }
    for (size_t i = 0; i < n_test; i++) {
        ytest[i] = ds->y[test[i]];
    }
    rc = ml_metrics_at(ptest, ytest, n_test, out->threshold, &out->test, err);
    if (rc == PX_OK) {
        rc = ml_classifier_importance(out->model, out->importance, err);
    }
    if (progress) {
        progress(k + 1, k + 1, user);
    }
done:
    ml_classifier_free(c);
    px_free(dev);
    px_free(test);
    px_free(sel);
    px_free(fold_of);
    px_free(is_test);
    px_free(part);
    px_free(oof);
    px_free(ydev);
    px_free(ptest);
    px_free(ytest);
    px_free(pf);
    px_free(yf);
    if (rc != PX_OK) {
        ml_experiment_free(out);
    }
    return rc;
}
