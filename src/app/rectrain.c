// rectrain.c — training a recommender for the front ends (app_rec_train in app_rec.h): the
// wholesale book's three CSVs read through ml/recommender, the GAT and both baselines trained and
// scored (rec_train), the model saved as the next registry version (kinds/recmodel) with the
// data files' sha256, and the report as a plain struct, a JSON document and CSV rows.
//
// Design: the front ends pass plain parameters and a progress callback; what the run read and
// measured comes back as struct app_rec_trained, so `prospect recommend train|eval` prints a
// table from it and --json / --format csv print the documents below, which are the only JSON
// and CSV shapes of a training report.
#include <stdio.h>
#include <string.h>

#include "app_rec.h"
#include "app_registry.h"
#include "fsx.h"
#include "jsonx.h"
#include "recmodel.h"
#include "recommender.h"
#include "sha256.h"

struct app_rec_train_params app_rec_train_default_params(void)
{
    struct rec_params rp = rec_default_params();
    struct app_rec_train_params p = {
        .data = "wholesale",
        .epochs = rp.epochs,
        .n_threads = 2,
        .seed = rp.seed,
    };
    return p;
}

static void scores_of(const struct rec_metrics *m, struct app_rec_scores *s)
{
    s->recall5 = m->recall5;
    s->recall10 = m->recall10;
    s->ndcg10 = m->ndcg10;
    s->hit10 = m->hit10;
    s->customers = m->n_customers;
}

struct progress_relay {
    app_rec_progress_fn fn;
    void *user;
};

static void relay(void *user, int epoch, int epochs, double val)
{
    const struct progress_relay *p = user;
    p->fn(p->user, epoch, epochs, val);
}

int app_rec_train(const struct app_rec_train_params *p, app_rec_progress_fn progress, void *user,
                  struct app_rec_trained *out, struct px_err *err)
{
    static const char *const names[3] = {"customers.csv", "products.csv", "transactions.csv"};
    char paths[3][LIMIT_PATH], sha[3][65];
    memset(out, 0, sizeof *out);
    int n_files = (p->files[0] != NULL) + (p->files[1] != NULL) + (p->files[2] != NULL);
    if (n_files != 0 && n_files != 3) {
        return px_fail(err, PX_EINVAL, "the customers, products and transactions files go together");
    }
    if (n_files == 0 && p->data == NULL) {
        return px_fail(err, PX_EINVAL, "give the wholesale book's directory or its three files");
    }
    if (p->epochs < 1 || p->epochs > LIMIT_REC_EPOCHS || p->n_threads < 1 ||
        p->n_threads > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL, "epochs must be 1..%d and threads 1..%d", LIMIT_REC_EPOCHS,
                       LIMIT_THREADS);
    }
    for (int k = 0; k < 3; k++) {
        int rc = PX_OK;
        if (n_files == 3) {
            if (strlen(p->files[k]) >= sizeof paths[k]) {
                return px_fail(err, PX_ELIMIT, "path too long: %.100s…", p->files[k]);
            }
            snprintf(paths[k], sizeof paths[k], "%s", p->files[k]);
        } else {
            rc = fsx_join(paths[k], sizeof paths[k], p->data, names[k], err);
        }
        if (rc == PX_OK)
            rc = sha256_file_hex(paths[k], sha[k], err);
        if (rc != PX_OK) {
            return rc;
        }
    }
    struct rec_params rp = rec_default_params();
    rp.epochs = p->epochs;
    rp.n_threads = p->n_threads;
    rp.seed = p->seed;
    struct rec_data d = {0};
    struct rec_model m = {0};
    struct progress_relay pr = {progress, user};
    int rc = rec_data_load(paths[0], paths[1], paths[2], &d, err);
    if (rc == PX_OK)
        rc = rec_train(&d, &rp, progress ? relay : NULL, &pr, &m, err);
    if (rc == PX_OK && p->name != NULL) {
        const char *reg = p->registry ? p->registry : app_registry_dir(NULL);
        struct recmodel_info info = {{paths[0], paths[1], paths[2]}, {sha[0], sha[1], sha[2]}, &rp};
        rc = recmodel_save(reg, p->name, &m, &info, &out->version, err);
        if (rc == PX_OK) {
            snprintf(out->model, sizeof out->model, "%s/%d", p->name, out->version);
        }
    }
    if (rc == PX_OK) {
        const struct rec_report *r = &m.report;
        out->customers = d.n_customers;
        out->products = d.n_products;
        out->transactions = d.n_transactions;
        out->pairs = d.n_edges;
        out->train_pairs = r->n_train;
        out->validation_pairs = r->n_val;
        out->test_pairs = r->n_test;
        out->epochs_run = r->epochs_run;
        out->best_epoch = r->best_epoch;
        out->best_validation_recall10 = r->best_val_recall10;
        out->seconds_gat = r->seconds_gat;
        out->seconds_total = r->seconds_total;
        scores_of(&r->gat, &out->gat);
        scores_of(&r->popularity, &out->popularity);
        scores_of(&r->mf, &out->mf);
        out->lift_mean = r->lift_mean;
        out->lift_se = r->lift_se;
        out->beats_popularity = r->beats_popularity;
    }
    rec_model_free(&m);
    rec_data_free(&d);
    return rc;
}

static int put_scores(struct buf *out, const char *name, const struct app_rec_scores *s,
                      struct px_err *err)
{
    int rc = jsonx_put_key(out, name, false, err);
    if (rc == PX_OK)
        rc = buf_append(out, "{", 1, err);
    const struct {
        const char *key;
        double v;
    } f[] = {{"recall_at_5", s->recall5},
             {"recall_at_10", s->recall10},
             {"ndcg_at_10", s->ndcg10},
             {"hit_rate_at_10", s->hit10}};
    for (size_t i = 0; i < sizeof f / sizeof f[0] && rc == PX_OK; i++) {
        rc = jsonx_put_key(out, f[i].key, i == 0, err);
        if (rc == PX_OK)
            rc = jsonx_put_number(out, f[i].v, 6, err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"customers\": %zu}", s->customers);
    return rc;
}

int app_rec_trained_json(const struct app_rec_trained *t, struct buf *out, struct px_err *err)
{
    int rc = buf_printf(out, err,
                        "{\"customers\": %zu, \"products\": %zu, \"pairs\": %zu, "
                        "\"transactions\": %zu, \"train_edges\": %zu, \"validation_edges\": %zu, "
                        "\"test_edges\": %zu, \"epochs_run\": %d, \"best_epoch\": %d",
                        t->customers, t->products, t->pairs, t->transactions, t->train_pairs,
                        t->validation_pairs, t->test_pairs, t->epochs_run, t->best_epoch);
    const struct {
        const char *key;
        double v;
        int digits;
    } f[] = {{"best_validation_recall_at_10", t->best_validation_recall10, 6},
             {"seconds_gat", t->seconds_gat, 4},
             {"seconds_total", t->seconds_total, 4}};
    for (size_t i = 0; i < sizeof f / sizeof f[0] && rc == PX_OK; i++) {
        rc = jsonx_put_key(out, f[i].key, false, err);
        if (rc == PX_OK)
            rc = jsonx_put_number(out, f[i].v, f[i].digits, err);
    }
    if (rc == PX_OK)
        rc = buf_printf(out, err, ", \"lift_recall_at_10\": {\"mean\": ");
    if (rc == PX_OK)
        rc = jsonx_put_number(out, t->lift_mean, 6, err);
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "se", false, err);
    if (rc == PX_OK)
        rc = jsonx_put_number(out, t->lift_se, 6, err);
    if (rc == PX_OK)
        rc = buf_printf(out, err, "}, \"beats_popularity\": %s",
                        t->beats_popularity ? "true" : "false");
    if (rc == PX_OK)
        rc = jsonx_put_key(out, "model", false, err);
    if (rc == PX_OK) {
        rc = t->model[0] ? jsonx_put_string(out, t->model, strlen(t->model), err)
                         : buf_append(out, "null", 4, err);
    }
    if (rc == PX_OK)
        rc = put_scores(out, "gat", &t->gat, err);
    if (rc == PX_OK)
        rc = put_scores(out, "popularity", &t->popularity, err);
    if (rc == PX_OK)
        rc = put_scores(out, "matrix_factorisation", &t->mf, err);
    return rc == PX_OK ? buf_append(out, "}", 1, err) : rc;
}

int app_rec_trained_csv(const struct app_rec_trained *t, struct buf *out, struct px_err *err)
{
    const struct {
        const char *name;
        const struct app_rec_scores *s;
    } rows[] = {{"gat", &t->gat}, {"popularity", &t->popularity}, {"matrix_factorisation", &t->mf}};
    int rc = buf_printf(out, err, "model,recall_at_5,recall_at_10,ndcg_at_10,hit_rate_at_10,"
                                  "customers\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && rc == PX_OK; i++) {
        const struct app_rec_scores *s = rows[i].s;
        rc = buf_printf(out, err, "%s,%.6f,%.6f,%.6f,%.6f,%zu\n", rows[i].name, s->recall5,
                        s->recall10, s->ndcg10, s->hit10, s->customers);
    }
    return rc;
}
