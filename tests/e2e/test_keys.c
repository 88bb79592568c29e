// test_keys.c — API keys and the audit log end to end: `prospect keys` create/list/revoke, a
// server bound beyond loopback (0.0.0.0) that answers 401 without a valid key and 200 with one,
// revocation honoured by the running server, and `prospect audit` naming the key, the query and
// the customers each request returned; every refused key (missing, malformed, unknown, wrong
// secret — 20 of them —, revoked) gets the same 401 message, one "auth_failed" audit row (client
// address, key id when well-formed, reason) and a log line; the audit table refuses UPDATE and
// DELETE.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "testbank.h"
#include "testhttp.h"
#include "testutil.h"

static char g_dir[256], g_db[512];

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    tu_generate_import(g_dir, "b.csv", 200, 5, g_db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    curl_global_cleanup();
    return 0;
}

// `prospect keys create`: returns the token (free()) and its id (13 bytes).
static char *create_key(const char *name, char id[13])
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "keys create --db %s --name '%s'", g_db, name);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("keys create: %s", err);
    size_t n = strcspn(out, "\n");
    out[n] = '\0';
    if (n != 4 + 12 + 1 + 64 || strncmp(out, "pxk_", 4) != 0 || out[16] != '_') {
        fail_msg("token has the wrong shape: '%s'", out);
    }
    memcpy(id, out + 4, 12);
    id[12] = '\0';
    free(err);
    return out;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    d[n] = '\0'; // so that strstr may read it
    *len = (size_t)n;
    return d;
}

static void test_keys_cli(void **state)
{
    (void)state;
    char id[13], args[1024], *out = NULL, *err = NULL;
    char *token = create_key("desk 7", id);
    // the secret half is nowhere in the database file (only a salted hash is)
    size_t len = 0;
    char *db = read_all(g_db, &len);
    assert_null(memmem(db, len, token + 17, 64));
    free(db);
    snprintf(args, sizeof args, "keys list --db %s --json", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *k = NULL, *found = NULL;
    cJSON_ArrayForEach(k, j) {
        if (strcmp(cJSON_GetObjectItem(k, "id")->valuestring, id) == 0) found = k;
    }
    assert_non_null(found);
    assert_string_equal(cJSON_GetObjectItem(found, "name")->valuestring, "desk 7");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(found, "revoked")));
    assert_null(strstr(out, token + 17));
    cJSON_Delete(j);
    free(out);
    free(err);
    // revoking an unknown key fails and says so
    snprintf(args, sizeof args, "keys revoke --db %s 000000000000", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "no API key with id '000000000000'"));
    free(out);
    free(err);
    // a name with a control character is refused
    snprintf(args, sizeof args, "keys create --db %s --name \"$(printf 'a\\tb')\"", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "control character at byte 2"));
    free(out);
    free(err);
    free(token);
}

static long get(int port, const char *path, const char *bearer, cJSON **j)
{
    char *b = NULL;
    long st = th_request(port, "GET", path, NULL, bearer, NULL, 0, &b);
    *j = cJSON_Parse(b);
    if (*j == NULL) fail_msg("GET %s: not JSON: %.200s", path, b);
    free(b);
    return st;
}

static const char *error_code(const cJSON *j)
{
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    return e ? cJSON_GetObjectItem(e, "code")->valuestring : "";
}

static const char *error_message(const cJSON *j)
{
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    return e ? cJSON_GetObjectItem(e, "message")->valuestring : "";
}

// A 401 whose message is the one every refused key gets.
static void expect_refused(int port, const char *path, const char *bearer)
{
    cJSON *j = NULL;
    assert_int_equal(get(port, path, bearer, &j), 401);
    assert_string_equal(error_code(j), "unauthorized");
    assert_string_equal(error_message(j), "a valid API key is required: send 'Authorization: "
                                          "Bearer <key>' (prospect keys create)");
    cJSON_Delete(j);
}

struct audit_row {
    char key_id[16], actor[64], action[16], query[128], ids[4096];
    int n_results;
};

// Reads `prospect audit --json [extra]` into rows (at most max); returns the count.
static int read_audit(const char *extra, struct audit_row *rows, int max)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "audit --db %s --json %s", g_db, extra);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("audit: %s", err);
    int n = 0;
    for (char *line = strtok(out, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        if (j == NULL) fail_msg("audit line is not JSON: %s", line);
        const cJSON *k = cJSON_GetObjectItem(j, "key_id");
        snprintf(rows[n].key_id, sizeof rows[n].key_id, "%s", cJSON_IsString(k) ? k->valuestring : "");
        const cJSON *a = cJSON_GetObjectItem(j, "actor");
        snprintf(rows[n].actor, sizeof rows[n].actor, "%s", cJSON_IsString(a) ? a->valuestring : "");
        snprintf(rows[n].action, sizeof rows[n].action, "%s", cJSON_GetObjectItem(j, "action")->valuestring);
        snprintf(rows[n].query, sizeof rows[n].query, "%s", cJSON_GetObjectItem(j, "query")->valuestring);
        char *ids = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "customer_ids"));
        snprintf(rows[n].ids, sizeof rows[n].ids, "%s", ids);
        cJSON_free(ids); // cJSON allocates through px_malloc where jsonx.c is linked
        rows[n].n_results = cJSON_GetObjectItem(j, "n_results")->valueint;
        cJSON_Delete(j);
        n++;
    }
    free(out);
    free(err);
    return n;
}

static void test_server_keys_and_audit(void **state)
{
    (void)state;
    char id[13], id2[13], log[512], bad[128];
    char *token = create_key("integration", id);
    char *token2 = create_key("second", id2);
    snprintf(log, sizeof log, "%s/serve.log", g_dir);
    const char *argv[] = {"serve", "--db", g_db, "--bind", "0.0.0.0", "--port", "0",
                          "--embedder", "/nonexistent-model", NULL};
    int port = 0;
    pid_t pid = th_serve(argv, log, &port);
    cJSON *j = NULL;

    // probes are public; data routes are not
    assert_int_equal(get(port, "/ping", NULL, &j), 200);
    cJSON_Delete(j);
    expect_refused(port, "/api/search?q=over%2060", NULL);
    expect_refused(port, "/metrics", NULL);
    // a malformed token, an unknown id and 20 wrong secrets: refused alike
    expect_refused(port, "/api/search?q=over%2060", "pxk_nothex");
    snprintf(bad, sizeof bad, "pxk_ffffffffffff%s", token + 16);
    expect_refused(port, "/api/customers/CUST-000003", bad);
    snprintf(bad, sizeof bad, "%s", token);
    for (int i = 0; i < 20; i++) {
        bad[20 + i] = bad[20 + i] == 'a' ? 'b' : 'a';
        expect_refused(port, "/api/search?q=over%2060", bad);
    }

    // with the key: answers, and each one audited under the key's id
    assert_int_equal(get(port, "/api/search?q=customers%20over%2060&top=3", token, &j), 200);
    const cJSON *res = cJSON_GetObjectItem(j, "results");
    assert_int_equal(cJSON_GetArraySize(res), 3);
    char want_ids[512] = "[";
    for (int i = 0; i < 3; i++) {
        const char *cid = cJSON_GetObjectItem(cJSON_GetArrayItem(res, i), "customer_id")->valuestring;
        size_t n = strlen(want_ids);
        snprintf(want_ids + n, sizeof want_ids - n, "%s\"%s\"", i ? "," : "", cid);
    }
    strcat(want_ids, "]");
    cJSON_Delete(j);
    assert_int_equal(get(port, "/api/customers/CUST-000003", token, &j), 200);
    cJSON_Delete(j);
    const char *body = "{\"inputs\": {\"query\": [\"affluent retirees\", \"young customers\"]}, "
                       "\"params\": {\"top_n\": 2}}";
    char *b = NULL;
    assert_int_equal(th_request(port, "POST", "/invocations", "application/json", token2, body,
                                strlen(body), &b),
                     200);
    free(b);

    // revocation takes effect on the running server
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "keys revoke --db %s %s", g_db, id);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    free(out);
    free(err);
    expect_refused(port, "/api/search?q=over%2060", token);
    assert_int_equal(th_stop(pid), 0);

    // the server's log carries key ids and why keys were refused, never query text or secrets
    size_t len = 0;
    char *logtext = read_all(log, &len);
    assert_null(memmem(logtext, len, "customers over 60", 17));
    assert_null(memmem(logtext, len, token + 17, 64));
    assert_null(memmem(logtext, len, bad + 17, 64));
    char want_log[128];
    snprintf(want_log, sizeof want_log, "refused API key from 127.0.0.1: key %s, wrong secret", id);
    int n_wrong = 0;
    for (const char *p = logtext; (p = strstr(p, want_log)) != NULL; p++) n_wrong++;
    assert_int_equal(n_wrong, 20);
    snprintf(want_log, sizeof want_log, "refused API key from 127.0.0.1: key %s, revoked key", id);
    assert_non_null(strstr(logtext, want_log));
    assert_non_null(strstr(logtext, "refused API key from 127.0.0.1: key -, no key"));
    assert_non_null(strstr(logtext, "refused API key from 127.0.0.1: key -, malformed key"));
    assert_non_null(strstr(logtext, "key ffffffffffff, unknown key"));
    free(logtext);

    // 24 refusals, then search, customer, invocations (one row for its two queries), then the
    // revoked key's refusal
    struct audit_row rows[40];
    int n = read_audit("", rows, 40);
    assert_int_equal(n, 28);
    static const char *const why[] = {"no key", "no key", "malformed key", "unknown key"};
    for (int i = 0; i < 24; i++) {
        assert_string_equal(rows[i].action, "auth_failed");
        assert_string_equal(rows[i].actor, "127.0.0.1");
        assert_string_equal(rows[i].query, i < 4 ? why[i] : "wrong secret");
        assert_string_equal(rows[i].key_id, i < 3 ? "" : i == 3 ? "ffffffffffff" : id);
        assert_int_equal(rows[i].n_results, 0);
        assert_string_equal(rows[i].ids, "[]");
    }
    assert_string_equal(rows[27].action, "auth_failed");
    assert_string_equal(rows[27].query, "revoked key");
    assert_string_equal(rows[27].key_id, id);
    memmove(rows, rows + 24, 3 * sizeof rows[0]);
    assert_string_equal(rows[0].key_id, id);
    assert_string_equal(rows[0].action, "search");
    assert_string_equal(rows[0].query, "customers over 60");
    assert_string_equal(rows[0].ids, want_ids);
    assert_int_equal(rows[0].n_results, 3);
    assert_string_equal(rows[1].action, "customer");
    assert_string_equal(rows[1].ids, "[\"CUST-000003\"]");
    assert_string_equal(rows[2].key_id, id2);
    assert_string_equal(rows[2].action, "invocations");
    assert_string_equal(rows[2].query, "[\"affluent retirees\", \"young customers\"]");
    assert_int_equal(rows[2].n_results, 4);
    assert_int_equal(rows[2].ids[0], '[');
    assert_int_equal(rows[2].ids[1], '[');
    // filters: by key, and by time
    char extra[64];
    snprintf(extra, sizeof extra, "--key %s", id2);
    assert_int_equal(read_audit(extra, rows, 40), 1);
    assert_int_equal(read_audit("--since 2999-01-01", rows, 40), 0);
    assert_int_equal(read_audit("--since 1h --limit 2", rows, 40), 2);
    assert_string_equal(rows[0].action, "invocations");
    free(token);
    free(token2);
}

static void test_cli_search_is_audited(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "search --db %s --top 2 --embedder /nonexistent 'customers under 30'",
             g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    free(out);
    free(err);
    snprintf(args, sizeof args, "audit --db %s --limit 1", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "user:"));
    assert_non_null(strstr(out, " cli "));
    assert_non_null(strstr(out, "\"customers under 30\""));
    free(out);
    free(err);
}

static void test_audit_is_append_only(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(g_db, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET query = 'x'", NULL, NULL, NULL), SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_require_keys_needs_a_key(void **state)
{
    (void)state;
    char dir[256], args[2048], *out = NULL, *err = NULL;
    tu_mkdtemp(dir, sizeof dir);
    snprintf(args, sizeof args,
             "generate --rows 20 --out %s/b.csv && $PROSPECT_BIN import --db %s/k.db --csv "
             "%s/b.csv >/dev/null && $PROSPECT_BIN serve --db %s/k.db --require-keys --port 0",
             dir, dir, dir, dir);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "has no active one"));
    free(out);
    free(err);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_cli),
        cmocka_unit_test(test_server_keys_and_audit),
        cmocka_unit_test(test_cli_search_is_audited),
        cmocka_unit_test(test_audit_is_append_only),
        cmocka_unit_test(test_require_keys_needs_a_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
