// book.c — the customer book: indexing (rows -> profile text -> vectors in the store) and
// search (query plan -> candidate bitmap -> dense + lexical rankings -> fusion with boosts).
//
// Loading (app_book_open) walks the store once, in customer order, and keeps per row: its id,
// each column's formatted value (rowtext), a columnar copy for filters (search/filter.h) and
// its profile text, which feeds a BM25 index. The query schema is built from the same pass:
// numeric columns get 11 distribution points (min, deciles, max) from the data, categorical and
// list columns their distinct values. Vectors are loaded when the model's weights are present
// and the store holds vectors for that model (model id = sha256 of model.safetensors).
//
// Ranking (app_book_search):
//   1. hard filters -> candidate bitmap (every result passes every listed filter);
//   2. dense: the plan's semantic text embedded, top K cosine among candidates (vindex);
//      lexical: BM25 of the semantic text among candidates;  K = max(100, 20 * top);
//   3. reciprocal rank fusion of the two lists (k = 60, fuse.h) plus boosts, a boost of weight w
//      counting as w * 2 / (k + 1) — a weight-1 boost is worth two first places, so satisfied
//      soft terms lead and the text decides within them;
//   4. no semantic text (a pure filter query): candidates by boost, then customer order.
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_encoder.h"
#include "assets.h"
#include "bm25.h"
#include "coltype.h"
#include "filter.h"
#include "fsx.h"
#include "fuse.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "pool.h"
#include "rowtext.h"
#include "sha256.h"
#include "store.h"
#include "strparse.h"
#include "vindex.h"


#define N_DIST_POINTS 11
#define RRF_K 60.0

// ---- shared helpers ----

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

// One row's values as rowtext fields; text points into vals or into scratch (numbers).
static void row_fields(const struct store_schema *sc, const struct coltype_value *vals,
                       struct rowtext_field *f, char (*scratch)[48])
{
    for (size_t c = 0; c < sc->n_cols; c++) {
        const struct store_column *col = &sc->cols[c];
        const struct coltype_value *v = &vals[c];
        f[c] = (struct rowtext_field){col->name, col->label, kind_of(col->type), NULL, 0};
        if (v->missing) {
            continue;
        }
        // the member that holds the value follows the column's SQL type (coltype.h)
        if (col->type == COLTYPE_INTEGER || col->type == COLTYPE_BOOL) {
            f[c].num = (double)v->i;
            snprintf(scratch[c], sizeof scratch[c], "%lld", (long long)v->i);
            f[c].value = scratch[c];
        } else if (coltype_is_numeric(col->type)) {
            f[c].num = v->d;
            snprintf(scratch[c], sizeof scratch[c], "%.17g", v->d);
            f[c].value = scratch[c];
        } else {
            size_t n = v->len < sizeof scratch[c] - 1 ? v->len : sizeof scratch[c] - 1;
            if (v->s != NULL && v->len == strlen(v->s)) {
                f[c].value = v->s; // NUL-terminated text from the store
            } else {
                memcpy(scratch[c], v->s ? v->s : "", n);
                scratch[c][n] = '\0';
                f[c].value = scratch[c];
            }
        }
    }
}

static int model_id_of(const char *dir, char *out, size_t n, struct px_err *err)
{
    char path[4200], hex[65];
    int rc = fsx_join(path, sizeof path, dir, "model.safetensors", err);
    if (rc == PX_OK) {
        rc = sha256_file_hex(path, hex, err);
    }
    if (rc == PX_OK) {
        snprintf(out, n, "sha256:%s", hex);
    }
    return rc;
}

// Compiles the template file at path (NULL: *out = NULL, the default rendering) against the
// schema's column names and labels.
static int load_template(const char *path, const struct store_schema *sc,
                         struct rowtext_template **out, struct px_err *err)
{
    *out = NULL;
    if (path == NULL) {
        return PX_OK;
    }
    char *text = NULL;
    size_t len = 0;
    struct rowtext_field *f = px_calloc(sc->n_cols ? sc->n_cols : 1, sizeof *f);
    int rc = f == NULL ? px_fail(err, PX_ENOMEM, "out of memory")
                       : fsx_read_file(path, LIMIT_CONFIG_FILE_BYTES, &text, &len, err);
    for (size_t c = 0; rc == PX_OK && c < sc->n_cols; c++) {
        f[c].name = sc->cols[c].name;
        f[c].label = sc->cols[c].label;
    }
    if (rc == PX_OK) {
        rc = rowtext_template_compile(text, len, f, sc->n_cols, out, err);
        if (rc != PX_OK) {
            px_err_prefix(err, "%s", path);
        }
    }
    px_free(text);
    px_free(f);
    return rc;
}

// ---- indexing ----

#define INDEX_BATCH 256

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int app_index(const char *db_path, const char *model_flag, const char *template_path,
              int n_threads, app_progress_fn progress, void *user,
              struct app_index_stats *stats, struct px_err *err)
{
    int rc = PX_OK;
    struct rowtext_template *tpl = NULL;
    struct store *st = NULL;
    struct store_schema sc = {0};
    struct store_ids todo = {0};
    struct embedder *e = NULL;
    struct embed_ctx *ctx = NULL;
    struct store_iter *it = NULL;
    struct rowtext_field *fields = NULL;
    char(*scratch)[48] = NULL;
    struct buf texts[INDEX_BATCH];
    const char *ptr[INDEX_BATCH];
    size_t lens[INDEX_BATCH];
    char *ids[INDEX_BATCH] = {0};
    float *vecs = NULL;
    size_t n_batch = 0;
    char dir[4096];
    memset(stats, 0, sizeof *stats);
    for (int i = 0; i < INDEX_BATCH; i++) {
        buf_init(&texts[i], LIMIT_TEXT_BYTES);
    }
    rc = app_open_embedder(model_flag, &e, dir, sizeof dir, err);
    if (rc == PX_OK) {
        rc = model_id_of(dir, stats->model_id, sizeof stats->model_id, err);
    }
    if (rc == PX_OK) {
        struct embed_ctx_params ep = embed_ctx_default_params();
        ep.n_threads = n_threads;
        rc = embed_ctx_new(e, &ep, &ctx, err);
    }
    if (rc == PX_OK) {
        rc = store_open(db_path, NULL, &st, err);
    }
    if (rc == PX_OK) {
        rc = store_schema(st, &sc, err);
    }
    if (rc == PX_OK) {
        rc = load_template(template_path, &sc, &tpl, err);
    }
    if (rc == PX_OK) {
        rc = store_count_customers(st, &stats->n_customers, err);
    }
    if (rc == PX_OK) {
        rc = store_customers_without_vector(st, stats->model_id, &todo, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    stats->n_skipped = stats->n_customers - todo.n;
    if (todo.n == 0) {
        goto done;
    }
    qsort(todo.ids, todo.n, sizeof *todo.ids, cmp_str);
    const int dim = embedder_info(e)->dim;
    fields = px_calloc(sc.n_cols ? sc.n_cols : 1, sizeof *fields);
    scratch = px_calloc(sc.n_cols ? sc.n_cols : 1, sizeof *scratch);
    vecs = px_malloc((size_t)INDEX_BATCH * (size_t)dim * sizeof *vecs);
    if (fields == NULL || scratch == NULL || vecs == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory indexing");
        goto done;
    }
    rc = store_iter_new(st, &sc, &it, err);
    bool has_row = true;
    while (rc == PX_OK) {
        const char *id = NULL;
        const struct coltype_value *vals = NULL;
        rc = store_iter_next(it, &has_row, &id, &vals, err);
        if (rc != PX_OK) {
            break;
        }
        if (has_row && bsearch(&id, todo.ids, todo.n, sizeof *todo.ids, cmp_str) != NULL) {
            row_fields(&sc, vals, fields, scratch);
            buf_reset(&texts[n_batch]);
            rc = rowtext_render(tpl, fields, sc.n_cols, &texts[n_batch], err);
            if (rc == PX_OK && (ids[n_batch] = px_strdup(id)) == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory indexing");
            }
            if (rc != PX_OK) {
                break;
            }
            ptr[n_batch] = texts[n_batch].data ? texts[n_batch].data : "";
            lens[n_batch] = texts[n_batch].len;
            n_batch++;
        }
        if (n_batch == INDEX_BATCH || (!has_row && n_batch > 0)) {
            struct embed_stats es;
            rc = embed_texts(ctx, ptr, lens, n_batch, vecs, NULL, NULL, &es, err);
            if (rc != PX_OK) {
                px_err_prefix(err, "customer '%s'", ids[es.i_error]);
                break;
            }
            rc = store_put_vectors(st, stats->model_id, (const char *const *)ids, vecs, n_batch,
                                   dim, err);
            if (rc != PX_OK) {
                break;
            }
            stats->n_embedded += n_batch;
            for (size_t i = 0; i < n_batch; i++) {
                px_free(ids[i]);
                ids[i] = NULL;
            }
            n_batch = 0;
            if (progress != NULL) {
                progress(stats->n_embedded, todo.n, user);
            }
        }
        if (!has_row) {
            break;
        }
    }
done:
    for (int i = 0; i < INDEX_BATCH; i++) {
        buf_free(&texts[i]);
        px_free(ids[i]);
    }
    px_free(vecs);
    px_free(fields);
    px_free(scratch);
    rowtext_template_free(tpl);
    store_iter_free(it);
    store_ids_free(&todo);
    store_schema_free(&sc);
    store_close(st);
    embed_ctx_free(ctx);
    embedder_close(e);
    return rc;
}

// ---- the book ----

// What one search needs for itself: an embedder context (its arena is scratch for the query's
// forward pass) and a thread pool (the vindex scan and the encoder split across n_threads).
// Everything else in the book is read-only, so n_lanes searches run at once.
struct lane {
    struct embed_ctx *ectx; // owned, NULL without the dense path
    struct pool *pool;      // owned
};

// Recent query vectors by semantic text (exact bytes), least recently used out first. Embedding
// the query is most of a dense search's time, and the same texts come back: sample queries, a
// page re-running a search with one filter chip removed (the text part is unchanged), paging.
struct qcache_entry {
    uint64_t hash;      // FNV-1a of the text; 0 for an empty slot
    char *text;         // owned
    size_t len;
    unsigned long long used; // tick of the last hit
};

struct qcache {
    struct qcache_entry e[LIMIT_QUERY_CACHE];
    float *vecs; // owned: (LIMIT_QUERY_CACHE, dim)
    int dim;
    unsigned long long tick;
    size_t n_hits, n_misses;
    pthread_mutex_t lock;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h ? h : 1;
}

static void qcache_free(struct qcache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < LIMIT_QUERY_CACHE; i++) {
        px_free(c->e[i].text);
    }
    pthread_mutex_destroy(&c->lock);
    px_free(c->vecs);
    px_free(c);
}

static struct qcache *qcache_new(int dim)
{
    struct qcache *c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->dim = dim;
    c->vecs = px_malloc((size_t)LIMIT_QUERY_CACHE * (size_t)dim * sizeof *c->vecs);
    if (c->vecs == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        px_free(c->vecs);
        px_free(c);
        return NULL;
    }
    return c;
}

// Copies the cached vector of text into q; false when it is not cached.
static bool qcache_get(struct qcache *c, const char *text, size_t len, float *q)
{
    uint64_t h = fnv1a(text, len);
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < LIMIT_QUERY_CACHE && !hit; i++) {
        struct qcache_entry *e = &c->e[i];
        if (e->hash == h && e->len == len && memcmp(e->text, text, len) == 0) {
            memcpy(q, c->vecs + i * (size_t)c->dim, (size_t)c->dim * sizeof *q);
            e->used = ++c->tick;
            hit = true;
        }
    }
    c->n_hits += hit;
    c->n_misses += !hit;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

// Keeps q as text's vector in the least recently used slot (nothing when out of memory).
static void qcache_put(struct qcache *c, const char *text, size_t len, const float *q)
{
    char *copy = px_malloc(len + 1);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    pthread_mutex_lock(&c->lock);
    size_t w = 0;
    for (size_t i = 1; i < LIMIT_QUERY_CACHE; i++) {
        if (c->e[i].used < c->e[w].used) w = i;
    }
    px_free(c->e[w].text);
    c->e[w] = (struct qcache_entry){fnv1a(text, len), copy, len, ++c->tick};
    memcpy(c->vecs + w * (size_t)c->dim, q, (size_t)c->dim * sizeof *q);
    pthread_mutex_unlock(&c->lock);
}

struct app_book {
    struct store_schema sc;       // owned
    size_t n_rows, n_cols;
    char **ids;                   // owned: (n_rows)
    uint32_t *by_id;              // owned: (n_rows) rows sorted by id, for app_book_find
    char *raw;                    // owned: every raw value, NUL-terminated, back to back
    size_t *raw_off;              // owned: (n_rows * n_cols) offsets into raw
    double *num;                  // owned: (n_cols * n_rows) numbers (numeric, bool), NaN missing
    struct query_schema *qs;      // owned
    struct query_lexicon *lex;    // owned
    struct coltable *table;       // owned
    struct bm25 *bm25;            // owned
    struct vindex *vx;            // owned, NULL without the dense path
    float *vectors;               // owned: (n_rows, dim) for app_book_similar, NULL without
    bool *has_vec;                // owned: (n_rows)
    int dim;
    struct embedder *e;           // owned, NULL without the dense path
    struct qcache *qc;            // owned, NULL without the dense path: recent query vectors
    struct lane *lanes;           // owned: (n_lanes) per-search state, see lane_take
    size_t n_lanes;
    size_t *free_lanes;           // owned: stack of idle lane indices, (n_free) of them
    size_t n_free;
    pthread_mutex_t lane_lock;    // guards free_lanes / n_free
    pthread_cond_t lane_idle;     // signalled when a lane is returned
    bool lane_sync;               // lane_lock and lane_idle were made
    char dense_status[PX_ERR_MSG_MAX + 4200]; // "" when the dense path runs without remark
};

struct app_book_params app_book_default_params(void)
{
    struct app_book_params p = {.db_path = "prospect.db", .n_threads = 1, .n_lanes = 1};
    return p;
}

// Blocks until a lane is idle and takes it.
static struct lane *lane_take(struct app_book *b)
{
    pthread_mutex_lock(&b->lane_lock);
    while (b->n_free == 0) {
        pthread_cond_wait(&b->lane_idle, &b->lane_lock);
    }
    struct lane *l = &b->lanes[b->free_lanes[--b->n_free]];
    pthread_mutex_unlock(&b->lane_lock);
    return l;
}

static void lane_give(struct app_book *b, struct lane *l)
{
    pthread_mutex_lock(&b->lane_lock);
    b->free_lanes[b->n_free++] = (size_t)(l - b->lanes);
    pthread_cond_signal(&b->lane_idle);
    pthread_mutex_unlock(&b->lane_lock);
}

// Makes n_lanes lanes, each with a pool of n_threads (embedder contexts come with the dense
// path, in load_dense).
static int lanes_new(struct app_book *b, int n_lanes, int n_threads, struct px_err *err)
{
    if (n_lanes < 1 || n_lanes > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "concurrent searches must be 1..%d, got %d", LIMIT_THREADS,
                       n_lanes);
    }
    b->lanes = px_calloc((size_t)n_lanes, sizeof *b->lanes);
    b->free_lanes = px_calloc((size_t)n_lanes, sizeof *b->free_lanes);
    if (b->lanes == NULL || b->free_lanes == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (pthread_mutex_init(&b->lane_lock, NULL) != 0) {
        return px_fail(err, PX_EINTERNAL, "pthread_mutex_init failed");
    }
    if (pthread_cond_init(&b->lane_idle, NULL) != 0) {
        pthread_mutex_destroy(&b->lane_lock);
        return px_fail(err, PX_EINTERNAL, "pthread_cond_init failed");
    }
    b->lane_sync = true;
    for (int i = 0; i < n_lanes; i++) {
        int rc = pool_new(n_threads, &b->lanes[i].pool, err);
        if (rc != PX_OK) {
            return rc;
        }
        b->n_lanes++;
        b->free_lanes[b->n_free++] = (size_t)i;
    }
    return PX_OK;
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// qsort_r comparator (glibc argument order): rows by customer id.
static int cmp_row_id(const void *a, const void *b, void *book)
{
    const struct app_book *bk = book;
    return strcmp(bk->ids[*(const uint32_t *)a], bk->ids[*(const uint32_t *)b]);
}

static bool is_number_type(enum coltype t)
{
    return coltype_is_numeric(t) || t == COLTYPE_BOOL;
}

// Pass over the store: ids, raw values, numbers, profile texts into BM25.
static int load_rows(struct app_book *b, struct store *st, const char *template_path,
                     struct px_err *err)
{
    int rc = PX_OK;
    struct store_iter *it = NULL;
    struct rowtext_template *tpl = NULL;
    struct rowtext_field *fields = NULL;
    char(*scratch)[48] = NULL;
    struct buf raw, text;
    size_t cap_rows = 0;
    buf_init(&raw, (size_t)1 << 34);
    buf_init(&text, LIMIT_TEXT_BYTES);
    size_t nc = b->n_cols;
    rc = store_count_customers(st, &cap_rows, err);
    if (rc != PX_OK) {
        goto done;
    }
    fields = px_calloc(nc ? nc : 1, sizeof *fields);
    scratch = px_calloc(nc ? nc : 1, sizeof *scratch);
    b->ids = px_calloc(cap_rows ? cap_rows : 1, sizeof *b->ids);
    b->raw_off = px_malloc((cap_rows ? cap_rows : 1) * (nc ? nc : 1) * sizeof *b->raw_off);
    b->num = px_malloc((cap_rows ? cap_rows : 1) * (nc ? nc : 1) * sizeof *b->num);
    if (!fields || !scratch || !b->ids || !b->raw_off || !b->num) {
        rc = px_fail(err, PX_ENOMEM, "out of memory loading %zu customers", cap_rows);
        goto done;
    }
    struct bm25_params bp = bm25_default_params();
    rc = load_template(template_path, &b->sc, &tpl, err);
    if (rc == PX_OK) {
        rc = bm25_new(&bp, &b->bm25, err);
    }
    if (rc == PX_OK) {
        rc = store_iter_new(st, &b->sc, &it, err);
    }
    while (rc == PX_OK) {
        bool has_row = false;
        const char *id = NULL;
        const struct coltype_value *vals = NULL;
        rc = store_iter_next(it, &has_row, &id, &vals, err);
        if (rc != PX_OK || !has_row) {
            break;
        }
        size_t r = b->n_rows;
        if (r >= cap_rows) {
            rc = px_fail(err, PX_EINTERNAL, "the customer table grew while loading");
            break;
        }
        b->ids[r] = px_strdup(id);
        if (b->ids[r] == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory loading customers");
            break;
        }
        b->n_rows++;
        row_fields(&b->sc, vals, fields, scratch);
        for (size_t c = 0; c < nc && rc == PX_OK; c++) {
            b->raw_off[r * nc + c] = raw.len;
            const char *v = fields[c].value ? fields[c].value : "";
            rc = buf_append(&raw, v, strlen(v) + 1, err);
            b->num[c * cap_rows + r] =
                is_number_type(b->sc.cols[c].type) && !vals[c].missing ? fields[c].num : NAN;
        }
        buf_reset(&text);
        if (rc == PX_OK) {
            rc = rowtext_render(tpl, fields, nc, &text, err);
        }
        if (rc == PX_OK) {
            rc = bm25_add_doc(b->bm25, (uint32_t)r, text.data ? text.data : "", text.len, err);
        }
    }
    if (rc == PX_OK) {
        rc = bm25_finalize(b->bm25, err);
    }
    b->raw = buf_take(&raw);
done:
    buf_free(&raw);
    buf_free(&text);
    px_free(fields);
    px_free(scratch);
    rowtext_template_free(tpl);
    store_iter_free(it);
    return rc;
}

static const char *raw_at(const struct app_book *b, size_t r, size_t c)
{
    return b->raw ? b->raw + b->raw_off[r * b->n_cols + c] : "";
}

// Query schema from the data: distribution points for numbers, distinct values for categories.
static int build_query_schema(struct app_book *b, size_t stride, struct px_err *err)
{
    int rc = query_schema_new(&b->qs, err);
    double *tmp = px_malloc((b->n_rows ? b->n_rows : 1) * sizeof *tmp);
    const char **vals = px_malloc(LIMIT_QUERY_VALUES * sizeof *vals);
    if (rc == PX_OK && (tmp == NULL || vals == NULL)) {
        rc = px_fail(err, PX_ENOMEM, "out of memory building the query schema");
    }
    for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
        const struct store_column *col = &b->sc.cols[c];
        if (col->is_id || (int)c == b->sc.i_id) {
            rc = query_schema_add_other(b->qs, col->name, col->label, QUERY_COL_ID, err);
        } else if (coltype_is_numeric(col->type)) {
            size_t n = 0;
            for (size_t r = 0; r < b->n_rows; r++) {
                double v = b->num[c * stride + r];
                if (!isnan(v)) {
                    tmp[n++] = v;
                }
            }
            if (n == 0) {
                rc = query_schema_add_other(b->qs, col->name, col->label, QUERY_COL_TEXT, err);
                continue;
            }
            qsort(tmp, n, sizeof *tmp, cmp_f64);
            double q[N_DIST_POINTS];
            for (int k = 0; k < N_DIST_POINTS; k++) {
                q[k] = tmp[(size_t)((double)(n - 1) * k / (N_DIST_POINTS - 1) + 0.5)];
            }
            enum query_unit unit = col->type == COLTYPE_CURRENCY  ? QUERY_UNIT_CURRENCY
                                   : col->type == COLTYPE_PERCENT ? QUERY_UNIT_PERCENT
                                                                  : QUERY_UNIT_NONE;
            rc = query_schema_add_numeric(b->qs, col->name, col->label, unit, 1.0, q,
                                          N_DIST_POINTS, err);
        } else if (col->type == COLTYPE_BOOL) {
            rc = query_schema_add_bool(b->qs, col->name, col->label, err);
        } else if (col->type == COLTYPE_CATEGORY || col->type == COLTYPE_LIST) {
            // distinct values (list items split at ';'), kept in first-seen order
            size_t n = 0;
            for (size_t r = 0; r < b->n_rows && rc == PX_OK; r++) {
                const char *v = raw_at(b, r, c), *item = v;
                size_t len = strlen(v);
                bool more = col->type == COLTYPE_LIST ? strparse_list_item(&v, &item, &len)
                                                      : len > 0;
                while (more && rc == PX_OK) {
                    bool seen = false;
                    for (size_t k = 0; k < n && !seen; k++) {
                        seen = strlen(vals[k]) == len && memcmp(vals[k], item, len) == 0;
                    }
                    if (!seen && n < LIMIT_QUERY_VALUES) {
                        vals[n] = px_strndup(item, len);
                        if (vals[n] == NULL) {
                            rc = px_fail(err, PX_ENOMEM, "out of memory");
                        } else {
                            n++;
                        }
                    }
                    more = col->type == COLTYPE_LIST && strparse_list_item(&v, &item, &len);
                }
            }
            if (rc == PX_OK) {
                rc = query_schema_add_category(b->qs, col->name, col->label, vals, n,
                                               col->type == COLTYPE_LIST, err);
            }
            for (size_t k = 0; k < n; k++) {
                px_free((void *)vals[k]);
            }
        } else {
            rc = query_schema_add_other(b->qs, col->name, col->label, QUERY_COL_TEXT, err);
        }
    }
    px_free(tmp);
    px_free(vals);
    return rc;
}

static int fill_table(struct app_book *b, size_t stride, struct px_err *err)
{
    int rc = coltable_new(b->qs, b->n_rows, &b->table, err);
    for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
        enum query_col_kind k = query_schema_column_kind(b->qs, c);
        for (size_t r = 0; r < b->n_rows && rc == PX_OK; r++) {
            double v = b->num[c * stride + r];
            switch (k) {
            case QUERY_COL_NUMERIC: rc = coltable_set_number(b->table, r, c, v, err); break;
            case QUERY_COL_BOOL:
                rc = coltable_set_bool(b->table, r, c, isnan(v) ? -1 : v != 0, err);
                break;
            case QUERY_COL_CATEGORY:
            case QUERY_COL_LIST: rc = coltable_set_text(b->table, r, c, raw_at(b, r, c), err); break;
            default: break;
            }
        }
    }
    return rc;
}

// The dense path: the model's weights, and vectors for that model in the store.
static void load_dense(struct app_book *b, struct store *st, const struct app_book_params *p)
{
    struct px_err err = {0};
    struct store_vectors sv = {0};
    char dir[4096], model_id[80];
    bool dense_ok = false;
    if (p->lexical_only) {
        snprintf(b->dense_status, sizeof b->dense_status,
                 "semantic search is off, searching on filters and keywords only: the bundle was "
                 "made without embeddings");
        return;
    }
    if (app_open_embedder(p->model_flag, &b->e, dir, sizeof dir, &err) != PX_OK) {
        snprintf(b->dense_status, sizeof b->dense_status,
                 "semantic search is off, searching on filters and keywords only: %s", err.msg);
        return;
    }
    struct embed_ctx_params ep = embed_ctx_default_params();
    ep.n_threads = p->n_threads;
    ep.batch_size = 1; // one query text per search
    bool ctx_ok = true;
    for (size_t i = 0; i < b->n_lanes && ctx_ok; i++) {
        ctx_ok = embed_ctx_new(b->e, &ep, &b->lanes[i].ectx, &err) == PX_OK;
    }
    if (!ctx_ok || model_id_of(dir, model_id, sizeof model_id, &err) != PX_OK ||
        store_load_vectors(st, model_id, &sv, &err) != PX_OK) {
        snprintf(b->dense_status, sizeof b->dense_status, "semantic search is off: %s", err.msg);
        goto done;
    }
    if (sv.n == 0) {
        snprintf(b->dense_status, sizeof b->dense_status,
                 "semantic search is off: no customer has a vector for the model in %s yet; run "
                 "`prospect index`",
                 dir);
        goto done;
    }
    b->dim = sv.dim;
    b->qc = qcache_new(sv.dim);
    b->vectors = px_calloc(b->n_rows * (size_t)sv.dim, sizeof *b->vectors);
    b->has_vec = px_calloc(b->n_rows ? b->n_rows : 1, sizeof *b->has_vec);
    if (b->qc == NULL || b->vectors == NULL || b->has_vec == NULL ||
        vindex_new((size_t)sv.dim, NULL, &b->vx, &err) != PX_OK) {
        snprintf(b->dense_status, sizeof b->dense_status, "semantic search is off: out of memory");
        goto done;
    }
    for (size_t i = 0; i < sv.n; i++) {
        long r = app_book_find(b, sv.ids[i]);
        if (r < 0) {
            continue;
        }
        const float *v = sv.data + i * (size_t)sv.dim;
        if (vindex_add(b->vx, (uint32_t)r, v, (size_t)sv.dim, &err) != PX_OK) {
            snprintf(b->dense_status, sizeof b->dense_status, "semantic search is off: %s",
                     err.msg);
            goto done;
        }
        memcpy(b->vectors + (size_t)r * (size_t)sv.dim, v, (size_t)sv.dim * sizeof *v);
        b->has_vec[r] = true;
    }
    if (sv.n < b->n_rows) {
        snprintf(b->dense_status, sizeof b->dense_status,
                 "semantic search is on, but %zu of %zu customers have no vector yet (run `prospect index`); they "
                 "are found by filters and keywords only",
                 b->n_rows - sv.n, b->n_rows);
    }
    dense_ok = true;
done:
    store_vectors_free(&sv);
    if (!dense_ok) {
        vindex_free(b->vx);
        b->vx = NULL;
        qcache_free(b->qc);
        b->qc = NULL;
        for (size_t i = 0; i < b->n_lanes; i++) {
            embed_ctx_free(b->lanes[i].ectx);
            b->lanes[i].ectx = NULL;
        }
        embedder_close(b->e);
        b->e = NULL;
    }
}

int app_book_open(const struct app_book_params *params, struct app_book **out,
                  struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct app_book_params p = params ? *params : app_book_default_params();
    struct store *st = NULL;
    struct app_book *b = px_calloc(1, sizeof *b);
    *out = NULL;
    if (b == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (!fsx_is_file(p.db_path)) {
        rc = px_fail(err, PX_ENOENT,
                     "no database at '%s': import customers first (prospect import --csv FILE)",
                     p.db_path);
        goto done;
    }
    struct store_params sp = store_default_params();
    sp.read_only = p.read_only;
    rc = store_open(p.db_path, &sp, &st, err);
    if (rc == PX_OK) {
        rc = store_schema(st, &b->sc, err);
    }
    if (rc == PX_OK && b->sc.n_cols == 0) {
        rc = px_fail(err, PX_ENOENT, "the database '%s' has no customers yet: run prospect import",
                     p.db_path);
    }
    if (rc != PX_OK) {
        goto done;
    }
    b->n_cols = b->sc.n_cols;
    size_t cap = 0;
    rc = load_rows(b, st, p.template_path, err);
    if (rc == PX_OK) {
        rc = store_count_customers(st, &cap, err);
    }
    if (rc == PX_OK) {
        rc = build_query_schema(b, cap, err);
    }
    if (rc == PX_OK) {
        rc = fill_table(b, cap, err);
    }
    if (rc == PX_OK && p.lexicon_base_path != NULL) {
        char *text = NULL;
        size_t len = 0;
        rc = fsx_read_file(p.lexicon_base_path, LIMIT_LEXICON_BYTES, &text, &len, err);
        if (rc == PX_OK) {
            rc = query_lexicon_parse(text, len, &b->lex, err);
            if (rc != PX_OK) {
                px_err_prefix(err, "%s", p.lexicon_base_path);
            }
        }
        px_free(text);
    } else if (rc == PX_OK) {
        rc = query_lexicon_parse((const char *)px_asset_lexicon, px_asset_lexicon_len, &b->lex,
                                 err);
    }
    if (rc == PX_OK && p.lexicon_path != NULL) {
        rc = query_lexicon_load(b->lex, p.lexicon_path, err);
    }
    if (rc == PX_OK) {
        b->by_id = px_malloc((b->n_rows ? b->n_rows : 1) * sizeof *b->by_id);
        if (b->by_id == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        }
    }
    if (rc == PX_OK) {
        for (size_t r = 0; r < b->n_rows; r++) {
            b->by_id[r] = (uint32_t)r;
        }
        qsort_r(b->by_id, b->n_rows, sizeof *b->by_id, cmp_row_id, b);
        rc = lanes_new(b, p.n_lanes, p.n_threads, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    load_dense(b, st, &p);
    *out = b;
    b = NULL;
done:
    store_close(st);
    app_book_close(b);
    return rc;
}

void app_book_close(struct app_book *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t r = 0; b->ids != NULL && r < b->n_rows; r++) {
        px_free(b->ids[r]);
    }
    px_free(b->ids);
    px_free(b->by_id);
    px_free(b->raw);
    px_free(b->raw_off);
    px_free(b->num);
    px_free(b->vectors);
    px_free(b->has_vec);
    query_schema_free(b->qs);
    query_lexicon_free(b->lex);
    coltable_free(b->table);
    bm25_free(b->bm25);
    vindex_free(b->vx);
    qcache_free(b->qc);
    for (size_t i = 0; b->lanes != NULL && i < b->n_lanes; i++) {
        embed_ctx_free(b->lanes[i].ectx);
        pool_free(b->lanes[i].pool);
    }
    px_free(b->lanes);
    px_free(b->free_lanes);
    if (b->lane_sync) {
        pthread_mutex_destroy(&b->lane_lock);
        pthread_cond_destroy(&b->lane_idle);
    }
    embedder_close(b->e);
    store_schema_free(&b->sc);
    px_free(b);
}

const char *app_book_dense_status(const struct app_book *b)
{
    return b->dense_status[0] ? b->dense_status : NULL;
}
size_t app_book_n_rows(const struct app_book *b) { return b->n_rows; }

void app_book_cache_stats(struct app_book *b, size_t *hits, size_t *misses)
{
    *hits = *misses = 0;
    if (b->qc != NULL) {
        pthread_mutex_lock(&b->qc->lock);
        *hits = b->qc->n_hits;
        *misses = b->qc->n_misses;
        pthread_mutex_unlock(&b->qc->lock);
    }
}
size_t app_book_n_columns(const struct app_book *b) { return b->n_cols; }
const char *app_book_column_name(const struct app_book *b, size_t c) { return b->sc.cols[c].name; }
const char *app_book_column_label(const struct app_book *b, size_t c) { return b->sc.cols[c].label; }
const char *app_book_id(const struct app_book *b, size_t r) { return b->ids[r]; }
bool app_book_column_is_id(const struct app_book *b, size_t c)
{
    return b->sc.cols[c].is_id || (int)c == b->sc.i_id;
}
const char *app_book_value(const struct app_book *b, size_t r, size_t c) { return raw_at(b, r, c); }

long app_book_find(const struct app_book *b, const char *id)
{
    size_t lo = 0, hi = b->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->ids[b->by_id[mid]], id);
        if (c == 0) {
            return (long)b->by_id[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

// ---- search ----

// Ranks for app_book_search / app_book_similar: dense (query vector q, may be NULL) and lexical
// (text) lists among candidates, fused with boosts (plan may be NULL). exclude: rows left out.
static int rank(struct app_book *b, struct lane *lane, const float *q, const char *text,
                size_t text_len, const struct query_plan *plan, const struct bitmap *cand,
                size_t top, struct app_result *res, struct px_err *err)
{
    int rc = PX_OK;
    size_t K = top * 20 > 100 ? top * 20 : 100;
    if (K > LIMIT_VINDEX_K) {
        K = LIMIT_VINDEX_K;
    }
    struct vindex_hit *dh = px_calloc(K, sizeof *dh);
    struct bm25_hit *lh = px_calloc(K, sizeof *lh);
    uint32_t *dids = px_calloc(K, sizeof *dids), *lids = px_calloc(K, sizeof *lids);
    struct fuse_boost *fb = px_calloc(2 * K, sizeof *fb);
    struct fuse_hit *fh = px_calloc(top, sizeof *fh);
    size_t nd = 0, nl = 0, nf = 0, nfh = 0;
    if (!dh || !lh || !dids || !lids || !fb || !fh) {
        rc = px_fail(err, PX_ENOMEM, "out of memory ranking");
        goto done;
    }
    if (q != NULL && b->vx != NULL) {
        rc = vindex_search(b->vx, q, (size_t)b->dim, K, cand, lane->pool, dh, &nd, err);
        res->dense = true;
    }
    if (rc == PX_OK && text_len > 0) {
        rc = bm25_search(b->bm25, text, text_len, cand, K, lh, &nl, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    const struct query_boost *boosts = plan ? plan->boosts : NULL;
    size_t n_boosts = plan ? plan->n_boosts : 0;
    res->hits = px_calloc(top, sizeof *res->hits);
    if (res->hits == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory ranking");
        goto done;
    }
    if (nd == 0 && nl == 0) {
        // no text to rank by: candidates by boost, then customer order
        for (size_t r = bitmap_next(cand, 0); r < b->n_rows; r = bitmap_next(cand, r + 1)) {
            double bs = boost_score(b->table, boosts, n_boosts, r);
            size_t pos = res->n_hits;
            if (pos == top && !(bs > res->hits[top - 1].boost)) {
                continue;
            }
            if (pos == top) {
                pos--;
            } else {
                res->n_hits++;
            }
            while (pos > 0 && bs > res->hits[pos - 1].boost) {
                res->hits[pos] = res->hits[pos - 1];
                pos--;
            }
            res->hits[pos] = (struct app_hit){r, bs, NAN, 0, bs};
        }
        goto done;
    }
    for (size_t i = 0; i < nd; i++) {
        dids[i] = dh[i].row_id;
    }
    for (size_t i = 0; i < nl; i++) {
        lids[i] = lh[i].doc_id;
    }
    struct fuse_list lists[2] = {{dids, nd, 1.0f}, {lids, nl, 1.0f}};
    const double unit = 2.0 / (RRF_K + 1.0); // a weight-1 boost = two first places
    for (size_t i = 0; i < nd + nl; i++) {
        uint32_t id = i < nd ? dids[i] : lids[i - nd];
        double bs = boost_score(b->table, boosts, n_boosts, id);
        if (bs != 0) {
            fb[nf++] = (struct fuse_boost){id, (float)(bs * unit)};
        }
    }
    // each id's boost once: fuse adds repeated boosts, so drop duplicates
    for (size_t i = 0; i < nf; i++) {
        for (size_t j = i + 1; j < nf; j++) {
            if (fb[j].id == fb[i].id) {
                fb[j--] = fb[--nf];
            }
        }
    }
    rc = fuse_rrf(lists, 2, fb, nf, NULL, top, fh, &nfh, err);
    for (size_t i = 0; i < nfh && rc == PX_OK; i++) {
        struct app_hit *h = &res->hits[res->n_hits++];
        h->row = fh[i].id;
        h->score = fh[i].score;
        h->similarity = NAN;
        h->lexical = 0;
        h->boost = boost_score(b->table, boosts, n_boosts, h->row);
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
        if (isnan(h->similarity) && q != NULL && b->has_vec != NULL && b->has_vec[h->row]) {
            const float *v = b->vectors + h->row * (size_t)b->dim;
            double dot = 0, nq = 0, nv = 0;
            for (int k = 0; k < b->dim; k++) {
                dot += (double)q[k] * v[k];
                nq += (double)q[k] * q[k];
                nv += (double)v[k] * v[k];
            }
            h->similarity = nq > 0 && nv > 0 ? dot / sqrt(nq * nv) : NAN;
        }
    }
done:
    px_free(dh);
    px_free(lh);
    px_free(dids);
    px_free(lids);
    px_free(fb);
    px_free(fh);
    return rc;
}

int app_book_search(struct app_book *b, const char *query, size_t len, size_t top,
                    struct app_result *res, struct px_err *err)
{
    int rc = PX_OK;
    struct bitmap *cand = NULL;
    float *q = NULL;
    memset(res, 0, sizeof *res);
    if (top < 1 || top > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "top must be 1..%d, got %zu", LIMIT_VINDEX_K, top);
    }
    rc = query_parse(b->qs, b->lex, query, len, &res->plan, err);
    if (rc == PX_OK) {
        rc = bitmap_new(b->n_rows, &cand, err);
    }
    if (rc == PX_OK) {
        rc = filter_apply(b->table, res->plan->filters, res->plan->n_filters, cand, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    res->n_candidates = bitmap_count(cand);
    const char *sem = res->plan->semantic_text;
    size_t sem_len = res->plan->semantic_len;
    bool embed = b->vx != NULL && sem_len > 0;
    if (embed) {
        q = px_malloc((size_t)b->dim * sizeof *q);
        if (q == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
    }
    bool cached = embed && qcache_get(b->qc, sem, sem_len, q);
    if (embed || res->n_candidates > 0) {
        struct lane *lane = lane_take(b);
        if (embed && !cached) {
            rc = embed_texts(lane->ectx, &sem, &sem_len, 1, q, NULL, NULL, NULL, err);
            if (rc == PX_OK) {
                qcache_put(b->qc, sem, sem_len, q);
            }
        }
        if (rc == PX_OK && res->n_candidates > 0) {
            rc = rank(b, lane, q, sem, sem_len, res->plan, cand, top, res, err);
        }
        lane_give(b, lane);
    }
done:
    px_free(q);
    bitmap_free(cand);
    if (rc != PX_OK) {
        app_result_free(res);
    }
    return rc;
}

int app_book_similar(struct app_book *b, const char *const *ids, size_t n_ids, size_t top,
                     struct app_result *res, struct px_err *err)
{
    int rc = PX_OK;
    struct bitmap *cand = NULL;
    float *q = NULL;
    struct buf text;
    buf_init(&text, (size_t)LIMIT_TEXT_BYTES);
    memset(res, 0, sizeof *res);
    if (n_ids == 0 || top < 1 || top > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "give at least one customer id and top in 1..%d",
                       LIMIT_VINDEX_K);
    }
    rc = bitmap_new(b->n_rows, &cand, err);
    if (rc == PX_OK && b->vx != NULL) {
        q = px_calloc((size_t)b->dim, sizeof *q);
        if (q == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        }
    }
    if (rc != PX_OK) {
        goto done;
    }
    bitmap_fill(cand);
    size_t n_vec = 0;
    for (size_t i = 0; i < n_ids && rc == PX_OK; i++) {
        long r = app_book_find(b, ids[i]);
        if (r < 0) {
            rc = px_fail(err, PX_ENOENT, "no customer with id '%s'", ids[i]);
            break;
        }
        bitmap_clear(cand, (size_t)r);
        if (q != NULL && b->has_vec[r]) {
            for (int k = 0; k < b->dim; k++) {
                q[k] += b->vectors[(size_t)r * (size_t)b->dim + (size_t)k];
            }
            n_vec++;
        }
        // the lexical path uses the customers' values as the query text
        for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
            if (!(b->sc.cols[c].is_id || (int)c == b->sc.i_id)) {
                rc = buf_printf(&text, err, "%s ", raw_at(b, (size_t)r, c));
            }
        }
    }
    if (rc != PX_OK) {
        goto done;
    }
    res->n_candidates = bitmap_count(cand);
    if (res->n_candidates > 0) {
        struct lane *lane = lane_take(b);
        rc = rank(b, lane, n_vec > 0 ? q : NULL, text.data, text.len, NULL, cand, top, res, err);
        lane_give(b, lane);
    }
done:
    buf_free(&text);
    px_free(q);
    bitmap_free(cand);
    if (rc != PX_OK) {
        app_result_free(res);
    }
    return rc;
}

void app_result_free(struct app_result *res)
{
    query_plan_free(res->plan);
    px_free(res->hits);
    memset(res, 0, sizeof *res);
}

static int put_number(struct buf *o, double v, struct px_err *err)
{
    return isfinite(v) ? buf_printf(o, err, "%.6g", v) : buf_append(o, "null", 4, err);
}

const char *app_book_column_type(const struct app_book *b, size_t c)
{
    return coltype_name(b->sc.cols[c].type);
}

int app_book_row_json(const struct app_book *b, size_t row, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
        const char *name = b->sc.cols[c].name;
        const char *v = raw_at(b, row, c);
        rc = buf_append(out, c ? ", " : "", c ? 2 : 0, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, name, strlen(name), err);
        if (rc == PX_OK) rc = buf_append(out, ": ", 2, err);
        if (rc != PX_OK) break;
        if (v[0] == '\0') {
            rc = buf_append(out, "null", 4, err);
        } else if (b->sc.cols[c].type == COLTYPE_BOOL) {
            bool t = strcmp(v, "0") != 0;
            rc = buf_append(out, t ? "true" : "false", t ? 4 : 5, err);
        } else if (coltype_is_numeric(b->sc.cols[c].type)) {
            double d = strtod(v, NULL);
            rc = isfinite(d) ? buf_printf(out, err, "%.15g", d) : buf_append(out, "null", 4, err);
        } else {
            rc = jsonx_put_string(out, v, strlen(v), err);
        }
    }
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int app_result_plan_json(const struct app_book *b, const char *query, size_t len,
                         const struct app_result *res, struct buf *out, struct px_err *err)
{
    if (res->plan == NULL) {
        return buf_append(out, "null", 4, err);
    }
    return query_plan_to_json(res->plan, b->qs, query, len, out, err);
}

int app_result_to_json(const struct app_book *b, const char *query, size_t len,
                       const struct app_result *res, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{\"query\": ", 10, err);
    if (rc == PX_OK) {
        rc = jsonx_put_string(out, query ? query : "", query ? len : 0, err);
    }
    if (rc == PX_OK && res->plan != NULL) {
        // the plan's own JSON object, spliced in without its braces
        struct buf plan;
        buf_init(&plan, out->max);
        rc = query_plan_to_json(res->plan, b->qs, query, len, &plan, err);
        if (rc == PX_OK && plan.len > 2) {
            rc = buf_append(out, ", ", 2, err);
            if (rc == PX_OK) {
                rc = buf_append(out, plan.data + 1, plan.len - 2, err);
            }
        }
        buf_free(&plan);
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"dense\": %s, \"candidates\": %zu, \"results\": [",
                        res->dense ? "true" : "false", res->n_candidates);
    }
    for (size_t i = 0; i < res->n_hits && rc == PX_OK; i++) {
        const struct app_hit *h = &res->hits[i];
        rc = buf_printf(out, err, "%s{\"customer_id\": ", i ? ", " : "");
        if (rc == PX_OK) rc = jsonx_put_string(out, b->ids[h->row], strlen(b->ids[h->row]), err);
        if (rc == PX_OK) rc = buf_append(out, ", \"score\": ", 11, err);
        if (rc == PX_OK) rc = put_number(out, h->score, err);
        if (rc == PX_OK) rc = buf_append(out, ", \"similarity\": ", 16, err);
        if (rc == PX_OK) rc = put_number(out, h->similarity, err);
        if (rc == PX_OK) rc = buf_append(out, ", \"lexical\": ", 13, err);
        if (rc == PX_OK) rc = put_number(out, h->lexical, err);
        if (rc == PX_OK) rc = buf_append(out, ", \"boost\": ", 11, err);
        if (rc == PX_OK) rc = put_number(out, h->boost, err);
        if (rc == PX_OK) rc = buf_append(out, ", \"row\": ", 9, err);
        if (rc == PX_OK) rc = app_book_row_json(b, h->row, out, err);
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK) {
        rc = buf_append(out, "]}", 2, err);
    }
    return rc;
}
