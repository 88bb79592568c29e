// test_saved.c — issue 15's saved searches, alerts and reports below the CLI: the alert diff
// (new, gone, unchanged), the webhook's retry schedule and its deliveries against a loopback
// receiver (retried after 5xx, given up on a closed port), schema v4 migrated from a database
// made by the v3 code (tests/data/store-v3.db), the store rows, and a whole day in-process:
// save, re-import with new and gone customers (the import runs the alerts and the webhook
// gets one POST), alerts listed, everything still there after a restart, a report of every
// match, and the audit rows of it all.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testhook.h"
#include "testutil.h"

#include "app_access.h"
#include "app_data.h"
#include "app_saved.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "saved.h"
#include "saved_int.h"
#include "store.h"
#include "webhook.h"

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

static void test_diff(void **state)
{
    (void)state;
    struct px_err err = {0};
    struct saved_diff d;
    const char *prev[] = {"A1", "B2", "C3", "E5"};
    const char *cur[] = {"B2", "C3", "D4", "F6"};
    assert_int_equal(saved_diff(prev, 4, cur, 4, &d, &err), PX_OK);
    assert_int_equal(d.n_added, 2);
    assert_string_equal(cur[d.added[0]], "D4");
    assert_string_equal(cur[d.added[1]], "F6");
    assert_int_equal(d.n_gone, 2);
    assert_string_equal(prev[d.gone[0]], "A1");
    assert_string_equal(prev[d.gone[1]], "E5");
    assert_int_equal(d.n_unchanged, 2);
    saved_diff_free(&d);
    // nothing before: everything is new; nothing now: everything is gone; same: unchanged
    assert_int_equal(saved_diff(NULL, 0, cur, 4, &d, &err), PX_OK);
    assert_int_equal(d.n_added, 4);
    assert_int_equal(d.n_gone + d.n_unchanged, 0);
    saved_diff_free(&d);
    assert_int_equal(saved_diff(prev, 4, NULL, 0, &d, &err), PX_OK);
    assert_int_equal(d.n_gone, 4);
    assert_int_equal(d.n_added + d.n_unchanged, 0);
    saved_diff_free(&d);
    assert_int_equal(saved_diff(cur, 4, cur, 4, &d, &err), PX_OK);
    assert_int_equal(d.n_unchanged, 4);
    assert_int_equal(d.n_added + d.n_gone, 0);
    saved_diff_free(&d);
    // byte order, not locale order: "b" sorts after "Z"
    const char *p2[] = {"Z"}, *c2[] = {"Z", "b"};
    assert_int_equal(saved_diff(p2, 1, c2, 2, &d, &err), PX_OK);
    assert_int_equal(d.n_added, 1);
    assert_int_equal(d.added[0], 1);
    saved_diff_free(&d);
}

static void test_backoff_and_urls(void **state)
{
    (void)state;
    struct webhook_params p = webhook_default_params();
    p.base_ms = 1000;
    p.max_ms = 30000;
    const long want[] = {0, 0, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (int k = 1; k <= 8; k++) {
        assert_int_equal(webhook_backoff_ms(&p, k), want[k]);
    }
    struct px_err err = {0};
    assert_int_equal(webhook_check_url("http://127.0.0.1:9/hook", &err), PX_OK);
    assert_int_equal(webhook_check_url("HTTPS://example.com/a?b=c", &err), PX_OK);
    const char *bad[] = {"ftp://example.com/", "file:///etc/passwd", "http://", "http:///x",
                         "gopher://x", "http://exa mple.com/", "http://a\nb", "example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(webhook_check_url(bad[i], &err), PX_OK);
    }
}

struct seen {
    int n;
    long delays[8];
    bool delivered[8];
};

static int on_attempt(const struct webhook_attempt *a, void *user, struct px_err *err)
{
    (void)err;
    struct seen *s = user;
    s->delays[s->n] = a->delay_ms;
    s->delivered[s->n++] = a->delivered;
    return PX_OK;
}

static void test_webhook_retries(void **state)
{
    (void)state;
    int port = 0;
    const int script[] = {500, 503, 200};
    struct th_hook *h = th_hook_start(script, 3, &port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", port);
    struct webhook_params p = webhook_default_params();
    p.base_ms = 5;
    p.max_attempts = 4;
    struct seen s = {0};
    bool delivered = false;
    struct px_err err = {0};
    const char *doc = "{\"new_ids\": [\"X1\"]}";
    assert_int_equal(webhook_post(url, doc, strlen(doc), &p, on_attempt, &s, &delivered, &err),
                     PX_OK);
    assert_true(delivered);
    assert_int_equal(s.n, 3); // 500, 503, then 200: the fourth attempt is never made
    assert_int_equal(s.delays[0], 0);
    assert_int_equal(s.delays[1], 5);
    assert_int_equal(s.delays[2], 10);
    assert_false(s.delivered[0]);
    assert_true(s.delivered[2]);
    assert_int_equal(th_hook_count(h), 3);
    assert_string_equal(th_hook_body(h, 2), doc);
    th_hook_stop(h);
    // the receiver is gone: every attempt fails, none is delivered
    memset(&s, 0, sizeof s);
    p.max_attempts = 2;
    assert_int_equal(webhook_post(url, doc, strlen(doc), &p, on_attempt, &s, &delivered, &err),
                     PX_OK);
    assert_false(delivered);
    assert_int_equal(s.n, 2);
    // a URL of another scheme never leaves
    assert_int_equal(webhook_post("file:///tmp/x", doc, strlen(doc), &p, on_attempt, &s,
                                  &delivered, &err),
                     PX_EINVAL);
}

static long long count(struct store *st, const char *table)
{
    (void)table;
    long long gen = -1;
    struct px_err err = {0};
    assert_int_equal(store_import_generation(st, &gen, &err), PX_OK);
    return gen;
}

static void test_migrate_v3(void **state)
{
    (void)state;
    char src[512], path[512];
    tu_data_path(src, sizeof src, "store-v3.db");
    snprintf(path, sizeof path, "%s/v3.db", g_dir);
    char *data = NULL;
    size_t len = 0;
    struct px_err err = {0};
    assert_int_equal(fsx_read_file(src, 1u << 20, &data, &len, &err), PX_OK);
    assert_int_equal(fsx_write_atomic(path, data, len, &err), PX_OK);
    px_free(data);
    struct store *st = NULL;
    assert_int_equal(store_open(path, NULL, &st, &err), PX_OK);
    size_t n = 0;
    assert_int_equal(store_count_customers(st, &n, &err), PX_OK);
    assert_int_equal(n, 40);
    assert_int_equal(count(st, "imports"), 1);
    // the v3 audit chain still verifies after the migration
    struct store_audit_verdict v;
    assert_int_equal(store_audit_verify(st, &v, &err), PX_OK);
    assert_int_equal(v.broken_seq, 0);
    assert_true(v.n_rows >= 1);
    // the new tables work
    struct store_saved s = {.owner = "o", .name = "n", .query = "customers over 40"};
    long long id = 0;
    assert_int_equal(store_saved_insert(st, &s, &id, &err), PX_OK);
    assert_true(id > 0);
    store_close(st);
    // reopened: at the current version, the search still there
    assert_int_equal(store_open(path, NULL, &st, &err), PX_OK);
    struct store_saved got;
    bool found = false;
    assert_int_equal(store_saved_get(st, id, &got, &found, &err), PX_OK);
    assert_true(found);
    assert_string_equal(got.query, "customers over 40");
    assert_string_equal(got.feedback, "{\"up\": [], \"down\": []}");
    assert_null(got.webhook);
    store_saved_clear(&got);
    store_close(st);
    char cmd[1200], *out = NULL;
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA user_version' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    char line[32] = "";
    if (f != NULL && fgets(line, sizeof line, f) != NULL) {
        assert_int_equal(atoi(line), STORE_SCHEMA_VERSION);
    }
    if (f != NULL) pclose(f);
    free(out);
}

static void test_store_rows(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/rows.db", g_dir);
    struct store *st = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(path, NULL, &st, &err), PX_OK);
    struct store_saved a = {.owner = "k1", .name = "one", .query = "q1",
                            .webhook = "http://127.0.0.1:1/"};
    long long id1 = 0, id2 = 0, id3 = 0;
    assert_int_equal(store_saved_insert(st, &a, &id1, &err), PX_OK);
    assert_int_equal(store_saved_insert(st, &a, &id2, &err), PX_EINVAL); // same owner + name
    assert_non_null(strstr(err.msg, "one"));
    a.owner = "k2";
    assert_int_equal(store_saved_insert(st, &a, &id2, &err), PX_OK); // another owner may
    a.name = "two";
    assert_int_equal(store_saved_insert(st, &a, &id3, &err), PX_OK);
    struct store_saved *list = NULL;
    size_t n = 0;
    assert_int_equal(store_saved_list(st, "k2", &list, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "one");
    assert_string_equal(list[1].name, "two");
    store_saved_list_free(list, n);
    // a run's record: matches, then an alert only when something changed
    static const char set1[] = "C1\0C2\0", set2[] = "C2\0";
    struct store_saved_change c = {.saved_id = id1, .generation = 5, .set = set1,
                                   .set_len = sizeof set1 - 1, .n_set = 2, .n_added = 2,
                                   .new_json = "[\"C1\", \"C2\"]", .gone_json = "[]",
                                   .baseline = true};
    long long alert = -1;
    assert_int_equal(store_saved_record(st, &c, &alert, &err), PX_OK);
    assert_int_equal(alert, 0); // a baseline is not an alert
    struct store_match_set m;
    assert_int_equal(store_saved_matches(st, id1, &m, &err), PX_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.ids[0], "C1");
    assert_string_equal(m.ids[1], "C2");
    store_match_set_free(&m);
    struct store_saved_change c2 = {.saved_id = id1, .generation = 6, .set = set2,
                                    .set_len = sizeof set2 - 1, .n_set = 1, .n_gone = 1,
                                    .n_unchanged = 1, .new_json = "[]",
                                    .gone_json = "[\"C1\"]"};
    assert_int_equal(store_saved_record(st, &c2, &alert, &err), PX_OK);
    assert_true(alert > 0);
    assert_int_equal(store_saved_matches(st, id1, &m, &err), PX_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.ids[0], "C2");
    store_match_set_free(&m);
    // nothing changed: the set stays, only the generation moves, no alert
    struct store_saved_change c3 = {.saved_id = id1, .generation = 7, .n_set = 1,
                                    .n_unchanged = 1};
    assert_int_equal(store_saved_record(st, &c3, &alert, &err), PX_OK);
    assert_int_equal(alert, 0);
    struct store_saved got;
    bool found0 = false;
    assert_int_equal(store_saved_get(st, id1, &got, &found0, &err), PX_OK);
    assert_int_equal(got.generation, 7);
    assert_int_equal(got.n_matches, 1);
    store_saved_clear(&got);
    assert_int_equal(store_saved_matches(st, id1, &m, &err), PX_OK);
    assert_int_equal(m.n, 1);
    store_match_set_free(&m);
    bool found = false;
    assert_int_equal(store_saved_delete(st, id1, &found, &err), PX_OK);
    assert_true(found);
    assert_int_equal(store_saved_matches(st, id1, &m, &err), PX_OK);
    assert_int_equal(m.n, 0); // its matches went with it
    store_match_set_free(&m);
    assert_int_equal(store_saved_delete(st, id1, &found, &err), PX_OK);
    assert_false(found);
    store_close(st);
}

static const char *const k_book1 = "id,age,region,balance\n"
                                   "C01,70,Florida,900000\n"
                                   "C02,72,Texas,50000\n"
                                   "C03,30,Florida,20000\n"
                                   "C04,80,Ohio,700000\n"
                                   "C05,45,Ohio,10000\n"
                                   "C06,25,Texas,5000\n";
// C02 is now 60 (gone), C07 and C08 arrive over 65 (new), C09 arrives young
static const char *const k_book2 = "id,age,region,balance\n"
                                   "C02,60,Texas,50000\n"
                                   "C07,66,Florida,300000\n"
                                   "C08,90,Ohio,100000\n"
                                   "C09,20,Ohio,1000\n";

static int count_actions(const struct app_audit_row *r, void *user, struct px_err *err)
{
    (void)err;
    long long *n = user;
    if (strcmp(r->action, "saved_add") == 0) n[0]++;
    if (strcmp(r->action, "alert_run") == 0) n[1]++;
    if (strcmp(r->action, "webhook") == 0) n[2]++;
    if (strcmp(r->action, "report") == 0) n[3]++;
    if (strcmp(r->action, "alerts") == 0) n[4]++;
    return PX_OK;
}

static struct app_book *open_book(const char *db)
{
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.lexical_only = true;
    struct app_book *b = NULL;
    struct px_err err = {0};
    if (app_book_open(&bp, &b, &err) != PX_OK) fail_msg("open: %s", err.msg);
    return b;
}

static void test_day(void **state)
{
    (void)state;
    char db[512], csv[512], rep[512];
    snprintf(db, sizeof db, "%s/day.db", g_dir);
    tu_write_text(g_dir, "b1.csv", k_book1);
    tu_write_text(g_dir, "b2.csv", k_book2);
    snprintf(csv, sizeof csv, "%s/b1.csv", g_dir);
    struct app_import_stats is;
    struct px_err err = {0};
    assert_int_equal(app_import(db, csv, NULL, &is, &err), PX_OK);
    assert_int_equal(is.alerts_ran, 0); // nothing saved yet
    app_import_stats_free(&is);
    int port = 0;
    const int script[] = {200};
    struct th_hook *h = th_hook_start(script, 1, &port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/alerts", port);
    struct app_book *b = open_book(db);
    struct app_saved_who who = {"http", "abcdef012345", NULL};
    struct app_saved_input in = {.name = "seniors", .query = "customers over 65",
                                 .columns = "[\"age\", \"region\"]", .sort = "age:desc",
                                 .webhook = url};
    struct buf out;
    buf_init(&out, 1u << 20);
    long long id = 0;
    // bad input is refused naming what is wrong
    struct app_saved_input bad = in;
    bad.columns = "[\"nope\"]";
    assert_int_equal(app_saved_add(db, b, &who, &bad, &id, &out, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "nope"));
    bad = in;
    bad.webhook = "ftp://127.0.0.1/";
    assert_int_equal(app_saved_add(db, b, &who, &bad, &id, &out, &err), PX_EINVAL);
    bad = in;
    bad.sort = "age:sideways";
    assert_int_equal(app_saved_add(db, b, &who, &bad, &id, &out, &err), PX_EINVAL);
    buf_reset(&out);
    assert_int_equal(app_saved_add(db, b, &who, &in, &id, &out, &err), PX_OK);
    assert_non_null(strstr(out.data, "\"matches\": 3"));
    app_book_close(b);
    // the re-import runs the alerts: C07 and C08 new, C02 gone; one POST with the new ones
    snprintf(csv, sizeof csv, "%s/b2.csv", g_dir);
    assert_int_equal(app_import(db, csv, NULL, &is, &err), PX_OK);
    assert_string_equal(is.alerts_error, "");
    assert_int_equal(is.alerts_ran, 1);
    assert_int_equal(is.alerts_new, 2);
    app_import_stats_free(&is);
    assert_int_equal(th_hook_count(h), 1);
    const char *body = th_hook_body(h, 0);
    assert_non_null(strstr(body, "\"new_ids\": [\"C07\", \"C08\"]"));
    assert_non_null(strstr(body, "\"gone_ids\": [\"C02\"]"));
    assert_non_null(strstr(body, "\"name\": \"seniors\""));
    // a run with nothing imported since skips it, a forced one finds nothing new: no POST
    b = open_book(db);
    struct app_alerts_params p = app_alerts_default_params();
    buf_reset(&out);
    assert_int_equal(app_alerts_run(db, b, &who, &p, &out, &err), PX_OK);
    assert_non_null(strstr(out.data, "\"skipped\": 1"));
    p.force = true;
    buf_reset(&out);
    assert_int_equal(app_alerts_run(db, b, &who, &p, &out, &err), PX_OK);
    assert_non_null(strstr(out.data, "\"changed\": 0"));
    assert_int_equal(th_hook_count(h), 1);
    th_hook_stop(h);
    app_book_close(b);
    // restart: the search, its matches and the alert are all there
    b = open_book(db);
    buf_reset(&out);
    assert_int_equal(app_alerts_list(db, b, &who, 0, 0, 10, &out, &err), PX_OK);
    cJSON *doc = NULL;
    assert_int_equal(jsonx_parse(out.data, out.len, "alerts", &doc, &err), PX_OK);
    const cJSON *al = cJSON_GetObjectItem(doc, "alerts");
    assert_int_equal(cJSON_GetArraySize(al), 1);
    const cJSON *a0 = cJSON_GetArrayItem(al, 0);
    assert_int_equal(cJSON_GetObjectItem(a0, "new")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(a0, "gone")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(a0, "unchanged")->valueint, 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a0, "customers")), 2);
    cJSON_Delete(doc);
    // another owner sees none of it
    struct app_saved_who other = {"http", "999999999999", NULL};
    buf_reset(&out);
    assert_int_equal(app_saved_show(db, &other, id, &out, &err), PX_ENOENT);
    buf_reset(&out);
    assert_int_equal(app_alerts_list(db, b, &other, 0, 0, 10, &out, &err), PX_OK);
    assert_non_null(strstr(out.data, "\"alerts\": []"));
    buf_reset(&out);
    assert_int_equal(app_saved_show(db, &who, id, &out, &err), PX_OK);
    assert_non_null(strstr(out.data, "\"matches\": 4"));
    assert_non_null(strstr(out.data, "\"columns\": [\"age\", \"region\"]"));
    assert_non_null(strstr(out.data, "\"sort\": \"age:desc\""));
    // the report: every match (4), ranked, with the header
    snprintf(rep, sizeof rep, "%s/seniors.csv", g_dir);
    size_t n_rows = 0;
    assert_int_equal(app_report_write(db, b, &who, id, APP_REPORT_CSV, rep, NULL, &n_rows, &err),
                     PX_OK);
    assert_int_equal(n_rows, 4);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(fsx_read_file(rep, 1u << 20, &text, &len, &err), PX_OK);
    assert_non_null(strstr(text, "# query: customers over 65\n"));
    assert_non_null(strstr(text, "# generation: 2\n"));
    assert_non_null(strstr(text, "# matches: 4\n"));
    assert_non_null(strstr(text, "# filter: Age gt 65\n"));
    assert_non_null(strstr(text, "rank,id,age,region,balance\n"));
    assert_non_null(strstr(text, ",C07,66,Florida,"));
    assert_null(strstr(text, ",C02,"));
    assert_null(strstr(text, ",C03,"));
    px_free(text);
    app_book_close(b);
    // every action left its audit row
    long long seen[5] = {0};
    assert_int_equal(app_audit_read(db, NULL, NULL, 1000, count_actions, seen, &err), PX_OK);
    assert_int_equal(seen[0], 1); // saved_add (the refused ones left none)
    assert_int_equal(seen[1], 1); // alert_run
    assert_int_equal(seen[2], 1); // one webhook attempt
    assert_int_equal(seen[3], 1); // report
    assert_int_equal(seen[4], 2); // two listings
    // deleting it removes it for good
    assert_int_equal(app_saved_delete(db, &other, id, &err), PX_ENOENT);
    assert_int_equal(app_saved_delete(db, &who, id, &err), PX_OK);
    buf_reset(&out);
    assert_int_equal(app_saved_list(db, &who, &out, &err), PX_OK);
    assert_string_equal(out.data, "{\"saved\": []}");
    buf_free(&out);
}

static const char *const k_toy = "id,age,balance,region\n"
                                 "A,80,900000,Florida\n"
                                 "B,78,850000,Florida\n"
                                 "C,30,1000,Texas\n"
                                 "D,79,880000,Florida\n"
                                 "E,31,2000,Texas\n"
                                 "F,55,400000,Ohio\n";

static void order_of(struct app_book *b, const struct app_result *r, char *out)
{
    for (size_t i = 0; i < r->n_hits; i++) out[i] = app_book_id(b, r->hits[i].row)[0];
    out[r->n_hits] = '\0';
}

// Rocchio on the toy book (lexical path: standardised age and balance, region one-hot). The
// query matches no text, so the search scores every row alike (book order); up A, B and down C
// must give A, B and D (like them) first, then F (between), then C and E (like the down one).
static void test_rocchio(void **state)
{
    (void)state;
    char db[512], csv[512];
    snprintf(db, sizeof db, "%s/toy.db", g_dir);
    tu_write_text(g_dir, "toy.csv", k_toy);
    snprintf(csv, sizeof csv, "%s/toy.csv", g_dir);
    struct app_import_stats is;
    struct px_err err = {0};
    assert_int_equal(app_import(db, csv, NULL, &is, &err), PX_OK);
    app_import_stats_free(&is);
    struct app_book *b = open_book(db);
    struct app_result r;
    char got[16];
    const char *q = "customers";
    assert_int_equal(app_book_search(b, q, strlen(q), 10, &r, &err), PX_OK);
    order_of(b, &r, got);
    assert_string_equal(got, "ABCDEF");
    app_result_free(&r);
    const char *up[] = {"A", "B"}, *down[] = {"C"};
    bool dense = true;
    assert_int_equal(app_book_search_feedback(b, q, strlen(q), 10, up, 2, down, 1, &r, &dense,
                                              &err),
                     PX_OK);
    assert_false(dense);
    order_of(b, &r, got);
    assert_int_equal(strlen(got), 6);
    // the marked-up ones and their look-alike (in some order: D sits at their centroid, and A
    // and B are alike to it), then the middle one, then the down one and its look-alike
    for (int i = 0; i < 3; i++) assert_non_null(strchr("ABD", got[i]));
    assert_int_equal(got[3], 'F');
    assert_non_null(strchr(got + 4, 'C'));
    assert_non_null(strchr(got + 4, 'E'));
    struct buf out;
    buf_init(&out, 1u << 20);
    assert_int_equal(app_feedback_to_json(b, q, strlen(q), up, 2, down, 1, dense, &r, &out, &err),
                     PX_OK);
    assert_non_null(strstr(out.data, "{\"feedback\": {\"up\": [\"A\", \"B\"], \"down\": "
                                     "[\"C\"], \"space\": \"features\"}, \"query\": "));
    buf_free(&out);
    app_result_free(&r);
    // down alone: C's look-alike E falls to the end, C just above it
    assert_int_equal(app_book_search_feedback(b, q, strlen(q), 3, NULL, 0, down, 1, &r, &dense,
                                              &err),
                     PX_OK);
    order_of(b, &r, got);
    assert_int_equal(strlen(got), 3); // top still holds
    assert_null(strchr(got, 'C'));
    assert_null(strchr(got, 'E'));
    app_result_free(&r);
    // filters stay hard: C (30) is marked up, but "over 50" keeps it out
    const char *q2 = "customers over 50", *up2[] = {"C"};
    assert_int_equal(app_book_search_feedback(b, q2, strlen(q2), 10, up2, 1, NULL, 0, &r, &dense,
                                              &err),
                     PX_OK);
    order_of(b, &r, got);
    assert_int_equal(strlen(got), 4);
    assert_null(strchr(got, 'C'));
    assert_int_equal(got[0], 'F'); // the nearest to C among those over 50
    app_result_free(&r);
    const char *nobody[] = {"ZZZ"};
    assert_int_equal(app_book_search_feedback(b, q, strlen(q), 10, nobody, 1, NULL, 0, &r, &dense,
                                              &err),
                     PX_ENOENT);
    assert_non_null(strstr(err.msg, "ZZZ"));
    app_book_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_backoff_and_urls),
        cmocka_unit_test(test_webhook_retries),
        cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rocchio, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
