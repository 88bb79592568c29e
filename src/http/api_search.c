// api_search.c — the REST search API: GET /api/search, /api/customers/{id} and
// /api/customers/{id}/similar. Answers are app_result_to_json's, the same JSON as
// `prospect search --json`; with up= / down= customer ids the search is re-ranked with that
// feedback (app_book_search_feedback) and the answer says so in "feedback". Each answer is built whole into the bounded body first, then
// audited (the row names what is sent; no row, no answer).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app_saved.h"
#include "jsonx.h"

// Parses the "top" argument (absent: dflt) in 1..LIMIT_HTTP_TOP.
static int arg_top(const struct api_req *req, size_t dflt, size_t *out, struct px_err *err)
{
    const char *s = api_req_arg(req, "top");
    if (s == NULL) {
        *out = dflt;
        return PX_OK;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 1 || v > LIMIT_HTTP_TOP) {
        return px_fail(err, PX_EINVAL, "top must be an integer in 1..%d", LIMIT_HTTP_TOP);
    }
    *out = (size_t)v;
    return PX_OK;
}

// app_result_to_json of r into the bounded body; its limit is a 413 that says which.
static int put_result(const struct app_book *b, const char *q, const struct app_result *r,
                      struct api_res *res, struct px_err *err)
{
    int rc = app_result_to_json(b, q, q ? strlen(q) : 0, r, &res->body, err);
    if (rc == PX_ELIMIT) {
        res->status = 413;
        rc = px_fail(err, PX_ELIMIT,
                     "the answer outgrew the %u MiB response limit (LIMIT_HTTP_RESPONSE): ask for "
                     "a smaller top",
                     LIMIT_HTTP_RESPONSE >> 20);
    }
    return rc;
}

// A comma list of customer ids (absent: none) split into ids, copied into scratch.
static int split_ids(const char *s, char *scratch, size_t size, const char **ids, size_t *n,
                     struct px_err *err)
{
    *n = 0;
    if (s == NULL || s[0] == '\0') return PX_OK;
    snprintf(scratch, size, "%s", s);
    for (char *save = NULL, *t = strtok_r(scratch, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (*n == LIMIT_FEEDBACK_IDS) {
            return px_fail(err, PX_ELIMIT, "at most %d customer ids up and down",
                           LIMIT_FEEDBACK_IDS);
        }
        ids[(*n)++] = t;
    }
    return PX_OK;
}

int api_search(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct api_ctx *ctx = req->ctx;
    struct app_result r = {0};
    size_t top = 0;
    const char *q = api_req_arg(req, "q");
    int rc = q == NULL ? px_fail(err, PX_EINVAL, "missing query argument 'q'") : PX_OK;
    if (rc == PX_OK && strlen(q) > LIMIT_QUERY_BYTES) {
        rc = px_fail(err, PX_ELIMIT, "q is %zu bytes; the limit is %d (LIMIT_QUERY_BYTES)",
                     strlen(q), LIMIT_QUERY_BYTES);
        res->status = 400;
    }
    if (rc == PX_OK) rc = arg_top(req, 10, &top, err);
    // feedback (issue 15): up=ID,ID&down=ID re-ranks the candidates (app_saved.h)
    char ups[LIMIT_HTTP_PARAM_BYTES], downs[LIMIT_HTTP_PARAM_BYTES];
    const char *up[LIMIT_FEEDBACK_IDS], *down[LIMIT_FEEDBACK_IDS];
    size_t n_up = 0, n_down = 0;
    bool dense = false;
    if (rc == PX_OK) rc = split_ids(api_req_arg(req, "up"), ups, sizeof ups, up, &n_up, err);
    if (rc == PX_OK) {
        rc = split_ids(api_req_arg(req, "down"), downs, sizeof downs, down, &n_down, err);
    }
    if (rc == PX_OK && n_up + n_down > 0) {
        rc = app_book_search_feedback(ctx->book, q, strlen(q), top, up, n_up, down, n_down, &r,
                                      &dense, err);
        if (rc == PX_OK) {
            rc = app_feedback_to_json(ctx->book, q, strlen(q), up, n_up, down, n_down, dense, &r,
                                      &res->body, err);
        }
    } else if (rc == PX_OK) {
        rc = app_book_search(ctx->book, q, strlen(q), top, &r, err);
        if (rc == PX_OK) rc = put_result(ctx->book, q, &r, res, err);
    }
    if (rc == PX_OK) rc = api_audit(req, "search", q, strlen(q), &r, -1, err);
    if (rc == PX_OK) res->audited = "search";
    app_result_free(&r);
    return rc;
}

// Row of the {id} path parameter, or PX_ENOENT.
static int find_customer(const struct api_req *req, size_t *row, struct px_err *err)
{
    long r = app_book_find(req->ctx->book, req->id);
    if (r < 0) {
        // the id is the caller's own input: echoing it back is fine, logging it is not
        return px_fail(err, PX_ENOENT, "no customer with id '%s'", req->id);
    }
    *row = (size_t)r;
    return PX_OK;
}

int api_customer(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    size_t row = 0;
    int rc = find_customer(req, &row, err);
    if (rc == PX_OK) rc = buf_append(&res->body, "{\"customer_id\": ", 16, err);
    if (rc == PX_OK) {
        const char *id = app_book_id(req->ctx->book, row);
        rc = jsonx_put_string(&res->body, id, strlen(id), err);
    }
    if (rc == PX_OK) rc = buf_append(&res->body, ", \"row\": ", 9, err);
    if (rc == PX_OK) rc = api_row_json(req->ctx->book, row, &res->body, err);
    if (rc == PX_OK) rc = buf_append(&res->body, "}", 1, err);
    if (rc == PX_OK)
        rc = api_audit(req, "customer", req->id, strlen(req->id), NULL, (long)row, err);
    if (rc == PX_OK) res->audited = "customer";
    return rc;
}

int api_customer_similar(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct api_ctx *ctx = req->ctx;
    struct app_result r = {0};
    size_t row = 0, top = 0;
    int rc = find_customer(req, &row, err);
    if (rc == PX_OK) rc = arg_top(req, 10, &top, err);
    if (rc == PX_OK) {
        const char *ids[1] = {app_book_id(ctx->book, row)};
        rc = app_book_similar(ctx->book, ids, 1, top, &r, err);
    }
    if (rc == PX_OK) rc = put_result(ctx->book, NULL, &r, res, err);
    if (rc == PX_OK) rc = api_audit(req, "similar", req->id, strlen(req->id), &r, -1, err);
    if (rc == PX_OK) res->audited = "similar";
    app_result_free(&r);
    return rc;
}
