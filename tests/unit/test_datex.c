// test_datex.c — base/datex: days since 1970 for dates checked against Python's datetime (before
// and after 1970, the century years 1900 / 2000 / 2100, leap days); every day from 0001-01-01 to
// 9999-12-31 walked one at a time by the calendar's own rules, both directions agreeing; day
// numbers before year 1 round-trip; the ISO parser takes real days only.
#include <stdint.h>
#include <string.h>

#include "testutil.h"

#include "datex.h"

static void test_known_days(void **state)
{
    (void)state;
    // (date, days) from Python: (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days
    static const struct {
        int y, m, d;
        int64_t days;
    } k[] = {
        {1970, 1, 1, 0},      {1969, 12, 31, -1},   {1, 1, 1, -719162},      {1900, 2, 28, -25509},
        {1900, 3, 1, -25508}, {2000, 2, 29, 11016}, {2000, 3, 1, 11017},     {2100, 2, 28, 47540},
        {2100, 3, 1, 47541},  {2024, 2, 29, 19782}, {9999, 12, 31, 2932896},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        assert_int_equal(datex_days_from_civil(k[i].y, k[i].m, k[i].d), k[i].days);
        int y, m, d;
        datex_civil_from_days(k[i].days, &y, &m, &d);
        assert_int_equal(y, k[i].y);
        assert_int_equal(m, k[i].m);
        assert_int_equal(d, k[i].d);
    }
}

static void test_leap_years(void **state)
{
    (void)state;
    assert_false(datex_is_leap(1900));
    assert_true(datex_is_leap(2000));
    assert_false(datex_is_leap(2100));
    assert_true(datex_is_leap(2024));
    assert_false(datex_is_leap(2023));
    assert_int_equal(datex_days_in_month(1900, 2), 28);
    assert_int_equal(datex_days_in_month(2000, 2), 29);
    assert_int_equal(datex_days_in_month(2100, 2), 28);
    assert_int_equal(datex_days_in_month(2023, 4), 30);
    assert_int_equal(datex_days_in_month(2023, 12), 31);
    assert_int_equal(datex_days_in_month(2023, 0), 0);
    assert_int_equal(datex_days_in_month(2023, 13), 0);
    // a year is 366 days exactly when it is a leap year
    for (int y = 1890; y <= 2110; y++) {
        int64_t len = datex_days_from_civil(y + 1, 1, 1) - datex_days_from_civil(y, 1, 1);
        assert_int_equal(len, datex_is_leap(y) ? 366 : 365);
    }
}

// Every day of years 1..9999, stepped by the calendar rules, not by the formulas under test.
static void test_walk_every_day(void **state)
{
    (void)state;
    int y = 1, m = 1, d = 1;
    int64_t z = datex_days_from_civil(1, 1, 1);
    for (;;) {
        if (datex_days_from_civil(y, m, d) != z) {
            fail_msg("%04d-%02d-%02d: %lld, wanted %lld", y, m, d,
                     (long long)datex_days_from_civil(y, m, d), (long long)z);
        }
        int yy, mm, dd;
        datex_civil_from_days(z, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d) {
            fail_msg("day %lld: %04d-%02d-%02d, wanted %04d-%02d-%02d", (long long)z, yy, mm, dd, y,
                     m, d);
        }
        if (y == 9999 && m == 12 && d == 31) {
            break;
        }
        z++;
        if (++d > datex_days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(z, 2932896);
}

static void test_negative_round_trip(void **state)
{
    (void)state;
    // before year 1 (proleptic years 0, -1, ...): the two directions still agree
    for (int64_t z = -1000000; z <= 1000000; z += 997) {
        int y, m, d;
        datex_civil_from_days(z, &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= datex_days_in_month(y, m));
        assert_int_equal(datex_days_from_civil(y, m, d), z);
    }
    int y, m, d;
    datex_civil_from_days(-719468, &y, &m, &d); // 0000-03-01, the algorithm's epoch
    assert_int_equal(y, 0);
    assert_int_equal(m, 3);
    assert_int_equal(d, 1);
}

static void test_parse_iso(void **state)
{
    (void)state;
    int64_t z = 12345;
    assert_true(datex_parse_iso("2000-02-29", 10, &z));
    assert_int_equal(z, 11016);
    assert_true(datex_parse_iso("1969-12-31", 10, &z));
    assert_int_equal(z, -1);
    static const char *const bad[] = {
        "1900-02-29", "2100-02-29", "2023-02-30", "2023-04-31",  "2023-13-01",
        "2023-00-10", "2023-01-00", "0000-01-01", "2023/01/01",  "2023-1-01x",
        "20a3-01-01", "2023-01-1 ", "+023-01-01", "2023-01-01 ", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        z = 777;
        if (datex_parse_iso(bad[i], strlen(bad[i]), &z)) {
            fail_msg("'%s' parsed as %lld", bad[i], (long long)z);
        }
        assert_int_equal(z, 777);
    }
    // the length is the caller's: a longer buffer is not read past len
    assert_true(datex_parse_iso("2024-02-29T10:00", 10, &z));
    assert_int_equal(z, 19782);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),     cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_walk_every_day), cmocka_unit_test(test_negative_round_trip),
        cmocka_unit_test(test_parse_iso),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
