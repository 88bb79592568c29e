// cpu.c — see cpu.h. Uses the compiler's __builtin_cpu_supports (x86); other architectures
// report no features and run the scalar reference kernels.
#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct cpu_features g_feat;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void detect(void)
{
    const char *off = getenv("PROSPECT_NO_SIMD");
    if (off != NULL && strcmp(off, "0") != 0 && off[0] != '\0') {
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // F16C is read from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not
    // know the "f16c" name.
    unsigned a = 0, b = 0, c = 0, d = 0;
    bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
    g_feat.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    g_feat.avx512f = __builtin_cpu_supports("avx512f");
    g_feat.avx512 = g_feat.avx512f && __builtin_cpu_supports("avx512cd") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
    g_feat.avx512vnni = g_feat.avx512 && __builtin_cpu_supports("avx512vnni");
#endif
}

const struct cpu_features *cpu_features(void)
{
    pthread_once(&g_once, detect);
    return &g_feat;
}

int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
