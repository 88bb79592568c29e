// store.c — SQLite customer store (schema in store.h).
//
// Design:
//   - Customers get one SQL column per CSV column, named "c<position>", so header names never
//     reach SQL text (no quoting bugs, no case-insensitive clashes); meta_columns maps positions
//     to names, labels and types.
//   - Migrations are a list of SQL scripts indexed by version; store_open runs those above
//     PRAGMA user_version inside one transaction and then bumps it.
//   - Statements used per row (exists, upsert, vector put) are prepared once per store_upsert /
//     per call and always reset in the cleanup block (C5).
//   - Every SQLite failure is copied into px_err at once with sqlite3_errmsg: the next call on
//     the connection would overwrite it.
//   - The audit log is a hash chain (schema v3): store_audit_append reads the previous hash and
//     writes the next row under one BEGIN IMMEDIATE, so concurrent writers (server, CLI) never
//     fork it; verify and archive walk it with the same rule (chain_step). The triggers only
//     stop casual edits; the chain is what makes a determined one show.
//   - store_open_memory copies a migrated empty database's image (sqlite3_serialize, made once
//     per process under a mutex) into a new in-memory connection (sqlite3_deserialize): the
//     migrations' DDL is over half of what a small import into a fresh store costs, and the
//     fuzz targets open thousands of stores a second.
//   - SQLite allocates through px_malloc (sqlalloc.c, installed before the first connection), so
//     its SQLITE_NOMEM is a PX_ENOMEM like ours and the fault loops reach inside it.
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "limits.h"
#include "mem.h"
#include "sha256.h"
#include "sqlalloc.h"
#include "store_int.h"

struct store {
    sqlite3 *db;
    char path[LIMIT_PATH]; // as opened (":memory:" in memory), for errors
    bool in_tx;
    sqlite3_stmt *st_dedup; // cached: one step per imported row
};

// Migrations: k_migrations[v] takes the schema from version v to v + 1.
static const char *const k_migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE meta_columns ("
    " position INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " label TEXT NOT NULL,"
    " type TEXT NOT NULL,"
    " is_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE customers (id TEXT NOT NULL PRIMARY KEY);"
    "CREATE TABLE imports ("
    " id INTEGER PRIMARY KEY, time TEXT NOT NULL, file TEXT NOT NULL, bytes INTEGER NOT NULL,"
    " rows_read INTEGER NOT NULL, rows_inserted INTEGER NOT NULL,"
    " rows_updated INTEGER NOT NULL, rows_failed INTEGER NOT NULL);"
    "CREATE TABLE vectors ("
    " customer_id TEXT NOT NULL, model_id TEXT NOT NULL, dim INTEGER NOT NULL,"
    " vec BLOB NOT NULL, PRIMARY KEY (customer_id, model_id)) WITHOUT ROWID;",
    // 2: API keys and the append-only audit log
    "CREATE TABLE api_keys ("
    " id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,"
    " created TEXT NOT NULL, revoked TEXT);"
    "CREATE TABLE audit ("
    "seq INTEGER PRIMARY KEY, time TEXT NOT NULL, key_id TEXT, channel TEXT NOT NULL, actor TEXT,"
    " action TEXT NOT NULL, query TEXT NOT NULL, plan TEXT, n_results INTEGER NOT NULL,"
    " customer_ids TEXT NOT NULL);"
    "CREATE INDEX audit_time ON audit (time);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 3: the audit log's hash chain and its archives (issue 17). Rows from before have a NULL
    // hash ("before the chain"). An INSERT must take a seq above every row's and every archived
    // one's: REPLACE / INSERT OR REPLACE of an existing seq (which fires no DELETE trigger while
    // recursive_triggers is off) is refused like UPDATE and DELETE; an UPSERT's DO UPDATE hits
    // the UPDATE trigger. Deleting is allowed only for rows an archive record covers (the
    // sanctioned path of store_audit_archive); archive records are append-only themselves.
    "ALTER TABLE audit ADD COLUMN hash BLOB;"
    "CREATE TABLE audit_archives ("
    " id INTEGER PRIMARY KEY, time TEXT NOT NULL, first_seq INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL, n_rows INTEGER NOT NULL, head BLOB NOT NULL,"
    " file TEXT NOT NULL, file_sha256 TEXT NOT NULL);"
    "CREATE TRIGGER audit_archives_no_update BEFORE UPDATE ON audit_archives"
    " BEGIN SELECT RAISE(ABORT, 'the audit archive list is append-only'); END;"
    "CREATE TRIGGER audit_archives_no_delete BEFORE DELETE ON audit_archives"
    " BEGIN SELECT RAISE(ABORT, 'the audit archive list is append-only'); END;"
    "CREATE TRIGGER audit_archives_no_replace BEFORE INSERT ON audit_archives"
    " WHEN NEW.id IS NULL OR NEW.id <= coalesce((SELECT max(id) FROM audit_archives), 0)"
    " BEGIN SELECT RAISE(ABORT, 'the audit archive list is append-only'); END;"
    "DROP TRIGGER audit_no_delete;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " WHEN OLD.seq > coalesce((SELECT max(last_seq) FROM audit_archives), 0)"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit"
    " WHEN NEW.seq IS NULL OR NEW.seq <= max(coalesce((SELECT max(seq) FROM audit), 0),"
    " coalesce((SELECT max(last_seq) FROM audit_archives), 0))"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 4: saved searches (with the customers each matched at its last run), and the alerts of the
    // runs that found a change (issue 15; documented in saved.h)
    "CREATE TABLE saved_searches ("
    " id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, query TEXT NOT NULL,"
    " chips TEXT NOT NULL, columns TEXT NOT NULL, sort TEXT NOT NULL, feedback TEXT NOT NULL,"
    " webhook TEXT, created TEXT NOT NULL, updated TEXT NOT NULL,"
    " generation INTEGER NOT NULL, n_matches INTEGER NOT NULL DEFAULT 0,"
    " matches BLOB NOT NULL DEFAULT x'', UNIQUE (owner, name));"
    "CREATE TABLE alerts ("
    " id INTEGER PRIMARY KEY, saved_id INTEGER NOT NULL, time TEXT NOT NULL,"
    " generation INTEGER NOT NULL, n_new INTEGER NOT NULL, n_gone INTEGER NOT NULL,"
    " n_unchanged INTEGER NOT NULL, new_ids TEXT NOT NULL, gone_ids TEXT NOT NULL);"
    "CREATE INDEX alerts_saved ON alerts (saved_id, id);",
    // 5: change counters of the customers and the vectors (issue 12: a book's index file
    // records them and is stale when they moved), bumped by triggers so that every writer —
    // import, segments, index, a hand-made UPDATE — moves them, and read with one lookup.
    "CREATE TABLE generations (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "INSERT INTO generations (name, value) VALUES"
    " ('customers', (SELECT count(*) FROM customers)), ('vectors', (SELECT count(*) FROM vectors));"
    "CREATE TRIGGER customers_gen_insert AFTER INSERT ON customers BEGIN"
    " UPDATE generations SET value = value + 1 WHERE name = 'customers'; END;"
    "CREATE TRIGGER customers_gen_update AFTER UPDATE ON customers BEGIN"
    " UPDATE generations SET value = value + 1 WHERE name = 'customers'; END;"
    "CREATE TRIGGER customers_gen_delete AFTER DELETE ON customers BEGIN"
    " UPDATE generations SET value = value + 1 WHERE name = 'customers'; END;"
    "CREATE TRIGGER vectors_gen_insert AFTER INSERT ON vectors BEGIN"
    " UPDATE generations SET value = value + 1 WHERE name = 'vectors'; END;"
    "CREATE TRIGGER vectors_gen_update AFTER UPDATE ON vectors BEGIN"
    " UPDATE generations SET value = value + 1 WHERE name = 'vectors'; END;"
    "CREATE TRIGGER vectors_gen_delete AFTER DELETE ON vectors BEGIN"
    " UPDATE generations SET value = value + 1 WHERE name = 'vectors'; END;",
};

// The system's reason for a failed write or open on db, as " (File too large)", " (No space
// left on device)", " (Read-only file system)"; when SQLite did not keep the errno (a failed
// commit), what failed at least; "" for other failures.
static void io_reason(sqlite3 *db, char *why, size_t n)
{
    int code = sqlite3_errcode(db), sys = sqlite3_system_errno(db);
    int ext = sqlite3_extended_errcode(db);
    why[0] = '\0';
    if (code != SQLITE_IOERR && code != SQLITE_FULL && code != SQLITE_CANTOPEN &&
        code != SQLITE_READONLY) {
        return;
    }
    if (sys != 0) {
        snprintf(why, n, " (%s)", strerror(sys));
    } else if (ext == SQLITE_IOERR_WRITE) {
        snprintf(why, n, " (a write failed: the disk is full or a size limit hit)");
    } else if (ext == SQLITE_IOERR_FSYNC) {
        snprintf(why, n, " (fsync failed)");
    } else if (ext != code) {
        snprintf(why, n, " (SQLite extended code %d)", ext);
    }
}

// An SQLite failure as a px_err: "PATH: WHAT: SQLite's message" and io_reason's, so a full disk
// or a read-only folder is named as such. WHAT may be the path itself (then it is not repeated).
static int sql_fail(struct store *s, struct px_err *err, const char *what)
{
    int code = sqlite3_errcode(s->db);
    int px = code == SQLITE_NOMEM                              ? PX_ENOMEM
             : code == SQLITE_NOTADB || code == SQLITE_CORRUPT ? PX_EFORMAT
             : code == SQLITE_TOOBIG                           ? PX_ELIMIT
                                                               : PX_EIO;
    char why[96];
    io_reason(s->db, why, sizeof why);
    if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY) {
        // SQLite's errno is of its last try (often ENOENT for the -wal file it could not make):
        // a folder that cannot be written is the reason to give
        char dir[LIMIT_PATH];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash != NULL) {
            slash[slash == dir ? 1 : 0] = '\0';
        }
        if (access(slash != NULL ? dir : ".", W_OK) != 0) {
            snprintf(why, sizeof why, " (cannot write the folder: %s)", strerror(errno));
        }
    }
    if (strcmp(what, s->path) == 0) {
        return px_fail(err, px, "%s: %s%s", what, sqlite3_errmsg(s->db), why);
    }
    return px_fail(err, px, "%s: %s: %s%s", s->path, what, sqlite3_errmsg(s->db), why);
}

sqlite3 *store_sqlite(struct store *s) { return s->db; }
int store_sql_fail(struct store *s, struct px_err *err, const char *what)
{
    return sql_fail(s, err, what);
}
bool store_in_tx(const struct store *s) { return s->in_tx; }

static int exec(struct store *s, const char *sql, const char *what, struct px_err *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return sql_fail(s, err, what);
    }
    return PX_OK;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, struct px_err *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return sql_fail(s, err, "preparing a statement");
    }
    return PX_OK;
}

static int pragma_int(struct store *s, const char *sql, int *out, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, sql, &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = sql_fail(s, err, "reading the database header");
    } else {
        *out = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return rc;
}

struct store_params store_default_params(void)
{
    struct store_params p = {.read_only = false, .busy_timeout_ms = 5000};
    return p;
}

static int migrate(struct store *s, const char *path, struct px_err *err)
{
    int version = 0, app_id = 0, n_tables = 0;
    int rc = pragma_int(s, "PRAGMA user_version", &version, err);
    if (rc == PX_OK) {
        rc = pragma_int(s, "PRAGMA application_id", &app_id, err);
    }
    if (rc == PX_OK) {
        rc = pragma_int(s, "SELECT count(*) FROM sqlite_master", &n_tables, err);
    }
    if (rc != PX_OK) {
        return rc; // sql_fail named the path
    }
    if (app_id != STORE_APPLICATION_ID && (app_id != 0 || version != 0 || n_tables != 0)) {
        return px_fail(err, PX_EFORMAT, "%s: an SQLite database, but not a prospect store", path);
    }
    if (version > STORE_SCHEMA_VERSION) {
        return px_fail(err, PX_EFORMAT,
                       "%s: store schema version %d is newer than this prospect's (%d)", path,
                       version, STORE_SCHEMA_VERSION);
    }
    if (version == STORE_SCHEMA_VERSION) {
        return PX_OK;
    }
    rc = store_begin(s, err);
    for (int v = version; rc == PX_OK && v < STORE_SCHEMA_VERSION; v++) {
        rc = exec(s, k_migrations[v], "migrating the store schema", err);
    }
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d;",
             STORE_SCHEMA_VERSION, STORE_APPLICATION_ID);
    if (rc == PX_OK) {
        rc = exec(s, sql, "setting the schema version", err);
    }
    if (rc == PX_OK) {
        rc = store_commit(s, err);
    }
    if (rc != PX_OK) {
        store_rollback(s); // sql_fail named the path
    }
    return rc;
}

int store_open(const char *path, const struct store_params *params, struct store **out,
               struct px_err *err)
{
    struct store_params p = params ? *params : store_default_params();
    struct store *s = NULL;
    int rc = PX_ENOMEM;
    *out = NULL;
    (void)sqlalloc_install(); // SQLite allocates through px_malloc (a no-op after the first)
    s = px_calloc(1, sizeof *s);
    if (s == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory opening %s", path);
        goto done;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    int flags = p.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = s->db == NULL || sqlite3_errcode(s->db) == SQLITE_NOMEM
                 ? px_fail(err, PX_ENOMEM, "out of memory opening %s", path)
                 : sql_fail(s, err, "cannot open");
        goto done;
    }
    sqlite3_extended_result_codes(s->db, 0);
    sqlite3_busy_timeout(s->db, p.busy_timeout_ms);
    if (!p.read_only) {
        // WAL: readers (the server) never block the importer/indexer; NORMAL sync is durable
        // across process crashes (kill -9), which is what resuming an index run needs.
        rc = exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", path, err);
        if (rc != PX_OK) {
            goto done;
        }
        rc = migrate(s, path, err);
    } else {
        int version = 0;
        rc = pragma_int(s, "PRAGMA user_version", &version, err);
        if (rc == PX_OK && (version < 1 || version > STORE_SCHEMA_VERSION)) {
            rc = px_fail(err, PX_EFORMAT, "%s: store schema version %d, expected 1..%d", path,
                         version, STORE_SCHEMA_VERSION);
        }
    }
    if (rc != PX_OK) {
        goto done;
    }
    *out = s;
    s = NULL;
    rc = PX_OK;
done:
    store_close(s);
    return rc;
}

// The empty store's image (sqlite3_serialize of a migrated ":memory:" database), made once.
static pthread_mutex_t g_image_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *g_image; // sqlite3_malloc'd, kept for the process
static sqlite3_int64 g_image_len;

static int empty_image(struct px_err *err)
{
    int rc = PX_OK;
    pthread_mutex_lock(&g_image_lock);
    if (g_image == NULL) {
        struct store *s = NULL;
        rc = store_open(":memory:", NULL, &s, err);
        if (rc == PX_OK) {
            g_image = sqlite3_serialize(s->db, "main", &g_image_len, 0);
            if (g_image == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory copying an empty store");
            }
        }
        store_close(s);
    }
    pthread_mutex_unlock(&g_image_lock);
    return rc;
}

int store_open_memory(struct store **out, struct px_err *err)
{
    *out = NULL;
    int rc = empty_image(err);
    if (rc != PX_OK) {
        return rc;
    }
    struct store *s = px_calloc(1, sizeof *s);
    if (s == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory opening a store in memory");
    }
    snprintf(s->path, sizeof s->path, ":memory:");
    unsigned char *copy = NULL;
    if (sqlite3_open_v2(":memory:", &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        (copy = sqlite3_malloc64((sqlite3_uint64)g_image_len)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory opening a store in memory");
        goto done;
    }
    memcpy(copy, g_image, (size_t)g_image_len);
    // FREEONCLOSE: the connection owns copy from here, also when deserialize fails
    if (sqlite3_deserialize(s->db, "main", copy, g_image_len, g_image_len,
                            SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE) !=
        SQLITE_OK) {
        rc = px_fail(err, PX_ENOMEM, "cannot open a store in memory: %s", sqlite3_errmsg(s->db));
        goto done;
    }
    sqlite3_extended_result_codes(s->db, 0);
    *out = s;
    s = NULL;
done:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (s == NULL) {
        return;
    }
    store_rollback(s);
    sqlite3_finalize(s->st_dedup);
    sqlite3_close_v2(s->db);
    px_free(s);
}

int store_begin(struct store *s, struct px_err *err)
{
    if (s->in_tx) {
        return px_fail(err, PX_EINTERNAL, "store_begin: a transaction is already open");
    }
    int rc = exec(s, "BEGIN IMMEDIATE", "starting a transaction", err);
    s->in_tx = rc == PX_OK;
    return rc;
}

int store_commit(struct store *s, struct px_err *err)
{
    if (!s->in_tx) {
        return px_fail(err, PX_EINTERNAL, "store_commit: no transaction is open");
    }
    int rc = exec(s, "COMMIT", "committing", err);
    if (rc != PX_OK) {
        store_rollback(s);
    }
    s->in_tx = false;
    return rc;
}

void store_rollback(struct store *s)
{
    if (s->in_tx) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_tx = false;
    }
}

// ---- schema ----

void store_schema_free(struct store_schema *sc)
{
    if (sc == NULL) {
        return;
    }
    for (size_t i = 0; i < sc->n_cols; i++) {
        px_free(sc->cols[i].name);
        px_free(sc->cols[i].label);
    }
    px_free(sc->cols);
    memset(sc, 0, sizeof *sc);
    sc->i_id = -1;
}

int store_schema(struct store *s, struct store_schema *out, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    out->i_id = -1;
    int count = 0;
    int rc = pragma_int(s, "SELECT count(*) FROM meta_columns", &count, err);
    if (rc != PX_OK) {
        goto done;
    }
    n = (size_t)count;
    if (n > 0) {
        out->cols = px_calloc(n, sizeof *out->cols);
        if (out->cols == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading %zu columns", n);
            goto done;
        }
    }
    rc = prepare(s, "SELECT position, name, label, type, is_id FROM meta_columns ORDER BY position",
                 &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && out->n_cols < n) {
        struct store_column *c = &out->cols[out->n_cols];
        c->position = sqlite3_column_int(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 3);
        if (type == NULL || !coltype_from_name(type, &c->type)) {
            rc = px_fail(err, PX_EFORMAT, "meta_columns: column %d has unknown type '%s'",
                         c->position, type ? type : "");
            goto done;
        }
        c->name = px_strdup((const char *)sqlite3_column_text(st, 1));
        c->label = px_strdup((const char *)sqlite3_column_text(st, 2));
        out->n_cols++;
        if (c->name == NULL || c->label == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading the schema");
            goto done;
        }
        c->is_id = sqlite3_column_int(st, 4) != 0;
        if (c->is_id) {
            out->i_id = (int)out->n_cols - 1;
        }
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sql_fail(s, err, "reading meta_columns");
        goto done;
    }
    rc = PX_OK;
done:
    sqlite3_finalize(st);
    if (rc != PX_OK) {
        store_schema_free(out);
    }
    return rc;
}

int store_schema_find(const struct store_schema *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_cols; i++) {
        if (strcmp(sc->cols[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int store_add_column(struct store *s, const char *name, const char *label, enum coltype type,
                     bool is_id, int *position, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int pos = 0;
    int rc = pragma_int(s, "SELECT coalesce(max(position), 0) + 1 FROM meta_columns", &pos, err);
    if (rc != PX_OK) {
        goto done;
    }
    rc = prepare(s,
                 "INSERT INTO meta_columns (position, name, label, type, is_id) "
                 "VALUES (?, ?, ?, ?, ?)",
                 &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    sqlite3_bind_int(st, 1, pos);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, coltype_name(type), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, is_id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_fail(s, err, "adding a column");
        px_err_prefix(err, "column '%s'", name);
        goto done;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "ALTER TABLE customers ADD COLUMN c%d %s", pos,
             coltype_sql_type(type));
    rc = exec(s, sql, "adding a column", err);
    if (rc != PX_OK) {
        goto done;
    }
    *position = pos;
    rc = PX_OK;
done:
    sqlite3_finalize(st);
    return rc;
}

// ---- customers ----

int store_count_customers(struct store *s, size_t *n, struct px_err *err)
{
    int c = 0;
    int rc = pragma_int(s, "SELECT count(*) FROM customers", &c, err);
    *n = rc == PX_OK ? (size_t)c : 0;
    return rc;
}

int store_generation(struct store *s, uint64_t gen[3], struct px_err *err)
{
    int g = 0, c = 0, v = 0;
    int rc = pragma_int(s, "SELECT coalesce(max(id), 0) FROM imports", &g, err);
    if (rc == PX_OK) {
        rc = pragma_int(s,
                        "SELECT coalesce((SELECT value FROM generations WHERE name = 'vectors'), 0)",
                        &v, err);
    }
    if (rc == PX_OK) {
        rc = pragma_int(
            s, "SELECT coalesce((SELECT value FROM generations WHERE name = 'customers'), 0)", &c,
            err);
    }
    gen[0] = rc == PX_OK ? (uint64_t)g : 0;
    gen[1] = rc == PX_OK ? (uint64_t)v : 0;
    gen[2] = rc == PX_OK ? (uint64_t)c : 0;
    return rc;
}

struct store_upsert {
    struct store *s;
    sqlite3_stmt *exists, *upsert;
    enum coltype *types; // (n)
    size_t n;
};

int store_upsert_new(struct store *s, const int *positions, const enum coltype *types, size_t n,
                     struct store_upsert **out, struct px_err *err)
{
    struct store_upsert *u = NULL;
    struct buf sql;
    int rc = PX_ENOMEM;
    buf_init(&sql, 64 + n * 48);
    *out = NULL;
    u = px_calloc(1, sizeof *u);
    if (u == NULL || (u->types = px_calloc(n ? n : 1, sizeof *u->types)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory preparing an upsert");
        goto done;
    }
    u->s = s;
    u->n = n;
    memcpy(u->types, types, n * sizeof *types);
    rc = buf_printf(&sql, err, "INSERT INTO customers (id");
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        rc = buf_printf(&sql, err, ", c%d", positions[i]);
    }
    if (rc == PX_OK) {
        rc = buf_printf(&sql, err, ") VALUES (?");
    }
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        rc = buf_printf(&sql, err, ", ?");
    }
    if (rc == PX_OK) {
        rc = buf_printf(&sql, err, n ? ") ON CONFLICT (id) DO UPDATE SET " : ")");
    }
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        rc = buf_printf(&sql, err, "%sc%d = excluded.c%d", i ? ", " : "", positions[i],
                        positions[i]);
    }
    if (rc == PX_OK && n == 0) {
        rc = buf_printf(&sql, err, " ON CONFLICT (id) DO NOTHING");
    }
    if (rc != PX_OK) {
        goto done;
    }
    rc = prepare(s, sql.data, &u->upsert, err);
    if (rc == PX_OK) {
        rc = prepare(s, "SELECT 1 FROM customers WHERE id = ?", &u->exists, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    *out = u;
    u = NULL;
    rc = PX_OK;
done:
    buf_free(&sql);
    store_upsert_free(u);
    return rc;
}

int store_upsert_row(struct store_upsert *u, const char *id, size_t id_len,
                     const struct coltype_value *vals, bool *inserted, struct px_err *err)
{
    int rc = PX_EIO;
    sqlite3_bind_text(u->exists, 1, id, (int)id_len, SQLITE_STATIC);
    int step = sqlite3_step(u->exists);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sql_fail(u->s, err, "looking up a customer");
        goto done;
    }
    *inserted = step == SQLITE_DONE;
    sqlite3_bind_text(u->upsert, 1, id, (int)id_len, SQLITE_STATIC);
    for (size_t i = 0; i < u->n; i++) {
        const struct coltype_value *v = &vals[i];
        int k = (int)i + 2;
        const char *sqlt = coltype_sql_type(u->types[i]);
        if (v->missing) {
            sqlite3_bind_null(u->upsert, k);
        } else if (sqlt[0] == 'I') {
            sqlite3_bind_int64(u->upsert, k, v->i);
        } else if (sqlt[0] == 'R') {
            sqlite3_bind_double(u->upsert, k, v->d);
        } else {
            sqlite3_bind_text(u->upsert, k, v->s, (int)v->len, SQLITE_STATIC);
        }
    }
    if (sqlite3_step(u->upsert) != SQLITE_DONE) {
        rc = sql_fail(u->s, err, "storing a customer");
        goto done;
    }
    rc = PX_OK;
done:
    sqlite3_reset(u->exists);
    sqlite3_clear_bindings(u->exists);
    sqlite3_reset(u->upsert);
    sqlite3_clear_bindings(u->upsert);
    return rc;
}

void store_upsert_free(struct store_upsert *u)
{
    if (u == NULL) {
        return;
    }
    sqlite3_finalize(u->exists);
    sqlite3_finalize(u->upsert);
    px_free(u->types);
    px_free(u);
}

int store_dedup_reset(struct store *s, struct px_err *err)
{
    return exec(s,
                "CREATE TEMP TABLE IF NOT EXISTS import_seen (id TEXT PRIMARY KEY, line INTEGER);"
                "DELETE FROM temp.import_seen;",
                "preparing the duplicate-id check", err);
}

int store_dedup_check(struct store *s, const char *id, size_t id_len, size_t line,
                      size_t *first_line, struct px_err *err)
{
    *first_line = 0;
    int rc = PX_OK;
    if (s->st_dedup == NULL) {
        rc = prepare(s,
                     "INSERT INTO temp.import_seen (id, line) VALUES (?1, ?2) "
                     "ON CONFLICT (id) DO UPDATE SET line = line RETURNING line",
                     &s->st_dedup, err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    sqlite3_stmt *st = s->st_dedup;
    sqlite3_bind_text(st, 1, id, (int)id_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)line);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = sql_fail(s, err, "checking for a duplicate id");
    } else {
        size_t seen = (size_t)sqlite3_column_int64(st, 0);
        *first_line = seen == line ? 0 : seen;
        sqlite3_step(st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

struct store_iter {
    struct store *s;
    const struct store_schema *sc;
    sqlite3_stmt *st;
    struct coltype_value *vals; // (sc->n_cols)
};

int store_iter_new(struct store *s, const struct store_schema *sc, struct store_iter **out,
                   struct px_err *err)
{
    struct store_iter *it = NULL;
    struct buf sql;
    int rc = PX_ENOMEM;
    buf_init(&sql, 64 + sc->n_cols * 16);
    *out = NULL;
    it = px_calloc(1, sizeof *it);
    if (it == NULL ||
        (it->vals = px_calloc(sc->n_cols ? sc->n_cols : 1, sizeof *it->vals)) == NULL) {
        rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
        goto done;
    }
    it->s = s;
    it->sc = sc;
    rc = buf_printf(&sql, err, "SELECT id");
    for (size_t i = 0; rc == PX_OK && i < sc->n_cols; i++) {
        rc = buf_printf(&sql, err, ", c%d", sc->cols[i].position);
    }
    if (rc == PX_OK) {
        rc = buf_printf(&sql, err, " FROM customers ORDER BY rowid");
    }
    if (rc == PX_OK) {
        rc = prepare(s, sql.data, &it->st, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    *out = it;
    it = NULL;
    rc = PX_OK;
done:
    buf_free(&sql);
    store_iter_free(it);
    return rc;
}

int store_iter_next(struct store_iter *it, bool *has_row, const char **id,
                    const struct coltype_value **vals, struct px_err *err)
{
    *has_row = false;
    int step = sqlite3_step(it->st);
    if (step == SQLITE_DONE) {
        return PX_OK;
    }
    if (step != SQLITE_ROW) {
        return sql_fail(it->s, err, "reading customers");
    }
    *id = (const char *)sqlite3_column_text(it->st, 0);
    for (size_t i = 0; i < it->sc->n_cols; i++) {
        struct coltype_value *v = &it->vals[i];
        int k = (int)i + 1;
        memset(v, 0, sizeof *v);
        v->missing = sqlite3_column_type(it->st, k) == SQLITE_NULL;
        if (v->missing) {
            continue;
        }
        const char *sqlt = coltype_sql_type(it->sc->cols[i].type);
        if (sqlt[0] == 'I') {
            v->i = sqlite3_column_int64(it->st, k);
            v->d = (double)v->i;
        } else if (sqlt[0] == 'R') {
            v->d = sqlite3_column_double(it->st, k);
        } else {
            v->s = (const char *)sqlite3_column_text(it->st, k);
            v->len = (size_t)sqlite3_column_bytes(it->st, k);
            if (v->s == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory reading customers");
            }
        }
    }
    *vals = it->vals;
    *has_row = true;
    return PX_OK;
}

void store_iter_free(struct store_iter *it)
{
    if (it == NULL) {
        return;
    }
    sqlite3_finalize(it->st);
    px_free(it->vals);
    px_free(it);
}

int store_log_import(struct store *s, const struct store_import_log *log, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "INSERT INTO imports (time, file, bytes, rows_read, rows_inserted, "
                     "rows_updated, rows_failed) VALUES "
                     "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?, ?, ?)",
                     &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, log->file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)log->bytes);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)log->rows_read);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)log->rows_inserted);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)log->rows_updated);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)log->rows_failed);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_fail(s, err, "logging the import");
    }
    sqlite3_finalize(st);
    return rc;
}

// ---- vectors ----

int store_put_vectors(struct store *s, const char *model_id, const char *const *ids,
                      const float *vecs, size_t n, int dim, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PX_EINVAL;
    if (dim < 1 || dim > LIMIT_VECTOR_DIM) {
        return px_fail(err, PX_EINVAL, "vector dimension %d is outside 1..%d", dim,
                       LIMIT_VECTOR_DIM);
    }
    if (model_id == NULL || model_id[0] == '\0') {
        return px_fail(err, PX_EINVAL, "empty model id");
    }
    for (size_t r = 0; r < n; r++) {
        for (int k = 0; k < dim; k++) {
            if (!isfinite(vecs[r * (size_t)dim + (size_t)k])) {
                return px_fail(err, PX_EINVAL,
                               "vector %zu (customer '%s'), element %d is not finite", r, ids[r],
                               k);
            }
        }
    }
    bool own_tx = !s->in_tx;
    if (own_tx && (rc = store_begin(s, err)) != PX_OK) {
        return rc;
    }
    rc = prepare(s,
                 "INSERT OR REPLACE INTO vectors (customer_id, model_id, dim, vec) "
                 "VALUES (?, ?, ?, ?)",
                 &st, err);
    for (size_t r = 0; rc == PX_OK && r < n; r++) {
        sqlite3_bind_text(st, 1, ids[r], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, model_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, dim);
        sqlite3_bind_blob(st, 4, vecs + r * (size_t)dim, dim * (int)sizeof(float), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sql_fail(s, err, "storing a vector");
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    if (own_tx) {
        if (rc == PX_OK) {
            rc = store_commit(s, err);
        } else {
            store_rollback(s);
        }
    }
    return rc;
}

void store_ids_free(struct store_ids *ids)
{
    if (ids == NULL) {
        return;
    }
    for (size_t i = 0; i < ids->n; i++) {
        px_free(ids->ids[i]);
    }
    px_free(ids->ids);
    memset(ids, 0, sizeof *ids);
}

// Appends a copy of s to a growing (cap) array of strings.
static int push_str(char ***arr, size_t *n, size_t *cap, const char *s, struct px_err *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        char **na = px_realloc(*arr, nc * sizeof *na);
        if (na == NULL) {
            return px_fail(err, PX_ENOMEM, "out of memory listing %zu customers", *n);
        }
        *arr = na;
        *cap = nc;
    }
    char *c = px_strdup(s ? s : "");
    if (c == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory listing %zu customers", *n);
    }
    (*arr)[(*n)++] = c;
    return PX_OK;
}

int store_customers_without_vector(struct store *s, const char *model_id, struct store_ids *out,
                                   struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int step;
    memset(out, 0, sizeof *out);
    int rc = prepare(s,
                     "SELECT id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM vectors v "
                     "WHERE v.customer_id = c.id AND v.model_id = ?) ORDER BY c.rowid",
                     &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    sqlite3_bind_text(st, 1, model_id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = push_str(&out->ids, &out->n, &cap, (const char *)sqlite3_column_text(st, 0), err);
        if (rc != PX_OK) {
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        rc = sql_fail(s, err, "listing customers without vectors");
        goto done;
    }
    rc = PX_OK;
done:
    sqlite3_finalize(st);
    if (rc != PX_OK) {
        store_ids_free(out);
    }
    return rc;
}

void store_vectors_free(struct store_vectors *v)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        px_free(v->ids[i]);
    }
    px_free(v->ids);
    px_free(v->data);
    memset(v, 0, sizeof *v);
}

int store_load_vectors(struct store *s, const char *model_id, struct store_vectors *out,
                       struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0, cap_rows = 0;
    int step;
    memset(out, 0, sizeof *out);
    int rc = prepare(s,
                     "SELECT v.customer_id, v.dim, v.vec FROM vectors v JOIN customers c "
                     "ON c.id = v.customer_id WHERE v.model_id = ? ORDER BY c.rowid",
                     &st, err);
    if (rc != PX_OK) {
        goto done;
    }
    sqlite3_bind_text(st, 1, model_id, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int dim = sqlite3_column_int(st, 1);
        const void *blob = sqlite3_column_blob(st, 2);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 2);
        if (dim < 1 || dim > LIMIT_VECTOR_DIM || bytes != (size_t)dim * sizeof(float) ||
            blob == NULL || (out->n > 0 && dim != out->dim)) {
            rc = px_fail(err, PX_EFORMAT,
                         "vector of customer '%s' for model %s: dim %d, %zu bytes (expected %d)",
                         id ? id : "", model_id, dim, bytes, out->n ? out->dim : dim);
            goto done;
        }
        out->dim = dim;
        if (out->n == cap_rows) {
            size_t nc = cap_rows ? cap_rows * 2 : 256;
            float *nd = px_realloc(out->data, nc * (size_t)dim * sizeof(float));
            if (nd == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory loading %zu vectors", out->n);
                goto done;
            }
            out->data = nd;
            cap_rows = nc;
        }
        size_t n_before = out->n;
        rc = push_str(&out->ids, &out->n, &cap, id, err);
        if (rc != PX_OK) {
            goto done;
        }
        memcpy(out->data + n_before * (size_t)dim, blob, bytes);
    }
    if (step != SQLITE_DONE) {
        rc = sql_fail(s, err, "loading vectors");
        goto done;
    }
    rc = PX_OK;
done:
    sqlite3_finalize(st);
    if (rc != PX_OK) {
        store_vectors_free(out);
    }
    return rc;
}

// ---- API keys ----

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", v ? (const char *)v : "");
}

int store_key_insert(struct store *s, const char *id, const char *name,
                     const unsigned char salt[STORE_KEY_SALT_LEN],
                     const unsigned char hash[STORE_KEY_HASH_LEN], struct px_err *err)
{
    size_t name_len = strlen(name);
    if (strlen(id) != STORE_KEY_ID_LEN || name_len == 0 || name_len > LIMIT_KEY_NAME) {
        return px_fail(err, PX_EINVAL, "a key needs a %d-digit id and a name of 1..%d bytes",
                       STORE_KEY_ID_LEN, LIMIT_KEY_NAME);
    }
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "INSERT INTO api_keys (id, name, salt, hash, created) VALUES "
                     "(?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                     &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, (int)name_len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, salt, STORE_KEY_SALT_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, hash, STORE_KEY_HASH_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_fail(s, err, "storing the API key");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_key_get(struct store *s, const char *id, struct store_key *key,
                  unsigned char salt[STORE_KEY_SALT_LEN], unsigned char hash[STORE_KEY_HASH_LEN],
                  bool *found, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    int rc = prepare(s,
                     "SELECT id, name, created, coalesce(revoked, ''), salt, hash "
                     "FROM api_keys WHERE id = ?",
                     &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 4) != STORE_KEY_SALT_LEN ||
            sqlite3_column_bytes(st, 5) != STORE_KEY_HASH_LEN) {
            rc = px_fail(err, PX_EFORMAT, "api_keys row %s: salt or hash has the wrong length", id);
        } else {
            *found = true;
            if (key != NULL) {
                copy_col(key->id, sizeof key->id, st, 0);
                copy_col(key->name, sizeof key->name, st, 1);
                copy_col(key->created, sizeof key->created, st, 2);
                copy_col(key->revoked, sizeof key->revoked, st, 3);
            }
            if (salt != NULL)
                memcpy(salt, sqlite3_column_blob(st, 4), STORE_KEY_SALT_LEN);
            if (hash != NULL)
                memcpy(hash, sqlite3_column_blob(st, 5), STORE_KEY_HASH_LEN);
        }
    } else if (step != SQLITE_DONE) {
        rc = sql_fail(s, err, "reading an API key");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_key_list(struct store *s, struct store_key **out, size_t *n, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    struct store_key *keys = NULL;
    size_t cap = 0, count = 0;
    *out = NULL;
    *n = 0;
    int rc = prepare(s,
                     "SELECT id, name, created, coalesce(revoked, '') FROM api_keys "
                     "ORDER BY created, id",
                     &st, err);
    while (rc == PX_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = sql_fail(s, err, "listing API keys");
            break;
        }
        if (count == LIMIT_KEYS) {
            rc = px_fail(err, PX_ELIMIT, "more than %d API keys (LIMIT_KEYS)", LIMIT_KEYS);
            break;
        }
        if (count == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct store_key *k = px_realloc(keys, nc * sizeof *k);
            if (k == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory listing API keys");
                break;
            }
            keys = k;
            cap = nc;
        }
        struct store_key *k = &keys[count++];
        copy_col(k->id, sizeof k->id, st, 0);
        copy_col(k->name, sizeof k->name, st, 1);
        copy_col(k->created, sizeof k->created, st, 2);
        copy_col(k->revoked, sizeof k->revoked, st, 3);
    }
    sqlite3_finalize(st);
    if (rc != PX_OK) {
        px_free(keys);
        return rc;
    }
    *out = keys;
    *n = count;
    return PX_OK;
}

int store_key_revoke(struct store *s, const char *id, bool *found, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    int rc = prepare(s,
                     "UPDATE api_keys SET revoked = coalesce(revoked, "
                     "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) WHERE id = ?",
                     &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_fail(s, err, "revoking the API key");
    } else {
        *found = sqlite3_changes(s->db) > 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_key_count_active(struct store *s, size_t *n, struct px_err *err)
{
    int v = 0;
    int rc = pragma_int(s, "SELECT count(*) FROM api_keys WHERE revoked IS NULL", &v, err);
    *n = rc == PX_OK ? (size_t)v : 0;
    return rc;
}

// ---- audit log ----

// The chain's hash of one row: sha256 over a domain tag, the previous hash, then per column
// (seq, time, key_id, channel, actor, action, query, plan, n_results, customer_ids) its SQLite
// type, its byte length (8 bytes, big-endian) and its bytes as text (integers in decimal) —
// exactly what is stored, so any edit of a value or of its type changes the hash.
#define AUDIT_N_COLS 10
struct hcol {
    int type; // SQLITE_INTEGER, SQLITE_TEXT, SQLITE_NULL, ...
    const void *p;
    size_t n;
};

static void audit_hash(const unsigned char prev[STORE_AUDIT_HASH_LEN],
                       const struct hcol c[AUDIT_N_COLS], unsigned char out[STORE_AUDIT_HASH_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, "prospect audit v3", 17);
    sha256_update(&h, prev, STORE_AUDIT_HASH_LEN);
    for (size_t i = 0; i < AUDIT_N_COLS; i++) {
        unsigned char head[9] = {(unsigned char)c[i].type};
        for (int b = 0; b < 8; b++) {
            head[1 + b] = (unsigned char)((uint64_t)c[i].n >> (56 - 8 * b));
        }
        sha256_update(&h, head, sizeof head);
        if (c[i].n > 0) {
            sha256_update(&h, c[i].p, c[i].n);
        }
    }
    sha256_final(&h, out);
}

static struct hcol hcol_text(const char *s)
{
    struct hcol c = {s ? SQLITE_TEXT : SQLITE_NULL, s, s ? strlen(s) : 0};
    return c;
}

// The columns of a row being read (seq first, as SELECTed by AUDIT_COLS). False when SQLite ran
// out of memory converting one (a NULL pointer for a value that is not NULL).
static bool hcols_of(sqlite3_stmt *st, struct hcol c[AUDIT_N_COLS])
{
    for (int i = 0; i < AUDIT_N_COLS; i++) {
        c[i].type = sqlite3_column_type(st, i);
        c[i].p = c[i].type == SQLITE_BLOB ? sqlite3_column_blob(st, i)
                                          : (const void *)sqlite3_column_text(st, i);
        c[i].n = (size_t)sqlite3_column_bytes(st, i);
        // an empty blob is a NULL pointer; any other value is not, unless memory ran out
        bool may_be_null = c[i].type == SQLITE_NULL || c[i].type == SQLITE_BLOB;
        if (c[i].p == NULL && (c[i].n > 0 || !may_be_null)) {
            return false;
        }
    }
    return true;
}

#define AUDIT_COLS                                                                                \
    "seq, time, key_id, channel, actor, action, query, plan, n_results, customer_ids, hash"

static struct store_audit_row audit_row_of(sqlite3_stmt *st)
{
    struct store_audit_row r = {
        .seq = sqlite3_column_int64(st, 0),
        .time = (const char *)sqlite3_column_text(st, 1),
        .key_id = (const char *)sqlite3_column_text(st, 2),
        .channel = (const char *)sqlite3_column_text(st, 3),
        .actor = (const char *)sqlite3_column_text(st, 4),
        .action = (const char *)sqlite3_column_text(st, 5),
        .query = (const char *)sqlite3_column_text(st, 6),
        .plan = (const char *)sqlite3_column_text(st, 7),
        .n_results = sqlite3_column_int64(st, 8),
        .customer_ids = (const char *)sqlite3_column_text(st, 9),
        .hash = sqlite3_column_bytes(st, 10) == STORE_AUDIT_HASH_LEN
                    ? sqlite3_column_blob(st, 10)
                    : NULL,
    };
    return r;
}

// One integer or blob from a one-row query; *found false when no row (or a NULL / short blob).
static int query_one(struct store *s, const char *sql, long long *num, unsigned char *blob,
                     bool *found, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, sql, &st, err);
    *found = false;
    if (rc != PX_OK) {
        return rc;
    }
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (num != NULL && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            *num = sqlite3_column_int64(st, 0);
            *found = true;
        }
        if (blob != NULL && sqlite3_column_bytes(st, 1) == STORE_AUDIT_HASH_LEN) {
            memcpy(blob, sqlite3_column_blob(st, 1), STORE_AUDIT_HASH_LEN);
            *found = true;
        }
    } else if (step != SQLITE_DONE) {
        rc = sql_fail(s, err, "reading the audit log");
    }
    sqlite3_finalize(st);
    return rc;
}

// The last archive: its last seq and head (0 and zeros when none).
static int audit_archive_head(struct store *s, long long *last, unsigned char head[32],
                              long long *n_archives, struct px_err *err)
{
    bool found = false;
    long long n = 0;
    *last = 0;
    memset(head, 0, STORE_AUDIT_HASH_LEN);
    int rc = query_one(s, "SELECT count(*) FROM audit_archives", &n, NULL, &found, err);
    if (n_archives != NULL) {
        *n_archives = n;
    }
    if (rc == PX_OK && n > 0) {
        rc = query_one(s, "SELECT last_seq, head FROM audit_archives ORDER BY id DESC LIMIT 1",
                       last, head, &found, err);
    }
    return rc;
}

// Appends inside the open transaction.
static int audit_append_tx(struct store *s, const struct store_audit_row *row,
                           struct px_err *err)
{
    long long last_seq = 0, archived = 0;
    unsigned char prev[STORE_AUDIT_HASH_LEN];
    bool found = false;
    int rc = audit_archive_head(s, &archived, prev, NULL, err);
    if (rc == PX_OK) {
        rc = query_one(s, "SELECT max(seq) FROM audit", &last_seq, NULL, &found, err);
    }
    if (rc == PX_OK && last_seq < archived) {
        last_seq = archived;
    }
    if (rc == PX_OK) {
        long long ignored = 0;
        rc = query_one(s,
                       "SELECT seq, hash FROM audit WHERE hash IS NOT NULL ORDER BY seq DESC "
                       "LIMIT 1",
                       &ignored, prev, &found, err); // leaves prev alone when no row has one
    }
    if (rc != PX_OK) {
        return rc;
    }
    struct timespec ts;
    struct tm tm;
    char when[40], seq[24], n_results[24];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
    snprintf(seq, sizeof seq, "%lld", last_seq + 1);
    snprintf(n_results, sizeof n_results, "%lld", row->n_results);
    const char *channel = row->channel ? row->channel : "", *action = row->action ? row->action : "";
    const char *query = row->query ? row->query : "";
    const char *ids = row->customer_ids ? row->customer_ids : "[]";
    struct hcol c[AUDIT_N_COLS] = {
        {SQLITE_INTEGER, seq, strlen(seq)}, hcol_text(when),   hcol_text(row->key_id),
        hcol_text(channel),                 hcol_text(row->actor), hcol_text(action),
        hcol_text(query),                   hcol_text(row->plan),
        {SQLITE_INTEGER, n_results, strlen(n_results)}, hcol_text(ids),
    };
    unsigned char hash[STORE_AUDIT_HASH_LEN];
    audit_hash(prev, c, hash);
    sqlite3_stmt *st = NULL;
    rc = prepare(s,
                 "INSERT INTO audit (seq, time, key_id, channel, actor, action, query, plan, "
                 "n_results, customer_ids, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, last_seq + 1);
    sqlite3_bind_text(st, 2, when, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row->key_id, -1, SQLITE_STATIC); // NULL binds NULL
    sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, row->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, query, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, row->plan, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, row->n_results);
    sqlite3_bind_text(st, 10, ids, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, hash, sizeof hash, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_fail(s, err, "writing the audit log");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_audit_append(struct store *s, const struct store_audit_row *row, struct px_err *err)
{
    if (s->in_tx) {
        return audit_append_tx(s, row, err);
    }
    // BEGIN IMMEDIATE: the previous row read and this one written under one write lock, so
    // two writers (the server and a CLI search) never chain on the same row
    int rc = store_begin(s, err);
    if (rc == PX_OK) {
        rc = audit_append_tx(s, row, err);
    }
    if (rc == PX_OK) {
        return store_commit(s, err);
    }
    store_rollback(s);
    return rc;
}

// The chain walk shared by verify and archive: feed rows in seq order.
struct chain {
    struct store_audit_verdict *v;
    unsigned char prev[STORE_AUDIT_HASH_LEN];
    long long last_seq; // the last row walked (archived_through at the start)
    bool begun;         // a hashed row was seen
    bool oom;           // chain_step stopped for want of memory, not a broken row
};

static void chain_broken(struct chain *c, long long seq, const char *fmt, long long a)
{
    c->v->broken_seq = seq;
    snprintf(c->v->problem, sizeof c->v->problem, fmt, seq, a);
}

// false once broken
static bool chain_step(struct chain *c, sqlite3_stmt *st)
{
    struct store_audit_verdict *v = c->v;
    long long seq = sqlite3_column_int64(st, 0);
    int hash_n = sqlite3_column_bytes(st, 10);
    const void *hash = sqlite3_column_blob(st, 10);
    v->n_rows++;
    if (seq <= v->archived_through) {
        chain_broken(c, seq, "seq %lld is inside the archived range (through seq %lld)",
                     v->archived_through);
        return false;
    }
    if (sqlite3_column_type(st, 10) == SQLITE_NULL) {
        if (c->begun) {
            chain_broken(c, seq, "seq %lld has no hash, after the chain began (at seq %lld)",
                         v->n_before_chain + v->archived_through + 1);
            return false;
        }
        v->n_before_chain++;
        c->last_seq = seq;
        return true;
    }
    if (hash_n != STORE_AUDIT_HASH_LEN || sqlite3_column_type(st, 10) != SQLITE_BLOB) {
        chain_broken(c, seq, "seq %lld: its hash is not a %lld-byte blob", STORE_AUDIT_HASH_LEN);
        return false;
    }
    if (seq != c->last_seq + 1) {
        chain_broken(c, seq, "seq %lld follows seq %lld: rows are missing", c->last_seq);
        return false;
    }
    struct hcol cols[AUDIT_N_COLS];
    unsigned char want[STORE_AUDIT_HASH_LEN];
    if (!hcols_of(st, cols)) {
        c->oom = true;
        return false;
    }
    audit_hash(c->prev, cols, want);
    if (memcmp(want, hash, sizeof want) != 0) {
        chain_broken(c, seq,
                     "seq %lld: its hash does not match its content and the previous row's "
                     "hash (seq %lld): the row was edited, inserted or the one before it removed",
                     c->last_seq);
        return false;
    }
    memcpy(c->prev, hash, sizeof c->prev);
    c->last_seq = seq;
    c->begun = true;
    v->head_seq = seq;
    memcpy(v->head, hash, sizeof v->head);
    return true;
}

static int chain_init(struct store *s, struct chain *c, struct store_audit_verdict *v,
                      struct px_err *err)
{
    memset(v, 0, sizeof *v);
    memset(c, 0, sizeof *c);
    c->v = v;
    int rc = audit_archive_head(s, &v->archived_through, c->prev, &v->n_archives, err);
    memcpy(v->head, c->prev, sizeof v->head);
    c->last_seq = v->archived_through;
    return rc;
}

int store_audit_verify(struct store *s, struct store_audit_verdict *v, struct px_err *err)
{
    struct chain c;
    sqlite3_stmt *st = NULL;
    int rc = chain_init(s, &c, v, err);
    if (rc == PX_OK) {
        rc = prepare(s, "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", &st, err);
    }
    bool ok = true;
    while (rc == PX_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = sql_fail(s, err, "reading the audit log");
            break;
        }
        if (ok) {
            ok = chain_step(&c, st);
            if (c.oom) {
                rc = px_fail(err, PX_ENOMEM, "verifying the audit log: out of memory");
            }
        } else {
            v->n_rows++; // counted, no longer checked
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    // the last archive must be the one `audit archive` made: its "audit_archive" row, written in
    // the same transaction, is in the live chain (a forged record, inserted to unlock the
    // delete trigger, has none unless the chain after it is recomputed)
    if (rc == PX_OK && ok && v->n_archives > 0) {
        long long seq = 0;
        bool found = false;
        rc = query_one(s,
                       "SELECT min(seq) FROM audit WHERE action = 'audit_archive' AND seq > "
                       "(SELECT last_seq FROM audit_archives ORDER BY id DESC LIMIT 1) AND "
                       "instr(query, 'sha256 ' || (SELECT file_sha256 FROM audit_archives ORDER "
                       "BY id DESC LIMIT 1)) > 0",
                       &seq, NULL, &found, err);
        if (rc == PX_OK && !found) {
            chain_broken(&c, v->archived_through + 1,
                         "seq %lld: the archive record through seq %lld has no audit_archive row "
                         "in the chain (it was not made by prospect audit archive)",
                         v->archived_through);
        }
    }
    return rc;
}

int store_audit_archive(struct store *s, const char *before, const char *file,
                        const char *channel, const char *actor,
                        const struct store_audit_archive_io *io,
                        struct store_audit_archive_info *info, struct px_err *err)
{
    struct store_audit_verdict v;
    struct chain c;
    sqlite3_stmt *st = NULL;
    memset(info, 0, sizeof *info);
    memset(&c, 0, sizeof c);
    int rc = store_begin(s, err);
    if (rc == PX_OK) {
        rc = chain_init(s, &c, &v, err);
    }
    memcpy(info->start, c.prev, sizeof info->start);
    // the prefix: every row before the first one at or after `before`
    long long last = 0;
    bool found = false;
    if (rc == PX_OK) {
        rc = prepare(s,
                     "SELECT coalesce((SELECT min(seq) FROM audit WHERE time >= ?1) - 1, "
                     "(SELECT max(seq) FROM audit))",
                     &st, err);
    }
    if (rc == PX_OK) {
        sqlite3_bind_text(st, 1, before, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            rc = sql_fail(s, err, "reading the audit log");
        } else if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
            last = sqlite3_column_int64(st, 0);
            found = last > v.archived_through;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == PX_OK && !found) {
        rc = px_fail(err, PX_ENOENT, "no audit row is older than %s", before);
    }
    if (rc == PX_OK) {
        rc = prepare(s, "SELECT " AUDIT_COLS " FROM audit WHERE seq <= ?1 ORDER BY seq", &st,
                     err);
    }
    if (rc == PX_OK) {
        sqlite3_bind_int64(st, 1, last);
    }
    while (rc == PX_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = sql_fail(s, err, "reading the audit log");
        } else if (!chain_step(&c, st)) {
            rc = c.oom ? px_fail(err, PX_ENOMEM, "archiving the audit log: out of memory")
                       : px_fail(err, PX_EFORMAT,
                         "the audit chain is broken: %s; nothing archived (run prospect audit "
                         "verify)",
                         v.problem);
        } else {
            struct store_audit_row r = audit_row_of(st);
            if (info->n_rows == 0) {
                info->first_seq = r.seq;
            }
            info->n_rows++;
            info->last_seq = r.seq;
            rc = io->row(io->user, &r, err);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == PX_OK) {
        memcpy(info->head, c.prev, sizeof info->head);
        rc = io->finish(io->user, info, err);
    }
    if (rc == PX_OK) {
        rc = prepare(s,
                     "INSERT INTO audit_archives (id, time, first_seq, last_seq, n_rows, head, "
                     "file, file_sha256) VALUES ((SELECT coalesce(max(id), 0) + 1 FROM "
                     "audit_archives), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?, ?, ?, ?)",
                     &st, err);
    }
    if (rc == PX_OK) {
        sqlite3_bind_int64(st, 1, info->first_seq);
        sqlite3_bind_int64(st, 2, info->last_seq);
        sqlite3_bind_int64(st, 3, info->n_rows);
        sqlite3_bind_blob(st, 4, info->head, sizeof info->head, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, file, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, info->file_sha256, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sql_fail(s, err, "recording the audit archive");
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == PX_OK) {
        // the sanctioned delete: the trigger lets through only rows the record above covers
        rc = prepare(s, "DELETE FROM audit WHERE seq <= ?1", &st, err);
    }
    if (rc == PX_OK) {
        sqlite3_bind_int64(st, 1, info->last_seq);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = sql_fail(s, err, "removing the archived audit rows");
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (rc == PX_OK) {
        char what[LIMIT_PATH + 160];
        snprintf(what, sizeof what, "seq %lld..%lld (%lld rows) to %s, sha256 %s",
                 info->first_seq, info->last_seq, info->n_rows, file, info->file_sha256);
        struct store_audit_row r = {.channel = channel, .actor = actor, .action = "audit_archive",
                                    .query = what, .customer_ids = "[]"};
        rc = audit_append_tx(s, &r, err);
    }
    if (rc == PX_OK) {
        return store_commit(s, err);
    }
    store_rollback(s);
    return rc;
}

int store_audit_read(struct store *s, const char *since, const char *key_id, size_t limit,
                     store_audit_fn fn, void *user, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    if (limit == 0 || limit > LIMIT_AUDIT_ROWS) {
        return px_fail(err, PX_EINVAL, "audit rows per read must be 1..%d", LIMIT_AUDIT_ROWS);
    }
    // the newest `limit` matching rows, returned oldest first
    int rc =
        prepare(s,
                "SELECT * FROM (SELECT " AUDIT_COLS " FROM audit WHERE (?1 IS NULL OR time >= ?1) "
                "AND (?2 IS NULL OR key_id = ?2) ORDER BY seq DESC LIMIT ?3) ORDER BY seq",
                &st, err);
    if (rc != PX_OK) {
        return rc;
    }
    sqlite3_bind_text(st, 1, since, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    for (;;) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            break;
        }
        if (step != SQLITE_ROW) {
            rc = sql_fail(s, err, "reading the audit log");
            break;
        }
        struct store_audit_row r = audit_row_of(st);
        rc = fn(&r, user, err);
        if (rc != PX_OK) {
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

// ---- snapshots ----

// Tables whose rows a snapshot keeps; every other table is emptied (it may hold API keys or an
// audit trail, which must never travel inside a model bundle).
static bool snapshot_keeps(const char *table)
{
    static const char *const keep[] = {"meta_columns", "customers", "imports", "vectors",
                                       "generations"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        if (strcmp(table, keep[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int snap_fail(sqlite3 *d, const char *dest, struct px_err *err, const char *what)
{
    char why[96] = "";
    if (d != NULL) {
        io_reason(d, why, sizeof why);
    }
    return px_fail(err, sqlite3_errcode(d) == SQLITE_NOMEM ? PX_ENOMEM : PX_EIO, "%s: %s: %s%s",
                   dest, what, d ? sqlite3_errmsg(d) : "out of memory", why);
}

static int snap_count(sqlite3 *d, const char *dest, const char *sql, size_t *n, int *max,
                      struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = PX_OK;
    if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        rc = snap_fail(d, dest, err, "counting the snapshot's rows");
    } else {
        *n = (size_t)sqlite3_column_int64(st, 0);
        if (max != NULL) {
            *max = sqlite3_column_int(st, 1);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int store_snapshot(struct store *s, const char *dest, const char *keep_model_id,
                   struct store_snapshot_stats *stats, struct px_err *err)
{
    sqlite3 *d = NULL;
    sqlite3_stmt *st = NULL;
    bool made = false;
    int rc = PX_OK;
    memset(stats, 0, sizeof *stats);
    if (prepare(s, "VACUUM INTO ?", &st, err) != PX_OK) {
        return px_err_prefix(err, "snapshot");
    }
    sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = sql_fail(s, err, "writing the snapshot");
        px_err_prefix(err, "%s", dest);
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    made = true;
    if (sqlite3_open_v2(dest, &d, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = snap_fail(d, dest, err, "cannot open the snapshot");
        goto done;
    }
    // the audit log's append-only triggers go: the copy's audit table is emptied below, and a
    // snapshot is never written to again
    if (sqlite3_exec(d,
                     "PRAGMA journal_mode = DELETE; PRAGMA secure_delete = ON; BEGIN;"
                     "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS "
                     "audit_no_delete; DROP TRIGGER IF EXISTS audit_archives_no_delete;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = snap_fail(d, dest, err, "preparing the snapshot");
        goto done;
    }
    // collect the names first: deleting while stepping over sqlite_master is not allowed
    char *tables[64];
    size_t n_tables = 0;
    if (sqlite3_prepare_v2(d,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                           "'sqlite\\_%' ESCAPE '\\'",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = snap_fail(d, dest, err, "listing tables");
        goto done;
    }
    int step = SQLITE_ROW;
    while (rc == PX_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name == NULL && sqlite3_errcode(d) == SQLITE_NOMEM) {
            rc = px_fail(err, PX_ENOMEM, "%s: listing tables: out of memory", dest);
            break;
        }
        if (name == NULL || snapshot_keeps(name)) {
            continue;
        }
        if (n_tables == sizeof tables / sizeof tables[0]) {
            rc = px_fail(err, PX_ELIMIT, "%s: more than 64 tables", dest);
        } else if ((tables[n_tables] = sqlite3_mprintf("DELETE FROM \"%w\"", name)) == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory");
        } else {
            n_tables++;
        }
    }
    if (rc == PX_OK && step != SQLITE_DONE) {
        rc = snap_fail(d, dest, err, "listing tables"); // an error, not the end of the list
    }
    sqlite3_finalize(st);
    st = NULL;
    for (size_t i = 0; i < n_tables; i++) {
        if (rc == PX_OK && sqlite3_exec(d, tables[i], NULL, NULL, NULL) != SQLITE_OK) {
            rc = snap_fail(d, dest, err, "emptying a table");
        }
        sqlite3_free(tables[i]);
    }
    if (rc != PX_OK) {
        goto done;
    }
    if (sqlite3_prepare_v2(d,
                           "DELETE FROM vectors WHERE model_id IS NOT ?1 OR customer_id NOT IN "
                           "(SELECT id FROM customers)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = snap_fail(d, dest, err, "filtering vectors");
        goto done;
    }
    if (keep_model_id != NULL) {
        sqlite3_bind_text(st, 1, keep_model_id, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = snap_fail(d, dest, err, "filtering vectors");
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(d, "COMMIT; VACUUM;", NULL, NULL, NULL) != SQLITE_OK) {
        rc = snap_fail(d, dest, err, "compacting the snapshot");
        goto done;
    }
    rc = snap_count(d, dest, "SELECT count(*) FROM customers", &stats->n_customers, NULL, err);
    if (rc == PX_OK) {
        rc = snap_count(d, dest, "SELECT count(*) FROM meta_columns", &stats->n_columns, NULL,
                        err);
    }
    if (rc == PX_OK) {
        rc = snap_count(d, dest, "SELECT count(*), coalesce(max(dim), 0) FROM vectors",
                        &stats->n_vectors, &stats->dim, err);
    }
    if (rc != PX_OK) {
        goto done;
    }
    if (sqlite3_close(d) != SQLITE_OK) {
        rc = snap_fail(d, dest, err, "closing the snapshot");
        goto done;
    }
    d = NULL;
    int fd = open(dest, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        rc = px_fail(err, PX_EIO, "%s: cannot fsync: %s", dest, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
done:
    sqlite3_finalize(st);
    if (d != NULL) {
        sqlite3_exec(d, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(d);
    }
    if (rc != PX_OK && made) {
        unlink(dest);
    }
    return rc;
}
