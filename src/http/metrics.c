// metrics.c — per-route counters and latency histograms, updated with relaxed atomics from any
// server thread; rendered as Prometheus text:
//   prospect_http_requests_total{method,route}         answers
//   prospect_http_errors_total{method,route}           answers with status >= 400
//   prospect_http_request_duration_seconds{...}        histogram (buckets, sum, count)
//   prospect_http_refused_total{reason}                requests refused before a handler
//                                                      (host, origin, framing, auth, budget,
//                                                      busy) and connections closed (deadline)
//   prospect_memory_live_bytes                         px_* heap in use
// Route labels are the table's patterns ("/api/customers/{id}"), never the raw path, so ids do
// not appear in metrics and the label set stays bounded.
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "metrics.h"
#include "routes.h"

static const double k_bounds[METRICS_N_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,  0.1,    0.25,  0.5,  1.0};

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof *m);
}

void metrics_observe(struct metrics *m, int i_route, int http_status, double seconds)
{
    struct metrics_route *r = &m->route[i_route >= 0 && i_route < LIMIT_HTTP_ROUTES ? i_route
                                                                                    : LIMIT_HTTP_ROUTES];
    size_t b = 0;
    while (b < METRICS_N_BUCKETS && seconds > k_bounds[b]) b++;
    atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
    if (http_status >= 400) atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
    unsigned long long us = seconds > 0 ? (unsigned long long)(seconds * 1e6) : 0;
    atomic_fetch_add_explicit(&r->sum_us, us, memory_order_relaxed);
}

void metrics_refused(struct metrics *m, enum metrics_refusal r, unsigned n)
{
    if (r < METRICS_N_REFUSALS) atomic_fetch_add_explicit(&m->refused[r], n, memory_order_relaxed);
}

static const char *const k_refusal[METRICS_N_REFUSALS] = {
    "host", "origin", "framing", "auth", "budget", "busy", "deadline",
};

int metrics_render(const struct metrics *m, struct buf *out, struct px_err *err)
{
    size_t n;
    const struct route *rt = routes_table(&n);
    int rc = buf_printf(out, err,
                        "# HELP prospect_http_requests_total HTTP requests answered.\n"
                        "# TYPE prospect_http_requests_total counter\n");
    for (size_t i = 0; i <= n && rc == PX_OK; i++) {
        const struct metrics_route *r = &m->route[i < n ? i : LIMIT_HTTP_ROUTES];
        rc = buf_printf(out, err, "prospect_http_requests_total{method=\"%s\",route=\"%s\"} %llu\n",
                        i < n ? rt[i].method : "", i < n ? rt[i].pattern : "unmatched",
                        (unsigned long long)atomic_load(&r->requests));
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, "# HELP prospect_http_errors_total HTTP answers with status >= 400.\n"
                                  "# TYPE prospect_http_errors_total counter\n");
    }
    for (size_t i = 0; i <= n && rc == PX_OK; i++) {
        const struct metrics_route *r = &m->route[i < n ? i : LIMIT_HTTP_ROUTES];
        rc = buf_printf(out, err, "prospect_http_errors_total{method=\"%s\",route=\"%s\"} %llu\n",
                        i < n ? rt[i].method : "", i < n ? rt[i].pattern : "unmatched",
                        (unsigned long long)atomic_load(&r->errors));
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err,
                        "# HELP prospect_http_request_duration_seconds Time to answer a request.\n"
                        "# TYPE prospect_http_request_duration_seconds histogram\n");
    }
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        const struct metrics_route *r = &m->route[i];
        unsigned long long cum = 0;
        for (size_t b = 0; b <= METRICS_N_BUCKETS && rc == PX_OK; b++) {
            cum += atomic_load(&r->bucket[b]);
            char le[32];
            if (b < METRICS_N_BUCKETS) {
                snprintf(le, sizeof le, "%g", k_bounds[b]);
            } else {
                snprintf(le, sizeof le, "+Inf");
            }
            rc = buf_printf(out, err,
                            "prospect_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                            "le=\"%s\"} %llu\n", rt[i].method, rt[i].pattern, le, cum);
        }
        if (rc == PX_OK) {
            rc = buf_printf(out, err,
                            "prospect_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
                            "prospect_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
                            rt[i].method, rt[i].pattern, (double)atomic_load(&r->sum_us) / 1e6,
                            rt[i].method, rt[i].pattern, cum);
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, "# HELP prospect_http_refused_total Requests refused before a "
                                  "handler ran, and connections closed at their deadline.\n"
                                  "# TYPE prospect_http_refused_total counter\n");
    }
    for (size_t i = 0; i < METRICS_N_REFUSALS && rc == PX_OK; i++) {
        rc = buf_printf(out, err, "prospect_http_refused_total{reason=\"%s\"} %llu\n", k_refusal[i],
                        (unsigned long long)atomic_load(&m->refused[i]));
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, "# HELP prospect_memory_live_bytes Heap bytes in use.\n"
                                  "# TYPE prospect_memory_live_bytes gauge\n"
                                  "prospect_memory_live_bytes %zu\n", px_mem_live_bytes());
    }
    return rc;
}
