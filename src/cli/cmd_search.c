// cmd_search.c — `prospect search "QUERY"` and `prospect similar --id ID`: the customer book,
// searched, as a table or as JSON.
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
    "usage: prospect search [--db FILE] [--model DIR] [--top N] [--json] [--lexicon FILE] \"QUERY\"\n"
    "\n"
    "Finds customers from a plain-English query. Hard numbers (\"credit score over 750\",\n"
    "\"under 35\", \"$100k+\") and named values (\"in the Private segment\", \"has a brokerage\n"
    "account\", \"without a mortgage\") are exact filters; level words (\"affluent\", \"young\",\n"
    "\"good credit\") are boosts with thresholds taken from the data; the rest is matched\n"
    "semantically (sentence embeddings, when the model's weights and `prospect index` are there)\n"
    "and lexically (BM25). The answer lists the filters and boosts it applied.\n"
    "\n"
    "  --db FILE       database (default ./prospect.db)\n"
    "  --model DIR     model directory (same lookup as `prospect embed`)\n"
    "  --top N         results (default 10)\n"
    "  --json          print the JSON answer instead of a table\n"
    "  --lexicon FILE  extra aliases and soft words, merged over the built-in lexicon\n"
    "  --template FILE the profile-text template given to prospect index, if any\n"
    "  --columns A,B   columns shown in the table (header names or labels); default: the\n"
    "                  columns the query used, then the first columns of the table\n";

static const char *const k_usage_similar =
    "usage: prospect similar [--db FILE] [--model DIR] [--top N] [--json] --id ID [--id ID ...]\n"
    "\n"
    "Finds the customers most like the given one(s) — the centroid of several — for\n"
    "cross-selling (\"like those who bought X\") and risk look-alikes.\n";

#define MAX_IDS 64

struct opts {
    const char *db, *model, *lexicon, *tpl, *columns;
    int top;
    bool json;
    const char *ids[MAX_IDS];
    size_t n_ids;
};

static int parse(const char *cmd, const char *usage, int argc, char **argv, struct opts *o)
{
    static const struct option lopts[] = {
        {"db", required_argument, NULL, 'd'},    {"model", required_argument, NULL, 'm'},
        {"top", required_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
        {"lexicon", required_argument, NULL, 'l'}, {"id", required_argument, NULL, 'i'},
        {"template", required_argument, NULL, 'T'},
        {"columns", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    *o = (struct opts){"prospect.db", NULL, NULL, NULL, NULL, 10, false, {0}, 0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:m:n:jl:i:T:c:h", lopts, NULL)) != -1) {
        switch (ch) {
        case 'd': o->db = optarg; break;
        case 'm': o->model = optarg; break;
        case 'l': o->lexicon = optarg; break;
        case 'T': o->tpl = optarg; break;
        case 'c': o->columns = optarg; break;
        case 'j': o->json = true; break;
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

// Table: rank, id, score, then the --columns given, or the columns the query talked about and
// then the first others.
static int print_table(const struct app_book *b, const struct app_result *res, const char *want)
{
    size_t cols[TABLE_COLS], n_cols = 0;
    const struct query_plan *p = res->plan;
    for (const char *w = want; w != NULL && *w != '\0' && n_cols < TABLE_COLS;) {
        const char *comma = strchr(w, ',');
        size_t len = comma ? (size_t)(comma - w) : strlen(w);
        long c = find_column(b, w, len);
        if (c < 0) {
            fprintf(stderr, "prospect search: no column named '%.*s'\n", (int)len, w);
            return CLI_USAGE;
        }
        cols[n_cols++] = (size_t)c;
        w = comma ? comma + 1 : w + len;
    }
    if (want != NULL) {
        p = NULL; // only what was asked for
    }
    for (size_t i = 0; p != NULL && i < p->n_filters + p->n_boosts && n_cols < TABLE_COLS; i++) {
        size_t c = i < p->n_filters ? p->filters[i].i_col : p->boosts[i - p->n_filters].i_col;
        bool dup = false;
        for (size_t k = 0; k < n_cols; k++) dup |= cols[k] == c;
        if (!dup) cols[n_cols++] = c;
    }
    for (size_t c = 0; want == NULL && c < app_book_n_columns(b) && n_cols < TABLE_COLS; c++) {
        bool dup = app_book_column_is_id(b, c);
        for (size_t k = 0; k < n_cols; k++) dup |= cols[k] == c;
        if (!dup) cols[n_cols++] = c;
    }
    printf("%4s  %-14s %6s", "#", "customer", "score");
    for (size_t k = 0; k < n_cols; k++) {
        printf("  %-16.16s", app_book_column_label(b, cols[k]));
    }
    putchar('\n');
    for (size_t i = 0; i < res->n_hits; i++) {
        const struct app_hit *h = &res->hits[i];
        printf("%4zu  %-14.14s %6.3f", i + 1, app_book_id(b, h->row), h->score);
        for (size_t k = 0; k < n_cols; k++) {
            printf("  %-16.16s", app_book_value(b, h->row, cols[k]));
        }
        putchar('\n');
    }
    return CLI_OK;
}

static void print_plan(const struct app_book *b, const struct app_result *res)
{
    const struct query_plan *p = res->plan;
    if (p == NULL) {
        return;
    }
    printf("filters:");
    for (size_t i = 0; i < p->n_filters; i++) {
        const struct query_filter *f = &p->filters[i];
        printf("%s %s %s", i ? "," : "", app_book_column_label(b, f->i_col), query_op_name(f->op));
        if (f->n_values > 0) {
            printf(" %s", f->values[0]);
        } else if (f->op != QUERY_OP_IS_TRUE && f->op != QUERY_OP_IS_FALSE) {
            printf(" %g", f->lo);
            if (f->op == QUERY_OP_BETWEEN) printf("..%g", f->hi);
        }
    }
    printf("%s\nboosts:", p->n_filters ? "" : " none");
    for (size_t i = 0; i < p->n_boosts; i++) {
        const struct query_boost *q = &p->boosts[i];
        printf("%s %s %s", i ? "," : "", app_book_column_label(b, q->i_col), query_op_name(q->op));
        if (q->value != NULL) {
            printf(" %s", q->value);
        } else {
            printf(" %g", q->lo);
            if (q->op == QUERY_OP_BETWEEN) printf("..%g", q->hi);
        }
    }
    printf("%s\nsemantic text: \"%s\"\n%zu customers pass the filters%s\n\n",
           p->n_boosts ? "" : " none", p->semantic_text, res->n_candidates,
           p->n_conflicts ? " (the filters contradict each other)" : "");
}

// The audit row of a CLI search (who: the OS user), written before anything is shown.
static int audit(const char *cmd, const struct opts *o, const char *query, const struct app_book *b,
                 const struct app_result *res, struct px_err *err)
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
    if (rc == PX_OK)
        rc = app_access_log(a, &e, b, res, -1, err);
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
    bp.model_flag = o->model;
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
    if (st != PX_OK || audit(cmd, o, query, b, &res, &err) != PX_OK) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    if (o->json) {
        if (app_result_to_json(b, query, query ? strlen(query) : 0, &res, &json, &err) != PX_OK) {
            rc = cli_fail(cmd, &err);
            goto done;
        }
        printf("%s\n", json.data);
    } else {
        print_plan(b, &res);
        if (print_table(b, &res, o->columns) != CLI_OK) {
            rc = CLI_USAGE;
            goto done;
        }
    }
    rc = fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
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
