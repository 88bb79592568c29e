// cli_util.c — helpers shared by the subcommands (see cli.h).
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "fsx.h"
#include "limits.h"
#include "mem.h"

int g_cli_verbose;

int cli_fail(const char *cmd, const struct px_err *err)
{
    fflush(stdout); // keep what was already printed ahead of the error
    fprintf(stderr, "prospect %s: error: %s\n", cmd, err->msg[0] ? err->msg : px_status_str(err->code));
    return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "prospect %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'prospect %s --help'.\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

bool cli_parse_int(const char *s, int lo, int hi, int *out)
{
    if (s == NULL || *s == '\0') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = (int)v;
    return true;
}

// Decimal unsigned 64-bit value in [0, max]; false on a sign, spaces, junk or overflow.
bool cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || !isdigit((unsigned char)s[0])) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static int read_fd(int fd, const char *name, struct buf *b, struct px_err *err)
{
    char chunk[1 << 16];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return px_fail(err, PX_EIO, "cannot read %s: %s", name, strerror(errno));
        }
        if (r == 0) {
            return PX_OK;
        }
        int rc = buf_append(b, chunk, (size_t)r, err);
        if (rc == PX_ELIMIT) {
            return px_fail(err, PX_ELIMIT, "%s is larger than the input limit of %llu bytes", name,
                           (unsigned long long)LIMIT_EMBED_INPUT_BYTES);
        }
        if (rc != PX_OK) {
            return rc;
        }
    }
}

int cli_read_lines(const char *path, struct cli_lines *lines, struct px_err *err)
{
    int rc = PX_OK;
    struct buf b;
    int fd = -1;
    const char *name = path && strcmp(path, "-") != 0 ? path : "standard input";
    memset(lines, 0, sizeof *lines);
    buf_init(&b, (size_t)LIMIT_EMBED_INPUT_BYTES);
    if (path != NULL && strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return px_fail(err, errno == ENOENT ? PX_ENOENT : PX_EIO, "cannot open '%s': %s", path,
                           strerror(errno));
        }
    }
    rc = read_fd(fd >= 0 ? fd : STDIN_FILENO, name, &b, err);
    if (fd >= 0) {
        close(fd);
    }
    if (rc != PX_OK) {
        goto done;
    }
    lines->size = b.len;
    lines->data = buf_take(&b);
    size_t n = 0;
    for (size_t i = 0; i < lines->size; i++) {
        n += lines->data[i] == '\n';
    }
    if (lines->size > 0 && lines->data[lines->size - 1] != '\n') {
        n++;
    }
    if (n > LIMIT_EMBED_TEXTS) {
        rc = px_fail(err, PX_ELIMIT, "%s has %zu lines, over the limit of %u", name, n,
                     LIMIT_EMBED_TEXTS);
        goto done;
    }
    lines->text = px_malloc((n ? n : 1) * sizeof *lines->text);
    lines->len = px_malloc((n ? n : 1) * sizeof *lines->len);
    if (lines->text == NULL || lines->len == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory splitting %zu lines", n);
        goto done;
    }
    size_t start = 0;
    for (size_t i = 0; i <= lines->size && lines->n < n; i++) {
        if (i == lines->size || lines->data[i] == '\n') {
            size_t len = i - start;
            if (len > 0 && lines->data[start + len - 1] == '\r') {
                len--;
            }
            if (len > LIMIT_TEXT_BYTES) {
                rc = px_fail(err, PX_ELIMIT, "line %zu: %zu bytes, over the limit of %u per text",
                             lines->n + 1, len, LIMIT_TEXT_BYTES);
                goto done;
            }
            lines->text[lines->n] = lines->data + start;
            lines->len[lines->n] = len;
            lines->n++;
            start = i + 1;
        }
    }
done:
    buf_free(&b);
    if (rc != PX_OK) {
        cli_lines_free(lines);
    }
    return rc;
}

void cli_lines_free(struct cli_lines *lines)
{
    px_free(lines->data);
    px_free(lines->text);
    px_free(lines->len);
    memset(lines, 0, sizeof *lines);
}
