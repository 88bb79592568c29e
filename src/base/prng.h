// prng.h — the seeded pseudo-random generators that the generators and trainers share (never for
// secrets: secrand.h). splitmix64 (Steele, Lea & Flood) is a generator in itself and the seeder
// of xoshiro256** (Blackman & Vigna). The same seed gives the same sequence on every machine, so
// generated data and trained models are reproducible.
#ifndef PX_PRNG_H
#define PX_PRNG_H

#include <stdint.h>

// Advances *state and returns the next splitmix64 output.
uint64_t prng_splitmix64(uint64_t *state);

// xoshiro256**: seed s with four prng_splitmix64 outputs (never all zero).
struct prng {
    uint64_t s[4];
};

uint64_t prng_next(struct prng *r);
// Uniform in [0, 1) from the top 53 of 64 random bits.
double prng_unit(uint64_t bits);
// Uniform integer in [0, n) from the top 32 of 64 random bits (Lemire's multiply).
uint32_t prng_below(uint64_t bits, uint32_t n);
// Standard normal from r (Box-Muller, one value per call, so the draws per call stay fixed).
double prng_gauss(struct prng *r);
// Index drawn from r with probability proportional to w[i] (n >= 1, w sums to > 0).
int prng_pick(struct prng *r, const double *w, int n);

#endif
