// saved.h — saved searches, their last matches and their alerts, in the store's database
// (schema version 4).
//
//   CREATE TABLE saved_searches (      -- a relationship manager's saved query (issue 15)
//     id INTEGER PRIMARY KEY,
//     owner TEXT NOT NULL,             -- the API key id, or "cli:<OS user>"
//     name TEXT NOT NULL,              -- unique per owner
//     query TEXT NOT NULL,             -- the query text as run (removed chips already cut)
//     chips TEXT NOT NULL,             -- JSON: {"applied": [...], "removed": [...]} as the
//                                      --   page showed them (kept, not interpreted)
//     columns TEXT NOT NULL,           -- JSON array of column names shown ("[]": default)
//     sort TEXT NOT NULL,              -- "" (ranking) or "<column>:asc|desc"
//     feedback TEXT NOT NULL,          -- JSON {"up": [ids], "down": [ids]}
//     webhook TEXT,                    -- http(s) URL the alerts are POSTed to, NULL for none
//     created TEXT NOT NULL, updated TEXT NOT NULL,  -- UTC, ISO 8601
//     generation INTEGER NOT NULL,     -- the book's generation its matches were taken at
//     n_matches INTEGER NOT NULL,      -- the customers it matched at its last run, and their
//     matches BLOB NOT NULL,           --   ids: sorted (byte order), each NUL-terminated
//     UNIQUE (owner, name));
// A search's matches are one BLOB, not a row per customer: a run reads and compares them in
// one merge (an alert run over 100 searches on a 1 M book is bounded by this read), and when
// the foundings equal the stored ones only the generation is written. When each customer
// first matched is in the alerts, whose rows name the new ids with their time and generation.
//   CREATE TABLE alerts (              -- one row per run that found a change
//     id INTEGER PRIMARY KEY, saved_id INTEGER NOT NULL, time TEXT NOT NULL,
//     generation INTEGER NOT NULL, n_new INTEGER NOT NULL, n_gone INTEGER NOT NULL,
//     n_unchanged INTEGER NOT NULL,
//     new_ids TEXT NOT NULL, gone_ids TEXT NOT NULL);  -- JSON arrays
//
// The book's generation is the number of committed imports (rows of `imports`): every import
// that changes customers makes a new one.
//
// Thread rules: those of store.h (one connection, one thread at a time).
#ifndef PX_SAVED_H
#define PX_SAVED_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "store.h"

struct store_saved {
    long long id;
    char *owner, *name, *query, *chips, *columns, *sort, *feedback; // owned, never NULL once read
    char *webhook;                                                  // owned, NULL when none
    char created[32], updated[32];
    long long generation;
    long long n_matches; // customers matched at the last run
};

// Frees the members of v and zeroes it (the struct itself is the caller's).
void store_saved_clear(struct store_saved *v);
void store_saved_list_free(struct store_saved *v, size_t n);

// Inserts v (id, created, updated ignored; NULL chips/columns/sort/feedback get their empty
// values); *id returns the new row's id. An owner's second search of the same name is
// PX_EINVAL naming it.
int store_saved_insert(struct store *s, const struct store_saved *v, long long *id,
                       struct px_err *err);
// Rewrites the mutable fields (name, query, chips, columns, sort, feedback, webhook) of row
// v->id and its updated time. *found false when there is no such row.
int store_saved_update(struct store *s, const struct store_saved *v, bool *found,
                       struct px_err *err);
// Reads row id into *out (owned: store_saved_clear); *found false when there is none.
int store_saved_get(struct store *s, long long id, struct store_saved *out, bool *found,
                    struct px_err *err);
// Every saved search of owner (NULL: everyone's), oldest first. *out owned
// (store_saved_list_free).
int store_saved_list(struct store *s, const char *owner, struct store_saved **out, size_t *n,
                     struct px_err *err);
// Removes the search (its matches with it) and its alerts, in one transaction.
int store_saved_delete(struct store *s, long long id, bool *found, struct px_err *err);

// The book's generation as saved searches record it: the number of committed imports
// (store_generation in store.h gives the index files' counters).
int store_import_generation(struct store *s, long long *gen, struct px_err *err);

// The customers saved search id matched at its last run: ids (n) point into data (owned:
// store_match_set_free), sorted by id bytes (memcmp order).
struct store_match_set {
    char *data;
    size_t len;
    const char **ids;
    size_t n;
};
int store_saved_matches(struct store *s, long long id, struct store_match_set *out,
                        struct px_err *err);
void store_match_set_free(struct store_match_set *m);

// One run's outcome, written in one transaction: the search's generation becomes gen; when its
// matches changed (n_added or n_gone) or this is a baseline, its set becomes set (n_set ids,
// sorted, each NUL-terminated, set_len bytes in all); when they changed and it is not a
// baseline an alerts row is appended (*alert_id its id, else 0). new_json / gone_json: the
// JSON arrays of the added and gone ids.
struct store_saved_change {
    long long saved_id, generation;
    const char *set;
    size_t set_len, n_set;
    size_t n_added, n_gone, n_unchanged;
    const char *new_json, *gone_json;
    bool baseline; // the first set of a search (saved, or its query changed): no alerts row
};
int store_saved_record(struct store *s, const struct store_saved_change *c, long long *alert_id,
                       struct px_err *err);

struct store_alert {
    long long id, saved_id, generation, n_new, n_gone, n_unchanged;
    const char *time, *name, *query, *owner, *new_ids, *gone_ids; // valid during the call
};
typedef int (*store_alert_fn)(const struct store_alert *a, void *user, struct px_err *err);
// Alerts with id > after_id, of owner (NULL: all), of saved search saved_id (0: all), oldest
// first, the newest `limit` of them.
int store_alert_read(struct store *s, const char *owner, long long saved_id, long long after_id,
                     size_t limit, store_alert_fn fn, void *user, struct px_err *err);

#endif
