// test_lang.c — src/lang: Snowball stems (table, thread use), WordNet's files (senses, synset
// pointers, base forms, a missing directory, a hand-written hostile dictionary), and the bounded
// Damerau-Levenshtein distance (table, bound, UTF-8). The WordNet tests skip when
// /usr/share/wordnet is absent (scripts/install-deps installs wordnet-base, so CI has it).
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "fsx.h"
#include "fuzzy.h"
#include "stem.h"
#include "wordnet.h"

static void test_stem_table(void **state)
{
    (void)state;
    static const struct {
        const char *w, *stem;
    } cases[] = {
        {"doctors", "doctor"},  {"retired", "retir"},   {"retire", "retir"},
        {"renting", "rent"},    {"renters", "renter"},  {"cards", "card"},
        {"savings", "save"},    {"investments", "invest"}, {"investing", "invest"},
        {"", ""},
    };
    struct lang_stem *st = NULL;
    struct px_err err = {0};
    assert_int_equal(lang_stem_new(&st, &err), PX_OK);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[80];
        size_t n;
        assert_int_equal(lang_stem_word(st, cases[i].w, strlen(cases[i].w), out, sizeof out, &n,
                                        &err), PX_OK);
        if (strcmp(out, cases[i].stem) != 0) {
            fail_msg("stem(%s) = %s, want %s", cases[i].w, out, cases[i].stem);
        }
        assert_int_equal(n, strlen(cases[i].stem));
    }
    // too small a buffer is an error, not a truncation
    char tiny[3];
    size_t n;
    assert_int_equal(lang_stem_word(st, "doctors", 7, tiny, sizeof tiny, &n, &err), PX_ELIMIT);
    // a word past LIMIT_STEM_WORD_BYTES is its own stem
    char big[LIMIT_STEM_WORD_BYTES + 10], out[LIMIT_STEM_WORD_BYTES + 20];
    memset(big, 's', sizeof big);
    assert_int_equal(lang_stem_word(st, big, sizeof big, out, sizeof out, &n, &err), PX_OK);
    assert_int_equal(n, sizeof big);
    lang_stem_free(st);
    lang_stem_free(NULL);
}

struct stem_job {
    struct lang_stem *st;
    int bad;
};

static void *stem_thread(void *arg)
{
    struct stem_job *j = arg;
    for (int i = 0; i < 2000; i++) {
        char out[80];
        size_t n;
        struct px_err err = {0};
        const char *w = i % 2 ? "investments" : "physicians";
        const char *want = i % 2 ? "invest" : "physician";
        if (lang_stem_word(j->st, w, strlen(w), out, sizeof out, &n, &err) != PX_OK ||
            strcmp(out, want) != 0) {
            j->bad++;
        }
    }
    return NULL;
}

static void test_stem_threads(void **state)
{
    (void)state;
    struct lang_stem *st = NULL;
    struct px_err err = {0};
    assert_int_equal(lang_stem_new(&st, &err), PX_OK);
    pthread_t th[4];
    struct stem_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct stem_job){st, 0};
        assert_int_equal(pthread_create(&th[i], NULL, stem_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].bad, 0);
    }
    lang_stem_free(st);
}

static int has_word(const struct lang_wn_synset *ss, const char *w)
{
    for (size_t i = 0; i < ss->n_words; i++) {
        if (ss->words[i].n == strlen(w) && memcmp(ss->words[i].s, w, ss->words[i].n) == 0) {
            return 1;
        }
    }
    return 0;
}

static struct lang_wordnet *open_or_skip(void)
{
    if (!fsx_is_file("/usr/share/wordnet/index.noun")) {
        return NULL;
    }
    struct lang_wordnet *wn = NULL;
    struct px_err err = {0};
    assert_int_equal(lang_wordnet_open(NULL, &wn, &err), PX_OK);
    return wn;
}

static void test_wordnet_lookups(void **state)
{
    (void)state;
    struct lang_wordnet *wn = open_or_skip();
    if (wn == NULL) {
        skip();
    }
    struct px_err err = {0};
    uint32_t offs[LIMIT_WORDNET_SENSES];
    size_t n;
    static struct lang_wn_synset ss, tgt;
    // lawyer and attorney share a synset
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "Lawyer", 6, offs, 8, &n, &err),
                     PX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, offs[0], &ss, &err), PX_OK);
    assert_true(has_word(&ss, "attorney"));
    assert_true(ss.gloss.n > 10);
    // Dallas is part of Texas (a part holonym), and TX is Texas
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "dallas", 6, offs, 8, &n, &err),
                     PX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, offs[0], &ss, &err), PX_OK);
    int found = 0;
    for (size_t i = 0; i < ss.n_ptrs; i++) {
        if (ss.ptrs[i].kind == LANG_WN_PTR_HOLONYM) {
            assert_int_equal(lang_wordnet_synset(wn, ss.ptrs[i].pos, ss.ptrs[i].offset, &tgt,
                                                 &err), PX_OK);
            found |= has_word(&tgt, "Texas") && has_word(&tgt, "TX");
        }
    }
    assert_true(found);
    // multi-word lemmas with spaces
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "health professional", 19, offs, 8,
                                         &n, &err), PX_OK);
    assert_int_equal(n, 1);
    // unknown lemma: zero senses, no error
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "qqqzzz", 6, offs, 8, &n, &err),
                     PX_OK);
    assert_int_equal(n, 0);
    // an offset in the middle of a line is not a synset
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, offs[0] + 1, &ss, &err), PX_ENOENT);
    lang_wordnet_close(wn);
}

static void test_wordnet_base_forms(void **state)
{
    (void)state;
    struct lang_wordnet *wn = open_or_skip();
    if (wn == NULL) {
        skip();
    }
    static const struct {
        enum lang_wn_pos pos;
        const char *w, *base;
    } cases[] = {
        {LANG_WN_NOUN, "women", "woman"},      {LANG_WN_NOUN, "retirees", "retiree"},
        {LANG_WN_NOUN, "children", "child"},   {LANG_WN_NOUN, "boxes", "box"},
        {LANG_WN_NOUN, "Physicians", "physician"}, {LANG_WN_VERB, "renting", "rent"},
        {LANG_WN_VERB, "lying", "lie"},        {LANG_WN_ADJ, "wealthier", "wealthy"},
        {LANG_WN_NOUN, "glass", "glass"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[LIMIT_WORDNET_BASES][LIMIT_WORDNET_LEMMA_BYTES];
        size_t n = lang_wordnet_base_forms(wn, cases[i].pos, cases[i].w, strlen(cases[i].w), out,
                                           LIMIT_WORDNET_BASES);
        int ok = 0;
        for (size_t k = 0; k < n; k++) {
            ok |= strcmp(out[k], cases[i].base) == 0;
        }
        if (!ok) {
            fail_msg("base forms of %s lack %s (%zu found)", cases[i].w, cases[i].base, n);
        }
    }
    char out[LIMIT_WORDNET_BASES][LIMIT_WORDNET_LEMMA_BYTES];
    assert_int_equal(lang_wordnet_base_forms(wn, LANG_WN_NOUN, "xqzv", 4, out, 4), 0);
    lang_wordnet_close(wn);
}

static void test_wordnet_missing(void **state)
{
    (void)state;
    struct lang_wordnet *wn = NULL;
    struct px_err err = {0};
    assert_int_equal(lang_wordnet_open("/nonexistent/wordnet", &wn, &err), PX_ENOENT);
    assert_null(wn);
    assert_non_null(strstr(err.msg, "index.noun"));
    lang_wordnet_close(NULL);
}

// A hand-written dictionary: a good synset, one whose pointer count lies, one whose word count
// runs past the line, an index line whose counts the line does not hold.
static void test_wordnet_hostile(void **state)
{
    (void)state;
    static const char index_noun[] = "  1 license line\n"
                                     "alpha n 1 1 @ 1 0 00000000\n"
                                     "beta n 2 0 2 0 00000042 99999999\n"
                                     "omega n 9 0\n";
    static const char line0[] = "00000000 03 n 02 alpha 0 first 0 001 @ 00000000 n 0000 | x\n";
    char data_noun[256];
    size_t o1 = sizeof line0 - 1;
    int k = snprintf(data_noun, sizeof data_noun, "%s%08zu 03 n 01 beta 0 005 @ 0\n", line0, o1);
    size_t o2 = (size_t)k;
    k += snprintf(data_noun + k, sizeof data_noun - (size_t)k, "%08zu 03 n ff zz\n", o2);
    const char *bufs[12] = {index_noun, index_noun, index_noun, index_noun,
                            data_noun,  data_noun,  data_noun,  data_noun};
    size_t lens[12];
    for (int i = 0; i < 4; i++) {
        lens[i] = sizeof index_noun - 1;
        lens[4 + i] = (size_t)k;
    }
    struct lang_wordnet *wn = NULL;
    struct px_err err = {0};
    assert_int_equal(lang_wordnet_open_buffers(bufs, lens, &wn, &err), PX_OK);
    uint32_t offs[8];
    size_t n;
    static struct lang_wn_synset ss;
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "alpha", 5, offs, 8, &n, &err), PX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, offs[0], &ss, &err), PX_OK);
    assert_int_equal(ss.n_words, 2);
    assert_int_equal(ss.n_ptrs, 1);
    assert_int_equal(ss.ptrs[0].offset, 0);
    assert_int_equal(ss.gloss.n, 1);
    // beta's synset says 5 pointers and has a broken one: a format error naming the offset
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, (uint32_t)o1, &ss, &err), PX_EFORMAT);
    assert_int_equal(ss.n_ptrs, 0);
    // ff words on a line that has one
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, (uint32_t)o2, &ss, &err), PX_EFORMAT);
    // offsets that start no line, or lie past the end
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, 3, &ss, &err), PX_ENOENT);
    assert_int_equal(lang_wordnet_synset(wn, LANG_WN_NOUN, 99999999, &ss, &err), PX_ENOENT);
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "beta", 4, offs, 8, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    // "omega n 9 0": counts that the line does not hold
    assert_int_equal(lang_wordnet_senses(wn, LANG_WN_NOUN, "omega", 5, offs, 8, &n, &err),
                     PX_EFORMAT);
    assert_non_null(strstr(err.msg, "omega"));
    lang_wordnet_close(wn);
}

static void test_fuzzy_table(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int bound, want;
    } cases[] = {
        {"abve", "above", 2, 1},         {"custmers", "customers", 2, 1},
        {"credt", "credit", 2, 1},       {"teh", "the", 2, 1},
        {"credit", "credit", 0, 0},      {"kitten", "sitting", 3, 3},
        {"kitten", "sitting", 2, 3},     {"", "abc", 5, 3},
        {"abc", "", 1, 2},               {"caf\xc3\xa9", "cafe", 1, 1},
        {"ca", "abc", 3, 3},             {"mortgage", "mortage", 1, 1},
        {"platinum", "platnium", 1, 1},  {"xyz", "abc", 1, 2},
        {"a\xff", "a", 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int d = lang_fuzzy_distance(cases[i].a, strlen(cases[i].a), cases[i].b,
                                    strlen(cases[i].b), cases[i].bound);
        if (d != cases[i].want) {
            fail_msg("d(%s, %s; %d) = %d, want %d", cases[i].a, cases[i].b, cases[i].bound, d,
                     cases[i].want);
        }
    }
    assert_int_equal(lang_fuzzy_bound(3), 0);
    assert_int_equal(lang_fuzzy_bound(4), 1);
    assert_int_equal(lang_fuzzy_bound(8), 2);
    assert_int_equal(lang_fuzzy_chars("caf\xc3\xa9", 5), 4);
    // past LIMIT_FUZZY_WORD_CHARS: bound + 1 unless identical
    char a[LIMIT_FUZZY_WORD_CHARS + 5], b[LIMIT_FUZZY_WORD_CHARS + 5];
    memset(a, 'a', sizeof a);
    memcpy(b, a, sizeof b);
    assert_int_equal(lang_fuzzy_distance(a, sizeof a, b, sizeof b, 2), 0);
    b[0] = 'b';
    assert_int_equal(lang_fuzzy_distance(a, sizeof a, b, sizeof b, 2), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stem_table),       cmocka_unit_test(test_stem_threads),
        cmocka_unit_test(test_wordnet_lookups),  cmocka_unit_test(test_wordnet_base_forms),
        cmocka_unit_test(test_wordnet_missing),  cmocka_unit_test(test_wordnet_hostile),
        cmocka_unit_test(test_fuzzy_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
