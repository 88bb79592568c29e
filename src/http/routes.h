// routes.h — the one declarative route table: dispatch, GET /openapi.json and (later) the web
// page's API list all read it.
#ifndef PX_ROUTES_H
#define PX_ROUTES_H

#include <stddef.h>

#include "api.h"

struct route {
    const char *method;      // "GET" / "POST"
    const char *pattern;     // "/api/customers/{id}": {id} matches one path segment
    api_handler_fn handler;
    size_t max_body;         // bytes accepted in the request body (0: none), <= LIMIT_HTTP_BODY
    const char *query_args;  // comma-separated query-string arguments, for OpenAPI ("q,top")
    const char *summary;     // one line, for OpenAPI
};

// The JSON schema of route r's 200 answer for OpenAPI (static), or NULL (an object).
const char *routes_response_schema(const struct route *r);
// The table (borrowed, static) and its length.
const struct route *routes_table(size_t *n);
// Index of the route for method + path (filling id from {id}), or -1 when none matches; *path_ok
// is set when the path matched some route with another method (405 rather than 404).
int routes_match(const char *method, const char *path, char *id, size_t id_size, int *path_ok);
// Routes that hand out customer data or operational figures — /api/..., /invocations, /metrics
// — are protected: with an Authorization header the key must be valid (401 otherwise), and
// without one the request passes only when the context does not require keys. Probes, the web
// page, /docs and /openapi.json are public (they hold no customer data).
bool routes_is_protected(const struct route *r);
// Checks the key of a request to a protected route (no-op PX_OK without ctx->access, or without
// an Authorization header when keys are not required): PX_OK with req->key_id filled (""
// when none was needed) and req->key_checked set; PX_EAUTH with APP_AUTH_MESSAGE and *why
// filled; another status when the key table cannot be read. Records nothing (the server
// budgets refusals first, then calls routes_auth_failed).
int routes_check_key(struct api_req *req, struct app_auth_failure *why, struct px_err *err);
// Logs (warning: client address, key id when well-formed, reason — never the secret) and
// audits a refused key; returns PX_EAUTH with APP_AUTH_MESSAGE in err, or the audit log's
// failure.
int routes_auth_failed(const struct api_req *req, const struct app_auth_failure *why,
                       struct px_err *err);
// Runs the request: checks the key of a protected route unless req->key_checked (filling
// req->key_id; a refusal is logged and audited), matches, calls
// the handler, and turns failures into JSON error bodies with
// the mapped status. Always leaves res with a status and a body (except on PX_ENOMEM, returned).
// *i_route receives the matched route or -1.
int routes_dispatch(struct api_req *req, struct api_res *res, int *i_route);

#endif
