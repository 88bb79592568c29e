// book_search.c — searching the book: a query is parsed into a plan against the engine's
// schema, its semantic text embedded (from the query cache when it was seen lately, else on a
// lane's embedder context), and engine_search ranks the plan with that vector; "customers like
// these" searches with the centroid of their vectors and their values as text, excluding them.
// The hits are copied out as plain app_hit structs with the engine's ranked / order; the plan
// stays behind an opaque app_plan that front ends read through app_plan_* (plain strings and
// numbers); a similar answer keeps its seed rows for the traits its hits share (book_why.c).
//
// A lane is taken only when the search has a query vector (its pool runs the vector scan, its
// context the encoder); a filter-and-keyword search runs on the calling thread.
#include <math.h>
#include <string.h>

#include "book_int.h"
#include "limits.h"
#include "mem.h"

// Copies the engine's hits into res->hits.
static int take_hits(struct app_result *res, const struct engine_hit *eh,
                     const struct engine_answer *ans, struct px_err *err)
{
    res->n_candidates = ans->n_candidates;
    res->dense = ans->dense;
    res->ranked = ans->ranked;
    res->order = ans->order;
    res->hits = px_calloc(ans->n_hits ? ans->n_hits : 1, sizeof *res->hits);
    if (res->hits == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory ranking");
    }
    for (size_t i = 0; i < ans->n_hits; i++) {
        res->hits[i] = (struct app_hit){eh[i].row, eh[i].score, eh[i].similarity, eh[i].lexical,
                                        eh[i].boost};
    }
    res->n_hits = ans->n_hits;
    return PX_OK;
}

// Runs q on the engine, on lane's pool when given, into res.
static int run(struct app_book *b, const struct engine_query *q, size_t top,
               struct book_lane *lane, struct app_result *res, struct px_err *err)
{
    struct engine_answer ans = {0};
    struct engine_hit *eh = px_calloc(top, sizeof *eh);
    int rc = eh == NULL ? px_fail(err, PX_ENOMEM, "out of memory ranking") : PX_OK;
    if (rc == PX_OK) {
        rc = engine_search(b->eng, q, top, lane ? lane->pool : NULL, eh, &ans, err);
    }
    if (rc == PX_OK) {
        rc = take_hits(res, eh, &ans, err);
    }
    px_free(eh);
    return rc;
}

int app_book_search(struct app_book *b, const char *query, size_t len, size_t top,
                    struct app_result *res, struct px_err *err)
{
    int rc = PX_OK;
    float *q = NULL;
    memset(res, 0, sizeof *res);
    if (top < 1 || top > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "top must be 1..%d, got %zu", LIMIT_VINDEX_K, top);
    }
    res->plan = px_calloc(1, sizeof *res->plan);
    if (res->plan == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    res->plan->book = b;
    rc = query_parse_vocab(engine_schema(b->eng), b->lex, b->vocab, query, len, &res->plan->qp,
                           err);
    if (rc != PX_OK) {
        goto done;
    }
    const struct query_plan *plan = res->plan->qp;
    const char *sem = plan->semantic_text;
    size_t sem_len = plan->semantic_len;
    struct engine_query eq = {.plan = plan};
    if (b->qc == NULL || sem_len == 0) {
        rc = run(b, &eq, top, NULL, res, err);
        goto done;
    }
    q = px_malloc((size_t)b->dim * sizeof *q);
    if (q == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    bool cached = book_qcache_get(b->qc, sem, sem_len, q);
    struct book_lane *lane = book_lane_take(&b->lanes);
    if (!cached) {
        rc = embed_texts(lane->ectx, &sem, &sem_len, 1, q, NULL, NULL, NULL, err);
        if (rc == PX_OK) {
            book_qcache_put(b->qc, sem, sem_len, q);
        }
    }
    eq.vector = q;
    eq.dim = (size_t)b->dim;
    if (rc == PX_OK) {
        rc = run(b, &eq, top, lane, res, err);
    }
    book_lane_give(&b->lanes, lane);
done:
    px_free(q);
    if (rc != PX_OK) {
        app_result_free(res);
    }
    return rc;
}

int app_book_similar(struct app_book *b, const char *const *ids, size_t n_ids, size_t top,
                     struct app_result *res, struct px_err *err)
{
    int rc = PX_OK;
    float *q = NULL;
    uint32_t *rows = NULL;
    struct buf text;
    buf_init(&text, (size_t)LIMIT_TEXT_BYTES);
    memset(res, 0, sizeof *res);
    if (n_ids == 0 || top < 1 || top > LIMIT_VINDEX_K) {
        return px_fail(err, PX_EINVAL, "give at least one customer id and top in 1..%d",
                       LIMIT_VINDEX_K);
    }
    size_t dim = engine_dim(b->eng);
    rows = px_calloc(n_ids, sizeof *rows);
    if (rows == NULL || (dim > 0 && (q = px_calloc(dim, sizeof *q)) == NULL)) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    size_t n_vec = 0;
    for (size_t i = 0; i < n_ids && rc == PX_OK; i++) {
        long r = app_book_find(b, ids[i]);
        if (r < 0) {
            rc = px_fail(err, PX_ENOENT, "no customer with id '%s'", ids[i]);
            break;
        }
        rows[i] = (uint32_t)r;
        const float *v = engine_vector(b->eng, (size_t)r);
        if (q != NULL && v != NULL) {
            for (size_t k = 0; k < dim; k++) {
                q[k] += v[k];
            }
            n_vec++;
        }
        // the lexical path uses the customers' values as the query text
        for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
            if (!app_book_column_is_id(b, c)) {
                rc = buf_printf(&text, err, "%s ", book_raw_at(b, (size_t)r, c));
            }
        }
    }
    if (rc != PX_OK) {
        goto done;
    }
    struct engine_query eq = {
        .vector = n_vec > 0 ? q : NULL,
        .dim = dim,
        .text = text.data ? text.data : "",
        .text_len = text.len,
        .exclude = rows,
        .n_exclude = n_ids,
    };
    if (eq.vector != NULL) {
        struct book_lane *lane = book_lane_take(&b->lanes);
        rc = run(b, &eq, top, lane, res, err);
        book_lane_give(&b->lanes, lane);
    } else {
        rc = run(b, &eq, top, NULL, res, err);
    }
    if (rc == PX_OK) { // the seeds, for the traits each hit shares with them
        res->seeds = px_calloc(n_ids, sizeof *res->seeds);
        if (res->seeds == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        }
        for (size_t i = 0; rc == PX_OK && i < n_ids; i++) {
            res->seeds[i] = rows[i];
        }
        res->n_seeds = rc == PX_OK ? n_ids : 0;
    }
done:
    buf_free(&text);
    px_free(q);
    px_free(rows);
    if (rc != PX_OK) {
        app_result_free(res);
    }
    return rc;
}

void app_result_free(struct app_result *res)
{
    if (res->plan != NULL) {
        query_plan_free(res->plan->qp);
        px_free(res->plan);
    }
    px_free(res->hits);
    px_free(res->seeds);
    memset(res, 0, sizeof *res);
}

// ---- the plan, read by front ends ----

size_t app_plan_n_filters(const struct app_plan *p) { return p->qp->n_filters; }
size_t app_plan_n_boosts(const struct app_plan *p) { return p->qp->n_boosts; }
size_t app_plan_n_conflicts(const struct app_plan *p) { return p->qp->n_conflicts; }
const char *app_plan_semantic_text(const struct app_plan *p) { return p->qp->semantic_text; }

void app_plan_filter(const struct app_plan *p, size_t i, struct app_plan_term *t)
{
    const struct query_filter *f = &p->qp->filters[i];
    *t = (struct app_plan_term){.col = f->i_col, .op = query_op_name(f->op), .lo = f->lo,
                                .hi = f->hi, .span_off = f->span.off, .span_len = f->span.len};
    if (f->op == QUERY_OP_IS_TRUE || f->op == QUERY_OP_IS_FALSE) {
        t->kind = APP_PLAN_FLAG;
    } else if (f->n_values > 0) {
        t->kind = APP_PLAN_TEXT;
        t->n_values = f->n_values;
        memcpy(t->values, f->values, f->n_values * sizeof *f->values);
    } else {
        t->kind = f->op == QUERY_OP_BETWEEN ? APP_PLAN_RANGE : APP_PLAN_NUMBER;
    }
}

void app_plan_boost(const struct app_plan *p, size_t i, struct app_plan_term *t)
{
    const struct query_boost *q = &p->qp->boosts[i];
    *t = (struct app_plan_term){.col = q->i_col, .op = query_op_name(q->op), .lo = q->lo,
                                .hi = q->hi, .weight = q->weight, .span_off = q->span.off,
                                .span_len = q->span.len};
    if (q->value != NULL) {
        t->kind = APP_PLAN_TEXT;
        t->values[0] = q->value;
        t->n_values = 1;
    } else {
        t->kind = q->op == QUERY_OP_BETWEEN ? APP_PLAN_RANGE : APP_PLAN_NUMBER;
    }
}
