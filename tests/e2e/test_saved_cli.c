// test_saved_cli.c — issue 15 end to end through the binary: `saved add` with a webhook on a
// loopback receiver, an import that brings new customers (the generated bank's rows depend only
// on (seed, row), so a longer file with the same seed is the old book plus new customers), then
// `alerts run`: the new customers are listed by `alerts`, they are exactly the report's matches
// that were not there at saving, and the receiver got them in one POST — not again on a later
// run. Usage errors exit 2; an unknown saved search exits 1 naming it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testbank.h"
#include "testhook.h"
#include "testutil.h"

#include "jsonx.h"

static char g_dir[256];

static int run(const char *args, char **out, char **err)
{
    return tu_run_prospect(args, NULL, out, err);
}

static cJSON *run_json(const char *args)
{
    char *out = NULL, *err = NULL;
    int st = run(args, &out, &err);
    if (st != 0) fail_msg("%s: exit %d: %s", args, st, err);
    cJSON *doc = NULL;
    struct px_err e = {0};
    if (jsonx_parse(out, strlen(out), "stdout", &doc, &e) != PX_OK) fail_msg("%s: %s", args, e.msg);
    free(out);
    free(err);
    return doc;
}

static int report_rows(const char *db, char ids[][16], int max)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "report --db %s seniors", db);
    assert_int_equal(run(args, &out, &err), 0);
    int n = 0;
    for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || strncmp(line, "rank,", 5) == 0) continue;
        const char *id = strchr(line, ',');
        if (id != NULL && n < max) snprintf(ids[n++], 16, "%.11s", id + 1);
    }
    free(out);
    free(err);
    return n;
}

static void test_alert_day(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    char db[512], args[2048];
    snprintf(db, sizeof db, "%s/p.db", g_dir);
    tu_generate_import(g_dir, "first.csv", 1500, 11, db);
    int port = 0;
    const int script[] = {200};
    struct th_hook *h = th_hook_start(script, 1, &port);
    snprintf(args, sizeof args,
             "saved add --db %s --name seniors --webhook http://127.0.0.1:%d/hook --json "
             "'retired customers over 65 with savings balance over $50k'",
             db, port);
    cJSON *doc = run_json(args);
    int before = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "saved"), "matches")->valueint;
    cJSON_Delete(doc);
    assert_true(before > 0);
    static char old_ids[3000][16];
    assert_int_equal(report_rows(db, old_ids, 3000), before);
    // the longer file: the same 1500 customers and 1000 new ones
    tu_generate_import(g_dir, "second.csv", 2500, 11, db);
    snprintf(args, sizeof args, "alerts run --db %s --json", db);
    doc = run_json(args);
    assert_int_equal(cJSON_GetObjectItem(doc, "skipped")->valueint, 1); // the import ran it
    cJSON_Delete(doc);
    static char ids[3000][16];
    int after = report_rows(db, ids, 3000);
    assert_true(after > before);
    snprintf(args, sizeof args, "alerts --db %s --json", db);
    doc = run_json(args);
    const cJSON *alerts = cJSON_GetObjectItem(doc, "alerts");
    assert_int_equal(cJSON_GetArraySize(alerts), 1);
    const cJSON *a = cJSON_GetArrayItem(alerts, 0);
    const cJSON *new_ids = cJSON_GetObjectItem(a, "new_ids");
    assert_int_equal(cJSON_GetArraySize(new_ids), after - before);
    assert_int_equal(cJSON_GetObjectItem(a, "gone")->valueint, 0);
    // every new id is a new customer, and in the report now
    const cJSON *v;
    cJSON_ArrayForEach(v, new_ids)
    {
        assert_true(strcmp(v->valuestring, "CUST-001500") > 0);
        bool in_report = false;
        for (int i = 0; i < after && !in_report; i++) in_report = !strcmp(ids[i], v->valuestring);
        assert_true(in_report);
    }
    // the receiver got exactly those, once
    assert_int_equal(th_hook_count(h), 1);
    cJSON *body = NULL;
    struct px_err e = {0};
    const char *b0 = th_hook_body(h, 0);
    assert_int_equal(jsonx_parse(b0, strlen(b0), "webhook", &body, &e), PX_OK);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "new_ids")), after - before);
    assert_string_equal(cJSON_GetObjectItem(body, "name")->valuestring, "seniors");
    cJSON_Delete(body);
    cJSON_Delete(doc);
    // a forced run finds nothing new and sends nothing
    snprintf(args, sizeof args, "alerts run --force --db %s --json", db);
    doc = run_json(args);
    assert_int_equal(cJSON_GetObjectItem(doc, "new")->valueint, 0);
    cJSON_Delete(doc);
    assert_int_equal(th_hook_count(h), 1);
    th_hook_stop(h);
    // the table form names the search and the count
    char *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "alerts --db %s", db);
    assert_int_equal(run(args, &out, &err), 0);
    char want[128];
    snprintf(want, sizeof want, "%d new customers match 'retired customers over 65", after - before);
    assert_non_null(strstr(out, want));
    free(out);
    free(err);
    // errors: unknown saved search (1), bad usage (2)
    snprintf(args, sizeof args, "report --db %s nosuch", db);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "no saved search 'nosuch'"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "saved add --db %s 'no name given'", db);
    assert_int_equal(run(args, &out, &err), 2);
    free(out);
    free(err);
    snprintf(args, sizeof args, "saved add --db %s --name x --webhook file:///etc/passwd 'q'", db);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "http:// or https://"));
    free(out);
    free(err);
    tu_rmtree(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
