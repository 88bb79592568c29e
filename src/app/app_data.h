// app_data.h — the data a book starts from (app/data.c): the generated demo bank (one CSV), the
// generated wholesale book (three CSVs in a directory), and importing a customer CSV into the
// store. Plain C types only; the generators and the importer below stay out of sight.
//
// Outputs are the generators' bytes exactly: the same parameters always give the same files.
// Every file is written atomically (a temporary name, fsynced, renamed into place), so a failed
// run leaves none. Thread rules: each call is independent; none keeps state between calls.
#ifndef PX_APP_DATA_H
#define PX_APP_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "app_common.h"
#include "buf.h"
#include "err.h"

// ---- the generated demo bank ----

struct app_bank_params {
    uint64_t rows; // customers (default 1000), at most LIMIT_GENERATE_ROWS; 0: the header only
    uint64_t seed; // PRNG seed (default 42); every 64-bit value is a valid seed
};

struct app_bank_params app_bank_default_params(void);

// Writes the demo bank's customer table as CSV (a header line, then one customer per line;
// columns documented at the top of src/data/bankgen.c), streamed in 64 KiB chunks so memory
// does not grow with rows: to path atomically when path is not NULL, else to stream (borrowed;
// flushed, not closed). progress (may be NULL) gets the rows written and params->rows after each
// chunk. PX_ELIMIT when rows exceeds LIMIT_GENERATE_ROWS; PX_EIO naming the output when a write
// fails.
int app_generate_bank(const struct app_bank_params *params, const char *path, FILE *stream,
                      app_progress_fn progress, void *user,
                      struct px_err *err);

// ---- the generated wholesale book ----

struct app_wholesale_params {
    uint32_t n_customers;    // clients (default 1000), 1..LIMIT_WHOLESALE_CUSTOMERS
    uint32_t n_products;     // products (default 200), 2..LIMIT_WHOLESALE_PRODUCTS
    uint64_t n_transactions; // transactions (default 20000), n_customers..
                             // LIMIT_WHOLESALE_TRANSACTIONS
    uint64_t seed;           // PRNG seed (default 42)
    double structure;        // 0..1 (default 1): how strongly purchases follow the planted
                             // affinities and bundles; 0 draws every product uniformly
};

struct app_wholesale_params app_wholesale_default_params(void);

// Writes customers.csv, products.csv and transactions.csv (src/data/wholesale.c documents them)
// into dir, created when missing, each atomically. PX_EINVAL / PX_ELIMIT for parameters out of
// range; PX_EIO naming the file when a write fails.
int app_generate_wholesale(const struct app_wholesale_params *params, const char *dir,
                           struct px_err *err);

// ---- importing a customer CSV ----

enum app_import_on_error {
    APP_IMPORT_FAIL = 0, // any bad row: nothing imported (default)
    APP_IMPORT_SKIP = 1, // bad rows are reported and left out; the rest is committed
};

struct app_import_params {
    const char *id_column; // borrowed; header of the id column. NULL (default): the stored id
                           // column on re-import, else the first named id / customer_id, else
                           // the first column unless it cannot be an id (then the rows are
                           // numbered in a new id column "row", said in a note)
    enum app_import_on_error on_error; // default APP_IMPORT_FAIL
    char delimiter; // the field separator; 0 (default): ',', ';' or tab detected from the header
    // Called while rows are written (every few thousand and once at the end) with the rows
    // checked so far and the file's data rows; NULL (default): none.
    app_progress_fn progress;
    void *user; // passed to progress
    // After a committed import the saved searches' alerts run (app_saved.h,
    // app_alerts_after_import) when the database has any; true: not now.
    bool no_alerts;
};

struct app_import_params app_import_default_params(void);

// A column of the store after the import (all of them: earlier imports' too).
struct app_import_column {
    char *name;       // owned: the CSV header, as written
    char *label;      // owned: the humanised label ("annual_income" -> "Annual income")
    const char *type; // static: integer real currency percent date bool list category text
    bool is_id;       // the customer id column
};

// What an import did. Counts are of data rows (header and blank lines excluded).
struct app_import_stats {
    size_t rows_read;       // data rows in the file
    size_t rows_inserted;   // new customers
    size_t rows_updated;    // customers that were already in the store
    size_t rows_skipped;    // bad rows (== n_errors); in fail mode nothing is written
    size_t n_columns;       // columns in the file
    size_t n_columns_added; // of them, new to the store
    uint64_t bytes;         // file size
    bool committed;         // the import was committed
    size_t n_errors;        // bad rows
    char **errors;          // owned: (n_errors_kept) one line each, "line N...": the first
                            // LIMIT_IMPORT_ERRORS_KEPT bad rows
    size_t n_errors_kept;
    struct app_import_column *columns; // owned: (n_store_columns) the store's schema after a
                                       // committed import; empty otherwise
    size_t n_store_columns;
    char notes[8][320];     // (n_notes) what the reader decided and said once: the separator
    size_t n_notes;         // when not ',', row numbers as ids, European decimal commas
    // the alert run after the import (app_saved.h): searches run, customers new to one, and
    // why it failed ("" when it did not; the import stays committed either way)
    long long alerts_ran, alerts_new;
    char alerts_error[PX_ERR_MSG_MAX];
};

// Imports the CSV at csv_path into the store at db_path (created when missing) in one
// transaction: column types inferred (or the stored ones kept), rows upserted by id. *stats is
// always filled (app_import_stats_free, also after a failure: it holds the row errors).
// Once committed, the saved searches' alerts run (see no_alerts; stats->alerts_*).
// Returns PX_OK when committed (in skip mode even with bad rows), PX_EINVAL when fail mode found
// bad rows (err says how many and shows the first), or the status of a file-level error (err
// names the file and line).
int app_import(const char *db_path, const char *csv_path, const struct app_import_params *params,
               struct app_import_stats *stats, struct px_err *err);
// NULL is a no-op; stats is zeroed.
void app_import_stats_free(struct app_import_stats *stats);

// The summary of a committed import as one JSON object: {"file", "db", "bytes", "rows_read",
// "rows_inserted", "rows_updated", "rows_skipped", "n_columns", "n_columns_added", "n_errors",
// "errors": [first messages], "columns": [{"name", "label", "type", "is_id"}]}.
int app_import_json(const struct app_import_stats *stats, const char *csv_path, const char *db_path,
                    struct buf *out, struct px_err *err);

#endif
