// logx.c — see logx.h. Messages are formatted into a stack buffer (one line, truncated at 1 KiB).
#include "logx.h"

#include <stdarg.h>
#include <stdio.h>

static logx_sink_fn g_sink;
static void *g_user;
static int g_max_level = LOGX_WARN;

void logx_set_sink(logx_sink_fn fn, void *user, int max_level)
{
    g_sink = fn;
    g_user = user;
    g_max_level = max_level;
}

void logx(int level, const char *fmt, ...)
{
    if (g_sink == NULL || level > g_max_level) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_sink(level, msg, g_user);
}
