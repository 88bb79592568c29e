// cmd_audit.c — `prospect audit`: who looked at which customers, from the append-only audit log
// that `prospect serve` and `prospect search|similar` write; `audit verify` walks its hash chain
// and names the first broken row (exit 1); `audit archive` moves old rows into a file.
#include <ctype.h>
#include <getopt.h>
#include <pwd.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app_access.h"
#include "buf.h"
#include "cli.h"
#include "jsonx.h"
#include "limits.h"

static const char *const k_usage =
    "usage: prospect audit [--db FILE] [--since WHEN] [--key ID] [--limit N]\n"
    "                      [--format table|json|csv] [--json]\n"
    "       prospect audit verify [--db FILE] [--format table|json|csv] [--json]\n"
    "       prospect audit archive --before WHEN --out FILE [--db FILE] [--format F] [--json]\n"
    "\n"
    "Prints the audit log, oldest first: time (UTC), key id or OS user, channel, action, the\n"
    "query, the number of customers returned and their ids.\n"
    "\n"
    "  --db FILE     database (default ./prospect.db)\n"
    "  --since WHEN  an ISO 8601 date or time (2026-11-26, 2026-11-26T09:00) or an age: 30m,\n"
    "                24h, 7d\n"
    "  --key ID      only requests made with this API key\n"
    "  --limit N     the newest N rows at most (default 1000)\n"
    "  --format F    table (default), json (one JSON object per line) or csv\n"
    "  --json        the same as --format json\n"
    "\n"
    "Each row carries sha256(previous row's hash, its content). verify walks the chain from the\n"
    "last archive's head and names the first row that breaks it (exit 1); rows written before\n"
    "the chain existed are counted as such. Keep the head hash it prints elsewhere: someone who\n"
    "can write the database could recompute the whole chain, or cut its tail.\n"
    "archive moves the rows older than --before WHEN (same forms as --since) into the new file\n"
    "--out (JSON lines with their hashes, then the range, start and head hashes), records the\n"
    "file's sha256 and the head in the database and removes the rows, in one transaction.\n";

// "24h" -> ISO time that long ago; an ISO prefix is kept as is. False when neither.
static bool parse_since(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    if (len >= 2 && isdigit((unsigned char)s[0]) && strchr("mhd", s[len - 1]) &&
        strspn(s, "0123456789") == len - 1) {
        long v = strtol(s, NULL, 10);
        long unit = s[len - 1] == 'm' ? 60 : s[len - 1] == 'h' ? 3600 : 86400;
        if (v > 365L * 100) return false;
        time_t t = time(NULL) - (time_t)(v * unit);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
        return true;
    }
    // YYYY-MM-DD[THH[:MM[:SS]]]
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (len < 10 || len > sizeof shape - 1) return false;
    for (size_t i = 0; i < len; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i]) return false;
    }
    snprintf(out, n, "%s", s);
    return true;
}

struct audit_out {
    enum cli_format fmt;
    struct buf line;
};

// One CSV cell from a possibly NULL string.
static void csv(const char *s, bool last)
{
    cli_csv_field(stdout, s != NULL ? s : "");
    putchar(last ? '\n' : ',');
}

static int print_row(const struct app_audit_row *r, void *user, struct px_err *err)
{
    struct audit_out *o = user;
    if (o->fmt == CLI_FORMAT_JSON) {
        buf_reset(&o->line);
        int rc = app_audit_row_json(r, &o->line, err);
        if (rc == PX_OK) puts(o->line.data);
        return rc;
    }
    if (o->fmt == CLI_FORMAT_CSV) {
        char num[2][24];
        snprintf(num[0], sizeof num[0], "%lld", r->seq);
        snprintf(num[1], sizeof num[1], "%lld", r->n_results);
        const char *cells[] = {num[0],   r->time,  r->key_id, r->channel,      r->actor,
                               r->action, r->query, num[1],    r->customer_ids, r->plan};
        const size_t n = sizeof cells / sizeof *cells;
        for (size_t i = 0; i < n; i++) {
            csv(cells[i], i + 1 == n);
        }
        return PX_OK;
    }
    // who: the key used, else the OS user (CLI) — or, for a refused login, the client's address
    // (and the key id it claimed, when well formed)
    char who[80];
    bool refused = r->action != NULL && strcmp(r->action, "auth_failed") == 0;
    if (refused) snprintf(who, sizeof who, "addr:%s%s%s", r->actor ? r->actor : "-",
                          r->key_id ? " key:" : "", r->key_id ? r->key_id : "");
    else if (r->key_id) snprintf(who, sizeof who, "key:%s", r->key_id);
    else if (r->actor) snprintf(who, sizeof who, "user:%s", r->actor);
    else snprintf(who, sizeof who, "-");
    printf("%s  %-17s %-5s %-11s %4lld  ", r->time, who, r->channel, r->action, r->n_results);
    buf_reset(&o->line);
    int rc = r->query != NULL ? jsonx_put_string(&o->line, r->query, strlen(r->query), err) : PX_OK;
    if (rc == PX_OK) printf("%s  %s\n", r->query ? o->line.data : "null", r->customer_ids ? r->customer_ids : "[]");
    return rc;
}

static int print_verdict(const struct app_audit_verdict *v, enum cli_format fmt)
{
    struct px_err err = {0};
    struct buf doc;
    buf_init(&doc, 1 << 16);
    int rc = app_audit_verdict_json(v, &doc, &err);
    if (rc != PX_OK) {
        buf_free(&doc);
        return cli_fail("audit verify", &err);
    }
    if (fmt == CLI_FORMAT_JSON) {
        rc = cli_print_json("audit verify", &doc);
    } else if (fmt == CLI_FORMAT_CSV) {
        rc = cli_print_json_as_csv("audit verify", &doc, NULL, &err);
    } else {
        if (v->broken_seq) printf("broken at seq %lld: %s\n", v->broken_seq, v->problem);
        else printf("the chain holds: %lld rows\n", v->n_rows);
        printf("before the chain: %lld rows (written before the chain existed, unchecked)\n",
               v->n_before_chain);
        printf("archived: %lld archives, through seq %lld\n", v->n_archives, v->archived_through);
        printf("head: seq %lld %s\n", v->head_seq, v->head);
        rc = CLI_OK;
    }
    buf_free(&doc);
    if (rc != CLI_OK) return rc;
    return v->broken_seq ? CLI_FAIL : CLI_OK;
}

static int cmd_audit_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "prospect.db";
    enum cli_format fmt = CLI_FORMAT_TABLE;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        int frc = cli_format_option("audit verify", ch, optarg, &fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) return frc;
            continue;
        }
        switch (ch) {
        case 'd': db = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("audit verify", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("audit verify", "unexpected argument '%s'", argv[optind]);
    }
    struct px_err err = {0};
    struct app_audit_verdict v;
    if (app_audit_verify(db, &v, &err) != PX_OK) return cli_fail("audit verify", &err);
    return print_verdict(&v, fmt);
}

static int cmd_audit_archive(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"before", required_argument, NULL, 'b'},
        {"out", required_argument, NULL, 'o'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "prospect.db", *out = NULL;
    char before[40] = "";
    enum cli_format fmt = CLI_FORMAT_TABLE;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:b:o:h", opts, NULL)) != -1) {
        int frc = cli_format_option("audit archive", ch, optarg, &fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) return frc;
            continue;
        }
        switch (ch) {
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'b':
            if (!parse_since(optarg, before, sizeof before)) {
                return cli_usage_error("audit archive", "--before takes 2026-11-26[T09:00[:00]] "
                                                        "or an age such as 30d; got '%s'",
                                       optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("audit archive", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("audit archive", "unexpected argument '%s'", argv[optind]);
    }
    if (before[0] == '\0' || out == NULL) {
        return cli_usage_error("audit archive", "--before WHEN and --out FILE are required");
    }
    char user[64];
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp != NULL) {
        snprintf(user, sizeof user, "%s", pw.pw_name);
    } else {
        snprintf(user, sizeof user, "uid %u", (unsigned)geteuid());
    }
    struct px_err err = {0};
    struct app_audit_archive a;
    if (app_audit_archive(db, before, out, user, &a, &err) != PX_OK) {
        return cli_fail("audit archive", &err);
    }
    struct buf doc;
    buf_init(&doc, 1 << 16);
    int rc = buf_printf(&doc, &err, "{\"first_seq\": %lld, \"last_seq\": %lld, \"n_rows\": %lld, ",
                        a.first_seq, a.last_seq, a.n_rows);
    if (rc == PX_OK) rc = jsonx_put_key(&doc, "file", true, &err);
    if (rc == PX_OK) rc = jsonx_put_string(&doc, out, strlen(out), &err);
    if (rc == PX_OK) {
        rc = buf_printf(&doc, &err, ", \"file_sha256\": \"%s\", \"start\": \"%s\", \"head\": \"%s\"}",
                        a.file_sha256, a.start, a.head);
    }
    if (rc != PX_OK) {
        buf_free(&doc);
        return cli_fail("audit archive", &err);
    }
    if (fmt == CLI_FORMAT_JSON) {
        rc = cli_print_json("audit archive", &doc);
    } else if (fmt == CLI_FORMAT_CSV) {
        rc = cli_print_json_as_csv("audit archive", &doc, NULL, &err);
    } else {
        printf("archived seq %lld..%lld (%lld rows) to %s\nsha256 %s\nhead %s\n", a.first_seq,
               a.last_seq, a.n_rows, out, a.file_sha256, a.head);
        rc = CLI_OK;
    }
    buf_free(&doc);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "verify") == 0) return cmd_audit_verify(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "archive") == 0) return cmd_audit_archive(argc - 1, argv + 1);
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},    {"since", required_argument, NULL, 's'},
        {"key", required_argument, NULL, 'k'},   {"limit", required_argument, NULL, 'n'},
        CLI_FORMAT_OPTIONS,                      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "prospect.db", *key = NULL;
    char since[40] = "";
    int limit = 1000;
    struct audit_out o = {CLI_FORMAT_TABLE, {0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:s:k:n:h", opts, NULL)) != -1) {
        int frc = cli_format_option("audit", ch, optarg, &o.fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) return frc;
            continue;
        }
        switch (ch) {
        case 'd': db = optarg; break;
        case 'k': key = optarg; break;
        case 's':
            if (!parse_since(optarg, since, sizeof since)) {
                return cli_usage_error("audit", "--since takes 2026-11-26[T09:00[:00]] or an age "
                                                "such as 30m, 24h, 7d; got '%s'",
                                       optarg);
            }
            break;
        case 'n':
            if (!cli_parse_int(optarg, 1, LIMIT_AUDIT_ROWS, &limit)) {
                return cli_usage_error("audit", "--limit must be 1..%d", LIMIT_AUDIT_ROWS);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("audit", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
    }
    struct px_err err = {0};
    buf_init(&o.line, (size_t)LIMIT_QUERY_BYTES * 8 + ((size_t)1 << 24));
    if (o.fmt == CLI_FORMAT_CSV) {
        puts("seq,time,key_id,channel,actor,action,query,n_results,customer_ids,plan");
    }
    int rc = app_audit_read(db, since[0] ? since : NULL, key, (size_t)limit, print_row, &o, &err);
    buf_free(&o.line);
    if (rc != PX_OK) {
        return cli_fail("audit", &err);
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
