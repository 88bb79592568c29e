// propmodel.c — propensity models in the model registry (contract in propmodel.h): a thin layer
// over src/registry, which gives the version number, the lock, the atomic publish and the
// checksums; this file knows the two files of the kind (run.json, model.json) and MLmodel.
//
// run.json is written with buf + jsonx (numbers that are not finite, an AUC with one class, as
// null) and read with cJSON, which reads records of either writer (the earlier cJSON_Print
// layout too). A save hands model.json, run.json and MLmodel to registry_save_files,
// which stages, seals (manifest.json, kind "propensity") and publishes them; any failure
// removes the staging directory. A load goes through registry_open, so every file's sha256 is
// checked, a missing or extra file is refused by name, and a name of another kind is refused.
// (It moved up from src/ml when the registry became the one store: src/registry is above ml.)
#include "propmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "bundle.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "registry.h"
#include "sha256.h"

#define RUN_JSON_MAX (64u << 20)
#define MODEL_JSON_MAX (1024u << 20)
#define RUN_JSON "run.json"
#define MODEL_JSON "model.json"
#define HELDOUT_CSV "heldout.csv"
#define HELDOUT_MAX (256u << 20)

const char *const propmodel_metric_names[5] = {"auc_roc", "auc_pr", "precision", "recall", "f1"};

int propmodel_metric_index(const char *metric)
{
    for (int i = 0; i < 5; i++) {
        if (strcmp(metric, propmodel_metric_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

// ---- writing run.json ----
//
// One member per line at the top level and one feature / fold per line, so a person reading the
// file (or a diff of two runs) sees a run at a glance; numbers with the digits that read back as
// the same double (JSONX_ROUND_TRIP), integers as integers, null where a figure is not finite.

struct w {
    struct buf *b;
    int rc; // the first failure; every write after it does nothing
    struct px_err *err;
};

static void w_raw(struct w *w, const char *s)
{
    if (w->rc == PX_OK)
        w->rc = buf_append(w->b, s, strlen(s), w->err);
}

static void w_key(struct w *w, const char *k, bool first)
{
    if (w->rc == PX_OK)
        w->rc = jsonx_put_key(w->b, k, first, w->err);
}

static void w_str(struct w *w, const char *k, bool first, const char *v)
{
    w_key(w, k, first);
    if (w->rc == PX_OK) {
        w->rc = v != NULL ? jsonx_put_string(w->b, v, strlen(v), w->err)
                          : buf_append(w->b, "null", 4, w->err);
    }
}

static void w_num(struct w *w, const char *k, bool first, double v)
{
    w_key(w, k, first);
    if (w->rc == PX_OK)
        w->rc = jsonx_put_number(w->b, v, JSONX_ROUND_TRIP, w->err);
}

static void w_int(struct w *w, const char *k, bool first, long long v)
{
    w_key(w, k, first);
    if (w->rc == PX_OK)
        w->rc = buf_printf(w->b, w->err, "%lld", v);
}

static void w_bool(struct w *w, const char *k, bool first, bool v)
{
    w_key(w, k, first);
    w_raw(w, v ? "true" : "false");
}

static void metrics_json(struct w *w, const struct ml_metrics *m)
{
    w_raw(w, "{");
    w_num(w, "auc_roc", true, m->auc_roc);
    w_num(w, "auc_pr", false, m->auc_pr);
    w_num(w, "precision", false, m->precision);
    w_num(w, "recall", false, m->recall);
    w_num(w, "f1", false, m->f1);
    w_num(w, "threshold", false, m->threshold);
    w_int(w, "rows", false, (long long)m->n);
    w_int(w, "positives", false, (long long)m->n_pos);
    w_key(w, "confusion", false);
    w_raw(w, "{");
    w_int(w, "tp", true, (long long)m->cm.tp);
    w_int(w, "fp", false, (long long)m->cm.fp);
    w_int(w, "tn", false, (long long)m->cm.tn);
    w_int(w, "fn", false, (long long)m->cm.fn);
    w_raw(w, "}");
}

// "grid": the cells searched (scale_pos_weight null = balanced: n_neg / n_pos of the training
// rows), each with its pooled out-of-fold score and mean best round, and the winner's index.
static void grid_json(struct w *w, const struct ml_experiment_params *p,
                      const struct ml_experiment *e)
{
    w_key(w, "grid", true);
    w_raw(w, "{");
    w_str(w, "metric", true, p->cv_metric == ML_EVAL_AUCPR ? "auc_pr" : "auc_roc");
    w_int(w, "folds", false, p->n_folds);
    w_int(w, "winner", false, (long long)e->best_cell);
    w_key(w, "cells", false);
    w_raw(w, "[");
    for (size_t c = 0; c < e->n_cells; c++) {
        const struct ml_grid_cell *g = &e->cells[c];
        w_raw(w, c ? ",\n    {" : "\n    {");
        w_num(w, "eta", true, g->eta);
        w_int(w, "max_depth", false, g->max_depth);
        w_num(w, "min_child_weight", false, g->min_child_weight);
        w_num(w, "scale_pos_weight", false, g->scale_pos_weight < 0 ? NAN : g->scale_pos_weight);
        w_bool(w, "balanced", false, g->scale_pos_weight < 0);
        w_num(w, "score", false, g->score);
        w_num(w, "rounds", false, g->rounds);
        w_raw(w, "}");
    }
    w_raw(w, "]}");
}

// "calibration": the isotonic map (knots), Brier scores and the reliability table of the
// calibrated out-of-fold scores (web/models draws it from exactly these names).
static void calibration_json(struct w *w, const struct ml_experiment *e)
{
    w_key(w, "calibration", true);
    w_raw(w, "{");
    w_str(w, "method", true, e->cal.n > 0 ? "isotonic" : "none");
    w_str(w, "fitted_on", false, "out-of-fold scores");
    w_num(w, "tie_weight", false, ML_CALIBRATION_TIE);
    w_num(w, "brier_before", false, e->brier_before);
    w_num(w, "brier_after", false, e->brier_after);
    w_num(w, "test_brier_before", false, e->test_brier_before);
    w_num(w, "test_brier_after", false, e->test_brier_after);
    w_key(w, "reliability", false);
    w_raw(w, "[");
    for (size_t b = 0; b < ML_RELIABILITY_BINS; b++) {
        const struct ml_reliability_bin *r = &e->reliability[b];
        w_raw(w, b ? ",\n    {" : "\n    {");
        w_num(w, "lo", true, r->lo);
        w_num(w, "hi", false, r->hi);
        w_num(w, "mean_predicted", false, r->mean_predicted);
        w_num(w, "observed", false, r->observed);
        w_int(w, "n", false, (long long)r->n);
        w_raw(w, "}");
    }
    w_raw(w, "],\n    ");
    w_key(w, "knots", true);
    w_raw(w, "{");
    w_key(w, "x", true);
    w_raw(w, "[");
    for (size_t i = 0; i < e->cal.n; i++) {
        w_raw(w, i ? ", " : "");
        if (w->rc == PX_OK)
            w->rc = jsonx_put_number(w->b, e->cal.x[i], JSONX_ROUND_TRIP, w->err);
    }
    w_raw(w, "],\n     ");
    w_key(w, "y", true);
    w_raw(w, "[");
    for (size_t i = 0; i < e->cal.n; i++) {
        w_raw(w, i ? ", " : "");
        if (w->rc == PX_OK)
            w->rc = jsonx_put_number(w->b, e->cal.y[i], JSONX_ROUND_TRIP, w->err);
    }
    w_raw(w, "]}}");
}

// The run record. The version is not in it: the registry gives the number when it publishes
// the directory (readers take it from the directory).
static int run_json(struct buf *b, const char *name, const char *created,
                    const struct ml_spec *spec, const struct ml_experiment_params *p,
                    const struct ml_experiment *e, const struct propmodel_save_info *info,
                    const char *model_sha, size_t model_bytes, const char *held_sha,
                    size_t held_bytes, struct px_err *err)
{
    struct w w = {b, PX_OK, err};
    w_raw(&w, "{\n  ");
    w_str(&w, "format", true, PROPMODEL_FORMAT);
    w_raw(&w, ",\n  ");
    w_int(&w, "format_version", true, PROPMODEL_FORMAT_VERSION);
    w_raw(&w, ",\n  ");
    w_str(&w, "name", true, name);
    w_raw(&w, ",\n  ");
    w_str(&w, "created", true, created);
    w_raw(&w, ",\n  ");
    w_str(&w, "kind", true, "binary-classifier/xgboost");
    w_raw(&w, ",\n  ");
    w_key(&w, "data", true);
    w_raw(&w, "{");
    w_str(&w, "file", true, info->data_path);
    w_str(&w, "sha256", false, info->data_sha256);
    w_int(&w, "rows", false, (long long)info->n_rows);
    w_int(&w, "positives", false, (long long)info->n_pos);
    w_raw(&w, "},\n  ");
    w_key(&w, "target", true);
    w_raw(&w, "{");
    w_str(&w, "column", true, spec->target);
    w_str(&w, "positive", false, spec->positive);
    w_str(&w, "negative", false, spec->negative);
    w_bool(&w, "bool", false, spec->target_bool);
    w_bool(&w, "one_vs_rest", false, spec->one_vs_rest);
    w_raw(&w, "},\n  ");
    w_str(&w, "id_column", true, spec->id_column);
    w_raw(&w, ",\n  ");
    w_key(&w, "features", true);
    w_raw(&w, "[");
    for (size_t k = 0; k < spec->n_features; k++) {
        const struct ml_feature *f = &spec->features[k];
        w_raw(&w, k ? ",\n    {" : "\n    {");
        w_str(&w, "name", true, f->name);
        w_str(&w, "column", false, f->column);
        w_str(&w, "level", false, f->level);
        w_str(&w, "type", false, coltype_name(f->type));
        w_bool(&w, "integer", false, f->integer);
        w_num(&w, "min", false, f->min);
        w_num(&w, "max", false, f->max);
        w_num(&w, "gain", false, e->importance ? e->importance[k] : NAN);
        w_raw(&w, "}");
    }
    w_raw(&w, "],\n  ");
    w_key(&w, "notes", true);
    w_raw(&w, "[");
    for (size_t i = 0; i < spec->n_notes; i++) {
        w_raw(&w, i ? ",\n    " : "\n    ");
        if (w.rc == PX_OK)
            w.rc = jsonx_put_string(b, spec->notes[i], strlen(spec->notes[i]), err);
    }
    w_raw(&w, "],\n  ");
    w_key(&w, "params", true);
    w_raw(&w, "{");
    w_int(&w, "folds", true, p->n_folds);
    w_num(&w, "test_fraction", false, p->test_fraction);
    w_num(&w, "target_recall", false, p->target_recall);
    w_num(&w, "min_precision", false, p->min_precision);
    w_int(&w, "top_k", false, (long long)p->top_k);
    w_num(&w, "recall_z", false, p->recall_z);
    w_int(&w, "seed", false, (long long)p->xgb.seed);
    w_int(&w, "max_depth", false, e->chosen.max_depth);
    w_num(&w, "eta", false, e->chosen.eta);
    w_int(&w, "n_rounds", false, e->chosen.n_rounds);
    w_int(&w, "max_rounds", false, p->xgb.n_rounds);
    w_int(&w, "early_stopping", false, p->xgb.early_stopping);
    w_str(&w, "cv_metric", false, p->cv_metric == ML_EVAL_AUCPR ? "auc_pr" : "auc_roc");
    w_num(&w, "subsample", false, p->xgb.subsample);
    w_num(&w, "colsample_bytree", false, p->xgb.colsample_bytree);
    w_num(&w, "min_child_weight", false, e->chosen.min_child_weight);
    w_num(&w, "lambda", false, p->xgb.lambda);
    w_num(&w, "scale_pos_weight", false, e->final_info.scale_pos_weight);
    w_int(&w, "nthread", false, p->xgb.n_threads);
    w_str(&w, "tree_method", false, "hist");
    w_str(&w, "objective", false, "binary:logistic");
    w_raw(&w, "},\n  ");
    grid_json(&w, p, e);
    w_raw(&w, ",\n  ");
    calibration_json(&w, e);
    w_raw(&w, ",\n  ");
    w_num(&w, "threshold", true, e->threshold);
    w_raw(&w, ",\n  ");
    w_key(&w, "metrics", true);
    w_raw(&w, "{");
    w_key(&w, "folds", true);
    w_raw(&w, "[");
    for (size_t f = 0; f < e->n_folds; f++) {
        w_raw(&w, f ? ",\n    " : "\n    ");
        metrics_json(&w, &e->folds[f]);
        w_int(&w, "rounds", false, e->fold_rounds[f]);
        w_raw(&w, "}");
    }
    w_raw(&w, "],\n    ");
    w_key(&w, "cv", true);
    metrics_json(&w, &e->cv);
    w_raw(&w, "},\n    ");
    w_key(&w, "test", true);
    metrics_json(&w, &e->test);
    w_raw(&w, "}},\n  ");
    w_key(&w, "training", true);
    w_raw(&w, "{");
    w_int(&w, "rounds_run", true, e->final_info.n_rounds);
    w_int(&w, "rounds_kept", false, e->final_info.best_round);
    w_int(&w, "rows_dev", false, (long long)e->n_dev);
    w_int(&w, "rows_test", false, (long long)e->n_test);
    w_raw(&w, "},\n  ");
    w_key(&w, "artifacts", true);
    w_raw(&w, "[{");
    w_str(&w, "path", true, MODEL_JSON);
    w_str(&w, "format", false, "xgboost-json");
    w_str(&w, "sha256", false, model_sha);
    w_int(&w, "bytes", false, (long long)model_bytes);
    if (held_sha != NULL) {
        w_raw(&w, "}, {");
        w_str(&w, "path", true, HELDOUT_CSV);
        w_str(&w, "format", false, "csv");
        w_str(&w, "sha256", false, held_sha);
        w_int(&w, "bytes", false, (long long)held_bytes);
    }
    w_raw(&w, "}]\n}\n");
    return w.rc;
}

// ---- MLmodel ----

// MLflow's column type for a feature's source column.
static const char *mlflow_type(const struct ml_feature *f)
{
    if (f->level != NULL) { // one-hot level of a category or a postcode's area, list item
        return f->type == COLTYPE_INTEGER ? "long" : "string";
    }
    switch (f->type) {
    case COLTYPE_BOOL: return "boolean";
    case COLTYPE_INTEGER: return "long";
    case COLTYPE_REAL:
    case COLTYPE_CURRENCY:
    case COLTYPE_PERCENT: return "double";
    default: return "string";
    }
}

// The signature's inputs: each source column once, in feature order (the scoring input), as
// MLflow writes a column spec ({"name": …, "type": …, "required": …}). Returns owned text
// (px_free), or NULL when out of memory.
static char *signature_inputs(const struct ml_spec *spec)
{
    struct buf b;
    buf_init(&b, LIMIT_BUNDLE_MANIFEST_BYTES);
    int rc = buf_append(&b, "[", 1, NULL);
    size_t n = 0;
    for (size_t k = 0; rc == PX_OK && k < spec->n_features; k++) {
        const struct ml_feature *f = &spec->features[k];
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++) {
            seen = strcmp(spec->features[j].column, f->column) == 0;
        }
        if (seen) {
            continue;
        }
        rc = buf_printf(&b, NULL, "%s{\"name\": ", n++ ? ", " : "");
        if (rc == PX_OK)
            rc = jsonx_put_string(&b, f->column, strlen(f->column), NULL);
        if (rc == PX_OK) // a missing value is allowed (null), so no column is required
            rc = buf_printf(&b, NULL, ", \"type\": \"%s\", \"required\": false}", mlflow_type(f));
    }
    if (rc == PX_OK)
        rc = buf_append(&b, "]", 1, NULL);
    if (rc != PX_OK) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b); // NUL-terminated
}

// ---- saving ----

int propmodel_save(const char *root, const char *name, const struct ml_spec *spec,
                   const struct ml_experiment_params *params, const struct ml_experiment *e,
                   const struct propmodel_save_info *info, int *version, struct px_err *err)
{
    char created[40], model_sha[65], held_sha[65], thr[40];
    char *model = NULL, *inputs = NULL;
    struct buf run, held;
    size_t model_len = 0;
    *version = 0;
    buf_init(&run, RUN_JSON_MAX);
    buf_init(&held, HELDOUT_MAX);
    int rc = bundle_check_name(name, err);
    if (rc != PX_OK) {
        return rc;
    }
    bundle_now_utc(created, sizeof created);
    if (info->lines != NULL && info->heldout != NULL) {
        rc = buf_printf(&held, err, "line,score\n");
        for (size_t i = 0; rc == PX_OK && i < info->n_rows; i++) {
            if (!isnan(info->heldout[i])) {
                rc = buf_printf(&held, err, "%zu,%.9g\n", info->lines[i], (double)info->heldout[i]);
            }
        }
    }
    rc = rc == PX_OK ? ml_classifier_save_json(e->model, &model, &model_len, err) : rc;
    if (rc == PX_OK) {
        sha256_hex(model, model_len, model_sha);
        sha256_hex(held.data ? held.data : "", held.len, held_sha);
        rc = run_json(&run, name, created, spec, params, e, info, model_sha, model_len,
                      held.len > 0 ? held_sha : NULL, held.len, err);
    }
    if (rc == PX_OK && (inputs = signature_inputs(spec)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory writing MLmodel");
    }
    if (rc == PX_OK) {
        snprintf(thr, sizeof thr, "%.17g", e->threshold);
        const struct bundle_kv kv[] = {
            {"model", MODEL_JSON, false},
            {"model_format", "xgboost-json", false},
            {"run", RUN_JSON, false},
            {"target", spec->target, false},
            {"threshold", isfinite(e->threshold) ? thr : "null", true},
            {"serve", "prospect serve --registry DIR: POST /api/models/NAME/score", false},
        };
        const struct bundle_mlmodel mm = {
            .name = name,
            .kind = BUNDLE_KIND_PROPENSITY,
            .created = created,
            .kv = kv,
            .n_kv = sizeof kv / sizeof kv[0],
            .inputs = inputs,
            .outputs = "[{\"name\": \"probability\", \"type\": \"double\", \"required\": true}, "
                       "{\"name\": \"label\", \"type\": \"long\", \"required\": true}]",
        };
        const struct registry_file files[] = {
            {MODEL_JSON, model, model_len},
            {RUN_JSON, run.data, run.len},
            {HELDOUT_CSV, held.data, held.len},
        };
        rc = registry_save_files(root, files, held.len > 0 ? 3 : 2, &mm, version, err);
    }
    px_free(inputs);
    buf_free(&run);
    buf_free(&held);
    px_free(model);
    return rc;
}

// ---- reading ----

static double get_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *get_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// run.json's format and version.
static int check_format(const cJSON *rec, struct px_err *err)
{
    const char *fmt = get_str(rec, "format");
    double fv = get_num(rec, "format_version");
    if (fmt == NULL || strcmp(fmt, PROPMODEL_FORMAT) != 0 || fv != PROPMODEL_FORMAT_VERSION) {
        return px_fail(err, PX_EFORMAT, "%s: not a %s record of version %d", RUN_JSON,
                       PROPMODEL_FORMAT, PROPMODEL_FORMAT_VERSION);
    }
    return PX_OK;
}

// Parses vdir/run.json and checks its format; errors start with "run.json: ".
static int read_record(const char *vdir, cJSON **out, struct px_err *err)
{
    char path[LIMIT_PATH + 64];
    snprintf(path, sizeof path, "%s/%s", vdir, RUN_JSON);
    int rc = jsonx_parse_file(path, RUN_JSON_MAX, out, err);
    if (rc == PX_OK && (rc = check_format(*out, err)) != PX_OK) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (s == NULL) {
        return NULL;
    }
    char *d = px_strdup(s);
    *oom = *oom || d == NULL;
    return d;
}

static int spec_from_json(const cJSON *r, const char *what, struct ml_spec *spec,
                          struct px_err *err)
{
    memset(spec, 0, sizeof *spec);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "target");
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(r, "features");
    if (!cJSON_IsObject(t) || !cJSON_IsArray(fs) || cJSON_GetArraySize(fs) < 1 ||
        get_str(t, "column") == NULL || get_str(t, "positive") == NULL ||
        get_str(t, "negative") == NULL) {
        return px_fail(err, PX_EFORMAT, "%s: target or features missing", what);
    }
    bool oom = false;
    spec->target = dup_or_null(get_str(t, "column"), &oom);
    spec->positive = dup_or_null(get_str(t, "positive"), &oom);
    spec->negative = dup_or_null(get_str(t, "negative"), &oom);
    spec->target_bool = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "bool"));
    spec->one_vs_rest = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "one_vs_rest"));
    spec->id_column = dup_or_null(get_str(r, "id_column"), &oom);
    size_t n = (size_t)cJSON_GetArraySize(fs);
    spec->features = px_calloc(n, sizeof *spec->features);
    if (oom || spec->features == NULL) {
        ml_spec_free(spec);
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", what);
    }
    spec->n_features = n;
    size_t k = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, fs)
    {
        struct ml_feature *ft = &spec->features[k++];
        const char *type = get_str(f, "type");
        ft->name = dup_or_null(get_str(f, "name"), &oom);
        ft->column = dup_or_null(get_str(f, "column"), &oom);
        ft->level = dup_or_null(get_str(f, "level"), &oom);
        ft->integer = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "integer"));
        ft->min = get_num(f, "min");
        ft->max = get_num(f, "max");
        // oom too: a level lost to a failed copy would silently make a one-hot feature numeric
        if (oom || ft->name == NULL || ft->column == NULL || type == NULL ||
            !coltype_from_name(type, &ft->type)) {
            ml_spec_free(spec);
            return oom ? px_fail(err, PX_ENOMEM, "out of memory reading %s", what)
                       : px_fail(err, PX_EFORMAT, "%s: feature %zu is incomplete", what, k);
        }
    }
    return PX_OK;
}

// The calibration map of a record (calibration.knots {x, y}); a record without one (written
// before calibration) leaves *cal empty: scores are then the trees' own probabilities.
static int calibration_from_json(const cJSON *rec, struct ml_calibration *cal, struct px_err *err)
{
    memset(cal, 0, sizeof *cal);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "calibration");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "knots");
    if (c == NULL) {
        return PX_OK;
    }
    const cJSON *xs = cJSON_GetObjectItemCaseSensitive(k, "x");
    const cJSON *ys = cJSON_GetObjectItemCaseSensitive(k, "y");
    if (!cJSON_IsArray(xs) || !cJSON_IsArray(ys) ||
        cJSON_GetArraySize(xs) != cJSON_GetArraySize(ys)) {
        return px_fail(err, PX_EFORMAT, "%s: calibration.knots x and y are not arrays of one size",
                       RUN_JSON);
    }
    size_t n = (size_t)cJSON_GetArraySize(xs);
    double *x = px_malloc((n ? n : 1) * sizeof *x), *y = px_malloc((n ? n : 1) * sizeof *y);
    if (x == NULL || y == NULL) {
        px_free(x);
        px_free(y);
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", RUN_JSON);
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *a = cJSON_GetArrayItem(xs, (int)i), *b = cJSON_GetArrayItem(ys, (int)i);
        x[i] = cJSON_IsNumber(a) ? a->valuedouble : NAN;
        y[i] = cJSON_IsNumber(b) ? b->valuedouble : NAN;
    }
    int rc = ml_calibration_set(x, y, n, cal, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "%s", RUN_JSON);
    }
    px_free(x);
    px_free(y);
    return rc;
}

// heldout.csv of the version (checked against the manifest when the version was opened), when
// there is one: "line,score" rows, lines increasing.
static int heldout_read(const cJSON *rec, struct propmodel_model *m, struct px_err *err)
{
    const char *want = NULL;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rec, "artifacts"))
    {
        const char *path = get_str(a, "path");
        if (path != NULL && strcmp(path, HELDOUT_CSV) == 0) {
            want = get_str(a, "sha256");
        }
    }
    if (want == NULL) { // a version written before held-out scores were kept
        return PX_OK;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = registry_read_checked(m->dir, HELDOUT_CSV, HELDOUT_MAX, want, "the run record's",
                                   &data, &len, err);
    if (rc != PX_OK) {
        return rc;
    }
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += data[i] == '\n';
    }
    m->heldout_line = px_malloc((lines ? lines : 1) * sizeof *m->heldout_line);
    m->heldout_score = px_malloc((lines ? lines : 1) * sizeof *m->heldout_score);
    if (m->heldout_line == NULL || m->heldout_score == NULL) {
        px_free(data);
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", HELDOUT_CSV);
    }
    const char *p = memchr(data, '\n', len); // past the header
    size_t row = 2;
    while (p != NULL && (size_t)(p + 1 - data) < len) {
        p++;
        char *end = NULL;
        unsigned long long line = strtoull(p, &end, 10);
        double score = end && *end == ',' ? strtod(end + 1, &end) : NAN;
        if (end == NULL || *end != '\n' || !(score >= 0 && score <= 1) ||
            (m->n_heldout > 0 && line <= m->heldout_line[m->n_heldout - 1])) {
            px_free(data);
            return px_fail(err, PX_EFORMAT, "%s: line %zu is not 'line,score' in order",
                           HELDOUT_CSV, row);
        }
        m->heldout_line[m->n_heldout] = (size_t)line;
        m->heldout_score[m->n_heldout++] = (float)score;
        p = end;
        row++;
    }
    px_free(data);
    return PX_OK;
}

int propmodel_record_read(const cJSON *rec, struct ml_spec *spec, double *threshold,
                          const char **model_sha256, struct px_err *err)
{
    memset(spec, 0, sizeof *spec);
    *threshold = NAN;
    *model_sha256 = NULL;
    int rc = check_format(rec, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = spec_from_json(rec, RUN_JSON, spec, err);
    if (rc != PX_OK) {
        return rc;
    }
    double t = get_num(rec, "threshold");
    if (!isfinite(t)) {
        ml_spec_free(spec);
        return px_fail(err, PX_EFORMAT, "%s: no threshold", RUN_JSON);
    }
    *threshold = t;
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rec, "artifacts"), 0);
    *model_sha256 = a ? get_str(a, "sha256") : NULL;
    return PX_OK;
}

void propmodel_model_free(struct propmodel_model *m)
{
    if (m == NULL) {
        return;
    }
    ml_spec_free(&m->spec);
    ml_classifier_free(m->model);
    ml_calibration_free(&m->cal);
    px_free(m->heldout_line);
    px_free(m->heldout_score);
    memset(m, 0, sizeof *m);
}

int propmodel_load(const char *root, const char *ref, int n_threads, struct propmodel_model *out,
                  struct px_err *err)
{
    struct registry_ref r;
    cJSON *rec = NULL;
    char *model = NULL;
    size_t model_len = 0;
    int version = 0;
    memset(out, 0, sizeof *out);
    // every file checked against the manifest; a search bundle or recommender is refused
    int rc = registry_open(root, ref, BUNDLE_KIND_PROPENSITY, &r, &version, out->dir,
                           sizeof out->dir, NULL, err);
    if (rc != PX_OK) {
        return registry_hint_missing(rc, "train one with prospect train", err);
    }
    const char *model_sha = NULL;
    if ((rc = read_record(out->dir, &rec, err)) != PX_OK ||
        (rc = propmodel_record_read(rec, &out->spec, &out->threshold, &model_sha, err)) !=
            PX_OK ||
        (rc = calibration_from_json(rec, &out->cal, err)) != PX_OK) {
        goto done;
    }
    // the run record names its artifact too (it is read without the manifest by tools)
    rc = registry_read_checked(out->dir, MODEL_JSON, MODEL_JSON_MAX, model_sha,
                               "the run record's", &model, &model_len, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = ml_classifier_load_json(model, model_len, out->spec.n_features, n_threads, &out->model,
                                 err);
    if (rc == PX_OK && out->cal.n > 0)
        rc = ml_classifier_set_calibration(out->model, &out->cal, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "%s", MODEL_JSON);
        goto done;
    }
    const char *dsha = get_str(cJSON_GetObjectItemCaseSensitive(rec, "data"), "sha256");
    snprintf(out->data_sha256, sizeof out->data_sha256, "%s", dsha ? dsha : "");
    if ((rc = heldout_read(rec, out, err)) != PX_OK) {
        goto done;
    }
    snprintf(out->name, sizeof out->name, "%s", r.name);
    out->version = version;
done:
    if (rc != PX_OK) {
        px_err_prefix(err, "%s/%d", r.name, version);
        propmodel_model_free(out);
    }
    cJSON_Delete(rec);
    px_free(model);
    return rc;
}

// ---- listing ----

static int cmp_run(const void *a, const void *b)
{
    const struct propmodel_run *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->version > y->version) - (x->version < y->version);
}

// Appends the propensity versions of name; a version whose record does not read counts in
// *n_bad. Names of other kinds add nothing.
static int list_name(const char *root, const char *name, struct propmodel_run **runs, size_t *n,
                     size_t *cap, size_t *n_bad, struct px_err *err)
{
    struct registry_state st;
    int *vs = NULL;
    size_t nv = 0;
    if (registry_read_state(root, name, &st, NULL) != PX_OK ||
        strcmp(st.kind, BUNDLE_KIND_PROPENSITY) != 0 ||
        registry_versions(root, name, &vs, &nv, NULL) != PX_OK) {
        return PX_OK;
    }
    int rc = PX_OK;
    for (size_t i = 0; rc == PX_OK && i < nv; i++) {
        char vdir[LIMIT_PATH];
        struct bundle_manifest m;
        cJSON *r = NULL;
        if (registry_version_dir(root, name, vs[i], vdir, sizeof vdir, NULL) != PX_OK ||
            bundle_manifest_read(vdir, &m, NULL) != PX_OK) {
            (*n_bad)++;
            continue;
        }
        bool ok = strcmp(m.kind, BUNDLE_KIND_PROPENSITY) == 0;
        bundle_manifest_free(&m);
        if (!ok || read_record(vdir, &r, NULL) != PX_OK) {
            (*n_bad)++;
            continue;
        }
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 16;
            struct propmodel_run *g = px_realloc(*runs, nc * sizeof *g);
            if (g == NULL) {
                cJSON_Delete(r);
                rc = px_fail(err, PX_ENOMEM, "out of memory listing runs");
                break;
            }
            *runs = g;
            *cap = nc;
        }
        struct propmodel_run *run = &(*runs)[(*n)++];
        memset(run, 0, sizeof *run);
        snprintf(run->name, sizeof run->name, "%s", name);
        run->version = vs[i];
        const char *created = get_str(r, "created");
        snprintf(run->created, sizeof run->created, "%s", created ? created : "");
        run->threshold = get_num(r, "threshold");
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        const cJSON *cv = cJSON_GetObjectItemCaseSensitive(mt, "cv");
        const cJSON *test = cJSON_GetObjectItemCaseSensitive(mt, "test");
        for (int k = 0; k < 5; k++) {
            run->cv[k] = get_num(cv, propmodel_metric_names[k]);
            run->test[k] = get_num(test, propmodel_metric_names[k]);
        }
        cJSON_Delete(r);
    }
    px_free(vs);
    return rc;
}

int propmodel_list(const char *root, const char *name, struct propmodel_run **runs, size_t *n,
                  size_t *n_bad, struct px_err *err)
{
    size_t cap = 0;
    char **names = NULL;
    size_t n_names = 0;
    *runs = NULL;
    *n = *n_bad = 0;
    int rc = PX_OK;
    if (name != NULL) {
        rc = bundle_check_name(name, err);
        if (rc == PX_OK)
            rc = list_name(root, name, runs, n, &cap, n_bad, err);
    } else {
        rc = registry_names(root, &names, &n_names, err);
        for (size_t i = 0; rc == PX_OK && i < n_names; i++) {
            rc = list_name(root, names[i], runs, n, &cap, n_bad, err);
        }
    }
    registry_names_free(names, n_names);
    if (rc != PX_OK) {
        px_free(*runs);
        *runs = NULL;
        *n = 0;
        return rc;
    }
    if (*n > 1) {
        qsort(*runs, *n, sizeof **runs, cmp_run);
    }
    return PX_OK;
}
