// app_access.h — API keys and the audit log (app/access.c).
#ifndef PX_APP_ACCESS_H
#define PX_APP_ACCESS_H

#include <stddef.h>
#include "app_book.h"
#include "buf.h"
#include "err.h"
#include "limits.h"

// Both live in the working database (--db). A key is shown once, at creation, as the token
// "pxk_<id>_<secret>" (id: 12 hex digits, public; secret: 64 hex digits, 256 random bits); the
// database keeps only a random salt and sha256(salt || secret). Clients send
// "Authorization: Bearer <token>". Every search and every customer lookup over HTTP or the CLI
// appends one audit row (time, key id or OS user, query text, plan, returned customer ids), and
// so does every refused key (time, client address, the key id when well-formed, the reason);
// the table rejects UPDATE, DELETE and any INSERT that would overwrite a row, and chains the
// rows by hash (app_audit_verify below).

#define APP_KEY_ID_LEN 12
#define APP_KEY_TOKEN_MAX 96 // "pxk_" + 12 + "_" + 64 + NUL fits

struct app_key {
    char id[APP_KEY_ID_LEN + 1];
    char name[LIMIT_KEY_NAME + 1];
    char created[32]; // UTC, ISO 8601
    char revoked[32]; // "" while active
};

// Makes a key named name (1..LIMIT_KEY_NAME printable bytes) in the database at db_path
// (created when missing). token receives the secret token — the only time it exists outside
// the caller; *key (may be NULL) the stored record.
int app_keys_create(const char *db_path, const char *name, struct app_key *key,
                    char token[APP_KEY_TOKEN_MAX], struct px_err *err);
// Every key, oldest first; *out returns owned (px_free).
int app_keys_list(const char *db_path, struct app_key **out, size_t *n, struct px_err *err);
// {"id", "name", "created", "revoked": null or time[, "key": token]} appended to out; token
// (may be NULL) only at creation.
int app_key_json(const struct app_key *k, const char *token, struct buf *out, struct px_err *err);
// Revokes key id (effective for the next request of a running server); PX_ENOENT if none.
int app_keys_revoke(const char *db_path, const char *id, struct px_err *err);

// The server's (or a CLI command's) handle on keys and audit: one connection, serialised by a
// mutex, so any thread may call it.
struct app_access;
int app_access_open(const char *db_path, struct app_access **out, struct px_err *err);
void app_access_close(struct app_access *a);
int app_access_active_keys(struct app_access *a, size_t *n, struct px_err *err);
// The one message of every refused key (missing, malformed, unknown, wrong secret, revoked): a
// client learns nothing about which key ids exist. The reason goes to the log and the audit
// log instead (struct app_auth_failure).
#define APP_AUTH_MESSAGE                                                                          \
    "a valid API key is required: send 'Authorization: Bearer <key>' (prospect keys create)"

struct app_auth_failure {
    char key_id[APP_KEY_ID_LEN + 1]; // the id the token names when it is well-formed, else ""
    const char *reason;              // static: "no key", "not a Bearer token", "malformed key",
                                     // "unknown key", "wrong secret", "revoked key"
};
// Checks an Authorization header value ("Bearer pxk_…"). PX_OK with key_id filled for a valid,
// unrevoked key; PX_EAUTH with APP_AUTH_MESSAGE in err and *why (may be NULL) saying why
// otherwise; another status when the database cannot be read. Records nothing: the caller
// decides (app_access_log_auth_failure), so that a flood can be budgeted before it is written.
int app_access_check(struct app_access *a, const char *authorization,
                     char key_id[APP_KEY_ID_LEN + 1], struct app_auth_failure *why,
                     struct px_err *err);
// Appends the audit row of a refused key: channel ("http"), actor = client (the client's
// address), action "auth_failed", key_id = why->key_id (or NULL), query = why->reason,
// no customers.
int app_access_log_auth_failure(struct app_access *a, const char *channel, const char *client,
                                const struct app_auth_failure *why, struct px_err *err);

struct app_audit_entry {
    const char *key_id;  // NULL when no key was used
    const char *channel; // "http" or "cli"
    const char *actor;   // OS user for "cli", else NULL
    const char *action;  // "search", "invocations", "customer", "similar", the saved-search
                         // actions of app_saved.h ("saved_add", "alert_run", "webhook", ...);
                         // "auth_failed" rows are written by app_access_log_auth_failure,
                         // "failed" ones by app_access_log_failure
    const char *query;   // query text or the customer id asked about (len bytes)
    size_t query_len;
};
// Appends one audit row for res (its plan and returned ids) — or, res NULL, for the single
// customer `row` (customer lookups). Fails closed: callers must not return results that could
// not be logged. Write it once the answer is built, just before it is sent, so that it names
// what was sent.
int app_access_log(struct app_access *a, const struct app_audit_entry *e, const struct app_book *b,
                   const struct app_result *res, long row, struct px_err *err);
// The one audit row of a request that answered n queries (queries[i] NUL-terminated, res[i] its
// answer; e->query is ignored). n == 1: app_access_log's row. n > 1: query is a JSON array of
// the query texts, plan a JSON array of the plans (null where none), customer_ids a JSON array
// of per-query id arrays, n_results the customers sent over all queries.
int app_access_log_batch(struct app_access *a, const struct app_audit_entry *e,
                         const struct app_book *b, const char *const *queries,
                         const struct app_result *res, size_t n, struct px_err *err);
// Appends the row of an answer that failed after its audit row was written (e: the entry
// that row was written with; reason: why, e.g. "the client closed the connection before the
// answer was sent"): action "failed", query "<e->action>: <reason>", no customers.
int app_access_log_failure(struct app_access *a, const struct app_audit_entry *e,
                           const char *reason, struct px_err *err);

// Appends one row of entry e that names its own customers: ids_json, a JSON array of the n
// customer ids sent (or acted on), and plan (JSON, or NULL) — saved searches, alerts, reports,
// webhook attempts. Fails closed like app_access_log.
int app_access_log_ids(struct app_access *a, const struct app_audit_entry *e, const char *plan,
                       const char *ids_json, long long n, struct px_err *err);

struct app_audit_row {
    long long seq;
    const char *time, *key_id, *channel, *actor, *action, *query, *plan, *customer_ids;
    long long n_results;
    const char *hash; // the chain's hash as 64 hex digits; NULL for a row from before the chain
};
// {"seq", "time", "key_id", "channel", "actor", "action", "query", "plan", "n_results",
// "customer_ids", "hash"} appended to out (plan and customer_ids as the JSON stored; null when
// absent).
int app_audit_row_json(const struct app_audit_row *r, struct buf *out, struct px_err *err);
typedef int (*app_audit_fn)(const struct app_audit_row *row, void *user, struct px_err *err);
// Audit rows at or after since (ISO 8601 prefix, or NULL), of key_id (or NULL for all), oldest
// first, the newest `limit` of them.
int app_audit_read(const char *db_path, const char *since, const char *key_id, size_t limit,
                   app_audit_fn fn, void *user, struct px_err *err);

// ---- the audit chain (app/audit_chain.c) ----
// Each row carries sha256(previous row's hash || its canonical content); see store.h. Anyone
// who can write the database can still recompute the whole chain: keep the head hash that
// `audit verify` prints somewhere else to detect that (and a removed tail).
struct app_audit_verdict {
    long long n_rows, n_before_chain; // rows; rows from before the chain (no hash), at the start
    long long archived_through, n_archives; // last archived seq (0: none); archives made
    long long head_seq;                     // the last chained row (0: none)
    char head[65];                          // its hash (hex)
    long long broken_seq;                   // 0 when the chain holds, else the first broken row
    char problem[200];                      // why it breaks
};
// Walks the chain of the database at db_path from the last archive's head. A broken chain is
// PX_OK with broken_seq set.
int app_audit_verify(const char *db_path, struct app_audit_verdict *v, struct px_err *err);
// {"ok", "rows", "before_chain", "archived_through", "archives", "head_seq", "head",
// "broken_seq", "problem"} appended to out.
int app_audit_verdict_json(const struct app_audit_verdict *v, struct buf *out, struct px_err *err);

struct app_audit_archive {
    long long first_seq, last_seq, n_rows;
    char start[65], head[65]; // the chain's hash before the first row and after the last
    char file_sha256[65];     // of the file written
};
// Moves the rows older than before (ISO 8601 prefix) into the new file out_path (refused when
// it exists), atomically: one JSON line per row (as app_audit_row_json, with its hash), then
// {"archive": {"first_seq", "last_seq", "n_rows", "start", "head"}}. The file is written and
// fsynced, then in the same transaction its sha256 and the head are recorded in the database,
// the rows are removed and an "audit_archive" row (channel "cli", actor) is appended. A broken
// chain archives nothing (PX_EFORMAT); no row old enough is PX_ENOENT.
int app_audit_archive(const char *db_path, const char *before, const char *out_path,
                      const char *actor, struct app_audit_archive *res, struct px_err *err);

#endif
