// cmd_train.c — `prospect train`: a propensity model from any CSV with a binary target column
// (app_train: data set -> experiment -> the next registry version). Prints the notes about the
// columns (stderr), then the training answer: as a table (metrics per fold / pooled out-of-fold /
// test split at the chosen threshold, the confusion matrix, gain importance), as CSV (one row
// per split) or as JSON — the saved run record with its id and version, the document
// GET /api/models/{id} returns.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "limits.h"
#include "progress.h"

#define MAX_DROP 256

static const char *const k_usage =
    "usage: prospect train --csv FILE --target COL [--positive VALUE] [--drop COLS] [--name NAME]\n"
    "                      [--target-recall R | --min-precision P | --top K] [--folds K]\n"
    "                      [--seed S]"
    " [--threads N] [--registry DIR] [--format table|json|csv] [--json]\n"
    "\n"
    "Trains gradient-boosted trees (XGBoost) to predict a binary target column of any CSV:\n"
    "column types are inferred as `prospect import` does, categories are one-hot encoded,\n"
    "ID-like and constant columns are left out (with a note). A stratified test split (20 %) is\n"
    "held out; K-fold stratified cross-validation on the rest chooses the hyperparameters from\n"
    "a grid (learning rate 0.1 / 0.3, depth 3 / 6, min child weight 1 / 5, class weighting on /\n"
    "off; rounds by early stopping on the held-out fold's AUC), fits an isotonic calibration on\n"
    "the out-of-fold scores (probabilities one can read as rates) and picks the decision\n"
    "threshold on the calibrated scores; the final model is measured on the test split and\n"
    "saved as the next version of NAME.\n"
    "\n"
    "  --csv FILE          training data (header row; RFC 4180; UTF-8)\n"
    "  --target COL        the binary target column\n"
    "  --positive VALUE    the positive class (default: 1 / yes / true of a yes-no column)\n"
    "  --drop COLS         comma-separated columns to leave out\n"
    "  --name NAME         model name (default: the CSV's file name)\n"
    "  --target-recall R   threshold for recall R on the cross-validation scores, with 95 %\n"
    "                      confidence (default 0.95)\n"
    "  --min-precision P   instead: the lowest threshold with precision >= P\n"
    "  --top K             instead: a budget: the threshold that puts the K most likely of the\n"
    "                      training rows at or above it\n"
    "  --folds K           cross-validation folds (default 5)\n"
    "  --seed S            seed of the splits and of XGBoost (default 42)\n"
    "  --threads N         XGBoost threads (default 2)\n"
    "  --registry DIR      where models are kept (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --format F          table (default), csv (metrics per split) or json (the run record, as\n"
    "                      GET /api/models/NAME@VERSION returns it); --json is --format json\n";

static void on_progress(size_t done, size_t total, void *user)
{
    struct progress *bar = user;
    bar->total = total;
    progress_update(bar, done);
}

static void default_name(const char *csv, char *out, size_t n)
{
    const char *b = strrchr(csv, '/');
    b = b ? b + 1 : csv;
    size_t k = 0;
    for (; *b && *b != '.' && k + 1 < n && k < 64; b++) {
        char c = *b;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        out[k++] = ok ? c : '_';
    }
    out[k] = '\0';
    if (k == 0) {
        snprintf(out, n, "model");
    }
}

static void print_metrics_row(const char *label, const struct app_prop_metrics *m, bool csv)
{
    if (csv) {
        printf("%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%zu,%zu,%zu,%zu,%d\n", label, m->auc_roc,
               m->auc_pr, m->precision, m->recall, m->f1, m->threshold, m->tp, m->fp, m->tn, m->fn,
               m->rounds);
        return;
    }
    printf("  %-8s %7.4f %7.4f %9.4f %7.4f %7.4f %6zu %6zu %6zu %6zu", label, m->auc_roc, m->auc_pr,
           m->precision, m->recall, m->f1, m->tp, m->fp, m->tn, m->fn);
    if (m->rounds > 0) {
        printf(" %6d", m->rounds);
    }
    printf("\n");
}

static void print_splits(const struct app_train_view *v, bool csv)
{
    char label[32];
    for (size_t f = 0; f < v->n_folds; f++) {
        snprintf(label, sizeof label, csv ? "fold%zu" : "fold %zu", f + 1);
        print_metrics_row(label, &v->folds[f], csv);
    }
    print_metrics_row("cv", &v->cv, csv);
    print_metrics_row("test", &v->test, csv);
}

static void print_report(const struct app_train_view *v, const char *root)
{
    printf("data: %zu rows, %zu positive (%s = %s), %zu features\n", v->n_rows, v->n_pos,
           v->target, v->positive, v->n_features);
    printf("grid: %zu cells; chosen: eta %g, depth %d, min child weight %g, %s, %d rounds "
           "(out-of-fold %s %.4f)\n",
           v->n_cells, v->eta, v->max_depth, v->min_child_weight,
           v->balanced ? "positives weighted n_neg/n_pos" : "no class weighting", v->rounds,
           v->cv_metric, v->cv_score);
    printf("calibration: %s; Brier %.4f -> %.4f out-of-fold (cross-fitted), %.4f -> %.4f on the "
           "test split\n",
           v->calibrated ? "isotonic on out-of-fold scores"
                         : "none (isotonic did not lower the cross-fitted Brier score)",
           v->brier_before, v->brier_after, v->test_brier_before, v->test_brier_after);
    if (v->top_k > 0) {
        printf("threshold %.4f: a budget of the %zu most likely rows\n", v->threshold, v->top_k);
    } else if (v->min_precision > 0) {
        printf("threshold %.4f: the lowest with out-of-fold precision >= %.2f\n", v->threshold,
               v->min_precision);
    } else {
        printf("threshold %.4f: out-of-fold recall >= %.2f with 95 %% confidence\n", v->threshold,
               v->target_recall);
    }
    printf("\n  %-8s %7s %7s %9s %7s %7s %6s %6s %6s %6s %6s\n", "split", "AUC-ROC", "AUC-PR",
           "precision", "recall", "F1", "TP", "FP", "TN", "FN", "rounds");
    print_splits(v, false);
    printf("\nfeature importance (gain, share of the total):\n");
    for (size_t i = 0; i < v->n_features && i < 20; i++) {
        printf("  %-32s %10.2f %5.1f %%\n", v->gain[i].feature, v->gain[i].gain,
               100 * v->gain[i].share);
    }
    printf("\nsaved %s/%d in %s/%s/%d (model.json, run.json)\n", v->name, v->version, root,
           v->name, v->version);
}

int cmd_train(int argc, char **argv)
{
    const char *root = app_registry_dir(NULL);
    char *drop_arg = NULL, name[80] = "";
    char *drop[MAX_DROP];
    enum cli_format format = CLI_FORMAT_TABLE;
    struct app_train_params p = app_train_default_params();
    bool have_recall = false;
    static const struct option opts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"target", required_argument, NULL, 't'},
        {"positive", required_argument, NULL, 'p'},
        {"drop", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"target-recall", required_argument, NULL, 'r'},
        {"min-precision", required_argument, NULL, 'P'},
        {"folds", required_argument, NULL, 'k'},
        {"top", required_argument, NULL, 'T'},
        {"seed", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'j'},
        {"registry", required_argument, NULL, 'R'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, v = 0;
    double d = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int f = cli_format_option("train", ch, optarg, &format);
        if (f >= 0) {
            if (f != CLI_OK) {
                return f;
            }
            continue;
        }
        switch (ch) {
        case 'c': p.csv = optarg; break;
        case 't': p.target = optarg; break;
        case 'p': p.positive = optarg; break;
        case 'd': drop_arg = optarg; break;
        case 'n': snprintf(name, sizeof name, "%s", optarg); break;
        case 'r':
            if (!cli_parse_double(optarg, 0.01, 1.0, &d)) {
                return cli_usage_error("train", "--target-recall must be in (0, 1], got '%s'",
                                       optarg);
            }
            p.target_recall = d;
            have_recall = true;
            break;
        case 'P':
            if (!cli_parse_double(optarg, 0.01, 1.0, &d)) {
                return cli_usage_error("train", "--min-precision must be in (0, 1], got '%s'",
                                       optarg);
            }
            p.min_precision = d;
            break;
        case 'T':
            if (!cli_parse_int(optarg, 1, 2147483646, &v)) {
                return cli_usage_error("train", "--top must be a positive count, got '%s'",
                                       optarg);
            }
            p.top_k = (size_t)v;
            break;
        case 'k':
            if (!cli_parse_int(optarg, 2, 20, &v)) {
                return cli_usage_error("train", "--folds must be 2..20, got '%s'", optarg);
            }
            p.folds = v;
            break;
        case 's':
            if (!cli_parse_int(optarg, 0, 2147483646, &v)) {
                return cli_usage_error("train", "--seed must be 0..2147483646, got '%s'", optarg);
            }
            p.seed = (uint64_t)v;
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 256, &v)) {
                return cli_usage_error("train", "--threads must be 1..256, got '%s'", optarg);
            }
            p.n_threads = v;
            break;
        case 'R': root = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("train", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    }
    if (p.csv == NULL || p.target == NULL) {
        return cli_usage_error("train", "--csv FILE and --target COL are required");
    }
    if ((have_recall ? 1 : 0) + (p.min_precision > 0 ? 1 : 0) + (p.top_k > 0 ? 1 : 0) > 1) {
        return cli_usage_error("train", "give one of --target-recall, --min-precision, --top");
    }
    if (drop_arg != NULL) {
        p.n_drop = cli_split_list(drop_arg, drop, MAX_DROP);
        p.drop = (const char *const *)drop;
    }
    if (name[0] == '\0') {
        default_name(p.csv, name, sizeof name);
    }
    p.name = name;
    p.registry = root;

    struct px_err err = {0};
    struct app_prop_trained *t = NULL;
    struct progress bar;
    progress_begin(&bar, "train", (uint64_t)p.folds + 1);
    int rc = app_train(&p, on_progress, &bar, &t, &err);
    progress_end(&bar);
    if (rc != PX_OK) {
        return cli_fail("train", &err);
    }
    const struct app_train_view *tv = app_prop_trained_view(t);
    for (size_t i = 0; i < tv->n_notes; i++) {
        fprintf(stderr, "prospect train: note: %s\n", tv->notes[i]);
    }
    int status = CLI_OK;
    if (format == CLI_FORMAT_JSON) {
        struct buf doc;
        buf_init(&doc, LIMIT_HTTP_RESPONSE);
        status = app_prop_run_json(root, tv->id, &doc, &err) == PX_OK
                     ? cli_print_json("train", &doc)
                     : cli_fail("train", &err);
        buf_free(&doc);
    } else if (format == CLI_FORMAT_CSV) {
        printf("split,auc_roc,auc_pr,precision,recall,f1,threshold,tp,fp,tn,fn,rounds\n");
        print_splits(tv, true);
        fprintf(stderr, "prospect train: saved %s in %s\n", tv->id, tv->dir);
    } else {
        print_report(tv, root);
    }
    app_prop_trained_free(t);
    return status;
}
