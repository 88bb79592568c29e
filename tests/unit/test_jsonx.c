// test_jsonx.c — JSON helpers: string escaping round-trips through cJSON, trailing data after a
// value is rejected with its offset, typed getters range-check and name the key; cJSON allocates
// through px_malloc, and a failed allocation while parsing is PX_ENOMEM, not "invalid JSON".
#include <math.h>
#include <string.h>

#include "testutil.h"

#include "jsonx.h"
#include "mem.h"

static void test_put_string(void **state)
{
    (void)state;
    static const char *const cases[] = {"", "plain", "quote \" and \\ backslash", "tab\there",
                                        "nul-free \x01\x1f\x7f ctl", "UTF-8 Zürich 北京 😀"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;
        buf_init(&b, 1024);
        assert_int_equal(jsonx_put_string(&b, cases[i], strlen(cases[i]), NULL), PX_OK);
        cJSON *j = cJSON_Parse(b.data);
        if (j == NULL || !cJSON_IsString(j) || strcmp(j->valuestring, cases[i]) != 0) {
            fail_msg("case %zu: '%s' does not round-trip", i, b.data);
        }
        cJSON_Delete(j);
        buf_free(&b);
    }
    struct buf small;
    buf_init(&small, 4);
    struct px_err err = {0};
    assert_int_equal(jsonx_put_string(&small, "toolong", 7, &err), PX_ELIMIT);
    buf_free(&small);
}

static void test_put_number_and_key(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 256);
    assert_int_equal(buf_append(&b, "{", 1, NULL), PX_OK);
    assert_int_equal(jsonx_put_key(&b, "a", true, NULL), PX_OK);
    assert_int_equal(jsonx_put_number(&b, 0.1, 17, NULL), PX_OK);
    assert_int_equal(jsonx_put_key(&b, "b\"", false, NULL), PX_OK);
    assert_int_equal(jsonx_put_number(&b, NAN, 6, NULL), PX_OK);
    assert_int_equal(jsonx_put_key(&b, "c", false, NULL), PX_OK);
    assert_int_equal(jsonx_put_number(&b, -INFINITY, 6, NULL), PX_OK);
    assert_int_equal(jsonx_put_key(&b, "d", false, NULL), PX_OK);
    assert_int_equal(jsonx_put_number(&b, 1234567.0, 3, NULL), PX_OK);
    assert_int_equal(jsonx_put_key(&b, "e", false, NULL), PX_OK); // round trip: 15 digits do
    assert_int_equal(jsonx_put_number(&b, 0.95, JSONX_ROUND_TRIP, NULL), PX_OK);
    assert_int_equal(jsonx_put_key(&b, "f", false, NULL), PX_OK); // 15 do not: 17
    assert_int_equal(jsonx_put_number(&b, 0.1 + 0.2, JSONX_ROUND_TRIP, NULL), PX_OK);
    assert_int_equal(buf_append(&b, "}", 1, NULL), PX_OK);
    assert_string_equal(b.data, "{\"a\": 0.10000000000000001, \"b\\\"\": null, \"c\": null, \"d\": "
                                "1.23e+06, \"e\": 0.95, \"f\": 0.30000000000000004}");
    // what it wrote parses back, and 17 digits give the same double
    cJSON *j = NULL;
    assert_int_equal(jsonx_parse(b.data, b.len, "t", &j, NULL), PX_OK);
    assert_true(cJSON_GetObjectItem(j, "a")->valuedouble == 0.1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "c")));
    // a parsed value written back: compact, keys escaped, numbers round-tripping
    struct buf w;
    buf_init(&w, 256);
    assert_int_equal(jsonx_put_value(&w, j, NULL), PX_OK);
    assert_string_equal(w.data, "{\"a\": 0.10000000000000001, \"b\\\"\": null, \"c\": null, \"d\": 1230000, "
                                "\"e\": 0.94999999999999996, \"f\": 0.30000000000000004}");
    buf_reset(&w);
    cJSON *arr = NULL;
    const char *text = "[true,false,[],{},\"x\\u0001\"]";
    assert_int_equal(jsonx_parse(text, strlen(text), "t", &arr, NULL), PX_OK);
    assert_int_equal(jsonx_put_value(&w, arr, NULL), PX_OK);
    assert_string_equal(w.data, "[true, false, [], {}, \"x\\u0001\"]");
    cJSON_Delete(arr);
    buf_free(&w);
    cJSON_Delete(j);
    buf_free(&b);
}

static void test_parse_and_getters(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"a\": 1}  \n", PX_OK, ""},
        {"{\"a\": 1} {\"b\": 2}", PX_EFORMAT, "unexpected data after the JSON value at byte 9"},
        {"{\"a\": ", PX_EFORMAT, "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = NULL;
        struct px_err err = {0};
        int rc = jsonx_parse(cases[i].text, strlen(cases[i].text), "t.json", &j, &err);
        if (rc != cases[i].code || strstr(err.msg, cases[i].msg) == NULL) {
            fail_msg("case %zu: %d '%s'", i, rc, err.msg);
        }
        cJSON_Delete(j);
    }
    cJSON *j = cJSON_Parse("{\"n\": 7, \"f\": 2.5, \"s\": \"x\", \"b\": true}");
    int64_t n = 0;
    double d = 0;
    const char *s = NULL;
    bool b = false;
    struct px_err err = {0};
    assert_int_equal(jsonx_get_int(j, "n", true, 0, 0, 10, &n, "t", &err), PX_OK);
    assert_int_equal(n, 7);
    assert_int_equal(jsonx_get_int(j, "n", true, 0, 0, 5, &n, "t", &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "\"n\" is 7, outside 0..5"));
    assert_int_equal(jsonx_get_int(j, "f", true, 0, 0, 5, &n, "t", &err), PX_EFORMAT);
    assert_int_equal(jsonx_get_double(j, "f", true, 0, 0, 5, &d, "t", &err), PX_OK);
    assert_int_equal(jsonx_get_string(j, "s", true, NULL, &s, "t", &err), PX_OK);
    assert_string_equal(s, "x");
    assert_int_equal(jsonx_get_bool(j, "b", true, false, &b, "t", &err), PX_OK);
    assert_true(b);
    assert_int_equal(jsonx_get_bool(j, "zz", true, false, &b, "t", &err), PX_EFORMAT);
    assert_non_null(strstr(err.msg, "required key \"zz\" is missing"));
    assert_int_equal(jsonx_get_bool(j, "zz", false, true, &b, "t", &err), PX_OK);
    assert_true(b);
    cJSON_Delete(j);
}

static const char k_doc[] = "{\"a\": [1, 2, {\"b\": \"xyz\"}], \"c\": null, \"d\": \"long "
                            "enough to be its own block\"}";

static int parse_doc(void *user, struct px_err *err)
{
    return jsonx_parse(k_doc, sizeof k_doc - 1, "doc", (cJSON **)user, err);
}

static void release_doc(void *user)
{
    cJSON **j = user;
    cJSON_Delete(*j);
    *j = NULL;
}

static void test_cjson_allocates_through_px(void **state)
{
    (void)state;
    size_t base = px_mem_live_bytes();
    cJSON *o = cJSON_CreateObject();
    assert_non_null(o);
    assert_true(px_mem_live_bytes() > base);
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{}");
    cJSON_free(text);
    cJSON_Delete(o);
    assert_int_equal(px_mem_live_bytes(), base);
    px_mem_fail_at(1);
    assert_null(cJSON_CreateObject());
    assert_int_equal(px_mem_fault_fired(), 1);
    px_mem_fail_at(0);
    // every node and string of the parse fails in turn: PX_ENOMEM each time, nothing leaked
    cJSON *j = NULL;
    long n = tu_check_alloc_failures(parse_doc, release_doc, &j);
    assert_true(n >= 9);
    struct px_err err = {0};
    px_mem_fail_at(3);
    assert_int_equal(jsonx_parse(k_doc, sizeof k_doc - 1, "doc", &j, &err), PX_ENOMEM);
    px_mem_fail_at(0);
    assert_null(j);
    assert_string_equal(err.msg, "doc: out of memory parsing JSON");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_string),
        cmocka_unit_test(test_put_number_and_key),
        cmocka_unit_test(test_parse_and_getters),
        cmocka_unit_test(test_cjson_allocates_through_px),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
