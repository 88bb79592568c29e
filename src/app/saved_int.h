// saved_int.h — what the saved-search files of app/ share (not a public API):
//   saved.c         saved searches: owners, validation, the store rows as JSON
//   book_matches.c  what a saved query matches in the book (uncapped)
//   alerts.c        the alert diff, alert runs, webhooks
//   report.c        reports of every match
#ifndef PX_APP_SAVED_INT_H
#define PX_APP_SAVED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "app_saved.h"
#include "buf.h"
#include "err.h"

struct store;
struct store_saved;

// The rows (book row numbers) a query matches — every row passing its hard filters, or, with
// none, the best LIMIT_SAVED_TOP_MATCHES of its ranking — sorted by customer id (strcmp, the
// store's BINARY order). *rows owned (px_free). *n_filters (may be NULL): the plan's filters.
int saved_matches(struct app_book *b, const char *query, size_t len, uint32_t **rows, size_t *n,
                  size_t *n_filters, struct px_err *err);

// The difference between the last run's matches (prev, sorted) and this run's (cur, sorted;
// both strcmp order, no duplicates): indices into cur of the new ones, into prev of the gone
// ones, and the count of the unchanged. Owned members: saved_diff_free.
struct saved_diff {
    size_t *added; // (n_added) indices into cur
    size_t n_added;
    size_t *gone;  // (n_gone) indices into prev
    size_t n_gone;
    size_t n_unchanged;
};
int saved_diff(const char *const *prev, size_t n_prev, const char *const *cur, size_t n_cur,
               struct saved_diff *d, struct px_err *err);
void saved_diff_free(struct saved_diff *d);

// A saved search as the JSON object the answers hold: {"id", "name", "query", "chips",
// "columns", "sort", "feedback", "webhook", "created", "updated", "generation"}; n_matches
// >= 0 adds "matches".
int saved_json(const struct store_saved *v, long long n_matches, struct buf *out,
               struct px_err *err);
// Opens the store at db_path and reads who's search id (another owner's is PX_ENOENT).
int saved_open_get(const char *db_path, const struct app_saved_who *who, long long id,
                   struct store **st, struct store_saved *v, struct px_err *err);
// One audit row (channel and key / actor from who) with the ids given.
int saved_audit(const char *db_path, const struct app_saved_who *who, const char *action,
                const char *query, const char *plan, const char *ids_json, long long n,
                struct px_err *err);
// The ids (n, sorted) as a stored match set: each NUL-terminated, back to back, into out.
int saved_set_blob(const char *const *ids, size_t n, struct buf *out, struct px_err *err);
// The customer ids of rows as a JSON array into out.
int saved_ids_json(const struct app_book *b, const uint32_t *rows, size_t n, struct buf *out,
                   struct px_err *err);

#endif
