// experiment.c — split, grid search by cross-validation, calibration, threshold, final model
// (contract in experiment.h).
//
// Splits come from a splitmix64 stream seeded by the run's seed, so they do not depend on libc's
// rand(). A test split of fraction f is drawn as the first round(f * n_class) rows of each
// class's shuffled order, which keeps the class balance of every part within one row.
//
// The grid's cells x folds are tasks taken in order from a shared counter by a small pthread
// pool; the calling thread works too and is the only one that reports progress. Each task
// copies its rows, trains with its own DMatrices (XGBoost's are not shared across threads) and
// writes only its own slots (the fold's rows of the cell's out-of-fold array, its best round),
// so the result does not depend on which thread ran what.
#include "experiment.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "mem.h"

struct ml_experiment_params ml_experiment_default_params(void)
{
    struct ml_experiment_params p = {
        .xgb = ml_xgb_default_params(),
        .grid = ml_grid_default(),
        .cv_metric = ML_EVAL_AUC,
        .n_folds = 5,
        .test_fraction = 0.2,
        .target_recall = 0.95,
        .min_precision = 0,
        .recall_z = 1.645,
    };
    p.xgb.early_stopping = 50; // AUC on a fold is noisy: a longer patience than logloss needs
    return p;
}

struct ml_grid ml_grid_default(void)
{
    return (struct ml_grid){.eta = {0.1, 0.3},
                            .n_eta = 2,
                            .max_depth = {3, 6},
                            .n_depth = 2,
                            .min_child_weight = {1, 5},
                            .n_mcw = 2,
                            .scale_pos_weight = {1, -1},
                            .n_spw = 2};
}

struct ml_grid ml_grid_single(const struct ml_xgb_params *p)
{
    return (struct ml_grid){.eta = {p->eta},
                            .n_eta = 1,
                            .max_depth = {p->max_depth},
                            .n_depth = 1,
                            .min_child_weight = {p->min_child_weight},
                            .n_mcw = 1,
                            .scale_pos_weight = {p->scale_pos_weight},
                            .n_spw = 1};
}

void ml_experiment_free(struct ml_experiment *e)
{
    if (e == NULL) {
        return;
    }
    px_free(e->cells);
    ml_calibration_free(&e->cal);
    px_free(e->heldout);
    px_free(e->single_auc);
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

// Scores rows sel[0..n) of ds with c into prob (n): the trees' own (uncalibrated) probabilities.
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
    int rc = ml_classifier_predict_raw(c, x, n, prob, err);
    px_free(x);
    return rc;
}

// ---- the grid search ----

struct search {
    const struct ml_dataset *ds;
    const struct ml_experiment_params *p;
    const size_t *dev; // (n_dev) row numbers
    size_t n_dev;
    const int *part; // (n_dev) fold of each dev row
    size_t k;
    struct ml_grid_cell *cells; // (n_cells)
    size_t n_cells;
    float *oof;       // (n_cells, n_dev) raw out-of-fold scores
    int *best_rounds; // (n_cells, k)
    int xgb_threads;
    atomic_size_t next;  // next task
    atomic_size_t done;  // tasks finished
    atomic_int failed;   // a task failed: the others stop taking tasks
    pthread_mutex_t mu;  // guards err
    struct px_err err;   // the first failure
    int rc;
};

// The cell's parameters over the base ones.
static struct ml_xgb_params cell_params(const struct ml_xgb_params *base,
                                        const struct ml_grid_cell *c)
{
    struct ml_xgb_params q = *base;
    q.eta = c->eta;
    q.max_depth = c->max_depth;
    q.min_child_weight = c->min_child_weight;
    q.scale_pos_weight = c->scale_pos_weight;
    return q;
}

// One task: cell t / k, fold t % k.
static int run_task(struct search *s, size_t t, struct px_err *err)
{
    size_t cell = t / s->k, f = t % s->k, nf = s->ds->n_features;
    size_t *tr = px_malloc(s->n_dev * sizeof *tr);
    float *x = px_malloc(s->n_dev * nf * sizeof *x);
    float *y = px_malloc(s->n_dev * sizeof *y);
    float *pf = px_malloc(s->n_dev * sizeof *pf);
    struct ml_classifier *c = NULL;
    int rc;
    if (tr == NULL || x == NULL || y == NULL || pf == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory preparing %zu training rows", s->n_dev);
        goto done;
    }
    size_t n_tr = 0, n_va = 0;
    for (size_t i = 0; i < s->n_dev; i++) { // training rows first, then the fold's
        if ((size_t)s->part[i] != f) {
            tr[n_tr++] = s->dev[i];
        }
    }
    for (size_t i = 0; i < s->n_dev; i++) {
        if ((size_t)s->part[i] == f) {
            tr[n_tr + n_va++] = s->dev[i];
        }
    }
    gather(s->ds, tr, n_tr + n_va, x, y);
    struct ml_xgb_params q = cell_params(&s->p->xgb, &s->cells[cell]);
    q.eval_metric = s->p->cv_metric;
    q.n_threads = s->xgb_threads;
    struct ml_train_info info;
    rc = ml_classifier_train(x, y, n_tr, nf, x + n_tr * nf, y + n_tr, n_va, &q, &c, &info, err);
    if (rc == PX_OK)
        rc = ml_classifier_predict_raw(c, x + n_tr * nf, n_va, pf, err);
    if (rc == PX_OK) {
        s->best_rounds[cell * s->k + f] = info.best_round;
        float *o = s->oof + cell * s->n_dev;
        size_t j = 0;
        for (size_t i = 0; i < s->n_dev; i++) {
            if ((size_t)s->part[i] == f) {
                o[i] = pf[j++];
            }
        }
    } else {
        px_err_prefix(err, "grid cell %zu, fold %zu", cell + 1, f + 1);
    }
done:
    ml_classifier_free(c);
    px_free(tr);
    px_free(x);
    px_free(y);
    px_free(pf);
    return rc;
}

// Takes tasks until none is left or one failed; returns after its current task.
static void work(struct search *s, ml_progress_fn progress, void *user, size_t total)
{
    for (;;) {
        if (atomic_load(&s->failed)) {
            return;
        }
        size_t t = atomic_fetch_add(&s->next, 1);
        if (t >= s->n_cells * s->k) {
            return;
        }
        struct px_err err = {0};
        int rc = run_task(s, t, &err);
        if (rc != PX_OK) {
            pthread_mutex_lock(&s->mu);
            if (s->rc == PX_OK) {
                s->rc = rc;
                s->err = err;
            }
            pthread_mutex_unlock(&s->mu);
            atomic_store(&s->failed, 1);
            return;
        }
        size_t d = atomic_fetch_add(&s->done, 1) + 1;
        if (progress) { // only the calling thread passes a callback
            progress(d, total, user);
        }
    }
}

static void *worker(void *arg)
{
    work(arg, NULL, NULL, 0);
    return NULL;
}

// Fills s->cells from the grid; returns their count (0 when a dimension is empty).
static size_t grid_cells(const struct ml_grid *g, struct ml_grid_cell *cells)
{
    size_t n = 0;
    for (size_t a = 0; a < g->n_eta; a++) {
        for (size_t b = 0; b < g->n_depth; b++) {
            for (size_t c = 0; c < g->n_mcw; c++) {
                for (size_t d = 0; d < g->n_spw; d++) {
                    cells[n++] = (struct ml_grid_cell){.eta = g->eta[a],
                                                       .max_depth = g->max_depth[b],
                                                       .min_child_weight = g->min_child_weight[c],
                                                       .scale_pos_weight = g->scale_pos_weight[d]};
                }
            }
        }
    }
    return n;
}

static double score_of(enum ml_eval_metric m, const float *p, const float *y, size_t n)
{
    double v = NAN;
    if (m == ML_EVAL_AUCPR) {
        ml_auc_pr(p, y, n, &v, NULL);
    } else {
        ml_auc_roc(p, y, n, &v, NULL);
    }
    return v;
}

// Runs every cell x fold; fills e->cells, e->best_cell and the winner's raw out-of-fold scores
// into oof (n_dev).
static int grid_search(const struct ml_dataset *ds, const struct ml_experiment_params *p,
                       const size_t *dev, size_t n_dev, const float *ydev, const int *part,
                       ml_progress_fn progress, void *user, struct ml_experiment *e, float *oof,
                       struct px_err *err)
{
    const struct ml_grid *g = &p->grid;
    size_t k = (size_t)p->n_folds;
    size_t max_cells = g->n_eta * g->n_depth * g->n_mcw * g->n_spw;
    if (max_cells == 0 || g->n_eta > ML_GRID_MAX || g->n_depth > ML_GRID_MAX ||
        g->n_mcw > ML_GRID_MAX || g->n_spw > ML_GRID_MAX) {
        return px_fail(err, PX_EINVAL, "the hyperparameter grid is empty or too large");
    }
    e->cells = px_calloc(max_cells, sizeof *e->cells);
    struct search s = {.ds = ds, .p = p, .dev = dev, .n_dev = n_dev, .part = part, .k = k};
    s.oof = px_malloc(max_cells * n_dev * sizeof *s.oof);
    s.best_rounds = px_calloc(max_cells * k, sizeof *s.best_rounds);
    if (e->cells == NULL || s.oof == NULL || s.best_rounds == NULL) {
        px_free(s.oof);
        px_free(s.best_rounds);
        return px_fail(err, PX_ENOMEM, "out of memory for the grid search");
    }
    s.cells = e->cells;
    s.n_cells = e->n_cells = grid_cells(g, e->cells);
    size_t tasks = s.n_cells * k;
    size_t workers = (size_t)(p->xgb.n_threads > 0 ? p->xgb.n_threads : 1);
    if (workers > tasks) {
        workers = tasks;
    }
    if (workers > LIMIT_THREADS) {
        workers = LIMIT_THREADS;
    }
    s.xgb_threads = p->xgb.n_threads / (int)workers > 0 ? p->xgb.n_threads / (int)workers : 1;
    atomic_init(&s.next, 0);
    atomic_init(&s.done, 0);
    atomic_init(&s.failed, 0);
    pthread_mutex_init(&s.mu, NULL);
    s.rc = PX_OK;
    pthread_t th[LIMIT_THREADS];
    size_t started = 0;
    for (size_t w = 1; w < workers; w++) { // a thread that does not start leaves more to us
        if (pthread_create(&th[started], NULL, worker, &s) == 0) {
            started++;
        }
    }
    work(&s, progress, user, tasks + 1);
    for (size_t w = 0; w < started; w++) {
        pthread_join(th[w], NULL);
    }
    pthread_mutex_destroy(&s.mu);
    int rc = s.rc;
    if (rc != PX_OK) {
        *err = s.err;
    } else {
        size_t best = 0;
        for (size_t c = 0; c < s.n_cells; c++) {
            struct ml_grid_cell *cell = &e->cells[c];
            cell->score = score_of(p->cv_metric, s.oof + c * n_dev, ydev, n_dev);
            double r = 0;
            for (size_t f = 0; f < k; f++) {
                r += s.best_rounds[c * k + f];
            }
            cell->rounds = r / (double)k;
            if (c > 0 && cell->score > e->cells[best].score) {
                best = c;
            }
        }
        e->best_cell = best;
        memcpy(oof, s.oof + best * n_dev, n_dev * sizeof *oof);
        for (size_t f = 0; f < k; f++) {
            e->fold_rounds[f] = s.best_rounds[best * k + f];
        }
    }
    px_free(s.oof);
    px_free(s.best_rounds);
    return rc;
}

// The Brier score of isotonic calibration cross-fitted over the folds: each fold's scores mapped
// by the map fitted on the other folds' (work: n_dev floats).
static int crossfit_brier(const float *oof, const float *y, const int *part, size_t n, size_t k,
                          float *work, double *brier, struct px_err *err)
{
    float *ps = px_malloc((n ? n : 1) * sizeof *ps), *ys = px_malloc((n ? n : 1) * sizeof *ys);
    if (ps == NULL || ys == NULL) {
        px_free(ps);
        px_free(ys);
        return px_fail(err, PX_ENOMEM, "out of memory calibrating %zu scores", n);
    }
    int rc = PX_OK;
    for (size_t f = 0; rc == PX_OK && f < k; f++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)part[i] != f) {
                ps[m] = oof[i];
                ys[m++] = y[i];
            }
        }
        struct ml_calibration c;
        rc = ml_isotonic_fit(ps, ys, m, &c, err);
        for (size_t i = 0; rc == PX_OK && i < n; i++) {
            if ((size_t)part[i] == f) {
                work[i] = (float)ml_calibration_map(&c, oof[i]);
            }
        }
        ml_calibration_free(&c);
    }
    if (rc == PX_OK) {
        *brier = ml_brier(work, y, n);
    }
    px_free(ps);
    px_free(ys);
    return rc;
}

// AUC of each feature alone on the dev rows (missing ranked lowest), folded to >= 0.5.
static int single_aucs(const struct ml_dataset *ds, const size_t *dev, size_t n_dev,
                       const float *ydev, double *out, struct px_err *err)
{
    float *v = px_malloc((n_dev ? n_dev : 1) * sizeof *v);
    if (v == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for %zu rows", n_dev);
    }
    size_t nf = ds->n_features;
    for (size_t k = 0; k < nf; k++) {
        for (size_t i = 0; i < n_dev; i++) {
            float x = ds->x[dev[i] * nf + k];
            v[i] = isnan(x) ? -INFINITY : x;
        }
        double a = NAN;
        ml_auc_roc(v, ydev, n_dev, &a, NULL);
        out[k] = isnan(a) ? NAN : a < 0.5 ? 1 - a : a;
    }
    px_free(v);
    return PX_OK;
}

static int cmp_float_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

// The budget threshold: top_k of n_lab labelled rows, scaled to the n dev scores p.
static int threshold_for_budget(const float *p, size_t n, size_t top_k, size_t n_lab,
                                double *threshold, struct px_err *err)
{
    if (top_k > n_lab) {
        return px_fail(err, PX_EINVAL, "--top %zu is more than the %zu labelled rows", top_k,
                       n_lab);
    }
    float *s = px_malloc((n ? n : 1) * sizeof *s);
    if (s == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for %zu scores", n);
    }
    memcpy(s, p, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_float_desc);
    size_t k = (size_t)llround((double)top_k * (double)n / (double)n_lab);
    k = k < 1 ? 1 : k > n ? n : k;
    *threshold = s[k - 1];
    px_free(s);
    return PX_OK;
}

int ml_experiment_parts(const struct ml_dataset *ds, const struct ml_experiment_params *p,
                        size_t *role, struct px_err *err)
{
    size_t n = ds->n_rows, k = (size_t)p->n_folds;
    uint64_t rng = p->xgb.seed ^ 0x70726f7370656374ull; // "prospect"
    size_t *sel = px_malloc((n ? n : 1) * sizeof *sel);
    unsigned char *is_test = px_malloc(n ? n : 1);
    float *ydev = px_malloc((n ? n : 1) * sizeof *ydev);
    int *part = px_malloc((n ? n : 1) * sizeof *part);
    int rc = PX_OK;
    if (sel == NULL || is_test == NULL || ydev == NULL || part == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory splitting %zu rows", n);
        goto done;
    }
    // labelled rows only (NaN labels cannot occur in a training set, but stay safe)
    size_t n_lab = 0;
    for (size_t i = 0; i < n; i++) {
        role[i] = (size_t)-2;
        if (!isnan(ds->y[i])) {
            sel[n_lab++] = i;
        }
    }
    rc = holdout(ds->y, sel, n_lab, p->test_fraction, &rng, is_test, err);
    if (rc != PX_OK) {
        goto done;
    }
    size_t n_dev = 0;
    for (size_t i = 0; i < n_lab; i++) {
        if (is_test[i]) {
            role[sel[i]] = (size_t)-1;
        } else {
            ydev[n_dev] = ds->y[sel[i]];
            sel[n_dev++] = sel[i]; // n_dev <= i: compacting in place is safe
        }
    }
    ml_stratified_parts(ydev, n_dev, k, splitmix64(&rng), part);
    for (size_t i = 0; i < n_dev; i++) {
        role[sel[i]] = (size_t)part[i];
    }
done:
    px_free(sel);
    px_free(is_test);
    px_free(ydev);
    px_free(part);
    return rc;
}

int ml_experiment_run(const struct ml_dataset *ds, const struct ml_experiment_params *params,
                      ml_progress_fn progress, void *user, struct ml_experiment *out,
                      struct px_err *err)
{
    struct ml_experiment_params p = params ? *params : ml_experiment_default_params();
    size_t n = ds->n_rows, k = (size_t)p.n_folds;
    size_t *dev = NULL, *test = NULL, *sel = NULL;
    int *part = NULL;
    float *oof = NULL, *ydev = NULL, *ptest = NULL, *ytest = NULL, *pf = NULL, *yf = NULL;
    float *xdev = NULL;
    int rc = PX_EINVAL;
    memset(out, 0, sizeof *out);
    if (ds->y == NULL) {
        return px_fail(err, PX_EINVAL, "the data set has no target");
    }
    if (p.n_folds < 2 || p.n_folds > 20) {
        return px_fail(err, PX_EINVAL, "--folds %d is not in 2..20", p.n_folds);
    }
    if (!(p.test_fraction > 0 && p.test_fraction < 0.9)) {
        return px_fail(err, PX_EINVAL, "the test fraction must be in (0, 0.9)");
    }
    if (ds->n_pos < 2 * k || ds->n_neg < 2 * k) {
        return px_fail(err, PX_EINVAL,
                       "%zu positive and %zu negative rows: too few for %zu folds and a test "
                       "split (at least %zu of each)",
                       ds->n_pos, ds->n_neg, k, 2 * k);
    }
    dev = px_malloc(n * sizeof *dev);
    test = px_malloc(n * sizeof *test);
    sel = px_malloc(n * sizeof *sel);
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
    out->single_auc = px_calloc(ds->n_features, sizeof *out->single_auc);
    out->heldout = px_malloc(n * sizeof *out->heldout);
    if (!dev || !test || !sel || !part || !oof || !ydev || !ptest || !ytest || !pf || !yf ||
        !out->folds || !out->fold_rounds || !out->importance || !out->single_auc ||
        !out->heldout) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for %zu rows", n);
        goto done;
    }
    out->n_folds = k;
    rc = ml_experiment_parts(ds, &p, sel, err); // sel: each row's role
    if (rc != PX_OK) {
        goto done;
    }
    size_t n_dev = 0, n_test = 0, n_lab = 0;
    for (size_t i = 0; i < n; i++) {
        n_lab += !isnan(ds->y[i]);
        out->heldout[i] = NAN;
        size_t role = sel[i];
        if (role == (size_t)-1) {
            test[n_test++] = i;
        } else if (role < k) {
            part[n_dev] = (int)role;
            dev[n_dev++] = i;
        }
    }
    out->n_dev = n_dev;
    out->n_test = n_test;
    for (size_t i = 0; i < n_dev; i++) {
        ydev[i] = ds->y[dev[i]];
    }
    rc = single_aucs(ds, dev, n_dev, ydev, out->single_auc, err);
    if (rc == PX_OK)
        rc = grid_search(ds, &p, dev, n_dev, ydev, part, progress, user, out, oof, err);
    if (rc != PX_OK) {
        goto done;
    }
    // calibration on the winner's out-of-fold scores, if it earns its place: cross-fitted over
    // the same folds (fit on the others' scores, apply to the fold) it must lower the Brier score
    out->brier_before = ml_brier(oof, ydev, n_dev);
    rc = crossfit_brier(oof, ydev, part, n_dev, k, pf, &out->brier_after, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (out->brier_after < out->brier_before) {
        rc = ml_isotonic_fit(oof, ydev, n_dev, &out->cal, err);
        if (rc != PX_OK) {
            goto done;
        }
        ml_calibration_apply(&out->cal, oof, n_dev);
    } else {
        out->brier_after = out->brier_before; // the identity: the trees' own probabilities
    }
    ml_reliability(oof, ydev, n_dev, ML_RELIABILITY_BINS, out->reliability);
    for (size_t i = 0; i < n_dev; i++) {
        out->heldout[dev[i]] = oof[i];
    }
    rc = p.top_k > 0 ? threshold_for_budget(oof, n_dev, p.top_k, n_lab, &out->threshold, err)
         : p.min_precision > 0
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
    // the final model: all of dev, the winner's parameters and mean rounds
    const struct ml_grid_cell *win = &out->cells[out->best_cell];
    out->chosen = cell_params(&p.xgb, win);
    out->chosen.n_rounds = (int)llround(win->rounds) > 0 ? (int)llround(win->rounds) : 1;
    xdev = px_malloc((n_dev ? n_dev : 1) * ds->n_features * sizeof *xdev);
    if (xdev == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for %zu rows", n_dev);
        goto done;
    }
    gather(ds, dev, n_dev, xdev, yf);
    rc = ml_classifier_train(xdev, yf, n_dev, ds->n_features, NULL, NULL, 0, &out->chosen,
                             &out->model, &out->final_info, err);
    if (rc == PX_OK)
        rc = out->cal.n > 0 ? ml_classifier_set_calibration(out->model, &out->cal, err) : PX_OK;
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
    out->test_brier_before = ml_brier(ptest, ytest, n_test);
    ml_calibration_apply(&out->cal, ptest, n_test);
    out->test_brier_after = ml_brier(ptest, ytest, n_test);
    for (size_t i = 0; i < n_test; i++) {
        out->heldout[test[i]] = ptest[i];
    }
    rc = ml_metrics_at(ptest, ytest, n_test, out->threshold, &out->test, err);
    if (rc == PX_OK) {
        rc = ml_classifier_importance(out->model, out->importance, err);
    }
    if (progress) {
        size_t total = out->n_cells * k + 1;
        progress(total, total, user);
    }
done:
    px_free(dev);
    px_free(test);
    px_free(sel);
    px_free(part);
    px_free(oof);
    px_free(ydev);
    px_free(ptest);
    px_free(ytest);
    px_free(pf);
    px_free(yf);
    px_free(xdev);
    if (rc != PX_OK) {
        ml_experiment_free(out);
    }
    return rc;
}
