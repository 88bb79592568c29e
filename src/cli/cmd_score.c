// cmd_score.c — `prospect score`: probability and label per row of a CSV with a saved model; with
// --potential only the rows the model rates at or above its threshold whose target says
// negative (the missed buyers / hidden affluent customers), ranked by probability.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "app_registry.h"
#include "cli.h"
#include "cli_ml.h"
#include "dataset.h"
#include "fsx.h"
#include "mem.h"
#include "propmodel.h"

static const char *const k_usage =
    "usage: prospect score --model NAME[/VERSION] --csv FILE [--potential] [--top N]\n"
    "                      [--out FILE] [--format table|json|csv] [--registry DIR]\n"
    "\n"
    "Scores every row of FILE with a model saved by `prospect train` (newest version unless\n"
    "/VERSION is given): probability of the positive class and the label at the model's\n"
    "threshold. The CSV needs the model's feature columns; the target column is optional.\n"
    "\n"
    "  --potential     only rows labelled negative in the file that the model rates positive,\n"
    "                  highest probability first (needs the target column)\n"
    "  --top N         at most N rows\n"
    "  --out FILE      write there (atomically) instead of stdout; csv unless --format json\n"
    "  --format F      table (default on stdout), json or csv\n"
    "  --registry DIR  where models are kept (default $PROSPECT_REGISTRY, else ./registry)\n";

struct ranked {
    size_t row;
    float p;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->p != y->p) {
        return x->p > y->p ? -1 : 1;
    }
    return (x->row > y->row) - (x->row < y->row);
}

static const char *actual_str(const struct ml_dataset *ds, size_t r)
{
    if (ds->y == NULL || ds->y[r] != ds->y[r]) {
        return "";
    }
    return ds->y[r] == 1.0f ? "1" : "0";
}

static void write_rows(FILE *f, enum cli_format fmt, const struct propmodel_model *m,
                       const struct ml_dataset *ds, const struct ranked *rows, size_t n)
{
    char name[300];
    const char *idh = m->spec.id_column ? m->spec.id_column : "row";
    if (fmt == CLI_FORMAT_CSV) {
        cli_csv_field(f, idh);
        fprintf(f, ",line,probability,label%s\n", ds->y ? ",actual" : "");
    } else if (fmt == CLI_FORMAT_JSON) {
        fprintf(f, "{\"model\": ");
        cli_json_string(f, m->name);
        fprintf(f, ", \"version\": %d, \"threshold\": %.6g, \"rows\": [", m->version, m->threshold);
    } else {
        fprintf(f, "%-16s %8s %11s %5s%s\n", idh, "line", "probability", "label",
                ds->y ? " actual" : "");
    }
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i].row;
        int label = rows[i].p >= m->threshold;
        ml_dataset_row_name(ds, r, name, sizeof name);
        if (fmt == CLI_FORMAT_CSV) {
            cli_csv_field(f, name);
            fprintf(f, ",%zu,%.6f,%d", ds->line[r], rows[i].p, label);
            if (ds->y) {
                fprintf(f, ",%s", actual_str(ds, r));
            }
            fprintf(f, "\n");
        } else if (fmt == CLI_FORMAT_JSON) {
            fprintf(f, "%s\n  {\"id\": ", i ? "," : "");
            cli_json_string(f, name);
            fprintf(f, ", \"line\": %zu, \"probability\": %.6f, \"label\": %d", ds->line[r],
                    rows[i].p, label);
            if (ds->y) {
                fprintf(f, ", \"actual\": %s", actual_str(ds, r)[0] ? actual_str(ds, r) : "null");
            }
            fprintf(f, "}");
        } else {
            fprintf(f, "%-16s %8zu %11.4f %5d%s%s\n", name, ds->line[r], rows[i].p, label,
                    ds->y ? " " : "", ds->y ? actual_str(ds, r) : "");
        }
    }
    if (fmt == CLI_FORMAT_JSON) {
        fprintf(f, "\n]}\n");
    }
}

int cmd_score(int argc, char **argv)
{
    const char *model = NULL, *csv = NULL, *out = NULL, *root = app_registry_dir(NULL);
    bool potential = false, have_format = false;
    int top = 0;
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"csv", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"potential", no_argument, NULL, 'p'},
        {"top", required_argument, NULL, 'n'},
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
        case 'o': out = optarg; break;
        case 'p': potential = true; break;
        case 'n':
            if (!cli_parse_int(optarg, 1, 1000000000, &top)) {
                return cli_usage_error("score", "--top must be a positive number, got '%s'",
                                       optarg);
            }
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage_error("score", "--format must be table, json or csv");
            }
            have_format = true;
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
    struct px_err err = {0};
    struct propmodel_model m;
    struct ml_dataset ds;
    memset(&m, 0, sizeof m);
    memset(&ds, 0, sizeof ds);
    float *prob = NULL;
    struct ranked *rows = NULL;
    struct fsx_atomic at;
    memset(&at, 0, sizeof at);
    int status = CLI_FAIL;
    if (app_prop_load(root, model, 2, &m, &err) != PX_OK ||
        app_prop_data(&m, csv, potential, &ds, &err) != PX_OK) {
        status = cli_fail("score", &err);
        goto done;
    }
    prob = px_malloc(ds.n_rows * sizeof *prob);
    rows = px_malloc(ds.n_rows * sizeof *rows);
    if (prob == NULL || rows == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory scoring %zu rows", ds.n_rows);
        status = cli_fail("score", &err);
        goto done;
    }
    if (app_prop_score(&m, &ds, prob, &err) != PX_OK) {
        status = cli_fail("score", &err);
        goto done;
    }
    size_t n = 0;
    for (size_t r = 0; r < ds.n_rows; r++) {
        if (!potential || (prob[r] >= m.threshold && ds.y[r] == 0.0f)) {
            rows[n].row = r;
            rows[n++].p = prob[r];
        }
    }
    if (potential) {
        qsort(rows, n, sizeof *rows, cmp_ranked);
        fprintf(stderr,
                "prospect score: %zu of %zu rows labelled '%s' = %s score at or above the "
                "threshold %.4f\n",
                n, ds.n_neg, m.spec.target, m.spec.negative, m.threshold);
    }
    if (top > 0 && (size_t)top < n) {
        n = (size_t)top;
    }
    FILE *f = stdout;
    if (out != NULL) {
        if (fsx_atomic_open(out, &at, &err) != PX_OK) {
            status = cli_fail("score", &err);
            goto done;
        }
        f = at.f;
    }
    write_rows(f, fmt, &m, &ds, rows, n);
    if (out != NULL) {
        if (fsx_atomic_commit(&at, &err) != PX_OK) {
            status = cli_fail("score", &err);
            goto done;
        }
        fprintf(stderr, "prospect score: %zu rows -> %s\n", n, out);
    }
    status = CLI_OK;
done:
    fsx_atomic_abort(&at);
    px_free(prob);
    px_free(rows);
    ml_dataset_free(&ds);
    propmodel_model_free(&m);
    return status;
}
