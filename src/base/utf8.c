// utf8.c — see utf8.h. The lead byte fixes the sequence length and the allowed range of the
// second byte (Unicode Table 3-7), which rules out overlong forms (E0 80..9F, F0 80..8F),
// surrogates (ED A0..BF) and code points past U+10FFFF (F4 90..) without decoding first; C0, C1
// and F5..FF never start a sequence.
#include "utf8.h"

size_t utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    size_t need = 0;
    int32_t v = 0;
    unsigned lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = (int32_t)(c & 0x1F);
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = (int32_t)(c & 0x0F);
        lo = c == 0xE0 ? 0xA0 : 0x80; // E0 80..9F would be overlong
        hi = c == 0xED ? 0x9F : 0xBF; // ED A0..BF would be a surrogate
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = (int32_t)(c & 0x07);
        lo = c == 0xF0 ? 0x90 : 0x80; // F0 80..8F would be overlong
        hi = c == 0xF4 ? 0x8F : 0xBF; // F4 90.. would be past U+10FFFF
    } else {
        return 0;
    }
    if (n < need + 1) {
        return 0;
    }
    for (size_t k = 1; k <= need; k++) {
        unsigned b = s[k];
        if (b < lo || b > hi) {
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (int32_t)(b & 0x3F);
    }
    *cp = v;
    return need + 1;
}

size_t utf8_check(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) { // ASCII runs are the common case
            i++;
            continue;
        }
        int32_t cp;
        size_t k = utf8_decode(u + i, n - i, &cp);
        if (k == 0) {
            return i;
        }
        i += k;
    }
    return n;
}
