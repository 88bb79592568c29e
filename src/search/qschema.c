// qschema.c — the table the query is parsed against (struct query_schema, query.h): columns,
// labels and names as phrases, categorical values, numeric distribution points, and the lookup
// of a lexicon concept ("income") to the first column whose words hold it.
//
// Built once per book (the app layer builds it when it opens a book) and immutable afterwards,
// so any number of parses may share it.
#include "query_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

int query_schema_new(struct query_schema **out, struct px_err *err)
{
    *out = px_calloc(1, sizeof **out);
    if (*out == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating a query schema");
    }
    return PX_OK;
}

static void col_free(struct qcol *c)
{
    px_free(c->name);
    px_free(c->label);
    qphrase_free(&c->ph_label);
    qphrase_free(&c->ph_name);
    px_free(c->stems);
    px_free(c->q);
    for (size_t i = 0; i < c->n_values; i++) {
        px_free(c->values[i].orig);
        qphrase_free(&c->values[i].ph);
    }
    px_free(c->values);
}

void query_schema_free(struct query_schema *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        col_free(&s->cols[i]);
    }
    px_free(s->cols);
    px_free(s);
}

size_t query_schema_n_columns(const struct query_schema *s) { return s->n; }
const char *query_schema_column_name(const struct query_schema *s, size_t i)
{
    return s->cols[i].name;
}
const char *query_schema_column_label(const struct query_schema *s, size_t i)
{
    return s->cols[i].label;
}
enum query_col_kind query_schema_column_kind(const struct query_schema *s, size_t i)
{
    return s->cols[i].kind;
}

// A phrase that is too long or wordless is simply never matched; only ENOMEM is an error.
static int phrase_build_soft(const char *s, int stop_paren, struct phrase *ph, struct px_err *err)
{
    struct px_err tmp = {0};
    int rc = qphrase_build(s, strlen(s), stop_paren, ph, &tmp);
    if (rc == PX_ENOMEM) {
        return px_fail(err, PX_ENOMEM, "%s", tmp.msg);
    }
    return PX_OK;
}

static int check_text(const char *s, const char *what, struct px_err *err)
{
    size_t bad = 0;
    if (s == NULL || s[0] == '\0') {
        return px_fail(err, PX_EINVAL, "%s is empty", what);
    }
    if (!utf8_valid((const unsigned char *)s, strlen(s), &bad)) {
        return px_fail(err, PX_EINVAL, "%s: invalid UTF-8 at byte %zu", what, bad);
    }
    return PX_OK;
}

// c->stems from the words of its label and name phrases (built once per book, so a parse
// compares word forms with one strstr).
static int col_stems(struct qcol *c, struct px_err *err)
{
    size_t cap = 2;
    const char *src[2] = {c->ph_label.text, c->ph_name.text};
    for (int k = 0; k < 2; k++) {
        cap += src[k] ? strlen(src[k]) + 1 : 0;
    }
    c->stems = px_malloc(cap);
    if (c->stems == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory indexing column '%s'", c->name);
    }
    size_t o = 0;
    c->stems[o++] = ' ';
    c->stems[o] = '\0';
    for (int k = 0; k < 2; k++) {
        for (const char *w = src[k]; w != NULL && *w;) {
            while (*w == ' ') {
                w++;
            }
            const char *e = w;
            while (*e && *e != ' ') {
                e++;
            }
            char st[QSTEM_BYTES + 2];
            size_t n = e > w ? qword_stem(w, (size_t)(e - w), st + 1, QSTEM_BYTES) : 0;
            st[0] = ' ';
            st[n + 1] = ' ';
            st[n + 2] = '\0';
            if (n > 0 && strstr(c->stems, st) == NULL && o + n + 1 < cap) {
                memcpy(c->stems + o, st + 1, n + 1);
                o += n + 1;
                c->stems[o] = '\0';
            }
            w = e;
        }
    }
    return PX_OK;
}

// Starts column name/label at the end of s (not yet counted in s->n; the caller commits it by
// incrementing s->n, or frees it with col_free).
static int col_begin(struct query_schema *s, const char *name, const char *label,
                     enum query_col_kind kind, struct qcol **out, struct px_err *err)
{
    int rc = check_text(name, "column name", err);
    if (rc == PX_OK && label != NULL) {
        rc = check_text(label, "column label", err);
    }
    if (rc != PX_OK) {
        return rc;
    }
    if (s->n >= LIMIT_QUERY_COLUMNS) {
        return px_fail(err, PX_ELIMIT, "more than %d columns (LIMIT_QUERY_COLUMNS)",
                       LIMIT_QUERY_COLUMNS);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->cols[i].name, name) == 0) {
            return px_fail(err, PX_EINVAL, "column '%s' added twice", name);
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct qcol *p = px_realloc(s->cols, cap * sizeof *p);
        if (p == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory growing the query schema");
        }
        s->cols = p;
        s->cap = cap;
    }
    struct qcol *c = &s->cols[s->n];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->scale = 1;
    c->name = px_strdup(name);
    c->label = px_strdup(label != NULL ? label : name);
    if (c->name == NULL || c->label == NULL) {
        col_free(c);
        return px_fail(err, PX_ENOMEM, "out of memory copying column '%s'", name);
    }
    if (label == NULL) { // humanise: "annual_income" → "Annual income"
        for (char *q = c->label; *q; q++) {
            if (*q == '_') {
                *q = ' ';
            }
        }
        c->label[0] = (char)(c->label[0] >= 'a' && c->label[0] <= 'z' ? c->label[0] - 32
                                                                        : c->label[0]);
    }
    rc = phrase_build_soft(c->label, 1, &c->ph_label, err);
    if (rc == PX_OK) {
        rc = phrase_build_soft(c->name, 1, &c->ph_name, err);
    }
    if (rc == PX_OK) {
        rc = col_stems(c, err);
    }
    if (rc != PX_OK) {
        col_free(c);
        return rc;
    }
    *out = c;
    return PX_OK;
}

int query_schema_add_numeric(struct query_schema *s, const char *name, const char *label,
                             enum query_unit unit, double scale, const double *quantiles,
                             size_t n_quantiles, struct px_err *err)
{
    if (n_quantiles < 2 || n_quantiles > LIMIT_QUERY_QUANTILES || quantiles == NULL) {
        return px_fail(err, PX_EINVAL, "column '%s': %zu quantiles, need 2..%d", name ? name : "?",
                       n_quantiles, LIMIT_QUERY_QUANTILES);
    }
    if (!isfinite(scale) || scale <= 0) {
        return px_fail(err, PX_EINVAL, "column '%s': scale must be a positive finite number",
                       name ? name : "?");
    }
    if (unit < QUERY_UNIT_NONE || unit > QUERY_UNIT_DATE) {
        return px_fail(err, PX_EINVAL, "column '%s': unknown unit %d", name ? name : "?",
                       (int)unit);
    }
    for (size_t i = 0; i < n_quantiles; i++) {
        if (!isfinite(quantiles[i]) || (i > 0 && quantiles[i] < quantiles[i - 1])) {
            return px_fail(err, PX_EINVAL,
                           "column '%s': quantile %zu is not finite or decreases", name ? name : "?",
                           i);
        }
    }
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, QUERY_COL_NUMERIC, &c, err);
    if (rc != PX_OK) {
        return rc;
    }
    c->unit = unit;
    c->scale = scale;
    c->q = px_malloc(n_quantiles * sizeof *c->q);
    if (c->q == NULL) {
        col_free(c);
        return px_fail(err, PX_ENOMEM, "out of memory copying quantiles of '%s'", name);
    }
    memcpy(c->q, quantiles, n_quantiles * sizeof *c->q);
    c->n_q = n_quantiles;
    s->n++;
    return PX_OK;
}

int query_schema_add_category(struct query_schema *s, const char *name, const char *label,
                              const char *const *values, size_t n_values, bool is_list,
                              struct px_err *err)
{
    if (n_values > LIMIT_QUERY_VALUES) {
        return px_fail(err, PX_ELIMIT, "column '%s': more than %d values (LIMIT_QUERY_VALUES)",
                       name ? name : "?", LIMIT_QUERY_VALUES);
    }
    for (size_t i = 0; i < n_values; i++) {
        size_t bad = 0;
        if (values[i] == NULL ||
            !utf8_valid((const unsigned char *)values[i], strlen(values[i]), &bad)) {
            return px_fail(err, PX_EINVAL, "column '%s': value %zu is NULL or invalid UTF-8",
                           name ? name : "?", i);
        }
    }
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, is_list ? QUERY_COL_LIST : QUERY_COL_CATEGORY, &c, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (n_values > 0) {
        c->values = px_calloc(n_values, sizeof *c->values);
        if (c->values == NULL) {
            col_free(c);
            return px_fail(err, PX_ENOMEM, "out of memory copying values of '%s'", name);
        }
    }
    for (size_t i = 0; i < n_values; i++) {
        struct qvalue *v = &c->values[c->n_values];
        v->orig = px_strdup(values[i]);
        if (v->orig == NULL) {
            col_free(c);
            return px_fail(err, PX_ENOMEM, "out of memory copying values of '%s'", name);
        }
        c->n_values++; // counted now so col_free releases it
        rc = phrase_build_soft(values[i], 0, &v->ph, err);
        if (rc != PX_OK) {
            col_free(c);
            return rc;
        }
        if (v->ph.text == NULL) { // empty or unmatchable: keep nothing
            px_free(v->orig);
            v->orig = NULL;
            c->n_values--;
            continue;
        }
        for (const char *q = v->ph.text; *q; q++) {
            v->has_alpha |= is_alpha((unsigned char)*q) || (unsigned char)*q >= 0x80;
        }
    }
    s->n++;
    return PX_OK;
}

int query_schema_add_bool(struct query_schema *s, const char *name, const char *label,
                          struct px_err *err)
{
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, QUERY_COL_BOOL, &c, err);
    if (rc == PX_OK) {
        s->n++;
    }
    return rc;
}

int query_schema_add_other(struct query_schema *s, const char *name, const char *label,
                           enum query_col_kind kind, struct px_err *err)
{
    if (kind != QUERY_COL_TEXT && kind != QUERY_COL_ID) {
        return px_fail(err, PX_EINVAL, "column '%s': add_other takes TEXT or ID",
                       name ? name : "?");
    }
    struct qcol *c = NULL;
    int rc = col_begin(s, name, label, kind, &c, err);
    if (rc == PX_OK) {
        s->n++;
    }
    return rc;
}

// Value at probability p in [0, 1], interpolated linearly between distribution points.
double qcol_quantile(const struct qcol *c, double p)
{
    double pos = p * (double)(c->n_q - 1);
    size_t i = (size_t)pos;
    if (i >= c->n_q - 1) {
        return c->q[c->n_q - 1];
    }
    double frac = pos - (double)i;
    return c->q[i] + frac * (c->q[i + 1] - c->q[i]);
}

// First column whose label or name contains the concept's words (padded phrase text), numeric
// columns first; -1 when none.
long qschema_resolve_concept(const struct query_schema *s, const char *concept, int numeric_only)
{
    if (concept == NULL) {
        return -1;
    }
    for (int pass = 0; pass < (numeric_only ? 1 : 2); pass++) {
        for (size_t i = 0; i < s->n; i++) {
            const struct qcol *c = &s->cols[i];
            int numeric = c->kind == QUERY_COL_NUMERIC;
            if ((pass == 0) != numeric || c->kind == QUERY_COL_TEXT || c->kind == QUERY_COL_ID) {
                continue;
            }
            if ((c->ph_label.text && strstr(c->ph_label.text, concept)) ||
                (c->ph_name.text && strstr(c->ph_name.text, concept))) {
                return (long)i;
            }
        }
    }
    return -1;
}

long qschema_word_column(const struct query_schema *s, const char *stem, int numeric_only,
                         long *alt, size_t *n_match)
{
    char key[QSTEM_BYTES + 3];
    long first = -1;
    *alt = -1;
    *n_match = 0;
    if (snprintf(key, sizeof key, " %s ", stem) >= (int)sizeof key) {
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct qcol *c = &s->cols[i];
        if ((numeric_only && c->kind != QUERY_COL_NUMERIC) || c->kind == QUERY_COL_TEXT ||
            c->kind == QUERY_COL_ID || c->stems == NULL || strstr(c->stems, key) == NULL) {
            continue;
        }
        if (first < 0) {
            first = (long)i;
        } else if (*alt < 0) {
            *alt = (long)i;
        }
        (*n_match)++;
    }
    return *n_match >= 3 ? -1 : first;
}

void query_schema_set_suggester(struct query_schema *s, const struct query_suggester *sg)
{
    if (sg != NULL) {
        s->sg = *sg;
    } else {
        memset(&s->sg, 0, sizeof s->sg);
    }
}

// Index of the value of column c spelled v (ASCII case ignored, or the same word form), or -1.
static long find_value(const struct qcol *c, const char *v)
{
    char a[QSTEM_BYTES], b[QSTEM_BYTES];
    qword_stem(v, strlen(v), a, sizeof a);
    for (size_t i = 0; i < c->n_values; i++) {
        const char *o = c->values[i].orig;
        size_t k = 0;
        while (o[k] && v[k] && lower((unsigned char)o[k]) == lower((unsigned char)v[k])) {
            k++;
        }
        if (o[k] == '\0' && v[k] == '\0') {
            return (long)i;
        }
        qword_stem(o, strlen(o), b, sizeof b);
        if (strchr(o, ' ') == NULL && strcmp(a, b) == 0) {
            return (long)i;
        }
    }
    return -1;
}

int qschema_resolve_alt(const struct query_schema *s, const struct lex_ralt *a, long *cols,
                        long *vals)
{
    for (size_t k = 0; k < a->n; k++) {
        const struct lex_rcons *rc = &a->c[k];
        int is_bool = rc->op == QUERY_OP_IS_TRUE || rc->op == QUERY_OP_IS_FALSE;
        long c = qschema_resolve_concept(s, rc->concept, rc->value == NULL && !is_bool);
        if (c < 0) {
            return 0;
        }
        const struct qcol *q = &s->cols[c];
        vals[k] = -1;
        if (is_bool) {
            if (q->kind != QUERY_COL_BOOL) {
                return 0;
            }
        } else if (rc->value == NULL) {
            if (q->kind != QUERY_COL_NUMERIC) {
                return 0;
            }
        } else {
            int list_op = rc->op == QUERY_OP_CONTAINS || rc->op == QUERY_OP_NOT_CONTAINS;
            if ((q->kind != QUERY_COL_CATEGORY && q->kind != QUERY_COL_LIST) ||
                (q->kind == QUERY_COL_LIST) != list_op ||
                (vals[k] = find_value(q, rc->value)) < 0) {
                return 0;
            }
        }
        cols[k] = c;
    }
    return a->n > 0;
}
