// filter.c — see filter.h. Values a plan names come from the schema's spelling and are matched
// to the table's dictionaries ASCII-case-insensitively, so "private" finds "Private".
// filter_apply evaluates one filter at a time over the candidate bitmap, 64 rows (a word) at a
// time, walking only the set bits and with the plan's values resolved to codes / masks once:
// each filter costs what the filters before it left. filter_row (boosts) is the per-row twin.
// The table is filled in memory or mapped from a book's index file (coltable_save / _open).
#include "filter.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "limits.h"
#include "strparse.h"

#define CODE_MISSING UINT32_MAX
#define LIST_PRESENT ((uint64_t)1 << 63)

struct column {
    char *name;     // owned: the column's name, for error messages
    enum query_col_kind kind;
    double *num;    // NUMERIC: (n_rows)
    uint32_t *code; // CATEGORY: (n_rows)
    uint64_t *mask; // LIST: (n_rows)
    int8_t *flag;   // BOOL: (n_rows)
    char **dict;    // CATEGORY / LIST: owned strings
    size_t n_dict, cap_dict;
};

struct coltable {
    size_t n_rows, n_cols;
    size_t cap_rows;     // rows allocated (coltable_set_rows may shrink n_rows below it)
    struct column *cols; // (n_cols)
    bool mapped;         // the value arrays and dictionary strings point into a mapfile
};

int coltable_new(const struct query_schema *schema, size_t n_rows, struct coltable **out,
                 struct px_err *err)
{
    size_t n_cols = query_schema_n_columns(schema);
    const char **names = px_calloc(n_cols ? n_cols : 1, sizeof *names);
    enum query_col_kind *kinds = px_calloc(n_cols ? n_cols : 1, sizeof *kinds);
    int rc = PX_OK;
    *out = NULL;
    if (names == NULL || kinds == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory building a %zu-row filter table", n_rows);
    }
    for (size_t i = 0; rc == PX_OK && i < n_cols; i++) {
        names[i] = query_schema_column_name(schema, i);
        kinds[i] = query_schema_column_kind(schema, i);
    }
    if (rc == PX_OK) {
        rc = coltable_new_columns(names, kinds, n_cols, n_rows, out, err);
    }
    px_free(names);
    px_free(kinds);
    return rc;
}

int coltable_new_columns(const char *const *names, const enum query_col_kind *kinds,
                         size_t n_cols, size_t n_rows, struct coltable **out, struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct coltable *t = px_calloc(1, sizeof *t);
    *out = NULL;
    if (t == NULL) {
        goto done;
    }
    t->n_rows = t->cap_rows = n_rows;
    t->n_cols = n_cols;
    t->cols = px_calloc(t->n_cols ? t->n_cols : 1, sizeof *t->cols);
    if (t->cols == NULL) {
        goto done;
    }
    size_t n = n_rows ? n_rows : 1;
    for (size_t i = 0; i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        c->kind = kinds[i];
        c->name = px_strdup(names[i] ? names[i] : "");
        if (c->name == NULL) goto done;
        switch (c->kind) {
        case QUERY_COL_NUMERIC:
            c->num = px_malloc(n * sizeof *c->num);
            if (c->num == NULL) goto done;
            for (size_t r = 0; r < n_rows; r++) c->num[r] = NAN;
            break;
        case QUERY_COL_CATEGORY:
            c->code = px_malloc(n * sizeof *c->code);
            if (c->code == NULL) goto done;
            for (size_t r = 0; r < n_rows; r++) c->code[r] = CODE_MISSING;
            break;
        case QUERY_COL_LIST:
            c->mask = px_calloc(n, sizeof *c->mask);
            if (c->mask == NULL) goto done;
            break;
        case QUERY_COL_BOOL:
            c->flag = px_malloc(n * sizeof *c->flag);
            if (c->flag == NULL) goto done;
            memset(c->flag, -1, n * sizeof *c->flag);
            break;
        case QUERY_COL_TEXT:
        case QUERY_COL_ID:
            break;
        }
    }
    *out = t;
    t = NULL;
    rc = PX_OK;
done:
    if (rc != PX_OK) {
        px_fail(err, rc, "out of memory building a %zu-row filter table", n_rows);
    }
    coltable_free(t);
    return rc;
}

void coltable_free(struct coltable *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; t->cols != NULL && i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        px_free(c->name);
        if (t->mapped) {
            px_free(c->dict); // the pointer array only: the strings are the map's
            continue;
        }
        px_free(c->num);
        px_free(c->code);
        px_free(c->mask);
        px_free(c->flag);
        for (size_t k = 0; k < c->n_dict; k++) {
            px_free(c->dict[k]);
        }
        px_free(c->dict);
    }
    px_free(t->cols);
    px_free(t);
}

size_t coltable_rows(const struct coltable *t) { return t->n_rows; }

int coltable_set_rows(struct coltable *t, size_t n_rows, struct px_err *err)
{
    if (n_rows > t->cap_rows) {
        return px_fail(err, PX_EINVAL, "filter table: %zu rows asked of a table made for %zu",
                       n_rows, t->cap_rows);
    }
    t->n_rows = n_rows;
    return PX_OK;
}

const double *coltable_numbers(const struct coltable *t, size_t i_col)
{
    return i_col < t->n_cols ? t->cols[i_col].num : NULL;
}

static int check(const struct coltable *t, size_t row, size_t i_col, enum query_col_kind k1,
                 enum query_col_kind k2, struct px_err *err)
{
    if (row >= t->n_rows || i_col >= t->n_cols) {
        return px_fail(err, PX_EINVAL, "filter table: row %zu / column %zu out of range", row,
                       i_col);
    }
    if (t->cols[i_col].kind != k1 && t->cols[i_col].kind != k2) {
        return px_fail(err, PX_EINVAL, "filter table: column '%s' does not hold this kind",
                       t->cols[i_col].name);
    }
    return PX_OK;
}

// Code of s (len bytes, trimmed by the caller) in c's dictionary, adding it when absent. Values
// differing only in ASCII case share a code (the first spelling is kept), as plans match them.
static int intern(struct column *c, const char *s, size_t len, uint32_t *code,
                  struct px_err *err)
{
    for (size_t k = 0; k < c->n_dict; k++) {
        if (strlen(c->dict[k]) == len && strncasecmp(c->dict[k], s, len) == 0) {
            *code = (uint32_t)k;
            return PX_OK;
        }
    }
    if (c->n_dict == c->cap_dict) {
        size_t cap = c->cap_dict ? c->cap_dict * 2 : 16;
        char **d = px_realloc(c->dict, cap * sizeof *d);
        if (d == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory growing a value dictionary");
        }
        c->dict = d;
        c->cap_dict = cap;
    }
    c->dict[c->n_dict] = px_strndup(s, len);
    if (c->dict[c->n_dict] == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory growing a value dictionary");
    }
    *code = (uint32_t)c->n_dict++;
    return PX_OK;
}

int coltable_set_number(struct coltable *t, size_t row, size_t i_col, double v,
                        struct px_err *err)
{
    int rc = check(t, row, i_col, QUERY_COL_NUMERIC, QUERY_COL_NUMERIC, err);
    if (rc == PX_OK) {
        t->cols[i_col].num[row] = isfinite(v) ? v : NAN;
    }
    return rc;
}

int coltable_set_bool(struct coltable *t, size_t row, size_t i_col, int v, struct px_err *err)
{
    int rc = check(t, row, i_col, QUERY_COL_BOOL, QUERY_COL_BOOL, err);
    if (rc == PX_OK) {
        t->cols[i_col].flag[row] = (int8_t)(v < 0 ? -1 : v != 0);
    }
    return rc;
}

int coltable_set_text(struct coltable *t, size_t row, size_t i_col, const char *s,
                      struct px_err *err)
{
    int rc = check(t, row, i_col, QUERY_COL_CATEGORY, QUERY_COL_LIST, err);
    if (rc != PX_OK || s == NULL || s[0] == '\0') {
        return rc;
    }
    struct column *c = &t->cols[i_col];
    if (c->kind == QUERY_COL_CATEGORY) {
        return intern(c, s, strlen(s), &c->code[row], err);
    }
    uint64_t mask = 0;
    const char *p = s, *item = NULL;
    size_t len = 0;
    while (strparse_list_item(&p, &item, &len)) {
        uint32_t code = 0;
        rc = intern(c, item, len, &code, err);
        if (rc != PX_OK) {
            return rc;
        }
        if (code >= COLTABLE_MAX_LIST_VALUES) {
            return px_fail(err, PX_ELIMIT, "column '%s' has more than %d distinct list values",
                           t->cols[i_col].name, COLTABLE_MAX_LIST_VALUES);
        }
        mask |= (uint64_t)1 << code;
    }
    c->mask[row] = mask != 0 ? mask | LIST_PRESENT : 0;
    return PX_OK;
}

// ---- evaluation ----

// Dictionary code of a plan value, or CODE_MISSING when no row holds it.
static uint32_t lookup(const struct column *c, const char *v)
{
    for (size_t k = 0; k < c->n_dict; k++) {
        if (strcasecmp(c->dict[k], v) == 0) {
            return (uint32_t)k;
        }
    }
    return CODE_MISSING;
}

static bool num_test(enum query_op op, double x, double lo, double hi)
{
    switch (op) {
    case QUERY_OP_LT: return x < lo;
    case QUERY_OP_LE: return x <= lo;
    case QUERY_OP_GT: return x > lo;
    case QUERY_OP_GE: return x >= lo;
    case QUERY_OP_EQ: return x == lo;
    case QUERY_OP_NE: return x != lo;
    case QUERY_OP_BETWEEN: return x >= lo && x <= hi;
    default: return false;
    }
}

// Bit mask (list) or membership test (category) of a filter's values.
static uint64_t values_mask(const struct column *c, const char *const *values, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t code = lookup(c, values[i]);
        if (code != CODE_MISSING && code < COLTABLE_MAX_LIST_VALUES) {
            m |= (uint64_t)1 << code;
        }
    }
    return m;
}

void filter_prepare(const struct coltable *t, const struct query_filter *f,
                    struct filter_prepared *p)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    if (f->i_col >= t->n_cols) {
        return;
    }
    const struct column *c = &t->cols[f->i_col];
    if (c->kind == QUERY_COL_LIST) {
        p->mask = values_mask(c, f->values, f->n_values);
    } else if (c->kind == QUERY_COL_CATEGORY) {
        for (size_t i = 0; i < f->n_values && i < LIMIT_QUERY_FILTER_VALUES; i++) {
            uint32_t code = lookup(c, f->values[i]);
            if (code != CODE_MISSING) {
                p->codes[p->n_codes++] = code;
            }
        }
    }
}

bool filter_prepared_row(const struct coltable *t, const struct filter_prepared *p, size_t row)
{
    const struct query_filter *f = p->f;
    if (f->i_col >= t->n_cols || row >= t->n_rows) {
        return false;
    }
    const struct column *c = &t->cols[f->i_col];
    switch (c->kind) {
    case QUERY_COL_NUMERIC: {
        double x = c->num[row];
        return !isnan(x) && num_test(f->op, x, f->lo, f->hi);
    }
    case QUERY_COL_CATEGORY: {
        uint32_t code = c->code[row];
        if (code >= c->n_dict) { // CODE_MISSING (or a damaged index file's code)
            return false;
        }
        bool in = false;
        for (size_t i = 0; i < p->n_codes && !in; i++) {
            in = p->codes[i] == code;
        }
        switch (f->op) {
        case QUERY_OP_EQ:
        case QUERY_OP_IN:
        case QUERY_OP_CONTAINS: return in;
        case QUERY_OP_NE:
        case QUERY_OP_NOT_IN:
        case QUERY_OP_NOT_CONTAINS: return !in;
        default: return false;
        }
    }
    case QUERY_COL_LIST: {
        uint64_t held = c->mask[row], want = p->mask;
        if (held == 0) {
            return false; // missing
        }
        switch (f->op) {
        case QUERY_OP_CONTAINS:
        case QUERY_OP_EQ:
        case QUERY_OP_IN: return (held & want) != 0;
        case QUERY_OP_NOT_CONTAINS:
        case QUERY_OP_NE:
        case QUERY_OP_NOT_IN: return (held & want) == 0;
        default: return false;
        }
    }
    case QUERY_COL_BOOL: {
        int8_t v = c->flag[row];
        return v >= 0 && (f->op == QUERY_OP_IS_TRUE ? v == 1 : f->op == QUERY_OP_IS_FALSE && v == 0);
    }
    case QUERY_COL_TEXT:
    case QUERY_COL_ID: return false;
    }
    return false;
}

// Bit b of the result: row base + b (b < count) passes op; NaN (missing) passes nothing. One
// comparison per row without branches, so a word of 64 candidates costs 64 compares.
static uint64_t num_word(const double *num, size_t base, size_t count, enum query_op op,
                         double lo, double hi)
{
    uint64_t m = 0;
    const double *x = num + base;
    switch (op) {
    case QUERY_OP_GE:
        for (size_t b = 0; b < count; b++) m |= (uint64_t)(x[b] >= lo) << b;
        break;
    case QUERY_OP_LE:
        for (size_t b = 0; b < count; b++) m |= (uint64_t)(x[b] <= lo) << b;
        break;
    case QUERY_OP_GT:
        for (size_t b = 0; b < count; b++) m |= (uint64_t)(x[b] > lo) << b;
        break;
    case QUERY_OP_LT:
        for (size_t b = 0; b < count; b++) m |= (uint64_t)(x[b] < lo) << b;
        break;
    case QUERY_OP_BETWEEN:
        for (size_t b = 0; b < count; b++) m |= (uint64_t)(x[b] >= lo && x[b] <= hi) << b;
        break;
    default:
        for (size_t b = 0; b < count; b++) {
            m |= (uint64_t)(!isnan(x[b]) && num_test(op, x[b], lo, hi)) << b;
        }
        break;
    }
    return m;
}

// Numbers and dense list words are tested a whole word at a time (branch-free loops the
// compiler vectorises); sparse words and other kinds bit by bit.
void filter_prepared_rows(const struct coltable *t, const struct filter_prepared *p,
                          struct bitmap *rows)
{
    const struct query_filter *f = p->f;
    const struct column *c = f->i_col < t->n_cols ? &t->cols[f->i_col] : NULL;
    uint64_t *words = bitmap_words_mut(rows);
    size_t n_words = bitmap_n_words(rows);
    size_t n = bitmap_size(rows) < t->n_rows ? bitmap_size(rows) : t->n_rows;
    bool numeric = c != NULL && c->kind == QUERY_COL_NUMERIC;
    bool contains = c != NULL && c->kind == QUERY_COL_LIST && f->op == QUERY_OP_CONTAINS;
    bool member = c != NULL && c->kind == QUERY_COL_CATEGORY &&
                  (f->op == QUERY_OP_EQ || f->op == QUERY_OP_IN);
    for (size_t w = 0; w < n_words; w++) {
        uint64_t bits = words[w], keep = 0;
        if (bits == 0) {
            continue;
        }
        size_t base = w * 64, count = base >= n ? 0 : n - base < 64 ? n - base : 64;
        if (numeric) {
            words[w] = bits & num_word(c->num, base, count, f->op, f->lo, f->hi);
            continue;
        }
        if (contains && __builtin_popcountll(bits) > 8) { // dense: the whole word, no branches
            uint64_t m = 0;
            for (size_t b = 0; b < count; b++) {
                m |= (uint64_t)((c->mask[base + b] & p->mask) != 0) << b;
            }
            words[w] = bits & m;
            continue;
        }
        while (bits != 0) {
            uint64_t low = bits & (~bits + 1);
            size_t r = w * 64 + (size_t)__builtin_ctzll(bits);
            bits ^= low;
            bool pass;
            if (c == NULL || r >= n) {
                pass = false;
            } else if (contains) {
                pass = (c->mask[r] & p->mask) != 0; // a missing cell has no bit
            } else if (member) {
                pass = false; // CODE_MISSING is never among the codes
                for (size_t k = 0; k < p->n_codes && !pass; k++) {
                    pass = c->code[r] == p->codes[k];
                }
            } else {
                pass = filter_prepared_row(t, p, r);
            }
            keep |= pass ? low : 0;
        }
        words[w] = keep;
    }
}

bool filter_row(const struct coltable *t, const struct query_filter *f, size_t row)
{
    struct filter_prepared p;
    filter_prepare(t, f, &p);
    return filter_prepared_row(t, &p, row);
}

int filter_apply(const struct coltable *t, const struct query_filter *filters, size_t n,
                 struct bitmap *out, struct px_err *err)
{
    if (bitmap_size(out) != t->n_rows) {
        return px_fail(err, PX_EINVAL, "candidate bitmap has %zu bits for %zu rows",
                       bitmap_size(out), t->n_rows);
    }
    bitmap_fill(out);
    for (size_t i = 0; i < n; i++) {
        const struct query_filter *f = &filters[i];
        if (f->i_col >= t->n_cols) {
            return px_fail(err, PX_EINVAL, "filter %zu names column %zu of %zu", i, f->i_col,
                           t->n_cols);
        }
        enum query_col_kind k = t->cols[f->i_col].kind;
        if (k == QUERY_COL_TEXT || k == QUERY_COL_ID) {
            return px_fail(err, PX_EINVAL, "column '%s' cannot be filtered",
                           t->cols[f->i_col].name);
        }
        struct filter_prepared p;
        filter_prepare(t, f, &p);
        filter_prepared_rows(t, &p, out);
    }
    return PX_OK;
}

double boost_score(const struct coltable *t, const struct query_boost *boosts, size_t n,
                   size_t row)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        const struct query_boost *b = &boosts[i];
        struct query_filter f = {.i_col = b->i_col, .op = b->op, .lo = b->lo, .hi = b->hi};
        if (b->value != NULL) {
            f.values[0] = b->value;
            f.n_values = 1;
        }
        if (filter_row(t, &f, row)) {
            s += b->weight;
        }
    }
    return s;
}

// ---- the index file (coltable_save / coltable_open) ----
//
// One section FCOL: a head {n_rows, n_cols}, then per column {kind, n_dict, data_off, data_len,
// dict_off, dict_len, name_off, name_len} (offsets from the section start, each block 64-byte
// aligned), then the blocks: the column's value array as filled (num / code / mask / flag),
// its dictionary (n_dict NUL-terminated strings back to back) and its name.

#define FCOL MAPFILE_ID("FCOL")

struct fcol_head {
    uint64_t n_rows, n_cols;
};

struct fcol_col {
    uint32_t kind, n_dict;
    uint64_t data_off, data_len, dict_off, dict_len, name_off, name_len;
};

static size_t col_elem(enum query_col_kind k)
{
    switch (k) {
    case QUERY_COL_NUMERIC: return sizeof(double);
    case QUERY_COL_CATEGORY: return sizeof(uint32_t);
    case QUERY_COL_LIST: return sizeof(uint64_t);
    case QUERY_COL_BOOL: return sizeof(int8_t);
    case QUERY_COL_TEXT:
    case QUERY_COL_ID: break;
    }
    return 0;
}

static const void *col_data(const struct column *c)
{
    return c->num ? (const void *)c->num
           : c->code ? (const void *)c->code
           : c->mask ? (const void *)c->mask
                     : (const void *)c->flag;
}

static uint64_t up64(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

int coltable_save(const struct coltable *t, struct mapfile_writer *w, struct px_err *err)
{
    static const unsigned char zeros[64];
    size_t n_cols = t->n_cols;
    struct fcol_col *cc = px_calloc(n_cols ? n_cols : 1, sizeof *cc);
    if (cc == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory saving the filter table");
    }
    uint64_t pos = up64(sizeof(struct fcol_head) + n_cols * sizeof *cc);
    for (size_t i = 0; i < n_cols; i++) {
        const struct column *c = &t->cols[i];
        cc[i].kind = (uint32_t)c->kind;
        cc[i].n_dict = (uint32_t)c->n_dict;
        cc[i].data_off = pos;
        cc[i].data_len = col_elem(c->kind) * t->n_rows;
        pos = up64(pos + cc[i].data_len);
        cc[i].dict_off = pos;
        for (size_t k = 0; k < c->n_dict; k++) {
            cc[i].dict_len += strlen(c->dict[k]) + 1;
        }
        pos = up64(pos + cc[i].dict_len);
        cc[i].name_off = pos;
        cc[i].name_len = strlen(c->name) + 1;
        pos = up64(pos + cc[i].name_len);
    }
    struct fcol_head head = {t->n_rows, n_cols};
    uint64_t at = 0;
    int rc = mapfile_begin(w, FCOL, err);
    if (rc == PX_OK) rc = mapfile_append(w, &head, sizeof head, err);
    if (rc == PX_OK) rc = mapfile_append(w, cc, n_cols * sizeof *cc, err);
    at = sizeof head + n_cols * sizeof *cc;
    for (size_t i = 0; rc == PX_OK && i < n_cols; i++) {
        const struct column *c = &t->cols[i];
        struct {
            uint64_t off, len;
            const void *p;
        } parts[3] = {{cc[i].data_off, cc[i].data_len, col_data(c)},
                      {cc[i].dict_off, 0, NULL},
                      {cc[i].name_off, cc[i].name_len, c->name}};
        for (int j = 0; rc == PX_OK && j < 3; j++) {
            rc = mapfile_append(w, zeros, (size_t)(parts[j].off - at), err);
            at = parts[j].off;
            if (j == 1) {
                for (size_t k = 0; rc == PX_OK && k < c->n_dict; k++) {
                    size_t n = strlen(c->dict[k]) + 1;
                    rc = mapfile_append(w, c->dict[k], n, err);
                    at += n;
                }
            } else if (rc == PX_OK) {
                rc = mapfile_append(w, parts[j].p, (size_t)parts[j].len, err);
                at += parts[j].len;
            }
        }
    }
    if (rc == PX_OK) rc = mapfile_append(w, zeros, (size_t)(up64(at) - at), err);
    if (rc == PX_OK) rc = mapfile_end(w, err);
    px_free(cc);
    return rc;
}

// Block [off, off + len) inside a section of size bytes?
static bool in_section(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

int coltable_open(const struct mapfile *m, struct coltable **out, struct px_err *err)
{
    const unsigned char *sec = NULL;
    size_t size = 0;
    *out = NULL;
    int rc = mapfile_get(m, FCOL, 1, (const void **)&sec, &size, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct fcol_head head;
    if (size < sizeof head) {
        return px_fail(err, PX_EFORMAT, "'%s': filter table section too short", mapfile_path(m));
    }
    memcpy(&head, sec, sizeof head);
    if (head.n_rows > LIMIT_VINDEX_ROWS || head.n_cols > LIMIT_QUERY_VALUES ||
        !in_section(sizeof head, head.n_cols * sizeof(struct fcol_col), size)) {
        return px_fail(err, PX_EFORMAT, "'%s': filter table of %llu rows x %llu columns does not "
                       "fit its section", mapfile_path(m), (unsigned long long)head.n_rows,
                       (unsigned long long)head.n_cols);
    }
    const struct fcol_col *cc = (const struct fcol_col *)(sec + sizeof head);
    struct coltable *t = px_calloc(1, sizeof *t);
    if (t == NULL || (t->cols = px_calloc(head.n_cols ? head.n_cols : 1, sizeof *t->cols)) == NULL) {
        px_free(t);
        return px_fail(err, PX_ENOMEM, "out of memory opening the filter table");
    }
    t->mapped = true;
    t->n_rows = t->cap_rows = (size_t)head.n_rows;
    t->n_cols = (size_t)head.n_cols;
    for (size_t i = 0; rc == PX_OK && i < t->n_cols; i++) {
        struct column *c = &t->cols[i];
        struct fcol_col k = cc[i];
        size_t elem = k.kind <= QUERY_COL_ID ? col_elem((enum query_col_kind)k.kind) : 0;
        const char *name = (const char *)sec + k.name_off;
        if (k.kind > QUERY_COL_ID || k.data_len != elem * head.n_rows || k.data_off % 64 != 0 ||
            !in_section(k.data_off, k.data_len, size) || !in_section(k.dict_off, k.dict_len, size) ||
            !in_section(k.name_off, k.name_len, size) || k.name_len == 0 ||
            name[k.name_len - 1] != '\0' || k.n_dict > LIMIT_QUERY_VALUES * 64u) {
            rc = px_fail(err, PX_EFORMAT, "'%s': filter table column %zu is damaged",
                         mapfile_path(m), i);
            break;
        }
        c->kind = (enum query_col_kind)k.kind;
        c->name = px_strdup(name);
        c->dict = px_calloc(k.n_dict ? k.n_dict : 1, sizeof *c->dict);
        if (c->name == NULL || c->dict == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory opening the filter table");
            break;
        }
        const char *d = (const char *)sec + k.dict_off, *end = d + k.dict_len;
        for (size_t j = 0; j < k.n_dict; j++) {
            const char *z = d < end ? memchr(d, '\0', (size_t)(end - d)) : NULL;
            if (z == NULL) {
                rc = px_fail(err, PX_EFORMAT, "'%s': dictionary of column '%s' is damaged",
                             mapfile_path(m), c->name);
                break;
            }
            c->dict[j] = (char *)d; // borrowed from the map (t->mapped: never freed)
            d = z + 1;
        }
        c->n_dict = c->cap_dict = k.n_dict;
        void *data = (void *)(sec + k.data_off);
        switch (c->kind) {
        case QUERY_COL_NUMERIC: c->num = data; break;
        case QUERY_COL_CATEGORY: c->code = data; break;
        case QUERY_COL_LIST: c->mask = data; break;
        case QUERY_COL_BOOL: c->flag = data; break;
        case QUERY_COL_TEXT:
        case QUERY_COL_ID: break;
        }
    }
    if (rc != PX_OK) {
        coltable_free(t);
        return rc;
    }
    *out = t;
    return PX_OK;
}
