// propensity_json.c — the JSON documents of the propensity answers (app_prop.h): what the HTTP
// routes /api/models... return and what the CLI prints for --format json, one writer per
// answer, each reading the answer's view (so the CLI's table and CSV show the same data).
//
// Written straight into a bounded buf with the jsonx writers (no DOM: an explanation of 5,000
// rows is 5,000 dependence points per feature). Scores and SHAP values are shown with 6
// significant digits; numbers that are not finite become null. The run record is the file
// as saved, re-written member by member (put_value) with "id" and "version" in front.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app_prop.h"
#include "jsonx.h"
#include "mem.h"
#include "propensity_int.h"

#define DIGITS 6

// The writers below chain on rc: each step runs only while everything before it succeeded.
static int key(struct buf *b, const char *k, bool first, int rc, struct px_err *err)
{
    return rc == PX_OK ? jsonx_put_key(b, k, first, err) : rc;
}

static int num(struct buf *b, double v, int rc, struct px_err *err)
{
    return rc == PX_OK ? jsonx_put_number(b, v, DIGITS, err) : rc;
}

static int str(struct buf *b, const char *s, int rc, struct px_err *err)
{
    if (rc != PX_OK) {
        return rc;
    }
    return s != NULL ? jsonx_put_string(b, s, strlen(s), err) : buf_append(b, "null", 4, err);
}

static int raw(struct buf *b, const char *s, int rc, struct px_err *err)
{
    return rc == PX_OK ? buf_append(b, s, strlen(s), err) : rc;
}

static int integer(struct buf *b, long long v, int rc, struct px_err *err)
{
    return rc == PX_OK ? buf_printf(b, err, "%lld", v) : rc;
}

static int boolean(struct buf *b, bool v, int rc, struct px_err *err)
{
    return raw(b, v ? "true" : "false", rc, err);
}

// {"model", "version", "id", "threshold" — the head every answer starts with (left open).
static int head(struct buf *b, const struct app_prop_info *m, struct px_err *err)
{
    int rc = raw(b, "{", PX_OK, err);
    rc = str(b, m->name, key(b, "model", true, rc, err), err);
    rc = integer(b, m->version, key(b, "version", false, rc, err), err);
    rc = str(b, m->id, key(b, "id", false, rc, err), err);
    return num(b, m->threshold, key(b, "threshold", false, rc, err), err);
}

// ---- scores ----

int app_prop_scores_json(const struct app_prop_scores *s, struct buf *out, struct px_err *err)
{
    const struct app_score_view *v = &s->v;
    int rc = head(out, v->model, err);
    rc = boolean(out, v->potential, key(out, "potential", false, rc, err), err);
    rc = integer(out, (long long)v->n_data, key(out, "n_data", false, rc, err), err);
    rc = integer(out, (long long)v->n_matched, key(out, "n_matched", false, rc, err), err);
    rc = boolean(out, v->out_of_fold, key(out, "out_of_fold", false, rc, err), err);
    rc = raw(out, "[", key(out, "rows", false, rc, err), err);
    for (size_t i = 0; rc == PX_OK && i < v->n_rows; i++) {
        const struct app_score_row *r = &v->rows[i];
        rc = raw(out, i ? ",\n {" : "\n {", rc, err);
        rc = integer(out, (long long)r->row, key(out, "row", true, rc, err), err);
        rc = str(out, r->id, key(out, "id", false, rc, err), err);
        rc = integer(out, (long long)r->line, key(out, "line", false, rc, err), err);
        rc = num(out, r->probability, key(out, "probability", false, rc, err), err);
        rc = integer(out, r->label, key(out, "label", false, rc, err), err);
        if (v->has_target) {
            rc = key(out, "actual", false, rc, err);
            rc = r->actual < 0 ? raw(out, "null", rc, err) : integer(out, r->actual, rc, err);
        }
        rc = rc == PX_OK ? app_prop_reasons_put(out, v, r, err) : rc;
        rc = raw(out, "}", rc, err);
    }
    rc = raw(out, "]", rc, err);
    rc = rc == PX_OK ? app_prop_notes_put(out, v, err) : rc;
    return raw(out, "}", rc, err);
}

// ---- explanations ----

static int explained_row(struct buf *b, const struct app_explain_row *r, bool potential, int rc,
                         struct px_err *err)
{
    rc = raw(b, "{", rc, err);
    rc = str(b, r->name, key(b, "id", true, rc, err), err);
    rc = integer(b, (long long)r->line, key(b, "line", false, rc, err), err);
    rc = num(b, r->probability, key(b, "probability", false, rc, err), err);
    if (!potential) {
        rc = integer(b, r->label, key(b, "label", false, rc, err), err);
        rc = num(b, r->margin, key(b, "margin", false, rc, err), err);
        rc = num(b, r->bias, key(b, "bias", false, rc, err), err);
    }
    rc = str(b, r->tipping_feature, key(b, "tipping_feature", false, rc, err), err);
    if (!potential) {
        rc = raw(b, "[", key(b, "top", false, rc, err), err);
        for (size_t j = 0; j < r->n_top; j++) {
            rc = raw(b, j ? ", {" : "{", rc, err);
            rc = str(b, r->top[j].feature, key(b, "feature", true, rc, err), err);
            rc = num(b, r->top[j].value, key(b, "value", false, rc, err), err);
            rc = num(b, r->top[j].shap, key(b, "shap", false, rc, err), err);
            rc = raw(b, "}", rc, err);
        }
        rc = raw(b, "]", rc, err);
    }
    return raw(b, "}", rc, err);
}

int app_prop_explained_json(const struct app_prop_explained *x, struct buf *out,
                            struct px_err *err)
{
    const struct app_explain_view *v = &x->v;
    int rc = head(out, v->model, err);
    rc = integer(out, (long long)v->n_data, key(out, "n_rows", false, rc, err), err);
    rc = key(out, "max_sum_diff", false, rc, err);
    rc = rc == PX_OK ? jsonx_put_number(out, v->max_sum_diff, 3, err) : rc;
    rc = raw(out, "[", key(out, "global", false, rc, err), err);
    for (size_t i = 0; i < v->n_global; i++) {
        rc = raw(out, i ? ", {" : "{", rc, err);
        rc = str(out, v->global[i].feature, key(out, "feature", true, rc, err), err);
        rc = num(out, v->global[i].mean_abs_shap, key(out, "mean_abs_shap", false, rc, err), err);
        rc = raw(out, "}", rc, err);
    }
    rc = raw(out, "],\n", rc, err);
    rc = raw(out, "[", key(out, "dependence", true, rc, err), err);
    for (size_t i = 0; i < v->n_dependence; i++) {
        const struct app_dependence *d = &v->dependence[i];
        rc = raw(out, i ? ",\n{" : "{", rc, err);
        rc = str(out, d->feature, key(out, "feature", true, rc, err), err);
        rc = raw(out, "[", key(out, "points", false, rc, err), err);
        for (size_t r = 0; rc == PX_OK && r < d->n; r++) {
            rc = raw(out, r ? ",[" : "[", rc, err);
            rc = raw(out, ",", num(out, d->value[r], rc, err), err);
            rc = raw(out, "]", num(out, d->shap[r], rc, err), err);
        }
        rc = raw(out, "]}", rc, err);
    }
    rc = raw(out, "],\n", rc, err);
    rc = raw(out, "[", key(out, "rows", true, rc, err), err);
    for (size_t i = 0; rc == PX_OK && i < v->n_rows; i++) {
        rc = explained_row(out, &v->rows[i], false, raw(out, i ? ",\n " : "\n ", rc, err), err);
    }
    rc = raw(out, "],\n", rc, err);
    rc = raw(out, "[", key(out, "potential", true, rc, err), err);
    for (size_t i = 0; rc == PX_OK && i < v->n_potential; i++) {
        rc = explained_row(out, &v->potential[i], true, raw(out, i ? ",\n " : "\n ", rc, err),
                           err);
    }
    rc = raw(out, "]", rc, err);
    rc = integer(out, (long long)v->n_potential_all, key(out, "n_potential", false, rc, err), err);
    return raw(out, "}", rc, err);
}

// ---- look-alikes ----

static int look_list(struct buf *b, const struct app_look_entry *l, size_t n, bool tipping,
                     int rc, struct px_err *err)
{
    rc = raw(b, "[", rc, err);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        const struct app_look_entry *x = &l[i];
        rc = raw(b, i ? ",\n {" : "\n {", rc, err);
        rc = str(b, x->name, key(b, "id", true, rc, err), err);
        rc = num(b, x->probability, key(b, "probability", false, rc, err), err);
        rc = num(b, x->dist, key(b, "distance", false, rc, err), err);
        rc = str(b, x->near, key(b, "near", false, rc, err), err);
        rc = str(b, x->tipping_feature, key(b, "tipping_feature", false, rc, err), err);
        if (tipping) {
            rc = num(b, x->from, key(b, "from", false, rc, err), err);
            rc = num(b, x->to, key(b, "to", false, rc, err), err);
            rc = num(b, x->to - x->from, key(b, "change", false, rc, err), err);
            rc = num(b, x->new_probability, key(b, "new_probability", false, rc, err), err);
            rc = boolean(b, x->tipped, key(b, "tipped", false, rc, err), err);
            rc = boolean(b, x->above, key(b, "above_threshold", false, rc, err), err);
        }
        rc = raw(b, "}", rc, err);
    }
    return raw(b, "]", rc, err);
}

static int tip_summary(struct buf *b, size_t rows, size_t tipped, double avg,
                       const struct app_tip_feature *by, size_t n_by, int rc, struct px_err *err)
{
    rc = raw(b, "{", rc, err);
    rc = integer(b, (long long)rows, key(b, "rows", true, rc, err), err);
    rc = integer(b, (long long)tipped, key(b, "tipped", false, rc, err), err);
    rc = num(b, avg, key(b, "avg_change", false, rc, err), err);
    rc = raw(b, "[", key(b, "by_feature", false, rc, err), err);
    for (size_t i = 0; rc == PX_OK && i < n_by; i++) {
        rc = raw(b, i ? ", {" : "{", rc, err);
        rc = str(b, by[i].feature, key(b, "feature", true, rc, err), err);
        rc = str(b, by[i].type, key(b, "type", false, rc, err), err);
        rc = integer(b, (long long)by[i].rows, key(b, "rows", false, rc, err), err);
        rc = integer(b, (long long)by[i].tipped, key(b, "tipped", false, rc, err), err);
        rc = num(b, by[i].avg_change, key(b, "avg_change", false, rc, err), err);
        rc = raw(b, "}", rc, err);
    }
    rc = raw(b, "]", rc, err);
    return raw(b, "}", rc, err);
}

int app_prop_look_json(const struct app_prop_look *l, struct buf *out, struct px_err *err)
{
    const struct app_look_view *v = &l->v;
    int rc = head(out, v->model, err);
    rc = integer(out, (long long)v->k, key(out, "k", false, rc, err), err);
    rc = str(out, v->vectors, key(out, "vectors", false, rc, err), err);
    rc = boolean(out, v->text_vectors, key(out, "text_vectors", false, rc, err), err);
    rc = str(out, v->fixed, key(out, "fixed", false, rc, err), err);
    rc = raw(out, ",\n", rc, err);
    rc = look_list(out, v->a, v->n_a, v->tipping, key(out, "list_a", true, rc, err), err);
    rc = raw(out, ",\n", rc, err);
    rc = look_list(out, v->b, v->n_b, v->tipping, key(out, "list_b", true, rc, err), err);
    if (v->tipping) {
        rc = raw(out, ",\n", rc, err);
        rc = raw(out, "{", key(out, "summary", true, rc, err), err);
        rc = tip_summary(out, v->n_a, v->tipped_a, v->avg_a, v->by_a, v->n_by_a,
                         key(out, "a", true, rc, err), err);
        rc = tip_summary(out, v->n_b, v->tipped_b, v->avg_b, v->by_b, v->n_by_b,
                         key(out, "b", false, rc, err), err);
        rc = raw(out, "}", rc, err);
    }
    return raw(out, "}", rc, err);
}

// ---- runs ----

static int metrics5(struct buf *b, const double *m, int rc, struct px_err *err)
{
    rc = raw(b, "{", rc, err);
    for (int i = 0; i < APP_PROP_N_METRICS; i++) {
        rc = num(b, m[i], key(b, app_prop_metric_names[i], i == 0, rc, err), err);
    }
    return raw(b, "}", rc, err);
}

int app_prop_runs_json(const struct app_prop_runs *r, struct buf *out, struct px_err *err)
{
    const struct app_runs_view *v = &r->v;
    int rc = raw(out, "{", PX_OK, err);
    rc = raw(out, "[", key(out, "models", true, rc, err), err);
    for (size_t i = 0; rc == PX_OK && i < v->n; i++) {
        const struct app_prop_run *x = &v->runs[i];
        rc = raw(out, i ? ",\n {" : "\n {", rc, err);
        rc = str(out, x->id, key(out, "id", true, rc, err), err);
        rc = str(out, x->name, key(out, "name", false, rc, err), err);
        rc = integer(out, x->version, key(out, "version", false, rc, err), err);
        rc = str(out, x->created, key(out, "created", false, rc, err), err);
        rc = num(out, x->threshold, key(out, "threshold", false, rc, err), err);
        rc = metrics5(out, x->cv, key(out, "cv", false, rc, err), err);
        rc = metrics5(out, x->test, key(out, "test", false, rc, err), err);
        rc = raw(out, "}", rc, err);
    }
    rc = raw(out, "]", rc, err);
    rc = integer(out, (long long)v->skipped, key(out, "skipped", false, rc, err), err);
    if (v->metric != NULL) {
        rc = raw(out, "{", key(out, "best", false, rc, err), err);
        rc = str(out, v->metric, key(out, "metric", true, rc, err), err);
        rc = str(out, v->split, key(out, "split", false, rc, err), err);
        rc = raw(out, "}", rc, err);
    }
    return raw(out, "}", rc, err);
}

// A parsed value written back with the jsonx writers (numbers with the digits that read back
// as the same double).
static int put_value(struct buf *b, const cJSON *v, int depth, struct px_err *err)
{
    if (depth > 64) {
        return px_fail(err, PX_ELIMIT, "the run record nests deeper than 64 levels");
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        bool obj = cJSON_IsObject(v), first = true;
        int rc = buf_append(b, obj ? "{" : "[", 1, err);
        const cJSON *c = NULL;
        cJSON_ArrayForEach(c, v)
        {
            rc = obj ? key(b, c->string, first, rc, err) : raw(b, first ? "" : ", ", rc, err);
            first = false;
            if (rc == PX_OK)
                rc = put_value(b, c, depth + 1, err);
        }
        return raw(b, obj ? "}" : "]", rc, err);
    }
    if (cJSON_IsString(v)) {
        return str(b, v->valuestring, PX_OK, err);
    }
    if (cJSON_IsNumber(v)) {
        return jsonx_put_number(b, v->valuedouble, JSONX_ROUND_TRIP, err);
    }
    return raw(b, cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null", PX_OK, err);
}

int app_prop_run_json(const char *registry, const char *ref, struct buf *out, struct px_err *err)
{
    // Loading the model checks the record's format and the model's checksum, and resolves
    // "NAME" to its version; the record is then read as written.
    struct app_prop_model *m = NULL;
    cJSON *run = NULL;
    int rc = app_prop_load(registry, ref, 1, &m, err);
    if (rc == PX_OK) {
        char path[LIMIT_PATH + 64];
        snprintf(path, sizeof path, "%s/run.json", m->pm.dir);
        rc = jsonx_parse_file(path, 64u << 20, &run, err);
    }
    if (rc == PX_OK && !cJSON_IsObject(run)) {
        rc = px_fail(err, PX_EFORMAT, "%s: run.json is not an object", m->id);
    }
    if (rc == PX_OK) {
        // "id" and "version" first: the record has no version (the registry numbers the
        // directory when it publishes), and an older record's would be stale
        rc = raw(out, "{", rc, err);
        rc = str(out, m->id, key(out, "id", true, rc, err), err);
        rc = integer(out, m->pm.version, key(out, "version", false, rc, err), err);
        const cJSON *c = NULL;
        cJSON_ArrayForEach(c, run)
        {
            if (strcmp(c->string, "id") == 0 || strcmp(c->string, "version") == 0) {
                continue;
            }
            rc = key(out, c->string, false, rc, err);
            if (rc == PX_OK)
                rc = put_value(out, c, 1, err);
        }
        rc = raw(out, "}", rc, err);
    }
    cJSON_Delete(run);
    app_prop_model_free(m);
    return rc;
}
