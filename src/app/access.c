// access.c — API keys and the audit log: who may ask, and who asked for which customers.
//
// Keys. A token is "pxk_<id>_<secret>": id = 6 random bytes as 12 hex digits (public, the
// database row's key, shown in lists, logs and the audit log), secret = 32 random bytes as 64
// hex digits. Stored: a 16-byte random salt and sha256(salt || secret bytes). The secret has 256
// bits of entropy, so it cannot be guessed or brute-forced from the hash; the salt only keeps
// equal secrets from giving equal rows. (Slow password hashes — bcrypt, argon2 — exist for
// low-entropy human passwords, and would cost every request milliseconds for nothing here.)
// Checking: parse the token, look the id up, recompute the hash, compare in constant time,
// refuse revoked keys. Revocation is a row update, so a running server honours it at once.
// Every refusal carries the same message (APP_AUTH_MESSAGE), so a client cannot learn which
// key ids exist; an unknown id is hashed like a known one, so timing does not tell either. The
// reason is the caller's to log and record (app_access_log_auth_failure: an "auth_failed" row
// with the client's address, the key id when well-formed and the reason).
//
// Audit. One row per request — a search, an MLflow batch (however many queries), a customer
// lookup or a similar-customers call —, written once the answer is fully built and before it
// leaves (fail closed: a row that cannot be written means no answer), so a row names what was
// sent, not what was searched. The row holds the key id (or the OS user for the CLI), the query
// text, the query plan, and the returned ids as a JSON array; a batch of several queries holds
// them as JSON arrays, one item per query (app_access_log_batch). An answer that fails after
// its row (the client goes away mid-send) adds a "failed" row naming the action and why. One
// row per refused key too ("auth_failed": the client's address as actor, the claimed id, the
// reason). The store chains every row (sha256 of the previous hash and the row); verifying the
// chain and archiving old rows is audit_chain.c's.
//
// Threads: struct app_access owns one SQLite connection guarded by a mutex.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app_access.h"
#include "app_book.h"
#include "fsx.h"
#include "jsonx.h"
#include "mem.h"
#include "secrand.h"
#include "sha256.h"
#include "store.h"
#include "audit_int.h"

_Static_assert(APP_KEY_ID_LEN == STORE_KEY_ID_LEN, "key id length");

#define TOKEN_PREFIX "pxk_"
#define SECRET_BYTES 32

struct app_access {
    struct store *st; // owned
    pthread_mutex_t lock;
};

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    static const char k[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = k[p[i] >> 4];
        out[2 * i + 1] = k[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int from_hex(const char *s, size_t n_bytes, unsigned char *out)
{
    for (size_t i = 0; i < n_bytes; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = s[2 * i + (size_t)j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return 0;
            v = v * 16 + d;
        }
        out[i] = (unsigned char)v;
    }
    return 1;
}

static void hash_secret(const unsigned char salt[STORE_KEY_SALT_LEN],
                        const unsigned char secret[SECRET_BYTES],
                        unsigned char out[STORE_KEY_HASH_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, salt, STORE_KEY_SALT_LEN);
    sha256_update(&h, secret, SECRET_BYTES);
    sha256_final(&h, out);
}

static void copy_key(struct app_key *dst, const struct store_key *src)
{
    memcpy(dst->id, src->id, sizeof dst->id);
    memcpy(dst->name, src->name, sizeof dst->name);
    memcpy(dst->created, src->created, sizeof dst->created);
    memcpy(dst->revoked, src->revoked, sizeof dst->revoked);
}

// ---- keys (CLI) ----

int app_keys_create(const char *db_path, const char *name, struct app_key *key,
                    char token[APP_KEY_TOKEN_MAX], struct px_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > LIMIT_KEY_NAME) {
        return px_fail(err, PX_EINVAL, "a key name has 1..%d bytes, got %zu", LIMIT_KEY_NAME, n);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            return px_fail(err, PX_EINVAL, "key name: control character at byte %zu", i + 1);
        }
    }
    unsigned char id[APP_KEY_ID_LEN / 2], secret[SECRET_BYTES], salt[STORE_KEY_SALT_LEN];
    unsigned char hash[STORE_KEY_HASH_LEN];
    char id_hex[APP_KEY_ID_LEN + 1], secret_hex[2 * SECRET_BYTES + 1];
    struct store *st = NULL;
    int rc = secrand_bytes(id, sizeof id, err);
    if (rc == PX_OK) rc = secrand_bytes(secret, sizeof secret, err);
    if (rc == PX_OK) rc = secrand_bytes(salt, sizeof salt, err);
    if (rc == PX_OK) rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) {
        to_hex(id, sizeof id, id_hex);
        to_hex(secret, sizeof secret, secret_hex);
        hash_secret(salt, secret, hash);
        rc = store_key_insert(st, id_hex, name, salt, hash, err);
    }
    struct store_key sk;
    bool found = false;
    if (rc == PX_OK) rc = store_key_get(st, id_hex, &sk, NULL, NULL, &found, err);
    if (rc == PX_OK) {
        snprintf(token, APP_KEY_TOKEN_MAX, TOKEN_PREFIX "%s_%s", id_hex, secret_hex);
        if (key != NULL) copy_key(key, &sk);
    }
    memset(secret, 0, sizeof secret);
    memset(secret_hex, 0, sizeof secret_hex);
    store_close(st);
    return rc;
}

int app_keys_list(const char *db_path, struct app_key **out, size_t *n, struct px_err *err)
{
    struct store *st = NULL;
    struct store_key *sk = NULL;
    *out = NULL;
    *n = 0;
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_key_list(st, &sk, n, err);
    if (rc == PX_OK) {
        *out = px_calloc(*n ? *n : 1, sizeof **out);
        if (*out == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory listing keys");
            *n = 0;
        }
    }
    for (size_t i = 0; rc == PX_OK && i < *n; i++) {
        copy_key(&(*out)[i], &sk[i]);
    }
    px_free(sk);
    store_close(st);
    return rc;
}

int app_keys_revoke(const char *db_path, const char *id, struct px_err *err)
{
    struct store *st = NULL;
    bool found = false;
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = store_key_revoke(st, id, &found, err);
    if (rc == PX_OK && !found) rc = px_fail(err, PX_ENOENT, "no API key with id '%s'", id);
    store_close(st);
    return rc;
}

// ---- the shared handle ----

int app_access_open(const char *db_path, struct app_access **out, struct px_err *err)
{
    struct app_access *a = px_calloc(1, sizeof *a);
    *out = NULL;
    if (a == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory");
    }
    int rc = store_open(db_path, NULL, &a->st, err);
    if (rc == PX_OK && pthread_mutex_init(&a->lock, NULL) != 0) {
        rc = px_fail(err, PX_EINTERNAL, "pthread_mutex_init failed");
    }
    if (rc != PX_OK) {
        store_close(a->st);
        px_free(a);
        return rc;
    }
    *out = a;
    return PX_OK;
}

void app_access_close(struct app_access *a)
{
    if (a == NULL) {
        return;
    }
    pthread_mutex_destroy(&a->lock);
    store_close(a->st);
    px_free(a);
}

int app_access_active_keys(struct app_access *a, size_t *n, struct px_err *err)
{
    pthread_mutex_lock(&a->lock);
    int rc = store_key_count_active(a->st, n, err);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

// Fills why and returns PX_EAUTH with the one message every refusal carries.
static int refuse(struct app_auth_failure *why, const char *id, const char *reason,
                  struct px_err *err)
{
    if (why != NULL) {
        snprintf(why->key_id, sizeof why->key_id, "%s", id ? id : "");
        why->reason = reason;
    }
    return px_fail(err, PX_EAUTH, "%s", APP_AUTH_MESSAGE);
}

int app_access_check(struct app_access *a, const char *authorization,
                     char key_id[APP_KEY_ID_LEN + 1], struct app_auth_failure *why,
                     struct px_err *err)
{
    static const char bearer[] = "Bearer ";
    const size_t token_len = sizeof TOKEN_PREFIX - 1 + APP_KEY_ID_LEN + 1 + 2 * SECRET_BYTES;
    key_id[0] = '\0';
    if (why != NULL) {
        why->key_id[0] = '\0';
        why->reason = "";
    }
    if (authorization == NULL || authorization[0] == '\0') {
        return refuse(why, NULL, "no key", err);
    }
    if (strncasecmp(authorization, bearer, sizeof bearer - 1) != 0) {
        return refuse(why, NULL, "not a Bearer token", err);
    }
    const char *t = authorization + sizeof bearer - 1;
    while (*t == ' ') t++;
    unsigned char secret[SECRET_BYTES], id_bytes[APP_KEY_ID_LEN / 2];
    if (strlen(t) != token_len || strncmp(t, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1) != 0 ||
        t[sizeof TOKEN_PREFIX - 1 + APP_KEY_ID_LEN] != '_' ||
        !from_hex(t + sizeof TOKEN_PREFIX - 1, sizeof id_bytes, id_bytes)) {
        return refuse(why, NULL, "malformed key", err);
    }
    char id[APP_KEY_ID_LEN + 1];
    memcpy(id, t + sizeof TOKEN_PREFIX - 1, APP_KEY_ID_LEN);
    id[APP_KEY_ID_LEN] = '\0';
    if (!from_hex(t + sizeof TOKEN_PREFIX + APP_KEY_ID_LEN, SECRET_BYTES, secret)) {
        return refuse(why, id, "malformed key", err);
    }
    unsigned char salt[STORE_KEY_SALT_LEN], want[STORE_KEY_HASH_LEN], got[STORE_KEY_HASH_LEN];
    struct store_key sk;
    bool found = false;
    pthread_mutex_lock(&a->lock);
    int rc = store_key_get(a->st, id, &sk, salt, want, &found, err);
    pthread_mutex_unlock(&a->lock);
    if (rc != PX_OK) {
        memset(secret, 0, sizeof secret);
        return rc;
    }
    if (!found) { // hash anyway, so an unknown id costs what a known one does
        memset(salt, 0, sizeof salt);
        memset(want, 0xff, sizeof want);
    }
    hash_secret(salt, secret, got);
    memset(secret, 0, sizeof secret);
    unsigned char diff = 0;
    for (size_t i = 0; i < sizeof got; i++) {
        diff |= (unsigned char)(got[i] ^ want[i]);
    }
    if (!found) {
        return refuse(why, id, "unknown key", err);
    }
    if (diff != 0) {
        return refuse(why, id, "wrong secret", err);
    }
    if (sk.revoked[0] != '\0') {
        return refuse(why, id, "revoked key", err);
    }
    memcpy(key_id, id, sizeof id);
    return PX_OK;
}

static int append_row(struct app_access *a, const struct store_audit_row *r, struct px_err *err)
{
    pthread_mutex_lock(&a->lock);
    int rc = store_audit_append(a->st, r, err);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int app_access_log_auth_failure(struct app_access *a, const char *channel, const char *client,
                                const struct app_auth_failure *why, struct px_err *err)
{
    struct store_audit_row r = {
        .key_id = why->key_id[0] ? why->key_id : NULL,
        .channel = channel,
        .actor = client && client[0] ? client : NULL,
        .action = "auth_failed",
        .query = why->reason ? why->reason : "",
        .plan = NULL,
        .n_results = 0,
        .customer_ids = "[]",
    };
    int rc = append_row(a, &r, err);
    if (rc != PX_OK) {
        px_err_prefix(err, "audit log");
    }
    return rc;
}

// ---- audit ----

// The ids of res (or of the single customer row) as JSON array items appended to ids.
static int put_ids(const struct app_book *b, const struct app_result *res, long row,
                   struct buf *ids, struct px_err *err)
{
    int rc = buf_append(ids, "[", 1, err);
    size_t n = res ? res->n_hits : row >= 0 ? 1 : 0;
    for (size_t i = 0; i < n && rc == PX_OK; i++) {
        const char *id = app_book_id(b, res ? res->hits[i].row : (size_t)row);
        if (i > 0) rc = buf_append(ids, ", ", 2, err);
        if (rc == PX_OK) rc = jsonx_put_string(ids, id, strlen(id), err);
    }
    return rc == PX_OK ? buf_append(ids, "]", 1, err) : rc; // bufs keep a NUL after their data
}


// One row of entry e with what it returned: the query text (or texts, as a JSON array), the
// plan(s) and the ids sent, n of them.
static int append_entry(struct app_access *a, const struct app_audit_entry *e, const char *query,
                        const char *plan, long long n, const char *ids, struct px_err *err)
{
    struct store_audit_row r = {
        .key_id = e->key_id && e->key_id[0] ? e->key_id : NULL,
        .channel = e->channel,
        .actor = e->actor,
        .action = e->action,
        .query = query,
        .plan = plan,
        .n_results = n,
        .customer_ids = ids,
    };
    return append_row(a, &r, err);
}

int app_access_log(struct app_access *a, const struct app_audit_entry *e,
                   const struct app_book *b, const struct app_result *res, long row,
                   struct px_err *err)
{
    struct buf ids, plan, query;
    buf_init(&ids, LIMIT_AUDIT_IDS_BYTES);
    buf_init(&plan, LIMIT_HTTP_RESPONSE);
    buf_init(&query, (size_t)LIMIT_QUERY_BYTES + 1);
    int rc = buf_append(&query, e->query ? e->query : "", e->query ? e->query_len : 0, err);
    size_t n = res ? res->n_hits : row >= 0 ? 1 : 0;
    if (rc == PX_OK) rc = put_ids(b, res, row, &ids, err);
    if (rc == PX_OK && res != NULL && res->plan != NULL) {
        rc = app_result_plan_json(b, e->query, e->query_len, res, &plan, err);
    }
    if (rc == PX_OK) {
        rc = append_entry(a, e, query.len ? query.data : "", plan.len ? plan.data : NULL,
                          (long long)n, ids.data, err);
    }
    if (rc != PX_OK) {
        px_err_prefix(err, "audit log");
    }
    buf_free(&ids);
    buf_free(&plan);
    buf_free(&query);
    return rc;
}

int app_access_log_ids(struct app_access *a, const struct app_audit_entry *e, const char *plan,
                       const char *ids_json, long long n, struct px_err *err)
{
    struct buf query;
    buf_init(&query, (size_t)LIMIT_QUERY_BYTES + LIMIT_WEBHOOK_URL + 256);
    int rc = buf_append(&query, e->query ? e->query : "", e->query ? e->query_len : 0, err);
    if (rc == PX_OK) {
        rc = append_entry(a, e, query.len ? query.data : "", plan, n, ids_json ? ids_json : "[]",
                          err);
    }
    if (rc != PX_OK) {
        px_err_prefix(err, "audit log");
    }
    buf_free(&query);
    return rc;
}

int app_access_log_batch(struct app_access *a, const struct app_audit_entry *e,
                         const struct app_book *b, const char *const *queries,
                         const struct app_result *res, size_t n, struct px_err *err)
{
    if (n == 1) {
        struct app_audit_entry one = *e;
        one.query = queries[0];
        one.query_len = strlen(queries[0]);
        return app_access_log(a, &one, b, &res[0], -1, err);
    }
    struct buf ids, plan, query;
    buf_init(&ids, LIMIT_AUDIT_IDS_BYTES);
    buf_init(&plan, LIMIT_HTTP_RESPONSE);
    // every query JSON-escaped (at most 6 bytes a byte), quoted, with separators
    buf_init(&query, (size_t)LIMIT_HTTP_QUERIES * (6 * (size_t)LIMIT_QUERY_BYTES + 4) + 2);
    long long total = 0;
    int rc = buf_append(&query, "[", 1, err);
    if (rc == PX_OK) rc = buf_append(&ids, "[", 1, err);
    if (rc == PX_OK) rc = buf_append(&plan, "[", 1, err);
    for (size_t q = 0; q < n && rc == PX_OK; q++) {
        size_t len = strlen(queries[q]);
        if (q > 0) {
            rc = buf_append(&query, ", ", 2, err);
            if (rc == PX_OK) rc = buf_append(&ids, ", ", 2, err);
            if (rc == PX_OK) rc = buf_append(&plan, ", ", 2, err);
        }
        if (rc == PX_OK) rc = jsonx_put_string(&query, queries[q], len, err);
        if (rc == PX_OK) rc = put_ids(b, &res[q], -1, &ids, err);
        if (rc == PX_OK) {
            rc = res[q].plan != NULL ? app_result_plan_json(b, queries[q], len, &res[q], &plan, err)
                                     : buf_append(&plan, "null", 4, err);
        }
        total += (long long)res[q].n_hits;
    }
    if (rc == PX_OK) rc = buf_append(&query, "]", 1, err);
    if (rc == PX_OK) rc = buf_append(&ids, "]", 1, err);
    if (rc == PX_OK) rc = buf_append(&plan, "]", 1, err);
    if (rc == PX_OK) {
        rc = append_entry(a, e, query.data, plan.data, total, ids.data, err);
    }
    if (rc != PX_OK) {
        px_err_prefix(err, "audit log");
    }
    buf_free(&ids);
    buf_free(&plan);
    buf_free(&query);
    return rc;
}

int app_access_log_failure(struct app_access *a, const struct app_audit_entry *e,
                           const char *reason, struct px_err *err)
{
    struct buf query;
    buf_init(&query, (size_t)LIMIT_QUERY_BYTES + 256);
    int rc = buf_printf(&query, err, "%s: %s", e->action ? e->action : "?", reason ? reason : "");
    if (rc == PX_OK) {
        struct app_audit_entry failed = *e;
        failed.action = "failed";
        rc = append_entry(a, &failed, query.data, NULL, 0, "[]", err);
    }
    if (rc != PX_OK) {
        px_err_prefix(err, "audit log");
    }
    buf_free(&query);
    return rc;
}

int app_key_json(const struct app_key *k, const char *token, struct buf *out, struct px_err *err)
{
    int rc = buf_append(out, "{", 1, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "id", k->id, true, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "name", k->name, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "created", k->created, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "revoked", k->revoked[0] ? k->revoked : NULL, false, err);
    if (rc == PX_OK && token != NULL) rc = jsonx_put_member(out, "key", token, false, err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int app_audit_row_json(const struct app_audit_row *r, struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err, "{\"seq\": %lld", r->seq);
    if (rc == PX_OK) rc = jsonx_put_member(out, "time", r->time, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "key_id", r->key_id, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "channel", r->channel, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "actor", r->actor, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "action", r->action, false, err);
    if (rc == PX_OK) rc = jsonx_put_member(out, "query", r->query, false, err);
    // plan and customer ids are stored as JSON written by this layer
    if (rc == PX_OK) {
        rc = buf_printf(out, err, ", \"plan\": %s, \"n_results\": %lld, \"customer_ids\": %s}",
                        r->plan ? r->plan : "null", r->n_results,
                        r->customer_ids ? r->customer_ids : "[]");
    }
    if (rc == PX_OK) {
        // put_field's first=false gives ", "; the closing brace moves after it
        out->data[--out->len] = '\0';
        rc = jsonx_put_member(out, "hash", r->hash, false, err);
        if (rc == PX_OK) rc = buf_append(out, "}", 1, err);
    }
    return rc;
}

struct audit_tramp {
    app_audit_fn fn;
    void *user;
};

static int audit_row(const struct store_audit_row *r, void *user, struct px_err *err)
{
    struct audit_tramp *t = user;
    char hex[65];
    if (r->hash != NULL) app_audit_hex(r->hash, hex);
    struct app_audit_row a = {
        r->seq,    r->time,  r->key_id, r->channel,      r->actor,
        r->action, r->query, r->plan,   r->customer_ids, r->n_results,
        r->hash != NULL ? hex : NULL,
    };
    return t->fn(&a, t->user, err);
}

int app_audit_read(const char *db_path, const char *since, const char *key_id, size_t limit,
                   app_audit_fn fn, void *user, struct px_err *err)
{
    struct store *st = NULL;
    struct audit_tramp t = {fn, user};
    // read-write so that a version-1 database is migrated (its audit log is then empty)
    int rc = fsx_is_file(db_path) ? store_open(db_path, NULL, &st, err)
                                  : px_fail(err, PX_ENOENT, "no database at '%s'", db_path);
    if (rc == PX_OK) rc = store_audit_read(st, since, key_id, limit, audit_row, &t, err);
    store_close(st);
    return rc;
}
