// api_common.c — what every handler shares: the context, query arguments, the px_status → HTTP
// table, JSON error bodies (always valid UTF-8: a message that echoes a client's ill-formed
// bytes gets U+FFFD for each), and a customer row as JSON.

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "jsonx.h"
#include "mem.h"
#include "utf8.h"

// ---- status table ----

static const struct {
    int px;   // enum px_status
    int http; // HTTP status
} k_status[] = {
    {PX_OK, 200},     {PX_EINVAL, 400},     {PX_ENOMEM, 503},       {PX_EIO, 500},
    {PX_ENOENT, 404}, {PX_EFORMAT, 400},    {PX_ELIMIT, 413},       {PX_EUTF8, 400},
    {PX_ESHAPE, 500}, {PX_ENOWEIGHTS, 503}, {PX_EUNSUPPORTED, 501}, {PX_EINTERNAL, 500},
    {PX_EAUTH, 401},
};

int api_http_status(int px_status)
{
    for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++) {
        if (k_status[i].px == px_status) {
            return k_status[i].http;
        }
    }
    return 500;
}

const char *api_http_code(int http_status)
{
    switch (http_status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 429: return "too_many_requests";
    case 501: return "not_implemented";
    case 503: return "unavailable";
    default: return http_status >= 500 ? "internal_error" : "error";
    }
}

int api_error_body(struct api_res *res, int http_status, const char *message)
{
    struct px_err err = {0};
    buf_reset(&res->body);
    res->status = http_status;
    res->content_type = NULL;
    int rc = buf_printf(&res->body, &err, "{\"error\": {\"code\": \"%s\", \"message\": ",
                        api_http_code(http_status));
    // a message may echo the client's own bytes (a path parameter): each ill-formed byte
    // becomes U+FFFD, so the document is always valid UTF-8 (and so valid JSON)
    char clean[2 * PX_ERR_MSG_MAX];
    size_t n = strlen(message), k = 0;
    for (size_t i = 0; i < n && k + 4 < sizeof clean;) {
        int32_t cp;
        size_t len = utf8_decode((const unsigned char *)message + i, n - i, &cp);
        if (len == 0) {
            memcpy(clean + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
        } else {
            if (k + len + 1 >= sizeof clean) break;
            memcpy(clean + k, message + i, len);
            k += len;
            i += len;
        }
    }
    if (rc == PX_OK) rc = jsonx_put_string(&res->body, clean, k, &err);
    if (rc == PX_OK) rc = buf_append(&res->body, "}}", 2, &err);
    return rc;
}

const char *api_req_arg(const struct api_req *req, const char *key)
{
    for (size_t i = 0; i < req->n_args; i++) {
        if (req->args[i].key != NULL && strcmp(req->args[i].key, key) == 0) {
            return req->args[i].value ? req->args[i].value : "";
        }
    }
    return NULL;
}

int api_audit(const struct api_req *req, const char *action, const char *query, size_t len,
              const struct app_result *res, long row, struct px_err *err)
{
    if (req->ctx->access == NULL) {
        return PX_OK;
    }
    struct app_audit_entry e = {req->key_id, "http", NULL, action, query, len};
    return app_access_log(req->ctx->access, &e, req->ctx->book, res, row, err);
}

int api_audit_batch(const struct api_req *req, struct api_res *res, const char *action,
                    const char *const *queries, const struct app_result *results, size_t n,
                    struct px_err *err)
{
    if (req->ctx->access == NULL) {
        return PX_OK;
    }
    struct app_audit_entry e = {req->key_id, "http", NULL, action, NULL, 0};
    int rc = app_access_log_batch(req->ctx->access, &e, req->ctx->book, queries, results, n, err);
    if (rc == PX_OK) res->audited = action;
    return rc;
}

int api_audit_failed(const struct api_req *req, const struct api_res *res, const char *reason,
                     struct px_err *err)
{
    if (req->ctx->access == NULL || res->audited == NULL) {
        return PX_OK;
    }
    struct app_audit_entry e = {req->key_id, "http", NULL, res->audited, NULL, 0};
    return app_access_log_failure(req->ctx->access, &e, reason, err);
}

int api_row_json(const struct app_book *b, size_t row, struct buf *out, struct px_err *err)
{
    return app_book_row_json(b, row, out, err);
}

// ---- schema, built once ----

#define SCHEMA_MAX_VALUES 50 // a text column with more distinct values gets no value set

static int build_schema(const struct app_book *b, struct buf *out, struct px_err *err)
{
    size_t n_cols = app_book_n_columns(b), n_rows = app_book_n_rows(b);
    const char *vals[SCHEMA_MAX_VALUES];
    int rc = PX_OK;
    {
        const char *dense = app_book_dense_status(b);
        rc = buf_printf(out, err, "{\"rows\": %zu, \"dense\": %s, \"columns\": [", n_rows,
                        dense ? "false" : "true");
    }
    for (size_t c = 0; c < n_cols && rc == PX_OK; c++) {
        const char *t = app_book_column_type(b, c);
        rc = buf_append(out, c ? ", {\"name\": " : "{\"name\": ", c ? 11 : 9, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, app_book_column_name(b, c), strlen(app_book_column_name(b, c)), err);
        if (rc == PX_OK) rc = buf_append(out, ", \"label\": ", 11, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, app_book_column_label(b, c), strlen(app_book_column_label(b, c)), err);
        if (rc == PX_OK) {
            rc = buf_printf(out, err, ", \"type\": \"%s\", \"id\": %s", t,
                            app_book_column_is_id(b, c) ? "true" : "false");
        }
        // the value set of a categorical column (at most SCHEMA_MAX_VALUES values)
        size_t n_vals = 0;
        bool many = app_book_column_is_id(b, c) || strcmp(t, "category") != 0;
        for (size_t r = 0; r < n_rows && !many; r++) {
            const char *v = app_book_value(b, r, c);
            size_t k = 0;
            while (k < n_vals && strcmp(vals[k], v) != 0) k++;
            if (k == n_vals && v[0] != '\0') {
                if (n_vals == SCHEMA_MAX_VALUES) {
                    many = true;
                } else {
                    vals[n_vals++] = v;
                }
            }
        }
        if (rc == PX_OK && !many) {
            rc = buf_append(out, ", \"values\": [", 13, err);
            for (size_t k = 0; k < n_vals && rc == PX_OK; k++) {
                if (k) rc = buf_append(out, ", ", 2, err);
                if (rc == PX_OK) rc = jsonx_put_string(out, vals[k], strlen(vals[k]), err);
            }
            if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
        }
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK) rc = buf_append(out, "]}", 2, err);
    return rc;
}

int api_ctx_init(struct api_ctx *ctx, struct app_book *book, struct px_err *err)
{
    struct buf schema;
    buf_init(&schema, LIMIT_HTTP_RESPONSE);
    memset(ctx, 0, sizeof *ctx);
    ctx->book = book;
    metrics_init(&ctx->metrics);
    int rc = build_schema(book, &schema, err);
    if (rc == PX_OK)
        rc = app_prop_cache_new(0, 0, &ctx->prop_cache, err);
    if (rc == PX_OK) {
        ctx->schema_len = schema.len;
        ctx->schema_json = buf_take(&schema);
    }
    buf_free(&schema);
    if (rc != PX_OK) {
        ctx->book = NULL; // nothing else to release
    }
    return rc;
}

void api_ctx_free(struct api_ctx *ctx)
{
    if (ctx == NULL || ctx->book == NULL) {
        return;
    }
    px_free(ctx->schema_json);
    app_prop_cache_free(ctx->prop_cache);
    memset(ctx, 0, sizeof *ctx);
}
