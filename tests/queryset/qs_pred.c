// qs_pred.c — the query set's predicate language: a recursive-descent parser to a small tree,
// type-checked against the table's columns at compile time, evaluated over typed cells.
//
//   pred   := or
//   or     := and { "||" and }
//   and    := unary { "&&" unary }
//   unary  := "!" unary | "(" pred ")" | test
//   test   := column cmp value          cmp: == != < <= > >=
//           | column "in" list          equal to one of the values
//           | column "has" value|list   a list column holds the item (or one of them)
//           | column "~" value          case-insensitive substring
//   list   := "(" value { "," value } ")"
//   column := name | `any name`         (backquotes for names with spaces: `CD Account`)
//   value  := number | true | false | "quoted" | bareword
//
// Types are checked when compiling, not when evaluating, so a slip in the set (a string
// compared with a currency, `has` on a category, an unknown column) is an error naming the byte
// instead of a test that is silently false on every row:
//   integer/real/currency/percent  cmp and in, with numbers
//   bool                           == and != with true/false
//   date                           cmp and in, with "YYYY-MM-DD" strings (ISO order = time order)
//   category/text                  == != in ~, with strings (a number is taken as its text)
//   list                           has and ~
// Strings compare case-insensitively; list items are split on ';' and trimmed. A test on a
// missing value is false, so `!` of it is true ("not interested in travel" holds for a row
// with no interests).
#include "queryset.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "mem.h"

enum node_kind { N_OR, N_AND, N_NOT, N_CMP, N_IN, N_HAS, N_LIKE };
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum col_class { C_NUM, C_BOOL, C_DATE, C_STR, C_LIST };
enum lit_kind { L_NUM, L_STR, L_BOOL };

struct lit {
    enum lit_kind kind;
    double num;
    bool b;
    char *s; // owned: the literal's text (numbers and bools keep theirs too)
};

struct qs_pred {
    enum node_kind kind;
    struct qs_pred *a, *b; // N_OR / N_AND: both; N_NOT: a
    size_t col;            // tests: column index
    enum col_class cls;
    enum cmp_op op;        // N_CMP
    struct lit *lits;      // (n_lits) owned: N_CMP / N_LIKE one, N_IN / N_HAS one or more
    size_t n_lits;
};

struct parser {
    const char *src;
    size_t pos, len;
    const struct qs_table *t;
    struct px_err *err;
};

void qs_pred_free(struct qs_pred *p)
{
    if (p == NULL) {
        return;
    }
    qs_pred_free(p->a);
    qs_pred_free(p->b);
    for (size_t i = 0; i < p->n_lits; i++) {
        px_free(p->lits[i].s);
    }
    px_free(p->lits);
    px_free(p);
}

static int fail(struct parser *ps, const char *what)
{
    return px_fail(ps->err, PX_EINVAL, "predicate byte %zu: %s (in \"%s\")", ps->pos, what,
                   ps->src);
}

static void skip_ws(struct parser *ps)
{
    while (ps->pos < ps->len && isspace((unsigned char)ps->src[ps->pos])) {
        ps->pos++;
    }
}

// Consumes tok (after spaces) when it is next.
static bool accept(struct parser *ps, const char *tok)
{
    skip_ws(ps);
    size_t n = strlen(tok);
    if (ps->len - ps->pos >= n && memcmp(ps->src + ps->pos, tok, n) == 0) {
        ps->pos += n;
        return true;
    }
    return false;
}

static bool is_bare(char c)
{
    return c != '\0' && !isspace((unsigned char)c) && strchr(",()&|!=<>~\"`", c) == NULL;
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident(char c) { return isalnum((unsigned char)c) || c == '_'; }

static enum col_class class_of(const char *type)
{
    if (!strcmp(type, "integer") || !strcmp(type, "real") || !strcmp(type, "currency") ||
        !strcmp(type, "percent")) {
        return C_NUM;
    }
    if (!strcmp(type, "bool")) return C_BOOL;
    if (!strcmp(type, "date")) return C_DATE;
    if (!strcmp(type, "list")) return C_LIST;
    return C_STR;
}

static int parse_column(struct parser *ps, size_t *col, enum col_class *cls)
{
    skip_ws(ps);
    size_t start = ps->pos, end;
    if (ps->pos < ps->len && ps->src[ps->pos] == '`') {
        const char *close = memchr(ps->src + ps->pos + 1, '`', ps->len - ps->pos - 1);
        if (close == NULL) {
            return fail(ps, "unclosed ` around a column name");
        }
        start = ps->pos + 1;
        end = (size_t)(close - ps->src);
        ps->pos = end + 1;
    } else {
        if (ps->pos >= ps->len || !is_ident_start(ps->src[ps->pos])) {
            return fail(ps, "expected a column name");
        }
        while (ps->pos < ps->len && is_ident(ps->src[ps->pos])) {
            ps->pos++;
        }
        end = ps->pos;
    }
    for (size_t c = 0; c < ps->t->n_cols; c++) {
        const char *name = ps->t->names[c];
        if (strlen(name) == end - start && memcmp(name, ps->src + start, end - start) == 0) {
            *col = c;
            *cls = class_of(ps->t->types[c]);
            return PX_OK;
        }
    }
    ps->pos = start;
    return px_fail(ps->err, PX_EINVAL, "predicate byte %zu: no column \"%.*s\" in this book (in \"%s\")",
                   start, (int)(end - start), ps->src + start, ps->src);
}

static int parse_value(struct parser *ps, struct lit *out)
{
    skip_ws(ps);
    memset(out, 0, sizeof *out);
    size_t start = ps->pos;
    if (ps->pos < ps->len && ps->src[ps->pos] == '"') {
        // the text between the quotes, unescaped, is shorter than what is left after the quote
        char *s = px_malloc(ps->len - ps->pos);
        size_t n = 0;
        if (s == NULL) {
            return px_fail(ps->err, PX_ENOMEM, "out of memory");
        }
        ps->pos++;
        while (ps->pos < ps->len && ps->src[ps->pos] != '"') {
            if (ps->src[ps->pos] == '\\' && ps->pos + 1 < ps->len) {
                ps->pos++;
            }
            s[n++] = ps->src[ps->pos++];
        }
        if (ps->pos >= ps->len) {
            px_free(s);
            ps->pos = start;
            return fail(ps, "unclosed string");
        }
        ps->pos++;
        s[n] = '\0';
        out->kind = L_STR;
        out->s = s;
        return PX_OK;
    }
    while (ps->pos < ps->len && is_bare(ps->src[ps->pos])) {
        ps->pos++;
    }
    if (ps->pos == start) {
        return fail(ps, "expected a value");
    }
    size_t n = ps->pos - start;
    out->s = px_malloc(n + 1);
    if (out->s == NULL) {
        return px_fail(ps->err, PX_ENOMEM, "out of memory");
    }
    memcpy(out->s, ps->src + start, n);
    out->s[n] = '\0';
    char *endp = NULL;
    double d = strtod(out->s, &endp);
    if (!strcmp(out->s, "true") || !strcmp(out->s, "false")) {
        out->kind = L_BOOL;
        out->b = out->s[0] == 't';
    } else if (endp != out->s && *endp == '\0') {
        out->kind = L_NUM;
        out->num = d;
    } else {
        out->kind = L_STR;
    }
    return PX_OK;
}

static bool is_iso_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

// Does literal l fit a test of kind k on a column of class cls? Returns why not, or NULL.
static const char *lit_misfit(enum node_kind k, enum col_class cls, enum cmp_op op,
                              const struct lit *l)
{
    switch (cls) {
    case C_NUM:
        if (k != N_CMP && k != N_IN) return "a numeric column takes cmp or in";
        return l->kind == L_NUM ? NULL : "a numeric column is compared with numbers";
    case C_BOOL:
        if (k != N_CMP || (op != OP_EQ && op != OP_NE)) return "a yes/no column takes == or !=";
        return l->kind == L_BOOL ? NULL : "a yes/no column is compared with true or false";
    case C_DATE:
        if (k != N_CMP && k != N_IN) return "a date column takes cmp or in";
        return l->kind == L_STR && is_iso_date(l->s) ? NULL : "a date is written \"YYYY-MM-DD\"";
    case C_STR:
        if (k == N_HAS) return "`has` is for list columns (use == or in)";
        if (k == N_CMP && op != OP_EQ && op != OP_NE) return "a text column takes == != in ~";
        return l->kind == L_BOOL ? "a text column is compared with strings" : NULL;
    case C_LIST:
        if (k != N_HAS && k != N_LIKE) return "a list column takes has or ~";
        return l->kind == L_BOOL ? "a list item is a string" : NULL;
    }
    return "unknown column class";
}

static int new_node(struct parser *ps, enum node_kind k, struct qs_pred **out)
{
    *out = px_calloc(1, sizeof **out);
    if (*out == NULL) {
        return px_fail(ps->err, PX_ENOMEM, "out of memory");
    }
    (*out)->kind = k;
    return PX_OK;
}

static int add_lit(struct parser *ps, struct qs_pred *n)
{
    struct lit *grown = px_realloc(n->lits, (n->n_lits + 1) * sizeof *grown);
    if (grown == NULL) {
        return px_fail(ps->err, PX_ENOMEM, "out of memory");
    }
    n->lits = grown;
    size_t at = ps->pos;
    int rc = parse_value(ps, &n->lits[n->n_lits]);
    if (rc != PX_OK) {
        return rc;
    }
    n->n_lits++;
    const char *why = lit_misfit(n->kind, n->cls, n->op, &n->lits[n->n_lits - 1]);
    if (why != NULL) {
        ps->pos = at;
        return fail(ps, why);
    }
    return PX_OK;
}

static int parse_list(struct parser *ps, struct qs_pred *n)
{
    // the "(" was consumed
    int rc;
    do {
        rc = add_lit(ps, n);
    } while (rc == PX_OK && accept(ps, ","));
    if (rc == PX_OK && !accept(ps, ")")) {
        rc = fail(ps, "expected , or ) in a list");
    }
    return rc;
}

static bool accept_word(struct parser *ps, const char *w)
{
    size_t save = ps->pos;
    if (accept(ps, w) && (ps->pos >= ps->len || !is_ident(ps->src[ps->pos]))) {
        return true;
    }
    ps->pos = save;
    return false;
}

static int parse_test(struct parser *ps, struct qs_pred **out)
{
    size_t col = 0;
    enum col_class cls = C_STR;
    int rc = parse_column(ps, &col, &cls);
    if (rc != PX_OK) {
        return rc;
    }
    static const struct {
        const char *tok;
        enum cmp_op op;
    } k_ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
                 {"<", OP_LT},  {">", OP_GT}};
    enum node_kind kind;
    enum cmp_op op = OP_EQ;
    bool list = false;
    size_t at = ps->pos;
    if (accept_word(ps, "in")) {
        kind = N_IN;
        list = true;
        if (!accept(ps, "(")) {
            return fail(ps, "expected ( after in");
        }
    } else if (accept_word(ps, "has")) {
        kind = N_HAS;
        list = accept(ps, "(");
    } else if (accept(ps, "~")) {
        kind = N_LIKE;
    } else {
        kind = N_CMP;
        size_t i = 0;
        while (i < sizeof k_ops / sizeof k_ops[0] && !accept(ps, k_ops[i].tok)) {
            i++;
        }
        if (i == sizeof k_ops / sizeof k_ops[0]) {
            ps->pos = at;
            skip_ws(ps);
            return fail(ps, "expected an operator (== != < <= > >= in has ~)");
        }
        op = k_ops[i].op;
    }
    rc = new_node(ps, kind, out);
    if (rc != PX_OK) {
        return rc;
    }
    (*out)->col = col;
    (*out)->cls = cls;
    (*out)->op = op;
    return list ? parse_list(ps, *out) : add_lit(ps, *out);
}

static int parse_or(struct parser *ps, struct qs_pred **out, int depth);

static int parse_unary(struct parser *ps, struct qs_pred **out, int depth)
{
    if (depth > 64) {
        return fail(ps, "nested too deeply");
    }
    if (accept(ps, "!")) {
        int rc = new_node(ps, N_NOT, out);
        return rc == PX_OK ? parse_unary(ps, &(*out)->a, depth + 1) : rc;
    }
    if (accept(ps, "(")) {
        int rc = parse_or(ps, out, depth + 1);
        if (rc == PX_OK && !accept(ps, ")")) {
            rc = fail(ps, "expected )");
        }
        return rc;
    }
    return parse_test(ps, out);
}

static int parse_binary(struct parser *ps, struct qs_pred **out, int depth, bool is_or)
{
    int rc = is_or ? parse_binary(ps, out, depth, false) : parse_unary(ps, out, depth);
    while (rc == PX_OK && accept(ps, is_or ? "||" : "&&")) {
        struct qs_pred *n = NULL;
        rc = new_node(ps, is_or ? N_OR : N_AND, &n);
        if (rc != PX_OK) {
            break;
        }
        n->a = *out;
        *out = n;
        rc = is_or ? parse_binary(ps, &n->b, depth, false) : parse_unary(ps, &n->b, depth);
    }
    return rc;
}

static int parse_or(struct parser *ps, struct qs_pred **out, int depth)
{
    return parse_binary(ps, out, depth, true);
}

int qs_pred_compile(const char *src, const struct qs_table *t, struct qs_pred **out,
                    struct px_err *err)
{
    struct parser ps = {src, 0, strlen(src), t, err};
    *out = NULL;
    int rc = parse_or(&ps, out, 0);
    if (rc == PX_OK) {
        skip_ws(&ps);
        if (ps.pos < ps.len) {
            rc = fail(&ps, "unexpected text (&& or || missing?)");
        }
    }
    if (rc != PX_OK) {
        qs_pred_free(*out);
        *out = NULL;
    }
    return rc;
}

// ---- evaluation ----

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0) {
            return true;
        }
    }
    return n == 0;
}

// Is one of the ';'-separated items of list equal (case-insensitively, trimmed) to s?
static bool list_holds(const char *list, const char *s)
{
    size_t n = strlen(s);
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ';');
        const char *end = q ? q : p + strlen(p);
        while (p < end && isspace((unsigned char)*p)) p++;
        const char *e = end;
        while (e > p && isspace((unsigned char)e[-1])) e--;
        if ((size_t)(e - p) == n && strncasecmp(p, s, n) == 0) {
            return true;
        }
        p = q ? q + 1 : end;
    }
    return false;
}

static bool cmp_holds(enum cmp_op op, int c)
{
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    case OP_GE: return c >= 0;
    }
    return false;
}

// Compares the cell with one literal: <0, 0, >0, or 2 when they cannot be compared.
static int cmp_cell(const cJSON *v, enum col_class cls, const struct lit *l)
{
    switch (cls) {
    case C_NUM:
        if (!cJSON_IsNumber(v)) return 2;
        return (v->valuedouble > l->num) - (v->valuedouble < l->num);
    case C_BOOL:
        if (!cJSON_IsBool(v)) return 2;
        return cJSON_IsTrue(v) == l->b ? 0 : 1;
    case C_DATE:
        if (!cJSON_IsString(v)) return 2;
        {
            int c = strncmp(v->valuestring, l->s, 10);
            return (c > 0) - (c < 0);
        }
    case C_STR:
        if (!cJSON_IsString(v)) return 2;
        return strcasecmp(v->valuestring, l->s) == 0 ? 0 : 1;
    case C_LIST: return 2;
    }
    return 2;
}

bool qs_pred_eval(const struct qs_pred *p, const struct qs_table *t, size_t r)
{
    switch (p->kind) {
    case N_OR: return qs_pred_eval(p->a, t, r) || qs_pred_eval(p->b, t, r);
    case N_AND: return qs_pred_eval(p->a, t, r) && qs_pred_eval(p->b, t, r);
    case N_NOT: return !qs_pred_eval(p->a, t, r);
    default: break;
    }
    const cJSON *v = t->cells[r * t->n_cols + p->col];
    if (v == NULL || cJSON_IsNull(v)) {
        return false;
    }
    switch (p->kind) {
    case N_CMP: {
        int c = cmp_cell(v, p->cls, &p->lits[0]);
        return c != 2 && cmp_holds(p->op, c);
    }
    case N_IN:
        for (size_t i = 0; i < p->n_lits; i++) {
            if (cmp_cell(v, p->cls, &p->lits[i]) == 0) {
                return true;
            }
        }
        return false;
    case N_HAS:
        if (!cJSON_IsString(v)) return false;
        for (size_t i = 0; i < p->n_lits; i++) {
            if (list_holds(v->valuestring, p->lits[i].s)) {
                return true;
            }
        }
        return false;
    case N_LIKE: return cJSON_IsString(v) && contains_ci(v->valuestring, p->lits[0].s);
    default: return false;
    }
}
