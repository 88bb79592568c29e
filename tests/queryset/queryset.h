// queryset.h — issue 11's labelled query set and its evaluator, shared by the ctest
// (tests/e2e/test_query_set.c) and the benchmark (bench/bench_queries.c).
//
// The set (tests/data/queries/queries.tsv, its README says the format) is plain English queries
// over four schemas, each with a predicate in a small language (qs_pred.c) saying what any
// sensible reading of the query implies for a returned row. The evaluator builds each schema's
// small book through the `prospect` binary (generate / import), opens it through the app
// façade (app_book.h) on the lexical path, runs every query with top 10 and evaluates the
// predicate on every returned row and on every row of the book (so a profile query's precision
// is measured against the people who exist, and a predicate nobody satisfies is caught).
//
// Only the façade is used: app_book_search, the hits' row numbers, app_book_row_json for the
// typed row values and app_result_plan_json for diagnostics; never the plan's C structure.
//
// Files: qs_pred.c (the predicate language), qs_table.c (typed rows of a book), qs_set.c (the
// query set, the ratchet and the baseline files), qs_books.c (building and opening the four
// books), qs_cu.c (the credit union table, written for this set), qs_eval.c (running the set,
// per-query outcomes, per-group figures and the report).
#ifndef QS_QUERYSET_H
#define QS_QUERYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct cJSON;
struct app_book;

// ---- typed rows (qs_table.c) ----
//
// A table is a book's rows as parsed JSON objects (app_book_row_json: numbers as numbers, bools
// as true/false, missing as null, the rest as strings) with a cell index per column, so a
// predicate reads a cell in O(1). Column types are app_book_column_type's names.
struct qs_table {
    size_t n_cols;
    char **names;             // (n_cols) owned
    char **types;             // (n_cols) owned: "integer", "currency", "list", ...
    size_t n_rows;
    struct cJSON **rows;      // (n_rows) owned row objects
    const struct cJSON **cells; // (n_rows * n_cols) borrowed from rows; NULL when absent
};

// Every row of the book. PX_ENOMEM / PX_EFORMAT (a row that is not a JSON object).
int qs_table_from_book(const struct app_book *b, struct qs_table *t, struct px_err *err);
// Hand-made rows: n_rows JSON object texts over the given columns (for the evaluator's own
// tests). PX_EFORMAT names the row that does not parse.
int qs_table_from_json(size_t n_cols, const char *const *names, const char *const *types,
                       size_t n_rows, const char *const *rows, struct qs_table *t,
                       struct px_err *err);
void qs_table_free(struct qs_table *t);
// Column index of name (exact), or -1.
long qs_table_column(const struct qs_table *t, const char *name);

// ---- the predicate language (qs_pred.c; grammar in tests/data/queries/README.md) ----

struct qs_pred;

// Compiles src against the table's columns: an unknown column, or an operator or literal that
// does not fit the column's type (a string compared with a currency, `has` on a category), is
// PX_EINVAL naming the byte offset, so a mistake in the set fails loudly instead of evaluating
// to false. *out is owned (qs_pred_free).
int qs_pred_compile(const char *src, const struct qs_table *t, struct qs_pred **out,
                    struct px_err *err);
void qs_pred_free(struct qs_pred *p);
// Does row r satisfy p? A test on a missing (null) value is false, so its negation is true.
bool qs_pred_eval(const struct qs_pred *p, const struct qs_table *t, size_t r);

// ---- the query set, the ratchet, the baseline (qs_set.c) ----

enum qs_schema { QS_RETAIL, QS_THERA, QS_WHOLESALE, QS_CU, QS_N_SCHEMAS };
enum qs_kind { QS_HARD, QS_PROFILE, QS_N_KINDS };
enum qs_split { QS_TUNING, QS_HELDOUT, QS_N_SPLITS };

const char *qs_schema_name(enum qs_schema s); // "retail", "thera", "wholesale", "cu"
const char *qs_kind_name(enum qs_kind k);     // "hard", "profile"
const char *qs_split_name(enum qs_split s);   // "tuning", "heldout"

// The fixed rule that holds a third out, decided before any result was seen: a query whose
// number (q017 -> 17) is divisible by 3 is held out. The loader refuses a file whose split
// column disagrees.
enum qs_split qs_split_of(unsigned number);

struct qs_query {
    char id[16];           // "q017"
    unsigned number;       // 17
    enum qs_schema schema;
    enum qs_kind kind;
    enum qs_split split;
    char *text;            // owned: the query as a person typed it
    char *predicate;       // owned: its predicate's source
    size_t line;           // line in the file
};

struct qs_set {
    struct qs_query *q; // (n) owned, in file order
    size_t n;
};

// Reads the TSV set. PX_EFORMAT names the line and field (bad id, duplicate id, unknown schema
// or kind, a split that breaks the rule, an empty text or predicate).
int qs_set_load(const char *path, struct qs_set *set, struct px_err *err);
void qs_set_free(struct qs_set *set);
// Index of the query with this id, or -1.
long qs_set_find(const struct qs_set *set, const char *id);

// The ratchet: lines "<id> all" (a hard query: rows are returned and every one satisfies the
// predicate) or "<id> <k>" (a profile query: at least k of the top 10 satisfy it); '#' starts a
// comment. Ids must exist in the set, be tuning queries and match their kind.
struct qs_ratchet_entry {
    char id[16];
    int min_ok; // -1 for "all"
    size_t line;
};
struct qs_ratchet {
    struct qs_ratchet_entry *e; // (n) owned
    size_t n;
};
int qs_ratchet_load(const char *path, const struct qs_set *set, struct qs_ratchet *r,
                    struct px_err *err);
void qs_ratchet_free(struct qs_ratchet *r);

// ---- building the books (qs_books.c, qs_cu.c) ----

struct qs_env {
    const char *prospect_bin; // the prospect binary
    const char *data_dir;     // tests/data
    const char *shared_dir;   // ../shared (Thera Bank)
    const char *work_dir;     // an existing scratch directory for the CSVs and databases
    bool no_vocab;            // open the books without their vocabulary (app_book_params)
};

struct qs_book {
    bool available;      // false: why says (the Thera Bank files are not there)
    char why[256];
    struct app_book *book; // owned
    struct qs_table table;
};

struct qs_books {
    struct qs_book s[QS_N_SCHEMAS];
};

// The binary, ../shared and tests/data from the environment ctest sets (PROSPECT_BIN,
// PROSPECT_SHARED, PROSPECT_TEST_DATA), else from the paths the build compiled in; work_dir is
// left NULL. The strings are borrowed (environment or static).
struct qs_env qs_env_default(void);
// tests/data/<rel> (PROSPECT_TEST_DATA or the source tree's) into out.
void qs_data_path(char *out, size_t n, const char *rel);
// A fresh scratch directory (mkdtemp under $TMPDIR or /tmp) into out; its removal, tree and all.
int qs_workdir_new(char *out, size_t n, struct px_err *err);
void qs_workdir_remove(const char *dir);

// Builds and opens the four books (lexical path only: no weights on these machines); a
// schema whose source data is missing is left unavailable with a reason, anything else that
// fails is an error naming the step.
int qs_books_open(const struct qs_env *env, struct qs_books *books, struct px_err *err);
void qs_books_close(struct qs_books *books);

// The credit union's member table (qs_cu.c): n rows as CSV into path, deterministic in seed
// (integer arithmetic only, so the bytes are the same on every machine).
int qs_cu_write(const char *path, unsigned n_rows, uint64_t seed, struct px_err *err);

// ---- running the set (qs_eval.c) ----

#define QS_TOP 10

struct qs_outcome {
    bool ran;          // false: the schema's book was unavailable
    bool search_failed; // app_book_search returned an error (err_msg says it)
    char err_msg[256];
    size_t n_returned; // rows returned (<= QS_TOP)
    size_t n_ok;       // of them, rows satisfying the predicate
    size_t n_match;    // rows of the whole book satisfying the predicate
    double ms;         // parse + search, mean over the runs
    bool holds;        // hard: n_returned > 0 and n_ok == n_returned
    double p10;        // profile: n_ok / min(QS_TOP, n_match)
};

// Compiles q's predicate against its book and counts the rows satisfying it, without searching
// (for writing the set: a predicate must find someone). *pred (when not NULL) returns it owned.
struct qs_book;
int qs_eval_matches(const struct qs_query *q, struct qs_book *bk, struct qs_pred **pred,
                    size_t *n_match, struct px_err *err);

// Compiles every predicate against its book (a failure is an error naming the query) and runs
// every query `runs` times (>= 1; the figures come from the first run, the time is the mean).
// outcomes: (set->n), filled in set order.
int qs_eval_run(const struct qs_set *set, struct qs_books *books, int runs,
                struct qs_outcome *outcomes, struct px_err *err);

// Figures of one group of queries (or of all of them: schema/kind/split < 0 meaning any).
struct qs_figures {
    size_t n_queries;   // queries that ran
    size_t n_empty;     // returned nothing
    size_t n_failed;    // the search failed
    size_t rows_returned, rows_ok; // hard queries: rows
    size_t n_hold;      // hard queries fully holding
    double p10_sum;     // profile queries: sum of P@10
    double ms_sum;
};
struct qs_figures qs_figures_of(const struct qs_set *set, const struct qs_outcome *outcomes,
                                int schema, int kind, int split);
// The group's headline figure: hard-hold % of rows (kind hard) or mean P@10 % (profile); NAN
// when the group ran no query.
double qs_figures_headline(const struct qs_figures *f, enum qs_kind kind);

// Prints one line per group (schema x kind x split) and the totals per split. baseline: the
// headline figures of a previous run per group as written by qs_baseline_write (NULL: none).
struct qs_baseline;
void qs_report_print(FILE *f, const struct qs_set *set, const struct qs_outcome *outcomes,
                     const struct qs_baseline *baseline);
// One line per query: id, split, kind, rows ok/returned, matches in the book, and for a query
// that fails its plan JSON (filters, boosts, semantic text) to see why. only_failing: skip the
// queries that hold; with_heldout: include the held-out third (keep it out of tuning: look at
// it at the end of a piece of work).
void qs_report_queries(FILE *f, const struct qs_set *set, const struct qs_outcome *outcomes,
                       struct qs_books *books, bool only_failing, bool with_heldout);

// ---- the baseline file (qs_set.c) ----
//
// "schema kind split n headline holds" per group, '#' comments: today's figures, written by
// bench_queries --write-baseline and printed beside the current ones.
struct qs_baseline_group {
    bool present;
    size_t n;        // queries
    double headline; // qs_figures_headline
    size_t n_hold;   // hard: queries holding; profile: queries with P@10 = 1
};
struct qs_baseline {
    struct qs_baseline_group g[QS_N_SCHEMAS][QS_N_KINDS][QS_N_SPLITS];
};
int qs_baseline_load(const char *path, struct qs_baseline *b, struct px_err *err);
int qs_baseline_write(const char *path, const struct qs_set *set,
                      const struct qs_outcome *outcomes, struct px_err *err);

#endif
