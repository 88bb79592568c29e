// server.h — the libmicrohttpd adapter: sockets, threads, bounded bodies, and the limits that
// keep slow or heavy clients from locking others out; everything else is the route table's
// handlers (routes.h, api.h).
//
// Thread-safety: server_start / server_stop from one thread; requests run on MHD's I/O threads
// (public routes) and the server's workers (protected routes).
#ifndef PX_SERVER_H
#define PX_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "err.h"

struct server;

struct server_params {
    const char *bind;         // address or host name to listen on; default "127.0.0.1". A name
                              // must resolve to exactly one address ("localhost": 127.0.0.1).
                              // Anything but loopback needs ctx->access and ctx->require_keys
                              // (else PX_EUNSUPPORTED)
    int port;                 // default 8080; 0 picks a free port (see server_port)
    int n_threads;            // workers running the protected routes' handlers,
                              // 1..LIMIT_HTTP_THREADS; default 4
    unsigned max_connections; // default LIMIT_HTTP_CONNECTIONS
    unsigned max_per_ip;      // connections per client address; default LIMIT_HTTP_PER_IP
    unsigned timeout_s;       // idle connection timeout; default LIMIT_HTTP_TIMEOUT_S
    unsigned header_s;        // absolute deadline for a request's headers; LIMIT_HTTP_HEADER_S
    unsigned body_s;          // absolute deadline for its body after them; LIMIT_HTTP_BODY_S
    unsigned queue;           // requests waiting for a worker (more: 503); LIMIT_HTTP_QUEUE
    double rate;              // requests per second per API key, or per client address without
                              // a key (more: 429); 0 for none; default LIMIT_HTTP_RATE
    double burst;             // the budget's bucket; default LIMIT_HTTP_BURST
    const char *const *allowed_hosts; // extra Host names answered (guard.h); borrowed
    size_t n_allowed_hosts;
    size_t conn_memory;       // MHD per-connection memory (headers); default LIMIT_HTTP_CONN_MEMORY
};

struct server_params server_default_params(void);

// What a --bind value resolves to.
struct server_addr {
    char text[API_CLIENT_LEN]; // the address as an IP literal ("127.0.0.1", "::1", "0.0.0.0")
    bool loopback;             // 127.0.0.0/8 or ::1
};
// Resolves bind (an IP literal, "localhost", or a host name) to the one address the server will
// listen on. PX_EINVAL when the name does not resolve or resolves to several addresses (the
// message lists them: pass one).
int server_resolve(const char *bind, struct server_addr *out, struct px_err *err);
// True when addr is a loopback address (127.0.0.0/8, ::1, "localhost"); a name is not resolved
// (see server_resolve).
bool server_is_loopback(const char *addr);
// Starts listening; ctx is borrowed and must outlive the server. Returns owned *out
// (server_stop). Fails when the port asked for is not the one bound.
int server_start(const struct server_params *params, struct api_ctx *ctx, struct server **out,
                 struct px_err *err);
// The port actually bound (the chosen one when params.port was 0).
int server_port(const struct server *s);
// The address listened on, as an IP literal (server_resolve's answer).
const char *server_address(const struct server *s);
// Stops accepting, finishes the requests in flight, joins the threads and frees s. NULL is a
// no-op.
void server_stop(struct server *s);

#endif
