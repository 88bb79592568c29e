// qplan.c — the plan's JSON form (query_plan_to_json / query_plan_put_members; format:
// query.h). Written into a struct buf with the jsonx writers; the app layer embeds the members
// in every search answer.
#include "query_int.h"

#include <stdio.h>
#include <string.h>

#include "jsonx.h"

const char *query_op_name(enum query_op op)
{
    static const char *const k_names[] = {
        "lt", "le", "gt", "ge", "eq", "ne", "between", "in", "not_in", "contains",
        "not_contains", "is_true", "is_false"};
    return (unsigned)op < sizeof k_names / sizeof k_names[0] ? k_names[op] : "?";
}

static int json_str(struct buf *b, const char *s, size_t n, struct px_err *err)
{
    return jsonx_put_string(b, s, n, err);
}

static int json_cstr(struct buf *b, const char *s, struct px_err *err)
{
    return json_str(b, s, strlen(s), err);
}

static int json_head(struct buf *b, const struct query_schema *s, size_t col, enum query_op op,
                     struct px_err *err)
{
    int rc = buf_printf(b, err, "{\"column\":");
    if (rc == PX_OK) rc = json_cstr(b, s->cols[col].name, err);
    if (rc == PX_OK) rc = buf_printf(b, err, ",\"label\":");
    if (rc == PX_OK) rc = json_cstr(b, s->cols[col].label, err);
    if (rc == PX_OK) rc = buf_printf(b, err, ",\"op\":\"%s\",\"value\":", query_op_name(op));
    return rc;
}

// "match": {"how": "synonym", "via": "doctor"} when the book's vocabulary found the value.
static int json_match(struct buf *b, const char *how, const char *via, struct px_err *err)
{
    if (how == NULL) {
        return PX_OK;
    }
    int rc = buf_printf(b, err, ",\"match\":{\"how\":");
    if (rc == PX_OK) rc = json_cstr(b, how, err);
    if (rc == PX_OK && via != NULL) {
        rc = buf_printf(b, err, ",\"via\":");
        if (rc == PX_OK) rc = json_cstr(b, via, err);
    }
    return rc == PX_OK ? buf_append(b, "}", 1, err) : rc;
}

static int json_tail(struct buf *b, struct query_span sp, const char *text, size_t len,
                     struct px_err *err)
{
    int rc = buf_printf(b, err, ",\"span\":[%zu,%zu]", sp.off, sp.len);
    if (rc == PX_OK && text != NULL && sp.off + sp.len <= len) {
        rc = buf_printf(b, err, ",\"text\":");
        if (rc == PX_OK) rc = json_str(b, text + sp.off, sp.len, err);
    }
    return rc == PX_OK ? buf_append(b, "}", 1, err) : rc;
}

// ,"span":[o,l] and ,"text":"..." (when the text is known) of one item, no braces.
static int put_span(struct buf *b, struct query_span sp, const char *text, size_t len,
                    struct px_err *err)
{
    int rc = buf_printf(b, err, "\"span\":[%zu,%zu]", sp.off, sp.len);
    if (rc == PX_OK && text != NULL && sp.off + sp.len <= len) {
        rc = buf_printf(b, err, ",\"text\":");
        if (rc == PX_OK) rc = json_str(b, text + sp.off, sp.len, err);
    }
    return rc;
}

// ,"not_understood":[{"span":[o,l],"text":"Texas","reason":"...","suggestions":["Texas"]}]
static int put_unknown(const struct query_plan *plan, const char *text, size_t len,
                       struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err, ",\"not_understood\":[");
    for (size_t i = 0; i < plan->n_unknown && rc == PX_OK; i++) {
        const struct query_unknown *u = &plan->unknown[i];
        rc = buf_printf(out, err, "%s{", i ? "," : "");
        if (rc == PX_OK) rc = put_span(out, u->span, text, len, err);
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"reason\":");
        if (rc == PX_OK) rc = json_cstr(out, u->reason, err);
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"suggestions\":[");
        for (size_t k = 0; k < u->n_suggestions && rc == PX_OK; k++) {
            rc = k ? buf_append(out, ",", 1, err) : PX_OK;
            if (rc == PX_OK) rc = json_cstr(out, u->suggestions[k], err);
        }
        if (rc == PX_OK) rc = buf_append(out, "]}", 2, err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

// ,"readings":[{"span":..,"text":..,"column":..,"label":..,"reason":..,
//               "alternative":{"column":..,"label":..} or null}]
static int put_readings(const struct query_plan *plan, const struct query_schema *schema,
                        const char *text, size_t len, struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err, ",\"readings\":[");
    for (size_t i = 0; i < plan->n_readings && rc == PX_OK; i++) {
        const struct query_reading *r = &plan->readings[i];
        rc = buf_printf(out, err, "%s{", i ? "," : "");
        if (rc == PX_OK) rc = put_span(out, r->span, text, len, err);
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"column\":");
        if (rc == PX_OK) rc = json_cstr(out, schema->cols[r->i_col].name, err);
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"label\":");
        if (rc == PX_OK) rc = json_cstr(out, schema->cols[r->i_col].label, err);
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"reason\":");
        if (rc == PX_OK) rc = json_cstr(out, r->reason, err);
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"alternative\":");
        if (rc == PX_OK && r->alt_col >= 0) {
            rc = buf_printf(out, err, "{\"column\":");
            if (rc == PX_OK) rc = json_cstr(out, schema->cols[r->alt_col].name, err);
            if (rc == PX_OK) rc = buf_printf(out, err, ",\"label\":");
            if (rc == PX_OK) rc = json_cstr(out, schema->cols[r->alt_col].label, err);
            if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
        } else if (rc == PX_OK) {
            rc = buf_printf(out, err, "null");
        }
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

int query_plan_to_json(const struct query_plan *plan, const struct query_schema *schema,
                       const char *text, size_t len, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK) rc = query_plan_put_members(plan, schema, text, len, out, err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int query_plan_put_members(const struct query_plan *plan, const struct query_schema *schema,
                           const char *text, size_t len, struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err, "\"filters\":[");
    for (size_t i = 0; i < plan->n_filters && rc == PX_OK; i++) {
        const struct query_filter *f = &plan->filters[i];
        rc = i ? buf_append(out, ",", 1, err) : PX_OK;
        if (rc == PX_OK) rc = json_head(out, schema, f->i_col, f->op, err);
        if (rc != PX_OK) break;
        if (f->op == QUERY_OP_IS_TRUE || f->op == QUERY_OP_IS_FALSE) {
            rc = buf_printf(out, err, "%s", f->op == QUERY_OP_IS_TRUE ? "true" : "false");
        } else if (f->op == QUERY_OP_BETWEEN) {
            rc = buf_printf(out, err, "[%.15g,%.15g]", f->lo, f->hi);
        } else if (f->n_values == 0) {
            rc = buf_printf(out, err, "%.15g", f->lo);
        } else if (f->op == QUERY_OP_IN || f->op == QUERY_OP_NOT_IN) {
            rc = buf_append(out, "[", 1, err);
            for (size_t k = 0; k < f->n_values && rc == PX_OK; k++) {
                rc = k ? buf_append(out, ",", 1, err) : PX_OK;
                if (rc == PX_OK) rc = json_cstr(out, f->values[k], err);
            }
            if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
        } else {
            rc = json_cstr(out, f->values[0], err);
        }
        if (rc == PX_OK) rc = json_match(out, f->match_how, f->match_via, err);
        if (rc == PX_OK) rc = json_tail(out, f->span, text, len, err);
    }
    if (rc == PX_OK) rc = buf_printf(out, err, "],\"boosts\":[");
    for (size_t i = 0; i < plan->n_boosts && rc == PX_OK; i++) {
        const struct query_boost *b = &plan->boosts[i];
        rc = i ? buf_append(out, ",", 1, err) : PX_OK;
        if (rc == PX_OK) rc = json_head(out, schema, b->i_col, b->op, err);
        if (rc != PX_OK) break;
        if (b->value != NULL) {
            rc = json_cstr(out, b->value, err);
        } else if (b->op == QUERY_OP_BETWEEN) {
            rc = buf_printf(out, err, "[%.15g,%.15g]", b->lo, b->hi);
        } else {
            rc = buf_printf(out, err, "%.15g", b->lo);
        }
        if (rc == PX_OK && b->quantile >= 0) {
            rc = buf_printf(out, err, ",\"quantile\":%.15g", b->quantile);
        }
        if (rc == PX_OK) rc = buf_printf(out, err, ",\"weight\":%.15g", b->weight);
        if (rc == PX_OK) rc = json_match(out, b->match_how, b->match_via, err);
        if (rc == PX_OK) rc = json_tail(out, b->span, text, len, err);
    }
    if (rc == PX_OK) rc = buf_printf(out, err, "],\"semantic_text\":");
    if (rc == PX_OK) rc = json_str(out, plan->semantic_text, plan->semantic_len, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ",\"conflicts\":[");
    for (size_t i = 0; i < plan->n_conflicts && rc == PX_OK; i++) {
        const struct query_conflict *c = &plan->conflicts[i];
        rc = buf_printf(out, err, "%s{\"filters\":[%zu,%zu],\"message\":", i ? "," : "",
                        c->i_filter_a, c->i_filter_b);
        char msg[256];
        const char *name = schema->cols[plan->filters[c->i_filter_a].i_col].name;
        snprintf(msg, sizeof msg, "filters %zu and %zu on '%s' cannot both hold", c->i_filter_a,
                 c->i_filter_b, name);
        if (rc == PX_OK) rc = json_cstr(out, msg, err);
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
    if (rc == PX_OK) rc = put_unknown(plan, text, len, out, err);
    if (rc == PX_OK) rc = put_readings(plan, schema, text, len, out, err);
    return rc;
}
