// app_rec.h — recommenders for the front ends: train and evaluate one (app/rectrain.c), serve
// its recommendations (app/recommend.c) and the customer-product graph of the wholesale book
// (app/graph.c). Opaque handles and plain C types only: the model, the graph and their storage
// (ml/recommender, kinds/recmodel) stay behind this header.
#ifndef PX_APP_REC_H
#define PX_APP_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "app_book.h"
#include "buf.h"
#include "err.h"
#include "limits.h"

// ---- training (app/rectrain.c) ----
//
// The wholesale book's three CSVs (customers.csv, products.csv, transactions.csv: prospect
// generate --kind wholesale) -> the customer-product graph -> a GAT trained for link prediction
// on the oldest 80% of customer-product pairs (10% validation for early stopping), scored on the
// newest 10% beside a popularity and a matrix-factorisation baseline of the same run; then saved
// as the next version of a registry name (kind "recommender"; nothing is left on failure).

struct app_rec_train_params {
    const char *data;     // directory with customers.csv, products.csv, transactions.csv
    const char *files[3]; // or these files (customers, products, transactions): all or none;
                          // they win over data
    const char *registry; // NULL: app_registry_dir(NULL)
    const char *name;     // the registered name; NULL: evaluate only, save nothing
    int epochs;           // most epochs, 1..LIMIT_REC_EPOCHS (default 200; early stopping)
    int n_threads;        // 1..LIMIT_THREADS (default 2)
    uint64_t seed;        // initialisation and negative sampling (default 42)
};
struct app_rec_train_params app_rec_train_default_params(void);

// One model's ranking quality on the test pairs (means over the customers that have one).
struct app_rec_scores {
    double recall5, recall10, ndcg10, hit10;
    size_t customers; // customers evaluated
};

struct app_rec_trained {
    size_t customers, products, transactions, pairs; // what was read; pairs: the graph's edges
    size_t train_pairs, validation_pairs, test_pairs; // the time-ordered split
    int epochs_run, best_epoch;
    double best_validation_recall10;
    double seconds_gat, seconds_total;
    struct app_rec_scores gat, popularity, mf;
    double lift_mean, lift_se; // per-customer recall@10 of the GAT minus popularity: mean, s.e.
    bool beats_popularity;     // lift_mean > 2 s.e. and GAT recall@10 > 1.1 x popularity's
    int version;               // the version saved; 0 when only evaluated
    char model[LIMIT_BUNDLE_NAME_BYTES + 16]; // "NAME/VERSION" saved, or ""
};

// Called after each validation while training (epoch of epochs, validation recall@10).
typedef void (*app_rec_progress_fn)(void *user, int epoch, int epochs, double val_recall10);

// Reads the data, trains, evaluates and (p->name set) saves. Errors name the file and line of
// bad data, or the registry version. progress may be NULL.
int app_rec_train(const struct app_rec_train_params *p, app_rec_progress_fn progress, void *user,
                  struct app_rec_trained *out, struct px_err *err);
// {"customers", "products", "pairs", "transactions", "train_edges", "validation_edges",
// "test_edges", "epochs_run", "best_epoch", "best_validation_recall_at_10", "seconds_gat",
// "seconds_total", "lift_recall_at_10": {"mean", "se"}, "beats_popularity", "model": "NAME/V" or
// null, "gat" | "popularity" | "matrix_factorisation": {"recall_at_5", "recall_at_10",
// "ndcg_at_10", "hit_rate_at_10", "customers"}}
int app_rec_trained_json(const struct app_rec_trained *t, struct buf *out, struct px_err *err);
// model,recall_at_5,recall_at_10,ndcg_at_10,hit_rate_at_10,customers: one row per model (gat,
// popularity, matrix_factorisation), with the header.
int app_rec_trained_csv(const struct app_rec_trained *t, struct buf *out, struct px_err *err);

// ---- serving: recommendations (app/recommend.c) ----
//
// A served recommender is the saved model (recommendations) plus, optionally, the wholesale
// book it was trained on (the graph's edges with their transaction type, count and amount).
// Customer attributes the graph shows beyond the model's labels (relationship manager, segment)
// come from the customer book (app_book) by column name: relationship_manager, segment.
// Immutable after open; any thread may read it.

struct app_rec_params {
    const char *registry;  // NULL: app_registry_dir(NULL)
    const char *ref;       // "NAME" (production stage, else newest), "NAME/VERSION",
                           // "NAME@VERSION" or "NAME@STAGE"; NULL: no model
    const char *wholesale; // directory with the three CSVs; NULL: no graph
};

struct app_rec;
// Opens what p names (at least one of ref and wholesale): every file of the saved model is
// checked against its manifest. Returns owned *out (app_rec_close); NULL after a failure.
int app_rec_open(const struct app_rec_params *p, struct app_rec **out, struct px_err *err);
void app_rec_close(struct app_rec *r);
// "NAME/VERSION" of the model, or NULL without one (borrowed).
const char *app_rec_model_name(const struct app_rec *r);
bool app_rec_has_graph(const struct app_rec *r);
// Customers the model knows (0 without a model).
size_t app_rec_n_customers(const struct app_rec *r);

struct app_rec_pick {
    const char *product_id; // borrowed from the recommender
    const char *product;    // its label ("Loans, Term loan"; "" when unknown)
    double score;
};

struct app_rec_list {
    const char *customer_id;    // borrowed from the recommender
    const char *customer_label; // "Corporate, Finance" ("" when unknown)
    size_t held;                // products the customer holds
    struct app_rec_pick *picks; // owned: (n) best first
    size_t n;
};

// The top (1..LIMIT_REC_TOP) products the customer does not hold, best first (fewer when it
// holds nearly everything). PX_ENOENT without a model or for a customer the model does not know
// ("customer 'X' is not in the model NAME/V (retrain after adding customers)"). Returns owned
// *out (app_rec_list_free; empty after a failure).
int app_rec_recommend(const struct app_rec *r, const char *customer_id, size_t top,
                      struct app_rec_list *out, struct px_err *err);
void app_rec_list_free(struct app_rec_list *l);

// The recommendations document, the one GET /api/customers/ID/recommendations answers and
// `prospect recommend --json` prints: {"customer_id", "model", "held": N, "recommendations":
// [{"rank", "product_id", "product", "score"}]}. Errors as app_rec_recommend.
int app_rec_recommend_json(const struct app_rec *r, const char *customer_id, size_t top,
                           struct buf *out, struct px_err *err);
// The same as CSV rows customer_id,rank,product_id,product,score (header first when header).
int app_rec_recommend_csv(const struct app_rec *r, const char *customer_id, size_t top,
                          bool header, struct buf *out, struct px_err *err);

// Every customer's recommendations, for batch use: CSV (the header, then the rows of
// app_rec_recommend_csv) or JSON Lines (one app_rec_recommend_json document per line).
enum app_rec_format { APP_REC_CSV = 0, APP_REC_JSONL = 1 };
// Receives a long answer one chunk at a time; returns PX_OK, or fills err to stop.
typedef int (*app_rec_sink_fn)(void *user, const char *data, size_t len, struct px_err *err);
// Hands every customer's recommendations to sink in chunks; *n_customers (may be NULL) returns
// how many customers. PX_ENOENT without a model.
int app_rec_recommend_all(const struct app_rec *r, size_t top, enum app_rec_format format,
                          app_rec_sink_fn sink, void *user, size_t *n_customers,
                          struct px_err *err);
// The same into path, atomically: a temporary file renamed into place, none left on failure.
int app_rec_recommend_all_file(const struct app_rec *r, size_t top, enum app_rec_format format,
                               const char *path, size_t *n_customers, struct px_err *err);

// ---- does the recommender belong to the customer book? (app/recommend.c) ----

struct app_rec_overlap {
    size_t book;                // customers in the customer book
    size_t model, model_shared; // the model's customers, and how many of them the book holds
                                // (both 0 without a model)
    size_t graph, graph_shared; // the wholesale book's customers, likewise (0 without one)
};
// Counts the customer ids the served model and wholesale book share with b. PX_EINVAL when
// either of them shares none (it was trained on, or drawn from, another book: every panel would
// read "not in the recommender"), naming both counts: "the recommender NAME/V's 1000 customers
// share no id with the customer book's 5000". A partial overlap is PX_OK: *out says how much,
// for the caller to report.
int app_rec_check_book(const struct app_rec *r, const struct app_book *b,
                       struct app_rec_overlap *out, struct px_err *err);

// ---- the graph (app/graph.c) ----

struct app_graph_query {
    const char *customer; // a customer's neighbourhood: it, its products, their other holders
    const char *segment;  // else customers of this segment (book column "segment") ...
    const char *rm;       // ... and/or of this relationship manager, largest volume first
    size_t limit;         // customers, 1..LIMIT_GRAPH_CUSTOMERS
};

// The graph answer (README, "Recommendations and segments"): {"model", "nodes": [{"id", "kind":
// "customer"|"product", "label", ...}], "edges": [{"source", "target", "type", "count",
// "amount"}], "truncated", "facets": {"segments", "relationship_managers"}}; edge ends are node
// indices. b (may be NULL) supplies relationship managers and segments. shown (may be NULL)
// returns the book rows of the customers in the answer as hits (for the audit log; owned,
// app_result_free). PX_ENOENT without the wholesale book or for an unknown customer.
int app_graph_json(const struct app_rec *r, const struct app_book *b,
                   const struct app_graph_query *q, struct buf *out, struct app_result *shown,
                   struct px_err *err);

#endif
