// buf.h — bounded growable byte buffer (curl's dynbuf idea: created with its maximum).
#ifndef PX_BUF_H
#define PX_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct buf {
    char *data; // owned; NUL-terminated when len > 0 (for text use); NULL until first append
    size_t len; // bytes used, excluding the terminating NUL
    size_t cap; // bytes allocated
    size_t max; // maximum len; appending past it fails with PX_ELIMIT
};

// Cannot fail: allocates nothing until the first append.
void buf_init(struct buf *b, size_t max);
// Appends n bytes; PX_ENOMEM or PX_ELIMIT (b unchanged) on failure.
int buf_append(struct buf *b, const void *p, size_t n, struct px_err *err);
int buf_printf(struct buf *b, struct px_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
// Empties the buffer, keeping its memory.
void buf_reset(struct buf *b);
// Returns owned data (px_free) and leaves b empty; NULL when nothing was appended.
char *buf_take(struct buf *b);
void buf_free(struct buf *b);

#endif
