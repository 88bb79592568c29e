// stw.h — safetensors writer for tests: builds .safetensors files in memory (valid ones, and
// malformed ones through overrides), plus float <-> half / bfloat16 converters.
//
// Test-helper code: allocation failures abort with a message (plain malloc, not px_malloc, so
// fault-injection tests do not count the writer's allocations).
#ifndef PX_STW_H
#define PX_STW_H

#include <stddef.h>
#include <stdint.h>

// Most dims stw accepts (more than LIMIT_TENSOR_RANK, so "rank too large" can be written).
#define STW_MAX_DIMS 16

struct stw;

// Returns owned (stw_free).
struct stw *stw_new(void);
// NULL is a no-op.
void stw_free(struct stw *w);

// Adds a tensor whose data is product(shape) float32 values converted to dtype ("F32", "F16",
// "BF16", round-to-nearest-even); data NULL = zeros. shape: (n_dims), n_dims <= STW_MAX_DIMS.
// Data sections are laid out back to back in the order tensors are added (no alignment).
void stw_add_f32(struct stw *w, const char *name, const char *dtype, int n_dims,
                 const int64_t *shape, const float *data);
// Adds a tensor with n_bytes raw bytes (copied; NULL = zeros) and any dtype string and shape
// (negative dims allowed), for malformed cases. data_offsets cover exactly these bytes.
void stw_add_raw(struct stw *w, const char *name, const char *dtype, int n_dims,
                 const int64_t *shape, const void *bytes, size_t n_bytes);
// Overrides the data_offsets written for the i-th added tensor (its bytes stay where they are).
void stw_set_offsets(struct stw *w, size_t i, int64_t begin, int64_t end);
// Sets a "__metadata__" string entry (replacing an existing key).
void stw_set_metadata(struct stw *w, const char *key, const char *value);
// Uses header verbatim (copied; NULL = generate again) instead of the generated JSON.
void stw_set_header(struct stw *w, const char *header);

// Serialises: u64 LE length, header JSON space-padded so the data starts at a multiple of 8,
// then the data. Returns owned bytes (free()); *size gets their count.
unsigned char *stw_build(struct stw *w, size_t *size);
// stw_build, then writes path. 0 on success, -1 on failure.
int stw_write(struct stw *w, const char *path);

// Raw file: u64 LE declared_len, the bytes of header (strlen, no padding), then n_data zero
// bytes. declared_len need not match the header (for truncated / oversized cases). Returns
// owned bytes (free()).
unsigned char *stw_raw_file_len(uint64_t declared_len, const char *header, size_t n_data,
                                size_t *size);
// stw_raw_file_len with declared_len = strlen(header).
unsigned char *stw_raw_file(const char *header, size_t n_data, size_t *size);

// IEEE binary16 / bfloat16 conversions, round-to-nearest-even; NaN stays NaN (quiet).
uint16_t stw_f32_to_f16(float f);
uint16_t stw_f32_to_bf16(float f);
// Exact widening, written independently of src/nn/safetensors.c (arithmetic, not bit tricks).
float stw_f16_to_f32(uint16_t h);
float stw_bf16_to_f32(uint16_t h);

#endif
