// qs_set.c — the query set's files: the TSV set, the ratchet of queries that hold, and the
// benchmark's baseline of figures per group (formats in tests/data/queries/README.md).
//
// All three are small line-oriented text files read whole; every rule the README states is
// checked here (the split rule, unique ids, kinds, ratchet entries that name tuning queries of
// the right kind), so a malformed file fails the ctest with its line instead of shrinking it.
#include "queryset.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const char *const k_schemas[QS_N_SCHEMAS] = {"retail", "thera", "wholesale", "cu"};
static const char *const k_kinds[QS_N_KINDS] = {"hard", "profile"};
static const char *const k_splits[QS_N_SPLITS] = {"tuning", "heldout"};

const char *qs_schema_name(enum qs_schema s) { return k_schemas[s]; }
const char *qs_kind_name(enum qs_kind k) { return k_kinds[k]; }
const char *qs_split_name(enum qs_split s) { return k_splits[s]; }

enum qs_split qs_split_of(unsigned number)
{
    return number % 3 == 0 ? QS_HELDOUT : QS_TUNING;
}

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

// The whole file as a NUL-terminated owned string.
static int slurp(const char *path, char **out, struct px_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return px_fail(err, errno == ENOENT ? PX_ENOENT : PX_EIO, "%s: %s", path,
                       strerror(errno));
    }
    size_t cap = 1 << 16, n = 0;
    char *s = px_malloc(cap);
    int rc = s ? PX_OK : px_fail(err, PX_ENOMEM, "out of memory");
    while (rc == PX_OK) {
        if (n + 1 == cap) {
            char *g = px_realloc(s, cap * 2);
            if (g == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory");
                break;
            }
            s = g;
            cap *= 2;
        }
        size_t got = fread(s + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = px_fail(err, PX_EIO, "%s: read failed", path);
            }
            break;
        }
    }
    fclose(f);
    if (rc != PX_OK) {
        px_free(s);
        return rc;
    }
    s[n] = '\0';
    *out = s;
    return PX_OK;
}

// Cuts s into lines in place; calls fn on each (CR stripped) with its 1-based number.
static int each_line(char *s, int (*fn)(char *line, size_t no, void *user, struct px_err *err),
                     void *user, struct px_err *err)
{
    size_t no = 0;
    int rc = PX_OK;
    for (char *p = s; rc == PX_OK && *p;) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = '\0';
        size_t n = strlen(p);
        if (n > 0 && p[n - 1] == '\r') p[n - 1] = '\0';
        rc = fn(p, ++no, user, err);
        p = next;
    }
    return rc;
}

static bool blank_or_comment(const char *line)
{
    while (*line == ' ' || *line == '\t') line++;
    return *line == '\0' || *line == '#';
}

static bool parse_id(const char *s, unsigned *number)
{
    if (s[0] != 'q' || !isdigit((unsigned char)s[1]) || strlen(s) > 8) {
        return false;
    }
    char *end = NULL;
    unsigned long v = strtoul(s + 1, &end, 10);
    if (*end != '\0' || v == 0) {
        return false;
    }
    *number = (unsigned)v;
    return true;
}

long qs_set_find(const struct qs_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->q[i].id, id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

void qs_set_free(struct qs_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        px_free(set->q[i].text);
        px_free(set->q[i].predicate);
    }
    px_free(set->q);
    memset(set, 0, sizeof *set);
}

struct set_ctx {
    struct qs_set *set;
    size_t cap;
    const char *path;
};

static int set_line(char *line, size_t no, void *user, struct px_err *err)
{
    struct set_ctx *c = user;
    if (blank_or_comment(line)) {
        return PX_OK;
    }
    char *f[6];
    int n = 0;
    for (char *p = line; n < 6; n++) {
        f[n] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
        if (n == 5) {
            return px_fail(err, PX_EFORMAT, "%s:%zu: more than 6 tab-separated fields", c->path,
                           no);
        }
    }
    if (n != 6) {
        return px_fail(err, PX_EFORMAT,
                       "%s:%zu: %d fields; want id, schema, kind, split, text, predicate",
                       c->path, no, n);
    }
    struct qs_query q = {0};
    q.line = no;
    if (!parse_id(f[0], &q.number)) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: id \"%s\" is not q<number>", c->path, no, f[0]);
    }
    snprintf(q.id, sizeof q.id, "%s", f[0]);
    if (qs_set_find(c->set, q.id) >= 0) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: id %s is used twice", c->path, no, q.id);
    }
    int s = name_index(k_schemas, QS_N_SCHEMAS, f[1]);
    int k = name_index(k_kinds, QS_N_KINDS, f[2]);
    int sp = name_index(k_splits, QS_N_SPLITS, f[3]);
    if (s < 0 || k < 0 || sp < 0) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: unknown %s \"%s\"", c->path, no,
                       s < 0 ? "schema" : k < 0 ? "kind" : "split",
                       s < 0 ? f[1] : k < 0 ? f[2] : f[3]);
    }
    q.schema = (enum qs_schema)s;
    q.kind = (enum qs_kind)k;
    q.split = (enum qs_split)sp;
    if (q.split != qs_split_of(q.number)) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: %s must be %s (ids divisible by 3 are held out)",
                       c->path, no, q.id, k_splits[qs_split_of(q.number)]);
    }
    if (f[4][0] == '\0' || f[5][0] == '\0') {
        return px_fail(err, PX_EFORMAT, "%s:%zu: empty %s", c->path, no,
                       f[4][0] ? "predicate" : "text");
    }
    if (c->set->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct qs_query *g = px_realloc(c->set->q, cap * sizeof *g);
        if (g == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory");
        }
        c->set->q = g;
        c->cap = cap;
    }
    q.text = px_strdup(f[4]);
    q.predicate = px_strdup(f[5]);
    if (q.text == NULL || q.predicate == NULL) {
        px_free(q.text);
        px_free(q.predicate);
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    c->set->q[c->set->n++] = q;
    return PX_OK;
}

int qs_set_load(const char *path, struct qs_set *set, struct px_err *err)
{
    memset(set, 0, sizeof *set);
    char *s = NULL;
    int rc = slurp(path, &s, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct set_ctx c = {set, 0, path};
    rc = each_line(s, set_line, &c, err);
    px_free(s);
    if (rc == PX_OK && set->n == 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: no queries", path);
    }
    if (rc != PX_OK) {
        qs_set_free(set);
    }
    return rc;
}

// ---- the ratchet ----

struct ratchet_ctx {
    const struct qs_set *set;
    struct qs_ratchet *r;
    size_t cap;
    const char *path;
};

static int ratchet_line(char *line, size_t no, void *user, struct px_err *err)
{
    struct ratchet_ctx *c = user;
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char id[32], floor[32], extra[8];
    int n = sscanf(line, "%31s %31s %7s", id, floor, extra);
    if (n <= 0) {
        return PX_OK;
    }
    if (n != 2) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: want \"<id> all\" or \"<id> <k>\"", c->path, no);
    }
    long qi = qs_set_find(c->set, id);
    if (qi < 0) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: no query %s in the set", c->path, no, id);
    }
    const struct qs_query *q = &c->set->q[qi];
    if (q->split != QS_TUNING) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: %s is held out: the ratchet names tuning queries only",
                       c->path, no, id);
    }
    struct qs_ratchet_entry e = {.line = no};
    snprintf(e.id, sizeof e.id, "%.15s", id);
    if (strcmp(floor, "all") == 0) {
        e.min_ok = -1;
    } else {
        char *end = NULL;
        long k = strtol(floor, &end, 10);
        if (*end != '\0' || k < 1 || k > QS_TOP) {
            return px_fail(err, PX_EFORMAT, "%s:%zu: \"%s\" is neither all nor 1..%d", c->path, no,
                           floor, QS_TOP);
        }
        e.min_ok = (int)k;
    }
    if ((e.min_ok < 0) != (q->kind == QS_HARD)) {
        return px_fail(err, PX_EFORMAT, "%s:%zu: %s is a %s query: use %s", c->path, no, id,
                       k_kinds[q->kind], q->kind == QS_HARD ? "all" : "a count 1..10");
    }
    for (size_t i = 0; i < c->r->n; i++) {
        if (strcmp(c->r->e[i].id, id) == 0) {
            return px_fail(err, PX_EFORMAT, "%s:%zu: %s listed twice", c->path, no, id);
        }
    }
    if (c->r->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct qs_ratchet_entry *g = px_realloc(c->r->e, cap * sizeof *g);
        if (g == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory");
        }
        c->r->e = g;
        c->cap = cap;
    }
    c->r->e[c->r->n++] = e;
    return PX_OK;
}

int qs_ratchet_load(const char *path, const struct qs_set *set, struct qs_ratchet *r,
                    struct px_err *err)
{
    memset(r, 0, sizeof *r);
    char *s = NULL;
    int rc = slurp(path, &s, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct ratchet_ctx c = {set, r, 0, path};
    rc = each_line(s, ratchet_line, &c, err);
    px_free(s);
    if (rc != PX_OK) {
        qs_ratchet_free(r);
    }
    return rc;
}

void qs_ratchet_free(struct qs_ratchet *r)
{
    px_free(r->e);
    memset(r, 0, sizeof *r);
}

// ---- the baseline ----

static int baseline_line(char *line, size_t no, void *user, struct px_err *err)
{
    struct qs_baseline *b = user;
    if (blank_or_comment(line)) {
        return PX_OK;
    }
    char schema[32], kind[32], split[32], head[32];
    size_t n, holds;
    if (sscanf(line, "%31s %31s %31s %zu %31s %zu", schema, kind, split, &n, head, &holds) != 6) {
        return px_fail(err, PX_EFORMAT, "baseline:%zu: want schema kind split n headline holds",
                       no);
    }
    int s = name_index(k_schemas, QS_N_SCHEMAS, schema);
    int k = name_index(k_kinds, QS_N_KINDS, kind);
    int sp = name_index(k_splits, QS_N_SPLITS, split);
    if (s < 0 || k < 0 || sp < 0) {
        return px_fail(err, PX_EFORMAT, "baseline:%zu: unknown group %s %s %s", no, schema, kind,
                       split);
    }
    b->g[s][k][sp].present = true;
    b->g[s][k][sp].n = n;
    b->g[s][k][sp].headline = strcmp(head, "-") == 0 ? NAN : strtod(head, NULL);
    b->g[s][k][sp].n_hold = holds;
    return PX_OK;
}

int qs_baseline_load(const char *path, struct qs_baseline *b, struct px_err *err)
{
    memset(b, 0, sizeof *b);
    char *s = NULL;
    int rc = slurp(path, &s, err);
    if (rc == PX_OK) {
        rc = each_line(s, baseline_line, b, err);
        px_free(s);
    }
    return rc;
}

int qs_baseline_write(const char *path, const struct qs_set *set,
                      const struct qs_outcome *outcomes, struct px_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return px_fail(err, PX_EIO, "%s: %s", tmp, strerror(errno));
    }
    fprintf(f, "# bench_queries --write-baseline: figures per group of tests/data/queries/queries.tsv\n"
               "# schema kind split n_queries headline holds\n"
               "# headline: hard = %% of returned rows satisfying the predicate, profile = mean "
               "P@10 %%;\n# holds: hard = queries whose every row satisfies, profile = queries "
               "with P@10 = 1\n");
    for (int s = 0; s < QS_N_SCHEMAS; s++) {
        for (int k = 0; k < QS_N_KINDS; k++) {
            for (int sp = 0; sp < QS_N_SPLITS; sp++) {
                struct qs_figures g = qs_figures_of(set, outcomes, s, k, sp);
                if (g.n_queries == 0) {
                    continue;
                }
                double h = qs_figures_headline(&g, (enum qs_kind)k);
                fprintf(f, "%s %s %s %zu %.1f %zu\n", k_schemas[s], k_kinds[k], k_splits[sp],
                        g.n_queries, h, g.n_hold);
            }
        }
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return px_fail(err, PX_EIO, "%s: %s", path, strerror(errno));
    }
    return PX_OK;
}
