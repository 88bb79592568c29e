// logx.h — logging through a sink the front end sets. Library code logs, never prints: with no
// sink set, messages are dropped.
#ifndef PX_LOGX_H
#define PX_LOGX_H

enum logx_level { LOGX_ERROR = 0, LOGX_WARN = 1, LOGX_INFO = 2, LOGX_DEBUG = 3 };

typedef void (*logx_sink_fn)(int level, const char *msg, void *user);

// Sets the process-wide sink (NULL drops everything) and the most verbose level passed to it.
// Call once at start-up, before other threads exist.
void logx_set_sink(logx_sink_fn fn, void *user, int max_level);
void logx(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
