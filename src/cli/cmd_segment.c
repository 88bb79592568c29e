// cmd_segment.c — `prospect segment`: k-means segments of the customers in the database, on
// their profile (the imported columns) or on the GAT recommender's customer embeddings, stored
// in an integer column so search can filter on it ("segment 3"). A thin front end over
// app_segments_fit (app_segments.h), which reads, clusters, stores and returns the summary
// document; this file parses options and prints that document as a table, JSON or CSV.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app_registry.h"
#include "app_segments.h"
#include "buf.h"
#include "cli.h"
#include "jsonx.h"
#include "limits.h"

static const char *const k_usage =
    "usage: prospect segment [--db FILE] [--k K | --k-range LO..HI] [--on profile|gat]\n"
    "                        [--model NAME[/VERSION]] [--column NAME] [--seed S]\n"
    "                        [--restarts R] [--dry-run] [--format table|json|csv | --json]\n"
    "\n"
    "Groups the database's customers by k-means (k-means++ starts, the best of R restarts,\n"
    "seeded: the same seed gives the same segments). With --k-range the k with the highest\n"
    "silhouette is used. Prints each segment's size and the attributes that set it apart from\n"
    "the whole book (numbers: mean vs the book's, in standard deviations; categories: the most\n"
    "common value and how much more common it is than in the book), then stores the segment\n"
    "number (1 = largest) in column NAME so searches can filter on it. The JSON is the summary\n"
    "GET /api/segments gives, with the fit's figures (k, silhouette, inertia, features).\n"
    "\n"
    "  --db FILE        database (default ./prospect.db)\n"
    "  --k K            segments (default 4)\n"
    "  --k-range LO..HI choose k in LO..HI by silhouette (e.g. 2..12)\n"
    "  --on profile|gat cluster the imported columns (default), or the customer embeddings of\n"
    "                   the recommender --model (prospect recommend train)\n"
    "  --model REF      registry recommender for --on gat (default recommender)\n"
    "  --registry DIR   model directory (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --column NAME    column to store the segment in (default segment; an existing column of\n"
    "                   that name must be an integer column)\n"
    "  --seed S         random seed (default 42)\n"
    "  --restarts R     k-means++ restarts (default 5)\n"
    "  --dry-run        print the segments, store nothing\n"
    "  --format F       table (default), json or csv (segment,size,share,traits); --json is\n"
    "                   short for --format json\n";

static int print_table(const cJSON *doc, const struct app_segments_params *p)
{
    const cJSON *segs = cJSON_GetObjectItemCaseSensitive(doc, "segments"), *s, *t;
    const cJSON *sil = cJSON_GetObjectItemCaseSensitive(doc, "silhouette");
    double total = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "customers"));
    printf("%d segments of %.0f customers on %s (%.0f features), silhouette ",
           (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "k")), total,
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "on")),
           cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "features")));
    if (cJSON_IsNumber(sil)) {
        printf("%.3f\n", sil->valuedouble);
    } else {
        printf("-\n");
    }
    const cJSON *by_k = cJSON_GetObjectItemCaseSensitive(doc, "silhouette_by_k");
    if (cJSON_GetArraySize(by_k) > 0) {
        printf("silhouette by k:");
        cJSON_ArrayForEach(s, by_k)
        {
            printf(" %d:%.3f", (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "k")),
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "silhouette")));
        }
        printf("\n");
    }
    cJSON_ArrayForEach(s, segs)
    {
        double size = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "size"));
        printf("\nsegment %d: %.0f customers (%.0f%%)\n",
               (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "segment")), size,
               total > 0 ? 100.0 * size / total : 0.0);
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "traits"))
        {
            printf("  %s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "text")));
        }
    }
    if (!p->dry_run) {
        printf("\nstored in column '%s' of %s: search with e.g. \"%s 1\"\n", p->column, p->db,
               p->column);
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

// segment,size,share,traits (the traits' texts joined by "; ").
static int print_csv(const cJSON *doc)
{
    const cJSON *s, *t;
    printf("segment,size,share,traits\n");
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "segments"))
    {
        char traits[LIMIT_SEGMENT_TRAITS * 320] = "";
        size_t n = 0;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "traits"))
        {
            const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "text"));
            int w = snprintf(traits + n, sizeof traits - n, "%s%s", n ? "; " : "",
                             text ? text : "");
            n = w < 0 ? n : n + (size_t)w < sizeof traits ? n + (size_t)w : sizeof traits - 1;
        }
        printf("%d,%.0f,%.4f,",
               (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "segment")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "size")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "share")));
        cli_csv_field(stdout, traits);
        putchar('\n');
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_segment(int argc, char **argv)
{
    struct app_segments_params p = app_segments_default_params();
    enum cli_format format = CLI_FORMAT_TABLE;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"k", required_argument, NULL, 'k'},
        {"k-range", required_argument, NULL, 'K'},
        {"on", required_argument, NULL, 'o'},
        {"model", required_argument, NULL, 'm'},
        {"registry", required_argument, NULL, 'r'},
        {"column", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'},
        {"restarts", required_argument, NULL, 'R'},
        {"dry-run", no_argument, NULL, 'n'},
        CLI_FORMAT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, v = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int frc = cli_format_option("segment", ch, optarg, &format);
        if (frc >= 0) {
            if (frc != CLI_OK) {
                return frc;
            }
            continue;
        }
        switch (ch) {
        case 'd': p.db = optarg; break;
        case 'k':
            if (!cli_parse_int(optarg, 1, LIMIT_KMEANS_K, &p.k)) {
                return cli_usage_error("segment", "--k must be 1..%d, got '%s'", LIMIT_KMEANS_K,
                                       optarg);
            }
            break;
        case 'K': {
            char lo[16] = "", *dots = strstr(optarg, "..");
            size_t n = dots ? (size_t)(dots - optarg) : 0;
            if (dots == NULL || n == 0 || n >= sizeof lo) {
                return cli_usage_error("segment", "--k-range must be LO..HI, got '%s'", optarg);
            }
            memcpy(lo, optarg, n);
            if (!cli_parse_int(lo, 2, LIMIT_KMEANS_K, &p.k_lo) ||
                !cli_parse_int(dots + 2, 2, LIMIT_KMEANS_K, &p.k_hi) || p.k_hi < p.k_lo) {
                return cli_usage_error("segment",
                                       "--k-range must be LO..HI with 2 <= LO <= HI "
                                       "<= %d, got '%s'",
                                       LIMIT_KMEANS_K, optarg);
            }
            break;
        }
        case 'o':
            if (strcmp(optarg, "profile") != 0 && strcmp(optarg, "gat") != 0) {
                return cli_usage_error("segment", "--on must be profile or gat, got '%s'", optarg);
            }
            p.on = strcmp(optarg, "gat") == 0 ? APP_SEGMENTS_GAT : APP_SEGMENTS_PROFILE;
            break;
        case 'm': p.model = optarg; break;
        case 'r': p.registry = optarg; break;
        case 'c': p.column = optarg; break;
        case 's':
            if (!cli_parse_int(optarg, 0, 2147483647, &v)) {
                return cli_usage_error("segment", "--seed must be 0..2147483647, got '%s'", optarg);
            }
            p.seed = (uint64_t)v;
            break;
        case 'R':
            if (!cli_parse_int(optarg, 1, LIMIT_KMEANS_RESTARTS, &p.restarts)) {
                return cli_usage_error("segment", "--restarts must be 1..%d, got '%s'",
                                       LIMIT_KMEANS_RESTARTS, optarg);
            }
            break;
        case 'n': p.dry_run = true; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("segment", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("segment", "unexpected argument '%s'", argv[optind]);
    }
    p.registry = app_registry_dir(p.registry);

    struct px_err err = {0};
    struct buf doc;
    buf_init(&doc, LIMIT_HTTP_RESPONSE);
    cJSON *j = NULL;
    int rc = app_segments_fit(&p, &doc, &err);
    if (rc == PX_OK && format != CLI_FORMAT_JSON)
        rc = jsonx_parse(doc.data, doc.len, "the segment summary", &j, &err);
    int ret = rc != PX_OK                  ? cli_fail("segment", &err)
              : format == CLI_FORMAT_JSON  ? cli_print_json("segment", &doc)
              : format == CLI_FORMAT_TABLE ? print_table(j, &p)
                                           : print_csv(j);
    cJSON_Delete(j);
    buf_free(&doc);
    return ret;
}
