// propcache.c — the propensity routes' cache (contract in app_prop.h, "the propensity routes'
// cache").
//
// Design:
//   - Models: a table of at most max_models entries keyed by (registry root, name, version).
//     Every acquire resolves the reference first (registry_parse_ref + registry_resolve: reads
//     registry.json), so "NAME" / "NAME@production" follow a new version or a promotion at once;
//     the load itself (propmodel_load of "NAME/VERSION", every checksum) happens only on a miss,
//     outside the table lock. Versions are never reused by the registry, so a key never names
//     other files; a deleted version fails to resolve and is no longer served.
//   - Reference counts (under c->mu) pin what a request uses: the table holds one reference to
//     each entry it lists, each handle one; eviction (least recently used) drops the table's,
//     and whoever drops the last frees. So nothing is freed under a request's feet.
//   - Per model: `fill` serialises filling its data set / SHAP (one thread fills, the others
//     wait and then hit); `predict` serialises every use of its classifier (classifier.h: one
//     thread at a time). Lock order: fill, then predict or c->mu; never the other way.
//   - The data set is keyed by path and the file's identity (device, inode, size, mtime, ctime):
//     an edited or replaced file is read again (and its SHAP recomputed); a data set being
//     replaced stays alive for the requests holding it (its own reference count).
//   - Vector sets: a second LRU table keyed by the embedder's directory (app_model_dir), the
//     file's identity, the rows (count and a hash of their line numbers) and the profile
//     columns (app_prop_profile_key) — the text depends on those, not on the model. A set is
//     inserted empty and filled under its own lock, so concurrent first calls embed once.
//     A failure (no weights) is not cached: the next request tries again.
//   - c == NULL (handler tests without a context): the same code with private entries and no
//     table, so nothing is shared or kept.
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app_encoder.h"
#include "app_prop.h"
#include "app_registry.h"
#include "mem.h"
#include "propensity_int.h"
#include "registry.h"

const char *const app_prop_part_names[APP_PROP_PARTS] = {"model", "data", "shap", "vectors"};

struct fsig {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
};

struct pdata {
    size_t refs; // under c->mu
    char *path;  // owned
    struct fsig sig;
    struct app_prop_data *d; // owned; its SHAP filled under the model's fill lock, then immutable
};

struct mentry {
    size_t refs; // under c->mu: the table's (while listed) + each handle's
    uint64_t used;
    char *root; // owned
    char name[LIMIT_BUNDLE_NAME_BYTES + 1];
    int version;
    struct app_prop_model *m; // owned
    pthread_mutex_t fill, predict;
    struct pdata *data; // under fill: the newest data set read for this model
};

struct ventry {
    size_t refs; // under c->mu
    uint64_t used;
    char *key; // owned
    pthread_mutex_t fill;
    bool ready; // under fill; vec/dim/dir immutable once set
    float *vec; // owned (n_rows, dim)
    size_t dim;
    char dir[LIMIT_PATH];
};

struct app_prop_cache {
    pthread_mutex_t mu;
    struct mentry *models[LIMIT_PROP_CACHE_MODELS];
    size_t n_models, max_models;
    struct ventry *vectors[LIMIT_PROP_CACHE_VECTORS];
    size_t n_vectors, max_vectors;
    uint64_t tick;
    struct app_prop_cache_stats st;
};

struct app_prop_handle {
    struct app_prop_cache *c; // NULL: uncached
    struct mentry *ent;
    struct pdata *data; // the data set returned last (a reference)
    struct ventry *vec; // the vector set used (a reference)
};

static void lock(struct app_prop_cache *c)
{
    if (c != NULL) {
        pthread_mutex_lock(&c->mu);
    }
}

static void unlock(struct app_prop_cache *c)
{
    if (c != NULL) {
        pthread_mutex_unlock(&c->mu);
    }
}

// ---- entries ----

static void pdata_free(struct pdata *d)
{
    if (d == NULL) {
        return;
    }
    app_prop_data_free(d->d);
    px_free(d->path);
    px_free(d);
}

// Drops one reference (c->mu held when c); returns d when it was the last (free it unlocked).
static struct pdata *pdata_unref(struct pdata *d)
{
    return d != NULL && --d->refs == 0 ? d : NULL;
}

static void mentry_free(struct mentry *e)
{
    if (e == NULL) {
        return;
    }
    // the entry's own reference to its data set is the last one: handles pin the entry too
    if (e->data != NULL && --e->data->refs == 0) {
        pdata_free(e->data);
    }
    app_prop_model_free(e->m);
    pthread_mutex_destroy(&e->fill);
    pthread_mutex_destroy(&e->predict);
    px_free(e->root);
    px_free(e);
}

static void ventry_free(struct ventry *v)
{
    if (v == NULL) {
        return;
    }
    pthread_mutex_destroy(&v->fill);
    px_free(v->vec);
    px_free(v->key);
    px_free(v);
}

static int mutexes(pthread_mutex_t *a, pthread_mutex_t *b, struct px_err *err)
{
    if (pthread_mutex_init(a, NULL) != 0) {
        return px_fail(err, PX_EINTERNAL, "pthread_mutex_init failed");
    }
    if (b != NULL && pthread_mutex_init(b, NULL) != 0) {
        pthread_mutex_destroy(a);
        return px_fail(err, PX_EINTERNAL, "pthread_mutex_init failed");
    }
    return PX_OK;
}

// ---- the cache ----

int app_prop_cache_new(size_t max_models, size_t max_vectors, struct app_prop_cache **out,
                       struct px_err *err)
{
    *out = NULL;
    struct app_prop_cache *c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    c->max_models = max_models == 0 || max_models > LIMIT_PROP_CACHE_MODELS
                        ? LIMIT_PROP_CACHE_MODELS
                        : max_models;
    c->max_vectors = max_vectors == 0 || max_vectors > LIMIT_PROP_CACHE_VECTORS
                         ? LIMIT_PROP_CACHE_VECTORS
                         : max_vectors;
    int rc = mutexes(&c->mu, NULL, err);
    if (rc != PX_OK) {
        px_free(c);
        return rc;
    }
    *out = c;
    return PX_OK;
}

void app_prop_cache_free(struct app_prop_cache *c)
{
    if (c == NULL) {
        return;
    }
    // every handle is released (the server has stopped): the table holds the last references
    for (size_t i = 0; i < c->n_models; i++) {
        mentry_free(c->models[i]);
    }
    for (size_t i = 0; i < c->n_vectors; i++) {
        ventry_free(c->vectors[i]);
    }
    pthread_mutex_destroy(&c->mu);
    px_free(c);
}

void app_prop_cache_stats(struct app_prop_cache *c, struct app_prop_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (c == NULL) {
        return;
    }
    lock(c);
    *out = c->st;
    out->n_models = c->n_models;
    out->n_vectors = c->n_vectors;
    unlock(c);
}

static void count(struct app_prop_cache *c, enum app_prop_part part, bool hit)
{
    if (c == NULL) {
        return;
    }
    lock(c);
    if (hit) {
        c->st.hit[part]++;
    } else {
        c->st.miss[part]++;
    }
    unlock(c);
}

// ---- models ----

static struct mentry *find_model(struct app_prop_cache *c, const char *root, const char *name,
                                 int version)
{
    for (size_t i = 0; i < c->n_models; i++) {
        struct mentry *e = c->models[i];
        if (e->version == version && strcmp(e->name, name) == 0 && strcmp(e->root, root) == 0) {
            return e;
        }
    }
    return NULL;
}

// Makes room for one more model (c->mu held); returns an entry to free unlocked, or NULL.
static struct mentry *evict_model(struct app_prop_cache *c)
{
    if (c->n_models < c->max_models) {
        return NULL;
    }
    size_t lru = 0;
    for (size_t i = 1; i < c->n_models; i++) {
        lru = c->models[i]->used < c->models[lru]->used ? i : lru;
    }
    struct mentry *e = c->models[lru];
    c->models[lru] = c->models[--c->n_models];
    c->st.evicted++;
    return --e->refs == 0 ? e : NULL;
}

int app_prop_acquire(struct app_prop_cache *c, const char *registry, const char *ref,
                     struct app_prop_handle **out, struct px_err *err)
{
    *out = NULL;
    if (ref == NULL || ref[0] == '\0') {
        return px_fail(err, PX_EINVAL,
                       "a model reference is NAME, NAME/VERSION, NAME@VERSION or NAME@STAGE");
    }
    const char *root = app_registry_dir(registry != NULL && registry[0] != '\0' ? registry : NULL);
    struct registry_ref r;
    int version = 0;
    int rc = registry_parse_ref(ref, &r, err);
    if (rc == PX_OK)
        rc = registry_resolve(root, &r, &version, NULL, 0, err);
    if (rc != PX_OK) {
        return registry_hint_missing(rc, "train one with prospect train", err);
    }
    struct app_prop_handle *h = px_calloc(1, sizeof *h);
    if (h == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    h->c = c;
    if (c != NULL) {
        lock(c);
        struct mentry *e = find_model(c, root, r.name, version);
        if (e != NULL) {
            e->refs++;
            e->used = ++c->tick;
            c->st.hit[APP_PROP_PART_MODEL]++;
            h->ent = e;
        }
        unlock(c);
        if (h->ent != NULL) {
            *out = h;
            return PX_OK;
        }
    }
    // a miss: load outside the lock (every checksum), then insert unless another thread won
    struct mentry *e = px_calloc(1, sizeof *e);
    char exact[LIMIT_BUNDLE_NAME_BYTES + 16];
    snprintf(exact, sizeof exact, "%s/%d", r.name, version);
    rc = e != NULL ? PX_OK : px_fail(err, PX_ENOMEM, "out of memory");
    if (rc == PX_OK && (e->root = px_strdup(root)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (rc == PX_OK)
        rc = app_prop_model_open(root, exact, 1, &e->m, err);
    if (rc == PX_OK)
        rc = mutexes(&e->fill, &e->predict, err);
    if (rc != PX_OK) {
        if (e != NULL) {
            app_prop_model_free(e->m);
            px_free(e->root);
            px_free(e);
        }
        px_free(h);
        return rc;
    }
    snprintf(e->name, sizeof e->name, "%s", r.name);
    e->version = version;
    e->refs = 1; // the handle's
    struct mentry *drop = NULL, *evicted = NULL;
    lock(c);
    if (c != NULL) {
        struct mentry *won = find_model(c, root, r.name, version);
        if (won != NULL) {
            won->refs++;
            drop = e;
            e = won;
        } else {
            evicted = evict_model(c);
            e->refs++; // the table's
            c->models[c->n_models++] = e;
        }
        e->used = ++c->tick;
        c->st.miss[APP_PROP_PART_MODEL]++;
    }
    unlock(c);
    mentry_free(drop);
    mentry_free(evicted);
    h->ent = e;
    *out = h;
    return PX_OK;
}

const struct app_prop_model *app_prop_handle_model(const struct app_prop_handle *h)
{
    return h->ent->m;
}

void app_prop_release(struct app_prop_handle *h)
{
    if (h == NULL) {
        return;
    }
    struct app_prop_cache *c = h->c;
    struct pdata *d = NULL;
    struct mentry *e = NULL;
    struct ventry *v = NULL;
    lock(c);
    d = pdata_unref(h->data);
    if (h->vec != NULL && --h->vec->refs == 0) {
        v = h->vec;
    }
    if (h->ent != NULL && --h->ent->refs == 0) {
        e = h->ent;
    }
    unlock(c);
    pdata_free(d);
    ventry_free(v);
    mentry_free(e);
    px_free(h);
}

pthread_mutex_t *app_prop_handle_lock(struct app_prop_handle *h)
{
    return &h->ent->predict;
}

int app_prop_handle_score_json(struct app_prop_handle *h, const char *body, size_t len,
                               struct buf *out, struct px_err *err)
{
    const struct app_prop_model *m = h->ent->m;
    struct app_prop_data *d = NULL;
    struct app_prop_scores *s = NULL;
    float *prob = NULL;
    int rc = app_prop_data_json(m, body, len, &d, err);
    if (rc == PX_OK) {
        prob = px_malloc(app_prop_data_rows(d) * sizeof *prob);
        rc = prob != NULL ? app_prop_predict(m, d, prob, &h->ent->predict, err)
                          : px_fail(err, PX_ENOMEM, "out of memory");
    }
    if (rc == PX_OK) {
        const struct app_score_params sp = {0}; // every row, in order
        rc = app_prop_scores_make(m, d, prob, &sp, &s, err);
        prob = NULL; // taken
    }
    if (rc == PX_OK)
        rc = app_prop_scores_json(s, out, err);
    px_free(prob);
    app_prop_scores_free(s);
    app_prop_data_free(d);
    return rc;
}

// ---- the data set and SHAP ----

static int file_sig(const char *path, struct fsig *s, struct px_err *err)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (stat(path, &st) != 0) {
        return px_fail(err, PX_EIO, "%s: cannot stat the propensity data set", path);
    }
    *s = (struct fsig){(uint64_t)st.st_dev,        (uint64_t)st.st_ino, (uint64_t)st.st_size,
                       (int64_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,  (int64_t)st.st_ctim.tv_sec,
                       st.st_ctim.tv_nsec};
    return PX_OK;
}

static bool sig_equal(const struct fsig *a, const struct fsig *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_s == b->mtime_s &&
           a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns;
}

int app_prop_handle_data(struct app_prop_handle *h, const char *csv, bool need_target, bool shap,
                         const struct app_prop_data **out, struct px_err *err)
{
    struct mentry *ent = h->ent;
    struct app_prop_cache *c = h->c;
    struct fsig sig;
    *out = NULL;
    int rc = file_sig(csv, &sig, err);
    if (rc != PX_OK) {
        return rc;
    }
    pthread_mutex_lock(&ent->fill);
    struct pdata *d = ent->data, *old = NULL;
    bool hit = d != NULL && strcmp(d->path, csv) == 0 && sig_equal(&d->sig, &sig);
    if (!hit) {
        d = px_calloc(1, sizeof *d);
        rc = d != NULL ? PX_OK : px_fail(err, PX_ENOMEM, "out of memory");
        if (rc == PX_OK && (d->path = px_strdup(csv)) == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        }
        // the target is read when present; need_target is checked below, on hits too
        if (rc == PX_OK)
            rc = app_prop_data_csv(ent->m, csv, false, &d->d, err);
        if (rc != PX_OK) {
            pthread_mutex_unlock(&ent->fill);
            pdata_free(d);
            return rc;
        }
        d->sig = sig;
        d->refs = 1; // the entry's
    }
    count(c, APP_PROP_PART_DATA, hit);
    if (shap) {
        bool had = d->d->has_shap;
        if (!had) {
            pthread_mutex_lock(&ent->predict);
            rc = app_prop_data_shap(ent->m, d->d, err);
            pthread_mutex_unlock(&ent->predict);
        }
        count(c, APP_PROP_PART_SHAP, had);
    }
    if (rc != PX_OK && !hit) {
        pthread_mutex_unlock(&ent->fill);
        pdata_free(d);
        return rc;
    }
    lock(c);
    if (!hit) {
        old = ent->data != NULL ? pdata_unref(ent->data) : NULL;
        ent->data = d;
    }
    struct pdata *prev = pdata_unref(h->data);
    d->refs++; // the handle's
    h->data = d;
    unlock(c);
    pthread_mutex_unlock(&ent->fill);
    pdata_free(old);
    pdata_free(prev);
    if (rc != PX_OK) {
        return rc;
    }
    if (need_target && d->d->ds.y == NULL) {
        return px_fail(err, PX_EINVAL, "%s: no target column '%s'", csv,
                       ent->m->info.target ? ent->m->info.target : "?");
    }
    *out = d->d;
    return PX_OK;
}

// ---- profile-text vectors ----

// The vector set's key: embedder directory, file identity, rows and profile columns.
static int vectors_key(const struct mentry *ent, const struct pdata *d, const char *model_dir,
                       struct buf *key, struct px_err *err)
{
    const struct ml_dataset *ds = &d->d->ds;
    uint64_t h = 1469598103934665603ull; // FNV-1a 64 over the rows' line numbers
    for (size_t r = 0; r < ds->n_rows; r++) {
        uint64_t x = ds->line[r];
        for (int b = 0; b < 8; b++) {
            h = (h ^ ((x >> (8 * b)) & 0xff)) * 1099511628211ull;
        }
    }
    const struct fsig *s = &d->sig;
    int rc = buf_printf(key, err,
                        "%s\n%s\n%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%" PRId64 ".%" PRId64
                        ":%" PRId64 ".%" PRId64 "\n%zu:%016" PRIx64 "\n",
                        model_dir, d->path, s->dev, s->ino, s->size, s->mtime_s, s->mtime_ns,
                        s->ctime_s, s->ctime_ns, ds->n_rows, h);
    if (rc == PX_OK)
        rc = app_prop_profile_key(&ent->m->pm.spec, key, err);
    if (rc == PX_OK)
        rc = buf_append(key, "", 1, err); // NUL
    return rc;
}

// Finds or inserts (empty) the vector set of key, with a reference for the caller.
static int vectors_entry(struct app_prop_cache *c, struct buf *key, struct ventry **out,
                         struct px_err *err)
{
    *out = NULL;
    struct ventry *v = NULL, *fresh = NULL, *evicted = NULL;
    if (c != NULL) {
        lock(c);
        for (size_t i = 0; i < c->n_vectors && v == NULL; i++) {
            if (strcmp(c->vectors[i]->key, key->data) == 0) {
                v = c->vectors[i];
                v->refs++;
                v->used = ++c->tick;
            }
        }
        unlock(c);
        if (v != NULL) {
            *out = v;
            return PX_OK;
        }
    }
    fresh = px_calloc(1, sizeof *fresh);
    if (fresh == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int rc = mutexes(&fresh->fill, NULL, err);
    if (rc != PX_OK) {
        px_free(fresh);
        return rc;
    }
    fresh->key = buf_take(key);
    fresh->refs = 1;
    lock(c);
    for (size_t i = 0; c != NULL && i < c->n_vectors && v == NULL; i++) {
        if (strcmp(c->vectors[i]->key, fresh->key) == 0) {
            v = c->vectors[i]; // inserted by another thread meanwhile
            v->refs++;
            v->used = ++c->tick;
        }
    }
    if (c != NULL && v == NULL) {
        if (c->n_vectors == c->max_vectors) {
            size_t lru = 0;
            for (size_t i = 1; i < c->n_vectors; i++) {
                lru = c->vectors[i]->used < c->vectors[lru]->used ? i : lru;
            }
            struct ventry *x = c->vectors[lru];
            c->vectors[lru] = c->vectors[--c->n_vectors];
            c->st.evicted++;
            evicted = --x->refs == 0 ? x : NULL;
        }
        fresh->refs++; // the table's
        fresh->used = ++c->tick;
        c->vectors[c->n_vectors++] = fresh;
        v = fresh;
        fresh = NULL;
    } else if (v == NULL) {
        v = fresh; // uncached: private
        fresh = NULL;
    }
    unlock(c);
    ventry_free(fresh);
    ventry_free(evicted);
    *out = v;
    return PX_OK;
}

static int cached_vectors(void *user, const struct app_prop_model *m, const char *csv,
                          const struct app_prop_data *ds, const struct app_look_params *p,
                          const float **vec, size_t *dim, char *dir, size_t n_dir,
                          struct px_err *err)
{
    struct app_prop_handle *h = user;
    struct app_prop_cache *c = h->c;
    char model_dir[LIMIT_PATH];
    struct buf key;
    struct ventry *v = NULL;
    *vec = NULL;
    buf_init(&key, 1u << 20);
    int rc = app_model_dir(p->embedder, model_dir, sizeof model_dir, NULL, err);
    if (rc == PX_OK)
        rc = vectors_key(h->ent, h->data, model_dir, &key, err);
    if (rc == PX_OK)
        rc = vectors_entry(c, &key, &v, err);
    buf_free(&key);
    if (rc != PX_OK) {
        return rc;
    }
    pthread_mutex_lock(&v->fill);
    bool hit = v->ready;
    if (!v->ready) {
        float *x = NULL;
        size_t d = 0;
        rc = app_prop_text_vectors(m, csv, ds, p, &x, &d, v->dir, sizeof v->dir, err);
        if (rc == PX_OK) {
            v->vec = x;
            v->dim = d;
            v->ready = true;
        }
    }
    pthread_mutex_unlock(&v->fill);
    if (rc == PX_OK) {
        count(c, APP_PROP_PART_VECTORS, hit);
    }
    struct ventry *prev = NULL, *gone = NULL;
    lock(c);
    if (rc == PX_OK) {
        if (h->vec != NULL && --h->vec->refs == 0) {
            prev = h->vec;
        }
        h->vec = v; // the reference taken by vectors_entry
    } else if (--v->refs == 0) {
        gone = v;
    }
    unlock(c);
    ventry_free(prev);
    ventry_free(gone);
    if (rc != PX_OK) {
        return rc;
    }
    *vec = v->vec;
    *dim = v->dim;
    snprintf(dir, n_dir, "%s", v->dir);
    return PX_OK;
}

int app_prop_handle_lookalike(struct app_prop_handle *h, const char *csv,
                              const struct app_look_params *p, struct app_prop_look **out,
                              struct px_err *err)
{
    *out = NULL;
    if (h->data == NULL || !h->data->d->has_shap || strcmp(h->data->path, csv) != 0) {
        return px_fail(err, PX_EINTERNAL, "look-alikes before the data set and its SHAP values");
    }
    return app_prop_lookalike_with(h->ent->m, csv, h->data->d, p, cached_vectors, h,
                                   &h->ent->predict, out, err);
}
