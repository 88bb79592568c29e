// query.c — natural-language query → struct query_plan (format and rules: query.h): the entry
// point and the plan's lifecycle.
//
// Design. Three passes over the query, each simple enough to test on its own:
//
//   text ──lex──▶ tokens ──match──▶ items ──grammar──▶ plan
//      (qtok.c)         (qmatch.c)        (qgrammar.c)
//
// against a schema (qschema.c) and a lexicon (qlex.c) built beforehand; qplan.c writes the
// plan's JSON. query_int.h holds the structures the files share.
//
// Everything the parser knows about words comes from the lexicon data file; everything it
// knows about columns comes from the schema. The code hard-codes only grammar: number syntax,
// "between/and", "from/to", "N-M", "or" merging, clause punctuation.
//
// Memory: a parse makes a handful of allocations (lower-cased copy, tokens, items, plan and
// its arrays); all through px_*, so the fault-injection test walks every one of them.
#include "query_int.h"

#include <string.h>

#include "mem.h"

void query_plan_free(struct query_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    px_free(plan->filters);
    px_free(plan->boosts);
    px_free(plan->conflicts);
    px_free(plan->semantic_text);
    px_free(plan);
}

int query_parse(const struct query_schema *schema, const struct query_lexicon *lex,
                const char *text, size_t len, struct query_plan **out, struct px_err *err)
{
    struct pctx x;
    memset(&x, 0, sizeof x);
    int rc = PX_EINVAL;
    *out = NULL;
    size_t bad = 0;
    if (len > LIMIT_QUERY_BYTES) {
        rc = px_fail(err, PX_ELIMIT, "query is %zu bytes, more than %d (LIMIT_QUERY_BYTES)", len,
                     LIMIT_QUERY_BYTES);
        goto done;
    }
    if (text == NULL && len > 0) {
        rc = px_fail(err, PX_EINVAL, "query text is NULL");
        goto done;
    }
    if (len > 0 && !utf8_valid((const unsigned char *)text, len, &bad)) {
        rc = px_fail(err, PX_EUTF8, "query: invalid UTF-8 at byte %zu", bad);
        goto done;
    }
    x.s = schema;
    x.lex = lex;
    x.text = text;
    x.len = len;
    x.plan = px_calloc(1, sizeof *x.plan);
    x.low = px_malloc(len + 1);
    x.toks = px_malloc((len + 1) * sizeof *x.toks);
    if (x.plan == NULL || x.low == NULL || x.toks == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory parsing a %zu-byte query", len);
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        x.low[i] = (char)lower((unsigned char)text[i]);
    }
    x.low[len] = '\0';
    const char *p = text;
    while (x.n_tok <= len && qtok_next(&p, text, text + len, &x.toks[x.n_tok])) {
        x.n_tok++;
    }
    x.items = px_malloc((x.n_tok + 1) * sizeof *x.items);
    if (x.items == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory parsing a %zu-byte query", len);
        goto done;
    }
    for (size_t i = 0; i < x.n_tok;) {
        x.items[x.n_items] = qmatch_at(&x, i);
        i = x.items[x.n_items].t1;
        x.n_items++;
    }
    x.people_col = qschema_resolve_concept(schema, lex->people_concept, 1);
    x.currency_col = -1;
    x.percent_col = -1;
    long cc = qschema_resolve_concept(schema, lex->currency_concept, 1);
    if (cc >= 0 && schema->cols[cc].unit == QUERY_UNIT_CURRENCY) {
        x.currency_col = cc;
    }
    for (size_t c = 0; c < schema->n; c++) {
        const struct qcol *q = &schema->cols[c];
        if (q->kind != QUERY_COL_NUMERIC) {
            continue;
        }
        if (x.currency_col < 0 && q->unit == QUERY_UNIT_CURRENCY) {
            x.currency_col = (long)c;
        }
        if (x.percent_col < 0 && q->unit == QUERY_UNIT_PERCENT) {
            x.percent_col = (long)c;
        }
    }
    rc = qgrammar_run(&x, err);
    if (rc == PX_OK) {
        rc = qgrammar_conflicts(&x, err);
    }
    if (rc == PX_OK) {
        rc = qgrammar_semantic(&x, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    *out = x.plan;
    x.plan = NULL;
    rc = PX_OK;
done:
    query_plan_free(x.plan);
    px_free(x.low);
    px_free(x.toks);
    px_free(x.items);
    return rc;
}
