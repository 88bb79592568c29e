// testbank.c — the suites' small banks (testbank.h). The propensity table's rows depend only on
// the parameters, so a suite's assertions about its data hold wherever it runs.
#include "testbank.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

void tu_write_bank(const char *dir, const char *name, const struct tu_bank *b)
{
    size_t cap = strlen(b->header) + 2 + (size_t)b->rows * 64;
    for (int r = 0; r < b->n_regions; r++) {
        cap += (size_t)b->rows * strlen(b->regions[r]);
    }
    char *csv = malloc(cap);
    assert_non_null(csv);
    size_t at = (size_t)snprintf(csv, cap, "%s\n", b->header);
    unsigned s = b->seed;
    for (int i = 0; i < b->rows; i++) {
        s = s * 1103515245u + 12345u;
        int income = 20 + (int)((s >> 8) % 180);
        s = s * 1103515245u + 12345u;
        double spend = (double)((s >> 8) % 1000) / 100.0;
        int bought = income > 150 || (income > 120 && spend > 6.0);
        at += (size_t)snprintf(csv + at, cap - at, "K%04d,%d,%.2f,%s,%s\n", i, income, spend,
                               b->regions[i % b->n_regions], bought ? "yes" : "no");
        assert_true(at < cap);
    }
    tu_write_text(dir, name, csv);
    free(csv);
}

void tu_generate_import(const char *dir, const char *csv, int rows, unsigned seed, const char *db)
{
    char args[4096], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "generate --rows %d --seed %u --out %s/%s", rows, seed, dir, csv);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) {
        fail_msg("generate: %s", err);
    }
    free(out);
    free(err);
    snprintf(args, sizeof args, "import --db %s --csv %s/%s", db, dir, csv);
    if (tu_run_prospect(args, NULL, &out, &err) != 0) {
        fail_msg("import: %s", err);
    }
    free(out);
    free(err);
}
