// fsx.h — file helpers: bounded whole-file reads, read-only mmap, path checks, and atomic
// writes (write a temporary file, fsync, rename into place, fsync the directory).
#ifndef PX_FSX_H
#define PX_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "limits.h"

struct fsx_map {
    const unsigned char *data; // borrowed view of the file, valid until fsx_unmap
    size_t size;               // bytes
};

// Reads a whole file of at most max bytes. *out returns owned (px_free), NUL-terminated;
// *len excludes the NUL. Missing file: PX_ENOENT; larger than max: PX_ELIMIT.
int fsx_read_file(const char *path, size_t max, char **out, size_t *len, struct px_err *err);
// Maps a file read-only. An empty file maps to data == NULL, size == 0.
int fsx_map_file(const char *path, struct fsx_map *m, struct px_err *err);
// Unmaps; a zeroed struct is a no-op.
void fsx_unmap(struct fsx_map *m);
// Writes len bytes to path atomically: readers see the old file or the new one, never a mix.
int fsx_write_atomic(const char *path, const void *data, size_t len, struct px_err *err);

// Streaming atomic write: fsx_atomic_open creates "<path>.tmp.<pid>" and returns its FILE in
// a->f; fsx_atomic_commit flushes, fsyncs and renames it into place; fsx_atomic_abort (safe after
// commit, and on a zeroed struct) removes the temporary file.
struct fsx_atomic {
    FILE *f;                   // owned until commit/abort
    char path[LIMIT_PATH];     // final path
    char tmp[LIMIT_PATH + 32]; // temporary path: path + ".tmp.<pid>"
};
int fsx_atomic_open(const char *path, struct fsx_atomic *a, struct px_err *err);
int fsx_atomic_commit(struct fsx_atomic *a, struct px_err *err);
void fsx_atomic_abort(struct fsx_atomic *a);

bool fsx_is_file(const char *path);
bool fsx_is_dir(const char *path);
// Joins dir and name with one '/' into out (size n); PX_ELIMIT when it does not fit.
int fsx_join(char *out, size_t n, const char *dir, const char *name, struct px_err *err);

#endif
