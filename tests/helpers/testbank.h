// testbank.h — the small banks the CLI and app suites build their data from: a synthetic
// propensity table written as CSV, and a generated bank imported into a database.
#ifndef PX_TESTBANK_H
#define PX_TESTBANK_H

// A propensity table: header, then rows "K%04d,income,spend,region,yes|no" drawn from an LCG
// (s = s·1103515245 + 12345) started at seed: income 20..199, spend 0.00..9.99; bought when
// income > 150, or income > 120 and spend > 6. Row i's region is regions[i % n_regions].
struct tu_bank {
    const char *header; // five column names, comma-separated, no newline
    int rows;
    unsigned seed;
    const char *const *regions;
    int n_regions;
};

// Writes the table to dir/name; fails the test on error.
void tu_write_bank(const char *dir, const char *name, const struct tu_bank *b);

// `prospect generate --rows ROWS --seed SEED --out DIR/CSV`, then `prospect import --db DB --csv
// DIR/CSV`; fails the test (naming the step and its stderr) when either exits non-zero.
void tu_generate_import(const char *dir, const char *csv, int rows, unsigned seed, const char *db);

#endif
