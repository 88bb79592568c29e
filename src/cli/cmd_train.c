// cmd_train.c — `prospect train`: a propensity model from any CSV with a binary target column
// (app_train: src/ml dataset -> experiment -> kinds/propmodel). Prints the notes about the columns, the
// metrics per fold / pooled out-of-fold / test split at the chosen threshold, the confusion matrix
// and the gain importance; saves model.json + run.json as the next version of --name.
#include <getopt.h>
#include <math.h>
#include <stdio.h>

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "cli_ml.h"
#include "dataset.h"
#include "experiment.h"
#include "fsx.h"
#include "mem.h"
#include "progress.h"
#include "propmodel.h"

#define MAX_DROP 256

static const char *const k_usage =
    "usage: prospect train --csv FILE --target COL [--positive VALUE] [--drop COLS] [--name NAME]\n"
    "                      [--target-recall R | --min-precision P] [--folds K] [--seed S]\n"
    "                      [--threads N] [--registry DIR] [--format table|json]\n"
    "\n"
    "Trains gradient-boosted trees (XGBoost) to predict a binary target column of any CSV:\n"
    "column types are inferred as `prospect import` does, categories are one-hot encoded,\n"
    "ID-like and constant columns are left out (with a note). A stratified test split (20 %) is\n"
    "held out; K-fold stratified cross-validation on the rest picks the decision threshold;\n"
    "the final model is measured on the test split and saved as the next version of NAME.\n"
    "\n"
    "  --csv FILE          training data (header row; RFC 4180; UTF-8)\n"
    "  --target COL        the binary target column\n"
    "  --positive VALUE    the positive class (default: 1 / yes / true of a yes-no column)\n"
    "  --drop COLS         comma-separated columns to leave out\n"
    "  --name NAME         model name (default: the CSV's file name)\n"
    "  --target-recall R   threshold for recall R on the cross-validation scores, with 95 %\n"
    "                      confidence (default 0.95)\n"
    "  --min-precision P   instead: the lowest threshold with precision >= P\n"
    "  --folds K           cross-validation folds (default 5)\n"
    "  --seed S            seed of the splits and of XGBoost (default 42)\n"
    "  --threads N         XGBoost threads (default 2)\n"
    "  --registry DIR      where models are kept (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --format F          table (default) or json (the run record)\n";

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

static void print_metrics_row(const char *label, const struct ml_metrics *m, int rounds)
{
    printf("  %-8s %7.4f %7.4f %9.4f %7.4f %7.4f %6zu %6zu %6zu %6zu", label, m->auc_roc, m->auc_pr,
           m->precision, m->recall, m->f1, m->cm.tp, m->cm.fp, m->cm.tn, m->cm.fn);
    if (rounds > 0) {
        printf(" %6d", rounds);
    }
    printf("\n");
}

static int cmp_gain_desc(const void *a, const void *b, void *user)
{
    const double *g = user;
    double x = g[*(const size_t *)a], y = g[*(const size_t *)b];
    return x > y ? -1 : x < y;
}

static void print_report(const struct ml_spec *spec, const struct ml_dataset *ds,
                         const struct ml_experiment_params *p, const struct ml_experiment *e,
                         const char *name, int version, const char *root)
{
    printf("data: %zu rows, %zu positive (%s = %s), %zu features\n", ds->n_rows, ds->n_pos,
           spec->target, spec->positive, spec->n_features);
    if (p->min_precision > 0) {
        printf("threshold %.4f: the lowest with out-of-fold precision >= %.2f\n", e->threshold,
               p->min_precision);
    } else {
        printf("threshold %.4f: out-of-fold recall >= %.2f with 95 %% confidence\n", e->threshold,
               p->target_recall);
    }
    printf("\n  %-8s %7s %7s %9s %7s %7s %6s %6s %6s %6s %6s\n", "split", "AUC-ROC", "AUC-PR",
           "precision", "recall", "F1", "TP", "FP", "TN", "FN", "rounds");
    for (size_t f = 0; f < e->n_folds; f++) {
        char label[32];
        snprintf(label, sizeof label, "fold %zu", f + 1);
        print_metrics_row(label, &e->folds[f], e->fold_rounds[f]);
    }
    print_metrics_row("cv", &e->cv, 0);
    print_metrics_row("test", &e->test, e->final_info.best_round);
    size_t nf = spec->n_features;
    size_t *order = px_malloc(nf * sizeof *order);
    if (order != NULL) {
        double total = 0;
        for (size_t k = 0; k < nf; k++) {
            order[k] = k;
            total += e->importance[k];
        }
        qsort_r(order, nf, sizeof *order, cmp_gain_desc, e->importance);
        printf("\nfeature importance (gain, share of the total):\n");
        for (size_t i = 0; i < nf && i < 20; i++) {
            size_t k = order[i];
            printf("  %-32s %10.2f %5.1f %%\n", spec->features[k].name, e->importance[k],
                   total > 0 ? 100 * e->importance[k] / total : 0);
        }
        px_free(order);
    }
    printf("\nsaved %s/%d in %s/%s/%d (model.json, run.json)\n", name, version, root, name,
           version);
}

int cmd_train(int argc, char **argv)
{
    const char *csv = NULL, *target = NULL, *positive = NULL, *root = app_registry_dir(NULL);
    char *drop_arg = NULL, name[80] = "";
    char *drop[MAX_DROP];
    size_t n_drop = 0;
    enum cli_format format = CLI_FORMAT_TABLE;
    struct ml_experiment_params p = ml_experiment_default_params();
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
        {"seed", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 'j'},
        {"registry", required_argument, NULL, 'R'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, v = 0;
    double d = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': csv = optarg; break;
        case 't': target = optarg; break;
        case 'p': positive = optarg; break;
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
        case 'k':
            if (!cli_parse_int(optarg, 2, 20, &v)) {
                return cli_usage_error("train", "--folds must be 2..20, got '%s'", optarg);
            }
            p.n_folds = v;
            break;
        case 's':
            if (!cli_parse_int(optarg, 0, 2147483646, &v)) {
                return cli_usage_error("train", "--seed must be 0..2147483646, got '%s'", optarg);
            }
            p.xgb.seed = (uint64_t)v;
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 256, &v)) {
                return cli_usage_error("train", "--threads must be 1..256, got '%s'", optarg);
            }
            p.xgb.n_threads = v;
            break;
        case 'R': root = optarg; break;
        case 'f':
            if (!cli_parse_format(optarg, &format) || format == CLI_FORMAT_CSV) {
                return cli_usage_error("train", "--format must be table or json, got '%s'", optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("train", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    }
    if (csv == NULL || target == NULL) {
        return cli_usage_error("train", "--csv FILE and --target COL are required");
    }
    if (have_recall && p.min_precision > 0) {
        return cli_usage_error("train", "give --target-recall or --min-precision, not both");
    }
    if (drop_arg != NULL) {
        n_drop = cli_split_list(drop_arg, drop, MAX_DROP);
    }
    if (name[0] == '\0') {
        default_name(csv, name, sizeof name);
    }

    struct px_err err = {0};
    struct app_trained t;
    int status = CLI_FAIL;
    struct app_train_params tp = {.csv = csv, .registry = root, .name = name, .exp = p};
    tp.build = (struct ml_build_params){.target = target,
                                        .positive = positive,
                                        .drop = (const char *const *)drop,
                                        .n_drop = n_drop};
    struct progress bar;
    progress_begin(&bar, "train", (uint64_t)p.n_folds + 1);
    int rc = app_train(&tp, on_progress, &bar, &t, &err);
    progress_end(&bar);
    if (rc != PX_OK) {
        return cli_fail("train", &err);
    }
    int version = t.version;
    for (size_t i = 0; i < t.spec.n_notes; i++) {
        fprintf(stderr, "prospect train: note: %s\n", t.spec.notes[i]);
    }
    if (format == CLI_FORMAT_JSON) {
        char path[4200], *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s/%d/run.json", root, name, version);
        if (fsx_read_file(path, 64u << 20, &text, &len, &err) != PX_OK) {
            status = cli_fail("train", &err);
            goto done;
        }
        // the record as written, plus the version the registry gave it (not in run.json: the
        // number is known only once the directory is published)
        cJSON *run = cJSON_ParseWithLength(text, len);
        px_free(text);
        if (run != NULL) {
            cJSON_DeleteItemFromObjectCaseSensitive(run, "version");
            cJSON_AddNumberToObject(run, "version", version);
        }
        char *s = run != NULL ? cJSON_Print(run) : NULL;
        cJSON_Delete(run);
        if (s == NULL) {
            fprintf(stderr, "prospect train: error: %s: cannot read the run record back\n", path);
            status = CLI_FAIL;
            goto done;
        }
        printf("%s\n", s);
        cJSON_free(s);
    } else {
        print_report(&t.spec, &t.ds, &p, &t.e, name, version, root);
    }
    status = CLI_OK;
done:
    app_trained_free(&t);
    return status;
}
