// cmd_recommend.c — `prospect recommend`: train / evaluate the GAT recommender against the
// popularity and matrix-factorisation baselines, and recommend products a customer does not
// hold, for one customer or (batch) every customer. A thin front end over app_rec.h: training,
// saving, the JSON and CSV documents and the atomic --out write are the app layer's; this file
// parses options, draws the progress bar and prints tables.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_rec.h"
#include "app_registry.h"
#include "buf.h"
#include "cli.h"
#include "limits.h"
#include "progress.h"

static const char *const k_usage =
    "usage: prospect recommend train|eval [--data DIR | --customers F --products F\n"
    "                                      --transactions F] [--name NAME] [--registry DIR]\n"
    "                                      [--epochs N] [--threads N] [--seed S]\n"
    "                                      [--format table|json|csv | --json]\n"
    "       prospect recommend --customer ID [--top 5] [--model NAME[/VERSION]]\n"
    "                                      [--format table|json|csv | --json]\n"
    "       prospect recommend --all [--top 5] [--out FILE] [--model NAME[/VERSION]] [--json]\n"
    "\n"
    "train reads the wholesale book's three CSVs (prospect generate --kind wholesale), builds the\n"
    "customer-product graph, trains a two-layer graph attention network for link prediction on\n"
    "the oldest 80% of customer-product pairs (10% validation for early stopping), and reports\n"
    "recall@5, recall@10, NDCG@10 and hit rate on the newest 10% beside a popularity and a\n"
    "matrix-factorisation baseline trained in the same run; then saves the model as the next\n"
    "version of registry/NAME/ (a registry bundle: model.bin, recommender.json, MLmodel,\n"
    "manifest.json; see prospect bundle list). eval does the same without saving.\n"
    "\n"
    "--customer ID lists the top products the customer does not already hold, with scores (the\n"
    "JSON is the document GET /api/customers/ID/recommendations answers). --all writes\n"
    "customer_id,rank,product_id,product,score for every customer as CSV, or with --json one\n"
    "such document per line (JSON Lines); --out FILE writes it atomically (a temporary file\n"
    "renamed into place, none left on failure) instead of to stdout.\n"
    "\n"
    "  --data DIR          directory with customers.csv, products.csv, transactions.csv\n"
    "                      (default ./wholesale)\n"
    "  --name NAME         model name (default recommender)\n"
    "  --registry DIR      model directory (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --model REF         registry model to recommend with: NAME (production stage, else the\n"
    "                      newest version), NAME/VERSION or NAME@STAGE (default: --name)\n"
    "  --epochs N          most training epochs (default 200; early stopping on validation)\n"
    "  --threads N         threads (default 2)\n"
    "  --seed S            random seed (default 42)\n"
    "  --top N             products per customer (default 5)\n"
    "  --format F          table (default), json or csv; --json is short for --format json\n";

struct opts {
    const char *cmd; // "train", "eval" or NULL
    const char *model, *customer, *out;
    bool all;
    int top;
    enum cli_format format;
    struct app_rec_train_params train;
};

static void on_progress(void *user, int epoch, int epochs, double val)
{
    struct progress *bar = user;
    (void)epochs;
    progress_update(bar, (uint64_t)epoch);
    if (g_cli_verbose) {
        fprintf(stderr, "epoch %d: validation recall@10 %.4f\n", epoch, val);
    }
}

// Writes a document the app built (CSV rows end their own lines) to stdout.
static int print_text(const struct buf *doc)
{
    if (doc->len > 0 && fwrite(doc->data, 1, doc->len, stdout) != doc->len) {
        fprintf(stderr, "prospect recommend: error: cannot write to standard output\n");
        return CLI_FAIL;
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

static void print_scores_row(const char *name, const struct app_rec_scores *s)
{
    printf("%-24s %9.4f %9.4f %9.4f %9.4f\n", name, s->recall5, s->recall10, s->ndcg10,
           s->hit10);
}

static void print_report(const struct app_rec_trained *t)
{
    printf("%zu customers, %zu products, %zu transactions -> %zu customer-product pairs\n",
           t->customers, t->products, t->transactions, t->pairs);
    printf("time-ordered split: %zu train, %zu validation, %zu test pairs; %zu customers "
           "with test pairs\n",
           t->train_pairs, t->validation_pairs, t->test_pairs, t->gat.customers);
    printf("GAT: %d epochs (best %d, validation recall@10 %.4f), %.1f s; whole run %.1f s\n\n",
           t->epochs_run, t->best_epoch, t->best_validation_recall10, t->seconds_gat,
           t->seconds_total);
    printf("%-24s %9s %9s %9s %9s\n", "model", "recall@5", "recall@10", "NDCG@10", "hit@10");
    print_scores_row("GAT", &t->gat);
    print_scores_row("popularity", &t->popularity);
    print_scores_row("matrix factorisation", &t->mf);
    double ratio = t->popularity.recall10 > 0 ? t->gat.recall10 / t->popularity.recall10 : 0;
    printf("\nGAT recall@10 / popularity: %.2fx; per-customer lift %+.4f (s.e. %.4f): %s\n", ratio,
           t->lift_mean, t->lift_se,
           t->beats_popularity ? "the GAT beats popularity"
                               : "no claim: the GAT does not clearly beat popularity");
}

static int train(struct opts *o)
{
    struct px_err err = {0};
    struct app_rec_trained t;
    struct progress bar;
    bool save = strcmp(o->cmd, "train") == 0;
    if (!save) {
        o->train.name = NULL;
    }
    progress_begin(&bar, "train", (uint64_t)o->train.epochs);
    int rc = app_rec_train(&o->train, on_progress, &bar, &t, &err);
    progress_end(&bar);
    if (rc != PX_OK) {
        return cli_fail("recommend", &err);
    }
    if (o->format == CLI_FORMAT_TABLE) {
        print_report(&t);
        if (t.version > 0) {
            printf("saved %s/%s\n", o->train.registry, t.model);
        }
        return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    rc = o->format == CLI_FORMAT_JSON ? app_rec_trained_json(&t, &doc, &err)
                                      : app_rec_trained_csv(&t, &doc, &err);
    int ret = rc != PX_OK                     ? cli_fail("recommend", &err)
              : o->format == CLI_FORMAT_JSON ? cli_print_json("recommend", &doc)
                                              : print_text(&doc);
    buf_free(&doc);
    return ret;
}

static int stdout_sink(void *user, const char *data, size_t len, struct px_err *err)
{
    (void)user;
    if (fwrite(data, 1, len, stdout) != len) {
        return px_fail(err, PX_EIO, "cannot write to standard output");
    }
    return PX_OK;
}

static int recommend(struct opts *o)
{
    struct px_err err = {0};
    struct app_rec *rec = NULL;
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    struct app_rec_params rp = {o->train.registry, o->model, NULL};
    int rc = app_rec_open(&rp, &rec, &err), ret = CLI_OK;
    if (rc == PX_OK && o->all) {
        enum app_rec_format f = o->format == CLI_FORMAT_JSON ? APP_REC_JSONL : APP_REC_CSV;
        size_t n = 0;
        if (o->out != NULL) {
            rc = app_rec_recommend_all_file(rec, (size_t)o->top, f, o->out, &n, &err);
            if (rc == PX_OK) {
                fprintf(stderr, "wrote %s: top %d products for %zu customers\n", o->out, o->top,
                        n);
            }
        } else {
            rc = app_rec_recommend_all(rec, (size_t)o->top, f, stdout_sink, NULL, &n, &err);
            if (rc == PX_OK && fflush(stdout) != 0) {
                rc = px_fail(&err, PX_EIO, "cannot write to standard output");
            }
        }
    } else if (rc == PX_OK && o->format == CLI_FORMAT_TABLE) {
        struct app_rec_list l;
        rc = app_rec_recommend(rec, o->customer, (size_t)o->top, &l, &err);
        if (rc == PX_OK) {
            printf("Customer %s (%s) holds %zu products; model %s\n", l.customer_id,
                   l.customer_label, l.held, app_rec_model_name(rec));
            for (size_t k = 0; k < l.n; k++) {
                printf("%2zu. %-12s %-40s %8.4f\n", k + 1, l.picks[k].product_id,
                       l.picks[k].product, l.picks[k].score);
            }
            ret = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
        }
        app_rec_list_free(&l);
    } else if (rc == PX_OK && o->format == CLI_FORMAT_JSON) {
        rc = app_rec_recommend_json(rec, o->customer, (size_t)o->top, &doc, &err);
        if (rc == PX_OK) {
            ret = cli_print_json("recommend", &doc);
        }
    } else if (rc == PX_OK) {
        rc = app_rec_recommend_csv(rec, o->customer, (size_t)o->top, true, &doc, &err);
        if (rc == PX_OK) {
            ret = print_text(&doc);
        }
    }
    if (rc != PX_OK) {
        ret = cli_fail("recommend", &err);
    }
    buf_free(&doc);
    app_rec_close(rec);
    return ret;
}

int cmd_recommend(int argc, char **argv)
{
    struct opts o = {0};
    o.train = app_rec_train_default_params();
    o.train.name = "recommender";
    o.train.registry = app_registry_dir(NULL);
    o.top = 5;
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
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, v;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int frc = cli_format_option("recommend", ch, optarg, &o.format);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case 'd': o.train.data = optarg; break;
        case 'C': o.train.files[0] = optarg; break;
        case 'P': o.train.files[1] = optarg; break;
        case 'T': o.train.files[2] = optarg; break;
        case 'n': o.train.name = optarg; break;
        case 'r': o.train.registry = optarg; break;
        case 'm': o.model = optarg; break;
        case 'c': o.customer = optarg; break;
        case 'a': o.all = true; break;
        case 'o': o.out = optarg; break;
        case 'e':
            if (!cli_parse_int(optarg, 1, LIMIT_REC_EPOCHS, &o.train.epochs)) {
                return cli_usage_error("recommend", "--epochs must be 1..%d, got '%s'",
                                       LIMIT_REC_EPOCHS, optarg);
            }
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_THREADS, &o.train.n_threads)) {
                return cli_usage_error("recommend", "--threads must be 1..%d, got '%s'",
                                       LIMIT_THREADS, optarg);
            }
            break;
        case 's':
            if (!cli_parse_int(optarg, 0, 2147483647, &v)) {
                return cli_usage_error("recommend", "--seed must be 0..2147483647, got '%s'",
                                       optarg);
            }
            o.train.seed = (uint64_t)v;
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
    int n_files = (o.train.files[0] != NULL) + (o.train.files[1] != NULL) +
                  (o.train.files[2] != NULL);
    if (n_files != 0 && n_files != 3) {
        return cli_usage_error("recommend",
                               "--customers, --products and --transactions go together");
    }
    if (o.cmd != NULL) {
        if (o.customer != NULL || o.all || o.out != NULL) {
            return cli_usage_error("recommend", "--customer / --all / --out do not go with %s",
                                   o.cmd);
        }
        return train(&o);
    }
    if ((o.customer != NULL) == o.all) {
        return cli_usage_error("recommend", "give train, eval, --customer ID or --all");
    }
    if (o.out != NULL && !o.all) {
        return cli_usage_error("recommend", "--out goes with --all");
    }
    if (o.model == NULL) {
        o.model = o.train.name;
    }
    return recommend(&o);
}
