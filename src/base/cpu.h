// cpu.h — CPU feature detection, done once; kernels pick their SIMD variant from it.
#ifndef PX_CPU_H
#define PX_CPU_H

#include <stdbool.h>

struct cpu_features {
    bool avx2;    // AVX2 + FMA + F16C all present (the "avx2" kernel set needs all three)
    bool avx512f; // AVX-512 Foundation
    bool avx512;  // the Skylake-X set: F, CD, BW, DQ, VL (what OpenBLAS's SkylakeX kernels use)
    bool avx512vnni; // avx512 above plus AVX512-VNNI (vpdpbusd: u8 x s8 dot into int32)
};

// Borrowed pointer to a process-wide constant. Honours PROSPECT_NO_SIMD=1 (all false), so the
// scalar reference path can be forced from outside.
const struct cpu_features *cpu_features(void);
// Number of online CPUs (>= 1).
int cpu_count(void);

#endif
