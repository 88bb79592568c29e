// bench_fill_vectors.c — a helper of bench/serve/run, not a benchmark of its own: stores a random
// unit vector (dim 384, fixed seed) for every customer of a database under a model's id, so the
// server's dense path runs at 100k customers without `prospect index` (45 min on 2 cores with
// the MiniLM-L6 twin, whose vectors mean nothing anyway). What a search costs — embedding the
// query, scanning 100k int4 codes, re-scoring in f32 — does not depend on the values.
//
// Usage: bench_fill_vectors DB MODEL_DIR
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsx.h"
#include "mem.h"
#include "sha256.h"
#include "store.h"

#define DIM 384
#define BATCH 1024

static uint64_t g_rng = 7;
static double unit(void)
{
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return ((double)(g_rng >> 11) + 0.5) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_fill_vectors DB MODEL_DIR\n");
        return 2;
    }
    struct px_err err = {0};
    char path[4200], hex[65], model_id[80];
    struct store *st = NULL;
    struct store_ids ids = {0};
    float *vecs = px_malloc((size_t)BATCH * DIM * sizeof *vecs);
    int rc = vecs ? fsx_join(path, sizeof path, argv[2], "model.safetensors", &err) : PX_ENOMEM;
    if (rc == PX_OK) rc = sha256_file_hex(path, hex, &err);
    snprintf(model_id, sizeof model_id, "sha256:%s", hex);
    if (rc == PX_OK) rc = store_open(argv[1], NULL, &st, &err);
    if (rc == PX_OK) rc = store_customers_without_vector(st, model_id, &ids, &err);
    for (size_t i = 0; rc == PX_OK && i < ids.n; i += BATCH) {
        size_t n = ids.n - i < BATCH ? ids.n - i : BATCH;
        for (size_t r = 0; r < n; r++) {
            float *v = vecs + r * DIM;
            double ss = 0;
            for (int k = 0; k < DIM; k++) {
                v[k] = (float)(sqrt(-2 * log(unit())) * cos(6.283185307179586 * unit()));
                ss += (double)v[k] * v[k];
            }
            for (int k = 0; k < DIM; k++) v[k] = (float)(v[k] / sqrt(ss));
        }
        rc = store_put_vectors(st, model_id, (const char *const *)ids.ids + i, vecs, n, DIM, &err);
    }
    if (rc == PX_OK) fprintf(stderr, "bench_fill_vectors: %zu vectors under %s\n", ids.n, model_id);
    else fprintf(stderr, "bench_fill_vectors: %s\n", err.msg);
    store_ids_free(&ids);
    store_close(st);
    px_free(vecs);
    return rc == PX_OK ? 0 : 1;
}
