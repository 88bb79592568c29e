// cmd_generate.c — `prospect generate`: writes the demo bank's customer table as CSV
// (app_generate_bank, app_data.h: streamed in 64 KiB chunks, so 10 M rows need no more memory
// than 10 rows); this file parses the options and draws the progress bar.
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app_data.h"
#include "cli.h"
#include "limits.h"
#include "progress.h"

static const char *const k_usage =
    "usage: prospect generate [--rows N] [--seed S] [--out FILE.csv] [--kind retail|wholesale]\n"
    "\n"
    "Writes a generated retail bank's customer table as CSV (standard output by default): one\n"
    "header line, then one customer per line, 35 columns (customer_id, age, annual_income,\n"
    "credit_score, segment, products_held, interests, ...) whose values are correlated the way a\n"
    "real book is. The same seed always gives the same bytes. Money is written \"$85,000\",\n"
    "percentages \"23%\", dates 2015-03-15, booleans Yes/No, lists \"Checking; Savings\".\n"
    "The columns are documented at the top of src/data/bankgen.c.\n"
    "\n"
    "  --rows N       customers to write (default 1000, at most 100000000; 0 writes the header)\n"
    "  --seed S       random seed, 0..18446744073709551615 (default 42)\n"
    "  --out FILE     write to FILE (atomically: written whole, then renamed) instead of\n"
    "                 standard output\n"
    "  --kind K       retail (default), or wholesale: see prospect generate --kind wholesale\n"
    "                 --help\n"
    "\n"
    "A progress bar is drawn when stderr is a terminal.\n";

static void on_progress(size_t done, size_t total, void *user)
{
    (void)total;
    progress_update(user, done);
}

int cmd_generate(int argc, char **argv)
{
    struct app_bank_params params = app_bank_default_params();
    const char *output = NULL;
    static const struct option opts[] = {
        {"rows", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},  {"kind", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    for (int a = 1; a + 1 < argc; a++) { // the wholesale book has its own options
        if (strcmp(argv[a], "--kind") == 0 && strcmp(argv[a + 1], "wholesale") == 0) {
            return cli_generate_wholesale(argc, argv);
        }
    }
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "n:s:o:k:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (!cli_parse_u64(optarg, LIMIT_GENERATE_ROWS, &params.rows)) {
                return cli_usage_error("generate", "--rows must be 0..%llu, got '%s'",
                                       (unsigned long long)LIMIT_GENERATE_ROWS, optarg);
            }
            break;
        case 's':
            if (!cli_parse_u64(optarg, UINT64_MAX, &params.seed)) {
                return cli_usage_error(
                    "generate", "--seed must be an unsigned 64-bit integer, got '%s'", optarg);
            }
            break;
        case 'o': output = optarg; break;
        case 'k':
            if (strcmp(optarg, "retail") != 0) {
                return cli_usage_error("generate", "--kind must be retail or wholesale, got '%s'",
                                       optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("generate", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("generate", "unexpected argument '%s'", argv[optind]);
    }

    struct px_err err = {0};
    struct progress bar;
    progress_begin(&bar, "generate", params.rows);
    if (app_generate_bank(&params, output, stdout, on_progress, &bar, &err) != PX_OK) {
        if (bar.enabled) {
            fputc('\n', stderr); // end the bar's line before the error
        }
        return cli_fail("generate", &err);
    }
    progress_end(&bar);
    return CLI_OK;
}
