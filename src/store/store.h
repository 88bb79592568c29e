// store.h — the customer store: one SQLite database file (`--db FILE`, default ./prospect.db)
// holding the imported customers, the column schema inferred at import, an import log, and
// embedding vectors per customer per model.
//
// Thread rules: a struct store is one SQLite connection; use it from one thread at a time (open
// one store per thread to read concurrently; the file is in WAL mode so readers do not block the
// writer). Every error from SQLite is copied into the caller's px_err at once.
//
// Schema (version 1, kept in PRAGMA user_version; PRAGMA application_id = 0x50525350 "PRSP"
// marks a prospect database):
//
//   CREATE TABLE meta_columns (        -- one row per imported CSV column
//     position INTEGER PRIMARY KEY,    -- 1, 2, ...: the column's SQL name in customers is
//                                      --   "c<position>" (header names are kept here, so any
//                                      --   header, quotes and case-twins included, is safe)
//     name     TEXT NOT NULL UNIQUE,   -- the original header, exactly as in the file
//     label    TEXT NOT NULL,          -- humanised ("CCAvg" -> "CC avg"), coltype_label
//     type     TEXT NOT NULL,          -- coltype_name: text category list bool integer real
//                                      --   currency percent date
//     is_id    INTEGER NOT NULL DEFAULT 0);  -- 1 for the id column (exactly one)
//   CREATE TABLE customers (           -- insertion order (rowid) is the customer order
//     id TEXT NOT NULL PRIMARY KEY,    -- the id column's value as text
//     c1 <INTEGER|REAL|TEXT>, ...);    -- added by ALTER TABLE as imports bring new columns;
//                                      --   INTEGER: bool (0/1), integer; REAL: real, currency
//                                      --   (units), percent (85 for "85%"); TEXT: date
//                                      --   (YYYY-MM-DD), category, list ("A; B"), text;
//                                      --   NULL: missing
//   CREATE TABLE imports (             -- one row per committed import
//     id INTEGER PRIMARY KEY, time TEXT NOT NULL,  -- UTC, ISO 8601
//     file TEXT NOT NULL, bytes INTEGER NOT NULL,
//     rows_read INTEGER NOT NULL, rows_inserted INTEGER NOT NULL,
//     rows_updated INTEGER NOT NULL, rows_failed INTEGER NOT NULL);
//   CREATE TABLE vectors (             -- embeddings; a model is named by its sha256 (hex)
//     customer_id TEXT NOT NULL, model_id TEXT NOT NULL,
//     dim INTEGER NOT NULL,            -- floats in vec
//     vec BLOB NOT NULL,               -- dim little-endian float32
//     PRIMARY KEY (customer_id, model_id)) WITHOUT ROWID;
//
// Version 2 adds the operations side — API keys and the audit log:
//
//   CREATE TABLE api_keys (            -- `prospect keys`; the secret itself is never stored
//     id TEXT PRIMARY KEY,             -- 12 hex digits, public: shown in lists, logs, audit
//     name TEXT NOT NULL,              -- a label for people ("rm-desk-3")
//     salt BLOB NOT NULL,              -- 16 random bytes
//     hash BLOB NOT NULL,              -- sha256(salt || secret), 32 bytes
//     created TEXT NOT NULL,           -- UTC, ISO 8601
//     revoked TEXT);                   -- UTC when revoked, NULL while active
//   CREATE TABLE audit (               -- who looked at which customers; append-only (triggers
//     seq INTEGER PRIMARY KEY,         --   abort any UPDATE or DELETE; see version 3)
//     time TEXT NOT NULL,              -- UTC, ISO 8601 with milliseconds
//     key_id TEXT,                     -- the API key used, NULL when none was needed
//     channel TEXT NOT NULL,           -- "http" or "cli"
//     actor TEXT,                      -- the OS user for "cli"; for "http", the client's
//                                      --   address on "auth_failed" rows, else NULL (key_id)
//     action TEXT NOT NULL,            -- "search", "invocations", "customer", "similar",
//                                      --   "auth_failed" (a refused API key)
//     query TEXT NOT NULL,             -- the query text, the customer id asked about, or
//                                      --   why a key was refused
//     plan TEXT,                       -- the query plan's JSON (filters, boosts), NULL if none
//     n_results INTEGER NOT NULL,
//     customer_ids TEXT NOT NULL);     -- JSON array of the returned customer ids, in order
//
// Version 3 chains the audit log (issue 17):
//
//   ALTER TABLE audit ADD COLUMN hash BLOB;  -- sha256(previous row's hash || this row's
//                                            --   canonical content); NULL: before the chain
//   CREATE TABLE audit_archives (            -- one row per `prospect audit archive`; append-only
//     id INTEGER PRIMARY KEY, time TEXT NOT NULL,
//     first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, n_rows INTEGER NOT NULL,
//     head BLOB NOT NULL,                    -- the chain's hash after last_seq: the next row's
//                                            --   predecessor
//     file TEXT NOT NULL, file_sha256 TEXT NOT NULL);  -- where the rows went, and its hash
//
// Triggers: UPDATE refused; DELETE refused unless an archive record covers the row; INSERT
// refused unless its seq is above every row's and every archived seq (so REPLACE / INSERT OR
// REPLACE cannot overwrite a row).
//
// Version 4 adds saved searches, their last matches and their alerts (issue 15): the tables
// and their functions are in saved.h.
//
// Version 5 counts changes (issue 12: a book's index file records the counters it was built at):
//
//   CREATE TABLE generations (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
//   -- rows 'customers' and 'vectors'; AFTER INSERT / UPDATE / DELETE triggers on customers and
//   -- vectors add 1 (an INSERT OR REPLACE counts as an insert)
#ifndef PX_STORE_H
#define PX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coltype.h"
#include "err.h"
#include "limits.h"

#define STORE_SCHEMA_VERSION 5
#define STORE_APPLICATION_ID 0x50525350

struct store;

struct store_params {
    bool read_only;      // open without write access (default false)
    int busy_timeout_ms; // wait this long for another writer's lock (default 5000)
};

struct store_params store_default_params(void);

// Opens (creating when missing, unless read_only) the database at path (":memory:" for a
// private in-memory one) and migrates it to STORE_SCHEMA_VERSION. params NULL = defaults.
// *out returns owned (store_close). A file that is not a prospect database, or one from a newer
// version, is PX_EFORMAT. A read-only open is not migrated: it accepts versions 1..current, and
// the tables of later versions are then missing (reading them fails with PX_EIO).
int store_open(const char *path, const struct store_params *params, struct store **out,
               struct px_err *err);
// A new private in-memory store, already at STORE_SCHEMA_VERSION: what store_open(":memory:")
// gives, at a fraction of the cost (a copy of an empty store's image made once per process,
// which stays allocated). For code that opens many throwaway stores (the fuzz targets).
int store_open_memory(struct store **out, struct px_err *err);
// NULL is a no-op. Rolls back an open transaction.
void store_close(struct store *s);

// Transactions (BEGIN IMMEDIATE / COMMIT / ROLLBACK); no nesting. store_rollback never fails
// the caller (it is used on error paths) and is a no-op outside a transaction.
int store_begin(struct store *s, struct px_err *err);
int store_commit(struct store *s, struct px_err *err);
void store_rollback(struct store *s);

// ---- schema ----

struct store_column {
    int position; // 1-based; SQL column "c<position>"
    char *name;   // owned by the schema
    char *label;  // owned by the schema
    enum coltype type;
    bool is_id;
};

struct store_schema {
    struct store_column *cols; // (n_cols) ordered by position
    size_t n_cols;
    int i_id; // index into cols of the id column; -1 before the first import
};

// Reads the columns into *out (returns owned: store_schema_free). Empty before any import.
int store_schema(struct store *s, struct store_schema *out, struct px_err *err);
void store_schema_free(struct store_schema *sc);
// Index of the column named name in sc, or -1.
int store_schema_find(const struct store_schema *sc, const char *name);

// Adds a column (meta_columns row + ALTER TABLE customers ADD COLUMN); *position returns its
// position. Use inside a transaction to keep imports atomic.
int store_add_column(struct store *s, const char *name, const char *label, enum coltype type,
                     bool is_id, int *position, struct px_err *err);

// ---- customers ----

int store_count_customers(struct store *s, size_t *n, struct px_err *err);
// The store's generation, what a book's index file is checked against: gen[0] = the id of the
// last committed import (0 before any), gen[1] / gen[2] = the vectors' / the customers' change
// counters (table generations, moved by triggers on every insert, update and delete).
int store_generation(struct store *s, uint64_t gen[3], struct px_err *err);

// An upsert statement for a fixed list of columns: store_upsert_new, store_upsert_row per row,
// store_upsert_free. Valid while the store is open.
struct store_upsert;
// positions: (n) column positions the rows will carry, borrowed for the call; types (n) their
// types (what the values hold). *out returns owned (store_upsert_free).
int store_upsert_new(struct store *s, const int *positions, const enum coltype *types, size_t n,
                     struct store_upsert **out, struct px_err *err);
// Inserts customer id with vals (n, in the order given to store_upsert_new; missing -> NULL), or
// updates those columns of an existing one (other columns keep their values). *inserted says
// which happened.
int store_upsert_row(struct store_upsert *u, const char *id, size_t id_len,
                     const struct coltype_value *vals, bool *inserted, struct px_err *err);
void store_upsert_free(struct store_upsert *u);

// Duplicate-id check for one import: store_dedup_reset empties a TEMP table of ids seen;
// store_dedup_check records id (seen on line) and sets *first_line to 0 when it is new, or to the
// line it was first seen on. Use inside the import's transaction.
int store_dedup_reset(struct store *s, struct px_err *err);
int store_dedup_check(struct store *s, const char *id, size_t id_len, size_t line,
                      size_t *first_line, struct px_err *err);

// Row-wise read in customer order: store_iter_new, then store_iter_next until *has_row is false.
// Values are typed by the schema given at store_iter_new (it must outlive the iterator).
struct store_iter;
int store_iter_new(struct store *s, const struct store_schema *sc, struct store_iter **out,
                   struct px_err *err);
// *id and *vals ((sc->n_cols) values, in schema order; text borrowed) are valid until the next
// store_iter_next / store_iter_free.
int store_iter_next(struct store_iter *it, bool *has_row, const char **id,
                    const struct coltype_value **vals, struct px_err *err);
void store_iter_free(struct store_iter *it);

// Appends a row to the imports log.
struct store_import_log {
    const char *file; // borrowed
    uint64_t bytes;
    size_t rows_read, rows_inserted, rows_updated, rows_failed;
};
int store_log_import(struct store *s, const struct store_import_log *log, struct px_err *err);

// ---- vectors ----

// Stores n vectors (n, dim) row-major for ids (n, borrowed) under model_id, replacing any
// previous vector of the same (customer, model), in one transaction of its own (so a killed
// indexer loses at most the batch in flight and never leaves half of one). Rejects dim outside
// 1..LIMIT_VECTOR_DIM and non-finite values (naming the row and element).
int store_put_vectors(struct store *s, const char *model_id, const char *const *ids,
                      const float *vecs, size_t n, int dim, struct px_err *err);

struct store_ids {
    char **ids; // (n) owned strings
    size_t n;
};
// Ids of the customers (in customer order) that have no vector for model_id. *out returns owned
// (store_ids_free).
int store_customers_without_vector(struct store *s, const char *model_id, struct store_ids *out,
                                   struct px_err *err);
void store_ids_free(struct store_ids *ids);

struct store_vectors {
    char **ids;  // (n) owned
    float *data; // (n, dim) owned, row-major
    size_t n;
    int dim; // 0 when n == 0
};
// All vectors of model_id for existing customers, in customer order. *out returns owned
// (store_vectors_free). Vectors of different dimensions under one model are PX_EFORMAT.
int store_load_vectors(struct store *s, const char *model_id, struct store_vectors *out,
                       struct px_err *err);
void store_vectors_free(struct store_vectors *v);

// ---- API keys ----

#define STORE_KEY_ID_LEN 12 // hex digits
#define STORE_KEY_SALT_LEN 16
#define STORE_KEY_HASH_LEN 32

struct store_key {
    char id[STORE_KEY_ID_LEN + 1];
    char name[LIMIT_KEY_NAME + 1];
    char created[32]; // UTC, ISO 8601
    char revoked[32]; // "" while active
};

// Adds a key (id unique; name 1..LIMIT_KEY_NAME bytes); created is set to now.
int store_key_insert(struct store *s, const char *id, const char *name,
                     const unsigned char salt[STORE_KEY_SALT_LEN],
                     const unsigned char hash[STORE_KEY_HASH_LEN], struct px_err *err);
// Looks a key up by id: *found false when there is none; otherwise key, salt and hash filled
// (key, salt, hash may be NULL when not wanted).
int store_key_get(struct store *s, const char *id, struct store_key *key,
                  unsigned char salt[STORE_KEY_SALT_LEN], unsigned char hash[STORE_KEY_HASH_LEN],
                  bool *found, struct px_err *err);
// Every key, oldest first. *out returns owned (px_free), *n entries.
int store_key_list(struct store *s, struct store_key **out, size_t *n, struct px_err *err);
// Marks a key revoked (now); revoking a revoked key keeps its first time. *found false when
// there is no such key.
int store_key_revoke(struct store *s, const char *id, bool *found, struct px_err *err);
// Keys that are not revoked.
int store_key_count_active(struct store *s, size_t *n, struct px_err *err);

// ---- audit log ----

#define STORE_AUDIT_HASH_LEN 32

struct store_audit_row {
    long long seq;       // filled when read; store_audit_append takes the next one
    const char *time;    // filled when read; store_audit_append uses now
    const char *key_id;  // NULL when none
    const char *channel; // "http", "cli"
    const char *actor;   // OS user of a CLI call, the client address of a refused key, or NULL
    const char *action;  // "search", "invocations", "customer", "similar"
    const char *query;   // query text or the customer id asked about
    const char *plan;    // JSON, or NULL
    long long n_results;
    const char *customer_ids; // JSON array
    const unsigned char *hash; // filled when read: STORE_AUDIT_HASH_LEN bytes, NULL before the
                               // chain; ignored by store_audit_append
};

// Appends one row in a transaction of its own (WAL, synchronous NORMAL: durable across a
// process crash once this returns), chained: seq = the last seq + 1, hash = sha256 of the
// previous row's hash (the last archive's head, or 32 zero bytes, when there is none) and this
// row's canonical content (every column's SQLite type, byte length and bytes, in order).
int store_audit_append(struct store *s, const struct store_audit_row *row, struct px_err *err);
// Called per row read; the row's strings are valid during the call only. A non-PX_OK return
// stops the read and is returned.
typedef int (*store_audit_fn)(const struct store_audit_row *row, void *user, struct px_err *err);
// Rows with time >= since (ISO 8601 prefix such as "2026-11-26" or "2026-11-26T10:00"; NULL for
// all), of key_id when not NULL, oldest first, at most limit rows (the newest ones when more
// match).
int store_audit_read(struct store *s, const char *since, const char *key_id, size_t limit,
                     store_audit_fn fn, void *user, struct px_err *err);

// What `audit verify` found: the chain walked from the last archive's head (or the start).
struct store_audit_verdict {
    long long n_rows;           // rows in the table
    long long n_before_chain;   // rows from before version 3 (no hash), at the start
    long long archived_through; // last archived seq (0: nothing archived)
    long long n_archives;
    long long head_seq;         // the last chained row (0: none)
    unsigned char head[STORE_AUDIT_HASH_LEN]; // its hash (the chain's start when none)
    long long broken_seq;       // 0 when the chain holds, else the first row that breaks it
    char problem[200];          // why it breaks
};
// Walks every row oldest first. A broken chain is PX_OK with broken_seq set; only a failure to
// read is an error.
int store_audit_verify(struct store *s, struct store_audit_verdict *v, struct px_err *err);

struct store_audit_archive_info {
    long long first_seq, last_seq, n_rows;
    unsigned char start[STORE_AUDIT_HASH_LEN]; // the hash before first_seq
    unsigned char head[STORE_AUDIT_HASH_LEN];  // the hash after last_seq
    char file_sha256[65];                      // filled by io->finish
};
// The writer of an archive file: row() per archived row, oldest first; finish() once after
// them (info complete but file_sha256, which it fills) writes the file durably. Both run inside
// the archive's transaction: a failure rolls it back and no row is removed.
struct store_audit_archive_io {
    int (*row)(void *user, const struct store_audit_row *r, struct px_err *err);
    int (*finish)(void *user, struct store_audit_archive_info *info, struct px_err *err);
    void *user;
};
// Moves the rows older than `before` (an ISO 8601 prefix; the rows from the oldest up to the
// first one at or after it) out of the table, in one transaction: verifies their chain (a
// broken chain is PX_EFORMAT: nothing is archived), hands them to io, records the archive
// (file, its sha256, the head hash) in audit_archives, deletes them and appends an
// "audit_archive" row (channel, actor given) saying so. No row old enough: PX_ENOENT.
int store_audit_archive(struct store *s, const char *before, const char *file,
                        const char *channel, const char *actor,
                        const struct store_audit_archive_io *io,
                        struct store_audit_archive_info *info, struct px_err *err);

// ---- snapshots (model bundles) ----

struct store_snapshot_stats {
    size_t n_customers; // rows in customers
    size_t n_columns;   // rows in meta_columns
    size_t n_vectors;   // vectors kept
    int dim;            // their dimension (0 when none)
};

// Writes a self-contained copy of the customer data to dest (which must not exist): customers,
// meta_columns, imports, and the vectors of keep_model_id only (NULL keeps none). Every other
// table (API keys, audit, ...) is emptied in the copy, which is then vacuumed (secure_delete,
// so no freed page keeps their rows), switched to rollback journal mode (so it can be opened
// read-only without -wal/-shm files) and fsynced. A consistent snapshot even while another
// process writes (VACUUM INTO reads in one transaction). On failure dest is removed.
int store_snapshot(struct store *s, const char *dest, const char *keep_model_id,
                   struct store_snapshot_stats *stats, struct px_err *err);

#endif
