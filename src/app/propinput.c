// propinput.c — a scoring request's rows through a model's signature (app_prop.h, "scoring
// requests"): MLflow's input forms (dataframe_split, dataframe_records, instances, inputs), the
// older {"rows": [..]} and CSV text, all read by one producer into the data-set reader
// (ml_dataset_apply_records), so a value is checked exactly as a CSV field is.
//
// The signature is the model's source columns: every feature's column (required), the id column
// and the target (optional: the target gives "actual" and the potential rows). The producer's
// header is those columns in that order; each input row is mapped onto it. A required column
// that the input lacks is an error naming it (and the row, for records, where each row is an
// object of its own); columns the model does not read are counted and named once in a note.
// JSON rows are walked with cursors (cJSON arrays are linked lists: no indexing per cell).
// Rows are numbered from 0 in messages about the JSON forms; the data-set reader's own messages
// say "line N" with line = row + 2 (the header is line 1), as for a CSV file.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "app_prop.h"
#include "buf.h"
#include "jsonx.h"
#include "mem.h"
#include "propensity_int.h"

#define MAX_NAMED_EXTRAS 8

enum form { FORM_RECORDS, FORM_SPLIT, FORM_COLUMNS, FORM_CSV };

// The columns the producer hands over: the required feature columns, then id and target.
struct sig {
    const char **cols; // (n_cols) borrowed from the spec
    size_t n_cols;
    size_t n_required; // the first n_required are the features' columns
};

// Columns the model does not read, named once.
struct extras {
    char name[MAX_NAMED_EXTRAS][65]; // copies (a CSV header's fields are borrowed per record)
    size_t n_named;
    bool more; // further names past MAX_NAMED_EXTRAS
};

struct input {
    const struct app_prop_model *m;
    enum form form;
    const char *where;    // the JSON key the rows came from, for messages
    const cJSON *rows;    // records: the array; split: "data"; columns: the "inputs" object
    const cJSON *columns; // split: "columns"
    const char *csv;      // FORM_CSV: the text
    size_t csv_len;
    struct sig sig;
    struct extras extras;
    // FORM_CSV: the header's column of each signature column (SIZE_MAX: absent), the record
    // handed on, and the callback it goes to
    size_t *at;
    const char **f;
    size_t *len;
    size_t n_header, n_rows;
    csvread_record_fn record;
    void *record_user;
};

static int oom(struct px_err *err)
{
    return px_fail(err, PX_ENOMEM, "out of memory reading the request's rows");
}

static bool in_sig(const struct sig *s, const char *name)
{
    for (size_t c = 0; c < s->n_cols; c++) {
        if (strcmp(s->cols[c], name) == 0) {
            return true;
        }
    }
    return false;
}

static void extra(struct extras *x, const char *name)
{
    for (size_t i = 0; i < x->n_named; i++) {
        if (strcmp(x->name[i], name) == 0) {
            return;
        }
    }
    if (x->n_named < MAX_NAMED_EXTRAS) {
        snprintf(x->name[x->n_named++], sizeof x->name[0], "%s", name);
    } else {
        x->more = true;
    }
}

// "a, b, c" of the required columns, for messages.
static void required_list(const struct sig *s, char *out, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t c = 0; c < s->n_required && at + 1 < n; c++) {
        int w = snprintf(out + at, n - at, "%s%s", c ? ", " : "", s->cols[c]);
        at += w > 0 ? (size_t)w : 0;
    }
}

static int missing_column(const struct input *in, const char *col, long row, struct px_err *err)
{
    char need[512];
    required_list(&in->sig, need, sizeof need);
    if (row < 0) {
        return px_fail(err, PX_EINVAL, "column '%.64s' is missing: model %s's signature needs %s",
                       col, in->m->pm.name, need);
    }
    return px_fail(err, PX_EINVAL,
                   "%s row %ld: column '%.64s' is missing (null for a missing value): model %s's "
                   "signature needs %s",
                   in->where, row, col, in->m->pm.name, need);
}

// The signature of m, with the id and the target when the input has them (has(user, name)).
static int make_sig(const struct ml_spec *s, bool has_id, bool has_target, struct sig *out,
                    struct px_err *err)
{
    out->cols = px_malloc((s->n_features + 2) * sizeof *out->cols);
    out->n_cols = 0;
    if (out->cols == NULL) {
        return oom(err);
    }
    for (size_t f = 0; f < s->n_features; f++) {
        bool seen = false;
        for (size_t c = 0; c < out->n_cols && !seen; c++) {
            seen = strcmp(out->cols[c], s->features[f].column) == 0;
        }
        if (!seen) {
            out->cols[out->n_cols++] = s->features[f].column;
        }
    }
    out->n_required = out->n_cols;
    if (has_id && s->id_column != NULL) {
        out->cols[out->n_cols++] = s->id_column;
    }
    if (has_target) {
        out->cols[out->n_cols++] = s->target;
    }
    return PX_OK;
}

// One JSON value as a CSV field into f / len (num: room for a number).
static int field(const struct input *in, size_t row, const char *col, const cJSON *v,
                 const char **f, size_t *len, char *num, size_t n_num, struct px_err *err)
{
    *f = "";
    *len = 0;
    if (v == NULL || cJSON_IsNull(v)) {
        return PX_OK; // missing, as an empty CSV field
    }
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble)) {
            return px_fail(err, PX_EINVAL, "%s row %zu: column '%.64s' is not finite", in->where,
                           row, col);
        }
        snprintf(num, n_num, "%.17g", v->valuedouble);
        *f = num;
    } else if (cJSON_IsBool(v)) {
        *f = cJSON_IsTrue(v) ? "1" : "0";
    } else if (cJSON_IsString(v)) {
        *f = v->valuestring;
    } else {
        return px_fail(err, PX_EINVAL,
                       "%s row %zu: column '%.64s' must be a number, string, boolean or null",
                       in->where, row, col);
    }
    *len = strlen(*f);
    return PX_OK;
}

// Index of name in the JSON array of strings a, or -1.
static int index_of(const cJSON *a, const char *name)
{
    int i = 0;
    const cJSON *v = NULL;
    cJSON_ArrayForEach(v, a)
    {
        if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0) {
            return i;
        }
        i++;
    }
    return -1;
}

static int produce_json(struct input *in, csvread_record_fn record, void *record_user,
                        struct px_err *err)
{
    size_t n = in->sig.n_cols;
    const char **f = px_malloc(n * sizeof *f);
    size_t *len = px_malloc(n * sizeof *len);
    char(*num)[40] = px_malloc(n * sizeof *num);
    const cJSON **cur = px_calloc(n, sizeof *cur); // FORM_COLUMNS: each column's next value
    int *idx = px_malloc(n * sizeof *idx);         // FORM_SPLIT: each column's position
    int rc = f && len && num && cur && idx ? PX_OK : oom(err);
    for (size_t c = 0; rc == PX_OK && c < n; c++) {
        f[c] = in->sig.cols[c];
        len[c] = strlen(f[c]);
        if (in->form == FORM_COLUMNS) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(in->rows, in->sig.cols[c]);
            cur[c] = a != NULL ? a->child : NULL;
        } else if (in->form == FORM_SPLIT) {
            idx[c] = index_of(in->columns, in->sig.cols[c]);
        }
    }
    if (rc == PX_OK)
        rc = record(record_user, 0, 1, f, len, n, err);
    size_t n_rows = in->form == FORM_COLUMNS ? in->n_rows : (size_t)cJSON_GetArraySize(in->rows);
    const cJSON *row = in->form == FORM_COLUMNS ? NULL : in->rows->child;
    for (size_t i = 0; rc == PX_OK && i < n_rows; i++) {
        if (in->form == FORM_RECORDS && !cJSON_IsObject(row)) {
            rc = px_fail(err, PX_EINVAL, "%s row %zu: not an object {column: value}", in->where, i);
            break;
        }
        if (in->form == FORM_SPLIT &&
            (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != cJSON_GetArraySize(in->columns))) {
            rc = px_fail(err, PX_EINVAL,
                         "%s.data row %zu: not a list of %d values (one per "
                         "column)",
                         in->where, i, cJSON_GetArraySize(in->columns));
            break;
        }
        if (in->form == FORM_RECORDS) {
            const cJSON *kv = NULL;
            cJSON_ArrayForEach(kv, row)
            {
                if (!in_sig(&in->sig, kv->string) && strcmp(kv->string, in->m->pm.spec.target) &&
                    (in->m->pm.spec.id_column == NULL ||
                     strcmp(kv->string, in->m->pm.spec.id_column))) {
                    extra(&in->extras, kv->string);
                }
            }
        }
        for (size_t c = 0; rc == PX_OK && c < n; c++) {
            const cJSON *v = NULL;
            if (in->form == FORM_RECORDS) {
                v = cJSON_GetObjectItemCaseSensitive(row, in->sig.cols[c]);
                if (v == NULL && c < in->sig.n_required) {
                    rc = missing_column(in, in->sig.cols[c], (long)i, err);
                    break;
                }
            } else if (in->form == FORM_SPLIT) {
                v = idx[c] >= 0 ? cJSON_GetArrayItem(row, idx[c]) : NULL;
            } else {
                v = cur[c];
                cur[c] = v != NULL ? v->next : NULL;
            }
            rc = field(in, i, in->sig.cols[c], v, &f[c], &len[c], num[c], sizeof num[c], err);
        }
        if (rc == PX_OK)
            rc = record(record_user, i + 1, i + 2, f, len, n, err);
        row = row != NULL ? row->next : NULL;
    }
    px_free(f);
    px_free(len);
    px_free(num);
    px_free(cur);
    px_free(idx);
    return rc;
}

// ---- CSV text ----

static int csv_header(struct input *in, const struct csvread_record *rec, struct px_err *err)
{
    const struct ml_spec *s = &in->m->pm.spec;
    bool has_id = false, has_target = false;
    for (size_t j = 0; j < rec->n_kept; j++) {
        has_id = has_id || (s->id_column != NULL && strcmp(rec->f[j], s->id_column) == 0);
        has_target = has_target || strcmp(rec->f[j], s->target) == 0;
    }
    int rc = make_sig(s, has_id, has_target, &in->sig, err);
    size_t n = in->sig.n_cols;
    if (rc == PX_OK) {
        in->at = px_malloc(n * sizeof *in->at);
        in->f = px_malloc(n * sizeof *in->f);
        in->len = px_malloc(n * sizeof *in->len);
        rc = in->at && in->f && in->len ? PX_OK : oom(err);
    }
    for (size_t c = 0; rc == PX_OK && c < n; c++) {
        in->at[c] = SIZE_MAX;
        for (size_t j = 0; j < rec->n_kept && in->at[c] == SIZE_MAX; j++) {
            if (strcmp(rec->f[j], in->sig.cols[c]) == 0) {
                in->at[c] = j;
            }
        }
        if (in->at[c] == SIZE_MAX) {
            return missing_column(in, in->sig.cols[c], -1, err);
        }
        in->f[c] = in->sig.cols[c];
        in->len[c] = strlen(in->f[c]);
    }
    for (size_t j = 0; rc == PX_OK && j < rec->n_kept; j++) {
        if (!in_sig(&in->sig, rec->f[j])) {
            extra(&in->extras, rec->f[j]);
        }
    }
    in->n_header = rec->n;
    return rc == PX_OK ? in->record(in->record_user, 0, rec->line, in->f, in->len, n, err) : rc;
}

static int csv_record(void *user, const struct csvread_record *rec, struct px_err *err)
{
    struct input *in = user;
    if (rec->index == 0) {
        return csv_header(in, rec, err);
    }
    if (rec->n != in->n_header) {
        return px_fail(err, PX_EINVAL, "CSV line %zu: %zu fields, the header has %zu", rec->line,
                       rec->n, in->n_header);
    }
    if (++in->n_rows > LIMIT_PROP_ROWS) {
        return px_fail(err, PX_ELIMIT, "more than %d rows (LIMIT_PROP_ROWS)", LIMIT_PROP_ROWS);
    }
    for (size_t c = 0; c < in->sig.n_cols; c++) {
        in->f[c] = rec->f[in->at[c]];
        in->len[c] = rec->len[in->at[c]];
    }
    return in->record(in->record_user, rec->index, rec->line, in->f, in->len, in->sig.n_cols, err);
}

static int produce(void *user, csvread_record_fn record, void *record_user, struct px_err *err)
{
    struct input *in = user;
    if (in->form != FORM_CSV) {
        return produce_json(in, record, record_user, err);
    }
    in->record = record;
    in->record_user = record_user;
    const struct csvread_source src = {.name = "CSV body", .data = in->csv, .size = in->csv_len};
    return csvread_source(&src, 0, csv_record, in, err);
}

// ---- the JSON forms ----

static int size_param(const cJSON *params, const char *key, size_t hi, size_t *v,
                      struct px_err *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, key);
    if (p == NULL) {
        return PX_OK;
    }
    if (!cJSON_IsNumber(p) || p->valuedouble < 0 || p->valuedouble > (double)hi ||
        p->valuedouble != floor(p->valuedouble)) {
        return px_fail(err, PX_EINVAL, "params.%s must be an integer in 0..%zu", key, hi);
    }
    *v = (size_t)p->valuedouble;
    return PX_OK;
}

static int read_params(const cJSON *params, struct app_score_request *rq, struct px_err *err)
{
    if (params == NULL) {
        return PX_OK;
    }
    if (!cJSON_IsObject(params)) {
        return px_fail(err, PX_EINVAL, "\"params\" must be an object");
    }
    int rc = size_param(params, "reasons", APP_REASONS_MAX, &rq->reasons, err);
    if (rc == PX_OK)
        rc = size_param(params, "top", LIMIT_PROP_ROWS, &rq->score.top, err);
    const cJSON *pot = cJSON_GetObjectItemCaseSensitive(params, "potential");
    if (rc == PX_OK && pot != NULL) {
        if (!cJSON_IsBool(pot)) {
            return px_fail(err, PX_EINVAL, "params.potential must be true or false");
        }
        rq->score.potential = cJSON_IsTrue(pot);
    }
    return rc;
}

static const char *const k_forms[] = {"dataframe_split", "dataframe_records", "instances", "inputs",
                                      "rows"};

// Finds the one input key of root (an object) and sets up in for it.
static int pick_form(const cJSON *root, struct input *in, struct px_err *err)
{
    const cJSON *kv = NULL;
    const cJSON *v = NULL;
    cJSON_ArrayForEach(kv, root)
    {
        bool known = strcmp(kv->string, "params") == 0;
        for (size_t i = 0; i < sizeof k_forms / sizeof k_forms[0] && !known; i++) {
            if (strcmp(kv->string, k_forms[i]) == 0) {
                if (v != NULL) {
                    return px_fail(err, PX_EINVAL, "both \"%s\" and \"%s\": give one input key",
                                   in->where, kv->string);
                }
                v = kv;
                in->where = k_forms[i];
                known = true;
            }
        }
        if (!known) {
            return px_fail(err, PX_EINVAL,
                           "unknown key \"%.64s\": expected one of dataframe_split, "
                           "dataframe_records, instances, inputs (and params)",
                           kv->string);
        }
    }
    if (v == NULL) {
        return px_fail(err, PX_EINVAL,
                       "no input: expected one of dataframe_split, "
                       "dataframe_records, instances or inputs");
    }
    if (strcmp(in->where, "dataframe_split") == 0) {
        in->form = FORM_SPLIT;
        in->columns = cJSON_GetObjectItemCaseSensitive(v, "columns");
        in->rows = cJSON_GetObjectItemCaseSensitive(v, "data");
        if (!cJSON_IsObject(v) || !cJSON_IsArray(in->columns) || !cJSON_IsArray(in->rows)) {
            return px_fail(err, PX_EINVAL,
                           "dataframe_split must be {\"columns\": [..], "
                           "\"data\": [[..], ..]}");
        }
        const cJSON *c = NULL;
        cJSON_ArrayForEach(c, in->columns)
        {
            if (!cJSON_IsString(c)) {
                return px_fail(err, PX_EINVAL, "dataframe_split.columns: not all strings");
            }
        }
        return PX_OK;
    }
    if (strcmp(in->where, "inputs") == 0 && cJSON_IsObject(v)) {
        in->form = FORM_COLUMNS;
        in->rows = v;
        bool first = true;
        const cJSON *col = NULL;
        cJSON_ArrayForEach(col, v)
        {
            size_t n = cJSON_IsArray(col) ? (size_t)cJSON_GetArraySize(col) : 1;
            if (!cJSON_IsArray(col)) {
                return px_fail(err, PX_EINVAL,
                               "inputs.%.64s: expected a list of values (one "
                               "per row)",
                               col->string);
            }
            if (!first && n != in->n_rows) {
                return px_fail(err, PX_EINVAL,
                               "inputs.%.64s: %zu values, the first column has "
                               "%zu",
                               col->string, n, in->n_rows);
            }
            in->n_rows = n;
            first = false;
        }
        return PX_OK;
    }
    in->form = FORM_RECORDS;
    in->rows = v;
    if (!cJSON_IsArray(v)) {
        return px_fail(err, PX_EINVAL, "%s must be a list of {column: value} objects", in->where);
    }
    return PX_OK;
}

// Is name given by the input (split and columns: a column; records: a key of some row)?
static bool input_has(const struct input *in, const char *name)
{
    if (name == NULL) {
        return false;
    }
    if (in->form == FORM_SPLIT) {
        return index_of(in->columns, name) >= 0;
    }
    if (in->form == FORM_COLUMNS) {
        return cJSON_GetObjectItemCaseSensitive(in->rows, name) != NULL;
    }
    const cJSON *row = NULL;
    cJSON_ArrayForEach(row, in->rows)
    {
        if (cJSON_IsObject(row) && cJSON_GetObjectItemCaseSensitive(row, name) != NULL) {
            return true;
        }
    }
    return false;
}

// Split and columns: the required columns all given? The columns the model does not read.
static int check_columns(struct input *in, struct px_err *err)
{
    const struct ml_spec *s = &in->m->pm.spec;
    for (size_t c = 0; c < in->sig.n_required; c++) {
        if (!input_has(in, in->sig.cols[c])) {
            return missing_column(in, in->sig.cols[c], -1, err);
        }
    }
    const cJSON *v = NULL;
    const cJSON *names = in->form == FORM_SPLIT ? in->columns : in->rows;
    cJSON_ArrayForEach(v, names)
    {
        const char *name = in->form == FORM_SPLIT ? v->valuestring : v->string;
        if (!in_sig(&in->sig, name) && strcmp(name, s->target) &&
            (s->id_column == NULL || strcmp(name, s->id_column))) {
            extra(&in->extras, name);
        }
    }
    return PX_OK;
}

static int extras_note(const struct extras *x, char ***notes, size_t *n_notes, struct px_err *err)
{
    *notes = NULL;
    *n_notes = 0;
    if (x->n_named == 0) {
        return PX_OK;
    }
    struct buf b;
    buf_init(&b, 4096);
    int rc = x->more
                 ? buf_printf(&b, err,
                              "ignored more than %zu columns the model does not "
                              "read: ",
                              x->n_named)
                 : buf_printf(&b, err, "ignored %zu column%s the model does not read: ", x->n_named,
                              x->n_named == 1 ? "" : "s");
    for (size_t i = 0; rc == PX_OK && i < x->n_named; i++) {
        rc = buf_printf(&b, err, "%s%.64s", i ? ", " : "", x->name[i]);
    }
    if (rc == PX_OK && x->more) {
        rc = buf_printf(&b, err, ", ...");
    }
    char **n = rc == PX_OK ? px_malloc(sizeof *n) : NULL;
    char *s = n != NULL ? px_malloc(b.len + 1) : NULL;
    if (rc == PX_OK && s == NULL) {
        px_free(n);
        rc = oom(err);
    }
    if (rc == PX_OK) {
        memcpy(s, b.data, b.len + 1);
        n[0] = s;
        *notes = n;
        *n_notes = 1;
    }
    buf_free(&b);
    return rc;
}

int app_prop_data_request(const struct app_prop_model *m, struct app_score_request *rq,
                          struct app_prop_data **out, char ***notes, size_t *n_notes,
                          struct px_err *err)
{
    const struct ml_spec *s = &m->pm.spec;
    struct input in = {.m = m, .where = "rows"};
    cJSON *root = NULL;
    *out = NULL;
    *notes = NULL;
    *n_notes = 0;
    int rc = PX_OK;
    if (rq->body == NULL || rq->len == 0) {
        return px_fail(err, PX_EINVAL, "empty body: expected %s",
                       rq->csv ? "CSV text with a header row"
                               : "{\"dataframe_split\": {\"columns\": [..], \"data\": [[..]]}} "
                                 "or another MLflow input form");
    }
    if (rq->csv) {
        in.form = FORM_CSV;
        in.where = "CSV";
        in.csv = rq->body;
        in.csv_len = rq->len;
    } else {
        rc = jsonx_parse(rq->body, rq->len, "request body", &root, err);
        if (rc == PX_OK && cJSON_IsArray(root)) {
            in.form = FORM_RECORDS;
            in.rows = root;
        } else if (rc == PX_OK && cJSON_IsObject(root)) {
            rc = pick_form(root, &in, err);
            if (rc == PX_OK)
                rc = read_params(cJSON_GetObjectItemCaseSensitive(root, "params"), rq, err);
        } else if (rc == PX_OK) {
            rc = px_fail(err, PX_EINVAL, "the body must be a JSON object (MLflow input forms)");
        }
        if (rc != PX_OK) {
            rc = rc == PX_ENOMEM ? rc : PX_EINVAL;
        }
        size_t n_rows = 0;
        if (rc == PX_OK) {
            n_rows = in.form == FORM_COLUMNS ? in.n_rows : (size_t)cJSON_GetArraySize(in.rows);
        }
        if (rc == PX_OK && n_rows == 0) {
            rc = px_fail(err, PX_EINVAL, "%s: no rows", in.where);
        }
        if (rc == PX_OK && n_rows > LIMIT_PROP_ROWS) {
            rc = px_fail(err, PX_ELIMIT, "%zu rows; the limit is %d (LIMIT_PROP_ROWS)", n_rows,
                         LIMIT_PROP_ROWS);
        }
        if (rc == PX_OK)
            rc = make_sig(s, input_has(&in, s->id_column), input_has(&in, s->target), &in.sig, err);
        if (rc == PX_OK && in.form != FORM_RECORDS)
            rc = check_columns(&in, err);
    }
    struct ml_dataset ds;
    memset(&ds, 0, sizeof ds);
    if (rc == PX_OK) {
        rc = ml_dataset_apply_records(rq->csv ? "CSV body" : "rows (row N is line N + 2)", s, false,
                                      produce, &in, &ds, err);
    }
    if (rc == PX_OK && ds.n_rows == 0) {
        rc = px_fail(err, PX_EINVAL, "%s: no rows", in.where);
    }
    if (rc == PX_OK)
        rc = extras_note(&in.extras, notes, n_notes, err);
    px_free(in.sig.cols);
    px_free(in.at);
    px_free(in.f);
    px_free(in.len);
    cJSON_Delete(root);
    if (rc != PX_OK) {
        ml_dataset_free(&ds);
        return rc;
    }
    return app_prop_data_wrap(&ds, out, err);
}
