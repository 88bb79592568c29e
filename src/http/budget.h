// budget.h — request budgets: one token bucket per client (an API key, or the address of a
// client without one), so one client cannot take every worker. A bucket holds up to `burst`
// requests and refills at `rate` per second; a request takes one token or is refused (429).
//
// Bounded: at most LIMIT_HTTP_BUDGETS clients are tracked at once. A client whose bucket has
// refilled carries no state, so its slot is reused; when every slot is in use the request
// passes (the connection limits still hold), and the refusal is left to those limits.
//
// Thread-safety: one mutex; budget_take may be called from any thread.
#ifndef PX_BUDGET_H
#define PX_BUDGET_H

#include <stdbool.h>

#include "err.h"

struct budget;

// rate requests per second (0: no budget, budget_take always passes), burst the bucket's size
// (>= 1). Returns owned *out (budget_free).
int budget_new(double rate, double burst, struct budget **out, struct px_err *err);
void budget_free(struct budget *b);
// Takes one request from who's bucket at time now (monotonic seconds). false when it is empty;
// *retry_s (may be NULL) then receives the seconds until a token is back (>= 1).
bool budget_take(struct budget *b, const char *who, double now, unsigned *retry_s);

#endif
