// budget.c — token buckets in a fixed open-addressed table (see budget.h).
//
// Slot of a client: FNV-1a of its name, then linear probing under one mutex (a request takes
// well under a microsecond here; the handlers take milliseconds). A slot, once used, is never
// emptied, so a probe that meets an empty slot knows the client is not further on; a used slot
// whose bucket would be full again by now is taken over by a new client (a full bucket is the
// state a new client starts in, so nothing is lost).
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "budget.h"
#include "limits.h"
#include "mem.h"

#define WHO_MAX 64 // "key:<12 hex>" or "ip:<IPv6 text>"

struct bucket {
    char who[WHO_MAX]; // "" when empty
    double tokens;     // at `at`
    double at;         // monotonic seconds
};

struct budget {
    double rate, burst;
    pthread_mutex_t lock;
    struct bucket slot[LIMIT_HTTP_BUDGETS];
};

int budget_new(double rate, double burst, struct budget **out, struct px_err *err)
{
    *out = NULL;
    if (!(rate >= 0) || !(burst >= 1)) {
        return px_fail(err, PX_EINVAL, "a request budget needs rate >= 0 and burst >= 1");
    }
    struct budget *b = px_calloc(1, sizeof *b);
    if (b == NULL) return px_fail(err, PX_ENOMEM, "out of memory for the request budgets");
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        px_free(b);
        return px_fail(err, PX_EINTERNAL, "pthread_mutex_init failed");
    }
    b->rate = rate;
    b->burst = burst;
    *out = b;
    return PX_OK;
}

void budget_free(struct budget *b)
{
    if (b == NULL) return;
    pthread_mutex_destroy(&b->lock);
    px_free(b);
}

static double level(const struct budget *b, const struct bucket *k, double now)
{
    double t = k->tokens + (now - k->at) * b->rate;
    return t < b->burst ? t : b->burst;
}

bool budget_take(struct budget *b, const char *who, double now, unsigned *retry_s)
{
    if (b == NULL || b->rate <= 0) return true;
    uint32_t h = 2166136261u;
    for (const char *p = who; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    pthread_mutex_lock(&b->lock);
    struct bucket *hit = NULL, *free_slot = NULL;
    for (size_t i = 0; i < LIMIT_HTTP_BUDGETS && hit == NULL; i++) {
        struct bucket *k = &b->slot[(h + i) % LIMIT_HTTP_BUDGETS];
        if (k->who[0] == '\0') { // slots are never emptied, so who is not further on
            if (free_slot == NULL) free_slot = k;
            break;
        }
        if (strncmp(k->who, who, WHO_MAX - 1) == 0) {
            hit = k;
        } else if (free_slot == NULL && level(b, k, now) >= b->burst) {
            free_slot = k;
        }
    }
    bool ok = true;
    if (hit == NULL && free_slot != NULL) {
        hit = free_slot;
        strncpy(hit->who, who, WHO_MAX - 1);
        hit->who[WHO_MAX - 1] = '\0';
        hit->tokens = b->burst;
        hit->at = now;
    }
    if (hit != NULL) {
        double t = level(b, hit, now);
        hit->at = now;
        if (t >= 1) {
            hit->tokens = t - 1;
        } else {
            hit->tokens = t;
            ok = false;
            if (retry_s != NULL) *retry_s = (unsigned)ceil((1 - t) / b->rate);
            if (retry_s != NULL && *retry_s < 1) *retry_s = 1;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return ok;
}
