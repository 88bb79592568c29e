// test_audit_sent.c — the audit log records what was sent (issue 17, item 4), end to end over
// real sockets: on a 1,100-customer book, `/invocations` with 64 queries and top_n 1000 (inside
// the documented limits, but an answer of ~68 MiB) is refused with a 413 that names
// LIMIT_HTTP_RESPONSE before any audit row is written; a 64-query batch that fits is audited
// once, and that row's customer count and ids are exactly the predictions sent; /api/search
// audits what it answers; an answer the client never reads (it resets the connection) leaves
// a "failed" row after its audit row.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "testbank.h"
#include "testhttp.h"
#include "testutil.h"

#define N_QUERIES 64

static char g_dir[256], g_db[512];
static pid_t g_pid = -1;
static int g_port;

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    tu_generate_import(g_dir, "b.csv", 1100, 11, g_db);
    char log[512];
    snprintf(log, sizeof log, "%s/serve.log", g_dir);
    const char *argv[] = {"serve", "--db", g_db, "--port", "0", "--embedder", "/nonexistent-model", NULL};
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

// `prospect audit --json`, one parsed row per line, in a cJSON array (owned).
static cJSON *read_audit(void)
{
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "audit --db %s --json --limit 100000", g_db);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) fail_msg("audit: %s", err);
    cJSON *rows = cJSON_CreateArray();
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        if (j == NULL) fail_msg("audit line is not JSON: %.200s", line);
        cJSON_AddItemToArray(rows, j);
    }
    free(out);
    free(err);
    return rows;
}

static int n_audit_rows(void)
{
    cJSON *rows = read_audit();
    int n = cJSON_GetArraySize(rows);
    cJSON_Delete(rows);
    return n;
}

// {"inputs": {"query": [64 distinct queries]}, "params": {"top_n": top}} (owned)
static char *batch(int top)
{
    static const char *const words[] = {"affluent retirees", "young customers", "customers over",
                                        "good credit", "high income", "savers"};
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    n += (size_t)snprintf(b, cap, "{\"inputs\": {\"query\": [");
    for (int i = 0; i < N_QUERIES; i++) {
        n += (size_t)snprintf(b + n, cap - n, "%s\"%s %d\"", i ? ", " : "", words[i % 6], 20 + i);
    }
    snprintf(b + n, cap - n, "]}, \"params\": {\"top_n\": %d}}", top);
    return b;
}

static void test_oversized_batch_refused_before_audit(void **state)
{
    (void)state;
    int before = n_audit_rows();
    char *body = batch(1000), *b = NULL;
    long st = th_request(g_port, "POST", "/invocations", "application/json", NULL, body,
                         strlen(body), &b);
    if (st != 413) fail_msg("64 x top_n 1000: status %ld, want 413: %.300s", st, b);
    assert_non_null(strstr(b, "payload_too_large"));
    assert_non_null(strstr(b, "LIMIT_HTTP_RESPONSE"));
    assert_non_null(strstr(b, "64 queries x top_n 1000"));
    assert_non_null(strstr(b, "e.g. top_n "));
    free(b);
    free(body);
    assert_int_equal(n_audit_rows(), before); // nothing recorded: nothing was sent
}

// The id in a prediction's "Customer" text ("Customer ID: X, Age: …").
static void prediction_id(const cJSON *p, char *out, size_t n)
{
    const char *c = cJSON_GetObjectItem(p, "Customer")->valuestring;
    const char *s = strstr(c, "Customer ID: ");
    assert_non_null(s);
    s += strlen("Customer ID: ");
    size_t k = strcspn(s, ",");
    snprintf(out, n, "%.*s", (int)k, s);
}

static void test_batch_audited_once(void **state)
{
    (void)state;
    int before = n_audit_rows();
    char *body = batch(40), *b = NULL;
    long st = th_request(g_port, "POST", "/invocations", "application/json", NULL, body,
                         strlen(body), &b);
    if (st != 200) fail_msg("64 x top_n 40: status %ld: %.300s", st, b);
    cJSON *ans = cJSON_Parse(b);
    free(b);
    free(body);
    const cJSON *pred = cJSON_GetObjectItem(ans, "predictions");
    assert_int_equal(cJSON_GetArraySize(pred), N_QUERIES);

    cJSON *rows = read_audit();
    assert_int_equal(cJSON_GetArraySize(rows), before + 1); // one row for the request
    const cJSON *row = cJSON_GetArrayItem(rows, before);
    assert_string_equal(cJSON_GetObjectItem(row, "action")->valuestring, "invocations");
    // the queries, in order, as a JSON array
    cJSON *queries = cJSON_Parse(cJSON_GetObjectItem(row, "query")->valuestring);
    assert_int_equal(cJSON_GetArraySize(queries), N_QUERIES);
    assert_string_equal(cJSON_GetArrayItem(queries, 1)->valuestring, "young customers 21");
    cJSON_Delete(queries);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(row, "plan")), N_QUERIES);
    // the ids sent, query by query, and their count
    const cJSON *ids = cJSON_GetObjectItem(row, "customer_ids");
    assert_int_equal(cJSON_GetArraySize(ids), N_QUERIES);
    int sent = 0;
    for (int q = 0; q < N_QUERIES; q++) {
        const cJSON *pq = cJSON_GetArrayItem(pred, q), *iq = cJSON_GetArrayItem(ids, q);
        assert_int_equal(cJSON_GetArraySize(pq), cJSON_GetArraySize(iq));
        for (int i = 0; i < cJSON_GetArraySize(pq); i++) {
            char id[64];
            prediction_id(cJSON_GetArrayItem(pq, i), id, sizeof id);
            assert_string_equal(cJSON_GetArrayItem(iq, i)->valuestring, id);
            sent++;
        }
    }
    assert_true(sent > 0);
    assert_int_equal(cJSON_GetObjectItem(row, "n_results")->valueint, sent);
    cJSON_Delete(rows);
    cJSON_Delete(ans);
}

static void test_search_audits_what_it_sent(void **state)
{
    (void)state;
    int before = n_audit_rows();
    char *b = NULL;
    assert_int_equal(th_request(g_port, "GET", "/api/search?q=over%2050&top=1000", NULL, NULL,
                                NULL, 0, &b),
                     200);
    cJSON *ans = cJSON_Parse(b);
    free(b);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(ans, "results"));
    cJSON_Delete(ans);
    cJSON *rows = read_audit();
    assert_int_equal(cJSON_GetArraySize(rows), before + 1);
    const cJSON *row = cJSON_GetArrayItem(rows, before);
    assert_string_equal(cJSON_GetObjectItem(row, "action")->valuestring, "search");
    assert_int_equal(cJSON_GetObjectItem(row, "n_results")->valueint, n);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(row, "customer_ids")), n);
    cJSON_Delete(rows);
}

// The audit row keeps how the query was read: the plan's not-understood spans and readings
// (issue 11), the same members the answer carried.
static void test_audit_keeps_understanding(void **state)
{
    (void)state;
    int before = n_audit_rows();
    char *b = NULL;
    assert_int_equal(th_request(g_port, "GET", "/api/search?q=over%2050%20with%20over%20%24250k",
                                NULL, NULL, NULL, 0, &b),
                     200);
    cJSON *ans = cJSON_Parse(b);
    free(b);
    assert_non_null(ans);
    const cJSON *nu = cJSON_GetObjectItem(ans, "not_understood");
    assert_int_equal(cJSON_GetArraySize(nu), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(nu, 0), "text")->valuestring,
                        "over $250k");
    cJSON *rows = read_audit();
    assert_int_equal(cJSON_GetArraySize(rows), before + 1);
    const cJSON *plan = cJSON_GetObjectItem(cJSON_GetArrayItem(rows, before), "plan");
    assert_true(cJSON_IsObject(plan));
    const cJSON *anu = cJSON_GetObjectItem(plan, "not_understood");
    assert_int_equal(cJSON_GetArraySize(anu), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(anu, 0), "text")->valuestring,
                        "over $250k");
    assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(anu, 0), "reason")->valuestring,
                           "no column"));
    const cJSON *rd = cJSON_GetObjectItem(plan, "readings");
    assert_int_equal(cJSON_GetArraySize(rd), 1); // "over 50" read as the age
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(rd, 0), "text")->valuestring,
                        "over 50");
    cJSON_Delete(rows);
    cJSON_Delete(ans);
}

// A client that sends a big batch and resets the connection without reading the answer: the
// request's audit row is followed by a "failed" row for it.
static void test_unsent_answer_recorded(void **state)
{
    (void)state;
    int before = n_audit_rows();
    char *body = batch(300), req[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int rcvbuf = 4096; // a small window: the ~20 MiB answer cannot be sent before the reset
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int n = snprintf(req, sizeof req,
                     "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n",
                     g_port, strlen(body));
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    assert_int_equal(send(fd, body, strlen(body), 0), (ssize_t)strlen(body));
    // wait for the audit row (the answer is built), then reset the connection
    for (int i = 0; i < 200 && n_audit_rows() == before; i++) {
        usleep(50 * 1000);
    }
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
    free(body);
    cJSON *rows = NULL;
    for (int i = 0; i < 100; i++) {
        cJSON_Delete(rows);
        rows = read_audit();
        if (cJSON_GetArraySize(rows) >= before + 2) break;
        usleep(100 * 1000);
    }
    assert_int_equal(cJSON_GetArraySize(rows), before + 2);
    const cJSON *sent = cJSON_GetArrayItem(rows, before), *failed = cJSON_GetArrayItem(rows, before + 1);
    assert_string_equal(cJSON_GetObjectItem(sent, "action")->valuestring, "invocations");
    assert_string_equal(cJSON_GetObjectItem(failed, "action")->valuestring, "failed");
    const char *why = cJSON_GetObjectItem(failed, "query")->valuestring;
    if (strncmp(why, "invocations: ", 13) != 0) fail_msg("failed row: %s", why);
    assert_int_equal(cJSON_GetObjectItem(failed, "n_results")->valueint, 0);
    cJSON_Delete(rows);
    // the server still answers
    char *b = NULL;
    assert_int_equal(th_request(g_port, "GET", "/ping", NULL, NULL, NULL, 0, &b), 200);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oversized_batch_refused_before_audit),
        cmocka_unit_test(test_batch_audited_once),
        cmocka_unit_test(test_search_audits_what_it_sent),
        cmocka_unit_test(test_audit_keeps_understanding),
        cmocka_unit_test(test_unsent_answer_recorded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
