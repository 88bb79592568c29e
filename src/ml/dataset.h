// dataset.h — any CSV with a binary target column -> a numeric feature matrix for the classifier.
//
// Column types come from the store's inference (store/coltype.h), so `prospect import` and
// `prospect train` agree on what a number, a date or a yes/no answer is. What becomes a feature:
//   integer, real, currency, percent  the number (missing: NaN, which XGBoost treats as missing)
//   bool                              1 / 0
//   date                              days since 1970-01-01
//   category                          one-hot: one 0/1 feature per level seen in training,
//                                     named "<column>=<level>"; an unseen level scores as all 0
//   list ("A; B; C")                  multi-hot: one 0/1 feature per item seen in training,
//                                     named "<column>=<item>" (type list); an empty value is 0s
//   postcode-like integer             one-hot over its first 3 digits (an area), type integer
//                                     with a level: a plain digit code of one width (>= 4) in
//                                     99 % of the values, >= 50 distinct values (a note names
//                                     it); a count or an amount has values of many widths
//   text                              not used (a note says so); a text column whose values are
//                                     all distinct is the row id
//   integer with all values distinct  ID-like: not used, a note says so, first one is the row id
//   a single distinct value           constant: not used, a note says so
// The target must have exactly two distinct values: a bool column's 1 / yes / true is the
// positive class unless --positive says otherwise; for other columns --positive is required.
// A column of more values with --positive one of them is one-vs-rest: that value is 1, every
// other non-empty value 0 (negative "not VALUE"; a note says so).
//
// Two steps: ml_dataset_build infers a struct ml_spec (the feature list, saved with the model)
// and loads the training matrix; ml_dataset_apply loads any later CSV through a saved spec (the
// columns are matched by name; the target is optional there).
//
// Errors (nothing is half-built; *out is empty after a failure): target column missing, target
// not binary or a single class, an empty target value, a column with no values at all, a value
// that does not fit its column's type (named by line, column and value), a ragged row, more
// features than rows, a --drop name that is not a column.
#ifndef PX_ML_DATASET_H
#define PX_ML_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "coltype.h"
#include "csvread.h"
#include "err.h"

struct ml_feature {
    char *name;        // owned: the column name, or "<column>=<level>" for a one-hot level
    char *column;      // owned: source column name
    char *level;       // owned: category level (one-hot), or NULL
    enum coltype type; // the source column's type
    bool integer;      // whole-number steps make sense (integer, bool, date, one-hot)
    double min, max;   // over the training rows (NaN when the column had no value)
};

struct ml_spec {
    struct ml_feature *features; // owned: (n_features)
    size_t n_features;
    char *target;     // owned: target column name
    char *positive;   // owned: the positive value as written ("1" for a bool target)
    char *negative;   // owned: the other value
    bool target_bool; // target compared as a bool (yes/true/1 == 1)
    bool one_vs_rest; // target: positive == 1, any other non-empty value 0
    char *id_column;  // owned: the row-id column, or NULL (rows are then named by line)
    char **notes;     // owned: (n_notes) one line each: what was left out and why
    size_t n_notes;
};

struct ml_dataset {
    size_t n_rows;
    size_t n_features;
    float *x;     // owned: (n_rows, n_features) row-major; NaN = missing
    float *y;     // owned: (n_rows) 1 / 0, NAN where the target is empty; NULL: no target
    size_t *line; // owned: (n_rows) CSV line of each row
    char **id;    // owned: (n_rows) id strings, or NULL when the spec has no id column
    size_t n_pos; // rows with y == 1
    size_t n_neg; // rows with y == 0
};

struct ml_build_params {
    const char *target;      // borrowed; required
    const char *positive;    // borrowed; NULL: the bool target's true value
    const char *const *drop; // borrowed: (n_drop) column names to leave out
    size_t n_drop;
};

// Reads the CSV at path, infers the spec and loads the matrix. Returns owned *spec and *ds
// (free with ml_spec_free / ml_dataset_free); on failure both are left empty.
int ml_dataset_build(const char *path, const struct ml_build_params *params, struct ml_spec *spec,
                     struct ml_dataset *ds, struct px_err *err);
// Loads the CSV at path through spec (borrowed). Every feature's column must be present; the
// target column is loaded when present (need_target: its absence is an error). Returns owned
// *ds (ml_dataset_free).
int ml_dataset_apply(const char *path, const struct ml_spec *spec, bool need_target,
                     struct ml_dataset *ds, struct px_err *err);
// The same, telling progress (done, total) in lines of the file as it reads (the lines are
// counted first, one quick pass; a scoring file of millions of rows takes seconds to load).
typedef void (*ml_dataset_progress_fn)(size_t done, size_t total, void *user);
int ml_dataset_apply_progress(const char *path, const struct ml_spec *spec, bool need_target,
                              ml_dataset_progress_fn progress, void *user, struct ml_dataset *ds,
                              struct px_err *err);

// The same over CSV text in memory (data: size bytes, borrowed for the call; name is used in
// messages where the path would be).
int ml_dataset_apply_memory(const void *data, size_t size, const char *name,
                            const struct ml_spec *spec, bool need_target, struct ml_dataset *ds,
                            struct px_err *err);

// The same over records the caller hands over instead of CSV text (JSON rows, say):
// produce(user, record, record_user, err) calls record(record_user, index, line, f, len, n, err)
// for the header (index 0: the column names) and then each row, as csvread_file would, and
// returns the first status that is not PX_OK. Fields are parsed exactly as CSV fields are.
typedef int (*ml_records_fn)(void *user, csvread_record_fn record, void *record_user,
                             struct px_err *err);
int ml_dataset_apply_records(const char *name, const struct ml_spec *spec, bool need_target,
                             ml_records_fn produce, void *user, struct ml_dataset *ds,
                             struct px_err *err);

// Appends a note (copied; at most 511 bytes kept) to spec's notes.
int ml_spec_add_note(struct ml_spec *spec, const char *text, struct px_err *err);
void ml_spec_free(struct ml_spec *spec);
void ml_dataset_free(struct ml_dataset *ds);
// Row name for output: the id, else "line N" into out (n bytes). Returns out.
const char *ml_dataset_row_name(const struct ml_dataset *ds, size_t row, char *out, size_t n);

#endif
