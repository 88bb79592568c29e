// bench_embed.c — encoder speed against the machine's own sgemm, as the issue asks.
//
// Runs the MiniLM-L6 encoder (by default the random-weight "twin" in ../shared/models, which has
// the exact MiniLM-L6 shapes and cost) on
//   - 1,000 generated customer-profile texts of about 48 tokens (embed_texts, batched), and
//   - one 15-token query embedded alone (latency),
// with 1 and 2 threads, and prints sentences/s, tokens/s and achieved GFLOP/s. GFLOP/s counts
// the linear layers only: per token and layer 2 * (1152*384 + 384*384 + 1536*384 + 384*1536)
// = 3.54 MFLOP, times 6 layers = 21.2 MFLOP; attention, GELU and LayerNorm are not counted, so
// the figure is what the encoder achieves on the work a BLAS roof can be drawn for.
//
// The roof: the same four GEMM shapes per layer (fused QKV M x 1152 x 384, attention output
// M x 384 x 384, intermediate M x 1536 x 384, output M x 384 x 1536; six layers with distinct
// weights) run through gemm() — cblas_sgemm with one OpenBLAS thread — with M = the tokens of
// one batch, on a prospect pool split exactly as nn/bert.c splits them (rows for batches,
// output columns for a single query, a barrier after each GEMM). The ratio encoder / sgemm is
// the share of the machine's sgemm speed the whole encoder keeps. For a single query the
// encoder does not use OpenBLAS on AVX-512 machines but its packed-panel kernel (nn/gemm.h),
// timed here too.
//
// It also prints which OpenBLAS core was chosen (by OpenBLAS, and after gemm_init's
// correction), compares the cores the CPU can run (gemm_select_blas_core), and times the
// non-GEMM parts of one batch and of one query standalone (attention, GELU, LayerNorm, bias
// copies, pool barriers) to show where the rest of the time goes.
//
// Usage: bench_embed [--model DIR] [--batch N] [--sweep] [--no-cores] [--quick]
// A benchmark, not a test: it prints figures and exits 0 unless something failed to load.
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"
#include "embedder.h"
#include "err.h"
#include "gemm.h"
#include "kern.h"
#include "pool.h"
#include "tokenizer.h"

#define N_TEXTS 1000
#define TEXT_CAP 320
#define MFLOP_PER_TOKEN 21.2 // MiniLM-L6 linear layers, see the top comment
#define N_LAYERS 6
#define HID 384
#define INTER 1536
#define N_HEADS 12
#define QUERY_REPS 200
// Texts per forward pass. The sweep (--sweep) on a 2-core Xeon found 16..128 within noise of
// one another (the GEMMs are at full speed from M of a few hundred rows); 32 is the library's
// default, and the bench measures what callers get.
#define DEFAULT_BATCH 32

static const char *const QUERY = "high-income professionals nearing retirement interested in "
                                 "wealth management and estate planning";

// ---- small helpers ----

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// q-quantile (0..1) of n sorted values.
static double quantile(const double *sorted, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint32_t rng_next(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

static uint32_t rng_below(uint32_t n)
{
    return rng_next() % n;
}

static float rng_unit(void)
{
    return (float)rng_next() / 2097152.0f / 1024.0f - 1.0f;
}

#define PICK(arr) (arr[rng_below((uint32_t)(sizeof arr / sizeof arr[0]))])

// ---- the texts ----

static const char *const OCCUPATIONS[] = {"Surgeon",
                                          "Teacher",
                                          "Software engineer",
                                          "Nurse",
                                          "Accountant",
                                          "Lawyer",
                                          "Architect",
                                          "Pharmacist",
                                          "Electrician",
                                          "Pilot",
                                          "Dentist",
                                          "Sales manager",
                                          "Chef",
                                          "Farmer",
                                          "Consultant",
                                          "Professor",
                                          "Plumber",
                                          "Marketing director",
                                          "Data analyst",
                                          "Retired",
                                          "Student",
                                          "Small business owner",
                                          "Police officer",
                                          "Graphic designer",
                                          "Veterinarian"};
static const char *const SEGMENTS[] = {"Private",       "Retail",  "Affluent",
                                       "Mass market",   "Premier", "Young professional",
                                       "Small business"};
static const char *const CITIES[] = {
    "Denver",  "Boston",         "Chicago",  "Seattle",     "Austin",      "Miami",      "Portland",
    "Atlanta", "San Diego",      "Phoenix",  "Minneapolis", "Nashville",   "Pittsburgh", "Raleigh",
    "Tampa",   "Salt Lake City", "Columbus", "Sacramento",  "Kansas City", "New Orleans"};
static const char *const INTERESTS[] = {
    "retirement planning", "wealth management", "mortgages",    "travel rewards",
    "index funds",         "college savings",   "real estate",  "sustainable investing",
    "tax planning",        "insurance",         "credit cards", "small business loans",
    "estate planning",     "cryptocurrency",    "car loans"};

// Writes profile i into out (TEXT_CAP bytes); returns its length.
static size_t make_profile(int i, char *out)
{
    int age = 19 + (int)rng_below(66);
    int income = 18 + (int)rng_below(480);
    int score = 520 + (int)rng_below(330);
    const char *i1 = PICK(INTERESTS), *i2 = PICK(INTERESTS);
    if (i1 == i2) {
        i2 = INTERESTS[0] == i1 ? INTERESTS[1] : INTERESTS[0];
    }
    int n = snprintf(
        out, TEXT_CAP,
        "Customer ID: %06d, Age: %d, Occupation: %s, Income: $%d,000, Credit score: %d, "
        "Segment: %s, City: %s, Interests: %s, %s.",
        i + 1, age, PICK(OCCUPATIONS), income, score, PICK(SEGMENTS), PICK(CITIES), i1, i2);
    return n < 0 ? 0 : (size_t)n;
}

static size_t count_tokens(const struct tokenizer *tok, const char *text, size_t len)
{
    int32_t ids[512];
    struct tokenizer_result res;
    struct px_err err;
    if (tokenizer_encode(tok, text, len, TOKENIZER_UTF8_STRICT, ids, 512, &res, &err) != PX_OK) {
        fprintf(stderr, "bench_embed: tokenizer: %s\n", err.msg);
        exit(1);
    }
    return res.n_ids;
}

// ---- encoder runs ----

struct corpus {
    const char *const *texts;
    const size_t *lens;
    size_t n;
};

struct run_result {
    double seconds; // best of the repeats
    size_t tokens;  // tokens encoded per run
    size_t texts;
};

static void enc_ctx_or_die(const struct embedder *e, int threads, int batch, struct embed_ctx **c)
{
    struct embed_ctx_params p = embed_ctx_default_params();
    p.n_threads = threads;
    p.batch_size = batch;
    struct px_err err;
    if (embed_ctx_new(e, &p, c, &err) != PX_OK) {
        fprintf(stderr, "bench_embed: embed_ctx_new: %s\n", err.msg);
        exit(1);
    }
}

static void embed_or_die(struct embed_ctx *c, const struct corpus *cp, size_t n, float *out,
                         struct embed_stats *st)
{
    struct px_err err;
    if (embed_texts(c, cp->texts, cp->lens, n, out, NULL, NULL, st, &err) != PX_OK) {
        fprintf(stderr, "bench_embed: embed_texts: %s\n", err.msg);
        exit(1);
    }
}

// Embeds the first n texts reps times after one warm-up batch; keeps the best time.
static struct run_result bench_batches(const struct embedder *e, const struct corpus *cp, size_t n,
                                       int threads, int batch, int reps, float *out)
{
    struct embed_ctx *c = NULL;
    struct embed_stats st;
    struct run_result r = {1e30, 0, n};
    enc_ctx_or_die(e, threads, batch, &c);
    embed_or_die(c, cp, n < (size_t)batch * 2 ? n : (size_t)batch * 2, out, &st);
    for (int k = 0; k < reps; k++) {
        double t0 = now_s();
        embed_or_die(c, cp, n, out, &st);
        double dt = now_s() - t0;
        if (dt < r.seconds) {
            r.seconds = dt;
        }
        r.tokens = st.n_tokens;
    }
    embed_ctx_free(c);
    return r;
}

static double gflops(size_t tokens, double seconds)
{
    return (double)tokens * MFLOP_PER_TOKEN * 1e6 / seconds / 1e9;
}

// Latency of embedding the query alone: median and p90 in ms over reps calls.
static void bench_query(const struct embedder *e, const char *q, int threads, int reps, float *out,
                        double *median_ms, double *p90_ms)
{
    struct embed_ctx *c = NULL;
    struct embed_stats st;
    size_t len = strlen(q);
    struct corpus cp = {&q, &len, 1};
    double *t = malloc((size_t)reps * sizeof *t);
    if (t == NULL) {
        exit(1);
    }
    enc_ctx_or_die(e, threads, 32, &c);
    for (int k = 0; k < 20; k++) {
        embed_or_die(c, &cp, 1, out, &st);
    }
    for (int k = 0; k < reps; k++) {
        double t0 = now_s();
        embed_or_die(c, &cp, 1, out, &st);
        t[k] = (now_s() - t0) * 1e3;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    *median_ms = quantile(t, (size_t)reps, 0.5);
    *p90_ms = quantile(t, (size_t)reps, 0.9);
    free(t);
    embed_ctx_free(c);
}

// ---- the sgemm roof ----

static const size_t SHAPE_N[4] = {3 * HID, HID, INTER, HID};
static const size_t SHAPE_K[4] = {HID, HID, HID, INTER};

struct gemm_job {
    size_t M;
    bool by_rows;
    const float *A;        // (M, INTER)
    float *C;              // (M, 3 * HID) is the widest output
    float *w[N_LAYERS][4]; // (N, K) per layer and shape
};

static void gemm_job_thread(void *arg, const struct pool_task *t)
{
    struct gemm_job *j = arg;
    for (int l = 0; l < N_LAYERS; l++) {
        for (int s = 0; s < 4; s++) {
            size_t N = SHAPE_N[s], K = SHAPE_K[s], lo, hi;
            if (j->by_rows) {
                pool_split(j->M, t->ith, t->nth, &lo, &hi);
                gemm(hi - lo, N, K, j->A + lo * K, K, j->w[l][s], K, NULL, j->C + lo * N, N);
            } else {
                pool_split(N, t->ith, t->nth, &lo, &hi);
                gemm(j->M, hi - lo, K, j->A, K, j->w[l][s] + lo * K, K, NULL, j->C + lo, N);
            }
            pool_barrier(t);
        }
    }
}

static struct pool *g_pools[3]; // pools of 1 and 2 threads, index = threads

// Seconds for one pass of the 24 GEMMs of the model at M rows (best of reps).
static double bench_sgemm(struct gemm_job *j, size_t M, int threads, int reps)
{
    j->M = M;
    j->by_rows = M >= 32 * (size_t)threads;         // as nn/bert.c decides
    pool_run(g_pools[threads], gemm_job_thread, j); // warm-up
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        double t0 = now_s();
        pool_run(g_pools[threads], gemm_job_thread, j);
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

// Median seconds of one 24-GEMM pass at small M (latency-sized), reps calls.
static double bench_sgemm_median(struct gemm_job *j, size_t M, int threads, int reps)
{
    double *t = malloc((size_t)reps * sizeof *t);
    if (t == NULL) {
        exit(1);
    }
    j->M = M;
    j->by_rows = M >= 32 * (size_t)threads;
    for (int k = 0; k < 10; k++) {
        pool_run(g_pools[threads], gemm_job_thread, j);
    }
    for (int k = 0; k < reps; k++) {
        double t0 = now_s();
        pool_run(g_pools[threads], gemm_job_thread, j);
        t[k] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = quantile(t, (size_t)reps, 0.5);
    free(t);
    return med;
}

static double model_gflop(size_t M)
{
    return (double)M * MFLOP_PER_TOKEN * 1e6 / 1e9;
}

// ---- non-GEMM parts, standalone, one thread ----

struct parts_ms {
    double attention, gelu, layernorm, bias, barriers;
};

// Times what one forward pass does besides the four linear GEMMs, for n_seq sequences of len
// tokens: attention (per sequence and head: Q Kᵀ, scale + softmax, P V), GELU on (T, I), two
// residual LayerNorms on (T, H), the bias rows gemm() copies in before sgemm, all over 6
// layers; and, for nth threads, what 7 barriers per layer + 1 cost in an empty pool run.
static void barrier_thread(void *arg, const struct pool_task *t)
{
    (void)arg;
    for (int k = 0; k < 1 + 7 * N_LAYERS; k++) {
        pool_barrier(t);
    }
}

static struct parts_ms bench_parts(size_t n_seq, size_t len, int nth, int reps)
{
    struct parts_ms r = {1e30, 1e30, 1e30, 1e30, 1e30};
    size_t T = n_seq * len, H = HID, I = INTER, dh = HID / N_HEADS;
    float *qkv = malloc(T * 3 * H * sizeof *qkv);
    float *att = malloc(T * H * sizeof *att);
    float *x = malloc(T * H * sizeof *x);
    float *ffn = malloc(T * I * sizeof *ffn);
    float *S = malloc(len * len * sizeof *S);
    float *g = malloc(I * sizeof *g);
    float *b = malloc(I * sizeof *b);
    if (!qkv || !att || !x || !ffn || !S || !g || !b) {
        exit(1);
    }
    for (size_t i = 0; i < T * 3 * H; i++) {
        qkv[i] = rng_unit() * 0.5f;
    }
    for (size_t i = 0; i < T * H; i++) {
        x[i] = rng_unit();
        att[i] = rng_unit();
    }
    for (size_t i = 0; i < I; i++) {
        g[i] = 1.0f + 0.1f * rng_unit();
        b[i] = 0.1f * rng_unit();
    }
    const float scale = 1.0f / sqrtf((float)dh);
    for (int k = 0; k < reps; k++) {
        double t0 = now_s();
        for (int l = 0; l < N_LAYERS; l++) {
            for (size_t s = 0; s < n_seq; s++) {
                for (size_t h = 0; h < N_HEADS; h++) {
                    const float *Q = qkv + s * len * 3 * H + h * dh;
                    gemm(len, len, dh, Q, 3 * H, Q + H, 3 * H, NULL, S, len);
                    for (size_t i = 0; i < len; i++) {
                        for (size_t jj = 0; jj < len; jj++) {
                            S[i * len + jj] *= scale;
                        }
                        kern_softmax(S + i * len, len);
                    }
                    gemm_nn(len, dh, len, S, len, Q + 2 * H, 3 * H, 0.0f,
                            att + s * len * H + h * dh, H);
                }
            }
        }
        double t1 = now_s(), gelu_s = 0;
        for (int l = 0; l < N_LAYERS; l++) {
            for (size_t i = 0; i < T * I; i++) {
                ffn[i] = (float)(i % 97) * 0.05f - 2.4f; // -2.4 .. 2.4, the erf range that matters
            }
            double tg = now_s();
            kern_gelu(ffn, T * I);
            gelu_s += now_s() - tg;
        }
        double t3 = now_s();
        for (int l = 0; l < N_LAYERS; l++) {
            for (size_t r0 = 0; r0 < T; r0++) {
                kern_add_layernorm(x + r0 * H, att + r0 * H, g, b, H, 1e-12f);
                kern_add_layernorm(x + r0 * H, att + r0 * H, g, b, H, 1e-12f);
            }
        }
        double t4 = now_s();
        for (int l = 0; l < N_LAYERS; l++) {
            for (int s = 0; s < 4; s++) {
                size_t N = SHAPE_N[s];
                float *dst = s == 2 ? ffn : qkv;
                for (size_t m = 0; m < T; m++) {
                    memcpy(dst + m * N, b, (N < I ? N : I) * sizeof *b);
                }
            }
        }
        double t5 = now_s();
        r.attention = fmin(r.attention, (t1 - t0) * 1e3);
        r.gelu = fmin(r.gelu, gelu_s * 1e3);
        r.layernorm = fmin(r.layernorm, (t4 - t3) * 1e3);
        r.bias = fmin(r.bias, (t5 - t4) * 1e3);
    }
    if (nth >= 2) {
        for (int k = 0; k < reps + 20; k++) {
            double t0 = now_s();
            pool_run(g_pools[nth], barrier_thread, NULL);
            double dt = (now_s() - t0) * 1e3;
            if (k >= 20) {
                r.barriers = fmin(r.barriers, dt);
            }
        }
    } else {
        r.barriers = 0.0;
    }
    free(qkv);
    free(att);
    free(x);
    free(ffn);
    free(S);
    free(g);
    free(b);
    return r;
}

// ---- the packed-panel GEMM the encoder uses for short batches ----
//
// For one query (M = 15) OpenBLAS's sgemm re-packs the whole weight matrix on every call (42 MB
// for six layers). nn/gemm.h's packed kernel reads weights packed once at load time into
// 48-column panels, which is what the encoder does for short batches on AVX-512 machines. This
// times that kernel alone on the same 24 GEMMs, split by panels as the encoder splits them.

struct packed_job {
    size_t M;
    const float *A;                  // (M, INTER) row-major, row stride = K of each shape
    float *C;                        // (M, INTER)
    struct gemm_packed wp[N_LAYERS][4];
};

static void packed_job_thread(void *arg, const struct pool_task *t)
{
    struct packed_job *j = arg;
    for (int l = 0; l < N_LAYERS; l++) {
        for (int s = 0; s < 4; s++) {
            size_t lo, hi;
            const struct gemm_packed *w = &j->wp[l][s];
            pool_split(w->n_panels, t->ith, t->nth, &lo, &hi);
            gemm_packed_panels(j->M, j->A, w->K, w, NULL, j->C, w->N, lo, hi);
            pool_barrier(t);
        }
    }
}

// Median ms of one 24-GEMM pass at M rows with the packed kernel on 1 and 2 threads, and the
// largest difference from gemm_ref on the first layer's QKV shape. Returns 0 when skipped.
static int bench_packed(const struct gemm_job *ref, size_t M, int reps, double ms[3],
                        double *max_diff)
{
    if (!gemm_packed_available()) {
        return 0;
    }
    struct packed_job j;
    memset(&j, 0, sizeof j);
    float *C = calloc(M * INTER, sizeof *C);
    float *Cr = calloc(M * INTER, sizeof *Cr);
    float *store[N_LAYERS][4];
    if (C == NULL || Cr == NULL) {
        exit(1);
    }
    j.A = ref->A;
    j.C = C;
    j.M = M;
    for (int l = 0; l < N_LAYERS; l++) {
        for (int s = 0; s < 4; s++) {
            store[l][s] = malloc(gemm_packed_floats(SHAPE_N[s], SHAPE_K[s]) * sizeof(float));
            if (store[l][s] == NULL) {
                exit(1);
            }
            gemm_pack(ref->w[l][s], SHAPE_N[s], SHAPE_K[s], store[l][s], &j.wp[l][s]);
        }
    }
    gemm_ref(M, SHAPE_N[0], SHAPE_K[0], ref->A, SHAPE_K[0], ref->w[0][0], SHAPE_K[0], NULL, Cr,
             SHAPE_N[0]);
    gemm_packed_panels(M, ref->A, SHAPE_K[0], &j.wp[0][0], NULL, C, SHAPE_N[0], 0,
                       j.wp[0][0].n_panels);
    *max_diff = 0;
    for (size_t i = 0; i < M * SHAPE_N[0]; i++) {
        *max_diff = fmax(*max_diff, fabs((double)C[i] - (double)Cr[i]));
    }
    double *t = malloc((size_t)reps * sizeof *t);
    if (t == NULL) {
        exit(1);
    }
    for (int th = 1; th <= 2; th++) {
        for (int k = 0; k < 10; k++) {
            pool_run(g_pools[th], packed_job_thread, &j);
        }
        for (int k = 0; k < reps; k++) {
            double t0 = now_s();
            pool_run(g_pools[th], packed_job_thread, &j);
            t[k] = (now_s() - t0) * 1e3;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        ms[th] = quantile(t, (size_t)reps, 0.5);
    }
    free(t);
    for (int l = 0; l < N_LAYERS; l++) {
        for (int s = 0; s < 4; s++) {
            free(store[l][s]);
        }
    }
    free(C);
    free(Cr);
    return 1;
}

// ---- model lookup ----

static const char *find_model(const char *arg)
{
    static const char *const rel[] = {"../shared/models/minilm-l6-twin",
                                      "../../shared/models/minilm-l6-twin"};
    if (arg != NULL) {
        return arg;
    }
    const char *env = getenv("PROSPECT_BENCH_MODEL");
    if (env != NULL && env[0] != '\0') {
        return env;
    }
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        struct px_err err;
        if (embedder_check_dir(rel[i], &err) == PX_OK) {
            return rel[i];
        }
    }
    return rel[0];
}

static void print_cpu(void)
{
    char line[512], model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *p = strchr(line, ':');
                if (p != NULL) {
                    p++;
                    while (*p == ' ' || *p == '\t') {
                        p++;
                    }
                    snprintf(model, sizeof model, "%s", p);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    const struct cpu_features *cf = cpu_features();
    printf("CPU: %s; %d online CPUs (nproc %ld); AVX2+FMA: %s, AVX-512 (SkylakeX set): %s\n", model,
           cpu_count(), sysconf(_SC_NPROCESSORS_ONLN), cf->avx2 ? "yes" : "no",
           cf->avx512 ? "yes" : "no");
}

static void usage(void)
{
    printf("usage: bench_embed [--model DIR] [--batch N] [--sweep] [--no-cores] [--quick]\n"
           "  --model DIR  model directory (default $PROSPECT_BENCH_MODEL, else\n"
           "               ../shared/models/minilm-l6-twin from the repo root or build/)\n"
           "  --batch N    texts per forward pass for the main figures (default 32)\n"
           "  --sweep      first time batches of 16/32/64/128 texts at 2 threads\n"
           "  --no-cores   skip the OpenBLAS core comparison\n"
           "  --quick      fewer repeats (noisier, about half the time)\n");
}

int main(int argc, char **argv)
{
    const char *model_arg = NULL;
    int batch_arg = 0, do_cores = 1, quick = 0, sweep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            model_arg = argv[++i];
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch_arg = atoi(argv[++i]);
            if (batch_arg < 1 || batch_arg > 4096) {
                fprintf(stderr, "bench_embed: --batch must be 1..4096\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--no-cores") == 0) {
            do_cores = 0;
        } else if (strcmp(argv[i], "--cores") == 0) {
            do_cores = 1;
        } else if (strcmp(argv[i], "--sweep") == 0) {
            sweep = 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "bench_embed: unknown argument '%s'\n", argv[i]);
            usage();
            return 2;
        }
    }
    const int reps = quick ? 1 : 2;
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("== bench_embed: MiniLM-L6 encoder vs this machine's sgemm ==\n");
    print_cpu();

    const char *dir = find_model(model_arg);
    struct px_err err;
    if (embedder_check_dir(dir, &err) != PX_OK) {
        fprintf(stderr,
                "bench_embed: no model at %s: %s\n"
                "  Run from the repo root or build/ with ../shared/models/minilm-l6-twin present,"
                " or pass --model DIR / set PROSPECT_BENCH_MODEL.\n",
                dir, err.msg);
        return 1;
    }
    struct embedder *e = NULL;
    if (embedder_open(dir, &e, &err) != PX_OK) {
        fprintf(stderr, "bench_embed: %s\n", err.msg);
        return 1;
    }
    const struct embedder_info *info = embedder_info(e);
    printf("model: %s (%d layers, %d heads, dim %d, %zu params, %s on disk)\n", dir, info->n_layers,
           info->n_heads, info->dim, info->n_params, info->weights_dtype);
    if (info->n_layers != N_LAYERS || info->dim != HID) {
        printf("note: not MiniLM-L6 shapes; the 21.2 MFLOP/token and the sgemm roof assume them\n");
    }
    const char *env_core = getenv("OPENBLAS_CORETYPE");
    gemm_init(); // so that gemm_blas_core() below reports the core after the correction
    printf("OpenBLAS core: detected by OpenBLAS %s, in use %s%s%s\n", gemm_blas_core_detected(),
           gemm_blas_core(), env_core ? " ($OPENBLAS_CORETYPE=" : "", env_core ? env_core : "");
    if (env_core != NULL) {
        printf(")\n");
    }
    char default_core[32];
    snprintf(default_core, sizeof default_core, "%s", gemm_blas_core());

    // Texts.
    char *buf = malloc((size_t)N_TEXTS * TEXT_CAP);
    const char **texts = malloc(N_TEXTS * sizeof *texts);
    size_t *lens = malloc(N_TEXTS * sizeof *lens);
    float *out = malloc((size_t)N_TEXTS * (size_t)info->dim * sizeof *out);
    if (!buf || !texts || !lens || !out) {
        fprintf(stderr, "bench_embed: out of memory\n");
        return 1;
    }
    const struct tokenizer *tok = embedder_tokenizer(e);
    size_t tok_total = 0, tok_min = (size_t)-1, tok_max = 0;
    for (int i = 0; i < N_TEXTS; i++) {
        char *t = buf + (size_t)i * TEXT_CAP;
        lens[i] = make_profile(i, t);
        texts[i] = t;
        size_t n = count_tokens(tok, t, lens[i]);
        tok_total += n;
        tok_min = n < tok_min ? n : tok_min;
        tok_max = n > tok_max ? n : tok_max;
    }
    double tok_mean = (double)tok_total / N_TEXTS;
    size_t q_tokens = count_tokens(tok, QUERY, strlen(QUERY));
    printf("texts: %d customer profiles, %.1f tokens on average (min %zu, max %zu, incl. "
           "[CLS]/[SEP]), e.g.\n  \"%s\"\n",
           N_TEXTS, tok_mean, tok_min, tok_max, texts[0]);
    printf("query: \"%s\" = %zu tokens\n", QUERY, q_tokens);
    struct corpus cp = {texts, lens, N_TEXTS};

    // Pools and weights for the sgemm roof.
    for (int t = 1; t <= 2; t++) {
        if (pool_new(t, &g_pools[t], &err) != PX_OK) {
            fprintf(stderr, "bench_embed: %s\n", err.msg);
            return 1;
        }
    }
    struct gemm_job job;
    memset(&job, 0, sizeof job);
    size_t max_m = 128 * 64; // enough rows for a batch of 128 profiles
    float *A = malloc(max_m * INTER * sizeof *A);
    job.C = malloc(max_m * INTER * sizeof *job.C);
    if (A == NULL || job.C == NULL) {
        return 1;
    }
    for (size_t i = 0; i < max_m * INTER; i++) {
        A[i] = rng_unit();
    }
    job.A = A;
    for (int l = 0; l < N_LAYERS; l++) {
        for (int s = 0; s < 4; s++) {
            size_t n = SHAPE_N[s] * SHAPE_K[s];
            job.w[l][s] = malloc(n * sizeof(float));
            if (job.w[l][s] == NULL) {
                return 1;
            }
            for (size_t i = 0; i < n; i++) {
                job.w[l][s][i] = rng_unit() * 0.05f;
            }
        }
    }
    gemm_init();

    // Batch size sweep at 2 threads.
    int batch = batch_arg > 0 ? batch_arg : DEFAULT_BATCH;
    if (sweep) {
        static const int sizes[] = {16, 32, 64, 128};
        double best = 0;
        printf("\n-- batch size sweep (2 threads, %d texts, best of 2)\n", N_TEXTS);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            struct run_result r = bench_batches(e, &cp, N_TEXTS, 2, sizes[k], 2, out);
            double tps = (double)r.texts / r.seconds;
            printf("  batch %4d: %7.1f texts/s  %6.1f GFLOP/s\n", sizes[k], tps,
                   gflops(r.tokens, r.seconds));
            if (tps > best * 1.02) { // a bigger batch must win by 2 % to be chosen
                best = tps;
                batch = sizes[k];
            }
        }
        if (batch_arg > 0) {
            batch = batch_arg;
        }
        printf("  -> batch %d for the figures below\n", batch);
    }
    size_t M = (size_t)(batch * tok_mean + 0.5);
    if (M > max_m) {
        M = max_m;
    }

    // Encoder throughput and the sgemm roof at M rows.
    printf("\n-- profile batches: %d texts, batch %d (~%zu tokens per forward pass), best of %d\n",
           N_TEXTS, batch, M, reps);
    printf("  GFLOP/s count linear layers only (%.1f MFLOP/token); sgemm = the same 24 GEMMs at "
           "M=%zu\n",
           MFLOP_PER_TOKEN, M);
    printf("  threads   texts/s   tokens/s  encoder GFLOP/s  sgemm GFLOP/s  encoder/sgemm\n");
    double enc_gf[3] = {0}, roof_gf[3] = {0}, enc_s[3] = {0};
    for (int t = 1; t <= 2; t++) {
        struct run_result r = bench_batches(e, &cp, N_TEXTS, t, batch, reps, out);
        double sg = bench_sgemm(&job, M, t, reps);
        enc_gf[t] = gflops(r.tokens, r.seconds);
        roof_gf[t] = model_gflop(M) / sg;
        enc_s[t] = r.seconds;
        printf("  %7d  %8.1f  %9.0f  %15.1f  %13.1f  %12.0f%%\n", t, (double)r.texts / r.seconds,
               (double)r.tokens / r.seconds, enc_gf[t], roof_gf[t], 100.0 * enc_gf[t] / roof_gf[t]);
    }
    printf("  2-thread speed-up: encoder %.2fx, sgemm %.2fx\n", enc_s[1] / enc_s[2],
           roof_gf[2] / roof_gf[1]);

    // Query latency.
    printf("\n-- one %zu-token query, embedded alone (%d calls after warm-up)\n", q_tokens,
           QUERY_REPS);
    printf("  threads  median ms  p90 ms  OpenBLAS sgemm-only ms (column split)\n");
    double q_med[3] = {0}, q_sg[3] = {0};
    for (int t = 1; t <= 2; t++) {
        double p90;
        bench_query(e, QUERY, t, QUERY_REPS, out, &q_med[t], &p90);
        q_sg[t] = bench_sgemm_median(&job, q_tokens, t, QUERY_REPS) * 1e3;
        printf("  %7d  %9.3f  %6.3f  %13.3f\n", t, q_med[t], p90, q_sg[t]);
    }

    // Own kernel for the query shapes.
    double pk_ms[3] = {0}, pk_diff = 0;
    if (bench_packed(&job, q_tokens, QUERY_REPS, pk_ms, &pk_diff)) {
        printf("  the encoder's packed AVX-512 GEMM (weights packed once at load, 48-column "
               "panels)\n  on the same GEMMs: ms 1T %.3f, 2T %.3f (max |diff| vs gemm_ref %.1e)\n",
               pk_ms[1], pk_ms[2], pk_diff);
    }

    // Where the rest goes.
    printf("\n-- non-GEMM work, timed standalone on 1 thread (ms per forward pass, 6 layers)\n");
    size_t per = (size_t)(tok_mean + 0.5);
    struct parts_ms pb = bench_parts((size_t)batch, per, 2, reps + 2);
    struct parts_ms pq = bench_parts(1, q_tokens, 2, 50);
    double tok_batch_ms = 1e30, tok_query_ms = 1e30;
    for (int k = 0; k < 3; k++) {
        double t0 = now_s();
        for (int i = 0; i < N_TEXTS; i++) {
            count_tokens(tok, texts[i], lens[i]);
        }
        double t1 = now_s();
        for (int i = 0; i < 100; i++) {
            count_tokens(tok, QUERY, strlen(QUERY));
        }
        double t2 = now_s();
        tok_batch_ms = fmin(tok_batch_ms, (t1 - t0) * 1e3 * batch / N_TEXTS);
        tok_query_ms = fmin(tok_query_ms, (t2 - t1) * 1e3 / 100);
    }
    double batch_ms_1t = enc_s[1] * 1e3 * (double)batch / N_TEXTS;
    double gemm_ms_1t = model_gflop(M) / roof_gf[1] * 1e3;
    printf("  %-34s %9s %9s\n", "", "batch", "query");
    printf("  %-34s %9.2f %9.3f\n", "encoder, 1 thread (measured)", batch_ms_1t, q_med[1]);
    // the query's GEMMs run on the packed kernel when there is one (pk_ms[1] > 0)
    double q_gemm = pk_ms[1] > 0 ? pk_ms[1] : q_sg[1];
    printf("  %-34s %9.2f %9.3f\n",
           pk_ms[1] > 0 ? "linear GEMMs (sgemm; packed, query)" : "linear GEMMs (sgemm roof)",
           gemm_ms_1t, q_gemm);
    printf("  %-34s %9.2f %9.3f\n", "attention (QK^T, softmax, PV)", pb.attention, pq.attention);
    printf("  %-34s %9.2f %9.3f\n", "GELU (erf)", pb.gelu, pq.gelu);
    printf("  %-34s %9.2f %9.3f\n", "residual LayerNorm x2", pb.layernorm, pq.layernorm);
    printf("  %-34s %9.2f %9.3f\n", "bias rows copied before sgemm", pb.bias, pq.bias);
    printf("  %-34s %9.2f %9.3f\n", "tokenizer", tok_batch_ms, tok_query_ms);
    printf("  %-34s %9s %9.3f\n", "43 barriers, 2 threads (empty run)", "-", pq.barriers);
    printf("  %-34s %9.2f %9.3f\n", "unaccounted (1 thread)",
           batch_ms_1t - gemm_ms_1t - pb.attention - pb.gelu - pb.layernorm - pb.bias -
               tok_batch_ms,
           q_med[1] - q_gemm - pq.attention - pq.gelu - pq.layernorm - pq.bias - tok_query_ms);

    // OpenBLAS cores.
    if (do_cores) {
        static const char *const cores[] = {"Prescott", "Haswell", "SkylakeX", "Cooperlake"};
        const struct cpu_features *cf = cpu_features();
        size_t n_core_texts = quick ? 100 : 250;
        printf("\n-- OpenBLAS cores (gemm_select_blas_core; sgemm at M=%zu and M=%zu, encoder on "
               "%zu texts, 2 threads)\n",
               M, q_tokens, n_core_texts);
        printf("  core        sgemm 1T  sgemm 2T  enc 2T GFLOP/s  enc/sgemm  query 2T ms  "
               "sgemm M=%zu 2T ms\n",
               q_tokens);
        for (size_t k = 0; k < sizeof cores / sizeof cores[0]; k++) {
            const char *name = cores[k];
            bool avx512_core = strcmp(name, "SkylakeX") == 0 || strcmp(name, "Cooperlake") == 0;
            if ((avx512_core && !cf->avx512) || (strcmp(name, "Haswell") == 0 && !cf->avx2)) {
                printf("  %-10s  skipped: this CPU lacks the instructions\n", name);
                continue;
            }
            if (gemm_select_blas_core(name) != PX_OK) {
                printf("  %-10s  skipped: OpenBLAS did not switch (now %s)\n", name,
                       gemm_blas_core());
                continue;
            }
            double s1 = model_gflop(M) / bench_sgemm(&job, M, 1, 2);
            double s2 = model_gflop(M) / bench_sgemm(&job, M, 2, 2);
            struct run_result r = bench_batches(e, &cp, n_core_texts, 2, batch, 2, out);
            double eg = gflops(r.tokens, r.seconds);
            double qm, qp90;
            bench_query(e, QUERY, 2, 100, out, &qm, &qp90);
            double qs = bench_sgemm_median(&job, q_tokens, 2, 100) * 1e3;
            printf("  %-10s  %8.1f  %8.1f  %14.1f  %8.0f%%  %11.3f  %16.3f%s\n", name, s1, s2, eg,
                   100.0 * eg / s2, qm, qs, strcmp(name, default_core) == 0 ? "  (default)" : "");
        }
        if (gemm_select_blas_core(default_core) != PX_OK) {
            printf("  (could not switch back to %s)\n", default_core);
        }
    }

    double ratio = 100.0 * enc_gf[2] / roof_gf[2];
    double ratio1 = 100.0 * enc_gf[1] / roof_gf[1];
    printf("\n== summary (OpenBLAS core %s, batch %d) ==\n", gemm_blas_core(), batch);
    printf("  profile batches: %.0f%% of sgemm with 2 threads, %.0f%% with 1 (target >= 70%%): "
           "%s\n",
           ratio, ratio1, ratio >= 70.0 && ratio1 >= 70.0 ? "PASS" : "MISS");
    printf("  15-token query, 2 threads: %.2f ms median (target <= 2 ms): %s%s\n", q_med[2],
           q_med[2] <= 2.0 ? "PASS" : "MISS",
           q_tokens == 15 ? "" : "  (note: the query is not 15 tokens)");
    printf("  throughput, 2 threads: %.0f texts/s, %.0f tokens/s, %.1f GFLOP/s\n",
           N_TEXTS / enc_s[2], (double)tok_total / enc_s[2], enc_gf[2]);

    for (int l = 0; l < N_LAYERS; l++) {
        for (int s = 0; s < 4; s++) {
            free(job.w[l][s]);
        }
    }
    free(A);
    free(job.C);
    pool_free(g_pools[1]);
    pool_free(g_pools[2]);
    free(out);
    free(lens);
    free(texts);
    free(buf);
    embedder_close(e);
    return 0;
}
