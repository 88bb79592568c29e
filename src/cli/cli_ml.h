// cli_ml.h — the last hand-written JSON of the CLI: two writers that cmd_recommend.c and
// cmd_segment.c still use. The propensity commands print documents built in app/ (cli.h,
// cli_print_json); delete this pair of files once the other two do too (issue 10).
#ifndef PX_CLI_ML_H
#define PX_CLI_ML_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "err.h"

// Writes s as a JSON string literal.
void cli_json_string(FILE *f, const char *s);
// Writes a double as JSON (null when not finite).
void cli_json_number(FILE *f, double v);

#endif
