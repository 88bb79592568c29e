// gat.h — graph attention layers (Veličković et al., "Graph Attention Networks", ICLR 2018):
// forward and backward passes over a graph held in CSR form, for training on the CPU.
//
// One layer with K heads of width D on node features x: (N, F):
//   h      = x · Wᵀ                                   (N, K·D)   W: (K·D, F)
//   z[e,k] = s_src[src(e),k] + s_dst[dst(e),k] + b_e  s_src = h_k · a_src[k], s_dst likewise;
//                                                     b_e a fixed per-edge bias (log weight)
//   α[e,k] = softmax over the edges into dst(e) of LeakyReLU(z[e,k])
//   out[i] = concat_k Σ_e α[e,k] h[src(e),k]  (+ bias)    (N, K·D), or the mean over heads
//                                                     (N, D) when concat is false
// No activation inside: the caller applies ELU (and feature dropout) between layers. Attention
// dropout (the paper's dropout on the normalised coefficients, training only) is the layer's:
//   α'[e,k] = α[e,k]·m[e,k]/(1-p), m[e,k] ~ Bernoulli(1-p)     out[i] = Σ_e α'[e,k] h[src(e),k]
//
// Threads: a call runs on the caller's pool (NULL: this thread alone); threads split nodes by
// (ith, nth) and meet at barriers between phases; no locks. GEMMs go through gemm() / BLAS per
// row block. A struct gat_graph is immutable once built and may be shared; a struct gat_cache
// holds one layer's activations for one graph and is used by one call at a time.
#ifndef PX_GAT_H
#define PX_GAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct pool;

// ---- graph ----
struct gat_graph {
    size_t n_nodes, n_edges;
    uint32_t *dst_ptr;  // (n_nodes + 1): the edges into node i are [dst_ptr[i], dst_ptr[i+1])
    uint32_t *src;      // (n_edges): source node of each edge, edges grouped by destination
    uint32_t *dst;      // (n_edges): its destination (the CSR row, kept for the backward pass)
    float *bias;        // (n_edges): added to the attention logit (0 when none was given)
    uint32_t *src_ptr;  // (n_nodes + 1): edges out of node j are src_edge[src_ptr[j] ..)
    uint32_t *src_edge; // (n_edges): edge ids grouped by source
};

// Builds the graph from n directed edges src[k] -> dst[k] (bias (n) or NULL), adding a self
// loop (bias 0) to every node when self_loops. Returns owned *out (gat_graph_free). PX_EINVAL
// names an edge whose node is out of range; PX_ELIMIT past LIMIT_REC_EDGES.
int gat_graph_new(size_t n_nodes, size_t n, const uint32_t *dst, const uint32_t *src,
                  const float *bias, bool self_loops, struct gat_graph **out, struct px_err *err);
void gat_graph_free(struct gat_graph *g);

// ---- layer ----
struct gat_shape {
    int dim_in;   // F
    int n_heads;  // K
    int dim_head; // D
    bool concat;  // output K·D (concatenated heads) or D (mean of heads)
};

// Output width of a layer: K·D or D.
int gat_shape_dim_out(const struct gat_shape *s);
// Parameters of a layer: K·D·F (W) + 2·K·D (a_src, a_dst) + dim_out (bias).
size_t gat_shape_n_params(const struct gat_shape *s);

// A layer's parameters (or their gradients), pointers into a caller's flat array.
struct gat_layer {
    struct gat_shape shape;
    float slope;  // LeakyReLU negative slope (0.2, as the paper)
    float *w;     // (K·D, F) borrowed
    float *a_src; // (K, D) borrowed
    float *a_dst; // (K, D) borrowed
    float *bias;  // (dim_out) borrowed
};

// Points l's tensors into params (gat_shape_n_params floats, borrowed) in the order above.
void gat_layer_bind(struct gat_layer *l, const struct gat_shape *s, float *params);

// One layer's activations on one graph (forward) and its backward scratch.
struct gat_cache;
// Sized for g (borrowed: must outlive the cache) and s; n_threads is the most threads a call
// will run with (partial sums per thread; a larger pool runs the call on one thread). Returns owned
// *out (gat_cache_free).
int gat_cache_new(const struct gat_graph *g, const struct gat_shape *s, int n_threads,
                  struct gat_cache **out, struct px_err *err);
void gat_cache_free(struct gat_cache *c);

// Attention dropout for one forward pass: p in [0, 1) (0: none). Whether (edge e, head k) is kept
// depends only on (seed, e, k), so a seed gives the same mask on any number of threads, and
// gat_backward differentiates through the mask of the forward before it.
struct gat_dropout {
    float p;
    uint64_t seed;
};

// x: (N, F) borrowed until gat_backward; drop NULL (or p = 0) for none, as in evaluation; *out
// returns (N, dim_out), borrowed from the cache.
void gat_forward(const struct gat_layer *l, struct gat_cache *c, const float *x,
                 const struct gat_dropout *drop, struct pool *pool, const float **out);
// Attention of the last forward before dropout (each destination's row sums to 1): (n_edges, K),
// borrowed.
const float *gat_attention(const struct gat_cache *c);
// dout: (N, dim_out). Adds the parameter gradients into grad (bound to a gradient array of the
// same shape) and, when dx is not NULL, writes dL/dx (N, F) into it (overwritten).
void gat_backward(const struct gat_layer *l, struct gat_cache *c, const float *dout,
                  struct gat_layer *grad, float *dx, struct pool *pool);

#endif
