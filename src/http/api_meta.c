// api_meta.c — the handlers about the server itself: probes, version, schema, metrics and the
// OpenAPI document, which is generated from the route table the server dispatches on.
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "jsonx.h"
#include "routes.h"

int api_ping(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    (void)req;
    return buf_append(&res->body, "{\"status\": \"ok\"}", 16, err);
}

int api_health(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    const struct app_book *b = req->ctx->book;
    const char *why = app_book_dense_status(b);
    int rc = buf_printf(&res->body, err, "{\"status\": \"ok\", \"rows\": %zu, \"dense\": %s",
                        app_book_n_rows(b), why ? "false" : "true");
    if (rc == PX_OK && why != NULL) {
        rc = buf_append(&res->body, ", \"dense_status\": ", 18, err);
        if (rc == PX_OK) rc = jsonx_put_string(&res->body, why, strlen(why), err);
    }
    // what the graph page and the customer panel can offer (serve --recommender, --wholesale)
    const char *rec = app_rec_model_name(req->ctx->rec);
    if (rc == PX_OK) rc = buf_append(&res->body, ", \"recommender\": ", 17, err);
    if (rc == PX_OK) {
        rc = rec ? jsonx_put_string(&res->body, rec, strlen(rec), err)
                 : buf_append(&res->body, "null", 4, err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(&res->body, err, ", \"graph\": %s",
                        app_rec_has_graph(req->ctx->rec) ? "true" : "false");
    }
    return rc == PX_OK ? buf_append(&res->body, "}", 1, err) : rc;
}

int api_version(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    (void)req;
    return buf_printf(&res->body, err, "{\"name\": \"prospect\", \"version\": \"%s\"}", PX_VERSION);
}

int api_schema(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    return buf_append(&res->body, req->ctx->schema_json, req->ctx->schema_len, err);
}

int api_metrics(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    size_t hits = 0, misses = 0;
    app_book_cache_stats(req->ctx->book, &hits, &misses);
    int rc = metrics_render(&req->ctx->metrics, &res->body, err);
    if (rc == PX_OK) {
        rc = buf_printf(&res->body, err,
                        "# HELP prospect_query_cache_total Query vectors taken from the cache "
                        "(hit) or embedded (miss).\n"
                        "# TYPE prospect_query_cache_total counter\n"
                        "prospect_query_cache_total{result=\"hit\"} %zu\n"
                        "prospect_query_cache_total{result=\"miss\"} %zu\n"
                        "# HELP prospect_customers Customers in the book being served.\n"
                        "# TYPE prospect_customers gauge\n"
                        "prospect_customers %zu\n",
                        hits, misses, app_book_n_rows(req->ctx->book));
    }
    if (rc == PX_OK && req->ctx->prop_cache != NULL) {
        struct app_prop_cache_stats st;
        app_prop_cache_stats(req->ctx->prop_cache, &st);
        rc = buf_printf(&res->body, err,
                        "# HELP prospect_model_cache_total Propensity routes: loaded models, data "
                        "sets, SHAP values and profile-text vectors taken from the cache (hit) or "
                        "computed (miss).\n"
                        "# TYPE prospect_model_cache_total counter\n");
        for (int p = 0; rc == PX_OK && p < APP_PROP_PARTS; p++) {
            rc = buf_printf(&res->body, err,
                            "prospect_model_cache_total{part=\"%s\",result=\"hit\"} %zu\n"
                            "prospect_model_cache_total{part=\"%s\",result=\"miss\"} %zu\n",
                            app_prop_part_names[p], st.hit[p], app_prop_part_names[p], st.miss[p]);
        }
        if (rc == PX_OK) {
            rc = buf_printf(&res->body, err,
                            "# HELP prospect_model_cache_evictions_total Cached models and vector "
                            "sets dropped for room.\n"
                            "# TYPE prospect_model_cache_evictions_total counter\n"
                            "prospect_model_cache_evictions_total %zu\n",
                            st.evicted);
        }
    }
    return rc;
}

// One operation object: summary, parameters (path {id}, query arguments), request body, the
// answer's schema where the route gives one.
static int put_operation(struct buf *o, const struct route *r, struct px_err *err)
{
    const char *m = strcmp(r->method, "POST") == 0     ? "post"
                    : strcmp(r->method, "DELETE") == 0 ? "delete"
                                                       : "get";
    int rc = buf_printf(o, err, "\"%s\": {\"summary\": ", m);
    if (rc == PX_OK) rc = jsonx_put_cstr(o, r->summary, err);
    if (rc == PX_OK) rc = buf_append(o, ", \"parameters\": [", 17, err);
    bool first = true;
    if (rc == PX_OK && strstr(r->pattern, "{id}") != NULL) {
        static const char k_id[] = "{\"name\": \"id\", \"in\": \"path\", \"required\": true, "
                                   "\"schema\": {\"type\": \"string\"}}";
        rc = buf_append(o, k_id, sizeof k_id - 1, err);
        first = false;
    }
    for (const char *a = r->query_args; a != NULL && *a != '\0' && rc == PX_OK;) {
        size_t n = strcspn(a, ",");
        rc = buf_printf(o, err, "%s{\"name\": \"%.*s\", \"in\": \"query\", \"required\": %s, "
                                "\"schema\": {\"type\": \"%s\"}}",
                        first ? "" : ", ", (int)n, a, n == 1 && a[0] == 'q' ? "true" : "false",
                        (n == 1 && a[0] == 'q') || (n == 6 && strncmp(a, "format", 6) == 0) ||
                                (n == 2 && strncmp(a, "up", 2) == 0) ||
                                (n == 4 && strncmp(a, "down", 4) == 0)
                            ? "string"
                            : "integer");
        first = false;
        a += n + (a[n] == ',');
    }
    if (rc == PX_OK) rc = buf_append(o, "]", 1, err);
    if (rc == PX_OK && r->max_body > 0) {
        // the scoring routes (api_prop.c) take CSV text too
        bool csv = r->handler == api_model_score || r->handler == api_invocations;
        static const char k_body[] = ", \"requestBody\": {\"required\": true, \"content\": "
                                     "{\"application/json\": {\"schema\": {\"type\": \"object\"}}";
        static const char k_csv[] = ", \"text/csv\": {\"schema\": {\"type\": \"string\"}}";
        rc = buf_append(o, k_body, sizeof k_body - 1, err);
        if (rc == PX_OK && csv) rc = buf_append(o, k_csv, sizeof k_csv - 1, err);
        if (rc == PX_OK) rc = buf_append(o, "}}", 2, err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(o, err, ", \"responses\": {\"200\": {\"description\": \"OK\"");
    }
    const char *schema = routes_response_schema(r);
    if (rc == PX_OK && schema != NULL) {
        rc = buf_printf(o, err, ", \"content\": {\"application/json\": {\"schema\": %s}}",
                        schema);
    }
    if (rc == PX_OK) {
        rc = buf_printf(o, err, "}, \"default\": {\"description\": \"{\\\"error\\\": {\\\"code\\\", "
                                "\\\"message\\\"}}\"}}}");
    }
    return rc;
}

int api_openapi(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    (void)req;
    size_t n;
    const struct route *r = routes_table(&n);
    struct buf *o = &res->body;
    int rc = buf_printf(o, err, "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"prospect\", "
                                "\"version\": \"%s\"}, \"paths\": {", PX_VERSION);
    // one path object per distinct pattern, holding every method that serves it
    // (the web pages' routes, served by api_web, are left out: they are not the API)
    bool any = false;
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        bool seen = r[i].handler == api_web;
        for (size_t k = 0; k < i; k++) seen |= strcmp(r[k].pattern, r[i].pattern) == 0;
        if (seen) {
            continue;
        }
        rc = buf_append(o, any ? ", " : "", any ? 2 : 0, err);
        any = true;
        if (rc == PX_OK) rc = jsonx_put_cstr(o, r[i].pattern, err);
        if (rc == PX_OK) rc = buf_append(o, ": {", 3, err);
        bool first = true;
        for (size_t k = i; k < n && rc == PX_OK; k++) {
            if (strcmp(r[k].pattern, r[i].pattern) == 0 && r[k].handler != api_web) {
                rc = buf_append(o, first ? "" : ", ", first ? 0 : 2, err);
                if (rc == PX_OK) rc = put_operation(o, &r[k], err);
                first = false;
            }
        }
        if (rc == PX_OK) rc = buf_append(o, "}", 1, err);
    }
    return rc == PX_OK ? buf_append(o, "}}", 2, err) : rc;
}
