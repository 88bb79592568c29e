// cmd_recommend.c — `prospect recommend`: train / evaluate the GAT recommender against the
// popularity and matrix-factorisation baselines, and recommend products a customer does not
// hold, for one customer or (batch) every customer to CSV. Loads models through app_rec_load
// (app.h); training and saving still call src/ml directly (STYLE C12).
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_rec.h"
#include "app_registry.h"
#include "cli.h"
#include "cli_ml.h"
#include "fsx.h"
#include "limits.h"
#include "mem.h"
#include "progress.h"
#include "recmodel.h"
#include "recommender.h"
#include "sha256.h"

static const char *const k_usage =
    "usage: prospect recommend train|eval [--data DIR | --customers F --products F\n"
    "                                      --transactions F] [--name NAME] [--registry DIR]\n"
    "                                      [--epochs N] [--threads N] [--seed S] [--json]\n"
    "       prospect recommend --customer ID [--top 5] [--model NAME[/VERSION]] [--json]\n"
    "       prospect recommend --all [--top 5] [--out FILE.csv] [--model NAME[/VERSION]]\n"
    "\n"
    "train reads the wholesale book's three CSVs (prospect generate --kind wholesale), builds the\n"
    "customer-product graph, trains a two-layer graph attention network for link prediction on\n"
    "the oldest 80% of customer-product pairs (10% validation for early stopping), and reports\n"
    "recall@5, recall@10, NDCG@10 and hit rate on the newest 10% beside a popularity and a\n"
    "matrix-factorisation baseline trained in the same run; then saves the model as the next\n"
    "version of registry/NAME/ (a registry bundle: model.bin, recommender.json, MLmodel,\n"
    "manifest.json; see prospect bundle list). eval does the same without saving.\n"
    "\n"
    "--customer ID lists the top products the customer does not already hold, with scores;\n"
    "--all writes customer_id,rank,product_id,product,score for every customer as CSV.\n"
    "\n"
    "  --data DIR          directory with customers.csv, products.csv, transactions.csv\n"
    "                      (default ./wholesale)\n"
    "  --name NAME         model name (default recommender)\n"
    "  --registry DIR      model directory (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --model REF         NAME or NAME/VERSION to recommend with (default: newest recommender)\n"
    "  --epochs N          most training epochs (default 200; early stopping on validation)\n"
    "  --threads N         threads (default 2)\n"
    "  --top N             products per customer (default 5)\n"
    "  --json              JSON output\n";

struct opts {
    const char *cmd; // "train", "eval" or NULL
    const char *data, *files[3], *name, *registry, *model, *customer, *out;
    bool all, json;
    int top;
    struct rec_params params;
};

static void on_progress(void *user, int epoch, int epochs, double val)
{
    struct progress *bar = user;
    (void)val;
    progress_update(bar, (uint64_t)epoch);
    (void)epochs;
    if (g_cli_verbose) {
        fprintf(stderr, "epoch %d: validation recall@10 %.4f\n", epoch, val);
    }
}

static void print_metrics_row(const char *name, const struct rec_metrics *m)
{
    printf("%-24s %9.4f %9.4f %9.4f %9.4f\n", name, m->recall5, m->recall10, m->ndcg10, m->hit10);
}

static void json_metrics(const char *name, const struct rec_metrics *m, bool last)
{
    printf("  \"%s\": {\"recall_at_5\": %.6f, \"recall_at_10\": %.6f, \"ndcg_at_10\": %.6f, "
           "\"hit_rate_at_10\": %.6f, \"customers\": %zu}%s\n",
           name, m->recall5, m->recall10, m->ndcg10, m->hit10, m->n_customers, last ? "" : ",");
}

static int train(struct opts *o)
{
    char paths[3][4096];
    static const char *const names[3] = {"customers.csv", "products.csv", "transactions.csv"};
    struct px_err err = {0};
    struct rec_data d = {0};
    struct rec_model m = {0};
    int rc = CLI_FAIL;
    char sha[3][65];
    for (int k = 0; k < 3; k++) {
        if (o->files[k] != NULL) {
            snprintf(paths[k], sizeof paths[k], "%s", o->files[k]);
        } else if (fsx_join(paths[k], sizeof paths[k], o->data, names[k], &err) != PX_OK) {
            return cli_fail("recommend", &err);
        }
        if (sha256_file_hex(paths[k], sha[k], &err) != PX_OK) {
            return cli_fail("recommend", &err);
        }
    }
    if (rec_data_load(paths[0], paths[1], paths[2], &d, &err) != PX_OK) {
        return cli_fail("recommend", &err);
    }
    struct progress bar;
    progress_begin(&bar, "train", (uint64_t)o->params.epochs);
    int trc = rec_train(&d, &o->params, on_progress, &bar, &m, &err);
    progress_end(&bar);
    if (trc != PX_OK) {
        rc = cli_fail("recommend", &err);
        goto done;
    }
    int version = 0;
    if (strcmp(o->cmd, "train") == 0) {
        struct recmodel_info info = {
            {paths[0], paths[1], paths[2]}, {sha[0], sha[1], sha[2]}, &o->params};
        if (recmodel_save(o->registry, o->name, &m, &info, &version, &err) != PX_OK) {
            rc = cli_fail("recommend", &err);
            goto done;
        }
    }
    const struct rec_report *r = &m.report;
    if (o->json) {
        printf("{\n  \"customers\": %zu, \"products\": %zu, \"pairs\": %zu, \"transactions\": "
               "%zu,\n",
               d.n_customers, d.n_products, d.n_edges, d.n_transactions);
        printf("  \"train_edges\": %zu, \"validation_edges\": %zu, \"test_edges\": %zu,\n",
               r->n_train, r->n_val, r->n_test);
        printf("  \"epochs_run\": %d, \"best_epoch\": %d, \"seconds_gat\": %.3f, "
               "\"seconds_total\": %.3f,\n",
               r->epochs_run, r->best_epoch, r->seconds_gat, r->seconds_total);
        printf("  \"lift_recall_at_10\": {\"mean\": %.6f, \"se\": %.6f}, \"beats_popularity\": "
               "%s,\n",
               r->lift_mean, r->lift_se, r->beats_popularity ? "true" : "false");
        if (version > 0) {
            printf("  \"model\": \"%s/%d\",\n", o->name, version);
        }
        json_metrics("gat", &r->gat, false);
        json_metrics("popularity", &r->popularity, false);
        json_metrics("matrix_factorisation", &r->mf, true);
        printf("}\n");
    } else {
        printf("%zu customers, %zu products, %zu transactions -> %zu customer-product pairs\n",
               d.n_customers, d.n_products, d.n_transactions, d.n_edges);
        printf("time-ordered split: %zu train, %zu validation, %zu test pairs; %zu customers "
               "with test pairs\n",
               r->n_train, r->n_val, r->n_test, r->gat.n_customers);
        printf("GAT: %d epochs (best %d, validation recall@10 %.4f), %.1f s; whole run %.1f s\n\n",
               r->epochs_run, r->best_epoch, r->best_val_recall10, r->seconds_gat,
               r->seconds_total);
        printf("%-24s %9s %9s %9s %9s\n", "model", "recall@5", "recall@10", "NDCG@10", "hit@10");
        print_metrics_row("GAT", &r->gat);
        print_metrics_row("popularity", &r->popularity);
        print_metrics_row("matrix factorisation", &r->mf);
        double ratio = r->popularity.recall10 > 0 ? r->gat.recall10 / r->popularity.recall10 : 0;
        printf("\nGAT recall@10 / popularity: %.2fx; per-customer lift %+.4f (s.e. %.4f): %s\n",
               ratio, r->lift_mean, r->lift_se,
               r->beats_popularity ? "the GAT beats popularity"
                                   : "no claim: the GAT does not clearly beat popularity");
        if (version > 0) {
            printf("saved %s/%s/%d\n", o->registry, o->name, version);
        }
    }
    rc = CLI_OK;
done:
    rec_model_free(&m);
    rec_data_free(&d);
    return rc;
}

static int recommend(struct opts *o)
{
    struct px_err err = {0};
    struct rec_model m = {0};
    struct rec_item *items = NULL;
    struct fsx_atomic out = {0};
    int version = 0, rc = CLI_FAIL;
    if (app_rec_load(o->registry, o->model, &m, &version, &err) != PX_OK) {
        return cli_fail("recommend", &err);
    }
    items = px_calloc((size_t)o->top, sizeof *items);
    if (items == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        goto fail;
    }
    if (!o->all) {
        long c = rec_model_find_customer(&m, o->customer);
        if (c < 0) {
            px_fail(&err, PX_ENOENT,
                    "customer '%s' is not in the model %s/%d (retrain after "
                    "adding customers)",
                    o->customer, o->model, version);
            goto fail;
        }
        size_t n = 0;
        rec_recommend(&m, (size_t)c, (size_t)o->top, items, &n);
        if (o->json) {
            printf("{\"customer_id\": ");
            cli_json_string(stdout, m.customer_id[c]);
            printf(", \"model\": \"%s/%d\", \"held\": %u, \"recommendations\": [", o->model,
                   version, m.held_ptr[c + 1] - m.held_ptr[c]);
            for (size_t k = 0; k < n; k++) {
                printf("%s{\"product_id\": ", k ? ", " : "");
                cli_json_string(stdout, m.product_id[items[k].product]);
                printf(", \"product\": ");
                cli_json_string(stdout, m.product_label[items[k].product]);
                printf(", \"score\": %.6f}", (double)items[k].score);
            }
            printf("]}\n");
        } else {
            printf("Customer %s (%s) holds %u products; model %s/%d\n", m.customer_id[c],
                   m.customer_label[c], m.held_ptr[c + 1] - m.held_ptr[c], o->model, version);
            for (size_t k = 0; k < n; k++) {
                printf("%2zu. %-12s %-40s %8.4f\n", k + 1, m.product_id[items[k].product],
                       m.product_label[items[k].product], (double)items[k].score);
            }
        }
        rc = CLI_OK;
        goto done;
    }
    FILE *f = stdout;
    if (o->out != NULL) {
        if (fsx_atomic_open(o->out, &out, &err) != PX_OK) {
            goto fail;
        }
        f = out.f;
    }
    fprintf(f, "customer_id,rank,product_id,product,score\n");
    for (size_t c = 0; c < m.n_customers; c++) {
        size_t n = 0;
        rec_recommend(&m, c, (size_t)o->top, items, &n);
        for (size_t k = 0; k < n; k++) {
            cli_csv_field(f, m.customer_id[c]);
            fprintf(f, ",%zu,", k + 1);
            cli_csv_field(f, m.product_id[items[k].product]);
            fputc(',', f);
            cli_csv_field(f, m.product_label[items[k].product]);
            fprintf(f, ",%.6f\n", (double)items[k].score);
        }
    }
    if (o->out != NULL) {
        if (fsx_atomic_commit(&out, &err) != PX_OK) {
            goto fail;
        }
        fprintf(stderr, "wrote %s: top %d products for %zu customers\n", o->out, o->top,
                m.n_customers);
    } else if (fflush(stdout) != 0) {
        px_fail(&err, PX_EIO, "cannot write to standard output");
        goto fail;
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("recommend", &err);
done:
    fsx_atomic_abort(&out);
    px_free(items);
    rec_model_free(&m);
    return rc;
}

int cmd_recommend(int argc, char **argv)
{
    struct opts o = {0};
    o.data = "wholesale";
    o.name = "recommender";
    o.registry = app_registry_dir(NULL);
    o.top = 5;
    o.params = rec_default_params();
    o.params.n_threads = 2;
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"customers", required_argument, NULL, 'C'},
        {"products", required_argument, NULL, 'P'},
        {"transactions", required_argument, NULL, 'T'},
        {"name", required_argument, NULL, 'n'},
        {"registry", required_argument, NULL, 'r'},
        {"model", required_argument, NULL, 'm'},
        {"epochs", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {"customer", required_argument, NULL, 'c'},
        {"top", required_argument, NULL, 'k'},
        {"all", no_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, v;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.data = optarg; break;
        case 'C': o.files[0] = optarg; break;
        case 'P': o.files[1] = optarg; break;
        case 'T': o.files[2] = optarg; break;
        case 'n': o.name = optarg; break;
        case 'r': o.registry = optarg; break;
        case 'm': o.model = optarg; break;
        case 'c': o.customer = optarg; break;
        case 'a': o.all = true; break;
        case 'o': o.out = optarg; break;
        case 'j': o.json = true; break;
        case 'e':
            if (!cli_parse_int(optarg, 1, LIMIT_REC_EPOCHS, &o.params.epochs)) {
                return cli_usage_error("recommend", "--epochs must be 1..%d, got '%s'",
                                       LIMIT_REC_EPOCHS, optarg);
            }
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_THREADS, &o.params.n_threads)) {
                return cli_usage_error("recommend", "--threads must be 1..%d, got '%s'",
                                       LIMIT_THREADS, optarg);
            }
            break;
        case 's':
            if (!cli_parse_int(optarg, 0, 2147483647, &v)) {
                return cli_usage_error("recommend", "--seed must be 0..2147483647, got '%s'",
                                       optarg);
            }
            o.params.seed = (uint64_t)v;
            break;
        case 'k':
            if (!cli_parse_int(optarg, 1, LIMIT_REC_TOP, &o.top)) {
                return cli_usage_error("recommend", "--top must be 1..%d, got '%s'", LIMIT_REC_TOP,
                                       optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("recommend", "unknown option");
        }
    }
    if (optind < argc) {
        o.cmd = argv[optind++];
        if (strcmp(o.cmd, "train") != 0 && strcmp(o.cmd, "eval") != 0) {
            return cli_usage_error("recommend", "'%s' is not train or eval", o.cmd);
        }
        if (optind < argc) {
            return cli_usage_error("recommend", "unexpected argument '%s'", argv[optind]);
        }
    }
    int n_files = (o.files[0] != NULL) + (o.files[1] != NULL) + (o.files[2] != NULL);
    if (n_files != 0 && n_files != 3) {
        return cli_usage_error("recommend",
                               "--customers, --products and --transactions go together");
    }
    if (o.cmd != NULL) {
        if (o.customer != NULL || o.all) {
            return cli_usage_error("recommend", "--customer / --all do not go with %s", o.cmd);
        }
        return train(&o);
    }
    if ((o.customer != NULL) == o.all) {
        return cli_usage_error("recommend", "give train, eval, --customer ID or --all");
    }
    if (o.model == NULL) {
        o.model = o.name;
    }
    return recommend(&o);
}
