// cmd_import.c — `prospect import`: load a customer CSV into the store (app_import, app_data.h).
//
// The app layer returns the counts, the row errors and the schema; this file prints them and
// picks the exit code. Table format (the default) writes everything to stderr as it always
// has; json prints the summary document app_import_json builds, csv one header line and one
// row of counts, both on stdout (row errors still go to stderr in csv, they are in the document
// in json). A progress bar is drawn on a terminal while rows are written.
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app_data.h"
#include "buf.h"
#include "cli.h"
#include "progress.h"

static const char *const k_usage =
    "usage: prospect import --csv FILE [--db FILE] [--id-column NAME] [--on-error fail|skip]\n"
    "                      [--delimiter ,|;|tab] [--format table|json|csv] [--json]\n"
    "\n"
    "Imports a customer CSV (header row; comma-, ';'- or tab-separated, detected from the header;\n"
    "UTF-8, optional BOM, LF or CRLF) into\n"
    "the customer store. Column types are inferred (integer, real, currency, percent, date,\n"
    "yes/no, category, list, text); re-importing updates customers by id and may add columns.\n"
    "\n"
    "  --csv FILE        the CSV file to import (required)\n"
    "  --db FILE         the store (default ./prospect.db; created when missing)\n"
    "  --id-column NAME  header of the customer id column (default: the store's id column, or\n"
    "                    the first named id / customer_id, or the first column; when that one\n"
    "                    repeats or cannot be an id, rows are numbered in a new column 'row')\n"
    "  --delimiter D     the field separator: ',', ';' or tab (default: detected)\n"
    "  --on-error MODE   fail: any bad row imports nothing (default)\n"
    "                    skip: bad rows are reported and left out, the rest is imported\n"
    "  --format F        the summary as table (default: one line on stderr), json (a document\n"
    "                    on stdout: counts, row errors, the store's columns) or csv (stdout)\n"
    "  --json            same as --format json\n"
    "\n"
    "Every bad row is reported on stderr with its line number and reason (in the document with\n"
    "--json). Exit status 1 when nothing was imported.\n";

static void print_errors(const struct app_import_stats *st)
{
    for (size_t i = 0; i < st->n_errors_kept; i++) {
        fprintf(stderr, "  %s\n", st->errors[i]);
    }
    if (st->n_errors > st->n_errors_kept) {
        fprintf(stderr, "  ... and %zu more bad rows\n", st->n_errors - st->n_errors_kept);
    }
}

struct import_bar {
    struct progress bar;
    bool started; // the total (data rows) is known once rows are written
};

static void on_progress(size_t done, size_t total, void *user)
{
    struct import_bar *b = user;
    if (!b->started) {
        progress_begin(&b->bar, "import", total);
        b->started = true;
    }
    progress_update(&b->bar, done);
}

static int print_table(const struct app_import_stats *st, const char *csv, const char *db)
{
    fprintf(stderr,
            "prospect import: %s -> %s: %zu rows read, %zu inserted, %zu updated, %zu skipped; "
            "%zu columns (%zu new)\n",
            csv, db, st->rows_read, st->rows_inserted, st->rows_updated, st->rows_skipped,
            st->n_columns, st->n_columns_added);
    if (g_cli_verbose) {
        for (size_t i = 0; i < st->n_store_columns; i++) {
            const struct app_import_column *c = &st->columns[i];
            fprintf(stderr, "  %-24s %-9s %s%s\n", c->name, c->type, c->label,
                    c->is_id ? " (id)" : "");
        }
    }
    return CLI_OK;
}

static int print_csv(const struct app_import_stats *st, const char *csv, const char *db)
{
    fputs("file,db,rows_read,rows_inserted,rows_updated,rows_skipped,n_columns,n_columns_added,"
          "n_errors\n",
          stdout);
    cli_csv_field(stdout, csv);
    fputc(',', stdout);
    cli_csv_field(stdout, db);
    printf(",%zu,%zu,%zu,%zu,%zu,%zu,%zu\n", st->rows_read, st->rows_inserted, st->rows_updated,
           st->rows_skipped, st->n_columns, st->n_columns_added, st->n_errors);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_import(int argc, char **argv)
{
    const char *csv = NULL, *db = "./prospect.db";
    struct app_import_params ip = app_import_default_params();
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'},
        {"id-column", required_argument, NULL, 'i'},
        {"on-error", required_argument, NULL, 'e'},
        {"delimiter", required_argument, NULL, 'D'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:d:i:e:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': csv = optarg; break;
        case 'd': db = optarg; break;
        case 'i': ip.id_column = optarg; break;
        case 'D':
            if (strcmp(optarg, ",") == 0 || strcmp(optarg, ";") == 0) {
                ip.delimiter = optarg[0];
            } else if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\t") == 0) {
                ip.delimiter = '\t';
            } else {
                return cli_usage_error("import", "--delimiter must be ',', ';' or tab, got '%s'",
                                       optarg);
            }
            break;
        case 'e':
            if (strcmp(optarg, "fail") == 0) {
                ip.on_error = APP_IMPORT_FAIL;
            } else if (strcmp(optarg, "skip") == 0) {
                ip.on_error = APP_IMPORT_SKIP;
            } else {
                return cli_usage_error("import", "--on-error must be fail or skip, got '%s'",
                                       optarg);
            }
            break;
        case CLI_OPT_FORMAT:
        case CLI_OPT_JSON: {
            int r = cli_format_option("import", ch, optarg, &fmt);
            if (r != CLI_OK) {
                return r;
            }
            break;
        }
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("import", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("import", "unexpected argument '%s'", argv[optind]);
    }
    if (csv == NULL) {
        return cli_usage_error("import", "--csv FILE is required");
    }
    struct px_err err = {0};
    struct app_import_stats st;
    struct import_bar bar = {.started = false};
    ip.progress = on_progress;
    ip.user = &bar;
    int rc = app_import(db, csv, &ip, &st, &err);
    if (bar.started) {
        progress_end(&bar.bar);
    }
    for (size_t i = 0; i < st.n_notes; i++) {
        fprintf(stderr, "prospect import: note: %s\n", st.notes[i]);
    }
    if (st.n_errors > 0 && (fmt != CLI_FORMAT_JSON || rc != PX_OK)) {
        fprintf(stderr, "prospect import: %zu bad row%s in %s:\n", st.n_errors,
                st.n_errors == 1 ? "" : "s", csv);
        print_errors(&st);
    }
    if (rc == PX_OK && st.alerts_error[0] != '\0') {
        fprintf(stderr, "prospect import: warning: the import is committed, but the saved "
                        "searches' alerts did not run: %s (run `prospect alerts run --all`)\n",
                st.alerts_error);
    } else if (rc == PX_OK && st.alerts_ran > 0) {
        fprintf(stderr, "prospect import: alerts: %lld saved search%s ran, %lld new match%s "
                        "(prospect alerts)\n",
                st.alerts_ran, st.alerts_ran == 1 ? "" : "es", st.alerts_new,
                st.alerts_new == 1 ? "" : "es");
    }
    int status = CLI_FAIL;
    if (rc != PX_OK) {
        status = cli_fail("import", &err);
    } else if (fmt == CLI_FORMAT_JSON) {
        struct buf doc;
        buf_init(&doc, 16u << 20); // 1000 columns and 1000 row errors, escaped, fit easily
        status = app_import_json(&st, csv, db, &doc, &err) == PX_OK ? cli_print_json("import", &doc)
                                                                    : cli_fail("import", &err);
        buf_free(&doc);
    } else if (fmt == CLI_FORMAT_CSV) {
        status = print_csv(&st, csv, db);
    } else {
        status = print_table(&st, csv, db);
    }
    app_import_stats_free(&st);
    return status;
}
