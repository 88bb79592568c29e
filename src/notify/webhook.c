// webhook.c — JSON POST with bounded retries (webhook.h).
//
// Design:
//   - libcurl allocates through px_malloc (curl_global_init_mem, once), so its memory is
//     counted and fault injection reaches it like SQLite's.
//   - One easy handle per delivery, reused across its attempts; CURLOPT_PROTOCOLS_STR
//     "http,https", no redirects (a 3xx is a failed attempt), CURLOPT_NOSIGNAL (threads), the
//     answer's body discarded (only the status matters), a total time limit per attempt.
//   - The back-off sleeps with nanosleep between attempts; the schedule is a pure function
//     (webhook_backoff_ms) so it is tested without waiting.
#include "webhook.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "limits.h"
#include "mem.h"

struct webhook_params webhook_default_params(void)
{
    return (struct webhook_params){LIMIT_WEBHOOK_ATTEMPTS, 1000, 30000, 5000};
}

long webhook_backoff_ms(const struct webhook_params *p, int attempt)
{
    if (attempt <= 1) return 0;
    long d = p->base_ms;
    for (int i = 2; i < attempt && d < p->max_ms; i++) {
        d *= 2;
    }
    return d < p->max_ms ? d : p->max_ms;
}

int webhook_check_url(const char *url, struct px_err *err)
{
    size_t n = strlen(url);
    size_t scheme = strncasecmp(url, "http://", 7) == 0    ? 7
                    : strncasecmp(url, "https://", 8) == 0 ? 8
                                                           : 0;
    if (scheme == 0) {
        return px_fail(err, PX_EINVAL, "webhook URL '%.80s' must start with http:// or https://",
                       url);
    }
    if (n > LIMIT_WEBHOOK_URL) {
        return px_fail(err, PX_ELIMIT, "webhook URL is %zu bytes, at most %d", n,
                       LIMIT_WEBHOOK_URL);
    }
    if (url[scheme] == '\0' || url[scheme] == '/' || url[scheme] == ':') {
        return px_fail(err, PX_EINVAL, "webhook URL '%.80s' has no host", url);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f) {
            return px_fail(err, PX_EINVAL, "webhook URL has a space or control byte at byte %zu",
                           i + 1);
        }
    }
    return PX_OK;
}

static void *cu_malloc(size_t n) { return px_malloc(n); }
static void cu_free(void *p) { px_free(p); }
static void *cu_realloc(void *p, size_t n) { return px_realloc(p, n); }
static char *cu_strdup(const char *s) { return px_strdup(s); }
static void *cu_calloc(size_t a, size_t b) { return px_calloc(a, b); }

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init = CURLE_FAILED_INIT;
static void init_once(void)
{
    g_init = curl_global_init_mem(CURL_GLOBAL_DEFAULT, cu_malloc, cu_free, cu_realloc, cu_strdup,
                                  cu_calloc);
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int webhook_post(const char *url, const char *body, size_t len, const struct webhook_params *p,
                 webhook_attempt_fn fn, void *user, bool *delivered, struct px_err *err)
{
    struct webhook_params dp = webhook_default_params();
    if (p == NULL) p = &dp;
    *delivered = false;
    int rc = webhook_check_url(url, err);
    if (rc != PX_OK) return rc;
    if (p->max_attempts < 1 || p->max_attempts > LIMIT_WEBHOOK_ATTEMPTS) {
        return px_fail(err, PX_EINVAL, "webhook attempts must be 1..%d", LIMIT_WEBHOOK_ATTEMPTS);
    }
    pthread_once(&g_once, init_once);
    if (g_init != CURLE_OK) {
        return px_fail(err, PX_EIO, "libcurl did not start: %s", curl_easy_strerror(g_init));
    }
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (h == NULL || hdr == NULL) {
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        return px_fail(err, PX_ENOMEM, "out of memory starting a webhook delivery");
    }
    char cerr[CURL_ERROR_SIZE];
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "prospect/" PX_VERSION);
    for (int k = 1; rc == PX_OK && k <= p->max_attempts && !*delivered; k++) {
        struct webhook_attempt a = {.attempt = k, .delay_ms = webhook_backoff_ms(p, k)};
        if (a.delay_ms > 0) sleep_ms(a.delay_ms);
        cerr[0] = '\0';
        CURLcode cc = curl_easy_perform(h);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.http_status);
            a.delivered = a.http_status >= 200 && a.http_status < 300;
            if (!a.delivered) {
                snprintf(a.error, sizeof a.error, "HTTP status %ld", a.http_status);
            }
        } else if (cc == CURLE_OUT_OF_MEMORY) {
            rc = px_fail(err, PX_ENOMEM, "out of memory sending a webhook");
            break;
        } else {
            snprintf(a.error, sizeof a.error, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        }
        *delivered = a.delivered;
        if (fn != NULL) rc = fn(&a, user, err);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}
