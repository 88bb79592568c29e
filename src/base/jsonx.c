// jsonx.c — see jsonx.h. cJSON stores numbers as double, so integers are accepted only when the
// double is integral and within +-2^53 (exactly representable).
//
// cJSON's allocator: cJSON has one process-wide pair of hooks (cJSON_InitHooks), used by every
// cJSON call anywhere in the program. They are set to px_malloc/px_free by a constructor that
// runs before main, in any program that links this file: installing them later would let a
// block cJSON got from malloc reach px_free (a tree built before, deleted after). A constructor
// runs once, on one thread, so no lock is needed. cJSON returns NULL both for bad text and for
// a failed allocation, so the malloc hook notes its failures in a per-thread flag and
// jsonx_parse reports PX_ENOMEM instead of a syntax error when one happened during the parse.
// With hooks set, cJSON never calls realloc (it allocates and copies), which px_free accepts.
#include "jsonx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsx.h"
#include "mem.h"

static _Thread_local bool t_json_oom; // a cJSON allocation on this thread failed

static void *json_malloc(size_t n)
{
    void *p = px_malloc(n);
    if (p == NULL) {
        t_json_oom = true;
    }
    return p;
}

static void json_free(void *p) { px_free(p); }

__attribute__((constructor)) static void json_install_hooks(void)
{
    cJSON_Hooks h = {.malloc_fn = json_malloc, .free_fn = json_free};
    cJSON_InitHooks(&h);
}

int jsonx_parse(const char *text, size_t len, const char *what, cJSON **out, struct px_err *err)
{
    *out = NULL;
    const char *end = NULL;
    t_json_oom = false;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (j == NULL && t_json_oom) {
        return px_fail(err, PX_ENOMEM, "%s: out of memory parsing JSON", what);
    }
    if (j == NULL) {
        size_t off = end != NULL && end >= text ? (size_t)(end - text) : 0;
        const char *ep = cJSON_GetErrorPtr();
        if (end == NULL && ep != NULL && ep >= text && ep <= text + len) {
            off = (size_t)(ep - text);
        }
        return px_fail(err, PX_EFORMAT, "%s: invalid JSON near byte %zu", what, off);
    }
    // cJSON stops after the first value; anything but whitespace after it is an error (a second
    // object would otherwise be silently ignored).
    for (const char *p = end; p != NULL && p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(j);
            return px_fail(err, PX_EFORMAT, "%s: unexpected data after the JSON value at byte %zu",
                           what, (size_t)(p - text));
        }
    }
    *out = j;
    return PX_OK;
}

int jsonx_parse_file(const char *path, size_t max, cJSON **out, struct px_err *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = fsx_read_file(path, max, &text, &len, err);
    if (rc != PX_OK) {
        return rc;
    }
    rc = jsonx_parse(text, len, path, out, err);
    px_free(text);
    return rc;
}

static int missing(bool required, const char *key, const char *what, struct px_err *err)
{
    if (required) {
        return px_fail(err, PX_EFORMAT, "%s: required key \"%s\" is missing", what, key);
    }
    return PX_OK;
}

int jsonx_get_int(const cJSON *obj, const char *key, bool required, int64_t dflt, int64_t min,
                  int64_t max, int64_t *out, const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = dflt;
    if (v == NULL || cJSON_IsNull(v)) {
        return missing(required, key, what, err);
    }
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be an integer", what, key);
    }
    if (d < (double)min || d > (double)max) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" is %.0f, outside %lld..%lld", what, key, d,
                       (long long)min, (long long)max);
    }
    *out = (int64_t)d;
    return PX_OK;
}

int jsonx_get_double(const cJSON *obj, const char *key, bool required, double dflt, double min,
                     double max, double *out, const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = dflt;
    if (v == NULL || cJSON_IsNull(v)) {
        return missing(required, key, what, err);
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be a finite number", what, key);
    }
    if (v->valuedouble < min || v->valuedouble > max) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" is %g, outside %g..%g", what, key,
                       v->valuedouble, min, max);
    }
    *out = v->valuedouble;
    return PX_OK;
}

int jsonx_get_bool(const cJSON *obj, const char *key, bool required, bool dflt, bool *out,
                   const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = dflt;
    if (v == NULL || cJSON_IsNull(v)) {
        return missing(required, key, what, err);
    }
    if (!cJSON_IsBool(v)) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be true or false", what, key);
    }
    *out = cJSON_IsTrue(v);
    return PX_OK;
}

int jsonx_get_string(const cJSON *obj, const char *key, bool required, const char *dflt,
                     const char **out, const char *what, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = dflt;
    if (v == NULL || cJSON_IsNull(v)) {
        return missing(required, key, what, err);
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        return px_fail(err, PX_EFORMAT, "%s: \"%s\" must be a string", what, key);
    }
    *out = v->valuestring;
    return PX_OK;
}

int jsonx_put_string(struct buf *out, const char *s, size_t n, struct px_err *err)
{
    int rc = buf_append(out, "\"", 1, err);
    size_t run = 0; // start of the pending run of bytes that need no escape
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f) {
            continue;
        }
        rc = buf_append(out, s + run, i - run, err);
        if (rc == PX_OK) {
            rc = c == '"' || c == '\\' ? buf_printf(out, err, "\\%c", c)
                                        : buf_printf(out, err, "\\u%04x", c);
        }
        run = i + 1;
    }
    if (rc == PX_OK) {
        rc = buf_append(out, s + run, n - run, err);
    }
    return rc == PX_OK ? buf_append(out, "\"", 1, err) : rc;
}

int jsonx_put_number(struct buf *out, double v, int digits, struct px_err *err)
{
    if (!isfinite(v)) {
        return buf_append(out, "null", 4, err);
    }
    if (digits == JSONX_ROUND_TRIP) {
        char s[32];
        snprintf(s, sizeof s, "%.15g", v); // most figures read back from 15 digits
        digits = strtod(s, NULL) == v ? 15 : 17;
    }
    return buf_printf(out, err, "%.*g", digits < 1 ? 1 : digits > 17 ? 17 : digits, v);
}

int jsonx_put_key(struct buf *out, const char *key, bool first, struct px_err *err)
{
    int rc = first ? PX_OK : buf_append(out, ", ", 2, err);
    if (rc == PX_OK) {
        rc = jsonx_put_string(out, key, strlen(key), err);
    }
    return rc == PX_OK ? buf_append(out, ": ", 2, err) : rc;
}

int jsonx_put_value(struct buf *out, const cJSON *v, struct px_err *err)
{
    if (v == NULL || cJSON_IsNull(v)) {
        return buf_append(out, "null", 4, err);
    }
    if (cJSON_IsBool(v)) {
        return cJSON_IsTrue(v) ? buf_append(out, "true", 4, err) : buf_append(out, "false", 5, err);
    }
    if (cJSON_IsNumber(v)) {
        return jsonx_put_number(out, v->valuedouble, 17, err);
    }
    if (cJSON_IsString(v)) {
        return jsonx_put_string(out, v->valuestring, strlen(v->valuestring), err);
    }
    bool obj = cJSON_IsObject(v);
    int rc = buf_append(out, obj ? "{" : "[", 1, err);
    bool first = true;
    for (const cJSON *c = v->child; c != NULL && rc == PX_OK; c = c->next) {
        if (obj) {
            rc = jsonx_put_key(out, c->string != NULL ? c->string : "", first, err);
        } else if (!first) {
            rc = buf_append(out, ", ", 2, err);
        }
        if (rc == PX_OK) {
            rc = jsonx_put_value(out, c, err);
        }
        first = false;
    }
    return rc == PX_OK ? buf_append(out, obj ? "}" : "]", 1, err) : rc;
}

int jsonx_put_cstr(struct buf *out, const char *s, struct px_err *err)
{
    return s != NULL ? jsonx_put_string(out, s, strlen(s), err) : buf_append(out, "null", 4, err);
}

int jsonx_put_member(struct buf *out, const char *key, const char *s, bool first,
                     struct px_err *err)
{
    int rc = jsonx_put_key(out, key, first, err);
    return rc == PX_OK ? jsonx_put_cstr(out, s, err) : rc;
}
