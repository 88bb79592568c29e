// book_file.c — the book's index file: everything a search needs, memory-mapped, so opening a
// book reads headers only instead of rebuilding its indexes from SQLite.
//
// One file per import generation beside the store, "<db>.g<N>.index" (N = the id of the import
// that made it), format mapfile.h with magic "PXBOOK\0\0", version BOOK_INDEX_VERSION and the
// generations {import id, vectors' change counter, customers' change counter} (store.h, v4). Sections:
//   BKHD   {n_rows, n_cols, model id of the vectors ("" without)}
//   RIDO   (n_rows) uint64 offsets of the customer ids into RIDS
//   RIDS   the ids, NUL-terminated, back to back
//   RBYI   (n_rows) uint32 rows sorted by id (app_book_find)
//   RRAO   (n_rows * n_cols) uint64 offsets of the formatted values into RRAW
//   RRAW   the formatted values, NUL-terminated, back to back
//   and the engine's (engine_file.c): filter table, BM25, vectors, query-schema statistics.
// Crash safety: the import writes generation N+1's file (write, fsync, rename, fsync the
// directory) inside its transaction, before the commit, and removes the older files after it.
// A kill before the commit leaves the store at N with N's file; after it, N+1 with N+1's. The
// book opens the file of the store's generation; a file that does not match (customers, vectors
// added since) or does not check out is an error naming it and BOOK_INDEX_REBUILD. A store with
// no index file at all (made before this format, or by hand) is built in memory as before.
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book_int.h"
#include "mem.h"

#define BOOK_INDEX_VERSION 1
static const char k_magic[8] = {'P', 'X', 'B', 'O', 'O', 'K', 0, 0};

struct book_file_head {
    uint64_t n_rows, n_cols;
    char model_id[APP_MODEL_ID_BYTES];
};

int book_index_path(const char *db_path, uint64_t gen, char *out, size_t n, struct px_err *err)
{
    int k = snprintf(out, n, "%s.g%" PRIu64 ".index", db_path, gen);
    if (k < 0 || (size_t)k >= n) {
        return px_fail(err, PX_ELIMIT, "'%s': path too long for its index file", db_path);
    }
    return PX_OK;
}

// Splits db_path into its directory (out, "." when none) and file name (*base).
static void split_path(const char *db_path, char *dir, size_t n, const char **base)
{
    const char *slash = strrchr(db_path, '/');
    if (slash == NULL) {
        snprintf(dir, n, ".");
        *base = db_path;
    } else {
        snprintf(dir, n, "%.*s", (int)(slash - db_path + (slash == db_path)), db_path);
        *base = slash + 1;
    }
}

// Calls fn for every "<base>.g<N>.index" in db_path's directory with its generation.
static void each_index(const char *db_path, void (*fn)(const char *path, uint64_t gen, void *u),
                       void *user)
{
    char dir[LIMIT_PATH], path[LIMIT_PATH];
    const char *base = NULL;
    split_path(db_path, dir, sizeof dir, &base);
    size_t nb = strlen(base);
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        const char *n = e->d_name;
        if (strncmp(n, base, nb) != 0 || strncmp(n + nb, ".g", 2) != 0) {
            continue;
        }
        char *end = NULL;
        unsigned long long g = strtoull(n + nb + 2, &end, 10);
        if (end == n + nb + 2 || strcmp(end, ".index") != 0) {
            continue;
        }
        if (snprintf(path, sizeof path, "%s/%s", dir, n) < (int)sizeof path) {
            fn(path, (uint64_t)g, user);
        }
    }
    closedir(d);
}

struct find_state {
    uint64_t want;
    bool other;
    char other_path[LIMIT_PATH];
};

static void note_other(const char *path, uint64_t gen, void *user)
{
    struct find_state *f = user;
    if (gen != f->want && !f->other) {
        f->other = true;
        snprintf(f->other_path, sizeof f->other_path, "%s", path);
    }
}

int book_index_find(const char *db_path, uint64_t gen, char *out, size_t n, bool *found,
                    struct px_err *err)
{
    *found = false;
    int rc = book_index_path(db_path, gen, out, n, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (fsx_is_file(out)) {
        *found = true;
        return PX_OK;
    }
    struct find_state f = {.want = gen};
    each_index(db_path, note_other, &f);
    if (f.other) {
        return px_fail(err, PX_EFORMAT,
                       "'%s' is stale: the store is at import %" PRIu64 " and has no index file "
                       "for it; %s", f.other_path, gen, BOOK_INDEX_REBUILD);
    }
    return PX_OK;
}

struct prune_state {
    uint64_t keep;
};

static void prune_one(const char *path, uint64_t gen, void *user)
{
    if (gen != ((struct prune_state *)user)->keep) {
        unlink(path);
    }
}

void book_index_prune(const char *db_path, uint64_t keep)
{
    struct prune_state p = {keep};
    each_index(db_path, prune_one, &p);
}

int book_index_write(const struct app_book *b, const char *path, const uint64_t gen[3],
                     const char *model_id, struct px_err *err)
{
    struct mapfile_writer w;
    uint64_t g[MAPFILE_N_GEN] = {gen[0], gen[1], gen[2], 0};
    struct book_file_head h = {b->n_rows, b->n_cols, {0}};
    snprintf(h.model_id, sizeof h.model_id, "%s", model_id);
    size_t n_rows = b->n_rows, n_vals = b->n_rows * b->n_cols;
    int rc = mapfile_create(path, k_magic, BOOK_INDEX_VERSION, g, &w, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = mapfile_put(&w, MAPFILE_ID("BKHD"), &h, sizeof h, err);
    if (rc == PX_OK) rc = mapfile_put(&w, MAPFILE_ID("RIDO"), b->id_off, n_rows * sizeof *b->id_off, err);
    if (rc == PX_OK) rc = mapfile_put(&w, MAPFILE_ID("RIDS"), b->ids, b->ids_len, err);
    if (rc == PX_OK) rc = mapfile_put(&w, MAPFILE_ID("RBYI"), b->by_id, n_rows * sizeof *b->by_id, err);
    if (rc == PX_OK) rc = mapfile_put(&w, MAPFILE_ID("RRAO"), b->raw_off, n_vals * sizeof *b->raw_off, err);
    if (rc == PX_OK) rc = mapfile_put(&w, MAPFILE_ID("RRAW"), b->raw, b->raw_len, err);
    if (rc == PX_OK) rc = engine_save(b->eng, &w, err);
    if (rc == PX_OK) {
        rc = mapfile_commit(&w, err);
    } else {
        mapfile_abort(&w);
    }
    return rc;
}

// Section id of the book's map as an array of want elements of elem bytes into *p.
static int get(const struct app_book *b, const char *id, size_t elem, uint64_t want,
               const void **p, size_t *len, struct px_err *err)
{
    int rc = mapfile_get(b->map, MAPFILE_ID(id), elem, p, len, err);
    if (rc == PX_OK && want != UINT64_MAX && *len / (elem ? elem : 1) != want) {
        rc = px_fail(err, PX_EFORMAT, "'%s': section %s has %zu entries, the book %" PRIu64,
                     mapfile_path(b->map), id, *len / (elem ? elem : 1), want);
    }
    return rc;
}

static const struct book_file_head *head_of(const struct app_book *b)
{
    const void *p = NULL;
    size_t len = 0;
    struct px_err e = {0};
    return mapfile_get(b->map, MAPFILE_ID("BKHD"), 1, &p, &len, &e) == PX_OK &&
                   len == sizeof(struct book_file_head)
               ? p
               : NULL;
}

const char *book_index_model(const struct app_book *b)
{
    const struct book_file_head *h = b->map ? head_of(b) : NULL;
    return h != NULL ? h->model_id : "";
}

uint64_t book_index_vector_gen(const struct app_book *b)
{
    return b->map ? mapfile_gen(b->map)[1] : 0;
}

int book_index_open(struct app_book *b, const char *path, const uint64_t gen[3],
                    struct px_err *err)
{
    const void *p = NULL;
    size_t len = 0;
    int rc = mapfile_open(path, k_magic, BOOK_INDEX_VERSION, &b->map, err);
    if (rc != PX_OK) {
        char msg[PX_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return rc == PX_ENOMEM ? rc : px_fail(err, PX_EFORMAT, "%s; %s", msg, BOOK_INDEX_REBUILD);
    }
    const uint64_t *g = mapfile_gen(b->map);
    const struct book_file_head *h = head_of(b);
    if (h == NULL || memchr(h->model_id, '\0', sizeof h->model_id) == NULL) {
        return px_fail(err, PX_EFORMAT, "'%s': the book head is damaged; %s", path,
                       BOOK_INDEX_REBUILD);
    }
    if (g[0] != gen[0] || g[2] != gen[2] || h->n_cols != b->n_cols) {
        return px_fail(err, PX_EFORMAT,
                       "'%s' is stale: written for import %" PRIu64 ", customer change %" PRIu64
                       ", %" PRIu64 " columns; the store is at import %" PRIu64 ", change %" PRIu64
                       ", %zu columns; %s",
                       path, g[0], g[2], h->n_cols, gen[0], gen[2], b->n_cols, BOOK_INDEX_REBUILD);
    }
    if (h->n_rows > LIMIT_VINDEX_ROWS) {
        return px_fail(err, PX_EFORMAT, "'%s': %" PRIu64 " rows; %s", path, h->n_rows,
                       BOOK_INDEX_REBUILD);
    }
    b->n_rows = (size_t)h->n_rows;
    uint64_t n_vals = h->n_rows * h->n_cols;
    rc = get(b, "RIDO", sizeof *b->id_off, h->n_rows, &p, &len, err);
    b->id_off = p;
    if (rc == PX_OK) rc = get(b, "RIDS", 1, UINT64_MAX, &p, &len, err);
    b->ids = p;
    b->ids_len = len;
    if (rc == PX_OK) rc = get(b, "RBYI", sizeof *b->by_id, h->n_rows, &p, &len, err);
    b->by_id = p;
    if (rc == PX_OK) rc = get(b, "RRAO", sizeof *b->raw_off, n_vals, &p, &len, err);
    b->raw_off = p;
    if (rc == PX_OK) rc = get(b, "RRAW", 1, UINT64_MAX, &p, &len, err);
    b->raw = p;
    b->raw_len = len;
    // every offset below a blob's length then reads a NUL-terminated string
    if (rc == PX_OK && ((b->ids_len > 0 && b->ids[b->ids_len - 1] != '\0') ||
                        (b->raw_len > 0 && b->raw[b->raw_len - 1] != '\0'))) {
        rc = px_fail(err, PX_EFORMAT, "'%s': the rows are damaged", path);
    }
    if (rc != PX_OK) {
        b->ids = b->raw = NULL;
        b->id_off = b->raw_off = NULL;
        b->by_id = NULL;
        b->ids_len = b->raw_len = 0;
        b->n_rows = 0;
        if (strstr(err->msg, "prospect index") == NULL) {
            char msg[PX_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            rc = px_fail(err, rc, "%s; %s", msg, BOOK_INDEX_REBUILD);
        }
    }
    return rc;
}
