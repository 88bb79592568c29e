// cmd_index.c — `prospect index`: embed every customer that has no vector for the current model.
#include <getopt.h>
#include <stdio.h>

#include "app_book.h"
#include "cli.h"
#include "cpu.h"
#include "limits.h"
#include "progress.h"

static const char *const k_usage =
    "usage: prospect index [--db FILE] [--model DIR] [--threads N] [--template FILE]\n"
    "\n"
    "Renders every customer of the database as profile text (\"Age: 58, Annual income:\n"
    "$412,000, ...\") and stores its sentence embedding, for the model identified by the sha256\n"
    "of its weights. Customers that already have a vector for that model are skipped, and each\n"
    "batch is stored in its own transaction, so an interrupted run can simply be run again.\n"
    "\n"
    "  --db FILE      database (default ./prospect.db)\n"
    "  --model DIR    model directory (same lookup as `prospect embed`)\n"
    "  --threads N    encoder threads (default: the number of CPUs)\n"
    "  --template F   profile text from a template instead of \"Label: value, ...\": plain text\n"
    "                 with {column} placeholders (header name or label), {{ and }} for braces;\n"
    "                 give the same --template to prospect search\n";

static void on_progress(size_t done, size_t total, void *user)
{
    (void)total;
    progress_update(user, done);
}

int cmd_index(int argc, char **argv)
{
    const char *db = "prospect.db", *model = NULL, *tpl = NULL;
    int threads = cpu_count() < LIMIT_THREADS ? cpu_count() : LIMIT_THREADS;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"model", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},
        {"template", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:m:t:T:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'm': model = optarg; break;
        case 'T': tpl = optarg; break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_THREADS, &threads)) {
                return cli_usage_error("index", "--threads must be 1..%d, got '%s'",
                                       LIMIT_THREADS, optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("index", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("index", "unexpected argument '%s'", argv[optind]);
    }
    struct px_err err = {0};
    struct app_index_stats st;
    struct progress bar;
    progress_begin(&bar, "index", 0);
    int rc = app_index(db, model, tpl, threads, on_progress, &bar, &st, &err);
    bar.total = st.n_customers - st.n_skipped;
    progress_end(&bar);
    if (rc != PX_OK) {
        if (st.n_embedded > 0) {
            fprintf(stderr, "prospect index: %zu customers were embedded and kept before the "
                            "error; run again to resume\n",
                    st.n_embedded);
        }
        return cli_fail("index", &err);
    }
    fprintf(stderr, "prospect index: %zu customers, %zu embedded now, %zu already indexed (model %.20s...)\n",
            st.n_customers, st.n_embedded, st.n_skipped, st.model_id);
    return CLI_OK;
}
