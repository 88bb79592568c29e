// proplook.c — look-alikes and tipping points of a propensity model (app_prop.h), and the
// profile texts their vectors come from.
//
// Look-alike vectors. Each row is rendered to profile text and embedded with the
// sentence-transformer, as the customer index does (text/rowtext.h: "Label: value, ..."; labels
// from coltype_label, values formatted by the column's type). The columns are the model's source
// columns less the id (a random string would only add noise) and the target (listing it would
// make every positive unlike every negative by construction). When the weights are missing the
// standardised model features are used instead, and the answer's vectors line says so and why —
// every output (CLI table / JSON / CSV, HTTP) carries it. Embeddings are unit vectors, so the
// Euclidean distance ml_lookalikes uses orders pairs as cosine similarity does.
//
// Tipping: each listed row's tipping feature (largest |SHAP| among the features that may
// change) is stepped towards the training maximum (ml_tipping); the answer keeps the start and
// tipping values and the new probability as doubles, NaN where a row has no tipping feature.
// What may change: --features, else every numeric feature except the fixed ones, decided from
// the data and said in the answer: dates (a birth date, a customer-since date), age-like
// whole numbers (all values within 16..105, spanning at least 15), and any feature that moves
// with one of those (|Pearson r| >= 0.95 on the data: Experience with Age, tenure with a
// since-date). One-hot levels, list items and postcode areas are never stepped. Rows already at
// or above the threshold are not stepped and not counted; summaries are per tipping feature
// (each in its own unit), the overall average only when one feature is involved.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_encoder.h"
#include "app_prop.h"
#include "csvread.h"
#include "encoder_int.h"
#include "lookalike.h"
#include "mem.h"
#include "profile_int.h"
#include "propensity_int.h"
#include "rowtext.h"

// ---- profile texts ----

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
        p->f[c] = (struct rowtext_field){p->name[c], p->label[c], profile_kind(p->type[c]), NULL, 0};
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

int app_prop_profile_texts(const struct app_prop_model *m, const char *csv,
                           const struct app_prop_data *d, char ***texts, struct px_err *err)
{
    const struct ml_spec *s = &m->pm.spec;
    const struct ml_dataset *ds = &d->ds;
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

bool app_vectors_parse(const char *s, enum app_vectors *out)
{
    static const char *const names[] = {"auto", "text", "features"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum app_vectors)i;
            return true;
        }
    }
    return false;
}

void app_prop_look_free(struct app_prop_look *l)
{
    if (l == NULL) {
        return;
    }
    px_free(l->a);
    px_free(l->b);
    px_free(l->by_a);
    px_free(l->by_b);
    px_free(l);
}

const struct app_look_view *app_prop_look_view(const struct app_prop_look *l)
{
    return &l->v;
}

int app_prop_text_vectors(const struct app_prop_model *m, const char *csv,
                          const struct app_prop_data *d, const struct app_look_params *p,
                          float **vec, size_t *dim, char *dir, size_t n_dir, struct px_err *err)
{
    struct embedder *emb = NULL;
    struct embed_ctx *ctx = NULL;
    char **texts = NULL;
    size_t *lens = NULL;
    size_t n = d->ds.n_rows;
    *vec = NULL;
    int rc = app_open_embedder(p->embedder, &emb, dir, n_dir, err);
    struct embed_ctx_params cp = embed_ctx_default_params();
    cp.n_threads = p->n_threads > 0 ? p->n_threads : 1;
    cp.utf8 = TOKENIZER_UTF8_REPLACE;
    if (rc == PX_OK)
        rc = embed_ctx_new(emb, &cp, &ctx, err);
    if (rc == PX_OK)
        rc = app_prop_profile_texts(m, csv, d, &texts, err);
    if (rc == PX_OK) {
        *dim = (size_t)embedder_info(emb)->dim;
        lens = px_malloc((n ? n : 1) * sizeof *lens);
        *vec = px_malloc((n ? n : 1) * *dim * sizeof **vec);
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

// Sums a list's tipping: *tipped rows, *avg their change (NaN when none, or when they tipped on
// more than one feature), and per feature into by (room for n entries; *n_by used).
static void tip_summary(const struct app_prop_model *m, const struct app_look_entry *l, size_t n,
                        size_t *tipped, double *avg, struct app_tip_feature *by, size_t *n_by)
{
    double s = 0;
    const char *one = NULL;
    bool several = false;
    *tipped = 0;
    *n_by = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].above || l[i].tipping_feature == NULL) {
            continue;
        }
        size_t b = 0;
        while (b < *n_by && strcmp(by[b].feature, l[i].tipping_feature) != 0) {
            b++;
        }
        if (b == *n_by) {
            const struct ml_feature *ft = NULL;
            for (size_t f = 0; f < m->pm.spec.n_features && ft == NULL; f++) {
                if (strcmp(m->features[f], l[i].tipping_feature) == 0) {
                    ft = &m->pm.spec.features[f];
                }
            }
            by[(*n_by)++] = (struct app_tip_feature){.feature = l[i].tipping_feature,
                                                     .type = ft ? coltype_name(ft->type) : "",
                                                     .avg_change = 0};
        }
        by[b].rows++;
        if (l[i].tipped) {
            by[b].tipped++;
            by[b].avg_change += l[i].to - l[i].from;
            (*tipped)++;
            s += l[i].to - l[i].from;
            several = several || (one != NULL && strcmp(one, l[i].tipping_feature) != 0);
            one = l[i].tipping_feature;
        }
    }
    for (size_t b = 0; b < *n_by; b++) {
        by[b].avg_change = by[b].tipped ? by[b].avg_change / (double)by[b].tipped : NAN;
    }
    *avg = *tipped && !several ? s / (double)*tipped : NAN;
}

// Pearson correlation of features a and b over the rows (NaN skipped; NaN when undefined).
static double correlation(const struct ml_dataset *ds, size_t a, size_t b)
{
    size_t nf = ds->n_features, m = 0;
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t r = 0; r < ds->n_rows; r++) {
        double x = ds->x[r * nf + a], y = ds->x[r * nf + b];
        if (isnan(x) || isnan(y)) {
            continue;
        }
        m++;
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
    }
    if (m < 3) {
        return NAN;
    }
    double va = saa - sa * sa / (double)m, vb = sbb - sb * sb / (double)m;
    return va > 0 && vb > 0 ? (sab - sa * sb / (double)m) / sqrt(va * vb) : NAN;
}

// The features that may change (can[f] = 1) and, without --features, the fixed ones and why
// into said (n bytes).
static void changeable(const struct app_prop_model *m, const struct ml_dataset *ds,
                       const struct app_look_params *p, unsigned char *can, unsigned char *why,
                       char *said, size_t n)
{
    const struct ml_spec *s = &m->pm.spec;
    size_t nf = s->n_features;
    said[0] = '\0';
    for (size_t f = 0; f < nf; f++) {
        const struct ml_feature *ft = &s->features[f];
        why[f] = 0;
        if (p->n_features > 0) {
            can[f] = 0;
            for (size_t i = 0; i < p->n_features; i++) {
                can[f] = can[f] || strcmp(ft->name, p->features[i]) == 0;
            }
            continue;
        }
        can[f] = ft->level == NULL && ft->type != COLTYPE_BOOL;
        if (ft->level == NULL && ft->type == COLTYPE_DATE) {
            why[f] = 1; // a date
        } else if (ft->level == NULL && ft->integer && ft->type != COLTYPE_BOOL &&
                   ft->min >= 16 && ft->max <= 105 && ft->max - ft->min >= 15) {
            why[f] = 2; // age-like
        }
    }
    if (p->n_features > 0) {
        return;
    }
    for (size_t f = 0; f < nf; f++) { // features moving with a fixed one
        for (size_t g = 0; g < nf && can[f] && why[f] == 0; g++) {
            if ((why[g] == 1 || why[g] == 2) && g != f && s->features[f].level == NULL &&
                fabs(correlation(ds, f, g)) >= 0.95) {
                why[f] = (unsigned char)(3 + g); // moves with g (g < nf <= 252 checked below)
            }
        }
    }
    size_t at = 0;
    for (size_t f = 0; f < nf; f++) {
        if (why[f] == 0 || at + 1 >= n) {
            continue;
        }
        can[f] = 0;
        const char *name = s->features[f].name;
        int w = why[f] == 1   ? snprintf(said + at, n - at, "%s'%s' (a date)", at ? ", " : "", name)
                : why[f] == 2 ? snprintf(said + at, n - at, "%s'%s' (age-like: %g..%g)",
                                         at ? ", " : "", name, s->features[f].min,
                                         s->features[f].max)
                              : snprintf(said + at, n - at, "%s'%s' (moves with '%s')",
                                         at ? ", " : "", name, s->features[why[f] - 3].name);
        at = w > 0 && (size_t)w < n - at ? at + (size_t)w : n - 1;
    }
}

int app_prop_lookalike(const struct app_prop_model *m, const char *csv,
                       const struct app_prop_data *d, const struct app_look_params *p,
                       struct app_prop_look **out, struct px_err *err)
{
    return app_prop_lookalike_with(m, csv, d, p, NULL, NULL, NULL, out, err);
}

// One list entry; feat SIZE_MAX: no tipping feature.
static struct app_look_entry entry(const struct app_prop_model *m, const struct app_prop_data *d,
                                   size_t row, double dist, size_t near, size_t feat)
{
    return (struct app_look_entry){.row = row,
                                   .name = d->names[row],
                                   .probability = d->e.prob[row],
                                   .dist = dist,
                                   .near = isnan(dist) ? NULL : d->names[near],
                                   .tipping_feature =
                                       feat == SIZE_MAX ? NULL : m->features[feat],
                                   .from = NAN,
                                   .to = NAN,
                                   .new_probability = NAN};
}

int app_prop_lookalike_with(const struct app_prop_model *m, const char *csv,
                            const struct app_prop_data *d, const struct app_look_params *p,
                            app_look_vectors_fn vectors, void *user, pthread_mutex_t *model_lock,
                            struct app_prop_look **out, struct px_err *err)
{
    const struct ml_spec *s = &m->pm.spec;
    const struct ml_dataset *ds = &d->ds;
    size_t n = ds->n_rows, nf = s->n_features, dim = nf, n_look = 0;
    struct app_prop_look *o = NULL;
    float *vec = NULL;       // owned (computed here)
    const float *use = NULL; // the vectors used: vec or borrowed from vectors()
    unsigned char *allow = NULL, *can = NULL, *fixed_why = NULL, *skip = NULL;
    size_t *tip_feat = NULL, *order = NULL, *rows = NULL, *feats = NULL, *which = NULL;
    double *step = NULL, *mn = NULL, *mx = NULL;
    struct ml_tip *tips = NULL;
    struct ml_lookalike *look = NULL;
    int rc = PX_EINVAL;
    *out = NULL;
    if (ds->y == NULL) {
        px_fail(err, PX_EINVAL, "look-alikes need the target column '%s' in the data", s->target);
        goto done;
    }
    if (!d->has_shap) {
        rc = px_fail(err, PX_EINTERNAL, "look-alikes before the SHAP values");
        goto done;
    }
    for (size_t i = 0; i < p->n_features; i++) {
        bool found = false;
        for (size_t f = 0; f < nf && !found; f++) {
            found = strcmp(s->features[f].name, p->features[i]) == 0;
        }
        if (!found) {
            px_fail(err, PX_EINVAL, "feature '%.64s': the model has no such feature",
                    p->features[i]);
            goto done;
        }
    }
    rc = PX_ENOMEM;
    o = px_calloc(1, sizeof *o);
    allow = px_calloc(n ? n : 1, 1);
    tip_feat = px_malloc((n ? n : 1) * sizeof *tip_feat);
    order = px_malloc((n ? n : 1) * sizeof *order);
    step = px_malloc((nf ? nf : 1) * sizeof *step);
    mn = px_malloc((nf ? nf : 1) * sizeof *mn);
    mx = px_malloc((nf ? nf : 1) * sizeof *mx);
    can = px_malloc(nf ? nf : 1);
    fixed_why = px_malloc(nf ? nf : 1);
    skip = px_malloc(nf ? nf : 1);
    if (!o || !allow || !tip_feat || !order || !step || !mn || !mx || !can || !fixed_why || !skip) {
        px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t f = 0; f < nf; f++) {
        const struct ml_feature *ft = &s->features[f];
        mn[f] = ft->min;
        mx[f] = ft->max;
        step[f] = ft->integer           ? 1.0
                  : isnan(p->real_step) ? (ft->max > ft->min ? (ft->max - ft->min) / 100.0 : 1.0)
                                        : p->real_step;
    }
    if (nf > 250) { // why[] names a feature by a byte
        rc = px_fail(err, PX_ELIMIT, "tipping: %zu features (at most 250)", nf);
        goto done;
    }
    changeable(m, ds, p, can, fixed_why, o->fixed, sizeof o->fixed);
    for (size_t f = 0; f < nf; f++) {
        skip[f] = !can[f];
    }
    for (size_t r = 0; r < n; r++) {
        size_t k = 0;
        tip_feat[r] = ml_explain_top(&d->e, r, 1, skip, &k) ? k : SIZE_MAX;
        // with --features, only rows that have one of them to change
        allow[r] = (p->n_features == 0 || tip_feat[r] != SIZE_MAX) && ds->y[r] == 0.0f;
    }

    // the vectors
    char dir[LIMIT_PATH] = "";
    struct px_err why = {0};
    if (p->vectors == APP_VECTORS_FEATURES) {
        rc = PX_ENOENT;
    } else if (vectors != NULL) {
        rc = vectors(user, m, csv, d, p, &use, &dim, dir, sizeof dir, &why);
    } else {
        rc = app_prop_text_vectors(m, csv, d, p, &vec, &dim, dir, sizeof dir, &why);
        use = vec;
    }
    if (rc == PX_OK) {
        o->v.text_vectors = true;
        snprintf(o->vectors, sizeof o->vectors,
                 "sentence-transformer embeddings of each row's profile text (%.400s)", dir);
    } else if (p->vectors == APP_VECTORS_TEXT || rc == PX_ENOMEM) {
        *err = why;
        goto done;
    } else {
        dim = nf;
        vec = px_malloc((n ? n : 1) * (nf ? nf : 1) * sizeof *vec);
        if (vec == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        ml_standardize(ds->x, n, nf, vec, err);
        use = vec;
        snprintf(
            o->vectors, sizeof o->vectors, "standardised model features (z-scores)%s%.400s",
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
    qsort_r(order, n_neg, sizeof *order, cmp_prob, d->e.prob);
    size_t n_b = n_a < n_neg ? n_a : n_neg;
    o->a = px_calloc(n_a ? n_a : 1, sizeof *o->a);
    o->b = px_calloc(n_b ? n_b : 1, sizeof *o->b);
    rows = px_malloc((n_a + n_b + 1) * sizeof *rows);
    feats = px_malloc((n_a + n_b + 1) * sizeof *feats);
    which = px_malloc((n_a + n_b + 1) * sizeof *which);
    tips = px_calloc(n_a + n_b + 1, sizeof *tips);
    if (!o->a || !o->b || !rows || !feats || !which || !tips) {
        px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_a; i++) {
        o->a[i] = entry(m, d, look[i].row, look[i].dist, look[i].near, tip_feat[look[i].row]);
    }
    for (size_t i = 0; i < n_b; i++) {
        o->b[i] = entry(m, d, order[i], NAN, 0, tip_feat[order[i]]);
    }
    o->v = (struct app_look_view){.model = &m->info,
                                  .k = p->k ? p->k : 1,
                                  .tipping = p->tipping,
                                  .text_vectors = o->v.text_vectors,
                                  .vectors = o->vectors,
                                  .a = o->a,
                                  .b = o->b,
                                  .n_a = n_a,
                                  .n_b = n_b,
                                  .avg_a = NAN,
                                  .avg_b = NAN,
                                  .fixed = o->fixed};
    if (p->tipping) {
        size_t n_t = 0;
        for (size_t i = 0; i < n_a + n_b; i++) {
            struct app_look_entry *x = i < n_a ? &o->a[i] : &o->b[i - n_a];
            size_t r = x->row;
            x->above = d->e.prob[r] >= m->pm.threshold; // nothing to tip
            if (tip_feat[r] != SIZE_MAX && !x->above) {
                rows[n_t] = r;
                feats[n_t] = tip_feat[r];
                which[n_t++] = i;
            }
        }
        if (model_lock != NULL) {
            pthread_mutex_lock(model_lock); // a classifier is used by one thread at a time
        }
        rc = ml_tipping(m->pm.model, ds->x, nf, rows, feats, n_t, step, mn, mx, m->pm.threshold,
                        tips, err);
        if (model_lock != NULL) {
            pthread_mutex_unlock(model_lock);
        }
        if (rc != PX_OK) {
            goto done;
        }
        for (size_t t = 0; t < n_t; t++) {
            size_t i = which[t];
            struct app_look_entry *x = i < n_a ? &o->a[i] : &o->b[i - n_a];
            x->tipped = tips[t].tipped;
            x->from = tips[t].from;
            x->to = tips[t].to;
            x->new_probability = tips[t].p_after;
        }
        o->by_a = px_calloc(n_a ? n_a : 1, sizeof *o->by_a);
        o->by_b = px_calloc(n_b ? n_b : 1, sizeof *o->by_b);
        if (o->by_a == NULL || o->by_b == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        tip_summary(m, o->a, n_a, &o->v.tipped_a, &o->v.avg_a, o->by_a, &o->v.n_by_a);
        tip_summary(m, o->b, n_b, &o->v.tipped_b, &o->v.avg_b, o->by_b, &o->v.n_by_b);
        o->v.by_a = o->by_a;
        o->v.by_b = o->by_b;
    }
    rc = PX_OK;
    *out = o;
    o = NULL;
done:
    app_prop_look_free(o);
    px_free(vec);
    px_free(allow);
    px_free(can);
    px_free(fixed_why);
    px_free(skip);
    px_free(tip_feat);
    px_free(order);
    px_free(rows);
    px_free(feats);
    px_free(which);
    px_free(tips);
    px_free(look);
    px_free(step);
    px_free(mn);
    px_free(mx);
    return rc;
}
