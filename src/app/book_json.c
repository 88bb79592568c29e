// book_json.c — the book's answers as JSON, written with buf + jsonx (ARCHITECTURE.md, "One way
// to write JSON"): a customer row, a search or similar answer, the plan alone (for the audit
// log). The plan's members are written in place into the answer (query_plan_put_members), so
// the answer and the plan alone share one rendering; each result's "why" / "shared" comes from
// book_why.c.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "book_int.h"
#include "jsonx.h"

int app_book_row_json(const struct app_book *b, size_t row, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
        const char *v = book_raw_at(b, row, c);
        rc = jsonx_put_key(out, b->sc.cols[c].name, c == 0, err);
        if (rc != PX_OK) break;
        if (v[0] == '\0') {
            rc = buf_append(out, "null", 4, err);
        } else if (b->sc.cols[c].type == COLTYPE_BOOL) {
            bool t = strcmp(v, "0") != 0;
            rc = buf_append(out, t ? "true" : "false", t ? 4 : 5, err);
        } else if (coltype_is_numeric(b->sc.cols[c].type)) {
            rc = jsonx_put_number(out, strtod(v, NULL), 15, err);
        } else {
            rc = jsonx_put_string(out, v, strlen(v), err);
        }
    }
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int app_result_plan_json(const struct app_book *b, const char *query, size_t len,
                         const struct app_result *res, struct buf *out, struct px_err *err)
{
    if (res->plan == NULL) {
        return buf_append(out, "null", 4, err);
    }
    return query_plan_to_json(res->plan->qp, engine_schema(b->eng), query, len, out, err);
}

int app_result_to_json(const struct app_book *b, const char *query, size_t len,
                       const struct app_result *res, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK) rc = jsonx_put_key(out, "query", true, err);
    if (rc == PX_OK) rc = jsonx_put_string(out, query ? query : "", query ? len : 0, err);
    if (rc == PX_OK && res->plan != NULL) {
        rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) {
            rc = query_plan_put_members(res->plan->qp, engine_schema(b->eng), query, len, out,
                                        err);
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"dense\": %s, \"candidates\": %zu, \"ranked\": %s",
                        res->dense ? "true" : "false", res->n_candidates,
                        res->ranked ? "true" : "false");
    }
    if (rc == PX_OK) {
        rc = jsonx_put_member(out, "order", res->order ? res->order : "import order (unranked)",
                              false, err);
    }
    if (rc == PX_OK) {
        rc = buf_append(out, ", \"results\": [", 14, err);
    }
    for (size_t i = 0; i < res->n_hits && rc == PX_OK; i++) {
        const struct app_hit *h = &res->hits[i];
        const char *id = app_book_id(b, h->row);
        rc = buf_append(out, i ? ", {" : "{", i ? 3 : 1, err);
        if (rc == PX_OK) rc = jsonx_put_key(out, "customer_id", true, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, id, strlen(id), err);
        if (rc == PX_OK) rc = jsonx_put_key(out, "score", false, err);
        if (rc == PX_OK) rc = jsonx_put_number(out, h->score, 6, err);
        if (rc == PX_OK) rc = jsonx_put_key(out, "similarity", false, err);
        if (rc == PX_OK) rc = jsonx_put_number(out, h->similarity, 6, err);
        if (rc == PX_OK) rc = jsonx_put_key(out, "lexical", false, err);
        if (rc == PX_OK) rc = jsonx_put_number(out, h->lexical, 6, err);
        if (rc == PX_OK) rc = jsonx_put_key(out, "boost", false, err);
        if (rc == PX_OK) rc = jsonx_put_number(out, h->boost, 6, err);
        if (rc == PX_OK) rc = book_why_put_json(b, res, i, out, err);
        if (rc == PX_OK) rc = jsonx_put_key(out, "row", false, err);
        if (rc == PX_OK) rc = app_book_row_json(b, h->row, out, err);
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK) {
        rc = buf_append(out, "]}", 2, err);
    }
    return rc;
}
