// cmd_runs.c — `prospect runs list|best`: the run records of trained propensity models
// (app_prop_runs_list). --format json prints the answer's document, the one GET /api/models
// returns (best adds what it ranked by); the table and CSV read its view.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "limits.h"

static const char *const k_usage =
    "usage: prospect runs list [--name NAME] [--format table|json|csv] [--json] [--registry DIR]\n"
    "       prospect runs best [--metric M] [--split test|cv] [--name NAME] [--format F]\n"
    "\n"
    "list: every saved version with its threshold and metrics (test split and pooled\n"
    "cross-validation). best: the run with the highest M (auc_roc, auc_pr, precision, recall,\n"
    "f1; default " APP_PROP_DEFAULT_METRIC ", the threshold-free ranking quality of a binary model) on the\n"
    "test split (or --split cv); ties go to the newest. --format json prints the document\n"
    "GET /api/models returns; --json is --format json.\n";

static void print_runs(enum cli_format fmt, const struct app_runs_view *v)
{
    const struct app_prop_run *r = v->runs;
    if (fmt == CLI_FORMAT_CSV) {
        printf("name,version,created,threshold");
        for (int s = 0; s < 2; s++) {
            for (int k = 0; k < APP_PROP_N_METRICS; k++) {
                printf(",%s_%s", s ? "cv" : "test", app_prop_metric_names[k]);
            }
        }
        printf("\n");
        for (size_t i = 0; i < v->n; i++) {
            cli_csv_field(stdout, r[i].name);
            printf(",%d,%s,%.6g", r[i].version, r[i].created, r[i].threshold);
            for (int k = 0; k < APP_PROP_N_METRICS; k++) {
                printf(",%.6g", r[i].test[k]);
            }
            for (int k = 0; k < APP_PROP_N_METRICS; k++) {
                printf(",%.6g", r[i].cv[k]);
            }
            printf("\n");
        }
        return;
    }
    if (v->metric != NULL) {
        printf("best by %s on the %s split:\n", v->metric,
               strcmp(v->split, "cv") == 0 ? "pooled cross-validation" : "test");
    }
    printf("%-24s %4s %-20s %9s %8s %8s %8s %8s %8s %8s\n", "name", "ver", "created", "threshold",
           "auc_roc", "auc_pr", "prec", "recall", "f1", "cv_auc");
    for (size_t i = 0; i < v->n; i++) {
        printf("%-24s %4d %-20s %9.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f\n", r[i].name,
               r[i].version, r[i].created, r[i].threshold, r[i].test[0], r[i].test[1], r[i].test[2],
               r[i].test[3], r[i].test[4], r[i].cv[0]);
    }
}

int cmd_runs(int argc, char **argv)
{
    const char *name = NULL, *metric = NULL, *split = NULL, *root = app_registry_dir(NULL);
    enum cli_format fmt = CLI_FORMAT_TABLE;
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            fputs(k_usage, stdout);
            return CLI_OK;
        }
        return cli_usage_error("runs", "say list or best");
    }
    const char *sub = argv[1];
    bool best = strcmp(sub, "best") == 0;
    if (!best && strcmp(sub, "list") != 0) {
        return cli_usage_error("runs", "'%s': say list or best", sub);
    }
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"metric", required_argument, NULL, 'm'},
        {"split", required_argument, NULL, 's'},
        {"registry", required_argument, NULL, 'R'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        int f = cli_format_option("runs", ch, optarg, &fmt);
        if (f >= 0) {
            if (f != CLI_OK) {
                return f;
            }
            continue;
        }
        switch (ch) {
        case 'n': name = optarg; break;
        case 'm': metric = optarg; break;
        case 's': split = optarg; break;
        case 'R': root = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("runs", "unknown option");
        }
    }
    if (optind < argc - 1) {
        return cli_usage_error("runs", "unexpected argument '%s'", argv[optind + 1]);
    }
    if (!best && (metric != NULL || split != NULL)) {
        return cli_usage_error("runs", "--metric and --split go with runs best");
    }
    if (metric != NULL && app_prop_metric_index(metric) < 0) {
        return cli_usage_error("runs", "--metric must be auc_roc, auc_pr, precision, recall or f1");
    }
    if (split != NULL && strcmp(split, "test") != 0 && strcmp(split, "cv") != 0) {
        return cli_usage_error("runs", "--split must be test or cv");
    }
    struct px_err err = {0};
    struct app_prop_runs *runs = NULL;
    if (app_prop_runs_list(root, name, &runs, &err) != PX_OK) {
        return cli_fail("runs", &err);
    }
    const struct app_runs_view *v = app_prop_runs_view(runs);
    if (v->skipped > 0) {
        fprintf(stderr, "prospect runs: %zu run record%s could not be read (skipped)\n",
                v->skipped, v->skipped == 1 ? "" : "s");
    }
    int status = CLI_OK;
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    if (v->n == 0) {
        px_fail(&err, PX_ENOENT, "no runs%s%s in %s", name ? " of " : "", name ? name : "",
                v->registry);
        status = cli_fail("runs", &err);
    } else if (best && app_prop_runs_best(runs, metric, split, &err) != PX_OK) {
        status = cli_fail("runs", &err);
    } else if (fmt == CLI_FORMAT_JSON) {
        status = app_prop_runs_json(runs, &doc, &err) == PX_OK ? cli_print_json("runs", &doc)
                                                               : cli_fail("runs", &err);
    } else {
        print_runs(fmt, v);
    }
    buf_free(&doc);
    app_prop_runs_free(runs);
    return status;
}
