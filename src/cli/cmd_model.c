// cmd_model.c — `prospect model`: which model directory the lookup picks, what it holds, and
// whether its weights are there (and if not, how to get them).
#include <getopt.h>
#include <stdio.h>

#include "app_encoder.h"
#include "buf.h"
#include "cli.h"
#include "limits.h"

static const char *const k_usage =
    "usage: prospect model [--embedder DIR] [--format table|json|csv] [--json]\n"
    "\n"
    "Shows the sentence-transformer directory prospect would use (--embedder, then\n"
    "$PROSPECT_MODEL, then ./models/all-MiniLM-L6-v2, then ../shared/models/all-MiniLM-L6-v2),\n"
    "loads it and prints its configuration. Exits 1 when the weights are missing, saying how to\n"
    "get them. --model DIR is the old spelling of --embedder DIR.\n";

int cmd_model(int argc, char **argv)
{
    const char *model = NULL;
    enum cli_format fmt = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"model", required_argument, NULL, 'm'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        int frc = cli_format_option("model", ch, optarg, &fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case CLI_OPT_EMBEDDER: model = optarg; break;
        case 'm': model = cli_embedder_alias("model", optarg); break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("model", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("model", "unexpected argument '%s'", argv[optind]);
    }
    struct px_err err = {0};
    char dir[LIMIT_PATH];
    enum app_model_source src;
    if (app_model_dir(model, dir, sizeof dir, &src, &err) != PX_OK) {
        return cli_fail("model", &err);
    }
    if (fmt == CLI_FORMAT_TABLE) {
        printf("directory:      %s (chosen by %s)\n", dir, app_model_source_name(src));
    }
    struct app_encoder_params ep = app_encoder_default_params();
    ep.embedder_flag = model;
    struct app_encoder *e = NULL;
    if (app_encoder_open(&ep, &e, &err) != PX_OK) {
        return cli_fail("model", &err);
    }
    const struct app_encoder_info *in = app_encoder_info(e);
    int rc = CLI_OK;
    if (fmt == CLI_FORMAT_TABLE) {
        printf("encoder:        BERT, %d layers, %d heads, %zu parameters (%s on disk)\n",
               in->n_layers, in->n_heads, in->n_params, in->weights_dtype);
        printf("dimension:      %d\n", in->dim);
        printf("max_seq_length: %d tokens\n", in->max_seq_length);
        printf("pooling:        %s%s\n", in->pooling, in->normalize ? " + L2 normalize" : "");
        printf("tokenizer:      %s, %s\n", in->vocab_file, in->do_lower_case ? "lowercase" : "cased");
    } else {
        struct buf doc;
        buf_init(&doc, 1 << 16);
        if (app_encoder_info_json(in, app_model_source_name(src), &doc, &err) != PX_OK) {
            rc = cli_fail("model", &err);
        } else if (fmt == CLI_FORMAT_JSON) {
            rc = cli_print_json("model", &doc);
        } else {
            rc = cli_print_json_as_csv("model", &doc, NULL, &err);
        }
        buf_free(&doc);
    }
    app_encoder_close(e);
    return rc;
}
