// testhook.h — a webhook receiver on loopback for the alert tests: a thread that accepts HTTP
// requests on 127.0.0.1 (a free port), answers each with the next status of a script (the last
// one repeats), and keeps every request's body.
#ifndef PX_TESTHOOK_H
#define PX_TESTHOOK_H

#include <stddef.h>

#define TH_HOOK_MAX 16

struct th_hook;

// Starts the receiver; statuses: (n, 1..TH_HOOK_MAX) the answers in order. *port: its port.
struct th_hook *th_hook_start(const int *statuses, size_t n, int *port);
// Requests received so far, and the body of request i (borrowed until th_hook_stop).
size_t th_hook_count(struct th_hook *h);
const char *th_hook_body(struct th_hook *h, size_t i);
// Stops the thread and frees everything.
void th_hook_stop(struct th_hook *h);

#endif
