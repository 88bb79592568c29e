// qs_table.c — a book's rows as typed cells for the predicates (see queryset.h).
//
// The values come from the façade's own row document (app_book_row_json), parsed once per row
// with cJSON: the evaluator reads what any client of the API would read, and needs nothing of
// the store's or the search layer's structures. A few thousand rows of a few dozen columns.
#include "queryset.h"

#include <string.h>

#include <cJSON.h>

#include "app_book.h"
#include "buf.h"
#include "mem.h"

void qs_table_free(struct qs_table *t)
{
    for (size_t c = 0; t->names && c < t->n_cols; c++) {
        px_free(t->names[c]);
        px_free(t->types[c]);
    }
    px_free(t->names);
    px_free(t->types);
    for (size_t r = 0; t->rows && r < t->n_rows; r++) {
        cJSON_Delete(t->rows[r]);
    }
    px_free(t->rows);
    px_free((void *)t->cells);
    memset(t, 0, sizeof *t);
}

static int table_init(size_t n_cols, const char *const *names, const char *const *types,
                      size_t n_rows, struct qs_table *t, struct px_err *err)
{
    memset(t, 0, sizeof *t);
    t->n_cols = n_cols;
    t->n_rows = n_rows;
    t->names = px_calloc(n_cols ? n_cols : 1, sizeof *t->names);
    t->types = px_calloc(n_cols ? n_cols : 1, sizeof *t->types);
    t->rows = px_calloc(n_rows ? n_rows : 1, sizeof *t->rows);
    t->cells = px_calloc(n_rows * n_cols > 0 ? n_rows * n_cols : 1, sizeof *t->cells);
    if (t->names == NULL || t->types == NULL || t->rows == NULL || t->cells == NULL) {
        qs_table_free(t);
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t c = 0; c < n_cols; c++) {
        t->names[c] = px_strdup(names[c]);
        t->types[c] = px_strdup(types[c]);
        if (t->names[c] == NULL || t->types[c] == NULL) {
            qs_table_free(t);
            return px_fail(err, PX_ENOMEM, "out of memory");
        }
    }
    return PX_OK;
}

// Takes row r from its JSON text and indexes its cells.
static int table_set_row(struct qs_table *t, size_t r, const char *json, size_t len,
                         struct px_err *err)
{
    cJSON *o = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return px_fail(err, PX_EFORMAT, "row %zu is not a JSON object: %.80s", r, json);
    }
    t->rows[r] = o;
    for (size_t c = 0; c < t->n_cols; c++) {
        t->cells[r * t->n_cols + c] = cJSON_GetObjectItemCaseSensitive(o, t->names[c]);
    }
    return PX_OK;
}

int qs_table_from_json(size_t n_cols, const char *const *names, const char *const *types,
                       size_t n_rows, const char *const *rows, struct qs_table *t,
                       struct px_err *err)
{
    int rc = table_init(n_cols, names, types, n_rows, t, err);
    for (size_t r = 0; rc == PX_OK && r < n_rows; r++) {
        rc = table_set_row(t, r, rows[r], strlen(rows[r]), err);
    }
    if (rc != PX_OK) {
        qs_table_free(t);
    }
    return rc;
}

int qs_table_from_book(const struct app_book *b, struct qs_table *t, struct px_err *err)
{
    size_t n_cols = app_book_n_columns(b), n_rows = app_book_n_rows(b);
    const char **names = px_calloc(n_cols ? n_cols : 1, sizeof *names);
    const char **types = px_calloc(n_cols ? n_cols : 1, sizeof *types);
    int rc = names && types ? PX_OK : px_fail(err, PX_ENOMEM, "out of memory");
    for (size_t c = 0; rc == PX_OK && c < n_cols; c++) {
        names[c] = app_book_column_name(b, c);
        types[c] = app_book_column_type(b, c);
    }
    if (rc == PX_OK) {
        rc = table_init(n_cols, names, types, n_rows, t, err);
    }
    px_free(names);
    px_free(types);
    struct buf row;
    buf_init(&row, 1u << 20);
    for (size_t r = 0; rc == PX_OK && r < n_rows; r++) {
        buf_reset(&row);
        rc = app_book_row_json(b, r, &row, err);
        if (rc == PX_OK) {
            rc = table_set_row(t, r, row.data, row.len, err);
        }
    }
    buf_free(&row);
    if (rc != PX_OK && t->names != NULL) {
        qs_table_free(t);
    }
    return rc;
}

long qs_table_column(const struct qs_table *t, const char *name)
{
    for (size_t c = 0; c < t->n_cols; c++) {
        if (strcmp(t->names[c], name) == 0) {
            return (long)c;
        }
    }
    return -1;
}
