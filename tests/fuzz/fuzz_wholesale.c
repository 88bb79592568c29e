// fuzz_wholesale.c — the wholesale book's readers (rec_data_load in src/ml/recommender.c, then
// the graph index app_rec_open builds over it, src/app/recommend.c) on arbitrary bytes. The
// input is the three files customers.csv, products.csv and transactions.csv one after another,
// separated by form feeds ('\f'); missing parts are empty files. They are written into a
// directory made once per process under $TMPDIR (the readers take paths). Invariants: a failure
// has a message and leaves the data zeroed; accepted data has at least one customer and two
// products, unique non-empty ids, edges in date order with indices in range and at least one
// transaction each, finite features, and opens as a served graph; nothing leaks.
// Replayed over tests/fuzz/corpus/wholesale/ by ctest; a libFuzzer target with -DPX_FUZZ=ON
// (use tests/fuzz/fuzz_wholesale.dict).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_rec.h"
#include "mem.h"
#include "recommender.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[512];
static char g_path[3][600];

static void write_part(int k, const uint8_t *p, size_t n)
{
    FILE *f = fopen(g_path[k], "wb");
    CHECK(f != NULL);
    CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[3] = {"customers.csv", "products.csv", "transactions.csv"};
    if (g_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(g_dir, sizeof g_dir, "%s/fuzz_wholesale.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        CHECK(mkdtemp(g_dir) != NULL);
        for (int k = 0; k < 3; k++) {
            snprintf(g_path[k], sizeof g_path[k], "%s/%s", g_dir, names[k]);
        }
    }
    if (size > (1u << 20)) {
        return 0;
    }
    size_t at = 0;
    for (int k = 0; k < 3; k++) {
        const uint8_t *ff = k < 2 && at < size ? memchr(data + at, '\f', size - at) : NULL;
        size_t end = ff != NULL ? (size_t)(ff - data) : size;
        write_part(k, data + at, end - at);
        at = end < size ? end + 1 : size;
    }
    size_t live = px_mem_live_bytes();
    struct rec_data d;
    struct px_err err = {0};
    int rc = rec_data_load(g_path[0], g_path[1], g_path[2], &d, &err);
    if (rc != PX_OK) {
        CHECK(err.msg[0] != '\0');
        CHECK(d.n_customers == 0 && d.n_products == 0 && d.edges == NULL && d.x == NULL);
        CHECK(px_mem_live_bytes() == live);
        return 0;
    }
    CHECK(d.n_customers >= 1 && d.n_products >= 2);
    for (size_t i = 0; i < d.n_customers; i++) {
        CHECK(d.customer_id[i] != NULL && d.customer_id[i][0] != '\0');
        CHECK(d.customer_label[i] != NULL);
    }
    for (size_t i = 0; i < d.n_products; i++) {
        CHECK(d.product_id[i] != NULL && d.product_id[i][0] != '\0');
        CHECK(d.product_label[i] != NULL);
    }
    for (size_t e = 0; e < d.n_edges; e++) {
        const struct rec_edge *x = &d.edges[e];
        CHECK(x->customer < d.n_customers && x->product < d.n_products && x->n_tx >= 1);
        CHECK(isfinite(x->amount));
        CHECK(d.n_tx_types == 0 || x->type < d.n_tx_types);
        CHECK(e == 0 || d.edges[e - 1].day <= x->day);
    }
    size_t n_x = (d.n_customers + d.n_products) * d.n_features;
    for (size_t k = 0; k < n_x; k++) {
        CHECK(isfinite(d.x[k]));
    }
    rec_data_free(&d);
    CHECK(px_mem_live_bytes() == live);
    // the served graph over the same files
    struct app_rec_params p = {.wholesale = g_dir};
    struct app_rec *r = NULL;
    memset(&err, 0, sizeof err);
    rc = app_rec_open(&p, &r, &err);
    CHECK(rc == PX_OK || (r == NULL && err.msg[0] != '\0'));
    if (r != NULL) {
        CHECK(app_rec_has_graph(r));
        app_rec_close(r);
    }
    CHECK(px_mem_live_bytes() == live);
    return 0;
}
