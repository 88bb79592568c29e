// qgrammar.c — the grammar: items → plan (rules: query.h "Grammar and binding rules").
//
// One left-to-right walk over the items with a little pending state (struct pstate: negation,
// membership verb, the numeric column just mentioned, the column of the previous constraint)
// turns items into filters and boosts: numeric constraints (try_numeric reads the forms,
// do_numeric binds them to a column), values, column mentions, soft words. Afterwards
// contradictory filter pairs are listed and what no rule consumed becomes the semantic text.
#include "query_int.h"

#include <math.h>
#include <string.h>

#include "mem.h"
#include "vocab.h"

static int item_is(const struct pctx *x, size_t j, const char *w)
{
    if (j >= x->n_items || x->items[j].t1 - x->items[j].t0 != 1) {
        return 0;
    }
    const struct tok *t = &x->toks[x->items[j].t0];
    return t->mlen == strlen(w) && memcmp(x->low + t->moff, w, t->mlen) == 0;
}

static struct query_span span_of(const struct pctx *x, size_t j0, size_t j1_incl)
{
    const struct tok *a = &x->toks[x->items[j0].t0];
    const struct tok *b = &x->toks[x->items[j1_incl].t1 - 1];
    struct query_span sp = {a->off, b->off + b->len - a->off};
    return sp;
}

static struct query_span span_join(struct query_span a, struct query_span b)
{
    size_t lo = a.off < b.off ? a.off : b.off;
    size_t hi_a = a.off + a.len, hi_b = b.off + b.len;
    struct query_span sp = {lo, (hi_a > hi_b ? hi_a : hi_b) - lo};
    return sp;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem, struct px_err *err)
{
    if (n < *cap) {
        return PX_OK;
    }
    size_t c = *cap ? *cap * 2 : 8;
    void *p = px_realloc(*arr, c * elem);
    if (p == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory growing the query plan");
    }
    *arr = p;
    *cap = c;
    return PX_OK;
}

static int check_items(const struct pctx *x, struct px_err *err)
{
    if (x->plan->n_filters + x->plan->n_boosts >= LIMIT_QUERY_ITEMS) {
        return px_fail(err, PX_ELIMIT, "query has more than %d filters and boosts "
                       "(LIMIT_QUERY_ITEMS)", LIMIT_QUERY_ITEMS);
    }
    return PX_OK;
}

static int add_filter(struct pctx *x, const struct query_filter *f, struct px_err *err)
{
    int rc = check_items(x, err);
    if (rc == PX_OK) {
        rc = grow((void **)&x->plan->filters, &x->cap_f, x->plan->n_filters, sizeof *f, err);
    }
    if (rc == PX_OK) {
        x->plan->filters[x->plan->n_filters++] = *f;
    }
    return rc;
}

static int add_boost(struct pctx *x, const struct query_boost *b, struct px_err *err)
{
    int rc = check_items(x, err);
    if (rc == PX_OK) {
        rc = grow((void **)&x->plan->boosts, &x->cap_b, x->plan->n_boosts, sizeof *b, err);
    }
    if (rc == PX_OK) {
        x->plan->boosts[x->plan->n_boosts++] = *b;
    }
    return rc;
}

// A numeric constraint read at item j: items [j, end) form it.
struct numc {
    enum query_op op;
    double lo, hi;
    unsigned flags; // NUM_* of its numbers
    int bare;       // just "N": binds only next to a column mention
    long cmp_col;   // the comparator's own concept column ("older than"), or -1
    size_t end;
};

static int is_num(const struct pctx *x, size_t j) { return j < x->n_items && x->items[j].kind == IT_NUM; }

static int try_numeric(const struct pctx *x, size_t j, struct numc *nc)
{
    const struct item *it = &x->items[j];
    memset(nc, 0, sizeof *nc);
    nc->cmp_col = -1;
    size_t k = j;
    if (it->kind == IT_CMP) {
        if (!is_num(x, j + 1)) {
            return 0;
        }
        nc->op = it->lex->op;
        nc->cmp_col = it->col;
        nc->lo = x->items[j + 1].num;
        nc->flags = x->items[j + 1].flags;
        nc->end = j + 2;
        return 1;
    }
    int between = item_is(x, j, "between"), from = item_is(x, j, "from");
    if (between || from) {
        k = j + 1;
        if (!is_num(x, k) || !is_num(x, k + 2) ||
            !(item_is(x, k + 1, "and") || item_is(x, k + 1, "to") || item_is(x, k + 1, "-") ||
              item_is(x, k + 1, "through"))) {
            return 0;
        }
        double a = x->items[k].num, b = x->items[k + 2].num;
        nc->op = QUERY_OP_BETWEEN;
        nc->lo = a < b ? a : b;
        nc->hi = a < b ? b : a;
        nc->flags = x->items[k].flags | x->items[k + 2].flags;
        nc->end = k + 3;
        return 1;
    }
    if (it->kind != IT_NUM) {
        return 0;
    }
    nc->lo = it->num;
    nc->flags = it->flags;
    nc->end = j + 1;
    if ((item_is(x, j + 1, "to") || item_is(x, j + 1, "-") || item_is(x, j + 1, "through")) &&
        is_num(x, j + 2)) {
        double b = x->items[j + 2].num;
        nc->op = QUERY_OP_BETWEEN;
        nc->hi = b > nc->lo ? b : nc->lo;
        nc->lo = b > nc->lo ? nc->lo : b;
        nc->flags |= x->items[j + 2].flags;
        nc->end = j + 3;
    } else if (j + 1 < x->n_items && x->items[j + 1].kind == IT_CMP_AFTER) {
        nc->op = x->items[j + 1].lex->op;
        nc->end = j + 2;
    } else if (it->flags & NUM_PLUS) {
        nc->op = QUERY_OP_GE;
    } else if (it->flags & NUM_DECADE) {
        nc->op = QUERY_OP_BETWEEN; // ages are whole years: the 30s are 30..39
        nc->hi = nc->lo + 9;
    } else {
        nc->op = QUERY_OP_EQ;
        nc->bare = 1;
    }
    return 1;
}

// Typed value → the column's stored units (see query.h "Units").
static double to_stored(const struct qcol *c, double v, unsigned flags)
{
    if (c->scale == 1) {
        return v;
    }
    if (flags & (NUM_AMOUNT | NUM_PCT)) {
        return v / c->scale;
    }
    double max = c->q[c->n_q - 1];
    return v > max && v / c->scale <= max ? v / c->scale : v;
}

static enum query_op negate_op(enum query_op op, int *ok)
{
    *ok = 1;
    switch (op) {
    case QUERY_OP_LT: return QUERY_OP_GE;
    case QUERY_OP_LE: return QUERY_OP_GT;
    case QUERY_OP_GT: return QUERY_OP_LE;
    case QUERY_OP_GE: return QUERY_OP_LT;
    case QUERY_OP_EQ: return QUERY_OP_NE;
    case QUERY_OP_NE: return QUERY_OP_EQ;
    default: *ok = 0; return op;
    }
}

static void clear_pending(struct pstate *st)
{
    st->neg = st->member = st->pend = -1;
}

static size_t skip_fillers(const struct pctx *x, size_t j)
{
    while (j < x->n_items && x->items[j].kind == IT_FILLER) {
        j++;
    }
    return j;
}

static int starts_numeric(const struct pctx *x, size_t j)
{
    struct numc nc;
    return j < x->n_items && try_numeric(x, j, &nc);
}

// Handles a numeric constraint at item j; *done = 1 when it bound to a column (items marked
// used, *next = the item after it).
static int do_numeric(struct pctx *x, struct pstate *st, size_t j, const struct numc *nc,
                      int *done, size_t *next, struct px_err *err)
{
    *done = 0;
    long col = -1, mention = -1;
    size_t end = nc->end;
    int amount = (nc->flags & NUM_AMOUNT) != 0, pct = (nc->flags & NUM_PCT) != 0;
    if (st->pend >= 0) {
        col = x->items[st->pend].col, mention = st->pend;
    }
    if (col < 0) { // (3) a column mentioned right after: "over $100k in income"
        size_t k = skip_fillers(x, end);
        if (k < x->n_items && x->items[k].kind == IT_MENTION && x->items[k].col >= 0 &&
            x->s->cols[x->items[k].col].kind == QUERY_COL_NUMERIC) {
            col = x->items[k].col, mention = (long)k, end = k + 1;
        }
    }
    if (col < 0 && !nc->bare) {
        if (nc->cmp_col >= 0) {
            col = nc->cmp_col;
        } else if (st->last_col >= 0) {
            const struct qcol *c = &x->s->cols[st->last_col];
            double v = to_stored(c, nc->op == QUERY_OP_BETWEEN ? nc->hi : nc->lo, nc->flags);
            double w = to_stored(c, nc->lo, nc->flags);
            if (w >= c->q[0] && v <= c->q[c->n_q - 1]) {
                col = st->last_col;
            }
        }
        if (col < 0 && amount) {
            col = x->currency_col;
        } else if (col < 0 && pct) {
            col = x->percent_col;
        } else if (col < 0) {
            enum item_kind nk = end < x->n_items ? x->items[end].kind : IT_BREAK;
            if (nk != IT_WORD && nk != IT_VALUE && nk != IT_MENTION && nk != IT_NUM &&
                x->people_col >= 0) {
                // "customers over 65", "under 30" — but only for a plausible value: a number
                // past twice the column's maximum ("credit score over 750" on a table without
                // a credit score) is not an age, so it stays unbound (semantic text)
                const struct qcol *pc = &x->s->cols[x->people_col];
                double top = nc->op == QUERY_OP_BETWEEN ? nc->hi : nc->lo;
                if (top >= 0 && top <= 2 * pc->q[pc->n_q - 1]) {
                    col = x->people_col;
                }
            }
        }
    }
    if (col < 0) {
        return PX_OK;
    }
    const struct qcol *c = &x->s->cols[col];
    struct query_filter f;
    memset(&f, 0, sizeof f);
    f.i_col = (size_t)col;
    f.op = nc->op;
    f.lo = to_stored(c, nc->lo, nc->flags);
    if (nc->op == QUERY_OP_BETWEEN) {
        // both ends in the same units: "between 50 and 100000" on Income in $000 converts both
        // or neither, whatever the heuristic in to_stored says about each end alone
        f.hi = to_stored(c, nc->hi, nc->flags);
        if (f.hi != nc->hi || f.lo != nc->lo) {
            f.lo = nc->lo / c->scale;
            f.hi = nc->hi / c->scale;
        }
    }
    int negated = 0;
    if (st->neg >= 0 && !x->items[st->neg].used) { // a negation spent on values stays there
        f.op = negate_op(f.op, &negated);
    }
    f.span = span_of(x, j, end - 1);
    if (mention >= 0) {
        f.span = span_join(f.span, span_of(x, (size_t)mention, (size_t)mention));
    }
    if (negated) {
        f.span = span_join(f.span, span_of(x, (size_t)st->neg, (size_t)st->neg));
        x->items[st->neg].used = 1;
    }
    int rc = add_filter(x, &f, err);
    if (rc != PX_OK) {
        return rc;
    }
    for (size_t k = j; k < end; k++) {
        x->items[k].used = 1;
    }
    if (mention >= 0) {
        x->items[mention].used = 1;
    }
    if (st->member >= 0) {
        x->items[st->member].used = 1; // "with credit score over 750": the verb did its job
    }
    clear_pending(st);
    st->last_col = col;
    *done = 1;
    *next = end;
    return PX_OK;
}

// A value of a categorical or list column at item j.
static int do_value(struct pctx *x, struct pstate *st, size_t j, struct px_err *err)
{
    struct item *it = &x->items[j];
    const struct qcol *c = &x->s->cols[it->col];
    const char *v = c->values[it->i_value].orig;
    struct query_span sp = span_of(x, j, j);
    int neg = st->neg >= 0, member = st->member >= 0;
    int is_list = c->kind == QUERY_COL_LIST;
    // the book's vocabulary: how the words reached the value, and its alternatives
    const char *how = it->vhow > 0 ? vocab_how_name((enum vocab_how)(it->vhow - 1)) : NULL;
    size_t n_alts = it->n_alts > 1 ? it->n_alts : 0;
    if (is_list && !neg && !member) { // a mention, not a requirement: boost, stays semantic
        it->used = it->keep = 1;
        st->or_seen = 0;
        int rc = PX_OK;
        for (size_t a = 0; a < (n_alts ? n_alts : 1) && rc == PX_OK; a++) {
            struct query_boost b;
            memset(&b, 0, sizeof b);
            b.i_col = (size_t)it->col;
            b.op = QUERY_OP_CONTAINS;
            b.value = n_alts ? c->values[it->alts[a]].orig : v;
            b.quantile = -1;
            b.weight = x->lex->value_weight;
            b.span = sp;
            b.match_how = how;
            b.match_via = it->via;
            rc = b.weight > 0 ? add_boost(x, &b, err) : PX_OK;
        }
        return rc;
    }
    if (neg) {
        sp = span_join(sp, span_of(x, (size_t)st->neg, (size_t)st->neg));
        x->items[st->neg].used = 1;
    }
    if (member) {
        x->items[st->member].used = 1;
    }
    it->used = 1;
    struct query_plan *p = x->plan;
    if (st->or_seen && st->last_sf >= 0) {
        struct query_filter *f = &p->filters[st->last_sf];
        int f_neg = f->op == QUERY_OP_NE || f->op == QUERY_OP_NOT_CONTAINS ||
                    f->op == QUERY_OP_NOT_IN;
        if (f->i_col == (size_t)it->col && f_neg == neg &&
            f->n_values < LIMIT_QUERY_FILTER_VALUES) {
            for (size_t a = 0; a < (n_alts ? n_alts : 1); a++) {
                const char *va = n_alts ? c->values[it->alts[a]].orig : v;
                int dup = 0;
                for (size_t k = 0; k < f->n_values; k++) {
                    dup |= f->values[k] == va;
                }
                if (!dup && f->n_values < LIMIT_QUERY_FILTER_VALUES) {
                    f->values[f->n_values++] = va;
                }
            }
            f->op = neg ? QUERY_OP_NOT_IN : QUERY_OP_IN;
            if (f->match_how == NULL) {
                f->match_how = how;
                f->match_via = it->via;
            }
            f->span = span_join(f->span, sp);
            st->or_seen = 0;
            return PX_OK;
        }
    }
    struct query_filter f;
    memset(&f, 0, sizeof f);
    f.i_col = (size_t)it->col;
    f.op = is_list ? (neg ? QUERY_OP_NOT_CONTAINS : QUERY_OP_CONTAINS)
                   : (neg ? QUERY_OP_NE : QUERY_OP_EQ);
    f.n_values = 1;
    f.values[0] = v;
    if (n_alts) { // one reading with several values: holds any (none, negated) of them
        f.op = neg ? QUERY_OP_NOT_IN : QUERY_OP_IN;
        f.n_values = n_alts;
        for (size_t a = 0; a < n_alts; a++) {
            f.values[a] = c->values[it->alts[a]].orig;
        }
    }
    f.match_how = how;
    f.match_via = it->via;
    f.span = sp;
    st->or_seen = 0;
    st->last_sf = (long)p->n_filters;
    return add_filter(x, &f, err);
}

// A column mentioned with no number: bool → is_true/is_false; numeric after "with"/"without"
// → gt 0 / eq 0; otherwise it is left alone (returns with nothing used).
static int do_mention(struct pctx *x, struct pstate *st, size_t j, struct px_err *err)
{
    struct item *it = &x->items[j];
    const struct qcol *c = &x->s->cols[it->col];
    int neg = st->neg >= 0, member = st->member >= 0;
    struct query_filter f;
    memset(&f, 0, sizeof f);
    f.i_col = (size_t)it->col;
    f.span = span_of(x, j, j);
    if (c->kind == QUERY_COL_BOOL) {
        f.op = neg ? QUERY_OP_IS_FALSE : QUERY_OP_IS_TRUE;
    } else if (c->kind == QUERY_COL_NUMERIC) {
        if (starts_numeric(x, skip_fillers(x, j + 1))) {
            st->pend = (long)j;
            return PX_OK;
        }
        if (!neg && !member) {
            clear_pending(st);
            return PX_OK;
        }
        f.op = neg ? QUERY_OP_EQ : QUERY_OP_GT;
        f.lo = 0;
    } else {
        clear_pending(st);
        return PX_OK;
    }
    if (neg) {
        f.span = span_join(f.span, span_of(x, (size_t)st->neg, (size_t)st->neg));
        x->items[st->neg].used = 1;
    }
    if (member) {
        x->items[st->member].used = 1;
    }
    it->used = 1;
    clear_pending(st);
    return add_filter(x, &f, err);
}

static int do_soft(struct pctx *x, struct pstate *st, size_t j, struct px_err *err)
{
    struct item *it = &x->items[j];
    const struct lex_entry *e = it->lex;
    const struct qcol *c = &x->s->cols[it->col];
    struct query_boost b;
    memset(&b, 0, sizeof b);
    b.i_col = (size_t)it->col;
    b.weight = e->weight;
    b.span = span_of(x, j, j);
    if (e->dir == 0) {
        b.op = QUERY_OP_BETWEEN;
        b.lo = e->lo;
        b.hi = e->hi;
        b.quantile = -1;
    } else {
        b.op = e->dir > 0 ? QUERY_OP_GE : QUERY_OP_LE;
        b.lo = qcol_quantile(c, e->quantile);
        b.quantile = e->quantile;
    }
    it->used = 1;
    clear_pending(st);
    return b.weight > 0 ? add_boost(x, &b, err) : PX_OK;
}

static int numeric_interval(const struct query_filter *f, double *lo, double *hi, int *lo_open,
                            int *hi_open)
{
    *lo = -INFINITY, *hi = INFINITY, *lo_open = *hi_open = 0;
    switch (f->op) {
    case QUERY_OP_LT: *hi = f->lo, *hi_open = 1; return 1;
    case QUERY_OP_LE: *hi = f->lo; return 1;
    case QUERY_OP_GT: *lo = f->lo, *lo_open = 1; return 1;
    case QUERY_OP_GE: *lo = f->lo; return 1;
    case QUERY_OP_EQ: *lo = *hi = f->lo; return f->n_values == 0;
    case QUERY_OP_BETWEEN: *lo = f->lo, *hi = f->hi; return 1;
    default: return 0;
    }
}

static int has_value(const struct query_filter *f, const char *v)
{
    for (size_t i = 0; i < f->n_values; i++) {
        if (f->values[i] == v) {
            return 1;
        }
    }
    return 0;
}

// 1 when no row can pass both a and b (same column).
static int contradicts(const struct query_filter *a, const struct query_filter *b)
{
    double alo, ahi, blo, bhi;
    int alo_o, ahi_o, blo_o, bhi_o;
    if (numeric_interval(a, &alo, &ahi, &alo_o, &ahi_o) &&
        numeric_interval(b, &blo, &bhi, &blo_o, &bhi_o)) {
        return ahi < blo || bhi < alo || (ahi == blo && (ahi_o || blo_o)) ||
               (bhi == alo && (bhi_o || alo_o));
    }
    if ((a->op == QUERY_OP_IS_TRUE && b->op == QUERY_OP_IS_FALSE) ||
        (a->op == QUERY_OP_IS_FALSE && b->op == QUERY_OP_IS_TRUE)) {
        return 1;
    }
    if (a->n_values == 0 || b->n_values == 0) {
        return 0;
    }
    for (int swap = 0; swap < 2; swap++) {
        const struct query_filter *p = swap ? b : a, *q = swap ? a : b;
        if (p->op == QUERY_OP_EQ && q->op == QUERY_OP_EQ && p->values[0] != q->values[0]) {
            return 1;
        }
        if ((p->op == QUERY_OP_EQ && (q->op == QUERY_OP_NE || q->op == QUERY_OP_NOT_IN) &&
             has_value(q, p->values[0])) ||
            (p->op == QUERY_OP_EQ && q->op == QUERY_OP_IN && !has_value(q, p->values[0])) ||
            (p->op == QUERY_OP_CONTAINS &&
             (q->op == QUERY_OP_NOT_CONTAINS || q->op == QUERY_OP_NOT_IN) &&
             has_value(q, p->values[0]))) {
            return 1;
        }
    }
    return 0;
}

int qgrammar_conflicts(struct pctx *x, struct px_err *err)
{
    struct query_plan *p = x->plan;
    for (size_t a = 0; a < p->n_filters; a++) {
        for (size_t b = a + 1; b < p->n_filters; b++) {
            if (p->filters[a].i_col != p->filters[b].i_col ||
                !contradicts(&p->filters[a], &p->filters[b])) {
                continue;
            }
            int rc = grow((void **)&p->conflicts, &x->cap_c, p->n_conflicts,
                          sizeof *p->conflicts, err);
            if (rc != PX_OK) {
                return rc;
            }
            p->conflicts[p->n_conflicts].i_filter_a = a;
            p->conflicts[p->n_conflicts].i_filter_b = b;
            p->n_conflicts++;
        }
    }
    return PX_OK;
}

int qgrammar_semantic(struct pctx *x, struct px_err *err)
{
    struct buf b;
    buf_init(&b, LIMIT_QUERY_BYTES + 1);
    int rc = PX_OK;
    size_t prev_end = 0; // tokens adjacent in the query stay adjacent ("inco$100k")
    for (size_t j = 0; j < x->n_items && rc == PX_OK; j++) {
        const struct item *it = &x->items[j];
        if ((it->used && !it->keep) || it->kind == IT_FILLER || it->kind == IT_STOP ||
            it->kind == IT_PEOPLE || it->kind == IT_MEMBER || it->kind == IT_BREAK ||
            it->kind == IT_SYM) {
            continue;
        }
        for (size_t t = it->t0; t < it->t1 && rc == PX_OK; t++) {
            const struct tok *tk = &x->toks[t];
            if (tk->kind == TOK_BREAK || tk->kind == TOK_SYM) {
                continue;
            }
            if (b.len > 0 && tk->off != prev_end) {
                rc = buf_append(&b, " ", 1, err);
            }
            if (rc == PX_OK) {
                rc = buf_append(&b, x->text + tk->off, tk->len, err);
            }
            prev_end = tk->off + tk->len;
        }
    }
    if (rc == PX_OK) {
        x->plan->semantic_len = b.len;
        x->plan->semantic_text = b.len > 0 ? buf_take(&b) : px_strdup("");
        if (x->plan->semantic_text == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory building the semantic text");
        }
    }
    buf_free(&b);
    return rc;
}

int qgrammar_run(struct pctx *x, struct px_err *err)
{
    struct pstate st = {-1, -1, -1, -1, 0, -1};
    int rc = PX_OK;
    for (size_t j = 0; j < x->n_items && rc == PX_OK; j++) {
        struct item *it = &x->items[j];
        if (it->used) {
            continue;
        }
        struct numc nc;
        if (try_numeric(x, j, &nc)) {
            int done = 0;
            size_t next = j;
            rc = do_numeric(x, &st, j, &nc, &done, &next, err);
            if (rc != PX_OK) {
                break;
            }
            if (done) {
                st.or_seen = 0;
                j = next - 1;
                continue;
            }
        }
        switch (it->kind) {
        case IT_BREAK:
            clear_pending(&st);
            st.last_col = -1;
            st.or_seen = 0;
            st.last_sf = -1;
            break;
        case IT_FILLER:
            if (item_is(x, j, "or") || item_is(x, j, "nor")) {
                st.or_seen = 1;
            }
            break;
        case IT_NEG:
            st.neg = (long)j;
            break;
        case IT_MEMBER:
            st.member = (long)j;
            break;
        case IT_MENTION:
            rc = do_mention(x, &st, j, err);
            break;
        case IT_VALUE:
            rc = do_value(x, &st, j, err);
            break;
        case IT_SOFT:
        case IT_MODSOFT:
            rc = do_soft(x, &st, j, err);
            break;
        default: // words, stop words, unbound numbers and comparators end what was pending
            clear_pending(&st);
            st.last_col = -1;
            st.or_seen = 0;
            break;
        }
    }
    return rc;
}
