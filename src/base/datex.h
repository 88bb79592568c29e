// datex.h — civil (proleptic Gregorian) dates as days since 1970-01-01, the one conversion the
// generators, the recommender's transaction dates, the column types and `segment` share.
// Howard Hinnant's days_from_civil / civil_from_days ("chrono-Compatible Low-Level Date
// Algorithms"): exact for every year an int holds, before 1970 (negative days) included.
#ifndef PX_DATEX_H
#define PX_DATEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Gregorian leap year: divisible by 4, except centuries not divisible by 400.
bool datex_is_leap(int y);
// Days in month m (1..12) of year y; 0 when m is out of range.
int datex_days_in_month(int y, int m);
// Days since 1970-01-01 of y-m-d (negative before). The date is not checked: a day past the
// month's end counts on into the next month (2023-02-30 = 2023-03-02).
int64_t datex_days_from_civil(int y, int m, int d);
// The inverse: the date of day z (m 1..12, d 1..31).
void datex_civil_from_days(int64_t z, int *y, int *m, int *d);
// "YYYY-MM-DD" in exactly len bytes (digits, dashes, year >= 1, a real day of its month) into
// *days; false, *days untouched, otherwise.
bool datex_parse_iso(const char *s, size_t len, int64_t *days);

#endif
