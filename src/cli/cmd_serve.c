// cmd_serve.c — `prospect serve`: the customer book behind HTTP (MLflow scoring protocol and the
// REST search API, see src/http/routes.c) until SIGINT / SIGTERM.
//
// The signal handler only writes a byte to a self-pipe; the main thread blocks reading it, then
// stops the server (requests in flight finish) and closes the book. `--port 0` binds a free port;
// the URL printed on stderr ("prospect serve: listening on http://127.0.0.1:PORT") names it, and
// the one address a --bind name resolved to (server_resolve) follows it in parentheses.
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "app_access.h"
#include "app_book.h"
#include "app_rec.h"
#include "app_registry.h"
#include "cli.h"
#include "cpu.h"
#include "limits.h"
#include "server.h"

static const char *const k_usage =
    "usage: prospect serve [--db FILE] [--bind ADDR] [--port N] [--threads N] [--require-keys]\n"
    "                      [--allowed-host NAME]... [--max-per-ip N] [--rate N]\n"
    "                      [--embedder DIR] [--lexicon FILE] [--template FILE]\n"
    "                      [--bundle NAME[/VERSION|@STAGE]] [--registry DIR]\n"
    "                      [--propensity-data [NAME=]FILE.csv]... [--propensity-model REF]\n"
    "                      [--recommender NAME[/VERSION]] [--wholesale DIR]\n"
    "\n"
    "Serves the customer book over HTTP until SIGINT or SIGTERM:\n"
    "  POST /invocations              MLflow scoring protocol (inputs, dataframe_split,\n"
    "                                 dataframe_records, instances; params top_n, show_score),\n"
    "                                 or with --propensity-model rows scored by that model\n"
    "  GET  /ping /health /version    probes\n"
    "  GET  /api/search?q=..&top=N    the JSON of prospect search --json\n"
    "  GET  /api/customers/ID[/similar], /api/schema, /metrics, /openapi.json\n"
    "  GET  /api/models[/NAME@V[/explain|/lookalike|/tipping]], POST /api/models/NAME@V/score\n"
    "  GET  /api/customers/ID/recommendations, /api/graph, /api/segments; the page /graph\n"
    "\n"
    "  --db FILE       database (default ./prospect.db)\n"
    "  --bind ADDR     listen address (default 127.0.0.1), or a host name that resolves to exactly\n"
    "                  one address (localhost: 127.0.0.1); beyond loopback API keys are required\n"
    "                  (prospect keys create) on /api/*, /invocations and /metrics\n"
    "  --allowed-host NAME  also answer requests whose Host is NAME (say, the name a reverse proxy\n"
    "                  or the users' browsers use; repeatable). Without it only the bound address,\n"
    "                  the --bind name, localhost on loopback and, on 0.0.0.0 or ::, IP addresses\n"
    "                  and this machine's name are answered (other names get 403: DNS rebinding)\n"
    "  --max-per-ip N  connections one client address may hold (default 32)\n"
    "  --rate N        requests per second one API key, or one address without a key, may make\n"
    "                  on /api/*, /invocations and /metrics, in bursts of 4N (default 50; 0: no\n"
    "                  limit); more get 429\n"
    "  --require-keys  require API keys on loopback too (say, behind a reverse proxy)\n"
    "  --port N        port (default 8080; 0 picks a free one, printed on stderr)\n"
    "  --threads N     request threads (default 4)\n"
    "  --embedder DIR, --lexicon FILE, --template FILE   as for prospect search (--model DIR is\n"
    "                  the old spelling of --embedder DIR)\n"
    "  --bundle REF    serve a registered model bundle instead of the database's customers\n"
    "                  (NAME: the production stage, else the latest version), after checking\n"
    "                  every file's checksum; the bundle brings its model, lexicon and template;\n"
    "                  --db stays the working database (API keys, audit log)\n"
    "  --registry DIR  model bundles and propensity models (prospect bundle, prospect train;\n"
    "                  default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --propensity-data [NAME=]FILE.csv  the rows /api/models/ID/explain, /lookalike and\n"
    "                  /tipping (and the charts of /models) work on: NAME=FILE for model NAME\n"
    "                  (repeatable), FILE for every other model; without either a model uses\n"
    "                  the training CSV its run record names, when readable from here\n"
    "  --propensity-model REF  POST /invocations scores rows with this propensity model (MLflow's\n"
    "                  input forms or text/csv: probabilities, labels, reason codes) instead of\n"
    "                  searching the book\n"
    "  --recommender REF  a saved recommender (prospect recommend train) for\n"
    "                  /api/customers/ID/recommendations and the customer panel\n"
    "  --wholesale DIR the wholesale book (customers.csv, products.csv, transactions.csv) the\n"
    "                  graph (/api/graph, the page /graph) is drawn from\n"
    "                  Both must belong to the customer book: one that shares no customer id\n"
    "                  with it is refused at start (with both counts); a partial overlap starts,\n"
    "                  with a note of how many of the book's customers each one covers\n"
    "\n"
    "Every search and customer lookup is written to the audit log of --db (prospect audit).\n";

static int g_sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    ssize_t n = write(g_sig_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"db", required_argument, NULL, 'd'},       {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},     {"threads", required_argument, NULL, 't'},
        {"embedder", required_argument, NULL, CLI_OPT_EMBEDDER},
        {"model", required_argument, NULL, 'm'},    {"lexicon", required_argument, NULL, 'l'},
        {"template", required_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
        {"require-keys", no_argument, NULL, 'K'},   {"registry", required_argument, NULL, 'R'},
        {"propensity-data", required_argument, NULL, 'P'}, {"bundle", required_argument, NULL, 'B'},
        {"recommender", required_argument, NULL, 'r'}, {"wholesale", required_argument, NULL, 'w'},
        {"allowed-host", required_argument, NULL, 'H'}, {"max-per-ip", required_argument, NULL, 'I'},
        {"rate", required_argument, NULL, 'Q'},
        {"propensity-model", required_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    struct app_book_params bp = app_book_default_params();
    struct server_params sp = server_default_params();
    bool require_keys = false;
    const char *registry = NULL, *prop_data = NULL, *bundle = NULL, *prop_model = NULL;
    const char *pd_model[LIMIT_HTTP_PROP_DATA], *pd_file[LIMIT_HTTP_PROP_DATA];
    char pd_names[LIMIT_HTTP_PROP_DATA][LIMIT_BUNDLE_NAME_BYTES + 1];
    size_t n_pd = 0;
    struct app_rec_params rp = {0};
    struct app_rec *rec = NULL;
    const char *allowed[LIMIT_HTTP_ALLOWED_HOSTS];
    size_t n_allowed = 0;
    int per_ip = 0, rate = 0;
    bp.db_path = "prospect.db";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:b:p:t:m:l:T:hB:R:", lopts, NULL)) != -1) {
        switch (ch) {
        case 'd': bp.db_path = optarg; break;
        case 'b': sp.bind = optarg; break;
        case CLI_OPT_EMBEDDER: bp.model_flag = optarg; break;
        case 'm': bp.model_flag = cli_embedder_alias("serve", optarg); break;
        case 'l': bp.lexicon_path = optarg; break;
        case 'T': bp.template_path = optarg; break;
        case 'K': require_keys = true; break;
        case 'R': registry = optarg; break;
        case 'P': {
            // NAME=FILE when what precedes the first '=' is a registry name (no '/')
            const char *eq = strchr(optarg, '=');
            size_t nl = eq ? (size_t)(eq - optarg) : 0;
            if (eq == NULL || nl == 0 || nl > LIMIT_BUNDLE_NAME_BYTES ||
                memchr(optarg, '/', nl) != NULL) {
                prop_data = optarg;
                break;
            }
            if (n_pd == LIMIT_HTTP_PROP_DATA) {
                return cli_usage_error("serve", "at most %d --propensity-data NAME=FILE",
                                       LIMIT_HTTP_PROP_DATA);
            }
            memcpy(pd_names[n_pd], optarg, nl);
            pd_names[n_pd][nl] = '\0';
            pd_model[n_pd] = pd_names[n_pd];
            pd_file[n_pd++] = eq + 1;
            break;
        }
        case 'M': prop_model = optarg; break;
        case 'r': rp.ref = optarg; break;
        case 'w': rp.wholesale = optarg; break;
        case 'B': bundle = optarg; break;
        case 'H':
            if (n_allowed == LIMIT_HTTP_ALLOWED_HOSTS) {
                return cli_usage_error("serve", "at most %d --allowed-host names",
                                       LIMIT_HTTP_ALLOWED_HOSTS);
            }
            allowed[n_allowed++] = optarg;
            break;
        case 'I':
            if (!cli_parse_int(optarg, 1, LIMIT_HTTP_CONNECTIONS, &per_ip)) {
                return cli_usage_error("serve", "--max-per-ip must be 1..%d, got '%s'",
                                       LIMIT_HTTP_CONNECTIONS, optarg);
            }
            sp.max_per_ip = (unsigned)per_ip;
            break;
        case 'Q':
            if (!cli_parse_int(optarg, 0, 1000000, &rate)) {
                return cli_usage_error("serve", "--rate must be 0..1000000, got '%s'", optarg);
            }
            sp.rate = rate;
            sp.burst = rate > 0 ? 4.0 * rate : 1;
            break;
        case 'p':
            if (!cli_parse_int(optarg, 0, 65535, &sp.port)) {
                return cli_usage_error("serve", "--port must be 0..65535, got '%s'", optarg);
            }
            break;
        case 't':
            if (!cli_parse_int(optarg, 1, LIMIT_HTTP_THREADS, &sp.n_threads)) {
                return cli_usage_error("serve", "--threads must be 1..%d, got '%s'",
                                       LIMIT_HTTP_THREADS, optarg);
            }
            break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("serve", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    }
    if (bundle != NULL && (bp.model_flag || bp.lexicon_path || bp.template_path)) {
        return cli_usage_error("serve", "--bundle brings its own embedder, lexicon and template");
    }
    sp.allowed_hosts = allowed;
    sp.n_allowed_hosts = n_allowed;
    struct server_addr bound;
    struct px_err berr = {0};
    if (server_resolve(sp.bind, &bound, &berr) != PX_OK) {
        return cli_fail("serve", &berr);
    }
    if (!bound.loopback) {
        require_keys = true;
    }

    int rc = CLI_FAIL;
    struct px_err err = {0};
    struct app_access *access = NULL;
    struct app_book *book = NULL;
    struct api_ctx ctx = {0};
    struct server *srv = NULL;
    bool ctx_ok = false;
    // one search lane per core (at most one per request thread), the cores split between them
    int n_cpu = cpu_count() < LIMIT_THREADS ? cpu_count() : LIMIT_THREADS;
    bp.n_lanes = sp.n_threads < n_cpu ? sp.n_threads : n_cpu;
    bp.n_threads = n_cpu / bp.n_lanes;
    if (pipe(g_sig_pipe) != 0) {
        perror("prospect serve: pipe");
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct app_bundle_entry served;
    if (bundle != NULL ? app_bundle_open_book(registry, bundle, &bp, &book, &served, &err)
                       : app_book_open(&bp, &book, &err)) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    if (bundle != NULL) {
        fprintf(stderr, "prospect serve: bundle %s/%d%s%s%s, every checksum verified\n",
                served.name, served.version, served.aliases[0] ? " (" : "", served.aliases,
                served.aliases[0] ? ")" : "");
    }
    if (app_book_dense_status(book) != NULL) {
        fprintf(stderr, "prospect serve: %s\n", app_book_dense_status(book));
    }
    // after the book: a missing database is reported as such, not created here
    if (app_access_open(bp.db_path, &access, &err) != PX_OK) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    if (require_keys) {
        size_t n_keys = 0;
        if (app_access_active_keys(access, &n_keys, &err) != PX_OK) {
            rc = cli_fail("serve", &err);
            goto done;
        }
        if (n_keys == 0) {
            fprintf(stderr,
                    "prospect serve: error: %s requires API keys and %s has no active one; "
                    "create one with `prospect keys create --name NAME --db %s`\n",
                    bound.loopback ? "--require-keys" : "binding beyond loopback",
                    bp.db_path, bp.db_path);
            goto done;
        }
    }
    if (api_ctx_init(&ctx, book, &err) != PX_OK) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    ctx_ok = true;
    ctx.access = access;
    ctx.db_path = bp.db_path;
    ctx.require_keys = require_keys;
    ctx.registry = app_registry_dir(registry); // one registry: bundles and propensity models
    ctx.prop_data = prop_data;
    ctx.prop_data_model = pd_model;
    ctx.prop_data_file = pd_file;
    ctx.n_prop_data = n_pd;
    ctx.prop_model = prop_model;
    ctx.model_flag = bp.model_flag;
    for (size_t i = 0; i <= n_pd; i++) {
        const char *path = i < n_pd ? pd_file[i] : prop_data;
        FILE *pf = path != NULL ? fopen(path, "rb") : NULL;
        if (path != NULL && pf == NULL) {
            fprintf(stderr, "prospect serve: error: --propensity-data %s: %s\n", path,
                    strerror(errno));
            goto done;
        }
        if (pf != NULL) {
            fclose(pf);
        }
    }
    if (prop_model != NULL) {
        struct app_prop_handle *ph = NULL;
        if (app_prop_acquire(ctx.prop_cache, ctx.registry, prop_model, &ph, &err) != PX_OK) {
            rc = cli_fail("serve", &err);
            goto done;
        }
        fprintf(stderr, "prospect serve: /invocations scores with propensity model %s\n",
                app_prop_model_info(app_prop_handle_model(ph))->id);
        app_prop_release(ph);
    }
    if (rp.ref != NULL || rp.wholesale != NULL) {
        rp.registry = ctx.registry;
        struct app_rec_overlap ov;
        if (app_rec_open(&rp, &rec, &err) != PX_OK ||
            app_rec_check_book(rec, book, &ov, &err) != PX_OK) {
            rc = cli_fail("serve", &err);
            goto done;
        }
        if (ov.model > 0 && (ov.model_shared < ov.book || ov.model_shared < ov.model)) {
            fprintf(stderr, "prospect serve: note: the recommender %s knows %zu of the book's %zu "
                    "customers (%zu get no recommendations); %zu of its %zu are not in the book\n",
                    app_rec_model_name(rec), ov.model_shared, ov.book, ov.book - ov.model_shared,
                    ov.model - ov.model_shared, ov.model);
        }
        if (ov.graph > 0 && (ov.graph_shared < ov.book || ov.graph_shared < ov.graph)) {
            fprintf(stderr, "prospect serve: note: the wholesale book holds %zu of the book's %zu "
                    "customers (%zu are not in the graph); %zu of its %zu are not in the book\n",
                    ov.graph_shared, ov.book, ov.book - ov.graph_shared,
                    ov.graph - ov.graph_shared, ov.graph);
        }
        ctx.rec = rec;
    }
    if (server_start(&sp, &ctx, &srv, &err) != PX_OK) {
        rc = cli_fail("serve", &err);
        goto done;
    }
    // the URL as given, then the one address it stands for when that is another spelling
    bool same = strcmp(sp.bind, server_address(srv)) == 0;
    fprintf(stderr,
            "prospect serve: listening on http://%s%s%s:%d (%s%s%zu customers, API keys %s); "
            "Ctrl-C stops\n",
            strchr(sp.bind, ':') ? "[" : "", sp.bind, strchr(sp.bind, ':') ? "]" : "",
            server_port(srv), same ? "" : server_address(srv), same ? "" : "; ",
            app_book_n_rows(book), require_keys ? "required" : "optional");
    fflush(stderr);
    unsigned char sig = 0;
    while (read(g_sig_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    fprintf(stderr, "prospect serve: signal %d, stopping\n", sig);
    rc = CLI_OK;
done:
    server_stop(srv);
    if (ctx_ok) api_ctx_free(&ctx);
    app_rec_close(rec);
    app_book_close(book);
    app_access_close(access);
    for (int i = 0; i < 2; i++) {
        if (g_sig_pipe[i] >= 0) close(g_sig_pipe[i]);
        g_sig_pipe[i] = -1;
    }
    return rc;
}
