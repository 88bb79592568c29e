// fuzzy.c — bounded optimal-string-alignment distance (contract: fuzzy.h).
//
// Design. Words are decoded to code points (at most LIMIT_FUZZY_WORD_CHARS, on the stack),
// then the classic three-row dynamic programme runs with a band: a cell further than bound
// from the diagonal cannot be within bound, and a row whose minimum exceeds bound ends the
// computation. Typo lookups call this only on a handful of candidates the vocabulary's
// deletion index proposes, so the band is about simplicity, not speed.
#include "fuzzy.h"

#include <stdint.h>
#include <string.h>

#include "limits.h"

// Decodes one code point at s[*i] (advancing *i); an invalid byte is its own value + 0x110000.
static uint32_t next_cp(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                            : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || *i + len > n) {
        (*i)++;
        return 0x110000u + c;
    }
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t k = 1; k < len; k++) {
        unsigned char d = s[*i + k];
        if ((d & 0xc0) != 0x80) {
            (*i)++;
            return 0x110000u + c;
        }
        cp = (cp << 6) | (d & 0x3fu);
    }
    *i += len;
    return cp;
}

// Decodes up to max code points; returns how many, or max + 1 when there are more.
static size_t decode(const char *s, size_t n, uint32_t *out, size_t max)
{
    size_t i = 0, k = 0;
    while (i < n) {
        if (k == max) {
            return max + 1;
        }
        out[k++] = next_cp((const unsigned char *)s, n, &i);
    }
    return k;
}

size_t lang_fuzzy_chars(const char *s, size_t n)
{
    size_t i = 0, k = 0;
    while (i < n) {
        (void)next_cp((const unsigned char *)s, n, &i);
        k++;
    }
    return k;
}

int lang_fuzzy_bound(size_t n_chars)
{
    return n_chars < 4 ? 0 : n_chars < 8 ? 1 : 2;
}

static int min2(int a, int b) { return a < b ? a : b; }

int lang_fuzzy_distance(const char *a, size_t na, const char *b, size_t nb, int bound)
{
    if (bound < 0) {
        bound = 0;
    }
    if (na == nb && memcmp(a, b, na) == 0) {
        return 0;
    }
    uint32_t x[LIMIT_FUZZY_WORD_CHARS], y[LIMIT_FUZZY_WORD_CHARS];
    size_t n = decode(a, na, x, LIMIT_FUZZY_WORD_CHARS);
    size_t m = decode(b, nb, y, LIMIT_FUZZY_WORD_CHARS);
    if (n > LIMIT_FUZZY_WORD_CHARS || m > LIMIT_FUZZY_WORD_CHARS) {
        return bound + 1;
    }
    size_t diff = n > m ? n - m : m - n;
    if (diff > (size_t)bound) {
        return bound + 1;
    }
    int big = bound + 1;
    int r0[LIMIT_FUZZY_WORD_CHARS + 1], r1[LIMIT_FUZZY_WORD_CHARS + 1],
        r2[LIMIT_FUZZY_WORD_CHARS + 1];
    int *pp = r0, *prev = r1, *cur = r2; // rows i-2, i-1, i
    for (size_t j = 0; j <= m; j++) {
        prev[j] = j <= (size_t)bound ? (int)j : big;
        pp[j] = big;
    }
    for (size_t i = 1; i <= n; i++) {
        int row_min = big;
        for (size_t j = 0; j <= m; j++) {
            size_t d = i > j ? i - j : j - i;
            if (d > (size_t)bound) {
                cur[j] = big;
                continue;
            }
            if (j == 0) {
                cur[0] = (int)i;
            } else {
                int cost = x[i - 1] == y[j - 1] ? 0 : 1;
                int v = min2(prev[j] + 1, min2(cur[j - 1] + 1, prev[j - 1] + cost));
                if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1]) {
                    v = min2(v, pp[j - 2] + 1);
                }
                cur[j] = v > big ? big : v;
            }
            row_min = min2(row_min, cur[j]);
        }
        if (row_min > bound) {
            return big;
        }
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] > bound ? big : prev[m];
}
