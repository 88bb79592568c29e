// guard.h — what a request must satisfy before any key is checked, any body read or any handler
// run: its framing headers, its request target, its Host and (for a request that changes
// state) its Origin. Pure functions over header values, so test_api checks them without
// sockets; server.c collects the values from libmicrohttpd and answers the refusals.
//
// Host and Origin (DNS rebinding, cross-site requests): a page from attacker.example whose
// name is rebound to 127.0.0.1 reaches a loopback server with "Host: attacker.example:PORT";
// a server that answers only the names it knows closes that door. A name is allowed when it is
// the bound address (an IP literal), "localhost" on a loopback bind, the --bind name itself,
// the machine's host name on a wildcard bind (0.0.0.0, ::), or one of --allowed-host; on a
// wildcard bind any IP literal is allowed too (a browser that sends an IP literal as Host
// loaded the page from that address, so no name was rebound). The port is not compared (a
// reverse proxy may say 443). A state-changing request (any method but GET and HEAD) that
// carries Origin must come from an allowed host ("null" and other schemes are refused);
// without Origin (curl, scripts) it passes — browsers always send it on such requests.
#ifndef PX_GUARD_H
#define PX_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "limits.h"

#define GUARD_NAME_MAX 256

struct guard_hosts {
    char names[LIMIT_HTTP_ALLOWED_HOSTS + 4][GUARD_NAME_MAX]; // lowercase, IP literals bare
    size_t n;
    bool any_ip; // a wildcard bind: every IP literal is allowed
};

// Builds the allowed set for a server bound to addr (an IP literal: "127.0.0.1", "::1",
// "0.0.0.0"), given as bind_name (what the operator wrote: a name or the same literal; may be
// NULL) and the operator's extra names (n_extra of them, each a host name or IP literal without
// a port). PX_EINVAL naming the bad name, PX_ELIMIT past LIMIT_HTTP_ALLOWED_HOSTS.
int guard_hosts_init(struct guard_hosts *g, const char *addr, const char *bind_name,
                     const char *const *extra, size_t n_extra, struct px_err *err);
// Is the Host header value (host[:port], [v6][:port]) one the server answers? NULL is allowed
// (HTTP/1.0 without Host; HTTP/1.1 requires one, see guard_framing).
bool guard_host_ok(const struct guard_hosts *g, const char *host);
// May a request of method with this Origin header value (NULL when absent) proceed?
bool guard_origin_ok(const struct guard_hosts *g, const char *method, const char *origin);

// The framing headers of one request, as counted by the server.
struct guard_framing {
    unsigned n_content_length, n_transfer_encoding, n_host;
    const char *transfer_encoding; // the value when there is one
    bool http11;                   // HTTP/1.1 (Host required)
};
// NULL when the framing is unambiguous, else the 400's message: duplicate Content-Length (even
// equal ones) or Transfer-Encoding, both at once, a Transfer-Encoding other than "chunked", a
// duplicate Host, or an HTTP/1.1 request without Host.
const char *guard_framing(const struct guard_framing *f);
// Does the raw request target (before percent-decoding) hold an encoded NUL ("%00"), which
// would cut the decoded path or argument short?
bool guard_target_has_nul(const char *raw_target);

#endif
