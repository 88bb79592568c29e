// cmd_score.c — `prospect score`: probability and label per row of a CSV with a saved model; with
// --potential only the rows the model rates at or above its threshold whose target says
// negative (the missed buyers / hidden affluent customers), ranked by probability. Each row
// shown carries its reason codes (app_prop_scores_reasons: the --reasons N features of largest
// |SHAP|, phrased "Income 49 lowers the score by 1.20"; the table and CSV join them with "; ").
// The answer is app_prop_score's: the table and CSV read its view, --format json prints its
// document (the shape POST /api/models/{id}/score answers).
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "fsx.h"
#include "limits.h"

static const char *const k_usage =
    "usage: prospect score --model NAME[/VERSION] --csv FILE [--potential] [--top N]\n"
    "                      [--reasons N] [--out FILE] [--format table|json|csv] [--json] [--registry DIR]\n"
    "\n"
    "Scores every row of FILE with a model saved by `prospect train` (newest version unless\n"
    "/VERSION is given): probability of the positive class and the label at the model's\n"
    "threshold. The CSV needs the model's feature columns; the target column is optional.\n"
    "\n"
    "  --potential     only rows labelled negative in the file that the model rates positive,\n"
    "                  highest probability first (needs the target column)\n"
    "  --top N         at most N rows\n"
    "  --reasons N     reason codes per row: the N features that move its score most, signed\n"
    "                  (default 3; 0: none)\n"
    "  --out FILE      write there (atomically) instead of stdout; csv unless --format json\n"
    "  --format F      table (default on stdout), json or csv; --json is --format json\n"
    "  --registry DIR  where models are kept (default $PROSPECT_REGISTRY, else ./registry)\n";

static const char *actual_str(const struct app_score_row *r)
{
    return r->actual < 0 ? "" : r->actual ? "1" : "0";
}

// The row's reason codes joined with "; " into out (n bytes).
static const char *reasons_str(const struct app_score_row *r, char *out, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t j = 0; j < r->n_reasons && at + 1 < n; j++) {
        int w = snprintf(out + at, n - at, "%s%s", j ? "; " : "", r->reasons[j].text);
        at += w > 0 ? (size_t)w : 0;
    }
    return out;
}

static void write_rows(FILE *f, enum cli_format fmt, const struct app_score_view *v)
{
    const char *idh = v->model->id_column ? v->model->id_column : "row";
    char why[4096];
    if (fmt == CLI_FORMAT_CSV) {
        cli_csv_field(f, idh);
        fprintf(f, ",line,probability,label%s%s\n", v->has_target ? ",actual" : "",
                v->reasons ? ",to_threshold,reasons" : "");
    } else {
        fprintf(f, "%-16s %8s %11s %5s%s%s\n", idh, "line", "probability", "label",
                v->has_target ? " actual" : "", v->reasons ? "  reasons" : "");
    }
    for (size_t i = 0; i < v->n_rows; i++) {
        const struct app_score_row *r = &v->rows[i];
        if (fmt == CLI_FORMAT_CSV) {
            cli_csv_field(f, r->name);
            fprintf(f, ",%zu,%.6f,%d", r->line, r->probability, r->label);
            if (v->has_target) {
                fprintf(f, ",%s", actual_str(r));
            }
            if (v->reasons) {
                fprintf(f, ",%.6f,", app_prop_to_threshold(v, r));
                cli_csv_field(f, reasons_str(r, why, sizeof why));
            }
            fprintf(f, "\n");
        } else {
            fprintf(f, "%-16s %8zu %11.4f %5d%s%6s%s%s\n", r->name, r->line, r->probability,
                    r->label, v->has_target ? " " : "", v->has_target ? actual_str(r) : "",
                    v->reasons ? "  " : "", v->reasons ? reasons_str(r, why, sizeof why) : "");
        }
    }
}

int cmd_score(int argc, char **argv)
{
    const char *model = NULL, *csv = NULL, *out = NULL, *root = app_registry_dir(NULL);
    bool have_format = false;
    int top = 0, reasons = APP_REASONS_DEFAULT;
    struct app_score_params sp = {0};
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"csv", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"potential", no_argument, NULL, 'p'},
        {"top", required_argument, NULL, 'n'},
        {"reasons", required_argument, NULL, 'r'},
        {"registry", required_argument, NULL, 'R'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int f = cli_format_option("score", ch, optarg, &fmt);
        if (f >= 0) {
            if (f != CLI_OK) {
                return f;
            }
            have_format = true;
            continue;
        }
        switch (ch) {
        case 'm': model = optarg; break;
        case 'c': csv = optarg; break;
        case 'o': out = optarg; break;
        case 'p': sp.potential = true; break;
        case 'n':
            if (!cli_parse_int(optarg, 1, 1000000000, &top)) {
                return cli_usage_error("score", "--top must be a positive number, got '%s'",
                                       optarg);
            }
            break;
        case 'r':
            if (!cli_parse_int(optarg, 0, APP_REASONS_MAX, &reasons)) {
                return cli_usage_error("score", "--reasons must be 0..%d, got '%s'",
                                       APP_REASONS_MAX, optarg);
            }
            break;
        case 'R': root = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("score", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("score", "unexpected argument '%s'", argv[optind]);
    }
    if (model == NULL || csv == NULL) {
        return cli_usage_error("score", "--model NAME and --csv FILE are required");
    }
    if (out != NULL && !have_format) {
        fmt = CLI_FORMAT_CSV;
    }
    sp.top = (size_t)top;
    struct px_err err = {0};
    struct app_prop_model *m = NULL;
    struct app_prop_data *d = NULL;
    struct app_prop_scores *s = NULL;
    struct fsx_atomic at;
    struct buf doc;
    memset(&at, 0, sizeof at);
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    int status = CLI_FAIL;
    struct cli_bar rb = {.label = "read"};
    int rc = app_prop_load(root, model, 2, &m, &err);
    if (rc == PX_OK)
        rc = app_prop_data_csv_progress(m, csv, sp.potential, cli_bar_report, &rb, &d, &err);
    cli_bar_end(&rb);
    if (rc != PX_OK ||
        app_prop_score(m, d, &sp, &s, &err) != PX_OK ||
        app_prop_scores_reasons(m, d, s, (size_t)reasons, &err) != PX_OK ||
        (fmt == CLI_FORMAT_JSON && app_prop_scores_json(s, &doc, &err) != PX_OK)) {
        status = cli_fail("score", &err);
        goto done;
    }
    const struct app_score_view *v = app_prop_scores_view(s);
    if (sp.potential) {
        fprintf(stderr,
                "prospect score: %zu of %zu rows labelled '%s' = %s score at or above the "
                "threshold %.4f%s\n",
                v->n_matched, v->n_negatives, v->model->target, v->model->negative,
                v->model->threshold,
                v->out_of_fold ? " (the training file: each row scored out-of-fold, never by the "
                                 "model that saw its label)"
                               : "");
    }
    if (out == NULL) {
        status = fmt == CLI_FORMAT_JSON ? cli_print_json("score", &doc)
                                        : (write_rows(stdout, fmt, v), CLI_OK);
        goto done;
    }
    if (fsx_atomic_open(out, &at, &err) != PX_OK) {
        status = cli_fail("score", &err);
        goto done;
    }
    if (fmt == CLI_FORMAT_JSON) {
        fwrite(doc.data, 1, doc.len, at.f);
        fputc('\n', at.f);
    } else {
        write_rows(at.f, fmt, v);
    }
    if (fsx_atomic_commit(&at, &err) != PX_OK) {
        status = cli_fail("score", &err);
        goto done;
    }
    fprintf(stderr, "prospect score: %zu rows -> %s\n", v->n_rows, out);
    status = CLI_OK;
done:
    fsx_atomic_abort(&at);
    buf_free(&doc);
    app_prop_scores_free(s);
    app_prop_data_free(d);
    app_prop_model_free(m);
    return status;
}
