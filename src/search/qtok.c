// qtok.c — the query lexer: UTF-8 bytes → tokens, and normalised phrases (query_int.h).
//
// Cursor functions (`const char **p`, advance on success) cut the bytes into words, numbers
// (with $ / k / M / % / + / decade flags already folded in), comparison symbols and clause
// breaks. Every token keeps its byte span; matching uses a lower-cased copy of the text with the
// same offsets. Phrases (labels, values, lexicon words) are built with the same lexer and stored
// normalised (" w1 w2 ", padded so a concept lookup is one strstr), so "high-income",
// "High Income" and "high income" are the same phrase.
#include "query_int.h"

#include <math.h>
#include <string.h>

#include "mem.h"

// Length of word w (lower case, may hold one space) at r, any ASCII case, followed by a word
// boundary; 0 when it is not there.
static size_t word_at(const char *r, const char *end, const char *w)
{
    size_t wl = strlen(w);
    if ((size_t)(end - r) < wl) {
        return 0;
    }
    for (size_t i = 0; i < wl; i++) {
        if (lower((unsigned char)r[i]) != w[i]) {
            return 0;
        }
    }
    return (size_t)(end - r) == wl || !is_wordc((unsigned char)r[wl]) ? wl : 0;
}

// Spelled-out units after a number, each kind at most once and in any order: a multiplier
// ("100 thousand", "40 grand"), a currency ("dollars"), a percent ("10 percent") and a period
// ("a year", "monthly": read and dropped, amounts are compared as typed). Returns the cursor
// past the last one read.
static const char *spelled_units(const char *s, const char *end, double *v, unsigned *f)
{
    static const struct {
        const char *w;
        double m;       // multiplier (1: none)
        unsigned flags; // NUM_* it sets
        unsigned kind;  // 1 multiplier, 2 currency, 4 percent, 8 period
    } k_units[] = {
        {"thousand", 1e3, NUM_AMOUNT, 1}, {"thousands", 1e3, NUM_AMOUNT, 1},
        {"grand", 1e3, NUM_AMOUNT, 1},    {"million", 1e6, NUM_AMOUNT, 1},
        {"millions", 1e6, NUM_AMOUNT, 1}, {"billion", 1e9, NUM_AMOUNT, 1},
        {"billions", 1e9, NUM_AMOUNT, 1}, {"dollars", 1, NUM_AMOUNT, 2},
        {"dollar", 1, NUM_AMOUNT, 2},     {"usd", 1, NUM_AMOUNT, 2},
        {"bucks", 1, NUM_AMOUNT, 2},      {"percent", 1, NUM_PCT, 4},
        {"per cent", 1, NUM_PCT, 4},      {"pct", 1, NUM_PCT, 4},
        {"a year", 1, 0, 8},              {"per year", 1, 0, 8},
        {"a month", 1, 0, 8},             {"per month", 1, 0, 8},
        {"per annum", 1, 0, 8},           {"annually", 1, 0, 8},
        {"monthly", 1, 0, 8},             {"yearly", 1, 0, 8},
    };
    unsigned seen = 0;
    for (;;) {
        const char *r = s;
        while (r < end && *r == ' ') {
            r++;
        }
        if (r == s) {
            return s;
        }
        size_t i = 0, n = 0;
        for (; i < sizeof k_units / sizeof k_units[0]; i++) {
            if (!(seen & k_units[i].kind) && (n = word_at(r, end, k_units[i].w)) > 0) {
                break;
            }
        }
        if (n == 0) {
            return s;
        }
        *v *= k_units[i].m;
        *f |= k_units[i].flags;
        seen |= k_units[i].kind;
        s = r + n;
    }
}

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
    if (!(f & NUM_DECADE)) {
        s = spelled_units(s, end, &v, &f);
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
int qtok_next(const char **p, const char *base, const char *end, struct tok *t)
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
            t->moff = t->off;
            t->mlen = t->len;
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
    t->moff = t->off;
    t->mlen = t->len;
    *p = s;
    return 1;
}

// ---- phrases: normalised word sequences ----

// Builds ph from s[0..n) with the query lexer: words, numbers and symbols kept, breaks dropped;
// with stop_paren, everything from the first '(' on is ignored ("Income (in $000)" → "income").
// PX_ELIMIT when longer than LIMIT_QUERY_PHRASE_BYTES / _WORDS, PX_EINVAL when it has no word.
int qphrase_build(const char *s, size_t n, int stop_paren, struct phrase *ph,
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
    while (qtok_next(&p, s, end, &t)) {
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

void qphrase_free(struct phrase *ph)
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
size_t qphrase_match(const struct phrase *ph, const struct tok *toks, size_t n_tok,
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
        const char *s = low + t->moff;
        int same = t->mlen == wl && memcmp(s, w, wl) == 0;
        if (!same && !(plural && k + 1 == ph->n_words && is_plural(w, wl, s, t->mlen))) {
            return 0;
        }
        w = e + 1;
    }
    return ph->n_words;
}

// ---- word forms ----

static int ends(const char *w, size_t n, const char *suf)
{
    size_t l = strlen(suf);
    return n >= l && memcmp(w + n - l, suf, l) == 0;
}

size_t qword_stem(const char *w, size_t n, char *out, size_t cap)
{
    if (cap == 0) {
        return 0;
    }
    if (n >= cap) { // too long to be a label word: its own (truncated) form
        n = cap - 1;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)lower((unsigned char)w[i]);
    }
    if (ends(out, n, "'s")) {
        n -= 2;
    } else if (ends(out, n, "'")) {
        n -= 1;
    }
    // plurals
    if (n > 4 && ends(out, n, "ies")) {
        n -= 2;
        out[n - 1] = 'y';
    } else if (n > 4 && ends(out, n, "sses")) {
        n -= 2;
    } else if (n > 3 && out[n - 1] == 's' && !ends(out, n, "ss") && !ends(out, n, "us") &&
               !ends(out, n, "is")) {
        n -= 1;
    }
    // one derivational or inflectional ending
    static const char *const k_suffixes[] = {"ation", "ment", "ing", "ed"};
    for (size_t i = 0; i < sizeof k_suffixes / sizeof k_suffixes[0]; i++) {
        size_t l = strlen(k_suffixes[i]);
        if (n >= l + 3 && ends(out, n, k_suffixes[i])) {
            n -= l;
            if (n >= 4 && out[n - 1] == out[n - 2] && out[n - 1] != 'l' && out[n - 1] != 's' &&
                is_alpha((unsigned char)out[n - 1]) && strchr("aeiou", out[n - 1]) == NULL) {
                n -= 1; // "planned" → "plan"
            }
            break;
        }
    }
    if (n > 3 && out[n - 1] == 'e') {
        n -= 1;
    }
    out[n] = '\0';
    return n;
}
