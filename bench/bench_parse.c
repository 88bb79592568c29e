// bench_parse.c — query parsing cost against book size (issue 11 item 9: parsing stays <= 1 ms
// per query at any book size). For 1,000, 100,000 and 1,000,000 rows of a retail-like table
// (random values, fixed seed) it builds the engine (engine_build derives the query schema:
// each numeric column's distribution points, each categorical column's values, every label's
// word forms) and the book's vocabulary (query_vocab_build: stems, WordNet relatives, typo
// index), then parses every query text of tests/data/queries/queries.tsv R times against it,
// with the vocabulary, and prints the build times and the parse time per query (mean, p99).
// The schema carries quantiles, not rows, so the parse time should not grow with the book.
// Parse times are the thread's CPU time (the build machine is shared); build times are wall.
//
// Usage: bench_parse [--runs R] [--max ROWS] [--queries FILE]
// A benchmark, not a test: it prints figures and exits 0 unless something failed.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "mem.h"
#include "query.h"
#include "vocab.h"

#ifndef PX_SOURCE_DIR
#define PX_SOURCE_DIR "."
#endif
#define MAX_QUERIES 1024

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

// CPU time of this thread: the machine may be shared, and a parse is one thread's work, so
// time spent waiting for a core is left out of the per-query figures.
static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static uint64_t g_rng = 42;
static double rnd01(void)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const struct engine_column k_cols[] = {
    {"customer_id", "Customer ID", QUERY_COL_ID, QUERY_UNIT_NONE},
    {"age", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_NONE},
    {"marital_status", NULL, QUERY_COL_CATEGORY, QUERY_UNIT_NONE},
    {"occupation", NULL, QUERY_COL_CATEGORY, QUERY_UNIT_NONE},
    {"city", NULL, QUERY_COL_CATEGORY, QUERY_UNIT_NONE},
    {"annual_income", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_CURRENCY},
    {"savings_balance", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_CURRENCY},
    {"investment_balance", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_CURRENCY},
    {"mortgage_balance", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_CURRENCY},
    {"credit_score", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_NONE},
    {"credit_utilization", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_PERCENT},
    {"tenure_years", NULL, QUERY_COL_NUMERIC, QUERY_UNIT_NONE},
    {"products_held", NULL, QUERY_COL_LIST, QUERY_UNIT_NONE},
    {"interests", NULL, QUERY_COL_LIST, QUERY_UNIT_NONE},
    {"digital_user", NULL, QUERY_COL_BOOL, QUERY_UNIT_NONE},
};
#define N_COLS (sizeof k_cols / sizeof k_cols[0])

static const char *const k_marital[] = {"Single", "Married", "Divorced", "Widowed"};
static const char *const k_occ[] = {"Physician", "Attorney", "Teacher", "Nurse", "Engineer",
                                    "Pharmacist", "Retired", "Student", "Electrician"};
static const char *const k_city[] = {"Dallas", "Houston", "Austin", "Chicago", "Miami",
                                     "Orlando", "Boston", "Seattle"};
static const char *const k_products[] = {"Checking", "Savings", "Mortgage", "Credit Card",
                                         "Brokerage Account", "Auto Loan"};
static const char *const k_interests[] = {"Travel", "Retirement Planning", "Wealth Management",
                                          "Education Savings", "Home Buying"};
#define PICK(a) (a)[(size_t)(rnd01() * (sizeof(a) / sizeof((a)[0])))]

static int build_engine(size_t n_rows, struct engine **out, struct px_err *err)
{
    struct engine_builder *b = NULL;
    int rc = engine_builder_new(k_cols, N_COLS, n_rows, NULL, &b, err);
    for (size_t r = 0; r < n_rows && rc == PX_OK; r++) {
        size_t row = 0;
        rc = engine_builder_add_row(b, &row, err);
        double age = 18 + floor(rnd01() * 72);
        double income = floor(15000 + 300000 * pow(rnd01(), 3));
        const double nums[] = {age, income, floor(200000 * pow(rnd01(), 4)),
                               floor(900000 * pow(rnd01(), 5)), floor(500000 * pow(rnd01(), 3)),
                               floor(300 + 550 * rnd01()), floor(100 * rnd01()),
                               floor((age - 18) * rnd01())};
        static const size_t k_num_cols[] = {1, 5, 6, 7, 8, 9, 10, 11};
        for (size_t k = 0; k < sizeof nums / sizeof nums[0] && rc == PX_OK; k++) {
            rc = engine_builder_set_number(b, row, k_num_cols[k], nums[k], err);
        }
        char list[128];
        snprintf(list, sizeof list, "%s; %s", PICK(k_products), PICK(k_products));
        char ints[128];
        snprintf(ints, sizeof ints, "%s", PICK(k_interests));
        if (rc == PX_OK) rc = engine_builder_set_value(b, row, 2, PICK(k_marital), err);
        if (rc == PX_OK) rc = engine_builder_set_value(b, row, 3, PICK(k_occ), err);
        if (rc == PX_OK) rc = engine_builder_set_value(b, row, 4, PICK(k_city), err);
        if (rc == PX_OK) rc = engine_builder_set_value(b, row, 12, list, err);
        if (rc == PX_OK) rc = engine_builder_set_value(b, row, 13, ints, err);
        if (rc == PX_OK) rc = engine_builder_set_number(b, row, 14, rnd01() < 0.6, err);
    }
    if (rc != PX_OK) {
        engine_builder_free(b);
        return rc;
    }
    return engine_build(b, out, err);
}

// The query texts (field 5 of every data line), owned in texts[*n].
static int read_queries(const char *path, char **texts, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bench_parse: cannot open %s\n", path);
        return 1;
    }
    char line[8192];
    *n = 0;
    while (fgets(line, sizeof line, f) != NULL && *n < MAX_QUERIES) {
        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }
        char *field = line;
        for (int k = 0; k < 4 && field != NULL; k++) {
            field = strchr(field, '\t');
            field = field ? field + 1 : NULL;
        }
        char *end = field ? strchr(field, '\t') : NULL;
        if (end == NULL) {
            continue;
        }
        texts[(*n)++] = px_strndup(field, (size_t)(end - field));
    }
    fclose(f);
    return *n == 0;
}

int main(int argc, char **argv)
{
    int runs = 20;
    size_t max_rows = 1000000;
    const char *qpath = PX_SOURCE_DIR "/tests/data/queries/queries.tsv";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
            max_rows = (size_t)strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc) {
            qpath = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_parse [--runs R] [--max ROWS] [--queries FILE]\n");
            return 2;
        }
    }
    static char *texts[MAX_QUERIES];
    size_t n_q = 0;
    if (read_queries(qpath, texts, &n_q) != 0 || runs < 1) {
        return 1;
    }
    struct px_err err = {0};
    struct query_lexicon *lex = NULL;
    const char *lexpath = PX_SOURCE_DIR "/data/lexicon.json";
    if (query_lexicon_parse("{}", 2, &lex, &err) != PX_OK ||
        query_lexicon_load(lex, lexpath, &err) != PX_OK) {
        fprintf(stderr, "bench_parse: lexicon: %s\n", err.msg);
        return 1;
    }
    printf("bench_parse: %zu query texts x %d runs, parsed with the book's vocabulary\n", n_q,
           runs);
    printf("  %9s  %12s  %10s  %12s  %12s  %8s  %10s\n", "rows", "engine ms", "vocab ms",
           "cpu us/q", "p99 us/q", "max us", "no vocab");
    double *t = malloc(n_q * (size_t)runs * sizeof *t);
    for (size_t n_rows = 1000; n_rows <= max_rows && t != NULL; n_rows *= 100) {
        struct engine *e = NULL;
        double t0 = now_ms();
        if (build_engine(n_rows, &e, &err) != PX_OK) {
            fprintf(stderr, "bench_parse: engine: %s\n", err.msg);
            return 1;
        }
        double t1 = now_ms();
        struct vocab *v = NULL;
        if (query_vocab_build(engine_schema(e), lex, NULL, &v, &err) != PX_OK) {
            fprintf(stderr, "bench_parse: vocabulary: %s\n", err.msg);
            return 1;
        }
        double t2 = now_ms();
        size_t k = 0;
        double sum = 0;
        for (int r = 0; r < runs; r++) {
            for (size_t q = 0; q < n_q; q++) {
                struct query_plan *p = NULL;
                double a = cpu_ms();
                int rc = query_parse_vocab(engine_schema(e), lex, v, texts[q], strlen(texts[q]),
                                           &p, &err);
                double d = (cpu_ms() - a) * 1e3;
                if (rc != PX_OK) {
                    fprintf(stderr, "bench_parse: \"%s\": %s\n", texts[q], err.msg);
                    return 1;
                }
                query_plan_free(p);
                t[k++] = d;
                sum += d;
            }
        }
        // the slowest query of the last run, and the parse without the vocabulary
        size_t slow = 0;
        double slow_t = 0, sum_plain = 0;
        for (size_t q = 0; q < n_q; q++) {
            struct query_plan *p = NULL;
            double a = cpu_ms();
            int rc = query_parse_vocab(engine_schema(e), lex, v, texts[q], strlen(texts[q]), &p,
                                       &err);
            double d = (cpu_ms() - a) * 1e3;
            query_plan_free(p);
            a = cpu_ms();
            rc |= query_parse(engine_schema(e), lex, texts[q], strlen(texts[q]), &p, &err);
            sum_plain += (cpu_ms() - a) * 1e3;
            query_plan_free(p);
            if (rc != PX_OK) {
                return 1;
            }
            if (d > slow_t) {
                slow_t = d, slow = q;
            }
        }
        qsort(t, k, sizeof *t, cmp_double);
        printf("  %9zu  %12.1f  %10.1f  %12.1f  %12.1f  %8.1f  %10.1f\n", n_rows, t1 - t0,
               t2 - t1, sum / (double)k, t[(size_t)(0.99 * (double)(k - 1))], t[k - 1],
               sum_plain / (double)n_q);
        printf("             slowest: %.1f us \"%s\"\n", slow_t, texts[slow]);
        fflush(stdout);
        vocab_free(v);
        engine_free(e);
        if (n_rows == max_rows) {
            break;
        }
        if (n_rows * 100 > max_rows) {
            n_rows = max_rows / 100;
        }
    }
    printf("  goal: parse <= 1000 us per query at every size\n");
    free(t);
    for (size_t q = 0; q < n_q; q++) {
        px_free(texts[q]);
    }
    query_lexicon_free(lex);
    return 0;
}
