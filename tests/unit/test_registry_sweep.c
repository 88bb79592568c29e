// test_registry_sweep.c — the leftovers of registry changes that died (a create's .staging-*, a
// delete's .deleting-*) are removed by the next change to the name, and only those: a live
// process's, a recent one's from another boot, and anything that is not a leftover stay; a
// recent one of this boot whose process is gone goes at once.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"
#include "testutil.h"

// A pid that is certainly gone: a child that has exited and been reaped.
static long dead_pid(void)
{
    pid_t p = fork();
    if (p == 0) {
        _exit(0);
    }
    assert_true(p > 0);
    assert_int_equal(waitpid(p, NULL, 0), p);
    return (long)p;
}

// Makes dir/leaf holding one file, both dated age_s seconds ago.
static void make_leftover(const char *dir, const char *leaf, long age_s)
{
    char path[512], file[600];
    snprintf(path, sizeof path, "%s/%s", dir, leaf);
    assert_int_equal(mkdir(path, 0755), 0);
    tu_write_file(path, "customers.db", "x", 1);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    snprintf(file, sizeof file, "%s/customers.db", path);
    assert_int_equal(utimes(file, tv), 0);
    assert_int_equal(utimes(path, tv), 0);
}

static bool exists(const char *dir, const char *leaf)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, leaf);
    return lstat(path, &st) == 0;
}

static void test_sweep(void **state)
{
    (void)state;
    char dir[256], dead_stage[64], dead_del[64], fresh[64], mine[64], live[64];
    tu_mkdtemp(dir, sizeof dir);
    long gone = dead_pid();
    snprintf(dead_stage, sizeof dead_stage, ".staging-%ld-a1b2c3d4e5f6", gone);
    snprintf(dead_del, sizeof dead_del, ".deleting-3-%ld", gone);
    snprintf(fresh, sizeof fresh, ".staging-%ld-000000000001", gone);
    snprintf(mine, sizeof mine, ".staging-%ld-000000000002", (long)getpid());
    snprintf(live, sizeof live, ".staging-%ld-000000000003", (long)getppid());
    make_leftover(dir, dead_stage, 3600);
    make_leftover(dir, dead_del, 3600);
    make_leftover(dir, fresh, 10); // its process is gone, but it changed 10 s ago
    make_leftover(dir, mine, 3600);
    make_leftover(dir, live, 3600);
    make_leftover(dir, "7", 3600);             // a version
    make_leftover(dir, ".staging-x-1", 3600);  // not a name we make
    make_leftover(dir, ".staging-0-1", 3600);

    assert_int_equal(registry_sweep_leftovers(dir, 600), 2);
    assert_false(exists(dir, dead_stage));
    assert_false(exists(dir, dead_del));
    assert_true(exists(dir, fresh));
    assert_true(exists(dir, mine));
    assert_true(exists(dir, live));
    assert_true(exists(dir, "7"));
    assert_true(exists(dir, ".staging-x-1"));
    assert_true(exists(dir, ".staging-0-1"));
    // nothing more to do the second time
    assert_int_equal(registry_sweep_leftovers(dir, 600), 0);
    tu_rmtree(dir);
}

// This boot's tag, as registry.c derives it (the first 8 hex digits of boot_id), "" when the
// kernel does not say.
static void boot_tag(char out[9])
{
    char id[64] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    size_t n = f ? fread(id, 1, sizeof id - 1, f) : 0, k = 0;
    if (f) fclose(f);
    id[n] = '\0';
    for (const char *c = id; *c && k < 8; c++)
        if ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')) out[k++] = *c;
    out[k == 8 ? 8 : 0] = '\0';
}

// A leftover made on this machine since it started (this boot's tag) is certain to be dead when
// its pid is gone: removed at once, however recent; one tagged by another boot waits its age.
static void test_sweep_this_boot(void **state)
{
    (void)state;
    char dir[256], tag[9], now_dead[96], other_boot[96], live[96];
    boot_tag(tag);
    if (tag[0] == '\0') skip();
    tu_mkdtemp(dir, sizeof dir);
    long gone = dead_pid();
    snprintf(now_dead, sizeof now_dead, ".staging-%ld-a1b2c3d4e5f6-%s", gone, tag);
    snprintf(other_boot, sizeof other_boot, ".deleting-2-%ld-%s", gone,
             strcmp(tag, "00000000") ? "00000000" : "11111111");
    snprintf(live, sizeof live, ".staging-%ld-000000000003-%s", (long)getppid(), tag);
    make_leftover(dir, now_dead, 1);
    make_leftover(dir, other_boot, 1);
    make_leftover(dir, live, 1);
    assert_int_equal(registry_sweep_leftovers(dir, 600), 1);
    assert_false(exists(dir, now_dead));
    assert_true(exists(dir, other_boot));
    assert_true(exists(dir, live));
    tu_rmtree(dir);
}

// A change to the name sweeps: here a delete, then a promote, of a version that is not there
// still took the lock and removed the dead create's folder first.
static void test_change_sweeps(void **state)
{
    (void)state;
    char root[256], name_dir[320], leaf[64];
    tu_mkdtemp(root, sizeof root);
    snprintf(name_dir, sizeof name_dir, "%s/Name", root);
    assert_int_equal(mkdir(name_dir, 0755), 0);
    snprintf(leaf, sizeof leaf, ".staging-%ld-a1b2c3d4e5f6", dead_pid());
    make_leftover(name_dir, leaf, 3600);
    struct px_err err = {0};
    assert_int_not_equal(registry_delete(root, "Name", 1, false, NULL, &err), PX_OK);
    assert_false(exists(name_dir, leaf));
    // and a promote (an alias change) likewise
    snprintf(leaf, sizeof leaf, ".staging-%ld-a1b2c3d4e5f7", dead_pid());
    make_leftover(name_dir, leaf, 3600);
    assert_int_not_equal(registry_set_alias(root, "Name", "staging", 1, &err), PX_OK);
    assert_false(exists(name_dir, leaf));
    tu_rmtree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_sweep_this_boot),
        cmocka_unit_test(test_change_sweeps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
