// tokenizer.h — BERT WordPiece tokenizer, identical in output to Hugging Face's BertTokenizer.
//
// Pipeline (per text): validate UTF-8 -> clean (drop NUL, U+FFFD, control chars; whitespace ->
// ' ') -> space around CJK ideographs -> split on whitespace -> per word: lowercase, NFD, drop
// combining marks (when lowercasing) -> split on punctuation -> greedy longest-match WordPiece
// with "##" continuations ([UNK] for words over 100 chars or with no match) -> [CLS] ... [SEP],
// truncated to max_tokens keeping [SEP]. As in HF, the special tokens ([CLS] [SEP] [UNK] [PAD]
// [MASK]) written literally in the text become their own ids.
//
// A struct tokenizer is immutable after open: tokenizer_encode may be called from many threads
// at once on the same tokenizer.
#ifndef PX_TOKENIZER_H
#define PX_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tokenizer;

struct tokenizer_params {
    bool do_lower_case;          // lowercase (default true, as tokenizer_config.json says)
    bool strip_accents;          // NFD + drop Mn marks (default: follows do_lower_case, as HF's
                                 // strip_accents=null does)
    bool tokenize_chinese_chars; // put spaces around CJK ideographs (default true)
    int max_tokens;              // output length cap including [CLS] and [SEP] (default 512;
                                 // >= 2 and <= LIMIT_SEQ_TOKENS)
};

struct tokenizer_params tokenizer_default_params(void);

// ---- lifecycle ----
// Loads a vocab.txt (one token per line, id = line number). The vocab must contain [CLS],
// [SEP], [UNK] and [PAD]; errors name the file and line. Returns owned *out (tokenizer_free).
int tokenizer_open_vocab(const char *path, const struct tokenizer_params *params,
                         struct tokenizer **out, struct px_err *err);
// Loads the vocab from a tokenizer.json ("model": {"type": "WordPiece", "vocab": {...}}).
int tokenizer_open_json(const char *path, const struct tokenizer_params *params,
                        struct tokenizer **out, struct px_err *err);
// Builds a tokenizer from n tokens (id = index); for tests and callers that hold a vocab already.
// tokens are copied.
int tokenizer_new(const char *const *tokens, size_t n, const struct tokenizer_params *params,
                  struct tokenizer **out, struct px_err *err);
// NULL is a no-op.
void tokenizer_free(struct tokenizer *t);

// ---- encoding ----
enum tokenizer_utf8_mode {
    TOKENIZER_UTF8_STRICT = 0,  // invalid UTF-8 is PX_EUTF8 naming the byte offset
    TOKENIZER_UTF8_REPLACE = 1, // each invalid sequence becomes an [UNK] token and is counted
};

struct tokenizer_result {
    size_t n_ids;          // ids written, including [CLS] and [SEP]
    size_t n_truncated;    // word pieces dropped to fit max_tokens
    size_t n_invalid_utf8; // invalid sequences replaced (TOKENIZER_UTF8_REPLACE only)
};

// Encodes len bytes of text (need not be NUL-terminated; embedded NULs are dropped as control
// characters). ids: (cap) with cap >= max_tokens. Returns PX_OK, PX_EUTF8, PX_ELIMIT (text over
// LIMIT_TEXT_BYTES), PX_EINVAL (cap too small) or PX_ENOMEM.
int tokenizer_encode(const struct tokenizer *t, const char *text, size_t len,
                     enum tokenizer_utf8_mode mode, int32_t *ids, size_t cap,
                     struct tokenizer_result *res, struct px_err *err);

// ---- vocabulary ----
size_t tokenizer_vocab_size(const struct tokenizer *t);
// Id of a token, or -1 when absent.
int32_t tokenizer_id(const struct tokenizer *t, const char *token);
// Token text of an id (borrowed, valid while t lives), or NULL when out of range.
const char *tokenizer_token(const struct tokenizer *t, int32_t id);
int32_t tokenizer_cls_id(const struct tokenizer *t);
int32_t tokenizer_sep_id(const struct tokenizer *t);
int32_t tokenizer_unk_id(const struct tokenizer *t);
int32_t tokenizer_pad_id(const struct tokenizer *t);
int tokenizer_max_tokens(const struct tokenizer *t);

#endif
