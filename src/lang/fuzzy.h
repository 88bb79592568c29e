// fuzzy.h — bounded Damerau-Levenshtein distance on UTF-8 words (typo matching).
//
// The distance counts insertions, deletions, substitutions and transpositions of adjacent
// characters (the "optimal string alignment" form: no substring is edited twice), over Unicode
// code points, so "café" → "cafe" is one edit, not two. "abve" → "above" 1, "custmers" →
// "customers" 1, "credt" → "credit" 1, "teh" → "the" 1.
#ifndef PX_LANG_FUZZY_H
#define PX_LANG_FUZZY_H

#include <stddef.h>

// Distance between a[0..na) and b[0..nb), or bound + 1 when it exceeds bound (the
// computation stops as soon as every cell of a row is past bound). Invalid UTF-8 bytes count
// as one character each; words longer than LIMIT_FUZZY_WORD_CHARS code points are bound + 1
// unless byte-identical. bound < 0 is treated as 0.
int lang_fuzzy_distance(const char *a, size_t na, const char *b, size_t nb, int bound);

// The bound the vocabulary allows for a typed word of n code points: 0 below 4 (too short to
// tell a typo from another word), 1 up to 7, 2 from 8.
int lang_fuzzy_bound(size_t n_chars);

// Code points in s[0..n) (invalid bytes count one each).
size_t lang_fuzzy_chars(const char *s, size_t n);

#endif
