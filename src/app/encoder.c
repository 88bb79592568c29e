// encoder.c — the sentence-transformer noun (app_encoder.h): where its directory is (the
// lookup order), opening it or only its tokenizer with a hint when the weights are missing,
// and its id (sha256 of model.safetensors), the one key vectors are stored and bundles are
// checked under.
#include "app_encoder.h"
#include "encoder_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsx.h"
#include "limits.h"
#include "sha256.h"

static const char *const k_local = "models/" APP_DEFAULT_MODEL;
static const char *const k_shared = "../shared/models/" APP_DEFAULT_MODEL;

const char *app_model_source_name(enum app_model_source s)
{
    switch (s) {
    case APP_MODEL_FLAG: return "--embedder";
    case APP_MODEL_ENV: return "$PROSPECT_MODEL";
    case APP_MODEL_LOCAL: return "./models";
    case APP_MODEL_SHARED: return "../shared/models";
    }
    return "?";
}

static int set(char *out, size_t n, const char *path, enum app_model_source src,
               enum app_model_source *source, struct px_err *err)
{
    int w = snprintf(out, n, "%s", path);
    if (w < 0 || (size_t)w >= n) {
        return px_fail(err, PX_ELIMIT, "model path too long: '%s'", path);
    }
    if (source != NULL) {
        *source = src;
    }
    return PX_OK;
}

int app_model_dir(const char *flag, char *out, size_t n, enum app_model_source *source,
                  struct px_err *err)
{
    if (flag != NULL && flag[0] != '\0') {
        return set(out, n, flag, APP_MODEL_FLAG, source, err);
    }
    const char *env = getenv("PROSPECT_MODEL");
    if (env != NULL && env[0] != '\0') {
        return set(out, n, env, APP_MODEL_ENV, source, err);
    }
    if (fsx_is_dir(k_local)) {
        return set(out, n, k_local, APP_MODEL_LOCAL, source, err);
    }
    if (fsx_is_dir(k_shared)) {
        return set(out, n, k_shared, APP_MODEL_SHARED, source, err);
    }
    return px_fail(err, PX_ENOENT,
                   "no model found: looked at --embedder, $PROSPECT_MODEL, ./%s and %s. Run `make "
                   "model` (needs internet) to download %s, or pass --embedder DIR",
                   k_local, k_shared, APP_DEFAULT_MODEL);
}

// Appends how to get the weights to a PX_ENOWEIGHTS message.
static void add_weights_hint(struct px_err *err, const char *dir)
{
    if (err == NULL || err->code != PX_ENOWEIGHTS) {
        return;
    }
    char hint[8192];
    snprintf(hint, sizeof hint,
             ". To get them: run `make model` on a machine with internet access (downloads "
             "%s into ./%s and checks its sha256), or download %s/resolve/main/model.safetensors "
             "into '%s'; or use --embedder DIR / PROSPECT_MODEL for another "
             "sentence-transformers directory",
             APP_DEFAULT_MODEL, k_local, APP_MODEL_URL, dir);
    size_t len = strlen(err->msg);
    size_t room = sizeof err->msg - 1 - len;
    size_t add = strlen(hint) < room ? strlen(hint) : room; // truncated only for absurd paths
    memcpy(err->msg + len, hint, add);
    err->msg[len + add] = '\0';
}

// Resolves the model directory into dir (n bytes) and copies it to dir_out when asked.
static int resolve(const char *flag, char *dir, size_t n, char *dir_out, size_t n_out,
                   struct px_err *err)
{
    int rc = app_model_dir(flag, dir, n, NULL, err);
    if (rc == PX_OK && dir_out != NULL) {
        snprintf(dir_out, n_out, "%s", dir);
    }
    return rc;
}

int app_open_embedder(const char *flag, struct embedder **out, char *dir_out, size_t n,
                      struct px_err *err)
{
    char dir[LIMIT_PATH];
    *out = NULL;
    int rc = resolve(flag, dir, sizeof dir, dir_out, n, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = embedder_open(dir, out, err);
    add_weights_hint(err, dir);
    return rc;
}

int app_open_tokenizer(const char *flag, struct tokenizer **out, char *dir_out, size_t n,
                       struct px_err *err)
{
    char dir[LIMIT_PATH];
    *out = NULL;
    int rc = resolve(flag, dir, sizeof dir, dir_out, n, err);
    return rc == PX_OK ? embedder_open_tokenizer(dir, out, err) : rc;
}

int app_model_id(const char *dir, char *out, size_t n, struct px_err *err)
{
    char path[LIMIT_PATH], hex[65];
    int rc = fsx_join(path, sizeof path, dir, "model.safetensors", err);
    if (rc == PX_OK) {
        rc = sha256_file_hex(path, hex, err);
    }
    if (rc == PX_OK && (size_t)snprintf(out, n, "sha256:%s", hex) >= n) {
        rc = px_fail(err, PX_ELIMIT, "model id needs %zu bytes, %zu given", strlen(hex) + 8, n);
    }
    return rc;
}
