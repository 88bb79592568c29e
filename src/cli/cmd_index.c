// cmd_index.c — `prospect index`: embed every customer that has no vector for the current model.
// The summary goes to stderr as a line (table, the default) or to stdout as JSON
// (app_index_stats_json) or CSV.
#include <getopt.h>
#include <stdio.h>

#include "app_book.h"
#include "cli.h"
#include "cpu.h"
#include "limits.h"
#include "progress.h"

static const char *const k_usage =
    "usage: prospect index [--db FILE] [--embedder DIR] [--threads N] [--template FILE]\n"
    "                      [--format table|json|csv]\n"
    "\n"
    "Renders every customer of the database as profile text (\"Age: 58, Annual income:\n"
    "$412,000, ...\") and stores its sentence embedding, for the model identified by the sha256\n"
    "of its weights. Customers that already have a vector for that model are skipped, and each\n"
    "batch is stored in its own transaction, so an interrupted run can simply be run again.\n"
    "\n"
    "  --db FILE      database (default ./prospect.db)\n"
    "  --embedder DIR sentence-transformer directory (same lookup as `prospect embed`; the old\n"
    "                 spelling --model DIR still works)\n"
    "  --threads N    encoder threads (default: the number of CPUs)\n"
    "  --template F   profile text from a template instead of \"Label: value, ...\": plain text\n"
    "                 with {column} placeholders (header name or label), {{ and }} for braces;\n"
    "                 give the same --template to prospect search\n"
    "  --format F     the summary as table (a line on stderr, the default), json or csv (stdout)\n"
    "  --json         short for --format json\n";

static void on_progress(size_t done, size_t total, void *user)
{
    (void)total;
    progress_update(user, done);
}

int cmd_index(int argc, char **argv)
{
    const char *db = "prospect.db", *model = NULL, *tpl = NULL;
    enum cli_format format = CLI_FORMAT_TABLE;
    int threads = cpu_count() < LIMIT_THREADS ? cpu_count() : LIMIT_THREADS;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"model", required_argument, NULL, 'm'},
        CLI_FORMAT_OPTIONS,
        {"threads", required_argument, NULL, 't'},
        {"template", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:m:t:T:h", opts, NULL)) != -1) {
        int frc = cli_format_option("index", ch, optarg, &format);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case 'd': db = optarg; break;
        case CLI_OPT_EMBEDDER: model = optarg; break;
        case 'm': model = cli_embedder_alias("index", optarg); break;
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
    if (format == CLI_FORMAT_JSON) {
        struct buf doc;
        buf_init(&doc, LIMIT_TEXT_BYTES);
        rc = app_index_stats_json(&st, &doc, &err);
        rc = rc == PX_OK ? cli_print_json("index", &doc) : cli_fail("index", &err);
        buf_free(&doc);
        return rc;
    }
    if (format == CLI_FORMAT_CSV) {
        printf("customers,embedded,skipped,model_id\n%zu,%zu,%zu,", st.n_customers, st.n_embedded,
               st.n_skipped);
        cli_csv_field(stdout, st.model_id);
        putchar('\n');
        return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
    }
    fprintf(stderr, "prospect index: %zu customers, %zu embedded now, %zu already indexed (model %.20s...)\n",
            st.n_customers, st.n_embedded, st.n_skipped, st.model_id);
    return CLI_OK;
}
