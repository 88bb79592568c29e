// query.h — query understanding: a relationship manager's sentence → an explicit query plan
// (hard filters, soft boosts, and the semantic text left to embed).
//
// ## The query plan (ARCHITECTURE.md copies this block)
//
// The parser knows nothing about our generator's columns. It reads the imported table's own
// schema (struct query_schema: names, humanised labels, kinds, categorical values, numeric
// distributions) and a lexicon data file (data/lexicon.json: aliases, soft words, comparators,
// membership / negation / stop words). One call turns
//
//   "Customers with credit score over 750 interested in investment products"
//
// into a plan whose JSON form (query_plan_to_json) is
//
//   {"filters":  [{"column":"credit_score","label":"Credit score","op":"gt","value":750,
//                  "span":[15,21],"text":"credit score over 750"}],
//    "boosts":   [{"column":"interests","label":"Interests","op":"contains",
//                  "value":"Investment Products","weight":0.5,"span":[51,19],
//                  "text":"investment products"}],
//    "semantic_text": "investment products",
//    "conflicts": []}
//
// - filters are hard: a row must pass all of them (ANDed candidate bitmaps). op is one of
//   lt le gt ge eq ne between in not_in contains not_contains is_true is_false; value is a
//   number (lt..ne on numeric columns, in the column's stored units), [lo, hi] (between,
//   inclusive), a string (eq / ne on a categorical column, contains / not_contains on a list
//   column), an array of strings (in / not_in: categorical value among / not among; for a list
//   column: holds any / none of), or true / false (is_true / is_false on a boolean column).
// - boosts are soft: they raise the score of rows that satisfy them, never exclude. op is ge
//   (value >= threshold), le, between, or contains (list column holds the value); "quantile" is
//   present when the threshold was read off the column's distribution (e.g. 0.75 = the top
//   quartile's lower edge), and "weight" is the lexicon's weight.
// - span is [byte offset, byte length] of the query text the item came from (for chips on the
//   web page and for "which filters did you apply" explanations); text is that slice.
// - "match" (filters and boosts, only when the book's vocabulary found the value: parsed with
//   query_parse_vocab) says how the words reached it — {"how": "stem" | "synonym" | "derived"
//   | "broader" | "narrower" | "whole" | "typo", "via": the WordNet word that linked them} —
//   so "doctors" → {"op":"eq","value":"Physician","match":{"how":"synonym","via":"doctor"}}
//   and "Texas" → {"op":"in","value":["Dallas","Houston","Austin"],"match":{"how":"whole"}}.
// - semantic_text is what no filter or boost consumed, minus stop words, in query order; it is
//   what gets embedded. Mentions of list values that became boosts stay in it (the topic is
//   still semantic content), soft words and filters leave it.
// - conflicts lists pairs of filters that no row can satisfy together ("over 80" and "under
//   20" on age, IS_TRUE and IS_FALSE on one flag), as {"filters":[i, j], "message": "filters
//   i and j on 'age' cannot both hold"}. Contradictions are kept, not rejected: the search then
//   returns nothing and says why, which is easier to act on than a parse error.
// - not_understood lists every span no filter or boost used and no grammar word explains, in
//   query order: {"span":[o,l], "text":"Texsa", "reason":"no column or value holds it; searched
//   as text", "suggestions":["Texas"]}. Reasons: a number no column was named for ("over
//   $500k": never guessed as income), a word no column or value holds (it stays in the
//   semantic text and is still searched as words), a negation or comparison with nothing to
//   apply to. suggestions are did-you-mean words of the book's vocabulary (search/vocab.h; the
//   schema's suggester, query_schema_set_suggester, when the parse has no vocabulary).
// - readings lists how a span was read when its words alone did not settle it: {"span":..,
//   "text":"under 30", "column":"age", "label":"Age", "reason":"no column named: a number
//   about people is read as the people concept's column", "alternative": null or {"column",
//   "label"} of the reading not applied}. Readings are made for the people concept, for a word
//   that names two columns (the first applied, the other the alternative), and for units
//   decided from the data ("5%" on a 0..1 column, "100k" on a column in thousands).
//
// ## Grammar and binding rules (in the order they are tried)
//
// - Input is UTF-8 (invalid bytes → PX_EUTF8 naming the offset), at most LIMIT_QUERY_BYTES.
//   Matching is ASCII-case-insensitive; non-ASCII bytes compare exactly. '-' and '_' between
//   letters separate words ("high-income" = "high income"); a plural "s"/"es"/"ies" on the last
//   word of a label or value matches ("credit cards").
// - At every word the longest phrase wins among: schema labels/names (column mentions),
//   categorical values (also "value label" / "label value" compounds such as "Private segment"
//   or "education 3"), lexicon aliases (→ concept → the first column whose label contains the
//   concept's words, numeric columns first), soft words, "modifier + numeric column" ("good
//   credit score"), comparators. On a tie a soft word beats a categorical value ("affluent" is
//   a level boost; "Affluent segment" or "Mass Affluent" are the segment values).
// - Numbers: 750, 100,000, 2.5, $100k, 1.2M, 85%, 65+, "30s" / "thirties" (decade), and number
//   words from the lexicon. Forms: <comparator> N, N <after-comparator> ("or more"), N+,
//   between N and M, from N to M, N to M, N-M, decades (→ between 30 and 39, ages being whole
//   years), bare N next to a column mention (→ eq). A negation before a comparator inverts it
//   ("not over 50" → le 50).
// - A numeric constraint binds to, in order: (1) a column named just before it (only filler
//   and stop words between: "credit score of at least 700"), by its label, an alias, or a
//   word whose form (qword_stem: plural and one ending off, "savings" / "Savings balance",
//   "investments" / "Investment balance") is one of a numeric column's label or name words
//   ("savings over 100000", "default risk above 10%": one more unknown word may stand
//   between); (2) a numeric column mentioned right after it ("over $100k in income", "2+
//   children in college"); (3) a word right after it, past fillers and stop words but not
//   "and" / "or", that names one by its form ("over $500k in savings", "owe more than 400k on
//   their mortgage", "more than 60 days delinquent"); (4) the comparator's own concept
//   ("older than 60" → age); (5) the column of the previous constraint when only fillers
//   ("and") separate them and the value lies within that column's [min, max] ("credit score
//   over 750 and under 800", but "... and under 30" → age); (6) the lexicon's people concept
//   (age), shown as a reading, unless the number is an amount or a percentage, the next word
//   names a column ("more than 3 products"), or the value is past twice the column's maximum.
//   A word form three or more columns share ("balance") names none of them; a word form two
//   columns share names the first and the plan shows the other as the alternative reading.
//   What binds nowhere is not understood: there is no default column for amounts or
//   percentages. Bare N binds only by (1), (2) or (4).
// - Units: spelled units follow a number: thousand / grand / million / billion, dollars /
//   bucks, percent / per cent / pct, and a period ("a year", "monthly": read and dropped).
//   With a declared scale (query_schema_add_numeric), $ / k / M / % amounts are divided by it
//   (Income in $000: scale 1000, so "$100k" → 100) and a plain number past the column's max
//   whose scaled value fits is converted too. Without one (scale 1) the units are read off the
//   column's own distribution, and shown as a reading: a percentage on a column whose values
//   all lie in [0, 1] is a fraction ("under 5%" → 0.05), on any other column it is compared as
//   typed ("under 10%" on 0..100 → 10); an amount (or a plain number of 1,000 or more) past
//   the maximum of a column whose values are all below 10,000, and whose thousandth fits, is
//   in thousands ("income over 100k" on Income in $000 → 100).
// - Categorical value → eq filter (ne after a negation). List value → contains filter after a
//   membership verb ("has", "owns", "with"), not_contains after a negation, otherwise a boost
//   (weight "value_mention_weight"): "interested in investment products" describes a prospect,
//   it does not require the interest to be on file. Lists: "A or B", "A, B or C" of one
//   column merge into in / not_in, and so does "A and B" of a single-valued column ("doctors
//   and lawyers": nobody is both); on a list column "A and B" stays two contains filters.
//   Boolean column mention → is_true (is_false after a negation: "no credit card",
//   "non-digital users"); so does a word naming a yes/no column by its form right after a
//   negation or a membership verb ("no CD", "with both a CD and ..."). A numeric column
//   mentioned after a membership verb or negation with no number → gt 0 / eq 0 ("with
//   children in college", "without a mortgage"). A code of 1-3 capitals ("IN", "OR", "A")
//   that is also a lexicon word matches as a value only typed as the code.
// - Readings chosen from the data: a lexicon "readings" phrase ("living alone", "parents",
//   "with children", "recently got married") lists alternatives of constraints on concepts;
//   the first whose concepts (and values) this table holds is applied ("recently got married"
//   → life events contains Marriage where the book has life events, else marital status =
//   Married), a later one that fits as well is the plan's alternative reading. A column named
//   from inside the phrase and reaching past it wins ("with children in college").
// - A lexicon concept resolves to the first column whose label or name holds its words, else
//   one holding one of its alias phrases ("income" → "Household earnings"), except for the
//   people concept and aliases that are only part of the concept's words ("credit").
// - Negation scope: a negation ("not", "no", "without", "excluding", "don't have", "other
//   than", "outside") applies to the next value, mention, soft word or comparison; stop and
//   people words do not end it ("not interested in travel" → interests not_contains Travel,
//   "non-digital customers over 70"), nor do up to two unknown words ("didn't accept the loan
//   offer"). A negated soft word inverts its boost ("not young" → age ge q(0.25)).
// - Soft words and "modifier + column" become boosts: direction high → ge quantile(q), low →
//   le quantile(q), with q from the lexicon and the threshold interpolated from the column's
//   distribution points; a lexicon "range" (nearing retirement → age 55..67, a domain fact,
//   not a property of the data) becomes a between boost.
// - Punctuation (. , ; ! ? ( )) ends a clause: pending negations, membership verbs and column
//   mentions do not carry across it.
//
// Thread-safety: schema and lexicon are immutable after building and may be shared by any
// number of threads calling query_parse; a plan belongs to one caller.
#ifndef PX_QUERY_H
#define PX_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "limits.h"

// ---- schema: the table the query is parsed against ----

enum query_col_kind {
    QUERY_COL_NUMERIC = 0,  // numbers (incl. currency, percent, date-as-number)
    QUERY_COL_CATEGORY = 1, // one value of a small set
    QUERY_COL_LIST = 2,     // several values of a small set ("Checking; Savings")
    QUERY_COL_BOOL = 3,     // yes/no, 0/1
    QUERY_COL_TEXT = 4,     // free text: never filtered, only embedded
    QUERY_COL_ID = 5,       // identifiers: never filtered
};

enum query_unit {
    QUERY_UNIT_NONE = 0,
    QUERY_UNIT_CURRENCY = 1, // "$100k" binds here
    QUERY_UNIT_PERCENT = 2,  // "30%" binds here
    QUERY_UNIT_DATE = 3,     // date stored as a number (year, yyyymmdd); no special parsing
};

struct query_schema;

// Returns owned schema in *out (query_schema_free). PX_ENOMEM.
int query_schema_new(struct query_schema **out, struct px_err *err);
// NULL is a no-op.
void query_schema_free(struct query_schema *s);

// Adds a numeric column. label may be NULL (humanised from name: "annual_income" → "Annual
// income"); a label's "(...)" part is not matched. scale: one stored unit is `scale` of what
// users type with $ or % (Income in $000: 1000; a percentage stored as 0..1: 100; else 1).
// quantiles[n_quantiles]: distribution points at evenly spaced probabilities from 0 (min) to 1
// (max), non-decreasing and finite, 2 <= n <= LIMIT_QUERY_QUANTILES (5 = min, q1, median, q3,
// max). Strings are copied. PX_EINVAL (duplicate name, bad quantiles, invalid UTF-8), PX_ELIMIT.
int query_schema_add_numeric(struct query_schema *s, const char *name, const char *label,
                             enum query_unit unit, double scale, const double *quantiles,
                             size_t n_quantiles, struct px_err *err);
// Adds a categorical (is_list false) or multi-valued list (is_list true) column with its
// distinct values[n_values] (copied; empty values are skipped; at most LIMIT_QUERY_VALUES).
int query_schema_add_category(struct query_schema *s, const char *name, const char *label,
                              const char *const *values, size_t n_values, bool is_list,
                              struct px_err *err);
int query_schema_add_bool(struct query_schema *s, const char *name, const char *label,
                          struct px_err *err);
// Adds a TEXT or ID column: it keeps column indexes aligned with the table, and is never matched.
int query_schema_add_other(struct query_schema *s, const char *name, const char *label,
                           enum query_col_kind kind, struct px_err *err);

// Did-you-mean for words nothing matched (the book's vocabulary, src/search/vocab.h): suggest
// writes at most max NUL-terminated strings, valid while ctx lives, into out and returns how
// many. ctx is borrowed and must outlive the schema's parses.
struct query_suggester {
    size_t (*suggest)(const void *ctx, const char *word, size_t n, const char **out, size_t max);
    const void *ctx;
};
// Installs (sg non-NULL, copied) or removes (NULL) the schema's suggester. Not thread-safe with
// parses of the same schema: call it while building the book.
void query_schema_set_suggester(struct query_schema *s, const struct query_suggester *sg);

size_t query_schema_n_columns(const struct query_schema *s);
// Borrowed from s (valid while s lives); i < query_schema_n_columns().
const char *query_schema_column_name(const struct query_schema *s, size_t i);
const char *query_schema_column_label(const struct query_schema *s, size_t i);
enum query_col_kind query_schema_column_kind(const struct query_schema *s, size_t i);

// ---- lexicon: aliases, soft words, grammar words (data/lexicon.json) ----

struct query_lexicon;

// Parses a lexicon from len bytes of JSON (the format is documented in data/lexicon.json).
// Returns owned lexicon in *out (query_lexicon_free). PX_EFORMAT names the key and entry.
int query_lexicon_parse(const char *json, size_t len, struct query_lexicon **out,
                        struct px_err *err);
// Merges len bytes of JSON over lex: a phrase already in the same section is replaced (a user
// file can re-weight "affluent"), new phrases are added, scalars are overwritten. `what` names
// the source in errors. On failure lex may hold part of the new entries but stays valid.
int query_lexicon_merge(struct query_lexicon *lex, const char *json, size_t len,
                        const char *what, struct px_err *err);
// Reads the file at path (at most LIMIT_LEXICON_BYTES) and merges it over lex.
int query_lexicon_load(struct query_lexicon *lex, const char *path, struct px_err *err);
// NULL is a no-op.
void query_lexicon_free(struct query_lexicon *lex);

// ---- the plan ----

enum query_op {
    QUERY_OP_LT = 0,
    QUERY_OP_LE = 1,
    QUERY_OP_GT = 2,
    QUERY_OP_GE = 3,
    QUERY_OP_EQ = 4,           // numeric: lo; categorical: values[0]
    QUERY_OP_NE = 5,           // numeric: lo; categorical: values[0]
    QUERY_OP_BETWEEN = 6,      // lo <= x <= hi
    QUERY_OP_IN = 7,           // categorical: one of values; list: holds any of values
    QUERY_OP_NOT_IN = 8,       // categorical: none of values; list: holds none of values
    QUERY_OP_CONTAINS = 9,     // list holds values[0]
    QUERY_OP_NOT_CONTAINS = 10, // list does not hold values[0]
    QUERY_OP_IS_TRUE = 11,
    QUERY_OP_IS_FALSE = 12,
};

// Lower-case name ("gt", "not_in", ...); "?" for an unknown value.
const char *query_op_name(enum query_op op);

struct query_span {
    size_t off; // byte offset into the query text
    size_t len; // bytes
};

struct query_filter {
    size_t i_col;       // schema column index
    enum query_op op;
    double lo, hi;      // numeric ops, in the column's stored units (hi: BETWEEN only)
    size_t n_values;    // string ops: values used
    const char *values[LIMIT_QUERY_FILTER_VALUES]; // borrowed from the schema (its spelling)
    struct query_span span;
    // How the words reached the value when the book's vocabulary found it (NULL: the value's
    // or label's own words): "stem", "synonym", "derived", "broader", "narrower", "whole",
    // "typo"; and the word that linked them ("doctor", "Texas"), or NULL. Borrowed from the
    // vocabulary (static for the how).
    const char *match_how;
    const char *match_via;
};

struct query_boost {
    size_t i_col;
    enum query_op op;   // GE, LE, BETWEEN (numeric) or CONTAINS / EQ (value mention)
    double lo, hi;      // thresholds in stored units (hi: BETWEEN only)
    const char *value;  // CONTAINS / EQ: borrowed from the schema; else NULL
    double quantile;    // probability the threshold came from; < 0 when not distribution-based
    double weight;      // lexicon weight (> 0)
    struct query_span span;
    const char *match_how; // as in query_filter
    const char *match_via;
};

struct query_conflict {
    size_t i_filter_a, i_filter_b; // indexes into filters[]; a < b
};

// A span of the query the parser could not place: a number no column was named for, a word no
// column or value holds (still searched as text), a negation or comparator with nothing to
// apply to. reason is static text; suggestions are did-you-mean words of the book's vocabulary
// (borrowed from the schema's suggester; none without one).
struct query_unknown {
    struct query_span span;
    const char *reason;
    size_t n_suggestions;
    const char *suggestions[LIMIT_QUERY_SUGGESTIONS];
};

// How the parser read a span when the words alone did not settle it: which column it applied,
// the competing column when there was one, and why (static text).
struct query_reading {
    struct query_span span;
    size_t i_col;  // the column the applied filter or boost is on
    long alt_col;  // the reading not applied, or -1
    const char *reason;
};

// Read-only for callers. Returned owned by query_parse (query_plan_free); the values point into
// the schema, so the plan must not outlive it.
struct query_plan {
    size_t n_filters;
    struct query_filter *filters;     // [n_filters], in query order
    size_t n_boosts;
    struct query_boost *boosts;       // [n_boosts], in query order
    size_t n_conflicts;
    struct query_conflict *conflicts; // [n_conflicts]
    size_t n_unknown;
    struct query_unknown *unknown;    // [n_unknown], in query order
    size_t n_readings;
    struct query_reading *readings;   // [n_readings], in query order
    char *semantic_text;              // owned, NUL-terminated, "" when nothing is left
    size_t semantic_len;
};

// Parses len bytes of text against schema and lexicon (both borrowed for the call; the plan
// keeps pointers into schema). Returns owned plan in *out (query_plan_free); *out is NULL on
// failure. PX_EUTF8 (with byte offset), PX_ELIMIT (LIMIT_QUERY_BYTES, LIMIT_QUERY_ITEMS),
// PX_ENOMEM. Contradictory filters are not an error: see plan->conflicts.
int query_parse(const struct query_schema *schema, const struct query_lexicon *lex,
                const char *text, size_t len, struct query_plan **out, struct px_err *err);
// The same with the book's vocabulary (search/vocab.h, built by query_vocab_build for this
// schema and lexicon; borrowed; NULL: query_parse): word forms, WordNet relatives and typos of
// the book's own labels and values are matched too, each filter or boost saying how.
struct vocab;
int query_parse_vocab(const struct query_schema *schema, const struct query_lexicon *lex,
                      const struct vocab *vocab, const char *text, size_t len,
                      struct query_plan **out, struct px_err *err);
// Builds the book's vocabulary once per book: every label of a column that can be matched,
// every value of its categorical and list columns, the lexicon's phrases as grammar words.
// wordnet_dir: NULL for /usr/share/wordnet, "" for none. Returns owned vocabulary in *out
// (vocab_free). The schema and lexicon must outlive it only through the plans parsed with it.
int query_vocab_build(const struct query_schema *schema, const struct query_lexicon *lex,
                      const char *wordnet_dir, struct vocab **out, struct px_err *err);
// NULL is a no-op.
void query_plan_free(struct query_plan *plan);
// Appends the plan's JSON (format above) to out. The original query text (text, len) is needed
// for each item's "text"; pass NULL to leave "text" out. PX_ENOMEM / PX_ELIMIT from buf.
int query_plan_to_json(const struct query_plan *plan, const struct query_schema *schema,
                       const char *text, size_t len, struct buf *out, struct px_err *err);
// The same members without the enclosing braces ("filters": ..., "conflicts": [...]), written
// in place into a larger object (the search answer) so nothing is rendered twice.
int query_plan_put_members(const struct query_plan *plan, const struct query_schema *schema,
                           const char *text, size_t len, struct buf *out, struct px_err *err);

#endif
