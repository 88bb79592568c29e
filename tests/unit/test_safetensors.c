// test_safetensors.c — src/nn/safetensors.c: valid files round-trip (F32/F16/BF16, scalars,
// zero-size tensors, metadata), every malformed kind is rejected with its status code and a
// message naming the file and tensor, F16C matches the scalar reference bit for bit on all
// 65536 halves, and open survives each allocation failing without leaking.
//
// Files are built in memory by tests/helpers/stw.c.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "mem.h"
#include "safetensors.h"
#include "stw.h"

#define WHAT "case.safetensors"

static uint32_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

// ---- valid files ----

// A file with every supported float dtype, a scalar, zero-size tensors and a U8 tensor. Data
// sections are packed back to back, so most tensors start at odd addresses.
static const float k_f32[6] = {1.0f, -2.0f, 3.25f, 1e-30f, 1e30f, -0.0f};
static const float k_f16[8] = {1.0f, -2.5f, 65504.0f, 6.103515625e-05f /* 2^-14 */,
                               5.9604644775390625e-08f /* 2^-24, smallest subnormal */,
                               0.0999755859375f /* 0.1 rounded to half */, -0.0f, 1000.5f};
static const float k_bf16[3] = {1.0f, -3.0f, 1.5e38f};

static unsigned char *build_valid(bool with_meta, size_t *size)
{
    struct stw *w = stw_new();
    int64_t s23[2] = {2, 3};
    int64_t s8[1] = {8};
    int64_t s3[1] = {3};
    int64_t s04[2] = {0, 4};
    int64_t s0[1] = {0};
    int64_t s5[1] = {5};
    unsigned char u8[5] = {1, 2, 3, 4, 5};
    float scalar = 3.5f;
    stw_add_f32(w, "f16", "F16", 1, s8, k_f16);
    stw_add_f32(w, "bf16", "BF16", 1, s3, k_bf16);
    stw_add_f32(w, "f32", "F32", 2, s23, k_f32);
    stw_add_f32(w, "empty", "F32", 2, s04, NULL);
    stw_add_f32(w, "scalar", "F32", 0, NULL, &scalar);
    stw_add_f32(w, "empty16", "F16", 1, s0, NULL);
    stw_add_raw(w, "u8", "U8", 1, s5, u8, sizeof u8);
    if (with_meta) {
        stw_set_metadata(w, "format", "pt");
        stw_set_metadata(w, "note", "quote \" and backslash \\");
    }
    unsigned char *bytes = stw_build(w, size);
    stw_free(w);
    return bytes;
}

static void check_values(const struct safetensors_tensor *t, const float *want, size_t n,
                         float rel_tol)
{
    assert_int_equal(t->n_elems, n);
    float got[16] = {0};
    struct px_err err = {0};
    assert_int_equal(safetensors_to_f32(t, got, &err), PX_OK);
    for (size_t i = 0; i < n; i++) {
        float tol = rel_tol * fabsf(want[i]);
        if (!(fabsf(got[i] - want[i]) <= tol) || signbit(got[i]) != signbit(want[i])) {
            fail_msg("tensor '%s' [%zu]: got %.9g want %.9g (tol %g)", t->name, i, got[i],
                     want[i], tol);
        }
    }
}

static void test_valid_roundtrip(void **state)
{
    (void)state;
    for (int with_meta = 0; with_meta <= 1; with_meta++) {
        size_t size = 0;
        unsigned char *bytes = build_valid(with_meta, &size);
        struct safetensors *st = NULL;
        struct px_err err = {0};
        int rc = safetensors_open_memory(bytes, size, WHAT, &st, &err);
        if (rc != PX_OK) {
            fail_msg("with_meta=%d: %s", with_meta, err.msg);
        }
        assert_int_equal(safetensors_count(st), 7);
        assert_null(safetensors_get(st, 7));

        // get() order follows the data offsets; every tensor is found by name.
        size_t prev = 0;
        for (size_t i = 0; i < safetensors_count(st); i++) {
            const struct safetensors_tensor *t = safetensors_get(st, i);
            assert_true(t->offset >= prev);
            prev = t->offset;
            assert_ptr_equal(safetensors_find(st, t->name), t);
            assert_ptr_equal(t->data, bytes + t->offset);
            assert_int_equal(t->n_bytes, t->n_elems * safetensors_dtype_size(t->dtype));
        }
        assert_null(safetensors_find(st, "nope"));
        assert_null(safetensors_find(st, ""));
        assert_null(safetensors_find(st, "f16x"));

        const struct safetensors_tensor *t = safetensors_find(st, "f32");
        assert_int_equal(t->dtype, SAFETENSORS_F32);
        assert_int_equal(t->n_dims, 2);
        assert_int_equal(t->shape[0], 2);
        assert_int_equal(t->shape[1], 3);
        check_values(t, k_f32, 6, 0.0f);
        // The values above are exact in half precision.
        check_values(safetensors_find(st, "f16"), k_f16, 8, 0.0f);
        // 1.5e38 is not exact in bfloat16: 8 significant bits.
        check_values(safetensors_find(st, "bf16"), k_bf16, 3, 1.0f / 256);

        t = safetensors_find(st, "scalar");
        assert_int_equal(t->n_dims, 0);
        assert_int_equal(t->n_elems, 1);
        float v = 0;
        struct px_err e2 = {0};
        assert_int_equal(safetensors_to_f32(t, &v, &e2), PX_OK);
        assert_true(v == 3.5f);

        t = safetensors_find(st, "empty");
        assert_int_equal(t->n_elems, 0);
        assert_int_equal(t->n_bytes, 0);
        assert_int_equal(t->shape[1], 4);
        assert_int_equal(safetensors_to_f32(t, NULL, &e2), PX_OK);
        assert_int_equal(safetensors_find(st, "empty16")->n_elems, 0);

        t = safetensors_find(st, "u8");
        assert_int_equal(t->dtype, SAFETENSORS_U8);
        assert_int_equal(t->data[4], 5);
        float u8f[5];
        assert_int_equal(safetensors_to_f32(t, u8f, &e2), PX_EUNSUPPORTED);
        assert_non_null(strstr(e2.msg, "tensor 'u8'"));
        assert_non_null(strstr(e2.msg, "U8"));

        if (with_meta) {
            assert_string_equal(safetensors_metadata(st, "format"), "pt");
            assert_string_equal(safetensors_metadata(st, "note"), "quote \" and backslash \\");
        } else {
            assert_null(safetensors_metadata(st, "format"));
        }
        assert_null(safetensors_metadata(st, "missing"));
        safetensors_close(st);
        free(bytes);
    }
    safetensors_close(NULL);
}

// Half values that need care: subnormals, infinities, NaNs, and rounding of inexact floats.
static void test_f16_special(void **state)
{
    (void)state;
    static const struct {
        uint16_t h;
        uint32_t f32; // expected bits
    } cases[] = {
        {0x0000, 0x00000000}, {0x8000, 0x80000000}, {0x0001, 0x33800000}, // 2^-24
        {0x03ff, 0x387fc000}, {0x0400, 0x38800000}, {0x7bff, 0x477fe000}, // 65504
        {0x7c00, 0x7f800000}, {0xfc00, 0xff800000}, {0x7e00, 0x7fc00000},
        {0x7c01, 0x7fc02000}, // signalling NaN comes out quiet, payload kept
        {0xfdff, 0xffffe000}, {0x3c00, 0x3f800000}, {0xc000, 0xc0000000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f;
        safetensors_f16_to_f32_ref(&cases[i].h, &f, 1);
        if (f32_bits(f) != cases[i].f32) {
            fail_msg("case %zu: half 0x%04x -> 0x%08x, want 0x%08x", i, cases[i].h, f32_bits(f),
                     cases[i].f32);
        }
    }
    // Writer rounding (round to nearest even) for values between halves.
    static const struct {
        float f;
        uint16_t h;
    } round_cases[] = {
        {1.0f + 1.0f / 2048, 0x3c00},      // tie -> even (down)
        {1.0f + 3.0f / 2048, 0x3c02},      // tie -> even (up)
        {65520.0f, 0x7c00},                // rounds up to inf
        {65519.0f, 0x7bff},                //
        {2.9802322387695312e-08f, 0x0000}, // 2^-25: tie -> 0
        {4.0e-08f, 0x0001},                // above the tie -> smallest subnormal
        {1e-10f, 0x0000},
    };
    for (size_t i = 0; i < sizeof round_cases / sizeof round_cases[0]; i++) {
        uint16_t h = stw_f32_to_f16(round_cases[i].f);
        if (h != round_cases[i].h) {
            fail_msg("round case %zu: %.9g -> 0x%04x, want 0x%04x", i, round_cases[i].f, h,
                     round_cases[i].h);
        }
    }
    assert_int_equal(stw_f32_to_bf16(1.0f + 1.0f / 256), 0x3f80); // tie -> even
    assert_int_equal(stw_f32_to_bf16(1.0f + 3.0f / 256), 0x3f82);
    assert_true(isnan(stw_bf16_to_f32(stw_f32_to_bf16(NAN))));
    assert_true(isnan(stw_f16_to_f32(stw_f32_to_f16(NAN))));
}

// Every half: the F16C kernel equals the scalar reference bit for bit, and the reference agrees
// with an independent arithmetic widening (tests/helpers/stw.c).
static void test_f16c_matches_scalar(void **state)
{
    (void)state;
    enum { N = 65536 + 7 }; // + 7: a tail that is not a multiple of 8
    uint16_t *h = malloc(N * sizeof *h);
    float *ref = malloc(N * sizeof *ref);
    float *fast = malloc(N * sizeof *fast);
    assert_non_null(h);
    assert_non_null(ref);
    assert_non_null(fast);
    for (size_t i = 0; i < N; i++) {
        h[i] = (uint16_t)i;
    }
    safetensors_f16_to_f32_ref(h, ref, N);
    for (size_t i = 0; i < 65536; i++) {
        float want = stw_f16_to_f32(h[i]);
        bool same = isnan(want) ? isnan(ref[i]) && signbit(ref[i]) == signbit(want)
                                : f32_bits(ref[i]) == f32_bits(want);
        if (!same) {
            fail_msg("half 0x%04zx: reference %.9g, arithmetic %.9g", i, ref[i], want);
        }
    }
    // Unaligned source: the mapping gives no alignment guarantee.
    unsigned char *odd = malloc(N * 2 + 1);
    assert_non_null(odd);
    memcpy(odd + 1, h, N * 2);
    if (!safetensors_f16_to_f32_f16c(odd + 1, fast, N)) {
        print_message("F16C not available on this CPU (or PROSPECT_NO_SIMD=1): skipping\n");
    } else {
        size_t n_diff = 0;
        for (size_t i = 0; i < N; i++) {
            if (f32_bits(fast[i]) != f32_bits(ref[i])) {
                if (n_diff++ < 5) {
                    print_message("half 0x%04x: f16c 0x%08x, scalar 0x%08x\n", h[i],
                                  f32_bits(fast[i]), f32_bits(ref[i]));
                }
            }
        }
        print_message("f16c vs scalar: %zu of %d values differ\n", n_diff, N);
        assert_int_equal(n_diff, 0);
    }
    free(odd);
    free(h);
    free(ref);
    free(fast);
}

// Many tensors: lookups are binary searches over a sorted index; check each one is found.
static void test_many_tensors(void **state)
{
    (void)state;
    enum { N = 500 };
    struct stw *w = stw_new();
    for (int i = 0; i < N; i++) {
        char name[64];
        // Reverse-ish names so name order differs from offset order.
        snprintf(name, sizeof name, "encoder.layer.%d.weight", (N - i) * 7 % N);
        int64_t shape[1] = {i % 3};
        float vals[2] = {(float)i, (float)-i};
        stw_add_f32(w, name, "F32", 1, shape, vals);
    }
    size_t size = 0;
    unsigned char *bytes = stw_build(w, &size);
    stw_free(w);
    struct safetensors *st = NULL;
    struct px_err err = {0};
    assert_int_equal(safetensors_open_memory(bytes, size, WHAT, &st, &err), PX_OK);
    assert_int_equal(safetensors_count(st), N);
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "encoder.layer.%d.weight", i);
        const struct safetensors_tensor *t = safetensors_find(st, name);
        if (t == NULL || strcmp(t->name, name) != 0) {
            fail_msg("case %d: '%s' not found", i, name);
        }
    }
    safetensors_close(st);
    free(bytes);
}

// Boundaries that must be accepted: rank exactly 8, name exactly 256 bytes, header padded
// with spaces, gaps between tensors, dtype names/sizes.
static void test_boundaries(void **state)
{
    (void)state;
    char name[LIMIT_TENSOR_NAME_BYTES + 1];
    memset(name, 'n', LIMIT_TENSOR_NAME_BYTES);
    name[LIMIT_TENSOR_NAME_BYTES] = '\0';
    struct stw *w = stw_new();
    int64_t r8[8] = {1, 1, 1, 1, 1, 1, 2, 1};
    stw_add_f32(w, "rank8", "F32", 8, r8, NULL);
    stw_add_f32(w, name, "F16", 1, r8 + 6, NULL);
    stw_add_raw(w, "gap", "I32", 1, r8, NULL, 8);
    stw_set_offsets(w, 2, 16, 20); // bytes [12, 16) unused: a gap is fine
    size_t size = 0;
    unsigned char *bytes = stw_build(w, &size);
    stw_free(w);
    struct safetensors *st = NULL;
    struct px_err err = {0};
    int rc = safetensors_open_memory(bytes, size, WHAT, &st, &err);
    if (rc != PX_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(safetensors_find(st, "rank8")->n_dims, 8);
    assert_non_null(safetensors_find(st, name));
    assert_int_equal(safetensors_get(st, 2)->offset - safetensors_get(st, 0)->offset, 16);
    safetensors_close(st);
    free(bytes);

    static const char *const names[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8",
                                        "U64", "U32", "U16", "U8", "BOOL", "F8_E4M3", "F8_E5M2"};
    static const size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1, 1, 1};
    for (int d = SAFETENSORS_F64; d <= SAFETENSORS_F8_E5M2; d++) {
        assert_string_equal(safetensors_dtype_name((enum safetensors_dtype)d), names[d]);
        assert_int_equal(safetensors_dtype_size((enum safetensors_dtype)d), sizes[d]);
        // Each dtype is accepted in a file.
        char hdr[160];
        snprintf(hdr, sizeof hdr, "{\"t\":{\"dtype\":\"%s\",\"shape\":[3],\"data_offsets\":[0,%zu]}}",
                 names[d], 3 * sizes[d]);
        bytes = stw_raw_file(hdr, 3 * sizes[d], &size);
        rc = safetensors_open_memory(bytes, size, WHAT, &st, &err);
        if (rc != PX_OK) {
            fail_msg("dtype %s: %s", names[d], err.msg);
        }
        safetensors_close(st);
        free(bytes);
    }
}

// ---- malformed files ----

struct bad_case {
    const char *header;  // raw header text, or NULL: build() makes the file
    size_t n_data;       // zero bytes after the header
    long long declared;  // header length written; -1: strlen(header)
    unsigned char *(*build)(size_t *size);
    int code;
    const char *substr; // must appear in the message (which must also name the file)
};

static unsigned char *build_short(size_t *size)
{
    *size = 5;
    unsigned char *b = calloc(1, 5);
    b[0] = 2;
    return b;
}

static unsigned char *build_overlap(size_t *size)
{
    struct stw *w = stw_new();
    int64_t s2[1] = {2};
    stw_add_f32(w, "a", "F32", 1, s2, NULL);
    stw_add_f32(w, "b", "F32", 1, s2, NULL);
    stw_set_offsets(w, 1, 4, 12);
    stw_add_f32(w, "pad", "F32", 1, s2, NULL); // data section long enough for b's end
    stw_set_offsets(w, 2, 12, 20);
    unsigned char *b = stw_build(w, size);
    stw_free(w);
    return b;
}

static unsigned char *build_duplicate(size_t *size)
{
    struct stw *w = stw_new();
    int64_t s1[1] = {1};
    stw_add_f32(w, "dup", "F32", 1, s1, NULL);
    stw_add_f32(w, "other", "F32", 1, s1, NULL);
    stw_add_f32(w, "dup", "F32", 1, s1, NULL);
    unsigned char *b = stw_build(w, size);
    stw_free(w);
    return b;
}

static unsigned char *build_long_name(size_t *size)
{
    char name[LIMIT_TENSOR_NAME_BYTES + 2];
    memset(name, 'x', LIMIT_TENSOR_NAME_BYTES + 1);
    name[LIMIT_TENSOR_NAME_BYTES + 1] = '\0';
    struct stw *w = stw_new();
    int64_t s1[1] = {1};
    stw_add_f32(w, name, "F32", 1, s1, NULL);
    unsigned char *b = stw_build(w, size);
    stw_free(w);
    return b;
}

static unsigned char *build_rank9(size_t *size)
{
    struct stw *w = stw_new();
    int64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    stw_add_f32(w, "deep", "F32", 9, s9, NULL);
    unsigned char *b = stw_build(w, size);
    stw_free(w);
    return b;
}

static unsigned char *build_negative_dim(size_t *size)
{
    struct stw *w = stw_new();
    int64_t s[2] = {2, -1};
    stw_add_raw(w, "neg", "F32", 2, s, NULL, 0);
    unsigned char *b = stw_build(w, size);
    stw_free(w);
    return b;
}

#define T(body) "{\"w\":{" body "}}"
static const struct bad_case k_bad[] = {
    /* 0 */ {NULL, 0, -1, build_short, PX_EFORMAT, "shorter than the 8-byte header length"},
    /* 1 */ {"{}", 0, 100, NULL, PX_EFORMAT, "truncated: header length 100 runs past the end"},
    /* 2 */ {"{}", 0, 200000000, NULL, PX_ELIMIT, "over LIMIT_SAFETENSORS_HEADER_BYTES"},
    /* 3 */ {"", 0, 0, NULL, PX_EFORMAT, "header length 0 is too small"},
    /* 4 */ {"{\"w\": ", 0, -1, NULL, PX_EFORMAT, "invalid JSON"},
    /* 5 */ {"[1, 2]", 0, -1, NULL, PX_EFORMAT, "header is not a JSON object"},
    /* 6 */ {"{\"w\": 5}", 0, -1, NULL, PX_EFORMAT, "tensor 'w': entry is not an object"},
    /* 7 */ {T("\"shape\":[1],\"data_offsets\":[0,4]"), 4, -1, NULL, PX_EFORMAT,
             "tensor 'w': missing \"dtype\""},
    /* 8 */ {T("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, -1, NULL, PX_EFORMAT,
             "tensor 'w': missing \"shape\""},
    /* 9 */ {T("\"dtype\":\"F32\",\"shape\":[1]"), 4, -1, NULL, PX_EFORMAT,
             "tensor 'w': missing \"data_offsets\""},
    /* 10 */ {T("\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': unknown dtype 'F128'"},
    /* 11 */ {NULL, 0, -1, build_negative_dim, PX_EFORMAT,
              "tensor 'neg': shape[1] = -1 is not a non-negative integer"},
    /* 12 */ {T("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': shape[0] = 1.5 is not a non-negative integer"},
    /* 13 */ {T("\"dtype\":\"F32\",\"shape\":[1e17],\"data_offsets\":[0,4]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': shape[0] = 1e+17 is over 2^53"},
    /* 14 */ {NULL, 0, -1, build_rank9, PX_ELIMIT, "tensor 'deep': rank 9 exceeds LIMIT_TENSOR_RANK"},
    /* 15 */ {T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': data_offsets [4, 0] are reversed"},
    /* 16 */ {T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': data_offsets end 8 is past the end of the data section"},
    /* 17 */ {T("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': 2 F32 elements need 8 bytes but data_offsets span 4"},
    /* 18 */ {NULL, 0, -1, build_overlap, PX_EFORMAT, "tensors 'a' [0, 8) and 'b' [4, 12) overlap"},
    /* 19 */ {NULL, 0, -1, build_duplicate, PX_EFORMAT, "tensor 'dup' appears more than once"},
    /* 20 */ {"{\"__metadata__\":{\"ok\":\"x\",\"k\":1}}", 0, -1, NULL, PX_EFORMAT,
              "__metadata__ key 'k': value is not a string"},
    /* 21 */ {T("\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,0]"),
              0, -1, NULL, PX_EFORMAT, "tensor 'w': shape product overflows"},
    /* 22 */ {T("\"dtype\":\"F32\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,0]"), 0,
              -1, NULL, PX_EFORMAT, "tensor 'w': byte size of the shape overflows"},
    /* 23 */ {"{\"\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, -1, NULL,
              PX_EFORMAT, "tensor #0 has an empty name"},
    /* 24 */ {NULL, 0, -1, build_long_name, PX_ELIMIT, "over LIMIT_TENSOR_NAME_BYTES (256)"},
    /* 25 */ {"{}  x", 0, -1, NULL, PX_EFORMAT, "unexpected data after the JSON value at byte 4"},
    /* 26 */ {T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4, -1, NULL, PX_EFORMAT,
              "tensor 'w': \"data_offsets\" must be [begin, end]"},
    /* 27 */ {T("\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]"), 4, -1, NULL, PX_EFORMAT,
              "tensor 'w': \"dtype\" is not a string"},
    /* 28 */ {T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': data_offsets[0] = -4 is not a non-negative integer"},
    /* 29 */ {T("\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': shape[0] is not a number"},
    /* 30 */ {T("\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[0,4]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': \"shape\" is not an array"},
    /* 31 */ {"{\"__metadata__\":[]}", 0, -1, NULL, PX_EFORMAT, "\"__metadata__\" is not an object"},
    /* 32 */ {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, -1, NULL, PX_EFORMAT,
              "\"__metadata__\" appears more than once"},
    /* 33 */ {"{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, -1, NULL, PX_EFORMAT,
              "__metadata__ key 'k' appears more than once"},
    /* 34 */ {"{\"__metadata__\":{}}", 0, 1, NULL, PX_EFORMAT, "header length 1 is too small"},
    /* 35 */ {T("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1e300]"), 4, -1, NULL,
              PX_EFORMAT, "tensor 'w': data_offsets[1] = 1e+300 is over 2^53"},
};
#undef T

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        const struct bad_case *c = &k_bad[i];
        size_t size = 0;
        unsigned char *bytes = NULL;
        if (c->build != NULL) {
            bytes = c->build(&size);
        } else if (c->declared < 0) {
            bytes = stw_raw_file(c->header, c->n_data, &size);
        } else {
            bytes = stw_raw_file_len((uint64_t)c->declared, c->header, c->n_data, &size);
        }
        struct safetensors *st = NULL;
        struct px_err err = {0};
        int rc = safetensors_open_memory(bytes, size, WHAT, &st, &err);
        free(bytes);
        if (rc != c->code) {
            safetensors_close(st);
            fail_msg("case %zu: status %d (%s), want %d; message: %s", i, rc, px_status_str(rc),
                     c->code, err.msg);
        }
        if (st != NULL) {
            fail_msg("case %zu: handle returned on failure", i);
        }
        if (strstr(err.msg, c->substr) == NULL || strstr(err.msg, WHAT) == NULL) {
            fail_msg("case %zu: message \"%s\" lacks \"%s\" or the file name", i, err.msg,
                     c->substr);
        }
    }
}

// ---- files on disk ----

static void test_open_file(void **state)
{
    (void)state;
    char dir[256];
    char path[512];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    struct stw *w = stw_new();
    int64_t s[1] = {3};
    float vals[3] = {0.5f, -1.0f, 2.0f};
    stw_add_f32(w, "x", "F16", 1, s, vals);
    stw_set_metadata(w, "format", "pt");
    assert_int_equal(stw_write(w, path), 0);
    stw_free(w);

    struct safetensors *st = NULL;
    struct px_err err = {0};
    int rc = safetensors_open(path, &st, &err);
    if (rc != PX_OK) {
        fail_msg("%s", err.msg);
    }
    check_values(safetensors_find(st, "x"), vals, 3, 0.0f);
    assert_string_equal(safetensors_metadata(st, "format"), "pt");
    safetensors_close(st);

    // A malformed file on disk: the message names the path.
    tu_write_file(dir, "bad.safetensors", "\x07\0\0\0\0\0\0\0{\"w\":5}", 15);
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    st = NULL;
    assert_int_equal(safetensors_open(path, &st, &err), PX_EFORMAT);
    assert_null(st);
    assert_non_null(strstr(err.msg, path));

    // An empty file.
    tu_write_file(dir, "empty.safetensors", "", 0);
    snprintf(path, sizeof path, "%s/empty.safetensors", dir);
    assert_int_equal(safetensors_open(path, &st, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "shorter than the 8-byte"));

    // A missing file.
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    assert_int_equal(safetensors_open(path, &st, &err), PX_ENOENT);
    assert_null(st);
    assert_non_null(strstr(err.msg, path));
    tu_rmtree(dir);
}

// ---- fault injection ----

// Each allocation made by open fails in turn: a clean PX_ENOMEM, no handle, no leak. cJSON
// allocates through px_malloc (base/jsonx.c), so its allocations are injected too (one per
// header node), and its failures must read as PX_ENOMEM, not PX_EFORMAT "invalid JSON".
static void test_fault_injection(void **state)
{
    (void)state;
    size_t size = 0;
    unsigned char *bytes = build_valid(true, &size);
    size_t baseline = px_mem_live_bytes();
    long n = 1;
    for (;; n++) {
        assert_true(n < 10000);
        struct safetensors *st = NULL;
        struct px_err err = {0};
        px_mem_fail_at(n);
        int rc = safetensors_open_memory(bytes, size, WHAT, &st, &err);
        int fired = px_mem_fault_fired();
        px_mem_fail_at(0);
        if (rc == PX_OK) {
            assert_false(fired);
            assert_int_equal(safetensors_count(st), 7);
            safetensors_close(st);
            assert_int_equal(px_mem_live_bytes(), baseline);
            break;
        }
        if (rc != PX_ENOMEM || st != NULL || px_mem_live_bytes() != baseline) {
            fail_msg("fail_at %ld: status %d (%s), live %zu vs %zu", n, rc, err.msg,
                     px_mem_live_bytes(), baseline);
        }
        assert_non_null(strstr(err.msg, WHAT));
    }
    print_message("open_memory survived %ld injected allocation failures\n", n - 1);
    assert_true(n > 20); // the handle, the name pool and cJSON's nodes
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_roundtrip),
        cmocka_unit_test(test_f16_special),
        cmocka_unit_test(test_f16c_matches_scalar),
        cmocka_unit_test(test_many_tensors),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_fault_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
