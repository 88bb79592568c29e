// query_int.h — internals shared by the query parser's files (src/search/q*.c, query.c); not
// a public API. The parser's passes and where they live:
//
//   qtok.c     text → tokens (numbers, words, symbols, breaks) and normalised phrases
//   qschema.c  the table's columns (struct query_schema), quantiles, concept → column
//   qlex.c     the lexicon data file (struct query_lexicon)
//   qmatch.c   tokens → items: the longest phrase at each word
//   qgrammar.c items → plan: numeric binding, values, mentions, soft words, negation,
//              conflicts, the semantic text
//   qplan.c    the plan's JSON
//   query.c    query_parse (runs the passes) and the plan's lifecycle
#ifndef PX_QUERY_INT_H
#define PX_QUERY_INT_H

#include <stddef.h>

#include "query.h"
#include "utf8.h"

// ---- small helpers ----

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline int is_wordc(int c) { return is_alpha(c) || is_digit(c) || c >= 0x80; }
static inline int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// 1 when s[0..n) is valid UTF-8 (base/utf8.h: no overlongs, surrogates or code points past
// U+10FFFF); else 0 with *bad = offset of the first invalid byte.
static inline int utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
    *bad = utf8_check((const char *)s, n);
    return *bad == n;
}

// ---- tokens (qtok.c) ----

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
    size_t off, len; // bytes of the original text (spans)
    size_t moff, mlen; // the bytes matched: pctx.low + moff (= off / len, except a corrected
                       // typo, whose spelling from the vocabulary lives past the text)
    double num;      // TOK_NUM: value (multipliers applied)
    unsigned flags;  // TOK_NUM: NUM_*
};

// Reads the next token at *p (base: start of the text, for offsets). Returns 1 with *t filled
// and *p advanced past it; 0 at the end of input. Separators (spaces, '_', quotes, a '-' between
// letters, stray symbols) are skipped.
int qtok_next(const char **p, const char *base, const char *end, struct tok *t);

// text is " w1 w2 ... " (lower-cased words joined by single spaces, padded), or NULL when the
// phrase could not be built (too long: never matched).
struct phrase {
    char *text;
    size_t n_words;
};

// Builds ph from s[0..n) with the query lexer: words, numbers and symbols kept, breaks dropped;
// with stop_paren, everything from the first '(' on is ignored ("Income (in $000)" → "income").
// PX_ELIMIT when longer than LIMIT_QUERY_PHRASE_BYTES / _WORDS, PX_EINVAL when it has no word.
int qphrase_build(const char *s, size_t n, int stop_paren, struct phrase *ph, struct px_err *err);
void qphrase_free(struct phrase *ph);
// Tokens the phrase matches starting at token i (0: no match). low: lower-cased query text;
// plural: a plural "s"/"es"/"ies" on the last word matches too.
size_t qphrase_match(const struct phrase *ph, const struct tok *toks, size_t n_tok, size_t i,
                    const char *low, int plural);
// The word form of w[0..n) that labels and query words are compared by: lower case, plural and
// one ending ("-ation", "-ment", "-ing", "-ed") taken off, a final "e" dropped, so "savings" /
// "Saving", "invested" / "Investment", "engaged" / "Engagement" meet. A match key, never shown;
// written NUL-terminated into out[cap]; returns its length.
size_t qword_stem(const char *w, size_t n, char *out, size_t cap);
#define QSTEM_BYTES 48

// ---- schema (qschema.c) ----

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
    char *stems; // " s1 s2 " word forms of the label's and name's words (qword_stem), owned
};

struct query_schema {
    struct qcol *cols; // [n]
    size_t n, cap;
    struct query_suggester sg; // suggest NULL: none
};

// Value at probability p in [0, 1], interpolated linearly between distribution points.
double qcol_quantile(const struct qcol *c, double p);
// First column whose label or name contains the concept's words (padded phrase text), numeric
// columns first; -1 when none.
long qschema_resolve_concept(const struct query_schema *s, const char *concept, int numeric_only);
// The column whose label or name has a word of word form stem (qword_stem), numeric columns
// only when numeric_only; -1 when none. *n_match: how many columns have it, *alt: the second
// one (-1). A form three or more columns share ("balance", "amount") names none of them.
long qschema_word_column(const struct query_schema *s, const char *stem, int numeric_only,
                         long *alt, size_t *n_match);

// ---- lexicon (qlex.c) ----

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
    LEX_READING = 12,  // "living alone": alternatives of constraints, the book picks one
};

// One constraint of a reading: concept (padded phrase text) op number or value.
struct lex_rcons {
    char *concept;    // owned
    enum query_op op; // lt..ne, contains, not_contains, is_true, is_false
    double num;       // numeric ops
    char *value;      // owned, or NULL: a number
};

// One alternative: all its constraints hold together.
struct lex_ralt {
    size_t n;
    struct lex_rcons c[LIMIT_LEXICON_READING_CONS];
};

// The alternatives of a "readings" entry, in the lexicon's order of preference.
struct lex_rgroup {
    size_t n;
    struct lex_ralt a[LIMIT_LEXICON_READING_ALTS];
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
    size_t rgroup;    // READING: index into query_lexicon.rg
};

struct query_lexicon {
    struct lex_entry *e; // [n]
    size_t n, cap;
    char *people_concept;   // padded, owned; NULL: bare numbers stay unbound
    char *currency_concept; // padded, owned; which currency column "$100k" means by default
    double value_weight;    // boost weight of a bare list-value mention
    struct lex_rgroup *rg;  // [n_rg] "readings" alternatives, owned
    size_t n_rg, cap_rg;
};

// The columns and values an alternative needs in schema s: 1 with cols[k] (and vals[k], the
// value's index or -1) for each constraint when every one resolves, else 0.
int qschema_resolve_alt(const struct query_schema *s, const struct lex_ralt *a, long *cols,
                        long *vals);

// ---- items (qmatch.c) ----

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
    IT_READING = 15, // a lexicon phrase with alternative readings; i_value: the one applied
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
    int missing;                 // WORD: a lexicon concept the table has no column for
    // VALUE / MENTION found through the book's vocabulary (search/vocab.h): how, the WordNet
    // word behind it, and the other values of the same column that matched as well (Texas →
    // Dallas, Houston, Austin), i_value first among them
    int vhow;        // 0: the parser's own match; else enum vocab_how + 1
    const char *via;
    size_t n_alts;
    long alts[LIMIT_QUERY_FILTER_VALUES];
};

struct pctx {
    const struct query_schema *s;
    const struct query_lexicon *lex;
    const struct vocab *vocab; // borrowed, or NULL: the parser's own matching only
    const char *text;  // original bytes [len]
    char *low;         // owned: lower-cased copy, same offsets
    size_t len;
    struct tok *toks;  // owned [n_tok]
    size_t n_tok;
    struct item *items; // owned [n_items]
    size_t n_items;
    struct query_plan *plan;
    size_t cap_f, cap_b, cap_c, cap_u, cap_r;
    long people_col;
};

// Longest column mention (label, name or alias) at token i, restricted to numeric columns when
// numeric_only. Returns its token count (0: none) and the column in *col.
size_t qmatch_mention(const struct pctx *x, size_t i, int numeric_only, long *col);
// The best item starting at token i (x->items[0..n_items) are the items before it).
struct item qmatch_at(const struct pctx *x, size_t i);

// ---- grammar (qgrammar.c) ----

struct pstate {
    long neg, member; // item index of a pending negation / membership verb, -1
    long pend;        // item index of a numeric column mention waiting for its number, -1
    long pend_col;    // its column (a mention's, or the one a word's form names)
    long pend_alt;    // a second column the word names too, -1
    long last_col;    // column of the previous numeric constraint, -1
    int or_seen;      // "or" (or a list comma) since the last string filter
    int and_seen;     // "and" since the last string filter
    long last_sf;     // index of the last string filter (for "A or B" merging), -1
};

// Items → filters and boosts in x->plan (one left-to-right walk).
int qgrammar_run(struct pctx *x, struct px_err *err);
// Pairs of filters no row can satisfy together → x->plan->conflicts.
int qgrammar_conflicts(struct pctx *x, struct px_err *err);
// What no filter or boost consumed, minus stop words → x->plan->semantic_text.
int qgrammar_semantic(struct pctx *x, struct px_err *err);
// Every span no filter or boost used and no grammar word explains → x->plan->unknown, with
// did-you-mean suggestions from the schema's suggester.
int qgrammar_unknown(struct pctx *x, struct px_err *err);

#endif
