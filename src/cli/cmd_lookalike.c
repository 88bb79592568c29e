// cmd_lookalike.c — `prospect lookalike` and `prospect tipping`.
//
// lookalike: List A = for every positive row its k nearest negatives (de-duplicated, by
// distance); List B = the negatives ranked by the model's probability, as many as List A.
// --features lists what may change (a row's tipping feature is the largest |SHAP| among them;
// default: what app_prop_lookalike decides from the data, said as "held fixed"). tipping: for
// List A and List B, steps each row below the threshold on its tipping feature towards the
// training maximum until the probability reaches the threshold, and summarises per feature (in
// its own unit) how many tip and at what average change.
//
// The work is app_prop_lookalike (app_prop.h): vectors are each row's profile text embedded by
// the sentence-transformer when its weights are present, else the standardised model features;
// every output says which (table header, JSON "vectors", CSV: a line on stderr). --format json
// prints the answer's document (what GET /api/models/{id}/lookalike and /tipping return); the
// table and CSV read its view.
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "limits.h"

#define MAX_FEATURES 64

static const char *const k_usage_look =
    "usage: prospect lookalike --model NAME[/VERSION] --csv FILE [--k 1] [--features F1,F2]\n"
    "                          [--top N] [--format table|json|csv] [--json] [--registry DIR]\n"
    "                          [--vectors auto|text|features] [--embedder DIR] [--threads N]\n"
    "       prospect tipping   --model NAME[/VERSION] --csv FILE [--k 1] [--features F1,F2]\n"
    "                          [--real-step X] [--top N] [--format table|json|csv] [--json]\n"
    "                          [--vectors ...] [--embedder DIR] [--threads N] [--registry DIR]\n"
    "\n"
    "lookalike: List A, the negatives nearest to each positive (k per positive, de-duplicated,\n"
    "by distance), and List B, the negatives ranked by probability (as many as List A).\n"
    "--features lists what may change: a row's tipping feature is the largest |SHAP| among them\n"
    "(default: every numeric feature but dates, age-like ones and those moving with them,\n"
    "as the answer says); rows already at or above the threshold are not stepped.\n"
    "tipping: for both lists, steps each row's tipping feature towards the data's maximum (by 1\n"
    "for whole-number features, by --real-step, default (max - min) / 100, for real ones) until\n"
    "the probability reaches the model's threshold; prints the tipping value, the change and the\n"
    "new probability, or 'max value reached', and how many of each list tip.\n"
    "The CSV needs the model's features and its target column.\n"
    "Vectors (--vectors): auto (default) embeds each row's profile text (\"Age: 45, Income:\n"
    "...\", the model's columns less the id and target) with the sentence-transformer\n"
    "(--embedder DIR, else the usual model lookup) when its weights are present, else uses the\n"
    "standardised model features; text requires the embeddings; features never embeds.\n"
    "The output says which vectors were used. --format json prints the document\n"
    "GET /api/models/{id}/lookalike (or /tipping) returns; --json is --format json.\n";

static void print_list(const char *title, const struct app_look_entry *l, size_t n, bool tipping,
                       enum cli_format fmt)
{
    if (fmt == CLI_FORMAT_TABLE) {
        printf("\n%s (%zu rows)\n", title, n);
    }
    for (size_t i = 0; i < n; i++) {
        const struct app_look_entry *x = &l[i];
        const char *feat = x->tipping_feature ? x->tipping_feature : "";
        if (fmt == CLI_FORMAT_CSV) {
            printf("%s,", title);
            cli_csv_field(stdout, x->name);
            printf(",%.6f,", x->probability);
            if (x->near != NULL) {
                printf("%.6f,", x->dist);
                cli_csv_field(stdout, x->near);
            } else {
                printf(",");
            }
            printf(",");
            cli_csv_field(stdout, feat);
            if (tipping) {
                if (x->tipping_feature != NULL) {
                    printf(",%g,%g,%g,%.6f,%d", x->from, x->to, x->to - x->from,
                           x->new_probability, x->tipped);
                } else {
                    printf(",,,,,0");
                }
            }
            printf("\n");
            continue;
        }
        printf("  %-12s p %.4f", x->name, x->probability);
        if (x->near != NULL) {
            printf("  dist %7.4f (near %s)", x->dist, x->near);
        }
        printf("  tipping: %s", feat);
        if (tipping && x->above) {
            printf(" (already at or above the threshold)");
        } else if (tipping && x->tipping_feature != NULL) {
            if (x->tipped) {
                printf(" %g -> %g (%+g), p %.4f", x->from, x->to, x->to - x->from,
                       x->new_probability);
            } else {
                printf(" %g -> %g: max value reached, p %.4f", x->from, x->to, x->new_probability);
            }
        }
        printf("\n");
    }
}

static int run_cmd(const char *cmd, bool tipping, int argc, char **argv)
{
    const char *model = NULL, *csv = NULL, *root = app_registry_dir(NULL);
    char *feat_arg = NULL, *feat_names[MAX_FEATURES];
    int k = 1, top = 0, threads = 2;
    struct app_look_params lp = app_look_default_params();
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"csv", required_argument, NULL, 'c'},
        {"k", required_argument, NULL, 'k'},
        {"features", required_argument, NULL, 'F'},
        {"top", required_argument, NULL, 'n'},
        {"real-step", required_argument, NULL, 's'},
        {"registry", required_argument, NULL, 'R'},
        {"vectors", required_argument, NULL, 'V'},
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"threads", required_argument, NULL, 't'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int f = cli_format_option(cmd, ch, optarg, &fmt);
        if (f >= 0) {
            if (f != CLI_OK) {
                return f;
            }
            continue;
        }
        switch (ch) {
        case 'm': model = optarg; break;
        case 'c': csv = optarg; break;
        case 'k':
            if (!cli_parse_int(optarg, 1, 1000, &k)) {
                return cli_usage_error(cmd, "--k must be 1..1000");
            }
            break;
        case 'F': feat_arg = optarg; break;
        case 'n':
            if (!cli_parse_int(optarg, 1, 1000000000, &top)) {
                return cli_usage_error(cmd, "--top must be a positive number");
            }
            break;
        case 's':
            if (!cli_parse_double(optarg, 1e-12, 1e300, &lp.real_step)) {
                return cli_usage_error(cmd, "--real-step must be a positive number");
            }
            break;
        case 'V':
            if (!app_vectors_parse(optarg, &lp.vectors)) {
                return cli_usage_error(cmd, "--vectors must be auto, text or features");
            }
            break;
        case CLI_OPT_EMBEDDER: lp.embedder = optarg; break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_THREADS, &threads)) {
                return cli_usage_error(cmd, "--threads must be 1..%d", LIMIT_THREADS);
            }
            break;
        case 'R': root = optarg; break;
        case 'h': fputs(k_usage_look, stdout); return CLI_OK;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    }
    if (model == NULL || csv == NULL) {
        return cli_usage_error(cmd, "--model NAME and --csv FILE are required");
    }
    if (feat_arg != NULL) {
        lp.n_features = cli_split_list(feat_arg, feat_names, MAX_FEATURES);
        lp.features = (const char *const *)feat_names;
    }
    lp.k = (size_t)k;
    lp.top = (size_t)top;
    lp.tipping = tipping;
    lp.n_threads = threads;
    struct px_err err = {0};
    struct app_prop_model *m = NULL;
    struct app_prop_data *d = NULL;
    struct app_prop_look *L = NULL;
    struct cli_bar rb = {.label = "read"}, sb = {.label = "SHAP"};
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    int status = CLI_FAIL;
    int rc = app_prop_load(root, model, threads, &m, &err);
    if (rc == PX_OK)
        rc = app_prop_data_csv_progress(m, csv, true, cli_bar_report, &rb, &d, &err);
    cli_bar_end(&rb);
    if (rc == PX_OK)
        rc = app_prop_data_shap_progress(m, d, cli_bar_report, &sb, &err);
    cli_bar_end(&sb);
    if (rc == PX_OK)
        rc = app_prop_lookalike(m, csv, d, &lp, &L, &err);
    if (rc == PX_OK && fmt == CLI_FORMAT_JSON)
        rc = app_prop_look_json(L, &doc, &err);
    if (rc != PX_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    const struct app_look_view *v = app_prop_look_view(L);
    if (fmt == CLI_FORMAT_JSON) {
        status = cli_print_json(cmd, &doc);
        goto done;
    }
    if (fmt == CLI_FORMAT_CSV) {
        fprintf(stderr, "prospect %s: vectors: %s\n", cmd, v->vectors);
        printf("list,id,probability,distance,near,tipping_feature%s\n",
               tipping ? ",from,to,change,new_probability,tipped" : "");
    } else {
        printf("model %s/%d, threshold %.4f; k = %zu\nvectors: %s\n", v->model->name,
               v->model->version, v->model->threshold, v->k, v->vectors);
    }
    if (v->fixed[0] != '\0') {
        fprintf(fmt == CLI_FORMAT_TABLE ? stdout : stderr,
                "%sheld fixed (not changed by tipping; --features to choose): %s\n",
                fmt == CLI_FORMAT_TABLE ? "" : "prospect tipping: ", v->fixed);
    }
    print_list("A", v->a, v->n_a, tipping, fmt);
    print_list("B", v->b, v->n_b, tipping, fmt);
    if (tipping) {
        FILE *sf = fmt == CLI_FORMAT_CSV ? stderr : stdout;
        const char *pre = fmt == CLI_FORMAT_CSV ? "prospect tipping: " : "";
        fprintf(sf, "%ssummary: List A: %zu of %zu tip; List B: %zu of %zu tip (rows already at "
                    "or above the threshold are not stepped)\n",
                fmt == CLI_FORMAT_CSV ? pre : "\n", v->tipped_a, v->n_a, v->tipped_b, v->n_b);
        for (int l = 0; l < 2; l++) {
            const struct app_tip_feature *by = l ? v->by_b : v->by_a;
            for (size_t i = 0, n_by = l ? v->n_by_b : v->n_by_a; i < n_by; i++) {
                fprintf(sf, "%s  List %c, %s (%s): %zu of %zu tip, average change %+.4g\n", pre,
                        l ? 'B' : 'A', by[i].feature, by[i].type, by[i].tipped, by[i].rows,
                        by[i].avg_change);
            }
        }
    }
    status = CLI_OK;
done:
    buf_free(&doc);
    app_prop_look_free(L);
    app_prop_data_free(d);
    app_prop_model_free(m);
    return status;
}

int cmd_lookalike(int argc, char **argv)
{
    return run_cmd("lookalike", false, argc, argv);
}

int cmd_tipping(int argc, char **argv)
{
    return run_cmd("tipping", true, argc, argv);
}
