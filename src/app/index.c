// index.c — `prospect index` behind the façade (app_index): every customer of the store that
// has no vector for the sentence-transformer (model id = sha256 of model.safetensors) is
// rendered as its profile text (rowtext, the same rendering the book's lexical path sees),
// embedded in batches of INDEX_BATCH and stored, one transaction per batch, so an interrupted
// run loses at most the batch in flight and a re-run resumes without duplicates. After the last
// batch (also when nothing was left to embed) the book's index file for the current generation
// is rewritten with the vectors (book_index_rebuild): until then a book opened with the dense
// path reports its file as stale.
// The rows are read through one connection and the vectors written through a second: an
// iterator's open statement holds a read transaction, and SQLite cannot upgrade a read
// transaction to a write once another connection (a server writing audit rows) has committed
// since it began (SQLITE_BUSY at once, no busy wait). With its own connection the writer waits
// its turn like any other, while the reader keeps its snapshot (WAL).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_encoder.h"
#include "encoder_int.h"
#include "book_int.h"
#include "embedder.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "rowtext.h"
#include "store.h"

#define INDEX_BATCH 256

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int app_index(const char *db_path, const char *model_flag, const char *template_path,
              int n_threads, app_progress_fn progress, void *user,
              struct app_index_stats *stats, struct px_err *err)
{
    int rc = PX_OK;
    struct rowtext_template *tpl = NULL;
    struct store *st = NULL, *wst = NULL; // reads, writes (see above)
    struct store_schema sc = {0};
    struct store_ids todo = {0};
    struct embedder *e = NULL;
    struct embed_ctx *ctx = NULL;
    struct store_iter *it = NULL;
    struct rowtext_field *fields = NULL;
    char(*scratch)[48] = NULL;
    struct buf texts[INDEX_BATCH];
    const char *ptr[INDEX_BATCH];
    size_t lens[INDEX_BATCH];
    char *ids[INDEX_BATCH] = {0};
    float *vecs = NULL;
    size_t n_batch = 0;
    char dir[LIMIT_PATH];
    memset(stats, 0, sizeof *stats);
    for (int i = 0; i < INDEX_BATCH; i++) {
        buf_init(&texts[i], LIMIT_TEXT_BYTES);
    }
    rc = app_open_embedder(model_flag, &e, dir, sizeof dir, err);
    if (rc == PX_OK) {
        rc = app_model_id(dir, stats->model_id, sizeof stats->model_id, err);
    }
    if (rc == PX_OK) {
        struct embed_ctx_params ep = embed_ctx_default_params();
        ep.n_threads = n_threads;
        rc = embed_ctx_new(e, &ep, &ctx, err);
    }
    if (rc == PX_OK) {
        rc = store_open(db_path, NULL, &st, err);
    }
    if (rc == PX_OK) {
        rc = store_open(db_path, NULL, &wst, err);
    }
    if (rc == PX_OK) {
        rc = store_schema(st, &sc, err);
    }
    if (rc == PX_OK) {
        rc = book_load_template(template_path, &sc, &tpl, err);
    }
    if (rc == PX_OK) {
        rc = store_count_customers(st, &stats->n_customers, err);
    }
    if (rc == PX_OK) {
        rc = store_customers_without_vector(st, stats->model_id, &todo, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    stats->n_skipped = stats->n_customers - todo.n;
    if (todo.n == 0) {
        rc = book_index_rebuild(st, db_path, model_flag, n_threads, true, err);
        goto done;
    }
    qsort(todo.ids, todo.n, sizeof *todo.ids, cmp_str);
    const int dim = embedder_info(e)->dim;
    fields = px_calloc(sc.n_cols ? sc.n_cols : 1, sizeof *fields);
    scratch = px_calloc(sc.n_cols ? sc.n_cols : 1, sizeof *scratch);
    vecs = px_malloc((size_t)INDEX_BATCH * (size_t)dim * sizeof *vecs);
    if (fields == NULL || scratch == NULL || vecs == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory indexing");
        goto done;
    }
    rc = store_iter_new(st, &sc, &it, err);
    bool has_row = true;
    while (rc == PX_OK) {
        const char *id = NULL;
        const struct coltype_value *vals = NULL;
        rc = store_iter_next(it, &has_row, &id, &vals, err);
        if (rc != PX_OK) {
            break;
        }
        if (has_row && bsearch(&id, todo.ids, todo.n, sizeof *todo.ids, cmp_str) != NULL) {
            book_row_fields(&sc, vals, fields, scratch);
            buf_reset(&texts[n_batch]);
            rc = rowtext_render(tpl, fields, sc.n_cols, &texts[n_batch], err);
            if (rc == PX_OK && (ids[n_batch] = px_strdup(id)) == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory indexing");
            }
            if (rc != PX_OK) {
                break;
            }
            ptr[n_batch] = texts[n_batch].data ? texts[n_batch].data : "";
            lens[n_batch] = texts[n_batch].len;
            n_batch++;
        }
        if (n_batch == INDEX_BATCH || (!has_row && n_batch > 0)) {
            struct embed_stats es;
            rc = embed_texts(ctx, ptr, lens, n_batch, vecs, NULL, NULL, &es, err);
            if (rc != PX_OK) {
                px_err_prefix(err, "customer '%s'", ids[es.i_error]);
                break;
            }
            rc = store_put_vectors(wst, stats->model_id, (const char *const *)ids, vecs, n_batch,
                                   dim, err);
            if (rc != PX_OK) {
                break;
            }
            stats->n_embedded += n_batch;
            for (size_t i = 0; i < n_batch; i++) {
                px_free(ids[i]);
                ids[i] = NULL;
            }
            n_batch = 0;
            if (progress != NULL) {
                progress(stats->n_embedded, todo.n, user);
            }
        }
        if (!has_row) {
            break;
        }
    }
    if (rc == PX_OK && st != NULL) {
        // the vectors committed: the book's index file with them, for the current generation
        // (a kill before this leaves the old file, which the open then reports as stale)
        rc = book_index_rebuild(st, db_path, model_flag, n_threads, true, err);
    }
done:
    for (int i = 0; i < INDEX_BATCH; i++) {
        buf_free(&texts[i]);
        px_free(ids[i]);
    }
    px_free(vecs);
    px_free(fields);
    px_free(scratch);
    rowtext_template_free(tpl);
    store_iter_free(it);
    store_ids_free(&todo);
    store_schema_free(&sc);
    store_close(wst);
    store_close(st);
    embed_ctx_free(ctx);
    embedder_close(e);
    return rc;
}

int app_index_stats_json(const struct app_index_stats *stats, struct buf *out,
                         struct px_err *err)
{
    int rc = buf_printf(out, err, "{\"customers\": %zu, \"embedded\": %zu, \"skipped\": %zu",
                        stats->n_customers, stats->n_embedded, stats->n_skipped);
    if (rc == PX_OK) rc = jsonx_put_key(out, "model_id", false, err);
    if (rc == PX_OK) rc = jsonx_put_string(out, stats->model_id, strlen(stats->model_id), err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}
