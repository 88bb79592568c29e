// recommend.c — a served recommender (app_rec.h): the saved model (kinds/recmodel, through the
// registry) and, optionally, the wholesale book it was trained on; recommendations for one
// customer as a list, the JSON document both front ends print, CSV rows, every customer's at
// once (CSV or JSON Lines, streamed to a sink or atomically to a file); and the check that the
// recommender belongs to the customer book it is served beside.
//
// Design: app_rec_load is the only caller of the model storage, so swapping the storage changes
// one function. app_rec_open keeps the model and the wholesale data read-only and builds the
// graph's indexes once (app/graph.c draws from them). One customer's answer is built once, as an
// app_rec_list, and the JSON and CSV writers render that list, so the two shapes cannot drift;
// app_rec_recommend_all renders each customer into one reused buffer and hands it to the sink,
// so a book of any size streams in bounded memory.
//
// The book check compares ids only: a model trained on another book shares none with it and
// every customer panel would read "not in the recommender", which is a mistake worth refusing at
// start; a partial overlap (new customers since training, a sampled book) is normal and only
// reported.
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
#include "recommend_int.h"

int app_rec_load(const char *registry, const char *ref, struct rec_model *m, int *version,
                 char *name, size_t n, struct px_err *err)
{
    int v = 0;
    memset(m, 0, sizeof *m);
    if (ref == NULL || ref[0] == '\0') {
        return px_fail(err, PX_EINVAL, "recommender reference must be NAME or NAME/VERSION");
    }
    // the registry reads every form: NAME, NAME/VERSION, NAME@VERSION (URLs), NAME@STAGE
    int rc = recmodel_load(registry ? registry : app_registry_dir(NULL), ref, m, &v, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (version != NULL) {
        *version = v;
    }
    if (name != NULL) {
        snprintf(name, n, "%.*s/%d", (int)strcspn(ref, "/@"), ref, v);
    }
    return PX_OK;
}

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

long app_rec_data_customer(const struct app_rec *r, const char *id)
{
    size_t lo = 0, hi = r->has_data ? r->d.n_customers : 0;
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
    char paths[3][LIMIT_PATH];
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
        rc = app_rec_load(p->registry, p->ref, &r->m, NULL, r->model_name, sizeof r->model_name,
                          err);
        r->has_model = rc == PX_OK;
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

size_t app_rec_n_customers(const struct app_rec *r)
{
    return r != NULL && r->has_model ? r->m.n_customers : 0;
}

// ---- recommendations ----

static int check_top(const struct app_rec *r, size_t top, struct px_err *err)
{
    if (r == NULL || !r->has_model) {
        return px_fail(err, PX_ENOENT, "no recommender is served (serve --recommender NAME)");
    }
    if (top < 1 || top > LIMIT_REC_TOP) {
        return px_fail(err, PX_EINVAL, "top must be 1..%d", LIMIT_REC_TOP);
    }
    return PX_OK;
}

// Customer c's list into out, whose picks hold top entries (items: top scratch entries).
static void fill_list(const struct app_rec *r, size_t c, size_t top, struct rec_item *items,
                      struct app_rec_list *out)
{
    const struct rec_model *m = &r->m;
    size_t n = 0;
    rec_recommend(m, c, top, items, &n);
    out->customer_id = m->customer_id[c];
    out->customer_label = m->customer_label[c];
    out->held = m->held_ptr[c + 1] - m->held_ptr[c];
    for (size_t k = 0; k < n; k++) {
        out->picks[k].product_id = m->product_id[items[k].product];
        out->picks[k].product = m->product_label[items[k].product];
        out->picks[k].score = (double)items[k].score;
    }
    out->n = n;
}

// The picks and scratch items of lists of top entries.
static int list_alloc(size_t top, struct app_rec_list *l, struct rec_item **items,
                      struct px_err *err)
{
    memset(l, 0, sizeof *l);
    l->picks = px_calloc(top, sizeof *l->picks);
    *items = px_calloc(top, sizeof **items);
    if (l->picks == NULL || *items == NULL) {
        px_free(l->picks);
        px_free(*items);
        l->picks = NULL;
        *items = NULL;
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    return PX_OK;
}

int app_rec_recommend(const struct app_rec *r, const char *customer_id, size_t top,
                      struct app_rec_list *out, struct px_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_top(r, top, err);
    if (rc != PX_OK) {
        return rc;
    }
    long c = rec_model_find_customer(&r->m, customer_id);
    if (c < 0) {
        return px_fail(err, PX_ENOENT,
                       "customer '%s' is not in the model %s (retrain after adding customers)",
                       customer_id, r->model_name);
    }
    struct rec_item *items = NULL;
    if ((rc = list_alloc(top, out, &items, err)) != PX_OK) {
        return rc;
    }
    fill_list(r, (size_t)c, top, items, out);
    px_free(items);
    return PX_OK;
}

void app_rec_list_free(struct app_rec_list *l)
{
    if (l != NULL) {
        px_free(l->picks);
        memset(l, 0, sizeof *l);
    }
}

static int list_json(const struct app_rec *r, const struct app_rec_list *l, struct buf *out,
                     struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "customer_id", true, err);
    if (rc == PX_OK)
        rc = jsonx_put_cstr(out, l->customer_id, err);
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "model", false, err);
    if (rc == PX_OK)
        rc = jsonx_put_cstr(out, r->model_name, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"held\": %zu, \"recommendations\": [", l->held);
    for (size_t k = 0; k < l->n && rc == PX_OK; k++) {
        rc = buf_printf(out, err, "%s{\"rank\": %zu", k ? ", " : "", k + 1);
        if (rc == PX_OK)
            rc = jsonx_put_key(out, "product_id", false, err);
        if (rc == PX_OK)
            rc = jsonx_put_cstr(out, l->picks[k].product_id, err);
        if (rc == PX_OK)
            rc = jsonx_put_key(out, "product", false, err);
        if (rc == PX_OK)
            rc = jsonx_put_cstr(out, l->picks[k].product, err);
        if (rc == PX_OK)
            rc = jsonx_put_key(out, "score", false, err);
        if (rc == PX_OK)
            rc = jsonx_put_number(out, l->picks[k].score, 6, err);
        if (rc == PX_OK)
            rc = buf_append(out, "}", 1, err);
    }
    return rc == PX_OK ? buf_append(out, "]}", 2, err) : rc;
}

// One CSV field: quoted when it holds a comma, quote, CR or LF (quotes doubled).
static int csv_field(struct buf *out, const char *s, struct px_err *err)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        return buf_append(out, s, strlen(s), err);
    }
    int rc = buf_append(out, "\"", 1, err);
    for (const char *q = s; *q != '\0' && rc == PX_OK; q++) {
        rc = *q == '"' ? buf_append(out, "\"\"", 2, err) : buf_append(out, q, 1, err);
    }
    return rc == PX_OK ? buf_append(out, "\"", 1, err) : rc;
}

static const char k_csv_header[] = "customer_id,rank,product_id,product,score\n";

static int list_csv(const struct app_rec_list *l, struct buf *out, struct px_err *err)
{
    int rc = PX_OK;
    for (size_t k = 0; k < l->n && rc == PX_OK; k++) {
        rc = csv_field(out, l->customer_id, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ",%zu,", k + 1);
        if (rc == PX_OK)
            rc = csv_field(out, l->picks[k].product_id, err);
        if (rc == PX_OK)
            rc = buf_append(out, ",", 1, err);
        if (rc == PX_OK)
            rc = csv_field(out, l->picks[k].product, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, ",%.6f\n", l->picks[k].score);
    }
    return rc;
}

int app_rec_recommend_json(const struct app_rec *r, const char *customer_id, size_t top,
                           struct buf *out, struct px_err *err)
{
    struct app_rec_list l;
    int rc = app_rec_recommend(r, customer_id, top, &l, err);
    if (rc == PX_OK)
        rc = list_json(r, &l, out, err);
    app_rec_list_free(&l);
    return rc;
}

int app_rec_recommend_csv(const struct app_rec *r, const char *customer_id, size_t top,
                          bool header, struct buf *out, struct px_err *err)
{
    struct app_rec_list l;
    int rc = app_rec_recommend(r, customer_id, top, &l, err);
    if (rc == PX_OK && header)
        rc = buf_append(out, k_csv_header, sizeof k_csv_header - 1, err);
    if (rc == PX_OK)
        rc = list_csv(&l, out, err);
    app_rec_list_free(&l);
    return rc;
}

// Chunks handed to the sink: about this many bytes (one customer's rows never split).
#define ALL_CHUNK (1u << 16)

int app_rec_recommend_all(const struct app_rec *r, size_t top, enum app_rec_format format,
                          app_rec_sink_fn sink, void *user, size_t *n_customers,
                          struct px_err *err)
{
    if (n_customers != NULL) {
        *n_customers = 0;
    }
    int rc = check_top(r, top, err);
    struct app_rec_list l = {0};
    struct rec_item *items = NULL;
    if (rc == PX_OK)
        rc = list_alloc(top, &l, &items, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct buf chunk;
    buf_init(&chunk, (size_t)1 << 30); // bounded by the chunk size plus one customer
    if (format == APP_REC_CSV) {
        rc = buf_append(&chunk, k_csv_header, sizeof k_csv_header - 1, err);
    }
    for (size_t c = 0; c < r->m.n_customers && rc == PX_OK; c++) {
        fill_list(r, c, top, items, &l);
        if (format == APP_REC_CSV) {
            rc = list_csv(&l, &chunk, err);
        } else {
            rc = list_json(r, &l, &chunk, err);
            if (rc == PX_OK)
                rc = buf_append(&chunk, "\n", 1, err);
        }
        if (rc == PX_OK && (chunk.len >= ALL_CHUNK || c + 1 == r->m.n_customers)) {
            rc = sink(user, chunk.data, chunk.len, err);
            buf_reset(&chunk);
        }
    }
    if (rc == PX_OK && chunk.len > 0) { // the header of a model without customers
        rc = sink(user, chunk.data, chunk.len, err);
    }
    if (rc == PX_OK && n_customers != NULL) {
        *n_customers = r->m.n_customers;
    }
    buf_free(&chunk);
    px_free(items);
    app_rec_list_free(&l);
    return rc;
}

static int file_sink(void *user, const char *data, size_t len, struct px_err *err)
{
    struct fsx_atomic *a = user;
    if (fwrite(data, 1, len, a->f) != len) {
        return px_fail(err, PX_EIO, "cannot write %s", a->path);
    }
    return PX_OK;
}

int app_rec_recommend_all_file(const struct app_rec *r, size_t top, enum app_rec_format format,
                               const char *path, size_t *n_customers, struct px_err *err)
{
    struct fsx_atomic a = {0};
    int rc = check_top(r, top, err); // before a file is made
    if (rc == PX_OK)
        rc = fsx_atomic_open(path, &a, err);
    if (rc == PX_OK)
        rc = app_rec_recommend_all(r, top, format, file_sink, &a, n_customers, err);
    if (rc == PX_OK)
        rc = fsx_atomic_commit(&a, err);
    fsx_atomic_abort(&a);
    return rc;
}

// ---- the book check ----

int app_rec_check_book(const struct app_rec *r, const struct app_book *b,
                       struct app_rec_overlap *out, struct px_err *err)
{
    memset(out, 0, sizeof *out);
    out->book = app_book_n_rows(b);
    if (r == NULL) {
        return PX_OK;
    }
    if (r->has_model) {
        out->model = r->m.n_customers;
        for (size_t c = 0; c < r->m.n_customers; c++) {
            out->model_shared += app_book_find(b, r->m.customer_id[c]) >= 0;
        }
    }
    if (r->has_data) {
        out->graph = r->d.n_customers;
        for (size_t c = 0; c < r->d.n_customers; c++) {
            out->graph_shared += app_book_find(b, r->d.customer_id[c]) >= 0;
        }
    }
    if (r->has_model && out->model_shared == 0) {
        return px_fail(err, PX_EINVAL,
                       "the recommender %s's %zu customers share no id with the customer book's "
                       "%zu: it was trained on another book (retrain it on this one, or serve "
                       "the book it belongs to)",
                       r->model_name, out->model, out->book);
    }
    if (r->has_data && out->graph_shared == 0) {
        return px_fail(err, PX_EINVAL,
                       "the wholesale book's %zu customers share no id with the customer book's "
                       "%zu: give the --wholesale directory this book was imported from",
                       out->graph, out->book);
    }
    return PX_OK;
}
