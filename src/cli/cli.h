// cli.h — what the subcommand files share: the command signature, exit codes, and small input
// helpers. Each cmd_<name>.c holds one subcommand with its own --help.
#ifndef PX_CLI_H
#define PX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "progress.h"

// Exit codes (documented in README): 0 ok, 1 the command failed, 2 bad usage.
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

// A subcommand: argv[0] is its name; returns an exit code.
int cmd_embed(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_similar(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_lookalike(int argc, char **argv);
int cmd_tipping(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_segment(int argc, char **argv);
// Saved searches, alerts and reports (cmd_saved.c).
int cmd_saved(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_report(int argc, char **argv);
// `prospect generate --kind wholesale` (cmd_generate_wholesale.c).
int cli_generate_wholesale(int argc, char **argv);

// Prints "prospect <cmd>: error: <msg>" to stderr and returns CLI_FAIL.
int cli_fail(const char *cmd, const struct px_err *err);
// Prints a usage error with a pointer to --help and returns CLI_USAGE.
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Parses a decimal int in [lo, hi]; false on anything else.
bool cli_parse_int(const char *s, int lo, int hi, int *out);
// Parses a decimal unsigned 64-bit value in [0, max]; false on a sign, spaces, junk or overflow.
bool cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

// ---- the options every command shares ----
//
// Output: --format table|json|csv on every command that prints an answer, --json its short form.
// In a getopt_long table: CLI_FORMAT_OPTIONS; in the switch: cli_format_option.
enum cli_format { CLI_FORMAT_TABLE = 0, CLI_FORMAT_JSON = 1, CLI_FORMAT_CSV = 2 };
enum { CLI_OPT_FORMAT = 0x100, CLI_OPT_JSON = 0x101, CLI_OPT_EMBEDDER = 0x102 };
#define CLI_FORMAT_OPTIONS                                                                         \
    {"format", required_argument, NULL, CLI_OPT_FORMAT}, {"json", no_argument, NULL, CLI_OPT_JSON}
// Parses "table" / "json" / "csv"; false on anything else.
bool cli_parse_format(const char *s, enum cli_format *out);
// For opt CLI_OPT_FORMAT or CLI_OPT_JSON: sets *fmt and returns CLI_OK, or prints the usage
// error and returns CLI_USAGE. Any other opt: returns -1 (not ours).
int cli_format_option(const char *cmd, int opt, const char *arg, enum cli_format *fmt);
// Prints the JSON document and a newline to stdout; CLI_OK, or CLI_FAIL when stdout fails.
int cli_print_json(const char *cmd, const struct buf *doc);

// Prints the JSON document as CSV: with table_key, the array of objects under that key (a header
// of the first row's keys, then one line per element); without, a flat "field,value" listing of
// the top-level object (or the array, when the document is one). Nested values are written as
// compact JSON text, null as an empty cell. CLI_OK, or CLI_FAIL having printed why.
int cli_print_json_as_csv(const char *cmd, const struct buf *doc, const char *table_key,
                          struct px_err *err);

// The sentence-transformer directory is --embedder DIR on every command ("--model" names a
// registry model). Commands that took --model DIR for it still accept it: they call this, which
// prints a one-line note to stderr and returns dir.
const char *cli_embedder_alias(const char *cmd, const char *dir);

// Writes s as one CSV field (quoted when it holds a comma, quote, CR or LF).
void cli_csv_field(FILE *f, const char *s);
// Splits a comma list in place into items (at most max); returns the count. Empty items are
// dropped; surrounding spaces are trimmed.
size_t cli_split_list(char *s, char **items, size_t max);
// Parses a number in [lo, hi]; false on anything else.
bool cli_parse_double(const char *s, double lo, double hi, double *out);

// The lines of a text input: one text per line, '\n' separated, a trailing '\r' dropped, no
// empty last line after a final newline. Line i is data[off[i] .. off[i] + len[i]).
struct cli_lines {
    char *data;         // owned (px_free): the whole input
    size_t size;
    const char **text;  // owned: (n) pointers into data
    size_t *len;        // owned: (n)
    size_t n;
};

// Reads path (NULL or "-" = stdin) completely, at most LIMIT_EMBED_INPUT_BYTES, and splits it.
// A line over LIMIT_TEXT_BYTES is PX_ELIMIT naming its number.
int cli_read_lines(const char *path, struct cli_lines *lines, struct px_err *err);
void cli_lines_free(struct cli_lines *lines);

// Verbose logging to stderr (--verbose / -v before the subcommand).
extern int g_cli_verbose;

// A progress bar for an app_progress_fn: begun on the first report (when the total is known),
// drawn on a terminal, quiet when piped (base/progress.h). cli_bar_end ends it if it began.
struct cli_bar {
    struct progress bar;
    const char *label;
    bool started;
};
void cli_bar_report(size_t done, size_t total, void *user); // user: struct cli_bar *
void cli_bar_end(struct cli_bar *b);

#endif
