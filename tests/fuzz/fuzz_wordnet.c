// fuzz_wordnet.c — lang/wordnet.c on hostile dictionary files: the input is every index, data
// and exception file at once (one buffer for all twelve), and every lookup the vocabulary makes
// runs on it: senses of the first field of each of the first lines, the synset at each
// returned offset and at each line start, base forms, the exception walk and the rule forms.
// Invariants: no crash or read outside the buffer (ASan), statuses are the documented ones,
// every word and gloss a synset returns lies inside the buffer, pointer counts within limits.
// Replayed over tests/fuzz/corpus/wordnet/ by ctest; a libFuzzer target with -DPX_FUZZ=ON.
#include <stdint.h>
#include <string.h>

#include "wordnet.h"

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            __builtin_trap();                                                                   \
        }                                                                                       \
    } while (0)

static const char *g_lo, *g_hi;

static void check_word(struct lang_wn_word w)
{
    CHECK(w.s == NULL || (w.s >= g_lo && w.s + w.n <= g_hi));
}

static int count_exc(void *user, const char *infl, size_t n, const char *base, size_t bn)
{
    CHECK(infl >= g_lo && infl + n <= g_hi && base >= g_lo && base + bn <= g_hi);
    (*(size_t *)user)++;
    return 0;
}

static struct lang_wn_synset g_ss;

static void synset_at(const struct lang_wordnet *wn, enum lang_wn_pos pos, uint32_t off)
{
    struct px_err err = {0};
    int rc = lang_wordnet_synset(wn, pos, off, &g_ss, &err);
    CHECK(rc == PX_OK || rc == PX_ENOENT || rc == PX_EFORMAT);
    if (rc != PX_OK) {
        CHECK(g_ss.n_words == 0 && g_ss.n_ptrs == 0);
        return;
    }
    CHECK(g_ss.n_words <= LIMIT_WORDNET_WORDS && g_ss.n_ptrs <= LIMIT_WORDNET_POINTERS);
    for (size_t i = 0; i < g_ss.n_words; i++) {
        check_word(g_ss.words[i]);
    }
    check_word(g_ss.gloss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    g_lo = s;
    g_hi = s + size;
    const char *bufs[12];
    size_t lens[12];
    for (int i = 0; i < 12; i++) {
        bufs[i] = s;
        lens[i] = size;
    }
    struct lang_wordnet *wn = NULL;
    struct px_err err = {0};
    CHECK(lang_wordnet_open_buffers(bufs, lens, &wn, &err) == PX_OK);
    size_t line = 0, n_lines = 0;
    while (line < size && n_lines < 64) {
        const char *nl = memchr(s + line, '\n', size - line);
        size_t end = nl != NULL ? (size_t)(nl - s) : size;
        size_t f = line;
        while (f < end && s[f] != ' ') {
            f++;
        }
        for (int pos = 0; pos < LANG_WN_N_POS; pos++) {
            uint32_t offs[LIMIT_WORDNET_SENSES];
            size_t n = 0;
            int rc = lang_wordnet_senses(wn, (enum lang_wn_pos)pos, s + line, f - line, offs,
                                         LIMIT_WORDNET_SENSES, &n, &err);
            CHECK(rc == PX_OK || rc == PX_EFORMAT);
            CHECK(n <= LIMIT_WORDNET_SENSES);
            for (size_t k = 0; k < n; k++) {
                synset_at(wn, (enum lang_wn_pos)pos, offs[k]);
            }
            synset_at(wn, (enum lang_wn_pos)pos, (uint32_t)line);
            char bases[LIMIT_WORDNET_BASES][LIMIT_WORDNET_LEMMA_BYTES];
            size_t nb = lang_wordnet_base_forms(wn, (enum lang_wn_pos)pos, s + line, f - line,
                                                bases, LIMIT_WORDNET_BASES);
            CHECK(nb <= LIMIT_WORDNET_BASES);
            for (size_t k = 0; k < nb; k++) {
                CHECK(strlen(bases[k]) < LIMIT_WORDNET_LEMMA_BYTES);
            }
            nb = lang_wordnet_rule_forms((enum lang_wn_pos)pos, s + line, f - line, bases,
                                         LIMIT_WORDNET_BASES);
            CHECK(nb <= LIMIT_WORDNET_BASES);
        }
        line = end + 1;
        n_lines++;
    }
    size_t n_exc = 0;
    (void)lang_wordnet_each_exception(wn, LANG_WN_NOUN, count_exc, &n_exc);
    lang_wordnet_close(wn);
    return 0;
}
