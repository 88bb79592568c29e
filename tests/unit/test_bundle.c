// test_bundle.c — model bundles and the registry (src/registry): names and paths, manifest
// seal/verify and every kind of corruption (each error names the file), manifest and
// registry.json parsing (table of malformed inputs), bundle.json round trip, versions that are
// never reused, aliases, delete refusal, kinds (one kind per name, registry_open checks the
// kind and names a changed file), allocation failures, the file-tree copy and remove, and uuids.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "searchbundle.h"
#include "fsx.h"
#include "mem.h"
#include "registry.h"
#include "sha256.h"
#include "testutil.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

// A fresh bundle directory dir/<leaf> with three files, sealed.
static void make_bundle(const char *leaf, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", g_dir, leaf);
    assert_int_equal(mkdir(out, 0755), 0);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/model", out);
    assert_int_equal(mkdir(sub, 0755), 0);
    tu_write_text(out, "customers.db", "pretend this is SQLite");
    tu_write_text(out, "lexicon.json", "{\"concepts\": {}}");
    tu_write_text(sub, "config.json", "{\"hidden_size\": 16}");
    struct px_err err = {0};
    struct bundle_manifest m;
    if (bundle_seal(out, "Banking_Customer_Similarity", BUNDLE_KIND_SEARCH,
                    "2024-05-01T12:00:00.000000Z", &m, &err) != PX_OK) {
        fail_msg("seal: %s", err.msg);
    }
    assert_int_equal(m.n_files, 3);
    assert_string_equal(m.files[0].path, "customers.db");
    assert_string_equal(m.files[1].path, "lexicon.json");
    assert_string_equal(m.files[2].path, "model/config.json");
    assert_int_equal(m.files[0].size, 22);
    bundle_manifest_free(&m);
}

static void test_names_and_paths(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool name_ok, path_ok;
    } cases[] = {
        {"Banking_Customer_Similarity", true, true},
        {"a", true, true},
        {"v1.2-rc", true, true},
        {"", false, false},
        {".hidden", false, false},
        {"..", false, false},
        {"a/b", false, true},
        {"a/../b", false, false},
        {"/abs", false, false},
        {"a//b", false, false},
        {"a/", false, false},
        {"sp ace", false, false},
        {"caf\xc3\xa9", false, false},
        {"model/1_Pooling/config.json", false, true},
        {"a/b/c/d/e/f/g/h", false, true},
        {"a/b/c/d/e/f/g/h/i", false, false}, // deeper than LIMIT_BUNDLE_DEPTH
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool name_ok = bundle_check_name(cases[i].s, NULL) == PX_OK;
        bool path_ok = bundle_path_ok(cases[i].s);
        if (name_ok != cases[i].name_ok || path_ok != cases[i].path_ok) {
            fail_msg("case %zu '%s': name %d path %d", i, cases[i].s, name_ok, path_ok);
        }
    }
    char longname[LIMIT_BUNDLE_NAME_BYTES + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(bundle_check_name(longname, NULL), PX_EINVAL);
}

static void test_seal_verify(void **state)
{
    (void)state;
    char dir[512];
    struct px_err err = {0};
    struct bundle_manifest m;
    make_bundle("ok", dir, sizeof dir);
    if (bundle_verify(dir, &m, &err) != PX_OK) {
        fail_msg("verify: %s", err.msg);
    }
    assert_string_equal(m.name, "Banking_Customer_Similarity");
    assert_int_equal(m.n_files, 3);
    assert_true(bundle_manifest_find(&m, "lexicon.json") == 1);
    assert_true(bundle_manifest_find(&m, "nope") == -1);
    bundle_manifest_free(&m);
}

// Each corruption is refused, and the message names the file.
static void test_corruption(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        const char *want; // substring of the error
    } cases[] = {
        {"flip", "customers.db: sha256 mismatch (manifest "},
        {"grow", "lexicon.json: size mismatch (manifest 16 bytes, file 17 bytes)"},
        {"remove", "model/config.json: missing"},
        {"extra", "extra.bin: not in the manifest"},
        {"hidden", ".tmp: not in the manifest"},
        {"symlink", "link: not a regular file (a symbolic link)"},
        {"fifo", "pipe: not a regular file (a special file)"},
        {"deep", "d/d/d/d/d/d/d/d: directories nested deeper than 8"},
        {"manifest-missing", "manifest.json: missing"},
        {"manifest-garbage", "manifest.json"},
        {"manifest-edit", "customers.db: sha256 mismatch"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[512], path[700], leaf[64];
        snprintf(leaf, sizeof leaf, "c%zu", i);
        make_bundle(leaf, dir, sizeof dir);
        const char *w = cases[i].what;
        if (!strcmp(w, "flip")) {
            snprintf(path, sizeof path, "%s/customers.db", dir);
            FILE *f = fopen(path, "r+b");
            fseek(f, 5, SEEK_SET);
            fputc('X', f);
            fclose(f);
        } else if (!strcmp(w, "grow")) {
            snprintf(path, sizeof path, "%s/lexicon.json", dir);
            FILE *f = fopen(path, "ab");
            fputc('\n', f);
            fclose(f);
        } else if (!strcmp(w, "remove")) {
            snprintf(path, sizeof path, "%s/model/config.json", dir);
            unlink(path);
        } else if (!strcmp(w, "extra")) {
            tu_write_text(dir, "extra.bin", "x");
        } else if (!strcmp(w, "hidden")) {
            tu_write_text(dir, ".tmp", "x");
        } else if (!strcmp(w, "symlink")) {
            snprintf(path, sizeof path, "%s/link", dir);
            assert_int_equal(symlink("/etc/passwd", path), 0);
        } else if (!strcmp(w, "fifo")) {
            snprintf(path, sizeof path, "%s/pipe", dir);
            assert_int_equal(mkfifo(path, 0600), 0);
        } else if (!strcmp(w, "deep")) {
            snprintf(path, sizeof path, "%s", dir);
            for (int k = 0; k < 8; k++) {
                strcat(path, "/d");
                assert_int_equal(mkdir(path, 0755), 0);
            }
        } else if (!strcmp(w, "manifest-missing")) {
            snprintf(path, sizeof path, "%s/manifest.json", dir);
            unlink(path);
        } else if (!strcmp(w, "manifest-garbage")) {
            tu_write_text(dir, "manifest.json", "{\"magic\": ");
        } else if (!strcmp(w, "manifest-edit")) {
            // a digit of the first digest changed in the manifest itself
            snprintf(path, sizeof path, "%s/manifest.json", dir);
            char *text = NULL;
            size_t len = 0;
            assert_int_equal(fsx_read_file(path, 1 << 20, &text, &len, NULL), PX_OK);
            char *d = strstr(text, "\"sha256\": \"") + 11;
            *d = *d == '0' ? '1' : '0';
            tu_write_file(dir, "manifest.json", text, len);
            px_free(text);
        }
        struct px_err err = {0};
        int rc = bundle_verify(dir, NULL, &err);
        if (rc == PX_OK || strstr(err.msg, cases[i].want) == NULL) {
            fail_msg("case %zu (%s): rc %d, message '%s', want '%s'", i, w, rc, err.msg,
                     cases[i].want);
        }
        printf("case %zu (%s): %s\n", i, w, err.msg);
    }
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEAD                                                                                       \
    "{\"magic\": \"prospect-bundle\", \"format_version\": 1, \"name\": \"B\", "                    \
    "\"created\": \"2024\", \"files\": "

static void test_manifest_parse(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int rc;
        const char *want;
    } cases[] = {
        {HEAD "[]}", PX_OK, ""},
        {HEAD "[{\"path\": \"a\", \"size\": 1, \"sha256\": \"" HEX64 "\"}]}", PX_OK, ""},
        {"[]", PX_EFORMAT, "not a JSON object"},
        {"{\"magic\": \"nope\"}", PX_EFORMAT, "magic"},
        {"{\"magic\": \"prospect-bundle\", \"format_version\": 2, \"name\": \"B\", \"created\": "
         "\"x\", \"files\": []}",
         PX_EUNSUPPORTED, "newer"},
        {"{\"magic\": \"prospect-bundle\", \"format_version\": 1, \"name\": \"../B\", "
         "\"created\": \"x\", \"files\": []}",
         PX_EINVAL, "bundle name"},
        {HEAD "{}}", PX_EFORMAT, "\"files\" must be an array"},
        {HEAD "[1]}", PX_EFORMAT, "files[0]: not an object"},
        {HEAD "[{\"path\": \"../etc/passwd\", \"size\": 1, \"sha256\": \"" HEX64 "\"}]}",
         PX_EFORMAT, "not allowed"},
        {HEAD "[{\"path\": \"/etc/passwd\", \"size\": 1, \"sha256\": \"" HEX64 "\"}]}", PX_EFORMAT,
         "not allowed"},
        {HEAD "[{\"path\": \"manifest.json\", \"size\": 1, \"sha256\": \"" HEX64 "\"}]}",
         PX_EFORMAT, "not allowed"},
        {HEAD "[{\"path\": \"b\", \"size\": 1, \"sha256\": \"" HEX64 "\"}, {\"path\": \"a\", "
              "\"size\": 1, \"sha256\": \"" HEX64 "\"}]}",
         PX_EFORMAT, "files[1]: \"a\" is out of order"},
        {HEAD "[{\"path\": \"a\", \"size\": 1, \"sha256\": \"" HEX64 "\"}, {\"path\": \"a\", "
              "\"size\": 1, \"sha256\": \"" HEX64 "\"}]}",
         PX_EFORMAT, "repeated"},
        {HEAD "[{\"path\": \"a\", \"size\": -1, \"sha256\": \"" HEX64 "\"}]}", PX_EFORMAT, "size"},
        {HEAD "[{\"path\": \"a\", \"size\": 1.5, \"sha256\": \"" HEX64 "\"}]}", PX_EFORMAT, "size"},
        {HEAD "[{\"path\": \"a\", \"size\": 1, \"sha256\": \"ABC\"}]}", PX_EFORMAT, "sha256"},
        {HEAD "[{\"path\": \"a\", \"size\": 1}]}", PX_EFORMAT, "sha256"},
        {HEAD "[{\"path\": 7, \"size\": 1, \"sha256\": \"" HEX64 "\"}]}", PX_EFORMAT, "path"},
        {"", PX_EFORMAT, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct bundle_manifest m;
        struct px_err err = {0};
        int rc = bundle_manifest_parse(cases[i].json, strlen(cases[i].json), &m, &err);
        if (rc != cases[i].rc || strstr(err.msg, cases[i].want) == NULL) {
            fail_msg("case %zu: rc %d (want %d), message '%s' (want '%s')", i, rc, cases[i].rc,
                     err.msg, cases[i].want);
        }
        if (rc != PX_OK) {
            assert_null(m.files);
        }
        bundle_manifest_free(&m);
    }
}

static void test_info_roundtrip(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/meta", g_dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    struct searchbundle_info in = {0}, out;
    snprintf(in.name, sizeof in.name, "B-1");
    bundle_now_utc(in.created, sizeof in.created);
    snprintf(in.model_uuid, sizeof in.model_uuid, "%032d", 7);
    snprintf(in.prospect_version, sizeof in.prospect_version, "0.1.0");
    in.rows = 300;
    in.columns = 35;
    in.dense = true;
    in.n_vectors = 300;
    in.dim = 16;
    snprintf(in.model_id, sizeof in.model_id, "sha256:%s", HEX64);
    snprintf(in.model_source, sizeof in.model_source, "/models/a \"quoted\"\nline");
    in.has_template = true;
    struct px_err err = {0};
    assert_int_equal(searchbundle_write_meta(dir, &in, 1234, &err), PX_OK);
    if (searchbundle_info_read(dir, &out, &err) != PX_OK) {
        fail_msg("read: %s", err.msg);
    }
    assert_int_equal(memcmp(&in, &out, sizeof in), 0);
    // MLmodel: MLflow's keys and the signature as MLflow writes it
    char path[600], text[4096] = {0};
    snprintf(path, sizeof path, "%s/MLmodel", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_true(n > 0);
    static const char *const keys[] = {
        "artifact_path: \"B-1\"\n",
        "flavors:\n  prospect:\n",
        "model_size_bytes: 1234\n",
        "model_uuid: 00000000000000000000000000000007\n",
        "  inputs: '[{\"name\": \"query\", \"type\": \"string\", \"required\": true}]'\n",
        "{\"name\": \"top_n\", \"type\": \"long\", \"default\": 5, \"shape\": null}",
        "{\"name\": \"show_score\", \"type\": \"boolean\", \"default\": true, \"shape\": null}",
        "    model_source: \"/models/a \\\"quoted\\\"\\u000aline\"\n",
        "utc_time_created: '",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strstr(text, keys[i]) == NULL)
            fail_msg("MLmodel lacks %s:\n%s", keys[i], text);
    }
    // a bundle.json that lies about its files is refused
    static const char *const bad[] = {
        "{\"magic\": \"prospect-bundle\", \"format_version\": 1}",
        "{\"magic\": \"x\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(searchbundle_info_parse(bad[i], strlen(bad[i]), &out, NULL), PX_EFORMAT);
    }
}

// Stages, seals (as kind) and publishes one version; returns its number, or -rc when refused
// (the message in *err, the staging directory removed).
static int publish_kind(const char *root, const char *name, const char *kind, struct px_err *err)
{
    char stage[1024];
    int v = 0;
    if (registry_stage(root, name, stage, sizeof stage, err) != PX_OK)
        fail_msg("%s", err->msg);
    tu_write_text(stage, "model.bin", kind);
    assert_int_equal(bundle_seal(stage, name, kind, "t", NULL, err), PX_OK);
    int rc = registry_publish(root, name, stage, &v, err);
    if (rc != PX_OK) {
        assert_int_equal(bundle_remove_tree(stage, NULL), PX_OK);
        return -rc;
    }
    return v;
}

static int publish_one(const char *root, const char *name)
{
    struct px_err err = {0};
    int v = publish_kind(root, name, BUNDLE_KIND_SEARCH, &err);
    if (v <= 0)
        fail_msg("%s", err.msg);
    return v;
}

static void test_registry(void **state)
{
    (void)state;
    char root[512];
    struct px_err err = {0};
    struct registry_ref ref;
    int v = 0, *vs = NULL;
    size_t n = 0;
    snprintf(root, sizeof root, "%s/registry", g_dir);
    assert_int_equal(publish_one(root, "M"), 1);
    assert_int_equal(publish_one(root, "M"), 2);
    assert_int_equal(publish_one(root, "M"), 3);
    assert_int_equal(publish_one(root, "Other"), 1);
    char **names = NULL;
    assert_int_equal(registry_names(root, &names, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "M");
    registry_names_free(names, n);
    // a bare name is the latest version until production is set
    assert_int_equal(registry_parse_ref("M", &ref, &err), PX_OK);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_OK);
    assert_int_equal(v, 3);
    assert_int_equal(registry_set_alias(root, "M", "production", 2, &err), PX_OK);
    assert_int_equal(registry_set_alias(root, "M", "staging", 3, &err), PX_OK);
    assert_int_equal(registry_set_alias(root, "M", "production", 9, &err), PX_ENOENT);
    assert_int_equal(registry_set_alias(root, "M", "Prod!", 1, &err), PX_EINVAL);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_OK);
    assert_int_equal(v, 2);
    assert_int_equal(registry_parse_ref("M@staging", &ref, &err), PX_OK);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_OK);
    assert_int_equal(v, 3);
    assert_int_equal(registry_parse_ref("M/1", &ref, &err), PX_OK);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_OK);
    assert_int_equal(v, 1);
    assert_int_equal(registry_parse_ref("M/7", &ref, &err), PX_OK);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_ENOENT);
    assert_int_equal(registry_parse_ref("Nobody", &ref, &err), PX_OK);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_ENOENT);
    // deleting what a stage points at is refused, naming the stage; --force clears it
    assert_int_equal(registry_delete(root, "M", 2, false, NULL, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "production"));
    size_t cleared = 0;
    assert_int_equal(registry_delete(root, "M", 2, true, &cleared, &err), PX_OK);
    assert_int_equal(cleared, 1);
    assert_int_equal(registry_parse_ref("M", &ref, &err), PX_OK);
    assert_int_equal(registry_resolve(root, &ref, &v, NULL, 0, &err), PX_OK);
    assert_int_equal(v, 3); // production gone: the latest
    // the latest deleted: its number is never given again
    assert_int_equal(registry_set_alias(root, "M", "staging", 1, &err), PX_OK);
    assert_int_equal(registry_delete(root, "M", 3, false, NULL, &err), PX_OK);
    assert_int_equal(publish_one(root, "M"), 4);
    assert_int_equal(registry_versions(root, "M", &vs, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    assert_int_equal(vs[0], 1);
    assert_int_equal(vs[1], 4);
    px_free(vs);
    assert_int_equal(registry_delete(root, "M", 3, false, NULL, &err), PX_ENOENT);
    // nothing left behind by staging or deletion
    char path[700];
    snprintf(path, sizeof path, "ls -A %s/M | grep -c '^\\.' | grep -qx 1", root); // .lock only
    assert_int_equal(system(path), 0);
}

static void test_refs(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        int version;
        const char *alias;
    } cases[] = {
        {"A", PX_OK, 0, ""},
        {"A/3", PX_OK, 3, ""},
        {"A@production", PX_OK, 0, "production"},
        {"A@12", PX_OK, 12, ""},
        {"A@0", PX_EINVAL, 0, ""},
        {"A/0", PX_EINVAL, 0, ""},
        {"A/03", PX_EINVAL, 0, ""},
        {"A/-1", PX_EINVAL, 0, ""},
        {"A/", PX_EINVAL, 0, ""},
        {"A/1x", PX_EINVAL, 0, ""},
        {"A/99999999999", PX_EINVAL, 0, ""},
        {"A@", PX_EINVAL, 0, ""},
        {"A@Prod", PX_EINVAL, 0, ""},
        {"/3", PX_EINVAL, 0, ""},
        {"../x/1", PX_EINVAL, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct registry_ref r;
        int rc = registry_parse_ref(cases[i].s, &r, NULL);
        if (rc != cases[i].rc ||
            (rc == PX_OK && (r.version != cases[i].version || strcmp(r.alias, cases[i].alias)))) {
            fail_msg("case %zu '%s': rc %d version %d alias '%s'", i, cases[i].s, rc, r.version,
                     r.alias);
        }
    }
    static const char *const bad_state[] = {
        "{}",
        "{\"magic\": \"prospect-registry\", \"format_version\": 1, \"name\": \"other\", "
        "\"last_version\": 1, \"aliases\": {}}",
        "{\"magic\": \"prospect-registry\", \"format_version\": 1, \"name\": \"A\", "
        "\"last_version\": 1, \"aliases\": {\"production\": 2}}",
        "{\"magic\": \"prospect-registry\", \"format_version\": 1, \"name\": \"A\", "
        "\"last_version\": 1, \"aliases\": {\"Bad Name\": 1}}",
    };
    for (size_t i = 0; i < sizeof bad_state / sizeof bad_state[0]; i++) {
        struct registry_state st;
        if (registry_state_parse(bad_state[i], strlen(bad_state[i]), "A", &st, NULL) == PX_OK) {
            fail_msg("state case %zu accepted", i);
        }
    }
}

static void test_kinds(void **state)
{
    (void)state;
    char root[512], dir[1024], path[1100];
    struct px_err err = {0};
    struct registry_ref ref;
    struct registry_state st;
    struct bundle_manifest m;
    int v = 0;
    snprintf(root, sizeof root, "%s/kinds", g_dir);
    assert_int_equal(publish_kind(root, "S", BUNDLE_KIND_SEARCH, &err), 1);
    assert_int_equal(publish_kind(root, "P", BUNDLE_KIND_PROPENSITY, &err), 1);
    assert_int_equal(publish_kind(root, "P", BUNDLE_KIND_PROPENSITY, &err), 2);
    assert_int_equal(publish_kind(root, "R", BUNDLE_KIND_RECOMMENDER, &err), 1);
    // a name holds one kind: another kind's version is refused, naming both
    assert_int_equal(publish_kind(root, "P", BUNDLE_KIND_SEARCH, &err), -PX_EINVAL);
    assert_non_null(strstr(err.msg, "'P' holds a propensity model"));
    assert_non_null(strstr(err.msg, "a search bundle cannot"));
    assert_int_equal(publish_kind(root, "S", BUNDLE_KIND_RECOMMENDER, &err), -PX_EINVAL);
    int *vs = NULL;
    size_t nv = 0;
    assert_int_equal(registry_versions(root, "P", &vs, &nv, &err), PX_OK);
    assert_int_equal(nv, 2); // nothing was added by the refused publish
    px_free(vs);
    // registry.json records the kind; one from before kinds is taken from the latest manifest
    assert_int_equal(registry_read_state(root, "R", &st, &err), PX_OK);
    assert_string_equal(st.kind, BUNDLE_KIND_RECOMMENDER);
    snprintf(path, sizeof path, "%s/R", root);
    tu_write_text(path, "registry.json",
                  "{\"magic\": \"prospect-registry\", \"format_version\": 1, \"name\": \"R\", "
                  "\"last_version\": 1, \"aliases\": {}}");
    assert_int_equal(publish_kind(root, "R", BUNDLE_KIND_PROPENSITY, &err), -PX_EINVAL);
    assert_int_equal(publish_kind(root, "R", BUNDLE_KIND_RECOMMENDER, &err), 2);
    // open checks the kind, the name and every file
    assert_int_equal(
        registry_open(root, "P", BUNDLE_KIND_PROPENSITY, &ref, &v, dir, sizeof dir, &m, &err),
        PX_OK);
    assert_int_equal(v, 2);
    assert_string_equal(m.kind, BUNDLE_KIND_PROPENSITY);
    bundle_manifest_free(&m);
    assert_int_equal(registry_open(root, "P@1", NULL, &ref, &v, dir, sizeof dir, NULL, &err),
                     PX_OK);
    assert_int_equal(v, 1);
    assert_int_equal(
        registry_open(root, "P/1", BUNDLE_KIND_SEARCH, &ref, &v, dir, sizeof dir, NULL, &err),
        PX_EINVAL);
    assert_string_equal(err.msg, "P/1: a propensity model, not a search bundle");
    tu_write_text(dir, "model.bin", "changed"); // dir is still P/1's
    assert_int_equal(
        registry_open(root, "P/1", BUNDLE_KIND_PROPENSITY, &ref, &v, dir, sizeof dir, NULL, &err),
        PX_EFORMAT);
    assert_non_null(strstr(err.msg, "P/1: model.bin: s"));
    tu_write_text(dir, "extra.json", "{}");
    assert_int_equal(registry_open(root, "P/1", NULL, &ref, &v, dir, sizeof dir, NULL, &err),
                     PX_EFORMAT);
    assert_string_equal(err.msg, "P/1: extra.json: not in the manifest");
    // a manifest without "kind" (written before kinds) is a search bundle
    static const char old[] = "{\"magic\": \"prospect-bundle\", \"format_version\": 1, "
                              "\"name\": \"S\", \"created\": \"t\", \"files\": []}";
    assert_int_equal(bundle_manifest_parse(old, strlen(old), &m, &err), PX_OK);
    assert_string_equal(m.kind, BUNDLE_KIND_SEARCH);
    bundle_manifest_free(&m);
    static const char odd[] = "{\"magic\": \"prospect-bundle\", \"format_version\": 1, "
                              "\"name\": \"S\", \"kind\": \"toaster\", \"created\": \"t\", "
                              "\"files\": []}";
    assert_int_equal(bundle_manifest_parse(odd, strlen(odd), &m, &err), PX_EUNSUPPORTED);
    // a sealed directory can only be published under the name it was sealed for
    char stage[1024];
    assert_int_equal(registry_stage(root, "S", stage, sizeof stage, &err), PX_OK);
    assert_int_equal(bundle_seal(stage, "P", BUNDLE_KIND_SEARCH, "t", NULL, &err), PX_OK);
    assert_int_equal(registry_publish(root, "S", stage, &v, &err), PX_EINVAL);
    assert_int_equal(bundle_remove_tree(stage, NULL), PX_OK);
}

// registry_save_files: a version from files in memory (sizes summed into MLmodel, uuid made),
// a bad name leaves nothing; registry_read_checked: the digest checked, a mismatch named;
// registry_hint_missing: only "no model named" gains the hint.
static void test_save_files(void **state)
{
    (void)state;
    char root[512], dir[1024], *data = NULL, sha[65];
    size_t len = 0;
    int v = 0;
    struct px_err err = {0};
    snprintf(root, sizeof root, "%s/save_files", g_dir);
    static const char body[] = "model bytes", rec[] = "{\"format\": \"x\"}";
    const struct registry_file files[] = {{"model.bin", body, 11}, {"info.json", rec, 15}};
    struct bundle_mlmodel mm = {.name = "F", .kind = BUNDLE_KIND_RECOMMENDER, .created = "t"};
    if (registry_save_files(root, files, 2, &mm, &v, &err) != PX_OK) {
        fail_msg("save: %s", err.msg);
    }
    assert_int_equal(v, 1);
    assert_int_equal(registry_save_files(root, files, 2, &mm, &v, &err), PX_OK);
    assert_int_equal(v, 2);
    assert_int_equal(
        registry_open(root, "F/2", BUNDLE_KIND_RECOMMENDER, NULL, &v, dir, sizeof dir, NULL, &err),
        PX_OK);
    char path[1100];
    snprintf(path, sizeof path, "%s/MLmodel", dir);
    assert_int_equal(fsx_read_file(path, 1 << 20, &data, &len, &err), PX_OK);
    assert_non_null(strstr(data, "model_size_bytes: 26"));
    assert_non_null(strstr(data, "model_uuid: "));
    px_free(data);
    mm.name = "../F";
    assert_int_equal(registry_save_files(root, files, 2, &mm, &v, &err), PX_EINVAL);
    assert_int_equal(v, 0);
    // the digest of the file read back
    sha256_hex(body, 11, sha);
    assert_int_equal(
        registry_read_checked(dir, "model.bin", 1 << 20, sha, "info.json's", &data, &len, &err),
        PX_OK);
    assert_int_equal(len, 11);
    assert_memory_equal(data, body, 11);
    px_free(data);
    assert_int_equal(registry_read_checked(dir, "model.bin", 1 << 20, "0123456789abcdef",
                                           "info.json's", &data, &len, &err),
                     PX_EFORMAT);
    assert_null(data);
    assert_non_null(strstr(err.msg, "model.bin: sha256 "));
    assert_non_null(strstr(err.msg, "differs from info.json's 0123456789ab"));
    assert_int_equal(
        registry_read_checked(dir, "model.bin", 1 << 20, NULL, "the record's", &data, &len, &err),
        PX_EFORMAT);
    assert_non_null(strstr(err.msg, "the record's (none)"));
    // the hint goes on a missing name only
    int rc = registry_open(root, "Nobody", NULL, NULL, &v, dir, sizeof dir, NULL, &err);
    assert_int_equal(registry_hint_missing(rc, "train one", &err), PX_ENOENT);
    assert_non_null(strstr(err.msg, "no model named 'Nobody'"));
    assert_non_null(strstr(err.msg, " (train one)"));
    rc = registry_open(root, "F/9", NULL, NULL, &v, dir, sizeof dir, NULL, &err);
    assert_int_equal(registry_hint_missing(rc, "train one", &err), PX_ENOENT);
    assert_null(strstr(err.msg, "train one"));
}

struct verify_ctx {
    char dir[512];
    struct bundle_manifest m;
};

static int verify_open(void *user, struct px_err *err)
{
    struct verify_ctx *c = user;
    return bundle_verify(c->dir, &c->m, err);
}

static void verify_release(void *user)
{
    struct verify_ctx *c = user;
    bundle_manifest_free(&c->m);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct verify_ctx c;
    memset(&c, 0, sizeof c);
    make_bundle("fault", c.dir, sizeof c.dir);
    assert_true(tu_check_alloc_failures(verify_open, verify_release, &c) > 5);
}

// bundle_new_uuid: 32 lowercase hex digits from the kernel's CSPRNG, different each time; a
// buffer too small is an error, not a truncated id.
static void test_new_uuid(void **state)
{
    (void)state;
    char a[33], b[33], small[20];
    struct px_err err = {0};
    assert_int_equal(bundle_new_uuid(a, sizeof a, &err), PX_OK);
    assert_int_equal(bundle_new_uuid(b, sizeof b, &err), PX_OK);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
    assert_int_equal(bundle_new_uuid(small, sizeof small, &err), PX_EINTERNAL);
    assert_string_equal(small, "");
}

// keep() for the copy test: everything but names starting with "skip"
static bool keep_unskipped(const char *rel, bool is_dir)
{
    (void)is_dir;
    const char *base = strrchr(rel, '/');
    return strncmp(base ? base + 1 : rel, "skip", 4) != 0;
}

// bundle_copy_tree: regular files only, modes no wider than the source (0600 stays 0600, 0755
// becomes 0644), hidden names (and their subtrees) and what keep() refuses skipped unopened, the
// bytes counted; a symbolic link (to a file, to a directory, dangling, or the root itself),
// special files, names a bundle cannot hold and deep trees refused, naming the path.
// bundle_copy_file: a FIFO is refused at once (no hang). bundle_remove_tree: links removed,
// never followed; a missing path is fine.
static void test_copy_remove_tree(void **state)
{
    (void)state;
    char src[512], dst[512], out[512], path[700];
    snprintf(src, sizeof src, "%s/tree", g_dir);
    snprintf(out, sizeof out, "%s/outside", g_dir);
    assert_int_equal(mkdir(src, 0755), 0);
    assert_int_equal(mkdir(out, 0755), 0);
    tu_write_text(out, "keep.txt", "kept");
    tu_write_text(src, "a.txt", "abc");
    snprintf(path, sizeof path, "%s/sub", src);
    assert_int_equal(mkdir(path, 0755), 0);
    tu_write_text(path, "b.bin", "12345");
    tu_write_text(src, "secret.txt", "s3");
    snprintf(path, sizeof path, "%s/secret.txt", src);
    assert_int_equal(chmod(path, 0600), 0);
    tu_write_text(src, "run.sh", "x");
    snprintf(path, sizeof path, "%s/run.sh", src);
    assert_int_equal(chmod(path, 0755), 0);
    tu_write_text(src, ".hidden", "x");
    snprintf(path, sizeof path, "%s/.git", src);
    assert_int_equal(mkdir(path, 0755), 0);
    tu_write_text(path, "bad name", "x"); // never looked at: its directory is skipped
    snprintf(path, sizeof path, "%s/skip.link", src);
    assert_int_equal(symlink(out, path), 0); // refused by keep(): skipped, not followed
    snprintf(path, sizeof path, "%s/skip.fifo", src);
    assert_int_equal(mkfifo(path, 0600), 0);

    struct px_err err = {0};
    uint64_t bytes = 0;
    snprintf(dst, sizeof dst, "%s/copy", g_dir);
    snprintf(path, sizeof path, "%s/", src); // a trailing '/' changes nothing
    assert_int_equal(bundle_copy_tree(path, dst, keep_unskipped, &bytes, &err), PX_OK);
    assert_int_equal(bytes, 3 + 5 + 2 + 1);
    static const struct {
        const char *path;
        unsigned mode;
    } present[] = {{"a.txt", 0644}, {"sub/b.bin", 0644}, {"secret.txt", 0600}, {"run.sh", 0644}};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dst, present[i].path);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            fail_msg("%s: not copied as a regular file", present[i].path);
        }
        // the umask may narrow a mode further, never widen it
        if ((st.st_mode & 07777 & ~present[i].mode) != 0) {
            fail_msg("%s: mode %o, wider than %o", present[i].path, st.st_mode & 07777,
                     present[i].mode);
        }
    }
    static const char *const absent[] = {".hidden", ".git", "skip.link", "skip.fifo"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dst, absent[i]);
        struct stat st;
        if (lstat(path, &st) == 0) {
            fail_msg("%s: copied", absent[i]);
        }
    }
    assert_int_equal(bundle_remove_tree(dst, &err), PX_OK);
    assert_int_not_equal(access(dst, F_OK), 0);

    // the same tree without keep(): the link and the FIFO are refused
    memset(&err, 0, sizeof err);
    assert_int_equal(bundle_copy_tree(src, dst, NULL, NULL, &err), PX_EINVAL);
    if (strstr(err.msg, "/skip.") == NULL) {
        fail_msg("no keep(): '%s'", err.msg);
    }
    assert_int_equal(bundle_remove_tree(dst, &err), PX_OK);

    static const struct {
        const char *what;
        int rc;
        const char *want;
    } bad[] = {
        {"fifo", PX_EINVAL, "/pipe: not a regular file"},
        {"name", PX_EINVAL, "/bad name: a bundle cannot hold this name"},
        {"dangling", PX_EINVAL, "/gone: a symbolic link"},
        {"filelink", PX_EINVAL, "/notes.txt: a symbolic link"},
        {"dirlink", PX_EINVAL, "/linkdir: a symbolic link"},
        {"rootlink", PX_EINVAL, "the directory is a symbolic link (to '"},
        {"deep", PX_ELIMIT, "directories nested deeper than 8"},
        {"missing", PX_ENOENT, "cannot open the directory"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char s2[600];
        snprintf(s2, sizeof s2, "%s/bad%zu", g_dir, i);
        if (strcmp(bad[i].what, "missing") != 0 && strcmp(bad[i].what, "rootlink") != 0) {
            assert_int_equal(mkdir(s2, 0755), 0);
            tu_write_text(s2, "ok.txt", "x");
        }
        snprintf(path, sizeof path, "%s", s2);
        if (!strcmp(bad[i].what, "fifo")) {
            strcat(path, "/pipe");
            assert_int_equal(mkfifo(path, 0600), 0);
        } else if (!strcmp(bad[i].what, "name")) {
            tu_write_text(s2, "bad name", "x");
        } else if (!strcmp(bad[i].what, "dangling")) {
            strcat(path, "/gone");
            assert_int_equal(symlink("nowhere", path), 0);
        } else if (!strcmp(bad[i].what, "filelink")) {
            char target[700];
            snprintf(target, sizeof target, "%s/secret.txt", src); // a 0600 file elsewhere
            strcat(path, "/notes.txt");
            assert_int_equal(symlink(target, path), 0);
        } else if (!strcmp(bad[i].what, "dirlink")) {
            strcat(path, "/linkdir");
            assert_int_equal(symlink(out, path), 0);
        } else if (!strcmp(bad[i].what, "rootlink")) {
            assert_int_equal(symlink(src, s2), 0);
        } else if (!strcmp(bad[i].what, "deep")) {
            for (int k = 0; k < 8; k++) {
                strcat(path, "/d");
                assert_int_equal(mkdir(path, 0755), 0);
            }
        }
        snprintf(dst, sizeof dst, "%s/copy%zu", g_dir, i);
        memset(&err, 0, sizeof err);
        int rc = bundle_copy_tree(s2, dst, NULL, NULL, &err);
        if (rc != bad[i].rc || strstr(err.msg, bad[i].want) == NULL) {
            fail_msg("case %zu (%s): status %d, '%s'", i, bad[i].what, rc, err.msg);
        }
        assert_int_equal(bundle_remove_tree(dst, &err), PX_OK);
    }

    // bundle_copy_file: a FIFO named directly is refused without blocking; a 0600 file stays 0600
    snprintf(path, sizeof path, "%s/skip.fifo", src);
    snprintf(dst, sizeof dst, "%s/one", g_dir);
    memset(&err, 0, sizeof err);
    assert_int_equal(bundle_copy_file(path, dst, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "not a regular file"));
    snprintf(path, sizeof path, "%s/secret.txt", src);
    assert_int_equal(bundle_copy_file(path, dst, &err), PX_OK);
    struct stat st;
    assert_int_equal(lstat(dst, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    assert_int_equal(unlink(dst), 0);

    // removing follows no link: the directory a link points to keeps its file
    snprintf(path, sizeof path, "%s/keep.txt", out);
    assert_int_equal(bundle_remove_tree(src, &err), PX_OK);
    assert_int_not_equal(access(src, F_OK), 0);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(bundle_remove_tree(src, &err), PX_OK);  // already gone
    assert_int_equal(bundle_remove_tree(path, &err), PX_OK); // a plain file
    assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_paths),
        cmocka_unit_test(test_seal_verify),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_manifest_parse),
        cmocka_unit_test(test_info_roundtrip),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_save_files),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_copy_remove_tree),
        cmocka_unit_test(test_new_uuid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
