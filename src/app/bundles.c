// bundles.c — the façade's model bundles: create (snapshot + lexicon + template + model
// reference or copy + MLmodel + manifest, registered atomically), list, show, promote, delete,
// and opening the book from a verified bundle for `prospect serve --bundle`.
//
// Create builds everything in a staging directory inside the registry (registry_stage), opens
// the result once the way serve will (read-only, from the staging copy) so that a bundle which
// cannot be served is never registered, seals it (manifest) and publishes it with one rename.
// Any failure removes the staging directory; the registry is never left half-written.
// --copy-model takes the model directory's known regular files only (model_file_known), after
// check_model_copy has refused a directory that is a symbolic link or holds no config.json.
//
// Serve verifies before it loads: every file against the manifest (bundle_verify), the name in
// bundle.json and in the manifest against the one asked for, and the model: a copied model's
// weights against the recorded model id through the manifest, a referenced model's weights
// (when present) by hashing them. Weights that have gone missing only turn the dense path off,
// with the reason on stderr, as for `prospect search`.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app_book.h"
#include "app_encoder.h"
#include "app_registry.h"
#include "assets.h"
#include "bundle.h"
#include "searchbundle.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "query.h"
#include "registry.h"
#include "sha256.h"
#include "store.h"

const char *app_registry_dir(const char *flag)
{
    if (flag != NULL && flag[0] != '\0') {
        return flag;
    }
    const char *env = getenv(APP_REGISTRY_ENV);
    return env != NULL && env[0] != '\0' ? env : APP_REGISTRY_DEFAULT;
}

struct app_bundle_params app_bundle_default_params(void)
{
    struct app_bundle_params p = {.db_path = "prospect.db"};
    return p;
}

// ---- helpers ----

// Puts "word " before the message in err ("bundle " + "B/3: customers.db: …"); returns rc.
static int with_word(struct px_err *err, int rc, const char *word)
{
    if (err != NULL) {
        char old[sizeof err->msg];
        size_t n = strlen(word);
        memcpy(old, err->msg, sizeof old);
        old[sizeof old - 1] = '\0';
        if (n + 1 < sizeof err->msg) {
            memcpy(err->msg, word, n);
            err->msg[n] = ' ';
            snprintf(err->msg + n + 1, sizeof err->msg - n - 1, "%.*s",
                     (int)(sizeof err->msg - n - 2), old);
        }
    }
    return rc;
}

static void random_hex(char *out, size_t n_bytes)
{
    unsigned char r[32] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, r, n_bytes < sizeof r ? n_bytes : sizeof r);
        (void)got;
        close(fd);
    }
    for (size_t i = 0; i < n_bytes && i < sizeof r; i++) {
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    }
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void aliases_of(const struct registry_state *st, int version, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < st->n_aliases; i++) {
        if (st->aliases[i].version == version) {
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%s%s", len ? ", " : "", st->aliases[i].name);
        }
    }
}

// The file describing a version of each kind (shown by `bundle show`).
static const char *info_file(const char *kind)
{
    return strcmp(kind, BUNDLE_KIND_PROPENSITY) == 0    ? "run.json"
           : strcmp(kind, BUNDLE_KIND_RECOMMENDER) == 0 ? "recommender.json"
                                                        : SEARCHBUNDLE_INFO;
}

// Fills e from a version directory (the manifest for the kind, time and size; for a search
// bundle, bundle.json for rows/dense/model); a version whose files cannot be read is still
// listed, with the reason in e->error.
static void read_entry(const char *dir, const char *name, int version,
                       const struct registry_state *st, struct app_bundle_entry *e)
{
    struct searchbundle_info info;
    struct bundle_manifest m = {0};
    struct px_err err = {0};
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->version = version;
    aliases_of(st, version, e->aliases, sizeof e->aliases);
    if (bundle_manifest_read(dir, &m, &err) != PX_OK) {
        snprintf(e->kind, sizeof e->kind, "%s", st->kind[0] ? st->kind : "?");
        snprintf(e->error, sizeof e->error, "%s", err.msg);
        return;
    }
    snprintf(e->kind, sizeof e->kind, "%s", m.kind);
    snprintf(e->created, sizeof e->created, "%s", m.created);
    e->bytes = m.total_bytes;
    bundle_manifest_free(&m);
    if (strcmp(e->kind, BUNDLE_KIND_SEARCH) != 0) {
        return;
    }
    if (searchbundle_info_read(dir, &info, &err) != PX_OK) {
        snprintf(e->error, sizeof e->error, "%s", err.msg);
        return;
    }
    e->rows = info.rows;
    e->dense = info.dense;
    e->model_copied = info.model_copied;
    snprintf(e->model_id, sizeof e->model_id, "%s", info.model_id);
}

// Checks that a user lexicon merges over the built-in one (so the bundle will open).
static int check_lexicon(const char *path, struct px_err *err)
{
    struct query_lexicon *lex = NULL;
    int rc = query_lexicon_parse((const char *)px_asset_lexicon, px_asset_lexicon_len, &lex, err);
    if (rc == PX_OK)
        rc = query_lexicon_load(lex, path, err);
    query_lexicon_free(lex);
    return rc;
}

// ---- create ----

// Fills the staging directory; info is completed as files are written.
// --copy-model takes a sentence-transformers directory's known files only: what
// embed/embedder.c reads (config.json, model.safetensors, modules.json, sentence_bert_config.json,
// tokenizer_config.json, vocab.txt or tokenizer.json, <n>_Pooling/config.json), the metadata
// the sentence-transformers tools write beside them, and the model card and licence, which
// travel with the weights. Everything else in the directory (other weight formats, scripts,
// notes) is left behind unread.
static bool model_file_known(const char *rel, bool is_dir)
{
    static const char *const top[] = {
        "config.json",
        "model.safetensors",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
        "README.md",
        "LICENSE",
    };
    const char *slash = strchr(rel, '/');
    if (slash == NULL && !is_dir) {
        for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
            if (strcmp(rel, top[i]) == 0) {
                return true;
            }
        }
        return false;
    }
    // a module directory: digits, '_', Pooling or Normalize; inside it only config.json
    size_t n = slash ? (size_t)(slash - rel) : strlen(rel);
    size_t d = strspn(rel, "0123456789");
    if (d == 0 || d >= n || rel[d] != '_') {
        return false;
    }
    const char *mod = rel + d + 1;
    size_t m = n - d - 1;
    if (!((m == 7 && memcmp(mod, "Pooling", 7) == 0) ||
          (m == 9 && memcmp(mod, "Normalize", 9) == 0))) {
        return false;
    }
    return slash == NULL ? is_dir : !is_dir && strcmp(slash + 1, "config.json") == 0;
}

// Before a model directory is copied: it must be a directory itself, not a symbolic link to
// one (the copy follows no link, and a link is refused rather than resolved behind the
// operator's back; the message names where it points), and it must hold a regular
// config.json, so a directory that is not a model is refused before anything is read.
static int check_model_copy(const char *dir, struct px_err *err)
{
    struct stat st;
    char path[LIMIT_PATH + 16];
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    if (n >= LIMIT_PATH) {
        return px_fail(err, PX_ELIMIT, "model path too long: '%.60s...'", dir);
    }
    memcpy(path, dir, n);
    path[n] = '\0';
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char to[LIMIT_PATH];
        ssize_t k = readlink(path, to, sizeof to - 1);
        to[k > 0 ? k : 0] = '\0';
        return px_fail(err, PX_EINVAL,
                       "--copy-model: '%s' is a symbolic link (to '%s'); name the model directory "
                       "itself",
                       path, to);
    }
    int rc = fsx_join(path, sizeof path, dir, "config.json", err);
    if (rc == PX_OK) {
        int r = lstat(path, &st);
        const char *why = r != 0                 ? "missing"
                          : S_ISLNK(st.st_mode)  ? "a symbolic link"
                          : !S_ISREG(st.st_mode) ? "not a regular file"
                                                 : NULL;
        if (why != NULL) {
            rc = px_fail(err, PX_EINVAL,
                         "--copy-model: '%s' is not a sentence-transformers model directory: %s "
                         "is %s",
                         dir, path, why);
        }
    }
    return rc;
}

static int fill_bundle(const struct app_bundle_params *p, const char *stage,
                       struct searchbundle_info *info, struct px_err *err)
{
    struct store *st = NULL;
    struct store_snapshot_stats ss;
    char path[LIMIT_PATH + 64], model_dir[LIMIT_PATH] = "";
    bool have_model = false;
    int rc = PX_OK;
    // the model: where it is, and whether its weights are there to name the vectors
    struct px_err merr = {0};
    if (app_model_dir(p->model_flag, model_dir, sizeof model_dir, NULL, &merr) == PX_OK &&
        fsx_is_dir(model_dir)) {
        char abs[LIMIT_PATH]; // realpath(3) writes at most PATH_MAX bytes
        snprintf(info->model_source, sizeof info->model_source, "%s",
                 realpath(model_dir, abs) != NULL ? abs : model_dir);
        have_model = true;
        if (p->copy_model) {
            rc = check_model_copy(model_dir, err);
            if (rc != PX_OK) {
                return rc;
            }
        }
        char w[LIMIT_PATH];
        if (fsx_join(w, sizeof w, model_dir, "model.safetensors", NULL) == PX_OK &&
            fsx_is_file(w)) {
            rc = app_model_id(model_dir, info->model_id, sizeof info->model_id, err);
        }
    } else if (p->model_flag != NULL || p->copy_model) {
        // asked for a model that is not there: say so rather than make a bundle without it
        return merr.code != PX_OK ? px_fail(err, merr.code, "%s", merr.msg)
                                  : px_fail(err, PX_ENOENT, "no model directory at '%s'",
                                            p->model_flag ? p->model_flag : model_dir);
    }
    if (rc != PX_OK) {
        return rc;
    }
    // the customers (and the vectors of this model)
    struct store_params sp = store_default_params();
    sp.read_only = true;
    if (!fsx_is_file(p->db_path)) {
        return px_fail(err, PX_ENOENT,
                       "no database at '%s': import customers first (prospect import --csv FILE)",
                       p->db_path);
    }
    rc = store_open(p->db_path, &sp, &st, err);
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, stage, SEARCHBUNDLE_DATA, err);
    if (rc == PX_OK) {
        rc = store_snapshot(st, path, info->model_id[0] ? info->model_id : NULL, &ss, err);
    }
    store_close(st);
    if (rc == PX_OK && ss.n_columns == 0) {
        rc = px_fail(err, PX_ENOENT, "the database '%s' has no customers yet: run prospect import",
                     p->db_path);
    }
    if (rc != PX_OK) {
        return rc;
    }
    info->rows = ss.n_customers;
    info->columns = ss.n_columns;
    info->n_vectors = ss.n_vectors;
    info->dim = ss.dim;
    info->dense = ss.n_vectors > 0;
    // the lexicon in effect: the built-in one, and the user's merged over it
    rc = fsx_join(path, sizeof path, stage, SEARCHBUNDLE_LEXICON, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(path, px_asset_lexicon, px_asset_lexicon_len, err);
    if (rc == PX_OK && p->lexicon_path != NULL) {
        rc = check_lexicon(p->lexicon_path, err);
        if (rc == PX_OK)
            rc = fsx_join(path, sizeof path, stage, SEARCHBUNDLE_USER_LEXICON, err);
        if (rc == PX_OK)
            rc = bundle_copy_file(p->lexicon_path, path, err);
        info->has_user_lexicon = true;
    }
    if (rc == PX_OK && p->template_path != NULL) {
        rc = fsx_join(path, sizeof path, stage, SEARCHBUNDLE_TEMPLATE, err);
        if (rc == PX_OK)
            rc = bundle_copy_file(p->template_path, path, err);
        info->has_template = true;
    }
    if (rc == PX_OK && p->copy_model && have_model) {
        rc = fsx_join(path, sizeof path, stage, SEARCHBUNDLE_MODEL_DIR, err);
        if (rc == PX_OK)
            rc = bundle_copy_tree(model_dir, path, model_file_known, NULL, err);
        info->model_copied = true;
    }
    return rc;
}

// Opens the book from a bundle directory the way serve does. dir is complete but may not be
// sealed yet.
static int open_from_dir(const char *dir, const struct searchbundle_info *info,
                         const struct app_book_params *params, bool lexical_only,
                         struct app_book **out, struct px_err *err)
{
    char db[LIMIT_PATH + 32], lex[LIMIT_PATH + 32], user[LIMIT_PATH + 32], tpl[LIMIT_PATH + 32],
        model[LIMIT_PATH + 32];
    struct app_book_params bp = params ? *params : app_book_default_params();
    int rc = fsx_join(db, sizeof db, dir, SEARCHBUNDLE_DATA, err);
    if (rc == PX_OK)
        rc = fsx_join(lex, sizeof lex, dir, SEARCHBUNDLE_LEXICON, err);
    if (rc == PX_OK)
        rc = fsx_join(user, sizeof user, dir, SEARCHBUNDLE_USER_LEXICON, err);
    if (rc == PX_OK)
        rc = fsx_join(tpl, sizeof tpl, dir, SEARCHBUNDLE_TEMPLATE, err);
    if (rc == PX_OK && info->model_copied) {
        rc = fsx_join(model, sizeof model, dir, SEARCHBUNDLE_MODEL_DIR, err);
    } else {
        snprintf(model, sizeof model, "%s", info->model_source);
    }
    if (rc != PX_OK) {
        return rc;
    }
    bp.db_path = db;
    bp.read_only = true;
    bp.lexicon_base_path = lex;
    bp.lexicon_path = info->has_user_lexicon ? user : NULL;
    bp.template_path = info->has_template ? tpl : NULL;
    bp.model_flag = model[0] ? model : NULL;
    bp.lexical_only = lexical_only || !info->dense;
    return app_book_open(&bp, out, err);
}

int app_bundle_create(const struct app_bundle_params *params, struct app_bundle_entry *out,
                      struct px_err *err)
{
    struct app_bundle_params p = params ? *params : app_bundle_default_params();
    const char *root = app_registry_dir(p.registry);
    struct searchbundle_info info;
    struct app_book *book = NULL;
    char stage[LIMIT_PATH] = "", path[LIMIT_PATH + 32];
    int version = 0;
    memset(&info, 0, sizeof info);
    if (out != NULL) {
        memset(out, 0, sizeof *out);
    }
    int rc = p.name != NULL ? bundle_check_name(p.name, err)
                            : px_fail(err, PX_EINVAL, "a bundle needs a name (--name)");
    if (rc == PX_OK)
        rc = registry_stage(root, p.name, stage, sizeof stage, err);
    if (rc != PX_OK) {
        stage[0] = '\0';
        goto done;
    }
    snprintf(info.name, sizeof info.name, "%s", p.name);
    bundle_now_utc(info.created, sizeof info.created);
    random_hex(info.model_uuid, 16);
    snprintf(info.prospect_version, sizeof info.prospect_version, "%s", PX_VERSION);
    rc = fill_bundle(&p, stage, &info, err);
    if (rc == PX_OK) {
        // what serve will do, minus the checksums: a bundle that cannot open is not registered
        rc = open_from_dir(stage, &info, NULL, true, &book, err);
        app_book_close(book);
        if (rc != PX_OK) {
            px_err_prefix(err, "the bundle would not open");
        }
    }
    uint64_t size = 0;
    static const char *const files[] = {SEARCHBUNDLE_DATA, SEARCHBUNDLE_LEXICON, SEARCHBUNDLE_USER_LEXICON,
                                        SEARCHBUNDLE_TEMPLATE};
    for (size_t i = 0; rc == PX_OK && i < sizeof files / sizeof files[0]; i++) {
        rc = fsx_join(path, sizeof path, stage, files[i], err);
        size += file_size(path);
    }
    if (rc == PX_OK)
        rc = searchbundle_write_meta(stage, &info, size, err);
    struct bundle_manifest m = {0};
    if (rc == PX_OK)
        rc = bundle_seal(stage, p.name, BUNDLE_KIND_SEARCH, info.created, &m, err);
    uint64_t total_bytes = m.total_bytes;
    bundle_manifest_free(&m);
    if (rc == PX_OK)
        rc = registry_publish(root, p.name, stage, &version, err);
    if (rc != PX_OK) {
        goto done;
    }
    stage[0] = '\0'; // published: nothing to clean up
    if (out != NULL) {
        // described as `bundle list` will describe it, from what was just written (reading it
        // back could fail after the version is registered, and the caller would be told less)
        snprintf(out->name, sizeof out->name, "%s", p.name);
        out->version = version;
        snprintf(out->kind, sizeof out->kind, "%s", BUNDLE_KIND_SEARCH);
        snprintf(out->created, sizeof out->created, "%s", info.created);
        out->rows = info.rows;
        out->dense = info.dense;
        out->model_copied = info.model_copied;
        snprintf(out->model_id, sizeof out->model_id, "%s", info.model_id);
        out->bytes = total_bytes; // a new version has no stage yet: aliases stay ""
    }
done:
    if (stage[0] != '\0') {
        bundle_remove_tree(stage, NULL);
    }
    return rc;
}

// ---- list, show, promote, delete ----

static int list_name(const char *root, const char *name, struct app_bundle_entry **all, size_t *n,
                     size_t *cap, struct px_err *err)
{
    int *vs = NULL;
    size_t nv = 0;
    struct registry_state st;
    char dir[LIMIT_PATH];
    int rc = registry_versions(root, name, &vs, &nv, err);
    if (rc == PX_OK)
        rc = registry_read_state(root, name, &st, err);
    for (size_t i = 0; rc == PX_OK && i < nv; i++) {
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            struct app_bundle_entry *p = px_realloc(*all, c * sizeof *p);
            if (p == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory listing bundles");
                break;
            }
            *all = p;
            *cap = c;
        }
        rc = registry_version_dir(root, name, vs[i], dir, sizeof dir, err);
        if (rc == PX_OK) {
            read_entry(dir, name, vs[i], &st, &(*all)[(*n)++]);
        }
    }
    px_free(vs);
    return rc;
}

int app_bundle_list(const char *registry, const char *name, struct app_bundle_entry **out,
                    size_t *n, struct px_err *err)
{
    const char *root = app_registry_dir(registry);
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    *out = NULL;
    *n = 0;
    int rc = PX_OK;
    if (name != NULL) {
        rc = bundle_check_name(name, err);
        if (rc == PX_OK)
            rc = list_name(root, name, out, n, &cap, err);
    } else {
        rc = registry_names(root, &names, &n_names, err);
        for (size_t i = 0; rc == PX_OK && i < n_names; i++) {
            rc = list_name(root, names[i], out, n, &cap, err);
        }
    }
    registry_names_free(names, n_names);
    if (rc != PX_OK) {
        px_free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int resolve(const char *root, const char *ref_text, struct registry_ref *ref, int *version,
                   char *dir, size_t n, struct px_err *err)
{
    int rc = registry_parse_ref(ref_text, ref, err);
    if (rc == PX_OK)
        rc = registry_resolve(root, ref, version, dir, n, err);
    return rc;
}

static int read_text(const char *dir, const char *name, char **out, struct px_err *err)
{
    char path[LIMIT_PATH + 32];
    size_t len = 0;
    int rc = fsx_join(path, sizeof path, dir, name, err);
    if (rc == PX_OK)
        rc = fsx_read_file(path, LIMIT_BUNDLE_MANIFEST_BYTES, out, &len, err);
    return rc;
}

int app_bundle_show(const char *registry, const char *ref_text, bool verify,
                    struct app_bundle_show *out, struct px_err *err)
{
    const char *root = app_registry_dir(registry);
    struct registry_ref ref;
    struct registry_state st;
    char dir[LIMIT_PATH];
    int version = 0;
    memset(out, 0, sizeof *out);
    int rc = resolve(root, ref_text, &ref, &version, dir, sizeof dir, err);
    if (rc == PX_OK)
        rc = registry_read_state(root, ref.name, &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    read_entry(dir, ref.name, version, &st, &out->entry);
    rc = read_text(dir, BUNDLE_MLMODEL, &out->mlmodel, err);
    if (rc == PX_OK)
        rc = read_text(dir, BUNDLE_MANIFEST, &out->manifest, err);
    if (rc == PX_OK)
        rc = read_text(dir, info_file(out->entry.kind), &out->info, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "bundle %s/%d", ref.name, version);
        app_bundle_show_free(out);
        return rc;
    }
    if (verify) {
        struct px_err verr = {0};
        out->verified = true;
        out->verify_rc = bundle_verify(dir, NULL, &verr);
        snprintf(out->verify_msg, sizeof out->verify_msg, "%s", verr.msg);
    }
    return PX_OK;
}

void app_bundle_show_free(struct app_bundle_show *s)
{
    if (s == NULL) {
        return;
    }
    px_free(s->mlmodel);
    px_free(s->manifest);
    px_free(s->info);
    memset(s, 0, sizeof *s);
}

int app_bundle_promote(const char *registry, const char *ref_text, const char *stage, int *version,
                       struct px_err *err)
{
    const char *root = app_registry_dir(registry);
    struct registry_ref ref;
    int v = 0;
    int rc = registry_parse_ref(ref_text, &ref, err);
    if (rc == PX_OK && ref.alias[0] != '\0') {
        rc = px_fail(err, PX_EINVAL, "promote takes NAME/VERSION, not an alias");
    }
    if (rc == PX_OK && ref.version == 0) {
        // a bare name promotes the latest version
        int *vs = NULL;
        size_t nv = 0;
        rc = registry_versions(root, ref.name, &vs, &nv, err);
        if (rc == PX_OK && nv == 0)
            rc = px_fail(err, PX_ENOENT, "%s has no versions", ref.name);
        if (rc == PX_OK)
            ref.version = vs[nv - 1];
        px_free(vs);
    }
    if (rc == PX_OK)
        rc = registry_resolve(root, &ref, &v, NULL, 0, err);
    if (rc == PX_OK)
        rc = registry_set_alias(root, ref.name, stage, v, err);
    if (rc == PX_OK && version != NULL) {
        *version = v;
    }
    return rc;
}

int app_bundle_delete(const char *registry, const char *ref_text, bool force, size_t *n_cleared,
                      struct px_err *err)
{
    const char *root = app_registry_dir(registry);
    struct registry_ref ref;
    int rc = registry_parse_ref(ref_text, &ref, err);
    if (rc == PX_OK && ref.version == 0) {
        rc = px_fail(err, PX_EINVAL, "delete takes NAME/VERSION (one version at a time)");
    }
    if (rc == PX_OK)
        rc = registry_delete(root, ref.name, ref.version, force, n_cleared, err);
    return rc;
}

// ---- serving ----

// The model the bundle was made with: a copy must match the recorded id through the manifest;
// a referenced directory's weights, when present, are hashed and compared.
static int check_model(const char *dir, const struct searchbundle_info *info,
                       const struct bundle_manifest *m, struct px_err *err)
{
    if (!info->dense || info->model_id[0] == '\0') {
        return PX_OK;
    }
    if (info->model_copied) {
        long i = bundle_manifest_find(m, SEARCHBUNDLE_MODEL_DIR "/model.safetensors");
        if (i < 0 || strcmp(m->files[i].sha256, info->model_id + 7) != 0) {
            return px_fail(err, PX_EFORMAT,
                           "%s/model.safetensors: not the weights the embeddings were made with "
                           "(%.19s…)",
                           SEARCHBUNDLE_MODEL_DIR, info->model_id);
        }
        return PX_OK;
    }
    char w[LIMIT_PATH + 32], id[80];
    (void)dir;
    if (fsx_join(w, sizeof w, info->model_source, "model.safetensors", NULL) != PX_OK ||
        !fsx_is_file(w)) {
        return PX_OK; // the dense path will be off, and say why
    }
    int rc = app_model_id(info->model_source, id, sizeof id, err);
    if (rc == PX_OK && strcmp(id, info->model_id) != 0) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s: sha256 mismatch with the model the bundle was made with (bundle "
                     "%.19s…, file %.19s…)",
                     w, info->model_id, id);
    }
    return rc;
}

int app_bundle_open_book(const char *registry, const char *ref_text,
                         const struct app_book_params *params, struct app_book **out,
                         struct app_bundle_entry *served, struct px_err *err)
{
    const char *root = app_registry_dir(registry);
    struct registry_ref ref;
    struct registry_state st;
    struct bundle_manifest m = {0};
    struct searchbundle_info info;
    char dir[LIMIT_PATH];
    int version = 0;
    *out = NULL;
    // checks every file against the manifest and the name; the kind is checked here to say
    // what to do instead
    int rc = registry_open(root, ref_text, NULL, &ref, &version, dir, sizeof dir, &m, err);
    if (rc == PX_OK && strcmp(m.kind, BUNDLE_KIND_SEARCH) != 0) {
        rc = px_fail(err, PX_EINVAL,
                     "%s/%d is %s, not a search bundle: serve --bundle serves search bundles "
                     "(propensity models are served under /api/models from --registry)",
                     ref.name, version, bundle_kind_noun(m.kind));
    }
    if (rc == PX_OK)
        rc = registry_read_state(root, ref.name, &st, err);
    if (rc != PX_OK) {
        bundle_manifest_free(&m);
        // "no model named …" reads as it is, with what to do about it; the other messages name
        // the version ("NAME/V: file: …") and read as "bundle NAME/V: …"
        if (rc == PX_ENOENT && err != NULL && strncmp(err->msg, "no model named", 14) == 0) {
            return registry_hint_missing(rc, "make one with prospect bundle create", err);
        }
        return with_word(err, rc, "bundle");
    }
    rc = searchbundle_info_read(dir, &info, err);
    if (rc == PX_OK && strcmp(info.name, ref.name) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: made for the name '%s'", SEARCHBUNDLE_INFO, info.name);
    }
    if (rc == PX_OK)
        rc = check_model(dir, &info, &m, err);
    if (rc == PX_OK)
        rc = open_from_dir(dir, &info, params, false, out, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "bundle %s/%d", ref.name, version);
    } else if (served != NULL) {
        read_entry(dir, ref.name, version, &st, served);
    }
    bundle_manifest_free(&m);
    return rc;
}

// ---- JSON answers ----

// A JSON file's text as a value: the text itself when it parses, else as a string.
static int put_json_text(struct buf *out, const char *key, const char *text, struct px_err *err)
{
    int rc = jsonx_put_key(out, key, false, err);
    if (rc != PX_OK) {
        return rc;
    }
    size_t len = text != NULL ? strlen(text) : 0;
    cJSON *j = NULL;
    if (len > 0 && jsonx_parse(text, len, key, &j, NULL) == PX_OK) {
        cJSON_Delete(j);
        return buf_append(out, text, len, err);
    }
    return jsonx_put_string(out, text != NULL ? text : "", len, err);
}

// The entry's members, without the braces around them.
static int put_entry_members(const struct app_bundle_entry *e, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "\"stages\": [", 11, err);
    char stages[sizeof e->aliases];
    snprintf(stages, sizeof stages, "%s", e->aliases);
    bool first = true;
    for (char *save = NULL, *t = strtok_r(stages, ", ", &save); t && rc == PX_OK;
         t = strtok_r(NULL, ", ", &save)) {
        rc = first ? PX_OK : buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, t, strlen(t), err);
        first = false;
    }
    if (rc == PX_OK) rc = buf_append(out, "]", 1, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "name", e->name, false, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"version\": %d", e->version);
    if (rc == PX_OK) rc = jsonx_put_member(out, "kind", e->kind, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "created", e->created, false, err);
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"rows\": %llu, \"dense\": %s", (unsigned long long)e->rows,
                        e->dense ? "true" : "false");
    }
    if (rc == PX_OK) rc = jsonx_put_member(out, "model_id", e->model_id[0] ? e->model_id : NULL, false, err);
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"model_copied\": %s, \"bytes\": %llu",
                        e->model_copied ? "true" : "false", (unsigned long long)e->bytes);
    }
    if (rc == PX_OK && e->error[0]) rc = jsonx_put_member(out, "error", e->error, false, err);
    return rc;
}

int app_bundle_entry_json(const struct app_bundle_entry *e, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK) rc = put_entry_members(e, out, err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int app_bundle_show_json(const struct app_bundle_show *s, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK) rc = put_entry_members(&s->entry, out, err);
    if (rc == PX_OK && s->verified) {
        rc = buf_printf(out, err, ", \"verified\": %s", s->verify_rc == PX_OK ? "true" : "false");
        if (rc == PX_OK && s->verify_rc != PX_OK) {
            rc = jsonx_put_member(out, "verify_error", s->verify_msg, false, err);
        }
    }
    if (rc == PX_OK) rc = put_json_text(out, "bundle", s->info, err);
    if (rc == PX_OK) rc = put_json_text(out, "manifest", s->manifest, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "mlmodel", s->mlmodel, false, err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}
