// bench_book.c — one search through the app layer (app_book_search: parse, filter, dense and
// BM25 ranking, fusion), per query of bench/serve's mix, on a database already imported (by
// default the 100k-customer bank bench/serve/run prepares). It isolates what one request of
// bench/serve costs before HTTP, JSON and the audit log; figures are medians of R runs.
//
// Usage: bench_book [DB] [--model DIR] [--runs R]     (no --model: filters + BM25 only)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_book.h"
#include "mem.h"

static const char *const k_queries[] = {
    ("Find high-income professionals nearing retirement who might be interested in wealth "
     "management services"),
    "Young professionals with good credit scores who might qualify for premium credit cards",
    "Customers with credit score over 750 interested in investment products",
    "affluent customers with children in college who might need education loans",
    "customers under 35 with income over $100k",
    "retired homeowners in Chicago",
    "small business owners with a mortgage",
    "customers over 60 with savings accounts",
    "credit score under 600",
    "high net worth clients interested in estate planning",
};
#define N_QUERIES (sizeof k_queries / sizeof k_queries[0])
#define MAX_RUNS 1000

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct app_book_params bp = app_book_default_params();
    bp.db_path = "build/bench-serve/bank-100000.db";
    bp.model_flag = "/nonexistent";
    int runs = 21;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            bp.model_flag = argv[++i];
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (argv[i][0] != '-') {
            bp.db_path = argv[i];
        } else {
            fprintf(stderr, "usage: bench_book [DB] [--model DIR] [--runs R]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "bench_book: --runs must be 1..%d\n", MAX_RUNS);
        return 2;
    }
    struct app_book *b = NULL;
    struct px_err err = {0};
    if (app_book_open(&bp, &b, &err) != PX_OK) {
        fprintf(stderr, "bench_book: %s (bench/serve/run prepares the default database)\n",
                err.msg);
        return 1;
    }
    printf("bench_book: %s, %zu customers, %s; median of %d runs per query (one thread)\n"
           "  %.1f MB live after open\n",
           bp.db_path, app_book_n_rows(b), app_book_dense_status(b) ? "filters + BM25" : "dense + BM25",
           runs, (double)px_mem_live_bytes() / 1e6);
    static double t[MAX_RUNS];
    double sum = 0;
    for (size_t q = 0; q < N_QUERIES; q++) {
        struct app_result r = {0};
        for (int k = 0; k < runs; k++) {
            double t0 = now_ms();
            if (app_book_search(b, k_queries[q], strlen(k_queries[q]), 10, &r, &err) != PX_OK) {
                fprintf(stderr, "bench_book: %s\n", err.msg);
                app_book_close(b);
                return 1;
            }
            t[k] = now_ms() - t0;
            if (k + 1 < runs) {
                app_result_free(&r);
            }
        }
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        sum += t[runs / 2];
        printf("  %7.2f ms  %6zu candidates  %s\n", t[runs / 2], r.n_candidates, k_queries[q]);
        app_result_free(&r);
    }
    printf("  mean of the medians: %.2f ms per search\n", sum / (double)N_QUERIES);
    app_book_close(b);
    return 0;
}
