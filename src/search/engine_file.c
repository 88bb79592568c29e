// engine_file.c — an engine written to and opened from an index file (mapfile.h): the schema
// statistics (engine_int.h) and the query schema made from them, engine_save, engine_open.
//
// Sections: ENHD {n_rows, n_cols}, ENST the schema statistics, then the filter table (FCOL,
// filter.c), BM25 (BM**, bm25.c) and, when the engine has vectors, the vector index (VX**,
// vindex.c). An opened engine reads its columns, postings and vectors from the map and
// allocates only headers, the dictionaries' pointer arrays and the query schema.
#include <math.h>
#include <string.h>

#include "engine_int.h"
#include "filter.h"
#include "limits.h"
#include "mem.h"

// ---- schema statistics ----

static int put_u32(struct buf *b, uint32_t v, struct px_err *err)
{
    return buf_append(b, &v, sizeof v, err);
}

static int put_str(struct buf *b, const char *s, struct px_err *err)
{
    if (s == NULL) {
        return put_u32(b, UINT32_MAX, err);
    }
    size_t n = strlen(s);
    int rc = put_u32(b, (uint32_t)n, err);
    return rc == PX_OK ? buf_append(b, s, n, err) : rc;
}

int engine_stats_put_column(struct buf *stats, const struct engine_column *col, const double *q,
                            size_t n_q, const char *const *vals, size_t n_vals,
                            struct px_err *err)
{
    int rc = put_u32(stats, (uint32_t)col->kind, err);
    if (rc == PX_OK) rc = put_u32(stats, (uint32_t)col->unit, err);
    if (rc == PX_OK) rc = put_str(stats, col->name, err);
    if (rc == PX_OK) rc = put_str(stats, col->label, err);
    if (rc == PX_OK && col->kind == QUERY_COL_NUMERIC) {
        rc = put_u32(stats, (uint32_t)n_q, err);
        if (rc == PX_OK && n_q > 0) rc = buf_append(stats, q, n_q * sizeof *q, err);
    }
    if (rc == PX_OK && (col->kind == QUERY_COL_CATEGORY || col->kind == QUERY_COL_LIST)) {
        rc = put_u32(stats, (uint32_t)n_vals, err);
        for (size_t k = 0; rc == PX_OK && k < n_vals; k++) {
            rc = put_str(stats, vals[k], err);
        }
    }
    return rc;
}

struct cursor {
    const char *p, *end;
    bool bad;
};

static uint32_t get_u32(struct cursor *c)
{
    uint32_t v = 0;
    if (c->bad || (size_t)(c->end - c->p) < sizeof v) {
        c->bad = true;
        return 0;
    }
    memcpy(&v, c->p, sizeof v);
    c->p += sizeof v;
    return v;
}

// A copy of the next string (NULL for "no label", or when damaged: c->bad says which); *ok false
// when out of memory.
static char *get_str(struct cursor *c, bool *oom)
{
    uint32_t n = get_u32(c);
    if (c->bad || n == UINT32_MAX) {
        return NULL;
    }
    if ((size_t)(c->end - c->p) < n || memchr(c->p, '\0', n) != NULL) {
        c->bad = true;
        return NULL;
    }
    char *s = px_strndup(c->p, n);
    c->p += n;
    if (s == NULL) {
        *oom = true;
        c->bad = true;
    }
    return s;
}

// One column's statistics into schema s.
static int schema_column(struct cursor *c, struct query_schema *s, double *dist, bool *oom,
                         struct px_err *err)
{
    uint32_t kind = get_u32(c), unit = get_u32(c);
    int rc = PX_OK;
    char *name = get_str(c, oom), *label = NULL;
    char **vals = NULL;
    uint32_t n_vals = 0;
    if (name == NULL) {
        c->bad = true;
    } else {
        label = get_str(c, oom);
    }
    if (c->bad || kind > QUERY_COL_ID || unit > QUERY_UNIT_DATE) {
        c->bad = true;
        goto done;
    }
    switch ((enum query_col_kind)kind) {
    case QUERY_COL_NUMERIC: {
        double q[N_DIST_POINTS];
        uint32_t n = get_u32(c);
        if (c->bad || (n != 0 && n != N_DIST_POINTS) ||
            (size_t)(c->end - c->p) < n * sizeof *q) {
            c->bad = true;
            goto done;
        }
        memcpy(q, c->p, n * sizeof *q);
        c->p += n * sizeof *q;
        if (n != 0) {
            memcpy(dist, q, n * sizeof *q);
        }
        rc = n == 0 ? query_schema_add_other(s, name, label, QUERY_COL_TEXT, err)
                    : query_schema_add_numeric(s, name, label, (enum query_unit)unit, 1.0, q, n,
                                               err);
        break;
    }
    case QUERY_COL_CATEGORY:
    case QUERY_COL_LIST:
        n_vals = get_u32(c);
        if (c->bad || n_vals > LIMIT_QUERY_VALUES) {
            c->bad = true;
            goto done;
        }
        vals = px_calloc(n_vals ? n_vals : 1, sizeof *vals);
        if (vals == NULL) {
            *oom = c->bad = true;
            goto done;
        }
        for (uint32_t k = 0; k < n_vals && !c->bad; k++) {
            vals[k] = get_str(c, oom);
            c->bad = c->bad || vals[k] == NULL;
        }
        if (!c->bad) {
            rc = query_schema_add_category(s, name, label, (const char *const *)vals, n_vals,
                                           kind == QUERY_COL_LIST, err);
        }
        break;
    case QUERY_COL_BOOL: rc = query_schema_add_bool(s, name, label, err); break;
    case QUERY_COL_TEXT:
    case QUERY_COL_ID: rc = query_schema_add_other(s, name, label, kind, err); break;
    }
done:
    for (uint32_t k = 0; vals != NULL && k < n_vals; k++) {
        px_free(vals[k]);
    }
    px_free(vals);
    px_free(name);
    px_free(label);
    return rc;
}

int engine_schema_from_stats(const char *stats, size_t len, size_t n_cols,
                             struct query_schema **out, double *dist, struct px_err *err)
{
    struct cursor c = {stats, stats + len, false};
    bool oom = false;
    int rc = query_schema_new(out, err);
    for (size_t i = 0; rc == PX_OK && i < n_cols; i++) {
        rc = schema_column(&c, *out, dist + i * N_DIST_POINTS, &oom, err);
        if (rc == PX_OK && c.bad) {
            rc = oom ? px_fail(err, PX_ENOMEM, "out of memory reading the query schema")
                     : px_fail(err, PX_EFORMAT, "query schema statistics damaged at column %zu", i);
        }
    }
    if (rc == PX_OK && c.p != c.end) {
        rc = px_fail(err, PX_EFORMAT, "query schema statistics: %zu bytes past the last column",
                     (size_t)(c.end - c.p));
    }
    if (rc != PX_OK) {
        query_schema_free(*out);
        *out = NULL;
        // a value the parser refuses (a bad quantile, a duplicate name) is a damaged file too
        if (rc == PX_EINVAL || rc == PX_ELIMIT) {
            rc = PX_EFORMAT;
            err->code = PX_EFORMAT;
        }
    }
    return rc;
}

// ---- save / open ----

struct engine_file_head {
    uint64_t n_rows, n_cols;
};

int engine_save(const struct engine *e, struct mapfile_writer *w, struct px_err *err)
{
    struct engine_file_head h = {e->n_rows, e->n_cols};
    int rc = mapfile_put(w, MAPFILE_ID("ENHD"), &h, sizeof h, err);
    if (rc == PX_OK) rc = mapfile_put(w, MAPFILE_ID("ENST"), e->stats.data, e->stats.len, err);
    if (rc == PX_OK) rc = coltable_save(e->table, w, err);
    if (rc == PX_OK) rc = bm25_save(e->bm25, w, err);
    if (rc == PX_OK && e->vx != NULL) rc = vindex_save(e->vx, w, err);
    return rc;
}

int engine_open(const struct mapfile *m, const struct engine_params *params, bool with_vectors,
                struct engine **out, struct px_err *err)
{
    const void *p = NULL;
    size_t len = 0;
    struct engine_file_head h;
    *out = NULL;
    int rc = mapfile_get(m, MAPFILE_ID("ENHD"), 1, &p, &len, err);
    if (rc == PX_OK && len != sizeof h) {
        rc = px_fail(err, PX_EFORMAT, "'%s': engine head of %zu bytes", mapfile_path(m), len);
    }
    if (rc != PX_OK) {
        return rc;
    }
    memcpy(&h, p, sizeof h);
    struct engine *e = px_calloc(1, sizeof *e);
    if (e == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory opening the search engine");
    }
    e->params = params != NULL ? *params : engine_default_params();
    e->n_rows = (size_t)h.n_rows;
    e->n_cols = (size_t)h.n_cols;
    rc = coltable_open(m, &e->table, err);
    if (rc == PX_OK && (coltable_rows(e->table) != e->n_rows || h.n_cols > LIMIT_QUERY_COLUMNS)) {
        rc = px_fail(err, PX_EFORMAT, "'%s': the filter table does not match the engine head",
                     mapfile_path(m));
    }
    if (rc == PX_OK) rc = bm25_open(m, &e->bm25, err);
    if (rc == PX_OK && bm25_id_bound(e->bm25) > e->n_rows) {
        rc = px_fail(err, PX_EFORMAT, "'%s': BM25 ids past the table's rows", mapfile_path(m));
    }
    if (rc == PX_OK && with_vectors && mapfile_has(m, MAPFILE_ID("VXHD"))) {
        rc = vindex_open(m, &e->params.vindex, &e->vx, err);
        if (rc == PX_OK && vindex_id_bound(e->vx) > e->n_rows) {
            rc = px_fail(err, PX_EFORMAT, "'%s': vector ids past the table's rows",
                         mapfile_path(m));
        }
    }
    if (rc == PX_OK) rc = mapfile_get(m, MAPFILE_ID("ENST"), 1, &p, &len, err);
    if (rc == PX_OK) {
        e->dist = px_malloc((e->n_cols ? e->n_cols : 1) * N_DIST_POINTS * sizeof *e->dist);
        if (e->dist == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory opening the search engine");
        }
        for (size_t k = 0; rc == PX_OK && k < e->n_cols * N_DIST_POINTS; k++) {
            e->dist[k] = NAN;
        }
    }
    if (rc == PX_OK) {
        rc = engine_schema_from_stats(p, len, e->n_cols, &e->schema, e->dist, err);
        if (rc == PX_EFORMAT) {
            px_err_prefix(err, "'%s'", mapfile_path(m));
        }
    }
    if (rc != PX_OK) {
        engine_free(e);
        return rc;
    }
    *out = e;
    return PX_OK;
}

bool engine_file_has_vectors(const struct mapfile *m)
{
    return mapfile_has(m, MAPFILE_ID("VXHD"));
}
