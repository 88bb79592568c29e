// bundle.c — model bundle directories: the manifest (write, parse, verify), bundle.json and
// MLmodel, and the file helpers the registry needs (copy, remove a tree, fsync a directory).
//
// Design:
//   - The manifest lists {path, size, sha256} of every file, sorted by path, and never itself.
//     Verification walks the directory with lstat semantics (fstatat AT_SYMLINK_NOFOLLOW): a
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
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "mem.h"
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

// Collects the regular files under root/rel (rel "" for root itself) into w; anything that is
// neither a regular file nor a directory is an error naming it.
static int walk_dir(const char *root, const char *rel, int depth, struct walk *w,
                    struct px_err *err)
{
    char dir[4096 + LIMIT_BUNDLE_PATH_BYTES + 2];
    int rc = PX_OK;
    if (depth > LIMIT_BUNDLE_DEPTH) {
        return px_fail(err, PX_ELIMIT, "%s: directories nested deeper than %d", rel,
                       LIMIT_BUNDLE_DEPTH);
    }
    snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        rc = fail_errno(err, "cannot open the directory", rel[0] ? rel : dir, errno);
        if (fd >= 0) {
            close(fd);
        }
        return rc;
    }
    struct dirent *e;
    while (rc == PX_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char relp[LIMIT_BUNDLE_PATH_BYTES * 2 + 2];
        int n = snprintf(relp, sizeof relp, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof relp) {
            rc = px_fail(err, PX_ELIMIT, "%.60s...: path longer than %d bytes", relp,
                         LIMIT_BUNDLE_PATH_BYTES);
            break;
        }
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = fail_errno(err, "cannot stat", relp, errno);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(root, relp, depth + 1, w, err);
        } else if (!S_ISREG(st.st_mode)) {
            rc = px_fail(err, PX_EFORMAT, "%s: not a regular file (%s)", relp,
                         S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
        } else if (w->n >= LIMIT_BUNDLE_FILES) {
            rc = px_fail(err, PX_ELIMIT, "more than %d files", LIMIT_BUNDLE_FILES);
        } else {
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 16;
                char **p = px_realloc(w->paths, cap * sizeof *p);
                if (p == NULL) {
                    rc = px_fail(err, PX_ENOMEM, "out of memory listing files");
                    break;
                }
                w->paths = p;
                w->cap = cap;
            }
            if ((w->paths[w->n] = px_strdup(relp)) == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory listing files");
            } else {
                w->n++;
            }
        }
    }
    closedir(d);
    return rc;
}

// The regular files under root, sorted, top-level manifest.json left out.
static int list_files(const char *root, struct walk *w, struct px_err *err)
{
    memset(w, 0, sizeof *w);
    int rc = walk_dir(root, "", 1, w, err);
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

static bool hex64_ok(const char *s)
{
    if (strlen(s) != 64) {
        return false;
    }
    for (size_t i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
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
        if (rc == PX_OK && !hex64_ok(s)) {
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
    char path[4096 + LIMIT_BUNDLE_PATH_BYTES + 2], mpath[4200];
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
    char path[4200], *text = NULL;
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
    char path[4096 + LIMIT_BUNDLE_PATH_BYTES + 2];
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

static int put_str_or_null(struct buf *b, const char *s, struct px_err *err)
{
    return s[0] ? jsonx_put_string(b, s, strlen(s), err) : buf_printf(b, err, "null");
}

static int info_json(const struct bundle_info *in, struct buf *b, struct px_err *err)
{
    int rc = buf_printf(b, err, "{\n  \"magic\": \"%s\",\n  \"format_version\": %d,\n  \"name\": ",
                        BUNDLE_MAGIC, BUNDLE_FORMAT_VERSION);
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->name, strlen(in->name), err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ",\n  \"created\": ");
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->created, strlen(in->created), err);
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        ",\n  \"model_uuid\": \"%s\",\n  \"prospect_version\": ", in->model_uuid);
    }
    if (rc == PX_OK) {
        rc = jsonx_put_string(b, in->prospect_version, strlen(in->prospect_version), err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        ",\n  \"data\": {\"file\": \"%s\", \"rows\": %llu, \"columns\": %llu},\n"
                        "  \"embeddings\": {\"present\": %s, \"count\": %llu, \"dim\": %d},\n"
                        "  \"model\": {\"model_id\": ",
                        BUNDLE_DATA, (unsigned long long)in->rows, (unsigned long long)in->columns,
                        in->dense ? "true" : "false", (unsigned long long)in->n_vectors, in->dim);
    }
    if (rc == PX_OK)
        rc = put_str_or_null(b, in->model_id, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ", \"source\": ");
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->model_source, strlen(in->model_source), err);
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        ", \"copied\": %s, \"path\": %s},\n"
                        "  \"lexicon\": {\"file\": \"%s\", \"user\": %s},\n"
                        "  \"template\": %s\n}\n",
                        in->model_copied ? "true" : "false",
                        in->model_copied ? "\"" BUNDLE_MODEL_DIR "\"" : "null", BUNDLE_LEXICON,
                        in->has_user_lexicon ? "\"" BUNDLE_USER_LEXICON "\"" : "null",
                        in->has_template ? "\"" BUNDLE_TEMPLATE "\"" : "null");
    }
    return rc;
}

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

static int mlmodel_yaml(const struct bundle_info *in, uint64_t size_bytes, struct buf *b,
                        struct px_err *err)
{
    char when[40];
    mlflow_time(in->created, when);
    int rc = buf_printf(b, err, "artifact_path: ");
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->name, strlen(in->name), err);
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        "\nflavors:\n  prospect:\n    bundle: %s\n    data: %s\n"
                        "    embeddings: %s\n    format_version: %d\n    kind: search\n"
                        "    lexicon: %s\n"
                        "    model_copied: %s\n    model_id: ",
                        BUNDLE_INFO, BUNDLE_DATA, in->dense ? "true" : "false",
                        BUNDLE_FORMAT_VERSION, BUNDLE_LEXICON, in->model_copied ? "true" : "false");
    }
    if (rc == PX_OK)
        rc = put_str_or_null(b, in->model_id, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, "\n    model_source: ");
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->model_source, strlen(in->model_source), err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, "\n    prospect_version: ");
    if (rc == PX_OK) {
        rc = jsonx_put_string(b, in->prospect_version, strlen(in->prospect_version), err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(
            b, err,
            "\n    rows: %llu\n    serve: prospect serve --bundle NAME[/VERSION]\n"
            "model_size_bytes: %llu\nmodel_uuid: %s\nsignature:\n"
            "  inputs: '[{\"name\": \"query\", \"type\": \"string\", \"required\": true}]'\n"
            "  outputs: null\n"
            "  params: '[{\"name\": \"top_n\", \"type\": \"long\", \"default\": 5, \"shape\": "
            "null}, {\"name\": \"show_score\", \"type\": \"boolean\", \"default\": true, "
            "\"shape\": null}]'\n"
            "utc_time_created: '%s'\n",
            (unsigned long long)in->rows, (unsigned long long)size_bytes, in->model_uuid, when);
    }
    return rc;
}

int bundle_write_meta(const char *dir, const struct bundle_info *info, uint64_t size_bytes,
                      struct px_err *err)
{
    struct buf b;
    char path[4200];
    buf_init(&b, LIMIT_BUNDLE_MANIFEST_BYTES);
    int rc = info_json(info, &b, err);
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, dir, BUNDLE_INFO, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(path, b.data, b.len, err);
    buf_reset(&b);
    if (rc == PX_OK)
        rc = mlmodel_yaml(info, size_bytes, &b, err);
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, dir, BUNDLE_MLMODEL, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(path, b.data, b.len, err);
    buf_free(&b);
    return rc;
}

void bundle_new_uuid(char *out, size_t n)
{
    unsigned char r[16] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t got = read(fd, r, sizeof r);
        (void)got;
        close(fd);
    }
    out[0] = '\0';
    for (size_t i = 0; i < sizeof r && 2 * i + 2 < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    }
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
    char path[4200], when[40];
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

// obj[key] as a string copied into out (n bytes), or "" when null and nullable.
static int get_str(const cJSON *obj, const char *key, bool nullable, char *out, size_t n,
                   const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (nullable && cJSON_IsNull(v)) {
        out[0] = '\0';
        return PX_OK;
    }
    if (!cJSON_IsString(v)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be a string", what, key);
    }
    if (strlen(v->valuestring) >= n) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" is longer than %zu bytes", what, key, n - 1);
    }
    snprintf(out, n, "%s", v->valuestring);
    return PX_OK;
}

// obj[key] is null or the string want; *present says which.
static int get_fixed(const cJSON *obj, const char *key, const char *want, bool *present,
                     const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *present = cJSON_IsString(v);
    if (cJSON_IsNull(v) || (*present && strcmp(v->valuestring, want) == 0)) {
        return PX_OK;
    }
    return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be null or \"%s\"", what, key, want);
}

static const cJSON *get_obj(const cJSON *obj, const char *key, const char *what, int *rc,
                            struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (*rc == PX_OK && !cJSON_IsObject(v)) {
        *rc = px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an object", what, key);
    }
    return *rc == PX_OK ? v : NULL;
}

int bundle_info_parse(const char *json, size_t len, struct bundle_info *out, struct px_err *err)
{
    const char *what = BUNDLE_INFO;
    cJSON *root = NULL;
    int64_t v = 0;
    bool present = false;
    memset(out, 0, sizeof *out);
    int rc = jsonx_parse(json, len, what, &root, err);
    if (rc == PX_OK && !cJSON_IsObject(root)) {
        rc = px_fail(err, PX_EFORMAT, "%s: not a JSON object", what);
    }
    char magic[32];
    if (rc == PX_OK)
        rc = get_str(root, "magic", false, magic, sizeof magic, what, err);
    if (rc == PX_OK && strcmp(magic, BUNDLE_MAGIC) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: magic is not \"%s\"", what, BUNDLE_MAGIC);
    }
    if (rc == PX_OK)
        rc = jsonx_get_int(root, "format_version", true, 0, 1, 1000000, &v, what, err);
    if (rc == PX_OK && v > BUNDLE_FORMAT_VERSION) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: format version %lld is newer than this prospect's",
                     what, (long long)v);
    }
    if (rc == PX_OK)
        rc = get_str(root, "name", false, out->name, sizeof out->name, what, err);
    if (rc == PX_OK)
        rc = bundle_check_name(out->name, err);
    if (rc == PX_OK) {
        rc = get_str(root, "created", false, out->created, sizeof out->created, what, err);
    }
    if (rc == PX_OK) {
        rc = get_str(root, "model_uuid", false, out->model_uuid, sizeof out->model_uuid, what, err);
    }
    if (rc == PX_OK) {
        rc = get_str(root, "prospect_version", false, out->prospect_version,
                     sizeof out->prospect_version, what, err);
    }
    const cJSON *data = get_obj(root, "data", what, &rc, err);
    if (rc == PX_OK)
        rc = get_fixed(data, "file", BUNDLE_DATA, &present, what, err);
    if (rc == PX_OK && !present)
        rc = px_fail(err, PX_EFORMAT, "%s: data.file is null", what);
    if (rc == PX_OK)
        rc = jsonx_get_int(data, "rows", true, 0, 0, INT64_MAX, &v, what, err);
    out->rows = (uint64_t)v;
    if (rc == PX_OK)
        rc = jsonx_get_int(data, "columns", true, 0, 0, INT64_MAX, &v, what, err);
    out->columns = (uint64_t)v;
    const cJSON *emb = get_obj(root, "embeddings", what, &rc, err);
    if (rc == PX_OK)
        rc = jsonx_get_bool(emb, "present", true, false, &out->dense, what, err);
    if (rc == PX_OK)
        rc = jsonx_get_int(emb, "count", true, 0, 0, INT64_MAX, &v, what, err);
    out->n_vectors = (uint64_t)v;
    if (rc == PX_OK) {
        rc = jsonx_get_int(emb, "dim", true, 0, 0, LIMIT_VECTOR_DIM, &v, what, err);
    }
    out->dim = (int)v;
    const cJSON *model = get_obj(root, "model", what, &rc, err);
    if (rc == PX_OK) {
        rc = get_str(model, "model_id", true, out->model_id, sizeof out->model_id, what, err);
    }
    if (rc == PX_OK && out->model_id[0] != '\0' &&
        (strncmp(out->model_id, "sha256:", 7) != 0 || !hex64_ok(out->model_id + 7))) {
        rc = px_fail(err, PX_EFORMAT, "%s: model.model_id is not \"sha256:<64 hex digits>\"", what);
    }
    if (rc == PX_OK && out->dense && out->model_id[0] == '\0') {
        rc =
            px_fail(err, PX_EFORMAT, "%s: embeddings are present but model.model_id is null", what);
    }
    if (rc == PX_OK) {
        rc =
            get_str(model, "source", false, out->model_source, sizeof out->model_source, what, err);
    }
    if (rc == PX_OK)
        rc = jsonx_get_bool(model, "copied", true, false, &out->model_copied, what, err);
    if (rc == PX_OK)
        rc = get_fixed(model, "path", BUNDLE_MODEL_DIR, &present, what, err);
    if (rc == PX_OK && present != out->model_copied) {
        rc = px_fail(err, PX_EFORMAT, "%s: model.path must be \"%s\" exactly when model.copied",
                     what, BUNDLE_MODEL_DIR);
    }
    const cJSON *lex = get_obj(root, "lexicon", what, &rc, err);
    if (rc == PX_OK)
        rc = get_fixed(lex, "file", BUNDLE_LEXICON, &present, what, err);
    if (rc == PX_OK && !present)
        rc = px_fail(err, PX_EFORMAT, "%s: lexicon.file is null", what);
    if (rc == PX_OK) {
        rc = get_fixed(lex, "user", BUNDLE_USER_LEXICON, &out->has_user_lexicon, what, err);
    }
    if (rc == PX_OK)
        rc = get_fixed(root, "template", BUNDLE_TEMPLATE, &out->has_template, what, err);
    cJSON_Delete(root);
    return rc;
}

int bundle_info_read(const char *dir, struct bundle_info *out, struct px_err *err)
{
    char path[4200], *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = fsx_join(path, sizeof path, dir, BUNDLE_INFO, err);
    if (rc == PX_OK)
        rc = fsx_read_file(path, LIMIT_BUNDLE_MANIFEST_BYTES, &text, &len, err);
    if (rc == PX_OK)
        rc = bundle_info_parse(text, len, out, err);
    px_free(text);
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

int bundle_copy_file(const char *src, const char *dst, struct px_err *err)
{
    int in = -1, out = -1, rc = PX_OK;
    unsigned char *chunk = px_malloc(1u << 16);
    if (chunk == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory copying %s", src);
    }
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = fail_errno(err, "cannot open", src, errno);
        goto done;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == PX_OK) {
        rc = fail_errno(err, "cannot close", dst, errno);
    }
    px_free(chunk);
    return rc;
}

static int copy_tree(const char *src, const char *dst, int depth, uint64_t *n_bytes,
                     size_t *n_files, struct px_err *err)
{
    if (depth > LIMIT_BUNDLE_DEPTH) {
        return px_fail(err, PX_ELIMIT, "%s: directories nested deeper than %d", src,
                       LIMIT_BUNDLE_DEPTH);
    }
    if (mkdir(dst, 0755) != 0) {
        return fail_errno(err, "cannot create the directory", dst, errno);
    }
    DIR *d = opendir(src);
    if (d == NULL) {
        return fail_errno(err, "cannot open the directory", src, errno);
    }
    int rc = PX_OK;
    struct dirent *e;
    char s[4200], t[4200];
    while (rc == PX_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        struct stat st;
        rc = fsx_join(s, sizeof s, src, e->d_name, err);
        if (rc == PX_OK)
            rc = fsx_join(t, sizeof t, dst, e->d_name, err);
        if (rc != PX_OK) {
            break;
        }
        if (stat(s, &st) != 0) {
            rc = fail_errno(err, "cannot stat", s, errno);
        } else if (!bundle_path_ok(e->d_name)) {
            rc = px_fail(err, PX_EINVAL,
                         "%s: a bundle cannot hold this name (letters, digits, "
                         "'_', '.', '-' only)",
                         s);
        } else if (S_ISDIR(st.st_mode)) {
            rc = copy_tree(s, t, depth + 1, n_bytes, n_files, err);
        } else if (!S_ISREG(st.st_mode)) {
            rc = px_fail(err, PX_EINVAL, "%s: not a regular file", s);
        } else if (++*n_files > LIMIT_BUNDLE_FILES / 2) {
            rc = px_fail(err, PX_ELIMIT, "%s: more than %d files", src, LIMIT_BUNDLE_FILES / 2);
        } else {
            rc = bundle_copy_file(s, t, err);
            *n_bytes += (uint64_t)st.st_size;
        }
    }
    closedir(d);
    if (rc == PX_OK)
        rc = bundle_fsync_dir(dst, err);
    return rc;
}

int bundle_copy_tree(const char *src, const char *dst, uint64_t *n_bytes, struct px_err *err)
{
    uint64_t n = 0;
    size_t files = 0;
    int rc = copy_tree(src, dst, 1, &n, &files, err);
    if (n_bytes != NULL) {
        *n_bytes = n;
    }
    return rc;
}

static int remove_at(int dirfd, const char *name, int depth, struct px_err *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return errno == ENOENT ? PX_OK : fail_errno(err, "cannot stat", name, errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlinkat(dirfd, name, 0) == 0 || errno == ENOENT
                   ? PX_OK
                   : fail_errno(err, "cannot remove", name, errno);
    }
    if (depth > 64) {
        return px_fail(err, PX_ELIMIT, "%s: directories nested deeper than 64", name);
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail_errno(err, "cannot open the directory", name, e);
    }
    int rc = PX_OK;
    struct dirent *e;
    while (rc == PX_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            rc = remove_at(fd, e->d_name, depth + 1, err);
        }
    }
    closedir(d);
    if (rc == PX_OK && unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        rc = fail_errno(err, "cannot remove the directory", name, errno);
    }
    return rc;
}

int bundle_remove_tree(const char *path, struct px_err *err)
{
    return remove_at(AT_FDCWD, path, 0, err);
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
