// cli_ml.h — what the propensity subcommands (train, score, explain, runs, lookalike, tipping)
// share beyond cli.h. The work itself goes through app_prop.h (app/propensity.c).
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
