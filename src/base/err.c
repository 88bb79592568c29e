// err.c — px_fail and friends. Messages are truncated at PX_ERR_MSG_MAX - 1 bytes; a truncated
// message ends in "..." so a reader can tell.
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void mark_truncated(char *msg, int n)
{
    if (n >= PX_ERR_MSG_MAX) {
        memcpy(msg + PX_ERR_MSG_MAX - 4, "...", 4);
    }
}

int px_fail(struct px_err *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n < 0) {
            err->msg[0] = '\0';
        }
        mark_truncated(err->msg, n);
        err->code = code;
    }
    return code;
}

int px_err_prefix(struct px_err *err, const char *fmt, ...)
{
    if (err == NULL) {
        return PX_EINTERNAL;
    }
    char old[PX_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
        err->msg[0] = '\0';
    }
    if ((size_t)n < sizeof err->msg) {
        int m = snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", old);
        mark_truncated(err->msg, n + m);
    } else {
        mark_truncated(err->msg, n);
    }
    return err->code;
}

void px_err_clear(struct px_err *err)
{
    if (err != NULL) {
        err->code = PX_OK;
        err->msg[0] = '\0';
    }
}

const char *px_status_str(int code)
{
    switch (code) {
    case PX_OK: return "ok";
    case PX_EINVAL: return "invalid input";
    case PX_ENOMEM: return "out of memory";
    case PX_EIO: return "i/o error";
    case PX_ENOENT: return "not found";
    case PX_EFORMAT: return "malformed file";
    case PX_ELIMIT: return "limit exceeded";
    case PX_EUTF8: return "invalid UTF-8";
    case PX_ESHAPE: return "tensor mismatch";
    case PX_ENOWEIGHTS: return "model weights missing";
    case PX_EUNSUPPORTED: return "unsupported";
    case PX_EINTERNAL: return "internal error";
    case PX_EAUTH: return "not authorised";
    default: return "unknown status";
    }
}
