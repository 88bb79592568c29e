// bench_queries.c — issue 11's labelled query set (tests/data/queries/) measured: per group
// (schema x kind x split) the hard-clause hold rate or P@10, beside the committed baseline's
// figures (bench/queries_baseline.txt), and the mean parse+search time per query. The
// evaluator is the one test_query_set uses (tests/queryset/); this program only chooses what
// to print. The held-out third is printed apart from the tuning part: look at it at the end.
//
// Usage: bench_queries [--runs R] [--baseline FILE] [--write-baseline] [--no-vocab]
//                      [--queries|--failing [--heldout]] [--ratchet] [--matches] [--keep DIR]
//   --runs R          time each query over R searches (default 5)
//   --baseline FILE   compare with FILE (default: bench/queries_baseline.txt of the source tree)
//   --write-baseline  write today's figures to the baseline file (commit it with the change)
//   --queries         one line per tuning query; --failing only those that do not hold, with
//                     their plans; --heldout adds the held-out third (look at it at the end)
//   --ratchet         print holding.txt lines for the tuning queries that hold now (hard
//                     queries whose every row satisfies, profile queries at P@10 = 1; lower
//                     profile counts as comments)
//   --matches         only count each predicate's rows in its book (no search): for writing
//                     queries, each must find someone
//   --keep DIR        build the books in DIR (created) and leave them there
//   --no-vocab        open the books without their vocabulary (search/vocab.h: stems, WordNet,
//                     typos): what the vocabulary adds is the difference of the two runs
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "queryset.h"

#ifndef QS_BASELINE
#define QS_BASELINE "bench/queries_baseline.txt"
#endif

static int usage(void)
{
    fprintf(stderr, "usage: bench_queries [--runs R] [--baseline FILE] [--write-baseline] "
                    "[--queries|--failing [--heldout]] [--ratchet] [--matches] [--keep DIR] "
                    "[--no-vocab]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int runs = 5;
    const char *baseline_path = QS_BASELINE, *keep = NULL;
    bool write_baseline = false, queries = false, failing = false, ratchet = false;
    bool matches = false, heldout = false, no_vocab = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc) {
            baseline_path = argv[++i];
        } else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
            keep = argv[++i];
        } else if (strcmp(argv[i], "--write-baseline") == 0) {
            write_baseline = true;
        } else if (strcmp(argv[i], "--queries") == 0) {
            queries = true;
        } else if (strcmp(argv[i], "--failing") == 0) {
            queries = failing = true;
        } else if (strcmp(argv[i], "--ratchet") == 0) {
            ratchet = true;
        } else if (strcmp(argv[i], "--heldout") == 0) {
            heldout = true;
        } else if (strcmp(argv[i], "--matches") == 0) {
            matches = true;
        } else if (strcmp(argv[i], "--no-vocab") == 0) {
            no_vocab = true;
        } else {
            return usage();
        }
    }
    if (runs < 1 || runs > 1000) {
        fprintf(stderr, "bench_queries: --runs must be 1..1000\n");
        return 2;
    }
    struct px_err err = {0};
    char path[4200], dir[4200];
    struct qs_set set;
    qs_data_path(path, sizeof path, "queries/queries.tsv");
    if (qs_set_load(path, &set, &err) != PX_OK) {
        fprintf(stderr, "bench_queries: %s\n", err.msg);
        return 1;
    }
    if (keep != NULL) {
        snprintf(dir, sizeof dir, "%s", keep);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "bench_queries: %s: %s\n", dir, strerror(errno));
            return 1;
        }
    } else if (qs_workdir_new(dir, sizeof dir, &err) != PX_OK) {
        fprintf(stderr, "bench_queries: %s\n", err.msg);
        return 1;
    }
    struct qs_env env = qs_env_default();
    env.work_dir = dir;
    env.no_vocab = no_vocab;
    struct qs_books books;
    int rc = qs_books_open(&env, &books, &err);
    struct qs_outcome *out = rc == PX_OK ? calloc(set.n, sizeof *out) : NULL;
    if (rc == PX_OK && out == NULL) {
        rc = px_fail(&err, PX_ENOMEM, "out of memory");
    }
    if (rc == PX_OK) {
        for (int s = 0; s < QS_N_SCHEMAS; s++) {
            if (!books.s[s].available) {
                printf("bench_queries: no %s book: %s\n", qs_schema_name((enum qs_schema)s),
                       books.s[s].why);
            }
        }
    }
    if (rc == PX_OK && matches) {
        size_t n_none = 0;
        for (size_t i = 0; i < set.n && rc == PX_OK; i++) {
            const struct qs_query *q = &set.q[i];
            size_t n = 0;
            if (!books.s[q->schema].available) {
                continue;
            }
            rc = qs_eval_matches(q, &books.s[q->schema], NULL, &n, &err);
            if (rc == PX_OK) {
                n_none += n == 0;
                printf("%s %-9s %-7s %6zu  %s\n", q->id, qs_schema_name(q->schema),
                       qs_kind_name(q->kind), n, q->text);
            }
        }
        printf("bench_queries: %zu predicates match no row\n", n_none);
    } else if (rc == PX_OK) {
        rc = qs_eval_run(&set, &books, runs, out, &err);
    }
    if (rc == PX_OK && !matches) {
        struct qs_baseline base;
        struct px_err berr = {0};
        bool have_base = !write_baseline && qs_baseline_load(baseline_path, &base, &berr) == PX_OK;
        if (!write_baseline && !have_base) {
            printf("bench_queries: no baseline (%s)\n", berr.msg);
        }
        printf("bench_queries: %d runs per query\n", runs);
        qs_report_print(stdout, &set, out, have_base ? &base : NULL);
        if (queries) {
            qs_report_queries(stdout, &set, out, &books, failing, heldout);
        }
        if (ratchet) {
            printf("# holding.txt lines: tuning queries that hold today (hard: every row; "
                   "profile: P@10 = 1; partial profile floors as comments)\n");
            for (size_t i = 0; i < set.n; i++) {
                const struct qs_query *q = &set.q[i];
                if (!out[i].ran || q->split != QS_TUNING) {
                    continue;
                }
                if (q->kind == QS_HARD && out[i].holds) {
                    printf("%s all\n", q->id);
                } else if (q->kind == QS_PROFILE && out[i].p10 >= 1.0) {
                    printf("%s %zu\n", q->id, out[i].n_ok);
                } else if (q->kind == QS_PROFILE && out[i].n_ok > 0) {
                    // a floor below P@10 = 1 is a choice (ranking changes move it): offered only
                    printf("# %s %zu\n", q->id, out[i].n_ok);
                }
            }
        }
        if (write_baseline) {
            rc = qs_baseline_write(baseline_path, &set, out, &err);
            if (rc == PX_OK) {
                printf("bench_queries: wrote %s\n", baseline_path);
            }
        }
    }
    if (rc != PX_OK) {
        fprintf(stderr, "bench_queries: %s\n", err.msg);
    }
    free(out);
    qs_books_close(&books);
    if (keep == NULL) {
        qs_workdir_remove(dir);
    }
    qs_set_free(&set);
    return rc == PX_OK ? 0 : 1;
}
