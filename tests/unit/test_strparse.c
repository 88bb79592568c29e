// test_strparse.c — cursor parsers: list items trimmed, empty ones skipped, counts agree.
#include <string.h>

#include "testutil.h"

#include "strparse.h"

static void test_list_items(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; // items joined with '|'
    } cases[] = {
        {"", ""},
        {"A", "A"},
        {"A; B; C", "A|B|C"},
        {"  A  ;B;;  ; C ", "A|B|C"},
        {";;", ""},
        {"Brokerage Account; Credit Card", "Brokerage Account|Credit Card"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[256] = "";
        const char *p = cases[i].in, *item = NULL;
        size_t len = 0, n = 0;
        while (strparse_list_item(&p, &item, &len)) {
            if (n++ > 0) strcat(got, "|");
            strncat(got, item, len);
        }
        assert_true(*p == '\0');
        if (strcmp(got, cases[i].want) != 0 || n != strparse_list_count(cases[i].in)) {
            fail_msg("case %zu: '%s' (%zu items), want '%s'", i, got, n, cases[i].want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_list_items)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
