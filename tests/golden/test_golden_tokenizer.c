// test_golden_tokenizer.c — src/text/tokenizer.c against ids from Hugging Face's BertTokenizer:
// every case of models/*-reference.json ({"cases": [{"text", "input_ids"}]}) must match id for
// id, with the vocabulary loaded both from vocab.txt and from tokenizer.json. max_tokens is the
// reference's max_seq_length (256), so the long case also checks truncation.
//
// Needs ../shared (PROSPECT_SHARED); skips with a message when it is absent.
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "tokenizer.h"

// Encodes every case of ref_rel with the vocabulary at vocab_rel and compares the ids.
static void check_reference(const char *ref_rel, const char *vocab_rel, bool json, int n_cases)
{
    char ref_path[1024], vocab_path[1024];
    if (!tu_shared_path(ref_path, sizeof ref_path, ref_rel) ||
        !tu_shared_path(vocab_path, sizeof vocab_path, vocab_rel)) {
        printf("skipped: %s or %s not found under PROSPECT_SHARED\n", ref_rel, vocab_rel);
        skip();
    }
    struct px_err err = {0};
    cJSON *ref = NULL;
    assert_int_equal(jsonx_parse_file(ref_path, 64u << 20, &ref, &err), PX_OK);
    int64_t max_seq = 0;
    assert_int_equal(jsonx_get_int(ref, "max_seq_length", true, 0, 2, LIMIT_SEQ_TOKENS, &max_seq,
                                   ref_path, &err),
                     PX_OK);
    assert_int_equal(max_seq, 256);

    struct tokenizer_params params = tokenizer_default_params();
    params.do_lower_case = true; // tokenizer_config.json: do_lower_case true, strip_accents null
    params.strip_accents = true;
    params.max_tokens = (int)max_seq;
    struct tokenizer *tok = NULL;
    int rc = json ? tokenizer_open_json(vocab_path, &params, &tok, &err)
                  : tokenizer_open_vocab(vocab_path, &params, &tok, &err);
    if (rc != PX_OK) {
        fail_msg("open %s: %s", vocab_path, err.msg);
    }
    assert_int_equal(tokenizer_vocab_size(tok), 30522);

    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(ref, "cases");
    assert_true(cJSON_IsArray(cases));
    assert_int_equal(cJSON_GetArraySize(cases), n_cases);
    int32_t ids[LIMIT_SEQ_TOKENS];
    int n_bad = 0, i = 0;
    for (const cJSON *c = cases->child; c != NULL; c = c->next, i++) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(c, "text");
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "input_ids");
        assert_true(cJSON_IsString(text));
        assert_true(cJSON_IsArray(want));
        struct tokenizer_result res = {0};
        rc = tokenizer_encode(tok, text->valuestring, strlen(text->valuestring),
                              TOKENIZER_UTF8_STRICT, ids, LIMIT_SEQ_TOKENS, &res, &err);
        if (rc != PX_OK) {
            printf("case %d (%s): encode failed: %s\n", i, text->valuestring, err.msg);
            n_bad++;
            continue;
        }
        size_t n_want = (size_t)cJSON_GetArraySize(want);
        size_t k = 0;
        const cJSON *w = want->child;
        for (; k < res.n_ids && w != NULL; k++, w = w->next) {
            if (ids[k] != (int32_t)w->valuedouble) {
                break;
            }
        }
        if (k < res.n_ids || k < n_want) {
            int32_t want_id = w != NULL ? (int32_t)w->valuedouble : -1;
            int32_t got_id = k < res.n_ids ? ids[k] : -1;
            const char *want_tok = tokenizer_token(tok, want_id);
            const char *got_tok = tokenizer_token(tok, got_id);
            printf("case %d: \"%s\"\n  first difference at position %zu: got %d (%s), want %d "
                   "(%s); got %zu ids, want %zu\n",
                   i, text->valuestring, k, got_id, got_tok ? got_tok : "-", want_id,
                   want_tok ? want_tok : "-", res.n_ids, n_want);
            n_bad++;
        }
    }
    printf("%s with %s: %d of %d cases match\n", ref_rel, vocab_rel, n_cases - n_bad, n_cases);
    tokenizer_free(tok);
    cJSON_Delete(ref);
    assert_int_equal(n_bad, 0);
}

static void test_minilm_vocab_txt(void **state)
{
    (void)state;
    check_reference("models/all-MiniLM-L6-v2-reference.json", "models/all-MiniLM-L6-v2/vocab.txt",
                    false, 20);
}

static void test_minilm_tokenizer_json(void **state)
{
    (void)state;
    check_reference("models/all-MiniLM-L6-v2-reference.json",
                    "models/all-MiniLM-L6-v2/tokenizer.json", true, 20);
}

// The twin reference repeats the 20 MiniLM cases and adds 5 customer-profile texts.
static void test_twin_vocab_txt(void **state)
{
    (void)state;
    check_reference("models/minilm-l6-twin-reference.json", "models/minilm-l6-twin/vocab.txt",
                    false, 25);
}

static void test_twin_tokenizer_json(void **state)
{
    (void)state;
    check_reference("models/minilm-l6-twin-reference.json", "models/minilm-l6-twin/tokenizer.json",
                    true, 25);
}

// The two vocab sources must agree token for token.
static void test_vocab_txt_equals_json(void **state)
{
    (void)state;
    char txt[1024], json[1024];
    if (!tu_shared_path(txt, sizeof txt, "models/all-MiniLM-L6-v2/vocab.txt") ||
        !tu_shared_path(json, sizeof json, "models/all-MiniLM-L6-v2/tokenizer.json")) {
        printf("skipped: models/all-MiniLM-L6-v2 not found under PROSPECT_SHARED\n");
        skip();
    }
    struct px_err err = {0};
    struct tokenizer *a = NULL, *b = NULL;
    assert_int_equal(tokenizer_open_vocab(txt, NULL, &a, &err), PX_OK);
    assert_int_equal(tokenizer_open_json(json, NULL, &b, &err), PX_OK);
    assert_int_equal(tokenizer_vocab_size(a), tokenizer_vocab_size(b));
    for (int32_t id = 0; id < (int32_t)tokenizer_vocab_size(a); id++) {
        if (strcmp(tokenizer_token(a, id), tokenizer_token(b, id)) != 0) {
            fail_msg("id %d: vocab.txt has \"%s\", tokenizer.json \"%s\"", id,
                     tokenizer_token(a, id), tokenizer_token(b, id));
        }
        assert_int_equal(tokenizer_id(a, tokenizer_token(a, id)), id);
    }
    assert_int_equal(tokenizer_cls_id(a), 101);
    assert_int_equal(tokenizer_sep_id(a), 102);
    assert_int_equal(tokenizer_unk_id(a), 100);
    assert_int_equal(tokenizer_pad_id(a), 0);
    tokenizer_free(a);
    tokenizer_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minilm_vocab_txt),
        cmocka_unit_test(test_minilm_tokenizer_json),
        cmocka_unit_test(test_twin_vocab_txt),
        cmocka_unit_test(test_twin_tokenizer_json),
        cmocka_unit_test(test_vocab_txt_equals_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
