// saved.c — saved searches (app_saved.h): owners, validating what is saved, the store rows as
// JSON, and the audit rows of every action.
//
// Design:
//   - Owners are strings: the API key id, "cli:<OS user>", or "local" (a keyless loopback
//     server). Each call reads the row and compares its owner, and another owner's row answers
//     exactly like a missing one (PX_ENOENT, "no saved search N"), so ids cannot be probed.
//   - What is saved is checked once, here, against the book: chips must be a JSON object,
//     columns a JSON array of the book's column names, sort "" or "<column>:asc|desc",
//     feedback {"up": [...], "down": [...]} of at most LIMIT_FEEDBACK_IDS ids each, the webhook
//     an http(s) URL (notify/webhook.c's check). The stored JSON is parsed and re-written on
//     the way out (jsonx_put_value), so a hand-edited row cannot break an answer.
//   - Saving runs the query once (saved_matches) and keeps its matches as the alerts' starting
//     point, in the same call: a saved search never has "everything is new" as its first alert.
//   - Every action appends its audit row after its answer is built and before it is returned;
//     a row that cannot be written fails the call.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_access.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "saved.h"
#include "saved_int.h"
#include "store.h"
#include "webhook.h"

void app_saved_owner(const struct app_saved_who *who, char out[80])
{
    if (who->key_id != NULL && who->key_id[0] != '\0') {
        snprintf(out, 80, "%s", who->key_id);
    } else if (who->channel != NULL && strcmp(who->channel, "cli") == 0) {
        snprintf(out, 80, "cli:%s", who->actor ? who->actor : "?");
    } else {
        snprintf(out, 80, "local");
    }
}

int saved_audit(const char *db_path, const struct app_saved_who *who, const char *action,
                const char *query, const char *plan, const char *ids_json, long long n,
                struct px_err *err)
{
    struct app_access *a = NULL;
    struct app_audit_entry e = {who->key_id && who->key_id[0] ? who->key_id : NULL,
                                who->channel ? who->channel : "cli", who->actor, action,
                                query ? query : "", query ? strlen(query) : 0};
    int rc = app_access_open(db_path, &a, err);
    if (rc == PX_OK) rc = app_access_log_ids(a, &e, plan, ids_json, n, err);
    app_access_close(a);
    return rc;
}

int saved_ids_json(const struct app_book *b, const uint32_t *rows, size_t n, struct buf *out,
                   struct px_err *err)
{
    int rc = buf_append(out, "[", 1, err);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        const char *id = app_book_id(b, rows[i]);
        if (i > 0) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = jsonx_put_string(out, id, strlen(id), err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

// ---- checking what is saved ----

static bool has_column(const struct app_book *b, const char *name)
{
    for (size_t c = 0; b != NULL && c < app_book_n_columns(b); c++) {
        if (strcmp(app_book_column_name(b, c), name) == 0) return true;
    }
    return b == NULL; // nothing to check against
}

static int check_text(const char *what, const char *s, size_t max, struct px_err *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return px_fail(err, PX_EINVAL, "%s must be 1..%zu bytes, got %zu", what, max, n);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return px_fail(err, PX_EINVAL, "%s has a control byte at byte %zu", what, i + 1);
        }
    }
    return PX_OK;
}

static int parse_json(const char *what, const char *s, cJSON **out, struct px_err *err)
{
    size_t n = strlen(s);
    if (n > LIMIT_SAVED_JSON_BYTES) {
        return px_fail(err, PX_ELIMIT, "%s is %zu bytes, at most %u", what, n,
                       LIMIT_SAVED_JSON_BYTES);
    }
    return jsonx_parse(s, n, what, out, err);
}

static int check_string_array(const char *what, const cJSON *a, size_t max,
                              const struct app_book *b, bool columns, struct px_err *err)
{
    if (!cJSON_IsArray(a)) {
        return px_fail(err, PX_EINVAL, "%s must be a JSON array of strings", what);
    }
    size_t i = 0;
    for (const cJSON *v = a->child; v != NULL; v = v->next, i++) {
        if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            return px_fail(err, PX_EINVAL, "%s[%zu] must be a non-empty string", what, i);
        }
        if (columns && !has_column(b, v->valuestring)) {
            return px_fail(err, PX_EINVAL, "%s[%zu]: the book has no column '%.100s'", what, i,
                           v->valuestring);
        }
    }
    if (i > max) {
        return px_fail(err, PX_ELIMIT, "%s has %zu items, at most %zu", what, i, max);
    }
    return PX_OK;
}

static int check_input(const struct app_book *b, const struct app_saved_input *in,
                       struct px_err *err)
{
    cJSON *j = NULL;
    int rc = PX_OK;
    if (in->name != NULL) rc = check_text("the name", in->name, LIMIT_SAVED_NAME, err);
    if (rc == PX_OK && in->query != NULL) {
        rc = check_text("the query", in->query, LIMIT_QUERY_BYTES, err);
    }
    if (rc == PX_OK && in->chips != NULL && (rc = parse_json("chips", in->chips, &j, err)) ==
                                                PX_OK) {
        if (!cJSON_IsObject(j)) rc = px_fail(err, PX_EINVAL, "chips must be a JSON object");
        cJSON_Delete(j);
        j = NULL;
    }
    if (rc == PX_OK && in->columns != NULL &&
        (rc = parse_json("columns", in->columns, &j, err)) == PX_OK) {
        rc = check_string_array("columns", j, LIMIT_QUERY_COLUMNS, b, true, err);
        cJSON_Delete(j);
        j = NULL;
    }
    if (rc == PX_OK && in->sort != NULL && in->sort[0] != '\0') {
        const char *colon = strrchr(in->sort, ':');
        char col[LIMIT_CSV_NAME_BYTES + 1];
        size_t n = colon ? (size_t)(colon - in->sort) : 0;
        if (colon == NULL || n == 0 || n > LIMIT_CSV_NAME_BYTES ||
            (strcmp(colon, ":asc") != 0 && strcmp(colon, ":desc") != 0)) {
            rc = px_fail(err, PX_EINVAL, "sort must be \"\" or \"<column>:asc|desc\", got '%.100s'",
                         in->sort);
        } else {
            memcpy(col, in->sort, n);
            col[n] = '\0';
            if (!has_column(b, col)) {
                rc = px_fail(err, PX_EINVAL, "sort: the book has no column '%.100s'", col);
            }
        }
    }
    if (rc == PX_OK && in->feedback != NULL &&
        (rc = parse_json("feedback", in->feedback, &j, err)) == PX_OK) {
        const cJSON *up = cJSON_GetObjectItemCaseSensitive(j, "up");
        const cJSON *down = cJSON_GetObjectItemCaseSensitive(j, "down");
        if (!cJSON_IsObject(j)) {
            rc = px_fail(err, PX_EINVAL, "feedback must be {\"up\": [ids], \"down\": [ids]}");
        }
        if (rc == PX_OK && up != NULL) {
            rc = check_string_array("feedback.up", up, LIMIT_FEEDBACK_IDS, b, false, err);
        }
        if (rc == PX_OK && down != NULL) {
            rc = check_string_array("feedback.down", down, LIMIT_FEEDBACK_IDS, b, false, err);
        }
        cJSON_Delete(j);
    }
    if (rc == PX_OK && in->webhook != NULL && in->webhook[0] != '\0') {
        rc = webhook_check_url(in->webhook, err);
    }
    return rc;
}

// ---- the rows as JSON ----

static int put_stored_json(struct buf *out, const char *key, const char *text, const char *dflt,
                           struct px_err *err)
{
    cJSON *j = NULL;
    int rc = jsonx_put_key(out, key, false, err);
    if (rc == PX_OK && jsonx_parse(text, strlen(text), key, &j, err) == PX_OK) {
        rc = jsonx_put_value(out, j, err);
    } else if (rc == PX_OK) {
        rc = buf_printf(out, err, "%s", dflt); // a hand-edited row: show the empty value
    }
    cJSON_Delete(j);
    return rc;
}

int saved_json(const struct store_saved *v, long long n_matches, struct buf *out,
               struct px_err *err)
{
    int rc = buf_printf(out, err, "{\"id\": %lld", v->id);
    if (rc == PX_OK) rc = jsonx_put_member(out, "name", v->name, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "query", v->query, false, err);
    if (rc == PX_OK) {
        rc = put_stored_json(out, "chips", v->chips, "{\"applied\": [], \"removed\": []}", err);
    }
    if (rc == PX_OK) rc = put_stored_json(out, "columns", v->columns, "[]", err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "sort", v->sort, false, err);
    if (rc == PX_OK) {
        rc = put_stored_json(out, "feedback", v->feedback, "{\"up\": [], \"down\": []}", err);
    }
    if (rc == PX_OK) rc = jsonx_put_member(out, "webhook", v->webhook, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "created", v->created, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "updated", v->updated, false, err);
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"generation\": %lld", v->generation);
    if (rc == PX_OK && n_matches >= 0) rc = buf_printf(out, err, ", \"matches\": %lld", n_matches);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int saved_open_get(const char *db_path, const struct app_saved_who *who, long long id,
                   struct store **st, struct store_saved *v, struct px_err *err)
{
    char owner[80];
    bool found = false;
    app_saved_owner(who, owner);
    int rc = store_open(db_path, NULL, st, err);
    if (rc == PX_OK) rc = store_saved_get(*st, id, v, &found, err);
    if (rc == PX_OK && (!found || strcmp(v->owner, owner) != 0)) {
        store_saved_clear(v);
        rc = px_fail(err, PX_ENOENT, "no saved search %lld", id);
    }
    if (rc != PX_OK) {
        store_close(*st);
        *st = NULL;
    }
    return rc;
}

// ---- actions ----

int saved_set_blob(const char *const *ids, size_t n, struct buf *out, struct px_err *err)
{
    int rc = PX_OK;
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        rc = buf_append(out, ids[i], strlen(ids[i]) + 1, err);
    }
    return rc;
}

// Takes the search's first matches (the alerts' starting point) at the current generation.
static int take_baseline(struct store *st, struct app_book *b, const struct store_saved *v,
                         size_t *n_matches, struct px_err *err)
{
    uint32_t *rows = NULL;
    size_t n = 0;
    const char **ids = NULL;
    long long alert_id = 0;
    struct buf set;
    buf_init(&set, LIMIT_REPORT_IDS_BYTES);
    int rc = saved_matches(b, v->query, strlen(v->query), &rows, &n, NULL, err);
    if (rc == PX_OK && (ids = px_calloc(n ? n : 1, sizeof *ids)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory saving a search");
    }
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        ids[i] = app_book_id(b, rows[i]);
    }
    if (rc == PX_OK) rc = saved_set_blob(ids, n, &set, err);
    if (rc == PX_OK) {
        // a baseline is not an alert: the set is recorded without an alerts row
        struct store_saved_change c = {.saved_id = v->id, .generation = v->generation,
                                       .set = set.data, .set_len = set.len, .n_set = n,
                                       .baseline = true};
        rc = store_saved_record(st, &c, &alert_id, err);
    }
    *n_matches = n;
    buf_free(&set);
    px_free(ids);
    px_free(rows);
    return rc;
}

int app_saved_add(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                  const struct app_saved_input *in, long long *id, struct buf *out,
                  struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved v = {0}, got = {0};
    char owner[80];
    bool found = false;
    size_t n_matches = 0;
    *id = 0;
    if (in->name == NULL || in->query == NULL) {
        return px_fail(err, PX_EINVAL, "a saved search needs a name and a query");
    }
    int rc = check_input(b, in, err);
    app_saved_owner(who, owner);
    if (rc == PX_OK) rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) {
        struct store_saved *all = NULL;
        size_t n_all = 0;
        rc = store_saved_list(st, owner, &all, &n_all, err);
        if (rc == PX_OK && n_all >= LIMIT_SAVED_SEARCHES) {
            rc = px_fail(err, PX_ELIMIT, "%s has %zu saved searches, at most %d", owner, n_all,
                         LIMIT_SAVED_SEARCHES);
        }
        store_saved_list_free(all, n_all);
    }
    v.owner = owner;
    v.name = (char *)in->name;
    v.query = (char *)in->query;
    v.chips = (char *)in->chips;
    v.columns = (char *)in->columns;
    v.sort = (char *)in->sort;
    v.feedback = (char *)in->feedback;
    v.webhook = (char *)in->webhook;
    if (rc == PX_OK) rc = store_import_generation(st, &v.generation, err);
    if (rc == PX_OK) rc = store_saved_insert(st, &v, id, err);
    if (rc == PX_OK) rc = store_saved_get(st, *id, &got, &found, err);
    if (rc == PX_OK && b != NULL) rc = take_baseline(st, b, &got, &n_matches, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "{\"saved\": ");
    if (rc == PX_OK) rc = saved_json(&got, (long long)n_matches, out, err);
    if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    if (rc == PX_OK) rc = saved_audit(db_path, who, "saved_add", in->query, NULL, "[]", 0, err);
    if (rc != PX_OK && *id > 0) { // nothing half-saved: a search without its audit row goes
        struct px_err e2 = {0};
        store_saved_delete(st, *id, &found, &e2);
        *id = 0;
    }
    store_saved_clear(&got);
    store_close(st);
    return rc;
}

static void take(char **dst, const char *src)
{
    if (src != NULL) {
        px_free(*dst);
        *dst = px_strdup(src);
    }
}

int app_saved_update(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     long long id, const struct app_saved_input *in, struct buf *out,
                     struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved v = {0};
    bool found = false;
    int rc = check_input(b, in, err);
    if (rc == PX_OK) rc = saved_open_get(db_path, who, id, &st, &v, err);
    if (rc != PX_OK) return rc;
    bool new_query = in->query != NULL && strcmp(in->query, v.query) != 0;
    take(&v.name, in->name);
    take(&v.query, in->query);
    take(&v.chips, in->chips);
    take(&v.columns, in->columns);
    take(&v.sort, in->sort);
    take(&v.feedback, in->feedback);
    if (in->webhook != NULL) {
        px_free(v.webhook);
        v.webhook = in->webhook[0] ? px_strdup(in->webhook) : NULL;
    }
    if (v.name == NULL || v.query == NULL || v.chips == NULL || v.columns == NULL ||
        v.sort == NULL || v.feedback == NULL || (in->webhook && in->webhook[0] && !v.webhook)) {
        rc = px_fail(err, PX_ENOMEM, "out of memory updating a saved search");
    }
    if (rc == PX_OK) rc = store_saved_update(st, &v, &found, err);
    size_t n_matches = 0;
    if (rc == PX_OK && new_query && b != NULL) {
        // another query: its matches start again from now
        rc = store_import_generation(st, &v.generation, err);
        if (rc == PX_OK) rc = take_baseline(st, b, &v, &n_matches, err);
    }
    store_saved_clear(&v);
    if (rc == PX_OK) rc = store_saved_get(st, id, &v, &found, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "{\"saved\": ");
    if (rc == PX_OK) rc = saved_json(&v, -1, out, err);
    if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    if (rc == PX_OK) rc = saved_audit(db_path, who, "saved_update", v.query, NULL, "[]", 0, err);
    store_saved_clear(&v);
    store_close(st);
    return rc;
}

int app_saved_list(const char *db_path, const struct app_saved_who *who, struct buf *out,
                   struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved *all = NULL;
    size_t n = 0;
    char owner[80];
    app_saved_owner(who, owner);
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_saved_list(st, owner, &all, &n, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "{\"saved\": [");
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        if (i > 0) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = saved_json(&all[i], all[i].n_matches, out, err);
    }
    if (rc == PX_OK) rc = buf_printf(out, err, "]}");
    if (rc == PX_OK) rc = saved_audit(db_path, who, "saved_list", "", NULL, "[]", 0, err);
    store_saved_list_free(all, n);
    store_close(st);
    return rc;
}

struct show_ctx {
    struct buf *out;
    size_t n;
};

static int show_alert(const struct store_alert *a, void *user, struct px_err *err)
{
    struct show_ctx *c = user;
    int rc = buf_printf(c->out, err,
                        "%s{\"id\": %lld, \"time\": \"%s\", \"generation\": %lld, \"new\": %lld, "
                        "\"gone\": %lld, \"unchanged\": %lld, \"new_ids\": ",
                        c->n++ ? ", " : "", a->id, a->time, a->generation, a->n_new, a->n_gone,
                        a->n_unchanged);
    cJSON *j = NULL;
    if (rc == PX_OK && jsonx_parse(a->new_ids, strlen(a->new_ids), "new_ids", &j, err) == PX_OK) {
        rc = jsonx_put_value(c->out, j, err);
    } else if (rc == PX_OK) {
        rc = buf_append(c->out, "[]", 2, err);
    }
    cJSON_Delete(j);
    return rc == PX_OK ? buf_append(c->out, "}", 1, err) : rc;
}

int app_saved_show(const char *db_path, const struct app_saved_who *who, long long id,
                   struct buf *out, struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved v = {0};
    int rc = saved_open_get(db_path, who, id, &st, &v, err);
    if (rc != PX_OK) return rc;
    rc = buf_printf(out, err, "{\"saved\": ");
    if (rc == PX_OK) rc = saved_json(&v, v.n_matches, out, err);
    struct show_ctx c = {out, 0};
    if (rc == PX_OK) rc = buf_printf(out, err, ", \"alerts\": [");
    if (rc == PX_OK) rc = store_alert_read(st, v.owner, id, 0, 20, show_alert, &c, err);
    if (rc == PX_OK) rc = buf_printf(out, err, "]}");
    if (rc == PX_OK) rc = saved_audit(db_path, who, "saved_show", v.query, NULL, "[]", 0, err);
    store_saved_clear(&v);
    store_close(st);
    return rc;
}

int app_saved_delete(const char *db_path, const struct app_saved_who *who, long long id,
                     struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved v = {0};
    bool found = false;
    int rc = saved_open_get(db_path, who, id, &st, &v, err);
    if (rc != PX_OK) return rc;
    rc = store_saved_delete(st, id, &found, err);
    if (rc == PX_OK) rc = saved_audit(db_path, who, "saved_delete", v.query, NULL, "[]", 0, err);
    store_saved_clear(&v);
    store_close(st);
    return rc;
}

int app_saved_find(const char *db_path, const struct app_saved_who *who, const char *ref,
                   long long *id, struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved *all = NULL;
    size_t n = 0;
    char owner[80];
    app_saved_owner(who, owner);
    *id = 0;
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_saved_list(st, owner, &all, &n, err);
    char *end = NULL;
    long long num = strtoll(ref, &end, 10);
    bool numeric = end != ref && *end == '\0';
    for (size_t i = 0; rc == PX_OK && i < n && *id == 0; i++) {
        if (strcmp(all[i].name, ref) == 0) *id = all[i].id;
    }
    for (size_t i = 0; rc == PX_OK && numeric && i < n && *id == 0; i++) {
        if (all[i].id == num) *id = num;
    }
    if (rc == PX_OK && *id == 0) {
        rc = px_fail(err, PX_ENOENT, "no saved search '%.100s' (prospect saved list)", ref);
    }
    store_saved_list_free(all, n);
    store_close(st);
    return rc;
}

int app_saved_run(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                  long long id, size_t top, struct buf *out, struct px_err *err)
{
    struct store *st = NULL;
    struct store_saved v = {0};
    struct app_result res = {0};
    struct buf ids;
    buf_init(&ids, LIMIT_AUDIT_IDS_BYTES);
    int rc = saved_open_get(db_path, who, id, &st, &v, err);
    if (rc != PX_OK) return rc;
    store_close(st);
    // the feedback kept with the search re-ranks it (app_book_search_feedback)
    const char *up[LIMIT_FEEDBACK_IDS], *down[LIMIT_FEEDBACK_IDS];
    size_t n_up = 0, n_down = 0;
    cJSON *fb = NULL;
    if (jsonx_parse(v.feedback, strlen(v.feedback), "feedback", &fb, err) == PX_OK) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(fb, "up"))
        {
            if (cJSON_IsString(e) && n_up < LIMIT_FEEDBACK_IDS) up[n_up++] = e->valuestring;
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(fb, "down"))
        {
            if (cJSON_IsString(e) && n_down < LIMIT_FEEDBACK_IDS) down[n_down++] = e->valuestring;
        }
    }
    bool dense = false;
    rc = app_book_search_feedback(b, v.query, strlen(v.query), top, up, n_up, down, n_down, &res,
                                  &dense, err);
    size_t mark = out->len;
    if (rc == PX_OK) {
        rc = app_feedback_to_json(b, v.query, strlen(v.query), up, n_up, down, n_down, dense, &res,
                                  out, err);
    }
    // {"query": ... } becomes {"saved": {...}, "query": ...}
    if (rc == PX_OK && out->len > mark && out->data[mark] == '{') {
        struct buf tail;
        buf_init(&tail, LIMIT_HTTP_RESPONSE);
        rc = buf_append(&tail, out->data + mark + 1, out->len - mark - 1, err);
        out->len = mark;
        if (rc == PX_OK) rc = buf_printf(out, err, "{\"saved\": ");
        if (rc == PX_OK) rc = saved_json(&v, -1, out, err);
        if (rc == PX_OK) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = buf_append(out, tail.data, tail.len, err);
        buf_free(&tail);
    }
    uint32_t *rows = NULL;
    if (rc == PX_OK && (rows = px_calloc(res.n_hits ? res.n_hits : 1, sizeof *rows)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == PX_OK && i < res.n_hits; i++) rows[i] = (uint32_t)res.hits[i].row;
    if (rc == PX_OK) rc = saved_ids_json(b, rows, res.n_hits, &ids, err);
    if (rc == PX_OK) {
        rc = saved_audit(db_path, who, "saved_run", v.query, NULL, ids.data,
                         (long long)res.n_hits, err);
    }
    px_free(rows);
    buf_free(&ids);
    app_result_free(&res);
    cJSON_Delete(fb);
    store_saved_clear(&v);
    return rc;
}
