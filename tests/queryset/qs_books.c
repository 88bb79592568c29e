// qs_books.c — the four books of the query set, built small so the whole set runs in seconds:
//
//   retail     prospect generate --rows 4000 --seed 42, imported
//   thera      ../shared/data/thera_bank/Bank_Personal_Loan_Modelling.csv (5,000 rows),
//              imported as is (unavailable, with the reason, when the file is missing)
//   wholesale  prospect generate --kind wholesale --customers 1000 --seed 42: customers.csv
//   cu         the credit union's members (qs_cu.c), 1,000 rows, seed 11
//
// Each is built through the `prospect` binary, as a user would (generate, import), and opened
// with app_book_open on the lexical path only: the sentence-transformer's weights are not on
// these machines, and the set must measure the same thing wherever it runs.
//
// The binary is run with fork/execv (no shell, so no quoting of paths); its output goes to
// <work_dir>/<schema>.log, whose first lines are put in the error when a step fails.
#include "queryset.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app_book.h"
#include "limits.h"

#define RETAIL_ROWS "4000"
#define WHOLESALE_CUSTOMERS "1000"
#define CU_ROWS 1000u
#define CU_SEED 11u

#ifndef QS_SOURCE_DIR
#define QS_SOURCE_DIR "."
#endif
#ifndef QS_SHARED_DIR
#define QS_SHARED_DIR "../shared"
#endif
#ifndef QS_PROSPECT_BIN
#define QS_PROSPECT_BIN "build/prospect"
#endif

struct qs_env qs_env_default(void)
{
    struct qs_env e = {0};
    e.prospect_bin = getenv("PROSPECT_BIN") ? getenv("PROSPECT_BIN") : QS_PROSPECT_BIN;
    e.shared_dir = getenv("PROSPECT_SHARED") ? getenv("PROSPECT_SHARED") : QS_SHARED_DIR;
    e.data_dir = getenv("PROSPECT_TEST_DATA") ? getenv("PROSPECT_TEST_DATA")
                                               : QS_SOURCE_DIR "/tests/data";
    return e;
}

void qs_data_path(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", qs_env_default().data_dir, rel);
}

int qs_workdir_new(char *out, size_t n, struct px_err *err)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/prospect-queryset-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(out) == NULL) {
        return px_fail(err, PX_EIO, "mkdtemp %s: %s", out, strerror(errno));
    }
    return PX_OK;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void qs_workdir_remove(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

// Runs bin with argv (NULL-terminated, argv[0] included), stdout and stderr appended to log.
static int run_bin(const char *log, char *const argv[], struct px_err *err)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) {
        return px_fail(err, PX_EIO, "%s: %s", log, strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        return px_fail(err, PX_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0) dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            return px_fail(err, PX_EIO, "waitpid: %s", strerror(errno));
        }
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char tail[400] = "";
        FILE *f = fopen(log, "r");
        if (f != NULL) {
            size_t n = fread(tail, 1, sizeof tail - 1, f);
            tail[n] = '\0';
            fclose(f);
        }
        for (char *p = tail; *p; p++) {
            if (*p == '\n') *p = ' ';
        }
        return px_fail(err, PX_EIO, "%s %s failed (status %d): %s", argv[0], argv[1],
                       WIFEXITED(st) ? WEXITSTATUS(st) : 128, tail);
    }
    return PX_OK;
}

static int import(const struct qs_env *env, const char *log, const char *csv, const char *db,
                  struct px_err *err)
{
    char *argv[] = {(char *)env->prospect_bin, "import", "--db", (char *)db, "--csv",
                    (char *)csv, NULL};
    return run_bin(log, argv, err);
}

// Builds the schema's database; PX_ENOENT (with why filled) when its source is missing.
static int build(const struct qs_env *env, enum qs_schema s, const char *db, char *why,
                 size_t why_len, struct px_err *err)
{
    char log[LIMIT_PATH + 64], path[LIMIT_PATH + 64];
    snprintf(log, sizeof log, "%s/%s.log", env->work_dir, qs_schema_name(s));
    switch (s) {
    case QS_RETAIL: {
        snprintf(path, sizeof path, "%s/retail.csv", env->work_dir);
        char *argv[] = {(char *)env->prospect_bin, "generate", "--rows", RETAIL_ROWS, "--seed",
                        "42", "--out", path, NULL};
        int rc = run_bin(log, argv, err);
        return rc == PX_OK ? import(env, log, path, db, err) : rc;
    }
    case QS_THERA: {
        snprintf(path, sizeof path, "%s/data/thera_bank/Bank_Personal_Loan_Modelling.csv",
                 env->shared_dir);
        struct stat st;
        if (stat(path, &st) != 0) {
            snprintf(why, why_len, "%.200s is missing", path);
            return PX_ENOENT;
        }
        return import(env, log, path, db, err);
    }
    case QS_WHOLESALE: {
        char dir[LIMIT_PATH];
        snprintf(dir, sizeof dir, "%s/wholesale", env->work_dir);
        char *argv[] = {(char *)env->prospect_bin, "generate", "--kind", "wholesale",
                        "--customers", WHOLESALE_CUSTOMERS, "--seed", "42", "--out", dir, NULL};
        int rc = run_bin(log, argv, err);
        snprintf(path, sizeof path, "%s/customers.csv", dir);
        return rc == PX_OK ? import(env, log, path, db, err) : rc;
    }
    case QS_CU: {
        snprintf(path, sizeof path, "%s/members.csv", env->work_dir);
        int rc = qs_cu_write(path, CU_ROWS, CU_SEED, err);
        return rc == PX_OK ? import(env, log, path, db, err) : rc;
    }
    default: return px_fail(err, PX_EINTERNAL, "schema %d", (int)s);
    }
}

int qs_books_open(const struct qs_env *env, struct qs_books *books, struct px_err *err)
{
    memset(books, 0, sizeof *books);
    if (strlen(env->work_dir) > LIMIT_PATH / 2 || strlen(env->shared_dir) > LIMIT_PATH / 2) {
        return px_fail(err, PX_ELIMIT, "work or shared directory path over %d bytes",
                       LIMIT_PATH / 2);
    }
    int rc = PX_OK;
    for (int s = 0; s < QS_N_SCHEMAS && rc == PX_OK; s++) {
        struct qs_book *bk = &books->s[s];
        char db[LIMIT_PATH + 64];
        snprintf(db, sizeof db, "%s/%s.db", env->work_dir, qs_schema_name((enum qs_schema)s));
        rc = build(env, (enum qs_schema)s, db, bk->why, sizeof bk->why, err);
        if (rc == PX_ENOENT && bk->why[0] != '\0') {
            rc = PX_OK; // the source data is not on this machine: the schema is skipped
            continue;
        }
        if (rc != PX_OK) {
            px_err_prefix(err, "%s book", qs_schema_name((enum qs_schema)s));
            break;
        }
        struct app_book_params bp = app_book_default_params();
        bp.db_path = db;
        bp.lexical_only = true;
        bp.no_vocab = env->no_vocab;
        rc = app_book_open(&bp, &bk->book, err);
        if (rc == PX_OK) {
            rc = qs_table_from_book(bk->book, &bk->table, err);
        }
        if (rc != PX_OK) {
            px_err_prefix(err, "%s book", qs_schema_name((enum qs_schema)s));
            break;
        }
        bk->available = true;
    }
    if (rc != PX_OK) {
        qs_books_close(books);
    }
    return rc;
}

void qs_books_close(struct qs_books *books)
{
    for (int s = 0; s < QS_N_SCHEMAS; s++) {
        struct qs_book *bk = &books->s[s];
        if (bk->book != NULL) {
            app_book_close(bk->book);
        }
        if (bk->table.names != NULL) {
            qs_table_free(&bk->table);
        }
        memset(bk, 0, sizeof *bk);
    }
}
