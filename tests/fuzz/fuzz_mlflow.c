// fuzz_mlflow.c — the body of POST /invocations (MLflow's scoring protocol) on arbitrary bytes:
// jsonx_parse, then api_mlflow_parse. Invariants: parsing returns PX_OK, PX_EINVAL or PX_EFORMAT
// with a message; on PX_OK there are 1..LIMIT_HTTP_QUERIES queries, each a non-empty string of
// at most LIMIT_QUERY_BYTES, and top is in 1..LIMIT_HTTP_TOP. Nothing leaks (px_mem_live_bytes).
// Replayed over tests/fuzz/corpus/mlflow/ by ctest; a libFuzzer target with -DPX_FUZZ=ON.
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#include "api.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            __builtin_trap();                                                                   \
        }                                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > LIMIT_HTTP_BODY) {
        return 0;
    }
    size_t live = px_mem_live_bytes();
    struct px_err err = {0};
    cJSON *root = NULL;
    if (jsonx_parse((const char *)data, size, "body", &root, &err) != PX_OK) {
        CHECK(root == NULL && err.msg[0] != '\0');
        return 0;
    }
    struct api_mlflow_input in = {0};
    int rc = api_mlflow_parse(root, &in, &err);
    CHECK(rc == PX_OK || rc == PX_EINVAL || rc == PX_EFORMAT);
    if (rc == PX_OK) {
        CHECK(in.n >= 1 && in.n <= LIMIT_HTTP_QUERIES);
        CHECK(in.top >= 1 && in.top <= LIMIT_HTTP_TOP);
        for (size_t i = 0; i < in.n; i++) {
            size_t n = strlen(in.query[i]);
            CHECK(n >= 1 && n <= LIMIT_QUERY_BYTES);
        }
    } else {
        CHECK(err.msg[0] != '\0');
    }
    cJSON_Delete(root);
    CHECK(px_mem_live_bytes() == live);
    return 0;
}
