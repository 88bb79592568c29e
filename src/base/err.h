// err.h — status codes and the error record every fallible call fills.
//
// Every function that can fail returns an int from enum px_status (PX_OK == 0) and, when given
// a non-NULL struct px_err *, writes one line saying what went wrong and where (file, tensor,
// row, field, byte). Library code never prints: the front end decides what to show.
#ifndef PX_ERR_H
#define PX_ERR_H

#include <stddef.h>

// Values are numbered and never renumbered: they appear in logs and exit paths.
enum px_status {
    PX_OK = 0,           // 0: success
    PX_EINVAL = 1,       // 1: bad argument or malformed input text
    PX_ENOMEM = 2,       // 2: allocation failed
    PX_EIO = 3,          // 3: read/write/mmap failed
    PX_ENOENT = 4,       // 4: a file or directory is missing
    PX_EFORMAT = 5,      // 5: a file's content does not follow its format
    PX_ELIMIT = 6,       // 6: a maximum from limits.h was exceeded
    PX_EUTF8 = 7,        // 7: invalid UTF-8
    PX_ESHAPE = 8,       // 8: tensor name, dtype or shape differs from the declaration
    PX_ENOWEIGHTS = 9,   // 9: a model directory has no weights file
    PX_EUNSUPPORTED = 10, // 10: valid, but a feature we do not implement
    PX_EINTERNAL = 11,    // 11: a bug: an invariant did not hold
    PX_EAUTH = 12,        // 12: missing, unknown or revoked credentials
};

// 1024 rather than curl's 256: messages carry file paths, the offending value and, for a
// missing model, how to get it.
#define PX_ERR_MSG_MAX 1024

struct px_err {
    int code;                 // enum px_status
    char msg[PX_ERR_MSG_MAX]; // NUL-terminated, one line, no trailing newline
};

// Fills err (when not NULL) with code and a printf-style message; returns code, so a failure
// is one line: `return px_fail(err, PX_EINVAL, "line %zu: ...", i);`
int px_fail(struct px_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// Prepends "<context>: " to the message already in err (keeps its code); returns err->code.
// Used to add the outer context (a file name) to an error raised deeper down.
int px_err_prefix(struct px_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Resets err to PX_OK with an empty message. NULL is a no-op.
void px_err_clear(struct px_err *err);

// Short fixed name of a status ("invalid argument", ...); never NULL.
const char *px_status_str(int code);

#endif
