// dataset.c — CSV -> feature matrix (contract in dataset.h).
//
// Design:
//   - Two reads of the file through store/csvread (the import's CSV grammar). Build: read 1
//     infers each column's type with store/coltype and hashes every value (FNV-1a 64) so
//     uniqueness can be checked without keeping the strings; the spec follows from the types.
//     Read 2 is ml_dataset_apply: the same code that loads a scoring CSV through a saved spec,
//     so training and scoring cannot disagree about a value.
//   - ID-like = an integer or text column with at least ID_MIN_ROWS values, all distinct. Real
//     columns are never ID-like (continuous values are usually all distinct). A hash collision
//     can only make a column look non-unique, i.e. keep it as a feature: the safe side.
//   - The matrix grows by doubling (the row count is not known while loading a scoring file).
#include "dataset.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvread.h"
#include "limits.h"
#include "mem.h"

#define ID_MIN_ROWS 20

// ---- small helpers ----

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Days since 1970-01-01 of an ISO "YYYY-MM-DD" (proleptic Gregorian; Howard Hinnant's formula).
static double iso_days(const char *iso)
{
    int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (double)era * 146097.0 + doe - 719468.0;
}

static int add_note(struct ml_spec *spec, struct px_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int ml_spec_add_note(struct ml_spec *spec, const char *text, struct px_err *err)
{
    return add_note(spec, err, "%s", text);
}

static int add_note(struct ml_spec *spec, struct px_err *err, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **n = px_realloc(spec->notes, (spec->n_notes + 1) * sizeof *n);
    if (n == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    spec->notes = n;
    n[spec->n_notes] = px_strdup(line);
    if (n[spec->n_notes] == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    spec->n_notes++;
    return PX_OK;
}

void ml_spec_free(struct ml_spec *spec)
{
    if (spec == NULL) {
        return;
    }
    for (size_t i = 0; i < spec->n_features; i++) {
        px_free(spec->features[i].name);
        px_free(spec->features[i].column);
        px_free(spec->features[i].level);
    }
    for (size_t i = 0; i < spec->n_notes; i++) {
        px_free(spec->notes[i]);
    }
    px_free(spec->features);
    px_free(spec->notes);
    px_free(spec->target);
    px_free(spec->positive);
    px_free(spec->negative);
    px_free(spec->id_column);
    memset(spec, 0, sizeof *spec);
}

void ml_dataset_free(struct ml_dataset *ds)
{
    if (ds == NULL) {
        return;
    }
    if (ds->id != NULL) {
        for (size_t i = 0; i < ds->n_rows; i++) {
            px_free(ds->id[i]);
        }
    }
    px_free(ds->id);
    px_free(ds->x);
    px_free(ds->y);
    px_free(ds->line);
    memset(ds, 0, sizeof *ds);
}

const char *ml_dataset_row_name(const struct ml_dataset *ds, size_t row, char *out, size_t n)
{
    if (ds->id != NULL && ds->id[row] != NULL) {
        snprintf(out, n, "%s", ds->id[row]);
    } else {
        snprintf(out, n, "line %zu", ds->line[row]);
    }
    return out;
}

// ---- header checks shared by both reads ----

static int check_header(const char *path, size_t line, const char *const *f, const size_t *len,
                        size_t n, struct px_err *err)
{
    for (size_t j = 0; j < n; j++) {
        size_t bad = 0;
        if (len[j] == 0) {
            return px_fail(err, PX_EFORMAT, "%s: line %zu: header column %zu has an empty name",
                           path, line, j + 1);
        }
        if (len[j] > LIMIT_CSV_NAME_BYTES || coltype_check_utf8(f[j], len[j], &bad) != PX_OK) {
            return px_fail(err, PX_EFORMAT,
                           "%s: line %zu: header column %zu's name is too long or not UTF-8", path,
                           line, j + 1);
        }
        for (size_t k = 0; k < j; k++) {
            if (strcmp(f[k], f[j]) == 0) {
                return px_fail(err, PX_EFORMAT,
                               "%s: line %zu: header column %zu repeats the name '%s'", path, line,
                               j + 1, f[j]);
            }
        }
    }
    return PX_OK;
}

// ---- read 1 of a build: types and uniqueness ----

// The digit shape of a column's values, for postcode-like integers: how many values are plain
// digit strings of each width (no sign, no separator) and the distinct leading CODE_PREFIX
// digits of those at least CODE_MIN_WIDTH wide.
#define CODE_MIN_WIDTH 4
#define CODE_PREFIX 3
#define CODE_MIN_DISTINCT 50
#define CODE_WIDTH_SHARE 0.99
#define CODE_MAX_WIDTH 12

struct code_shape {
    size_t by_width[CODE_MAX_WIDTH + 1]; // plain digit values of each width
    struct coltype_distinct prefixes;    // owned: leading digits (sorted at the end)
    int width;                           // the most common width (make_spec)
    size_t n_width;                      // values of that width
};

struct scan {
    const char *path;
    size_t n_cols;
    char **names;                // owned: (n_cols)
    struct coltype_infer *infer; // owned: (n_cols)
    struct code_shape *shape;    // owned: (n_cols)
    uint64_t **hash;             // owned: (n_cols) arrays of (n_rows) value hashes
    size_t n_rows, cap_rows;
};

static int shape_add(struct code_shape *c, const char *v, size_t n, struct px_err *err);

static void scan_free(struct scan *s)
{
    for (size_t j = 0; j < s->n_cols; j++) {
        if (s->names) {
            px_free(s->names[j]);
        }
        if (s->infer) {
            coltype_infer_free(&s->infer[j]);
        }
        if (s->hash) {
            px_free(s->hash[j]);
        }
        if (s->shape) {
            for (size_t i = 0; i < s->shape[j].prefixes.n; i++) {
                px_free(s->shape[j].prefixes.v[i]);
            }
            px_free(s->shape[j].prefixes.v);
        }
    }
    px_free(s->shape);
    px_free(s->names);
    px_free(s->infer);
    px_free(s->hash);
}

static int scan_record(void *user, size_t index, size_t line, const char *const *f,
                       const size_t *len, size_t n, struct px_err *err)
{
    struct scan *s = user;
    if (index == 0) {
        int rc = check_header(s->path, line, f, len, n, err);
        if (rc != PX_OK) {
            return rc;
        }
        s->names = px_calloc(n, sizeof *s->names);
        s->infer = px_calloc(n, sizeof *s->infer);
        s->hash = px_calloc(n, sizeof *s->hash);
        s->shape = px_calloc(n, sizeof *s->shape);
        if (s->names == NULL || s->infer == NULL || s->hash == NULL || s->shape == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", s->path);
        }
        s->n_cols = n;
        for (size_t j = 0; j < n; j++) {
            coltype_infer_init(&s->infer[j]);
            s->names[j] = px_strndup(f[j], len[j]);
            if (s->names[j] == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory reading %s", s->path);
            }
        }
        return PX_OK;
    }
    if (n != s->n_cols) {
        return px_fail(err, PX_EFORMAT, "%s: line %zu: %zu fields, expected %zu (as in the header)",
                       s->path, line, n, s->n_cols);
    }
    if (s->n_rows >= LIMIT_CSV_ROWS) {
        return px_fail(err, PX_ELIMIT, "%s: more than %u data rows (LIMIT_CSV_ROWS)", s->path,
                       LIMIT_CSV_ROWS);
    }
    if (s->n_rows == s->cap_rows) {
        size_t cap = s->cap_rows ? 2 * s->cap_rows : 1024;
        for (size_t j = 0; j < s->n_cols; j++) {
            uint64_t *h = px_realloc(s->hash[j], cap * sizeof *h);
            if (h == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory reading %s", s->path);
            }
            s->hash[j] = h;
        }
        s->cap_rows = cap;
    }
    for (size_t j = 0; j < n; j++) {
        size_t bad = 0;
        if (coltype_check_utf8(f[j], len[j], &bad) != PX_OK) {
            return px_fail(err, PX_EUTF8, "%s: line %zu, column '%s': invalid UTF-8 at byte %zu",
                           s->path, line, s->names[j], bad + 1);
        }
        int rc = coltype_infer_add(&s->infer[j], f[j], len[j], err);
        if (rc != PX_OK) {
            return rc;
        }
        const char *v = f[j];
        size_t vl = len[j];
        while (vl > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) {
            vl--;
        }
        // an empty value hashes to 0 and is skipped by the uniqueness check
        s->hash[j][s->n_rows] = vl ? fnv1a(v, vl) | 1u : 0;
        if ((rc = shape_add(&s->shape[j], v, vl, err)) != PX_OK) {
            return rc;
        }
    }
    s->n_rows++;
    return PX_OK;
}

// Adds a value (trimmed) to a column's digit shape.
static int shape_add(struct code_shape *c, const char *v, size_t n, struct px_err *err)
{
    if (n == 0 || n > CODE_MAX_WIDTH) {
        return PX_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return PX_OK;
        }
    }
    c->by_width[n]++;
    if (n < CODE_MIN_WIDTH || c->prefixes.overflow) {
        return PX_OK;
    }
    for (size_t i = 0; i < c->prefixes.n; i++) {
        if (memcmp(c->prefixes.v[i], v, CODE_PREFIX) == 0) {
            return PX_OK;
        }
    }
    if (c->prefixes.n >= LIMIT_CATEGORY_VALUES) {
        c->prefixes.overflow = true;
        return PX_OK;
    }
    char **g = px_realloc(c->prefixes.v, (c->prefixes.n + 1) * sizeof *g);
    char *d = g ? px_strndup(v, CODE_PREFIX) : NULL;
    if (g != NULL) {
        c->prefixes.v = g;
    }
    if (d == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    c->prefixes.v[c->prefixes.n++] = d;
    return PX_OK;
}

// Distinct non-empty values of column j (sorts its hashes).
static size_t distinct_count(struct scan *s, size_t j)
{
    uint64_t *h = s->hash[j];
    qsort(h, s->n_rows, sizeof *h, cmp_u64);
    size_t n = 0;
    for (size_t i = 0; i < s->n_rows; i++) {
        n += h[i] != 0 && (i == 0 || h[i] != h[i - 1]);
    }
    return n;
}

// Postcode-like: an integer column whose values are plain digit strings of one width (at least
// CODE_MIN_WIDTH digits, in CODE_WIDTH_SHARE of the values), with at least CODE_MIN_DISTINCT
// distinct values and at most LIMIT_CATEGORY_VALUES distinct leading CODE_PREFIX digits: a code
// whose digits name a place, not a quantity (a count or an amount has values of many widths).
// Fills the shape's width and sorts its prefixes.
static bool postcode_like(struct scan *s, size_t j)
{
    struct code_shape *c = &s->shape[j];
    size_t best = 0;
    for (int w = 1; w <= CODE_MAX_WIDTH; w++) {
        if (c->by_width[w] > c->by_width[best]) {
            best = (size_t)w;
        }
    }
    c->width = (int)best;
    c->n_width = c->by_width[best];
    size_t nv = s->infer[j].n_values;
    if (best < CODE_MIN_WIDTH || c->prefixes.overflow || c->prefixes.n < 2 ||
        (double)c->n_width < CODE_WIDTH_SHARE * (double)nv ||
        distinct_count(s, j) < CODE_MIN_DISTINCT) {
        return false;
    }
    qsort(c->prefixes.v, c->prefixes.n, sizeof *c->prefixes.v, cmp_str);
    return true;
}

// Whether the list value f[0..n) ("A; B; C") holds item (items trimmed, compared exactly).
static bool list_has(const char *f, size_t n, const char *item)
{
    size_t il = strlen(item);
    const char *p = f, *end = f + n;
    while (p <= end) {
        const char *q = memchr(p, ';', (size_t)(end - p));
        if (q == NULL) {
            q = end;
        }
        const char *a = p, *b = q;
        while (a < b && (*a == ' ' || *a == '\t')) {
            a++;
        }
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) {
            b--;
        }
        if ((size_t)(b - a) == il && memcmp(a, item, il) == 0) {
            return true;
        }
        p = q + 1;
    }
    return false;
}

// Whether every non-empty value of column j differs from the others (sorts its hashes).
static bool all_distinct(struct scan *s, size_t j)
{
    uint64_t *h = s->hash[j];
    qsort(h, s->n_rows, sizeof *h, cmp_u64);
    for (size_t i = 1; i < s->n_rows; i++) {
        if (h[i] != 0 && h[i] == h[i - 1]) {
            return false;
        }
    }
    return true;
}

static int push_feature(struct ml_spec *spec, const char *column, const char *level,
                        enum coltype type, struct px_err *err)
{
    struct ml_feature *fs = px_realloc(spec->features, (spec->n_features + 1) * sizeof *fs);
    if (fs == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    spec->features = fs;
    struct ml_feature *ft = &fs[spec->n_features];
    memset(ft, 0, sizeof *ft);
    spec->n_features++;
    size_t nl = strlen(column) + (level ? strlen(level) + 2 : 1);
    ft->name = px_malloc(nl);
    ft->column = px_strdup(column);
    ft->level = level ? px_strdup(level) : NULL;
    if (ft->name == NULL || ft->column == NULL || (level && ft->level == NULL)) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (level) {
        snprintf(ft->name, nl, "%s=%s", column, level);
    } else {
        snprintf(ft->name, nl, "%s", column);
    }
    ft->type = type;
    ft->integer =
        level != NULL || type == COLTYPE_INTEGER || type == COLTYPE_BOOL || type == COLTYPE_DATE;
    ft->min = ft->max = NAN;
    return PX_OK;
}

// One feature per level of column name (a category's values, a list's items), in sorted order
// so the features do not depend on the order rows came in.
static int push_levels(struct ml_spec *spec, const char *name, char *const *levels, size_t n,
                       enum coltype t, struct px_err *err)
{
    char **lv = px_calloc(n ? n : 1, sizeof *lv);
    if (lv == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    memcpy(lv, levels, n * sizeof *lv);
    qsort(lv, n, sizeof *lv, cmp_str);
    int rc = PX_OK;
    for (size_t k = 0; rc == PX_OK && k < n; k++) {
        rc = push_feature(spec, name, lv[k], t, err);
    }
    px_free(lv);
    return rc;
}

static int bool_of(const char *s, int *out)
{
    struct coltype_value v;
    const char *why = NULL;
    if (coltype_parse(COLTYPE_BOOL, s, strlen(s), &v, &why) != PX_OK || v.missing) {
        return PX_EINVAL;
    }
    *out = (int)v.i;
    return PX_OK;
}

// The target's two classes into spec (positive, negative, target_bool).
// What the reader decided that the columns' notes do not say: rows without an id column are
// named by their line; a column mostly of European decimal commas ("1,60") is not numeric.
static int reader_notes(const struct scan *s, struct ml_spec *spec, struct px_err *err)
{
    int rc = PX_OK;
    if (spec->id_column == NULL) {
        rc = add_note(spec, err, "no id column: rows are named by their line (\"line N\")");
    }
    for (size_t j = 0; rc == PX_OK && j < s->n_cols; j++) {
        const struct coltype_infer *ci = &s->infer[j];
        if (ci->n_values > 0 && ci->n_dec_comma * 5 >= ci->n_values * 4) {
            rc = add_note(spec, err,
                          "'%s': European decimal commas ('1,5') are not read as numbers (the "
                          "column is %s); write them with '.'",
                          s->names[j], coltype_name(coltype_infer_result(ci)));
        }
    }
    return rc;
}

static int target_classes(const struct scan *s, size_t jt, const char *positive,
                          struct ml_spec *spec, struct px_err *err)
{
    const struct coltype_infer *ci = &s->infer[jt];
    const char *name = s->names[jt];
    if (ci->n_values == 0) {
        return px_fail(err, PX_EINVAL, "%s: the target column '%s' has no values", s->path, name);
    }
    if (coltype_infer_result(ci) == COLTYPE_BOOL) {
        bool seen[2] = {false, false};
        for (size_t i = 0; i < ci->values.n; i++) {
            int b = 0;
            if (bool_of(ci->values.v[i], &b) == PX_OK) {
                seen[b] = true;
            }
        }
        if (!seen[0] || !seen[1]) {
            return px_fail(err, PX_EINVAL,
                           "%s: the target column '%s' has a single class (every value is %s): "
                           "nothing to learn",
                           s->path, name, seen[1] ? "true" : "false");
        }
        int pos = 1;
        if (positive != NULL && bool_of(positive, &pos) != PX_OK) {
            return px_fail(err, PX_EINVAL,
                           "--positive '%s' is not a value of the yes/no target column '%s'",
                           positive, name);
        }
        spec->target_bool = true;
        spec->positive = px_strdup(pos ? "1" : "0");
        spec->negative = px_strdup(pos ? "0" : "1");
    } else {
        bool known = false; // a value of a column of more than two: one-vs-rest
        for (size_t i = 0; positive != NULL && i < ci->values.n; i++) {
            known = known || strcmp(ci->values.v[i], positive) == 0;
        }
        if ((ci->values.overflow || ci->values.n > 2) && positive != NULL &&
            (known || ci->values.overflow)) {
            size_t nl = strlen(positive) + 8;
            spec->positive = px_strdup(positive);
            spec->negative = px_malloc(nl);
            spec->target = px_strdup(name);
            if (spec->positive == NULL || spec->negative == NULL || spec->target == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory");
            }
            snprintf(spec->negative, nl, "not %s", positive);
            spec->one_vs_rest = true;
            return add_note(spec, err,
                            "target '%s': one-vs-rest: '%s' against the other %s%zu values", name,
                            positive, ci->values.overflow ? "over " : "",
                            ci->values.n > 0 ? ci->values.n - 1 : 0);
        }
        if (ci->values.overflow || ci->values.n > 2) {
            return px_fail(err, PX_EINVAL,
                           "%s: the target column '%s' is not binary: it has %s%zu distinct "
                           "values ('%s', '%s', '%s', ...); --positive VALUE trains one value "
                           "against the rest",
                           s->path, name, ci->values.overflow ? "over " : "", ci->values.n,
                           ci->values.v[0], ci->values.v[1], ci->values.v[2]);
        }
        if (ci->values.n < 2) {
            return px_fail(err, PX_EINVAL,
                           "%s: the target column '%s' has a single class (every value is "
                           "'%s'): nothing to learn",
                           s->path, name, ci->values.v[0]);
        }
        if (positive == NULL) {
            return px_fail(err, PX_EINVAL,
                           "the target column '%s' has the values '%s' and '%s': say which is the "
                           "positive class with --positive",
                           name, ci->values.v[0], ci->values.v[1]);
        }
        int ip = strcmp(positive, ci->values.v[0]) == 0   ? 0
                 : strcmp(positive, ci->values.v[1]) == 0 ? 1
                                                          : -1;
        if (ip < 0) {
            return px_fail(err, PX_EINVAL,
                           "--positive '%s' is not a value of the target column '%s' ('%s' or "
                           "'%s')",
                           positive, name, ci->values.v[0], ci->values.v[1]);
        }
        spec->positive = px_strdup(ci->values.v[ip]);
        spec->negative = px_strdup(ci->values.v[1 - ip]);
    }
    spec->target = px_strdup(name);
    if (spec->positive == NULL || spec->negative == NULL || spec->target == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    return PX_OK;
}

static int make_spec(struct scan *s, const struct ml_build_params *p, struct ml_spec *spec,
                     struct px_err *err)
{
    int rc = PX_OK;
    size_t jt = s->n_cols;
    for (size_t j = 0; j < s->n_cols; j++) {
        if (strcmp(s->names[j], p->target) == 0) {
            jt = j;
        }
    }
    if (jt == s->n_cols) {
        char cols[512] = "";
        for (size_t j = 0; j < s->n_cols && strlen(cols) < 400; j++) {
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s'%s'", j ? ", " : "",
                     s->names[j]);
        }
        return px_fail(err, PX_EINVAL, "%s: no target column '%s' (the columns are %s)", s->path,
                       p->target, cols);
    }
    for (size_t d = 0; d < p->n_drop; d++) {
        bool found = false;
        for (size_t j = 0; j < s->n_cols; j++) {
            found = found || strcmp(s->names[j], p->drop[d]) == 0;
        }
        if (!found) {
            return px_fail(err, PX_EINVAL, "--drop '%s': no such column in %s", p->drop[d],
                           s->path);
        }
    }
    rc = target_classes(s, jt, p->positive, spec, err);
    for (size_t j = 0; rc == PX_OK && j < s->n_cols; j++) {
        const char *name = s->names[j];
        const struct coltype_infer *ci = &s->infer[j];
        bool dropped = false;
        for (size_t d = 0; d < p->n_drop; d++) {
            dropped = dropped || strcmp(name, p->drop[d]) == 0;
        }
        if (j == jt) {
            continue;
        }
        if (dropped) {
            rc = add_note(spec, err, "'%s': left out (--drop)", name);
            continue;
        }
        if (ci->n_values == 0) {
            return px_fail(err, PX_EINVAL,
                           "%s: column '%s' has no values in any row; leave it out with --drop "
                           "'%s'",
                           s->path, name, name);
        }
        enum coltype t = coltype_infer_result(ci);
        bool id_like = (t == COLTYPE_INTEGER || t == COLTYPE_TEXT) && s->n_rows >= ID_MIN_ROWS &&
                       ci->n_values == s->n_rows && all_distinct(s, j);
        if (!ci->values.overflow && ci->values.n == 1) {
            rc =
                add_note(spec, err, "'%s': left out: constant ('%s' in every row that has a value)",
                         name, ci->values.v[0]);
        } else if (id_like) {
            rc = add_note(spec, err, "'%s': left out: ID-like (all %zu values distinct)%s", name,
                          s->n_rows, spec->id_column ? "" : "; used to name rows");
            if (rc == PX_OK && spec->id_column == NULL) {
                spec->id_column = px_strdup(name);
                rc = spec->id_column ? PX_OK : px_fail(err, PX_ENOMEM, "out of memory");
            }
        } else if (t == COLTYPE_LIST) {
            size_t nv = ci->items.n;
            rc = push_levels(spec, name, ci->items.v, nv, t, err);
            if (rc == PX_OK) {
                rc = add_note(spec, err, "'%s': list, multi-hot over %zu items", name, nv);
            }
        } else if (t == COLTYPE_TEXT) {
            rc = add_note(spec, err, "'%s': left out: %s values are not used as features yet", name,
                          coltype_name(t));
        } else if (t == COLTYPE_INTEGER && postcode_like(s, j)) {
            const struct code_shape *c = &s->shape[j];
            rc = add_note(spec, err,
                          "'%s': postcode-like (%zu distinct codes, %d digits wide in %zu of %zu "
                          "values): used as a category of its first %d digits (%zu areas), not "
                          "as a number",
                          name, distinct_count(s, j), c->width, c->n_width, ci->n_values,
                          CODE_PREFIX, c->prefixes.n);
            for (size_t k = 0; rc == PX_OK && k < c->prefixes.n; k++) {
                rc = push_feature(spec, name, c->prefixes.v[k], t, err);
            }
        } else if (t == COLTYPE_CATEGORY) {
            size_t nv = ci->values.n;
            rc = push_levels(spec, name, ci->values.v, nv, t, err);
            if (rc == PX_OK) {
                rc = add_note(spec, err, "'%s': category, one-hot over %zu levels", name, nv);
            }
        } else {
            rc = push_feature(spec, name, NULL, t, err);
        }
    }
    if (rc == PX_OK)
        rc = reader_notes(s, spec, err);
    if (rc == PX_OK && spec->n_features == 0) {
        rc = px_fail(err, PX_EINVAL, "%s: no column is usable as a feature", s->path);
    }
    if (rc == PX_OK && spec->n_features >= s->n_rows) {
        rc = px_fail(err, PX_EINVAL,
                     "%s: %zu features from %zu rows: more features than rows, nothing to learn "
                     "reliably",
                     s->path, spec->n_features, s->n_rows);
    }
    return rc;
}

// ---- loading through a spec ----

struct load {
    const char *path;
    const struct ml_spec *spec;
    bool need_target;
    bool training;   // empty target values are errors
    size_t *src;     // owned: (n_features) column index of each feature
    size_t i_target; // column index, or SIZE_MAX
    size_t i_id;     // column index, or SIZE_MAX
    size_t n_cols;
    char **names; // owned: (n_cols)
    struct ml_dataset *ds;
    size_t cap;
    ml_dataset_progress_fn progress; // NULL, or told the lines read every LOAD_PROGRESS_ROWS
    void *progress_user;
    size_t total_lines;              // the file's lines, counted before the read (progress)
};

// How often a load with a progress callback reports.
#define LOAD_PROGRESS_ROWS 4096

static int load_header(struct load *l, size_t line, const char *const *f, const size_t *len,
                       size_t n, struct px_err *err)
{
    const struct ml_spec *spec = l->spec;
    int rc = check_header(l->path, line, f, len, n, err);
    if (rc != PX_OK) {
        return rc;
    }
    l->names = px_calloc(n, sizeof *l->names);
    l->src = px_calloc(spec->n_features ? spec->n_features : 1, sizeof *l->src);
    if (l->names == NULL || l->src == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
    }
    l->n_cols = n;
    l->i_target = l->i_id = SIZE_MAX;
    for (size_t j = 0; j < n; j++) {
        l->names[j] = px_strndup(f[j], len[j]);
        if (l->names[j] == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
        }
        if (spec->target && strcmp(f[j], spec->target) == 0) {
            l->i_target = j;
        }
        if (spec->id_column && strcmp(f[j], spec->id_column) == 0) {
            l->i_id = j;
        }
    }
    for (size_t k = 0; k < spec->n_features; k++) {
        l->src[k] = SIZE_MAX;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(f[j], spec->features[k].column) == 0) {
                l->src[k] = j;
            }
        }
        if (l->src[k] == SIZE_MAX) {
            return px_fail(err, PX_EINVAL, "%s: the model needs the column '%s', which is missing",
                           l->path, spec->features[k].column);
        }
    }
    if (l->need_target && l->i_target == SIZE_MAX) {
        return px_fail(err, PX_EINVAL, "%s: no target column '%s'", l->path,
                       spec->target ? spec->target : "?");
    }
    if (l->i_target != SIZE_MAX) {
        l->ds->y = px_malloc(1);
        if (l->ds->y == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
        }
    }
    if (l->i_id != SIZE_MAX) {
        l->ds->id = px_malloc(1);
        if (l->ds->id == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
        }
    }
    return PX_OK;
}

static int grow(struct load *l, struct px_err *err)
{
    struct ml_dataset *ds = l->ds;
    size_t cap = l->cap ? 2 * l->cap : 1024;
    size_t nf = l->spec->n_features;
    if (cap > SIZE_MAX / sizeof(float) / (nf ? nf : 1)) {
        return px_fail(err, PX_ELIMIT, "%s: too many rows", l->path);
    }
    float *x = px_realloc(ds->x, cap * nf * sizeof *x);
    if (x == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory reading %s (%zu rows)", l->path, ds->n_rows);
    }
    ds->x = x;
    size_t *line = px_realloc(ds->line, cap * sizeof *line);
    if (line == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
    }
    ds->line = line;
    if (ds->y != NULL) {
        float *y = px_realloc(ds->y, cap * sizeof *y);
        if (y == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
        }
        ds->y = y;
    }
    if (ds->id != NULL) {
        char **id = px_realloc(ds->id, cap * sizeof *id);
        if (id == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
        }
        ds->id = id;
    }
    l->cap = cap;
    return PX_OK;
}

static int load_target(struct load *l, size_t line, const char *s, size_t len, float *out,
                       struct px_err *err)
{
    const struct ml_spec *spec = l->spec;
    struct coltype_value v;
    const char *why = NULL;
    coltype_parse(COLTYPE_CATEGORY, s, len, &v, &why); // trims
    if (v.len == 0) {
        if (l->training) {
            return px_fail(err, PX_EINVAL, "%s: line %zu: the target '%s' is empty", l->path, line,
                           spec->target);
        }
        *out = NAN;
        return PX_OK;
    }
    if (spec->target_bool) {
        if (coltype_parse(COLTYPE_BOOL, s, len, &v, &why) != PX_OK) {
            return coltype_value_error(err, line, spec->target, s, len, why);
        }
        *out = (v.i != 0) == (spec->positive[0] == '1') ? 1.0f : 0.0f;
        return PX_OK;
    }
    if (v.len == strlen(spec->positive) && memcmp(v.s, spec->positive, v.len) == 0) {
        *out = 1.0f;
    } else if (spec->one_vs_rest) {
        *out = 0.0f;
    } else if (v.len == strlen(spec->negative) && memcmp(v.s, spec->negative, v.len) == 0) {
        *out = 0.0f;
    } else {
        return px_fail(err, PX_EINVAL, "%s: line %zu: target '%s' is '%.*s', neither '%s' nor '%s'",
                       l->path, line, spec->target, (int)(v.len > 64 ? 64 : v.len), v.s,
                       spec->positive, spec->negative);
    }
    return PX_OK;
}

static int load_record(void *user, size_t index, size_t line, const char *const *f,
                       const size_t *len, size_t n, struct px_err *err)
{
    struct load *l = user;
    if (index == 0) {
        return load_header(l, line, f, len, n, err);
    }
    if (l->progress != NULL && index % LOAD_PROGRESS_ROWS == 0) {
        l->progress(line < l->total_lines ? line : l->total_lines, l->total_lines,
                    l->progress_user);
    }
    struct ml_dataset *ds = l->ds;
    const struct ml_spec *spec = l->spec;
    if (n != l->n_cols) {
        return px_fail(err, PX_EFORMAT, "%s: line %zu: %zu fields, expected %zu (as in the header)",
                       l->path, line, n, l->n_cols);
    }
    if (ds->n_rows >= LIMIT_CSV_ROWS) {
        return px_fail(err, PX_ELIMIT, "%s: more than %u data rows (LIMIT_CSV_ROWS)", l->path,
                       LIMIT_CSV_ROWS);
    }
    int rc = PX_OK;
    if (ds->n_rows == l->cap && (rc = grow(l, err)) != PX_OK) {
        return rc;
    }
    size_t r = ds->n_rows;
    float *x = ds->x + r * spec->n_features;
    for (size_t k = 0; k < spec->n_features; k++) {
        const struct ml_feature *ft = &spec->features[k];
        size_t j = l->src[k];
        struct coltype_value v;
        const char *why = NULL;
        if (ft->level != NULL && ft->type == COLTYPE_LIST) {
            x[k] = list_has(f[j], len[j], ft->level) ? 1.0f : 0.0f;
            continue;
        }
        if (ft->level != NULL && ft->type == COLTYPE_INTEGER) { // a postcode's area
            coltype_parse(COLTYPE_CATEGORY, f[j], len[j], &v, &why);
            size_t pl = strlen(ft->level);
            x[k] = v.len == 0                                                ? NAN
                   : v.len > pl && memcmp(v.s, ft->level, pl) == 0           ? 1.0f
                                                                             : 0.0f;
            continue;
        }
        if (ft->level != NULL) {
            coltype_parse(COLTYPE_CATEGORY, f[j], len[j], &v, &why);
            x[k] = v.len == 0                                                           ? NAN
                   : (v.len == strlen(ft->level) && memcmp(v.s, ft->level, v.len) == 0) ? 1.0f
                                                                                        : 0.0f;
            continue;
        }
        if (coltype_parse(ft->type, f[j], len[j], &v, &why) != PX_OK) {
            coltype_value_error(err, line, ft->column, f[j], len[j], why);
            return px_err_prefix(err, "%s", l->path);
        }
        double d = NAN;
        if (!v.missing) {
            if (ft->type == COLTYPE_DATE) {
                d = iso_days(v.date);
            } else if (strcmp(coltype_sql_type(ft->type), "INTEGER") == 0) {
                d = (double)v.i;
            } else {
                d = v.d;
            }
        }
        x[k] = (float)d;
    }
    if (ds->y != NULL) {
        rc = load_target(l, line, f[l->i_target], len[l->i_target], &ds->y[r], err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    if (ds->id != NULL) {
        struct coltype_value v;
        const char *why = NULL;
        coltype_parse(COLTYPE_TEXT, f[l->i_id], len[l->i_id], &v, &why);
        ds->id[r] =
            px_strndup(v.s, v.len > LIMIT_CUSTOMER_ID_BYTES ? LIMIT_CUSTOMER_ID_BYTES : v.len);
        if (ds->id[r] == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory reading %s", l->path);
        }
    }
    ds->line[r] = line;
    ds->n_rows++;
    if (ds->y != NULL) {
        ds->n_pos += ds->y[r] == 1.0f;
        ds->n_neg += ds->y[r] == 0.0f;
    }
    return PX_OK;
}

// Where apply's records come from: the CSV file at path, data (size bytes), or produce.
struct records {
    const void *data;
    size_t size;
    ml_records_fn produce;
    void *user;
    ml_dataset_progress_fn progress; // files only
    void *progress_user;
};

// The lines of the file at path (a last line without '\n' counts), for a progress bar's total;
// 0 when it cannot be read (the read itself then says why).
static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    char chunk[1 << 16];
    size_t n, lines = 0;
    char last = '\n';
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (const char *p = chunk; (p = memchr(p, '\n', (size_t)(chunk + n - p))) != NULL; p++) {
            lines++;
        }
        last = chunk[n - 1];
    }
    fclose(f);
    return lines + (last != '\n');
}

static int apply(const char *path, const struct records *src, const struct ml_spec *spec,
                 bool need_target, bool training, struct ml_dataset *ds, struct px_err *err)
{
    struct load l;
    memset(&l, 0, sizeof l);
    memset(ds, 0, sizeof *ds);
    if (src->progress != NULL && src->produce == NULL && src->data == NULL) {
        l.progress = src->progress;
        l.progress_user = src->progress_user;
        l.total_lines = count_lines(path);
    }
    l.path = path;
    l.spec = spec;
    l.need_target = need_target;
    l.training = training;
    l.ds = ds;
    ds->n_features = spec->n_features;
    int rc = src->produce != NULL ? src->produce(src->user, load_record, &l, err)
             : src->data != NULL  ? csvread_memory(src->data, src->size, path, load_record, &l, err)
                                  : csvread_file(path, load_record, &l, err);
    if (rc == PX_OK && l.names == NULL) {
        rc = px_fail(err, PX_EFORMAT, "%s: the file is empty (no header row)", path);
    }
    if (rc == PX_OK && ds->n_rows == 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: a header but no data rows", path);
    }
    if (rc == PX_OK && l.progress != NULL) {
        l.progress(l.total_lines, l.total_lines, l.progress_user);
    }
    for (size_t j = 0; j < l.n_cols; j++) {
        px_free(l.names[j]);
    }
    px_free(l.names);
    px_free(l.src);
    if (rc != PX_OK) {
        ml_dataset_free(ds);
    }
    return rc;
}

int ml_dataset_apply(const char *path, const struct ml_spec *spec, bool need_target,
                     struct ml_dataset *ds, struct px_err *err)
{
    const struct records src = {0};
    return apply(path, &src, spec, need_target, false, ds, err);
}

int ml_dataset_apply_progress(const char *path, const struct ml_spec *spec, bool need_target,
                              ml_dataset_progress_fn progress, void *user, struct ml_dataset *ds,
                              struct px_err *err)
{
    const struct records src = {.progress = progress, .progress_user = user};
    return apply(path, &src, spec, need_target, false, ds, err);
}

int ml_dataset_apply_memory(const void *data, size_t size, const char *name,
                            const struct ml_spec *spec, bool need_target, struct ml_dataset *ds,
                            struct px_err *err)
{
    const struct records src = {.data = data, .size = size};
    return apply(name, &src, spec, need_target, false, ds, err);
}

int ml_dataset_apply_records(const char *name, const struct ml_spec *spec, bool need_target,
                             ml_records_fn produce, void *user, struct ml_dataset *ds,
                             struct px_err *err)
{
    const struct records src = {.produce = produce, .user = user};
    return apply(name, &src, spec, need_target, false, ds, err);
}

int ml_dataset_build(const char *path, const struct ml_build_params *params, struct ml_spec *spec,
                     struct ml_dataset *ds, struct px_err *err)
{
    struct scan s;
    memset(&s, 0, sizeof s);
    memset(spec, 0, sizeof *spec);
    memset(ds, 0, sizeof *ds);
    s.path = path;
    int rc = PX_EINVAL;
    if (params == NULL || params->target == NULL) {
        rc = px_fail(err, PX_EINVAL, "no target column given");
        goto done;
    }
    rc = csvread_file(path, scan_record, &s, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (s.names == NULL) {
        rc = px_fail(err, PX_EFORMAT, "%s: the file is empty (no header row)", path);
        goto done;
    }
    if (s.n_rows == 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: a header but no data rows", path);
        goto done;
    }
    rc = make_spec(&s, params, spec, err);
    if (rc != PX_OK) {
        goto done;
    }
    scan_free(&s); // before the second read: the hashes are the biggest thing held
    memset(&s, 0, sizeof s);
    rc = apply(path, &(const struct records){0}, spec, true, true, ds, err);
    if (rc != PX_OK) {
        goto done;
    }
    for (size_t k = 0; k < spec->n_features; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t r = 0; r < ds->n_rows; r++) {
            float v = ds->x[r * ds->n_features + k];
            if (!isnan(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
        spec->features[k].min = lo <= hi ? lo : NAN;
        spec->features[k].max = lo <= hi ? hi : NAN;
    }
    rc = PX_OK;
done:
    scan_free(&s);
    if (rc != PX_OK) {
        ml_spec_free(spec);
        ml_dataset_free(ds);
    }
    return rc;
}
