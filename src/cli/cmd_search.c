// cmd_search.c — `prospect search "QUERY"` and `prospect similar --id ID`: the customer book,
// searched, as a table (the plan it applied, what ranked the hits — or "unranked" — then the
// hits, each with a why: / shared: line of the answer's own texts), as JSON (the API's answer,
// app_result_to_json) or as CSV (one line per hit: rank, id, scores, then the columns).
#include <getopt.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "app_access.h"
#include "app_book.h"
#include "cli.h"
#include "cpu.h"
#include "limits.h"
#include "mem.h"

static const char *const k_usage_search =
    "usage: prospect search [--db FILE] [--embedder DIR] [--top N] [--format table|json|csv]\n"
    "                       [--lexicon FILE] [--template FILE] [--columns A,B] \"QUERY\"\n"
    "\n"
    "Finds customers from a plain-English query. Hard numbers (\"credit score over 750\",\n"
    "\"under 35\", \"$100k+\") and named values (\"in the Private segment\", \"has a brokerage\n"
    "account\", \"without a mortgage\") are exact filters; level words (\"affluent\", \"young\",\n"
    "\"good credit\") are boosts with thresholds taken from the data; the rest is matched\n"
    "semantically (sentence embeddings, when the model's weights and `prospect index` are there)\n"
    "and lexically (BM25). The answer lists the filters and boosts it applied.\n"
    "\n"
    "  --db FILE        database (default ./prospect.db)\n"
    "  --embedder DIR   sentence-transformer directory (same lookup as `prospect embed`; the\n"
    "                   old spelling --model DIR still works)\n"
    "  --top N          results (default 10)\n"
    "  --format F       table (default), json (the API's answer) or csv (one line per result:\n"
    "                   rank, customer_id, score, similarity, lexical, boost, then the columns)\n"
    "  --json           short for --format json\n"
    "  --lexicon FILE   extra aliases and soft words, merged over the built-in lexicon\n"
    "  --template FILE  the profile-text template given to prospect index, if any\n"
    "  --columns A,B    columns shown (header names or labels); default for the table: the\n"
    "                   columns the query used, then the first columns; for csv: every column\n"
    "                   but the id\n";

static const char *const k_usage_similar =
    "usage: prospect similar [--db FILE] [--embedder DIR] [--top N] [--format table|json|csv]\n"
    "                        [--columns A,B] --id ID [--id ID ...]\n"
    "\n"
    "Finds the customers most like the given one(s) — the centroid of several — for\n"
    "cross-selling (\"like those who bought X\") and risk look-alikes. Options as for\n"
    "`prospect search`.\n";

#define MAX_IDS 64

struct opts {
    const char *db, *embedder, *lexicon, *tpl, *columns;
    int top;
    enum cli_format format;
    const char *ids[MAX_IDS];
    size_t n_ids;
};

static int parse(const char *cmd, const char *usage, int argc, char **argv, struct opts *o)
{
    static const struct option lopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"model", required_argument, NULL, 'm'},
        {"top", required_argument, NULL, 'n'},
        CLI_FORMAT_OPTIONS,
        {"lexicon", required_argument, NULL, 'l'},
        {"id", required_argument, NULL, 'i'},
        {"template", required_argument, NULL, 'T'},
        {"columns", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct opts){"prospect.db", NULL, NULL, NULL, NULL, 10, CLI_FORMAT_TABLE, {0}, 0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:m:n:jl:i:T:c:h", lopts, NULL)) != -1) {
        int frc = cli_format_option(cmd, ch == 'j' ? CLI_OPT_JSON : ch, optarg, &o->format);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case 'd': o->db = optarg; break;
        case CLI_OPT_EMBEDDER: o->embedder = optarg; break;
        case 'm': o->embedder = cli_embedder_alias(cmd, optarg); break;
        case 'l': o->lexicon = optarg; break;
        case 'T': o->tpl = optarg; break;
        case 'c': o->columns = optarg; break;
        case 'i':
            if (o->n_ids == MAX_IDS) {
                return cli_usage_error(cmd, "at most %d --id", MAX_IDS);
            }
            o->ids[o->n_ids++] = optarg;
            break;
        case 'n':
            if (!cli_parse_int(optarg, 1, 1000, &o->top)) {
                return cli_usage_error(cmd, "--top must be 1..1000, got '%s'", optarg);
            }
            break;
        case 'h': fputs(usage, stdout); return -1;
        default: return cli_usage_error(cmd, "unknown option");
        }
    }
    return CLI_OK;
}

#define TABLE_COLS 6

// Column of the book named (header or label, case-insensitive) by name[0..len), or -1.
static long find_column(const struct app_book *b, const char *name, size_t len)
{
    for (size_t c = 0; c < app_book_n_columns(b); c++) {
        const char *n = app_book_column_name(b, c), *l = app_book_column_label(b, c);
        if ((strlen(n) == len && strncasecmp(n, name, len) == 0) ||
            (strlen(l) == len && strncasecmp(l, name, len) == 0)) {
            return (long)c;
        }
    }
    return -1;
}

// The columns shown: the --columns given, or (all_cols false) the columns the query talked
// about and then the first others up to TABLE_COLS, or (all_cols) every column. Returns the
// count, or -1 after naming an unknown column.
static long pick_columns(const char *cmd, const struct app_book *b, const struct app_result *res,
                         const char *want, bool all_cols, size_t *cols, size_t max)
{
    size_t n_cols = 0;
    for (const char *w = want; w != NULL && *w != '\0' && n_cols < max;) {
        const char *comma = strchr(w, ',');
        size_t len = comma ? (size_t)(comma - w) : strlen(w);
        long c = find_column(b, w, len);
        if (c < 0) {
            fprintf(stderr, "prospect %s: no column named '%.*s'\n", cmd, (int)len, w);
            return -1;
        }
        cols[n_cols++] = (size_t)c;
        w = comma ? comma + 1 : w + len;
    }
    if (want != NULL) {
        return (long)n_cols; // only what was asked for
    }
    if (all_cols) { // every column but the id, which the line already has
        for (size_t c = 0; c < app_book_n_columns(b) && n_cols < max; c++) {
            if (!app_book_column_is_id(b, c)) cols[n_cols++] = c;
        }
        return (long)n_cols;
    }
    const struct app_plan *p = res->plan;
    size_t n_terms = p ? app_plan_n_filters(p) + app_plan_n_boosts(p) : 0;
    for (size_t i = 0; i < n_terms && n_cols < max; i++) {
        struct app_plan_term t;
        if (i < app_plan_n_filters(p)) {
            app_plan_filter(p, i, &t);
        } else {
            app_plan_boost(p, i - app_plan_n_filters(p), &t);
        }
        bool dup = false;
        for (size_t k = 0; k < n_cols; k++) dup |= cols[k] == t.col;
        if (!dup) cols[n_cols++] = t.col;
    }
    for (size_t c = 0; c < app_book_n_columns(b) && n_cols < max; c++) {
        bool dup = app_book_column_is_id(b, c);
        for (size_t k = 0; k < n_cols; k++) dup |= cols[k] == c;
        if (!dup) cols[n_cols++] = c;
    }
    return (long)n_cols;
}

// Under a table row: why it matched (search) or what it shares with the seeds (similar), the
// answer's own "why" / "shared" texts on one line.
static void print_why(const struct app_book *b, const struct app_result *res, size_t i)
{
    struct buf line;
    struct px_err err = {0};
    buf_init(&line, (size_t)LIMIT_TEXT_BYTES);
    if (app_result_why_line(b, res, i, &line, &err) == PX_OK && line.len > 0) {
        printf("      %s %.*s\n", res->plan ? "why:" : "shared:", (int)line.len, line.data);
    }
    buf_free(&line);
}

// Ranked or not, and by what (the answer's "ranked" and "order").
static void print_order(const struct app_result *res)
{
    if (res->ranked) {
        printf("order: %s\n\n", res->order);
    } else {
        printf("unranked: %zu customers match the filters, shown in import order\n\n",
               res->n_candidates);
    }
}

// Table: rank, id, score, then the columns pick_columns chose; a why line under each row.
static int print_table(const char *cmd, const struct app_book *b, const struct app_result *res,
                       const char *want)
{
    size_t cols[TABLE_COLS];
    long n_cols = pick_columns(cmd, b, res, want, false, cols, TABLE_COLS);
    if (n_cols < 0) {
        return CLI_USAGE;
    }
    printf("%4s  %-14s %6s", "#", "customer", "score");
    for (long k = 0; k < n_cols; k++) {
        printf("  %-16.16s", app_book_column_label(b, cols[k]));
    }
    putchar('\n');
    for (size_t i = 0; i < res->n_hits; i++) {
        const struct app_hit *h = &res->hits[i];
        printf("%4zu  %-14.14s %6.3f", i + 1, app_book_id(b, h->row), h->score);
        for (long k = 0; k < n_cols; k++) {
            printf("  %-16.16s", app_book_value(b, h->row, cols[k]));
        }
        putchar('\n');
        print_why(b, res, i);
    }
    return CLI_OK;
}

static void csv_number(double v)
{
    if (isfinite(v)) {
        printf(",%.6g", v);
    } else {
        putchar(',');
    }
}

// CSV: a header line, then one line per hit (missing similarity: an empty field).
static int print_csv(const char *cmd, const struct app_book *b, const struct app_result *res,
                     const char *want)
{
    size_t n_all = app_book_n_columns(b);
    size_t *cols = px_calloc(n_all ? n_all : 1, sizeof *cols);
    if (cols == NULL) {
        fprintf(stderr, "prospect %s: error: out of memory\n", cmd);
        return CLI_FAIL;
    }
    long n_cols = pick_columns(cmd, b, res, want, true, cols, n_all);
    if (n_cols < 0) {
        px_free(cols);
        return CLI_USAGE;
    }
    fputs("rank,customer_id,score,similarity,lexical,boost", stdout);
    for (long k = 0; k < n_cols; k++) {
        putchar(',');
        cli_csv_field(stdout, app_book_column_name(b, cols[k]));
    }
    putchar('\n');
    for (size_t i = 0; i < res->n_hits; i++) {
        const struct app_hit *h = &res->hits[i];
        printf("%zu,", i + 1);
        cli_csv_field(stdout, app_book_id(b, h->row));
        csv_number(h->score);
        csv_number(h->similarity);
        csv_number(h->lexical);
        csv_number(h->boost);
        for (long k = 0; k < n_cols; k++) {
            putchar(',');
            cli_csv_field(stdout, app_book_value(b, h->row, cols[k]));
        }
        putchar('\n');
    }
    px_free(cols);
    return CLI_OK;
}

static void print_term(const struct app_book *b, const struct app_plan_term *t, bool first)
{
    printf("%s %s %s", first ? "" : ",", app_book_column_label(b, t->col), t->op);
    switch (t->kind) {
    case APP_PLAN_TEXT: printf(" %s", t->values[0]); break;
    case APP_PLAN_NUMBER: printf(" %g", t->lo); break;
    case APP_PLAN_RANGE: printf(" %g..%g", t->lo, t->hi); break;
    case APP_PLAN_FLAG: break;
    }
}

static void print_plan(const struct app_book *b, const struct app_result *res)
{
    const struct app_plan *p = res->plan;
    if (p == NULL) {
        return;
    }
    size_t nf = app_plan_n_filters(p), nb = app_plan_n_boosts(p);
    struct app_plan_term t;
    printf("filters:");
    for (size_t i = 0; i < nf; i++) {
        app_plan_filter(p, i, &t);
        print_term(b, &t, i == 0);
    }
    printf("%s\nboosts:", nf ? "" : " none");
    for (size_t i = 0; i < nb; i++) {
        app_plan_boost(p, i, &t);
        print_term(b, &t, i == 0);
    }
    printf("%s\nsemantic text: \"%s\"\n%zu customers pass the filters%s\n", nb ? "" : " none",
           app_plan_semantic_text(p), res->n_candidates,
           app_plan_n_conflicts(p) ? " (the filters contradict each other)" : "");
}

// The audit row of a CLI search (who: the OS user), written once the answer is built and before
// anything is shown — or, failed non-NULL, the "failed" row of an answer that could not be
// shown after its row was written.
static int audit(const char *cmd, const struct opts *o, const char *query, const struct app_book *b,
                 const struct app_result *res, const char *failed, struct px_err *err)
{
    struct app_access *a = NULL;
    char ids[LIMIT_QUERY_BYTES + 1] = "", user[64] = "";
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp != NULL) {
        snprintf(user, sizeof user, "%s", pw.pw_name);
    } else {
        snprintf(user, sizeof user, "uid %u", (unsigned)geteuid());
    }
    if (query == NULL) { // similar: the ids asked about
        size_t n = 0;
        for (size_t i = 0; i < o->n_ids && n < sizeof ids; i++) {
            n += (size_t)snprintf(ids + n, sizeof ids - n, "%s%s", i ? "," : "", o->ids[i]);
        }
    }
    const char *q = query ? query : ids;
    struct app_audit_entry e = {NULL, "cli", user, cmd, q, strlen(q)};
    int rc = app_access_open(o->db, &a, err);
    if (rc == PX_OK) {
        rc = failed ? app_access_log_failure(a, &e, failed, err)
                    : app_access_log(a, &e, b, res, -1, err);
    }
    app_access_close(a);
    return rc;
}

static int run(const char *cmd, struct opts *o, const char *query)
{
    int rc = CLI_FAIL;
    struct px_err err = {0};
    struct app_book *b = NULL;
    struct app_result res = {0};
    struct buf json;
    buf_init(&json, (size_t)1 << 30);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = o->db;
    bp.model_flag = o->embedder;
    bp.lexicon_path = o->lexicon;
    bp.template_path = o->tpl;
    bp.n_threads = cpu_count() < LIMIT_THREADS ? cpu_count() : LIMIT_THREADS;
    if (app_book_open(&bp, &b, &err) != PX_OK) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    if (app_book_dense_status(b) != NULL) {
        fprintf(stderr, "prospect %s: %s\n", cmd, app_book_dense_status(b));
    }
    int st = query != NULL ? app_book_search(b, query, strlen(query), (size_t)o->top, &res, &err)
                           : app_book_similar(b, o->ids, o->n_ids, (size_t)o->top, &res, &err);
    // the JSON answer is built before the audit row, so that the row is what is shown
    if (st == PX_OK && o->format == CLI_FORMAT_JSON) {
        st = app_result_to_json(b, query, query ? strlen(query) : 0, &res, &json, &err);
    }
    if (st != PX_OK || audit(cmd, o, query, b, &res, NULL, &err) != PX_OK) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    if (o->format == CLI_FORMAT_JSON) {
        rc = cli_print_json(cmd, &json);
    } else if (o->format == CLI_FORMAT_CSV) {
        rc = print_csv(cmd, b, &res, o->columns);
    } else {
        print_plan(b, &res);
        print_order(&res);
        rc = print_table(cmd, b, &res, o->columns);
    }
    if (rc == CLI_OK && fflush(stdout) != 0) rc = CLI_FAIL;
    const char *why = rc == CLI_USAGE ? "the answer was not shown: bad --columns"
                                      : "the answer could not be written to standard output";
    if (rc != CLI_OK && audit(cmd, o, query, b, &res, why, &err) != PX_OK) {
        cli_fail(cmd, &err);
    }
done:
    buf_free(&json);
    app_result_free(&res);
    app_book_close(b);
    return rc;
}

int cmd_search(int argc, char **argv)
{
    struct opts o;
    int rc = parse("search", k_usage_search, argc, argv, &o);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (optind != argc - 1) {
        return cli_usage_error("search", "give exactly one query (quote it)");
    }
    return run("search", &o, argv[optind]);
}

int cmd_similar(int argc, char **argv)
{
    struct opts o;
    int rc = parse("similar", k_usage_similar, argc, argv, &o);
    if (rc != CLI_OK) {
        return rc < 0 ? CLI_OK : rc;
    }
    if (o.n_ids == 0 || optind < argc) {
        return cli_usage_error("similar", "give one or more --id ID and nothing else");
    }
    return run("similar", &o, NULL);
}
