// cmd_keys.c — `prospect keys create|list|revoke`: API keys for `prospect serve`.
//
// The token is printed once, on stdout, by `create`; only its id, name and dates can be shown
// later. Keys live in the working database (--db), beside the audit log that names them.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_access.h"
#include "cli.h"
#include "jsonx.h"
#include "mem.h"

static const char *const k_usage =
    "usage: prospect keys create --name NAME [--db FILE] [--json]\n"
    "       prospect keys list [--db FILE] [--json]\n"
    "       prospect keys revoke ID [--db FILE]\n"
    "\n"
    "API keys for `prospect serve`. Binding to anything but loopback requires them; clients send\n"
    "'Authorization: Bearer <key>'. `create` prints the key once — store it in a secret store:\n"
    "the database keeps only a salted hash. `revoke` takes effect at the next request, also on a\n"
    "running server. Every request made with a key is audited under its id (prospect audit).\n"
    "\n"
    "  --db FILE     database (default ./prospect.db)\n"
    "  --name NAME   a label for people, such as the desk or service using the key\n"
    "  --json        JSON output\n";

static void put_json_str(const char *s)
{
    struct buf b;
    buf_init(&b, 4096);
    if (jsonx_put_string(&b, s, strlen(s), NULL) == PX_OK) {
        fwrite(b.data, 1, b.len, stdout);
    }
    buf_free(&b);
}

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = "prospect.db", *name = NULL;
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:n:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'n': name = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("keys", "unknown option");
        }
    }
    if (optind >= argc) {
        return cli_usage_error("keys", "missing subcommand: create, list or revoke");
    }
    const char *sub = argv[optind++];
    struct px_err err = {0};
    if (strcmp(sub, "create") == 0) {
        if (name == NULL) return cli_usage_error("keys", "create needs --name NAME");
        if (optind < argc) return cli_usage_error("keys", "unexpected argument '%s'", argv[optind]);
        struct app_key k;
        char token[APP_KEY_TOKEN_MAX];
        if (app_keys_create(db, name, &k, token, &err) != PX_OK) return cli_fail("keys", &err);
        if (json) {
            printf("{\"id\": \"%s\", \"name\": ", k.id);
            put_json_str(k.name);
            printf(", \"created\": \"%s\", \"key\": \"%s\"}\n", k.created, token);
        } else {
            printf("%s\n", token);
            fprintf(stderr,
                    "prospect keys: created key %s (%s). The line above is the key: it is shown"
                    " only now.\n",
                    k.id, k.name);
        }
        memset(token, 0, sizeof token);
        return CLI_OK;
    }
    if (strcmp(sub, "list") == 0) {
        if (optind < argc) return cli_usage_error("keys", "unexpected argument '%s'", argv[optind]);
        struct app_key *keys = NULL;
        size_t n = 0;
        if (app_keys_list(db, &keys, &n, &err) != PX_OK) return cli_fail("keys", &err);
        if (json) fputs("[", stdout);
        else printf("%-12s  %-20s  %-20s  %s\n", "ID", "CREATED", "REVOKED", "NAME");
        for (size_t i = 0; i < n; i++) {
            if (json) {
                printf("%s{\"id\": \"%s\", \"name\": ", i ? ", " : "", keys[i].id);
                put_json_str(keys[i].name);
                printf(", \"created\": \"%s\", \"revoked\": ", keys[i].created);
                if (keys[i].revoked[0]) printf("\"%s\"}", keys[i].revoked);
                else fputs("null}", stdout);
            } else {
                printf("%-12s  %-20s  %-20s  %s\n", keys[i].id, keys[i].created,
                       keys[i].revoked[0] ? keys[i].revoked : "-", keys[i].name);
            }
        }
        if (json) fputs("]\n", stdout);
        px_free(keys);
        return CLI_OK;
    }
    if (strcmp(sub, "revoke") == 0) {
        if (optind + 1 != argc) return cli_usage_error("keys", "revoke takes one key id");
        if (app_keys_revoke(db, argv[optind], &err) != PX_OK) return cli_fail("keys", &err);
        fprintf(stderr, "prospect keys: revoked %s\n", argv[optind]);
        return CLI_OK;
    }
    return cli_usage_error("keys", "unknown subcommand '%s' (create, list, revoke)", sub);
}
