// test_gat.c — graph attention layers: gradients of every parameter and of the input agree with
// central finite differences (concatenated and averaged heads, with edge biases), threaded runs
// match one thread, attention rows sum to one, and bad graphs are refused.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "err.h"
#include "gat.h"
#include "mem.h"
#include "pool.h"

static double frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xFFFF) / 65536.0 * 2.0 - 1.0;
}

struct fixture {
    struct gat_graph *g;
    struct gat_shape shape;
    struct gat_layer layer;
    struct gat_cache *cache;
    float *params;
    float *x; // (N, F)
    float *r; // (N, dim_out): loss = Σ out·r
    size_t n_params, n;
};

static void setup(struct fixture *f, bool concat, unsigned seed)
{
    enum { N = 9, E = 20 };
    uint32_t dst[E], src[E];
    float bias[E];
    unsigned s = seed;
    for (int k = 0; k < E; k++) {
        dst[k] = (uint32_t)((frand(&s) + 1.0) * 0.5 * N) % N;
        src[k] = (uint32_t)((frand(&s) + 1.0) * 0.5 * N) % N;
        bias[k] = (float)(0.5 * frand(&s));
    }
    struct px_err err = {0};
    assert_int_equal(gat_graph_new(N, E, dst, src, bias, true, &f->g, &err), PX_OK);
    f->shape = (struct gat_shape){.dim_in = 5, .n_heads = 3, .dim_head = 4, .concat = concat};
    f->n_params = gat_shape_n_params(&f->shape);
    f->params = calloc(f->n_params, sizeof(float));
    for (size_t p = 0; p < f->n_params; p++) {
        f->params[p] = (float)(0.7 * frand(&s));
    }
    gat_layer_bind(&f->layer, &f->shape, f->params);
    f->n = N;
    f->x = calloc(N * 5, sizeof(float));
    for (size_t q = 0; q < N * 5; q++) {
        f->x[q] = (float)frand(&s);
    }
    size_t d_out = (size_t)gat_shape_dim_out(&f->shape);
    f->r = calloc(N * d_out, sizeof(float));
    for (size_t q = 0; q < N * d_out; q++) {
        f->r[q] = (float)frand(&s);
    }
    assert_int_equal(gat_cache_new(f->g, &f->shape, 4, &f->cache, &err), PX_OK);
}

static void teardown(struct fixture *f)
{
    gat_cache_free(f->cache);
    gat_graph_free(f->g);
    free(f->params);
    free(f->x);
    free(f->r);
}

static double loss(struct fixture *f, const float *x)
{
    const float *out;
    gat_forward(&f->layer, f->cache, x, NULL, &out);
    double l = 0;
    size_t d_out = (size_t)gat_shape_dim_out(&f->shape);
    for (size_t q = 0; q < f->n * d_out; q++) {
        l += (double)out[q] * f->r[q];
    }
    return l;
}

static void check_grad(bool concat)
{
    struct fixture f;
    setup(&f, concat, concat ? 7u : 11u);
    float *grad = calloc(f.n_params, sizeof(float));
    float *dx = calloc(f.n * 5, sizeof(float));
    struct gat_layer gl;
    gat_layer_bind(&gl, &f.shape, grad);
    loss(&f, f.x);
    gat_backward(&f.layer, f.cache, f.r, &gl, dx, NULL);
    const float eps = 3e-3f;
    double worst = 0;
    for (size_t p = 0; p < f.n_params; p++) {
        float keep = f.params[p];
        f.params[p] = keep + eps;
        double lp = loss(&f, f.x);
        f.params[p] = keep - eps;
        double lm = loss(&f, f.x);
        f.params[p] = keep;
        double num = (lp - lm) / (2.0 * eps);
        double diff = fabs(num - grad[p]) / fmax(1.0, fabs(num));
        worst = fmax(worst, diff);
        if (diff > 2e-3) {
            fail_msg("param %zu: analytic %g, numeric %g", p, (double)grad[p], num);
        }
    }
    for (size_t q = 0; q < f.n * 5; q++) {
        float keep = f.x[q];
        f.x[q] = keep + eps;
        double lp = loss(&f, f.x);
        f.x[q] = keep - eps;
        double lm = loss(&f, f.x);
        f.x[q] = keep;
        double num = (lp - lm) / (2.0 * eps);
        double diff = fabs(num - dx[q]) / fmax(1.0, fabs(num));
        worst = fmax(worst, diff);
        if (diff > 2e-3) {
            fail_msg("x[%zu]: analytic %g, numeric %g", q, (double)dx[q], num);
        }
    }
    print_message("concat %d: %zu params + %zu inputs, largest relative difference %.2e\n", concat,
                  f.n_params, f.n * 5, worst);
    free(grad);
    free(dx);
    teardown(&f);
}

static void test_grad_concat(void **state)
{
    (void)state;
    check_grad(true);
}

static void test_grad_mean(void **state)
{
    (void)state;
    check_grad(false);
}

static void test_threads_match(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, true, 5u);
    size_t d_out = (size_t)gat_shape_dim_out(&f.shape);
    float *ref = calloc(f.n * d_out, sizeof(float));
    float *g1 = calloc(f.n_params, sizeof(float)), *g3 = calloc(f.n_params, sizeof(float));
    float *dx1 = calloc(f.n * 5, sizeof(float)), *dx3 = calloc(f.n * 5, sizeof(float));
    struct gat_layer l1, l3;
    gat_layer_bind(&l1, &f.shape, g1);
    gat_layer_bind(&l3, &f.shape, g3);
    const float *out;
    gat_forward(&f.layer, f.cache, f.x, NULL, &out);
    memcpy(ref, out, f.n * d_out * sizeof(float));
    // attention over each destination's edges sums to one
    const float *alpha = gat_attention(f.cache);
    for (size_t i = 0; i < f.n; i++) {
        for (int k = 0; k < 3; k++) {
            double sum = 0;
            for (uint32_t q = f.g->dst_ptr[i]; q < f.g->dst_ptr[i + 1]; q++) {
                sum += alpha[q * 3 + (uint32_t)k];
            }
            assert_true(fabs(sum - 1.0) < 1e-5);
        }
    }
    gat_backward(&f.layer, f.cache, f.r, &l1, dx1, NULL);
    struct pool *pool = NULL;
    struct px_err err = {0};
    assert_int_equal(pool_new(3, &pool, &err), PX_OK);
    gat_forward(&f.layer, f.cache, f.x, pool, &out);
    for (size_t q = 0; q < f.n * d_out; q++) {
        assert_true(fabsf(out[q] - ref[q]) < 1e-5f);
    }
    gat_backward(&f.layer, f.cache, f.r, &l3, dx3, pool);
    for (size_t p = 0; p < f.n_params; p++) {
        assert_true(fabsf(g1[p] - g3[p]) < 1e-4f * fmaxf(1.0f, fabsf(g1[p])));
    }
    for (size_t q = 0; q < f.n * 5; q++) {
        assert_true(fabsf(dx1[q] - dx3[q]) < 1e-5f);
    }
    pool_free(pool);
    free(ref);
    free(g1);
    free(g3);
    free(dx1);
    free(dx3);
    teardown(&f);
}

static void test_bad_graph(void **state)
{
    (void)state;
    uint32_t dst[2] = {0, 5}, src[2] = {1, 1};
    float bias[2] = {0, NAN};
    struct gat_graph *g = NULL;
    struct px_err err = {0};
    assert_int_equal(gat_graph_new(3, 2, dst, src, NULL, true, &g, &err), PX_EINVAL);
    assert_non_null(strstr(err.msg, "edge 1"));
    dst[1] = 2;
    assert_int_equal(gat_graph_new(3, 2, dst, src, bias, true, &g, &err), PX_EINVAL);
    assert_null(g);
    assert_int_equal(gat_graph_new(3, 2, dst, src, NULL, false, &g, &err), PX_OK);
    assert_int_equal(g->n_edges, 2);
    assert_int_equal(g->dst_ptr[3], 2);
    gat_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_concat),
        cmocka_unit_test(test_grad_mean),
        cmocka_unit_test(test_threads_match),
        cmocka_unit_test(test_bad_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
