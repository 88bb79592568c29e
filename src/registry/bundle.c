// bundle.c — model bundle directories: the manifest (write, parse, verify), MLmodel, and the
// file helpers the registry and the kinds need (copy, remove a tree, fsync a directory).
//
// Design:
//   - The manifest lists {path, size, sha256} of every file, sorted by path, and never itself.
//     Verification walks the directory with lstat semantics (nftw FTW_PHYS): a
//     symbolic link, a device or a file the manifest does not list is an error, so a bundle
//     cannot smuggle anything in beside what was checksummed. Cheap checks (presence, size) run
//     for every file before any hashing, and each file is hashed from the descriptor it was
//     opened with (O_NOFOLLOW), whose size is taken by fstat on that same descriptor.
//   - Paths in a manifest are validated before they are joined to the directory: components of
//     [A-Za-z0-9_.-], none empty or starting with '.', so "..", absolute paths and hidden files
//     cannot appear (bundle_path_ok).
//   - MLmodel is YAML for MLflow tools. Strings are written as JSON string literals, which are
//     valid YAML double-quoted scalars, so no value (a model path with a quote or a newline) can
//     break the document; the signature's JSON goes in single quotes as MLflow writes it.
//   - Every file is written to a temporary name, fsynced and renamed (fsx_write_atomic); the
//     directory as a whole becomes visible by one rename in registry.c.
//   - File trees are walked by nftw(3) (listing, copying a model directory in, removing), never
//     by hand; the section "file trees" says how each walk treats links and special files.
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "secrand.h"
#include "sha256.h"

// ---- names and paths ----

static bool name_byte_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int bundle_check_name(const char *name, struct px_err *err)
{
    size_t n = strlen(name);
    if (n == 0) {
        return px_fail(err, PX_EINVAL, "empty bundle name");
    }
    if (n > LIMIT_BUNDLE_NAME_BYTES) {
        return px_fail(err, PX_EINVAL, "bundle name is %zu bytes, over the limit of %d", n,
                       LIMIT_BUNDLE_NAME_BYTES);
    }
    if (name[0] == '.') {
        return px_fail(err, PX_EINVAL, "bundle name '%s' starts with '.'", name);
    }
    for (size_t i = 0; i < n; i++) {
        if (!name_byte_ok((unsigned char)name[i])) {
            return px_fail(err, PX_EINVAL,
                           "bundle name: byte %zu (0x%02x) is not a letter, digit, '_', '.' or '-'",
                           i, (unsigned char)name[i]);
        }
    }
    return PX_OK;
}

bool bundle_path_ok(const char *path)
{
    size_t n = strlen(path), comp = 0, depth = 1;
    if (n == 0 || n > LIMIT_BUNDLE_PATH_BYTES) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i == n || path[i] == '/') {
            if (comp == 0 || path[i - comp] == '.') {
                return false; // empty component, or one starting with '.' ("..", ".x")
            }
            comp = 0;
            if (i < n && ++depth > LIMIT_BUNDLE_DEPTH) {
                return false;
            }
        } else if (!name_byte_ok((unsigned char)path[i])) {
            return false;
        } else {
            comp++;
        }
    }
    return true;
}

// ---- kinds ----

static const char *const k_kinds[][2] = {
    {BUNDLE_KIND_SEARCH, "a search bundle"},
    {BUNDLE_KIND_PROPENSITY, "a propensity model"},
    {BUNDLE_KIND_RECOMMENDER, "a recommender"},
};

bool bundle_kind_ok(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < sizeof k_kinds / sizeof k_kinds[0]; i++) {
        if (strcmp(kind, k_kinds[i][0]) == 0) {
            return true;
        }
    }
    return false;
}

const char *bundle_kind_noun(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < sizeof k_kinds / sizeof k_kinds[0]; i++) {
        if (strcmp(kind, k_kinds[i][0]) == 0) {
            return k_kinds[i][1];
        }
    }
    return "a model of unknown kind";
}

// ---- hashing and walking ----

static int fail_errno(struct px_err *err, const char *what, const char *path, int e)
{
    return px_fail(err, e == ENOENT ? PX_ENOENT : PX_EIO, "%s: %s: %s", path, what, strerror(e));
}

// sha256 and size of the regular file at path, from one descriptor (no symlink followed).
static int hash_file(const char *path, const char *shown, char hex[65], uint64_t *size,
                     struct px_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return fail_errno(err, "cannot open", shown, errno);
    }
    struct stat st;
    int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                 ? sha256_fd_hex(fd, shown, hex, size, err)
                 : px_fail(err, PX_EFORMAT, "%s: not a regular file", shown);
    close(fd);
    return rc;
}

struct walk {
    char **paths; // owned: (n) relative paths of regular files
    size_t n, cap;
};

static void walk_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        px_free(w->paths[i]);
    }
    px_free(w->paths);
    memset(w, 0, sizeof *w);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

// ---- file trees (nftw) ----
//
// The three walks (list a bundle's files, copy a directory in, remove a tree) are nftw(3)
// callbacks. nftw has no user pointer, so the walk in progress is a per-thread pointer: walks
// on different threads never meet, and no callback starts another walk. A callback that fails
// fills the walk's px_err and stops the walk (FTW_STOP); nftw's own failure (-1: the root cannot
// be opened) comes back through errno.

struct tree {
    const char *root; // the tree walked, trailing '/' dropped (tree_walk)
    size_t root_len;  // strlen(root): path + root_len is "" (the root) or "/rel/path"
    const char *dst;  // copy: the destination root
    bool (*keep)(const char *rel, bool is_dir); // copy: the entries taken (NULL: all)
    struct walk *files;                         // list: the regular files found
    uint64_t n_bytes;                           // copy: bytes copied
    size_t n_files;                             // copy: files copied
    int rc; // PX_OK, or the status of the failure that stopped the walk
    struct px_err *err;
};

static _Thread_local struct tree *t_tree; // the walk running on this thread

// Runs nftw over t->root with visit; the walk's status (nftw's own failure named as what).
static int tree_walk(struct tree *t,
                     int (*visit)(const char *, const struct stat *, int, struct FTW *), int flags,
                     const char *what)
{
    char root[LIMIT_PATH];
    size_t n = strlen(t->root);
    while (n > 1 && t->root[n - 1] == '/') {
        n--;
    }
    if (n >= sizeof root) {
        return px_fail(t->err, PX_ELIMIT, "%.60s...: path longer than %d bytes", t->root,
                       LIMIT_PATH - 1);
    }
    memcpy(root, t->root, n);
    root[n] = '\0';
    const char *given = t->root;
    t->root = root; // nftw's paths start with root exactly
    t->root_len = n;
    t->rc = PX_OK;
    t_tree = t;
    int r = nftw(root, visit, 16, flags);
    int e = errno;
    t_tree = NULL;
    t->root = given;
    if (r == -1 && t->rc == PX_OK) {
        t->rc = fail_errno(t->err, what, t->root, e);
    }
    return t->rc;
}

// Fails the walk: records the status and returns FTW_STOP.
static int tree_stop(int rc)
{
    t_tree->rc = rc;
    return FTW_STOP;
}

// list: every entry under the root without following links (FTW_PHYS); regular files are
// collected by their relative path, directories nest at most LIMIT_BUNDLE_DEPTH deep, and
// anything else (a symbolic link, a device, a FIFO) is an error naming it.
static int list_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    struct tree *t = t_tree;
    struct walk *w = t->files;
    const char *rel = path[t->root_len] == '/' ? path + t->root_len + 1 : "";
    if (ftw->level == 0) {
        return type == FTW_D ? FTW_CONTINUE
                             : tree_stop(fail_errno(t->err, "cannot open the directory", path,
                                                    type == FTW_NS ? errno : ENOTDIR));
    }
    if (strlen(rel) > LIMIT_BUNDLE_PATH_BYTES * 2) {
        return tree_stop(px_fail(t->err, PX_ELIMIT, "%.60s...: path longer than %d bytes", rel,
                                 LIMIT_BUNDLE_PATH_BYTES));
    }
    switch (type) {
    case FTW_D:
        return ftw->level + 1 > LIMIT_BUNDLE_DEPTH
                   ? tree_stop(px_fail(t->err, PX_ELIMIT, "%s: directories nested deeper than %d",
                                       rel, LIMIT_BUNDLE_DEPTH))
                   : FTW_CONTINUE;
    case FTW_DNR: return tree_stop(fail_errno(t->err, "cannot open the directory", rel, errno));
    case FTW_NS: return tree_stop(fail_errno(t->err, "cannot stat", rel, errno));
    case FTW_SL:
    case FTW_SLN:
        return tree_stop(
            px_fail(t->err, PX_EFORMAT, "%s: not a regular file (a symbolic link)", rel));
    default: break;
    }
    if (!S_ISREG(st->st_mode)) {
        return tree_stop(
            px_fail(t->err, PX_EFORMAT, "%s: not a regular file (a special file)", rel));
    }
    if (w->n >= LIMIT_BUNDLE_FILES) {
        return tree_stop(px_fail(t->err, PX_ELIMIT, "more than %d files", LIMIT_BUNDLE_FILES));
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        char **p = px_realloc(w->paths, cap * sizeof *p);
        if (p == NULL) {
            return tree_stop(px_fail(t->err, PX_ENOMEM, "out of memory listing files"));
        }
        w->paths = p;
        w->cap = cap;
    }
    if ((w->paths[w->n] = px_strdup(rel)) == NULL) {
        return tree_stop(px_fail(t->err, PX_ENOMEM, "out of memory listing files"));
    }
    w->n++;
    return FTW_CONTINUE;
}

// The regular files under root, sorted, top-level manifest.json left out.
static int list_files(const char *root, struct walk *w, struct px_err *err)
{
    memset(w, 0, sizeof *w);
    struct tree t = {.root = root, .files = w, .err = err};
    int rc = tree_walk(&t, list_visit, FTW_PHYS | FTW_ACTIONRETVAL, "cannot open the directory");
    if (rc != PX_OK) {
        walk_free(w);
        return rc;
    }
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->paths[i], BUNDLE_MANIFEST) == 0) {
            px_free(w->paths[i]);
        } else {
            w->paths[k++] = w->paths[i];
        }
    }
    w->n = k;
    if (w->n > 1) {
        qsort(w->paths, w->n, sizeof *w->paths, cmp_cstr); // paths is NULL for an empty directory
    }
    return PX_OK;
}

// ---- manifest ----

void bundle_manifest_free(struct bundle_manifest *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->n_files; i++) {
        px_free(m->files[i].path);
    }
    px_free(m->files);
    memset(m, 0, sizeof *m);
}

long bundle_manifest_find(const struct bundle_manifest *m, const char *path)
{
    size_t lo = 0, hi = m->n_files;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->files[mid].path, path);
        if (c == 0) {
            return (long)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

int bundle_manifest_parse(const char *json, size_t len, struct bundle_manifest *out,
                          struct px_err *err)
{
    cJSON *root = NULL;
    const char *s = NULL;
    int64_t v = 0;
    memset(out, 0, sizeof *out);
    int rc = jsonx_parse(json, len, BUNDLE_MANIFEST, &root, err);
    if (rc != PX_OK) {
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        rc = px_fail(err, PX_EFORMAT, "%s: not a JSON object", BUNDLE_MANIFEST);
        goto done;
    }
    rc = jsonx_get_string(root, "magic", true, NULL, &s, BUNDLE_MANIFEST, err);
    if (rc == PX_OK && strcmp(s, BUNDLE_MAGIC) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: magic is not \"%s\"", BUNDLE_MANIFEST, BUNDLE_MAGIC);
    }
    if (rc == PX_OK) {
        rc = jsonx_get_int(root, "format_version", true, 0, 1, 1000000, &v, BUNDLE_MANIFEST, err);
    }
    if (rc == PX_OK && v > BUNDLE_FORMAT_VERSION) {
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "%s: bundle format version %lld is newer than this prospect's (%d)",
                     BUNDLE_MANIFEST, (long long)v, BUNDLE_FORMAT_VERSION);
    }
    out->format_version = (int)v;
    if (rc == PX_OK) {
        rc = jsonx_get_string(root, "name", true, NULL, &s, BUNDLE_MANIFEST, err);
    }
    if (rc == PX_OK && (rc = bundle_check_name(s, err)) != PX_OK) {
        px_err_prefix(err, "%s", BUNDLE_MANIFEST);
    }
    if (rc == PX_OK) {
        snprintf(out->name, sizeof out->name, "%s", s);
        // manifests written before kinds existed are search bundles
        rc = jsonx_get_string(root, "kind", false, BUNDLE_KIND_SEARCH, &s, BUNDLE_MANIFEST, err);
    }
    if (rc == PX_OK && !bundle_kind_ok(s)) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: kind \"%.40s\" is unknown to this prospect",
                     BUNDLE_MANIFEST, s);
    }
    if (rc == PX_OK) {
        snprintf(out->kind, sizeof out->kind, "%s", s);
        rc = jsonx_get_string(root, "created", true, NULL, &s, BUNDLE_MANIFEST, err);
    }
    if (rc == PX_OK && strlen(s) >= sizeof out->created) {
        rc = px_fail(err, PX_EFORMAT, "%s: \"created\" is too long", BUNDLE_MANIFEST);
    }
    if (rc != PX_OK) {
        goto done;
    }
    snprintf(out->created, sizeof out->created, "%s", s);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(files)) {
        rc = px_fail(err, PX_EFORMAT, "%s: \"files\" must be an array", BUNDLE_MANIFEST);
        goto done;
    }
    int n = cJSON_GetArraySize(files);
    if (n > LIMIT_BUNDLE_FILES) {
        rc = px_fail(err, PX_ELIMIT, "%s: %d files, over the limit of %d", BUNDLE_MANIFEST, n,
                     LIMIT_BUNDLE_FILES);
        goto done;
    }
    out->files = px_calloc(n > 0 ? (size_t)n : 1, sizeof *out->files);
    if (out->files == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory reading %s", BUNDLE_MANIFEST);
        goto done;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        size_t i = out->n_files;
        char what[64];
        snprintf(what, sizeof what, "%s: files[%zu]", BUNDLE_MANIFEST, i);
        if (!cJSON_IsObject(f)) {
            rc = px_fail(err, PX_EFORMAT, "%s: not an object", what);
            break;
        }
        rc = jsonx_get_string(f, "path", true, NULL, &s, what, err);
        if (rc == PX_OK && (!bundle_path_ok(s) || strcmp(s, BUNDLE_MANIFEST) == 0)) {
            rc = px_fail(err, PX_EFORMAT, "%s: path \"%.80s\" is not allowed in a bundle", what, s);
        }
        if (rc == PX_OK && i > 0 && strcmp(out->files[i - 1].path, s) >= 0) {
            rc = px_fail(err, PX_EFORMAT, "%s: \"%s\" is out of order or repeated", what, s);
        }
        if (rc == PX_OK && (out->files[i].path = px_strdup(s)) == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading %s", BUNDLE_MANIFEST);
        }
        if (rc != PX_OK) {
            break;
        }
        out->n_files++;
        rc = jsonx_get_int(f, "size", true, 0, 0, (int64_t)LIMIT_BUNDLE_BYTES, &v, what, err);
        out->files[i].size = (uint64_t)v;
        out->total_bytes += (uint64_t)v;
        if (rc == PX_OK && out->total_bytes > LIMIT_BUNDLE_BYTES) {
            rc = px_fail(err, PX_ELIMIT, "%s: files add up to more than %llu bytes",
                         BUNDLE_MANIFEST, (unsigned long long)LIMIT_BUNDLE_BYTES);
        }
        if (rc == PX_OK) {
            rc = jsonx_get_string(f, "sha256", true, NULL, &s, what, err);
        }
        if (rc == PX_OK && !sha256_hex_ok(s)) {
            rc = px_fail(err, PX_EFORMAT, "%s: sha256 is not 64 lowercase hex digits", what);
        }
        if (rc != PX_OK) {
            break;
        }
        memcpy(out->files[i].sha256, s, 65);
    }
done:
    cJSON_Delete(root);
    if (rc != PX_OK) {
        bundle_manifest_free(out);
    }
    return rc;
}

static int manifest_json(const struct bundle_manifest *m, struct buf *b, struct px_err *err)
{
    int rc = buf_printf(b, err, "{\n  \"magic\": \"%s\",\n  \"format_version\": %d,\n  \"name\": ",
                        BUNDLE_MAGIC, BUNDLE_FORMAT_VERSION);
    if (rc == PX_OK)
        rc = jsonx_put_string(b, m->name, strlen(m->name), err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ",\n  \"kind\": \"%s\",\n  \"created\": ", m->kind);
    if (rc == PX_OK)
        rc = jsonx_put_string(b, m->created, strlen(m->created), err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ",\n  \"files\": [");
    for (size_t i = 0; rc == PX_OK && i < m->n_files; i++) {
        rc = buf_printf(b, err, "%s\n    {\"path\": ", i ? "," : "");
        if (rc == PX_OK) {
            rc = jsonx_put_string(b, m->files[i].path, strlen(m->files[i].path), err);
        }
        if (rc == PX_OK) {
            rc = buf_printf(b, err, ", \"size\": %llu, \"sha256\": \"%s\"}",
                            (unsigned long long)m->files[i].size, m->files[i].sha256);
        }
    }
    if (rc == PX_OK)
        rc = buf_printf(b, err, "\n  ]\n}\n");
    return rc;
}

int bundle_seal(const char *dir, const char *name, const char *kind, const char *created,
                struct bundle_manifest *out, struct px_err *err)
{
    struct walk w = {0};
    struct bundle_manifest m = {0};
    struct buf b;
    char path[LIMIT_PATH + LIMIT_BUNDLE_PATH_BYTES + 2], mpath[LIMIT_PATH];
    buf_init(&b, LIMIT_BUNDLE_MANIFEST_BYTES);
    if (out != NULL) {
        memset(out, 0, sizeof *out);
    }
    int rc = bundle_check_name(name, err);
    if (rc == PX_OK && !bundle_kind_ok(kind)) {
        rc = px_fail(err, PX_EINVAL, "'%.40s' is not a kind of model bundle", kind ? kind : "");
    }
    if (rc == PX_OK) {
        rc = list_files(dir, &w, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    m.format_version = BUNDLE_FORMAT_VERSION;
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.kind, sizeof m.kind, "%s", kind);
    snprintf(m.created, sizeof m.created, "%s", created);
    m.files = px_calloc(w.n ? w.n : 1, sizeof *m.files);
    if (m.files == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory sealing %s", dir);
        goto done;
    }
    for (size_t i = 0; i < w.n; i++) {
        if (!bundle_path_ok(w.paths[i])) {
            rc = px_fail(err, PX_EINVAL, "%s: name not allowed in a bundle", w.paths[i]);
            goto done;
        }
        snprintf(path, sizeof path, "%s/%s", dir, w.paths[i]);
        rc = hash_file(path, w.paths[i], m.files[i].sha256, &m.files[i].size, err);
        if (rc != PX_OK) {
            goto done;
        }
        m.files[i].path = w.paths[i];
        w.paths[i] = NULL; // moved into the manifest
        m.n_files++;
        m.total_bytes += m.files[i].size;
    }
    rc = manifest_json(&m, &b, err);
    if (rc == PX_OK)
        rc = fsx_join(mpath, sizeof mpath, dir, BUNDLE_MANIFEST, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(mpath, b.data, b.len, err);
    if (rc == PX_OK && out != NULL) {
        *out = m;
        memset(&m, 0, sizeof m);
    }
done:
    buf_free(&b);
    walk_free(&w);
    bundle_manifest_free(&m);
    return rc;
}

int bundle_manifest_read(const char *dir, struct bundle_manifest *out, struct px_err *err)
{
    char path[LIMIT_PATH], *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = fsx_join(path, sizeof path, dir, BUNDLE_MANIFEST, err);
    if (rc == PX_OK) {
        rc = fsx_read_file(path, LIMIT_BUNDLE_MANIFEST_BYTES, &text, &len, err);
        if (rc == PX_ENOENT) {
            rc = px_fail(err, PX_ENOENT, "%s: missing", BUNDLE_MANIFEST);
        } else if (rc != PX_OK) {
            px_err_prefix(err, "%s", BUNDLE_MANIFEST);
        }
    }
    if (rc == PX_OK)
        rc = bundle_manifest_parse(text, len, out, err);
    px_free(text);
    return rc;
}

static void short_hex(const char *hex, char out[16])
{
    snprintf(out, 16, "%.12s\xe2\x80\xa6", hex); // 12 digits and "…"
}

int bundle_verify(const char *dir, struct bundle_manifest *out, struct px_err *err)
{
    struct walk w = {0};
    struct bundle_manifest m = {0};
    char *text = NULL;
    size_t len = 0;
    char path[LIMIT_PATH + LIMIT_BUNDLE_PATH_BYTES + 2];
    if (out != NULL) {
        memset(out, 0, sizeof *out);
    }
    int rc = fsx_join(path, sizeof path, dir, BUNDLE_MANIFEST, err);
    if (rc == PX_OK) {
        rc = fsx_read_file(path, LIMIT_BUNDLE_MANIFEST_BYTES, &text, &len, err);
        if (rc == PX_ENOENT) {
            rc = px_fail(err, PX_ENOENT, "%s: missing", BUNDLE_MANIFEST);
        } else if (rc != PX_OK) {
            px_err_prefix(err, "%s", BUNDLE_MANIFEST);
        }
    }
    if (rc == PX_OK)
        rc = bundle_manifest_parse(text, len, &m, err);
    if (rc == PX_OK)
        rc = list_files(dir, &w, err);
    if (rc != PX_OK) {
        goto done;
    }
    // presence both ways first (cheap), then sizes, then contents
    for (size_t i = 0; i < w.n; i++) {
        if (bundle_manifest_find(&m, w.paths[i]) < 0) {
            rc = px_fail(err, PX_EFORMAT, "%s: not in the manifest", w.paths[i]);
            goto done;
        }
    }
    for (size_t i = 0; i < m.n_files; i++) {
        if (w.n == 0 || !bsearch(&m.files[i].path, w.paths, w.n, sizeof *w.paths, cmp_cstr)) {
            rc = px_fail(err, PX_ENOENT, "%s: missing", m.files[i].path);
            goto done;
        }
    }
    for (size_t i = 0; i < m.n_files; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, m.files[i].path);
        if (lstat(path, &st) != 0) {
            rc = fail_errno(err, "cannot stat", m.files[i].path, errno);
            goto done;
        }
        if ((uint64_t)st.st_size != m.files[i].size) {
            rc =
                px_fail(err, PX_EFORMAT, "%s: size mismatch (manifest %llu bytes, file %llu bytes)",
                        m.files[i].path, (unsigned long long)m.files[i].size,
                        (unsigned long long)st.st_size);
            goto done;
        }
    }
    for (size_t i = 0; i < m.n_files; i++) {
        char hex[65], a[16], b[16];
        uint64_t size = 0;
        snprintf(path, sizeof path, "%s/%s", dir, m.files[i].path);
        rc = hash_file(path, m.files[i].path, hex, &size, err);
        if (rc != PX_OK) {
            goto done;
        }
        if (size != m.files[i].size) {
            rc = px_fail(
                err, PX_EFORMAT, "%s: size mismatch (manifest %llu bytes, file %llu bytes)",
                m.files[i].path, (unsigned long long)m.files[i].size, (unsigned long long)size);
            goto done;
        }
        if (strcmp(hex, m.files[i].sha256) != 0) {
            short_hex(m.files[i].sha256, a);
            short_hex(hex, b);
            rc = px_fail(err, PX_EFORMAT, "%s: sha256 mismatch (manifest %s, file %s)",
                         m.files[i].path, a, b);
            goto done;
        }
    }
    if (out != NULL) {
        *out = m;
        memset(&m, 0, sizeof m);
    }
done:
    px_free(text);
    walk_free(&w);
    bundle_manifest_free(&m);
    return rc;
}

// ---- bundle.json and MLmodel ----

// MLflow's utc_time_created is "YYYY-MM-DD HH:MM:SS.ffffff"; ours is ISO 8601 with 'T' and 'Z'.
static void mlflow_time(const char *iso, char out[40])
{
    snprintf(out, 40, "%s", iso);
    char *t = strchr(out, 'T'), *z = strchr(out, 'Z');
    if (t)
        *t = ' ';
    if (z)
        *z = '\0';
}

int bundle_new_uuid(char *out, size_t n, struct px_err *err)
{
    unsigned char r[16];
    if (n > 0) {
        out[0] = '\0';
    }
    if (n < 2 * sizeof r + 1) {
        return px_fail(err, PX_EINTERNAL, "bundle_new_uuid: %zu bytes, need %zu", n,
                       2 * sizeof r + 1);
    }
    int rc = secrand_bytes(r, sizeof r, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "making a model uuid");
        return rc;
    }
    for (size_t i = 0; i < sizeof r; i++) {
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    }
    return PX_OK;
}

// A signature entry: MLflow writes the JSON text in single quotes ('' escapes a quote).
static int put_signature(struct buf *b, const char *key, const char *json, struct px_err *err)
{
    int rc = buf_printf(b, err, "  %s: ", key);
    if (rc != PX_OK || json == NULL) {
        return rc == PX_OK ? buf_printf(b, err, "null\n") : rc;
    }
    rc = buf_append(b, "'", 1, err);
    for (const char *p = json; rc == PX_OK && *p; p++) {
        rc = *p == '\''   ? buf_append(b, "''", 2, err)
             : *p == '\n' ? buf_append(b, " ", 1, err)
                          : buf_append(b, p, 1, err);
    }
    return rc == PX_OK ? buf_append(b, "'\n", 2, err) : rc;
}

int bundle_write_mlmodel(const char *dir, const struct bundle_mlmodel *m, struct px_err *err)
{
    struct buf b;
    char path[LIMIT_PATH], when[40];
    buf_init(&b, LIMIT_BUNDLE_MANIFEST_BYTES);
    mlflow_time(m->created, when);
    int rc = bundle_kind_ok(m->kind)
                 ? buf_printf(&b, err, "artifact_path: ")
                 : px_fail(err, PX_EINVAL, "'%.40s' is not a kind of model bundle", m->kind);
    if (rc == PX_OK)
        rc = jsonx_put_string(&b, m->name, strlen(m->name), err);
    if (rc == PX_OK) {
        rc = buf_printf(&b, err, "\nflavors:\n  prospect:\n    kind: %s\n    format_version: %d\n",
                        m->kind, BUNDLE_FORMAT_VERSION);
    }
    for (size_t i = 0; rc == PX_OK && i < m->n_kv; i++) {
        const char *v = m->kv[i].value ? m->kv[i].value : "";
        rc = buf_printf(&b, err, "    %s: ", m->kv[i].key);
        if (rc == PX_OK) {
            rc = m->kv[i].literal && v[0] ? buf_printf(&b, err, "%s", v)
                                          : jsonx_put_string(&b, v, strlen(v), err);
        }
        if (rc == PX_OK)
            rc = buf_append(&b, "\n", 1, err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(&b, err, "model_size_bytes: %llu\nmodel_uuid: %s\nsignature:\n",
                        (unsigned long long)m->size_bytes, m->model_uuid);
    }
    if (rc == PX_OK)
        rc = put_signature(&b, "inputs", m->inputs, err);
    if (rc == PX_OK)
        rc = put_signature(&b, "outputs", m->outputs, err);
    if (rc == PX_OK)
        rc = put_signature(&b, "params", m->params, err);
    if (rc == PX_OK)
        rc = buf_printf(&b, err, "utc_time_created: '%s'\n", when);
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, dir, BUNDLE_MLMODEL, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(path, b.data, b.len, err);
    buf_free(&b);
    return rc;
}

// ---- files ----

int bundle_fsync_dir(const char *path, struct px_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return fail_errno(err, "cannot open the directory", path, errno);
    }
    int rc = fsync(fd) == 0 ? PX_OK : fail_errno(err, "cannot fsync", path, errno);
    close(fd);
    return rc;
}

// Copies the open regular file in (shown as src) to dst, created with the source's permission
// bits masked to 0644 (never wider than the source, never executable) and fsynced.
static int copy_fd(int in, const struct stat *st, const char *src, const char *dst,
                   struct px_err *err)
{
    int out = -1, rc = PX_OK;
    unsigned char *chunk = px_malloc(1u << 16);
    if (chunk == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory copying %s", src);
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
               (mode_t)(st->st_mode & 0644));
    if (out < 0) {
        rc = fail_errno(err, "cannot create", dst, errno);
        goto done;
    }
    for (;;) {
        ssize_t r = read(in, chunk, 1u << 16);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = fail_errno(err, "cannot read", src, errno);
            goto done;
        }
        if (r == 0) {
            break;
        }
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, chunk + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w < 0) {
                rc = fail_errno(err, "cannot write", dst, errno);
                goto done;
            }
            off += w;
        }
    }
    if (fsync(out) != 0) {
        rc = fail_errno(err, "cannot fsync", dst, errno);
    }
done:
    if (out >= 0 && close(out) != 0 && rc == PX_OK) {
        rc = fail_errno(err, "cannot close", dst, errno);
    }
    px_free(chunk);
    return rc;
}

// Opens src for copying into *fd: O_NONBLOCK so that a FIFO cannot hang the open, O_NOFOLLOW
// when links are refused; the descriptor's own fstat (into *st) must say regular file.
static int open_regular(const char *src, bool follow, int *fd, struct stat *st, struct px_err *err)
{
    *fd = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    if (*fd < 0) {
        return errno == ELOOP && !follow
                   ? px_fail(err, PX_EINVAL, "%s: a symbolic link: only regular files are copied",
                             src)
                   : fail_errno(err, "cannot open", src, errno);
    }
    int rc = fstat(*fd, st) != 0     ? fail_errno(err, "cannot stat", src, errno)
             : !S_ISREG(st->st_mode) ? px_fail(err, PX_EINVAL, "%s: not a regular file", src)
                                     : PX_OK;
    if (rc != PX_OK) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int bundle_copy_file(const char *src, const char *dst, struct px_err *err)
{
    struct stat st;
    int in = -1;
    int rc = open_regular(src, true, &in, &st, err);
    if (rc == PX_OK) {
        rc = copy_fd(in, &st, src, dst, err);
        close(in);
    }
    return rc;
}

// copy: nothing followed (FTW_PHYS): a symbolic link, at the root or below it, is refused, as
// is a special file; each file is opened O_NOFOLLOW and must be regular by the fstat of that
// descriptor, so a file swapped for a link after the walk looked at it is refused too. Names
// starting with '.' are skipped with their subtrees, and so is every entry the walk's keep()
// does not accept (a skipped entry is never opened, whatever it is); every other name is
// checked as a bundle path component. Directories are made (0755) as they are entered (nftw
// visits them before their entries); files are copied with modes no wider than the source.
static int copy_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    struct tree *t = t_tree;
    const char *name = path + ftw->base;
    const char *rel = path[t->root_len] == '/' ? path + t->root_len + 1 : "";
    char dst[LIMIT_PATH];
    if (ftw->level == 0) {
        if (type == FTW_SL || type == FTW_SLN) {
            char to[LIMIT_PATH];
            ssize_t k = readlink(path, to, sizeof to - 1);
            to[k > 0 ? k : 0] = '\0';
            return tree_stop(px_fail(t->err, PX_EINVAL,
                                     "%s: the directory is a symbolic link (to '%s'): name the "
                                     "directory itself",
                                     path, to));
        }
        if (type != FTW_D) {
            return tree_stop(fail_errno(t->err, "cannot open the directory", path,
                                        type == FTW_NS || type == FTW_DNR ? errno : ENOTDIR));
        }
    }
    if (ftw->level > 0 && name[0] == '.') {
        return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    }
    if (ftw->level > 0 && t->keep != NULL && !t->keep(rel, type == FTW_D || type == FTW_DNR)) {
        return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    }
    int n = snprintf(dst, sizeof dst, "%s%s", t->dst, path + t->root_len);
    if (n < 0 || (size_t)n >= sizeof dst) {
        return tree_stop(
            px_fail(t->err, PX_ELIMIT, "%s: path longer than %d bytes", path, LIMIT_PATH - 1));
    }
    if (type == FTW_NS) {
        return tree_stop(fail_errno(t->err, "cannot stat", path, errno));
    }
    if (type == FTW_SL || type == FTW_SLN) {
        return tree_stop(
            px_fail(t->err, PX_EINVAL, "%s: a symbolic link: only regular files are copied", path));
    }
    if (ftw->level > 0 && !bundle_path_ok(name)) {
        return tree_stop(px_fail(t->err, PX_EINVAL,
                                 "%s: a bundle cannot hold this name (letters, digits, '_', '.', "
                                 "'-' only)",
                                 path));
    }
    if (type == FTW_DNR) {
        return tree_stop(fail_errno(t->err, "cannot open the directory", path, errno));
    }
    if (type == FTW_D) {
        if (ftw->level + 1 > LIMIT_BUNDLE_DEPTH) {
            return tree_stop(px_fail(t->err, PX_ELIMIT, "%s: directories nested deeper than %d",
                                     path, LIMIT_BUNDLE_DEPTH));
        }
        return mkdir(dst, 0755) == 0
                   ? FTW_CONTINUE
                   : tree_stop(fail_errno(t->err, "cannot create the directory", dst, errno));
    }
    if (!S_ISREG(st->st_mode)) {
        return tree_stop(px_fail(t->err, PX_EINVAL, "%s: not a regular file", path));
    }
    if (++t->n_files > LIMIT_BUNDLE_FILES / 2) {
        return tree_stop(
            px_fail(t->err, PX_ELIMIT, "%s: more than %d files", t->root, LIMIT_BUNDLE_FILES / 2));
    }
    struct stat fst;
    int in = -1;
    int rc = open_regular(path, false, &in, &fst, t->err);
    if (rc == PX_OK) {
        rc = copy_fd(in, &fst, path, dst, t->err);
        close(in);
    }
    if (rc != PX_OK) {
        return tree_stop(rc);
    }
    t->n_bytes += (uint64_t)fst.st_size;
    return FTW_CONTINUE;
}

// fsync: each directory of a finished copy, after its entries (FTW_DEPTH), so every file and
// directory made is durable before the copy is renamed into place.
static int fsync_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_DP) {
        return FTW_CONTINUE;
    }
    int rc = bundle_fsync_dir(path, t_tree->err);
    return rc == PX_OK ? FTW_CONTINUE : tree_stop(rc);
}

int bundle_copy_tree(const char *src, const char *dst, bool (*keep)(const char *rel, bool is_dir),
                     uint64_t *n_bytes, struct px_err *err)
{
    struct tree t = {.root = src, .dst = dst, .keep = keep, .err = err};
    int rc = tree_walk(&t, copy_visit, FTW_PHYS | FTW_ACTIONRETVAL, "cannot open the directory");
    if (rc == PX_OK) {
        struct tree f = {.root = dst, .err = err};
        rc = tree_walk(&f, fsync_visit, FTW_PHYS | FTW_DEPTH | FTW_ACTIONRETVAL,
                       "cannot open the directory");
    }
    if (n_bytes != NULL) {
        *n_bytes = t.n_bytes;
    }
    return rc;
}

// remove: entries before their directory (FTW_DEPTH), links removed and never followed
// (FTW_PHYS), never leaving the file system the tree starts on (FTW_MOUNT).
static int remove_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DNR) {
        return tree_stop(fail_errno(t_tree->err, "cannot open the directory", path, errno));
    }
    if (type == FTW_DP ? rmdir(path) != 0 : unlink(path) != 0) {
        if (errno != ENOENT) {
            return tree_stop(fail_errno(
                t_tree->err, type == FTW_DP ? "cannot remove the directory" : "cannot remove", path,
                errno));
        }
    }
    return FTW_CONTINUE;
}

int bundle_remove_tree(const char *path, struct px_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return errno == ENOENT ? PX_OK : fail_errno(err, "cannot stat", path, errno);
    }
    struct tree t = {.root = path, .err = err};
    return tree_walk(&t, remove_visit, FTW_PHYS | FTW_DEPTH | FTW_MOUNT | FTW_ACTIONRETVAL,
                     "cannot remove");
}

void bundle_now_utc(char *out, size_t n)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%06ldZ", base, (long)tv.tv_usec);
}
