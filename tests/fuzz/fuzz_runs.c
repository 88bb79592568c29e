// fuzz_runs.c — the model registry's kind readers on arbitrary bytes (what propmodel_load and
// recmodel_load run once the manifest's checksums pass): run.json through
// propmodel_record_read, recommender.json (the recommender's report) through
// recmodel_info_read, and model.bin through recmodel_decode then rec_model_index.
// Invariants: every failure has a message naming the file and leaves its output zeroed; an
// accepted run record has >= 1 feature, each with a name and a column, a target with both
// values and a finite threshold; an accepted report names model.bin's sha256; an accepted
// model.bin has ids, held products sorted and in range, finite embeddings, and indexes; nothing
// leaks.
// Replayed over tests/fuzz/corpus/runs/ by ctest; a libFuzzer target with -DPX_FUZZ=ON
// (use tests/fuzz/fuzz_runs.dict).
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#include "jsonx.h"
#include "mem.h"
#include "propmodel.h"
#include "recmodel.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const char *text, size_t size)
{
    struct px_err err = {0};
    cJSON *root = NULL;
    if (jsonx_parse(text, size, "run.json", &root, &err) != PX_OK) {
        CHECK(root == NULL && err.msg[0] != '\0');
        return;
    }
    struct ml_spec spec;
    double threshold = 0;
    const char *sha = NULL;
    memset(&err, 0, sizeof err);
    if (propmodel_record_read(root, &spec, &threshold, &sha, &err) == PX_OK) {
        CHECK(spec.n_features >= 1 && spec.features != NULL);
        for (size_t i = 0; i < spec.n_features; i++) {
            CHECK(spec.features[i].name != NULL && spec.features[i].column != NULL);
        }
        CHECK(spec.target != NULL && spec.positive != NULL && spec.negative != NULL);
        CHECK(isfinite(threshold));
        ml_spec_free(&spec);
    } else {
        CHECK(err.msg[0] != '\0' && strstr(err.msg, "run.json") != NULL);
        CHECK(spec.features == NULL && spec.n_features == 0 && spec.target == NULL);
        CHECK(sha == NULL);
    }
    struct rec_report report;
    memset(&err, 0, sizeof err);
    if (recmodel_info_read(root, &sha, &report, &err) == PX_OK) {
        CHECK(sha != NULL);
    } else {
        CHECK(sha == NULL && err.msg[0] != '\0');
    }
    cJSON_Delete(root);
}

static void check_bin(const uint8_t *data, size_t size)
{
    struct rec_model m;
    struct px_err err = {0};
    if (recmodel_decode(data, size, "model.bin", &m, &err) != PX_OK) {
        CHECK(err.msg[0] != '\0' && strstr(err.msg, "model.bin") != NULL);
        CHECK(m.n_customers == 0 && m.emb == NULL && m.held == NULL);
        return;
    }
    CHECK(m.n_customers >= 1 && m.n_products >= 1 && m.dim >= 1);
    for (size_t i = 0; i < m.n_customers; i++) {
        CHECK(m.customer_id[i] != NULL && m.customer_label[i] != NULL);
        for (uint32_t k = m.held_ptr[i]; k < m.held_ptr[i + 1]; k++) {
            CHECK(m.held[k] < m.n_products);
        }
    }
    for (size_t k = 0; k < (m.n_customers + m.n_products) * (size_t)m.dim; k++) {
        CHECK(isfinite(m.emb[k]));
    }
    memset(&err, 0, sizeof err);
    int rc = rec_model_index(&m, &err);
    CHECK(rc == PX_OK || err.msg[0] != '\0');
    if (rc == PX_OK) {
        CHECK(rec_model_find_customer(&m, m.customer_id[0]) >= 0);
    }
    rec_model_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) {
        return 0;
    }
    size_t live = px_mem_live_bytes();
    check_json((const char *)data, size);
    check_bin(data, size);
    CHECK(px_mem_live_bytes() == live);
    return 0;
}
