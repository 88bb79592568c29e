// cmd_tokenize.c — `prospect tokenize`: the token ids the model would see, one line per input
// line; for checking tokenizer differences against Hugging Face. Needs no weights.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_encoder.h"
#include "buf.h"
#include "cli.h"
#include "limits.h"
#include "mem.h"

static const char *const k_usage =
    "usage: prospect tokenize [--embedder DIR] [--input FILE] [--tokens]\n"
    "                         [--format table|json|csv] [--json] [--replace-invalid-utf8]\n"
    "\n"
    "Prints the WordPiece ids of each input line (standard input by default), space separated,\n"
    "including [CLS] and [SEP] and truncated to the model's max_seq_length, exactly as the\n"
    "encoder sees them. Needs the model's vocab and config, not its weights.\n"
    "\n"
    "  --embedder DIR  sentence-transformer directory (same lookup as `prospect embed`; --model\n"
    "                  DIR is the old spelling)\n"
    "  --tokens        print the token strings instead of ids (table)\n"
    "  --format F      table: one line of ids (or tokens) per input line (default);\n"
    "                  json: one JSON object per line: {\"ids\": [...], \"tokens\": [...],\n"
    "                  \"truncated\": N}; csv: line,ids,tokens,truncated\n"
    "  --json          the same as --format json\n"
    "  --replace-invalid-utf8   replace invalid UTF-8 with [UNK] instead of failing\n";

int cmd_tokenize(int argc, char **argv)
{
    const char *model = NULL, *input = NULL;
    bool tokens = false, replace = false;
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"model", required_argument, NULL, 'm'}, {"input", required_argument, NULL, 'i'},
        {"tokens", no_argument, NULL, 'T'},      CLI_FORMAT_OPTIONS,
        {"replace-invalid-utf8", no_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:i:Trh", opts, NULL)) != -1) {
        int frc = cli_format_option("tokenize", ch, optarg, &fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case CLI_OPT_EMBEDDER: model = optarg; break;
        case 'm': model = cli_embedder_alias("tokenize", optarg); break;
        case 'i': input = optarg; break;
        case 'T': tokens = true; break;
        case 'r': replace = true; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("tokenize", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("tokenize", "unexpected argument '%s'", argv[optind]);
    }
    int rc = CLI_FAIL;
    struct px_err err = {0};
    struct app_tokenizer *tok = NULL;
    struct cli_lines lines = {0};
    int32_t *ids = NULL;
    struct buf js;
    buf_init(&js, (size_t)LIMIT_TEXT_BYTES * 8);
    if (app_tokenizer_open(model, &tok, NULL, 0, &err) != PX_OK ||
        cli_read_lines(input, &lines, &err) != PX_OK) {
        rc = cli_fail("tokenize", &err);
        goto done;
    }
    size_t cap = app_tokenizer_max_ids(tok);
    ids = px_malloc(cap * sizeof *ids);
    if (ids == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        rc = cli_fail("tokenize", &err);
        goto done;
    }
    if (fmt == CLI_FORMAT_CSV) {
        puts("line,ids,tokens,truncated");
    }
    for (size_t i = 0; i < lines.n; i++) {
        size_t n = 0, n_trunc = 0;
        int trc = fmt == CLI_FORMAT_JSON
                      ? (buf_reset(&js), app_tokenize_json(tok, lines.text[i], lines.len[i],
                                                           replace, &js, &err))
                      : app_tokenize(tok, lines.text[i], lines.len[i], replace, ids, cap, &n,
                                     &n_trunc, &err);
        if (trc != PX_OK) {
            px_err_prefix(&err, "line %zu", i + 1);
            rc = cli_fail("tokenize", &err);
            goto done;
        }
        if (fmt == CLI_FORMAT_JSON) {
            puts(js.data);
        } else if (fmt == CLI_FORMAT_CSV) {
            printf("%zu,", i + 1);
            for (size_t k = 0; k < n; k++) {
                printf("%s%d", k ? " " : "", ids[k]);
            }
            putchar(',');
            buf_reset(&js);
            for (size_t k = 0; k < n; k++) {
                if (buf_printf(&js, &err, "%s%s", k ? " " : "", app_tokenizer_token(tok, ids[k])) !=
                    PX_OK) {
                    rc = cli_fail("tokenize", &err);
                    goto done;
                }
            }
            cli_csv_field(stdout, js.data != NULL ? js.data : "");
            printf(",%zu\n", n_trunc);
        } else {
            for (size_t k = 0; k < n; k++) {
                if (tokens) {
                    printf("%s%s", k ? " " : "", app_tokenizer_token(tok, ids[k]));
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
    app_tokenizer_close(tok);
    return rc;
}
