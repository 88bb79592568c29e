// fuzz_safetensors.c — fuzz target for the safetensors header validator (src/nn/safetensors.c).
// Opens the bytes in place; when they validate, every tensor must be reachable by get and by
// name, lie inside the input, and convert (F32/F16/BF16, up to 1 MiB each) without faults.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

#define MAX_CONVERT_BYTES (1u << 20)

static float g_dst[MAX_CONVERT_BYTES / sizeof(float)]; // (n_elems) of the tensor converted

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct safetensors *st = NULL;
    struct px_err err = {0};
    if (safetensors_open_memory(data, size, "fuzz", &st, &err) != PX_OK) {
        return 0;
    }
    size_t n = safetensors_count(st);
    for (size_t i = 0; i < n; i++) {
        const struct safetensors_tensor *t = safetensors_get(st, i);
        if (t == NULL || safetensors_find(st, t->name) != t) {
            abort(); // every tensor is found under its own name (names are unique)
        }
        if (t->offset > size || t->n_bytes > size - t->offset || t->data != data + t->offset) {
            abort(); // validated tensors lie inside the input
        }
        if (i > 0 && safetensors_get(st, i - 1)->offset > t->offset) {
            abort(); // get() follows the data offsets
        }
        bool is_float = t->dtype == SAFETENSORS_F32 || t->dtype == SAFETENSORS_F16 ||
                        t->dtype == SAFETENSORS_BF16;
        if (!is_float || t->n_elems > sizeof g_dst / sizeof g_dst[0]) {
            continue;
        }
        if (safetensors_to_f32(t, g_dst, &err) != PX_OK) {
            abort();
        }
    }
    if (safetensors_get(st, n) != NULL) {
        abort();
    }
    (void)safetensors_metadata(st, "format");
    safetensors_close(st);
    return 0;
}
