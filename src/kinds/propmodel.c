// propmodel.c — propensity models in the model registry (contract in propmodel.h): a thin layer
// over src/registry, which gives the version number, the lock, the atomic publish and the
// checksums; this file knows the two files of the kind (run.json, model.json) and MLmodel.
//
// run.json is built and read with cJSON; numbers that are not finite (an AUC with one class)
// are written as null. A save hands model.json, run.json and MLmodel to registry_save_files,
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

static cJSON *num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *metrics_json(const struct ml_metrics *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "auc_roc", num(m->auc_roc));
    cJSON_AddItemToObject(o, "auc_pr", num(m->auc_pr));
    cJSON_AddItemToObject(o, "precision", num(m->precision));
    cJSON_AddItemToObject(o, "recall", num(m->recall));
    cJSON_AddItemToObject(o, "f1", num(m->f1));
    cJSON_AddItemToObject(o, "threshold", num(m->threshold));
    cJSON_AddNumberToObject(o, "rows", (double)m->n);
    cJSON_AddNumberToObject(o, "positives", (double)m->n_pos);
    cJSON *cm = cJSON_AddObjectToObject(o, "confusion");
    cJSON_AddNumberToObject(cm, "tp", (double)m->cm.tp);
    cJSON_AddNumberToObject(cm, "fp", (double)m->cm.fp);
    cJSON_AddNumberToObject(cm, "tn", (double)m->cm.tn);
    cJSON_AddNumberToObject(cm, "fn", (double)m->cm.fn);
    return o;
}

// The run record. The version is not in it: the registry gives the number when it publishes
// the directory (readers take it from the directory).
static cJSON *run_json(const char *name, const char *created, const struct ml_spec *spec,
                       const struct ml_experiment_params *p, const struct ml_experiment *e,
                       const struct propmodel_save_info *info, const char *model_sha,
                       size_t model_bytes)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "format", PROPMODEL_FORMAT);
    cJSON_AddNumberToObject(r, "format_version", PROPMODEL_FORMAT_VERSION);
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddStringToObject(r, "created", created);
    cJSON_AddStringToObject(r, "kind", "binary-classifier/xgboost");
    cJSON *d = cJSON_AddObjectToObject(r, "data");
    cJSON_AddStringToObject(d, "file", info->data_path);
    cJSON_AddStringToObject(d, "sha256", info->data_sha256);
    cJSON_AddNumberToObject(d, "rows", (double)info->n_rows);
    cJSON_AddNumberToObject(d, "positives", (double)info->n_pos);
    cJSON *t = cJSON_AddObjectToObject(r, "target");
    cJSON_AddStringToObject(t, "column", spec->target);
    cJSON_AddStringToObject(t, "positive", spec->positive);
    cJSON_AddStringToObject(t, "negative", spec->negative);
    cJSON_AddBoolToObject(t, "bool", spec->target_bool);
    if (spec->id_column) {
        cJSON_AddStringToObject(r, "id_column", spec->id_column);
    } else {
        cJSON_AddNullToObject(r, "id_column");
    }
    cJSON *fs = cJSON_AddArrayToObject(r, "features");
    for (size_t k = 0; k < spec->n_features; k++) {
        const struct ml_feature *f = &spec->features[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", f->name);
        cJSON_AddStringToObject(o, "column", f->column);
        if (f->level) {
            cJSON_AddStringToObject(o, "level", f->level);
        } else {
            cJSON_AddNullToObject(o, "level");
        }
        cJSON_AddStringToObject(o, "type", coltype_name(f->type));
        cJSON_AddBoolToObject(o, "integer", f->integer);
        cJSON_AddItemToObject(o, "min", num(f->min));
        cJSON_AddItemToObject(o, "max", num(f->max));
        cJSON_AddItemToObject(o, "gain", num(e->importance ? e->importance[k] : NAN));
        cJSON_AddItemToArray(fs, o);
    }
    cJSON *notes = cJSON_AddArrayToObject(r, "notes");
    for (size_t i = 0; i < spec->n_notes; i++) {
        cJSON_AddItemToArray(notes, cJSON_CreateString(spec->notes[i]));
    }
    cJSON *pp = cJSON_AddObjectToObject(r, "params");
    cJSON_AddNumberToObject(pp, "folds", p->n_folds);
    cJSON_AddNumberToObject(pp, "test_fraction", p->test_fraction);
    cJSON_AddNumberToObject(pp, "valid_fraction", p->valid_fraction);
    cJSON_AddNumberToObject(pp, "target_recall", p->target_recall);
    cJSON_AddNumberToObject(pp, "min_precision", p->min_precision);
    cJSON_AddNumberToObject(pp, "recall_z", p->recall_z);
    cJSON_AddNumberToObject(pp, "seed", (double)p->xgb.seed);
    cJSON_AddNumberToObject(pp, "max_depth", p->xgb.max_depth);
    cJSON_AddNumberToObject(pp, "eta", p->xgb.eta);
    cJSON_AddNumberToObject(pp, "n_rounds", p->xgb.n_rounds);
    cJSON_AddNumberToObject(pp, "early_stopping", p->xgb.early_stopping);
    cJSON_AddNumberToObject(pp, "subsample", p->xgb.subsample);
    cJSON_AddNumberToObject(pp, "colsample_bytree", p->xgb.colsample_bytree);
    cJSON_AddNumberToObject(pp, "min_child_weight", p->xgb.min_child_weight);
    cJSON_AddNumberToObject(pp, "lambda", p->xgb.lambda);
    cJSON_AddNumberToObject(pp, "scale_pos_weight", e->final_info.scale_pos_weight);
    cJSON_AddNumberToObject(pp, "nthread", p->xgb.n_threads);
    cJSON_AddStringToObject(pp, "tree_method", "hist");
    cJSON_AddStringToObject(pp, "objective", "binary:logistic");
    cJSON_AddItemToObject(r, "threshold", num(e->threshold));
    cJSON *m = cJSON_AddObjectToObject(r, "metrics");
    cJSON *folds = cJSON_AddArrayToObject(m, "folds");
    for (size_t f = 0; f < e->n_folds; f++) {
        cJSON *fo = metrics_json(&e->folds[f]);
        cJSON_AddNumberToObject(fo, "rounds", e->fold_rounds[f]);
        cJSON_AddItemToArray(folds, fo);
    }
    cJSON_AddItemToObject(m, "cv", metrics_json(&e->cv));
    cJSON_AddItemToObject(m, "test", metrics_json(&e->test));
    cJSON *tr = cJSON_AddObjectToObject(r, "training");
    cJSON_AddNumberToObject(tr, "rounds_run", e->final_info.n_rounds);
    cJSON_AddNumberToObject(tr, "rounds_kept", e->final_info.best_round);
    cJSON_AddItemToObject(tr, "best_valid_logloss", num(e->final_info.best_logloss));
    cJSON_AddNumberToObject(tr, "rows_dev", (double)e->n_dev);
    cJSON_AddNumberToObject(tr, "rows_test", (double)e->n_test);
    cJSON *arts = cJSON_AddArrayToObject(r, "artifacts");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "path", "model.json");
    cJSON_AddStringToObject(a, "format", "xgboost-json");
    cJSON_AddStringToObject(a, "sha256", model_sha);
    cJSON_AddNumberToObject(a, "bytes", (double)model_bytes);
    cJSON_AddItemToArray(arts, a);
    return r;
}

// ---- MLmodel ----

// MLflow's column type for a feature's source column.
static const char *mlflow_type(const struct ml_feature *f)
{
    if (f->level != NULL) {
        return "string"; // one-hot level of a category
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
    char created[40], model_sha[65], thr[40];
    char *model = NULL, *text = NULL, *inputs = NULL;
    cJSON *r = NULL;
    size_t model_len = 0;
    *version = 0;
    int rc = bundle_check_name(name, err);
    if (rc != PX_OK) {
        return rc;
    }
    bundle_now_utc(created, sizeof created);
    rc = ml_classifier_save_json(e->model, &model, &model_len, err);
    if (rc == PX_OK) {
        sha256_hex(model, model_len, model_sha);
        r = run_json(name, created, spec, params, e, info, model_sha, model_len);
        text = r ? cJSON_Print(r) : NULL;
        if (text == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory writing the run record");
        }
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
            {RUN_JSON, text, strlen(text)},
        };
        rc = registry_save_files(root, files, 2, &mm, version, err);
    }
    px_free(inputs);
    cJSON_Delete(r);
    cJSON_free(text);
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

// Parses vdir/run.json and checks its format; errors start with "run.json: ".
static int read_record(const char *vdir, cJSON **out, struct px_err *err)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", vdir, RUN_JSON);
    int rc = jsonx_parse_file(path, RUN_JSON_MAX, out, err);
    if (rc != PX_OK) {
        return rc;
    }
    const char *fmt = get_str(*out, "format");
    double fv = get_num(*out, "format_version");
    if (fmt == NULL || strcmp(fmt, PROPMODEL_FORMAT) != 0 || fv != PROPMODEL_FORMAT_VERSION) {
        cJSON_Delete(*out);
        *out = NULL;
        return px_fail(err, PX_EFORMAT, "%s: not a %s record of version %d", RUN_JSON,
                       PROPMODEL_FORMAT, PROPMODEL_FORMAT_VERSION);
    }
    return PX_OK;
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
        if (ft->name == NULL || ft->column == NULL || type == NULL ||
            !coltype_from_name(type, &ft->type)) {
            ml_spec_free(spec);
            return oom ? px_fail(err, PX_ENOMEM, "out of memory reading %s", what)
                       : px_fail(err, PX_EFORMAT, "%s: feature %zu is incomplete", what, k);
        }
    }
    return PX_OK;
}

void propmodel_model_free(struct propmodel_model *m)
{
    if (m == NULL) {
        return;
    }
    ml_spec_free(&m->spec);
    ml_classifier_free(m->model);
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
    if ((rc = read_record(out->dir, &rec, err)) != PX_OK) {
        goto done;
    }
    if ((rc = spec_from_json(rec, RUN_JSON, &out->spec, err)) != PX_OK) {
        goto done;
    }
    out->threshold = get_num(rec, "threshold");
    if (!isfinite(out->threshold)) {
        rc = px_fail(err, PX_EFORMAT, "%s: no threshold", RUN_JSON);
        goto done;
    }
    // the run record names its artifact too (it is read without the manifest by tools)
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rec, "artifacts"), 0);
    rc =
        registry_read_checked(out->dir, MODEL_JSON, MODEL_JSON_MAX, a ? get_str(a, "sha256") : NULL,
                              "the run record's", &model, &model_len, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = ml_classifier_load_json(model, model_len, out->spec.n_features, n_threads, &out->model,
                                 err);
    if (rc != PX_OK) {
        px_err_prefix(err, "%s", MODEL_JSON);
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
        char vdir[4200];
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
