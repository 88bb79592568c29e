// gat.c — graph attention layers: forward and backward (see gat.h for the equations).
//
// Layout: the graph is CSR by destination (a node's incoming edges are contiguous), plus an
// index of edge ids by source, so that every phase of both passes is a gather over one node's
// edges and threads split nodes by (ith, nth) with no atomics:
//
//   forward   A  rows of h = x·Wᵀ (gemm per row block), s_src, s_dst          split by node
//             B  per destination: logits, LeakyReLU, softmax, dropout mask m,  split by node
//                Σ α·m·h (+ bias)
//   backward  1  per destination: dα = m·dout·h_src, softmax and LeakyReLU    split by node
//                backward -> dz (E, K); ds_dst = Σ dz; dbias (per-thread partials)
//             2  per source: ds_src = Σ dz, dh = Σ α·m·dout_dst + ds_src·a_src + ds_dst·a_dst;
//                da_src, da_dst (per-thread partials)                          split by node
//             3  dW += dhᵀ·x (cblas_sgemm, split by output rows), dx = dh·W     split by rows
//
// The softmax subtracts each destination's largest logit; α of a node with no edges (possible
// only without self loops) is empty and its output is the bias. Attention dropout scales the
// normalised α (m = 0 or 1/(1-p), kept in the cache for the backward pass); the softmax's own
// gradient uses α before the mask. m of (edge, head) is one splitmix64 draw from seed and the
// edge's index, so no generator state is shared between threads.
#include "gat.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "gemm.h"
#include "limits.h"
#include "mem.h"
#include "pool.h"
#include "prng.h"

// ---- graph ----

int gat_graph_new(size_t n_nodes, size_t n, const uint32_t *dst, const uint32_t *src,
                  const float *bias, bool self_loops, struct gat_graph **out, struct px_err *err)
{
    *out = NULL;
    if (n_nodes == 0 || n_nodes > LIMIT_REC_NODES) {
        return px_fail(err, PX_ELIMIT, "graph of %zu nodes: must be 1..%u (LIMIT_REC_NODES)",
                       n_nodes, LIMIT_REC_NODES);
    }
    size_t n_edges = n + (self_loops ? n_nodes : 0);
    if (n_edges > LIMIT_REC_EDGES) {
        return px_fail(err, PX_ELIMIT, "graph of %zu edges: over %u (LIMIT_REC_EDGES)", n_edges,
                       LIMIT_REC_EDGES);
    }
    for (size_t k = 0; k < n; k++) {
        if (dst[k] >= n_nodes || src[k] >= n_nodes) {
            return px_fail(err, PX_EINVAL, "edge %zu: node %u -> %u outside 0..%zu", k, src[k],
                           dst[k], n_nodes - 1);
        }
        if (bias != NULL && !isfinite(bias[k])) {
            return px_fail(err, PX_EINVAL, "edge %zu: bias is not a finite number", k);
        }
    }
    struct gat_graph *g = px_calloc(1, sizeof *g);
    if (g == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory building a graph");
    }
    g->n_nodes = n_nodes;
    g->n_edges = n_edges;
    g->dst_ptr = px_calloc(n_nodes + 1, sizeof *g->dst_ptr);
    g->src_ptr = px_calloc(n_nodes + 1, sizeof *g->src_ptr);
    g->src = px_calloc(n_edges ? n_edges : 1, sizeof *g->src);
    g->dst = px_calloc(n_edges ? n_edges : 1, sizeof *g->dst);
    g->bias = px_calloc(n_edges ? n_edges : 1, sizeof *g->bias);
    g->src_edge = px_calloc(n_edges ? n_edges : 1, sizeof *g->src_edge);
    if (g->dst_ptr == NULL || g->src_ptr == NULL || g->src == NULL || g->dst == NULL ||
        g->bias == NULL || g->src_edge == NULL) {
        gat_graph_free(g);
        return px_fail(err, PX_ENOMEM, "out of memory building a graph of %zu edges", n_edges);
    }
    // counting sort by destination (stable: input order within a node, self loop last)
    for (size_t k = 0; k < n; k++) {
        g->dst_ptr[dst[k] + 1]++;
    }
    if (self_loops) {
        for (size_t i = 0; i < n_nodes; i++) {
            g->dst_ptr[i + 1]++;
        }
    }
    for (size_t i = 0; i < n_nodes; i++) {
        g->dst_ptr[i + 1] += g->dst_ptr[i];
    }
    // fill positions, reusing src_ptr as the per-node cursor
    for (size_t i = 0; i < n_nodes; i++) {
        g->src_ptr[i] = g->dst_ptr[i];
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t at = g->src_ptr[dst[k]]++;
        g->src[at] = src[k];
        g->dst[at] = dst[k];
        g->bias[at] = bias != NULL ? bias[k] : 0.0f;
    }
    if (self_loops) {
        for (size_t i = 0; i < n_nodes; i++) {
            uint32_t at = g->src_ptr[i]++;
            g->src[at] = (uint32_t)i;
            g->dst[at] = (uint32_t)i;
            g->bias[at] = 0.0f;
        }
    }
    // index of edges by source
    memset(g->src_ptr, 0, (n_nodes + 1) * sizeof *g->src_ptr);
    for (size_t e = 0; e < n_edges; e++) {
        g->src_ptr[g->src[e] + 1]++;
    }
    for (size_t i = 0; i < n_nodes; i++) {
        g->src_ptr[i + 1] += g->src_ptr[i];
    }
    uint32_t *cursor = px_calloc(n_nodes, sizeof *cursor);
    if (cursor == NULL) {
        gat_graph_free(g);
        return px_fail(err, PX_ENOMEM, "out of memory building a graph of %zu nodes", n_nodes);
    }
    memcpy(cursor, g->src_ptr, n_nodes * sizeof *cursor);
    for (size_t e = 0; e < n_edges; e++) {
        g->src_edge[cursor[g->src[e]]++] = (uint32_t)e;
    }
    px_free(cursor);
    *out = g;
    return PX_OK;
}

void gat_graph_free(struct gat_graph *g)
{
    if (g == NULL) {
        return;
    }
    px_free(g->dst_ptr);
    px_free(g->src_ptr);
    px_free(g->src);
    px_free(g->dst);
    px_free(g->bias);
    px_free(g->src_edge);
    px_free(g);
}

// ---- layer ----

int gat_shape_dim_out(const struct gat_shape *s)
{
    return s->concat ? s->n_heads * s->dim_head : s->dim_head;
}

size_t gat_shape_n_params(const struct gat_shape *s)
{
    size_t kd = (size_t)s->n_heads * (size_t)s->dim_head;
    return kd * (size_t)s->dim_in + 2 * kd + (size_t)gat_shape_dim_out(s);
}

void gat_layer_bind(struct gat_layer *l, const struct gat_shape *s, float *params)
{
    size_t kd = (size_t)s->n_heads * (size_t)s->dim_head;
    l->shape = *s;
    l->slope = 0.2f;
    l->w = params;
    l->a_src = l->w + kd * (size_t)s->dim_in;
    l->a_dst = l->a_src + kd;
    l->bias = l->a_dst + kd;
}

struct gat_cache {
    const struct gat_graph *g; // borrowed
    struct gat_shape shape;
    int n_threads;
    const float *x; // (N, F) borrowed from the last forward
    float *h;       // (N, K·D)
    float *s_src;   // (N, K)
    float *s_dst;   // (N, K)
    float *raw;     // (E, K) logits before LeakyReLU
    float *alpha;   // (E, K)
    float *mask;    // (E, K) attention dropout scale (0 or 1/(1-p)) when drop_p > 0
    float drop_p;   // attention dropout of the last forward (0: none)
    float *out;     // (N, dim_out)
    float *dz;      // (E, K) backward: dL/dlogit
    float *ds_src;  // (N, K)
    float *ds_dst;  // (N, K)
    float *dh;      // (N, K·D)
    float *part;    // (n_threads, 2·K·D + dim_out) per-thread partial gradients
};

int gat_cache_new(const struct gat_graph *g, const struct gat_shape *s, int n_threads,
                  struct gat_cache **out, struct px_err *err)
{
    *out = NULL;
    if (s->dim_in < 1 || s->dim_in > LIMIT_REC_FEATURES || s->n_heads < 1 ||
        s->n_heads > LIMIT_GAT_HEADS || s->dim_head < 1 || s->dim_head > LIMIT_GAT_WIDTH ||
        n_threads < 1 || n_threads > LIMIT_THREADS) {
        return px_fail(err, PX_EINVAL,
                       "GAT layer %d -> %d heads x %d (threads %d): outside the limits "
                       "(LIMIT_REC_FEATURES, LIMIT_GAT_HEADS, LIMIT_GAT_WIDTH)",
                       s->dim_in, s->n_heads, s->dim_head, n_threads);
    }
    gemm_init();
    size_t n = g->n_nodes, e = g->n_edges ? g->n_edges : 1, k = (size_t)s->n_heads;
    size_t kd = k * (size_t)s->dim_head, d_out = (size_t)gat_shape_dim_out(s);
    struct gat_cache *c = px_calloc(1, sizeof *c);
    if (c == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory for a GAT layer's activations");
    }
    c->g = g;
    c->shape = *s;
    c->n_threads = n_threads;
    c->h = px_malloc(n * kd * sizeof(float));
    c->s_src = px_malloc(n * k * sizeof(float));
    c->s_dst = px_malloc(n * k * sizeof(float));
    c->raw = px_malloc(e * k * sizeof(float));
    c->alpha = px_malloc(e * k * sizeof(float));
    c->mask = px_malloc(e * k * sizeof(float));
    c->out = px_malloc(n * d_out * sizeof(float));
    c->dz = px_malloc(e * k * sizeof(float));
    c->ds_src = px_malloc(n * k * sizeof(float));
    c->ds_dst = px_malloc(n * k * sizeof(float));
    c->dh = px_malloc(n * kd * sizeof(float));
    c->part = px_malloc((size_t)n_threads * (2 * kd + d_out) * sizeof(float));
    if (c->h == NULL || c->s_src == NULL || c->s_dst == NULL || c->raw == NULL ||
        c->alpha == NULL || c->mask == NULL || c->out == NULL || c->dz == NULL ||
        c->ds_src == NULL || c->ds_dst == NULL || c->dh == NULL || c->part == NULL) {
        gat_cache_free(c);
        return px_fail(err, PX_ENOMEM,
                       "out of memory for a GAT layer's activations (%zu nodes, "
                       "%zu edges)",
                       n, e);
    }
    *out = c;
    return PX_OK;
}

void gat_cache_free(struct gat_cache *c)
{
    if (c == NULL) {
        return;
    }
    px_free(c->h);
    px_free(c->s_src);
    px_free(c->s_dst);
    px_free(c->raw);
    px_free(c->alpha);
    px_free(c->mask);
    px_free(c->out);
    px_free(c->dz);
    px_free(c->ds_src);
    px_free(c->ds_dst);
    px_free(c->dh);
    px_free(c->part);
    px_free(c);
}

const float *gat_attention(const struct gat_cache *c)
{
    return c->alpha;
}

struct job {
    const struct gat_layer *l;
    struct gat_cache *c;
    uint64_t seed; // attention dropout (forward, when c->drop_p > 0)
    const float *dout;
    float *dw; // gradient of W, (K·D, F)
    float *dx; // (N, F) or NULL
    int nth;
};

static void run(struct pool *pool, pool_fn fn, struct job *j)
{
    if (pool == NULL) {
        struct pool_task t = {0, 1, NULL};
        j->nth = 1;
        fn(j, &t);
    } else {
        j->nth = pool_size(pool);
        pool_run(pool, fn, j);
    }
}

static void barrier(const struct pool_task *t)
{
    if (t->pool != NULL) {
        pool_barrier(t);
    }
}

static void forward_task(void *arg, const struct pool_task *t)
{
    struct job *j = arg;
    const struct gat_layer *l = j->l;
    struct gat_cache *c = j->c;
    const struct gat_graph *g = c->g;
    const size_t F = (size_t)l->shape.dim_in, K = (size_t)l->shape.n_heads;
    const size_t D = (size_t)l->shape.dim_head, KD = K * D;
    const size_t d_out = (size_t)gat_shape_dim_out(&l->shape);
    const bool drop = c->drop_p > 0;
    const double keep = 1.0 - (double)c->drop_p;
    const float scale_kept = drop ? (float)(1.0 / keep) : 1.0f;
    size_t b, e;
    // A: h = x·Wᵀ and the per-node attention halves
    pool_split(g->n_nodes, t->ith, t->nth, &b, &e);
    if (e > b) {
        gemm(e - b, KD, F, c->x + b * F, F, l->w, F, NULL, c->h + b * KD, KD);
    }
    for (size_t i = b; i < e; i++) {
        const float *hi = c->h + i * KD;
        for (size_t k = 0; k < K; k++) {
            float ss = 0, sd = 0;
            for (size_t d = 0; d < D; d++) {
                ss += hi[k * D + d] * l->a_src[k * D + d];
                sd += hi[k * D + d] * l->a_dst[k * D + d];
            }
            c->s_src[i * K + k] = ss;
            c->s_dst[i * K + k] = sd;
        }
    }
    barrier(t);
    // B: softmax over each destination's edges and the weighted sum
    for (size_t i = b; i < e; i++) {
        uint32_t e0 = g->dst_ptr[i], e1 = g->dst_ptr[i + 1];
        float *oi = c->out + i * d_out;
        memcpy(oi, l->bias, d_out * sizeof(float));
        for (size_t k = 0; k < K; k++) {
            float mx = -INFINITY;
            for (uint32_t q = e0; q < e1; q++) {
                float z = c->s_src[(size_t)g->src[q] * K + k] + c->s_dst[i * K + k] + g->bias[q];
                c->raw[(size_t)q * K + k] = z;
                float lz = z > 0 ? z : l->slope * z;
                c->alpha[(size_t)q * K + k] = lz;
                mx = lz > mx ? lz : mx;
            }
            double sum = 0;
            for (uint32_t q = e0; q < e1; q++) {
                float v = expf(c->alpha[(size_t)q * K + k] - mx);
                c->alpha[(size_t)q * K + k] = v;
                sum += v;
            }
            float inv = sum > 0 ? (float)(1.0 / sum) : 0.0f;
            float scale = l->shape.concat ? 1.0f : 1.0f / (float)K;
            float *dst = oi + (l->shape.concat ? k * D : 0);
            for (uint32_t q = e0; q < e1; q++) {
                const size_t qk = (size_t)q * K + k;
                float a = c->alpha[qk] * inv;
                c->alpha[qk] = a;
                float w = a * scale;
                if (drop) {
                    uint64_t st = j->seed ^ ((uint64_t)qk * 0xD1B54A32D192ED03ull);
                    float m = prng_unit(prng_splitmix64(&st)) < keep ? scale_kept : 0.0f;
                    c->mask[qk] = m;
                    if (m == 0.0f) {
                        continue;
                    }
                    w *= m;
                }
                const float *hs = c->h + (size_t)g->src[q] * KD + k * D;
                for (size_t d = 0; d < D; d++) {
                    dst[d] += w * hs[d];
                }
            }
        }
    }
}

void gat_forward(const struct gat_layer *l, struct gat_cache *c, const float *x,
                 const struct gat_dropout *drop, struct pool *pool, const float **out)
{
    struct job j = {.l = l, .c = c, .seed = drop != NULL ? drop->seed : 0};
    c->x = x;
    c->drop_p = drop != NULL && drop->p > 0 && drop->p < 1 ? drop->p : 0.0f;
    run(pool != NULL && pool_size(pool) <= c->n_threads ? pool : NULL, forward_task, &j);
    *out = c->out;
}

static void backward_task(void *arg, const struct pool_task *t)
{
    struct job *j = arg;
    const struct gat_layer *l = j->l;
    struct gat_cache *c = j->c;
    const struct gat_graph *g = c->g;
    const size_t F = (size_t)l->shape.dim_in, K = (size_t)l->shape.n_heads;
    const size_t D = (size_t)l->shape.dim_head, KD = K * D;
    const size_t d_out = (size_t)gat_shape_dim_out(&l->shape);
    const bool concat = l->shape.concat;
    const float scale = concat ? 1.0f : 1.0f / (float)K;
    const bool drop = c->drop_p > 0;
    float *part = c->part + (size_t)t->ith * (2 * KD + d_out); // da_src, da_dst, dbias
    memset(part, 0, (2 * KD + d_out) * sizeof(float));
    size_t b, e;
    pool_split(g->n_nodes, t->ith, t->nth, &b, &e);
    // 1: per destination
    for (size_t i = b; i < e; i++) {
        const float *di = j->dout + i * d_out;
        for (size_t o = 0; o < d_out; o++) {
            part[2 * KD + o] += di[o];
        }
        uint32_t e0 = g->dst_ptr[i], e1 = g->dst_ptr[i + 1];
        for (size_t k = 0; k < K; k++) {
            const float *dk = di + (concat ? k * D : 0);
            double dot_sum = 0;
            for (uint32_t q = e0; q < e1; q++) {
                const float *hs = c->h + (size_t)g->src[q] * KD + k * D;
                float da = 0;
                for (size_t d = 0; d < D; d++) {
                    da += dk[d] * hs[d];
                }
                da *= drop ? scale * c->mask[(size_t)q * K + k] : scale;
                c->dz[(size_t)q * K + k] = da; // dL/dα (through the mask) for now
                dot_sum += (double)c->alpha[(size_t)q * K + k] * da;
            }
            float sds = 0;
            for (uint32_t q = e0; q < e1; q++) {
                size_t qk = (size_t)q * K + k;
                float dl = c->alpha[qk] * (c->dz[qk] - (float)dot_sum);
                float dz = c->raw[qk] > 0 ? dl : l->slope * dl;
                c->dz[qk] = dz;
                sds += dz;
            }
            c->ds_dst[i * K + k] = sds;
        }
    }
    barrier(t);
    // 2: per source
    for (size_t jn = b; jn < e; jn++) {
        float *dh = c->dh + jn * KD;
        const float *hj = c->h + jn * KD;
        memset(dh, 0, KD * sizeof(float));
        for (size_t k = 0; k < K; k++) {
            float dss = 0;
            for (uint32_t p = g->src_ptr[jn]; p < g->src_ptr[jn + 1]; p++) {
                uint32_t q = g->src_edge[p];
                size_t qk = (size_t)q * K + k;
                dss += c->dz[qk];
                const float *dd = j->dout + (size_t)g->dst[q] * d_out + (concat ? k * D : 0);
                float w = c->alpha[qk] * (drop ? scale * c->mask[qk] : scale);
                for (size_t d = 0; d < D; d++) {
                    dh[k * D + d] += w * dd[d];
                }
            }
            c->ds_src[jn * K + k] = dss;
            float dsd = c->ds_dst[jn * K + k];
            for (size_t d = 0; d < D; d++) {
                dh[k * D + d] += dss * l->a_src[k * D + d] + dsd * l->a_dst[k * D + d];
                part[k * D + d] += dss * hj[k * D + d];
                part[KD + k * D + d] += dsd * hj[k * D + d];
            }
        }
    }
    barrier(t);
    // 3: dW += dhᵀ·x (rows of dW split), dx = dh·W (rows of dx split)
    size_t o0, o1;
    pool_split(KD, t->ith, t->nth, &o0, &o1);
    if (o1 > o0) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(o1 - o0), (int)F,
                    (int)g->n_nodes, 1.0f, c->dh + o0, (int)KD, c->x, (int)F, 1.0f, j->dw + o0 * F,
                    (int)F);
    }
    if (j->dx != NULL && e > b) {
        gemm_nn(e - b, F, KD, c->dh + b * KD, KD, l->w, F, 0.0f, j->dx + b * F, F);
    }
}

void gat_backward(const struct gat_layer *l, struct gat_cache *c, const float *dout,
                  struct gat_layer *grad, float *dx, struct pool *pool)
{
    const size_t KD = (size_t)l->shape.n_heads * (size_t)l->shape.dim_head;
    const size_t d_out = (size_t)gat_shape_dim_out(&l->shape);
    struct job j = {.l = l, .c = c, .dout = dout, .dw = grad->w, .dx = dx};
    run(pool != NULL && pool_size(pool) <= c->n_threads ? pool : NULL, backward_task, &j);
    for (int t = 0; t < j.nth; t++) {
        const float *part = c->part + (size_t)t * (2 * KD + d_out);
        for (size_t q = 0; q < KD; q++) {
            grad->a_src[q] += part[q];
            grad->a_dst[q] += part[KD + q];
        }
        for (size_t o = 0; o < d_out; o++) {
            grad->bias[o] += part[2 * KD + o];
        }
    }
}
