// classifier.c — XGBoost C API wrapper (contract in classifier.h).
//
// Design:
//   - One BoosterHandle per classifier. Data goes in through XGDMatrixCreateFromMat (row-major
//     float, NaN missing), labels through XGDMatrixSetFloatInfo("label").
//   - Training runs XGBoosterUpdateOneIter round by round and reads the validation score from
//     XGBoosterEvalOneIter's text ("[i]\tval-auc:0.91234"), so early stopping is ours and
//     exact: stop after early_stopping rounds without improvement, then XGBoosterSlice to the
//     best round, so the saved model is the model that was measured.
//   - Determinism: seed, nthread and tree_method=hist are set explicitly; XGBoost's global
//     verbosity is 0 and its log callback goes to logx (library code never prints).
//   - Every XGBoost call is checked; XGBGetLastError() is thread-local and overwritten by the
//     next call, so it is copied into px_err immediately (STYLE C4).
#include "classifier.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "logx.h"
#include "mem.h"

struct ml_classifier {
    BoosterHandle booster;
    size_t n_features;
    struct ml_calibration cal; // n == 0: none
};

struct ml_xgb_params ml_xgb_default_params(void)
{
    struct ml_xgb_params p = {
        .max_depth = 6,
        .eta = 0.3,
        .n_rounds = 300,
        .early_stopping = 20,
        .eval_metric = ML_EVAL_LOGLOSS,
        .subsample = 0.9,
        .colsample_bytree = 0.9,
        .min_child_weight = 1,
        .lambda = 1,
        .scale_pos_weight = -1,
        .n_threads = 2,
        .seed = 42,
    };
    return p;
}

static void xgb_log(const char *msg)
{
    logx(LOGX_DEBUG, "xgboost: %s", msg);
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void xgb_init_once(void)
{
    XGBRegisterLogCallback(xgb_log);
    XGBSetGlobalConfig("{\"verbosity\": 0}");
}

static int xfail(struct px_err *err, const char *what)
{
    const char *m = XGBGetLastError();
    return px_fail(err, PX_EINTERNAL, "xgboost: %s: %s", what, m && *m ? m : "failed");
}

size_t ml_classifier_n_features(const struct ml_classifier *c)
{
    return c->n_features;
}

void ml_classifier_free(struct ml_classifier *c)
{
    if (c == NULL) {
        return;
    }
    if (c->booster != NULL) {
        XGBoosterFree(c->booster);
    }
    ml_calibration_free(&c->cal);
    px_free(c);
}

static int make_dmatrix(const float *x, const float *y, size_t n, size_t nf, DMatrixHandle *out,
                        struct px_err *err)
{
    *out = NULL;
    if (XGDMatrixCreateFromMat(x, (bst_ulong)n, (bst_ulong)nf, NAN, out) != 0) {
        return xfail(err, "creating the data matrix");
    }
    if (y != NULL && XGDMatrixSetFloatInfo(*out, "label", y, (bst_ulong)n) != 0) {
        int rc = xfail(err, "setting labels");
        XGDMatrixFree(*out);
        *out = NULL;
        return rc;
    }
    return PX_OK;
}

static int set_param(BoosterHandle b, const char *k, const char *v, struct px_err *err)
{
    if (XGBoosterSetParam(b, k, v) != 0) {
        char what[96];
        snprintf(what, sizeof what, "setting %s=%s", k, v);
        return xfail(err, what);
    }
    return PX_OK;
}

static int set_params(BoosterHandle b, const struct ml_xgb_params *p, double spw,
                      struct px_err *err)
{
    char v[8][64];
    snprintf(v[0], sizeof v[0], "%d", p->max_depth);
    snprintf(v[1], sizeof v[1], "%.17g", p->eta);
    snprintf(v[2], sizeof v[2], "%.17g", p->subsample);
    snprintf(v[3], sizeof v[3], "%.17g", p->colsample_bytree);
    snprintf(v[4], sizeof v[4], "%.17g", p->min_child_weight);
    snprintf(v[5], sizeof v[5], "%.17g", p->lambda);
    snprintf(v[6], sizeof v[6], "%.17g", spw);
    snprintf(v[7], sizeof v[7], "%d", p->n_threads);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(p->seed % 2147483647u));
    const char *kv[][2] = {
        {"objective", "binary:logistic"},
        {"tree_method", "hist"},
        {"eval_metric", p->eval_metric == ML_EVAL_AUC     ? "auc"
                        : p->eval_metric == ML_EVAL_AUCPR ? "aucpr"
                                                          : "logloss"},
        {"max_depth", v[0]},
        {"eta", v[1]},
        {"subsample", v[2]},
        {"colsample_bytree", v[3]},
        {"min_child_weight", v[4]},
        {"lambda", v[5]},
        {"scale_pos_weight", v[6]},
        {"nthread", v[7]},
        {"seed", seed},
        {"verbosity", "0"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        int rc = set_param(b, kv[i][0], kv[i][1], err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static int check_input(const float *x, const float *y, size_t n, size_t nf, struct px_err *err)
{
    if (n == 0 || nf == 0) {
        return px_fail(err, PX_EINVAL, "no rows or no features to train on");
    }
    for (size_t i = 0; i < n; i++) {
        if (y != NULL && y[i] != 0.0f && y[i] != 1.0f) {
            return px_fail(err, PX_EINVAL, "row %zu: label %g is not 0 or 1", i, (double)y[i]);
        }
        for (size_t k = 0; k < nf; k++) {
            if (isinf(x[i * nf + k])) {
                return px_fail(err, PX_EINVAL, "row %zu, feature %zu: infinite value", i, k);
            }
        }
    }
    return PX_OK;
}

// Validation score out of "[12]\tval-logloss:0.123456".
static double parse_eval(const char *s)
{
    const char *c = s ? strrchr(s, ':') : NULL;
    return c ? strtod(c + 1, NULL) : NAN;
}

int ml_classifier_train(const float *x, const float *y, size_t n, size_t nf, const float *xv,
                        const float *yv, size_t nv, const struct ml_xgb_params *params,
                        struct ml_classifier **out, struct ml_train_info *info, struct px_err *err)
{
    struct ml_xgb_params p = params ? *params : ml_xgb_default_params();
    DMatrixHandle dtrain = NULL, dval = NULL;
    BoosterHandle b = NULL;
    struct ml_classifier *c = NULL;
    int rc = PX_EINVAL;
    *out = NULL;
    pthread_once(&g_once, xgb_init_once);
    if ((rc = check_input(x, y, n, nf, err)) != PX_OK ||
        (nv > 0 && (rc = check_input(xv, yv, nv, nf, err)) != PX_OK)) {
        goto done;
    }
    if (p.n_rounds < 1 || p.max_depth < 1 || !(p.eta > 0) || p.n_threads < 1) {
        rc = px_fail(err, PX_EINVAL, "bad training parameters (rounds %d, depth %d, eta %g)",
                     p.n_rounds, p.max_depth, p.eta);
        goto done;
    }
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        n_pos += y[i] == 1.0f;
    }
    if (n_pos == 0 || n_pos == n) {
        rc = px_fail(err, PX_EINVAL, "the training rows hold a single class");
        goto done;
    }
    double spw = p.scale_pos_weight < 0 ? (double)(n - n_pos) / (double)n_pos : p.scale_pos_weight;
    if ((rc = make_dmatrix(x, y, n, nf, &dtrain, err)) != PX_OK ||
        (nv > 0 && (rc = make_dmatrix(xv, yv, nv, nf, &dval, err)) != PX_OK)) {
        goto done;
    }
    DMatrixHandle both[2] = {dtrain, dval};
    if (XGBoosterCreate(both, nv > 0 ? 2 : 1, &b) != 0) {
        rc = xfail(err, "creating the booster");
        goto done;
    }
    if ((rc = set_params(b, &p, spw, err)) != PX_OK) {
        goto done;
    }
    double sign = p.eval_metric == ML_EVAL_LOGLOSS ? 1 : -1; // compare as "lower is better"
    double best = INFINITY;
    int best_round = 0, rounds = 0;
    for (int it = 0; it < p.n_rounds; it++) {
        if (XGBoosterUpdateOneIter(b, it, dtrain) != 0) {
            rc = xfail(err, "boosting");
            goto done;
        }
        rounds = it + 1;
        if (nv == 0) {
            best_round = rounds;
            continue;
        }
        const char *names[1] = {"val"};
        const char *res = NULL;
        if (XGBoosterEvalOneIter(b, it, &dval, names, 1, &res) != 0) {
            rc = xfail(err, "evaluating");
            goto done;
        }
        double ll = sign * parse_eval(res);
        if (ll < best) {
            best = ll;
            best_round = rounds;
        } else if (p.early_stopping > 0 && rounds - best_round >= p.early_stopping) {
            break;
        }
    }
    if (best_round < rounds) {
        BoosterHandle sliced = NULL;
        if (XGBoosterSlice(b, 0, best_round, 1, &sliced) != 0) {
            rc = xfail(err, "keeping the best rounds");
            goto done;
        }
        XGBoosterFree(b);
        b = sliced;
    }
    c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    c->booster = b;
    c->n_features = nf;
    b = NULL;
    if (info != NULL) {
        info->n_rounds = rounds;
        info->best_round = best_round;
        info->best_score = nv > 0 ? sign * best : NAN;
        info->scale_pos_weight = spw;
    }
    *out = c;
    c = NULL;
    rc = PX_OK;
done:
    if (b != NULL) {
        XGBoosterFree(b);
    }
    if (dtrain != NULL) {
        XGDMatrixFree(dtrain);
    }
    if (dval != NULL) {
        XGDMatrixFree(dval);
    }
    ml_classifier_free(c);
    return rc;
}

// Runs one prediction of the given type over x (n rows); copies expect_cols values per row.
static int predict(struct ml_classifier *c, const float *x, size_t n, int type, size_t expect_cols,
                   float *out, struct px_err *err)
{
    DMatrixHandle d = NULL;
    int rc = make_dmatrix(x, NULL, n, c->n_features, &d, err);
    if (rc != PX_OK) {
        return rc;
    }
    char cfg[160];
    snprintf(cfg, sizeof cfg,
             "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
             "\"strict_shape\": false}",
             type);
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    if (XGBoosterPredictFromDMatrix(c->booster, d, cfg, &shape, &dim, &res) != 0) {
        rc = xfail(err, "predicting");
    } else {
        bst_ulong total = 1;
        for (bst_ulong i = 0; i < dim; i++) {
            total *= shape[i];
        }
        if (total != (bst_ulong)(n * expect_cols)) {
            rc = px_fail(err, PX_EINTERNAL, "xgboost returned %llu values, expected %zu",
                         (unsigned long long)total, n * expect_cols);
        } else {
            memcpy(out, res, n * expect_cols * sizeof *out);
        }
    }
    XGDMatrixFree(d);
    return rc;
}

int ml_classifier_set_calibration(struct ml_classifier *c, const struct ml_calibration *cal,
                                  struct px_err *err)
{
    struct ml_calibration copy;
    int rc = ml_calibration_set(cal->x, cal->y, cal->n, &copy, err);
    if (rc == PX_OK) {
        ml_calibration_free(&c->cal);
        c->cal = copy;
    }
    return rc;
}

int ml_classifier_predict_raw(struct ml_classifier *c, const float *x, size_t n, float *prob,
                              struct px_err *err)
{
    return predict(c, x, n, 0, 1, prob, err);
}

int ml_classifier_predict(struct ml_classifier *c, const float *x, size_t n, float *prob,
                          struct px_err *err)
{
    int rc = predict(c, x, n, 0, 1, prob, err);
    if (rc == PX_OK) {
        ml_calibration_apply(&c->cal, prob, n);
    }
    return rc;
}

int ml_classifier_margin(struct ml_classifier *c, const float *x, size_t n, float *margin,
                         struct px_err *err)
{
    return predict(c, x, n, 1, 1, margin, err);
}

int ml_classifier_contribs(struct ml_classifier *c, const float *x, size_t n, float *contrib,
                           struct px_err *err)
{
    return predict(c, x, n, 2, c->n_features + 1, contrib, err);
}

int ml_classifier_importance(struct ml_classifier *c, double *gain, struct px_err *err)
{
    bst_ulong n_names = 0, dim = 0;
    const char **names = NULL;
    const bst_ulong *shape = NULL;
    const float *scores = NULL;
    for (size_t k = 0; k < c->n_features; k++) {
        gain[k] = 0;
    }
    if (XGBoosterFeatureScore(c->booster, "{\"importance_type\": \"gain\"}", &n_names, &names, &dim,
                              &shape, &scores) != 0) {
        return xfail(err, "feature importance");
    }
    for (bst_ulong i = 0; i < n_names; i++) {
        // without feature names XGBoost calls them f0, f1, ...
        char *end = NULL;
        unsigned long k = names[i][0] == 'f' ? strtoul(names[i] + 1, &end, 10) : 0;
        if (end == NULL || *end != '\0' || k >= c->n_features) {
            return px_fail(err, PX_EINTERNAL, "xgboost: unexpected feature name '%s'", names[i]);
        }
        gain[k] = scores[i];
    }
    return PX_OK;
}

int ml_classifier_save_json(struct ml_classifier *c, char **json, size_t *len, struct px_err *err)
{
    bst_ulong n = 0;
    const char *buf = NULL;
    *json = NULL;
    if (XGBoosterSaveModelToBuffer(c->booster, "{\"format\": \"json\"}", &n, &buf) != 0) {
        return xfail(err, "saving the model");
    }
    char *copy = px_malloc((size_t)n + 1);
    if (copy == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory saving the model");
    }
    memcpy(copy, buf, n);
    copy[n] = '\0';
    *json = copy;
    *len = (size_t)n;
    return PX_OK;
}

int ml_classifier_load_json(const char *json, size_t len, size_t nf, int n_threads,
                            struct ml_classifier **out, struct px_err *err)
{
    BoosterHandle b = NULL;
    struct ml_classifier *c = NULL;
    int rc = PX_EFORMAT;
    *out = NULL;
    pthread_once(&g_once, xgb_init_once);
    if (XGBoosterCreate(NULL, 0, &b) != 0) {
        rc = xfail(err, "creating the booster");
        goto done;
    }
    if (XGBoosterLoadModelFromBuffer(b, json, (bst_ulong)len) != 0) {
        const char *m = XGBGetLastError();
        rc = px_fail(err, PX_EFORMAT, "not an XGBoost JSON model: %s", m ? m : "?");
        goto done;
    }
    bst_ulong have = 0;
    if (XGBoosterGetNumFeature(b, &have) != 0) {
        rc = xfail(err, "reading the model's feature count");
        goto done;
    }
    if ((size_t)have != nf) {
        rc = px_fail(err, PX_EFORMAT, "the model has %llu features, its run record lists %zu",
                     (unsigned long long)have, nf);
        goto done;
    }
    char t[32];
    snprintf(t, sizeof t, "%d", n_threads < 1 ? 1 : n_threads);
    if ((rc = set_param(b, "nthread", t, err)) != PX_OK) {
        goto done;
    }
    c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    c->booster = b;
    c->n_features = nf;
    b = NULL;
    *out = c;
    rc = PX_OK;
done:
    if (b != NULL) {
        XGBoosterFree(b);
    }
    return rc;
}
