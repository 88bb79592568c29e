// test_wholesale.c — the wholesale book generator: counts and unique ids, determinism, date
// order, and the planted structure (favourite categories, bundles, size driving volume) with
// stated margins, against the same book drawn with structure 0; limits and allocation failures.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "buf.h"
#include "err.h"
#include "wholesale.h"

static struct wholesale *make(uint32_t nc, uint32_t np, uint64_t nt, uint64_t seed, double s)
{
    struct wholesale_params p = wholesale_default_params();
    p.n_customers = nc;
    p.n_products = np;
    p.n_transactions = nt;
    p.seed = seed;
    p.structure = s;
    struct wholesale *w = NULL;
    struct px_err err = {0};
    assert_int_equal(wholesale_new(&p, &w, &err), PX_OK);
    return w;
}

// The whole table as CSV text (owned, free()).
static char *csv(const struct wholesale *w, enum wholesale_table t, size_t *len)
{
    struct buf b;
    buf_init(&b, 1u << 30);
    struct px_err err = {0};
    assert_int_equal(wholesale_csv_header(t, &b, &err), PX_OK);
    for (size_t i = 0; i < wholesale_table_rows(w, t); i++) {
        assert_int_equal(wholesale_csv_row(w, t, i, &b, &err), PX_OK);
    }
    *len = b.len;
    char *out = malloc(b.len + 1);
    memcpy(out, b.data, b.len + 1);
    buf_free(&b);
    return out;
}

static void test_counts_ids_order(void **state)
{
    (void)state;
    struct wholesale *w = make(1500, 120, 9000, 7, 1.0);
    size_t nc, np, nt;
    const struct wholesale_customer *c = wholesale_customers(w, &nc);
    (void)c;
    wholesale_products(w, &np);
    const struct wholesale_tx *tx = wholesale_transactions(w, &nt);
    assert_int_equal(nc, 1500);
    assert_int_equal(np, 120);
    assert_int_equal(nt, 9000);
    // every client has a transaction; dates are non-decreasing
    char *seen = calloc(nc, 1);
    for (size_t k = 0; k < nt; k++) {
        assert_true(tx[k].customer < nc && tx[k].product < np);
        seen[tx[k].customer] = 1;
        if (k > 0) {
            assert_true(tx[k - 1].day <= tx[k].day);
        }
    }
    for (size_t i = 0; i < nc; i++) {
        assert_true(seen[i]);
    }
    free(seen);
    // customer ids in the CSV are unique (CUS-000001 ...), each line has 14 fields
    size_t len;
    char *text = csv(w, WHOLESALE_CUSTOMERS, &len);
    size_t lines = 0;
    for (char *p = text; (p = strchr(p, '\n')) != NULL; p++) {
        lines++;
    }
    assert_int_equal(lines, nc + 1);
    assert_non_null(strstr(text, "\nCUS-000001,"));
    assert_non_null(strstr(text, "\nCUS-001500,"));
    assert_null(strstr(text, "\nCUS-001501,"));
    free(text);
    text = csv(w, WHOLESALE_TRANSACTIONS, &len);
    assert_non_null(strstr(text, "\nTX-0000001,"));
    assert_non_null(strstr(text, "\nTX-0009000,"));
    free(text);
    wholesale_free(w);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct wholesale *a = make(300, 50, 2000, 11, 1.0);
    struct wholesale *b = make(300, 50, 2000, 11, 1.0);
    struct wholesale *c = make(300, 50, 2000, 12, 1.0);
    for (int t = 0; t < 3; t++) {
        size_t la, lb, lc;
        char *ta = csv(a, (enum wholesale_table)t, &la);
        char *tb = csv(b, (enum wholesale_table)t, &lb);
        char *tc = csv(c, (enum wholesale_table)t, &lc);
        assert_int_equal(la, lb);
        assert_memory_equal(ta, tb, la);
        if (t == WHOLESALE_TRANSACTIONS) {
            assert_true(la != lc || memcmp(ta, tc, la) != 0);
        }
        free(ta);
        free(tb);
        free(tc);
    }
    wholesale_free(a);
    wholesale_free(b);
    wholesale_free(c);
}

struct stats {
    double fav_share;    // share of distinct client-product pairs in a favourite category
    double bundle_share; // share of clients' later adoptions that are bundle-mates of held ones
    double vol_ratio;    // mean transactions of Enterprise clients / of Small clients
};

static struct stats measure(const struct wholesale *w)
{
    size_t nc, np, nt;
    const struct wholesale_customer *c = wholesale_customers(w, &nc);
    const struct wholesale_product *p = wholesale_products(w, &np);
    const struct wholesale_tx *tx = wholesale_transactions(w, &nt);
    unsigned char *held = calloc(nc * np, 1);
    double pairs = 0, fav = 0, later = 0, mate = 0, n_size[4] = {0}, tx_size[4] = {0};
    for (size_t k = 0; k < nt; k++) { // date order: the first transaction of a pair adopts it
        const struct wholesale_tx *x = &tx[k];
        const struct wholesale_customer *cu = &c[x->customer];
        tx_size[cu->size]++;
        unsigned char *row = held + (size_t)x->customer * np;
        if (row[x->product]) {
            continue;
        }
        bool any = false, is_mate = false;
        for (size_t j = 0; j < np; j++) {
            if (row[j]) {
                any = true;
                is_mate |= p[j].bundle == p[x->product].bundle;
            }
        }
        if (any) {
            later++;
            mate += is_mate;
        }
        row[x->product] = 1;
        pairs++;
        fav += wholesale_is_favourite(cu->industry, cu->type, p[x->product].category);
    }
    for (size_t i = 0; i < nc; i++) {
        n_size[c[i].size]++;
    }
    free(held);
    struct stats s = {fav / pairs, later > 0 ? mate / later : 0,
                      (tx_size[3] / n_size[3]) / (tx_size[0] / n_size[0])};
    return s;
}

static void test_planted_structure(void **state)
{
    (void)state;
    struct wholesale *w = make(2000, 150, 30000, 42, 1.0);
    struct wholesale *u = make(2000, 150, 30000, 42, 0.0);
    struct stats s = measure(w), n = measure(u);
    print_message("structure 1: favourites %.3f, bundle-mates %.3f, volume ratio %.2f\n",
                  s.fav_share, s.bundle_share, s.vol_ratio);
    print_message("structure 0: favourites %.3f, bundle-mates %.3f, volume ratio %.2f\n",
                  n.fav_share, n.bundle_share, n.vol_ratio);
    // 5 of 18 categories are a client's favourites (4 when they overlap): ~0.28 at random;
    // bundle-mates (drawn across categories) dilute the 0.8 of affinity draws to ~0.6
    assert_true(s.fav_share > 0.55);
    assert_true(n.fav_share < 0.40);
    // a later adoption completes a bundle far more often than chance
    assert_true(s.bundle_share > 3.0 * n.bundle_share);
    assert_true(s.bundle_share > 0.25);
    // Enterprise clients (volume 4) trade ~8x as often as Small ones (0.5)
    assert_true(s.vol_ratio > 4.0);
    wholesale_free(w);
    wholesale_free(u);
}

static void test_limits(void **state)
{
    (void)state;
    struct wholesale_params p = wholesale_default_params();
    struct wholesale *w = NULL;
    struct px_err err = {0};
    p.n_transactions = p.n_customers - 1;
    assert_int_equal(wholesale_new(&p, &w, &err), PX_ELIMIT);
    assert_non_null(strstr(err.msg, "--transactions"));
    p = wholesale_default_params();
    p.n_products = 1;
    assert_int_equal(wholesale_new(&p, &w, &err), PX_ELIMIT);
    p = wholesale_default_params();
    p.structure = 1.5;
    assert_int_equal(wholesale_new(&p, &w, &err), PX_EINVAL);
    assert_null(w);
}

static int open_small(void *user, struct px_err *err)
{
    struct wholesale **w = user;
    struct wholesale_params p = wholesale_default_params();
    p.n_customers = 20;
    p.n_products = 10;
    p.n_transactions = 100;
    return wholesale_new(&p, w, err);
}

static void release_small(void *user)
{
    struct wholesale **w = user;
    wholesale_free(*w);
    *w = NULL;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct wholesale *w = NULL;
    assert_true(tu_check_alloc_failures(open_small, release_small, &w) > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_ids_order),  cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_planted_structure), cmocka_unit_test(test_limits),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
