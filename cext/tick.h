/* The activity-driven tick kernel of neurosim (the C half of cext/core.pyx).
 *
 * One tick t, for every input b of the batch and every core c (the semantics are those of
 * neurosim/sim/reference.py, bit for bit):
 *
 *   0. external input spikes of tick t are put on the arrival set of (b, slot t mod 16, c);
 *   1. integrate: only the axons in the arrival set of (b, t mod 16, c) (a bit per axon, read a
 *      64-bit word at a time with ctz) are visited; each adds its crossbar row of weights to V
 *      (AVX-512 masked adds, the mask taken from the row's bits); the set is emptied;
 *   2. neuron pass: one vectorised pass over the core's neurons (structure of arrays, int32):
 *      leak, saturation to the potential's hardware width, threshold, reset, floor; the fire
 *      flags come out as a bit set (one AVX-512 compare mask per 16 neurons);
 *   3. the neurons that fired (the set bits) are recorded, counted and routed straight onto the
 *      arrival set of their destination's slot (t + delay) mod 16 (an atomic OR when several
 *      threads run: any thread may send to any core).
 *
 * A tick reads slot t and writes only slots t + 1 .. t + 15, so one barrier per tick orders it.
 * An arrival set is a set: it does not depend on which thread added what, or in what order; every
 * counter is owned by one (b, c) work item, and integer addition does not depend on order:
 * results are the same for any number of threads.
 *
 * Random draws (stochastic synapse, leak and threshold) come from a counter-based generator per
 * core: rho(c, t, j, q) = fmix32(base(c, t) + 4096 q + j), base(c, t) = fmix32(seed_c ^
 * fmix32(t + 1)), with q = 0 (threshold), 1 (leak), 2 + i (synapse from axon i) and fmix32 the
 * MurmurHash3 32-bit finaliser. Each draw is a pure function of (seed, tick, neuron, purpose), so
 * the order in which the kernel visits axons and cores cannot change it.
 */
#ifndef NEUROSIM_TICK_H
#define NEUROSIM_TICK_H

#include <stdint.h>

#define NS_SLOTS 16
#define NS_UNIFORM_STRIDE 8

typedef struct {
    /* sizes */
    int C, A, N, T, B, K, M;
    int per_synapse, do_record, block;
    int32_t vmin, vmax;              /* saturation of the membrane potential */
    /* program, read only */
    const uint64_t *xbits;           /* (C, A, NW) crossbar rows as bits, neuron n = bit n % 64
                                        of word n / 64 */
    const uint64_t *enabled_bits;    /* (C, NW) enabled neurons as bits */
    int NW;                          /* 64-bit words per crossbar row */
    const uint8_t *atype;            /* (C, A) */
    const uint64_t *type_bits;       /* (C, T, W) the axons of each type as a bit set */
    const int16_t *typed_w;          /* (C, T, N) s_j[type] */
    const int32_t *typed_const;      /* (C, T) the s_j[type] every neuron of the core shares (the
                                        row's adds broadcast it), INT32_MIN where they differ */
    const int16_t *syn_w;            /* (C, A, N) c_ij w_ij (per-synapse profiles) */
    const uint8_t *stoch_syn;        /* (C, T, N) 0/1 stochastic synapse per type */
    const uint8_t *core_stoch_syn;   /* (C, T) any stochastic synapse of that type in the core */
    const uint8_t *uniform;          /* (C,) every neuron of the core has the same six values
                                        below: the pass reads them from uniform_prm instead */
    const int32_t *uniform_prm;      /* (C, NS_UNIFORM_STRIDE): leak, thr, keep, radd, floor_lo,
                                        floor_to of neuron 0 (a cache line per two cores) */
    /* neuron structure of arrays, (C, N) int32, disabled neurons neutralised */
    const int32_t *leak;             /* enabled ? lambda : 0 */
    const int32_t *thr;              /* enabled ? alpha : INT32_MAX */
    const int32_t *floor_lo;         /* enabled ? -beta : INT32_MIN */
    const int32_t *floor_to;         /* floor mode 0 ? -beta : -R */
    const int32_t *keep;             /* reset: -1 keeps V (modes 1, 2), 0 drops it (mode 0) */
    const int32_t *radd;             /* reset: R (mode 0), -alpha (mode 1), 0 (mode 2) */
    /* the rest of the TrueNorth neuron, read only where core_extra[c] */
    const uint8_t *core_extra;       /* (C,) any of the four fields below set in the core */
    const int32_t *leak_rev;         /* epsilon: -1 leak times sgn(V), 0 plain */
    const int32_t *stoch_leak;       /* -1 stochastic leak, 0 plain */
    const uint32_t *thr_mask;        /* 2^TM - 1 */
    const int32_t *eta_reset;        /* -1 where reset mode 1 subtracts eta too */
    const int32_t *eta_floor;        /* -1 where floor mode 1 lowers the floor by eta */
    const uint32_t *seed;            /* (C,) */
    const int64_t *route;            /* (C, N) hops << 44 | dest core << 20 | axon << 4 | delay;
                                        -1: no destination */
    const uint8_t *core_outputs;     /* (C,) the core has a neuron read out */
    const int32_t *out_index;        /* (C, N) output class or -1 */
    const int32_t *in_idx, *in_core, *in_axon;   /* (M,) */
    const uint8_t *raster;           /* (T, B, n_inputs) */
    int n_inputs;
    /* state and results */
    int32_t *V;                      /* (B, C, N) */
    uint64_t *flag;                  /* (B, 16, C, W) arrival sets: bit a of core c's W words */
    int W;                           /* 64-bit words per core's arrival set */
    uint64_t *fired;                 /* (B, C, NW) fire flags of the last neuron pass, as bits */
    int64_t *counts, *first;         /* (B, K) */
    int64_t *pair_spikes, *pair_events, *pair_hops;   /* (B, C) */
    uint8_t *record;                 /* (T, B, C, N) */
} ns_chip;

void ns_run(ns_chip *p, int ticks, int threads);
int ns_openmp(void);

#endif
