// fuzz_csvread.c — fuzz target for the CSV record reader (src/store/csvread.c).
// Reads the bytes with CSVREAD_KEEP_BAD from memory, and checks:
//   - every record: index 0, 1, 2, ...; lines strictly increasing; n_kept <= n; flags match the
//     limits (TOO_MANY exactly when n > LIMIT_CSV_COLUMNS; no flag: every field kept); each kept
//     field NUL-terminated at len; kept bytes within LIMIT_CSV_ROW_BYTES; no blank-line record;
//   - a failed read says why (non-empty message) and is never a record-limit error;
//   - without CSVREAD_KEEP_BAD: the same records up to the first flagged one, which is then a
//     PX_ELIMIT naming its line; otherwise the same status and message;
//   - the same bytes through a FILE (fmemopen) give the same records, status and message;
//   - round trip (inputs under 60,000 bytes, read without error or flag): the records written
//     back with every field quoted read back as the same fields.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvread.h"
#include "limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
    size_t index, line, n, n_kept;
    unsigned flags;
    uint64_t hash; // of the kept fields and their lengths
};

struct run {
    struct rec *r;
    size_t n, cap;
    char *csv; // the records re-written with every field quoted (NULL: not collected)
    size_t csv_len, csv_cap;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 1099511628211ull;
    }
    return h;
}

static void put(struct run *u, const char *p, size_t n)
{
    if (u->csv_len + n > u->csv_cap) {
        u->csv_cap = (u->csv_len + n) * 2 + 64;
        u->csv = realloc(u->csv, u->csv_cap);
        if (u->csv == NULL) {
            abort();
        }
    }
    memcpy(u->csv + u->csv_len, p, n);
    u->csv_len += n;
}

static int on_rec(void *user, const struct csvread_record *r, struct px_err *err)
{
    struct run *u = user;
    (void)err;
    if (r->index != u->n || r->line < 1 || (u->n > 0 && r->line <= u->r[u->n - 1].line)) {
        abort();
    }
    if (r->n == 0 || r->n_kept > r->n || r->n_kept > LIMIT_CSV_COLUMNS) {
        abort();
    }
    if (((r->flags & CSVREAD_TOO_MANY) != 0) != (r->n > LIMIT_CSV_COLUMNS)) {
        abort();
    }
    if (r->flags == 0 && r->n_kept != r->n) {
        abort();
    }
    if (r->n == 1 && r->n_kept == 1 && r->len[0] == 0) {
        abort(); // a blank line is not a record
    }
    uint64_t h = 1469598103934665603ull;
    size_t bytes = 0;
    for (size_t j = 0; j < r->n_kept; j++) {
        if (r->f[j] == NULL || r->f[j][r->len[j]] != '\0') {
            abort();
        }
        bytes += r->len[j] + 1;
        h = fnv(h, &r->len[j], sizeof r->len[j]);
        h = fnv(h, r->f[j], r->len[j]);
        if (u->csv != NULL) {
            put(u, j ? ",\"" : "\"", j ? 2 : 1);
            for (size_t k = 0; k < r->len[j]; k++) {
                put(u, r->f[j] + k, 1);
                if (r->f[j][k] == '"') {
                    put(u, "\"", 1);
                }
            }
            put(u, "\"", 1);
        }
    }
    if (u->csv != NULL) {
        put(u, "\n", 1);
    }
    if (bytes > LIMIT_CSV_ROW_BYTES) {
        abort();
    }
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 16;
        u->r = realloc(u->r, u->cap * sizeof *u->r);
        if (u->r == NULL) {
            abort();
        }
    }
    u->r[u->n++] = (struct rec){r->index, r->line, r->n, r->n_kept, r->flags, h};
    return PX_OK;
}

static int read_mem(const uint8_t *data, size_t size, unsigned opts, struct run *u,
                    struct px_err *err)
{
    struct csvread_source src = {.name = "fuzz.csv", .data = data, .size = size};
    return csvread_source(&src, opts, on_rec, u, err);
}

static bool same_recs(const struct run *a, const struct run *b, size_t n)
{
    if (a->n < n || b->n < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct rec *x = &a->r[i], *y = &b->r[i];
        if (x->line != y->line || x->n != y->n || x->n_kept != y->n_kept || x->flags != y->flags ||
            x->hash != y->hash) {
            return false;
        }
    }
    return true;
}

static void run_free(struct run *u)
{
    free(u->r);
    free(u->csv);
    memset(u, 0, sizeof *u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run keep = {0}, strict = {0}, file = {0}, back = {0};
    struct px_err e_keep = {0}, e_strict = {0}, e_file = {0}, e_back = {0};
    bool small = size < 60000;
    if (small) { // collect the re-written records
        keep.csv_cap = 64;
        keep.csv = malloc(keep.csv_cap);
        if (keep.csv == NULL) {
            abort();
        }
    }
    int rc = read_mem(data, size, CSVREAD_KEEP_BAD, &keep, &e_keep);
    if (rc != PX_OK && e_keep.msg[0] == '\0') {
        abort();
    }
    size_t first_bad = keep.n;
    for (size_t i = 0; i < keep.n; i++) {
        if (keep.r[i].flags != 0) {
            first_bad = i;
            break;
        }
    }

    // without CSVREAD_KEEP_BAD
    int rc_strict = read_mem(data, size, 0, &strict, &e_strict);
    if (first_bad < keep.n) {
        char want[64];
        snprintf(want, sizeof want, "fuzz.csv: line %zu: ", keep.r[first_bad].line);
        if (rc_strict != PX_ELIMIT || strict.n != first_bad ||
            strncmp(e_strict.msg, want, strlen(want)) != 0) {
            abort();
        }
    } else if (rc_strict != rc || strict.n != keep.n || strcmp(e_strict.msg, e_keep.msg) != 0) {
        abort();
    }
    if (!same_recs(&keep, &strict, strict.n)) {
        abort();
    }

    // the same bytes through a FILE
    FILE *f = size > 0 ? fmemopen((void *)data, size, "rb") : NULL;
    if (f != NULL) {
        struct csvread_source src = {.name = "fuzz.csv", .f = f};
        int rc_file = csvread_source(&src, CSVREAD_KEEP_BAD, on_rec, &file, &e_file);
        fclose(f);
        if (rc_file != rc || file.n != keep.n || !same_recs(&keep, &file, keep.n) ||
            strcmp(e_file.msg, e_keep.msg) != 0) {
            abort();
        }
    }

    // round trip
    if (small && rc == PX_OK && first_bad == keep.n) {
        int rc_back = read_mem((const uint8_t *)keep.csv, keep.csv_len, 0, &back, &e_back);
        if (rc_back != PX_OK || back.n != keep.n) {
            abort();
        }
        for (size_t i = 0; i < keep.n; i++) {
            if (back.r[i].n != keep.r[i].n || back.r[i].hash != keep.r[i].hash) {
                abort();
            }
        }
    }
    run_free(&keep);
    run_free(&strict);
    run_free(&file);
    run_free(&back);
    return 0;
}
