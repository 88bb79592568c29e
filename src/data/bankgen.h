// bankgen.h — the demo bank: a deterministic generator of a retail bank's customer table, one
// CSV line at a time.
//
// The columns, their formats and how they are correlated are documented at the top of
// bankgen.c (that block is the documentation of the demo data). Row i depends only on (seed, i),
// so any row can be produced on its own, in any order, and 10 M rows stream in a few hundred
// bytes of state. Output is byte-identical for a seed on a given libm and CPU family: the draws
// use log, exp, cos and pow from <math.h> (glibc picks FMA variants at run time), and only a
// last-bit difference that lands on a rounding boundary could change a value.
//
// A struct bankgen is immutable after bankgen_new except for its row cursor: bankgen_row may be
// called from any number of threads at once; bankgen_next_row is for one thread at a time.
#ifndef PX_BANKGEN_H
#define PX_BANKGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct bankgen_params {
    uint64_t rows; // data rows to generate (default 1000); at most LIMIT_GENERATE_ROWS
    uint64_t seed; // PRNG seed (default 42); every 64-bit value is a valid seed
};

struct bankgen_params bankgen_default_params(void);

struct bankgen;

// *out returns owned (bankgen_free). PX_ELIMIT when params->rows exceeds LIMIT_GENERATE_ROWS,
// PX_ENOMEM when out of memory. params is borrowed (copied).
int bankgen_new(const struct bankgen_params *params, struct bankgen **out, struct px_err *err);
// NULL is a no-op.
void bankgen_free(struct bankgen *g);

// The table's columns, in CSV order: bankgen_n_columns() names; column i's header name (a static
// string, snake_case) for i < bankgen_n_columns(), NULL otherwise.
size_t bankgen_n_columns(void);
const char *bankgen_column_name(size_t i);

// Appends the header line (column names, comma-separated, ending in '\n') to line. Fails only
// with PX_ENOMEM / PX_ELIMIT from line (line is then unchanged).
int bankgen_header(const struct bankgen *g, struct buf *line, struct px_err *err);

// Appends data row i (0-based; its customer_id is CUST-<i+1>) as one CSV line ending in '\n':
// fields quoted per RFC 4180 where they contain ',' or '"'. PX_EINVAL when i >= rows;
// PX_ENOMEM / PX_ELIMIT from line (line is then unchanged). Thread-safe (g is only read).
int bankgen_row(const struct bankgen *g, uint64_t i, struct buf *line, struct px_err *err);

// Row cursor: true while rows remain; bankgen_next_row appends the next row (as bankgen_row)
// and advances the cursor only on success; PX_EINVAL after the last row.
bool bankgen_has_next(const struct bankgen *g);
int bankgen_next_row(struct bankgen *g, struct buf *line, struct px_err *err);
// Rows the cursor has produced so far.
uint64_t bankgen_rows_done(const struct bankgen *g);

#endif
