// cmd_lookalike.c — `prospect lookalike` and `prospect tipping`.
//
// lookalike: List A = for every positive row its k nearest negatives (de-duplicated, by
// distance); List B = the negatives ranked by the model's probability, as many as List A. Both
// can be restricted to rows whose tipping feature (largest |SHAP| among the features that can be
// stepped) is in --features. tipping: for List A and List B, steps each row's tipping feature
// towards the training maximum until the probability reaches the threshold, and summarises how
// many of each list tip and at what average change.
//
// Vectors: the standardised model features (z-scores). The sentence-transformer path of the
// issue (profile text -> MiniLM) is not wired here yet; the output says which vectors were used.
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ml.h"
#include "dataset.h"
#include "explain.h"
#include "lookalike.h"
#include "mem.h"
#include "runstore.h"

#define MAX_FEATURES 64
#define VECTORS_NOTE "standardised model features (z-scores); sentence-transformer vectors not used"

static const char *const k_usage_look =
    "usage: prospect lookalike --model NAME[/VERSION] --csv FILE [--k 1] [--features F1,F2]\n"
    "                          [--top N] [--format table|json|csv] [--registry DIR]\n"
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
    "The CSV needs the model's features and its target column.\n";

struct entry {
    size_t row;
    double dist; // List A: distance to the nearest positive; List B: NaN
    size_t near; // List A: that positive
    size_t feat; // tipping feature
    struct ml_tip tip;
};

struct lists {
    struct entry *a, *b;
    size_t n_a, n_b;
};

static int cmp_prob(const void *x, const void *y, void *user)
{
    const float *p = user;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    if (p[i] != p[j]) {
        return p[i] > p[j] ? -1 : 1;
    }
    return (i > j) - (i < j);
}

static void print_list(const char *title, const struct runstore_model *m,
                       const struct ml_dataset *ds, const struct ml_explanation *e,
                       const struct entry *l, size_t n, bool tipping, enum cli_format fmt,
                       bool first)
{
    char name[300], near[300];
    if (fmt == CLI_FORMAT_JSON) {
        printf("%s\"%s\": [", first ? "" : ",\n", title);
    } else if (fmt == CLI_FORMAT_TABLE) {
        printf("\n%s (%zu rows)\n", title, n);
    }
    for (size_t i = 0; i < n; i++) {
        const struct entry *x = &l[i];
        const char *feat = m->spec.features[x->feat].name;
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

static void summary(const char *title, const struct entry *l, size_t n, size_t *tipped, double *avg)
{
    double s = 0;
    *tipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (l[i].tip.tipped) {
            (*tipped)++;
            s += l[i].tip.to - l[i].tip.from;
        }
    }
    *avg = *tipped ? s / (double)*tipped : NAN;
    (void)title;
}

static int run_cmd(const char *cmd, bool tipping, int argc, char **argv)
{
    const char *model = NULL, *csv = NULL, *root = CLI_ML_DEFAULT_REGISTRY;
    char *feat_arg = NULL, *feat_names[MAX_FEATURES];
    size_t n_feat = 0;
    int k = 1, top = 0;
    double real_step = NAN;
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
            if (!cli_parse_double(optarg, 1e-12, 1e300, &real_step)) {
                return cli_usage_error(cmd, "--real-step must be a positive number");
            }
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage_error(cmd, "--format must be table, json or csv");
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
        n_feat = cli_split_list(feat_arg, feat_names, MAX_FEATURES);
    }
    struct px_err err = {0};
    struct runstore_model m;
    struct ml_dataset ds;
    struct ml_explanation e;
    memset(&m, 0, sizeof m);
    memset(&ds, 0, sizeof ds);
    memset(&e, 0, sizeof e);
    struct lists L = {0};
    float *vec = NULL;
    unsigned char *onehot = NULL, *allow = NULL;
    size_t *tip_feat = NULL, *order = NULL, *rows = NULL, *feats = NULL;
    struct ml_lookalike *look = NULL;
    double *step = NULL, *mn = NULL, *mx = NULL;
    struct ml_tip *tips = NULL;
    size_t n_look = 0;
    int status = CLI_FAIL;
    if (runstore_load(root, model, 2, &m, &err) != PX_OK ||
        ml_dataset_apply(csv, &m.spec, true, &ds, &err) != PX_OK ||
        ml_explain(m.model, ds.x, ds.n_rows, &e, &err) != PX_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    size_t n = ds.n_rows, nf = m.spec.n_features;
    vec = px_malloc(n * nf * sizeof *vec);
    onehot = px_calloc(nf, 1);
    allow = px_calloc(n, 1);
    tip_feat = px_malloc(n * sizeof *tip_feat);
    order = px_malloc(n * sizeof *order);
    step = px_malloc(nf * sizeof *step);
    mn = px_malloc(nf * sizeof *mn);
    mx = px_malloc(nf * sizeof *mx);
    if (!vec || !onehot || !allow || !tip_feat || !order || !step || !mn || !mx) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        status = cli_fail(cmd, &err);
        goto done;
    }
    for (size_t f = 0; f < nf; f++) {
        const struct ml_feature *ft = &m.spec.features[f];
        onehot[f] = ft->level != NULL;
        mn[f] = ft->min;
        mx[f] = ft->max;
        step[f] = ft->integer        ? 1.0
                  : isnan(real_step) ? (ft->max > ft->min ? (ft->max - ft->min) / 100.0 : 1.0)
                                     : real_step;
    }
    for (size_t i = 0; i < n_feat; i++) {
        bool found = false;
        for (size_t f = 0; f < nf; f++) {
            found = found || strcmp(m.spec.features[f].name, feat_names[i]) == 0;
        }
        if (!found) {
            px_fail(&err, PX_EINVAL, "--features '%s': the model has no such feature",
                    feat_names[i]);
            status = cli_fail(cmd, &err);
            goto done;
        }
    }
    for (size_t r = 0; r < n; r++) {
        size_t t = 0;
        tip_feat[r] = ml_explain_top(&e, r, 1, onehot, &t) ? t : 0;
        bool ok = n_feat == 0;
        for (size_t i = 0; i < n_feat && !ok; i++) {
            ok = strcmp(m.spec.features[tip_feat[r]].name, feat_names[i]) == 0;
        }
        allow[r] = ok && ds.y[r] == 0.0f;
    }
    ml_standardize(ds.x, n, nf, vec, &err);
    if (ml_lookalikes(vec, n, nf, ds.y, (size_t)k, allow, &look, &n_look, &err) != PX_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    size_t n_a = top > 0 && (size_t)top < n_look ? (size_t)top : n_look;
    size_t n_neg = 0;
    for (size_t r = 0; r < n; r++) {
        if (allow[r]) {
            order[n_neg++] = r;
        }
    }
    qsort_r(order, n_neg, sizeof *order, cmp_prob, e.prob);
    size_t n_b = n_a < n_neg ? n_a : n_neg;
    L.a = px_calloc(n_a ? n_a : 1, sizeof *L.a);
    L.b = px_calloc(n_b ? n_b : 1, sizeof *L.b);
    rows = px_malloc((n_a + n_b + 1) * sizeof *rows);
    feats = px_malloc((n_a + n_b + 1) * sizeof *feats);
    tips = px_calloc(n_a + n_b + 1, sizeof *tips);
    if (!L.a || !L.b || !rows || !feats || !tips) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        status = cli_fail(cmd, &err);
        goto done;
    }
    for (size_t i = 0; i < n_a; i++) {
        L.a[i] = (struct entry){.row = look[i].row,
                                .dist = look[i].dist,
                                .near = look[i].near,
                                .feat = tip_feat[look[i].row]};
    }
    for (size_t i = 0; i < n_b; i++) {
        L.b[i] = (struct entry){.row = order[i], .dist = NAN, .feat = tip_feat[order[i]]};
    }
    L.n_a = n_a;
    L.n_b = n_b;
    if (tipping) {
        for (size_t i = 0; i < n_a + n_b; i++) {
            const struct entry *x = i < n_a ? &L.a[i] : &L.b[i - n_a];
            rows[i] = x->row;
            feats[i] = x->feat;
        }
        if (ml_tipping(m.model, ds.x, nf, rows, feats, n_a + n_b, step, mn, mx, m.threshold, tips,
                       &err) != PX_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
        for (size_t i = 0; i < n_a + n_b; i++) {
            if (i < n_a) {
                L.a[i].tip = tips[i];
            } else {
                L.b[i - n_a].tip = tips[i];
            }
        }
    }
    size_t ta = 0, tb = 0;
    double aa = NAN, ab = NAN;
    summary("A", L.a, L.n_a, &ta, &aa);
    summary("B", L.b, L.n_b, &tb, &ab);
    if (fmt == CLI_FORMAT_JSON) {
        printf("{\"model\": ");
        cli_json_string(stdout, m.name);
        printf(", \"version\": %d, \"threshold\": %.6g, \"vectors\": \"%s\", \"k\": %d,\n",
               m.version, m.threshold, VECTORS_NOTE, k);
        print_list("list_a", &m, &ds, &e, L.a, L.n_a, tipping, fmt, true);
        print_list("list_b", &m, &ds, &e, L.b, L.n_b, tipping, fmt, false);
        if (tipping) {
            printf(",\n\"summary\": {\"a\": {\"rows\": %zu, \"tipped\": %zu, \"avg_change\": ",
                   L.n_a, ta);
            cli_json_number(stdout, aa);
            printf("}, \"b\": {\"rows\": %zu, \"tipped\": %zu, \"avg_change\": ", L.n_b, tb);
            cli_json_number(stdout, ab);
            printf("}}");
        }
        printf("\n}\n");
    } else {
        if (fmt == CLI_FORMAT_CSV) {
            printf("list,id,probability,distance,near,tipping_feature%s\n",
                   tipping ? ",from,to,change,new_probability,tipped" : "");
        } else {
            printf("model %s/%d, threshold %.4f; vectors: %s; k = %d\n", m.name, m.version,
                   m.threshold, VECTORS_NOTE, k);
        }
        print_list("A", &m, &ds, &e, L.a, L.n_a, tipping, fmt, true);
        print_list("B", &m, &ds, &e, L.b, L.n_b, tipping, fmt, false);
        if (tipping) {
            FILE *sf = fmt == CLI_FORMAT_CSV ? stderr : stdout;
            fprintf(sf,
                    "%ssummary: List A: %zu of %zu tip (average change %.4g); List B: %zu "
                    "of %zu tip (average change %.4g)\n",
                    fmt == CLI_FORMAT_CSV ? "prospect tipping: " : "\n", ta, L.n_a, aa, tb, L.n_b,
                    ab);
        }
    }
    status = CLI_OK;
done:
    px_free(L.a);
    px_free(L.b);
    px_free(vec);
    px_free(onehot);
    px_free(allow);
    px_free(tip_feat);
    px_free(order);
    px_free(rows);
    px_free(feats);
    px_free(tips);
    px_free(look);
    px_free(step);
    px_free(mn);
    px_free(mx);
    ml_explanation_free(&e);
    ml_dataset_free(&ds);
    runstore_model_free(&m);
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
