// filter.h — a columnar copy of the filterable customer fields, and the evaluation of a query
// plan's hard filters (→ candidate bitmap) and soft boosts (→ per-row score) over it.
//
// Columns are aligned with the query_schema the plan was parsed against (column i of the table =
// column i of the schema). Storage per kind:
//   numeric   double per row, NaN = missing
//   category  uint32 code per row into the column's dictionary, CODE_MISSING = missing
//   list      uint64 bit mask per row over the column's dictionary (at most 63 distinct values;
//             bit 63 marks a present value, so an empty cell is missing, not an empty list)
//   bool      int8 per row: 1, 0, or -1 = missing
//   text / id not stored (never filtered)
// A missing value satisfies no filter and no boost, negated ones included: "not in the Private
// segment" returns customers known to be in another segment, so every result provably passes
// every filter the answer lists.
//
// Immutable after filling; filter_apply and boost_score may run from many threads.
#ifndef PX_FILTER_H
#define PX_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "bitmap.h"
#include "err.h"
#include "mapfile.h"
#include "query.h"

#define COLTABLE_MAX_LIST_VALUES 63

struct coltable;

// A table of n_rows rows whose columns follow schema (borrowed for the call: names and kinds
// are copied). Returns owned *out (coltable_free).
int coltable_new(const struct query_schema *schema, size_t n_rows, struct coltable **out,
                 struct px_err *err);
// The same from n_cols column names and kinds (borrowed for the call), for a table filled
// before its query schema exists (the engine builder derives the schema from the filled
// table). Returns owned *out (coltable_free).
int coltable_new_columns(const char *const *names, const enum query_col_kind *kinds,
                         size_t n_cols, size_t n_rows, struct coltable **out, struct px_err *err);
// NULL is a no-op.
void coltable_free(struct coltable *t);
size_t coltable_rows(const struct coltable *t);
// Keeps only the first n_rows rows (n_rows <= the rows the table was made with), for a table
// made for an upper bound of rows. PX_EINVAL past it.
int coltable_set_rows(struct coltable *t, size_t n_rows, struct px_err *err);
// Borrowed view of a NUMERIC column's values (coltable_rows of them, NaN = missing), valid
// until coltable_free; NULL for another kind.
const double *coltable_numbers(const struct coltable *t, size_t i_col);

// Fills one row's value of column i_col from its text form as stored (numeric: v; category,
// list ("A; B"), bool: s). Missing: v NaN / s NULL or "". PX_EINVAL when the kind differs,
// PX_ELIMIT when a list column exceeds COLTABLE_MAX_LIST_VALUES distinct values.
int coltable_set_number(struct coltable *t, size_t row, size_t i_col, double v,
                        struct px_err *err);
int coltable_set_text(struct coltable *t, size_t row, size_t i_col, const char *s,
                      struct px_err *err);
int coltable_set_bool(struct coltable *t, size_t row, size_t i_col, int v, struct px_err *err);

// Writes the table as section FCOL of w (see filter.c for the layout).
int coltable_save(const struct coltable *t, struct mapfile_writer *w, struct px_err *err);
// A read-only table over m's FCOL section (m borrowed: it must outlive the table; the values
// are read from the map, not copied). PX_EFORMAT naming the file when the section is damaged.
// Returns owned *out (coltable_free).
int coltable_open(const struct mapfile *m, struct coltable **out, struct px_err *err);

// out (bitmap of coltable_rows bits) = rows passing every filter. PX_EINVAL for a filter on a
// column whose kind cannot be filtered.
int filter_apply(const struct coltable *t, const struct query_filter *filters, size_t n,
                 struct bitmap *out, struct px_err *err);
// True when row passes filter f.
bool filter_row(const struct coltable *t, const struct query_filter *f, size_t row);

// A filter with its values resolved against the table once (codes, list bit mask), for
// testing many rows: filter_prepared_row(t, p, row) == filter_row(t, p->f, row).
struct filter_prepared {
    const struct query_filter *f; // borrowed: must outlive p
    uint64_t mask;                // LIST: the values' bits
    uint32_t codes[LIMIT_QUERY_FILTER_VALUES]; // CATEGORY: the values' codes (unknown ones left out)
    size_t n_codes;
};
void filter_prepare(const struct coltable *t, const struct query_filter *f,
                    struct filter_prepared *p);
bool filter_prepared_row(const struct coltable *t, const struct filter_prepared *p, size_t row);
// Clears the bits of rows (a bitmap of coltable_rows bits) whose row fails p.
void filter_prepared_rows(const struct coltable *t, const struct filter_prepared *p,
                          struct bitmap *rows);
// Sum of the weights of the boosts row satisfies (flat: the engine grades them, engine.h).
double boost_score(const struct coltable *t, const struct query_boost *boosts, size_t n,
                   size_t row);

#endif
