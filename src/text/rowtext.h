// rowtext.h — a customer row as the sentence the embedder (and the lexical index) sees.
//
// Default rendering: "Label: value" for every present field, joined with ", " and ended with
// ".", labels being the humanised column names, values formatted by kind:
//   currency  $85,000  /  $1,234.50      (thousands separators; cents only when not whole)
//   percent   23%      /  12.5%
//   integer   742                        (no separators: scores, years, counts read better bare)
//   real      3.25                       (shortest form that round-trips to 6 significant digits)
//   bool      Yes / No
//   list      Checking, Savings and Brokerage Account
//   text, category, date: as stored
// e.g. "Customer ID: CUST-000417, Age: 58, Occupation: Surgeon, Annual income: $412,000,
//       Credit score: 781, Segment: Private."
// Missing values (NULL or empty) are left out rather than rendered as "unknown", so the text
// never claims what the data does not say.
//
// A template overrides the default: plain text with {Name} placeholders naming a column by its
// original header or its label (case-insensitive); "{{" and "}}" stand for literal braces. A
// placeholder whose value is missing renders as nothing. Unknown placeholders are an error at
// compile time, naming the placeholder and its byte offset.
//
// Immutable after rowtext_template_compile; rendering is thread-safe.
#ifndef PX_ROWTEXT_H
#define PX_ROWTEXT_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

enum rowtext_kind {
    ROWTEXT_TEXT = 0,     // text, category, date, id: rendered as given
    ROWTEXT_INTEGER = 1,  // value holds the number as text; num is used for formatting
    ROWTEXT_REAL = 2,
    ROWTEXT_CURRENCY = 3,
    ROWTEXT_PERCENT = 4,  // num in percent units (23 for 23%)
    ROWTEXT_BOOL = 5,     // num 0 or 1
    ROWTEXT_LIST = 6,     // value holds "A; B; C"
};

struct rowtext_field {
    const char *name;       // original column name, borrowed
    const char *label;      // humanised label, borrowed
    enum rowtext_kind kind;
    const char *value;      // text form (NULL or "" = missing), borrowed
    double num;             // numeric value for the numeric kinds and bool
};

struct rowtext_template;

// Compiles a template against the column names/labels of fields (n of them; only name and label
// are read). Returns owned *out (rowtext_template_free).
int rowtext_template_compile(const char *text, size_t len, const struct rowtext_field *fields,
                             size_t n, struct rowtext_template **out, struct px_err *err);
void rowtext_template_free(struct rowtext_template *t);

// Appends the row's text to out (fields in the same column order the template was compiled
// for). t NULL = the default rendering. PX_ELIMIT when out's maximum is reached.
int rowtext_render(const struct rowtext_template *t, const struct rowtext_field *fields, size_t n,
                   struct buf *out, struct px_err *err);

// Formats one value as the default rendering does (no label); appends to out.
int rowtext_format_value(const struct rowtext_field *f, struct buf *out, struct px_err *err);

#endif
