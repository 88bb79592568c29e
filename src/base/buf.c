// buf.c — see buf.h. Capacity doubles; the NUL terminator is always kept so text users can
// treat data as a C string.
#include "buf.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int buf_reserve(struct buf *b, size_t extra, struct px_err *err)
{
    if (extra > b->max - b->len || b->len + extra > b->max) {
        return px_fail(err, PX_ELIMIT, "buffer limit of %zu bytes exceeded", b->max);
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return PX_OK;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    }
    char *p = px_realloc(b->data, cap);
    if (p == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    }
    b->data = p;
    b->cap = cap;
    return PX_OK;
}

int buf_append(struct buf *b, const void *p, size_t n, struct px_err *err)
{
    int rc = buf_reserve(b, n, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return PX_OK;
}

int buf_printf(struct buf *b, struct px_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return px_fail(err, PX_EINVAL, "bad format string");
    }
    int rc = buf_reserve(b, (size_t)n, err);
    if (rc != PX_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PX_OK;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

char *buf_take(struct buf *b)
{
    char *p = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void buf_free(struct buf *b)
{
    px_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
