// fuzz_bookfile.c — fuzz target for the book's index file format: the mapfile container
// (src/base/mapfile.c) and every section the search engine maps from it (engine_file.c: schema
// statistics, filter table, BM25, vectors). The bytes are copied to a 64-byte aligned buffer (a
// map is page-aligned) and opened; when they validate, the engine must answer a keyword search,
// a filter-free listing and a vector search without reading outside the input.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mapfile.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char k_magic[8] = {'P', 'X', 'B', 'O', 'O', 'K', 0, 0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct px_err err = {0};
    struct mapfile *m = NULL;
    struct engine *e = NULL;
    unsigned char *copy = px_malloc_aligned(size ? size : 1, 64);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    if (mapfile_open_memory(copy, size, "fuzz", k_magic, 1, &m, &err) == PX_OK &&
        engine_open(m, NULL, true, &e, &err) == PX_OK) {
        struct engine_hit hits[10];
        struct engine_answer ans;
        static const char text[] = "income checking savings 42";
        struct engine_query q = {.text = text, .text_len = sizeof text - 1};
        (void)engine_search(e, &q, 10, NULL, hits, &ans, &err);
        struct engine_query all = {0};
        (void)engine_search(e, &all, 10, NULL, hits, &ans, &err);
        size_t dim = engine_dim(e);
        if (dim > 0) {
            float *v = px_calloc(dim, sizeof *v);
            if (v != NULL) {
                v[0] = 1.0f;
                struct engine_query dq = {.vector = v, .dim = dim};
                (void)engine_search(e, &dq, 10, NULL, hits, &ans, &err);
                for (size_t r = 0; r < engine_n_rows(e); r++) {
                    (void)engine_vector(e, r);
                }
            }
            px_free(v);
        }
        (void)query_schema_n_columns(engine_schema(e));
    }
    engine_free(e);
    mapfile_close(m);
    px_free(copy);
    return 0;
}
