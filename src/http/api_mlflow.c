// api_mlflow.c — POST /invocations, MLflow's scoring protocol, so clients of the seed's pyfunc
// model work unchanged. A server started with --propensity-model REF scores rows with that
// model instead (api_prop.c); what follows is the search of the customer book.
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
//
// Size and audit: before any search, queries x min(top_n, rows) x the mean size of a prediction
// (sampled from the book) must fit LIMIT_HTTP_RESPONSE, else 413 naming the limit and how many
// predictions fit. The whole answer is then built into the bounded body (a short estimate still
// ends in a 413, with nothing audited), and only then is the request's one audit row written
// (app_access_log_batch: every query, every id sent); a failed write means no answer.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "api.h"
#include "jsonx.h"
#include "mem.h"

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

// One prediction P; row is scratch space.
static int put_prediction(const struct app_book *b, size_t i_row, double score, bool show_score,
                          struct buf *row, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{\"Customer\": ", 13, err);
    if (rc == PX_OK) rc = put_customer(b, i_row, out, err);
    if (rc == PX_OK && show_score) {
        rc = isfinite(score) ? buf_printf(out, err, ", \"Similarity\": %.6g", score)
                             : buf_append(out, ", \"Similarity\": null", 20, err);
    }
    buf_reset(row);
    if (rc == PX_OK) rc = api_row_json(b, i_row, row, err);
    // splice the row's fields in, without its braces
    if (rc == PX_OK && row->len > 2) {
        rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = buf_append(out, row->data + 1, row->len - 2, err);
    }
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
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
        if (i > 0) rc = buf_append(out, ", ", 2, err);
        double s = isnan(h->similarity) ? h->score : h->similarity;
        if (rc == PX_OK) rc = put_prediction(b, h->row, s, show_score, &row, out, err);
    }
    if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
    buf_free(&row);
    return rc;
}

// Mean bytes of one prediction (with its separator), from up to MLFLOW_SAMPLE rows spread
// over the book; 0 for an empty book.
#define MLFLOW_SAMPLE 32
static int mean_prediction_bytes(const struct app_book *b, bool show_score, size_t *mean,
                                 struct px_err *err)
{
    size_t n_rows = app_book_n_rows(b), n = n_rows < MLFLOW_SAMPLE ? n_rows : MLFLOW_SAMPLE;
    struct buf row, out;
    buf_init(&row, LIMIT_HTTP_RESPONSE);
    buf_init(&out, LIMIT_HTTP_RESPONSE);
    int rc = PX_OK;
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        rc = put_prediction(b, i * n_rows / n, 0.123456, show_score, &row, &out, err);
    }
    *mean = n ? out.len / n + 2 : 0;
    buf_free(&row);
    buf_free(&out);
    return rc;
}

// Refuses (413) a request whose answer would outgrow LIMIT_HTTP_RESPONSE, before any search:
// n queries x min(top_n, rows) predictions x their mean size.
static int check_size(const struct app_book *b, const struct api_mlflow_input *in,
                      struct api_res *res, struct px_err *err)
{
    size_t mean = 0, n_rows = app_book_n_rows(b);
    int rc = mean_prediction_bytes(b, in->show_score, &mean, err);
    if (rc != PX_OK || mean == 0) return rc;
    size_t per_query = in->top < n_rows ? in->top : n_rows;
    size_t room = LIMIT_HTTP_RESPONSE - 64; // the envelope
    double want = (double)in->n * (double)per_query * (double)mean;
    if (want <= (double)room) return PX_OK;
    size_t max_preds = room / mean, top_fit = max_preds / in->n;
    res->status = 413;
    return px_fail(err, PX_ELIMIT,
                   "the answer would be about %.1f MiB (%zu queries x top_n %zu x ~%zu bytes a "
                   "prediction), over the %u MiB response limit (LIMIT_HTTP_RESPONSE): ask for at "
                   "most %zu predictions in one request (queries x top_n)%s%zu%s",
                   want / (1 << 20), in->n, in->top, mean, LIMIT_HTTP_RESPONSE >> 20, max_preds,
                   top_fit ? ", e.g. top_n " : ", e.g. ", top_fit ? top_fit : max_preds,
                   top_fit ? " for this batch" : " queries of top_n 1");
}

static bool is_json(const char *ct)
{
    if (ct == NULL) return false;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

// Searches every query, builds the whole answer into res->body (bounded by LIMIT_HTTP_RESPONSE),
// and only then writes the request's one audit row: nothing is audited that is not sent, and
// nothing is sent that is not audited.
int api_invocations(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct api_ctx *ctx = req->ctx;
    if (ctx->prop_model != NULL) {
        return api_prop_invocations(req, res, err); // serve --propensity-model: score with it
    }
    struct api_mlflow_input in = {0};
    struct app_result *r = NULL;
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
    if (rc == PX_OK) rc = check_size(ctx->book, &in, res, err);
    if (rc != PX_OK) goto done;
    r = px_calloc(in.n, sizeof *r);
    if (r == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for %zu answers", in.n);
        goto done;
    }
    rc = buf_append(&res->body, in.n > 1 ? "{\"predictions\": [" : "{\"predictions\": ",
                    in.n > 1 ? 17 : 16, err);
    for (size_t q = 0; q < in.n && rc == PX_OK; q++) {
        rc = app_book_search(ctx->book, in.query[q], strlen(in.query[q]), in.top, &r[q], err);
        if (rc != PX_OK) break; // its own status (a search's limit is not the body's)
        if (q > 0) rc = buf_append(&res->body, ", ", 2, err);
        if (rc == PX_OK) rc = put_predictions(ctx->book, &r[q], in.show_score, &res->body, err);
        if (rc == PX_ELIMIT) { // the estimate was short: the bounded body says no, nothing audited
            res->status = 413;
            rc = px_fail(err, PX_ELIMIT,
                         "the answer outgrew the %u MiB response limit (LIMIT_HTTP_RESPONSE) at "
                         "query %zu of %zu with top_n %zu: ask for fewer queries or a smaller "
                         "top_n in one request",
                         LIMIT_HTTP_RESPONSE >> 20, q + 1, in.n, in.top);
        }
    }
    if (rc == PX_OK) rc = buf_append(&res->body, in.n > 1 ? "]}" : "}", in.n > 1 ? 2 : 1, err);
    if (rc == PX_OK) rc = api_audit_batch(req, res, "invocations", in.query, r, in.n, err);
done:
    for (size_t q = 0; r != NULL && q < in.n; q++) app_result_free(&r[q]);
    px_free(r);
    cJSON_Delete(root);
    return rc;
}
