// test_audit_chain.c — the audit log is tamper-evident (issue 17, item 3): rows written by a
// running server are chained; the statements that used to rewrite them (INSERT OR REPLACE,
// REPLACE ... SELECT, an UPSERT, UPDATE, DELETE) are refused while the server runs; an edit made
// behind the server's back with the triggers dropped makes `prospect audit verify` exit 1 and
// name the row; `audit archive` moves old rows into a file whose sha256 and head the database
// records, verify then starts from that head, and ordinary deletes stay refused; rows of a
// version-2 database are reported "before the chain", not broken.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "sha256.h"
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
    tu_generate_import(g_dir, "b.csv", 100, 7, g_db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    curl_global_cleanup();
    return 0;
}

// `prospect audit verify --json --db db`: the parsed verdict (cJSON_Delete) and the exit status.
static cJSON *verify(const char *db, int *status)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "audit verify --json --db %s", db);
    *status = tu_run_prospect(args, NULL, &out, &err);
    cJSON *j = cJSON_Parse(out);
    if (j == NULL) fail_msg("audit verify printed no JSON: %s / %s", out, err);
    free(out);
    free(err);
    return j;
}

static long long num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(j, key);
    if (!cJSON_IsNumber(v)) fail_msg("no number '%s'", key);
    return (long long)v->valuedouble;
}

// A statement run on the side connection; returns its SQLite result, err message copied.
static int sql(sqlite3 *db, const char *stmt, char msg[256])
{
    int rc = sqlite3_exec(db, stmt, NULL, NULL, NULL);
    snprintf(msg, 256, "%s", sqlite3_errmsg(db));
    return rc;
}

static void cli_search(const char *db, const char *q)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "search --db %s --top 2 --embedder /nonexistent '%s'", db, q);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("search: %s", err);
    free(out);
    free(err);
}

static void test_edit_behind_the_server(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL, log[512], msg[256];
    snprintf(args, sizeof args, "keys create --db %s --name chain", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    out[strcspn(out, "\n")] = '\0';
    char *token = out;
    free(err);
    snprintf(log, sizeof log, "%s/serve.log", g_dir);
    const char *argv[] = {"serve", "--db", g_db, "--port", "0", "--embedder", "/nonexistent", NULL};
    int port = 0;
    pid_t pid = th_serve(argv, log, &port);
    const char *queries[] = {"customers%20over%2060", "customers%20under%2030", "savers",
                             "high%20balance", "young%20savers", "retired"};
    for (size_t i = 0; i < 6; i++) {
        char path[256], *body = NULL;
        snprintf(path, sizeof path, "/api/search?q=%s&top=3", queries[i]);
        assert_int_equal(th_request(port, "GET", path, NULL, token, NULL, 0, &body), 200);
        free(body);
    }
    int status = 0;
    cJSON *v = verify(g_db, &status);
    assert_int_equal(status, 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "ok")));
    assert_int_equal(num(v, "rows"), 6);
    assert_int_equal(num(v, "head_seq"), 6);
    assert_int_equal(num(v, "before_chain"), 0);
    cJSON_Delete(v);

    // the statements, and the other ways to overwrite a row: all refused, server running
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(g_db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    const char *refused[] = {
        "INSERT OR REPLACE INTO audit (seq, time, key_id, channel, actor, action, query, plan, "
        "n_results, customer_ids) VALUES (2, '2026-01-01T00:00:00.000Z', NULL, 'http', NULL, "
        "'search', 'edited', NULL, 0, '[]')",
        "REPLACE INTO audit SELECT seq, time, key_id, channel, actor, action, 'edited', plan, "
        "n_results, customer_ids, hash FROM audit WHERE seq BETWEEN 2 AND 100",
        "INSERT INTO audit (seq, time, channel, action, query, n_results, customer_ids) VALUES "
        "(3, 'x', 'http', 'search', 'edited', 0, '[]') ON CONFLICT(seq) DO UPDATE SET "
        "query = 'edited'",
        "INSERT INTO audit (time, channel, action, query, n_results, customer_ids) VALUES "
        "('x', 'http', 'search', 'forged', 0, '[]')",
        "UPDATE audit SET query = 'edited' WHERE seq = 3",
        "DELETE FROM audit WHERE seq = 3",
        "DELETE FROM audit",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (sql(db, refused[i], msg) == SQLITE_OK) fail_msg("accepted: %s", refused[i]);
        if (strstr(msg, "append-only") == NULL) fail_msg("%s: %s", refused[i], msg);
    }
    v = verify(g_db, &status);
    assert_int_equal(status, 0);
    cJSON_Delete(v);

    // someone with write access drops the triggers and edits seq 3: verify names it
    assert_int_equal(sql(db, "DROP TRIGGER audit_no_update", msg), SQLITE_OK);
    assert_int_equal(sql(db, "UPDATE audit SET customer_ids = '[]', n_results = 0 WHERE seq = 3",
                         msg),
                     SQLITE_OK);
    // the server keeps writing after the edit
    char *body = NULL;
    assert_int_equal(th_request(port, "GET", "/api/search?q=savers&top=2", NULL, token, NULL, 0,
                                &body),
                     200);
    free(body);
    v = verify(g_db, &status);
    assert_int_equal(status, 1);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(v, "ok")));
    assert_int_equal(num(v, "broken_seq"), 3);
    assert_int_equal(num(v, "rows"), 7);
    cJSON_Delete(v);
    snprintf(args, sizeof args, "audit verify --db %s", g_db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(out, "broken at seq 3"));
    free(out);
    free(err);
    // archiving a broken chain is refused: the evidence stays
    snprintf(args, sizeof args, "audit archive --db %s --before 2999-01-01 --out %s/a.jsonl",
             g_db, g_dir);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "broken"));
    free(out);
    free(err);

    // a row removed (delete trigger dropped too) breaks the row after it
    assert_int_equal(sql(db, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3",
                         msg),
                     SQLITE_OK);
    v = verify(g_db, &status);
    assert_int_equal(status, 1);
    assert_int_equal(num(v, "broken_seq"), 4);
    cJSON_Delete(v);
    sqlite3_close(db);
    assert_int_equal(th_stop(pid), 0);
    free(token);
}

static void test_archive(void **state)
{
    (void)state;
    char db[512], file[600], args[2048], *out = NULL, *err = NULL, msg[256];
    snprintf(db, sizeof db, "%s/arch.db", g_dir);
    tu_generate_import(g_dir, "c.csv", 50, 3, db);
    for (int i = 0; i < 4; i++) cli_search(db, "customers over 60");
    snprintf(file, sizeof file, "%s/audit-old.jsonl", g_dir);
    snprintf(args, sizeof args, "audit archive --db %s --before 2999-01-01 --out %s --json", db,
             file);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("archive: %s", err);
    cJSON *a = cJSON_Parse(out);
    assert_non_null(a);
    assert_int_equal(num(a, "first_seq"), 1);
    assert_int_equal(num(a, "last_seq"), 4);
    assert_int_equal(num(a, "n_rows"), 4);
    char sum[65];
    struct px_err perr = {0};
    assert_int_equal(sha256_file_hex(file, sum, &perr), PX_OK);
    assert_string_equal(cJSON_GetObjectItem(a, "file_sha256")->valuestring, sum);
    free(out);
    free(err);
    // the file: 4 rows with their hashes, then the range with the head
    size_t len = 0;
    char *text = NULL;
    {
        FILE *f = fopen(file, "rb");
        assert_non_null(f);
        text = calloc(1, 1 << 20);
        len = fread(text, 1, (1 << 20) - 1, f);
        fclose(f);
    }
    int lines = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"), lines++) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        if (lines < 4) {
            assert_int_equal(num(j, "seq"), lines + 1);
            assert_int_equal(strlen(cJSON_GetObjectItem(j, "hash")->valuestring), 64);
        } else {
            const cJSON *r = cJSON_GetObjectItem(j, "archive");
            assert_string_equal(cJSON_GetObjectItem(r, "head")->valuestring,
                                cJSON_GetObjectItem(a, "head")->valuestring);
        }
        cJSON_Delete(j);
    }
    assert_true(len > 0);
    assert_int_equal(lines, 5);
    free(text);
    // archiving again into an existing file is refused
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    free(out);
    free(err);

    // the table now holds the "audit_archive" row, chained on the recorded head; new rows follow
    cli_search(db, "savers");
    int status = 0;
    cJSON *v = verify(db, &status);
    assert_int_equal(status, 0);
    assert_int_equal(num(v, "archived_through"), 4);
    assert_int_equal(num(v, "archives"), 1);
    assert_int_equal(num(v, "rows"), 2);
    assert_int_equal(num(v, "head_seq"), 6);
    cJSON_Delete(v);
    cJSON_Delete(a);
    snprintf(args, sizeof args, "audit --db %s --json", db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"audit_archive\""));
    assert_non_null(strstr(out, sum));
    free(out);
    free(err);

    // ordinary deletes are still refused; forging an archive record to allow one is too
    sqlite3 *d = NULL;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    assert_int_not_equal(sql(d, "DELETE FROM audit", msg), SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    assert_int_not_equal(sql(d, "REPLACE INTO audit_archives SELECT * FROM audit_archives", msg),
                         SQLITE_OK);
    assert_int_not_equal(sql(d, "UPDATE audit_archives SET last_seq = 100", msg), SQLITE_OK);
    assert_int_not_equal(sql(d, "DELETE FROM audit_archives", msg), SQLITE_OK);
    // a forged archive record unlocks the delete trigger for seq 5, but verify sees through it
    assert_int_equal(sql(d,
                         "INSERT INTO audit_archives SELECT 2, time, 5, 5, 1, hash, 'f', 'h' "
                         "FROM audit WHERE seq = 5; DELETE FROM audit WHERE seq = 5",
                         msg),
                     SQLITE_OK);
    sqlite3_close(d);
    v = verify(db, &status);
    assert_int_equal(status, 1);
    assert_int_equal(num(v, "broken_seq"), 6);
    cJSON_Delete(v);
}

// A version-2 database with audit rows: migrated, its rows are "before the chain".
static void test_rows_before_the_chain(void **state)
{
    (void)state;
    char db[512];
    snprintf(db, sizeof db, "%s/v2.db", g_dir);
    sqlite3 *d = NULL;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(d,
                     "CREATE TABLE meta_columns (position INTEGER PRIMARY KEY, name TEXT NOT "
                     "NULL UNIQUE, label TEXT NOT NULL, type TEXT NOT NULL, is_id INTEGER NOT "
                     "NULL DEFAULT 0);"
                     "CREATE TABLE customers (id TEXT NOT NULL PRIMARY KEY);"
                     "CREATE TABLE imports (id INTEGER PRIMARY KEY, time TEXT NOT NULL, file "
                     "TEXT NOT NULL, bytes INTEGER NOT NULL, rows_read INTEGER NOT NULL, "
                     "rows_inserted INTEGER NOT NULL, rows_updated INTEGER NOT NULL, "
                     "rows_failed INTEGER NOT NULL);"
                     "CREATE TABLE vectors (customer_id TEXT NOT NULL, model_id TEXT NOT NULL, "
                     "dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (customer_id, "
                     "model_id)) WITHOUT ROWID;"
                     "CREATE TABLE api_keys (id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, "
                     "salt BLOB NOT NULL, hash BLOB NOT NULL, created TEXT NOT NULL, revoked "
                     "TEXT);"
                     "CREATE TABLE audit (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, key_id "
                     "TEXT, channel TEXT NOT NULL, actor TEXT, action TEXT NOT NULL, query TEXT "
                     "NOT NULL, plan TEXT, n_results INTEGER NOT NULL, customer_ids TEXT NOT "
                     "NULL);"
                     "CREATE INDEX audit_time ON audit (time);"
                     "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT "
                     "RAISE(ABORT, 'the audit log is append-only'); END;"
                     "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT "
                     "RAISE(ABORT, 'the audit log is append-only'); END;"
                     "INSERT INTO audit VALUES (1, '2026-01-01T00:00:00.000Z', NULL, 'cli', "
                     "'ann', 'search', 'old one', NULL, 0, '[]');"
                     "INSERT INTO audit VALUES (2, '2026-01-02T00:00:00.000Z', NULL, 'cli', "
                     "'ann', 'search', 'old two', NULL, 0, '[]');"
                     "PRAGMA user_version = 2; PRAGMA application_id = 1347572560;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(d);
    int status = 0;
    cJSON *v = verify(db, &status);
    assert_int_equal(status, 0);
    assert_int_equal(num(v, "before_chain"), 2);
    assert_int_equal(num(v, "head_seq"), 0);
    cJSON_Delete(v);
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "audit --db %s --json", db);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "\"hash\": null"));
    free(out);
    free(err);
    // archiving the old rows (before 2026-01-02) keeps the rest verifiable
    snprintf(args, sizeof args, "audit archive --db %s --before 2026-01-02 --out %s/v2.jsonl", db,
             g_dir);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("archive: %s", err);
    free(out);
    free(err);
    v = verify(db, &status);
    assert_int_equal(status, 0);
    assert_int_equal(num(v, "archived_through"), 1);
    assert_int_equal(num(v, "before_chain"), 1);
    assert_int_equal(num(v, "head_seq"), 3); // the audit_archive row
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_behind_the_server),
        cmocka_unit_test(test_archive),
        cmocka_unit_test(test_rows_before_the_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
