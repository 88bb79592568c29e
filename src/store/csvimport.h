// csvimport.h — imports any customer CSV into the store (`prospect import --csv FILE`).
//
// Two streaming passes over the file with libcsv: the first reads the header and infers each
// column's type (coltype.h), the second validates every row and upserts it by id, all in one
// transaction. Memory is bounded per row (LIMIT_CSV_* in limits.h), never per file.
//
// Input: RFC 4180 CSV (quotes, embedded newlines, "" escapes), LF or CRLF line ends, optional
// UTF-8 BOM, UTF-8 text. Blank lines are ignored. The first record is the header: names must be
// non-empty, valid UTF-8, at most LIMIT_CSV_NAME_BYTES and unique (exact match).
//
// Every bad data row (wrong field count, invalid UTF-8, a value that does not fit its column's
// type, empty or duplicate id) becomes one csvimport_error naming its line (the line the record
// starts on) and reason; none is dropped silently. With CSVIMPORT_FAIL nothing is written when
// any row is bad; with CSVIMPORT_SKIP bad rows are left out and the rest is committed. Errors of
// the file as a whole (empty, header only, bad header, broken quoting at the end, a limit
// exceeded, a column whose type differs from the store's) abort the import in both modes.
//
// Re-import: rows upsert by id (existing customers get the file's columns updated, others keep
// theirs); the file's columns must match or extend the stored schema: a known column keeps its
// stored type (a file whose values contradict it is an error), new columns are added.
//
// Thread rules: uses the store handle for the duration of the call.
#ifndef PX_CSVIMPORT_H
#define PX_CSVIMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

enum csvimport_on_error {
    CSVIMPORT_FAIL = 0, // any bad row: roll back, nothing imported (default)
    CSVIMPORT_SKIP = 1, // bad rows are reported and left out; the rest is committed
};

struct csvimport_params {
    const char *id_column; // borrowed; header name of the id column. NULL (default): the stored
                           // id column on re-import, else the first column named id /
                           // customer_id / customer id / customerid (any case), else column 1
                           // unless it cannot be an id (it repeats a value, has an empty one or
                           // holds money, reals, percents, dates or yes/no): then the rows are
                           // numbered 1.. in a new id column "row" (a note says so)
    enum csvimport_on_error on_error; // default CSVIMPORT_FAIL
    char delimiter; // field separator; 0 (default): detected from the header (csvread.h)
    // Called in the load pass every CSVIMPORT_PROGRESS_ROWS data records and once at its end,
    // with the records checked so far and the file's data records; NULL (default): none.
    void (*progress)(size_t done, size_t total, void *user);
    void *progress_user; // passed to progress
    // Called inside the import's transaction after the rows and the import log are written,
    // just before the commit (the store shows the new generation); a failure rolls the import
    // back. The book's index file is written here (app/book_file.c). NULL (default): none.
    int (*before_commit)(struct store *s, void *user, struct px_err *err);
    void *before_commit_user; // passed to before_commit
};

enum { CSVIMPORT_PROGRESS_ROWS = 4096, CSVIMPORT_NOTES = 8, CSVIMPORT_NOTE_BYTES = 320 };
// The id column made when the file has none (row numbers).
#define CSVIMPORT_ROW_ID "row"

struct csvimport_params csvimport_default_params(void);

struct csvimport_error {
    size_t line; // 1-based line where the bad record starts
    char *msg;   // owned by the result; one line, starts with "line N"
};

struct csvimport_result {
    size_t rows_read;               // data records (header and blank lines excluded)
    size_t rows_inserted;           // new customers
    size_t rows_updated;            // existing customers updated
    size_t rows_skipped;            // bad rows (== n_errors); in fail mode nothing is written
    size_t n_columns;               // columns in the file
    size_t n_columns_added;         // columns new to the store
    size_t n_errors;                // bad rows
    struct csvimport_error *errors; // (n_errors_kept) the first LIMIT_IMPORT_ERRORS_KEPT
    size_t n_errors_kept;
    uint64_t bytes;      // file size
    bool committed;      // the transaction was committed
    enum coltype *types; // (n_columns) type of each file column as stored
    char delimiter;      // the field separator read: ',', ';' or '\t'
    bool row_ids;        // the file had no id column: rows were numbered (CSVIMPORT_ROW_ID)
    char notes[CSVIMPORT_NOTES][CSVIMPORT_NOTE_BYTES]; // (n_notes) the separator when not ',',
    size_t n_notes;      // row ids, columns of European decimal commas
};

// Imports the file at path into s. *res is always initialised (free with csvimport_result_free,
// also after a failure: it holds the row errors). Returns PX_OK when committed (in skip mode even
// with bad rows), PX_EINVAL when fail mode found bad rows (err says how many and shows the
// first), or the status of a file-level error.
int csvimport_file(struct store *s, const char *path, const struct csvimport_params *params,
                   struct csvimport_result *res, struct px_err *err);
// Same from memory (data borrowed for the call); name is used in messages and the import log.
int csvimport_memory(struct store *s, const void *data, size_t size, const char *name,
                     const struct csvimport_params *params, struct csvimport_result *res,
                     struct px_err *err);
void csvimport_result_free(struct csvimport_result *res);

#endif
