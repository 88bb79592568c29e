// book_why.c — why each hit matched, and what a "similar" hit shares with the customers asked
// about. Built at answer time from the plan, the engine's graded boosts and the row's own
// values (only for the hits written), so ranking pays nothing for it.
//
// A search hit's items, in this order:
//   filter  every hard filter (each hit passes all of them) with the row's value:
//           "Credit score 781 > 750", "Occupation: Nurse", "Interests: not Travel";
//   boost   every boost the row meets, with what it added ("value": the graded weight) and how
//           far past its threshold the value lies ("excess" 0..1, engine_boost_excess);
//   words   per column, the words of the semantic text found in the column's value, split the
//           way the lexical index splits (engine_text_words), so "nurse" names Occupation. Words
//           that hit only a label ("income" is in every profile) are not reasons and are left
//           out.
// A similar hit's traits ("shared"): category and yes/no values equal to every seed's, list
// items every seed holds too, then numbers whose distribution share lies within
// SHARED_CDF_GAP of every seed's and within SHARED_REL_GAP of it ("Age 58 vs 61"; zeros are
// not traits); at most SHARED_MAX.
//
// Both are written through one sink: JSON members (book_why_put_json) or one line of text
// (app_result_why_line), so the table and the JSON answer say the same things.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "book_int.h"
#include "jsonx.h"
#include "mem.h"
#include "strparse.h"

// Numbers are "close" when their shares of the column's distribution differ by at most
// SHARED_CDF_GAP and the numbers themselves by at most SHARED_REL_GAP of the larger (a column
// with most values 0 puts 0 and a small amount at nearly the same share).
#define SHARED_CDF_GAP 0.1
#define SHARED_REL_GAP 0.25
// Traits listed per similar hit: the first few say why; a list of 20 is not read.
#define SHARED_MAX 8

enum sink_mode { SINK_JSON, SINK_LINE, SINK_STRINGS };

struct sink {
    enum sink_mode mode;
    struct buf *out;
    size_t n; // items written
};

struct why_item {
    const char *kind; // "filter", "boost", "words"
    size_t col;
    const char *label;
    const char *text;
    const char *const *words; // words: (n_words)
    size_t n_words;
    bool has_value;           // boost: value, excess
    double value, excess;
};

static int emit(struct sink *s, const struct app_book *b, const struct why_item *it,
                struct px_err *err)
{
    int rc = PX_OK;
    if (s->n >= LIMIT_WHY_ITEMS) {
        return PX_OK;
    }
    if (s->mode == SINK_LINE) {
        rc = buf_printf(s->out, err, "%s%s", s->n ? "; " : "", it->text);
        s->n++;
        return rc;
    }
    if (s->n > 0) {
        rc = buf_append(s->out, ", ", 2, err);
    }
    s->n++;
    if (s->mode == SINK_STRINGS) {
        return rc == PX_OK ? jsonx_put_cstr(s->out, it->text, err) : rc;
    }
    if (rc == PX_OK) rc = buf_append(s->out, "{", 1, err);
    if (rc == PX_OK) rc = jsonx_put_member(s->out, "kind", it->kind, true, err);
    if (rc == PX_OK) rc = jsonx_put_member(s->out, "column", b->sc.cols[it->col].name, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(s->out, "label", it->label, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(s->out, "text", it->text, false, err);
    if (rc == PX_OK && it->has_value) {
        rc = buf_printf(s->out, err, ", \"value\": ");
        if (rc == PX_OK) rc = jsonx_put_number(s->out, it->value, 6, err);
        if (rc == PX_OK) rc = buf_printf(s->out, err, ", \"excess\": ");
        if (rc == PX_OK) rc = jsonx_put_number(s->out, it->excess, 6, err);
    }
    if (rc == PX_OK && it->words != NULL) {
        rc = jsonx_put_key(s->out, "words", false, err);
        if (rc == PX_OK) rc = buf_append(s->out, "[", 1, err);
        for (size_t i = 0; i < it->n_words && rc == PX_OK; i++) {
            if (i > 0) rc = buf_append(s->out, ", ", 2, err);
            if (rc == PX_OK) rc = jsonx_put_cstr(s->out, it->words[i], err);
        }
        if (rc == PX_OK) rc = buf_append(s->out, "]", 1, err);
    }
    return rc == PX_OK ? buf_append(s->out, "}", 1, err) : rc;
}

static const char *op_symbol(enum query_op op)
{
    switch (op) {
    case QUERY_OP_LT: return "<";
    case QUERY_OP_LE: return "<=";
    case QUERY_OP_GT: return ">";
    case QUERY_OP_GE: return ">=";
    case QUERY_OP_EQ: return "=";
    case QUERY_OP_NE: return "!=";
    default: return "?";
    }
}

// True when the list value raw ("A; B") holds item (ASCII case folded).
static bool list_holds(const char *raw, const char *item)
{
    const char *p = raw, *it = NULL;
    size_t len = 0;
    while (strparse_list_item(&p, &it, &len)) {
        if (strlen(item) == len && strncasecmp(it, item, len) == 0) {
            return true;
        }
    }
    return false;
}

// Appends the values joined by ", " (only those the list value raw holds when held_only).
static int put_values(struct buf *t, const char *const *values, size_t n, const char *raw,
                      bool held_only, struct px_err *err)
{
    int rc = PX_OK;
    size_t k = 0;
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        if (!held_only || list_holds(raw, values[i])) {
            rc = buf_printf(t, err, "%s%s", k++ ? ", " : "", values[i]);
        }
    }
    return rc;
}

// The text of a test (a filter, or a boost as a filter) on the row's value raw, into t.
static int test_text(const struct app_book *b, const struct query_filter *f, const char *raw,
                     struct buf *t, struct px_err *err)
{
    const char *label = app_book_column_label(b, f->i_col);
    enum query_col_kind kind = query_schema_column_kind(engine_schema(b->eng), f->i_col);
    switch (f->op) {
    case QUERY_OP_IS_TRUE:
    case QUERY_OP_IS_FALSE:
        return buf_printf(t, err, "%s: %s", label, f->op == QUERY_OP_IS_TRUE ? "yes" : "no");
    case QUERY_OP_BETWEEN:
        return buf_printf(t, err, "%s %s between %.15g and %.15g", label, raw, f->lo, f->hi);
    default: break;
    }
    if (f->n_values == 0) { // a number
        return buf_printf(t, err, "%s %s %s %.15g", label, raw, op_symbol(f->op), f->lo);
    }
    bool negated = f->op == QUERY_OP_NE || f->op == QUERY_OP_NOT_IN ||
                   f->op == QUERY_OP_NOT_CONTAINS;
    int rc = buf_printf(t, err, "%s: ", label);
    if (kind == QUERY_COL_LIST) {
        if (rc == PX_OK && negated) rc = buf_printf(t, err, "not ");
        if (rc == PX_OK) rc = put_values(t, f->values, f->n_values, raw, !negated, err);
        return rc;
    }
    if (rc == PX_OK) rc = buf_printf(t, err, "%s", raw);
    if (rc == PX_OK && negated) {
        rc = buf_printf(t, err, " (not ");
        if (rc == PX_OK) rc = put_values(t, f->values, f->n_values, raw, false, err);
        if (rc == PX_OK) rc = buf_append(t, ")", 1, err);
    }
    return rc;
}

// ---- words of the semantic text found in a column's value ----

struct qwords {
    char w[LIMIT_BM25_QUERY_TERMS][LIMIT_BM25_TERM_BYTES + 1]; // distinct, query order
    size_t n;
    bool hit[LIMIT_BM25_QUERY_TERMS]; // per column being matched
};

static int collect_qword(void *user, const char *w, size_t n)
{
    struct qwords *q = user;
    for (size_t i = 0; i < q->n; i++) {
        if (strlen(q->w[i]) == n && memcmp(q->w[i], w, n) == 0) {
            return PX_OK;
        }
    }
    if (q->n < LIMIT_BM25_QUERY_TERMS && n <= LIMIT_BM25_TERM_BYTES) {
        memcpy(q->w[q->n], w, n);
        q->w[q->n++][n] = '\0';
    }
    return PX_OK;
}

static int mark_qword(void *user, const char *w, size_t n)
{
    struct qwords *q = user;
    for (size_t i = 0; i < q->n; i++) {
        if (strlen(q->w[i]) == n && memcmp(q->w[i], w, n) == 0) {
            q->hit[i] = true;
        }
    }
    return PX_OK;
}

// The part of column c's value raw the words hit, into t: for a list, the items holding a hit
// word ("New Baby" of "New Baby; Divorce"); else the whole value.
static int hit_part(const struct app_book *b, size_t c, const char *raw, struct qwords *q,
                    struct buf *t, struct px_err *err)
{
    if (query_schema_column_kind(engine_schema(b->eng), c) != QUERY_COL_LIST) {
        return buf_printf(t, err, "%s", raw);
    }
    const char *p = raw, *it = NULL;
    size_t len = 0, n = 0;
    int rc = PX_OK;
    while (rc == PX_OK && strparse_list_item(&p, &it, &len)) {
        memset(q->hit, 0, sizeof q->hit);
        rc = engine_text_words(b->eng, it, len, mark_qword, q);
        bool any = false;
        for (size_t i = 0; i < q->n && !any; i++) {
            any = q->hit[i];
        }
        if (rc == PX_OK && any) {
            rc = buf_printf(t, err, "%s%.*s", n++ ? ", " : "", (int)len, it);
        }
    }
    return rc;
}

static int words_items(const struct app_book *b, const struct query_plan *qp, size_t row,
                       struct sink *s, struct buf *t, struct px_err *err)
{
    struct qwords *q = px_calloc(1, sizeof *q);
    if (q == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory explaining a result");
    }
    int rc = engine_text_words(b->eng, qp->semantic_text, qp->semantic_len, collect_qword, q);
    for (size_t c = 0; c < b->n_cols && rc == PX_OK && q->n > 0; c++) {
        const char *raw = book_raw_at(b, row, c);
        if (app_book_column_is_id(b, c) || raw[0] == '\0') {
            continue;
        }
        memset(q->hit, 0, sizeof q->hit);
        rc = engine_text_words(b->eng, raw, strlen(raw), mark_qword, q);
        const char *words[LIMIT_BM25_QUERY_TERMS];
        size_t n = 0;
        for (size_t i = 0; i < q->n; i++) {
            if (q->hit[i]) {
                words[n++] = q->w[i];
            }
        }
        if (rc != PX_OK || n == 0) {
            continue;
        }
        const char *label = app_book_column_label(b, c);
        buf_reset(t);
        rc = buf_printf(t, err, "%s: ", label);
        if (rc == PX_OK) rc = hit_part(b, c, raw, q, t, err);
        if (rc == PX_OK) rc = buf_append(t, " (", 2, err);
        for (size_t i = 0; i < n && rc == PX_OK; i++) {
            rc = buf_printf(t, err, "%s%s", i ? ", " : "", words[i]);
        }
        if (rc == PX_OK) rc = buf_append(t, ")", 1, err);
        struct why_item it = {.kind = "words", .col = c, .label = label, .text = t->data,
                              .words = words, .n_words = n};
        if (rc == PX_OK) rc = emit(s, b, &it, err);
    }
    px_free(q);
    return rc;
}

// ---- a search hit ----

static int why_items(const struct app_book *b, const struct query_plan *qp, size_t row,
                     struct sink *s, struct px_err *err)
{
    struct buf t;
    buf_init(&t, LIMIT_TEXT_BYTES);
    int rc = PX_OK;
    for (size_t i = 0; i < qp->n_filters && rc == PX_OK; i++) {
        const struct query_filter *f = &qp->filters[i];
        buf_reset(&t);
        rc = test_text(b, f, book_raw_at(b, row, f->i_col), &t, err);
        struct why_item it = {.kind = "filter", .col = f->i_col,
                              .label = app_book_column_label(b, f->i_col), .text = t.data};
        if (rc == PX_OK) rc = emit(s, b, &it, err);
    }
    for (size_t i = 0; i < qp->n_boosts && rc == PX_OK; i++) {
        const struct query_boost *q = &qp->boosts[i];
        double v = engine_boost_value(b->eng, q, row);
        if (v == 0) {
            continue;
        }
        struct query_filter f = {.i_col = q->i_col, .op = q->op, .lo = q->lo, .hi = q->hi};
        if (q->value != NULL) {
            f.values[0] = q->value;
            f.n_values = 1;
        }
        buf_reset(&t);
        rc = test_text(b, &f, book_raw_at(b, row, q->i_col), &t, err);
        struct why_item it = {.kind = "boost", .col = q->i_col,
                              .label = app_book_column_label(b, q->i_col), .text = t.data,
                              .has_value = true, .value = v,
                              .excess = engine_boost_excess(b->eng, q, row)};
        if (rc == PX_OK) rc = emit(s, b, &it, err);
    }
    if (rc == PX_OK && qp->semantic_len > 0) {
        rc = words_items(b, qp, row, s, &t, err);
    }
    buf_free(&t);
    return rc;
}

// ---- a similar hit: traits shared with every seed ----

// The list items of raw that every seed's value of column c holds, joined, into t; their count.
static size_t shared_items(const struct app_book *b, const struct app_result *res, size_t c,
                           const char *raw, struct buf *t, struct px_err *err, int *rc)
{
    const char *p = raw, *it = NULL;
    size_t len = 0, n = 0;
    char item[LIMIT_BM25_TERM_BYTES * 4];
    while (*rc == PX_OK && strparse_list_item(&p, &it, &len)) {
        if (len >= sizeof item) {
            continue;
        }
        memcpy(item, it, len);
        item[len] = '\0';
        bool all = true;
        for (size_t k = 0; k < res->n_seeds && all; k++) {
            all = list_holds(book_raw_at(b, res->seeds[k], c), item);
        }
        if (all) {
            *rc = buf_printf(t, err, "%s%s", n++ ? ", " : "", item);
        }
    }
    return n;
}

static int shared_traits(const struct app_book *b, const struct app_result *res, size_t row,
                         struct sink *s, struct px_err *err)
{
    struct buf t;
    buf_init(&t, LIMIT_TEXT_BYTES);
    int rc = PX_OK;
    const struct query_schema *qs = engine_schema(b->eng);
    // values and items first (they say more than a close number), then numbers
    for (int pass = 0; pass < 2 && rc == PX_OK; pass++) {
        for (size_t c = 0; c < b->n_cols && rc == PX_OK && s->n < SHARED_MAX; c++) {
            const char *raw = book_raw_at(b, row, c);
            enum query_col_kind kind = query_schema_column_kind(qs, c);
            if (app_book_column_is_id(b, c) || raw[0] == '\0' || res->n_seeds == 0 ||
                (pass == 0) == (kind == QUERY_COL_NUMERIC)) {
                continue;
            }
            const char *label = app_book_column_label(b, c);
            bool shared = true;
            buf_reset(&t);
            if (kind == QUERY_COL_CATEGORY || kind == QUERY_COL_BOOL) {
                for (size_t k = 0; k < res->n_seeds && shared; k++) {
                    shared = strcasecmp(book_raw_at(b, res->seeds[k], c), raw) == 0;
                }
                const char *v = kind != QUERY_COL_BOOL ? raw : strcmp(raw, "0") ? "yes" : "no";
                rc = buf_printf(&t, err, "%s: %s", label, v);
            } else if (kind == QUERY_COL_LIST) {
                rc = buf_printf(&t, err, "%s: ", label);
                shared = rc == PX_OK && shared_items(b, res, c, raw, &t, err, &rc) > 0;
            } else if (kind == QUERY_COL_NUMERIC) {
                double v = strtod(raw, NULL), lo = INFINITY, hi = -INFINITY;
                double cv = engine_cdf(b->eng, c, v);
                shared = v != 0;
                for (size_t k = 0; k < res->n_seeds && shared; k++) {
                    const char *sr = book_raw_at(b, res->seeds[k], c);
                    double sv = strtod(sr, NULL), cs = engine_cdf(b->eng, c, sv);
                    double big = fabs(v) > fabs(sv) ? fabs(v) : fabs(sv);
                    shared = sr[0] != '\0' && !isnan(cv) && !isnan(cs) &&
                             fabs(cv - cs) <= SHARED_CDF_GAP && fabs(v - sv) <= SHARED_REL_GAP * big;
                    lo = sv < lo ? sv : lo;
                    hi = sv > hi ? sv : hi;
                }
                rc = lo == hi ? buf_printf(&t, err, "%s %s vs %.15g", label, raw, lo)
                              : buf_printf(&t, err, "%s %s vs %.15g to %.15g", label, raw, lo, hi);
            } else {
                shared = false;
            }
            struct why_item it = {.kind = "shared", .col = c, .label = label, .text = t.data};
            if (rc == PX_OK && shared) {
                rc = emit(s, b, &it, err);
            }
        }
    }
    buf_free(&t);
    return rc;
}

int book_why_put_json(const struct app_book *b, const struct app_result *res, size_t i,
                      struct buf *out, struct px_err *err)
{
    bool similar = res->plan == NULL;
    struct sink s = {similar ? SINK_STRINGS : SINK_JSON, out, 0};
    int rc = jsonx_put_key(out, similar ? "shared" : "why", false, err);
    if (rc == PX_OK) rc = buf_append(out, "[", 1, err);
    if (rc == PX_OK) {
        rc = similar ? shared_traits(b, res, res->hits[i].row, &s, err)
                     : why_items(b, res->plan->qp, res->hits[i].row, &s, err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

int app_result_why_line(const struct app_book *b, const struct app_result *res, size_t i,
                        struct buf *out, struct px_err *err)
{
    if (i >= res->n_hits) {
        return px_fail(err, PX_EINVAL, "result %zu of %zu", i, res->n_hits);
    }
    struct sink s = {SINK_LINE, out, 0};
    return res->plan == NULL ? shared_traits(b, res, res->hits[i].row, &s, err)
                             : why_items(b, res->plan->qp, res->hits[i].row, &s, err);
}
