// cmd_segment.c — `prospect segment`: k-means segments of the customers in the database, on
// their profile (the imported columns) or on the GAT recommender's customer embeddings; prints
// each segment's size and what sets it apart from the whole book, and stores the segment
// (1..k) in an integer column of the customers table so search can filter on it
// ("segment 3"). Calls src/store and src/ml directly for the clustering, as cmd_import does; what
// sets each segment apart is the app layer's summary (app_segments_assign_json, the one
// GET /api/segments gives), over the book opened lexical-only.
//
// Profile features: numbers, money, percentages, dates (days) and yes/no standardised to mean 0
// and s.d. 1 (missing: the mean); categories one-hot scaled by 1/sqrt(2) so a category weighs
// like one number; lists and free text are left out, as is the segment column itself.
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "app_book.h"
#include "app_rec.h"
#include "app_registry.h"
#include "app_segments.h"
#include "buf.h"
#include "cli.h"
#include "cli_ml.h"
#include "datex.h"
#include "limits.h"
#include "mem.h"
#include "segment.h"
#include "store.h"

static const char *const k_usage =
    "usage: prospect segment [--db FILE] [--k K | --k-range LO..HI] [--on profile|gat]\n"
    "                        [--model NAME[/VERSION]] [--column NAME] [--seed S]\n"
    "                        [--restarts R] [--dry-run] [--json]\n"
    "\n"
    "Groups the database's customers by k-means (k-means++ starts, the best of R restarts,\n"
    "seeded: the same seed gives the same segments). With --k-range the k with the highest\n"
    "silhouette is used. Prints each segment's size and the attributes that set it apart from\n"
    "the whole book (numbers: mean vs the book's, in standard deviations; categories: the most\n"
    "common value and how much more common it is than in the book), then stores the segment\n"
    "number (1 = largest) in column NAME so searches can filter on it.\n"
    "\n"
    "  --db FILE        database (default ./prospect.db)\n"
    "  --k K            segments (default 4)\n"
    "  --k-range LO..HI choose k in LO..HI by silhouette (e.g. 2..12)\n"
    "  --on profile|gat cluster the imported columns (default), or the customer embeddings of\n"
    "                   the recommender --model (prospect recommend train)\n"
    "  --model REF      recommender for --on gat (default recommender)\n"
    "  --registry DIR   model directory (default $PROSPECT_REGISTRY, else ./registry)\n"
    "  --column NAME    column to store the segment in (default segment; an existing column of\n"
    "                   that name must be an integer column)\n"
    "  --seed S         random seed (default 42)\n"
    "  --restarts R     k-means++ restarts (default 5)\n"
    "  --dry-run        print the segments, store nothing\n"
    "  --json           JSON output\n";

struct rows {
    size_t n;
    char **ids;  // (n)
    double *num; // (n, n_cols) numeric value or NAN
    char **cat;  // (n, n_cols) category value or NULL
};

static void rows_free(struct rows *r, size_t n_cols)
{
    for (size_t i = 0; i < r->n; i++) {
        px_free(r->ids[i]);
        for (size_t j = 0; j < n_cols; j++) {
            px_free(r->cat[i * n_cols + j]);
        }
    }
    px_free(r->ids);
    px_free(r->num);
    px_free(r->cat);
}

static bool is_num(enum coltype t)
{
    return coltype_is_numeric(t) || t == COLTYPE_BOOL || t == COLTYPE_DATE;
}

// Days since 1970 of a date value (coltype keeps it as checked "YYYY-MM-DD"); NAN otherwise.
static double date_days(const char *s)
{
    int64_t days;
    return datex_parse_iso(s, strlen(s), &days) ? (double)days : NAN;
}

// Reads every customer: ids, numbers (as doubles) and category values.
static int read_rows(struct store *st, const struct store_schema *sc, struct rows *r,
                     struct px_err *err)
{
    size_t cap = 0, nc = sc->n_cols;
    struct store_iter *it = NULL;
    int rc = store_iter_new(st, sc, &it, err);
    while (rc == PX_OK) {
        bool has = false;
        const char *id = NULL;
        const struct coltype_value *v = NULL;
        if ((rc = store_iter_next(it, &has, &id, &v, err)) != PX_OK || !has) {
            break;
        }
        if (r->n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **ids = px_realloc(r->ids, cap * sizeof *ids);
            double *num = ids ? px_realloc(r->num, cap * nc * sizeof *num) : NULL;
            char **cat = num ? px_realloc(r->cat, cap * nc * sizeof *cat) : NULL;
            r->ids = ids ? ids : r->ids;
            r->num = num ? num : r->num;
            r->cat = cat ? cat : r->cat;
            if (cat == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
                break;
            }
        }
        size_t i = r->n;
        for (size_t j = 0; j < nc; j++) {
            r->num[i * nc + j] = NAN;
            r->cat[i * nc + j] = NULL;
        }
        r->ids[i] = px_strdup(id);
        r->n++;
        if (r->ids[i] == NULL) {
            rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
            break;
        }
        for (size_t j = 0; j < nc; j++) {
            enum coltype t = sc->cols[j].type;
            if (v[j].missing || sc->cols[j].is_id) {
                continue;
            }
            if (t == COLTYPE_DATE) {
                r->num[i * nc + j] = date_days(v[j].date);
            } else if (t == COLTYPE_BOOL || t == COLTYPE_INTEGER) {
                r->num[i * nc + j] = (double)v[j].i;
            } else if (is_num(t)) {
                r->num[i * nc + j] = v[j].d;
            } else if (t == COLTYPE_CATEGORY &&
                       (r->cat[i * nc + j] = px_strndup(v[j].s, v[j].len)) == NULL) {
                rc = px_fail(err, PX_ENOMEM, "out of memory reading customers");
                break;
            }
        }
    }
    store_iter_free(it);
    return rc;
}

struct colstat {
    double mean, sd;
    char **levels; // (n_levels) borrowed from rows
    size_t n_levels;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Column statistics and the feature matrix (n, *dim).
static int build_features(const struct store_schema *sc, const struct rows *r, int skip,
                          struct colstat *st, float **out, size_t *dim, struct px_err *err)
{
    size_t nc = sc->n_cols, d = 0;
    for (size_t j = 0; j < nc; j++) {
        if ((int)j == skip || sc->cols[j].is_id) {
            continue;
        }
        enum coltype t = sc->cols[j].type;
        if (is_num(t)) {
            double s = 0, s2 = 0;
            size_t m = 0;
            for (size_t i = 0; i < r->n; i++) {
                double x = r->num[i * nc + j];
                if (!isnan(x)) {
                    s += x;
                    s2 += x * x;
                    m++;
                }
            }
            st[j].mean = m ? s / (double)m : 0;
            double var = m ? s2 / (double)m - st[j].mean * st[j].mean : 0;
            st[j].sd = var > 1e-12 ? sqrt(var) : 0;
            d += st[j].sd > 0;
        } else if (t == COLTYPE_CATEGORY) {
            char **all = px_calloc(r->n ? r->n : 1, sizeof *all);
            if (all == NULL) {
                return px_fail(err, PX_ENOMEM, "out of memory");
            }
            size_t m = 0;
            for (size_t i = 0; i < r->n; i++) {
                if (r->cat[i * nc + j] != NULL) {
                    all[m++] = r->cat[i * nc + j];
                }
            }
            qsort(all, m, sizeof *all, cmp_str);
            size_t u = 0;
            for (size_t i = 0; i < m; i++) {
                if (u == 0 || strcmp(all[u - 1], all[i]) != 0) {
                    all[u++] = all[i];
                }
            }
            st[j].levels = all;
            st[j].n_levels = u;
            d += u;
        }
    }
    if (d == 0) {
        return px_fail(err, PX_EINVAL, "no numeric or category column to segment on");
    }
    if (d > LIMIT_KMEANS_DIM) {
        return px_fail(err, PX_ELIMIT, "%zu profile features: over %d (LIMIT_KMEANS_DIM)", d,
                       LIMIT_KMEANS_DIM);
    }
    float *x = px_calloc(r->n * d, sizeof *x);
    if (x == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for %zu x %zu features", r->n, d);
    }
    for (size_t i = 0; i < r->n; i++) {
        float *xi = x + i * d;
        for (size_t j = 0; j < nc; j++) {
            if ((int)j == skip || sc->cols[j].is_id) {
                continue;
            }
            if (is_num(sc->cols[j].type) && st[j].sd > 0) {
                double v = r->num[i * nc + j];
                *xi++ = isnan(v) ? 0.0f : (float)((v - st[j].mean) / st[j].sd);
            } else if (sc->cols[j].type == COLTYPE_CATEGORY) {
                const char *v = r->cat[i * nc + j];
                for (size_t k = 0; k < st[j].n_levels; k++) {
                    bool on = v != NULL && strcmp(v, st[j].levels[k]) == 0;
                    xi[k] = on ? 0.70710678f : 0.0f;
                }
                xi += st[j].n_levels;
            }
        }
    }
    *out = x;
    *dim = d;
    return PX_OK;
}

int cmd_segment(int argc, char **argv)
{
    const char *db = "prospect.db", *on = "profile", *model = "recommender";
    const char *registry = app_registry_dir(NULL), *column = "segment";
    int k_lo = 0, k_hi = 0;
    bool dry = false, json = false;
    struct kmeans_params kp = kmeans_default_params();
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
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, v = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'k':
            if (!cli_parse_int(optarg, 1, LIMIT_KMEANS_K, &kp.k)) {
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
            if (!cli_parse_int(lo, 2, LIMIT_KMEANS_K, &k_lo) ||
                !cli_parse_int(dots + 2, 2, LIMIT_KMEANS_K, &k_hi) || k_hi < k_lo) {
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
            on = optarg;
            break;
        case 'm': model = optarg; break;
        case 'r': registry = optarg; break;
        case 'c': column = optarg; break;
        case 's':
            if (!cli_parse_int(optarg, 0, 2147483647, &v)) {
                return cli_usage_error("segment", "--seed must be 0..2147483647, got '%s'", optarg);
            }
            kp.seed = (uint64_t)v;
            break;
        case 'R':
            if (!cli_parse_int(optarg, 1, LIMIT_KMEANS_RESTARTS, &kp.restarts)) {
                return cli_usage_error("segment", "--restarts must be 1..%d, got '%s'",
                                       LIMIT_KMEANS_RESTARTS, optarg);
            }
            break;
        case 'n': dry = true; break;
        case 'j': json = true; break;
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("segment", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("segment", "unexpected argument '%s'", argv[optind]);
    }

    int rc = CLI_FAIL;
    struct px_err err = {0};
    struct store *st = NULL;
    struct store_schema sc = {0};
    struct rows r = {0};
    struct colstat *cs = NULL;
    struct kmeans_result km = {0};
    struct rec_model rm = {0};
    struct store_upsert *up = NULL;
    float *x = NULL;
    size_t dim = 0;
    double scores[LIMIT_KMEANS_K];
    int *seg = NULL;
    struct app_book *book = NULL;
    struct buf summary;
    buf_init(&summary, LIMIT_HTTP_RESPONSE);
    cJSON *sj = NULL;
    if (store_open(db, NULL, &st, &err) != PX_OK || store_schema(st, &sc, &err) != PX_OK) {
        goto fail;
    }
    if (sc.n_cols == 0) {
        px_fail(&err, PX_EINVAL, "%s has no customers (prospect import --csv FILE first)", db);
        goto fail;
    }
    int seg_col = store_schema_find(&sc, column);
    if (seg_col >= 0 && sc.cols[seg_col].type != COLTYPE_INTEGER) {
        px_fail(&err, PX_EINVAL,
                "column '%s' exists and holds %s values; choose another with "
                "--column",
                column, coltype_name(sc.cols[seg_col].type));
        goto fail;
    }
    cs = px_calloc(sc.n_cols, sizeof *cs);
    if (cs == NULL || read_rows(st, &sc, &r, &err) != PX_OK) {
        if (cs == NULL) {
            px_fail(&err, PX_ENOMEM, "out of memory");
        }
        goto fail;
    }
    if (build_features(&sc, &r, seg_col, cs, &x, &dim, &err) != PX_OK) {
        goto fail;
    }
    if (strcmp(on, "gat") == 0) {
        int version = 0;
        if (app_rec_load(registry, model, &rm, &version, &err) != PX_OK) {
            goto fail;
        }
        px_free(x);
        dim = (size_t)rm.dim;
        x = px_calloc(r.n * dim, sizeof *x);
        if (x == NULL) {
            px_fail(&err, PX_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < r.n; i++) {
            long c = rec_model_find_customer(&rm, r.ids[i]);
            if (c < 0) {
                px_fail(&err, PX_EINVAL,
                        "customer '%s' is not in the recommender %s/%d; "
                        "segment --on profile, or retrain on this book",
                        r.ids[i], model, version);
                goto fail;
            }
            memcpy(x + i * dim, rm.emb + (size_t)c * dim, dim * sizeof *x);
        }
    }
    int krc = k_lo > 0 ? kmeans_choose(x, r.n, dim, k_lo, k_hi, &kp, &km, scores, &err)
                       : kmeans_fit(x, r.n, dim, &kp, &km, &err);
    if (krc != PX_OK) {
        goto fail;
    }
    if (!dry) {
        int pos = seg_col >= 0 ? sc.cols[seg_col].position : 0;
        enum coltype t = COLTYPE_INTEGER;
        if (store_begin(st, &err) != PX_OK) {
            goto fail;
        }
        if ((seg_col < 0 && store_add_column(st, column, "Segment", COLTYPE_INTEGER, false, &pos,
                                             &err) != PX_OK) ||
            store_upsert_new(st, &pos, &t, 1, &up, &err) != PX_OK) {
            store_rollback(st);
            goto fail;
        }
        for (size_t i = 0; i < r.n; i++) {
            struct coltype_value val = {.i = km.assign[i] + 1};
            bool inserted = false;
            if (store_upsert_row(up, r.ids[i], strlen(r.ids[i]), &val, &inserted, &err) != PX_OK) {
                store_rollback(st);
                goto fail;
            }
        }
        store_upsert_free(up);
        up = NULL;
        if (store_commit(st, &err) != PX_OK) {
            store_rollback(st);
            goto fail;
        }
    }
    // what sets each segment apart: the app layer's summary (the one GET /api/segments gives)
    if ((seg = px_malloc((r.n ? r.n : 1) * sizeof *seg)) == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < r.n; i++) {
        seg[i] = km.assign[i] + 1;
    }
    struct app_book_params bp = app_book_default_params();
    bp.db_path = db;
    bp.read_only = true;
    bp.lexical_only = true;
    if (app_book_open(&bp, &book, &err) != PX_OK ||
        app_segments_assign_json(book, column, (const char *const *)r.ids, seg, r.n, &summary,
                                 &err) != PX_OK) {
        goto fail;
    }
    if ((sj = cJSON_ParseWithLength(summary.data, summary.len)) == NULL) {
        px_fail(&err, PX_ENOMEM, "out of memory reading the segment summary");
        goto fail;
    }
    if (json) {
        printf("{\"k\": %d, \"on\": \"%s\", \"customers\": %zu, \"features\": %zu, "
               "\"silhouette\": ",
               km.k, on, r.n, dim);
        cli_json_number(stdout, km.silhouette);
        printf(", \"inertia\": %.6g, \"column\": ", km.inertia);
        cli_json_string(stdout, dry ? "" : column);
        printf(", \"segments\": [");
    } else {
        printf("%d segments of %zu customers on %s (%zu features), silhouette %.3f\n", km.k, r.n,
               on, dim, km.silhouette);
        if (k_lo > 0) {
            printf("silhouette by k:");
            for (int k = k_lo; k <= k_hi; k++) {
                printf(" %d:%.3f", k, scores[k - k_lo]);
            }
            printf("\n");
        }
    }
    const cJSON *sg, *t;
    int first = 1;
    cJSON_ArrayForEach(sg, cJSON_GetObjectItemCaseSensitive(sj, "segments"))
    {
        int s = cJSON_GetObjectItemCaseSensitive(sg, "segment")->valueint;
        size_t size = km.sizes[s - 1];
        const cJSON *traits = cJSON_GetObjectItemCaseSensitive(sg, "traits");
        if (json) {
            printf("%s{\"segment\": %d, \"size\": %zu, \"traits\": [", first ? "" : ", ", s, size);
            size_t q = 0;
            cJSON_ArrayForEach(t, traits)
            {
                printf(q++ ? ", " : "");
                cli_json_string(stdout, cJSON_GetObjectItemCaseSensitive(t, "text")->valuestring);
            }
            printf("]}");
        } else {
            printf("\nsegment %d: %zu customers (%.0f%%)\n", s, size,
                   100.0 * (double)size / (double)r.n);
            cJSON_ArrayForEach(t, traits)
            {
                printf("  %s\n", cJSON_GetObjectItemCaseSensitive(t, "text")->valuestring);
            }
        }
        first = 0;
    }
    if (json) {
        printf("]}\n");
    } else if (!dry) {
        printf("\nstored in column '%s' of %s: search with e.g. \"%s 1\"\n", column, db, column);
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("segment", &err);
done:
    cJSON_Delete(sj);
    buf_free(&summary);
    app_book_close(book);
    px_free(seg);
    store_upsert_free(up);
    if (cs != NULL) {
        for (size_t j = 0; j < sc.n_cols; j++) {
            px_free(cs[j].levels);
        }
    }
    px_free(cs);
    px_free(x);
    kmeans_result_free(&km);
    rec_model_free(&rm);
    rows_free(&r, sc.n_cols);
    store_schema_free(&sc);
    store_close(st);
    return rc;
}
