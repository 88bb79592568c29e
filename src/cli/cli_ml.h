// cli_ml.h — what the propensity subcommands (train, score, explain, runs, lookalike, tipping)
// share: output formats, CSV quoting, comma lists, and the model registry directory.
// The work itself goes through app.h (app_train, app_prop_*: app/propensity.c).
#ifndef PX_CLI_ML_H
#define PX_CLI_ML_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"


enum cli_format { CLI_FORMAT_TABLE = 0, CLI_FORMAT_JSON = 1, CLI_FORMAT_CSV = 2 };

// Parses "table" / "json" / "csv"; false on anything else.
bool cli_parse_format(const char *s, enum cli_format *out);
// Writes s as one CSV field (quoted when it holds a comma, quote, CR or LF).
void cli_csv_field(FILE *f, const char *s);
// Writes s as a JSON string literal.
void cli_json_string(FILE *f, const char *s);
// Writes a double as JSON (null when not finite).
void cli_json_number(FILE *f, double v);
// Splits a comma list in place into items (at most max); returns the count. Empty items are
// dropped; surrounding spaces are trimmed.
size_t cli_split_list(char *s, char **items, size_t max);
// Parses a number in [lo, hi]; false on anything else.
bool cli_parse_double(const char *s, double lo, double hi, double *out);

#endif
