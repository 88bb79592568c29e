// recommender_internal.h — the GAT link-prediction model inside recommender.c, for the
// finite-difference gradient test (tests/unit/test_recommend.c). Not a public API.
#ifndef PX_ML_RECOMMENDER_INTERNAL_H
#define PX_ML_RECOMMENDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gat.h"
#include "recommender.h"

struct pool;
struct rec_gat;

// The two-layer model on node features x (n_nodes, n_features) and graph g (both borrowed:
// they must outlive the model). Parameters are initialised from p->seed (Glorot uniform).
int rec_gat_new(const float *x, size_t n_nodes, size_t n_features, const struct gat_graph *g,
                const struct rec_params *p, int n_threads, struct rec_gat **out,
                struct px_err *err);
void rec_gat_free(struct rec_gat *m);
// The flat parameter array (borrowed), *n floats.
float *rec_gat_params(struct rec_gat *m, size_t *n);
// BPR loss mean_t softplus(-(z_c·z_p - z_c·z_n)) over triples (n_triples, 3) of node indices
// (customer, positive product, negative product). With grad (n floats) the gradient of that
// loss is written (overwritten). train: dropout on (mask drawn from mask_seed). Returns the loss.
double rec_gat_loss(struct rec_gat *m, const uint32_t *triples, size_t n_triples, bool train,
                    uint64_t mask_seed, float *grad, struct pool *pool);

#endif
