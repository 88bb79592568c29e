// api.h — the pure request handlers of the HTTP layer and the context they share.
//
// A handler takes a parsed request (method, path parameter, query arguments, body) and fills a
// response (status, content type, body); it never sees a socket, so tests call it directly.
// The server adapter (server.c) and the route table (routes.c) are the only callers.
//
// Threads: handlers of protected routes run on the server's worker threads, the others on
// libmicrohttpd's I/O threads (server.c); all share the book, which runs as many searches at
// once as it has lanes (app_book_params.n_lanes); the access handle serialises its own SQLite
// connection.
#ifndef PX_API_H
#define PX_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "app_access.h"
#include "app_book.h"
#include "app_prop.h"
#include "app_rec.h"
#include "app_registry.h"
#include "buf.h"
#include "err.h"
#include "limits.h"
#include "metrics.h"

struct api_ctx {
    struct app_book *book;       // borrowed: outlives the context
    struct app_access *access;   // borrowed: keys and audit log; NULL only in handler unit
                                 // tests (then nothing is checked or audited)
    bool require_keys;           // protected routes need a valid key even without a header
    struct metrics metrics;      // request counters, rendered by GET /metrics
    char *schema_json;           // owned: GET /api/schema's answer, built once at init
    size_t schema_len;
    // propensity models (api_models.c); api_ctx_init leaves them NULL, serve sets them
    const char *registry;   // borrowed: model registry root (NULL: app_registry_dir(NULL))
    const char *prop_data;  // borrowed: --propensity-data CSV for every model (NULL: none)
    const char *const *prop_data_model; // borrowed: (n_prop_data) --propensity-data NAME=CSV:
    const char *const *prop_data_file;  //   the data set of model NAME (before prop_data)
    size_t n_prop_data;
    const char *prop_model; // borrowed: --propensity-model REF: /invocations scores with it
                            // (api_prop.c); NULL: /invocations searches the book
    const char *model_flag; // borrowed: sentence-transformer directory (--embedder) for look-alikes
    struct app_prop_cache *prop_cache; // owned: made by api_ctx_init, freed by api_ctx_free
                                       // (NULL in handler tests: nothing is cached)
    // recommendations and the graph (api_graph.c); NULL: those routes answer 404
    const struct app_rec *rec; // borrowed: serve --recommender / --wholesale
    // saved searches and alerts (api_saved.c); NULL: those routes answer 404
    const char *db_path; // borrowed: serve --db (keys, audit, saved searches)
};

// Builds the context over a book (borrowed; must outlive ctx) and precomputes the schema.
int api_ctx_init(struct api_ctx *ctx, struct app_book *book, struct px_err *err);
void api_ctx_free(struct api_ctx *ctx);

struct api_arg {
    const char *key, *value; // borrowed from the server (valid for the request)
};

#define API_CLIENT_LEN 48 // an IPv6 address in text (INET6_ADDRSTRLEN) fits

struct api_req {
    struct api_ctx *ctx;                 // borrowed
    const char *method;                  // "GET", "POST", ...
    const char *path;                    // decoded path, without the query string
    char id[LIMIT_HTTP_PARAM_BYTES];     // the {id} path parameter, "" when the route has none
    struct api_arg args[LIMIT_HTTP_ARGS]; // query-string arguments, in order
    size_t n_args;
    const char *content_type;        // borrowed, NULL when absent
    const char *authorization;       // borrowed: the Authorization header, NULL when absent
    char client[API_CLIENT_LEN];     // the client's address ("127.0.0.1", "::1"), "" unknown
    char key_id[APP_KEY_ID_LEN + 1]; // the verified API key's id, "" when none (dispatch)
    bool key_checked;                // the server checked the key from the headers already
                                     // (routes_check_key): dispatch does not check it again
    const char *body;                // borrowed: (body_len) bytes, NULL when empty
    size_t body_len;
};

struct api_res {
    int status;               // HTTP status; 0 until set (dispatch uses 200 on success)
    const char *content_type; // static string; NULL means application/json
    const char *csp;          // static Content-Security-Policy header value; NULL for none
    struct buf body;          // owned by the caller (buf_init with LIMIT_HTTP_RESPONSE)
    const char *audited;      // static: the action of the audit row written for this answer
                              // (set by the handler with it), NULL when none: if the answer then
                              // fails to leave, the server records it (api_audit_failed)
};

// A handler: PX_OK with res filled, or a px_status with err filled; res->status may then hold
// a more precise HTTP status (415, 405) than the px_status table gives.
typedef int (*api_handler_fn)(const struct api_req *req, struct api_res *res, struct px_err *err);

// Value of query argument key, or NULL (borrowed).
const char *api_req_arg(const struct api_req *req, const char *key);

// HTTP status and error code string ("bad_request", ...) for a px_status.
int api_http_status(int px_status);
const char *api_http_code(int http_status);
// Replaces res's body with {"error": {"code", "message"}} for http_status; returns PX_OK or
// PX_ENOMEM.
int api_error_body(struct api_res *res, int http_status, const char *message);

// Appends the audit row of a search (res) or customer lookup (res NULL, row) made by req; a
// no-op without ctx->access. Handlers call it once the answer is built (so the row is what is
// sent), and fail when it fails.
int api_audit(const struct api_req *req, const char *action, const char *query, size_t len,
              const struct app_result *res, long row, struct px_err *err);

// The one audit row of a request that answered n queries (app_access_log_batch); sets
// res->audited. Handlers call it once the answer is built, and fail when it fails.
int api_audit_batch(const struct api_req *req, struct api_res *res, const char *action,
                    const char *const *queries, const struct app_result *results, size_t n,
                    struct px_err *err);
// Records that an answer whose audit row was written (res->audited) did not reach the client
// (reason: why); a no-op without ctx->access or res->audited.
int api_audit_failed(const struct api_req *req, const struct api_res *res, const char *reason,
                     struct px_err *err);

// The row of the book as a JSON object (typed: numbers, booleans, strings, null) appended to out.
int api_row_json(const struct app_book *b, size_t row, struct buf *out, struct px_err *err);

// ---- handlers (api_meta.c, api_search.c, api_mlflow.c) ----
int api_ping(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_health(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_version(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_metrics(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_openapi(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_schema(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_search(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_customer(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_customer_similar(const struct api_req *req, struct api_res *res, struct px_err *err);
// POST /invocations, MLflow's scoring protocol (see api_mlflow.c for the accepted shapes).
struct cJSON;
struct api_mlflow_input {
    const char *query[LIMIT_HTTP_QUERIES]; // borrowed from the parsed body
    size_t n;                              // 1..LIMIT_HTTP_QUERIES on success
    size_t top;                            // params.top_n, 1..LIMIT_HTTP_TOP (default 5)
    bool show_score;                       // params.show_score (default true)
};
// Reads the queries and params of a parsed /invocations body (exactly one input key); PX_EINVAL
// or PX_EFORMAT with a message naming the key and index at fault.
int api_mlflow_parse(const struct cJSON *root, struct api_mlflow_input *in, struct px_err *err);
int api_invocations(const struct api_req *req, struct api_res *res, struct px_err *err);
// The propensity models (api_models.c): GET /api/models, /api/models/{id}, POST
// /api/models/{id}/score, GET /api/models/{id}/explain, /lookalike, /tipping.
int api_models(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_model(const struct api_req *req, struct api_res *res, struct px_err *err);
// POST /api/models/{id}/score and a served model's /invocations (api_prop.c).
int api_model_score(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_prop_invocations(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_model_explain(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_model_lookalike(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_model_tipping(const struct api_req *req, struct api_res *res, struct px_err *err);
// Recommendations, the customer-product graph and segments (api_graph.c): GET /api/graph,
// /api/customers/{id}/recommendations, /api/segments.
int api_graph(const struct api_req *req, struct api_res *res, struct px_err *err);
// Saved searches, alerts and exports (api_saved.c): GET/POST /api/saved, GET/POST/DELETE
// /api/saved/{id}, GET /api/saved/{id}/run, /api/saved/{id}/report, /api/alerts, /api/export.
int api_saved_list(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_saved_add(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_saved_one(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_saved_run(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_saved_report(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_alerts(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_export(const struct api_req *req, struct api_res *res, struct px_err *err);
int api_customer_recommendations(const struct api_req *req, struct api_res *res,
                                 struct px_err *err);
int api_segments(const struct api_req *req, struct api_res *res, struct px_err *err);
// GET /, /docs and /static/{name}: the web pages compiled into the binary (api_web.c).
int api_web(const struct api_req *req, struct api_res *res, struct px_err *err);

#endif
