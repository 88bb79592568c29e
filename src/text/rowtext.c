// rowtext.c — see rowtext.h for the rendering rules.
//
// A compiled template is a list of parts: literal byte ranges of the template text and field
// indexes. Rendering walks the parts; nothing is parsed per row.
#include "rowtext.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "strparse.h"

struct part {
    size_t lit_off, lit_len; // literal bytes in text (when field < 0)
    long field;              // field index, or -1 for a literal
};

struct rowtext_template {
    char *text;         // owned copy of the template with "{{"/"}}" already unescaped
    struct part *parts; // owned: (n_parts)
    size_t n_parts;
};

// ---- value formatting ----

// Appends an integer part with thousands separators.
static int put_grouped(struct buf *out, double whole, struct px_err *err)
{
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", whole);
    size_t n = strlen(digits);
    char grouped[96];
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            grouped[g++] = ',';
        }
        grouped[g++] = digits[i];
    }
    return buf_append(out, grouped, g, err);
}

static int put_real(struct buf *out, double v, struct px_err *err)
{
    char s[64];
    snprintf(s, sizeof s, "%.6g", v);
    return buf_append(out, s, strlen(s), err);
}

int rowtext_format_value(const struct rowtext_field *f, struct buf *out, struct px_err *err)
{
    int rc = PX_OK;
    if (f->value == NULL || f->value[0] == '\0') {
        return PX_OK;
    }
    switch (f->kind) {
    case ROWTEXT_CURRENCY: {
        if (!isfinite(f->num) || fabs(f->num) >= 1e15) {
            return buf_append(out, f->value, strlen(f->value), err);
        }
        double a = fabs(f->num);
        double whole = floor(a);
        long cents = lround((a - whole) * 100.0);
        if (cents == 100) {
            whole += 1;
            cents = 0;
        }
        rc = buf_append(out, f->num < 0 ? "-$" : "$", f->num < 0 ? 2 : 1, err);
        if (rc == PX_OK) {
            rc = put_grouped(out, whole, err);
        }
        if (rc == PX_OK && cents != 0) {
            rc = buf_printf(out, err, ".%02ld", cents);
        }
        return rc;
    }
    case ROWTEXT_PERCENT:
        rc = put_real(out, f->num, err);
        return rc == PX_OK ? buf_append(out, "%", 1, err) : rc;
    case ROWTEXT_INTEGER:
        return isfinite(f->num) && fabs(f->num) < 1e15 ? buf_printf(out, err, "%.0f", f->num)
                                                       : buf_append(out, f->value,
                                                                    strlen(f->value), err);
    case ROWTEXT_REAL:
        return isfinite(f->num) ? put_real(out, f->num, err)
                                : buf_append(out, f->value, strlen(f->value), err);
    case ROWTEXT_BOOL:
        return f->num != 0 ? buf_append(out, "Yes", 3, err) : buf_append(out, "No", 2, err);
    case ROWTEXT_LIST: {
        // "A; B; C" -> "A, B and C"
        const char *p = f->value, *item = NULL;
        size_t len = 0, total = strparse_list_count(f->value);
        for (size_t i = 0; rc == PX_OK && strparse_list_item(&p, &item, &len); i++) {
            if (i > 0) {
                rc = i + 1 == total ? buf_append(out, " and ", 5, err)
                                    : buf_append(out, ", ", 2, err);
            }
            if (rc == PX_OK) {
                rc = buf_append(out, item, len, err);
            }
        }
        return rc;
    }
    case ROWTEXT_TEXT:
        break;
    }
    return buf_append(out, f->value, strlen(f->value), err);
}

// ---- templates ----

static long find_field(const struct rowtext_field *fields, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const char *cands[2] = {fields[i].name, fields[i].label};
        for (int k = 0; k < 2; k++) {
            if (cands[k] != NULL && strlen(cands[k]) == len &&
                strncasecmp(cands[k], name, len) == 0) {
                return (long)i;
            }
        }
    }
    return -1;
}

int rowtext_template_compile(const char *text, size_t len, const struct rowtext_field *fields,
                             size_t n, struct rowtext_template **out, struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct rowtext_template *t = NULL;
    *out = NULL;
    t = px_calloc(1, sizeof *t);
    if (t != NULL) {
        t->text = px_malloc(len + 1);
        t->parts = px_calloc(len + 1, sizeof *t->parts); // at most one part per byte
    }
    if (t == NULL || t->text == NULL || t->parts == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory compiling a row template");
        goto done;
    }
    size_t w = 0; // bytes written to t->text
    size_t lit_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < len && text[i + 1] == c) {
            t->text[w++] = c; // escaped brace
            i++;
            continue;
        }
        if (c == '}') {
            rc = px_fail(err, PX_EINVAL, "row template: unmatched '}' at byte %zu", i);
            goto done;
        }
        if (c != '{') {
            t->text[w++] = c;
            continue;
        }
        const char *close = memchr(text + i + 1, '}', len - i - 1);
        if (close == NULL) {
            rc = px_fail(err, PX_EINVAL, "row template: '{' at byte %zu is never closed", i);
            goto done;
        }
        size_t name_len = (size_t)(close - (text + i + 1));
        long f = find_field(fields, n, text + i + 1, name_len);
        if (f < 0) {
            rc = px_fail(err, PX_EINVAL, "row template: no column named '%.*s' (byte %zu)",
                         (int)(name_len > 100 ? 100 : name_len), text + i + 1, i);
            goto done;
        }
        if (w > lit_start) {
            t->parts[t->n_parts++] = (struct part){lit_start, w - lit_start, -1};
        }
        t->parts[t->n_parts++] = (struct part){0, 0, f};
        lit_start = w;
        i += name_len + 1;
    }
    if (w > lit_start) {
        t->parts[t->n_parts++] = (struct part){lit_start, w - lit_start, -1};
    }
    t->text[w] = '\0';
    *out = t;
    t = NULL;
    rc = PX_OK;
done:
    rowtext_template_free(t);
    return rc;
}

void rowtext_template_free(struct rowtext_template *t)
{
    if (t == NULL) {
        return;
    }
    px_free(t->text);
    px_free(t->parts);
    px_free(t);
}

int rowtext_render(const struct rowtext_template *t, const struct rowtext_field *fields, size_t n,
                   struct buf *out, struct px_err *err)
{
    int rc = PX_OK;
    if (t != NULL) {
        for (size_t i = 0; i < t->n_parts && rc == PX_OK; i++) {
            const struct part *p = &t->parts[i];
            if (p->field < 0) {
                rc = buf_append(out, t->text + p->lit_off, p->lit_len, err);
            } else if ((size_t)p->field < n) {
                rc = rowtext_format_value(&fields[p->field], out, err);
            }
        }
        return rc;
    }
    int n_out = 0;
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        const struct rowtext_field *f = &fields[i];
        if (f->value == NULL || f->value[0] == '\0') {
            continue;
        }
        const char *label = f->label ? f->label : f->name;
        rc = buf_printf(out, err, "%s%s: ", n_out ? ", " : "", label);
        if (rc == PX_OK) {
            rc = rowtext_format_value(f, out, err);
        }
        n_out++;
    }
    if (rc == PX_OK && n_out > 0) {
        rc = buf_append(out, ".", 1, err);
    }
    return rc;
}
