// safetensors.c — see safetensors.h. Validates a .safetensors file completely at open time so
// that every later accessor is a plain lookup that cannot fail.
//
// File layout (https://huggingface.co/docs/safetensors, "Format"):
//
//   [u64 LE N][N bytes JSON header, space-padded][data section .......................]
//             {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//              "__metadata__": {"key": "value"}}        offsets are relative to the data section
//
// Open runs in two passes over the cJSON tree. Pass 1 counts tensors and string bytes (and checks
// names and "__metadata__"), so pass 2 can fill exactly two allocations:
//
//   block: [struct safetensors | tensors (n) | by_name (n) | meta (n_meta)]
//   pool:  NUL-terminated tensor names, metadata keys and values
//
// The tensor array is sorted by data offset (safetensors_get order), which makes the overlap
// check one linear sweep; by_name is an array of pointers into it sorted by strcmp, so
// safetensors_find is a binary search (BERT-large has ~400 tensors, looked up one by one) and
// duplicate names show up as neighbours. cJSON keeps duplicate object keys, hence that check.
//
// F16 -> F32 has a scalar reference and an F16C variant picked at run time (cpu_features()).
// NaN halves come out quiet with their payload kept, which is what VCVTPH2PS does, so the two
// are bit-identical on all 65536 inputs (tests/unit/test_safetensors.c checks that).
//
// The data section is read in place, so this file assumes a little-endian host.
#include "safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cpu.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ST_HAVE_F16C 1
#else
#define ST_HAVE_F16C 0
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c reads tensor data in place and needs a little-endian host"
#endif

#define META_KEY "__metadata__"
// Integers in JSON arrive as doubles; above 2^53 they are no longer exact.
#define MAX_EXACT_INT 9007199254740992.0

struct meta_entry {
    const char *key;   // in pool
    const char *value; // in pool
};

struct safetensors {
    struct fsx_map map;                        // owned mapping (safetensors_open); zeroed otherwise
    size_t data_start;                         // file offset of the data section (8 + N)
    size_t n_tensors;
    struct safetensors_tensor *tensors;        // (n_tensors) sorted by offset; in this block
    const struct safetensors_tensor **by_name; // (n_tensors) sorted by name; in this block
    size_t n_meta;
    struct meta_entry *meta;                   // (n_meta) sorted by key; in this block
    char *pool;                                // owned: names, metadata keys and values
};

static const struct {
    const char *name;
    size_t size; // bytes per element
} k_dtypes[] = {
    [SAFETENSORS_F64] = {"F64", 8},          [SAFETENSORS_F32] = {"F32", 4},
    [SAFETENSORS_F16] = {"F16", 2},          [SAFETENSORS_BF16] = {"BF16", 2},
    [SAFETENSORS_I64] = {"I64", 8},          [SAFETENSORS_I32] = {"I32", 4},
    [SAFETENSORS_I16] = {"I16", 2},          [SAFETENSORS_I8] = {"I8", 1},
    [SAFETENSORS_U64] = {"U64", 8},          [SAFETENSORS_U32] = {"U32", 4},
    [SAFETENSORS_U16] = {"U16", 2},          [SAFETENSORS_U8] = {"U8", 1},
    [SAFETENSORS_BOOL] = {"BOOL", 1},        [SAFETENSORS_F8_E4M3] = {"F8_E4M3", 1},
    [SAFETENSORS_F8_E5M2] = {"F8_E5M2", 1},
};
#define N_DTYPES (sizeof k_dtypes / sizeof k_dtypes[0])

const char *safetensors_dtype_name(enum safetensors_dtype dtype)
{
    return (size_t)dtype < N_DTYPES ? k_dtypes[dtype].name : "?";
}

size_t safetensors_dtype_size(enum safetensors_dtype dtype)
{
    return (size_t)dtype < N_DTYPES ? k_dtypes[dtype].size : 0;
}

static bool dtype_from_name(const char *s, enum safetensors_dtype *out)
{
    for (size_t i = 0; i < N_DTYPES; i++) {
        if (strcmp(s, k_dtypes[i].name) == 0) {
            *out = (enum safetensors_dtype)i;
            return true;
        }
    }
    return false;
}

// ---- header validation ----

// Counts from pass 1.
struct st_counts {
    size_t n_tensors;
    size_t n_meta;
    size_t pool_bytes; // names + metadata strings, each with its NUL
};

static size_t align_up(size_t x, size_t a)
{
    return (x + a - 1) / a * a;
}

// Reads a JSON number that must be an exact non-negative integer (<= 2^53). `label` and `idx`
// name it in the message ("shape[1]", "data_offsets[0]").
static int read_uint(const cJSON *v, const char *label, int idx, uint64_t *out, const char *what,
                     const char *name, struct px_err *err)
{
    if (!cJSON_IsNumber(v)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': %s[%d] is not a number", what, name,
                       label, idx);
    }
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d != floor(d)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': %s[%d] = %g is not a non-negative integer",
                       what, name, label, idx, d);
    }
    if (d > MAX_EXACT_INT) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': %s[%d] = %g is over 2^53", what, name,
                       label, idx, d);
    }
    *out = (uint64_t)d;
    return PX_OK;
}

// Pass 1: counts, name checks and the "__metadata__" object.
static int count_entries(const cJSON *root, const char *what, struct st_counts *c,
                         struct px_err *err)
{
    bool seen_meta = false;
    memset(c, 0, sizeof *c);
    for (const cJSON *item = root->child; item != NULL; item = item->next) {
        const char *key = item->string;
        if (strcmp(key, META_KEY) == 0) {
            if (seen_meta) {
                return px_fail(err, PX_EFORMAT, "%s: \"" META_KEY "\" appears more than once",
                               what);
            }
            seen_meta = true;
            if (!cJSON_IsObject(item)) {
                return px_fail(err, PX_EFORMAT, "%s: \"" META_KEY "\" is not an object", what);
            }
            for (const cJSON *m = item->child; m != NULL; m = m->next) {
                if (!cJSON_IsString(m)) {
                    return px_fail(err, PX_EFORMAT,
                                   "%s: " META_KEY " key '%s': value is not a string", what,
                                   m->string);
                }
                c->pool_bytes += strlen(m->string) + 1 + strlen(m->valuestring) + 1;
                c->n_meta++;
            }
            continue;
        }
        size_t len = strlen(key);
        if (len == 0) {
            return px_fail(err, PX_EFORMAT, "%s: tensor #%zu has an empty name", what,
                           c->n_tensors);
        }
        if (len > LIMIT_TENSOR_NAME_BYTES) {
            return px_fail(err, PX_ELIMIT,
                           "%s: tensor '%.64s...': name is %zu bytes, over "
                           "LIMIT_TENSOR_NAME_BYTES (%d)",
                           what, key, len, LIMIT_TENSOR_NAME_BYTES);
        }
        if (c->n_tensors == LIMIT_SAFETENSORS_TENSORS) {
            return px_fail(err, PX_ELIMIT,
                           "%s: more than LIMIT_SAFETENSORS_TENSORS (%d) tensors", what,
                           LIMIT_SAFETENSORS_TENSORS);
        }
        c->n_tensors++;
        c->pool_bytes += len + 1;
    }
    return PX_OK;
}

// Pass 2, one tensor: checks the entry and fills *t (t->name is set by the caller).
static int parse_tensor(const cJSON *item, struct safetensors_tensor *t, size_t data_start,
                        size_t data_size, const unsigned char *file, const char *what,
                        struct px_err *err)
{
    const char *name = item->string;
    if (!cJSON_IsObject(item)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': entry is not an object", what, name);
    }
    const cJSON *jdtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *jshape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *joffs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (jdtype == NULL) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': missing \"dtype\"", what, name);
    }
    if (!cJSON_IsString(jdtype)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': \"dtype\" is not a string", what, name);
    }
    if (!dtype_from_name(jdtype->valuestring, &t->dtype)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': unknown dtype '%s'", what, name,
                       jdtype->valuestring);
    }
    if (jshape == NULL) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': missing \"shape\"", what, name);
    }
    if (!cJSON_IsArray(jshape)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': \"shape\" is not an array", what, name);
    }
    int rank = cJSON_GetArraySize(jshape);
    if (rank > LIMIT_TENSOR_RANK) {
        return px_fail(err, PX_ELIMIT, "%s: tensor '%s': rank %d exceeds LIMIT_TENSOR_RANK (%d)",
                       what, name, rank, LIMIT_TENSOR_RANK);
    }
    t->n_dims = rank;
    bool any_zero = false;
    int i = 0;
    for (const cJSON *d = jshape->child; d != NULL; d = d->next, i++) {
        uint64_t v = 0;
        int rc = read_uint(d, "shape", i, &v, what, name, err);
        if (rc != PX_OK) {
            return rc;
        }
        t->shape[i] = (int64_t)v;
        any_zero = any_zero || v == 0;
    }
    if (joffs == NULL) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': missing \"data_offsets\"", what, name);
    }
    if (!cJSON_IsArray(joffs) || cJSON_GetArraySize(joffs) != 2) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': \"data_offsets\" must be [begin, end]",
                       what, name);
    }
    uint64_t begin = 0;
    uint64_t end = 0;
    int rc = read_uint(joffs->child, "data_offsets", 0, &begin, what, name, err);
    if (rc == PX_OK) {
        rc = read_uint(joffs->child->next, "data_offsets", 1, &end, what, name, err);
    }
    if (rc != PX_OK) {
        return rc;
    }
    if (begin > end) {
        return px_fail(err, PX_EFORMAT,
                       "%s: tensor '%s': data_offsets [%llu, %llu] are reversed (begin > end)",
                       what, name, (unsigned long long)begin, (unsigned long long)end);
    }
    if (end > data_size) {
        return px_fail(err, PX_EFORMAT,
                       "%s: tensor '%s': data_offsets end %llu is past the end of the data "
                       "section (%zu bytes)",
                       what, name, (unsigned long long)end, data_size);
    }
    // A zero dimension makes the product 0 even when the others would overflow.
    size_t n_elems = 1;
    size_t n_bytes = 0;
    if (any_zero) {
        n_elems = 0;
    } else {
        for (i = 0; i < rank; i++) {
            if (__builtin_mul_overflow(n_elems, (size_t)t->shape[i], &n_elems)) {
                return px_fail(err, PX_EFORMAT, "%s: tensor '%s': shape product overflows",
                               what, name);
            }
        }
    }
    if (__builtin_mul_overflow(n_elems, k_dtypes[t->dtype].size, &n_bytes)) {
        return px_fail(err, PX_EFORMAT, "%s: tensor '%s': byte size of the shape overflows", what,
                       name);
    }
    if (n_bytes != end - begin) {
        return px_fail(err, PX_EFORMAT,
                       "%s: tensor '%s': %zu %s elements need %zu bytes but data_offsets span "
                       "%llu",
                       what, name, n_elems, k_dtypes[t->dtype].name, n_bytes,
                       (unsigned long long)(end - begin));
    }
    t->n_elems = n_elems;
    t->n_bytes = n_bytes;
    t->offset = data_start + (size_t)begin;
    t->data = file + t->offset;
    return PX_OK;
}

static int cmp_by_offset(const void *a, const void *b)
{
    const struct safetensors_tensor *x = a;
    const struct safetensors_tensor *y = b;
    if (x->offset != y->offset) {
        return x->offset < y->offset ? -1 : 1;
    }
    if (x->n_bytes != y->n_bytes) {
        return x->n_bytes < y->n_bytes ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static int cmp_by_name(const void *a, const void *b)
{
    const struct safetensors_tensor *const *x = a;
    const struct safetensors_tensor *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int cmp_meta(const void *a, const void *b)
{
    const struct meta_entry *x = a;
    const struct meta_entry *y = b;
    return strcmp(x->key, y->key);
}

// Checks the sorted arrays: unique names and metadata keys, no two tensors sharing bytes.
static int check_sorted(const struct safetensors *st, const char *what, struct px_err *err)
{
    for (size_t i = 1; i < st->n_tensors; i++) {
        if (strcmp(st->by_name[i - 1]->name, st->by_name[i]->name) == 0) {
            return px_fail(err, PX_EFORMAT, "%s: tensor '%s' appears more than once", what,
                           st->by_name[i]->name);
        }
    }
    for (size_t i = 1; i < st->n_meta; i++) {
        if (strcmp(st->meta[i - 1].key, st->meta[i].key) == 0) {
            return px_fail(err, PX_EFORMAT, "%s: " META_KEY " key '%s' appears more than once",
                           what, st->meta[i].key);
        }
    }
    // Sorted by begin: a tensor overlaps an earlier one iff it starts before the largest end
    // seen so far. Zero-size tensors occupy no bytes and never overlap.
    const struct safetensors_tensor *last = NULL; // non-empty tensor with the largest end
    for (size_t i = 0; i < st->n_tensors; i++) {
        const struct safetensors_tensor *t = &st->tensors[i];
        if (t->n_bytes == 0) {
            continue;
        }
        if (last != NULL && t->offset < last->offset + last->n_bytes) {
            return px_fail(err, PX_EFORMAT,
                           "%s: tensors '%s' [%zu, %zu) and '%s' [%zu, %zu) overlap", what,
                           last->name, last->offset - st->data_start,
                           last->offset - st->data_start + last->n_bytes, t->name,
                           t->offset - st->data_start, t->offset - st->data_start + t->n_bytes);
        }
        if (last == NULL || t->offset + t->n_bytes > last->offset + last->n_bytes) {
            last = t;
        }
    }
    return PX_OK;
}

// The header may be padded with spaces after the object, but nothing else may follow it.
// jsonx_parse does not report where the object ended, so this checks that the last non-space
// byte closes an object; "{...} {...}" would slip through, and only the first object is used.
static void handle_free(struct safetensors *st)
{
    if (st != NULL) {
        fsx_unmap(&st->map);
        px_free(st->pool);
        px_free(st);
    }
}

// The one validator behind both open functions. data: (size) borrowed; *out returns owned.
static int validate(const unsigned char *data, size_t size, const char *what,
                    struct safetensors **out, struct px_err *err)
{
    int rc = PX_EFORMAT;
    cJSON *root = NULL;
    struct safetensors *st = NULL;
    *out = NULL;

    if (size < 8) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s: file is %zu bytes, shorter than the 8-byte header length", what, size);
        goto done;
    }
    uint64_t n_header = 0;
    memcpy(&n_header, data, sizeof n_header);
    if (n_header > LIMIT_SAFETENSORS_HEADER_BYTES) {
        rc = px_fail(err, PX_ELIMIT,
                     "%s: header length %llu is over LIMIT_SAFETENSORS_HEADER_BYTES (%u)", what,
                     (unsigned long long)n_header, LIMIT_SAFETENSORS_HEADER_BYTES);
        goto done;
    }
    if (n_header < 2) {
        rc = px_fail(err, PX_EFORMAT, "%s: header length %llu is too small (\"{}\" needs 2)",
                     what, (unsigned long long)n_header);
        goto done;
    }
    if (n_header > size - 8) {
        rc = px_fail(err, PX_EFORMAT,
                     "%s: truncated: header length %llu runs past the end of the file (%zu bytes)",
                     what, (unsigned long long)n_header, size);
        goto done;
    }
    const char *text = (const char *)data + 8;
    size_t data_start = 8 + (size_t)n_header;
    size_t data_size = size - data_start;
    // cJSON allocates with plain malloc, so an allocation failure inside it reads as
    // PX_EFORMAT "invalid JSON"; jsonx_parse cannot tell the two apart.
    rc = jsonx_parse(text, (size_t)n_header, what, &root, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = PX_EFORMAT;
    if (!cJSON_IsObject(root)) {
        rc = px_fail(err, PX_EFORMAT, "%s: header is not a JSON object", what);
        goto done;
    }
    struct st_counts c;
    rc = count_entries(root, what, &c, err);
    if (rc != PX_OK) {
        goto done;
    }

    size_t off_tensors = align_up(sizeof *st, _Alignof(struct safetensors_tensor));
    size_t off_by_name = align_up(off_tensors + c.n_tensors * sizeof(struct safetensors_tensor),
                                  _Alignof(const struct safetensors_tensor *));
    size_t off_meta = align_up(off_by_name + c.n_tensors * sizeof(struct safetensors_tensor *),
                               _Alignof(struct meta_entry));
    size_t total = off_meta + c.n_meta * sizeof(struct meta_entry);
    st = px_malloc(total);
    if (st == NULL) {
        rc = px_fail(err, PX_ENOMEM, "%s: out of memory for %zu tensors", what, c.n_tensors);
        goto done;
    }
    memset(st, 0, sizeof *st);
    st->pool = px_malloc(c.pool_bytes + 1);
    if (st->pool == NULL) {
        rc = px_fail(err, PX_ENOMEM, "%s: out of memory for %zu bytes of names", what,
                     c.pool_bytes);
        goto done;
    }
    st->data_start = data_start;
    st->tensors = (struct safetensors_tensor *)((char *)st + off_tensors);
    st->by_name = (const struct safetensors_tensor **)((char *)st + off_by_name);
    st->meta = (struct meta_entry *)((char *)st + off_meta);

    // Pass 2: fill tensors and metadata in JSON order.
    char *cursor = st->pool;
    for (const cJSON *item = root->child; item != NULL; item = item->next) {
        if (strcmp(item->string, META_KEY) == 0) {
            for (const cJSON *m = item->child; m != NULL; m = m->next) {
                struct meta_entry *e = &st->meta[st->n_meta++];
                size_t nk = strlen(m->string) + 1;
                size_t nv = strlen(m->valuestring) + 1;
                e->key = memcpy(cursor, m->string, nk);
                e->value = memcpy(cursor + nk, m->valuestring, nv);
                cursor += nk + nv;
            }
            continue;
        }
        struct safetensors_tensor *t = &st->tensors[st->n_tensors];
        memset(t, 0, sizeof *t);
        size_t nn = strlen(item->string) + 1;
        t->name = memcpy(cursor, item->string, nn);
        cursor += nn;
        rc = parse_tensor(item, t, data_start, data_size, data, what, err);
        if (rc != PX_OK) {
            goto done;
        }
        st->n_tensors++;
    }

    if (st->n_tensors > 1) {
        qsort(st->tensors, st->n_tensors, sizeof st->tensors[0], cmp_by_offset);
    }
    for (size_t i = 0; i < st->n_tensors; i++) {
        st->by_name[i] = &st->tensors[i];
    }
    if (st->n_tensors > 1) {
        qsort(st->by_name, st->n_tensors, sizeof st->by_name[0], cmp_by_name);
    }
    if (st->n_meta > 1) {
        qsort(st->meta, st->n_meta, sizeof st->meta[0], cmp_meta);
    }
    rc = check_sorted(st, what, err);
    if (rc != PX_OK) {
        goto done;
    }
    *out = st;
    st = NULL;
    rc = PX_OK;
done:
    cJSON_Delete(root);
    handle_free(st);
    return rc;
}

// ---- public API ----

int safetensors_open(const char *path, struct safetensors **out, struct px_err *err)
{
    struct fsx_map map = {0};
    struct safetensors *st = NULL;
    *out = NULL;
    int rc = fsx_map_file(path, &map, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = validate(map.data, map.size, path, &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    st->map = map; // the handle now owns the mapping
    memset(&map, 0, sizeof map);
    *out = st;
    st = NULL;
done:
    fsx_unmap(&map);
    return rc;
}

int safetensors_open_memory(const void *data, size_t size, const char *what,
                            struct safetensors **out, struct px_err *err)
{
    return validate(data, size, what != NULL ? what : "<memory>", out, err);
}

void safetensors_close(struct safetensors *st)
{
    handle_free(st);
}

size_t safetensors_count(const struct safetensors *st)
{
    return st->n_tensors;
}

const struct safetensors_tensor *safetensors_get(const struct safetensors *st, size_t i)
{
    return i < st->n_tensors ? &st->tensors[i] : NULL;
}

static int cmp_name_key(const void *key, const void *elem)
{
    const struct safetensors_tensor *const *t = elem;
    return strcmp(key, (*t)->name);
}

const struct safetensors_tensor *safetensors_find(const struct safetensors *st, const char *name)
{
    const struct safetensors_tensor *const *hit = NULL;
    if (st->n_tensors > 0) {
        hit = bsearch(name, st->by_name, st->n_tensors, sizeof st->by_name[0], cmp_name_key);
    }
    return hit != NULL ? *hit : NULL;
}

static int cmp_meta_key(const void *key, const void *elem)
{
    const struct meta_entry *e = elem;
    return strcmp(key, e->key);
}

const char *safetensors_metadata(const struct safetensors *st, const char *key)
{
    const struct meta_entry *hit = NULL;
    if (st->n_meta > 0) {
        hit = bsearch(key, st->meta, st->n_meta, sizeof st->meta[0], cmp_meta_key);
    }
    return hit != NULL ? hit->value : NULL;
}

// ---- conversion to float32 ----

static float bits_to_f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

// binary16 -> binary32 bits. Subnormal halves are normalised (every half is exact in f32);
// NaNs get the quiet bit (0x00400000) like VCVTPH2PS.
static uint32_t f16_bits_to_f32_bits(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) {
        return man == 0 ? sign | 0x7f800000u : sign | 0x7fc00000u | (man << 13);
    }
    if (exp != 0) {
        return sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    if (man == 0) {
        return sign;
    }
    // Subnormal: man * 2^-24. Shift the leading 1 up to bit 10 (the implicit bit).
    uint32_t e = 127 - 15 + 1;
    while ((man & 0x400u) == 0) {
        man <<= 1;
        e--;
    }
    return sign | (e << 23) | ((man & 0x3ffu) << 13);
}

void safetensors_f16_to_f32_ref(const void *src, float *dst, size_t n)
{
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, sizeof h);
        dst[i] = bits_to_f32(f16_bits_to_f32_bits(h));
    }
}

#if ST_HAVE_F16C
__attribute__((target("f16c,avx"))) static void f16_to_f32_f16c(const unsigned char *src,
                                                                   float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    safetensors_f16_to_f32_ref(src + 2 * i, dst + i, n - i);
}
#endif

bool safetensors_f16_to_f32_f16c(const void *src, float *dst, size_t n)
{
#if ST_HAVE_F16C
    if (cpu_features()->avx2) {
        f16_to_f32_f16c(src, dst, n);
        return true;
    }
#else
    (void)src;
    (void)dst;
    (void)n;
#endif
    return false;
}

int safetensors_to_f32(const struct safetensors_tensor *t, float *dst, struct px_err *err)
{
    int rc = PX_OK;
    size_t n = t->n_elems;
    switch (t->dtype) {
    case SAFETENSORS_F32:
        if (n > 0) {
            memcpy(dst, t->data, n * sizeof(float)); // data need not be 4-byte aligned
        }
        break;
    case SAFETENSORS_F16:
        if (!safetensors_f16_to_f32_f16c(t->data, dst, n)) {
            safetensors_f16_to_f32_ref(t->data, dst, n);
        }
        break;
    case SAFETENSORS_BF16:
        // bfloat16 is the top half of a binary32, so widening is a shift (NaNs kept as-is).
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, t->data + 2 * i, sizeof h);
            dst[i] = bits_to_f32((uint32_t)h << 16);
        }
        break;
    default:
        rc = px_fail(err, PX_EUNSUPPORTED,
                     "tensor '%s': dtype %s cannot be converted to F32 (only F32, F16, BF16)",
                     t->name, safetensors_dtype_name(t->dtype));
        break;
    }
    return rc;
}
