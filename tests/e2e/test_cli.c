// test_cli.c — the prospect binary end to end: help and usage errors, model lookup and the
// missing-weights message, the three output formats, and bad input located by line and byte.
// Runs the real binary ($PROSPECT_BIN) through /bin/sh on files in a temporary directory.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "testmodel.h"

#include <cJSON.h>

static char g_dir[256];   // temporary working directory
static char g_model[512]; // tiny model written there

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_model, sizeof g_model, "%s/model", g_dir);
    mkdir(g_model, 0755);
    struct testmodel_spec s = testmodel_default_spec();
    return testmodel_write(g_model, &s);
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static int run(const char *args, const char *input, char **out, char **err)
{
    char in[600];
    snprintf(in, sizeof in, "%s/stdin.txt", g_dir);
    tu_write_text(g_dir, "stdin.txt", input ? input : "");
    return tu_run_prospect(args, in, out, err);
}

static void expect(const char *args, const char *input, int code, const char *in_out,
                   const char *in_err)
{
    char *out = NULL, *err = NULL;
    int rc = run(args, input, &out, &err);
    if (rc != code || (in_out && !strstr(out, in_out)) || (in_err && !strstr(err, in_err))) {
        fail_msg("prospect %s: exit %d (want %d)\nstdout: %.500s\nstderr: %.500s\nwanted stdout "
                 "'%s', stderr '%s'",
                 args, rc, code, out, err, in_out ? in_out : "", in_err ? in_err : "");
    }
    free(out);
    free(err);
}

static void test_help_and_usage(void **state)
{
    (void)state;
    expect("--help", NULL, 0, "commands:", NULL);
    expect("help", NULL, 0, "embed", NULL);
    expect("--version", NULL, 0, "prospect ", NULL);
    expect("embed --help", NULL, 0, "usage: prospect embed", NULL);
    expect("tokenize --help", NULL, 0, "usage: prospect tokenize", NULL);
    expect("model --help", NULL, 0, "usage: prospect model", NULL);
    expect("", NULL, 2, NULL, "usage:");
    expect("frobnicate", NULL, 2, NULL, "'frobnicate' is not a command");
    expect("embed --bogus", NULL, 2, NULL, "Try 'prospect embed --help'");
    expect("embed --batch 0", NULL, 2, NULL, "--batch must be 1..");
    expect("embed --threads x", NULL, 2, NULL, "--threads must be");
    expect("embed --format csv", NULL, 2, NULL, "--format must be jsonl, npy or f32");
    expect("embed extra", NULL, 2, NULL, "unexpected argument 'extra'");
}

static void test_missing_weights_say_how_to_get_them(void **state)
{
    (void)state;
    char dir[4096], args[8400];
    snprintf(dir, sizeof dir, "%s/noweights", g_dir);
    mkdir(dir, 0755);
    struct testmodel_spec s = testmodel_default_spec();
    s.write_weights = false;
    assert_int_equal(testmodel_write(dir, &s), 0);
    snprintf(args, sizeof args, "embed --embedder %s", dir);
    expect(args, "hello\n", 1, NULL, "model.safetensors is missing");
    expect(args, "hello\n", 1, NULL, "make model");
    snprintf(args, sizeof args, "model --embedder %s", dir);
    expect(args, NULL, 1, "directory:", "make model");
    // the tokenizer needs no weights
    snprintf(args, sizeof args, "tokenize --embedder %s", dir);
    expect(args, "the customer\n", 0, "2 5 7 3", NULL);
    // the real model's directory in ../shared has no weights here either
    char shared[4096];
    if (tu_shared_path(shared, sizeof shared, "models/all-MiniLM-L6-v2") &&
        !tu_shared_path(dir, sizeof dir, "models/all-MiniLM-L6-v2/model.safetensors")) {
        snprintf(args, sizeof args, "embed --embedder %s", shared);
        expect(args, "hello\n", 1, NULL, "huggingface.co/sentence-transformers/all-MiniLM-L6-v2");
    }
    expect("embed --embedder /nonexistent/dir", "x\n", 1, NULL, "'/nonexistent/dir' does not exist");
    // the old spelling still works, and says what the new one is
    expect("embed --model /nonexistent/dir", "x\n", 1, NULL, "'/nonexistent/dir' does not exist");
    expect("embed --model /nonexistent/dir", "x\n", 1, NULL, "--model DIR is now --embedder DIR");
    // PROSPECT_MODEL is used when --model is absent
    snprintf(args, sizeof args, "model --model '' ; PROSPECT_MODEL=%s %s model", g_model,
             getenv("PROSPECT_BIN"));
    expect(args, NULL, 0, "chosen by $PROSPECT_MODEL", NULL);
}

static void test_embed_formats(void **state)
{
    (void)state;
    const char *input = "the customer\r\nhigh income\n\na loan with credit card\n";
    char args[1400], *out = NULL, *err = NULL;
    // jsonl: 4 lines (the empty one included), 16 floats each, unit length
    snprintf(args, sizeof args, "embed --embedder %s --threads 2 --batch 2", g_model);
    assert_int_equal(run(args, input, &out, &err), 0);
    float jsonl[4][16];
    int n = 0;
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        cJSON *a = cJSON_Parse(line);
        assert_non_null(a);
        assert_true(n < 4);
        assert_int_equal(cJSON_GetArraySize(a), 16);
        double norm = 0;
        for (int k = 0; k < 16; k++) {
            jsonl[n][k] = (float)cJSON_GetArrayItem(a, k)->valuedouble;
            norm += jsonl[n][k] * jsonl[n][k];
        }
        assert_true(fabs(norm - 1) < 1e-5);
        cJSON_Delete(a);
        n++;
    }
    assert_int_equal(n, 4);
    free(out);
    free(err);
    // npy to a file: header, shape, same values
    char path[700];
    snprintf(path, sizeof path, "%s/out.npy", g_dir);
    snprintf(args, sizeof args, "embed --embedder %s --format npy --output %s", g_model, path);
    assert_int_equal(run(args, input, &out, &err), 0);
    free(out);
    free(err);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char head[256];
    assert_int_equal(fread(head, 1, 10, f), 10);
    assert_memory_equal(head, "\x93NUMPY\x01\x00", 8);
    size_t hlen = head[8] | (size_t)head[9] << 8;
    assert_true((10 + hlen) % 64 == 0 && hlen < sizeof head);
    assert_int_equal(fread(head, 1, hlen, f), hlen);
    head[hlen] = '\0';
    assert_non_null(strstr((char *)head, "'descr': '<f4'"));
    assert_non_null(strstr((char *)head, "'shape': (4, 16)"));
    float v[4][16];
    assert_int_equal(fread(v, sizeof(float), 64, f), 64);
    assert_int_equal(fgetc(f), EOF);
    fclose(f);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 16; k++) assert_true(fabsf(v[i][k] - jsonl[i][k]) < 1e-6f);
    // f32 to stdout: raw floats
    tu_write_text(g_dir, "in.txt", input);
    snprintf(args, sizeof args,
             "embed --embedder %s --format f32 --input %s/in.txt > %s/raw.f32; wc -c %s/raw.f32",
             g_model, g_dir, g_dir, g_dir);
    expect(args, NULL, 0, "256 ", NULL);
    // empty input: nothing out, an npy of shape (0, 16)
    snprintf(args, sizeof args, "embed --embedder %s", g_model);
    expect(args, "", 0, NULL, NULL);
    tu_write_text(g_dir, "empty.txt", "");
    snprintf(args, sizeof args,
             "embed --embedder %s --format npy --input %s/empty.txt --output %s/e.npy; head -n 1 "
             "%s/e.npy | cut -b 11-",
             g_model, g_dir, g_dir, g_dir);
    expect(args, NULL, 0, "'shape': (0, 16)", NULL);
}

static void test_bad_input_is_located(void **state)
{
    (void)state;
    char args[1400], path[700];
    snprintf(path, sizeof path, "%s/never.jsonl", g_dir);
    snprintf(args, sizeof args, "embed --embedder %s --output %s", g_model, path);
    expect(args, "ok\nfine\nbad \xc3\x28 utf8\n", 1, NULL, "line 3: invalid UTF-8 at byte 4");
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0); // a failed run leaves no output file behind
    // with --replace-invalid-utf8 it goes through and says how many were replaced
    snprintf(args, sizeof args, "embed --embedder %s --replace-invalid-utf8", g_model);
    expect(args, "ok\nbad \xff utf8\n", 0, NULL, "1 invalid UTF-8 sequences were replaced");
    // a line over the per-text limit
    size_t big = (1u << 20) + 10;
    char *text = malloc(big + 8);
    memcpy(text, "ok\n", 3);
    memset(text + 3, 'a', big);
    memcpy(text + 3 + big, "\n", 2);
    snprintf(args, sizeof args, "embed --embedder %s", g_model);
    expect(args, text, 1, NULL, "line 2:");
    free(text);
    snprintf(args, sizeof args, "embed --embedder %s --input %s/missing.txt", g_model, g_dir);
    expect(args, NULL, 1, NULL, "missing.txt");
    // truncation is reported, never silent
    snprintf(args, sizeof args, "embed --embedder %s", g_model);
    char longline[2000] = "";
    for (int i = 0; i < 100; i++) strcat(longline, "the bank ");
    strcat(longline, "\n");
    expect(args, longline, 0, NULL, "1 of 1 texts were longer than 32 tokens and were truncated");
}

static void test_tokenize_matches_reference_ids(void **state)
{
    (void)state;
    char dir[4096], ref[4096], args[4200];
    if (!tu_shared_path(dir, sizeof dir, "models/all-MiniLM-L6-v2") ||
        !tu_shared_path(ref, sizeof ref, "models/all-MiniLM-L6-v2-reference.json")) {
        skip();
    }
    snprintf(args, sizeof args, "tokenize --embedder %s", dir);
    expect(args, "Transfer $120,000 to account #4455-9021 on 2024-03-15.\n", 0,
           "101 4651 1002 6036 1010 2199 2000 4070 1001 4008 24087 1011 3938 17465 2006 16798 "
           "2549 1011 6021 1011 2321 1012 102\n",
           NULL);
    snprintf(args, sizeof args, "tokenize --tokens --embedder %s", dir);
    expect(args, "Café au lait\n", 0, "[CLS] cafe au lai ##t [SEP]", NULL); // as HF does
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_missing_weights_say_how_to_get_them),
        cmocka_unit_test(test_embed_formats),
        cmocka_unit_test(test_bad_input_is_located),
        cmocka_unit_test(test_tokenize_matches_reference_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
