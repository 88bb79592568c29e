// recommender.c — customer–product graph, GAT link prediction, baselines, evaluation (see
// recommender.h for the data, features and protocol).
//
// Model (two GAT layers, nn/gat.h), nodes = customers then products:
//   x (N, F) ─ layer 1: K heads × D, concat ─ ELU ─ dropout (training) ─ layer 2: 1 head ×
//   dim_out ─ z (N, dim_out);  score(c, p) = z_c · z_p
// While training, both layers also drop attention coefficients (attn_dropout, nn/gat.h), the
// masks drawn from the step's seed, so a run is reproducible for a seed.
// Loss: BPR (Rendle et al. 2009) with one uniformly drawn negative product per training edge
// per epoch, mean over edges, full graph per step; Adam (β 0.9 / 0.999) with L2 weight decay.
// Glorot-uniform initialisation, attention vectors included. Early stopping: recall@10 on the
// validation edges every eval_every epochs; the best parameters are kept.
// Baselines: popularity (customers per product in train + validation) and BPR matrix
// factorisation (full-batch Adam on train + validation edges, fixed epochs). Each model ranks
// every product the customer does not already hold, so a test edge is never "known".
//
// Evaluation: scores for a block of customers are one gemm (block × products × dim); the top 10
// of each row is kept by insertion (K is small). recall@K = hits / |test products|, NDCG@10 with
// binary relevance, hit rate = share of customers with a hit in the top 10; means over customers
// with at least one test edge.
#include "recommender.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csvread.h"
#include "datex.h"
#include "gemm.h"
#include "limits.h"
#include "mem.h"
#include "prng.h"
#include "pool.h"
#include "recommender_internal.h"

// ---- small helpers ----

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    return prng_splitmix64(&r->s);
}

static double rng_unif(struct rng *r)
{
    return prng_unit(rng_next(r));
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return prng_below(rng_next(r), n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void free_strings(char **s, size_t n)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        px_free(s[i]);
    }
    px_free(s);
}

// ---- CSV tables in memory ----

struct table {
    const char *path;
    size_t n_cols, n_rows, cap;
    char **names;  // (n_cols)
    char **cells;  // (n_rows, n_cols)
    size_t *lines; // (n_rows)
};

static int table_record(void *user, size_t index, size_t line, const char *const *f,
                        const size_t *len, size_t n, struct px_err *err)
{
    struct table *t = user;
    if (index == 0) {
        t->names = px_calloc(n, sizeof *t->names);
        if (t->names == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", t->path);
        }
        t->n_cols = n;
        for (size_t j = 0; j < n; j++) {
            if ((t->names[j] = px_strndup(f[j], len[j])) == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory reading %s", t->path);
            }
        }
        return PX_OK;
    }
    if (n != t->n_cols) {
        return px_fail(err, PX_EINVAL, "%s: line %zu has %zu fields, the header has %zu", t->path,
                       line, n, t->n_cols);
    }
    if (t->n_rows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        char **cells = px_realloc(t->cells, cap * t->n_cols * sizeof *cells);
        if (cells == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", t->path);
        }
        t->cells = cells;
        size_t *lines = px_realloc(t->lines, cap * sizeof *lines);
        if (lines == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", t->path);
        }
        t->lines = lines;
        t->cap = cap;
    }
    char **row = t->cells + t->n_rows * t->n_cols;
    for (size_t j = 0; j < n; j++) {
        row[j] = NULL;
    }
    t->lines[t->n_rows] = line;
    t->n_rows++;
    for (size_t j = 0; j < n; j++) {
        if ((row[j] = px_strndup(f[j], len[j])) == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", t->path);
        }
    }
    return PX_OK;
}

static void table_free(struct table *t)
{
    free_strings(t->names, t->n_cols);
    if (t->cells != NULL) {
        for (size_t k = 0; k < t->n_rows * t->n_cols; k++) {
            px_free(t->cells[k]);
        }
    }
    px_free(t->cells);
    px_free(t->lines);
    memset(t, 0, sizeof *t);
}

static int table_read(const char *path, struct table *t, struct px_err *err)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    int rc = csvread_file(path, table_record, t, err);
    if (rc == PX_OK && t->n_cols == 0) {
        rc = px_fail(err, PX_EINVAL, "%s: empty file (no header)", path);
    }
    if (rc != PX_OK) {
        table_free(t);
    }
    return rc;
}

static int table_col(const struct table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++) {
        if (strcmp(t->names[j], name) == 0) {
            return (int)j;
        }
    }
    return -1;
}

// ---- value parsing ----

// "$1,234.50", "85%", "-3" -> number; false for anything else (empty included).
static bool parse_number(const char *s, double *out)
{
    char tmp[64];
    size_t n = 0;
    if (*s == '$') {
        s++;
    }
    for (; *s; s++) {
        if (*s == ',') {
            continue;
        }
        if (*s == '%' && s[1] == '\0') {
            break;
        }
        if (n + 1 >= sizeof tmp) {
            return false; // longer than any number: not cut short into another value
        }
        tmp[n++] = *s;
    }
    tmp[n] = '\0';
    if (n == 0) {
        return false;
    }
    char *end = NULL;
    double v = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(v)) {
        return false;
    }
    *out = v;
    return true;
}

// "YYYY-MM-DD" -> days since 1970-01-01.
static bool parse_date(const char *s, int32_t *out)
{
    int64_t days;
    if (!datex_parse_iso(s, strlen(s), &days)) {
        return false;
    }
    *out = (int32_t)days;
    return true;
}

// ---- features ----

enum { ENC_SKIP, ENC_NUM, ENC_LOGNUM, ENC_DATE, ENC_ONEHOT, ENC_MULTIHOT };

struct encoder {
    int kind;
    double mean, sd;
    char **levels; // (n_levels) for one-hot / multi-hot
    size_t n_levels;
};

static long level_find(char **levels, size_t n, const char *s, size_t len)
{
    for (size_t k = 0; k < n; k++) {
        if (strlen(levels[k]) == len && memcmp(levels[k], s, len) == 0) {
            return (long)k;
        }
    }
    return -1;
}

// Adds s[0..len) as a level unless present; false when there are already LIMIT_CATEGORY_VALUES.
static int level_add(struct encoder *e, const char *s, size_t len, bool *full)
{
    if (level_find(e->levels, e->n_levels, s, len) >= 0) {
        return PX_OK;
    }
    if (e->n_levels >= LIMIT_CATEGORY_VALUES) {
        *full = true;
        return PX_OK;
    }
    char **lv = px_realloc(e->levels, (e->n_levels + 1) * sizeof *lv);
    if (lv == NULL) {
        return PX_ENOMEM;
    }
    e->levels = lv;
    if ((e->levels[e->n_levels] = px_strndup(s, len)) == NULL) {
        return PX_ENOMEM;
    }
    e->n_levels++;
    return PX_OK;
}

// Chooses column j's encoding from its values.
static int encoder_fit(const struct table *t, size_t j, struct encoder *e)
{
    memset(e, 0, sizeof *e);
    size_t present = 0, numeric = 0, dates = 0, lists = 0;
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < t->n_rows; i++) {
        const char *v = t->cells[i * t->n_cols + j];
        if (v[0] == '\0') {
            continue;
        }
        present++;
        double x;
        int32_t d;
        if (parse_number(v, &x)) {
            numeric++;
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        } else if (parse_date(v, &d)) {
            dates++;
        }
        lists += strstr(v, "; ") != NULL;
    }
    if (present == 0) {
        e->kind = ENC_SKIP;
        return PX_OK;
    }
    if (numeric == present || dates == present) {
        e->kind = dates == present ? ENC_DATE : (lo >= 0 && hi > 1000 ? ENC_LOGNUM : ENC_NUM);
        for (size_t i = 0; i < t->n_rows; i++) {
            const char *v = t->cells[i * t->n_cols + j];
            double x = 0;
            int32_t d = 0;
            if (e->kind == ENC_DATE ? !parse_date(v, &d) : !parse_number(v, &x)) {
                continue;
            }
            x = e->kind == ENC_DATE ? (double)d : e->kind == ENC_LOGNUM ? log1p(x) : x;
            sum += x;
            sum2 += x * x;
        }
        e->mean = sum / (double)present;
        double var = sum2 / (double)present - e->mean * e->mean;
        e->sd = var > 1e-12 ? sqrt(var) : 0;
        if (e->sd == 0) {
            e->kind = ENC_SKIP; // constant
        }
        return PX_OK;
    }
    bool full = false;
    e->kind = lists > 0 ? ENC_MULTIHOT : ENC_ONEHOT;
    for (size_t i = 0; i < t->n_rows && !full; i++) {
        const char *v = t->cells[i * t->n_cols + j];
        if (e->kind == ENC_ONEHOT) {
            if (v[0] != '\0' && level_add(e, v, strlen(v), &full) != PX_OK) {
                return PX_ENOMEM;
            }
            continue;
        }
        while (*v) {
            const char *sep = strstr(v, "; ");
            size_t len = sep ? (size_t)(sep - v) : strlen(v);
            if (len > 0 && level_add(e, v, len, &full) != PX_OK) {
                return PX_ENOMEM;
            }
            v += len + (sep ? 2 : 0);
        }
    }
    // too many levels, or one per row (names, free text): not a feature
    if (full || e->n_levels < 2 || (e->kind == ENC_ONEHOT && 2 * e->n_levels > t->n_rows)) {
        free_strings(e->levels, e->n_levels);
        e->levels = NULL;
        e->n_levels = 0;
        e->kind = ENC_SKIP;
    }
    return PX_OK;
}

static size_t encoder_width(const struct encoder *e)
{
    return e->kind == ENC_SKIP                                ? 0
           : e->kind == ENC_ONEHOT || e->kind == ENC_MULTIHOT ? e->n_levels
                                                              : 1;
}

// Writes row i of column j into x (encoder_width floats).
static void encoder_apply(const struct encoder *e, const char *v, float *x)
{
    size_t w = encoder_width(e);
    memset(x, 0, w * sizeof *x);
    if (e->kind == ENC_NUM || e->kind == ENC_LOGNUM || e->kind == ENC_DATE) {
        double val = 0;
        int32_t d = 0;
        if (e->kind == ENC_DATE ? parse_date(v, &d) : parse_number(v, &val)) {
            val = e->kind == ENC_DATE ? (double)d : e->kind == ENC_LOGNUM ? log1p(val) : val;
            x[0] = (float)((val - e->mean) / e->sd); // missing stays 0 (the mean)
        }
    } else if (e->kind == ENC_ONEHOT) {
        long k = level_find(e->levels, e->n_levels, v, strlen(v));
        if (k >= 0) {
            x[k] = 1.0f;
        }
    } else if (e->kind == ENC_MULTIHOT) {
        while (*v) {
            const char *sep = strstr(v, "; ");
            size_t len = sep ? (size_t)(sep - v) : strlen(v);
            long k = level_find(e->levels, e->n_levels, v, len);
            if (k >= 0) {
                x[k] = 1.0f;
            }
            v += len + (sep ? 2 : 0);
        }
    }
}

// Fits encoders for every column but the first (the id) of t; *width returns the total.
static int encode_fit(const struct table *t, struct encoder **out, size_t *width)
{
    struct encoder *enc = px_calloc(t->n_cols, sizeof *enc);
    if (enc == NULL) {
        return PX_ENOMEM;
    }
    *width = 0;
    for (size_t j = 1; j < t->n_cols; j++) {
        if (encoder_fit(t, j, &enc[j]) != PX_OK) {
            for (size_t q = 0; q <= j; q++) {
                free_strings(enc[q].levels, enc[q].n_levels);
            }
            px_free(enc);
            return PX_ENOMEM;
        }
        *width += encoder_width(&enc[j]);
    }
    *out = enc;
    return PX_OK;
}

static void encode_free(struct encoder *enc, size_t n)
{
    if (enc == NULL) {
        return;
    }
    for (size_t j = 0; j < n; j++) {
        free_strings(enc[j].levels, enc[j].n_levels);
    }
    px_free(enc);
}

// Writes t's row i into x (the total width), column after column.
static void encode_row(const struct table *t, const struct encoder *enc, size_t i, float *x)
{
    for (size_t j = 1; j < t->n_cols; j++) {
        encoder_apply(&enc[j], t->cells[i * t->n_cols + j], x);
        x += encoder_width(&enc[j]);
    }
}

// ---- ids ----

struct id_ref {
    const char *id;
    uint32_t index;
};

static int cmp_id_ref(const void *a, const void *b)
{
    return strcmp(((const struct id_ref *)a)->id, ((const struct id_ref *)b)->id);
}

static long id_lookup(const struct id_ref *refs, size_t n, const char *id)
{
    struct id_ref key = {id, 0};
    const struct id_ref *hit = bsearch(&key, refs, n, sizeof *refs, cmp_id_ref);
    return hit ? (long)hit->index : -1;
}

// Sorted id index of column 0 of t; PX_EINVAL names a duplicate or empty id.
static int id_index(const struct table *t, struct id_ref **out, struct px_err *err)
{
    struct id_ref *refs = px_calloc(t->n_rows ? t->n_rows : 1, sizeof *refs);
    if (refs == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory indexing %s", t->path);
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        refs[i].id = t->cells[i * t->n_cols];
        refs[i].index = (uint32_t)i;
        if (refs[i].id[0] == '\0') {
            px_free(refs);
            return px_fail(err, PX_EINVAL, "%s: line %zu: empty id in column '%s'", t->path,
                           t->lines[i], t->names[0]);
        }
    }
    qsort(refs, t->n_rows, sizeof *refs, cmp_id_ref);
    for (size_t i = 1; i < t->n_rows; i++) {
        if (strcmp(refs[i - 1].id, refs[i].id) == 0) {
            int rc =
                px_fail(err, PX_EINVAL, "%s: line %zu: duplicate id '%s' (first on line %zu)",
                        t->path, t->lines[refs[i].index], refs[i].id, t->lines[refs[i - 1].index]);
            px_free(refs);
            return rc;
        }
    }
    *out = refs;
    return PX_OK;
}

// "A, B" from the named columns of row i when present ("" otherwise).
static char *make_label(const struct table *t, size_t i, const char *c1, const char *c2)
{
    int j1 = table_col(t, c1), j2 = table_col(t, c2);
    const char *a = j1 >= 0 ? t->cells[i * t->n_cols + (size_t)j1] : "";
    const char *b = j2 >= 0 ? t->cells[i * t->n_cols + (size_t)j2] : "";
    size_t n = strlen(a) + strlen(b) + 3;
    char *s = px_malloc(n);
    if (s != NULL) {
        snprintf(s, n, "%s%s%s", a, a[0] && b[0] ? ", " : "", b);
    }
    return s;
}

// ---- data ----

struct raw_tx {
    uint32_t c, p;
    int32_t day;
    uint16_t type;
    double amount;
};

static int cmp_raw_tx(const void *a, const void *b)
{
    const struct raw_tx *x = a, *y = b;
    if (x->c != y->c) {
        return x->c < y->c ? -1 : 1;
    }
    if (x->p != y->p) {
        return x->p < y->p ? -1 : 1;
    }
    return x->day < y->day ? -1 : x->day > y->day ? 1 : 0;
}

static int cmp_edge_time(const void *a, const void *b)
{
    const struct rec_edge *x = a, *y = b;
    if (x->day != y->day) {
        return x->day < y->day ? -1 : 1;
    }
    if (x->customer != y->customer) {
        return x->customer < y->customer ? -1 : 1;
    }
    return x->product < y->product ? -1 : x->product > y->product ? 1 : 0;
}

void rec_data_free(struct rec_data *d)
{
    free_strings(d->customer_id, d->n_customers);
    free_strings(d->customer_label, d->n_customers);
    free_strings(d->product_id, d->n_products);
    free_strings(d->product_label, d->n_products);
    free_strings(d->tx_types, d->n_tx_types);
    px_free(d->x);
    px_free(d->edges);
    memset(d, 0, sizeof *d);
}

int rec_data_load(const char *customers_csv, const char *products_csv, const char *tx_csv,
                  struct rec_data *out, struct px_err *err)
{
    memset(out, 0, sizeof *out);
    struct table tc = {0}, tp = {0}, tt = {0};
    struct encoder *ec = NULL, *ep = NULL;
    struct id_ref *rc_ids = NULL, *rp_ids = NULL;
    struct raw_tx *raw = NULL;
    struct rec_data d = {0};
    int rc;
    if ((rc = table_read(customers_csv, &tc, err)) != PX_OK ||
        (rc = table_read(products_csv, &tp, err)) != PX_OK ||
        (rc = table_read(tx_csv, &tt, err)) != PX_OK) {
        goto done;
    }
    if (tc.n_rows == 0 || tp.n_rows < 2) {
        rc = px_fail(err, PX_EINVAL, "%s",
                     tc.n_rows == 0 ? "no customers" : "fewer than 2 products");
        goto done;
    }
    if (tc.n_rows + tp.n_rows > LIMIT_REC_NODES) {
        rc = px_fail(err, PX_ELIMIT, "%zu customers + %zu products: over %u (LIMIT_REC_NODES)",
                     tc.n_rows, tp.n_rows, LIMIT_REC_NODES);
        goto done;
    }
    if ((rc = id_index(&tc, &rc_ids, err)) != PX_OK ||
        (rc = id_index(&tp, &rp_ids, err)) != PX_OK) {
        goto done;
    }
    int jc = table_col(&tt, "customer_id"), jp = table_col(&tt, "product_id");
    int jd = table_col(&tt, "date"), ja = table_col(&tt, "amount");
    int jt = table_col(&tt, "transaction_type");
    if (jc < 0 || jp < 0 || jd < 0) {
        rc = px_fail(err, PX_EINVAL,
                     "%s: needs columns customer_id, product_id and date; '%s' is "
                     "missing",
                     tx_csv,
                     jc < 0   ? "customer_id"
                     : jp < 0 ? "product_id"
                              : "date");
        goto done;
    }
    d.n_customers = tc.n_rows;
    d.n_products = tp.n_rows;
    size_t wc = 0, wp = 0;
    rc = PX_ENOMEM;
    if (encode_fit(&tc, &ec, &wc) != PX_OK || encode_fit(&tp, &ep, &wp) != PX_OK) {
        px_fail(err, rc, "out of memory encoding features");
        goto done;
    }
    size_t w_id = d.n_products <= 4096 ? d.n_products : 0;
    d.n_features = wc + wp + w_id + 1;
    if (d.n_features > LIMIT_REC_FEATURES) {
        rc = px_fail(err, PX_ELIMIT, "%zu node features: over %d (LIMIT_REC_FEATURES)",
                     d.n_features, LIMIT_REC_FEATURES);
        goto done;
    }
    size_t n_nodes = d.n_customers + d.n_products;
    d.x = px_calloc(n_nodes * d.n_features, sizeof *d.x);
    d.customer_id = px_calloc(d.n_customers, sizeof(char *));
    d.customer_label = px_calloc(d.n_customers, sizeof(char *));
    d.product_id = px_calloc(d.n_products, sizeof(char *));
    d.product_label = px_calloc(d.n_products, sizeof(char *));
    if (d.x == NULL || d.customer_id == NULL || d.customer_label == NULL || d.product_id == NULL ||
        d.product_label == NULL) {
        px_fail(err, rc, "out of memory for %zu x %zu node features", n_nodes, d.n_features);
        goto done;
    }
    for (size_t i = 0; i < d.n_customers; i++) {
        encode_row(&tc, ec, i, d.x + i * d.n_features);
        d.customer_id[i] = px_strdup(tc.cells[i * tc.n_cols]);
        d.customer_label[i] = make_label(&tc, i, "customer_type", "industry");
        if (d.customer_id[i] == NULL || d.customer_label[i] == NULL) {
            px_fail(err, rc, "out of memory reading customers");
            goto done;
        }
    }
    for (size_t i = 0; i < d.n_products; i++) {
        float *x = d.x + (d.n_customers + i) * d.n_features;
        encode_row(&tp, ep, i, x + wc);
        if (w_id > 0) {
            x[wc + wp + i] = 1.0f;
        }
        x[d.n_features - 1] = 1.0f; // node type: product
        d.product_id[i] = px_strdup(tp.cells[i * tp.n_cols]);
        d.product_label[i] = make_label(&tp, i, "product_type", "category");
        if (d.product_id[i] == NULL || d.product_label[i] == NULL) {
            px_fail(err, rc, "out of memory reading products");
            goto done;
        }
    }
    // transactions -> distinct dated pairs
    if (tt.n_rows > LIMIT_WHOLESALE_TRANSACTIONS) {
        rc = px_fail(err, PX_ELIMIT, "%s: %zu transactions, over the limit", tx_csv, tt.n_rows);
        goto done;
    }
    raw = px_calloc(tt.n_rows ? tt.n_rows : 1, sizeof *raw);
    if (raw == NULL) {
        px_fail(err, rc, "out of memory reading %zu transactions", tt.n_rows);
        goto done;
    }
    for (size_t i = 0; i < tt.n_rows; i++) {
        char **row = tt.cells + i * tt.n_cols;
        long c = id_lookup(rc_ids, tc.n_rows, row[jc]);
        long p = id_lookup(rp_ids, tp.n_rows, row[jp]);
        if (c < 0 || p < 0) {
            rc = px_fail(err, PX_EINVAL, "%s: line %zu: %s '%s' is not in %s", tx_csv, tt.lines[i],
                         c < 0 ? "customer_id" : "product_id", c < 0 ? row[jc] : row[jp],
                         c < 0 ? customers_csv : products_csv);
            goto done;
        }
        raw[i].c = (uint32_t)c;
        raw[i].p = (uint32_t)p;
        if (!parse_date(row[jd], &raw[i].day)) {
            rc = px_fail(err, PX_EINVAL,
                         "%s: line %zu, column 'date': '%.40s' is not a date "
                         "(YYYY-MM-DD)",
                         tx_csv, tt.lines[i], row[jd]);
            goto done;
        }
        if (ja >= 0 && row[ja][0] != '\0' && !parse_number(row[ja], &raw[i].amount)) {
            rc = px_fail(err, PX_EINVAL, "%s: line %zu, column 'amount': '%.40s' is not a number",
                         tx_csv, tt.lines[i], row[ja]);
            goto done;
        }
        if (jt >= 0) {
            const char *ty = row[jt];
            long k = level_find(d.tx_types, d.n_tx_types, ty, strlen(ty));
            if (k < 0 && d.n_tx_types < LIMIT_CATEGORY_VALUES) {
                char **tys = px_realloc(d.tx_types, (d.n_tx_types + 1) * sizeof *tys);
                if (tys == NULL) {
                    px_fail(err, PX_ENOMEM, "out of memory");
                    goto done;
                }
                d.tx_types = tys;
                if ((d.tx_types[d.n_tx_types] = px_strdup(ty)) == NULL) {
                    px_fail(err, PX_ENOMEM, "out of memory");
                    goto done;
                }
                k = (long)d.n_tx_types++;
            }
            raw[i].type = (uint16_t)(k < 0 ? 0 : k);
        }
    }
    if (d.n_tx_types == 0) {
        d.tx_types = px_calloc(1, sizeof(char *));
        if (d.tx_types == NULL || (d.tx_types[0] = px_strdup("transaction")) == NULL) {
            px_fail(err, PX_ENOMEM, "out of memory");
            goto done;
        }
        d.n_tx_types = 1;
    }
    qsort(raw, tt.n_rows, sizeof *raw, cmp_raw_tx);
    d.edges = px_calloc(tt.n_rows ? tt.n_rows : 1, sizeof *d.edges);
    if (d.edges == NULL) {
        px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < tt.n_rows; i++) {
        if (i == 0 || raw[i].c != raw[i - 1].c || raw[i].p != raw[i - 1].p) {
            struct rec_edge *e = &d.edges[d.n_edges++];
            e->customer = raw[i].c;
            e->product = raw[i].p;
            e->day = raw[i].day;
            e->type = raw[i].type;
        }
        d.edges[d.n_edges - 1].n_tx++;
        d.edges[d.n_edges - 1].amount += fabs(raw[i].amount);
    }
    qsort(d.edges, d.n_edges, sizeof *d.edges, cmp_edge_time);
    d.n_transactions = tt.n_rows;
    *out = d;
    memset(&d, 0, sizeof d);
    rc = PX_OK;
done:
    rec_data_free(&d);
    encode_free(ec, tc.n_cols);
    encode_free(ep, tp.n_cols);
    px_free(rc_ids);
    px_free(rp_ids);
    px_free(raw);
    table_free(&tc);
    table_free(&tp);
    table_free(&tt);
    return rc;
}

// ---- the GAT model ----

struct rec_gat {
    const float *x; // (N, F) borrowed
    size_t n_nodes, n_features;
    const struct gat_graph *g; // borrowed
    struct gat_shape s1, s2;
    struct gat_layer l1, l2; // bound to params
    struct gat_layer g1, g2; // bound to grad
    float *params, *grad;    // (n_params)
    size_t n_params;
    struct gat_cache *c1, *c2;
    float *a1;   // (N, K·D) ELU(out1), dropped out while training
    float *mask; // (N, K·D) dropout scale (0 or 1/(1-p))
    float *dz;   // (N, dim_out)
    float *da1;  // (N, K·D)
    float dropout;
    float attn_dropout;
};

void rec_gat_free(struct rec_gat *m)
{
    if (m == NULL) {
        return;
    }
    gat_cache_free(m->c1);
    gat_cache_free(m->c2);
    px_free(m->params);
    px_free(m->grad);
    px_free(m->a1);
    px_free(m->mask);
    px_free(m->dz);
    px_free(m->da1);
    px_free(m);
}

float *rec_gat_params(struct rec_gat *m, size_t *n)
{
    *n = m->n_params;
    return m->params;
}

static void glorot(float *w, size_t fan_out, size_t fan_in, struct rng *r)
{
    double a = sqrt(6.0 / (double)(fan_in + fan_out));
    for (size_t k = 0; k < fan_out * fan_in; k++) {
        w[k] = (float)((2.0 * rng_unif(r) - 1.0) * a);
    }
}

int rec_gat_new(const float *x, size_t n_nodes, size_t n_features, const struct gat_graph *g,
                const struct rec_params *p, int n_threads, struct rec_gat **out, struct px_err *err)
{
    *out = NULL;
    struct rec_gat *m = px_calloc(1, sizeof *m);
    if (m == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for the GAT");
    }
    m->x = x;
    m->n_nodes = n_nodes;
    m->n_features = n_features;
    m->g = g;
    m->dropout = p->dropout;
    m->attn_dropout = p->attn_dropout;
    m->s1 = (struct gat_shape){(int)n_features, p->n_heads, p->dim_head, true};
    m->s2 = (struct gat_shape){p->n_heads * p->dim_head, 1, p->dim_out, false};
    size_t n1 = gat_shape_n_params(&m->s1), n2 = gat_shape_n_params(&m->s2);
    size_t kd = (size_t)p->n_heads * (size_t)p->dim_head;
    m->n_params = n1 + n2;
    m->params = px_calloc(m->n_params, sizeof(float));
    m->grad = px_calloc(m->n_params, sizeof(float));
    m->a1 = px_calloc(n_nodes * kd, sizeof(float));
    m->mask = px_calloc(n_nodes * kd, sizeof(float));
    m->dz = px_calloc(n_nodes * (size_t)p->dim_out, sizeof(float));
    m->da1 = px_calloc(n_nodes * kd, sizeof(float));
    int rc = PX_ENOMEM;
    if (m->params == NULL || m->grad == NULL || m->a1 == NULL || m->mask == NULL || m->dz == NULL ||
        m->da1 == NULL) {
        px_fail(err, rc, "out of memory for the GAT (%zu nodes)", n_nodes);
        goto fail;
    }
    if ((rc = gat_cache_new(g, &m->s1, n_threads, &m->c1, err)) != PX_OK ||
        (rc = gat_cache_new(g, &m->s2, n_threads, &m->c2, err)) != PX_OK) {
        goto fail;
    }
    gat_layer_bind(&m->l1, &m->s1, m->params);
    gat_layer_bind(&m->l2, &m->s2, m->params + n1);
    gat_layer_bind(&m->g1, &m->s1, m->grad);
    gat_layer_bind(&m->g2, &m->s2, m->grad + n1);
    struct rng r = {p->seed ^ 0x6A7ull};
    glorot(m->l1.w, kd, n_features, &r);
    glorot(m->l1.a_src, (size_t)p->n_heads, (size_t)p->dim_head, &r);
    glorot(m->l1.a_dst, (size_t)p->n_heads, (size_t)p->dim_head, &r);
    glorot(m->l2.w, (size_t)p->dim_out, kd, &r);
    glorot(m->l2.a_src, 1, (size_t)p->dim_out, &r);
    glorot(m->l2.a_dst, 1, (size_t)p->dim_out, &r);
    *out = m;
    return PX_OK;
fail:
    rec_gat_free(m);
    return rc;
}

// Embeddings z (N, dim_out), borrowed from the model until the next call.
static const float *gat_embed(struct rec_gat *m, bool train, uint64_t mask_seed, struct pool *pool)
{
    const float *o1, *z;
    size_t n = m->n_nodes * (size_t)gat_shape_dim_out(&m->s1);
    // attention masks: their own streams of the step's seed, one per layer
    const struct gat_dropout ad1 = {train ? m->attn_dropout : 0.0f, mask_seed ^ 0xA77E5EED1ull};
    const struct gat_dropout ad2 = {train ? m->attn_dropout : 0.0f, mask_seed ^ 0xA77E5EED2ull};
    gat_forward(&m->l1, m->c1, m->x, &ad1, pool, &o1);
    struct rng r = {mask_seed};
    float keep = 1.0f - m->dropout;
    for (size_t k = 0; k < n; k++) {
        float u = o1[k];
        float a = u > 0 ? u : expm1f(u);
        m->mask[k] = !train || m->dropout <= 0 ? 1.0f : rng_unif(&r) < keep ? 1.0f / keep : 0.0f;
        m->a1[k] = a * m->mask[k];
    }
    gat_forward(&m->l2, m->c2, m->a1, &ad2, pool, &z);
    return z;
}

static float dotf(const float *a, const float *b, size_t n)
{
    float s = 0;
    for (size_t k = 0; k < n; k++) {
        s += a[k] * b[k];
    }
    return s;
}

double rec_gat_loss(struct rec_gat *m, const uint32_t *triples, size_t n_triples, bool train,
                    uint64_t mask_seed, float *grad, struct pool *pool)
{
    const float *z = gat_embed(m, train, mask_seed, pool);
    const size_t D = (size_t)m->s2.dim_head;
    double loss = 0;
    if (grad != NULL) {
        memset(m->dz, 0, m->n_nodes * D * sizeof(float));
    }
    const float inv = n_triples ? 1.0f / (float)n_triples : 0.0f;
    for (size_t t = 0; t < n_triples; t++) {
        const uint32_t c = triples[3 * t], p = triples[3 * t + 1], q = triples[3 * t + 2];
        const float *zc = z + c * D, *zp = z + p * D, *zn = z + q * D;
        float diff = dotf(zc, zp, D) - dotf(zc, zn, D);
        // softplus(-diff), computed stably
        loss += diff > 0 ? log1p(exp(-(double)diff)) : -(double)diff + log1p(exp((double)diff));
        if (grad != NULL) {
            float gcoef = -inv / (1.0f + expf(diff)); // d softplus(-diff)/d diff, / T
            float *dc = m->dz + c * D, *dp = m->dz + p * D, *dn = m->dz + q * D;
            for (size_t k = 0; k < D; k++) {
                dc[k] += gcoef * (zp[k] - zn[k]);
                dp[k] += gcoef * zc[k];
                dn[k] -= gcoef * zc[k];
            }
        }
    }
    if (grad != NULL) {
        memset(m->grad, 0, m->n_params * sizeof(float));
        gat_backward(&m->l2, m->c2, m->dz, &m->g2, m->da1, pool);
        size_t n = m->n_nodes * (size_t)gat_shape_dim_out(&m->s1);
        // ELU'(u) = 1 for u > 0, else exp(u) = ELU(u) + 1; a1 holds ELU(u)·mask
        for (size_t k = 0; k < n; k++) {
            float mk = m->mask[k];
            float a = mk > 0 ? m->a1[k] / mk : 0.0f;
            float d = a > 0 ? 1.0f : a + 1.0f;
            m->da1[k] *= mk * d;
        }
        gat_backward(&m->l1, m->c1, m->da1, &m->g1, NULL, pool);
        memcpy(grad, m->grad, m->n_params * sizeof(float));
    }
    return loss / (double)(n_triples ? n_triples : 1);
}

// ---- Adam ----

struct adam {
    float *m, *v;
    size_t n;
    int t;
};

static int adam_init(struct adam *a, size_t n)
{
    a->m = px_calloc(n, sizeof(float));
    a->v = px_calloc(n, sizeof(float));
    a->n = n;
    a->t = 0;
    return a->m && a->v ? PX_OK : PX_ENOMEM;
}

static void adam_free(struct adam *a)
{
    px_free(a->m);
    px_free(a->v);
}

static void adam_step(struct adam *a, float *w, const float *g, float lr, float wd)
{
    a->t++;
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f - powf(b1, (float)a->t), c2 = 1.0f - powf(b2, (float)a->t);
    for (size_t k = 0; k < a->n; k++) {
        float gk = g[k] + wd * w[k];
        a->m[k] = b1 * a->m[k] + (1 - b1) * gk;
        a->v[k] = b2 * a->v[k] + (1 - b2) * gk * gk;
        w[k] -= lr * (a->m[k] / c1) / (sqrtf(a->v[k] / c2) + 1e-8f);
    }
}

// ---- edges, held sets, graphs ----

struct csr {
    uint32_t *ptr; // (n_customers + 1)
    uint32_t *idx; // products, sorted per customer
};

static void csr_free(struct csr *c)
{
    px_free(c->ptr);
    px_free(c->idx);
    c->ptr = c->idx = NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

// Customer -> products of edges [e0, e1).
static int csr_build(const struct rec_data *d, size_t e0, size_t e1, struct csr *out)
{
    out->ptr = px_calloc(d->n_customers + 1, sizeof *out->ptr);
    out->idx = px_calloc(e1 > e0 ? e1 - e0 : 1, sizeof *out->idx);
    uint32_t *cur = px_calloc(d->n_customers + 1, sizeof *cur);
    if (out->ptr == NULL || out->idx == NULL || cur == NULL) {
        px_free(cur);
        csr_free(out);
        return PX_ENOMEM;
    }
    for (size_t e = e0; e < e1; e++) {
        out->ptr[d->edges[e].customer + 1]++;
    }
    for (size_t c = 0; c < d->n_customers; c++) {
        out->ptr[c + 1] += out->ptr[c];
    }
    memcpy(cur, out->ptr, (d->n_customers + 1) * sizeof *cur);
    for (size_t e = e0; e < e1; e++) {
        out->idx[cur[d->edges[e].customer]++] = d->edges[e].product;
    }
    for (size_t c = 0; c < d->n_customers; c++) {
        qsort(out->idx + out->ptr[c], out->ptr[c + 1] - out->ptr[c], sizeof(uint32_t), cmp_u32);
    }
    px_free(cur);
    return PX_OK;
}

static bool csr_has(const struct csr *h, uint32_t c, uint32_t p)
{
    return bsearch(&p, h->idx + h->ptr[c], h->ptr[c + 1] - h->ptr[c], sizeof(uint32_t), cmp_u32) !=
           NULL;
}

// Both directions of edges [0, e1) plus self loops; bias log(w).
static int graph_build(const struct rec_data *d, size_t e1, struct gat_graph **out,
                       struct px_err *err)
{
    size_t n = 2 * e1;
    uint32_t *dst = px_calloc(n ? n : 1, sizeof *dst), *src = px_calloc(n ? n : 1, sizeof *src);
    float *bias = px_calloc(n ? n : 1, sizeof *bias);
    int rc = PX_ENOMEM;
    if (dst == NULL || src == NULL || bias == NULL) {
        px_fail(err, rc, "out of memory building the graph");
        goto done;
    }
    for (size_t e = 0; e < e1; e++) {
        const struct rec_edge *x = &d->edges[e];
        uint32_t c = x->customer, p = (uint32_t)d->n_customers + x->product;
        float b = (float)log(log1p((double)x->n_tx) + 0.1 * log1p(x->amount));
        dst[2 * e] = c;
        src[2 * e] = p;
        dst[2 * e + 1] = p;
        src[2 * e + 1] = c;
        bias[2 * e] = bias[2 * e + 1] = b;
    }
    rc = gat_graph_new(d->n_customers + d->n_products, n, dst, src, bias, true, out, err);
done:
    px_free(dst);
    px_free(src);
    px_free(bias);
    return rc;
}

// ---- evaluation ----

// Scores u_c·v_p (+ bias_p) for every product of each customer with targets, the known
// products excluded; per-customer recall@10 into per (n_customers, NAN when not evaluated).
static int evaluate(const struct rec_data *d, const float *u, const float *v, size_t dim,
                    const float *item_bias, const struct csr *known, const struct csr *target,
                    struct rec_metrics *out, double *per)
{
    const size_t np = d->n_products, block = 256;
    uint32_t *rows = px_calloc(block, sizeof *rows);
    float *s = px_calloc(block * np, sizeof *s);
    float *ublock = px_calloc(block * (dim ? dim : 1), sizeof *ublock);
    if (rows == NULL || s == NULL || ublock == NULL) {
        px_free(rows);
        px_free(s);
        px_free(ublock);
        return PX_ENOMEM;
    }
    memset(out, 0, sizeof *out);
    double r5 = 0, r10 = 0, ndcg = 0, hit = 0;
    size_t n_eval = 0;
    for (size_t c0 = 0; c0 < d->n_customers;) {
        size_t nb = 0;
        for (; c0 < d->n_customers && nb < block; c0++) {
            if (per != NULL) {
                per[c0] = NAN;
            }
            if (target->ptr[c0 + 1] > target->ptr[c0]) {
                rows[nb++] = (uint32_t)c0;
            }
        }
        if (nb == 0) {
            continue;
        }
        if (u != NULL && dim > 0) {
            for (size_t b = 0; b < nb; b++) {
                memcpy(ublock + b * dim, u + (size_t)rows[b] * dim, dim * sizeof(float));
            }
            gemm(nb, np, dim, ublock, dim, v, dim, item_bias, s, np);
        } else {
            for (size_t b = 0; b < nb; b++) {
                memcpy(s + b * np, item_bias, np * sizeof(float));
            }
        }
        for (size_t b = 0; b < nb; b++) {
            uint32_t c = rows[b];
            float *sc = s + b * np;
            for (uint32_t k = known->ptr[c]; k < known->ptr[c + 1]; k++) {
                sc[known->idx[k]] = -INFINITY;
            }
            uint32_t top[10];
            float tops[10];
            int n_top = 0;
            for (uint32_t p = 0; p < np; p++) {
                float x = sc[p];
                if (x == -INFINITY || (n_top == 10 && x <= tops[9])) {
                    continue;
                }
                int at = n_top < 10 ? n_top++ : 9;
                while (at > 0 && tops[at - 1] < x) {
                    tops[at] = tops[at - 1];
                    top[at] = top[at - 1];
                    at--;
                }
                tops[at] = x;
                top[at] = p;
            }
            size_t nt = target->ptr[c + 1] - target->ptr[c];
            double h5 = 0, h10 = 0, dcg = 0, idcg = 0;
            for (int r = 0; r < n_top; r++) {
                if (csr_has(target, c, top[r])) {
                    h10++;
                    h5 += r < 5;
                    dcg += 1.0 / log2((double)r + 2.0);
                }
            }
            for (size_t r = 0; r < nt && r < 10; r++) {
                idcg += 1.0 / log2((double)r + 2.0);
            }
            r5 += h5 / (double)nt;
            r10 += h10 / (double)nt;
            ndcg += dcg / idcg;
            hit += h10 > 0;
            if (per != NULL) {
                per[c] = h10 / (double)nt;
            }
            n_eval++;
        }
    }
    if (n_eval > 0) {
        out->recall5 = r5 / (double)n_eval;
        out->recall10 = r10 / (double)n_eval;
        out->ndcg10 = ndcg / (double)n_eval;
        out->hit10 = hit / (double)n_eval;
    }
    out->n_customers = n_eval;
    px_free(rows);
    px_free(s);
    px_free(ublock);
    return PX_OK;
}

// ---- negatives ----

// triples (e1 - e0, 3): customer node, positive and negative product nodes, for edges [e0, e1).
static void sample_triples(const struct rec_data *d, size_t e0, size_t e1, const struct csr *held,
                           struct rng *r, uint32_t *triples)
{
    const uint32_t off = (uint32_t)d->n_customers;
    for (size_t e = e0; e < e1; e++) {
        const struct rec_edge *x = &d->edges[e];
        uint32_t q = rng_below(r, (uint32_t)d->n_products);
        for (int tries = 0; tries < 20 && csr_has(held, x->customer, q); tries++) {
            q = rng_below(r, (uint32_t)d->n_products);
        }
        uint32_t *t = triples + 3 * (e - e0);
        t[0] = x->customer;
        t[1] = off + x->product;
        t[2] = off + q;
    }
}

// ---- matrix factorisation baseline ----

static int train_mf(const struct rec_data *d, size_t e1, const struct csr *held,
                    const struct rec_params *p, float **out)
{
    const size_t dim = (size_t)p->mf_dim, n = (d->n_customers + d->n_products) * dim;
    float *w = px_calloc(n, sizeof *w), *g = px_calloc(n, sizeof *g);
    uint32_t *tr = px_calloc(3 * (e1 ? e1 : 1), sizeof *tr);
    struct adam a = {0};
    if (w == NULL || g == NULL || tr == NULL || adam_init(&a, n) != PX_OK) {
        px_free(w);
        px_free(g);
        px_free(tr);
        adam_free(&a);
        return PX_ENOMEM;
    }
    struct rng r = {p->seed ^ 0x3F1ull};
    for (size_t k = 0; k < n; k++) {
        w[k] = (float)(0.1 * (2.0 * rng_unif(&r) - 1.0));
    }
    const float inv = 1.0f / (float)(e1 ? e1 : 1);
    for (int ep = 0; ep < p->mf_epochs; ep++) {
        sample_triples(d, 0, e1, held, &r, tr);
        memset(g, 0, n * sizeof *g);
        for (size_t t = 0; t < e1; t++) {
            const float *uc = w + tr[3 * t] * dim, *vp = w + tr[3 * t + 1] * dim;
            const float *vn = w + tr[3 * t + 2] * dim;
            float diff = dotf(uc, vp, dim) - dotf(uc, vn, dim);
            float gc = -inv / (1.0f + expf(diff));
            float *guc = g + tr[3 * t] * dim, *gvp = g + tr[3 * t + 1] * dim;
            float *gvn = g + tr[3 * t + 2] * dim;
            for (size_t k = 0; k < dim; k++) {
                guc[k] += gc * (vp[k] - vn[k]);
                gvp[k] += gc * uc[k];
                gvn[k] -= gc * uc[k];
            }
        }
        adam_step(&a, w, g, p->mf_lr, 1e-4f);
    }
    px_free(g);
    px_free(tr);
    adam_free(&a);
    *out = w;
    return PX_OK;
}

// ---- training ----

struct rec_params rec_default_params(void)
{
    struct rec_params p = {
        .n_heads = 2,
        .dim_head = 32,
        .dim_out = 64,
        .epochs = 200,
        .eval_every = 10,
        .patience = 4,
        .lr = 0.01f,
        .dropout = 0.1f,
        .attn_dropout = 0.2f,
        .weight_decay = 1e-5f,
        .mf_dim = 32,
        .mf_epochs = 150,
        .mf_lr = 0.02f,
        .seed = 42,
        .n_threads = 1,
    };
    return p;
}

void rec_model_free(struct rec_model *m)
{
    free_strings(m->customer_id, m->n_customers);
    free_strings(m->customer_label, m->n_customers);
    free_strings(m->product_id, m->n_products);
    free_strings(m->product_label, m->n_products);
    px_free(m->emb);
    px_free(m->held_ptr);
    px_free(m->held);
    px_free(m->by_id);
    memset(m, 0, sizeof *m);
}

static char **copy_strings(char *const *s, size_t n)
{
    char **out = px_calloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; out != NULL && i < n; i++) {
        if ((out[i] = px_strdup(s[i])) == NULL) {
            free_strings(out, i);
            out = NULL;
        }
    }
    return out;
}

// Fills m->by_id (customer indices sorted by id).
static int model_index_ids(struct rec_model *m)
{
    size_t n = m->n_customers ? m->n_customers : 1;
    m->by_id = px_calloc(n, sizeof *m->by_id);
    struct id_ref *refs = px_calloc(n, sizeof *refs);
    if (m->by_id == NULL || refs == NULL) {
        px_free(refs);
        return PX_ENOMEM;
    }
    for (size_t i = 0; i < m->n_customers; i++) {
        refs[i].id = m->customer_id[i];
        refs[i].index = (uint32_t)i;
    }
    qsort(refs, m->n_customers, sizeof *refs, cmp_id_ref);
    for (size_t i = 0; i < m->n_customers; i++) {
        m->by_id[i] = refs[i].index;
    }
    px_free(refs);
    return PX_OK;
}

int rec_model_index(struct rec_model *m, struct px_err *err)
{
    px_free(m->by_id);
    m->by_id = NULL;
    if (model_index_ids(m) != PX_OK) {
        return px_fail(err, PX_ENOMEM, "out of memory indexing customer ids");
    }
    return PX_OK;
}

long rec_model_find_customer(const struct rec_model *m, const char *id)
{
    size_t lo = 0, hi = m->n_customers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->customer_id[m->by_id[mid]], id);
        if (c == 0) {
            return (long)m->by_id[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

void rec_recommend(const struct rec_model *m, size_t c, size_t top, struct rec_item *out, size_t *n)
{
    *n = 0;
    if (c >= m->n_customers || top == 0) {
        return;
    }
    const size_t D = (size_t)m->dim;
    const float *zc = m->emb + c * D;
    const uint32_t *h = m->held + m->held_ptr[c];
    size_t nh = m->held_ptr[c + 1] - m->held_ptr[c], ih = 0;
    for (uint32_t p = 0; p < m->n_products; p++) {
        while (ih < nh && h[ih] < p) {
            ih++;
        }
        if (ih < nh && h[ih] == p) {
            continue; // held: never recommended
        }
        float s = dotf(zc, m->emb + (m->n_customers + p) * D, D);
        if (*n == top && s <= out[top - 1].score) {
            continue;
        }
        size_t at = *n < top ? (*n)++ : top - 1;
        while (at > 0 && out[at - 1].score < s) {
            out[at] = out[at - 1];
            at--;
        }
        out[at].product = p;
        out[at].score = s;
    }
}

int rec_train(const struct rec_data *d, const struct rec_params *p, rec_progress_fn progress,
              void *user, struct rec_model *model, struct px_err *err)
{
    memset(model, 0, sizeof *model);
    if (d->n_edges < 10) {
        return px_fail(err, PX_EINVAL,
                       "%zu customer-product pairs: too few to split into train, "
                       "validation and test (at least 10)",
                       d->n_edges);
    }
    if (p->n_heads < 1 || p->n_heads > LIMIT_GAT_HEADS || p->dim_head < 1 ||
        p->dim_head > LIMIT_GAT_WIDTH || p->dim_out < 1 || p->dim_out > LIMIT_GAT_WIDTH ||
        p->epochs < 1 || p->epochs > LIMIT_REC_EPOCHS || p->eval_every < 1 || p->mf_dim < 1 ||
        p->mf_dim > LIMIT_GAT_WIDTH || p->mf_epochs < 0 || p->mf_epochs > LIMIT_REC_EPOCHS ||
        !(p->lr > 0) || !(p->dropout >= 0 && p->dropout < 1) ||
        !(p->attn_dropout >= 0 && p->attn_dropout < 1) || p->n_threads < 1 ||
        p->n_threads > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "recommender parameters out of range");
    }
    const double t_start = now_s();
    int rc = PX_ENOMEM;
    struct rec_report rep = {0};
    struct pool *pool = NULL;
    struct gat_graph *g_train = NULL, *g_hist = NULL, *g_full = NULL;
    struct rec_gat *m = NULL;
    struct csr h_train = {0}, h_hist = {0}, h_full = {0}, t_val = {0}, t_test = {0};
    struct adam adam = {0};
    uint32_t *tr = NULL;
    float *best = NULL, *mf = NULL, *pop = NULL, *zc = NULL;
    double *per_gat = NULL, *per_pop = NULL;
    struct rec_model out = {0};
    const size_t E = d->n_edges, n_nodes = d->n_customers + d->n_products;
    const size_t e_train = E * 8 / 10, e_hist = E * 9 / 10;
    const size_t D = (size_t)p->dim_out;
    rep.n_train = e_train;
    rep.n_val = e_hist - e_train;
    rep.n_test = E - e_hist;

    if ((rc = pool_new(p->n_threads, &pool, err)) != PX_OK) {
        goto done;
    }
    rc = PX_ENOMEM;
    if (csr_build(d, 0, e_train, &h_train) != PX_OK || csr_build(d, 0, e_hist, &h_hist) != PX_OK ||
        csr_build(d, 0, E, &h_full) != PX_OK || csr_build(d, e_train, e_hist, &t_val) != PX_OK ||
        csr_build(d, e_hist, E, &t_test) != PX_OK) {
        px_fail(err, rc, "out of memory splitting %zu edges", E);
        goto done;
    }
    if ((rc = graph_build(d, e_train, &g_train, err)) != PX_OK ||
        (rc = rec_gat_new(d->x, n_nodes, d->n_features, g_train, p, p->n_threads, &m, err)) !=
            PX_OK) {
        goto done;
    }
    rc = PX_ENOMEM;
    tr = px_calloc(3 * e_train, sizeof *tr);
    best = px_calloc(m->n_params, sizeof *best);
    per_gat = px_calloc(d->n_customers, sizeof *per_gat);
    per_pop = px_calloc(d->n_customers, sizeof *per_pop);
    if (tr == NULL || best == NULL || per_gat == NULL || per_pop == NULL ||
        adam_init(&adam, m->n_params) != PX_OK) {
        px_fail(err, rc, "out of memory for training");
        goto done;
    }
    // -- GAT: full-graph epochs, validation every eval_every, best parameters kept
    struct rng r = {p->seed};
    double best_val = -1;
    int since_best = 0;
    memcpy(best, m->params, m->n_params * sizeof *best);
    for (int ep = 1; ep <= p->epochs; ep++) {
        sample_triples(d, 0, e_train, &h_train, &r, tr);
        rec_gat_loss(m, tr, e_train, true, rng_next(&r), m->grad, pool);
        adam_step(&adam, m->params, m->grad, p->lr, p->weight_decay);
        rep.epochs_run = ep;
        if (ep % p->eval_every == 0 || ep == p->epochs) {
            const float *z = gat_embed(m, false, 0, pool);
            struct rec_metrics vm;
            if (evaluate(d, z, z + d->n_customers * D, D, NULL, &h_train, &t_val, &vm, NULL) !=
                PX_OK) {
                px_fail(err, rc, "out of memory evaluating");
                goto done;
            }
            if (vm.recall10 > best_val) {
                best_val = vm.recall10;
                rep.best_epoch = ep;
                memcpy(best, m->params, m->n_params * sizeof *best);
                since_best = 0;
            } else if (++since_best >= p->patience) {
                if (progress != NULL) {
                    progress(user, ep, p->epochs, vm.recall10);
                }
                break;
            }
            if (progress != NULL) {
                progress(user, ep, p->epochs, vm.recall10);
            }
        }
    }
    rep.best_val_recall10 = best_val;
    memcpy(m->params, best, m->n_params * sizeof *best);
    // -- test: the history graph (train + validation), its products excluded
    if ((rc = graph_build(d, e_hist, &g_hist, err)) != PX_OK) {
        goto done;
    }
    rec_gat_free(m);
    m = NULL;
    if ((rc = rec_gat_new(d->x, n_nodes, d->n_features, g_hist, p, p->n_threads, &m, err)) !=
        PX_OK) {
        goto done;
    }
    memcpy(m->params, best, m->n_params * sizeof *best);
    rc = PX_ENOMEM;
    const float *z = gat_embed(m, false, 0, pool);
    if (evaluate(d, z, z + d->n_customers * D, D, NULL, &h_hist, &t_test, &rep.gat, per_gat) !=
        PX_OK) {
        px_fail(err, rc, "out of memory evaluating");
        goto done;
    }
    rep.seconds_gat = now_s() - t_start;
    // -- popularity: customers per product in the history
    pop = px_calloc(d->n_products, sizeof *pop);
    if (pop == NULL) {
        px_fail(err, rc, "out of memory");
        goto done;
    }
    for (size_t e = 0; e < e_hist; e++) {
        pop[d->edges[e].product] += 1.0f;
    }
    if (evaluate(d, NULL, NULL, 0, pop, &h_hist, &t_test, &rep.popularity, per_pop) != PX_OK) {
        px_fail(err, rc, "out of memory evaluating");
        goto done;
    }
    // -- matrix factorisation on the history
    if (p->mf_epochs > 0) {
        if (train_mf(d, e_hist, &h_hist, p, &mf) != PX_OK ||
            evaluate(d, mf, mf + d->n_customers * (size_t)p->mf_dim, (size_t)p->mf_dim, NULL,
                     &h_hist, &t_test, &rep.mf, NULL) != PX_OK) {
            px_fail(err, rc, "out of memory for matrix factorisation");
            goto done;
        }
    }
    // -- the GAT's lift over popularity, per customer
    double sum = 0, sum2 = 0;
    size_t n_l = 0;
    for (size_t c = 0; c < d->n_customers; c++) {
        if (!isnan(per_gat[c])) {
            double x = per_gat[c] - per_pop[c];
            sum += x;
            sum2 += x * x;
            n_l++;
        }
    }
    if (n_l > 1) {
        rep.lift_mean = sum / (double)n_l;
        double var = (sum2 - (double)n_l * rep.lift_mean * rep.lift_mean) / (double)(n_l - 1);
        rep.lift_se = sqrt(fmax(var, 0) / (double)n_l);
    }
    rep.beats_popularity = n_l > 1 && rep.lift_mean > 2.0 * rep.lift_se &&
                           rep.gat.recall10 > 1.1 * rep.popularity.recall10;
    // -- the served model: embeddings on the full graph, every edge held
    if ((rc = graph_build(d, E, &g_full, err)) != PX_OK) {
        goto done;
    }
    rec_gat_free(m);
    m = NULL;
    if ((rc = rec_gat_new(d->x, n_nodes, d->n_features, g_full, p, p->n_threads, &m, err)) !=
        PX_OK) {
        goto done;
    }
    memcpy(m->params, best, m->n_params * sizeof *best);
    z = gat_embed(m, false, 0, pool);
    rc = PX_ENOMEM;
    out.n_customers = d->n_customers;
    out.n_products = d->n_products;
    out.dim = p->dim_out;
    out.emb = px_malloc(n_nodes * D * sizeof(float));
    out.customer_id = copy_strings(d->customer_id, d->n_customers);
    out.customer_label = copy_strings(d->customer_label, d->n_customers);
    out.product_id = copy_strings(d->product_id, d->n_products);
    out.product_label = copy_strings(d->product_label, d->n_products);
    if (out.emb == NULL || out.customer_id == NULL || out.customer_label == NULL ||
        out.product_id == NULL || out.product_label == NULL) {
        px_fail(err, rc, "out of memory for the model");
        goto done;
    }
    memcpy(out.emb, z, n_nodes * D * sizeof(float));
    out.held_ptr = h_full.ptr;
    out.held = h_full.idx;
    h_full.ptr = h_full.idx = NULL;
    if (model_index_ids(&out) != PX_OK) {
        px_fail(err, rc, "out of memory for the model");
        goto done;
    }
    rep.seconds_total = now_s() - t_start;
    out.report = rep;
    *model = out;
    memset(&out, 0, sizeof out);
    rc = PX_OK;
done:
    rec_model_free(&out);
    px_free(zc);
    px_free(tr);
    px_free(best);
    px_free(mf);
    px_free(pop);
    px_free(per_gat);
    px_free(per_pop);
    adam_free(&adam);
    rec_gat_free(m);
    gat_graph_free(g_train);
    gat_graph_free(g_hist);
    gat_graph_free(g_full);
    csr_free(&h_train);
    csr_free(&h_hist);
    csr_free(&h_full);
    csr_free(&t_val);
    csr_free(&t_test);
    pool_free(pool);
    return rc;
}
