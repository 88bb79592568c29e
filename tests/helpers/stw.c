// stw.c — see stw.h. The header JSON is written by hand (not cJSON) so malformed variants
// (negative dims, any dtype string, duplicate names, overridden offsets) come out exactly as
// asked. Layout written by stw_build:
//
//   [u64 LE N][N bytes: JSON + spaces, so 8 + N is a multiple of 8][tensor bytes, in add order]
#include "stw.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stw_tensor {
    char *name;
    char *dtype;
    int n_dims;
    int64_t shape[STW_MAX_DIMS]; // shape[0..n_dims)
    unsigned char *bytes;        // (n_bytes) owned
    size_t n_bytes;
    bool has_offsets; // data_offsets overridden by stw_set_offsets
    int64_t begin;
    int64_t end;
};

struct stw {
    struct stw_tensor *t; // (n, cap)
    size_t n, cap;
    char **meta_key; // (n_meta, cap_meta)
    char **meta_val;
    size_t n_meta, cap_meta;
    char *header; // override, or NULL
};

// ---- small helpers ----

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "stw: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n > 0 ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "stw: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

struct sbuf {
    char *p;
    size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, long long v)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, fmt, v);
    sb_add(b, tmp, (size_t)n);
}

// A JSON string literal with ", \ and control characters escaped.
static void sb_json_string(struct sbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_add(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            sb_add(b, e, 6);
        } else {
            sb_add(b, (const char *)&c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

static void put_u64_le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

// ---- float conversions ----

uint16_t stw_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff) { // inf, or NaN with its top payload bits and the quiet bit
        return (uint16_t)(sign | 0x7c00u | (man != 0 ? 0x200u | (man >> 13) : 0u));
    }
    int e = (int)exp - 127 + 15; // biased half exponent
    if (e >= 31) {
        return (uint16_t)(sign | 0x7c00u);
    }
    if (e <= 0) { // half subnormal (or zero)
        if (e < -10) {
            return sign; // below 2^-25: rounds to zero
        }
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1u))) {
            h++; // may carry into the smallest normal, which is the right encoding
        }
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) {
        h++; // a carry out of the mantissa bumps the exponent, up to inf
    }
    return (uint16_t)(sign | h);
}

uint16_t stw_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu) != 0) {
        return (uint16_t)((x >> 16) | 0x40u); // NaN: keep it a (quiet) NaN
    }
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float stw_f16_to_f32(uint16_t h)
{
    int exp = (h >> 10) & 0x1f;
    int man = h & 0x3ff;
    float v;
    if (exp == 0x1f) {
        v = man == 0 ? INFINITY : NAN;
    } else if (exp == 0) {
        v = ldexpf((float)man, -24);
    } else {
        v = ldexpf((float)(man + 1024), exp - 25);
    }
    return (h & 0x8000u) ? -v : v;
}

float stw_bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

// ---- writer ----

struct stw *stw_new(void)
{
    struct stw *w = xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    return w;
}

void stw_free(struct stw *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].dtype);
        free(w->t[i].bytes);
    }
    for (size_t i = 0; i < w->n_meta; i++) {
        free(w->meta_key[i]);
        free(w->meta_val[i]);
    }
    free(w->t);
    free(w->meta_key);
    free(w->meta_val);
    free(w->header);
    free(w);
}

void stw_add_raw(struct stw *w, const char *name, const char *dtype, int n_dims,
                 const int64_t *shape, const void *bytes, size_t n_bytes)
{
    if (n_dims < 0 || n_dims > STW_MAX_DIMS) {
        fprintf(stderr, "stw: tensor '%s': n_dims %d out of range\n", name, n_dims);
        abort();
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->t = xrealloc(w->t, w->cap * sizeof w->t[0]);
    }
    struct stw_tensor *t = &w->t[w->n++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->dtype = xstrdup(dtype);
    t->n_dims = n_dims;
    if (n_dims > 0) {
        memcpy(t->shape, shape, (size_t)n_dims * sizeof shape[0]);
    }
    t->bytes = xmalloc(n_bytes);
    if (bytes != NULL && n_bytes > 0) {
        memcpy(t->bytes, bytes, n_bytes);
    } else {
        memset(t->bytes, 0, n_bytes);
    }
    t->n_bytes = n_bytes;
}

void stw_add_f32(struct stw *w, const char *name, const char *dtype, int n_dims,
                 const int64_t *shape, const float *data)
{
    size_t n = 1;
    for (int i = 0; i < n_dims; i++) {
        if (shape[i] < 0) {
            fprintf(stderr, "stw: tensor '%s': negative dim (use stw_add_raw)\n", name);
            abort();
        }
        n *= (size_t)shape[i];
    }
    size_t esize = strcmp(dtype, "F32") == 0 ? 4 : 2;
    if (strcmp(dtype, "F32") != 0 && strcmp(dtype, "F16") != 0 && strcmp(dtype, "BF16") != 0) {
        fprintf(stderr, "stw: tensor '%s': stw_add_f32 takes F32/F16/BF16, not %s\n", name,
                dtype);
        abort();
    }
    unsigned char *bytes = xmalloc(n * esize);
    for (size_t i = 0; i < n; i++) {
        float v = data != NULL ? data[i] : 0.0f;
        if (esize == 4) {
            memcpy(bytes + 4 * i, &v, 4);
        } else {
            uint16_t h = dtype[0] == 'B' ? stw_f32_to_bf16(v) : stw_f32_to_f16(v);
            bytes[2 * i] = (unsigned char)(h & 0xff); // little-endian on every host
            bytes[2 * i + 1] = (unsigned char)(h >> 8);
        }
    }
    stw_add_raw(w, name, dtype, n_dims, shape, bytes, n * esize);
    free(bytes);
}

void stw_set_offsets(struct stw *w, size_t i, int64_t begin, int64_t end)
{
    if (i >= w->n) {
        fprintf(stderr, "stw: no tensor #%zu\n", i);
        abort();
    }
    w->t[i].has_offsets = true;
    w->t[i].begin = begin;
    w->t[i].end = end;
}

void stw_set_metadata(struct stw *w, const char *key, const char *value)
{
    for (size_t i = 0; i < w->n_meta; i++) {
        if (strcmp(w->meta_key[i], key) == 0) {
            free(w->meta_val[i]);
            w->meta_val[i] = xstrdup(value);
            return;
        }
    }
    if (w->n_meta == w->cap_meta) {
        w->cap_meta = w->cap_meta ? w->cap_meta * 2 : 4;
        w->meta_key = xrealloc(w->meta_key, w->cap_meta * sizeof w->meta_key[0]);
        w->meta_val = xrealloc(w->meta_val, w->cap_meta * sizeof w->meta_val[0]);
    }
    w->meta_key[w->n_meta] = xstrdup(key);
    w->meta_val[w->n_meta] = xstrdup(value);
    w->n_meta++;
}

void stw_set_header(struct stw *w, const char *header)
{
    free(w->header);
    w->header = header != NULL ? xstrdup(header) : NULL;
}

unsigned char *stw_build(struct stw *w, size_t *size)
{
    struct sbuf h = {0};
    size_t n_data = 0;
    if (w->header != NULL) {
        sb_str(&h, w->header);
        for (size_t i = 0; i < w->n; i++) {
            n_data += w->t[i].n_bytes;
        }
    } else {
        sb_str(&h, "{");
        bool first = true;
        if (w->n_meta > 0) {
            sb_str(&h, "\"__metadata__\":{");
            for (size_t i = 0; i < w->n_meta; i++) {
                sb_str(&h, i > 0 ? "," : "");
                sb_json_string(&h, w->meta_key[i]);
                sb_str(&h, ":");
                sb_json_string(&h, w->meta_val[i]);
            }
            sb_str(&h, "}");
            first = false;
        }
        for (size_t i = 0; i < w->n; i++) {
            const struct stw_tensor *t = &w->t[i];
            sb_str(&h, first ? "" : ",");
            first = false;
            sb_json_string(&h, t->name);
            sb_str(&h, ":{\"dtype\":");
            sb_json_string(&h, t->dtype);
            sb_str(&h, ",\"shape\":[");
            for (int d = 0; d < t->n_dims; d++) {
                sb_fmt(&h, d > 0 ? ",%lld" : "%lld", (long long)t->shape[d]);
            }
            int64_t begin = t->has_offsets ? t->begin : (int64_t)n_data;
            int64_t end = t->has_offsets ? t->end : (int64_t)(n_data + t->n_bytes);
            sb_fmt(&h, "],\"data_offsets\":[%lld", (long long)begin);
            sb_fmt(&h, ",%lld]}", (long long)end);
            n_data += t->n_bytes;
        }
        sb_str(&h, "}");
        while ((8 + h.n) % 8 != 0) {
            sb_str(&h, " ");
        }
    }
    *size = 8 + h.n + n_data;
    unsigned char *out = xmalloc(*size);
    put_u64_le(out, h.n);
    if (h.n > 0) {
        memcpy(out + 8, h.p, h.n);
    }
    unsigned char *p = out + 8 + h.n;
    for (size_t i = 0; i < w->n; i++) {
        if (w->t[i].n_bytes > 0) {
            memcpy(p, w->t[i].bytes, w->t[i].n_bytes);
        }
        p += w->t[i].n_bytes;
    }
    free(h.p);
    return out;
}

int stw_write(struct stw *w, const char *path)
{
    size_t size = 0;
    unsigned char *bytes = stw_build(w, &size);
    int rc = -1;
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        rc = fwrite(bytes, 1, size, f) == size ? 0 : -1;
        if (fclose(f) != 0) {
            rc = -1;
        }
    }
    free(bytes);
    return rc;
}

unsigned char *stw_raw_file_len(uint64_t declared_len, const char *header, size_t n_data,
                                size_t *size)
{
    size_t n_header = strlen(header);
    *size = 8 + n_header + n_data;
    unsigned char *out = xmalloc(*size);
    put_u64_le(out, declared_len);
    memcpy(out + 8, header, n_header);
    memset(out + 8 + n_header, 0, n_data);
    return out;
}

unsigned char *stw_raw_file(const char *header, size_t n_data, size_t *size)
{
    return stw_raw_file_len(strlen(header), header, n_data, size);
}
