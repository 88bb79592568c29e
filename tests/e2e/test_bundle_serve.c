// test_bundle_serve.c — model bundles end to end with the binary: a generated bank is imported and
// indexed with a tiny model, `bundle create` registers it, `serve --bundle` (on an ephemeral
// port) gives the same answers as `prospect search --json` — on the dense path, and after the
// working database has changed; a copied model keeps serving when the original is gone, and
// holds the model's known regular files only (links and non-models refused, modes kept); a
// flipped byte, an extra file or changed model weights are refused naming the file; stages,
// delete refusal and version numbering; list/show output.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "testbank.h"
#include "testmodel.h"
#include "testutil.h"

#define NAME "Banking_Customer_Similarity"

static char g_dir[256], g_db[400], g_model[400], g_reg[400];
static pid_t g_servers[64]; // every server started, killed at teardown if a test failed early
static size_t g_n_servers;

static int run(const char *args, char **out, char **err)
{
    return tu_run_prospect(args, NULL, out, err);
}

// Runs args, which must succeed; returns stdout (free()).
static char *run_ok(const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = run(args, &out, &err);
    if (rc != 0)
        fail_msg("prospect %s: exit %d: %s", args, rc, err);
    free(err);
    return out;
}

static int setup(void **state)
{
    (void)state;
    char args[2048];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tu_mkdtemp(g_dir, sizeof g_dir);
    snprintf(g_db, sizeof g_db, "%s/t.db", g_dir);
    snprintf(g_model, sizeof g_model, "%s/model", g_dir);
    snprintf(g_reg, sizeof g_reg, "%s/registry", g_dir);
    mkdir(g_model, 0755);
    struct testmodel_spec s = testmodel_default_spec();
    if (testmodel_write(g_model, &s) != 0)
        fail_msg("cannot write the test model");
    tu_generate_import(g_dir, "b.csv", 300, 11, g_db);
    snprintf(args, sizeof args, "index --db %s --embedder %s", g_db, g_model);
    free(run_ok(args));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < g_n_servers; i++) {
        if (kill(g_servers[i], SIGKILL) == 0)
            waitpid(g_servers[i], NULL, 0);
    }
    tu_rmtree(g_dir);
    curl_global_cleanup();
    return 0;
}

// ---- the server ----

struct server {
    pid_t pid;
    int port;
    char log[512];
};

// Starts `prospect serve --port 0 <args>`; returns 0 with s->port once it listens, or the exit
// status when it stops first (its stderr is then in s->log).
static int serve_start(const char *args, struct server *s)
{
    static int n;
    snprintf(s->log, sizeof s->log, "%s/serve%d.log", g_dir, n++);
    s->port = 0;
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec \"$PROSPECT_BIN\" serve --port 0 %s 2>%s >/dev/null", args,
                 s->log);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (g_n_servers < sizeof g_servers / sizeof g_servers[0])
        g_servers[g_n_servers++] = s->pid;
    for (int i = 0; i < 1200 && s->port == 0; i++) { // up to 120 s (ASan)
        FILE *f = fopen(s->log, "r");
        char line[2048];
        while (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "http://127.0.0.1:");
            if (p)
                s->port = atoi(p + 17);
        }
        if (f)
            fclose(f);
        int status = 0;
        if (s->port == 0 && waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
        if (s->port == 0)
            usleep(100000);
    }
    if (s->port == 0)
        fail_msg("server did not start (see %s)", s->log);
    return 0;
}

static void serve_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status = 0;
        waitpid(s->pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    s->pid = -1;
}

// The server's stderr.
static char *serve_log(const struct server *s)
{
    FILE *f = fopen(s->log, "r");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

struct reply {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct reply *r = user;
    char *d = realloc(r->data, r->len + size * n + 1);
    if (d == NULL)
        return 0;
    memcpy(d + r->len, p, size * n);
    r->len += size * n;
    d[r->len] = '\0';
    r->data = d;
    return size * n;
}

static cJSON *http_get(const struct server *s, const char *query, int top)
{
    char url[2048];
    CURL *c = curl_easy_init();
    char *q = curl_easy_escape(c, query, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/search?q=%s&top=%d", s->port, q, top);
    curl_free(q);
    struct reply r = {0};
    long status = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (status != 200)
        fail_msg("GET %s: status %ld: %.300s", url, status, r.data);
    cJSON *j = cJSON_Parse(r.data);
    if (j == NULL)
        fail_msg("GET %s: not JSON: %.300s", url, r.data);
    free(r.data);
    return j;
}

// POST /invocations (MLflow scoring protocol, the MLmodel's signature) with one query, top_n 10
// (the same top as the CLI: the dense candidate pool depends on it).
static cJSON *http_invoke(const struct server *s, const char *query)
{
    char url[256], body[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/invocations", s->port);
    snprintf(body, sizeof body, "{\"inputs\": {\"query\": [\"%s\"]}, \"params\": {\"top_n\": 10}}",
             query);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct reply r = {0};
    long status = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (status != 200)
        fail_msg("POST %s: status %ld: %.300s", body, status, r.data);
    cJSON *j = cJSON_Parse(r.data);
    if (j == NULL)
        fail_msg("POST: not JSON: %.300s", r.data);
    free(r.data);
    return j;
}

static cJSON *cli_search(const char *query, int top, const char *model)
{
    char args[2048];
    snprintf(args, sizeof args, "search --db %s --embedder %s --top %d --json '%s'", g_db, model, top,
             query);
    char *out = run_ok(args);
    cJSON *j = cJSON_Parse(out);
    if (j == NULL)
        fail_msg("search: not JSON: %.300s", out);
    free(out);
    return j;
}

static const char *const k_queries[] = {
    "affluent customers nearing retirement",
    "young professionals with good credit",
    "credit score over 700 with a mortgage",
    "customers interested in investment products",
    "high income",
};

// The server's answers equal the CLI's (cli: answers captured earlier, or NULL to run now).
static void check_same_answers(const struct server *s, cJSON *const *cli, const char *model,
                               bool want_dense)
{
    int n_dense = 0;
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        cJSON *a = http_get(s, k_queries[i], 10);
        cJSON *b = cli ? cli[i] : cli_search(k_queries[i], 10, model);
        n_dense += cJSON_IsTrue(cJSON_GetObjectItem(a, "dense")); // queries with semantic text
        if (!cJSON_Compare(a, b, true)) {
            char *x = cJSON_PrintUnformatted(a), *y = cJSON_PrintUnformatted(b);
            fail_msg("'%s': served %.600s\nCLI %.600s", k_queries[i], x, y);
        }
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(a, "results")) > 0);
        // /invocations ranks the same customers
        cJSON *inv = http_invoke(s, k_queries[i]);
        const cJSON *pred = cJSON_GetObjectItem(inv, "predictions");
        const cJSON *res = cJSON_GetObjectItem(b, "results");
        assert_int_equal(cJSON_GetArraySize(pred), cJSON_GetArraySize(res));
        for (int k = 0; k < cJSON_GetArraySize(res); k++) {
            assert_string_equal(
                cJSON_GetObjectItem(cJSON_GetArrayItem(pred, k), "customer_id")->valuestring,
                cJSON_GetObjectItem(cJSON_GetArrayItem(res, k), "customer_id")->valuestring);
        }
        cJSON_Delete(inv);
        cJSON_Delete(a);
        if (cli == NULL)
            cJSON_Delete(b);
    }
    assert_true(want_dense ? n_dense >= 2 : n_dense == 0);
}

static void corrupt_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
}

// ---- tests ----

static void test_round_trip(void **state)
{
    (void)state;
    char args[2048];
    cJSON *before[sizeof k_queries / sizeof k_queries[0]];
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        before[i] = cli_search(k_queries[i], 10, g_model);
    }
    snprintf(args, sizeof args,
             "bundle create --name " NAME " --registry %s --db %s --embedder %s --json", g_reg, g_db,
             g_model);
    char *out = run_ok(args);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(j, "rows")->valueint, 300);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "dense")));
    cJSON_Delete(j);
    free(out);

    // the working database changes after the bundle was made (customers re-imported from
    // another bank): the bundle still answers as the database did when it was made
    tu_generate_import(g_dir, "c.csv", 300, 99, g_db);
    int n_changed = 0;
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        cJSON *now = cli_search(k_queries[i], 10, g_model);
        n_changed += !cJSON_Compare(now, before[i], true);
        cJSON_Delete(now);
    }
    assert_true(n_changed > 0); // the database really answers differently now

    struct server s;
    snprintf(args, sizeof args, "--registry %s --bundle " NAME " --db %s/ops.db", g_reg, g_dir);
    int rc = serve_start(args, &s);
    if (rc != 0)
        fail_msg("serve --bundle: exit %d: %s", rc, serve_log(&s));
    char *log = serve_log(&s);
    assert_non_null(strstr(log, "bundle " NAME "/1, every checksum verified"));
    free(log);
    check_same_answers(&s, before, NULL, true);
    serve_stop(&s);
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        cJSON_Delete(before[i]);
    }
    // serving never wrote to the snapshot (read-only open; no -wal/-shm left beside it)
    snprintf(args, sizeof args, "bundle show " NAME "/1 --verify --registry %s", g_reg);
    out = run_ok(args);
    assert_non_null(strstr(out, "verified  ok"));
    assert_non_null(strstr(out, "model_uuid: "));
    assert_non_null(strstr(out, "\"path\": \"customers.db\""));
    free(out);
}

static void test_corrupted_refused(void **state)
{
    (void)state;
    char args[2048], path[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "bundle create --name Corrupt --registry %s --db %s --embedder %s",
             g_reg, g_db, g_model);
    free(run_ok(args));
    static const struct {
        const char *file; // NULL: add an extra file
        long offset;
        const char *want;
    } cases[] = {
        {"customers.db", 4000, "bundle Corrupt/1: customers.db: sha256 mismatch (manifest "},
        {"lexicon.json", 10, "bundle Corrupt/1: lexicon.json: sha256 mismatch"},
        {"MLmodel", 3, "bundle Corrupt/1: MLmodel: sha256 mismatch"},
        {NULL, 0, "bundle Corrupt/1: notes.txt: not in the manifest"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[700];
        snprintf(dir, sizeof dir, "%s/Corrupt/1", g_reg);
        if (cases[i].file) {
            snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
            corrupt_byte(path, cases[i].offset);
        } else {
            tu_write_text(dir, "notes.txt", "hello");
        }
        struct server s;
        snprintf(args, sizeof args, "--registry %s --bundle Corrupt/1", g_reg);
        int rc = serve_start(args, &s);
        char *log = serve_log(&s);
        if (rc != 1 || strstr(log, cases[i].want) == NULL) {
            fail_msg("case %zu: exit %d, stderr '%s', want '%s'", i, rc, log, cases[i].want);
        }
        printf("refused: %s", log);
        free(log);
        // bundle show --verify says the same, with exit status 1
        snprintf(args, sizeof args, "bundle show Corrupt/1 --verify --registry %s", g_reg);
        assert_int_equal(run(args, &out, &err), 1);
        assert_non_null(strstr(err, cases[i].want));
        free(out);
        free(err);
        if (cases[i].file) {
            corrupt_byte(path, cases[i].offset); // flip back
        } else {
            snprintf(path, sizeof path, "%s/notes.txt", dir);
            unlink(path);
        }
    }
    snprintf(args, sizeof args, "bundle show Corrupt --verify --registry %s", g_reg);
    free(run_ok(args));
}

static void test_model_copy_and_reference(void **state)
{
    (void)state;
    char args[2048], model2[600];
    snprintf(model2, sizeof model2, "%s/model2", g_dir);
    snprintf(args, sizeof args, "cp -r %s %s", g_model, model2);
    assert_int_equal(system(args), 0);
    cJSON *before[sizeof k_queries / sizeof k_queries[0]];
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        before[i] = cli_search(k_queries[i], 10, g_model);
    }
    // --copy-model: the bundle keeps working when the model directory is gone
    snprintf(args, sizeof args,
             "bundle create --name Copied --copy-model --registry %s --db %s --embedder %s", g_reg,
             g_db, model2);
    free(run_ok(args));
    // a second bundle references model2
    snprintf(args, sizeof args, "bundle create --name Referenced --registry %s --db %s --embedder %s",
             g_reg, g_db, model2);
    free(run_ok(args));
    snprintf(args, sizeof args, "mv %s %s.gone", model2, model2);
    assert_int_equal(system(args), 0);
    struct server s;
    snprintf(args, sizeof args, "--registry %s --bundle Copied/1", g_reg);
    int rc = serve_start(args, &s);
    if (rc != 0)
        fail_msg("serve: exit %d: %s", rc, serve_log(&s));
    check_same_answers(&s, before, NULL, true);
    serve_stop(&s);
    for (size_t i = 0; i < sizeof k_queries / sizeof k_queries[0]; i++) {
        cJSON_Delete(before[i]);
    }
    // the referenced model back, but with other weights: refused, naming the weights file
    snprintf(args, sizeof args, "mv %s.gone %s", model2, model2);
    assert_int_equal(system(args), 0);
    struct testmodel_spec sp = testmodel_default_spec();
    sp.seed = 2;
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/other", g_dir);
    mkdir(tmp, 0755);
    assert_int_equal(testmodel_write(tmp, &sp), 0);
    snprintf(args, sizeof args, "cp %s/model.safetensors %s/model.safetensors", tmp, model2);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "--registry %s --bundle Referenced", g_reg);
    rc = serve_start(args, &s);
    char *log = serve_log(&s);
    if (rc != 1 || strstr(log, "model2/model.safetensors: sha256 mismatch") == NULL) {
        fail_msg("changed weights: exit %d: %s", rc, log);
    }
    free(log);
}

// Runs a `bundle create --copy-model` that must fail, with stderr holding every want (NULL ends).
static void copy_refused(const char *name, const char *model, const char *const *want)
{
    char args[2048], *out = NULL, *err = NULL;
    snprintf(args, sizeof args,
             "bundle create --name %s --copy-model --registry %s --db %s --embedder %s", name,
             g_reg, g_db, model);
    int rc = run(args, &out, &err);
    for (size_t i = 0; want[i] != NULL; i++) {
        if (rc != 1 || strstr(err, want[i]) == NULL) {
            fail_msg("%s: exit %d, stderr '%s', want '%s'", model, rc, err, want[i]);
        }
    }
    printf("refused: %s", err);
    free(out);
    free(err);
    snprintf(args, sizeof args, "%s/%s/1", g_reg, name);
    assert_int_not_equal(access(args, F_OK), 0); // nothing registered
}

// issue 17 item 7: --copy-model copies a model directory's known regular files only. An unknown
// file (here a link to a 0600 file elsewhere) is left behind and not in the manifest; a 0600
// model file stays 0600 in the bundle; a known file that is a link, a model directory that is a
// link (to the model, or to /etc), and a directory that is not a model are refused, naming the
// path, and register nothing.
static void test_copy_model_regular_files_only(void **state)
{
    (void)state;
    char args[2048], model3[600], path[900], secret[700], *out = NULL;
    snprintf(model3, sizeof model3, "%s/model3", g_dir);
    snprintf(args, sizeof args, "cp -r %s %s", g_model, model3);
    assert_int_equal(system(args), 0);
    tu_write_text(g_dir, "secret.txt", "not for the bundle");
    snprintf(secret, sizeof secret, "%s/secret.txt", g_dir);
    assert_int_equal(chmod(secret, 0600), 0);
    snprintf(path, sizeof path, "%s/notes.txt", model3);
    assert_int_equal(symlink(secret, path), 0);
    tu_write_text(model3, "train.py", "print('unrelated')\n");
    snprintf(path, sizeof path, "%s/config.json", model3);
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(args, sizeof args,
             "bundle create --name Only --copy-model --registry %s --db %s --embedder %s", g_reg,
             g_db, model3);
    free(run_ok(args));
    struct stat st;
    snprintf(path, sizeof path, "%s/Only/1/model/notes.txt", g_reg);
    assert_int_not_equal(lstat(path, &st), 0);
    snprintf(path, sizeof path, "%s/Only/1/model/train.py", g_reg);
    assert_int_not_equal(lstat(path, &st), 0);
    snprintf(path, sizeof path, "%s/Only/1/model/config.json", g_reg);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0077, 0); // 0600 stays 0600
    snprintf(path, sizeof path, "%s/Only/1/model/model.safetensors", g_reg);
    assert_int_equal(lstat(path, &st), 0);
    snprintf(args, sizeof args, "bundle show Only --verify --registry %s", g_reg);
    out = run_ok(args);
    assert_non_null(strstr(out, "verified  ok"));
    assert_non_null(strstr(out, "model/config.json"));
    assert_null(strstr(out, "notes.txt"));
    assert_null(strstr(out, "train.py"));
    free(out);
    struct server s;
    snprintf(args, sizeof args, "--registry %s --bundle Only", g_reg);
    int rc = serve_start(args, &s);
    if (rc != 0)
        fail_msg("serve: exit %d: %s", rc, serve_log(&s));
    serve_stop(&s);

    // a known file that is a symbolic link
    snprintf(path, sizeof path, "%s/vocab.txt", model3);
    char moved[1000];
    snprintf(moved, sizeof moved, "%s/vocab.real", g_dir);
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(symlink(moved, path), 0);
    char want_path[1000];
    snprintf(want_path, sizeof want_path, "%s/vocab.txt: a symbolic link", model3);
    copy_refused("Linked", model3, (const char *const[]){want_path, NULL});
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rename(moved, path), 0);

    // the model directory itself a link: to the model, and to /etc
    char link[700];
    snprintf(link, sizeof link, "%s/model-current", g_dir);
    assert_int_equal(symlink(model3, link), 0);
    char want_link[1600];
    snprintf(want_link, sizeof want_link, "'%s' is a symbolic link (to '%s')", link, model3);
    copy_refused("DirLink", link, (const char *const[]){want_link, NULL});
    snprintf(link, sizeof link, "%s/etc-link", g_dir);
    assert_int_equal(symlink("/etc", link), 0);
    snprintf(want_link, sizeof want_link, "'%s' is a symbolic link (to '/etc')", link);
    copy_refused("EtcLink", link, (const char *const[]){want_link, NULL});

    // a directory that is not a model
    char other[700];
    snprintf(other, sizeof other, "%s/not-a-model", g_dir);
    assert_int_equal(mkdir(other, 0755), 0);
    tu_write_text(other, "a.txt", "hello");
    tu_write_text(other, "b.csv", "x,y\n1,2\n");
    char want_other[1600];
    snprintf(want_other, sizeof want_other,
             "'%s' is not a sentence-transformers model directory: %s/config.json is missing",
             other, other);
    copy_refused("NotModel", other, (const char *const[]){want_other, NULL});
}

static void test_stages_delete_list(void **state)
{
    (void)state;
    char args[2048], *out = NULL, *err = NULL;
    // three versions; an explicit --model that does not exist is refused, not ignored
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args,
                 "bundle create --name Staged --registry %s --db %s --embedder /nonexistent-model",
                 g_reg, g_db);
        assert_int_equal(run(args, &out, &err), 1); // an explicit model that is not there
        assert_non_null(strstr(err, "/nonexistent-model"));
        free(out);
        free(err);
        snprintf(args, sizeof args, "bundle create --name Staged --registry %s --db %s --embedder %s",
                 g_reg, g_db, g_model);
        free(run_ok(args));
    }
    snprintf(args, sizeof args, "bundle promote Staged/2 --stage production --registry %s", g_reg);
    free(run_ok(args));
    snprintf(args, sizeof args, "bundle promote Staged/3 --stage staging --registry %s", g_reg);
    free(run_ok(args));
    // a bare name serves production
    struct server s;
    snprintf(args, sizeof args, "--registry %s --bundle Staged", g_reg);
    assert_int_equal(serve_start(args, &s), 0);
    char *log = serve_log(&s);
    assert_non_null(strstr(log, "bundle Staged/2 (production), every checksum verified"));
    free(log);
    serve_stop(&s);
    snprintf(args, sizeof args, "--registry %s --bundle Staged@staging", g_reg);
    assert_int_equal(serve_start(args, &s), 0);
    log = serve_log(&s);
    assert_non_null(strstr(log, "bundle Staged/3 (staging)"));
    free(log);
    serve_stop(&s);
    // deleting what production points at is refused unless --force
    snprintf(args, sizeof args, "bundle delete Staged/2 --registry %s", g_reg);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "production"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "bundle delete Staged/3 --registry %s", g_reg);
    assert_int_equal(run(args, &out, &err), 1);
    free(out);
    free(err);
    snprintf(args, sizeof args, "bundle delete Staged/2 --force --registry %s", g_reg);
    free(run_ok(args));
    snprintf(args, sizeof args, "bundle delete Staged/1 --registry %s", g_reg);
    free(run_ok(args));
    // numbers are not reused: 1 and 2 are gone, the next is 4
    snprintf(args, sizeof args, "bundle create --name Staged --registry %s --db %s --json", g_reg,
             g_db);
    out = run_ok(args);
    cJSON *j = cJSON_Parse(out);
    assert_int_equal(cJSON_GetObjectItem(j, "version")->valueint, 4);
    cJSON_Delete(j);
    free(out);
    // list --json: Staged 3 (staging) and 4
    snprintf(args, sizeof args, "bundle list Staged --json --registry %s", g_reg);
    out = run_ok(args);
    j = cJSON_Parse(out);
    assert_int_equal(cJSON_GetArraySize(j), 2);
    const cJSON *e0 = cJSON_GetArrayItem(j, 0), *e1 = cJSON_GetArrayItem(j, 1);
    assert_int_equal(cJSON_GetObjectItem(e0, "version")->valueint, 3);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(e0, "stages"), 0)->valuestring,
                        "staging");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(e0, "dense")));
    assert_int_equal(cJSON_GetObjectItem(e1, "version")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(e1, "rows")->valueint, 300);
    assert_true(cJSON_GetObjectItem(e1, "bytes")->valuedouble > 1000);
    cJSON_Delete(j);
    free(out);
    // the table lists every name
    snprintf(args, sizeof args, "bundle list --registry %s", g_reg);
    out = run_ok(args);
    assert_non_null(strstr(out, "NAME"));
    assert_non_null(strstr(out, "staging"));
    free(out);
    // bad references are usage-level failures naming the problem
    snprintf(args, sizeof args, "bundle show Staged/99 --registry %s", g_reg);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "no version 99"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "bundle create --name ../evil --registry %s --db %s", g_reg, g_db);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "bundle name"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "--registry %s --bundle Staged --embedder %s", g_reg, g_model);
    assert_int_equal(serve_start(args, &s), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_corrupted_refused),
        cmocka_unit_test(test_model_copy_and_reference),
        cmocka_unit_test(test_copy_model_regular_files_only),
        cmocka_unit_test(test_stages_delete_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
