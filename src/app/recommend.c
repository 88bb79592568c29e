// recommend.c — the façade over the recommender (ml/recommender), its saved form and the
// wholesale book, for the CLI and the HTTP routes: recommendations, a bounded customer–product
// graph for the page, and segment summaries.
//
// Design: app_rec_load is the only caller of the model storage (kinds/recmodel.c; the shared
// registry later), so swapping the storage changes one function. app_rec_open keeps the model and
// the wholesale data read-only; the graph indexes are built once (edges by customer and by
// product, customers by volume, customer ids sorted) so a request costs its answer's size plus,
// for a segment or manager filter, one pass over the customers. The graph is never handed out
// whole: at most LIMIT_GRAPH_CUSTOMERS customers and LIMIT_GRAPH_EDGES edges ("truncated" says
// when customers were left out). Segment summaries are computed from the book's segment column,
// so they are the segments `prospect segment` stored, whatever it segmented on.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_rec.h"
#include "app_registry.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "recmodel.h"

int app_rec_load(const char *registry, const char *ref, struct rec_model *m, int *version,
                 struct px_err *err)
{
    char name[LIMIT_BUNDLE_NAME_BYTES + 16];
    int v = 0;
    if (ref == NULL || ref[0] == '\0' || strlen(ref) >= sizeof name) {
        return px_fail(err, PX_EINVAL, "recommender reference must be NAME or NAME/VERSION");
    }
    snprintf(name, sizeof name, "%s", ref);
    char *at = strchr(name, '@'); // the URL form NAME@VERSION
    if (at != NULL) {
        *at = '/';
    }
    int rc = recmodel_load(registry ? registry : app_registry_dir(NULL), name, m, &v, err);
    if (rc == PX_OK && version != NULL) {
        *version = v;
    }
    return rc;
}

struct app_rec {
    bool has_model, has_data;
    struct rec_model m;
    char model_name[LIMIT_BUNDLE_NAME_BYTES + 16];
    struct rec_data d;
    uint32_t *c_ptr, *c_edge; // edges of each customer (CSR, n_customers + 1)
    uint32_t *p_ptr, *p_edge; // edges of each product
    uint32_t *by_volume;      // customers, largest transaction volume first
    uint32_t *by_id;          // customers sorted by id
    double *volume;           // (n_customers) total amount (transactions when no amounts)
};

// qsort_r comparators (glibc argument order), rec the struct app_rec being opened.
static int cmp_volume(const void *a, const void *b, void *rec)
{
    const struct app_rec *r = rec;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double vx = r->volume[x], vy = r->volume[y];
    return vx > vy ? -1 : vx < vy ? 1 : (x > y) - (x < y);
}

static int cmp_cid(const void *a, const void *b, void *rec)
{
    const struct app_rec *r = rec;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return strcmp(r->d.customer_id[x], r->d.customer_id[y]);
}

static long find_data_customer(const struct app_rec *r, const char *id)
{
    size_t lo = 0, hi = r->d.n_customers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->d.customer_id[r->by_id[mid]], id);
        if (c == 0) {
            return (long)r->by_id[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

// CSR of edge indices grouped by key (customer or product) of each edge.
static int build_csr(const struct rec_data *d, size_t n_keys, bool by_product, uint32_t **ptr_out,
                     uint32_t **idx_out, struct px_err *err)
{
    uint32_t *ptr = px_calloc(n_keys + 1, sizeof *ptr);
    uint32_t *idx = px_calloc(d->n_edges ? d->n_edges : 1, sizeof *idx);
    uint32_t *fill = px_calloc(n_keys ? n_keys : 1, sizeof *fill);
    if (ptr == NULL || idx == NULL || fill == NULL) {
        px_free(ptr);
        px_free(idx);
        px_free(fill);
        return px_fail(err, PX_ENOMEM, "out of memory for the graph index");
    }
    for (size_t e = 0; e < d->n_edges; e++) {
        ptr[(by_product ? d->edges[e].product : d->edges[e].customer) + 1]++;
    }
    for (size_t k = 0; k < n_keys; k++) {
        ptr[k + 1] += ptr[k];
    }
    for (size_t e = 0; e < d->n_edges; e++) {
        uint32_t k = by_product ? d->edges[e].product : d->edges[e].customer;
        idx[ptr[k] + fill[k]++] = (uint32_t)e;
    }
    px_free(fill);
    *ptr_out = ptr;
    *idx_out = idx;
    return PX_OK;
}

static int open_data(struct app_rec *r, const char *dir, struct px_err *err)
{
    static const char *const names[3] = {"customers.csv", "products.csv", "transactions.csv"};
    char paths[3][4096];
    for (int k = 0; k < 3; k++) {
        if (fsx_join(paths[k], sizeof paths[k], dir, names[k], err) != PX_OK) {
            return err->code;
        }
    }
    int rc = rec_data_load(paths[0], paths[1], paths[2], &r->d, err);
    if (rc != PX_OK) {
        return rc;
    }
    px_free(r->d.x); // node features are for training only
    r->d.x = NULL;
    size_t nc = r->d.n_customers;
    rc = build_csr(&r->d, nc, false, &r->c_ptr, &r->c_edge, err);
    if (rc == PX_OK)
        rc = build_csr(&r->d, r->d.n_products, true, &r->p_ptr, &r->p_edge, err);
    if (rc != PX_OK) {
        return rc;
    }
    r->volume = px_calloc(nc ? nc : 1, sizeof *r->volume);
    r->by_volume = px_calloc(nc ? nc : 1, sizeof *r->by_volume);
    r->by_id = px_calloc(nc ? nc : 1, sizeof *r->by_id);
    if (r->volume == NULL || r->by_volume == NULL || r->by_id == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for the graph index");
    }
    bool amounts = false;
    for (size_t e = 0; e < r->d.n_edges; e++) {
        amounts |= r->d.edges[e].amount != 0;
    }
    for (size_t e = 0; e < r->d.n_edges; e++) {
        const struct rec_edge *x = &r->d.edges[e];
        r->volume[x->customer] += amounts ? fabs(x->amount) : (double)x->n_tx;
    }
    for (size_t c = 0; c < nc; c++) {
        r->by_volume[c] = r->by_id[c] = (uint32_t)c;
    }
    qsort_r(r->by_volume, nc, sizeof *r->by_volume, cmp_volume, r);
    qsort_r(r->by_id, nc, sizeof *r->by_id, cmp_cid, r);
    r->has_data = true;
    return PX_OK;
}

int app_rec_open(const struct app_rec_params *p, struct app_rec **out, struct px_err *err)
{
    *out = NULL;
    if (p->ref == NULL && p->wholesale == NULL) {
        return px_fail(err, PX_EINVAL, "give a recommender, a wholesale book, or both");
    }
    struct app_rec *r = px_calloc(1, sizeof *r);
    if (r == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int rc = PX_OK;
    if (p->ref != NULL) {
        int version = 0;
        rc = app_rec_load(p->registry, p->ref, &r->m, &version, err);
        if (rc == PX_OK) {
            r->has_model = true;
            size_t n = strcspn(p->ref, "/@");
            snprintf(r->model_name, sizeof r->model_name, "%.*s/%d", (int)n, p->ref, version);
        }
    }
    if (rc == PX_OK && p->wholesale != NULL) {
        rc = open_data(r, p->wholesale, err);
        if (rc != PX_OK) {
            px_err_prefix(err, "wholesale book %s", p->wholesale);
        }
    }
    if (rc != PX_OK) {
        app_rec_close(r);
        return rc;
    }
    *out = r;
    return PX_OK;
}

void app_rec_close(struct app_rec *r)
{
    if (r == NULL) {
        return;
    }
    rec_model_free(&r->m);
    rec_data_free(&r->d);
    px_free(r->c_ptr);
    px_free(r->c_edge);
    px_free(r->p_ptr);
    px_free(r->p_edge);
    px_free(r->by_volume);
    px_free(r->by_id);
    px_free(r->volume);
    px_free(r);
}

const char *app_rec_model_name(const struct app_rec *r)
{
    return r != NULL && r->has_model ? r->model_name : NULL;
}

bool app_rec_has_graph(const struct app_rec *r)
{
    return r != NULL && r->has_data;
}

static int put_str(struct buf *out, const char *s, struct px_err *err)
{
    return jsonx_put_string(out, s ? s : "", s ? strlen(s) : 0, err);
}

int app_rec_recommend_json(const struct app_rec *r, const char *customer_id, size_t top,
                           struct buf *out, struct px_err *err)
{
    if (r == NULL || !r->has_model) {
        return px_fail(err, PX_ENOENT, "no recommender is served (serve --recommender NAME)");
    }
    if (top < 1 || top > LIMIT_REC_TOP) {
        return px_fail(err, PX_EINVAL, "top must be 1..%d", LIMIT_REC_TOP);
    }
    long c = rec_model_find_customer(&r->m, customer_id);
    if (c < 0) {
        return px_fail(err, PX_ENOENT, "customer '%s' is not in the recommender %s", customer_id,
                       r->model_name);
    }
    struct rec_item *items = px_calloc(top, sizeof *items);
    if (items == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    size_t n = 0;
    rec_recommend(&r->m, (size_t)c, top, items, &n);
    int rc = buf_append(out, "{\"customer_id\": ", 16, err);
    if (rc == PX_OK)
        rc = put_str(out, r->m.customer_id[c], err);
    if (rc == PX_OK)
        rc = buf_append(out, ", \"model\": ", 11, err);
    if (rc == PX_OK)
        rc = put_str(out, r->model_name, err);
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"held\": %u, \"recommendations\": [",
                        r->m.held_ptr[c + 1] - r->m.held_ptr[c]);
    }
    for (size_t k = 0; k < n && rc == PX_OK; k++) {
        uint32_t p = items[k].product;
        rc = buf_printf(out, err, "%s{\"rank\": %zu, \"product_id\": ", k ? ", " : "", k + 1);
        if (rc == PX_OK)
            rc = put_str(out, r->m.product_id[p], err);
        if (rc == PX_OK)
            rc = buf_append(out, ", \"product\": ", 13, err);
        if (rc == PX_OK)
            rc = put_str(out, r->m.product_label[p], err);
        if (rc == PX_OK) {
            double s = (double)items[k].score;
            rc = buf_printf(out, err, ", \"score\": %.6g}", isfinite(s) ? s : 0.0);
        }
    }
    if (rc == PX_OK)
        rc = buf_append(out, "]}", 2, err);
    px_free(items);
    return rc;
}

// ---- the graph ----

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
    if (rc == PX_OK) rc = put_str(out, id, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"kind\": \"%s\", \"label\": ", kind);
    if (rc == PX_OK) rc = put_str(out, text, err);
    if (rc == PX_OK) rc = buf_append(out, ", \"type\": ", 10, err);
    if (rc == PX_OK) rc = put_str(out, a, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"%s\": ", second);
    if (rc == PX_OK) rc = put_str(out, b, err);
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
                         : put_str(out, v[i], err);
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
        long c0 = find_data_customer(r, q->customer);
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
        rc = r->has_model ? put_str(out, r->model_name, err) : buf_append(out, "null", 4, err);
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
            rc = rm[0] ? put_str(out, rm, err) : buf_append(out, "null", 4, err);
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
                rc = put_str(out, type, err);
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
