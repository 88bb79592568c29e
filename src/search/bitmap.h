// bitmap.h — fixed-size candidate sets: one bit per row id (STYLE C11).
//
// Filters produce bitmaps, bitmaps are ANDed, and the vector index and BM25 read the result
// word by word so that whole empty chunks are skipped. Bits past the size are always zero (every
// operation keeps that invariant), so popcounts and word scans need no tail handling.
//
// A bitmap is plain memory: reading one from any number of threads is safe; writing needs the
// caller's exclusion.
#ifndef PX_BITMAP_H
#define PX_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bitmap;

// ---- lifecycle ----

// A bitmap of n_bits (0..LIMIT_BITMAP_BITS) bits, all clear. Returns owned via *out
// (bitmap_free). PX_ELIMIT past the limit, PX_ENOMEM.
int bitmap_new(size_t n_bits, struct bitmap **out, struct px_err *err);
// Returns owned copy via *out (bitmap_free).
int bitmap_clone(const struct bitmap *b, struct bitmap **out, struct px_err *err);
// NULL is a no-op.
void bitmap_free(struct bitmap *b);

// ---- single bits (i < bitmap_size; out-of-range set/clear are ignored, test returns false) ----

size_t bitmap_size(const struct bitmap *b);
void bitmap_set(struct bitmap *b, size_t i);
void bitmap_clear(struct bitmap *b, size_t i);
bool bitmap_test(const struct bitmap *b, size_t i);

// ---- whole sets ----

void bitmap_fill(struct bitmap *b);  // every bit set
void bitmap_zero(struct bitmap *b);  // every bit clear
// In place, dst = dst OP src. Sizes must match: PX_EINVAL otherwise (dst unchanged).
int bitmap_and(struct bitmap *dst, const struct bitmap *src, struct px_err *err);
int bitmap_or(struct bitmap *dst, const struct bitmap *src, struct px_err *err);
int bitmap_andnot(struct bitmap *dst, const struct bitmap *src, struct px_err *err);
// Number of set bits (hardware popcount where the compiler has it).
size_t bitmap_count(const struct bitmap *b);

// ---- iteration ----

// The first set bit >= from, or SIZE_MAX when there is none. A loop
// `for (i = bitmap_next(b, 0); i != SIZE_MAX; i = bitmap_next(b, i + 1))` visits the set bits
// in increasing order, skipping zero words 64 bits at a time.
size_t bitmap_next(const struct bitmap *b, size_t from);
// Writes up to max set-bit positions, ascending, into ids (max entries); returns how many.
size_t bitmap_to_ids(const struct bitmap *b, uint32_t *ids, size_t max);
// Borrowed view of the words (bit i is word i / 64, bit i % 64), valid until bitmap_free;
// bitmap_n_words() of them, tail bits zero. For scanners that walk words themselves.
const uint64_t *bitmap_words(const struct bitmap *b);
size_t bitmap_n_words(const struct bitmap *b);
// The same words, writable, for scanners that clear bits a word at a time; the caller keeps
// the tail bits zero.
uint64_t *bitmap_words_mut(struct bitmap *b);

#endif
