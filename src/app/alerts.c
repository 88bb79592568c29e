// alerts.c — alert runs (app_saved.h): each saved search runs again, its matches are compared
// with the last run's (saved_diff: new, gone, unchanged), the change is recorded, and the new
// customers are POSTed to the search's webhook.
//
// Design:
//   - The diff is one merge of two id-sorted lists (saved_matches gives the book's rows in id
//     order; the store keeps a search's set as one BLOB in the same byte order), O(n + m), no
//     hashing; only a changed set is written back.
//   - A search whose matches were taken at the book's current generation is skipped (nothing
//     changed since), unless forced: an alert run after every import costs one run per search,
//     a cron run between imports costs nothing.
//   - One transaction per search records its matches, generation and alert
//     (store_saved_record); a failure leaves that search as it was, and the next run
//     finds the same change again.
//   - Audit, fail closed: the "alert_run" row (the new customers' ids) is written before any
//     webhook attempt, then one "webhook" row per attempt (URL, attempt, status or error, the
//     ids sent). If a row cannot be written, nothing more is sent.
//   - The webhook's document: {"alert", "saved_id", "name", "query", "generation", "time",
//     "new", "gone", "new_ids", "gone_ids"}; "alert" is the alerts row's id, so a receiver can
//     drop a repeat of a delivery it acknowledged too late.
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app_saved.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "saved.h"
#include "saved_int.h"
#include "store.h"
#include "webhook.h"

int saved_diff(const char *const *prev, size_t n_prev, const char *const *cur, size_t n_cur,
               struct saved_diff *d, struct px_err *err)
{
    memset(d, 0, sizeof *d);
    d->added = px_malloc((n_cur ? n_cur : 1) * sizeof *d->added);
    d->gone = px_malloc((n_prev ? n_prev : 1) * sizeof *d->gone);
    if (d->added == NULL || d->gone == NULL) {
        saved_diff_free(d);
        return px_fail(err, PX_ENOMEM, "out of memory comparing matches");
    }
    size_t i = 0, j = 0;
    while (i < n_prev || j < n_cur) {
        int c = i == n_prev ? 1 : j == n_cur ? -1 : strcmp(prev[i], cur[j]);
        if (c == 0) {
            d->n_unchanged++;
            i++;
            j++;
        } else if (c < 0) {
            d->gone[d->n_gone++] = i++;
        } else {
            d->added[d->n_added++] = j++;
        }
    }
    return PX_OK;
}

void saved_diff_free(struct saved_diff *d)
{
    px_free(d->added);
    px_free(d->gone);
    memset(d, 0, sizeof *d);
}

struct app_alerts_params app_alerts_default_params(void)
{
    return (struct app_alerts_params){0};
}

static int put_id_list(struct buf *out, const char *const *ids, const size_t *idx, size_t n,
                       struct px_err *err)
{
    int rc = buf_append(out, "[", 1, err);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        const char *id = ids[idx[i]];
        if (i > 0) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, id, strlen(id), err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

struct hook_ctx {
    const char *db_path;
    const struct app_saved_who *who;
    const char *url, *ids_json;
    long long n_ids;
    int attempts;
};

static int audit_attempt(const struct webhook_attempt *a, void *user, struct px_err *err)
{
    struct hook_ctx *h = user;
    char q[LIMIT_WEBHOOK_URL + 320];
    snprintf(q, sizeof q, "%s attempt %d after %ld ms: %s", h->url, a->attempt, a->delay_ms,
             a->delivered ? "delivered" : a->error);
    h->attempts = a->attempt;
    return saved_audit(h->db_path, h->who, "webhook", q, NULL, h->ids_json, h->n_ids, err);
}

// One search's run: matches now, the diff, the record, the audit rows and the webhook; its
// entry of "runs" appended to out.
static int run_one(const char *db_path, struct store *st, struct app_book *b,
                   const struct app_saved_who *who, const struct store_saved *v, long long gen,
                   const struct app_alerts_params *p, struct buf *out, size_t *n_new,
                   size_t *n_gone, bool *changed, struct px_err *err)
{
    uint32_t *rows = NULL;
    size_t n = 0;
    const char **cur = NULL;
    struct store_match_set prev = {0};
    struct saved_diff d = {0};
    struct buf new_json, gone_json, doc, set;
    buf_init(&new_json, LIMIT_AUDIT_IDS_BYTES);
    buf_init(&gone_json, LIMIT_AUDIT_IDS_BYTES);
    buf_init(&doc, (size_t)2 * LIMIT_AUDIT_IDS_BYTES);
    buf_init(&set, LIMIT_REPORT_IDS_BYTES);
    long long alert_id = 0;
    int rc = saved_matches(b, v->query, strlen(v->query), &rows, &n, NULL, err);
    if (rc == PX_OK && (cur = px_calloc(n ? n : 1, sizeof *cur)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory running alerts");
    }
    for (size_t i = 0; rc == PX_OK && i < n; i++) cur[i] = app_book_id(b, rows[i]);
    if (rc == PX_OK) rc = store_saved_matches(st, v->id, &prev, err);
    if (rc == PX_OK) rc = saved_diff(prev.ids, prev.n, cur, n, &d, err);
    if (rc == PX_OK) rc = put_id_list(&new_json, cur, d.added, d.n_added, err);
    if (rc == PX_OK) rc = put_id_list(&gone_json, prev.ids, d.gone, d.n_gone, err);
    if (rc == PX_OK && d.n_added + d.n_gone > 0) rc = saved_set_blob(cur, n, &set, err);
    if (rc == PX_OK) {
        struct store_saved_change c = {v->id, gen, set.data, set.len, n, d.n_added, d.n_gone,
                                       d.n_unchanged, new_json.data, gone_json.data, false};
        rc = store_saved_record(st, &c, &alert_id, err);
    }
    if (rc == PX_OK && alert_id > 0) {
        struct app_saved_who owner_who = *who;
        rc = saved_audit(db_path, &owner_who, "alert_run", v->query, NULL, new_json.data,
                         (long long)d.n_added, err);
    }
    struct hook_ctx h = {db_path, who, v->webhook, new_json.data, (long long)d.n_added, 0};
    bool delivered = false, hooked = rc == PX_OK && alert_id > 0 && d.n_added > 0 &&
                                     v->webhook != NULL && v->webhook[0] != '\0';
    if (hooked) {
        char when[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        rc = buf_printf(&doc, err, "{\"alert\": %lld, \"saved_id\": %lld", alert_id, v->id);
        if (rc == PX_OK) rc = jsonx_put_member(&doc, "name", v->name, false, err);
        if (rc == PX_OK) rc = jsonx_put_member(&doc, "query", v->query, false, err);
        if (rc == PX_OK) {
            rc = buf_printf(&doc, err,
                            ", \"generation\": %lld, \"time\": \"%s\", \"new\": %zu, "
                            "\"gone\": %zu, \"new_ids\": %s, \"gone_ids\": %s}",
                            gen, when, d.n_added, d.n_gone, new_json.data, gone_json.data);
        }
        struct webhook_params wp = webhook_default_params();
        if (p->webhook_attempts > 0) wp.max_attempts = p->webhook_attempts;
        if (p->webhook_base_ms > 0) wp.base_ms = p->webhook_base_ms;
        if (p->webhook_timeout_ms > 0) wp.timeout_ms = p->webhook_timeout_ms;
        if (rc == PX_OK) {
            rc = webhook_post(v->webhook, doc.data, doc.len, &wp, audit_attempt, &h, &delivered,
                              err);
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(out, err, "{\"id\": %lld", v->id);
        if (rc == PX_OK) rc = jsonx_put_member(out, "name", v->name, false, err);
        if (rc == PX_OK) rc = jsonx_put_member(out, "query", v->query, false, err);
        if (rc == PX_OK) rc = jsonx_put_member(out, "owner", v->owner, false, err);
        if (rc == PX_OK) {
            rc = buf_printf(out, err,
                            ", \"new\": %zu, \"gone\": %zu, \"unchanged\": %zu, \"new_ids\": %s, "
                            "\"alert\": %lld, \"webhook\": ",
                            d.n_added, d.n_gone, d.n_unchanged, new_json.data, alert_id);
        }
        if (rc == PX_OK && !hooked) rc = buf_printf(out, err, "null}");
        if (rc == PX_OK && hooked) {
            rc = buf_printf(out, err, "{\"url\": ");
            if (rc == PX_OK) rc = jsonx_put_cstr(out, v->webhook, err);
            if (rc == PX_OK) {
                rc = buf_printf(out, err, ", \"delivered\": %s, \"attempts\": %d}}",
                                delivered ? "true" : "false", h.attempts);
            }
        }
    }
    *n_new = d.n_added;
    *n_gone = d.n_gone;
    *changed = alert_id > 0;
    saved_diff_free(&d);
    store_match_set_free(&prev);
    buf_free(&new_json);
    buf_free(&gone_json);
    buf_free(&doc);
    buf_free(&set);
    px_free(cur);
    px_free(rows);
    return rc;
}

int app_alerts_run(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                   const struct app_alerts_params *p, struct buf *out, struct px_err *err)
{
    struct app_alerts_params dp = app_alerts_default_params();
    if (p == NULL) p = &dp;
    struct store *st = NULL;
    struct store_saved *all = NULL;
    size_t n = 0, ran = 0, skipped = 0, changed = 0, total_new = 0, total_gone = 0;
    long long gen = 0;
    char owner[80];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    app_saved_owner(who, owner);
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_import_generation(st, &gen, err);
    if (rc == PX_OK) rc = store_saved_list(st, p->all_owners ? NULL : owner, &all, &n, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "{\"generation\": %lld, \"runs\": [", gen);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        if (!p->force && all[i].generation == gen) {
            skipped++;
            continue;
        }
        size_t nn = 0, ng = 0;
        bool ch = false;
        if (ran > 0) rc = buf_append(out, ", ", 2, err);
        // the rows of an owner's search are that owner's: a cron run audits as who, naming them
        if (rc == PX_OK) {
            rc = run_one(db_path, st, b, who, &all[i], gen, p, out, &nn, &ng, &ch, err);
        }
        if (rc != PX_OK) {
            px_err_prefix(err, "saved search %lld '%s'", all[i].id, all[i].name);
        }
        ran++;
        changed += ch;
        total_new += nn;
        total_gone += ng;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (rc == PX_OK) {
        rc = buf_printf(out, err,
                        "], \"searches\": %zu, \"ran\": %zu, \"skipped\": %zu, \"changed\": %zu, "
                        "\"new\": %zu, \"gone\": %zu, \"seconds\": %.3f}",
                        n, ran, skipped, changed, total_new, total_gone, secs);
    }
    store_saved_list_free(all, n);
    store_close(st);
    return rc;
}

struct list_ctx {
    struct buf *out;
    const struct app_book *b;
    size_t n;
};

static int list_alert(const struct store_alert *a, void *user, struct px_err *err)
{
    struct list_ctx *c = user;
    struct buf *out = c->out;
    cJSON *ids = NULL, *gone = NULL;
    int rc = buf_printf(out, err, "%s{\"id\": %lld, \"saved_id\": %lld", c->n++ ? ", " : "",
                        a->id, a->saved_id);
    if (rc == PX_OK) rc = jsonx_put_member(out, "name", a->name, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "query", a->query, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "time", a->time, false, err);
    if (rc == PX_OK) {
        rc = buf_printf(out, err,
                        ", \"generation\": %lld, \"new\": %lld, \"gone\": %lld, "
                        "\"unchanged\": %lld, \"new_ids\": ",
                        a->generation, a->n_new, a->n_gone, a->n_unchanged);
    }
    if (rc == PX_OK) rc = jsonx_parse(a->new_ids, strlen(a->new_ids), "new_ids", &ids, err);
    if (rc == PX_OK) rc = jsonx_put_value(out, ids, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"gone_ids\": ");
    if (rc == PX_OK) rc = jsonx_parse(a->gone_ids, strlen(a->gone_ids), "gone_ids", &gone, err);
    if (rc == PX_OK) rc = jsonx_put_value(out, gone, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"customers\": [");
    size_t shown = 0;
    for (const cJSON *v = ids ? ids->child : NULL; rc == PX_OK && c->b != NULL && v != NULL &&
                                                   shown < LIMIT_SAVED_TOP_MATCHES;
         v = v->next) {
        long r = cJSON_IsString(v) ? app_book_find(c->b, v->valuestring) : -1;
        if (r < 0) continue;
        if (shown++ > 0) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = app_book_row_json(c->b, (size_t)r, out, err);
    }
    if (rc == PX_OK) rc = buf_printf(out, err, "]}");
    cJSON_Delete(ids);
    cJSON_Delete(gone);
    return rc;
}

int app_alerts_list(const char *db_path, const struct app_book *b,
                    const struct app_saved_who *who, long long saved_id, long long after,
                    size_t limit, struct buf *out, struct px_err *err)
{
    struct store *st = NULL;
    char owner[80];
    app_saved_owner(who, owner);
    size_t mark = out->len;
    struct list_ctx c = {out, b, 0};
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "{\"alerts\": [");
    if (rc == PX_OK) rc = store_alert_read(st, owner, saved_id, after, limit, list_alert, &c, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "]}");
    store_close(st);
    // the audit row names every customer the listing shows: collect them from the answer
    if (rc == PX_OK) {
        cJSON *doc = NULL;
        struct buf ids;
        buf_init(&ids, LIMIT_AUDIT_IDS_BYTES);
        long long n = 0;
        rc = jsonx_parse(out->data + mark, out->len - mark, "alerts", &doc, err);
        if (rc == PX_OK) rc = buf_append(&ids, "[", 1, err);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
        for (const cJSON *a = list ? list->child : NULL; rc == PX_OK && a != NULL; a = a->next) {
            const cJSON *cs = cJSON_GetObjectItemCaseSensitive(a, "new_ids");
            for (const cJSON *v = cs ? cs->child : NULL; rc == PX_OK && v != NULL; v = v->next) {
                if (n++ > 0) rc = buf_append(&ids, ", ", 2, err);
                if (rc == PX_OK) rc = jsonx_put_value(&ids, v, err);
            }
        }
        if (rc == PX_OK) rc = buf_append(&ids, "]", 1, err);
        if (rc == PX_OK) rc = saved_audit(db_path, who, "alerts", "", NULL, ids.data, n, err);
        cJSON_Delete(doc);
        buf_free(&ids);
    }
    return rc;
}

int app_alerts_after_import(const char *db_path, long long *n_runs, long long *n_new,
                            struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved *all = NULL;
    size_t n = 0;
    *n_runs = 0;
    *n_new = 0;
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_saved_list(st, NULL, &all, &n, err);
    store_saved_list_free(all, n);
    store_close(st);
    if (rc != PX_OK || n == 0) return rc;
    struct app_book *b = NULL;
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db_path;
    bp.lexical_only = true;
    rc = app_book_open(&bp, &b, err);
    struct buf out;
    buf_init(&out, LIMIT_HTTP_RESPONSE);
    struct app_saved_who who = {"cli", NULL, "import"};
    struct app_alerts_params p = app_alerts_default_params();
    p.all_owners = true;
    if (rc == PX_OK) rc = app_alerts_run(db_path, b, &who, &p, &out, err);
    if (rc == PX_OK) {
        cJSON *doc = NULL;
        rc = jsonx_parse(out.data, out.len, "alerts", &doc, err);
        if (rc == PX_OK) {
            int64_t v = 0;
            jsonx_get_int(doc, "ran", false, 0, 0, INT64_MAX, &v, "alerts", err);
            *n_runs = v;
            jsonx_get_int(doc, "new", false, 0, 0, INT64_MAX, &v, "alerts", err);
            *n_new = v;
        }
        cJSON_Delete(doc);
    }
    buf_free(&out);
    app_book_close(b);
    return rc;
}
