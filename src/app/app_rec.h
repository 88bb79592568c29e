// app_rec.h — recommendations and the customer-product graph (app/recommend.c).
#ifndef PX_APP_REC_H
#define PX_APP_REC_H

#include <stdbool.h>
#include <stddef.h>
#include "app_book.h"
#include "buf.h"
#include "err.h"
#include "recommender.h"

// ---- recommendations, the customer-product graph and segments (app/recommend.c) ----
//
// A served recommender is the saved model (recommendations) plus, optionally, the wholesale
// book it was trained on (customers.csv, products.csv, transactions.csv: the graph's edges with
// their transaction type, count and amount). Customer attributes the graph shows beyond the
// model's labels (relationship manager, segment) come from the customer book (app_book) by
// column name: relationship_manager, segment. Immutable after open; any thread may read it.


// Loads a saved recommender: ref "NAME" (newest version) or "NAME/VERSION" (or "NAME@VERSION")
// from registry (NULL: app_registry_dir(NULL)). The one place the storage is read. Returns owned
// *m (rec_model_free); *version (may be NULL) the version loaded.
int app_rec_load(const char *registry, const char *ref, struct rec_model *m, int *version,
                 struct px_err *err);

struct app_rec_params {
    const char *registry;  // NULL: app_registry_dir(NULL)
    const char *ref;       // model reference (see app_rec_load); NULL: no model
    const char *wholesale; // directory with the three CSVs; NULL: no graph
};

struct app_rec;
// Opens what p names (at least one of ref and wholesale). Returns owned *out (app_rec_close).
int app_rec_open(const struct app_rec_params *p, struct app_rec **out, struct px_err *err);
void app_rec_close(struct app_rec *r);
// "NAME/VERSION" of the model, or NULL without one (borrowed).
const char *app_rec_model_name(const struct app_rec *r);
bool app_rec_has_graph(const struct app_rec *r);

// {"customer_id", "model", "held": N, "recommendations": [{"rank", "product_id", "product",
// "score"}]}: the top (1..LIMIT_REC_TOP) products the customer does not hold, best first.
// PX_ENOENT without a model or for a customer the model does not know.
int app_rec_recommend_json(const struct app_rec *r, const char *customer_id, size_t top,
                           struct buf *out, struct px_err *err);

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
