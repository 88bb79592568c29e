// coltype.h — column types of customer data: parsing one value, inferring a column's type from
// all its values, and turning a header name into a label.
//
// Shared by the CSV import (src/store/csvimport.c) and, later, the propensity trainer, so the
// rules for "what is a number / a date / a yes-no answer" live in one place. Pure functions over
// bytes; no I/O; thread-safe (struct coltype_infer is per caller).
//
// Value grammar (surrounding spaces are ignored; an empty value is missing in every type):
//   integer   [+-]?digits, fits int64                                   "42", "-3"
//   real      [+-]?digits[.digits][e[+-]digits] or .5                   "1.60", "2e3"
//   currency  [-]?$?number with optional thousands commas, or (number)  "$1,234.50", "-$5",
//             for negatives; stored in currency units as a double      "(1,234)"
//   percent   number followed by '%' (spaces allowed before it); the    "85%", "12.5 %"
//             stored number is the percentage (85, not 0.85)
//   date      YYYY-MM-DD or MM/DD/YYYY, a real calendar day; stored as "2024-02-29", "3/7/2021"
//             ISO text YYYY-MM-DD
//   bool      yes/no/true/false/y/n (any case) or 1/0; stored as 1/0
//   list      items separated by ';' ("A; B; C"); stored as written
//   category, text   any UTF-8 text; stored as written
#ifndef PX_COLTYPE_H
#define PX_COLTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

// Numbered: stored by name in the database (coltype_name), never by number.
enum coltype {
    COLTYPE_TEXT = 0,
    COLTYPE_CATEGORY = 1,
    COLTYPE_LIST = 2,
    COLTYPE_BOOL = 3,
    COLTYPE_INTEGER = 4,
    COLTYPE_REAL = 5,
    COLTYPE_CURRENCY = 6,
    COLTYPE_PERCENT = 7,
    COLTYPE_DATE = 8,
};
#define COLTYPE_COUNT 9

// "text", "category", "list", "bool", "integer", "real", "currency", "percent", "date".
const char *coltype_name(enum coltype t);
// Inverse of coltype_name; false for an unknown name.
bool coltype_from_name(const char *name, enum coltype *out);
// SQL column type used for t: "INTEGER" (bool, integer), "REAL" (real, currency, percent) or
// "TEXT" (the rest).
const char *coltype_sql_type(enum coltype t);
// true for integer, real, currency, percent (values come back as numbers).
bool coltype_is_numeric(enum coltype t);

// One parsed value. Which member holds it follows the column's SQL type: i for INTEGER, d for
// REAL, s/len for TEXT (s borrowed: points into the parsed input, or into `date` for dates).
struct coltype_value {
    bool missing; // empty field
    int64_t i;
    double d;
    const char *s;
    size_t len;
    char date[11]; // "YYYY-MM-DD" for dates
};

// Parses s[0..len) (any bytes; need not be NUL-terminated) as type t into *v. On a value that
// does not fit returns PX_EINVAL and sets *why to a static phrase completing "'<value>' ...",
// e.g. "is not a number", "is not a date (YYYY-MM-DD or MM/DD/YYYY)". *v is borrowed from s.
int coltype_parse(enum coltype t, const char *s, size_t len, struct coltype_value *v,
                  const char **why);

// Fills err with the standard message for a value that does not fit its column:
// "line 17, column 'Income': 'abc' is not a number" (the value is cut at 64 bytes and control
// bytes are shown as '?'). Returns PX_EINVAL.
int coltype_value_error(struct px_err *err, size_t line, const char *column, const char *s,
                        size_t len, const char *why);

// Type inference over a column's values: coltype_infer_init, coltype_infer_add for each value,
// coltype_infer_result, coltype_infer_free. Memory is bounded: at most LIMIT_CATEGORY_VALUES + 1
// distinct values (and list items) are kept.
//
// Rules (documented for users in ARCHITECTURE.md):
//   - no non-empty value: text;
//   - every value a bool word (yes/no/true/false/y/n, 1/0): bool;
//   - at least 80% of non-empty values numbers: percent when '%' values outnumber '$' ones (and
//     there is one), else currency when any value has '$' / thousands commas / parentheses,
//     else real when any value has a fraction or exponent, else integer; the remaining values
//     are then errors of their rows;
//   - at least 80% dates: date;
//   - some value contains ';' and there are at most LIMIT_CATEGORY_VALUES distinct items of at
//     most 64 bytes: list;
//   - at most LIMIT_CATEGORY_VALUES distinct values, and at most half as many as values (or
//     fewer than 20 values): category;
//   - otherwise text.
struct coltype_distinct {
    char **v; // owned strings (n)
    size_t n;
    bool overflow; // more than LIMIT_CATEGORY_VALUES were seen; v is no longer updated
};

struct coltype_infer {
    size_t n_values;                              // non-empty values
    size_t n_bool;                                // yes/no/true/false/y/n words and 1/0
    size_t n_bool_word;                           // the word forms only
    size_t n_int, n_real, n_money, n_pct, n_date; // by the most specific numeric/date form
    size_t n_with_sep;                            // values containing ';'
    size_t n_dec_comma; // European decimal commas ("1,60"; coltype_decimal_comma)
    bool long_item;                               // a list item longer than 64 bytes
    struct coltype_distinct values;
    struct coltype_distinct items;
};

void coltype_infer_init(struct coltype_infer *ci);
// Is s[0..len) a number written with a European decimal comma ("1,60", "-0,5", "1234,5")? A
// comma followed by exactly three digits after at most three ("1,600") is a thousands
// separator, not this. Such values are not numbers to the parser: the import and the trainer
// say so (a column mostly of them is named in a note).
bool coltype_decimal_comma(const char *s, size_t len);
// Adds one value (s[0..len), NUL not needed); PX_ENOMEM when a distinct value cannot be kept.
int coltype_infer_add(struct coltype_infer *ci, const char *s, size_t len, struct px_err *err);
enum coltype coltype_infer_result(const struct coltype_infer *ci);
void coltype_infer_free(struct coltype_infer *ci);

// Human label for a header name into out (size n, truncated to fit): names with a space keep
// their words ("ZIP Code", "Personal Loan"); otherwise words are split at '_', '-', '.' and
// camelCase boundaries, acronyms (2+ capitals) are kept and other words lower-cased, and the
// first letter is capitalised: "annual_income" -> "Annual income", "CCAvg" -> "CC avg",
// "CreditCard" -> "Credit card", "ID" -> "ID".
void coltype_label(const char *name, char *out, size_t n);

// Checks that s[0..len) is valid UTF-8 (base/utf8.h) without NUL bytes. On failure returns
// PX_EUTF8 and sets *bad_byte to the 0-based offset of the first offending byte.
int coltype_check_utf8(const char *s, size_t len, size_t *bad_byte);

#endif
