// app_saved.h — the relationship manager's day (issue 15): saved searches, alerts on new
// matches (with an optional webhook), reports of all current matches, and feedback kept with a
// search.
//
// Every call takes the working database (--db, where keys and the audit log live) and, where it
// searches, an open book. Owners: the API key id over HTTP, "cli:<OS user>" on the CLI; a
// caller only sees and changes its own searches (another owner's id is "no such saved search",
// so ids cannot be probed). Every action appends one audit row (app_access.h) before its answer
// leaves: saved_add, saved_update, saved_delete, saved_list, saved_show, saved_run, alerts
// (a listing), alert_run (one per search whose matches changed: the new ids), webhook (one per
// attempt: URL, status, the ids sent), report (every id written).
//
// What a saved search matches: every customer passing the query's hard filters, uncapped; a
// query without any hard filter matches the first page of its ranking (the best
// LIMIT_SAVED_TOP_MATCHES). An alert run compares that set with the one kept from the last run
// and records the new, gone and unchanged customers; saving takes the first set, so an alert
// names customers who arrived after the search was saved.
//
// Thread rules: calls are independent (each opens its own connection); the book may be shared
// (app_book.h).
#ifndef PX_APP_SAVED_H
#define PX_APP_SAVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "app_book.h"
#include "buf.h"
#include "err.h"

// Who asks, for the audit rows: channel "http" (key_id set, or NULL on a keyless loopback) or
// "cli" (actor: the OS user). The owner of their searches is the key id, "cli:<actor>", or
// "local" for a keyless loopback server.
struct app_saved_who {
    const char *channel;
    const char *key_id; // NULL or ""
    const char *actor;  // OS user (cli), else NULL
};
// The owner string of who into out.
void app_saved_owner(const struct app_saved_who *who, char out[80]);

// A search to save or the fields to change. NULL members: the stored (or empty) value.
struct app_saved_input {
    const char *name;     // 1..LIMIT_SAVED_NAME bytes of printable UTF-8
    const char *query;    // the query text
    const char *chips;    // JSON object {"applied": [...], "removed": [...]}
    const char *columns;  // JSON array of column names (each must be a column of the book)
    const char *sort;     // "" or "<column>:asc|desc"
    const char *feedback; // JSON {"up": [ids], "down": [ids]} (each at most LIMIT_FEEDBACK_IDS)
    const char *webhook;  // "" for none, or an http(s) URL
};

// Saves a search (its current matches become the alerts' starting point) and appends
// {"saved": {...}} to out (the saved search as app_saved_show describes it).
int app_saved_add(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                  const struct app_saved_input *in, long long *id, struct buf *out,
                  struct px_err *err);
// Changes the given fields of search id and appends {"saved": {...}}.
int app_saved_update(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     long long id, const struct app_saved_input *in, struct buf *out,
                     struct px_err *err);
// {"saved": [{"id", "name", "query", "chips", "columns", "sort", "feedback", "webhook",
// "created", "updated", "generation", "matches", "new"}]}: who's searches, oldest first; "new"
// is the number of customers of the latest alert.
int app_saved_list(const char *db_path, const struct app_saved_who *who, struct buf *out,
                   struct px_err *err);
// {"saved": {...}, "alerts": [the latest alerts, newest last]}.
int app_saved_show(const char *db_path, const struct app_saved_who *who, long long id,
                   struct buf *out, struct px_err *err);
int app_saved_delete(const char *db_path, const struct app_saved_who *who, long long id,
                     struct px_err *err);
// The id of who's search named (or numbered) ref; PX_ENOENT naming it when there is none.
int app_saved_find(const char *db_path, const struct app_saved_who *who, const char *ref,
                   long long *id, struct px_err *err);
// Runs search id now, re-ranked by the feedback kept with it: the search answer
// (app_feedback_to_json's document, top results) with {"saved": {...}} added — without
// recording anything for alerts.
int app_saved_run(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                  long long id, size_t top, struct buf *out, struct px_err *err);

// ---- feedback: more like these, fewer like these ----

// The search of query re-ranked with the customers marked up (n_up) and down (n_down),
// Rocchio-style (book_feedback.c): on the sentence-transformer vectors when the search ran on
// them (*dense true), else on standardised features and profile terms. The query's hard
// filters still hold: only the candidates it ranked are re-ordered. Unknown ids are
// PX_ENOENT naming them; with no marks it is app_book_search.
int app_book_search_feedback(struct app_book *b, const char *query, size_t len, size_t top,
                             const char *const *up, size_t n_up, const char *const *down,
                             size_t n_down, struct app_result *res, bool *dense,
                             struct px_err *err);
// The answer of a feedback search: app_result_to_json's document with
// "feedback": {"up": [ids], "down": [ids], "space": "vectors" | "features"} after "query".
int app_feedback_to_json(const struct app_book *b, const char *query, size_t len,
                         const char *const *up, size_t n_up, const char *const *down,
                         size_t n_down, bool dense, const struct app_result *res,
                         struct buf *out, struct px_err *err);

// ---- alerts ----

struct app_alerts_params {
    bool all_owners;    // run everyone's searches (cron, the import hook); else who's only
    bool force;         // also the searches whose matches were taken at this generation
    int webhook_attempts; // 0: default (LIMIT_WEBHOOK_ATTEMPTS)
    long webhook_base_ms; // 0: default back-off base (1000 ms)
    long webhook_timeout_ms; // 0: default (5000 ms)
};
struct app_alerts_params app_alerts_default_params(void);

// Runs the saved searches against the book (at the database's current generation) and records
// each change. Appends {"generation", "searches", "ran", "skipped", "changed", "new", "gone",
// "runs": [{"id", "name", "query", "owner", "new", "gone", "unchanged", "new_ids", "alert",
// "webhook": null or {"url", "delivered", "attempts"}}], "seconds"} to out.
int app_alerts_run(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                   const struct app_alerts_params *p, struct buf *out, struct px_err *err);
// {"alerts": [{"id", "saved_id", "name", "query", "time", "generation", "new", "gone",
// "unchanged", "new_ids", "gone_ids", "customers": [rows of the new ones still in the book,
// at most 100]}]}: who's alerts with id > after, newest `limit` (b may be NULL: no rows).
int app_alerts_list(const char *db_path, const struct app_book *b,
                    const struct app_saved_who *who, long long saved_id, long long after,
                    size_t limit, struct buf *out, struct px_err *err);
// After a committed import: runs every owner's saved searches when there are any (opening the
// book from db_path, lexical path), else nothing. *n_new: customers new to some search.
int app_alerts_after_import(const char *db_path, long long *n_runs, long long *n_new,
                            struct px_err *err);

// ---- reports ----

enum app_report_format { APP_REPORT_CSV = 0, APP_REPORT_HTML = 1 };

// Writes every current match of search id (ranked first, then the rest in book order) to
// stream, or atomically to path when path is not NULL, with the query, the applied filters and
// boosts, the time and the book's generation at the top (CSV: "# " comment lines; HTML: a
// header table), then one row per customer with every column. Streamed in chunks: memory does
// not grow with the matches. *n_rows: customers written.
int app_report_write(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     long long id, enum app_report_format fmt, const char *path, FILE *stream,
                     size_t *n_rows, struct px_err *err);
// The same into a sink called with each chunk (the HTTP body); the audit row is written before
// the first byte leaves.
typedef int (*app_report_sink)(void *user, const char *data, size_t len, struct px_err *err);
int app_report_saved(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     long long id, enum app_report_format fmt, app_report_sink sink, void *user,
                     size_t *n_rows, struct px_err *err);
// The same for an unsaved query (the page's "export all N matches"), as CSV.
int app_report_query(const char *db_path, struct app_book *b, const struct app_saved_who *who,
                     const char *query, size_t len, app_report_sink sink, void *user,
                     size_t *n_rows, struct px_err *err);

#endif
