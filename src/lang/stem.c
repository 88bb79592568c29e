// stem.c — Snowball English stems behind a mutex (contract: stem.h).
//
// Design. libstemmer's sb_stemmer holds the word being stemmed inside itself, so two threads
// must not use one at the same time. The choices were one stemmer per thread (thread-local
// handles, created on first use, freed at thread exit — libstemmer allocates with malloc, so
// they would escape our counting allocator and our cleanup) or one stemmer and a lock. A stem
// costs well under a microsecond and the vocabulary stems a query's few words once per parse,
// so contention is negligible: one stemmer, one mutex.
//
// libstemmer allocates its own buffers with malloc (we cannot hand it px_malloc); only our
// handle goes through px_calloc, so fault injection reaches lang_stem_new's own allocation and
// sb_stemmer_new's NULL return is reported the same way.
#include "stem.h"

#include <pthread.h>
#include <string.h>

#include <libstemmer.h>

#include "limits.h"
#include "mem.h"

struct lang_stem {
    struct sb_stemmer *sb;
    pthread_mutex_t mu;
};

int lang_stem_new(struct lang_stem **out, struct px_err *err)
{
    *out = NULL;
    struct lang_stem *st = px_calloc(1, sizeof *st);
    if (st == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating a stemmer");
    }
    st->sb = sb_stemmer_new("english", NULL);
    if (st->sb == NULL) {
        px_free(st);
        return px_fail(err, PX_ENOMEM, "libstemmer could not create the English stemmer");
    }
    if (pthread_mutex_init(&st->mu, NULL) != 0) {
        sb_stemmer_delete(st->sb);
        px_free(st);
        return px_fail(err, PX_ENOMEM, "could not create the stemmer's mutex");
    }
    *out = st;
    return PX_OK;
}

void lang_stem_free(struct lang_stem *st)
{
    if (st == NULL) {
        return;
    }
    sb_stemmer_delete(st->sb);
    pthread_mutex_destroy(&st->mu);
    px_free(st);
}

int lang_stem_word(struct lang_stem *st, const char *word, size_t n, char *out, size_t cap,
                   size_t *out_len, struct px_err *err)
{
    *out_len = 0;
    if (cap == 0) {
        return px_fail(err, PX_ELIMIT, "stem buffer has no room");
    }
    out[0] = '\0';
    if (n == 0 || n > LIMIT_STEM_WORD_BYTES) { // its own stem
        if (n + 1 > cap) {
            return px_fail(err, PX_ELIMIT, "word of %zu bytes does not fit a %zu-byte buffer", n,
                           cap);
        }
        memcpy(out, word, n);
        out[n] = '\0';
        *out_len = n;
        return PX_OK;
    }
    int rc = PX_OK;
    pthread_mutex_lock(&st->mu);
    const sb_symbol *s = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)n);
    if (s == NULL) {
        rc = px_fail(err, PX_ENOMEM, "libstemmer ran out of memory stemming a word");
    } else {
        size_t len = (size_t)sb_stemmer_length(st->sb);
        if (len + 1 > cap) {
            rc = px_fail(err, PX_ELIMIT, "stem of %zu bytes does not fit a %zu-byte buffer", len,
                         cap);
        } else {
            memcpy(out, s, len);
            out[len] = '\0';
            *out_len = len;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}
