// vocab.c — the book's vocabulary: one hash table from match keys to values (contract: vocab.h).
//
// Design.
//
// Keys. Every phrase is cut into words the way the query lexer cuts them (letters and digits;
// anything else separates), lower-cased, and joined by single spaces; a one-byte tag in front
// says what the key indexes:
//   'E' exact words of a label or value         "credit card"
//   'K' stems of a label or value               "credit card", "physician", "retir"
//   'R' a WordNet relative, as its lemma        "doctor", "health professional", "texas"
//       (relatives are not stemmed: "financial" and "financier" share a stem, not a meaning;
//       the query's words are reduced to lemmas by WordNet's base forms instead)
//   'G' stems of a lexicon (grammar) phrase     "individu": never a relative's key
//   'W' one word of the book (value, label or lexicon word): the typo targets
//   'D' a word with one or two characters deleted: the typo index (symmetric deletion, as in
//       SymSpell: two words within distance d share a string reachable by at most d deletions
//       from each, so a typo lookup is a handful of hash probes instead of a scan)
// Each key heads a chain of postings (target, how, confidence, via). A key reaching one target
// twice keeps the better posting (exact < stem < synonym < ... in enum vocab_how).
//
// Expansion (vocab_finish). For each label and value: 'E' and 'K' keys; then, when WordNet is
// open, its base forms as noun, verb and adjective, the first max_senses synsets of each (the
// k-th sense's confidence scaled by 1 / (1 + k/4)), and from each synset: its words (synonym),
// derivation and pertainym targets (derived). For values only, from noun senses among the
// first six that lie in a customer-like lexicographer file (acts, artifacts, groups,
// locations, persons, possessions — see kinds_of): hypernyms up to broader_depth levels
// (broader; a synset with more than max_hyponyms hyponyms is too generic to stand for the
// value, and the walk stops there), direct hyponyms (narrower) and part / member holonyms
// (whole: Dallas is part of Texas, so "Texas" reaches Dallas). Antonyms and similar-to
// clusters are not followed ("inactive" must not mean Retired), famous people named like a
// value are skipped (Fannie Farmer, a cook), and a value that is itself a lexicon phrase
// ("None") is not expanded. A relative whose stems are a lexicon phrase ("individual" or "one"
// for Single, "person" for Female) is dropped: the lexicon's grammar words keep their meaning.
//
// Lookup (vocab_lookup). At the first word, spans of LIMIT_VOCAB_PHRASE_WORDS down to 1 words
// are tried, longest first: their exact key, their stems' key, their relative key as typed and
// with the last word's WordNet base forms ("women" → woman). The first span with postings
// wins. When no span
// hits, the first word's own derivationally related forms are tried ("retirees" → retiree →
// retire, whose stem is Retired's): WordNet is symmetric enough that value-side expansion finds
// most relatives, but "retired" (an adjective) has no link back to "retiree".
//
// Memory: all strings live in one pool (a growable byte buffer addressed by offsets, so
// pointers handed out after vocab_finish stay valid); postings and slots are arrays. All
// through px_*.
#include "vocab.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzzy.h"
#include "logx.h"
#include "mem.h"
#include "stem.h"
#include "wordnet.h"

#define NONE UINT32_MAX
#define KEY_MAX (LIMIT_VOCAB_PHRASE_WORDS * (LIMIT_STEM_WORD_BYTES + 1) + 8)

struct target {
    size_t i_col;
    long i_value;     // VOCAB_LABEL, VOCAB_GRAMMAR or the value index
    uint32_t text;    // pool offset
};

struct posting {
    uint32_t target;  // index into targets (or, for 'W' / 'D' keys, a word's pool offset)
    uint8_t how;
    float conf;
    uint32_t via;     // pool offset or NONE
    uint32_t next;    // next posting of the key or NONE
};

struct slot {
    uint64_t hash;
    uint32_t key, key_len; // pool offset / bytes; key_len 0: empty slot
    uint32_t head;         // first posting
};

struct vocab {
    struct vocab_params params;
    struct lang_stem *stem;
    struct lang_wordnet *wn; // NULL: relatives off
    char note[256];
    char *pool;
    size_t pool_n, pool_cap;
    struct target *targets;
    size_t n_targets, cap_targets;
    struct posting *posts;
    size_t n_posts, cap_posts;
    struct slot *slots;
    size_t n_slots, cap_slots; // cap a power of two
    size_t n_keys;
    int finished;
    float *vecs; // [n_targets x dim] unit vectors of values (labels: zero), or NULL
    size_t dim;
};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }
static int is_wordc(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9') || c >= 0x80; }

const char *vocab_how_name(enum vocab_how how)
{
    static const char *const k[] = {"exact", "stem", "synonym", "derived", "broader",
                                    "narrower", "whole", "typo", "embedding"};
    return (unsigned)how < sizeof k / sizeof *k ? k[how] : "?";
}

struct vocab_params vocab_default_params(void)
{
    struct vocab_params p = {NULL, 8, 4, 60, true};
    return p;
}

// ---- pool and hash table ----

static int pool_add(struct vocab *v, const char *s, size_t n, uint32_t *off, struct px_err *err)
{
    if (v->pool_n + n + 1 > UINT32_MAX) {
        return px_fail(err, PX_ELIMIT, "vocabulary strings exceed 4 GiB");
    }
    if (v->pool_n + n + 1 > v->pool_cap) {
        size_t cap = v->pool_cap ? v->pool_cap : 4096;
        while (cap < v->pool_n + n + 1) {
            cap *= 2;
        }
        char *p = px_realloc(v->pool, cap);
        if (p == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory growing the vocabulary");
        }
        v->pool = p;
        v->pool_cap = cap;
    }
    memcpy(v->pool + v->pool_n, s, n);
    v->pool[v->pool_n + n] = '\0';
    *off = (uint32_t)v->pool_n;
    v->pool_n += n + 1;
    return PX_OK;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; // FNV-1a
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

static const struct slot *find_slot(const struct vocab *v, const char *key, size_t n)
{
    if (v->cap_slots == 0) {
        return NULL;
    }
    uint64_t h = hash_bytes(key, n);
    for (size_t i = h & (v->cap_slots - 1);; i = (i + 1) & (v->cap_slots - 1)) {
        const struct slot *s = &v->slots[i];
        if (s->key_len == 0) {
            return NULL;
        }
        if (s->hash == h && s->key_len == n && memcmp(v->pool + s->key, key, n) == 0) {
            return s;
        }
    }
}

static int grow_slots(struct vocab *v, struct px_err *err)
{
    size_t cap = v->cap_slots ? v->cap_slots * 2 : 1024;
    struct slot *ns = px_calloc(cap, sizeof *ns);
    if (ns == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory growing the vocabulary's table");
    }
    for (size_t i = 0; i < v->cap_slots; i++) {
        const struct slot *s = &v->slots[i];
        if (s->key_len == 0) {
            continue;
        }
        size_t j = s->hash & (cap - 1);
        while (ns[j].key_len != 0) {
            j = (j + 1) & (cap - 1);
        }
        ns[j] = *s;
    }
    px_free(v->slots);
    v->slots = ns;
    v->cap_slots = cap;
    return PX_OK;
}

// The slot of key (created empty when absent).
static int get_slot(struct vocab *v, const char *key, size_t n, struct slot **out,
                    struct px_err *err)
{
    if ((v->n_slots + 1) * 2 > v->cap_slots) {
        int rc = grow_slots(v, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    uint64_t h = hash_bytes(key, n);
    size_t i = h & (v->cap_slots - 1);
    for (;; i = (i + 1) & (v->cap_slots - 1)) {
        struct slot *s = &v->slots[i];
        if (s->key_len == 0) {
            break;
        }
        if (s->hash == h && s->key_len == n && memcmp(v->pool + s->key, key, n) == 0) {
            *out = s;
            return PX_OK;
        }
    }
    if (v->n_slots >= LIMIT_VOCAB_KEYS) {
        return px_fail(err, PX_ELIMIT, "the vocabulary has more than %u keys (LIMIT_VOCAB_KEYS)",
                       (unsigned)LIMIT_VOCAB_KEYS);
    }
    uint32_t off;
    int rc = pool_add(v, key, n, &off, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct slot *s = &v->slots[i];
    s->hash = h;
    s->key = off;
    s->key_len = (uint32_t)n;
    s->head = NONE;
    v->n_slots++;
    if (key[0] == 'K' || key[0] == 'E' || key[0] == 'R') {
        v->n_keys++;
    }
    *out = s;
    return PX_OK;
}

// Adds (target, how, conf, via) under key, keeping the better posting when the key already
// reaches the target.
static int add_posting(struct vocab *v, const char *key, size_t n, uint32_t target,
                       enum vocab_how how, float conf, uint32_t via, struct px_err *err)
{
    struct slot *s;
    int rc = get_slot(v, key, n, &s, err);
    if (rc != PX_OK) {
        return rc;
    }
    for (uint32_t p = s->head; p != NONE; p = v->posts[p].next) {
        struct posting *q = &v->posts[p];
        if (q->target == target) {
            if (how < q->how || (how == q->how && conf > q->conf)) {
                q->how = (uint8_t)how, q->conf = conf, q->via = via;
            }
            return PX_OK;
        }
    }
    if (v->n_posts == v->cap_posts) {
        size_t cap = v->cap_posts ? v->cap_posts * 2 : 1024;
        struct posting *np = px_realloc(v->posts, cap * sizeof *np);
        if (np == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory growing the vocabulary's postings");
        }
        v->posts = np;
        v->cap_posts = cap;
    }
    uint32_t i = (uint32_t)v->n_posts++;
    v->posts[i] = (struct posting){target, (uint8_t)how, conf, via, s->head};
    s->head = i;
    return PX_OK;
}

// ---- words and keys ----

struct words {
    size_t n;
    const char *w[LIMIT_VOCAB_PHRASE_WORDS * 4];
    size_t len[LIMIT_VOCAB_PHRASE_WORDS * 4];
};

// Cuts s[0..n) into words (letters, digits, non-ASCII bytes); stop_paren drops "(...)" on.
// Returns 0 when there are none or more than the array holds.
static int split_words(const char *s, size_t n, int stop_paren, struct words *out)
{
    out->n = 0;
    size_t i = 0;
    while (i < n) {
        if (stop_paren && s[i] == '(') {
            break;
        }
        if (!is_wordc((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_wordc((unsigned char)s[j])) {
            j++;
        }
        if (out->n == sizeof out->w / sizeof *out->w) {
            return 0;
        }
        out->w[out->n] = s + i;
        out->len[out->n] = j - i;
        out->n++;
        i = j;
    }
    return out->n > 0;
}

// Appends a lower-cased copy of w[0..n) to key (at *kn, capacity KEY_MAX). 0 when full.
static int key_append(char *key, size_t *kn, const char *w, size_t n)
{
    if (*kn + n + 1 >= KEY_MAX) {
        return 0;
    }
    if (*kn > 1) {
        key[(*kn)++] = ' ';
    }
    for (size_t i = 0; i < n; i++) {
        key[(*kn)++] = (char)lower((unsigned char)w[i]);
    }
    return 1;
}

// Stem of w[0..n) (lower-cased first) into out[LIMIT_STEM_WORD_BYTES + 1].
static int stem_of(const struct vocab *v, const char *w, size_t n, char *out, size_t *out_n,
                   struct px_err *err)
{
    char low[LIMIT_STEM_WORD_BYTES + 1];
    if (n > LIMIT_STEM_WORD_BYTES) {
        n = LIMIT_STEM_WORD_BYTES; // a 64-letter word is only ever equal to itself anyway
    }
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)lower((unsigned char)w[i]);
    }
    return lang_stem_word(v->stem, low, n, out, LIMIT_STEM_WORD_BYTES + 1, out_n, err);
}

// key = tag + the stems of words[0..n) (the last word replaced by last[0..last_n) when given).
static int stem_key(const struct vocab *v, char tag, const char *const *w, const size_t *len,
                    size_t n, const char *last, size_t last_n, char *key, size_t *kn,
                    struct px_err *err)
{
    key[0] = tag;
    *kn = 1;
    for (size_t i = 0; i < n; i++) {
        const char *s = i + 1 == n && last != NULL ? last : w[i];
        size_t sn = i + 1 == n && last != NULL ? last_n : len[i];
        char st[LIMIT_STEM_WORD_BYTES + 1];
        size_t stn;
        int rc = stem_of(v, s, sn, st, &stn, err);
        if (rc != PX_OK) {
            return rc;
        }
        if (!key_append(key, kn, st, stn)) {
            *kn = 0;
            return PX_OK;
        }
    }
    return PX_OK;
}

static int exact_key(char tag, const char *const *w, const size_t *len, size_t n, char *key,
                     size_t *kn)
{
    key[0] = tag;
    *kn = 1;
    for (size_t i = 0; i < n; i++) {
        if (!key_append(key, kn, w[i], len[i])) {
            *kn = 0;
            return 0;
        }
    }
    return 1;
}

// ---- building ----

int vocab_new(const struct vocab_params *params, struct vocab **out, struct px_err *err)
{
    *out = NULL;
    struct vocab *v = px_calloc(1, sizeof *v);
    if (v == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating a vocabulary");
    }
    v->params = params != NULL ? *params : vocab_default_params();
    int rc = lang_stem_new(&v->stem, err);
    if (rc != PX_OK) {
        goto fail;
    }
    const char *dir = v->params.wordnet_dir;
    if (dir != NULL && dir[0] == '\0') {
        snprintf(v->note, sizeof v->note, "WordNet turned off: synonyms, derived forms, broader "
                 "and narrower terms are not matched");
    } else {
        struct px_err e = {0};
        rc = lang_wordnet_open(dir, &v->wn, &e);
        if (rc == PX_ENOENT) {
            snprintf(v->note, sizeof v->note, "%.160s: synonyms, derived forms, broader and "
                     "narrower terms are not matched", e.msg);
            static atomic_flag said = ATOMIC_FLAG_INIT;
            if (!atomic_flag_test_and_set(&said)) {
                logx(LOGX_WARN, "vocabulary: %s", v->note);
            }
            rc = PX_OK;
        } else if (rc != PX_OK) {
            px_fail(err, rc, "%s", e.msg);
            goto fail;
        }
    }
    *out = v;
    return PX_OK;
fail:
    vocab_free(v);
    return rc;
}

void vocab_free(struct vocab *v)
{
    if (v == NULL) {
        return;
    }
    lang_stem_free(v->stem);
    lang_wordnet_close(v->wn);
    px_free(v->pool);
    px_free(v->targets);
    px_free(v->posts);
    px_free(v->slots);
    px_free(v->vecs);
    px_free(v);
}

const char *vocab_note(const struct vocab *v) { return v->note; }
size_t vocab_n_keys(const struct vocab *v) { return v->n_keys; }

static int add_target(struct vocab *v, size_t i_col, long i_value, const char *text,
                      struct px_err *err)
{
    if (v->finished) {
        return px_fail(err, PX_EINVAL, "vocabulary already finished");
    }
    if (v->n_targets == v->cap_targets) {
        size_t cap = v->cap_targets ? v->cap_targets * 2 : 256;
        struct target *nt = px_realloc(v->targets, cap * sizeof *nt);
        if (nt == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory growing the vocabulary");
        }
        v->targets = nt;
        v->cap_targets = cap;
    }
    uint32_t off;
    int rc = pool_add(v, text, strlen(text), &off, err);
    if (rc != PX_OK) {
        return rc;
    }
    v->targets[v->n_targets++] = (struct target){i_col, i_value, off};
    return PX_OK;
}

int vocab_add_label(struct vocab *v, size_t i_col, const char *label, struct px_err *err)
{
    return add_target(v, i_col, VOCAB_LABEL, label, err);
}

int vocab_add_value(struct vocab *v, size_t i_col, size_t i_value, const char *value,
                    struct px_err *err)
{
    return add_target(v, i_col, (long)i_value, value, err);
}

int vocab_add_grammar(struct vocab *v, const char *word, struct px_err *err)
{
    size_t n_grammar = 0;
    for (size_t i = 0; i < v->n_targets; i++) {
        n_grammar += v->targets[i].i_value == VOCAB_GRAMMAR;
    }
    return add_target(v, n_grammar, VOCAB_GRAMMAR, word, err);
}

// Typo index: the word itself ('W') and its deletions up to two characters ('D').
static int add_typo_word(struct vocab *v, const char *w, size_t n, struct px_err *err)
{
    if (n == 0 || n > LIMIT_STEM_WORD_BYTES) {
        return PX_OK;
    }
    char key[KEY_MAX];
    key[0] = 'W';
    for (size_t i = 0; i < n; i++) {
        key[1 + i] = (char)lower((unsigned char)w[i]);
    }
    if (find_slot(v, key, n + 1) != NULL) {
        return PX_OK; // already indexed
    }
    uint32_t off;
    int rc = pool_add(v, key + 1, n, &off, err);
    if (rc == PX_OK) {
        rc = add_posting(v, key, n + 1, off, VOCAB_EXACT, 1, NONE, err);
    }
    // code-point boundaries, for deletions of whole characters
    size_t b[LIMIT_STEM_WORD_BYTES + 1], n_ch = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)key[1 + i] & 0xc0) != 0x80) {
            b[n_ch++] = i;
        }
    }
    b[n_ch] = n;
    if (rc != PX_OK || n_ch < 3) {
        return rc;
    }
    size_t depth = n_ch >= 4 ? 2 : 1;
    char d[KEY_MAX];
    for (size_t i = 0; i < n_ch && rc == PX_OK; i++) {
        // delete character i
        size_t dn = 0;
        d[dn++] = 'D';
        memcpy(d + dn, key + 1, b[i]);
        dn += b[i];
        memcpy(d + dn, key + 1 + b[i + 1], n - b[i + 1]);
        dn += n - b[i + 1];
        rc = add_posting(v, d, dn, off, VOCAB_TYPO, 1, NONE, err);
        for (size_t j = i + 1; j < n_ch && depth == 2 && rc == PX_OK; j++) {
            // delete characters i and j
            size_t en = 0;
            char e[KEY_MAX];
            e[en++] = 'D';
            memcpy(e + en, key + 1, b[i]);
            en += b[i];
            memcpy(e + en, key + 1 + b[i + 1], b[j] - b[i + 1]);
            en += b[j] - b[i + 1];
            memcpy(e + en, key + 1 + b[j + 1], n - b[j + 1]);
            en += n - b[j + 1];
            rc = add_posting(v, e, en, off, VOCAB_TYPO, 1, NONE, err);
        }
    }
    return rc;
}

// A relative (WordNet's spelling, '_' between words) of target t.
static int add_relative(struct vocab *v, uint32_t t, const char *w, size_t n, enum vocab_how how,
                        float conf, struct px_err *err)
{
    struct words ws;
    if (!split_words(w, n, 0, &ws) || ws.n > LIMIT_VOCAB_PHRASE_WORDS) {
        return PX_OK;
    }
    char key[KEY_MAX];
    size_t kn;
    int rc = stem_key(v, 'G', ws.w, ws.len, ws.n, NULL, 0, key, &kn, err);
    if (rc != PX_OK || kn == 0 || find_slot(v, key, kn) != NULL) {
        return rc; // a grammar phrase keeps its meaning
    }
    if (!exact_key('R', ws.w, ws.len, ws.n, key, &kn)) {
        return PX_OK;
    }
    uint32_t via;
    rc = pool_add(v, w, n, &via, err);
    for (size_t i = v->pool_n - n - 1; rc == PX_OK && i < v->pool_n - 1; i++) {
        if (v->pool[i] == '_') {
            v->pool[i] = ' ';
        }
    }
    if (rc == PX_OK) {
        rc = add_posting(v, key, kn, t, how, conf, via, err);
    }
    return rc;
}

static int add_synset_words(struct vocab *v, uint32_t t, const struct lang_wn_synset *ss,
                            unsigned only, enum vocab_how how, float conf, struct px_err *err)
{
    int rc = PX_OK;
    for (size_t i = 0; i < ss->n_words && rc == PX_OK; i++) {
        if (only == 0 || only == i + 1) {
            rc = add_relative(v, t, ss->words[i].s, ss->words[i].n, how, conf, err);
        }
    }
    return rc;
}

static size_t n_hyponyms(const struct lang_wn_synset *ss)
{
    size_t k = 0;
    for (size_t i = 0; i < ss->n_ptrs; i++) {
        k += ss->ptrs[i].kind == LANG_WN_PTR_HYPONYM;
    }
    return k;
}

// Follows hypernyms of ss up to depth levels (scratch: depth synsets).
static int add_broader(struct vocab *v, uint32_t t, const struct lang_wn_synset *ss,
                       size_t level, float rank, struct lang_wn_synset *scratch,
                       struct px_err *err)
{
    if (level > v->params.broader_depth) {
        return PX_OK;
    }
    for (size_t i = 0; i < ss->n_ptrs; i++) {
        const struct lang_wn_ptr *p = &ss->ptrs[i];
        if (p->kind != LANG_WN_PTR_HYPERNYM) {
            continue;
        }
        struct px_err e = {0};
        if (lang_wordnet_synset(v->wn, p->pos, p->offset, scratch, &e) != PX_OK ||
            n_hyponyms(scratch) > v->params.max_hyponyms) {
            continue; // a broken pointer or a too generic term: not followed
        }
        int rc = add_synset_words(v, t, scratch, 0, VOCAB_BROADER,
                                  (0.65f - 0.05f * (float)level) * rank, err);
        if (rc == PX_OK) {
            rc = add_broader(v, t, scratch, level + 1, rank, scratch + 1, err);
        }
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

// Places a place is part of, beyond the first: London → England → United Kingdom → Europe, so
// "European" (whose pertainym is Europe) and "British" reach the book's cities. Part holonyms
// of locations only (noun.location), up to three levels (scratch: two synsets).
static int add_wholes(struct vocab *v, uint32_t t, const struct lang_wn_synset *ss,
                      size_t level, float rank, struct lang_wn_synset *scratch,
                      struct px_err *err)
{
    if (level > 3 || ss->lex_filenum != 15) {
        return PX_OK;
    }
    for (size_t i = 0; i < ss->n_ptrs; i++) {
        const struct lang_wn_ptr *p = &ss->ptrs[i];
        if (p->kind != LANG_WN_PTR_HOLONYM || strcmp(p->sym, "#p") != 0) {
            continue;
        }
        struct px_err e = {0};
        if (lang_wordnet_synset(v->wn, p->pos, p->offset, scratch, &e) != PX_OK) {
            continue;
        }
        int rc = add_synset_words(v, t, scratch, 0, VOCAB_WHOLE,
                                  (0.65f - 0.05f * (float)level) * rank, err);
        if (rc == PX_OK) {
            rc = add_wholes(v, t, scratch, level + 1, rank, scratch + 1, err);
        }
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

// Index of word w[0..n) (a lemma: '_' for spaces, lower case) among ss's words, 1-based; 0.
static unsigned word_no(const struct lang_wn_synset *ss, const char *lemma, size_t n)
{
    for (size_t i = 0; i < ss->n_words; i++) {
        if (ss->words[i].n != n) {
            continue;
        }
        size_t k = 0;
        while (k < n && lower((unsigned char)ss->words[i].s[k]) == lemma[k]) {
            k++;
        }
        if (k == n) {
            return (unsigned)(i + 1);
        }
    }
    return 0;
}

// Whether broader terms, kinds and wholes are followed from sense k: only for values (a veteran
// is a kind of man, but "men" does not name the veteran flag), only nouns, only the first six
// senses, and only senses in the lexicographer files a customer's value lives in — acts (04:
// investing), artifacts (06: a credit card), groups (14), locations (15: Dallas), persons (18:
// a physician, a female person), possessions (21: a mortgage). "Single" the digit
// (noun.quantity) is no marital status, "female" the animal (noun.animal) no gender.
static int kinds_of(const struct lang_wn_synset *ss, int is_label, int pos, size_t k)
{
    if (is_label || pos != LANG_WN_NOUN || k >= 6) {
        return 0;
    }
    switch (ss->lex_filenum) {
    case 4: case 6: case 14: case 15: case 18: case 21: return 1;
    default: return 0;
    }
}

// Every relative of target t through the synsets of lemma (WordNet spelling).
static int expand_wordnet(struct vocab *v, uint32_t t, const char *lemma, size_t n,
                          int is_label, struct lang_wn_synset *ss, struct px_err *err)
{
    int rc = PX_OK;
    for (int pos = 0; pos < LANG_WN_N_POS - 1 && rc == PX_OK; pos++) { // adverbs: no values
        char bases[LIMIT_WORDNET_BASES][LIMIT_WORDNET_LEMMA_BYTES];
        size_t n_bases = lang_wordnet_base_forms(v->wn, (enum lang_wn_pos)pos, lemma, n, bases,
                                                 LIMIT_WORDNET_BASES);
        for (size_t b = 0; b < n_bases && rc == PX_OK; b++) {
            uint32_t offs[LIMIT_WORDNET_SENSES];
            size_t n_offs;
            struct px_err e = {0};
            if (lang_wordnet_senses(v->wn, (enum lang_wn_pos)pos, bases[b], strlen(bases[b]),
                                    offs, LIMIT_WORDNET_SENSES, &n_offs, &e) != PX_OK) {
                continue; // a malformed index line: this lemma has no relatives
            }
            if (n_offs > v->params.max_senses) {
                n_offs = v->params.max_senses;
            }
            for (size_t k = 0; k < n_offs && rc == PX_OK; k++) {
                if (lang_wordnet_synset(v->wn, (enum lang_wn_pos)pos, offs[k], &ss[0], &e) !=
                    PX_OK) {
                    continue;
                }
                if (ss[0].is_instance && ss[0].lex_filenum == 18) {
                    continue; // a famous person named like the value (Fannie Farmer, a cook)
                }
                // later senses are rarer: "doctor" as a scholar must not outrank the physician
                float rank = 1.0f / (1.0f + 0.25f * (float)k);
                unsigned me = word_no(&ss[0], bases[b], strlen(bases[b]));
                rc = add_synset_words(v, t, &ss[0], 0, VOCAB_SYNONYM, 0.8f * rank, err);
                for (size_t i = 0; i < ss[0].n_ptrs && rc == PX_OK; i++) {
                    const struct lang_wn_ptr *p = &ss[0].ptrs[i];
                    int lexical = p->src != 0;
                    if (lexical && p->src != me) {
                        continue; // a pointer from another word of the synset
                    }
                    enum vocab_how how;
                    float conf;
                    int kinds = kinds_of(&ss[0], is_label, pos, k);
                    if (p->kind == LANG_WN_PTR_DERIVATION || p->kind == LANG_WN_PTR_PERTAINYM) {
                        how = VOCAB_DERIVED, conf = 0.7f;
                    } else if (!kinds) {
                        continue;
                    } else if (p->kind == LANG_WN_PTR_HYPONYM) {
                        how = VOCAB_NARROWER, conf = 0.6f;
                    } else if (p->kind == LANG_WN_PTR_HOLONYM) {
                        how = VOCAB_WHOLE, conf = 0.6f;
                    } else {
                        continue;
                    }
                    if (lang_wordnet_synset(v->wn, p->pos, p->offset, &ss[1], &e) != PX_OK) {
                        continue;
                    }
                    if (how == VOCAB_NARROWER && n_hyponyms(&ss[0]) > v->params.max_hyponyms) {
                        break; // "city": its hundreds of kinds do not each mean the value
                    }
                    rc = add_synset_words(v, t, &ss[1], lexical ? p->dst : 0, how, conf * rank,
                                          err);
                    if (rc == PX_OK && how == VOCAB_WHOLE) {
                        rc = add_wholes(v, t, &ss[1], 2, rank, &ss[2], err);
                    }
                }
                if (rc == PX_OK && kinds_of(&ss[0], is_label, pos, k)) {
                    rc = add_broader(v, t, &ss[0], 1, rank, &ss[1], err);
                }
            }
        }
    }
    return rc;
}

// The irregular forms of WordNet's exception lists whose base is one of this book's keys
// ("women" → woman, "children" → child), as 'X' keys: a query's words reach their base forms
// by hash probes instead of binary searches of the dictionary files.
struct exc_ctx {
    struct vocab *v;
    int rc;
    struct px_err *err;
};

static int add_exception(void *user, const char *infl, size_t n, const char *base, size_t bn)
{
    struct exc_ctx *ec = user;
    struct vocab *v = ec->v;
    char key[KEY_MAX];
    size_t kn;
    struct words ws;
    if (n + 1 >= KEY_MAX || !split_words(base, bn, 0, &ws) || ws.n > LIMIT_VOCAB_PHRASE_WORDS) {
        return 0;
    }
    int known = exact_key('R', ws.w, ws.len, ws.n, key, &kn) && find_slot(v, key, kn) != NULL;
    if (!known) {
        ec->rc = stem_key(v, 'K', ws.w, ws.len, ws.n, NULL, 0, key, &kn, ec->err);
        if (ec->rc != PX_OK) {
            return 1;
        }
        known = kn > 0 && find_slot(v, key, kn) != NULL;
    }
    if (!known) {
        return 0;
    }
    uint32_t off;
    ec->rc = pool_add(v, base, bn, &off, ec->err);
    for (size_t i = off; ec->rc == PX_OK && i < off + bn; i++) {
        if (v->pool[i] == '_') {
            v->pool[i] = ' ';
        }
    }
    key[0] = 'X';
    for (size_t i = 0; i < n; i++) {
        key[1 + i] = (char)lower((unsigned char)infl[i]);
    }
    if (ec->rc == PX_OK) {
        ec->rc = add_posting(v, key, n + 1, off, VOCAB_EXACT, 1, NONE, ec->err);
    }
    return ec->rc != PX_OK;
}

int vocab_finish(struct vocab *v, struct px_err *err)
{
    if (v->finished) {
        return px_fail(err, PX_EINVAL, "vocabulary already finished");
    }
    int rc = PX_OK;
    // scratch synsets: one per level of the broader walk plus the sense and its pointer target
    size_t n_ss = (v->params.broader_depth > 3 ? v->params.broader_depth : 3) + 2;
    struct lang_wn_synset *ss = v->wn != NULL ? px_calloc(n_ss, sizeof *ss) : NULL;
    // the targets' texts, copied: adding keys grows the pool, which moves the bytes the words
    // of a text would otherwise point into
    char *texts = px_malloc(v->pool_n > 0 ? v->pool_n : 1);
    if ((v->wn != NULL && ss == NULL) || texts == NULL) {
        px_free(ss);
        px_free(texts);
        return px_fail(err, PX_ENOMEM, "out of memory expanding the vocabulary");
    }
    memcpy(texts, v->pool, v->pool_n);
    char key[KEY_MAX];
    size_t kn;
    // grammar first: their stems block relatives, their words are typo targets
    for (size_t t = 0; t < v->n_targets && rc == PX_OK; t++) {
        const struct target *g = &v->targets[t];
        struct words ws;
        if (g->i_value != VOCAB_GRAMMAR ||
            !split_words(texts + g->text, strlen(texts + g->text), 0, &ws)) {
            continue;
        }
        if (ws.n <= LIMIT_VOCAB_PHRASE_WORDS) {
            rc = stem_key(v, 'G', ws.w, ws.len, ws.n, NULL, 0, key, &kn, err);
            if (rc == PX_OK && kn > 0) {
                struct slot *s;
                rc = get_slot(v, key, kn, &s, err);
            }
        }
        for (size_t i = 0; i < ws.n && rc == PX_OK; i++) {
            rc = add_typo_word(v, ws.w[i], ws.len[i], err);
        }
    }
    for (size_t t = 0; t < v->n_targets && rc == PX_OK; t++) {
        const struct target *g = &v->targets[t];
        if (g->i_value == VOCAB_GRAMMAR) {
            continue;
        }
        const char *text = texts + g->text;
        struct words ws;
        if (!split_words(text, strlen(text), g->i_value == VOCAB_LABEL, &ws)) {
            continue;
        }
        for (size_t i = 0; i < ws.n && rc == PX_OK; i++) {
            rc = add_typo_word(v, ws.w[i], ws.len[i], err);
        }
        if (rc != PX_OK || ws.n > LIMIT_VOCAB_PHRASE_WORDS) {
            continue; // too long to be typed as one phrase: the parser's own matching has it
        }
        if (exact_key('E', ws.w, ws.len, ws.n, key, &kn)) {
            rc = add_posting(v, key, kn, (uint32_t)t, VOCAB_EXACT, 1, NONE, err);
        }
        if (rc == PX_OK) {
            rc = stem_key(v, 'K', ws.w, ws.len, ws.n, NULL, 0, key, &kn, err);
        }
        if (rc == PX_OK && kn > 0) {
            rc = add_posting(v, key, kn, (uint32_t)t, VOCAB_STEM, 0.9f, NONE, err);
        }
        // a value that is itself a lexicon phrase ("None" is a negation) is not expanded: its
        // WordNet senses are not the book's ("nones", a canonical hour, is a "service")
        int grammar = 0;
        if (rc == PX_OK) {
            rc = stem_key(v, 'G', ws.w, ws.len, ws.n, NULL, 0, key, &kn, err);
            grammar = kn > 0 && find_slot(v, key, kn) != NULL;
        }
        if (rc == PX_OK && v->wn != NULL && !grammar) {
            char lemma[LIMIT_WORDNET_LEMMA_BYTES];
            size_t ln = 0;
            for (size_t i = 0; i < ws.n && ln + ws.len[i] + 1 < sizeof lemma; i++) {
                if (i > 0) {
                    lemma[ln++] = '_';
                }
                memcpy(lemma + ln, ws.w[i], ws.len[i]);
                ln += ws.len[i];
            }
            rc = expand_wordnet(v, (uint32_t)t, lemma, ln, g->i_value == VOCAB_LABEL, ss, err);
        }
    }
    px_free(ss);
    px_free(texts);
    for (int pos = 0; v->wn != NULL && rc == PX_OK && pos < LANG_WN_N_POS - 1; pos++) {
        struct exc_ctx ec = {v, PX_OK, err};
        lang_wordnet_each_exception(v->wn, (enum lang_wn_pos)pos, add_exception, &ec);
        rc = ec.rc;
    }
    if (rc == PX_OK) {
        v->finished = 1;
    }
    return rc;
}

// ---- lookup ----

static int is_vocab_word(const struct vocab *v, const char *word, size_t n);

struct collect {
    struct vocab_cand *out;
    size_t max, n;
};

static void collect_add(const struct vocab *v, struct collect *c, const struct posting *p,
                        size_t n_words, enum vocab_how floor, float scale, const char *via)
{
    const struct target *t = &v->targets[p->target];
    if (t->i_value == VOCAB_GRAMMAR) {
        return;
    }
    enum vocab_how how = (enum vocab_how)p->how > floor ? (enum vocab_how)p->how : floor;
    double conf = p->conf * scale;
    const char *pvia = p->via != NONE ? v->pool + p->via : via;
    for (size_t i = 0; i < c->n; i++) {
        struct vocab_cand *q = &c->out[i];
        if (q->i_col == t->i_col && q->i_value == t->i_value) {
            if (how < q->how || (how == q->how && conf > q->confidence)) {
                q->how = how, q->confidence = conf, q->via = pvia;
            }
            return;
        }
    }
    if (c->n == c->max) {
        return;
    }
    c->out[c->n++] = (struct vocab_cand){t->i_col, t->i_value, how, conf, n_words,
                                         v->pool + t->text, pvia};
}

static void collect_key(const struct vocab *v, struct collect *c, const char *key, size_t kn,
                        size_t n_words, enum vocab_how floor, float scale, const char *via)
{
    const struct slot *s = find_slot(v, key, kn);
    for (uint32_t p = s != NULL ? s->head : NONE; p != NONE; p = v->posts[p].next) {
        collect_add(v, c, &v->posts[p], n_words, floor, scale, via);
    }
}

// Broader, narrower and whole are one tier, ordered by confidence: "women" is more surely
// Female (woman is a kind of female person) than Homemaker (a homemaker is a kind of woman).
static int tier(enum vocab_how how)
{
    return how == VOCAB_NARROWER || how == VOCAB_WHOLE ? (int)VOCAB_BROADER : (int)how;
}

int vocab_how_tier(enum vocab_how how) { return tier(how); }

static int cand_cmp(const struct vocab_cand *a, const struct vocab_cand *b)
{
    if (tier(a->how) != tier(b->how)) {
        return tier(a->how) < tier(b->how) ? -1 : 1;
    }
    if (a->confidence != b->confidence) {
        return a->confidence > b->confidence ? -1 : 1;
    }
    if (a->i_col != b->i_col) {
        return a->i_col < b->i_col ? -1 : 1;
    }
    return a->i_value < b->i_value ? -1 : a->i_value > b->i_value;
}

static void sort_cands(struct vocab_cand *c, size_t n)
{
    for (size_t i = 1; i < n; i++) { // a handful: insertion sort, stable
        struct vocab_cand x = c[i];
        size_t j = i;
        while (j > 0 && cand_cmp(&x, &c[j - 1]) < 0) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = x;
    }
}

// The first word's derivationally related forms ("retirees" → retire): their stems' keys.
static int lookup_derived(const struct vocab *v, const char *w, size_t n, struct collect *c,
                          struct px_err *err)
{
    struct lang_wn_synset *ss = px_malloc(2 * sizeof *ss);
    if (ss == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory looking up a word's relatives");
    }
    int rc = PX_OK;
    for (int pos = 0; pos < LANG_WN_N_POS - 1 && rc == PX_OK && c->n == 0; pos++) {
        char bases[LIMIT_WORDNET_BASES][LIMIT_WORDNET_LEMMA_BYTES];
        size_t n_bases =
            lang_wordnet_base_forms(v->wn, (enum lang_wn_pos)pos, w, n, bases, 4);
        for (size_t b = 0; b < n_bases && rc == PX_OK; b++) {
            uint32_t offs[LIMIT_WORDNET_SENSES];
            size_t n_offs;
            struct px_err e = {0};
            if (lang_wordnet_senses(v->wn, (enum lang_wn_pos)pos, bases[b], strlen(bases[b]),
                                    offs, 3, &n_offs, &e) != PX_OK) {
                continue;
            }
            for (size_t k = 0; k < n_offs && rc == PX_OK; k++) {
                if (lang_wordnet_synset(v->wn, (enum lang_wn_pos)pos, offs[k], &ss[0], &e) !=
                    PX_OK) {
                    continue;
                }
                unsigned me = word_no(&ss[0], bases[b], strlen(bases[b]));
                for (size_t i = 0; i < ss[0].n_ptrs && rc == PX_OK; i++) {
                    const struct lang_wn_ptr *p = &ss[0].ptrs[i];
                    if ((p->kind != LANG_WN_PTR_DERIVATION && p->kind != LANG_WN_PTR_PERTAINYM) ||
                        (p->src != 0 && p->src != me) ||
                        lang_wordnet_synset(v->wn, p->pos, p->offset, &ss[1], &e) != PX_OK) {
                        continue;
                    }
                    for (size_t j = 0; j < ss[1].n_words && rc == PX_OK; j++) {
                        if (p->dst != 0 && p->dst != j + 1) {
                            continue;
                        }
                        struct words ws;
                        if (!split_words(ss[1].words[j].s, ss[1].words[j].n, 0, &ws) ||
                            ws.n > LIMIT_VOCAB_PHRASE_WORDS) {
                            continue;
                        }
                        char key[KEY_MAX];
                        size_t kn;
                        // the via points into the mapped dictionary: not NUL-terminated, so the
                        // candidate names the value's own posting's via instead
                        if (exact_key('R', ws.w, ws.len, ws.n, key, &kn)) { // "Europe"
                            collect_key(v, c, key, kn, 1, VOCAB_DERIVED, 0.8f, NULL);
                        }
                        rc = stem_key(v, 'K', ws.w, ws.len, ws.n, NULL, 0, key, &kn, err);
                        if (rc == PX_OK && kn > 0) {
                            collect_key(v, c, key, kn, 1, VOCAB_DERIVED, 0.8f, NULL);
                        }
                    }
                }
            }
        }
    }
    px_free(ss);
    return rc;
}

// Base forms of a query word, checked against this book's keys rather than WordNet's files:
// the irregular forms indexed at build ('X'), then morphy's detachment rules as noun, verb and
// adjective (a candidate that is no key of the book finds nothing, so it needs no check).
static size_t query_bases(const struct vocab *v, const char *w, size_t n,
                          char (*out)[LIMIT_WORDNET_LEMMA_BYTES], int *pos_of, size_t max)
{
    size_t k = 0;
    char key[KEY_MAX];
    if (n + 1 < KEY_MAX && n < LIMIT_WORDNET_LEMMA_BYTES) {
        key[0] = 'X';
        for (size_t i = 0; i < n; i++) {
            key[1 + i] = (char)lower((unsigned char)w[i]);
        }
        const struct slot *s = find_slot(v, key, n + 1);
        for (uint32_t p = s != NULL ? s->head : NONE; p != NONE && k < max; p = v->posts[p].next) {
            const char *b = v->pool + v->posts[p].target;
            size_t bn = strlen(b);
            if (bn < LIMIT_WORDNET_LEMMA_BYTES) {
                memcpy(out[k], b, bn + 1);
                pos_of[k++] = -1; // from WordNet's own list: a base form
            }
        }
    }
    for (int pos = 0; pos < LANG_WN_N_POS - 1 && k < max; pos++) {
        size_t m = lang_wordnet_rule_forms((enum lang_wn_pos)pos, w, n, out + k, max - k);
        for (size_t i = 0; i < m; i++) {
            pos_of[k + i] = pos; // a candidate: a lemma of that part of speech only if WordNet
        }                        // says so ("need" is no past tense of "ne")
        k += m;
    }
    return k;
}

int vocab_lookup(const struct vocab *v, const char *const *words, const size_t *lens,
                 size_t n_words, struct vocab_cand *out, size_t max, size_t *n_out,
                 struct px_err *err)
{
    *n_out = 0;
    struct collect c = {out, max, 0};
    if (!v->finished || n_words == 0 || max == 0) {
        return PX_OK;
    }
    size_t top = n_words < LIMIT_VOCAB_PHRASE_WORDS ? n_words : LIMIT_VOCAB_PHRASE_WORDS;
    char key[KEY_MAX];
    size_t kn;
    int rc = PX_OK;
    for (size_t k = top; k >= 1 && c.n == 0; k--) {
        int ok = 1;
        for (size_t i = 0; i < k; i++) {
            ok &= lens[i] > 0 && lens[i] <= LIMIT_STEM_WORD_BYTES;
        }
        if (!ok) {
            continue;
        }
        if (exact_key('E', words, lens, k, key, &kn)) {
            collect_key(v, &c, key, kn, k, VOCAB_EXACT, 1, NULL);
        }
        rc = stem_key(v, 'K', words, lens, k, NULL, 0, key, &kn, err);
        if (rc != PX_OK) {
            return rc;
        }
        if (kn > 0) {
            collect_key(v, &c, key, kn, k, VOCAB_EXACT, 1, NULL);
        }
        if (v->wn != NULL) {
            // WordNet relatives are lemmas: the words as typed, then with the last word's base
            // forms ("women" → woman, "health professionals" → health professional)
            if (exact_key('R', words, lens, k, key, &kn)) {
                collect_key(v, &c, key, kn, k, VOCAB_EXACT, 1, NULL);
            }
            char bases[LIMIT_WORDNET_BASES][LIMIT_WORDNET_LEMMA_BYTES];
            int pos_of[LIMIT_WORDNET_BASES];
            size_t nb = query_bases(v, words[k - 1], lens[k - 1], bases, pos_of,
                                    LIMIT_WORDNET_BASES);
            for (size_t b = 0; b < nb && rc == PX_OK; b++) {
                const char *w2[LIMIT_VOCAB_PHRASE_WORDS];
                size_t l2[LIMIT_VOCAB_PHRASE_WORDS];
                memcpy(w2, words, k * sizeof *w2);
                memcpy(l2, lens, k * sizeof *l2);
                w2[k - 1] = bases[b];
                l2[k - 1] = strlen(bases[b]);
                char key2[KEY_MAX];
                size_t kn2 = 0;
                int hit_r = exact_key('R', w2, l2, k, key, &kn) && find_slot(v, key, kn) != NULL;
                // and a value's own stems ("children" → child, which is no stem of it)
                rc = stem_key(v, 'K', words, lens, k, bases[b], strlen(bases[b]), key2, &kn2,
                              err);
                int hit_k = rc == PX_OK && kn2 > 0 && find_slot(v, key2, kn2) != NULL;
                if (!hit_r && !hit_k) {
                    continue;
                }
                uint32_t off;
                size_t n_off = 0;
                struct px_err e = {0};
                if (pos_of[b] >= 0 &&
                    (lang_wordnet_senses(v->wn, (enum lang_wn_pos)pos_of[b], bases[b],
                                         strlen(bases[b]), &off, 1, &n_off, &e) != PX_OK ||
                     n_off == 0)) {
                    continue; // a rule's candidate that is no lemma of its part of speech
                }
                if (hit_r) {
                    collect_key(v, &c, key, kn, k, VOCAB_EXACT, 1, NULL);
                }
                if (hit_k) {
                    collect_key(v, &c, key2, kn2, k, VOCAB_EXACT, 1, NULL);
                }
            }
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    // derived forms of the first word: not for the book's own words or the lexicon's (they
    // matched above, or mean what the lexicon says), which also keeps the synset reads off
    // most words of a query
    if (c.n == 0 && v->wn != NULL && lens[0] >= 4 && lens[0] < LIMIT_WORDNET_LEMMA_BYTES &&
        !is_vocab_word(v, words[0], lens[0])) {
        rc = lookup_derived(v, words[0], lens[0], &c, err);
    }
    sort_cands(out, c.n);
    *n_out = c.n;
    return rc;
}

// ---- typos ----

// Calls back for every vocabulary word reachable from w[0..n) by at most depth deletions on
// each side; keeps those within bound, nearest first, in out.
struct near {
    const char **out;
    size_t max, n;
    int best;
};

static void near_add(const struct vocab *v, struct near *nr, const char *w, size_t n,
                     const char *cand, int bound)
{
    for (size_t i = 0; i < nr->n; i++) {
        if (nr->out[i] == cand) {
            return;
        }
    }
    int d = lang_fuzzy_distance(w, n, cand, strlen(cand), bound);
    if (d > bound || d == 0 || d > nr->best) {
        return;
    }
    if (d < nr->best) {
        nr->best = d;
        nr->n = 0;
    }
    if (nr->n < nr->max) {
        nr->out[nr->n++] = cand;
    }
    (void)v;
}

static void near_probe(const struct vocab *v, struct near *nr, const char *w, size_t n,
                       const char *variant, size_t vn, int bound)
{
    char key[KEY_MAX];
    if (vn + 1 >= KEY_MAX) {
        return;
    }
    memcpy(key + 1, variant, vn);
    for (int tag = 0; tag < 2; tag++) {
        key[0] = tag == 0 ? 'W' : 'D';
        const struct slot *s = find_slot(v, key, vn + 1);
        for (uint32_t p = s != NULL ? s->head : NONE; p != NONE; p = v->posts[p].next) {
            near_add(v, nr, w, n, v->pool + v->posts[p].target, bound);
        }
    }
}

static size_t near_words(const struct vocab *v, const char *word, size_t n, int bound,
                         const char **out, size_t max, int *distance)
{
    struct near nr = {out, max, 0, bound + 1};
    if (!v->finished || n == 0 || n > LIMIT_STEM_WORD_BYTES || bound <= 0) {
        return 0;
    }
    char w[LIMIT_STEM_WORD_BYTES + 1];
    for (size_t i = 0; i < n; i++) {
        w[i] = (char)lower((unsigned char)word[i]);
    }
    size_t b[LIMIT_STEM_WORD_BYTES + 1], n_ch = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)w[i] & 0xc0) != 0x80) {
            b[n_ch++] = i;
        }
    }
    b[n_ch] = n;
    near_probe(v, &nr, w, n, w, n, bound);
    char d[KEY_MAX];
    for (size_t i = 0; i < n_ch; i++) {
        size_t dn = 0;
        memcpy(d, w, b[i]);
        dn = b[i];
        memcpy(d + dn, w + b[i + 1], n - b[i + 1]);
        dn += n - b[i + 1];
        near_probe(v, &nr, w, n, d, dn, bound);
        for (size_t j = i + 1; j < n_ch && bound >= 2; j++) {
            char e[KEY_MAX];
            size_t en = b[i];
            memcpy(e, w, b[i]);
            memcpy(e + en, w + b[i + 1], b[j] - b[i + 1]);
            en += b[j] - b[i + 1];
            memcpy(e + en, w + b[j + 1], n - b[j + 1]);
            en += n - b[j + 1];
            near_probe(v, &nr, w, n, e, en, bound);
        }
    }
    if (distance != NULL) {
        *distance = nr.n > 0 ? nr.best : 0;
    }
    return nr.n;
}

static int is_vocab_word(const struct vocab *v, const char *word, size_t n)
{
    char key[KEY_MAX];
    if (n == 0 || n + 1 >= KEY_MAX) {
        return 0;
    }
    key[0] = 'W';
    for (size_t i = 0; i < n; i++) {
        key[1 + i] = (char)lower((unsigned char)word[i]);
    }
    return find_slot(v, key, n + 1) != NULL;
}

size_t vocab_correct(const struct vocab *v, const char *word, size_t n, const char **out,
                     size_t max, int *distance)
{
    if (distance != NULL) {
        *distance = 0;
    }
    if (!v->params.typos || is_vocab_word(v, word, n) || n > LIMIT_STEM_WORD_BYTES) {
        return 0;
    }
    int bound = lang_fuzzy_bound(lang_fuzzy_chars(word, n));
    size_t k = near_words(v, word, n, bound, out, max, distance);
    if (k == 0) {
        return 0;
    }
    // an English word (WordNet knows it) or a form of one of the book's words is no typo
    if (v->wn != NULL) {
        char bases[1][LIMIT_WORDNET_LEMMA_BYTES];
        for (int pos = 0; pos < LANG_WN_N_POS; pos++) {
            if (lang_wordnet_base_forms(v->wn, (enum lang_wn_pos)pos, word, n, bases, 1) > 0) {
                k = 0;
                break;
            }
        }
    }
    char key[KEY_MAX];
    size_t kn;
    struct px_err e = {0};
    if (k > 0 && stem_key(v, 'K', &word, &n, 1, NULL, 0, key, &kn, &e) == PX_OK && kn > 0 &&
        find_slot(v, key, kn) != NULL) {
        k = 0;
    }
    if (k == 0 && distance != NULL) {
        *distance = 0;
    }
    return k;
}

size_t vocab_suggest(const struct vocab *v, const char *word, size_t n, const char **out,
                     size_t max)
{
    size_t chars = lang_fuzzy_chars(word, n);
    if (chars < 3 || is_vocab_word(v, word, n)) {
        return 0;
    }
    int bound = lang_fuzzy_bound(chars) + 1;
    bound = bound > 2 ? 2 : bound;
    // nearest first: try distance 1, then widen
    size_t k = near_words(v, word, n, 1, out, max, NULL);
    if (k == 0 && bound >= 2) {
        k = near_words(v, word, n, 2, out, max, NULL);
    }
    return k;
}

// ---- embeddings ----

static void normalise(float *x, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++) {
        s += (double)x[i] * x[i];
    }
    if (s > 0) {
        float inv = (float)(1.0 / sqrt(s));
        for (size_t i = 0; i < dim; i++) {
            x[i] *= inv;
        }
    }
}

int vocab_embed_values(struct vocab *v, const struct vocab_embedder *e, struct px_err *err)
{
    if (e == NULL || e->embed == NULL || e->dim == 0 || e->dim > LIMIT_VECTOR_DIM) {
        return px_fail(err, PX_EINVAL, "vocabulary embedder: dim must be 1..%d",
                       LIMIT_VECTOR_DIM);
    }
    int rc = PX_OK;
    size_t n = v->n_targets;
    float *vecs = px_calloc(n > 0 ? n : 1, e->dim * sizeof *vecs);
    const char **texts = px_calloc(n > 0 ? n : 1, sizeof *texts);
    size_t *lens = px_calloc(n > 0 ? n : 1, sizeof *lens);
    size_t *idx = px_calloc(n > 0 ? n : 1, sizeof *idx);
    float *tmp = NULL;
    if (vecs == NULL || texts == NULL || lens == NULL || idx == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory embedding the vocabulary");
        goto done;
    }
    size_t m = 0;
    for (size_t t = 0; t < n; t++) {
        if (v->targets[t].i_value >= 0) {
            texts[m] = v->pool + v->targets[t].text;
            lens[m] = strlen(texts[m]);
            idx[m++] = t;
        }
    }
    tmp = px_calloc(m > 0 ? m : 1, e->dim * sizeof *tmp);
    if (tmp == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory embedding the vocabulary");
        goto done;
    }
    if (m > 0) {
        rc = e->embed(e->ctx, texts, lens, m, tmp, err);
        if (rc != PX_OK) {
            goto done;
        }
    }
    for (size_t i = 0; i < m; i++) {
        memcpy(vecs + idx[i] * e->dim, tmp + i * e->dim, e->dim * sizeof *tmp);
        normalise(vecs + idx[i] * e->dim, e->dim);
    }
    px_free(v->vecs);
    v->vecs = vecs;
    vecs = NULL;
    v->dim = e->dim;
done:
    px_free(vecs);
    px_free(texts);
    px_free(lens);
    px_free(idx);
    px_free(tmp);
    return rc;
}

int vocab_lookup_semantic(const struct vocab *v, const struct vocab_embedder *e,
                          const char *phrase, size_t n, double min_cos, struct vocab_cand *out,
                          size_t max, size_t *n_out, struct px_err *err)
{
    *n_out = 0;
    if (v->vecs == NULL || e == NULL || e->dim != v->dim || n == 0 || max == 0) {
        return PX_OK;
    }
    float *q = px_malloc(v->dim * sizeof *q);
    if (q == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory embedding a phrase");
    }
    const char *texts[1] = {phrase};
    size_t lens[1] = {n};
    int rc = e->embed(e->ctx, texts, lens, 1, q, err);
    if (rc == PX_OK) {
        normalise(q, v->dim);
        size_t k = 0;
        for (size_t t = 0; t < v->n_targets; t++) {
            if (v->targets[t].i_value < 0) {
                continue;
            }
            const float *x = v->vecs + t * v->dim;
            double dot = 0;
            for (size_t i = 0; i < v->dim; i++) {
                dot += (double)q[i] * x[i];
            }
            if (dot < min_cos) {
                continue;
            }
            struct vocab_cand cnd = {v->targets[t].i_col, v->targets[t].i_value,
                                     VOCAB_EMBEDDING, dot, 0, v->pool + v->targets[t].text,
                                     NULL};
            // keep the best max, by cosine
            size_t j = k < max ? k++ : max;
            if (j == max) {
                if (dot <= out[max - 1].confidence) {
                    continue;
                }
                j = max - 1;
            }
            while (j > 0 && out[j - 1].confidence < dot) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = cnd;
        }
        *n_out = k;
    }
    px_free(q);
    return rc;
}
