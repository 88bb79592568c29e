// test_propmodel.c — propensity models in the registry (kinds/propmodel.c): a registry written
// before run.json moved to buf + jsonx (tests/data/registry_v1: cJSON's tab-indented layout)
// still loads, lists and scores through the façade; a save writes a record the loader reads back
// (features, threshold, the artifact's sha256) in the new layout; and a publish (propmodel_save)
// fails cleanly at every allocation: PX_ENOMEM, nothing leaked, no version and no staging
// directory left behind.
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_prop.h"
#include "dataset.h"
#include "experiment.h"
#include "fsx.h"
#include "mem.h"
#include "propmodel.h"
#include "testutil.h"

static char g_dir[256], g_reg[300], g_csv[400];

static int setup(void **state)
{
    (void)state;
    char src[512], cmd[4096];
    tu_mkdtemp(g_dir, sizeof g_dir);
    tu_data_path(src, sizeof src, "registry_v1");
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp -r %s/old %s/ && cp %s/small.csv %s/", g_reg, src,
             g_reg, src, g_dir);
    snprintf(g_csv, sizeof g_csv, "%s/small.csv", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static void test_old_registry_loads(void **state)
{
    (void)state;
    struct px_err err = {0};
    struct app_prop_model *m = NULL;
    struct app_prop_data *d = NULL;
    struct app_prop_scores *s = NULL;
    if (app_prop_load(g_reg, "old", 1, &m, &err) != PX_OK) {
        fail_msg("old/1: %s", err.msg);
    }
    const struct app_prop_info *i = app_prop_model_info(m);
    assert_int_equal(i->version, 1);
    assert_string_equal(i->target, "bought");
    assert_string_equal(i->id_column, "customer_id");
    assert_int_equal(i->n_features, 3); // income, region=north, region=south
    assert_true(isfinite(i->threshold));
    assert_int_equal(app_prop_data_csv(m, g_csv, true, &d, &err), PX_OK);
    const struct app_score_params sp = {0};
    assert_int_equal(app_prop_score(m, d, &sp, &s, &err), PX_OK);
    const struct app_score_view *v = app_prop_scores_view(s);
    assert_int_equal(v->n_rows, 80);
    double sum[2] = {0, 0};
    size_t n[2] = {0, 0};
    for (size_t r = 0; r < v->n_rows; r++) {
        assert_true(v->rows[r].actual == 0 || v->rows[r].actual == 1);
        sum[v->rows[r].actual] += v->rows[r].probability;
        n[v->rows[r].actual]++;
    }
    assert_true(sum[1] / (double)n[1] > sum[0] / (double)n[0] + 0.2); // income decides most
    app_prop_scores_free(s);
    app_prop_data_free(d);
    app_prop_model_free(m);

    // listed, and the record is served as written (plus id and version)
    struct app_prop_runs *runs = NULL;
    assert_int_equal(app_prop_runs_list(g_reg, NULL, &runs, &err), PX_OK);
    assert_int_equal(app_prop_runs_view(runs)->n, 1);
    assert_int_equal(app_prop_runs_view(runs)->skipped, 0);
    assert_true(app_prop_runs_view(runs)->runs[0].test[0] > 0.5);
    app_prop_runs_free(runs);
    struct buf b;
    buf_init(&b, 1u << 20);
    assert_int_equal(app_prop_run_json(g_reg, "old@1", &b, &err), PX_OK);
    assert_non_null(strstr(b.data, "{\"id\": \"old@1\", \"version\": 1, \"format\": \"prospect-run\""));
    assert_non_null(strstr(b.data, "\"rows\": 80"));
    buf_free(&b);
}

// A small experiment to save: the fixture's CSV, 2 folds, few rounds.
struct saved {
    struct ml_spec spec;
    struct ml_dataset ds;
    struct ml_experiment e;
    struct ml_experiment_params p;
    int version;
};

static void train(struct saved *t)
{
    struct px_err err = {0};
    memset(t, 0, sizeof *t);
    const struct ml_build_params bp = {.target = "bought"};
    t->p = ml_experiment_default_params();
    t->p.n_folds = 2;
    t->p.xgb.n_rounds = 10;
    t->p.xgb.n_threads = 1;
    assert_int_equal(ml_dataset_build(g_csv, &bp, &t->spec, &t->ds, &err), PX_OK);
    assert_int_equal(ml_experiment_run(&t->ds, &t->p, NULL, NULL, &t->e, &err), PX_OK);
}

static void untrain(struct saved *t)
{
    ml_experiment_free(&t->e);
    ml_dataset_free(&t->ds);
    ml_spec_free(&t->spec);
}

static int save(void *user, struct px_err *err)
{
    struct saved *t = user;
    const struct propmodel_save_info info = {g_csv, "00", t->ds.n_rows, t->ds.n_pos, t->ds.line,
                                             t->e.heldout};
    return propmodel_save(g_reg, "fresh", &t->spec, &t->p, &t->e, &info, &t->version, err);
}

// Entries of reg/fresh other than registry.json and .lock: versions and staging directories.
static int leftovers(void)
{
    
    char path[400];
    snprintf(path, sizeof path, "%s/fresh", g_reg);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        bool other = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                     strcmp(e->d_name, "registry.json") && strcmp(e->d_name, ".lock");
        n += other;
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

static void save_release(void *user)
{
    struct saved *t = user;
    if (t->version == 0 && leftovers() != 0) {
        fail_msg("a failed save left %d entries in the registry", leftovers());
    }
}

static void test_save_roundtrip_and_faults(void **state)
{
    (void)state;
    struct saved t;
    train(&t);
    long points = tu_check_alloc_failures(save, save_release, &t);
    assert_true(points > 10);
    assert_int_equal(t.version, 1);
    assert_int_equal(leftovers(), 1); // the version, nothing else

    // the new layout, read back by the loader
    char path[500], *text = NULL;
    size_t len = 0;
    struct px_err err = {0};
    snprintf(path, sizeof path, "%s/fresh/1/run.json", g_reg);
    assert_int_equal(fsx_read_file(path, 1u << 20, &text, &len, &err), PX_OK);
    assert_int_equal(strncmp(text, "{\n  \"format\": \"prospect-run\",\n  \"format_version\": 1,", 52),
                     0);
    assert_non_null(strstr(text, "\"target_recall\": 0.95,")); // digits that read back
    px_free(text);
    struct propmodel_model m;
    assert_int_equal(propmodel_load(g_reg, "fresh", 1, &m, &err), PX_OK);
    assert_int_equal(m.spec.n_features, t.spec.n_features);
    for (size_t k = 0; k < m.spec.n_features; k++) {
        assert_string_equal(m.spec.features[k].name, t.spec.features[k].name);
        assert_true((m.spec.features[k].level == NULL) == (t.spec.features[k].level == NULL));
    }
    assert_true(m.threshold == t.e.threshold); // 17 digits when 15 do not read back
    propmodel_model_free(&m);
    untrain(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_registry_loads),
        cmocka_unit_test(test_save_roundtrip_and_faults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
