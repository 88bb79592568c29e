// safetensors.h — open, validate and map a .safetensors file.
//
// Format: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data section. Offsets are
// relative to the data section. safetensors_open checks everything before returning: N within
// the file and LIMIT_SAFETENSORS_HEADER_BYTES, valid JSON object, known dtype, shape rank and
// dims, begin <= end inside the data section, byte count == product(shape) * dtype size (no
// overflow), and no two tensors overlapping. Every error names the file and the tensor.
//
// The handle is immutable after open and may be read from many threads.
#ifndef PX_SAFETENSORS_H
#define PX_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

enum safetensors_dtype {
    SAFETENSORS_F64,
    SAFETENSORS_F32,
    SAFETENSORS_F16,
    SAFETENSORS_BF16,
    SAFETENSORS_I64,
    SAFETENSORS_I32,
    SAFETENSORS_I16,
    SAFETENSORS_I8,
    SAFETENSORS_U64,
    SAFETENSORS_U32,
    SAFETENSORS_U16,
    SAFETENSORS_U8,
    SAFETENSORS_BOOL,
    SAFETENSORS_F8_E4M3,
    SAFETENSORS_F8_E5M2,
};

struct safetensors_tensor {
    const char *name;                   // borrowed from the handle
    enum safetensors_dtype dtype;
    int n_dims;                         // 0..LIMIT_TENSOR_RANK (0 = scalar)
    int64_t shape[LIMIT_TENSOR_RANK];   // shape[0..n_dims)
    size_t n_elems;                     // product of shape
    size_t n_bytes;                     // n_elems * dtype size
    size_t offset;                      // byte offset of the data from the start of the file
    const unsigned char *data;          // borrowed, into the mapping; not necessarily aligned
};

struct safetensors;

// Maps and validates path. Returns owned *out (safetensors_close).
int safetensors_open(const char *path, struct safetensors **out, struct px_err *err);
// Validates size bytes at data without copying them (borrowed: data must outlive the handle);
// `what` names the source in error messages. Used by tests and the fuzz target.
int safetensors_open_memory(const void *data, size_t size, const char *what,
                            struct safetensors **out, struct px_err *err);
// NULL is a no-op.
void safetensors_close(struct safetensors *st);

size_t safetensors_count(const struct safetensors *st);
// i-th tensor in file order of data offsets (borrowed), NULL when i >= count.
const struct safetensors_tensor *safetensors_get(const struct safetensors *st, size_t i);
// Tensor by exact name (borrowed), or NULL.
const struct safetensors_tensor *safetensors_find(const struct safetensors *st, const char *name);
// Value of a "__metadata__" key (borrowed), or NULL.
const char *safetensors_metadata(const struct safetensors *st, const char *key);

// "F32", "F16", ... for a dtype.
const char *safetensors_dtype_name(enum safetensors_dtype dtype);
// Bytes per element.
size_t safetensors_dtype_size(enum safetensors_dtype dtype);
// Converts an F32, F16 or BF16 tensor to float32. dst: (t->n_elems). Other dtypes:
// PX_EUNSUPPORTED naming the tensor.
int safetensors_to_f32(const struct safetensors_tensor *t, float *dst, struct px_err *err);

// ---- conversion kernels behind safetensors_to_f32 (exposed for the SIMD-vs-scalar test) ----
// src: (n) little-endian IEEE binary16, any alignment; dst: (n). Exact for every input; a NaN
// keeps its sign and payload and comes out quiet (the F16C instruction's rule, so both agree).
void safetensors_f16_to_f32_ref(const void *src, float *dst, size_t n);
// F16C variant, bit-identical to the reference. Returns false (writing nothing) when the CPU
// lacks it (cpu_features()->avx2 false, or PROSPECT_NO_SIMD=1).
bool safetensors_f16_to_f32_f16c(const void *src, float *dst, size_t n);

#endif
