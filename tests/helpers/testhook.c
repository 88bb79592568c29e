// testhook.c — the loopback webhook receiver (testhook.h). One connection at a time: read the
// headers, then Content-Length bytes of body, answer "HTTP/1.1 <status>" with an empty body
// and close. Polls its socket so th_hook_stop ends it within 50 ms.
#include "testhook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct th_hook {
    int fd;
    int statuses[TH_HOOK_MAX];
    size_t n_statuses;
    char *bodies[64];
    size_t n;
    bool stop;
    pthread_mutex_t mu;
    pthread_t thread;
};

static void serve_one(struct th_hook *h, int c)
{
    char buf[1 << 16];
    size_t len = 0;
    char *end = NULL;
    while (len < sizeof buf - 1 && (end = strstr(buf, "\r\n\r\n")) == NULL) {
        ssize_t k = read(c, buf + len, sizeof buf - 1 - len);
        if (k <= 0) return;
        len += (size_t)k;
        buf[len] = '\0';
    }
    if (end == NULL) return;
    size_t want = 0;
    for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, "Content-Length:", 15) == 0) want = (size_t)strtoul(p + 15, NULL, 10);
        if (strstr(p, "\r\n") == NULL) break;
    }
    size_t have = len - (size_t)(end + 4 - buf);
    while (have < want && len < sizeof buf - 1) {
        ssize_t k = read(c, buf + len, sizeof buf - 1 - len);
        if (k <= 0) break;
        len += (size_t)k;
        have += (size_t)k;
    }
    buf[len] = '\0';
    pthread_mutex_lock(&h->mu);
    size_t i = h->n;
    int status = h->statuses[i < h->n_statuses ? i : h->n_statuses - 1];
    if (h->n < sizeof h->bodies / sizeof h->bodies[0]) {
        h->bodies[h->n++] = strdup(end + 4);
    }
    pthread_mutex_unlock(&h->mu);
    char ans[128];
    int n = snprintf(ans, sizeof ans,
                     "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    if (write(c, ans, (size_t)n) < 0) { // the client may have given up: nothing to do
    }
}

static void *run(void *user)
{
    struct th_hook *h = user;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        bool stop = h->stop;
        pthread_mutex_unlock(&h->mu);
        if (stop) break;
        struct pollfd p = {h->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(h->fd, NULL, NULL);
        if (c < 0) continue;
        serve_one(h, c);
        close(c);
    }
    return NULL;
}

struct th_hook *th_hook_start(const int *statuses, size_t n, int *port)
{
    struct th_hook *h = calloc(1, sizeof *h);
    if (h == NULL || n == 0 || n > TH_HOOK_MAX) abort();
    memcpy(h->statuses, statuses, n * sizeof *statuses);
    h->n_statuses = n;
    pthread_mutex_init(&h->mu, NULL);
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(h->fd, 16) != 0 ||
        getsockname(h->fd, (struct sockaddr *)&a, &al) != 0) {
        abort();
    }
    *port = ntohs(a.sin_port);
    if (pthread_create(&h->thread, NULL, run, h) != 0) abort();
    return h;
}

size_t th_hook_count(struct th_hook *h)
{
    pthread_mutex_lock(&h->mu);
    size_t n = h->n;
    pthread_mutex_unlock(&h->mu);
    return n;
}

const char *th_hook_body(struct th_hook *h, size_t i)
{
    pthread_mutex_lock(&h->mu);
    const char *b = i < h->n ? h->bodies[i] : NULL;
    pthread_mutex_unlock(&h->mu);
    return b;
}

void th_hook_stop(struct th_hook *h)
{
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    close(h->fd);
    for (size_t i = 0; i < h->n; i++) free(h->bodies[i]);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
