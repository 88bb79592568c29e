// cpu.c — see cpu.h. Uses the compiler's __builtin_cpu_supports (x86); other architectures
// report no features and run the scalar reference kernels.
#include "cpu.h"

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
    g_feat.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("f16c");
    g_feat.avx512f = __builtin_cpu_supports("avx512f");
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
