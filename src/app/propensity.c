// propensity.c — the propensity calls of the façade (app_prop.h): load, train, read data (CSV or
// JSON rows), score, explain and list runs, over src/ml and kinds/propmodel; shared by the CLI
// commands and the HTTP routes. Look-alikes and tipping points are in proplook.c, the JSON
// answers in propensity_json.c, the routes' cache in propcache.c.
//
// Design: every answer is computed once into an opaque handle holding a plain view (app_prop.h)
// — rows already selected and ordered, names resolved, numbers as doubles — and both the CLI's
// table / CSV and the JSON document (propensity_json.c) are read from that view, so the two
// front ends cannot drift apart. Views borrow strings from the model (feature names, threshold)
// and the data (row names), which the caller keeps alive.
//
// JSON rows are fed to the data-set reader as records (ml_dataset_apply_records): the header is
// the model's columns, each field the value's text (numbers with 17 digits, booleans 1/0), so a
// value is checked exactly as a CSV field is, without writing CSV text.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "jsonx.h"
#include "mem.h"
#include "propensity_int.h"
#include "sha256.h"

const char *const app_prop_metric_names[APP_PROP_N_METRICS] = {"auc_roc", "auc_pr", "precision",
                                                               "recall", "f1"};

int app_prop_metric_index(const char *metric)
{
    return propmodel_metric_index(metric);
}

static const char *root_of(const char *registry)
{
    return app_registry_dir(registry != NULL && registry[0] != '\0' ? registry : NULL);
}

static int oom(struct px_err *err)
{
    return px_fail(err, PX_ENOMEM, "out of memory");
}

// ---- models ----

void app_prop_model_free(struct app_prop_model *m)
{
    if (m == NULL) {
        return;
    }
    propmodel_model_free(&m->pm);
    px_free(m->features);
    px_free(m);
}

int app_prop_model_open(const char *root, const char *ref, int n_threads,
                        struct app_prop_model **out, struct px_err *err)
{
    *out = NULL;
    struct app_prop_model *m = px_calloc(1, sizeof *m);
    if (m == NULL) {
        return oom(err);
    }
    // the registry reads all four forms and verifies every file before the model is used
    int rc = propmodel_load(root, ref, n_threads, &m->pm, err);
    const struct ml_spec *s = &m->pm.spec;
    if (rc == PX_OK) {
        m->features = px_malloc((s->n_features ? s->n_features : 1) * sizeof *m->features);
        rc = m->features != NULL ? PX_OK : oom(err);
    }
    if (rc != PX_OK) {
        app_prop_model_free(m);
        return rc;
    }
    for (size_t f = 0; f < s->n_features; f++) {
        m->features[f] = s->features[f].name;
    }
    snprintf(m->id, sizeof m->id, "%s@%d", m->pm.name, m->pm.version);
    m->info = (struct app_prop_info){.name = m->pm.name,
                                     .version = m->pm.version,
                                     .id = m->id,
                                     .threshold = m->pm.threshold,
                                     .target = s->target,
                                     .positive = s->positive,
                                     .negative = s->negative,
                                     .id_column = s->id_column,
                                     .features = m->features,
                                     .n_features = s->n_features};
    *out = m;
    return PX_OK;
}

int app_prop_load(const char *registry, const char *ref, int n_threads,
                  struct app_prop_model **out, struct px_err *err)
{
    *out = NULL;
    if (ref == NULL || ref[0] == '\0') {
        return px_fail(err, PX_EINVAL,
                       "a model reference is NAME, NAME/VERSION, NAME@VERSION or NAME@STAGE");
    }
    return app_prop_model_open(root_of(registry), ref, n_threads, out, err);
}

const struct app_prop_info *app_prop_model_info(const struct app_prop_model *m)
{
    return &m->info;
}

// ---- training ----

struct app_train_params app_train_default_params(void)
{
    struct ml_experiment_params e = ml_experiment_default_params();
    return (struct app_train_params){.folds = e.n_folds,
                                     .target_recall = e.target_recall,
                                     .min_precision = e.min_precision,
                                     .seed = e.xgb.seed,
                                     .n_threads = e.xgb.n_threads,
                                     .n_rounds = e.xgb.n_rounds};
}

static struct app_prop_metrics metrics_of(const struct ml_metrics *m, int rounds)
{
    return (struct app_prop_metrics){.auc_roc = m->auc_roc,
                                     .auc_pr = m->auc_pr,
                                     .precision = m->precision,
                                     .recall = m->recall,
                                     .f1 = m->f1,
                                     .threshold = m->threshold,
                                     .rows = m->n,
                                     .positives = m->n_pos,
                                     .tp = m->cm.tp,
                                     .fp = m->cm.fp,
                                     .tn = m->cm.tn,
                                     .fn = m->cm.fn,
                                     .rounds = rounds};
}

static int cmp_gain_desc(const void *a, const void *b)
{
    const struct app_prop_gain *x = a, *y = b;
    return x->gain > y->gain ? -1 : x->gain < y->gain;
}

void app_prop_trained_free(struct app_prop_trained *t)
{
    if (t == NULL) {
        return;
    }
    ml_experiment_free(&t->e);
    ml_dataset_free(&t->ds);
    ml_spec_free(&t->spec);
    px_free(t->folds);
    px_free(t->gain);
    px_free(t);
}

const struct app_train_view *app_prop_trained_view(const struct app_prop_trained *t)
{
    return &t->v;
}

// The view of a finished run (t->spec, ds, e, exp, version filled).
static int train_view(struct app_prop_trained *t, const char *root, int version,
                      struct px_err *err)
{
    const struct ml_experiment *e = &t->e;
    size_t nf = t->spec.n_features;
    t->folds = px_calloc(e->n_folds ? e->n_folds : 1, sizeof *t->folds);
    t->gain = px_calloc(nf ? nf : 1, sizeof *t->gain);
    if (t->folds == NULL || t->gain == NULL) {
        return oom(err);
    }
    for (size_t f = 0; f < e->n_folds; f++) {
        t->folds[f] = metrics_of(&e->folds[f], e->fold_rounds[f]);
    }
    double total = 0;
    for (size_t k = 0; k < nf; k++) {
        total += e->importance[k];
    }
    for (size_t k = 0; k < nf; k++) {
        t->gain[k] = (struct app_prop_gain){t->spec.features[k].name, e->importance[k],
                                            total > 0 ? e->importance[k] / total : 0};
    }
    qsort(t->gain, nf, sizeof *t->gain, cmp_gain_desc);
    snprintf(t->id, sizeof t->id, "%s@%d", t->name, version);
    snprintf(t->dir, sizeof t->dir, "%s/%s/%d", root, t->name, version);
    t->v = (struct app_train_view){.name = t->name,
                                   .version = version,
                                   .id = t->id,
                                   .dir = t->dir,
                                   .data_sha256 = t->sha256,
                                   .n_rows = t->ds.n_rows,
                                   .n_pos = t->ds.n_pos,
                                   .target = t->spec.target,
                                   .positive = t->spec.positive,
                                   .threshold = e->threshold,
                                   .target_recall = t->exp.target_recall,
                                   .min_precision = t->exp.min_precision,
                                   .top_k = t->exp.top_k,
                                   .n_cells = e->n_cells,
                                   .cv_metric =
                                       t->exp.cv_metric == ML_EVAL_AUCPR ? "auc_pr" : "auc_roc",
                                   .cv_score = e->cells[e->best_cell].score,
                                   .eta = e->chosen.eta,
                                   .min_child_weight = e->chosen.min_child_weight,
                                   .max_depth = e->chosen.max_depth,
                                   .rounds = e->chosen.n_rounds,
                                   .balanced = e->cells[e->best_cell].scale_pos_weight < 0,
                                   .calibrated = e->cal.n > 0,
                                   .brier_before = e->brier_before,
                                   .brier_after = e->brier_after,
                                   .test_brier_before = e->test_brier_before,
                                   .test_brier_after = e->test_brier_after,
                                   .notes = (const char *const *)t->spec.notes,
                                   .n_notes = t->spec.n_notes,
                                   .folds = t->folds,
                                   .n_folds = e->n_folds,
                                   .cv = metrics_of(&e->cv, 0),
                                   .test = metrics_of(&e->test, e->final_info.best_round),
                                   .gain = t->gain,
                                   .n_features = nf};
    return PX_OK;
}

// A feature that alone separates the classes (AUC >= APP_LEAKAGE_AUC on the dev rows) is
// likely derived from the target (digital_user from monthly_logins): a note warns of it.
static int leakage_notes(struct ml_spec *spec, const struct ml_experiment *e, struct px_err *err)
{
    int rc = PX_OK;
    for (size_t k = 0; rc == PX_OK && k < spec->n_features; k++) {
        double a = e->single_auc[k];
        if (a >= APP_LEAKAGE_AUC) {
            char note[512];
            snprintf(note, sizeof note,
                     "leakage warning: '%.200s' alone reaches AUC %.3f on the training rows; it "
                     "may be derived from the target '%.100s' (drop it with --drop if so)",
                     spec->features[k].name, a, spec->target);
            rc = ml_spec_add_note(spec, note, err);
        }
    }
    return rc;
}

int app_train(const struct app_train_params *p, app_progress_fn progress, void *user,
              struct app_prop_trained **out, struct px_err *err)
{
    *out = NULL;
    if (p->csv == NULL || p->name == NULL || p->target == NULL) {
        return px_fail(err, PX_EINVAL, "training needs a CSV, a target column and a model name");
    }
    struct app_prop_trained *t = px_calloc(1, sizeof *t);
    if (t == NULL) {
        return oom(err);
    }
    // 0 (or a NaN recall) keeps the default: callers may fill only what they set
    struct ml_experiment_params *x = &t->exp;
    *x = ml_experiment_default_params();
    x->n_folds = p->folds > 0 ? p->folds : x->n_folds;
    x->target_recall = p->target_recall > 0 ? p->target_recall : x->target_recall;
    x->min_precision = p->min_precision > 0 ? p->min_precision : 0;
    x->top_k = p->top_k;
    x->xgb.seed = p->seed;
    x->xgb.n_threads = p->n_threads > 0 ? p->n_threads : x->xgb.n_threads;
    x->xgb.n_rounds = p->n_rounds > 0 ? p->n_rounds : x->xgb.n_rounds;
    snprintf(t->name, sizeof t->name, "%s", p->name);
    const struct ml_build_params build = {
        .target = p->target, .positive = p->positive, .drop = p->drop, .n_drop = p->n_drop};
    const char *root = root_of(p->registry);
    int version = 0;
    int rc = sha256_file_hex(p->csv, t->sha256, err);
    if (rc == PX_OK)
        rc = ml_dataset_build(p->csv, &build, &t->spec, &t->ds, err);
    if (rc == PX_OK)
        rc = ml_experiment_run(&t->ds, x, progress, user, &t->e, err);
    if (rc == PX_OK)
        rc = leakage_notes(&t->spec, &t->e, err);
    if (rc == PX_OK) {
        struct propmodel_save_info info = {.data_path = p->csv,
                                           .data_sha256 = t->sha256,
                                           .n_rows = t->ds.n_rows,
                                           .n_pos = t->ds.n_pos,
                                           .lines = t->ds.line,
                                           .heldout = t->e.heldout};
        rc = propmodel_save(root, p->name, &t->spec, x, &t->e, &info, &version, err);
    }
    if (rc == PX_OK)
        rc = train_view(t, root, version, err);
    if (rc != PX_OK) {
        app_prop_trained_free(t);
        return rc;
    }
    *out = t;
    return PX_OK;
}

// ---- data ----

void app_prop_data_free(struct app_prop_data *d)
{
    if (d == NULL) {
        return;
    }
    ml_explanation_free(&d->e);
    ml_dataset_free(&d->ds);
    px_free(d->heldout);
    px_free(d->names);
    px_free(d->name_block);
    px_free(d);
}

int app_prop_data_wrap(struct ml_dataset *ds, struct app_prop_data **out, struct px_err *err)
{
    *out = NULL;
    struct app_prop_data *d = px_calloc(1, sizeof *d);
    if (d == NULL) {
        ml_dataset_free(ds);
        return oom(err);
    }
    d->ds = *ds;
    memset(ds, 0, sizeof *ds);
    size_t n = d->ds.n_rows;
    enum { NAME_BYTES = 32 }; // "line " + 20 digits + NUL
    d->names = px_malloc((n ? n : 1) * sizeof *d->names);
    d->name_block = px_malloc((n ? n : 1) * NAME_BYTES);
    if (d->names == NULL || d->name_block == NULL) {
        app_prop_data_free(d);
        return oom(err);
    }
    for (size_t r = 0; r < n; r++) {
        if (d->ds.id != NULL && d->ds.id[r][0] != '\0') {
            d->names[r] = d->ds.id[r];
        } else {
            d->names[r] = d->name_block + r * NAME_BYTES;
            snprintf(d->names[r], NAME_BYTES, "line %zu", d->ds.line[r]);
        }
    }
    *out = d;
    return PX_OK;
}

float app_prop_potential_score(const struct app_prop_data *d, size_t r, float model_p)
{
    return d->heldout != NULL && !isnan(d->heldout[r]) ? d->heldout[r] : model_p;
}

// When csv is the model's training file (its sha256), d's rows get their held-out scores
// (matched by CSV line), so potential lists never use the model that saw their labels.
static int attach_heldout(const struct app_prop_model *m, const char *csv, struct app_prop_data *d,
                          struct px_err *err)
{
    const struct propmodel_model *pm = &m->pm;
    char sha[65];
    if (pm->n_heldout == 0 || pm->data_sha256[0] == '\0' ||
        sha256_file_hex(csv, sha, NULL) != PX_OK || strcmp(sha, pm->data_sha256) != 0) {
        return PX_OK;
    }
    size_t n = d->ds.n_rows;
    d->heldout = px_malloc((n ? n : 1) * sizeof *d->heldout);
    if (d->heldout == NULL) {
        return oom(err);
    }
    size_t j = 0; // both in line order
    for (size_t r = 0; r < n; r++) {
        while (j < pm->n_heldout && pm->heldout_line[j] < d->ds.line[r]) {
            j++;
        }
        d->heldout[r] = j < pm->n_heldout && pm->heldout_line[j] == d->ds.line[r]
                            ? pm->heldout_score[j]
                            : NAN;
    }
    return PX_OK;
}

int app_prop_data_csv(const struct app_prop_model *m, const char *csv, bool need_target,
                      struct app_prop_data **out, struct px_err *err)
{
    return app_prop_data_csv_progress(m, csv, need_target, NULL, NULL, out, err);
}

int app_prop_data_csv_progress(const struct app_prop_model *m, const char *csv,
                               bool need_target, app_progress_fn progress, void *user,
                               struct app_prop_data **out, struct px_err *err)
{
    struct ml_dataset ds;
    *out = NULL;
    int rc = progress != NULL
                 ? ml_dataset_apply_progress(csv, &m->pm.spec, need_target, progress, user, &ds,
                                             err)
                 : ml_dataset_apply(csv, &m->pm.spec, need_target, &ds, err);
    if (rc == PX_OK)
        rc = app_prop_data_wrap(&ds, out, err);
    if (rc == PX_OK && (rc = attach_heldout(m, csv, *out, err)) != PX_OK) {
        app_prop_data_free(*out);
        *out = NULL;
    }
    return rc;
}

size_t app_prop_data_rows(const struct app_prop_data *d)
{
    return d->ds.n_rows;
}

int app_prop_data_shap(const struct app_prop_model *m, struct app_prop_data *d,
                       struct px_err *err)
{
    return app_prop_data_shap_progress(m, d, NULL, NULL, err);
}

int app_prop_data_shap_progress(const struct app_prop_model *m, struct app_prop_data *d,
                                app_progress_fn progress, void *user, struct px_err *err)
{
    if (d->has_shap) {
        return PX_OK;
    }
    int rc = ml_explain_progress(m->pm.model, d->ds.x, d->ds.n_rows, progress, user, &d->e, err);
    d->has_shap = rc == PX_OK;
    return rc;
}

// Is name a column the model reads (a feature's source column, the id or the target)?
static bool known_column(const struct ml_spec *s, const char *name)
{
    if (strcmp(name, s->target) == 0 || (s->id_column && strcmp(name, s->id_column) == 0)) {
        return true;
    }
    for (size_t k = 0; k < s->n_features; k++) {
        if (strcmp(s->features[k].column, name) == 0) {
            return true;
        }
    }
    return false;
}

// JSON rows as records for the data-set reader.
struct json_rows {
    const struct app_prop_model *m;
    const cJSON *rows;
    const char **cols; // (n_cols) the header: feature columns (distinct), the id, the target
    size_t n_cols;
};

static int produce_rows(void *user, csvread_record_fn record, void *record_user,
                        struct px_err *err)
{
    struct json_rows *j = user;
    const struct ml_spec *s = &j->m->pm.spec;
    const char **f = px_malloc(j->n_cols * sizeof *f);
    size_t *len = px_malloc(j->n_cols * sizeof *len);
    char(*num)[40] = px_malloc(j->n_cols * sizeof *num);
    int rc = f && len && num ? PX_OK : oom(err);
    for (size_t c = 0; rc == PX_OK && c < j->n_cols; c++) {
        f[c] = j->cols[c];
        len[c] = strlen(j->cols[c]);
    }
    // The reader names "line N": row i is line i + 2 (the header is line 1), as the source's
    // name says.
    if (rc == PX_OK)
        rc = record(record_user, 0, 1, f, len, j->n_cols, err);
    size_t i = 0;
    const cJSON *row = NULL;
    cJSON_ArrayForEach(row, j->rows)
    {
        if (rc != PX_OK) {
            break;
        }
        if (!cJSON_IsObject(row)) {
            rc = px_fail(err, PX_EINVAL, "row %zu: not an object", i);
            break;
        }
        const cJSON *kv = NULL;
        cJSON_ArrayForEach(kv, row)
        {
            if (rc == PX_OK && !known_column(s, kv->string)) {
                rc = px_fail(err, PX_EINVAL, "row %zu: '%.64s' is not a column of model %s", i,
                             kv->string, j->m->pm.name);
            }
            if (rc == PX_OK && !(cJSON_IsNumber(kv) || cJSON_IsString(kv) || cJSON_IsBool(kv) ||
                                 cJSON_IsNull(kv))) {
                rc = px_fail(err, PX_EINVAL,
                             "row %zu: '%.64s' must be a number, string, boolean or null", i,
                             kv->string);
            }
        }
        for (size_t c = 0; rc == PX_OK && c < j->n_cols; c++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, j->cols[c]);
            f[c] = "";
            len[c] = 0;
            if (v == NULL || cJSON_IsNull(v)) {
                continue; // missing, as an empty CSV field
            }
            if (cJSON_IsNumber(v)) {
                if (!isfinite(v->valuedouble)) {
                    rc = px_fail(err, PX_EINVAL, "row %zu: '%.64s' is not finite", i, j->cols[c]);
                    break;
                }
                snprintf(num[c], sizeof num[c], "%.17g", v->valuedouble);
                f[c] = num[c];
            } else if (cJSON_IsBool(v)) {
                f[c] = cJSON_IsTrue(v) ? "1" : "0";
            } else {
                f[c] = v->valuestring;
            }
            len[c] = strlen(f[c]);
        }
        if (rc == PX_OK)
            rc = record(record_user, i + 1, i + 2, f, len, j->n_cols, err);
        i++;
    }
    px_free(f);
    px_free(len);
    px_free(num);
    return rc;
}

int app_prop_data_json(const struct app_prop_model *m, const char *body, size_t len,
                       struct app_prop_data **out, struct px_err *err)
{
    const struct ml_spec *s = &m->pm.spec;
    struct json_rows j = {.m = m};
    cJSON *root = NULL;
    *out = NULL;
    int rc = jsonx_parse(body, len, "request body", &root, err);
    j.rows = root;
    if (rc == PX_OK && cJSON_IsObject(root)) {
        j.rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    }
    if (rc == PX_OK && !cJSON_IsArray(j.rows)) {
        rc = px_fail(err, PX_EINVAL, "the body must be {\"rows\": [{column: value, ...}, ...]}");
    }
    size_t n_rows = rc == PX_OK ? (size_t)cJSON_GetArraySize(j.rows) : 0;
    if (rc == PX_OK && n_rows == 0) {
        rc = px_fail(err, PX_EINVAL, "\"rows\" is empty");
    }
    if (rc == PX_OK && n_rows > LIMIT_PROP_ROWS) {
        rc = px_fail(err, PX_ELIMIT, "%zu rows; the limit is %d (LIMIT_PROP_ROWS)", n_rows,
                     LIMIT_PROP_ROWS);
    }
    if (rc == PX_OK) {
        j.cols = px_malloc((s->n_features + 2) * sizeof *j.cols);
        rc = j.cols != NULL ? PX_OK : oom(err);
    }
    if (rc == PX_OK) {
        for (size_t f = 0; f < s->n_features; f++) {
            bool seen = false;
            for (size_t c = 0; c < j.n_cols && !seen; c++) {
                seen = strcmp(j.cols[c], s->features[f].column) == 0;
            }
            if (!seen) {
                j.cols[j.n_cols++] = s->features[f].column;
            }
        }
        if (s->id_column) {
            j.cols[j.n_cols++] = s->id_column;
        }
        // the target only when some row gives it, so that rows without it read as unlabelled
        bool labelled = false;
        const cJSON *row = NULL;
        cJSON_ArrayForEach(row, j.rows)
        {
            labelled = labelled || cJSON_GetObjectItemCaseSensitive(row, s->target) != NULL;
        }
        if (labelled) {
            j.cols[j.n_cols++] = s->target;
        }
    }
    struct ml_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (rc == PX_OK) {
        rc = ml_dataset_apply_records("rows (line = row + 2)", s, false, produce_rows, &j, &ds,
                                      err);
    }
    px_free(j.cols);
    cJSON_Delete(root);
    return rc == PX_OK ? app_prop_data_wrap(&ds, out, err) : rc;
}

// ---- scores ----

int app_prop_predict(const struct app_prop_model *m, const struct app_prop_data *d, float *prob,
                     pthread_mutex_t *model_lock, struct px_err *err)
{
    if (model_lock != NULL) {
        pthread_mutex_lock(model_lock); // a classifier is used by one thread at a time
    }
    int rc = ml_classifier_predict(m->pm.model, d->ds.x, d->ds.n_rows, prob, err);
    if (model_lock != NULL) {
        pthread_mutex_unlock(model_lock);
    }
    return rc;
}

struct ranked {
    size_t row;
    float p;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->p != y->p) {
        return x->p > y->p ? -1 : 1;
    }
    return (x->row > y->row) - (x->row < y->row);
}

void app_prop_scores_free(struct app_prop_scores *s)
{
    if (s == NULL) {
        return;
    }
    px_free(s->rows);
    px_free(s->reasons);
    px_free(s->reason_text);
    for (size_t i = 0; i < s->v.n_notes; i++) {
        px_free(s->notes[i]);
    }
    px_free(s->notes);
    px_free(s);
}

const struct app_score_view *app_prop_scores_view(const struct app_prop_scores *s)
{
    return &s->v;
}

int app_prop_scores_make(const struct app_prop_model *m, const struct app_prop_data *d,
                         float *prob, const struct app_score_params *p,
                         struct app_prop_scores **out, struct px_err *err)
{
    const struct ml_dataset *ds = &d->ds;
    size_t n = ds->n_rows;
    *out = NULL;
    if (p->potential && ds->y == NULL) {
        px_free(prob);
        return px_fail(err, PX_EINVAL, "the potential rows need the target column '%s'",
                       m->pm.spec.target);
    }
    struct app_prop_scores *s = px_calloc(1, sizeof *s);
    struct ranked *rk = px_malloc((n ? n : 1) * sizeof *rk);
    if (s != NULL) {
        s->rows = px_malloc((n ? n : 1) * sizeof *s->rows);
    }
    if (s == NULL || rk == NULL || s->rows == NULL) {
        px_free(prob);
        px_free(rk);
        app_prop_scores_free(s);
        return oom(err);
    }
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        // a potential row is ranked by its held-out score when the data is the training file
        float q = p->potential ? app_prop_potential_score(d, r, prob[r]) : prob[r];
        if (!p->potential || (q >= m->pm.threshold && ds->y[r] == 0.0f)) {
            rk[k++] = (struct ranked){r, q};
        }
    }
    if (p->potential) {
        qsort(rk, k, sizeof *rk, cmp_ranked);
    }
    size_t n_matched = k;
    if (p->top > 0 && p->top < k) {
        k = p->top;
    }
    for (size_t i = 0; i < k; i++) {
        size_t r = rk[i].row;
        float y = ds->y ? ds->y[r] : NAN;
        s->rows[i] = (struct app_score_row){.row = r,
                                            .line = ds->line[r],
                                            .id = ds->id && ds->id[r][0] ? ds->id[r] : NULL,
                                            .name = d->names[r],
                                            .probability = rk[i].p,
                                            .label = rk[i].p >= m->pm.threshold,
                                            .actual = y == 1.0f ? 1 : y == 0.0f ? 0 : -1};
    }
    s->m = m;
    s->v = (struct app_score_view){.model = &m->info,
                                   .has_target = ds->y != NULL,
                                   .potential = p->potential,
                                   .out_of_fold = p->potential && d->heldout != NULL,
                                   .n_data = n,
                                   .n_negatives = ds->n_neg,
                                   .n_matched = n_matched,
                                   .rows = s->rows,
                                   .n_rows = k};
    px_free(rk);
    px_free(prob);
    *out = s;
    return PX_OK;
}

int app_prop_score(const struct app_prop_model *m, const struct app_prop_data *d,
                   const struct app_score_params *p, struct app_prop_scores **out,
                   struct px_err *err)
{
    *out = NULL;
    float *prob = px_malloc((d->ds.n_rows ? d->ds.n_rows : 1) * sizeof *prob);
    if (prob == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory scoring %zu rows", d->ds.n_rows);
    }
    int rc = app_prop_predict(m, d, prob, NULL, err);
    if (rc != PX_OK) {
        px_free(prob);
        return rc;
    }
    return app_prop_scores_make(m, d, prob, p, out, err);
}

// ---- explanations ----

struct app_explain_params app_explain_default_params(void)
{
    return (struct app_explain_params){.top = 5};
}

size_t app_prop_tipping_feature(const struct app_prop_model *m, const struct app_prop_data *d,
                                size_t r)
{
    unsigned char skip[LIMIT_CSV_COLUMNS * 4];
    size_t nf = m->pm.spec.n_features, k = 0;
    if (nf > sizeof skip) {
        return SIZE_MAX;
    }
    for (size_t f = 0; f < nf; f++) {
        skip[f] = m->pm.spec.features[f].level != NULL;
    }
    return ml_explain_top(&d->e, r, 1, skip, &k) ? k : SIZE_MAX;
}

static int cmp_desc(const void *a, const void *b, void *user)
{
    const double *v = user;
    double x = v[*(const size_t *)a], y = v[*(const size_t *)b];
    if (x != y) {
        return x > y ? -1 : 1;
    }
    return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static size_t feature_index(const struct ml_spec *s, const char *name)
{
    for (size_t f = 0; f < s->n_features; f++) {
        if (strcmp(s->features[f].name, name) == 0) {
            return f;
        }
    }
    return SIZE_MAX;
}

void app_prop_explained_free(struct app_prop_explained *x)
{
    if (x == NULL) {
        return;
    }
    px_free(x->global);
    px_free(x->dep);
    px_free(x->dep_values);
    px_free(x->rows);
    px_free(x->contribs);
    px_free(x);
}

const struct app_explain_view *app_prop_explained_view(const struct app_prop_explained *x)
{
    return &x->v;
}

// Fills one explained row (top: room for n_top contributions, or NULL for none).
static void explain_row(const struct app_prop_model *m, const struct app_prop_data *d, size_t r,
                        struct app_contrib *top, size_t n_top, struct app_explain_row *out)
{
    const struct ml_explanation *e = &d->e;
    size_t nf = e->n_features, idx[APP_EXPLAIN_TOP_MAX];
    const float *c = e->contrib + r * (nf + 1);
    size_t t = app_prop_tipping_feature(m, d, r);
    size_t k = top != NULL ? ml_explain_top(e, r, n_top, NULL, idx) : 0;
    for (size_t j = 0; j < k; j++) {
        top[j] = (struct app_contrib){.feature = m->features[idx[j]],
                                      .value = d->ds.x[r * nf + idx[j]],
                                      .shap = c[idx[j]],
                                      .tipping = idx[j] == t};
    }
    *out = (struct app_explain_row){.row = r,
                                    .line = d->ds.line[r],
                                    .name = d->names[r],
                                    .probability = e->prob[r],
                                    .margin = e->margin[r],
                                    .bias = c[nf],
                                    .label = e->prob[r] >= m->pm.threshold,
                                    .tipping_feature = t == SIZE_MAX ? NULL : m->features[t],
                                    .top = top,
                                    .n_top = k};
}

int app_prop_explain(const struct app_prop_model *m, const struct app_prop_data *d,
                     const struct app_explain_params *p, struct app_prop_explained **out,
                     struct px_err *err)
{
    const struct ml_spec *s = &m->pm.spec;
    const struct ml_explanation *e = &d->e;
    const struct ml_dataset *ds = &d->ds;
    size_t nf = s->n_features, n = ds->n_rows;
    size_t top = p->top == 0 ? 5 : p->top > APP_EXPLAIN_TOP_MAX ? APP_EXPLAIN_TOP_MAX : p->top;
    top = top < nf ? top : nf;
    *out = NULL;
    if (!d->has_shap) {
        return px_fail(err, PX_EINTERNAL, "explanations before the SHAP values");
    }
    size_t n_dep = p->n_dependence, dep_default = SIZE_MAX;
    for (size_t i = 0; i < n_dep; i++) {
        if (feature_index(s, p->dependence[i]) == SIZE_MAX) {
            return px_fail(err, PX_EINVAL, "feature '%.64s': the model has no such feature",
                           p->dependence[i]);
        }
    }
    if (n_dep == 0 && p->dependence_default && nf > 0) {
        dep_default = 0; // the feature with the largest mean |SHAP|
        for (size_t f = 1; f < nf; f++) {
            dep_default = e->mean_abs[f] > e->mean_abs[dep_default] ? f : dep_default;
        }
        n_dep = 1;
    }
    struct app_prop_explained *x = px_calloc(1, sizeof *x);
    size_t *fo = px_malloc((nf ? nf : 1) * sizeof *fo);
    size_t *ro = px_malloc((n ? n : 1) * sizeof *ro);
    double *pd = px_malloc((n ? n : 1) * sizeof *pd);
    // the rows shown: the ids given, else by probability (n_rows of them), else all in order
    size_t shown = p->n_ids > 0 ? p->n_ids : p->n_rows > 0 && p->n_rows < n ? p->n_rows : n;
    size_t *sel = px_malloc((shown ? shown : 1) * sizeof *sel);
    int rc = x && fo && ro && pd && sel ? PX_OK : oom(err);
    if (rc == PX_OK) {
        for (size_t r = 0; r < n; r++) {
            ro[r] = r;
            pd[r] = e->prob[r];
        }
        qsort_r(ro, n, sizeof *ro, cmp_desc, pd);
        for (size_t i = 0; i < shown && p->n_ids == 0; i++) {
            sel[i] = p->n_rows > 0 ? ro[i] : i;
        }
    }
    for (size_t i = 0; rc == PX_OK && i < p->n_ids; i++) {
        size_t r = 0;
        while (r < n && (ds->id == NULL || strcmp(ds->id[r], p->ids[i]) != 0)) {
            r++;
        }
        if (r == n) {
            rc = px_fail(err, PX_EINVAL, "id '%.64s': no such row%s", p->ids[i],
                         ds->id ? "" : " (the model has no id column)");
        }
        sel[i] = r;
    }
    // the potential list's order: by held-out score when d is the training file
    size_t *po = d->heldout != NULL ? px_malloc((n ? n : 1) * sizeof *po) : ro;
    double *pq = d->heldout != NULL ? px_malloc((n ? n : 1) * sizeof *pq) : pd;
    if (rc == PX_OK && (po == NULL || pq == NULL)) {
        rc = oom(err);
    }
    if (rc == PX_OK && d->heldout != NULL) {
        for (size_t r = 0; r < n; r++) {
            po[r] = r;
            pq[r] = app_prop_potential_score(d, r, e->prob[r]);
        }
        qsort_r(po, n, sizeof *po, cmp_desc, pq);
    }
    size_t n_pot = 0, pot_max = p->n_rows > 0 ? p->n_rows : n;
    for (size_t i = 0; rc == PX_OK && ds->y != NULL && i < n && n_pot < pot_max; i++) {
        n_pot += ds->y[po[i]] == 0.0f && pq[po[i]] >= m->pm.threshold;
    }
    if (rc == PX_OK) {
        x->global = px_calloc(nf ? nf : 1, sizeof *x->global);
        x->dep = px_calloc(n_dep ? n_dep : 1, sizeof *x->dep);
        x->dep_values = px_malloc((n_dep * n * 2 + 1) * sizeof *x->dep_values);
        x->rows = px_calloc(shown + n_pot + 1, sizeof *x->rows);
        x->contribs = px_calloc(shown * top + 1, sizeof *x->contribs);
        if (!x->global || !x->dep || !x->dep_values || !x->rows || !x->contribs) {
            rc = oom(err);
        }
    }
    if (rc != PX_OK) {
        app_prop_explained_free(x);
        px_free(fo);
        if (po != ro)
            px_free(po);
        if (pq != pd)
            px_free(pq);
        px_free(ro);
        px_free(pd);
        px_free(sel);
        return rc;
    }
    for (size_t f = 0; f < nf; f++) {
        fo[f] = f;
    }
    qsort_r(fo, nf, sizeof *fo, cmp_desc, e->mean_abs);
    for (size_t i = 0; i < nf; i++) {
        x->global[i] = (struct app_feature_weight){m->features[fo[i]], e->mean_abs[fo[i]]};
    }
    for (size_t i = 0; i < n_dep; i++) {
        size_t f = dep_default != SIZE_MAX ? dep_default : feature_index(s, p->dependence[i]);
        double *v = x->dep_values + i * n * 2, *sh = v + n;
        for (size_t r = 0; r < n; r++) {
            v[r] = ds->x[r * nf + f];
            sh[r] = e->contrib[r * (nf + 1) + f];
        }
        x->dep[i] = (struct app_dependence){m->features[f], v, sh, ds->line, n};
    }
    for (size_t i = 0; i < shown; i++) {
        explain_row(m, d, sel[i], x->contribs + i * top, top, &x->rows[i]);
    }
    // the potential list: negatives the model already scores at or above the threshold
    size_t k = 0, n_pot_all = 0;
    for (size_t i = 0; ds->y != NULL && i < n; i++) {
        size_t r = po[i];
        if (ds->y[r] == 0.0f && pq[r] >= m->pm.threshold) {
            if (k < n_pot) {
                struct app_explain_row *row = &x->rows[shown + k++];
                explain_row(m, d, r, NULL, 0, row);
                row->probability = (float)pq[r]; // the held-out score it was listed by
            }
            n_pot_all++; // all of them, as `prospect score --potential` counts
        }
    }
    if (po != ro)
        px_free(po);
    if (pq != pd)
        px_free(pq);
    x->m = m;
    x->v = (struct app_explain_view){.model = &m->info,
                                     .n_data = n,
                                     .max_sum_diff = e->max_sum_diff,
                                     .global = x->global,
                                     .n_global = nf,
                                     .dependence = x->dep,
                                     .n_dependence = n_dep,
                                     .rows = x->rows,
                                     .n_rows = shown,
                                     .potential = x->rows + shown,
                                     .n_potential = k,
                                     .n_potential_all = n_pot_all};
    px_free(fo);
    px_free(ro);
    px_free(pd);
    px_free(sel);
    *out = x;
    return PX_OK;
}

// ---- runs ----

void app_prop_runs_free(struct app_prop_runs *r)
{
    if (r == NULL) {
        return;
    }
    px_free(r->raw);
    px_free(r->runs);
    px_free(r->ids);
    px_free(r);
}

const struct app_runs_view *app_prop_runs_view(const struct app_prop_runs *r)
{
    return &r->v;
}

int app_prop_runs_list(const char *registry, const char *name, struct app_prop_runs **out,
                       struct px_err *err)
{
    *out = NULL;
    struct app_prop_runs *r = px_calloc(1, sizeof *r);
    if (r == NULL) {
        return oom(err);
    }
    snprintf(r->registry, sizeof r->registry, "%s", root_of(registry));
    size_t n = 0, n_bad = 0;
    int rc = propmodel_list(r->registry, name, &r->raw, &n, &n_bad, err);
    if (rc == PX_OK) {
        r->runs = px_calloc(n ? n : 1, sizeof *r->runs);
        r->ids = px_calloc(n ? n : 1, sizeof *r->ids);
        rc = r->runs && r->ids ? PX_OK : oom(err);
    }
    if (rc != PX_OK) {
        app_prop_runs_free(r);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const struct propmodel_run *x = &r->raw[i];
        snprintf(r->ids[i], sizeof r->ids[i], "%s@%d", x->name, x->version);
        r->runs[i] = (struct app_prop_run){
            .name = x->name, .version = x->version, .id = r->ids[i], .created = x->created,
            .threshold = x->threshold};
        memcpy(r->runs[i].cv, x->cv, sizeof x->cv);
        memcpy(r->runs[i].test, x->test, sizeof x->test);
    }
    r->v = (struct app_runs_view){
        .registry = r->registry, .runs = r->runs, .n = n, .skipped = n_bad};
    *out = r;
    return PX_OK;
}

int app_prop_runs_best(struct app_prop_runs *r, const char *metric, const char *split,
                       struct px_err *err)
{
    metric = metric != NULL ? metric : APP_PROP_DEFAULT_METRIC;
    split = split != NULL ? split : "test";
    int mi = app_prop_metric_index(metric);
    if (mi < 0) {
        return px_fail(err, PX_EINVAL,
                       "metric '%.32s': say auc_roc, auc_pr, precision, recall or f1", metric);
    }
    bool cv = strcmp(split, "cv") == 0;
    if (!cv && strcmp(split, "test") != 0) {
        return px_fail(err, PX_EINVAL, "split '%.32s': say test or cv", split);
    }
    size_t n = r->v.n, b = n;
    for (size_t i = 0; i < n; i++) {
        double v = cv ? r->runs[i].cv[mi] : r->runs[i].test[mi];
        double bv = b < n ? (cv ? r->runs[b].cv[mi] : r->runs[b].test[mi]) : -INFINITY;
        bool newer = b < n && strcmp(r->runs[i].created, r->runs[b].created) >= 0;
        if (isfinite(v) && (v > bv || (v == bv && newer))) {
            b = i;
        }
    }
    if (b == n) {
        return px_fail(err, PX_ENOENT, "no run has a %s %s", split, metric);
    }
    r->runs[0] = r->runs[b];
    r->v.n = 1;
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    snprintf(r->split, sizeof r->split, "%s", split);
    r->v.metric = r->metric;
    r->v.split = r->split;
    return PX_OK;
}
