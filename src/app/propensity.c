// propensity.c — the propensity-model calls of the façade (app.h): train, load, score, explain,
// look-alikes and tipping points over src/ml, shared by the CLI commands and the HTTP routes.
//
// Look-alike vectors. The issue asks for each row rendered to profile text and embedded with the
// sentence-transformer, as the customer index does (text/rowtext.h: "Label: value, ..."; labels
// from coltype_label, values formatted by the column's type). The columns are the model's source
// columns less the id (a random string would only add noise) and the target (listing it would
// make every positive unlike every negative by construction). When the weights are missing the
// standardised model features are used instead, and out->vectors says so and why — every output
// (CLI table / JSON / CSV, HTTP) carries that line. Embeddings are unit vectors, so the Euclidean
// distance ml_lookalikes uses orders pairs as cosine similarity does.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_encoder.h"
#include "app_prop.h"
#include "app_registry.h"
#include "propensity_int.h"
#include "csvread.h"
#include "jsonx.h"
#include "mem.h"
#include "rowtext.h"
#include "sha256.h"

// ---- model references and loading ----

static const char *root_of(const char *registry)
{
    return app_registry_dir(registry != NULL && registry[0] != '\0' ? registry : NULL);
}

int app_prop_load(const char *registry, const char *ref, int n_threads, struct propmodel_model *out,
                  struct px_err *err)
{
    memset(out, 0, sizeof *out);
    if (ref == NULL || ref[0] == '\0') {
        return px_fail(err, PX_EINVAL,
                       "a model reference is NAME, NAME/VERSION, NAME@VERSION or NAME@STAGE");
    }
    // the registry reads all four forms and verifies every file before the model is used
    return propmodel_load(root_of(registry), ref, n_threads, out, err);
}

// ---- training ----

int app_train(const struct app_train_params *p, ml_progress_fn progress, void *user,
              struct app_trained *out, struct px_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = sha256_file_hex(p->csv, out->sha256, err);
    if (rc == PX_OK)
        rc = ml_dataset_build(p->csv, &p->build, &out->spec, &out->ds, err);
    if (rc == PX_OK)
        rc = ml_experiment_run(&out->ds, &p->exp, progress, user, &out->e, err);
    if (rc == PX_OK) {
        struct propmodel_save_info info = {.data_path = p->csv,
                                          .data_sha256 = out->sha256,
                                          .n_rows = out->ds.n_rows,
                                          .n_pos = out->ds.n_pos};
        rc = propmodel_save(root_of(p->registry), p->name, &out->spec, &p->exp, &out->e, &info,
                           &out->version, err);
    }
    if (rc != PX_OK) {
        app_trained_free(out);
    }
    return rc;
}

void app_trained_free(struct app_trained *t)
{
    if (t == NULL) {
        return;
    }
    ml_experiment_free(&t->e);
    ml_dataset_free(&t->ds);
    ml_spec_free(&t->spec);
    memset(t, 0, sizeof *t);
}

// ---- data, scores, explanations ----

int app_prop_data(const struct propmodel_model *m, const char *csv, bool need_target,
                  struct ml_dataset *ds, struct px_err *err)
{
    return ml_dataset_apply(csv, &m->spec, need_target, ds, err);
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

// Appends s as one CSV field (always quoted, quotes doubled).
static int csv_field(struct buf *b, const char *s, struct px_err *err)
{
    int rc = buf_append(b, "\"", 1, err);
    for (const char *q = s; rc == PX_OK && *q; q++) {
        rc = buf_append(b, q, 1, err);
        if (rc == PX_OK && *q == '"')
            rc = buf_append(b, "\"", 1, err);
    }
    if (rc == PX_OK)
        rc = buf_append(b, "\"", 1, err);
    return rc;
}

// The model's columns (distinct), in feature order, then the id and target: the CSV header the
// JSON rows are written under. names: returns owned array of borrowed strings (px_free).
static int model_columns(const struct ml_spec *s, const char ***names, size_t *n,
                         struct px_err *err)
{
    const char **v = px_malloc((s->n_features + 2) * sizeof *v);
    size_t k = 0;
    if (v == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t f = 0; f < s->n_features; f++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++) {
            seen = strcmp(v[j], s->features[f].column) == 0;
        }
        if (!seen) {
            v[k++] = s->features[f].column;
        }
    }
    if (s->id_column) {
        v[k++] = s->id_column;
    }
    v[k++] = s->target;
    *names = v;
    *n = k;
    return PX_OK;
}

int app_prop_rows_json(const struct propmodel_model *m, const char *body, size_t len,
                       struct ml_dataset *ds, struct px_err *err)
{
    cJSON *root = NULL;
    const char **cols = NULL;
    size_t n_cols = 0;
    struct buf csv;
    buf_init(&csv, LIMIT_HTTP_RESPONSE);
    memset(ds, 0, sizeof *ds);
    int rc = jsonx_parse(body, len, "request body", &root, err);
    const cJSON *rows = root;
    if (rc == PX_OK && cJSON_IsObject(root)) {
        rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    }
    if (rc == PX_OK && !cJSON_IsArray(rows)) {
        rc = px_fail(err, PX_EINVAL, "the body must be {\"rows\": [{column: value, ...}, ...]}");
    }
    size_t n_rows = rc == PX_OK ? (size_t)cJSON_GetArraySize(rows) : 0;
    if (rc == PX_OK && n_rows == 0) {
        rc = px_fail(err, PX_EINVAL, "\"rows\" is empty");
    }
    if (rc == PX_OK && n_rows > LIMIT_PROP_ROWS) {
        rc = px_fail(err, PX_ELIMIT, "%zu rows; the limit is %d (LIMIT_PROP_ROWS)", n_rows,
                     LIMIT_PROP_ROWS);
    }
    if (rc == PX_OK)
        rc = model_columns(&m->spec, &cols, &n_cols, err);
    for (size_t j = 0; rc == PX_OK && j < n_cols; j++) {
        rc = buf_append(&csv, j ? "," : "", j ? 1 : 0, err);
        if (rc == PX_OK)
            rc = csv_field(&csv, cols[j], err);
    }
    if (rc == PX_OK)
        rc = buf_append(&csv, "\n", 1, err);
    size_t i = 0;
    const cJSON *row = NULL;
    cJSON_ArrayForEach(row, rows)
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
            if (rc == PX_OK && !known_column(&m->spec, kv->string)) {
                rc = px_fail(err, PX_EINVAL, "row %zu: '%.64s' is not a column of model %s", i,
                             kv->string, m->name);
            }
            if (rc == PX_OK && !(cJSON_IsNumber(kv) || cJSON_IsString(kv) || cJSON_IsBool(kv) ||
                                 cJSON_IsNull(kv))) {
                rc = px_fail(err, PX_EINVAL,
                             "row %zu: '%.64s' must be a number, string, boolean "
                             "or null",
                             i, kv->string);
            }
        }
        for (size_t j = 0; rc == PX_OK && j < n_cols; j++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, cols[j]);
            char num[40];
            if (j > 0)
                rc = buf_append(&csv, ",", 1, err);
            if (rc != PX_OK || v == NULL || cJSON_IsNull(v)) {
                continue;
            }
            if (cJSON_IsNumber(v)) {
                if (!isfinite(v->valuedouble)) {
                    rc = px_fail(err, PX_EINVAL, "row %zu: '%.64s' is not finite", i, cols[j]);
                    break;
                }
                snprintf(num, sizeof num, "%.17g", v->valuedouble);
                rc = buf_append(&csv, num, strlen(num), err);
            } else if (cJSON_IsBool(v)) {
                rc = buf_append(&csv, cJSON_IsTrue(v) ? "1" : "0", 1, err);
            } else {
                if (strchr(v->valuestring, '\n') || strchr(v->valuestring, '\r')) {
                    rc = px_fail(err, PX_EINVAL, "row %zu: '%.64s' holds a line break", i, cols[j]);
                    break;
                }
                rc = csv_field(&csv, v->valuestring, err);
            }
        }
        if (rc == PX_OK)
            rc = buf_append(&csv, "\n", 1, err);
        i++;
    }
    // Messages from the CSV reader name "line N": the header is line 1, so row i is line i + 2.
    if (rc == PX_OK) {
        rc = ml_dataset_apply_memory(csv.data, csv.len, "rows (line = row + 2)", &m->spec, false,
                                     ds, err);
    }
    px_free(cols);
    buf_free(&csv);
    cJSON_Delete(root);
    return rc;
}

int app_prop_score(const struct propmodel_model *m, const struct ml_dataset *ds, float *prob,
                   struct px_err *err)
{
    return ml_classifier_predict(m->model, ds->x, ds->n_rows, prob, err);
}

int app_prop_explain(const struct propmodel_model *m, const struct ml_dataset *ds,
                     struct ml_explanation *e, struct px_err *err)
{
    return ml_explain(m->model, ds->x, ds->n_rows, e, err);
}

size_t app_prop_tipping_feature(const struct propmodel_model *m, const struct ml_explanation *e,
                                size_t row)
{
    unsigned char skip[LIMIT_CSV_COLUMNS * 4];
    size_t nf = m->spec.n_features, k = 0;
    if (nf > sizeof skip) {
        return SIZE_MAX;
    }
    for (size_t f = 0; f < nf; f++) {
        skip[f] = m->spec.features[f].level != NULL;
    }
    return ml_explain_top(e, row, 1, skip, &k) ? k : SIZE_MAX;
}

// ---- profile texts ----

static enum rowtext_kind kind_of(enum coltype t)
{
    switch (t) {
    case COLTYPE_INTEGER: return ROWTEXT_INTEGER;
    case COLTYPE_REAL: return ROWTEXT_REAL;
    case COLTYPE_CURRENCY: return ROWTEXT_CURRENCY;
    case COLTYPE_PERCENT: return ROWTEXT_PERCENT;
    case COLTYPE_BOOL: return ROWTEXT_BOOL;
    case COLTYPE_LIST: return ROWTEXT_LIST;
    default: return ROWTEXT_TEXT;
    }
}

struct profile {
    const struct ml_dataset *ds;
    size_t n_cols;           // profile columns
    char **name, **label;    // (n_cols) owned
    enum coltype *type;      // (n_cols)
    long *src;               // (n_cols) CSV field of each, -1 until the header is read
    size_t next;             // next data-set row to fill (rows come in line order)
    char **texts;            // (ds->n_rows) owned
    struct rowtext_field *f; // (n_cols) scratch
    char (*date)[11];        // (n_cols) scratch: normalised dates
};

static int profile_record(void *user, size_t index, size_t line, const char *const *f,
                          const size_t *len, size_t n, struct px_err *err)
{
    struct profile *p = user;
    if (index == 0) {
        for (size_t c = 0; c < p->n_cols; c++) {
            for (size_t j = 0; j < n && p->src[c] < 0; j++) {
                const char *h = f[j];
                if (j == 0 && len[j] >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0) {
                    h += 3; // a BOM the reader left on the first header
                }
                if (strcmp(h, p->name[c]) == 0) {
                    p->src[c] = (long)j;
                }
            }
            if (p->src[c] < 0) {
                return px_fail(err, PX_EFORMAT, "no column '%s'", p->name[c]);
            }
        }
        return PX_OK;
    }
    if (p->next >= p->ds->n_rows || p->ds->line[p->next] != line) {
        return PX_OK; // not a row of the data set (the dataset reader decides which are)
    }
    struct buf text;
    buf_init(&text, LIMIT_CSV_ROW_BYTES);
    for (size_t c = 0; c < p->n_cols; c++) {
        size_t j = (size_t)p->src[c];
        const char *s = j < n ? f[j] : "";
        size_t sl = j < n ? len[j] : 0;
        struct coltype_value v;
        const char *why = NULL;
        p->f[c] = (struct rowtext_field){p->name[c], p->label[c], kind_of(p->type[c]), NULL, 0};
        if (sl == 0 || coltype_parse(p->type[c], s, sl, &v, &why) != PX_OK || v.missing) {
            continue; // missing (or not parseable: the dataset reader has rejected those already)
        }
        p->f[c].value = s;
        if (p->type[c] == COLTYPE_DATE) {
            memcpy(p->date[c], v.date, sizeof v.date);
            p->f[c].value = p->date[c];
        } else if (strcmp(coltype_sql_type(p->type[c]), "INTEGER") == 0) {
            p->f[c].num = (double)v.i;
        } else if (strcmp(coltype_sql_type(p->type[c]), "REAL") == 0) {
            p->f[c].num = v.d;
        }
    }
    int rc = rowtext_render(NULL, p->f, p->n_cols, &text, err);
    if (rc == PX_OK)
        rc = buf_append(&text, "", 1, err); // NUL
    if (rc == PX_OK) {
        p->texts[p->next++] = buf_take(&text);
    }
    buf_free(&text);
    return rc;
}

// Does feature k open a profile column? Its column, once, less the target and the id.
static bool profile_takes(const struct ml_spec *s, size_t k)
{
    const char *col = s->features[k].column;
    if (strcmp(col, s->target) == 0 || (s->id_column && strcmp(col, s->id_column) == 0)) {
        return false;
    }
    for (size_t j = 0; j < k; j++) {
        if (strcmp(s->features[j].column, col) == 0) {
            return false;
        }
    }
    return true;
}

int app_prop_profile_key(const struct ml_spec *s, struct buf *out, struct px_err *err)
{
    int rc = PX_OK;
    for (size_t k = 0; rc == PX_OK && k < s->n_features; k++) {
        if (profile_takes(s, k)) {
            rc = buf_printf(out, err, "%s\x1f%d\x1e", s->features[k].column,
                            (int)s->features[k].type);
        }
    }
    return rc;
}

int app_prop_profile_texts(const struct propmodel_model *m, const char *csv,
                           const struct ml_dataset *ds, char ***texts, struct px_err *err)
{
    const struct ml_spec *s = &m->spec;
    struct profile p;
    memset(&p, 0, sizeof p);
    p.ds = ds;
    *texts = NULL;
    int rc = PX_ENOMEM;
    size_t nf = s->n_features;
    p.name = px_calloc(nf + 1, sizeof *p.name);
    p.label = px_calloc(nf + 1, sizeof *p.label);
    p.type = px_calloc(nf + 1, sizeof *p.type);
    p.src = px_calloc(nf + 1, sizeof *p.src);
    p.f = px_calloc(nf + 1, sizeof *p.f);
    p.date = px_calloc(nf + 1, sizeof *p.date);
    p.texts = px_calloc(ds->n_rows ? ds->n_rows : 1, sizeof *p.texts);
    if (!p.name || !p.label || !p.type || !p.src || !p.f || !p.date || !p.texts) {
        px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < nf; k++) {
        const struct ml_feature *ft = &s->features[k];
        if (!profile_takes(s, k)) {
            continue;
        }
        char label[LIMIT_CSV_NAME_BYTES];
        coltype_label(ft->column, label, sizeof label);
        p.name[p.n_cols] = px_strdup(ft->column);
        p.label[p.n_cols] = px_strdup(label);
        if (!p.name[p.n_cols] || !p.label[p.n_cols]) {
            px_free(p.name[p.n_cols]);
            px_free(p.label[p.n_cols]);
            p.name[p.n_cols] = p.label[p.n_cols] = NULL;
            px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        p.type[p.n_cols] = ft->type;
        p.src[p.n_cols] = -1;
        p.n_cols++;
    }
    rc = csvread_file(csv, profile_record, &p, err);
    if (rc == PX_OK && p.next != ds->n_rows) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s: %zu of %zu rows matched while rendering profiles "
                     "(the file changed?)",
                     csv, p.next, ds->n_rows);
    }
    if (rc == PX_OK) {
        *texts = p.texts;
        p.texts = NULL;
    }
done:
    for (size_t c = 0; c < p.n_cols; c++) {
        px_free(p.name[c]);
        px_free(p.label[c]);
    }
    if (p.texts != NULL) {
        for (size_t r = 0; r < ds->n_rows; r++) {
            px_free(p.texts[r]);
        }
    }
    px_free(p.texts);
    px_free(p.name);
    px_free(p.label);
    px_free(p.type);
    px_free(p.src);
    px_free(p.f);
    px_free(p.date);
    return rc;
}

// ---- look-alikes and tipping ----

struct app_look_params app_look_default_params(void)
{
    return (struct app_look_params){.k = 1, .real_step = NAN, .n_threads = 1};
}

void app_look_free(struct app_look *l)
{
    if (l == NULL) {
        return;
    }
    px_free(l->a);
    px_free(l->b);
    memset(l, 0, sizeof *l);
}

int app_prop_text_vectors(const struct propmodel_model *m, const char *csv,
                          const struct ml_dataset *ds, const struct app_look_params *p, float **vec,
                          size_t *dim, char *dir, size_t n_dir, struct px_err *err)
{
    struct embedder *emb = NULL;
    struct embed_ctx *ctx = NULL;
    char **texts = NULL;
    size_t *lens = NULL;
    size_t n = ds->n_rows;
    *vec = NULL;
    int rc = app_open_embedder(p->model_flag, &emb, dir, n_dir, err);
    struct embed_ctx_params cp = embed_ctx_default_params();
    cp.n_threads = p->n_threads > 0 ? p->n_threads : 1;
    cp.utf8 = TOKENIZER_UTF8_REPLACE;
    if (rc == PX_OK)
        rc = embed_ctx_new(emb, &cp, &ctx, err);
    if (rc == PX_OK)
        rc = app_prop_profile_texts(m, csv, ds, &texts, err);
    if (rc == PX_OK) {
        *dim = (size_t)embedder_info(emb)->dim;
        lens = px_malloc(n * sizeof *lens);
        *vec = px_malloc(n * *dim * sizeof **vec);
        if (lens == NULL || *vec == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        }
    }
    for (size_t r = 0; rc == PX_OK && r < n; r++) {
        lens[r] = strlen(texts[r]);
    }
    struct embed_stats st = {0};
    if (rc == PX_OK) {
        rc = embed_texts(ctx, (const char *const *)texts, lens, n, *vec, NULL, NULL, &st, err);
    }
    if (texts != NULL) {
        for (size_t r = 0; r < n; r++) {
            px_free(texts[r]);
        }
    }
    px_free(texts);
    px_free(lens);
    if (rc != PX_OK) {
        px_free(*vec);
        *vec = NULL;
    }
    embed_ctx_free(ctx);
    embedder_close(emb);
    return rc;
}

static int cmp_prob(const void *x, const void *y, void *user)
{
    const float *p = user;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    if (p[i] != p[j]) {
        return p[i] > p[j] ? -1 : 1;
    }
    return (i > j) - (i < j);
}

static void tip_summary(const struct app_look_entry *l, size_t n, size_t *tipped, double *avg)
{
    double s = 0;
    *tipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].tip.tipped) {
            (*tipped)++;
            s += l[i].tip.to - l[i].tip.from;
        }
    }
    *avg = *tipped ? s / (double)*tipped : NAN;
}

int app_prop_lookalike(const struct propmodel_model *m, const char *csv, const struct ml_dataset *ds,
                       const struct ml_explanation *e, const struct app_look_params *p,
                       struct app_look *out, struct px_err *err)
{
    return app_prop_lookalike_with(m, csv, ds, e, p, NULL, NULL, NULL, out, err);
}

int app_prop_lookalike_with(const struct propmodel_model *m, const char *csv,
                            const struct ml_dataset *ds, const struct ml_explanation *e,
                            const struct app_look_params *p, app_look_vectors_fn vectors,
                            void *user, pthread_mutex_t *model_lock, struct app_look *out,
                            struct px_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = ds->n_rows, nf = m->spec.n_features, dim = nf, n_look = 0;
    float *vec = NULL;        // owned (computed here)
    const float *use = NULL;  // the vectors used: vec or borrowed from vectors()
    unsigned char *allow = NULL;
    size_t *tip_feat = NULL, *order = NULL, *rows = NULL, *feats = NULL;
    double *step = NULL, *mn = NULL, *mx = NULL;
    struct ml_tip *tips = NULL;
    struct ml_lookalike *look = NULL;
    int rc = PX_EINVAL;
    if (ds->y == NULL) {
        px_fail(err, PX_EINVAL, "look-alikes need the target column '%s' in the data",
                m->spec.target);
        goto done;
    }
    for (size_t i = 0; i < p->n_features; i++) {
        bool found = false;
        for (size_t f = 0; f < nf && !found; f++) {
            found = strcmp(m->spec.features[f].name, p->features[i]) == 0;
        }
        if (!found) {
            px_fail(err, PX_EINVAL, "feature '%.64s': the model has no such feature",
                    p->features[i]);
            goto done;
        }
    }
    rc = PX_ENOMEM;
    allow = px_calloc(n ? n : 1, 1);
    tip_feat = px_malloc((n ? n : 1) * sizeof *tip_feat);
    order = px_malloc((n ? n : 1) * sizeof *order);
    step = px_malloc(nf * sizeof *step);
    mn = px_malloc(nf * sizeof *mn);
    mx = px_malloc(nf * sizeof *mx);
    if (!allow || !tip_feat || !order || !step || !mn || !mx) {
        px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t f = 0; f < nf; f++) {
        const struct ml_feature *ft = &m->spec.features[f];
        mn[f] = ft->min;
        mx[f] = ft->max;
        step[f] = ft->integer           ? 1.0
                  : isnan(p->real_step) ? (ft->max > ft->min ? (ft->max - ft->min) / 100.0 : 1.0)
                                        : p->real_step;
    }
    for (size_t r = 0; r < n; r++) {
        tip_feat[r] = app_prop_tipping_feature(m, e, r);
        bool ok = p->n_features == 0;
        for (size_t i = 0; i < p->n_features && !ok && tip_feat[r] != SIZE_MAX; i++) {
            ok = strcmp(m->spec.features[tip_feat[r]].name, p->features[i]) == 0;
        }
        allow[r] = ok && ds->y[r] == 0.0f;
    }

    // the vectors
    char dir[4096] = "";
    struct px_err why = {0};
    if (p->vectors == APP_VECTORS_FEATURES) {
        rc = PX_ENOENT;
    } else if (vectors != NULL) {
        rc = vectors(user, m, csv, ds, p, &use, &dim, dir, sizeof dir, &why);
    } else {
        rc = app_prop_text_vectors(m, csv, ds, p, &vec, &dim, dir, sizeof dir, &why);
        use = vec;
    }
    if (rc == PX_OK) {
        out->text_vectors = true;
        snprintf(out->vectors, sizeof out->vectors,
                 "sentence-transformer embeddings of each row's profile text (%.400s)", dir);
    } else if (p->vectors == APP_VECTORS_TEXT || rc == PX_ENOMEM) {
        *err = why;
        goto done;
    } else {
        dim = nf;
        vec = px_malloc((n ? n : 1) * nf * sizeof *vec);
        if (vec == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        ml_standardize(ds->x, n, nf, vec, err);
        use = vec;
        snprintf(
            out->vectors, sizeof out->vectors, "standardised model features (z-scores)%s%.400s",
            p->vectors == APP_VECTORS_FEATURES ? ", as asked" : "; sentence-transformer not used: ",
            p->vectors == APP_VECTORS_FEATURES ? "" : why.msg);
    }
    rc = ml_lookalikes(use, n, dim, ds->y, p->k ? p->k : 1, allow, &look, &n_look, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = PX_ENOMEM;
    size_t n_a = p->top > 0 && p->top < n_look ? p->top : n_look, n_neg = 0;
    for (size_t r = 0; r < n; r++) {
        if (allow[r]) {
            order[n_neg++] = r;
        }
    }
    qsort_r(order, n_neg, sizeof *order, cmp_prob, e->prob);
    size_t n_b = n_a < n_neg ? n_a : n_neg;
    out->a = px_calloc(n_a ? n_a : 1, sizeof *out->a);
    out->b = px_calloc(n_b ? n_b : 1, sizeof *out->b);
    rows = px_malloc((n_a + n_b + 1) * sizeof *rows);
    feats = px_malloc((n_a + n_b + 1) * sizeof *feats);
    tips = px_calloc(n_a + n_b + 1, sizeof *tips);
    if (!out->a || !out->b || !rows || !feats || !tips) {
        px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_a; i++) {
        out->a[i] = (struct app_look_entry){.row = look[i].row,
                                            .dist = look[i].dist,
                                            .near = look[i].near,
                                            .feat = tip_feat[look[i].row]};
    }
    for (size_t i = 0; i < n_b; i++) {
        out->b[i] =
            (struct app_look_entry){.row = order[i], .dist = NAN, .feat = tip_feat[order[i]]};
    }
    out->n_a = n_a;
    out->n_b = n_b;
    if (p->tipping) {
        size_t n_t = 0;
        for (size_t i = 0; i < n_a + n_b; i++) {
            const struct app_look_entry *x = i < n_a ? &out->a[i] : &out->b[i - n_a];
            if (x->feat != SIZE_MAX) {
                rows[n_t] = x->row;
                feats[n_t++] = x->feat;
            }
        }
        if (model_lock != NULL) {
            pthread_mutex_lock(model_lock); // a classifier is used by one thread at a time
        }
        rc = ml_tipping(m->model, ds->x, nf, rows, feats, n_t, step, mn, mx, m->threshold, tips,
                        err);
        if (model_lock != NULL) {
            pthread_mutex_unlock(model_lock);
        }
        if (rc != PX_OK) {
            goto done;
        }
        for (size_t i = 0, t = 0; i < n_a + n_b; i++) {
            struct app_look_entry *x = i < n_a ? &out->a[i] : &out->b[i - n_a];
            if (x->feat != SIZE_MAX) {
                x->tip = tips[t++];
            }
        }
        tip_summary(out->a, n_a, &out->tipped_a, &out->avg_a);
        tip_summary(out->b, n_b, &out->tipped_b, &out->avg_b);
    }
    rc = PX_OK;
done:
    if (rc != PX_OK) {
        app_look_free(out);
    }
    px_free(vec);
    px_free(allow);
    px_free(tip_feat);
    px_free(order);
    px_free(rows);
    px_free(feats);
    px_free(tips);
    px_free(look);
    px_free(step);
    px_free(mn);
    px_free(mx);
    return rc;
}
