// test_models.c — the propensity routes over HTTP: `prospect serve --registry --propensity-data`
// on a generated bank with a model trained on it; GET /api/models, /api/models/{id} (NAME and
// NAME@VERSION), POST /score (rows in, probabilities and labels out; 415 without JSON, 400 on a
// bad row naming it, 413 over the body limit, 404 for an unknown model), /explain (global,
// dependence, rows, potential), /lookalike and /tipping (the must-holds: List A negatives only,
// distances never decrease, no row twice; "vectors" says which were used); the CLI's --json
// prints the same document as the route (runs, explain, lookalike, tipping); a server without
// --propensity-data explains each model on the training CSV its run record names (404 naming
// the option once that file is gone); scoring takes text/csv and MLflow's dataframe_split with
// the signature enforced (a missing column is a 400 naming it, an extra one a note) and answers
// reason codes; `serve --propensity-model` answers POST /invocations with {"predictions"}; the
// calls are in the audit log.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "csvread.h"
#include "testbank.h"
#include "testhttp.h"
#include "testutil.h"

static char g_dir[256], g_db[512], g_csv[512], g_reg[512], g_log[512];

static int setup(void **state)
{
    (void)state;
    char args[4096], *out = NULL, *err = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    snprintf(g_csv, sizeof g_csv, "%s/b.csv", g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/reg", g_dir);
    snprintf(g_log, sizeof g_log, "%s/serve.log", g_dir);
    tu_generate_import(g_dir, "b.csv", 300, 5, g_db);
    snprintf(args, sizeof args,
             "train --csv %s --target digital_user --name dig --registry %s --folds 3", g_csv,
             g_reg);
    if (tu_run_prospect(args, NULL, &out, &err) != 0)
        fail_msg("setup: %s", err);
    free(out);
    free(err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    curl_global_cleanup();
    return 0;
}

static cJSON *get(int port, const char *path, long want)
{
    char *body = NULL;
    long st = th_request(port, "GET", path, NULL, NULL, NULL, 0, &body);
    if (st != want)
        fail_msg("GET %s: %ld, wanted %ld: %.300s", path, st, want, body ? body : "");
    cJSON *j = cJSON_Parse(body);
    if (j == NULL)
        fail_msg("GET %s: not JSON: %.200s", path, body);
    free(body);
    return j;
}

static long post(int port, const char *path, const char *ctype, const char *body, char **out)
{
    return th_request(port, "POST", path, ctype, NULL, body, strlen(body), out);
}

// GET path and `prospect ARGS --registry REG` (every '#' in args is the data set) print the
// same bytes (the CLI adds a newline).
static void same_document(int port, const char *path, const char *args)
{
    char *body = NULL, *out = NULL, *err = NULL, full[2048];
    size_t k = 0;
    for (const char *a = args; *a && k + 600 < sizeof full; a++) {
        k += *a == '#' ? (size_t)snprintf(full + k, sizeof full - k, "%s", g_csv)
                       : (size_t)snprintf(full + k, sizeof full - k, "%c", *a);
    }
    snprintf(full + k, sizeof full - k, " --registry %s", g_reg);
    assert_int_equal(th_request(port, "GET", path, NULL, NULL, NULL, 0, &body), 200);
    if (tu_run_prospect(full, NULL, &out, &err) != 0) {
        fail_msg("%s: %s", full, err);
    }
    size_t n = strlen(body);
    if (strlen(out) != n + 1 || strncmp(out, body, n) != 0 || out[n] != '\n') {
        fail_msg("GET %s and `prospect %s` differ:\n%.300s\n---\n%.300s", path, args, body, out);
    }
    free(body);
    free(out);
    free(err);
}

// The data set's header and first rows: as CSV text (csv, n bytes) and as a dataframe_split
// document of strings, less the column drop (NULL: none), plus a column shoe_size when extra.
struct sample {
    char csv[16384];
    size_t n;
    cJSON *columns, *data;
    const char *drop;
    bool extra;
    int skip; // the dropped column's index
};

static int sample_record(void *user, size_t index, size_t line, const char *const *f,
                         const size_t *len, size_t n, struct px_err *err)
{
    (void)line;
    (void)len;
    (void)err;
    struct sample *s = user;
    if (index > 3) {
        return PX_OK;
    }
    cJSON *row = index == 0 ? s->columns : cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (index == 0 && s->drop != NULL && strcmp(f[i], s->drop) == 0) {
            s->skip = (int)i;
        }
        if ((int)i != s->skip) {
            cJSON_AddItemToArray(row, cJSON_CreateString(f[i]));
        }
    }
    if (s->extra) {
        cJSON_AddItemToArray(row, index == 0 ? cJSON_CreateString("shoe_size")
                                             : cJSON_CreateNumber(9));
    }
    if (index > 0) {
        cJSON_AddItemToArray(s->data, row);
    }
    return PX_OK;
}

// dataframe_split of the first three rows (caller frees); the same rows as CSV in s->csv.
static char *sample_split(struct sample *s, const char *drop, bool extra)
{
    memset(s, 0, sizeof *s);
    s->drop = drop;
    s->extra = extra;
    s->skip = -1;
    FILE *f = fopen(g_csv, "rb");
    assert_non_null(f);
    int lines = 0;
    while (lines < 4 && fgets(s->csv + s->n, (int)(sizeof s->csv - s->n), f) != NULL) {
        s->n += strlen(s->csv + s->n);
        lines++;
    }
    fclose(f);
    s->columns = cJSON_CreateArray();
    s->data = cJSON_CreateArray();
    struct px_err err = {0};
    assert_int_equal(csvread_memory(s->csv, s->n, "sample", sample_record, s, &err), PX_OK);
    cJSON *doc = cJSON_CreateObject(), *split = cJSON_CreateObject();
    cJSON_AddItemToObject(split, "columns", s->columns);
    cJSON_AddItemToObject(split, "data", s->data);
    cJSON_AddItemToObject(doc, "dataframe_split", split);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

static cJSON *post_ok(int port, const char *path, const char *ctype, const char *body)
{
    char *out = NULL;
    long st = post(port, path, ctype, body, &out);
    if (st != 200)
        fail_msg("POST %s: %ld: %.300s", path, st, out ? out : "");
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    free(out);
    return j;
}

static void check_lists(const cJSON *j, const char *csv_text)
{
    (void)csv_text;
    const cJSON *a = cJSON_GetObjectItem(j, "list_a"), *it = NULL;
    assert_true(cJSON_GetArraySize(a) > 0);
    double prev = -1;
    cJSON_ArrayForEach(it, a)
    {
        double d = cJSON_GetObjectItem(it, "distance")->valuedouble;
        assert_true(d >= prev);
        prev = d;
        const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
        int seen = 0;
        const cJSON *o = NULL;
        cJSON_ArrayForEach(o, a) seen += strcmp(cJSON_GetObjectItem(o, "id")->valuestring, id) == 0;
        assert_int_equal(seen, 1);
    }
    assert_non_null(strstr(cJSON_GetObjectItem(j, "vectors")->valuestring, "standardised"));
}

static void test_routes(void **state)
{
    (void)state;
    int port = 0;
    const char *args[] = {"serve",
                          "--db",
                          g_db,
                          "--port",
                          "0",
                          "--embedder",
                          "/nonexistent-model",
                          "--registry",
                          g_reg,
                          "--propensity-data",
                          g_csv,
                          NULL};
    pid_t pid = th_serve(args, g_log, &port);

    cJSON *j = get(port, "/api/models", 200);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "models"), 0), "id")
            ->valuestring,
        "dig@1");
    cJSON_Delete(j);
    j = get(port, "/api/models/dig", 200);
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "dig@1");
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metrics"), "folds")), 3);
    cJSON_Delete(j);
    cJSON_Delete(get(port, "/api/models/dig@1", 200));
    cJSON_Delete(get(port, "/api/models/dig@2", 404));
    cJSON_Delete(get(port, "/api/models/nope", 404));

    // scoring: text/csv and dataframe_split of the same rows agree, with reason codes
    struct sample smp;
    char *split = sample_split(&smp, NULL, false);
    char *out = NULL;
    cJSON *csv_ans = post_ok(port, "/api/models/dig@1/score", "text/csv", smp.csv);
    j = post_ok(port, "/api/models/dig@1/score?reasons=2", "application/json", split);
    cJSON_free(split);
    cJSON *ra = cJSON_GetObjectItem(csv_ans, "rows"), *r = cJSON_GetObjectItem(j, "rows");
    assert_int_equal(cJSON_GetArraySize(r), 3);
    for (int i = 0; i < 3; i++) {
        cJSON *x = cJSON_GetArrayItem(ra, i), *y = cJSON_GetArrayItem(r, i);
        assert_float_equal(cJSON_GetObjectItem(x, "probability")->valuedouble,
                           cJSON_GetObjectItem(y, "probability")->valuedouble, 1e-9);
        assert_string_equal(cJSON_GetObjectItem(x, "id")->valuestring,
                            cJSON_GetObjectItem(y, "id")->valuestring);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(x, "reasons")), 3);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(y, "reasons")), 2);
        const char *t = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(y, "reasons"),
                                                               0), "text")->valuestring;
        assert_true(strstr(t, " the score by ") != NULL || strstr(t, "hardly") != NULL);
    }
    cJSON_Delete(csv_ans);
    cJSON_Delete(j);
    // the signature: a missing column is a 400 naming it; an extra one is ignored, said once
    split = sample_split(&smp, "monthly_logins", false);
    assert_int_equal(post(port, "/api/models/dig/score", "application/json", split, &out), 400);
    assert_non_null(strstr(out, "column 'monthly_logins' is missing"));
    free(out);
    cJSON_free(split);
    split = sample_split(&smp, NULL, true);
    j = post_ok(port, "/api/models/dig/score", "application/json", split);
    cJSON_free(split);
    // (columns the model leaves out, such as lists before they were features, are named too)
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "notes")), 1);
    assert_non_null(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "notes"), 0)->valuestring,
                           "the model does not read: "));
    assert_non_null(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "notes"), 0)->valuestring,
                           "shoe_size"));
    cJSON_Delete(j);
    const char *rows = "{\"rows\": [{\"monthly_logins\": 40, \"age\": 30}]}";
    assert_int_equal(post(port, "/api/models/dig/score", "text/plain", rows, &out), 415);
    free(out);
    assert_int_equal(post(port, "/api/models/dig/score", "application/json", rows, &out), 400);
    assert_non_null(strstr(out, "row 0: column '"));
    free(out);
    assert_int_equal(post(port, "/api/models/nope/score", "application/json", rows, &out), 404);
    free(out);
    size_t big_n = (5u << 20); // past LIMIT_HTTP_SCORE_BODY
    char *big = malloc(big_n + 1);
    memset(big, ' ', big_n);
    big[0] = '{';
    big[big_n - 1] = '}';
    big[big_n] = '\0';
    long st = post(port, "/api/models/dig/score", "application/json", big, &out);
    assert_int_equal(st, 413);
    free(out);
    free(big);

    // explanations, look-alikes, tipping on the server's data set
    j = get(port, "/api/models/dig/explain?top=5&features=monthly_logins,age", 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "dependence")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "rows")), 5);
    assert_int_equal(cJSON_GetArraySize(
                         cJSON_GetArrayItem(cJSON_GetObjectItem(j, "dependence"), 0)->child->next),
                     300);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "potential")));
    cJSON_Delete(j);
    cJSON_Delete(get(port, "/api/models/dig/explain?features=nope", 400));
    cJSON_Delete(get(port, "/api/models/dig/explain?top=0", 400));
    j = get(port, "/api/models/dig/lookalike?k=2&top=20", 200);
    check_lists(j, NULL);
    cJSON_Delete(j);
    j = get(port, "/api/models/dig/tipping?top=10", 200);
    check_lists(j, NULL);
    assert_non_null(cJSON_GetObjectItem(j, "summary"));
    cJSON_Delete(j);
    cJSON_Delete(get(port, "/api/models/dig/lookalike?vectors=bogus", 400));
    // one document: the CLI's --json prints byte for byte what the route answers
    same_document(port, "/api/models", "runs list --json");
    same_document(port, "/api/models/dig/explain?top=5&features=monthly_logins,age",
                  "explain --model dig --csv # --json --rows 5 --dependence monthly_logins,age");
    same_document(port, "/api/models/dig@1/lookalike?k=2&top=20&vectors=features",
                  "lookalike --model dig@1 --csv # --k 2 --top 20 --vectors features --json");
    same_document(port, "/api/models/dig/tipping?top=10&vectors=features",
                  "tipping --model dig --csv # --top 10 --vectors features --format json");
    // the model, the data set and its SHAP values were made once, then taken from the cache
    char *metrics = NULL;
    assert_int_equal(th_request(port, "GET", "/metrics", NULL, NULL, NULL, 0, &metrics), 200);
    assert_non_null(
        strstr(metrics, "prospect_model_cache_total{part=\"model\",result=\"miss\"} 1\n"));
    assert_non_null(
        strstr(metrics, "prospect_model_cache_total{part=\"data\",result=\"miss\"} 1\n"));
    assert_non_null(
        strstr(metrics, "prospect_model_cache_total{part=\"shap\",result=\"miss\"} 1\n"));
    assert_null(strstr(metrics, "prospect_model_cache_total{part=\"model\",result=\"hit\"} 0\n"));
    free(metrics);
    assert_int_equal(th_stop(pid), 0);

    // the audit log has the calls
    char a[2048], *err = NULL;
    snprintf(a, sizeof a, "audit --db %s --json", g_db);
    assert_int_equal(tu_run_prospect(a, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "model_score"));
    assert_non_null(strstr(out, "model_explain"));
    assert_non_null(strstr(out, "model_tipping"));
    free(out);
    free(err);

    // without --propensity-data a model is explained on the training CSV its run record names
    // (404 naming the option when it is gone); --propensity-model: /invocations scores rows
    const char *args2[] = {"serve",     "--db",      g_db,   "--port",
                           "0",         "--embedder", "/nonexistent-model", "--registry",
                           g_reg,       "--propensity-model", "dig", NULL};
    snprintf(g_log, sizeof g_log, "%s/serve2.log", g_dir); // a fresh log: its port line
    pid = th_serve(args2, g_log, &port);
    cJSON_Delete(get(port, "/api/models/dig", 200));
    cJSON_Delete(get(port, "/api/models/dig/explain?top=3", 200));
    char moved[600];
    snprintf(moved, sizeof moved, "%s.away", g_csv);
    assert_int_equal(rename(g_csv, moved), 0);
    j = get(port, "/api/models/dig/lookalike", 404);
    char *text = cJSON_PrintUnformatted(j);
    assert_non_null(strstr(text, "--propensity-data dig=FILE.csv"));
    cJSON_free(text);
    cJSON_Delete(j);
    assert_int_equal(rename(moved, g_csv), 0);
    split = sample_split(&smp, NULL, false);
    j = post_ok(port, "/invocations", "application/json", split);
    cJSON_free(split);
    cJSON *pred = cJSON_GetObjectItem(j, "predictions");
    assert_int_equal(cJSON_GetArraySize(pred), 3);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(pred, 0), "reasons"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(pred, 0), "label"));
    assert_string_equal(cJSON_GetObjectItem(j, "id")->valuestring, "dig@1");
    cJSON_Delete(j);
    j = post_ok(port, "/invocations", "text/csv", smp.csv);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "predictions")), 3);
    cJSON_Delete(j);
    assert_int_equal(post(port, "/invocations", "application/json",
                          "{\"inputs\": {\"query\": [\"rich\"]}}", &out),
                     400);
    assert_non_null(strstr(out, "is missing"));
    free(out);
    assert_int_equal(th_stop(pid), 0);
    snprintf(a, sizeof a, "audit --db %s --json", g_db);
    assert_int_equal(tu_run_prospect(a, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "model_invocations"));
    free(out);
    free(err);

    // the CLI's reason codes: a column of the CSV, the same phrases
    snprintf(a, sizeof a, "score --model dig --csv %s --registry %s --reasons 2 --top 3 --format csv",
             g_csv, g_reg);
    assert_int_equal(tu_run_prospect(a, NULL, &out, &err), 0);
    assert_non_null(strstr(out, ",to_threshold,reasons\n"));
    assert_non_null(strstr(out, " the score by "));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
