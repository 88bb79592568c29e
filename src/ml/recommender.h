// recommender.h — product recommendations from a customer–product graph: a two-layer graph
// attention network (nn/gat.h) trained for link prediction, beside a popularity and a
// matrix-factorisation baseline computed in the same run.
//
// Data: three CSVs (the wholesale generator's, or any with the same key columns):
//   customers     first column the customer id; other columns become node features
//   products      first column the product id; likewise
//   transactions  customer_id, product_id, date (YYYY-MM-DD) required; amount, frequency and
//                 transaction_type used when present
// Features (not random): numbers standardised (log1p first for non-negative columns spanning
// over 1000, such as money), dates as standardised days, categories (<= 100 levels, fewer than
// half the rows) one-hot, lists ("A; B") multi-hot, other text left out; products also get an
// identity one-hot (catalogues up to 4096 products) so the model can learn each product.
// Edges: distinct (customer, product) pairs, dated by their first transaction, weighted by
// frequency and value: w = log1p(transactions) + 0.1·log1p(total amount); the GAT adds log w
// to the attention logits.
//
// Protocol (rec_train): edges sorted by date, the first 80% train, the next 10% validation
// (early stopping on recall@10), the last 10% test. Test metrics rank every product a customer
// does not hold in train + validation, with embeddings computed on the train + validation graph.
// The saved model's embeddings come from the full graph, and "held" is every edge.
//
// Thread rules: a struct rec_model is immutable after rec_train / load and may be shared.
#ifndef PX_ML_RECOMMENDER_H
#define PX_ML_RECOMMENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gat.h"

struct rec_edge {
    uint32_t customer, product; // indices
    int32_t day;                // first transaction, days since 1970-01-01
    uint32_t n_tx;              // transactions of the pair
    double amount;              // their total amount (0 without an amount column)
    uint16_t type;              // first transaction's type: index into rec_data.tx_types
};

struct rec_data {
    size_t n_customers, n_products;
    char **customer_id, **product_id;       // owned: (n) ids as in the files
    char **customer_label, **product_label; // owned: "Corporate, Finance" ("" when unknown)
    size_t n_features;                      // columns of x
    float *x;               // owned: (n_customers + n_products, n_features); products after
    struct rec_edge *edges; // owned: (n_edges) in date order
    size_t n_edges;
    size_t n_transactions;
    char **tx_types; // owned: (n_tx_types) transaction type names
    size_t n_tx_types;
};

// Reads the three CSVs. Errors name the file, line and column (an unknown customer or product
// id in a transaction, a bad date, a duplicate id, a missing column). Returns owned *out
// (rec_data_free); empty after a failure.
int rec_data_load(const char *customers_csv, const char *products_csv, const char *tx_csv,
                  struct rec_data *out, struct px_err *err);
void rec_data_free(struct rec_data *d);

struct rec_params {
    int n_heads;        // first layer's heads (default 2)
    int dim_head;       // first layer's width per head (default 32)
    int dim_out;        // embedding width (second layer, one head; default 64)
    int epochs;         // most full-graph epochs (default 200)
    int eval_every;     // validation every this many epochs (default 10)
    int patience;       // stop after this many validations without improvement (default 4)
    float lr;           // Adam learning rate (default 0.01)
    float dropout;      // on the first layer's output while training (default 0.1)
    float attn_dropout; // on both layers' attention coefficients while training (default 0.2:
                        // bench_recommend recall@10 0.1356 at 0, 0.1374 at 0.1, 0.1402 at 0.2)
    float weight_decay; // L2 on the parameters (default 1e-5)
    int mf_dim;         // matrix factorisation width (default 32)
    int mf_epochs;      // its full-batch Adam epochs (default 150)
    float mf_lr;        // (default 0.02)
    uint64_t seed;      // initialisation and negative sampling (default 42)
    int n_threads;      // (default 1)
};

struct rec_params rec_default_params(void);

struct rec_metrics {
    double recall5, recall10, ndcg10, hit10; // means over customers with a test edge
    size_t n_customers;                      // customers evaluated
};

struct rec_report {
    struct rec_metrics gat, popularity, mf;
    double lift_mean, lift_se; // per-customer recall@10 of the GAT minus popularity: mean, s.e.
    bool beats_popularity;     // lift_mean > 2 s.e. and GAT recall@10 > 1.1 x popularity's
    size_t n_train, n_val, n_test;
    int epochs_run, best_epoch;
    double best_val_recall10;
    double seconds_gat, seconds_total;
};

struct rec_model {
    size_t n_customers, n_products;
    int dim;
    char **customer_id, **product_id;       // owned (n)
    char **customer_label, **product_label; // owned (n)
    float *emb;         // owned: (n_customers + n_products, dim) on the full graph
    uint32_t *held_ptr; // owned: (n_customers + 1)
    uint32_t *held;     // owned: products each customer holds, sorted, CSR by held_ptr
    uint32_t *by_id;    // owned: (n_customers) customer indices sorted by id
    struct rec_report report;
};

// Called after each validation (epoch, validation recall@10) while training; may be NULL.
typedef void (*rec_progress_fn)(void *user, int epoch, int epochs, double val_recall10);

// Runs the protocol above: GAT, popularity and matrix factorisation. Returns owned *model
// (rec_model_free) with its report. PX_EINVAL when there are too few edges to split (fewer than
// 10) or a parameter is out of range.
int rec_train(const struct rec_data *d, const struct rec_params *p, rec_progress_fn progress,
              void *user, struct rec_model *model, struct px_err *err);
void rec_model_free(struct rec_model *m);

// Builds m->by_id from m->customer_id (for a model read from disk); PX_ENOMEM.
int rec_model_index(struct rec_model *m, struct px_err *err);
// Index of a customer id, or -1 (needs by_id).
long rec_model_find_customer(const struct rec_model *m, const char *id);

struct rec_item {
    uint32_t product;
    float score;
};
// The top (1..LIMIT_REC_TOP) products customer c does not hold, best first, into out (top
// entries); *n returns how many (fewer when the customer holds nearly everything).
void rec_recommend(const struct rec_model *m, size_t c, size_t top, struct rec_item *out,
                   size_t *n);

#endif
