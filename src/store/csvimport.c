// csvimport.c — CSV -> store (contract in csvimport.h).
//
// Design:
//   - The CSV grammar is store/csvread's (the project has one): records with the line they
//     start on, bounded memory per record. We read with CSVREAD_KEEP_BAD, so a record with too
//     many fields or too many bytes reaches us flagged and becomes one row error like a ragged
//     row, not the end of the import; csvread's file-level errors (a field over
//     LIMIT_CSV_FIELD_BYTES, an unclosed quote at the end, a read error) end it.
//   - Pass 1 infers types from rows that are structurally sound; pass 2 checks every row, reports
//     it with its line, dedups ids through a TEMP table and upserts, inside one transaction. A
//     file is read through one FILE, rewound between the passes. Progress is reported in pass 2,
//     whose total (the data records pass 1 counted) is known; pass 1 only parses.
#include "csvimport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "csvread.h"
#include "limits.h"
#include "mem.h"

struct csvimport_params csvimport_default_params(void)
{
    struct csvimport_params p = {
        .id_column = NULL, .on_error = CSVIMPORT_FAIL, .progress = NULL, .progress_user = NULL};
    return p;
}

// ---- input source ----

struct source {
    const char *name;
    FILE *f;                  // file input, or NULL
    const unsigned char *mem; // memory input
    size_t size;
};

static int source_rewind(struct source *src, struct px_err *err)
{
    if (src->f != NULL && fseek(src->f, 0, SEEK_SET) != 0) {
        return px_fail(err, PX_EIO, "cannot rewind %s: %s", src->name, strerror(errno));
    }
    return PX_OK;
}

// ---- the import ----

enum pass { PASS_INFER, PASS_LOAD };

struct column {
    char *name;        // owned
    enum coltype type; // type values are parsed as (the stored one on re-import)
    int position;      // store position
    struct coltype_infer infer;
};

struct import {
    struct store *s;
    struct csvimport_params params;
    struct csvimport_result *res;
    struct px_err *err;
    struct source src;
    enum pass pass;
    int fatal; // first file-level error status (PX_OK while none)

    size_t n_records; // records seen in this pass (header included)

    // current record (borrowed from csvread during its callback)
    const struct csvread_record *rec;
    size_t rec_line;  // line it starts on
    size_t n_fields;  // fields in it (may exceed what was kept)
    bool row_too_big; // over LIMIT_CSV_ROW_BYTES

    // schema
    struct column *cols; // (n_cols): the file's n_file_cols, then the row id when row_ids
    size_t n_cols, n_file_cols;
    int i_id;
    bool row_ids;       // the id is the data record's number (a column the file lacks)
    char row_id[24];    // its text for the current record
    struct coltype_value *vals; // (n_cols) scratch for pass 2
    struct store_upsert *upsert;
    size_t n_data_rows; // data records seen in pass 1
};

// Records the first file-level error (message msg, at line when > 0); returns its status.
static int fatal(struct import *im, int code, const char *msg, size_t line)
{
    if (im->fatal == PX_OK) {
        im->fatal = line > 0 ? px_fail(im->err, code, "%s: line %zu: %s", im->src.name, line, msg)
                             : px_fail(im->err, code, "%s: %s", im->src.name, msg);
    }
    return im->fatal;
}

// Records a bad row with the message in *e.
static int add_error(struct import *im, size_t line, const struct px_err *e)
{
    struct csvimport_result *r = im->res;
    r->n_errors++;
    if (r->n_errors_kept >= LIMIT_IMPORT_ERRORS_KEPT) {
        return PX_OK;
    }
    if (r->errors == NULL) {
        r->errors = px_calloc(LIMIT_IMPORT_ERRORS_KEPT, sizeof *r->errors);
        if (r->errors == NULL) {
            return fatal(im, PX_ENOMEM, "out of memory recording row errors", 0);
        }
    }
    char *msg = px_strdup(e->msg);
    if (msg == NULL) {
        return fatal(im, PX_ENOMEM, "out of memory recording row errors", 0);
    }
    r->errors[r->n_errors_kept].line = line;
    r->errors[r->n_errors_kept].msg = msg;
    r->n_errors_kept++;
    return PX_OK;
}

// Field j of the current record (j < n_kept, or the row id column).
static const char *field(const struct import *im, size_t j)
{
    return im->row_ids && j == im->n_file_cols ? im->row_id : im->rec->f[j];
}

static size_t field_len(const struct import *im, size_t j)
{
    return im->row_ids && j == im->n_file_cols ? strlen(im->row_id) : im->rec->len[j];
}

static void note(struct import *im, const char *fmt, const char *a, const char *b)
{
    struct csvimport_result *r = im->res;
    if (r->n_notes < CSVIMPORT_NOTES) {
        snprintf(r->notes[r->n_notes++], CSVIMPORT_NOTE_BYTES, fmt, a, b);
    }
}

// Can the first column be the id of a file whose header names none? Not when pass 1 saw it
// repeat a value or miss one, nor when it holds what an id never is.
static bool could_be_id(const struct import *im, const struct column *c)
{
    const struct coltype_infer *ci = &c->infer;
    if (ci->n_values < im->n_data_rows || (!ci->values.overflow && ci->values.n < ci->n_values)) {
        return false;
    }
    enum coltype t = coltype_infer_result(ci);
    return t != COLTYPE_REAL && t != COLTYPE_CURRENCY && t != COLTYPE_PERCENT &&
           t != COLTYPE_DATE && !(t == COLTYPE_BOOL && ci->n_values > 2);
}

static bool is_id_name(const char *n)
{
    static const char *const k[] = {"id", "customer_id", "customer id", "customerid", "client_id"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (strcasecmp(n, k[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void on_header(struct import *im)
{
    char msg[PX_ERR_MSG_MAX];
    size_t n = im->n_fields;
    if (n > LIMIT_CSV_COLUMNS) {
        snprintf(msg, sizeof msg, "the header has %zu columns, over the limit of %d", n,
                 LIMIT_CSV_COLUMNS);
        fatal(im, PX_ELIMIT, msg, im->rec_line);
        return;
    }
    if (im->row_too_big) {
        fatal(im, PX_ELIMIT, "the header is longer than LIMIT_CSV_ROW_BYTES", im->rec_line);
        return;
    }
    im->cols = px_calloc(n, sizeof *im->cols);
    im->vals = px_calloc(n, sizeof *im->vals);
    if (im->cols == NULL || im->vals == NULL) {
        fatal(im, PX_ENOMEM, "out of memory reading the header", 0);
        return;
    }
    for (size_t j = 0; j < n; j++) {
        const char *name = field(im, j);
        size_t len = field_len(im, j), bad = 0;
        if (len == 0) {
            snprintf(msg, sizeof msg, "header: column %zu has an empty name", j + 1);
        } else if (len > LIMIT_CSV_NAME_BYTES) {
            snprintf(msg, sizeof msg,
                     "header: column %zu's name is %zu bytes, over the limit of %d", j + 1, len,
                     LIMIT_CSV_NAME_BYTES);
        } else if (coltype_check_utf8(name, len, &bad) != PX_OK) {
            snprintf(msg, sizeof msg, "header: column %zu's name is not valid UTF-8 (byte %zu)",
                     j + 1, bad + 1);
        } else {
            msg[0] = '\0';
            for (size_t k = 0; k < j; k++) {
                if (strcmp(im->cols[k].name, name) == 0) {
                    snprintf(msg, sizeof msg,
                             "header: column %zu repeats the name '%s' of column %zu", j + 1, name,
                             k + 1);
                    break;
                }
            }
        }
        if (msg[0] != '\0') {
            fatal(im, PX_EFORMAT, msg, im->rec_line);
            return;
        }
        im->cols[j].name = px_strndup(name, len);
        im->n_cols++;
        im->n_file_cols++;
        coltype_infer_init(&im->cols[j].infer);
        if (im->cols[j].name == NULL) {
            fatal(im, PX_ENOMEM, "out of memory reading the header", 0);
            return;
        }
    }
}

// Structural checks shared by both passes; fills e and returns false for a bad record.
static bool row_ok(struct import *im, struct px_err *e)
{
    size_t bad = 0;
    if (im->row_too_big) {
        px_fail(e, PX_ELIMIT, "line %zu: the record is longer than %u bytes", im->rec_line,
                LIMIT_CSV_ROW_BYTES);
        return false;
    }
    if (im->n_fields != im->n_file_cols) {
        px_fail(e, PX_EFORMAT, "line %zu: %zu fields, expected %zu (as in the header)",
                im->rec_line, im->n_fields, im->n_file_cols);
        return false;
    }
    for (size_t j = 0; j < im->n_file_cols; j++) {
        if (coltype_check_utf8(field(im, j), field_len(im, j), &bad) != PX_OK) {
            px_fail(e, PX_EUTF8, "line %zu, column '%s': invalid UTF-8 at byte %zu of the value",
                    im->rec_line, im->cols[j].name, bad + 1);
            return false;
        }
    }
    return true;
}

static void on_data_infer(struct import *im)
{
    struct px_err e = {0};
    im->n_data_rows++;
    if (im->n_data_rows > LIMIT_CSV_ROWS) {
        char msg[128];
        snprintf(msg, sizeof msg, "more than %u data rows (LIMIT_CSV_ROWS)", LIMIT_CSV_ROWS);
        fatal(im, PX_ELIMIT, msg, 0);
        return;
    }
    if (!row_ok(im, &e)) {
        return; // reported in pass 2
    }
    for (size_t j = 0; j < im->n_file_cols; j++) {
        if (coltype_infer_add(&im->cols[j].infer, field(im, j), field_len(im, j), im->err) !=
            PX_OK) {
            im->fatal = im->err->code;
            return;
        }
    }
}

// Checks and stores one data row in pass 2.
static void on_data_load(struct import *im)
{
    struct csvimport_result *r = im->res;
    struct px_err e = {0};
    const char *why = NULL;
    r->rows_read++;
    snprintf(im->row_id, sizeof im->row_id, "%zu", r->rows_read);
    if (im->params.progress != NULL && r->rows_read % CSVIMPORT_PROGRESS_ROWS == 0) {
        im->params.progress(r->rows_read, im->n_data_rows, im->params.progress_user);
    }
    bool ok = row_ok(im, &e);
    for (size_t j = 0; ok && j < im->n_cols; j++) {
        if (coltype_parse(im->cols[j].type, field(im, j), field_len(im, j), &im->vals[j], &why) !=
            PX_OK) {
            coltype_value_error(&e, im->rec_line, im->cols[j].name, field(im, j), field_len(im, j),
                                why);
            ok = false;
        }
    }
    const struct coltype_value *idv = ok ? &im->vals[im->i_id] : NULL;
    if (ok && idv->missing) {
        px_fail(&e, PX_EINVAL, "line %zu: empty id (column '%s')", im->rec_line,
                im->cols[im->i_id].name);
        ok = false;
    } else if (ok && idv->len > LIMIT_CUSTOMER_ID_BYTES) {
        px_fail(&e, PX_ELIMIT, "line %zu: id of %zu bytes, over the limit of %d", im->rec_line,
                idv->len, LIMIT_CUSTOMER_ID_BYTES);
        ok = false;
    }
    // the id as text is the trimmed field (for dates: the normalised ISO form)
    const char *id = ok ? idv->s : NULL;
    size_t id_len = ok ? idv->len : 0;
    if (ok) {
        size_t first = 0;
        if (store_dedup_check(im->s, id, id_len, im->rec_line, &first, im->err) != PX_OK) {
            im->fatal = im->err->code;
            return;
        }
        if (first != 0) {
            px_fail(&e, PX_EINVAL, "line %zu: duplicate id '%.*s' (first on line %zu)",
                    im->rec_line, (int)(id_len > 64 ? 64 : id_len), id, first);
            ok = false;
        }
    }
    if (!ok) {
        add_error(im, im->rec_line, &e);
        r->rows_skipped++;
        return;
    }
    if (im->params.on_error == CSVIMPORT_FAIL && r->n_errors > 0) {
        return; // the import will roll back: only keep checking
    }
    bool inserted = false;
    if (store_upsert_row(im->upsert, id, id_len, im->vals, &inserted, im->err) != PX_OK) {
        px_err_prefix(im->err, "%s: line %zu", im->src.name, im->rec_line);
        im->fatal = im->err->code;
        return;
    }
    if (inserted) {
        r->rows_inserted++;
    } else {
        r->rows_updated++;
    }
}

// The csvread callback: header, then data records, by pass.
static int on_record(void *user, const struct csvread_record *rec, struct px_err *err)
{
    struct import *im = user;
    (void)err; // im->err is the same
    im->rec = rec;
    im->rec_line = rec->line;
    im->n_fields = rec->n;
    // a record over LIMIT_CSV_COLUMNS fields is ragged (no header can have that many); only
    // one over LIMIT_CSV_ROW_BYTES needs its own flag
    im->row_too_big = (rec->flags & CSVREAD_TOO_LONG) != 0;
    if (im->n_records++ == 0) {
        if (im->pass == PASS_INFER) {
            on_header(im);
        }
    } else if (im->pass == PASS_INFER) {
        on_data_infer(im);
    } else {
        on_data_load(im);
    }
    im->rec = NULL;
    return im->fatal;
}

// Runs one pass over the whole source.
static int run_pass(struct import *im, enum pass pass)
{
    im->pass = pass;
    im->n_records = 0;
    int rc = source_rewind(&im->src, im->err);
    if (rc != PX_OK) {
        return rc;
    }
    struct csvread_source cs = {.name = im->src.name,
                                .f = im->src.f,
                                .data = im->src.mem,
                                .size = im->src.size,
                                .delimiter = im->params.delimiter,
                                .found = &im->res->delimiter};
    rc = csvread_source(&cs, CSVREAD_KEEP_BAD, on_record, im, im->err);
    return rc != PX_OK ? rc : im->fatal;
}

// Whether a column stored as `old` can take this file's values: the same 80% rule as inference,
// counted against the stored type (the values that do not fit become row errors).
static bool type_compatible(enum coltype old, enum coltype now, const struct coltype_infer *ci)
{
    size_t fit = 0;
    if (old == now || ci->n_values == 0) {
        return true;
    }
    switch (old) {
    case COLTYPE_BOOL: fit = ci->n_bool; break;
    case COLTYPE_INTEGER: fit = ci->n_int; break;
    case COLTYPE_REAL: fit = ci->n_int + ci->n_real; break;
    case COLTYPE_CURRENCY: fit = ci->n_int + ci->n_real + ci->n_money; break;
    case COLTYPE_PERCENT: fit = ci->n_int + ci->n_real + ci->n_pct; break;
    case COLTYPE_DATE: fit = ci->n_date; break;
    default: fit = ci->n_values; break; // text, category, list take any value
    }
    return fit * 5 >= ci->n_values * 4;
}

// Between the passes: types, id column, schema changes, statements. Runs inside the transaction.
static int prepare_load(struct import *im)
{
    struct store_schema sc = {0};
    int *positions = NULL;
    enum coltype *types = NULL;
    char msg[PX_ERR_MSG_MAX];
    int rc = store_schema(im->s, &sc, im->err);
    if (rc != PX_OK) {
        goto done;
    }
    // the id column
    const char *want = im->params.id_column;
    if (want == NULL && sc.i_id >= 0) {
        want = sc.cols[sc.i_id].name;
    }
    im->i_id = -1;
    for (size_t j = 0; j < im->n_cols && im->i_id < 0; j++) {
        if (want ? strcmp(im->cols[j].name, want) == 0 : is_id_name(im->cols[j].name)) {
            im->i_id = (int)j;
        }
    }
    bool stored_row_ids = want != NULL && im->params.id_column == NULL &&
                          strcmp(want, CSVIMPORT_ROW_ID) == 0 && im->i_id < 0;
    if (im->i_id < 0 && want != NULL && !stored_row_ids) {
        snprintf(msg, sizeof msg, "no column '%s' in the header%s", want,
                 im->params.id_column ? "" : " (the store's id column)");
        rc = fatal(im, PX_EINVAL, msg, 0);
        goto done;
    }
    if (im->i_id < 0 && !stored_row_ids && could_be_id(im, &im->cols[0])) {
        im->i_id = 0;
    }
    if (im->i_id < 0) {
        // no id column: the rows are numbered, in a column of their own
        for (size_t j = 0; j < im->n_file_cols; j++) {
            if (strcmp(im->cols[j].name, CSVIMPORT_ROW_ID) == 0) {
                snprintf(msg, sizeof msg, "no id column, and '%s' is taken: name the id column "
                         "with --id-column", CSVIMPORT_ROW_ID);
                rc = fatal(im, PX_EINVAL, msg, 0);
                goto done;
            }
        }
        struct column *nc = px_realloc(im->cols, (im->n_file_cols + 1) * sizeof *nc);
        struct coltype_value *nv = nc ? px_realloc(im->vals, (im->n_file_cols + 1) * sizeof *nv)
                                      : NULL;
        if (nc != NULL) {
            im->cols = nc;
        }
        if (nv == NULL) {
            rc = px_fail(im->err, PX_ENOMEM, "out of memory preparing the import");
            goto done;
        }
        im->vals = nv;
        memset(&im->cols[im->n_file_cols], 0, sizeof *im->cols);
        im->cols[im->n_file_cols].name = px_strdup(CSVIMPORT_ROW_ID);
        if (im->cols[im->n_file_cols].name == NULL) {
            rc = px_fail(im->err, PX_ENOMEM, "out of memory preparing the import");
            goto done;
        }
        coltype_infer_init(&im->cols[im->n_file_cols].infer);
        im->cols[im->n_file_cols].infer.n_values = 1;
        im->cols[im->n_file_cols].infer.n_int = 1; // an integer column
        im->i_id = (int)im->n_file_cols;
        im->n_cols = im->n_file_cols + 1;
        im->row_ids = im->res->row_ids = true;
        note(im, "no id column (id, customer_id, ... or --id-column), and '%s' cannot be one: "
                 "rows are numbered 1.. as ids in a new column '%s'",
             im->cols[0].name, CSVIMPORT_ROW_ID);
    }
    for (size_t j = 0; j < im->n_file_cols; j++) {
        const struct coltype_infer *ci = &im->cols[j].infer;
        if (ci->n_values > 0 && ci->n_dec_comma * 5 >= ci->n_values * 4) {
            note(im, "column '%s' holds European decimal commas ('1,5'): they are not read as "
                     "numbers (the column is %s); write them with '.'",
                 im->cols[j].name, coltype_name(coltype_infer_result(ci)));
        }
    }
    if (sc.i_id >= 0 && strcmp(sc.cols[sc.i_id].name, im->cols[im->i_id].name) != 0) {
        snprintf(msg, sizeof msg, "the id column is '%s', but the store's is '%s'",
                 im->cols[im->i_id].name, sc.cols[sc.i_id].name);
        rc = fatal(im, PX_EINVAL, msg, 0);
        goto done;
    }
    positions = px_calloc(im->n_cols, sizeof *positions);
    types = px_calloc(im->n_cols, sizeof *types);
    im->res->types = px_calloc(im->n_cols, sizeof *im->res->types);
    if (positions == NULL || types == NULL || im->res->types == NULL) {
        rc = px_fail(im->err, PX_ENOMEM, "out of memory preparing the import");
        goto done;
    }
    for (size_t j = 0; j < im->n_cols; j++) {
        struct column *c = &im->cols[j];
        enum coltype now = coltype_infer_result(&c->infer);
        if ((int)j == im->i_id && now == COLTYPE_BOOL && c->infer.n_bool_word == 0) {
            now = COLTYPE_INTEGER; // ids 0/1 (a tiny file) are numbers, not answers
        }
        int k = store_schema_find(&sc, c->name);
        if (k >= 0) {
            if (!type_compatible(sc.cols[k].type, now, &c->infer)) {
                snprintf(msg, sizeof msg,
                         "column '%s' is %s in the store, but the file's values are %s", c->name,
                         coltype_name(sc.cols[k].type), coltype_name(now));
                rc = fatal(im, PX_EINVAL, msg, 0);
                goto done;
            }
            c->type = sc.cols[k].type;
            c->position = sc.cols[k].position;
        } else {
            char label[LIMIT_CSV_NAME_BYTES * 2];
            coltype_label(c->name, label, sizeof label);
            c->type = now;
            rc = store_add_column(im->s, c->name, label, now, (int)j == im->i_id, &c->position,
                                  im->err);
            if (rc != PX_OK) {
                goto done;
            }
            im->res->n_columns_added++;
        }
        positions[j] = c->position;
        types[j] = c->type;
        im->res->types[j] = c->type;
    }
    rc = store_upsert_new(im->s, positions, types, im->n_cols, &im->upsert, im->err);
    if (rc == PX_OK) {
        rc = store_dedup_reset(im->s, im->err);
    }
done:
    store_schema_free(&sc);
    px_free(positions);
    px_free(types);
    return rc;
}

static int run_import(struct import *im)
{
    struct csvimport_result *r = im->res;
    bool in_tx = false;
    int rc = run_pass(im, PASS_INFER);
    if (rc != PX_OK) {
        goto done;
    }
    if (im->n_records == 0) {
        rc = px_fail(im->err, PX_EFORMAT, "%s: the file is empty (no header row)", im->src.name);
        goto done;
    }
    if (im->n_data_rows == 0) {
        rc = px_fail(im->err, PX_EFORMAT, "%s: a header but no data rows", im->src.name);
        goto done;
    }
    r->n_columns = im->n_cols;
    if (r->delimiter == ';' || r->delimiter == '\t') {
        note(im, "the file is %s-separated%s", r->delimiter == ';' ? "';'" : "tab",
             im->params.delimiter ? " (as given)" : " (detected from the header)");
    }
    rc = store_begin(im->s, im->err);
    if (rc != PX_OK) {
        goto done;
    }
    in_tx = true;
    rc = prepare_load(im);
    if (rc == PX_OK) {
        rc = run_pass(im, PASS_LOAD);
    }
    if (rc != PX_OK) {
        goto done;
    }
    if (im->params.progress != NULL) {
        im->params.progress(r->rows_read, im->n_data_rows, im->params.progress_user);
    }
    if (im->params.on_error == CSVIMPORT_FAIL && r->n_errors > 0) {
        const struct csvimport_error *e0 = r->n_errors_kept ? &r->errors[0] : NULL;
        rc = px_fail(im->err, PX_EINVAL, "%s: %zu bad row%s, nothing imported (first: %s)",
                     im->src.name, r->n_errors, r->n_errors == 1 ? "" : "s", e0 ? e0->msg : "?");
        r->rows_inserted = r->rows_updated = 0;
        goto done;
    }
    struct store_import_log log = {
        .file = im->src.name,
        .bytes = r->bytes,
        .rows_read = r->rows_read,
        .rows_inserted = r->rows_inserted,
        .rows_updated = r->rows_updated,
        .rows_failed = r->n_errors,
    };
    rc = store_log_import(im->s, &log, im->err);
    if (rc == PX_OK && im->params.before_commit != NULL) {
        rc = im->params.before_commit(im->s, im->params.before_commit_user, im->err);
    }
    if (rc == PX_OK) {
        in_tx = false;
        rc = store_commit(im->s, im->err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    r->committed = true;
    rc = PX_OK;
done:
    if (in_tx) {
        store_rollback(im->s);
    }
    if (!r->committed) {
        r->rows_inserted = r->rows_updated = 0;
    }
    return rc;
}

static void import_free(struct import *im)
{
    for (size_t j = 0; j < im->n_cols; j++) {
        px_free(im->cols[j].name);
        coltype_infer_free(&im->cols[j].infer);
    }
    px_free(im->cols);
    px_free(im->vals);
    store_upsert_free(im->upsert);
}

static int import_source(struct store *s, struct source *src, const struct csvimport_params *params,
                         struct csvimport_result *res, struct px_err *err)
{
    struct import im;
    memset(&im, 0, sizeof im);
    im.s = s;
    im.params = params ? *params : csvimport_default_params();
    im.res = res;
    im.err = err;
    im.src = *src;
    int rc = run_import(&im);
    import_free(&im);
    return rc;
}

int csvimport_file(struct store *s, const char *path, const struct csvimport_params *params,
                   struct csvimport_result *res, struct px_err *err)
{
    struct source src = {.name = path};
    struct stat st;
    memset(res, 0, sizeof *res);
    src.f = fopen(path, "rb");
    if (src.f == NULL) {
        return px_fail(err, errno == ENOENT ? PX_ENOENT : PX_EIO, "cannot open '%s': %s", path,
                       strerror(errno));
    }
    if (fstat(fileno(src.f), &st) == 0) {
        res->bytes = (uint64_t)st.st_size;
    }
    int rc = import_source(s, &src, params, res, err);
    fclose(src.f);
    return rc;
}

int csvimport_memory(struct store *s, const void *data, size_t size, const char *name,
                     const struct csvimport_params *params, struct csvimport_result *res,
                     struct px_err *err)
{
    struct source src = {.name = name, .mem = data, .size = size};
    memset(res, 0, sizeof *res);
    res->bytes = size;
    return import_source(s, &src, params, res, err);
}

void csvimport_result_free(struct csvimport_result *res)
{
    if (res == NULL) {
        return;
    }
    for (size_t i = 0; i < res->n_errors_kept; i++) {
        px_free(res->errors[i].msg);
    }
    px_free(res->errors);
    px_free(res->types);
    memset(res, 0, sizeof *res);
}
