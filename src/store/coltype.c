// coltype.c — value grammar, type inference and labels (see coltype.h for the rules).
//
// Design: one scanner (scan_number) recognises every numeric spelling and records which marks
// it saw ($, thousands commas, parentheses, %, fraction, exponent); parsing a value of a given
// type and classifying a value for inference both use it, so the two can never disagree. A value
// the inference counted as fitting always parses under the inferred type.
#include "coltype.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datex.h"
#include "limits.h"
#include "mem.h"
#include "utf8.h"

static const char *const k_names[COLTYPE_COUNT] = {
    "text", "category", "list", "bool", "integer", "real", "currency", "percent", "date",
};

const char *coltype_name(enum coltype t)
{
    return (unsigned)t < COLTYPE_COUNT ? k_names[t] : "?";
}

bool coltype_from_name(const char *name, enum coltype *out)
{
    for (int i = 0; i < COLTYPE_COUNT; i++) {
        if (strcmp(name, k_names[i]) == 0) {
            *out = (enum coltype)i;
            return true;
        }
    }
    return false;
}

const char *coltype_sql_type(enum coltype t)
{
    switch (t) {
    case COLTYPE_BOOL:
    case COLTYPE_INTEGER: return "INTEGER";
    case COLTYPE_REAL:
    case COLTYPE_CURRENCY:
    case COLTYPE_PERCENT: return "REAL";
    default: return "TEXT";
    }
}

bool coltype_is_numeric(enum coltype t)
{
    return t == COLTYPE_INTEGER || t == COLTYPE_REAL || t == COLTYPE_CURRENCY ||
           t == COLTYPE_PERCENT;
}

// ---- scanning ----

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*s)[*len - 1])) {
        (*len)--;
    }
}

struct num {
    double d;
    int64_t i;
    bool is_int; // plain integer that fits int64 (no marks, no fraction)
    bool dollar, commas, paren, pct, frac, expo;
};

// Scans a trimmed numeric spelling; false when s is not a number or is out of double range.
static bool scan_number(const char *s, size_t len, struct num *n)
{
    memset(n, 0, sizeof *n);
    const char *p = s, *end = s + len;
    bool neg = false;
    char clean[96]; // digits, '.', exponent: what strtod sees
    size_t k = 0;
    if (p < end && end[-1] == '%') {
        n->pct = true;
        end--;
        while (end > p && is_space(end[-1])) {
            end--;
        }
    }
    if (p < end && *p == '(' && end[-1] == ')') {
        n->paren = true;
        neg = true;
        p++;
        end--;
    }
    if (p < end && (*p == '+' || *p == '-')) {
        if (n->paren) {
            return false;
        }
        neg = *p == '-';
        p++;
    }
    if (p < end && *p == '$') {
        n->dollar = true;
        p++;
        if (p < end && *p == '-' && !neg && !n->paren) { // "$-5"
            neg = true;
            p++;
        }
    }
    clean[k++] = neg ? '-' : '+';
    size_t n_int_digits = 0, group = 0;
    bool first_group = true;
    while (p < end && (is_digit(*p) || *p == ',')) {
        if (*p == ',') {
            // thousands separator: the first group has 1-3 digits, later ones exactly 3
            if ((first_group && (group == 0 || group > 3)) || (!first_group && group != 3)) {
                return false;
            }
            n->commas = true;
            first_group = false;
            group = 0;
        } else {
            if (k + 1 >= sizeof clean) {
                return false;
            }
            clean[k++] = *p;
            group++;
            n_int_digits++;
        }
        p++;
    }
    if (n->commas && group != 3) {
        return false;
    }
    size_t n_frac_digits = 0;
    if (p < end && *p == '.') {
        n->frac = true;
        clean[k++] = '.';
        p++;
        while (p < end && is_digit(*p)) {
            if (k + 1 >= sizeof clean) {
                return false;
            }
            clean[k++] = *p++;
            n_frac_digits++;
        }
    }
    if (n_int_digits + n_frac_digits == 0) {
        return false;
    }
    if (p < end && (*p == 'e' || *p == 'E') && !n->dollar && !n->commas) {
        n->expo = true;
        clean[k++] = 'e';
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            clean[k++] = *p++;
        }
        size_t n_exp = 0;
        while (p < end && is_digit(*p) && k + 1 < sizeof clean) {
            clean[k++] = *p++;
            n_exp++;
        }
        if (n_exp == 0) {
            return false;
        }
    }
    if (p != end) {
        return false;
    }
    clean[k] = '\0';
    errno = 0;
    n->d = strtod(clean, NULL);
    if (!isfinite(n->d)) {
        return false;
    }
    if (!n->frac && !n->expo && !n->dollar && !n->commas && !n->paren && !n->pct) {
        errno = 0;
        long long v = strtoll(clean, NULL, 10);
        n->is_int = errno == 0;
        n->i = (int64_t)v;
    }
    return true;
}

static bool word_eq(const char *s, size_t len, const char *w)
{
    return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

// 1 true, 0 false, -1 not a bool spelling; *word says whether it was a word (not 1/0).
static int scan_bool(const char *s, size_t len, bool *word)
{
    static const char *const t[] = {"yes", "true", "y"};
    static const char *const f[] = {"no", "false", "n"};
    *word = true;
    for (size_t i = 0; i < 3; i++) {
        if (word_eq(s, len, t[i])) {
            return 1;
        }
        if (word_eq(s, len, f[i])) {
            return 0;
        }
    }
    *word = false;
    if (len == 1 && (s[0] == '1' || s[0] == '0')) {
        return s[0] == '1';
    }
    return -1;
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return n > 0;
}

// YYYY-MM-DD or M/D/YYYY (1-2 digit month and day) into iso ("YYYY-MM-DD").
static bool scan_date(const char *s, size_t len, char iso[11])
{
    int y = 0, m = 0, d = 0;
    if (len == 10 && s[4] == '-' && s[7] == '-') {
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) {
            return false;
        }
    } else if (len >= 8 && len <= 10) {
        const char *a = memchr(s, '/', len);
        const char *b = a ? memchr(a + 1, '/', len - (size_t)(a + 1 - s)) : NULL;
        if (a == NULL || b == NULL || a - s > 2 || b - a - 1 > 2 || (s + len) - (b + 1) != 4 ||
            !digits(s, (size_t)(a - s), &m) || !digits(a + 1, (size_t)(b - a - 1), &d) ||
            !digits(b + 1, 4, &y)) {
            return false;
        }
    } else {
        return false;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > datex_days_in_month(y, m)) {
        return false;
    }
    // y <= 9999, m <= 12, d <= 31: exactly 10 characters
    iso[0] = (char)('0' + y / 1000);
    iso[1] = (char)('0' + y / 100 % 10);
    iso[2] = (char)('0' + y / 10 % 10);
    iso[3] = (char)('0' + y % 10);
    iso[4] = '-';
    iso[5] = (char)('0' + m / 10);
    iso[6] = (char)('0' + m % 10);
    iso[7] = '-';
    iso[8] = (char)('0' + d / 10);
    iso[9] = (char)('0' + d % 10);
    iso[10] = '\0';
    return true;
}

// ---- parsing one value ----

int coltype_parse(enum coltype t, const char *s, size_t len, struct coltype_value *v,
                  const char **why)
{
    struct num n;
    memset(v, 0, sizeof *v);
    trim(&s, &len);
    v->s = s;
    v->len = len;
    *why = NULL;
    if (len == 0) {
        v->missing = true;
        return PX_OK;
    }
    switch (t) {
    case COLTYPE_INTEGER:
        if (!scan_number(s, len, &n)) {
            *why = "is not a number";
        } else if (!n.is_int) {
            *why = n.frac || n.expo                           ? "is not a whole number"
                   : n.dollar || n.commas || n.paren || n.pct ? "is not a plain whole number"
                                                              : "is out of the integer range";
        } else {
            v->i = n.i;
        }
        break;
    case COLTYPE_REAL:
    case COLTYPE_CURRENCY:
    case COLTYPE_PERCENT:
        if (!scan_number(s, len, &n)) {
            *why = "is not a number";
        } else if (t == COLTYPE_REAL && (n.dollar || n.pct || n.paren)) {
            *why = "is not a plain number";
        } else if (t == COLTYPE_CURRENCY && n.pct) {
            *why = "is a percentage, not an amount";
        } else if (t == COLTYPE_PERCENT && (n.dollar || n.paren)) {
            *why = "is an amount, not a percentage";
        } else {
            v->d = n.d;
        }
        break;
    case COLTYPE_BOOL: {
        bool word;
        int b = scan_bool(s, len, &word);
        if (b < 0) {
            *why = "is not yes/no, true/false or 1/0";
        } else {
            v->i = b;
        }
        break;
    }
    case COLTYPE_DATE:
        if (!scan_date(s, len, v->date)) {
            *why = "is not a date (YYYY-MM-DD or MM/DD/YYYY)";
        } else {
            v->s = v->date;
            v->len = 10;
        }
        break;
    default: break; // text, category, list: any UTF-8 (checked by the caller)
    }
    return *why ? PX_EINVAL : PX_OK;
}

int coltype_value_error(struct px_err *err, size_t line, const char *column, const char *s,
                        size_t len, const char *why)
{
    char shown[72];
    size_t k = 0;
    for (size_t i = 0; i < len && k < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        shown[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (len > 64) {
        memcpy(shown + k, "...", 3);
        k += 3;
    }
    shown[k] = '\0';
    return px_fail(err, PX_EINVAL, "line %zu, column '%s': '%s' %s", line, column, shown, why);
}

// ---- inference ----

void coltype_infer_init(struct coltype_infer *ci)
{
    memset(ci, 0, sizeof *ci);
}

static void distinct_free(struct coltype_distinct *d)
{
    for (size_t i = 0; i < d->n; i++) {
        px_free(d->v[i]);
    }
    px_free(d->v);
    memset(d, 0, sizeof *d);
}

static int distinct_add(struct coltype_distinct *d, const char *s, size_t len, struct px_err *err)
{
    if (d->overflow) {
        return PX_OK;
    }
    for (size_t i = 0; i < d->n; i++) {
        if (strlen(d->v[i]) == len && memcmp(d->v[i], s, len) == 0) {
            return PX_OK;
        }
    }
    if (d->n == LIMIT_CATEGORY_VALUES) {
        distinct_free(d); // no longer needed: the column cannot be a category
        d->overflow = true;
        return PX_OK;
    }
    if (d->v == NULL) {
        d->v = px_malloc(LIMIT_CATEGORY_VALUES * sizeof *d->v);
        if (d->v == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory inferring column types");
        }
    }
    char *c = px_strndup(s, len);
    if (c == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory inferring column types");
    }
    d->v[d->n++] = c;
    return PX_OK;
}

bool coltype_decimal_comma(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        i++;
    }
    size_t a = 0, b = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        a++;
    }
    if (a == 0 || i == len || s[i] != ',') {
        return false;
    }
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
        b++;
    }
    // "1,60", "0,5", "1234,5": not a thousands grouping ("1,600" is read as 1600)
    return i == len && b > 0 && (b != 3 || a > 3);
}

int coltype_infer_add(struct coltype_infer *ci, const char *s, size_t len, struct px_err *err)
{
    trim(&s, &len);
    if (len == 0) {
        return PX_OK;
    }
    ci->n_values++;
    ci->n_dec_comma += coltype_decimal_comma(s, len);
    bool word;
    if (scan_bool(s, len, &word) >= 0) {
        ci->n_bool++;
        ci->n_bool_word += word;
    }
    struct num n;
    char iso[11];
    if (scan_number(s, len, &n)) {
        if (n.pct) {
            ci->n_pct++;
        } else if (n.dollar || n.commas || n.paren) {
            ci->n_money++;
        } else if (n.is_int) {
            ci->n_int++;
        } else if (n.frac || n.expo) {
            ci->n_real++;
        } else {
            ci->n_money++; // an integer too long for int64: keep it numeric, as a double
        }
    } else if (scan_date(s, len, iso)) {
        ci->n_date++;
    }
    int rc = distinct_add(&ci->values, s, len, err);
    if (rc != PX_OK || memchr(s, ';', len) == NULL) {
        // a value without ';' is a one-item list
        if (rc == PX_OK && !ci->items.overflow) {
            if (len > 64) {
                ci->long_item = true;
            }
            rc = distinct_add(&ci->items, s, len, err);
        }
        return rc;
    }
    ci->n_with_sep++;
    const char *p = s, *end = s + len;
    while (rc == PX_OK && p <= end) {
        const char *q = memchr(p, ';', (size_t)(end - p));
        if (q == NULL) {
            q = end;
        }
        const char *item = p;
        size_t n_item = (size_t)(q - p);
        trim(&item, &n_item);
        if (n_item > 64) {
            ci->long_item = true;
        }
        if (n_item > 0) {
            rc = distinct_add(&ci->items, item, n_item, err);
        }
        p = q + 1;
    }
    return rc;
}

enum coltype coltype_infer_result(const struct coltype_infer *ci)
{
    size_t n = ci->n_values;
    if (n == 0) {
        return COLTYPE_TEXT;
    }
    if (ci->n_bool == n) {
        return COLTYPE_BOOL;
    }
    size_t n_num = ci->n_int + ci->n_real + ci->n_money + ci->n_pct;
    if (n_num * 5 >= n * 4) {
        if (ci->n_pct > ci->n_money) {
            return COLTYPE_PERCENT;
        }
        if (ci->n_money > 0) {
            return COLTYPE_CURRENCY;
        }
        return ci->n_real > 0 ? COLTYPE_REAL : COLTYPE_INTEGER;
    }
    if (ci->n_date * 5 >= n * 4) {
        return COLTYPE_DATE;
    }
    if (ci->n_with_sep > 0 && !ci->items.overflow && !ci->long_item) {
        return COLTYPE_LIST;
    }
    if (!ci->values.overflow && (ci->values.n * 2 <= n || n < 20)) {
        return COLTYPE_CATEGORY;
    }
    return COLTYPE_TEXT;
}

void coltype_infer_free(struct coltype_infer *ci)
{
    if (ci == NULL) {
        return;
    }
    distinct_free(&ci->values);
    distinct_free(&ci->items);
}

// ---- labels ----

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

void coltype_label(const char *name, char *out, size_t n)
{
    if (n == 0) {
        return;
    }
    size_t len = strlen(name), k = 0;
    if (strchr(name, ' ') != NULL) {
        snprintf(out, n, "%s", name);
        if (is_lower(out[0])) {
            out[0] = (char)(out[0] - 'a' + 'A');
        }
        return;
    }
    size_t i = 0;
    while (i < len && k + 1 < n) {
        while (i < len && (name[i] == '_' || name[i] == '-' || name[i] == '.')) {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i++;
        while (i < len && name[i] != '_' && name[i] != '-' && name[i] != '.') {
            char prev = name[i - 1], c = name[i];
            if ((is_lower(prev) || is_digit(prev)) && is_upper(c)) {
                break; // camelCase
            }
            if (is_upper(prev) && is_upper(c) && i + 1 < len && is_lower(name[i + 1])) {
                break; // "CCAvg": the acronym ends before "Avg"
            }
            i++;
        }
        size_t n_upper = 0, n_lower = 0;
        for (size_t j = start; j < i; j++) {
            n_upper += is_upper(name[j]);
            n_lower += is_lower(name[j]);
        }
        bool acronym = n_upper >= 2 && n_lower == 0;
        if (k > 0 && k + 1 < n) {
            out[k++] = ' ';
        }
        for (size_t j = start; j < i && k + 1 < n; j++) {
            char c = name[j];
            out[k++] = !acronym && is_upper(c) ? (char)(c - 'A' + 'a') : c;
        }
    }
    out[k] = '\0';
    if (is_lower(out[0])) {
        out[0] = (char)(out[0] - 'a' + 'A');
    }
}

// ---- UTF-8 ----

int coltype_check_utf8(const char *s, size_t len, size_t *bad_byte)
{
    size_t bad = utf8_check(s, len);
    const char *nul = memchr(s, '\0', bad); // a NUL before the first ill-formed byte
    if (nul != NULL) {
        bad = (size_t)(nul - s);
    }
    if (bad == len) {
        return PX_OK;
    }
    *bad_byte = bad;
    return PX_EUTF8;
}
