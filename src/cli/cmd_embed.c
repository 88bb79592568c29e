// cmd_embed.c — `prospect embed`: one text per input line -> one embedding per line, in input
// order, as JSON lines, a .npy array or raw float32.
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app_encoder.h"
#include "cli.h"
#include "cpu.h"
#include "fsx.h"
#include "limits.h"
#include "mem.h"
#include "progress.h"

static const char *const k_usage =
    "usage: prospect embed [--embedder DIR] [--batch N] [--threads N] [--format jsonl|npy|f32]\n"
    "                      [--input FILE] [--output FILE] [--replace-invalid-utf8]\n"
    "\n"
    "Embeds one text per line (standard input by default) with a sentence-transformers model and\n"
    "writes one vector per input line, in input order.\n"
    "\n"
    "  --embedder DIR   sentence-transformer directory (default: $PROSPECT_MODEL,\n"
    "                   ./models/all-MiniLM-L6-v2, ../shared/models/all-MiniLM-L6-v2, first that\n"
    "                   exists; --model DIR is the old spelling)\n"
    "  --batch N        texts per forward pass (default 32)\n"
    "  --threads N      encoder threads (default: the number of CPUs)\n"
    "  --format F       jsonl: one JSON array of floats per line (default)\n"
    "                   npy:   a float32 (lines, dim) array that numpy.load reads\n"
    "                   f32:   raw little-endian float32, lines x dim values\n"
    "  --json           the same as --format jsonl\n"
    "  --input FILE     read texts from FILE instead of standard input\n"
    "  --output FILE    write to FILE (atomically: written whole, then renamed) instead of\n"
    "                   standard output\n"
    "  --replace-invalid-utf8\n"
    "                   replace invalid UTF-8 with [UNK] (counted on stderr) instead of failing\n"
    "\n"
    "Texts longer than the model's max_seq_length (256 tokens for all-MiniLM-L6-v2) are\n"
    "truncated, and stderr says how many were. A progress bar is drawn when stderr is a terminal.\n";

enum format { FMT_JSONL, FMT_NPY, FMT_F32 };

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy/f32 output assumes a little-endian host"
#endif

static int write_npy_header(FILE *f, size_t rows, int dim)
{
    char dict[128];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d), }",
                     rows, dim);
    // magic(6) + version(2) + header length(2) + dict + padding + '\n' is a multiple of 64
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, sizeof pre, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++) {
        fputc(' ', f);
    }
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

static void write_rows(FILE *f, enum format fmt, const float *v, size_t rows, int dim)
{
    if (fmt != FMT_JSONL) {
        fwrite(v, sizeof(float), rows * (size_t)dim, f);
        return;
    }
    char num[32];
    for (size_t r = 0; r < rows; r++) {
        fputc('[', f);
        for (int k = 0; k < dim; k++) {
            int n = snprintf(num, sizeof num, "%s%.9g", k ? "," : "", (double)v[r * (size_t)dim + (size_t)k]);
            fwrite(num, 1, (size_t)n, f);
        }
        fputs("]\n", f);
    }
}

// app_encoder_embed reports progress within the chunk it was given; this adds the chunk's offset.
struct chunk_progress {
    struct progress *bar;
    size_t base; // lines before the current chunk
};

static void on_progress(size_t done, size_t total, void *user)
{
    struct chunk_progress *cp = user;
    (void)total;
    progress_update(cp->bar, cp->base + done);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cmd_embed(int argc, char **argv)
{
    const char *input = NULL, *output = NULL;
    enum format fmt = FMT_JSONL;
    struct app_encoder_params ep = app_encoder_default_params();
    ep.n_threads = cpu_count() < LIMIT_THREADS ? cpu_count() : LIMIT_THREADS;
    static const struct option opts[] = {
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"model", required_argument, NULL, 'm'},    {"batch", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, CLI_OPT_JSON},
        {"threads", required_argument, NULL, 't'},  {"format", required_argument, NULL, 'f'},
        {"input", required_argument, NULL, 'i'},    {"output", required_argument, NULL, 'o'},
        {"replace-invalid-utf8", no_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:b:t:f:i:o:rh", opts, NULL)) != -1) {
        switch (ch) {
        case CLI_OPT_EMBEDDER: ep.embedder_flag = optarg; break;
        case 'm': ep.embedder_flag = cli_embedder_alias("embed", optarg); break;
        case CLI_OPT_JSON: fmt = FMT_JSONL; break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'r': ep.replace_invalid_utf8 = true; break;
        case 'b':
            if (!cli_parse_int(optarg, 1, LIMIT_BATCH, &ep.batch_size)) {
                return cli_usage_error("embed", "--batch must be 1..%d, got '%s'", LIMIT_BATCH, optarg);
            }
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_THREADS, &ep.n_threads)) {
                return cli_usage_error("embed", "--threads must be 1..%d, got '%s'", LIMIT_THREADS,
                                       optarg);
            }
            break;
        case 'f':
            if (strcmp(optarg, "jsonl") == 0) {
                fmt = FMT_JSONL;
            } else if (strcmp(optarg, "npy") == 0) {
                fmt = FMT_NPY;
            } else if (strcmp(optarg, "f32") == 0) {
                fmt = FMT_F32;
            } else {
                return cli_usage_error("embed", "--format must be jsonl, npy or f32, got '%s'", optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("embed", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("embed", "unexpected argument '%s'", argv[optind]);
    }

    int rc = CLI_FAIL;
    struct px_err err = {0};
    struct app_encoder *e = NULL;
    struct cli_lines lines = {0};
    struct fsx_atomic out = {0};
    float *vec = NULL;
    FILE *f = stdout;
    struct progress bar;

    if (app_encoder_open(&ep, &e, &err) != PX_OK || cli_read_lines(input, &lines, &err) != PX_OK) {
        rc = cli_fail("embed", &err);
        goto done;
    }
    const int dim = app_encoder_info(e)->dim;
    const size_t chunk = 4096;
    vec = px_malloc(chunk * (size_t)dim * sizeof *vec);
    if (vec == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        rc = cli_fail("embed", &err);
        goto done;
    }
    if (output != NULL) {
        if (fsx_atomic_open(output, &out, &err) != PX_OK) {
            rc = cli_fail("embed", &err);
            goto done;
        }
        f = out.f;
    }
    if (fmt == FMT_NPY) {
        write_npy_header(f, lines.n, dim);
    }
    struct app_encode_stats total = {0};
    double t0 = now_s();
    progress_begin(&bar, "embed", lines.n);
    for (size_t base = 0; base < lines.n; base += chunk) {
        size_t m = lines.n - base < chunk ? lines.n - base : chunk;
        struct app_encode_stats st;
        struct chunk_progress cp = {&bar, base};
        if (app_encoder_embed(e, lines.text + base, lines.len + base, m, vec, on_progress, &cp, &st,
                              &err) != PX_OK) {
            px_err_prefix(&err, "line %zu", base + st.i_error + 1);
            rc = cli_fail("embed", &err);
            goto done;
        }
        write_rows(f, fmt, vec, m, dim);
        if (ferror(f)) {
            px_fail(&err, PX_EIO, "cannot write the output");
            rc = cli_fail("embed", &err);
            goto done;
        }
        total.n_tokens += st.n_tokens;
        total.n_truncated += st.n_truncated;
        total.n_invalid_utf8 += st.n_invalid_utf8;
    }
    progress_end(&bar);
    if (output != NULL) {
        if (fsx_atomic_commit(&out, &err) != PX_OK) {
            rc = cli_fail("embed", &err);
            goto done;
        }
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        px_fail(&err, PX_EIO, "cannot write to standard output");
        rc = cli_fail("embed", &err);
        goto done;
    }
    double dt = now_s() - t0;
    if (total.n_truncated > 0) {
        fprintf(stderr, "prospect embed: note: %zu of %zu texts were longer than %d tokens and were truncated\n",
                total.n_truncated, lines.n, app_encoder_info(e)->max_seq_length);
    }
    if (total.n_invalid_utf8 > 0) {
        fprintf(stderr, "prospect embed: note: %zu invalid UTF-8 sequences were replaced by [UNK]\n",
                total.n_invalid_utf8);
    }
    if (g_cli_verbose) {
        fprintf(stderr, "prospect embed: %zu texts, %zu tokens in %.3f s (%.1f texts/s, %d threads); heap %zu MiB\n",
                lines.n, total.n_tokens, dt, dt > 0 ? (double)lines.n / dt : 0.0, ep.n_threads,
                px_mem_live_bytes() >> 20);
    }
    rc = CLI_OK;
done:
    fsx_atomic_abort(&out);
    px_free(vec);
    cli_lines_free(&lines);
    app_encoder_close(e);
    return rc;
}
