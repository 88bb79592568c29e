// metrics.h — request counters and a latency histogram per route, lock-free (atomics), rendered
// as Prometheus text (exposition format 0.0.4).
#ifndef PX_METRICS_H
#define PX_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "limits.h"

// Upper bounds (seconds) of the latency buckets; +Inf is implicit.
#define METRICS_N_BUCKETS 10

struct metrics_route {
    atomic_ullong requests;                     // all answers
    atomic_ullong errors;                       // answers with status >= 400
    atomic_ullong bucket[METRICS_N_BUCKETS + 1]; // cumulative at render time; last is +Inf
    atomic_ullong sum_us;                       // total latency, microseconds
};

// Why the server refused a request before any handler ran, or closed a connection (server.c).
enum metrics_refusal {
    METRICS_REFUSED_HOST,     // 403: a Host the server does not answer for
    METRICS_REFUSED_ORIGIN,   // 403: a cross-origin state-changing request
    METRICS_REFUSED_FRAMING,  // 400: duplicate or conflicting framing headers, %00 in the target
    METRICS_REFUSED_AUTH,     // 401: a refused API key
    METRICS_REFUSED_BUDGET,   // 429: a key's or an address's request budget spent
    METRICS_REFUSED_BUSY,     // 503: the work queue or the body memory is full
    METRICS_REFUSED_DEADLINE, // a connection closed: its request did not arrive in time
    METRICS_N_REFUSALS
};

// Slot LIMIT_HTTP_ROUTES counts requests that matched no route.
struct metrics {
    struct metrics_route route[LIMIT_HTTP_ROUTES + 1];
    atomic_ullong refused[METRICS_N_REFUSALS];
};

void metrics_init(struct metrics *m);
// Records one answer of route i_route (or -1: unmatched) with its status and latency.
void metrics_observe(struct metrics *m, int i_route, int http_status, double seconds);
// Counts one refusal (or n deadline closes) of kind r.
void metrics_refused(struct metrics *m, enum metrics_refusal r, unsigned n);
// Appends the Prometheus text to out; route labels come from the route table.
int metrics_render(const struct metrics *m, struct buf *out, struct px_err *err);

#endif
