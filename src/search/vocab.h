// vocab.h — the book's vocabulary: every category value, list item and column label of one
// table, reachable through word forms (Snowball stems, WordNet base forms), WordNet relatives
// (synonyms, derived forms, broader and narrower terms, wholes) and typos.
//
//   "doctors"   → Physician   (synonym: doctor, physician share a synset)
//   "lawyers"   → Attorney    (synonym)
//   "renters"   → Rent        (derived: renter ← rent)
//   "retirees"  → Retired     (derived: retiree → retire, whose stem is retired's)
//   "women"     → Female      (broader: woman is a kind of female person)
//   "Texas"     → Dallas, Houston, Austin (whole: Dallas is part of Texas)
//   "custmers"  → "customers" (typo, against this book's words and the lexicon's only)
//
// Built once per book (vocab_new, then vocab_add_* for each label, value and grammar word, then
// vocab_finish), then read-only. The cost depends on the number of distinct values and
// labels, not on rows. A lookup reads a hash table; it allocates nothing.
//
// What a candidate says (enum vocab_how, best first): how the words reached the value, so the
// parser can let an exact label beat a stem, a stem beat a synonym, a synonym beat a broader
// or narrower term, and typos come last; `via` names the WordNet word that linked them (shown
// in the plan: "doctors → Physician (synonym of doctor)").
//
// Without WordNet (the directory missing: vocab_params.wordnet_dir names another, or "" turns
// it off) stems and typos still work; vocab_note() says why relatives are missing, and the
// first such vocabulary in a process logs it once.
//
// The sentence-transformer hook: when the app layer has an embedder with weights, it fills a
// struct vocab_embedder and calls vocab_embed_values once per book; vocab_lookup_semantic then
// matches a leftover phrase to the values whose embeddings are nearest (cosine ≥ min_cos).
//
// Thread-safety: after vocab_finish (and vocab_embed_values) the vocabulary is immutable and
// may be shared by any number of threads; the stemmer inside it has its own lock.
#ifndef PX_VOCAB_H
#define PX_VOCAB_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "limits.h"

enum vocab_how {
    VOCAB_EXACT = 0,     // the value's own words (ASCII case ignored)
    VOCAB_STEM = 1,      // same stems ("credit cards" / "Credit Card", "renting" / "Rent")
    VOCAB_SYNONYM = 2,   // a word of one of the value's synsets ("attorneys" → Attorney)
    VOCAB_DERIVED = 3,   // a derivationally related form or pertainym ("renters" → Rent)
    VOCAB_BROADER = 4,   // the phrase names a kind the value belongs to ("health professional")
    VOCAB_NARROWER = 5,  // the phrase is a kind of the value ("surgeon" → Physician)
    VOCAB_WHOLE = 6,     // the value is part or member of what the phrase names ("Texas")
    VOCAB_TYPO = 7,      // edit distance to one of the book's words
    VOCAB_EMBEDDING = 8, // nearest by the sentence-transformer's cosine
};

// Ranking tier of a match kind: broader, narrower and whole share one (ordered among
// themselves by confidence); every other kind is its own. Lower is better.
int vocab_how_tier(enum vocab_how how);

// Lower-case name ("exact", "stem", "synonym", ...).
const char *vocab_how_name(enum vocab_how how);

#define VOCAB_LABEL (-1L)   // i_value of a candidate that is the column's label
#define VOCAB_GRAMMAR (-2L) // a lexicon word (typo targets only); i_col is the word's index

struct vocab_cand {
    size_t i_col;       // the column (or grammar word's index for VOCAB_GRAMMAR)
    long i_value;       // index of the value in the column, VOCAB_LABEL or VOCAB_GRAMMAR
    enum vocab_how how;
    double confidence;  // (0, 1]: exact 1, stem .9, synonym .8, derived .7, narrower and
                        // whole .6, broader .6 one level up to .45 four up; the k-th sense
                        // (0-based) scaled by 1 / (1 + k/4); embedding = the cosine
    size_t n_words;     // query words the candidate covers
    const char *text;   // borrowed: the value, label or grammar word as added
    const char *via;    // borrowed: the WordNet word or corrected spelling that linked them;
                        // NULL for exact and stem
};

struct vocab_params {
    const char *wordnet_dir; // NULL: /usr/share/wordnet; "": do not use WordNet
    size_t max_senses;       // senses of a value's word whose synonyms count (default 8: "MI"
                             // is Michigan in its fifth); broader, narrower and wholes come
                             // from the first noun sense only
    size_t broader_depth;    // hypernym levels followed (default 4: physician → medical
                             // practitioner → health professional → professional)
    size_t max_hyponyms;     // a hypernym with more direct hyponyms than this is too generic to
                             // mean the value (default 60: "person" has 400, "lawyer" 37)
    bool typos;              // default true
};

struct vocab_params vocab_default_params(void);

struct vocab;

// Returns owned empty vocabulary in *out (vocab_free). Opens the stemmer and, unless turned
// off, WordNet (a missing dictionary is not an error: see vocab_note). PX_ENOMEM; WordNet
// files that exist but are malformed or too large are PX_EFORMAT / PX_ELIMIT.
int vocab_new(const struct vocab_params *params, struct vocab **out, struct px_err *err);
// NULL is a no-op.
void vocab_free(struct vocab *v);

// Adds a column's label (words in "(...)" ignored), a value of column i_col (its index
// i_value in that column), or a grammar word of the lexicon ("above", "customers"; its index
// is the order of addition). Strings are copied. Before vocab_finish only. PX_ENOMEM,
// PX_ELIMIT (LIMIT_VOCAB_KEYS).
int vocab_add_label(struct vocab *v, size_t i_col, const char *label, struct px_err *err);
int vocab_add_value(struct vocab *v, size_t i_col, size_t i_value, const char *value,
                    struct px_err *err);
int vocab_add_grammar(struct vocab *v, const char *word, struct px_err *err);

// Expands every label and value through stems and WordNet and builds the typo index.
int vocab_finish(struct vocab *v, struct px_err *err);

// Why relatives are missing ("WordNet not found in /x: synonyms, ... off"), or "" when WordNet
// is in use. Borrowed.
const char *vocab_note(const struct vocab *v);
// Distinct keys indexed (for the benchmark's figures).
size_t vocab_n_keys(const struct vocab *v);

// Candidates for the longest phrase that starts at words[0] (words[i] has lens[i] bytes, any
// ASCII case; at most LIMIT_VOCAB_PHRASE_WORDS are tried). Writes at most max candidates into
// out, best first (by vocab_how_tier, then confidence), all covering the same n_words; *n_out = 0 when
// no phrase starting there is in the vocabulary. Grammar words are not returned (they are the
// parser's own). Typos are not tried here (vocab_correct). PX_OK unless the stemmer fails.
int vocab_lookup(const struct vocab *v, const char *const *words, const size_t *lens,
                 size_t n_words, struct vocab_cand *out, size_t max, size_t *n_out,
                 struct px_err *err);

// The book's words (value and label words, grammar words) one typo away from word[0..n) —
// unless it is itself a vocabulary word, a form of one (same stem), or an English word WordNet
// knows ("homes", "travel" are not typos of "home", "travl" may be)
// (bound: lang_fuzzy_bound of its length). Writes the nearest ones (ties all kept, at most max,
// as NUL-terminated borrowed strings) into out and returns how many; 0 when it is not a typo
// or nothing is near. *distance is the edit distance of those returned.
size_t vocab_correct(const struct vocab *v, const char *word, size_t n, const char **out,
                     size_t max, int *distance);

// Did-you-mean for a word nothing matched: vocabulary words within one edit more than a typo
// is allowed (at most 2, and at least 1 for words of 3+ characters), nearest first. Returns
// how many borrowed strings were written to out.
size_t vocab_suggest(const struct vocab *v, const char *word, size_t n, const char **out,
                     size_t max);

// ---- the sentence-transformer hook ----

struct vocab_embedder {
    // Embeds n texts (texts[i] has lens[i] bytes) into out (n x dim, row-major). Any norm.
    int (*embed)(void *ctx, const char *const *texts, const size_t *lens, size_t n, float *out,
                 struct px_err *err);
    void *ctx;  // borrowed, passed back
    size_t dim; // 1..LIMIT_EMBED_DIM
};

// Embeds every value (not labels) once and keeps the unit vectors. e is borrowed for the call.
int vocab_embed_values(struct vocab *v, const struct vocab_embedder *e, struct px_err *err);
// Values whose cosine with phrase[0..n) is at least min_cos, best first (at most max into out,
// how VOCAB_EMBEDDING, n_words 0: the caller knows the phrase's span). *n_out = 0 when
// vocab_embed_values was not called. e must be the embedder given to vocab_embed_values.
int vocab_lookup_semantic(const struct vocab *v, const struct vocab_embedder *e,
                          const char *phrase, size_t n, double min_cos, struct vocab_cand *out,
                          size_t max, size_t *n_out, struct px_err *err);

#endif
