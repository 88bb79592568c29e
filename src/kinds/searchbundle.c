// searchbundle.c — bundle.json and the search flavor of MLmodel (see searchbundle.h).
//
// bundle.json is written by hand with buf + jsonx in a fixed key order, so two bundles of the
// same data differ only where their contents do; it is read back strictly (every key typed and
// bounded, the fixed file names checked), since serve trusts it to find the snapshot. MLmodel
// goes through the registry's one MLmodel writer with the search flavor's entries.
#include "searchbundle.h"

#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "bundle.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "sha256.h"

static int info_json(const struct searchbundle_info *in, struct buf *b, struct px_err *err)
{
    int rc = buf_printf(b, err, "{\n  \"magic\": \"%s\",\n  \"format_version\": %d,\n  \"name\": ",
                        BUNDLE_MAGIC, BUNDLE_FORMAT_VERSION);
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->name, strlen(in->name), err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ",\n  \"created\": ");
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->created, strlen(in->created), err);
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        ",\n  \"model_uuid\": \"%s\",\n  \"prospect_version\": ", in->model_uuid);
    }
    if (rc == PX_OK) {
        rc = jsonx_put_string(b, in->prospect_version, strlen(in->prospect_version), err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        ",\n  \"data\": {\"file\": \"%s\", \"rows\": %llu, \"columns\": %llu},\n"
                        "  \"embeddings\": {\"present\": %s, \"count\": %llu, \"dim\": %d},\n"
                        "  \"model\": {\"model_id\": ",
                        SEARCHBUNDLE_DATA, (unsigned long long)in->rows, (unsigned long long)in->columns,
                        in->dense ? "true" : "false", (unsigned long long)in->n_vectors, in->dim);
    }
    if (rc == PX_OK)
        rc = jsonx_put_cstr(b, in->model_id[0] ? in->model_id : NULL, err);
    if (rc == PX_OK)
        rc = buf_printf(b, err, ", \"source\": ");
    if (rc == PX_OK)
        rc = jsonx_put_string(b, in->model_source, strlen(in->model_source), err);
    if (rc == PX_OK) {
        rc = buf_printf(b, err,
                        ", \"copied\": %s, \"path\": %s},\n"
                        "  \"lexicon\": {\"file\": \"%s\", \"user\": %s},\n"
                        "  \"template\": %s\n}\n",
                        in->model_copied ? "true" : "false",
                        in->model_copied ? "\"" SEARCHBUNDLE_MODEL_DIR "\"" : "null", SEARCHBUNDLE_LEXICON,
                        in->has_user_lexicon ? "\"" SEARCHBUNDLE_USER_LEXICON "\"" : "null",
                        in->has_template ? "\"" SEARCHBUNDLE_TEMPLATE "\"" : "null");
    }
    return rc;
}


// The search flavor: what the bundle holds, and how to serve it; the signature is MLflow's
// (one query string in, top_n and show_score as parameters).
static int write_mlmodel(const char *dir, const struct searchbundle_info *in, uint64_t size_bytes,
                         struct px_err *err)
{
    char rows[24];
    snprintf(rows, sizeof rows, "%llu", (unsigned long long)in->rows);
    const struct bundle_kv kv[] = {
        {"bundle", SEARCHBUNDLE_INFO, false},
        {"data", SEARCHBUNDLE_DATA, false},
        {"embeddings", in->dense ? "true" : "false", true},
        {"lexicon", SEARCHBUNDLE_LEXICON, false},
        {"model_copied", in->model_copied ? "true" : "false", true},
        {"model_id", in->model_id[0] ? in->model_id : "null", in->model_id[0] == '\0'},
        {"model_source", in->model_source, false},
        {"prospect_version", in->prospect_version, false},
        {"rows", rows, true},
        {"serve", "prospect serve --bundle NAME[/VERSION]", false},
    };
    const struct bundle_mlmodel m = {
        .name = in->name,
        .kind = BUNDLE_KIND_SEARCH,
        .created = in->created,
        .model_uuid = in->model_uuid,
        .size_bytes = size_bytes,
        .kv = kv,
        .n_kv = sizeof kv / sizeof kv[0],
        .inputs = "[{\"name\": \"query\", \"type\": \"string\", \"required\": true}]",
        .outputs = NULL,
        .params = "[{\"name\": \"top_n\", \"type\": \"long\", \"default\": 5, \"shape\": null}, "
                  "{\"name\": \"show_score\", \"type\": \"boolean\", \"default\": true, "
                  "\"shape\": null}]",
    };
    return bundle_write_mlmodel(dir, &m, err);
}

int searchbundle_write_meta(const char *dir, const struct searchbundle_info *info,
                            uint64_t size_bytes, struct px_err *err)
{
    struct buf b;
    char path[LIMIT_PATH];
    buf_init(&b, LIMIT_BUNDLE_MANIFEST_BYTES);
    int rc = info_json(info, &b, err);
    if (rc == PX_OK)
        rc = fsx_join(path, sizeof path, dir, SEARCHBUNDLE_INFO, err);
    if (rc == PX_OK)
        rc = fsx_write_atomic(path, b.data, b.len, err);
    buf_free(&b);
    return rc == PX_OK ? write_mlmodel(dir, info, size_bytes, err) : rc;
}

// obj[key] as a string copied into out (n bytes), or "" when null and nullable.
static int get_str(const cJSON *obj, const char *key, bool nullable, char *out, size_t n,
                   const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (nullable && cJSON_IsNull(v)) {
        out[0] = '\0';
        return PX_OK;
    }
    if (!cJSON_IsString(v)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be a string", what, key);
    }
    if (strlen(v->valuestring) >= n) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" is longer than %zu bytes", what, key, n - 1);
    }
    snprintf(out, n, "%s", v->valuestring);
    return PX_OK;
}

// obj[key] is null or the string want; *present says which.
static int get_fixed(const cJSON *obj, const char *key, const char *want, bool *present,
                     const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *present = cJSON_IsString(v);
    if (cJSON_IsNull(v) || (*present && strcmp(v->valuestring, want) == 0)) {
        return PX_OK;
    }
    return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be null or \"%s\"", what, key, want);
}

static const cJSON *get_obj(const cJSON *obj, const char *key, const char *what, int *rc,
                            struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (*rc == PX_OK && !cJSON_IsObject(v)) {
        *rc = px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an object", what, key);
    }
    return *rc == PX_OK ? v : NULL;
}

int searchbundle_info_parse(const char *json, size_t len, struct searchbundle_info *out, struct px_err *err)
{
    const char *what = SEARCHBUNDLE_INFO;
    cJSON *root = NULL;
    int64_t v = 0;
    bool present = false;
    memset(out, 0, sizeof *out);
    int rc = jsonx_parse(json, len, what, &root, err);
    if (rc == PX_OK && !cJSON_IsObject(root)) {
        rc = px_fail(err, PX_EFORMAT, "%s: not a JSON object", what);
    }
    char magic[32];
    if (rc == PX_OK)
        rc = get_str(root, "magic", false, magic, sizeof magic, what, err);
    if (rc == PX_OK && strcmp(magic, BUNDLE_MAGIC) != 0) {
        rc = px_fail(err, PX_EFORMAT, "%s: magic is not \"%s\"", what, BUNDLE_MAGIC);
    }
    if (rc == PX_OK)
        rc = jsonx_get_int(root, "format_version", true, 0, 1, 1000000, &v, what, err);
    if (rc == PX_OK && v > BUNDLE_FORMAT_VERSION) {
        rc = px_fail(err, PX_EUNSUPPORTED, "%s: format version %lld is newer than this prospect's",
                     what, (long long)v);
    }
    if (rc == PX_OK)
        rc = get_str(root, "name", false, out->name, sizeof out->name, what, err);
    if (rc == PX_OK)
        rc = bundle_check_name(out->name, err);
    if (rc == PX_OK) {
        rc = get_str(root, "created", false, out->created, sizeof out->created, what, err);
    }
    if (rc == PX_OK) {
        rc = get_str(root, "model_uuid", false, out->model_uuid, sizeof out->model_uuid, what, err);
    }
    if (rc == PX_OK) {
        rc = get_str(root, "prospect_version", false, out->prospect_version,
                     sizeof out->prospect_version, what, err);
    }
    const cJSON *data = get_obj(root, "data", what, &rc, err);
    if (rc == PX_OK)
        rc = get_fixed(data, "file", SEARCHBUNDLE_DATA, &present, what, err);
    if (rc == PX_OK && !present)
        rc = px_fail(err, PX_EFORMAT, "%s: data.file is null", what);
    if (rc == PX_OK)
        rc = jsonx_get_int(data, "rows", true, 0, 0, INT64_MAX, &v, what, err);
    out->rows = (uint64_t)v;
    if (rc == PX_OK)
        rc = jsonx_get_int(data, "columns", true, 0, 0, INT64_MAX, &v, what, err);
    out->columns = (uint64_t)v;
    const cJSON *emb = get_obj(root, "embeddings", what, &rc, err);
    if (rc == PX_OK)
        rc = jsonx_get_bool(emb, "present", true, false, &out->dense, what, err);
    if (rc == PX_OK)
        rc = jsonx_get_int(emb, "count", true, 0, 0, INT64_MAX, &v, what, err);
    out->n_vectors = (uint64_t)v;
    if (rc == PX_OK) {
        rc = jsonx_get_int(emb, "dim", true, 0, 0, LIMIT_VECTOR_DIM, &v, what, err);
    }
    out->dim = (int)v;
    const cJSON *model = get_obj(root, "model", what, &rc, err);
    if (rc == PX_OK) {
        rc = get_str(model, "model_id", true, out->model_id, sizeof out->model_id, what, err);
    }
    if (rc == PX_OK && out->model_id[0] != '\0' &&
        (strncmp(out->model_id, "sha256:", 7) != 0 || !sha256_hex_ok(out->model_id + 7))) {
        rc = px_fail(err, PX_EFORMAT, "%s: model.model_id is not \"sha256:<64 hex digits>\"", what);
    }
    if (rc == PX_OK && out->dense && out->model_id[0] == '\0') {
        rc =
            px_fail(err, PX_EFORMAT, "%s: embeddings are present but model.model_id is null", what);
    }
    if (rc == PX_OK) {
        rc =
            get_str(model, "source", false, out->model_source, sizeof out->model_source, what, err);
    }
    if (rc == PX_OK)
        rc = jsonx_get_bool(model, "copied", true, false, &out->model_copied, what, err);
    if (rc == PX_OK)
        rc = get_fixed(model, "path", SEARCHBUNDLE_MODEL_DIR, &present, what, err);
    if (rc == PX_OK && present != out->model_copied) {
        rc = px_fail(err, PX_EFORMAT, "%s: model.path must be \"%s\" exactly when model.copied",
                     what, SEARCHBUNDLE_MODEL_DIR);
    }
    const cJSON *lex = get_obj(root, "lexicon", what, &rc, err);
    if (rc == PX_OK)
        rc = get_fixed(lex, "file", SEARCHBUNDLE_LEXICON, &present, what, err);
    if (rc == PX_OK && !present)
        rc = px_fail(err, PX_EFORMAT, "%s: lexicon.file is null", what);
    if (rc == PX_OK) {
        rc = get_fixed(lex, "user", SEARCHBUNDLE_USER_LEXICON, &out->has_user_lexicon, what, err);
    }
    if (rc == PX_OK)
        rc = get_fixed(root, "template", SEARCHBUNDLE_TEMPLATE, &out->has_template, what, err);
    cJSON_Delete(root);
    return rc;
}

int searchbundle_info_read(const char *dir, struct searchbundle_info *out, struct px_err *err)
{
    char path[LIMIT_PATH], *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = fsx_join(path, sizeof path, dir, SEARCHBUNDLE_INFO, err);
    if (rc == PX_OK)
        rc = fsx_read_file(path, LIMIT_BUNDLE_MANIFEST_BYTES, &text, &len, err);
    if (rc == PX_OK)
        rc = searchbundle_info_parse(text, len, out, err);
    px_free(text);
    return rc;
}

