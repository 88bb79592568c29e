// fuzz_bundle_manifest.c — the bundle's JSON parsers on arbitrary bytes: manifest.json
// (bundle_manifest_parse), bundle.json (searchbundle_info_parse) and registry.json
// (registry_state_parse). Invariants: a failure leaves the output zeroed; an accepted manifest
// has sorted, unique, safe paths (bundle_path_ok: no "..", no absolute or hidden names), 64-digit
// digests, sizes that add up to total_bytes within LIMIT_BUNDLE_BYTES, and at most
// LIMIT_BUNDLE_FILES entries; an accepted registry state has valid aliases pointing at versions
// 1..last_version; nothing leaks.
// Replayed over tests/fuzz/corpus/bundle_manifest/ by ctest; a libFuzzer target with
// -DPX_FUZZ=ON (use tests/fuzz/fuzz_bundle_manifest.dict).
#include <stdint.h>
#include <string.h>

#include "bundle.h"
#include "searchbundle.h"
#include "mem.h"
#include "registry.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t live = px_mem_live_bytes();
    struct bundle_manifest m;
    int rc = bundle_manifest_parse(text, size, &m, NULL);
    if (rc != PX_OK) {
        CHECK(m.files == NULL && m.n_files == 0);
    } else {
        CHECK(m.format_version == BUNDLE_FORMAT_VERSION);
        CHECK(bundle_check_name(m.name, NULL) == PX_OK);
        CHECK(m.n_files <= LIMIT_BUNDLE_FILES);
        uint64_t total = 0;
        for (size_t i = 0; i < m.n_files; i++) {
            CHECK(bundle_path_ok(m.files[i].path));
            CHECK(strcmp(m.files[i].path, BUNDLE_MANIFEST) != 0);
            CHECK(m.files[i].path[0] != '/' && m.files[i].path[0] != '.');
            CHECK(i == 0 || strcmp(m.files[i - 1].path, m.files[i].path) < 0);
            CHECK(strlen(m.files[i].sha256) == 64);
            CHECK(bundle_manifest_find(&m, m.files[i].path) == (long)i);
            total += m.files[i].size;
        }
        CHECK(total == m.total_bytes && total <= LIMIT_BUNDLE_BYTES);
    }
    bundle_manifest_free(&m);

    struct searchbundle_info info;
    if (searchbundle_info_parse(text, size, &info, NULL) == PX_OK) {
        CHECK(bundle_check_name(info.name, NULL) == PX_OK);
        CHECK(!info.dense || strncmp(info.model_id, "sha256:", 7) == 0);
        CHECK(strlen(info.model_source) < sizeof info.model_source);
    }

    struct registry_state st;
    if (registry_state_parse(text, size, NULL, &st, NULL) == PX_OK) {
        CHECK(st.n_aliases <= LIMIT_REGISTRY_ALIASES);
        for (size_t i = 0; i < st.n_aliases; i++) {
            CHECK(registry_check_alias(st.aliases[i].name, NULL) == PX_OK);
            CHECK(st.aliases[i].version >= 1 && st.aliases[i].version <= st.last_version);
            CHECK(i == 0 || strcmp(st.aliases[i - 1].name, st.aliases[i].name) < 0);
        }
    } else {
        CHECK(st.n_aliases == 0 && st.last_version == 0);
    }
    CHECK(px_mem_live_bytes() == live);
    return 0;
}
