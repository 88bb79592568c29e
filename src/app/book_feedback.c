// book_feedback.c — "more like these / fewer like these" (issue 15): a search re-ranked with
// the customers the user marked up and down, Rocchio-style, the query's hard filters still
// hard (only the candidates the search ranked are re-ordered; the marked customers need not
// pass the filters themselves).
//
// Rocchio: q' = α·q + β·mean(up) − γ·mean(down), and a candidate d scores d·q'. With unit
// vectors that is α·cos(d, q) + β·d·mean(up) − γ·d·mean(down), so:
//   - dense path (the sentence-transformer's vectors): d, the marked customers' vectors and the
//     hit's similarity to the query come from the engine;
//   - otherwise (no vectors): each customer is a feature vector — every number, integer,
//     currency, percent and bool column standardised over the candidates (z-scores; missing 0)
//     and every category column one-hot (its profile terms) — L2-normalised, and the query's
//     own part is the candidate's search score scaled to 0..1 over the candidates (1 for all
//     when the search scored them alike: no text matched, no boost).
// α = 1, β = 0.75, γ = 0.15 (Rocchio's usual weights). The search ranks at most
// LIMIT_FEEDBACK_POOL candidates before re-ranking; the answer keeps `top` of them.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app_saved.h"
#include "book_int.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"

#define ALPHA 1.0
#define BETA 0.75
#define GAMMA 0.15

struct fspace {
    size_t dim;
    float *x; // (n_rows_used, dim): the features of each candidate, then of each marked row
};

static bool is_numeric(const char *t)
{
    return strcmp(t, "integer") == 0 || strcmp(t, "real") == 0 || strcmp(t, "currency") == 0 ||
           strcmp(t, "percent") == 0 || strcmp(t, "bool") == 0;
}

static double num_of(const char *s, bool *ok)
{
    if (s[0] == '\0') {
        *ok = false;
        return 0;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) return *ok = true, 1;
    if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0) return *ok = true, 0;
    char *end = NULL;
    double v = strtod(s, &end);
    *ok = end != s && isfinite(v);
    return *ok ? v : 0;
}

// The feature vectors of rows (n of them), standardised over the first n_stats (the
// candidates), into *out (n × dim, row-normalised).
static int features(const struct app_book *b, const uint32_t *rows, size_t n, size_t n_stats,
                    float **out, size_t *dim, struct px_err *err)
{
    size_t nc = app_book_n_columns(b);
    // dimensions: one per numeric column, one per distinct value of a category column (among
    // the rows, in first-seen order, at most LIMIT_FEEDBACK_VALUES per column)
    size_t d = 0;
    size_t *col_off = px_calloc(nc + 1, sizeof *col_off);
    const char **vals = px_calloc(nc * LIMIT_FEEDBACK_VALUES + 1, sizeof *vals);
    size_t *n_vals = px_calloc(nc + 1, sizeof *n_vals);
    if (col_off == NULL || vals == NULL || n_vals == NULL) goto oom;
    for (size_t c = 0; c < nc; c++) {
        col_off[c] = d;
        const char *t = app_book_column_type(b, c);
        if (app_book_column_is_id(b, c)) continue;
        if (is_numeric(t)) {
            d++;
        } else if (strcmp(t, "category") == 0) {
            for (size_t i = 0; i < n; i++) {
                const char *v = app_book_value(b, rows[i], c);
                size_t k = 0;
                while (k < n_vals[c] && strcmp(vals[c * LIMIT_FEEDBACK_VALUES + k], v) != 0) k++;
                if (k == n_vals[c] && k < LIMIT_FEEDBACK_VALUES && v[0] != '\0') {
                    vals[c * LIMIT_FEEDBACK_VALUES + n_vals[c]++] = v;
                }
            }
            d += n_vals[c];
        }
    }
    float *x = px_calloc(n * (d ? d : 1), sizeof *x);
    if (x == NULL) goto oom;
    for (size_t c = 0; c < nc; c++) {
        if (app_book_column_is_id(b, c)) continue;
        const char *t = app_book_column_type(b, c);
        if (is_numeric(t)) {
            double sum = 0, sq = 0;
            size_t cnt = 0;
            for (size_t i = 0; i < n_stats; i++) {
                bool ok = false;
                double v = num_of(app_book_value(b, rows[i], c), &ok);
                if (ok) {
                    sum += v;
                    sq += v * v;
                    cnt++;
                }
            }
            double mean = cnt ? sum / (double)cnt : 0;
            double var = cnt ? sq / (double)cnt - mean * mean : 0;
            double sd = var > 1e-12 ? sqrt(var) : 1;
            for (size_t i = 0; i < n; i++) {
                bool ok = false;
                double v = num_of(app_book_value(b, rows[i], c), &ok);
                x[i * d + col_off[c]] = ok ? (float)((v - mean) / sd) : 0.0f;
            }
        } else if (strcmp(t, "category") == 0) {
            for (size_t i = 0; i < n; i++) {
                const char *v = app_book_value(b, rows[i], c);
                for (size_t k = 0; k < n_vals[c]; k++) {
                    if (strcmp(vals[c * LIMIT_FEEDBACK_VALUES + k], v) == 0) {
                        x[i * d + col_off[c] + k] = 1.0f;
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) s += (double)x[i * d + k] * x[i * d + k];
        if (s > 0) {
            float inv = (float)(1.0 / sqrt(s));
            for (size_t k = 0; k < d; k++) x[i * d + k] *= inv;
        }
    }
    px_free(col_off);
    px_free(vals);
    px_free(n_vals);
    *out = x;
    *dim = d;
    return PX_OK;
oom:
    px_free(col_off);
    px_free(vals);
    px_free(n_vals);
    return px_fail(err, PX_ENOMEM, "out of memory re-ranking with feedback");
}

struct scored {
    size_t i;
    double s;
};

static int cmp_scored(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? 1 : -1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int app_book_search_feedback(struct app_book *b, const char *query, size_t len, size_t top,
                             const char *const *up, size_t n_up, const char *const *down,
                             size_t n_down, struct app_result *res, bool *dense,
                             struct px_err *err)
{
    memset(res, 0, sizeof *res);
    *dense = false;
    if (n_up > LIMIT_FEEDBACK_IDS || n_down > LIMIT_FEEDBACK_IDS) {
        return px_fail(err, PX_ELIMIT, "at most %d customers up and %d down", LIMIT_FEEDBACK_IDS,
                       LIMIT_FEEDBACK_IDS);
    }
    if (top < 1 || top > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "top must be 1..%d, got %zu", LIMIT_VINDEX_K, top);
    }
    uint32_t *marked = px_calloc(n_up + n_down + 1, sizeof *marked);
    if (marked == NULL) return px_fail(err, PX_ENOMEM, "out of memory");
    int rc = PX_OK;
    for (size_t i = 0; rc == PX_OK && i < n_up + n_down; i++) {
        const char *id = i < n_up ? up[i] : down[i - n_up];
        long r = app_book_find(b, id);
        if (r < 0) {
            rc = px_fail(err, PX_ENOENT, "feedback: no customer with id '%s'", id);
        } else {
            marked[i] = (uint32_t)r;
        }
    }
    size_t pool = top > LIMIT_FEEDBACK_POOL ? top : LIMIT_FEEDBACK_POOL;
    if (rc == PX_OK) rc = app_book_search(b, query, len, pool, res, err);
    if (rc != PX_OK || res->n_hits == 0 || n_up + n_down == 0) {
        if (rc == PX_OK && res->n_hits > top) res->n_hits = top;
        px_free(marked);
        return rc;
    }
    size_t n = res->n_hits, dim = engine_dim(b->eng);
    bool use_vec = res->dense && dim > 0;
    for (size_t i = 0; use_vec && i < n_up + n_down; i++) {
        use_vec = engine_vector(b->eng, marked[i]) != NULL;
    }
    for (size_t i = 0; use_vec && i < n; i++) {
        use_vec = engine_vector(b->eng, res->hits[i].row) != NULL && !isnan(res->hits[i].similarity);
    }
    float *x = NULL;
    uint32_t *rows = px_calloc(n + n_up + n_down, sizeof *rows);
    struct scored *sc = px_calloc(n, sizeof *sc);
    float *mu = NULL;
    if (rows == NULL || sc == NULL) rc = px_fail(err, PX_ENOMEM, "out of memory");
    for (size_t i = 0; rc == PX_OK && i < n; i++) rows[i] = (uint32_t)res->hits[i].row;
    for (size_t i = 0; rc == PX_OK && i < n_up + n_down; i++) rows[n + i] = marked[i];
    if (rc == PX_OK && !use_vec) {
        rc = features(b, rows, n + n_up + n_down, n, &x, &dim, err);
    }
    if (rc == PX_OK && (mu = px_calloc(2 * (dim ? dim : 1), sizeof *mu)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    // the centroids of the marked customers: mu[0..dim) up, mu[dim..2 dim) down
    for (size_t i = 0; rc == PX_OK && i < n_up + n_down; i++) {
        const float *v = use_vec ? engine_vector(b->eng, marked[i]) : x + (n + i) * dim;
        float w = i < n_up ? 1.0f / (float)n_up : 1.0f / (float)n_down;
        float *m = i < n_up ? mu : mu + dim;
        for (size_t k = 0; k < dim; k++) m[k] += w * v[k];
    }
    double lo = res->hits[0].score, hi = res->hits[0].score;
    for (size_t i = 1; i < n; i++) {
        lo = fmin(lo, res->hits[i].score);
        hi = fmax(hi, res->hits[i].score);
    }
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        const float *v = use_vec ? engine_vector(b->eng, rows[i]) : x + i * dim;
        double pu = 0, pd = 0;
        for (size_t k = 0; k < dim; k++) {
            pu += (double)v[k] * mu[k];
            pd += (double)v[k] * mu[dim + k];
        }
        double q = use_vec     ? res->hits[i].similarity
                   : hi > lo ? (res->hits[i].score - lo) / (hi - lo)
                             : 1.0;
        sc[i] = (struct scored){i, ALPHA * q + BETA * pu - GAMMA * pd};
    }
    if (rc == PX_OK) {
        qsort(sc, n, sizeof *sc, cmp_scored);
        struct app_hit *h = px_calloc(n, sizeof *h);
        if (h == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < n; i++) {
                h[i] = res->hits[sc[i].i];
                h[i].score = sc[i].s;
            }
            px_free(res->hits);
            res->hits = h;
            if (res->n_hits > top) res->n_hits = top;
            *dense = use_vec;
        }
    }
    px_free(mu);
    px_free(x);
    px_free(sc);
    px_free(rows);
    px_free(marked);
    if (rc != PX_OK) app_result_free(res);
    return rc;
}

static int put_ids(struct buf *out, const char *const *ids, size_t n, struct px_err *err)
{
    int rc = buf_append(out, "[", 1, err);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        if (i > 0) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = jsonx_put_cstr(out, ids[i], err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

int app_feedback_to_json(const struct app_book *b, const char *query, size_t len,
                         const char *const *up, size_t n_up, const char *const *down,
                         size_t n_down, bool dense, const struct app_result *res,
                         struct buf *out, struct px_err *err)
{
    size_t mark = out->len;
    int rc = app_result_to_json(b, query, len, res, out, err);
    if (rc != PX_OK || n_up + n_down == 0) return rc;
    // {"query": ..., rest} -> {"feedback": {...}, "query": ..., rest}
    struct buf tail;
    buf_init(&tail, LIMIT_HTTP_RESPONSE);
    rc = buf_append(&tail, out->data + mark + 1, out->len - mark - 1, err);
    out->len = mark;
    if (rc == PX_OK) rc = buf_printf(out, err, "{\"feedback\": {\"up\": ");
    if (rc == PX_OK) rc = put_ids(out, up, n_up, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"down\": ");
    if (rc == PX_OK) rc = put_ids(out, down, n_down, err);
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"space\": \"%s\"}, ", dense ? "vectors" : "features");
    }
    if (rc == PX_OK) rc = buf_append(out, tail.data, tail.len, err);
    buf_free(&tail);
    return rc;
}
