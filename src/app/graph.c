// graph.c — the bounded customer-product graph the page /graph draws (app_graph_json in
// app_rec.h), from the wholesale book a served recommender holds (app/recommend.c opens it and
// builds the indexes used here).
//
// Design: the indexes are built once at open (edges by customer and by product, customers by
// volume, customer ids sorted), so a request costs its answer's size plus, for a segment or
// manager filter, one pass over the customers. The graph is never handed out whole: at most
// LIMIT_GRAPH_CUSTOMERS customers and LIMIT_GRAPH_EDGES edges ("truncated" says when customers
// were left out). Relationship managers and segments come from the customer book by column name
// (relationship_manager, segment: the column `prospect segment` stores).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_rec.h"
#include "jsonx.h"
#include "mem.h"
#include "recommend_int.h"

static long book_col(const struct app_book *b, const char *name)
{
    if (b == NULL) {
        return -1;
    }
    for (size_t c = 0; c < app_book_n_columns(b); c++) {
        if (strcmp(app_book_column_name(b, c), name) == 0) {
            return (long)c;
        }
    }
    return -1;
}

static const char *book_val(const struct app_book *b, long row, long col)
{
    return b != NULL && row >= 0 && col >= 0 ? app_book_value(b, (size_t)row, (size_t)col) : "";
}

// "A, B" -> the part before / after the first ", " (into n bytes).
static void label_part(const char *label, int part, char *out, size_t n)
{
    const char *sep = strstr(label, ", ");
    if (sep == NULL) {
        snprintf(out, n, "%s", part == 0 ? label : "");
    } else if (part == 0) {
        snprintf(out, n, "%.*s", (int)(sep - label), label);
    } else {
        snprintf(out, n, "%s", sep + 2);
    }
}

// Opens a graph node: {"id", "kind", "label": "<Title> <id> (<label>)", "type": the label's first
// part, "<second>": its second part — the caller adds its own fields and the closing brace.
static int put_node_head(struct buf *out, bool comma, const char *id, const char *kind,
                         const char *title, const char *lab, const char *second,
                         struct px_err *err)
{
    char text[600], a[256], b[256];
    snprintf(text, sizeof text, lab[0] ? "%s %s (%s)" : "%s %s%s", title, id, lab);
    label_part(lab, 0, a, sizeof a);
    label_part(lab, 1, b, sizeof b);
    int rc = buf_printf(out, err, "%s{\"id\": ", comma ? ", " : "");
    if (rc == PX_OK) rc = jsonx_put_cstr(out, id, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"kind\": \"%s\", \"label\": ", kind);
    if (rc == PX_OK) rc = jsonx_put_cstr(out, text, err);
    if (rc == PX_OK) rc = buf_append(out, ", \"type\": ", 10, err);
    if (rc == PX_OK) rc = jsonx_put_cstr(out, a, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"%s\": ", second);
    if (rc == PX_OK) rc = jsonx_put_cstr(out, b, err);
    return rc;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_segnum(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    double dx = strtod(x, NULL), dy = strtod(y, NULL);
    return dx < dy ? -1 : dx > dy ? 1 : strcmp(x, y);
}

// Distinct non-empty values of column col of the book, sorted, as a JSON array.
static int put_facet(const struct app_book *b, long col, bool numeric, struct buf *out,
                     struct px_err *err)
{
    size_t n = b != NULL && col >= 0 ? app_book_n_rows(b) : 0, m = 0;
    const char **v = px_calloc(n ? n : 1, sizeof *v);
    if (v == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = app_book_value(b, i, (size_t)col);
        if (s[0] != '\0') {
            v[m++] = s;
        }
    }
    qsort(v, m, sizeof *v, numeric ? cmp_segnum : cmp_cstr);
    int rc = buf_append(out, "[", 1, err);
    size_t k = 0;
    for (size_t i = 0; i < m && rc == PX_OK; i++) {
        if (i > 0 && strcmp(v[i], v[i - 1]) == 0) {
            continue;
        }
        rc = buf_append(out, ", ", k++ ? 2 : 0, err);
        if (rc == PX_OK) {
            rc = numeric ? buf_printf(out, err, "%.15g", strtod(v[i], NULL))
                         : jsonx_put_cstr(out, v[i] ? v[i] : "", err);
        }
    }
    px_free(v);
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

struct pick {
    uint32_t c;
    uint32_t shared;
    double volume;
};

static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->shared != y->shared) {
        return x->shared > y->shared ? -1 : 1;
    }
    return x->volume > y->volume ? -1 : x->volume < y->volume ? 1 : (x->c > y->c) - (x->c < y->c);
}

struct graph_sel {
    uint32_t *cust; // chosen customers (data indices), in answer order
    size_t n_cust;
    int32_t *c_node; // (n_customers) node index or -1
    int32_t *p_node; // (n_products) node index or -1
    uint32_t *prod;  // products in node order
    size_t n_prod;
    size_t n_edges;
    bool truncated;
};

// Adds customer c with all its products unless the edge budget is spent.
static bool take_customer(const struct app_rec *r, struct graph_sel *s, uint32_t c,
                          bool only_known_products)
{
    size_t add = 0;
    for (uint32_t k = r->c_ptr[c]; k < r->c_ptr[c + 1]; k++) {
        uint32_t p = r->d.edges[r->c_edge[k]].product;
        add += !only_known_products || s->p_node[p] >= 0;
    }
    if (s->n_edges + add > LIMIT_GRAPH_EDGES) {
        s->truncated = true;
        return false;
    }
    s->c_node[c] = (int32_t)s->n_cust;
    s->cust[s->n_cust++] = c;
    s->n_edges += add;
    for (uint32_t k = r->c_ptr[c]; k < r->c_ptr[c + 1] && !only_known_products; k++) {
        uint32_t p = r->d.edges[r->c_edge[k]].product;
        if (s->p_node[p] < 0) {
            s->p_node[p] = 0; // placed once every customer is in
            s->prod[s->n_prod++] = p;
        }
    }
    return true;
}

static int select_graph(const struct app_rec *r, const struct app_book *b,
                        const struct app_graph_query *q, struct graph_sel *s, struct px_err *err)
{
    size_t nc = r->d.n_customers;
    if (q->customer != NULL && q->customer[0] != '\0') {
        long c0 = app_rec_data_customer(r, q->customer);
        if (c0 < 0) {
            return px_fail(err, PX_ENOENT, "customer '%s' is not in the wholesale book",
                           q->customer);
        }
        take_customer(r, s, (uint32_t)c0, false);
        for (size_t i = 0; i < s->n_prod; i++) {
            s->p_node[s->prod[i]] = 1;
        }
        // other holders of its products, most products in common first
        uint32_t *shared = px_calloc(nc ? nc : 1, sizeof *shared);
        struct pick *picks = px_calloc(nc ? nc : 1, sizeof *picks);
        if (shared == NULL || picks == NULL) {
            px_free(shared);
            px_free(picks);
            return px_fail(err, PX_ENOMEM, "out of memory");
        }
        size_t n_picks = 0;
        for (size_t i = 0; i < s->n_prod; i++) {
            uint32_t p = s->prod[i];
            for (uint32_t k = r->p_ptr[p]; k < r->p_ptr[p + 1]; k++) {
                uint32_t c = r->d.edges[r->p_edge[k]].customer;
                if (c != (uint32_t)c0 && shared[c]++ == 0) {
                    picks[n_picks++].c = c;
                }
            }
        }
        for (size_t i = 0; i < n_picks; i++) {
            picks[i].shared = shared[picks[i].c];
            picks[i].volume = r->volume[picks[i].c];
        }
        qsort(picks, n_picks, sizeof *picks, cmp_pick);
        for (size_t i = 0; i < n_picks && s->n_cust < q->limit; i++) {
            if (!take_customer(r, s, picks[i].c, true)) {
                break;
            }
        }
        px_free(shared);
        px_free(picks);
        return PX_OK;
    }
    long seg_col = book_col(b, "segment"), rm_col = book_col(b, "relationship_manager");
    bool by_seg = q->segment != NULL && q->segment[0] != '\0';
    bool by_rm = q->rm != NULL && q->rm[0] != '\0';
    if ((by_seg && seg_col < 0) || (by_rm && rm_col < 0)) {
        return px_fail(err, PX_ENOENT, "the customer book has no %s column%s",
                       by_seg && seg_col < 0 ? "segment" : "relationship_manager",
                       by_seg && seg_col < 0 ? " (run prospect segment)" : "");
    }
    double seg = by_seg ? strtod(q->segment, NULL) : 0;
    for (size_t i = 0; i < nc && s->n_cust < q->limit; i++) {
        uint32_t c = r->by_volume[i];
        if (by_seg || by_rm) {
            long row = app_book_find(b, r->d.customer_id[c]);
            const char *sv = book_val(b, row, seg_col), *rv = book_val(b, row, rm_col);
            if ((by_seg && (sv[0] == '\0' || strtod(sv, NULL) != seg)) ||
                (by_rm && strcmp(rv, q->rm) != 0)) {
                continue;
            }
        }
        if (!take_customer(r, s, c, false)) {
            break;
        }
    }
    return PX_OK;
}

static int put_graph(const struct app_rec *r, const struct app_book *b, struct graph_sel *s,
                     struct buf *out, struct px_err *err)
{
    long seg_col = book_col(b, "segment"), rm_col = book_col(b, "relationship_manager");
    int rc = buf_append(out, "{\"model\": ", 10, err);
    if (rc == PX_OK) {
        rc = r->has_model ? jsonx_put_cstr(out, r->model_name, err) : buf_append(out, "null", 4, err);
    }
    if (rc == PX_OK)
        rc = buf_append(out, ", \"nodes\": [", 12, err);
    for (size_t i = 0; i < s->n_cust && rc == PX_OK; i++) {
        uint32_t c = s->cust[i];
        const char *id = r->d.customer_id[c], *lab = r->d.customer_label[c];
        long row = b != NULL ? app_book_find(b, id) : -1;
        const char *seg = book_val(b, row, seg_col), *rm = book_val(b, row, rm_col);
        rc = put_node_head(out, i > 0, id, "customer", "Customer", lab, "industry", err);
        if (rc == PX_OK)
            rc = buf_append(out, ", \"rm\": ", 8, err);
        if (rc == PX_OK)
            rc = rm[0] ? jsonx_put_cstr(out, rm, err) : buf_append(out, "null", 4, err);
        if (rc == PX_OK) {
            rc = seg[0] ? buf_printf(out, err, ", \"segment\": %.15g", strtod(seg, NULL))
                        : buf_append(out, ", \"segment\": null", 17, err);
        }
        if (rc == PX_OK)
            rc = buf_printf(out, err, ", \"volume\": %.2f}", r->volume[c]);
    }
    for (size_t i = 0; i < s->n_prod && rc == PX_OK; i++) {
        uint32_t p = s->prod[i];
        const char *id = r->d.product_id[p], *lab = r->d.product_label[p];
        rc = put_node_head(out, s->n_cust + i > 0, id, "product", "Product", lab, "category", err);
        if (rc == PX_OK)
            rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK)
        rc = buf_append(out, "], \"edges\": [", 13, err);
    size_t k = 0;
    for (size_t i = 0; i < s->n_cust && rc == PX_OK; i++) {
        uint32_t c = s->cust[i];
        for (uint32_t j = r->c_ptr[c]; j < r->c_ptr[c + 1] && rc == PX_OK; j++) {
            const struct rec_edge *e = &r->d.edges[r->c_edge[j]];
            if (s->p_node[e->product] < 0) {
                continue;
            }
            const char *type = e->type < r->d.n_tx_types ? r->d.tx_types[e->type] : "";
            rc = buf_printf(out, err,
                            "%s{\"source\": %d, \"target\": %d, \"type\": ", k++ ? ", " : "",
                            s->c_node[c], s->p_node[e->product]);
            if (rc == PX_OK)
                rc = jsonx_put_cstr(out, type ? type : "", err);
            if (rc == PX_OK) {
                rc = buf_printf(out, err, ", \"count\": %u, \"amount\": %.2f}", e->n_tx,
                                isfinite(e->amount) ? e->amount : 0.0);
            }
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, "], \"truncated\": %s, \"facets\": {\"segments\": ",
                        s->truncated ? "true" : "false");
    }
    if (rc == PX_OK)
        rc = put_facet(b, seg_col, true, out, err);
    if (rc == PX_OK)
        rc = buf_append(out, ", \"relationship_managers\": ", 27, err);
    if (rc == PX_OK)
        rc = put_facet(b, rm_col, false, out, err);
    if (rc == PX_OK)
        rc = buf_append(out, "}}", 2, err);
    return rc;
}

int app_graph_json(const struct app_rec *r, const struct app_book *b,
                   const struct app_graph_query *q, struct buf *out, struct app_result *shown,
                   struct px_err *err)
{
    if (shown != NULL) {
        memset(shown, 0, sizeof *shown);
    }
    if (r == NULL || !r->has_data) {
        return px_fail(err, PX_ENOENT, "no wholesale book is served (serve --wholesale DIR)");
    }
    if (q->limit < 1 || q->limit > LIMIT_GRAPH_CUSTOMERS) {
        return px_fail(err, PX_EINVAL, "limit must be 1..%d", LIMIT_GRAPH_CUSTOMERS);
    }
    size_t nc = r->d.n_customers, np = r->d.n_products;
    struct graph_sel s = {0};
    s.cust = px_calloc(q->limit, sizeof *s.cust);
    s.c_node = px_malloc((nc ? nc : 1) * sizeof *s.c_node);
    s.p_node = px_malloc((np ? np : 1) * sizeof *s.p_node);
    s.prod = px_calloc(np ? np : 1, sizeof *s.prod);
    int rc = PX_OK;
    if (s.cust == NULL || s.c_node == NULL || s.p_node == NULL || s.prod == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    memset(s.c_node, 0xff, (nc ? nc : 1) * sizeof *s.c_node);
    memset(s.p_node, 0xff, (np ? np : 1) * sizeof *s.p_node);
    rc = select_graph(r, b, q, &s, err);
    if (rc != PX_OK) {
        goto done;
    }
    for (size_t i = 0; i < s.n_prod; i++) {
        s.p_node[s.prod[i]] = (int32_t)(s.n_cust + i);
    }
    rc = put_graph(r, b, &s, out, err);
    if (rc == PX_OK && shown != NULL && b != NULL && s.n_cust > 0) {
        shown->hits = px_calloc(s.n_cust, sizeof *shown->hits);
        if (shown->hits == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < s.n_cust; i++) {
            long row = app_book_find(b, r->d.customer_id[s.cust[i]]);
            if (row >= 0) {
                shown->hits[shown->n_hits++].row = (size_t)row;
            }
        }
    }
done:
    px_free(s.cust);
    px_free(s.c_node);
    px_free(s.p_node);
    px_free(s.prod);
    return rc;
}
