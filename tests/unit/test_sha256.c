// test_sha256.c — FIPS 180-4 / NIST example digests, block-boundary lengths against one-shot
// hashing, and a file of known content.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "sha256.h"

static void test_known_digests(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        const char *hex;
    } cases[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sha256_hex(cases[i].msg, strlen(cases[i].msg), hex);
        if (strcmp(hex, cases[i].hex) != 0) {
            fail_msg("case %zu: %s", i, hex);
        }
    }
    // one million 'a' (NIST), fed in uneven pieces
    struct sha256 s;
    unsigned char d[32];
    char piece[997];
    memset(piece, 'a', sizeof piece);
    sha256_init(&s);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < sizeof piece ? left : sizeof piece;
        sha256_update(&s, piece, n);
        left -= n;
    }
    sha256_final(&s, d);
    static const unsigned char want[4] = {0xcd, 0xc7, 0x6e, 0x5c};
    assert_memory_equal(d, want, 4); // cdc76e5c9914fb92...
}

static void test_split_updates_match(void **state)
{
    (void)state;
    unsigned char data[300];
    for (int i = 0; i < 300; i++) data[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= 300; len += 1) {
        char one[65], two[65];
        sha256_hex(data, len, one);
        struct sha256 s;
        unsigned char d[32];
        sha256_init(&s);
        sha256_update(&s, data, len / 3);
        sha256_update(&s, data + len / 3, len - len / 3);
        sha256_final(&s, d);
        static const char hex[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            two[2 * i] = hex[d[i] >> 4];
            two[2 * i + 1] = hex[d[i] & 15];
        }
        two[64] = '\0';
        if (strcmp(one, two) != 0) {
            fail_msg("length %zu: split update differs", len);
        }
    }
}

static void test_file(void **state)
{
    (void)state;
    char dir[256], path[300], hex[65];
    tu_mkdtemp(dir, sizeof dir);
    tu_write_text(dir, "f", "abc");
    snprintf(path, sizeof path, "%s/f", dir);
    assert_int_equal(sha256_file_hex(path, hex, NULL), PX_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    struct px_err err = {0};
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(sha256_file_hex(path, hex, &err), PX_ENOENT);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_digests),
        cmocka_unit_test(test_split_updates_match),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
