// mapfile.h — a container file of named sections, written atomically and memory-mapped on open
// (the persistent indexes of a customer book, ARCHITECTURE.md "Index files").
//
// Layout (native byte order, little-endian on every platform we build for):
//   [0, MAPFILE_HEADER_BYTES)   header: magic (8 bytes, the format), version, section count,
//                               file size, MAPFILE_N_GEN generations (what the file was built
//                               from, compared by the caller), the section table (id, offset,
//                               length) and an FNV-1a 64 checksum of everything before it
//   sections                    each starts on a 64-byte boundary, in the order written
// Opening checks magic, version, checksum, the file size and that every section lies inside
// the file; it reads the header only (the sections are paged in as they are used). Section
// contents are the caller's to check: an index that trusts a number in a section (an offset, a
// row id) checks it against its own sizes before using it, so a damaged section answers wrong
// or not at all but never reads outside the map.
//
// Writing: mapfile_create opens "<path>.tmp.<pid>", sections are appended, mapfile_commit
// writes the header, fsyncs, renames into place and fsyncs the directory (fsx_atomic): a reader
// sees the old file or the new one, and a process killed while writing leaves the old one.
#ifndef PX_MAPFILE_H
#define PX_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fsx.h"

#define MAPFILE_HEADER_BYTES 4096
#define MAPFILE_MAX_SECTIONS 64
#define MAPFILE_N_GEN 4
#define MAPFILE_ALIGN 64

struct mapfile_section {
    uint32_t id; // the caller's name for it (four characters, MAPFILE_ID("ROWS"))
    uint32_t reserved;
    uint64_t off; // from the start of the file
    uint64_t len; // bytes
};

struct mapfile_header {
    char magic[8];
    uint32_t version;
    uint32_t n_sections;
    uint64_t file_bytes;
    uint64_t gen[MAPFILE_N_GEN];
    struct mapfile_section sec[MAPFILE_MAX_SECTIONS];
    uint64_t checksum; // FNV-1a 64 of the bytes before it
};

// A four-character section id.
#define MAPFILE_ID(s)                                                                             \
    ((uint32_t)(unsigned char)(s)[0] | (uint32_t)(unsigned char)(s)[1] << 8 |                    \
     (uint32_t)(unsigned char)(s)[2] << 16 | (uint32_t)(unsigned char)(s)[3] << 24)

// ---- writing ----

struct mapfile_writer {
    struct fsx_atomic a;
    struct mapfile_header h;
    uint64_t pos;  // bytes written so far
    bool in_section;
    bool failed;   // a write failed: commit refuses
};

// Starts a file at path with the format's magic (8 bytes) and version and the generations
// (MAPFILE_N_GEN values). On failure nothing is left behind.
int mapfile_create(const char *path, const char magic[8], uint32_t version,
                   const uint64_t gen[MAPFILE_N_GEN], struct mapfile_writer *w,
                   struct px_err *err);
// Appends section id from len bytes (borrowed). PX_ELIMIT past MAPFILE_MAX_SECTIONS, PX_EINVAL
// for an id already written.
int mapfile_put(struct mapfile_writer *w, uint32_t id, const void *data, size_t len,
                struct px_err *err);
// The same in pieces: begin, any number of appends, end.
int mapfile_begin(struct mapfile_writer *w, uint32_t id, struct px_err *err);
int mapfile_append(struct mapfile_writer *w, const void *data, size_t len, struct px_err *err);
int mapfile_end(struct mapfile_writer *w, struct px_err *err);
// Writes the header, fsyncs, renames into place, fsyncs the directory.
int mapfile_commit(struct mapfile_writer *w, struct px_err *err);
// Removes the temporary file (safe after commit and on a zeroed writer).
void mapfile_abort(struct mapfile_writer *w);

// ---- reading ----

struct mapfile;

// Maps the file at path and checks its header (see above). PX_ENOENT when it is missing,
// PX_EFORMAT when it is damaged or of another format or version (the message names the file).
// Returns owned *out (mapfile_close).
int mapfile_open(const char *path, const char magic[8], uint32_t version, struct mapfile **out,
                 struct px_err *err);
// The same over size bytes of memory (borrowed; must stay valid and 64-byte aligned until
// mapfile_close), name used in messages: for tests and fuzz targets.
int mapfile_open_memory(const void *data, size_t size, const char *name, const char magic[8],
                        uint32_t version, struct mapfile **out, struct px_err *err);
// NULL is a no-op.
void mapfile_close(struct mapfile *m);
const char *mapfile_path(const struct mapfile *m);
const uint64_t *mapfile_gen(const struct mapfile *m); // MAPFILE_N_GEN values
bool mapfile_has(const struct mapfile *m, uint32_t id);
// Section id's bytes (borrowed until mapfile_close; 64-byte aligned) and length. PX_EFORMAT
// naming the file and section when it is missing or its length is not a multiple of elem
// (elem 0 or 1: any length).
int mapfile_get(const struct mapfile *m, uint32_t id, size_t elem, const void **data,
                size_t *len, struct px_err *err);

#endif
