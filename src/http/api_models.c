// api_models.c — the propensity-model routes (README, "Propensity API"):
//
//   GET  /api/models                     runs in the registry (app_prop_runs_json)
//   GET  /api/models/{id}                one run record: metrics per fold / cv / test, threshold,
//                                        features with gain (app_prop_run_json)
//   POST /api/models/{id}/score          rows in, probabilities, labels, reasons (api_prop.c)
//   GET  /api/models/{id}/explain        global mean |SHAP|, dependence data, top rows, potential
//   GET  /api/models/{id}/lookalike      List A / List B on the server's data set
//   GET  /api/models/{id}/tipping        the same with tipping points
//
// {id} is "NAME" (production, else newest), "NAME@VERSION" or "NAME@STAGE". The last three
// work on the model's data set, chosen per model (data_of): `prospect serve --propensity-data
// NAME=FILE` for that model's name, else `--propensity-data FILE` for every model, else the
// training CSV its run record names when it is readable from the server (404 naming the
// option without any; a file that lacks the model's columns is a 500 naming them). Models, the
// data set read through a model's spec, its SHAP values and the profile-text vectors come from
// the context's cache (app_prop.h, "the propensity routes' cache"): {id} is resolved on every
// request, so a new version or a promotion is served at once, and an edited data file is read
// again. Every answer is an app_prop_* handle written by its *_json (the document the CLI's
// --format json prints too); a handler only parses arguments, maps statuses and audits. Look-alike vectors follow
// app_prop_lookalike (sentence-transformer when the weights of serve's embedder are present);
// every answer's "vectors" says which. Each call is audited
// (action model_*, the model id as the query text; the rows come from a file, not the customer
// book, so no customer ids are logged).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"

#define MAX_LIST 32

// Integer argument key in lo..hi (absent: dflt).
static int arg_int(const struct api_req *req, const char *key, long dflt, long lo, long hi,
                   long *out, struct px_err *err)
{
    const char *s = api_req_arg(req, key);
    if (s == NULL) {
        *out = dflt;
        return PX_OK;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        return px_fail(err, PX_EINVAL, "%s must be an integer in %ld..%ld", key, lo, hi);
    }
    *out = v;
    return PX_OK;
}

// Comma list argument key split into items (pointers into copy, LIMIT_HTTP_PARAM_BYTES).
static size_t arg_list(const struct api_req *req, const char *key, char *copy, size_t n_copy,
                       const char **items, size_t max)
{
    const char *s = api_req_arg(req, key);
    size_t n = 0;
    if (s == NULL) {
        return 0;
    }
    snprintf(copy, n_copy, "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t != NULL && n < max;
         t = strtok_r(NULL, ",", &save)) {
        if (*t != '\0') {
            items[n++] = t;
        }
    }
    return n;
}

static int audit(const struct api_req *req, const char *action, struct px_err *err)
{
    return api_audit(req, action, req->id, strlen(req->id), NULL, -1, err);
}

int api_models(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_prop_runs *runs = NULL;
    int rc = app_prop_runs_list(req->ctx->registry, NULL, &runs, err);
    if (rc == PX_OK)
        rc = app_prop_runs_json(runs, &res->body, err);
    app_prop_runs_free(runs);
    return rc;
}

int api_model(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    int rc = app_prop_run_json(req->ctx->registry, req->id, &res->body, err);
    return rc == PX_EFORMAT || rc == PX_EINVAL ? PX_ENOENT : rc;
}

// Pins the model of {id}: a missing or malformed reference is a 404.
static int load(const struct api_req *req, struct app_prop_handle **h, struct px_err *err)
{
    int rc = app_prop_acquire(req->ctx->prop_cache, req->ctx->registry, req->id, h, err);
    return rc == PX_EINVAL ? PX_ENOENT : rc;
}

// Model + the server's data set (with its SHAP values), borrowed from the pinned handle.
struct loaded {
    struct app_prop_handle *h;
    const struct app_prop_model *m;
    const struct app_prop_data *d;
    char path[LIMIT_PATH]; // the data set's CSV (data_of)
};

// The data set model m is explained on: serve's --propensity-data NAME=FILE for its name, else
// --propensity-data FILE, else the training CSV its run record names (when readable here).
static int data_of(const struct api_req *req, struct api_res *res, const struct app_prop_model *m,
                   char *path, size_t n, struct px_err *err)
{
    const struct api_ctx *ctx = req->ctx;
    const struct app_prop_info *info = app_prop_model_info(m);
    for (size_t i = 0; i < ctx->n_prop_data; i++) {
        if (strcmp(ctx->prop_data_model[i], info->name) == 0) {
            snprintf(path, n, "%s", ctx->prop_data_file[i]);
            return PX_OK;
        }
    }
    if (ctx->prop_data != NULL) {
        snprintf(path, n, "%s", ctx->prop_data);
        return PX_OK;
    }
    struct px_err why = {0};
    if (app_prop_training_data(m, path, n, &why) == PX_OK) {
        return PX_OK;
    }
    res->status = 404;
    return px_fail(err, PX_ENOENT,
                   "no data set for model %s (%s): start the server with "
                   "`prospect serve --propensity-data %s=FILE.csv`",
                   info->id, why.msg, info->name);
}

static int load_all(const struct api_req *req, struct api_res *res, bool need_target,
                    struct loaded *l, struct px_err *err)
{
    memset(l, 0, sizeof *l);
    int rc = load(req, &l->h, err);
    if (rc == PX_OK) {
        l->m = app_prop_handle_model(l->h);
        rc = data_of(req, res, l->m, l->path, sizeof l->path, err);
    }
    if (rc == PX_OK) {
        rc = app_prop_handle_data(l->h, l->path, need_target, true, &l->d, err);
    }
    if (rc != PX_OK && rc != PX_ENOENT && rc != PX_ENOMEM && res->status == 0) {
        res->status = 500; // the server's own data set does not fit the model
    }
    return rc;
}

static void unload(struct loaded *l)
{
    app_prop_release(l->h);
    memset(l, 0, sizeof *l);
}

int api_model_explain(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct loaded l;
    struct app_prop_explained *x = NULL;
    char copy[LIMIT_HTTP_PARAM_BYTES * 4];
    const char *dep[MAX_LIST];
    struct app_explain_params p = app_explain_default_params();
    p.n_dependence = arg_list(req, "features", copy, sizeof copy, dep, MAX_LIST);
    p.dependence = dep;
    p.dependence_default = true; // none asked: the feature with the largest mean |SHAP|
    long top = 0;
    int rc = arg_int(req, "top", 20, 1, LIMIT_HTTP_TOP, &top, err);
    p.n_rows = (size_t)top;
    if (rc == PX_OK)
        rc = load_all(req, res, false, &l, err);
    else
        memset(&l, 0, sizeof l);
    if (rc == PX_OK) {
        rc = app_prop_explain(l.m, l.d, &p, &x, err);
        if (rc == PX_EINVAL) {
            res->status = 400;
        }
    }
    if (rc == PX_OK)
        rc = audit(req, "model_explain", err);
    if (rc == PX_OK)
        rc = app_prop_explained_json(x, &res->body, err);
    app_prop_explained_free(x);
    unload(&l);
    return rc;
}

static int look(const struct api_req *req, struct api_res *res, bool tipping, struct px_err *err)
{
    struct loaded l;
    struct app_prop_look *out = NULL;
    struct app_look_params p = app_look_default_params();
    char copy[LIMIT_HTTP_PARAM_BYTES * 4];
    const char *feats[MAX_LIST];
    p.n_features = arg_list(req, "features", copy, sizeof copy, feats, MAX_LIST);
    p.features = feats;
    p.tipping = tipping;
    p.embedder = req->ctx->model_flag;
    long k = 1, top = 0;
    const char *vec = api_req_arg(req, "vectors");
    int rc = arg_int(req, "k", 1, 1, 100, &k, err);
    if (rc == PX_OK)
        rc = arg_int(req, "top", 50, 1, LIMIT_HTTP_TOP, &top, err);
    if (rc == PX_OK && vec != NULL && !app_vectors_parse(vec, &p.vectors)) {
        rc = px_fail(err, PX_EINVAL, "vectors must be auto, text or features");
    }
    p.k = (size_t)k;
    p.top = (size_t)top;
    if (rc == PX_OK)
        rc = load_all(req, res, true, &l, err);
    else
        memset(&l, 0, sizeof l);
    if (rc == PX_OK) {
        rc = app_prop_handle_lookalike(l.h, l.path, &p, &out, err);
        if (rc == PX_EINVAL) {
            res->status = 400;
        }
    }
    if (rc == PX_OK)
        rc = audit(req, tipping ? "model_tipping" : "model_lookalike", err);
    if (rc == PX_OK)
        rc = app_prop_look_json(out, &res->body, err);
    app_prop_look_free(out);
    unload(&l);
    return rc;
}

int api_model_lookalike(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    return look(req, res, false, err);
}

int api_model_tipping(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    return look(req, res, true, err);
}
