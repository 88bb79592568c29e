// bench_generate.c — demo bank generator throughput: 1 M rows (by default) formatted as CSV and
// written to /dev/null in 64 KiB chunks, as `prospect generate` does; prints rows/s and MB/s.
//
// Usage: bench_generate [ROWS]
// A benchmark, not a test: it prints figures and exits 0 unless something failed.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bankgen.h"
#include "buf.h"
#include "limits.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    struct bankgen_params p = bankgen_default_params();
    p.rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    struct bankgen *g = NULL;
    struct px_err err = {0};
    struct buf chunk;
    FILE *f = fopen("/dev/null", "wb");
    const size_t flush_at = 64u << 10;
    size_t bytes = 0;
    int rc = 1;
    buf_init(&chunk, flush_at + LIMIT_GENERATE_ROW_BYTES);
    if (f == NULL || bankgen_new(&p, &g, &err) != PX_OK) {
        fprintf(stderr, "bench_generate: %s\n", f ? err.msg : "cannot open /dev/null");
        goto done;
    }
    double t0 = now_s();
    while (bankgen_has_next(g)) {
        if (bankgen_next_row(g, &chunk, &err) != PX_OK) {
            fprintf(stderr, "bench_generate: %s\n", err.msg);
            goto done;
        }
        if (chunk.len >= flush_at || !bankgen_has_next(g)) {
            fwrite(chunk.data, 1, chunk.len, f);
            bytes += chunk.len;
            buf_reset(&chunk);
        }
    }
    double dt = now_s() - t0;
    printf("generate: %llu rows, %.1f MB in %.3f s: %.0f rows/s, %.0f MB/s (%.0f bytes/row)\n",
           (unsigned long long)p.rows, (double)bytes / 1e6, dt, dt > 0 ? (double)p.rows / dt : 0.0,
           dt > 0 ? (double)bytes / 1e6 / dt : 0.0, p.rows ? (double)bytes / (double)p.rows : 0.0);
    rc = 0;
done:
    buf_free(&chunk);
    bankgen_free(g);
    if (f != NULL) {
        fclose(f);
    }
    return rc;
}
