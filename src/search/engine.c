// engine.c — see engine.h for the lifecycle and the ranking rules.
//
// What an engine holds (rows 0..n_rows-1):
//   table   coltable: per column numbers (NaN missing), category codes, list bit masks or
//           flags — filled while building, then the source of the query schema's numbers
//   bm25    the profile texts' postings
//   vx      vindex: the rows' unit vectors (f32 + int4); NULL without vectors. It is the only
//           f32 copy: engine_vector and the cosine of a lexical-only hit read it
//   schema  query_schema derived at build time (names, labels, units, 11 distribution points
//           per number, distinct values per category / list column)
//   dist    the same 11 points per numeric column, kept for grading boosts (how far past a
//           threshold a value lies) and engine_cdf
// A search resolves each boost once (prep_boost: its test as a prepared filter, the values where
// its grade steps begin), scores every candidate boost by boost over the candidate bitmap
// (score_boosts), and hands the dense, lexical and boost lists to fuse_rrf with boosts_first.
// The builder owns an engine under construction plus what the schema needs besides the table:
// the distinct values of categorical and list columns, case kept, in first-seen order, at most
// LIMIT_QUERY_VALUES per column (the table's dictionaries fold ASCII case, the parser's values
// keep the data's spelling).
#include "engine.h"
#include "engine_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "filter.h"
#include "limits.h"
#include "mem.h"
#include "strparse.h"



struct distinct {
    char **v;  // owned: (n) values, owned strings
    size_t n;
};

struct engine_builder {
    struct engine *e;           // owned: the engine being built (NULL once built)
    size_t cap_rows;
    size_t n_cols;              // columns copied into cols / vals so far
    struct engine_column *cols; // owned: (n_cols) with owned name / label copies
    struct distinct *vals;      // owned: (n_cols), used by CATEGORY / LIST columns
};

struct engine_params engine_default_params(void)
{
    struct engine_params p = {
        .bm25 = bm25_default_params(),
        .vindex = vindex_default_params(),
        .fuse = fuse_default_params(),
    };
    return p;
}

// ---- building ----

void engine_free(struct engine *e)
{
    if (e == NULL) {
        return;
    }
    coltable_free(e->table);
    bm25_free(e->bm25);
    vindex_free(e->vx);
    query_schema_free(e->schema);
    px_free(e->dist);
    buf_free(&e->stats);
    px_free(e);
}

void engine_builder_free(struct engine_builder *b)
{
    if (b == NULL) {
        return;
    }
    engine_free(b->e);
    for (size_t c = 0; c < b->n_cols; c++) {
        px_free((char *)b->cols[c].name);
        px_free((char *)b->cols[c].label);
        for (size_t k = 0; k < b->vals[c].n; k++) {
            px_free(b->vals[c].v[k]);
        }
        px_free(b->vals[c].v);
    }
    px_free(b->cols);
    px_free(b->vals);
    px_free(b);
}

int engine_builder_new(const struct engine_column *cols, size_t n_cols, size_t cap_rows,
                       const struct engine_params *params, struct engine_builder **out,
                       struct px_err *err)
{
    int rc = PX_OK;
    const char **names = NULL;
    enum query_col_kind *kinds = NULL;
    struct engine_builder *b = NULL;
    *out = NULL;
    if (cap_rows > LIMIT_VINDEX_ROWS) {
        return px_fail(err, PX_ELIMIT, "%zu rows: past LIMIT_VINDEX_ROWS (%u)", cap_rows,
                       (unsigned)LIMIT_VINDEX_ROWS);
    }
    b = px_calloc(1, sizeof *b);
    if (b == NULL || (b->e = px_calloc(1, sizeof *b->e)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    b->cap_rows = cap_rows;
    b->e->params = params != NULL ? *params : engine_default_params();
    size_t nc = n_cols ? n_cols : 1;
    b->cols = px_calloc(nc, sizeof *b->cols);
    b->vals = px_calloc(nc, sizeof *b->vals);
    names = px_calloc(nc, sizeof *names);
    kinds = px_calloc(nc, sizeof *kinds);
    if (b->cols == NULL || b->vals == NULL || names == NULL || kinds == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < n_cols; c++) {
        b->n_cols = c + 1; // from here on engine_builder_free frees column c
        b->cols[c] = cols[c];
        b->cols[c].name = px_strdup(cols[c].name ? cols[c].name : "");
        b->cols[c].label = cols[c].label ? px_strdup(cols[c].label) : NULL;
        if (b->cols[c].name == NULL || (cols[c].label != NULL && b->cols[c].label == NULL)) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        names[c] = b->cols[c].name;
        kinds[c] = cols[c].kind;
    }
    b->e->n_cols = n_cols;
    rc = coltable_new_columns(names, kinds, n_cols, cap_rows, &b->e->table, err);
    if (rc == PX_OK) {
        rc = bm25_new(&b->e->params.bm25, &b->e->bm25, err);
    }
done:
    px_free(names);
    px_free(kinds);
    if (rc != PX_OK) {
        engine_builder_free(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

int engine_builder_add_row(struct engine_builder *b, size_t *row, struct px_err *err)
{
    if (b->e->n_rows >= b->cap_rows) {
        return px_fail(err, PX_ELIMIT, "row %zu: the engine was made for %zu rows", b->e->n_rows,
                       b->cap_rows);
    }
    *row = b->e->n_rows++;
    return PX_OK;
}

static int check_cell(const struct engine_builder *b, size_t row, size_t col, struct px_err *err)
{
    if (row >= b->e->n_rows || col >= b->e->n_cols) {
        return px_fail(err, PX_EINVAL, "engine: row %zu / column %zu not in the table", row, col);
    }
    return PX_OK;
}

int engine_builder_set_number(struct engine_builder *b, size_t row, size_t col, double v,
                              struct px_err *err)
{
    int rc = check_cell(b, row, col, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (b->cols[col].kind == QUERY_COL_BOOL) {
        return coltable_set_bool(b->e->table, row, col, isnan(v) ? -1 : v != 0, err);
    }
    return coltable_set_number(b->e->table, row, col, v, err);
}

// Adds item (len bytes) to the column's distinct values unless it is there (exact bytes) or
// the list is full.
static int note_value(struct distinct *d, const char *item, size_t len, struct px_err *err)
{
    for (size_t k = 0; k < d->n; k++) {
        if (strlen(d->v[k]) == len && memcmp(d->v[k], item, len) == 0) {
            return PX_OK;
        }
    }
    if (d->n >= LIMIT_QUERY_VALUES) {
        return PX_OK; // the parser knows the first LIMIT_QUERY_VALUES; filters still see all
    }
    if (d->v == NULL) {
        d->v = px_malloc(LIMIT_QUERY_VALUES * sizeof *d->v);
        if (d->v == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory");
        }
    }
    d->v[d->n] = px_strndup(item, len);
    if (d->v[d->n] == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    d->n++;
    return PX_OK;
}

int engine_builder_set_value(struct engine_builder *b, size_t row, size_t col, const char *s,
                             struct px_err *err)
{
    int rc = check_cell(b, row, col, err);
    if (rc == PX_OK) {
        rc = coltable_set_text(b->e->table, row, col, s, err);
    }
    if (rc != PX_OK || s == NULL) {
        return rc;
    }
    const char *p = s, *item = s;
    size_t len = strlen(s);
    bool list = b->cols[col].kind == QUERY_COL_LIST;
    bool more = list ? strparse_list_item(&p, &item, &len) : len > 0;
    while (more && rc == PX_OK) {
        rc = note_value(&b->vals[col], item, len, err);
        more = list && strparse_list_item(&p, &item, &len);
    }
    return rc;
}

int engine_builder_add_text(struct engine_builder *b, size_t row, const char *text, size_t len,
                            struct px_err *err)
{
    if (row >= b->e->n_rows) {
        return px_fail(err, PX_EINVAL, "engine: row %zu not in the table", row);
    }
    return bm25_add_doc(b->e->bm25, (uint32_t)row, text ? text : "", text ? len : 0, err);
}

int engine_builder_add_vector(struct engine_builder *b, size_t row, const float *vec, size_t dim,
                              struct px_err *err)
{
    if (row >= b->e->n_rows) {
        return px_fail(err, PX_EINVAL, "engine: row %zu not in the table", row);
    }
    if (b->e->vx == NULL) {
        int rc = vindex_new(dim, &b->e->params.vindex, &b->e->vx, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return vindex_add(b->e->vx, (uint32_t)row, vec, dim, err);
}

void engine_builder_drop_vectors(struct engine_builder *b)
{
    vindex_free(b->e->vx);
    b->e->vx = NULL;
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The schema statistics (engine_int.h) from the filled table and the distinct values, then
// the query schema from them: the path an engine opened from a file takes too.
static int build_schema(struct engine_builder *b, struct px_err *err)
{
    struct engine *e = b->e;
    int rc = PX_OK;
    double *tmp = px_malloc((e->n_rows ? e->n_rows : 1) * sizeof *tmp);
    e->dist = px_malloc((e->n_cols ? e->n_cols : 1) * N_DIST_POINTS * sizeof *e->dist);
    buf_init(&e->stats, LIMIT_ENGINE_STATS_BYTES);
    if (tmp == NULL || e->dist == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory building the query schema");
    }
    for (size_t k = 0; rc == PX_OK && k < e->n_cols * N_DIST_POINTS; k++) {
        e->dist[k] = NAN;
    }
    for (size_t c = 0; c < e->n_cols && rc == PX_OK; c++) {
        const struct engine_column *col = &b->cols[c];
        double q[N_DIST_POINTS];
        size_t n_q = 0;
        if (col->kind == QUERY_COL_NUMERIC) {
            const double *num = coltable_numbers(e->table, c);
            size_t n = 0;
            for (size_t r = 0; r < e->n_rows; r++) {
                if (!isnan(num[r])) {
                    tmp[n++] = num[r];
                }
            }
            if (n > 0) {
                qsort(tmp, n, sizeof *tmp, cmp_f64);
                for (int k = 0; k < N_DIST_POINTS; k++) {
                    q[k] = tmp[(size_t)((double)(n - 1) * k / (N_DIST_POINTS - 1) + 0.5)];
                }
                n_q = N_DIST_POINTS;
            }
        }
        rc = engine_stats_put_column(&e->stats, col, q, n_q, (const char *const *)b->vals[c].v,
                                     b->vals[c].n, err);
    }
    px_free(tmp);
    if (rc == PX_OK) {
        rc = engine_schema_from_stats(e->stats.data, e->stats.len, e->n_cols, &e->schema, e->dist,
                                      err);
    }
    return rc;
}

int engine_build(struct engine_builder *b, struct engine **out, struct px_err *err)
{
    *out = NULL;
    int rc = coltable_set_rows(b->e->table, b->e->n_rows, err);
    if (rc == PX_OK) {
        rc = bm25_finalize(b->e->bm25, err);
    }
    if (rc == PX_OK) {
        rc = build_schema(b, err);
    }
    if (rc == PX_OK) {
        *out = b->e;
        b->e = NULL;
    }
    engine_builder_free(b);
    return rc;
}

// ---- the engine ----

size_t engine_n_rows(const struct engine *e) { return e->n_rows; }
const struct query_schema *engine_schema(const struct engine *e) { return e->schema; }
size_t engine_dim(const struct engine *e) { return e->vx ? vindex_dim(e->vx) : 0; }
size_t engine_n_vectors(const struct engine *e) { return e->vx ? vindex_count(e->vx) : 0; }

const float *engine_vector(const struct engine *e, size_t row)
{
    return e->vx != NULL && row < e->n_rows ? vindex_vector(e->vx, (uint32_t)row) : NULL;
}

static double cosine(const float *q, const float *v, size_t dim)
{
    double dot = 0, nq = 0, nv = 0;
    for (size_t k = 0; k < dim; k++) {
        dot += (double)q[k] * v[k];
        nq += (double)q[k] * q[k];
        nv += (double)v[k] * v[k];
    }
    return nq > 0 && nv > 0 ? dot / sqrt(nq * nv) : NAN;
}

// ---- graded boosts ----

// The column's distribution function at v, interpolated between its N_DIST_POINTS points
// (0 below the minimum, 1 at and past the maximum).
static double cdf_at(const double *pt, double v)
{
    if (v < pt[0]) {
        return 0.0;
    }
    size_t k = 0;
    while (k + 1 < N_DIST_POINTS && pt[k + 1] <= v) {
        k++;
    }
    if (k + 1 == N_DIST_POINTS) {
        return 1.0;
    }
    return ((double)k + (v - pt[k]) / (pt[k + 1] - pt[k])) / (N_DIST_POINTS - 1);
}

// A boost resolved once for scoring many rows: its test as a prepared filter and, for ge / le,
// the distribution function at its threshold.
struct prep_boost {
    struct query_filter f;
    struct filter_prepared p;
    const double *pt;  // the column's distribution points; NULL: no grade
    const double *num; // the column's numbers (graded boosts)
    double at, room;   // cdf at the threshold; the share between it and the end it points to
    bool ge;
    double weight;
    double step_at[ENGINE_GRADE_STEPS]; // graded: the value where step s + 1 begins
    double value[ENGINE_GRADE_STEPS + 1]; // what the boost adds at each step
};

// The value at share q of the column's distribution (the inverse of cdf_at).
static double value_at(const double *pt, double q)
{
    double x = q * (N_DIST_POINTS - 1);
    if (!(x > 0)) {
        return pt[0];
    }
    size_t k = (size_t)x;
    if (k >= N_DIST_POINTS - 1) {
        return pt[N_DIST_POINTS - 1];
    }
    return pt[k] + (x - (double)k) * (pt[k + 1] - pt[k]);
}

static void prep_boost(const struct engine *e, const struct query_boost *b, struct prep_boost *pb)
{
    memset(pb, 0, sizeof *pb);
    pb->f = (struct query_filter){.i_col = b->i_col, .op = b->op, .lo = b->lo, .hi = b->hi};
    if (b->value != NULL) {
        pb->f.values[0] = b->value;
        pb->f.n_values = 1;
    }
    filter_prepare(e->table, &pb->f, &pb->p);
    pb->weight = b->weight;
    if (b->i_col < e->n_cols && (b->op == QUERY_OP_GE || b->op == QUERY_OP_LE) &&
        !isnan(e->dist[b->i_col * N_DIST_POINTS])) {
        pb->pt = &e->dist[b->i_col * N_DIST_POINTS];
        pb->num = coltable_numbers(e->table, b->i_col);
        pb->ge = b->op == QUERY_OP_GE;
        pb->at = cdf_at(pb->pt, b->lo);
        pb->room = pb->ge ? 1.0 - pb->at : pb->at;
        for (int k = 0; k < ENGINE_GRADE_STEPS; k++) {
            double share = pb->room * (k + 1) / ENGINE_GRADE_STEPS;
            pb->step_at[k] = value_at(pb->pt, pb->ge ? pb->at + share : pb->at - share);
        }
    }
    for (int k = 0; k <= ENGINE_GRADE_STEPS; k++) {
        pb->value[k] = pb->weight * (1.0 + ENGINE_GRADE_SPAN * k / ENGINE_GRADE_STEPS);
    }
}

// The grade step of a met graded boost at row: how many step values the row's value reaches.
static int prep_steps(const struct prep_boost *pb, size_t row)
{
    if (pb->pt == NULL || !(pb->room > 0)) {
        return 0;
    }
    double v = pb->num[row];
    int k = 0;
    while (k < ENGINE_GRADE_STEPS && (pb->ge ? v >= pb->step_at[k] : v <= pb->step_at[k])) {
        k++;
    }
    return k;
}

static double prep_excess(const struct prep_boost *pb, size_t row)
{
    if (pb->pt == NULL || pb->num == NULL || isnan(pb->num[row]) || !(pb->room > 0)) {
        return 0.0;
    }
    double v = cdf_at(pb->pt, pb->num[row]);
    double x = (pb->ge ? v - pb->at : pb->at - v) / pb->room;
    return x < 0 ? 0.0 : x > 1 ? 1.0 : x;
}

static double prep_value(const struct engine *e, const struct prep_boost *pb, size_t row)
{
    return filter_prepared_row(e->table, &pb->p, row) ? pb->value[prep_steps(pb, row)] : 0.0;
}

double engine_cdf(const struct engine *e, size_t col, double v)
{
    if (col >= e->n_cols || isnan(v) || isnan(e->dist[col * N_DIST_POINTS])) {
        return NAN;
    }
    return cdf_at(&e->dist[col * N_DIST_POINTS], v);
}

int engine_text_words(const struct engine *e, const char *text, size_t len,
                      int (*fn)(void *user, const char *w, size_t n), void *user)
{
    return bm25_each_word(e->bm25, text, len, fn, user);
}

double engine_boost_excess(const struct engine *e, const struct query_boost *b, size_t row)
{
    struct prep_boost pb;
    prep_boost(e, b, &pb);
    return row < e->n_rows ? prep_excess(&pb, row) : 0.0;
}

double engine_boost_value(const struct engine *e, const struct query_boost *b, size_t row)
{
    struct prep_boost pb;
    prep_boost(e, b, &pb);
    return row < e->n_rows ? prep_value(e, &pb, row) : 0.0;
}

double engine_boost_score(const struct engine *e, const struct query_boost *boosts, size_t n,
                          size_t row)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += engine_boost_value(e, &boosts[i], row);
    }
    return s;
}

// scores[r] = the graded boost sum of every candidate r (other rows untouched, scores zeroed
// by the caller), boost by boost: a pass bitmap per boost, then the met rows' values; met
// (zeroed by the caller) gets the rows meeting any boost. The same
// sum in the same order as prep_score, so both give equal doubles.
static int score_boosts(const struct engine *e, const struct bitmap *cand,
                        const struct prep_boost *pb, size_t n, double *scores, struct bitmap *met,
                        struct px_err *err)
{
    struct bitmap *pass = NULL;
    int rc = n > 0 ? bitmap_clone(cand, &pass, err) : PX_OK;
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        if (i > 0) {
            bitmap_zero(pass);
            rc = bitmap_or(pass, cand, err);
        }
        if (rc != PX_OK) {
            break;
        }
        filter_prepared_rows(e->table, &pb[i].p, pass);
        rc = bitmap_or(met, pass, err);
        const uint64_t *words = bitmap_words(pass);
        for (size_t w = 0; w < bitmap_n_words(pass); w++) {
            for (uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
                size_t r = w * 64 + (size_t)__builtin_ctzll(bits);
                scores[r] += pb[i].value[prep_steps(&pb[i], r)];
            }
        }
    }
    bitmap_free(pass);
    return rc;
}

// ---- searching ----

// Candidates by graded boost (scores: NULL = no boosts), then row order: the best top into hits
// (an insertion into the top so far). only_boosted: rows meeting no boost are left out (the
// boost list for fusion).
static void rank_by_boost(const struct engine *e, const struct bitmap *cand,
                          const double *scores, size_t top, bool only_boosted,
                          struct engine_hit *hits, size_t *n_hits)
{
    if (only_boosted && scores == NULL) {
        return;
    }
    for (size_t r = bitmap_next(cand, 0); r < e->n_rows; r = bitmap_next(cand, r + 1)) {
        double bs = scores != NULL ? scores[r] : 0.0;
        size_t pos = *n_hits;
        if ((only_boosted && bs == 0) || (pos == top && !(bs > hits[top - 1].boost))) {
            continue;
        }
        if (pos == top) {
            pos--;
        } else {
            (*n_hits)++;
        }
        while (pos > 0 && bs > hits[pos - 1].boost) {
            hits[pos] = hits[pos - 1];
            pos--;
        }
        hits[pos] = (struct engine_hit){(uint32_t)r, bs, NAN, 0, bs};
    }
}

static int cmp_boost_id(const void *pa, const void *pb)
{
    const struct fuse_boost *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

// The answer's "order": what decided it, in the order it was applied.
static const char *order_of(bool boosts, bool dense, bool lexical)
{
    static const char *const k_order[8] = {
        "import order (unranked)",
        "BM25, then import order",
        "cosine, then import order",
        "BM25 and cosine fused by RRF, then import order",
        "boosts, then import order",
        "boosts, then BM25, then import order",
        "boosts, then cosine, then import order",
        "boosts, then BM25 and cosine fused by RRF, then import order",
    };
    return k_order[(boosts ? 4 : 0) + (dense ? 2 : 0) + (lexical ? 1 : 0)];
}

// Dense (vec, may be NULL), lexical (text) and boost lists among cand, fused: boosts first,
// the RRF of the lists within equal boosts, then row order.
static int rank(const struct engine *e, const float *vec, size_t dim, const char *text,
                size_t text_len, const struct query_plan *plan, const struct bitmap *cand,
                size_t top, struct pool *pool, struct engine_hit *hits, struct engine_answer *ans,
                struct px_err *err)
{
    int rc = PX_OK;
    size_t K = top * 20 > 100 ? top * 20 : 100;
    if (K > LIMIT_VINDEX_K) {
        K = LIMIT_VINDEX_K;
    }
    const struct query_boost *boosts = plan ? plan->boosts : NULL;
    size_t n_boosts = plan ? plan->n_boosts : 0;
    struct vindex_hit *dh = px_calloc(K, sizeof *dh);
    struct bm25_hit *lh = px_calloc(K, sizeof *lh);
    struct engine_hit *bh = px_calloc(K, sizeof *bh);
    uint32_t *ids = px_calloc(3 * K, sizeof *ids);
    struct fuse_boost *fb = px_calloc(3 * K, sizeof *fb);
    struct fuse_hit *fh = px_calloc(top, sizeof *fh);
    struct prep_boost *pb = px_calloc(n_boosts ? n_boosts : 1, sizeof *pb);
    double *scores = n_boosts > 0 ? px_calloc(e->n_rows, sizeof *scores) : NULL;
    struct bitmap *met = NULL;
    size_t nd = 0, nl = 0, nb = 0, nf = 0, nfh = 0;
    if (!dh || !lh || !bh || !ids || !fb || !fh || !pb || (n_boosts > 0 && !scores)) {
        rc = px_fail(err, PX_ENOMEM, "out of memory ranking");
        goto done;
    }
    for (size_t i = 0; i < n_boosts; i++) {
        prep_boost(e, &boosts[i], &pb[i]);
    }
    rc = bitmap_new(e->n_rows, &met, err);
    if (rc == PX_OK) {
        rc = score_boosts(e, cand, pb, n_boosts, scores, met, err);
    }
    if (rc == PX_OK && vec != NULL && e->vx != NULL) {
        rc = vindex_search(e->vx, vec, dim, K, cand, pool, dh, &nd, err);
        ans->dense = true;
    }
    if (rc == PX_OK && text_len > 0) {
        rc = bm25_search(e->bm25, text, text_len, cand, K, lh, &nl, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    if (nd == 0 && nl == 0) {
        rank_by_boost(e, cand, scores, top, false, hits, &ans->n_hits);
        ans->ranked = ans->n_hits > 0 && hits[0].boost > 0;
        ans->order = order_of(ans->ranked, false, false);
        goto done;
    }
    // the rows the boosts pick, so a row meeting them need not match the text
    rank_by_boost(e, met, scores, K, true, bh, &nb);
    for (size_t i = 0; i < nd; i++) {
        ids[i] = dh[i].row_id;
    }
    for (size_t i = 0; i < nl; i++) {
        ids[nd + i] = lh[i].doc_id;
    }
    for (size_t i = 0; i < nb; i++) {
        ids[nd + nl + i] = bh[i].row;
    }
    struct fuse_list lists[3] = {{ids, nd, 1.0f}, {ids + nd, nl, 1.0f}, {ids + nd + nl, nb, 0.0f}};
    for (size_t i = 0; i < nd + nl + nb; i++) {
        double bs = i >= nd + nl ? bh[i - nd - nl].boost
                                 : scores != NULL ? scores[ids[i]] : 0.0;
        if (bs != 0) {
            fb[nf++] = (struct fuse_boost){ids[i], (float)bs};
        }
    }
    // each id's boost once: fuse adds repeated boosts, so drop duplicates (sorted by id)
    qsort(fb, nf, sizeof *fb, cmp_boost_id);
    size_t nu = 0;
    for (size_t i = 0; i < nf; i++) {
        if (nu == 0 || fb[nu - 1].id != fb[i].id) {
            fb[nu++] = fb[i];
        }
    }
    nf = nu;
    struct fuse_params fp = e->params.fuse;
    fp.boosts_first = 1;
    rc = fuse_rrf(lists, 3, fb, nf, &fp, top, fh, &nfh, err);
    ans->ranked = true;
    ans->order = order_of(nf > 0, nd > 0, nl > 0);
    for (size_t i = 0; i < nfh && rc == PX_OK; i++) {
        struct engine_hit *h = &hits[ans->n_hits++];
        h->row = fh[i].id;
        h->score = fh[i].score;
        h->similarity = NAN;
        h->lexical = 0;
        h->boost = scores != NULL ? scores[h->row] : 0.0;
        for (size_t k = 0; k < nd; k++) {
            if (dh[k].row_id == h->row) {
                h->similarity = dh[k].score;
            }
        }
        for (size_t k = 0; k < nl; k++) {
            if (lh[k].doc_id == h->row) {
                h->lexical = lh[k].score;
            }
        }
        const float *v = vec != NULL ? engine_vector(e, h->row) : NULL;
        if (isnan(h->similarity) && v != NULL) {
            h->similarity = cosine(vec, v, dim);
        }
    }
done:
    px_free(dh);
    px_free(lh);
    px_free(bh);
    px_free(ids);
    px_free(fb);
    px_free(fh);
    px_free(pb);
    px_free(scores);
    bitmap_free(met);
    return rc;
}

int engine_search(const struct engine *e, const struct engine_query *q, size_t top,
                  struct pool *pool, struct engine_hit *hits, struct engine_answer *ans,
                  struct px_err *err)
{
    struct bitmap *cand = NULL;
    memset(ans, 0, sizeof *ans);
    ans->order = order_of(false, false, false);
    if (top < 1 || top > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "top must be 1..%d, got %zu", LIMIT_VINDEX_K, top);
    }
    const struct query_plan *plan = q->plan;
    int rc = bitmap_new(e->n_rows, &cand, err);
    if (rc == PX_OK && plan != NULL) {
        rc = filter_apply(e->table, plan->filters, plan->n_filters, cand, err);
    } else if (rc == PX_OK) {
        bitmap_fill(cand);
    }
    for (size_t i = 0; rc == PX_OK && i < q->n_exclude; i++) {
        if (q->exclude[i] >= e->n_rows) {
            rc = px_fail(err, PX_EINVAL, "excluded row %u is not in the table", q->exclude[i]);
        } else {
            bitmap_clear(cand, q->exclude[i]);
        }
    }
    if (rc != PX_OK) {
        goto done;
    }
    ans->n_candidates = bitmap_count(cand);
    const char *text = q->text;
    size_t text_len = q->text_len;
    if (text == NULL && plan != NULL) {
        text = plan->semantic_text;
        text_len = plan->semantic_len;
    }
    if (ans->n_candidates > 0) {
        rc = rank(e, q->vector, q->dim, text, text == NULL ? 0 : text_len, plan, cand, top, pool,
                  hits, ans, err);
    }
    if (rc != PX_OK) {
        ans->n_hits = 0;
        ans->dense = false;
    }
done:
    bitmap_free(cand);
    return rc;
}

int engine_candidates(const struct engine *e, const struct query_plan *plan, struct bitmap **out,
                      struct px_err *err)
{
    int rc = bitmap_new(e->n_rows, out, err);
    if (rc == PX_OK && plan != NULL) {
        rc = filter_apply(e->table, plan->filters, plan->n_filters, *out, err);
    } else if (rc == PX_OK) {
        bitmap_fill(*out);
    }
    if (rc != PX_OK) {
        bitmap_free(*out);
        *out = NULL;
    }
    return rc;
}
