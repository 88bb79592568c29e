// test_utf8.c — base/utf8: the one validator. Table of {bytes, offset of the first bad byte}:
// ASCII, 2-4 byte sequences, the edges of Table 3-7 (overlongs, surrogates, past U+10FFFF),
// stray continuation bytes, truncated sequences, bytes that never start one; and decoding.
#include <string.h>

#include "testutil.h"

#include "utf8.h"

static void test_check(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;   // 0: strlen(s)
        size_t bad; // SIZE_MAX: valid
    } cases[] = {
        {"", 0, SIZE_MAX},
        {"plain ascii", 0, SIZE_MAX},
        {"Z\xc3\xbcrich \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80", 0, SIZE_MAX},
        {"nul\0inside", 10, SIZE_MAX},                     // NUL is well-formed
        {"\xc2\x80\xdf\xbf", 0, SIZE_MAX},                 // U+0080, U+07FF
        {"\xe0\xa0\x80\xef\xbf\xbf", 0, SIZE_MAX},         // U+0800, U+FFFF
        {"\xed\x9f\xbf\xee\x80\x80", 0, SIZE_MAX},         // U+D7FF, U+E000
        {"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 0, SIZE_MAX}, // U+10000, U+10FFFF
        {"\x80", 0, 0},                                    // stray continuation
        {"ab\xbf", 0, 2},
        {"\xc0\x80", 0, 0},         // overlong NUL
        {"x\xc1\xbf", 0, 1},        // overlong
        {"ab\xe0\x9f\xbf", 0, 2},   // overlong 3-byte
        {"\xf0\x8f\xbf\xbf", 0, 0}, // overlong 4-byte
        {"ok \xed\xa0\x80", 0, 3},  // surrogate U+D800
        {"\xed\xbf\xbf", 0, 0},     // surrogate U+DFFF
        {"\xf4\x90\x80\x80", 0, 0}, // U+110000
        {"\xf5\x80\x80\x80", 0, 0}, // F5 never starts one
        {"abc\xff", 0, 3},
        {"x\xe2\x82", 0, 1},  // truncated at the end
        {"x\xe2\x82y", 0, 1}, // truncated by an ASCII byte
        {"\xf0\x9f\x98", 0, 0},
        {"\xc3\xa9\xc3", 0, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].s);
        size_t want = cases[i].bad == SIZE_MAX ? n : cases[i].bad;
        size_t got = utf8_check(cases[i].s, n);
        if (got != want) {
            fail_msg("case %zu: first bad byte %zu, expected %zu", i, got, want);
        }
    }
}

static void test_decode(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        int32_t cp;
    } cases[] = {
        {"A", 1, 0x41},
        {"\xc3\xa9", 2, 0xe9},
        {"\xe2\x82\xac", 3, 0x20ac},
        {"\xf0\x9f\x98\x80", 4, 0x1f600},
        {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t cp = -1;
        size_t k = utf8_decode((const unsigned char *)cases[i].s, strlen(cases[i].s), &cp);
        if (k != cases[i].len || cp != cases[i].cp) {
            fail_msg("case %zu: length %zu cp U+%04X, expected %zu U+%04X", i, k, (unsigned)cp,
                     cases[i].len, (unsigned)cases[i].cp);
        }
    }
    int32_t cp = 0;
    // the length given bounds the read: a valid sequence cut short is not decoded
    assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
