// prng.c — splitmix64 and xoshiro256** (prng.h), and the draws built on them. Plain 64-bit
// integer arithmetic: no state outside the caller's struct, so any number of threads may each
// use their own generator.
#include "prng.h"

#include <math.h>

uint64_t prng_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(struct prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prng_unit(uint64_t bits)
{
    return (double)(bits >> 11) * 0x1.0p-53;
}

uint32_t prng_below(uint64_t bits, uint32_t n)
{
    return (uint32_t)(((bits >> 32) * (uint64_t)n) >> 32);
}

double prng_gauss(struct prng *r)
{
    double u1 = ((double)(prng_next(r) >> 11) + 1.0) * 0x1.0p-53; // (0, 1]
    double u2 = prng_unit(prng_next(r));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int prng_pick(struct prng *r, const double *w, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        total += w[i];
    }
    double x = prng_unit(prng_next(r)) * total;
    for (int i = 0; i < n - 1; i++) {
        if (x < w[i]) {
            return i;
        }
        x -= w[i];
    }
    return n - 1;
}
