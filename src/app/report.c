// report.c — every current match of a saved search (or of a query), written as CSV or HTML
// (app_saved.h): `prospect report`, and the page's "export all N matches".
//
// Design:
//   - Order: the ranked matches first (app_book_search's best LIMIT_VINDEX_K that are matches),
//     then every other match in book order — so the report is complete, never capped, and its
//     head reads like the page.
//   - The header says what was asked and what it meant: the query, each filter and boost the
//     plan applied (column label, operator, value), the UTC time, the book's generation and
//     the number of matches; CSV puts it on "# " lines before the column header, HTML in a
//     table above the rows.
//   - Fail closed: the order is decided first, the audit row (action "report", every id
//     written) is appended, and only then does the first byte go out.
//   - Streamed: rows are formatted into a 64 KiB chunk handed to the sink (a FILE, an atomic
//     file, the HTTP body), so memory holds the row order, not the text.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app_saved.h"
#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "saved.h"
#include "saved_int.h"
#include "store.h"

#define CHUNK (64u << 10)

struct out {
    struct buf chunk;
    app_report_sink sink;
    void *user;
    enum app_report_format fmt;
};

static int flush(struct out *o, bool force, struct px_err *err)
{
    if (o->chunk.len == 0 || (!force && o->chunk.len < CHUNK)) return PX_OK;
    int rc = o->sink(o->user, o->chunk.data, o->chunk.len, err);
    buf_reset(&o->chunk);
    return rc;
}

// s as one CSV field (quoted when it holds a comma, quote, CR or LF) or as HTML text.
static int put_field(struct out *o, const char *s, struct px_err *err)
{
    int rc = PX_OK;
    if (o->fmt == APP_REPORT_HTML) {
        for (const char *p = s; rc == PX_OK && *p; p++) {
            switch (*p) {
            case '<': rc = buf_append(&o->chunk, "&lt;", 4, err); break;
            case '>': rc = buf_append(&o->chunk, "&gt;", 4, err); break;
            case '&': rc = buf_append(&o->chunk, "&amp;", 5, err); break;
            case '"': rc = buf_append(&o->chunk, "&quot;", 6, err); break;
            default: rc = buf_append(&o->chunk, p, 1, err);
            }
        }
        return rc;
    }
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote) rc = buf_append(&o->chunk, "\"", 1, err);
    for (const char *p = s; rc == PX_OK && *p; p++) {
        rc = buf_append(&o->chunk, p, 1, err);
        if (rc == PX_OK && *p == '"') rc = buf_append(&o->chunk, "\"", 1, err);
    }
    return rc == PX_OK && quote ? buf_append(&o->chunk, "\"", 1, err) : rc;
}

// A plan term as "Label op value".
static void describe(const struct app_book *b, const struct app_plan_term *t, char *s, size_t n)
{
    int k = snprintf(s, n, "%s %s", app_book_column_label(b, t->col), t->op);
    size_t off = k > 0 && (size_t)k < n ? (size_t)k : n - 1;
    if (t->kind == APP_PLAN_NUMBER) {
        snprintf(s + off, n - off, " %g", t->lo);
    } else if (t->kind == APP_PLAN_RANGE) {
        snprintf(s + off, n - off, " %g..%g", t->lo, t->hi);
    } else if (t->kind == APP_PLAN_TEXT) {
        for (size_t i = 0; i < t->n_values && off < n - 1; i++) {
            k = snprintf(s + off, n - off, "%s%s", i ? ", " : " ", t->values[i]);
            off = k > 0 && off + (size_t)k < n ? off + (size_t)k : n - 1;
        }
    }
    if (t->weight != 0 && off < n - 1) snprintf(s + off, n - off, " (weight %g)", t->weight);
}

static int header_line(struct out *o, const char *key, const char *value, struct px_err *err)
{
    int rc;
    if (o->fmt == APP_REPORT_HTML) {
        rc = buf_printf(&o->chunk, err, "<tr><th>%s</th><td>", key);
        if (rc == PX_OK) rc = put_field(o, value, err);
        return rc == PX_OK ? buf_printf(&o->chunk, err, "</td></tr>\n") : rc;
    }
    rc = buf_printf(&o->chunk, err, "# %s: ", key);
    for (const char *p = value; rc == PX_OK && *p; p++) { // one line: no CR / LF in a comment
        rc = buf_append(&o->chunk, *p == '\n' || *p == '\r' ? " " : p, 1, err);
    }
    return rc == PX_OK ? buf_append(&o->chunk, "\n", 1, err) : rc;
}

static int write_report(struct out *o, struct app_book *b, const char *title, const char *query,
                        const struct app_result *res, long long gen, const uint32_t *order,
                        size_t n, struct px_err *err)
{
    char when[32], line[1024];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int rc = PX_OK;
    if (o->fmt == APP_REPORT_HTML) {
        rc = buf_printf(&o->chunk, err,
                        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<title>prospect report</title></head><body>\n<h1>");
        if (rc == PX_OK) rc = put_field(o, title, err);
        if (rc == PX_OK) rc = buf_printf(&o->chunk, err, "</h1>\n<table class=\"meta\">\n");
    }
    if (rc == PX_OK) rc = header_line(o, "report", title, err);
    if (rc == PX_OK) rc = header_line(o, "query", query, err);
    const struct app_plan *p = res->plan;
    size_t nf = p ? app_plan_n_filters(p) : 0, nb = p ? app_plan_n_boosts(p) : 0;
    for (size_t i = 0; rc == PX_OK && i < nf; i++) {
        struct app_plan_term term;
        app_plan_filter(p, i, &term);
        describe(b, &term, line, sizeof line);
        rc = header_line(o, "filter", line, err);
    }
    for (size_t i = 0; rc == PX_OK && i < nb; i++) {
        struct app_plan_term term;
        app_plan_boost(p, i, &term);
        describe(b, &term, line, sizeof line);
        rc = header_line(o, "boost", line, err);
    }
    if (rc == PX_OK && p && app_plan_semantic_text(p)[0] != '\0') {
        rc = header_line(o, "semantic text", app_plan_semantic_text(p), err);
    }
    if (rc == PX_OK) rc = header_line(o, "time", when, err);
    snprintf(line, sizeof line, "%lld", gen);
    if (rc == PX_OK) rc = header_line(o, "generation", line, err);
    snprintf(line, sizeof line, "%zu", n);
    if (rc == PX_OK) rc = header_line(o, "matches", line, err);
    if (rc == PX_OK && o->fmt == APP_REPORT_HTML) {
        rc = buf_printf(&o->chunk, err, "</table>\n<table class=\"rows\">\n<tr><th>rank</th>");
    } else if (rc == PX_OK) {
        rc = buf_printf(&o->chunk, err, "rank");
    }
    size_t nc = app_book_n_columns(b);
    // the id column first, then the others in book order
    for (int pass = 0; pass < 2; pass++) {
        for (size_t c = 0; rc == PX_OK && c < nc; c++) {
            if (app_book_column_is_id(b, c) != (pass == 0)) continue;
            rc = buf_printf(&o->chunk, err, o->fmt == APP_REPORT_HTML ? "<th>" : ",");
            if (rc == PX_OK) rc = put_field(o, app_book_column_name(b, c), err);
            if (rc == PX_OK && o->fmt == APP_REPORT_HTML) rc = buf_printf(&o->chunk, err, "</th>");
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(&o->chunk, err, o->fmt == APP_REPORT_HTML ? "</tr>\n" : "\n");
    }
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        rc = buf_printf(&o->chunk, err, o->fmt == APP_REPORT_HTML ? "<tr><td>%zu</td>" : "%zu",
                        i + 1);
        for (int pass = 0; pass < 2; pass++) {
            for (size_t c = 0; rc == PX_OK && c < nc; c++) {
                if (app_book_column_is_id(b, c) != (pass == 0)) continue;
                rc = buf_printf(&o->chunk, err, o->fmt == APP_REPORT_HTML ? "<td>" : ",");
                if (rc == PX_OK) rc = put_field(o, app_book_value(b, order[i], c), err);
                if (rc == PX_OK && o->fmt == APP_REPORT_HTML) {
                    rc = buf_printf(&o->chunk, err, "</td>");
                }
            }
        }
        if (rc == PX_OK) {
            rc = buf_printf(&o->chunk, err, o->fmt == APP_REPORT_HTML ? "</tr>\n" : "\n");
        }
        if (rc == PX_OK) rc = flush(o, false, err);
    }
    if (rc == PX_OK && o->fmt == APP_REPORT_HTML) {
        rc = buf_printf(&o->chunk, err, "</table>\n</body></html>\n");
    }
    return rc == PX_OK ? flush(o, true, err) : rc;
}

// The report's row order (ranked matches, then the others in book order) and the plan.
static int report_order(struct app_book *b, const char *query, size_t len,
                        struct app_result *res, uint32_t **order, size_t *n, struct px_err *err)
{
    uint32_t *rows = NULL;
    size_t n_rows = 0;
    unsigned char *state = NULL; // 0: no match, 1: a match not yet written, 2: written
    size_t nb = app_book_n_rows(b);
    *order = NULL;
    *n = 0;
    int rc = saved_matches(b, query, len, &rows, &n_rows, NULL, err);
    size_t top = nb < LIMIT_VINDEX_K ? nb : LIMIT_VINDEX_K;
    if (rc == PX_OK) rc = app_book_search(b, query, len, top ? top : 1, res, err);
    if (rc == PX_OK && ((state = px_calloc(nb ? nb : 1, 1)) == NULL ||
                        (*order = px_malloc((n_rows ? n_rows : 1) * sizeof **order)) == NULL)) {
        rc = px_fail(err, PX_ENOMEM, "out of memory ordering a report");
    }
    for (size_t i = 0; rc == PX_OK && i < n_rows; i++) state[rows[i]] = 1;
    for (size_t i = 0; rc == PX_OK && i < res->n_hits; i++) {
        size_t r = res->hits[i].row;
        if (state[r] == 1) {
            (*order)[(*n)++] = (uint32_t)r;
            state[r] = 2;
        }
    }
    for (size_t r = 0; rc == PX_OK && r < nb; r++) {
        if (state[r] == 1) (*order)[(*n)++] = (uint32_t)r;
    }
    px_free(state);
    px_free(rows);
    if (rc != PX_OK) {
        px_free(*order);
        *order = NULL;
        *n = 0;
    }
    return rc;
}

static int report_run(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                      const char *title, const char *query, size_t len, struct out *o,
                      size_t *n_rows, struct px_err *err)
{
    struct app_result res = {0};
    uint32_t *order = NULL;
    size_t n = 0;
    long long gen = 0;
    struct store *st = NULL;
    struct buf ids;
    buf_init(&ids, LIMIT_REPORT_IDS_BYTES);
    char q[LIMIT_QUERY_BYTES + 1];
    snprintf(q, sizeof q, "%.*s", (int)(len < LIMIT_QUERY_BYTES ? len : LIMIT_QUERY_BYTES), query);
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_import_generation(st, &gen, err);
    store_close(st);
    if (rc == PX_OK) rc = report_order(b, q, strlen(q), &res, &order, &n, err);
    if (rc == PX_OK) rc = saved_ids_json(b, order, n, &ids, err);
    if (rc == PX_OK) rc = saved_audit(db_path, who, "report", q, NULL, ids.data, (long long)n, err);
    buf_free(&ids);
    if (rc == PX_OK) rc = write_report(o, b, title, q, &res, gen, order, n, err);
    *n_rows = rc == PX_OK ? n : 0;
    px_free(order);
    app_result_free(&res);
    return rc;
}

static int file_sink(void *user, const char *data, size_t len, struct px_err *err)
{
    FILE *f = user;
    if (fwrite(data, 1, len, f) != len) {
        return px_fail(err, PX_EIO, "writing the report failed");
    }
    return PX_OK;
}

int app_report_saved(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     long long id, enum app_report_format fmt, app_report_sink sink, void *user,
                     size_t *n_rows, struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved v = {0};
    *n_rows = 0;
    int rc = saved_open_get(db_path, who, id, &st, &v, err);
    if (rc != PX_OK) return rc;
    store_close(st);
    struct out o = {.sink = sink, .user = user, .fmt = fmt};
    buf_init(&o.chunk, (size_t)2 * CHUNK + (size_t)8 * LIMIT_CSV_ROW_BYTES);
    rc = report_run(db_path, b, who, v.name, v.query, strlen(v.query), &o, n_rows, err);
    buf_free(&o.chunk);
    store_saved_clear(&v);
    return rc;
}

int app_report_write(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     long long id, enum app_report_format fmt, const char *path, FILE *stream,
                     size_t *n_rows, struct px_err *err)
{
    struct fsx_atomic a = {0};
    int rc = PX_OK;
    *n_rows = 0;
    if (path != NULL) {
        rc = fsx_atomic_open(path, &a, err);
        stream = a.f;
    }
    if (rc == PX_OK) {
        rc = app_report_saved(db_path, b, who, id, fmt, file_sink, stream, n_rows, err);
    }
    if (rc == PX_OK && path != NULL) {
        rc = fsx_atomic_commit(&a, err);
    } else if (rc == PX_OK && fflush(stream) != 0) {
        rc = px_fail(err, PX_EIO, "writing the report failed");
    }
    if (path != NULL) fsx_atomic_abort(&a);
    return rc;
}

int app_report_query(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     const char *query, size_t len, app_report_sink sink, void *user,
                     size_t *n_rows, struct px_err *err)
{
    struct out o = {.sink = sink, .user = user, .fmt = APP_REPORT_CSV};
    buf_init(&o.chunk, (size_t)2 * CHUNK + (size_t)8 * LIMIT_CSV_ROW_BYTES);
    int rc = report_run(db_path, b, who, "export", query, len, &o, n_rows, err);
    buf_free(&o.chunk);
    return rc;
}
