// fuse.h — merges ranked lists (dense cosine, BM25, ...) into one ranking with reciprocal rank
// fusion, then adds boosts.
//
//   score(id) = sum over lists L containing id of  weight_L / (k_rrf + rank_L(id))  + boost(id)
//
// rank is 1-based; k_rrf = 60 as in Cormack, Clarke & Büttcher, "Reciprocal Rank Fusion
// outperforms Condorcet and individual Rank Learning Methods" (SIGIR 2009). RRF needs no score
// calibration between cosine and BM25, which live on unrelated scales. Boosts (soft query terms)
// are additive and only re-rank ids that some list contains; an id repeated within one list
// counts at its best rank. Ties are broken by lower id, so the output is deterministic.
//
// With boosts_first (the engine's order) the boosts are not added but lead: ids sort by their
// boost sum, then by the RRF sum, then by lower id, so a row meeting more (or more strongly)
// the soft terms always ranks first and the lists decide among equal boosts. A list of weight 0
// adds nothing to the sum but makes its ids rankable (the engine's "rows the boosts pick").
#ifndef PX_FUSE_H
#define PX_FUSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct fuse_list {
    const uint32_t *ids; // (n,) best first; borrowed for the call
    size_t n;
    float weight;        // >= 0; 1 for plain RRF
};

struct fuse_boost {
    uint32_t id;
    float boost; // added to the fused score; boosts of the same id add up
};

struct fuse_hit {
    uint32_t id;
    float score; // RRF sum + boost sum
    float boost; // the boost sum alone
};

struct fuse_params {
    float k_rrf;      // rank offset; default 60
    int boosts_first; // nonzero: order by boost sum, then RRF sum, then id; default 0 (added)
};

struct fuse_params fuse_default_params(void);

// Fuses n_lists (<= LIMIT_FUSE_LISTS) lists and n_boosts boosts; writes the best min(k, distinct
// ids) into out (k entries), best first, and their count into *n_out. params NULL = defaults.
// PX_EINVAL for a negative or non-finite weight, a non-finite boost (negative ones are
// penalties) or a k_rrf <= 0; PX_ELIMIT past the limits.
int fuse_rrf(const struct fuse_list *lists, size_t n_lists, const struct fuse_boost *boosts,
             size_t n_boosts, const struct fuse_params *params, size_t k, struct fuse_hit *out,
             size_t *n_out, struct px_err *err);

#endif
