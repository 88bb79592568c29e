// cmd_explain.c — `prospect explain`: exact SHAP values (XGBoost pred_contribs, checked to add up
// to the margin) for the rows of a CSV: per row the top features with signed contributions and
// the tipping feature (the largest |SHAP| among the features that can be stepped, i.e. not a
// one-hot level), the global mean |SHAP| per feature, and dependence data (feature value vs SHAP)
// for chosen features; as a table, JSON or CSV, and optionally an HTML report with SVG plots.
// One answer (app_prop_explain) feeds every output: --format json prints its document, the one
// GET /api/models/{id}/explain returns; the table, the CSV and the report read its view.
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "fsx.h"
#include "limits.h"

#define MAX_IDS 1000
#define MAX_DEP 32

static const char *const k_usage =
    "usage: prospect explain --model NAME[/VERSION] --csv FILE [--id ID ... | --rows N] [--top K]\n"
    "                        [--dependence F1,F2] [--format table|json|csv] [--json]\n"
    "                        [--report FILE] [--registry DIR]\n"
    "\n"
    "Explains the model's score of each row with exact SHAP values (TreeSHAP, from XGBoost),\n"
    "checked to add up to the model's margin (log-odds) for every row.\n"
    "\n"
    "  --id ID          explain these rows (repeatable; default: the table shows the 10 rows\n"
    "                   with the highest probability, json / csv every row)\n"
    "  --rows N         the N rows with the highest probability (and at most N potential ones),\n"
    "                   as GET /api/models/{id}/explain?top=N answers\n"
    "  --top K          features per row (default 5)\n"
    "  --dependence F   comma-separated features: (value, SHAP) pairs for every row\n"
    "  --report FILE    also write an HTML page with SVG plots (global importance, dependence)\n"
    "  --format F       table (default), json (the document GET /api/models/{id}/explain\n"
    "                   returns) or csv; --json is --format json\n"
    "  --registry DIR   where models are kept (default $PROSPECT_REGISTRY, else ./registry)\n";

static void print_value(FILE *f, double v)
{
    if (isnan(v)) {
        fputs("missing", f);
    } else {
        fprintf(f, "%g", v);
    }
}

static void table_row(const struct app_explain_row *r)
{
    printf("\n%s (line %zu): probability %.4f (%s), margin %.4f = bias %.4f + contributions\n",
           r->name, r->line, r->probability, r->label ? "positive" : "negative", r->margin,
           r->bias);
    for (size_t i = 0; i < r->n_top; i++) {
        const struct app_contrib *c = &r->top[i];
        printf("  %+9.4f  %-32s = ", c->shap, c->feature);
        print_value(stdout, c->value);
        printf("%s\n", c->tipping ? "   <- tipping feature" : "");
    }
}

static void csv_rows(const struct app_explain_view *v)
{
    printf("id,line,probability,rank,feature,value,shap,tipping\n");
    for (size_t i = 0; i < v->n_rows; i++) {
        const struct app_explain_row *r = &v->rows[i];
        for (size_t j = 0; j < r->n_top; j++) {
            const struct app_contrib *c = &r->top[j];
            cli_csv_field(stdout, r->name);
            printf(",%zu,%.6f,%zu,", r->line, r->probability, j + 1);
            cli_csv_field(stdout, c->feature);
            printf(",");
            if (!isnan(c->value)) {
                printf("%g", c->value);
            }
            printf(",%.6f,%d\n", c->shap, c->tipping);
        }
    }
}

static void csv_dependence(const struct app_explain_view *v)
{
    printf("feature,line,value,shap\n");
    for (size_t i = 0; i < v->n_dependence; i++) {
        const struct app_dependence *d = &v->dependence[i];
        for (size_t r = 0; r < d->n; r++) {
            cli_csv_field(stdout, d->feature);
            printf(",%zu,", d->line[r]);
            if (!isnan(d->value[r])) {
                printf("%g", d->value[r]);
            }
            printf(",%.6f\n", d->shap[r]);
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

static void svg_importance(FILE *f, const struct app_explain_view *c, size_t n)
{
    const struct app_feature_weight *g = c->global;
    double mx = n ? g[0].mean_abs_shap : 1;
    int h = (int)n * 22 + 20;
    fprintf(f, "<svg width=\"720\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            h);
    for (size_t i = 0; i < n; i++) {
        double w = mx > 0 ? 440 * g[i].mean_abs_shap / mx : 0;
        fprintf(f, "<text x=\"230\" y=\"%zu\" text-anchor=\"end\">", 22 * i + 16);
        html_escape(f, g[i].feature);
        fprintf(f,
                "</text><rect x=\"240\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"#3a7\"/>"
                "<text x=\"%.1f\" y=\"%zu\">%.4f</text>\n",
                22 * i + 3, w, 245 + w, 22 * i + 16, g[i].mean_abs_shap);
    }
    fprintf(f, "</svg>\n");
}

static void svg_dependence(FILE *f, const struct app_dependence *d)
{
    size_t n = d->n;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t r = 0; r < n; r++) {
        double x = d->value[r], y = d->shap[r];
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
    html_escape(f, d->feature);
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
        double x = d->value[r], y = d->shap[r];
        if (!isnan(x)) {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#37a\" opacity=\"0.5\"/>\n",
                    40 + 460 * (x - x0) / (x1 - x0), 290 - 280 * (y - y0) / (y1 - y0));
        }
    }
    fprintf(f, "</svg>\n");
}

static int write_report(const char *path, const struct app_explain_view *c, struct px_err *err)
{
    struct fsx_atomic at;
    memset(&at, 0, sizeof at);
    int rc = fsx_atomic_open(path, &at, err);
    if (rc != PX_OK) {
        return rc;
    }
    FILE *f = at.f;
    fprintf(f, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>prospect explain: ");
    html_escape(f, c->model->name);
    fprintf(f, "</title></head><body style=\"font-family:sans-serif\">\n<h1>Model ");
    html_escape(f, c->model->name);
    fprintf(f,
            "/%d: what drives the score</h1>\n<p>%zu rows; SHAP values add up to the margin "
            "within %.2g; threshold %.4f.</p>\n<h2>Mean |SHAP| per feature</h2>\n",
            c->model->version, c->n_data, c->max_sum_diff, c->model->threshold);
    svg_importance(f, c, c->n_global < 20 ? c->n_global : 20);
    if (c->n_dependence > 0) {
        fprintf(f, "<h2>Dependence: feature value vs SHAP value</h2>\n");
    }
    for (size_t i = 0; i < c->n_dependence; i++) {
        svg_dependence(f, &c->dependence[i]);
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
    size_t n_ids = 0;
    int top = 5, n_rows = -1;
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"csv", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},
        {"top", required_argument, NULL, 'k'},
        {"rows", required_argument, NULL, 'r'},
        {"dependence", required_argument, NULL, 'd'},
        {"report", required_argument, NULL, 'o'},
        {"registry", required_argument, NULL, 'R'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int f = cli_format_option("explain", ch, optarg, &fmt);
        if (f >= 0) {
            if (f != CLI_OK) {
                return f;
            }
            continue;
        }
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
            if (!cli_parse_int(optarg, 1, APP_EXPLAIN_TOP_MAX, &top)) {
                return cli_usage_error("explain", "--top must be 1..%d", APP_EXPLAIN_TOP_MAX);
            }
            break;
        case 'r':
            if (!cli_parse_int(optarg, 1, 1000000000, &n_rows)) {
                return cli_usage_error("explain", "--rows must be a positive number");
            }
            break;
        case 'd': dep_arg = optarg; break;
        case 'o': report = optarg; break;
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
    struct app_explain_params ep = app_explain_default_params();
    if (dep_arg != NULL) {
        ep.n_dependence = cli_split_list(dep_arg, dep_names, MAX_DEP);
        ep.dependence = (const char *const *)dep_names;
    }
    ep.ids = ids;
    ep.n_ids = n_ids;
    ep.top = (size_t)top;
    if (n_ids > 0 && n_rows > 0) {
        return cli_usage_error("explain", "give --id or --rows, not both");
    }
    // default: the table shows the 10 most likely rows, json and csv every row
    ep.n_rows = n_rows > 0 ? (size_t)n_rows : fmt == CLI_FORMAT_TABLE ? 10 : 0;
    struct px_err err = {0};
    struct app_prop_model *m = NULL;
    struct app_prop_data *d = NULL;
    struct app_prop_explained *x = NULL;
    struct cli_bar rb = {.label = "read"}, sb = {.label = "SHAP"};
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    int status = CLI_FAIL;
    int rc = app_prop_load(root, model, 2, &m, &err);
    if (rc == PX_OK)
        rc = app_prop_data_csv_progress(m, csv, false, cli_bar_report, &rb, &d, &err);
    cli_bar_end(&rb);
    if (rc == PX_OK)
        rc = app_prop_data_shap_progress(m, d, cli_bar_report, &sb, &err);
    cli_bar_end(&sb);
    if (rc != PX_OK || app_prop_explain(m, d, &ep, &x, &err) != PX_OK ||
        (fmt == CLI_FORMAT_JSON && app_prop_explained_json(x, &doc, &err) != PX_OK)) {
        status = cli_fail("explain", &err);
        goto done;
    }
    const struct app_explain_view *v = app_prop_explained_view(x);
    status = CLI_OK;
    if (fmt == CLI_FORMAT_TABLE) {
        printf("model %s/%d, %zu rows: SHAP values add up to the margin (max |diff| %.2g)\n",
               v->model->name, v->model->version, v->n_data, v->max_sum_diff);
        printf("\nmean |SHAP| per feature:\n");
        for (size_t i = 0; i < v->n_global && i < 20; i++) {
            printf("  %-32s %.4f\n", v->global[i].feature, v->global[i].mean_abs_shap);
        }
        for (size_t i = 0; i < v->n_rows; i++) {
            table_row(&v->rows[i]);
        }
        for (size_t i = 0; i < v->n_dependence; i++) {
            printf("\ndependence of %s: use --format json or csv for the %zu (value, SHAP) "
                   "pairs\n",
                   v->dependence[i].feature, v->dependence[i].n);
        }
    } else if (fmt == CLI_FORMAT_CSV) {
        if (v->n_dependence > 0) {
            csv_dependence(v);
        } else {
            csv_rows(v);
        }
    } else {
        status = cli_print_json("explain", &doc);
    }
    if (status == CLI_OK && report != NULL) {
        if (write_report(report, v, &err) != PX_OK) {
            status = cli_fail("explain", &err);
            goto done;
        }
        fprintf(stderr, "prospect explain: report -> %s\n", report);
    }
done:
    buf_free(&doc);
    app_prop_explained_free(x);
    app_prop_data_free(d);
    app_prop_model_free(m);
    return status;
}
