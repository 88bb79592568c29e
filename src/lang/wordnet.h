// wordnet.h — Princeton WordNet 3.0 read from its own dictionary files (Debian wordnet-base).
//
// The dictionary directory (default /usr/share/wordnet) holds index.{noun,verb,adj,adv}
// (lemma → synset offsets, sorted), data.{noun,verb,adj,adv} (one synset per line, found by
// its byte offset) and {noun,verb,adj,adv}.exc (irregular forms → base forms, sorted); the
// formats are `man 5 wndb` and `man 5 wninput`, the base-form rules `man 7 morphy`.
//
// Three lookups, all on the memory-mapped files, none allocating:
// - lang_wordnet_base_forms: "women" → "woman", "retirees" → "retiree", "lying" → "lie"
//   (exception list, then morphy's detachment rules, keeping only forms that are lemmas);
// - lang_wordnet_senses: a lemma's synsets, most frequent sense first;
// - lang_wordnet_synset: one synset's words and typed pointers (hypernym "@", hyponym "~",
//   instance "@i"/"~i", part/member holonym "#p"/"#m", meronyms "%p"/"%m", derivation "+",
//   pertainym "\\", similar-to "&", ...), and its gloss.
// Walking relations (how far, which kinds) is the caller's policy (search/vocab.c).
//
// Lemmas are lower case with '_' between words in the files; these functions take words
// joined by spaces or underscores in any ASCII case. Synset words keep the file's spelling
// ("Dallas", "MD", "health_professional"), adjective markers such as "(a)" removed.
//
// Hostile files: every read is bounded by the mapping, every number is range-checked, a synset
// offset must start a line that begins with that offset; a malformed line is PX_EFORMAT naming
// the file and offset, never a crash (tests/fuzz/fuzz_wordnet.c).
//
// Thread-safety: immutable after lang_wordnet_open; any number of threads may look up.
#ifndef PX_LANG_WORDNET_H
#define PX_LANG_WORDNET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

enum lang_wn_pos {
    LANG_WN_NOUN = 0,
    LANG_WN_VERB = 1,
    LANG_WN_ADJ = 2, // includes satellite adjectives ("s" in the data files)
    LANG_WN_ADV = 3,
};
#define LANG_WN_N_POS 4

// Pointer kinds vocab uses; everything else is LANG_WN_PTR_OTHER.
enum lang_wn_ptr_kind {
    LANG_WN_PTR_OTHER = 0,
    LANG_WN_PTR_HYPERNYM = 1,    // "@" and "@i" (instance of)
    LANG_WN_PTR_HYPONYM = 2,     // "~" and "~i"
    LANG_WN_PTR_HOLONYM = 3,     // "#m" "#s" "#p": member / substance / part of
    LANG_WN_PTR_MERONYM = 4,     // "%m" "%s" "%p": has member / substance / part
    LANG_WN_PTR_DERIVATION = 5,  // "+" derivationally related form
    LANG_WN_PTR_PERTAINYM = 6,   // "\\" pertains to (adjectives), derived from (adverbs)
    LANG_WN_PTR_SIMILAR = 7,     // "&" similar to (adjective clusters)
    LANG_WN_PTR_ANTONYM = 8,     // "!"
};

struct lang_wn_word {
    const char *s; // borrowed from the mapped file; not NUL-terminated
    size_t n;
};

struct lang_wn_ptr {
    enum lang_wn_ptr_kind kind;
    char sym[3];           // the file's symbol, NUL-terminated ("@", "#p", ...)
    enum lang_wn_pos pos;  // of the target synset
    uint32_t offset;       // of the target synset in its data file
    unsigned src, dst;     // lexical pointer: word numbers (1-based) in source / target; 0 0 = semantic
};

struct lang_wn_synset {
    enum lang_wn_pos pos;
    uint32_t offset;
    unsigned lex_filenum; // the lexicographer file: 18 = noun.person, 15 = noun.location, ...
    int is_instance;      // 1 when it has an instance hypernym ("@i": Dallas, Fannie Farmer)
    size_t n_words;
    struct lang_wn_word words[LIMIT_WORDNET_WORDS];
    size_t n_ptrs;
    struct lang_wn_ptr ptrs[LIMIT_WORDNET_POINTERS];
    struct lang_wn_word gloss; // after "| ", trailing blanks trimmed
};

struct lang_wordnet;

// Opens the dictionary in dir (NULL: /usr/share/wordnet), mapping its twelve files. A missing
// index or data file is PX_ENOENT naming it (a missing .exc file is allowed: no exceptions);
// a file over LIMIT_WORDNET_FILE_BYTES is PX_ELIMIT. Returns owned handle in *out
// (lang_wordnet_close).
int lang_wordnet_open(const char *dir, struct lang_wordnet **out, struct px_err *err);
// The same over bytes already in memory (tests, the fuzz target): bufs[12] / lens[12] are the
// index, data and exception files, each in the order noun, verb, adj, adv (a NULL exception
// buffer: none). Borrowed: the buffers must outlive the handle.
int lang_wordnet_open_buffers(const char *const *bufs, const size_t *lens,
                              struct lang_wordnet **out, struct px_err *err);
// NULL is a no-op.
void lang_wordnet_close(struct lang_wordnet *wn);

// Writes the base forms of word[0..n) as `pos` lemmas into out[i][LIMIT_WORDNET_LEMMA_BYTES]
// (NUL-terminated, lower case, '_' between words), at most max of them, the word itself first
// when it is a lemma. Returns how many (0: not a word WordNet knows as this part of speech).
size_t lang_wordnet_base_forms(const struct lang_wordnet *wn, enum lang_wn_pos pos,
                               const char *word, size_t n,
                               char (*out)[LIMIT_WORDNET_LEMMA_BYTES], size_t max);

// Calls fn for every line of pos's exception list ("women woman": inflected form, then each
// base form), in file order, until fn returns non-zero (returned). The strings are borrowed
// from the mapped file, not NUL-terminated. 0 when the list is absent.
int lang_wordnet_each_exception(const struct lang_wordnet *wn, enum lang_wn_pos pos,
                                int (*fn)(void *user, const char *inflected, size_t n,
                                          const char *base, size_t base_n),
                                void *user);

// The detachment rules of `pos` applied to word[0..n) without asking whether the results are
// lemmas ("doctors" → doctor; "cooking" → cooke, cook): candidates for a caller that checks
// them against its own words. Writes at most max into out (NUL-terminated, lower case).
size_t lang_wordnet_rule_forms(enum lang_wn_pos pos, const char *word, size_t n,
                               char (*out)[LIMIT_WORDNET_LEMMA_BYTES], size_t max);

// Synset offsets of lemma[0..n) as `pos`, most frequent sense first, at most max into
// offsets[]; *n_out is how many. 0 senses is PX_OK. PX_EFORMAT for a malformed index line.
int lang_wordnet_senses(const struct lang_wordnet *wn, enum lang_wn_pos pos, const char *lemma,
                        size_t n, uint32_t *offsets, size_t max, size_t *n_out,
                        struct px_err *err);

// Parses the synset at offset of pos's data file into *out (borrowing the file's bytes).
// PX_ENOENT when no synset starts there; PX_EFORMAT for a malformed line.
int lang_wordnet_synset(const struct lang_wordnet *wn, enum lang_wn_pos pos, uint32_t offset,
                        struct lang_wn_synset *out, struct px_err *err);

#endif
