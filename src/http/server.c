// server.c — the libmicrohttpd adapter (STYLE C12), and the limits that keep slow or heavy
// clients from locking the others out.
//
// Threads. MHD runs a listening thread and IO_THREADS I/O threads
// (MHD_USE_INTERNAL_POLLING_THREAD + MHD_OPTION_THREAD_POOL_SIZE) that read requests, run the
// public routes (probes, pages, /openapi.json: microseconds each) and send answers. A protected
// route's handler (search, /invocations, models: milliseconds to seconds) runs on one of
// n_threads workers: the I/O thread suspends the connection (MHD_suspend_connection), queues it,
// and the worker resumes it with the answer ready, so a batch of heavy requests never holds up
// /ping or /health. At most `queue` requests wait for a worker; past that they get 503.
//
// One request, in the access handler (*req_cls holds a struct conn_state, freed in
// MHD_OPTION_NOTIFY_COMPLETED): (1) the headers — state is made and the request is judged from
// its headers alone, before any body is read: an encoded NUL in the target (flagged by the URI
// log callback, which sees the raw target), ambiguous framing (guard_framing), a Host or Origin
// the server does not answer for (guard.h), a declared body over the route's limit or over what
// all bodies may hold at once, then, for a protected route, the API key and the request budget
// (a key's, or the client address's without one; budget.h). A refusal is answered at once; when
// a body may follow, the answer closes the connection, so the unread body can never be taken
// for the next request. (2) each upload chunk — appended to a buf bounded by the route's limit,
// or dropped and remembered as too big (413); *upload_data_size = 0 each time; (3) no data —
// dispatch (inline, or through a worker as above) and queue the answer. Response bodies are
// handed to MHD with px_free as their free callback (explicit ownership, no copy).
//
// Connections (MHD_OPTION_NOTIFY_CONNECTION keeps a list of them): MHD limits them in all and
// per client address, and closes idle ones; its idle timeout restarts with every byte, so a
// client sending one header line every few seconds would hold a connection for ever. A watchdog
// thread gives every request absolute deadlines instead: its headers within header_s of the
// connection opening or the previous answer (LIMIT_HTTP_HEADER_BUSY_S while more than 3/4 of the
// connections are open, and BUSY_HOLD_S after), its body within body_s of the headers; past them it shuts the socket
// down (shutdown(2), never close: MHD still owns the descriptor and closes it, which happens only
// after the connection has left the list, under the same mutex).
//
// Audit: handlers write a request's audit row once its answer is built; when that answer then
// does not reach the client (it goes away, times out, the server stops), the completion
// callback adds a "failed" row for it (api_audit_failed).
//
// Logs carry a request number, method, route pattern, status and time — never the path's
// parameters, the query string or the body (they hold customer data).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "budget.h"
#include "guard.h"
#include "logx.h"
#include "mem.h"
#include "routes.h"
#include "server.h"

#define IO_THREADS 2 // MHD's threads: reading, public routes, writing (the work is elsewhere)
#define WATCHDOG_MS 200
#define BUSY_HOLD_S 5.0 // how long the short header deadline outlasts the pressure
#define SPARE_FDS 128   // descriptors kept for the database, models and logs beside connections

enum track_phase { TRACK_HEADERS, TRACK_BODY, TRACK_WORK };

struct conn_track { // one per TCP connection, in server.conns
    struct conn_track *prev, *next;
    int fd;
    int phase;    // enum track_phase
    double since; // when the phase began (monotonic seconds)
    bool shut;    // the watchdog shut it down
    char client[API_CLIENT_LEN];
};

struct conn_state { // one per request
    struct MHD_Connection *conn;
    struct conn_track *track; // borrowed; NULL when it could not be made
    struct api_req *req;      // owned
    struct api_res res;       // res.body owned
    struct buf body;          // bounded by the route's max_body
    size_t counted;           // bytes of body counted in server.body_bytes
    int i_route;
    unsigned retry_after; // seconds, for 429 / 503 answers; 0: none
    bool too_big;         // a chunk went over the limit: answer 413
    bool busy;            // the bodies' memory ran out: answer 503
    bool close;           // close the connection after the answer
    bool answered;        // queued with MHD
    atomic_bool done;     // a worker ran the handler: answer on the next call
    bool failed;          // the handler ran out of memory: drop the connection
    double t0;            // monotonic seconds at the first call
    unsigned long long id; // request number
    struct conn_state *next; // work queue
};

struct server {
    struct MHD_Daemon *daemon; // owned
    struct api_ctx *ctx;       // borrowed
    struct server_params p;
    struct server_addr addr;
    struct guard_hosts hosts;
    struct budget *budget;    // owned
    atomic_ullong n_requests; // request numbers for the logs
    atomic_size_t body_bytes; // request bodies buffered, all connections
    // connections and the watchdog
    pthread_mutex_t conn_lock;
    pthread_cond_t conn_cond;
    struct conn_track *conns;
    unsigned n_conns;
    bool wd_stop, wd_started;
    pthread_t watchdog;
    // the work queue and its workers
    pthread_mutex_t q_lock;
    pthread_cond_t q_cond;
    struct conn_state *q_head, *q_tail;
    unsigned q_len;
    bool q_stop;
    pthread_t *workers;
    int n_workers;
    bool sync_ok; // the mutexes and conditions above exist
};

static char k_bad_target; // *req_cls from the URI log callback: the target holds %00

struct server_params server_default_params(void)
{
    return (struct server_params){
        .bind = "127.0.0.1",
        .port = 8080,
        .n_threads = 4,
        .max_connections = LIMIT_HTTP_CONNECTIONS,
        .max_per_ip = LIMIT_HTTP_PER_IP,
        .timeout_s = LIMIT_HTTP_TIMEOUT_S,
        .header_s = LIMIT_HTTP_HEADER_S,
        .body_s = LIMIT_HTTP_BODY_S,
        .queue = LIMIT_HTTP_QUEUE,
        .rate = LIMIT_HTTP_RATE,
        .burst = LIMIT_HTTP_BURST,
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

// The text of a socket address; an IPv4-mapped IPv6 address as plain IPv4.
static void addr_text(const struct sockaddr *sa, char out[API_CLIENT_LEN])
{
    out[0] = '\0';
    if (sa == NULL) return;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, API_CLIENT_LEN);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            inet_ntop(AF_INET, &a->s6_addr[12], out, API_CLIENT_LEN);
        } else {
            inet_ntop(AF_INET6, a, out, API_CLIENT_LEN);
        }
    }
}

int server_resolve(const char *bind, struct server_addr *out, struct px_err *err)
{
    unsigned char b[16];
    memset(out, 0, sizeof *out);
    if (bind == NULL || bind[0] == '\0') {
        return px_fail(err, PX_EINVAL, "--bind needs an address or a host name");
    }
    if (strcasecmp(bind, "localhost") == 0) bind = "127.0.0.1"; // not ::1 as well: one socket
    if (inet_pton(AF_INET, bind, b) == 1) {
        inet_ntop(AF_INET, b, out->text, sizeof out->text);
    } else if (inet_pton(AF_INET6, bind, b) == 1) {
        inet_ntop(AF_INET6, b, out->text, sizeof out->text);
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        int g = getaddrinfo(bind, NULL, &hints, &res);
        if (g != 0) {
            return px_fail(err, PX_EINVAL,
                           "--bind %s: the name does not resolve (%s); give an IP address or a "
                           "name that resolves to one",
                           bind, gai_strerror(g));
        }
        char seen[4][API_CLIENT_LEN], list[4 * (API_CLIENT_LEN + 2)] = "";
        size_t n = 0, more = 0;
        for (const struct addrinfo *a = res; a != NULL; a = a->ai_next) {
            char t[API_CLIENT_LEN];
            addr_text(a->ai_addr, t);
            size_t k = 0;
            while (k < n && strcmp(seen[k], t) != 0) k++;
            if (k < n || t[0] == '\0') continue;
            if (n == 4) {
                more++;
                continue;
            }
            memcpy(seen[n++], t, sizeof t);
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", t);
        }
        freeaddrinfo(res);
        if (n != 1) {
            return px_fail(err, PX_EINVAL,
                           "--bind %s resolves to %zu addresses (%s%s); the server listens on "
                           "one: pass it to --bind",
                           bind, n + more, list, more ? ", ..." : "");
        }
        memcpy(out->text, seen[0], sizeof out->text);
    }
    out->loopback = server_is_loopback(out->text);
    return PX_OK;
}

// ---- connections and their deadlines ----

static void set_phase(struct server *s, struct conn_track *t, int phase)
{
    if (t == NULL) return;
    pthread_mutex_lock(&s->conn_lock);
    t->phase = phase;
    t->since = now_s();
    pthread_mutex_unlock(&s->conn_lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_track *t = px_calloc(1, sizeof *t);
        *socket_context = t;
        if (t == NULL) return; // no deadline for this one: MHD's idle timeout still holds
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ca =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        t->fd = fd ? (int)fd->connect_fd : -1;
        addr_text(ca ? ca->client_addr : NULL, t->client);
        t->phase = TRACK_HEADERS;
        t->since = now_s();
        pthread_mutex_lock(&s->conn_lock);
        t->next = s->conns;
        if (s->conns) s->conns->prev = t;
        s->conns = t;
        s->n_conns++;
        pthread_mutex_unlock(&s->conn_lock);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn_track *t = *socket_context;
        if (t == NULL) return;
        pthread_mutex_lock(&s->conn_lock);
        if (t->prev) t->prev->next = t->next;
        else s->conns = t->next;
        if (t->next) t->next->prev = t->prev;
        s->n_conns--;
        pthread_mutex_unlock(&s->conn_lock);
        px_free(t);
        *socket_context = NULL;
    }
}

static void *watchdog_main(void *arg)
{
    struct server *s = arg;
    double busy_until = 0;
    pthread_mutex_lock(&s->conn_lock);
    while (!s->wd_stop) {
        double now = now_s();
        // under pressure, and for BUSY_HOLD_S after it, headers get the short deadline (so the
        // stragglers of a flood go with it, not 10 s later)
        if ((unsigned long)s->n_conns * 4 > (unsigned long)s->p.max_connections * 3) {
            busy_until = now + BUSY_HOLD_S;
        }
        bool busy = now < busy_until;
        double head = busy && s->p.header_s > LIMIT_HTTP_HEADER_BUSY_S ? LIMIT_HTTP_HEADER_BUSY_S
                                                                      : s->p.header_s;
        unsigned n_shut = 0;
        for (struct conn_track *t = s->conns; t != NULL; t = t->next) {
            if (t->shut || t->fd < 0 || t->phase == TRACK_WORK) continue;
            double limit = t->phase == TRACK_BODY ? s->p.body_s : head;
            if (now - t->since > limit) {
                shutdown(t->fd, SHUT_RDWR); // MHD sees the end and closes it
                t->shut = true;
                n_shut++;
            }
        }
        if (n_shut > 0) {
            metrics_refused(&s->ctx->metrics, METRICS_REFUSED_DEADLINE, n_shut);
            logx(LOGX_INFO, "http: closed %u connection(s) whose request did not arrive in time",
                 n_shut);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WATCHDOG_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->conn_cond, &s->conn_lock, &ts);
    }
    pthread_mutex_unlock(&s->conn_lock);
    return NULL;
}

// ---- one request ----

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    return guard_target_has_nul(uri) ? &k_bad_target : NULL;
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

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct guard_framing *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->n_content_length++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->n_transfer_encoding++;
        f->transfer_encoding = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        f->n_host++;
    }
    return MHD_YES;
}

static void free_state(struct server *s, struct conn_state *st)
{
    if (st == NULL) return;
    if (st->counted > 0) atomic_fetch_sub(&s->body_bytes, st->counted);
    buf_free(&st->body);
    buf_free(&st->res.body);
    px_free(st->req);
    px_free(st);
}

// Makes the answer an error (status, message); the connection closes after it when close.
static void refuse(struct conn_state *st, int status, const char *message, bool close)
{
    api_error_body(&st->res, status, message); // on failure the status stands, body empty
    st->close = st->close || close;
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct conn_state *st)
{
    struct api_res *res = &st->res;
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
    if (st->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%u", st->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (st->close) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result answer(struct server *s, struct conn_state *st)
{
    size_t n;
    const struct route *rt = routes_table(&n);
    double dt = now_s() - st->t0;
    st->answered = true;
    metrics_observe(&s->ctx->metrics, st->i_route, st->res.status, dt);
    logx(st->res.status >= 500 ? LOGX_ERROR : LOGX_DEBUG, "req %llu %s %s key %s -> %d (%.1f ms)",
         st->id, st->req->method, st->i_route >= 0 ? rt[st->i_route].pattern : "(no route)",
         st->req->key_id[0] ? st->req->key_id : "-", st->res.status, dt * 1e3);
    return queue(st->conn, st);
}

// The API key and the request budget of a protected route, from the headers.
static void check_access(struct server *s, struct conn_state *st)
{
    struct api_req *req = st->req;
    struct app_auth_failure why;
    struct px_err err = {0};
    int rc = routes_check_key(req, &why, &err);
    if (rc != PX_OK && rc != PX_EAUTH) {
        refuse(st, api_http_status(rc), err.msg, false);
        return;
    }
    char who[API_CLIENT_LEN + 8];
    bool by_key = rc == PX_OK && req->key_id[0] != '\0';
    snprintf(who, sizeof who, "%s:%s", by_key ? "key" : "ip", by_key ? req->key_id : req->client);
    unsigned retry = 1;
    if (!budget_take(s->budget, who, now_s(), &retry)) {
        char msg[128];
        snprintf(msg, sizeof msg, "request budget of this %s spent (%g requests/s); retry in %u s",
                 by_key ? "API key" : "client address", s->p.rate, retry);
        st->retry_after = retry;
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_BUDGET, 1);
        refuse(st, 429, msg, false);
        return;
    }
    if (rc == PX_EAUTH) {
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_AUTH, 1);
        rc = routes_auth_failed(req, &why, &err);
        refuse(st, api_http_status(rc), err.msg, false);
    }
}

// (1) The headers are in: state, then every check that needs no body.
static struct conn_state *begin(struct server *s, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, bool bad_target)
{
    struct conn_state *st = px_calloc(1, sizeof *st);
    struct api_req *req = px_calloc(1, sizeof *req); // ~8 KB: kept off MHD's thread stacks
    if (st == NULL || req == NULL) {
        px_free(st);
        px_free(req);
        return NULL;
    }
    st->conn = conn;
    st->req = req;
    st->t0 = now_s();
    st->id = atomic_fetch_add(&s->n_requests, 1) + 1;
    buf_init(&st->res.body, LIMIT_HTTP_RESPONSE);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    st->track = ci ? ci->socket_context : NULL;
    set_phase(s, st->track, TRACK_BODY);
    if (st->track) memcpy(req->client, st->track->client, sizeof req->client);
    req->ctx = s->ctx;
    req->method = method;
    req->path = url;
    req->content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int path_ok = 0;
    st->i_route = routes_match(method, url, NULL, 0, &path_ok);
    size_t n;
    const struct route *rt = routes_table(&n);
    const struct route *r = st->i_route >= 0 ? &rt[st->i_route] : NULL;
    buf_init(&st->body, r ? r->max_body : 0);

    struct guard_framing f = {0};
    f.http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    const char *framing = guard_framing(&f);
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    bool body_follows = declared > 0 || f.n_transfer_encoding > 0;
    char msg[PX_ERR_MSG_MAX];
    if (bad_target) {
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_FRAMING, 1);
        refuse(st, 400, "the request target holds an encoded NUL byte (%00)", true);
    } else if (framing != NULL) {
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_FRAMING, 1);
        snprintf(msg, sizeof msg, "ambiguous request framing: %s", framing);
        refuse(st, 400, msg, true);
    } else if (!guard_host_ok(&s->hosts, host)) {
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_HOST, 1);
        snprintf(msg, sizeof msg,
                 "this server does not answer for Host '%.200s' (prospect serve --allowed-host "
                 "NAME adds a name)",
                 host);
        refuse(st, 403, msg, body_follows);
    } else if (!guard_origin_ok(&s->hosts, method, origin)) {
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_ORIGIN, 1);
        snprintf(msg, sizeof msg, "cross-origin request refused (Origin '%.200s')", origin);
        refuse(st, 403, msg, body_follows);
    } else if (declared > (r ? r->max_body : 0) && r != NULL) {
        refuse(st, 413, "request body too large for this route", true);
    } else if (declared > 0 &&
               atomic_load(&s->body_bytes) + declared > (size_t)LIMIT_HTTP_BODIES_TOTAL) {
        metrics_refused(&s->ctx->metrics, METRICS_REFUSED_BUSY, 1);
        st->retry_after = 1;
        refuse(st, 503, "the server is busy: too many request bodies at once; retry shortly",
               true);
    } else if (r != NULL && routes_is_protected(r)) {
        check_access(s, st);
        if (st->res.status != 0) st->close = st->close || body_follows;
    }
    return st;
}

static void append_chunk(struct server *s, struct conn_state *st, const char *p, size_t n)
{
    if (st->too_big || st->busy) return;
    if (atomic_fetch_add(&s->body_bytes, n) + n > (size_t)LIMIT_HTTP_BODIES_TOTAL) {
        atomic_fetch_sub(&s->body_bytes, n);
        st->busy = true;
    } else if (buf_append(&st->body, p, n, NULL) != PX_OK) {
        atomic_fetch_sub(&s->body_bytes, n);
        st->too_big = true;
    } else {
        st->counted += n;
        return;
    }
    atomic_fetch_sub(&s->body_bytes, st->counted);
    st->counted = 0;
    buf_free(&st->body);
}

// (3) The whole request is in: run it here (public routes) or hand it to a worker.
static enum MHD_Result dispatch(struct server *s, struct conn_state *st)
{
    struct api_req *req = st->req;
    size_t n;
    const struct route *rt = routes_table(&n);
    if (st->too_big || st->busy) {
        if (st->busy) {
            metrics_refused(&s->ctx->metrics, METRICS_REFUSED_BUSY, 1);
            st->retry_after = 1;
        }
        refuse(st, st->busy ? 503 : 413,
               st->busy ? "the server is busy: too many request bodies at once; retry shortly"
                        : "request body too large for this route",
               false);
        return answer(s, st);
    }
    req->body = st->body.data;
    req->body_len = st->body.len;
    MHD_get_connection_values(st->conn, MHD_GET_ARGUMENT_KIND, collect_arg, req);
    set_phase(s, st->track, TRACK_WORK);
    if (st->i_route < 0 || !routes_is_protected(&rt[st->i_route])) {
        if (routes_dispatch(req, &st->res, &st->i_route) != PX_OK) return MHD_NO;
        return answer(s, st);
    }
    pthread_mutex_lock(&s->q_lock);
    bool full = s->q_stop || s->q_len >= s->p.queue;
    if (!full) {
        MHD_suspend_connection(st->conn); // resumed by the worker, with st->done set
        st->next = NULL;
        if (s->q_tail) s->q_tail->next = st;
        else s->q_head = st;
        s->q_tail = st;
        s->q_len++;
        pthread_cond_signal(&s->q_cond);
    }
    bool stopping = s->q_stop;
    pthread_mutex_unlock(&s->q_lock);
    if (!full) return MHD_YES;
    metrics_refused(&s->ctx->metrics, METRICS_REFUSED_BUSY, 1);
    st->retry_after = 1;
    refuse(st, 503,
           stopping ? "the server is stopping"
                    : "the server is busy: too many requests waiting; retry shortly",
           false);
    return answer(s, st);
}

static void *worker_main(void *arg)
{
    struct server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->q_lock);
        while (s->q_head == NULL && !s->q_stop) pthread_cond_wait(&s->q_cond, &s->q_lock);
        struct conn_state *st = s->q_head;
        if (st != NULL) {
            s->q_head = st->next;
            if (s->q_head == NULL) s->q_tail = NULL;
            s->q_len--;
        }
        pthread_mutex_unlock(&s->q_lock);
        if (st == NULL) break; // stopping, and nothing is left
        st->failed = routes_dispatch(st->req, &st->res, &st->i_route) != PX_OK;
        atomic_store(&st->done, true);
        MHD_resume_connection(st->conn); // MHD calls on_request again: answer()
    }
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct server *s = cls;
    struct conn_state *st = *req_cls;
    if (st == NULL || st == (void *)&k_bad_target) { // (1) headers
        st = begin(s, conn, url, method, version, st == (void *)&k_bad_target);
        if (st == NULL) return MHD_NO;
        *req_cls = st;
        return st->res.status != 0 ? answer(s, st) : MHD_YES;
    }
    if (st->answered) { // refused from the headers: nothing more to read or say
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) { // (2) a body chunk
        append_chunk(s, st, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (atomic_load(&st->done)) { // a worker ran it
        return st->failed ? MHD_NO : answer(s, st);
    }
    return dispatch(s, st); // (3)
}

// An answer whose audit row was written did not reach the client: the audit log says so
// (a "failed" row), so that it does not claim customers that were never sent.
static void record_unsent(struct conn_state *st, enum MHD_RequestTerminationCode toe)
{
    const char *why = toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT
                          ? "the client closed the connection before the answer was sent"
                      : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                          ? "the answer timed out before it was sent"
                      : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN
                          ? "the server shut down before the answer was sent"
                          : "the connection failed before the answer was sent";
    struct px_err err = {0};
    if (api_audit_failed(st->req, &st->res, why, &err) != PX_OK) {
        logx(LOGX_ERROR, "req %llu: cannot record the unsent answer: %s", st->id, err.msg);
    } else {
        logx(LOGX_INFO, "req %llu: audited answer not sent: %s", st->id, why);
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct conn_state *st = *req_cls;
    if (st != NULL && st != (void *)&k_bad_target) {
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && st->req != NULL && st->res.audited) {
            record_unsent(st, toe);
        }
        set_phase(s, st->track, TRACK_HEADERS); // kept alive: the next request's clock starts
        free_state(s, st);
    } else {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        set_phase(s, ci ? ci->socket_context : NULL, TRACK_HEADERS);
    }
    *req_cls = NULL;
}

// MHD's own messages, to the log; under a flood (a connection refused per attempt) the same
// message is written at most once a second, with how often it came.
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char last[512];
    static double last_t;
    static unsigned long n_same;
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n') msg[--n] = '\0';
    double now = now_s();
    pthread_mutex_lock(&lock);
    bool same = strcmp(msg, last) == 0 && now - last_t < 1.0;
    unsigned long repeated = 0;
    if (same) {
        n_same++;
    } else {
        repeated = n_same;
        n_same = 0;
        memcpy(last, msg, sizeof last);
        last_t = now;
    }
    pthread_mutex_unlock(&lock);
    if (repeated > 0) logx(LOGX_WARN, "http: (the previous message came %lu more times)", repeated);
    if (!same) logx(LOGX_WARN, "http: %s", msg);
}

// ---- start and stop ----

static void stop_threads(struct server *s)
{
    if (!s->sync_ok) return;
    pthread_mutex_lock(&s->q_lock);
    s->q_stop = true; // dispatch answers 503 from now on; workers empty the queue, then end
    pthread_cond_broadcast(&s->q_cond);
    pthread_mutex_unlock(&s->q_lock);
    for (int i = 0; i < s->n_workers; i++) pthread_join(s->workers[i], NULL);
    s->n_workers = 0;
}

static void free_server(struct server *s)
{
    if (s == NULL) return;
    stop_threads(s);
    if (s->daemon != NULL) MHD_stop_daemon(s->daemon);
    if (s->wd_started) {
        pthread_mutex_lock(&s->conn_lock);
        s->wd_stop = true;
        pthread_cond_signal(&s->conn_cond);
        pthread_mutex_unlock(&s->conn_lock);
        pthread_join(s->watchdog, NULL);
    }
    if (s->sync_ok) {
        pthread_mutex_destroy(&s->conn_lock);
        pthread_cond_destroy(&s->conn_cond);
        pthread_mutex_destroy(&s->q_lock);
        pthread_cond_destroy(&s->q_cond);
    }
    budget_free(s->budget);
    px_free(s->workers);
    px_free(s);
}

static int init_sync(struct server *s, struct px_err *err)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) return px_fail(err, PX_EINTERNAL, "pthread_condattr_init");
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = pthread_mutex_init(&s->conn_lock, NULL) == 0;
    ok = ok && pthread_cond_init(&s->conn_cond, &ca) == 0;
    ok = ok && pthread_mutex_init(&s->q_lock, NULL) == 0;
    ok = ok && pthread_cond_init(&s->q_cond, NULL) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok) return px_fail(err, PX_EINTERNAL, "cannot make the server's locks");
    s->sync_ok = true;
    return PX_OK;
}

int server_start(const struct server_params *p, struct api_ctx *ctx, struct server **out,
                 struct px_err *err)
{
    struct server *s = NULL;
    struct sockaddr_storage sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_AUTO |
                     MHD_ALLOW_SUSPEND_RESUME;
    int rc = PX_EINVAL;
    memset(&sa, 0, sizeof sa);
    *out = NULL;
    const char *bind = p->bind ? p->bind : "127.0.0.1";
    if (p->port < 0 || p->port > 65535 || p->n_threads < 1 || p->n_threads > LIMIT_HTTP_THREADS) {
        return px_fail(err, PX_EINVAL, "port must be 0..65535 and threads 1..%d",
                       LIMIT_HTTP_THREADS);
    }
    if (p->max_connections < 1 || p->max_per_ip < 1 || p->queue < 1 || p->header_s < 1 ||
        p->body_s < 1) {
        return px_fail(err, PX_EINVAL, "connection limits, queue and deadlines must be >= 1");
    }
    s = px_calloc(1, sizeof *s);
    if (s == NULL) return px_fail(err, PX_ENOMEM, "out of memory starting the server");
    s->ctx = ctx;
    s->p = *p;
    // every connection is a descriptor: raise the soft limit as far as the hard one allows,
    // and hold fewer connections when even that is short (accept(2) failing is worse)
    struct rlimit nofile;
    rlim_t want = (rlim_t)p->max_connections + SPARE_FDS;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < want) {
        nofile.rlim_cur = nofile.rlim_max < want ? nofile.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &nofile);
        getrlimit(RLIMIT_NOFILE, &nofile);
        if (nofile.rlim_cur < want) {
            s->p.max_connections =
                nofile.rlim_cur > 2 * SPARE_FDS ? (unsigned)(nofile.rlim_cur - SPARE_FDS) : 64;
            logx(LOGX_WARN, "http: %u connections at most (RLIMIT_NOFILE %llu)",
                 s->p.max_connections, (unsigned long long)nofile.rlim_cur);
        }
    }
    rc = server_resolve(bind, &s->addr, err);
    if (rc == PX_OK && !s->addr.loopback && (ctx->access == NULL || !ctx->require_keys)) {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "binding to %s (not loopback) requires API keys: the context must require "
                     "them",
                     bind);
    }
    if (rc == PX_OK) {
        rc = guard_hosts_init(&s->hosts, s->addr.text, bind, p->allowed_hosts,
                              p->n_allowed_hosts, err);
    }
    if (rc == PX_OK) rc = budget_new(p->rate, p->burst, &s->budget, err);
    if (rc == PX_OK) rc = init_sync(s, err);
    if (rc == PX_OK) {
        s->workers = px_calloc((size_t)p->n_threads, sizeof *s->workers);
        if (s->workers == NULL) rc = px_fail(err, PX_ENOMEM, "out of memory starting the server");
    }
    for (int i = 0; rc == PX_OK && i < p->n_threads; i++) {
        if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0) {
            rc = px_fail(err, PX_EINTERNAL, "cannot start the request workers");
        } else {
            s->n_workers++;
        }
    }
    if (rc == PX_OK) {
        if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
            rc = px_fail(err, PX_EINTERNAL, "cannot start the connection watchdog");
        } else {
            s->wd_started = true;
        }
    }
    if (rc != PX_OK) goto done;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
    if (inet_pton(AF_INET, s->addr.text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p->port);
    } else if (inet_pton(AF_INET6, s->addr.text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p->port);
        flags |= MHD_USE_IPv6;
    } else {
        rc = px_fail(err, PX_EINTERNAL, "resolved address '%s' does not parse", s->addr.text);
        goto done;
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)p->port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, // first, so MHD never prints itself
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)IO_THREADS,
        MHD_OPTION_CONNECTION_LIMIT, s->p.max_connections,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, s->p.max_connections, // handshakes wait, not retry
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, p->max_per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, p->conn_memory,
        MHD_OPTION_CONNECTION_TIMEOUT, p->timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        rc = px_fail(err, PX_EIO, "cannot listen on %s port %d (in use, or not allowed?)",
                     s->addr.text, p->port);
        goto done;
    }
    if (p->port != 0 && server_port(s) != p->port) {
        rc = px_fail(err, PX_EIO, "asked to listen on port %d, bound %d", p->port, server_port(s));
        goto done;
    }
    logx(LOGX_INFO, "http: listening on %s port %d, %d workers, %u connections (%u per address)",
         s->addr.text, server_port(s), p->n_threads, s->p.max_connections, p->max_per_ip);
    *out = s;
    s = NULL;
    rc = PX_OK;
done:
    free_server(s);
    return rc;
}

int server_port(const struct server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return i ? (int)i->port : -1;
}

const char *server_address(const struct server *s)
{
    return s->addr.text;
}

void server_stop(struct server *s)
{
    free_server(s);
}
