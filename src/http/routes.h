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
// Runs the request: checks the key of a protected route (filling req->key_id), matches, calls
// the handler, and turns failures into JSON error bodies with
// the mapped status. Always leaves res with a status and a body (except on PX_ENOMEM, returned).
// *i_route receives the matched route or -1.
int routes_dispatch(struct api_req *req, struct api_res *res, int *i_route);

#endif
