// tokenizer.c — BERT WordPiece, id for id what Hugging Face's slow BertTokenizer produces
// (transformers/models/bert/tokenization_bert.py plus PreTrainedTokenizer.tokenize).
//
// Vocabulary: one allocation per tokenizer (C8): [struct | off (n+1) | slots | pool]. Token i is
// pool[off[i] .. off[i+1] - 1), NUL-terminated; slots is an open-addressing (linear probing) hash
// table of id + 1 (0 = empty). A token listed twice maps to its LAST id, as HF's load_vocab does
// (it fills a dict in file order); tokenizer_token still returns each line's own text.
//
// Encoding streams over the text once, with no heap use; every buffer is on the stack and bounded:
//   bytes --decode+validate--> code points --clean / CJK / whitespace--> a word's raw code points
//   (raw[], at most RAW_CAP) --lowercase, NFD+drop Mn or NFC--> normalized code points
//   --punctuation split--> pieces (piece[], at most 101 code points kept) --WordPiece--> ids.
// A word longer than RAW_CAP is normalized in chunks, cut just before a "safe starter" (a code
// point with combining class 0 that no canonical composition takes as its second element), so
// chunking changes nothing. Only a run of more than RAW_CAP / 2 code points with no safe starter
// (combining marks or Hangul jamo) is cut anywhere; such a run sits in one piece of over 100 code
// points, which is [UNK] either way, unless accents are stripped, which drop the marks anyway
// (the one gap: such a word that strips down to a special token's text stays ordinary text).
//
// Matching HF, in the order HF applies it:
//  - PreTrainedTokenizer.tokenize lowercases character by character (a regex with "(.+?)"), so
//    there is no final-sigma rule, but U+0130 becomes "i" U+0307 (Python's full lowercase).
//    The special tokens ([CLS] [SEP] [UNK] [PAD] [MASK], case-sensitive, anywhere in the raw
//    text) are cut out by its trie and become their own ids. Without lowercasing, a word that
//    spells one only once cleaned and normalized ("[CL\x00S]") is one too (never_split).
//  - _clean_text drops U+0000, U+FFFD and category C* except \t \n \r; those and Zs are spaces.
//  - Python's str.split() also splits on U+2028 and U+2029 (Zl, Zp), which cleaning keeps.
//  - The text is NFC-normalized before the word split; per word lower() and, with accents
//    stripped, NFD minus Mn (NFD(NFC(x)) == NFD(x), so the NFC step only matters without it).
// Invalid UTF-8 has no HF counterpart: strict mode rejects it, replace mode turns each maximal
// run of undecodable bytes into one [UNK] that stands as its own word.
#include "tokenizer.h"

#include <string.h>

#include <utf8proc.h>

#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "utf8.h"

#define N_SPECIAL 5
#define RAW_CAP 256               // code points of one word held before normalizing a chunk
#define NORM_CAP (RAW_CAP * 4)    // NFD expands at most 4x (UAX #15); lowercasing U+0130 gives 2
#define PIECE_CAP (LIMIT_WORDPIECE_WORD_CHARS + 1)

struct special {
    const char *text; // borrowed from the pool
    size_t len;
    int32_t id;
};

struct tokenizer {
    struct tokenizer_params params;
    size_t n_tokens;
    uint32_t *off;          // (n_tokens + 1) pool offsets
    uint32_t *slots;        // (mask + 1) id + 1, 0 = empty
    uint32_t mask;
    char *pool;             // tokens, each NUL-terminated
    size_t max_token_bytes; // longest token: WordPiece never looks up anything longer
    int32_t cls, sep, unk, pad;
    int n_special;
    struct special special[N_SPECIAL]; // matched in the raw text, like HF's added-tokens trie
};

struct span {
    const char *p;
    size_t len;
};

struct tokenizer_params tokenizer_default_params(void)
{
    struct tokenizer_params p = {
        .do_lower_case = true,
        .strip_accents = true,
        .tokenize_chinese_chars = true,
        .max_tokens = 512,
    };
    return p;
}

// ---- UTF-8 and character classes ----

static size_t utf8_encode(int32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

// HF _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126 (so "$", "^", "`" count), or P*.
static bool is_punct(int32_t cp)
{
    if (cp < 0x80) {
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    }
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

// HF _is_chinese_char: the CJK Unified Ideographs blocks and their compatibility blocks.
static bool is_cjk(int32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// A code point a word may be cut before without changing NFC or NFD of either side: combining
// class 0, and never the second element of a canonical composition (those are marks, Hangul
// jamo and a few Indic vowel signs, all of them M* or jamo).
static bool is_safe_starter(int32_t cp)
{
    if (cp < 0x80) {
        return true;
    }
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    if (p->combining_class != 0) {
        return false;
    }
    if (p->category >= UTF8PROC_CATEGORY_MN && p->category <= UTF8PROC_CATEGORY_ME) {
        return false;
    }
    return !((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97F) ||
             (cp >= 0xD7B0 && cp <= 0xD7FF));
}

// ---- vocabulary ----

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a, then a final mix for the low bits
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 32;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static int32_t vocab_find(const struct tokenizer *t, const char *p, size_t n)
{
    uint32_t i = (uint32_t)hash_bytes(p, n) & t->mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            return -1;
        }
        uint32_t id = s - 1;
        size_t len = t->off[id + 1] - t->off[id] - 1;
        if (len == n && memcmp(t->pool + t->off[id], p, n) == 0) {
            return (int32_t)id;
        }
        i = (i + 1) & t->mask;
    }
}

static void vocab_insert(struct tokenizer *t, uint32_t id)
{
    const char *p = t->pool + t->off[id];
    size_t n = t->off[id + 1] - t->off[id] - 1;
    uint32_t i = (uint32_t)hash_bytes(p, n) & t->mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            t->slots[i] = id + 1;
            return;
        }
        uint32_t o = s - 1;
        size_t len = t->off[o + 1] - t->off[o] - 1;
        if (len == n && memcmp(t->pool + t->off[o], p, n) == 0) {
            t->slots[i] = id + 1; // a later duplicate wins, as in HF's dict
            return;
        }
        i = (i + 1) & t->mask;
    }
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

// Builds a tokenizer from n token spans (id = index). what names the source and unit + base say
// how an index appears in messages ("line" counted from 1, "token" from 0).
static int build(const struct span *toks, size_t n, const struct tokenizer_params *params,
                 const char *what, const char *unit, size_t base, struct tokenizer **out,
                 struct px_err *err)
{
    int rc = PX_EINVAL;
    struct tokenizer *t = NULL;
    struct tokenizer_params p = params != NULL ? *params : tokenizer_default_params();

    if (p.max_tokens < 2 || p.max_tokens > LIMIT_SEQ_TOKENS) {
        rc = px_fail(err, PX_EINVAL, "max_tokens is %d, outside 2..%d", p.max_tokens,
                     LIMIT_SEQ_TOKENS);
        goto done;
    }
    if (n > LIMIT_VOCAB_TOKENS) {
        rc = px_fail(err, PX_ELIMIT, "%s: %zu tokens, over LIMIT_VOCAB_TOKENS (%d)", what, n,
                     LIMIT_VOCAB_TOKENS);
        goto done;
    }
    size_t pool_bytes = 0, max_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (toks[i].p == NULL && toks[i].len > 0) {
            rc = px_fail(err, PX_EINVAL, "%s: %s %zu is NULL", what, unit, i + base);
            goto done;
        }
        if (toks[i].len > LIMIT_VOCAB_TOKEN_BYTES) {
            rc = px_fail(err, PX_ELIMIT, "%s: %s %zu is %zu bytes, over LIMIT_VOCAB_TOKEN_BYTES (%d)",
                         what, unit, i + base, toks[i].len, LIMIT_VOCAB_TOKEN_BYTES);
            goto done;
        }
        size_t bad = utf8_check(toks[i].p, toks[i].len);
        if (bad != toks[i].len) {
            rc = px_fail(err, PX_EFORMAT, "%s: %s %zu: invalid UTF-8 at byte %zu", what, unit,
                         i + base, bad);
            goto done;
        }
        pool_bytes += toks[i].len + 1;
        max_len = toks[i].len > max_len ? toks[i].len : max_len;
    }
    size_t n_slots = 16;
    while (n_slots < 2 * n) {
        n_slots *= 2;
    }
    size_t at_off = align8(sizeof *t);
    size_t at_slots = at_off + align8((n + 1) * sizeof(uint32_t));
    size_t at_pool = at_slots + n_slots * sizeof(uint32_t);
    unsigned char *block = px_calloc(1, at_pool + pool_bytes);
    if (block == NULL) {
        rc = px_fail(err, PX_ENOMEM, "%s: out of memory for %zu tokens", what, n);
        goto done;
    }
    t = (struct tokenizer *)block;
    t->params = p;
    t->n_tokens = n;
    t->off = (uint32_t *)(block + at_off);
    t->slots = (uint32_t *)(block + at_slots);
    t->mask = (uint32_t)(n_slots - 1);
    t->pool = (char *)(block + at_pool);
    t->max_token_bytes = max_len;
    uint32_t o = 0;
    for (size_t i = 0; i < n; i++) {
        t->off[i] = o;
        if (toks[i].len > 0) {
            memcpy(t->pool + o, toks[i].p, toks[i].len);
        }
        o += (uint32_t)toks[i].len + 1; // calloc'ed: the NUL is there already
    }
    t->off[n] = o;
    for (size_t i = 0; i < n; i++) {
        vocab_insert(t, (uint32_t)i);
    }

    static const char *const names[N_SPECIAL] = {"[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"};
    int32_t ids[N_SPECIAL];
    for (int k = 0; k < N_SPECIAL; k++) {
        ids[k] = vocab_find(t, names[k], strlen(names[k]));
        if (ids[k] < 0 && k < 4) { // [MASK] is optional: encoding never emits it
            rc = px_fail(err, PX_EFORMAT, "%s: vocabulary has no %s token", what, names[k]);
            goto done;
        }
        if (ids[k] >= 0) {
            t->special[t->n_special].text = t->pool + t->off[ids[k]];
            t->special[t->n_special].len = strlen(names[k]);
            t->special[t->n_special].id = ids[k];
            t->n_special++;
        }
    }
    t->cls = ids[0];
    t->sep = ids[1];
    t->unk = ids[2];
    t->pad = ids[3];

    *out = t;
    t = NULL;
    rc = PX_OK;
done:
    px_free(t);
    return rc;
}

int tokenizer_new(const char *const *tokens, size_t n, const struct tokenizer_params *params,
                  struct tokenizer **out, struct px_err *err)
{
    int rc = PX_EINVAL;
    struct span *spans = NULL;
    if (out == NULL || (tokens == NULL && n > 0)) {
        rc = px_fail(err, PX_EINVAL, "tokenizer_new: NULL argument");
        goto done;
    }
    *out = NULL;
    if (n > LIMIT_VOCAB_TOKENS) {
        rc = px_fail(err, PX_ELIMIT, "vocab: %zu tokens, over LIMIT_VOCAB_TOKENS (%d)", n,
                     LIMIT_VOCAB_TOKENS);
        goto done;
    }
    spans = px_malloc((n > 0 ? n : 1) * sizeof *spans);
    if (spans == NULL) {
        rc = px_fail(err, PX_ENOMEM, "vocab: out of memory for %zu tokens", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        spans[i].p = tokens[i];
        spans[i].len = tokens[i] != NULL ? strlen(tokens[i]) : 1; // 1: build reports the NULL
    }
    rc = build(spans, n, params, "vocab", "token", 0, out, err);
done:
    px_free(spans);
    return rc;
}

int tokenizer_open_vocab(const char *path, const struct tokenizer_params *params,
                         struct tokenizer **out, struct px_err *err)
{
    int rc = PX_EINVAL;
    char *text = NULL;
    struct span *spans = NULL;
    size_t len = 0;
    if (out == NULL || path == NULL) {
        rc = px_fail(err, PX_EINVAL, "tokenizer_open_vocab: NULL argument");
        goto done;
    }
    *out = NULL;
    rc = fsx_read_file(path, LIMIT_TOKENIZER_FILE_BYTES, &text, &len, err);
    if (rc != PX_OK) {
        goto done;
    }
    // Python's readlines() in text mode: "\n", "\r\n" and a lone "\r" each end a line; a last
    // line without one still counts, and an empty line is the empty-string token.
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n' || text[i] == '\r') {
            n++;
            if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
                i++;
            }
        }
    }
    if (len > 0 && text[len - 1] != '\n' && text[len - 1] != '\r') {
        n++;
    }
    if (n > LIMIT_VOCAB_TOKENS) {
        rc = px_fail(err, PX_ELIMIT, "%s: %zu lines, over LIMIT_VOCAB_TOKENS (%d)", path, n,
                     LIMIT_VOCAB_TOKENS);
        goto done;
    }
    spans = px_malloc((n > 0 ? n : 1) * sizeof *spans);
    if (spans == NULL) {
        rc = px_fail(err, PX_ENOMEM, "%s: out of memory for %zu lines", path, n);
        goto done;
    }
    size_t k = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n' || text[i] == '\r') {
            spans[k].p = text + start;
            spans[k].len = i - start;
            k++;
            if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
                i++;
            }
            start = i + 1;
        }
    }
    if (start < len) {
        spans[k].p = text + start;
        spans[k].len = len - start;
        k++;
    }
    rc = build(spans, k, params, path, "line", 1, out, err);
done:
    px_free(spans);
    px_free(text);
    return rc;
}

int tokenizer_open_json(const char *path, const struct tokenizer_params *params,
                        struct tokenizer **out, struct px_err *err)
{
    int rc = PX_EINVAL;
    cJSON *root = NULL;
    struct span *spans = NULL;
    if (out == NULL || path == NULL) {
        rc = px_fail(err, PX_EINVAL, "tokenizer_open_json: NULL argument");
        goto done;
    }
    *out = NULL;
    rc = jsonx_parse_file(path, LIMIT_TOKENIZER_FILE_BYTES, &root, err);
    if (rc != PX_OK) {
        goto done;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) {
        rc = px_fail(err, PX_EFORMAT, "%s: no \"model\" object", path);
        goto done;
    }
    const char *type = NULL, *prefix = NULL;
    int64_t max_chars = 0;
    rc = jsonx_get_string(model, "type", false, "WordPiece", &type, path, err);
    if (rc == PX_OK && strcmp(type, "WordPiece") != 0) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: model.type is \"%.64s\", only WordPiece is supported",
                     path, type);
    }
    if (rc == PX_OK) {
        rc = jsonx_get_string(model, "continuing_subword_prefix", false, "##", &prefix, path, err);
    }
    if (rc == PX_OK && strcmp(prefix, "##") != 0) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: model.continuing_subword_prefix is \"%.64s\", only "
                     "\"##\" is supported", path, prefix);
    }
    if (rc == PX_OK) {
        rc = jsonx_get_int(model, "max_input_chars_per_word", false, LIMIT_WORDPIECE_WORD_CHARS,
                           0, INT32_MAX, &max_chars, path, err);
    }
    if (rc == PX_OK && max_chars != LIMIT_WORDPIECE_WORD_CHARS) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: model.max_input_chars_per_word is %lld, only %d is "
                     "supported", path, (long long)max_chars, LIMIT_WORDPIECE_WORD_CHARS);
    }
    if (rc != PX_OK) {
        goto done;
    }
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab)) {
        rc = px_fail(err, PX_EFORMAT, "%s: no \"model.vocab\" object", path);
        goto done;
    }
    size_t n = 0;
    for (const cJSON *it = vocab->child; it != NULL; it = it->next) {
        n++;
    }
    if (n > LIMIT_VOCAB_TOKENS) {
        rc = px_fail(err, PX_ELIMIT, "%s: %zu tokens, over LIMIT_VOCAB_TOKENS (%d)", path, n,
                     LIMIT_VOCAB_TOKENS);
        goto done;
    }
    spans = px_calloc(n > 0 ? n : 1, sizeof *spans);
    if (spans == NULL) {
        rc = px_fail(err, PX_ENOMEM, "%s: out of memory for %zu tokens", path, n);
        goto done;
    }
    // The ids must be 0..n-1, each once: a gap would leave an id without a token.
    for (const cJSON *it = vocab->child; it != NULL; it = it->next) {
        double d = it->valuedouble;
        if (!cJSON_IsNumber(it) || !(d >= 0 && d < (double)n) || d != (double)(size_t)d) {
            rc = px_fail(err, PX_EFORMAT, "%s: model.vocab[\"%.64s\"]: id must be an integer in "
                         "0..%zu", path, it->string, n - 1);
            goto done;
        }
        size_t id = (size_t)d;
        if (spans[id].p != NULL) {
            rc = px_fail(err, PX_EFORMAT, "%s: model.vocab: id %zu is used by \"%.64s\" and "
                         "\"%.64s\"", path, id, spans[id].p, it->string);
            goto done;
        }
        spans[id].p = it->string;
        spans[id].len = strlen(it->string);
    }
    rc = build(spans, n, params, path, "token", 0, out, err);
done:
    px_free(spans);
    cJSON_Delete(root);
    return rc;
}

void tokenizer_free(struct tokenizer *t)
{
    px_free(t);
}

// ---- encoding ----

struct enc {
    const struct tokenizer *t;
    int32_t *ids;         // (max_tokens): [CLS] at 0, pieces from 1
    size_t n_ids;         // ids written so far, [CLS] included
    size_t limit;         // pieces stop at this n_ids, leaving room for [SEP]
    size_t n_truncated;
    int32_t raw[RAW_CAP]; // the current word's cleaned code points, not yet normalized
    size_t n_raw;
    int32_t piece[PIECE_CAP]; // the current piece after normalization (first PIECE_CAP kept)
    size_t n_piece;           // its full length in code points
    bool drained;             // part of the current word was normalized already
};

static void emit(struct enc *e, int32_t id)
{
    if (e->n_ids < e->limit) {
        e->ids[e->n_ids++] = id;
    } else {
        e->n_truncated++;
    }
}

// Greedy longest-match-first WordPiece over the piece (1..100 code points).
static void wordpiece(struct enc *e)
{
    const struct tokenizer *t = e->t;
    size_t n = e->n_piece;
    char buf[2 + 4 * PIECE_CAP];    // 2 spare bytes in front for the first "##"
    uint16_t at[PIECE_CAP + 1];     // (n + 1) byte offset of each code point, relative to buf + 2
    int32_t sub[PIECE_CAP];
    size_t n_sub = 0;
    at[0] = 0;
    for (size_t k = 0; k < n; k++) {
        at[k + 1] = (uint16_t)(at[k] + utf8_encode(e->piece[k], buf + 2 + at[k]));
    }
    size_t start = 0;
    while (start < n) {
        // A continuation is looked up as "##" + bytes: the two bytes before them belong to code
        // points already matched, so they are overwritten in place.
        const char *p = buf + 2 + at[start];
        size_t extra = 0;
        if (start > 0) {
            p -= 2;
            buf[at[start]] = '#';
            buf[at[start] + 1] = '#';
            extra = 2;
        }
        int32_t found = -1;
        size_t end = n;
        for (; end > start; end--) {
            size_t len = (size_t)(at[end] - at[start]) + extra;
            if (len <= t->max_token_bytes && (found = vocab_find(t, p, len)) >= 0) {
                break;
            }
        }
        if (found < 0) {
            emit(e, t->unk); // HF: the whole word becomes one [UNK]
            return;
        }
        sub[n_sub++] = found;
        start = end;
    }
    for (size_t k = 0; k < n_sub; k++) {
        emit(e, sub[k]);
    }
}

static void piece_flush(struct enc *e)
{
    if (e->n_piece == 0) {
        return;
    }
    if (e->n_piece > LIMIT_WORDPIECE_WORD_CHARS) {
        emit(e, e->t->unk);
    } else {
        wordpiece(e);
    }
    e->n_piece = 0;
}

// One normalized code point: punctuation stands alone, anything else extends the piece.
static void piece_push(struct enc *e, int32_t cp)
{
    if (is_punct(cp)) {
        piece_flush(e);
        e->piece[0] = cp;
        e->n_piece = 1;
        wordpiece(e);
        e->n_piece = 0;
        return;
    }
    if (e->n_piece < PIECE_CAP) {
        e->piece[e->n_piece] = cp;
    }
    e->n_piece++;
}

// Canonical ordering (stable sort by combining class of each run of non-starters), as NFD and
// NFC require. Short runs use insertion sort, long ones a counting sort so hostile input stays
// linear.
static void canonical_order(int32_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x300 || utf8proc_get_property(s[i])->combining_class == 0) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && s[j] >= 0x300 && utf8proc_get_property(s[j])->combining_class != 0) {
            j++;
        }
        size_t m = j - i;
        if (m <= 16) {
            for (size_t a = i + 1; a < j; a++) {
                int32_t v = s[a];
                int cv = utf8proc_get_property(v)->combining_class;
                size_t b = a;
                while (b > i && utf8proc_get_property(s[b - 1])->combining_class > cv) {
                    s[b] = s[b - 1];
                    b--;
                }
                s[b] = v;
            }
        } else {
            int32_t tmp[NORM_CAP];
            size_t count[257] = {0};
            for (size_t a = i; a < j; a++) {
                count[utf8proc_get_property(s[a])->combining_class + 1]++;
            }
            for (size_t c = 1; c < 257; c++) {
                count[c] += count[c - 1];
            }
            for (size_t a = i; a < j; a++) {
                tmp[count[utf8proc_get_property(s[a])->combining_class]++] = s[a];
            }
            memcpy(s + i, tmp, m * sizeof *s);
        }
        i = j;
    }
}

// Normalizes raw[0..n) (lowercase, then NFD minus Mn, or NFC) into out (NORM_CAP); *m is the
// count written.
static int normalize(const struct tokenizer_params *p, const int32_t *raw, size_t n,
                     int32_t *out, size_t *m_out, struct px_err *err)
{
    bool ascii = true;
    for (size_t k = 0; k < n && ascii; k++) {
        ascii = raw[k] < 0x80;
    }
    if (ascii) { // already in every normal form
        for (size_t k = 0; k < n; k++) {
            int32_t c = raw[k];
            out[k] = p->do_lower_case && c >= 'A' && c <= 'Z' ? c + 32 : c;
        }
        *m_out = n;
        return PX_OK;
    }
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        int32_t lc[2] = {raw[k], 0};
        size_t n_lc = 1;
        if (p->do_lower_case) {
            if (raw[k] == 0x130) { // Python: "\u0130".lower() == "i\u0307"
                lc[0] = 'i';
                lc[1] = 0x307;
                n_lc = 2;
            } else {
                lc[0] = utf8proc_tolower(raw[k]);
            }
        }
        for (size_t a = 0; a < n_lc; a++) {
            int bound = 0;
            utf8proc_ssize_t r = utf8proc_decompose_char(lc[a], out + m,
                                                         (utf8proc_ssize_t)(NORM_CAP - m),
                                                         UTF8PROC_DECOMPOSE, &bound);
            if (r < 0 || (size_t)r > NORM_CAP - m) {
                return px_fail(err, PX_EINTERNAL, "decomposition of U+%04X does not fit",
                               (unsigned)lc[a]);
            }
            m += (size_t)r;
        }
    }
    canonical_order(out, m);
    if (p->strip_accents) {
        size_t w = 0;
        for (size_t k = 0; k < m; k++) {
            if (out[k] < 0x300 || utf8proc_category(out[k]) != UTF8PROC_CATEGORY_MN) {
                out[w++] = out[k];
            }
        }
        m = w;
    } else {
        utf8proc_ssize_t r = utf8proc_normalize_utf32(out, (utf8proc_ssize_t)m, UTF8PROC_COMPOSE);
        if (r < 0) {
            return px_fail(err, PX_EINTERNAL, "NFC composition failed: %s", utf8proc_errmsg(r));
        }
        m = (size_t)r;
    }
    *m_out = m;
    return PX_OK;
}

// The special token whose text is exactly s[0..n), or -1 (an index into t->special).
static int32_t special_word(const struct tokenizer *t, const int32_t *s, size_t n)
{
    for (int k = 0; k < t->n_special; k++) {
        const struct special *sp = &t->special[k];
        size_t j = 0;
        while (j < sp->len && j < n && s[j] == (unsigned char)sp->text[j]) {
            j++;
        }
        if (j == sp->len && j == n) {
            return k;
        }
    }
    return -1;
}

// Normalizes raw[0..n) and feeds it to the punctuation splitter. When whole is set, raw is a
// whole word, and one that normalizes to a special token's text becomes that token: HF's
// BasicTokenizer keeps such a word whole (never_split) and WordPiece finds it in the vocabulary.
// With lowercasing no word can spell one (PreTrainedTokenizer lowercased every other character
// already); without it "[CL\x00S]" or "\u030b[SEP]" do, once cleaned and stripped.
static int normalize_feed(struct enc *e, const int32_t *raw, size_t n, bool whole,
                          struct px_err *err)
{
    int32_t norm[NORM_CAP];
    size_t m = 0;
    int rc = normalize(&e->t->params, raw, n, norm, &m, err);
    if (rc != PX_OK) {
        return rc;
    }
    int32_t s = whole && !e->t->params.do_lower_case ? special_word(e->t, norm, m) : -1;
    if (s >= 0) {
        emit(e, e->t->special[s].id);
        return PX_OK;
    }
    for (size_t k = 0; k < m; k++) {
        piece_push(e, norm[k]);
    }
    return PX_OK;
}

// Adds cp to the current word. When the buffer is full, normalizes it up to a point where the
// text may be cut: before cp itself when cp is a safe starter, else before the last safe starter
// in the upper half of the buffer, else (a long run of marks or jamo) anywhere.
static int word_push(struct enc *e, int32_t cp, struct px_err *err)
{
    int rc = PX_OK;
    if (e->n_raw == RAW_CAP) {
        size_t cut = RAW_CAP;
        if (!is_safe_starter(cp)) {
            for (size_t k = RAW_CAP - 1; k > RAW_CAP / 2; k--) {
                if (is_safe_starter(e->raw[k])) {
                    cut = k;
                    break;
                }
            }
        }
        rc = normalize_feed(e, e->raw, cut, false, err);
        memmove(e->raw, e->raw + cut, (RAW_CAP - cut) * sizeof *e->raw);
        e->n_raw = RAW_CAP - cut;
        e->drained = true;
    }
    e->raw[e->n_raw++] = cp;
    return rc;
}

static int word_end(struct enc *e, struct px_err *err)
{
    int rc = PX_OK;
    if (e->n_raw > 0) {
        rc = normalize_feed(e, e->raw, e->n_raw, !e->drained, err);
        e->n_raw = 0;
    }
    e->drained = false;
    piece_flush(e);
    return rc;
}

// The special token spelled at s[0..n), or -1.
static int32_t special_at(const struct tokenizer *t, const char *s, size_t n)
{
    for (int k = 0; k < t->n_special; k++) {
        const struct special *sp = &t->special[k];
        if (sp->len <= n && memcmp(s, sp->text, sp->len) == 0) {
            return k;
        }
    }
    return -1;
}

int tokenizer_encode(const struct tokenizer *t, const char *text, size_t len,
                     enum tokenizer_utf8_mode mode, int32_t *ids, size_t cap,
                     struct tokenizer_result *res, struct px_err *err)
{
    int rc = PX_EINVAL;
    struct enc e;
    size_t n_invalid = 0;
    if (res != NULL) {
        memset(res, 0, sizeof *res);
    }
    if (t == NULL || ids == NULL || (text == NULL && len > 0)) {
        rc = px_fail(err, PX_EINVAL, "tokenizer_encode: NULL argument");
        goto done;
    }
    if (cap < (size_t)t->params.max_tokens) {
        rc = px_fail(err, PX_EINVAL, "ids has room for %zu, max_tokens is %d", cap,
                     t->params.max_tokens);
        goto done;
    }
    if (len > LIMIT_TEXT_BYTES) {
        rc = px_fail(err, PX_ELIMIT, "text is %zu bytes, over LIMIT_TEXT_BYTES (%u)", len,
                     LIMIT_TEXT_BYTES);
        goto done;
    }
    e.t = t;
    e.ids = ids;
    e.n_ids = 0;
    e.limit = (size_t)t->params.max_tokens - 1;
    e.n_truncated = 0;
    e.n_raw = 0;
    e.n_piece = 0;
    e.drained = false;
    ids[e.n_ids++] = t->cls;

    const unsigned char *u = (const unsigned char *)text;
    bool in_invalid = false; // inside a run of undecodable bytes (replace mode)
    size_t i = 0;
    while (i < len) {
        int32_t cp = u[i];
        size_t k = 1;
        if (cp == '[') {
            int32_t s = special_at(t, text + i, len - i); // index into t->special
            if (s >= 0) {
                in_invalid = false;
                if ((rc = word_end(&e, err)) != PX_OK) {
                    goto done;
                }
                emit(&e, t->special[s].id);
                i += t->special[s].len;
                continue;
            }
        } else if (cp >= 0x80) {
            k = utf8_decode(u + i, len - i, &cp);
            if (k == 0) {
                if (mode != TOKENIZER_UTF8_REPLACE) {
                    rc = px_fail(err, PX_EUTF8, "invalid UTF-8 at byte %zu", i);
                    goto done;
                }
                if (!in_invalid) {
                    if ((rc = word_end(&e, err)) != PX_OK) {
                        goto done;
                    }
                    emit(&e, t->unk);
                    n_invalid++;
                    in_invalid = true;
                }
                i++;
                continue;
            }
        }
        in_invalid = false;
        i += k;

        bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r';
        if (!space && cp < 0x80) {
            if (cp < 0x20 || cp == 0x7F) {
                continue; // NUL and the other Cc controls
            }
        } else if (!space) {
            utf8proc_category_t c = utf8proc_category(cp);
            if (cp == 0xFFFD || c == UTF8PROC_CATEGORY_CN || c >= UTF8PROC_CATEGORY_CC) {
                continue; // U+FFFD and every C* category
            }
            space = c >= UTF8PROC_CATEGORY_ZS && c <= UTF8PROC_CATEGORY_ZP;
        }
        if (space) {
            rc = word_end(&e, err);
        } else if (t->params.tokenize_chinese_chars && is_cjk(cp)) {
            rc = word_end(&e, err);
            if (rc == PX_OK) {
                rc = word_push(&e, cp, err);
            }
            if (rc == PX_OK) {
                rc = word_end(&e, err);
            }
        } else {
            rc = word_push(&e, cp, err);
        }
        if (rc != PX_OK) {
            goto done;
        }
    }
    if ((rc = word_end(&e, err)) != PX_OK) {
        goto done;
    }
    ids[e.n_ids++] = t->sep;
    if (res != NULL) {
        res->n_ids = e.n_ids;
        res->n_truncated = e.n_truncated;
        res->n_invalid_utf8 = n_invalid;
    }
    rc = PX_OK;
done:
    return rc;
}

// ---- vocabulary ----

size_t tokenizer_vocab_size(const struct tokenizer *t)
{
    return t->n_tokens;
}

int32_t tokenizer_id(const struct tokenizer *t, const char *token)
{
    if (token == NULL) {
        return -1;
    }
    return vocab_find(t, token, strlen(token));
}

const char *tokenizer_token(const struct tokenizer *t, int32_t id)
{
    if (id < 0 || (size_t)id >= t->n_tokens) {
        return NULL;
    }
    return t->pool + t->off[id];
}

int32_t tokenizer_cls_id(const struct tokenizer *t)
{
    return t->cls;
}

int32_t tokenizer_sep_id(const struct tokenizer *t)
{
    return t->sep;
}

int32_t tokenizer_unk_id(const struct tokenizer *t)
{
    return t->unk;
}

int32_t tokenizer_pad_id(const struct tokenizer *t)
{
    return t->pad;
}

int tokenizer_max_tokens(const struct tokenizer *t)
{
    return t->params.max_tokens;
}
