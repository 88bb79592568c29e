// api_graph.c — the recommendation, graph and segment routes (README, "Recommendations and
// segments"):
//
//   GET /api/customers/{id}/recommendations?top=5   products the customer does not hold
//   GET /api/graph?customer=ID | segment=S & rm=NAME & limit=N   a bounded customer-product graph
//   GET /api/segments                                segment sizes and traits from the book
//
// The first two need `prospect serve --recommender NAME` / `--wholesale DIR` (404 saying so
// without). All are under /api/, so protected by API keys. Recommendations and graphs name
// customers, so each call is audited before it answers (actions "recommend" and "graph"; the
// customers of the answer that are in the served book are logged by id); segment summaries are
// aggregates, like /api/schema, and are not.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app_segments.h"

static int arg_size(const struct api_req *req, const char *key, size_t dflt, size_t hi, size_t *out,
                    struct px_err *err)
{
    const char *s = api_req_arg(req, key);
    if (s == NULL) {
        *out = dflt;
        return PX_OK;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 1 || (unsigned long)v > hi) {
        return px_fail(err, PX_EINVAL, "%s must be an integer in 1..%zu", key, hi);
    }
    *out = (size_t)v;
    return PX_OK;
}

int api_customer_recommendations(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    const struct app_rec *rec = req->ctx->rec;
    size_t top = 0;
    if (app_rec_model_name(rec) == NULL) {
        return px_fail(err, PX_ENOENT,
                       "no recommender is served (prospect serve --recommender NAME)");
    }
    int rc = arg_size(req, "top", 5, LIMIT_REC_TOP, &top, err);
    struct buf body;
    buf_init(&body, res->body.max);
    if (rc == PX_OK)
        rc = app_rec_recommend_json(rec, req->id, top, &body, err);
    if (rc == PX_OK) {
        long row = req->ctx->book != NULL ? app_book_find(req->ctx->book, req->id) : -1;
        rc = api_audit(req, "recommend", req->id, strlen(req->id), NULL, row, err);
    }
    if (rc == PX_OK)
        rc = buf_append(&res->body, body.data, body.len, err);
    buf_free(&body);
    return rc;
}

int api_graph(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    const struct app_rec *rec = req->ctx->rec;
    if (!app_rec_has_graph(rec)) {
        return px_fail(err, PX_ENOENT,
                       "no wholesale book is served (prospect serve --wholesale DIR)");
    }
    struct app_graph_query q = {
        .customer = api_req_arg(req, "customer"),
        .segment = api_req_arg(req, "segment"),
        .rm = api_req_arg(req, "rm"),
    };
    bool neighbourhood = q.customer != NULL && q.customer[0] != '\0';
    int rc = arg_size(req, "limit", neighbourhood ? 25 : 40, LIMIT_GRAPH_CUSTOMERS, &q.limit, err);
    if (rc == PX_OK && neighbourhood &&
        ((q.segment != NULL && q.segment[0] != '\0') || (q.rm != NULL && q.rm[0] != '\0'))) {
        rc = px_fail(err, PX_EINVAL, "customer does not go with segment or rm");
    }
    if (rc == PX_OK && q.segment != NULL && q.segment[0] != '\0') {
        char *end = NULL;
        long s = strtol(q.segment, &end, 10);
        if (*end != '\0' || s < 1 || s > LIMIT_KMEANS_K) {
            rc = px_fail(err, PX_EINVAL, "segment must be an integer in 1..%d", LIMIT_KMEANS_K);
        }
    }
    struct app_result shown = {0};
    struct buf body;
    buf_init(&body, res->body.max);
    if (rc == PX_OK)
        rc = app_graph_json(rec, req->ctx->book, &q, &body, &shown, err);
    if (rc == PX_OK) {
        // the audit's query text: the filter asked for
        char what[3 * LIMIT_HTTP_PARAM_BYTES + 40];
        int n = snprintf(what, sizeof what, "customer=%s segment=%s rm=%s limit=%zu",
                         q.customer ? q.customer : "", q.segment ? q.segment : "", q.rm ? q.rm : "",
                         q.limit);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof what ? (size_t)n : sizeof what - 1;
        rc = api_audit(req, "graph", what, len, &shown, -1, err);
    }
    if (rc == PX_OK)
        rc = buf_append(&res->body, body.data, body.len, err);
    app_result_free(&shown);
    buf_free(&body);
    return rc;
}

int api_segments(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    const char *column = api_req_arg(req, "column");
    return app_segments_json(req->ctx->book, column ? column : "segment", &res->body, err);
}
