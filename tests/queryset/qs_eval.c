// qs_eval.c — running the query set over its books, and the figures of each group.
//
// A query runs through app_book_search with top 10, exactly as the API's search does (parse,
// filter, rank); each returned row (app_hit.row) is checked against the query's predicate, and
// so is every row of the book, which gives the number of people the query could have found:
//   hard     holds when rows came back and every one satisfies the predicate; a group's figure
//            is the rows satisfying / rows returned, beside the queries holding
//   profile  P@10 = rows satisfying in the top 10 / min(10, rows of the book satisfying)
// A predicate nobody in the book satisfies is an error of the set (it would measure nothing),
// as is one that does not compile against its book.
//
// Times are the mean wall time of app_book_search over `runs` repetitions (parse + filter +
// rank, one thread, lexical path).
#include "queryset.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "app_book.h"
#include "buf.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int qs_eval_matches(const struct qs_query *q, struct qs_book *bk, struct qs_pred **pred,
                    size_t *n_match, struct px_err *err)
{
    struct qs_pred *p = NULL;
    *n_match = 0;
    int rc = qs_pred_compile(q->predicate, &bk->table, &p, err);
    if (rc != PX_OK) {
        return px_err_prefix(err, "%s (line %zu)", q->id, q->line);
    }
    for (size_t r = 0; r < bk->table.n_rows; r++) {
        *n_match += qs_pred_eval(p, &bk->table, r);
    }
    if (pred != NULL) {
        *pred = p;
    } else {
        qs_pred_free(p);
    }
    return PX_OK;
}

static int eval_one(const struct qs_query *q, struct qs_book *bk, int runs,
                    struct qs_outcome *o, struct px_err *err)
{
    struct qs_pred *p = NULL;
    int rc = qs_eval_matches(q, bk, &p, &o->n_match, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (o->n_match == 0) {
        qs_pred_free(p);
        return px_fail(err, PX_EINVAL, "%s (line %zu): no row of the %s book satisfies \"%s\"",
                       q->id, q->line, qs_schema_name(q->schema), q->predicate);
    }
    o->ran = true;
    double total = 0;
    for (int k = 0; k < runs; k++) {
        struct app_result res;
        struct px_err serr = {0};
        double t0 = now_ms();
        int src = app_book_search(bk->book, q->text, strlen(q->text), QS_TOP, &res, &serr);
        total += now_ms() - t0;
        if (k == 0) {
            if (src != PX_OK) {
                o->search_failed = true;
                snprintf(o->err_msg, sizeof o->err_msg, "%.250s", serr.msg);
            } else {
                o->n_returned = res.n_hits;
                for (size_t i = 0; i < res.n_hits; i++) {
                    o->n_ok += qs_pred_eval(p, &bk->table, res.hits[i].row);
                }
            }
        }
        if (src == PX_OK) {
            app_result_free(&res);
        }
    }
    o->ms = total / runs;
    o->holds = o->n_returned > 0 && o->n_ok == o->n_returned;
    size_t want = o->n_match < QS_TOP ? o->n_match : QS_TOP;
    o->p10 = (double)o->n_ok / (double)want;
    qs_pred_free(p);
    return PX_OK;
}

int qs_eval_run(const struct qs_set *set, struct qs_books *books, int runs,
                struct qs_outcome *outcomes, struct px_err *err)
{
    if (runs < 1) {
        runs = 1;
    }
    for (size_t i = 0; i < set->n; i++) {
        memset(&outcomes[i], 0, sizeof outcomes[i]);
        struct qs_book *bk = &books->s[set->q[i].schema];
        if (!bk->available) {
            continue;
        }
        int rc = eval_one(&set->q[i], bk, runs, &outcomes[i], err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

struct qs_figures qs_figures_of(const struct qs_set *set, const struct qs_outcome *outcomes,
                                int schema, int kind, int split)
{
    struct qs_figures f = {0};
    for (size_t i = 0; i < set->n; i++) {
        const struct qs_query *q = &set->q[i];
        const struct qs_outcome *o = &outcomes[i];
        if (!o->ran || (schema >= 0 && (int)q->schema != schema) ||
            (kind >= 0 && (int)q->kind != kind) || (split >= 0 && (int)q->split != split)) {
            continue;
        }
        f.n_queries++;
        f.n_empty += o->n_returned == 0;
        f.n_failed += o->search_failed;
        f.ms_sum += o->ms;
        if (q->kind == QS_HARD) {
            f.rows_returned += o->n_returned;
            f.rows_ok += o->n_ok;
            f.n_hold += o->holds;
        } else {
            f.p10_sum += o->p10;
            f.n_hold += o->p10 >= 1.0;
        }
    }
    return f;
}

double qs_figures_headline(const struct qs_figures *f, enum qs_kind kind)
{
    if (f->n_queries == 0) {
        return NAN;
    }
    if (kind == QS_HARD) {
        return f->rows_returned ? 100.0 * (double)f->rows_ok / (double)f->rows_returned : 0.0;
    }
    return 100.0 * f->p10_sum / (double)f->n_queries;
}

static void print_group(FILE *out, const char *label, const struct qs_figures *g,
                        enum qs_kind kind, const struct qs_baseline *baseline, int s, int sp)
{
    char head[32], hold[32], base[48] = "";
    double h = qs_figures_headline(g, kind);
    if (kind == QS_HARD) {
        snprintf(head, sizeof head, "%5.1f%% (%zu/%zu)", h, g->rows_ok, g->rows_returned);
    } else {
        snprintf(head, sizeof head, "P@10 %5.1f%%", h);
    }
    snprintf(hold, sizeof hold, "%zu/%zu", g->n_hold, g->n_queries);
    if (baseline != NULL && s >= 0) {
        const struct qs_baseline_group *b = &baseline->g[s][kind][sp];
        if (b->present) {
            snprintf(base, sizeof base, "%5.1f%%  %zu/%zu", b->headline, b->n_hold, b->n);
        } else {
            snprintf(base, sizeof base, "(none)");
        }
    }
    fprintf(out, "  %-26s %-22s %-8s %5zu %6zu %7.3f   %s\n", label, head, hold, g->n_empty,
            g->n_failed, g->n_queries ? g->ms_sum / (double)g->n_queries : 0.0, base);
}

void qs_report_print(FILE *out, const struct qs_set *set, const struct qs_outcome *outcomes,
                     const struct qs_baseline *baseline)
{
    size_t n_ran = 0, n_split[QS_N_SPLITS] = {0};
    for (size_t i = 0; i < set->n; i++) {
        n_ran += outcomes[i].ran;
        n_split[set->q[i].split]++;
    }
    fprintf(out,
            "query set: %zu queries (%zu tuning, %zu held out), %zu ran; top %d, lexical path\n"
            "  hard: %% of returned rows satisfying the predicate (rows), queries whose every row "
            "does (holds)\n  profile: mean P@10, queries with P@10 = 1 (holds)\n",
            set->n, n_split[QS_TUNING], n_split[QS_HELDOUT], n_ran, QS_TOP);
    fprintf(out, "  %-26s %-22s %-8s %5s %6s %7s   %s\n", "group", "figure", "holds", "empty",
            "failed", "ms/q", baseline ? "baseline (figure, holds)" : "");
    for (int sp = 0; sp < QS_N_SPLITS; sp++) {
        for (int s = 0; s < QS_N_SCHEMAS; s++) {
            for (int k = 0; k < QS_N_KINDS; k++) {
                struct qs_figures g = qs_figures_of(set, outcomes, s, k, sp);
                if (g.n_queries == 0) {
                    continue;
                }
                char label[64];
                snprintf(label, sizeof label, "%s %s %s", qs_schema_name((enum qs_schema)s),
                         qs_kind_name((enum qs_kind)k), qs_split_name((enum qs_split)sp));
                print_group(out, label, &g, (enum qs_kind)k, baseline, s, sp);
            }
        }
        for (int k = 0; k < QS_N_KINDS; k++) {
            struct qs_figures g = qs_figures_of(set, outcomes, -1, k, sp);
            char label[64];
            snprintf(label, sizeof label, "ALL %s %s", qs_kind_name((enum qs_kind)k),
                     qs_split_name((enum qs_split)sp));
            print_group(out, label, &g, (enum qs_kind)k, NULL, -1, sp);
        }
    }
    struct qs_figures all = qs_figures_of(set, outcomes, -1, -1, -1);
    fprintf(out, "  mean parse+search time: %.3f ms per query over %zu queries\n",
            all.n_queries ? all.ms_sum / (double)all.n_queries : 0.0, all.n_queries);
}

// The plan's filters, boosts and semantic text as one line of JSON, or a note why not.
static void print_plan(FILE *out, const struct qs_query *q, struct qs_book *bk)
{
    struct app_result res;
    struct px_err err = {0};
    if (app_book_search(bk->book, q->text, strlen(q->text), QS_TOP, &res, &err) != PX_OK) {
        fprintf(out, "      search failed: %s\n", err.msg);
        return;
    }
    struct buf b;
    buf_init(&b, 1u << 20);
    if (app_result_plan_json(bk->book, q->text, strlen(q->text), &res, &b, &err) == PX_OK) {
        cJSON *plan = cJSON_ParseWithLength(b.data, b.len);
        static const char *const keys[] = {"filters", "boosts", "semantic_text"};
        for (size_t k = 0; plan != NULL && k < sizeof keys / sizeof keys[0]; k++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(plan, keys[k]);
            char *s = v ? cJSON_PrintUnformatted(v) : NULL;
            if (s != NULL) {
                fprintf(out, "      %s: %s\n", keys[k], s);
                cJSON_free(s);
            }
        }
        cJSON_Delete(plan);
    }
    buf_free(&b);
    app_result_free(&res);
}

void qs_report_queries(FILE *out, const struct qs_set *set, const struct qs_outcome *outcomes,
                       struct qs_books *books, bool only_failing, bool with_heldout)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct qs_query *q = &set->q[i];
        const struct qs_outcome *o = &outcomes[i];
        if (!o->ran || (!with_heldout && q->split == QS_HELDOUT)) {
            continue;
        }
        bool good = q->kind == QS_HARD ? o->holds : o->p10 >= 1.0;
        if (only_failing && good) {
            continue;
        }
        fprintf(out, "  %s %-7s %-7s %-9s %2zu/%-2zu ok  %5zu match  %s  %s\n", q->id,
                qs_split_name(q->split), qs_kind_name(q->kind), qs_schema_name(q->schema),
                o->n_ok, o->n_returned, o->n_match,
                q->kind == QS_HARD ? (o->holds ? "HOLDS" : "FAILS") : (good ? "P@10=1" : "      "),
                q->text);
        if (!good) {
            fprintf(out, "      want: %s\n", q->predicate);
            print_plan(out, q, &books->s[q->schema]);
        }
    }
}
