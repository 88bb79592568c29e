// bench_vocab.c — the book's vocabulary (search/vocab.h, issue 11 item 2): how long building it
// takes at book open, how long a lookup, a typo correction and a whole parse take with it, on
// the generated retail bank (ROWS customers, generated and imported into $TMPDIR, or an existing
// database). The vocabulary depends on distinct labels and values, not on rows: run it at
// --rows 4000 and --rows 1000000 to see the build time stay put. Figures are medians of R runs,
// printed beside the limit (a parse ≤ 1 ms) and the parse without the vocabulary.
//
// Usage: bench_vocab [--rows N | --db PATH] [--runs R] [--wordnet DIR]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_book.h"
#include "app_data.h"
#include "book_int.h"
#include "query.h"
#include "vocab.h"

static const char *const k_queries[] = {
    "doctors and lawyers in Texas",
    "retirees who are renters",
    "single women under 30 living in Texas",
    "custmers with credt score abve 800",
    "medical professionals with a mortgage",
    "Young professionals with good credit scores who might qualify for premium credit cards",
    "wealthy widows interested in estate planning",
    "homeowners with platnium cards",
};
#define N_QUERIES (sizeof k_queries / sizeof k_queries[0])
#define MAX_RUNS 1000

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

// Splits s into words (at spaces) for vocab_lookup.
static size_t words_of(const char *s, const char **w, size_t *len, size_t max)
{
    size_t n = 0;
    while (*s != '\0' && n < max) {
        while (*s == ' ') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        w[n] = s;
        while (*s != '\0' && *s != ' ') {
            s++;
        }
        len[n] = (size_t)(s - w[n]);
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    unsigned long long rows = 4000;
    int runs = 20;
    const char *db = NULL, *wordnet = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc) {
            rows = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--wordnet") == 0 && i + 1 < argc) {
            wordnet = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_vocab [--rows N | --db PATH] [--runs R] "
                            "[--wordnet DIR]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "bench_vocab: --runs must be 1..%d\n", MAX_RUNS);
        return 2;
    }
    struct px_err err = {0};
    char csv[4096], dbp[4096];
    if (db == NULL) {
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(csv, sizeof csv, "%s/bench_vocab_%d.csv", tmp, (int)getpid());
        snprintf(dbp, sizeof dbp, "%s/bench_vocab_%d.db", tmp, (int)getpid());
        struct app_bank_params bp = app_bank_default_params();
        bp.rows = rows;
        double t0 = now_us();
        struct app_import_stats st = {0};
        struct app_import_params ip = app_import_default_params();
        if (app_generate_bank(&bp, csv, NULL, NULL, NULL, &err) != PX_OK ||
            app_import(dbp, csv, &ip, &st, &err) != PX_OK) {
            fprintf(stderr, "bench_vocab: %s\n", err.msg);
            app_import_stats_free(&st);
            return 1;
        }
        app_import_stats_free(&st);
        unlink(csv);
        printf("generated and imported %llu retail customers in %.1f s\n", rows,
               (now_us() - t0) / 1e6);
        db = dbp;
    }
    struct app_book_params p = app_book_default_params();
    p.db_path = db;
    p.lexical_only = true;
    p.no_vocab = true;
    struct app_book *b = NULL;
    if (app_book_open(&p, &b, &err) != PX_OK) {
        fprintf(stderr, "bench_vocab: %s\n", err.msg);
        return 1;
    }
    const struct query_schema *schema = engine_schema(b->eng);
    double t[MAX_RUNS];
    struct vocab *v = NULL;
    for (int r = 0; r < runs; r++) {
        vocab_free(v);
        v = NULL;
        double t0 = now_us();
        if (query_vocab_build(schema, b->lex, wordnet, &v, &err) != PX_OK) {
            fprintf(stderr, "bench_vocab: %s\n", err.msg);
            return 1;
        }
        t[r] = now_us() - t0;
    }
    printf("book: %zu rows, %zu columns; vocabulary: %zu keys%s%s\n", app_book_n_rows(b),
           app_book_n_columns(b), vocab_n_keys(v), vocab_note(v)[0] ? "; " : "", vocab_note(v));
    printf("  %-34s %10.2f ms   (at book open, once)\n", "build", median(t, runs) / 1e3);
    // lookups: every word of every query, as the parser asks
    size_t n_calls = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now_us();
        n_calls = 0;
        for (size_t q = 0; q < N_QUERIES; q++) {
            const char *w[64];
            size_t len[64];
            size_t n = words_of(k_queries[q], w, len, 64);
            for (size_t i = 0; i < n; i++) {
                struct vocab_cand c[LIMIT_VOCAB_CANDIDATES];
                size_t nc;
                vocab_lookup(v, w + i, len + i, n - i, c, LIMIT_VOCAB_CANDIDATES, &nc, &err);
                n_calls++;
            }
        }
        t[r] = (now_us() - t0) / (double)n_calls;
    }
    printf("  %-34s %10.2f us   (%zu calls per run)\n", "lookup (phrase at a word)",
           median(t, runs), n_calls);
    for (int r = 0; r < runs; r++) {
        static const char *const typos[] = {"custmers", "credt", "abve", "platnium", "mortage",
                                            "physcian", "zebra", "wealthy"};
        double t0 = now_us();
        for (size_t k = 0; k < 8; k++) {
            const char *out[4];
            int d;
            vocab_correct(v, typos[k], strlen(typos[k]), out, 4, &d);
        }
        t[r] = (now_us() - t0) / 8;
    }
    printf("  %-34s %10.2f us\n", "typo correction (one word)", median(t, runs));
    double with[MAX_RUNS], without[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        double t0 = now_us();
        for (size_t q = 0; q < N_QUERIES; q++) {
            struct query_plan *plan = NULL;
            query_parse_vocab(schema, b->lex, v, k_queries[q], strlen(k_queries[q]), &plan, &err);
            query_plan_free(plan);
        }
        with[r] = (now_us() - t0) / N_QUERIES;
        t0 = now_us();
        for (size_t q = 0; q < N_QUERIES; q++) {
            struct query_plan *plan = NULL;
            query_parse(schema, b->lex, k_queries[q], strlen(k_queries[q]), &plan, &err);
            query_plan_free(plan);
        }
        without[r] = (now_us() - t0) / N_QUERIES;
    }
    printf("  %-34s %10.2f us   (without the vocabulary %.2f us; limit 1000 us)\n",
           "parse (mean of the queries)", median(with, runs), median(without, runs));
    vocab_free(v);
    app_book_close(b);
    if (db == dbp) {
        unlink(dbp);
    }
    return 0;
}
