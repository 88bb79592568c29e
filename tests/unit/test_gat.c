// test_gat.c — graph attention layers: gradients of every parameter and of the input agree with
// central finite differences (concatenated and averaged heads, with edge biases, and with an
// attention dropout mask held fixed by its seed), threaded runs match one thread (with and
// without dropout), attention rows sum to one, attention dropout is seeded, changes the output
// and leaves its mean over masks where no dropout puts it, and bad graphs are refused.
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
    float *x;                // (N, F)
    float *r;                // (N, dim_out): loss = Σ out·r
    struct gat_dropout drop; // attention dropout of every forward (p = 0: none)
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
    f->drop = (struct gat_dropout){0.0f, 0};
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
    gat_forward(&f->layer, f->cache, x, &f->drop, NULL, &out);
    double l = 0;
    size_t d_out = (size_t)gat_shape_dim_out(&f->shape);
    for (size_t q = 0; q < f->n * d_out; q++) {
        l += (double)out[q] * f->r[q];
    }
    return l;
}

// With p > 0 every forward draws the same mask (same seed), so the loss is a smooth function of
// the parameters again and finite differences apply.
static void check_grad(bool concat, float drop_p)
{
    struct fixture f;
    setup(&f, concat, concat ? 7u : 11u);
    f.drop = (struct gat_dropout){drop_p, 99};
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
    print_message("concat %d, attention dropout %.1f: %zu params + %zu inputs, largest relative "
                  "difference %.2e\n",
                  concat, (double)drop_p, f.n_params, f.n * 5, worst);
    free(grad);
    free(dx);
    teardown(&f);
}

static void test_grad_concat(void **state)
{
    (void)state;
    check_grad(true, 0.0f);
}

static void test_grad_mean(void **state)
{
    (void)state;
    check_grad(false, 0.0f);
}

static void test_grad_dropout(void **state)
{
    (void)state;
    check_grad(true, 0.4f);
    check_grad(false, 0.4f);
}

// Output of one forward into a copy (owned).
static float *forward_copy(struct fixture *f, const struct gat_dropout *drop)
{
    size_t n = f->n * (size_t)gat_shape_dim_out(&f->shape);
    const float *out;
    gat_forward(&f->layer, f->cache, f->x, drop, NULL, &out);
    float *copy = malloc(n * sizeof(float));
    assert_non_null(copy);
    memcpy(copy, out, n * sizeof(float));
    return copy;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t q = 0; q < n; q++) {
        m = fmax(m, fabs((double)a[q] - b[q]));
    }
    return m;
}

static void test_dropout_mask(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, true, 13u);
    const size_t n = f.n * (size_t)gat_shape_dim_out(&f.shape);
    float *plain = forward_copy(&f, NULL);
    const struct gat_dropout off = {0.0f, 5}, a = {0.4f, 5}, b = {0.4f, 6};
    float *zero = forward_copy(&f, &off);
    float *da = forward_copy(&f, &a), *da2 = forward_copy(&f, &a), *db = forward_copy(&f, &b);
    assert_true(max_abs_diff(plain, zero, n) == 0); // p = 0 is no dropout
    assert_true(max_abs_diff(da, da2, n) == 0);     // a seed is one mask
    assert_true(max_abs_diff(da, plain, n) > 1e-3); // dropout changes the output
    assert_true(max_abs_diff(da, db, n) > 1e-3);    // another seed, another mask
    // the attention itself is reported before the mask: rows still sum to one
    const float *alpha = gat_attention(f.cache);
    for (size_t i = 0; i < f.n; i++) {
        for (uint32_t k = 0; k < 3; k++) {
            double sum = 0;
            for (uint32_t q = f.g->dst_ptr[i]; q < f.g->dst_ptr[i + 1]; q++) {
                sum += alpha[q * 3 + k];
            }
            assert_true(fabs(sum - 1.0) < 1e-5);
        }
    }
    // inverted dropout: averaged over masks the output is the plain one (about 1/3 of each
    // destination's terms dropped per mask; 20,000 masks put the mean within ~0.02 of it)
    enum { MASKS = 20000 };
    double *mean = calloc(n, sizeof(double));
    for (uint64_t s = 0; s < MASKS; s++) {
        const struct gat_dropout d = {0.4f, 1000 + s};
        const float *out;
        gat_forward(&f.layer, f.cache, f.x, &d, NULL, &out);
        for (size_t q = 0; q < n; q++) {
            mean[q] += out[q];
        }
    }
    double worst = 0, dropped = 0;
    for (size_t q = 0; q < n; q++) {
        worst = fmax(worst, fabs(mean[q] / MASKS - plain[q]) / fmax(1.0, fabs(plain[q])));
        dropped = fmax(dropped, fabs((double)da[q] - plain[q]) / fmax(1.0, fabs(plain[q])));
    }
    print_message("mean of %d masks vs no dropout: %.2e (one mask: %.2e)\n", MASKS, worst, dropped);
    assert_true(worst < 0.03);
    assert_true(dropped > 10 * worst);
    free(mean);
    free(plain);
    free(zero);
    free(da);
    free(da2);
    free(db);
    teardown(&f);
}

static void threads_match(float drop_p)
{
    struct fixture f;
    setup(&f, true, 5u);
    f.drop = (struct gat_dropout){drop_p, 17};
    size_t d_out = (size_t)gat_shape_dim_out(&f.shape);
    float *ref = calloc(f.n * d_out, sizeof(float));
    float *g1 = calloc(f.n_params, sizeof(float)), *g3 = calloc(f.n_params, sizeof(float));
    float *dx1 = calloc(f.n * 5, sizeof(float)), *dx3 = calloc(f.n * 5, sizeof(float));
    struct gat_layer l1, l3;
    gat_layer_bind(&l1, &f.shape, g1);
    gat_layer_bind(&l3, &f.shape, g3);
    const float *out;
    gat_forward(&f.layer, f.cache, f.x, &f.drop, NULL, &out);
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
    gat_forward(&f.layer, f.cache, f.x, &f.drop, pool, &out);
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

static void test_threads_match(void **state)
{
    (void)state;
    threads_match(0.0f);
    threads_match(0.5f);
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
        cmocka_unit_test(test_grad_concat),   cmocka_unit_test(test_grad_mean),
        cmocka_unit_test(test_grad_dropout),  cmocka_unit_test(test_dropout_mask),
        cmocka_unit_test(test_threads_match), cmocka_unit_test(test_bad_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
