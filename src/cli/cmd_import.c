// cmd_import.c — `prospect import`: load a customer CSV into the store (src/store/csvimport.h).
//
// The library returns the row errors; this file prints them (first LIMIT_IMPORT_ERRORS_KEPT,
// then a count) and the summary, all on stderr, and picks the exit code.
// Note: calls the store directly until app.h grows an app_import (STYLE C12).
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "csvimport.h"
#include "limits.h"
#include "store.h"

static const char *const k_usage =
    "usage: prospect import --csv FILE [--db FILE] [--id-column NAME] [--on-error fail|skip]\n"
    "\n"
    "Imports a customer CSV (header row, comma-separated, UTF-8, optional BOM, LF or CRLF) into\n"
    "the customer store. Column types are inferred (integer, real, currency, percent, date,\n"
    "yes/no, category, list, text); re-importing updates customers by id and may add columns.\n"
    "\n"
    "  --csv FILE        the CSV file to import (required)\n"
    "  --db FILE         the store (default ./prospect.db; created when missing)\n"
    "  --id-column NAME  header of the customer id column (default: the store's id column, or\n"
    "                    the first named id / customer_id, or the first column)\n"
    "  --on-error MODE   fail: any bad row imports nothing (default)\n"
    "                    skip: bad rows are reported and left out, the rest is imported\n"
    "\n"
    "Every bad row is reported on stderr with its line number and reason. Exit status 1 when\n"
    "nothing was imported.\n";

static void print_errors(const struct csvimport_result *r)
{
    for (size_t i = 0; i < r->n_errors_kept; i++) {
        fprintf(stderr, "  %s\n", r->errors[i].msg);
    }
    if (r->n_errors > r->n_errors_kept) {
        fprintf(stderr, "  ... and %zu more bad rows\n", r->n_errors - r->n_errors_kept);
    }
}

int cmd_import(int argc, char **argv)
{
    const char *csv = NULL, *db = "./prospect.db";
    struct csvimport_params ip = csvimport_default_params();
    static const struct option opts[] = {
        {"csv", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'},
        {"id-column", required_argument, NULL, 'i'},
        {"on-error", required_argument, NULL, 'e'},
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
        case 'e':
            if (strcmp(optarg, "fail") == 0) {
                ip.on_error = CSVIMPORT_FAIL;
            } else if (strcmp(optarg, "skip") == 0) {
                ip.on_error = CSVIMPORT_SKIP;
            } else {
                return cli_usage_error("import", "--on-error must be fail or skip, got '%s'",
                                       optarg);
            }
            break;
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
    struct store *s = NULL;
    struct csvimport_result r;
    memset(&r, 0, sizeof r);
    int status = CLI_FAIL;
    if (store_open(db, NULL, &s, &err) != PX_OK) {
        status = cli_fail("import", &err);
        goto done;
    }
    int rc = csvimport_file(s, csv, &ip, &r, &err);
    if (r.n_errors > 0) {
        fprintf(stderr, "prospect import: %zu bad row%s in %s:\n", r.n_errors,
                r.n_errors == 1 ? "" : "s", csv);
        print_errors(&r);
    }
    if (rc != PX_OK) {
        status = cli_fail("import", &err);
        goto done;
    }
    fprintf(stderr,
            "prospect import: %s -> %s: %zu rows read, %zu inserted, %zu updated, %zu skipped; "
            "%zu columns (%zu new)\n",
            csv, db, r.rows_read, r.rows_inserted, r.rows_updated, r.rows_skipped, r.n_columns,
            r.n_columns_added);
    if (g_cli_verbose) {
        struct store_schema sc = {0};
        if (store_schema(s, &sc, &err) == PX_OK) {
            for (size_t i = 0; i < sc.n_cols; i++) {
                fprintf(stderr, "  %-24s %-9s %s%s\n", sc.cols[i].name,
                        coltype_name(sc.cols[i].type), sc.cols[i].label,
                        sc.cols[i].is_id ? " (id)" : "");
            }
        }
        store_schema_free(&sc);
    }
    status = CLI_OK;
done:
    csvimport_result_free(&r);
    store_close(s);
    return status;
}
