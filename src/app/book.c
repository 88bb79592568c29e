// book.c — opening the customer book: the store joined to the search engine and the embedder.
//
// app_book_open walks the store once, in customer order. Per row the book keeps what it shows
// (the id and each column's formatted value, rowtext's formatting) and hands the engine
// (src/search/engine.h) what it searches: numbers and booleans, category and list values, and
// the row's profile text (the same rendering `prospect index` embedded). Then, when the
// sentence-transformer's weights open and the store holds vectors for that model (model id =
// sha256 of model.safetensors), the vectors go to the engine too — its vector index keeps the
// only copy — and each search lane gets an embedder context. engine_build derives the query
// schema; the lexicon (built in, or the bundle's, plus a user file) completes the parser, and
// the book's vocabulary (search/vocab.h: the labels and values through word forms, WordNet and
// typos; app_book_params.wordnet_dir, no_vocab) is built from both, once, last. Its cost
// depends on distinct values, not rows (bench/bench_vocab, bench/bench_parse).
//
// The dense path is optional: no weights, no vectors yet, or a vector the index refuses turn
// it off with a one-line reason (dense_status) and the book searches on filters and keywords.
// Running out of memory is never such a reason: it fails the open (PX_ENOMEM).
//
// Two ways to open (app_book_open): from the book's index file for the store's generation
// (book_file.c: the rows and the engine mapped, nothing rebuilt; open_from_file), or, when the
// store has no index file, when a template is given or when the file lacks vectors the store
// holds, by the walk above (build_from_store). book_index_rebuild runs the walk on an open store
// and writes the file: the import calls it before its commit, `prospect index` after its last
// batch. Both paths give the same answers (test_bookfile).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_book.h"
#include "app_encoder.h"
#include "assets.h"
#include "book_int.h"
#include "encoder_int.h"
#include "fsx.h"
#include "limits.h"
#include "mem.h"
#include "profile_int.h"

// ---- profile text (shared with index.c) ----

void book_row_fields(const struct store_schema *sc, const struct coltype_value *vals,
                     struct rowtext_field *f, char (*scratch)[48])
{
    for (size_t c = 0; c < sc->n_cols; c++) {
        const struct store_column *col = &sc->cols[c];
        const struct coltype_value *v = &vals[c];
        f[c] = (struct rowtext_field){col->name, col->label, profile_kind(col->type), NULL, 0};
        if (v->missing) {
            continue;
        }
        // the member that holds the value follows the column's SQL type (coltype.h)
        if (col->type == COLTYPE_INTEGER || col->type == COLTYPE_BOOL) {
            f[c].num = (double)v->i;
            snprintf(scratch[c], sizeof scratch[c], "%lld", (long long)v->i);
            f[c].value = scratch[c];
        } else if (coltype_is_numeric(col->type)) {
            f[c].num = v->d;
            snprintf(scratch[c], sizeof scratch[c], "%.17g", v->d);
            f[c].value = scratch[c];
        } else {
            size_t n = v->len < sizeof scratch[c] - 1 ? v->len : sizeof scratch[c] - 1;
            if (v->s != NULL && v->len == strlen(v->s)) {
                f[c].value = v->s; // NUL-terminated text from the store
            } else {
                memcpy(scratch[c], v->s ? v->s : "", n);
                scratch[c][n] = '\0';
                f[c].value = scratch[c];
            }
        }
    }
}

int book_load_template(const char *path, const struct store_schema *sc,
                       struct rowtext_template **out, struct px_err *err)
{
    *out = NULL;
    if (path == NULL) {
        return PX_OK;
    }
    char *text = NULL;
    size_t len = 0;
    struct rowtext_field *f = px_calloc(sc->n_cols ? sc->n_cols : 1, sizeof *f);
    int rc = f == NULL ? px_fail(err, PX_ENOMEM, "out of memory")
                       : fsx_read_file(path, LIMIT_CONFIG_FILE_BYTES, &text, &len, err);
    for (size_t c = 0; rc == PX_OK && c < sc->n_cols; c++) {
        f[c].name = sc->cols[c].name;
        f[c].label = sc->cols[c].label;
    }
    if (rc == PX_OK) {
        rc = rowtext_template_compile(text, len, f, sc->n_cols, out, err);
        if (rc != PX_OK) {
            px_err_prefix(err, "%s", path);
        }
    }
    px_free(text);
    px_free(f);
    return rc;
}

// ---- loading ----

struct app_book_params app_book_default_params(void)
{
    struct app_book_params p = {.db_path = "prospect.db", .n_threads = 1, .n_lanes = 1};
    return p;
}

const char *book_raw_at(const struct app_book *b, size_t r, size_t c)
{
    uint64_t off = b->raw != NULL && r < b->n_rows ? b->raw_off[r * b->n_cols + c] : UINT64_MAX;
    return off < b->raw_len ? b->raw + off : ""; // the blob ends with a NUL (checked on open)
}

static bool is_id_column(const struct store_schema *sc, size_t c)
{
    return sc->cols[c].is_id || (int)c == sc->i_id;
}

// The engine's view of a store column: what the parser and the filters may do with it.
static struct engine_column engine_column_of(const struct store_schema *sc, size_t c)
{
    const struct store_column *col = &sc->cols[c];
    struct engine_column ec = {col->name, col->label, QUERY_COL_TEXT, QUERY_UNIT_NONE};
    if (is_id_column(sc, c)) {
        ec.kind = QUERY_COL_ID;
    } else if (coltype_is_numeric(col->type)) {
        ec.kind = QUERY_COL_NUMERIC;
        ec.unit = col->type == COLTYPE_CURRENCY  ? QUERY_UNIT_CURRENCY
                  : col->type == COLTYPE_PERCENT ? QUERY_UNIT_PERCENT
                                                 : QUERY_UNIT_NONE;
    } else if (col->type == COLTYPE_BOOL) {
        ec.kind = QUERY_COL_BOOL;
    } else if (col->type == COLTYPE_CATEGORY) {
        ec.kind = QUERY_COL_CATEGORY;
    } else if (col->type == COLTYPE_LIST) {
        ec.kind = QUERY_COL_LIST;
    }
    return ec;
}

// Hands row r's values and text to the engine builder.
static int add_row(const struct app_book *b, struct engine_builder *eb,
                   const struct engine_column *ecols, const struct rowtext_field *fields,
                   const struct coltype_value *vals, size_t r, const struct buf *text,
                   struct px_err *err)
{
    int rc = PX_OK;
    for (size_t c = 0; c < b->n_cols && rc == PX_OK; c++) {
        switch (ecols[c].kind) {
        case QUERY_COL_NUMERIC:
        case QUERY_COL_BOOL:
            rc = engine_builder_set_number(eb, r, c, vals[c].missing ? NAN : fields[c].num, err);
            break;
        case QUERY_COL_CATEGORY:
        case QUERY_COL_LIST:
            rc = engine_builder_set_value(eb, r, c, fields[c].value ? fields[c].value : "", err);
            break;
        default: break;
        }
    }
    if (rc == PX_OK) {
        rc = engine_builder_add_text(eb, r, text->data ? text->data : "", text->len, err);
    }
    return rc;
}

// Pass over the store: ids and formatted values kept, numbers, values and profile texts to eb.
static int load_rows(struct app_book *b, struct store *st, struct engine_builder *eb,
                     const struct engine_column *ecols, size_t cap_rows,
                     const char *template_path, struct px_err *err)
{
    int rc = PX_OK;
    struct store_iter *it = NULL;
    struct rowtext_template *tpl = NULL;
    struct rowtext_field *fields = NULL;
    char(*scratch)[48] = NULL;
    struct buf raw, text, ids;
    buf_init(&raw, (size_t)1 << 34);
    buf_init(&ids, (size_t)1 << 34);
    buf_init(&text, LIMIT_TEXT_BYTES);
    size_t nc = b->n_cols;
    fields = px_calloc(nc ? nc : 1, sizeof *fields);
    scratch = px_calloc(nc ? nc : 1, sizeof *scratch);
    uint64_t *id_off = px_calloc(cap_rows ? cap_rows : 1, sizeof *id_off);
    uint64_t *raw_off = px_malloc((cap_rows ? cap_rows : 1) * (nc ? nc : 1) * sizeof *raw_off);
    b->owned[0] = id_off;
    b->owned[1] = raw_off;
    b->id_off = id_off;
    b->raw_off = raw_off;
    if (!fields || !scratch || !id_off || !raw_off) {
        rc = px_fail(err, PX_ENOMEM, "out of memory loading %zu customers", cap_rows);
        goto done;
    }
    rc = book_load_template(template_path, &b->sc, &tpl, err);
    if (rc == PX_OK) {
        rc = store_iter_new(st, &b->sc, &it, err);
    }
    while (rc == PX_OK) {
        bool has_row = false;
        const char *id = NULL;
        const struct coltype_value *vals = NULL;
        rc = store_iter_next(it, &has_row, &id, &vals, err);
        if (rc != PX_OK || !has_row) {
            break;
        }
        size_t r = b->n_rows;
        if (r >= cap_rows) {
            rc = px_fail(err, PX_EINTERNAL, "the customer table grew while loading");
            break;
        }
        id_off[r] = ids.len;
        rc = buf_append(&ids, id, strlen(id) + 1, err);
        if (rc != PX_OK) {
            break;
        }
        b->n_rows++;
        size_t er = 0;
        rc = engine_builder_add_row(eb, &er, err);
        book_row_fields(&b->sc, vals, fields, scratch);
        for (size_t c = 0; c < nc && rc == PX_OK; c++) {
            raw_off[r * nc + c] = raw.len;
            const char *v = fields[c].value ? fields[c].value : "";
            rc = buf_append(&raw, v, strlen(v) + 1, err);
        }
        buf_reset(&text);
        if (rc == PX_OK) {
            rc = rowtext_render(tpl, fields, nc, &text, err);
        }
        if (rc == PX_OK) {
            rc = add_row(b, eb, ecols, fields, vals, r, &text, err);
        }
    }
    b->raw_len = raw.len;
    b->ids_len = ids.len;
    b->raw = b->owned[2] = buf_take(&raw);
    b->ids = b->owned[3] = buf_take(&ids);
done:
    buf_free(&raw);
    buf_free(&ids);
    buf_free(&text);
    px_free(fields);
    px_free(scratch);
    rowtext_template_free(tpl);
    store_iter_free(it);
    return rc;
}

// qsort_r comparator (glibc argument order): rows by customer id.
static int cmp_row_id(const void *a, const void *b, void *book)
{
    const struct app_book *bk = book;
    return strcmp(app_book_id(bk, *(const uint32_t *)a), app_book_id(bk, *(const uint32_t *)b));
}

static int sort_ids(struct app_book *b, struct px_err *err)
{
    uint32_t *by_id = px_malloc((b->n_rows ? b->n_rows : 1) * sizeof *by_id);
    if (by_id == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < b->n_rows; r++) {
        by_id[r] = (uint32_t)r;
    }
    qsort_r(by_id, b->n_rows, sizeof *by_id, cmp_row_id, b);
    b->by_id = b->owned[4] = by_id;
    return PX_OK;
}

// The built-in lexicon (or the bundle's, lexicon_base_path) with the user's merged over it.
static int load_lexicon(struct app_book *b, const struct app_book_params *p, struct px_err *err)
{
    int rc = PX_OK;
    if (p->lexicon_base_path != NULL) {
        char *text = NULL;
        size_t len = 0;
        rc = fsx_read_file(p->lexicon_base_path, LIMIT_LEXICON_BYTES, &text, &len, err);
        if (rc == PX_OK) {
            rc = query_lexicon_parse(text, len, &b->lex, err);
            if (rc != PX_OK) {
                px_err_prefix(err, "%s", p->lexicon_base_path);
            }
        }
        px_free(text);
    } else {
        rc = query_lexicon_parse((const char *)px_asset_lexicon, px_asset_lexicon_len, &b->lex,
                                 err);
    }
    if (rc == PX_OK && p->lexicon_path != NULL) {
        rc = query_lexicon_load(b->lex, p->lexicon_path, err);
    }
    return rc;
}

// Turns the dense path off: the status says why, what was opened for it is closed.
static void dense_off(struct app_book *b, struct engine_builder *eb, const char *fmt,
                      const char *why)
{
    snprintf(b->dense_status, sizeof b->dense_status, fmt, why);
    if (eb != NULL) {
        engine_builder_drop_vectors(eb);
    }
    book_qcache_free(b->qc);
    b->qc = NULL;
    for (size_t i = 0; i < b->lanes.n_lanes; i++) {
        embed_ctx_free(b->lanes.lanes[i].ectx);
        b->lanes.lanes[i].ectx = NULL;
    }
    embedder_close(b->e);
    b->e = NULL;
    b->dim = 0;
}

// The query encoder of either open path: the model's weights, an embedder context per lane and
// the model's id. *on false (dense_status says why) when the bundle has no embeddings or the
// weights do not open; PX_OK either way, PX_ENOMEM fails the open. eb: the builder, or NULL.
static int open_encoder(struct app_book *b, struct engine_builder *eb,
                        const struct app_book_params *p, char dir[LIMIT_PATH],
                        char model_id[APP_MODEL_ID_BYTES], bool *on, struct px_err *err)
{
    struct px_err why = {0};
    *on = false;
    if (p->lexical_only) {
        snprintf(b->dense_status, sizeof b->dense_status,
                 "semantic search is off, searching on filters and keywords only: the bundle was "
                 "made without embeddings");
        return PX_OK;
    }
    if (app_open_embedder(p->model_flag, &b->e, dir, LIMIT_PATH, &why) != PX_OK) {
        int rc = why.code == PX_ENOMEM ? px_fail(err, PX_ENOMEM, "%s", why.msg) : PX_OK;
        dense_off(b, eb, "semantic search is off, searching on filters and keywords only: %s",
                  why.msg);
        return rc;
    }
    struct embed_ctx_params ep = embed_ctx_default_params();
    ep.n_threads = p->n_threads;
    ep.batch_size = 1; // one query text per search
    int st_rc = PX_OK;
    for (size_t i = 0; i < b->lanes.n_lanes && st_rc == PX_OK; i++) {
        st_rc = embed_ctx_new(b->e, &ep, &b->lanes.lanes[i].ectx, &why);
    }
    if (st_rc == PX_OK) st_rc = app_model_id(dir, model_id, APP_MODEL_ID_BYTES, &why);
    if (st_rc != PX_OK) {
        int rc = why.code == PX_ENOMEM ? px_fail(err, PX_ENOMEM, "%s", why.msg) : PX_OK;
        dense_off(b, eb, "semantic search is off: %s", why.msg);
        return rc;
    }
    *on = true;
    return PX_OK;
}

// The dense path: the model's weights, and vectors for that model in the store, handed to eb.
// PX_OK with or without it (dense_status says which); PX_ENOMEM fails the open.
static int load_dense(struct app_book *b, struct store *st, struct engine_builder *eb,
                      const struct app_book_params *p, struct px_err *err)
{
    struct px_err why = {0};
    struct store_vectors sv = {0};
    char dir[LIMIT_PATH], model_id[APP_MODEL_ID_BYTES];
    bool on = false;
    int rc = open_encoder(b, eb, p, dir, model_id, &on, err);
    if (rc != PX_OK || !on) {
        return rc;
    }
    if (store_load_vectors(st, model_id, &sv, &why) != PX_OK) {
        rc = why.code == PX_ENOMEM ? px_fail(err, PX_ENOMEM, "%s", why.msg) : PX_OK;
        dense_off(b, eb, "semantic search is off: %s", why.msg);
        goto done;
    }
    if (sv.n == 0) {
        dense_off(b, eb,
                  "semantic search is off: no customer has a vector for the model in %s yet; run "
                  "`prospect index`",
                  dir);
        goto done;
    }
    b->dim = sv.dim;
    snprintf(b->model_id, sizeof b->model_id, "%s", model_id);
    b->qc = book_qcache_new(sv.dim);
    if (b->qc == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory for the query cache");
        goto done;
    }
    for (size_t i = 0; i < sv.n; i++) {
        long r = app_book_find(b, sv.ids[i]);
        if (r < 0) {
            continue;
        }
        const float *v = sv.data + i * (size_t)sv.dim;
        if (engine_builder_add_vector(eb, (size_t)r, v, (size_t)sv.dim, &why) != PX_OK) {
            rc = why.code == PX_ENOMEM ? px_fail(err, PX_ENOMEM, "%s", why.msg) : PX_OK;
            dense_off(b, eb, "semantic search is off: %s", why.msg);
            goto done;
        }
    }
    if (sv.n < b->n_rows) {
        snprintf(b->dense_status, sizeof b->dense_status,
                 "semantic search is on, but %zu of %zu customers have no vector yet (run "
                 "`prospect index`); they are found by filters and keywords only",
                 b->n_rows - sv.n, b->n_rows);
    }
done:
    store_vectors_free(&sv);
    return rc;
}

// The dense path of a book opened from its index file: the model's weights, and the file's
// vectors when they are that model's and as current as the store's. *with_vectors says whether
// the engine is to open them. A file older than the last `prospect index` run fails the open.
static int load_dense_file(struct app_book *b, const struct app_book_params *p,
                           uint64_t store_vectors, bool *with_vectors, bool *fallback,
                           struct px_err *err)
{
    char dir[LIMIT_PATH], model_id[APP_MODEL_ID_BYTES];
    bool on = false;
    *with_vectors = false;
    int rc = open_encoder(b, NULL, p, dir, model_id, &on, err);
    if (rc != PX_OK || !on) {
        return rc;
    }
    if (book_index_vector_gen(b) != store_vectors) {
        return px_fail(err, PX_EFORMAT,
                       "'%s' is stale: written with %llu vectors, the store now holds %llu; %s",
                       mapfile_path(b->map), (unsigned long long)book_index_vector_gen(b),
                       (unsigned long long)store_vectors, BOOK_INDEX_REBUILD);
    }
    if (!engine_file_has_vectors(b->map) || strcmp(book_index_model(b), model_id) != 0) {
        if (store_vectors > 0) {
            // the store may hold this model's vectors (an import since `index`, another model):
            // the file cannot answer as the store does, the book is built in memory
            *fallback = true;
            return PX_OK;
        }
        dense_off(b, NULL,
                  "semantic search is off: no customer has a vector for the model in %s yet; run "
                  "`prospect index`",
                  dir);
        return PX_OK;
    }
    snprintf(b->model_id, sizeof b->model_id, "%s", model_id);
    *with_vectors = true;
    return PX_OK;
}

// The book from its index file at path (the store gave b->sc and gen).
// *fallback: the file cannot answer as the store would (vectors it lacks); b is to be dropped.
static int open_from_file(struct app_book *b, const char *path, const struct app_book_params *p,
                          const uint64_t gen[3], bool *fallback, struct px_err *err)
{
    bool with_vectors = false;
    int rc = book_index_open(b, path, gen, err);
    if (rc == PX_OK) rc = load_lexicon(b, p, err);
    if (rc == PX_OK) rc = book_lanes_init(&b->lanes, p->n_lanes, p->n_threads, err);
    if (rc == PX_OK) rc = load_dense_file(b, p, gen[1], &with_vectors, fallback, err);
    if (rc != PX_OK || *fallback) {
        return rc;
    }
    rc = engine_open(b->map, NULL, with_vectors, &b->eng, err);
    if (rc == PX_OK && engine_n_rows(b->eng) != b->n_rows) {
        rc = px_fail(err, PX_EFORMAT, "'%s': the engine holds %zu rows, the book %zu; %s", path,
                     engine_n_rows(b->eng), b->n_rows, BOOK_INDEX_REBUILD);
    }
    if (rc == PX_EFORMAT && strstr(err->msg, "prospect index") == NULL) {
        char msg[PX_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rc = px_fail(err, PX_EFORMAT, "%s; %s", msg, BOOK_INDEX_REBUILD);
    }
    if (rc == PX_OK && with_vectors) {
        size_t nv = engine_n_vectors(b->eng);
        b->dim = (int)engine_dim(b->eng);
        b->qc = book_qcache_new(b->dim);
        if (b->qc == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory for the query cache");
        } else if (nv < b->n_rows) {
            snprintf(b->dense_status, sizeof b->dense_status,
                     "semantic search is on, but %zu of %zu customers have no vector yet (run "
                     "`prospect index`); they are found by filters and keywords only",
                     b->n_rows - nv, b->n_rows);
        }
    }
    return rc;
}

// The in-memory path: rows, texts and vectors read from the store and the engine built.
static int build_from_store(struct app_book *b, struct store *st, const struct app_book_params *p,
                            struct px_err *err)
{
    size_t cap = 0;
    struct engine_builder *eb = NULL;
    int rc = store_count_customers(st, &cap, err);
    if (rc != PX_OK) {
        return rc;
    }
    struct engine_column *ecols = px_calloc(b->n_cols ? b->n_cols : 1, sizeof *ecols);
    if (ecols == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t c = 0; c < b->n_cols; c++) {
        ecols[c] = engine_column_of(&b->sc, c);
    }
    rc = engine_builder_new(ecols, b->n_cols, cap, NULL, &eb, err);
    if (rc == PX_OK) rc = load_rows(b, st, eb, ecols, cap, p->template_path, err);
    if (rc == PX_OK) rc = sort_ids(b, err);
    if (rc == PX_OK) rc = load_lexicon(b, p, err);
    if (rc == PX_OK) rc = book_lanes_init(&b->lanes, p->n_lanes, p->n_threads, err);
    if (rc == PX_OK) rc = load_dense(b, st, eb, p, err);
    if (rc == PX_OK) {
        rc = engine_build(eb, &b->eng, err);
        eb = NULL; // consumed
    }
    px_free(ecols);
    engine_builder_free(eb);
    return rc;
}

// The schema and generation of the open store st into b and gen (no count: that scans the
// customers, and opening from the index file must not).
static int read_store(struct app_book *b, struct store *st, const char *db_path, uint64_t gen[3],
                      struct px_err *err)
{
    int rc = store_schema(st, &b->sc, err);
    if (rc == PX_OK && b->sc.n_cols == 0) {
        rc = px_fail(err, PX_ENOENT, "the database '%s' has no customers yet: run prospect import",
                     db_path);
    }
    b->n_cols = b->sc.n_cols;
    if (rc == PX_OK) rc = store_generation(st, gen, err);
    return rc;
}

int app_book_open(const struct app_book_params *params, struct app_book **out,
                  struct px_err *err)
{
    int rc = PX_ENOMEM;
    struct app_book_params p = params ? *params : app_book_default_params();
    struct store *st = NULL;
    struct app_book *b = px_calloc(1, sizeof *b);
    char path[LIMIT_PATH];
    uint64_t gen[3] = {0};
    bool found = false;
    *out = NULL;
    if (b == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (!fsx_is_file(p.db_path)) {
        rc = px_fail(err, PX_ENOENT,
                     "no database at '%s': import customers first (prospect import --csv FILE)",
                     p.db_path);
        goto done;
    }
    struct store_params sp = store_default_params();
    sp.read_only = p.read_only;
    rc = store_open(p.db_path, &sp, &st, err);
    if (rc == PX_OK) rc = read_store(b, st, p.db_path, gen, err);
    // a template renders other profile texts than the file's BM25 holds: built in memory
    if (rc == PX_OK && !p.ignore_index_file && p.template_path == NULL) {
        rc = book_index_find(p.db_path, gen[0], path, sizeof path, &found, err);
    }
    bool fallback = false;
    if (rc == PX_OK && found) {
        rc = open_from_file(b, path, &p, gen, &fallback, err);
    }
    if (rc == PX_OK && fallback) {
        app_book_close(b);
        b = px_calloc(1, sizeof *b);
        rc = b == NULL ? px_fail(err, PX_ENOMEM, "out of memory")
                       : read_store(b, st, p.db_path, gen, err);
    }
    if (rc == PX_OK && (!found || fallback)) {
        rc = build_from_store(b, st, &p, err);
    }
    // the book's vocabulary: once per book, from its columns' labels and values
    if (rc == PX_OK && !p.no_vocab) {
        rc = query_vocab_build(engine_schema(b->eng), b->lex, p.wordnet_dir, &b->vocab, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    *out = b;
    b = NULL;
done:
    store_close(st);
    app_book_close(b);
    return rc;
}

int book_index_rebuild(struct store *st, const char *db_path, const char *model_flag,
                       int n_threads, bool dense, struct px_err *err)
{
    struct app_book_params p = app_book_default_params();
    p.db_path = db_path;
    p.model_flag = model_flag;
    p.n_threads = n_threads > 0 ? n_threads : 1;
    p.lexical_only = !dense;
    char path[LIMIT_PATH];
    uint64_t gen[3] = {0};
    struct app_book *b = px_calloc(1, sizeof *b);
    if (b == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int rc = read_store(b, st, db_path, gen, err);
    if (rc == PX_OK) rc = build_from_store(b, st, &p, err);
    if (rc == PX_OK) rc = book_index_path(db_path, gen[0], path, sizeof path, err);
    if (rc == PX_OK) {
        rc = book_index_write(b, path, gen, engine_n_vectors(b->eng) ? b->model_id : "", err);
    }
    app_book_close(b);
    return rc;
}

void app_book_close(struct app_book *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < sizeof b->owned / sizeof b->owned[0]; i++) {
        px_free(b->owned[i]);
    }
    engine_free(b->eng);
    vocab_free(b->vocab);
    mapfile_close(b->map); // after the engine, which reads from it
    query_lexicon_free(b->lex);
    book_qcache_free(b->qc);
    book_lanes_free(&b->lanes);
    embedder_close(b->e);
    store_schema_free(&b->sc);
    px_free(b);
}

// ---- what the book holds ----

const char *app_book_dense_status(const struct app_book *b)
{
    return b->dense_status[0] ? b->dense_status : NULL;
}
size_t app_book_n_rows(const struct app_book *b) { return b->n_rows; }

void app_book_cache_stats(struct app_book *b, size_t *hits, size_t *misses)
{
    *hits = *misses = 0;
    if (b->qc != NULL) {
        book_qcache_stats(b->qc, hits, misses);
    }
}
size_t app_book_n_columns(const struct app_book *b) { return b->n_cols; }
const char *app_book_column_name(const struct app_book *b, size_t c) { return b->sc.cols[c].name; }
const char *app_book_column_label(const struct app_book *b, size_t c) { return b->sc.cols[c].label; }
const char *app_book_id(const struct app_book *b, size_t r)
{
    uint64_t off = r < b->n_rows ? b->id_off[r] : UINT64_MAX;
    return off < b->ids_len ? b->ids + off : ""; // the blob ends with a NUL (checked on open)
}
bool app_book_column_is_id(const struct app_book *b, size_t c) { return is_id_column(&b->sc, c); }
const char *app_book_value(const struct app_book *b, size_t r, size_t c) { return book_raw_at(b, r, c); }

const char *app_book_column_type(const struct app_book *b, size_t c)
{
    return coltype_name(b->sc.cols[c].type);
}

long app_book_find(const struct app_book *b, const char *id)
{
    size_t lo = 0, hi = b->n_rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t row = b->by_id[mid];
        if (row >= b->n_rows) {
            return -1; // only a damaged index file holds such a row
        }
        int c = strcmp(app_book_id(b, row), id);
        if (c == 0) {
            return (long)b->by_id[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}
