// testutil.c — see testutil.h.
#include "testutil.h"

#include "err.h"
#include "mem.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_shared_path(char *out, size_t n, const char *rel)
{
    const char *s = getenv("PROSPECT_SHARED");
    snprintf(out, n, "%s/%s", s ? s : "../shared", rel);
    struct stat st;
    return stat(out, &st) == 0;
}

void tu_data_path(char *out, size_t n, const char *rel)
{
    const char *s = getenv("PROSPECT_TEST_DATA");
    snprintf(out, n, "%s/%s", s ? s : "tests/data", rel);
}

void tu_mkdtemp(char *out, size_t n)
{
    // $TMPDIR: ctest points it into the build tree, so test runs of different trees (release,
    // ASan, another checkout) never share a folder, and nothing outside can sweep them away
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/prospect-test-XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
    assert_non_null(mkdtemp(out));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    if (slash != NULL && slash != path) {
        // create one level of subdirectory (e.g. 1_Pooling/config.json)
        char sub[4096];
        snprintf(sub, sizeof sub, "%.*s", (int)(slash - path), path);
        mkdir(sub, 0755);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len > 0) {
        assert_int_equal(fwrite(data, 1, len, f), len);
    }
    assert_int_equal(fclose(f), 0);
}

void tu_write_text(const char *dir, const char *name, const char *text)
{
    tu_write_file(dir, name, text, strlen(text));
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return strdup("");
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

int tu_run_prospect(const char *args, const char *in_path, char **out, char **errout)
{
    const char *bin = getenv("PROSPECT_BIN");
    assert_non_null(bin);
    char dir[256];
    tu_mkdtemp(dir, sizeof dir);
    char cmd[16384];
    // grouped, so redirections apply to everything args chains after the binary
    snprintf(cmd, sizeof cmd, "{ %s %s\n} < %s > %s/out 2> %s/err", bin, args,
             in_path ? in_path : "/dev/null", dir, dir);
    int st = system(cmd);
    char p[512];
    snprintf(p, sizeof p, "%s/out", dir);
    *out = slurp(p);
    snprintf(p, sizeof p, "%s/err", dir);
    *errout = slurp(p);
    tu_rmtree(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

long tu_check_alloc_failures(int (*open)(void *user, struct px_err *err),
                             void (*release)(void *user), void *user)
{
    size_t base = px_mem_live_bytes();
    for (long n = 1; n < 100000; n++) {
        struct px_err err = {0};
        px_mem_fail_at(n);
        int rc = open(user, &err);
        int fired = px_mem_fault_fired();
        px_mem_fail_at(0);
        release(user);
        if (px_mem_live_bytes() != base) {
            fail_msg("allocation %ld: %zu bytes leaked", n, px_mem_live_bytes() - base);
        }
        if (!fired) {
            if (rc != PX_OK) {
                fail_msg("no injected failure, yet status %d (%s)", rc, err.msg);
            }
            return n - 1;
        }
        // a failure inside a benign section (SQLite's hash resizes...) is absorbed by design
        if (rc != PX_ENOMEM && !(fired == 2 && rc == PX_OK)) {
            fail_msg("allocation %ld failed but the status is %d (%s)", n, rc, err.msg);
        }
    }
    fail_msg("never succeeded");
    return -1;
}
