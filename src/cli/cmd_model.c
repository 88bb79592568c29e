// cmd_model.c — `prospect model`: which model directory the lookup picks, what it holds, and
// whether its weights are there (and if not, how to get them).
#include <getopt.h>
#include <stdio.h>

#include "app_encoder.h"
#include "cli.h"

static const char *const k_usage =
    "usage: prospect model [--model DIR]\n"
    "\n"
    "Shows the model directory prospect would use (--model, then $PROSPECT_MODEL, then\n"
    "./models/all-MiniLM-L6-v2, then ../shared/models/all-MiniLM-L6-v2), loads it and prints its\n"
    "configuration. Exits 1 when the weights are missing, saying how to get them.\n";

int cmd_model(int argc, char **argv)
{
    const char *model = NULL;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'm': model = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("model", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("model", "unexpected argument '%s'", argv[optind]);
    }
    struct px_err err = {0};
    char dir[4096];
    enum app_model_source src;
    if (app_model_dir(model, dir, sizeof dir, &src, &err) != PX_OK) {
        return cli_fail("model", &err);
    }
    printf("directory:      %s (chosen by %s)\n", dir, app_model_source_name(src));
    struct embedder *e = NULL;
    if (app_open_embedder(model, &e, NULL, 0, &err) != PX_OK) {
        return cli_fail("model", &err);
    }
    const struct embedder_info *in = embedder_info(e);
    printf("encoder:        BERT, %d layers, %d heads, %zu parameters (%s on disk)\n",
           in->n_layers, in->n_heads, in->n_params, in->weights_dtype);
    printf("dimension:      %d\n", in->dim);
    printf("max_seq_length: %d tokens\n", in->max_seq_length);
    printf("pooling:        %s%s\n", embed_pooling_name(in->pooling),
           in->normalize ? " + L2 normalize" : "");
    printf("tokenizer:      %s, %s\n", in->vocab_file,
           in->do_lower_case ? "lowercase" : "cased");
    embedder_close(e);
    return CLI_OK;
}
