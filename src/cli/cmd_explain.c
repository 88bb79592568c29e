// cmd_explain.c — `prospect explain`: exact SHAP values (XGBoost pred_contribs, checked to add up
// to the margin) for the rows of a CSV: per row the top features with signed contributions and
// the tipping feature (the largest |SHAP| among the features that can be stepped, i.e. not a
// one-hot level), the global mean |SHAP| per feature, and dependence data (feature value vs SHAP)
// for chosen features; as a table, JSON or CSV, and optionally an HTML report with SVG plots.
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "cli_ml.h"
#include "dataset.h"
#include "explain.h"
#include "fsx.h"
#include "mem.h"
#include "propmodel.h"

#define MAX_IDS 1000
#define MAX_DEP 32
#define MAX_TOP 50

static const char *const k_usage =
    "usage: prospect explain --model NAME[/VERSION] --csv FILE [--id ID ...] [--top K]\n"
    "                        [--dependence F1,F2] [--format table|json|csv] [--report FILE]\n"
    "                        [--registry DIR]\n"
    "\n"
    "Explains the model's score of each row with exact SHAP values (TreeSHAP, from XGBoost),\n"
    "checked to add up to the model's margin (log-odds) for every row.\n"
    "\n"
    "  --id ID          explain these rows (repeatable; default: the table shows the 10 rows\n"
    "                   with the highest probability, json / csv every row)\n"
    "  --top K          features per row (default 5)\n"
    "  --dependence F   comma-separated features: (value, SHAP) pairs for every row\n"
    "  --report FILE    also write an HTML page with SVG plots (global importance, dependence)\n"
    "  --format F       table (default), json or csv\n"
    "  --registry DIR   where models are kept (default $PROSPECT_REGISTRY, else ./registry)\n";

struct ctx {
    const struct propmodel_model *m;
    const struct ml_dataset *ds;
    const struct ml_explanation *e;
    unsigned char *onehot; // (n_features) one-hot levels: never the tipping feature
    size_t top;
};

static size_t tipping(const struct ctx *c, size_t r)
{
    size_t k = 0;
    return ml_explain_top(c->e, r, 1, c->onehot, &k) ? k : SIZE_MAX;
}

static int cmp_desc_d(const void *a, const void *b, void *user)
{
    const double *v = user;
    double x = v[*(const size_t *)a], y = v[*(const size_t *)b];
    return x > y ? -1 : x < y;
}

static int cmp_prob(const void *a, const void *b, void *user)
{
    const float *p = user;
    float x = p[*(const size_t *)a], y = p[*(const size_t *)b];
    return x > y ? -1 : x < y;
}

static void print_value(FILE *f, float v)
{
    if (isnan(v)) {
        fputs("missing", f);
    } else {
        fprintf(f, "%g", (double)v);
    }
}

static void table_row(const struct ctx *c, size_t r)
{
    size_t nf = c->e->n_features, idx[MAX_TOP];
    char name[300];
    const float *row = c->e->contrib + r * (nf + 1);
    size_t n = ml_explain_top(c->e, r, c->top, NULL, idx);
    size_t t = tipping(c, r);
    printf("\n%s (line %zu): probability %.4f (%s), margin %.4f = bias %.4f + contributions\n",
           ml_dataset_row_name(c->ds, r, name, sizeof name), c->ds->line[r], (double)c->e->prob[r],
           c->e->prob[r] >= c->m->threshold ? "positive" : "negative", (double)c->e->margin[r],
           (double)row[nf]);
    for (size_t i = 0; i < n; i++) {
        size_t k = idx[i];
        printf("  %+9.4f  %-32s = ", (double)row[k], c->m->spec.features[k].name);
        print_value(stdout, c->ds->x[r * nf + k]);
        printf("%s\n", k == t ? "   <- tipping feature" : "");
    }
}

static void json_row(FILE *f, const struct ctx *c, size_t r)
{
    size_t nf = c->e->n_features, idx[MAX_TOP];
    char name[300];
    const float *row = c->e->contrib + r * (nf + 1);
    size_t n = ml_explain_top(c->e, r, c->top, NULL, idx);
    size_t t = tipping(c, r);
    fprintf(f, "{\"id\": ");
    cli_json_string(f, ml_dataset_row_name(c->ds, r, name, sizeof name));
    fprintf(f, ", \"line\": %zu, \"probability\": %.6f, \"margin\": %.6f, \"bias\": %.6f, ",
            c->ds->line[r], (double)c->e->prob[r], (double)c->e->margin[r], (double)row[nf]);
    fprintf(f, "\"tipping_feature\": ");
    if (t == SIZE_MAX) {
        fprintf(f, "null");
    } else {
        cli_json_string(f, c->m->spec.features[t].name);
    }
    fprintf(f, ", \"top\": [");
    for (size_t i = 0; i < n; i++) {
        size_t k = idx[i];
        fprintf(f, "%s{\"feature\": ", i ? ", " : "");
        cli_json_string(f, c->m->spec.features[k].name);
        fprintf(f, ", \"value\": ");
        cli_json_number(f, c->ds->x[r * nf + k]);
        fprintf(f, ", \"shap\": %.6f}", (double)row[k]);
    }
    fprintf(f, "]}");
}

static void csv_rows(const struct ctx *c, const size_t *rows, size_t n_rows)
{
    size_t nf = c->e->n_features, idx[MAX_TOP];
    char name[300];
    printf("id,line,probability,rank,feature,value,shap,tipping\n");
    for (size_t i = 0; i < n_rows; i++) {
        size_t r = rows[i];
        const float *row = c->e->contrib + r * (nf + 1);
        size_t n = ml_explain_top(c->e, r, c->top, NULL, idx);
        size_t t = tipping(c, r);
        for (size_t j = 0; j < n; j++) {
            size_t k = idx[j];
            cli_csv_field(stdout, ml_dataset_row_name(c->ds, r, name, sizeof name));
            printf(",%zu,%.6f,%zu,", c->ds->line[r], (double)c->e->prob[r], j + 1);
            cli_csv_field(stdout, c->m->spec.features[k].name);
            printf(",");
            if (!isnan(c->ds->x[r * nf + k])) {
                printf("%g", (double)c->ds->x[r * nf + k]);
            }
            printf(",%.6f,%d\n", (double)row[k], k == t);
        }
    }
}

// ---- the HTML report: inline SVG, no script ----

static void html_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void svg_importance(FILE *f, const struct ctx *c, const size_t *order, size_t n)
{
    const double *v = c->e->mean_abs;
    double mx = n ? v[order[0]] : 1;
    int h = (int)n * 22 + 20;
    fprintf(f, "<svg width=\"720\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            h);
    for (size_t i = 0; i < n; i++) {
        double w = mx > 0 ? 440 * v[order[i]] / mx : 0;
        fprintf(f, "<text x=\"230\" y=\"%zu\" text-anchor=\"end\">", 22 * i + 16);
        html_escape(f, c->m->spec.features[order[i]].name);
        fprintf(f,
                "</text><rect x=\"240\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"#3a7\"/>"
                "<text x=\"%.1f\" y=\"%zu\">%.4f</text>\n",
                22 * i + 3, w, 245 + w, 22 * i + 16, v[order[i]]);
    }
    fprintf(f, "</svg>\n");
}

static void svg_dependence(FILE *f, const struct ctx *c, size_t k)
{
    size_t n = c->ds->n_rows, nf = c->e->n_features;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t r = 0; r < n; r++) {
        double x = c->ds->x[r * nf + k], y = c->e->contrib[r * (nf + 1) + k];
        if (!isnan(x)) {
            x0 = x < x0 ? x : x0;
            x1 = x > x1 ? x : x1;
            y0 = y < y0 ? y : y0;
            y1 = y > y1 ? y : y1;
        }
    }
    if (!(x0 < x1)) {
        x1 = x0 + 1;
    }
    if (!(y0 < y1)) {
        y1 = y0 + 1;
    }
    fprintf(f, "<h3>");
    html_escape(f, c->m->spec.features[k].name);
    fprintf(f, " (x: value %g..%g; y: SHAP %.3f..%.3f)</h3>\n", x0, x1, y0, y1);
    fprintf(f, "<svg width=\"520\" height=\"320\"><rect x=\"40\" y=\"10\" width=\"460\" "
               "height=\"280\" fill=\"none\" stroke=\"#999\"/>\n");
    double zy = 290 - 280 * (0 - y0) / (y1 - y0);
    if (zy >= 10 && zy <= 290) {
        fprintf(f, "<line x1=\"40\" x2=\"500\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ccc\"/>\n", zy,
                zy);
    }
    size_t stride = n > 5000 ? n / 5000 : 1; // at most ~5000 points
    for (size_t r = 0; r < n; r += stride) {
        double x = c->ds->x[r * nf + k], y = c->e->contrib[r * (nf + 1) + k];
        if (!isnan(x)) {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#37a\" opacity=\"0.5\"/>\n",
                    40 + 460 * (x - x0) / (x1 - x0), 290 - 280 * (y - y0) / (y1 - y0));
        }
    }
    fprintf(f, "</svg>\n");
}

static int write_report(const char *path, const struct ctx *c, const size_t *order,
                        const size_t *dep, size_t n_dep, struct px_err *err)
{
    struct fsx_atomic at;
    memset(&at, 0, sizeof at);
    int rc = fsx_atomic_open(path, &at, err);
    if (rc != PX_OK) {
        return rc;
    }
    FILE *f = at.f;
    fprintf(f, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>prospect explain: ");
    html_escape(f, c->m->name);
    fprintf(f, "</title></head><body style=\"font-family:sans-serif\">\n<h1>Model ");
    html_escape(f, c->m->name);
    fprintf(f,
            "/%d: what drives the score</h1>\n<p>%zu rows; SHAP values add up to the margin "
            "within %.2g; threshold %.4f.</p>\n<h2>Mean |SHAP| per feature</h2>\n",
            c->m->version, c->ds->n_rows, c->e->max_sum_diff, c->m->threshold);
    svg_importance(f, c, order, c->e->n_features < 20 ? c->e->n_features : 20);
    if (n_dep > 0) {
        fprintf(f, "<h2>Dependence: feature value vs SHAP value</h2>\n");
    }
    for (size_t i = 0; i < n_dep; i++) {
        svg_dependence(f, c, dep[i]);
    }
    fprintf(f, "</body></html>\n");
    rc = fsx_atomic_commit(&at, err);
    fsx_atomic_abort(&at);
    return rc;
}

int cmd_explain(int argc, char **argv)
{
    const char *model = NULL, *csv = NULL, *report = NULL, *root = app_registry_dir(NULL);
    const char *ids[MAX_IDS];
    char *dep_arg = NULL, *dep_names[MAX_DEP];
    size_t n_ids = 0, n_dep = 0;
    int top = 5;
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"csv", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},
        {"top", required_argument, NULL, 'k'},
        {"dependence", required_argument, NULL, 'd'},
        {"report", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
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
        case 'i':
            if (n_ids == MAX_IDS) {
                return cli_usage_error("explain", "at most %d --id", MAX_IDS);
            }
            ids[n_ids++] = optarg;
            break;
        case 'k':
            if (!cli_parse_int(optarg, 1, MAX_TOP, &top)) {
                return cli_usage_error("explain", "--top must be 1..%d", MAX_TOP);
            }
            break;
        case 'd': dep_arg = optarg; break;
        case 'o': report = optarg; break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage_error("explain", "--format must be table, json or csv");
            }
            break;
        case 'R': root = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("explain", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("explain", "unexpected argument '%s'", argv[optind]);
    }
    if (model == NULL || csv == NULL) {
        return cli_usage_error("explain", "--model NAME and --csv FILE are required");
    }
    if (dep_arg != NULL) {
        n_dep = cli_split_list(dep_arg, dep_names, MAX_DEP);
    }
    struct px_err err = {0};
    struct propmodel_model m;
    struct ml_dataset ds;
    struct ml_explanation e;
    memset(&m, 0, sizeof m);
    memset(&ds, 0, sizeof ds);
    memset(&e, 0, sizeof e);
    size_t *rows = NULL, *order = NULL, dep[MAX_DEP];
    unsigned char *onehot = NULL;
    int status = CLI_FAIL;
    if (app_prop_load(root, model, 2, &m, &err) != PX_OK ||
        app_prop_data(&m, csv, false, &ds, &err) != PX_OK ||
        app_prop_explain(&m, &ds, &e, &err) != PX_OK) {
        status = cli_fail("explain", &err);
        goto done;
    }
    size_t nf = m.spec.n_features;
    for (size_t i = 0; i < n_dep; i++) {
        dep[i] = SIZE_MAX;
        for (size_t k = 0; k < nf; k++) {
            if (strcmp(m.spec.features[k].name, dep_names[i]) == 0) {
                dep[i] = k;
            }
        }
        if (dep[i] == SIZE_MAX) {
            px_fail(&err, PX_EINVAL, "--dependence '%s': the model has no such feature",
                    dep_names[i]);
            status = cli_fail("explain", &err);
            goto done;
        }
    }
    rows = px_malloc((ds.n_rows + 1) * sizeof *rows);
    order = px_malloc(nf * sizeof *order);
    onehot = px_calloc(nf, 1);
    if (rows == NULL || order == NULL || onehot == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        status = cli_fail("explain", &err);
        goto done;
    }
    for (size_t k = 0; k < nf; k++) {
        order[k] = k;
        onehot[k] = m.spec.features[k].level != NULL;
    }
    qsort_r(order, nf, sizeof *order, cmp_desc_d, e.mean_abs);
    size_t n_rows = 0;
    if (n_ids > 0) {
        for (size_t i = 0; i < n_ids; i++) {
            size_t r = 0;
            while (r < ds.n_rows && (ds.id == NULL || strcmp(ds.id[r], ids[i]) != 0)) {
                r++;
            }
            if (r == ds.n_rows) {
                px_fail(&err, PX_ENOENT, "--id '%s': no such row in %s%s", ids[i], csv,
                        ds.id ? "" : " (the model has no id column)");
                status = cli_fail("explain", &err);
                goto done;
            }
            rows[n_rows++] = r;
        }
    } else {
        for (size_t r = 0; r < ds.n_rows; r++) {
            rows[n_rows++] = r;
        }
        if (fmt == CLI_FORMAT_TABLE) {
            qsort_r(rows, n_rows, sizeof *rows, cmp_prob, e.prob);
            n_rows = n_rows < 10 ? n_rows : 10;
        }
    }
    struct ctx c = {.m = &m, .ds = &ds, .e = &e, .onehot = onehot, .top = (size_t)top};
    if (fmt == CLI_FORMAT_TABLE) {
        printf("model %s/%d, %zu rows: SHAP values add up to the margin (max |diff| %.2g)\n",
               m.name, m.version, ds.n_rows, e.max_sum_diff);
        printf("\nmean |SHAP| per feature:\n");
        for (size_t i = 0; i < nf && i < 20; i++) {
            printf("  %-32s %.4f\n", m.spec.features[order[i]].name, e.mean_abs[order[i]]);
        }
        for (size_t i = 0; i < n_rows; i++) {
            table_row(&c, rows[i]);
        }
        for (size_t i = 0; i < n_dep; i++) {
            printf("\ndependence of %s: use --format json or csv for the %zu (value, SHAP) "
                   "pairs\n",
                   m.spec.features[dep[i]].name, ds.n_rows);
        }
    } else if (fmt == CLI_FORMAT_CSV) {
        if (n_dep > 0) {
            printf("feature,line,value,shap\n");
            for (size_t i = 0; i < n_dep; i++) {
                for (size_t r = 0; r < ds.n_rows; r++) {
                    cli_csv_field(stdout, m.spec.features[dep[i]].name);
                    printf(",%zu,", ds.line[r]);
                    if (!isnan(ds.x[r * nf + dep[i]])) {
                        printf("%g", (double)ds.x[r * nf + dep[i]]);
                    }
                    printf(",%.6f\n", (double)e.contrib[r * (nf + 1) + dep[i]]);
                }
            }
        } else {
            csv_rows(&c, rows, n_rows);
        }
    } else {
        printf("{\"model\": ");
        cli_json_string(stdout, m.name);
        printf(", \"version\": %d, \"threshold\": %.6g, \"max_sum_diff\": %.3g,\n\"global\": [",
               m.version, m.threshold, e.max_sum_diff);
        for (size_t i = 0; i < nf; i++) {
            printf("%s{\"feature\": ", i ? ", " : "");
            cli_json_string(stdout, m.spec.features[order[i]].name);
            printf(", \"mean_abs_shap\": %.6f}", e.mean_abs[order[i]]);
        }
        printf("],\n\"rows\": [");
        for (size_t i = 0; i < n_rows; i++) {
            printf("%s\n  ", i ? "," : "");
            json_row(stdout, &c, rows[i]);
        }
        printf("\n],\n\"dependence\": {");
        for (size_t i = 0; i < n_dep; i++) {
            printf("%s\n  ", i ? "," : "");
            cli_json_string(stdout, m.spec.features[dep[i]].name);
            printf(": [");
            for (size_t r = 0; r < ds.n_rows; r++) {
                printf("%s[", r ? ", " : "");
                cli_json_number(stdout, ds.x[r * nf + dep[i]]);
                printf(", %.6f]", (double)e.contrib[r * (nf + 1) + dep[i]]);
            }
            printf("]");
        }
        printf("\n}}\n");
    }
    if (report != NULL) {
        if (write_report(report, &c, order, dep, n_dep, &err) != PX_OK) {
            status = cli_fail("explain", &err);
            goto done;
        }
        fprintf(stderr, "prospect explain: report -> %s\n", report);
    }
    status = CLI_OK;
done:
    px_free(rows);
    px_free(order);
    px_free(onehot);
    ml_explanation_free(&e);
    ml_dataset_free(&ds);
    propmodel_model_free(&m);
    return status;
}
