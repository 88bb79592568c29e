// propensity_json.c — the JSON answers of the propensity calls (app.h), the bodies the HTTP routes
// /api/models... return. Written straight into a bounded buf (no DOM: an explanation of 5,000
// rows is 5,000 dependence points per feature); strings go through jsonx_put_string, numbers
// that are not finite become null.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "jsonx.h"
#include "mem.h"

static int num(struct buf *b, double v, struct px_err *err)
{
    return isfinite(v) ? buf_printf(b, err, "%.6g", v) : buf_append(b, "null", 4, err);
}

static int str(struct buf *b, const char *s, struct px_err *err)
{
    return jsonx_put_string(b, s, strlen(s), err);
}

static int head(struct buf *b, const struct propmodel_model *m, struct px_err *err)
{
    int rc = buf_printf(b, err, "{\"model\": ");
    if (rc == PX_OK)
        rc = str(b, m->name, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ", \"version\": %d, \"id\": ", m->version);
    char id[128];
    snprintf(id, sizeof id, "%s@%d", m->name, m->version);
    if (rc == PX_OK)
        rc = str(b, id, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ", \"threshold\": ");
    if (rc == PX_OK)
        rc = num(b, m->threshold, err);
    return rc;
}

static int row_id(struct buf *b, const struct ml_dataset *ds, size_t r, struct px_err *err)
{
    char name[300];
    return str(b, ml_dataset_row_name(ds, r, name, sizeof name), err);
}

static int metrics5(struct buf *b, const double *v, struct px_err *err)
{
    int rc = buf_append(b, "{", 1, err);
    for (int i = 0; rc == PX_OK && i < 5; i++) {
        rc = buf_printf(b, err, "%s\"%s\": ", i ? ", " : "", propmodel_metric_names[i]);
        if (rc == PX_OK)
            rc = num(b, v[i], err);
    }
    if (rc == PX_OK)
        rc = buf_append(b, "}", 1, err);
    return rc;
}

int app_prop_runs_json(const char *registry, struct buf *out, struct px_err *err)
{
    struct propmodel_run *runs = NULL;
    size_t n = 0, n_bad = 0;
    int rc =
        propmodel_list(app_registry_dir(registry), NULL, &runs, &n, &n_bad, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, "{\"models\": [");
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        char id[128];
        snprintf(id, sizeof id, "%s@%d", runs[i].name, runs[i].version);
        rc = buf_printf(out, err, "%s\n {\"id\": ", i ? "," : "");
        if (rc == PX_OK)
            rc = str(out, id, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"name\": ");
        if (rc == PX_OK)
            rc = str(out, runs[i].name, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"version\": %d, \"created\": ", runs[i].version);
        if (rc == PX_OK)
            rc = str(out, runs[i].created, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"threshold\": ");
        if (rc == PX_OK)
            rc = num(out, runs[i].threshold, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"cv\": ");
        if (rc == PX_OK)
            rc = metrics5(out, runs[i].cv, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"test\": ");
        if (rc == PX_OK)
            rc = metrics5(out, runs[i].test, err);
        if (rc == PX_OK)
            rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "], \"skipped\": %zu}", n_bad);
    px_free(runs);
    return rc;
}

int app_prop_run_json(const char *registry, const char *ref, struct buf *out, struct px_err *err)
{
    // Loading the model checks the record's format and the model's checksum, and resolves
    // "NAME" to its newest version; the record is then read as written.
    struct propmodel_model m;
    cJSON *run = NULL;
    char *text = NULL;
    int rc = app_prop_load(registry, ref, 1, &m, err);
    if (rc == PX_OK) {
        char path[4200];
        snprintf(path, sizeof path, "%s/run.json", m.dir);
        rc = jsonx_parse_file(path, 64u << 20, &run, err);
    }
    if (rc == PX_OK) {
        char id[128];
        snprintf(id, sizeof id, "%s@%d", m.name, m.version);
        cJSON_DeleteItemFromObjectCaseSensitive(run, "id");
        cJSON_DeleteItemFromObjectCaseSensitive(run, "version"); // the registry's number
        if (cJSON_AddStringToObject(run, "id", id) == NULL ||
            cJSON_AddNumberToObject(run, "version", m.version) == NULL ||
            (text = cJSON_PrintUnformatted(run)) == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        }
    }
    if (rc == PX_OK)
        rc = buf_append(out, text, strlen(text), err);
    cJSON_free(text);
    cJSON_Delete(run);
    propmodel_model_free(&m);
    return rc;
}

int app_prop_score_json(const struct propmodel_model *m, const struct ml_dataset *ds,
                        const float *prob, struct buf *out, struct px_err *err)
{
    int rc = head(out, m, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"rows\": [");
    for (size_t r = 0; rc == PX_OK && r < ds->n_rows; r++) {
        rc = buf_printf(out, err, "%s{\"row\": %zu, \"id\": ", r ? ", " : "", r);
        if (rc == PX_OK)
            rc = ds->id && ds->id[r] && ds->id[r][0] ? row_id(out, ds, r, err)
                                                     : buf_printf(out, err, "null");
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"probability\": ");
        if (rc == PX_OK)
            rc = num(out, prob[r], err);
        if (rc == PX_OK) {
            rc = buf_printf(out, err, ", \"label\": %d}", prob[r] >= m->threshold ? 1 : 0);
        }
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "]}");
    return rc;
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

static int feature_name(struct buf *b, const struct propmodel_model *m, size_t f, struct px_err *err)
{
    return f == SIZE_MAX ? buf_append(b, "null", 4, err) : str(b, m->spec.features[f].name, err);
}

int app_prop_explain_json(const struct propmodel_model *m, const struct ml_dataset *ds,
                          const struct ml_explanation *e, const char *const *dep, size_t n_dep,
                          size_t n_rows, struct buf *out, struct px_err *err)
{
    size_t nf = e->n_features, n = e->n_rows;
    size_t *fo = px_malloc((nf ? nf : 1) * sizeof *fo);
    size_t *ro = px_malloc((n ? n : 1) * sizeof *ro);
    double *pd = px_malloc((n ? n : 1) * sizeof *pd);
    size_t *dep_f = px_malloc((n_dep ? n_dep : 1) * sizeof *dep_f);
    int rc = PX_OK;
    if (!fo || !ro || !pd || !dep_f) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == PX_OK && i < n_dep; i++) {
        dep_f[i] = SIZE_MAX;
        for (size_t f = 0; f < nf; f++) {
            if (strcmp(m->spec.features[f].name, dep[i]) == 0) {
                dep_f[i] = f;
            }
        }
        if (dep_f[i] == SIZE_MAX) {
            rc = px_fail(err, PX_EINVAL, "feature '%.64s': the model has no such feature", dep[i]);
        }
    }
    if (rc == PX_OK) {
        for (size_t f = 0; f < nf; f++) {
            fo[f] = f;
        }
        qsort_r(fo, nf, sizeof *fo, cmp_desc, e->mean_abs);
        for (size_t r = 0; r < n; r++) {
            ro[r] = r;
            pd[r] = e->prob[r];
        }
        qsort_r(ro, n, sizeof *ro, cmp_desc, pd);
        rc = head(out, m, err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"n_rows\": %zu, \"global\": [", n);
    for (size_t i = 0; rc == PX_OK && i < nf; i++) {
        rc = buf_printf(out, err, "%s{\"feature\": ", i ? ", " : "");
        if (rc == PX_OK)
            rc = str(out, m->spec.features[fo[i]].name, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"mean_abs_shap\": ");
        if (rc == PX_OK)
            rc = num(out, e->mean_abs[fo[i]], err);
        if (rc == PX_OK)
            rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "],\n\"dependence\": [");
    for (size_t i = 0; rc == PX_OK && i < n_dep; i++) {
        size_t f = dep_f[i];
        rc = buf_printf(out, err, "%s{\"feature\": ", i ? ",\n" : "");
        if (rc == PX_OK)
            rc = str(out, m->spec.features[f].name, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"points\": [");
        for (size_t r = 0; rc == PX_OK && r < n; r++) {
            rc = buf_printf(out, err, "%s[", r ? "," : "");
            if (rc == PX_OK)
                rc = num(out, ds->x[r * nf + f], err);
            if (rc == PX_OK)
                rc = buf_append(out, ",", 1, err);
            if (rc == PX_OK)
                rc = num(out, e->contrib[r * (nf + 1) + f], err);
            if (rc == PX_OK)
                rc = buf_append(out, "]", 1, err);
        }
        if (rc == PX_OK)
            rc = buf_printf(out, err, "]}");
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "],\n\"rows\": [");
    size_t shown = n_rows < n ? n_rows : n;
    for (size_t i = 0; rc == PX_OK && i < shown; i++) {
        size_t r = ro[i], idx[5];
        size_t k = ml_explain_top(e, r, nf < 5 ? nf : 5, NULL, idx);
        rc = buf_printf(out, err, "%s\n {\"id\": ", i ? "," : "");
        if (rc == PX_OK)
            rc = row_id(out, ds, r, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"probability\": ");
        if (rc == PX_OK)
            rc = num(out, e->prob[r], err);
        if (rc == PX_OK) {
            rc = buf_printf(out, err, ", \"label\": %d, \"tipping_feature\": ",
                            e->prob[r] >= m->threshold ? 1 : 0);
        }
        if (rc == PX_OK)
            rc = feature_name(out, m, app_prop_tipping_feature(m, e, r), err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"top\": [");
        for (size_t j = 0; rc == PX_OK && j < k; j++) {
            rc = buf_printf(out, err, "%s{\"feature\": ", j ? ", " : "");
            if (rc == PX_OK)
                rc = str(out, m->spec.features[idx[j]].name, err);
            if (rc == PX_OK)
                rc = buf_printf(out, err, ", \"value\": ");
            if (rc == PX_OK)
                rc = num(out, ds->x[r * nf + idx[j]], err);
            if (rc == PX_OK)
                rc = buf_printf(out, err, ", \"shap\": ");
            if (rc == PX_OK)
                rc = num(out, e->contrib[r * (nf + 1) + idx[j]], err);
            if (rc == PX_OK)
                rc = buf_append(out, "}", 1, err);
        }
        if (rc == PX_OK)
            rc = buf_append(out, "]}", 2, err);
    }
    // the potential list: negatives the model already scores at or above the threshold
    if (rc == PX_OK)
        rc = buf_printf(out, err, "],\n\"potential\": [");
    size_t n_pot = 0;
    for (size_t i = 0; rc == PX_OK && i < n && n_pot < n_rows && ds->y != NULL; i++) {
        size_t r = ro[i];
        if (ds->y[r] != 0.0f || e->prob[r] < m->threshold) {
            continue;
        }
        rc = buf_printf(out, err, "%s\n {\"id\": ", n_pot ? "," : "");
        if (rc == PX_OK)
            rc = row_id(out, ds, r, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"probability\": ");
        if (rc == PX_OK)
            rc = num(out, e->prob[r], err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"tipping_feature\": ");
        if (rc == PX_OK)
            rc = feature_name(out, m, app_prop_tipping_feature(m, e, r), err);
        if (rc == PX_OK)
            rc = buf_append(out, "}", 1, err);
        n_pot++;
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "]}");
    px_free(fo);
    px_free(ro);
    px_free(pd);
    px_free(dep_f);
    return rc;
}

static int look_list(struct buf *b, const struct propmodel_model *m, const struct ml_dataset *ds,
                     const struct ml_explanation *e, const struct app_look_entry *l, size_t n,
                     bool tipping, struct px_err *err)
{
    int rc = buf_append(b, "[", 1, err);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        const struct app_look_entry *x = &l[i];
        rc = buf_printf(b, err, "%s\n {\"id\": ", i ? "," : "");
        if (rc == PX_OK)
            rc = row_id(b, ds, x->row, err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, ", \"probability\": ");
        if (rc == PX_OK)
            rc = num(b, e->prob[x->row], err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, ", \"distance\": ");
        if (rc == PX_OK)
            rc = num(b, x->dist, err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, ", \"near\": ");
        if (rc == PX_OK)
            rc = isnan(x->dist) ? buf_append(b, "null", 4, err) : row_id(b, ds, x->near, err);
        if (rc == PX_OK)
            rc = buf_printf(b, err, ", \"tipping_feature\": ");
        if (rc == PX_OK)
            rc = feature_name(b, m, x->feat, err);
        if (rc == PX_OK && tipping) {
            rc = buf_printf(b, err, ", \"from\": ");
            if (rc == PX_OK)
                rc = num(b, x->tip.from, err);
            if (rc == PX_OK)
                rc = buf_printf(b, err, ", \"to\": ");
            if (rc == PX_OK)
                rc = num(b, x->tip.to, err);
            if (rc == PX_OK)
                rc = buf_printf(b, err, ", \"change\": ");
            if (rc == PX_OK)
                rc = num(b, x->tip.to - x->tip.from, err);
            if (rc == PX_OK)
                rc = buf_printf(b, err, ", \"new_probability\": ");
            if (rc == PX_OK)
                rc = num(b, x->tip.p_after, err);
            if (rc == PX_OK)
                rc = buf_printf(b, err, ", \"tipped\": %s", x->tip.tipped ? "true" : "false");
        }
        if (rc == PX_OK)
            rc = buf_append(b, "}", 1, err);
    }
    if (rc == PX_OK)
        rc = buf_append(b, "]", 1, err);
    return rc;
}

int app_prop_look_json(const struct propmodel_model *m, const struct ml_dataset *ds,
                       const struct ml_explanation *e, const struct app_look *l, bool tipping,
                       struct buf *out, struct px_err *err)
{
    int rc = head(out, m, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"vectors\": ");
    if (rc == PX_OK)
        rc = str(out, l->vectors, err);
    if (rc == PX_OK) {
        rc = buf_printf(
            out, err, ", \"text_vectors\": %s,\n\"list_a\": ", l->text_vectors ? "true" : "false");
    }
    if (rc == PX_OK)
        rc = look_list(out, m, ds, e, l->a, l->n_a, tipping, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, ",\n\"list_b\": ");
    if (rc == PX_OK)
        rc = look_list(out, m, ds, e, l->b, l->n_b, tipping, err);
    if (rc == PX_OK && tipping) {
        rc = buf_printf(out, err,
                        ",\n\"summary\": {\"a\": {\"rows\": %zu, \"tipped\": %zu, "
                        "\"avg_change\": ",
                        l->n_a, l->tipped_a);
        if (rc == PX_OK)
            rc = num(out, l->avg_a, err);
        if (rc == PX_OK) {
            rc = buf_printf(out, err,
                            "}, \"b\": {\"rows\": %zu, \"tipped\": %zu, \"avg_change\": ", l->n_b,
                            l->tipped_b);
        }
        if (rc == PX_OK)
            rc = num(out, l->avg_b, err);
        if (rc == PX_OK)
            rc = buf_append(out, "}}", 2, err);
    }
    if (rc == PX_OK)
        rc = buf_append(out, "}", 1, err);
    return rc;
}
