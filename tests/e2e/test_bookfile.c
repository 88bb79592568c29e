// test_bookfile.c — the book's index file (src/app/book_file.c, issue 12): a book opened from
// its file answers exactly as the same store built in memory does (same results, order and
// scores, dense and lexical, on the search tests' queries and another schema); a damaged or
// stale file is an error naming it and the command that rebuilds it, never a crash (bit flips
// all over a file, under ASan in `make test`); the allocation-failure loop covers opening from
// the file; and kill -9 at random points of an import leaves the old or the new generation,
// whole (>= 20 iterations).
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app_book.h"
#include "buf.h"
#include "mem.h"
#include "testbank.h"
#include "testmodel.h"
#include "testutil.h"

static char g_dir[256], g_db[400], g_model[400], g_index[600];

static const char *const k_queries[] = {
    "Customers with credit score over 750 interested in investment products",
    "customers over 65 without a mortgage",
    "under 30 in the Mass segment",
    "not in the Private segment and credit score between 600 and 700",
    "digital users with a brokerage account",
    ("Find high-income professionals nearing retirement who might be interested in wealth "
     "management services"),
    "wealthy customers nearing retirement",
    "Young professionals with good credit scores who might qualify for premium credit cards",
    "affluent customers with children in college who might need education loans",
    "customers in their 40s with income over $100k",
    "high income",
    "checking savings",
    "",
};

static int run(const char *args, char **out, char **err)
{
    return tu_run_prospect(args, NULL, out, err);
}

static void run_ok(const char *args)
{
    char *out = NULL, *err = NULL;
    if (run(args, &out, &err) != 0) fail_msg("prospect %s: %s", args, err);
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    char args[2048];
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/bank.db", g_dir);
    snprintf(g_model, sizeof g_model, "%s/model", g_dir);
    snprintf(g_index, sizeof g_index, "%s.g1.index", g_db);
    mkdir(g_model, 0755);
    struct testmodel_spec s = testmodel_default_spec();
    assert_int_equal(testmodel_write(g_model, &s), 0);
    tu_generate_import(g_dir, "bank.csv", 3000, 3, g_db);
    snprintf(args, sizeof args, "index --db %s --embedder %s", g_db, g_model);
    run_ok(args);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static struct app_book *open_book(const char *db, const char *model, bool in_memory,
                                  struct px_err *e)
{
    struct app_book_params p = app_book_default_params();
    p.db_path = db;
    p.model_flag = model;
    p.ignore_index_file = in_memory;
    struct app_book *b = NULL;
    return app_book_open(&p, &b, e) == PX_OK ? b : NULL;
}

// The answer to q as JSON (owned, px_free), or fails the test.
static char *answer(struct app_book *b, const char *q, size_t top)
{
    struct app_result r = {0};
    struct px_err e = {0};
    struct buf out;
    buf_init(&out, (size_t)1 << 26);
    if (app_book_search(b, q, strlen(q), top, &r, &e) != PX_OK) fail_msg("'%s': %s", q, e.msg);
    if (app_result_to_json(b, q, strlen(q), &r, &out, &e) != PX_OK) fail_msg("json: %s", e.msg);
    app_result_free(&r);
    return buf_take(&out);
}

static void check_same(const char *db, const char *model, bool want_dense)
{
    struct px_err e = {0};
    struct app_book *f = open_book(db, model, false, &e);
    if (f == NULL) fail_msg("open from the file: %s", e.msg);
    struct app_book *m = open_book(db, model, true, &e);
    if (m == NULL) fail_msg("open in memory: %s", e.msg);
    assert_int_equal(app_book_n_rows(f), app_book_n_rows(m));
    assert_int_equal(app_book_dense_status(f) == NULL, want_dense);
    assert_int_equal(app_book_dense_status(m) == NULL, want_dense);
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        char *a = answer(f, k_queries[i], 25), *b = answer(m, k_queries[i], 25);
        if (strcmp(a, b) != 0) fail_msg("'%s':\nfile   %.500s\nmemory %.500s", k_queries[i], a, b);
        if (strstr(a, "\"results\": []") != NULL && k_queries[i][0] != '\0') {
            fail_msg("'%s': no results", k_queries[i]);
        }
        px_free(a);
        px_free(b);
    }
    // similar (centroid of vectors or of profile texts) and the id lookup
    const char *ids[] = {app_book_id(f, 7), app_book_id(f, 11)};
    assert_int_equal(app_book_find(f, ids[0]), 7);
    assert_int_equal(app_book_find(f, "no-such-customer"), -1);
    struct app_result ra = {0}, rb = {0};
    assert_int_equal(app_book_similar(f, ids, 2, 10, &ra, &e), PX_OK);
    assert_int_equal(app_book_similar(m, ids, 2, 10, &rb, &e), PX_OK);
    assert_int_equal(ra.n_hits, rb.n_hits);
    for (size_t i = 0; i < ra.n_hits; i++) {
        assert_int_equal(ra.hits[i].row, rb.hits[i].row);
        assert_true(ra.hits[i].score == rb.hits[i].score);
    }
    app_result_free(&ra);
    app_result_free(&rb);
    app_book_close(f);
    app_book_close(m);
}

static void test_same_answers(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(g_index, &st), 0); // import wrote it, index rewrote it with vectors
    check_same(g_db, g_model, true);
    char none[400];
    snprintf(none, sizeof none, "%s/no-such-model", g_dir);
    check_same(g_db, none, false);
    // another schema (its own header, list and bool columns), lexical
    char db[400], args[1024];
    snprintf(db, sizeof db, "%s/other.db", g_dir);
    FILE *f = fopen(strcat(strcpy(args, g_dir), "/other.csv"), "w");
    assert_non_null(f);
    fputs("ClientRef,Client Age,Salary,Tier,Holdings,Online\n", f);
    static const char *tiers[] = {"Gold", "Silver", "Bronze"};
    static const char *hold[] = {"Bonds; Funds", "Funds", "Bonds; Shares", "Shares"};
    for (int i = 0; i < 500; i++) {
        fprintf(f, "R%04d,%d,\"$%d,000\",%s,%s,%s\n", i, 20 + (i * 7) % 60, 20 + (i * 13) % 180,
                tiers[i % 3], hold[i % 4], i % 5 ? "Yes" : "No");
    }
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "import --db %s --csv %s/other.csv --id-column ClientRef", db, g_dir);
    run_ok(cmd);
    struct px_err e = {0};
    struct app_book *fb = open_book(db, none, false, &e), *mb = open_book(db, none, true, &e);
    assert_non_null(fb);
    assert_non_null(mb);
    static const char *const other[] = {"clients over 40 in the Gold tier",
                                        "salary over $150k holding shares",
                                        "not in the Bronze tier", "online clients under 30"};
    for (size_t i = 0; i < 4; i++) {
        char *a = answer(fb, other[i], 25), *b = answer(mb, other[i], 25);
        if (strcmp(a, b) != 0) fail_msg("'%s':\nfile   %.500s\nmemory %.500s", other[i], a, b);
        px_free(a);
        px_free(b);
    }
    app_book_close(fb);
    app_book_close(mb);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(*n);
    assert_non_null(d);
    assert_int_equal(fread(d, 1, *n, f), *n);
    fclose(f);
    return d;
}

static void write_all(const char *path, const unsigned char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    fclose(f);
}

// Opening fails with PX_EFORMAT naming the file and the rebuilding command.
static void expect_refused(const char *why)
{
    struct px_err e = {0};
    struct app_book *b = open_book(g_db, g_model, false, &e);
    if (b != NULL) fail_msg("%s: opened", why);
    if (e.code != PX_EFORMAT || strstr(e.msg, ".g1.index") == NULL ||
        strstr(e.msg, "prospect index") == NULL) {
        fail_msg("%s: %d %s", why, e.code, e.msg);
    }
    printf("%s: %s\n", why, e.msg);
}

static void test_damaged(void **state)
{
    (void)state;
    char saved[700];
    snprintf(saved, sizeof saved, "%s.saved", g_index);
    copy_file(g_index, saved);
    size_t n = 0;
    unsigned char *good = read_all(saved, &n), *bad = malloc(n);
    assert_non_null(bad);
    // header: a flipped byte, the magic, a truncated file, an empty one
    memcpy(bad, good, n);
    bad[30] ^= 0x10;
    write_all(g_index, bad, n);
    expect_refused("flipped header byte");
    memcpy(bad, good, n);
    bad[0] = 'X';
    write_all(g_index, bad, n);
    expect_refused("other magic");
    write_all(g_index, good, n - 100);
    expect_refused("truncated");
    write_all(g_index, good, 10);
    expect_refused("10 bytes");
    // bodies: flips anywhere past the header either open (and answer) or are refused cleanly
    unsigned seed = 12345;
    int opened = 0, refused = 0;
    for (int i = 0; i < 60; i++) {
        memcpy(bad, good, n);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 4096 + (size_t)(seed >> 4) % (n - 4096);
            bad[at] ^= (unsigned char)(1u << (seed >> 28 & 7));
        }
        write_all(g_index, bad, n);
        struct px_err e = {0};
        struct app_book *b = open_book(g_db, g_model, false, &e);
        if (b == NULL) {
            refused++;
            assert_int_equal(e.code == PX_EFORMAT || e.code == PX_EINVAL, true);
            continue;
        }
        opened++;
        for (size_t q = 0; q < 4; q++) {
            struct app_result r = {0};
            (void)app_book_search(b, k_queries[q], strlen(k_queries[q]), 10, &r, &e);
            app_result_free(&r);
        }
        app_book_close(b);
    }
    printf("body flips: %d opened, %d refused\n", opened, refused);
    write_all(g_index, good, n);
    free(good);
    free(bad);
    unlink(saved);
    check_same(g_db, g_model, true);
}

static void test_stale(void **state)
{
    (void)state;
    // vectors added since the file was written: refused with the dense path, fine without it
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(g_db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "INSERT INTO vectors (customer_id, model_id, dim, vec) "
                                  "VALUES ('CUST-000001', 'sha256:other', 1, x'0000803f')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    expect_refused("vectors added");
    char none[400];
    snprintf(none, sizeof none, "%s/no-such-model", g_dir);
    struct px_err e = {0};
    struct app_book *b = open_book(g_db, none, false, &e);
    assert_non_null(b);
    app_book_close(b);
    char args[1024];
    snprintf(args, sizeof args, "index --db %s --embedder %s", g_db, g_model); // rebuilds it
    run_ok(args);
    check_same(g_db, g_model, true);
    assert_int_equal(sqlite3_exec(h, "DELETE FROM vectors WHERE model_id = 'sha256:other'", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    run_ok(args);
    // the store moved to another import, the file of the old one is all there is
    char old[700], g2[700];
    snprintf(old, sizeof old, "%s.old", g_index);
    snprintf(g2, sizeof g2, "%s.g2.index", g_db);
    copy_file(g_index, old);
    snprintf(args, sizeof args, "import --db %s --csv %s/bank.csv", g_db, g_dir);
    run_ok(args);
    assert_int_equal(access(g_index, F_OK), -1); // pruned after the commit
    assert_int_equal(access(g2, F_OK), 0);
    unlink(g2);
    copy_file(old, g_index);
    unlink(old);
    e = (struct px_err){0};
    b = open_book(g_db, g_model, false, &e);
    assert_null(b);
    if (strstr(e.msg, "stale") == NULL || strstr(e.msg, "prospect index") == NULL) {
        fail_msg("stale: %s", e.msg);
    }
    printf("old generation: %s\n", e.msg);
    unlink(g_index);
}

struct open_case {
    const char *db, *model;
    struct app_book *book;
};

static int open_case(void *user, struct px_err *err)
{
    struct open_case *oc = user;
    struct app_book_params p = app_book_default_params();
    p.db_path = oc->db;
    p.model_flag = oc->model;
    return app_book_open(&p, &oc->book, err);
}

static void close_case(void *user)
{
    struct open_case *oc = user;
    app_book_close(oc->book);
    oc->book = NULL;
}

static void test_open_alloc_failures(void **state)
{
    (void)state;
    char db[400], args[2048], none[400];
    snprintf(db, sizeof db, "%s/small.db", g_dir);
    snprintf(none, sizeof none, "%s/no-such-model", g_dir);
    snprintf(args, sizeof args,
             "generate --rows 50 --seed 4 --out %s/s.csv && %s import --db %s --csv %s/s.csv && "
             "%s index --db %s --embedder %s",
             g_dir, getenv("PROSPECT_BIN"), db, g_dir, getenv("PROSPECT_BIN"), db, g_model);
    run_ok(args);
    struct open_case oc = {db, g_model, NULL};
    long dense = tu_check_alloc_failures(open_case, close_case, &oc);
    oc.model = none;
    long lexical = tu_check_alloc_failures(open_case, close_case, &oc);
    printf("open from the index file: %ld allocation points (dense), %ld (lexical)\n", dense,
           lexical);
    assert_true(dense > lexical && lexical > 10);
}

// Rows of the book at db opened from its file (checking it answers as the in-memory build).
static size_t rows_whole(const char *db)
{
    struct px_err e = {0};
    struct app_book *f = open_book(db, NULL, false, &e);
    if (f == NULL) fail_msg("open after kill: %s", e.msg);
    struct app_book *m = open_book(db, NULL, true, &e);
    assert_non_null(m);
    assert_int_equal(app_book_n_rows(f), app_book_n_rows(m));
    char *a = answer(f, k_queries[0], 10), *b = answer(m, k_queries[0], 10);
    if (strcmp(a, b) != 0) fail_msg("after kill:\nfile   %.300s\nmemory %.300s", a, b);
    px_free(a);
    px_free(b);
    size_t n = app_book_n_rows(f);
    app_book_close(f);
    app_book_close(m);
    return n;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

// Runs `prospect import` of csv into db, killing it with SIGKILL after delay_s (< 0: never).
static void import_killed(const char *db, const char *csv, double delay_s)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        dup2(null, 2);
        execl(getenv("PROSPECT_BIN"), "prospect", "import", "--db", db, "--csv", csv,
              (char *)NULL);
        _exit(127);
    }
    if (delay_s >= 0) {
        struct timespec t = {(time_t)delay_s, (long)((delay_s - (time_t)delay_s) * 1e9)};
        nanosleep(&t, NULL);
        kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
}

static void test_kill_import(void **state)
{
    (void)state;
    char db[400], old_csv[400], new_csv[400], args[4096];
    snprintf(db, sizeof db, "%s/kill.db", g_dir);
    snprintf(old_csv, sizeof old_csv, "%s/k1.csv", g_dir);
    snprintf(new_csv, sizeof new_csv, "%s/k2.csv", g_dir);
    snprintf(args, sizeof args, "generate --rows 400 --seed 8 --out %s && %s generate --rows 900 "
             "--seed 9 --out %s", old_csv, getenv("PROSPECT_BIN"), new_csv);
    run_ok(args);
    double t0 = now_s();
    import_killed(db, old_csv, -1);
    assert_int_equal(rows_whole(db), 400);
    char snap[400];
    snprintf(snap, sizeof snap, "%s/kill-snap", g_dir);
    snprintf(args, sizeof args, "mkdir -p %s && cp %s %s.g1.index %s/", snap, db, db, snap);
    assert_int_equal(system(args), 0);
    t0 = now_s();
    import_killed(db, new_csv, -1);
    double full = now_s() - t0;
    assert_int_equal(rows_whole(db), 900); // new ids: 900 customers (400 of them updated)
    int n_old = 0, n_new = 0;
    unsigned seed = 99;
    for (int i = 0; i < 24; i++) {
        snprintf(args, sizeof args, "rm -f %s %s-wal %s-shm %s.g*.index && cp %s/* %s/", db, db,
                 db, db, snap, g_dir);
        assert_int_equal(system(args), 0);
        seed = seed * 1103515245u + 12345u;
        double delay = full * 1.2 * (double)(seed >> 8 & 0xffff) / 65536.0;
        import_killed(db, new_csv, delay);
        size_t n = rows_whole(db);
        if (n != 400 && n != 900) fail_msg("kill after %.3f s: %zu rows", delay, n);
        n_old += n == 400;
        n_new += n == 900;
    }
    printf("kill -9 during import (%.2f s): %d x old generation, %d x new\n", full, n_old,
           n_new);
    assert_true(n_old > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_answers),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_open_alloc_failures),
        cmocka_unit_test(test_kill_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
