// server.h — the libmicrohttpd adapter: sockets, threads, bounded bodies; everything else is the
// route table's handlers (routes.h, api.h).
//
// Thread-safety: server_start / server_stop from one thread; requests run on MHD's pool.
#ifndef PX_SERVER_H
#define PX_SERVER_H

#include <stdint.h>

#include "api.h"
#include "err.h"

struct server;

struct server_params {
    const char *bind;         // address to listen on; default "127.0.0.1". Anything but loopback
                              // needs ctx->access and ctx->require_keys (else PX_EUNSUPPORTED)
    int port;                 // default 8080; 0 picks a free port (see server_port)
    int n_threads;            // MHD thread pool size, 1..LIMIT_HTTP_THREADS; default 4
    unsigned max_connections; // default LIMIT_HTTP_CONNECTIONS
    unsigned timeout_s;       // idle connection timeout; default LIMIT_HTTP_TIMEOUT_S
    size_t conn_memory;       // MHD per-connection memory (headers); default LIMIT_HTTP_CONN_MEMORY
};

struct server_params server_default_params(void);

// True when addr is a loopback address (127.0.0.0/8, ::1, "localhost").
bool server_is_loopback(const char *addr);
// Starts listening; ctx is borrowed and must outlive the server. Returns owned *out
// (server_stop).
int server_start(const struct server_params *params, struct api_ctx *ctx, struct server **out,
                 struct px_err *err);
// The port actually bound (the chosen one when params.port was 0).
int server_port(const struct server *s);
// Stops accepting, finishes the requests in flight, joins the threads and frees s. NULL is a
// no-op.
void server_stop(struct server *s);

#endif
