// api_mlflow.c — POST /invocations, MLflow's scoring protocol, so clients of the seed's pyfunc
// model work unchanged.
//
// Request: a JSON object with exactly one input key and optional "params":
//   {"inputs": {"query": ["q1", ...]}}          also {"inputs": {"query": "q1"}}, {"inputs": ["q1"]}
//   {"dataframe_split": {"columns": ["query"], "data": [["q1"], ...]}}
//   {"dataframe_records": [{"query": "q1"}, ...]}
//   {"instances": [{"query": "q1"}, ...]}        also {"instances": ["q1", ...]}
//   "params": {"top_n": 5 (1..LIMIT_HTTP_TOP), "show_score": true}
// Content-Type must be application/json (415 otherwise).
//
// Reply, as the seed's pyfunc returns it:
//   one query:      {"predictions": [P, P, ...]}
//   several:        {"predictions": [[P, ...], [P, ...]]}   one list per query, in input order
// where P = {"Customer": "Customer ID: 1001, Age: 34, Income: $85000, ...", "Similarity": 0.83,
// <the row's fields, typed>}. "Customer" joins "Label: value" of the id and the seed's key
// attributes (age, income, credit score, segment, risk — see put_customer).
// "Similarity" is the cosine with the query when the dense path computed it, else the ranking
// score; show_score false leaves it out.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "api.h"
#include "jsonx.h"

#define MLFLOW_CUSTOMER_COLS 8

static int add_query(struct api_mlflow_input *in, const cJSON *v, const char *where, size_t i,
                     struct px_err *err)
{
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        return px_fail(err, PX_EINVAL, "%s[%zu]: expected a non-empty query string", where, i);
    }
    if (strlen(v->valuestring) > LIMIT_QUERY_BYTES) {
        return px_fail(err, PX_EINVAL, "%s[%zu]: query over %d bytes (LIMIT_QUERY_BYTES)", where,
                       i, LIMIT_QUERY_BYTES);
    }
    if (in->n == LIMIT_HTTP_QUERIES) {
        return px_fail(err, PX_EINVAL, "more than %d queries in one request (LIMIT_HTTP_QUERIES)",
                       LIMIT_HTTP_QUERIES);
    }
    in->query[in->n++] = v->valuestring;
    return PX_OK;
}

// {"query": "q" | ["q", ...]}
static int from_columns(struct api_mlflow_input *in, const cJSON *obj, const char *where,
                        struct px_err *err)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(obj, "query");
    if (q == NULL) {
        return px_fail(err, PX_EINVAL, "%s: no \"query\" field", where);
    }
    if (cJSON_IsString(q)) {
        return add_query(in, q, where, 0, err);
    }
    if (!cJSON_IsArray(q)) {
        return px_fail(err, PX_EINVAL, "%s.query: expected a string or a list of strings", where);
    }
    int rc = PX_OK;
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, q)
    {
        if (rc == PX_OK) rc = add_query(in, v, where, i++, err);
    }
    return rc;
}

// ["q", ...] or [{"query": "q"}, ...]
static int from_records(struct api_mlflow_input *in, const cJSON *arr, const char *where,
                        bool strings_ok, struct px_err *err)
{
    if (!cJSON_IsArray(arr)) {
        return px_fail(err, PX_EINVAL, "%s: expected a list", where);
    }
    int rc = PX_OK;
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (rc != PX_OK) break;
        if (cJSON_IsObject(v)) {
            const cJSON *q = cJSON_GetObjectItemCaseSensitive(v, "query");
            rc = q ? add_query(in, q, where, i, err)
                   : px_fail(err, PX_EINVAL, "%s[%zu]: no \"query\" field", where, i);
        } else if (strings_ok) {
            rc = add_query(in, v, where, i, err);
        } else {
            rc = px_fail(err, PX_EINVAL, "%s[%zu]: expected an object", where, i);
        }
        i++;
    }
    return rc;
}

// {"columns": [...], "data": [[...], ...]}: the "query" column (or the only one).
static int from_split(struct api_mlflow_input *in, const cJSON *obj, struct px_err *err)
{
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(obj, "columns");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
    if (!cJSON_IsObject(obj) || !cJSON_IsArray(cols) || !cJSON_IsArray(data)) {
        return px_fail(err, PX_EINVAL, "dataframe_split: expected {\"columns\": [...], \"data\": [[...]]}");
    }
    int i_col = -1, n_cols = cJSON_GetArraySize(cols);
    for (int c = 0; c < n_cols; c++) {
        const cJSON *name = cJSON_GetArrayItem(cols, c);
        if (cJSON_IsString(name) && strcmp(name->valuestring, "query") == 0) i_col = c;
    }
    if (i_col < 0 && n_cols == 1) i_col = 0;
    if (i_col < 0) {
        return px_fail(err, PX_EINVAL, "dataframe_split.columns: no \"query\" column");
    }
    int rc = PX_OK;
    size_t i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, data)
    {
        if (rc != PX_OK) break;
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != n_cols) {
            rc = px_fail(err, PX_EINVAL, "dataframe_split.data[%zu]: expected a list of %d values", i, n_cols);
        } else {
            rc = add_query(in, cJSON_GetArrayItem(row, i_col), "dataframe_split.data", i, err);
        }
        i++;
    }
    return rc;
}

static int parse_params(struct api_mlflow_input *in, const cJSON *params, struct px_err *err)
{
    int64_t top = 5;
    bool show = true;
    if (params == NULL || cJSON_IsNull(params)) {
        in->top = (size_t)top;
        in->show_score = show;
        return PX_OK;
    }
    if (!cJSON_IsObject(params)) {
        return px_fail(err, PX_EINVAL, "params: expected an object");
    }
    int rc = jsonx_get_int(params, "top_n", false, 5, 1, LIMIT_HTTP_TOP, &top, "params", err);
    if (rc == PX_OK) rc = jsonx_get_bool(params, "show_score", false, true, &show, "params", err);
    in->top = (size_t)top;
    in->show_score = show;
    return rc; // PX_EFORMAT, answered 400
}

int api_mlflow_parse(const cJSON *root, struct api_mlflow_input *in, struct px_err *err)
{
    static const char *const keys[] = {"inputs", "dataframe_split", "dataframe_records", "instances"};
    const cJSON *val = NULL;
    int which = -1;
    if (!cJSON_IsObject(root)) {
        return px_fail(err, PX_EINVAL, "body: expected a JSON object");
    }
    for (int k = 0; k < 4; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
        if (v != NULL && which >= 0) {
            return px_fail(err, PX_EINVAL, "body has both \"%s\" and \"%s\"; give exactly one",
                           keys[which], keys[k]);
        }
        if (v != NULL) {
            which = k;
            val = v;
        }
    }
    if (which < 0) {
        return px_fail(err, PX_EINVAL, "body needs one of \"inputs\", \"dataframe_split\", "
                                       "\"dataframe_records\", \"instances\"");
    }
    int rc;
    switch (which) {
    case 0:
        rc = cJSON_IsObject(val) ? from_columns(in, val, "inputs", err)
                                 : from_records(in, val, "inputs", true, err);
        break;
    case 1: rc = from_split(in, val, err); break;
    case 2: rc = from_records(in, val, "dataframe_records", false, err); break;
    default:
        rc = cJSON_IsObject(val) ? from_columns(in, val, "instances", err)
                                 : from_records(in, val, "instances", true, err);
        break;
    }
    if (rc == PX_OK && in->n == 0) {
        rc = px_fail(err, PX_EINVAL, "%s: no queries", keys[which]);
    }
    if (rc == PX_OK) rc = parse_params(in, cJSON_GetObjectItemCaseSensitive(root, "params"), err);
    return rc;
}

// The attributes the seed's pyfunc model shows after the id ("Customer ID: …, Age: …, Income:
// $…, Credit Score: …, Segment: …, Risk Profile: …"): the first column whose label has each
// word, in this order. A book with fewer than MLFLOW_MIN_KEYS of them shows its first
// MLFLOW_CUSTOMER_COLS columns instead. Currency values get a "$".
static const char *const k_key_words[] = {"age", "income", "credit score", "segment", "risk"};
#define MLFLOW_MIN_KEYS 3

// Does label contain word as whole words (case-insensitive; "age" is not in "Mortgage")?
static bool has_word(const char *label, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = label; (p = strcasestr(p, word)) != NULL; p++) {
        bool start = p == label || !isalnum((unsigned char)p[-1]);
        bool end = !isalnum((unsigned char)p[n]);
        if (start && end) {
            return true;
        }
    }
    return false;
}

static int put_field(const struct app_book *b, size_t row, size_t c, struct buf *s,
                     struct px_err *err)
{
    const char *v = app_book_value(b, row, c);
    bool money = strcmp(app_book_column_type(b, c), "currency") == 0;
    return buf_printf(s, err, ", %s: %s%s", app_book_column_label(b, c), money ? "$" : "", v);
}

// "Customer ID: …, Age: …, Income: $…, …" as a JSON string.
static int put_customer(const struct app_book *b, size_t row, struct buf *out, struct px_err *err)
{
    enum { N_KEYS = sizeof k_key_words / sizeof k_key_words[0] };
    size_t key_col[N_KEYS], n_keys = 0, n_cols = app_book_n_columns(b);
    for (size_t k = 0; k < N_KEYS; k++) {
        for (size_t c = 0; c < n_cols; c++) {
            if (!app_book_column_is_id(b, c) && has_word(app_book_column_label(b, c), k_key_words[k])) {
                key_col[n_keys++] = c;
                break;
            }
        }
    }
    struct buf s;
    buf_init(&s, LIMIT_HTTP_RESPONSE);
    int rc = buf_printf(&s, err, "Customer ID: %s", app_book_id(b, row));
    if (n_keys >= MLFLOW_MIN_KEYS) {
        for (size_t k = 0; k < n_keys && rc == PX_OK; k++) {
            if (app_book_value(b, row, key_col[k])[0] != '\0') {
                rc = put_field(b, row, key_col[k], &s, err);
            }
        }
    } else {
        size_t shown = 0;
        for (size_t c = 0; c < n_cols && shown < MLFLOW_CUSTOMER_COLS && rc == PX_OK; c++) {
            if (!app_book_column_is_id(b, c) && app_book_value(b, row, c)[0] != '\0') {
                rc = put_field(b, row, c, &s, err);
                shown++;
            }
        }
    }
    if (rc == PX_OK) rc = jsonx_put_string(out, s.data, s.len, err);
    buf_free(&s);
    return rc;
}

// One query's prediction list.
static int put_predictions(const struct app_book *b, const struct app_result *r, bool show_score,
                           struct buf *out, struct px_err *err)
{
    struct buf row;
    buf_init(&row, LIMIT_HTTP_RESPONSE);
    int rc = buf_append(out, "[", 1, err);
    for (size_t i = 0; i < r->n_hits && rc == PX_OK; i++) {
        const struct app_hit *h = &r->hits[i];
        rc = buf_append(out, i ? ", {\"Customer\": " : "{\"Customer\": ", i ? 15 : 13, err);
        if (rc == PX_OK) rc = put_customer(b, h->row, out, err);
        if (rc == PX_OK && show_score) {
            double s = isnan(h->similarity) ? h->score : h->similarity;
            rc = isfinite(s) ? buf_printf(out, err, ", \"Similarity\": %.6g", s)
                             : buf_append(out, ", \"Similarity\": null", 20, err);
        }
        buf_reset(&row);
        if (rc == PX_OK) rc = api_row_json(b, h->row, &row, err);
        // splice the row's fields in, without its braces
        if (rc == PX_OK && row.len > 2) {
            rc = buf_append(out, ", ", 2, err);
            if (rc == PX_OK) rc = buf_append(out, row.data + 1, row.len - 2, err);
        }
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
    buf_free(&row);
    return rc;
}

static bool is_json(const char *ct)
{
    if (ct == NULL) return false;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int api_invocations(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct api_ctx *ctx = req->ctx;
    struct api_mlflow_input in = {0};
    struct app_result r = {0};
    cJSON *root = NULL;
    int rc = PX_EINVAL;
    if (!is_json(req->content_type)) {
        res->status = 415;
        rc = px_fail(err, PX_EUNSUPPORTED, "Content-Type must be application/json");
        goto done;
    }
    if (req->body == NULL || req->body_len == 0) {
        rc = px_fail(err, PX_EINVAL, "empty body: expected a JSON object");
        goto done;
    }
    rc = jsonx_parse(req->body, req->body_len, "body", &root, err);
    if (rc != PX_OK) {
        rc = PX_EINVAL;
        goto done;
    }
    rc = api_mlflow_parse(root, &in, err);
    if (rc != PX_OK) goto done;
    rc = buf_append(&res->body, in.n > 1 ? "{\"predictions\": [" : "{\"predictions\": ",
                    in.n > 1 ? 17 : 16, err);
    for (size_t q = 0; q < in.n && rc == PX_OK; q++) {
        rc = app_book_search(ctx->book, in.query[q], strlen(in.query[q]), in.top, &r, err);
        if (rc == PX_OK) {
            rc = api_audit(req, "invocations", in.query[q], strlen(in.query[q]), &r, -1, err);
        }
        if (rc == PX_OK && q > 0) rc = buf_append(&res->body, ", ", 2, err);
        if (rc == PX_OK) rc = put_predictions(ctx->book, &r, in.show_score, &res->body, err);
        app_result_free(&r);
    }
    if (rc == PX_OK) rc = buf_append(&res->body, in.n > 1 ? "]}" : "}", in.n > 1 ? 2 : 1, err);
done:
    cJSON_Delete(root);
    return rc;
}
