// fsx.c — see fsx.h. POSIX only (open/read/mmap/rename).
#include "fsx.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limits.h"
#include "mem.h"

static void fsync_parent(const char *path);

static int fail_errno(struct px_err *err, const char *what, const char *path, int e)
{
    return px_fail(err, e == ENOENT ? PX_ENOENT : PX_EIO, "%s '%s': %s", what, path, strerror(e));
}

int fsx_read_file(const char *path, size_t max, char **out, size_t *len, struct px_err *err)
{
    int rc = PX_EIO;
    int fd = -1;
    char *data = NULL;
    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = fail_errno(err, "cannot open", path, errno);
        goto done;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fail_errno(err, "cannot stat", path, errno);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = px_fail(err, PX_EIO, "'%s' is not a regular file", path);
        goto done;
    }
    if ((unsigned long long)st.st_size > max) {
        rc = px_fail(err, PX_ELIMIT, "'%s' is %lld bytes, over the limit of %zu", path,
                     (long long)st.st_size, max);
        goto done;
    }
    size_t size = (size_t)st.st_size;
    data = px_malloc(size + 1);
    if (data == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory reading '%s' (%zu bytes)", path, size);
        goto done;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = fail_errno(err, "cannot read", path, errno);
            goto done;
        }
        if (r == 0) {
            break; // file shrank while reading: return what is there
        }
        got += (size_t)r;
    }
    data[got] = '\0';
    *out = data;
    *len = got;
    data = NULL;
    rc = PX_OK;
done:
    if (fd >= 0) {
        close(fd);
    }
    px_free(data);
    return rc;
}

int fsx_map_file(const char *path, struct fsx_map *m, struct px_err *err)
{
    int rc = PX_EIO;
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail_errno(err, "cannot open", path, errno);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fail_errno(err, "cannot stat", path, errno);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = px_fail(err, PX_EIO, "'%s' is not a regular file", path);
        goto done;
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = fail_errno(err, "cannot mmap", path, errno);
            goto done;
        }
        m->data = p;
        m->size = (size_t)st.st_size;
    }
    rc = PX_OK;
done:
    close(fd);
    return rc;
}

void fsx_unmap(struct fsx_map *m)
{
    if (m->data != NULL) {
        munmap((void *)m->data, m->size);
    }
    m->data = NULL;
    m->size = 0;
}

int fsx_write_atomic(const char *path, const void *data, size_t len, struct px_err *err)
{
    int rc = PX_EIO;
    char tmp[LIMIT_PATH + 32]; // path + ".tmp.<pid>"
    int fd = -1;
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        return px_fail(err, PX_ELIMIT, "path too long: '%s'", path);
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return fail_errno(err, "cannot create", tmp, errno);
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            rc = fail_errno(err, "cannot write", tmp, errno);
            goto done;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = fail_errno(err, "cannot fsync", tmp, errno);
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = fail_errno(err, "cannot close", tmp, errno);
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = fail_errno(err, "cannot rename into", path, errno);
        goto done;
    }
    fsync_parent(path); // make the rename itself durable
    return PX_OK;
done:
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return rc;
}

static void fsync_parent(const char *path)
{
    char dir[LIMIT_PATH];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int fsx_atomic_open(const char *path, struct fsx_atomic *a, struct px_err *err)
{
    memset(a, 0, sizeof *a);
    int n = snprintf(a->path, sizeof a->path, "%s", path);
    if (n < 0 || (size_t)n >= sizeof a->path) {
        return px_fail(err, PX_ELIMIT, "path too long: '%s'", path);
    }
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        a->tmp[0] = '\0';
        return fail_errno(err, "cannot create", path, e);
    }
    a->f = fdopen(fd, "wb");
    if (a->f == NULL) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        a->tmp[0] = '\0';
        return fail_errno(err, "cannot open", path, e);
    }
    return PX_OK;
}

int fsx_atomic_commit(struct fsx_atomic *a, struct px_err *err)
{
    int rc = PX_OK;
    if (a->f == NULL) {
        return px_fail(err, PX_EINTERNAL, "atomic write of '%s' is not open", a->path);
    }
    if (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0) {
        rc = fail_errno(err, "cannot write", a->path, errno);
    }
    if (fclose(a->f) != 0 && rc == PX_OK) {
        rc = fail_errno(err, "cannot close", a->path, errno);
    }
    a->f = NULL;
    if (rc == PX_OK && rename(a->tmp, a->path) != 0) {
        rc = fail_errno(err, "cannot rename into", a->path, errno);
    }
    if (rc != PX_OK) {
        unlink(a->tmp);
    } else {
        fsync_parent(a->path);
    }
    a->tmp[0] = '\0';
    return rc;
}

void fsx_atomic_abort(struct fsx_atomic *a)
{
    if (a->f != NULL) {
        fclose(a->f);
        a->f = NULL;
    }
    if (a->tmp[0] != '\0') {
        unlink(a->tmp);
        a->tmp[0] = '\0';
    }
}

bool fsx_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool fsx_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fsx_join(char *out, size_t n, const char *dir, const char *name, struct px_err *err)
{
    size_t dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    int w = snprintf(out, n, "%s%s%s", dir, slash || dl == 0 ? "" : "/", name);
    if (w < 0 || (size_t)w >= n) {
        return px_fail(err, PX_ELIMIT, "path too long: '%s/%s'", dir, name);
    }
    return PX_OK;
}
