// propensity_int.h — what propensity.c shares with the model cache (propcache.c) only; front
// ends use app.h.
#ifndef PX_APP_PROPENSITY_INT_H
#define PX_APP_PROPENSITY_INT_H

#include <pthread.h>

#include "app_prop.h"

// Embeds the profile texts of ds's rows (app_prop_profile_texts) with the sentence-transformer
// of p->model_flag into *vec (ds->n_rows, *dim; returns owned, px_free); dir (n_dir bytes)
// receives the model directory. On missing weights returns that status with err saying why.
int app_prop_text_vectors(const struct propmodel_model *m, const char *csv,
                          const struct ml_dataset *ds, const struct app_look_params *p, float **vec,
                          size_t *dim, char *dir, size_t n_dir, struct px_err *err);

// Appends to out what the profile text of a row depends on in the spec: the profile columns
// (name and type, in order) that app_prop_profile_texts renders.
int app_prop_profile_key(const struct ml_spec *s, struct buf *out, struct px_err *err);

// Supplies the profile-text vectors of ds's rows instead of app_prop_text_vectors: *vec is
// borrowed and must stay valid until the look-alike call returns. Same failure contract.
typedef int (*app_look_vectors_fn)(void *user, const struct propmodel_model *m, const char *csv,
                                   const struct ml_dataset *ds, const struct app_look_params *p,
                                   const float **vec, size_t *dim, char *dir, size_t n_dir,
                                   struct px_err *err);

// app_prop_lookalike with the vectors from vectors(user, ...) when not NULL, and model_lock
// (may be NULL) held around every use of m->model.
int app_prop_lookalike_with(const struct propmodel_model *m, const char *csv,
                            const struct ml_dataset *ds, const struct ml_explanation *e,
                            const struct app_look_params *p, app_look_vectors_fn vectors,
                            void *user, pthread_mutex_t *model_lock, struct app_look *out,
                            struct px_err *err);

#endif
