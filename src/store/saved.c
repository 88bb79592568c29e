// saved.c — saved searches, their last matches and their alerts (schema v4, saved.h).
//
// Design:
//   - A saved search is one row; its mutable fields are rewritten whole by store_saved_update
//     (the page sends the whole search back), so there is no field-by-field protocol.
//   - The last matches are one BLOB per search (sorted ids, NUL-terminated): reading one
//     search's set is one column read, split in place, in the byte order the app's diff merges
//     in; a run that finds the same set writes only the generation.
//   - store_saved_record is the one write of a run: matches, generation and the alert row in
//     one transaction, so a crash never leaves an alert without its matches or the reverse
//     (the next run would otherwise report the same customers again, or never).
//   - Deleting a search removes its alerts in the same transaction (no foreign keys: the
//     store never turned PRAGMA foreign_keys on, and one place deletes).
#include "saved.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "store_int.h"

static char *dup_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (t == NULL) {
        return NULL;
    }
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    char *s = px_malloc(n + 1);
    if (s != NULL) {
        memcpy(s, t, n);
        s[n] = '\0';
    }
    return s;
}

void store_saved_clear(struct store_saved *v)
{
    if (v == NULL) return;
    px_free(v->owner);
    px_free(v->name);
    px_free(v->query);
    px_free(v->chips);
    px_free(v->columns);
    px_free(v->sort);
    px_free(v->feedback);
    px_free(v->webhook);
    memset(v, 0, sizeof *v);
}

void store_saved_list_free(struct store_saved *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        store_saved_clear(&v[i]);
    }
    px_free(v);
}

static int prep(struct store *s, const char *sql, sqlite3_stmt **st, struct px_err *err)
{
    if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return store_sql_fail(s, err, "preparing a statement");
    }
    return PX_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v, const char *dflt)
{
    if (v == NULL) v = dflt;
    if (v == NULL) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    }
}

#define SAVED_COLS                                                                                \
    "id, owner, name, query, chips, columns, sort, feedback, webhook, created, updated, "        \
    "generation, n_matches"

static int read_row(sqlite3_stmt *st, struct store_saved *v, struct px_err *err)
{
    memset(v, 0, sizeof *v);
    v->id = sqlite3_column_int64(st, 0);
    v->owner = dup_col(st, 1);
    v->name = dup_col(st, 2);
    v->query = dup_col(st, 3);
    v->chips = dup_col(st, 4);
    v->columns = dup_col(st, 5);
    v->sort = dup_col(st, 6);
    v->feedback = dup_col(st, 7);
    v->webhook = dup_col(st, 8);
    snprintf(v->created, sizeof v->created, "%s", (const char *)sqlite3_column_text(st, 9));
    snprintf(v->updated, sizeof v->updated, "%s", (const char *)sqlite3_column_text(st, 10));
    v->generation = sqlite3_column_int64(st, 11);
    v->n_matches = sqlite3_column_int64(st, 12);
    if (v->owner == NULL || v->name == NULL || v->query == NULL || v->chips == NULL ||
        v->columns == NULL || v->sort == NULL || v->feedback == NULL ||
        (v->webhook == NULL && sqlite3_column_type(st, 8) != SQLITE_NULL)) {
        store_saved_clear(v);
        return px_fail(err, PX_ENOMEM, "out of memory reading a saved search");
    }
    return PX_OK;
}

int store_saved_insert(struct store *s, const struct store_saved *v, long long *id,
                       struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s,
                  "INSERT INTO saved_searches (owner, name, query, chips, columns, sort, feedback,"
                  " webhook, created, updated, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                  " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
                  " ?)",
                  &st, err);
    if (rc != PX_OK) return rc;
    bind_text(st, 1, v->owner, "");
    bind_text(st, 2, v->name, "");
    bind_text(st, 3, v->query, "");
    bind_text(st, 4, v->chips, "{\"applied\": [], \"removed\": []}");
    bind_text(st, 5, v->columns, "[]");
    bind_text(st, 6, v->sort, "");
    bind_text(st, 7, v->feedback, "{\"up\": [], \"down\": []}");
    bind_text(st, 8, v->webhook && v->webhook[0] ? v->webhook : NULL, NULL);
    sqlite3_bind_int64(st, 9, v->generation);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT) {
        rc = px_fail(err, PX_EINVAL, "a saved search named '%s' exists already", v->name);
    } else if (step != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "saving a search");
    } else {
        *id = sqlite3_last_insert_rowid(store_sqlite(s));
    }
    sqlite3_finalize(st);
    return rc;
}

int store_saved_update(struct store *s, const struct store_saved *v, bool *found,
                       struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s,
                  "UPDATE saved_searches SET name = ?, query = ?, chips = ?, columns = ?, sort = ?,"
                  " feedback = ?, webhook = ?, updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                  " WHERE id = ?",
                  &st, err);
    if (rc != PX_OK) return rc;
    bind_text(st, 1, v->name, "");
    bind_text(st, 2, v->query, "");
    bind_text(st, 3, v->chips, "{\"applied\": [], \"removed\": []}");
    bind_text(st, 4, v->columns, "[]");
    bind_text(st, 5, v->sort, "");
    bind_text(st, 6, v->feedback, "{\"up\": [], \"down\": []}");
    bind_text(st, 7, v->webhook && v->webhook[0] ? v->webhook : NULL, NULL);
    sqlite3_bind_int64(st, 8, v->id);
    int step = sqlite3_step(st);
    if (step == SQLITE_CONSTRAINT) {
        rc = px_fail(err, PX_EINVAL, "a saved search named '%s' exists already", v->name);
    } else if (step != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "updating a saved search");
    } else {
        *found = sqlite3_changes(store_sqlite(s)) > 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_saved_get(struct store *s, long long id, struct store_saved *out, bool *found,
                    struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    *found = false;
    int rc = prep(s, "SELECT " SAVED_COLS " FROM saved_searches WHERE id = ?", &st, err);
    if (rc != PX_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = read_row(st, out, err);
        *found = rc == PX_OK;
    } else if (step != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "reading a saved search");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_saved_list(struct store *s, const char *owner, struct store_saved **out, size_t *n,
                     struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = prep(s,
                  "SELECT " SAVED_COLS " FROM saved_searches WHERE ?1 IS NULL OR owner = ?1"
                  " ORDER BY id",
                  &st, err);
    if (rc != PX_OK) return rc;
    bind_text(st, 1, owner, NULL);
    size_t cap = 0;
    int step;
    while (rc == PX_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 8;
            struct store_saved *g = px_realloc(*out, nc * sizeof *g);
            if (g == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory listing saved searches");
                break;
            }
            *out = g;
            cap = nc;
        }
        rc = read_row(st, &(*out)[*n], err);
        if (rc == PX_OK) (*n)++;
    }
    if (rc == PX_OK && step != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "listing saved searches");
    }
    sqlite3_finalize(st);
    if (rc != PX_OK) {
        store_saved_list_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static int exec_id(struct store *s, const char *sql, long long id, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, sql, &st, err);
    if (rc != PX_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "deleting a saved search");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_saved_delete(struct store *s, long long id, bool *found, struct px_err *err)
{
    *found = false;
    int rc = store_begin(s, err);
    if (rc != PX_OK) return rc;
    rc = exec_id(s, "DELETE FROM alerts WHERE saved_id = ?", id, err);
    if (rc == PX_OK) rc = exec_id(s, "DELETE FROM saved_searches WHERE id = ?", id, err);
    if (rc == PX_OK) {
        *found = sqlite3_changes(store_sqlite(s)) > 0;
        rc = store_commit(s, err);
    }
    if (rc != PX_OK) store_rollback(s);
    return rc;
}

int store_import_generation(struct store *s, long long *gen, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s, "SELECT count(*) FROM imports", &st, err);
    if (rc != PX_OK) return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
    } else {
        rc = store_sql_fail(s, err, "reading the book's generation");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_saved_matches(struct store *s, long long id, struct store_match_set *out,
                        struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    int rc = prep(s, "SELECT matches, n_matches FROM saved_searches WHERE id = ?", &st, err);
    if (rc != PX_OK) return rc;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        long long n = sqlite3_column_int64(st, 1);
        out->data = px_malloc(len + 1);
        out->ids = px_malloc((size_t)(n > 0 ? n : 1) * sizeof *out->ids);
        if (out->data == NULL || out->ids == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading a saved search's matches");
        } else {
            if (len > 0) memcpy(out->data, blob, len);
            out->data[len] = '\0';
            out->len = len;
            for (size_t off = 0; off < len && out->n < (size_t)n;) {
                out->ids[out->n++] = out->data + off;
                off += strlen(out->data + off) + 1;
            }
            if (out->n != (size_t)n || (len > 0 && out->data[len - 1] != '\0')) {
                rc = px_fail(err, PX_EFORMAT, "saved search %lld: its stored matches are damaged",
                             id);
            }
        }
    } else if (step != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "reading a saved search's matches");
    }
    sqlite3_finalize(st);
    if (rc != PX_OK) {
        store_match_set_free(out);
    }
    return rc;
}

void store_match_set_free(struct store_match_set *m)
{
    px_free(m->data);
    px_free(m->ids);
    memset(m, 0, sizeof *m);
}

static int record_tx(struct store *s, const struct store_saved_change *c, long long *alert_id,
                     struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    bool changed = c->n_added > 0 || c->n_gone > 0;
    int rc;
    if (changed || c->baseline) {
        rc = prep(s, "UPDATE saved_searches SET generation = ?, matches = ?, n_matches = ?"
                     " WHERE id = ?",
                  &st, err);
        if (rc == PX_OK) {
            sqlite3_bind_int64(st, 1, c->generation);
            sqlite3_bind_blob64(st, 2, c->set ? c->set : "", c->set_len, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (long long)c->n_set);
            sqlite3_bind_int64(st, 4, c->saved_id);
        }
    } else {
        rc = prep(s, "UPDATE saved_searches SET generation = ? WHERE id = ?", &st, err);
        if (rc == PX_OK) {
            sqlite3_bind_int64(st, 1, c->generation);
            sqlite3_bind_int64(st, 2, c->saved_id);
        }
    }
    if (rc == PX_OK && sqlite3_step(st) != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "recording a saved search's matches");
    }
    sqlite3_finalize(st);
    st = NULL;
    *alert_id = 0;
    if (rc == PX_OK && !c->baseline && changed) {
        rc = prep(s,
                  "INSERT INTO alerts (saved_id, time, generation, n_new, n_gone, n_unchanged,"
                  " new_ids, gone_ids) VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?,"
                  " ?, ?, ?)",
                  &st, err);
        if (rc == PX_OK) {
            sqlite3_bind_int64(st, 1, c->saved_id);
            sqlite3_bind_int64(st, 2, c->generation);
            sqlite3_bind_int64(st, 3, (long long)c->n_added);
            sqlite3_bind_int64(st, 4, (long long)c->n_gone);
            sqlite3_bind_int64(st, 5, (long long)c->n_unchanged);
            bind_text(st, 6, c->new_json, "[]");
            bind_text(st, 7, c->gone_json, "[]");
            if (sqlite3_step(st) != SQLITE_DONE) {
                rc = store_sql_fail(s, err, "recording an alert");
            } else {
                *alert_id = sqlite3_last_insert_rowid(store_sqlite(s));
            }
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int store_saved_record(struct store *s, const struct store_saved_change *c, long long *alert_id,
                       struct px_err *err)
{
    int rc = store_begin(s, err);
    if (rc != PX_OK) return rc;
    rc = record_tx(s, c, alert_id, err);
    if (rc == PX_OK) rc = store_commit(s, err);
    if (rc != PX_OK) {
        store_rollback(s);
        *alert_id = 0;
    }
    return rc;
}

int store_alert_read(struct store *s, const char *owner, long long saved_id, long long after_id,
                     size_t limit, store_alert_fn fn, void *user, struct px_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(s,
                  "SELECT * FROM (SELECT a.id, a.saved_id, a.generation, a.n_new, a.n_gone,"
                  " a.n_unchanged, a.time, s.name, s.query, s.owner, a.new_ids, a.gone_ids"
                  " FROM alerts a JOIN saved_searches s ON s.id = a.saved_id"
                  " WHERE a.id > ?1 AND (?2 IS NULL OR s.owner = ?2) AND (?3 = 0 OR a.saved_id = ?3)"
                  " ORDER BY a.id DESC LIMIT ?4) ORDER BY id",
                  &st, err);
    if (rc != PX_OK) return rc;
    sqlite3_bind_int64(st, 1, after_id);
    bind_text(st, 2, owner, NULL);
    sqlite3_bind_int64(st, 3, saved_id);
    sqlite3_bind_int64(st, 4, (long long)limit);
    int step;
    while (rc == PX_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_alert a = {
            .id = sqlite3_column_int64(st, 0),
            .saved_id = sqlite3_column_int64(st, 1),
            .generation = sqlite3_column_int64(st, 2),
            .n_new = sqlite3_column_int64(st, 3),
            .n_gone = sqlite3_column_int64(st, 4),
            .n_unchanged = sqlite3_column_int64(st, 5),
            .time = (const char *)sqlite3_column_text(st, 6),
            .name = (const char *)sqlite3_column_text(st, 7),
            .query = (const char *)sqlite3_column_text(st, 8),
            .owner = (const char *)sqlite3_column_text(st, 9),
            .new_ids = (const char *)sqlite3_column_text(st, 10),
            .gone_ids = (const char *)sqlite3_column_text(st, 11),
        };
        if (a.time == NULL || a.name == NULL || a.query == NULL || a.owner == NULL ||
            a.new_ids == NULL || a.gone_ids == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading alerts");
            break;
        }
        rc = fn(&a, user, err);
    }
    if (rc == PX_OK && step != SQLITE_DONE) {
        rc = store_sql_fail(s, err, "reading alerts");
    }
    sqlite3_finalize(st);
    return rc;
}
