// wordnet.c — WordNet's dictionary files, mapped and binary-searched (contract: wordnet.h).
//
// Design. Debian ships WordNet both as data files (wordnet-base) and as a C library
// (libwordnet, wordnet-dev). The library keeps its state in globals (open file handles, static
// result buffers, an errno-like wnerror), prints to stderr on errors, and returns synsets in
// structures allocated with malloc outside our allocator; it is neither thread-safe nor quiet,
// and cannot be pointed at a second dictionary in one process. The files are simple and
// documented (`man 5 wndb`): so we map them read-only and read them ourselves.
//
// - index.POS: one line per lemma, sorted by byte order, after license lines that start with
//   two spaces: `lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt
//   synset_offset...`. A lemma is found by binary search over the bytes (back up to the line
//   start at the midpoint, compare the first field).
// - data.POS: a synset's line starts at its byte offset (the offset is also its first field):
//   `offset lex_filenum ss_type w_cnt word lex_id ... p_cnt ptr... [frames] | gloss`; w_cnt is
//   two hex digits, lex_id one hex digit, p_cnt three decimal digits, a pointer is `symbol
//   offset pos source/target` (four hex digits).
// - POS.exc: `inflected base...`, sorted: exceptions to morphy's rules ("women woman").
// - morphy (`man 7 morphy`): the word itself if a lemma, its exceptions, then each detachment
//   rule of its part of speech whose result is a lemma (noun: -s, -ses→s, -xes→x, -zes→z,
//   -ches→ch, -shes→sh, -men→man, -ies→y; verb: -s, -ies→y, -es→e, -es, -ed→e, -ed, -ing→e,
//   -ing; adjective: -er, -est, -er→e, -est→e).
//
// Everything is bounded by the mapping: a line is the bytes up to the next '\n' or the end,
// fields are read with explicit lengths, and numbers are checked against the format's widths,
// so a truncated or hostile file is PX_EFORMAT (or simply "not found"), never a read past the
// end. Nothing allocates after open.
#include "wordnet.h"

#include <stdio.h>
#include <string.h>

#include "fsx.h"
#include "mem.h"

#define N_FILES (3 * LANG_WN_N_POS)

struct wn_file {
    const char *s; // borrowed (mapping or caller's buffer); NULL: absent
    size_t n;
};

struct lang_wordnet {
    struct fsx_map maps[N_FILES]; // owned mappings (zeroed when opened over buffers)
    struct wn_file index[LANG_WN_N_POS], data[LANG_WN_N_POS], exc[LANG_WN_N_POS];
};

static const char *const k_pos_name[LANG_WN_N_POS] = {"noun", "verb", "adj", "adv"};

// ---- opening ----

void lang_wordnet_close(struct lang_wordnet *wn)
{
    if (wn == NULL) {
        return;
    }
    for (size_t i = 0; i < N_FILES; i++) {
        fsx_unmap(&wn->maps[i]);
    }
    px_free(wn);
}

int lang_wordnet_open(const char *dir, struct lang_wordnet **out, struct px_err *err)
{
    *out = NULL;
    if (dir == NULL) {
        dir = "/usr/share/wordnet";
    }
    struct lang_wordnet *wn = px_calloc(1, sizeof *wn);
    if (wn == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory opening WordNet");
    }
    int rc = PX_OK;
    for (size_t k = 0; k < N_FILES; k++) {
        size_t pos = k % LANG_WN_N_POS, what = k / LANG_WN_N_POS;
        char name[32], path[LIMIT_PATH];
        if (what == 0) {
            snprintf(name, sizeof name, "index.%s", k_pos_name[pos]);
        } else if (what == 1) {
            snprintf(name, sizeof name, "data.%s", k_pos_name[pos]);
        } else {
            snprintf(name, sizeof name, "%s.exc", k_pos_name[pos]);
        }
        rc = fsx_join(path, sizeof path, dir, name, err);
        if (rc != PX_OK) {
            goto done;
        }
        if (what == 2 && !fsx_is_file(path)) {
            continue; // no exceptions for this part of speech
        }
        if (!fsx_is_file(path)) {
            rc = px_fail(err, PX_ENOENT, "WordNet file '%s' is missing", path);
            goto done;
        }
        rc = fsx_map_file(path, &wn->maps[k], err);
        if (rc != PX_OK) {
            goto done;
        }
        if (wn->maps[k].size > LIMIT_WORDNET_FILE_BYTES) {
            rc = px_fail(err, PX_ELIMIT, "WordNet file '%s' is larger than %u bytes "
                         "(LIMIT_WORDNET_FILE_BYTES)", path, LIMIT_WORDNET_FILE_BYTES);
            goto done;
        }
        struct wn_file f = {(const char *)wn->maps[k].data, wn->maps[k].size};
        if (what == 0) {
            wn->index[pos] = f;
        } else if (what == 1) {
            wn->data[pos] = f;
        } else {
            wn->exc[pos] = f;
        }
    }
done:
    if (rc != PX_OK) {
        lang_wordnet_close(wn);
        return rc;
    }
    *out = wn;
    return PX_OK;
}

int lang_wordnet_open_buffers(const char *const *bufs, const size_t *lens,
                              struct lang_wordnet **out, struct px_err *err)
{
    *out = NULL;
    struct lang_wordnet *wn = px_calloc(1, sizeof *wn);
    if (wn == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory opening WordNet");
    }
    for (size_t k = 0; k < N_FILES; k++) {
        size_t pos = k % LANG_WN_N_POS, what = k / LANG_WN_N_POS;
        struct wn_file f = {bufs[k], bufs[k] != NULL ? lens[k] : 0};
        if (what < 2 && f.s == NULL) {
            lang_wordnet_close(wn);
            return px_fail(err, PX_EINVAL, "WordNet %s buffer %s is missing",
                           what == 0 ? "index" : "data", k_pos_name[pos]);
        }
        if (what == 0) {
            wn->index[pos] = f;
        } else if (what == 1) {
            wn->data[pos] = f;
        } else {
            wn->exc[pos] = f;
        }
    }
    *out = wn;
    return PX_OK;
}

// ---- sorted-file search ----

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// Compares the first field of the line at s[0..n) (up to ' ' or '\n') with key[0..kn).
static int cmp_field(const char *s, size_t n, const char *key, size_t kn)
{
    size_t i = 0;
    for (; i < n && s[i] != ' ' && s[i] != '\n'; i++) {
        if (i == kn) {
            return 1; // the line's field is longer
        }
        unsigned char a = (unsigned char)s[i], b = (unsigned char)key[i];
        if (a != b) {
            return a < b ? -1 : 1;
        }
    }
    return i == kn ? 0 : -1;
}

// Finds the line whose first field is key[0..kn) in the sorted file f. Returns 1 with the line
// [*line, *line + *len) (without its '\n'), else 0.
static int find_line(const struct wn_file *f, const char *key, size_t kn, const char **line,
                     size_t *len)
{
    if (f->s == NULL || kn == 0) {
        return 0;
    }
    size_t lo = 0, hi = f->n; // the line is among those starting in [lo, hi)
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t start = mid;
        while (start > lo && f->s[start - 1] != '\n') {
            start--;
        }
        const char *nl = memchr(f->s + start, '\n', f->n - start);
        size_t end = nl != NULL ? (size_t)(nl - f->s) : f->n;
        int c = f->s[start] == ' ' ? -1 // license lines sort first
                                   : cmp_field(f->s + start, end - start, key, kn);
        if (c == 0) {
            *line = f->s + start;
            *len = end - start;
            return 1;
        }
        if (c < 0) {
            lo = end + 1;
        } else {
            hi = start;
        }
    }
    return 0;
}

// Normalises word[0..n) to a lemma key (lower case, '_' for ' ') in out[cap]; 0 when it does
// not fit or is empty.
static size_t lemma_key(const char *word, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = word[i] == ' ' ? '_' : (char)lower((unsigned char)word[i]);
    }
    out[n] = '\0';
    return n;
}

// ---- fields ----

struct cur {
    const char *p, *end;
};

// Next space-separated field: [*s, *s + *n). 0 at the end of the line.
static int next_field(struct cur *c, const char **s, size_t *n)
{
    while (c->p < c->end && *c->p == ' ') {
        c->p++;
    }
    if (c->p >= c->end) {
        return 0;
    }
    *s = c->p;
    while (c->p < c->end && *c->p != ' ') {
        c->p++;
    }
    *n = (size_t)(c->p - *s);
    return 1;
}

// Parses s[0..n) in base 10 or 16 (at most max_digits digits) into *v.
static int parse_uint(const char *s, size_t n, int base, size_t max_digits, uint32_t *v)
{
    if (n == 0 || n > max_digits) {
        return 0;
    }
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int c = lower((unsigned char)s[i]), d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (base == 16 && c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else {
            return 0;
        }
        x = x * (uint32_t)base + (uint32_t)d;
    }
    *v = x;
    return 1;
}

static int uint_field(struct cur *c, int base, size_t max_digits, uint32_t *v)
{
    const char *s;
    size_t n;
    return next_field(c, &s, &n) && parse_uint(s, n, base, max_digits, v);
}

// ---- senses ----

int lang_wordnet_senses(const struct lang_wordnet *wn, enum lang_wn_pos pos, const char *lemma,
                        size_t n, uint32_t *offsets, size_t max, size_t *n_out,
                        struct px_err *err)
{
    *n_out = 0;
    char key[LIMIT_WORDNET_LEMMA_BYTES];
    size_t kn = lemma_key(lemma, n, key, sizeof key);
    const char *line;
    size_t len;
    if ((unsigned)pos >= LANG_WN_N_POS || kn == 0 ||
        !find_line(&wn->index[pos], key, kn, &line, &len)) {
        return PX_OK;
    }
    struct cur c = {line, line + len};
    const char *s;
    size_t sn;
    uint32_t synset_cnt, p_cnt, sense_cnt, tag_cnt;
    if (!next_field(&c, &s, &sn) || !next_field(&c, &s, &sn) || // lemma, pos
        !uint_field(&c, 10, 6, &synset_cnt) || !uint_field(&c, 10, 6, &p_cnt)) {
        goto bad;
    }
    for (uint32_t i = 0; i < p_cnt; i++) {
        if (!next_field(&c, &s, &sn)) {
            goto bad;
        }
    }
    if (!uint_field(&c, 10, 6, &sense_cnt) || !uint_field(&c, 10, 6, &tag_cnt) ||
        sense_cnt != synset_cnt) {
        goto bad;
    }
    for (uint32_t i = 0; i < synset_cnt; i++) {
        uint32_t off;
        if (!uint_field(&c, 10, 8, &off)) {
            goto bad;
        }
        if (*n_out < max) {
            offsets[(*n_out)++] = off;
        }
    }
    return PX_OK;
bad:
    *n_out = 0;
    return px_fail(err, PX_EFORMAT, "WordNet index.%s: malformed line for '%s' at byte %zu",
                   k_pos_name[pos], key, (size_t)(line - wn->index[pos].s));
}

// ---- synsets ----

static int pos_of(char c, enum lang_wn_pos *pos)
{
    switch (c) {
    case 'n': *pos = LANG_WN_NOUN; return 1;
    case 'v': *pos = LANG_WN_VERB; return 1;
    case 'a':
    case 's': *pos = LANG_WN_ADJ; return 1;
    case 'r': *pos = LANG_WN_ADV; return 1;
    default: return 0;
    }
}

static enum lang_wn_ptr_kind ptr_kind(const char *s, size_t n)
{
    if ((n == 1 && s[0] == '@') || (n == 2 && s[0] == '@' && s[1] == 'i')) {
        return LANG_WN_PTR_HYPERNYM;
    }
    if ((n == 1 && s[0] == '~') || (n == 2 && s[0] == '~' && s[1] == 'i')) {
        return LANG_WN_PTR_HYPONYM;
    }
    if (n == 2 && s[0] == '#' && (s[1] == 'm' || s[1] == 's' || s[1] == 'p')) {
        return LANG_WN_PTR_HOLONYM;
    }
    if (n == 2 && s[0] == '%' && (s[1] == 'm' || s[1] == 's' || s[1] == 'p')) {
        return LANG_WN_PTR_MERONYM;
    }
    if (n == 1) {
        switch (s[0]) {
        case '+': return LANG_WN_PTR_DERIVATION;
        case '\\': return LANG_WN_PTR_PERTAINYM;
        case '&': return LANG_WN_PTR_SIMILAR;
        case '!': return LANG_WN_PTR_ANTONYM;
        default: break;
        }
    }
    return LANG_WN_PTR_OTHER;
}

int lang_wordnet_synset(const struct lang_wordnet *wn, enum lang_wn_pos pos, uint32_t offset,
                        struct lang_wn_synset *out, struct px_err *err)
{
    out->pos = pos;
    out->offset = offset;
    out->n_words = out->n_ptrs = 0;
    out->gloss.s = NULL;
    out->gloss.n = 0;
    if ((unsigned)pos >= LANG_WN_N_POS) {
        return px_fail(err, PX_EINVAL, "WordNet: part of speech %d is not one of the four",
                       (int)pos);
    }
    const struct wn_file *f = &wn->data[pos];
    if (f->s == NULL || offset >= f->n || (offset > 0 && f->s[offset - 1] != '\n')) {
        return px_fail(err, PX_ENOENT, "WordNet data.%s: no synset starts at byte %u",
                       k_pos_name[pos], (unsigned)offset);
    }
    const char *line = f->s + offset;
    const char *nl = memchr(line, '\n', f->n - offset);
    struct cur c = {line, nl != NULL ? nl : f->s + f->n};
    const char *s;
    size_t n;
    uint32_t v, w_cnt, p_cnt;
    if (!uint_field(&c, 10, 8, &v) || v != offset) {
        return px_fail(err, PX_ENOENT, "WordNet data.%s: no synset starts at byte %u",
                       k_pos_name[pos], (unsigned)offset);
    }
    out->is_instance = 0;
    if (!uint_field(&c, 10, 2, &out->lex_filenum) || !next_field(&c, &s, &n) || n != 1 ||
        !uint_field(&c, 16, 2, &w_cnt)) {
        goto bad;
    }
    for (uint32_t i = 0; i < w_cnt; i++) {
        if (!next_field(&c, &s, &n) || !uint_field(&c, 16, 1, &v)) {
            goto bad;
        }
        // adjective markers: "(a)", "(p)", "(ip)"
        if (n > 3 && s[n - 1] == ')') {
            const char *open = memchr(s, '(', n);
            if (open != NULL && open > s) {
                n = (size_t)(open - s);
            }
        }
        if (out->n_words < LIMIT_WORDNET_WORDS) {
            out->words[out->n_words].s = s;
            out->words[out->n_words].n = n;
            out->n_words++;
        }
    }
    if (!uint_field(&c, 10, 3, &p_cnt)) {
        goto bad;
    }
    for (uint32_t i = 0; i < p_cnt; i++) {
        const char *sym, *ps;
        size_t sym_n, ps_n;
        uint32_t off, st;
        if (!next_field(&c, &sym, &sym_n) || sym_n > 2 || !uint_field(&c, 10, 8, &off) ||
            !next_field(&c, &ps, &ps_n) || ps_n != 1 || !next_field(&c, &s, &n) || n != 4 ||
            !parse_uint(s, 4, 16, 4, &st)) {
            goto bad;
        }
        struct lang_wn_ptr *p = &out->ptrs[out->n_ptrs];
        if (!pos_of(ps[0], &p->pos)) {
            goto bad;
        }
        p->kind = ptr_kind(sym, sym_n);
        out->is_instance |= sym_n == 2 && sym[0] == '@' && sym[1] == 'i';
        memcpy(p->sym, sym, sym_n);
        p->sym[sym_n] = '\0';
        p->offset = off;
        p->src = st >> 8;
        p->dst = st & 0xff;
        out->n_ptrs++; // p_cnt <= 999 == LIMIT_WORDNET_POINTERS: always room
    }
    // verb frames and anything else up to the gloss are skipped
    const char *bar = memchr(c.p, '|', (size_t)(c.end - c.p));
    if (bar != NULL) {
        const char *g = bar + 1, *ge = c.end;
        while (g < ge && *g == ' ') {
            g++;
        }
        while (ge > g && (ge[-1] == ' ' || ge[-1] == '\r')) {
            ge--;
        }
        out->gloss.s = g;
        out->gloss.n = (size_t)(ge - g);
    }
    return PX_OK;
bad:
    out->n_words = out->n_ptrs = 0;
    return px_fail(err, PX_EFORMAT, "WordNet data.%s: malformed synset at byte %u",
                   k_pos_name[pos], (unsigned)offset);
}

// ---- base forms (morphy) ----

struct rule {
    const char *suffix, *ending;
};

static const struct rule k_noun_rules[] = {
    {"s", ""},    {"ses", "s"},  {"xes", "x"}, {"zes", "z"},
    {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"},
};
static const struct rule k_verb_rules[] = {
    {"s", ""},  {"ies", "y"}, {"es", "e"},  {"es", ""},
    {"ed", "e"}, {"ed", ""},  {"ing", "e"}, {"ing", ""},
};
static const struct rule k_adj_rules[] = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};

static int is_lemma(const struct lang_wordnet *wn, enum lang_wn_pos pos, const char *key,
                    size_t kn)
{
    const char *line;
    size_t len;
    return find_line(&wn->index[pos], key, kn, &line, &len);
}

// Adds key[0..kn) to out unless present; returns the new count.
static size_t add_base(char (*out)[LIMIT_WORDNET_LEMMA_BYTES], size_t n_out, size_t max,
                       const char *key, size_t kn)
{
    if (n_out >= max || kn == 0 || kn >= LIMIT_WORDNET_LEMMA_BYTES) {
        return n_out;
    }
    for (size_t i = 0; i < n_out; i++) {
        if (strlen(out[i]) == kn && memcmp(out[i], key, kn) == 0) {
            return n_out;
        }
    }
    memcpy(out[n_out], key, kn);
    out[n_out][kn] = '\0';
    return n_out + 1;
}

int lang_wordnet_each_exception(const struct lang_wordnet *wn, enum lang_wn_pos pos,
                                int (*fn)(void *user, const char *inflected, size_t n,
                                          const char *base, size_t base_n),
                                void *user)
{
    if ((unsigned)pos >= LANG_WN_N_POS || wn->exc[pos].s == NULL) {
        return 0;
    }
    const struct wn_file *f = &wn->exc[pos];
    size_t at = 0;
    while (at < f->n) {
        const char *nl = memchr(f->s + at, '\n', f->n - at);
        size_t end = nl != NULL ? (size_t)(nl - f->s) : f->n;
        struct cur c = {f->s + at, f->s + end};
        const char *infl, *base;
        size_t in, bn;
        if (next_field(&c, &infl, &in)) {
            while (next_field(&c, &base, &bn)) {
                int r = fn(user, infl, in, base, bn);
                if (r != 0) {
                    return r;
                }
            }
        }
        at = end + 1;
    }
    return 0;
}

// The detachment rules of a part of speech (adverbs have none): the table and its length.
static const struct rule *rules_of(enum lang_wn_pos pos, size_t *n)
{
    switch (pos) {
    case LANG_WN_NOUN: *n = sizeof k_noun_rules / sizeof *k_noun_rules; return k_noun_rules;
    case LANG_WN_VERB: *n = sizeof k_verb_rules / sizeof *k_verb_rules; return k_verb_rules;
    case LANG_WN_ADJ: *n = sizeof k_adj_rules / sizeof *k_adj_rules; return k_adj_rules;
    default: *n = 0; return NULL;
    }
}

size_t lang_wordnet_rule_forms(enum lang_wn_pos pos, const char *word, size_t n,
                               char (*out)[LIMIT_WORDNET_LEMMA_BYTES], size_t max)
{
    char key[LIMIT_WORDNET_LEMMA_BYTES];
    size_t kn = lemma_key(word, n, key, sizeof key);
    size_t n_rules = 0;
    const struct rule *rules = rules_of(pos, &n_rules);
    size_t n_out = 0;
    for (size_t r = 0; r < n_rules && kn > 0; r++) {
        size_t sl = strlen(rules[r].suffix), el = strlen(rules[r].ending);
        if (kn <= sl || memcmp(key + kn - sl, rules[r].suffix, sl) != 0 ||
            (pos == LANG_WN_NOUN && sl == 1 && kn >= 2 && key[kn - 2] == 's')) {
            continue;
        }
        size_t cn = kn - sl + el;
        if (cn >= LIMIT_WORDNET_LEMMA_BYTES) {
            continue;
        }
        char cand[LIMIT_WORDNET_LEMMA_BYTES];
        memcpy(cand, key, kn - sl);
        memcpy(cand + kn - sl, rules[r].ending, el);
        cand[cn] = '\0';
        n_out = add_base(out, n_out, max, cand, cn);
    }
    return n_out;
}

size_t lang_wordnet_base_forms(const struct lang_wordnet *wn, enum lang_wn_pos pos,
                               const char *word, size_t n,
                               char (*out)[LIMIT_WORDNET_LEMMA_BYTES], size_t max)
{
    char key[LIMIT_WORDNET_LEMMA_BYTES];
    size_t kn = lemma_key(word, n, key, sizeof key);
    if ((unsigned)pos >= LANG_WN_N_POS || kn == 0) {
        return 0;
    }
    size_t n_out = 0;
    if (is_lemma(wn, pos, key, kn)) {
        n_out = add_base(out, n_out, max, key, kn);
    }
    const char *line;
    size_t len;
    if (find_line(&wn->exc[pos], key, kn, &line, &len)) {
        struct cur c = {line, line + len};
        const char *s;
        size_t sn;
        (void)next_field(&c, &s, &sn); // the inflected form itself
        while (next_field(&c, &s, &sn)) {
            n_out = add_base(out, n_out, max, s, sn);
        }
    }
    size_t n_rules = 0;
    const struct rule *rules = rules_of(pos, &n_rules);
    for (size_t r = 0; r < n_rules; r++) {
        size_t sl = strlen(rules[r].suffix), el = strlen(rules[r].ending);
        if (kn <= sl || memcmp(key + kn - sl, rules[r].suffix, sl) != 0) {
            continue;
        }
        // "ss" is not a plural ("glass"), as in morphy
        if (pos == LANG_WN_NOUN && sl == 1 && kn >= 2 && key[kn - 2] == 's') {
            continue;
        }
        char cand[LIMIT_WORDNET_LEMMA_BYTES];
        size_t cn = kn - sl + el;
        if (cn >= sizeof cand) {
            continue;
        }
        memcpy(cand, key, kn - sl);
        memcpy(cand + kn - sl, rules[r].ending, el);
        cand[cn] = '\0';
        if (is_lemma(wn, pos, cand, cn)) {
            n_out = add_base(out, n_out, max, cand, cn);
        }
    }
    return n_out;
}
