// guard.c — Host, Origin, framing and request-target checks (see guard.h for the policy).
//
// Names are compared case-insensitively, without a trailing dot, after the port is cut:
// "host:port" (one colon), "[v6]:port". A bare IPv6 address in Host is not valid HTTP and is
// refused.
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "guard.h"

static bool is_ip_literal(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static bool is_wildcard(const char *s)
{
    return strcmp(s, "0.0.0.0") == 0 || strcmp(s, "::") == 0;
}

// Copies the host part of "host[:port]" or "[v6][:port]" (len bytes of s) into out, lowercase,
// without a trailing dot; false when it is not of that shape.
static bool host_part(const char *s, size_t len, char out[GUARD_NAME_MAX])
{
    const char *name = s, *rest;
    size_t n;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL) return false;
        name = s + 1;
        n = (size_t)(close - name);
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', len);
        n = colon ? (size_t)(colon - s) : len;
        rest = s + n;
        if (colon != NULL && memchr(colon + 1, ':', len - n - 1) != NULL) return false;
    }
    size_t n_rest = len - (size_t)(rest - s);
    if (n_rest > 0) { // ":digits"
        if (rest[0] != ':' || n_rest < 2 || n_rest > 6) return false;
        for (size_t i = 1; i < n_rest; i++) {
            if (!isdigit((unsigned char)rest[i])) return false;
        }
    }
    if (n > 0 && name[n - 1] == '.') n--;
    if (n == 0 || n >= GUARD_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != ':' && c != '_') return false;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return true;
}

static int add_name(struct guard_hosts *g, const char *name, struct px_err *err)
{
    char h[GUARD_NAME_MAX];
    size_t len = strlen(name);
    if (is_ip_literal(name) && len < sizeof h) { // bare, IPv6 included
        for (size_t i = 0; i <= len; i++) h[i] = (char)tolower((unsigned char)name[i]);
    } else if ((name[0] != '[' && strchr(name, ':') != NULL) || !host_part(name, len, h) ||
               (name[0] == '[' && name[len - 1] != ']')) {
        return px_fail(err, PX_EINVAL,
                       "'%s' is not a host name or IP address (give it without scheme or port)",
                       name);
    }
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->names[i], h) == 0) return PX_OK;
    }
    if (g->n == sizeof g->names / sizeof g->names[0]) {
        return px_fail(err, PX_ELIMIT, "at most %d allowed host names", LIMIT_HTTP_ALLOWED_HOSTS);
    }
    memcpy(g->names[g->n++], h, sizeof h);
    return PX_OK;
}

int guard_hosts_init(struct guard_hosts *g, const char *addr, const char *bind_name,
                     const char *const *extra, size_t n_extra, struct px_err *err)
{
    memset(g, 0, sizeof *g);
    if (n_extra > LIMIT_HTTP_ALLOWED_HOSTS) {
        return px_fail(err, PX_ELIMIT, "at most %d --allowed-host names, got %zu",
                       LIMIT_HTTP_ALLOWED_HOSTS, n_extra);
    }
    int rc = PX_OK;
    g->any_ip = is_wildcard(addr);
    if (!g->any_ip) rc = add_name(g, addr, err);
    if (rc == PX_OK && bind_name != NULL && bind_name[0] != '\0' && !is_wildcard(bind_name)) {
        rc = add_name(g, bind_name, err);
    }
    unsigned char b[16];
    bool loopback = (inet_pton(AF_INET, addr, b) == 1 && b[0] == 127) ||
                    strcmp(addr, "::1") == 0;
    if (rc == PX_OK && loopback) rc = add_name(g, "localhost", err);
    char me[GUARD_NAME_MAX];
    if (rc == PX_OK && g->any_ip && gethostname(me, sizeof me) == 0) {
        me[sizeof me - 1] = '\0';
        char h[GUARD_NAME_MAX];
        if (host_part(me, strlen(me), h)) rc = add_name(g, h, err);
    }
    for (size_t i = 0; i < n_extra && rc == PX_OK; i++) {
        rc = add_name(g, extra[i], err);
        if (rc != PX_OK) px_err_prefix(err, "--allowed-host");
    }
    return rc;
}

static bool name_ok(const struct guard_hosts *g, const char *h)
{
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->names[i], h) == 0) return true;
    }
    return g->any_ip && is_ip_literal(h);
}

bool guard_host_ok(const struct guard_hosts *g, const char *host)
{
    char h[GUARD_NAME_MAX];
    if (host == NULL) return true;
    return host_part(host, strlen(host), h) && name_ok(g, h);
}

bool guard_origin_ok(const struct guard_hosts *g, const char *method, const char *origin)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || origin == NULL) {
        return true;
    }
    const char *rest = strncasecmp(origin, "http://", 7) == 0    ? origin + 7
                       : strncasecmp(origin, "https://", 8) == 0 ? origin + 8
                                                                 : NULL;
    char h[GUARD_NAME_MAX];
    if (rest == NULL) return false; // "null" (a sandboxed or file: page), other schemes
    size_t n = strcspn(rest, "/");
    if (rest[n] != '\0' && strcmp(rest + n, "/") != 0) return false; // an origin has no path
    return host_part(rest, n, h) && name_ok(g, h);
}

const char *guard_framing(const struct guard_framing *f)
{
    if (f->n_content_length > 1) return "duplicate Content-Length headers";
    if (f->n_transfer_encoding > 1) return "duplicate Transfer-Encoding headers";
    if (f->n_transfer_encoding == 1 && f->n_content_length == 1) {
        return "both Content-Length and Transfer-Encoding";
    }
    if (f->n_transfer_encoding == 1 &&
        (f->transfer_encoding == NULL || strcasecmp(f->transfer_encoding, "chunked") != 0)) {
        return "Transfer-Encoding other than 'chunked'";
    }
    if (f->n_host > 1) return "duplicate Host headers";
    if (f->n_host == 0 && f->http11) return "an HTTP/1.1 request needs a Host header";
    return NULL;
}

bool guard_target_has_nul(const char *raw_target)
{
    for (const char *p = strchr(raw_target, '%'); p != NULL; p = strchr(p + 1, '%')) {
        if (p[1] == '0' && p[2] == '0') return true;
    }
    return false;
}
