// recmodel.c — trained recommenders in the model registry (contract in recmodel.h): a thin
// layer over src/registry (version numbers, lock, atomic publish, checksums); this file knows
// the kind's files: model.bin (binary, below), recommender.json and MLmodel.
//
// A save hands its files to registry_save_files, which fills a staging directory, seals it
// (kind "recommender") and publishes it; any failure removes the staging directory. A load goes
// through registry_open — every file's sha256 checked, a missing or extra file refused by name,
// another kind refused — then checks every length and index in model.bin.
// recommender.json is written like every JSON document (buf + jsonx) and read with cJSON; a
// reader looks keys up by name, so the files older versions wrote (cJSON_Print's layout) load
// the same.
#include "recmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "buf.h"
#include "bundle.h"
#include "fsx.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"
#include "registry.h"
#include "sha256.h"

#define MAGIC "PXRECMD1"
#define INFO_MAX (1u << 20)
#define MODEL_MAX (4ull << 30)
#define INFO_JSON "recommender.json"
#define MODEL_BIN "model.bin"

// ---- model.bin ----

static int put(struct buf *b, const void *p, size_t n, struct px_err *err)
{
    return buf_append(b, p, n, err);
}

static int put_u32(struct buf *b, uint32_t v, struct px_err *err)
{
    return put(b, &v, 4, err);
}

static int put_str(struct buf *b, const char *s, struct px_err *err)
{
    size_t n = strlen(s);
    int rc = put_u32(b, (uint32_t)n, err);
    return rc == PX_OK ? put(b, s, n, err) : rc;
}

static int encode(const struct rec_model *m, struct buf *b, struct px_err *err)
{
    uint64_t nc = m->n_customers, np = m->n_products;
    int rc = put(b, MAGIC, 8, err);
    rc = rc ? rc : put_u32(b, RECMODEL_FORMAT_VERSION, err);
    rc = rc ? rc : put_u32(b, (uint32_t)m->dim, err);
    rc = rc ? rc : put(b, &nc, 8, err);
    rc = rc ? rc : put(b, &np, 8, err);
    for (size_t i = 0; rc == PX_OK && i < m->n_customers; i++) {
        rc = put_str(b, m->customer_id[i], err);
        rc = rc ? rc : put_str(b, m->customer_label[i], err);
    }
    for (size_t i = 0; rc == PX_OK && i < m->n_products; i++) {
        rc = put_str(b, m->product_id[i], err);
        rc = rc ? rc : put_str(b, m->product_label[i], err);
    }
    size_t n_emb = (m->n_customers + m->n_products) * (size_t)m->dim;
    rc = rc ? rc : put(b, m->emb, n_emb * sizeof(float), err);
    rc = rc ? rc : put(b, m->held_ptr, (m->n_customers + 1) * sizeof(uint32_t), err);
    rc = rc ? rc : put(b, m->held, m->held_ptr[m->n_customers] * sizeof(uint32_t), err);
    return rc;
}

struct reader {
    const unsigned char *p;
    size_t n, at;
    const char *path;
};

static int get(struct reader *r, void *out, size_t n, struct px_err *err)
{
    if (n > r->n - r->at) {
        return px_fail(err, PX_EFORMAT, "%s: truncated at byte %zu (needs %zu more)", r->path,
                       r->at, n);
    }
    memcpy(out, r->p + r->at, n);
    r->at += n;
    return PX_OK;
}

static int get_str(struct reader *r, char **out, struct px_err *err)
{
    uint32_t n = 0;
    int rc = get(r, &n, 4, err);
    if (rc != PX_OK) {
        return rc;
    }
    if (n > LIMIT_CSV_FIELD_BYTES || n > r->n - r->at) {
        return px_fail(err, PX_EFORMAT, "%s: string of %u bytes at byte %zu", r->path, n, r->at);
    }
    if ((*out = px_strndup((const char *)r->p + r->at, n)) == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", r->path);
    }
    r->at += n;
    return PX_OK;
}

static int decode(struct reader *r, struct rec_model *m, struct px_err *err)
{
    char magic[8];
    uint32_t ver = 0, dim = 0;
    uint64_t nc = 0, np = 0;
    int rc = get(r, magic, 8, err);
    if (rc == PX_OK && memcmp(magic, MAGIC, 8) != 0) {
        return px_fail(err, PX_EFORMAT, "%s: not a prospect recommender (bad magic)", r->path);
    }
    rc = rc ? rc : get(r, &ver, 4, err);
    rc = rc ? rc : get(r, &dim, 4, err);
    rc = rc ? rc : get(r, &nc, 8, err);
    rc = rc ? rc : get(r, &np, 8, err);
    if (rc != PX_OK) {
        return rc;
    }
    // nc and np are checked one at a time: their sum can wrap around
    if (ver != RECMODEL_FORMAT_VERSION || dim < 1 || dim > LIMIT_GAT_WIDTH || nc < 1 || np < 1 ||
        nc > LIMIT_REC_NODES || np > LIMIT_REC_NODES - nc) {
        return px_fail(err, PX_EFORMAT,
                       "%s: format version %u, dim %u, %llu customers, %llu products: outside "
                       "what this build reads",
                       r->path, ver, dim, (unsigned long long)nc, (unsigned long long)np);
    }
    // each id and label takes 8 bytes at least, each customer a held offset: a count the file
    // cannot hold is refused before anything is allocated for it
    size_t left = r->n - r->at;
    if ((nc + np) * 8 + (nc + 1) * 4 + (nc + np) * dim * 4 > left) {
        return px_fail(err, PX_EFORMAT,
                       "%s: %llu customers and %llu products of dim %u need more than the %zu "
                       "bytes left at byte %zu",
                       r->path, (unsigned long long)nc, (unsigned long long)np, dim, left, r->at);
    }
    m->n_customers = (size_t)nc;
    m->n_products = (size_t)np;
    m->dim = (int)dim;
    m->customer_id = px_calloc(nc, sizeof(char *));
    m->customer_label = px_calloc(nc, sizeof(char *));
    m->product_id = px_calloc(np, sizeof(char *));
    m->product_label = px_calloc(np, sizeof(char *));
    size_t n_emb = (size_t)(nc + np) * dim;
    m->emb = px_malloc(n_emb * sizeof(float));
    m->held_ptr = px_malloc((nc + 1) * sizeof(uint32_t));
    if (m->customer_id == NULL || m->customer_label == NULL || m->product_id == NULL ||
        m->product_label == NULL || m->emb == NULL || m->held_ptr == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", r->path);
    }
    for (size_t i = 0; rc == PX_OK && i < nc; i++) {
        rc = get_str(r, &m->customer_id[i], err);
        rc = rc ? rc : get_str(r, &m->customer_label[i], err);
    }
    for (size_t i = 0; rc == PX_OK && i < np; i++) {
        rc = get_str(r, &m->product_id[i], err);
        rc = rc ? rc : get_str(r, &m->product_label[i], err);
    }
    rc = rc ? rc : get(r, m->emb, n_emb * sizeof(float), err);
    rc = rc ? rc : get(r, m->held_ptr, (nc + 1) * sizeof(uint32_t), err);
    if (rc != PX_OK) {
        return rc;
    }
    for (size_t k = 0; k < n_emb; k++) {
        if (!isfinite(m->emb[k])) {
            return px_fail(err, PX_EFORMAT, "%s: embedding value %zu is not finite", r->path, k);
        }
    }
    for (size_t i = 0; i < nc; i++) {
        if (m->held_ptr[i] > m->held_ptr[i + 1] || m->held_ptr[0] != 0) {
            return px_fail(err, PX_EFORMAT, "%s: held offsets not increasing at customer %zu",
                           r->path, i);
        }
    }
    size_t nh = m->held_ptr[nc];
    if (nh > (r->n - r->at) / sizeof(uint32_t)) {
        return px_fail(err, PX_EFORMAT, "%s: truncated at byte %zu (%zu held products announced)",
                       r->path, r->at, nh);
    }
    m->held = px_malloc((nh ? nh : 1) * sizeof(uint32_t));
    if (m->held == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory reading %s", r->path);
    }
    if ((rc = get(r, m->held, nh * sizeof(uint32_t), err)) != PX_OK) {
        return rc;
    }
    for (size_t i = 0; i < nc; i++) {
        for (uint32_t k = m->held_ptr[i]; k < m->held_ptr[i + 1]; k++) {
            if (m->held[k] >= np || (k > m->held_ptr[i] && m->held[k] <= m->held[k - 1])) {
                return px_fail(err, PX_EFORMAT,
                               "%s: customer %zu: held products not sorted "
                               "product indices",
                               r->path, i);
            }
        }
    }
    if (r->at != r->n) {
        return px_fail(err, PX_EFORMAT, "%s: %zu bytes after the end", r->path, r->n - r->at);
    }
    return PX_OK;
}

// ---- recommender.json ----

static void metrics_read(const cJSON *o, struct rec_metrics *x)
{
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "recall_at_5")) && cJSON_IsNumber(v))
        x->recall5 = v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "recall_at_10")) && cJSON_IsNumber(v))
        x->recall10 = v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "ndcg_at_10")) && cJSON_IsNumber(v))
        x->ndcg10 = v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "hit_rate_at_10")) && cJSON_IsNumber(v))
        x->hit10 = v->valuedouble;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "customers")) && cJSON_IsNumber(v))
        x->n_customers = (size_t)v->valuedouble;
}

// recommender.json: what the model is and how it did. No version: the registry numbers it.
// Written with buf + jsonx (one key per line at the top level, nested objects on one line);
// metrics with 17 digits so a load reads back exactly what training measured.
static int put_metrics(struct buf *b, const char *key, const struct rec_metrics *x, bool first,
                       struct px_err *err)
{
    const struct {
        const char *key;
        double v;
    } f[] = {{"recall_at_5", x->recall5},
             {"recall_at_10", x->recall10},
             {"ndcg_at_10", x->ndcg10},
             {"hit_rate_at_10", x->hit10}};
    int rc = jsonx_put_key(b, key, first, err);
    rc = rc ? rc : buf_append(b, "{", 1, err);
    for (size_t i = 0; rc == PX_OK && i < sizeof f / sizeof f[0]; i++) {
        rc = jsonx_put_key(b, f[i].key, i == 0, err);
        rc = rc ? rc : jsonx_put_number(b, f[i].v, 17, err);
    }
    return rc ? rc : buf_printf(b, err, ", \"customers\": %zu}", x->n_customers);
}

// "\n  \"key\": " (after a comma unless first): a top-level key on its own line.
static int top_key(struct buf *b, const char *key, bool first, struct px_err *err)
{
    int rc = buf_append(b, first ? "\n  " : ",\n  ", first ? 3 : 4, err);
    return rc ? rc : jsonx_put_key(b, key, true, err);
}

static int top_str(struct buf *b, const char *key, const char *v, struct px_err *err)
{
    int rc = top_key(b, key, false, err);
    return rc ? rc : jsonx_put_string(b, v, strlen(v), err);
}

static int describe(const char *name, const char *created, const struct rec_model *m,
                    const struct recmodel_info *info, size_t bytes, const char *sha,
                    struct buf *b, struct px_err *err)
{
    int rc = buf_append(b, "{", 1, err);
    rc = rc ? rc : top_key(b, "format", true, err);
    rc = rc ? rc : jsonx_put_string(b, RECMODEL_FORMAT, strlen(RECMODEL_FORMAT), err);
    rc = rc ? rc : top_key(b, "format_version", false, err);
    rc = rc ? rc : buf_printf(b, err, "%d", RECMODEL_FORMAT_VERSION);
    rc = rc ? rc : top_str(b, "name", name, err);
    rc = rc ? rc : top_str(b, "created", created, err);
    rc = rc ? rc : top_str(b, "model_type", "gat-link-prediction", err);
    rc = rc ? rc : top_key(b, "customers", false, err);
    rc = rc ? rc : buf_printf(b, err, "%zu", m->n_customers);
    rc = rc ? rc : top_key(b, "products", false, err);
    rc = rc ? rc : buf_printf(b, err, "%zu", m->n_products);
    rc = rc ? rc : top_key(b, "dim", false, err);
    rc = rc ? rc : buf_printf(b, err, "%d", m->dim);
    if (rc == PX_OK && info != NULL && info->params != NULL) {
        const struct rec_params *p = info->params;
        const struct {
            const char *key;
            double v;
        } f[] = {{"lr", p->lr}, {"dropout", p->dropout}, {"attn_dropout", p->attn_dropout},
                 {"weight_decay", p->weight_decay}};
        rc = top_key(b, "params", false, err);
        rc = rc ? rc : buf_printf(b, err, "{\"heads\": %d, \"dim_head\": %d, \"dim_out\": %d, "
                                          "\"epochs\": %d",
                                  p->n_heads, p->dim_head, p->dim_out, p->epochs);
        for (size_t i = 0; rc == PX_OK && i < sizeof f / sizeof f[0]; i++) {
            rc = jsonx_put_key(b, f[i].key, false, err);
            rc = rc ? rc : jsonx_put_number(b, f[i].v, 7, err); // floats: 7 digits say them
        }
        rc = rc ? rc : buf_printf(b, err, ", \"seed\": %llu, \"loss\": \"bpr\"}",
                                  (unsigned long long)p->seed);
    }
    if (rc == PX_OK && info != NULL) {
        static const char *const keys[3] = {"customers", "products", "transactions"};
        rc = top_key(b, "data", false, err);
        for (int k = 0; rc == PX_OK && k < 3; k++) {
            const char *path = info->data[k] ? info->data[k] : "";
            const char *hex = info->sha256[k] ? info->sha256[k] : "";
            rc = buf_append(b, k ? ", " : "{", k ? 2 : 1, err);
            rc = rc ? rc : jsonx_put_key(b, keys[k], true, err);
            rc = rc ? rc : buf_append(b, "{", 1, err);
            rc = rc ? rc : jsonx_put_key(b, "path", true, err);
            rc = rc ? rc : jsonx_put_string(b, path, strlen(path), err);
            rc = rc ? rc : jsonx_put_key(b, "sha256", false, err);
            rc = rc ? rc : jsonx_put_string(b, hex, strlen(hex), err);
            rc = rc ? rc : buf_append(b, "}", 1, err);
        }
        rc = rc ? rc : buf_append(b, "}", 1, err);
    }
    const struct rec_report *rep = &m->report;
    rc = rc ? rc : top_key(b, "metrics", false, err);
    rc = rc ? rc : buf_append(b, "{", 1, err);
    rc = rc ? rc : put_metrics(b, "gat", &rep->gat, true, err);
    rc = rc ? rc : put_metrics(b, "popularity", &rep->popularity, false, err);
    rc = rc ? rc : put_metrics(b, "matrix_factorisation", &rep->mf, false, err);
    rc = rc ? rc : jsonx_put_key(b, "lift_recall_at_10_mean", false, err);
    rc = rc ? rc : jsonx_put_number(b, rep->lift_mean, 17, err);
    rc = rc ? rc : jsonx_put_key(b, "lift_recall_at_10_se", false, err);
    rc = rc ? rc : jsonx_put_number(b, rep->lift_se, 17, err);
    rc = rc ? rc : buf_printf(b, err, ", \"beats_popularity\": %s}",
                              rep->beats_popularity ? "true" : "false");
    rc = rc ? rc : top_key(b, "split", false, err);
    rc = rc ? rc : buf_printf(b, err,
                              "{\"train_edges\": %zu, \"validation_edges\": %zu, \"test_edges\": "
                              "%zu, \"epochs_run\": %d, \"best_epoch\": %d}",
                              rep->n_train, rep->n_val, rep->n_test, rep->epochs_run,
                              rep->best_epoch);
    rc = rc ? rc : top_key(b, "model", false, err);
    rc = rc ? rc : buf_printf(b, err, "{\"path\": \"%s\", \"bytes\": %zu, \"sha256\": \"%s\"}",
                              MODEL_BIN, bytes, sha);
    return rc ? rc : buf_append(b, "\n}\n", 3, err);
}

int recmodel_save(const char *root, const char *name, const struct rec_model *m,
                   const struct recmodel_info *info, int *version, struct px_err *err)
{
    char created[40], sha[65], nc[24], np[24], dim[16];
    struct buf bin;
    buf_init(&bin, (size_t)MODEL_MAX);
    struct buf text;
    buf_init(&text, INFO_MAX);
    *version = 0;
    int rc = bundle_check_name(name, err);
    if (rc != PX_OK) {
        return rc;
    }
    bundle_now_utc(created, sizeof created);
    rc = encode(m, &bin, err);
    if (rc == PX_OK) {
        sha256_hex(bin.data, bin.len, sha);
        rc = describe(name, created, m, info, bin.len, sha, &text, err);
    }
    if (rc == PX_OK) {
        snprintf(nc, sizeof nc, "%zu", m->n_customers);
        snprintf(np, sizeof np, "%zu", m->n_products);
        snprintf(dim, sizeof dim, "%d", m->dim);
        const struct bundle_kv kv[] = {
            {"model", MODEL_BIN, false},
            {"model_type", "gat-link-prediction", false},
            {"info", INFO_JSON, false},
            {"customers", nc, true},
            {"products", np, true},
            {"dim", dim, true},
            {"serve", "prospect recommend --model NAME[/VERSION] --customer ID", false},
        };
        const struct bundle_mlmodel mm = {
            .name = name,
            .kind = BUNDLE_KIND_RECOMMENDER,
            .created = created,
            .kv = kv,
            .n_kv = sizeof kv / sizeof kv[0],
            .inputs = "[{\"name\": \"customer\", \"type\": \"string\", \"required\": true}]",
            .outputs = "[{\"name\": \"product\", \"type\": \"string\", \"required\": true}, "
                       "{\"name\": \"score\", \"type\": \"double\", \"required\": true}]",
            .params =
                "[{\"name\": \"top_n\", \"type\": \"long\", \"default\": 5, \"shape\": null}]",
        };
        const struct registry_file files[] = {
            {MODEL_BIN, bin.data, bin.len},
            {INFO_JSON, text.data, text.len},
        };
        rc = registry_save_files(root, files, 2, &mm, version, err);
    }
    buf_free(&text);
    buf_free(&bin);
    return rc;
}

int recmodel_decode(const void *bin, size_t n, const char *what, struct rec_model *m,
                    struct px_err *err)
{
    memset(m, 0, sizeof *m);
    struct reader rd = {(const unsigned char *)bin, n, 0, what};
    int rc = decode(&rd, m, err);
    if (rc != PX_OK) {
        rec_model_free(m);
    }
    return rc;
}

int recmodel_info_read(const cJSON *man, const char **sha256, struct rec_report *report,
                       struct px_err *err)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(man, "format");
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(man, "format_version");
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(man, "model");
    const cJSON *sha = mo ? cJSON_GetObjectItemCaseSensitive(mo, "sha256") : NULL;
    *sha256 = NULL;
    memset(report, 0, sizeof *report);
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, RECMODEL_FORMAT) != 0 ||
        !cJSON_IsNumber(fv) || fv->valuedouble != RECMODEL_FORMAT_VERSION ||
        !cJSON_IsString(sha)) {
        return px_fail(err, PX_EFORMAT, "%s: not a %s description of version %d", INFO_JSON,
                       RECMODEL_FORMAT, RECMODEL_FORMAT_VERSION);
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(man, "metrics");
    if (mt != NULL) {
        metrics_read(cJSON_GetObjectItemCaseSensitive(mt, "gat"), &report->gat);
        metrics_read(cJSON_GetObjectItemCaseSensitive(mt, "popularity"), &report->popularity);
        metrics_read(cJSON_GetObjectItemCaseSensitive(mt, "matrix_factorisation"), &report->mf);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(mt, "beats_popularity");
        report->beats_popularity = cJSON_IsTrue(b);
    }
    *sha256 = sha->valuestring;
    return PX_OK;
}

int recmodel_load(const char *root, const char *ref, struct rec_model *m, int *version,
                   struct px_err *err)
{
    struct registry_ref rr;
    char dir[LIMIT_PATH], path[LIMIT_PATH + 64];
    cJSON *man = NULL;
    char *bin = NULL;
    size_t bin_len = 0;
    int v = 0;
    memset(m, 0, sizeof *m);
    // every file checked against the manifest; another kind under the name is refused
    int rc = registry_open(root, ref, BUNDLE_KIND_RECOMMENDER, &rr, &v, dir, sizeof dir, NULL, err);
    if (rc != PX_OK) {
        return registry_hint_missing(rc, "run prospect recommend train", err);
    }
    rc = fsx_join(path, sizeof path, dir, INFO_JSON, err);
    if (rc == PX_OK)
        rc = jsonx_parse_file(path, INFO_MAX, &man, err);
    if (rc != PX_OK) {
        goto done;
    }
    const char *sha = NULL;
    struct rec_report report;
    if ((rc = recmodel_info_read(man, &sha, &report, err)) != PX_OK) {
        goto done;
    }
    rc = registry_read_checked(dir, MODEL_BIN, (size_t)MODEL_MAX, sha, INFO_JSON "'s", &bin,
                               &bin_len, err);
    if (rc != PX_OK) {
        goto done;
    }
    if ((rc = recmodel_decode(bin, bin_len, MODEL_BIN, m, err)) != PX_OK) {
        goto done;
    }
    m->report = report;
    if ((rc = rec_model_index(m, err)) != PX_OK) {
        goto done;
    }
    *version = v;
done:
    if (rc != PX_OK) {
        px_err_prefix(err, "%s/%d", rr.name, v);
        rec_model_free(m);
    }
    cJSON_Delete(man);
    px_free(bin);
    return rc;
}
