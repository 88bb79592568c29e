// stem.h — English word stems (Snowball's English stemmer, Debian libstemmer-dev).
//
// "doctors" → "doctor", "retired" / "retire" → "retir", "renting" → "rent". A stem is a match
// key, not a word: it is compared with other stems, never shown. Input is one lower-case word
// (ASCII letters; other bytes pass through Snowball unchanged).
//
// Thread-safety: one struct lang_stem may be shared by any number of threads (a mutex guards
// libstemmer's sb_stemmer, which keeps per-call state inside itself).
#ifndef PX_LANG_STEM_H
#define PX_LANG_STEM_H

#include <stddef.h>

#include "err.h"

struct lang_stem;

// Returns owned stemmer in *out (lang_stem_free). PX_ENOMEM.
int lang_stem_new(struct lang_stem **out, struct px_err *err);
// NULL is a no-op.
void lang_stem_free(struct lang_stem *st);

// Writes the stem of word[0..n) into out[cap] (NUL-terminated) and its length into *out_len.
// A word longer than LIMIT_STEM_WORD_BYTES, or empty, is its own stem. PX_ELIMIT when the stem
// does not fit in cap; PX_ENOMEM when libstemmer's buffer could not grow.
int lang_stem_word(struct lang_stem *st, const char *word, size_t n, char *out, size_t cap,
                   size_t *out_len, struct px_err *err);

#endif
