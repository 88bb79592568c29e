// bitmap.c — see bitmap.h. One allocation: the header followed by ceil(n / 64) uint64_t words.
// Invariant: bits >= n_bits in the last word are zero, kept by fill (which masks the tail) and
// by set (which ignores out-of-range indices); and/or/andnot of two valid bitmaps keep it.
#include "bitmap.h"

#include <string.h>

#include "limits.h"
#include "mem.h"

struct bitmap {
    size_t n_bits;    // bits in the set
    size_t n_words;   // ceil(n_bits / 64)
    uint64_t words[]; // (n_words,) bit i = words[i / 64] >> (i % 64) & 1
};

int bitmap_new(size_t n_bits, struct bitmap **out, struct px_err *err)
{
    *out = NULL;
    if (n_bits > LIMIT_BITMAP_BITS) {
        return px_fail(err, PX_ELIMIT, "bitmap of %zu bits: more than LIMIT_BITMAP_BITS (%u)",
                       n_bits, (unsigned)LIMIT_BITMAP_BITS);
    }
    size_t n_words = (n_bits + 63) / 64;
    struct bitmap *b = px_calloc(1, sizeof *b + n_words * sizeof(uint64_t));
    if (b == NULL) {
        return px_fail(err, PX_ENOMEM, "bitmap of %zu bits: out of memory", n_bits);
    }
    b->n_bits = n_bits;
    b->n_words = n_words;
    *out = b;
    return PX_OK;
}

int bitmap_clone(const struct bitmap *b, struct bitmap **out, struct px_err *err)
{
    int rc = bitmap_new(b->n_bits, out, err);
    if (rc == PX_OK) {
        memcpy((*out)->words, b->words, b->n_words * sizeof(uint64_t));
    }
    return rc;
}

void bitmap_free(struct bitmap *b)
{
    px_free(b);
}

size_t bitmap_size(const struct bitmap *b)
{
    return b->n_bits;
}

void bitmap_set(struct bitmap *b, size_t i)
{
    if (i < b->n_bits) {
        b->words[i / 64] |= (uint64_t)1 << (i % 64);
    }
}

void bitmap_clear(struct bitmap *b, size_t i)
{
    if (i < b->n_bits) {
        b->words[i / 64] &= ~((uint64_t)1 << (i % 64));
    }
}

bool bitmap_test(const struct bitmap *b, size_t i)
{
    return i < b->n_bits && (b->words[i / 64] >> (i % 64) & 1) != 0;
}

void bitmap_fill(struct bitmap *b)
{
    if (b->n_words == 0) {
        return;
    }
    memset(b->words, 0xff, b->n_words * sizeof(uint64_t));
    size_t tail = b->n_bits % 64;
    if (tail != 0) {
        b->words[b->n_words - 1] = ((uint64_t)1 << tail) - 1;
    }
}

void bitmap_zero(struct bitmap *b)
{
    memset(b->words, 0, b->n_words * sizeof(uint64_t));
}

static int same_size(const struct bitmap *dst, const struct bitmap *src, const char *op,
                     struct px_err *err)
{
    if (dst->n_bits != src->n_bits) {
        return px_fail(err, PX_EINVAL, "bitmap_%s: sizes differ (%zu and %zu bits)", op,
                       dst->n_bits, src->n_bits);
    }
    return PX_OK;
}

int bitmap_and(struct bitmap *dst, const struct bitmap *src, struct px_err *err)
{
    int rc = same_size(dst, src, "and", err);
    for (size_t w = 0; rc == PX_OK && w < dst->n_words; w++) {
        dst->words[w] &= src->words[w];
    }
    return rc;
}

int bitmap_or(struct bitmap *dst, const struct bitmap *src, struct px_err *err)
{
    int rc = same_size(dst, src, "or", err);
    for (size_t w = 0; rc == PX_OK && w < dst->n_words; w++) {
        dst->words[w] |= src->words[w];
    }
    return rc;
}

int bitmap_andnot(struct bitmap *dst, const struct bitmap *src, struct px_err *err)
{
    int rc = same_size(dst, src, "andnot", err);
    for (size_t w = 0; rc == PX_OK && w < dst->n_words; w++) {
        dst->words[w] &= ~src->words[w];
    }
    return rc;
}

size_t bitmap_count(const struct bitmap *b)
{
    size_t n = 0;
    for (size_t w = 0; w < b->n_words; w++) {
        n += (size_t)__builtin_popcountll(b->words[w]);
    }
    return n;
}

size_t bitmap_next(const struct bitmap *b, size_t from)
{
    if (from >= b->n_bits) {
        return SIZE_MAX;
    }
    size_t w = from / 64;
    uint64_t bits = b->words[w] & (~(uint64_t)0 << (from % 64));
    for (;;) {
        if (bits != 0) {
            return w * 64 + (size_t)__builtin_ctzll(bits); // < n_bits by the tail invariant
        }
        if (++w >= b->n_words) {
            return SIZE_MAX;
        }
        bits = b->words[w];
    }
}

size_t bitmap_to_ids(const struct bitmap *b, uint32_t *ids, size_t max)
{
    size_t n = 0;
    for (size_t w = 0; w < b->n_words && n < max; w++) {
        uint64_t bits = b->words[w];
        while (bits != 0 && n < max) {
            ids[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
            bits &= bits - 1;
        }
    }
    return n;
}

const uint64_t *bitmap_words(const struct bitmap *b)
{
    return b->words;
}

uint64_t *bitmap_words_mut(struct bitmap *b)
{
    return b->words;
}

size_t bitmap_n_words(const struct bitmap *b)
{
    return b->n_words;
}
