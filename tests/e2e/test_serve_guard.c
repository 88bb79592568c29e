// test_serve_guard.c — `prospect serve` against hostile clients, over raw sockets (so a test can
// send what curl will not: a forged Host, duplicate framing headers, a request trickled one
// byte a second, or from another loopback address). Checked (issue 17): DNS rebinding (a Host
// the server does not answer for is 403 and carries no customer data; 127.0.0.1, localhost and
// --allowed-host names work) and cross-origin POSTs; duplicate or conflicting Content-Length /
// Transfer-Encoding / Host are a 400 that closes the connection (no smuggled second request);
// %00 in a path is a 400; error JSON stays valid UTF-8; 512 slow-header connections (256 from one
// address, 256 from sixteen) do not lock /ping out and are closed at their deadline; 50 parallel
// 40-query /invocations leave /ping answering; the key is checked before a body is read; the
// request budget answers 429; --bind resolves a name to exactly what it prints, refuses one that
// does not resolve, and listens on the port it prints. Every wait is bounded (alarm).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "testbank.h"
#include "testhttp.h"
#include "testutil.h"

static char g_dir[256], g_db[512];
static pid_t g_pid = -1;
static int g_port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// A TCP connection to 127.0.0.1:port from source address src (NULL: any); -1 on failure.
static int dial(const char *src, int port, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (src != NULL) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            return -1;
        }
    }
    if (nonblock) fcntl(fd, F_SETFL, O_NONBLOCK);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

// Sends req (len bytes) from src, reads until the server closes or timeout_s passes. Returns
// the bytes read (owned, NUL-terminated; free()) and *closed: the server closed the connection.
static char *exchange(const char *src, int port, const char *req, size_t len, double timeout_s,
                      bool *closed)
{
    int fd = dial(src, port, false);
    if (fd < 0) fail_msg("cannot connect to port %d from %s", port, src ? src : "any");
    size_t off = 0;
    while (off < len) {
        ssize_t k = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (k <= 0) break; // the server may close before reading it all
        off += (size_t)k;
    }
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap + 1);
    double end = now_s() + timeout_s;
    *closed = false;
    for (;;) {
        int ms = (int)((end - now_s()) * 1e3);
        struct pollfd p = {fd, POLLIN, 0};
        if (ms <= 0 || poll(&p, 1, ms) <= 0) break;
        if (n == cap) out = realloc(out, (cap *= 2) + 1);
        ssize_t k = recv(fd, out + n, cap - n, 0);
        if (k <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)k;
    }
    out[n] = '\0';
    close(fd);
    return out;
}

static int status_of(const char *reply)
{
    return strncmp(reply, "HTTP/1.", 7) == 0 ? atoi(reply + 9) : -1;
}

static int count_of(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p++) n++;
    return n;
}

// One GET with the given Host (NULL: none, HTTP/1.0) and extra header lines; returns the status
// and, in *body (may be NULL; free()), the reply.
static int get_with_host(int port, const char *path, const char *host, const char *extra,
                         char **body)
{
    char req[2048];
    if (host != NULL) {
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n",
                 path, host, extra ? extra : "");
    } else {
        snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n%s\r\n", path, extra ? extra : "");
    }
    bool closed;
    char *r = exchange(NULL, port, req, strlen(req), 10, &closed);
    int st = status_of(r);
    if (body) *body = r;
    else free(r);
    return st;
}

// GET /ping from 127.0.0.1, waiting at most 3 s.
static int ping(char **body)
{
    const char *req = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    bool closed;
    char *r = exchange(NULL, g_port, req, strlen(req), 3, &closed);
    int st = status_of(r);
    *body = r;
    return st;
}

static int post_invocations(int port, const char *src, const char *host, const char *origin,
                            const char *json, char **body)
{
    char req[16384];
    int n = snprintf(req, sizeof req,
                     "POST /invocations HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     host, origin ? "Origin: " : "", origin ? origin : "", origin ? "\r\n" : "",
                     strlen(json), json);
    bool closed;
    char *r = exchange(src, port, req, (size_t)n, 30, &closed);
    int st = status_of(r);
    if (body) *body = r;
    else free(r);
    return st;
}

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    tu_generate_import(g_dir, "b.csv", 300, 11, g_db);
    char log[512];
    snprintf(log, sizeof log, "%s/serve.log", g_dir);
    const char *argv[] = {"serve", "--db", g_db, "--port", "0", "--embedder", "/nonexistent",
                          "--allowed-host", "prospect.bank.example", NULL};
    g_pid = th_serve(argv, log, &g_port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_pid > 0) {
        kill(g_pid, SIGKILL);
        waitpid(g_pid, NULL, 0);
    }
    tu_rmtree(g_dir);
    return 0;
}

// Item 1: DNS rebinding. A page on attacker.example rebinds its name to 127.0.0.1: its requests
// carry "Host: attacker.example:PORT" and must get nothing.
static void test_host_header(void **state)
{
    (void)state;
    char host[128], *b = NULL;
    alarm(60);
    snprintf(host, sizeof host, "attacker.example:%d", g_port);
    assert_int_equal(get_with_host(g_port, "/api/search?q=customers+over+65", host, NULL, &b), 403);
    assert_null(strstr(b, "CUST-"));
    assert_non_null(strstr(b, "\"forbidden\""));
    free(b);
    assert_int_equal(get_with_host(g_port, "/", host, NULL, NULL), 403);
    assert_int_equal(get_with_host(g_port, "/api/customers/CUST-000007", "attacker.example", NULL,
                                   NULL),
                     403);
    // the names the page is opened under, and the operator's
    static const char *const fine[] = {"127.0.0.1:%d", "localhost:%d", "LOCALHOST:%d",
                                       "prospect.bank.example", "prospect.bank.example.:%d"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        snprintf(host, sizeof host, fine[i], g_port);
        assert_int_equal(get_with_host(g_port, "/api/search?q=customers+over+65", host, NULL, &b),
                         200);
        assert_non_null(strstr(b, "CUST-"));
        free(b);
    }
    assert_int_equal(get_with_host(g_port, "/ping", NULL, NULL, NULL), 200); // HTTP/1.0, no Host
    // a state-changing request from another origin is refused; from the page's own, not
    const char *q = "{\"inputs\": {\"query\": [\"young customers\"]}, \"params\": {\"top_n\": 2}}";
    snprintf(host, sizeof host, "127.0.0.1:%d", g_port);
    assert_int_equal(post_invocations(g_port, NULL, host, "http://attacker.example", q, NULL), 403);
    assert_int_equal(post_invocations(g_port, NULL, host, "null", q, NULL), 403);
    char origin[128];
    snprintf(origin, sizeof origin, "http://localhost:%d", g_port);
    assert_int_equal(post_invocations(g_port, NULL, host, origin, q, NULL), 200);
    assert_int_equal(post_invocations(g_port, NULL, host, NULL, q, NULL), 200); // curl, scripts
    alarm(0);
}

// Item 8: framing a proxy could read differently, %00, ill-formed UTF-8 in an error.
static void test_framing(void **state)
{
    (void)state;
    alarm(60);
    const char *json = "{\"inputs\": {\"query\": [\"a\"]}}";
    const char *smuggled = "GET /api/search?q=smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char req[1024];
    bool closed;
    // two Content-Lengths, the second covering a smuggled request: one 400, then the end
    int n = snprintf(req, sizeof req,
                     "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s%s",
                     strlen(json), strlen(json) + strlen(smuggled), json, smuggled);
    char *r = exchange(NULL, g_port, req, (size_t)n, 5, &closed);
    assert_int_equal(status_of(r), 400);
    assert_int_equal(count_of(r, "HTTP/1.1 "), 1);
    assert_non_null(strstr(r, "duplicate Content-Length"));
    assert_true(closed);
    free(r);
    // equal duplicates too
    n = snprintf(req, sizeof req,
                 "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 "application/json\r\nContent-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s",
                 strlen(json), strlen(json), json);
    r = exchange(NULL, g_port, req, (size_t)n, 5, &closed);
    assert_int_equal(status_of(r), 400);
    free(r);
    // Content-Length and Transfer-Encoding at once
    n = snprintf(req, sizeof req,
                 "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 "application/json\r\nContent-Length: %zu\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "%zx\r\n%s\r\n0\r\n\r\n%s",
                 strlen(json), strlen(json), json, smuggled);
    r = exchange(NULL, g_port, req, (size_t)n, 5, &closed);
    assert_int_equal(status_of(r), 400);
    assert_int_equal(count_of(r, "HTTP/1.1 "), 1);
    assert_true(closed);
    free(r);
    // chunked alone is fine
    n = snprintf(req, sizeof req,
                 "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                 "application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 "%zx\r\n%s\r\n0\r\n\r\n",
                 strlen(json), json);
    r = exchange(NULL, g_port, req, (size_t)n, 10, &closed);
    assert_int_equal(status_of(r), 200);
    free(r);
    // two Host headers; HTTP/1.1 without one
    const char *two = "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\n\r\n";
    r = exchange(NULL, g_port, two, strlen(two), 5, &closed);
    assert_int_equal(status_of(r), 400);
    free(r);
    const char *none = "GET /ping HTTP/1.1\r\n\r\n";
    r = exchange(NULL, g_port, none, strlen(none), 5, &closed);
    assert_int_equal(status_of(r), 400);
    free(r);
    // a NUL in the path would cut it to a file that exists
    char *b = NULL;
    assert_int_equal(get_with_host(g_port, "/static/app.js%00.png", "127.0.0.1", NULL, &b), 400);
    assert_null(strstr(b, "text/javascript"));
    free(b);
    assert_int_equal(get_with_host(g_port, "/api/search?q=over%2060%00x", "127.0.0.1", NULL, NULL),
                     400);
    // an error that echoes ill-formed bytes is still valid UTF-8 (so valid JSON)
    assert_int_equal(get_with_host(g_port, "/static/%ff%fe", "127.0.0.1", NULL, &b), 404);
    const char *doc = strstr(b, "\r\n\r\n");
    assert_non_null(doc);
    cJSON *j = cJSON_Parse(doc + 4);
    assert_non_null(j);
    const char *msg = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message")->valuestring;
    assert_non_null(strstr(msg, "'\xef\xbf\xbd\xef\xbf\xbd'"));
    cJSON_Delete(j);
    free(b);
    alarm(0);
}

// Opens 256 connections from 127.0.0.22 and 256 more from 127.0.0.2..17 (16 each) that each
// send one byte of a request line every second, for up to secs seconds or until all are closed, probing /ping
// from 127.0.0.1 every 0.5 s. Returns the longest time /ping went unanswered (from the start or
// from the previous answer to the next answer, in seconds) and, in *closed_at, when the last
// slow connection was closed by the server (-1: not all were).
static double slow_clients(double secs, double *closed_at)
{
    const int n = 512;
    int *fd = calloc((size_t)n, sizeof *fd);
    char src[32];
    double t0 = now_s(), worst = 0, next_byte = t0, next_ping = t0 + 0.3, last_ok = t0;
    for (int i = 0; i < n; i++) {
        snprintf(src, sizeof src, "127.0.0.%d", i < 256 ? 22 : 2 + i % 16);
        fd[i] = dial(src, g_port, true);
        if (fd[i] < 0) fail_msg("cannot open slow connection %d from %s", i, src);
    }
    *closed_at = -1;
    size_t pos = 0;
    const char *line = "GET /ping HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    while (now_s() - t0 < secs) {
        int open = 0;
        for (int i = 0; i < n; i++) {
            if (fd[i] < 0) continue;
            char c;
            ssize_t k = recv(fd[i], &c, 1, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(fd[i]); // the server closed it (deadline, or a connection cap)
                fd[i] = -1;
                continue;
            }
            open++;
        }
        if (open == 0) {
            *closed_at = now_s() - t0;
            break;
        }
        if (now_s() >= next_byte) {
            for (int i = 0; i < n; i++) {
                if (fd[i] >= 0) send(fd[i], line + pos % strlen(line), 1, MSG_NOSIGNAL);
            }
            pos++;
            next_byte += 1.0;
        }
        if (now_s() >= next_ping) {
            char *b = NULL;
            int st = ping(&b);
            free(b);
            if (st == 200) {
                if (now_s() - last_ok > worst) worst = now_s() - last_ok;
                last_ok = now_s();
            }
            next_ping = now_s() + 0.5;
        }
        usleep(20000);
    }
    for (int i = 0; i < n; i++) {
        if (fd[i] >= 0) close(fd[i]);
    }
    free(fd);
    return now_s() - last_ok > worst + 0.6 ? now_s() - last_ok : worst; // unanswered at the end
}

// Item 2: slow clients. 512 connections trickling headers (each byte would restart an idle
// timeout), 256 from one address and 256 from sixteen, must not lock out /ping: the
// per-address cap holds the first to 32, the connection limit leaves room beside all of them,
// and their 10 s deadline ends them.
static void test_slow_clients(void **state)
{
    (void)state;
    alarm(60);
    double closed_at = 0;
    double worst = slow_clients(16, &closed_at);
    if (worst > 1.5 || closed_at < 8 || closed_at > 13) {
        fail_msg("/ping unanswered for %.2f s, all closed at %.2f s (deadline 10 s)", worst,
                 closed_at);
    }
    char *m = NULL;
    assert_int_equal(get_with_host(g_port, "/metrics", "127.0.0.1", NULL, &m), 200);
    assert_null(strstr(m, "prospect_http_refused_total{reason=\"deadline\"} 0\n"));
    free(m);
    alarm(0);
}

struct heavy {
    const char *src;
    int status;
};

static void *heavy_client(void *arg)
{
    struct heavy *h = arg;
    char json[8192] = "{\"inputs\": {\"query\": [";
    for (int i = 0; i < 40; i++) {
        size_t n = strlen(json);
        snprintf(json + n, sizeof json - n, "%s\"customers over %d with savings\"", i ? ", " : "",
                 20 + i);
    }
    strcat(json, "]}, \"params\": {\"top_n\": 50}}");
    h->status = post_invocations(g_port, h->src, "127.0.0.1", NULL, json, NULL);
    return NULL;
}

// Item 2: heavy clients. 50 parallel 40-query /invocations run on the workers; /ping, on the
// I/O threads, keeps answering.
static void test_heavy_clients(void **state)
{
    (void)state;
    alarm(120);
    pthread_t t[50];
    struct heavy h[50];
    for (int i = 0; i < 50; i++) {
        h[i].src = i % 2 ? "127.0.0.40" : "127.0.0.41"; // 25 each: under the per-address cap
        assert_int_equal(pthread_create(&t[i], NULL, heavy_client, &h[i]), 0);
    }
    double worst = 0;
    for (int k = 0; k < 6; k++) {
        usleep(100000);
        double t0 = now_s();
        assert_int_equal(get_with_host(g_port, "/ping", "127.0.0.1", NULL, NULL), 200);
        if (now_s() - t0 > worst) worst = now_s() - t0;
    }
    for (int i = 0; i < 50; i++) {
        pthread_join(t[i], NULL);
        if (h[i].status != 200 && h[i].status != 503) {
            fail_msg("/invocations %d from %s: status %d", i, h[i].src, h[i].status);
        }
    }
    if (worst > 1.0) fail_msg("/ping took %.2f s while 50 /invocations ran", worst);
    alarm(0);
}

// Item 2: the key is checked from the headers, before a body is read; the request budget.
static void test_key_before_body_and_budget(void **state)
{
    (void)state;
    alarm(60);
    char args[1024], *out = NULL, *err = NULL, log[512];
    snprintf(args, sizeof args, "keys create --db %s --name guard", g_db);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("keys create: %s", err);
    out[strcspn(out, "\n")] = '\0';
    char token[128];
    snprintf(token, sizeof token, "%s", out);
    free(out);
    free(err);
    snprintf(log, sizeof log, "%s/serve-keys.log", g_dir);
    const char *argv[] = {"serve", "--db", g_db, "--port", "0", "--embedder", "/nonexistent",
                          "--require-keys", "--rate", "2", NULL};
    int port = 0;
    pid_t pid = th_serve(argv, log, &port);
    // 1 MiB announced, none sent: the 401 comes at once, and the connection closes
    const char *hdr = "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "application/json\r\nContent-Length: 1048576\r\n\r\n";
    bool closed;
    double t0 = now_s();
    char *r = exchange("127.0.0.5", port, hdr, strlen(hdr), 5, &closed);
    assert_int_equal(status_of(r), 401);
    assert_true(closed);
    assert_true(now_s() - t0 < 3);
    free(r);
    // --rate 2: a burst of 8, then 429 with Retry-After
    char extra[256];
    snprintf(extra, sizeof extra, "Authorization: Bearer %s\r\n", token);
    int n_ok = 0, n_429 = 0;
    for (int i = 0; i < 12; i++) {
        char *b = NULL;
        int st = get_with_host(port, "/api/schema", "127.0.0.1", extra, &b);
        n_ok += st == 200;
        if (st == 429) {
            n_429++;
            assert_non_null(strstr(b, "Retry-After: "));
        }
        free(b);
    }
    if (n_ok < 8 || n_ok > 9 || n_429 + n_ok != 12) fail_msg("%d answered, %d 429", n_ok, n_429);
    assert_int_equal(get_with_host(port, "/ping", "127.0.0.1", NULL, NULL), 200); // not budgeted
    assert_int_equal(th_stop(pid), 0);
    alarm(0);
}

// Item 6: --bind.
static void test_bind(void **state)
{
    (void)state;
    alarm(60);
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "serve --db %s --bind foo.invalid --port 0", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "--bind foo.invalid: the name does not resolve"));
    assert_null(strstr(err, "listening"));
    free(out);
    free(err);
    // a free port, asked for by number: that is the one printed and answered on
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    assert_int_equal(bind(probe, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(probe, (struct sockaddr *)&a, &al);
    int want = ntohs(a.sin_port);
    close(probe);
    char log[512], port_s[16];
    snprintf(log, sizeof log, "%s/serve-bind.log", g_dir);
    snprintf(port_s, sizeof port_s, "%d", want);
    const char *argv[] = {"serve", "--db", g_db, "--bind", "localhost", "--port", port_s,
                          "--embedder", "/nonexistent", NULL};
    int port = 0;
    pid_t pid = th_serve(argv, log, &port);
    assert_int_equal(port, want);
    size_t len = 0;
    char *text = NULL;
    {
        FILE *f = fopen(log, "rb");
        assert_non_null(f);
        text = calloc(1, 1 << 16);
        len = fread(text, 1, (1 << 16) - 1, f);
        fclose(f);
    }
    char line[128];
    snprintf(line, sizeof line, "listening on http://localhost:%d (127.0.0.1; ", want);
    if (strstr(text, line) == NULL) fail_msg("want '%s' in: %.*s", line, (int)len, text);
    free(text);
    char host[64];
    snprintf(host, sizeof host, "localhost:%d", want);
    assert_int_equal(get_with_host(want, "/ping", host, NULL, NULL), 200);
    // the same port again: in use, so the second server fails instead of moving elsewhere
    snprintf(args, sizeof args, "serve --db %s --port %d --embedder /nonexistent", g_db, want);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "cannot listen on 127.0.0.1 port"));
    free(out);
    free(err);
    assert_int_equal(th_stop(pid), 0);
    alarm(0);
}

// last: after all of the above the server still stops with exit 0 (under the ASan tree: no
// leak, no bad access)
static void test_sigterm(void **state)
{
    (void)state;
    assert_int_equal(th_stop(g_pid), 0);
    g_pid = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_header),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_slow_clients),
        cmocka_unit_test(test_heavy_clients),
        cmocka_unit_test(test_key_before_body_and_budget),
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
