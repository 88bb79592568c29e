// propscore.c — reason codes on scored rows and whole scoring requests (app_prop.h, "scoring
// requests"); the rows themselves are read by propinput.c.
//
// Reason codes: the answer's rows (after potential / top, so a 20,000-row file asked for its
// top 50 explains 50) are copied into one matrix and explained by exact TreeSHAP
// (ml_explain, checked to add up to the margin); each row keeps its n features of largest
// |SHAP|, largest first, phrased "<column> <value> raises|lowers the score by <|SHAP|>" with
// the value written for its column's type (currency "$48k", percent "12.5%", bool yes / no,
// date YYYY-MM-DD, a one-hot level "Education is Graduate" / "is not Graduate", missing "Income
// missing"). SHAP values are log-odds relative to the model's average score; a row's
// to_threshold (probability - threshold) says how far it is from being labelled 1, so the
// reasons read beside it ("0.12 below the threshold: Income 49 lowers the score by 1.20").
// A request (app_prop_handle_score_request) runs the classifier under the pinned model's lock:
// predict, then SHAP, each a separate hold.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "app_prop.h"
#include "jsonx.h"
#include "mem.h"
#include "propensity_int.h"

enum { REASON_TEXT = 192 };

static int oom(struct px_err *err)
{
    return px_fail(err, PX_ENOMEM, "out of memory for the reason codes");
}

// The feature's value as a person reads it, with its column: "Income $48k".
static void describe(const struct ml_feature *f, double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "%s missing", f->column);
        return;
    }
    if (f->level != NULL) {
        snprintf(out, n, "%s is %s%s", f->column, v >= 0.5 ? "" : "not ", f->level);
        return;
    }
    switch (f->type) {
    case COLTYPE_BOOL: snprintf(out, n, "%s %s", f->column, v >= 0.5 ? "yes" : "no"); break;
    case COLTYPE_CURRENCY:
        if (fabs(v) >= 1e6) {
            snprintf(out, n, "%s $%.1fM", f->column, v / 1e6);
        } else if (fabs(v) >= 1e3) {
            snprintf(out, n, "%s $%.*fk", f->column, fabs(v) < 1e4 ? 1 : 0, v / 1e3);
        } else {
            snprintf(out, n, "%s $%.0f", f->column, v);
        }
        break;
    case COLTYPE_PERCENT: snprintf(out, n, "%s %.3g%%", f->column, v); break;
    case COLTYPE_DATE: {
        time_t t = (time_t)(v * 86400.0);
        struct tm tm;
        char d[16] = "?";
        if (gmtime_r(&t, &tm) != NULL) {
            strftime(d, sizeof d, "%Y-%m-%d", &tm);
        }
        snprintf(out, n, "%s %s", f->column, d);
        break;
    }
    case COLTYPE_INTEGER: snprintf(out, n, "%s %.0f", f->column, v); break;
    default: snprintf(out, n, "%s %.4g", f->column, v); break;
    }
}

static void phrase(const struct ml_feature *f, double v, double shap, char *out, size_t n)
{
    char what[REASON_TEXT - 48];
    describe(f, v, what, sizeof what);
    if (fabs(shap) < 0.005) {
        snprintf(out, n, "%s hardly changes the score", what);
    } else {
        snprintf(out, n, "%s %s the score by %.2f", what, shap > 0 ? "raises" : "lowers",
                 fabs(shap));
    }
}

int app_prop_scores_reasons_locked(const struct app_prop_model *m, const struct app_prop_data *d,
                                   struct app_prop_scores *s, size_t n, pthread_mutex_t *model_lock,
                                   struct px_err *err)
{
    size_t k = s->v.n_rows, nf = d->ds.n_features;
    if (n > APP_REASONS_MAX) {
        return px_fail(err, PX_EINVAL, "at most %d reason codes per row (APP_REASONS_MAX)",
                       APP_REASONS_MAX);
    }
    if (n > nf) {
        n = nf;
    }
    s->v.reasons = n;
    if (n == 0 || k == 0) {
        return PX_OK;
    }
    float *x = px_malloc(k * nf * sizeof *x);
    size_t *idx = px_malloc(n * sizeof *idx);
    s->reasons = px_calloc(k * n, sizeof *s->reasons);
    s->reason_text = px_malloc(k * n * REASON_TEXT);
    if (x == NULL || idx == NULL || s->reasons == NULL || s->reason_text == NULL) {
        px_free(x);
        px_free(idx);
        return oom(err);
    }
    for (size_t i = 0; i < k; i++) {
        memcpy(x + i * nf, d->ds.x + s->rows[i].row * nf, nf * sizeof *x);
    }
    struct ml_explanation e;
    memset(&e, 0, sizeof e);
    if (model_lock != NULL) {
        pthread_mutex_lock(model_lock); // a classifier is used by one thread at a time
    }
    int rc = ml_explain(m->pm.model, x, k, &e, err);
    if (model_lock != NULL) {
        pthread_mutex_unlock(model_lock);
    }
    for (size_t i = 0; rc == PX_OK && i < k; i++) {
        size_t w = ml_explain_top(&e, i, n, NULL, idx);
        struct app_reason *r = s->reasons + i * n;
        for (size_t j = 0; j < w; j++) {
            const struct ml_feature *f = &m->pm.spec.features[idx[j]];
            char *text = s->reason_text + (i * n + j) * REASON_TEXT;
            double v = x[i * nf + idx[j]];
            double shap = e.contrib[i * (nf + 1) + idx[j]];
            phrase(f, v, shap, text, REASON_TEXT);
            r[j] = (struct app_reason){.feature = f->name, .value = v, .shap = shap, .text = text};
        }
        s->rows[i].reasons = r;
        s->rows[i].n_reasons = w;
    }
    ml_explanation_free(&e);
    px_free(x);
    px_free(idx);
    return rc;
}

int app_prop_scores_reasons(const struct app_prop_model *m, const struct app_prop_data *d,
                            struct app_prop_scores *s, size_t n, struct px_err *err)
{
    return app_prop_scores_reasons_locked(m, d, s, n, NULL, err);
}

double app_prop_to_threshold(const struct app_score_view *v, const struct app_score_row *r)
{
    return r->probability - v->model->threshold;
}

// ---- the answers' parts ----

int app_prop_reasons_put(struct buf *b, const struct app_score_view *v,
                         const struct app_score_row *r, struct px_err *err)
{
    if (v->reasons == 0) {
        return PX_OK;
    }
    int rc = jsonx_put_key(b, "to_threshold", false, err);
    if (rc == PX_OK)
        rc = jsonx_put_number(b, app_prop_to_threshold(v, r), 6, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ", \"reasons\": [");
    for (size_t j = 0; rc == PX_OK && j < r->n_reasons; j++) {
        const struct app_reason *x = &r->reasons[j];
        rc = buf_printf(b, err, j ? ", {" : "{");
        if (rc == PX_OK)
            rc = jsonx_put_member(b, "feature", x->feature, true, err);
        if (rc == PX_OK)
            rc = jsonx_put_key(b, "value", false, err);
        if (rc == PX_OK)
            rc = jsonx_put_number(b, x->value, 6, err);
        if (rc == PX_OK)
            rc = jsonx_put_key(b, "shap", false, err);
        if (rc == PX_OK)
            rc = jsonx_put_number(b, x->shap, 6, err);
        if (rc == PX_OK)
            rc = jsonx_put_member(b, "text", x->text, false, err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, "}");
    }
    return rc == PX_OK ? buf_printf(b, err, "]") : rc;
}

int app_prop_notes_put(struct buf *b, const struct app_score_view *v, struct px_err *err)
{
    if (v->n_notes == 0) {
        return PX_OK;
    }
    int rc = jsonx_put_key(b, "notes", false, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, "[");
    for (size_t i = 0; rc == PX_OK && i < v->n_notes; i++) {
        if (i)
            rc = buf_printf(b, err, ", ");
        if (rc == PX_OK)
            rc = jsonx_put_cstr(b, v->notes[i], err);
    }
    return rc == PX_OK ? buf_printf(b, err, "]") : rc;
}

// MLflow's answer: {"predictions": [..], "model", "version", "id", "threshold"[, "notes"]}.
static int mlflow_json(const struct app_prop_scores *s, struct buf *b, struct px_err *err)
{
    const struct app_score_view *v = &s->v;
    int rc = buf_printf(b, err, "{\"predictions\": [");
    for (size_t i = 0; rc == PX_OK && i < v->n_rows; i++) {
        const struct app_score_row *r = &v->rows[i];
        rc = buf_printf(b, err, i ? ",\n {" : "\n {");
        if (rc == PX_OK)
            rc = jsonx_put_member(b, "id", r->id, true, err);
        if (rc == PX_OK)
            rc = jsonx_put_key(b, "probability", false, err);
        if (rc == PX_OK)
            rc = jsonx_put_number(b, r->probability, 6, err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, ", \"label\": %d", r->label);
        if (rc == PX_OK && v->has_target) {
            rc = r->actual < 0 ? buf_printf(b, err, ", \"actual\": null")
                               : buf_printf(b, err, ", \"actual\": %d", r->actual);
        }
        if (rc == PX_OK)
            rc = app_prop_reasons_put(b, v, r, err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, "}");
    }
    if (rc == PX_OK)
        rc = buf_printf(b, err, "]");
    if (rc == PX_OK)
        rc = jsonx_put_member(b, "model", v->model->name, false, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ", \"version\": %d", v->model->version);
    if (rc == PX_OK)
        rc = jsonx_put_member(b, "id", v->model->id, false, err);
    if (rc == PX_OK)
        rc = jsonx_put_key(b, "threshold", false, err);
    if (rc == PX_OK)
        rc = jsonx_put_number(b, v->model->threshold, 6, err);
    if (rc == PX_OK)
        rc = app_prop_notes_put(b, v, err);
    return rc == PX_OK ? buf_printf(b, err, "}") : rc;
}

int app_prop_handle_score_request(struct app_prop_handle *h, struct app_score_request *rq,
                                  bool mlflow, struct buf *out, struct px_err *err)
{
    const struct app_prop_model *m = app_prop_handle_model(h);
    pthread_mutex_t *lock = app_prop_handle_lock(h);
    struct app_prop_data *d = NULL;
    struct app_prop_scores *s = NULL;
    char **notes = NULL;
    size_t n_notes = 0;
    float *prob = NULL;
    int rc = app_prop_data_request(m, rq, &d, &notes, &n_notes, err);
    if (rc == PX_OK) {
        prob = px_malloc(app_prop_data_rows(d) * sizeof *prob);
        rc = prob != NULL ? app_prop_predict(m, d, prob, lock, err) : oom(err);
    }
    if (rc == PX_OK) {
        rc = app_prop_scores_make(m, d, prob, &rq->score, &s, err);
        prob = NULL; // taken
    }
    if (rc == PX_OK) {
        s->notes = notes;
        s->v.notes = (const char *const *)notes;
        s->v.n_notes = n_notes;
        notes = NULL; // taken
        rc = app_prop_scores_reasons_locked(m, d, s, rq->reasons, lock, err);
    }
    if (rc == PX_OK)
        rc = mlflow ? mlflow_json(s, out, err) : app_prop_scores_json(s, out, err);
    for (size_t i = 0; notes != NULL && i < n_notes; i++) {
        px_free(notes[i]);
    }
    px_free(notes);
    px_free(prob);
    app_prop_scores_free(s);
    app_prop_data_free(d);
    return rc;
}

int app_prop_training_data(const struct app_prop_model *m, char *path, size_t n, struct px_err *err)
{
    char run[LIMIT_PATH + 16];
    cJSON *root = NULL;
    snprintf(run, sizeof run, "%s/run.json", m->pm.dir);
    int rc = jsonx_parse_file(run, LIMIT_HTTP_RESPONSE, &root, err);
    if (rc != PX_OK) {
        return rc;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(data, "file");
    if (!cJSON_IsString(file) || file->valuestring[0] == '\0') {
        rc = px_fail(err, PX_ENOENT, "model %s's run record names no training data", m->id);
    } else if (strlen(file->valuestring) >= n) {
        rc = px_fail(err, PX_ELIMIT, "model %s's training data path is too long", m->id);
    } else {
        snprintf(path, n, "%s", file->valuestring);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            rc = px_fail(err, PX_ENOENT, "model %s's training data %s is not readable from here",
                         m->id, path);
        } else {
            fclose(f);
        }
    }
    cJSON_Delete(root);
    return rc;
}
