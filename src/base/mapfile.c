// mapfile.c — see mapfile.h for the layout. The writer streams sections through fsx_atomic's
// FILE (padding each to MAPFILE_ALIGN), then seeks back and writes the header last, so a file
// whose header checks out was written whole; the reader maps the file with fsx_map_file.
#include "mapfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

_Static_assert(sizeof(struct mapfile_header) <= MAPFILE_HEADER_BYTES, "header fits its block");

struct mapfile {
    struct fsx_map map; // owned when from a file (data NULL for memory)
    const unsigned char *data;
    size_t size;
    struct mapfile_header h; // a copy, checked
    char name[LIMIT_PATH];
};

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ s[i]) * 1099511628211ull;
    }
    return h;
}

static uint64_t header_sum(const struct mapfile_header *h)
{
    return fnv1a(h, offsetof(struct mapfile_header, checksum));
}

// ---- writing ----

static int write_bytes(struct mapfile_writer *w, const void *data, size_t len, struct px_err *err)
{
    if (len > 0 && fwrite(data, 1, len, w->a.f) != len) {
        w->failed = true;
        return px_fail(err, PX_EIO, "cannot write '%s': %s", w->a.path, strerror(errno));
    }
    w->pos += len;
    return PX_OK;
}

static int pad_to_align(struct mapfile_writer *w, struct px_err *err)
{
    static const unsigned char zeros[MAPFILE_ALIGN];
    size_t pad = (size_t)((MAPFILE_ALIGN - w->pos % MAPFILE_ALIGN) % MAPFILE_ALIGN);
    return write_bytes(w, zeros, pad, err);
}

int mapfile_create(const char *path, const char magic[8], uint32_t version,
                   const uint64_t gen[MAPFILE_N_GEN], struct mapfile_writer *w,
                   struct px_err *err)
{
    memset(w, 0, sizeof *w);
    int rc = fsx_atomic_open(path, &w->a, err);
    if (rc != PX_OK) {
        return rc;
    }
    memcpy(w->h.magic, magic, sizeof w->h.magic);
    w->h.version = version;
    memcpy(w->h.gen, gen, sizeof w->h.gen);
    static const unsigned char zeros[MAPFILE_HEADER_BYTES];
    rc = write_bytes(w, zeros, sizeof zeros, err); // the header's place, written at commit
    if (rc != PX_OK) {
        mapfile_abort(w);
    }
    return rc;
}

int mapfile_begin(struct mapfile_writer *w, uint32_t id, struct px_err *err)
{
    if (w->in_section || w->failed) {
        return px_fail(err, PX_EINTERNAL, "'%s': section begun inside another", w->a.path);
    }
    if (w->h.n_sections >= MAPFILE_MAX_SECTIONS) {
        return px_fail(err, PX_ELIMIT, "'%s': more than %d sections", w->a.path,
                       MAPFILE_MAX_SECTIONS);
    }
    for (uint32_t i = 0; i < w->h.n_sections; i++) {
        if (w->h.sec[i].id == id) {
            return px_fail(err, PX_EINVAL, "'%s': section %08x written twice", w->a.path, id);
        }
    }
    int rc = pad_to_align(w, err);
    if (rc == PX_OK) {
        w->h.sec[w->h.n_sections] = (struct mapfile_section){.id = id, .off = w->pos};
        w->in_section = true;
    }
    return rc;
}

int mapfile_append(struct mapfile_writer *w, const void *data, size_t len, struct px_err *err)
{
    if (!w->in_section) {
        return px_fail(err, PX_EINTERNAL, "'%s': append outside a section", w->a.path);
    }
    return write_bytes(w, data, len, err);
}

int mapfile_end(struct mapfile_writer *w, struct px_err *err)
{
    if (!w->in_section) {
        return px_fail(err, PX_EINTERNAL, "'%s': end outside a section", w->a.path);
    }
    struct mapfile_section *s = &w->h.sec[w->h.n_sections++];
    s->len = w->pos - s->off;
    w->in_section = false;
    return PX_OK;
}

int mapfile_put(struct mapfile_writer *w, uint32_t id, const void *data, size_t len,
                struct px_err *err)
{
    int rc = mapfile_begin(w, id, err);
    if (rc == PX_OK) rc = mapfile_append(w, data, len, err);
    if (rc == PX_OK) rc = mapfile_end(w, err);
    return rc;
}

int mapfile_commit(struct mapfile_writer *w, struct px_err *err)
{
    int rc = PX_OK;
    if (w->failed || w->in_section || w->a.f == NULL) {
        rc = px_fail(err, PX_EINTERNAL, "'%s': commit of an unfinished file", w->a.path);
    }
    if (rc == PX_OK) rc = pad_to_align(w, err);
    if (rc == PX_OK) {
        w->h.file_bytes = w->pos;
        w->h.checksum = header_sum(&w->h);
        if (fseek(w->a.f, 0, SEEK_SET) != 0 || fwrite(&w->h, sizeof w->h, 1, w->a.f) != 1) {
            rc = px_fail(err, PX_EIO, "cannot write the header of '%s': %s", w->a.path,
                         strerror(errno));
        }
    }
    if (rc == PX_OK) {
        rc = fsx_atomic_commit(&w->a, err);
    }
    mapfile_abort(w);
    return rc;
}

void mapfile_abort(struct mapfile_writer *w)
{
    fsx_atomic_abort(&w->a);
}

// ---- reading ----

static int check(struct mapfile *m, const char magic[8], uint32_t version, struct px_err *err)
{
    if (m->size < MAPFILE_HEADER_BYTES) {
        return px_fail(err, PX_EFORMAT, "'%s': %zu bytes, shorter than its header", m->name,
                       m->size);
    }
    memcpy(&m->h, m->data, sizeof m->h);
    const struct mapfile_header *h = &m->h;
    if (memcmp(h->magic, magic, sizeof h->magic) != 0) {
        return px_fail(err, PX_EFORMAT, "'%s': not an index file of this kind (magic)", m->name);
    }
    if (h->checksum != header_sum(h)) {
        return px_fail(err, PX_EFORMAT, "'%s': header checksum mismatch (damaged)", m->name);
    }
    if (h->version != version) {
        return px_fail(err, PX_EFORMAT, "'%s': format version %u, this build reads %u", m->name,
                       h->version, version);
    }
    if (h->file_bytes != m->size) {
        return px_fail(err, PX_EFORMAT, "'%s': %zu bytes, the header says %llu (truncated?)",
                       m->name, m->size, (unsigned long long)h->file_bytes);
    }
    if (h->n_sections > MAPFILE_MAX_SECTIONS) {
        return px_fail(err, PX_EFORMAT, "'%s': %u sections", m->name, h->n_sections);
    }
    for (uint32_t i = 0; i < h->n_sections; i++) {
        const struct mapfile_section *s = &h->sec[i];
        if (s->off < MAPFILE_HEADER_BYTES || s->off % MAPFILE_ALIGN != 0 || s->off > m->size ||
            s->len > m->size - s->off) {
            return px_fail(err, PX_EFORMAT, "'%s': section %u lies outside the file", m->name, i);
        }
    }
    return PX_OK;
}

int mapfile_open_memory(const void *data, size_t size, const char *name, const char magic[8],
                        uint32_t version, struct mapfile **out, struct px_err *err)
{
    *out = NULL;
    struct mapfile *m = px_calloc(1, sizeof *m);
    if (m == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory opening '%s'", name);
    }
    snprintf(m->name, sizeof m->name, "%s", name);
    m->data = data;
    m->size = size;
    int rc = check(m, magic, version, err);
    if (rc != PX_OK) {
        px_free(m);
        return rc;
    }
    *out = m;
    return PX_OK;
}

int mapfile_open(const char *path, const char magic[8], uint32_t version, struct mapfile **out,
                 struct px_err *err)
{
    *out = NULL;
    if (!fsx_is_file(path)) {
        return px_fail(err, PX_ENOENT, "no index file '%s'", path);
    }
    struct fsx_map map = {0};
    int rc = fsx_map_file(path, &map, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = mapfile_open_memory(map.data, map.size, path, magic, version, out, err);
    if (rc != PX_OK) {
        fsx_unmap(&map);
        return rc;
    }
    (*out)->map = map;
    return PX_OK;
}

void mapfile_close(struct mapfile *m)
{
    if (m == NULL) {
        return;
    }
    fsx_unmap(&m->map);
    px_free(m);
}

const char *mapfile_path(const struct mapfile *m) { return m->name; }
const uint64_t *mapfile_gen(const struct mapfile *m) { return m->h.gen; }

static const struct mapfile_section *find(const struct mapfile *m, uint32_t id)
{
    for (uint32_t i = 0; i < m->h.n_sections; i++) {
        if (m->h.sec[i].id == id) {
            return &m->h.sec[i];
        }
    }
    return NULL;
}

bool mapfile_has(const struct mapfile *m, uint32_t id) { return find(m, id) != NULL; }

int mapfile_get(const struct mapfile *m, uint32_t id, size_t elem, const void **data,
                size_t *len, struct px_err *err)
{
    const struct mapfile_section *s = find(m, id);
    char name[5] = {(char)(id & 0xff), (char)(id >> 8 & 0xff), (char)(id >> 16 & 0xff),
                    (char)(id >> 24 & 0xff), 0};
    *data = NULL;
    *len = 0;
    if (s == NULL) {
        return px_fail(err, PX_EFORMAT, "'%s': section %s is missing", m->name, name);
    }
    if (elem > 1 && s->len % elem != 0) {
        return px_fail(err, PX_EFORMAT, "'%s': section %s has %llu bytes, not a multiple of %zu",
                       m->name, name, (unsigned long long)s->len, elem);
    }
    *data = m->data + s->off;
    *len = (size_t)s->len;
    return PX_OK;
}
