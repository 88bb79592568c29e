// bench_scale.c — issue 12's figures for one book already imported (bench/scale/run makes the
// 1 M book): the open (cold: the store's and the index file's pages dropped from the page cache
// first with posix_fadvise; warm: again right after), search mixes with p50 / p99 over R runs,
// and resident memory (RssAnon = what the process holds beyond the page cache; RssFile = the
// mapped pages it touched), each printed beside the target. --in-memory opens as
// before index files (every index rebuilt from SQLite): the baseline.
//
// Usage: bench_scale DB [--model DIR] [--runs R] [--in-memory]
//   without --model: the "filters + BM25" mix; with it (vectors in the book): "both" (filters
//   + dense + BM25, the query embedded once and then cached as the server does) and "dense"
//   (semantic text only, no keyword in any profile)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_book.h"
#include "mem.h"

static const char *const k_filtered[] = {
    "Customers with credit score over 750 interested in investment products",
    "customers under 35 with income over $100k",
    "retired homeowners in Chicago",
    "small business owners with a mortgage",
    "customers over 60 with savings accounts",
    "credit score under 600",
    "affluent customers with children in college who might need education loans",
    "high net worth clients interested in estate planning",
    "not in the Private segment and credit score between 600 and 700",
    "Young professionals with good credit scores who might qualify for premium credit cards",
};
// the keyword texts bench/scale/fts5.py asks FTS5 (no filter, no boost: BM25 alone)
static const char *const k_keywords[] = {
    "investment products", "retirement planning", "estate planning", "savings accounts",
    "mortgage", "education loans", "premium credit cards", "wealth management services",
};
static const char *const k_dense[] = {
    "zyxq plorbs",
    "quuxly frobnicated",
};
#define N_FILTERED (sizeof k_filtered / sizeof k_filtered[0])
#define MAX_RUNS 2000

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

// kB of "Key:" in /proc/self/status.
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, n) == 0) {
            v = strtol(line + n, NULL, 10);
        }
    }
    if (f != NULL) fclose(f);
    return v;
}

static void drop_cache(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        fdatasync(fd);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

static struct app_book *open_timed(const struct app_book_params *p, double *ms)
{
    struct px_err e = {0};
    struct app_book *b = NULL;
    double t0 = now_ms();
    if (app_book_open(p, &b, &e) != PX_OK) {
        fprintf(stderr, "bench_scale: %s\n", e.msg);
        exit(1);
    }
    *ms = now_ms() - t0;
    return b;
}

static void mix(struct app_book *b, const char *name, const char *const *qs, size_t n_q, int runs,
                double target_p50)
{
    static double t[MAX_RUNS];
    struct px_err e = {0};
    size_t n = 0, cand = 0;
    for (int r = 0; r < runs; r++) {
        const char *q = qs[(size_t)r % n_q];
        struct app_result res = {0};
        double t0 = now_ms();
        if (app_book_search(b, q, strlen(q), 10, &res, &e) != PX_OK) {
            fprintf(stderr, "bench_scale: '%s': %s\n", q, e.msg);
            exit(1);
        }
        t[n++] = now_ms() - t0;
        cand += res.n_candidates;
        app_result_free(&res);
    }
    qsort(t, n, sizeof *t, cmp_double);
    printf("%-16s p50 %8.2f ms  p99 %8.2f ms   (target p50 <= %.0f ms; %zu runs, mean "
           "candidates %zu)\n",
           name, t[n / 2], t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], target_p50, n,
           cand / (n ? n : 1));
}

int main(int argc, char **argv)
{
    struct app_book_params p = app_book_default_params();
    int runs = 200;
    char index_path[4200];
    if (argc < 2) {
        fprintf(stderr, "usage: bench_scale DB [--model DIR] [--runs R] [--in-memory]\n");
        return 2;
    }
    p.db_path = argv[1];
    p.model_flag = "/nonexistent-model"; // lexical unless --model
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) p.model_flag = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--in-memory")) p.ignore_index_file = true;
    }
    runs = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
    for (int g = 0; g < 64; g++) { // the index files of any generation
        snprintf(index_path, sizeof index_path, "%s.g%d.index", p.db_path, g);
        drop_cache(index_path);
    }
    drop_cache(p.db_path);
    double cold = 0, warm = 0;
    struct app_book *b = open_timed(&p, &cold);
    long anon_open = status_kb("RssAnon:"), file_open = status_kb("RssFile:");
    app_book_close(b);
    b = open_timed(&p, &warm);
    size_t n_rows = app_book_n_rows(b);
    const char *dense = app_book_dense_status(b);
    printf("book %s: %zu customers, %s%s\n", p.db_path, n_rows,
           p.ignore_index_file ? "built in memory from SQLite" : "opened from its index file",
           dense ? "" : ", dense path on");
    printf("open cold        %8.1f ms   (target <= 1000 ms at 10 M)\n", cold);
    printf("open warm        %8.1f ms\n", warm);
    printf("RSS after open   anon %7.1f MB, file-backed %7.1f MB  (target anon <= %.0f MB at "
           "this size with int8 vectors, <= %.0f MB without)\n",
           anon_open / 1024.0, file_open / 1024.0, 500.0 * n_rows / 1e6, 200.0 * n_rows / 1e6);
    if (dense != NULL) {
        mix(b, "filters + BM25", k_filtered, N_FILTERED, runs, 50);
        mix(b, "BM25 only", k_keywords, sizeof k_keywords / sizeof k_keywords[0], runs, 50);
    } else {
        mix(b, "both", k_filtered, N_FILTERED, runs, 100);
        mix(b, "dense", k_dense, 2, runs, 100);
    }
    printf("RSS after search anon %7.1f MB, file-backed %7.1f MB, peak %7.1f MB\n",
           status_kb("RssAnon:") / 1024.0, status_kb("RssFile:") / 1024.0,
           status_kb("VmHWM:") / 1024.0);
    app_book_close(b);
    return 0;
}
