// data.c — the generators and the CSV import behind app_data.h.
//
// Design:
//   - Both generators produce text rows into a bounded struct buf and write it out in 64 KiB
//     chunks: the demo bank streams (row i depends only on (seed, i)), the wholesale book is
//     built whole by wholesale_new and then written table by table. An output file is an
//     fsx_atomic (temporary name, fsync, rename), so a reader never sees half a table.
//   - The import opens the store, runs csvimport (two passes, one transaction) and copies what
//     the front ends show into plain types: the counts, the first row errors and, after a
//     commit, the store's schema. The JSON summary is written with buf + jsonx like every other
//     document.
//   - After a commit the saved searches' alerts run (app_alerts_after_import, issue 15): the
//     hook sits here so every import path (CLI, tests, future API) triggers it. Its failure
//     does not undo or fail the import (stats->alerts_error says why; the allocations are
//     marked benign for the fault loops), and `prospect alerts run --all` catches up.
//   - Inside the transaction, just before the commit, the book's index file for the new
//     generation is written (csvimport's before_commit; book_file.c), and after the commit the
//     other generations' files are removed: a kill at any point leaves a store and its file.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "app_data.h"
#include "app_saved.h"
#include "bankgen.h"
#include "csvimport.h"
#include "fsx.h"
#include "jsonx.h"
#include "logx.h"
#include "book_int.h"
#include "limits.h"
#include "mem.h"
#include "store.h"
#include "wholesale.h"

// Output is flushed when a chunk reaches this size; the buffer holds one more row beyond it.
#define CHUNK_BYTES (64u << 10)

// ---- the generated demo bank ----

struct app_bank_params app_bank_default_params(void)
{
    struct bankgen_params b = bankgen_default_params();
    struct app_bank_params p = {.rows = b.rows, .seed = b.seed};
    return p;
}

static int write_chunk(FILE *f, struct buf *chunk, const char *shown, struct px_err *err)
{
    if (chunk->len > 0 && fwrite(chunk->data, 1, chunk->len, f) != chunk->len) {
        return px_fail(err, PX_EIO, "cannot write %s", shown);
    }
    buf_reset(chunk);
    return PX_OK;
}

int app_generate_bank(const struct app_bank_params *params, const char *path, FILE *stream,
                      void (*progress)(size_t done, size_t total, void *user), void *user,
                      struct px_err *err)
{
    struct bankgen_params bp = bankgen_default_params();
    bp.rows = params->rows;
    bp.seed = params->seed;
    struct bankgen *g = NULL;
    struct fsx_atomic out = {0};
    struct buf chunk;
    FILE *f = stream;
    const char *shown = path != NULL ? path : "to standard output";
    buf_init(&chunk, CHUNK_BYTES + LIMIT_GENERATE_ROW_BYTES);
    int rc = bankgen_new(&bp, &g, err);
    if (rc == PX_OK && path != NULL) {
        rc = fsx_atomic_open(path, &out, err);
        f = out.f;
    }
    if (rc == PX_OK) {
        rc = bankgen_header(g, &chunk, err);
    }
    while (rc == PX_OK && bankgen_has_next(g)) {
        rc = bankgen_next_row(g, &chunk, err);
        if (rc == PX_OK && (chunk.len >= CHUNK_BYTES || !bankgen_has_next(g))) {
            if (fwrite(chunk.data, 1, chunk.len, f) != chunk.len) {
                rc = px_fail(err, PX_EIO, "cannot write %s after row %llu", shown,
                             (unsigned long long)bankgen_rows_done(g));
                break;
            }
            buf_reset(&chunk);
            if (progress != NULL) {
                progress((size_t)bankgen_rows_done(g), (size_t)bp.rows, user);
            }
        }
    }
    if (rc == PX_OK) {
        rc = write_chunk(f, &chunk, shown, err); // the header when rows is 0
    }
    if (rc == PX_OK && path != NULL) {
        rc = fsx_atomic_commit(&out, err);
    } else if (rc == PX_OK && (fflush(f) != 0 || ferror(f))) {
        rc = px_fail(err, PX_EIO, "cannot write %s", shown);
    }
    fsx_atomic_abort(&out);
    buf_free(&chunk);
    bankgen_free(g);
    return rc;
}

// ---- the generated wholesale book ----

struct app_wholesale_params app_wholesale_default_params(void)
{
    struct wholesale_params w = wholesale_default_params();
    struct app_wholesale_params p = {.n_customers = w.n_customers,
                                     .n_products = w.n_products,
                                     .n_transactions = w.n_transactions,
                                     .seed = w.seed,
                                     .structure = w.structure};
    return p;
}

// Writes one table of w to path atomically.
static int write_table(const struct wholesale *w, enum wholesale_table table, const char *path,
                       struct buf *chunk, struct px_err *err)
{
    struct fsx_atomic out = {0};
    int rc = fsx_atomic_open(path, &out, err);
    if (rc == PX_OK) {
        rc = wholesale_csv_header(table, chunk, err);
    }
    size_t n = wholesale_table_rows(w, table);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        rc = wholesale_csv_row(w, table, i, chunk, err);
        if (rc == PX_OK && chunk->len >= CHUNK_BYTES) {
            rc = write_chunk(out.f, chunk, path, err);
        }
    }
    if (rc == PX_OK) {
        rc = write_chunk(out.f, chunk, path, err);
    }
    if (rc == PX_OK) {
        rc = fsx_atomic_commit(&out, err);
    }
    fsx_atomic_abort(&out);
    buf_reset(chunk);
    return rc;
}

int app_generate_wholesale(const struct app_wholesale_params *params, const char *dir,
                           struct px_err *err)
{
    struct wholesale_params wp = wholesale_default_params();
    wp.n_customers = params->n_customers;
    wp.n_products = params->n_products;
    wp.n_transactions = params->n_transactions;
    wp.seed = params->seed;
    wp.structure = params->structure;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        return px_fail(err, PX_EIO, "cannot create directory %s: %s", dir, strerror(errno));
    }
    struct wholesale *w = NULL;
    struct buf chunk;
    buf_init(&chunk, CHUNK_BYTES + 4096); // a wholesale row is well under 1 KiB
    int rc = wholesale_new(&wp, &w, err);
    static const enum wholesale_table k_tables[] = {WHOLESALE_CUSTOMERS, WHOLESALE_PRODUCTS,
                                                    WHOLESALE_TRANSACTIONS};
    for (size_t t = 0; rc == PX_OK && t < sizeof k_tables / sizeof k_tables[0]; t++) {
        char path[LIMIT_PATH];
        rc = fsx_join(path, sizeof path, dir, wholesale_table_file(k_tables[t]), err);
        if (rc == PX_OK) {
            rc = write_table(w, k_tables[t], path, &chunk, err);
        }
    }
    buf_free(&chunk);
    wholesale_free(w);
    return rc;
}

// ---- importing a customer CSV ----

struct app_import_params app_import_default_params(void)
{
    struct app_import_params p = {
        .id_column = NULL, .on_error = APP_IMPORT_FAIL, .progress = NULL, .user = NULL};
    return p;
}

// Copies the counts and the kept row errors of r into st.
static int copy_result(const struct csvimport_result *r, struct app_import_stats *st,
                       struct px_err *err)
{
    st->rows_read = r->rows_read;
    st->rows_inserted = r->rows_inserted;
    st->rows_updated = r->rows_updated;
    st->rows_skipped = r->rows_skipped;
    st->n_columns = r->n_columns;
    st->n_columns_added = r->n_columns_added;
    st->bytes = r->bytes;
    st->committed = r->committed;
    st->n_errors = r->n_errors;
    for (size_t i = 0; i < r->n_notes && i < sizeof st->notes / sizeof st->notes[0]; i++) {
        snprintf(st->notes[i], sizeof st->notes[i], "%s", r->notes[i]);
        st->n_notes = i + 1;
    }
    if (r->n_errors_kept == 0) {
        return PX_OK;
    }
    st->errors = px_calloc(r->n_errors_kept, sizeof *st->errors);
    if (st->errors == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory keeping %zu row errors", r->n_errors_kept);
    }
    for (size_t i = 0; i < r->n_errors_kept; i++, st->n_errors_kept++) {
        if ((st->errors[i] = px_strdup(r->errors[i].msg)) == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory keeping %zu row errors",
                           r->n_errors_kept);
        }
    }
    return PX_OK;
}

// Copies the store's schema into st->columns.
static int copy_schema(struct store *s, struct app_import_stats *st, struct px_err *err)
{
    struct store_schema sc = {0};
    int rc = store_schema(s, &sc, err);
    if (rc == PX_OK && sc.n_cols > 0) {
        st->columns = px_calloc(sc.n_cols, sizeof *st->columns);
        rc = st->columns != NULL ? PX_OK : PX_ENOMEM;
    }
    for (size_t i = 0; rc == PX_OK && i < sc.n_cols; i++) {
        struct app_import_column *c = &st->columns[i];
        st->n_store_columns++;
        c->name = px_strdup(sc.cols[i].name);
        c->label = px_strdup(sc.cols[i].label);
        c->type = coltype_name(sc.cols[i].type);
        c->is_id = sc.cols[i].is_id;
        rc = c->name != NULL && c->label != NULL ? PX_OK : PX_ENOMEM;
    }
    if (rc == PX_ENOMEM) {
        px_fail(err, PX_ENOMEM, "out of memory reading the store's columns");
    }
    store_schema_free(&sc);
    return rc;
}

// csvimport's before_commit: the book's index file for the generation being committed.
// Only running out of memory or disk fails the import: data the engine refuses (a list column
// past its distinct values) is the open's error, as it was before index files, so the import
// commits without a file (and the book is built in memory, reporting it).
struct index_hook {
    const char *db_path;
    uint64_t gen; // the generation being committed (its file is the one kept)
};

static int write_index(struct store *s, void *user, struct px_err *err)
{
    struct index_hook *h = user;
    uint64_t gen[3];
    int rc = store_generation(s, gen, err);
    if (rc != PX_OK) {
        return rc;
    }
    h->gen = gen[0];
    const char *db_path = h->db_path;
    struct px_err e = {0};
    rc = book_index_rebuild(s, db_path, NULL, 1, false, &e);
    if (rc != PX_OK && rc != PX_ELIMIT && rc != PX_EINVAL) {
        *err = e;
        return rc;
    }
    if (rc != PX_OK) {
        logx(LOGX_WARN, "no index file for '%s': %s", (const char *)db_path, e.msg);
    }
    return PX_OK;
}

int app_import(const char *db_path, const char *csv_path, const struct app_import_params *params,
               struct app_import_stats *stats, struct px_err *err)
{
    struct app_import_params p = params ? *params : app_import_default_params();
    struct csvimport_params ip = csvimport_default_params();
    ip.id_column = p.id_column;
    ip.on_error = p.on_error == APP_IMPORT_SKIP ? CSVIMPORT_SKIP : CSVIMPORT_FAIL;
    ip.delimiter = p.delimiter;
    ip.progress = p.progress;
    ip.progress_user = p.user;
    struct index_hook hook = {db_path, 0};
    ip.before_commit = write_index;
    ip.before_commit_user = &hook;
    struct csvimport_result r;
    struct store *s = NULL;
    memset(stats, 0, sizeof *stats);
    memset(&r, 0, sizeof r);
    int rc = store_open(db_path, NULL, &s, err);
    if (rc == PX_OK) {
        rc = csvimport_file(s, csv_path, &ip, &r, err);
        if (rc == PX_OK) {
            book_index_prune(db_path, hook.gen); // the committed generation's file stays
        }
        struct px_err e2 = {0};
        int rc2 = copy_result(&r, stats, &e2); // the row errors count after a failure too
        if (rc2 == PX_OK && rc == PX_OK) {
            rc2 = copy_schema(s, stats, &e2);
        }
        if (rc2 != PX_OK && rc == PX_OK) {
            rc = rc2;
            *err = e2;
        }
    }
    csvimport_result_free(&r);
    store_close(s);
    if (rc == PX_OK && stats->committed && !p.no_alerts) {
        struct px_err e2 = {0};
        // the import is committed: a failed alert run is reported (stats), not fatal
        px_mem_benign_begin();
        int arc = app_alerts_after_import(db_path, &stats->alerts_ran, &stats->alerts_new, &e2);
        px_mem_benign_end();
        if (arc != PX_OK) {
            snprintf(stats->alerts_error, sizeof stats->alerts_error, "%s", e2.msg);
        }
    }
    return rc;
}

void app_import_stats_free(struct app_import_stats *stats)
{
    if (stats == NULL) {
        return;
    }
    for (size_t i = 0; i < stats->n_errors_kept; i++) {
        px_free(stats->errors[i]);
    }
    px_free(stats->errors);
    for (size_t i = 0; i < stats->n_store_columns; i++) {
        px_free(stats->columns[i].name);
        px_free(stats->columns[i].label);
    }
    px_free(stats->columns);
    memset(stats, 0, sizeof *stats);
}

static int put_count(struct buf *out, const char *key, uint64_t v, struct px_err *err)
{
    int rc = jsonx_put_key(out, key, false, err);
    return rc == PX_OK ? buf_printf(out, err, "%llu", (unsigned long long)v) : rc;
}

int app_import_json(const struct app_import_stats *st, const char *csv_path, const char *db_path,
                    struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err, "{");
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "file", true, err);
    if (rc == PX_OK)
        rc = jsonx_put_string(out, csv_path, strlen(csv_path), err);
    if (rc == PX_OK)
        rc = jsonx_put_member(out, "db", db_path, false, err);
    const struct {
        const char *key;
        uint64_t v;
    } counts[] = {
        {"bytes", st->bytes},
        {"rows_read", st->rows_read},
        {"rows_inserted", st->rows_inserted},
        {"rows_updated", st->rows_updated},
        {"rows_skipped", st->rows_skipped},
        {"n_columns", st->n_columns},
        {"n_columns_added", st->n_columns_added},
        {"n_errors", st->n_errors},
    };
    for (size_t i = 0; rc == PX_OK && i < sizeof counts / sizeof counts[0]; i++) {
        rc = put_count(out, counts[i].key, counts[i].v, err);
    }
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "errors", false, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, "[");
    for (size_t i = 0; rc == PX_OK && i < st->n_errors_kept; i++) {
        if (i > 0)
            rc = buf_printf(out, err, ", ");
        if (rc == PX_OK)
            rc = jsonx_put_string(out, st->errors[i], strlen(st->errors[i]), err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "]");
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "columns", false, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, "[");
    for (size_t i = 0; rc == PX_OK && i < st->n_store_columns; i++) {
        const struct app_import_column *c = &st->columns[i];
        rc = buf_printf(out, err, "%s{", i > 0 ? ", " : "");
        if (rc == PX_OK)
            rc = jsonx_put_key(out, "name", true, err);
        if (rc == PX_OK)
            rc = jsonx_put_string(out, c->name, strlen(c->name), err);
        if (rc == PX_OK)
            rc = jsonx_put_member(out, "label", c->label, false, err);
        if (rc == PX_OK)
            rc = jsonx_put_member(out, "type", c->type, false, err);
        if (rc == PX_OK)
            rc = jsonx_put_key(out, "is_id", false, err);
        if (rc == PX_OK)
            rc = buf_printf(out, err, "%s}", c->is_id ? "true" : "false");
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, "]}");
    return rc;
}
