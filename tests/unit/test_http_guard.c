// test_http_guard.c — the HTTP layer's request guard (guard.h: Host, Origin, framing, %00) and
// request budgets (budget.h), without sockets.
#include <stdio.h>
#include <string.h>

#include "budget.h"
#include "guard.h"
#include "mem.h"
#include "server.h"
#include "testutil.h"

static void test_hosts_loopback(void **state)
{
    (void)state;
    struct guard_hosts g;
    struct px_err err = {0};
    const char *extra[] = {"Prospect.Bank.Example", "10.1.2.3"};
    assert_int_equal(guard_hosts_init(&g, "127.0.0.1", "127.0.0.1", extra, 2, &err), PX_OK);
    assert_true(guard_host_ok(&g, "127.0.0.1:8080"));
    assert_true(guard_host_ok(&g, "127.0.0.1"));
    assert_true(guard_host_ok(&g, "localhost:8080"));
    assert_true(guard_host_ok(&g, "LocalHost."));
    assert_true(guard_host_ok(&g, "prospect.bank.example:443"));
    assert_true(guard_host_ok(&g, "10.1.2.3:8080"));
    assert_true(guard_host_ok(&g, NULL)); // HTTP/1.0
    assert_false(guard_host_ok(&g, "attacker.example:8080"));
    assert_false(guard_host_ok(&g, "127.0.0.2:8080")); // another address than the bound one
    assert_false(guard_host_ok(&g, "localhost.attacker.example"));
    assert_false(guard_host_ok(&g, "localhost:80:80"));
    assert_false(guard_host_ok(&g, "localhost:http"));
    assert_false(guard_host_ok(&g, ""));
    assert_false(guard_host_ok(&g, "[::1]:8080"));
    // a state-changing request from another origin
    assert_true(guard_origin_ok(&g, "GET", "http://attacker.example"));
    assert_true(guard_origin_ok(&g, "POST", NULL));
    assert_true(guard_origin_ok(&g, "POST", "http://localhost:8080"));
    assert_true(guard_origin_ok(&g, "POST", "https://prospect.bank.example"));
    assert_false(guard_origin_ok(&g, "POST", "http://attacker.example:8080"));
    assert_false(guard_origin_ok(&g, "POST", "null"));
    assert_false(guard_origin_ok(&g, "POST", "file://localhost"));
    assert_false(guard_origin_ok(&g, "DELETE", "http://127.0.0.1.attacker.example"));
    assert_false(guard_origin_ok(&g, "POST", "http://localhost:8080/x"));
}

static void test_hosts_wildcard_and_names(void **state)
{
    (void)state;
    struct guard_hosts g;
    struct px_err err = {0};
    assert_int_equal(guard_hosts_init(&g, "0.0.0.0", "0.0.0.0", NULL, 0, &err), PX_OK);
    assert_true(guard_host_ok(&g, "192.168.1.20:8080"));
    assert_true(guard_host_ok(&g, "[fe80::1]:8080"));
    assert_false(guard_host_ok(&g, "localhost:8080")); // not a loopback bind
    assert_false(guard_host_ok(&g, "attacker.example"));
    assert_int_equal(guard_hosts_init(&g, "::1", "::1", NULL, 0, &err), PX_OK);
    assert_true(guard_host_ok(&g, "[::1]:8080"));
    assert_true(guard_host_ok(&g, "localhost"));
    assert_false(guard_host_ok(&g, "127.0.0.1"));
    assert_int_equal(guard_hosts_init(&g, "192.0.2.7", "prospect-1.bank.example", NULL, 0, &err),
                     PX_OK);
    assert_true(guard_host_ok(&g, "prospect-1.bank.example:8080"));
    assert_true(guard_host_ok(&g, "192.0.2.7"));
    assert_false(guard_host_ok(&g, "localhost"));
    // bad names
    const char *bad[] = {"http://x.example", "x.example:8080", "x example", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(guard_hosts_init(&g, "127.0.0.1", NULL, &bad[i], 1, &err), PX_EINVAL);
    }
    assert_non_null(strstr(err.msg, "--allowed-host"));
    const char *many[LIMIT_HTTP_ALLOWED_HOSTS + 1];
    for (size_t i = 0; i <= LIMIT_HTTP_ALLOWED_HOSTS; i++) many[i] = "a.example";
    assert_int_equal(guard_hosts_init(&g, "127.0.0.1", NULL, many, LIMIT_HTTP_ALLOWED_HOSTS + 1,
                                      &err),
                     PX_ELIMIT);
}

static void test_framing(void **state)
{
    (void)state;
    struct guard_framing f = {.n_content_length = 1, .n_host = 1, .http11 = true};
    assert_null(guard_framing(&f));
    f.n_content_length = 2;
    assert_non_null(strstr(guard_framing(&f), "duplicate Content-Length"));
    f = (struct guard_framing){.n_content_length = 1, .n_transfer_encoding = 1,
                               .transfer_encoding = "chunked", .n_host = 1};
    assert_non_null(strstr(guard_framing(&f), "both"));
    f.n_content_length = 0;
    assert_null(guard_framing(&f));
    f.transfer_encoding = "gzip, chunked";
    assert_non_null(guard_framing(&f));
    f = (struct guard_framing){.n_host = 2};
    assert_non_null(strstr(guard_framing(&f), "Host"));
    f = (struct guard_framing){.http11 = true};
    assert_non_null(guard_framing(&f));
    f.http11 = false;
    assert_null(guard_framing(&f));
    assert_true(guard_target_has_nul("/static/app.js%00.png"));
    assert_true(guard_target_has_nul("/api/search?q=a%00b"));
    assert_false(guard_target_has_nul("/api/search?q=100%25"));
    assert_false(guard_target_has_nul("/api/search?q=%200"));
}

static void test_budget(void **state)
{
    (void)state;
    struct budget *b = NULL;
    struct px_err err = {0};
    unsigned retry = 0;
    assert_int_equal(budget_new(2, 4, &b, &err), PX_OK);
    for (int i = 0; i < 4; i++) assert_true(budget_take(b, "key:a", 100.0, &retry));
    assert_false(budget_take(b, "key:a", 100.0, &retry));
    assert_int_equal(retry, 1);
    assert_true(budget_take(b, "ip:127.0.0.1", 100.0, &retry)); // its own bucket
    assert_true(budget_take(b, "key:a", 100.5, &retry));        // one back after 0.5 s
    assert_false(budget_take(b, "key:a", 100.5, &retry));
    // more clients than slots: refilled ones are reused, the table never refuses for space
    for (int i = 0; i < 3 * LIMIT_HTTP_BUDGETS; i++) {
        char who[32];
        snprintf(who, sizeof who, "ip:10.0.%d.%d", i / 250, i % 250);
        assert_true(budget_take(b, who, 200.0 + i * 10.0, NULL));
    }
    budget_free(b);
    assert_int_equal(budget_new(0, 1, &b, &err), PX_OK); // no budget
    for (int i = 0; i < 1000; i++) assert_true(budget_take(b, "key:a", 0, NULL));
    budget_free(b);
    assert_int_equal(budget_new(-1, 1, &b, &err), PX_EINVAL);
    assert_null(b);
}

static int open_budget(void *user, struct px_err *err)
{
    (void)user;
    struct budget *b = NULL;
    int rc = budget_new(5, 10, &b, err);
    if (rc == PX_OK) budget_take(b, "key:x", 1.0, NULL);
    budget_free(b);
    return rc;
}

static void release_nothing(void *user)
{
    (void)user; // open_budget frees what it made
}

static void test_budget_alloc_failures(void **state)
{
    (void)state;
    assert_true(tu_check_alloc_failures(open_budget, release_nothing, NULL) >= 1);
}

// server_start's cleanup on every failure path (budget, workers, the server itself), and
// server_stop's: a loopback server on a free port, started and stopped.
static int open_server(void *user, struct px_err *err)
{
    struct api_ctx *ctx = user;
    struct server_params p = server_default_params();
    struct server *s = NULL;
    p.port = 0;
    p.n_threads = 2;
    int rc = server_start(&p, ctx, &s, err);
    if (rc == PX_OK && server_port(s) <= 0) rc = PX_EINTERNAL;
    server_stop(s);
    return rc;
}

static void test_server_alloc_failures(void **state)
{
    (void)state;
    static struct api_ctx ctx; // no book, no access: nothing is served here
    assert_true(tu_check_alloc_failures(open_server, release_nothing, &ctx) >= 3);
}

static void test_server_resolve(void **state)
{
    (void)state;
    struct server_addr a;
    struct px_err err = {0};
    assert_int_equal(server_resolve("localhost", &a, &err), PX_OK);
    assert_string_equal(a.text, "127.0.0.1");
    assert_true(a.loopback);
    assert_int_equal(server_resolve("::1", &a, &err), PX_OK);
    assert_true(a.loopback);
    assert_int_equal(server_resolve("0.0.0.0", &a, &err), PX_OK);
    assert_false(a.loopback);
    assert_int_equal(server_resolve("foo.invalid", &a, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "does not resolve"));
    assert_int_equal(server_resolve("", &a, &err), PX_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts_loopback), cmocka_unit_test(test_hosts_wildcard_and_names),
        cmocka_unit_test(test_framing),        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_budget_alloc_failures), cmocka_unit_test(test_server_alloc_failures),
        cmocka_unit_test(test_server_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
