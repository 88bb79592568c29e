// test_csvread.c — src/store/csvread.c, the project's one CSV grammar: records with the line they
// start on (quotes, "" escapes, embedded newlines, CRLF / lone CR, BOM, blank and spaces-only
// lines, stray quotes); a CRLF or CR split across the 64 KiB read blocks, from memory, a file and
// a FILE read from its current position; the record limits as errors by default and as flagged
// records with CSVREAD_KEEP_BAD (what is kept, and that reading goes on); file-level errors that
// stop the read in both modes; a callback's status stopping it; allocation failures.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "csvread.h"
#include "limits.h"
#include "mem.h"

// ---- a collector: every record as "index@line n/kept flags: f1|f2|..." ----

#define MAX_RECS 64

struct got {
    size_t n;
    char rec[MAX_RECS][256];
    size_t stop_at; // callback fails at this index (0: never; the header cannot be stopped)
};

static int collect(void *user, const struct csvread_record *r, struct px_err *err)
{
    struct got *g = user;
    if (g->stop_at != 0 && r->index == g->stop_at) {
        return px_fail(err, PX_EINVAL, "stopped at line %zu", r->line);
    }
    if (g->n == MAX_RECS) {
        return PX_OK;
    }
    char *out = g->rec[g->n++];
    int k = snprintf(out, 256, "%zu@%zu %zu/%zu %u:", r->index, r->line, r->n, r->n_kept, r->flags);
    for (size_t j = 0; j < r->n_kept && k < 200; j++) {
        assert_int_equal(strlen(r->f[j]), r->len[j]); // NUL-terminated, no NUL inside here
        k += snprintf(out + k, (size_t)(256 - k), "%s%.*s", j ? "|" : "",
                      (int)(r->len[j] > 20 ? 20 : r->len[j]), r->f[j]);
    }
    return PX_OK;
}

static int read_text(const char *text, size_t size, unsigned opts, struct got *g,
                     struct px_err *err)
{
    struct csvread_source src = {.name = "t.csv", .data = text, .size = size};
    memset(g->rec, 0, sizeof g->rec);
    g->n = 0;
    return csvread_source(&src, opts, collect, g, err);
}

static void expect(const struct got *g, const char *const *want, size_t n_want)
{
    if (g->n != n_want) {
        fail_msg("%zu records, want %zu (first '%s')", g->n, n_want, g->n ? g->rec[0] : "");
    }
    for (size_t i = 0; i < n_want; i++) {
        if (strcmp(g->rec[i], want[i]) != 0) {
            fail_msg("record %zu: '%s', want '%s'", i, g->rec[i], want[i]);
        }
    }
}

static void test_grammar_and_lines(void **state)
{
    (void)state;
    struct got g = {0};
    struct px_err err = {0};
    const char *text = "\xef\xbb\xbfID,Note,N\r\n"
                       "1,\"two\r\nlines\",5\r\n"
                       "\r\n"
                       "   \n"
                       "2,\"say \"\"hi\"\", ok\",6\n"
                       "3,5'10\" tall,7\r"
                       "4,,\n"
                       "5,\"a\nb\nc\",8";
    assert_int_equal(read_text(text, strlen(text), 0, &g, &err), PX_OK);
    const char *const want[] = {
        "0@1 3/3 0:ID|Note|N",
        "1@2 3/3 0:1|two\r\nlines|5",
        "2@6 3/3 0:2|say \"hi\", ok|6",
        "3@7 3/3 0:3|5'10\" tall|7",
        "4@8 3/3 0:4||",
        "5@9 3/3 0:5|a\nb\nc|8",
    };
    expect(&g, want, sizeof want / sizeof want[0]);

    // nothing but a BOM and blank lines: no record, no error
    assert_int_equal(read_text("\xef\xbb\xbf\n\r\n \n", 8, 0, &g, &err), PX_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(read_text("", 0, 0, &g, &err), PX_OK);
    assert_int_equal(g.n, 0);
}

// A header, then a quoted field that ends just before byte 65536 + off, then line ends of the
// given kind: the line end straddles the first block boundary for some off.
static char *split_text(int off, const char *eol, size_t *size)
{
    size_t cap = 70000;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "ID,A,B%s9,1,\"", eol);
    size_t fill = 65536 + (size_t)(off + 10) - n - 2 - strlen(eol) - 10;
    memset(t + n, 'p', fill);
    n += fill;
    n += (size_t)snprintf(t + n, cap - n, "\"%s", eol);
    for (int i = 10; i < 13; i++) {
        n += (size_t)snprintf(t + n, cap - n, "%d,2,3%s", i, eol);
    }
    *size = n;
    return t;
}

static void test_block_boundaries(void **state)
{
    (void)state;
    char dir[256], path[512];
    tu_mkdtemp(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/split.csv", dir);
    const char *const eols[] = {"\r\n", "\r", "\n"};
    for (size_t e = 0; e < 3; e++) {
        for (int off = -3; off <= 3; off++) {
            size_t size = 0;
            char *t = split_text(off, eols[e], &size);
            struct got g = {0};
            struct px_err err = {0};
            assert_int_equal(read_text(t, size, 0, &g, &err), PX_OK);
            assert_int_equal(g.n, 5);
            assert_string_equal(g.rec[2], "2@3 3/3 0:10|2|3");
            assert_string_equal(g.rec[4], "4@5 3/3 0:12|2|3");
            // the same from a file, and from a FILE positioned after some leading bytes
            tu_write_file(dir, "split.csv", t, size);
            FILE *f = fopen(path, "rb");
            assert_non_null(f);
            struct csvread_source src = {.name = path, .f = f};
            g.n = 0;
            assert_int_equal(csvread_source(&src, 0, collect, &g, &err), PX_OK);
            assert_int_equal(g.n, 5);
            assert_string_equal(g.rec[4], "4@5 3/3 0:12|2|3");
            size_t skip = strlen("ID,A,B") + strlen(eols[e]);
            assert_int_equal(fseek(f, (long)skip, SEEK_SET), 0);
            g.n = 0;
            assert_int_equal(csvread_source(&src, 0, collect, &g, &err), PX_OK);
            assert_int_equal(g.n, 4); // the "9" record is now the header, on line 1
            assert_string_equal(g.rec[3], "3@4 3/3 0:12|2|3");
            fclose(f);
            free(t);
        }
    }
    tu_rmtree(dir);
}

// ID,A then a record of n_fields fields of field_bytes bytes each, then "7,x".
static char *limit_text(size_t n_fields, size_t field_bytes, size_t *size)
{
    size_t cap = 64 + n_fields * (field_bytes + 1);
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap, "ID,A\n1,a\n");
    for (size_t i = 0; i < n_fields; i++) {
        memset(t + n, 'a' + (char)(i % 26), field_bytes);
        n += field_bytes;
        t[n++] = i + 1 < n_fields ? ',' : '\n';
    }
    n += (size_t)snprintf(t + n, cap - n, "7,x\n");
    *size = n;
    return t;
}

static void test_limits(void **state)
{
    (void)state;
    struct got g = {0};
    struct px_err err = {0};
    size_t size = 0;

    // too many fields: an error by default, a flagged record with the first 1000 kept otherwise
    char *t = limit_text(LIMIT_CSV_COLUMNS + 200, 1, &size);
    assert_int_equal(read_text(t, size, 0, &g, &err), PX_ELIMIT);
    assert_non_null(strstr(err.msg, "t.csv: line 3: 1200 fields, over the limit of 1000"));
    assert_int_equal(g.n, 2);
    assert_int_equal(read_text(t, size, CSVREAD_KEEP_BAD, &g, &err), PX_OK);
    assert_int_equal(g.n, 4);
    assert_non_null(strstr(g.rec[2], "2@3 1200/1000 2:a|b|c|"));
    assert_string_equal(g.rec[3], "3@4 2/2 0:7|x");
    free(t);

    // exactly LIMIT_CSV_COLUMNS fields is fine
    t = limit_text(LIMIT_CSV_COLUMNS, 1, &size);
    assert_int_equal(read_text(t, size, 0, &g, &err), PX_OK);
    assert_int_equal(g.n, 4);
    assert_non_null(strstr(g.rec[2], "2@3 1000/1000 0:"));
    free(t);

    // too long: 20 fields of 60,000 bytes pass LIMIT_CSV_ROW_BYTES at the 18th
    t = limit_text(20, 60000, &size);
    assert_int_equal(read_text(t, size, 0, &g, &err), PX_ELIMIT);
    assert_non_null(strstr(err.msg, "t.csv: line 3: the record is longer than 1048576 bytes"));
    assert_int_equal(read_text(t, size, CSVREAD_KEEP_BAD, &g, &err), PX_OK);
    assert_int_equal(g.n, 4);
    assert_non_null(strstr(g.rec[2], "2@3 20/17 1:aaaaaaaaaaaaaaaaaaaa|bbbb"));
    assert_string_equal(g.rec[3], "3@4 2/2 0:7|x");
    free(t);

    // both at once (fields past the 1000th are not stored, so they must pass 1 MiB before it)
    t = limit_text(LIMIT_CSV_COLUMNS + 500, 1100, &size);
    assert_int_equal(read_text(t, size, 0, &g, &err), PX_ELIMIT);
    assert_non_null(strstr(err.msg, "line 3: 1500 fields"));
    assert_int_equal(read_text(t, size, CSVREAD_KEEP_BAD, &g, &err), PX_OK);
    assert_int_equal(g.n, 4);
    assert_non_null(strstr(g.rec[2], "2@3 1500/952 3:"));
    free(t);
}

static void test_file_level_errors(void **state)
{
    (void)state;
    struct got g = {0};
    struct px_err err = {0};
    for (unsigned opts = 0; opts <= CSVREAD_KEEP_BAD; opts++) {
        const char *open = "ID,A\n1,a\n2,\"never\nclosed\n";
        assert_int_equal(read_text(open, strlen(open), opts, &g, &err), PX_EFORMAT);
        assert_string_equal(
            err.msg, "t.csv: line 3: a quoted field is not closed before the end of the file");
        assert_int_equal(g.n, 2);

        size_t size = 70000;
        char *t = malloc(size);
        assert_non_null(t);
        int n = snprintf(t, size, "ID,A\n1,\"");
        memset(t + n, 'q', size - (size_t)n);
        assert_int_equal(read_text(t, size, opts, &g, &err), PX_ELIMIT);
        assert_non_null(strstr(err.msg, "t.csv: line 2: a field is longer than 65536 bytes"));
        free(t);
    }
    assert_int_equal(csvread_file("/nonexistent/x.csv", NULL, NULL, &err), PX_ENOENT);
    assert_non_null(strstr(err.msg, "cannot open /nonexistent/x.csv"));
}

static void test_callback_stops(void **state)
{
    (void)state;
    struct got g = {0};
    struct px_err err = {0};
    const char *text = "ID\n1\n2\n\n3\n4\n";
    g.stop_at = 3;
    assert_int_equal(read_text(text, strlen(text), 0, &g, &err), PX_EINVAL);
    assert_string_equal(err.msg, "stopped at line 5");
    assert_int_equal(g.n, 3);
}

// The positional form (csvread_file / csvread_memory) sees the same records.
struct pos_got {
    size_t n, last_line, last_n;
};

static int pos_collect(void *user, size_t index, size_t line, const char *const *f,
                       const size_t *len, size_t n, struct px_err *err)
{
    struct pos_got *g = user;
    (void)f;
    (void)len;
    (void)err;
    assert_int_equal(index, g->n);
    g->n++;
    g->last_line = line;
    g->last_n = n;
    return PX_OK;
}

static void test_positional_form(void **state)
{
    (void)state;
    struct pos_got g = {0};
    struct px_err err = {0};
    const char *text = "A,B\n1,\"x\ny\"\n\n2,3\n";
    assert_int_equal(csvread_memory(text, strlen(text), "m.csv", pos_collect, &g, &err), PX_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.last_line, 5);
    assert_int_equal(g.last_n, 2);
}

// ---- allocation failures ----

static int read_alloc(void *user, struct px_err *err)
{
    struct got *g = user;
    size_t size = 0;
    char *t = limit_text(LIMIT_CSV_COLUMNS + 10, 3, &size); // plain malloc: not counted
    int rc = read_text(t, size, CSVREAD_KEEP_BAD, g, err);
    free(t);
    return rc;
}

static void read_release(void *user)
{
    (void)user;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    struct got g = {0};
    assert_true(tu_check_alloc_failures(read_alloc, read_release, &g) >= 5);
    assert_int_equal(g.n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar_and_lines),
        cmocka_unit_test(test_block_boundaries),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_file_level_errors),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_positional_form),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
