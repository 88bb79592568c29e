// segfit.c — fitting customer segments (app_segments_fit in app_segments.h): every customer of
// the database read from the store, turned into features (their profile, or the customer
// embeddings of a saved GAT recommender), clustered by k-means (k given, or chosen by the mean
// silhouette over a range), the segment (1 = largest) stored in an integer column of the
// customers table so search filters on it ("segment 3"), and the summary document returned.
//
// Profile features: numbers, money, percentages, dates (days) and yes/no standardised to mean 0
// and s.d. 1 (missing: the mean); categories one-hot scaled by 1/sqrt(2) so a category weighs
// like one number; lists and free text are left out, as is the segment column itself.
//
// Design: the store write is one transaction (column added if missing, every customer's segment
// upserted), so a failure leaves the column as it was. What sets each segment apart is the
// summary app/segments.c computes from the book (the one GET /api/segments gives), over the book
// opened read-only and lexical-only after the write, so the fit's answer and the API's describe
// the same stored segments the same way.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_registry.h"
#include "app_segments.h"
#include "coltype.h"
#include "datex.h"
#include "jsonx.h"
#include "limits.h"
#include "book_int.h"
#include "mem.h"
#include "recommend_int.h"
#include "segment.h"
#include "segments_int.h"
#include "store.h"

struct rows {
    size_t n;
    char **ids;  // (n)
    double *num; // (n, n_cols) numeric value or NAN
    char **cat;  // (n, n_cols) category value or NULL
};

static void rows_free(struct rows *r, size_t n_cols)
{
    for (size_t i = 0; i < r->n; i++) {
        px_free(r->ids[i]);
        for (size_t j = 0; j < n_cols; j++) {
            px_free(r->cat[i * n_cols + j]);
        }
    }
    px_free(r->ids);
    px_free(r->num);
    px_free(r->cat);
}

static bool is_num(enum coltype t)
{
    return coltype_is_numeric(t) || t == COLTYPE_BOOL || t == COLTYPE_DATE;
}

// Days since 1970 of a date value (coltype keeps it as checked "YYYY-MM-DD"); NAN otherwise.
static double date_days(const char *s)
{
    int64_t days;
    return datex_parse_iso(s, strlen(s), &days) ? (double)days : NAN;
}

// Reads every customer: ids, numbers (as doubles) and category values.
static int read_rows(struct store *st, const struct store_schema *sc, struct rows *r,
                     struct px_err *err)
{
    size_t cap = 0, nc = sc->n_cols;
    struct store_iter *it = NULL;
    int rc = store_iter_new(st, sc, &it, err);
    while (rc == PX_OK) {
        bool has = false;
        const char *id = NULL;
        const struct coltype_value *v = NULL;
        if ((rc = store_iter_next(it, &has, &id, &v, err)) != PX_OK || !has) {
            break;
        }
        if (r->n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **ids = px_realloc(r->ids, cap * sizeof *ids);
            double *num = ids ? px_realloc(r->num, cap * nc * sizeof *num) : NULL;
            char **cat = num ? px_realloc(r->cat, cap * nc * sizeof *cat) : NULL;
            r->ids = ids ? ids : r->ids;
            r->num = num ? num : r->num;
            r->cat = cat ? cat : r->cat;
            if (cat == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
                break;
            }
        }
        size_t i = r->n;
        for (size_t j = 0; j < nc; j++) {
            r->num[i * nc + j] = NAN;
            r->cat[i * nc + j] = NULL;
        }
        r->ids[i] = px_strdup(id);
        r->n++;
        if (r->ids[i] == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
            break;
        }
        for (size_t j = 0; j < nc; j++) {
            enum coltype t = sc->cols[j].type;
            if (v[j].missing || sc->cols[j].is_id) {
                continue;
            }
            if (t == COLTYPE_DATE) {
                r->num[i * nc + j] = date_days(v[j].date);
            } else if (t == COLTYPE_BOOL || t == COLTYPE_INTEGER) {
                r->num[i * nc + j] = (double)v[j].i;
            } else if (is_num(t)) {
                r->num[i * nc + j] = v[j].d;
            } else if (t == COLTYPE_CATEGORY &&
                       (r->cat[i * nc + j] = px_strndup(v[j].s, v[j].len)) == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
                break;
            }
        }
    }
    store_iter_free(it);
    return rc;
}

struct colstat {
    double mean, sd;
    char **levels; // (n_levels) borrowed from rows
    size_t n_levels;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Column statistics and the feature matrix (n, *dim).
static int build_features(const struct store_schema *sc, const struct rows *r, int skip,
                          struct colstat *st, float **out, size_t *dim, struct px_err *err)
{
    size_t nc = sc->n_cols, d = 0;
    for (size_t j = 0; j < nc; j++) {
        if ((int)j == skip || sc->cols[j].is_id) {
            continue;
        }
        enum coltype t = sc->cols[j].type;
        if (is_num(t)) {
            double s = 0, s2 = 0;
            size_t m = 0;
            for (size_t i = 0; i < r->n; i++) {
                double x = r->num[i * nc + j];
                if (!isnan(x)) {
                    s += x;
                    s2 += x * x;
                    m++;
                }
            }
            st[j].mean = m ? s / (double)m : 0;
            double var = m ? s2 / (double)m - st[j].mean * st[j].mean : 0;
            st[j].sd = var > 1e-12 ? sqrt(var) : 0;
            d += st[j].sd > 0;
        } else if (t == COLTYPE_CATEGORY) {
            char **all = px_calloc(r->n ? r->n : 1, sizeof *all);
            if (all == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory");
            }
            size_t m = 0;
            for (size_t i = 0; i < r->n; i++) {
                if (r->cat[i * nc + j] != NULL) {
                    all[m++] = r->cat[i * nc + j];
                }
            }
            qsort(all, m, sizeof *all, cmp_str);
            size_t u = 0;
            for (size_t i = 0; i < m; i++) {
                if (u == 0 || strcmp(all[u - 1], all[i]) != 0) {
                    all[u++] = all[i];
                }
            }
            st[j].levels = all;
            st[j].n_levels = u;
            d += u;
        }
    }
    if (d == 0) {
        return px_fail(err, PX_EINVAL, "no numeric or category column to segment on");
    }
    if (d > LIMIT_KMEANS_DIM) {
        return px_fail(err, PX_ELIMIT, "%zu profile features: over %d (LIMIT_KMEANS_DIM)", d,
                       LIMIT_KMEANS_DIM);
    }
    float *x = px_calloc(r->n * d, sizeof *x);
    if (x == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for %zu x %zu features", r->n, d);
    }
    for (size_t i = 0; i < r->n; i++) {
        float *xi = x + i * d;
        for (size_t j = 0; j < nc; j++) {
            if ((int)j == skip || sc->cols[j].is_id) {
                continue;
            }
            if (is_num(sc->cols[j].type) && st[j].sd > 0) {
                double v = r->num[i * nc + j];
                *xi++ = isnan(v) ? 0.0f : (float)((v - st[j].mean) / st[j].sd);
            } else if (sc->cols[j].type == COLTYPE_CATEGORY) {
                const char *v = r->cat[i * nc + j];
                for (size_t k = 0; k < st[j].n_levels; k++) {
                    bool on = v != NULL && strcmp(v, st[j].levels[k]) == 0;
                    xi[k] = on ? 0.70710678f : 0.0f;
                }
                xi += st[j].n_levels;
            }
        }
    }
    *out = x;
    *dim = d;
    return PX_OK;
}

struct app_segments_params app_segments_default_params(void)
{
    struct kmeans_params kp = kmeans_default_params();
    struct app_segments_params p = {
        .db = "prospect.db",
        .column = "segment",
        .on = APP_SEGMENTS_PROFILE,
        .model = "recommender",
        .k = kp.k,
        .seed = kp.seed,
        .restarts = kp.restarts,
    };
    return p;
}

static int check_params(const struct app_segments_params *p, struct px_err *err)
{
    if (p->db == NULL || p->column == NULL || p->column[0] == '\0') {
        return px_fail(err, PX_EINVAL, "segments need a database and a column name");
    }
    if (p->k_lo == 0 && (p->k < 1 || p->k > LIMIT_KMEANS_K)) {
        return px_fail(err, PX_EINVAL, "k must be 1..%d, got %d", LIMIT_KMEANS_K, p->k);
    }
    if (p->k_lo != 0 && (p->k_lo < 2 || p->k_hi < p->k_lo || p->k_hi > LIMIT_KMEANS_K)) {
        return px_fail(err, PX_EINVAL, "the k range must be LO..HI with 2 <= LO <= HI <= %d",
                       LIMIT_KMEANS_K);
    }
    if (p->restarts < 1 || p->restarts > LIMIT_KMEANS_RESTARTS) {
        return px_fail(err, PX_EINVAL, "restarts must be 1..%d", LIMIT_KMEANS_RESTARTS);
    }
    if (p->on != APP_SEGMENTS_PROFILE && p->on != APP_SEGMENTS_GAT) {
        return px_fail(err, PX_EINVAL, "segments are fitted on the profile or the GAT embeddings");
    }
    return PX_OK;
}

// The customers' embeddings in the recommender p->model, in the rows' order, into *x (n, *dim).
static int gat_features(const struct app_segments_params *p, const struct rows *r, float **x,
                        size_t *dim, struct px_err *err)
{
    struct rec_model rm;
    char name[LIMIT_BUNDLE_NAME_BYTES + 16];
    int rc = app_rec_load(p->registry, p->model ? p->model : "recommender", &rm, NULL, name,
                          sizeof name, err);
    if (rc != PX_OK) {
        return rc;
    }
    size_t d = (size_t)rm.dim;
    float *v = px_calloc(r->n ? r->n * d : 1, sizeof *v);
    if (v == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->n && rc == PX_OK; i++) {
        long c = rec_model_find_customer(&rm, r->ids[i]);
        if (c < 0) {
            rc = px_fail(err, PX_EINVAL,
                         "customer '%s' is not in the recommender %s; segment on the profile, or "
                         "retrain on this book",
                         r->ids[i], name);
            break;
        }
        memcpy(v + i * d, rm.emb + (size_t)c * d, d * sizeof *v);
    }
    rec_model_free(&rm);
    if (rc != PX_OK) {
        px_free(v);
        return rc;
    }
    *x = v;
    *dim = d;
    return PX_OK;
}

// Stores segment assign[i] + 1 of every row in column (added when missing), in one transaction.
// The book's index files go before the commit (a kill then leaves none: the book is built in
// memory, never from a file that misses the segments) and the current generation's is written
// again after it.
static int store_segments(struct store *st, const char *db_path, const struct store_schema *sc,
                          int seg_col, const char *column, const struct rows *r,
                          const int32_t *assign, struct px_err *err)
{
    int pos = seg_col >= 0 ? sc->cols[seg_col].position : 0;
    enum coltype t = COLTYPE_INTEGER;
    struct store_upsert *up = NULL;
    int rc = store_begin(st, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (seg_col < 0) {
        rc = store_add_column(st, column, "Segment", COLTYPE_INTEGER, false, &pos, err);
    }
    if (rc == PX_OK)
        rc = store_upsert_new(st, &pos, &t, 1, &up, err);
    for (size_t i = 0; i < r->n && rc == PX_OK; i++) {
        struct coltype_value val = {.i = assign[i] + 1};
        bool inserted = false;
        rc = store_upsert_row(up, r->ids[i], strlen(r->ids[i]), &val, &inserted, err);
    }
    store_upsert_free(up);
    if (rc == PX_OK) {
        book_index_prune(db_path, UINT64_MAX);
        rc = store_commit(st, err);
    }
    if (rc != PX_OK) {
        store_rollback(st);
        return rc;
    }
    return book_index_rebuild(st, db_path, NULL, 1, false, err);
}

// The fit's own members of the answer, before the summary's.
static int put_fit(const struct app_segments_params *p, const struct kmeans_result *km,
                   size_t dim, const double *scores, bool stored, struct buf *out,
                   struct px_err *err)
{
    int rc = buf_printf(out, err, "{\"k\": %d, \"on\": \"%s\", \"features\": %zu", km->k,
                        p->on == APP_SEGMENTS_GAT ? "gat" : "profile", dim);
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "silhouette", false, err);
    if (rc == PX_OK)
        rc = jsonx_put_number(out, km->silhouette, 6, err);
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "inertia", false, err);
    if (rc == PX_OK)
        rc = jsonx_put_number(out, km->inertia, 6, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"silhouette_by_k\": [");
    for (int k = p->k_lo; p->k_lo > 0 && k <= p->k_hi && rc == PX_OK; k++) {
        rc = buf_printf(out, err, "%s{\"k\": %d, \"silhouette\": ", k > p->k_lo ? ", " : "", k);
        if (rc == PX_OK)
            rc = jsonx_put_number(out, scores[k - p->k_lo], 6, err);
        if (rc == PX_OK)
            rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "], \"stored\": %s, ", stored ? "true" : "false");
    return rc;
}

int app_segments_fit(const struct app_segments_params *p, struct buf *out, struct px_err *err)
{
    int rc = check_params(p, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct store *st = NULL;
    struct store_schema sc = {0};
    struct rows r = {0};
    struct colstat *cs = NULL;
    struct kmeans_result km = {0};
    struct app_book *book = NULL;
    float *x = NULL;
    int *seg = NULL;
    size_t dim = 0;
    double scores[LIMIT_KMEANS_K];
    int seg_col = -1;
    rc = store_open(p->db, NULL, &st, err);
    if (rc == PX_OK)
        rc = store_schema(st, &sc, err);
    if (rc == PX_OK && sc.n_cols == 0) {
        rc = px_fail(err, PX_EINVAL, "%s has no customers (prospect import --csv FILE first)",
                     p->db);
    }
    if (rc == PX_OK) {
        seg_col = store_schema_find(&sc, p->column);
        if (seg_col >= 0 && sc.cols[seg_col].type != COLTYPE_INTEGER) {
            rc = px_fail(err, PX_EINVAL,
                         "column '%s' exists and holds %s values; choose another column",
                         p->column, coltype_name(sc.cols[seg_col].type));
        }
    }
    if (rc == PX_OK && (cs = px_calloc(sc.n_cols, sizeof *cs)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (rc == PX_OK)
        rc = read_rows(st, &sc, &r, err);
    if (rc == PX_OK) {
        rc = p->on == APP_SEGMENTS_GAT ? gat_features(p, &r, &x, &dim, err)
                                       : build_features(&sc, &r, seg_col, cs, &x, &dim, err);
    }
    if (rc == PX_OK) {
        struct kmeans_params kp = kmeans_default_params();
        kp.k = p->k;
        kp.seed = p->seed;
        kp.restarts = p->restarts;
        rc = p->k_lo > 0 ? kmeans_choose(x, r.n, dim, p->k_lo, p->k_hi, &kp, &km, scores, err)
                         : kmeans_fit(x, r.n, dim, &kp, &km, err);
    }
    if (rc == PX_OK && !p->dry_run)
        rc = store_segments(st, p->db, &sc, seg_col, p->column, &r, km.assign, err);
    if (rc == PX_OK && (seg = px_malloc((r.n ? r.n : 1) * sizeof *seg)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == PX_OK && i < r.n; i++) {
        seg[i] = km.assign[i] + 1;
    }
    if (rc == PX_OK) {
        struct app_book_params bp = app_book_default_params();
        bp.db_path = p->db;
        bp.read_only = true;
        bp.lexical_only = true;
        rc = app_book_open(&bp, &book, err);
    }
    if (rc == PX_OK)
        rc = put_fit(p, &km, dim, scores, !p->dry_run, out, err);
    if (rc == PX_OK) {
        rc = app_segments_assign_members(book, p->column, (const char *const *)r.ids, seg, r.n,
                                         out, err);
    }
    if (rc == PX_OK)
        rc = buf_append(out, "}", 1, err);
    app_book_close(book);
    px_free(seg);
    if (cs != NULL) {
        for (size_t j = 0; j < sc.n_cols; j++) {
            px_free(cs[j].levels);
        }
    }
    px_free(cs);
    px_free(x);
    kmeans_result_free(&km);
    rows_free(&r, sc.n_cols);
    store_schema_free(&sc);
    store_close(st);
    return rc;
}
