// fuzz_tokenizer.c — tokenizer_encode on arbitrary bytes, in both UTF-8 modes, with a lowercasing
// and a cased tokenizer built once from a small vocabulary. Invariants: the call never fails
// except strict mode on invalid UTF-8 (and exactly then: replace mode counts no invalid
// sequence), the ids are [CLS] ... [SEP], within max_tokens, and all inside the vocabulary.
// Replayed over tests/fuzz/corpus/tokenizer/ by ctest; a libFuzzer target with -DPX_FUZZ=ON
// (use tests/fuzz/fuzz_tokenizer.dict).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "mem.h"
#include "tokenizer.h"

static const char *const k_vocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",  "un",  "##aff", "##able", "want",
    "##ed",  "a",     "##a",   "e",     "##e",    "cafe", "é",   "##é",   "中",     "国",
    ",",     ".",     "!",     "'",     "s",      "##s",  "i",   "σ",     "##σ",    "hello",
};
#define N_VOCAB (sizeof k_vocab / sizeof k_vocab[0])

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            __builtin_trap();                                                                   \
        }                                                                                       \
    } while (0)

static struct tokenizer *g_tok[2]; // built once, kept for the life of the process

static void build(void)
{
    for (int v = 0; v < 2; v++) {
        struct tokenizer_params p = tokenizer_default_params();
        if (v == 1) {
            p.do_lower_case = false;
            p.strip_accents = false;
            p.max_tokens = 8;
        } else {
            p.max_tokens = 64;
        }
        CHECK(tokenizer_new(k_vocab, N_VOCAB, &p, &g_tok[v], NULL) == PX_OK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (g_tok[0] == NULL) {
        build();
    }
    int32_t *ids = px_malloc(64 * sizeof *ids);
    CHECK(ids != NULL);
    const char *text = (const char *)data;
    for (int v = 0; v < 2; v++) {
        const struct tokenizer *t = g_tok[v];
        size_t max = (size_t)tokenizer_max_tokens(t);
        struct tokenizer_result res = {0};
        struct px_err err = {0};
        int rc_replace = tokenizer_encode(t, text, size, TOKENIZER_UTF8_REPLACE, ids, 64, &res,
                                          &err);
        if (size > LIMIT_TEXT_BYTES) {
            CHECK(rc_replace == PX_ELIMIT);
            continue;
        }
        CHECK(rc_replace == PX_OK);
        for (int mode = 0; mode < 2; mode++) {
            if (mode == 1) {
                size_t n_invalid = res.n_invalid_utf8;
                int rc = tokenizer_encode(t, text, size, TOKENIZER_UTF8_STRICT, ids, 64, &res,
                                          &err);
                CHECK(rc == (n_invalid > 0 ? PX_EUTF8 : PX_OK));
                if (rc != PX_OK) {
                    CHECK(strstr(err.msg, "invalid UTF-8 at byte ") != NULL);
                    break;
                }
                CHECK(res.n_invalid_utf8 == 0);
            }
            CHECK(res.n_ids >= 2 && res.n_ids <= max);
            CHECK(res.n_truncated == 0 || res.n_ids == max);
            CHECK(ids[0] == tokenizer_cls_id(t));
            CHECK(ids[res.n_ids - 1] == tokenizer_sep_id(t));
            for (size_t k = 0; k < res.n_ids; k++) {
                CHECK(ids[k] >= 0 && (size_t)ids[k] < tokenizer_vocab_size(t));
            }
        }
    }
    px_free(ids);
    return 0;
}
