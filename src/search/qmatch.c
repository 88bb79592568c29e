// qmatch.c — matching: tokens → items (query_int.h).
//
// At each token the longest phrase among schema labels and values, lexicon aliases, soft words,
// modifier+column, comparators and grammar words becomes one item (ties broken by a fixed
// priority, see k_prio). Then the book's vocabulary (vocab.h, when the parse has one): its best
// candidate replaces that item only when it covers more words, so the parser's own exact match
// of the same length always wins and the vocabulary fills in what the values' own words did
// not reach (match_vocab). A token nothing matches becomes an item of its own kind (word,
// number, symbol, break). Typos were already replaced by their spelling (query.c,
// correct_typos: token moff / mlen), so they match here like typed words.
#include "query_int.h"

#include <string.h>

#include "mem.h"
#include "vocab.h"

// Tie-break among equally long matches (higher wins): a comparator or soft word is more
// specific than a schema value ("affluent" the level beats "Affluent" the segment), a value
// beats a bare column mention, grammar words come last.
static const int k_prio[] = {
    [IT_CMP] = 9,    [IT_SOFT] = 8,       [IT_MODSOFT] = 8, [IT_VALUE] = 6,  [IT_MENTION] = 5,
    [IT_NEG] = 4,    [IT_CMP_AFTER] = 3,  [IT_MEMBER] = 3,  [IT_NUM] = 3,    [IT_PEOPLE] = 2,
    [IT_STOP] = 1,   [IT_FILLER] = 1,     [IT_WORD] = 0,    [IT_SYM] = 0,    [IT_BREAK] = 0,
    [IT_READING] = 7,
};

static void cand(struct item *best, enum item_kind kind, size_t i, size_t n, long col,
                 long i_value, const struct lex_entry *e)
{
    if (n == 0) {
        return;
    }
    size_t best_n = best->t1 - best->t0;
    if (n > best_n || (n == best_n && k_prio[kind] > k_prio[best->kind])) {
        memset(best, 0, sizeof *best);
        best->kind = kind;
        best->t0 = i;
        best->t1 = i + n;
        best->col = col;
        best->i_value = i_value;
        best->lex = e;
    }
}

// The column of a lexicon concept: the first whose label or name holds the concept's words,
// else the first holding one of the concept's alias phrases ("income" on a table whose column
// is "Household earnings": "earnings" is an alias of income) that is not just part of the
// concept's own words. The people concept is resolved
// by its own words only: its aliases ("years") would make any number of years an age.
static long resolve(const struct pctx *x, const char *concept, int numeric_only)
{
    long c = qschema_resolve_concept(x->s, concept, numeric_only);
    if (c >= 0 || concept == NULL ||
        (x->lex->people_concept != NULL && strcmp(concept, x->lex->people_concept) == 0)) {
        return c;
    }
    for (size_t k = 0; k < x->lex->n && c < 0; k++) {
        const struct lex_entry *e = &x->lex->e[k];
        if (e->kind == LEX_ALIAS && e->concept != NULL && strcmp(e->concept, concept) == 0 &&
            e->ph.text != NULL && strstr(concept, e->ph.text) == NULL) {
            // an alias that is part of the concept's own words ("credit" of "credit score")
            // is a shortening, not another name: it would find any column with that word
            c = qschema_resolve_concept(x->s, e->ph.text, numeric_only);
        }
    }
    return c;
}

// Longest column mention (label, name or alias) at token i, restricted to numeric columns when
// numeric_only. Returns its token count (0: none) and the column in *col.
size_t qmatch_mention(const struct pctx *x, size_t i, int numeric_only, long *col)
{
    size_t best = 0;
    for (size_t c = 0; c < x->s->n; c++) {
        const struct qcol *q = &x->s->cols[c];
        if ((numeric_only && q->kind != QUERY_COL_NUMERIC) || q->kind == QUERY_COL_TEXT ||
            q->kind == QUERY_COL_ID) {
            continue;
        }
        size_t n = qphrase_match(&q->ph_label, x->toks, x->n_tok, i, x->low, 1);
        size_t m = qphrase_match(&q->ph_name, x->toks, x->n_tok, i, x->low, 1);
        n = m > n ? m : n;
        if (n > best) {
            best = n, *col = (long)c;
        }
    }
    for (size_t k = 0; k < x->lex->n; k++) {
        const struct lex_entry *e = &x->lex->e[k];
        if (e->kind != LEX_ALIAS) {
            continue;
        }
        size_t n = qphrase_match(&e->ph, x->toks, x->n_tok, i, x->low, 1);
        if (n > best) {
            long c = resolve(x, e->concept, numeric_only);
            if (c >= 0) {
                best = n, *col = c;
            }
        }
    }
    return best;
}

// Skips "is", "=", ":" between a label and its value ("segment is Private", "education: 3").
static size_t skip_is(const struct pctx *x, size_t i)
{
    if (i < x->n_tok) {
        const struct tok *t = &x->toks[i];
        const char *s = x->low + t->moff;
        if ((t->mlen == 2 && memcmp(s, "is", 2) == 0) ||
            (t->mlen == 1 && (*s == '=' || *s == ':'))) {
            return i + 1;
        }
    }
    return i;
}

// Relatives below this confidence (a broader term two levels up through a rare sense) are not
// taken as a reading: the words stay semantic.
#define VOCAB_MIN_CONFIDENCE 0.35

// The book's vocabulary at token i (search/vocab.h): its candidate replaces *best only when it
// covers more words than the parser's own match, so an exact label, value or grammar word of
// the same length always wins over a stem, a synonym or a relative. The best candidate's column
// and tier decide; the other values of that column in that tier are kept as alternatives
// ("Texas" → Dallas, Houston, Austin: one `in` filter).
static void match_vocab(const struct pctx *x, size_t i, struct item *best)
{
    const char *w[LIMIT_VOCAB_PHRASE_WORDS];
    size_t len[LIMIT_VOCAB_PHRASE_WORDS], n = 0;
    while (n < LIMIT_VOCAB_PHRASE_WORDS && i + n < x->n_tok && x->toks[i + n].kind == TOK_WORD) {
        w[n] = x->low + x->toks[i + n].moff;
        len[n] = x->toks[i + n].mlen;
        n++;
    }
    size_t best_n = best->t1 - best->t0;
    if (n <= best_n) {
        return;
    }
    struct vocab_cand c[LIMIT_VOCAB_CANDIDATES];
    size_t nc = 0;
    struct px_err e = {0};
    // out of memory here (the derived-form lookup's scratch synsets, libstemmer's buffer) costs
    // only the vocabulary's reading: the parser's own match stands (qmatch_at has no error
    // path), so the allocation is benign by design
    px_mem_benign_begin();
    int rc = vocab_lookup(x->vocab, w, len, n, c, LIMIT_VOCAB_CANDIDATES, &nc, &e);
    px_mem_benign_end();
    if (rc != PX_OK) {
        return;
    }
    size_t k = 0;
    for (; k < nc; k++) { // the best usable candidate
        const struct vocab_cand *t = &c[k];
        if (t->n_words <= best_n || t->confidence < VOCAB_MIN_CONFIDENCE ||
            t->i_col >= x->s->n) {
            continue;
        }
        enum query_col_kind kind = x->s->cols[t->i_col].kind;
        if (t->i_value == VOCAB_LABEL ? kind != QUERY_COL_TEXT && kind != QUERY_COL_ID
                                      : t->i_value >= 0 && (kind == QUERY_COL_CATEGORY ||
                                                            kind == QUERY_COL_LIST)) {
            break;
        }
    }
    if (k == nc) {
        return;
    }
    const struct vocab_cand *top = &c[k];
    // a modifier the parser does not know narrows a broader term in a way the vocabulary
    // cannot check ("medical professionals" are not every professional): the words stay
    // semantic rather than become a filter the rows may not mean
    if (top->how == VOCAB_BROADER && x->n_items > 0 && x->items[x->n_items - 1].kind == IT_WORD &&
        x->items[x->n_items - 1].t1 == i) {
        return;
    }
    memset(best, 0, sizeof *best);
    best->kind = top->i_value == VOCAB_LABEL ? IT_MENTION : IT_VALUE;
    best->t0 = i;
    best->t1 = i + top->n_words;
    best->col = (long)top->i_col;
    best->i_value = top->i_value;
    best->vhow = (int)top->how + 1;
    best->via = top->via;
    if (top->i_value < 0) {
        return;
    }
    for (size_t j = k; j < nc && best->n_alts < LIMIT_QUERY_FILTER_VALUES; j++) {
        if (c[j].i_col == top->i_col && c[j].i_value >= 0 &&
            vocab_how_tier(c[j].how) == vocab_how_tier(top->how) &&
            c[j].confidence >= VOCAB_MIN_CONFIDENCE) {
            best->alts[best->n_alts++] = c[j].i_value;
        }
    }
}

// 1 when value v of column c is a short upper-case code ("IN", "OR", "ME") typed at token i
// in lower case as one of the lexicon's words: "members in Ohio" says in, not Indiana.
static int code_is_grammar(const struct pctx *x, const struct qvalue *v, size_t i)
{
    const char *o = v->orig;
    size_t n = strlen(o);
    if (n > 3 || v->ph.n_words != 1) {
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        if (!(o[k] >= 'A' && o[k] <= 'Z')) {
            return 0;
        }
    }
    const struct tok *t = &x->toks[i];
    if (t->len == n && memcmp(x->text + t->off, o, n) == 0 && (i > 0 || n > 1)) {
        return 0; // typed as the code ("in IN"), not a capital "A" opening the query
    }
    for (size_t k = 0; k < x->lex->n; k++) {
        const struct lex_entry *e = &x->lex->e[k];
        if (e->ph.n_words == 1 && qphrase_match(&e->ph, x->toks, x->n_tok, i, x->low, 0) == 1) {
            return 1;
        }
    }
    return 0;
}

// The best item starting at token i.
struct item qmatch_at(const struct pctx *x, size_t i)
{
    struct item best;
    memset(&best, 0, sizeof best);
    best.t0 = best.t1 = i;
    best.col = -1;
    const struct query_schema *s = x->s;
    long col = -1;
    size_t n = qmatch_mention(x, i, 0, &col);
    cand(&best, IT_MENTION, i, n, col, -1, NULL);
    for (size_t c = 0; c < s->n; c++) {
        const struct qcol *q = &s->cols[c];
        if (q->kind != QUERY_COL_CATEGORY && q->kind != QUERY_COL_LIST) {
            continue;
        }
        // "label [is] value": the label first
        size_t nl = qphrase_match(&q->ph_label, x->toks, x->n_tok, i, x->low, 0);
        size_t nn = qphrase_match(&q->ph_name, x->toks, x->n_tok, i, x->low, 0);
        nl = nn > nl ? nn : nl;
        size_t after_label = nl > 0 ? skip_is(x, i + nl) : 0;
        for (size_t v = 0; v < q->n_values; v++) {
            const struct phrase *ph = &q->values[v].ph;
            if (nl > 0 && after_label < x->n_tok) {
                size_t nv = qphrase_match(ph, x->toks, x->n_tok, after_label, x->low, 0);
                cand(&best, IT_VALUE, i, nv ? after_label + nv - i : 0, (long)c, (long)v, NULL);
            }
            if (!q->values[v].has_alpha) {
                continue;
            }
            size_t nv = qphrase_match(ph, x->toks, x->n_tok, i, x->low, 1);
            if (nv == 0 || code_is_grammar(x, &q->values[v], i)) {
                continue;
            }
            // "value label" ("Private segment")
            size_t na = i + nv < x->n_tok
                            ? qphrase_match(&q->ph_label, x->toks, x->n_tok, i + nv, x->low, 1)
                            : 0;
            cand(&best, IT_VALUE, i, nv + na, (long)c, (long)v, NULL);
        }
    }
    static const enum item_kind k_kind[] = {
        [LEX_ALIAS] = IT_MENTION, [LEX_PEOPLE] = IT_PEOPLE,   [LEX_SOFT] = IT_SOFT,
        [LEX_MODIFIER] = IT_MODSOFT, [LEX_CMP] = IT_CMP,      [LEX_CMP_AFTER] = IT_CMP_AFTER,
        [LEX_MEMBER] = IT_MEMBER, [LEX_NEG] = IT_NEG,         [LEX_FILLER] = IT_FILLER,
        [LEX_STOP] = IT_STOP,     [LEX_NUMBER] = IT_NUM,      [LEX_DECADE] = IT_NUM,
        [LEX_READING] = IT_READING,
    };
    for (size_t k = 0; k < x->lex->n; k++) {
        const struct lex_entry *e = &x->lex->e[k];
        if (e->kind == LEX_ALIAS) {
            continue; // done by qmatch_mention
        }
        int plural = e->kind == LEX_PEOPLE || e->kind == LEX_SOFT || e->kind == LEX_READING;
        size_t ne = qphrase_match(&e->ph, x->toks, x->n_tok, i, x->low, plural);
        if (ne == 0) {
            continue;
        }
        // "or more" / "and under" only right after a number and not before one: in "over 750
        // and under 800" the "and" is a filler and "under" the next comparator
        if (e->kind == LEX_CMP_AFTER &&
            (x->n_items == 0 || x->items[x->n_items - 1].kind != IT_NUM ||
             (i + ne < x->n_tok && x->toks[i + ne].kind == TOK_NUM))) {
            continue;
        }
        long c = -1;
        if (e->kind == LEX_SOFT) {
            c = resolve(x, e->concept, 1);
            if (c < 0) {
                continue; // this table has no such column: the words stay semantic
            }
        } else if (e->kind == LEX_MODIFIER) {
            size_t nm = i + ne < x->n_tok ? qmatch_mention(x, i + ne, 1, &c) : 0;
            if (nm == 0) {
                continue;
            }
            ne += nm;
        } else if (e->kind == LEX_CMP) {
            c = resolve(x, e->concept, 1);
        }
        long alt = -1;
        if (e->kind == LEX_READING) { // the first alternative this table's columns hold
            const struct lex_rgroup *g = &x->lex->rg[e->rgroup];
            long cols[LIMIT_LEXICON_READING_CONS], vals[LIMIT_LEXICON_READING_CONS];
            for (size_t a = 0; a < g->n && alt < 0; a++) {
                if (qschema_resolve_alt(s, &g->a[a], cols, vals)) {
                    alt = (long)a, c = cols[0];
                }
            }
            if (alt < 0) {
                continue; // no reading fits this book: the words stay semantic
            }
            // a column named from inside the phrase that reaches past it is meant instead:
            // "with children in college" is the column, not the "with children" reading
            int longer = 0;
            for (size_t t = i + 1; t < i + ne && !longer; t++) {
                long mc = -1;
                longer = t + qmatch_mention(x, t, 0, &mc) > i + ne;
            }
            if (longer) {
                continue;
            }
        }
        cand(&best, k_kind[e->kind], i, ne, c, alt, e);
        if (best.lex == e && (e->kind == LEX_NUMBER || e->kind == LEX_DECADE)) {
            best.num = e->value;
            best.flags = e->kind == LEX_DECADE ? NUM_DECADE : 0;
        }
    }
    if (x->vocab != NULL) {
        match_vocab(x, i, &best);
    }
    if (best.t1 == i) { // nothing matched: the token as it is
        const struct tok *t = &x->toks[i];
        best.t1 = i + 1;
        // ... or the words of a lexicon concept this table has no column for ("credit score"
        // on a table without one): kept whole so their words do not name another column
        for (size_t k = 0; t->kind == TOK_WORD && k < x->lex->n; k++) {
            const struct lex_entry *e = &x->lex->e[k];
            size_t na = e->kind == LEX_ALIAS
                            ? qphrase_match(&e->ph, x->toks, x->n_tok, i, x->low, 1)
                            : 0;
            if (na > 0 && i + na >= best.t1) {
                best.t1 = i + na;
                best.missing = 1;
            }
        }
        best.kind = t->kind == TOK_NUM ? IT_NUM
                    : t->kind == TOK_SYM ? IT_SYM
                    : t->kind == TOK_BREAK ? IT_BREAK
                                           : IT_WORD;
        best.num = t->num;
        best.flags = t->flags;
    }
    return best;
}
