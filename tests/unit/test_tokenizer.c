// test_tokenizer.c — src/text/tokenizer.c on a small hand-made vocabulary: a table of texts and
// the word pieces HF's BertTokenizer gives for them (punctuation, "##" continuations, [UNK],
// CJK, accents, case, control characters, whitespace, special tokens in the text, truncation),
// words longer than the internal chunk, invalid UTF-8 in both modes, vocab.txt and
// tokenizer.json parsing and their errors, id <-> token round trips, threads, and fault
// injection on every allocation.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "limits.h"
#include "mem.h"
#include "tokenizer.h"

static const char *const k_vocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",  "un",    "##aff", "##able", "want",
    "##ed",  "wa",    "runn",  "##ing", ",",      ".",    "!",     "'",     "s",      "hello",
    "world", "##world", "cafe", "café", "Café",   "中",   "国",    "a",     "##a",    "$",
    "5",     "##0",   "i",     "σ",     "##σ",    "e",    "##e",   "é",     "A",      "##é",
    "Hello", "?",     "-",     "©",     "##s",    "##want",
};
#define N_VOCAB (sizeof k_vocab / sizeof k_vocab[0])

enum variant {
    V_DEFAULT,  // lowercase, strip accents, CJK split, max 512
    V_CASED,    // no lowercase, no accent stripping (NFC only)
    V_LOWER,    // lowercase, keep accents
    V_MAX5,     // default with max_tokens 5
    V_MAX2,     // default with max_tokens 2
    V_NO_CJK,   // default without CJK splitting
    N_VARIANTS,
};

static struct tokenizer *g_tok[N_VARIANTS];

static int setup(void **state)
{
    (void)state;
    for (int v = 0; v < N_VARIANTS; v++) {
        struct tokenizer_params p = tokenizer_default_params();
        if (v == V_CASED) {
            p.do_lower_case = false;
            p.strip_accents = false;
        } else if (v == V_LOWER) {
            p.strip_accents = false;
        } else if (v == V_MAX5) {
            p.max_tokens = 5;
        } else if (v == V_MAX2) {
            p.max_tokens = 2;
        } else if (v == V_NO_CJK) {
            p.tokenize_chinese_chars = false;
        }
        struct px_err err = {0};
        if (tokenizer_new(k_vocab, N_VOCAB, &p, &g_tok[v], &err) != PX_OK) {
            fprintf(stderr, "setup: %s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int v = 0; v < N_VARIANTS; v++) {
        tokenizer_free(g_tok[v]);
        g_tok[v] = NULL;
    }
    return 0;
}

// Encodes text and compares with want, a space-separated list of tokens ("[CLS] un ##aff").
static void expect_tokens(const char *label, const struct tokenizer *t, const char *text,
                          size_t len, const char *want, size_t want_truncated,
                          size_t want_invalid, enum tokenizer_utf8_mode mode)
{
    int32_t got[LIMIT_SEQ_TOKENS];
    struct tokenizer_result res = {0};
    struct px_err err = {0};
    int rc = tokenizer_encode(t, text, len, mode, got, LIMIT_SEQ_TOKENS, &res, &err);
    if (rc != PX_OK) {
        fail_msg("%s: encode failed: %s", label, err.msg);
    }
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", want);
    size_t k = 0;
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL;
         w = strtok_r(NULL, " ", &save), k++) {
        int32_t id = tokenizer_id(t, w);
        if (id < 0) {
            fail_msg("%s: expected token '%s' is not in the test vocabulary", label, w);
        }
        if (k >= res.n_ids || got[k] != id) {
            fail_msg("%s: position %zu: got %s (%d), want %s (%d); got %zu ids", label, k,
                     k < res.n_ids ? tokenizer_token(t, got[k]) : "(end)",
                     k < res.n_ids ? got[k] : -1, w, id, res.n_ids);
        }
    }
    if (k != res.n_ids) {
        fail_msg("%s: got %zu ids, want %zu (extra: %s)", label, res.n_ids, k,
                 tokenizer_token(t, got[k]));
    }
    if (res.n_truncated != want_truncated || res.n_invalid_utf8 != want_invalid) {
        fail_msg("%s: n_truncated %zu (want %zu), n_invalid_utf8 %zu (want %zu)", label,
                 res.n_truncated, want_truncated, res.n_invalid_utf8, want_invalid);
    }
}

// ---- the table ----

struct tcase {
    enum variant v;
    const char *text;
    const char *want;
    size_t n_truncated;
};

static const struct tcase k_cases[] = {
    // WordPiece and punctuation
    {V_DEFAULT, "unaffable", "[CLS] un ##aff ##able [SEP]", 0},
    {V_DEFAULT, "UNwanted, running!", "[CLS] un ##want ##ed , runn ##ing ! [SEP]", 0},
    {V_DEFAULT, "hello,world.", "[CLS] hello , world . [SEP]", 0},
    {V_DEFAULT, "world's", "[CLS] world ' s [SEP]", 0},
    {V_DEFAULT, "$50", "[CLS] $ 5 ##0 [SEP]", 0},
    {V_DEFAULT, "hello-world?", "[CLS] hello - world ? [SEP]", 0},
    {V_DEFAULT, "helloworld", "[CLS] hello ##world [SEP]", 0},
    {V_DEFAULT, "hellox", "[CLS] [UNK] [SEP]", 0},    // unmatched remainder: whole word
    {V_DEFAULT, "xyz hello", "[CLS] [UNK] hello [SEP]", 0},
    {V_DEFAULT, "\xc2\xabhello\xc2\xbb", "[CLS] [UNK] hello [UNK] [SEP]", 0}, // « » are Pi/Pf
    {V_DEFAULT, "hello\xe2\x80\x94world", "[CLS] hello [UNK] world [SEP]", 0}, // em dash, Pd
    {V_DEFAULT, "\xc2\xa9s", "[CLS] © ##s [SEP]", 0},  // © is So, not punctuation
    // empty and blank
    {V_DEFAULT, "", "[CLS] [SEP]", 0},
    {V_DEFAULT, "  \t\r\n  ", "[CLS] [SEP]", 0},
    // case and accents
    {V_DEFAULT, "Hello WORLD", "[CLS] hello world [SEP]", 0},
    {V_DEFAULT, "Caf\xc3\xa9", "[CLS] cafe [SEP]", 0},          // precomposed é
    {V_DEFAULT, "Cafe\xcc\x81", "[CLS] cafe [SEP]", 0},         // e + U+0301
    {V_DEFAULT, "CAF\xc3\x89", "[CLS] cafe [SEP]", 0},
    {V_CASED, "Hello", "[CLS] Hello [SEP]", 0},
    {V_CASED, "hello", "[CLS] hello [SEP]", 0},
    {V_CASED, "Caf\xc3\xa9", "[CLS] Café [SEP]", 0},
    {V_CASED, "Cafe\xcc\x81", "[CLS] Café [SEP]", 0},           // NFC composes it
    {V_CASED, "HELLO", "[CLS] [UNK] [SEP]", 0},
    {V_LOWER, "CAF\xc3\x89", "[CLS] café [SEP]", 0},
    {V_LOWER, "Cafe\xcc\x81", "[CLS] café [SEP]", 0},
    {V_DEFAULT, "\xc4\xb0", "[CLS] i [SEP]", 0},                // U+0130 -> i U+0307 -> i
    {V_DEFAULT, "\xce\xa3\xce\xa3", "[CLS] σ ##σ [SEP]", 0},    // no final sigma (per-char lower)
    // CJK
    {V_DEFAULT, "\xe4\xb8\xad\xe5\x9b\xbd", "[CLS] 中 国 [SEP]", 0},
    {V_DEFAULT, "a\xe4\xb8\xad" "a", "[CLS] a 中 a [SEP]", 0},
    {V_DEFAULT, "\xe4\xb8\xad\xcc\x81", "[CLS] 中 [SEP]", 0},   // the mark stands alone, stripped
    {V_NO_CJK, "\xe4\xb8\xad\xe5\x9b\xbd", "[CLS] [UNK] [SEP]", 0},
    // control characters and whitespace
    {V_DEFAULT, "hel\x7flo", "[CLS] hello [SEP]", 0},
    {V_DEFAULT, "he\xef\xbf\xbdllo", "[CLS] hello [SEP]", 0},   // U+FFFD dropped
    {V_DEFAULT, "hel\xe2\x80\x8blo", "[CLS] hello [SEP]", 0},   // U+200B (Cf) dropped
    {V_DEFAULT, "hel\xc2\x85lo", "[CLS] hello [SEP]", 0},       // U+0085 (Cc) dropped
    {V_DEFAULT, "hello\x0bworld", "[CLS] hello ##world [SEP]", 0}, // VT is Cc, not a space
    {V_DEFAULT, "hello\xc2\xa0world", "[CLS] hello world [SEP]", 0}, // NBSP (Zs)
    {V_DEFAULT, "hello\xe3\x80\x80world", "[CLS] hello world [SEP]", 0}, // U+3000 (Zs)
    {V_DEFAULT, "hello\xe2\x80\xa8world", "[CLS] hello world [SEP]", 0}, // U+2028: str.split()
    {V_DEFAULT, "hello\tworld\r\nhello", "[CLS] hello world hello [SEP]", 0},
    // special tokens written in the text (HF's added-tokens trie)
    {V_DEFAULT, "hello [SEP] world", "[CLS] hello [SEP] world [SEP]", 0},
    {V_DEFAULT, "hello[MASK]world", "[CLS] hello [MASK] world [SEP]", 0},
    {V_DEFAULT, "[UNK][PAD]", "[CLS] [UNK] [PAD] [SEP]", 0},
    {V_DEFAULT, "[cls]", "[CLS] [UNK] [UNK] [UNK] [SEP]", 0},   // case-sensitive
    {V_DEFAULT, "[CL\x01S]", "[CLS] [UNK] [UNK] [UNK] [SEP]", 0}, // lowercased before cleaning
    {V_CASED, "[CL\x01S] x", "[CLS] [CLS] [UNK] [SEP]", 0},     // never_split after cleaning
    {V_CASED, "[MAS\xe2\x84\xaa]", "[CLS] [MASK] [SEP]", 0},    // Kelvin sign, NFC -> K
    // truncation keeps [SEP]
    {V_MAX5, "the the the", "[CLS] the the the [SEP]", 0},
    {V_MAX5, "the the the the the", "[CLS] the the the [SEP]", 2},
    {V_MAX5, "unaffable unaffable", "[CLS] un ##aff ##able [SEP]", 3},
    {V_MAX2, "hello world", "[CLS] [SEP]", 2},
    {V_MAX2, "", "[CLS] [SEP]", 0},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        const struct tcase *c = &k_cases[i];
        char label[128];
        snprintf(label, sizeof label, "case %zu (\"%.40s\")", i, c->text);
        expect_tokens(label, g_tok[c->v], c->text, strlen(c->text), c->want, c->n_truncated, 0,
                      TOKENIZER_UTF8_STRICT);
    }
}

static void test_embedded_nul(void **state)
{
    (void)state;
    expect_tokens("NUL", g_tok[V_DEFAULT], "hel\0lo", 6, "[CLS] hello [SEP]", 0, 0,
                  TOKENIZER_UTF8_STRICT);
    expect_tokens("NUL only", g_tok[V_DEFAULT], "\0\0", 2, "[CLS] [SEP]", 0, 0,
                  TOKENIZER_UTF8_STRICT);
}

// ---- long words ----

// Repeats unit n times into an owned buffer (free()).
static char *repeat(const char *unit, size_t n, const char *tail)
{
    size_t u = strlen(unit), t = strlen(tail);
    char *s = malloc(u * n + t + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + i * u, unit, u);
    }
    memcpy(s + u * n, tail, t + 1);
    return s;
}

static void test_word_length_limit(void **state)
{
    (void)state;
    char *a100 = repeat("a", 100, "");
    char *a101 = repeat("a", 101, "");
    char *want = repeat(" ##a", 99, " [SEP]");
    char *want_full = malloc(strlen(want) + 16);
    assert_non_null(want_full);
    snprintf(want_full, strlen(want) + 16, "[CLS] a%s", want);
    expect_tokens("100 chars", g_tok[V_DEFAULT], a100, 100, want_full, 0, 0,
                  TOKENIZER_UTF8_STRICT);
    expect_tokens("101 chars", g_tok[V_DEFAULT], a101, 101, "[CLS] [UNK] [SEP]", 0, 0,
                  TOKENIZER_UTF8_STRICT);
    // The limit counts code points, after punctuation split: 101 "é" are [UNK], "a,"*60 is not.
    char *e101 = repeat("\xc3\xa9", 101, "");
    expect_tokens("101 é", g_tok[V_DEFAULT], e101, strlen(e101), "[CLS] [UNK] [SEP]", 0, 0,
                  TOKENIZER_UTF8_STRICT);
    // Runs of marks longer than the normalization chunk (no safe place to cut them)
    char *marks = repeat("\xcc\x81", 300, "a");
    expect_tokens("300 marks, stripped", g_tok[V_DEFAULT], marks, strlen(marks),
                  "[CLS] a [SEP]", 0, 0, TOKENIZER_UTF8_STRICT);
    expect_tokens("300 marks, cased", g_tok[V_CASED], marks, strlen(marks), "[CLS] [UNK] [SEP]",
                  0, 0, TOKENIZER_UTF8_STRICT);
    free(marks);
    free(a100);
    free(a101);
    free(want);
    free(want_full);
    free(e101);
}

// Words far longer than the internal normalization chunk give what the unit gives, repeated:
// the chunk cuts must not show.
static void test_long_words(void **state)
{
    (void)state;
    struct {
        enum variant v;
        const char *unit;
        const char *unit_want; // tokens of one unit, each followed by a space
        size_t n;
    } cases[] = {
        {V_DEFAULT, "a,", "a , ", 300},             // 600 pieces: truncated
        {V_DEFAULT, "ae\xcc\x81,", "a ##e , ", 150},     // decomposed é, stripped
        {V_DEFAULT, "A\xc3\xa9,", "a ##e , ", 170},
        {V_CASED, "Ae\xcc\x81,", "A ##é , ", 150},       // composed across any cut
        {V_CASED, "A\xc3\xa9,", "A ##é , ", 130},
        {V_LOWER, "AE\xcc\x81,", "a ##é , ", 99},
        {V_DEFAULT, "\xc3\xa9\xcc\x81\xcc\x81,", "e , ", 120}, // marks dropped
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = repeat(cases[i].unit, cases[i].n, "");
        char *body = repeat(cases[i].unit_want, cases[i].n, "[SEP]");
        size_t n_body = strlen(body) + 8;
        char *want = malloc(n_body);
        assert_non_null(want);
        snprintf(want, n_body, "[CLS] %s", body);
        char label[64];
        snprintf(label, sizeof label, "long word %zu", i);
        // count the pieces to know how many of them max_tokens (512) drops
        size_t n_pieces = 0;
        for (const char *p = cases[i].unit_want; *p != '\0'; p++) {
            n_pieces += *p == ' ';
        }
        n_pieces *= cases[i].n;
        if (n_pieces + 2 <= 512) {
            expect_tokens(label, g_tok[cases[i].v], text, strlen(text), want, 0, 0,
                          TOKENIZER_UTF8_STRICT);
        } else {
            int32_t ids[LIMIT_SEQ_TOKENS];
            struct tokenizer_result res = {0};
            struct px_err err = {0};
            assert_int_equal(tokenizer_encode(g_tok[cases[i].v], text, strlen(text),
                                              TOKENIZER_UTF8_STRICT, ids, LIMIT_SEQ_TOKENS, &res,
                                              &err),
                             PX_OK);
            if (res.n_ids != 512 || res.n_truncated != n_pieces - 510) {
                fail_msg("%s: n_ids %zu n_truncated %zu, want 512 and %zu", label, res.n_ids,
                         res.n_truncated, n_pieces - 510);
            }
            assert_int_equal(ids[511], tokenizer_sep_id(g_tok[cases[i].v]));
        }
        free(text);
        free(body);
        free(want);
    }
}

// ---- invalid UTF-8 ----

static void test_utf8_strict(void **state)
{
    (void)state;
    struct {
        const char *bytes;
        size_t len;
        size_t at;
    } cases[] = {
        {"ab\x80" "cd", 5, 2},              // lone continuation byte
        {"abc\xe2\x82", 5, 3},              // 3-byte sequence cut short at the end
        {"a\xc0\x80", 3, 1},                // overlong NUL
        {"\xc1\xbf", 2, 0},                 // overlong 2-byte
        {"\xe0\x80\xaf", 3, 0},             // overlong 3-byte
        {"\xf0\x80\x80\x80", 4, 0},         // overlong 4-byte
        {"xx\xed\xa0\x80", 5, 2},           // surrogate U+D800
        {"\xed\xbf\xbf", 3, 0},             // surrogate U+DFFF
        {"\xf4\x90\x80\x80", 4, 0},         // U+110000
        {"\xf5\x80\x80\x80", 4, 0},         // F5..FF never start a sequence
        {"hello \xff", 7, 6},
        {"\xfe", 1, 0},
        {"ok \xc3\xa9 \xe2\x82" "a", 9, 6}, // valid é first, then a broken sequence
        {"\xc3", 1, 0},
    };
    int32_t ids[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tokenizer_result res = {0};
        struct px_err err = {0};
        int rc = tokenizer_encode(g_tok[V_DEFAULT], cases[i].bytes, cases[i].len,
                                  TOKENIZER_UTF8_STRICT, ids, 512, &res, &err);
        char want[64];
        snprintf(want, sizeof want, "invalid UTF-8 at byte %zu", cases[i].at);
        if (rc != PX_EUTF8 || strstr(err.msg, want) == NULL) {
            fail_msg("utf8 case %zu: rc %d, message \"%s\", want PX_EUTF8 and \"%s\"", i, rc,
                     err.msg, want);
        }
    }
}

static void test_utf8_replace(void **state)
{
    (void)state;
    struct {
        const char *bytes;
        size_t len;
        const char *want;
        size_t n_invalid;
    } cases[] = {
        {"hello\xffworld", 11, "[CLS] hello [UNK] world [SEP]", 1},
        {"\xff\xfe", 2, "[CLS] [UNK] [SEP]", 1},                     // one maximal run
        {"hello\xff hello\xfe", 13, "[CLS] hello [UNK] hello [UNK] [SEP]", 2},
        {"hello \xe2\x82", 8, "[CLS] hello [UNK] [SEP]", 1},
        {"\xed\xa0\x80" "a", 4, "[CLS] [UNK] a [SEP]", 1},
        {"a\xc0\x80" "a", 4, "[CLS] a [UNK] a [SEP]", 1},
        {"\xef\xbf\xbd", 3, "[CLS] [SEP]", 0},                       // a real U+FFFD is dropped
        {"\x80hello\x80", 7, "[CLS] [UNK] hello [UNK] [SEP]", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "replace case %zu", i);
        expect_tokens(label, g_tok[V_DEFAULT], cases[i].bytes, cases[i].len, cases[i].want, 0,
                      cases[i].n_invalid, TOKENIZER_UTF8_REPLACE);
    }
}

// ---- argument checks and limits ----

static void test_encode_errors(void **state)
{
    (void)state;
    int32_t ids[512];
    struct tokenizer_result res = {0};
    struct px_err err = {0};
    assert_int_equal(tokenizer_encode(g_tok[V_DEFAULT], "a", 1, TOKENIZER_UTF8_STRICT, ids, 511,
                                      &res, &err),
                     PX_EINVAL);
    assert_non_null(strstr(err.msg, "511"));
    assert_int_equal(tokenizer_encode(g_tok[V_MAX5], "a", 1, TOKENIZER_UTF8_STRICT, ids, 5, &res,
                                      &err),
                     PX_OK);
    size_t big = (size_t)LIMIT_TEXT_BYTES + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'a', big);
    assert_int_equal(tokenizer_encode(g_tok[V_DEFAULT], text, big, TOKENIZER_UTF8_STRICT, ids,
                                      512, &res, &err),
                     PX_ELIMIT);
    assert_non_null(strstr(err.msg, "LIMIT_TEXT_BYTES"));
    // exactly at the limit is fine: one word of 1 MiB "a" is a single [UNK]
    assert_int_equal(tokenizer_encode(g_tok[V_DEFAULT], text, big - 1, TOKENIZER_UTF8_STRICT,
                                      ids, 512, &res, &err),
                     PX_OK);
    assert_int_equal(res.n_ids, 3);
    assert_int_equal(ids[1], tokenizer_unk_id(g_tok[V_DEFAULT]));
    free(text);

    struct tokenizer_params p = tokenizer_default_params();
    struct tokenizer *t = NULL;
    p.max_tokens = 1;
    assert_int_equal(tokenizer_new(k_vocab, N_VOCAB, &p, &t, &err), PX_EINVAL);
    assert_null(t);
    p.max_tokens = LIMIT_SEQ_TOKENS + 1;
    assert_int_equal(tokenizer_new(k_vocab, N_VOCAB, &p, &t, &err), PX_EINVAL);
    tokenizer_free(NULL);
}

// ---- vocabulary ----

static void test_vocab_roundtrip(void **state)
{
    (void)state;
    const struct tokenizer *t = g_tok[V_DEFAULT];
    assert_int_equal(tokenizer_vocab_size(t), N_VOCAB);
    for (size_t i = 0; i < N_VOCAB; i++) {
        assert_string_equal(tokenizer_token(t, (int32_t)i), k_vocab[i]);
        assert_int_equal(tokenizer_id(t, k_vocab[i]), (int32_t)i);
    }
    assert_null(tokenizer_token(t, -1));
    assert_null(tokenizer_token(t, (int32_t)N_VOCAB));
    assert_int_equal(tokenizer_id(t, "nope"), -1);
    assert_int_equal(tokenizer_id(t, "##"), -1);
    assert_int_equal(tokenizer_cls_id(t), 2);
    assert_int_equal(tokenizer_sep_id(t), 3);
    assert_int_equal(tokenizer_unk_id(t), 1);
    assert_int_equal(tokenizer_pad_id(t), 0);
    assert_int_equal(tokenizer_max_tokens(t), 512);
    assert_int_equal(tokenizer_max_tokens(g_tok[V_MAX5]), 5);
}

static void test_missing_special(void **state)
{
    (void)state;
    const char *names[4] = {"[CLS]", "[SEP]", "[UNK]", "[PAD]"};
    const char *all[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "x"};
    for (int k = 0; k < 4; k++) {
        const char *toks[4];
        size_t n = 0;
        for (int j = 0; j < 5; j++) {
            if (strcmp(all[j], names[k]) != 0) {
                toks[n++] = all[j];
            }
        }
        struct tokenizer *t = NULL;
        struct px_err err = {0};
        assert_int_equal(tokenizer_new(toks, n, NULL, &t, &err), PX_EFORMAT);
        assert_null(t);
        if (strstr(err.msg, names[k]) == NULL) {
            fail_msg("missing %s: message \"%s\" does not name it", names[k], err.msg);
        }
    }
}

static void test_vocab_files(void **state)
{
    (void)state;
    char dir[256], path[512];
    tu_mkdtemp(dir, sizeof dir);
    struct px_err err = {0};
    struct tokenizer *t = NULL;

    snprintf(path, sizeof path, "%s/absent.txt", dir);
    assert_int_equal(tokenizer_open_vocab(path, NULL, &t, &err), PX_ENOENT);
    assert_null(t);
    assert_int_equal(tokenizer_open_json(path, NULL, &t, &err), PX_ENOENT);

    // CRLF endings, an empty line (the "" token), a lone CR, no final newline
    tu_write_text(dir, "crlf.txt", "[PAD]\r\n\r\n[UNK]\r[CLS]\r\n[SEP]\nhello\r\nworld");
    snprintf(path, sizeof path, "%s/crlf.txt", dir);
    assert_int_equal(tokenizer_open_vocab(path, NULL, &t, &err), PX_OK);
    assert_int_equal(tokenizer_vocab_size(t), 7);
    assert_int_equal(tokenizer_id(t, ""), 1);
    assert_int_equal(tokenizer_unk_id(t), 2);
    assert_int_equal(tokenizer_cls_id(t), 3);
    assert_int_equal(tokenizer_sep_id(t), 4);
    assert_int_equal(tokenizer_id(t, "hello"), 5);
    assert_int_equal(tokenizer_id(t, "world"), 6);
    tokenizer_free(t);
    t = NULL;

    // A duplicate keeps its LAST id, like HF's load_vocab (a dict filled in file order).
    tu_write_text(dir, "dup.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nx\nx\n");
    snprintf(path, sizeof path, "%s/dup.txt", dir);
    assert_int_equal(tokenizer_open_vocab(path, NULL, &t, &err), PX_OK);
    assert_int_equal(tokenizer_vocab_size(t), 6);
    assert_int_equal(tokenizer_id(t, "x"), 5);
    assert_string_equal(tokenizer_token(t, 4), "x");
    tokenizer_free(t);
    t = NULL;

    tu_write_text(dir, "nosep.txt", "[PAD]\n[UNK]\n[CLS]\nhello\n");
    snprintf(path, sizeof path, "%s/nosep.txt", dir);
    assert_int_equal(tokenizer_open_vocab(path, NULL, &t, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "[SEP]"));
    assert_non_null(strstr(err.msg, "nosep.txt"));

    tu_write_text(dir, "bad.txt", "[PAD]\n[UNK]\n\xff\n[CLS]\n[SEP]\n");
    snprintf(path, sizeof path, "%s/bad.txt", dir);
    assert_int_equal(tokenizer_open_vocab(path, NULL, &t, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "line 3"));

    tu_write_text(dir, "empty.txt", "");
    snprintf(path, sizeof path, "%s/empty.txt", dir);
    assert_int_equal(tokenizer_open_vocab(path, NULL, &t, &err), PX_EFORMAT);

    // tokenizer.json
    tu_write_text(dir, "ok.json",
                  "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", "
                  "\"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": 100, "
                  "\"vocab\": {\"[PAD]\": 0, \"[CLS]\": 2, \"[UNK]\": 1, \"[SEP]\": 3, "
                  "\"hello\": 4, \"##\\u00e9\": 5}}}");
    snprintf(path, sizeof path, "%s/ok.json", dir);
    assert_int_equal(tokenizer_open_json(path, NULL, &t, &err), PX_OK);
    assert_int_equal(tokenizer_vocab_size(t), 6);
    assert_int_equal(tokenizer_cls_id(t), 2);
    assert_string_equal(tokenizer_token(t, 5), "##\xc3\xa9");
    tokenizer_free(t);
    t = NULL;

    struct {
        const char *name, *json, *needle;
        int rc;
    } bad[] = {
        {"gap.json", "{\"model\": {\"vocab\": {\"[PAD]\": 0, \"[CLS]\": 2, \"[UNK]\": 1, "
                     "\"[SEP]\": 4}}}", "[SEP]", PX_EFORMAT},
        {"twice.json", "{\"model\": {\"vocab\": {\"[PAD]\": 0, \"[CLS]\": 2, \"[UNK]\": 1, "
                       "\"[SEP]\": 2}}}", "id 2", PX_EFORMAT},
        {"neg.json", "{\"model\": {\"vocab\": {\"[PAD]\": -1}}}", "[PAD]", PX_EFORMAT},
        {"str.json", "{\"model\": {\"vocab\": {\"[PAD]\": \"0\"}}}", "[PAD]", PX_EFORMAT},
        {"bpe.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}", "BPE", PX_EUNSUPPORTED},
        {"prefix.json", "{\"model\": {\"continuing_subword_prefix\": \"@@\", \"vocab\": {}}}",
         "@@", PX_EUNSUPPORTED},
        {"nomodel.json", "{\"vocab\": {}}", "model", PX_EFORMAT},
        {"novocab.json", "{\"model\": {\"type\": \"WordPiece\"}}", "vocab", PX_EFORMAT},
        {"broken.json", "{\"model\": ", "JSON", PX_EFORMAT},
        {"nospecial.json", "{\"model\": {\"vocab\": {\"a\": 0}}}", "[CLS]", PX_EFORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_write_text(dir, bad[i].name, bad[i].json);
        snprintf(path, sizeof path, "%s/%s", dir, bad[i].name);
        int rc = tokenizer_open_json(path, NULL, &t, &err);
        if (rc != bad[i].rc || t != NULL || strstr(err.msg, bad[i].needle) == NULL ||
            strstr(err.msg, bad[i].name) == NULL) {
            fail_msg("%s: rc %d (want %d), message \"%s\" (want \"%s\" and the file name)",
                     bad[i].name, rc, bad[i].rc, err.msg, bad[i].needle);
        }
    }
    tu_rmtree(dir);
}

// ---- threads ----

struct thread_arg {
    const struct tokenizer *t;
    int ok;
};

static const char *const k_thread_texts[] = {
    "UNwanted, running!", "Caf\xc3\xa9 hello\xe2\x80\x94world", "\xe4\xb8\xad\xe5\x9b\xbd a",
    "the the the the", "hello [SEP] world",
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    int32_t want[5][64], got[64];
    size_t n_want[5];
    struct tokenizer_result res;
    a->ok = 1;
    for (int k = 0; k < 5; k++) {
        const char *s = k_thread_texts[k];
        if (tokenizer_encode(a->t, s, strlen(s), TOKENIZER_UTF8_STRICT, want[k], 64, &res,
                             NULL) != PX_OK) {
            a->ok = 0;
        }
        n_want[k] = res.n_ids;
    }
    for (int rep = 0; rep < 2000; rep++) {
        int k = rep % 5;
        const char *s = k_thread_texts[k];
        if (tokenizer_encode(a->t, s, strlen(s), TOKENIZER_UTF8_STRICT, got, 64, &res, NULL) !=
                PX_OK ||
            res.n_ids != n_want[k] || memcmp(got, want[k], res.n_ids * sizeof *got) != 0) {
            a->ok = 0;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct tokenizer_params p = tokenizer_default_params();
    p.max_tokens = 64;
    struct tokenizer *t = NULL;
    struct px_err err = {0};
    assert_int_equal(tokenizer_new(k_vocab, N_VOCAB, &p, &t, &err), PX_OK);
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].t = t;
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 1);
    }
    tokenizer_free(t);
}

// ---- fault injection ----

// Makes allocation n fail, for n = 1, 2, ... until the call succeeds; each failure must be
// PX_ENOMEM and leave live bytes where they were.
static void test_fault_injection(void **state)
{
    (void)state;
    char dir[256], txt[512], json[512];
    tu_mkdtemp(dir, sizeof dir);
    tu_write_text(dir, "v.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
    tu_write_text(dir, "v.json", "{\"model\": {\"vocab\": {\"[PAD]\": 0, \"[UNK]\": 1, "
                                 "\"[CLS]\": 2, \"[SEP]\": 3, \"hello\": 4}}}");
    snprintf(txt, sizeof txt, "%s/v.txt", dir);
    snprintf(json, sizeof json, "%s/v.json", dir);
    for (int which = 0; which < 3; which++) {
        int done = 0;
        for (long n = 1; n < 100 && !done; n++) {
            struct tokenizer *t = NULL;
            struct px_err err = {0};
            size_t before = px_mem_live_bytes();
            px_mem_fail_at(n);
            int rc = which == 0   ? tokenizer_new(k_vocab, N_VOCAB, NULL, &t, &err)
                     : which == 1 ? tokenizer_open_vocab(txt, NULL, &t, &err)
                                  : tokenizer_open_json(json, NULL, &t, &err);
            if (rc == PX_OK) {
                int32_t ids[512];
                struct tokenizer_result res;
                rc = tokenizer_encode(t, "hello, hello", 12, TOKENIZER_UTF8_STRICT, ids, 512,
                                      &res, &err);
            }
            int fired = px_mem_fault_fired();
            px_mem_fail_at(0);
            if (rc == PX_OK) {
                assert_int_equal(fired, 0);
                done = 1;
            } else if (rc != PX_ENOMEM || px_mem_live_bytes() != before || t != NULL) {
                fail_msg("loader %d, failing allocation %ld: rc %d (%s), live %zu -> %zu", which,
                         n, rc, err.msg, before, px_mem_live_bytes());
            }
            tokenizer_free(t);
        }
        assert_true(done);
    }
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_word_length_limit),
        cmocka_unit_test(test_long_words),
        cmocka_unit_test(test_utf8_strict),
        cmocka_unit_test(test_utf8_replace),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_vocab_roundtrip),
        cmocka_unit_test(test_missing_special),
        cmocka_unit_test(test_vocab_files),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_fault_injection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
