// wholesale.c — the generated wholesale book (see wholesale.h). This block documents the data.
//
// Three tables, as of 2025-06-30; transactions run from 2020-01-01 to that day.
//
// customers.csv   customer_id (CUS-000001 .. unique, zero-padded), customer_type (Corporate
//                 60% / Institutional 25% / Government 15%), industry (by type: governments are
//                 Public Sector, Education or Transportation; institutions mostly Finance),
//                 company_size (Small 35%, Medium 35%, Large 20%, Enterprise 10%),
//                 annual_revenue ("$12,000,000": log-uniform in the size's band), employees,
//                 location (12 financial centres), relationship_manager (RM-01..RM-24, two per
//                 city), customer_since (on or before the first transaction), engagement_score
//                 (0..100, rises with activity), credit_score (300..850, rises with size,
//                 governments +60), risk_rating (AAA..CCC from the score), default_probability
//                 (0..1, logistic in the score), exposure ("$": lending drawn + 1% of revenue).
// products.csv    product_id (PROD-0001 ..), product_name, product_type (Cash Management,
//                 Lending, Trade Finance, Markets, Investments, Advisory), category (3 per type,
//                 18 in all), subcategory (Domestic, Cross-Border, Digital, Structured),
//                 features (list of 1-3 of 8, "API Access; Multi-Currency").
// transactions.csv transaction_id (TX-0000001 .. in date order), customer_id, product_id, date,
//                 transaction_type (two per product type: Drawdown / Repayment ...), amount
//                 (in its currency; by product type x company size x lognormal), currency (the
//                 client's local one 70%, else USD), frequency (One-off, Monthly, Quarterly,
//                 Daily; fixed per client-product pair).
//
// Planted structure (structure s in 0..1; s = 0 is a uniform random draw of products):
// - affinity: each industry has three favourite categories and each client type two; a client
//   draws a new product's category with weight 1 + s·(12·[industry favourite] + 6·[type
//   favourite]) times the category's total popularity, then a product within it by popularity
//   (lognormal(0.8) per product), so ~80% of adoptions fall in the favourites at s = 1;
// - bundles: products are grouped in threes across categories (a seeded permutation); after the
//   first, each adoption is with probability 0.45·s a bundle-mate of a product already held;
// - size drives volume: transactions are allotted to clients in proportion to 0.5/1/2/4 (by
//   size) x lognormal(0.5), at least one each; a client adopts 1 + 25-45% of its transactions'
//   count distinct products (at most 64 and half the catalogue);
// - time order: a client's adoptions are sorted dates after its start; each adoption's first
//   transaction is on its date, the rest fall between it and the end. Later adoptions follow
//   from earlier ones (bundles), so a time-ordered split can be predicted.
//
// Randomness: xoshiro256** streams from splitmix64(seed, stream): stream 0 for the products,
// 1 + i for client i, so a client's draws do not depend on the others'.
#include "wholesale.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "datex.h"
#include "limits.h"
#include "mem.h"
#include "prng.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

// ---- levels ----

static const char *const k_types[WHOLESALE_N_TYPES] = {"Corporate", "Institutional", "Government"};
static const double k_type_w[WHOLESALE_N_TYPES] = {0.60, 0.25, 0.15};
static const char *const k_industries[WHOLESALE_N_INDUSTRIES] = {
    "Finance", "Manufacturing", "Retail",         "Healthcare",    "Technology",
    "Energy",  "Real Estate",   "Transportation", "Public Sector", "Education"};
// industry draw weights by client type
static const double k_industry_w[WHOLESALE_N_TYPES][WHOLESALE_N_INDUSTRIES] = {
    {0.12, 0.18, 0.14, 0.10, 0.14, 0.10, 0.10, 0.10, 0.00, 0.02},
    {0.50, 0.00, 0.00, 0.20, 0.00, 0.00, 0.10, 0.00, 0.00, 0.20},
    {0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.10, 0.70, 0.20},
};
static const char *const k_sizes[WHOLESALE_N_SIZES] = {"Small", "Medium", "Large", "Enterprise"};
static const double k_size_w[WHOLESALE_N_SIZES] = {0.35, 0.35, 0.20, 0.10};
static const double k_size_volume[WHOLESALE_N_SIZES] = {0.5, 1.0, 2.0, 4.0};
static const double k_size_revenue[WHOLESALE_N_SIZES + 1] = {5e6, 5e7, 5e8, 5e9, 5e10};
static const char *const k_locations[WHOLESALE_N_LOCATIONS] = {
    "New York", "London",  "Frankfurt", "Singapore", "Hong Kong", "Tokyo",
    "Chicago",  "Toronto", "Paris",     "Sydney",    "Dubai",     "Sao Paulo"};
static const uint8_t k_location_currency[WHOLESALE_N_LOCATIONS] = {0, 1, 2, 3, 4, 5,
                                                                   0, 6, 2, 7, 8, 9};
static const char *const k_currencies[WHOLESALE_N_CURRENCIES] = {"USD", "GBP", "EUR", "SGD", "HKD",
                                                                 "JPY", "CAD", "AUD", "AED", "BRL"};
static const char *const k_ratings[] = {"AAA", "AA", "A", "BBB", "BB", "B", "CCC"};
static const int k_rating_floor[] = {800, 760, 720, 670, 620, 560, 0};

static const char *const k_product_types[WHOLESALE_N_PRODUCT_TYPES] = {
    "Cash Management", "Lending", "Trade Finance", "Markets", "Investments", "Advisory"};
// category c belongs to product type c / 3
static const char *const k_categories[WHOLESALE_N_CATEGORIES] = {"Payments",
                                                                 "Liquidity",
                                                                 "Collections",
                                                                 "Term Loans",
                                                                 "Revolving Credit",
                                                                 "Asset Finance",
                                                                 "Letters of Credit",
                                                                 "Guarantees",
                                                                 "Supply Chain Finance",
                                                                 "FX",
                                                                 "Rates Hedging",
                                                                 "Commodities",
                                                                 "Custody",
                                                                 "Fund Services",
                                                                 "Money Market",
                                                                 "M&A",
                                                                 "Debt Capital Markets",
                                                                 "Public Finance"};
static const char *const k_subcategories[WHOLESALE_N_SUBCATEGORIES] = {"Domestic", "Cross-Border",
                                                                       "Digital", "Structured"};
static const char *const k_features[WHOLESALE_N_FEATURES] = {
    "API Access",          "Multi-Currency", "Real-Time Reporting", "ESG Linked",
    "Same-Day Settlement", "Dedicated Desk", "Hedging Overlay",     "Auto-Sweep"};
// two transaction types per product type: 2t is an adoption's first transaction
static const char *const k_tx_types[WHOLESALE_N_TX_TYPES] = {
    "Payment", "Sweep", "Drawdown",     "Repayment",  "Issuance", "Amendment",
    "Trade",   "Hedge", "Subscription", "Redemption", "Mandate",  "Fee"};
static const double k_type_amount[WHOLESALE_N_PRODUCT_TYPES] = {5e4, 1e6, 2e5, 5e5, 1e6, 2e5};
static const char *const k_frequencies[WHOLESALE_N_FREQUENCIES] = {"One-off", "Monthly",
                                                                   "Quarterly", "Daily"};

// Planted affinities: three favourite categories per industry, two per client type.
static const uint8_t k_industry_fav[WHOLESALE_N_INDUSTRIES][3] = {
    {9, 12, 10}, {3, 6, 8},  {0, 2, 4},  {5, 0, 14},  {9, 16, 15},
    {11, 7, 3},  {3, 10, 5}, {5, 11, 8}, {17, 1, 14}, {1, 13, 2}};
static const uint8_t k_type_fav[WHOLESALE_N_TYPES][2] = {{0, 4}, {12, 13}, {17, 1}};

bool wholesale_is_favourite(int industry, int type, int category)
{
    if (industry < 0 || industry >= WHOLESALE_N_INDUSTRIES || type < 0 ||
        type >= WHOLESALE_N_TYPES) {
        return false;
    }
    for (int k = 0; k < 3; k++) {
        if (k_industry_fav[industry][k] == category) {
            return true;
        }
    }
    return k_type_fav[type][0] == category || k_type_fav[type][1] == category;
}

const char *wholesale_type_name(int i)
{
    return i >= 0 && i < WHOLESALE_N_TYPES ? k_types[i] : NULL;
}
const char *wholesale_industry_name(int i)
{
    return i >= 0 && i < WHOLESALE_N_INDUSTRIES ? k_industries[i] : NULL;
}
const char *wholesale_category_name(int i)
{
    return i >= 0 && i < WHOLESALE_N_CATEGORIES ? k_categories[i] : NULL;
}
const char *wholesale_product_type_name(int i)
{
    return i >= 0 && i < WHOLESALE_N_PRODUCT_TYPES ? k_product_types[i] : NULL;
}

// ---- randomness (xoshiro256**, seeded by splitmix64) ----

static void rng_seed(struct prng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x5851F42D4C957F2Dull);
    x = prng_splitmix64(&x) ^ seed;
    for (int k = 0; k < 4; k++) {
        r->s[k] = prng_splitmix64(&x);
    }
}

static double unif(struct prng *r)
{
    return prng_unit(prng_next(r));
}

// Uniform integer in [0, n).
static uint32_t unif_below(struct prng *r, uint32_t n)
{
    return prng_below(prng_next(r), n);
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

// ---- the book ----

struct wholesale {
    struct wholesale_params params;
    struct wholesale_customer *customers; // (n_customers)
    struct wholesale_product *products;   // (n_products)
    struct wholesale_tx *tx;              // (n_transactions), date order
    int id_width;                         // digits of customer ids
};

struct wholesale_params wholesale_default_params(void)
{
    struct wholesale_params p = {
        .n_customers = 1000,
        .n_products = 200,
        .n_transactions = 20000,
        .seed = 42,
        .structure = 1.0,
    };
    return p;
}

// Products by category with cumulative popularity, for drawing one in O(log n).
struct catalogue {
    uint32_t *by_cat; // (n_products) product indices grouped by category
    uint32_t start[WHOLESALE_N_CATEGORIES + 1];
    double *cum; // (n_products) cumulative popularity within each category's group
    double total[WHOLESALE_N_CATEGORIES];
    uint32_t *bundle_members; // (n_products) products ordered by bundle (3 per bundle)
};

static void make_products(struct wholesale *w, struct prng *r)
{
    uint32_t n = w->params.n_products;
    for (uint32_t j = 0; j < n; j++) {
        struct wholesale_product *p = &w->products[j];
        // every category gets products while there are enough; then uniform
        p->category =
            (uint8_t)(j < WHOLESALE_N_CATEGORIES ? j : unif_below(r, WHOLESALE_N_CATEGORIES));
        p->type = (uint8_t)(p->category / 3);
        p->subcategory = (uint8_t)unif_below(r, WHOLESALE_N_SUBCATEGORIES);
        unsigned bits = 1u << unif_below(r, WHOLESALE_N_FEATURES);
        for (int k = 0; k < 2; k++) {
            if (unif(r) < 0.35) {
                bits |= 1u << unif_below(r, WHOLESALE_N_FEATURES);
            }
        }
        p->features = (uint8_t)bits;
        p->popularity = exp(0.8 * prng_gauss(r));
    }
}

static int make_catalogue(struct wholesale *w, struct prng *r, struct catalogue *cat)
{
    uint32_t n = w->params.n_products;
    cat->by_cat = px_calloc(n, sizeof *cat->by_cat);
    cat->cum = px_calloc(n, sizeof *cat->cum);
    cat->bundle_members = px_calloc(n, sizeof *cat->bundle_members);
    if (cat->by_cat == NULL || cat->cum == NULL || cat->bundle_members == NULL) {
        return PX_ENOMEM;
    }
    uint32_t count[WHOLESALE_N_CATEGORIES] = {0};
    for (uint32_t j = 0; j < n; j++) {
        count[w->products[j].category]++;
    }
    cat->start[0] = 0;
    for (int c = 0; c < WHOLESALE_N_CATEGORIES; c++) {
        cat->start[c + 1] = cat->start[c] + count[c];
        count[c] = cat->start[c];
    }
    for (uint32_t j = 0; j < n; j++) {
        cat->by_cat[count[w->products[j].category]++] = j;
    }
    for (int c = 0; c < WHOLESALE_N_CATEGORIES; c++) {
        double acc = 0;
        for (uint32_t k = cat->start[c]; k < cat->start[c + 1]; k++) {
            acc += w->products[cat->by_cat[k]].popularity;
            cat->cum[k] = acc;
        }
        cat->total[c] = acc;
    }
    // bundles: a seeded permutation cut in threes
    for (uint32_t j = 0; j < n; j++) {
        cat->bundle_members[j] = j;
    }
    for (uint32_t j = n - 1; j > 0; j--) {
        uint32_t k = unif_below(r, j + 1);
        uint32_t t = cat->bundle_members[j];
        cat->bundle_members[j] = cat->bundle_members[k];
        cat->bundle_members[k] = t;
    }
    for (uint32_t k = 0; k < n; k++) {
        w->products[cat->bundle_members[k]].bundle = k / 3;
    }
    return PX_OK;
}

static void catalogue_free(struct catalogue *cat)
{
    px_free(cat->by_cat);
    px_free(cat->cum);
    px_free(cat->bundle_members);
}

// A product of category c drawn by popularity.
static uint32_t draw_in_category(const struct catalogue *cat, struct prng *r, int c)
{
    uint32_t lo = cat->start[c], hi = cat->start[c + 1] - 1;
    double x = unif(r) * cat->total[c];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cat->cum[mid] > x) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return cat->by_cat[lo];
}

static void make_customer(struct wholesale_customer *c, struct prng *r)
{
    c->type = (uint8_t)prng_pick(r, k_type_w, WHOLESALE_N_TYPES);
    c->industry = (uint8_t)prng_pick(r, k_industry_w[c->type], WHOLESALE_N_INDUSTRIES);
    c->size = (uint8_t)prng_pick(r, k_size_w, WHOLESALE_N_SIZES);
    c->location = (uint8_t)unif_below(r, WHOLESALE_N_LOCATIONS);
    c->rm = (uint8_t)(c->location * 2 + unif_below(r, 2));
    double lo = log(k_size_revenue[c->size]), hi = log(k_size_revenue[c->size + 1]);
    c->revenue = (int64_t)(exp(lo + (hi - lo) * unif(r)) / 1e5) * 100000;
    c->employees =
        (int32_t)clampd((double)c->revenue / 250000.0 * exp(0.4 * prng_gauss(r)), 5, 5e6);
    double score = 620 + 40 * c->size + (c->type == 2 ? 60 : 0) + 50 * prng_gauss(r);
    c->credit = (int32_t)clampd(floor(score + 0.5), 300, 850);
    c->risk = 0;
    while (c->credit < k_rating_floor[c->risk]) {
        c->risk++;
    }
    c->pd = 1.0 / (1.0 + exp(((double)c->credit - 520.0) / 45.0));
}

struct adopted {
    uint32_t product;
    int32_t day;
    uint8_t frequency;
};

// Draws client i's adoptions and transactions into tx (n_tx of them).
static void make_transactions(struct wholesale *w, const struct catalogue *cat, struct prng *r,
                              uint32_t i, uint32_t n_tx, struct adopted *ad, uint8_t *held,
                              struct wholesale_tx *tx)
{
    const struct wholesale_params *p = &w->params;
    struct wholesale_customer *c = &w->customers[i];
    const double s = p->structure;
    const int32_t day0 = (int32_t)datex_days_from_civil(2020, 1, 1);
    const int32_t day1 = (int32_t)datex_days_from_civil(2025, 6, 30);
    uint32_t max_adopt = p->n_products / 2 < 64 ? p->n_products / 2 : 64;
    double frac = 0.25 + 0.20 * unif(r);
    uint32_t n_adopt = 1 + (uint32_t)(frac * (double)n_tx);
    if (n_adopt > n_tx) {
        n_adopt = n_tx;
    }
    if (n_adopt > max_adopt) {
        n_adopt = max_adopt;
    }
    double cw[WHOLESALE_N_CATEGORIES];
    for (int k = 0; k < WHOLESALE_N_CATEGORIES; k++) {
        double aff = 1.0;
        for (int f = 0; f < 3; f++) {
            aff += k_industry_fav[c->industry][f] == k ? 12.0 * s : 0.0;
        }
        aff += (k_type_fav[c->type][0] == k || k_type_fav[c->type][1] == k) ? 6.0 * s : 0.0;
        cw[k] = aff * cat->total[k];
    }
    int32_t start = day0 + (int32_t)(unif(r) * 0.5 * (double)(day1 - day0));
    // adoption days: sorted uniform draws after the start (insertion sort; n_adopt <= 64)
    int32_t days[64];
    for (uint32_t k = 0; k < n_adopt; k++) {
        int32_t d = start + (int32_t)(unif(r) * (double)(day1 - start));
        uint32_t m = k;
        while (m > 0 && days[m - 1] > d) {
            days[m] = days[m - 1];
            m--;
        }
        days[m] = d;
    }
    for (uint32_t k = 0; k < n_adopt; k++) {
        uint32_t prod = UINT32_MAX;
        if (k > 0 && unif(r) < 0.45 * s) { // a bundle-mate of a product already held
            const struct adopted *from = &ad[unif_below(r, k)];
            uint32_t b = w->products[from->product].bundle;
            for (uint32_t t = 0; t < 3; t++) {
                uint32_t at = 3 * b + (t + k) % 3;
                if (at < p->n_products && !held[cat->bundle_members[at]]) {
                    prod = cat->bundle_members[at];
                    break;
                }
            }
        }
        for (int tries = 0; prod == UINT32_MAX && tries < 64; tries++) {
            uint32_t q = s > 0 ? draw_in_category(cat, r, prng_pick(r, cw, WHOLESALE_N_CATEGORIES))
                               : unif_below(r, p->n_products);
            if (!held[q]) {
                prod = q;
            }
        }
        for (uint32_t q = unif_below(r, p->n_products); prod == UINT32_MAX;
             q = (q + 1) % p->n_products) {
            if (!held[q]) {
                prod = q;
            }
        }
        held[prod] = 1;
        ad[k].product = prod;
        ad[k].day = days[k];
        int type = w->products[prod].type;
        ad[k].frequency = (uint8_t)(type == 0   ? (unif(r) < 0.5 ? 3 : 1)
                                    : type == 5 ? 0
                                                : 1 + unif_below(r, 2));
    }
    c->since_day = start - (int32_t)(unif(r) * 3650);
    double lending = 0;
    for (uint32_t t = 0; t < n_tx; t++) {
        uint32_t k = t < n_adopt ? t : unif_below(r, n_adopt);
        const struct adopted *a = &ad[k];
        const struct wholesale_product *pr = &w->products[a->product];
        struct wholesale_tx *x = &tx[t];
        x->customer = i;
        x->product = a->product;
        x->day = t < n_adopt ? a->day : a->day + (int32_t)(unif(r) * (double)(day1 - a->day));
        x->type = (uint8_t)(2 * pr->type + (t < n_adopt ? 0 : unif_below(r, 2)));
        x->currency = unif(r) < 0.7 ? k_location_currency[c->location] : 0;
        x->frequency = a->frequency;
        double amount = k_type_amount[pr->type] * k_size_volume[c->size] * exp(0.8 * prng_gauss(r));
        x->amount = floor(amount * 100.0 + 0.5) / 100.0;
        if (pr->type == 1 && x->type == 2) {
            lending += amount;
        }
    }
    for (uint32_t k = 0; k < n_adopt; k++) {
        held[ad[k].product] = 0;
    }
    double eng = 20 + 9 * log1p((double)n_tx) + 10 * prng_gauss(r);
    c->engagement = (int32_t)clampd(floor(eng + 0.5), 0, 100);
    c->exposure = (int64_t)(0.6 * lending + 0.01 * (double)c->revenue);
}

static int cmp_tx(const void *a, const void *b)
{
    const struct wholesale_tx *x = a, *y = b;
    if (x->day != y->day) {
        return x->day < y->day ? -1 : 1;
    }
    if (x->customer != y->customer) {
        return x->customer < y->customer ? -1 : 1;
    }
    return x->product < y->product ? -1 : x->product > y->product ? 1 : 0;
}

int wholesale_new(const struct wholesale_params *params, struct wholesale **out, struct px_err *err)
{
    *out = NULL;
    const struct wholesale_params *p = params;
    if (p->n_customers < 1 || p->n_customers > LIMIT_WHOLESALE_CUSTOMERS) {
        return px_fail(err, PX_ELIMIT, "--customers must be 1..%u, got %u",
                       LIMIT_WHOLESALE_CUSTOMERS, p->n_customers);
    }
    if (p->n_products < 2 || p->n_products > LIMIT_WHOLESALE_PRODUCTS) {
        return px_fail(err, PX_ELIMIT, "--products must be 2..%u, got %u", LIMIT_WHOLESALE_PRODUCTS,
                       p->n_products);
    }
    if (p->n_transactions < p->n_customers || p->n_transactions > LIMIT_WHOLESALE_TRANSACTIONS) {
        return px_fail(err, PX_ELIMIT,
                       "--transactions must be at least --customers (%u: one each) and at most "
                       "%llu, got %llu",
                       p->n_customers, (unsigned long long)LIMIT_WHOLESALE_TRANSACTIONS,
                       (unsigned long long)p->n_transactions);
    }
    if (!(p->structure >= 0.0 && p->structure <= 1.0)) {
        return px_fail(err, PX_EINVAL, "structure must be within 0..1, got %g", p->structure);
    }
    int rc = PX_ENOMEM;
    struct catalogue cat = {0};
    double *weight = NULL;
    uint32_t *n_tx = NULL;
    uint8_t *held = NULL;
    struct wholesale *w = px_calloc(1, sizeof *w);
    if (w == NULL) {
        goto done;
    }
    w->params = *p;
    w->customers = px_calloc(p->n_customers, sizeof *w->customers);
    w->products = px_calloc(p->n_products, sizeof *w->products);
    w->tx = px_calloc(p->n_transactions, sizeof *w->tx);
    weight = px_calloc(p->n_customers, sizeof *weight);
    n_tx = px_calloc(p->n_customers, sizeof *n_tx);
    held = px_calloc(p->n_products, 1);
    if (w->customers == NULL || w->products == NULL || w->tx == NULL || weight == NULL ||
        n_tx == NULL || held == NULL) {
        goto done;
    }
    w->id_width = 6;
    for (uint32_t v = p->n_customers / 1000000; v > 0; v /= 10) {
        w->id_width++;
    }
    struct prng r;
    rng_seed(&r, p->seed, 0);
    make_products(w, &r);
    if (make_catalogue(w, &r, &cat) != PX_OK) {
        goto done;
    }
    // volume by size: weights, then transactions allotted (one each, the rest by weight)
    double total = 0;
    for (uint32_t i = 0; i < p->n_customers; i++) {
        struct prng rc_ = {{0}};
        rng_seed(&rc_, p->seed, 1 + (uint64_t)i);
        make_customer(&w->customers[i], &rc_);
        weight[i] = k_size_volume[w->customers[i].size] * exp(0.5 * prng_gauss(&rc_));
        total += weight[i];
    }
    uint64_t rest = p->n_transactions - p->n_customers, given = 0;
    for (uint32_t i = 0; i < p->n_customers; i++) {
        uint64_t k = (uint64_t)((double)rest * weight[i] / total);
        n_tx[i] = (uint32_t)(1 + k);
        given += k;
    }
    for (uint32_t i = 0; given < rest; i = (i + 1) % p->n_customers, given++) {
        n_tx[i]++;
    }
    uint64_t at = 0;
    for (uint32_t i = 0; i < p->n_customers; i++) {
        struct adopted ad[64];
        struct prng rc_;
        rng_seed(&rc_, p->seed ^ 0xA5A5A5A5ull, 1 + (uint64_t)i);
        make_transactions(w, &cat, &rc_, i, n_tx[i], ad, held, w->tx + at);
        at += n_tx[i];
    }
    qsort(w->tx, p->n_transactions, sizeof *w->tx, cmp_tx);
    rc = PX_OK;
done:
    catalogue_free(&cat);
    px_free(weight);
    px_free(n_tx);
    px_free(held);
    if (rc != PX_OK) {
        wholesale_free(w);
        return px_fail(err, rc, "out of memory generating the wholesale book");
    }
    *out = w;
    return PX_OK;
}

void wholesale_free(struct wholesale *w)
{
    if (w == NULL) {
        return;
    }
    px_free(w->customers);
    px_free(w->products);
    px_free(w->tx);
    px_free(w);
}

const struct wholesale_customer *wholesale_customers(const struct wholesale *w, size_t *n)
{
    *n = w->params.n_customers;
    return w->customers;
}

const struct wholesale_product *wholesale_products(const struct wholesale *w, size_t *n)
{
    *n = w->params.n_products;
    return w->products;
}

const struct wholesale_tx *wholesale_transactions(const struct wholesale *w, size_t *n)
{
    *n = (size_t)w->params.n_transactions;
    return w->tx;
}

// ---- CSV ----

const char *wholesale_table_file(enum wholesale_table t)
{
    switch (t) {
    case WHOLESALE_CUSTOMERS: return "customers.csv";
    case WHOLESALE_PRODUCTS: return "products.csv";
    case WHOLESALE_TRANSACTIONS: return "transactions.csv";
    }
    return NULL;
}

static void fmt_date(char *out, size_t n, int32_t day)
{
    int y, m, d;
    datex_civil_from_days(day, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02d", y, m, d);
}

// "$1,234,567" in out (quoted, since it has commas when >= 1000).
static void fmt_money(char *out, size_t n, int64_t v)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? 0 : v));
    size_t k = 0;
    out[k++] = '"';
    out[k++] = '$';
    for (int i = 0; i < len && k + 3 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            out[k++] = ',';
        }
        out[k++] = digits[i];
    }
    out[k++] = '"';
    out[k] = '\0';
}

static void fmt_features(char *out, size_t n, unsigned bits)
{
    size_t k = 0;
    out[0] = '\0';
    for (int f = 0; f < WHOLESALE_N_FEATURES; f++) {
        if (bits & (1u << f)) {
            k += (size_t)snprintf(out + k, n - k, "%s%s", k > 0 ? "; " : "", k_features[f]);
        }
    }
}

int wholesale_csv_header(enum wholesale_table t, struct buf *line, struct px_err *err)
{
    // each header in parentheses: one string cut over lines, not two elements (clang's
    // -Wstring-concatenation)
    static const char *const headers[3] = {
        ("customer_id,customer_type,industry,company_size,annual_revenue,employees,location,"
         "relationship_manager,customer_since,engagement_score,credit_score,risk_rating,"
         "default_probability,exposure\n"),
        "product_id,product_name,product_type,category,subcategory,features\n",
        ("transaction_id,customer_id,product_id,date,transaction_type,amount,currency,"
         "frequency\n")};
    if ((int)t < 0 || (int)t > 2) {
        return px_fail(err, PX_EINVAL, "no such wholesale table %d", (int)t);
    }
    return buf_append(line, headers[t], strlen(headers[t]), err);
}

size_t wholesale_table_rows(const struct wholesale *w, enum wholesale_table t)
{
    return t == WHOLESALE_CUSTOMERS  ? w->params.n_customers
           : t == WHOLESALE_PRODUCTS ? w->params.n_products
                                     : (size_t)w->params.n_transactions;
}

int wholesale_csv_row(const struct wholesale *w, enum wholesale_table t, size_t i, struct buf *line,
                      struct px_err *err)
{
    char d[40], m1[48], m2[48], feat[256];
    if (i >= wholesale_table_rows(w, t)) {
        return px_fail(err, PX_EINVAL, "%s: row %zu past the last", wholesale_table_file(t), i);
    }
    if (t == WHOLESALE_CUSTOMERS) {
        const struct wholesale_customer *c = &w->customers[i];
        fmt_date(d, sizeof d, c->since_day);
        fmt_money(m1, sizeof m1, c->revenue);
        fmt_money(m2, sizeof m2, c->exposure);
        return buf_printf(line, err, "CUS-%0*u,%s,%s,%s,%s,%d,%s,RM-%02d,%s,%d,%d,%s,%.4f,%s\n",
                          w->id_width, (unsigned)i + 1, k_types[c->type], k_industries[c->industry],
                          k_sizes[c->size], m1, (int)c->employees, k_locations[c->location],
                          c->rm + 1, d, (int)c->engagement, (int)c->credit, k_ratings[c->risk],
                          c->pd, m2);
    }
    if (t == WHOLESALE_PRODUCTS) {
        const struct wholesale_product *p = &w->products[i];
        fmt_features(feat, sizeof feat, p->features);
        return buf_printf(line, err, "PROD-%04u,%s %s %u,%s,%s,%s,%s\n", (unsigned)i + 1,
                          k_subcategories[p->subcategory], k_categories[p->category],
                          (unsigned)i + 1, k_product_types[p->type], k_categories[p->category],
                          k_subcategories[p->subcategory], feat);
    }
    const struct wholesale_tx *x = &w->tx[i];
    fmt_date(d, sizeof d, x->day);
    return buf_printf(line, err, "TX-%07llu,CUS-%0*u,PROD-%04u,%s,%s,%.2f,%s,%s\n",
                      (unsigned long long)i + 1, w->id_width, x->customer + 1, x->product + 1, d,
                      k_tx_types[x->type], x->amount, k_currencies[x->currency],
                      k_frequencies[x->frequency]);
}
