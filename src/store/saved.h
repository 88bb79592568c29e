// saved.h — saved searches and their alerts, in the store's database (schema version 4).
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
//     UNIQUE (owner, name));
//   CREATE TABLE saved_matches (       -- the customers a saved search matched at its last run
//     saved_id INTEGER NOT NULL, customer_id TEXT NOT NULL,
//     generation INTEGER NOT NULL,     -- the generation it first matched at
//     first_seen TEXT NOT NULL,
//     PRIMARY KEY (saved_id, customer_id)) WITHOUT ROWID;
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
// Removes the search, its matches and its alerts, in one transaction.
int store_saved_delete(struct store *s, long long id, bool *found, struct px_err *err);

// The book's generation (committed imports).
int store_generation(struct store *s, long long *gen, struct px_err *err);

// The customers saved search id matched at its last run, sorted by id bytes (memcmp order).
// *out owned (store_ids_free).
int store_saved_matches(struct store *s, long long id, struct store_ids *out,
                        struct px_err *err);

// One run's change, written in one transaction: the added ids join the matches (first seen
// now, at gen), the gone ones leave, the search's generation becomes gen, and — when anything
// changed and it is not a baseline — an alerts row is appended (*alert_id its id, else 0). new_json / gone_json: the
// JSON arrays of the ids.
struct store_saved_change {
    long long saved_id, generation;
    const char *const *added; // (n_added), borrowed
    size_t n_added;
    const char *const *gone;  // (n_gone), borrowed
    size_t n_gone;
    size_t n_unchanged;
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
