// fuzz_csvimport.c — fuzz target for the CSV import (src/store/csvimport.c).
// Imports the bytes into a fresh in-memory store twice (store_open_memory: a copy of an empty
// store's image, no migrations per input, no file), then checks the invariants:
//   - fail mode: either committed with no row errors, or nothing at all was written (no
//     customers, no columns);
//   - skip mode: when committed, rows_read == inserted + updated + skipped, skipped == errors,
//     the store holds exactly `inserted` customers and the file's columns, and every row reads
//     back through the iterator; every kept error names a line >= 2 and starts with "line ";
//   - both modes agree on what is a file-level error.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvimport.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_rows(struct store *s, size_t n_cols_want)
{
    struct px_err err = {0};
    struct store_schema sc;
    struct store_iter *it = NULL;
    size_t n = 0;
    if (store_schema(s, &sc, &err) != PX_OK || sc.n_cols != n_cols_want) {
        abort();
    }
    if (store_iter_new(s, &sc, &it, &err) != PX_OK) {
        abort();
    }
    for (;;) {
        bool has = false;
        const char *id = NULL;
        const struct coltype_value *v = NULL;
        if (store_iter_next(it, &has, &id, &v, &err) != PX_OK) {
            abort();
        }
        if (!has) {
            break;
        }
        if (id == NULL || id[0] == '\0') {
            abort(); // empty ids are rejected
        }
        n++;
    }
    store_iter_free(it);
    store_schema_free(&sc);
    return n;
}

static int run(const uint8_t *data, size_t size, enum csvimport_on_error mode, bool *file_error)
{
    struct store *s = NULL;
    struct px_err err = {0};
    struct csvimport_result r;
    if (store_open_memory(&s, &err) != PX_OK) {
        abort();
    }
    struct csvimport_params p = csvimport_default_params();
    p.on_error = mode;
    int rc = csvimport_memory(s, data, size, "fuzz.csv", &p, &r, &err);
    if ((rc == PX_OK) != r.committed || (rc != PX_OK && err.msg[0] == '\0')) {
        abort();
    }
    for (size_t i = 0; i < r.n_errors_kept; i++) {
        if (r.errors[i].line < 2 || strncmp(r.errors[i].msg, "line ", 5) != 0) {
            abort();
        }
    }
    if (r.n_errors_kept > r.n_errors || r.rows_skipped != r.n_errors) {
        abort();
    }
    if (rc == PX_OK) {
        if (r.rows_read != r.rows_inserted + r.rows_updated + r.rows_skipped ||
            r.rows_updated != 0 || count_rows(s, r.n_columns + (r.row_ids ? 1 : 0)) != r.rows_inserted) {
            abort();
        }
        if (mode == CSVIMPORT_FAIL && r.n_errors != 0) {
            abort();
        }
    } else {
        if (count_rows(s, 0) != 0) {
            abort(); // nothing written
        }
    }
    // fail mode's only extra failure is "some row was bad"
    *file_error = rc != PX_OK && !(mode == CSVIMPORT_FAIL && rc == PX_EINVAL && r.n_errors > 0);
    csvimport_result_free(&r);
    store_close(s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool fe_fail = false, fe_skip = false;
    run(data, size, CSVIMPORT_FAIL, &fe_fail);
    run(data, size, CSVIMPORT_SKIP, &fe_skip);
    if (fe_fail != fe_skip) {
        abort();
    }
    return 0;
}
