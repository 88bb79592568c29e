// api_saved.c — saved searches, alerts and exports over HTTP (issue 15): GET/POST /api/saved,
// GET/POST/DELETE /api/saved/{id}, GET /api/saved/{id}/run, GET /api/saved/{id}/report,
// GET /api/alerts and GET /api/export. Protected like every /api route (routes.c: keys,
// guard, budgets); the owner is the request's API key (or "local" on a keyless loopback
// server). The app builds every document and writes every audit row (app_saved.h) before the
// answer is returned; saved searches live in the server's --db (ctx->db_path).
//
// Bodies: {"name", "query", "chips", "columns", "sort", "feedback", "webhook"} — chips an
// object, columns an array of column names, feedback {"up": [ids], "down": [ids]}; members
// left out keep their stored (or empty) value.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app_saved.h"
#include "jsonx.h"

static struct app_saved_who who_of(const struct api_req *req)
{
    return (struct app_saved_who){"http", req->key_id[0] ? req->key_id : NULL, NULL};
}

static int need_db(const struct api_req *req, struct px_err *err)
{
    if (req->ctx->db_path == NULL) {
        return px_fail(err, PX_ENOENT, "saved searches need the server's database (--db)");
    }
    return PX_OK;
}

static int parse_id(const char *s, long long *id, struct px_err *err)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 1) {
        return px_fail(err, PX_ENOENT, "no saved search '%.40s'", s);
    }
    *id = v;
    return PX_OK;
}

static int arg_num(const struct api_req *req, const char *key, long long dflt, long long lo,
                   long long hi, long long *out, struct px_err *err)
{
    const char *s = api_req_arg(req, key);
    if (s == NULL) {
        *out = dflt;
        return PX_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
        return px_fail(err, PX_EINVAL, "%s must be an integer in %lld..%lld", key, lo, hi);
    }
    *out = v;
    return PX_OK;
}

// The body's members as the app's input; JSON members rendered as text into bufs.
struct body {
    cJSON *root;
    struct buf chips, columns, feedback;
    struct app_saved_input in;
};

static int text_member(const cJSON *root, const char *key, const char **out, struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v == NULL || cJSON_IsNull(v)) return PX_OK;
    if (!cJSON_IsString(v)) return px_fail(err, PX_EINVAL, "'%s' must be a string", key);
    *out = v->valuestring;
    return PX_OK;
}

static int json_member(const cJSON *root, const char *key, struct buf *b, const char **out,
                       struct px_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (v == NULL || cJSON_IsNull(v)) return PX_OK;
    int rc = jsonx_put_value(b, v, err);
    if (rc == PX_ELIMIT) rc = px_fail(err, PX_ELIMIT, "'%s' is too long", key);
    if (rc == PX_OK) *out = b->data;
    return rc;
}

static int parse_body(const struct api_req *req, struct body *b, struct px_err *err)
{
    memset(b, 0, sizeof *b);
    buf_init(&b->chips, LIMIT_SAVED_JSON_BYTES);
    buf_init(&b->columns, LIMIT_SAVED_JSON_BYTES);
    buf_init(&b->feedback, LIMIT_SAVED_JSON_BYTES);
    if (req->body == NULL) return px_fail(err, PX_EINVAL, "the request needs a JSON body");
    int rc = jsonx_parse(req->body, req->body_len, "the body", &b->root, err);
    if (rc == PX_OK && !cJSON_IsObject(b->root)) {
        rc = px_fail(err, PX_EINVAL, "the body must be a JSON object");
    }
    if (rc == PX_OK) rc = text_member(b->root, "name", &b->in.name, err);
    if (rc == PX_OK) rc = text_member(b->root, "query", &b->in.query, err);
    if (rc == PX_OK) rc = text_member(b->root, "sort", &b->in.sort, err);
    if (rc == PX_OK) rc = text_member(b->root, "webhook", &b->in.webhook, err);
    if (rc == PX_OK) rc = json_member(b->root, "chips", &b->chips, &b->in.chips, err);
    if (rc == PX_OK) rc = json_member(b->root, "columns", &b->columns, &b->in.columns, err);
    if (rc == PX_OK) rc = json_member(b->root, "feedback", &b->feedback, &b->in.feedback, err);
    return rc;
}

static void body_free(struct body *b)
{
    cJSON_Delete(b->root);
    buf_free(&b->chips);
    buf_free(&b->columns);
    buf_free(&b->feedback);
}

int api_saved_list(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    int rc = need_db(req, err);
    return rc == PX_OK ? app_saved_list(req->ctx->db_path, &who, &res->body, err) : rc;
}

int api_saved_add(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    struct body b;
    memset(&b, 0, sizeof b); // body_free below also when need_db refuses before parse_body
    long long id = 0;
    int rc = need_db(req, err);
    if (rc == PX_OK) rc = parse_body(req, &b, err);
    if (rc == PX_OK) {
        rc = app_saved_add(req->ctx->db_path, req->ctx->book, &who, &b.in, &id, &res->body, err);
    }
    if (rc == PX_OK) res->status = 201;
    body_free(&b);
    return rc;
}

int api_saved_one(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    long long id = 0;
    int rc = need_db(req, err);
    if (rc == PX_OK) rc = parse_id(req->id, &id, err);
    if (rc != PX_OK) return rc;
    if (strcmp(req->method, "DELETE") == 0) {
        rc = app_saved_delete(req->ctx->db_path, &who, id, err);
        if (rc == PX_OK) rc = buf_printf(&res->body, err, "{\"deleted\": %lld}", id);
        return rc;
    }
    if (strcmp(req->method, "POST") == 0) {
        struct body b;
        rc = parse_body(req, &b, err);
        if (rc == PX_OK) {
            rc = app_saved_update(req->ctx->db_path, req->ctx->book, &who, id, &b.in, &res->body,
                                  err);
        }
        body_free(&b);
        return rc;
    }
    return app_saved_show(req->ctx->db_path, &who, id, &res->body, err);
}

int api_saved_run(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    long long id = 0, top = 0;
    int rc = need_db(req, err);
    if (rc == PX_OK) rc = parse_id(req->id, &id, err);
    if (rc == PX_OK) rc = arg_num(req, "top", 10, 1, LIMIT_HTTP_TOP, &top, err);
    if (rc == PX_OK) {
        rc = app_saved_run(req->ctx->db_path, req->ctx->book, &who, id, (size_t)top, &res->body,
                           err);
    }
    return rc;
}

int api_alerts(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    long long saved = 0, after = 0, limit = 0;
    int rc = need_db(req, err);
    if (rc == PX_OK) rc = arg_num(req, "saved", 0, 0, INT64_MAX, &saved, err);
    if (rc == PX_OK) rc = arg_num(req, "after", 0, 0, INT64_MAX, &after, err);
    if (rc == PX_OK) rc = arg_num(req, "limit", 20, 1, 1000, &limit, err);
    if (rc == PX_OK) {
        rc = app_alerts_list(req->ctx->db_path, req->ctx->book, &who, saved, after, (size_t)limit,
                             &res->body, err);
    }
    return rc;
}

static int body_sink(void *user, const char *data, size_t len, struct px_err *err)
{
    struct api_res *res = user;
    int rc = buf_append(&res->body, data, len, err);
    if (rc == PX_ELIMIT) {
        res->status = 413;
        rc = px_fail(err, PX_ELIMIT,
                     "the export outgrew the %u MiB response limit: use `prospect report`",
                     LIMIT_HTTP_RESPONSE >> 20);
    }
    return rc;
}

int api_export(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    const char *q = api_req_arg(req, "q");
    size_t n = 0;
    int rc = need_db(req, err);
    if (rc == PX_OK && q == NULL) rc = px_fail(err, PX_EINVAL, "missing query argument 'q'");
    if (rc == PX_OK && strlen(q) > LIMIT_QUERY_BYTES) {
        rc = px_fail(err, PX_ELIMIT, "q is %zu bytes; the limit is %d", strlen(q),
                     LIMIT_QUERY_BYTES);
    }
    if (rc == PX_OK) {
        rc = app_report_query(req->ctx->db_path, req->ctx->book, &who, q, strlen(q), body_sink,
                              res, &n, err);
    }
    if (rc == PX_OK) {
        res->content_type = "text/csv; charset=utf-8";
        res->audited = "report";
    }
    return rc;
}

int api_saved_report(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    struct app_saved_who who = who_of(req);
    long long id = 0;
    size_t n = 0;
    const char *fmt = api_req_arg(req, "format");
    int rc = need_db(req, err);
    if (rc == PX_OK) rc = parse_id(req->id, &id, err);
    if (rc == PX_OK && fmt != NULL && strcmp(fmt, "csv") != 0 && strcmp(fmt, "html") != 0) {
        rc = px_fail(err, PX_EINVAL, "format must be csv or html");
    }
    bool html = fmt != NULL && strcmp(fmt, "html") == 0;
    if (rc == PX_OK) {
        rc = app_report_saved(req->ctx->db_path, req->ctx->book, &who, id,
                              html ? APP_REPORT_HTML : APP_REPORT_CSV, body_sink, res, &n, err);
    }
    if (rc == PX_OK) {
        res->content_type = html ? "text/html; charset=utf-8" : "text/csv; charset=utf-8";
        res->audited = "report";
        if (html) res->csp = "default-src 'none'";
    }
    return rc;
}
