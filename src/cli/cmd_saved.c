// cmd_saved.c — the relationship manager's day on the command line (issue 15):
// `prospect saved add|list|show|run|delete`, `prospect alerts [run]` and `prospect report`.
//
// The owner of a CLI search is "cli:<OS user>" (app_saved.h); every action is audited under the
// OS user. `alerts run --all` runs everyone's searches (for cron or a systemd timer, README);
// an import runs them by itself. Table output is drawn from the same JSON document that
// --format json prints (the app builds it); CSV lists its main array.
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_book.h"
#include "app_saved.h"
#include "buf.h"
#include "cli.h"
#include "cpu.h"
#include "jsonx.h"
#include "limits.h"
#include "mem.h"

static const char *const k_usage_saved =
    "usage: prospect saved add --name NAME [--webhook URL] [--columns A,B] [--sort COL:asc|desc]\n"
    "                          [--db FILE] \"QUERY\"\n"
    "       prospect saved list|show SAVED|delete SAVED [--db FILE] [--format table|json|csv]\n"
    "       prospect saved run SAVED [--top N] [--db FILE] [--format table|json|csv]\n"
    "\n"
    "Saved searches: a query kept under a name, run again on demand (`run`), after every import\n"
    "and by `prospect alerts run`, which report the customers that match now and did not\n"
    "before. SAVED is a name or an id. Searches belong to the OS user (cli:<user>); the page's\n"
    "belong to its API key. Every action is audited.\n"
    "\n"
    "  --db FILE         database (default ./prospect.db)\n"
    "  --name NAME       the search's name (unique per owner)\n"
    "  --webhook URL     http(s) URL that gets each alert as a JSON POST (retried with back-off)\n"
    "  --columns A,B     the columns to show (kept with the search)\n"
    "  --sort COL:DIR    the order to show (kept with the search; default: the ranking)\n"
    "  --top N           results of `run` (default 10)\n"
    "  --embedder DIR    sentence-transformer directory (default lookup)\n"
    "  --format F        table (default), json or csv; --json: the same as --format json\n";

static const char *const k_usage_alerts =
    "usage: prospect alerts [--db FILE] [--saved SAVED] [--after ID] [--limit N]\n"
    "                       [--format table|json|csv]\n"
    "       prospect alerts run [--all] [--force] [--db FILE] [--format table|json|csv]\n"
    "\n"
    "`alerts` lists the customers new to your saved searches, newest last; `alerts run` runs the\n"
    "saved searches again now (yours, or everyone's with --all: for cron or a systemd timer)\n"
    "and records what changed. A search whose matches were taken since the last import is\n"
    "skipped unless --force. Searches with a webhook get the new customers POSTed.\n"
    "\n"
    "  --db FILE        database (default ./prospect.db)\n"
    "  --saved SAVED    only this saved search's alerts (name or id)\n"
    "  --after ID       only alerts after this id\n"
    "  --limit N        the newest N (default 50)\n"
    "  --all            run every owner's searches\n"
    "  --force          run searches that are up to date too\n"
    "  --embedder DIR   sentence-transformer directory (default lookup)\n"
    "  --format F       table (default), json or csv; --json: the same as --format json\n";

static const char *const k_usage_report =
    "usage: prospect report SAVED [--format csv|html] [--out FILE] [--db FILE]\n"
    "\n"
    "Writes every customer a saved search matches now — not capped: the ranked ones first,\n"
    "then the rest — with the query, the filters and boosts it applied, the time and the book's\n"
    "generation at the top (CSV: '# ' lines; HTML: a header table). --out writes the file\n"
    "atomically; without it the report goes to standard output. Audited with every id.\n"
    "\n"
    "  --format F       csv (default) or html\n"
    "  --out FILE       write to FILE (atomically)\n"
    "  --db FILE        database (default ./prospect.db)\n"
    "  --embedder DIR   sentence-transformer directory (default lookup)\n";

struct opts {
    const char *db, *name, *webhook, *columns, *sort, *embedder, *saved, *out;
    int top, limit;
    long long after;
    bool all, force, html;
    enum cli_format format;
};

static void os_user(char user[64])
{
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp != NULL) {
        snprintf(user, 64, "%s", pw.pw_name);
    } else {
        snprintf(user, 64, "uid %u", (unsigned)geteuid());
    }
}

static int parse(const char *cmd, const char *usage, int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"db", required_argument, NULL, 'd'},      {"name", required_argument, NULL, 'n'},
        {"webhook", required_argument, NULL, 'w'}, {"columns", required_argument, NULL, 'c'},
        {"sort", required_argument, NULL, 's'},    {"top", required_argument, NULL, 't'},
        {"embedder", required_argument, NULL, 'e'}, {"saved", required_argument, NULL, 'S'},
        {"after", required_argument, NULL, 'a'},   {"limit", required_argument, NULL, 'l'},
        {"all", no_argument, NULL, 'A'},           {"force", no_argument, NULL, 'F'},
        {"out", required_argument, NULL, 'o'},     CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    *o = (struct opts){.db = "prospect.db", .top = 10, .limit = 50};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:n:w:c:s:t:e:S:a:l:AFo:h", lo, NULL)) != -1) {
        if (ch == CLI_OPT_FORMAT && strcmp(cmd, "report") == 0) {
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "html") != 0) {
                return cli_usage_error(cmd, "--format must be csv or html, got '%s'", optarg);
            }
            o->html = strcmp(optarg, "html") == 0;
            continue;
        }
        int frc = cli_format_option(cmd, ch, optarg, &o->format);
        if (frc >= 0) {
            if (frc != CLI_OK) return frc;
            continue;
        }
        uint64_t u = 0;
        switch (ch) {
        case 'd': o->db = optarg; break;
        case 'n': o->name = optarg; break;
        case 'w': o->webhook = optarg; break;
        case 'c': o->columns = optarg; break;
        case 's': o->sort = optarg; break;
        case 'e': o->embedder = optarg; break;
        case 'S': o->saved = optarg; break;
        case 'o': o->out = optarg; break;
        case 'A': o->all = true; break;
        case 'F': o->force = true; break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_VINDEX_K, &o->top)) {
                return cli_usage_error(cmd, "--top must be 1..%d", LIMIT_VINDEX_K);
            }
            break;
        case 'l':
            if (!cli_parse_int(optarg, 1, 100000, &o->limit)) {
                return cli_usage_error(cmd, "--limit must be 1..100000");
            }
            break;
        case 'a':
            if (!cli_parse_u64(optarg, (uint64_t)1 << 62, &u)) {
                return cli_usage_error(cmd, "--after must be an alert id");
            }
            o->after = (long long)u;
            break;
        case 'h': fputs(usage, stdout); return -1;
        default: return cli_usage_error(cmd, "unknown option (see --help)");
        }
    }
    return CLI_OK;
}

static int open_book(const char *cmd, const struct opts *o, struct app_book **b,
                     struct px_err *err)
{
    struct app_book_params bp = app_book_default_params();
    bp.db_path = o->db;
    bp.model_flag = o->embedder;
    bp.n_threads = cpu_count() < LIMIT_THREADS ? cpu_count() : LIMIT_THREADS;
    int rc = app_book_open(&bp, b, err);
    if (rc == PX_OK && app_book_dense_status(*b) != NULL && g_cli_verbose) {
        fprintf(stderr, "prospect %s: %s\n", cmd, app_book_dense_status(*b));
    }
    return rc;
}

// "A,B" as the JSON array ["A", "B"] into out.
static int columns_json(char *list, struct buf *out, struct px_err *err)
{
    char *items[LIMIT_QUERY_COLUMNS];
    size_t n = cli_split_list(list, items, LIMIT_QUERY_COLUMNS);
    int rc = buf_append(out, "[", 1, err);
    for (size_t i = 0; rc == PX_OK && i < n; i++) {
        if (i > 0) rc = buf_append(out, ", ", 2, err);
        if (rc == PX_OK) rc = jsonx_put_cstr(out, items[i], err);
    }
    return rc == PX_OK ? buf_append(out, "]", 1, err) : rc;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_ids(const cJSON *a, size_t max)
{
    size_t i = 0;
    for (const cJSON *v = a ? a->child : NULL; v != NULL; v = v->next, i++) {
        if (i == max) {
            printf(", ... (%d in all)", cJSON_GetArraySize(a));
            break;
        }
        printf("%s%s", i ? ", " : "", cJSON_IsString(v) ? v->valuestring : "?");
    }
}

// Prints doc in the chosen format; table: the rows under key (saved, runs, alerts) by kind.
static int print_doc(const char *cmd, const struct buf *doc, const char *key, enum cli_format f)
{
    struct px_err err = {0};
    if (f == CLI_FORMAT_JSON) return cli_print_json(cmd, doc);
    if (f == CLI_FORMAT_CSV) {
        int rc = cli_print_json_as_csv(cmd, doc, key, &err);
        return rc == CLI_OK && fflush(stdout) != 0 ? CLI_FAIL : rc;
    }
    cJSON *root = NULL;
    if (jsonx_parse(doc->data, doc->len, cmd, &root, &err) != PX_OK) return cli_fail(cmd, &err);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsObject(list)) { // saved show / add: one search
        printf("%-4.0f %s\n  query: %s\n  matches: %.0f   generation: %.0f   webhook: %s\n",
               num(list, "id"), str(list, "name"), str(list, "query"), num(list, "matches"),
               num(list, "generation"), str(list, "webhook")[0] ? str(list, "webhook") : "none");
        const cJSON *al = cJSON_GetObjectItemCaseSensitive(root, "alerts");
        for (const cJSON *a = al ? al->child : NULL; a != NULL; a = a->next) {
            printf("  alert %.0f at %s: %.0f new (", num(a, "id"), str(a, "time"), num(a, "new"));
            print_ids(cJSON_GetObjectItemCaseSensitive(a, "new_ids"), 10);
            printf(")\n");
        }
    } else if (strcmp(key, "saved") == 0) {
        printf("%-4s %-28s %8s  %s\n", "ID", "NAME", "MATCHES", "QUERY");
        for (const cJSON *v = list ? list->child : NULL; v != NULL; v = v->next) {
            printf("%-4.0f %-28s %8.0f  %s\n", num(v, "id"), str(v, "name"), num(v, "matches"),
                   str(v, "query"));
        }
    } else if (strcmp(key, "runs") == 0) {
        printf("generation %.0f: %.0f searches, %.0f ran, %.0f skipped, %.0f changed, %.0f new, "
               "%.0f gone (%.3f s)\n",
               num(root, "generation"), num(root, "searches"), num(root, "ran"),
               num(root, "skipped"), num(root, "changed"), num(root, "new"), num(root, "gone"),
               num(root, "seconds"));
        for (const cJSON *v = list ? list->child : NULL; v != NULL; v = v->next) {
            printf("  %.0f new customers match '%s' (%.0f gone, %.0f unchanged)", num(v, "new"),
                   str(v, "query"), num(v, "gone"), num(v, "unchanged"));
            if (num(v, "new") > 0) {
                printf(": ");
                print_ids(cJSON_GetObjectItemCaseSensitive(v, "new_ids"), 10);
            }
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(v, "webhook");
            if (cJSON_IsObject(w)) {
                printf("; webhook %s after %.0f attempt(s)",
                       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "delivered"))
                           ? "delivered"
                           : "NOT delivered",
                       num(w, "attempts"));
            }
            printf("\n");
        }
    } else { // alerts
        for (const cJSON *v = list ? list->child : NULL; v != NULL; v = v->next) {
            printf("%-4.0f %s  %.0f new customers match '%s': ", num(v, "id"), str(v, "time"),
                   num(v, "new"), str(v, "query"));
            print_ids(cJSON_GetObjectItemCaseSensitive(v, "new_ids"), 20);
            printf("\n");
        }
        if (list == NULL || list->child == NULL) printf("no alerts\n");
    }
    cJSON_Delete(root);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_saved(int argc, char **argv)
{
    struct opts o;
    int rc = parse("saved", k_usage_saved, argc, argv, &o);
    if (rc != CLI_OK) return rc < 0 ? CLI_OK : rc;
    if (optind >= argc) {
        return cli_usage_error("saved", "missing subcommand: add, list, show, run or delete");
    }
    const char *sub = argv[optind++];
    char user[64];
    os_user(user);
    struct app_saved_who who = {"cli", NULL, user};
    struct px_err err = {0};
    struct app_book *b = NULL;
    struct buf doc, cols;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    buf_init(&cols, LIMIT_SAVED_JSON_BYTES);
    long long id = 0;
    int st = PX_OK;
    const char *key = "saved";
    if (strcmp(sub, "add") == 0) {
        if (o.name == NULL || optind != argc - 1) {
            rc = cli_usage_error("saved", "add needs --name NAME and one query (quote it)");
            goto done;
        }
        struct app_saved_input in = {.name = o.name, .query = argv[optind], .sort = o.sort,
                                     .webhook = o.webhook};
        if (o.columns != NULL) {
            char *c = px_strdup(o.columns);
            st = c ? columns_json(c, &cols, &err) : px_fail(&err, PX_ENOMEM, "out of memory");
            px_free(c);
            in.columns = cols.data;
        }
        if (st == PX_OK) st = open_book("saved", &o, &b, &err);
        if (st == PX_OK) st = app_saved_add(o.db, b, &who, &in, &id, &doc, &err);
    } else if (strcmp(sub, "list") == 0) {
        if (optind != argc) {
            rc = cli_usage_error("saved", "list takes no argument");
            goto done;
        }
        st = app_saved_list(o.db, &who, &doc, &err);
    } else if (strcmp(sub, "show") == 0 || strcmp(sub, "run") == 0 ||
               strcmp(sub, "delete") == 0) {
        if (optind != argc - 1) {
            rc = cli_usage_error("saved", "%s needs one SAVED (a name or an id)", sub);
            goto done;
        }
        st = app_saved_find(o.db, &who, argv[optind], &id, &err);
        if (st == PX_OK && sub[0] == 's') {
            st = app_saved_show(o.db, &who, id, &doc, &err);
        } else if (st == PX_OK && sub[0] == 'r') {
            st = open_book("saved", &o, &b, &err);
            if (st == PX_OK) st = app_saved_run(o.db, b, &who, id, (size_t)o.top, &doc, &err);
            key = "results";
        } else if (st == PX_OK) {
            st = app_saved_delete(o.db, &who, id, &err);
            if (st == PX_OK) {
                printf("deleted saved search %lld '%s'\n", id, argv[optind]);
                rc = CLI_OK;
                goto done;
            }
        }
    } else {
        rc = cli_usage_error("saved", "unknown subcommand '%s'", sub);
        goto done;
    }
    if (st != PX_OK) {
        rc = cli_fail("saved", &err);
    } else if (strcmp(key, "results") == 0 && o.format == CLI_FORMAT_TABLE) {
        rc = cli_print_json_as_csv("saved", &doc, "results", &err);
    } else {
        rc = print_doc("saved", &doc, key, o.format);
    }
done:
    app_book_close(b);
    buf_free(&doc);
    buf_free(&cols);
    return rc;
}

int cmd_alerts(int argc, char **argv)
{
    struct opts o;
    int rc = parse("alerts", k_usage_alerts, argc, argv, &o);
    if (rc != CLI_OK) return rc < 0 ? CLI_OK : rc;
    bool run = optind < argc && strcmp(argv[optind], "run") == 0;
    if (run) optind++;
    if (optind != argc) {
        return cli_usage_error("alerts", "unexpected argument '%s'", argv[optind]);
    }
    char user[64];
    os_user(user);
    struct app_saved_who who = {"cli", NULL, user};
    struct px_err err = {0};
    struct app_book *b = NULL;
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    int st = open_book("alerts", &o, &b, &err);
    long long saved_id = 0;
    if (st == PX_OK && o.saved != NULL) st = app_saved_find(o.db, &who, o.saved, &saved_id, &err);
    if (st == PX_OK && run) {
        struct app_alerts_params p = app_alerts_default_params();
        p.all_owners = o.all;
        p.force = o.force;
        st = app_alerts_run(o.db, b, &who, &p, &doc, &err);
    } else if (st == PX_OK) {
        st = app_alerts_list(o.db, b, &who, saved_id, o.after, (size_t)o.limit, &doc, &err);
    }
    rc = st != PX_OK ? cli_fail("alerts", &err) : print_doc("alerts", &doc, run ? "runs" : "alerts",
                                                             o.format);
    app_book_close(b);
    buf_free(&doc);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    struct opts o;
    int rc = parse("report", k_usage_report, argc, argv, &o);
    if (rc != CLI_OK) return rc < 0 ? CLI_OK : rc;
    if (optind != argc - 1) {
        return cli_usage_error("report", "give one SAVED (a saved search's name or id)");
    }
    char user[64];
    os_user(user);
    struct app_saved_who who = {"cli", NULL, user};
    struct px_err err = {0};
    struct app_book *b = NULL;
    long long id = 0;
    size_t n = 0;
    int st = app_saved_find(o.db, &who, argv[optind], &id, &err);
    if (st == PX_OK) st = open_book("report", &o, &b, &err);
    if (st == PX_OK) {
        st = app_report_write(o.db, b, &who, id, o.html ? APP_REPORT_HTML : APP_REPORT_CSV, o.out,
                              o.out ? NULL : stdout, &n, &err);
    }
    if (st != PX_OK) {
        rc = cli_fail("report", &err);
    } else if (o.out != NULL) {
        fprintf(stderr, "prospect report: %zu customers written to %s\n", n, o.out);
    }
    app_book_close(b);
    return rc;
}
