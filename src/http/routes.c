// routes.c — the route table and dispatch.
//
// Matching is segment by segment: a literal segment must be equal, "{id}" takes any non-empty
// segment (at most LIMIT_HTTP_PARAM_BYTES - 1 bytes). A path that matches some route under
// another method answers 405, anything else 404. The body limit of the matched route is applied
// by the server while the body arrives (413), before any handler runs.
#include <stdio.h>
#include <string.h>

#include "logx.h"
#include "routes.h"

// The search and similar answers (app_book.h, app_result_to_json), for OpenAPI.
#define ANSWER_HEAD                                                                                \
    "{\"type\": \"object\", \"properties\": {\"query\": {\"type\": \"string\"}, "                \
    "\"dense\": {\"type\": \"boolean\"}, \"candidates\": {\"type\": \"integer\", "              \
    "\"description\": \"rows passing every filter\"}, "                                       \
    "\"ranked\": {\"type\": \"boolean\", \"description\": \"false: no text, vector or boost "  \
    "ranked the candidates; the results are the first of them in import order\"}, "           \
    "\"order\": {\"type\": \"string\", \"description\": \"what decided the order, e.g. "       \
    "'boosts, then BM25, then import order'\"}, "
#define RESULT_HEAD                                                                                \
    "\"results\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {"   \
    "\"customer_id\": {\"type\": \"string\"}, \"score\": {\"type\": \"number\"}, "               \
    "\"similarity\": {\"type\": \"number\", \"nullable\": true}, "                             \
    "\"lexical\": {\"type\": \"number\"}, \"boost\": {\"type\": \"number\", \"description\": " \
    "\"the graded sum of the boosts the row meets\"}, \"row\": {\"type\": \"object\"}, "
static const char k_search_schema[] =
    ANSWER_HEAD "\"filters\": {\"type\": \"array\"}, \"boosts\": {\"type\": \"array\"}, "
    "\"semantic_text\": {\"type\": \"string\"}, \"conflicts\": {\"type\": \"array\"}, " RESULT_HEAD
    "\"why\": {\"type\": \"array\", \"description\": \"why the row matched\", \"items\": "
    "{\"type\": \"object\", \"required\": [\"kind\", \"column\", \"label\", \"text\"], "
    "\"properties\": {\"kind\": {\"type\": \"string\", \"enum\": [\"filter\", \"boost\", "
    "\"words\"]}, \"column\": {\"type\": \"string\"}, \"label\": {\"type\": \"string\"}, "
    "\"text\": {\"type\": \"string\", \"example\": \"Credit score 781 > 750\"}, "
    "\"value\": {\"type\": \"number\", \"description\": \"boost: what it added\"}, "
    "\"excess\": {\"type\": \"number\", \"description\": \"boost: how far past the threshold, "
    "0..1\"}, \"words\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
    "\"description\": \"words: the query words found in the column\"}}}}}}}}}";
static const char k_similar_schema[] =
    ANSWER_HEAD RESULT_HEAD "\"shared\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
    "\"description\": \"traits shared with the customer asked about, e.g. 'Occupation: "
    "Nurse', 'Age 58 vs 61'\"}}}}}}";

static const struct route k_routes[] = {
    {"GET", "/ping", api_ping, 0, NULL, "liveness probe (MLflow scoring server)"},
    {"GET", "/health", api_health, 0, NULL, "readiness: rows loaded, dense path on or off"},
    {"GET", "/version", api_version, 0, NULL, "server version"},
    {"POST", "/invocations", api_invocations, LIMIT_HTTP_SCORE_BODY, "reasons,potential,top",
     "MLflow scoring protocol: inputs, dataframe_split, dataframe_records or instances; the "
     "customer search, or with serve --propensity-model rows scored by that model (also "
     "text/csv): predictions with probabilities, labels and reason codes"},
    {"GET", "/api/search", api_search, 0, "q,top,up,down",
     "search customers (prospect search --json); up / down: customer ids (comma-separated) that "
     "re-rank the candidates, more like / fewer like these"},
    {"GET", "/api/customers/{id}", api_customer, 0, NULL, "one customer's row"},
    {"GET", "/api/customers/{id}/similar", api_customer_similar, 0, "top",
     "customers most like this one"},
    {"GET", "/api/schema", api_schema, 0, NULL, "columns, types and value sets"},
    // propensity models (api_models.c); {id} is NAME or NAME@VERSION
    {"GET", "/api/models", api_models, 0, NULL, "trained propensity models (prospect runs list)"},
    {"GET", "/api/models/{id}", api_model, 0, NULL,
     "a model's run record: metrics per fold / cv / test, threshold, features with gain"},
    {"POST", "/api/models/{id}/score", api_model_score, LIMIT_HTTP_SCORE_BODY,
     "reasons,potential,top",
     "score rows (MLflow's dataframe_split, dataframe_records, instances, inputs, or text/csv) "
     "against the model's signature: probabilities, 0/1 labels and reason codes"},
    {"GET", "/api/models/{id}/explain", api_model_explain, 0, "features,top",
     "SHAP on the model's data set: global mean |SHAP|, dependence, top rows, potential"},
    {"GET", "/api/models/{id}/lookalike", api_model_lookalike, 0, "k,top,features,vectors",
     "look-alikes (List A) and the negatives by probability (List B)"},
    {"GET", "/api/models/{id}/tipping", api_model_tipping, 0, "k,top,features,vectors",
     "List A and List B with each row's tipping point"},
    // recommendations, graph and segments (api_graph.c; serve --recommender, --wholesale)
    {"GET", "/api/customers/{id}/recommendations", api_customer_recommendations, 0, "top",
     "products the customer does not hold, best first (GAT recommender)"},
    {"GET", "/api/graph", api_graph, 0, "customer,segment,rm,limit",
     "a bounded customer-product graph: a customer's neighbourhood, or the largest customers "
     "of a segment / relationship manager"},
    {"GET", "/api/segments", api_segments, 0, "column",
     "segment sizes and what sets each apart (prospect segment)"},
    // saved searches, alerts and exports (api_saved.c; issue 15)
    {"GET", "/api/saved", api_saved_list, 0, NULL, "your saved searches with their match counts"},
    {"POST", "/api/saved", api_saved_add, LIMIT_HTTP_BODY, NULL,
     "save a search {\"name\", \"query\", \"chips\", \"columns\", \"sort\", \"feedback\", "
     "\"webhook\"}"},
    {"GET", "/api/saved/{id}", api_saved_one, 0, NULL, "a saved search and its latest alerts"},
    {"POST", "/api/saved/{id}", api_saved_one, LIMIT_HTTP_BODY, NULL,
     "change a saved search (the members given)"},
    {"DELETE", "/api/saved/{id}", api_saved_one, 0, NULL, "delete a saved search"},
    {"GET", "/api/saved/{id}/run", api_saved_run, 0, "top", "run a saved search now"},
    {"GET", "/api/saved/{id}/report", api_saved_report, 0, "format",
     "every current match of a saved search (csv or html)"},
    {"GET", "/api/alerts", api_alerts, 0, "saved,after,limit",
     "customers new to your saved searches, with their rows"},
    {"GET", "/api/export", api_export, 0, "q", "every match of a query as CSV (not capped)"},
    {"GET", "/metrics", api_metrics, 0, NULL, "Prometheus metrics: requests, latencies, errors"},
    {"GET", "/openapi.json", api_openapi, 0, NULL, "this API as OpenAPI 3"},
    // the web pages (api_web.c): not the API, so /openapi.json leaves them out
    {"GET", "/", api_web, 0, NULL, "the search page for relationship managers"},
    {"GET", "/docs", api_web, 0, NULL, "this API as a readable page with a try-it form"},
    {"GET", "/models", api_web, 0, NULL, "the propensity models page (charts)"},
    {"GET", "/graph", api_web, 0, NULL, "the customer-product graph and segments page"},
    {"GET", "/static/{id}", api_web, 0, NULL, "the pages' scripts and stylesheet"},
};

_Static_assert(sizeof k_routes / sizeof k_routes[0] <= LIMIT_HTTP_ROUTES, "LIMIT_HTTP_ROUTES");

const struct route *routes_table(size_t *n)
{
    *n = sizeof k_routes / sizeof k_routes[0];
    return k_routes;
}

// Does path match pattern? Fills id (id_size bytes) from {id}.
static int match_one(const char *pattern, const char *path, char *id, size_t id_size)
{
    const char *p = pattern, *s = path;
    while (*p != '\0' && *s != '\0') {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = strcspn(s, "/");
            if (n == 0 || n >= id_size) {
                return 0;
            }
            memcpy(id, s, n);
            id[n] = '\0';
            p += 4;
            s += n;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

int routes_match(const char *method, const char *path, char *id, size_t id_size, int *path_ok)
{
    size_t n;
    const struct route *r = routes_table(&n);
    char tmp[LIMIT_HTTP_PARAM_BYTES];
    *path_ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (match_one(r[i].pattern, path, tmp, sizeof tmp)) {
            if (strcmp(r[i].method, method) == 0) {
                if (id != NULL && id_size > 0) {
                    snprintf(id, id_size, "%s", strchr(r[i].pattern, '{') ? tmp : "");
                }
                return (int)i;
            }
            *path_ok = 1;
        }
    }
    return -1;
}

bool routes_is_protected(const struct route *r)
{
    return strncmp(r->pattern, "/api/", 5) == 0 || strcmp(r->pattern, "/invocations") == 0 ||
           strcmp(r->pattern, "/metrics") == 0;
}

int routes_check_key(struct api_req *req, struct app_auth_failure *why, struct px_err *err)
{
    const struct api_ctx *ctx = req->ctx;
    req->key_id[0] = '\0';
    req->key_checked = true;
    if (ctx->access == NULL) {
        return PX_OK;
    }
    if (req->authorization == NULL && !ctx->require_keys) {
        return PX_OK; // loopback without --require-keys: audited without a key
    }
    return app_access_check(ctx->access, req->authorization, req->key_id, why, err);
}

int routes_auth_failed(const struct api_req *req, const struct app_auth_failure *why,
                       struct px_err *err)
{
    logx(LOGX_WARN, "http: refused API key from %s: key %s, %s",
         req->client[0] ? req->client : "?", why->key_id[0] ? why->key_id : "-", why->reason);
    if (req->ctx->access != NULL) {
        int rc = app_access_log_auth_failure(req->ctx->access, "http", req->client, why, err);
        if (rc != PX_OK) return rc;
    }
    return px_fail(err, PX_EAUTH, "%s", APP_AUTH_MESSAGE);
}

// PX_OK when req may reach a protected route; fills req->key_id from a valid key.
static int authorise(struct api_req *req, struct px_err *err)
{
    struct app_auth_failure why;
    int rc = routes_check_key(req, &why, err);
    return rc == PX_EAUTH ? routes_auth_failed(req, &why, err) : rc;
}

int routes_dispatch(struct api_req *req, struct api_res *res, int *i_route)
{
    struct px_err err = {0};
    int path_ok = 0;
    int i = routes_match(req->method, req->path, req->id, sizeof req->id, &path_ok);
    *i_route = i;
    if (i < 0) {
        return path_ok ? api_error_body(res, 405, "method not allowed for this path")
                       : api_error_body(res, 404, "no such route (see GET /openapi.json)");
    }
    size_t n;
    const struct route *r = routes_table(&n);
    res->status = 0;
    int rc = routes_is_protected(&r[i]) && !req->key_checked ? authorise(req, &err) : PX_OK;
    if (rc == PX_OK)
        rc = r[i].handler(req, res, &err);
    if (rc == PX_OK) {
        if (res->status == 0) {
            res->status = 200;
        }
        return PX_OK;
    }
    if (rc == PX_ENOMEM) {
        logx(LOGX_ERROR, "route %s %s: out of memory", r[i].method, r[i].pattern);
    }
    int status = res->status >= 400 ? res->status : api_http_status(rc);
    if (status >= 500) {
        logx(LOGX_ERROR, "route %s %s: %s", r[i].method, r[i].pattern, px_status_str(rc));
    }
    return api_error_body(res, status, err.msg[0] ? err.msg : px_status_str(rc));
}

const char *routes_response_schema(const struct route *r)
{
    if (strcmp(r->method, "GET") != 0) {
        return NULL;
    }
    if (strcmp(r->pattern, "/api/search") == 0) {
        return k_search_schema;
    }
    return strcmp(r->pattern, "/api/customers/{id}/similar") == 0 ? k_similar_schema : NULL;
}
