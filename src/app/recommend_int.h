// recommend_int.h — what the recommender's app files share and app_rec.h does not show: the
// served recommender's fields (app/recommend.c opens it, app/graph.c draws from it) and the one
// loader of saved models (app/segfit.c clusters a model's customer embeddings).
#ifndef PX_APP_RECOMMEND_INT_H
#define PX_APP_RECOMMEND_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "app_rec.h"
#include "recommender.h"

struct app_rec {
    bool has_model, has_data;
    struct rec_model m;
    char model_name[LIMIT_BUNDLE_NAME_BYTES + 16]; // "NAME/VERSION"
    struct rec_data d;
    uint32_t *c_ptr, *c_edge; // edges of each customer (CSR, n_customers + 1)
    uint32_t *p_ptr, *p_edge; // edges of each product
    uint32_t *by_volume;      // customers, largest transaction volume first
    uint32_t *by_id;          // customers sorted by id
    double *volume;           // (n_customers) total amount (transactions when no amounts)
};

// Loads a saved recommender (app_rec_params.ref's forms) from registry (NULL: the default). The
// one place the storage (kinds/recmodel) is read. Returns owned *m (rec_model_free); *version
// (may be NULL) the version loaded; *name (may be NULL, n bytes) "NAME/VERSION".
int app_rec_load(const char *registry, const char *ref, struct rec_model *m, int *version,
                 char *name, size_t n, struct px_err *err);

// The wholesale book's index of customer id, or -1.
long app_rec_data_customer(const struct app_rec *r, const char *id);

#endif
