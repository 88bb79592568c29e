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

// Typed value → the column's stored units (see query.h "Units"). The column's declared scale
// wins when it has one; otherwise the units are read off the column's own distribution:
// - a percentage ("5%", "10 percent") on a column whose values all lie in [0, 1] is a fraction
//   (5% → 0.05), on any other column it is compared as typed (10% → 10);
// - an amount past the column's maximum whose thousandth fits it, on a column whose values are
//   all below 10,000, is in thousands ("income over 100k" on Income in $000 → 100): amounts
//   people type in dollars are that large only when the column counts thousands.
static double unit_div(const struct qcol *c, double v, unsigned flags)
{
    double min = c->q[0], max = c->q[c->n_q - 1];
    if (c->scale != 1) {
        if (flags & (NUM_AMOUNT | NUM_PCT)) {
            return c->scale;
        }
        return v > max && v / c->scale <= max ? c->scale : 1;
    }
    if (flags & NUM_PCT) {
        return min >= 0 && max <= 1 ? 100 : 1;
    }
    if ((flags & NUM_AMOUNT || v >= 1000) && v > max && v / 1000 <= max && max < 1e4) {
        return 1000;
    }
    return 1;
}

static double to_stored(const struct qcol *c, double v, unsigned flags)
{
    return v / unit_div(c, v, flags);
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
    st->neg = st->member = st->pend = st->pend_col = st->pend_alt = -1;
}

static size_t skip_fillers(const struct pctx *x, size_t j)
{
    while (j < x->n_items && x->items[j].kind == IT_FILLER) {
        j++;
    }
    return j;
}

static int is_conj(const struct pctx *x, size_t j)
{
    return item_is(x, j, "and") || item_is(x, j, "or") || item_is(x, j, "nor");
}

// Fillers and stop words ("in", "on their", "for") but not "and" / "or": what may stand
// between a number and the word that names its column ("over 70 and fico ..." names none).
static size_t skip_glue(const struct pctx *x, size_t j)
{
    while (j < x->n_items && (x->items[j].kind == IT_FILLER || x->items[j].kind == IT_STOP) &&
           !is_conj(x, j)) {
        j++;
    }
    return j;
}

static int starts_numeric(const struct pctx *x, size_t j)
{
    struct numc nc;
    return j < x->n_items && try_numeric(x, j, &nc);
}

static int add_reading(struct pctx *x, struct query_span sp, size_t col, long alt,
                       const char *reason, struct px_err *err)
{
    struct query_plan *p = x->plan;
    int rc = grow((void **)&p->readings, &x->cap_r, p->n_readings, sizeof *p->readings, err);
    if (rc == PX_OK) {
        struct query_reading *r = &p->readings[p->n_readings++];
        r->span = sp;
        r->i_col = col;
        r->alt_col = alt;
        r->reason = reason;
    }
    return rc;
}

// The column the word forms of item k name ("savings" → Savings balance, "invested" →
// Investment balance), numeric columns only when numeric_only, or -1; *alt: a second column
// they name as well (-1). Only words that are not already something more specific count:
// unknown words, list values (holdings have balances: "in savings") and mentions of
// non-numeric columns; a categorical value ("Student") stays a value.
static long words_column(const struct pctx *x, size_t k, int numeric_only, long *alt)
{
    *alt = -1;
    if (k >= x->n_items) {
        return -1;
    }
    const struct item *it = &x->items[k];
    int ok = it->kind == IT_WORD ||
             (it->kind == IT_VALUE && x->s->cols[it->col].kind == QUERY_COL_LIST) ||
             (it->kind == IT_MENTION && x->s->cols[it->col].kind != QUERY_COL_NUMERIC);
    if (it->used || !ok || (it->missing && it->t1 - it->t0 > 1)) {
        return -1; // a concept phrase this table lacks ("credit score") names nothing else
    }
    long best = -1;
    for (size_t t = it->t0; t < it->t1; t++) {
        const struct tok *tk = &x->toks[t];
        char st[QSTEM_BYTES];
        size_t sl = tk->kind == TOK_WORD ? qword_stem(x->text + tk->off, tk->len, st, sizeof st)
                                         : 0;
        // three letters at least, or an acronym typed in capitals ("CD")
        int caps = tk->len >= 2 && is_alpha((unsigned char)x->text[tk->off]) &&
                   x->text[tk->off] <= 'Z' && x->text[tk->off + 1] >= 'A' &&
                   x->text[tk->off + 1] <= 'Z';
        if (sl < 2 || (sl < 3 && !caps)) {
            continue;
        }
        long a = -1;
        size_t n = 0;
        long c = qschema_word_column(x->s, st, numeric_only, &a, &n);
        if (c >= 0 && n == 1) {
            *alt = -1;
            return c;
        }
        if (c >= 0 && best < 0) {
            best = c, *alt = a;
        }
    }
    return best;
}

// Binds a numeric constraint at item j; *done = 1 when it bound to a column (items marked
// used, *next = the item after it). The binding rules, in order, are query.h's.
static int do_numeric(struct pctx *x, struct pstate *st, size_t j, const struct numc *nc,
                      int *done, size_t *next, struct px_err *err)
{
    *done = 0;
    long col = -1, mention = -1, alt = -1;
    const char *why = NULL;
    size_t end = nc->end;
    int amount = (nc->flags & NUM_AMOUNT) != 0, pct = (nc->flags & NUM_PCT) != 0;
    if (st->pend >= 0) { // (1) a column named just before: "savings over 100000"
        col = st->pend_col, mention = st->pend, alt = st->pend_alt;
        why = alt >= 0 ? "the word before the number names two columns; the first applied" : NULL;
    }
    if (col < 0) { // (2) a column mentioned right after: "over $100k in income"
        size_t k = skip_glue(x, end);
        if (k < x->n_items && x->items[k].kind == IT_MENTION && x->items[k].col >= 0 &&
            x->s->cols[x->items[k].col].kind == QUERY_COL_NUMERIC) {
            col = x->items[k].col, mention = (long)k, end = k + 1;
        }
    }
    if (col < 0) { // (3) a word after it names one: "over $500k in savings"
        size_t k = skip_glue(x, end);
        long c = words_column(x, k, 1, &alt);
        if (c >= 0) {
            col = c, mention = (long)k, end = k + 1;
            why = alt >= 0 ? "the word after the number names two columns; the first applied"
                           : NULL;
        }
    }
    if (col < 0 && !nc->bare) {
        if (nc->cmp_col >= 0) { // (4) the comparator's concept: "older than 60"
            col = nc->cmp_col;
        } else if (st->last_col >= 0) { // (5) the previous constraint's column
            const struct qcol *c = &x->s->cols[st->last_col];
            double v = to_stored(c, nc->op == QUERY_OP_BETWEEN ? nc->hi : nc->lo, nc->flags);
            double w = to_stored(c, nc->lo, nc->flags);
            if (w >= c->q[0] && v <= c->q[c->n_q - 1]) {
                col = st->last_col;
            }
        }
        if (col < 0 && !amount && !pct && x->people_col >= 0) {
            // (6) the people concept: "customers over 65", "under 30 living in Dallas" — but
            // not when the next word names another column ("more than 3 products") or is a
            // number, and only for a plausible value: a number past twice the column's
            // maximum ("credit score over 750" on a table without a credit score) is no age
            size_t k = skip_fillers(x, end);
            enum item_kind nk = k < x->n_items ? x->items[k].kind : IT_BREAK;
            long a2 = -1;
            int names_col = words_column(x, k, 0, &a2) >= 0;
            const struct qcol *pc = &x->s->cols[x->people_col];
            double top = nc->op == QUERY_OP_BETWEEN ? nc->hi : nc->lo;
            if (nk != IT_MENTION && nk != IT_NUM && !names_col && top >= 0 &&
                top <= 2 * pc->q[pc->n_q - 1]) {
                col = x->people_col;
                why = "no column named: a number about people is read as the people concept's "
                      "column";
            }
        }
    }
    if (col < 0) {
        return PX_OK; // stays unused: reported as not understood
    }
    const struct qcol *c = &x->s->cols[col];
    struct query_filter f;
    memset(&f, 0, sizeof f);
    f.i_col = (size_t)col;
    f.op = nc->op;
    f.lo = to_stored(c, nc->lo, nc->flags);
    if (nc->op == QUERY_OP_BETWEEN) {
        // both ends in the same units: "between 50 and 100000" on Income in $000 converts both
        // or neither, whatever the heuristic in unit_div says about each end alone
        double da = unit_div(c, nc->lo, nc->flags), db = unit_div(c, nc->hi, nc->flags);
        double d = da > db ? da : db;
        f.lo = nc->lo / d;
        f.hi = nc->hi / d;
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
    if (rc == PX_OK && why != NULL) {
        rc = add_reading(x, f.span, (size_t)col, alt, why, err);
    }
    double div = unit_div(c, nc->op == QUERY_OP_BETWEEN ? nc->hi : nc->lo, nc->flags);
    if (rc == PX_OK && c->scale == 1 && div != 1) {
        rc = add_reading(x, f.span, (size_t)col, -1,
                         div == 100 ? "a percentage read as a fraction: the column's values lie "
                                      "in 0..1"
                                    : "an amount read in thousands: the column's values are all "
                                      "below 10,000",
                         err);
    }
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

static int has_value(const struct query_filter *f, const char *v)
{
    for (size_t i = 0; i < f->n_values; i++) {
        if (f->values[i] == v) {
            return 1;
        }
    }
    return 0;
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
    // a value inferred through a broader, narrower or containing term ("professionals",
    // "Texas") is a reading, not the words' whole meaning: they stay in the semantic text
    if (it->vhow - 1 == VOCAB_BROADER || it->vhow - 1 == VOCAB_NARROWER ||
        it->vhow - 1 == VOCAB_WHOLE) {
        it->keep = 1;
    }
    struct query_plan *p = x->plan;
    // "A or B", "A, B or C" of one column → in / not_in; "A and B" too on a single-valued
    // column ("doctors and lawyers": nobody is both, so the words mean either)
    if ((st->or_seen || (st->and_seen && !is_list)) && st->last_sf >= 0) {
        struct query_filter *f = &p->filters[st->last_sf];
        int f_neg = f->op == QUERY_OP_NE || f->op == QUERY_OP_NOT_CONTAINS ||
                    f->op == QUERY_OP_NOT_IN;
        if (f->i_col == (size_t)it->col && (f_neg == neg || (f_neg && !neg && !member)) &&
            f->n_values < LIMIT_QUERY_FILTER_VALUES) {
            for (size_t a = 0; a < (n_alts ? n_alts : 1); a++) {
                const char *va = n_alts ? c->values[it->alts[a]].orig : v;
                if (!has_value(f, va) && f->n_values < LIMIT_QUERY_FILTER_VALUES) {
                    f->values[f->n_values++] = va;
                }
            }
            f->op = f_neg ? QUERY_OP_NOT_IN : QUERY_OP_IN;
            if (f->match_how == NULL) {
                f->match_how = how;
                f->match_via = it->via;
            }
            f->span = span_join(f->span, sp);
            st->or_seen = st->and_seen = 0;
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
    st->or_seen = st->and_seen = 0;
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
        if (starts_numeric(x, skip_glue(x, j + 1))) {
            st->pend = (long)j;
            st->pend_col = it->col;
            st->pend_alt = -1;
            return PX_OK;
        }
        // "without a mortgage" is = 0 and "with children in college" > 0 only where the
        // column holds such values: "without a credit score" on 300..850 means neither
        if ((!neg && !member) || (neg && c->q[0] > 0) || (!neg && c->q[c->n_q - 1] <= 0)) {
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

// A word naming yes/no column col by its form, after a negation (is_false) or a membership
// verb (is_true).
static int do_bool_word(struct pctx *x, struct pstate *st, size_t j, size_t col,
                        struct px_err *err)
{
    int neg = st->neg >= 0;
    struct query_filter f;
    memset(&f, 0, sizeof f);
    f.i_col = col;
    f.op = neg ? QUERY_OP_IS_FALSE : QUERY_OP_IS_TRUE;
    f.span = span_of(x, j, j);
    long verb = neg ? st->neg : st->member;
    f.span = span_join(f.span, span_of(x, (size_t)verb, (size_t)verb));
    x->items[verb].used = 1;
    x->items[j].used = 1;
    clear_pending(st);
    return add_filter(x, &f, err);
}

// A lexicon phrase with alternative readings ("living alone", "parents", "recently got
// married"): the filters of the first alternative this book holds (chosen by qmatch_at, its
// index in i_value); when a later alternative fits the book too, the plan shows it as the
// reading not applied. A negation before a one-constraint reading inverts it.
static int do_reading(struct pctx *x, struct pstate *st, size_t j, struct px_err *err)
{
    struct item *it = &x->items[j];
    const struct lex_rgroup *g = &x->lex->rg[it->lex->rgroup];
    const struct lex_ralt *a = &g->a[it->i_value];
    long cols[LIMIT_LEXICON_READING_CONS], vals[LIMIT_LEXICON_READING_CONS];
    if (!qschema_resolve_alt(x->s, a, cols, vals)) {
        return PX_OK; // cannot happen: qmatch_at resolved it
    }
    int neg = st->neg >= 0 && a->n == 1;
    struct query_span sp = span_of(x, j, j);
    if (neg) {
        sp = span_join(sp, span_of(x, (size_t)st->neg, (size_t)st->neg));
        x->items[st->neg].used = 1;
    }
    int rc = PX_OK;
    for (size_t k = 0; k < a->n && rc == PX_OK; k++) {
        const struct lex_rcons *c = &a->c[k];
        struct query_filter f;
        memset(&f, 0, sizeof f);
        f.i_col = (size_t)cols[k];
        f.op = c->op;
        f.lo = c->num;
        f.span = sp;
        if (vals[k] >= 0) {
            f.n_values = 1;
            f.values[0] = x->s->cols[cols[k]].values[vals[k]].orig;
        }
        if (neg) {
            int ok = 0;
            f.op = f.op == QUERY_OP_CONTAINS       ? QUERY_OP_NOT_CONTAINS
                   : f.op == QUERY_OP_NOT_CONTAINS ? QUERY_OP_CONTAINS
                   : f.op == QUERY_OP_IS_TRUE      ? QUERY_OP_IS_FALSE
                   : f.op == QUERY_OP_IS_FALSE     ? QUERY_OP_IS_TRUE
                                                   : negate_op(f.op, &ok);
        }
        rc = add_filter(x, &f, err);
    }
    long other[LIMIT_LEXICON_READING_CONS], ov[LIMIT_LEXICON_READING_CONS];
    for (size_t b = (size_t)it->i_value + 1; b < g->n && rc == PX_OK; b++) {
        if (qschema_resolve_alt(x->s, &g->a[b], other, ov)) {
            rc = add_reading(x, sp, (size_t)cols[0], other[0],
                             "a phrase this book can read two ways: the lexicon's first "
                             "reading that fits its columns was applied",
                             err);
            break;
        }
    }
    if (st->member >= 0) {
        x->items[st->member].used = 1;
    }
    it->used = 1;
    clear_pending(st);
    return rc;
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
        // a negated soft word inverts its boost: "not wealthy" favours the rows below the
        // threshold "wealthy" would have favoured
        int inv = st->neg >= 0 && !x->items[st->neg].used;
        b.op = (e->dir > 0) != inv ? QUERY_OP_GE : QUERY_OP_LE;
        b.lo = qcol_quantile(c, e->quantile);
        b.quantile = e->quantile;
        if (inv) {
            b.span = span_join(b.span, span_of(x, (size_t)st->neg, (size_t)st->neg));
            x->items[st->neg].used = 1;
        }
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

// 1 when the break at item j is a comma between two values of the last string filter's column
// ("Frankfurt, Paris or London"): the list goes on.
static int list_comma(const struct pctx *x, const struct pstate *st, size_t j)
{
    if (st->last_sf < 0 || x->toks[x->items[j].t0].len != 1 ||
        x->text[x->toks[x->items[j].t0].off] != ',') {
        return 0;
    }
    size_t k = skip_fillers(x, j + 1);
    return k < x->n_items && x->items[k].kind == IT_VALUE &&
           (size_t)x->items[k].col == x->plan->filters[st->last_sf].i_col;
}

int qgrammar_run(struct pctx *x, struct px_err *err)
{
    struct pstate st;
    memset(&st, 0, sizeof st);
    clear_pending(&st);
    st.last_col = st.last_sf = -1;
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
                st.or_seen = st.and_seen = 0;
                j = next - 1;
                continue;
            }
        }
        // a word naming a numeric column by its form, just before a number: "savings over
        // 100000", "investments over 1 million"
        if (it->kind == IT_WORD || it->kind == IT_VALUE || it->kind == IT_MENTION) {
            long alt = -1, c = -1;
            size_t k = skip_glue(x, j + 1);
            // one more unknown word may follow the naming one: "default risk above 10%"
            size_t k2 = k < x->n_items && x->items[k].kind == IT_WORD && !x->items[k].missing
                            ? skip_glue(x, k + 1)
                            : k;
            int near = starts_numeric(x, k) || (k2 != k && starts_numeric(x, k2));
            if (near && (c = words_column(x, j, 1, &alt)) >= 0) {
                st.pend = (long)j;
                st.pend_col = c;
                st.pend_alt = alt;
                if (k2 != k && !starts_numeric(x, k)) {
                    x->items[k].used = 1; // the in-between word describes the column
                }
                continue;
            }
        }
        // a word naming a yes/no column by its form after a negation or verb: "non-digital",
        // "with both a CD and ...", "no CD"
        if (it->kind == IT_WORD && (st.neg >= 0 || st.member >= 0)) {
            long alt = -1;
            long c = words_column(x, j, 0, &alt);
            if (c >= 0 && alt < 0 && x->s->cols[c].kind == QUERY_COL_BOOL) {
                rc = do_bool_word(x, &st, j, (size_t)c, err);
                continue;
            }
        }
        switch (it->kind) {
        case IT_BREAK:
            if (list_comma(x, &st, j)) {
                st.or_seen = 1;
                break;
            }
            clear_pending(&st);
            st.last_col = -1;
            st.or_seen = st.and_seen = 0;
            st.last_sf = -1;
            break;
        case IT_FILLER:
            if (item_is(x, j, "or") || item_is(x, j, "nor")) {
                st.or_seen = 1;
            } else if (item_is(x, j, "and")) {
                st.and_seen = 1;
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
        case IT_READING:
            rc = do_reading(x, &st, j, err);
            break;
        case IT_STOP:
        case IT_PEOPLE:
            // "not interested in travel", "non-digital customers over 70": stop and people
            // words keep a pending negation or verb, and the previous constraint's column
            break;
        case IT_CMP:
            if (it->lex->op == QUERY_OP_NE) { // "other than Texas": a negation before a value
                st.neg = (long)j;
                break;
            }
            clear_pending(&st);
            st.last_col = -1;
            st.or_seen = st.and_seen = 0;
            break;
        case IT_WORD:
            // a negation reaches over a verb or two: "didn't accept the loan offer", "not
            // using internet banking"; everything else pending ends
            if (st.neg >= 0 && j - (size_t)st.neg <= 3) {
                long neg = st.neg;
                clear_pending(&st);
                st.neg = neg;
            } else {
                clear_pending(&st);
            }
            st.last_col = -1;
            st.or_seen = st.and_seen = 0;
            break;
        default: // unbound numbers end what was pending
            clear_pending(&st);
            st.last_col = -1;
            st.or_seen = st.and_seen = 0;
            break;
        }
    }
    return rc;
}

static int add_unknown(struct pctx *x, struct query_span sp, const char *reason, int suggest,
                       struct px_err *err)
{
    struct query_plan *p = x->plan;
    int rc = grow((void **)&p->unknown, &x->cap_u, p->n_unknown, sizeof *p->unknown, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct query_unknown *u = &p->unknown[p->n_unknown++];
    memset(u, 0, sizeof *u);
    u->span = sp;
    u->reason = reason;
    // did-you-mean: the book's vocabulary when the parse has one, else the schema's suggester
    if (suggest && x->vocab != NULL) {
        u->n_suggestions = vocab_suggest(x->vocab, x->low + sp.off, sp.len, u->suggestions,
                                         LIMIT_QUERY_SUGGESTIONS);
    } else if (suggest && x->s->sg.suggest != NULL) {
        u->n_suggestions = x->s->sg.suggest(x->s->sg.ctx, x->text + sp.off, sp.len,
                                            u->suggestions, LIMIT_QUERY_SUGGESTIONS);
    }
    if (u->n_suggestions > LIMIT_QUERY_SUGGESTIONS) {
        u->n_suggestions = LIMIT_QUERY_SUGGESTIONS;
    }
    return PX_OK;
}

int qgrammar_unknown(struct pctx *x, struct px_err *err)
{
    int rc = PX_OK;
    for (size_t j = 0; j < x->n_items && rc == PX_OK; j++) {
        const struct item *it = &x->items[j];
        if (it->used) {
            continue;
        }
        struct numc nc;
        if (try_numeric(x, j, &nc)) { // a constraint no column was found for, whole
            size_t last = nc.end - 1;
            while (last > j && x->items[last].used) {
                last--;
            }
            rc = add_unknown(x, span_of(x, j, last),
                             nc.bare ? "a number next to no column"
                                     : "no column named for this number (say which: \"income "
                                       "over 100k\")",
                             0, err);
            j = last;
            continue;
        }
        switch (it->kind) {
        case IT_WORD: {
            long alt = -1;
            if (words_column(x, j, 0, &alt) < 0) { // a word naming a column is understood
                rc = add_unknown(x, span_of(x, j, j),
                                 "no column or value holds it; searched as text", 1, err);
            }
            break;
        }
        case IT_NUM:
            rc = add_unknown(x, span_of(x, j, j), "a number next to no column", 0, err);
            break;
        case IT_NEG:
            rc = add_unknown(x, span_of(x, j, j), "a negation with nothing it applies to", 0,
                             err);
            break;
        case IT_CMP:
        case IT_CMP_AFTER:
            rc = add_unknown(x, span_of(x, j, j), "a comparison with no number", 0, err);
            break;
        default: // grammar words, column mentions (their words stay semantic), breaks
            break;
        }
    }
    return rc;
}
