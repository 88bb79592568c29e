// query.c — natural-language query → struct query_plan (format and rules: query.h): the entry
// point and the plan's lifecycle.
//
// Design. Three passes over the query, each simple enough to test on its own:
//
//   text ──lex──▶ tokens ──match──▶ items ──grammar──▶ plan
//      (qtok.c)         (qmatch.c)        (qgrammar.c)
//
// against a schema (qschema.c) and a lexicon (qlex.c) built beforehand, and optionally the
// book's vocabulary (vocab.h, built by qvocab.c once per book): between lexing and matching,
// correct_typos gives each misspelt word its spelling from the vocabulary. qplan.c writes the
// plan's JSON. query_int.h holds the structures the files share.
//
// Everything the parser knows about words comes from the lexicon data file and the book's
// vocabulary (its labels and values through WordNet); everything it knows about columns comes
// from the schema. The code hard-codes only grammar: number syntax,
// "between/and", "from/to", "N-M", "or" merging, clause punctuation.
//
// Memory: a parse makes a handful of allocations (lower-cased copy, tokens, items, plan and
// its arrays); all through px_*, so the fault-injection test walks every one of them.
#include "query_int.h"

#include <string.h>

#include "mem.h"
#include "vocab.h"

void query_plan_free(struct query_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    px_free(plan->filters);
    px_free(plan->boosts);
    px_free(plan->conflicts);
    px_free(plan->unknown);
    px_free(plan->readings);
    px_free(plan->semantic_text);
    px_free(plan);
}

int query_parse(const struct query_schema *schema, const struct query_lexicon *lex,
                const char *text, size_t len, struct query_plan **out, struct px_err *err)
{
    return query_parse_vocab(schema, lex, NULL, text, len, out, err);
}

// Typos (search/vocab.h): a word that is not one of the book's words nor an English word
// WordNet knows, with one nearest spelling among the book's words, is matched as that spelling
// ("custmers" → customers, "abve" → above). The spellings are appended to x->low past the
// text, and the token's moff / mlen point there; spans keep the typed bytes.
static int correct_typos(struct pctx *x, struct px_err *err)
{
    size_t extra = 0;
    const char *fix[LIMIT_QUERY_ITEMS];
    size_t i_fix[LIMIT_QUERY_ITEMS], n_fix = 0;
    for (size_t i = 0; i < x->n_tok && n_fix < LIMIT_QUERY_ITEMS; i++) {
        const struct tok *t = &x->toks[i];
        if (t->kind != TOK_WORD || t->len < 4) {
            continue;
        }
        const char *out[2];
        int d = 0;
        if (vocab_correct(x->vocab, x->low + t->off, t->len, out, 2, &d) == 1) {
            fix[n_fix] = out[0];
            i_fix[n_fix++] = i;
            extra += strlen(out[0]) + 1;
        }
    }
    if (n_fix == 0) {
        return PX_OK;
    }
    char *low = px_realloc(x->low, x->len + 1 + extra);
    if (low == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory correcting a query's typos");
    }
    x->low = low;
    size_t o = x->len + 1;
    for (size_t k = 0; k < n_fix; k++) {
        size_t n = strlen(fix[k]);
        memcpy(low + o, fix[k], n);
        low[o + n] = '\0';
        x->toks[i_fix[k]].moff = o;
        x->toks[i_fix[k]].mlen = n;
        o += n + 1;
    }
    return PX_OK;
}

int query_parse_vocab(const struct query_schema *schema, const struct query_lexicon *lex,
                      const struct vocab *vocab, const char *text, size_t len,
                      struct query_plan **out, struct px_err *err)
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
    x.vocab = vocab;
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
    if (vocab != NULL) {
        rc = correct_typos(&x, err);
        if (rc != PX_OK) {
            goto done;
        }
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
    rc = qgrammar_run(&x, err);
    if (rc == PX_OK) {
        rc = qgrammar_conflicts(&x, err);
    }
    if (rc == PX_OK) {
        rc = qgrammar_semantic(&x, err);
    }
    if (rc == PX_OK) {
        rc = qgrammar_unknown(&x, err);
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
