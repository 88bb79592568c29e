// bench_recommend.c — GAT recommender training time and recall@10 against the popularity and
// matrix-factorisation baselines of the same run, on a generated wholesale book.
//
//   bench_recommend [--customers N] [--products M] [--transactions T] [--threads K]
//                   [--epochs E] [--seed S] [--dropout P] [--attn-dropout P]
//
// Defaults are the issue's: 10,000 customers x 1,000 products x 200,000 transactions on 2
// threads. The book is generated (src/data/wholesale), written as CSV into a temporary
// directory and read back through rec_data_load, as `prospect recommend train` does; the times
// printed are for loading and for rec_train (GAT training with early stopping + evaluation +
// both baselines). Targets: <= 60 s to train, GAT recall@10 >= 2x popularity.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "recommender.h"
#include "wholesale.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int write_tables(const struct wholesale *w, const char *dir, struct px_err *err)
{
    for (int t = 0; t < 3; t++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, wholesale_table_file((enum wholesale_table)t));
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            return px_fail(err, PX_EIO, "cannot write %s", path);
        }
        struct buf b;
        buf_init(&b, 1u << 30);
        int rc = wholesale_csv_header((enum wholesale_table)t, &b, err);
        for (size_t i = 0; rc == PX_OK && i < wholesale_table_rows(w, (enum wholesale_table)t);
             i++) {
            rc = wholesale_csv_row(w, (enum wholesale_table)t, i, &b, err);
        }
        if (rc == PX_OK && fwrite(b.data, 1, b.len, f) != b.len) {
            rc = px_fail(err, PX_EIO, "cannot write %s", path);
        }
        buf_free(&b);
        fclose(f);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

int main(int argc, char **argv)
{
    struct wholesale_params wp = wholesale_default_params();
    wp.n_customers = 10000;
    wp.n_products = 1000;
    wp.n_transactions = 200000;
    struct rec_params rp = rec_default_params();
    rp.n_threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = atol(argv[i + 1]);
        if (strcmp(argv[i], "--customers") == 0) {
            wp.n_customers = (uint32_t)v;
        } else if (strcmp(argv[i], "--products") == 0) {
            wp.n_products = (uint32_t)v;
        } else if (strcmp(argv[i], "--transactions") == 0) {
            wp.n_transactions = (uint64_t)v;
        } else if (strcmp(argv[i], "--threads") == 0) {
            rp.n_threads = (int)v;
        } else if (strcmp(argv[i], "--epochs") == 0) {
            rp.epochs = (int)v;
        } else if (strcmp(argv[i], "--seed") == 0) {
            wp.seed = rp.seed = (uint64_t)v;
        } else if (strcmp(argv[i], "--attn-dropout") == 0) {
            rp.attn_dropout = (float)atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--dropout") == 0) {
            rp.dropout = (float)atof(argv[i + 1]);
        } else {
            fprintf(stderr, "bench_recommend: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    struct px_err err = {0};
    struct wholesale *w = NULL;
    char dir[] = "/tmp/bench_recommend.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench_recommend: cannot create a temporary directory\n");
        return 1;
    }
    double t0 = now();
    if (wholesale_new(&wp, &w, &err) != PX_OK || write_tables(w, dir, &err) != PX_OK) {
        fprintf(stderr, "bench_recommend: %s\n", err.msg);
        return 1;
    }
    wholesale_free(w);
    double t1 = now();
    char c[600], p[600], t[600];
    snprintf(c, sizeof c, "%s/customers.csv", dir);
    snprintf(p, sizeof p, "%s/products.csv", dir);
    snprintf(t, sizeof t, "%s/transactions.csv", dir);
    struct rec_data d;
    if (rec_data_load(c, p, t, &d, &err) != PX_OK) {
        fprintf(stderr, "bench_recommend: %s\n", err.msg);
        return 1;
    }
    double t2 = now();
    struct rec_model m;
    if (rec_train(&d, &rp, NULL, NULL, &m, &err) != PX_OK) {
        fprintf(stderr, "bench_recommend: %s\n", err.msg);
        return 1;
    }
    double t3 = now();
    const struct rec_report *r = &m.report;
    printf("bench_recommend: %u customers x %u products x %llu transactions -> %zu pairs, "
           "%zu features, %d threads, dropout %.2f, attention dropout %.2f\n",
           wp.n_customers, wp.n_products, (unsigned long long)wp.n_transactions, d.n_edges,
           d.n_features, rp.n_threads, (double)rp.dropout, (double)rp.attn_dropout);
    printf("  generate + write CSV %.2f s, load + graph features %.2f s\n", t1 - t0, t2 - t1);
    printf("  GAT: %d epochs (best %d) + test evaluation: %.2f s; with both baselines: %.2f s "
           "(target <= 60 s)\n",
           r->epochs_run, r->best_epoch, r->seconds_gat, t3 - t2);
    printf("  %-22s recall@5 %.4f  recall@10 %.4f  NDCG@10 %.4f  hit@10 %.4f\n", "GAT",
           r->gat.recall5, r->gat.recall10, r->gat.ndcg10, r->gat.hit10);
    printf("  %-22s recall@5 %.4f  recall@10 %.4f  NDCG@10 %.4f  hit@10 %.4f\n", "popularity",
           r->popularity.recall5, r->popularity.recall10, r->popularity.ndcg10,
           r->popularity.hit10);
    printf("  %-22s recall@5 %.4f  recall@10 %.4f  NDCG@10 %.4f  hit@10 %.4f\n",
           "matrix factorisation", r->mf.recall5, r->mf.recall10, r->mf.ndcg10, r->mf.hit10);
    double ratio = r->popularity.recall10 > 0 ? r->gat.recall10 / r->popularity.recall10 : 0;
    printf("  GAT recall@10 / popularity = %.2fx (target >= 2x); %zu test customers\n", ratio,
           r->gat.n_customers);
    rec_model_free(&m);
    rec_data_free(&d);
    for (int k = 0; k < 3; k++) {
        unlink(k == 0 ? c : k == 1 ? p : t);
    }
    rmdir(dir);
    return 0;
}
