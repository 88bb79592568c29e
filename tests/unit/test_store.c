// test_store.c — src/store/store.c: open creates and migrates, reopen keeps data, in-memory
// stores from the empty image are fresh and independent, foreign or
// newer databases are refused; the row iterator; vectors: put / resume / replace without
// duplicates / load in customer order / bad input; and allocation failures in open, schema,
// iteration and vector loading, SQLite's own allocations included (store/sqlalloc.c).
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

#include "csvimport.h"
#include "mem.h"
#include "store.h"

static const char *const k_csv = "ID,Age,Name\n10,30,ann\n11,40,bob\n12,50,cy\n13,60,dee\n";
#define MODEL "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void import_base(struct store *s)
{
    struct csvimport_result r;
    struct px_err err = {0};
    assert_int_equal(csvimport_memory(s, k_csv, strlen(k_csv), "base.csv", NULL, &r, &err), PX_OK);
    csvimport_result_free(&r);
}

static void test_open_migrate_reopen(void **state)
{
    (void)state;
    char dir[256], path[512];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/p.db", dir);
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(path, NULL, &s, &err), PX_OK);
    struct store_schema sc;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_int_equal(sc.n_cols, 0);
    assert_int_equal(sc.i_id, -1);
    store_schema_free(&sc);
    import_base(s);
    store_close(s);
    // reopen: schema and rows are there; read-only works too
    struct store_params p = store_default_params();
    p.read_only = true;
    assert_int_equal(store_open(path, &p, &s, &err), PX_OK);
    size_t n = 0;
    assert_int_equal(store_count_customers(s, &n, &err), PX_OK);
    assert_int_equal(n, 4);
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_int_equal(sc.n_cols, 3);
    assert_string_equal(sc.cols[2].name, "Name");
    assert_int_equal(store_schema_find(&sc, "Age"), 1);
    assert_int_equal(store_schema_find(&sc, "age"), -1);
    store_schema_free(&sc);
    store_close(s);
    // a newer schema version is refused
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(path, NULL, &s, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "version 99 is newer"));
    assert_null(s);
    // an unrelated SQLite database is refused, and so is a file that is not a database
    snprintf(path, sizeof path, "%s/other.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(path, NULL, &s, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "not a prospect store"));
    tu_write_text(dir, "junk.db", "this is not a database, just some text that is long enough");
    snprintf(path, sizeof path, "%s/junk.db", dir);
    assert_int_not_equal(store_open(path, NULL, &s, &err), PX_OK);
    assert_non_null(strstr(err.msg, "junk.db"));
    tu_rmtree(dir);
}

static void test_iter(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
    import_base(s);
    struct store_schema sc;
    struct store_iter *it = NULL;
    assert_int_equal(store_schema(s, &sc, &err), PX_OK);
    assert_int_equal(store_iter_new(s, &sc, &it, &err), PX_OK);
    const char *want_id[] = {"10", "11", "12", "13"};
    const char *want_name[] = {"ann", "bob", "cy", "dee"};
    for (int i = 0; i < 4; i++) {
        bool has = false;
        const char *id = NULL;
        const struct coltype_value *v = NULL;
        assert_int_equal(store_iter_next(it, &has, &id, &v, &err), PX_OK);
        assert_true(has);
        assert_string_equal(id, want_id[i]);
        assert_int_equal(v[0].i, 10 + i);
        assert_int_equal(v[1].i, 30 + 10 * i);
        assert_int_equal(v[2].len, strlen(want_name[i]));
        assert_memory_equal(v[2].s, want_name[i], v[2].len);
    }
    bool has = true;
    const char *id = NULL;
    const struct coltype_value *v = NULL;
    assert_int_equal(store_iter_next(it, &has, &id, &v, &err), PX_OK);
    assert_false(has);
    store_iter_free(it);
    store_schema_free(&sc);
    store_close(s);
}

static void test_vectors_resume(void **state)
{
    (void)state;
    char dir[256], path[512];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/v.db", dir);
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(path, NULL, &s, &err), PX_OK);
    import_base(s);
    struct store_ids todo;
    assert_int_equal(store_customers_without_vector(s, MODEL, &todo, &err), PX_OK);
    assert_int_equal(todo.n, 4);
    // first batch: two customers, then the "indexer" is killed (the store closed)
    const char *ids[] = {"11", "10"};
    float v[2 * 3] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(store_put_vectors(s, MODEL, ids, v, 2, 3, &err), PX_OK);
    store_ids_free(&todo);
    store_close(s);
    assert_int_equal(store_open(path, NULL, &s, &err), PX_OK);
    assert_int_equal(store_customers_without_vector(s, MODEL, &todo, &err), PX_OK);
    assert_int_equal(todo.n, 2);
    assert_string_equal(todo.ids[0], "12");
    assert_string_equal(todo.ids[1], "13");
    // resume with an overlapping batch (11 again): replaced, not duplicated
    const char *ids2[] = {"11", "12", "13"};
    float v2[3 * 3] = {7, 8, 9, 10, 11, 12, 13, 14, 15};
    assert_int_equal(store_put_vectors(s, MODEL, ids2, v2, 3, 3, &err), PX_OK);
    store_ids_free(&todo);
    assert_int_equal(store_customers_without_vector(s, MODEL, &todo, &err), PX_OK);
    assert_int_equal(todo.n, 0);
    store_ids_free(&todo);
    // other models are separate
    assert_int_equal(store_customers_without_vector(s, "other", &todo, &err), PX_OK);
    assert_int_equal(todo.n, 4);
    store_ids_free(&todo);
    struct store_vectors vs;
    assert_int_equal(store_load_vectors(s, MODEL, &vs, &err), PX_OK);
    assert_int_equal(vs.n, 4);
    assert_int_equal(vs.dim, 3);
    const char *order[] = {"10", "11", "12", "13"};
    const float want[4][3] = {{4, 5, 6}, {7, 8, 9}, {10, 11, 12}, {13, 14, 15}};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(vs.ids[i], order[i]);
        assert_memory_equal(&vs.data[i * 3], want[i], sizeof want[i]);
    }
    store_vectors_free(&vs);
    // bad input: NaN names its row and element, dims are bounded, dims must agree on load
    float bad[3] = {0, 0, 0};
    bad[2] = 0.0f / 0.0f;
    assert_int_equal(store_put_vectors(s, MODEL, ids, bad, 1, 3, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "vector 0 (customer '11'), element 2 is not finite"));
    assert_int_equal(store_put_vectors(s, MODEL, ids, v, 1, 0, &err), PX_EINVAL);
    assert_int_equal(store_put_vectors(s, MODEL, ids, v, 1, 2, &err), PX_OK);
    assert_int_equal(store_load_vectors(s, MODEL, &vs, &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "dim 2"));
    store_close(s);
    tu_rmtree(dir);
}

// ---- allocation failures ----

struct alloc_ctx {
    struct store *s;
    struct store_schema sc;
    struct store_ids ids;
    struct store_vectors vs;
    struct store_iter *it;
};

static int open_all(void *user, struct px_err *err)
{
    struct alloc_ctx *c = user;
    const char *ids[] = {"10", "12"};
    float v[4] = {1, 2, 3, 4};
    struct csvimport_result r;
    int rc = store_open(":memory:", NULL, &c->s, err);
    if (rc == PX_OK) {
        rc = csvimport_memory(c->s, k_csv, strlen(k_csv), "a.csv", NULL, &r, err);
        csvimport_result_free(&r);
    }
    if (rc == PX_OK) {
        rc = store_schema(c->s, &c->sc, err);
    }
    if (rc == PX_OK) {
        rc = store_iter_new(c->s, &c->sc, &c->it, err);
    }
    if (rc == PX_OK) {
        rc = store_put_vectors(c->s, MODEL, ids, v, 2, 2, err);
    }
    if (rc == PX_OK) {
        rc = store_customers_without_vector(c->s, MODEL, &c->ids, err);
    }
    if (rc == PX_OK) {
        rc = store_load_vectors(c->s, MODEL, &c->vs, err);
    }
    return rc;
}

static void release_all(void *user)
{
    struct alloc_ctx *c = user;
    store_iter_free(c->it);
    store_schema_free(&c->sc);
    store_ids_free(&c->ids);
    store_vectors_free(&c->vs);
    store_close(c->s);
    memset(c, 0, sizeof *c);
}

// store_open_memory: each store is fresh and migrated (the audit tables are there), imports
// into one do not show in another, and it holds what store_open(":memory:") would.
static void test_open_memory(void **state)
{
    (void)state;
    struct store *a = NULL, *b = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open_memory(&a, &err), PX_OK);
    import_base(a);
    assert_int_equal(store_open_memory(&b, &err), PX_OK);
    size_t na = 0, nb = 0;
    assert_int_equal(store_count_customers(a, &na, &err), PX_OK);
    assert_int_equal(store_count_customers(b, &nb, &err), PX_OK);
    assert_int_equal(na, 4);
    assert_int_equal(nb, 0);
    struct store_schema sa, sb;
    assert_int_equal(store_schema(a, &sa, &err), PX_OK);
    assert_int_equal(store_schema(b, &sb, &err), PX_OK);
    assert_int_equal(sa.n_cols, 3);
    assert_int_equal(sb.n_cols, 0);
    store_schema_free(&sa);
    store_schema_free(&sb);
    import_base(b); // the same file into the second: its own ids, no clash
    assert_int_equal(store_count_customers(b, &nb, &err), PX_OK);
    assert_int_equal(nb, 4);
    store_close(a);
    store_close(b);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct alloc_ctx c;
    memset(&c, 0, sizeof c);
    // store_open alone makes one px_malloc of its own; the rest of the points are SQLite's
    long n = tu_check_alloc_failures(open_all, release_all, &c);
    print_message("store: %ld allocation points\n", n);
    assert_true(n > 200);
}

// SQLite allocates through px_malloc: its blocks are counted (xRoundup to 8, xSize from the
// block header), an injected failure reaches it, and a failure inside sqlite3_open_v2 comes
// back from store_open as PX_ENOMEM with nothing leaked.
static void test_sqlite_allocates_through_px(void **state)
{
    (void)state;
    size_t base = px_mem_live_bytes();
    void *p = sqlite3_malloc(100);
    assert_non_null(p);
    assert_int_equal(px_mem_live_bytes(), base + 104);
    assert_int_equal(sqlite3_msize(p), 104);
    p = sqlite3_realloc(p, 300);
    assert_non_null(p);
    assert_int_equal(px_mem_live_bytes(), base + 304);
    sqlite3_free(p);
    assert_int_equal(px_mem_live_bytes(), base);
    px_mem_fail_at(1);
    assert_null(sqlite3_malloc(100));
    assert_int_equal(px_mem_fault_fired(), 1);
    px_mem_fail_at(0);

    // allocation 1 is the store handle; 2 is SQLite's connection object
    struct store *s = NULL;
    struct px_err err = {0};
    px_mem_fail_at(2);
    int rc = store_open(":memory:", NULL, &s, &err);
    assert_int_equal(px_mem_fault_fired(), 1);
    px_mem_fail_at(0);
    assert_int_equal(rc, PX_ENOMEM);
    assert_null(s);
    assert_non_null(strstr(err.msg, "out of memory opening :memory:"));
    assert_int_equal(px_mem_live_bytes(), base);
}

static int collect_audit(const struct store_audit_row *r, void *user, struct px_err *err)
{
    char *out = user;
    (void)err;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%s|%s|%s|%lld|%s;", r->key_id ? r->key_id : "-", r->action,
             r->query, r->n_results, r->customer_ids);
    return PX_OK;
}

// API keys (v2): insert, get, revoke (idempotent), count, list; the audit log: append, read
// filtered by key, since and limit (the newest rows, oldest first); UPDATE/DELETE refused.
static void test_keys_and_audit(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct px_err err = {0};
    unsigned char salt[STORE_KEY_SALT_LEN] = {1, 2, 3}, hash[STORE_KEY_HASH_LEN] = {9, 8, 7};
    unsigned char salt2[STORE_KEY_SALT_LEN], hash2[STORE_KEY_HASH_LEN];
    assert_int_equal(store_open(":memory:", NULL, &s, &err), PX_OK);
    assert_int_equal(store_key_insert(s, "0123456789ab", "desk", salt, hash, &err), PX_OK);
    assert_int_equal(store_key_insert(s, "0123456789ab", "again", salt, hash, &err), PX_EIO);
    assert_int_equal(store_key_insert(s, "short", "x", salt, hash, &err), PX_EINVAL);
    assert_int_equal(store_key_insert(s, "ba9876543210", "other", salt, hash, &err), PX_OK);
    struct store_key k;
    bool found = false;
    assert_int_equal(store_key_get(s, "0123456789ab", &k, salt2, hash2, &found, &err), PX_OK);
    assert_true(found);
    assert_string_equal(k.name, "desk");
    assert_string_equal(k.revoked, "");
    assert_memory_equal(salt2, salt, sizeof salt);
    assert_memory_equal(hash2, hash, sizeof hash);
    assert_int_equal(store_key_get(s, "ffffffffffff", &k, NULL, NULL, &found, &err), PX_OK);
    assert_false(found);
    size_t n = 0;
    assert_int_equal(store_key_count_active(s, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_key_revoke(s, "0123456789ab", &found, &err), PX_OK);
    assert_true(found);
    assert_int_equal(store_key_get(s, "0123456789ab", &k, NULL, NULL, &found, &err), PX_OK);
    char first[32];
    snprintf(first, sizeof first, "%s", k.revoked);
    assert_true(strlen(first) == 20);
    assert_int_equal(store_key_revoke(s, "0123456789ab", &found, &err), PX_OK);
    assert_int_equal(store_key_get(s, "0123456789ab", &k, NULL, NULL, &found, &err), PX_OK);
    assert_string_equal(k.revoked, first);
    assert_int_equal(store_key_revoke(s, "ffffffffffff", &found, &err), PX_OK);
    assert_false(found);
    assert_int_equal(store_key_count_active(s, &n, &err), PX_OK);
    assert_int_equal(n, 1);
    struct store_key *keys = NULL;
    assert_int_equal(store_key_list(s, &keys, &n, &err), PX_OK);
    assert_int_equal(n, 2);
    px_free(keys);

    struct store_audit_row r = {0,        NULL,      "0123456789ab", "http", NULL,
                                "search", "over 60", "{}",           2,      "[\"a\", \"b\"]", NULL};
    assert_int_equal(store_audit_append(s, &r, &err), PX_OK);
    r.key_id = NULL;
    r.channel = "cli";
    r.actor = "ann";
    r.action = "similar";
    r.query = "a";
    r.n_results = 0;
    r.customer_ids = "[]";
    assert_int_equal(store_audit_append(s, &r, &err), PX_OK);
    char out[1024] = "";
    assert_int_equal(store_audit_read(s, NULL, NULL, 10, collect_audit, out, &err), PX_OK);
    assert_string_equal(out, "0123456789ab|search|over 60|2|[\"a\", \"b\"];-|similar|a|0|[];");
    out[0] = '\0';
    assert_int_equal(store_audit_read(s, NULL, NULL, 1, collect_audit, out, &err), PX_OK);
    assert_string_equal(out, "-|similar|a|0|[];");
    out[0] = '\0';
    assert_int_equal(store_audit_read(s, NULL, "0123456789ab", 10, collect_audit, out, &err),
                     PX_OK);
    assert_string_equal(out, "0123456789ab|search|over 60|2|[\"a\", \"b\"];");
    out[0] = '\0';
    assert_int_equal(store_audit_read(s, "2999", NULL, 10, collect_audit, out, &err), PX_OK);
    assert_string_equal(out, "");
    assert_int_equal(store_audit_read(s, NULL, NULL, 0, collect_audit, out, &err), PX_EINVAL);
    store_close(s);
}

// The audit chain (v3): appends chain, verify walks them; under every allocation failure
// (inside SQLite too) append and verify fail with PX_ENOMEM, never with a false "broken".
static int chain_open(void *user, struct px_err *err)
{
    struct store **s = user;
    struct store_audit_row r = {0, NULL, "0123456789ab", "http", NULL, "search", "q", "{}", 1,
                                "[\"a\"]", NULL};
    struct store_audit_verdict v;
    int rc = store_open(":memory:", NULL, s, err);
    for (int i = 0; i < 3 && rc == PX_OK; i++) rc = store_audit_append(*s, &r, err);
    if (rc == PX_OK) rc = store_audit_verify(*s, &v, err);
    if (rc == PX_OK && (v.broken_seq != 0 || v.head_seq != 3 || v.n_rows != 3)) {
        rc = px_fail(err, PX_EINTERNAL, "chain: broken at %lld (%s), head %lld", v.broken_seq,
                     v.problem, v.head_seq);
    }
    return rc;
}

static void chain_release(void *user)
{
    struct store **s = user;
    store_close(*s);
    *s = NULL;
}

static void test_audit_chain_faults(void **state)
{
    (void)state;
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(chain_open(&s, &err), PX_OK);
    chain_release(&s);
    long n = tu_check_alloc_failures(chain_open, chain_release, &s);
    assert_true(n > 50);
}

// A version-1 database (before keys and audit) is migrated in place, its customers kept.
static void test_migrate_v1(void **state)
{
    (void)state;
    char dir[256], path[512];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/v1.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta_columns (position INTEGER PRIMARY KEY, name "
                                  "TEXT NOT NULL UNIQUE, label TEXT NOT NULL, type TEXT NOT NULL, "
                                  "is_id INTEGER NOT NULL DEFAULT 0);"
                                  "CREATE TABLE customers (id TEXT NOT NULL PRIMARY KEY);"
                                  "CREATE TABLE imports (id INTEGER PRIMARY KEY, time TEXT NOT "
                                  "NULL, file TEXT NOT NULL, bytes INTEGER NOT NULL, rows_read "
                                  "INTEGER NOT NULL, rows_inserted INTEGER NOT NULL, rows_updated "
                                  "INTEGER NOT NULL, rows_failed INTEGER NOT NULL);"
                                  "CREATE TABLE vectors (customer_id TEXT NOT NULL, model_id TEXT "
                                  "NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL, PRIMARY KEY "
                                  "(customer_id, model_id)) WITHOUT ROWID;"
                                  "INSERT INTO customers VALUES ('c1');"
                                  "PRAGMA user_version = 1; PRAGMA application_id = 1347572560;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct store *s = NULL;
    struct px_err err = {0};
    struct store_params ro = store_default_params();
    ro.read_only = true;
    assert_int_equal(store_open(path, &ro, &s, &err), PX_OK); // read-only: accepted, as is
    store_close(s);
    assert_int_equal(store_open(path, NULL, &s, &err), PX_OK);
    size_t n = 0;
    assert_int_equal(store_count_customers(s, &n, &err), PX_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_key_count_active(s, &n, &err), PX_OK);
    assert_int_equal(n, 0);
    store_close(s);
    tu_rmtree(dir);
}

static long count_rows(const char *path, const char *table)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[128];
    long n = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

// A snapshot (what a model bundle carries) keeps the customers and the chosen model's vectors,
// and leaves API keys and the audit log behind — even though the audit table refuses DELETE.
static void test_snapshot_leaves_keys_and_audit(void **state)
{
    (void)state;
    char dir[256], path[512], snap[512];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.db", dir);
    snprintf(snap, sizeof snap, "%s/snap.db", dir);
    struct store *s = NULL;
    struct px_err err = {0};
    assert_int_equal(store_open(path, NULL, &s, &err), PX_OK);
    import_base(s);
    unsigned char salt[STORE_KEY_SALT_LEN] = {1}, hash[STORE_KEY_HASH_LEN] = {2};
    assert_int_equal(store_key_insert(s, "0123456789ab", "desk", salt, hash, &err), PX_OK);
    struct store_audit_row r = {0, NULL, NULL, "cli", "ann", "search", "q", NULL, 1, "[\"10\"]", NULL};
    assert_int_equal(store_audit_append(s, &r, &err), PX_OK);
    assert_int_equal(store_audit_append(s, &r, &err), PX_OK);
    struct store_snapshot_stats stats;
    if (store_snapshot(s, snap, NULL, &stats, &err) != PX_OK) fail_msg("snapshot: %s", err.msg);
    store_close(s);
    assert_int_equal(stats.n_customers, 4);
    assert_int_equal(count_rows(snap, "customers"), 4);
    assert_int_equal(count_rows(snap, "api_keys"), 0);
    assert_int_equal(count_rows(snap, "audit"), 0);
    assert_int_equal(count_rows(path, "audit"), 2); // the working database keeps its log
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrate_reopen), cmocka_unit_test(test_iter),
        cmocka_unit_test(test_vectors_resume),      cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_keys_and_audit), cmocka_unit_test(test_audit_chain_faults),      cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_snapshot_leaves_keys_and_audit),
        cmocka_unit_test(test_sqlite_allocates_through_px),
        cmocka_unit_test(test_open_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
