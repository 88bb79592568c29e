// webhook.h — POSTing a JSON document to a URL (libcurl), with bounded retries and exponential
// back-off; the one place prospect sends anything out on its own (saved-search alerts).
//
// Only http:// and https:// URLs (checked before anything is sent, and libcurl is told to speak
// no other protocol and follow no redirect); each attempt is time-limited; a 2xx status is a
// delivery, anything else (another status, a refused connection, a timeout) is retried after
// the back-off until the attempts run out. Every attempt is reported to the caller's callback
// before the next one starts, so the caller can record it (the app audits each one).
//
// Threads: any thread may post; libcurl's global state is set up once (pthread_once).
#ifndef PX_WEBHOOK_H
#define PX_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct webhook_params {
    int max_attempts; // 1..LIMIT_WEBHOOK_ATTEMPTS (default LIMIT_WEBHOOK_ATTEMPTS)
    long base_ms;     // delay before the second attempt (default 1000); doubles each time
    long max_ms;      // the longest delay (default 30000)
    long timeout_ms;  // one attempt, connection included (default 5000)
};

struct webhook_params webhook_default_params(void);

// The delay before attempt `attempt` (1-based): 0 for the first, then base_ms * 2^(attempt-2),
// at most max_ms.
long webhook_backoff_ms(const struct webhook_params *p, int attempt);

// PX_OK when url is an http:// or https:// URL with a host, at most LIMIT_WEBHOOK_URL bytes,
// without spaces or control bytes; PX_EINVAL naming what is wrong otherwise.
int webhook_check_url(const char *url, struct px_err *err);

struct webhook_attempt {
    int attempt;      // 1-based
    long delay_ms;    // waited before it
    long http_status; // 0 when no answer came
    bool delivered;   // a 2xx answer
    char error[256];  // why it failed ("" when delivered)
};

// Called after each attempt; a non-PX_OK return stops the delivery and is returned.
typedef int (*webhook_attempt_fn)(const struct webhook_attempt *a, void *user, struct px_err *err);

// POSTs body (len bytes, Content-Type: application/json) to url, retrying as above. *delivered
// says whether an attempt got a 2xx. An undelivered document is PX_OK (the attempts say why);
// errors are a bad URL (PX_EINVAL), libcurl that cannot start (PX_ENOMEM / PX_EIO) or fn's.
int webhook_post(const char *url, const char *body, size_t len, const struct webhook_params *p,
                 webhook_attempt_fn fn, void *user, bool *delivered, struct px_err *err);

#endif
