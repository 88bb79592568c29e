// cmd_bundle.c — `prospect bundle create|list|show|promote|delete`: model bundles in a registry
// directory (MLflow-style names, numbered versions and stages), each through app_registry.h.
// Tables for people; --format json (the app's documents) or csv for scripts.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_registry.h"
#include "cli.h"
#include "mem.h"

static const char *const k_usage =
    "usage: prospect bundle create --name NAME [--db FILE] [--embedder DIR] [--copy-model]\n"
    "                              [--lexicon FILE] [--template FILE] [--registry DIR] [--format F]\n"
    "       prospect bundle list [NAME] [--registry DIR] [--format table|json|csv] [--json]\n"
    "       prospect bundle show NAME[/VERSION|@STAGE] [--verify] [--registry DIR] [--format F]\n"
    "       prospect bundle promote NAME/VERSION --stage production|staging [--registry DIR]\n"
    "       prospect bundle delete NAME/VERSION [--force] [--registry DIR]\n"
    "\n"
    "The registry holds every kind of model: search bundles (made here), propensity models\n"
    "(prospect train) and recommenders (prospect recommend train); list, show, promote and\n"
    "delete work on all of them, and a name holds one kind.\n"
    "\n"
    "Search bundles freeze what a search needs — a snapshot of the customers and their vectors,\n"
    "the query lexicon and profile template in effect, the model (its directory and the sha256\n"
    "of its weights, or a copy) — with an MLflow MLmodel file and a manifest of checksums, and\n"
    "register it as the next version of NAME. `prospect serve --bundle NAME[/VERSION]` serves one\n"
    "after checking every checksum.\n"
    "\n"
    "  --registry DIR  registry directory (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --name NAME     registered name: letters, digits, '_', '.', '-'\n"
    "  --db FILE       working database to snapshot (default ./prospect.db)\n"
    "  --embedder DIR  sentence-transformer whose vectors go in (same lookup as `prospect\n"
    "                  search`; --model DIR is the old spelling)\n"
    "  --copy-model    copy the model's files into the bundle instead of referencing them\n"
    "                  (its known regular files only; a symbolic link is refused)\n"
    "  --lexicon FILE, --template FILE   as given to `prospect search`\n"
    "  --stage S       promote: the stage (alias) to point at the version: production, staging\n"
    "  --force         delete: also clear the stages that point at the version\n"
    "  --verify        show: check every file's checksum (exit status 1 when one fails)\n"
    "  --format F      table (default), json or csv\n"
    "  --json          the same as --format json\n"
    "\n"
    "A bare NAME means the version the production stage points at, else the latest.\n";

struct opts {
    const char *registry, *name, *db, *model, *lexicon, *tpl, *stage;
    bool copy_model, force, verify;
    enum cli_format fmt;
    const char *arg; // the positional NAME / NAME/VERSION
};

static int parse(int argc, char **argv, const char *sub, struct opts *o)
{
    static const struct option lopts[] = {
        {"registry", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'},
        {"db", required_argument, NULL, 'd'},
        {"model", required_argument, NULL, 'm'},
        {"lexicon", required_argument, NULL, 'l'},
        {"template", required_argument, NULL, 'T'},
        {"stage", required_argument, NULL, 's'},
        {"copy-model", no_argument, NULL, 'c'},
        {"force", no_argument, NULL, 'f'},
        {"verify", no_argument, NULL, 'v'},
        CLI_FORMAT_OPTIONS,
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->db = "prospect.db";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:n:d:m:l:T:s:cfvh", lopts, NULL)) != -1) {
        int frc = cli_format_option("bundle", ch, optarg, &o->fmt);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case 'r': o->registry = optarg; break;
        case 'n': o->name = optarg; break;
        case 'd': o->db = optarg; break;
        case CLI_OPT_EMBEDDER: o->model = optarg; break;
        case 'm': o->model = cli_embedder_alias("bundle", optarg); break;
        case 'l': o->lexicon = optarg; break;
        case 'T': o->tpl = optarg; break;
        case 's': o->stage = optarg; break;
        case 'c': o->copy_model = true; break;
        case 'f': o->force = true; break;
        case 'v': o->verify = true; break;
        case 'h': fputs(k_usage, stdout); return -1;
        default: return cli_usage_error("bundle", "%s: unknown option", sub);
        }
    }
    if (optind < argc) {
        o->arg = argv[optind++];
    }
    if (optind < argc) {
        return cli_usage_error("bundle", "%s: unexpected argument '%s'", sub, argv[optind]);
    }
    return CLI_OK;
}

static void human_bytes(uint64_t n, char *out, size_t size)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(out, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

// Prints the app's document: as it is for json, as CSV for csv.
static int print_doc(const struct opts *o, const struct buf *doc, struct px_err *err)
{
    return o->fmt == CLI_FORMAT_JSON ? cli_print_json("bundle", doc)
                                     : cli_print_json_as_csv("bundle", doc, NULL, err);
}

static int do_create(const struct opts *o)
{
    struct px_err err = {0};
    struct app_bundle_params p = app_bundle_default_params();
    struct app_bundle_entry e;
    if (o->name == NULL) {
        return cli_usage_error("bundle", "create: --name NAME is required");
    }
    p.registry = o->registry;
    p.name = o->name;
    p.db_path = o->db;
    p.model_flag = o->model;
    p.lexicon_path = o->lexicon;
    p.template_path = o->tpl;
    p.copy_model = o->copy_model;
    if (app_bundle_create(&p, &e, &err) != PX_OK) {
        return cli_fail("bundle create", &err);
    }
    if (o->fmt != CLI_FORMAT_TABLE) {
        struct buf doc;
        buf_init(&doc, (size_t)1 << 20);
        int rc = app_bundle_entry_json(&e, &doc, &err) == PX_OK ? print_doc(o, &doc, &err)
                                                                 : cli_fail("bundle create", &err);
        buf_free(&doc);
        return rc;
    }
    char size[32];
    human_bytes(e.bytes, size, sizeof size);
    printf("registered %s/%d in %s: %llu customers, %s, %s\n", e.name, e.version,
           app_registry_dir(o->registry), (unsigned long long)e.rows,
           e.dense ? "with embeddings" : "no embeddings (keyword search only)", size);
    return CLI_OK;
}

static int do_list(const struct opts *o)
{
    struct px_err err = {0};
    struct app_bundle_entry *es = NULL;
    size_t n = 0;
    if (app_bundle_list(o->registry, o->arg, &es, &n, &err) != PX_OK) {
        return cli_fail("bundle list", &err);
    }
    if (o->fmt != CLI_FORMAT_TABLE) {
        struct buf doc;
        buf_init(&doc, (size_t)1 << 26);
        int jrc = buf_append(&doc, "[", 1, &err);
        for (size_t i = 0; i < n && jrc == PX_OK; i++) {
            jrc = i ? buf_append(&doc, ", ", 2, &err) : PX_OK;
            if (jrc == PX_OK) jrc = app_bundle_entry_json(&es[i], &doc, &err);
        }
        if (jrc == PX_OK) jrc = buf_append(&doc, "]", 1, &err);
        int rc = jrc == PX_OK ? print_doc(o, &doc, &err) : cli_fail("bundle list", &err);
        buf_free(&doc);
        px_free(es);
        return rc;
    }
    if (n == 0) {
        printf("no models in %s\n", app_registry_dir(o->registry));
    } else {
        printf("%-32s %7s  %-11s  %-27s %-20s %9s  %-5s  %9s\n", "NAME", "VERSION", "KIND",
               "CREATED", "STAGE", "ROWS", "DENSE", "SIZE");
    }
    for (size_t i = 0; i < n; i++) {
        char size[32];
        human_bytes(es[i].bytes, size, sizeof size);
        if (es[i].error[0]) {
            printf("%-32s %7d  %-11s  unreadable: %s\n", es[i].name, es[i].version, es[i].kind,
                   es[i].error);
            continue;
        }
        bool search = strcmp(es[i].kind, "search") == 0;
        char rows[32];
        snprintf(rows, sizeof rows, "%llu", (unsigned long long)es[i].rows);
        printf("%-32s %7d  %-11s  %-27s %-20s %9s  %-5s  %9s\n", es[i].name, es[i].version,
               es[i].kind, es[i].created, es[i].aliases[0] ? es[i].aliases : "-",
               search ? rows : "-", search ? (es[i].dense ? "yes" : "no") : "-", size);
    }
    px_free(es);
    return CLI_OK;
}

static void print_indented(const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        printf("    %.*s\n", (int)len, p);
        p = nl ? nl + 1 : p + len;
    }
}

static int do_show(const struct opts *o)
{
    struct px_err err = {0};
    struct app_bundle_show s;
    if (o->arg == NULL) {
        return cli_usage_error("bundle", "show: which bundle? (NAME[/VERSION])");
    }
    if (app_bundle_show(o->registry, o->arg, o->verify, &s, &err) != PX_OK) {
        return cli_fail("bundle show", &err);
    }
    int rc = s.verified && s.verify_rc != PX_OK ? CLI_FAIL : CLI_OK;
    if (o->fmt != CLI_FORMAT_TABLE) {
        struct buf doc;
        buf_init(&doc, (size_t)1 << 26);
        int prc = app_bundle_show_json(&s, &doc, &err) == PX_OK ? print_doc(o, &doc, &err)
                                                                 : cli_fail("bundle show", &err);
        buf_free(&doc);
        app_bundle_show_free(&s);
        return prc == CLI_OK ? rc : prc;
    }
    const struct app_bundle_entry *e = &s.entry;
    char size[32];
    human_bytes(e->bytes, size, sizeof size);
    printf("%s/%d%s%s%s\n", e->name, e->version, e->aliases[0] ? "  (" : "", e->aliases,
           e->aliases[0] ? ")" : "");
    printf("  kind      %s\n  created   %s\n", e->kind, e->created);
    if (strcmp(e->kind, "search") == 0) {
        printf("  rows      %llu\n  dense     %s%s\n  model     %s\n", (unsigned long long)e->rows,
               e->dense ? "yes, " : "no", e->dense ? e->model_id : "",
               e->model_copied ? "copied into the bundle" : "referenced");
    }
    printf("  size      %s\n", size);
    if (s.verified) {
        printf("  verified  %s%s\n",
               s.verify_rc == PX_OK ? "ok, every checksum matches" : "FAILED: ",
               s.verify_rc == PX_OK ? "" : s.verify_msg);
    }
    printf("\nMLmodel:\n");
    print_indented(s.mlmodel);
    printf("\nmanifest.json:\n");
    print_indented(s.manifest);
    if (rc != CLI_OK) {
        fflush(stdout);
        fprintf(stderr, "prospect bundle show: error: bundle %s/%d: %s\n", e->name, e->version,
                s.verify_msg);
    }
    app_bundle_show_free(&s);
    return rc;
}

static int do_promote(const struct opts *o)
{
    struct px_err err = {0};
    int v = 0;
    if (o->arg == NULL || o->stage == NULL) {
        return cli_usage_error("bundle", "promote: NAME/VERSION and --stage STAGE are required");
    }
    if (app_bundle_promote(o->registry, o->arg, o->stage, &v, &err) != PX_OK) {
        return cli_fail("bundle promote", &err);
    }
    printf("%s: %.*s/%d\n", o->stage, (int)strcspn(o->arg, "/@"), o->arg, v);
    return CLI_OK;
}

static int do_delete(const struct opts *o)
{
    struct px_err err = {0};
    size_t cleared = 0;
    if (o->arg == NULL) {
        return cli_usage_error("bundle", "delete: NAME/VERSION is required");
    }
    if (app_bundle_delete(o->registry, o->arg, o->force, &cleared, &err) != PX_OK) {
        return cli_fail("bundle delete", &err);
    }
    printf("deleted %s%s\n", o->arg, cleared ? " (and cleared its stages)" : "");
    return CLI_OK;
}

int cmd_bundle(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(const struct opts *o);
    } subs[] = {
        {"create", do_create},   {"list", do_list},     {"show", do_show},
        {"promote", do_promote}, {"delete", do_delete},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(k_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            struct opts o;
            int rc = parse(argc - 1, argv + 1, subs[i].name, &o);
            if (rc != CLI_OK) {
                return rc < 0 ? CLI_OK : rc;
            }
            return subs[i].fn(&o);
        }
    }
    return cli_usage_error("bundle",
                           "'%s' is not a bundle command (create, list, show, promote, "
                           "delete)",
                           argv[1]);
}
