// segments.c — segment summaries: what sets each segment apart, for GET /api/segments (from
// the customer book's segment column, the integer column `prospect segment` stores, 1 = largest
// segment) and for the answer of app_segments_fit (app/segfit.c: k-means' assignment, stored or a
// dry run).
//
// Design: the summary is computed from the book rather than from k-means' own output, so it
// describes the segments actually stored, whatever they were computed on (profile or GAT
// embeddings) and whenever. Traits: a numeric column's segment mean against the book's, in the
// book's standard deviations (score |z|); a category's most common value in the segment, its
// share against the book's (score: the lift). The id, the segment column itself, lists, dates
// and free text are left out. One pass per column per answer; the book is read-only, so any
// thread may call it.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_segments.h"
#include "jsonx.h"
#include "segments_int.h"
#include "mem.h"

struct seg_trait {
    double score;
    size_t col;
    char text[300];
};

static void keep_top(struct seg_trait *top, size_t *n_top, const struct seg_trait *t)
{
    size_t n = *n_top;
    if (n == LIMIT_SEGMENT_TRAITS && t->score <= top[n - 1].score) {
        return;
    }
    size_t i = n < LIMIT_SEGMENT_TRAITS ? n++ : n - 1;
    while (i > 0 && top[i - 1].score < t->score) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = *t;
    *n_top = n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// Traits of every segment over one category column: counts of each level per segment.
static int category_traits(const struct app_book *b, size_t col, const int *seg, int k,
                           const size_t *size, size_t n_assigned, struct seg_trait *top,
                           size_t *n_top, struct px_err *err)
{
    size_t n = app_book_n_rows(b), m = 0;
    const char **lv = px_calloc(n ? n : 1, sizeof *lv);
    if (lv == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = app_book_value(b, i, col);
        if (seg[i] > 0 && v[0] != '\0') {
            lv[m++] = v;
        }
    }
    qsort(lv, m, sizeof *lv, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u == 0 || strcmp(lv[u - 1], lv[i]) != 0) {
            lv[u++] = lv[i];
        }
    }
    size_t *cnt = u > 1 ? px_calloc(u * (size_t)(k + 1), sizeof *cnt) : NULL;
    if (u > 1 && cnt == NULL) {
        px_free(lv);
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && u > 1; i++) {
        const char *v = app_book_value(b, i, col);
        if (seg[i] <= 0 || v[0] == '\0') {
            continue;
        }
        const char **hit = bsearch(&v, lv, u, sizeof *lv, cmp_str);
        cnt[(size_t)seg[i] * u + (size_t)(hit - lv)]++;
        cnt[(size_t)(hit - lv)]++; // row 0: the whole book
    }
    for (int s = 1; s <= k && u > 1; s++) {
        size_t best = 0;
        for (size_t j = 1; j < u; j++) {
            if (cnt[(size_t)s * u + j] > cnt[(size_t)s * u + best]) {
                best = j;
            }
        }
        size_t bn = cnt[(size_t)s * u + best];
        if (bn == 0 || size[s] == 0) {
            continue;
        }
        double share = (double)bn / (double)size[s];
        double book = (double)cnt[best] / (double)n_assigned;
        struct seg_trait t = {book > 0 ? share / book : 0, col, ""};
        snprintf(t.text, sizeof t.text, "%s: %s %.0f%% (book %.0f%%)",
                 app_book_column_label(b, col), lv[best], 100 * share, 100 * book);
        keep_top(top + (size_t)s * LIMIT_SEGMENT_TRAITS, n_top + s, &t);
    }
    px_free(cnt);
    px_free(lv);
    return PX_OK;
}

static void numeric_traits(const struct app_book *b, size_t col, const int *seg, int k, double *sum,
                           size_t *cnt, struct seg_trait *top, size_t *n_top)
{
    size_t n = app_book_n_rows(b);
    double all = 0, all2 = 0;
    size_t m = 0;
    memset(sum, 0, (size_t)(k + 1) * sizeof *sum);
    memset(cnt, 0, (size_t)(k + 1) * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        const char *v = app_book_value(b, i, col);
        double x = v[0] ? strtod(v, NULL) : NAN;
        if (seg[i] <= 0 || !isfinite(x)) {
            continue;
        }
        all += x;
        all2 += x * x;
        m++;
        sum[seg[i]] += x;
        cnt[seg[i]]++;
    }
    if (m == 0) {
        return;
    }
    double mean = all / (double)m, var = all2 / (double)m - mean * mean;
    if (!(var > 1e-12)) {
        return;
    }
    double sd = sqrt(var);
    for (int s = 1; s <= k; s++) {
        if (cnt[s] == 0) {
            continue;
        }
        double ms = sum[s] / (double)cnt[s], z = (ms - mean) / sd;
        struct seg_trait t = {fabs(z), col, ""};
        snprintf(t.text, sizeof t.text, "%s %s (mean %.4g vs %.4g, %+.2f s.d.)",
                 app_book_column_label(b, col), z > 0 ? "higher" : "lower", ms, mean, z);
        keep_top(top + (size_t)s * LIMIT_SEGMENT_TRAITS, n_top + s, &t);
    }
}

// The summary's members ("column", "customers", "unassigned", "segments", no braces) of
// segments seg[row] (1..k; 0: unassigned) under column's name; the book's column sc (-1: none)
// is left out of the traits.
static int summarise(const struct app_book *b, const char *column, long sc, const int *seg, int k,
                     size_t unassigned, struct buf *out, struct px_err *err)
{
    size_t n = app_book_n_rows(b), nc = app_book_n_columns(b);
    size_t kk = (size_t)k + 1;
    size_t *size = px_calloc(kk, sizeof *size), *cnt = px_calloc(kk, sizeof *cnt);
    size_t *n_top = px_calloc(kk, sizeof *n_top);
    double *sum = px_calloc(kk, sizeof *sum);
    struct seg_trait *top = px_calloc(kk * LIMIT_SEGMENT_TRAITS, sizeof *top);
    int rc = PX_OK;
    if (size == NULL || cnt == NULL || n_top == NULL || sum == NULL || top == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size[seg[i]] += seg[i] > 0;
    }
    size_t assigned = n - unassigned;
    for (size_t c = 0; c < nc && rc == PX_OK && assigned > 0; c++) {
        const char *t = app_book_column_type(b, c);
        if ((long)c == sc || app_book_column_is_id(b, c)) {
            continue;
        }
        if (strcmp(t, "category") == 0 || strcmp(t, "bool") == 0) {
            rc = category_traits(b, c, seg, k, size, assigned, top, n_top, err);
        } else if (strcmp(t, "integer") == 0 || strcmp(t, "real") == 0 ||
                   strcmp(t, "currency") == 0 || strcmp(t, "percent") == 0) {
            numeric_traits(b, c, seg, k, sum, cnt, top, n_top);
        }
    }
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "column", true, err);
    if (rc == PX_OK)
        rc = jsonx_put_string(out, column, strlen(column), err);
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"customers\": %zu, \"unassigned\": %zu, \"segments\": [", n,
                        unassigned);
    }
    for (int s = 1, first = 1; s <= k && rc == PX_OK; s++) {
        if (size[s] == 0) {
            continue;
        }
        rc = buf_printf(out, err,
                        "%s{\"segment\": %d, \"size\": %zu, \"share\": %.4f, \"traits\": [",
                        first ? "" : ", ", s, size[s], (double)size[s] / (double)assigned);
        first = 0;
        for (size_t q = 0; q < n_top[s] && rc == PX_OK; q++) {
            const struct seg_trait *t = &top[(size_t)s * LIMIT_SEGMENT_TRAITS + q];
            const char *name = app_book_column_name(b, t->col);
            const char *label = app_book_column_label(b, t->col);
            rc = buf_append(out, q ? ", {\"column\": " : "{\"column\": ", q ? 13 : 11, err);
            if (rc == PX_OK)
                rc = jsonx_put_string(out, name, strlen(name), err);
            if (rc == PX_OK)
                rc = buf_append(out, ", \"label\": ", 11, err);
            if (rc == PX_OK)
                rc = jsonx_put_string(out, label, strlen(label), err);
            if (rc == PX_OK)
                rc = buf_append(out, ", \"text\": ", 10, err);
            if (rc == PX_OK)
                rc = jsonx_put_string(out, t->text, strlen(t->text), err);
            if (rc == PX_OK)
                rc = buf_printf(out, err, ", \"score\": %.4f}", t->score);
        }
        if (rc == PX_OK)
            rc = buf_append(out, "]}", 2, err);
    }
    if (rc == PX_OK)
        rc = buf_append(out, "]", 1, err);
done:
    px_free(size);
    px_free(cnt);
    px_free(n_top);
    px_free(sum);
    px_free(top);
    return rc;
}

// The segment column's index in the book, or -1.
static long find_column(const struct app_book *b, const char *column)
{
    long sc = -1;
    for (size_t c = 0, nc = app_book_n_columns(b); c < nc; c++) {
        if (strcmp(app_book_column_name(b, c), column) == 0) {
            sc = (long)c;
        }
    }
    return sc;
}

int app_segments_json(const struct app_book *b, const char *column, struct buf *out,
                      struct px_err *err)
{
    size_t n = app_book_n_rows(b);
    long sc = find_column(b, column);
    if (sc < 0 || strcmp(app_book_column_type(b, (size_t)sc), "integer") != 0) {
        return px_fail(err, PX_ENOENT,
                       "the customer book has no integer column '%s' (run prospect segment)",
                       column);
    }
    int *seg = px_calloc(n ? n : 1, sizeof *seg);
    if (seg == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int k = 0;
    size_t unassigned = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = app_book_value(b, i, (size_t)sc);
        char *end = NULL;
        long x = v[0] ? strtol(v, &end, 10) : 0;
        if (v[0] == '\0' || *end != '\0' || x < 1 || x > LIMIT_KMEANS_K) {
            unassigned++;
            continue;
        }
        seg[i] = (int)x;
        k = seg[i] > k ? seg[i] : k;
    }
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK)
        rc = summarise(b, column, sc, seg, k, unassigned, out, err);
    if (rc == PX_OK)
        rc = buf_append(out, "}", 1, err);
    px_free(seg);
    return rc;
}

int app_segments_assign_members(const struct app_book *b, const char *column,
                                const char *const *ids, const int *segment, size_t n_ids,
                                struct buf *out, struct px_err *err)
{
    size_t n = app_book_n_rows(b);
    int *seg = px_calloc(n ? n : 1, sizeof *seg);
    if (seg == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int k = 0;
    for (size_t i = 0; i < n_ids; i++) {
        long row = app_book_find(b, ids[i]);
        if (segment[i] < 1 || segment[i] > LIMIT_KMEANS_K) {
            px_free(seg);
            return px_fail(err, PX_EINVAL, "customer '%s': segment %d outside 1..%d", ids[i],
                           segment[i], LIMIT_KMEANS_K);
        }
        if (row >= 0) {
            seg[row] = segment[i];
            k = segment[i] > k ? segment[i] : k;
        }
    }
    size_t unassigned = 0;
    for (size_t i = 0; i < n; i++) {
        unassigned += seg[i] == 0;
    }
    int rc = summarise(b, column, find_column(b, column), seg, k, unassigned, out, err);
    px_free(seg);
    return rc;
}
