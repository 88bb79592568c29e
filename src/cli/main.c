// main.c — the prospect binary: global flags, then a git-style subcommand.
//
// Only this file picks exit codes and sets the log sink; every subcommand lives in its own
// cmd_<name>.c and reaches the library through the façade (src/app/app_*.h) only.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "logx.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command k_commands[] = {
    {"embed", cmd_embed, "embed texts (one per line) with a sentence-transformer"},
    {"tokenize", cmd_tokenize, "print the WordPiece ids of texts (one per line)"},
    {"model", cmd_model, "show which model is used and whether its weights are present"},
    {"generate", cmd_generate, "write a generated demo bank's customer table as CSV"},
    {"import", cmd_import, "import a customer CSV into the database"},
    {"index", cmd_index, "embed every customer that has no vector for the model yet"},
    {"search", cmd_search, "find customers from a plain-English query"},
    {"similar", cmd_similar, "find the customers most like given ones"},
    {"serve", cmd_serve, "serve search and MLflow scoring over HTTP"},
    {"keys", cmd_keys, "create, list and revoke API keys for the server"},
    {"audit", cmd_audit, "show who looked at which customers (the audit log)"},
    {"saved", cmd_saved, "saved searches: add, list, show, run, delete"},
    {"alerts", cmd_alerts, "customers new to your saved searches; `alerts run` checks now"},
    {"report", cmd_report, "every current match of a saved search as CSV or HTML"},
    {"train", cmd_train, "train a propensity model on a CSV with a binary target column"},
    {"score", cmd_score, "score a CSV with a trained model (--potential: missed positives)"},
    {"explain", cmd_explain, "SHAP explanations of a model's scores"},
    {"runs", cmd_runs, "list trained models' runs, or the best by a metric"},
    {"lookalike", cmd_lookalike, "negatives that look like positives, and the best-scored ones"},
    {"tipping", cmd_tipping, "what change of one feature would tip a customer to positive"},
    {"bundle", cmd_bundle, "create, list, show, promote and delete model bundles"},
    {"recommend", cmd_recommend, "GAT product recommendations: train, eval, per customer"},
    {"segment", cmd_segment, "k-means customer segments, stored for search to filter on"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: prospect [-v|--verbose] <command> [options]\n"
               "       prospect <command> --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++) {
        fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].summary);
    }
    fprintf(f, "\nexit status: 0 ok, 1 the command failed, 2 bad usage\n");
}

static void log_to_stderr(int level, const char *msg, void *user)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    (void)user;
    fprintf(stderr, "prospect: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            g_cli_verbose = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("prospect %s\n", PX_VERSION);
            return CLI_OK;
        } else {
            fprintf(stderr, "prospect: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    logx_set_sink(log_to_stderr, NULL, g_cli_verbose ? LOGX_DEBUG : LOGX_WARN);
    if (i >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[i], "version") == 0) {
        printf("prospect %s\n", PX_VERSION);
        return CLI_OK;
    }
    for (size_t k = 0; k < sizeof k_commands / sizeof k_commands[0]; k++) {
        if (strcmp(argv[i], k_commands[k].name) == 0) {
            return k_commands[k].fn(argc - i, argv + i);
        }
    }
    fprintf(stderr, "prospect: '%s' is not a command\n", argv[i]);
    usage(stderr);
    return CLI_USAGE;
}
