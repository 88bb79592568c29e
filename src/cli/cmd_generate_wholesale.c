// cmd_generate_wholesale.c — `prospect generate --kind wholesale`: writes the generated
// wholesale book as three CSVs into a directory, each atomically (app_generate_wholesale,
// app_data.h); this file parses the options.
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "app_data.h"
#include "cli.h"
#include "limits.h"

static const char *const k_usage =
    "usage: prospect generate --kind wholesale [--customers N] [--products M]\n"
    "                         [--transactions T] [--seed S] [--structure X] [--out DIR]\n"
    "\n"
    "Writes a generated wholesale book into DIR (default ./wholesale): customers.csv\n"
    "(corporate, institutional and government clients: type, industry, size, location,\n"
    "relationship manager, engagement, credit score, risk rating, default probability,\n"
    "exposure), products.csv (type, category, subcategory, features) and transactions.csv\n"
    "(date order: client, product, date, type, amount, currency, frequency). Purchases follow\n"
    "planted affinities (industry and client type to product categories), bundles bought\n"
    "together and company size; src/data/wholesale.c documents them. Same seed, same bytes.\n"
    "\n"
    "  --customers N      clients (default 1000)\n"
    "  --products M       products (default 200)\n"
    "  --transactions T   transactions (default 20000; at least N)\n"
    "  --seed S           random seed (default 42)\n"
    "  --structure X      0..1 (default 1): how strongly purchases follow the planted\n"
    "                     structure; 0 draws products uniformly at random\n"
    "  --out DIR          output directory, created when missing (default ./wholesale)\n"
    "\n"
    "Import the clients for search with: prospect import --csv DIR/customers.csv\n";

int cli_generate_wholesale(int argc, char **argv)
{
    struct app_wholesale_params params = app_wholesale_default_params();
    const char *dir = "wholesale";
    static const struct option opts[] = {
        {"customers", required_argument, NULL, 'c'},
        {"products", required_argument, NULL, 'p'},
        {"transactions", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},
        {"structure", required_argument, NULL, 'x'},
        {"out", required_argument, NULL, 'o'},
        {"kind", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    uint64_t v = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            if (!cli_parse_u64(optarg, LIMIT_WHOLESALE_CUSTOMERS, &v) || v == 0) {
                return cli_usage_error("generate", "--customers must be 1..%u, got '%s'",
                                       LIMIT_WHOLESALE_CUSTOMERS, optarg);
            }
            params.n_customers = (uint32_t)v;
            break;
        case 'p':
            if (!cli_parse_u64(optarg, LIMIT_WHOLESALE_PRODUCTS, &v) || v < 2) {
                return cli_usage_error("generate", "--products must be 2..%u, got '%s'",
                                       LIMIT_WHOLESALE_PRODUCTS, optarg);
            }
            params.n_products = (uint32_t)v;
            break;
        case 't':
            if (!cli_parse_u64(optarg, LIMIT_WHOLESALE_TRANSACTIONS, &params.n_transactions)) {
                return cli_usage_error("generate", "--transactions must be 1..%llu, got '%s'",
                                       (unsigned long long)LIMIT_WHOLESALE_TRANSACTIONS, optarg);
            }
            break;
        case 's':
            if (!cli_parse_u64(optarg, UINT64_MAX, &params.seed)) {
                return cli_usage_error("generate",
                                       "--seed must be an unsigned 64-bit integer, "
                                       "got '%s'",
                                       optarg);
            }
            break;
        case 'x': {
            char *end = NULL;
            double x = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(x >= 0.0 && x <= 1.0)) {
                return cli_usage_error("generate", "--structure must be 0..1, got '%s'", optarg);
            }
            params.structure = x;
            break;
        }
        case 'o': dir = optarg; break;
        case 'k': break; // "wholesale", checked by cmd_generate
        case 'h': fputs(k_usage, stdout); return CLI_OK;
        default: return cli_usage_error("generate", "unknown option");
        }
    }
    if (optind < argc) {
        return cli_usage_error("generate", "unexpected argument '%s'", argv[optind]);
    }

    struct px_err err = {0};
    if (app_generate_wholesale(&params, dir, &err) != PX_OK) {
        return cli_fail("generate", &err);
    }
    fprintf(stderr,
            "wrote %s/{customers,products,transactions}.csv: %u clients, %u products, "
            "%llu transactions\n",
            dir, params.n_customers, params.n_products, (unsigned long long)params.n_transactions);
    return CLI_OK;
}
