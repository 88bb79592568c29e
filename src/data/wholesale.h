// wholesale.h — the generated wholesale book: corporate, institutional and government clients,
// the bank's wholesale products, and the transactions that link them, with structure planted
// for a recommender to learn and a test to check (see the block at the top of wholesale.c).
//
// Unlike bankgen (one row from (seed, row)), the book is built whole in memory: transactions
// are drawn per client, then sorted by date and numbered, and each client's attributes depend
// on its own transactions (engagement, exposure). Output is deterministic for a seed.
//
// A struct wholesale is immutable after wholesale_new; readers may share it between threads.
#ifndef PX_WHOLESALE_H
#define PX_WHOLESALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

struct wholesale_params {
    uint32_t n_customers;    // clients (default 1000), 1..LIMIT_WHOLESALE_CUSTOMERS
    uint32_t n_products;     // products (default 200), 2..LIMIT_WHOLESALE_PRODUCTS
    uint64_t n_transactions; // transactions (default 20000), >= n_customers (each client has
                             // at least one), <= LIMIT_WHOLESALE_TRANSACTIONS
    uint64_t seed;           // PRNG seed (default 42)
    double structure;        // 0..1 (default 1): how strongly purchases follow the planted
                             // affinities and bundles; 0 draws every product uniformly
};

struct wholesale_params wholesale_default_params(void);

// ---- the book ----
enum {
    WHOLESALE_N_TYPES = 3,
    WHOLESALE_N_INDUSTRIES = 10,
    WHOLESALE_N_SIZES = 4,
    WHOLESALE_N_LOCATIONS = 12,
    WHOLESALE_N_PRODUCT_TYPES = 6,
    WHOLESALE_N_CATEGORIES = 18,
    WHOLESALE_N_SUBCATEGORIES = 4,
    WHOLESALE_N_FEATURES = 8,
    WHOLESALE_N_TX_TYPES = 12,
    WHOLESALE_N_CURRENCIES = 10,
    WHOLESALE_N_FREQUENCIES = 4
};

struct wholesale_customer {
    uint8_t type;     // index into the customer types (Corporate, Institutional, Government)
    uint8_t industry; // industry index
    uint8_t size;     // Small, Medium, Large, Enterprise
    uint8_t location; // city index
    uint8_t rm;       // relationship manager RM-01.. (two per city)
    uint8_t risk;     // rating index AAA .. CCC
    int64_t revenue;  // annual revenue, whole USD
    int32_t employees;
    int32_t since_day;  // client since: days since 1970-01-01
    int32_t engagement; // 0..100
    int32_t credit;     // 300..850
    double pd;          // default probability, 0..1
    int64_t exposure;   // whole USD
};

struct wholesale_product {
    uint8_t type;        // product type index
    uint8_t category;    // category index (3 per type)
    uint8_t subcategory; // subcategory index
    uint8_t features;    // bit set over the feature names
    uint32_t bundle;     // products sharing a bundle are bought together
    double popularity;   // relative draw weight within its category
};

struct wholesale_tx {
    uint32_t customer, product; // indices
    int32_t day;                // days since 1970-01-01
    uint8_t type, currency, frequency;
    double amount; // in its currency, 2 decimals
};

struct wholesale;

int wholesale_new(const struct wholesale_params *params, struct wholesale **out,
                  struct px_err *err);
// NULL is a no-op.
void wholesale_free(struct wholesale *w);

// Borrowed arrays, valid while w lives; *n returns the count. Transactions are in date order.
const struct wholesale_customer *wholesale_customers(const struct wholesale *w, size_t *n);
const struct wholesale_product *wholesale_products(const struct wholesale *w, size_t *n);
const struct wholesale_tx *wholesale_transactions(const struct wholesale *w, size_t *n);

// Names (static strings) of the attribute levels; NULL out of range.
const char *wholesale_type_name(int i);
const char *wholesale_industry_name(int i);
const char *wholesale_category_name(int i);
const char *wholesale_product_type_name(int i);
// True when category is one of the planted favourites of (industry, customer type).
bool wholesale_is_favourite(int industry, int type, int category);

// ---- CSV ----
enum wholesale_table {
    WHOLESALE_CUSTOMERS = 0,
    WHOLESALE_PRODUCTS = 1,
    WHOLESALE_TRANSACTIONS = 2
};
// File name of a table ("customers.csv", "products.csv", "transactions.csv").
const char *wholesale_table_file(enum wholesale_table t);
// Rows of a table.
size_t wholesale_table_rows(const struct wholesale *w, enum wholesale_table t);
// Appends the table's header line / its row i (0-based) as one CSV line ending in '\n'.
// PX_EINVAL past the last row; PX_ENOMEM / PX_ELIMIT from line.
int wholesale_csv_header(enum wholesale_table t, struct buf *line, struct px_err *err);
int wholesale_csv_row(const struct wholesale *w, enum wholesale_table t, size_t i, struct buf *line,
                      struct px_err *err);

#endif
