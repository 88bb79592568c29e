// qvocab.c — the book's vocabulary for the query parser: schema + lexicon → struct vocab
// (query.h: query_vocab_build; the vocabulary itself: vocab.h).
//
// What goes in: the label of every column a query can name (not TEXT or ID columns), every
// value of the categorical and list columns (value index = the schema's, so a candidate maps
// straight back to qcol.values[]), and every lexicon phrase as a grammar word (typo targets:
// "abve" → above; and a guard: a WordNet relative that is a lexicon phrase keeps its lexicon
// meaning). Built once per book, when the book opens; parses only read it.
#include "query_int.h"

#include <string.h>

#include "vocab.h"

int query_vocab_build(const struct query_schema *schema, const struct query_lexicon *lex,
                      const char *wordnet_dir, struct vocab **out, struct px_err *err)
{
    *out = NULL;
    struct vocab_params p = vocab_default_params();
    p.wordnet_dir = wordnet_dir;
    struct vocab *v = NULL;
    int rc = vocab_new(&p, &v, err);
    for (size_t c = 0; c < schema->n && rc == PX_OK; c++) {
        const struct qcol *q = &schema->cols[c];
        if (q->kind == QUERY_COL_TEXT || q->kind == QUERY_COL_ID) {
            continue;
        }
        rc = vocab_add_label(v, c, q->label, err);
        if (rc == PX_OK && q->name != NULL && q->label != NULL &&
            strcmp(q->name, q->label) != 0) {
            rc = vocab_add_label(v, c, q->name, err); // "home_loan_owed": its words too
        }
        if (q->kind != QUERY_COL_CATEGORY && q->kind != QUERY_COL_LIST) {
            continue;
        }
        for (size_t i = 0; i < q->n_values && rc == PX_OK; i++) {
            if (q->values[i].has_alpha) {
                rc = vocab_add_value(v, c, i, q->values[i].orig, err);
            }
        }
    }
    for (size_t k = 0; k < lex->n && rc == PX_OK; k++) {
        const struct lex_entry *e = &lex->e[k];
        if (e->ph.text == NULL) {
            continue;
        }
        // the phrase text is " w1 w2 ": trim the padding
        size_t n = strlen(e->ph.text);
        char buf[LIMIT_QUERY_PHRASE_BYTES * 2 + 4];
        if (n < 2 || n - 2 >= sizeof buf) {
            continue;
        }
        memcpy(buf, e->ph.text + 1, n - 2);
        buf[n - 2] = '\0';
        rc = vocab_add_grammar(v, buf, err);
    }
    if (rc == PX_OK) {
        rc = vocab_finish(v, err);
    }
    if (rc != PX_OK) {
        vocab_free(v);
        return rc;
    }
    *out = v;
    return PX_OK;
}
