// qlex.c — the lexicon (struct query_lexicon, query.h): aliases, soft words, modifiers,
// comparators, grammar words and number words, read from data/lexicon.json (format documented
// there) and merged over by user files. Every entry's words are stored as a normalised phrase
// (qtok.c) so matching compares them the way the query is lexed.
#include "query_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "jsonx.h"
#include "mem.h"

static void entry_free(struct lex_entry *e)
{
    qphrase_free(&e->ph);
    px_free(e->concept);
    e->concept = NULL;
}

static void rgroup_free(struct lex_rgroup *g)
{
    for (size_t a = 0; a < g->n; a++) {
        for (size_t k = 0; k < g->a[a].n; k++) {
            px_free(g->a[a].c[k].concept);
            px_free(g->a[a].c[k].value);
        }
    }
    g->n = 0;
}

void query_lexicon_free(struct query_lexicon *lex)
{
    if (lex == NULL) {
        return;
    }
    for (size_t i = 0; i < lex->n; i++) {
        entry_free(&lex->e[i]);
    }
    px_free(lex->e);
    for (size_t g = 0; g < lex->n_rg; g++) {
        rgroup_free(&lex->rg[g]);
    }
    px_free(lex->rg);
    px_free(lex->people_concept);
    px_free(lex->currency_concept);
    px_free(lex);
}

// Normalised concept text (padded) of s, owned in *out.
static int concept_build(const char *s, const char *what, char **out, struct px_err *err)
{
    struct phrase ph;
    *out = NULL;
    int rc = qphrase_build(s, strlen(s), 0, &ph, err);
    if (rc != PX_OK) {
        return px_err_prefix(err, "%s: concept \"%s\"", what, s);
    }
    *out = ph.text;
    return PX_OK;
}

// Adds (or replaces, same kind and phrase) one entry; tmpl carries the numbers.
static int lex_add(struct query_lexicon *lex, enum lex_kind kind, const char *words,
                   const char *concept, const struct lex_entry *tmpl, const char *what,
                   struct px_err *err)
{
    struct lex_entry e = *tmpl;
    e.kind = kind;
    e.ph.text = NULL;
    e.concept = NULL;
    size_t bad = 0;
    if (!utf8_valid((const unsigned char *)words, strlen(words), &bad)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\": invalid UTF-8 at byte %zu", what, words, bad);
    }
    int rc = qphrase_build(words, strlen(words), 0, &e.ph, err);
    if (rc != PX_OK) {
        return px_err_prefix(err, "%s: \"%s\"", what, words);
    }
    if (concept != NULL) {
        rc = concept_build(concept, what, &e.concept, err);
        if (rc != PX_OK) {
            entry_free(&e);
            return rc;
        }
    }
    for (size_t i = 0; i < lex->n; i++) {
        if (lex->e[i].kind == kind && strcmp(lex->e[i].ph.text, e.ph.text) == 0) {
            entry_free(&lex->e[i]);
            lex->e[i] = e;
            return PX_OK;
        }
    }
    if (lex->n >= LIMIT_LEXICON_ENTRIES) {
        entry_free(&e);
        return px_fail(err, PX_ELIMIT, "%s: more than %d lexicon entries (LIMIT_LEXICON_ENTRIES)",
                       what, LIMIT_LEXICON_ENTRIES);
    }
    if (lex->n == lex->cap) {
        size_t cap = lex->cap ? lex->cap * 2 : 256;
        struct lex_entry *p = px_realloc(lex->e, cap * sizeof *p);
        if (p == NULL) {
            entry_free(&e);
            return px_fail(err, PX_ENOMEM, "out of memory growing the lexicon");
        }
        lex->e = p;
        lex->cap = cap;
    }
    lex->e[lex->n++] = e;
    return PX_OK;
}

// Adds every string of array arr (section name `key`) as kind.
static int lex_add_strings(struct query_lexicon *lex, const cJSON *arr, enum lex_kind kind,
                           const char *concept, const struct lex_entry *tmpl, const char *what,
                           const char *key, struct px_err *err)
{
    if (!cJSON_IsArray(arr)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an array of strings", what, key);
    }
    size_t i = 0;
    for (const cJSON *it = arr->child; it != NULL; it = it->next, i++) {
        if (!cJSON_IsString(it)) {
            return px_fail(err, PX_EFORMAT, "%s: %s[%zu] is not a string", what, key, i);
        }
        char where[160];
        snprintf(where, sizeof where, "%s: %s[%zu]", what, key, i);
        int rc = lex_add(lex, kind, it->valuestring, concept, tmpl, where, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static int parse_op(const char *s, enum query_op *op)
{
    static const char *const k_ops[] = {"lt", "le", "gt", "ge", "eq", "ne"};
    for (int i = 0; i < 6; i++) {
        if (strcmp(s, k_ops[i]) == 0) {
            *op = (enum query_op)i;
            return 1;
        }
    }
    return 0;
}

// "soft" / "modifiers" / "comparators": arrays of objects each with a "words" array.
static int lex_add_objects(struct query_lexicon *lex, const cJSON *arr, enum lex_kind kind,
                           const char *what, const char *key, struct px_err *err)
{
    if (!cJSON_IsArray(arr)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an array of objects", what, key);
    }
    size_t i = 0;
    for (const cJSON *o = arr->child; o != NULL; o = o->next, i++) {
        char where[160];
        snprintf(where, sizeof where, "%s: %s[%zu]", what, key, i);
        if (!cJSON_IsObject(o)) {
            return px_fail(err, PX_EFORMAT, "%s is not an object", where);
        }
        struct lex_entry t = {0};
        const char *concept = NULL, *dir = NULL, *op = NULL, *pos = NULL;
        int rc = jsonx_get_string(o, "concept", kind == LEX_SOFT, NULL, &concept, where, err);
        if (rc == PX_OK) {
            rc = jsonx_get_double(o, "weight", false, 1.0, 0.0, 100.0, &t.weight, where, err);
        }
        if (rc != PX_OK) {
            return rc;
        }
        enum lex_kind k = kind;
        if (kind == LEX_CMP) {
            rc = jsonx_get_string(o, "op", true, NULL, &op, where, err);
            if (rc == PX_OK) {
                rc = jsonx_get_string(o, "position", false, "before", &pos, where, err);
            }
            if (rc != PX_OK) {
                return rc;
            }
            if (!parse_op(op, &t.op)) {
                return px_fail(err, PX_EFORMAT, "%s: op \"%s\" is not lt/le/gt/ge/eq/ne", where,
                               op);
            }
            if (strcmp(pos, "after") == 0) {
                k = LEX_CMP_AFTER;
            } else if (strcmp(pos, "before") != 0) {
                return px_fail(err, PX_EFORMAT, "%s: position must be \"before\" or \"after\"",
                               where);
            }
        } else {
            const cJSON *range = cJSON_GetObjectItemCaseSensitive(o, "range");
            if (range != NULL) {
                if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2 ||
                    !cJSON_IsNumber(range->child) || !cJSON_IsNumber(range->child->next) ||
                    !isfinite(range->child->valuedouble) ||
                    !isfinite(range->child->next->valuedouble) ||
                    range->child->valuedouble > range->child->next->valuedouble) {
                    return px_fail(err, PX_EFORMAT, "%s: range must be [lo, hi], lo <= hi", where);
                }
                t.dir = 0;
                t.lo = range->child->valuedouble;
                t.hi = range->child->next->valuedouble;
                t.quantile = -1;
            } else {
                rc = jsonx_get_string(o, "direction", true, NULL, &dir, where, err);
                if (rc == PX_OK) {
                    rc = jsonx_get_double(o, "quantile", true, 0, 0, 1, &t.quantile, where, err);
                }
                if (rc != PX_OK) {
                    return rc;
                }
                if (strcmp(dir, "high") == 0) {
                    t.dir = 1;
                } else if (strcmp(dir, "low") == 0) {
                    t.dir = -1;
                } else {
                    return px_fail(err, PX_EFORMAT, "%s: direction must be \"high\" or \"low\"",
                                   where);
                }
            }
        }
        rc = lex_add_strings(lex, cJSON_GetObjectItemCaseSensitive(o, "words"), k, concept, &t,
                             where, "words", err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

// "numbers" / "decades": {word: value}.
static int lex_add_numbers(struct query_lexicon *lex, const cJSON *obj, enum lex_kind kind,
                           const char *what, const char *key, struct px_err *err)
{
    if (!cJSON_IsObject(obj)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an object of numbers", what, key);
    }
    for (const cJSON *it = obj->child; it != NULL; it = it->next) {
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
            it->valuedouble > 1e15 ||
            (kind == LEX_DECADE && (it->valuedouble < 10 || it->valuedouble > 90 ||
                                    fmod(it->valuedouble, 10) != 0))) {
            return px_fail(err, PX_EFORMAT, "%s: %s.\"%s\" is not a valid number", what, key,
                           it->string);
        }
        struct lex_entry t = {0};
        t.value = it->valuedouble;
        char where[160];
        snprintf(where, sizeof where, "%s: %s", what, key);
        int rc = lex_add(lex, kind, it->string, NULL, &t, where, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static int set_concept(char **slot, const cJSON *root, const char *key, const char *what,
                       struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v == NULL) {
        return PX_OK;
    }
    if (!cJSON_IsString(v)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be a string", what, key);
    }
    char *c = NULL;
    int rc = concept_build(v->valuestring, what, &c, err);
    if (rc == PX_OK) {
        px_free(*slot);
        *slot = c;
    }
    return rc;
}

// One constraint {"concept": "household size", "op": "eq", "value": 1 | "Married"}.
static int read_rcons(const cJSON *o, struct lex_rcons *c, const char *where, struct px_err *err)
{
    static const char *const k_ops[] = {"lt", "le", "gt", "ge", "eq", "ne", NULL, NULL, NULL,
                                        "contains", "not_contains", "is_true", "is_false"};
    const char *concept = NULL, *op = NULL;
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject(o)) {
        return px_fail(err, PX_EFORMAT, "%s: a constraint must be an object", where);
    }
    int rc = jsonx_get_string(o, "concept", true, NULL, &concept, where, err);
    if (rc == PX_OK) rc = jsonx_get_string(o, "op", true, NULL, &op, where, err);
    if (rc != PX_OK) {
        return rc;
    }
    int found = 0;
    for (size_t i = 0; i < sizeof k_ops / sizeof k_ops[0] && !found; i++) {
        if (k_ops[i] != NULL && strcmp(k_ops[i], op) == 0) {
            c->op = (enum query_op)i, found = 1;
        }
    }
    if (!found) {
        return px_fail(err, PX_EFORMAT, "%s: op \"%s\" is not lt/le/gt/ge/eq/ne/contains/"
                       "not_contains/is_true/is_false", where, op);
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
    int is_bool = c->op == QUERY_OP_IS_TRUE || c->op == QUERY_OP_IS_FALSE;
    int list_op = c->op == QUERY_OP_CONTAINS || c->op == QUERY_OP_NOT_CONTAINS;
    if (is_bool ? v != NULL
                : !(cJSON_IsString(v) && (list_op || c->op == QUERY_OP_EQ || c->op == QUERY_OP_NE)) &&
                      !(cJSON_IsNumber(v) && isfinite(v->valuedouble) && !list_op)) {
        return px_fail(err, PX_EFORMAT, "%s: \"value\" must be a number (lt..ne), a string (eq, "
                       "ne, contains, not_contains) or absent (is_true, is_false)", where);
    }
    rc = concept_build(concept, where, &c->concept, err);
    if (rc == PX_OK && cJSON_IsString(v)) {
        c->value = px_strdup(v->valuestring);
        if (c->value == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading %s", where);
        }
    } else if (rc == PX_OK && v != NULL) {
        c->num = v->valuedouble;
    }
    return rc;
}

// "readings": [{"words": [...], "means": [[constraint, ...], ...]}]: phrases whose meaning the
// book decides: the first alternative all of whose concepts (and values) the table has.
static int lex_add_readings(struct query_lexicon *lex, const cJSON *arr, const char *what,
                            struct px_err *err)
{
    if (!cJSON_IsArray(arr)) {
        return px_fail(err, PX_EFORMAT, "%s: \"readings\" must be an array of objects", what);
    }
    size_t i = 0;
    for (const cJSON *o = arr->child; o != NULL; o = o->next, i++) {
        char where[160];
        snprintf(where, sizeof where, "%s: readings[%zu]", what, i);
        const cJSON *means = cJSON_GetObjectItemCaseSensitive(o, "means");
        int n_alts = cJSON_IsArray(means) ? cJSON_GetArraySize(means) : -1;
        if (!cJSON_IsObject(o) || n_alts < 1 || n_alts > LIMIT_LEXICON_READING_ALTS) {
            return px_fail(err, PX_EFORMAT, "%s: needs \"words\" and \"means\": 1..%d "
                           "alternatives", where, LIMIT_LEXICON_READING_ALTS);
        }
        if (lex->n_rg == lex->cap_rg) {
            size_t cap = lex->cap_rg ? lex->cap_rg * 2 : 8;
            struct lex_rgroup *p = px_realloc(lex->rg, cap * sizeof *p);
            if (p == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory growing the lexicon");
            }
            lex->rg = p;
            lex->cap_rg = cap;
        }
        struct lex_rgroup *g = &lex->rg[lex->n_rg++];
        memset(g, 0, sizeof *g);
        for (const cJSON *alt = means->child; alt != NULL; alt = alt->next) {
            int n_cons = cJSON_IsArray(alt) ? cJSON_GetArraySize(alt) : -1;
            if (n_cons < 1 || n_cons > LIMIT_LEXICON_READING_CONS) {
                return px_fail(err, PX_EFORMAT, "%s: an alternative is an array of 1..%d "
                               "constraints", where, LIMIT_LEXICON_READING_CONS);
            }
            struct lex_ralt *a = &g->a[g->n++];
            a->n = 0;
            for (const cJSON *c = alt->child; c != NULL; c = c->next) {
                int rc = read_rcons(c, &a->c[a->n], where, err);
                if (a->c[a->n].concept != NULL || a->c[a->n].value != NULL) {
                    a->n++; // counted so rgroup_free releases what was read
                }
                if (rc != PX_OK) {
                    return rc;
                }
            }
        }
        struct lex_entry t = {0};
        t.rgroup = lex->n_rg - 1;
        int rc = lex_add_strings(lex, cJSON_GetObjectItemCaseSensitive(o, "words"), LEX_READING,
                                 NULL, &t, where, "words", err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    return PX_OK;
}

static int lex_merge_tree(struct query_lexicon *lex, const cJSON *root, const char *what,
                          struct px_err *err)
{
    if (!cJSON_IsObject(root)) {
        return px_fail(err, PX_EFORMAT, "%s: the lexicon must be a JSON object", what);
    }
    static const char *const k_known[] = {
        "format",  "version",   "concepts",   "people",   "people_concept", "currency_concept",
        "soft",    "modifiers", "comparators", "membership", "negation",     "fillers",
        "stopwords", "numbers", "decades",    "value_mention_weight", "readings"};
    for (const cJSON *it = root->child; it != NULL; it = it->next) {
        int known = it->string != NULL && it->string[0] == '_'; // "_comment" keys
        for (size_t i = 0; !known && i < sizeof k_known / sizeof k_known[0]; i++) {
            known = strcmp(it->string, k_known[i]) == 0;
        }
        if (!known) {
            return px_fail(err, PX_EFORMAT, "%s: unknown key \"%s\"", what, it->string);
        }
    }
    int64_t version = 1;
    int rc = jsonx_get_int(root, "version", false, 1, 1, 1, &version, what, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = jsonx_get_double(root, "value_mention_weight", false, lex->value_weight, 0, 100,
                          &lex->value_weight, what, err);
    if (rc != PX_OK) {
        return rc;
    }
    if ((rc = set_concept(&lex->people_concept, root, "people_concept", what, err)) != PX_OK ||
        (rc = set_concept(&lex->currency_concept, root, "currency_concept", what, err)) != PX_OK) {
        return rc;
    }
    const struct lex_entry none = {0};
    const cJSON *concepts = cJSON_GetObjectItemCaseSensitive(root, "concepts");
    if (concepts != NULL) {
        if (!cJSON_IsObject(concepts)) {
            return px_fail(err, PX_EFORMAT, "%s: \"concepts\" must be an object", what);
        }
        for (const cJSON *c = concepts->child; c != NULL; c = c->next) {
            char where[160];
            snprintf(where, sizeof where, "%s: concepts.\"%s\"", what, c->string);
            rc = lex_add(lex, LEX_ALIAS, c->string, c->string, &none, where, err);
            if (rc == PX_OK) {
                rc = lex_add_strings(lex, c, LEX_ALIAS, c->string, &none, where, "aliases", err);
            }
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    static const struct {
        const char *key;
        enum lex_kind kind;
    } k_lists[] = {
        {"people", LEX_PEOPLE},   {"membership", LEX_MEMBER}, {"negation", LEX_NEG},
        {"fillers", LEX_FILLER},  {"stopwords", LEX_STOP},
    };
    for (size_t i = 0; i < sizeof k_lists / sizeof k_lists[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, k_lists[i].key);
        if (a != NULL) {
            rc = lex_add_strings(lex, a, k_lists[i].kind, NULL, &none, what, k_lists[i].key, err);
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    static const struct {
        const char *key;
        enum lex_kind kind;
    } k_objs[] = {{"soft", LEX_SOFT}, {"modifiers", LEX_MODIFIER}, {"comparators", LEX_CMP}};
    for (size_t i = 0; i < sizeof k_objs / sizeof k_objs[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, k_objs[i].key);
        if (a != NULL) {
            rc = lex_add_objects(lex, a, k_objs[i].kind, what, k_objs[i].key, err);
            if (rc != PX_OK) {
                return rc;
            }
        }
    }
    const cJSON *nums = cJSON_GetObjectItemCaseSensitive(root, "numbers");
    if (nums != NULL && (rc = lex_add_numbers(lex, nums, LEX_NUMBER, what, "numbers", err))) {
        return rc;
    }
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decades");
    if (dec != NULL && (rc = lex_add_numbers(lex, dec, LEX_DECADE, what, "decades", err))) {
        return rc;
    }
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(root, "readings");
    if (rd != NULL && (rc = lex_add_readings(lex, rd, what, err)) != PX_OK) {
        return rc;
    }
    return PX_OK;
}

int query_lexicon_merge(struct query_lexicon *lex, const char *json, size_t len,
                        const char *what, struct px_err *err)
{
    if (len > LIMIT_LEXICON_BYTES) {
        return px_fail(err, PX_ELIMIT, "%s: larger than %u bytes (LIMIT_LEXICON_BYTES)", what,
                       LIMIT_LEXICON_BYTES);
    }
    cJSON *root = NULL; // owned; cJSON_Delete
    int rc = jsonx_parse(json, len, what, &root, err);
    if (rc == PX_OK) {
        rc = lex_merge_tree(lex, root, what, err);
    }
    cJSON_Delete(root);
    return rc;
}

int query_lexicon_parse(const char *json, size_t len, struct query_lexicon **out,
                        struct px_err *err)
{
    *out = NULL;
    struct query_lexicon *lex = px_calloc(1, sizeof *lex);
    if (lex == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating a lexicon");
    }
    lex->value_weight = 0.5;
    int rc = query_lexicon_merge(lex, json, len, "lexicon", err);
    if (rc != PX_OK) {
        query_lexicon_free(lex);
        return rc;
    }
    *out = lex;
    return PX_OK;
}

int query_lexicon_load(struct query_lexicon *lex, const char *path, struct px_err *err)
{
    cJSON *root = NULL;
    int rc = jsonx_parse_file(path, LIMIT_LEXICON_BYTES, &root, err);
    if (rc == PX_OK) {
        rc = lex_merge_tree(lex, root, path, err);
    }
    cJSON_Delete(root);
    return rc;
}
