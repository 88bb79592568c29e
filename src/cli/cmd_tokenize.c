// cmd_tokenize.c — `prospect tokenize`: the token ids the model would see, one line per input
// line; for checking tokenizer differences against Hugging Face. Needs no weights.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_encoder.h"
#include "buf.h"
#include "cli.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"

static const char *const k_usage =
    "usage: prospect tokenize [--model DIR] [--input FILE] [--tokens] [--json]\n"
    "                         [--replace-invalid-utf8]\n"
    "\n"
    "Prints the WordPiece ids of each input line (standard input by default), space separated,\n"
    "including [CLS] and [SEP] and truncated to the model's max_seq_length, exactly as the\n"
    "encoder sees them. Needs the model's vocab and config, not its weights.\n"
    "\n"
    "  --model DIR   model directory (same lookup as `prospect embed`)\n"
    "  --tokens      print the token strings instead of ids\n"
    "  --json        one JSON object per line: {\"ids\": [...], \"tokens\": [...]}\n"
    "  --replace-invalid-utf8   replace invalid UTF-8 with [UNK] instead of failing\n";

int cmd_tokenize(int argc, char **argv)
{
    const char *model = NULL, *input = NULL;
    bool tokens = false, json = false;
    enum tokenizer_utf8_mode mode = TOKENIZER_UTF8_STRICT;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"input", required_argument, NULL, 'i'},
        {"tokens", no_argument, NULL, 'T'},      {"json", no_argument, NULL, 'j'},
        {"replace-invalid-utf8", no_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:i:Tjrh", opts, NULL)) != -1) {
        switch (ch) {
        case 'm': model = optarg; break;
        case 'i': input = optarg; break;
        case 'T': tokens = true; break;
        case 'j': json = true; break;
        case 'r': mode = TOKENIZER_UTF8_REPLACE; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("tokenize", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("tokenize", "unexpected argument '%s'", argv[optind]);
    }
    int rc = CLI_FAIL;
    struct px_err err = {0};
    struct tokenizer *tok = NULL;
    struct cli_lines lines = {0};
    int32_t *ids = NULL;
    struct buf js;
    buf_init(&js, (size_t)LIMIT_VOCAB_TOKEN_BYTES * 8);
    if (app_open_tokenizer(model, &tok, NULL, 0, &err) != PX_OK ||
        cli_read_lines(input, &lines, &err) != PX_OK) {
        rc = cli_fail("tokenize", &err);
        goto done;
    }
    size_t cap = (size_t)tokenizer_max_tokens(tok);
    ids = px_malloc(cap * sizeof *ids);
    if (ids == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        rc = cli_fail("tokenize", &err);
        goto done;
    }
    for (size_t i = 0; i < lines.n; i++) {
        struct tokenizer_result res;
        if (tokenizer_encode(tok, lines.text[i], lines.len[i], mode, ids, cap, &res, &err) != PX_OK) {
            px_err_prefix(&err, "line %zu", i + 1);
            rc = cli_fail("tokenize", &err);
            goto done;
        }
        if (json) {
            fputs("{\"ids\": [", stdout);
            for (size_t k = 0; k < res.n_ids; k++) {
                printf("%s%d", k ? ", " : "", ids[k]);
            }
            fputs("], \"tokens\": [", stdout);
            for (size_t k = 0; k < res.n_ids; k++) {
                const char *t = tokenizer_token(tok, ids[k]);
                buf_reset(&js);
                if (jsonx_put_string(&js, t, strlen(t), &err) != PX_OK) {
                    rc = cli_fail("tokenize", &err);
                    goto done;
                }
                printf("%s%s", k ? ", " : "", js.data);
            }
            printf("], \"truncated\": %zu}\n", res.n_truncated);
        } else {
            for (size_t k = 0; k < res.n_ids; k++) {
                if (tokens) {
                    printf("%s%s", k ? " " : "", tokenizer_token(tok, ids[k]));
                } else {
                    printf("%s%d", k ? " " : "", ids[k]);
                }
            }
            putchar('\n');
        }
    }
    if (fflush(stdout) != 0) {
        px_fail(&err, PX_EIO, "cannot write to standard output");
        rc = cli_fail("tokenize", &err);
        goto done;
    }
    rc = CLI_OK;
done:
    buf_free(&js);
    px_free(ids);
    cli_lines_free(&lines);
    tokenizer_free(tok);
    return rc;
}
