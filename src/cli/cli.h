// cli.h — what the subcommand files share: the command signature, exit codes, and small input
// helpers. Each cmd_<name>.c holds one subcommand with its own --help.
#ifndef PX_CLI_H
#define PX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

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

#endif
