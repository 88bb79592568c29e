// utf8.h — the one UTF-8 validator: well-formed sequences per RFC 3629 / Unicode Table 3-7 (no
// overlong forms, no surrogates U+D800..DFFF, nothing past U+10FFFF). The tokenizer, the store's
// column checks and the query parser all use it, so "valid UTF-8" and the byte offset an error
// names mean the same everywhere.
//
// Pure functions of their input; thread-safe. (utf8proc, linked by text/, has the character
// properties; it is not visible to store/ or search/, and validation needs none of them.)
#ifndef PX_UTF8_H
#define PX_UTF8_H

#include <stddef.h>
#include <stdint.h>

// Decodes the sequence at s[0..n) (n >= 1): returns its length 1..4 and *cp, or 0 when the bytes
// at s do not start a well-formed sequence (a stray continuation byte, a truncated sequence, an
// overlong form, a surrogate or a code point past U+10FFFF).
size_t utf8_decode(const unsigned char *s, size_t n, int32_t *cp);

// Offset of the first byte of the first ill-formed sequence in s[0..n), or n when all of s is
// well-formed. NUL bytes are well-formed UTF-8 (callers that refuse them check separately).
size_t utf8_check(const char *s, size_t n);

#endif
