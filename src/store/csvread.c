// csvread.c — streaming CSV records (contract in csvread.h).
//
// Design: libcsv does the grammar; we feed it one physical line at a time (split at LF, CRLF or
// a lone CR, in 64 KiB blocks), so each record knows the line it starts on (a record starts on a
// line at whose start libcsv was between rows: its public pstate == 0, ROW_NOT_BEGUN). libcsv's
// field buffer is checked against LIMIT_CSV_FIELD_BYTES after every line fed, so an unclosed
// quote cannot grow it unbounded. Fields go into one bounded buf, each followed by a NUL, with
// offsets; the pointer array handed to the callback is rebuilt per record. Fields past a limit
// are counted, not kept, so a ragged or oversized record costs no more memory than a good one.
// libcsv allocates through px_realloc (failures stick, so an injected fault is reported rather
// than retried away with smaller sizes). csvread_file / csvread_memory are the general reader
// with an adapter to their positional callback.
#include "csvread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <csv.h>

#include "buf.h"
#include "limits.h"
#include "mem.h"

#define BLOCK_BYTES (64u << 10)

struct reader {
    const char *name;
    csvread_fn fn;
    void *user;
    unsigned opts;
    struct px_err *err;
    int status; // first error (PX_OK while none)

    size_t line;           // physical line being fed (1-based)
    size_t line_candidate; // line a record starting now would start on
    size_t rec_line;       // line the current record started on
    size_t n_records;      // records handed on so far

    struct buf row;    // fields, each followed by a NUL
    size_t *off, *len; // (LIMIT_CSV_COLUMNS)
    const char **ptr;  // (LIMIT_CSV_COLUMNS)
    size_t n_fields;   // fields in the record (may exceed what was kept)
    size_t n_kept;     // fields stored in row (the first n_kept)
    bool row_too_big;
    char delimiter;    // the field separator in use
};

static int fail_at(struct reader *r, int code, size_t line, const char *msg)
{
    if (r->status == PX_OK) {
        r->status = px_fail(r->err, code, "%s: line %zu: %s", r->name, line, msg);
    }
    return r->status;
}

static void cb_field(void *data, size_t len, void *user)
{
    struct reader *r = user;
    if (r->status != PX_OK) {
        return;
    }
    if (r->n_fields == 0) {
        r->rec_line = r->line_candidate;
    }
    size_t j = r->n_fields++;
    if (j >= LIMIT_CSV_COLUMNS || r->row_too_big) {
        return;
    }
    struct px_err e = {0};
    size_t at = r->row.len;
    int rc = buf_append(&r->row, data ? data : "", len, &e);
    if (rc == PX_OK) {
        rc = buf_append(&r->row, "", 1, &e);
    }
    if (rc == PX_ELIMIT) {
        r->row_too_big = true;
        return;
    }
    if (rc != PX_OK) {
        r->status = px_fail(r->err, rc, "%s: out of memory reading line %zu", r->name, r->line);
        return;
    }
    r->off[j] = at;
    r->len[j] = len;
    r->n_kept = j + 1;
}

static void cb_row(int c, void *user)
{
    struct reader *r = user;
    (void)c;
    if (r->status != PX_OK) {
        return;
    }
    unsigned flags = (r->n_fields > LIMIT_CSV_COLUMNS ? CSVREAD_TOO_MANY : 0u) |
                     (r->row_too_big ? CSVREAD_TOO_LONG : 0u);
    bool keep = flags == 0 || (r->opts & CSVREAD_KEEP_BAD);
    if (r->n_fields == 0 || (r->n_fields == 1 && r->len[0] == 0 && !r->row_too_big)) {
        // a blank (or spaces-only) line is not a record
    } else if (!keep && (flags & CSVREAD_TOO_MANY)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%zu fields, over the limit of %d (LIMIT_CSV_COLUMNS)",
                 r->n_fields, LIMIT_CSV_COLUMNS);
        fail_at(r, PX_ELIMIT, r->rec_line, msg);
    } else if (!keep) {
        char msg[160];
        snprintf(msg, sizeof msg, "the record is longer than %u bytes (LIMIT_CSV_ROW_BYTES)",
                 LIMIT_CSV_ROW_BYTES);
        fail_at(r, PX_ELIMIT, r->rec_line, msg);
    } else {
        for (size_t j = 0; j < r->n_kept; j++) {
            r->ptr[j] = r->row.data + r->off[j];
        }
        struct csvread_record rec = {
            .index = r->n_records++,
            .line = r->rec_line,
            .f = r->ptr,
            .len = r->len,
            .n = r->n_fields,
            .n_kept = r->n_kept,
            .flags = flags,
            .delimiter = r->delimiter,
        };
        int rc = r->fn(r->user, &rec, r->err);
        if (rc != PX_OK) {
            r->status = rc;
        }
    }
    buf_reset(&r->row);
    r->n_fields = 0;
    r->n_kept = 0;
    r->row_too_big = false;
}

static _Thread_local bool t_csv_nomem;

static void *csv_realloc(void *p, size_t n)
{
    void *q = t_csv_nomem ? NULL : px_realloc(p, n);
    if (q == NULL) {
        t_csv_nomem = true;
    }
    return q;
}

// Feeds n bytes of block to the parser, line by line. *pending_cr / *at_line_start carry the
// state between blocks.
static int feed(struct reader *r, struct csv_parser *p, const unsigned char *block, size_t n,
                bool *at_line_start, bool *pending_cr)
{
    size_t i = 0;
    if (*pending_cr && n > 0 && block[0] == '\n') {
        // the '\n' of a CRLF split across blocks: the line was already counted
        if (csv_parse(p, block, 1, cb_field, cb_row, r) != 1) {
            return px_fail(r->err, PX_ENOMEM, "%s: out of memory parsing line %zu", r->name,
                           r->line);
        }
        i = 1;
    }
    *pending_cr = false;
    while (i < n && r->status == PX_OK) {
        size_t end = i;
        while (end < n && block[end] != '\n' && block[end] != '\r') {
            end++;
        }
        bool nl = end < n;
        if (nl && block[end] == '\r') {
            if (end + 1 < n && block[end + 1] == '\n') {
                end++;
            } else if (end + 1 == n) {
                *pending_cr = true;
            }
        }
        size_t seg = nl ? end + 1 - i : n - i;
        if (*at_line_start && p->pstate == 0) { // ROW_NOT_BEGUN: a record may start here
            r->line_candidate = r->line;
        }
        if (csv_parse(p, block + i, seg, cb_field, cb_row, r) != seg) {
            return csv_error(p) == CSV_ENOMEM
                       ? px_fail(r->err, PX_ENOMEM, "%s: out of memory parsing line %zu", r->name,
                                 r->line)
                       : px_fail(r->err, PX_EFORMAT, "%s: line %zu: %s", r->name, r->line,
                                 csv_strerror(csv_error(p)));
        }
        if (p->entry_pos > LIMIT_CSV_FIELD_BYTES) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "a field is longer than %u bytes (LIMIT_CSV_FIELD_BYTES); is a quote left "
                     "open?",
                     LIMIT_CSV_FIELD_BYTES);
            return fail_at(r, PX_ELIMIT, r->rec_line ? r->rec_line : r->line, msg);
        }
        *at_line_start = nl;
        r->line += nl;
        i += seg;
    }
    return r->status;
}

// The separator of the header line at the start of chunk (n bytes): the most frequent of ',',
// ';' and tab outside quotes, ',' on a tie or when none occurs.
static char detect_delimiter(const unsigned char *chunk, size_t n)
{
    size_t comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = chunk[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && (c == '\n' || c == '\r')) {
            break;
        } else if (!quoted) {
            comma += c == ',';
            semi += c == ';';
            tab += c == '\t';
        }
    }
    if (semi > comma && semi >= tab) {
        return ';';
    }
    return tab > comma && tab > semi ? '\t' : ',';
}

static int read_source(struct reader *r, FILE *f, const unsigned char *mem, size_t size)
{
    struct csv_parser p;
    unsigned char *block = NULL;
    bool parser = false;
    int rc = PX_ENOMEM;
    buf_init(&r->row, LIMIT_CSV_ROW_BYTES);
    r->off = px_calloc(LIMIT_CSV_COLUMNS, sizeof *r->off);
    r->len = px_calloc(LIMIT_CSV_COLUMNS, sizeof *r->len);
    r->ptr = px_calloc(LIMIT_CSV_COLUMNS, sizeof *r->ptr);
    block = f ? px_malloc(BLOCK_BYTES) : NULL;
    if (r->off == NULL || r->len == NULL || r->ptr == NULL || (f && block == NULL) ||
        csv_init(&p, 0) != 0) {
        rc = px_fail(r->err, PX_ENOMEM, "out of memory reading %s", r->name);
        goto done;
    }
    parser = true;
    t_csv_nomem = false;
    csv_set_realloc_func(&p, csv_realloc);
    csv_set_free_func(&p, px_free);
    r->line = r->line_candidate = 1;
    bool at_line_start = true, pending_cr = false, first = true;
    size_t pos = 0;
    rc = PX_OK;
    while (rc == PX_OK) {
        const unsigned char *chunk = NULL;
        size_t n = 0;
        if (f != NULL) {
            n = fread(block, 1, BLOCK_BYTES, f);
            if (n < BLOCK_BYTES && ferror(f)) {
                rc = px_fail(r->err, PX_EIO, "cannot read %s: %s", r->name, strerror(errno));
                break;
            }
            chunk = block;
        } else {
            n = size - pos < BLOCK_BYTES ? size - pos : BLOCK_BYTES;
            chunk = mem + pos;
            pos += n;
        }
        if (n == 0) {
            break;
        }
        if (first && n >= 3 && chunk[0] == 0xef && chunk[1] == 0xbb && chunk[2] == 0xbf) {
            chunk += 3; // UTF-8 byte order mark
            n -= 3;
        }
        if (first) {
            if (r->delimiter == 0) {
                r->delimiter = detect_delimiter(chunk, n);
            }
            csv_set_delim(&p, (unsigned char)r->delimiter);
        }
        first = false;
        rc = feed(r, &p, chunk, n, &at_line_start, &pending_cr);
    }
    if (rc == PX_OK && r->status == PX_OK) {
        if (p.quoted && p.pstate == 2) { // FIELD_BEGUN inside quotes: never closed
            size_t line = r->n_fields == 0 ? r->line_candidate : r->rec_line;
            rc = fail_at(r, PX_EFORMAT, line,
                         "a quoted field is not closed before the end of the file");
        } else {
            csv_fini(&p, cb_field, cb_row, r);
            rc = r->status;
        }
    }
done:
    if (parser) {
        csv_free(&p);
    }
    px_free(block);
    px_free(r->off);
    px_free(r->len);
    px_free(r->ptr);
    buf_free(&r->row);
    return rc;
}

int csvread_source(const struct csvread_source *src, unsigned opts, csvread_fn fn, void *user,
                   struct px_err *err)
{
    struct reader r;
    memset(&r, 0, sizeof r);
    r.name = src->name ? src->name : "(csv)";
    r.fn = fn;
    r.user = user;
    r.opts = opts;
    r.err = err;
    r.delimiter = src->delimiter;
    int rc = read_source(&r, src->f, src->data, src->size);
    if (src->found != NULL) {
        *src->found = r.delimiter;
    }
    return rc;
}

// The positional callback of csvread_file / csvread_memory over the general reader.
struct adapter {
    csvread_record_fn fn;
    void *user;
};

static int adapt(void *user, const struct csvread_record *rec, struct px_err *err)
{
    const struct adapter *a = user;
    return a->fn(a->user, rec->index, rec->line, rec->f, rec->len, rec->n, err);
}

int csvread_file(const char *path, csvread_record_fn fn, void *user, struct px_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return px_fail(err, errno == ENOENT ? PX_ENOENT : PX_EIO, "cannot open %s: %s", path,
                       strerror(errno));
    }
    struct adapter a = {.fn = fn, .user = user};
    struct csvread_source src = {.name = path, .f = f};
    int rc = csvread_source(&src, 0, adapt, &a, err);
    fclose(f);
    return rc;
}

int csvread_memory(const void *data, size_t size, const char *name, csvread_record_fn fn,
                   void *user, struct px_err *err)
{
    struct adapter a = {.fn = fn, .user = user};
    struct csvread_source src = {.name = name, .data = data, .size = size};
    return csvread_source(&src, 0, adapt, &a, err);
}
