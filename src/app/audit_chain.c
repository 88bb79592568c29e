// audit_chain.c — `prospect audit verify` and `prospect audit archive`: the audit log's hash
// chain checked, and its old rows moved into a file.
//
// Design:
//   - The chain itself (hashing, the walk, the triggers, the sanctioned delete) is the store's
//     (store.c); this file turns its verdict into plain types and JSON, and writes archives.
//   - An archive file is JSON lines: each archived row as `prospect audit --json` prints it,
//     with its hash, then one {"archive": {...}} line naming the range, the chain's hash before
//     it (start) and after it (head). Its integrity needs no separate key: the rows re-hash from
//     start to head by the chain's own rule, the head is recorded in the database (where the
//     next live row chains on it, so `audit verify` still walks from there), and the file's
//     sha256 is recorded beside it and in the "audit_archive" audit row, itself chained. An
//     HMAC keyed from the database would add nothing against someone who can write the
//     database (they could read the key) and would make the file unreadable without it.
//   - The file is written to a temporary name, fsynced and renamed before the rows go; all
//     inside the archive's transaction, so a failure leaves the rows where they were (a file
//     may then exist beside them: a copy, harmless).
#include <stdio.h>
#include <string.h>

#include "app_access.h"
#include "audit_int.h"
#include "fsx.h"
#include "jsonx.h"
#include "sha256.h"
#include "store.h"

void app_audit_hex(const unsigned char hash[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[64] = '\0';
}

int app_audit_verify(const char *db_path, struct app_audit_verdict *v, struct px_err *err)
{
    struct store *st = NULL;
    struct store_audit_verdict sv;
    memset(v, 0, sizeof *v);
    // read-write so that an older database is migrated first (its rows then predate the chain)
    int rc = fsx_is_file(db_path) ? store_open(db_path, NULL, &st, err)
                                  : px_fail(err, PX_ENOENT, "no database at '%s'", db_path);
    if (rc == PX_OK) rc = store_audit_verify(st, &sv, err);
    store_close(st);
    if (rc != PX_OK) return rc;
    v->n_rows = sv.n_rows;
    v->n_before_chain = sv.n_before_chain;
    v->archived_through = sv.archived_through;
    v->n_archives = sv.n_archives;
    v->head_seq = sv.head_seq;
    app_audit_hex(sv.head, v->head);
    v->broken_seq = sv.broken_seq;
    snprintf(v->problem, sizeof v->problem, "%s", sv.problem);
    return PX_OK;
}

int app_audit_verdict_json(const struct app_audit_verdict *v, struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err,
                        "{\"ok\": %s, \"rows\": %lld, \"before_chain\": %lld, "
                        "\"archived_through\": %lld, \"archives\": %lld, \"head_seq\": %lld, "
                        "\"head\": \"%s\", \"broken_seq\": ",
                        v->broken_seq == 0 ? "true" : "false", v->n_rows, v->n_before_chain,
                        v->archived_through, v->n_archives, v->head_seq, v->head);
    if (rc == PX_OK) {
        rc = v->broken_seq ? buf_printf(out, err, "%lld", v->broken_seq)
                           : buf_append(out, "null", 4, err);
    }
    if (rc == PX_OK) rc = jsonx_put_key(out, "problem", false, err);
    if (rc == PX_OK) {
        rc = v->broken_seq ? jsonx_put_string(out, v->problem, strlen(v->problem), err)
                           : buf_append(out, "null", 4, err);
    }
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

struct archive_writer {
    struct fsx_atomic file;
    struct sha256 sum;
    struct buf line;
};

static int write_line(struct archive_writer *w, struct px_err *err)
{
    int rc = buf_append(&w->line, "\n", 1, err);
    if (rc != PX_OK) return rc;
    sha256_update(&w->sum, w->line.data, w->line.len);
    if (fwrite(w->line.data, 1, w->line.len, w->file.f) != w->line.len) {
        return px_fail(err, PX_EIO, "%s: cannot write", w->file.path);
    }
    return PX_OK;
}

static int archive_row(void *user, const struct store_audit_row *r, struct px_err *err)
{
    struct archive_writer *w = user;
    char hex[65];
    if (r->hash != NULL) app_audit_hex(r->hash, hex);
    struct app_audit_row a = {
        r->seq,    r->time,  r->key_id, r->channel,      r->actor,
        r->action, r->query, r->plan,   r->customer_ids, r->n_results,
        r->hash != NULL ? hex : NULL,
    };
    buf_reset(&w->line);
    int rc = app_audit_row_json(&a, &w->line, err);
    return rc == PX_OK ? write_line(w, err) : rc;
}

static int archive_finish(void *user, struct store_audit_archive_info *info, struct px_err *err)
{
    struct archive_writer *w = user;
    char start[65], head[65];
    unsigned char digest[32];
    app_audit_hex(info->start, start);
    app_audit_hex(info->head, head);
    buf_reset(&w->line);
    int rc = buf_printf(&w->line, err,
                        "{\"archive\": {\"first_seq\": %lld, \"last_seq\": %lld, \"n_rows\": "
                        "%lld, \"start\": \"%s\", \"head\": \"%s\"}}",
                        info->first_seq, info->last_seq, info->n_rows, start, head);
    if (rc == PX_OK) rc = write_line(w, err);
    if (rc == PX_OK) rc = fsx_atomic_commit(&w->file, err);
    if (rc == PX_OK) {
        sha256_final(&w->sum, digest);
        app_audit_hex(digest, info->file_sha256);
    }
    return rc;
}

int app_audit_archive(const char *db_path, const char *before, const char *out_path,
                      const char *actor, struct app_audit_archive *res, struct px_err *err)
{
    struct store *st = NULL;
    struct archive_writer w;
    struct store_audit_archive_info info;
    memset(res, 0, sizeof *res);
    memset(&w, 0, sizeof w);
    if (!fsx_is_file(db_path)) return px_fail(err, PX_ENOENT, "no database at '%s'", db_path);
    if (fsx_is_file(out_path) || fsx_is_dir(out_path)) {
        return px_fail(err, PX_EINVAL, "%s exists: an archive is never overwritten", out_path);
    }
    int rc = store_open(db_path, NULL, &st, err);
    if (rc == PX_OK) rc = fsx_atomic_open(out_path, &w.file, err);
    if (rc == PX_OK) {
        sha256_init(&w.sum);
        buf_init(&w.line, (size_t)LIMIT_QUERY_BYTES * 8 + ((size_t)1 << 24));
        struct store_audit_archive_io io = {archive_row, archive_finish, &w};
        rc = store_audit_archive(st, before, out_path, "cli", actor, &io, &info, err);
        buf_free(&w.line);
    }
    fsx_atomic_abort(&w.file); // a no-op once committed
    store_close(st);
    if (rc != PX_OK) return rc;
    res->first_seq = info.first_seq;
    res->last_seq = info.last_seq;
    res->n_rows = info.n_rows;
    app_audit_hex(info.start, res->start);
    app_audit_hex(info.head, res->head);
    snprintf(res->file_sha256, sizeof res->file_sha256, "%s", info.file_sha256);
    return PX_OK;
}
