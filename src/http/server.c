// server.c — the libmicrohttpd adapter (STYLE C12): small on purpose.
//
// MHD runs its own listening thread and a pool of n_threads workers
// (MHD_USE_INTERNAL_POLLING_THREAD + MHD_OPTION_THREAD_POOL_SIZE), with a connection limit, a
// per-connection memory limit and an idle timeout. Per request, *req_cls holds a struct
// conn_state: the matched route's body limit and a buf bounded by it. The access handler is
// called (1) once with the headers — state is made, (2) once per upload chunk — appended, or
// dropped and remembered as too big (413), *upload_data_size = 0 each time, (3) once more with
// no data — dispatch through the route table and queue the answer. State is freed in
// MHD_OPTION_NOTIFY_COMPLETED. Response bodies are handed to MHD with px_free as their free
// callback (explicit ownership, no copy).
//
// Logs carry a request number, method, route pattern, status and time — never the path's
// parameters, the query string or the body (they hold customer data).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "logx.h"
#include "mem.h"
#include "routes.h"
#include "server.h"

struct server {
    struct MHD_Daemon *daemon; // owned
    struct api_ctx *ctx;       // borrowed
    atomic_ullong n_requests;  // request numbers for the logs
};

struct conn_state {
    struct buf body;       // bounded by the route's max_body
    bool too_big;          // a chunk went over the limit: answer 413
    double t0;             // monotonic seconds at the first call
    unsigned long long id; // request number
};

struct server_params server_default_params(void)
{
    return (struct server_params){
        .bind = "127.0.0.1",
        .port = 8080,
        .n_threads = 4,
        .max_connections = LIMIT_HTTP_CONNECTIONS,
        .timeout_s = LIMIT_HTTP_TIMEOUT_S,
        .conn_memory = LIMIT_HTTP_CONN_MEMORY,
    };
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool server_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(addr, "localhost") == 0) return true;
    if (inet_pton(AF_INET, addr, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct api_req *req = cls;
    (void)kind;
    if (req->n_args < LIMIT_HTTP_ARGS) {
        req->args[req->n_args++] = (struct api_arg){key, value};
    }
    return MHD_YES;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct api_res *res)
{
    struct MHD_Response *r = NULL;
    size_t len = res->body.len;
    char *data = buf_take(&res->body);
    if (data != NULL) {
        r = MHD_create_response_from_buffer_with_free_callback(len, data, px_free);
        if (r == NULL) px_free(data); // not taken
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "application/json");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (res->csp != NULL) {
        MHD_add_response_header(r, "Content-Security-Policy", res->csp);
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    if (res->status == 401) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"prospect\"");
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct server *s = cls;
    struct conn_state *st = *req_cls;
    (void)version;
    if (st == NULL) { // (1) headers
        st = px_calloc(1, sizeof *st);
        if (st == NULL) return MHD_NO;
        int path_ok = 0;
        int i = routes_match(method, url, NULL, 0, &path_ok);
        size_t n;
        const struct route *rt = routes_table(&n);
        buf_init(&st->body, i >= 0 ? rt[i].max_body : 0);
        st->t0 = now_s();
        st->id = atomic_fetch_add(&s->n_requests, 1) + 1;
        *req_cls = st;
        return MHD_YES;
    }
    if (*upload_size > 0) { // (2) a body chunk
        if (!st->too_big && buf_append(&st->body, upload, *upload_size, NULL) != PX_OK) {
            st->too_big = true;
            buf_free(&st->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    // (3) dispatch
    struct api_req *req = px_calloc(1, sizeof *req); // ~8 KB: kept off MHD's thread stacks
    struct api_res res = {0};
    buf_init(&res.body, LIMIT_HTTP_RESPONSE);
    int i_route = -1;
    enum MHD_Result ok = MHD_NO;
    if (req == NULL) goto done;
    if (st->too_big) {
        int path_ok = 0;
        i_route = routes_match(method, url, NULL, 0, &path_ok);
        if (api_error_body(&res, 413, "request body too large for this route") != PX_OK) goto done;
    } else {
        req->ctx = s->ctx;
        req->method = method;
        req->path = url;
        req->content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        req->authorization =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        req->body = st->body.data;
        req->body_len = st->body.len;
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, req);
        if (routes_dispatch(req, &res, &i_route) != PX_OK) goto done;
    }
    double dt = now_s() - st->t0;
    metrics_observe(&s->ctx->metrics, i_route, res.status, dt);
    size_t n;
    const struct route *rt = routes_table(&n);
    logx(res.status >= 500 ? LOGX_ERROR : LOGX_DEBUG, "req %llu %s %s key %s -> %d (%.1f ms)",
         st->id, method, i_route >= 0 ? rt[i_route].pattern : "(no route)",
         req->key_id[0] ? req->key_id : "-", res.status, dt * 1e3);
    ok = queue(conn, &res);
done:
    buf_free(&res.body);
    px_free(req);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *req_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (st != NULL) {
        buf_free(&st->body);
        px_free(st);
        *req_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n') msg[--n] = '\0';
    logx(LOGX_WARN, "http: %s", msg);
}

int server_start(const struct server_params *p, struct api_ctx *ctx, struct server **out,
                 struct px_err *err)
{
    struct server *s = NULL;
    struct sockaddr_storage sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_AUTO;
    int rc = PX_EINVAL;
    memset(&sa, 0, sizeof sa);
    *out = NULL;
    const char *bind = p->bind ? p->bind : "127.0.0.1";
    if (!server_is_loopback(bind) && (ctx->access == NULL || !ctx->require_keys)) {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "binding to %s (not loopback) requires API keys: the context must require "
                     "them",
                     bind);
        goto done;
    }
    if (p->port < 0 || p->port > 65535 || p->n_threads < 1 || p->n_threads > LIMIT_HTTP_THREADS) {
        rc = px_fail(err, PX_EINVAL, "port must be 0..65535 and threads 1..%d", LIMIT_HTTP_THREADS);
        goto done;
    }
    if (strcasecmp(bind, "localhost") == 0) bind = "127.0.0.1";
    struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p->port);
    } else if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p->port);
        flags |= MHD_USE_IPv6;
    }
    s = px_calloc(1, sizeof *s);
    if (s == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory starting the server");
        goto done;
    }
    s->ctx = ctx;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)p->port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, // first, so MHD never prints itself
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)p->n_threads,
        MHD_OPTION_CONNECTION_LIMIT, p->max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, p->conn_memory,
        MHD_OPTION_CONNECTION_TIMEOUT, p->timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        rc = px_fail(err, PX_EIO, "cannot listen on %s port %d (in use, or not allowed?)", bind, p->port);
        goto done;
    }
    logx(LOGX_INFO, "http: listening on %s port %d with %d threads", bind, server_port(s), p->n_threads);
    *out = s;
    s = NULL;
    rc = PX_OK;
done:
    px_free(s);
    return rc;
}

int server_port(const struct server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return i ? (int)i->port : -1;
}

void server_stop(struct server *s)
{
    if (s == NULL) return;
    MHD_stop_daemon(s->daemon);
    px_free(s);
}
