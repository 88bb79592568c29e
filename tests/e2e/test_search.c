// test_search.c — prospect search end to end: a generated bank and a CSV with a different
// schema are imported, queried, and every result is checked against every hard filter the
// answer lists (evaluated here, independently of src/search/filter.c). Also: indexing with a
// tiny model resumes after kill -9 with exactly one vector per customer, and `similar`.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>
#include <sqlite3.h>

#include "app_book.h"
#include "testutil.h"
#include "testmodel.h"
#include <pthread.h>

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    tu_mkdtemp(g_dir, sizeof g_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(g_dir);
    return 0;
}

static int run(const char *args, char **out, char **err)
{
    return tu_run_prospect(args, NULL, out, err);
}

static bool list_has(const char *list, const char *v)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n > 0 && t[n - 1] == ' ') t[--n] = '\0';
        if (strcasecmp(t, v) == 0) return true;
    }
    return false;
}

// Does row satisfy filter f (JSON from the answer)? Independent of the C filter code.
static bool satisfies(const cJSON *row, const cJSON *f)
{
    const char *col = cJSON_GetObjectItem(f, "column")->valuestring;
    const char *op = cJSON_GetObjectItem(f, "op")->valuestring;
    const cJSON *want = cJSON_GetObjectItem(f, "value");
    const cJSON *v = cJSON_GetObjectItem(row, col);
    if (v == NULL || cJSON_IsNull(v)) return false;
    if (cJSON_IsBool(v)) {
        return strcmp(op, "is_true") == 0 ? cJSON_IsTrue(v) : strcmp(op, "is_false") == 0 && cJSON_IsFalse(v);
    }
    if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (strcmp(op, "between") == 0) {
            return x >= cJSON_GetArrayItem(want, 0)->valuedouble && x <= cJSON_GetArrayItem(want, 1)->valuedouble;
        }
        double w = want->valuedouble;
        if (!strcmp(op, "gt")) return x > w;
        if (!strcmp(op, "ge")) return x >= w;
        if (!strcmp(op, "lt")) return x < w;
        if (!strcmp(op, "le")) return x <= w;
        if (!strcmp(op, "eq")) return x == w;
        if (!strcmp(op, "ne")) return x != w;
        return false;
    }
    const char *s = v->valuestring;
    bool any = false;
    if (cJSON_IsArray(want)) {
        const cJSON *w;
        cJSON_ArrayForEach(w, want) any |= list_has(s, w->valuestring);
    } else {
        any = list_has(s, want->valuestring);
    }
    if (!strcmp(op, "eq") || !strcmp(op, "in") || !strcmp(op, "contains")) return any;
    if (!strcmp(op, "ne") || !strcmp(op, "not_in") || !strcmp(op, "not_contains")) return !any;
    return false;
}

// Runs a JSON search; checks every result against every listed filter; returns the answer
// (cJSON_Delete) and the number of filters through *n_filters.
// True when s holds w, ASCII case folded.
static bool has_word(const char *s, const char *w)
{
    for (size_t n = strlen(w); *s; s++) {
        if (strncasecmp(s, w, n) == 0) return true;
    }
    return false;
}

// A row value as text ("" when missing or null), for comparing with why texts.
static const char *row_text(const cJSON *row, const char *col, char *tmp, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, col);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v)) {
        snprintf(tmp, n, "%.15g", v->valuedouble);
        return tmp;
    }
    return "";
}

// Each result's "why" (checked here against the answer's own plan and the row): one "filter"
// item per filter, same column, in order, naming the label; "boost" items only for boosts the
// row meets, their values adding up to the result's boost; "words" items whose words occur in
// the row's value of that column. The answer says "ranked" and "order".
static void check_why(const char *query, const cJSON *j)
{
    const cJSON *filters = cJSON_GetObjectItem(j, "filters"), *r;
    if (!cJSON_IsBool(cJSON_GetObjectItem(j, "ranked")) ||
        !cJSON_IsString(cJSON_GetObjectItem(j, "order"))) {
        fail_msg("'%s': no ranked / order in the answer", query);
    }
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "results"))
    {
        const char *id = cJSON_GetObjectItem(r, "customer_id")->valuestring;
        const cJSON *why = cJSON_GetObjectItem(r, "why"), *w, *row = cJSON_GetObjectItem(r, "row");
        if (!cJSON_IsArray(why)) fail_msg("'%s': %s has no why", query, id);
        int k = 0;
        double boost = 0;
        cJSON_ArrayForEach(w, why)
        {
            const char *kind = cJSON_GetObjectItem(w, "kind")->valuestring;
            const char *col = cJSON_GetObjectItem(w, "column")->valuestring;
            const char *label = cJSON_GetObjectItem(w, "label")->valuestring;
            const char *text = cJSON_GetObjectItem(w, "text")->valuestring;
            if (strstr(text, label) != text) fail_msg("'%s': %s: why '%s' does not start with '%s'", query, id, text, label);
            if (!strcmp(kind, "filter")) {
                const cJSON *f = cJSON_GetArrayItem(filters, k++);
                if (f == NULL || strcmp(cJSON_GetObjectItem(f, "column")->valuestring, col)) {
                    fail_msg("'%s': %s: why filter %d is on %s", query, id, k, col);
                }
            } else if (!strcmp(kind, "boost")) {
                double v = cJSON_GetObjectItem(w, "value")->valuedouble;
                if (!(v > 0)) fail_msg("'%s': %s: a boost item adding %g", query, id, v);
                boost += v;
            } else if (!strcmp(kind, "words")) {
                char tmp[64];
                const char *val = row_text(row, col, tmp, sizeof tmp);
                const cJSON *word;
                cJSON_ArrayForEach(word, cJSON_GetObjectItem(w, "words"))
                {
                    if (!has_word(val, word->valuestring)) {
                        fail_msg("'%s': %s: word '%s' is not in %s '%s'", query, id, word->valuestring, col, val);
                    }
                }
            } else {
                fail_msg("'%s': %s: why kind '%s'", query, id, kind);
            }
        }
        if (k != cJSON_GetArraySize(filters)) fail_msg("'%s': %s: %d of %d filters explained", query, id, k, cJSON_GetArraySize(filters));
        if (fabs(boost - cJSON_GetObjectItem(r, "boost")->valuedouble) > 1e-4) {
            fail_msg("'%s': %s: boost items add to %g, the result's boost is %g", query, id, boost,
                     cJSON_GetObjectItem(r, "boost")->valuedouble);
        }
    }
}

static cJSON *search_checked(const char *db, const char *query, int *n_filters, int *n_results)
{
    char args[2048], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "search --db %s --top 25 --json '%s'", db, query);
    int rc = run(args, &out, &err);
    if (rc != 0) fail_msg("search '%s' exit %d: %s", query, rc, err);
    cJSON *j = cJSON_Parse(out);
    if (j == NULL) fail_msg("search '%s': not JSON: %.300s", query, out);
    const cJSON *filters = cJSON_GetObjectItem(j, "filters"), *res = cJSON_GetObjectItem(j, "results");
    *n_filters = cJSON_GetArraySize(filters);
    *n_results = cJSON_GetArraySize(res);
    const cJSON *r, *f;
    cJSON_ArrayForEach(r, res)
    {
        cJSON_ArrayForEach(f, filters)
        {
            if (!satisfies(cJSON_GetObjectItem(r, "row"), f)) {
                char *fs = cJSON_PrintUnformatted(f);
                fail_msg("'%s': customer %s fails filter %s", query,
                         cJSON_GetObjectItem(r, "customer_id")->valuestring, fs);
            }
        }
    }
    check_why(query, j);
    free(out);
    free(err);
    return j;
}

// The why item of result i of kind on column col ("" kind: any), or NULL.
static const cJSON *why_item(const cJSON *j, int i, const char *kind, const char *col)
{
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), i), *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(r, "why"))
    {
        if ((!kind[0] || !strcmp(cJSON_GetObjectItem(w, "kind")->valuestring, kind)) &&
            !strcasecmp(cJSON_GetObjectItem(w, "column")->valuestring, col)) {
            return w;
        }
    }
    return NULL;
}

static bool has_filter(const cJSON *j, const char *col, const char *op)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(j, "filters"))
    {
        if (!strcmp(cJSON_GetObjectItem(f, "column")->valuestring, col) &&
            !strcmp(cJSON_GetObjectItem(f, "op")->valuestring, op)) return true;
    }
    return false;
}

static void test_generated_bank(void **state)
{
    (void)state;
    char args[1024], db[400], *out = NULL, *err = NULL;
    snprintf(db, sizeof db, "%s/bank.db", g_dir);
    snprintf(args, sizeof args, "generate --rows 2000 --seed 3 --out %s/bank.csv && %s import --db %s --csv %s/bank.csv",
             g_dir, getenv("PROSPECT_BIN"), db, g_dir);
    assert_int_equal(run(args, &out, &err), 0);
    free(out);
    free(err);
    static const struct {
        const char *q;
        const char *col, *op; // a filter the answer must list (NULL: none required)
    } cases[] = {
        {"Customers with credit score over 750 interested in investment products", "credit_score", "gt"},
        {"customers over 65 without a mortgage", "age", "gt"},
        {"under 30 in the Mass segment", "age", "lt"},
        {"not in the Private segment and credit score between 600 and 700", "segment", "ne"},
        {"digital users with a brokerage account", NULL, NULL},
        {"Find high-income professionals nearing retirement who might be interested in wealth management services", NULL, NULL},
        {"wealthy customers nearing retirement", NULL, NULL},
        {"Young professionals with good credit scores who might qualify for premium credit cards", NULL, NULL},
        {"affluent customers with children in college who might need education loans", "children_in_college", "gt"},
        {"customers in their 40s with income over $100k", "annual_income", "gt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int nf = 0, nr = 0;
        cJSON *j = search_checked(db, cases[i].q, &nf, &nr);
        if (cases[i].col != NULL && !has_filter(j, cases[i].col, cases[i].op)) {
            char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "filters"));
            fail_msg("case %zu '%s': no %s %s filter in %s", i, cases[i].q, cases[i].col, cases[i].op, s);
        }
        if (nr == 0) {
            fail_msg("case %zu '%s': no results", i, cases[i].q);
        }
        // soft terms lead the ranking: when the query has boosts, the top 5 satisfy some
        if (cJSON_GetArraySize(cJSON_GetObjectItem(j, "boosts")) > 0) {
            for (int k = 0; k < 5 && k < nr; k++) {
                const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), k);
                if (!(cJSON_GetObjectItem(r, "boost")->valuedouble > 0)) {
                    fail_msg("case %zu '%s': result %d satisfies no boost", i, cases[i].q, k + 1);
                }
            }
        }
        printf("case %zu: %d filters, %d results\n", i, nf, nr);
        cJSON_Delete(j);
    }
    // why: the filter with the row's value, and the life event the words name
    int nf = 0, nr = 0;
    cJSON *j = search_checked(db, "credit score over 750 who just had a baby", &nf, &nr);
    assert_true(nr > 0);
    const cJSON *w = why_item(j, 0, "filter", "credit_score");
    assert_non_null(w);
    char want[64];
    snprintf(want, sizeof want, "Credit score %.0f > 750",
             cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "row"), "credit_score")->valuedouble);
    assert_string_equal(cJSON_GetObjectItem(w, "text")->valuestring, want);
    w = why_item(j, 0, "", "life_events");
    if (w == NULL || strstr(cJSON_GetObjectItem(w, "text")->valuestring, "New Baby") == NULL) {
        fail_msg("the first result's why names no New Baby life event");
    }
    // both clauses are hard ("just had a baby" reads as the life event): nothing ranks them
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "ranked")));
    cJSON_Delete(j);
    // a soft word ranks the candidates
    j = search_checked(db, "wealthy customers with credit score over 750", &nf, &nr);
    assert_true(nr > 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ranked")));
    cJSON_Delete(j);
    // filters alone rank nothing: the answer says so, and the results are in import order
    j = search_checked(db, "credit score over 700", &nf, &nr);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "ranked")));
    assert_string_equal(cJSON_GetObjectItem(j, "order")->valuestring, "import order (unranked)");
    cJSON_Delete(j);
    // the table form names what it applied, the order, and why under each row
    snprintf(args, sizeof args, "search --db %s --top 3 'customers over 65'", db);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "filters: Age gt 65"));
    assert_non_null(strstr(out, "unranked: "));
    assert_non_null(strstr(out, "      why: Age "));
    free(out);
    free(err);
    // similar: each result says what it shares with the customer asked about
    snprintf(args, sizeof args, "similar --db %s --top 5 --json --id CUST-000010", db);
    assert_int_equal(run(args, &out, &err), 0);
    j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *r, *sh;
    int n_shared = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "results"))
    {
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(r, "shared")));
        assert_null(cJSON_GetObjectItem(r, "why"));
        cJSON_ArrayForEach(sh, cJSON_GetObjectItem(r, "shared"))
        {
            assert_true(cJSON_IsString(sh) && sh->valuestring[0] != '\0');
            n_shared++;
        }
    }
    assert_true(n_shared > 0);
    cJSON_Delete(j);
    free(out);
    free(err);
    snprintf(args, sizeof args, "similar --db %s --top 2 --id CUST-000010", db);
    assert_int_equal(run(args, &out, &err), 0);
    assert_non_null(strstr(out, "      shared: "));
    free(out);
    free(err);
}

static void test_other_schema(void **state)
{
    (void)state;
    char args[1024], db[400], *out = NULL, *err = NULL;
    snprintf(db, sizeof db, "%s/other.db", g_dir);
    FILE *f = NULL;
    char path[400];
    snprintf(path, sizeof path, "%s/other.csv", g_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("ClientRef,Client Age,Salary,Tier,Holdings,Online\n", f);
    static const char *tiers[] = {"Gold", "Silver", "Bronze"};
    static const char *hold[] = {"Bonds; Funds", "Funds", "Bonds; Shares", "Shares"};
    for (int i = 0; i < 300; i++) {
        fprintf(f, "R%04d,%d,\"$%d,000\",%s,%s,%s\n", i, 20 + (i * 7) % 60, 20 + (i * 13) % 180,
                tiers[i % 3], hold[i % 4], i % 5 ? "Yes" : "No");
    }
    fclose(f);
    snprintf(args, sizeof args, "import --db %s --csv %s --id-column ClientRef", db, path);
    if (run(args, &out, &err) != 0) fail_msg("import: %s", err);
    free(out);
    free(err);
    static const struct {
        const char *q, *col, *op;
    } cases[] = {
        {"clients over 40 in the Gold tier", "Client Age", "gt"},
        {"salary over $150k holding shares", "Salary", "gt"},
        {"not in the Bronze tier", "Tier", "ne"},
        {"online clients under 30", "Online", "is_true"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int nf = 0, nr = 0;
        cJSON *j = search_checked(db, cases[i].q, &nf, &nr);
        // the column names come from this file's own header
        const cJSON *fl;
        bool found = false;
        cJSON_ArrayForEach(fl, cJSON_GetObjectItem(j, "filters"))
        {
            const char *c = cJSON_GetObjectItem(fl, "column")->valuestring;
            found |= strcasecmp(c, cases[i].col) == 0;
        }
        if (!found) {
            char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "filters"));
            fail_msg("case %zu '%s': no filter on %s in %s", i, cases[i].q, cases[i].col, s);
        }
        printf("other schema case %zu: %d filters, %d results\n", i, nf, nr);
        cJSON_Delete(j);
    }
    // why in this file's own words: "Salary $170,000 > 150000"-like, from its header's label
    int nf = 0, nr = 0;
    cJSON *j = search_checked(db, "salary over $150k holding shares", &nf, &nr);
    assert_true(nr > 0);
    const cJSON *w = why_item(j, 0, "filter", "Salary");
    assert_non_null(w);
    assert_true(strncmp(cJSON_GetObjectItem(w, "text")->valuestring, "Salary ", 7) == 0);
    w = why_item(j, 0, "", "Holdings");
    if (w == NULL || strstr(cJSON_GetObjectItem(w, "text")->valuestring, "Shares") == NULL) {
        fail_msg("the first result's why does not name its Shares holding");
    }
    cJSON_Delete(j);
    // similar on this schema: the tier or holdings it shares
    char *out2 = NULL, *err2 = NULL;
    snprintf(args, sizeof args, "similar --db %s --top 3 --json --id R0007", db);
    assert_int_equal(run(args, &out2, &err2), 0);
    j = cJSON_Parse(out2);
    assert_non_null(j);
    const cJSON *sh = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "shared");
    assert_true(cJSON_GetArraySize(sh) > 0);
    cJSON_Delete(j);
    free(out2);
    free(err2);
}

static long count_vectors(const char *db, long *distinct)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long n = -1;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM vectors", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        *distinct = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

// count_vectors, or 0 while the vectors table does not exist yet / the db is busy.
static long vectors_if_any(const char *db, long *distinct)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long n = 0;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM vectors", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        *distinct = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

// A test model (random weights) of 4 layers x 64 wide with 256 positions: slow enough for
// timing-sensitive tests (a kill mid-run, overlapping forward passes), still fast under ASan.
static void write_slow_model(const char *dir)
{
    mkdir(dir, 0755);
    struct testmodel_spec s = testmodel_default_spec();
    s.hidden = 64;
    s.intermediate = 256;
    s.layers = 4;
    s.max_positions = 256;
    s.max_seq_length = 256;
    assert_int_equal(testmodel_write(dir, &s), 0);
}

static void test_index_resumes_after_kill(void **state)
{
    (void)state;
    char args[8192], db[400], model[400], *out = NULL, *err = NULL;
    snprintf(db, sizeof db, "%s/idx.db", g_dir);
    snprintf(model, sizeof model, "%s/model", g_dir);
    // big enough that indexing 3,000 customers takes a few seconds, so the kill lands mid-run
    write_slow_model(model);
    snprintf(args, sizeof args, "generate --rows 3000 --seed 5 --out %s/i.csv && %s import --db %s --csv %s/i.csv",
             g_dir, getenv("PROSPECT_BIN"), db, g_dir);
    assert_int_equal(run(args, &out, &err), 0);
    free(out);
    free(err);
    // start, and kill -9 as soon as the first batch is stored: the kill lands mid-run
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(getenv("PROSPECT_BIN"), "prospect", "index", "--db", db, "--embedder", model,
              "--threads", "1", (char *)NULL);
        _exit(127);
    }
    long distinct = 0, n = 0;
    for (int i = 0; i < 6000 && n <= 0; i++) { // up to 60 s
        usleep(10000);
        n = vectors_if_any(db, &distinct);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    n = count_vectors(db, &distinct);
    printf("after kill -9: %ld vectors\n", n);
    assert_true(n > 0 && n < 3000); // the run was really interrupted
    assert_true(n % 256 == 0);      // one transaction per batch of 256: no half batch
    assert_int_equal(distinct, n);
    // the old spelling --model DIR still names the directory, with a note
    snprintf(args, sizeof args, "index --db %s --model %s && %s index --db %s --embedder %s", db,
             model, getenv("PROSPECT_BIN"), db, model);
    int rc = run(args, &out, &err);
    if (rc != 0) fail_msg("index: exit %d: %s", rc, err);
    assert_non_null(strstr(err, "3000 customers, 0 embedded now, 3000 already indexed"));
    assert_non_null(strstr(err, "--model DIR is now --embedder DIR"));
    free(out);
    free(err);
    // the summary as JSON and CSV on stdout
    snprintf(args, sizeof args, "index --db %s --embedder %s --format json", db, model);
    assert_int_equal(run(args, &out, &err), 0);
    cJSON *sj = cJSON_Parse(out);
    if (sj == NULL) fail_msg("index --format json: not JSON: %s", out);
    assert_int_equal(cJSON_GetObjectItem(sj, "customers")->valueint, 3000);
    assert_int_equal(cJSON_GetObjectItem(sj, "embedded")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(sj, "skipped")->valueint, 3000);
    assert_true(strncmp(cJSON_GetObjectItem(sj, "model_id")->valuestring, "sha256:", 7) == 0);
    cJSON_Delete(sj);
    free(out);
    free(err);
    snprintf(args, sizeof args, "index --db %s --embedder %s --format csv", db, model);
    assert_int_equal(run(args, &out, &err), 0);
    const char *csv_head = "customers,embedded,skipped,model_id\n3000,0,3000,sha256:";
    assert_true(strncmp(out, csv_head, strlen(csv_head)) == 0);
    free(out);
    free(err);
    n = count_vectors(db, &distinct);
    assert_int_equal(n, 3000);
    assert_int_equal(distinct, 3000);
    // the dense path is on now, and `similar` never returns the customer itself
    snprintf(args, sizeof args, "similar --db %s --embedder %s --top 5 --json --id CUST-000010", db, model);
    assert_int_equal(run(args, &out, &err), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "dense")));
    const cJSON *r;
    int nr = 0;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "results"))
    {
        assert_string_not_equal(cJSON_GetObjectItem(r, "customer_id")->valuestring, "CUST-000010");
        nr++;
    }
    assert_int_equal(nr, 5);
    cJSON_Delete(j);
    free(out);
    free(err);
}

// Lines of s (the count of '\n').
static int n_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

// --format table|json|csv on search and similar: json is --json, csv one line per result.
static void test_formats(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL, *json = NULL;
    snprintf(args, sizeof args, "search --db %s/bank.db --top 4 --json 'customers over 65'", g_dir);
    assert_int_equal(run(args, &json, &err), 0);
    free(err);
    snprintf(args, sizeof args, "search --db %s/bank.db --top 4 --format json 'customers over 65'", g_dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_string_equal(out, json); // one answer, two spellings
    free(out);
    free(err);
    snprintf(args, sizeof args, "search --db %s/bank.db --top 4 --format csv 'customers over 65'", g_dir);
    assert_int_equal(run(args, &out, &err), 0);
    const char *head = "rank,customer_id,score,similarity,lexical,boost,age,";
    assert_true(strncmp(out, head, strlen(head)) == 0);
    assert_int_equal(n_lines(out), 5);
    // the JSON's first customer is the CSV's first line
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    const char *first = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0),
                                            "customer_id")->valuestring;
    char want[64];
    snprintf(want, sizeof want, "\n1,%s,", first);
    assert_non_null(strstr(out, want));
    cJSON_Delete(j);
    free(json);
    free(out);
    free(err);
    snprintf(args, sizeof args, "similar --db %s/bank.db --top 3 --format csv --columns age,Segment --id CUST-000010", g_dir);
    assert_int_equal(run(args, &out, &err), 0);
    assert_true(strncmp(out, "rank,customer_id,score,similarity,lexical,boost,age,segment\n",
                        strlen("rank,customer_id,score,similarity,lexical,boost,age,segment\n")) == 0);
    assert_int_equal(n_lines(out), 4);
    free(out);
    free(err);
    snprintf(args, sizeof args, "search --db %s/bank.db --format xml 'x'", g_dir);
    assert_int_equal(run(args, &out, &err), 2);
    assert_non_null(strstr(err, "--format must be table, json or csv"));
    free(out);
    free(err);
    snprintf(args, sizeof args, "search --db %s/bank.db --columns nope 'x'", g_dir);
    assert_int_equal(run(args, &out, &err), 2);
    assert_non_null(strstr(err, "no column named 'nope'"));
    free(out);
    free(err);
}

static void test_errors(void **state)
{
    (void)state;
    char args[1024], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "search --db %s/none.db 'x'", g_dir);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "import customers first"));
    free(out);
    free(err);
    assert_int_equal(run("search", &out, &err), 2);
    free(out);
    free(err);
    snprintf(args, sizeof args, "similar --db %s/bank.db --id NOPE", g_dir);
    assert_int_equal(run(args, &out, &err), 1);
    assert_non_null(strstr(err, "no customer with id 'NOPE'"));
    free(out);
    free(err);
}

// Lanes: one book searched by 4 threads at once through 3 lanes (dense path on, a tiny model)
// gives byte-for-byte the answers of the same queries run one after another — the repeats
// taking their query vectors from the cache.
#define LANE_QUERIES 6
#define LANE_THREADS 4
static const char *const k_lane_queries[LANE_QUERIES] = {
    "customers over 50 interested in retirement planning",
    "young professionals with good credit",
    "credit score over 700",
    "affluent customers with children",
    "homeowners in Chicago",
    "savings account",
};
static struct app_book *g_lane_book;
static char *g_lane_want[LANE_QUERIES];
static int g_lane_sem; // queries with semantic text (embedded; filters alone are not)

static char *search_json(const char *q)
{
    struct app_result r = {0};
    struct buf out;
    struct px_err e = {0};
    buf_init(&out, 1u << 24);
    if (app_book_search(g_lane_book, q, strlen(q), 8, &r, &e) != PX_OK ||
        app_result_to_json(g_lane_book, q, strlen(q), &r, &out, &e) != PX_OK) {
        return NULL;
    }
    if (app_plan_semantic_text(r.plan)[0] != '\0') __atomic_add_fetch(&g_lane_sem, 1, __ATOMIC_RELAXED);
    app_result_free(&r);
    char *s = strdup(out.data);
    buf_free(&out);
    return s;
}

static void *lane_client(void *arg)
{
    long id = (long)arg, bad = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < LANE_QUERIES; i++) {
            int q = (int)((i + id + round) % LANE_QUERIES);
            char *got = search_json(k_lane_queries[q]);
            bad += got == NULL || strcmp(got, g_lane_want[q]) != 0;
            free(got);
        }
    }
    return (void *)bad;
}

static void test_concurrent_lanes(void **state)
{
    (void)state;
    char args[4096], db[400], model[400], *out = NULL, *err = NULL;
    snprintf(db, sizeof db, "%s/lanes.db", g_dir);
    snprintf(model, sizeof model, "%s/lane-model", g_dir);
    // big enough that one query's forward pass takes a while, so the threads' passes overlap
    write_slow_model(model);
    snprintf(args, sizeof args,
             "generate --rows 400 --seed 9 --out %s/l.csv && %s import --db %s --csv %s/l.csv && "
             "%s index --db %s --embedder %s",
             g_dir, getenv("PROSPECT_BIN"), db, g_dir, getenv("PROSPECT_BIN"), db, model);
    if (run(args, &out, &err) != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.model_flag = model;
    bp.n_lanes = 3;
    struct px_err e = {0};
    if (app_book_open(&bp, &g_lane_book, &e) != PX_OK) fail_msg("open: %s", e.msg);
    assert_null(app_book_dense_status(g_lane_book)); // the dense path (embedder per lane) is on
    for (int i = 0; i < LANE_QUERIES; i++) {
        g_lane_want[i] = search_json(k_lane_queries[i]);
        assert_non_null(g_lane_want[i]);
    }
    pthread_t t[LANE_THREADS];
    for (long i = 0; i < LANE_THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, lane_client, (void *)i), 0);
    }
    long bad = 0;
    for (int i = 0; i < LANE_THREADS; i++) {
        void *r = NULL;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    assert_int_equal(bad, 0);
    // each distinct semantic text was embedded once; every repeat came from the query cache
    size_t hits = 0, misses = 0;
    app_book_cache_stats(g_lane_book, &hits, &misses);
    assert_true(g_lane_sem > 0);
    assert_int_equal(hits + misses, (size_t)g_lane_sem);
    assert_int_equal(misses, (size_t)g_lane_sem / (1 + LANE_THREADS * 5));
    for (int i = 0; i < LANE_QUERIES; i++) free(g_lane_want[i]);
    app_book_close(g_lane_book);
    // lanes out of range are refused
    bp.n_lanes = 0;
    assert_int_equal(app_book_open(&bp, &g_lane_book, &e), PX_EINVAL);
}

// Allocation failures at every step of app_book_open, on the dense path (a tiny model, its
// vectors, two lanes, a user lexicon and a template) and on the lexical one (no weights): each
// failure is PX_ENOMEM and leaks nothing; out of memory never quietly turns the dense path off.
struct open_case {
    struct app_book_params bp;
    struct app_book *book;
};

static int open_book(void *user, struct px_err *err)
{
    struct open_case *oc = user;
    return app_book_open(&oc->bp, &oc->book, err);
}

static void close_book(void *user)
{
    struct open_case *oc = user;
    app_book_close(oc->book);
    oc->book = NULL;
}

static void test_open_alloc_failures(void **state)
{
    (void)state;
    char args[4096], db[400], model[400], tpl[400], lex[400], *out = NULL, *err = NULL;
    snprintf(db, sizeof db, "%s/fault.db", g_dir);
    snprintf(model, sizeof model, "%s/fault-model", g_dir);
    snprintf(tpl, sizeof tpl, "%s/fault.tpl", g_dir);
    snprintf(lex, sizeof lex, "%s/fault-lexicon.json", g_dir);
    mkdir(model, 0755);
    struct testmodel_spec s = testmodel_default_spec();
    assert_int_equal(testmodel_write(model, &s), 0);
    tu_write_text(g_dir, "fault.tpl", "{age} year old {occupation} in {city}, {segment}.");
    tu_write_text(g_dir, "fault-lexicon.json", "{\"concepts\": {\"age\": [\"summers\"]}}");
    snprintf(args, sizeof args,
             "generate --rows 40 --seed 11 --out %s/f.csv && %s import --db %s --csv %s/f.csv && "
             "%s index --db %s --embedder %s --template %s",
             g_dir, getenv("PROSPECT_BIN"), db, g_dir, getenv("PROSPECT_BIN"), db, model, tpl);
    if (run(args, &out, &err) != 0) fail_msg("setup: %s", err);
    free(out);
    free(err);
    struct open_case oc = {.bp = app_book_default_params()};
    oc.bp.db_path = db;
    oc.bp.model_flag = model;
    oc.bp.template_path = tpl;
    oc.bp.lexicon_path = lex;
    oc.bp.n_lanes = 2;
    struct px_err e = {0};
    if (app_book_open(&oc.bp, &oc.book, &e) != PX_OK) fail_msg("open: %s", e.msg);
    assert_null(app_book_dense_status(oc.book)); // the dense path is on
    close_book(&oc);
    long dense = tu_check_alloc_failures(open_book, close_book, &oc);
    char nothing[400];
    snprintf(nothing, sizeof nothing, "%s/no-such-model", g_dir);
    oc.bp.model_flag = nothing;
    long lexical = tu_check_alloc_failures(open_book, close_book, &oc);
    printf("app_book_open: %ld allocation points (dense), %ld (lexical)\n", dense, lexical);
    assert_true(dense > lexical && lexical > 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_bank),
        cmocka_unit_test(test_other_schema),
        cmocka_unit_test(test_index_resumes_after_kill),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_concurrent_lanes),
        cmocka_unit_test(test_open_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
