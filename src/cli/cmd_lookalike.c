// cmd_lookalike.c — `prospect lookalike` and `prospect tipping`.
//
// lookalike: List A = for every positive row its k nearest negatives (de-duplicated, by
// distance); List B = the negatives ranked by the model's probability, as many as List A. Both
// can be restricted to rows whose tipping feature (largest |SHAP| among the features that can be
// stepped) is in --features. tipping: for List A and List B, steps each row's tipping feature
// towards the training maximum until the probability reaches the threshold, and summarises how
// many of each list tip and at what average change.
//
// The work is app_prop_lookalike (app.h): vectors are each row's profile text embedded by the
// sentence-transformer when its weights are present, else the standardised model features; every
// output says which (table header, JSON "vectors", CSV: a line on stderr).
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ml.h"
#include "app_prop.h"
#include "app_registry.h"
#include "mem.h"

#define MAX_FEATURES 64

static const char *const k_usage_look =
    "usage: prospect lookalike --model NAME[/VERSION] --csv FILE [--k 1] [--features F1,F2]\n"
    "                          [--top N] [--format table|json|csv] [--registry DIR]\n"
    "                          [--vectors auto|text|features] [--embedder DIR] [--threads N]\n"
    "       prospect tipping   --model NAME[/VERSION] --csv FILE [--k 1] [--features F1,F2]\n"
    "                          [--real-step X] [--top N] [--format table|json|csv]\n"
    "\n"
    "lookalike: List A, the negatives nearest to each positive (k per positive, de-duplicated,\n"
    "by distance), and List B, the negatives ranked by probability (as many as List A).\n"
    "--features keeps only rows whose tipping feature (largest |SHAP|) is one of these.\n"
    "tipping: for both lists, steps each row's tipping feature towards the data's maximum (by 1\n"
    "for whole-number features, by --real-step, default (max - min) / 100, for real ones) until\n"
    "the probability reaches the model's threshold; prints the tipping value, the change and the\n"
    "new probability, or 'max value reached', and how many of each list tip.\n"
    "The CSV needs the model's features and its target column.\n"
    "Vectors (--vectors): auto (default) embeds each row's profile text (\"Age: 45, Income:\n"
    "...\", the model's columns less the id and target) with the sentence-transformer\n"
    "(--embedder DIR, else the usual model lookup) when its weights are present, else uses the\n"
    "standardised model features; text requires the embeddings; features never embeds.\n"
    "The output says which vectors were used.\n";

static void print_list(const char *title, const struct propmodel_model *m,
                       const struct ml_dataset *ds, const struct ml_explanation *e,
                       const struct app_look_entry *l, size_t n, bool tipping, enum cli_format fmt,
                       bool first)
{
    char name[300], near[300];
    if (fmt == CLI_FORMAT_JSON) {
        printf("%s\"%s\": [", first ? "" : ",\n", title);
    } else if (fmt == CLI_FORMAT_TABLE) {
        printf("\n%s (%zu rows)\n", title, n);
    }
    for (size_t i = 0; i < n; i++) {
        const struct app_look_entry *x = &l[i];
        const char *feat = x->feat == SIZE_MAX ? "" : m->spec.features[x->feat].name;
        ml_dataset_row_name(ds, x->row, name, sizeof name);
        if (isnan(x->dist)) {
            near[0] = '\0';
        } else {
            ml_dataset_row_name(ds, x->near, near, sizeof near);
        }
        if (fmt == CLI_FORMAT_CSV) {
            printf("%s,", title);
            cli_csv_field(stdout, name);
            printf(",%.6f,", (double)e->prob[x->row]);
            if (!isnan(x->dist)) {
                printf("%.6f,", x->dist);
                cli_csv_field(stdout, near);
            } else {
                printf(",");
            }
            printf(",");
            cli_csv_field(stdout, feat);
            if (tipping) {
                printf(",%g,%g,%g,%.6f,%d", x->tip.from, x->tip.to, x->tip.to - x->tip.from,
                       (double)x->tip.p_after, x->tip.tipped);
            }
            printf("\n");
        } else if (fmt == CLI_FORMAT_JSON) {
            printf("%s\n  {\"id\": ", i ? "," : "");
            cli_json_string(stdout, name);
            printf(", \"probability\": %.6f, \"distance\": ", (double)e->prob[x->row]);
            cli_json_number(stdout, x->dist);
            printf(", \"near\": ");
            if (isnan(x->dist)) {
                printf("null");
            } else {
                cli_json_string(stdout, near);
            }
            printf(", \"tipping_feature\": ");
            cli_json_string(stdout, feat);
            if (tipping) {
                printf(", \"from\": %g, \"to\": %g, \"change\": %g, \"new_probability\": %.6f, "
                       "\"tipped\": %s",
                       x->tip.from, x->tip.to, x->tip.to - x->tip.from, (double)x->tip.p_after,
                       x->tip.tipped ? "true" : "false");
            }
            printf("}");
        } else {
            printf("  %-12s p %.4f", name, (double)e->prob[x->row]);
            if (!isnan(x->dist)) {
                printf("  dist %7.4f (near %s)", x->dist, near);
            }
            printf("  tipping: %s", feat);
            if (tipping) {
                if (x->tip.tipped) {
                    printf(" %g -> %g (%+g), p %.4f", x->tip.from, x->tip.to,
                           x->tip.to - x->tip.from, (double)x->tip.p_after);
                } else {
                    printf(" %g -> %g: max value reached, p %.4f", x->tip.from, x->tip.to,
                           (double)x->tip.p_after);
                }
            }
            printf("\n");
        }
    }
    if (fmt == CLI_FORMAT_JSON) {
        printf("\n]");
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
        {"format", required_argument, NULL, 'f'},
        {"real-step", required_argument, NULL, 's'},
        {"registry", required_argument, NULL, 'R'},
        {"vectors", required_argument, NULL, 'V'},
        {"embedder", required_argument, NULL, 'E'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage_error(cmd, "--format must be table, json or csv");
            }
            break;
        case 'V':
            if (strcmp(optarg, "auto") == 0) {
                lp.vectors = APP_VECTORS_AUTO;
            } else if (strcmp(optarg, "text") == 0) {
                lp.vectors = APP_VECTORS_TEXT;
            } else if (strcmp(optarg, "features") == 0) {
                lp.vectors = APP_VECTORS_FEATURES;
            } else {
                return cli_usage_error(cmd, "--vectors must be auto, text or features");
            }
            break;
        case 'E': lp.model_flag = optarg; break;
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
    struct propmodel_model m;
    struct ml_dataset ds;
    struct ml_explanation e;
    struct app_look L;
    memset(&m, 0, sizeof m);
    memset(&ds, 0, sizeof ds);
    memset(&e, 0, sizeof e);
    memset(&L, 0, sizeof L);
    int status = CLI_FAIL;
    if (app_prop_load(root, model, threads, &m, &err) != PX_OK ||
        app_prop_data(&m, csv, true, &ds, &err) != PX_OK ||
        app_prop_explain(&m, &ds, &e, &err) != PX_OK ||
        app_prop_lookalike(&m, csv, &ds, &e, &lp, &L, &err) != PX_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (fmt == CLI_FORMAT_JSON) {
        printf("{\"model\": ");
        cli_json_string(stdout, m.name);
        printf(", \"version\": %d, \"threshold\": %.6g, \"vectors\": ", m.version, m.threshold);
        cli_json_string(stdout, L.vectors);
        printf(", \"text_vectors\": %s, \"k\": %d,\n", L.text_vectors ? "true" : "false", k);
        print_list("list_a", &m, &ds, &e, L.a, L.n_a, tipping, fmt, true);
        print_list("list_b", &m, &ds, &e, L.b, L.n_b, tipping, fmt, false);
        if (tipping) {
            printf(",\n\"summary\": {\"a\": {\"rows\": %zu, \"tipped\": %zu, \"avg_change\": ",
                   L.n_a, L.tipped_a);
            cli_json_number(stdout, L.avg_a);
            printf("}, \"b\": {\"rows\": %zu, \"tipped\": %zu, \"avg_change\": ", L.n_b,
                   L.tipped_b);
            cli_json_number(stdout, L.avg_b);
            printf("}}");
        }
        printf("\n}\n");
    } else {
        if (fmt == CLI_FORMAT_CSV) {
            fprintf(stderr, "prospect %s: vectors: %s\n", cmd, L.vectors);
            printf("list,id,probability,distance,near,tipping_feature%s\n",
                   tipping ? ",from,to,change,new_probability,tipped" : "");
        } else {
            printf("model %s/%d, threshold %.4f; k = %d\nvectors: %s\n", m.name, m.version,
                   m.threshold, k, L.vectors);
        }
        print_list("A", &m, &ds, &e, L.a, L.n_a, tipping, fmt, true);
        print_list("B", &m, &ds, &e, L.b, L.n_b, tipping, fmt, false);
        if (tipping) {
            FILE *sf = fmt == CLI_FORMAT_CSV ? stderr : stdout;
            fprintf(sf,
                    "%ssummary: List A: %zu of %zu tip (average change %.4g); List B: %zu "
                    "of %zu tip (average change %.4g)\n",
                    fmt == CLI_FORMAT_CSV ? "prospect tipping: " : "\n", L.tipped_a, L.n_a, L.avg_a,
                    L.tipped_b, L.n_b, L.avg_b);
        }
    }
    status = CLI_OK;
done:
    app_look_free(&L);
    ml_explanation_free(&e);
    ml_dataset_free(&ds);
    propmodel_model_free(&m);
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
