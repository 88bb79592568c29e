// test_serve.c — `prospect serve` end to end over real sockets with libcurl: a generated bank
// is imported, the server starts with --port 0 (it prints the port it bound on stderr), and
// every route family, the MLflow input forms, 415/400/413/404, 8 concurrent clients, the
// refusal of a non-loopback bind without API keys and a clean exit 0 on SIGTERM are checked.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "limits.h"
#include "testhttp.h"
#include "testutil.h"

static char g_dir[256];
static pid_t g_pid = -1;
static int g_port;

static long http(const char *method, const char *path, const char *ctype, const char *body,
                 size_t body_len, char **out)
{
    return th_request(g_port, method, path, ctype, NULL, body, body_len, out);
}

static cJSON *get_json(const char *path, long want)
{
    char *b = NULL;
    long st = http("GET", path, NULL, NULL, 0, &b);
    if (st != want) fail_msg("GET %s: status %ld, want %ld: %.300s", path, st, want, b);
    cJSON *j = cJSON_Parse(b);
    if (j == NULL) fail_msg("GET %s: not JSON: %.300s", path, b);
    free(b);
    return j;
}

static cJSON *post_json(const char *body, const char *ctype, long want)
{
    char *b = NULL;
    long st = http("POST", "/invocations", ctype, body, strlen(body), &b);
    if (st != want) fail_msg("POST %.80s: status %ld, want %ld: %.300s", body, st, want, b);
    cJSON *j = cJSON_Parse(b);
    if (j == NULL) fail_msg("POST: not JSON: %.300s", b);
    free(b);
    return j;
}

static int setup(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(args, sizeof args, "generate --rows 300 --seed 11 --out %s/b.csv && $PROSPECT_BIN import --db %s/t.db --csv %s/b.csv",
             g_dir, g_dir, g_dir);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    char db[512], log[512];
    snprintf(db, sizeof db, "%s/t.db", g_dir);
    snprintf(log, sizeof log, "%s/serve.log", g_dir);
    const char *argv[] = {
        "serve", "--db", db, "--port", "0", "--threads", "4", "--embedder", "/nonexistent-model",
        NULL};
    g_pid = th_serve(argv, log, &g_port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_pid > 0) {
        kill(g_pid, SIGKILL);
        waitpid(g_pid, NULL, 0);
    }
    tu_rmtree(g_dir);
    curl_global_cleanup();
    return 0;
}

static void test_probes_and_api(void **state)
{
    (void)state;
    cJSON *j = get_json("/ping", 200);
    cJSON_Delete(j);
    j = get_json("/version", 200);
    assert_string_equal(cJSON_GetObjectItem(j, "version")->valuestring, PX_VERSION);
    cJSON_Delete(j);
    j = get_json("/api/search?q=credit%20score%20over%20700&top=5", 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 5);
    cJSON_Delete(j);
    j = get_json("/api/customers/CUST-000007", 200);
    assert_string_equal(cJSON_GetObjectItem(j, "customer_id")->valuestring, "CUST-000007");
    cJSON_Delete(j);
    j = get_json("/api/customers/CUST-000007/similar?top=4", 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 4);
    cJSON_Delete(j);
    j = get_json("/api/schema", 200);
    assert_int_equal(cJSON_GetObjectItem(j, "rows")->valueint, 300);
    cJSON_Delete(j);
    j = get_json("/api/customers/NOBODY", 404);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code")->valuestring, "not_found");
    cJSON_Delete(j);
    j = get_json("/no/such/route", 404);
    cJSON_Delete(j);
    j = get_json("/openapi.json", 200);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "paths"), "/invocations"));
    cJSON_Delete(j);
    char *m = NULL;
    assert_int_equal(http("GET", "/metrics", NULL, NULL, 0, &m), 200);
    assert_non_null(strstr(m, "prospect_http_requests_total{method=\"GET\",route=\"/ping\"} "));
    assert_non_null(strstr(m, "\nprospect_customers 300\n"));
    // no weights here: no query is embedded, so the cache counts nothing
    assert_non_null(strstr(m, "prospect_query_cache_total{result=\"miss\"} 0\n"));
    free(m);
}

static void test_invocations(void **state)
{
    (void)state;
    static const char *const forms[] = {
        "{\"inputs\": {\"query\": [\"young customers\"]}, \"params\": {\"top_n\": 3, \"show_score\": true}}",
        "{\"dataframe_split\": {\"columns\": [\"query\"], \"data\": [[\"young customers\"]]}, \"params\": {\"top_n\": 3}}",
        "{\"dataframe_records\": [{\"query\": \"young customers\"}], \"params\": {\"top_n\": 3}}",
        "{\"instances\": [{\"query\": \"young customers\"}], \"params\": {\"top_n\": 3}}",
    };
    for (size_t i = 0; i < 4; i++) {
        cJSON *j = post_json(forms[i], "application/json", 200);
        const cJSON *p = cJSON_GetObjectItem(j, "predictions");
        assert_int_equal(cJSON_GetArraySize(p), 3);
        const cJSON *first = cJSON_GetArrayItem(p, 0);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(first, "Customer")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(first, "Similarity")));
        cJSON_Delete(j);
    }
    cJSON *j = post_json("{\"inputs\": {\"query\": [\"a\", \"b\"]}, \"params\": {\"top_n\": 2}}", "application/json", 200);
    const cJSON *p = cJSON_GetObjectItem(j, "predictions");
    assert_int_equal(cJSON_GetArraySize(p), 2);
    assert_true(cJSON_IsArray(cJSON_GetArrayItem(p, 1)));
    cJSON_Delete(j);
    cJSON_Delete(post_json(forms[0], "text/plain", 415));
    cJSON_Delete(post_json("{oops", "application/json", 400));
    size_t n = (size_t)LIMIT_HTTP_SCORE_BODY + 1000; // the route's body limit (routes.c)
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    char *b = NULL;
    assert_int_equal(http("POST", "/invocations", "application/json", big, n, &b), 413);
    assert_non_null(strstr(b, "payload_too_large"));
    free(b);
    free(big);
}

static void *client(void *arg)
{
    long *ok = arg;
    *ok = 1;
    for (int i = 0; i < 5; i++) {
        char *b = NULL;
        const char *q = "{\"inputs\": {\"query\": [\"retired with savings\"]}, \"params\": {\"top_n\": 2}}";
        long st = http("POST", "/invocations", "application/json", q, strlen(q), &b);
        *ok &= st == 200 && strstr(b, "\"predictions\"") != NULL;
        free(b);
        st = http("GET", "/api/search?q=over%2050&top=3", NULL, NULL, 0, &b);
        *ok &= st == 200;
        free(b);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    pthread_t t[8];
    long ok[8];
    for (int i = 0; i < 8; i++) assert_int_equal(pthread_create(&t[i], NULL, client, &ok[i]), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        if (!ok[i]) fail_msg("client %d saw a failure", i);
    }
}

static void test_bind_refused(void **state)
{
    (void)state;
    char args[512], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "serve --db %s/t.db --bind 0.0.0.0 --port 0", g_dir);
    assert_int_equal(tu_run_prospect(args, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "binding beyond loopback requires API keys"));
    free(out);
    free(err);
}

// last: SIGTERM stops the server with exit 0
static void test_sigterm(void **state)
{
    (void)state;
    assert_int_equal(th_stop(g_pid), 0);
    g_pid = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probes_and_api), cmocka_unit_test(test_invocations),
        cmocka_unit_test(test_concurrent),     cmocka_unit_test(test_bind_refused),
        cmocka_unit_test(test_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
