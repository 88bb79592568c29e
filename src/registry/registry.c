// registry.c — numbered bundle versions and aliases in a directory (layout in registry.h).
//
// Design:
//   - Readers (list, resolve, serve) never lock: a version directory is complete when it
//     appears (one rename of a fsynced staging directory) and is never modified afterwards, and
//     registry.json is replaced whole by rename.
//   - Writers (publish, alias, delete) hold flock(LOCK_EX) on <name>/.lock for the few syscalls
//     that pick a number or change registry.json, so two concurrent `bundle create` runs get
//     different versions; RENAME_NOREPLACE makes an unexpected existing directory an error
//     rather than something replaced.
//   - Version numbers are never reused (last_version), as in MLflow: "NAME/3" means one bundle
//     for the life of the registry.
#include "registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "buf.h"
#include "bundle.h"
#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "logx.h"
#include "mem.h"
#include "secrand.h"
#include "sha256.h"

// ---- references ----

int registry_check_alias(const char *alias, struct px_err *err)
{
    size_t n = strlen(alias);
    if (n == 0 || n > LIMIT_REGISTRY_ALIAS_BYTES || !(alias[0] >= 'a' && alias[0] <= 'z')) {
        return px_fail(err, PX_EINVAL,
                       "alias '%.40s': 1..%d bytes of a-z, 0-9, '_', '-', starting with a letter",
                       alias, LIMIT_REGISTRY_ALIAS_BYTES);
    }
    for (size_t i = 0; i < n; i++) {
        char c = alias[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return px_fail(err, PX_EINVAL, "alias '%.40s': byte %zu is not a-z, 0-9, '_' or '-'",
                           alias, i);
        }
    }
    return PX_OK;
}

// A version number: decimal, no sign, no leading zero, 1..LIMIT_REGISTRY_VERSIONS; 0 otherwise.
static int parse_version(const char *s)
{
    long v = 0;
    if (s[0] < '1' || s[0] > '9') {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > LIMIT_REGISTRY_VERSIONS) {
            return 0;
        }
    }
    return (int)v;
}

int registry_parse_ref(const char *text, struct registry_ref *out, struct px_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = strcspn(text, "/@");
    if (n > LIMIT_BUNDLE_NAME_BYTES) {
        return px_fail(err, PX_EINVAL, "bundle name is %zu bytes, over the limit of %d", n,
                       LIMIT_BUNDLE_NAME_BYTES);
    }
    memcpy(out->name, text, n);
    out->name[n] = '\0';
    int rc = bundle_check_name(out->name, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (text[n] == '/' || (text[n] == '@' && text[n + 1] >= '0' && text[n + 1] <= '9')) {
        out->version = parse_version(text + n + 1);
        if (out->version == 0) {
            return px_fail(err, PX_EINVAL, "'%.120s': the version must be a number 1..%d", text,
                           LIMIT_REGISTRY_VERSIONS);
        }
    } else if (text[n] == '@') {
        if (strlen(text + n + 1) > LIMIT_REGISTRY_ALIAS_BYTES) {
            return px_fail(err, PX_EINVAL, "'%.120s': alias longer than %d bytes", text,
                           LIMIT_REGISTRY_ALIAS_BYTES);
        }
        rc = registry_check_alias(text + n + 1, err);
        if (rc == PX_OK) {
            snprintf(out->alias, sizeof out->alias, "%s", text + n + 1);
        }
    }
    return rc;
}

// ---- registry.json ----

int registry_state_alias(const struct registry_state *st, const char *alias)
{
    for (size_t i = 0; i < st->n_aliases; i++) {
        if (strcmp(st->aliases[i].name, alias) == 0) {
            return st->aliases[i].version;
        }
    }
    return 0;
}

static int cmp_alias(const void *a, const void *b)
{
    return strcmp(((const struct registry_alias *)a)->name,
                  ((const struct registry_alias *)b)->name);
}

int registry_state_parse(const char *json, size_t len, const char *name, struct registry_state *out,
                         struct px_err *err)
{
    const char *what = REGISTRY_STATE, *s = NULL;
    cJSON *root = NULL;
    int64_t v = 0;
    memset(out, 0, sizeof *out);
    int rc = jsonx_parse(json, len, what, &root, err);
    if (rc == PX_OK && !cJSON_IsObject(root)) {
        rc = px_fail(err, PX_EFORMAT, "%s: not a JSON object", what);
    }
    if (rc == PX_OK)
        rc = jsonx_get_string(root, "magic", true, NULL, &s, what, err);
    if (rc == PX_OK && strcmp(s, REGISTRY_MAGIC) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: magic is not \"%s\"", what, REGISTRY_MAGIC);
    }
    if (rc == PX_OK)
        rc = jsonx_get_int(root, "format_version", true, 0, 1, 1000000, &v, what, err);
    if (rc == PX_OK && v > REGISTRY_FORMAT_VERSION) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: format version %lld is newer than this prospect's",
                     what, (long long)v);
    }
    if (rc == PX_OK)
        rc = jsonx_get_string(root, "name", true, NULL, &s, what, err);
    if (rc == PX_OK && name != NULL && strcmp(s, name) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: written for '%.100s', found under '%s'", what, s, name);
    }
    if (rc == PX_OK) {
        rc =
            jsonx_get_int(root, "last_version", true, 0, 0, LIMIT_REGISTRY_VERSIONS, &v, what, err);
    }
    out->last_version = (int)v;
    if (rc == PX_OK)
        rc = jsonx_get_string(root, "kind", false, "", &s, what, err);
    if (rc == PX_OK && s[0] != '\0' && !bundle_kind_ok(s)) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: kind \"%.40s\" is unknown to this prospect", what,
                     s);
    }
    if (rc == PX_OK) {
        snprintf(out->kind, sizeof out->kind, "%s", s);
    }
    const cJSON *aliases = rc == PX_OK ? cJSON_GetObjectItemCaseSensitive(root, "aliases") : NULL;
    if (rc == PX_OK && !cJSON_IsObject(aliases)) {
        rc = px_fail(err, PX_EFORMAT, "%s: \"aliases\" must be an object", what);
    }
    const cJSON *a;
    if (rc != PX_OK) {
        aliases = NULL;
    }
    cJSON_ArrayForEach(a, aliases)
    {
        if (out->n_aliases >= LIMIT_REGISTRY_ALIASES) {
            rc = px_fail(err, PX_ELIMIT, "%s: more than %d aliases", what, LIMIT_REGISTRY_ALIASES);
            break;
        }
        rc = registry_check_alias(a->string, err);
        if (rc != PX_OK) {
            px_err_prefix(err, "%s", what);
            break;
        }
        if (!cJSON_IsNumber(a) || a->valuedouble < 1 || a->valuedouble > out->last_version ||
            a->valuedouble != (double)(int)a->valuedouble) {
            rc = px_fail(err, PX_EFORMAT, "%s: alias '%s' must be a version 1..%d", what, a->string,
                         out->last_version);
            break;
        }
        if (registry_state_alias(out, a->string) != 0) {
            rc = px_fail(err, PX_EFORMAT, "%s: alias '%s' given twice", what, a->string);
            break;
        }
        struct registry_alias *dst = &out->aliases[out->n_aliases++];
        snprintf(dst->name, sizeof dst->name, "%s", a->string);
        dst->version = (int)a->valuedouble;
    }
    qsort(out->aliases, out->n_aliases, sizeof *out->aliases, cmp_alias);
    cJSON_Delete(root);
    if (rc != PX_OK) {
        memset(out, 0, sizeof *out);
    }
    return rc;
}

static int name_dir(const char *root, const char *name, char *out, size_t n, struct px_err *err)
{
    int rc = bundle_check_name(name, err);
    return rc == PX_OK ? fsx_join(out, n, root, name, err) : rc;
}

int registry_read_state(const char *root, const char *name, struct registry_state *out,
                        struct px_err *err)
{
    char dir[LIMIT_PATH], path[LIMIT_PATH + 32], *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = name_dir(root, name, dir, sizeof dir, err);
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, dir, REGISTRY_STATE, err);
    if (rc == PX_OK) {
        rc = fsx_read_file(path, LIMIT_BUNDLE_MANIFEST_BYTES, &text, &len, err);
        if (rc == PX_ENOENT) {
            px_err_clear(err);
            return PX_OK;
        }
    }
    if (rc == PX_OK)
        rc = registry_state_parse(text, len, name, out, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "%s", name);
    }
    px_free(text);
    return rc;
}

static int write_state(const char *dir, const char *name, const struct registry_state *st,
                       struct px_err *err)
{
    struct buf b;
    char path[LIMIT_PATH + 32];
    buf_init(&b, LIMIT_BUNDLE_MANIFEST_BYTES);
    int rc = buf_printf(&b, err, "{\n  \"magic\": \"%s\",\n  \"format_version\": %d,\n  \"name\": ",
                        REGISTRY_MAGIC, REGISTRY_FORMAT_VERSION);
    if (rc == PX_OK)
        rc = jsonx_put_string(&b, name, strlen(name), err);
    if (rc == PX_OK && st->kind[0] != '\0')
        rc = buf_printf(&b, err, ",\n  \"kind\": \"%s\"", st->kind);
    if (rc == PX_OK) {
        rc = buf_printf(&b, err, ",\n  \"last_version\": %d,\n  \"aliases\": {", st->last_version);
    }
    for (size_t i = 0; rc == PX_OK && i < st->n_aliases; i++) {
        rc = buf_printf(&b, err, "%s\"%s\": %d", i ? ", " : "", st->aliases[i].name,
                        st->aliases[i].version);
    }
    if (rc == PX_OK)
        rc = buf_printf(&b, err, "}\n}\n");
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, dir, REGISTRY_STATE, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(path, b.data, b.len, err);
    buf_free(&b);
    return rc;
}

// ---- listing ----

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void registry_names_free(char **names, size_t n)
{
    for (size_t i = 0; names != NULL && i < n; i++) {
        px_free(names[i]);
    }
    px_free(names);
}

int registry_names(const char *root, char ***out, size_t *n, struct px_err *err)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(root);
    if (d == NULL) {
        return errno == ENOENT ? PX_OK
                               : px_fail(err, PX_EIO, "cannot open the registry '%s': %s", root,
                                         strerror(errno));
    }
    int rc = PX_OK;
    char **names = NULL, path[LIMIT_PATH];
    size_t cap = 0, k = 0;
    struct dirent *e;
    while (rc == PX_OK && (e = readdir(d)) != NULL) {
        if (bundle_check_name(e->d_name, NULL) != PX_OK ||
            fsx_join(path, sizeof path, root, e->d_name, NULL) != PX_OK || !fsx_is_dir(path)) {
            continue;
        }
        if (k >= LIMIT_REGISTRY_NAMES) {
            rc = px_fail(err, PX_ELIMIT, "'%s' holds more than %d names", root,
                         LIMIT_REGISTRY_NAMES);
            break;
        }
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = px_realloc(names, cap * sizeof *p);
            if (p == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory listing the registry");
                break;
            }
            names = p;
        }
        if ((names[k] = px_strdup(e->d_name)) == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory listing the registry");
        } else {
            k++;
        }
    }
    closedir(d);
    if (rc != PX_OK) {
        registry_names_free(names, k);
        return rc;
    }
    if (k > 0) {
        qsort(names, k, sizeof *names, cmp_cstr);
    }
    *out = names;
    *n = k;
    return PX_OK;
}

int registry_versions(const char *root, const char *name, int **out, size_t *n, struct px_err *err)
{
    char dir[LIMIT_PATH], path[LIMIT_PATH + 16];
    *out = NULL;
    *n = 0;
    int rc = name_dir(root, name, dir, sizeof dir, err);
    if (rc != PX_OK) {
        return rc;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT ? px_fail(err, PX_ENOENT,
                                         "no model named '%s' in the registry '%s'", name, root)
                               : px_fail(err, PX_EIO, "cannot open '%s': %s", dir, strerror(errno));
    }
    int *v = NULL;
    size_t cap = 0, k = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int ver = parse_version(e->d_name);
        if (ver == 0 || fsx_join(path, sizeof path, dir, e->d_name, NULL) != PX_OK ||
            !fsx_is_dir(path)) {
            continue;
        }
        if (k == cap) {
            cap = cap ? cap * 2 : 16;
            int *p = px_realloc(v, cap * sizeof *p);
            if (p == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory listing '%s'", name);
                break;
            }
            v = p;
        }
        v[k++] = ver;
    }
    closedir(d);
    if (rc != PX_OK) {
        px_free(v);
        return rc;
    }
    if (k > 0) {
        qsort(v, k, sizeof *v, cmp_int);
    }
    *out = v;
    *n = k;
    return PX_OK;
}

int registry_version_dir(const char *root, const char *name, int version, char *out, size_t n,
                         struct px_err *err)
{
    char dir[LIMIT_PATH], ver[16];
    int rc = name_dir(root, name, dir, sizeof dir, err);
    snprintf(ver, sizeof ver, "%d", version);
    return rc == PX_OK ? fsx_join(out, n, dir, ver, err) : rc;
}

static bool version_exists(const char *root, const char *name, int version)
{
    char dir[LIMIT_PATH];
    return registry_version_dir(root, name, version, dir, sizeof dir, NULL) == PX_OK &&
           fsx_is_dir(dir);
}

int registry_resolve(const char *root, const struct registry_ref *ref, int *version, char *dir,
                     size_t n, struct px_err *err)
{
    struct registry_state st;
    int *vs = NULL;
    size_t nv = 0;
    int v = ref->version;
    *version = 0;
    int rc = registry_versions(root, ref->name, &vs, &nv, err);
    if (rc == PX_OK && v == 0) {
        rc = registry_read_state(root, ref->name, &st, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    if (v == 0 && ref->alias[0] != '\0') {
        v = registry_state_alias(&st, ref->alias);
        if (v == 0) {
            rc = px_fail(err, PX_ENOENT, "%s has no alias '%s'", ref->name, ref->alias);
            goto done;
        }
    } else if (v == 0) {
        v = registry_state_alias(&st, "production");
        if (v == 0 && nv > 0) {
            v = vs[nv - 1];
        }
        if (v == 0) {
            rc = px_fail(err, PX_ENOENT, "%s has no versions", ref->name);
            goto done;
        }
    }
    if (bsearch(&v, vs, nv, sizeof *vs, cmp_int) == NULL) {
        rc = px_fail(err, PX_ENOENT, "%s has no version %d%s%s%s", ref->name, v,
                     ref->version == 0 ? " (the alias '" : "",
                     ref->version == 0 ? (ref->alias[0] ? ref->alias : "production") : "",
                     ref->version == 0 ? "' points there)" : "");
        goto done;
    }
    *version = v;
    rc = dir != NULL ? registry_version_dir(root, ref->name, v, dir, n, err) : PX_OK;
done:
    px_free(vs);
    return rc;
}

// ---- changes (under the lock) ----

static int mkdir_p1(const char *path, struct px_err *err)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        return px_fail(err, PX_EIO, "cannot create the directory '%s': %s", path, strerror(errno));
    }
    if (!fsx_is_dir(path)) {
        return px_fail(err, PX_EIO, "'%s' is not a directory", path);
    }
    return PX_OK;
}

// Takes the name's lock; *fd returns the descriptor to pass to unlock.
static int lock_name(const char *dir, int *fd, struct px_err *err)
{
    char path[LIMIT_PATH + 16];
    *fd = -1;
    int rc = fsx_join(path, sizeof path, dir, ".lock", err);
    if (rc != PX_OK) {
        return rc;
    }
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        return px_fail(err, PX_EIO, "cannot open the lock '%s': %s", path, strerror(errno));
    }
    while (flock(f, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(f);
            return px_fail(err, PX_EIO, "cannot lock '%s': %s", path, strerror(e));
        }
    }
    *fd = f;
    return PX_OK;
}

static void unlock_name(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

// ---- leftovers of changes that died ----
//
// A create that dies leaves <name>/.staging-<pid>-<random>/, a delete that dies after its rename
// leaves <name>/.deleting-<version>-<pid>/; readers ignore both, and every change to the name
// removes the ones whose process is gone, under the name's lock. "Gone" must be certain, since a
// live create's staging directory is being filled: the pid does not exist on this machine
// (kill(pid, 0) says ESRCH) and either the folder's name carries this boot's tag (the first
// 8 hex digits of /proc/sys/kernel/random/boot_id: the process ran on this machine since it
// started, so its pid is certain) or nothing in the folder has changed for
// REGISTRY_LEFTOVER_AGE_S (so a process on another machine sharing the registry, whose pid
// means nothing here, is left alone while it works). Each removal is logged (a warning). A leftover
// that cannot be removed stays for the next change.

// This boot's tag: 8 lowercase hex digits, "" when the kernel does not say.
static void boot_tag(char out[9])
{
    char id[64] = "";
    out[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f == NULL) {
        return;
    }
    size_t n = fread(id, 1, sizeof id - 1, f);
    fclose(f);
    id[n] = '\0';
    size_t k = 0;
    for (const char *c = id; *c != '\0' && k < 8; c++) {
        if (isxdigit((unsigned char)*c)) {
            out[k++] = (char)tolower((unsigned char)*c);
        }
    }
    out[k == 8 ? 8 : 0] = '\0';
}

// Whether leaf ends with "-<tag>" (tag not empty).
static bool has_tag(const char *leaf, const char *tag)
{
    size_t n = strlen(leaf), t = strlen(tag);
    return t > 0 && n > t + 1 && leaf[n - t - 1] == '-' && strcmp(leaf + n - t, tag) == 0;
}

// The pid a leftover's name records, or 0 when the name is not a leftover's.
static long leftover_pid(const char *leaf)
{
    const char *p = NULL;
    if (strncmp(leaf, ".staging-", 9) == 0) {
        p = leaf + 9;
    } else if (strncmp(leaf, ".deleting-", 10) == 0) {
        p = strchr(leaf + 10, '-'); // .deleting-<version>-<pid>
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL || *p < '1' || *p > '9') {
        return 0;
    }
    char *end = NULL;
    long pid = strtol(p, &end, 10);
    return (*end == '\0' || *end == '-') && pid > 0 ? pid : 0;
}

// The newest change time of a folder and of what it holds directly (a file being written, say
// the snapshot a create is vacuuming into, changes the file, not the folder).
static time_t newest_change(const char *dir, time_t t)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[LIMIT_PATH + 320];
        struct stat st;
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && // ".." is the name's
            fsx_join(path, sizeof path, dir, e->d_name, NULL) == PX_OK && lstat(path, &st) == 0 &&
            st.st_mtime > t) {
            t = st.st_mtime;
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return t;
}

size_t registry_sweep_leftovers(const char *name_dir_path, long max_age_s)
{
    DIR *d = opendir(name_dir_path);
    size_t removed = 0;
    if (d == NULL) {
        return 0;
    }
    time_t now = time(NULL);
    char tag[9];
    boot_tag(tag);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = leftover_pid(e->d_name);
        char path[LIMIT_PATH + 64];
        struct stat st;
        if (pid == 0 || pid == (long)getpid() || (kill((pid_t)pid, 0) == 0 || errno != ESRCH) ||
            fsx_join(path, sizeof path, name_dir_path, e->d_name, NULL) != PX_OK ||
            lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
            (!has_tag(e->d_name, tag) && now - newest_change(path, st.st_mtime) < max_age_s)) {
            continue;
        }
        if (bundle_remove_tree(path, NULL) == PX_OK) {
            logx(LOGX_WARN, "registry: removed %s, left by process %ld that died mid-change", path,
                 pid);
            removed++;
        }
    }
    closedir(d);
    return removed;
}

int registry_stage(const char *root, const char *name, char *out, size_t n, struct px_err *err)
{
    char dir[LIMIT_PATH], leaf[64];
    unsigned char rnd[6];
    int rc = mkdir_p1(root, err);
    if (rc == PX_OK)
        rc = name_dir(root, name, dir, sizeof dir, err);
    if (rc == PX_OK)
        rc = mkdir_p1(dir, err);
    if (rc == PX_OK)
        rc = secrand_bytes(rnd, sizeof rnd, err);
    if (rc != PX_OK) {
        return rc;
    }
    char tag[9];
    boot_tag(tag);
    snprintf(leaf, sizeof leaf, ".staging-%ld-%02x%02x%02x%02x%02x%02x%s%s", (long)getpid(),
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], tag[0] ? "-" : "", tag);
    rc = fsx_join(out, n, dir, leaf, err);
    if (rc == PX_OK && mkdir(out, 0755) != 0) {
        rc = px_fail(err, PX_EIO, "cannot create '%s': %s", out, strerror(errno));
    }
    return rc;
}

// The kind name holds: registry.json's, else (a registry.json from before kinds) the latest
// version's manifest's; "" when name has no version yet.
static int held_kind(const char *root, const char *name, const struct registry_state *st,
                     const int *vs, size_t nv, char *out, size_t n, struct px_err *err)
{
    snprintf(out, n, "%s", st->kind);
    if (out[0] != '\0' || nv == 0) {
        return PX_OK;
    }
    char vdir[LIMIT_PATH + 16];
    struct bundle_manifest m;
    int rc = registry_version_dir(root, name, vs[nv - 1], vdir, sizeof vdir, err);
    if (rc == PX_OK)
        rc = bundle_manifest_read(vdir, &m, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "%s/%d", name, vs[nv - 1]);
        return rc;
    }
    snprintf(out, n, "%s", m.kind);
    bundle_manifest_free(&m);
    return PX_OK;
}

int registry_publish(const char *root, const char *name, const char *staging, int *version,
                     struct px_err *err)
{
    char dir[LIMIT_PATH], target[LIMIT_PATH + 16], held[BUNDLE_KIND_BYTES];
    struct registry_state st;
    struct bundle_manifest sm = {0};
    int *vs = NULL, fd = -1;
    size_t nv = 0;
    *version = 0;
    int rc = name_dir(root, name, dir, sizeof dir, err);
    if (rc == PX_OK) {
        rc = bundle_manifest_read(staging, &sm, err);
        if (rc != PX_OK) {
            px_err_prefix(err, "%s: not sealed", name);
        }
    }
    if (rc == PX_OK && strcmp(sm.name, name) != 0) {
        rc =
            px_fail(err, PX_EINVAL, "%s: the staging directory was sealed for '%s'", name, sm.name);
    }
    if (rc == PX_OK)
        rc = bundle_fsync_dir(staging, err);
    if (rc == PX_OK)
        rc = lock_name(dir, &fd, err);
    if (rc == PX_OK)
        registry_sweep_leftovers(dir, REGISTRY_LEFTOVER_AGE_S);
    if (rc == PX_OK)
        rc = registry_read_state(root, name, &st, err);
    if (rc == PX_OK)
        rc = registry_versions(root, name, &vs, &nv, err);
    if (rc == PX_OK)
        rc = held_kind(root, name, &st, vs, nv, held, sizeof held, err);
    if (rc == PX_OK && held[0] != '\0' && strcmp(held, sm.kind) != 0) {
        rc = px_fail(err, PX_EINVAL,
                     "the name '%s' holds %s; %s cannot be registered under it (a name holds one "
                     "kind: pick another name)",
                     name, bundle_kind_noun(held), bundle_kind_noun(sm.kind));
    }
    if (rc != PX_OK) {
        goto done;
    }
    snprintf(st.kind, sizeof st.kind, "%s", sm.kind);
    int v = st.last_version;
    if (nv > 0 && vs[nv - 1] > v) {
        v = vs[nv - 1];
    }
    if (v >= LIMIT_REGISTRY_VERSIONS) {
        rc = px_fail(err, PX_ELIMIT, "%s: over %d versions", name, LIMIT_REGISTRY_VERSIONS);
        goto done;
    }
    v++;
    rc = registry_version_dir(root, name, v, target, sizeof target, err);
    if (rc != PX_OK) {
        goto done;
    }
    // The number is reserved before the rename: registry.json's last_version = v is written
    // (atomically) first, so a publish that fails leaves at most a skipped number — never a
    // version whose caller was told it failed — and numbers are never reused either way.
    st.last_version = v;
    rc = write_state(dir, name, &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    // RENAME_NOREPLACE: never replace a directory someone put there by hand; a filesystem that
    // lacks it falls back to rename(2), which the lock and the existence check keep safe enough.
    if (renameat2(AT_FDCWD, staging, AT_FDCWD, target, RENAME_NOREPLACE) != 0) {
        int e = errno;
        if ((e == EINVAL || e == ENOSYS) && !fsx_is_dir(target) && rename(staging, target) == 0) {
            e = 0;
        }
        if (e != 0) {
            rc = px_fail(err, PX_EIO, "cannot publish %s/%d: %s", name, v, strerror(e));
            goto done;
        }
    }
    rc = bundle_fsync_dir(dir, err); // the rename is the commit: make it durable
    if (rc != PX_OK) {
        // not published after all: back to the staging path (the lock is still held, so no
        // creator saw the number), which the caller removes; a failure returns no version
        if (rename(target, staging) != 0) {
            bundle_remove_tree(target, NULL);
        }
        goto done;
    }
    *version = v;
done:
    unlock_name(fd);
    px_free(vs);
    bundle_manifest_free(&sm);
    return rc;
}

int registry_open(const char *root, const char *ref_text, const char *kind,
                  struct registry_ref *ref, int *version, char *dir, size_t n,
                  struct bundle_manifest *m, struct px_err *err)
{
    struct registry_ref r;
    struct bundle_manifest man = {0};
    int v = 0;
    *version = 0;
    if (m != NULL) {
        memset(m, 0, sizeof *m);
    }
    int rc = registry_parse_ref(ref_text, &r, err);
    if (rc == PX_OK)
        rc = registry_resolve(root, &r, &v, dir, n, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = bundle_verify(dir, &man, err);
    if (rc == PX_OK && strcmp(man.name, r.name) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: made for the name '%s'", BUNDLE_MANIFEST, man.name);
    }
    if (rc == PX_OK && kind != NULL && strcmp(man.kind, kind) != 0) {
        rc = px_fail(err, PX_EINVAL, "%s, not %s", bundle_kind_noun(man.kind),
                     bundle_kind_noun(kind));
    }
    if (rc != PX_OK) {
        bundle_manifest_free(&man);
        px_err_prefix(err, "%s/%d", r.name, v);
        return rc;
    }
    *version = v;
    if (ref != NULL) {
        *ref = r;
    }
    if (m != NULL) {
        *m = man;
    } else {
        bundle_manifest_free(&man);
    }
    return PX_OK;
}

int registry_save_files(const char *root, const struct registry_file *files, size_t n_files,
                        const struct bundle_mlmodel *mm, int *version, struct px_err *err)
{
    char stage[LIMIT_PATH] = "", path[LIMIT_PATH + 256], uuid[33];
    struct bundle_mlmodel meta = *mm;
    *version = 0;
    int rc = bundle_check_name(mm->name, err);
    if (rc == PX_OK)
        rc = registry_stage(root, mm->name, stage, sizeof stage, err);
    if (rc != PX_OK) {
        return rc; // registry_stage leaves nothing behind
    }
    meta.size_bytes = 0;
    for (size_t i = 0; rc == PX_OK && i < n_files; i++) {
        meta.size_bytes += files[i].len;
        rc = fsx_join(path, sizeof path, stage, files[i].path, err);
        if (rc == PX_OK)
            rc = fsx_write_atomic(path, files[i].data, files[i].len, err);
    }
    if (rc == PX_OK && meta.model_uuid == NULL) {
        rc = bundle_new_uuid(uuid, sizeof uuid, err);
        meta.model_uuid = uuid;
    }
    if (rc == PX_OK)
        rc = bundle_write_mlmodel(stage, &meta, err);
    if (rc == PX_OK)
        rc = bundle_seal(stage, mm->name, mm->kind, mm->created, NULL, err);
    if (rc == PX_OK)
        rc = registry_publish(root, mm->name, stage, version, err);
    if (rc != PX_OK) {
        bundle_remove_tree(stage, NULL);
    }
    return rc;
}

int registry_hint_missing(int rc, const char *hint, struct px_err *err)
{
    static const char k_missing[] = "no model named";
    if (rc == PX_ENOENT && err != NULL && strncmp(err->msg, k_missing, sizeof k_missing - 1) == 0) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        px_fail(err, rc, "%.900s (%s)", msg, hint);
    }
    return rc;
}

int registry_read_checked(const char *dir, const char *file, size_t max, const char *want,
                          const char *whose, char **out, size_t *len, struct px_err *err)
{
    char path[LIMIT_PATH + 256], got[65];
    *out = NULL;
    *len = 0;
    int rc = fsx_join(path, sizeof path, dir, file, err);
    if (rc == PX_OK)
        rc = fsx_read_file(path, max, out, len, err);
    if (rc != PX_OK) {
        return rc;
    }
    sha256_hex(*out, *len, got);
    if (want == NULL || strcmp(want, got) != 0) {
        px_free(*out);
        *out = NULL;
        *len = 0;
        return px_fail(err, PX_EFORMAT, "%s: sha256 %.12s… differs from %s %.12s…", file, got,
                       whose, want ? want : "(none)");
    }
    return PX_OK;
}

int registry_set_alias(const char *root, const char *name, const char *alias, int version,
                       struct px_err *err)
{
    char dir[LIMIT_PATH];
    struct registry_state st;
    int fd = -1;
    int rc = registry_check_alias(alias, err);
    if (rc == PX_OK)
        rc = name_dir(root, name, dir, sizeof dir, err);
    if (rc == PX_OK && !fsx_is_dir(dir)) {
        rc = px_fail(err, PX_ENOENT, "no model named '%s' in the registry '%s'", name, root);
    }
    if (rc == PX_OK) {
        rc = lock_name(dir, &fd, err);
    }
    if (rc == PX_OK) {
        registry_sweep_leftovers(dir, REGISTRY_LEFTOVER_AGE_S); // a change like the others
        rc = registry_read_state(root, name, &st, err);
    }
    if (rc == PX_OK && !version_exists(root, name, version)) {
        rc = px_fail(err, PX_ENOENT, "%s has no version %d", name, version);
    }
    if (rc != PX_OK) {
        goto done;
    }
    bool found = false;
    for (size_t i = 0; i < st.n_aliases; i++) {
        if (strcmp(st.aliases[i].name, alias) == 0) {
            st.aliases[i].version = version;
            found = true;
        }
    }
    if (!found) {
        if (st.n_aliases >= LIMIT_REGISTRY_ALIASES) {
            rc = px_fail(err, PX_ELIMIT, "%s: more than %d aliases", name, LIMIT_REGISTRY_ALIASES);
            goto done;
        }
        snprintf(st.aliases[st.n_aliases].name, sizeof st.aliases[0].name, "%s", alias);
        st.aliases[st.n_aliases++].version = version;
        qsort(st.aliases, st.n_aliases, sizeof *st.aliases, cmp_alias);
    }
    if (st.last_version < version) {
        st.last_version = version;
    }
    rc = write_state(dir, name, &st, err);
done:
    unlock_name(fd);
    return rc;
}

int registry_delete(const char *root, const char *name, int version, bool force, size_t *n_cleared,
                    struct px_err *err)
{
    char dir[LIMIT_PATH], vdir[LIMIT_PATH + 16], gone[LIMIT_PATH + 64];
    struct registry_state st;
    int fd = -1;
    size_t cleared = 0;
    if (n_cleared != NULL) {
        *n_cleared = 0;
    }
    int rc = name_dir(root, name, dir, sizeof dir, err);
    if (rc == PX_OK && !fsx_is_dir(dir)) {
        rc = px_fail(err, PX_ENOENT, "no model named '%s' in the registry '%s'", name, root);
    }
    if (rc == PX_OK)
        rc = lock_name(dir, &fd, err);
    if (rc == PX_OK)
        registry_sweep_leftovers(dir, REGISTRY_LEFTOVER_AGE_S);
    if (rc == PX_OK)
        rc = registry_read_state(root, name, &st, err);
    if (rc == PX_OK)
        rc = registry_version_dir(root, name, version, vdir, sizeof vdir, err);
    if (rc == PX_OK && !fsx_is_dir(vdir)) {
        rc = px_fail(err, PX_ENOENT, "%s has no version %d", name, version);
    }
    if (rc != PX_OK) {
        goto done;
    }
    char held[LIMIT_REGISTRY_ALIASES * (LIMIT_REGISTRY_ALIAS_BYTES + 2) + 1] = "";
    size_t k = 0;
    for (size_t i = 0; i < st.n_aliases; i++) {
        if (st.aliases[i].version == version) {
            snprintf(held + strlen(held), sizeof held - strlen(held), "%s%s", cleared ? ", " : "",
                     st.aliases[i].name);
            cleared++;
        } else {
            st.aliases[k++] = st.aliases[i];
        }
    }
    if (cleared > 0 && !force) {
        rc = px_fail(err, PX_EINVAL,
                     "%s/%d is the version of %s; promote another version first, or use --force",
                     name, version, held);
        goto done;
    }
    st.n_aliases = k;
    if (st.last_version < version) {
        st.last_version = version;
    }
    // the aliases go first: a crash after this leaves an unaliased version, never an alias to
    // a missing one
    rc = write_state(dir, name, &st, err);
    char tag[9];
    boot_tag(tag);
    snprintf(gone, sizeof gone, "%s/.deleting-%d-%ld%s%s", dir, version, (long)getpid(),
             tag[0] ? "-" : "", tag);
    if (rc == PX_OK && rename(vdir, gone) != 0) {
        rc = px_fail(err, PX_EIO, "cannot remove %s/%d: %s", name, version, strerror(errno));
    }
    if (rc == PX_OK)
        rc = bundle_fsync_dir(dir, err);
    unlock_name(fd);
    fd = -1;
    if (rc == PX_OK)
        rc = bundle_remove_tree(gone, err);
    if (rc == PX_OK && n_cleared != NULL) {
        *n_cleared = cleared;
    }
done:
    unlock_name(fd);
    return rc;
}
