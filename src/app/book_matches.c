// book_matches.c — what a saved query matches: every row passing its hard filters (the engine's
// candidate bitmap, uncapped), or, when it has none, the first page of its ranking
// (LIMIT_SAVED_TOP_MATCHES) — a query of soft words only ("wealthy retirees") would otherwise
// match the whole book and every new customer would be an alert.
//
// The rows come out in customer-id order (the book's by_id index walked against the bitmap),
// which is the order the store keeps a search's matches in, so the alert diff is one merge.
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "book_int.h"
#include "mem.h"
#include "saved_int.h"

static int cmp_rows_by_id(const void *a, const void *b, void *user)
{
    const struct app_book *bk = user;
    return strcmp(app_book_id(bk, *(const uint32_t *)a), app_book_id(bk, *(const uint32_t *)b));
}

int saved_matches(struct app_book *b, const char *query, size_t len, uint32_t **rows, size_t *n,
                  size_t *n_filters, struct px_err *err)
{
    struct query_plan *qp = NULL;
    struct bitmap *cand = NULL;
    *rows = NULL;
    *n = 0;
    int rc = query_parse(engine_schema(b->eng), b->lex, query, len, &qp, err);
    if (rc != PX_OK) return rc;
    if (n_filters != NULL) *n_filters = qp->n_filters;
    if (qp->n_filters > 0) {
        rc = engine_candidates(b->eng, qp, &cand, err);
        size_t count = rc == PX_OK ? bitmap_count(cand) : 0;
        if (rc == PX_OK && (*rows = px_malloc((count ? count : 1) * sizeof **rows)) == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory listing a saved search's matches");
        }
        for (size_t i = 0; rc == PX_OK && i < b->n_rows && *n < count; i++) {
            if (bitmap_test(cand, b->by_id[i])) {
                (*rows)[(*n)++] = b->by_id[i];
            }
        }
        query_plan_free(qp);
        bitmap_free(cand);
    } else {
        query_plan_free(qp);
        struct app_result res = {0};
        rc = app_book_search(b, query, len, LIMIT_SAVED_TOP_MATCHES, &res, err);
        if (rc == PX_OK && (*rows = px_malloc((res.n_hits ? res.n_hits : 1) * sizeof **rows)) ==
                               NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory listing a saved search's matches");
        }
        for (size_t i = 0; rc == PX_OK && i < res.n_hits; i++) {
            (*rows)[(*n)++] = (uint32_t)res.hits[i].row;
        }
        if (rc == PX_OK) qsort_r(*rows, *n, sizeof **rows, cmp_rows_by_id, b);
        app_result_free(&res);
    }
    if (rc != PX_OK) {
        px_free(*rows);
        *rows = NULL;
        *n = 0;
    }
    return rc;
}
