// cmd_keys.c — `prospect keys create|list|revoke`: API keys for `prospect serve`.
//
// The token is printed once, on stdout, by `create`; only its id, name and dates can be shown
// later. Keys live in the working database (--db), beside the audit log that names them.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_access.h"
#include "cli.h"
#include "buf.h"
#include "mem.h"

static const char *const k_usage =
    "usage: prospect keys create --name NAME [--db FILE] [--format table|json|csv] [--json]\n"
    "       prospect keys list [--db FILE] [--format table|json|csv] [--json]\n"
    "       prospect keys revoke ID [--db FILE]\n"
    "\n"
    "API keys for `prospect serve`. Binding to anything but loopback requires them; clients send\n"
    "'Authorization: Bearer <key>'. `create` prints the key once — store it in a secret store:\n"
    "the database keeps only a salted hash. `revoke` takes effect at the next request, also on a\n"
    "running server. Every request made with a key is audited under its id (prospect audit).\n"
    "\n"
    "  --db FILE     database (default ./prospect.db)\n"
    "  --name NAME   a label for people, such as the desk or service using the key\n"
    "  --format F    table (default; create prints the bare key), json or csv\n"
    "  --json        the same as --format json\n";

// The key(s) as the chosen format: table by the caller, JSON as the app writes it, CSV from it.
static int print_doc(const struct buf *doc, enum cli_format fmt, struct px_err *err)
{
    return fmt == CLI_FORMAT_JSON ? cli_print_json("keys", doc)
                                  : cli_print_json_as_csv("keys", doc, NULL, err);
}

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "prospect.db", *name = NULL;
    enum cli_format fmt = CLI_FORMAT_TABLE;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:n:h", opts, NULL)) != -1) {
        int frc = cli_format_option("keys", ch, optarg, &fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) return frc;
            continue;
        }
        switch (ch) {
        case 'd': db = optarg; break;
        case 'n': name = optarg; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("keys", "unknown option");
        }
    }
    if (optind >= argc) {
        return cli_usage_error("keys", "missing subcommand: create, list or revoke");
    }
    const char *sub = argv[optind++];
    struct px_err err = {0};
    struct buf doc;
    buf_init(&doc, (size_t)1 << 24);
    int rc = CLI_OK;
    if (strcmp(sub, "create") == 0) {
        if (name == NULL) return cli_usage_error("keys", "create needs --name NAME");
        if (optind < argc) return cli_usage_error("keys", "unexpected argument '%s'", argv[optind]);
        struct app_key k;
        char token[APP_KEY_TOKEN_MAX];
        if (app_keys_create(db, name, &k, token, &err) != PX_OK) return cli_fail("keys", &err);
        if (fmt == CLI_FORMAT_TABLE) {
            printf("%s\n", token);
            fprintf(stderr,
                    "prospect keys: created key %s (%s). The line above is the key: it is shown"
                    " only now.\n",
                    k.id, k.name);
        } else {
            rc = app_key_json(&k, token, &doc, &err) == PX_OK ? print_doc(&doc, fmt, &err)
                                                               : cli_fail("keys", &err);
        }
        memset(token, 0, sizeof token);
        if (doc.data != NULL) memset(doc.data, 0, doc.len); // the token was in it
        buf_free(&doc);
        return rc;
    }
    if (strcmp(sub, "list") == 0) {
        if (optind < argc) return cli_usage_error("keys", "unexpected argument '%s'", argv[optind]);
        struct app_key *keys = NULL;
        size_t n = 0;
        if (app_keys_list(db, &keys, &n, &err) != PX_OK) return cli_fail("keys", &err);
        if (fmt == CLI_FORMAT_TABLE) {
            printf("%-12s  %-20s  %-20s  %s\n", "ID", "CREATED", "REVOKED", "NAME");
            for (size_t i = 0; i < n; i++) {
                printf("%-12s  %-20s  %-20s  %s\n", keys[i].id, keys[i].created,
                       keys[i].revoked[0] ? keys[i].revoked : "-", keys[i].name);
            }
        } else {
            int jrc = buf_append(&doc, "[", 1, &err);
            for (size_t i = 0; i < n && jrc == PX_OK; i++) {
                jrc = i ? buf_append(&doc, ", ", 2, &err) : PX_OK;
                if (jrc == PX_OK) jrc = app_key_json(&keys[i], NULL, &doc, &err);
            }
            if (jrc == PX_OK) jrc = buf_append(&doc, "]", 1, &err);
            rc = jrc == PX_OK ? print_doc(&doc, fmt, &err) : cli_fail("keys", &err);
        }
        px_free(keys);
        buf_free(&doc);
        return rc;
    }
    if (strcmp(sub, "revoke") == 0) {
        if (optind + 1 != argc) return cli_usage_error("keys", "revoke takes one key id");
        if (app_keys_revoke(db, argv[optind], &err) != PX_OK) return cli_fail("keys", &err);
        fprintf(stderr, "prospect keys: revoked %s\n", argv[optind]);
        return CLI_OK;
    }
    return cli_usage_error("keys", "unknown subcommand '%s' (create, list, revoke)", sub);
}
