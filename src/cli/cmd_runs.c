// cmd_runs.c — `prospect runs list|best`: the run records of trained models (src/ml/propmodel.h).
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app_registry.h"
#include "cli.h"
#include "cli_ml.h"
#include "mem.h"
#include "propmodel.h"

static const char *const k_usage =
    "usage: prospect runs list [--name NAME] [--format table|json|csv] [--registry DIR]\n"
    "       prospect runs best --metric M [--split test|cv] [--name NAME] [--format F]\n"
    "\n"
    "list: every saved version with its threshold and metrics (test split and pooled\n"
    "cross-validation). best: the run with the highest M (auc_roc, auc_pr, precision, recall,\n"
    "f1) on the test split (or --split cv); ties go to the newest.\n";

static void print_runs(enum cli_format fmt, const struct propmodel_run *r, size_t n)
{
    if (fmt == CLI_FORMAT_JSON) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            printf("%s\n  {\"name\": ", i ? "," : "");
            cli_json_string(stdout, r[i].name);
            printf(", \"version\": %d, \"created\": ", r[i].version);
            cli_json_string(stdout, r[i].created);
            printf(", \"threshold\": ");
            cli_json_number(stdout, r[i].threshold);
            for (int s = 0; s < 2; s++) {
                printf(", \"%s\": {", s ? "cv" : "test");
                for (int k = 0; k < 5; k++) {
                    printf("%s\"%s\": ", k ? ", " : "", propmodel_metric_names[k]);
                    cli_json_number(stdout, s ? r[i].cv[k] : r[i].test[k]);
                }
                printf("}");
            }
            printf("}");
        }
        printf("\n]\n");
        return;
    }
    if (fmt == CLI_FORMAT_CSV) {
        printf("name,version,created,threshold");
        for (int s = 0; s < 2; s++) {
            for (int k = 0; k < 5; k++) {
                printf(",%s_%s", s ? "cv" : "test", propmodel_metric_names[k]);
            }
        }
        printf("\n");
        for (size_t i = 0; i < n; i++) {
            cli_csv_field(stdout, r[i].name);
            printf(",%d,%s,%.6g", r[i].version, r[i].created, r[i].threshold);
            for (int k = 0; k < 5; k++) {
                printf(",%.6g", r[i].test[k]);
            }
            for (int k = 0; k < 5; k++) {
                printf(",%.6g", r[i].cv[k]);
            }
            printf("\n");
        }
        return;
    }
    printf("%-24s %4s %-20s %9s %8s %8s %8s %8s %8s %8s\n", "name", "ver", "created", "threshold",
           "auc_roc", "auc_pr", "prec", "recall", "f1", "cv_auc");
    for (size_t i = 0; i < n; i++) {
        printf("%-24s %4d %-20s %9.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f\n", r[i].name,
               r[i].version, r[i].created, r[i].threshold, r[i].test[0], r[i].test[1], r[i].test[2],
               r[i].test[3], r[i].test[4], r[i].cv[0]);
    }
}

int cmd_runs(int argc, char **argv)
{
    const char *name = NULL, *metric = NULL, *split = "test", *root = app_registry_dir(NULL);
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
        {"format", required_argument, NULL, 'f'},
        {"registry", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': name = optarg; break;
        case 'm': metric = optarg; break;
        case 's': split = optarg; break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage_error("runs", "--format must be table, json or csv");
            }
            break;
        case 'R': root = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("runs", "unknown option");
        }
    }
    if (optind < argc - 1) {
        return cli_usage_error("runs", "unexpected argument '%s'", argv[optind + 1]);
    }
    int mi = 0;
    if (best) {
        if (metric == NULL || (mi = propmodel_metric_index(metric)) < 0) {
            return cli_usage_error("runs",
                                   "best needs --metric auc_roc|auc_pr|precision|recall|f1");
        }
        if (strcmp(split, "test") != 0 && strcmp(split, "cv") != 0) {
            return cli_usage_error("runs", "--split must be test or cv");
        }
    }
    struct px_err err = {0};
    struct propmodel_run *runs = NULL;
    size_t n = 0, n_bad = 0;
    if (propmodel_list(root, name, &runs, &n, &n_bad, &err) != PX_OK) {
        return cli_fail("runs", &err);
    }
    if (n_bad > 0) {
        fprintf(stderr, "prospect runs: %zu run record%s could not be read (skipped)\n", n_bad,
                n_bad == 1 ? "" : "s");
    }
    int status = CLI_OK;
    if (n == 0) {
        px_fail(&err, PX_ENOENT, "no runs%s%s in %s", name ? " of " : "", name ? name : "", root);
        status = cli_fail("runs", &err);
    } else if (best) {
        size_t b = n;
        bool cv = strcmp(split, "cv") == 0;
        for (size_t i = 0; i < n; i++) {
            double v = cv ? runs[i].cv[mi] : runs[i].test[mi];
            double bv = b < n ? (cv ? runs[b].cv[mi] : runs[b].test[mi]) : -INFINITY;
            bool newer = b < n && strcmp(runs[i].created, runs[b].created) >= 0;
            if (isfinite(v) && (v > bv || (v == bv && newer))) {
                b = i;
            }
        }
        if (b == n) {
            px_fail(&err, PX_ENOENT, "no run has a %s %s", split, metric);
            status = cli_fail("runs", &err);
        } else {
            print_runs(fmt, &runs[b], 1);
        }
    } else {
        print_runs(fmt, runs, n);
    }
    px_free(runs);
    return status;
}
