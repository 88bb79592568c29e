// query.c — natural-language query → struct query_plan (format and rules: query.h).
//
// Design. Three passes over the query, each simple enough to test on its own:
//
//   text ──lex──▶ tokens ──match──▶ items ──grammar──▶ plan
//
// 1. lex: cursor functions (`const char **p`, advance on success) cut the UTF-8 bytes into
//    words, numbers (with $ / k / M / % / + / decade flags already folded in), comparison
//    symbols and clause breaks. Every token keeps its byte span; matching uses a lower-cased
//    copy of the text with the same offsets.
// 2. match: at each token the longest phrase among schema labels and values, lexicon aliases,
//    soft words, modifier+column, comparators and grammar words becomes one item (ties broken
//    by a fixed priority, see k_prio). Phrases are stored normalised the same way the query is
//    lexed (" w1 w2 ", padded so a concept lookup is one strstr), so "high-income",
//    "High Income" and "high income" are the same phrase.
// 3. grammar: one left-to-right walk with a little pending state (negation, membership verb,
//    the numeric column just mentioned, the column of the previous constraint) turns items
//    into filters and boosts; what no rule consumed is the semantic text.
//
// Everything the parser knows about words comes from the lexicon data file; everything it
// knows about columns comes from the schema. The code hard-codes only grammar: number syntax,
// "between/and", "from/to", "N-M", "or" merging, clause punctuation.
//
// Memory: a parse makes a handful of allocations (lower-cased copy, tokens, items, plan and
// its arrays); all through px_*, so the fault-injection test walks every one of them.
#include "query.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "jsonx.h"
#include "mem.h"
#include "utf8.h"

// ---- small helpers ----

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_wordc(int c) { return is_alpha(c) || is_digit(c) || c >= 0x80; }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// 1 when s[0..n) is valid UTF-8 (base/utf8.h: no overlongs, surrogates or code points past
// U+10FFFF); else 0 with *bad = offset of the first invalid byte.
static int utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
    *bad = utf8_check((const char *)s, n);
    return *bad == n;
}

// ---- lexer ----

enum tok_kind {
    TOK_WORD = 0,
    TOK_NUM = 1,
    TOK_SYM = 2,   // < > = <= >= != : + & -
    TOK_BREAK = 3, // , ; . ! ? ( ) [ ] / — ends a clause
};

#define NUM_AMOUNT 1u // $ prefix or k / M / bn / thousand / million suffix
#define NUM_PCT 2u    // % suffix
#define NUM_DECADE 4u // "30s", "30's", "thirties"
#define NUM_PLUS 8u   // "65+"

struct tok {
    enum tok_kind kind;
    size_t off, len; // bytes of the original text
    double num;      // TOK_NUM: value (multipliers applied)
    unsigned flags;  // TOK_NUM: NUM_*
};

// Reads a number at *p: [$]digits[,ddd]*[.digits][k|m|bn|b| thousand| million| billion][s|'s]
// [%][+]. Returns 1 and advances *p when one was read; 0 (cursor untouched) when the bytes are
// not a number ("3rd", "10x" and 16+ digit runs are words).
static int lex_number(const char **p, const char *end, double *val, unsigned *flags)
{
    const char *s = *p;
    unsigned f = 0;
    if (s < end && *s == '$') {
        f |= NUM_AMOUNT;
        s++;
    }
    if (s >= end || !is_digit((unsigned char)*s)) {
        return 0;
    }
    double v = 0;
    int n_dig = 0;
    for (;;) {
        while (s < end && is_digit((unsigned char)*s)) {
            v = v * 10 + (*s - '0');
            n_dig++;
            s++;
        }
        // a thousands group: exactly three digits after the comma ("100,000" but not "1,2")
        if (end - s >= 4 && s[0] == ',' && is_digit((unsigned char)s[1]) &&
            is_digit((unsigned char)s[2]) && is_digit((unsigned char)s[3]) &&
            (end - s == 4 || !is_digit((unsigned char)s[4]))) {
            s++;
            continue;
        }
        break;
    }
    if (n_dig > 15) { // beyond exact doubles; nobody means such a number
        return 0;
    }
    if (end - s >= 2 && s[0] == '.' && is_digit((unsigned char)s[1])) {
        s++;
        double scale = 0.1;
        int n_frac = 0;
        while (s < end && is_digit((unsigned char)*s)) {
            if (n_frac++ < 15) {
                v += (*s - '0') * scale;
                scale /= 10;
            }
            s++;
        }
    }
    // adjacent multiplier suffix
    const char *q = s;
    size_t rest = (size_t)(end - q);
    if (rest >= 1 && (lower((unsigned char)*q) == 'k') &&
        (rest == 1 || !is_wordc((unsigned char)q[1]))) {
        v *= 1e3, f |= NUM_AMOUNT, s = q + 1;
    } else if (rest >= 2 && lower((unsigned char)q[0]) == 'm' && lower((unsigned char)q[1]) == 'm' &&
               (rest == 2 || !is_wordc((unsigned char)q[2]))) {
        v *= 1e6, f |= NUM_AMOUNT, s = q + 2; // "5mm" (banker's million)
    } else if (rest >= 1 && lower((unsigned char)*q) == 'm' &&
               (rest == 1 || !is_wordc((unsigned char)q[1]))) {
        v *= 1e6, f |= NUM_AMOUNT, s = q + 1;
    } else if (rest >= 2 && lower((unsigned char)q[0]) == 'b' && lower((unsigned char)q[1]) == 'n' &&
               (rest == 2 || !is_wordc((unsigned char)q[2]))) {
        v *= 1e9, f |= NUM_AMOUNT, s = q + 2;
    } else if (rest >= 1 && lower((unsigned char)*q) == 'b' &&
               (rest == 1 || !is_wordc((unsigned char)q[1]))) {
        v *= 1e9, f |= NUM_AMOUNT, s = q + 1;
    } else if (rest >= 1 && *q == 's' && (rest == 1 || !is_wordc((unsigned char)q[1]))) {
        f |= NUM_DECADE, s = q + 1;
    } else if (rest >= 2 && q[0] == '\'' && q[1] == 's' &&
               (rest == 2 || !is_wordc((unsigned char)q[2]))) {
        f |= NUM_DECADE, s = q + 2;
    }
    if ((f & NUM_DECADE) && (v < 10 || v > 90 || fmod(v, 10) != 0)) {
        return 0; // "7s", "35s": not a decade
    }
    // spelled-out multiplier after a space: "100 thousand"
    static const struct {
        const char *w;
        double m;
    } k_mult[] = {{"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}};
    if (!(f & NUM_DECADE)) {
        const char *r = s;
        while (r < end && *r == ' ') {
            r++;
        }
        for (size_t i = 0; r > s && i < sizeof k_mult / sizeof k_mult[0]; i++) {
            size_t wl = strlen(k_mult[i].w);
            if ((size_t)(end - r) >= wl && strncmp(r, k_mult[i].w, wl) == 0 &&
                ((size_t)(end - r) == wl || !is_wordc((unsigned char)r[wl]))) {
                v *= k_mult[i].m, f |= NUM_AMOUNT, s = r + wl;
                break;
            }
        }
    }
    if (s < end && *s == '%') {
        f |= NUM_PCT;
        s++;
    }
    if (s < end && *s == '+') {
        f |= NUM_PLUS;
        s++;
    }
    if (s < end && is_wordc((unsigned char)*s)) {
        return 0;
    }
    *val = v;
    *flags = f;
    *p = s;
    return 1;
}

// Reads the next token at *p (base: start of the text, for offsets). Returns 1 with *t filled
// and *p advanced past it; 0 at the end of input. Separators (spaces, '_', quotes, a '-' between
// letters, stray symbols) are skipped.
static int lex_next(const char **p, const char *base, const char *end, struct tok *t)
{
    const char *s = *p;
    for (;;) {
        while (s < end) {
            unsigned char c = (unsigned char)*s;
            if (c == '-') {
                // '-' is a token next to a number ("30-40", "$50k-$100k"), else a separator
                int prev_num = s > base && is_digit((unsigned char)s[-1]);
                int next_num = s + 1 < end && (is_digit((unsigned char)s[1]) || s[1] == '$');
                if (prev_num || next_num) {
                    break;
                }
                s++;
                continue;
            }
            if (is_wordc(c) || c == '$' || strchr(",;.!?()[]/<>=:+&", c) != NULL) {
                if (c == '\0') { // strchr matches the terminator
                    s++;
                    continue;
                }
                if (c == '$' && !(s + 1 < end && is_digit((unsigned char)s[1]))) {
                    s++;
                    continue;
                }
                break;
            }
            s++;
        }
        if (s >= end) {
            *p = s;
            return 0;
        }
        break;
    }
    const char *start = s;
    unsigned char c = (unsigned char)*s;
    memset(t, 0, sizeof *t);
    t->off = (size_t)(start - base);
    if (is_digit(c) || c == '$') {
        double v;
        unsigned f;
        if (lex_number(&s, end, &v, &f)) {
            t->kind = TOK_NUM;
            t->num = v;
            t->flags = f;
            t->len = (size_t)(s - start);
            *p = s;
            return 1;
        }
        if (c == '$') { // "$" before a digit run that is not a number ("$3rd"): skip the '$'
            s++;
            start = s;
            t->off++;
        }
    }
    if (is_wordc(c) || c == '$') {
        while (s < end) {
            unsigned char d = (unsigned char)*s;
            if (is_wordc(d)) {
                s++;
            } else if (d == '\'' && s + 1 < end && is_alpha((unsigned char)s[1]) && s > start) {
                s++; // "doesn't", "customer's"
            } else {
                break;
            }
        }
        t->kind = TOK_WORD;
    } else if (c == '<' || c == '>' || c == '=' || (c == '!' && s + 1 < end && s[1] == '=')) {
        while (s < end && strchr("<>=!", *s) != NULL && *s != '\0' && s - start < 2) {
            s++;
        }
        t->kind = TOK_SYM;
    } else if (c == ':' || c == '+' || c == '&' || c == '-') {
        s++;
        t->kind = TOK_SYM;
    } else {
        s++;
        t->kind = TOK_BREAK;
    }
    t->len = (size_t)(s - start);
    *p = s;
    return 1;
}

// ---- phrases: normalised word sequences ----

// text is " w1 w2 ... " (lower-cased words joined by single spaces, padded), or NULL when the
// phrase could not be built (too long: never matched).
struct phrase {
    char *text;
    size_t n_words;
};

// Builds ph from s[0..n) with the query lexer: words, numbers and symbols kept, breaks dropped;
// with stop_paren, everything from the first '(' on is ignored ("Income (in $000)" → "income").
// PX_ELIMIT when longer than LIMIT_QUERY_PHRASE_BYTES / _WORDS, PX_EINVAL when it has no word.
static int phrase_build(const char *s, size_t n, int stop_paren, struct phrase *ph,
                        struct px_err *err)
{
    ph->text = NULL;
    ph->n_words = 0;
    if (stop_paren) {
        const char *paren = memchr(s, '(', n);
        if (paren != NULL) {
            n = (size_t)(paren - s);
        }
    }
    if (n > LIMIT_QUERY_PHRASE_BYTES) {
        return px_fail(err, PX_ELIMIT, "phrase longer than %d bytes (LIMIT_QUERY_PHRASE_BYTES)",
                       LIMIT_QUERY_PHRASE_BYTES);
    }
    char out[LIMIT_QUERY_PHRASE_BYTES * 2 + 4];
    size_t o = 0;
    out[o++] = ' ';
    const char *p = s, *end = s + n;
    struct tok t;
    while (lex_next(&p, s, end, &t)) {
        if (t.kind == TOK_BREAK) {
            continue;
        }
        if (ph->n_words == LIMIT_QUERY_PHRASE_WORDS) {
            return px_fail(err, PX_ELIMIT, "phrase has more than %d words "
                           "(LIMIT_QUERY_PHRASE_WORDS)", LIMIT_QUERY_PHRASE_WORDS);
        }
        for (size_t i = 0; i < t.len; i++) {
            out[o++] = (char)lower((unsigned char)s[t.off + i]);
        }
        out[o++] = ' ';
        ph->n_words++;
    }
    out[o] = '\0';
    if (ph->n_words == 0) {
        return px_fail(err, PX_EINVAL, "phrase has no words");
    }
    ph->text = px_strndup(out, o);
    if (ph->text == NULL) {
        ph->n_words = 0;
        return px_fail(err, PX_ENOMEM, "out of memory copying a phrase");
    }
    return PX_OK;
}

static void phrase_free(struct phrase *ph)
{
    px_free(ph->text);
    ph->text = NULL;
    ph->n_words = 0;
}

// 1 when token text s[0..sl) is the plural of word w[0..wl): +s, +es, y → ies.
static int is_plural(const char *w, size_t wl, const char *s, size_t sl)
{
    if (wl < 3 || !is_alpha((unsigned char)w[wl - 1])) {
        return 0;
    }
    if (sl == wl + 1 && s[wl] == 's' && memcmp(s, w, wl) == 0) {
        return 1;
    }
    if (sl == wl + 2 && s[wl] == 'e' && s[wl + 1] == 's' && memcmp(s, w, wl) == 0) {
        return 1;
    }
    return w[wl - 1] == 'y' && sl == wl + 2 && memcmp(s, w, wl - 1) == 0 &&
           memcmp(s + wl - 1, "ies", 3) == 0;
}

// Tokens the phrase matches starting at token i (0: no match). low: lower-cased query text.
static size_t phrase_match(const struct phrase *ph, const struct tok *toks, size_t n_tok,
                           size_t i, const char *low, int plural)
{
    if (ph->text == NULL || ph->n_words > n_tok - i) {
        return 0;
    }
    const char *w = ph->text + 1;
    for (size_t k = 0; k < ph->n_words; k++) {
        const char *e = strchr(w, ' ');
        size_t wl = (size_t)(e - w);
        const struct tok *t = &toks[i + k];
        if (t->kind == TOK_BREAK) {
            return 0;
        }
        const char *s = low + t->off;
        int same = t->len == wl && memcmp(s, w, wl) == 0;
        if (!same && !(plural && k + 1 == ph->n_words && is_plural(w, wl, s, t->len))) {
            return 0;
        }
        w = e + 1;
    }
    return ph->n_words;
}

// ---- schema ----

struct qvalue {
    char *orig;       // as given (what filters report)
    struct phrase ph; // text NULL: never matched
    int has_alpha;    // values without a letter ("1", "2") match only next to their label
};

struct qcol {
    char *name, *label;
    enum query_col_kind kind;
    enum query_unit unit;
    double scale;
    struct phrase ph_label, ph_name;
    double *q; // [n_q] distribution points, evenly spaced probabilities 0..1
    size_t n_q;
    struct qvalue *values; // [n_values]
    size_t n_values;
};

struct query_schema {
    struct qcol *cols; // [n]
    size_t n, cap;
};

int query_schema_new(struct query_schema **out, struct px_err *err)
{
    *out = px_calloc(1, sizeof **out);
    if (*out == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating a query schema");
    }
    return PX_OK;
}

static void col_free(struct qcol *c)
{
    px_free(c->name);
    px_free(c->label);
    phrase_free(&c->ph_label);
    phrase_free(&c->ph_name);
    px_free(c->q);
    for (size_t i = 0; i < c->n_values; i++) {
        px_free(c->values[i].orig);
        phrase_free(&c->values[i].ph);
    }
    px_free(c->values);
}

void query_schema_free(struct query_schema *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        col_free(&s->cols[i]);
    }
    px_free(s->cols);
    px_free(s);
}

size_t query_schema_n_columns(const struct query_schema *s) { return s->n; }
const char *query_schema_column_name(const struct query_schema *s, size_t i)
{
    return s->cols[i].name;
}
const char *query_schema_column_label(const struct query_schema *s, size_t i)
{
    return s->cols[i].label;
}
enum query_col_kind query_schema_column_kind(const struct query_schema *s, size_t i)
{
    return s->cols[i].kind;
}

// A phrase that is too long or wordless is simply never matched; only ENOMEM is an error.
static int phrase_build_soft(const char *s, int stop_paren, struct phrase *ph, struct px_err *err)
{
    struct px_err tmp = {0};
    int rc = phrase_build(s, strlen(s), stop_paren, ph, &tmp);
    if (rc == PX_ENOMEM) {
        return px_fail(err, PX_ENOMEM, "%s", tmp.msg);
    }
    return PX_OK;
}

static int check_text(const char *s, const char *what, struct px_err *err)
{
    size_t bad = 0;
    if (s == NULL || s[0] == '\0') {
        return px_fail(err, PX_EINVAL, "%s is empty", what);
    }
    if (!utf8_valid((const unsigned char *)s, strlen(s), &bad)) {
        return px_fail(err, PX_EINVAL, "%s: invalid UTF-8 at byte %zu", what, bad);
    }
    return PX_OK;
}

// Starts column name/label at the end of s (not yet counted in s->n; the caller commits it by
// incrementing s->n, or frees it with col_free).
static int col_begin(struct query_schema *s, const char *name, const char *label,
                     enum query_col_kind kind, struct qcol **out, struct px_err *err)
{
    int rc = check_text(name, "column name", err);
    if (rc == PX_OK && label != NULL) {
        rc = check_text(label, "column label", err);
    }
    if (rc != PX_OK) {
        return rc;
    }
    if (s->n >= LIMIT_QUERY_COLUMNS) {
        return px_fail(err, PX_ELIMIT, "more than %d columns (LIMIT_QUERY_COLUMNS)",
                       LIMIT_QUERY_COLUMNS);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->cols[i].name, name) == 0) {
            return px_fail(err, PX_EINVAL, "column '%s' added twice", name);
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct qcol *p = px_realloc(s->cols, cap * sizeof *p);
        if (p == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory growing the query schema");
        }
        s->cols = p;
        s->cap = cap;
    }
    struct qcol *c = &s->cols[s->n];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->scale = 1;
    c->name = px_strdup(name);
    c->label = px_strdup(label != NULL ? label : name);
    if (c->name == NULL || c->label == NULL) {
        col_free(c);
        return px_fail(err, PX_ENOMEM, "out of memory copying column '%s'", name);
    }
    if (label == NULL) { // humanise: "annual_income" → "Annual income"
        for (char *q = c->label; *q; q++) {
            if (*q == '_') {
                *q = ' ';
            }
        }
        c->label[0] = (char)(c->label[0] >= 'a' && c->label[0] <= 'z' ? c->label[0] - 32
                                                                        : c->label[0]);
    }
    rc = phrase_build_soft(c->label, 1, &c->ph_label, err);
    if (rc == PX_OK) {
        rc = phrase_build_soft(c->name, 1, &c->ph_name, err);
    }
    if (rc != PX_OK) {
        col_free(c);
        return rc;
    }
    *out = c;
    return PX_OK;
}

int query_schema_add_numeric(struct query_schema *s, const char *name, const char *label,
                             enum query_unit unit, double scale, const double *quantiles,
                             size_t n_quantiles, struct px_err *err)
{
    if (n_quantiles < 2 || n_quantiles > LIMIT_QUERY_QUANTILES || quantiles == NULL) {
        return px_fail(err, PX_EINVAL, "column '%s': %zu quantiles, need 2..%d", name ? name : "?",
                       n_quantiles, LIMIT_QUERY_QUANTILES);
    }
    if (!isfinite(scale) || scale <= 0) {
        return px_fail(err, PX_EINVAL, "column '%s': scale must be a positive finite number",
                       name ? name : "?");
    }
    if (unit < QUERY_UNIT_NONE || unit > QUERY_UNIT_DATE) {
        return px_fail(err, PX_EINVAL, "column '%s': unknown unit %d", name ? name : "?",
                       (int)unit);
    }
    for (size_t i = 0; i < n_quantiles; i++) {
        if (!isfinite(quantiles[i]) || (i > 0 && quantiles[i] < quantiles[i - 1])) {
            return px_fail(err, PX_EINVAL,
                           "column '%s': quantile %zu is not finite or decreases", name ? name : "?",
                           i);
        }
    }
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, QUERY_COL_NUMERIC, &c, err);
    if (rc != PX_OK) {
        return rc;
    }
    c->unit = unit;
    c->scale = scale;
    c->q = px_malloc(n_quantiles * sizeof *c->q);
    if (c->q == NULL) {
        col_free(c);
        return px_fail(err, PX_ENOMEM, "out of memory copying quantiles of '%s'", name);
    }
    memcpy(c->q, quantiles, n_quantiles * sizeof *c->q);
    c->n_q = n_quantiles;
    s->n++;
    return PX_OK;
}

int query_schema_add_category(struct query_schema *s, const char *name, const char *label,
                              const char *const *values, size_t n_values, bool is_list,
                              struct px_err *err)
{
    if (n_values > LIMIT_QUERY_VALUES) {
        return px_fail(err, PX_ELIMIT, "column '%s': more than %d values (LIMIT_QUERY_VALUES)",
                       name ? name : "?", LIMIT_QUERY_VALUES);
    }
    for (size_t i = 0; i < n_values; i++) {
        size_t bad = 0;
        if (values[i] == NULL ||
            !utf8_valid((const unsigned char *)values[i], strlen(values[i]), &bad)) {
            return px_fail(err, PX_EINVAL, "column '%s': value %zu is NULL or invalid UTF-8",
                           name ? name : "?", i);
        }
    }
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, is_list ? QUERY_COL_LIST : QUERY_COL_CATEGORY, &c, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (n_values > 0) {
        c->values = px_calloc(n_values, sizeof *c->values);
        if (c->values == NULL) {
            col_free(c);
            return px_fail(err, PX_ENOMEM, "out of memory copying values of '%s'", name);
        }
    }
    for (size_t i = 0; i < n_values; i++) {
        struct qvalue *v = &c->values[c->n_values];
        v->orig = px_strdup(values[i]);
        if (v->orig == NULL) {
            col_free(c);
            return px_fail(err, PX_ENOMEM, "out of memory copying values of '%s'", name);
        }
        c->n_values++; // counted now so col_free releases it
        rc = phrase_build_soft(values[i], 0, &v->ph, err);
        if (rc != PX_OK) {
            col_free(c);
            return rc;
        }
        if (v->ph.text == NULL) { // empty or unmatchable: keep nothing
            px_free(v->orig);
            v->orig = NULL;
            c->n_values--;
            continue;
        }
        for (const char *q = v->ph.text; *q; q++) {
            v->has_alpha |= is_alpha((unsigned char)*q) || (unsigned char)*q >= 0x80;
        }
    }
    s->n++;
    return PX_OK;
}

int query_schema_add_bool(struct query_schema *s, const char *name, const char *label,
                          struct px_err *err)
{
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, QUERY_COL_BOOL, &c, err);
    if (rc == PX_OK) {
        s->n++;
    }
    return rc;
}

int query_schema_add_other(struct query_schema *s, const char *name, const char *label,
                           enum query_col_kind kind, struct px_err *err)
{
    if (kind != QUERY_COL_TEXT && kind != QUERY_COL_ID) {
        return px_fail(err, PX_EINVAL, "column '%s': add_other takes TEXT or ID",
                       name ? name : "?");
    }
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, kind, &c, err);
    if (rc == PX_OK) {
        s->n++;
    }
    return rc;
}

// Value at probability p in [0, 1], interpolated linearly between distribution points.
static double col_quantile(const struct qcol *c, double p)
{
    double pos = p * (double)(c->n_q - 1);
    size_t i = (size_t)pos;
    if (i >= c->n_q - 1) {
        return c->q[c->n_q - 1];
    }
    double frac = pos - (double)i;
    return c->q[i] + frac * (c->q[i + 1] - c->q[i]);
}

// First column whose label or name contains the concept's words (padded phrase text), numeric
// columns first; -1 when none.
static long resolve_concept(const struct query_schema *s, const char *concept, int numeric_only)
{
    if (concept == NULL) {
        return -1;
    }
    for (int pass = 0; pass < (numeric_only ? 1 : 2); pass++) {
        for (size_t i = 0; i < s->n; i++) {
            const struct qcol *c = &s->cols[i];
            int numeric = c->kind == QUERY_COL_NUMERIC;
            if ((pass == 0) != numeric || c->kind == QUERY_COL_TEXT || c->kind == QUERY_COL_ID) {
                continue;
            }
            if ((c->ph_label.text && strstr(c->ph_label.text, concept)) ||
                (c->ph_name.text && strstr(c->ph_name.text, concept))) {
                return (long)i;
            }
        }
    }
    return -1;
}

// ---- lexicon ----

enum lex_kind {
    LEX_ALIAS = 0,     // phrase → concept (→ column)
    LEX_PEOPLE = 1,    // "customers": a stop word; bare numbers mean people_concept
    LEX_SOFT = 2,      // "affluent": concept + direction/quantile or range
    LEX_MODIFIER = 3,  // "high": + a numeric column mention
    LEX_CMP = 4,       // "over": op before the number (optionally with its own concept)
    LEX_CMP_AFTER = 5, // "or more": op after the number
    LEX_MEMBER = 6,    // "has", "owns", "with"
    LEX_NEG = 7,       // "without", "no", "not"
    LEX_FILLER = 8,    // "a", "the", "of", "and", "or": keep pending state
    LEX_STOP = 9,      // "find", "interested": dropped from the semantic text
    LEX_NUMBER = 10,   // "two" → 2
    LEX_DECADE = 11,   // "thirties" → 30s
};

struct lex_entry {
    enum lex_kind kind;
    struct phrase ph;
    char *concept;    // padded phrase text, owned, or NULL
    enum query_op op; // CMP / CMP_AFTER
    int dir;          // SOFT / MODIFIER: +1 high, -1 low, 0 range [lo, hi]
    double quantile;  // SOFT / MODIFIER with dir != 0
    double lo, hi;    // SOFT range
    double weight;    // SOFT / MODIFIER
    double value;     // NUMBER / DECADE
};

struct query_lexicon {
    struct lex_entry *e; // [n]
    size_t n, cap;
    char *people_concept;   // padded, owned; NULL: bare numbers stay unbound
    char *currency_concept; // padded, owned; which currency column "$100k" means by default
    double value_weight;    // boost weight of a bare list-value mention
};

static void entry_free(struct lex_entry *e)
{
    phrase_free(&e->ph);
    px_free(e->concept);
    e->concept = NULL;
}

void query_lexicon_free(struct query_lexicon *lex)
{
    if (lex == NULL) {
        return;
    }
    for (size_t i = 0; i < lex->n; i++) {
        entry_free(&lex->e[i]);
    }
    px_free(lex->e);
    px_free(lex->people_concept);
    px_free(lex->currency_concept);
    px_free(lex);
}

// Normalised concept text (padded) of s, owned in *out.
static int concept_build(const char *s, const char *what, char **out, struct px_err *err)
{
    struct phrase ph;
    *out = NULL;
    int rc = phrase_build(s, strlen(s), 0, &ph, err);
    if (rc != PX_OK) {
        return px_err_prefix(err, "%s: concept \"%s\"", what, s);
    }
    *out = ph.text;
    return PX_OK;
}

// Adds (or replaces, same kind and phrase) one entry; tmpl carries the numbers.
static int lex_add(struct query_lexicon *lex, enum lex_kind kind, const char *words,
                   const char *concept, const struct lex_entry *tmpl, const char *what,
                   struct px_err *err)
{
    struct lex_entry e = *tmpl;
    e.kind = kind;
    e.ph.text = NULL;
    e.concept = NULL;
    size_t bad = 0;
    if (!utf8_valid((const unsigned char *)words, strlen(words), &bad)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\": invalid UTF-8 at byte %zu", what, words, bad);
    }
    int rc = phrase_build(words, strlen(words), 0, &e.ph, err);
    if (rc != PX_OK) {
        return px_err_prefix(err, "%s: \"%s\"", what, words);
    }
    if (concept != NULL) {
        rc = concept_build(concept, what, &e.concept, err);
        if (rc != PX_OK) {
            entry_free(&e);
            return rc;
        }
    }
    for (size_t i = 0; i < lex->n; i++) {
        if (lex->e[i].kind == kind && strcmp(lex->e[i].ph.text, e.ph.text) == 0) {
            entry_free(&lex->e[i]);
            lex->e[i] = e;
            return PX_OK;
        }
    }
    if (lex->n >= LIMIT_LEXICON_ENTRIES) {
        entry_free(&e);
        return px_fail(err, PX_ELIMIT, "%s: more than %d lexicon entries (LIMIT_LEXICON_ENTRIES)",
                       what, LIMIT_LEXICON_ENTRIES);
    }
    if (lex->n == lex->cap) {
        size_t cap = lex->cap ? lex->cap * 2 : 256;
        struct lex_entry *p = px_realloc(lex->e, cap * sizeof *p);
        if (p == NULL) {
            entry_free(&e);
            return px_fail(err, PX_ENOMEM, "out of memory growing the lexicon");
        }
        lex->e = p;
        lex->cap = cap;
    }
    lex->e[lex->n++] = e;
    return PX_OK;
}

// Adds every string of array arr (section name `key`) as kind.
static int lex_add_strings(struct query_lexicon *lex, const cJSON *arr, enum lex_kind kind,
                           const char *concept, const struct lex_entry *tmpl, const char *what,
                           const char *key, struct px_err *err)
{
    if (!cJSON_IsArray(arr)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an array of strings", what, key);
    }
    size_t i = 0;
    for (const cJSON *it = arr->child; it != NULL; it = it->next, i++) {
        if (!cJSON_IsString(it)) {
            return px_fail(err, PX_EFORMAT, "%s: %s[%zu] is not a string", what, key, i);
        }
        char where[160];
        snprintf(where, sizeof where, "%s: %s[%zu]", what, key, i);
        int rc = lex_add(lex, kind, it->valuestring, concept, tmpl, where, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static int parse_op(const char *s, enum query_op *op)
{
    static const char *const k_ops[] = {"lt", "le", "gt", "ge", "eq", "ne"};
    for (int i = 0; i < 6; i++) {
        if (strcmp(s, k_ops[i]) == 0) {
            *op = (enum query_op)i;
            return 1;
        }
    }
    return 0;
}

// "soft" / "modifiers" / "comparators": arrays of objects each with a "words" array.
static int lex_add_objects(struct query_lexicon *lex, const cJSON *arr, enum lex_kind kind,
                           const char *what, const char *key, struct px_err *err)
{
    if (!cJSON_IsArray(arr)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an array of objects", what, key);
    }
    size_t i = 0;
    for (const cJSON *o = arr->child; o != NULL; o = o->next, i++) {
        char where[160];
        snprintf(where, sizeof where, "%s: %s[%zu]", what, key, i);
        if (!cJSON_IsObject(o)) {
            return px_fail(err, PX_EFORMAT, "%s is not an object", where);
        }
        struct lex_entry t = {0};
        const char *concept = NULL, *dir = NULL, *op = NULL, *pos = NULL;
        int rc = jsonx_get_string(o, "concept", kind == LEX_SOFT, NULL, &concept, where, err);
        if (rc == PX_OK) {
            rc = jsonx_get_double(o, "weight", false, 1.0, 0.0, 100.0, &t.weight, where, err);
        }
        if (rc != PX_OK) {
            return rc;
        }
        enum lex_kind k = kind;
        if (kind == LEX_CMP) {
            rc = jsonx_get_string(o, "op", true, NULL, &op, where, err);
            if (rc == PX_OK) {
                rc = jsonx_get_string(o, "position", false, "before", &pos, where, err);
            }
            if (rc != PX_OK) {
                return rc;
            }
            if (!parse_op(op, &t.op)) {
                return px_fail(err, PX_EFORMAT, "%s: op \"%s\" is not lt/le/gt/ge/eq/ne", where,
                               op);
            }
            if (strcmp(pos, "after") == 0) {
                k = LEX_CMP_AFTER;
            } else if (strcmp(pos, "before") != 0) {
                return px_fail(err, PX_EFORMAT, "%s: position must be \"before\" or \"after\"",
                               where);
            }
        } else {
            const cJSON *range = cJSON_GetObjectItemCaseSensitive(o, "range");
            if (range != NULL) {
                if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2 ||
                    !cJSON_IsNumber(range->child) || !cJSON_IsNumber(range->child->next) ||
                    !isfinite(range->child->valuedouble) ||
                    !isfinite(range->child->next->valuedouble) ||
                    range->child->valuedouble > range->child->next->valuedouble) {
                    return px_fail(err, PX_EFORMAT, "%s: range must be [lo, hi], lo <= hi", where);
                }
                t.dir = 0;
                t.lo = range->child->valuedouble;
                t.hi = range->child->next->valuedouble;
                t.quantile = -1;
            } else {
                rc = jsonx_get_string(o, "direction", true, NULL, &dir, where, err);
                if (rc == PX_OK) {
                    rc = jsonx_get_double(o, "quantile", true, 0, 0, 1, &t.quantile, where, err);
                }
                if (rc != PX_OK) {
                    return rc;
                }
                if (strcmp(dir, "high") == 0) {
                    t.dir = 1;
                } else if (strcmp(dir, "low") == 0) {
                    t.dir = -1;
                } else {
                    return px_fail(err, PX_EFORMAT, "%s: direction must be \"high\" or \"low\"",
                                   where);
                }
            }
        }
        rc = lex_add_strings(lex, cJSON_GetObjectItemCaseSensitive(o, "words"), k, concept, &t,
                             where, "words", err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

// "numbers" / "decades": {word: value}.
static int lex_add_numbers(struct query_lexicon *lex, const cJSON *obj, enum lex_kind kind,
                           const char *what, const char *key, struct px_err *err)
{
    if (!cJSON_IsObject(obj)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an object of numbers", what, key);
    }
    for (const cJSON *it = obj->child; it != NULL; it = it->next) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
            it->valuedouble > 1e15 ||
            (kind == LEX_DECADE && (it->valuedouble < 10 || it->valuedouble > 90 ||
                                    fmod(it->valuedouble, 10) != 0))) {
            return px_fail(err, PX_EFORMAT, "%s: %s.\"%s\" is not a valid number", what, key,
                           it->string);
        }
        struct lex_entry t = {0};
        t.value = it->valuedouble;
        char where[160];
        snprintf(where, sizeof where, "%s: %s", what, key);
        int rc = lex_add(lex, kind, it->string, NULL, &t, where, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static int set_concept(char **slot, const cJSON *root, const char *key, const char *what,
                       struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v == NULL) {
        return PX_OK;
    }
    if (!cJSON_IsString(v)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be a string", what, key);
    }
    char *c = NULL;
    int rc = concept_build(v->valuestring, what, &c, err);
    if (rc == PX_OK) {
        px_free(*slot);
        *slot = c;
    }
    return rc;
}

static int lex_merge_tree(struct query_lexicon *lex, const cJSON *root, const char *what,
                          struct px_err *err)
{
    if (!cJSON_IsObject(root)) {
        return px_fail(err, PX_EFORMAT, "%s: the lexicon must be a JSON object", what);
    }
    static const char *const k_known[] = {
        "format",  "version",   "concepts",   "people",   "people_concept", "currency_concept",
        "soft",    "modifiers", "comparators", "membership", "negation",     "fillers",
        "stopwords", "numbers", "decades",    "value_mention_weight"};
    for (const cJSON *it = root->child; it != NULL; it = it->next) {
        int known = it->string != NULL && it->string[0] == '_'; // "_comment" keys
        for (size_t i = 0; !known && i < sizeof k_known / sizeof k_known[0]; i++) {
            known = strcmp(it->string, k_known[i]) == 0;
        }
        if (!known) {
            return px_fail(err, PX_EFORMAT, "%s: unknown key \"%s\"", what, it->string);
        }
    }
    int64_t version = 1;
    int rc = jsonx_get_int(root, "version", false, 1, 1, 1, &version, what, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = jsonx_get_double(root, "value_mention_weight", false, lex->value_weight, 0, 100,
                          &lex->value_weight, what, err);
    if (rc != PX_OK) {
        return rc;
    }
    if ((rc = set_concept(&lex->people_concept, root, "people_concept", what, err)) != PX_OK ||
        (rc = set_concept(&lex->currency_concept, root, "currency_concept", what, err)) != PX_OK) {
        return rc;
    }
    const struct lex_entry none = {0};
    const cJSON *concepts = cJSON_GetObjectItemCaseSensitive(root, "concepts");
    if (concepts != NULL) {
        if (!cJSON_IsObject(concepts)) {
            return px_fail(err, PX_EFORMAT, "%s: \"concepts\" must be an object", what);
        }
        for (const cJSON *c = concepts->child; c != NULL; c = c->next) {
            char where[160];
            snprintf(where, sizeof where, "%s: concepts.\"%s\"", what, c->string);
            rc = lex_add(lex, LEX_ALIAS, c->string, c->string, &none, where, err);
            if (rc == PX_OK) {
                rc = lex_add_strings(lex, c, LEX_ALIAS, c->string, &none, where, "aliases", err);
            }
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    static const struct {
        const char *key;
        enum lex_kind kind;
    } k_lists[] = {
        {"people", LEX_PEOPLE},   {"membership", LEX_MEMBER}, {"negation", LEX_NEG},
        {"fillers", LEX_FILLER},  {"stopwords", LEX_STOP},
    };
    for (size_t i = 0; i < sizeof k_lists / sizeof k_lists[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, k_lists[i].key);
        if (a != NULL) {
            rc = lex_add_strings(lex, a, k_lists[i].kind, NULL, &none, what, k_lists[i].key, err);
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    static const struct {
        const char *key;
        enum lex_kind kind;
    } k_objs[] = {{"soft", LEX_SOFT}, {"modifiers", LEX_MODIFIER}, {"comparators", LEX_CMP}};
    for (size_t i = 0; i < sizeof k_objs / sizeof k_objs[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, k_objs[i].key);
        if (a != NULL) {
            rc = lex_add_objects(lex, a, k_objs[i].kind, what, k_objs[i].key, err);
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    const cJSON *nums = cJSON_GetObjectItemCaseSensitive(root, "numbers");
    if (nums != NULL && (rc = lex_add_numbers(lex, nums, LEX_NUMBER, what, "numbers", err))) {
        return rc;
    }
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decades");
    if (dec != NULL && (rc = lex_add_numbers(lex, dec, LEX_DECADE, what, "decades", err))) {
        return rc;
    }
    return PX_OK;
}

int query_lexicon_merge(struct query_lexicon *lex, const char *json, size_t len,
                        const char *what, struct px_err *err)
{
    if (len > LIMIT_LEXICON_BYTES) {
        return px_fail(err, PX_ELIMIT, "%s: larger than %u bytes (LIMIT_LEXICON_BYTES)", what,
                       LIMIT_LEXICON_BYTES);
    }
    cJSON *root = NULL; // owned; cJSON_Delete
    int rc = jsonx_parse(json, len, what, &root, err);
    if (rc == PX_OK) {
        rc = lex_merge_tree(lex, root, what, err);
    }
    cJSON_Delete(root);
    return rc;
}

int query_lexicon_parse(const char *json, size_t len, struct query_lexicon **out,
                        struct px_err *err)
{
    *out = NULL;
    struct query_lexicon *lex = px_calloc(1, sizeof *lex);
    if (lex == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating a lexicon");
    }
    lex->value_weight = 0.5;
    int rc = query_lexicon_merge(lex, json, len, "lexicon", err);
    if (rc != PX_OK) {
        query_lexicon_free(lex);
        return rc;
    }
    *out = lex;
    return PX_OK;
}

int query_lexicon_load(struct query_lexicon *lex, const char *path, struct px_err *err)
{
    cJSON *root = NULL;
    int rc = jsonx_parse_file(path, LIMIT_LEXICON_BYTES, &root, err);
    if (rc == PX_OK) {
        rc = lex_merge_tree(lex, root, path, err);
    }
    cJSON_Delete(root);
    return rc;
}

// ---- matching: tokens → items ----

enum item_kind {
    IT_WORD = 0,    // unknown word: semantic
    IT_NUM = 1,     // number (token or lexicon number word)
    IT_SYM = 2,
    IT_BREAK = 3,
    IT_MENTION = 4, // a column named (label, name, alias)
    IT_VALUE = 5,   // a categorical / list value (maybe with its label)
    IT_SOFT = 6,    // soft word
    IT_MODSOFT = 7, // modifier + numeric column
    IT_CMP = 8,
    IT_CMP_AFTER = 9,
    IT_MEMBER = 10,
    IT_NEG = 11,
    IT_FILLER = 12,
    IT_STOP = 13,
    IT_PEOPLE = 14,
};

// Tie-break among equally long matches (higher wins): a comparator or soft word is more
// specific than a schema value ("affluent" the level beats "Affluent" the segment), a value
// beats a bare column mention, grammar words come last.
static const int k_prio[] = {
    [IT_CMP] = 9,    [IT_SOFT] = 8,       [IT_MODSOFT] = 8, [IT_VALUE] = 6,  [IT_MENTION] = 5,
    [IT_NEG] = 4,    [IT_CMP_AFTER] = 3,  [IT_MEMBER] = 3,  [IT_NUM] = 3,    [IT_PEOPLE] = 2,
    [IT_STOP] = 1,   [IT_FILLER] = 1,     [IT_WORD] = 0,    [IT_SYM] = 0,    [IT_BREAK] = 0,
};

struct item {
    enum item_kind kind;
    size_t t0, t1;               // tokens [t0, t1)
    long col;                    // MENTION / VALUE / SOFT / MODSOFT / CMP (concept): column or -1
    long i_value;                // VALUE
    const struct lex_entry *lex; // lexicon entry behind it, or NULL
    double num;                  // NUM
    unsigned flags;              // NUM: NUM_*
    int used;                    // consumed by a filter or boost
    int keep;                    // stays in the semantic text even though used
};

struct pctx {
    const struct query_schema *s;
    const struct query_lexicon *lex;
    const char *text;  // original bytes [len]
    char *low;         // owned: lower-cased copy, same offsets
    size_t len;
    struct tok *toks;  // owned [n_tok]
    size_t n_tok;
    struct item *items; // owned [n_items]
    size_t n_items;
    struct query_plan *plan;
    size_t cap_f, cap_b, cap_c;
    long people_col, currency_col, percent_col;
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

// Longest column mention (label, name or alias) at token i, restricted to numeric columns when
// numeric_only. Returns its token count (0: none) and the column in *col.
static size_t match_mention(const struct pctx *x, size_t i, int numeric_only, long *col)
{
    size_t best = 0;
    for (size_t c = 0; c < x->s->n; c++) {
        const struct qcol *q = &x->s->cols[c];
        if ((numeric_only && q->kind != QUERY_COL_NUMERIC) || q->kind == QUERY_COL_TEXT ||
            q->kind == QUERY_COL_ID) {
            continue;
        }
        size_t n = phrase_match(&q->ph_label, x->toks, x->n_tok, i, x->low, 1);
        size_t m = phrase_match(&q->ph_name, x->toks, x->n_tok, i, x->low, 1);
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
        size_t n = phrase_match(&e->ph, x->toks, x->n_tok, i, x->low, 1);
        if (n > best) {
            long c = resolve_concept(x->s, e->concept, numeric_only);
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
        const char *s = x->low + t->off;
        if ((t->len == 2 && memcmp(s, "is", 2) == 0) || (t->len == 1 && (*s == '=' || *s == ':'))) {
            return i + 1;
        }
    }
    return i;
}

// The best item starting at token i.
static struct item match_at(const struct pctx *x, size_t i)
{
    struct item best;
    memset(&best, 0, sizeof best);
    best.t0 = best.t1 = i;
    best.col = -1;
    const struct query_schema *s = x->s;
    long col = -1;
    size_t n = match_mention(x, i, 0, &col);
    cand(&best, IT_MENTION, i, n, col, -1, NULL);
    for (size_t c = 0; c < s->n; c++) {
        const struct qcol *q = &s->cols[c];
        if (q->kind != QUERY_COL_CATEGORY && q->kind != QUERY_COL_LIST) {
            continue;
        }
        // "label [is] value": the label first
        size_t nl = phrase_match(&q->ph_label, x->toks, x->n_tok, i, x->low, 0);
        size_t nn = phrase_match(&q->ph_name, x->toks, x->n_tok, i, x->low, 0);
        nl = nn > nl ? nn : nl;
        size_t after_label = nl > 0 ? skip_is(x, i + nl) : 0;
        for (size_t v = 0; v < q->n_values; v++) {
            const struct phrase *ph = &q->values[v].ph;
            if (nl > 0 && after_label < x->n_tok) {
                size_t nv = phrase_match(ph, x->toks, x->n_tok, after_label, x->low, 0);
                cand(&best, IT_VALUE, i, nv ? after_label + nv - i : 0, (long)c, (long)v, NULL);
            }
            if (!q->values[v].has_alpha) {
                continue;
            }
            size_t nv = phrase_match(ph, x->toks, x->n_tok, i, x->low, 1);
            if (nv == 0) {
                continue;
            }
            // "value label" ("Private segment")
            size_t na = i + nv < x->n_tok
                            ? phrase_match(&q->ph_label, x->toks, x->n_tok, i + nv, x->low, 1)
                            : 0;
            cand(&best, IT_VALUE, i, nv + na, (long)c, (long)v, NULL);
        }
    }
    static const enum item_kind k_kind[] = {
        [LEX_ALIAS] = IT_MENTION, [LEX_PEOPLE] = IT_PEOPLE,   [LEX_SOFT] = IT_SOFT,
        [LEX_MODIFIER] = IT_MODSOFT, [LEX_CMP] = IT_CMP,      [LEX_CMP_AFTER] = IT_CMP_AFTER,
        [LEX_MEMBER] = IT_MEMBER, [LEX_NEG] = IT_NEG,         [LEX_FILLER] = IT_FILLER,
        [LEX_STOP] = IT_STOP,     [LEX_NUMBER] = IT_NUM,      [LEX_DECADE] = IT_NUM,
    };
    for (size_t k = 0; k < x->lex->n; k++) {
        const struct lex_entry *e = &x->lex->e[k];
        if (e->kind == LEX_ALIAS) {
            continue; // done by match_mention
        }
        int plural = e->kind == LEX_PEOPLE || e->kind == LEX_SOFT;
        size_t ne = phrase_match(&e->ph, x->toks, x->n_tok, i, x->low, plural);
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
            c = resolve_concept(s, e->concept, 1);
            if (c < 0) {
                continue; // this table has no such column: the words stay semantic
            }
        } else if (e->kind == LEX_MODIFIER) {
            size_t nm = i + ne < x->n_tok ? match_mention(x, i + ne, 1, &c) : 0;
            if (nm == 0) {
                continue;
            }
            ne += nm;
        } else if (e->kind == LEX_CMP) {
            c = resolve_concept(s, e->concept, 1);
        }
        cand(&best, k_kind[e->kind], i, ne, c, -1, e);
        if (best.lex == e && (e->kind == LEX_NUMBER || e->kind == LEX_DECADE)) {
            best.num = e->value;
            best.flags = e->kind == LEX_DECADE ? NUM_DECADE : 0;
        }
    }
    if (best.t1 == i) { // nothing matched: the token as it is
        const struct tok *t = &x->toks[i];
        best.t1 = i + 1;
        best.kind = t->kind == TOK_NUM ? IT_NUM
                    : t->kind == TOK_SYM ? IT_SYM
                    : t->kind == TOK_BREAK ? IT_BREAK
                                           : IT_WORD;
        best.num = t->num;
        best.flags = t->flags;
    }
    return best;
}

// ---- grammar: items → plan ----

static int item_is(const struct pctx *x, size_t j, const char *w)
{
    if (j >= x->n_items || x->items[j].t1 - x->items[j].t0 != 1) {
        return 0;
    }
    const struct tok *t = &x->toks[x->items[j].t0];
    return t->len == strlen(w) && memcmp(x->low + t->off, w, t->len) == 0;
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

struct pstate {
    long neg, member; // item index of a pending negation / membership verb, -1
    long pend;        // item index of a numeric column mention waiting for its number, -1
    long last_col;    // column of the previous numeric constraint, -1
    int or_seen;      // "or" since the last string filter
    long last_sf;     // index of the last string filter (for "A or B" merging), -1
};

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
    if (is_list && !neg && !member) { // a mention, not a requirement: boost, stays semantic
        struct query_boost b;
        memset(&b, 0, sizeof b);
        b.i_col = (size_t)it->col;
        b.op = QUERY_OP_CONTAINS;
        b.value = v;
        b.quantile = -1;
        b.weight = x->lex->value_weight;
        b.span = sp;
        it->used = it->keep = 1;
        st->or_seen = 0;
        return b.weight > 0 ? add_boost(x, &b, err) : PX_OK;
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
            f->values[f->n_values++] = v;
            f->op = neg ? QUERY_OP_NOT_IN : QUERY_OP_IN;
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
        b.lo = col_quantile(c, e->quantile);
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

static int find_conflicts(struct pctx *x, struct px_err *err)
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

static int build_semantic(struct pctx *x, struct px_err *err)
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

static int run_grammar(struct pctx *x, struct px_err *err)
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

void query_plan_free(struct query_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    px_free(plan->filters);
    px_free(plan->boosts);
    px_free(plan->conflicts);
    px_free(plan->semantic_text);
    px_free(plan);
}

int query_parse(const struct query_schema *schema, const struct query_lexicon *lex,
                const char *text, size_t len, struct query_plan **out, struct px_err *err)
{
    struct pctx x;
    memset(&x, 0, sizeof x);
    int rc = PX_EINVAL;
    *out = NULL;
    size_t bad = 0;
    if (len > LIMIT_QUERY_BYTES) {
        rc = px_fail(err, PX_ELIMIT, "query is %zu bytes, more than %d (LIMIT_QUERY_BYTES)", len,
                     LIMIT_QUERY_BYTES);
        goto done;
    }
    if (text == NULL && len > 0) {
        rc = px_fail(err, PX_EINVAL, "query text is NULL");
        goto done;
    }
    if (len > 0 && !utf8_valid((const unsigned char *)text, len, &bad)) {
        rc = px_fail(err, PX_EUTF8, "query: invalid UTF-8 at byte %zu", bad);
        goto done;
    }
    x.s = schema;
    x.lex = lex;
    x.text = text;
    x.len = len;
    x.plan = px_calloc(1, sizeof *x.plan);
    x.low = px_malloc(len + 1);
    x.toks = px_malloc((len + 1) * sizeof *x.toks);
    if (x.plan == NULL || x.low == NULL || x.toks == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory parsing a %zu-byte query", len);
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        x.low[i] = (char)lower((unsigned char)text[i]);
    }
    x.low[len] = '\0';
    const char *p = text;
    while (x.n_tok <= len && lex_next(&p, text, text + len, &x.toks[x.n_tok])) {
        x.n_tok++;
    }
    x.items = px_malloc((x.n_tok + 1) * sizeof *x.items);
    if (x.items == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory parsing a %zu-byte query", len);
        goto done;
    }
    for (size_t i = 0; i < x.n_tok;) {
        x.items[x.n_items] = match_at(&x, i);
        i = x.items[x.n_items].t1;
        x.n_items++;
    }
    x.people_col = resolve_concept(schema, lex->people_concept, 1);
    x.currency_col = -1;
    x.percent_col = -1;
    long cc = resolve_concept(schema, lex->currency_concept, 1);
    if (cc >= 0 && schema->cols[cc].unit == QUERY_UNIT_CURRENCY) {
        x.currency_col = cc;
    }
    for (size_t c = 0; c < schema->n; c++) {
        const struct qcol *q = &schema->cols[c];
        if (q->kind != QUERY_COL_NUMERIC) {
            continue;
        }
        if (x.currency_col < 0 && q->unit == QUERY_UNIT_CURRENCY) {
            x.currency_col = (long)c;
        }
        if (x.percent_col < 0 && q->unit == QUERY_UNIT_PERCENT) {
            x.percent_col = (long)c;
        }
    }
    rc = run_grammar(&x, err);
    if (rc == PX_OK) {
        rc = find_conflicts(&x, err);
    }
    if (rc == PX_OK) {
        rc = build_semantic(&x, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    *out = x.plan;
    x.plan = NULL;
    rc = PX_OK;
done:
    query_plan_free(x.plan);
    px_free(x.low);
    px_free(x.toks);
    px_free(x.items);
    return rc;
}

// ---- JSON ----

const char *query_op_name(enum query_op op)
{
    static const char *const k_names[] = {
        "lt", "le", "gt", "ge", "eq", "ne", "between", "in", "not_in", "contains",
        "not_contains", "is_true", "is_false"};
    return (unsigned)op < sizeof k_names / sizeof k_names[0] ? k_names[op] : "?";
}

static int json_str(struct buf *b, const char *s, size_t n, struct px_err *err)
{
    return jsonx_put_string(b, s, n, err);
}

static int json_cstr(struct buf *b, const char *s, struct px_err *err)
{
    return json_str(b, s, strlen(s), err);
}

static int json_head(struct buf *b, const struct query_schema *s, size_t col, enum query_op op,
                     struct px_err *err)
{
    int rc = buf_printf(b, err, "{\"column\":");
    if (rc == PX_OK) rc = json_cstr(b, s->cols[col].name, err);
    if (rc == PX_OK) rc = buf_printf(b, err, ",\"label\":");
    if (rc == PX_OK) rc = json_cstr(b, s->cols[col].label, err);
    if (rc == PX_OK) rc = buf_printf(b, err, ",\"op\":\"%s\",\"value\":", query_op_name(op));
    return rc;
}

static int json_tail(struct buf *b, struct query_span sp, const char *text, size_t len,
                     struct px_err *err)
{
    int rc = buf_printf(b, err, ",\"span\":[%zu,%zu]", sp.off, sp.len);
    if (rc == PX_OK && text != NULL && sp.off + sp.len <= len) {
        rc = buf_printf(b, err, ",\"text\":");
        if (rc == PX_OK) rc = json_str(b, text + sp.off, sp.len, err);
    }
    return rc == PX_OK ? buf_append(b, "}", 1, err) : rc;
}

int query_plan_to_json(const struct query_plan *plan, const struct query_schema *schema,
                       const char *text, size_t len, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK) rc = query_plan_put_members(plan, schema, text, len, out, err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int query_plan_put_members(const struct query_plan *plan, const struct query_schema *schema,
                           const char *text, size_t len, struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err, "\"filters\":[");
    for (size_t i = 0; i < plan->n_filters && rc == PX_OK; i++) {
        const struct query_filter *f = &plan->filters[i];
        rc = i ? buf_append(out, ",", 1, err) : PX_OK;
        if (rc == PX_OK) rc = json_head(out, schema, f->i_col, f->op, err);
        if (rc != PX_OK) break;
        if (f->op == QUERY_OP_IS_TRUE || f->op == QUERY_OP_IS_FALSE) {
            rc = buf_printf(out, err, "%s", f->op == QUERY_OP_IS_TRUE ? "true" : "false");
        } else if (f->op == QUERY_OP_BETWEEN) {
            rc = buf_printf(out, err, "[%.15g,%.15g]", f->lo, f->hi);
        } else if (f->n_values == 0) {
            rc = buf_printf(out, err, "%.15g", f->lo);
        } else if (f->op == QUERY_OP_IN || f->op == QUERY_OP_NOT_IN) {
            rc = buf_append(out, "[", 1, err);
            for (size_t k = 0; k < f->n_values && rc == PX_OK; k++) {
                rc = k ? buf_append(out, ",", 1, err) : PX_OK;
                if (rc == PX_OK) rc = json_cstr(out, f->values[k], err);
            }
            if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
        } else {
            rc = json_cstr(out, f->values[0], err);
        }
        if (rc == PX_OK) rc = json_tail(out, f->span, text, len, err);
    }
    if (rc == PX_OK) rc = buf_printf(out, err, "],\"boosts\":[");
    for (size_t i = 0; i < plan->n_boosts && rc == PX_OK; i++) {
        const struct query_boost *b = &plan->boosts[i];
        rc = i ? buf_append(out, ",", 1, err) : PX_OK;
        if (rc == PX_OK) rc = json_head(out, schema, b->i_col, b->op, err);
        if (rc != PX_OK) break;
        if (b->value != NULL) {
            rc = json_cstr(out, b->value, err);
        } else if (b->op == QUERY_OP_BETWEEN) {
            rc = buf_printf(out, err, "[%.15g,%.15g]", b->lo, b->hi);
        } else {
            rc = buf_printf(out, err, "%.15g", b->lo);
        }
        if (rc == PX_OK && b->quantile >= 0) {
            rc = buf_printf(out, err, ",\"quantile\":%.15g", b->quantile);
        }
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"weight\":%.15g", b->weight);
        if (rc == PX_OK) rc = json_tail(out, b->span, text, len, err);
    }
    if (rc == PX_OK) rc = buf_printf(out, err, "],\"semantic_text\":");
    if (rc == PX_OK) rc = json_str(out, plan->semantic_text, plan->semantic_len, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ",\"conflicts\":[");
    for (size_t i = 0; i < plan->n_conflicts && rc == PX_OK; i++) {
        const struct query_conflict *c = &plan->conflicts[i];
        rc = buf_printf(out, err, "%s{\"filters\":[%zu,%zu],\"message\":", i ? "," : "",
                        c->i_filter_a, c->i_filter_b);
        char msg[256];
        const char *name = schema->cols[plan->filters[c->i_filter_a].i_col].name;
        snprintf(msg, sizeof msg, "filters %zu and %zu on '%s' cannot both hold", c->i_filter_a,
                 c->i_filter_b, name);
        if (rc == PX_OK) rc = json_cstr(out, msg, err);
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
    return rc;
}
