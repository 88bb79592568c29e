// runstore.c — versioned model directories with run records (contract and layout in runstore.h).
//
// run.json is built and read with cJSON; numbers that are not finite (an AUC with one class)
// are written as null. The version directory appears by one rename(2) of a fully written and
// fsynced temporary directory; if another writer took the version meanwhile, the next one is
// tried (rename onto an existing non-empty directory fails with EEXIST / ENOTEMPTY).
#include "runstore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "sha256.h"

#define RUN_JSON_MAX (64u << 20)
#define MODEL_JSON_MAX (1024u << 20)

const char *const runstore_metric_names[5] = {"auc_roc", "auc_pr", "precision", "recall", "f1"};

int runstore_metric_index(const char *metric)
{
    for (int i = 0; i < 5; i++) {
        if (strcmp(metric, runstore_metric_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int check_name(const char *name, struct px_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.') {
        return px_fail(err, PX_EINVAL, "model name '%s': 1..64 characters, not starting with '.'",
                       name);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-') {
            return px_fail(err, PX_EINVAL, "model name '%s': only letters, digits, '.', '_', '-'",
                           name);
        }
    }
    return PX_OK;
}

static int mkdir_p(const char *path, struct px_err *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        return px_fail(err, PX_ELIMIT, "path too long: %s", path);
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                return px_fail(err, PX_EIO, "cannot create %s: %s", tmp, strerror(errno));
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        return px_fail(err, PX_EIO, "cannot create %s: %s", tmp, strerror(errno));
    }
    return PX_OK;
}

static void rm_tree_shallow(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char p[8192];
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

// Highest numeric version directory under dir (0 when none).
static int max_version(const char *dir)
{
    int best = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end = NULL;
        long v = strtol(e->d_name, &end, 10);
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && *end == '\0' && v > best && v < 1000000) {
            best = (int)v;
        }
    }
    closedir(d);
    return best;
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

static cJSON *run_json(const char *name, int version, const struct ml_spec *spec,
                       const struct ml_experiment_params *p, const struct ml_experiment *e,
                       const struct runstore_save_info *info, const char *model_sha,
                       size_t model_bytes)
{
    cJSON *r = cJSON_CreateObject();
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(r, "format", RUNSTORE_FORMAT);
    cJSON_AddNumberToObject(r, "format_version", RUNSTORE_FORMAT_VERSION);
    cJSON_AddStringToObject(r, "name", name);
    cJSON_AddNumberToObject(r, "version", version);
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

int runstore_save(const char *root, const char *name, const struct ml_spec *spec,
                  const struct ml_experiment_params *params, const struct ml_experiment *e,
                  const struct runstore_save_info *info, int *version, struct px_err *err)
{
    char dir[3800], tmp[4000], path[4100], final[4000];
    char *model = NULL, *text = NULL;
    cJSON *r = NULL;
    size_t model_len = 0;
    bool made_tmp = false;
    int rc = check_name(name, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (snprintf(dir, sizeof dir, "%s/%s", root, name) >= (int)sizeof dir) {
        return px_fail(err, PX_ELIMIT, "registry path too long");
    }
    static int counter;
    snprintf(tmp, sizeof tmp, "%s/.tmp-%ld-%d", dir, (long)getpid(), counter++);
    if ((rc = mkdir_p(dir, err)) != PX_OK || (rc = mkdir_p(tmp, err)) != PX_OK) {
        goto done;
    }
    made_tmp = true;
    rc = ml_classifier_save_json(e->model, &model, &model_len, err);
    if (rc != PX_OK) {
        goto done;
    }
    char model_sha[65];
    sha256_hex(model, model_len, model_sha);
    snprintf(path, sizeof path, "%s/model.json", tmp);
    if ((rc = fsx_write_atomic(path, model, model_len, err)) != PX_OK) {
        goto done;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        int v = max_version(dir) + 1;
        cJSON_Delete(r);
        r = run_json(name, v, spec, params, e, info, model_sha, model_len);
        if (r == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory writing the run record");
            goto done;
        }
        cJSON_free(text);
        text = cJSON_Print(r);
        if (text == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory writing the run record");
            goto done;
        }
        snprintf(path, sizeof path, "%s/run.json", tmp);
        if ((rc = fsx_write_atomic(path, text, strlen(text), err)) != PX_OK) {
            goto done;
        }
        snprintf(final, sizeof final, "%s/%d", dir, v);
        if (rename(tmp, final) == 0) {
            int dfd = open(dir, O_RDONLY | O_DIRECTORY);
            if (dfd >= 0) {
                fsync(dfd); // make the rename durable
                close(dfd);
            }
            made_tmp = false;
            *version = v;
            rc = PX_OK;
            goto done;
        }
        if (errno != EEXIST && errno != ENOTEMPTY) {
            rc = px_fail(err, PX_EIO, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
            goto done;
        }
    }
    rc = px_fail(err, PX_EIO, "could not claim a version under %s", dir);
done:
    if (made_tmp) {
        rm_tree_shallow(tmp);
    }
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

static int read_record(const char *vdir, cJSON **out, struct px_err *err)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/run.json", vdir);
    int rc = jsonx_parse_file(path, RUN_JSON_MAX, out, err);
    if (rc != PX_OK) {
        return rc;
    }
    const char *fmt = get_str(*out, "format");
    double fv = get_num(*out, "format_version");
    if (fmt == NULL || strcmp(fmt, RUNSTORE_FORMAT) != 0 || fv != RUNSTORE_FORMAT_VERSION) {
        cJSON_Delete(*out);
        *out = NULL;
        return px_fail(err, PX_EFORMAT, "%s: not a %s record of version %d", path, RUNSTORE_FORMAT,
                       RUNSTORE_FORMAT_VERSION);
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

void runstore_model_free(struct runstore_model *m)
{
    if (m == NULL) {
        return;
    }
    ml_spec_free(&m->spec);
    ml_classifier_free(m->model);
    memset(m, 0, sizeof *m);
}

int runstore_load(const char *root, const char *ref, int n_threads, struct runstore_model *out,
                  struct px_err *err)
{
    char name[80], dir[3800], path[4300];
    cJSON *r = NULL;
    char *model = NULL;
    size_t model_len = 0;
    int version = 0, rc = PX_EINVAL;
    memset(out, 0, sizeof *out);
    const char *slash = strchr(ref, '/');
    size_t nl = slash ? (size_t)(slash - ref) : strlen(ref);
    if (nl >= sizeof name) {
        return px_fail(err, PX_EINVAL, "model name too long: '%s'", ref);
    }
    memcpy(name, ref, nl);
    name[nl] = '\0';
    if ((rc = check_name(name, err)) != PX_OK) {
        return rc;
    }
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    if (slash != NULL) {
        char *end = NULL;
        long v = strtol(slash + 1, &end, 10);
        if (*end != '\0' || v < 1 || v > 999999) {
            return px_fail(err, PX_EINVAL, "'%s': the version must be a number >= 1", ref);
        }
        version = (int)v;
    } else {
        version = max_version(dir);
        if (version == 0) {
            return px_fail(err, PX_ENOENT, "no model '%s' in %s (train one with prospect train)",
                           name, root);
        }
    }
    snprintf(out->dir, sizeof out->dir, "%s/%d", dir, version);
    if (!fsx_is_dir(out->dir)) {
        return px_fail(err, PX_ENOENT, "no version %d of model '%s' in %s", version, name, root);
    }
    if ((rc = read_record(out->dir, &r, err)) != PX_OK) {
        goto done;
    }
    snprintf(path, sizeof path, "%s/run.json", out->dir);
    if ((rc = spec_from_json(r, path, &out->spec, err)) != PX_OK) {
        goto done;
    }
    out->threshold = get_num(r, "threshold");
    if (!isfinite(out->threshold)) {
        rc = px_fail(err, PX_EFORMAT, "%s: no threshold", path);
        goto done;
    }
    snprintf(path, sizeof path, "%s/model.json", out->dir);
    if ((rc = fsx_read_file(path, MODEL_JSON_MAX, &model, &model_len, err)) != PX_OK) {
        goto done;
    }
    const cJSON *arts = cJSON_GetObjectItemCaseSensitive(r, "artifacts");
    const cJSON *a = cJSON_GetArrayItem(arts, 0);
    const char *want = a ? get_str(a, "sha256") : NULL;
    char got[65];
    sha256_hex(model, model_len, got);
    if (want == NULL || strcmp(want, got) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: sha256 %s differs from the run record's %s", path, got,
                     want ? want : "(none)");
        goto done;
    }
    rc = ml_classifier_load_json(model, model_len, out->spec.n_features, n_threads, &out->model,
                                 err);
    if (rc != PX_OK) {
        px_err_prefix(err, "%s", path);
        goto done;
    }
    snprintf(out->name, sizeof out->name, "%s", name);
    out->version = version;
    rc = PX_OK;
done:
    cJSON_Delete(r);
    px_free(model);
    if (rc != PX_OK) {
        runstore_model_free(out);
    }
    return rc;
}

static int cmp_run(const void *a, const void *b)
{
    const struct runstore_run *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->version > y->version) - (x->version < y->version);
}

static int list_name(const char *root, const char *name, struct runstore_run **runs, size_t *n,
                     size_t *cap, size_t *n_bad, struct px_err *err)
{
    char dir[3800];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    DIR *d = opendir(dir);
    if (d == NULL) {
        return PX_OK;
    }
    struct dirent *e;
    int rc = PX_OK;
    while (rc == PX_OK && (e = readdir(d)) != NULL) {
        char *end = NULL;
        long v = strtol(e->d_name, &end, 10);
        if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end != '\0') {
            continue;
        }
        char vdir[4200];
        snprintf(vdir, sizeof vdir, "%s/%s", dir, e->d_name);
        cJSON *r = NULL;
        struct px_err ignored = {0};
        if (read_record(vdir, &r, &ignored) != PX_OK) {
            (*n_bad)++;
            continue;
        }
        if (*n == *cap) {
            size_t nc = *cap ? 2 * *cap : 16;
            struct runstore_run *g = px_realloc(*runs, nc * sizeof *g);
            if (g == NULL) {
                cJSON_Delete(r);
                rc = px_fail(err, PX_ENOMEM, "out of memory listing runs");
                break;
            }
            *runs = g;
            *cap = nc;
        }
        struct runstore_run *run = &(*runs)[(*n)++];
        memset(run, 0, sizeof *run);
        snprintf(run->name, sizeof run->name, "%s", name);
        run->version = (int)v;
        const char *created = get_str(r, "created");
        snprintf(run->created, sizeof run->created, "%s", created ? created : "");
        run->threshold = get_num(r, "threshold");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "metrics");
        const cJSON *cv = cJSON_GetObjectItemCaseSensitive(m, "cv");
        const cJSON *test = cJSON_GetObjectItemCaseSensitive(m, "test");
        for (int i = 0; i < 5; i++) {
            run->cv[i] = get_num(cv, runstore_metric_names[i]);
            run->test[i] = get_num(test, runstore_metric_names[i]);
        }
        cJSON_Delete(r);
    }
    closedir(d);
    return rc;
}

int runstore_list(const char *root, const char *name, struct runstore_run **runs, size_t *n,
                  size_t *n_bad, struct px_err *err)
{
    size_t cap = 0;
    int rc = PX_OK;
    *runs = NULL;
    *n = *n_bad = 0;
    if (name != NULL) {
        rc = check_name(name, err);
        if (rc == PX_OK) {
            rc = list_name(root, name, runs, n, &cap, n_bad, err);
        }
    } else {
        DIR *d = opendir(root);
        if (d != NULL) {
            struct dirent *e;
            while (rc == PX_OK && (e = readdir(d)) != NULL) {
                if (e->d_name[0] != '.' && check_name(e->d_name, NULL) == PX_OK) {
                    rc = list_name(root, e->d_name, runs, n, &cap, n_bad, err);
                }
            }
            closedir(d);
        }
    }
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
